"""The capture API shared by the PML reader and the CSV reader: columns in bulk, details on demand.

Format: Process Monitor captures (``*.PML``) and their CSV exports; see :mod:`culprit.parsers.procmon.pml`
and :mod:`culprit.parsers.procmon.csvexport` for where the files live and how they are encoded.

A :class:`Capture` holds one numpy array per fixed column (``time``, ``pid``, ``tid``, ``process_index``,
``event_class``, ``operation_id``, ``result``, ``duration``) and decodes the rest of an event (path, Detail,
stack) only when asked, so filters touch only the events that survive the cheap columns.

References: ``docs/events/procmon.md``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers.procmon import consts
from culprit.parsers.procmon.structs import FILETIME_EPOCH, TICKS_PER_SECOND, ProcessRecord

MAX_TEXT = 2000
# NTSTATUS results that say the operation was refused, not just "not there" / "try again".
ERROR_RESULTS = {
    0xC0000022,  # ACCESS DENIED
    0xC0000043,  # SHARING VIOLATION
    0xC0000061,  # PRIVILEGE NOT HELD
    0xC0000121,  # CANNOT DELETE
    0xC0000056,  # DELETE PENDING
    0xC000007F,  # DISK FULL
    0xC0000005,  # ACCESS VIOLATION
    0xC000009A,  # INSUFFICIENT RESOURCES
    0xC0000102,  # FILE CORRUPT
    0xC0000032,  # DISK CORRUPT
}
# Results Procmon users read as "normal noise": probes for absent names, buffer sizing, oplocks.
BENIGN_RESULTS = {
    0xC0000034,
    0xC000003A,
    0xC0000023,
    0x80000005,
    0x80000006,
    0x8000001A,
    0xC01C0004,
    0xC0000035,
    0xC0000225,
    0xC000000D,
    0xC00000BB,
    0xC0000011,
    0xC0000010,
    0xC0000275,
}


@functools.lru_cache(maxsize=4096)
def snake(key: str) -> str:
    """A Procmon Detail key as a field name: ``Desired Access`` → ``desired_access``, ``I/O Flags`` → ``io_flags``."""
    k = key.replace("I/O", "IO").replace("PID", "Pid").replace("ID", "Id")
    k = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", k)
    k = re.sub(r"[^0-9A-Za-z]+", "_", k).strip("_").lower()
    return k or "item"


_INT = re.compile(r"-?\d{1,3}(?:,\d{3})+|-?\d+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_HEX_KEYS = {"Image Base", "Image Size", "HandleTags", "UserFlags", "Wow64Flags", "IndexNumber", "ReparseTag"}
_INT_KEYS = {
    "Exit Status",
    "PID",
    "Parent PID",
    "Thread ID",
    "Length",
    "Offset",
    "Index",
    "SubKeys",
    "Values",
    "AllocationSize",
    "EndOfFile",
    "NumberOfLinks",
    "Private Bytes",
    "Peak Private Bytes",
    "Working Set",
    "Peak Working Set",
    "EndingOffset",
    "TotalAllocationUnits",
    "AvailableAllocationUnits",
    "CallerAvailableAllocationUnits",
    "ActualAvailableAllocationUnits",
    "SectorsPerAllocationUnit",
    "BytesPerSector",
    "EaSize",
}


def typed_value(key: str, text: str, reg_type: str | None = None) -> Any:
    """A Detail value as a Python value: counts as int, ``Image Base`` as int, ``Data`` by its registry type."""
    if key in _HEX_KEYS and _HEX.fullmatch(text):
        return int(text, 16)
    if key in _INT_KEYS and _INT.fullmatch(text):
        return int(text.replace(",", ""))
    if (
        key == "Data"
        and reg_type in ("REG_DWORD", "REG_QWORD", "REG_DWORD_BIG_ENDIAN")
        and _INT.fullmatch(text)
    ):
        return int(text.replace(",", ""))
    return text


def detail_fields(operation: str, items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn Detail ``(key, text)`` pairs into snake_case event fields (same for PML and CSV)."""
    items = list(items)
    reg_type = next((v for k, v in items if k == "Type"), None)
    out: dict[str, Any] = {}
    for k, v in items:
        name = snake(k)
        if operation == "Process Create" and k == "PID":
            name = "child_pid"
        elif k == "Parent PID":
            name = "parent_pid_detail"
        elif name in ("path", "result", "operation", "detail", "duration", "stack"):
            name = f"detail_{name}"
        out[name] = typed_value(k, v, reg_type)
    return out


def split_detail(operation: str, text: str) -> list[tuple[str, str]]:
    """Split a Procmon Detail string into ``(key, value)`` pairs at ``, Key: `` boundaries.

    Values may contain ``, `` themselves (``Desired Access: Read, Write``), so a boundary is only taken
    where the following word is a key Procmon uses for this kind of detail (or, failing that, any
    ``Word: `` that starts with a capital letter or digit).
    """
    if not text:
        return []
    keys = _KEYS_BY_OP.get(operation)
    if keys is None:
        keys = _ALL_KEYS
    pattern = _KEY_PATTERNS.get(operation)
    if pattern is None:
        alt = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
        pattern = re.compile(rf"(?:^|, )(?P<key>{alt}|\d+): ")
        _KEY_PATTERNS[operation] = pattern
    marks = [(m.start(), m.end(), m.group("key")) for m in pattern.finditer(text)]
    if not marks or marks[0][0] != 0:
        return [("Detail", text)]
    out = []
    for j, (_s, e, k) in enumerate(marks):
        end = marks[j + 1][0] if j + 1 < len(marks) else len(text)
        out.append((k, text[e:end]))
    return out


_KEYS_BY_OP: dict[str, tuple[str, ...]] = {
    "Process Exit": (
        "Exit Status",
        "User Time",
        "Kernel Time",
        "Private Bytes",
        "Peak Private Bytes",
        "Working Set",
        "Peak Working Set",
    ),
    "Process Create": ("PID", "Command line"),
    "Process Start": ("Parent PID", "Command line", "Current directory", "Environment"),
    "Thread Create": ("Thread ID",),
    "Thread Exit": ("Thread ID", "User Time", "Kernel Time"),
    "Load Image": ("Image Base", "Image Size"),
    "CreateFile": (
        "Desired Access",
        "Disposition",
        "Options",
        "Attributes",
        "ShareMode",
        "AllocationSize",
        "Impersonating",
        "OpenResult",
    ),
    "RegSetValue": ("Type", "Length", "Data"),
    "RegQueryValue": ("Type", "Length", "Data", "Name"),
    "RegEnumValue": ("Index", "Name", "Type", "Length", "Data"),
}
_ALL_KEYS = (
    "Desired Access",
    "Granted Access",
    "Disposition",
    "Options",
    "Attributes",
    "ShareMode",
    "AllocationSize",
    "Impersonating",
    "OpenResult",
    "Type",
    "Length",
    "Data",
    "Index",
    "Name",
    "Query",
    "SubKeys",
    "Values",
    "HandleTags",
    "UserFlags",
    "Wow64Flags",
    "LastWriteTime",
    "KeySetInformationClass",
    "Hive Path",
    "New Name",
    "Offset",
    "I/O Flags",
    "Priority",
    "Control",
    "Filter",
    "FileInformationClass",
    "SyncType",
    "PageProtection",
    "Information",
    "Delete",
    "CreationTime",
    "LastAccessTime",
    "ChangeTime",
    "FileAttributes",
    "EndOfFile",
    "NumberOfLinks",
    "DeletePending",
    "Directory",
    "IndexNumber",
    "EaSize",
    "ReparseTag",
    "Exclusive",
    "Fail Immediately",
    "EndingOffset",
    "MDL",
    "VolumeCreationTime",
    "VolumeSerialNumber",
    "SupportsObjects",
    "VolumeLabel",
    "FileSystemAttributes",
    "MaximumComponentNameLength",
    "FileSystemName",
    "ObjectId",
    "TotalAllocationUnits",
    "AvailableAllocationUnits",
    "CallerAvailableAllocationUnits",
    "ActualAvailableAllocationUnits",
    "SectorsPerAllocationUnit",
    "BytesPerSector",
    "User Time",
    "Kernel Time",
    "Context Switches",
    "Thread ID",
    "Image Base",
    "Image Size",
    "Exit Status",
    "Private Bytes",
    "Peak Private Bytes",
    "Working Set",
    "Peak Working Set",
    "PID",
    "Parent PID",
    "Command line",
    "Current directory",
    "Environment",
    "seqnum",
    "connid",
    "mss",
    "sackopt",
    "tsopt",
    "wsopt",
    "rcvwin",
    "rcvwinscale",
    "sndwinscale",
    "startime",
    "endtime",
    "WriteLength",
    "ReadLength",
)
_KEY_PATTERNS: dict[str, re.Pattern[str]] = {}


def severity_of(status: int) -> Severity:
    """ERROR for refusals (ACCESS DENIED...), WARNING for other failures, INFO for success and benign probes."""
    if status in ERROR_RESULTS:
        return Severity.ERROR
    if status & 0xC0000000 == 0xC0000000 and status not in BENIGN_RESULTS:
        return Severity.WARNING
    return Severity.INFO


def ticks_to_datetime(ticks: int) -> datetime:
    """FILETIME ticks (100 ns since 1601) as an aware UTC datetime (microsecond precision)."""
    return FILETIME_EPOCH + timedelta(microseconds=int(ticks) // 10)


class Capture:
    """One Procmon capture, PML or CSV, with the same columns and the same per-event API.

    Attributes:
        path: the file on disk.
        artifact: display name used in every event's Origin.
        processes: the process records (index = position).
        warnings: what could not be read, in words.
        operation_names: names indexed by the ``operation_id`` column.
    """

    kind = ""

    def __init__(self, path: str | Path, artifact: str | None = None) -> None:
        self.path = Path(path)
        self.artifact = artifact or self.path.name
        self.processes: list[ProcessRecord] = []
        self.warnings: list[str] = []
        self.operation_names: list[str] = []
        self.time = np.zeros(0, dtype=np.int64)
        self.pid = np.zeros(0, dtype=np.uint32)
        self.tid = np.zeros(0, dtype=np.uint32)
        self.process_index = np.zeros(0, dtype=np.uint32)
        self.event_class = np.zeros(0, dtype=np.uint8)
        self.operation_id = np.zeros(0, dtype=np.uint16)
        self.result = np.zeros(0, dtype=np.uint32)
        self.duration = np.zeros(0, dtype=np.uint64)
        self._operation: np.ndarray | None = None

    # --- columns ---------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def operation(self) -> np.ndarray:
        """Operation names per event (a numpy object array built from ``operation_id``)."""
        if self._operation is None:
            names = np.array([*self.operation_names, consts.UNKNOWN], dtype=object)
            self._operation = names[self.operation_id]
        return self._operation

    def column(self, name: str) -> np.ndarray:
        """A fixed column by name (``time``, ``pid``, ``tid``, ``process_index``, ``event_class``,
        ``operation_id``, ``operation``, ``result``, ``duration``)."""
        if name not in (
            "time",
            "pid",
            "tid",
            "process_index",
            "event_class",
            "operation_id",
            "operation",
            "result",
            "duration",
        ):
            raise KeyError(name)
        return getattr(self, name)

    def process(self, i: int) -> ProcessRecord | None:
        """The process record of event ``i``."""
        pi = int(self.process_index[i])
        return self.processes[pi] if 0 <= pi < len(self.processes) else None

    def datetime(self, i: int) -> datetime | None:
        """Event ``i``'s time as an aware UTC datetime."""
        return ticks_to_datetime(int(self.time[i]))

    # --- per-event, decoded on demand (subclasses) -------------------------------------------------------------

    def path_of(self, i: int) -> str:
        """The Path column of event ``i``."""
        raise NotImplementedError

    def detail_items(self, i: int) -> list[tuple[str, str]]:
        """The Detail column of event ``i`` as ``(key, text)`` pairs in Procmon's order."""
        raise NotImplementedError

    def detail(self, i: int) -> str:
        """The Detail column of event ``i`` exactly as Procmon prints it."""
        return ", ".join(f"{k}: {v}" if k != "Detail" else v for k, v in self.detail_items(i))

    def result_name(self, i: int) -> str:
        return consts.result_name(int(self.result[i]))

    def _decode(self, i: int) -> tuple[str, list[tuple[str, str]]]:
        return self.path_of(i), self.detail_items(i)

    def stack(self, i: int) -> list[str]:
        """Event ``i``'s stack frames as ``module+0xoffset`` (CSV exports have none)."""
        return []

    def _origin(self, i: int, text: str) -> Origin:
        return Origin(self.artifact, record=i, text=text[:MAX_TEXT])

    def _time(self, i: int) -> tuple[datetime | None, datetime | None, int | None]:
        """``(utc, local, utc_offset)`` of event ``i``."""
        return self.datetime(i), None, None

    def event(self, i: int) -> Event:
        """Event ``i`` as a :class:`culprit.model.Event` of kind ``procmon:event``."""
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"event {i} out of range (capture has {n:,})")
        proc = self.process(i)
        op = (
            self.operation_names[int(self.operation_id[i])]
            if int(self.operation_id[i]) < len(self.operation_names)
            else consts.UNKNOWN
        )
        status = int(self.result[i])
        result = self.result_name(i)
        path, items = self._decode(i)
        detail = ", ".join(f"{k}: {v}" if k != "Detail" else v for k, v in items)
        fields: dict[str, Any] = {
            "operation": op,
            "path": path,
            "result": result,
            "detail": detail,
            "event_class": consts.EVENT_CLASSES.get(int(self.event_class[i]), consts.UNKNOWN),
            "duration": int(self.duration[i]) / TICKS_PER_SECOND,
            "image_path": proc.image_path if proc else "",
            "company": proc.company if proc else "",
            "parent_pid": proc.parent_pid if proc else None,
            "architecture": proc.architecture if proc else None,
            "process": proc.name if proc else None,
            "pid": int(self.pid[i]),
            "tid": int(self.tid[i]),
        }
        for k, v in detail_fields(op, items).items():
            fields.setdefault(k, v)
        frames = self.stack(i)
        if frames:
            fields["stack"] = frames
        utc, local, offset = self._time(i)
        message = " ".join(x for x in (op, path, result) if x)
        return Event(
            kind="procmon:event",
            origin=self._origin(i, " ".join(x for x in (op, path, result, detail) if x)),
            time=utc,
            local_time=local,
            utc_offset=offset,
            severity=severity_of(status),
            process=Process(proc.name if proc else None, int(self.pid[i]), int(self.tid[i])),
            code=status,
            message=message[:MAX_TEXT],
            fields=fields,
        )

    def events(self, indexes: Iterable[int] | None = None) -> Iterator[Event]:
        """Events in capture order (all, or the given indexes)."""
        it = range(len(self)) if indexes is None else indexes
        for i in it:
            yield self.event(int(i))

    def where(self, expr: Any) -> np.ndarray:
        """Indexes of the events matching a filter (text or a parsed :mod:`culprit.query` tree)."""
        from culprit.parsers.procmon.filter import evaluate

        return evaluate(self, expr)

    def close(self) -> None:
        """Release the file (PML keeps it memory-mapped)."""

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
