"""The --where filter language."""

from __future__ import annotations

import pytest

from culprit.errors import UsageError
from culprit.model import Event, Origin, Process
from culprit.query import And, Cmp, Not, Or, compile_where, parse_where

EV = Event(
    kind="procmon:event",
    origin=Origin("x.pml", record=7),
    process=Process("TrustedInstaller.exe", 1234, 88),
    code=0xC0000022,
    fields={"operation": "RegSetValue", "path": r"HKLM\System\CurrentControlSet\Services\AmdK8\Start",
            "result": "ACCESS DENIED"},
)


def test_parse_tree() -> None:
    assert parse_where("result = 'ACCESS DENIED' and not (pid < 5 or path like '%x%')") == And(
        Cmp("result", "=", "ACCESS DENIED"), Not(Or(Cmp("pid", "<", 5), Cmp("path", "like", "%x%")))
    )


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("result = 'ACCESS DENIED' and path like '%Services%'", True),
        ("result = 'access denied'", True),  # case-insensitive like Procmon
        ("path like '%\\Services\\AmdK8\\Start'", True),
        ("path not like '%Services%'", False),
        ("process.name = 'trustedinstaller.exe' and process.pid = 1234", True),
        ("process.pid in (1, 2, 1234)", True),
        ("code = 0xC0000022", True),
        ("code != 0xC0000022", False),
        ("operation contains 'SetValue'", True),
        ("origin.record >= 7 and origin.record < 8", True),
        ("missing_field = 'x'", False),
        ("missing_field != 'x'", True),
        ("kind = \"procmon:event\"", True),
    ],
)
def test_predicate(expr: str, want: bool) -> None:
    assert compile_where(expr)(EV) is want


@pytest.mark.parametrize("bad", ["", "result =", "result ~ 'x'", "(result = 'x'", "result = 'x' junk", "a not b"])
def test_syntax_errors_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        compile_where(bad)
