"""culprit's knowledge base: status codes, endpoint products, filter altitudes, Windows' own files.

Data, not code: generated tables (``data/*.tsv``, made by ``scripts/gen_kb.py`` from ``../shared/data``,
notices in ``data/LICENSES.md``) and hand-written YAML (``data/meanings.yaml``, ``data/products.yaml``,
``data/microsoft.yaml``). Everything loads lazily, once per process.

The API other parts of culprit call (import the submodule: ``from culprit.kb import codes``):

``codes``
    ``explain(code, prefer=None) -> list[Reading]`` — every plausible reading of ``0x80070005``,
    ``80070005``, ``-2147024891``, ``5``, ``1603``, ``0xC0000022``, ``0xE0000219``, ``E_ACCESSDENIED``,
    ``STATUS_ACCESS_DENIED``, ``ERROR_ACCESS_DENIED``... A ``Reading`` has ``kind`` (hresult, win32,
    ntstatus, msi, setupapi, cbs, wu, omaha), ``value``, ``symbol``, ``meaning_en``/``meaning_zh``,
    ``hint_en``/``hint_zh``, ``decomposition`` (severity, facility, code, mapped win32/ntstatus/hresult/
    setupapi), ``context`` and ``written``. Unknown numbers are decomposed, never an exception.
    ``symbol(code) -> str | None``, ``meaning(code, lang="en") -> str | None``.
``products``
    ``lookup(name_or_path) -> list[ProductHit]`` — which product a driver, DLL, process or install path
    belongs to (product, vendor, role, mechanism, how to exempt, confidence, source).
    ``match_company(company) -> Product | None``, ``get(product_id) -> Product | None``.
``altitudes``
    ``lookup(driver_name) -> AltitudeRow | None``, ``lookup_all(name)``,
    ``by_altitude(alt) -> list[AltitudeRow]``,
    ``band(alt) -> str | None`` (load-order group of an altitude).
``microsoft``
    ``is_microsoft(name=None, path=None, company=None) -> bool`` and ``recognize(...) -> Verdict``
    (``.is_microsoft``, ``.reason``, ``.confidence``).
"""

from __future__ import annotations

__all__ = ["altitudes", "codes", "microsoft", "products"]
