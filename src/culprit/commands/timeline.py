"""``culprit timeline PATH``: every artifact's events merged by UTC time."""

from __future__ import annotations

import argparse
import heapq
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
        keep = lambda e: (e.time is not None or args.untimed) and (pred is None or pred(e))  # noqa: E731
        # Captures are already in time order: they stream through a merge without being held in memory;
        # text logs (small, and not always monotonic: clock changes) are sorted first.
        runs = []
        for a in ws.artifacts:
            if a.kind in ("procmon", "procmon-csv"):
                runs.append(e for e in a.stream() if keep(e))
            else:
                runs.append(iter(sorted((e for e in a.events if keep(e)), key=lambda e: e.time or _NEVER)))
        merged = heapq.merge(*runs, key=lambda e: e.time or _NEVER)
        render.write(merged, out, args.format, source=True)
        for a in ws.artifacts:
            if a.parser is None:
                print(f"skipped: {a.name}: {a.skipped}", file=sys.stderr)
        off = ws.utc_offset
        zone = "unknown" if off is None else f"UTC{'+' if off >= 0 else '-'}{abs(off) // 60:02d}:{abs(off) % 60:02d}"
        print(f"time zone: {zone} ({ws.offset_source})", file=sys.stderr)
        for w in ws.all_warnings()[:50]:
            where = f":{w.line}" if w.line else ""
            print(f"warning: {w.artifact}{where}: {w.message}", file=sys.stderr)
    return ExitCode.OK
