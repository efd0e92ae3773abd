"""``culprit inspect FILE``: the parsed events of one artifact."""

from __future__ import annotations

import argparse
import sys

from culprit import pipeline, query
from culprit.commands._common import add_output, add_tz, non_negative, output
from culprit.errors import ExitCode
from culprit.report import events as render


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("inspect", help="show the parsed events of one file (or every file of a bundle)")
    p.add_argument("path", metavar="FILE")
    p.add_argument("--where", metavar="EXPR", help="filter, e.g. \"result = 'ACCESS DENIED' and path like '%%Services%%'\"")
    p.add_argument("--limit", type=non_negative, metavar="N", help="stop after N events")
    p.add_argument("--columns", metavar="LIST",
                   help="Procmon captures with --format csv: Procmon column names, e.g. \"+TID,Date & Time\" "
                        "(a leading + adds to the default Time of Day,Process Name,PID,Operation,Path,Result,Detail)")
    add_output(p, ("table", "json", "csv"), default="table")
    add_tz(p)
    return p


def run(args: argparse.Namespace) -> int:
    pred = query.compile_where(args.where) if args.where else None
    with pipeline.load([args.path], utc_offset=args.tz) as ws, output(args.output) as out:
        multi = len(ws.artifacts) > 1
        shown = 0
        for a in ws.artifacts:
            if a.parser is None:
                print(f"{a.name}: skipped: {a.skipped}", file=sys.stderr)
                continue
            if a.kind in ("procmon", "procmon-csv"):  # columnar --where, Procmon's own CSV conventions
                from culprit.parsers.procmon.export import inspect_capture

                left = None if args.limit is None else args.limit - shown
                shown += inspect_capture(a, args, out, multi, left)
                continue
            evs = (e for e in a.events if pred is None or pred(e))
            if args.limit is not None:
                evs = (e for _, e in zip(range(args.limit - shown), evs, strict=False))
            shown += render.write(evs, out, args.format, source=multi)
        if args.where:
            _unknown_fields(ws, args.where)
        warnings = ws.all_warnings()
        for w in warnings[:50]:
            where = f":{w.line}" if w.line else ""
            print(f"warning: {w.artifact}{where}: {w.message}", file=sys.stderr)
        if len(warnings) > 50:
            print(f"warning: {len(warnings) - 50:,} more not shown", file=sys.stderr)
        for a in ws.artifacts:
            if a.parser is None or a.kind in ("procmon", "procmon-csv"):
                continue
            info = a.info()
            print(f"{a.name}: {info.kind}, {info.encoding or 'binary'}, {info.events:,} events, "
                  f"{len(warnings):,} warnings", file=sys.stderr)
    return ExitCode.OK


def _unknown_fields(ws: pipeline.Workspace, where: str) -> None:
    """Say so when a --where field exists in no event read (a typo looks like an empty result)."""
    node = query.parse_where(where)
    names: list[str] = []

    def walk(n: object) -> None:
        if isinstance(n, query.Cmp):
            names.append(n.field)
        for attr in ("left", "right", "inner"):
            if hasattr(n, attr):
                walk(getattr(n, attr))

    walk(node)
    sample = [e for a in ws.artifacts if a.parser is not None and a.kind not in ("procmon", "procmon-csv")
              for e in a.events[:2000]]
    caps = [a for a in ws.artifacts if a.kind in ("procmon", "procmon-csv")]
    if caps:
        from culprit.parsers.procmon import open_capture

        for a in caps:
            try:
                cap = open_capture(a.source.path, a.name)
                sample += [cap.event(i) for i in range(min(len(cap), 500))]
                cap.close()
            except Exception:
                continue
    for f in dict.fromkeys(names):
        if sample and all(e.get(f) is None for e in sample):
            print(f"warning: --where: no event read has a field {f!r} (a typo?)", file=sys.stderr)
