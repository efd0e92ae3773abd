"""Flags and output plumbing shared by the sub-commands."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO

from culprit.errors import UsageError


def add_output(p: argparse.ArgumentParser, formats: tuple[str, ...], default: str = "text") -> None:
    p.add_argument("--format", "-f", choices=formats, default=default, help="output format (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="report language (default: %(default)s)")


def add_tz(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tz",
        metavar="OFFSET",
        type=parse_offset,
        help="the machine's UTC offset for local-time logs, e.g. +08:00 or 480 (minutes)",
    )


def parse_offset(text: str) -> int:
    t = text.strip()
    try:
        if ":" in t:
            sign = -1 if t.startswith("-") else 1
            h, m = t.lstrip("+-").split(":", 1)
            return sign * (int(h) * 60 + int(m))
        if t.upper() in ("UTC", "Z"):
            return 0
        return int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UTC offset: {text!r} (use +08:00 or minutes)") from None


@contextlib.contextmanager
def output(path: str | None, binary: bool = False) -> Iterator[IO]:
    """Standard output, or a file written whole (temp + rename) so a crash leaves no half file."""
    if not path or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    import os
    import tempfile

    if os.path.exists(path) and not os.path.isfile(path):
        # A device or pipe (/dev/null, a FIFO): write to it directly, never rename over it.
        with open(path, "wb" if binary else "w", encoding=None if binary else "utf-8") as fp:
            yield fp
        return
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise UsageError(f"cannot write {path}: folder {d} does not exist")
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".culprit-")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8", newline=None if binary else "") as fp:
            yield fp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
