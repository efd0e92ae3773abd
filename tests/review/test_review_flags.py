"""Review findings: CLI flags and exit codes that do not do what they say.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.review._helpers import CASES, EDGE, KB, analyze_json, run_cli

SETUPAPI = KB / "bad" / "Windows" / "inf" / "setupapi.dev.log"
PML = KB / "repro" / "procmon" / "reg_repro.PML"


def _boot_offset(tz: str) -> tuple[int, int | None]:
    """Exit code of ``inspect setupapi.dev.log --tz=TZ`` and the utc_offset of its boot event."""
    r = run_cli("inspect", str(SETUPAPI), f"--tz={tz}", "-f", "json")
    if r.returncode != 0:
        return r.returncode, None
    for line in r.stdout.splitlines():
        ev = json.loads(line)
        if ev["kind"] == "setupapi:boot":
            return 0, ev["utc_offset"]
    raise AssertionError("no setupapi:boot event in the example log")


def test_tz_reference_reading() -> None:
    # The documented forms work: +08:00 and 480 minutes both mean UTC+8.
    assert _boot_offset("+08:00") == (0, 480)
    assert _boot_offset("480") == (0, 480)


def test_tz_plus_eight_is_not_eight_minutes() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit inspect .../setupapi.dev.log --tz +8` silently
    reads '+8' as 8 MINUTES east of UTC (utc_offset 8), so every local time is shifted by 7 h 52 min
    without a word; a signed number without a colon is what people type for hours: it should mean
    +08:00 or be refused (exit 2)
    """
    code, offset = _boot_offset("+8")
    assert code == 2 or offset == 480


@pytest.mark.parametrize("tz", ["+15:00", "9999", "-9999", "+08:60"])
def test_tz_impossible_offsets_are_refused(tz: str) -> None:
    """Review finding fixed in 80a8c7b; it was: `--tz` accepts offsets no machine can have (beyond
    UTC-12:00..UTC+14:00, 9999 minutes) and minutes >= 60 ('+08:60' is read as +09:00) and shifts every
    local time by them; it should be a usage error (exit 2)
    """
    code, _ = _boot_offset(tz)
    assert code == 2


def test_whois_empty_name_is_usage_error() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit whois ""` prints an empty heading and 'no product
    known' with exit 0; an empty NAME is a usage error (exit 2)
    """
    r = run_cli("whois", "")
    assert r.returncode == 2


def test_where_unknown_field_is_reported() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit inspect reg_repro.PML --where "reslt = 'ACCESS
    DENIED'"` (a typo in the field name) prints 0 events with exit 0 and no hint, exactly like a filter
    that matched nothing; a field that no event of the file has should be reported (warning naming
    'reslt', or exit 2)
    """
    r = run_cli("inspect", str(PML), "--where", "reslt = 'ACCESS DENIED'")
    assert r.returncode == 2 or "reslt" in r.stderr


def test_good_path_with_nothing_usable_is_reported(tmp_path: Path) -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze examples/edge-injected-dll/bad --good
    EMPTY_FOLDER` runs as if --good had not been given (the report asks for a good machine) with no
    warning that the --good evidence held nothing usable; the user should be told (a warning naming the
    folder, or exit 3)
    """
    empty = tmp_path / "good_machine"
    empty.mkdir()
    r = run_cli("analyze", str(EDGE / "bad"), "--good", str(empty), "-f", "json")
    if r.returncode == 3:
        return
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    said = " ".join(f"{w.get('artifact', '')} {w.get('message', '')}" for w in d["warnings"]) + r.stderr
    assert "good_machine" in said


def test_output_file_honours_umask(tmp_path: Path) -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze ... -f json -o report.json` creates
    report.json with mode 0600 (the temp file's mode from mkstemp survives the rename) whatever the
    umask; with umask 022 a report written into a shared case folder should be 0644 like any file the
    user writes
    """
    out = tmp_path / "report.json"
    r = subprocess.run(
        [sys.executable, "-m", "culprit", "analyze", str(KB / "bad"), "-f", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_header_only_procmon_csv_is_nothing_usable(tmp_path: Path) -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze x.CSV` on a Procmon CSV export with its
    header but no rows (0 events) answers 'no failure found in this bundle' with exit 0; nothing was
    readable, so it should exit 3 ('nothing usable in the input') like an empty file does
    """
    f = tmp_path / "capture.CSV"
    f.write_bytes(b'\xef\xbb\xbf"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n')
    r = run_cli("analyze", str(f))
    assert r.returncode == 3


def test_inspect_summary_counts_the_warnings_it_prints() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit inspect .../setupapi.dev.log` (no manifest) ends
    with 'setupapi.dev.log: setupapi, cp936, 26 events, 0 warnings' and then prints a 'warning: ...
    machine time zone unknown' line; the count in the summary must match the warnings printed
    """
    r = run_cli("inspect", str(SETUPAPI))
    assert r.returncode == 0
    m = re.search(r"(\d+) warnings?\b", r.stderr)
    assert m, r.stderr
    printed = sum(1 for line in r.stderr.splitlines() if line.startswith("warning:"))
    assert printed >= 1  # the time-zone warning is there
    assert int(m.group(1)) == printed


def test_inspect_table_shows_whole_kind() -> None:
    """Review finding fixed in 80a8c7b; it was: the table of `culprit inspect .../setupapi.dev.log` (and
    timeline) cuts the KIND column to 20 characters without a mark ('setupapi:service_fai'), so the
    kind a user copies into --where "kind = '...'" matches nothing; the full kind
    'setupapi:service_failure' must show
    """
    r = run_cli("inspect", str(SETUPAPI), "--tz", "+08:00")
    assert r.returncode == 0
    assert "setupapi:service_failure" in r.stdout


def test_same_path_twice_does_not_duplicate_evidence() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze examples/edge-injected-dll/bad
    examples/edge-injected-dll/bad` (the same folder given twice, an easy slip with shell globs) reads
    every artifact twice and the chain shows the same evidence step twice (MicrosoftEdgeUpdate.log
    banner); the same file should be read once
    """
    once = analyze_json(str(EDGE / "bad"))
    twice = analyze_json(str(EDGE / "bad"), str(EDGE / "bad"))
    assert len(twice["bundle"]["artifacts"]) == len(once["bundle"]["artifacts"])
    steps = [
        (s.get("artifact"), s.get("line"), s.get("event"), s.get("summary"))
        for f in twice["findings"]
        for s in f["chain"]
    ]
    assert len(steps) == len(set(steps))


def test_negative_tz_with_a_space_is_accepted() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze
    examples/kb4474419-registry-denied/bad --tz -05:00` (a negative offset written as the help shows,
    with a space) is refused by argparse with 'argument --tz: expected one argument' (exit 2), while
    `--tz -300` and `--tz=-05:00` work; every machine west of UTC needs this form and nothing in --help
    says to write --tz=-05:00
    """
    r = run_cli("analyze", str(KB / "bad"), "--tz", "-05:00", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["time_zone"]["utc_offset_minutes"] == -300


def test_inspect_file_inside_a_bundle_uses_its_manifest() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit inspect
    tests/data/cases/msi-1310-file-write-denied-cortex/bad/Windows/Temp/MSI2b6d1.LOG` warns 'machine
    time zone unknown (no manifest.json ...)' and prints 14:06:51 local as 14:06:51Z, although the
    bundle's own manifest.json (two folders up) says UTC+9 and `culprit timeline bad` prints 05:06:51Z
    for the same line: a file inspected inside an unpacked bundle must use the bundle's manifest (or at
    least not claim there is none)
    """
    bad = CASES / "msi-1310-file-write-denied-cortex" / "bad"
    log = bad / "Windows" / "Temp" / "MSI2b6d1.LOG"
    if not log.is_file():
        pytest.skip(f"case bundle not available: {log}")
    r = run_cli("inspect", str(log), "--limit", "1", "-f", "json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout.splitlines()[0])
    assert first["utc_offset"] == 540
    assert first["time"] == "2024-09-12T05:06:51Z"


def test_good_evidence_that_also_fails_is_reported(tmp_path: Path) -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze examples/edge-injected-dll/bad
    --good COPY_OF_BAD` (the --good evidence shows the very same failure: MSI 1603, schk.dll injected,
    MicrosoftEdgeUpdate.exe gone after 0.2 s) only lowers the confidence to 0.75 and adds the chain
    step 'good machine: the same MicrosoftEdgeUpdate.exe runs 0.2 s'; nothing says the 'good' machine
    is not a working run. When the --good evidence holds the same failure, the report must warn
    """
    good = tmp_path / "good"
    shutil.copytree(EDGE / "bad", good)
    d = analyze_json(str(EDGE / "bad"), "--good", str(good))
    said = " ".join(f"{w.get('artifact', '')} {w.get('message', '')}" for w in d["warnings"]).lower()
    assert "good" in said and ("fail" in said or "1603" in said), d["warnings"]


def test_pml_csv_export_says_its_time_zone() -> None:
    r = run_cli("inspect", str(PML), "-f", "csv", "--limit", "1")
    assert r.returncode == 0, r.stderr
    assert "time zone" in r.stderr.lower() or "utc" in r.stderr.lower(), r.stderr


def test_whois_bundle_hits_say_when_cut() -> None:
    tasklist = (EDGE / "bad" / "system" / "tasklist_m.txt").read_bytes().decode("cp936")
    loading = [ln for ln in tasklist.splitlines() if "schk.dll" in ln]
    r = run_cli("whois", "schk.dll", "--bundle", str(EDGE / "bad"))
    assert r.returncode == 0, r.stderr
    shown = [ln for ln in r.stdout.splitlines() if "tasklist_m.txt:" in ln]
    assert len(shown) == len(loading) or "more" in r.stdout, (len(shown), len(loading))
