"""From a loaded workspace to the answer: the failure, the chain, the culprit, the allow-list.

``analyze(ws)`` runs the passes in ``PASSES`` order over an :class:`Inquiry` (what is known so far)
and returns the frozen :class:`culprit.model.Analysis`. Each pass is one module's ``run(q)``; it reads
the bundle only through :class:`culprit.analysis.facts.Facts` and adds failures, findings, chain steps
and missing-evidence requests.

The reasoning is code and keyed on structure (a denied write, a module loaded before an early exit,
a stack frame in a driver), never on the names of particular products, drivers, keys or INFs: those
come from the bundle and the knowledge base. How it reasons: docs/analysis.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from culprit.analysis import denials, failures, goodbad, injection, missing, msiscript, servicing, signatures
from culprit.analysis.facts import Facts
from culprit.analysis.inquiry import Inquiry
from culprit.model import Analysis, Step, Warning_
from culprit.pipeline import Workspace


def rank(q: Inquiry) -> None:
    """Findings by confidence; a capture that already decided the answer is not asked for again."""
    q.findings.sort(key=lambda f: -f.confidence)
    top = q.findings[0] if q.findings else None
    if (
        top is not None
        and top.culprit is not None
        and top.confidence >= 0.9
        and any(s.origin.record is not None for s in top.chain)
    ):
        q.missing = [m for m in q.missing if m.artifact not in ("procmon", "acl")]


def timestamp_steps(q: Inquiry) -> None:
    """Give every chain step the UTC time of the log record it cites (for timelines)."""
    index = {}
    for role in ("bad", "good"):
        for evs in q.facts._index(role).values():
            for e in evs:
                if e.origin.line is not None:
                    index.setdefault((e.origin.artifact, e.origin.line), e)

    def fix(s: Step) -> Step:
        if s.time is not None or s.origin.line is None:
            return s
        e = index.get((s.origin.artifact, s.origin.line))
        if e is None:
            return s
        return replace(s, time=e.time, mark=s.mark or ("fail" if str(e.severity) == "error" else "info"))

    q.findings = [replace(f, chain=tuple(fix(s) for s in f.chain)) for f in q.findings]


PASSES: tuple[Callable[[Inquiry], None], ...] = (
    failures.run,
    servicing.run,
    msiscript.run,
    injection.run,
    goodbad.run,
    denials.run,
    signatures.run,
    missing.run,
    rank,
    timestamp_steps,
)


def analyze(ws: Workspace, lang: str = "en") -> Analysis:
    """Run every pass over a loaded workspace and return the answer."""
    facts = Facts(ws)
    q = Inquiry(facts, lang)
    try:
        for p in PASSES:
            p(q)
        warnings = [*ws.all_warnings(), *(Warning_(a, m) for a, m in facts.warnings)]
        artifacts = tuple(a.info() for a in ws.artifacts)
    finally:
        facts.close()
    bad = ", ".join(
        b.name for b in ws.bundles if any(a.role == "bad" for a in ws.artifacts if a.source in b.sources)
    )
    good = ", ".join(
        b.name for b in ws.bundles if any(a.role == "good" for a in ws.artifacts if a.source in b.sources)
    )
    extra: dict[str, Any] = {"time_zone": {"utc_offset_minutes": ws.utc_offset, "source": ws.offset_source}}
    if q.unresolved:
        extra["unresolved"] = q.unresolved
    if q.diff:
        extra["diff"] = q.diff
    return Analysis(
        bundle=bad or (ws.bundles[0].name if ws.bundles else ""),
        artifacts=artifacts,
        failures=tuple(f.failure for f in q.failures),
        findings=tuple(q.findings),
        missing=missing.dedupe(q.missing),
        warnings=tuple(warnings),
        good=good or None,
        extra=extra,
    )


__all__ = ["PASSES", "Inquiry", "Step", "analyze"]
