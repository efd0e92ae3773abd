"""Process lifetimes, trees and module loads out of one Procmon capture.

Built once per capture from the process table (image, command line, modules with company) and the
Process-class events (Process Start/Exit, Thread Create, Load Image), which the column store finds
without decoding anything else.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from culprit.analysis.facts import CaptureRef, basename, norm_path

# Names that change every run: temp folders and files, GUID folders, version numbers.
_VOLATILE = (
    (re.compile(r"\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}"), "*"),
    (re.compile(r"(?<=[A-Za-z_])[0-9A-Fa-f]{3,8}(?=\.tmp\b)", re.I), "*"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w])"), "*"),
    (re.compile(r"(?<=_)\d+(?:\.\d+){2,}(?=\.exe\b)", re.I), "*"),
)
_USER = re.compile(r"(?i)^(c:\\users\\)[^\\]+")
# ...\Temp\FbMtgSetup_4F2A91\  ...\Temp\7zS8A3C1B2D\ : folders an installer extracts itself into
_TEMP_DIR = re.compile(r"(?i)(\\temp\\[^\\]*?[_-]?)[0-9a-f]{4,}(?=\\)")
# amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3995_none_7e3c3f0b2a1b4c5d
_WINSXS = re.compile(
    r"(?i)(?<=\\)((?:amd64|x86|wow64|arm64|msil)_[\w.-]+?_[0-9a-f]{16})_[\d.]+_[\w-]+?_[0-9a-f]{8,16}(?=\\)"
)


def generalize(path: str) -> str:
    """Replace run-specific parts of a path (temp names, GUIDs, versions, user names) by ``*``."""
    out = _WINSXS.sub(r"\1_*", path)
    out = _TEMP_DIR.sub(r"\1*", out)
    for rx, rep in _VOLATILE:
        out = rx.sub(rep, out)
    return _USER.sub(r"\1*", out)


@dataclass
class Load:
    index: int  # event index
    path: str
    time: datetime
    tid: int
    company: str | None = None
    version: str | None = None
    description: str | None = None


@dataclass
class Proc:
    """One process as the capture saw it."""

    key: int  # process index in the capture
    pid: int
    parent_pid: int
    name: str
    image_path: str
    command_line: str
    company: str | None
    is64: bool
    start: datetime | None
    end: datetime | None
    record: Any
    start_event: int | None = None  # Process Start
    create_event: int | None = None  # Process Create (in the parent)
    exit_event: int | None = None
    exit_status: int | None = None
    loads: list[Load] = field(default_factory=list)
    thread_creates: list[tuple[int, int, int]] = field(default_factory=list)  # (event, creator tid, new tid)
    first_event: int | None = None
    last_event: int | None = None
    event_count: int = 0
    children: list[Proc] = field(default_factory=list)
    parent: Proc | None = None

    @property
    def lifetime(self) -> float | None:
        """Seconds from start to exit, when both are known."""
        if self.start and self.end:
            return (self.end - self.start).total_seconds()
        return None

    def module(self, path: str) -> Any:
        want = norm_path(path)
        for m in getattr(self.record, "modules", None) or ():
            if norm_path(m.path) == want:
                return m
        return None

    def descendants(self) -> Iterator[Proc]:
        for c in self.children:
            yield c
            yield from c.descendants()

    def ancestors(self) -> Iterator[Proc]:
        p = self.parent
        seen = 0
        while p is not None and seen < 64:
            yield p
            p = p.parent
            seen += 1


class ProcessTree:
    """Every process of a capture with its Process-class events, linked parent → children."""

    def __init__(self, ref: CaptureRef) -> None:
        self.ref = ref
        cap = ref.cap
        self.procs: dict[int, Proc] = {}
        for rec in cap.processes:
            self.procs[rec.index] = Proc(
                key=rec.index,
                pid=rec.pid,
                parent_pid=rec.parent_pid,
                name=rec.name or basename(rec.image_path),
                image_path=rec.image_path or "",
                command_line=rec.command_line or "",
                company=rec.company or None,
                is64=bool(rec.is64),
                start=rec.start,
                end=rec.end,
                record=rec,
            )
        self.tid_owner: dict[int, set[int]] = defaultdict(set)
        self._scan()
        self._link()

    def _scan(self) -> None:
        cap = self.ref.cap
        pidx = np.asarray(cap.process_index)
        tids = np.asarray(cap.tid)
        n = len(pidx)
        if n == 0:
            return
        # Counts and first/last event per process, and thread ownership, in bulk.
        keys, first_idx, counts = np.unique(pidx, return_index=True, return_counts=True)
        last_idx = n - 1 - np.unique(pidx[::-1], return_index=True)[1]
        for k, f, c, last in zip(
            keys.tolist(), first_idx.tolist(), counts.tolist(), last_idx.tolist(), strict=False
        ):
            p = self.procs.get(k)
            if p is not None:
                p.first_event, p.event_count, p.last_event = f, c, last
                if p.start is None:  # CSV exports carry no process table: the first event is the start
                    with contextlib.suppress(Exception):
                        p.start = cap.datetime(f) if hasattr(cap, "datetime") else cap.event(f).time
        by_parent: dict[tuple[int, int], list[Proc]] = defaultdict(list)
        for q in self.procs.values():
            by_parent[(q.pid, q.parent_pid)].append(q)
        ops = np.asarray(cap.operation)
        # A Thread Create is attributed to the process that gets the thread but carries the
        # creator's TID (how remote-thread injection shows): it does not make the TID its own.
        own = ops != "Thread Create"
        pairs = np.unique(np.stack([tids[own].astype(np.int64), pidx[own].astype(np.int64)], axis=1), axis=0)
        for tid, k in pairs.tolist():
            self.tid_owner[int(tid)].add(int(k))
        wanted = np.isin(
            ops, ["Process Start", "Process Exit", "Process Create", "Load Image", "Thread Create"]
        )
        for i in np.nonzero(wanted)[0].tolist():
            op = ops[i]
            p = self.procs.get(int(pidx[i]))
            if p is None:
                continue
            ev = cap.event(i)
            f = ev.fields
            if op == "Process Start":
                p.start_event = i
            elif op == "Process Exit":
                p.exit_event = i
                st = f.get("exit_status")
                p.exit_status = int(st) if isinstance(st, int) else None
                if p.end is None:
                    p.end = ev.time
            elif op == "Load Image":
                path = str(f.get("path") or "")
                m = p.module(path)
                p.loads.append(
                    Load(
                        i,
                        path,
                        ev.time,
                        int(tids[i]),
                        getattr(m, "company", None) or None,
                        getattr(m, "version", None),
                        getattr(m, "description", None),
                    )
                )
            elif op == "Thread Create":
                new = f.get("thread_id")
                p.thread_creates.append((i, int(tids[i]), int(new) if isinstance(new, int) else -1))
            elif op == "Process Create":
                child_pid = f.get("child_pid", f.get("pid"))
                for c in by_parent.get((child_pid, p.pid), ()):  # type: ignore[arg-type]
                    if c.create_event is None:
                        c.create_event = i
                        break

    def _link(self) -> None:
        by_pid: dict[int, list[Proc]] = defaultdict(list)
        for p in self.procs.values():
            by_pid[p.pid].append(p)
        for p in self.procs.values():
            cands = [q for q in by_pid.get(p.parent_pid, []) if q is not p]
            if not cands:
                continue
            # PIDs are reused: the parent is the one alive when the child started.
            if p.start:
                alive = [
                    q
                    for q in cands
                    if (q.start is None or q.start <= p.start) and (q.end is None or q.end >= p.start)
                ]
                cands = alive or cands
            p.parent = cands[0]
            p.parent.children.append(p)
        for p in self.procs.values():
            p.children.sort(key=lambda c: (c.start is None, c.start or 0))

    def by_pid(self, pid: int) -> list[Proc]:
        return [p for p in self.procs.values() if p.pid == pid]

    def by_name(self, name: str) -> list[Proc]:
        n = name.casefold()
        return [p for p in self.procs.values() if p.name.casefold() == n]

    def owner_of_thread(self, tid: int, exclude: int | None = None) -> list[Proc]:
        return [
            self.procs[k] for k in sorted(self.tid_owner.get(tid, ())) if k != exclude and k in self.procs
        ]

    def started_in_capture(self) -> list[Proc]:
        return [p for p in self.procs.values() if p.start_event is not None or p.create_event is not None]


def tree_of(ref: CaptureRef) -> ProcessTree:
    """The process tree of a capture, built once per capture."""
    t = getattr(ref, "_tree", None)
    if t is None:
        t = ProcessTree(ref)
        ref._tree = t  # type: ignore[attr-defined]
    return t
