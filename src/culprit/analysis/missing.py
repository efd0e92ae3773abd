"""What to collect next: one precise request per missing piece of evidence, from the catalog.

The texts come from the artifact catalog (``culprit.catalog``), the same data the collector script is
generated from, so a request and the script that fulfils it cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from culprit import catalog
from culprit.model import Missing

if TYPE_CHECKING:
    from culprit.analysis.inquiry import Inquiry


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


# --- the pass -----------------------------------------------------------------------------------


def run(q: Inquiry) -> None:
    """No explanation yet: ask for the artifacts that would give one, given what failed and what is here."""
    if any(f.culprit for f in q.findings) or any(f.extra.get("rule") for f in q.findings):
        return
    kinds = {a.kind for a in q.facts.ws.artifacts if a.role == "bad" and a.kind}
    has_cap = bool(kinds & {"procmon", "procmon-csv"})
    sources = {f.source for f in q.failures}
    want: list[tuple[str, dict[str, Any]]] = []
    if not q.failures:
        want += [
            (k, {})
            for k in ("cbs", "setupapi", "msi", "windowsupdate-log", "evtx-setup", "evtx-application")
            if _kind_of(k) not in kinds
        ]
    if sources & {"cbs", "wu"}:
        want += [(k, {}) for k in ("cbs", "setupapi") if _kind_of(k) not in kinds]
    if sources & {"msi", "msi-ca", "edgeupdate"}:
        want += [("good-machine", {})] if not q.facts.captures("good") else []
    if sources & {"setupapi"} and not q.facts.infs:
        want.append(("inf", {}))
    if not has_cap:
        boot = any(e.get("fields.failure") for e in q.facts.events("cbs:startup")) or any(
            "post-reboot" in e.message.casefold() or "restart" in e.message.casefold()
            for e in q.facts.events("windowsupdate:*")
            if isinstance(e.code, int) and e.code & 0x80000000
        )
        proc = (
            "TrustedInstaller.exe"
            if sources & {"cbs", "wu", "dism"}
            else "msiexec.exe"
            if sources & {"msi", "msi-ca"}
            else None
        )
        want.append(("procmon", {"boot": boot, **({"process": proc} if proc else {})}))
    want += [(k, {}) for k in ("driverquery", "fltmc-filters") if _kind_of(k) not in kinds]
    for k, params in want:
        try:
            q.missing.append(request(k, q.lang, **params))
        except Exception:  # an id the catalog does not know is a bug in this list, not the user's problem
            continue


def _kind_of(catalog_id: str) -> str:
    return {
        "windowsupdate-log": "windowsupdate",
        "evtx-setup": "evtx",
        "evtx-application": "evtx",
        "fltmc-filters": "fltmc",
    }.get(catalog_id, catalog_id)
