""".reg exports: Version 5.00 (UTF-16LE) and REGEDIT4 (ANSI/GBK) samples, continuation, deletes, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.parsers.regfile import RegFileParser, decode_blob
from tests.conftest import data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed

KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmdK8"
SHORT = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8"


def test_version5_utf16() -> None:
    p = data_path("parsers", "regfile", "export_v5.reg")
    assert sniffed(p) == "regfile"
    events, ctx = run(RegFileParser, p)
    assert ctx.warnings == []
    assert dict(events[0].fields) == {"key": KEY, "key_abbrev": SHORT, "deleted": False}
    values = {e.fields["name"]: e for e in events if e.kind == "reg:value"}
    assert dict(values["Start"].fields) == {
        "key": KEY,
        "key_abbrev": SHORT,
        "name": "Start",
        "type": "REG_DWORD",
        "data": 3,
        "raw": "dword:00000003",
        "deleted": False,
    }
    img = values["ImagePath"]
    assert img.origin.line == 6  # first line of the continued value
    assert img.fields["type"] == "REG_EXPAND_SZ" and img.fields["data"] == "system32\\DRIVERS\\amdk8.sys"
    assert img.fields["raw"].startswith("hex(2):73,00,79,00") and "\\" not in img.fields["raw"][-10:]
    assert values["DisplayName"].fields["data"] == 'AMD K8 "Processor" Driver \\ 处理器'
    assert values["DependOnService"].fields["data"] == ["RpcSs", "FltMgr"]
    assert values["Quota"].fields["type"] == "REG_QWORD" and values["Quota"].fields["data"] == 1 << 32
    assert values["Blob"].fields["type"] == "REG_BINARY" and values["Blob"].fields["data"] == "DEADBEEF"
    assert values[""].fields["data"] == "default"
    gone = values["Gone"].fields
    assert (gone["deleted"], gone["type"], gone["data"]) == (True, None, None)
    last = events[-1]
    assert last.kind == "reg:key" and dict(last.fields) == {
        "key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Obsolete",
        "key_abbrev": "HKLM\\SOFTWARE\\Obsolete",
        "deleted": True,
    }


def test_regedit4_gbk() -> None:
    p = data_path("parsers", "regfile", "export_v4.reg")
    assert sniffed(p) == "regfile"
    events, ctx = run(RegFileParser, p)
    assert ctx.warnings == []
    v = {e.fields["name"]: e.fields["data"] for e in events if e.kind == "reg:value"}
    assert v == {
        "AppInit_DLLs": "C:\\PROGRA~1\\TMS\\x64\\schk.dll",
        "LoadAppInit_DLLs": 1,
        "Note": "%SystemRoot%",
    }
    assert events[0].fields["key_abbrev"] == "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows"


def test_decode_blob() -> None:
    assert decode_blob(4, b"\x03\x00\x00\x00") == 3
    assert decode_blob(5, b"\x00\x00\x00\x03") == 3
    assert decode_blob(7, "a\x00b\x00\x00".encode("utf-16-le")) == ["a", "b"]
    assert decode_blob(0, b"\x01\x02") == "0102"
    assert decode_blob(2, "处理器".encode("gbk") + b"\x00", v4=True, ansi="gbk") == "处理器"


def test_bad_values_warn(tmp_path: Path) -> None:
    p = tmp_path / "bad.reg"
    p.write_bytes(
        'REGEDIT4\r\n"Orphan"=dword:1\r\n[HKEY_CURRENT_USER\\X]\r\n"a"=hex:zz,01\r\n"b"="unterminated\r\n'
        '"c"=dword:123456789\r\njunk line\r\n"d"=hex:01,\\\r\n'.encode("ascii")
    )
    events, ctx = run(RegFileParser, p)
    assert [e.kind for e in events] == ["reg:key", "reg:value"]
    assert events[1].fields["name"] == "d" and events[1].fields["data"] == "01"
    assert [w.line for w in ctx.warnings] == [2, 4, 5, 6, 7, 8]
    assert ctx.warnings[-1].message == "file ends inside a continued value"


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "regfile", "export_v4.reg").read_bytes()
    _events, ctx = run(RegFileParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings


def test_huge_continued_value_is_cut(tmp_path: Path) -> None:
    line = ("00," * 30 + "\\\r\n  ").encode()
    p = tmp_path / "big.reg"
    p.write_bytes(b'REGEDIT4\r\n[HKEY_CURRENT_USER\\X]\r\n"big"=hex:' + line * 100_000 + b"01\r\n")
    _events, ctx = run(RegFileParser, p)
    assert any("cut" in w.message for w in ctx.warnings)


def test_wrong_encoding_warns() -> None:
    from culprit.textio import Encoding

    _events, ctx = run(
        RegFileParser, data_path("parsers", "regfile", "export_v4.reg"), encoding=Encoding("utf-16-le")
    )
    assert ctx.warnings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "Windows Registry Editor Version 5.00",
                    "REGEDIT4",
                    "[HKEY_CURRENT_USER\\X]",
                    "[-]",
                    "[]",
                    '"a"=hex(7):41,00,\\',
                    "  00,00",
                    '"b"=hex(b):01',
                    "@=-",
                    '"c"=dword:',
                    '"d"="x\\"',
                    '"e"=hex(zz):00',
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(RegFileParser, data)
