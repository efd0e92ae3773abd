"""Failure signatures as YAML data (``builtin/<source>/<id>.yaml``) and the engine that matches them."""

from culprit.rules.engine import CompiledRule, Match, builtin_rules, load_rules, run_rules
from culprit.rules.schema import Rule, RuleError, load_rule

__all__ = ["CompiledRule", "Match", "Rule", "RuleError", "builtin_rules", "load_rule", "load_rules", "run_rules"]
