"""Every built-in rule has fire and quiet fixtures, and does what they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from culprit import pipeline
from culprit.rules import CompiledRule, load_rules, run_rules
from tests.conftest import data_path

RULES = load_rules()


def test_rules_load_and_ids_are_unique() -> None:
    assert RULES
    assert len({r.id for r in RULES}) == len(RULES)


def _matches(rule_id: str, folder: Path) -> list:
    rule = CompiledRule(next(r for r in RULES if r.id == rule_id))
    with pipeline.load([folder]) as ws:
        return list(run_rules(ws.events(), [rule]))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_fire_fixture_and_stays_quiet_on_quiet(rule) -> None:
    base = data_path("rules", rule.id)
    fire, quiet = base / "fire", base / "quiet"
    assert fire.is_dir() and any(fire.iterdir()), f"{rule.id}: no fire fixture in {fire}"
    assert quiet.is_dir() and any(quiet.iterdir()), f"{rule.id}: no quiet fixture in {quiet}"
    assert _matches(rule.id, fire), f"{rule.id} did not fire on {fire}"
    assert not _matches(rule.id, quiet), f"{rule.id} fired on {quiet}"
