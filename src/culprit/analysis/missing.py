"""What to collect next: one precise request per missing piece of evidence, from the catalog.

The texts come from the artifact catalog (``culprit.catalog``), the same data the collector script is
generated from, so a request and the script that fulfils it cannot drift apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from culprit import catalog
from culprit.model import Missing

if TYPE_CHECKING:
    from culprit.analysis.inquiry import Inquiry


def request(artifact_id: str, lang: str = "en", **params: Any) -> Missing:
    """A missing-evidence request in English with its Chinese twin (``lang`` is kept for callers)."""
    why, how = catalog.request(artifact_id, lang="en", **params)
    why_zh, how_zh = catalog.request(artifact_id, lang="zh", **params)
    kept = {k: v for k, v in params.items() if v not in (None, "", [], ())}
    return Missing(artifact_id, why, how, why_zh, how_zh, kept)


def dedupe(items: list[Missing]) -> tuple[Missing, ...]:
    """One request per artifact, each ending with the ONE collector command that gathers them all."""
    seen: set[str] = set()
    out: list[Missing] = []
    for m in items:
        if m.artifact in seen:
            continue
        seen.add(m.artifact)
        out.append(m)
    if len(out) < 2:
        return tuple(out)
    merged: dict[str, Any] = {"services": [], "keys": [], "inf": [], "boot": False}
    for m in out:
        p = m.params
        for k in ("services", "keys", "inf"):
            v = p.get(k)
            for x in [v] if isinstance(v, str) else list(v or []):
                if x and x not in merged[k]:
                    merged[k].append(x)
        merged["boot"] = merged["boot"] or bool(p.get("boot"))
    capture = any(m.artifact == "procmon" for m in out)
    fixed: list[Missing] = []
    for m in out:
        how, how_zh = m.how, m.how_zh
        for lang in ("en", "zh"):
            own = catalog.collector_command(m.params, lang, procmon=m.artifact == "procmon")
            allc = catalog.collector_command(merged, lang, procmon=capture)
            if lang == "en":
                how = how.replace(own, allc)
            elif how_zh:
                how_zh = how_zh.replace(own, allc)
        fixed.append(replace(m, how=how, how_zh=how_zh))
    return tuple(fixed)


# --- the pass -----------------------------------------------------------------------------------


def run(q: Inquiry) -> None:
    """No explanation yet: ask for the artifacts that would give one, given what failed and what is here."""
    if any(f.culprit for f in q.findings) or any(f.extra.get("rule") for f in q.findings):
        return
    kinds = {a.kind for a in q.facts.ws.artifacts if a.role == "bad" and a.kind}
    if not q.facts.events("windowsupdate:*"):
        kinds.discard("windowsupdate")  # only Windows 10's placeholder WindowsUpdate.log: the real one is ETW
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
    if "configmgr" in sources and "msi" not in kinds and _runs_msiexec(q):
        want.append(("msi", {}))
    logs = [f.failure.extra["package_log"] for f in q.failures if f.failure.extra.get("package_log")]
    if "burn" in sources and "msi" not in kinds and logs:
        want.append(("msi", {"log": logs[0]}))  # the failing package's own (MSI) log says which action failed
    if sources & {"msi", "msi-ca", "edgeupdate", "configmgr", "burn"}:
        want += [("good-machine", {})] if not q.facts.captures("good") else []
    if sources & {"setupapi"} and not q.facts.infs:
        want.append(("inf", {}))
    if sources == {"exchange"} and not any(_denied(f) for f in q.failures):
        return  # Exchange setup said why it stopped (a prerequisite, AD, a script): no agent evidence to ask
    if not has_cap:
        boot = any(e.get("fields.failure") for e in q.facts.events("cbs:startup")) or any(
            "post-reboot" in e.message.casefold() or "restart" in e.message.casefold()
            for e in q.facts.events("windowsupdate:*")
            if isinstance(e.code, int) and e.code & 0x80000000
        )
        proc = (
            "TrustedInstaller.exe"
            if sources & {"cbs", "wu", "dism"}
            else "ExSetup.exe"
            if "exchange" in sources
            else "msiexec.exe"
            if sources & {"msi", "msi-ca"} or _runs_msiexec(q)
            else None
        )
        want.append(("procmon", {"boot": boot, **({"process": proc} if proc else {})}))
    want += [(k, {}) for k in ("driverquery", "fltmc-filters") if _kind_of(k) not in kinds]
    for k, params in want:
        try:
            q.missing.append(request(k, q.lang, **params))
        except Exception:  # an id the catalog does not know is a bug in this list, not the user's problem
            continue


def _runs_msiexec(q: Inquiry) -> bool:
    """A failure whose installer command line (ConfigMgr's) runs msiexec."""
    return any("msiexec" in str(f.related.get("command_line") or "").casefold() for f in q.failures)


def _denied(f: Any) -> bool:
    """A failure that says access was denied (what an agent's driver or an ACL causes)."""
    text = " ".join(str(v) for v in (f.failure.extra or {}).values()) + " " + str(f.failure.origin.text or "")
    return f.failure.code in (5, 0x80070005, 0xC0000022) or (
        "UnauthorizedAccess" in text or "is denied" in text or "Access denied" in text
    )


def _kind_of(catalog_id: str) -> str:
    return {
        "windowsupdate-log": "windowsupdate",
        "evtx-setup": "evtx",
        "evtx-application": "evtx",
        "fltmc-filters": "fltmc",
    }.get(catalog_id, catalog_id)
