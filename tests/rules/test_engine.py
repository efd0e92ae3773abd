"""The rule engine on hand-made events: selections, modifiers, conditions, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from culprit.model import Event, Origin
from culprit.rules import CompiledRule, RuleError, load_rule, run_rules


def ev(kind: str = "setupapi:section", **fields) -> Event:
    return Event(kind=kind, origin=Origin("x.log", line=1), code=fields.pop("code", None), fields=fields)


def rule(tmp_path: Path, text: str, name: str = "r1") -> CompiledRule:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text, encoding="utf-8")
    return CompiledRule(load_rule(p))


RULE = """
id: r1
title: Driver package failed to install
level: high
kinds: ["setupapi:*"]
select:
  section: {kind: "setupapi:section"}
  ok: {fields.exit_status|startswith: SUCCESS}
condition: section and not ok
failure: {target: "{fields.inf}", code: code}
show: {INF: fields.inf}
"""


def test_fires_and_stays_quiet(tmp_path: Path) -> None:
    r = rule(tmp_path, RULE)
    bad = ev(exit_status="FAILURE(0x00000005)", inf="cpu.inf", code=5)
    good = ev(exit_status="SUCCESS (REBOOT_REQUIRED)", inf="cpu.inf")
    other = ev(kind="cbs:line", exit_status="FAILURE")
    assert r.matches(bad) and not r.matches(good) and not r.matches(other)
    (m,) = list(run_rules([good, bad, other], [r]))
    assert m.event is bad
    assert m.show() == {"INF": "cpu.inf"}
    assert m.render(m.rule.failure["target"]) == "cpu.inf"


@pytest.mark.parametrize(
    ("select", "fields", "want"),
    [
        ("{fields.win32: 5}", {"win32": 5}, True),
        ("{fields.win32: 5}", {"win32": "5"}, True),
        ("{fields.win32: [2, 3]}", {"win32": 5}, False),
        ("{fields.msg|contains: denied}", {"msg": "Access DENIED"}, True),
        ("{fields.msg|re: '^Error \\d+:'}", {"msg": "Error 5: x"}, True),
        ("{fields.n|gt: 0x10}", {"n": 17}, True),
        ("{fields.n|le: 3}", {"n": "0x4"}, False),
        ("{fields.x|exists: true}", {"y": 1}, False),
        ("{fields.x|ne: a}", {"x": "b"}, True),
        ("{fields.mods|endswith: schk.dll}", {"mods": ["ntdll.dll", "C:\\TMS\\schk.dll"]}, True),
        ("[{fields.a: 1}, {fields.b: 2}]", {"b": 2}, True),
    ],
)
def test_modifiers(tmp_path: Path, select: str, fields: dict, want: bool) -> None:
    r = rule(tmp_path, f"id: r1\ntitle: t\nselect:\n  s: {select}\n")
    assert r.matches(ev(**fields)) is want


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("id: other\ntitle: t\nselect: {s: {a: 1}}\n", ":1: id: must equal the file name"),
        ("id: r1\ntitle: t\nlevel: huge\nselect: {s: {a: 1}}\n", ":3: level: must be one of"),
        ("id: r1\ntitle: t\nselect:\n  s: {a|nope: 1}\n", ":3: select: selection 's': unknown modifier"),
        ("id: r1\ntitle: t\nselect: {s: {a: 1}}\ncondition: s and t\n", ":4: condition: unknown selection 't'"),
        ("id: r1\ntitle: t\nselect: {s: {a: 1}}\nbogus: 1\n", ":4: bogus: unknown key"),
        ("id: r1\ntitle: [\n", "not valid YAML"),
        ("id: r1\ntitle: t\n", "missing 'select'"),
    ],
)
def test_validation_errors_name_file_and_line(tmp_path: Path, text: str, msg: str) -> None:
    with pytest.raises(RuleError, match=msg.replace("(", r"\(").replace("'", "'")):
        rule(tmp_path, text)
