"""reg query / reg add console output: the real kb4474419 transcript (zh-CN), our samples, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Severity
from culprit.parsers.regquery import RegQueryParser, parse_command
from culprit.textio import Encoding
from tests.conftest import case_path, data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed

AMDK8 = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmdK8"
AMDK8_SHORT = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8"


def test_kb_case_transcript_access_denied() -> None:
    p = case_path("kb4474419-registry-denied", "bad", "system", "reg_AmdK8.txt")
    assert sniffed(p) == "regquery"
    events, ctx = run(RegQueryParser, p, "bad/system/reg_AmdK8.txt")
    assert ctx.warnings == []  # the whoami output after its prompt is skipped, not warned about
    key, value, error = events
    assert (key.kind, key.origin.line, dict(key.fields)) == (
        "reg:key",
        3,
        {"key": AMDK8, "key_abbrev": AMDK8_SHORT},
    )
    assert value.kind == "reg:value" and value.origin.line == 4
    assert dict(value.fields) == {
        "key": AMDK8,
        "key_abbrev": AMDK8_SHORT,
        "name": "Start",
        "type": "REG_DWORD",
        "data": 1,
        "raw": "0x1",
    }
    assert error.kind == "reg:error" and error.severity is Severity.ERROR and error.code == 5
    assert error.origin.line == 8 and error.origin.text == "错误: 拒绝访问。"
    assert dict(error.fields) == {
        "operation": "add",
        "key": AMDK8_SHORT,
        "name": "Start",
        "win32": 5,
        "message": "拒绝访问。",
        "command": "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8 /v Start /t REG_DWORD /d 3 /f",
    }


def test_english_value_types_and_results() -> None:
    p = data_path("parsers", "regquery", "query_en.txt")
    assert sniffed(p) == "regquery"
    events, ctx = run(RegQueryParser, p)
    assert ctx.warnings == []
    values = {e.fields["name"]: e.fields for e in events if e.kind == "reg:value"}
    assert values["Start"]["data"] == 3
    assert values["ImagePath"]["type"] == "REG_EXPAND_SZ"
    assert values["ImagePath"]["data"] == "system32\\DRIVERS\\amdk8.sys"
    assert values["DisplayName"]["data"] == (
        "@%SystemRoot%\\system32\\drivers\\cpu.inf,%amdk8.DeviceDesc%;AMD K8 Processor Driver"
    )
    assert values["DependOnService"]["data"] == ["RpcSs", "FltMgr"]
    assert values["FailureActions"]["data"] == "80510100000000000000000003000000"
    assert dict(values[""]) == {
        "key": AMDK8,
        "key_abbrev": AMDK8_SHORT,
        "name": "",
        "type": "REG_SZ",
        "data": None,
        "raw": "(value not set)",
    }
    keys = [e.fields["key"] for e in events if e.kind == "reg:key"]
    assert keys == [AMDK8, AMDK8 + "\\Enum"]
    results = [
        (e.kind, e.fields["operation"], e.fields["win32"])
        for e in events
        if e.kind in ("reg:error", "reg:ok")
    ]
    assert results == [("reg:error", "query", 2), ("reg:error", "add", 5), ("reg:ok", "add", 0)]


def test_chinese_default_and_end_of_search() -> None:
    events, ctx = run(RegQueryParser, data_path("parsers", "regquery", "query_zh.txt"))
    assert ctx.warnings == []
    assert [(e.kind, e.fields.get("name"), e.fields.get("data")) for e in events] == [
        ("reg:key", None, None),
        ("reg:value", "Start", 1),
        ("reg:value", "", None),
        ("reg:error", "Start", None),
    ]
    assert events[-1].fields["win32"] == 5


def test_parse_command() -> None:
    assert parse_command('reg.exe query "HKLM\\SOFTWARE\\My Key" /ve') == {
        "operation": "query",
        "key": "HKLM\\SOFTWARE\\My Key",
        "name": "",
        "command": 'reg.exe query "HKLM\\SOFTWARE\\My Key" /ve',
    }
    assert parse_command("whoami /groups") is None


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "regquery", "query_en.txt").read_bytes()
    _events, ctx = run(RegQueryParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings


def test_wrong_encoding_warns() -> None:
    p = case_path("kb4474419-registry-denied", "bad", "system", "reg_AmdK8.txt")
    events, ctx = run(RegQueryParser, p, encoding=Encoding("utf-8"))
    assert any("not valid" in w.message for w in ctx.warnings)
    assert [e.kind for e in events] == ["reg:key", "reg:value"]
    # the unreadable error line is not guessed at, it is reported
    assert any(w.line == 8 and w.message == "line is not reg output" for w in ctx.warnings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "HKEY_LOCAL_MACHINE\\SOFTWARE\\X",
                    "    a    REG_DWORD    0xZZ",
                    "    b    REG_MULTI_SZ    \\0\\0",
                    "    c    REG_QWORD",
                    "ERROR: Access is denied.",
                    "C:\\>reg add",
                    "C:\\>reg",
                    "C:\\>",
                    "错误: x",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(RegQueryParser, data)


def test_weak_sniffs_subkeys_only_and_lone_error(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_bytes(b"\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmdK8\\Enum\r\n\r\n")
    assert sniffed(keys) == "regquery"
    err = tmp_path / "err.txt"
    err.write_bytes("错误: 拒绝访问。\r\n".encode("gbk"))
    assert sniffed(err) == "regquery"
    events, _ = run(RegQueryParser, err)
    assert [(e.kind, e.fields["operation"], e.fields["win32"]) for e in events] == [("reg:error", None, 5)]
    prose = tmp_path / "prose.txt"
    prose.write_bytes(b"ERROR: something else entirely\r\n")
    assert sniffed(prose) != "regquery"
