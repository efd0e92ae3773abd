/* hx-lite: the few HTMX-style behaviours the culprit workbench needs, written for it (no CDN, no deps).
 *
 *   data-poll="URL" data-interval="MS"  fetch URL every MS ms and swap the element (outerHTML) with the
 *                                       answer; stops when the new element has no data-poll; reloads the
 *                                       page when the answer carries the header X-Refresh: 1.
 *   form[data-upload]                   send the form with XMLHttpRequest, show upload progress in
 *                                       #upload-progress / #upload-status, then reload (JSON answer).
 *   input[data-copy]                    select all on focus, for copying an upload link.
 */
(function () {
  "use strict";

  function poll(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-interval") || "1000", 10);
    if (!url) return;
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Requested-With": "hx-lite" } })
        .then(function (r) {
          if (r.headers.get("X-Refresh") === "1") { window.location.reload(); return null; }
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (html) {
          if (html === null) return;
          var box = document.createElement("div");
          box.innerHTML = html.trim();
          var fresh = box.firstElementChild;
          if (!fresh) return;
          el.replaceWith(fresh);
          activate(fresh);
        })
        .catch(function () { window.setTimeout(function () { poll(el); }, every * 3); });
    }, every);
  }

  function upload(form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var bar = document.getElementById("upload-progress");
      var status = document.getElementById("upload-status");
      var button = form.querySelector("button[type=submit]");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.setRequestHeader("Accept", "application/json");
      if (bar) { bar.hidden = false; bar.value = 0; }
      if (button) button.disabled = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && bar) bar.value = Math.round(100 * e.loaded / e.total);
        if (status) status.textContent = "Sending… " + Math.round(100 * e.loaded / Math.max(e.total, 1)) + " %";
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.files) {
          window.location.assign(window.location.pathname + "?ok=" + body.files.length);
          return;
        }
        if (button) button.disabled = false;
        var msg = body && typeof body.detail === "string" ? body.detail : "the upload failed (HTTP " + xhr.status + ")";
        if (status) { status.textContent = msg; status.className = "status error"; }
      });
      xhr.addEventListener("error", function () {
        if (button) button.disabled = false;
        if (status) { status.textContent = "The connection broke; nothing was kept. Try again."; status.className = "status error"; }
      });
      xhr.send(new FormData(form));
    });
  }

  function activate(root) {
    if (root.matches && root.matches("[data-poll]")) poll(root);
    root.querySelectorAll("[data-poll]").forEach(poll);
    root.querySelectorAll("form[data-upload]").forEach(upload);
    root.querySelectorAll("input[data-copy]").forEach(function (i) {
      i.addEventListener("focus", function () { i.select(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { activate(document); });
})();
