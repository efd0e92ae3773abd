"""SDDL security descriptors and access masks: decode, name and summarise them.

Format: Security Descriptor Definition Language, the text form of a Windows security
descriptor (``O:BAG:SYD:AI(A;ID;KA;;;SY)...``) as printed by PowerShell ``(Get-Acl X).Sddl``,
``icacls /save`` and ``sc sdshow``. Components ``O:`` owner, ``G:`` group, ``D:`` DACL and
``S:`` SACL; each ACL is flags followed by ACE strings
``(type;flags;rights;object_guid;inherit_object_guid;sid[;condition])``.

Where it lives on Windows: nowhere as a file; it is the output of the tools above (UTF-16LE
with BOM from PowerShell 5.1 ``>``, UTF-8 from PowerShell 7, OEM code page from ``cmd``).

This module is a library used by the ACL parsers (``getacl``, ``icacls``) and by the analysis:
:func:`parse_sddl` turns text into a :class:`SecurityDescriptor`, :func:`rights_names`
decodes a mask for a registry key or a file, and :func:`grants_write_to` computes which
principals may write (set a value on a key / write data to a file).

References: Microsoft Learn "Security Descriptor String Format", "ACE Strings", "SID Strings",
"Well-known SIDs", "Registry Key Security and Access Rights", "File Security and Access
Rights", and the icacls command reference (facts only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# --- SIDs ----------------------------------------------------------------------------------

TRUSTED_INSTALLER_SID = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

#: SDDL two-letter aliases for machine-independent well-known SIDs. ``TI`` is not an
#: official SDDL alias; it is accepted here as shorthand for TrustedInstaller.
ALIASES: dict[str, str] = {
    "AA": "S-1-5-32-579",
    "AC": "S-1-15-2-1",
    "AN": "S-1-5-7",
    "AO": "S-1-5-32-548",
    "AU": "S-1-5-11",
    "BA": "S-1-5-32-544",
    "BG": "S-1-5-32-546",
    "BO": "S-1-5-32-551",
    "BU": "S-1-5-32-545",
    "CD": "S-1-5-32-574",
    "CG": "S-1-3-1",
    "CO": "S-1-3-0",
    "CY": "S-1-5-32-569",
    "ED": "S-1-5-9",
    "ER": "S-1-5-32-573",
    "HA": "S-1-5-32-578",
    "HI": "S-1-16-12288",
    "IS": "S-1-5-32-568",
    "IU": "S-1-5-4",
    "LS": "S-1-5-19",
    "LU": "S-1-5-32-559",
    "LW": "S-1-16-4096",
    "ME": "S-1-16-8192",
    "MP": "S-1-16-8448",
    "MU": "S-1-5-32-558",
    "NO": "S-1-5-32-556",
    "NS": "S-1-5-20",
    "NU": "S-1-5-2",
    "OW": "S-1-3-4",
    "PO": "S-1-5-32-550",
    "PS": "S-1-5-10",
    "PU": "S-1-5-32-547",
    "RA": "S-1-5-32-575",
    "RC": "S-1-5-12",
    "RD": "S-1-5-32-555",
    "RE": "S-1-5-32-552",
    "RM": "S-1-5-32-580",
    "RU": "S-1-5-32-554",
    "SI": "S-1-16-16384",
    "SO": "S-1-5-32-549",
    "SS": "S-1-18-2",
    "SU": "S-1-5-6",
    "SY": "S-1-5-18",
    "TI": TRUSTED_INSTALLER_SID,
    "WD": "S-1-1-0",
    "WR": "S-1-5-33",
}

#: Display names of well-known SIDs as English Windows prints them (DOMAIN\name).
SID_NAMES: dict[str, str] = {
    "S-1-1-0": "Everyone",
    "S-1-2-0": "LOCAL",
    "S-1-3-0": "CREATOR OWNER",
    "S-1-3-1": "CREATOR GROUP",
    "S-1-3-4": "OWNER RIGHTS",
    "S-1-5-2": "NT AUTHORITY\\NETWORK",
    "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
    "S-1-5-6": "NT AUTHORITY\\SERVICE",
    "S-1-5-7": "NT AUTHORITY\\ANONYMOUS LOGON",
    "S-1-5-9": "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS",
    "S-1-5-10": "NT AUTHORITY\\SELF",
    "S-1-5-11": "NT AUTHORITY\\Authenticated Users",
    "S-1-5-12": "NT AUTHORITY\\RESTRICTED",
    "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
    "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
    "S-1-5-33": "NT AUTHORITY\\WRITE RESTRICTED",
    "S-1-5-32-544": "BUILTIN\\Administrators",
    "S-1-5-32-545": "BUILTIN\\Users",
    "S-1-5-32-546": "BUILTIN\\Guests",
    "S-1-5-32-547": "BUILTIN\\Power Users",
    "S-1-5-32-548": "BUILTIN\\Account Operators",
    "S-1-5-32-549": "BUILTIN\\Server Operators",
    "S-1-5-32-550": "BUILTIN\\Print Operators",
    "S-1-5-32-551": "BUILTIN\\Backup Operators",
    "S-1-5-32-552": "BUILTIN\\Replicator",
    "S-1-5-32-554": "BUILTIN\\Pre-Windows 2000 Compatible Access",
    "S-1-5-32-555": "BUILTIN\\Remote Desktop Users",
    "S-1-5-32-556": "BUILTIN\\Network Configuration Operators",
    "S-1-5-32-558": "BUILTIN\\Performance Monitor Users",
    "S-1-5-32-559": "BUILTIN\\Performance Log Users",
    "S-1-5-32-568": "BUILTIN\\IIS_IUSRS",
    "S-1-5-32-569": "BUILTIN\\Cryptographic Operators",
    "S-1-5-32-573": "BUILTIN\\Event Log Readers",
    "S-1-5-32-574": "BUILTIN\\Certificate Service DCOM Access",
    "S-1-5-32-575": "BUILTIN\\RDS Remote Access Servers",
    "S-1-5-32-578": "BUILTIN\\Hyper-V Administrators",
    "S-1-5-32-579": "BUILTIN\\Access Control Assistance Operators",
    "S-1-5-32-580": "BUILTIN\\Remote Management Users",
    "S-1-15-2-1": "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES",
    "S-1-15-2-2": "APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES",
    "S-1-16-4096": "Mandatory Label\\Low Mandatory Level",
    "S-1-16-8192": "Mandatory Label\\Medium Mandatory Level",
    "S-1-16-8448": "Mandatory Label\\Medium Plus Mandatory Level",
    "S-1-16-12288": "Mandatory Label\\High Mandatory Level",
    "S-1-16-16384": "Mandatory Label\\System Mandatory Level",
    "S-1-18-2": "Service asserted identity",
    TRUSTED_INSTALLER_SID: "NT SERVICE\\TrustedInstaller",
}

#: Localized (zh-CN) and short spellings of principals, mapped to their SID.
_NAME_TO_SID: dict[str, str] = {name.casefold(): sid for sid, name in SID_NAMES.items()}
_NAME_TO_SID.update(
    {
        "system": "S-1-5-18",
        "administrators": "S-1-5-32-544",
        "users": "S-1-5-32-545",
        "trustedinstaller": TRUSTED_INSTALLER_SID,
        "authenticated users": "S-1-5-11",
        "creator owner": "S-1-3-0",
        "所有人": "S-1-1-0",
        "everyone": "S-1-1-0",
        "application package authority\\所有应用程序包": "S-1-15-2-1",
        "所有应用程序包": "S-1-15-2-1",
        "application package authority\\所有受限制的应用程序包": "S-1-15-2-2",
    }
)

_SID_RX = re.compile(r"^S-1-\d+(?:-\d+)+$", re.I)


def sid_of(token: str) -> str | None:
    """The SID string for an SDDL SID token (alias or ``S-1-...``), or None if unknown.

    Args:
        token: ``BA``, ``SY``, ``S-1-5-18``...
    """
    t = token.strip()
    if _SID_RX.match(t):
        return t.upper()
    return ALIASES.get(t.upper())


def sid_name(sid: str | None) -> str | None:
    """The display name of a well-known SID (``NT AUTHORITY\\SYSTEM``), None if not known."""
    if sid is None:
        return None
    if sid in SID_NAMES:
        return SID_NAMES[sid]
    if sid.startswith("S-1-5-80-"):
        return "NT SERVICE\\(service SID)"
    return None


def sid_for_name(name: str) -> str | None:
    """The SID of a principal name as tools print it (English or zh-CN), None if not known."""
    n = name.strip().casefold()
    if _SID_RX.match(name.strip()):
        return name.strip().upper()
    return _NAME_TO_SID.get(n)


# --- access masks --------------------------------------------------------------------------

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
GENERIC_EXECUTE = 0x20000000
GENERIC_ALL = 0x10000000

STANDARD: tuple[tuple[str, int], ...] = (
    ("DELETE", 0x00010000),
    ("READ_CONTROL", 0x00020000),
    ("WRITE_DAC", 0x00040000),
    ("WRITE_OWNER", 0x00080000),
    ("SYNCHRONIZE", 0x00100000),
    ("ACCESS_SYSTEM_SECURITY", 0x01000000),
    ("MAXIMUM_ALLOWED", 0x02000000),
    ("GENERIC_ALL", GENERIC_ALL),
    ("GENERIC_EXECUTE", GENERIC_EXECUTE),
    ("GENERIC_WRITE", GENERIC_WRITE),
    ("GENERIC_READ", GENERIC_READ),
)

KEY_SET_VALUE = 0x0002
KEY_ALL_ACCESS = 0xF003F
KEY_READ = 0x20019
KEY_WRITE = 0x20006
KEY_EXECUTE = 0x20019

REGISTRY_SPECIFIC: tuple[tuple[str, int], ...] = (
    ("KEY_QUERY_VALUE", 0x0001),
    ("KEY_SET_VALUE", 0x0002),
    ("KEY_CREATE_SUB_KEY", 0x0004),
    ("KEY_ENUMERATE_SUB_KEYS", 0x0008),
    ("KEY_NOTIFY", 0x0010),
    ("KEY_CREATE_LINK", 0x0020),
    ("KEY_WOW64_64KEY", 0x0100),
    ("KEY_WOW64_32KEY", 0x0200),
)
REGISTRY_COMPOSITE: tuple[tuple[str, int], ...] = (
    ("KEY_ALL_ACCESS", KEY_ALL_ACCESS),
    ("KEY_READ", KEY_READ),
    ("KEY_WRITE", KEY_WRITE),
)

FILE_WRITE_DATA = 0x0002
FILE_ALL_ACCESS = 0x1F01FF
FILE_GENERIC_READ = 0x120089
FILE_GENERIC_WRITE = 0x120116
FILE_GENERIC_EXECUTE = 0x1200A0
FILE_SPECIFIC: tuple[tuple[str, int], ...] = (
    ("FILE_READ_DATA", 0x0001),
    ("FILE_WRITE_DATA", 0x0002),
    ("FILE_APPEND_DATA", 0x0004),
    ("FILE_READ_EA", 0x0008),
    ("FILE_WRITE_EA", 0x0010),
    ("FILE_EXECUTE", 0x0020),
    ("FILE_DELETE_CHILD", 0x0040),
    ("FILE_READ_ATTRIBUTES", 0x0080),
    ("FILE_WRITE_ATTRIBUTES", 0x0100),
)
FILE_COMPOSITE: tuple[tuple[str, int], ...] = (
    ("FILE_ALL_ACCESS", FILE_ALL_ACCESS),
    ("FILE_GENERIC_READ", FILE_GENERIC_READ),
    ("FILE_GENERIC_WRITE", FILE_GENERIC_WRITE),
    ("FILE_GENERIC_EXECUTE", FILE_GENERIC_EXECUTE),
)

SERVICE_CHANGE_CONFIG = 0x0002
SERVICE_ALL_ACCESS = 0xF01FF
SERVICE_SPECIFIC: tuple[tuple[str, int], ...] = (
    ("SERVICE_QUERY_CONFIG", 0x0001),
    ("SERVICE_CHANGE_CONFIG", 0x0002),
    ("SERVICE_QUERY_STATUS", 0x0004),
    ("SERVICE_ENUMERATE_DEPENDENTS", 0x0008),
    ("SERVICE_START", 0x0010),
    ("SERVICE_STOP", 0x0020),
    ("SERVICE_PAUSE_CONTINUE", 0x0040),
    ("SERVICE_INTERROGATE", 0x0080),
    ("SERVICE_USER_DEFINED_CONTROL", 0x0100),
)
SERVICE_COMPOSITE: tuple[tuple[str, int], ...] = (("SERVICE_ALL_ACCESS", SERVICE_ALL_ACCESS),)

#: Per object type: (composite rights, specific rights, the "write" right, all rights).
_KINDS: dict[str, tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...], int, int]] = {
    "registry": (REGISTRY_COMPOSITE, REGISTRY_SPECIFIC, KEY_SET_VALUE, KEY_ALL_ACCESS),
    "file": (FILE_COMPOSITE, FILE_SPECIFIC, FILE_WRITE_DATA, FILE_ALL_ACCESS),
    "service": (SERVICE_COMPOSITE, SERVICE_SPECIFIC, SERVICE_CHANGE_CONFIG, SERVICE_ALL_ACCESS),
}

#: Generic rights mapped to object-specific rights (GENERIC_MAPPING of each object type).
GENERIC_MAP: dict[str, dict[int, int]] = {
    "registry": {
        GENERIC_READ: KEY_READ,
        GENERIC_WRITE: KEY_WRITE,
        GENERIC_EXECUTE: KEY_EXECUTE,
        GENERIC_ALL: KEY_ALL_ACCESS,
    },
    "file": {
        GENERIC_READ: FILE_GENERIC_READ,
        GENERIC_WRITE: FILE_GENERIC_WRITE,
        GENERIC_EXECUTE: FILE_GENERIC_EXECUTE,
        GENERIC_ALL: FILE_ALL_ACCESS,
    },
    "service": {
        GENERIC_READ: 0x2008D,  # READ_CONTROL | QUERY_CONFIG | QUERY_STATUS | INTERROGATE | ENUM_DEPENDENTS
        GENERIC_WRITE: 0x20002,  # READ_CONTROL | CHANGE_CONFIG
        GENERIC_EXECUTE: 0x20170,  # READ_CONTROL | START | STOP | PAUSE_CONTINUE | USER_DEFINED_CONTROL
        GENERIC_ALL: SERVICE_ALL_ACCESS,
    },
}

#: SDDL rights tokens (two letters each, concatenated) → mask bits.
SDDL_RIGHTS: dict[str, int] = {
    "GA": GENERIC_ALL,
    "GR": GENERIC_READ,
    "GW": GENERIC_WRITE,
    "GX": GENERIC_EXECUTE,
    "RC": 0x20000,
    "SD": 0x10000,
    "WD": 0x40000,
    "WO": 0x80000,
    "RP": 0x10,
    "WP": 0x20,
    "CC": 0x1,
    "DC": 0x2,
    "LC": 0x4,
    "SW": 0x8,
    "LO": 0x80,
    "DT": 0x40,
    "CR": 0x100,
    "FA": FILE_ALL_ACCESS,
    "FR": FILE_GENERIC_READ,
    "FW": FILE_GENERIC_WRITE,
    "FX": FILE_GENERIC_EXECUTE,
    "KA": KEY_ALL_ACCESS,
    "KR": KEY_READ,
    "KW": KEY_WRITE,
    "KX": KEY_EXECUTE,
    "NW": 0x1,  # mandatory label policy: SYSTEM_MANDATORY_LABEL_NO_WRITE_UP
    "NR": 0x2,  # NO_READ_UP
    "NX": 0x4,  # NO_EXECUTE_UP
}

#: Mandatory-label (integrity) ACE policy bits.
LABEL_POLICY: tuple[tuple[str, int], ...] = (
    ("NO_WRITE_UP", 0x1),
    ("NO_READ_UP", 0x2),
    ("NO_EXECUTE_UP", 0x4),
)

ACE_TYPES: dict[str, str] = {
    "A": "allow",
    "D": "deny",
    "OA": "allow",
    "OD": "deny",
    "XA": "allow",
    "XD": "deny",
    "ZA": "allow",
    "AU": "audit",
    "OU": "audit",
    "XU": "audit",
    "AL": "alarm",
    "OL": "alarm",
    "ML": "label",
    "RA": "resource-attribute",
    "SP": "scoped-policy",
}

ACE_FLAGS: dict[str, int] = {"OI": 0x1, "CI": 0x2, "NP": 0x4, "IO": 0x8, "ID": 0x10, "SA": 0x40, "FA": 0x80}
ACE_FLAG_NAMES: dict[str, str] = {
    "OI": "object_inherit",
    "CI": "container_inherit",
    "NP": "no_propagate",
    "IO": "inherit_only",
    "ID": "inherited",
    "SA": "successful_access",
    "FA": "failed_access",
}


def object_type_of(path: str) -> str:
    """``registry`` for a registry path (``HKLM\\...``, ``HKEY_...``, ``Registry::``), else ``file``."""
    p = path.strip().lstrip("\\")
    low = p.casefold()
    if "registry::" in low or low.startswith(("hkey_", "hklm", "hkcu", "hkcr", "hku", "hkcc", "registry\\")):
        return "registry"
    return "file"


def map_generic(mask: int, object_type: str) -> int:
    """Replace generic bits by the object type's specific rights (GENERIC_MAPPING)."""
    table = GENERIC_MAP.get(object_type, {})
    out = mask
    for bit, specific in table.items():
        if mask & bit:
            out = (out & ~bit) | specific
    return out & 0xFFFFFFFF


def label_policy_names(mask: int) -> list[str]:
    """Names of a mandatory-label ACE's policy bits (``NO_WRITE_UP``...)."""
    names = [n for n, b in LABEL_POLICY if mask & b]
    rest = mask & ~0x7
    return names + ([f"0x{rest:X}"] if rest else [])


def ace_rights(ace: Ace, object_type: str) -> list[str]:
    """Right names of one ACE: label policy for integrity labels, else :func:`rights_names`."""
    if ace.ace_type == "label":
        return label_policy_names(ace.mask)
    return rights_names(ace.mask, object_type)


def rights_names(mask: int, object_type: str = "registry") -> list[str]:
    """Decode an access mask into right names for a registry key, a file or a service.

    Generic bits are named as such (``GENERIC_ALL``); a mask equal to a composite right
    (``KEY_ALL_ACCESS``, ``FILE_GENERIC_READ``) is that one name; otherwise the composite rights
    fully contained come first, then the remaining single rights.

    Args:
        mask: the 32-bit access mask.
        object_type: ``registry``, ``file`` or ``service``.
    """
    mask &= 0xFFFFFFFF
    composite, specific, _, _ = _KINDS.get(object_type, _KINDS["file"])
    names: list[str] = []
    rest = mask
    for name, bits in composite:
        if mask & bits == bits and bits:
            names.append(name)
            rest &= ~bits
            if bits == mask:
                return names
    for name, bits in specific:
        if rest & bits:
            names.append(name)
            rest &= ~bits
    for name, bits in STANDARD:
        if rest & bits:
            names.append(name)
            rest &= ~bits
    if rest:
        names.append(f"0x{rest:X}")
    return names


def can_write(mask: int, object_type: str) -> bool:
    """True when the mask lets a holder set a value (registry), write data (file) or change
    the configuration (service: SERVICE_CHANGE_CONFIG).

    WRITE_DAC and WRITE_OWNER count too: a holder can grant itself the right.
    """
    m = map_generic(mask, object_type)
    needed = _KINDS.get(object_type, _KINDS["file"])[2]
    return bool(m & (needed | 0x40000 | 0x80000))


def is_full_control(mask: int, object_type: str) -> bool:
    """True when the mask (after generic mapping) holds all rights of the object type."""
    full = _KINDS.get(object_type, _KINDS["file"])[3]
    return map_generic(mask, object_type) & full == full


# --- descriptors ---------------------------------------------------------------------------


class SddlError(ValueError):
    """The text is not a valid SDDL string (the message says where)."""


@dataclass(frozen=True, slots=True)
class Ace:
    """One ACE of an SDDL ACL.

    Attributes:
        ace_type: ``allow``, ``deny``, ``audit``, ``alarm``, ``label``... (see ``ACE_TYPES``).
        type_code: the SDDL code (``A``, ``D``, ``OA``...).
        flags: SDDL flag codes in order (``["CI", "IO", "ID"]``).
        mask: the access mask as written (generic bits not mapped).
        sid: the trustee's SID string.
        trustee: the trustee token as written (``BA`` or ``S-1-...``).
        object_guid, inherit_object_guid: for object ACEs, else empty.
        condition: the condition expression of callback ACEs, else empty.
    """

    ace_type: str
    type_code: str
    flags: tuple[str, ...]
    mask: int
    sid: str
    trustee: str
    object_guid: str = ""
    inherit_object_guid: str = ""
    condition: str = ""

    @property
    def inherited(self) -> bool:
        return "ID" in self.flags

    @property
    def inherit_only(self) -> bool:
        return "IO" in self.flags

    @property
    def principal(self) -> str:
        return sid_name(self.sid) or self.sid


@dataclass(frozen=True, slots=True)
class SecurityDescriptor:
    """A parsed SDDL string."""

    owner: str | None = None  # SID
    group: str | None = None  # SID
    dacl_flags: tuple[str, ...] = ()
    dacl: tuple[Ace, ...] | None = None  # None: no DACL in the string
    sacl_flags: tuple[str, ...] = ()
    sacl: tuple[Ace, ...] = ()
    sddl: str = ""


_DACL_FLAG = re.compile(r"P|AI|AR|NO_ACCESS_CONTROL")
_SID_TOKEN = re.compile(r"S-1-\d+(?:-\d+)+|[A-Z]{2}", re.I)
#: Recognises a security descriptor in free text (owner, group, DACL or SACL part).
SDDL_SEARCH = re.compile(r"(?:O:|G:|D:|S:)(?:[A-Z]{2}|S-1-[\d-]+|[PAIRNO_CES]*\()[^\s\"']*", re.I)


def _parse_mask(tok: str) -> int:
    t = tok.strip()
    if not t:
        return 0
    if t[:2].lower() == "0x" or t.isdigit():
        try:
            return int(t, 0 if t[:2].lower() == "0x" else 10) & 0xFFFFFFFF
        except ValueError:
            raise SddlError(f"rights {t!r} are not a number") from None
    if len(t) % 2:
        raise SddlError(f"rights {t!r} are not two-letter codes")
    mask = 0
    for i in range(0, len(t), 2):
        code = t[i : i + 2].upper()
        if code not in SDDL_RIGHTS:
            raise SddlError(f"unknown right {code!r}")
        mask |= SDDL_RIGHTS[code]
    return mask


def parse_ace(text: str) -> Ace:
    """Parse one ACE string without its parentheses (``A;CIID;KA;;;SY``).

    Raises:
        SddlError: when a part is missing or unknown.
    """
    parts = text.split(";", 6)
    if len(parts) < 6:
        raise SddlError(f"ACE {text[:60]!r} has {len(parts)} parts, needs 6")
    code = parts[0].strip().upper()
    if code not in ACE_TYPES:
        raise SddlError(f"unknown ACE type {code!r}")
    fl = parts[1].strip().upper()
    if len(fl) % 2:
        raise SddlError(f"ACE flags {fl!r} are not two-letter codes")
    flags = tuple(fl[i : i + 2] for i in range(0, len(fl), 2))
    for f in flags:
        if f not in ACE_FLAGS:
            raise SddlError(f"unknown ACE flag {f!r}")
    mask = _parse_mask(parts[2])
    trustee = parts[5].strip()
    sid = sid_of(trustee)
    if sid is None:
        raise SddlError(f"unknown SID {trustee!r}")
    return Ace(
        ace_type=ACE_TYPES[code],
        type_code=code,
        flags=flags,
        mask=mask,
        sid=sid,
        trustee=trustee,
        object_guid=parts[3].strip(),
        inherit_object_guid=parts[4].strip(),
        condition=parts[6].strip() if len(parts) > 6 else "",
    )


def _acl(text: str, pos: int) -> tuple[tuple[str, ...], list[Ace], int]:
    """Read ACL flags and ACEs starting at ``pos``; return them and the end position."""
    flags: list[str] = []
    while pos < len(text) and text[pos] != "(":
        m = _DACL_FLAG.match(text, pos)
        if not m:
            break
        flags.append(m.group(0))
        pos = m.end()
    aces: list[Ace] = []
    while pos < len(text) and text[pos] == "(":
        depth = 0
        end = pos
        while end < len(text):
            ch = text[end]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        if end >= len(text):
            raise SddlError(f"ACE at {pos} has no closing parenthesis")
        aces.append(parse_ace(text[pos + 1 : end]))
        pos = end + 1
    return tuple(flags), aces, pos


def parse_sddl(text: str) -> SecurityDescriptor:
    """Parse an SDDL security descriptor string.

    Args:
        text: ``O:BAG:SYD:AI(A;ID;KR;;;BU)...`` (surrounding blanks ignored).

    Raises:
        SddlError: on anything that is not SDDL (unknown alias, unbalanced ACE...).
    """
    s = text.strip()
    if not s:
        raise SddlError("empty SDDL")
    pos = 0
    owner = group = None
    dflags: tuple[str, ...] = ()
    dacl: tuple[Ace, ...] | None = None
    sflags: tuple[str, ...] = ()
    sacl: tuple[Ace, ...] = ()
    seen: set[str] = set()
    while pos < len(s):
        tag = s[pos : pos + 2].upper()
        if len(tag) < 2 or tag[1] != ":" or tag[0] not in "OGDS" or tag in seen:
            raise SddlError(f"unexpected {s[pos : pos + 12]!r} at {pos}")
        seen.add(tag)
        pos += 2
        if tag in ("O:", "G:"):
            m = _SID_TOKEN.match(s, pos)
            if not m:
                raise SddlError(f"no SID after {tag} at {pos}")
            sid = sid_of(m.group(0))
            if sid is None:
                raise SddlError(f"unknown SID {m.group(0)!r}")
            if tag == "O:":
                owner = sid
            else:
                group = sid
            pos = m.end()
        else:
            flags, aces, pos = _acl(s, pos)
            if tag == "D:":
                dflags, dacl = flags, tuple(aces)
            else:
                sflags, sacl = flags, tuple(aces)
    return SecurityDescriptor(owner, group, dflags, dacl, sflags, sacl, s)


@dataclass(frozen=True, slots=True)
class AccessSummary:
    """Who may do what on one object, computed from its DACL."""

    grants_write_to: list[str] = field(default_factory=list)
    full_control_to: list[str] = field(default_factory=list)
    denies_write_to: list[str] = field(default_factory=list)


def summarize(
    aces: Sequence[Ace] | None, object_type: str, names: dict[str, str] | None = None
) -> AccessSummary:
    """Compute which principals may write to / have full control of the object itself.

    Only ACEs that apply to the object (not inherit-only) count. A principal denied the
    write right by a deny ACE of the same SID is removed from ``grants_write_to``; group
    membership is not known from an ACL, so this is per-SID, as the ACL is written.
    A missing DACL (None) grants everyone everything.

    Args:
        aces: the DACL.
        object_type: ``registry`` or ``file``.
        names: SID → display name to use instead of the well-known names.
    """
    names = names or {}

    def nm(sid: str) -> str:
        return names.get(sid) or sid_name(sid) or sid

    if aces is None:
        return AccessSummary(["Everyone"], ["Everyone"], [])
    denied: list[str] = []
    for a in aces:
        if (
            a.ace_type == "deny"
            and not a.inherit_only
            and can_write(a.mask, object_type)
            and a.sid not in denied
        ):
            denied.append(a.sid)
    write: list[str] = []
    full: list[str] = []
    for a in aces:
        if a.ace_type != "allow" or a.inherit_only or a.sid in denied:
            continue
        if can_write(a.mask, object_type) and a.sid not in write:
            write.append(a.sid)
        if is_full_control(a.mask, object_type) and a.sid not in full:
            full.append(a.sid)
    return AccessSummary([nm(s) for s in write], [nm(s) for s in full], [nm(s) for s in denied])
