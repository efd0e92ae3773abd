"""``culprit timeline PATH``: every artifact's events merged by UTC time."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from culprit import pipeline, query
from culprit.commands._common import add_output, add_tz, output
from culprit.errors import ExitCode
from culprit.report import events as render

_NEVER = datetime.min.replace(tzinfo=UTC)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("timeline", help="all events of a bundle merged by UTC time, with a source column")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--where", metavar="EXPR", help="filter events (same language as inspect --where)")
    p.add_argument("--untimed", action="store_true", help="also list events that carry no time")
    add_output(p, ("table", "json", "csv"), default="table")
    add_tz(p)
    return p


def run(args: argparse.Namespace) -> int:
    pred = query.compile_where(args.where) if args.where else None
    with pipeline.load(args.paths, utc_offset=args.tz) as ws, output(args.output) as out:
        evs = [e for e in ws.events(role=None) if (e.time is not None or args.untimed) and (pred is None or pred(e))]
        evs.sort(key=lambda e: e.time or _NEVER)  # stable: file order kept within a second
        render.write(evs, out, args.format, source=True)
        for a in ws.artifacts:
            if a.parser is None:
                print(f"skipped: {a.name}: {a.skipped}", file=sys.stderr)
        print(f"time zone: {ws.utc_offset if ws.utc_offset is not None else 'unknown'} ({ws.offset_source})",
              file=sys.stderr)
        for w in ws.all_warnings()[:50]:
            where = f":{w.line}" if w.line else ""
            print(f"warning: {w.artifact}{where}: {w.message}", file=sys.stderr)
    return ExitCode.OK
