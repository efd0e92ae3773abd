"""tasklist /m: real zh-CN case files (wrapped module lists), our English/Chinese/CSV samples, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Process
from culprit.parsers.tasklist import TasklistParser
from culprit.textio import Encoding
from tests.conftest import case_path, data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed


def test_edge_case_explorer_with_schk() -> None:
    p = case_path("edge-injected-dll", "bad", "system", "tasklist_m.txt")
    assert sniffed(p) == "tasklist"
    events, ctx = run(TasklistParser, p, "bad/system/tasklist_m.txt")
    assert ctx.warnings == []
    assert len(events) == 52
    assert {e.kind for e in events} == {"tasklist:process"}
    idle = events[0]
    assert dict(idle.fields) == {
        "image": "System Idle Process",
        "pid": 0,
        "modules_available": False,
        "modules": [],
        "module_lines": [],
    }
    (ex,) = [e for e in events if e.fields["image"] == "explorer.exe"]
    assert ex.origin.line == 163
    assert ex.process == Process(name="explorer.exe", pid=3908)
    mods = ex.fields["modules"]
    assert mods[:10] == [
        "ntdll.dll",
        "KERNEL32.DLL",
        "KERNELBASE.dll",
        "msvcrt.dll",
        "sechost.dll",
        "RPCRT4.dll",
        "ADVAPI32.dll",
        "ucrtbase.dll",
        "combase.dll",
        "schk.dll",
    ]
    assert ex.fields["module_lines"][mods.index("schk.dll")] == 164  # the line expected.json cites
    assert len(ex.fields["module_lines"]) == len(mods)
    assert all(e.fields["pid"] >= 0 for e in events)


def test_english_table_wrapped() -> None:
    p = data_path("parsers", "tasklist", "m_en.txt")
    assert sniffed(p) == "tasklist"
    events, ctx = run(TasklistParser, p)
    assert ctx.warnings == []
    assert [dict(e.fields) for e in events] == [
        {
            "image": "System Idle Process",
            "pid": 0,
            "modules_available": False,
            "modules": [],
            "module_lines": [],
        },
        {
            "image": "lsass.exe",
            "pid": 676,
            "modules_available": True,
            "modules": [
                "ntdll.dll",
                "KERNEL32.DLL",
                "KERNELBASE.dll",
                "RPCRT4.dll",
                "schk.dll",
                "ADVAPI32.dll",
            ],
            "module_lines": [5, 5, 5, 6, 6, 6],
        },
        {
            "image": "MicrosoftEdgeUpdate.exe",
            "pid": 5432,
            "modules_available": True,
            "modules": ["ntdll.dll", "wow64.dll", "wow64win.dll", "wow64cpu.dll"],
            "module_lines": [7, 7, 7, 8],
        },
    ]
    assert [e.origin.line for e in events] == [4, 5, 7]


def test_csv_form() -> None:
    p = data_path("parsers", "tasklist", "m_en.csv")
    assert sniffed(p) == "tasklist"
    events, ctx = run(TasklistParser, p)
    assert ctx.warnings == []
    assert dict(events[1].fields) == {
        "image": "explorer.exe",
        "pid": 3908,
        "modules_available": True,
        "modules": ["ntdll.dll", "KERNEL32.DLL", "schk.dll"],
        "module_lines": [3, 3, 3],
    }
    assert events[0].fields["modules"] == [] and events[0].fields["modules_available"] is False


def test_chinese_sample_and_no_match_message() -> None:
    events, ctx = run(TasklistParser, data_path("parsers", "tasklist", "m_zh.txt"))
    assert ctx.warnings == []
    assert [(e.fields["image"], e.fields["modules"]) for e in events] == [
        ("System", []),
        ("explorer.exe", ["ntdll.dll", "KERNEL32.DLL", "KERNELBASE.dll", "schk.dll"]),
    ]
    events, ctx = run(TasklistParser, data_path("parsers", "tasklist", "none_zh.txt"))
    assert [(e.kind, e.message) for e in events] == [("tasklist:none", "没有运行的任务匹配指定标准。")]


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "tasklist", "m_en.txt").read_bytes()
    events, ctx = run(TasklistParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings
    if kind == "huge_line":
        assert any(e.fields["image"] == "lsass.exe" for e in events)


def test_wrong_encoding_warns() -> None:
    events, ctx = run(
        TasklistParser, data_path("parsers", "tasklist", "m_zh.txt"), encoding=Encoding("utf-8")
    )
    assert any("not valid" in w.message for w in ctx.warnings)
    assert [e.fields["pid"] for e in events] == [4, 3908]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "Image Name                     PID Modules",
                    "========================= ======== =======",
                    "x.exe                          12 a.dll,",
                    "                                   b.dll",
                    '"x","1","a,b"',
                    '"Image Name","PID"',
                    "INFO: none",
                    "=",
                    "== ==",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(TasklistParser, data)
