"""The diff engine on small captures written with the PML writer (tests/diff/_captures.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from culprit.analysis.facts import CaptureRef
from culprit.diff import compare
from culprit.model import Step
from culprit.parsers.procmon import open_capture
from tests.diff._captures import HOOK, HOOK_COMPANY, T0, install_run


def _diff(tmp_path: Path, good: dict, bad: dict):
    g = install_run(tmp_path / "good.pml", **good)
    b = install_run(tmp_path / "bad.pml", **bad)
    gc, bc = open_capture(g), open_capture(b)
    return compare(gc, bc), gc, bc


# A second machine: other PIDs and TIDs, another day, other temp names, another user.
OTHER_MACHINE = {
    "pid_base": 5000,
    "t0": datetime(2024, 3, 5, 13, 0, tzinfo=UTC),
    "temp": "MSI8F3A",
    "eu": "EU5A1C",
    "user": "bob",
}


def test_pid_time_and_temp_name_differences_alone_produce_nothing(tmp_path: Path) -> None:
    r, _g, _b = _diff(tmp_path, {}, OTHER_MACHINE)
    assert r.differences == ()
    assert r.common == ()
    hows = {(p.good.name, p.bad.name): p.how for p in r.processes}
    assert hows == {
        ("agentmon.exe", "agentmon.exe"): "image+command+parent",
        ("cmd.exe", "cmd.exe"): "image+command+parent",
        ("msiexec.exe", "msiexec.exe"): "image+command+parent",
        ("MSI4C2E.tmp", "MSI8F3A.tmp"): "image+command+parent",
        ("helper.exe", "helper.exe"): "image+command+parent",
    }
    ca = next(p for p in r.processes if p.bad and p.bad.name == "MSI8F3A.tmp")
    assert (ca.good.pid, ca.bad.pid) == (1008, 5008)
    assert ca.key == r"*:\windows\installer\msi*.tmp"


def test_access_denied_only_in_bad_is_reported(tmp_path: Path) -> None:
    r, g, b = _diff(tmp_path, {}, {**OTHER_MACHINE, "denied": True})
    kinds = [d.kind for d in r.differences]
    assert kinds == ["result-differs", "result-differs"]
    top = r.differences[0]
    assert top.process == "MSI8F3A.tmp"
    assert top.subject == r"RegSetValue HKLM\SOFTWARE\Contoso\Agent\InstallPath"
    assert top.score == 0.7
    # evidence: the denied write in bad, the same write succeeding in good
    assert b.event(top.bad_events[0]).fields["result"] == "ACCESS DENIED"
    assert g.event(top.good_events[0]).fields["result"] == "SUCCESS"
    assert g.event(top.good_events[0]).fields["path"] == r"HKLM\SOFTWARE\Contoso\Agent\InstallPath"
    assert dict(top.details) == {
        "operation": "RegSetValue",
        "path": r"HKLM\SOFTWARE\Contoso\Agent\InstallPath",
        "bad_result": "ACCESS DENIED",
        "good_result": "SUCCESS",
        "count": 1,
    }
    assert top.reading == (
        "`MSI8F3A.tmp`: RegSetValue `HKLM\\SOFTWARE\\Contoso\\Agent\\InstallPath` gets ACCESS DENIED "
        "in the failing run (at 60 ms after start); in the good run the same operation returns SUCCESS."
    )
    assert "ACCESS DENIED" in top.reading_zh and "正常的运行中同一操作返回 SUCCESS" in top.reading_zh
    second = r.differences[1]
    assert second.subject == r"RegCreateKey HKLM\SYSTEM\CurrentControlSet\Services\ContosoSvc"
    assert second.good_events == ()
    assert second.details["good_result"] is None
    assert second.reading.endswith("the good run never does it.")
    assert second.score < top.score


def test_dll_present_in_both_runs_does_not_rank_first(tmp_path: Path) -> None:
    r, _g, _b = _diff(
        tmp_path, {"hook_in_both": True}, {**OTHER_MACHINE, "hook_in_both": True, "denied": True}
    )
    assert r.differences[0].kind == "result-differs"
    assert all(HOOK not in d.subject for d in r.differences)
    assert [(c.kind, c.subject, c.details["company"]) for c in r.common] == [
        ("third-party-in-both", HOOK, HOOK_COMPANY)
    ]
    assert r.common[0].reading.startswith("`fbhook.dll` (Fabrikam Security Ltd) loads in both runs")


def test_foreign_dll_then_early_exit(tmp_path: Path) -> None:
    r, g, b = _diff(tmp_path, {}, {**OTHER_MACHINE, "hook_only": True, "early_exit": True})
    kinds = [d.kind for d in r.differences]
    assert kinds[:2] == ["module-only-in-bad", "early-exit"]
    mod, ex = r.differences[0], r.differences[1]
    assert mod.subject == HOOK and mod.process == "MSI8F3A.tmp"
    assert b.event(mod.bad_events[0]).fields["operation"] == "Load Image"
    assert b.event(mod.bad_events[0]).fields["path"] == HOOK
    # more evidence: the Thread Create agentmon.exe's thread made, the early Process Exit; the good run's exit
    assert [b.event(i).fields["operation"] for i in mod.bad_events] == [
        "Load Image",
        "Thread Create",
        "Process Exit",
    ]
    assert [g.event(i).fields["operation"] for i in mod.good_events] == ["Process Exit"]
    assert mod.details["company"] == HOOK_COMPANY
    assert mod.details["injected_by"] == "agentmon.exe"
    assert mod.details["load_offset_ms"] == pytest.approx(10.0, abs=0.01)
    assert mod.details["exit_after_ms"] == pytest.approx(150.0, abs=0.01)
    assert mod.reading == (
        "`fbhook.dll` (Fabrikam Security Ltd, Fabrikam hook) loads into `MSI8F3A.tmp` 10 ms after start "
        "only in the failing run, on a thread `agentmon.exe` created in it; the process exits 150 ms later "
        "with status -2147023293 (0x80070643, ERROR_INSTALL_FAILURE); in the good run it runs 5.1 s and "
        "starts `helper.exe`."
    )
    assert mod.reading_zh.startswith(
        "仅在失败的运行中，`fbhook.dll`（Fabrikam Security Ltd，Fabrikam hook）被加载到 `MSI8F3A.tmp`"
    )
    assert b.event(ex.bad_events[0]).fields["operation"] == "Process Exit"
    assert ex.details["bad_status"] == -2147023293 and ex.details["good_status"] == 0
    assert ex.details["bad_lifetime"] == pytest.approx(0.16) and ex.details["good_lifetime"] == pytest.approx(
        5.1
    )
    # the later exit of msiexec is a consequence and ranks lower
    later = [d for d in r.differences if d.kind == "early-exit" and d.process == "msiexec.exe"]
    assert later and later[0].score < ex.score and later[0].details["consequence_of"] == "MSI8F3A.tmp"
    missing = r.of_kind("child-missing")
    assert [(d.process, d.details["child"]) for d in missing] == [("MSI8F3A.tmp", "helper.exe")]
    assert g.event(missing[0].good_events[0]).fields["operation"] == "Process Create"
    div = r.of_kind("first-divergence")
    assert len(div) == 1 and b.event(div[0].bad_events[0]).fields["operation"] == "Thread Create"
    assert div[0].details["bad_step"] == "Thread Create from another process (`agentmon.exe`)"


def test_steps_cite_both_captures(tmp_path: Path) -> None:
    g = open_capture(install_run(tmp_path / "good.pml"))
    b = open_capture(install_run(tmp_path / "bad.pml", **OTHER_MACHINE, denied=True))
    r = compare(
        CaptureRef("good/procmon/x.PML", "good", g), CaptureRef("bad/procmon/x.PML", "bad", b, "bad/x.CSV")
    )
    steps = r.steps(r.differences[0])
    assert all(isinstance(s, Step) for s in steps)
    assert [(s.origin.artifact, s.origin.record) for s in steps] == [
        ("bad/procmon/x.PML", r.differences[0].bad_events[0]),
        ("good/procmon/x.PML", r.differences[0].good_events[0]),
    ]
    assert steps[0].alt is not None and steps[0].alt.line == r.differences[0].bad_events[0] + 2
    assert steps[0].summary == r.differences[0].reading


def test_result_serializes_to_json_types(tmp_path: Path) -> None:
    import json

    r, _g, _b = _diff(tmp_path, {}, {**OTHER_MACHINE, "hook_only": True, "early_exit": True})
    d = json.loads(json.dumps(r.to_dict(), ensure_ascii=False))
    assert d["schema"] == "culprit.diff/1"
    assert d["differences"][0]["kind"] == "module-only-in-bad"
    assert d["differences"][0]["bad"]["pid"] == 5008
    assert d["stats"]["aligned"] == 4
    assert {p["how"] for p in d["processes"]} == {"image+command+parent", "unmatched"}


def test_empty_captures_compare_to_nothing(tmp_path: Path) -> None:
    from culprit.parsers.procmon.writer import PmlWriter

    PmlWriter().write(tmp_path / "a.pml")
    PmlWriter().write(tmp_path / "b.pml")
    r = compare(open_capture(tmp_path / "a.pml"), open_capture(tmp_path / "b.pml"))
    assert r.differences == () and r.processes == ()


def test_damaged_bytes_end_in_warnings_not_exceptions(tmp_path: Path) -> None:
    import random

    g = install_run(tmp_path / "good.pml")
    data = install_run(
        tmp_path / "bad.pml", **OTHER_MACHINE, denied=True, hook_only=True, early_exit=True
    ).read_bytes()
    damaged_seen = 0
    for seed in range(40):
        rnd = random.Random(seed)
        x = bytearray(data)
        for _ in range(rnd.randint(1, 40)):
            x[rnd.randrange(0x3A8, len(x))] = rnd.randrange(256)
        path = tmp_path / f"damaged{seed}.pml"
        path.write_bytes(bytes(x))
        with open_capture(g) as gc, open_capture(path) as bc:
            r = compare(gc, bc)  # must not raise
            damaged_seen += any("damaged event" in w for w in r.warnings)
            assert all(isinstance(d.reading, str) and d.reading_zh for d in r.differences)
    assert damaged_seen  # some seeds hit an event time or detail, and say so


def test_event_times_beyond_year_9999_are_ignored(tmp_path: Path) -> None:
    from culprit.parsers.procmon.writer import PmlWriter

    def run(path: Path, load_time: int | None) -> Path:
        w = PmlWriter()
        p = w.add_process(700, "setup.exe", image_path=r"C:\Temp\setup.exe", command_line="setup.exe /q")
        w.add_event(p, "Process Start", tid=704, time=T0, parent_pid=1, command_line="setup.exe /q")
        w.add_event(
            p,
            "Load Image",
            r"C:\Windows\System32\version.dll",
            tid=704,
            time=load_time,
            image_base=0x10000,
            image_size=0x1000,
        )
        w.add_event(p, "Process Exit", tid=704, time=T0 + timedelta(milliseconds=5), exit_status=0)
        return w.write(path)

    g = run(tmp_path / "good.pml", None)
    b = run(tmp_path / "bad.pml", 0x7FFFFFFFFFFFFF00)  # a damaged FILETIME far beyond year 9999
    with open_capture(g) as gc, open_capture(b) as bc:
        r = compare(gc, bc)
    assert r.differences == ()
    assert [w for w in r.warnings if "damaged" in w] == [
        "bad.pml: 1 damaged event(s) read as empty (first: event 1: OverflowError: date value out of range)"
    ]


def test_exit_status_and_an_extra_child_only_in_bad(tmp_path: Path) -> None:
    r, g, b = _diff(tmp_path, {}, {**OTHER_MACHINE, "ca_status": -1073741819, "crash_child": True})
    assert [d.kind for d in r.differences] == ["exit-differs", "child-only-in-bad"]
    ex, child = r.differences
    assert (ex.process, ex.details["bad_status"], ex.details["good_status"]) == (
        "MSI8F3A.tmp",
        -1073741819,
        0,
    )
    assert ex.reading == (
        "`MSI8F3A.tmp` exits with status -1073741819 (0xC0000005, STATUS_ACCESS_VIOLATION) in the failing "
        "run and with 0 in the good run (after 5.1 s and 5.1 s)."
    )
    assert b.event(ex.bad_events[0]).fields["operation"] == "Process Exit"
    assert g.event(ex.good_events[0]).fields["exit_status"] == 0
    assert (child.process, child.details["child"], child.details["exit_status"]) == (
        "MSI8F3A.tmp",
        "WerFault.exe",
        0,
    )
    assert b.event(child.bad_events[0]).fields["operation"] == "Process Create"
    assert child.reading.startswith(
        "Only in the failing run `MSI8F3A.tmp` starts `WerFault.exe` (`C:\\Windows"
    )
    assert ex.score > child.score


def test_activity_differs_without_an_early_exit(tmp_path: Path) -> None:
    r, _g, _b = _diff(tmp_path, {"queries": 60}, {**OTHER_MACHINE, "queries": 600})
    assert [d.kind for d in r.differences] == ["activity-differs"]
    d = r.differences[0]
    assert (d.process, d.details["bad_events"], d.details["good_events"]) == ("MSI8F3A.tmp", 611, 71)
    assert d.reading == "`MSI8F3A.tmp` has 611 events in the failing run and 71 in the good run."
    # the same counts on both sides are no difference
    r2, _g2, _b2 = _diff(tmp_path, {"queries": 600}, {**OTHER_MACHINE, "queries": 600})
    assert r2.differences == ()
