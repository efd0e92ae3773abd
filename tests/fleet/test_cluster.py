"""End to end: a real ``dask scheduler`` and two ``dask worker`` processes, ``culprit fleet`` against them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.conftest import Fleet

pytest.importorskip("distributed", reason="the fleet extra (dask[distributed]) is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the fleet extra (pyarrow) is not installed")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


def _wait_port(port: int, procs: list[subprocess.Popen], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("dask process exited early")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"scheduler did not listen on {port}")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a scheduler with two single-thread worker processes."""
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    files = []

    def start(name: str, args: list[str]) -> None:
        fp = (logs / f"{name}.log").open("wb")
        files.append(fp)
        procs.append(
            subprocess.Popen(
                [*_dask_cli(), *args], stdout=fp, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, cwd=logs
            )
        )

    try:
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
        _wait_port(port, procs)
        for i in range(2):
            start(
                f"worker{i}",
                [
                    "worker",
                    addr,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(logs / f"w{i}"),
                    "--name",
                    f"w{i}",
                ],
            )
        yield addr
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for p in procs:
            if p.stdin:
                p.stdin.close()
        for fp in files:
            fp.close()


def _culprit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.PIPE,
    )


def test_fleet_on_a_real_dask_cluster(scheduler: str, fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _culprit("fleet", str(fleet.root), "--scheduler", scheduler, "--workers", "2", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr  # no progress line when not on a terminal
    assert (
        f"{fleet.total} bundles ({fleet.total} analyzed, 0 reused, 2 unreadable) on 2 worker(s)" in run.stdout
    )

    rows = pq.read_table(out / "endpoints.parquet").to_pylist()
    assert len(rows) == fleet.total
    by_bundle = {r["bundle"]: r for r in rows}
    # both workers took part
    assert len({r["worker"] for r in rows}) == 2

    sigs = Counter(r["signature"] for r in rows)
    kb = [by_bundle[f"kb-{h}"] for h in fleet.kb_hosts] + [
        by_bundle[f"kbonly-{h}"] for h in fleet.kb_bad_only
    ]
    assert len({r["signature"] for r in kb}) == 1, "the KB case clusters together with and without its repro"
    assert sigs[kb[0]["signature"]] == len(fleet.kb_hosts) + len(fleet.kb_bad_only)
    for h in fleet.kb_hosts:
        r = by_bundle[f"kb-{h}"]
        assert (r["host"], r["os_build"], r["locale"], r["identity_from"]) == (
            h,
            "7601.24384",
            "zh-CN",
            "manifest",
        )
        assert (r["failure"], r["failure_code"], r["failure_symbol"]) == (
            "KB4474419",
            "0x80070005",
            "E_ACCESSDENIED",
        )
        assert (r["finding"], r["culprit"], r["culprit_role"], r["product"]) == (
            "registry-write-denied",
            "krnlmgr.sys",
            "kernel-driver",
            "TMS",
        )
        assert r["confidence"] == pytest.approx(0.95)
        assert r["outcome"] == "explained" and r["error"] is None and r["reused"] is False
    assert {by_bundle[f"kbonly-{h}"]["confidence"] for h in fleet.kb_bad_only} == {0.5}

    edge = [by_bundle[b] for b in fleet.edge]
    assert len({r["signature"] for r in edge}) == 1 and sigs[edge[0]["signature"]] == len(fleet.edge)
    for r in edge:  # no manifest: the failing machine's MSI log and capture say who it is, not the good one
        assert (r["host"], r["os_build"], r["locale"], r["identity_from"]) == (
            "BANK-WS-0457",
            "17763",
            "zh-CN",
            "logs",
        )
        assert (r["failure"], r["failure_code"], r["finding"], r["culprit"]) == (
            "Microsoft Edge",
            "1603",
            "injected-module",
            "schk.dll",
        )
        assert r["confidence"] == pytest.approx(0.99)

    small = [by_bundle[f"small-{h}"] for h in fleet.small_hosts]
    assert {r["outcome"] for r in small} == {"unexplained"}
    assert len({r["signature"] for r in small}) == 1 and sigs[small[0]["signature"]] == len(small)
    assert small[0]["signature"] != kb[0]["signature"] and small[0]["culprit"] is None

    clean = [by_bundle[f"clean-{h}"] for h in fleet.clean_hosts]
    assert {(r["outcome"], r["signature_text"]) for r in clean} == {("no-failure", "no-failure")}
    assert sorted(r["host"] for r in clean) == sorted(fleet.clean_hosts)

    cut, junk = by_bundle["cut-upload.zip"], by_bundle["junk-bundle"]
    assert cut["outcome"] == junk["outcome"] == "unreadable"
    assert cut["error_kind"] == "InputError" and "zip" in cut["error"]
    assert junk["error_kind"] == "InputError" and "nothing usable" in junk["error"]
    assert cut["sha256"] and len(cut["sha256"]) == 64

    doc = json.loads((out / "clusters.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "culprit.fleet/1" and doc["endpoints"] == fleet.total
    assert doc["counts"] == {"explained": 10, "unexplained": 6, "no-failure": 6, "unreadable": 2}
    assert [(c["outcome"], c["count"]) for c in doc["clusters"]] == [
        ("explained", 7),
        ("explained", 3),
        ("unexplained", 6),
        ("no-failure", 6),
        ("unreadable", 2),
    ]
    top = doc["clusters"][0]
    assert top["culprit"] == "krnlmgr.sys" and top["confidence"] == [0.5, 0.95]
    assert [e["host"] for e in top["examples"]] == [
        "BANK-WS-1101",
        "BANK-WS-1102",
        "BANK-WS-1103",
        "BANK-WS-1104",
        "BANK-WS-1105",
    ]
    assert top["os_builds"] == {"7601.24384": 7}
    (rule,) = top["allow"]
    assert rule["process"] == "C:\\Windows\\servicing\\TrustedInstaller.exe"
    assert "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8" in rule["registry_keys"]
    assert "C:\\Windows\\System32\\drivers\\amdk8.sys" in rule["files"]
    assert doc["clusters"][2]["missing"]["procmon"] == 6  # what to collect next for the unproven cluster
    edge_allow = doc["clusters"][1]["allow"]
    assert all(r["no_injection"] for r in edge_allow)
    assert "C:\\Program Files (x86)\\Microsoft\\Temp\\EU*.tmp\\MicrosoftEdgeUpdate.exe" in [
        r.get("pattern") for r in edge_allow
    ]

    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "| 1 | 7 | 29.2% | KB4474419 | 0x80070005 | registry-write-denied | krnlmgr.sys (TMS) |" in md
    assert "cut-upload.zip" in md and "BANK-WS-1101 (7601.24384, zh-CN)" in md
    zh = (out / "summary.zh.md").read_text(encoding="utf-8")
    assert "## 问题分组" in zh and "白名单" in zh and "日志包无法读取" in zh
    for name in ("summary.html", "summary.zh.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        assert "krnlmgr.sys (TMS)" in page and "<script" not in page

    # a rerun resumes: nothing is analyzed again
    again = _culprit("fleet", str(fleet.root), "--scheduler", scheduler, "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert f"({0} analyzed, {fleet.total} reused, 2 unreadable)" in again.stdout
    rows2 = pq.read_table(out / "endpoints.parquet").to_pylist()
    assert [(r["path"], r["signature"]) for r in rows2] == [(r["path"], r["signature"]) for r in rows]
    assert all(r["reused"] for r in rows2)

    # a bundle whose content changed is analyzed again; a moved copy of a finished one is not
    shutil.copyfile(
        fleet.root / f"clean-{fleet.clean_hosts[0]}" / "manifest.json",
        fleet.root / f"clean-{fleet.clean_hosts[1]}" / "extra.json",
    )
    listing = tmp_path / "bundles.txt"
    listing.write_text(
        "# patch day\n"
        + "\n".join(
            [
                str(fleet.root / f"clean-{fleet.clean_hosts[1]}"),
                str(fleet.root / f"small-{fleet.small_hosts[0]}"),
                str(tmp_path / "gone"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    third = _culprit("fleet", str(listing), "--scheduler", scheduler, "-o", str(out))
    assert third.returncode == 0, third.stderr
    assert "3 bundles (1 analyzed, 1 reused, 1 unreadable)" in third.stdout
