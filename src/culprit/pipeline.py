"""The one pipeline every shell (CLI, web, fleet) calls: bundle → artifacts → events → analysis.

``load()`` opens bundles, sniffs every file, settles the machine's UTC offset and returns a
:class:`Workspace` whose artifacts parse lazily (once). ``analyze()`` runs the analysis passes
over a workspace and returns the frozen :class:`culprit.model.Analysis`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from culprit import parsers
from culprit.errors import ErrorPolicy, InputError
from culprit.ingest import Bundle, Limits, open_bundle
from culprit.model import ArtifactInfo, Event, Warning_
from culprit.parsers.base import ParseContext, Parser, Source


@dataclass
class Artifact:
    """One file of a bundle with the parser chosen for it; events are parsed on first use."""

    source: Source
    parser: type[Parser] | None
    skipped: str | None
    role: str  # "bad" (evidence about the failing machine) or "good"
    utc_offset: int | None = None
    policy: ErrorPolicy = ErrorPolicy.WARN
    known_count: int | None = None  # event count learned without materializing events (a capture's length)
    _events: list[Event] | None = field(default=None, repr=False)
    _ctx: ParseContext | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def kind(self) -> str | None:
        return self.parser.name if self.parser else None

    def context(self) -> ParseContext:
        if self._ctx is None:
            self._ctx = ParseContext(self.source.name, self.utc_offset, self.source.locale, self.policy)
        return self._ctx

    @property
    def events(self) -> list[Event]:
        """All events of this artifact (parsed once, then cached)."""
        if self._events is None:
            if self.parser is None:
                self._events = []
            else:
                ctx = self.context()
                out: list[Event] = []
                try:
                    for ev in self.parser().parse(self.source, ctx):
                        out.append(ev)
                except (OSError, MemoryError, RecursionError) as e:
                    ctx.warn(f"reading stopped: {type(e).__name__}: {e}")
                except Exception as e:  # a parser bug must not lose the other artifacts
                    if self.policy is ErrorPolicy.RAISE:
                        raise
                    ctx.warn(f"parser {self.parser.name} failed after {len(out)} events: {type(e).__name__}: {e}")
                self._events = out
        return self._events

    def stream(self) -> Iterator[Event]:
        """The events without keeping them (for one pass over a large capture); cached ones when parsed."""
        if self._events is not None:
            yield from self._events
            return
        if self.parser is None:
            return
        ctx = self.context()
        try:
            yield from self.parser().parse(self.source, ctx)
        except (OSError, MemoryError, RecursionError) as e:
            ctx.warn(f"reading stopped: {type(e).__name__}: {e}")
        except Exception as e:  # a parser bug must not lose the other artifacts
            if self.policy is ErrorPolicy.RAISE:
                raise
            ctx.warn(f"parser {self.parser.name} failed: {type(e).__name__}: {e}")

    @property
    def warnings(self) -> list[Warning_]:
        return self.context().warnings

    def info(self) -> ArtifactInfo:
        if not self.parser:
            n = 0
        elif self._events is None and self.known_count is not None:
            n = self.known_count
        else:
            n = len(self.events)
        enc = self.source.encoding.label if self.parser and self.source.is_text else None
        return ArtifactInfo(
            path=self.source.name,
            kind=self.kind,
            size=self.source.size,
            sha256=self.source.sha256,
            encoding=enc,
            events=n,
            warnings=self.context().warning_count,
            skipped=self.skipped,
        )


@dataclass
class Workspace:
    """Everything loaded for one run: the bundles, their artifacts and bundle-level warnings."""

    bundles: list[Bundle]
    artifacts: list[Artifact]
    warnings: list[Warning_]
    utc_offset: int | None
    offset_source: str

    def close(self) -> None:
        for b in self.bundles:
            b.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def of_kind(self, *kinds: str, role: str | None = "bad") -> list[Artifact]:
        return [a for a in self.artifacts if a.kind in kinds and (role is None or a.role == role)]

    def events(self, role: str | None = "bad") -> Iterator[Event]:
        for a in self.artifacts:
            if role is None or a.role == role:
                yield from a.events

    def all_warnings(self) -> list[Warning_]:
        out = list(self.warnings)
        for a in self.artifacts:
            out.extend(a.warnings)
        return out


def load(
    paths: Iterable[str | Path],
    good: Iterable[str | Path] = (),
    limits: Limits | None = None,
    policy: ErrorPolicy = ErrorPolicy.WARN,
    utc_offset: int | None = None,
) -> Workspace:
    """Open every bundle, choose a parser for every file and settle the UTC offset.

    Args:
        paths: evidence from the failing machine (folders, archives, files).
        good: evidence from a machine where the same install works.
        limits: archive safety limits.
        policy: WARN (default) or RAISE on damaged records.
        utc_offset: force the machine's offset (minutes east of UTC).

    Raises:
        InputError: a path is missing, or nothing in the input can be read.
    """
    bundles: list[Bundle] = []
    artifacts: list[Artifact] = []
    warnings: list[Warning_] = []
    try:
        seen_paths: set[str] = set()
        for role, group in (("bad", list(paths)), ("good", list(good))):
            for p in group:
                real = os.path.realpath(p)
                if real in seen_paths:  # the same folder twice (a shell glob slip): read it once
                    warnings.append(Warning_(str(p), "given more than once: read once"))
                    continue
                seen_paths.add(real)
                b = open_bundle(p, limits, name=_display_name(p, [x.path for x in bundles]))
                bundles.append(b)
                warnings.extend(b.warnings)
                for name, why in b.skipped:
                    warnings.append(Warning_(name, f"skipped: {why}"))
                found = 0
                for src in b.sources:
                    cls, why = parsers.sniff(src)
                    artifacts.append(Artifact(src, cls, why or None, role, policy=policy))
                    found += cls is not None
                if role == "good" and not found:
                    warnings.append(Warning_(b.name, "the good machine's evidence holds nothing culprit can read: "
                                                     "the comparison with a working run is missing"))
    except BaseException:
        for b in bundles:
            b.close()
        raise
    # Each bundle is one machine: settle its offset from its own evidence; a bundle that proves none
    # (a reproduction capture, a folder of tool outputs) borrows the first offset found.
    settled = [(b, *_settle_offset([b], [a for a in artifacts if a.source in b.sources], utc_offset)) for b in bundles]
    found = [(off, how) for _b, off, how in settled if off is not None]
    offset, how = found[0] if found else (None, "unknown")
    for b, off, _how in settled:
        for a in artifacts:
            if a.source in b.sources:
                a.utc_offset = off if off is not None else offset
    if offset is None and any(a.parser and a.parser.local_time for a in artifacts):
        warnings.append(
            Warning_(
                bundles[0].name if bundles else "",
                "machine time zone unknown (no manifest.json, no log that states it): local times read as UTC",
            )
        )
    bad_hosts = {str((b.manifest or {}).get("host")) for b in bundles
                 if (b.manifest or {}).get("host") and any(a.role == "bad" and a.source in b.sources for a in artifacts)}
    if len(bad_hosts) > 1:
        warnings.append(Warning_(bundles[0].name, "the evidence of the failing machine comes from more than one "
                                                  f"computer ({', '.join(sorted(bad_hosts))}): it is read as one machine"))
    for a in artifacts:
        if a.parser is None and a.source.filename.lower() != "manifest.json":
            warnings.append(Warning_(a.name, f"not read: {a.skipped}"))
    ws = Workspace(bundles, artifacts, warnings, offset, how)
    if not any(a.parser for a in artifacts):
        ws.close()
        raise InputError("nothing usable in the input: " + _why_nothing(artifacts, bundles))
    return ws


def _display_name(p: str | Path, earlier: list[Path]) -> str | None:
    """A bundle's display name; when two bundles share a folder name (day1/bad, day2/bad), its parent too."""
    pp = Path(p).resolve()
    if any(Path(e).resolve().name == pp.name for e in earlier):
        return f"{pp.parent.name}/{pp.name}" if pp.parent.name else None
    return None


def _why_nothing(artifacts: list[Artifact], bundles: list[Bundle]) -> str:
    if not artifacts:
        skipped = [f"{n} ({w})" for b in bundles for n, w in b.skipped]
        return "no files" + (f"; skipped: {', '.join(skipped[:5])}" if skipped else "")
    reasons = Counter(a.skipped for a in artifacts)
    return "; ".join(f"{n} file(s): {r}" for r, n in reasons.most_common(3))


def _settle_offset(
    bundles: list[Bundle], artifacts: list[Artifact], forced: int | None
) -> tuple[int | None, str]:
    if forced is not None:
        return forced, "given on the command line"
    for b in bundles:
        if b.utc_offset is not None:
            return b.utc_offset, f"{b.name}: manifest.json"
    votes: Counter[int] = Counter()
    for a in artifacts:
        if a.parser is None:
            continue
        try:
            for off in a.parser.utc_offsets(a.source):
                votes[_round15(off)] += 1
        except Exception:  # a hint is a hint; a broken file is reported when parsed
            continue
    if votes:
        off, n = votes.most_common(1)[0]
        return off, f"inferred from {n} local/UTC time pair(s) in the logs"
    if any(a.parser and a.parser.local_time for a in artifacts):
        from culprit import clock

        votes = clock.cross_artifact_offsets(artifacts)
        if votes:
            off, n = votes.most_common(1)[0]
            return off, f"inferred from {n} record(s) seen both in a local-time log and a UTC capture"
    return None, "unknown"


def _round15(minutes: int) -> int:
    return round(minutes / 15.0) * 15
