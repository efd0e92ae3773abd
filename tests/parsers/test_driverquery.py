"""driverquery /v /fo csv (real zh-CN case files, our English/Chinese samples), table form, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.parsers.driverquery import DriverqueryParser
from culprit.textio import Encoding
from tests.conftest import case_path, data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed


def test_edge_case_krnlmgr_line_107() -> None:
    p = case_path("edge-injected-dll", "bad", "system", "driverquery.csv")
    assert sniffed(p) == "driverquery"
    events, ctx = run(DriverqueryParser, p, "bad/system/driverquery.csv")
    assert ctx.warnings == []
    assert len(events) == 174
    (k,) = [e for e in events if e.fields["module"] == "krnlmgr"]
    assert k.kind == "driverquery:driver"
    assert k.origin.line == 107
    assert dict(k.fields) == {
        "module": "krnlmgr",
        "display_name": "TMS 内核管理",
        "description": "TMS 终端管理系统内核管理驱动",
        "driver_type": "Kernel",
        "start_mode": "Boot",
        "state": "Running",
        "status": "OK",
        "accept_stop": False,
        "accept_pause": False,
        "paged_pool": 118784,
        "code_bytes": 536576,
        "bss": 0,
        "link_date": "2021/11/23 15:08:41",
        "path": "C:\\Windows\\system32\\drivers\\krnlmgr.sys",
        "init_bytes": 12288,
        "localized": {"driver_type": "内核", "start_mode": "引导", "state": "正在运行", "status": "正常"},
    }
    assert k.origin.text.startswith('"krnlmgr","TMS 内核管理"')


def test_kb_case_amdk8_and_krnlmgr_line_70() -> None:
    events, ctx = run(
        DriverqueryParser, case_path("kb4474419-registry-denied", "bad", "system", "driverquery.csv")
    )
    assert ctx.warnings == []
    by = {e.fields["module"]: e for e in events}
    assert by["krnlmgr"].origin.line == 70
    amd = by["AmdK8"].fields
    assert (amd["start_mode"], amd["state"], amd["accept_stop"], amd["path"]) == (
        "System",
        "Running",
        True,
        "C:\\Windows\\system32\\drivers\\amdk8.sys",
    )


def test_english_verbose_csv() -> None:
    p = data_path("parsers", "driverquery", "verbose_en.csv")
    assert sniffed(p) == "driverquery"
    events, ctx = run(DriverqueryParser, p)
    assert ctx.warnings == []
    assert dict(events[1].fields) == {
        "module": "tmsfsflt",
        "display_name": "TMS File Audit",
        "description": "TMS endpoint file audit filter",
        "driver_type": "File System",
        "start_mode": "Boot",
        "state": "Running",
        "status": "OK",
        "accept_stop": False,
        "accept_pause": False,
        "paged_pool": 131072,
        "code_bytes": 40960,
        "bss": 0,
        "link_date": "11/23/2021 3:09:02 PM",
        "path": "C:\\Windows\\system32\\drivers\\tmsfsflt.sys",
        "init_bytes": 8192,
    }
    assert "localized" not in events[0].fields
    assert events[0].origin.line == 2


def test_chinese_verbose_csv_disabled_file_system() -> None:
    events, ctx = run(DriverqueryParser, data_path("parsers", "driverquery", "verbose_zh.csv"))
    assert ctx.warnings == []
    cdfs = events[1].fields
    assert (cdfs["module"], cdfs["driver_type"], cdfs["start_mode"], cdfs["state"]) == (
        "cdfs",
        "File System",
        "Disabled",
        "Stopped",
    )
    assert cdfs["display_name"] == "CD/DVD 文件系统读取器"


def test_table_form() -> None:
    p = data_path("parsers", "driverquery", "table_en.txt")
    assert sniffed(p) == "driverquery"
    events, ctx = run(DriverqueryParser, p)
    assert ctx.warnings == []
    assert [dict(e.fields) for e in events][1:] == [
        {
            "module": "AmdK8",
            "display_name": "AMD K8 Processor Drive",
            "driver_type": "Kernel",
            "link_date": "7/14/2009 7:19:25 AM",
        },
        {
            "module": "tmsfsflt",
            "display_name": "TMS File Audit",
            "driver_type": "File System",
            "link_date": "11/23/2021 3:09:02 PM",
        },
    ]
    assert events[1].origin.line == 5


def test_no_header_csv(tmp_path: Path) -> None:
    lines = data_path("parsers", "driverquery", "verbose_en.csv").read_bytes().split(b"\r\n")[1:]
    p = tmp_path / "nh.csv"
    p.write_bytes(b"\r\n".join(lines))
    assert sniffed(p) == "driverquery"
    events, _ctx = run(DriverqueryParser, p)
    assert [e.fields["module"] for e in events] == ["AmdK8", "tmsfsflt"]


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "driverquery", "verbose_en.csv").read_bytes()
    _events, ctx = run(DriverqueryParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings
    if kind == "truncated":
        assert ctx.warnings[0].line == 2


def test_wrong_encoding_warns() -> None:
    events, ctx = run(
        DriverqueryParser, data_path("parsers", "driverquery", "verbose_zh.csv"), encoding=Encoding("utf-8")
    )
    assert any("not valid" in w.message for w in ctx.warnings)
    assert [e.fields["module"] for e in events] == ["AmdK8", "cdfs"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    '"Module Name","Display Name","Driver Type","Link Date"',
                    '"a","b","c","d"',
                    '"a","b',
                    '""',
                    '"',
                    "Module Name  Display Name",
                    "============ ======",
                    "x           y",
                    ",,,,,,,,,,,,,,",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(DriverqueryParser, data)


def test_signed_form(tmp_path: Path) -> None:
    p = tmp_path / "si.csv"
    p.write_bytes(
        b'"DeviceName","InfName","IsSigned","Manufacturer"\r\n'
        b'"AMD K8 Processor","cpu.inf","TRUE","Advanced Micro Devices"\r\n'
        b'"TMS Audit","oem12.inf","FALSE","TMS"\r\n'
    )
    assert sniffed(p) == "driverquery"
    events, ctx = run(DriverqueryParser, p)
    assert ctx.warnings == []
    assert [(e.kind, dict(e.fields)) for e in events] == [
        (
            "driverquery:signed",
            {
                "device_name": "AMD K8 Processor",
                "inf": "cpu.inf",
                "signed": True,
                "manufacturer": "Advanced Micro Devices",
            },
        ),
        (
            "driverquery:signed",
            {"device_name": "TMS Audit", "inf": "oem12.inf", "signed": False, "manufacturer": "TMS"},
        ),
    ]
