"""``whois``: everything known about a driver, module or process — from the KB and from a bundle.

:func:`whois` joins the knowledge base (product hits, the altitude allocated to the name, the Microsoft
verdict) with what a bundle shows about the same name:

* ``driverquery:driver`` events — display name, description, path, start mode, state;
* ``fltmc:filter`` events — the altitude the filter actually runs at, its load-order group, and who
  Microsoft allocated that altitude to (a mismatch is reported);
* ``tasklist:process`` events — the processes that have the module loaded (with the line);
* Process Monitor captures (PML module lists, PML/CSV process records) — company, version,
  description and path of the module or process, and the processes it was loaded in.

Kinds that no parser produced yet are skipped with a note, so this degrades gracefully.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culprit.kb import altitudes, microsoft, products
from culprit.kb.altitudes import AltitudeRow
from culprit.kb.microsoft import Verdict
from culprit.kb.products import ProductHit

MAX_TASKLIST = 10  # processes listed per module; the total count is always given


@dataclass(frozen=True, slots=True)
class Sighting:
    """One place a bundle shows the name.

    Attributes:
        source: ``driverquery``, ``fltmc``, ``tasklist``, ``procmon-module`` or ``procmon-process``.
        artifact: display path of the artifact.
        line: line number in a text artifact, if any.
        facts: what that artifact says (display_name, path, altitude, company, version, processes...).
    """

    source: str
    artifact: str
    line: int | None
    facts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source, "artifact": self.artifact}
        if self.line is not None:
            d["line"] = self.line
        d.update(self.facts)
        return d


@dataclass(frozen=True, slots=True)
class WhoisReport:
    """What ``whois`` found: KB facts, then bundle facts, then notes (en, zh)."""

    query: str
    hits: tuple[ProductHit, ...]
    allocation: tuple[AltitudeRow, ...]
    verdict: Verdict
    sightings: tuple[Sighting, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()
    bundle: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """True when the KB or the bundle says anything about the name."""
        return bool(self.hits or self.allocation or self.sightings or self.verdict.is_microsoft)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "query": self.query,
            "knowledge_base": [h.to_dict(lang) for h in self.hits],
            "altitude_allocation": [r.to_dict() for r in self.allocation],
            "microsoft": {
                "is_microsoft": self.verdict.is_microsoft,
                "reason": self.verdict.reason_zh if lang == "zh" else self.verdict.reason,
                "confidence": self.verdict.confidence,
            },
        }
        if self.bundle:
            d["bundle"] = {"paths": list(self.bundle), "sightings": [s.to_dict() for s in self.sightings]}
        if self.notes:
            d["notes"] = [n[1] if lang == "zh" else n[0] for n in self.notes]
        return d


def _stem(name: str) -> str:
    base = name.strip().strip('"').replace("/", "\\").rsplit("\\", 1)[-1].casefold()
    for ext in (".sys", ".dll", ".exe"):
        if base.endswith(ext):
            return base[: -len(ext)]
    return base


def _base(path: str) -> str:
    return path.strip().strip('"').replace("/", "\\").rsplit("\\", 1)[-1].casefold()


def whois(name: str, bundle: Iterable[str | Path] = ()) -> WhoisReport:
    """Everything culprit knows about ``name`` (``krnlmgr.sys``, ``schk.dll``, ``pcit.exe``, a path).

    Args:
        name: file name, service/filter name or full path.
        bundle: evidence paths (folders, archives) to search for the name; empty for KB facts only.

    Raises:
        culprit.errors.InputError: a bundle path is missing or holds nothing readable.
    """
    query = name.strip()
    hits = tuple(products.lookup(query))
    allocation = altitudes.lookup_all(query)
    verdict = microsoft.recognize(name=_base(query), path=query if ("\\" in query or "/" in query) else None)
    paths = tuple(str(p) for p in bundle)
    if not paths:
        return WhoisReport(query, hits, allocation, verdict)
    sightings, notes = _from_bundle(query, paths)
    # a company or path the bundle shows is better evidence than the name alone
    for s in sightings:
        company, path = s.facts.get("company"), s.facts.get("path")
        if company or path:
            better = microsoft.recognize(name=_base(query), path=path, company=company)
            if better.confidence >= verdict.confidence:
                verdict = better
            break
    if not hits:  # the bundle's company may name a product the file name did not
        for s in sightings:
            p = products.match_company(s.facts.get("company") or "")
            if p:
                notes.append(
                    (
                        f"company {s.facts['company']!r} is {p.name}'s",
                        f"公司名 {s.facts['company']!r} 属于 {p.name_zh}",
                    )
                )
                break
    return WhoisReport(query, hits, allocation, verdict, tuple(sightings), tuple(notes), paths)


def _from_bundle(query: str, paths: tuple[str, ...]) -> tuple[list[Sighting], list[tuple[str, str]]]:
    from culprit import pipeline

    stem, base = _stem(query), _base(query)
    out: list[Sighting] = []
    notes: list[tuple[str, str]] = []
    with pipeline.load(paths) as ws:
        kinds = {a.kind for a in ws.artifacts if a.kind}
        for art in ws.of_kind("driverquery", role=None):
            for e in art.events:
                if e.kind != "driverquery:driver":
                    continue
                mod, p = str(e.fields.get("module") or ""), str(e.fields.get("path") or "")
                if mod.casefold() == stem or (p and _base(p) == base):
                    facts = {
                        k: e.fields[k]
                        for k in (
                            "module",
                            "display_name",
                            "description",
                            "driver_type",
                            "start_mode",
                            "state",
                            "path",
                        )
                        if e.fields.get(k)
                    }
                    out.append(Sighting("driverquery", art.name, e.origin.line, facts))
        for art in ws.of_kind("fltmc", role=None):
            for e in art.events:
                if e.kind not in ("fltmc:filter", "fltmc:instance"):
                    continue
                if str(e.fields.get("filter") or "").casefold() != stem:
                    continue
                alt = str(e.fields.get("altitude") or "")
                owners = altitudes.by_altitude(alt)
                facts = {
                    "filter": e.fields.get("filter"),
                    "altitude": alt,
                    "band": altitudes.band(alt),
                    "allocated_to": [f"{r.minifilter} ({r.company})" for r in owners],
                }
                if e.kind == "fltmc:filter" and e.fields.get("instances") is not None:
                    facts["instances"] = e.fields.get("instances")
                if e.kind == "fltmc:instance":
                    facts["volume"] = e.fields.get("volume")
                out.append(Sighting("fltmc", art.name, e.origin.line, facts))
                mine = any(_stem(r.minifilter) == stem for r in owners)
                if alt and not mine and e.kind == "fltmc:filter":
                    if owners:
                        who = ", ".join(sorted({r.company for r in owners}))
                        names = ", ".join(r.minifilter for r in owners)
                        notes.append(
                            (
                                f"altitude {alt} is allocated to {who} ({names}), not to {query}",
                                f"高度 {alt} 分配给了 {who}（{names}），并非 {query}",
                            )
                        )
                    else:
                        notes.append(
                            (
                                f"altitude {alt} is not in Microsoft's allocation list",
                                f"高度 {alt} 不在微软的分配列表中",
                            )
                        )
        for art in ws.of_kind("tasklist", role=None):
            found = []
            for e in art.events:
                if e.kind != "tasklist:process":
                    continue
                image = str(e.fields.get("image") or "")
                if _base(image) == base:
                    found.append((image, e.fields.get("pid"), e.origin.line, "process"))
                    continue
                mods = [str(m).casefold() for m in e.fields.get("modules") or ()]
                if base in mods:
                    lines = e.fields.get("module_lines") or []
                    i = mods.index(base)
                    found.append(
                        (image, e.fields.get("pid"), lines[i] if i < len(lines) else e.origin.line, "module")
                    )
            if len(found) > MAX_TASKLIST:
                notes.append((f"{art.name}: {len(found)} processes load it; the first {MAX_TASKLIST} are shown "
                              f"and {len(found) - MAX_TASKLIST} more are not",
                              f"{art.name}：共有 {len(found)} 个进程加载了它，这里列出前 {MAX_TASKLIST} 个，"
                              f"另有 {len(found) - MAX_TASKLIST} 个未列出"))
            for image, pid, line, how in found[:MAX_TASKLIST]:
                out.append(
                    Sighting(
                        "tasklist",
                        art.name,
                        line,
                        {"process": image, "pid": pid, "as": how, "of": len(found)},
                    )
                )
        _procmon(ws, base, out, notes)
        missing = [k for k in ("driverquery", "fltmc", "tasklist") if k not in kinds]
        if not kinds & {"procmon", "procmon-csv"}:
            missing.append("procmon")
        if missing:
            notes.append(
                (
                    f"the bundle has no {', '.join(missing)} output to check",
                    f"证据包中没有可供核对的 {', '.join(missing)} 输出",
                )
            )
    if not out:
        notes.append(
            (
                f"{query} does not appear in the bundle's driver, filter, process or module lists",
                f"{query} 未出现在证据包的驱动、过滤驱动、进程或模块列表中",
            )
        )
    return out, notes


def _procmon(ws: Any, base: str, out: list[Sighting], notes: list[tuple[str, str]]) -> None:
    try:
        from culprit.parsers.procmon import open_capture
    except ImportError as e:  # the Procmon reader is another module; degrade, do not fail
        notes.append((f"Process Monitor captures not read: {e}", f"未读取 Process Monitor 记录：{e}"))
        return
    seen: set[tuple[str, str, str]] = set()
    for art in ws.of_kind("procmon", "procmon-csv", role=None):
        try:
            with open_capture(art.source.path, art.name, utc_offset=ws.utc_offset) as cap:
                modules: dict[tuple[str, str, str], dict[str, Any]] = {}
                for p in cap.processes:
                    if _base(p.name or "") == base or (p.image_path and _base(p.image_path) == base):
                        key = ("process", p.image_path or p.name, str(p.pid))
                        if key not in seen:
                            seen.add(key)
                            facts = {
                                "process": p.name,
                                "pid": p.pid,
                                "path": p.image_path,
                                "company": p.company,
                                "version": p.version,
                                "description": p.description,
                                "command_line": p.command_line,
                            }
                            out.append(
                                Sighting(
                                    "procmon-process",
                                    art.name,
                                    None,
                                    {k: v for k, v in facts.items() if v not in (None, "")},
                                )
                            )
                    for m in p.modules or ():
                        if m.path and _base(m.path) == base:
                            k = (m.path, m.company or "", m.version or "")
                            entry = modules.setdefault(
                                k,
                                {
                                    "path": m.path,
                                    "company": m.company,
                                    "version": m.version,
                                    "description": m.description,
                                    "loaded_in": [],
                                },
                            )
                            entry["loaded_in"].append(f"{p.name} ({p.pid})")
                for k, facts in modules.items():
                    if ("module", *k) in seen:
                        continue
                    seen.add(("module", *k))
                    out.append(
                        Sighting(
                            "procmon-module",
                            art.name,
                            None,
                            {kk: v for kk, v in facts.items() if v not in (None, "", [])},
                        )
                    )
        except Exception as e:  # a damaged capture must not stop whois
            notes.append(
                (
                    f"{art.name}: capture not readable ({type(e).__name__}: {e})",
                    f"{art.name}：无法读取该记录（{type(e).__name__}: {e}）",
                )
            )
