"""``culprit report ANALYSIS.json``: case summary or email draft from a saved analysis (md, html, pdf)."""

from __future__ import annotations

import argparse
import json
import sys

from culprit.commands._common import add_lang, output
from culprit.errors import ExitCode, InputError, UsageError
from culprit.report.render import FORMATS, TEMPLATES, render


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="case summary or case email (md, html, pdf) from a saved analysis JSON")
    p.add_argument(
        "analysis", metavar="ANALYSIS.json", help="output of `culprit analyze --format json` (- for stdin)"
    )
    p.add_argument(
        "--format", "-f", choices=FORMATS, default="md", help="output format (default: %(default)s)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    add_lang(p)
    p.add_argument(
        "--template",
        "-t",
        choices=TEMPLATES,
        default="summary",
        help="summary: case summary; scope: scope-definition email; request: evidence-request email",
    )
    p.add_argument("--case", metavar="CAS-...", help="case number shown in the title or subject")
    p.add_argument("--upload-link", metavar="URL", help="the case's upload link, for the request email")
    return p


def load(path: str) -> dict:
    """Read an analysis JSON file (or stdin), with clear errors for missing, unreadable or bad JSON."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8-sig") as fp:
                text = fp.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as UTF-8 text ({e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None


def run(args: argparse.Namespace) -> int:
    if args.format == "pdf" and not args.output and sys.stdout.isatty():
        raise UsageError("a PDF is binary: write it to a file with -o FILE")
    d = load(args.analysis)
    result = render(d, args.format, args.lang, args.template, args.case, args.upload_link)
    binary = isinstance(result, bytes)
    with output(args.output, binary=binary) as out:
        out.write(result)
    return ExitCode.OK
