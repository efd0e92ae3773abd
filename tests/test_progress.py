"""Progress shows on a terminal and stays quiet when piped."""

from __future__ import annotations

import io

from culprit.progress import Progress


def test_quiet_when_not_a_terminal() -> None:
    s = io.StringIO()
    with Progress(3, stream=s) as p:
        for i in range(3):
            p.step(f"file{i}")
    assert s.getvalue() == ""


def test_draws_and_clears_when_forced() -> None:
    s = io.StringIO()
    with Progress(2, "reading", stream=s, force=True) as p:
        p.step("a.log")
        p.step("b.log")
    out = s.getvalue()
    assert "reading [##########..........] 1/2 a.log" in out
    assert "2/2 b.log" in out
    assert out.endswith("\r")
