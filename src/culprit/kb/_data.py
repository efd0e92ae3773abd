"""Loading the knowledge base's data files (shipped inside the package, read once).

Generated tables (``*.tsv``, ``*.txt``) start with one ``#`` line naming their source and license,
then a header row. Hand-written tables are YAML. Everything is read with ``importlib.resources`` so
the package works from a wheel or a zip as well as from a checkout.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

_PKG = "culprit.kb.data"


def text(name: str) -> str:
    """The UTF-8 text of the data file ``name``."""
    return resources.files(_PKG).joinpath(name).read_text(encoding="utf-8")


def tsv(name: str) -> list[dict[str, str]]:
    """Rows of a generated TSV table as dicts keyed by its header (comment lines skipped)."""
    lines = [ln for ln in text(name).splitlines() if ln and not ln.startswith("#")]
    head = lines[0].split("\t")
    return [dict(zip(head, ln.split("\t"), strict=True)) for ln in lines[1:]]


def lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a generated word list."""
    return [ln.strip() for ln in text(name).splitlines() if ln.strip() and not ln.startswith("#")]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster on meanings.yaml


@functools.cache
def load_yaml(name: str) -> Any:
    """A hand-written YAML file (parsed once, with the safe loader)."""
    return yaml.load(text(name), Loader=_LOADER)  # SafeLoader or CSafeLoader only
