"""``culprit collector -o Collect-CulpritBundle.ps1``: write the Windows collector script."""

from __future__ import annotations

import argparse
import sys

from culprit import collector
from culprit.commands._common import output
from culprit.errors import ExitCode, UsageError


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
    p.add_argument(
        "--service-keys",
        metavar="NAMES",
        action="append",
        default=[],
        help="default for the script's -ServiceKeys, e.g. AmdK8,AmdPPM",
    )
    p.add_argument(
        "--inf",
        metavar="NAMES",
        action="append",
        default=[],
        help="default for the script's -Inf, e.g. cpu.inf",
    )
    p.add_argument(
        "--acl-paths",
        metavar="PATHS",
        action="append",
        default=[],
        help="default for the script's -AclPaths (registry keys or files), comma-separated",
    )
    return p


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def run(args: argparse.Namespace) -> int:
    pairs = (("ServiceKeys", args.service_keys), ("Inf", args.inf), ("AclPaths", args.acl_paths))
    defaults = {name: _split(vals) for name, vals in pairs if _split(vals)}
    try:
        script = collector.generate(defaults=defaults)
    except collector.CollectorError as e:
        raise UsageError(str(e)) from None
    with output(args.output, binary=True) as out:
        out.write(script.encode("ascii"))
    if args.output and args.output != "-":
        print(f"wrote {args.output} ({len(script.splitlines())} lines)", file=sys.stderr)
    return ExitCode.OK
