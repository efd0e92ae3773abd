"""The JSON API end to end in-process, on SQLite and on a real PostgreSQL: cases, links, uploads,
analysis with progress, events, reports, lifecycle, activity, OpenAPI."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from culprit.web import integrations
from tests.web.conftest import Bench


def _case(
    b: Bench, h: dict[str, str], title: str = "KB4474419 fails with 0x80070005", customer: str = "Ward 3"
) -> dict:
    r = b.client.post(
        "/api/v1/cases", json={"title": title, "customer": customer, "priority": "P2"}, headers=h
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_case_upload_analyze(bench: Bench, case_zip: bytes) -> None:
    bench.add_user("alice")
    h = bench.token("alice")
    c = _case(bench, h)
    number = c["number"]
    assert c["status"] == "new" and c["owner"] == "alice" and c["priority"] == "P2"
    assert number.startswith("CAS-") and len(number) == len("CAS-06514-B7P2C8")

    r = bench.client.post(
        f"/api/v1/cases/{number}/links", json={"role": "bad", "expires_in": 3600, "note": "PC 12"}, headers=h
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"].endswith("/u/" + link["token"]) and link["role"] == "bad" and link["uploads"] == 0

    up = bench.client.put(
        f"/api/v1/uploads/{link['token']}", params={"filename": "bad.zip"}, content=case_zip
    )
    assert up.status_code == 200, up.text
    f = up.json()["files"][0]
    assert f["sha256"] == hashlib.sha256(case_zip).hexdigest()
    assert f["size"] == len(case_zip) and f["filename"] == "bad.zip" and f["role"] == "bad"
    blob = bench.app.state.store.blob_path(f["sha256"])
    assert blob.read_bytes() == case_zip

    detail = bench.client.get(f"/api/v1/cases/{number}", headers=h).json()
    assert detail["case"]["status"] == "awaiting-evidence"
    assert detail["links"][0]["uploads"] == 1
    assert [e["sha256"] for e in detail["evidence"]] == [f["sha256"]]

    r = bench.client.post(f"/api/v1/cases/{number}/jobs", json={"lang": "en"}, headers=h)
    assert r.status_code == 202, r.text
    job = bench.wait_job(number, r.json()["id"], h)
    assert job["state"] == "done", job
    assert job["progress"] == 100 and job["error"] is None
    res = job["result"]
    assert res["schema"] == "culprit.analysis/1"
    top = res["findings"][0]
    assert top["culprit"]["module"] == "krnlmgr.sys"
    assert top["culprit"]["product"] == "TMS"
    allow = top["remediation"]["allow"]
    assert allow and allow[0]["process"].lower().endswith("trustedinstaller.exe")
    assert "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8" in allow[0]["registry_keys"]
    failed = {x["target"]: x for x in res["failures"]}
    assert failed["KB4474419"]["code"] == "0x80070005"
    assert bench.client.get(f"/api/v1/cases/{number}", headers=h).json()["case"]["status"] == "root-cause"

    acts = [a["action"] for a in bench.client.get(f"/api/v1/cases/{number}/activity", headers=h).json()]
    for a in ("created", "upload-link", "evidence", "analysis", "analysis-done"):
        assert a in acts

    ev = bench.client.get(
        f"/api/v1/cases/{number}/jobs/{job['id']}/events",
        params={"where": "code = 0x80070005 and kind like 'cbs:%'"},
        headers=h,
    )
    assert ev.status_code == 200, ev.text
    evs = ev.json()
    assert evs["matched"] >= 1 and evs["scanned"] > evs["matched"]
    assert all(e["kind"].startswith("cbs:") and e["code"] == "0x80070005" for e in evs["events"])
    assert any("CBS.log:129" in e["where"] for e in evs["events"])
    bad = bench.client.get(
        f"/api/v1/cases/{number}/jobs/{job['id']}/events", params={"where": "code = = 1"}, headers=h
    )
    assert bad.status_code == 422 and "where" in bad.json()["detail"]


def test_reports(sqlite_bench: Bench, case_zip: bytes) -> None:
    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = _case(b, h)["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    assert b.client.put(f"/api/v1/uploads/{tok}", content=case_zip).status_code == 200
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    formats = b.client.get("/api/v1/formats").json()["report"]
    assert formats == integrations.report_formats()
    if "md" not in formats:
        pytest.skip("the report renderers are not installed")
    md = b.client.get(
        f"/api/v1/cases/{number}/jobs/{job['id']}/report", params={"format": "md", "lang": "en"}, headers=h
    )
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "krnlmgr.sys" in md.text and number in md.text
    assert md.headers["content-disposition"] == f'attachment; filename="{number}-summary-en.md"'
    req = b.client.get(
        f"/api/v1/cases/{number}/jobs/{job['id']}/report",
        params={"format": "md", "template": "request"},
        headers=h,
    )
    assert req.status_code == 200
    assert f"/u/{tok}" in req.text  # the evidence-request email carries the live upload link
    if "pdf" in formats:
        pdf = b.client.get(
            f"/api/v1/cases/{number}/jobs/{job['id']}/report", params={"format": "pdf"}, headers=h
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    nope = b.client.get(
        f"/api/v1/cases/{number}/jobs/{job['id']}/report", params={"format": "docx"}, headers=h
    )
    assert nope.status_code == 422


def test_multipart_upload_and_good_bundle(bench: Bench, case_zip: bytes) -> None:
    bench.add_user("alice")
    h = bench.token("alice")
    number = _case(bench, h)["number"]
    bad = bench.client.post(f"/api/v1/cases/{number}/links", json={"role": "bad"}, headers=h).json()
    good = bench.client.post(f"/api/v1/cases/{number}/links", json={"role": "good"}, headers=h).json()
    form = bench.app.state.signer.form_token(bad["token"])
    files = [
        ("files", ("bad.zip", case_zip, "application/zip")),
        ("files", ("notes.txt", b"collected by the customer\r\n", "text/plain")),
    ]
    r = bench.client.post(f"/api/v1/uploads/{bad['token']}", data={"csrf_token": form}, files=files)
    assert r.status_code == 200, r.text
    got = r.json()["files"]
    assert [(x["filename"], x["size"], x["sha256"]) for x in got] == [
        ("bad.zip", len(case_zip), hashlib.sha256(case_zip).hexdigest()),
        ("notes.txt", 27, hashlib.sha256(b"collected by the customer\r\n").hexdigest()),
    ]
    # the same bundle as "good" evidence: content-addressed, one blob, two evidence rows
    g = bench.client.put(
        f"/api/v1/uploads/{good['token']}", params={"filename": "good.zip"}, content=case_zip
    )
    assert g.status_code == 200 and g.json()["files"][0]["role"] == "good"
    evs = bench.client.get(f"/api/v1/cases/{number}/evidence", headers=h).json()
    assert [(e["filename"], e["role"]) for e in evs] == [
        ("bad.zip", "bad"),
        ("notes.txt", "bad"),
        ("good.zip", "good"),
    ]
    blobs = list(bench.app.state.store.blob_dir.rglob("*"))
    assert len([p for p in blobs if p.is_file()]) == 2
    job = bench.wait_job(
        number, bench.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    assert job["state"] == "done", job
    assert job["result"]["bundle"].get("good")


def test_lifecycle_and_validation(bench: Bench) -> None:
    bench.add_user("alice")
    h = bench.token("alice")
    number = _case(bench, h)["number"]
    p = bench.client.patch(
        f"/api/v1/cases/{number}", json={"status": "scoped", "note": "AmdK8 only"}, headers=h
    )
    assert p.status_code == 200 and p.json()["status"] == "scoped"
    skip = bench.client.patch(f"/api/v1/cases/{number}", json={"status": "root-cause"}, headers=h)
    assert skip.status_code == 422 and "not allowed" in skip.json()["detail"]
    for s in ("closed", "archived"):
        assert bench.client.patch(f"/api/v1/cases/{number}", json={"status": s}, headers=h).status_code == 200
    assert bench.client.patch(f"/api/v1/cases/{number}", json={"status": "new"}, headers=h).status_code == 422
    assert number not in [c["number"] for c in bench.client.get("/api/v1/cases", headers=h).json()]
    assert number in [c["number"] for c in bench.client.get("/api/v1/cases?archived=true", headers=h).json()]
    # no evidence → no job; bad input → 422 with a reason
    n2 = _case(bench, h)["number"]
    r = bench.client.post(f"/api/v1/cases/{n2}/jobs", json={}, headers=h)
    assert r.status_code == 422 and "no evidence" in r.json()["detail"]
    assert (
        bench.client.post("/api/v1/cases", json={"title": "", "customer": "x"}, headers=h).status_code == 422
    )
    assert (
        bench.client.post(
            "/api/v1/cases", json={"title": "t", "customer": "x", "priority": "P9"}, headers=h
        ).status_code
        == 422
    )
    assert (
        bench.client.post(f"/api/v1/cases/{n2}/links", json={"expires_in": 0}, headers=h).status_code == 422
    )


def test_analysis_of_unusable_evidence_fails_cleanly(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = _case(b, h)["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    assert (
        b.client.put(
            f"/api/v1/uploads/{tok}",
            params={"filename": "photo.png"},
            content=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        ).status_code
        == 200
    )
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    assert job["state"] == "failed"
    assert job["error"].startswith("nothing usable in the input")
    assert job["result"] is None


def test_openapi_and_auth(sqlite_bench: Bench) -> None:
    b = sqlite_bench
    doc = b.client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{number}/links",
        "/api/v1/uploads/{token}",
        "/api/v1/cases/{number}/jobs/{job_id}",
        "/api/v1/cases/{number}/jobs/{job_id}/events",
    ):
        assert path in doc["paths"], path
    assert b.client.get("/api/v1/cases").status_code == 401
    assert b.client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    b.add_user("alice")
    assert (
        b.client.post("/api/v1/auth/token", json={"username": "alice", "password": "wrong one!"}).status_code
        == 401
    )
    assert (
        b.client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong one!"}).status_code
        == 401
    )
    h = b.token("alice")
    assert b.client.get("/api/v1/me", headers=h).json() == {
        "username": "alice",
        "role": "engineer",
        "display_name": "alice",
    }
    assert b.client.delete("/api/v1/auth/token", headers=h).status_code == 204
    assert b.client.get("/api/v1/me", headers=h).status_code == 401
    with b.app.state.db() as db:
        from sqlalchemy import select

        from culprit.web.models import User

        stored = db.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$")


def test_result_json_is_the_analysis_contract(sqlite_bench: Bench, case_zip: bytes) -> None:
    """The stored result is exactly what ``culprit analyze --format json`` prints for the same bundle."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    number = _case(b, h)["number"]
    tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
    b.client.put(f"/api/v1/uploads/{tok}", params={"filename": "bad.zip"}, content=case_zip)
    job = b.wait_job(
        number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
    )
    with tempfile.TemporaryDirectory() as d:
        z = Path(d) / "bad.zip"
        z.write_bytes(case_zip)
        out = subprocess.run(
            [sys.executable, "-m", "culprit", "analyze", str(z), "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    cli = json.loads(out)
    assert [f["title"] for f in job["result"]["findings"]] == [f["title"] for f in cli["findings"]]
    assert job["result"]["failures"] == cli["failures"]


def test_a_7z_upload_is_analysed_like_its_zip(sqlite_bench: Bench, case_zip: bytes, tmp_path) -> None:
    """Customers send 7-Zip archives: the same bundle as .7z gives the same answer as its .zip."""
    import io
    import zipfile

    import py7zr

    seven = tmp_path / "bad.7z"
    with zipfile.ZipFile(io.BytesIO(case_zip)) as zf, py7zr.SevenZipFile(seven, "w") as z:
        for info in zf.infolist():
            if not info.is_dir():
                z.writestr(zf.read(info), info.filename)
    b = sqlite_bench
    b.add_user("alice")
    h = b.token("alice")
    results = []
    for name, data in (("bad.zip", case_zip), ("bad.7z", seven.read_bytes())):
        number = _case(b, h)["number"]
        tok = b.client.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]
        assert (
            b.client.put(f"/api/v1/uploads/{tok}", params={"filename": name}, content=data).status_code == 200
        )
        job = b.wait_job(
            number, b.client.post(f"/api/v1/cases/{number}/jobs", json={}, headers=h).json()["id"], h
        )
        results.append(job["result"])
    zipped, sevened = results
    assert sevened["findings"] and sevened["findings"][0]["culprit"]["module"] == "krnlmgr.sys"
    assert [f["title"] for f in sevened["findings"]] == [f["title"] for f in zipped["findings"]]
    assert [(f["target"], f["code"]) for f in sevened["failures"]] == [
        (f["target"], f["code"]) for f in zipped["failures"]
    ]
