"""sc qc: English and zh-CN samples (config, delayed auto start, multi-line dependencies, errors), damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Severity
from culprit.parsers.scqc import ScQcParser
from culprit.textio import Encoding
from tests.conftest import data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed

AMDK8 = {
    "service": "AmdK8",
    "type": 1,
    "type_name": "KERNEL_DRIVER",
    "start_type": 1,
    "start_type_name": "SYSTEM_START",
    "delayed": False,
    "error_control": 1,
    "error_control_name": "NORMAL",
    "binary_path": "\\SystemRoot\\system32\\DRIVERS\\amdk8.sys",
    "load_order_group": "Extended Base",
    "tag": 0,
    "display_name": "AMD K8 Processor Driver",
    "dependencies": [],
    "service_start_name": "",
}


def test_english_two_services() -> None:
    p = data_path("parsers", "scqc", "qc_en.txt")
    assert sniffed(p) == "scqc"
    events, ctx = run(ScQcParser, p)
    assert ctx.warnings == []
    assert [e.kind for e in events] == ["sc:config", "sc:config"]
    assert dict(events[0].fields) == AMDK8
    assert events[0].origin.line == 3
    wu = dict(events[1].fields)
    assert wu == {
        "service": "wuauserv",
        "type": 0x20,
        "type_name": "WIN32_SHARE_PROCESS",
        "start_type": 2,
        "start_type_name": "AUTO_START",
        "delayed": True,
        "error_control": 1,
        "error_control_name": "NORMAL",
        "binary_path": "C:\\Windows\\system32\\svchost.exe -k netsvcs",
        "load_order_group": "",
        "tag": 0,
        "display_name": "Windows Update",
        "dependencies": ["rpcss", "DcomLaunch"],
        "service_start_name": "LocalSystem",
    }


def test_chinese_success_and_open_service_failure() -> None:
    p = data_path("parsers", "scqc", "qc_zh.txt")
    assert sniffed(p) == "scqc"
    events, ctx = run(ScQcParser, p)
    assert ctx.warnings == []
    cfg, err = events
    assert dict(cfg.fields) == {**AMDK8, "display_name": "AMD K8 处理器驱动程序"}
    assert err.kind == "sc:error" and err.severity is Severity.ERROR and err.code == 1060
    assert dict(err.fields) == {"operation": "OpenService", "win32": 1060, "message": "指定的服务未安装。"}
    assert err.origin.line == 16


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "scqc", "qc_en.txt").read_bytes()
    events, ctx = run(ScQcParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings
    if kind == "truncated":
        assert events and events[0].fields["service"] == "AmdK8"


def test_wrong_encoding_warns() -> None:
    events, ctx = run(ScQcParser, data_path("parsers", "scqc", "qc_zh.txt"), encoding=Encoding("utf-8"))
    assert any("not valid" in w.message for w in ctx.warnings)
    assert events[0].fields["service"] == "AmdK8"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "[SC] QueryServiceConfig SUCCESS",
                    "SERVICE_NAME: x",
                    "        TYPE               : zz  KERNEL",
                    "        START_TYPE         : 2   AUTO_START  (DELAYED)",
                    "                           : dep",
                    "        TAG                : x",
                    "[SC] OpenService FAILED 5:",
                    "[SC] x FAILED",
                    "C:\\>sc qc x",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(ScQcParser, data)


def test_sc_query_state_flags_and_odd_numbers(tmp_path: Path) -> None:
    p = tmp_path / "q.txt"
    p.write_text(
        "SERVICE_NAME: wuauserv\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n"
        "        STATE              : 4  RUNNING\r\n"
        "                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n"
        "        WIN32_EXIT_CODE    : 0  (0x0)\r\n        START_TYPE         : f\r\n"
        "        TAG                : ²\r\n",
        encoding="utf-8",
    )
    assert sniffed(p) == "scqc"
    (e,) = run(ScQcParser, p)[0]
    f = dict(e.fields)
    assert (f["type"], f["state"], f["state_name"]) == (0x20, 4, "RUNNING")
    assert f["state_flags"] == "(STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)"
    assert f["win32_exit_code"] == "0  (0x0)"
    assert (f["start_type"], f["start_type_name"], f["tag"]) == (None, "f", None)
