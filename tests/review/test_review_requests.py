"""Review findings: what the customer is asked to collect, report input checks, odd encodings.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.review._helpers import CASES, KB, analyze_json, run_cli


def _wlan_case() -> Path:
    case = CASES / "lcu-wlan-copy-denied-no-capture-zh"
    if not (case / "bad").is_dir():
        pytest.skip(f"case bundle not available: {case}")
    return case


def test_request_email_gives_one_collector_command_with_every_switch(tmp_path: Path) -> None:
    """Review finding fixed in 80a8c7b; it was: for lcu-wlan-copy-denied-no-capture-zh the evidence request
    (`culprit report A.json -t request`, and the MISSING block of `culprit analyze`) says 'collect and
    send in one go' but gives three different collector commands, each with only its own switch
    (-Procmon ..., -AclPaths ..., -Inf fbwlan.inf) while each claims 'it gathers this and all other
    evidence in one go'; run as written, none of them collects everything. One command line must carry
    all the switches
    """
    case = _wlan_case()
    d = analyze_json("bad", cwd=case)
    assert {m["artifact"] for m in d["missing"]} >= {"procmon", "acl", "inf"}
    saved = tmp_path / "analysis.json"
    saved.write_text(json.dumps(d), encoding="utf-8")
    r = run_cli("report", str(saved), "-t", "request")
    assert r.returncode == 0, r.stderr
    wanted = ("-Inf fbwlan.inf", "-AclPaths", "-Procmon")
    assert any(all(w in line for w in wanted) for line in r.stdout.splitlines())


@pytest.mark.parametrize("time_zone", ["garbage", 5, {"utc_offset_minutes": "x"}])
def test_report_rejects_a_bad_time_zone_cleanly(tmp_path: Path, time_zone: object) -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit report A.json` validates 'findings', 'missing',
    'warnings' and 'bundle' with a clear 'analysis JSON: ... must be ...' error (exit 3), but a wrong
    'time_zone' (a string, a number, or a non-numeric utc_offset_minutes) ends in an
    AttributeError/TypeError traceback
    """
    d = analyze_json(str(KB / "bad"))
    bad = copy.deepcopy(d)
    bad["time_zone"] = time_zone
    f = tmp_path / "analysis.json"
    f.write_text(json.dumps(bad), encoding="utf-8")
    r = run_cli("report", str(f))
    assert "Traceback" not in r.stderr
    assert r.returncode == 3


def test_utf16be_with_bom_is_read(tmp_path: Path) -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: a CBS.log saved as UTF-16 big-endian with its FE
    FF byte-order mark (Notepad's 'Unicode big endian') is refused as 'no parser recognises this binary
    data', although the BOM names the encoding; the same log as UTF-16LE without BOM is read. `culprit
    inspect CBS.log` must read it
    """
    text = (KB / "bad" / "Windows" / "Logs" / "CBS" / "CBS.log").read_bytes().decode("utf-8")
    f = tmp_path / "CBS.log"
    f.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    r = run_cli("inspect", str(f), "--where", "severity = 'error'", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert any(json.loads(line)["origin"]["line"] == 129 for line in r.stdout.splitlines())


def test_request_email_paths_survive_copy_from_markdown(tmp_path: Path) -> None:
    case = _wlan_case()
    saved = tmp_path / "analysis.json"
    saved.write_text(json.dumps(analyze_json("bad", cwd=case)), encoding="utf-8")
    r = run_cli("report", str(saved), "-t", "request")
    assert r.returncode == 0, r.stderr
    assert "C:\\Windows\\System32\\DriverStore\\FileRepository\\fbwlan.inf_*\\" in r.stdout
    assert "\\<" not in r.stdout
