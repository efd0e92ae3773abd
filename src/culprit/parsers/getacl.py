"""PowerShell ``Get-Acl`` output: bare SDDL strings and ``Get-Acl X | Format-List`` blocks.

Format: either the SDDL alone, as printed by ``(Get-Acl HKLM:\\SYSTEM\\...\\AmdK8).Sddl``::

    PS C:\\Windows\\system32> (Get-Acl HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmdK8).Sddl
    O:BAG:SYD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)(A;ID;KA;;;SY)...

or a Format-List block (property names are not localized; long values wrap onto lines
indented to the value column)::

    Path   : Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SYSTEM\\...\\AmdK8
    Owner  : BUILTIN\\Administrators
    Group  : NT AUTHORITY\\SYSTEM
    Access : BUILTIN\\Users Allow  ReadKey
             BUILTIN\\Administrators Allow  FullControl
    Audit  :
    Sddl   : O:BAG:SYD:AI(A;ID;KR;;;BU)...

The object comes from the ``Path`` property or from the ``Get-Acl <path>`` command on the
preceding prompt line. ``sc sdshow <service>`` output reads the same way, for a service object
(service rights: SERVICE_CHANGE_CONFIG is the "write" right). ``icacls /save`` files belong to
``icacls``. The
Access lines, in DACL order, give the principals' display names (localized on zh-CN); when a
block has no Sddl the ACEs are built from them.

Where it lives: not a log; saved from PowerShell (5.1 ``>``: UTF-16LE with BOM; 7: UTF-8).

Events (shared with ``icacls``; see ``culprit.parsers._acl``):
    ``acl:object`` — one per SDDL string or Format-List block: ``object`` (registry keys as
    ``HKLM\\...``, files as written, services by name), ``object_type``
    (``registry``/``file``/``service``), ``owner``, ``owner_sid``, ``group``, ``group_sid``,
    ``sddl``, ``dacl_flags``, ``protected``,
    ``ace_count``, ``grants_write_to`` / ``full_control_to`` / ``denies_write_to`` (principal
    names; the object itself, inherit-only ACEs ignored), ``repeat_of`` (line of an earlier
    identical object+SDDL in the file, whose ACEs are then not repeated). Origin = the SDDL line.
    ``acl:ace`` — one per DACL entry: ``object``, ``object_type``, ``index``, ``principal``,
    ``sid``, ``ace_type`` (allow/deny/...), ``rights`` (decoded names), ``mask`` (int, as
    written), ``inherited``, ``inherit_only``, ``flags`` (SDDL codes ``CI``, ``IO``, ``ID``...).

References: Microsoft Learn "Get-Acl", "Security Descriptor String Format", "RegistryRights",
"FileSystemRights".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit import sddl
from culprit.model import Event, Origin
from culprit.parsers import register
from culprit.parsers._acl import SERVICE_PREFIX, ace_events, object_event, object_name
from culprit.parsers._tables import PROMPT, clip, tool_lines
from culprit.parsers.base import ParseContext, Parser, Source

# O:BAG:SYD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)
SDDL_LINE = re.compile(r"^\s*(?:O:|G:|D:|S:)[A-Za-z0-9:;()\-_@=!&|<>\"' ,.{}#]*$")
# Sddl   : O:BAG:SYD:AI(A;ID;KR;;;BU)
_PROP = re.compile(
    r"^(?P<prop>Path|Owner|Group|Access|Audit|Sddl|AreAccessRulesProtected|PSPath)\s*:\s?(?P<value>.*)$", re.I
)
#          BUILTIN\Administrators Allow  FullControl
_CONT = re.compile(r"^\s{4,}(?P<value>\S.*)$")
# BUILTIN\Users Allow  ReadKey        NT AUTHORITY\SYSTEM Allow  268435456
_ACCESS = re.compile(r"^(?P<principal>.+?)\s+(?P<type>Allow|Deny|允许|拒绝)\s+(?P<rights>.+)$", re.I)
# Path                 Owner                  Access        (the default table form: ACL cut to the width)
_TABLE_HEADER = re.compile(r"^\s*Path\s+Owner\s+Access\s*$")
#     Directory: Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services
_DIRECTORY = re.compile(r"^\s*Directory\s*:", re.I)
# (Get-Acl HKLM:\SYSTEM\X).Sddl     Get-Acl -Path "C:\x y" | Format-List
_GETACL = re.compile(
    r"Get-Acl\s+(?:-(?:Literal)?Path\s+)?(?:\"(?P<q>[^\"]+)\"|'(?P<s>[^']+)'|(?P<p>[^\s|)]+))", re.I
)
# sc sdshow AmdK8      sc.exe \\host sdshow "My Service"
_SDSHOW = re.compile(r"\bsc(?:\.exe)?\s+(?:\\\\\S+\s+)?sdshow\s+(?:\"(?P<q>[^\"]+)\"|(?P<p>\S+))", re.I)
# service-only rights: CC DC LC SW RP WP DT LO CR (no F*/K* file or key rights)
_SERVICE_RIGHTS = re.compile(r"\((?:[A-Z]*;){2}(?:CC|DC|LC|SW|RP|WP|DT|LO|CR|SD|RC|WD|WO)+;", re.I)
_KEY_RIGHTS = re.compile(r"\((?:[A-Z]*;){2}(?:[A-Z]{2})*K[ARWX]", re.I)

REGISTRY_RIGHTS = {
    "fullcontrol": sddl.KEY_ALL_ACCESS,
    "readkey": sddl.KEY_READ,
    "writekey": sddl.KEY_WRITE,
    "executekey": sddl.KEY_EXECUTE,
    "queryvalues": 0x1,
    "setvalue": 0x2,
    "createsubkey": 0x4,
    "enumeratesubkeys": 0x8,
    "notify": 0x10,
    "createlink": 0x20,
    "delete": 0x10000,
    "readpermissions": 0x20000,
    "changepermissions": 0x40000,
    "takeownership": 0x80000,
}
FILE_RIGHTS = {
    "fullcontrol": sddl.FILE_ALL_ACCESS,
    "modify": 0x1301BF,
    "readandexecute": 0x1200A9,
    "read": 0x120089,
    "write": 0x116,
    "readdata": 0x1,
    "listdirectory": 0x1,
    "writedata": 0x2,
    "createfiles": 0x2,
    "appenddata": 0x4,
    "createdirectories": 0x4,
    "readextendedattributes": 0x8,
    "writeextendedattributes": 0x10,
    "executefile": 0x20,
    "traverse": 0x20,
    "deletesubdirectoriesandfiles": 0x40,
    "readattributes": 0x80,
    "writeattributes": 0x100,
    "delete": 0x10000,
    "readpermissions": 0x20000,
    "changepermissions": 0x40000,
    "takeownership": 0x80000,
    "synchronize": 0x100000,
}


def dotnet_rights(text: str, otype: str) -> int | None:
    """The mask of a .NET rights string (``FullControl``, ``ReadKey, SetValue``, ``-2147483648``)."""
    table = REGISTRY_RIGHTS if otype == "registry" else FILE_RIGHTS
    mask = 0
    for part in text.split(","):
        p = part.strip()
        if re.fullmatch(r"-?\d+", p):
            mask |= int(p) & 0xFFFFFFFF
        elif p.casefold() in table:
            mask |= table[p.casefold()]
        else:
            return None
    return mask


def getacl_target(command: str) -> str | None:
    """The object of a ``Get-Acl <path>`` or ``sc sdshow <service>`` command line (a service as
    ``service::<name>``), None for any other command."""
    m = _GETACL.search(command)
    if m:
        return m.group("q") or m.group("s") or m.group("p")
    m = _SDSHOW.search(command)
    if m:
        return SERVICE_PREFIX + (m.group("q") or m.group("p"))
    return None


@register
class GetAclParser(Parser):
    name = "getacl"
    description = "PowerShell Get-Acl output: SDDL strings and Format-List blocks"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        for ln in text.lstrip("\ufeff").splitlines()[:200]:
            m = _PROP.match(ln)
            if m and m.group("prop").lower() == "sddl" and _try_sddl(m.group("value")):
                return 0.95
            p = PROMPT.match(ln)
            if p and getacl_target(p.group("command")):
                return 0.9
        if any(SDDL_LINE.match(ln) and _try_sddl(ln) for ln in text.lstrip("\ufeff").splitlines()[:200]):
            return 0.5  # a bare SDDL; icacls /save files (path line + SDDL line) score higher there
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        hint: str | None = None  # object named by the last Get-Acl prompt
        other = False
        table = False  # inside a default-table Get-Acl output (no SDDL there)
        block: dict[str, Any] | None = None
        seen: dict[tuple[str, str], int] = {}
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                table = False
                if block is not None and block.get("sddl_line"):
                    yield from self._block(block, hint, seen, ctx)
                    block = None
                continue
            p = PROMPT.match(line)
            if p:
                if block is not None:
                    yield from self._block(block, hint, seen, ctx)
                    block = None
                hint = getacl_target(p.group("command"))
                other = hint is None and bool(p.group("command").strip())
                table = False
                continue
            if table or _DIRECTORY.match(line):
                continue
            if _TABLE_HEADER.match(line):
                table = True
                ctx.warn(
                    "Get-Acl table form cuts the ACL to the console width: no ACEs read; "
                    "collect (Get-Acl <path>).Sddl or Get-Acl <path> | Format-List",
                    lineno,
                )
                continue
            m = _PROP.match(line)
            if m:
                prop = m.group("prop").lower()
                if prop == "path" and block is not None:
                    yield from self._block(block, hint, seen, ctx)
                    block = None
                if block is None:
                    block = {"access": [], "_line": lineno, "_offset": offset, "_text": line}
                block["last"] = prop
                value = m.group("value").strip()
                if prop == "access":
                    if value:
                        block["access"].append(value)
                else:
                    block[prop] = value
                    if prop == "sddl":
                        block.update(sddl_line=lineno, sddl_offset=offset, sddl_text=line)
                continue
            if block is not None:
                c = _CONT.match(line)
                if c and block.get("last"):
                    last = block["last"]
                    if last == "access":
                        block["access"].append(c.group("value").strip())
                    elif last in ("sddl", "path"):
                        block[last] = block.get(last, "") + c.group("value").strip()
                    continue
            if other:
                continue
            if SDDL_LINE.match(line):
                origin = Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line))
                yield from self._sddl(line.strip(), hint, None, origin, seen, ctx)
                continue
            ctx.warn("line is not Get-Acl output", lineno)
        if block is not None:
            yield from self._block(block, hint, seen, ctx)

    def _block(
        self, block: dict[str, Any], hint: str | None, seen: dict[tuple[str, str], int], ctx: ParseContext
    ) -> Iterator[Event]:
        path = block.get("path") or hint
        if block.get("sddl"):
            origin = Origin(
                ctx.artifact,
                line=block["sddl_line"],
                offset=block["sddl_offset"],
                text=clip(block["sddl_text"]),
            )
            yield from self._sddl(block["sddl"], path, block, origin, seen, ctx)
            return
        # No SDDL: build the ACEs from the Access lines.
        obj, otype = object_name(path) if path else ("(unknown object)", "file")
        aces: list[sddl.Ace] = []
        names: dict[str, str] = {}
        for entry in block["access"]:
            m = _ACCESS.match(entry)
            mask = dotnet_rights(m.group("rights"), otype) if m else None
            if m is None or mask is None:
                ctx.warn(f"Access entry not understood: {entry[:80]!r}", block["_line"])
                continue
            principal = m.group("principal").strip()
            sid = sddl.sid_for_name(principal) or principal
            names[sid] = principal
            kind = "allow" if m.group("type").lower() in ("allow", "允许") else "deny"
            aces.append(sddl.Ace(kind, "A" if kind == "allow" else "D", (), mask, sid, principal))
        origin = Origin(ctx.artifact, line=block["_line"], offset=block["_offset"], text=clip(block["_text"]))
        yield object_event(
            obj,
            otype,
            origin,
            aces,
            owner=block.get("owner") or None,
            group=block.get("group") or None,
            names=names,
        )
        yield from ace_events(aces, obj, otype, origin, names)

    def _sddl(
        self,
        text: str,
        path: str | None,
        block: dict[str, Any] | None,
        origin: Origin,
        seen: dict[tuple[str, str], int],
        ctx: ParseContext,
    ) -> Iterator[Event]:
        try:
            sd = sddl.parse_sddl(text)
        except sddl.SddlError as e:
            ctx.warn(f"SDDL not understood: {e}", origin.line)
            return
        if path:
            obj, otype = object_name(path)
        else:
            obj, otype = "(unknown object)", _guess_type(text)
        aces = sd.dacl
        names: dict[str, str] = {}
        if block is not None and aces is not None:
            entries = [m for e in block["access"] if (m := _ACCESS.match(e))]
            if len(entries) == len(aces):
                for a, m in zip(aces, entries, strict=True):
                    names.setdefault(a.sid, m.group("principal").strip())
        repeat = seen.get((obj.casefold(), sd.sddl))
        if repeat is None and origin.line is not None:
            seen[(obj.casefold(), sd.sddl)] = origin.line
        owner = block.get("owner") if block else None
        group = block.get("group") if block else None
        yield object_event(
            obj,
            otype,
            origin,
            aces,
            sd=sd,
            owner=owner or None,
            group=group or None,
            names=names,
            repeat_of=repeat,
        )
        if repeat is None and aces:
            yield from ace_events(aces, obj, otype, origin, names)


def _guess_type(text: str) -> str:
    """Object type of a bare SDDL from its rights: key rights → registry, service rights → service."""
    if _KEY_RIGHTS.search(text):
        return "registry"
    if _SERVICE_RIGHTS.search(text) and not re.search(r";F[ARWX]", text):
        return "service"
    return "file"


def _try_sddl(text: str) -> bool:
    try:
        sddl.parse_sddl(text)
    except sddl.SddlError:
        return False
    return True
