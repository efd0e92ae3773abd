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
    """``+08:00``, ``-05:30``, ``UTC``, whole hours (``+8``, ``-5``) or minutes (``480``) east of UTC."""
    t = text.strip()
    bad = argparse.ArgumentTypeError(f"not a UTC offset: {text!r} (use +08:00, +8 or 480 minutes; "
                                     "UTC-12:00 to UTC+14:00)")
    try:
        if ":" in t:
            sign = -1 if t.startswith("-") else 1
            h, m = t.lstrip("+-").split(":", 1)
            if not (0 <= int(m) < 60):
                raise bad
            minutes = sign * (int(h) * 60 + int(m))
        elif t.upper() in ("UTC", "Z", "GMT"):
            minutes = 0
        else:
            n = int(t)
            minutes = n * 60 if abs(n) <= 14 else n  # "+8" means hours; 480 means minutes
    except ValueError:
        raise bad from None
    if not -12 * 60 <= minutes <= 14 * 60:
        raise bad
    return minutes


def non_negative(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {n}")
    return n


@contextlib.contextmanager
def output(path: str | None, binary: bool = False) -> Iterator[IO]:
    """Standard output, or a file written whole (temp + rename) so a crash leaves no half file."""
    if not path or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    import os
    import tempfile

    if os.path.isdir(path):
        raise UsageError(f"-o {path}: that is a folder; give a file name")
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the report is an ordinary file of the user's
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
