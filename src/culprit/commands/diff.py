"""``culprit diff GOOD BAD``: what the failing run of an install does differently from a good run."""

from __future__ import annotations

import argparse
import dataclasses

from culprit.commands._common import add_lang, add_output, add_tz, output
from culprit.diff import compare
from culprit.diff.inputs import open_pair
from culprit.diff.render import write
from culprit.errors import ExitCode


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "diff",
        help="compare a Procmon capture of a good run with one of the failing run",
        description="GOOD and BAD are Procmon captures (PML or CSV export) or bundles holding one.",
    )
    p.add_argument("good", metavar="GOOD", help="capture or bundle from a machine where the install works")
    p.add_argument("bad", metavar="BAD", help="capture or bundle from the failing machine")
    p.add_argument(
        "--limit", type=int, default=25, metavar="N", help="differences shown in text (default 25)"
    )
    add_output(p, ("text", "json", "html"), default="text")
    add_lang(p)
    add_tz(p)
    return p


def run(args: argparse.Namespace) -> int:
    with open_pair(args.good, args.bad, utc_offset=args.tz) as pair:
        result = compare(pair.good, pair.bad)
        if pair.warnings:
            result = dataclasses.replace(result, warnings=(*pair.warnings, *result.warnings))
    with output(args.output) as out:
        write(result, out, args.format, args.lang, limit=max(1, args.limit))
    return ExitCode.OK
