"""Pass: known non-agent causes from the rule files (store corruption, policy blocks, MSI busy...).

Rules are data (``culprit/rules/builtin``); this pass turns their matches into findings with no culprit,
citing the failing lines first and, where a rule says how, the capture's corroboration.
"""

from __future__ import annotations

from typing import Any

from culprit.analysis.inquiry import Inquiry
from culprit.model import Finding, Remediation, Step


def run(q: Inquiry) -> None:
    """Known non-agent causes from the rule files (store corruption, policy blocks...)."""
    from culprit.rules import run_rules

    events = [
        e
        for a in q.facts.ws.artifacts
        if a.role == "bad" and a.kind not in ("procmon", "procmon-csv")
        for e in a.events
    ]
    seen: dict[str, list] = {}
    for m in run_rules(events):
        if m.rule.finding:
            seen.setdefault(m.rule.id, []).append(m)
    failing = {(f.event.origin.artifact, f.event.origin.line) for f in q.failures}
    for _rid, ms in seen.items():
        rule = ms[0].rule
        fd = rule.finding or {}

        def weight(m: Any) -> tuple[int, int]:
            e = m.event
            if "csi" in e.kind:
                return (0, e.origin.line or 0)
            if (e.origin.artifact, e.origin.line) in failing:
                return (1, e.origin.line or 0)
            if str(e.severity) == "error" or e.kind.endswith(":exec"):
                return (2, e.origin.line or 0)
            return (3, e.origin.line or 0)

        picked = sorted(ms, key=weight)[:4]
        picked.sort(key=lambda m: (m.event.origin.artifact, m.event.origin.line or 0))
        steps = [
            Step(
                f"{rule.title}: {m.event.message[:160]}",
                m.event.origin,
                summary_zh=f"{rule.title_zh or rule.title}：{m.event.message[:160]}",
            )
            for m in picked
        ]
        steps += _capture_evidence(q, str(fd.get("capture") or ""), fd)
        q.findings.append(
            Finding(
                str(fd["kind"]),
                str(fd["title"]),
                float(fd.get("confidence", 0.6)),
                None,
                tuple(steps),
                Remediation(fix=str(fd["fix"]), fix_zh=fd.get("fix_zh")),
                {"rule": rule.id},
                title_zh=fd.get("title_zh"),
            )
        )


def _capture_evidence(q: Inquiry, where: str, fd: Any) -> list[Step]:
    """The first event of any capture that matches a rule's ``capture`` filter, as a chain step."""
    if not where:
        return []
    for ref in q.facts.captures("bad"):
        try:
            idx = list(ref.cap.where(where))
        except Exception:
            continue
        if idx:
            en = str(fd.get("capture_summary") or "the capture shows it")
            return [ref.step(int(idx[0]), en, str(fd.get("capture_summary_zh") or en))]
    return []
