"""Which failure is 'the' failure when the CBS history holds several runs."""

from __future__ import annotations

from pathlib import Path

from culprit import pipeline
from culprit.analysis import analyze
from tests.builders import build_cab

HEAD = "{d} 10:00:00, Info                  CBS    Starting TrustedInstaller initialization.\r\n"
FAIL = ("{d} 10:05:00, Error                 CBS    Failed to resolve execution package: "
        "Package_for_{kb}~31bf3856ad364e35~amd64~~10.0.1.2 [HRESULT = {hr} - X]\r\n"
        "{d} 10:05:01, Info                  CBS    Exec: Processing complete.  Session: 31090000_1234567890, "
        "Package: Package_for_{kb}~31bf3856ad364e35~amd64~~10.0.1.2 [HRESULT = {hr} - X]\r\n")


def _run(d: str, kb: str, hr: str) -> str:
    return HEAD.format(d=d) + FAIL.format(d=d, kb=kb, hr=hr)


def test_latest_failing_run_wins_over_archived_history(tmp_path: Path) -> None:
    cbs = tmp_path / "b" / "Windows" / "Logs" / "CBS"
    cbs.mkdir(parents=True)
    old = _run("2024-03-01", "KB5030000", "0x800f081f")
    (cbs / "CbsPersist_20240301100000.cab").write_bytes(build_cab({"CbsPersist_20240301100000.log": old.encode()}))
    (cbs / "CBS.log").write_text(_run("2024-05-02", "KB5034441", "0x80070005"), encoding="ascii", newline="")
    with pipeline.load([tmp_path / "b"], utc_offset=0) as ws:
        d = analyze(ws).to_dict()
    f = d["failures"][0]
    assert (f["target"], f["code"], f["artifact"]) == ("KB5034441", "0x80070005", "b/Windows/Logs/CBS/CBS.log")


def test_failure_in_archive_found_when_current_log_is_clean(tmp_path: Path) -> None:
    cbs = tmp_path / "b" / "Windows" / "Logs" / "CBS"
    cbs.mkdir(parents=True)
    old = _run("2024-03-01", "KB5030000", "0x800f081f")
    (cbs / "CbsPersist_20240301100000.log").write_text(old, encoding="ascii", newline="")
    (cbs / "CBS.log").write_text(HEAD.format(d="2024-05-02"), encoding="ascii", newline="")
    with pipeline.load([tmp_path / "b"], utc_offset=0) as ws:
        d = analyze(ws).to_dict()
    assert d["failures"][0]["target"] == "KB5030000"
    assert d["failures"][0]["artifact"].endswith("CbsPersist_20240301100000.log")
