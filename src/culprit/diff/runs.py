"""One side of a diff: a Procmon capture with its process tree and the indexes the diff needs, built once.

Format: a Process Monitor capture (PML or CSV export) opened with
:func:`culprit.parsers.procmon.open_capture`, wrapped in a :class:`culprit.analysis.facts.CaptureRef`;
processes come from :class:`culprit.analysis.proctree.ProcessTree`. A CSV export's process table has no
start times, command lines or module lists: start and command line are taken from the Process Start
event, modules from Load Image (companies then come from the knowledge base).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from culprit.analysis.facts import CaptureRef
from culprit.analysis.proctree import Proc, ProcessTree
from culprit.diff.model import ProcSide
from culprit.diff.normalize import base_name, normalize_path
from culprit.model import Event, Origin
from culprit.parsers.procmon.capture import ticks_to_datetime


@dataclass
class Mod:
    """One module of one process: path, version-resource fields, and its Load Image if captured."""

    path: str
    company: str | None = None
    description: str | None = None
    version: str | None = None
    load_event: int | None = None
    load_time: datetime | None = None
    tid: int | None = None


@dataclass
class Run:
    """One side of the diff: the capture, its process tree and indexes built once."""

    ref: CaptureRef
    tree: ProcessTree
    loads_only: bool = False  # compare Load Image events only (the other side has no module lists: CSV)
    order: np.ndarray = field(init=False)
    bounds: np.ndarray = field(init=False)
    keys: np.ndarray = field(init=False)
    end: datetime | None = field(init=False)
    module_bases: set[str] = field(init=False)
    _mods: dict[int, dict[str, Mod]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cap = self.ref.cap
        pidx = np.asarray(cap.process_index)
        self.order = np.argsort(pidx, kind="stable")
        self.keys, starts = (
            np.unique(pidx[self.order], return_index=True)
            if len(pidx)
            else (np.zeros(0, np.uint32), np.zeros(0, np.int64))
        )
        self.bounds = np.append(starts, len(pidx)).astype(np.int64)
        self.end = capture_end(cap)
        self._complete()
        self.module_bases = set()
        for p in self.tree.procs.values():
            for m in self.modules(p).values():
                self.module_bases.add(base_name(m.path).casefold())

    @property
    def cap(self) -> Any:
        return self.ref.cap

    def _complete(self) -> None:
        """Fill what a CSV export's process table lacks (start time, command line) from Process Start."""
        cap = self.ref.cap
        for p in self.tree.procs.values():
            first = p.start_event if p.start_event is not None else p.create_event
            if first is None:
                continue
            if p.start is None:
                p.start = cap.datetime(first)
            if not p.command_line and p.start_event is not None:
                cmd = cap.event(p.start_event).fields.get("command_line")
                if isinstance(cmd, str):
                    p.command_line = cmd

    def events_of(self, key: int) -> np.ndarray:
        """Event indexes of process ``key``, in capture order."""
        pos = int(np.searchsorted(self.keys, key))
        if pos >= len(self.keys) or int(self.keys[pos]) != key:
            return np.zeros(0, dtype=np.int64)
        return self.order[self.bounds[pos] : self.bounds[pos + 1]]

    def modules(self, p: Proc) -> dict[str, Mod]:
        """Normalized module path → module, from Load Image events and the process's module list."""
        if p.key in self._mods:
            return self._mods[p.key]
        out: dict[str, Mod] = {}
        for ld in p.loads:
            k = normalize_path(ld.path)
            if k and k not in out:
                out[k] = Mod(ld.path, ld.company, ld.description, ld.version, ld.index, ld.time, ld.tid)
        for m in getattr(p.record, "modules", None) or ():
            k = normalize_path(m.path)
            if not k:
                continue
            if k in out:
                o = out[k]
                o.company = o.company or m.company or None
                o.description = o.description or m.description or None
                o.version = o.version or m.version or None
            elif not self.loads_only:
                out[k] = Mod(m.path, m.company or None, m.description or None, m.version or None)
        self._mods[p.key] = out
        return out

    def seconds(self, a: datetime | None, b: datetime | None) -> float | None:
        if a is None or b is None:
            return None
        return (b - a).total_seconds()

    def side(self, p: Proc) -> ProcSide:
        return ProcSide(
            index=p.key,
            pid=p.pid,
            name=p.name,
            image_path=p.image_path,
            command_line=p.command_line,
            start=p.start,
            end=p.end if p.exit_event is not None or p.end is not None else None,
            exit_status=p.exit_status,
            events=p.event_count,
            start_event=p.start_event if p.start_event is not None else p.create_event,
            exit_event=p.exit_event,
            started_in_capture=p.start_event is not None or p.create_event is not None,
        )


# FILETIME of 9999-12-31: later "times" are damage, and would overflow a datetime.
MAX_TICKS = 2_650_467_743_990_000_000


class GuardedCapture:
    """A capture whose per-event reads never raise: a damaged event reads as empty, and is counted.

    Everything else (columns, ``processes``, ``artifact``...) is the wrapped capture's own.
    """

    def __init__(self, cap: Any) -> None:
        self._cap = cap
        self.damaged: dict[int, str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cap, name)

    def __len__(self) -> int:
        return len(self._cap)

    def _note(self, i: int, e: Exception) -> None:
        if len(self.damaged) < 1000:
            self.damaged.setdefault(int(i), f"{type(e).__name__}: {e}")

    def event(self, i: int) -> Event:
        try:
            return self._cap.event(i)
        except IndexError:
            raise
        except Exception as e:  # a damaged record: an empty event, never a traceback
            self._note(i, e)
            return Event("procmon:event", Origin(str(getattr(self._cap, "artifact", "")), record=int(i)))

    def datetime(self, i: int) -> datetime | None:
        try:
            return self._cap.datetime(i)
        except (OverflowError, ValueError, OSError) as e:
            self._note(i, e)
            return None

    def path_of(self, i: int) -> str:
        try:
            return str(self._cap.path_of(i))
        except Exception as e:  # damaged detail block
            self._note(i, e)
            return ""

    def close(self) -> None:
        self._cap.close()


def as_ref(x: Any, role: str) -> CaptureRef:
    """A :class:`CaptureRef` around a guarded capture (from a CaptureRef or a bare capture)."""
    if isinstance(x, CaptureRef):
        cap = x.cap if isinstance(x.cap, GuardedCapture) else GuardedCapture(x.cap)
        return CaptureRef(x.artifact, x.role, cap, x.csv_artifact)
    return CaptureRef(str(getattr(x, "artifact", role)), role, GuardedCapture(x))


def has_module_lists(cap: Any) -> bool:
    """Whether the capture's process table lists modules (a PML does; a CSV export does not)."""
    return any(getattr(rec, "modules", None) for rec in getattr(cap, "processes", ()))


def capture_end(cap: Any) -> datetime | None:
    """The time of the capture's last event (damaged times beyond year 9999 ignored)."""
    t = np.asarray(cap.time)
    t = t[(t > 0) & (t < MAX_TICKS)]
    return ticks_to_datetime(int(t.max())) if len(t) else None


@functools.lru_cache(maxsize=8192)
def third_party(path: str, company: str | None) -> tuple[bool, str | None, str | None]:
    """``(is third-party, product, vendor)`` of a module, from the knowledge base and its company."""
    from culprit.kb import microsoft, products

    try:
        verdict = microsoft.recognize(path=path, company=company)
        hits = [h for h in products.lookup(path) if h.confidence >= 0.8 and not h.microsoft]
    except Exception:  # the knowledge base is a help; an odd path must not stop the diff
        return (not (company or "").casefold().startswith("microsoft"), None, None)
    if hits:
        return (True, hits[0].product, hits[0].vendor)
    return (not verdict.is_microsoft, None, None)
