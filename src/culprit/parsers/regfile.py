"""Registry export files (``.reg``): ``Windows Registry Editor Version 5.00`` and ``REGEDIT4``.

Format::

    Windows Registry Editor Version 5.00

    [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmdK8]
    "Start"=dword:00000001
    "ImagePath"=hex(2):73,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,\\
      44,00,52,00,49,00,56,00,45,00,52,00,53,00,00,00
    @="default value"
    "Gone"=-
    [-HKEY_LOCAL_MACHINE\\SOFTWARE\\Obsolete]

Strings are quoted with ``\\\\`` and ``\\"`` escapes; ``@`` is the default value; ``dword:`` is 8 hex
digits; ``hex:`` is REG_BINARY; ``hex(N):`` carries type N (2 EXPAND_SZ, 7 MULTI_SZ, b QWORD, 0
NONE...) as comma-separated bytes, strings as UTF-16LE with NULs in version 5.00 (ANSI in
REGEDIT4); long hex runs end lines with ``\\`` and continue on the next line, indented two
spaces. ``[-KEY]`` deletes a key, ``"Name"=-`` a value; ``;`` starts a comment.

Where it lives: wherever ``regedit /e`` or ``reg export`` wrote it. Version 5.00 files are
UTF-16LE with BOM; REGEDIT4 files are ANSI (CP1252, CP936 on zh-CN).

Events (the same kinds as ``reg query`` output, see ``regquery``):
    ``reg:key`` — fields ``key``, ``key_abbrev``, ``deleted`` (bool).
    ``reg:value`` — fields ``key``, ``key_abbrev``, ``name`` ("" for ``@``), ``type``
    (``REG_SZ``, ``REG_DWORD``...), ``data`` (str; int for DWORD/QWORD; list of str for
    MULTI_SZ; uppercase hex string for binary types; None when deleted), ``raw`` (the value
    text as written, continuation lines joined, bounded), ``deleted`` (bool).
    Origin = the first line of the record.

References: formats.md §9; Microsoft Learn "How to add, modify, or delete registry subkeys and
values by using a .reg file".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin
from culprit.parsers import register
from culprit.parsers._tables import abbreviate_key, clip, tool_lines
from culprit.parsers.base import ParseContext, Parser, Source
from culprit.parsers.procmon.consts import REG_TYPES

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"
MAX_VALUE_CHARS = 8 * 1024 * 1024  # a continued hex value longer than this is cut with a warning

TYPES = REG_TYPES  # registry value types by number (one table for .reg files and Procmon)

# [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\AmdK8]     [-HKEY_CURRENT_USER\Software\X]
_KEY = re.compile(r"^\[(?P<del>-?)(?P<key>[^\]]*)\]\s*$")
# "Start"=dword:00000001     @="x"     "Gone"=-
_VALUE = re.compile(r'^(?:"(?P<name>(?:[^"\\]|\\.)*)"|(?P<default>@))\s*=\s*(?P<rest>.*)$', re.S)
# dword:00000001
_DWORD = re.compile(r"^dword:(?P<hex>[0-9a-fA-F]{1,8})\s*$", re.I)
# hex(2):73,00,79,00     hex:01,02
_HEX = re.compile(r"^hex(?:\((?P<type>[0-9a-fA-F]{1,8})\))?:(?P<bytes>.*)$", re.I | re.S)
_HEX_BYTE = re.compile(r"^[0-9a-fA-F]{1,2}$")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _quoted(rest: str) -> str | None:
    """The string of a ``"..."`` data part, None when unterminated."""
    if not rest.startswith('"'):
        return None
    m = re.match(r'^"((?:[^"\\]|\\.)*)"\s*$', rest, re.S)
    return _unescape(m.group(1)) if m else None


@register
class RegFileParser(Parser):
    name = "regfile"
    description = "registry export .reg files (Version 5.00 UTF-16LE and REGEDIT4)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        for line in text.lstrip("\ufeff").splitlines()[:5]:
            s = line.strip()
            if not s:
                continue
            if s == HEADER_V5 or s.upper() == HEADER_V4:
                return 0.99
            return 0.0
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        v4 = False
        ansi = "cp1252" if source.encoding.wide or source.encoding.name == "utf-8" else source.encoding.name
        key: str | None = None
        pending: list[str] = []  # a value whose hex continues on the next lines
        pending_len = 0
        start: tuple[int, int] = (0, 0)
        seen_header = False
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if pending:
                pending.append(line.strip())
                pending_len += len(pending[-1])
                if pending_len > MAX_VALUE_CHARS:
                    ctx.warn(f"value longer than {MAX_VALUE_CHARS:,} characters cut", lineno)
                    pending[-1] = pending[-1].rstrip("\\")
                if pending[-1].endswith("\\"):
                    continue
                ev = self._value(pending, key, start, ctx, v4, ansi)
                pending = []
                if ev:
                    yield ev
                continue
            s = line.strip()
            if not s or s.startswith(";"):
                continue
            if not seen_header:
                seen_header = True
                if s == HEADER_V5:
                    continue
                if s.upper() == HEADER_V4:
                    v4 = True
                    continue
                ctx.warn("no .reg header (Windows Registry Editor Version 5.00 / REGEDIT4)", lineno)
            m = _KEY.match(s)
            if m:
                deleted = bool(m.group("del"))
                key = m.group("key").strip()
                if not key:
                    ctx.warn("empty key name", lineno)
                    key = None
                    continue
                yield Event(
                    kind="reg:key",
                    origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
                    message=("delete " if deleted else "") + clip(key),
                    fields={"key": clip(key), "key_abbrev": clip(abbreviate_key(key)), "deleted": deleted},
                )
                continue
            if _VALUE.match(s):
                start = (lineno, offset)
                if s.endswith("\\") and _HEX.match(_VALUE.match(s).group("rest")):  # type: ignore[union-attr]
                    pending = [s]
                    pending_len = len(s)
                    continue
                ev = self._value([s], key, start, ctx, v4, ansi)
                if ev:
                    yield ev
                continue
            ctx.warn("line is not part of a .reg file", lineno)
        if pending:
            ctx.warn("file ends inside a continued value", start[0])
            ev = self._value(pending, key, start, ctx, v4, ansi)
            if ev:
                yield ev

    def _value(
        self,
        parts: list[str],
        key: str | None,
        start: tuple[int, int],
        ctx: ParseContext,
        v4: bool,
        ansi: str,
    ) -> Event | None:
        lineno, offset = start
        text = "".join(p.rstrip("\\").strip() if i else p.rstrip("\\") for i, p in enumerate(parts))
        m = _VALUE.match(text)
        if m is None:
            ctx.warn("value line does not parse", lineno)
            return None
        if key is None:
            ctx.warn("value before any [key]", lineno)
            return None
        name = "" if m.group("default") else _unescape(m.group("name"))
        rest = m.group("rest").strip()
        fields: dict[str, Any] = {
            "key": clip(key),
            "key_abbrev": clip(abbreviate_key(key)),
            "name": clip(name),
        }
        decoded = self._data(rest, v4, ansi)
        if decoded is None:
            ctx.warn(f"value data not understood: {rest[:60]!r}", lineno)
            return None
        rtype, data, deleted = decoded
        if isinstance(data, str):
            data = clip(data)
        fields.update({"type": rtype, "data": data, "raw": clip(rest), "deleted": deleted})
        label = name or "(Default)"
        msg = f"delete {label}" if deleted else f"{label} {rtype} {clip(str(data), 200)}"
        return Event(
            kind="reg:value",
            origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(parts[0])),
            message=msg,
            fields=fields,
        )

    @staticmethod
    def _data(rest: str, v4: bool, ansi: str) -> tuple[str | None, Any, bool] | None:
        """``(type, data, deleted)`` for a value's data part, None if it is not understood."""
        if rest == "-":
            return None, None, True
        if rest.startswith('"'):
            s = _quoted(rest)
            return None if s is None else ("REG_SZ", s, False)
        m = _DWORD.match(rest)
        if m:
            return "REG_DWORD", int(m.group("hex"), 16), False
        m = _HEX.match(rest)
        if not m:
            return None
        tnum = int(m.group("type"), 16) if m.group("type") else 3
        rtype = TYPES.get(tnum, f"REG_TYPE_{tnum}")
        items = [b.strip() for b in m.group("bytes").split(",") if b.strip()]
        if not all(_HEX_BYTE.match(b) for b in items):
            return None
        blob = bytes(int(b, 16) for b in items)
        return rtype, decode_blob(tnum, blob, v4, ansi), False


def decode_blob(tnum: int, blob: bytes, v4: bool = False, ansi: str = "cp1252") -> Any:
    """The value of ``hex(N):`` bytes: text for string types, int for DWORD/QWORD, hex otherwise.

    Args:
        tnum: the registry type number.
        blob: the bytes.
        v4: REGEDIT4 file (strings in the ANSI code page, not UTF-16LE).
        ansi: the ANSI code page of a REGEDIT4 file.
    """
    if tnum in (1, 2, 6, 7):
        if v4:
            text = blob.decode(ansi, errors="replace")
        else:
            text = blob[: len(blob) - len(blob) % 2].decode("utf-16-le", errors="replace")
        if tnum == 7:
            return [s for s in text.split("\x00") if s]
        return text.split("\x00", 1)[0]
    if tnum == 4 and len(blob) == 4:
        return int.from_bytes(blob, "little")
    if tnum == 5 and len(blob) == 4:
        return int.from_bytes(blob, "big")
    if tnum == 11 and len(blob) == 8:
        return int.from_bytes(blob, "little")
    return blob.hex().upper()
