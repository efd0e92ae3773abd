"""``icacls <path>`` console output and ``icacls <path> /save`` files: file and folder ACLs.

Format (display): the first ACE on the path line, the others aligned under it, then a
summary (localized)::

    C:\\Windows\\System32\\drivers\\amdk8.sys NT SERVICE\\TrustedInstaller:(F)
                                          BUILTIN\\Administrators:(RX)
                                          BUILTIN\\Users:(I)(RX)

    Successfully processed 1 files; Failed processing 0 files

zh-CN: ``已成功处理 1 个文件; 处理 0 个文件时失败``; errors ``C:\\x: Access is denied.`` /
``C:\\x: 拒绝访问。``. An ACE is ``principal:(flags)(rights)``: inheritance ``(OI)(CI)(IO)(NP)(I)``,
``(DENY)``, integrity labels ``Mandatory Label\\High Mandatory Level:(NW)``, simple rights
``F M RX R W D N`` or a specific list ``(WD,AD,WEA,WA)``. The split between path and first
principal is taken from the column of the aligned lines below it.
``/save`` files (UTF-16LE) alternate a relative path line and its SDDL (``D:AI(A;...)``).
icacls does not cover registry keys (use Get-Acl).

Where it lives: not a log; console text saved by the engineer (OEM code page: CP437/850,
CP936 on zh-CN) or the ``/save`` file (UTF-16LE, no BOM).

Events: ``acl:object`` and ``acl:ace`` exactly as described in ``getacl`` (``sddl`` None and
``owner`` None for the display form; ``rights_text`` on each ACE keeps icacls' own
``(OI)(CI)(F)`` text); ``acl:error`` — ``object``, ``win32``, ``message`` for a path icacls
could not read; ``acl:summary`` — ``processed``, ``failed`` (ints) from the summary line.

References: formats.md §9; Microsoft Learn "icacls".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from culprit import sddl
from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._acl import ace_events, object_event, object_name
from culprit.parsers._tables import PROMPT, clip, command_args, to_columns, tool_lines, win32_of_message
from culprit.parsers.base import ParseContext, Parser, Source

SIMPLE = {
    "F": sddl.FILE_ALL_ACCESS,
    "M": 0x1301BF,
    "RX": 0x1200A9,
    "R": 0x120089,
    "W": 0x100116,
    "D": 0x10000,
    "N": 0,
}
SPECIFIC = {
    "DE": 0x10000,
    "RC": 0x20000,
    "WDAC": 0x40000,
    "WO": 0x80000,
    "S": 0x100000,
    "AS": 0x1000000,
    "MA": 0x2000000,
    "GR": sddl.GENERIC_READ,
    "GW": sddl.GENERIC_WRITE,
    "GE": sddl.GENERIC_EXECUTE,
    "GA": sddl.GENERIC_ALL,
    "RD": 0x1,
    "WD": 0x2,
    "AD": 0x4,
    "REA": 0x8,
    "WEA": 0x10,
    "X": 0x20,
    "DC": 0x40,
    "RA": 0x80,
    "WA": 0x100,
}
LABELS = {"NW": 0x1, "NR": 0x2, "NX": 0x4}  # Mandatory Label\High Mandatory Level:(NW)
FLAGS = {"OI": "OI", "CI": "CI", "IO": "IO", "NP": "NP", "I": "ID"}

# BUILTIN\Administrators:(OI)(CI)(F)      Everyone:(DENY)(W)
ACE_TAIL = re.compile(r"(?P<head>.*?):(?P<perms>(?:\([A-Za-z ,]+\))+)\s*$")
# Successfully processed 1 files; Failed processing 0 files     已成功处理 1 个文件; 处理 0 个文件时失败
_SUMMARY = re.compile(r"^(?:Successfully processed|已成功处理)\s*(?P<ok>\d+)\D+?(?P<failed>\d+)", re.I)
# Other languages, inside an icacls output only (never for sniffing): "Se procesaron correctamente 1 archivos;
# error al procesar 0 archivos" - two counts around a ';' and no path or ACE syntax (no ':', '\\', '(').
_SUMMARY_ANY = re.compile(
    r"^(?:Successfully processed|已成功处理)\s*(?P<ok>\d+)\D+?(?P<failed>\d+)"
    r"|^[^\d:\\()]+?(?P<ok2>\d+)[^\d:\\()]*;[^\d:\\()]*?(?P<failed2>\d+)[^\d:\\()]*$",
    re.I,
)
# C:\x\y.sys: Access is denied.
_ERROR = re.compile(r"^(?P<path>(?:[A-Za-z]:\\|\\\\|\.).*?):\s+(?P<message>\S.*)$")
_SDDL = re.compile(r"^(?:O:|G:|D:|S:)\S+$")
_KNOWN_DOMAINS = (
    "NT AUTHORITY\\",
    "BUILTIN\\",
    "NT SERVICE\\",
    "APPLICATION PACKAGE AUTHORITY\\",
    "Mandatory Label\\",
    "AUTORITE NT\\",
    "S-1-",
)


def parse_perms(perms: str) -> tuple[str, tuple[str, ...], int] | None:
    """``(ace_type, sddl_flags, mask)`` for icacls permission text, None if not understood."""
    tokens = re.findall(r"\(([^()]*)\)", perms)
    flags: list[str] = []
    mask = 0
    kind = "allow"
    for tok in tokens:
        t = tok.strip().upper()
        if t == "DENY":
            kind = "deny"
        elif t in FLAGS:
            flags.append(FLAGS[t])
        elif t in LABELS:
            kind = "label"
            mask |= LABELS[t]
        elif t in SIMPLE:
            mask |= SIMPLE[t]
        else:
            for part in t.split(","):
                p = part.strip()
                if p in SPECIFIC:
                    mask |= SPECIFIC[p]
                elif p in SIMPLE:
                    mask |= SIMPLE[p]
                else:
                    return None
    return kind, tuple(flags), mask


def split_first(head: str, indent: int | None) -> tuple[str, str]:
    """Split ``path principal`` of the first line.

    With aligned lines below, the first principal starts at their indent: counted in
    characters (icacls pads by string length) or, failing that, in screen columns (CJK
    paths are two columns a character). Without them, a known domain prefix or well-known
    name marks the principal; else the last blank.
    """
    if indent is not None:
        cols = to_columns(head)
        by_col = next((i for i, c in enumerate(cols) if c >= indent), None)
        for i in (indent, by_col):
            if i is not None and 0 < i < len(head) and head[i - 1] == " " and head[i] != " ":
                return head[:i].rstrip(), head[i:].strip()
    for dom in _KNOWN_DOMAINS:
        i = head.find(" " + dom)
        if i > 0:
            return head[:i], head[i + 1 :]
    for name in ("Everyone", "CREATOR OWNER", "CREATOR GROUP", "OWNER RIGHTS", "所有人"):
        if head.endswith(" " + name):
            return head[: -len(name) - 1], name
    i = head.rfind(" ")
    return (head[:i], head[i + 1 :]) if i > 0 else (head, "")


@register
class IcaclsParser(Parser):
    name = "icacls"
    description = "icacls display output and /save files"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.lstrip("\ufeff").splitlines()[:200]
        aces = sum(1 for ln in lines if (m := ACE_TAIL.match(ln)) and parse_perms(m.group("perms")))
        if any(_SUMMARY.match(ln) for ln in lines) or any(
            (p := PROMPT.match(ln))
            and (a := command_args(p.group("command")))
            and a[0].lower().startswith("icacls")
            for ln in lines
        ):
            return 0.95
        if aces >= 1 and aces >= len([ln for ln in lines if ln.strip()]) // 2:
            return 0.7
        # /save: a path line then an SDDL line
        for i in range(len(lines) - 1):
            if (
                lines[i].strip()
                and not _SDDL.match(lines[i])
                and _SDDL.match(lines[i + 1].strip())
                and lines[i + 1].strip().startswith("D:")
            ):
                return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        block: list[tuple[int, int, str]] = []
        prev: tuple[int, int, str] | None = None
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                if block:
                    yield from self._object(block, ctx)
                    block = []
                continue
            if PROMPT.match(line):
                if block:
                    yield from self._object(block, ctx)
                    block = []
                prev = None
                continue
            m = _SUMMARY_ANY.match(line)
            if m:
                if block:
                    yield from self._object(block, ctx)
                    block = []
                yield Event(
                    kind="acl:summary",
                    origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
                    message=clip(line.strip()),
                    fields={"processed": int(m.group("ok") or m.group("ok2")), "failed": int(m.group("failed") or m.group("failed2"))},
                )
                continue
            if _SDDL.match(line.strip()) and prev is not None:
                yield from self._saved(prev, (lineno, offset, line), ctx)
                prev = None
                continue
            tail = ACE_TAIL.match(line)
            if tail and parse_perms(tail.group("perms")) is not None:
                if prev is not None:
                    ctx.warn("line is not icacls output", prev[0])
                    prev = None
                if line[:1].isspace() and block:
                    block.append((lineno, offset, line))
                elif line[:1].isspace():
                    ctx.warn("icacls ACE line without its path line", lineno)
                else:
                    if block:
                        yield from self._object(block, ctx)
                    block = [(lineno, offset, line)]
                continue
            e = _ERROR.match(line)
            if e:
                if block:
                    yield from self._object(block, ctx)
                    block = []
                win32 = win32_of_message(e.group("message"))
                obj, otype = object_name(e.group("path"))
                yield Event(
                    kind="acl:error",
                    origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
                    severity=Severity.ERROR,
                    code=win32,
                    message=clip(line.strip()),
                    fields={
                        "object": clip(obj),
                        "object_type": otype,
                        "win32": win32,
                        "message": clip(e.group("message").strip()),
                    },
                )
                continue
            if prev is not None:
                ctx.warn("line is not icacls output", prev[0])
            prev = (lineno, offset, line)
        if block:
            yield from self._object(block, ctx)
        if prev is not None:
            ctx.warn("line is not icacls output", prev[0])

    def _object(self, block: list[tuple[int, int, str]], ctx: ParseContext) -> Iterator[Event]:
        lineno, offset, first = block[0]
        m = ACE_TAIL.match(first)
        assert m is not None
        # continuation lines are indented with blanks (one column each) to the first principal
        indents = [len(ln) - len(ln.lstrip()) for _, _, ln in block[1:]]
        indent = min(indents) if indents else None
        path, principal = split_first(m.group("head"), indent)
        entries = [(principal, m.group("perms"))]
        for _, _, ln in block[1:]:
            t = ACE_TAIL.match(ln)
            if t:
                entries.append((t.group("head").strip(), t.group("perms")))
        obj, otype = object_name(path)
        aces: list[sddl.Ace] = []
        names: dict[str, str] = {}
        texts: list[str] = []
        for who, perms in entries:
            parsed = parse_perms(perms)
            if parsed is None or not who:
                ctx.warn(f"icacls ACE not understood: {who[:60]}:{perms[:40]}", lineno)
                continue
            kind, flags, mask = parsed
            sid = sddl.sid_for_name(who) or who
            names.setdefault(sid, who)
            code = {"allow": "A", "deny": "D", "label": "ML"}[kind]
            aces.append(sddl.Ace(kind, code, flags, mask, sid, who))
            texts.append(perms)
        origin = Origin(ctx.artifact, line=lineno, offset=offset, text=clip(first))
        yield object_event(obj, otype, origin, aces, names=names)
        yield from ace_events(aces, obj, otype, origin, names, rights_text=texts)

    def _saved(
        self, path_line: tuple[int, int, str], sddl_line: tuple[int, int, str], ctx: ParseContext
    ) -> Iterator[Event]:
        lineno, offset, text = sddl_line
        try:
            sd = sddl.parse_sddl(text.strip())
        except sddl.SddlError as e:
            ctx.warn(f"SDDL not understood: {e}", lineno)
            return
        obj, otype = object_name(path_line[2])
        origin = Origin(ctx.artifact, line=lineno, offset=offset, text=clip(text))
        yield object_event(obj, otype, origin, sd.dacl, sd=sd)
        if sd.dacl:
            yield from ace_events(sd.dacl, obj, otype, origin)
