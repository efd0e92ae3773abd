"""``culprit fleet PATHS... [--scheduler tcp://HOST:PORT] [--workers N] -o OUTDIR``: a fleet at once."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from culprit.errors import ExitCode, UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fleet",
        help="analyze many endpoints' bundles on Dask and cluster them by root cause",
        description="Analyze every bundle on Dask (a LocalCluster, or --scheduler), one row per endpoint in "
        "OUTDIR/endpoints.parquet, clusters by root-cause signature in OUTDIR/summary[.zh].{md,html} and "
        "clusters.json. A rerun with the same OUTDIR skips bundles already done.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a folder of bundles, a bundle folder, a glob, an archive, or a text file listing bundles",
    )
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="use this running Dask scheduler")
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (default: CPU count); with --scheduler, workers to wait for",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created)")
    p.add_argument(
        "--no-resume", action="store_true", help="analyze every bundle again, ignoring the journal"
    )
    return p


def run(args: argparse.Namespace) -> int:
    from culprit.fleet import runner

    if args.scheduler and "://" not in args.scheduler and ":" not in args.scheduler:
        raise UsageError(f"--scheduler {args.scheduler!r}: give tcp://HOST:PORT")
    tty = sys.stderr.isatty()
    bar = _Bar() if tty else None
    try:
        result = runner.run(
            args.paths,
            args.output,
            scheduler=args.scheduler,
            workers=args.workers,
            resume=not args.no_resume,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.end()
    for n in result.notes:
        print(f"note: {n}", file=sys.stderr)
    problems = [c for c in result.clusters if c.outcome in ("explained", "unexplained")]
    print(
        f"{len(result.rows)} bundles ({result.analyzed} analyzed, {result.reused} reused, {result.errors} "
        f"unreadable) on {result.workers} worker(s) in {result.seconds:.1f} s; "
        f"{len(problems)} distinct problem(s)"
    )
    for c in result.clusters[:10]:
        what = " · ".join(x for x in (c.failure, c.failure_code, c.finding, c.culprit) if x) or c.outcome
        print(f"  {c.count:6d}  {c.signature}  {what}")
    print(
        f"written: {result.outdir}/endpoints.parquet, clusters.json, summary.md, summary.html, "
        f"summary.zh.md, summary.zh.html"
    )
    return ExitCode.OK


class _Bar:
    """One progress line on a terminal (stderr), redrawn in place."""

    def __init__(self) -> None:
        self.shown = False
        self.last = 0.0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and p.done < p.total:
            return  # at most ten redraws a second
        self.last = now
        line = (
            f"\r{p.done}/{p.total} bundles  {p.analyzed} analyzed  {p.reused} reused  {p.errors} unreadable  "
            f"{p.rate:.1f}/s\x1b[K"
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
