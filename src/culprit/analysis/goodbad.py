"""Pass: with a good machine's capture, the ranked differences between the two runs (``culprit.diff``)."""

from __future__ import annotations

from culprit.analysis.inquiry import Inquiry


def _good_also_fails(q: Inquiry) -> None:
    """The 'good' machine's own logs show the same failure: the comparison would mislead, so say so."""
    codes = {f.failure.code for f in q.failures if f.failure.code is not None}
    for e in q.facts.events("msi:summary", "cbs:startup", "cbs:exec", "edgeupdate:failed", role="good"):
        code = e.code if e.code is not None else e.get("fields.status")
        failed = (e.kind == "msi:summary" and isinstance(code, int) and code not in (0, 1641, 3010)) or (
            e.kind != "msi:summary" and code in codes)
        if failed:
            q.facts.warnings.append((e.origin.artifact, "the good machine's evidence shows the install failing too "
                                                        f"({e.message[:120]}): it is no working run to compare with"))
            return


def run(q: Inquiry) -> None:
    """With a good machine's capture, the ranked differences between the two runs (culprit.diff)."""
    _good_also_fails(q)
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
