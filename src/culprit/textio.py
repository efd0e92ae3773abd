"""Text decoding the way Windows writes logs: BOMs, UTF-16LE without BOM, UTF-8, ANSI.

Sniff order (formats.md §0): BOM ``FF FE`` → UTF-16LE; ``EF BB BF`` → UTF-8; no BOM but many
NUL bytes at odd offsets of the head → UTF-16LE; otherwise strict UTF-8 over the head, falling
back to the ANSI code page: CP936 (GBK) when the bytes decode as GBK and read as Chinese, or
when the bundle says the machine is zh-CN; cp1252 otherwise.

Lines are read as a stream (memory stays flat on multi-GB logs). A line longer than
``MAX_LINE`` characters is cut and the cut is reported, never silently dropped.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 64 * 1024
MAX_LINE = 1024 * 1024  # characters kept of one line
_CHUNK = 1 << 20

_CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


@dataclass(frozen=True, slots=True)
class Encoding:
    """The encoding chosen for an artifact and how many bytes of BOM to skip."""

    name: str  # Python codec name: utf-8, utf-16-le, gbk, cp1252
    bom: int = 0
    why: str = ""

    @property
    def label(self) -> str:
        """The name recorded on the artifact (``utf-16le-bom``, ``gbk``...)."""
        base = {"utf-8": "utf-8", "utf-16-le": "utf-16le", "utf-16-be": "utf-16be", "gbk": "cp936"}.get(
            self.name, self.name)
        return base + ("-bom" if self.bom else "")

    @property
    def wide(self) -> bool:
        return self.name in ("utf-16-le", "utf-16-be")


def looks_binary(head: bytes) -> bool:
    """True for data that is no text in any encoding we read (NULs not in a UTF-16 pattern)."""
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)) or _utf16_without_bom(head):
        return False
    # Judge by the beginning: binary formats announce themselves in their header, while a damaged log
    # (garbage or NULs further in) is still a log whose damage the parser reports line by line.
    sample = head[:2048]
    if b"\x00" in sample:
        return True
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return ctrl > len(sample) // 20


def _utf16_without_bom(head: bytes) -> bool:
    sample = head[:400]
    if len(sample) < 4:
        return False
    odd = sample[1::2]
    even = sample[0::2]
    return odd.count(0) >= 0.6 * len(odd) and even.count(0) < 0.2 * len(even)


def code_page_codec(code_page: int | str | None) -> str | None:
    """Python's codec for a Windows ANSI code page (936 → gbk, 1251 → cp1251), None if unknown."""
    if code_page in (None, ""):
        return None
    try:
        n = int(str(code_page).lower().removeprefix("cp"))
    except ValueError:
        return None
    name = {936: "gbk", 65001: "utf-8"}.get(n, f"cp{n}")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def sniff_encoding(head: bytes, locale: str | None = None, code_page: int | str | None = None) -> Encoding:
    """Choose the encoding of a file from its first bytes.

    Args:
        head: the first bytes of the file (64 KiB is plenty).
        locale: the machine's locale if the bundle says it (``zh-CN`` prefers CP936).
        code_page: the machine's ANSI code page if the bundle says it (the collector's manifest does):
            8-bit text that is not UTF-8 is read in it.
    """
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", 2, "BOM FF FE")
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", 2, "BOM FE FF")
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", 3, "BOM EF BB BF")
    if _utf16_without_bom(head):
        return Encoding("utf-16-le", 0, "NUL bytes at odd offsets")
    try:
        head.decode("utf-8")
        return Encoding("utf-8", 0, "valid UTF-8")
    except UnicodeDecodeError as e:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if e.start >= len(head) - 3 and e.reason == "unexpected end of data":
            return Encoding("utf-8", 0, "valid UTF-8")
    cp = code_page_codec(code_page)
    if cp and cp != "utf-8":
        return Encoding(cp, 0, f"not UTF-8; the machine's ANSI code page {code_page}")
    zh = bool(locale and locale.lower().startswith("zh"))
    try:
        text = head.decode("gbk")
        if zh or _CJK.search(text):
            return Encoding("gbk", 0, "not UTF-8; decodes as GBK" + (" (zh-CN machine)" if zh else ""))
    except UnicodeDecodeError as e:
        if zh and e.start >= len(head) - 1:
            return Encoding("gbk", 0, "not UTF-8; zh-CN machine")
    return Encoding("cp1252", 0, "not UTF-8; ANSI fallback")


def decode(data: bytes, enc: Encoding) -> str:
    """Decode a whole small buffer (no BOM in the result, bad bytes replaced)."""
    return data[enc.bom :].decode(enc.name, errors="replace")


WarnFn = Callable[[str, int], None]


def iter_lines(
    fp: BinaryIO, enc: Encoding, warn: WarnFn | None = None, max_line: int = MAX_LINE
) -> Iterator[tuple[int, int, str]]:
    """Yield ``(line_number, byte_offset, text)`` for every line of a text stream.

    Line numbers are 1-based and count CRLF or LF line ends. Text has no line end. Bytes
    that do not decode are replaced (U+FFFD) and reported once per line through ``warn``.
    """
    fp.seek(enc.bom)
    if enc.wide:
        yield from _iter_wide(fp, enc, warn, max_line)
    else:
        yield from _iter_narrow(fp, enc, warn, max_line)


def _iter_narrow(fp: BinaryIO, enc: Encoding, warn: WarnFn | None, max_line: int) -> Iterator[tuple[int, int, str]]:
    offset = enc.bom
    lineno = 0
    limit = max_line * 2 if enc.name == "gbk" else max_line
    while True:
        raw = fp.readline(limit)
        if not raw:
            return
        lineno += 1
        start = offset
        offset += len(raw)
        if not raw.endswith(b"\n"):
            # Either the last line, or a line over the limit: skip the rest of it.
            extra = 0
            while True:
                more = fp.readline(_CHUNK)
                if not more:
                    break
                extra += len(more)
                if more.endswith(b"\n"):
                    break
            if extra:
                offset += extra
                if warn:
                    warn(f"line longer than {max_line:,} characters cut ({len(raw) + extra:,} bytes)", lineno)
        text = _strip_eol(raw)
        try:
            line = text.decode(enc.name)
        except UnicodeDecodeError:
            line = text.decode(enc.name, errors="replace")
            if warn:
                warn(f"bytes not valid {enc.label} replaced", lineno)
        yield lineno, start, line


def _strip_eol(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith(b"\n"):
        return raw[:-1]
    return raw


def _iter_wide(fp: BinaryIO, enc: Encoding, warn: WarnFn | None, max_line: int) -> Iterator[tuple[int, int, str]]:
    dec = codecs.getincrementaldecoder(enc.name)(errors="replace")
    buf = ""
    buf_offset = enc.bom  # byte offset of buf[0] (UTF-16: 2 bytes a code unit, surrogates aside)
    lineno = 0
    overflow = False
    while True:
        chunk = fp.read(_CHUNK)
        final = not chunk
        buf += dec.decode(chunk, final)
        while True:
            nl = buf.find("\n")
            if nl < 0:
                break
            line = buf[:nl]
            consumed = nl + 1
            if overflow:
                overflow = False
                buf_offset += consumed * 2
                buf = buf[consumed:]
                continue
            lineno += 1
            yield lineno, buf_offset, _cut(line.removesuffix("\r"), max_line, lineno, warn)
            buf_offset += consumed * 2
            buf = buf[consumed:]
        if len(buf) > max_line and not overflow:
            lineno += 1
            if warn:
                warn(f"line longer than {max_line:,} characters cut", lineno)
            yield lineno, buf_offset, buf[:max_line]
            buf_offset += len(buf) * 2
            buf = ""
            overflow = True
        elif overflow:
            buf_offset += len(buf) * 2
            buf = ""
        if final:
            if buf and not overflow:
                lineno += 1
                yield lineno, buf_offset, buf.removesuffix("\r")
            return


def _cut(line: str, max_line: int, lineno: int, warn: WarnFn | None) -> str:
    if len(line) > max_line:
        if warn:
            warn(f"line longer than {max_line:,} characters cut", lineno)
        return line[:max_line]
    return line
