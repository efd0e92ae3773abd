"""``culprit analyze PATH... [--good PATH]``: the failure, the chain, the culprit, the allow-list."""

from __future__ import annotations

import argparse
import json
import sys

from culprit import pipeline
from culprit.analysis import analyze
from culprit.commands._common import add_lang, add_output, add_tz, output
from culprit.errors import ExitCode, InputError, UsageError
from culprit.progress import Progress
from culprit.report import text as text_report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("analyze", help="why did the install fail, what blocked it, what to allow")
    p.add_argument("paths", nargs="+", metavar="PATH", help="evidence from the failing machine")
    p.add_argument("--good", action="append", default=[], metavar="PATH",
                   help="evidence from a machine where the same install works")
    add_output(p, ("text", "json", "md", "html", "pdf"), default="text")
    add_lang(p)
    add_tz(p)
    return p


def run(args: argparse.Namespace) -> int:
    if args.format == "pdf" and (not args.output or args.output == "-") and sys.stdout.isatty():
        raise UsageError("a PDF is binary: write it to a file with -o FILE")
    with pipeline.load(args.paths, good=args.good, utc_offset=args.tz) as ws:
        with Progress(len(ws.artifacts), "reading") as bar:
            for a in ws.artifacts:
                if a.kind not in ("procmon", "procmon-csv"):  # captures are read column-wise by the analysis
                    _ = a.events
                bar.step(a.name)
        result = analyze(ws, lang=args.lang)
    bad = [a for a in result.artifacts if not a.skipped]
    if bad and not any(a.events for a in bad):
        raise InputError("nothing usable in the input: every file it holds is empty of records")
    if args.format in ("md", "html", "pdf"):  # case summary (culprit.report.render)
        from culprit.report.render import render

        doc = render(result.to_dict(), args.format, args.lang)
        with output(args.output, binary=isinstance(doc, bytes)) as out:
            out.write(doc)
        return ExitCode.OK
    with output(args.output) as out:
        if args.format == "json":
            json.dump(result.to_dict(), out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            text_report.write(result, out, lang=args.lang)
    return ExitCode.OK
