"""``culprit formats``: the formats culprit reads (the parser registry)."""

from __future__ import annotations

import argparse
import sys

from culprit import parsers
from culprit.errors import ExitCode


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser("formats", help="list the log formats culprit reads")


def run(args: argparse.Namespace) -> int:
    reg = parsers.load_all()
    for name in sorted(reg):
        cls = reg[name]
        tz = " (local time)" if cls.local_time else ""
        print(f"{name:18} {cls.description}{tz}")
    for mod, err in sorted(parsers.LOAD_ERRORS.items()):
        print(f"error: parser module {mod} did not load: {err}", file=sys.stderr)
    return ExitCode.FAILED if parsers.LOAD_ERRORS else ExitCode.OK
