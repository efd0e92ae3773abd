"""The CLI as users start it: exit codes, inspect and timeline on real bundles, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from culprit.cli import main
from tests.builders import build_zip
from tests.conftest import SHARED, case_path

CBS = (
    "2024-09-03 10:15:22, Info                  CBS    Starting TrustedInstaller initialization.\r\n"
    "2024-09-03 10:15:23, Info                  CSI    00000001@2024/9/3:02:15:23.455 WcpInitialize called\r\n"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "culprit", *args], capture_output=True, text=True, timeout=300)


def test_no_command_is_usage_error() -> None:
    r = run_cli()
    assert r.returncode == 2
    assert "usage" in r.stderr.lower()


def test_unknown_flag_is_usage_error() -> None:
    r = run_cli("inspect", "--nope", "x")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_missing_input_exit_3() -> None:
    r = run_cli("inspect", "/nonexistent/bundle")
    assert r.returncode == 3
    assert "no such file" in r.stderr
    assert "Traceback" not in r.stderr


def test_hostile_archive_exit_3(tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    z.write_bytes(build_zip({"../../x.log": b"x"}))
    r = run_cli("timeline", str(z))
    assert r.returncode == 3
    assert "path traversal" in r.stderr
    assert "Traceback" not in r.stderr


def test_nothing_usable_exit_3(tmp_path: Path) -> None:
    f = tmp_path / "blob.bin"
    f.write_bytes(bytes(range(256)) * 10)
    r = run_cli("inspect", str(f))
    assert r.returncode == 3
    assert "nothing usable" in r.stderr


def test_inspect_json_lines(tmp_path: Path) -> None:
    f = tmp_path / "CBS.log"
    f.write_text(CBS, encoding="ascii", newline="")
    out = tmp_path / "out.jsonl"
    assert main(["inspect", str(f), "--format", "json", "-o", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2
    assert rows[0]["origin"] == {"artifact": "CBS.log", "line": 1, "text": CBS.splitlines()[0]}
    assert rows[0]["local_time"] == "2024-09-03T10:15:22"


def test_timeline_merges_and_uses_manifest_offset(tmp_path: Path) -> None:
    z = tmp_path / "b.zip"
    z.write_bytes(build_zip({"manifest.json": b'{"timezone_offset_minutes": 480}', "Windows/Logs/CBS/CBS.log": CBS.encode()}))
    out = tmp_path / "t.csv"
    assert main(["timeline", str(z), "--format", "csv", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8").splitlines()
    assert text[0] == "time,source,line,kind,severity,process,code,message"
    assert text[1].startswith("2024-09-03T02:15:22Z,b.zip/Windows/Logs/CBS/CBS.log,1,")


def test_timeline_tz_flag_overrides(tmp_path: Path) -> None:
    f = tmp_path / "CBS.log"
    f.write_text(CBS, encoding="ascii", newline="")
    out = tmp_path / "t.csv"
    assert main(["timeline", str(f), "--tz=-06:00", "--format", "csv", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("2024-09-03T16:15:22Z,")


def test_formats_lists_parsers_and_no_load_errors() -> None:
    r = run_cli("formats")
    assert r.returncode == 0, r.stderr
    assert "text" in r.stdout


@pytest.mark.parametrize("case", ["kb4474419-registry-denied", "edge-injected-dll"])
def test_timeline_on_case_bundles(case: str, tmp_path: Path) -> None:
    bad = case_path(case, "bad")
    out = tmp_path / "t.jsonl"
    assert main(["timeline", str(bad), "--format", "json", "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def _shared_files() -> list[Path]:
    roots = [SHARED / "corpus", SHARED / "cases"]
    files = [p for r in roots if r.exists() for p in sorted(r.rglob("*")) if p.is_file()]
    skip = {"README.md", "NOTES.md", "SOURCES.tsv", "CHECKSUMS.sha256", "expected.json"}
    return [p for p in files if p.name not in skip]


@pytest.mark.parametrize("path", _shared_files() or [None], ids=lambda p: p.name if p else "none")
def test_inspect_every_shared_file_without_traceback(path: Path | None, capsys: pytest.CaptureFixture[str]) -> None:
    if path is None:
        pytest.skip(f"../shared not available at {SHARED}")
    code = main(["inspect", str(path), "--format", "json", "-o", "/dev/null"])
    err = capsys.readouterr().err
    assert code in (0, 3), err
    if code == 3:
        assert "nothing usable" in err  # unknown kinds are skipped with the reason


def test_output_to_a_device_writes_through_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    t.start()
    f = tmp_path / "CBS.log"
    f.write_text(CBS, encoding="ascii", newline="")
    assert main(["inspect", str(f), "--format", "csv", "-o", str(fifo)]) == 0
    t.join(10)
    assert fifo.exists() and not fifo.is_file()  # still a FIFO, not replaced by a file
    assert got and got[0].startswith(b"time,")
