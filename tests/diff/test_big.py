"""The bench's ~1M-event captures, diffed (slow: set CULPRIT_SLOW=1; timings live in bench/diff.py)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from culprit.diff import compare
from culprit.parsers.procmon import open_capture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CULPRIT_SLOW") != "1", reason="writes two ~190 MB captures; CULPRIT_SLOW=1"
    ),
]


def _bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "diff.py"
    spec = importlib.util.spec_from_file_location("bench_diff", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_million_event_captures(tmp_path: Path) -> None:
    good, bad = _bench().generate(tmp_path, 1_000_000)
    with open_capture(good) as g, open_capture(bad) as b:
        assert len(g) > 950_000 and len(b) > 950_000
        r = compare(g, b)
        kinds = {d.kind for d in r.differences}
        assert {"result-differs", "module-only-in-bad", "child-missing"} <= kinds
        hook = [d for d in r.of_kind("module-only-in-bad") if d.subject.endswith("fbhook.dll")]
        assert hook and hook[0].details["injected_by"] == "agentmon.exe"
        denied = r.of_kind("result-differs")
        assert denied and all(d.details["bad_result"] == "ACCESS DENIED" for d in denied)
        assert all(d.details["good_result"] == "SUCCESS" for d in denied)
        assert [d.details["child"] for d in r.of_kind("child-missing")] == ["helper.exe"]
