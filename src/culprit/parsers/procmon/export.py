"""Write a capture (or the events a filter kept) in Procmon's own CSV conventions, and ``inspect`` for captures.

Format written: Procmon's CSV export — UTF-8 with BOM, CRLF, every field double-quoted (inner quotes
doubled), header = Procmon's column names in the chosen order. Times are en-US Procmon style
(``7:37:18.2093997 AM``, ``7/31/2020 7:37:18 AM``) in UTC unless a zone offset is given, so the file opens
wherever users already open Procmon CSVs (and reads back with :mod:`culprit.parsers.procmon.csvexport`).

References: ``shared/docs/formats.md`` §7.2; ``shared/corpus/procmon/NOTES.md`` (column formats).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

import numpy as np

from culprit.errors import UsageError
from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon.capture import Capture
from culprit.parsers.procmon.details import seconds
from culprit.parsers.procmon.structs import TICKS_PER_SECOND

DEFAULT_COLUMNS = ("Time of Day", "Process Name", "PID", "Operation", "Path", "Result", "Detail")
DAY = 86400 * TICKS_PER_SECOND


def _tod(ticks: int) -> str:
    s, f = divmod(ticks % DAY, TICKS_PER_SECOND)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h % 12 or 12}:{m:02d}:{sec:02d}.{f:07d} {'AM' if h < 12 else 'PM'}"


def _date(ticks: int) -> str:
    from datetime import datetime, timedelta

    d = datetime(1601, 1, 1) + timedelta(microseconds=ticks // 10)  # noqa: DTZ001 - wall clock of the zone
    return f"{d.month}/{d.day}/{d.year} {d.hour % 12 or 12}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"


def _relative(ticks: int) -> str:
    s, f = divmod(max(ticks, 0), TICKS_PER_SECOND)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{f:07d}"


def _getters(cap: Capture, shift: int) -> dict[str, Callable[[int], str]]:
    first = int(cap.time[0]) if len(cap) else 0

    def proc(attr: str, fmt: Callable[[Any], str] = str) -> Callable[[int], str]:
        def get(i: int) -> str:
            p = cap.process(i)
            v = getattr(p, attr, None) if p is not None else None
            return "" if v is None else fmt(v)

        return get

    def duration(i: int) -> str:
        return seconds(int(cap.duration[i])) if cap.result_name(i) else ""

    def completion(i: int) -> str:
        return _tod(int(cap.time[i]) + shift + int(cap.duration[i])) if cap.result_name(i) else ""

    def auth(v: int) -> str:
        return f"{v >> 32:08x}:{v & 0xFFFFFFFF:08x}"

    return {
        "Time of Day": lambda i: _tod(int(cap.time[i]) + shift),
        "Date & Time": lambda i: _date(int(cap.time[i]) + shift),
        "Relative Time": lambda i: _relative(int(cap.time[i]) - first),
        "Completion Time": completion,
        "Duration": duration,
        "Process Name": proc("name"),
        "PID": lambda i: str(int(cap.pid[i])),
        "TID": lambda i: str(int(cap.tid[i])),
        "Operation": lambda i: cap.operation_names[int(cap.operation_id[i])],
        "Path": cap.path_of,
        "Result": cap.result_name,
        "Detail": cap.detail,
        "Event Class": lambda i: C.EVENT_CLASSES.get(int(cap.event_class[i]), ""),
        "Sequence": lambda i: "n/a",
        "Image Path": proc("image_path"),
        "Company": proc("company"),
        "Description": proc("description"),
        "Version": proc("version"),
        "User": proc("user"),
        "Integrity": proc("integrity"),
        "Command Line": proc("command_line"),
        "Session": proc("session"),
        "Authentication ID": proc("auth_id", auth),
        "Virtualized": proc("virtualized"),
        "Parent PID": proc("parent_pid"),
        "Architecture": proc("architecture"),
    }


def parse_columns(text: str | None) -> list[str]:
    """``--columns``: a comma list of Procmon column names; a leading ``+`` adds them to the defaults.

    Raises:
        UsageError: an unknown column name (the message lists the known ones).
    """
    if not text:
        return list(DEFAULT_COLUMNS)
    add = text.startswith("+")
    names = [c.strip() for c in text.lstrip("+").split(",") if c.strip()]
    known = {k.casefold(): k for k in _getters(Capture("-"), 0)}
    out = list(DEFAULT_COLUMNS) if add else []
    for n in names:
        k = known.get(n.casefold())
        if k is None:
            raise UsageError(f"--columns: unknown column {n!r} (known: {', '.join(known.values())})")
        if k not in out:
            out.append(k)
    return out


def write_procmon_csv(
    cap: Capture,
    indexes: Iterable[int],
    out: IO[str],
    columns: Iterable[str] = DEFAULT_COLUMNS,
    tz_minutes: int = 0,
) -> int:
    """Write events as Procmon writes its CSV export; returns the number of rows.

    Args:
        cap: the capture.
        indexes: which events, in order.
        out: a text stream opened with ``newline=""`` (UTF-8).
        columns: Procmon column names, in order.
        tz_minutes: offset east of UTC for the times (0 = UTC).
    """
    cols = list(columns)
    get = _getters(cap, tz_minutes * 60 * TICKS_PER_SECOND)
    if hasattr(cap, "tz_minutes"):
        cap.tz_minutes = tz_minutes  # dates printed inside Detail follow the same zone
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    out.write("\ufeff")
    w.writerow(cols)
    fns = [get[c] for c in cols]
    n = 0
    for i in indexes:
        w.writerow([f(int(i)) for f in fns])
        n += 1
    return n


def inspect_capture(artifact: Any, args: Any, out: IO[str], source: bool, limit: int | None) -> int:
    """``culprit inspect`` for a Procmon artifact: columnar ``--where``, Procmon CSV for ``--format csv``."""
    from culprit.parsers.procmon import open_capture
    from culprit.report import events as render

    tz = getattr(args, "tz", None)
    cap = open_capture(artifact.source.path, artifact.name, utc_offset=artifact.utc_offset)
    with cap:
        idx = cap.where(args.where) if args.where else np.arange(len(cap))
        if limit is not None:
            idx = idx[: max(0, limit)]
        if args.format == "csv":
            shown = write_procmon_csv(cap, idx, out, parse_columns(getattr(args, "columns", None)), tz or 0)
            if cap.kind == "pml":
                zone = "UTC" if not tz else f"UTC{'+' if tz > 0 else '-'}{abs(tz) // 60:02d}:{abs(tz) % 60:02d}"
                print(f"{artifact.name}: times written in {zone} (the capture stores UTC; --tz +08:00 writes "
                      "them in that zone, as Procmon's own export on such a machine would)", file=sys.stderr)
        else:
            shown = render.write((cap.event(int(i)) for i in idx), out, args.format, source=source)
        print(
            f"{artifact.name}: {artifact.kind}, {cap.kind}, {len(cap):,} events, {len(idx):,} shown, "
            f"{len(cap.warnings):,} warnings",
            file=sys.stderr,
        )
        for w in cap.warnings[:50]:
            print(f"warning: {artifact.name}: {w}", file=sys.stderr)
    return shown
