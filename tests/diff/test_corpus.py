"""Real Procmon captures from the shared corpus: a capture diffed with itself has no differences."""

from __future__ import annotations

import pytest

from culprit.diff import compare
from culprit.parsers.procmon import open_capture
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus


@pytest.mark.parametrize(
    "name",
    [
        "LogFileUTC64Process.pml",
        "LogfileTests64bitUTC.pml",
        "LogFileUTC32Filesystem.csv",
        "LogFileUTC64Registry.pml",
    ],
)
def test_a_capture_against_itself_differs_in_nothing(name: str) -> None:
    path = corpus_path("procmon", name)
    with open_capture(path) as a, open_capture(path) as b:
        r = compare(a, b)
        assert r.differences == ()
        assert r.warnings == ()
        assert all(p.how == "image+command+parent" for p in r.processes if p.good and p.bad)
        assert all(p.good and p.bad for p in r.processes)


def test_two_different_machines_compare_without_error() -> None:
    a = corpus_path("procmon", "LogfileTests32bitUTC.pml")
    b = corpus_path("procmon", "LogfileTests64bitUTC.pml")
    with open_capture(a) as g, open_capture(b) as bad:
        r = compare(g, bad)
    assert r.differences
    assert all(0 < d.score < 1 and d.reading and d.reading_zh for d in r.differences)
    scores = [d.score for d in r.differences]
    assert scores == sorted(scores, reverse=True)
    # Windows' own processes of two machines align by image and command line, never by PID
    aligned = {(p.good.name.casefold(), p.bad.name.casefold()) for p in r.processes if p.good and p.bad}
    assert all(g == b for g, b in aligned)
