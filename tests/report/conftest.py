"""Analyses of the two seed cases, computed from ``examples/`` by the real pipeline (never hard-coded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from culprit import pipeline
from culprit.analysis import analyze

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# name -> (failing-machine paths, good paths)
CASES = {
    "kb4474419": (("kb4474419-registry-denied/bad", "kb4474419-registry-denied/repro"), ()),
    "edge": (("edge-injected-dll/bad",), ("edge-injected-dll/good",)),
    # the failing machine's logs without the reproduction capture: the analysis asks for Procmon
    "kb4474419-bad-only": (("kb4474419-registry-denied/bad",), ()),
}


def analysis_of(name: str, lang: str) -> dict[str, Any]:
    """``culprit analyze ... --lang LANG --format json`` of a seed case, as a dict."""
    bad, good = CASES[name]
    paths = [EXAMPLES / p for p in (*bad, *good)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"example bundle not available: {missing[0]}")
    with pipeline.load([str(EXAMPLES / p) for p in bad], good=[str(EXAMPLES / p) for p in good]) as ws:
        return analyze(ws, lang=lang).to_dict()


_cache: dict[tuple[str, str], dict[str, Any]] = {}


@pytest.fixture(scope="session")
def seed_analysis():
    """A function ``(case, lang) -> analysis dict``, each analysis computed once per session."""

    def get(name: str, lang: str) -> dict[str, Any]:
        key = (name, lang)
        if key not in _cache:
            _cache[key] = analysis_of(name, lang)
        return _cache[key]

    return get
