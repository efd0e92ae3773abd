"""Get-Acl: the real AmdK8 ACL of the kb4474419 case (UTF-16LE), Format-List blocks, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.parsers.getacl import GetAclParser, dotnet_rights, getacl_target
from culprit.textio import Encoding
from tests.conftest import case_path, data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed

AMDK8 = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8"
SDDL = (
    "O:BAG:SYD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)(A;ID;KA;;;SY)"
    "(A;CIIOID;GA;;;SY)(A;CIIOID;GA;;;CO)"
)
TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"


def test_kb_case_amdk8_acl_line_2() -> None:
    p = case_path("kb4474419-registry-denied", "bad", "system", "AmdK8_acl.txt")
    assert sniffed(p) == "getacl"
    events, ctx = run(GetAclParser, p, "bad/system/AmdK8_acl.txt")
    assert ctx.warnings == []
    obj = events[0]
    assert obj.kind == "acl:object" and obj.origin.line == 2 and obj.origin.text == SDDL
    assert obj.origin.artifact == "bad/system/AmdK8_acl.txt"
    assert dict(obj.fields) == {
        "object": AMDK8,
        "object_type": "registry",
        "owner": "BUILTIN\\Administrators",
        "owner_sid": "S-1-5-32-544",
        "group": "NT AUTHORITY\\SYSTEM",
        "group_sid": "S-1-5-18",
        "sddl": SDDL,
        "dacl_flags": ["AI"],
        "protected": False,
        "ace_count": 7,
        "grants_write_to": ["BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM"],
        "full_control_to": ["BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM"],
        "denies_write_to": [],
        "repeat_of": None,
    }
    aces = [e for e in events if e.kind == "acl:ace"]
    assert len(aces) == 7 and all(a.origin.line == 2 for a in aces)
    assert dict(aces[2].fields) == {
        "object": AMDK8,
        "object_type": "registry",
        "index": 2,
        "principal": "BUILTIN\\Administrators",
        "sid": "S-1-5-32-544",
        "ace_type": "allow",
        "rights": ["KEY_ALL_ACCESS"],
        "mask": 0xF003F,
        "inherited": True,
        "inherit_only": False,
        "flags": ["ID"],
    }
    assert [a.fields["principal"] for a in aces] == [
        "BUILTIN\\Users",
        "BUILTIN\\Users",
        "BUILTIN\\Administrators",
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\SYSTEM",
        "NT AUTHORITY\\SYSTEM",
        "CREATOR OWNER",
    ]
    assert aces[0].fields["rights"] == ["KEY_READ"]
    # the Format-List block repeats the same object + SDDL: one more acl:object, pointing back, no ACE repeats
    again = events[-1]
    assert again.kind == "acl:object" and len(events) == 9
    assert again.fields["repeat_of"] == 2 and again.fields["object"] == AMDK8 and again.origin.line == 17


def test_file_format_list_wrapped_sddl_and_deny() -> None:
    p = data_path("parsers", "getacl", "file_fl_en.txt")
    events, ctx = run(GetAclParser, p)
    assert ctx.warnings == []
    obj = events[0]
    assert obj.fields["object"] == "C:\\Windows\\System32\\drivers\\amdk8.sys"
    assert obj.fields["object_type"] == "file"
    assert obj.fields["owner"] == "NT SERVICE\\TrustedInstaller" and obj.fields["owner_sid"] == TI
    assert obj.fields["sddl"].endswith("(D;;0x116;;;WD)")  # continuation lines joined
    assert obj.fields["protected"] is True
    assert obj.fields["grants_write_to"] == ["NT SERVICE\\TrustedInstaller"]
    assert obj.fields["denies_write_to"] == ["Everyone"]
    deny = events[-1].fields
    assert (deny["ace_type"], deny["principal"], deny["rights"]) == (
        "deny",
        "Everyone",
        ["FILE_WRITE_DATA", "FILE_APPEND_DATA", "FILE_WRITE_EA", "FILE_WRITE_ATTRIBUTES"],
    )


def test_registry_block_without_sddl_zh_names() -> None:
    events, ctx = run(GetAclParser, data_path("parsers", "getacl", "key_noddl_zh.txt"))
    assert ctx.warnings == []
    obj = events[0].fields
    assert (obj["object"], obj["object_type"], obj["sddl"]) == ("HKLM\\SOFTWARE\\Agent", "registry", None)
    assert obj["grants_write_to"] == ["NT AUTHORITY\\SYSTEM"] and obj["denies_write_to"] == ["所有人"]
    deny = events[-1].fields
    assert (deny["principal"], deny["sid"], deny["ace_type"], deny["rights"]) == (
        "所有人",
        "S-1-1-0",
        "deny",
        ["KEY_SET_VALUE"],
    )


def test_helpers() -> None:
    assert getacl_target("(Get-Acl HKLM:\\SYSTEM\\X).Sddl") == "HKLM:\\SYSTEM\\X"
    assert getacl_target('Get-Acl -Path "C:\\a b\\c" | fl') == "C:\\a b\\c"
    assert getacl_target("dir") is None
    assert dotnet_rights("-2147483648", "registry") == 0x80000000
    assert dotnet_rights("ReadAndExecute, Synchronize", "file") == 0x1200A9
    assert dotnet_rights("Bogus", "file") is None


def test_bare_sddl_and_bad_sddl(tmp_path: Path) -> None:
    p = tmp_path / "sd.txt"
    p.write_text("D:P(A;;KA;;;SY)(A;;KR;;;BU)\r\nD:(A;;KA;;;ZZ)\r\n", encoding="utf-8")
    events, ctx = run(GetAclParser, p)
    assert events[0].fields["object"] == "(unknown object)" and events[0].fields["object_type"] == "registry"
    assert events[0].fields["grants_write_to"] == ["NT AUTHORITY\\SYSTEM"]
    assert [w.line for w in ctx.warnings] == [2] and "SDDL not understood" in ctx.warnings[0].message


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = case_path("kb4474419-registry-denied", "bad", "system", "AmdK8_acl.txt").read_bytes()
    _events, ctx = run(GetAclParser, damaged_variants(sample, tmp_path)[kind])
    assert ctx.warnings


def test_damaged_own_sample_utf8(tmp_path: Path) -> None:
    sample = data_path("parsers", "getacl", "file_fl_en.txt").read_bytes().decode("utf-16").encode("utf-8")
    for kind, p in damaged_variants(sample, tmp_path).items():
        _events, ctx = run(GetAclParser, p)
        assert ctx.warnings, kind


def test_wrong_encoding_warns() -> None:
    p = case_path("kb4474419-registry-denied", "bad", "system", "AmdK8_acl.txt")
    _events, ctx = run(GetAclParser, p, encoding=Encoding("utf-8"))
    assert ctx.warnings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "PS C:\\> (Get-Acl HKLM:\\X).Sddl",
                    SDDL,
                    "O:BA",
                    "D:(A;;KA;;;SY",
                    "Path   : x",
                    "Access : a Allow  Bogus",
                    "         b Deny  1",
                    "Sddl   : O:ZZ",
                    "           (A;;KA;;;SY)",
                    "Owner  :",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-16-le")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(GetAclParser, data)


def test_table_form_is_one_warning(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text(
        "PS C:\\> Get-Acl HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmdK8\r\n\r\n\r\n"
        "    Directory: Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SYSTEM\\"
        "CurrentControlSet\\Services\r\n"
        "\r\n\r\nPath                 Owner                  Access\r\n"
        "----                 -----                  ------\r\n"
        "AmdK8                BUILTIN\\Administrators BUILTIN\\Users Allow  ReadKey...\r\n\r\n",
        encoding="utf-16",
    )
    assert sniffed(p) == "getacl"
    events, ctx = run(GetAclParser, p)
    assert events == []
    assert [w.line for w in ctx.warnings] == [7]
    assert "Sddl" in ctx.warnings[0].message


def test_sc_sdshow_service_descriptor(tmp_path: Path) -> None:
    p = tmp_path / "sd.txt"
    p.write_bytes(
        b"C:\\Windows\\system32>sc sdshow AmdK8\r\n\r\n"
        b"D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCLCSWLOCRRC;;;IU)"
        b"S:(AU;FA;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)\r\n\r\n"
    )
    assert sniffed(p) == "getacl"
    events, ctx = run(GetAclParser, p)
    assert ctx.warnings == []
    obj = events[0].fields
    assert (obj["object"], obj["object_type"], obj["owner"]) == ("AmdK8", "service", None)
    assert obj["grants_write_to"] == ["BUILTIN\\Administrators"]  # SERVICE_CHANGE_CONFIG (DC) or WRITE_DAC
    assert events[2].fields["rights"] == ["SERVICE_ALL_ACCESS"]
    assert events[1].fields["rights"] == [
        "SERVICE_QUERY_CONFIG", "SERVICE_QUERY_STATUS", "SERVICE_ENUMERATE_DEPENDENTS", "SERVICE_START",
        "SERVICE_STOP", "SERVICE_PAUSE_CONTINUE", "SERVICE_INTERROGATE", "SERVICE_USER_DEFINED_CONTROL",
        "READ_CONTROL",
    ]  # fmt: skip
