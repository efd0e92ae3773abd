"""Helpers for the tool-output parser tests (fltmc, driverquery, tasklist, sc, reg, icacls, Get-Acl)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from culprit import parsers
from culprit.model import Event
from culprit.parsers.base import ParseContext, Parser, Source
from culprit.textio import Encoding


def run(
    parser: type[Parser], path: Path, name: str | None = None, encoding: Encoding | None = None
) -> tuple[list[Event], ParseContext]:
    """Parse one file with ``parser``; return its events and context (warnings)."""
    src = Source(path, name or path.name)
    if encoding is not None:
        src.__dict__["encoding"] = encoding  # force a (wrong) encoding
    ctx = ParseContext(src.name)
    return list(parser().parse(src, ctx)), ctx


def sniffed(path: Path) -> str | None:
    """The name of the parser the registry picks for ``path``."""
    cls, _ = parsers.sniff(Source(path, path.name))
    return cls.name if cls else None


def run_bytes(parser: type[Parser], data: bytes) -> tuple[list[Event], ParseContext]:
    """Parse bytes written to a temporary file (for property tests)."""
    fd, name = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        p = Path(name)
        src = Source(p, "prop.txt")
        parser.sniff(src)
        ctx = ParseContext("prop.txt")
        return list(parser().parse(src, ctx)), ctx
    finally:
        os.unlink(name)


def damaged_variants(sample: bytes, tmp: Path) -> dict[str, Path]:
    """Files for the damaged-input tests: truncated, garbage, a 10 MB line, garbage appended."""
    out = {
        "truncated": sample[: len(sample) // 2 + 3],
        "garbage": bytes(range(256)) * 40,
        "huge_line": sample + b"A" * (10 * 1024 * 1024) + b"\r\n" + sample,
        "garbage_lines": sample + b"\r\n\x01\x02 ### not tool output ###\r\n%%%%\r\n",
    }
    paths = {}
    for k, v in out.items():
        p = tmp / f"{k}.txt"
        p.write_bytes(v)
        paths[k] = p
    return paths
