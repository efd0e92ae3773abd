"""``culprit analyze PATH... [--good PATH]``: the failure, the chain, the culprit, the allow-list."""

from __future__ import annotations

import argparse

from culprit.commands import timeline
from culprit.commands._common import add_lang, add_output, add_tz


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("analyze", help="why did the install fail, what blocked it, what to allow")
    p.add_argument("paths", nargs="+", metavar="PATH", help="evidence from the failing machine")
    p.add_argument("--good", action="append", default=[], metavar="PATH",
                   help="evidence from a machine where the same install works")
    add_output(p, ("text", "json"), default="text")
    add_lang(p)
    add_tz(p)
    return p


def run(args: argparse.Namespace) -> int:
    # Until the analysis passes land, show the merged timeline of the failing machine.
    ns = argparse.Namespace(paths=args.paths, where=None, untimed=False,
                            format="json" if args.format == "json" else "table", output=args.output, tz=args.tz)
    return timeline.run(ns)
