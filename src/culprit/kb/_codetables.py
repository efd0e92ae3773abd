"""The merged status-code tables behind :mod:`culprit.kb.codes`, loaded once per process.

``data/codes.tsv`` (Win32/HRESULT/NTSTATUS names from golang/sys, BSD-3-Clause) gives names by
(kind, value); ``data/meanings.yaml`` adds culprit's meanings and hints and the symbols winerror.h lacks
(CBS_E_*, WU_E_*, Omaha, MSI messages), and its names come first. SetupAPI's ``ERROR_X`` at
``0xE000xxxx`` is derived from winerror.h's ``SPAPI_E_X`` at ``0x800Fxxxx`` (setupapi.h mirrors them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from culprit.kb import _data

SETUPAPI_MASK = 0xE0000000  # APPLICATION_ERROR_MASK | ERROR_SEVERITY_ERROR (setupapi.h)
NT_BIT = 0x10000000  # FACILITY_NT_BIT: HRESULT_FROM_NT


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    value: int
    symbol: str | None
    en: str | None = None
    zh: str | None = None
    hint_en: str | None = None
    hint_zh: str | None = None
    win32: int | None = None
    context: str | None = None


class CodeTables:
    """The merged code tables: symbols by (kind, value), entries by symbol, meanings."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, int], list[str]] = {}
        self.by_symbol: dict[str, list[tuple[str, int]]] = {}
        self.entries: dict[tuple[str, int], Entry] = {}
        for row in _data.tsv("codes.tsv"):
            self._add_name(row["kind"], int(row["value"], 16), row["name"])
        doc = _data.load_yaml("meanings.yaml")
        self.procmon = {str(k).upper(): int(v) for k, v in (doc.get("procmon_results") or {}).items()}
        for section in ("codes",):
            for raw in doc.get(section) or ():
                e = Entry(
                    kind=raw["kind"],
                    value=int(raw["value"]) & 0xFFFFFFFF,
                    symbol=raw.get("symbol"),
                    en=raw.get("en"),
                    zh=raw.get("zh"),
                    hint_en=raw.get("hint_en"),
                    hint_zh=raw.get("hint_zh"),
                    win32=raw.get("win32"),
                    context=raw.get("context"),
                )
                key = (e.kind, e.value)
                if key in self.entries:
                    raise ValueError(f"meanings.yaml: {e.kind} {e.value:#x} listed twice")
                self.entries[key] = e
                if e.symbol:
                    self._add_name(e.kind, e.value, e.symbol, first=True)
        # SetupAPI: setupapi.h's ERROR_X (0xE000xxxx) mirrors winerror.h's SPAPI_E_X (0x800Fxxxx).
        for (kind, value), names in list(self.names.items()):
            if kind == "hresult" and value >> 16 == 0x800F:
                for n in names:
                    if n.startswith("SPAPI_E_"):
                        self._add_name("setupapi", SETUPAPI_MASK | (value & 0xFFFF), "ERROR_" + n[8:])

    def _add_name(self, kind: str, value: int, name: str, first: bool = False) -> None:
        lst = self.names.setdefault((kind, value), [])
        if name in lst:
            lst.remove(name)
        lst.insert(0, name) if first else lst.append(name)
        locs = self.by_symbol.setdefault(name.upper(), [])
        if (kind, value) not in locs:
            locs.append((kind, value))

    def symbol(self, kind: str, value: int) -> str | None:
        lst = self.names.get((kind, value))
        return lst[0] if lst else None


@functools.cache
def tables() -> CodeTables:
    """The tables (built on first use)."""
    return CodeTables()
