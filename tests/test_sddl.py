"""SDDL decoding, well-known SIDs, access-mask names and the write/full-control summary."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from culprit import sddl

AMDK8 = (
    "O:BAG:SYD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)"
    "(A;ID;KA;;;SY)(A;CIIOID;GA;;;SY)(A;CIIOID;GA;;;CO)"
)


def test_amdk8_descriptor_from_the_kb4474419_case() -> None:
    sd = sddl.parse_sddl(AMDK8)
    assert sd.owner == "S-1-5-32-544" and sd.group == "S-1-5-18"
    assert sd.dacl_flags == ("AI",)
    assert sd.dacl is not None and len(sd.dacl) == 7
    first = sd.dacl[0]
    assert first == sddl.Ace("allow", "A", ("ID",), 0x20019, "S-1-5-32-545", "BU")
    assert first.principal == "BUILTIN\\Users" and first.inherited and not first.inherit_only
    co = sd.dacl[6]
    assert co.sid == "S-1-3-0" and co.principal == "CREATOR OWNER" and co.inherit_only
    assert co.mask == sddl.GENERIC_ALL
    s = sddl.summarize(sd.dacl, "registry")
    assert s.grants_write_to == ["BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM"]
    assert s.full_control_to == ["BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM"]
    assert s.denies_write_to == []


@pytest.mark.parametrize(
    ("alias", "sid", "name"),
    [
        ("SY", "S-1-5-18", "NT AUTHORITY\\SYSTEM"),
        ("BA", "S-1-5-32-544", "BUILTIN\\Administrators"),
        ("BU", "S-1-5-32-545", "BUILTIN\\Users"),
        ("CO", "S-1-3-0", "CREATOR OWNER"),
        ("WD", "S-1-1-0", "Everyone"),
        ("AU", "S-1-5-11", "NT AUTHORITY\\Authenticated Users"),
        ("AC", "S-1-15-2-1", "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"),
        ("TI", sddl.TRUSTED_INSTALLER_SID, "NT SERVICE\\TrustedInstaller"),
    ],
)
def test_well_known_sids(alias: str, sid: str, name: str) -> None:
    assert sddl.sid_of(alias) == sid
    assert sddl.sid_name(sid) == name
    assert sddl.sid_for_name(name) == sid


def test_trusted_installer_sid_value() -> None:
    assert sddl.TRUSTED_INSTALLER_SID == "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
    assert sddl.sid_for_name("所有人") == "S-1-1-0"


@pytest.mark.parametrize(
    ("mask", "otype", "names"),
    [
        (0xF003F, "registry", ["KEY_ALL_ACCESS"]),
        (0x20019, "registry", ["KEY_READ"]),
        (0x20006, "registry", ["KEY_WRITE"]),
        (0x2, "registry", ["KEY_SET_VALUE"]),
        (0x10002, "registry", ["KEY_SET_VALUE", "DELETE"]),
        (0x10000000, "registry", ["GENERIC_ALL"]),
        (0x1F01FF, "file", ["FILE_ALL_ACCESS"]),
        (0x1200A9, "file", ["FILE_GENERIC_READ", "FILE_GENERIC_EXECUTE"]),
        (0x1301BF, "file", ["FILE_GENERIC_READ", "FILE_GENERIC_WRITE", "FILE_GENERIC_EXECUTE", "DELETE"]),
        (0x116, "file", ["FILE_WRITE_DATA", "FILE_APPEND_DATA", "FILE_WRITE_EA", "FILE_WRITE_ATTRIBUTES"]),
        (0x40000000 | 0x8000, "file", ["GENERIC_WRITE", "0x8000"]),
    ],
)
def test_rights_names(mask: int, otype: str, names: list[str]) -> None:
    assert sddl.rights_names(mask, otype) == names


def test_generic_mapping_and_write() -> None:
    assert sddl.map_generic(sddl.GENERIC_ALL, "registry") == sddl.KEY_ALL_ACCESS
    assert sddl.map_generic(sddl.GENERIC_READ, "file") == sddl.FILE_GENERIC_READ
    assert sddl.can_write(sddl.GENERIC_WRITE, "registry")
    assert not sddl.can_write(sddl.KEY_READ, "registry")
    assert sddl.can_write(0x40000, "registry")  # WRITE_DAC: can grant itself the right
    assert sddl.is_full_control(sddl.GENERIC_ALL, "file")


def test_deny_ace_removes_writer_and_null_dacl() -> None:
    sd = sddl.parse_sddl("D:P(D;;KW;;;BA)(A;;KA;;;BA)(A;;KA;;;SY)(A;OICI;KA;;;BU)(A;CIIO;KA;;;AU)")
    s = sddl.summarize(sd.dacl, "registry")
    assert s.grants_write_to == ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Users"]
    assert s.denies_write_to == ["BUILTIN\\Administrators"]
    assert sd.dacl_flags == ("P",)
    assert sddl.summarize(None, "file").grants_write_to == ["Everyone"]


def test_object_and_callback_aces_hex_masks_and_sacl() -> None:
    sd = sddl.parse_sddl(
        'O:SYG:SYD:(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)(XA;;FX;;;WD;(@User.Title=="PM"))'
        "(A;;0x1200a9;;;S-1-5-21-1-2-3-1001)S:(ML;;NW;;;HI)"
    )
    assert sd.dacl is not None
    oa, xa, dom = sd.dacl
    assert oa.object_guid == "ab721a53-1e2f-11d0-9819-00aa0040529b" and oa.ace_type == "allow"
    assert xa.condition == '(@User.Title=="PM")'
    assert (
        dom.sid == "S-1-5-21-1-2-3-1001" and dom.principal == "S-1-5-21-1-2-3-1001" and dom.mask == 0x1200A9
    )
    assert sd.sacl[0].ace_type == "label" and sd.sacl[0].sid == "S-1-16-12288"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "X:BA",
        "O:ZZ",
        "D:(A;;KA;;;SY",
        "D:(A;;QQ;;;SY)",
        "D:(A;XX;KA;;;SY)",
        "D:(Q;;KA;;;SY)",
        "D:(A;;KA;;)",
        "O:BAO:SY",
    ],
)
def test_invalid_sddl_raises_sddl_error(bad: str) -> None:
    with pytest.raises(sddl.SddlError):
        sddl.parse_sddl(bad)


def test_object_type_of() -> None:
    assert sddl.object_type_of("HKLM:\\SYSTEM\\X") == "registry"
    assert sddl.object_type_of("Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\X") == "registry"
    assert sddl.object_type_of("C:\\Windows\\x.sys") == "file"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="OGDS:();AKRWXCIDPU0123456789-xF ", max_size=120))
def test_property_only_sddl_error(text: str) -> None:
    with contextlib.suppress(sddl.SddlError):
        sddl.parse_sddl(text)


@pytest.mark.parametrize("bad", ["D:(A;;0x;;;SY)", "D:(A;;0xZZ;;;SY)", "D:(A;;²;;;SY)"])
def test_bad_numeric_masks(bad: str) -> None:
    with pytest.raises(sddl.SddlError):
        sddl.parse_sddl(bad)


def test_label_ace_rights() -> None:
    sd = sddl.parse_sddl("S:(ML;;NWNR;;;LW)")
    (ace,) = sd.sacl
    assert ace.mask == 0x3 and sddl.ace_rights(ace, "file") == ["NO_WRITE_UP", "NO_READ_UP"]
    assert ace.principal == "Mandatory Label\\Low Mandatory Level"


def test_service_rights() -> None:
    assert sddl.rights_names(0xF01FF, "service") == ["SERVICE_ALL_ACCESS"]
    assert sddl.rights_names(0x2, "service") == ["SERVICE_CHANGE_CONFIG"]
    assert sddl.map_generic(sddl.GENERIC_WRITE, "service") == 0x20002
    assert sddl.can_write(sddl.GENERIC_WRITE, "service") and not sddl.can_write(0x201FD, "service")
    assert sddl.is_full_control(sddl.GENERIC_ALL, "service")
