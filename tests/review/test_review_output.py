"""Review findings: evidence citations and wording that point the reader at the wrong place.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import corpus_path
from tests.review._helpers import CASES, EDGE, KB, analyze_json, run_cli

EDGE_LOG = "bad/ProgramData/Microsoft/EdgeUpdate/Log/MicrosoftEdgeUpdate.log"


def test_edge_update_log_citation_quotes_the_cited_line() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze examples/edge-injected-dll/bad`
    chain step 'MicrosoftEdgeUpdate.log: PID 7140 logs only its start-up banner' cites
    MicrosoftEdgeUpdate.log:10 but quotes line 9 (the '[...msedgeupdate.dll][version
    1.3.163.19][opt][official]' banner); line 10 is the '[is machine: 1][Current dir]' line. The line
    number and the quoted text must be the same line
    """
    d = analyze_json("bad", cwd=EDGE)
    lines = (EDGE / EDGE_LOG).read_bytes().decode("utf-16").splitlines()
    steps = [s for f in d["findings"] for s in f["chain"] if s.get("artifact") == EDGE_LOG and s.get("line")]
    assert steps, "the Edge example's chain cites MicrosoftEdgeUpdate.log"
    for s in steps:
        assert s["text"].splitlines()[0] == lines[s["line"] - 1], s["summary"]


def _sysfer_case() -> Path:
    case = CASES / "setup-exe-early-exit-sysfer-zh"
    if not (case / "bad").is_dir():
        pytest.skip(f"case bundle not available: {case}")
    return case


def test_text_failed_line_cites_capture_events_with_hash() -> None:
    """Review finding fixed in 80a8c7b; it was: for a failure found in a Procmon capture
    (setup-exe-early-exit-sysfer-zh: setup.exe exits 0xC0000409), the text report's FAILED line cites
    'bad/procmon/meeting_setup.pml:19' - a line number - while the JSON has event 19 and the chain and
    Markdown write 'meeting_setup.pml #19'; the text FAILED line must use the '#N' event form too
    """
    case = _sysfer_case()
    d = analyze_json("bad", "--good", "good", cwd=case)
    by_event = [f for f in d["failures"] if f.get("event") is not None]
    assert by_event, "the case's failure is cited by a capture event"
    r = run_cli("analyze", "bad", "--good", "good", cwd=case)
    assert r.returncode == 0, r.stderr
    for f in by_event:
        assert f"{f['artifact']}:{f['event']}" not in r.stdout
        assert f"{f['artifact']} #{f['event']}" in r.stdout


def test_summary_keeps_the_process_name_as_written() -> None:
    """Review finding fixed in 80a8c7b; it was: the Markdown/HTML case summary of
    setup-exe-early-exit-sysfer-zh says 'Setup.exe failed with 0xC0000409' - the sentence-start
    capitalisation rewrites the process name that the logs and the JSON write as 'setup.exe'; file and
    process names must be quoted as written
    """
    case = _sysfer_case()
    r = run_cli("analyze", "bad", "--good", "good", "-f", "json", cwd=case)
    assert r.returncode == 0
    assert "Setup.exe" not in r.stdout  # nothing in the evidence writes it so
    md = run_cli("analyze", "bad", "--good", "good", "-f", "md", cwd=case)
    assert md.returncode == 0
    assert "setup.exe" in md.stdout
    assert "Setup.exe" not in md.stdout


def test_diff_does_not_claim_no_differences_when_nothing_was_compared(tmp_path: Path) -> None:
    """Review finding fixed in 71583e4..7b0712f; it was: `culprit diff examples/.../reg_repro.PML
    half.PML` (the failing capture cut in half, so its process table is lost and no process aligns)
    headlines 'no differences found' with exit 0; the warning 'nothing could be compared' only comes at
    the very end. When nothing was aligned the headline must not claim the runs do not differ
    """
    pml = KB / "repro" / "procmon" / "reg_repro.PML"
    data = pml.read_bytes()
    half = tmp_path / "half.PML"
    half.write_bytes(data[: len(data) // 2])
    j = run_cli("diff", str(pml), str(half), "-f", "json")
    assert j.returncode == 0, j.stderr
    assert json.loads(j.stdout)["stats"]["aligned"] == 0
    r = run_cli("diff", str(pml), str(half))
    assert "no differences found" not in r.stdout


def test_evtx_failure_targets_are_not_internal_tags() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze ../shared/corpus/evtx` lists
    failures whose target is the internal source tag ('FAILED evtx:wu: 0x800B0101 CERT_E_EXPIRED',
    'evtx:scm: 0x8007000E'); the target shown to a customer must be what failed (an update, 'Windows
    Update', a service), not an event-kind prefix
    """
    evtx = corpus_path("evtx")
    d = analyze_json(str(evtx))
    targets = [f["target"] for f in d["failures"]]
    assert targets
    assert not [t for t in targets if t.startswith("evtx:")]


def test_negative_limit_is_usage_error() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit inspect reg_repro.PML --limit -1` prints an empty
    table with exit 0 and `culprit diff ... --limit -5` silently shows one difference; a negative N is
    a usage error (exit 2)
    """
    r = run_cli("inspect", str(KB / "repro" / "procmon" / "reg_repro.PML"), "--limit", "-1")
    assert r.returncode == 2


def _reading_kinds(code: str) -> list[str]:
    r = run_cli("explain", "-f", "json", "--", code)
    assert r.returncode == 0, r.stderr
    return [x["kind"] for x in json.loads(r.stdout)[0]["readings"]]


def test_explain_same_value_same_readings() -> None:
    """Review finding fixed in 71583e4..7b0712f; it was: `culprit explain -- -1073741790` gives two
    readings (NTSTATUS 0xC0000022 and an 'HRESULT 0xC0000022' not in the knowledge base) while `culprit
    explain 0xC0000022` - the same 32-bit value - gives one; likewise -1 vs 0xFFFFFFFF. The same value
    must be explained the same way whichever notation the log used (MSI logs print exit codes as
    negative decimals)
    """
    assert _reading_kinds("-1073741790") == _reading_kinds("0xC0000022")
    assert _reading_kinds("-1") == _reading_kinds("0xFFFFFFFF")


def test_diff_warns_when_good_and_bad_look_swapped() -> None:
    """Review finding fixed in 71583e4..7b0712f; it was: `culprit diff examples/edge-injected-dll/bad
    examples/edge-injected-dll/good` (GOOD and BAD swapped, an easy slip) says nothing about it: the
    install's msiexec.exe exits 1603 in the 'good' run and 0 in the 'failing' one, yet the top
    difference reads 'Only in the failing run MicrosoftEdgeUpdate.exe starts
    MicrosoftEdgeUpdateComRegisterShell64.exe' and schk.dll is not mentioned. When the 'good' capture
    is the one that fails, the diff must warn that the arguments look swapped
    """
    r = run_cli("diff", str(EDGE / "bad"), str(EDGE / "good"), "-f", "json")
    assert r.returncode == 0, r.stderr
    warnings = json.loads(r.stdout)["warnings"]
    assert any("swap" in w.lower() or "good" in w.lower() for w in warnings), warnings


def test_tasklist_step_quotes_the_cited_line() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze examples/edge-injected-dll/bad`
    chain step 'schk.dll is loaded in other processes too (Procmon64.exe, RuntimeBroker.exe,
    SearchIndexer.exe, SearchUI.exe)' cites bad/system/tasklist_m.txt:164 and quotes 'explorer.exe
    3908: schk.dll' - a process the summary does not name and a text that is not in the file (line 164
    is the wrapped module list 'RPCRT4.dll, ADVAPI32.dll, ..., schk.dll,'); about 25 processes load
    schk.dll and the four named are just the first in ASCII order. The quote must be the cited line and
    the summary must cover it
    """
    d = analyze_json("bad", cwd=EDGE)
    art = "bad/system/tasklist_m.txt"
    lines = (EDGE / art).read_bytes().decode("cp936").splitlines()
    steps = [s for f in d["findings"] for s in f["chain"] if s.get("artifact") == art and s.get("line")]
    assert steps, "the Edge example's chain cites tasklist_m.txt"
    for s in steps:
        assert " ".join(s["text"].split()) in " ".join(lines[s["line"] - 1].split()), s["summary"]


def test_two_bundles_with_the_same_folder_name_get_distinct_paths(tmp_path: Path) -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze day1/bad day2/bad` (two
    collections whose folders share a name - the collector always writes the same folder and zip names)
    labels both bundles 'bad' ('bundle.path': 'bad, bad') and cites files of both as
    'bad/Windows/Logs/CBS/CBS.log', 'bad/system/driverquery.csv', ...: a citation no longer says which
    file it means. Artifact paths must stay unique (e.g. 'day1/bad/...', 'day2/bad/...')
    """
    for day in ("day1", "day2"):
        shutil.copytree(KB / "bad", tmp_path / day / "bad")
    with (tmp_path / "day2" / "bad" / "Windows" / "Logs" / "CBS" / "CBS.log").open("ab") as f:
        f.write(
            b"2024-09-04 09:00:00, Info                  CBS    Starting TrustedInstaller initialization.\r\n"
        )
    d = analyze_json("day1/bad", "day2/bad", cwd=tmp_path)
    paths = [a["path"] for a in d["bundle"]["artifacts"]]
    assert len(paths) == len(set(paths)), sorted(p for p in paths if paths.count(p) > 1)


def test_bundles_from_two_hosts_are_flagged() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit analyze
    tests/data/cases/msi-1310-file-write-denied-cortex/bad
    tests/data/cases/lcu-wlan-copy-denied-no-capture-zh/bad` mixes two machines whose manifests name
    different hosts (TYO-ENG-WS-118, UTC+9 and BJ-HQ-NB-2207, UTC+8) without a word: one analysis,
    time_zone 540 from the first manifest applied to the Beijing logs too (every time an hour off) and
    no warning. Evidence from different hosts (or manifests with different offsets) must be flagged
    """
    a = CASES / "msi-1310-file-write-denied-cortex" / "bad"
    b = CASES / "lcu-wlan-copy-denied-no-capture-zh" / "bad"
    if not (a / "manifest.json").is_file() or not (b / "manifest.json").is_file():
        pytest.skip("case bundles with manifests not available")
    d = analyze_json(str(a), str(b))
    said = " ".join(str(w.get("message", "")) for w in d["warnings"])
    assert "TYO-ENG-WS-118" in said or "BJ-HQ-NB-2207" in said or "480" in said, d["warnings"]


def test_repro_capture_alone_reports_its_denials() -> None:
    r = run_cli("analyze", str(KB / "repro"))
    assert r.returncode == 0, r.stderr
    assert "krnlmgr.sys" in r.stdout
