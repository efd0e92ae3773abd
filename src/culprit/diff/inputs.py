"""Open the two sides of a diff: PML or CSV capture files, or whole bundles holding them.

Format: a Process Monitor capture (``*.PML``) or Procmon CSV export given directly, or a bundle (folder,
``.zip``, ``.cab``) read with :func:`culprit.pipeline.load`, whose ``procmon``/``procmon-csv`` artifacts are
taken (a PML is preferred over its CSV export; the export becomes the PML's twin for CSV line citations).
Bundles usually carry captures under ``procmon/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from culprit.analysis.facts import CaptureRef
from culprit.errors import InputError


@dataclass
class Pair:
    """The good and the failing capture, and what was noticed while choosing them."""

    good: CaptureRef
    bad: CaptureRef
    warnings: list[str] = field(default_factory=list)


def _is_capture(p: Path) -> bool:
    if not p.is_file():
        return False
    from culprit.parsers.procmon.csvexport import looks_like_procmon_csv

    try:
        with p.open("rb") as fp:
            head = fp.read(4096)
    except OSError as e:
        raise InputError(f"{p}: cannot be read: {e}") from None
    return head[:4] == b"PML_" or looks_like_procmon_csv(head)


def _open_file(p: Path, role: str, utc_offset: int | None) -> CaptureRef:
    from culprit.parsers.procmon import PmlError, open_capture

    try:
        cap = open_capture(p, str(p), utc_offset=utc_offset)
    except (PmlError, OSError, ValueError) as e:
        raise InputError(f"{p}: not a readable Procmon capture: {e}") from None
    return CaptureRef(str(p), role, cap)


def _pick(refs: list[CaptureRef], other: list[CaptureRef], role: str, warnings: list[str]) -> CaptureRef:
    if len(refs) == 1:
        return refs[0]
    stems = {PurePosixPath(r.artifact).stem.casefold() for r in other}
    same = [r for r in refs if PurePosixPath(r.artifact).stem.casefold() in stems]
    chosen = (same or sorted(refs, key=lambda r: -len(r.cap)))[0]
    warnings.append(f"{role}: {len(refs)} Procmon captures; compared {chosen.artifact}")
    return chosen


@contextlib.contextmanager
def open_pair(good: str | Path, bad: str | Path, utc_offset: int | None = None) -> Iterator[Pair]:
    """Open both sides (capture files or bundles) and close everything afterwards.

    Args:
        good: capture file or bundle from the machine where the install works.
        bad: capture file or bundle from the failing machine.
        utc_offset: minutes east of UTC for CSV exports and bundles whose time zone is unknown.

    Raises:
        InputError: a side is missing, unreadable, or holds no Procmon capture.
    """
    gp, bp = Path(good), Path(bad)
    for p in (gp, bp):
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
    stack = contextlib.ExitStack()
    with stack:
        if _is_capture(gp) and _is_capture(bp):
            g = _open_file(gp, "good", utc_offset)
            stack.callback(g.cap.close)
            b = _open_file(bp, "bad", utc_offset)
            stack.callback(b.cap.close)
            yield Pair(g, b)
            return
        from culprit import pipeline
        from culprit.analysis.facts import Facts

        ws = stack.enter_context(pipeline.load([bp], good=[gp], utc_offset=utc_offset))
        facts = Facts(ws)
        stack.callback(facts.close)
        grefs, brefs = facts.captures("good"), facts.captures("bad")
        warnings = [f"{a}: {m}" for a, m in facts.warnings]
        for refs, p in ((grefs, gp), (brefs, bp)):
            if not refs:
                raise InputError(f"{p}: no Procmon capture (PML or CSV export) found")
        yield Pair(_pick(grefs, brefs, "good", warnings), _pick(brefs, grefs, "bad", warnings), warnings)
