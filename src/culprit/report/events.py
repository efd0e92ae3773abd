"""Render event streams (``inspect``, ``timeline``) as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable
from typing import IO

from culprit.model import Event, format_code, iso

COLUMNS = ("time", "source", "line", "kind", "severity", "process", "code", "message")


def _row(ev: Event, source: bool) -> dict[str, str]:
    where = ev.origin.line if ev.origin.line is not None else ev.origin.record
    proc = ""
    if ev.process:
        proc = (ev.process.name or "") + (f"[{ev.process.pid}]" if ev.process.pid is not None else "")
    return {
        "time": (iso(ev.time) or "") if ev.time else "",
        "source": ev.origin.artifact if source else "",
        "line": "" if where is None else str(where),
        "kind": ev.kind,
        "severity": str(ev.severity),
        "process": proc,
        "code": format_code(ev.code) or "",
        "message": ev.message.replace("\r", " ").replace("\n", " "),
    }


def write_table(events: Iterable[Event], out: IO[str], source: bool = False) -> int:
    """A fixed-width table, one event per line, message cut to the terminal width."""
    width = shutil.get_terminal_size((160, 24)).columns if out.isatty() else 10_000
    cols = [c for c in COLUMNS if source or c != "source"]
    widths = {"time": 27, "source": 40, "line": 7, "kind": 26, "severity": 7, "process": 22, "code": 10}
    head = "  ".join(c.upper().ljust(widths.get(c, 0)) for c in cols).rstrip()
    out.write(head + "\n")
    n = 0
    for ev in events:
        r = _row(ev, source)
        parts = []
        for c in cols:
            v = r[c]
            if c in widths:
                w = widths[c]
                if c == "source":
                    v = v if len(v) <= w else "…" + v[-(w - 1):]
                elif c != "kind":  # a kind is copied into --where: never cut it
                    v = v[:w]
                v = v.rjust(w) if c == "line" else v.ljust(w)
            parts.append(v)
        out.write("  ".join(parts)[:width].rstrip() + "\n")
        n += 1
    return n


def write_jsonl(events: Iterable[Event], out: IO[str]) -> int:
    n = 0
    for ev in events:
        out.write(json.dumps(ev.to_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(events: Iterable[Event], out: IO[str], source: bool = False) -> int:
    cols = [c for c in COLUMNS if source or c != "source"]
    w = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    n = 0
    for ev in events:
        w.writerow(_row(ev, source))
        n += 1
    return n


def write(events: Iterable[Event], out: IO[str], fmt: str, source: bool = False) -> int:
    if fmt == "json":
        return write_jsonl(events, out)
    if fmt == "csv":
        return write_csv(events, out, source)
    return write_table(events, out, source)
