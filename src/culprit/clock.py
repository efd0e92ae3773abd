"""The machine's UTC offset from pairs of records that two artifacts write about the same moment.

Used when neither ``manifest.json`` nor a log that states its own offset (CBS's CSI stamps,
ReportingEvents.log) settles it. A Process Monitor capture stores UTC; the same machine's local-time
logs name processes by PID. So:

- a PID's first line in MicrosoftEdgeUpdate.log (local) ≈ that PID's process start in the PML (UTC);
- a Procmon CSV export (local time of the exporting machine) of the same capture as a PML (UTC):
  the first event's two times differ by exactly the offset.

Each pair votes for an offset rounded to 15 minutes; a pair that is not within two minutes of a
15-minute step does not vote.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from culprit.parsers.base import ParseContext

if TYPE_CHECKING:
    from culprit.pipeline import Artifact

MAX_OFFSET = 14 * 60
TOLERANCE_S = 120


def _vote(votes: Counter[int], local: datetime, utc: datetime) -> None:
    delta = (local.replace(tzinfo=UTC) - utc.astimezone(UTC)).total_seconds()
    minutes = round(delta / 900) * 15
    if abs(minutes) <= MAX_OFFSET and abs(delta - minutes * 60) <= TOLERANCE_S:
        votes[minutes] += 1


def cross_artifact_offsets(artifacts: Iterable[Artifact]) -> Counter[int]:
    """Votes for the machine's offset (minutes east of UTC) from local/UTC record pairs."""
    arts = list(artifacts)
    votes: Counter[int] = Counter()
    pmls = [a for a in arts if a.kind == "procmon"]
    if not pmls:
        return votes
    from culprit.parsers.procmon import open_capture

    starts: dict[int, list[datetime]] = {}
    caps = {}
    for a in pmls:
        try:
            cap = open_capture(a.source.path, a.name)
        except Exception:
            continue
        caps[a.name] = cap
        for rec in cap.processes:
            if rec.start is not None:
                starts.setdefault(rec.pid, []).append(rec.start)
    try:
        for a in arts:
            if a.kind != "edgeupdate" or a.parser is None:
                continue
            ctx = ParseContext(a.name, 0, a.source.locale)
            try:
                for ev in a.parser().parse(a.source, ctx):
                    # Parsed with offset 0, so the event's "UTC" time is the local time as written.
                    local = ev.local_time or (ev.time.replace(tzinfo=None) if ev.time else None)
                    if ev.kind != "edgeupdate:run" or local is None:
                        continue
                    for utc in starts.get(ev.get("fields.pid"), ()):
                        _vote(votes, local, utc)
            except Exception:
                continue
        for a in arts:
            if votes or a.kind != "procmon-csv":  # the CSV twin is read whole: only when PIDs gave nothing
                continue
            p = PurePosixPath(a.name)
            twin = next((n for n in caps if PurePosixPath(n).parent == p.parent
                         and PurePosixPath(n).stem.casefold() == p.stem.casefold()), None)
            if twin is None:
                continue
            with contextlib.suppress(Exception):
                csv = open_capture(a.source.path, a.name, utc_offset=0)
                try:
                    if len(csv) and len(caps[twin]) and len(csv) == len(caps[twin]):
                        _vote(votes, csv.event(0).time.replace(tzinfo=None), caps[twin].event(0).time)
                finally:
                    csv.close()
    finally:
        for cap in caps.values():
            with contextlib.suppress(Exception):
                cap.close()
    return votes
