"""Minifilter altitudes: which company Microsoft allocated a filter driver's altitude to.

``fltmc filters`` prints each loaded minifilter with its altitude; Microsoft's "Allocated filter
altitudes" page lists who each altitude (and driver file name) was given to, grouped by load-order
group. ``data/altitudes.tsv`` is that list (2,137 rows), derived by ``scripts/gen_kb.py`` from
``../shared/data/allocated-altitudes.tsv`` (MicrosoftDocs/windows-driver-docs, CC-BY-4.0; notice in
``data/LICENSES.md``). Names keep Microsoft's annotation apart (``note``: ``Renamed``, ``retired``,
``on 64bit``, ``Top``); company strings are as Microsoft wrote them.

A driver that shows an altitude in ``fltmc`` but is not in this table is either new, private, or using
someone else's altitude — worth saying in a report (e.g. TMS's ``tmsfsflt`` sits at 368420, an altitude
allocated to NURILAB).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from culprit.kb import _data


@dataclass(frozen=True, slots=True)
class AltitudeRow:
    """One allocation.

    Attributes:
        minifilter: driver file name as allocated (``shdlpSf.sys``; a few have no ``.sys``).
        note: Microsoft's annotation of the name (``Renamed``, ``retired``, ``on 64bit``), or ``""``.
        altitude: the altitude as text (fractional ones such as ``385250.5`` stay exact).
        company: the company the altitude is allocated to.
        load_order_group: ``FSFilter Anti-Virus``, ``FSFilter Activity Monitor``, ...
        group_low: lowest altitude of the group's range.
        group_high: highest altitude of the group's range.
    """

    minifilter: str
    note: str
    altitude: str
    company: str
    load_order_group: str
    group_low: int
    group_high: int

    @property
    def is_microsoft(self) -> bool:
        """True when the allocation is Microsoft's own."""
        return self.company.strip().casefold() in ("microsoft", "microsoft corporation")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "minifilter": self.minifilter,
            "altitude": self.altitude,
            "company": self.company,
            "load_order_group": self.load_order_group,
            "group_range": [self.group_low, self.group_high],
        }
        if self.note:
            d["note"] = self.note
        return d


@functools.cache
def rows() -> tuple[AltitudeRow, ...]:
    """Every allocation, in the order of Microsoft's page (highest group first)."""
    return tuple(
        AltitudeRow(
            r["minifilter"],
            r["note"],
            r["altitude"],
            r["company"],
            r["load_order_group"],
            int(r["group_low"]),
            int(r["group_high"]),
        )
        for r in _data.tsv("altitudes.tsv")
    )


def _key(name: str) -> str:
    """``\\SystemRoot\\System32\\drivers\\ShDlpSf.SYS`` / ``shdlpsf`` -> ``shdlpsf``."""
    base = name.strip().strip('"').replace("/", "\\").rsplit("\\", 1)[-1].casefold()
    return base[:-4] if base.endswith(".sys") else base


@functools.cache
def _by_name() -> dict[str, tuple[AltitudeRow, ...]]:
    idx: dict[str, list[AltitudeRow]] = {}
    for r in rows():
        idx.setdefault(_key(r.minifilter), []).append(r)
    return {k: tuple(v) for k, v in idx.items()}


def _norm_alt(alt: str | int | float | Decimal) -> Decimal | None:
    try:
        d = Decimal(str(alt).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


@functools.cache
def _by_alt() -> dict[Decimal, tuple[AltitudeRow, ...]]:
    idx: dict[Decimal, list[AltitudeRow]] = {}
    for r in rows():
        d = _norm_alt(r.altitude)
        if d is not None:
            idx.setdefault(d.normalize(), []).append(r)
    return {k: tuple(v) for k, v in idx.items()}


def lookup_all(driver_name: str) -> tuple[AltitudeRow, ...]:
    """Every allocation for a driver (file name, service name or path; any case, ``.sys`` optional)."""
    return _by_name().get(_key(driver_name), ())


def lookup(driver_name: str) -> AltitudeRow | None:
    """The allocation for a driver, a current one before ``retired``/``old`` entries; None if absent."""
    found = lookup_all(driver_name)
    if not found:
        return None
    current = [r for r in found if not any(w in r.note.casefold() for w in ("retired", "old"))]
    return (current or list(found))[0]


def by_altitude(alt: str | int | float | Decimal) -> list[AltitudeRow]:
    """The allocations at exactly this altitude (``"385250.5"``, ``368420``); empty if none/not a number."""
    d = _norm_alt(alt)
    if d is None:
        return []
    return list(_by_alt().get(d.normalize(), ()))


@functools.cache
def _groups() -> tuple[tuple[int, int, str], ...]:
    seen = {(r.group_low, r.group_high, r.load_order_group) for r in rows()}
    return tuple(sorted(seen))


def band(alt: str | int | float | Decimal) -> str | None:
    """The load-order group whose range holds ``alt`` (``328010`` -> ``FSFilter Anti-Virus``), or None."""
    d = _norm_alt(alt)
    if d is None:
        return None
    for low, high, name in _groups():
        if low <= d < high + 1:
            return name
    return None
