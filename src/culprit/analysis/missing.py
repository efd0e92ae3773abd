"""What to collect next: one precise request per missing piece of evidence, from the catalog.

The texts come from the artifact catalog (``culprit.catalog``), the same data the collector script is
generated from, so a request and the script that fulfils it cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from culprit import catalog
from culprit.model import Missing


def request(artifact_id: str, lang: str = "en", **params: Any) -> Missing:
    """A missing-evidence request in English with its Chinese twin (``lang`` is kept for callers)."""
    why, how = catalog.request(artifact_id, lang="en", **params)
    why_zh, how_zh = catalog.request(artifact_id, lang="zh", **params)
    return Missing(artifact_id, why, how, why_zh, how_zh)


def dedupe(items: list[Missing]) -> tuple[Missing, ...]:
    seen: set[str] = set()
    out = []
    for m in items:
        if m.artifact in seen:
            continue
        seen.add(m.artifact)
        out.append(m)
    return tuple(out)
