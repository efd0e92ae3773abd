"""Review findings: the --where filter of inspect and timeline.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import json
from datetime import datetime

from tests.review._helpers import KB, run_cli

CBS = KB / "bad" / "Windows" / "Logs" / "CBS" / "CBS.log"
SINCE = "2024-09-03T02:30:41Z"


def _events(*args: str) -> list[dict]:
    r = run_cli(*args, "-f", "json")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def _since(events: list[dict]) -> list[dict]:
    cut = datetime.fromisoformat(SINCE)
    return [e for e in events if e["time"] and datetime.fromisoformat(e["time"]) >= cut]


def test_where_time_filter_on_a_text_log() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit inspect examples/.../CBS.log --where
    "time >= '2024-09-03T02:30:41Z'"` shows 0 events although 37 events are at or after that instant:
    for text logs the time is compared as the string '2024-09-03 02:30:41+00:00' (space, not 'T'), so a
    literal in the very format the TIME column prints never matches; the PML reader compares real
    times, so the same filter works there
    """
    expected = _since(_events("inspect", str(CBS)))
    assert expected, "the example has events after the cut"
    got = _events("inspect", str(CBS), "--where", f"time >= '{SINCE}'")
    assert len(got) == len(expected)


def test_timeline_time_filter_keeps_text_logs() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit timeline
    examples/kb4474419-registry-denied/bad --where "time >= '2024-09-03T02:30:41Z'"` returns nothing
    (with repro/ added, only the 5,452 Procmon events): every CBS, SetupAPI and Windows Update event
    after the cut is silently dropped (the text-log time comparison is a string comparison), so the
    merged timeline around the failure is empty of the logs
    """
    got = _events("timeline", str(KB / "bad"), "--where", f"time >= '{SINCE}'")
    sources = {e.get("source") or e["origin"]["artifact"] for e in got}
    assert any("CBS.log" in s for s in sources)


def test_where_line_column_by_its_shown_name() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: the table's LINE column cannot be filtered by its
    name: `culprit inspect CBS.log --where "line > 120"` shows 0 events (a bare name is looked up in
    fields only) while `--where "origin.line > 120"` shows 40; the columns the table shows must be
    usable in --where
    """
    want = _events("inspect", str(CBS), "--where", "origin.line > 120")
    assert want
    got = _events("inspect", str(CBS), "--where", "line > 120")
    assert len(got) == len(want)
