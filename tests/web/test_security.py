"""Security of the workbench: per-case access, upload links, CSRF, hostile archives, broken uploads,
escaping of log text, headers, and 50 concurrent uploads against a live ``culprit serve``."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from culprit.web.security import LinkSigner
from tests.conftest import case_path
from tests.web.conftest import CASE, PASSWORD, Bench, Live, zip_folder


def _setup(b: Bench) -> tuple[dict[str, str], dict[str, str], str]:
    b.add_user("alice")
    b.add_user("bob")
    ha, hb = b.token("alice"), b.token("bob")
    r = b.client.post("/api/v1/cases", json={"title": "Edge install fails", "customer": "Clinic"}, headers=ha)
    return ha, hb, r.json()["number"]


def _link(b: Bench, h: dict[str, str], number: str, **kw: object) -> str:
    r = b.client.post(f"/api/v1/cases/{number}/links", json=kw, headers=h)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _store_files(b: Bench) -> list[str]:
    root = b.app.state.store.root
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_other_engineers_case_is_not_readable(bench: Bench, case_zip: bytes) -> None:
    ha, hb, number = _setup(bench)
    tok = _link(bench, ha, number)
    assert bench.client.put(f"/api/v1/uploads/{tok}", content=case_zip).status_code == 200
    job = bench.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=ha).json()
    bench.wait_job(number, job["id"], ha)

    for path in (
        f"/api/v1/cases/{number}",
        f"/api/v1/cases/{number}/evidence",
        f"/api/v1/cases/{number}/activity",
        f"/api/v1/cases/{number}/jobs/{job['id']}",
        f"/api/v1/cases/{number}/jobs/{job['id']}/events",
        f"/api/v1/cases/{number}/jobs/{job['id']}/report?format=md",
    ):
        r = bench.client.get(path, headers=hb)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json() == {"detail": "no such case, or it is not shared with you"}
    assert bench.client.get("/api/v1/cases/CAS-00000-000000", headers=hb).status_code == 404  # same answer
    assert bench.client.get("/api/v1/cases", headers=hb).json() == []
    assert (
        bench.client.patch(f"/api/v1/cases/{number}", json={"status": "scoped"}, headers=hb).status_code
        == 404
    )
    assert bench.client.post(f"/api/v1/cases/{number}/links", json={}, headers=hb).status_code == 404

    bob = bench.login("bob")
    for path in (
        f"/cases/{number}",
        f"/cases/{number}/jobs/{job['id']}",
        f"/cases/{number}/jobs/{job['id']}/timeline",
        f"/cases/{number}/evidence/1",
        f"/cases/{number}/jobs/{job['id']}/analysis.json",
        f"/cases/{number}/jobs/{job['id']}/report.md",
    ):
        r = bob.get(path)
        assert r.status_code == 404, path
        assert "krnlmgr" not in r.text and "Edge install fails" not in r.text
    assert number not in bob.get("/").text

    # shared read-only: bob reads, cannot change
    assert (
        bench.client.post(f"/api/v1/cases/{number}/members", json={"username": "bob"}, headers=ha).status_code
        == 201
    )
    assert bench.client.get(f"/api/v1/cases/{number}", headers=hb).json()["writable"] is False
    r = bench.client.patch(f"/api/v1/cases/{number}", json={"status": "scoped"}, headers=hb)
    assert r.status_code == 403
    assert bench.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=hb).status_code == 403


def test_viewer_and_admin_roles(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    ha, _, number = _setup(b)
    b.add_user("vera", "viewer")
    b.add_user("root", "admin")
    hv, hr = b.token("vera"), b.token("root")
    assert b.client.post("/api/v1/cases", json={"title": "t", "customer": "c"}, headers=hv).status_code == 403
    b.client.post(f"/api/v1/cases/{number}/members", json={"username": "vera", "can_write": True}, headers=ha)
    detail = b.client.get(f"/api/v1/cases/{number}", headers=hv).json()
    assert detail["writable"] is False  # a viewer never writes, even when granted
    assert all(ln["token"] is None for ln in detail["links"])
    assert b.client.get(f"/api/v1/cases/{number}", headers=hr).status_code == 200  # admins see every case
    vera = b.login("vera")
    assert vera.get("/admin/users").status_code == 403


def test_expired_tampered_revoked_links_are_refused(bench: Bench, case_zip: bytes) -> None:
    ha, _, number = _setup(bench)
    short = _link(bench, ha, number, expires_in=1)
    good = _link(bench, ha, number)
    time.sleep(1.2)
    for r in (
        bench.client.get(f"/u/{short}"),
        bench.client.put(f"/api/v1/uploads/{short}", content=case_zip),
    ):
        assert r.status_code == 410
        assert "expired" in r.text
    assert "Back to the cases" not in bench.client.get(f"/u/{short}").text  # the customer has no cases page

    payload, sig = good.split(".")
    tampered_sig = payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    link_id, nonce, exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    longer = (
        base64.urlsafe_b64encode(json.dumps([link_id, nonce, exp + 10**6]).encode()).rstrip(b"=").decode()
    )
    other_link = (
        base64.urlsafe_b64encode(json.dumps([link_id + 1, nonce, exp]).encode()).rstrip(b"=").decode()
    )
    forged = LinkSigner("another server secret").make(link_id, nonce, _exp(exp))
    for bad in (
        tampered_sig,
        f"{longer}.{sig}",
        f"{other_link}.{sig}",
        forged,
        good[:-3],
        "x" * 600,
        "garbage",
    ):
        r = bench.client.put(f"/api/v1/uploads/{bad}", content=case_zip)
        assert r.status_code == 404, bad
        assert bench.client.get(f"/u/{bad}").status_code == 404
    assert bench.client.get(f"/api/v1/cases/{number}/evidence", headers=ha).json() == []
    assert not [p for p in _store_files(bench) if p.startswith("sha256/")]

    page = bench.client.get(f"/u/{good}")
    assert page.status_code == 200 and number in page.text
    link_id = bench.client.get(f"/api/v1/cases/{number}", headers=ha).json()["links"][0]["id"]
    assert bench.client.delete(f"/api/v1/cases/{number}/links/{link_id}", headers=ha).status_code == 204
    r = bench.client.put(f"/api/v1/uploads/{good}", content=case_zip)
    assert r.status_code == 410 and "withdrawn" in r.json()["detail"]

    fresh = _link(bench, ha, number)
    bench.client.patch(f"/api/v1/cases/{number}", json={"status": "closed"}, headers=ha)
    assert bench.client.put(f"/api/v1/uploads/{fresh}", content=case_zip).status_code == 410


def _exp(ts: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def test_csrf_less_posts_are_refused(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    ha, _, number = _setup(b)
    alice = b.login("alice")
    page = alice.get(f"/cases/{number}").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    posts = [
        ("/cases", {"title": "t", "customer": "c"}),
        (f"/cases/{number}/status", {"status": "scoped"}),
        (f"/cases/{number}/links", {"role": "bad", "hours": "1"}),
        (f"/cases/{number}/members", {"username": "bob"}),
        (f"/cases/{number}/analyze", {"lang": "en"}),
        ("/logout", {}),
    ]
    for url, data in posts:
        for extra in ({}, {"csrf_token": "wrong"}, {"csrf_token": ""}):
            r = alice.post(url, data={**data, **extra}, follow_redirects=False)
            assert r.status_code == 403, (url, extra, r.status_code)
            assert "CSRF" in r.text
    # the API from the same browser session: the header is required
    r = alice.post("/api/v1/cases", json={"title": "t", "customer": "c"})
    assert r.status_code == 403
    r = alice.post("/api/v1/cases", json={"title": "t", "customer": "c"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert alice.get("/api/v1/cases").status_code == 200  # reads need no token
    # with the token the same page posts work
    r = alice.post(
        f"/cases/{number}/status", data={"status": "scoped", "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert b.client.get(f"/api/v1/cases/{number}", headers=ha).json()["case"]["status"] == "scoped"
    # the login form itself: a post without the double-submit cookie is refused
    fresh = type(alice)(b.app)
    r = fresh.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "x"}, follow_redirects=False
    )
    assert r.status_code == 403 and "culprit_session" not in r.cookies
    # the upload form: the link's form token is required
    tok = _link(b, ha, number)
    r = b.client.post(f"/u/{tok}", files={"files": ("a.log", b"x")}, headers={"Accept": "application/json"})
    assert r.status_code == 403
    assert b.client.get(f"/api/v1/cases/{number}/evidence", headers=ha).json() == []


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name", ["../../etc/cron.d/evil", "/abs/evil.txt", "logs/../../evil.txt", "C:/Windows/evil"]
)
def test_zip_slip_upload_is_refused(sqlite_bench: Bench, name: str) -> None:
    b = sqlite_bench
    ha, _, number = _setup(b)
    prior = _link(b, ha, number)
    assert b.client.put(
        f"/api/v1/uploads/{prior}", params={"filename": "CBS.log"}, content=b"earlier evidence\r\n"
    )
    before = _store_files(b)
    evil = _zip({"Windows/Logs/CBS/CBS.log": b"fine\r\n", name: b"pwned"})
    tok = _link(b, ha, number)
    r = b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "logs.zip"}, content=evil)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("logs.zip refused: ")
    form = b.app.state.signer.form_token(tok)
    r = b.client.post(
        f"/u/{tok}",
        data={"csrf_token": form},
        files={"files": ("logs.zip", evil, "application/zip")},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    evs = b.client.get(f"/api/v1/cases/{number}/evidence", headers=ha).json()
    assert [e["filename"] for e in evs] == ["CBS.log"]  # the earlier evidence is intact, nothing new
    assert _store_files(b) == before
    assert not (b.settings.data_dir.parent / "etc").exists()


def test_broken_upload_leaves_nothing(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    ha, _, number = _setup(b)
    tok = _link(b, ha, number)
    b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "first.log"}, content=b"first\r\n")
    before = _store_files(b)
    form = b.app.state.signer.form_token(tok)
    boundary = "----culprit-test"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{form}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.log"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + os.urandom(300_000)  # no closing boundary
    r = b.client.post(
        f"/u/{tok}",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"},
    )
    assert r.status_code == 400 and "cut off" in r.json()["detail"]
    r = b.client.post(f"/u/{tok}", content=b"not multipart", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = b.client.put(f"/api/v1/uploads/{tok}", content=b"")
    assert r.status_code == 400
    assert [e["filename"] for e in b.client.get(f"/api/v1/cases/{number}/evidence", headers=ha).json()] == [
        "first.log"
    ]
    assert _store_files(b) == before


def test_upload_size_limit(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    ha, _, number = _setup(b)
    tok = _link(b, ha, number)
    b.settings.max_upload_bytes = 1000
    r = b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "x.log"}, content=b"a" * 1001)
    assert r.status_code == 413
    r = b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "x.log"}, content=b"a" * 1000)
    assert r.status_code == 200
    assert not list(b.app.state.store.tmp_dir.iterdir())


def test_log_text_is_escaped_in_pages(sqlite_bench: Bench, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = sqlite_bench
    b.add_user("alice")
    ha = b.token("alice")
    title = "<script>alert('title')</script>"
    number = b.client.post(
        "/api/v1/cases", json={"title": title, "customer": "<b>ACME</b>"}, headers=ha
    ).json()["number"]
    src = case_path(CASE, "bad")
    bundle = tmp_path / "bad"
    import shutil

    shutil.copytree(src, bundle)
    cbs = bundle / "Windows" / "Logs" / "CBS" / "CBS.log"
    raw = cbs.read_bytes()
    evil = (
        "2024-09-03 10:30:41, Error                 CBS    <img src=x onerror=alert(1)> Failed to "
        "stage <script>alert(2)</script> [HRESULT = 0x80070005 - E_ACCESSDENIED]\r\n"
    )
    cbs.write_bytes(raw + evil.encode("ascii"))
    tok = _link(b, ha, number, note="<i>note</i>")
    up = b.client.put(
        f"/api/v1/uploads/{tok}", params={"filename": "<svg onload=alert(3)>.zip"}, content=zip_folder(bundle)
    )
    assert up.status_code == 200
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=ha).json()["id"], ha
    )
    assert job["state"] == "done"
    alice = b.login("alice")
    pages = [
        alice.get("/").text,
        alice.get(f"/cases/{number}").text,
        alice.get(f"/u/{tok}").text,
        alice.get(f"/cases/{number}/jobs/{job['id']}").text,
    ]
    tl = alice.get(
        f"/cases/{number}/jobs/{job['id']}/timeline", params={"where": "message contains 'onerror'"}
    )
    assert tl.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in tl.text
    assert "1 of " in tl.text
    pages.append(tl.text)
    for html in pages:
        for bad in ("<script>alert", "<img src=x", "<svg onload", "<b>ACME", "<i>note"):
            assert bad not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in pages[1]


def test_headers_and_redirects(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    r = b.client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    r = b.client.get("/cases/CAS-1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/cases/CAS-1"
    b.add_user("alice")
    c = type(b.client)(b.app)
    c.get("/login")
    r = c.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": c.cookies["culprit_login_csrf"],
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "culprit_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    r = c.post("/login", data={"username": "alice", "password": "wrong pass", "csrf_token": "x"})
    assert r.status_code in (401, 403)


def test_50_concurrent_uploads_land_with_correct_hashes(live: Live) -> None:
    import httpx

    with httpx.Client(base_url=live.base, timeout=60) as c:
        tok = c.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD}).json()["token"]
        h = {"Authorization": f"Bearer {tok}"}
        number = c.post(
            "/api/v1/cases", json={"title": "fleet logs", "customer": "Hospital"}, headers=h
        ).json()["number"]
        link = c.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()
    form = None
    payloads = [os.urandom(64 * 1024 + i * 4099) for i in range(50)]

    def send(i: int) -> dict:
        with httpx.Client(base_url=live.base, timeout=120) as cl:
            if i % 2:
                r = cl.put(
                    f"/api/v1/uploads/{link['token']}",
                    params={"filename": f"part{i:02d}.bin"},
                    content=payloads[i],
                )
            else:
                page = cl.get(f"/u/{link['token']}").text
                f = form or page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                r = cl.post(
                    f"/u/{link['token']}",
                    data={"csrf_token": f},
                    files={"files": (f"part{i:02d}.bin", payloads[i])},
                    headers={"Accept": "application/json"},
                )
            assert r.status_code == 200, r.text
            return r.json()["files"][0]

    with ThreadPoolExecutor(50) as pool:
        got = list(pool.map(send, range(50)))
    for i, f in enumerate(got):
        assert f["filename"] == f"part{i:02d}.bin"
        assert f["size"] == len(payloads[i])
        assert f["sha256"] == hashlib.sha256(payloads[i]).hexdigest()
    with httpx.Client(base_url=live.base, timeout=60) as c:
        evs = c.get(f"/api/v1/cases/{number}/evidence", headers=h).json()
    assert sorted((e["filename"], e["sha256"]) for e in evs) == sorted(
        (f"part{i:02d}.bin", hashlib.sha256(p).hexdigest()) for i, p in enumerate(payloads)
    )
    for e in evs:  # the stored bytes hash to their address
        blob = live.data_dir / "evidence" / "sha256" / e["sha256"][:2] / e["sha256"]
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == e["sha256"]
    assert not list((live.data_dir / "evidence" / "tmp").iterdir())


def test_failed_logins_are_throttled(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    b.add_user("alice")
    b.app.state.throttle.max_failures = 3
    for _ in range(3):
        r = b.client.post("/api/v1/auth/token", json={"username": "alice", "password": "guess guess"})
        assert r.status_code == 401
    r = b.client.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["detail"].startswith("too many failed logins")
    c = type(b.client)(b.app)
    c.get("/login")
    r = c.post(
        "/login",
        data={"username": "ALICE", "password": PASSWORD, "csrf_token": c.cookies["culprit_login_csrf"]},
    )
    assert r.status_code == 429 and "Too many failed logins" in r.text
    b.app.state.throttle.window_s = 0.0  # the window passes
    assert (
        b.client.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )


def test_throttle_unit() -> None:
    from culprit.web.throttle import LoginThrottle

    t = LoginThrottle(max_failures=2, window_s=60)
    t.failed("user:a", "ip:1")
    assert t.blocked_for("user:a", "ip:1") == 0
    t.failed("user:a", "ip:1")
    assert 59 < t.blocked_for("user:a") <= 60
    assert t.blocked_for("user:b", "ip:1") == 0  # an address gets IP_FACTOR times more tries
    t.succeeded("user:a")
    assert t.blocked_for("user:a") == 0
