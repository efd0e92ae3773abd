"""The machine's UTC offset settled per bundle: manifest, the logs' own proofs, cross-artifact pairs."""

from __future__ import annotations

import shutil
from pathlib import Path

from culprit import pipeline
from tests.conftest import case_path


def test_offset_from_edgeupdate_pids_and_pml_process_starts(tmp_path: Path) -> None:
    bad = case_path("edge-injected-dll", "bad")
    b = tmp_path / "bad"
    shutil.copytree(bad, b, ignore=shutil.ignore_patterns("*.CSV"))  # only the PID pairs remain
    with pipeline.load([b]) as ws:
        assert ws.utc_offset == 480
        assert "capture" in ws.offset_source
        msi = next(a for a in ws.artifacts if a.kind == "msi")
        ev = next(e for e in msi.events if e.origin.line == 395)
        assert ev.time is not None and ev.time.hour == 2 and ev.local_time.hour == 10


def test_offset_from_csv_export_of_the_same_capture(tmp_path: Path) -> None:
    bad = case_path("edge-injected-dll", "bad")
    b = tmp_path / "bad"
    shutil.copytree(bad, b, ignore=shutil.ignore_patterns("ProgramData"))  # no Edge Update log
    with pipeline.load([b]) as ws:
        assert ws.utc_offset == 480


def test_offset_from_cbs_csi_stamps_and_borrowed_by_repro_bundle() -> None:
    base = case_path("kb4474419-registry-denied")
    with pipeline.load([base / "bad", base / "repro"]) as ws:
        assert ws.utc_offset == 480
        assert all(a.utc_offset == 480 for a in ws.artifacts)


def test_unknown_offset_is_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "setupapi.dev.log"
    f.write_bytes(b">>>  [Device Install (Hardware initiated) - X]\r\n>>>  Section start 2024/09/03 10:30:40.621\r\n"
                  b"<<<  Section end 2024/09/03 10:30:41.090\r\n<<<  [Exit status: SUCCESS]\r\n")
    with pipeline.load([f]) as ws:
        assert ws.utc_offset is None
        assert any("time zone unknown" in w.message for w in ws.warnings)
