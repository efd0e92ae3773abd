"""The frozen records a good-vs-bad diff returns: aligned processes, ranked differences, the result.

Nothing here reads a capture; :mod:`culprit.diff.engine` builds these and :mod:`culprit.diff.render` prints
them. Times are aware UTC datetimes; event indexes are 0-based indexes into each capture (PML event array,
or CSV data row ``i`` = line ``i + 2``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from culprit.model import iso, jsonable

KINDS = (
    "module-only-in-bad",
    "early-exit",
    "result-differs",
    "child-missing",
    "child-only-in-bad",
    "exit-differs",
    "first-divergence",
    "process-missing",
    "process-only-in-bad",
    "module-only-in-good",
    "activity-differs",
)
# Not differences: third-party modules loaded into the same process in both runs (DiffResult.common).
COMMON_KINDS = ("third-party-in-both",)


@dataclass(frozen=True, slots=True)
class ProcSide:
    """One process as one run saw it.

    Attributes:
        index: the process index in its capture (``Capture.processes[index]``).
        pid: its process id (shown, never used to align).
        name: image file name.
        image_path: image path as written.
        command_line: command line as written.
        start: start time (UTC) or None.
        end: exit time (UTC) or None when it did not exit in the capture.
        exit_status: the Process Exit status (signed 32-bit as Procmon prints it) or None.
        events: how many events of the capture belong to it.
        start_event: event index of its Process Start (or Process Create in the parent), if captured.
        exit_event: event index of its Process Exit, if captured.
        started_in_capture: whether the capture saw it start.
    """

    index: int
    pid: int
    name: str
    image_path: str
    command_line: str
    start: datetime | None
    end: datetime | None
    exit_status: int | None
    events: int
    start_event: int | None
    exit_event: int | None
    started_in_capture: bool

    @property
    def lifetime(self) -> float | None:
        """Seconds from start to exit, when both are known."""
        if self.start and self.end:
            return (self.end - self.start).total_seconds()
        return None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "process_index": self.index,
            "pid": self.pid,
            "name": self.name,
            "image_path": self.image_path,
            "command_line": self.command_line,
            "start": iso(self.start),
            "end": iso(self.end),
            "lifetime": None if self.lifetime is None else round(self.lifetime, 6),
            "exit_status": self.exit_status,
            "events": self.events,
            "started_in_capture": self.started_in_capture,
        }
        if self.start_event is not None:
            d["start_event"] = self.start_event
        if self.exit_event is not None:
            d["exit_event"] = self.exit_event
        return d


@dataclass(frozen=True, slots=True)
class AlignedProcess:
    """A process of the install matched across the two runs (one side is None when unmatched).

    Attributes:
        key: the normalized image path both sides share (``*:\\windows\\installer\\msi*.tmp``).
        good: the process in the good run.
        bad: the process in the failing run.
        how: what matched them: ``image+command+parent``, ``image+command``, ``image+parent``, ``image``,
            ``name`` (same file name, different folder), or ``unmatched``.
    """

    key: str
    good: ProcSide | None
    bad: ProcSide | None
    how: str

    @property
    def name(self) -> str:
        side = self.bad or self.good
        return side.name if side else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "how": self.how,
            "good": self.good.to_dict() if self.good else None,
            "bad": self.bad.to_dict() if self.bad else None,
        }


@dataclass(frozen=True, slots=True)
class Difference:
    """One ranked difference between the runs, with evidence in both captures.

    Attributes:
        kind: one of :data:`KINDS`.
        score: 0..1, higher ranks first (see ``docs/diff.md`` for how it is computed).
        process: the aligned process's name (``MicrosoftEdgeUpdate.exe``).
        subject: what differs: a module path, an operation and path, a child image, an exit status.
        good_events: event indexes in the good capture (may be empty: "not in the good run").
        bad_events: event indexes in the failing capture.
        reading: a short reading in English.
        reading_zh: the same in Chinese.
        good_process: the process index in the good capture, if aligned.
        bad_process: the process index in the failing capture, if aligned.
        good_pid: pid in the good run (for people; never used to align).
        bad_pid: pid in the failing run.
        details: kind-specific values (company, load offset in ms, results, lifetimes...).
    """

    kind: str
    score: float
    process: str
    subject: str
    good_events: tuple[int, ...]
    bad_events: tuple[int, ...]
    reading: str
    reading_zh: str
    good_process: int | None = None
    bad_process: int | None = None
    good_pid: int | None = None
    bad_pid: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "score": round(self.score, 3),
            "process": self.process,
            "subject": self.subject,
            "good": {
                "process_index": self.good_process,
                "pid": self.good_pid,
                "events": list(self.good_events),
            },
            "bad": {"process_index": self.bad_process, "pid": self.bad_pid, "events": list(self.bad_events)},
            "reading": self.reading,
            "reading_zh": self.reading_zh,
            "details": jsonable(self.details),
        }


@dataclass(frozen=True, slots=True)
class DiffResult:
    """The whole diff of one good capture against one failing capture.

    Attributes:
        good: the good capture's artifact name.
        bad: the failing capture's artifact name.
        differences: ranked, most telling first.
        processes: every aligned (and unaligned) process of both runs.
        warnings: what could not be read or was cut short (budgets), in words.
        stats: event and process counts, time spent.
        good_ref / bad_ref: the :class:`culprit.analysis.facts.CaptureRef` of each side, for
            :meth:`steps` (not serialized).
        common: what both runs share that a person might suspect: third-party modules loaded into the same
            process in both runs (kind ``third-party-in-both``). Not differences, so never ranked among them.
    """

    good: str
    bad: str
    differences: tuple[Difference, ...]
    processes: tuple[AlignedProcess, ...]
    warnings: tuple[str, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)
    good_ref: Any = field(default=None, compare=False, repr=False)
    bad_ref: Any = field(default=None, compare=False, repr=False)
    common: tuple[Difference, ...] = ()

    def top(self, n: int = 10) -> tuple[Difference, ...]:
        """The ``n`` highest-ranked differences."""
        return self.differences[:n]

    def of_kind(self, kind: str) -> tuple[Difference, ...]:
        """The differences of one kind, in rank order."""
        return tuple(d for d in self.differences if d.kind == kind)

    def steps(self, d: Difference, lang: str = "en") -> list[Any]:
        """Chain steps (:class:`culprit.model.Step`) citing ``d``'s events in both captures.

        Call it while the captures are still open. The first bad event carries the reading; the first good
        event (if any) is cited as the good run's counterpart.
        """
        out = []
        text = d.reading_zh if lang == "zh" else d.reading
        if self.bad_ref is not None and d.bad_events:
            out.append(self.bad_ref.step(d.bad_events[0], text))
        if self.good_ref is not None and d.good_events:
            what = "良好运行中的对应事件" if lang == "zh" else "the good run's counterpart"
            out.append(self.good_ref.step(d.good_events[0], what))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "culprit.diff/1",
            "good": self.good,
            "bad": self.bad,
            "differences": [d.to_dict() for d in self.differences],
            "common": [d.to_dict() for d in self.common],
            "processes": [p.to_dict() for p in self.processes],
            "warnings": list(self.warnings),
            "stats": jsonable(self.stats),
        }
