"""icacls: display output (English, zh-CN GBK, paths and principals with blanks), /save files, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Severity
from culprit.parsers.icacls import IcaclsParser, parse_perms, split_first
from culprit.textio import Encoding
from tests.conftest import data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed

TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
AMDK8 = "C:\\Windows\\System32\\drivers\\amdk8.sys"


def test_english_display() -> None:
    p = data_path("parsers", "icacls", "display_en.txt")
    assert sniffed(p) == "icacls"
    events, ctx = run(IcaclsParser, p)
    assert ctx.warnings == []
    assert [e.kind for e in events] == ["acl:object"] + ["acl:ace"] * 5 + ["acl:summary", "acl:object"] + [
        "acl:ace"
    ] * 3 + ["acl:summary", "acl:error", "acl:summary"]
    obj = events[0]
    assert obj.origin.line == 2
    assert dict(obj.fields) == {
        "object": AMDK8,
        "object_type": "file",
        "owner": None,
        "owner_sid": None,
        "group": None,
        "group_sid": None,
        "sddl": None,
        "dacl_flags": [],
        "protected": False,
        "ace_count": 5,
        "grants_write_to": ["NT SERVICE\\TrustedInstaller"],
        "full_control_to": ["NT SERVICE\\TrustedInstaller"],
        "denies_write_to": [],
        "repeat_of": None,
    }
    assert dict(events[1].fields) == {
        "object": AMDK8,
        "object_type": "file",
        "index": 0,
        "principal": "NT SERVICE\\TrustedInstaller",
        "sid": TI,
        "ace_type": "allow",
        "rights": ["FILE_ALL_ACCESS"],
        "mask": 0x1F01FF,
        "inherited": False,
        "inherit_only": False,
        "flags": [],
        "rights_text": "(F)",
    }
    assert events[5].fields["principal"] == "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"
    assert events[5].fields["sid"] == "S-1-15-2-1"
    agent = events[7].fields
    assert agent["object"] == "C:\\Program Files\\Agent Data"
    assert agent["denies_write_to"] == ["CONTOSO\\svc agent"]
    assert agent["grants_write_to"] == ["NT AUTHORITY\\SYSTEM"]
    deny = events[8].fields
    assert (deny["principal"], deny["sid"], deny["ace_type"], deny["flags"], deny["mask"]) == (
        "CONTOSO\\svc agent",
        None,
        "deny",
        ["OI", "CI"],
        0x140116,
    )
    users = events[10].fields
    assert (users["inherited"], users["flags"], users["rights"]) == (
        True,
        ["ID", "OI", "CI"],
        ["FILE_GENERIC_READ", "FILE_GENERIC_EXECUTE"],
    )
    err = events[12]
    assert err.severity is Severity.ERROR and err.code == 5
    assert dict(err.fields) == {
        "object": "C:\\secret",
        "object_type": "file",
        "win32": 5,
        "message": "Access is denied.",
    }
    assert dict(events[13].fields) == {"processed": 0, "failed": 1}


def test_chinese_display_gbk() -> None:
    p = data_path("parsers", "icacls", "display_zh.txt")
    assert sniffed(p) == "icacls"
    events, ctx = run(IcaclsParser, p)
    assert ctx.warnings == []
    assert events[0].fields["object"] == "C:\\测试目录"
    assert events[0].fields["grants_write_to"] == ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators"]
    assert dict(events[-1].fields) == {"processed": 1, "failed": 0}


def test_save_file_utf16() -> None:
    p = data_path("parsers", "icacls", "save.txt")
    assert sniffed(p) == "icacls"
    events, ctx = run(IcaclsParser, p)
    assert ctx.warnings == []
    obj = events[0].fields
    assert (obj["object"], obj["protected"], obj["grants_write_to"]) == (
        "amdk8.sys",
        True,
        ["NT SERVICE\\TrustedInstaller"],
    )
    assert obj["sddl"].startswith("D:PAI(A;;FA;;;S-1-5-80-")
    assert [e.fields["principal"] for e in events[1:]] == [
        "NT SERVICE\\TrustedInstaller",
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\SYSTEM",
        "BUILTIN\\Users",
    ]


def test_perms_and_split() -> None:
    assert parse_perms("(OI)(CI)(IO)(GR,GE)") == ("allow", ("OI", "CI", "IO"), 0xA0000000)
    assert parse_perms("(DENY)(W)") == ("deny", (), 0x100116)
    assert parse_perms("(RX,W)") == ("allow", (), 0x1200A9 | 0x100116)
    assert parse_perms("(Q)") is None
    assert split_first("C:\\a b\\c.txt BUILTIN\\Users", None) == ("C:\\a b\\c.txt", "BUILTIN\\Users")
    assert split_first("C:\\x Everyone", None) == ("C:\\x", "Everyone")
    assert split_first("C:\\测试 X\\y z", 6) == ("C:\\测试", "X\\y z")  # indent counted in characters
    assert split_first("C:\\测试 X\\y z", 8) == ("C:\\测试", "X\\y z")  # or in screen columns


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "icacls", "display_en.txt").read_bytes()
    _events, ctx = run(IcaclsParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings


def test_wrong_encoding_warns() -> None:
    events, ctx = run(
        IcaclsParser, data_path("parsers", "icacls", "display_zh.txt"), encoding=Encoding("utf-8")
    )
    assert any("not valid" in w.message for w in ctx.warnings)
    assert [e.fields.get("principal") for e in events if e.kind == "acl:ace"] == [
        "NT AUTHORITY\\SYSTEM",
        "BUILTIN\\Administrators",
        "BUILTIN\\Users",
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "C:\\x BUILTIN\\Users:(F)",
                    "     Everyone:(DENY)(W)",
                    "  a:(Q)",
                    "C:\\y: Access is denied.",
                    "Successfully processed 1 files; Failed processing 0 files",
                    "x.sys",
                    "D:(A;;FA;;;SY)",
                    "D:(A;;FA;;;QQ)",
                    ":(F)",
                    " :(F)",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(IcaclsParser, data)


def test_integrity_label_ace(tmp_path: Path) -> None:
    p = tmp_path / "l.txt"
    p.write_text(
        "C:\\ProgramData\\Agent NT AUTHORITY\\SYSTEM:(OI)(CI)(F)\r\n"
        "                     Mandatory Label\\High Mandatory Level:(OI)(NP)(IO)(NW)\r\n\r\n"
        "Successfully processed 1 files; Failed processing 0 files\r\n",
        encoding="utf-8",
    )
    events, ctx = run(IcaclsParser, p)
    assert ctx.warnings == []
    label = events[2].fields
    assert (label["ace_type"], label["sid"], label["rights"], label["flags"]) == (
        "label",
        "S-1-16-12288",
        ["NO_WRITE_UP"],
        ["OI", "NP", "IO"],
    )
    assert events[0].fields["grants_write_to"] == ["NT AUTHORITY\\SYSTEM"]
