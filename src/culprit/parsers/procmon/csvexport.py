"""Procmon CSV export reader: the same capture API as the PML reader, from File > Save... > CSV.

Format: Process Monitor's CSV export (saved wherever the user chose, often next to the PML). UTF-8 with
BOM, CRLF records, every field double-quoted with inner quotes doubled; a Detail value may hold bare CR
characters (Process Start environments), so records are counted by CSV record, not by physical line.
The header row names the visible columns in display order (``Time of Day``, ``Process Name``, ``PID``,
``Operation``, ``Path``, ``Result``, ``Detail``, ``TID``, ``Date & Time``, ``Image Path``, ``Company``,
``Parent PID``, ``Architecture``...), so columns are mapped by name: any subset, any order.

Times are the exporting viewer's local time in its locale: ``7:37:18.2093997 AM`` (en-US), ``10:42:51.2347130``
(24-hour), ``下午 3:41:07.2700000`` (zh-CN) for Time of Day; ``7/31/2020 7:37:18 AM`` or ``2022/6/16 10:42:51``
for Date & Time. The date comes from Date & Time, the 100 ns fraction from Time of Day; without a Date &
Time column events have no date (``time`` None, ``fields.time_of_day`` kept).

Sample header and record::

    "Time of Day","Process Name","PID","Operation","Path","Result","Detail"
    "7:37:25.6861344 AM","Explorer.EXE","3344","Load Image","C:\\Windows\\System32\\cdprt.dll","SUCCESS","Image Base: 0x7ffa744e0000, Image Size: 0x204000"

References: ``shared/docs/formats.md`` §7.2; ``shared/corpus/procmon/NOTES.md``.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from culprit.model import Event, Origin
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source
from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon.capture import MAX_TEXT, Capture, split_detail
from culprit.parsers.procmon.structs import TICKS_PER_SECOND, ProcessRecord

COLUMNS = (
    "Time of Day",
    "Process Name",
    "PID",
    "Operation",
    "Path",
    "Result",
    "Detail",
    "Date & Time",
    "Relative Time",
    "Duration",
    "Completion Time",
    "Event Class",
    "Sequence",
    "Image Path",
    "Company",
    "Description",
    "Version",
    "User",
    "Authentication ID",
    "Session",
    "Command Line",
    "TID",
    "Virtualized",
    "Integrity",
    "Category",
    "Parent PID",
    "Architecture",
    "Process Start Time",
)
_KNOWN = {c.casefold() for c in COLUMNS}
MAX_FIELD = 16 << 20
BLOCK = 1 << 20  # bytes decoded at a time
# the columns a capture keeps; the rest of a record is dropped as it is read
KEPT = frozenset(
    {
        "Process Name",
        "Path",
        "Detail",
        "Result",
        "Operation",
        "Time of Day",
        "Date & Time",
        "PID",
        "TID",
        "Duration",
        "Event Class",
        "Image Path",
        "Company",
        "Parent PID",
        "Architecture",
        "Command Line",
        "User",
        "Integrity",
        "Description",
        "Version",
        "Session",
    }
)
NO_RESULT = 0xFFFFFFFF  # result names we cannot map to an NTSTATUS
_EPOCH = datetime(1601, 1, 1)  # noqa: DTZ001 - naive local dates count from here

# 7:37:18.2093997 AM | 10:42:51.2347130 | 下午 3:41:07.2700000 | 3:41:07 PM
_TOD = re.compile(
    r"^\s*(?P<pre>AM|PM|上午|下午)?\s*(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,7}))?\s*(?P<post>AM|PM|上午|下午)?\s*$",
    re.I,
)
# 7/31/2020 7:37:18 AM | 2022/6/16 10:42:51 | 2022-06-16 下午 3:41:07
_DATE = re.compile(r"^\s*(?P<a>\d{1,4})[/.-](?P<b>\d{1,2})[/.-](?P<c>\d{1,4})\s+(?P<time>.+)$")


def _header_cells(head: bytes) -> list[str] | None:
    if head.startswith(codecs.BOM_UTF8):
        text = head[3:].decode("utf-8", "replace")
    elif head.startswith(codecs.BOM_UTF16_LE):
        text = head[2:].decode("utf-16-le", "replace")
    else:
        text = head.decode("utf-8", "replace")
    first = text.split("\n", 1)[0].strip("\r")
    if not first.startswith('"') and "," not in first:
        return None
    try:
        return next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None


def looks_like_procmon_csv(head: bytes) -> bool:
    """True when the first row is a header of Procmon column names (any order, any subset of >= 3)."""
    cells = _header_cells(head)
    if not cells:
        return False
    known = sum(1 for c in cells if c.strip().casefold() in _KNOWN)
    return (
        known >= 3
        and known >= 0.8 * len(cells)
        and any(c.strip() in ("Operation", "Process Name", "Path") for c in cells)
    )


def parse_time_of_day(text: str) -> int | None:
    """``7:37:18.2093997 AM`` / ``下午 3:41:07.27`` / ``19:37:18`` as 100 ns ticks since midnight."""
    m = _TOD.match(text)
    if not m:
        return None
    h, mi, s = int(m["h"]), int(m["m"]), int(m["s"])
    mark = (m["pre"] or m["post"] or "").upper()
    if mark in ("PM", "下午") and h < 12:
        h += 12
    elif mark in ("AM", "上午") and h == 12:
        h = 0
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = int((m["f"] or "0").ljust(7, "0"))
    return ((h * 60 + mi) * 60 + s) * TICKS_PER_SECOND + frac


def parse_date_time(text: str) -> tuple[datetime, int] | None:
    """``7/31/2020 7:37:18 AM`` or ``2022/6/16 10:42:51`` as (midnight of that day, ticks into the day)."""
    m = _DATE.match(text)
    if not m:
        return None
    a, b, c = m["a"], int(m["b"]), m["c"]
    try:
        if len(a) == 4:  # Y/M/D (zh-CN, ISO)
            day = datetime(int(a), b, int(c))  # noqa: DTZ001 - local
        elif int(a) > 12:  # D/M/Y
            day = datetime(int(c), b, int(a))  # noqa: DTZ001
        else:  # M/D/Y (en-US)
            day = datetime(int(c), int(a), b)  # noqa: DTZ001
    except ValueError:
        return None
    tod = parse_time_of_day(m["time"])
    if tod is None:
        return None
    return day, tod


def _int(text: str) -> int | None:
    t = text.strip().replace(",", "")
    if not t:
        return None
    try:
        return int(t, 16) if t.lower().startswith("0x") else int(t)
    except ValueError:
        return None


class CsvCapture(Capture):
    """A Procmon CSV export opened as a capture (see :class:`culprit.parsers.procmon.capture.Capture`).

    Attributes:
        columns: the header names as exported.
        has_date: False when the export has no ``Date & Time`` column (events then have no date).
        utc_offset: minutes east of UTC of the exporting machine, used to compute ``time``.
    """

    kind = "csv"

    def __init__(self, path: str | Path, artifact: str | None = None, utc_offset: int | None = None) -> None:
        super().__init__(path, artifact)
        self.utc_offset = utc_offset or 0
        self.offset_known = utc_offset is not None
        self.columns: list[str] = []
        self.has_date = False
        self._rows_read = 0
        self._read()

    def _read(self) -> None:
        old = csv.field_size_limit()
        csv.field_size_limit(MAX_FIELD)
        try:
            with self.path.open("rb") as fp:
                cols = self._columns(csv.reader(self._lines(fp)))
        finally:
            csv.field_size_limit(old)
        self._build(cols)

    def _lines(self, fp: BinaryIO) -> Iterator[str]:
        """The file's text line by line (ends kept, for quoted fields that span lines), decoded a block at a
        time: memory is one block, not the file. Undecodable bytes are replaced and warned about once."""
        head = fp.read(3)
        if head.startswith(codecs.BOM_UTF16_LE):
            enc, start = "utf-16-le", 2
        else:
            enc, start = "utf-8", 3 if head.startswith(codecs.BOM_UTF8) else 0
        fp.seek(start)
        dec = codecs.getincrementaldecoder(enc)("strict")
        pos = start
        rest = ""
        while True:
            block = fp.read(BLOCK)
            final = not block
            try:
                text = dec.decode(block, final)
            except UnicodeDecodeError as e:
                where = pos + max(0, e.start - len(dec.getstate()[0]))
                self.warnings.append(f"not valid {enc.upper()} at byte {where:,}: undecodable bytes replaced")
                pending = dec.getstate()[0]
                dec = codecs.getincrementaldecoder(enc)("replace")
                text = dec.decode(pending + block, final)
            pos += len(block)
            # split on LF only: U+2028, VT, FF... inside a field are text, not record ends
            lines = (rest + text).split("\n")
            rest = lines.pop()
            for line in lines:
                yield line + "\n"
            if final:
                if rest:
                    yield rest
                return

    def _columns(self, reader: Iterator[list[str]]) -> dict[str, list[str]]:
        """The columns the capture keeps (by header name), read record by record."""
        try:
            header = next(reader)
        except StopIteration:
            self.warnings.append("empty CSV: no header row")
            return {}
        except csv.Error as e:
            self.warnings.append(f"header row unreadable: {e}")
            return {}
        self.columns = [h.strip() for h in header]
        width = len(self.columns)
        keep = [(name, j) for j, name in enumerate(self.columns) if name in KEPT]
        out: dict[str, list[str]] = {name: [] for name, _j in keep}
        appends = [(out[name].append, j) for name, j in keep]
        short = 0
        n = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                self.warnings.append(f"record {n + 1:,} unreadable ({e}): stopped, later records lost")
                break
            if len(row) != width:
                if not row:
                    continue
                short += 1
                row = (row + [""] * width)[:width]
            for add, j in appends:
                add(row[j])
            n += 1
        if short:
            self.warnings.append(f"{short:,} record(s) with a wrong number of fields (padded or cut)")
        self._rows_read = n
        return out

    def _build(self, cols: dict[str, list[str]]) -> None:
        n = self._rows_read

        def col(name: str) -> list[str] | None:
            return cols.get(name)

        self._proc_name = col("Process Name") or [""] * n
        self._path = col("Path") or [""] * n
        self._detail = col("Detail") or [""] * n
        self._result_text = col("Result") or [""] * n
        ops = col("Operation") or [""] * n
        tods = col("Time of Day")
        dts = col("Date & Time")
        self.has_date = dts is not None
        pids = col("PID")
        tids = col("TID")
        durs = col("Duration")
        classes = col("Event Class")
        extra = {
            k: col(k)
            for k in (
                "Image Path",
                "Company",
                "Parent PID",
                "Architecture",
                "Command Line",
                "User",
                "Integrity",
                "Description",
                "Version",
                "Session",
            )
        }
        if tods is None and dts is None:
            self.warnings.append("no Time of Day or Date & Time column: events have no time")
        elif dts is None:
            self.warnings.append("no Date & Time column: events carry only the time of day")

        self.pid = np.array([_int(v) or 0 for v in pids] if pids else [0] * n, dtype=np.uint32)
        self.tid = np.array([_int(v) or 0 for v in tids] if tids else [0] * n, dtype=np.uint32)
        names: dict[str, int] = {}
        self.operation_id = np.array([names.setdefault(o, len(names)) for o in ops], dtype=np.uint16)
        self.operation_names = list(names)
        klass_of = {v.casefold(): k for k, v in C.EVENT_CLASSES.items()}
        if classes is not None:
            self.event_class = np.array([klass_of.get(c.casefold(), 0) for c in classes], dtype=np.uint8)
        else:
            by_op = [C.NAME_TO_CLASS.get(o, 0) for o in self.operation_names]
            self.event_class = (
                np.array(by_op, dtype=np.uint8)[self.operation_id] if n else np.zeros(0, np.uint8)
            )
        res = []
        for r in self._result_text:
            code = C.NAME_TO_RESULT.get(r)
            if code is None:
                code = 0x103 if r == "" else (_int(r) if r.lower().startswith("0x") else None)
            res.append(NO_RESULT if code is None else code & 0xFFFFFFFF)
        self.result = np.array(res, dtype=np.uint32)
        dur = []
        for d in durs or ():
            try:
                dur.append(round(float(d) * TICKS_PER_SECOND) if d else 0)
            except ValueError:
                dur.append(0)
        self.duration = np.array(dur if durs else [0] * n, dtype=np.uint64)
        self._times(tods, dts, n)
        self._processes(n, extra)

    def _times(self, tods: list[str] | None, dts: list[str] | None, n: int) -> None:
        ticks = np.zeros(n, dtype=np.int64)
        self._has_time = np.ones(n, dtype=bool)
        bad = 0
        off = self.utc_offset * 60 * TICKS_PER_SECOND
        for i in range(n):
            tod = parse_time_of_day(tods[i]) if tods is not None else None
            day_ticks = None
            if dts is not None:
                dt = parse_date_time(dts[i])
                if dt is not None:
                    day, sec_tod = dt
                    day_ticks = (day - _EPOCH).days * 86400 * TICKS_PER_SECOND
                    if tod is None or tod // TICKS_PER_SECOND != sec_tod // TICKS_PER_SECOND:
                        tod = sec_tod if tod is None else tod
            if tod is None:
                bad += 1
                self._has_time[i] = False
                continue
            ticks[i] = (
                (day_ticks if day_ticks is not None else 0) + tod - (off if day_ticks is not None else 0)
            )
        if bad and (tods is not None or dts is not None):
            self.warnings.append(f"{bad:,} record(s) with an unreadable time")
        self.time = ticks

    def _processes(self, n: int, extra: dict[str, list[str] | None]) -> None:
        keys: dict[tuple, int] = {}
        pidx = np.zeros(n, dtype=np.uint32)
        procs: list[ProcessRecord] = []

        def get(name: str, i: int) -> str:
            c = extra.get(name)
            return c[i] if c is not None else ""

        for i in range(n):
            key = (
                int(self.pid[i]),
                self._proc_name[i],
                get("Image Path", i),
                get("Parent PID", i),
                get("Command Line", i),
            )
            j = keys.get(key)
            if j is None:
                j = keys[key] = len(procs)
                arch = get("Architecture", i)
                procs.append(
                    ProcessRecord(
                        index=j,
                        pid=key[0],
                        parent_pid=_int(key[3]) if key[3] else None,
                        name=key[1],
                        image_path=key[2],
                        command_line=key[4],
                        company=get("Company", i),
                        version=get("Version", i),
                        description=get("Description", i),
                        user=get("User", i),
                        integrity=get("Integrity", i),
                        is64=(arch == "64-bit") if arch else None,
                        session=_int(get("Session", i)),
                    )
                )
            pidx[i] = j
        self.process_index = pidx
        self.processes = procs

    # --- per event --------------------------------------------------------------------------------------------

    def path_of(self, i: int) -> str:
        return self._path[i]

    def detail(self, i: int) -> str:
        return self._detail[i]

    def detail_items(self, i: int) -> list[tuple[str, str]]:
        return split_detail(self.operation_names[int(self.operation_id[i])], self._detail[i])

    def result_name(self, i: int) -> str:
        return self._result_text[i]

    def datetime(self, i: int) -> datetime | None:
        if not self.has_date or not self._has_time[i]:
            return None
        return super().datetime(i)

    def _time(self, i: int) -> tuple[datetime | None, datetime | None, int | None]:
        utc = self.datetime(i)
        if utc is None:
            return None, None, None
        local = (utc + timedelta(minutes=self.utc_offset)).replace(tzinfo=None)
        return utc, local, self.utc_offset

    def _origin(self, i: int, text: str) -> Origin:
        return Origin(self.artifact, line=i + 2, record=i, text=text[:MAX_TEXT])

    def event(self, i: int) -> Event:
        ev = super().event(i)
        if not self.has_date and self._has_time[i]:
            t = int(self.time[i])
            s = t // TICKS_PER_SECOND
            ev.fields["time_of_day"] = (
                f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{t % TICKS_PER_SECOND:07d}"  # type: ignore[index]
            )
        return ev


@register
class ProcmonCsvParser(Parser):
    """Procmon CSV exports (events in file order, kind ``procmon:event``, local times)."""

    name = "procmon-csv"
    description = "Process Monitor CSV export (any column subset/order, en-US/24h/zh-CN times)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        return 0.95 if looks_like_procmon_csv(source.head) else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        cap = CsvCapture(source.path, ctx.artifact, utc_offset=ctx.utc_offset)
        for w in cap.warnings:
            ctx.warn(w)
        for i in range(len(cap)):
            yield cap.event(i)
