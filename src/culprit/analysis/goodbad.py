"""Pass: with a good machine's capture, the ranked differences between the two runs (``culprit.diff``)."""

from __future__ import annotations

from culprit.analysis.inquiry import Inquiry


def run(q: Inquiry) -> None:
    """With a good machine's capture, the ranked differences between the two runs (culprit.diff)."""
    good, bad = q.facts.captures("good"), q.facts.captures("bad")
    if not good or not bad:
        return
    from culprit.diff import compare

    try:
        result = compare(good[0], bad[0])
    except Exception as e:  # the diff is corroboration; its failure must not lose the answer
        q.facts.warnings.append((bad[0].artifact, f"good-vs-bad diff not computed: {type(e).__name__}: {e}"))
        return
    d = result.to_dict()
    d["differences"] = d.get("differences", [])[:10]
    if isinstance(d.get("processes"), list):
        d["processes"] = d["processes"][:50]
    q.diff = d
