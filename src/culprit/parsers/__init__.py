"""The parser registry: every module in this package registers its parser with ``@register``.

``sniff(source)`` asks every parser how sure it is and picks the most confident one. Parsers
are found by importing every module of this package once (no central list to edit).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from culprit.parsers.base import ParseContext, Parser, Source

__all__ = ["PARSERS", "ParseContext", "Parser", "Source", "get", "register", "sniff"]

PARSERS: dict[str, type[Parser]] = {}
LOAD_ERRORS: dict[str, str] = {}  # module -> error; a broken parser module must not stop the others
_loaded = False
P = TypeVar("P", bound=type[Parser])

MIN_CONFIDENCE = 0.3


def register(cls: P) -> P:
    """Class decorator: make a parser known under its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    if cls.name in PARSERS and PARSERS[cls.name] is not cls:
        raise TypeError(f"two parsers named {cls.name!r}")
    PARSERS[cls.name] = cls
    return cls


def load_all() -> dict[str, type[Parser]]:
    """Import every parser module once and return the registry."""
    global _loaded
    if not _loaded:
        for info in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
            leaf = info.name.rsplit(".", 1)[-1]
            if leaf.startswith("_") or leaf == "base":
                continue
            try:
                importlib.import_module(info.name)
            except Exception as e:  # reported by `culprit formats` and failed by the test suite
                LOAD_ERRORS[info.name] = f"{type(e).__name__}: {e}"
        _loaded = True
    return PARSERS


def get(name: str) -> type[Parser]:
    """The parser registered as ``name`` (KeyError if none)."""
    return load_all()[name]


def sniff(source: Source) -> tuple[type[Parser] | None, str]:
    """Pick the parser for ``source``.

    Returns:
        ``(parser, reason)``: the parser class, or None and why nothing fits.
    """
    if source.size == 0:
        return None, "empty file"
    best: tuple[float, type[Parser] | None] = (0.0, None)
    for cls in load_all().values():
        try:
            score = cls.sniff(source)
        except Exception as e:  # a sniff must never break ingestion
            score = 0.0
            _ = e
        if score > best[0]:
            best = (score, cls)
    if best[1] is None or best[0] < MIN_CONFIDENCE:
        kind = "binary data" if not source.is_text else "text"
        return None, f"no parser recognises this {kind}"
    return best[1], ""
