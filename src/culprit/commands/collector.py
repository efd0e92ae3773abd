"""``culprit collector -o Collect-CulpritBundle.ps1``: write the Windows collector script."""

from __future__ import annotations

import argparse
import sys

from culprit import collector
from culprit.commands._common import output
from culprit.errors import ExitCode


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "collector",
        help="write the PowerShell script that collects every log culprit reads, in one run",
        description="Write Collect-CulpritBundle.ps1 (Windows PowerShell 5.1, nothing to install). "
        "Run it as administrator on the failing machine, e.g. "
        "powershell -ExecutionPolicy Bypass -File Collect-CulpritBundle.ps1 -Inf cpu.inf, "
        "and send back the zip it writes.",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=collector.SCRIPT_NAME,
        help="where to write the script (default: %(default)s; '-' for standard output)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    script = collector.generate()
    with output(args.output, binary=True) as out:
        out.write(script.encode("ascii"))
    if args.output and args.output != "-":
        print(f"wrote {args.output} ({len(script.splitlines())} lines)", file=sys.stderr)
    return ExitCode.OK
