"""Endpoint products: whose driver, DLL, process or install path is this, and how does it interfere?

Three sources, strongest first:

* ``data/products.yaml`` — hand-written entries with modules, roles, mechanisms and how to exempt a
  process (TMS: ``krnlmgr.sys``, ``tmsfsflt.sys``, ``schk.dll``, ``pcit.exe``, ``pcit_x64.exe``,
  ``TMSAgent.exe``, company ``北京瀚海信安科技有限公司``);
* ``data/edr-indicators.tsv`` — 24 security products' DLL, EXE, driver, path and keyword indicators,
  derived from FourCoreLabs/EDRHunt (MIT) by ``scripts/gen_kb.py``;
* ``data/altitudes.tsv`` — the company Microsoft allocated a minifilter's altitude to, and
  ``data/edr-keywords.txt`` — PwnDexter/SharpEDRChecker's keywords (BSD-3-Clause), a weak
  "looks like security software" signal without a vendor.

:func:`lookup` returns every hit with a ``confidence`` so callers can keep the strong ones;
:func:`match_company` maps a version-resource company to a product.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from culprit.kb import _data, altitudes

ROLES = ("kernel-driver", "filesystem-filter", "injected-module", "injector-process", "service", "other")


@dataclass(frozen=True, slots=True)
class Module:
    """One file of a product as ``products.yaml`` describes it."""

    name: str
    role: str
    mechanism: str
    how_en: str = ""
    how_zh: str = ""
    exempt_en: str = ""
    exempt_zh: str = ""
    extra: dict[str, str] = field(
        default_factory=dict
    )  # path, path_x64, service, display_name, description, altitude


@dataclass(frozen=True, slots=True)
class Product:
    """A product from ``products.yaml``."""

    id: str
    name: str
    name_zh: str
    vendor: str
    category: str
    category_zh: str
    companies: tuple[str, ...]
    install_paths: tuple[str, ...]
    registry: tuple[str, ...]
    modules: tuple[Module, ...]
    exempt_en: str
    exempt_zh: str
    evidence: tuple[str, ...]

    def module(self, name: str) -> Module | None:
        """The module called ``name`` (file name, or service name without ``.sys``), case-insensitive."""
        k = _base(name)
        for m in self.modules:
            mk = m.name.casefold()
            if k == mk or k == mk.rsplit(".", 1)[0] or k == (m.extra.get("service") or "").casefold():
                return m
        return None


@dataclass(frozen=True, slots=True)
class ProductHit:
    """What the knowledge base says about one name or path.

    Attributes:
        module: the name that matched (``schk.dll``), or the input's file name.
        product: product name (``TMS``), or None when only a vendor/company is known.
        vendor: vendor or company (``北京瀚海信安科技有限公司``), or None.
        role: kernel-driver, filesystem-filter, injected-module, injector-process, service, other.
        mechanism: registry-callback, filesystem-filter, dll-injection, process-injection, agent,
            security-agent, install-path, keyword.
        how_en / how_zh: how it interferes, one paragraph (may be empty).
        exempt_en / exempt_zh: how to exempt a process from it (may be empty).
        matched: what matched — name, service, path, install-path, registry, company, altitude, keyword.
        source: products.yaml, edrhunt, allocated-altitudes, sharpedrchecker.
        confidence: 0..1.
        microsoft: the hit names a Microsoft product (Defender, an inbox minifilter).
        product_id: the ``products.yaml`` id, if from there.
        details: path, path_x64, service, display_name, description, altitude, load_order_group...
    """

    module: str
    product: str | None
    vendor: str | None
    role: str
    mechanism: str
    how_en: str
    how_zh: str
    exempt_en: str
    exempt_zh: str
    matched: str
    source: str
    confidence: float
    microsoft: bool = False
    product_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "module": self.module,
            "product": self.product,
            "vendor": self.vendor,
            "role": self.role,
            "mechanism": self.mechanism,
            "matched": self.matched,
            "source": self.source,
            "confidence": round(self.confidence, 2),
        }
        if self.microsoft:
            d["microsoft"] = True
        if lang in ("en", "zh"):
            how, ex = (self.how_zh, self.exempt_zh) if lang == "zh" else (self.how_en, self.exempt_en)
            if how:
                d["how"] = how
            if ex:
                d["exempt"] = ex
        else:
            for k in ("how_en", "how_zh", "exempt_en", "exempt_zh"):
                if getattr(self, k):
                    d[k] = getattr(self, k)
        d.update(self.details)
        return d


# --- loading -----------------------------------------------------------------------------------


def _base(name_or_path: str) -> str:
    return name_or_path.strip().strip('"').replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1].casefold()


def _norm_path(p: str) -> str:
    from culprit.kb.microsoft import normalize_path

    return normalize_path(p)


def _is_path(s: str) -> bool:
    return "\\" in s or "/" in s


@functools.cache
def products() -> tuple[Product, ...]:
    """Every product of ``products.yaml``."""
    doc = _data.load_yaml("products.yaml")
    out = []
    for p in doc["products"]:
        mods = []
        for m in p.get("modules") or ():
            extra = {
                k: str(v)
                for k, v in m.items()
                if k not in ("name", "role", "mechanism", "how_en", "how_zh", "exempt_en", "exempt_zh")
            }
            if m["role"] not in ROLES:
                raise ValueError(f"products.yaml: {m['name']}: unknown role {m['role']!r}")
            mods.append(
                Module(
                    m["name"],
                    m["role"],
                    m["mechanism"],
                    m.get("how_en", ""),
                    m.get("how_zh", ""),
                    m.get("exempt_en", ""),
                    m.get("exempt_zh", ""),
                    extra,
                )
            )
        out.append(
            Product(
                id=p["id"],
                name=p["name"],
                name_zh=p.get("name_zh", p["name"]),
                vendor=p.get("vendor", ""),
                category=p.get("category", ""),
                category_zh=p.get("category_zh", ""),
                companies=tuple(p.get("companies") or ()),
                install_paths=tuple(p.get("install_paths") or ()),
                registry=tuple(p.get("registry") or ()),
                modules=tuple(mods),
                exempt_en=p.get("exempt_en", ""),
                exempt_zh=p.get("exempt_zh", ""),
                evidence=tuple(p.get("evidence") or ()),
            )
        )
    return tuple(out)


def get(product_id: str) -> Product | None:
    """The ``products.yaml`` product with this id (``tms``) or name (``TMS``), case-insensitive."""
    k = product_id.casefold()
    return next((p for p in products() if k in (p.id.casefold(), p.name.casefold())), None)


@functools.cache
def _edr() -> tuple[dict[str, tuple[tuple[str, str], ...]], tuple[tuple[str, str, str], ...]]:
    """EDRHunt indicators: {file name: ((product, kind), ...)}, and (product, path/keyword, kind) rows."""
    by_file: dict[str, list[tuple[str, str]]] = {}
    fuzzy: list[tuple[str, str, str]] = []
    for r in _data.tsv("edr-indicators.tsv"):
        ind, kind, prod = r["indicator"], r["kind"], r["product"]
        if kind in ("dll", "exe", "driver", "inf"):
            by_file.setdefault(_base(ind), []).append((prod, kind))
        elif kind == "path":
            fuzzy.append(
                (prod, _norm_path(ind) if ind[1:2] == ":" or ind.startswith("%") else ind.casefold(), kind)
            )
        elif len(ind) >= 5:
            fuzzy.append((prod, ind.casefold(), kind))
    return {k: tuple(v) for k, v in by_file.items()}, tuple(fuzzy)


@functools.cache
def _keywords() -> tuple[str, ...]:
    return tuple(k for k in _data.lines("edr-keywords.txt") if len(k) >= 4)


def _edr_vendor(product: str) -> str | None:
    return (_data.load_yaml("products.yaml").get("edr_vendors") or {}).get(product)


# --- public API --------------------------------------------------------------------------------


def match_company(company: str) -> Product | None:
    """The product whose files carry this company string (exact, case-insensitive; whitespace ignored)."""
    c = " ".join(company.split()).casefold()
    if not c:
        return None
    for p in products():
        if any(c == " ".join(x.split()).casefold() for x in p.companies):
            return p
    return None


def _hit_from_module(p: Product, m: Module, matched: str, confidence: float) -> ProductHit:
    return ProductHit(
        m.name,
        p.name,
        p.vendor or None,
        m.role,
        m.mechanism,
        m.how_en,
        m.how_zh,
        m.exempt_en or p.exempt_en,
        m.exempt_zh or p.exempt_zh,
        matched,
        "products.yaml",
        confidence,
        product_id=p.id,
        details=dict(m.extra),
    )


def lookup(name_or_path: str) -> list[ProductHit]:
    """Everything the knowledge base knows about a driver, DLL, process, install path or registry key.

    Args:
        name_or_path: ``krnlmgr.sys``, ``krnlmgr`` (service name), ``schk.dll``,
            ``C:\\Program Files (x86)\\TMS\\x64\\schk.dll``, ``\\SystemRoot\\System32\\drivers\\shdlpSf.sys``,
            ``HKLM\\SOFTWARE\\WOW6432Node\\TMS\\Agent``.

    Returns:
        Hits, strongest first (empty if nothing is known). Check ``confidence``: keyword hits (0.3–0.4)
        only say "looks like security software".
    """
    return list(_lookup((name_or_path or "").strip().strip('"')))


@functools.lru_cache(maxsize=65536)
def _lookup(s: str) -> tuple[ProductHit, ...]:
    if not s:
        return ()
    base = _base(s)
    npath = _norm_path(s) if _is_path(s) else None
    hits: list[ProductHit] = []

    for p in products():
        m = p.module(base)
        if m:
            matched = "name" if base == m.name.casefold() else "service"
            hits.append(_hit_from_module(p, m, matched, 0.95))
        elif npath:
            for ip in p.install_paths:
                if npath.startswith(_norm_path(ip)):
                    hits.append(
                        ProductHit(
                            base,
                            p.name,
                            p.vendor or None,
                            "other",
                            "install-path",
                            "",
                            "",
                            p.exempt_en,
                            p.exempt_zh,
                            "install-path",
                            "products.yaml",
                            0.85,
                            product_id=p.id,
                            details={"install_path": ip},
                        )
                    )
                    break
            else:
                key = s.casefold().replace("hkey_local_machine", "hklm")
                for rk in p.registry:
                    if key.startswith(rk.casefold().rstrip("\\")):
                        hits.append(
                            ProductHit(
                                base,
                                p.name,
                                p.vendor or None,
                                "other",
                                "registry",
                                "",
                                "",
                                p.exempt_en,
                                p.exempt_zh,
                                "registry",
                                "products.yaml",
                                0.8,
                                product_id=p.id,
                                details={"registry": rk},
                            )
                        )
                        break

    if not hits and not npath:
        p = match_company(s)
        if p is not None:
            hits.append(
                ProductHit(
                    s,
                    p.name,
                    p.vendor or None,
                    "other",
                    "company",
                    "",
                    "",
                    p.exempt_en,
                    p.exempt_zh,
                    "company",
                    "products.yaml",
                    0.9,
                    product_id=p.id,
                )
            )

    by_file, fuzzy = _edr()
    generic = _data.load_yaml("products.yaml").get("edr_generic") or {}
    for prod, kind in by_file.get(base, ()):
        role = {"dll": "injected-module", "driver": "kernel-driver", "inf": "kernel-driver"}.get(
            kind, "other"
        )
        mech = {"dll": "dll-injection", "driver": "kernel-driver"}.get(kind, "security-agent")
        vendor = _edr_vendor(prod)
        hits.append(
            ProductHit(
                base,
                prod,
                vendor,
                role,
                mech,
                "",
                "",
                generic.get("exempt_en", ""),
                generic.get("exempt_zh", ""),
                "name",
                "edrhunt",
                0.8,
                microsoft=vendor == "Microsoft",
            )
        )
    low = (npath or s).casefold()
    seen_prod = {h.product for h in hits}
    for prod, ind, kind in fuzzy:
        if prod in seen_prod or ind not in low:
            continue
        vendor = _edr_vendor(prod)
        conf = 0.7 if kind == "path" else 0.4
        hits.append(
            ProductHit(
                base,
                prod,
                vendor,
                "other",
                "install-path" if kind == "path" else "keyword",
                "",
                "",
                generic.get("exempt_en", ""),
                generic.get("exempt_zh", ""),
                "path" if kind == "path" else "keyword",
                "edrhunt",
                conf,
                microsoft=vendor == "Microsoft",
                details={"indicator": ind},
            )
        )
        seen_prod.add(prod)

    if "." not in base or base.endswith(".sys"):
        row = altitudes.lookup(base)
        if row:
            hits.append(
                ProductHit(
                    row.minifilter,
                    None,
                    row.company,
                    "filesystem-filter",
                    "filesystem-filter",
                    "",
                    "",
                    "",
                    "",
                    "altitude",
                    "allocated-altitudes",
                    0.6,
                    microsoft=row.is_microsoft,
                    details={"altitude": row.altitude, "load_order_group": row.load_order_group},
                )
            )

    if not hits:
        for kw in _keywords():
            if kw in base or (npath and kw in npath):
                hits.append(
                    ProductHit(
                        base,
                        None,
                        None,
                        "other",
                        "keyword",
                        "",
                        "",
                        "",
                        "",
                        "keyword",
                        "sharpedrchecker",
                        0.3,
                        details={"keyword": kw},
                    )
                )
                break
    hits.sort(key=lambda h: -h.confidence)
    return tuple(hits)
