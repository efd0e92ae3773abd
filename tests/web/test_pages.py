"""The server-rendered pages through a browser-like client: forms, progress fragment, results with the
good-vs-bad diff, timeline filter, users admin."""

from __future__ import annotations

import re

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from tests.conftest import case_path
from tests.web.conftest import PASSWORD, Bench, zip_folder


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def test_page_flow_and_diff(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    b.add_user("alice")
    c = b.login("alice")
    home = c.get("/")
    assert home.status_code == 200 and "No cases yet" in home.text
    csrf = _csrf(home.text)

    r = c.post("/cases", data={"title": "", "customer": "x", "csrf_token": csrf})
    assert r.status_code == 422 and "title: 1-300 characters" in r.text
    r = c.post(
        "/cases",
        data={"title": "Edge update fails", "customer": "Clinic", "priority": "P1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    number = url.rsplit("/", 1)[1]
    page = c.get(url).text
    assert f'<span class="number" id="case-number">{number}</span> Edge update fails' in page
    assert "No evidence yet." in page

    r = c.post(f"{url}/status", data={"status": "root-cause", "csrf_token": csrf})
    assert r.status_code == 422 and "new → root-cause is not allowed" in r.text
    for role in ("bad", "good"):
        r = c.post(
            f"{url}/links",
            data={"role": role, "hours": "2", "note": role, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
    links = re.findall(r'value="(http://testserver/u/[^"]+)"', c.get(url).text)
    assert len(links) == 2  # newest first: good, then bad
    good_url, bad_url = links
    for link, folder in ((bad_url, "bad"), (good_url, "good")):
        up = c.get(link)  # the customer page (the cookie plays no part)
        form = _csrf(up.text)
        data = zip_folder(case_path("edge-injected-dll", folder))
        r = c.post(
            link,
            data={"csrf_token": form},
            files={"files": (f"{folder}.zip", data, "application/zip")},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].endswith("?ok=1")
        assert "1 file(s) received" in c.get(r.headers["location"]).text

    r = c.post(f"{url}/analyze", data={"lang": "en", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    b.wait_job(number, job_id, b.token("alice"))
    frag = c.get(f"{job_url}/progress")
    assert frag.headers.get("x-refresh") == "1" and 'id="job-state">done<' in frag.text
    assert "data-poll" not in frag.text

    res = c.get(job_url).text
    assert 'id="answer"' in res and 'id="diff"' in res
    api = b.client.get(f"/api/v1/cases/{number}/jobs/{job_id}", headers=b.token("alice")).json()["result"]
    diff = api.get("diff")
    if diff and diff["differences"]:
        first = diff["differences"][0]
        row = re.search(r'<table class="grid diff">.*?</table>', res, re.S)
        assert row, "the diff table is missing"
        assert f"<td>1</td><td>{first['kind']}</td>" in row.group(0)
        assert first["process"] in row.group(0)
    else:
        assert "holds no Procmon capture" in res

    tl = c.get(f"{job_url}/timeline", params={"where": "kind = 'no-such:kind'"})
    assert tl.status_code == 200 and 'id="counts">0 of ' in tl.text
    tl = c.get(f"{job_url}/timeline", params={"where": "kind ="})
    assert tl.status_code == 200 and 'id="filter-error"' in tl.text
    tl = c.get(f"{job_url}/timeline", params={"limit": "5"})
    m = re.search(r'id="counts">(\d+) of (\d+) events, first 5 shown', tl.text)
    assert m and int(m.group(1)) == int(m.group(2)) > 5
    assert tl.text.count('<tr class="sev-') == 5


def test_progress_fragment_polls_while_running(sqlite_bench: Bench, case_zip: bytes) -> None:
    from culprit.web.models import Job

    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = b.client.post("/api/v1/cases", json={"title": "t", "customer": "c"}, headers=h).json()["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    b.client.put(f"/api/v1/uploads/{tok}", content=case_zip)
    with b.app.state.db() as db:  # a queued job no worker has taken (as after a restart)
        from culprit.web import services

        case = services.get_case(db, services.authenticate(db, "alice", PASSWORD), number)
        job = Job(case_id=case.id, state="queued", stage="queued", evidence_ids="[1]", created_by="alice")
        db.add(job)
        db.commit()
        job_id = job.id
    c = b.login("alice")
    frag = c.get(f"/cases/{number}/jobs/{job_id}/progress")
    assert f'data-poll="/cases/{number}/jobs/{job_id}/progress"' in frag.text
    assert "x-refresh" not in frag.headers
    page = c.get(f"/cases/{number}/jobs/{job_id}").text
    assert 'id="answer"' not in page and '<progress max="100" value="0">' in page
    assert b.app.state.runner.resume() == 1  # what startup does: queue it again
    done = b.wait_job(number, job_id, h)
    assert done["state"] == "done" and done["result"]["findings"][0]["culprit"]["module"] == "krnlmgr.sys"


def test_admin_manages_users(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    b.add_user("root", "admin")
    c = b.login("root")
    page = c.get("/admin/users")
    assert page.status_code == 200
    csrf = _csrf(page.text)
    r = c.post(
        "/admin/users",
        data={"username": "carol", "password": "short", "role": "engineer", "csrf_token": csrf},
    )
    assert r.status_code == 422 and "at least 8 characters" in r.text
    r = c.post(
        "/admin/users",
        data={
            "username": "carol",
            "password": PASSWORD,
            "role": "viewer",
            "display_name": "Carol Chen",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "<td>carol</td><td>Carol Chen</td><td>viewer</td>" in c.get("/admin/users").text
    r = c.post("/admin/users", data={"username": "carol", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 422 and "exists" in r.text
    carol = b.login("carol")
    assert "New case" not in carol.get("/").text
    r = carol.post("/logout", data={"csrf_token": _csrf(carol.get("/").text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert carol.get("/", follow_redirects=False).status_code == 303


def test_timeline_of_unusable_evidence_and_cache(sqlite_bench: Bench, case_zip: bytes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from culprit import pipeline
    from culprit.web import integrations

    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = b.client.post("/api/v1/cases", json={"title": "t", "customer": "c"}, headers=h).json()["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    b.client.put(
        f"/api/v1/uploads/{tok}", params={"filename": "x.png"}, content=b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    )
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    assert job["state"] == "failed"
    c = b.login("alice")
    tl = c.get(f"/cases/{number}/jobs/{job['id']}/timeline")
    assert tl.status_code == 200 and 'id="filter-error">nothing usable in the input' in tl.text
    r = b.client.get(f"/api/v1/cases/{number}/jobs/{job['id']}/events", headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("nothing usable in the input")

    b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "bad.zip"}, content=case_zip)
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    calls = []
    real = pipeline.load
    monkeypatch.setattr(pipeline, "load", lambda *a, **k: calls.append(1) or real(*a, **k))
    integrations._CACHE.clear()
    url = f"/api/v1/cases/{number}/jobs/{job['id']}/events"
    first = b.client.get(url, params={"where": "kind like 'cbs:%'"}, headers=h).json()
    second = b.client.get(url, params={"where": "kind like 'cbs:%'"}, headers=h).json()
    assert first == second and first["matched"] > 0
    assert len(calls) == 1  # parsed once, then served from the cache
    from datetime import datetime

    events = b.client.get(url, params={"limit": 5000}, headers=h).json()["events"]
    times = [datetime.fromisoformat(e["time"]) for e in events if e["time"]]
    assert len(times) > 100 and times == sorted(times)


def test_timeline_kind_links_narrow_the_filter(sqlite_bench: Bench, case_zip: bytes) -> None:
    import html as htmlmod
    from urllib.parse import parse_qs, urlsplit

    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = b.client.post("/api/v1/cases", json={"title": "t", "customer": "c"}, headers=h).json()["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "bad.zip"}, content=case_zip)
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    c = b.login("alice")
    page = c.get(f"/cases/{number}/jobs/{job['id']}/timeline", params={"where": "severity = 'error'"}).text
    hrefs = re.findall(r'<a href="(\?where=[^"]+)" title="only this kind">([^<]+)</a>', page)
    assert hrefs
    href, kind = hrefs[0]
    q = parse_qs(urlsplit(htmlmod.unescape(href)).query)
    assert q["where"] == [f"kind = '{kind}' and (severity = 'error')"]
    narrowed = c.get(f"/cases/{number}/jobs/{job['id']}/timeline" + htmlmod.unescape(href)).text
    kinds = set(re.findall(r'title="only this kind">([^<]+)</a>', narrowed))
    assert kinds == {kind}
