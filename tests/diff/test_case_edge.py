"""The shared case edge-injected-dll: good/procmon vs bad/procmon, as PML and as CSV export."""

from __future__ import annotations

import pytest

from culprit.diff import compare
from culprit.parsers.procmon import open_capture
from tests.conftest import case_path

SCHK = r"C:\Program Files (x86)\TMS\schk.dll"
VENDOR = "北京瀚海信安科技有限公司"


@pytest.fixture(scope="module")
def pml():
    g = open_capture(case_path("edge-injected-dll", "good", "procmon", "edge_install.PML"))
    b = open_capture(case_path("edge-injected-dll", "bad", "procmon", "edge_install.PML"))
    yield compare(g, b), g, b
    g.close()
    b.close()


def test_top_difference_is_the_foreign_dll_in_the_edge_updater(pml) -> None:
    r, _g, b = pml
    top = r.differences[0]
    assert (top.kind, top.process, top.subject) == ("module-only-in-bad", "MicrosoftEdgeUpdate.exe", SCHK)
    # evidence: the load, the Thread Create that pcit.exe's thread made, the exit; the good run's exit
    assert top.bad_events == (1792, 1791, 1903) and top.good_events == (5982,)
    assert (top.good_pid, top.bad_pid) == (6280, 7140)
    assert b.event(1792).fields["path"] == SCHK
    d = top.details
    assert (d["company"], d["description"], d["product"], d["injected_by"]) == (
        VENDOR,
        "TMS 安全检查模块",
        "TMS",
        "pcit.exe",
    )
    assert d["third_party"] is True and d["loaded_elsewhere_in_good"] is False
    assert d["exit_after_ms"] == pytest.approx(203.056, abs=0.01)
    assert d["load_offset_ms"] == pytest.approx(10.044, abs=0.01)
    # the Windows DLLs schk.dll pulls in on the injected thread (and the good run never loads) come with it,
    # not as differences of their own
    assert d["loaded_with"] == [
        r"C:\Windows\SysWOW64\psapi.dll",
        r"C:\Windows\SysWOW64\ws2_32.dll",
        r"C:\Windows\SysWOW64\nsi.dll",
    ]
    assert not [x for x in r.differences if x.process == "MicrosoftEdgeUpdate.exe" and "psapi" in x.subject]
    assert top.reading == (
        "`schk.dll` (北京瀚海信安科技有限公司, TMS 安全检查模块) loads into `MicrosoftEdgeUpdate.exe` "
        "10 ms after start only in the failing run, on a thread `pcit.exe` created in it; the process exits "
        "203 ms later with status -2147218431 (0x80040C01, "
        "GOOGLEUPDATE_COMMANDLINE_E_NO_SCENARIO_HANDLER_MATCHED); in the good run it runs 39.2 s and starts "
        "`MicrosoftEdgeUpdateComRegisterShell64.exe`, `MicrosoftEdgeUpdate.exe`."
    )
    assert top.reading_zh.startswith(
        "仅在失败的运行中，`schk.dll`（北京瀚海信安科技有限公司，TMS 安全检查模块）被加载到 "
        "`MicrosoftEdgeUpdate.exe`（启动后 10 毫秒）"
    )


def test_followed_by_its_early_exit(pml) -> None:
    r, g, b = pml
    ex = r.differences[1]
    assert (ex.kind, ex.process, ex.bad_events, ex.good_events) == (
        "early-exit",
        "MicrosoftEdgeUpdate.exe",
        (1903,),
        (5982,),
    )
    assert b.event(1903).fields["operation"] == "Process Exit"
    assert g.event(5982).fields["operation"] == "Process Exit"
    assert ex.details["bad_status"] == -2147218431 and ex.details["good_status"] == 0
    assert ex.details["bad_lifetime"] == pytest.approx(0.2131, abs=1e-3)
    assert ex.details["good_lifetime"] == pytest.approx(39.15, abs=0.01)
    assert ex.details["consequence_of"] is None
    # the meta-installer's and msiexec's exits follow it and rank below the DLLs injected into them
    assert [(d.kind, d.process) for d in r.differences[2:6]] == [
        ("module-only-in-bad", "msiexec.exe"),
        ("module-only-in-bad", "MSI8F3A.tmp"),
        ("early-exit", "MSI8F3A.tmp"),
        ("early-exit", "msiexec.exe"),
    ]


def test_children_missing_and_first_divergence(pml) -> None:
    r, _g, b = pml
    missing = [(d.process, d.details["child"], d.details["descendants"]) for d in r.of_kind("child-missing")]
    assert missing == [
        ("MicrosoftEdgeUpdate.exe", "MicrosoftEdgeUpdateComRegisterShell64.exe", 0),
        ("MicrosoftEdgeUpdate.exe", "MicrosoftEdgeUpdate.exe", 2),
    ]
    div = [d for d in r.of_kind("first-divergence") if d.process == "MicrosoftEdgeUpdate.exe"]
    assert len(div) == 1 and div[0].bad_events == (1791,)
    assert b.event(1791).fields["operation"] == "Thread Create"
    assert div[0].details["bad_step"] == "Thread Create from another process (`pcit.exe`)"


def test_processes_align_across_temp_names_and_pids(pml) -> None:
    r, _g, _b = pml
    pairs = {(p.good.pid, p.bad.pid): p.how for p in r.processes if p.good and p.bad}
    assert pairs[(6412, 6852)] == "image+command+parent"  # MSI4C2E.tmp / MSI8F3A.tmp
    assert pairs[(6280, 7140)] == "image+command+parent"  # EU7C31.tmp / EU5A1C.tmp MicrosoftEdgeUpdate.exe
    assert pairs[(5588, 5316)] == pairs[(6096, 7320)] == "image+command+parent"  # msiexec client / server
    unmatched_good = sorted(p.good.name for p in r.processes if p.bad is None)
    assert unmatched_good == [
        "MicrosoftEdgeUpdate.exe",
        "MicrosoftEdgeUpdateComRegisterShell64.exe",
        "MicrosoftEdge_X64_102.0.1245.39.exe",
        "setup.exe",
    ]
    assert all(p.good for p in r.processes)  # every process of the failing run has a counterpart
    assert r.warnings == ()


def test_csv_exports_give_the_same_answer() -> None:
    g = open_capture(case_path("edge-injected-dll", "good", "procmon", "edge_install.CSV"), utc_offset=480)
    b = open_capture(case_path("edge-injected-dll", "bad", "procmon", "edge_install.CSV"), utc_offset=480)
    r = compare(g, b)
    top, ex = r.differences[:2]
    assert (top.kind, top.process, top.subject, top.bad_events) == (
        "module-only-in-bad",
        "MicrosoftEdgeUpdate.exe",
        SCHK,
        (1792, 1791, 1903),
    )
    assert top.details["company"] is None and top.details["product"] == "TMS"  # CSV has no module list
    assert top.reading.startswith(
        f"`schk.dll` ({VENDOR}, TMS) loads into `MicrosoftEdgeUpdate.exe` 10 ms after start"
    )
    assert (ex.kind, ex.bad_events) == ("early-exit", (1903,))


def test_csv_good_against_pml_bad_compares_loads_only() -> None:
    # the CSV export has no module lists and no command lines for processes that ran before the capture:
    # module lists are then left out on both sides, and only children started in the capture count
    g = open_capture(case_path("edge-injected-dll", "good", "procmon", "edge_install.CSV"), utc_offset=480)
    b = open_capture(case_path("edge-injected-dll", "bad", "procmon", "edge_install.PML"))
    r = compare(g, b)
    assert (r.differences[0].kind, r.differences[0].subject) == ("module-only-in-bad", SCHK)
    assert r.differences[1].kind == "early-exit"
    assert not r.of_kind("child-only-in-bad")
    mods = r.of_kind("module-only-in-bad")
    assert {m.subject.rsplit("\\", 1)[-1] for m in mods} == {"schk.dll"}
    assert sorted((m.process, m.bad_pid) for m in mods) == [
        ("MSI8F3A.tmp", 6852),
        ("MicrosoftEdgeUpdate.exe", 7140),
        ("SearchProtocolHost.exe", 7456),
        ("msiexec.exe", 5316),
        ("msiexec.exe", 7320),
    ]
