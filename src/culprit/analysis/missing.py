"""What to collect next: one precise request per missing piece of evidence, from the catalog.

The texts come from the artifact catalog (``culprit.catalog``), the same data the collector script is
generated from, so a request and the script that fulfils it cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from culprit import catalog
from culprit.model import Missing


def request(artifact_id: str, lang: str = "en", why_prefix: str = "", **params: Any) -> Missing:
    why, how = catalog.request(artifact_id, lang=lang, **params)
    if why_prefix:
        why = f"{why_prefix} {why}" if lang == "en" else f"{why_prefix}{why}"
    return Missing(artifact_id, why, how)


def dedupe(items: list[Missing]) -> tuple[Missing, ...]:
    seen: set[str] = set()
    out = []
    for m in items:
        if m.artifact in seen:
            continue
        seen.add(m.artifact)
        out.append(m)
    return tuple(out)
