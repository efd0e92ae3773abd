"""Shared test helpers: where the shared cases and corpus live, and small builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CULPRIT_SHARED", ROOT.parent / "shared"))
DATA = Path(__file__).resolve().parent / "data"


def corpus_path(*parts: str) -> Path:
    """A path under ../shared/corpus; the test is skipped (with the reason) when it is absent."""
    p = SHARED.joinpath("corpus", *parts)
    if not p.exists():
        pytest.skip(f"shared corpus not available: {p} (CI has it beside the checkout)")
    return p


def case_path(*parts: str) -> Path:
    """A path under ../shared/cases; skipped with the reason when absent."""
    p = SHARED.joinpath("cases", *parts)
    if not p.exists():
        pytest.skip(f"shared case bundle not available: {p}")
    return p


def data_path(*parts: str) -> Path:
    return DATA.joinpath(*parts)


def analysis_of(paths: list[Path], good: list[Path] | tuple[Path, ...] = ()) -> dict:
    """``culprit analyze`` of bundle paths as the JSON contract (what ``--format json`` prints)."""
    from culprit import pipeline
    from culprit.analysis import analyze

    with pipeline.load(paths, good=list(good)) as ws:
        return analyze(ws).to_dict()
