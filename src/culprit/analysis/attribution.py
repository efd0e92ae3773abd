"""Who owns a module or driver: the bundle's own evidence first, the knowledge base second.

Evidence read from the bundle: the company/version/description of a module in a Procmon module
list, driverquery's display name and path, fltmc's altitude (mapped to Microsoft's allocation
table). The knowledge base adds the product, its vendor and how it interferes. A module that
looks like Windows' own is never a culprit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from culprit.analysis.facts import Facts, basename, norm_path
from culprit.kb import altitudes, microsoft, products
from culprit.model import Culprit, Event


@dataclass
class Owner:
    """What is known about who a module belongs to."""

    module: str
    path: str | None = None
    company: str | None = None
    version: str | None = None
    description: str | None = None
    product: str | None = None
    vendor: str | None = None
    role_hint: str | None = None
    mechanism: str | None = None
    how_en: str | None = None
    how_zh: str | None = None
    microsoft: bool = False
    microsoft_reason: str = ""
    evidence: list[Event] = field(default_factory=list)  # driverquery / fltmc lines naming it
    altitude: str | None = None

    def culprit(self, role: str, extra: dict[str, Any] | None = None) -> Culprit:
        x: dict[str, Any] = {}
        if self.version:
            x["version"] = self.version
        if self.description:
            x["description"] = self.description
        if self.company and self.company != self.vendor:
            x["company"] = self.company
        if self.altitude:
            x["altitude"] = self.altitude
        if self.mechanism:
            x["mechanism"] = self.mechanism
        x.update(extra or {})
        return Culprit(self.module, role, self.product, self.vendor or self.company, self.path, x)


def identify(
    facts: Facts,
    name_or_path: str,
    company: str | None = None,
    version: str | None = None,
    description: str | None = None,
) -> Owner:
    """Gather what the bundle and the knowledge base say about one module, driver or process."""
    name = basename(name_or_path)
    path = name_or_path if ("\\" in name_or_path or "/" in name_or_path) else None
    o = Owner(module=name, path=path, company=company or None, version=version, description=description)
    stem = name.rsplit(".", 1)[0].casefold()
    for ev in facts.events("driverquery:driver"):
        mod = str(ev.get("fields.module") or "").casefold()
        p = str(ev.get("fields.path") or "")
        if mod in (stem, name.casefold()) or basename(p).casefold() == name.casefold():
            o.evidence.append(ev)
            if not o.path and p:
                o.path = p
            if not o.description and ev.get("fields.display_name"):
                o.description = str(ev.get("fields.display_name"))
    for ev in facts.events("fltmc:filter", "fltmc:instance"):
        if str(ev.get("fields.filter") or "").casefold() == stem:
            o.evidence.append(ev)
            o.altitude = o.altitude or (str(ev.get("fields.altitude")) if ev.get("fields.altitude") else None)
    hits = products.lookup(o.path or name) or products.lookup(name)
    # A hit that names a product beats one that only knows a company (an altitude row).
    hits = sorted(hits, key=lambda h: (not h.product, -h.confidence))
    if not hits and o.company:
        p = products.match_company(o.company)
        if p is not None:
            o.product, o.vendor = p.name, p.vendor or None
    if hits:
        h = hits[0]
        o.product, o.vendor = h.product, h.vendor
        if not h.product and o.company:
            o.vendor = o.company  # the file's own version info beats an altitude allocation's owner
        o.role_hint, o.mechanism, o.how_en, o.how_zh = h.role, h.mechanism, h.how_en, h.how_zh
        if h.microsoft:
            o.microsoft = True
    if o.altitude and not o.product:
        row = altitudes.lookup(name) or altitudes.lookup(stem + ".sys")
        if row is not None:
            o.vendor = o.vendor or getattr(row, "company", None)
    if not o.product and o.company and o.description:
        o.product = _product_from_siblings(facts, o)
    v = microsoft.recognize(name=name, path=o.path, company=o.company)
    if not hits or not o.product:
        o.microsoft = o.microsoft or v.is_microsoft
    o.microsoft_reason = v.reason
    return o


_GENERIC = {
    "file",
    "system",
    "filter",
    "driver",
    "mini-filter",
    "minifilter",
    "service",
    "kernel",
    "module",
    "agent",
    "helper",
    "library",
    "dll",
    "component",
    "host",
    "process",
    "core",
    "engine",
    "x64",
    "x86",
}


def _product_from_siblings(facts: Facts, o: Owner) -> str | None:
    """The product two binaries of the same company share in their descriptions.

    ``Cortex XDR File System Filter`` (the driver) and ``Cortex XDR Service`` (a running process of the same
    company) name the product ``Cortex XDR``. One description alone proves nothing.
    """
    mine = (o.description or "").split()
    best: list[str] = []
    company = (o.company or "").casefold()
    # First: a running process of the same company that the knowledge base knows (by name or install path).
    for ref in facts.captures("bad"):
        for rec in ref.cap.processes:
            if (rec.company or "").casefold() == company and rec.image_path:
                hit = next(
                    (
                        h
                        for h in products.lookup(rec.image_path)
                        if h.product and h.matched != "keyword" and h.confidence >= 0.8
                    ),
                    None,
                )
                if hit is not None:
                    if not o.vendor or o.vendor == o.company:
                        o.vendor = hit.vendor or o.vendor
                    return hit.product
    for ref in facts.captures("bad"):
        for rec in ref.cap.processes:
            others = [(rec.company, rec.description, rec.image_path)] + [
                (m.company, m.description, m.path) for m in rec.modules or ()
            ]
            for company, desc, path in others:
                if not desc or (company or "").casefold() != (o.company or "").casefold():
                    continue
                if (path or "").casefold() == (o.path or "").casefold():
                    continue  # the module itself
                theirs = desc.split()
                common: list[str] = []
                for a, b in zip(mine, theirs, strict=False):
                    if a.casefold() != b.casefold():
                        break
                    common.append(a)
                while common and common[-1].casefold() in _GENERIC:
                    common.pop()
                if len(common) > len(best):
                    best = common
    return " ".join(best) or None


def module_record(ref: Any, name: str) -> Any:
    """The module of that name in a capture's module lists (kernel modules sit in the System process's)."""
    for rec in ref.cap.processes:
        for m in getattr(rec, "modules", None) or ():
            if basename(m.path).casefold() == name.casefold():
                return m
    return None


def identify_module(facts: Facts, ref: Any, name: str) -> Owner:
    """Who owns a module a capture names (a stack frame): its version info there, then the knowledge base."""
    m = module_record(ref, name)
    return identify(facts, m.path if m else name, getattr(m, "company", None) or None,
                    getattr(m, "version", None), getattr(m, "description", None))


def is_foreign(path: str, company: str | None, own_dirs: tuple[str, ...] = ()) -> bool:
    """A module that is neither Windows' own nor shipped beside the program that loads it."""
    p = norm_path(path)
    if any(p.startswith(d) for d in own_dirs if d):
        return (
            not (company or "").lower().startswith("microsoft") and bool(company) and _known_third_party(path)
        )
    full = path if ("\\" in path or "/" in path) else None
    v = microsoft.recognize(name=basename(path), path=full, company=company)
    return not v.is_microsoft


def _known_third_party(path: str) -> bool:
    return bool(products.lookup(path))
