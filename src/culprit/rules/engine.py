"""Match rules against events. No format-specific code: events are read only by dotted path."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from culprit.model import Event
from culprit.rules.schema import Matcher, Rule, RuleError, load_rule

BUILTIN = Path(__file__).parent / "builtin"


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    event: Event

    def show(self) -> dict[str, Any]:
        return {label: self.event.get(path) for label, path in self.rule.show.items()}

    def render(self, template: str) -> str:
        return render_template(template, self.event)


_TPL = re.compile(r"\{([\w.]+)\}")


def render_template(template: str, ev: Event) -> str:
    """Fill ``{fields.kb}``-style placeholders from an event (empty when absent)."""
    return _TPL.sub(lambda m: str(ev.get(m.group(1), "")), template)


def _norm(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _as_number(v: Any) -> int | float | None:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return None
    return None


def _test(m: Matcher, ev: Event) -> bool:
    got = ev.get(m.path)
    if m.modifier == "exists":
        want = bool(m.values[0]) if m.values else True
        return (got is not None) == want
    if got is None:
        return m.modifier == "ne"
    if m.modifier in ("gt", "ge", "lt", "le"):
        g = _as_number(got)
        for v in m.values:
            w = _as_number(v)
            if g is None or w is None:
                continue
            if {"gt": g > w, "ge": g >= w, "lt": g < w, "le": g <= w}[m.modifier]:
                return True
        return False
    if m.modifier == "re":
        s = str(got)
        return any(rx.search(s) for rx in m.values)
    items = got if isinstance(got, (list, tuple)) else (got,)
    for item in items:
        for v in m.values:
            if _match_one(m.modifier, item, v):
                return m.modifier != "ne"
    return m.modifier == "ne"


def _match_one(mod: str, got: Any, want: Any) -> bool:
    if mod in ("eq", "ne"):
        if isinstance(want, (int, float)) and not isinstance(want, bool):
            g = _as_number(got)
            return g is not None and g == want
        return _norm(str(got)) == _norm(str(want))
    g, w = str(got).casefold(), str(want).casefold()
    if mod == "contains":
        return w in g
    if mod == "startswith":
        return g.startswith(w)
    if mod == "endswith":
        return g.endswith(w)
    return False


# --- conditions: and / or / not / parentheses over selection names ---------------------

_CTOK = re.compile(r"\s*(\(|\)|[A-Za-z_][\w-]*)")


def compile_condition(text: str, names: set[str]) -> Callable[[dict[str, bool]], bool]:
    toks: list[str] = []
    pos = 0
    while pos < len(text):
        m = _CTOK.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise RuleError(f"cannot read {text[pos:pos + 15]!r}")
        toks.append(m.group(1))
        pos = m.end()
    i = 0

    def peek() -> str | None:
        return toks[i] if i < len(toks) else None

    def expr() -> Callable[[dict[str, bool]], bool]:
        nonlocal i
        left = term()
        while peek() == "or":
            i += 1
            a, b = left, term()
            left = lambda s, a=a, b=b: a(s) or b(s)  # noqa: E731
        return left

    def term() -> Callable[[dict[str, bool]], bool]:
        nonlocal i
        left = factor()
        while peek() == "and":
            i += 1
            a, b = left, factor()
            left = lambda s, a=a, b=b: a(s) and b(s)  # noqa: E731
        return left

    def factor() -> Callable[[dict[str, bool]], bool]:
        nonlocal i
        t = peek()
        if t is None:
            raise RuleError("condition ends too early")
        i += 1
        if t == "not":
            inner = factor()
            return lambda s: not inner(s)
        if t == "(":
            inner = expr()
            if peek() != ")":
                raise RuleError("missing ')'")
            i += 1
            return inner
        if t not in names:
            raise RuleError(f"unknown selection {t!r}")
        return lambda s, t=t: s[t]

    fn = expr()
    if i != len(toks):
        raise RuleError(f"unexpected {toks[i]!r}")
    return fn


class CompiledRule:
    """A rule ready to test events."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._cond = compile_condition(rule.condition, set(rule.selections))
        self._kinds = rule.kinds

    def wants(self, kind: str) -> bool:
        return not self._kinds or any(fnmatch.fnmatchcase(kind, k) for k in self._kinds)

    def matches(self, ev: Event) -> bool:
        if not self.wants(ev.kind):
            return False
        state = {
            name: any(all(_test(m, ev) for m in alt) for alt in alts) for name, alts in self.rule.selections.items()
        }
        return self._cond(state)


def load_rules(folder: Path = BUILTIN) -> list[Rule]:
    """Every ``*.yaml`` rule under ``folder`` (RuleError on the first malformed one)."""
    rules = [load_rule(p) for p in sorted(folder.rglob("*.yaml"))]
    seen: dict[str, str] = {}
    for r in rules:
        if r.id in seen:
            raise RuleError(f"{r.source}: id {r.id!r} already used by {seen[r.id]}")
        seen[r.id] = r.source
    return rules


@cache
def builtin_rules() -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule(r) for r in load_rules(BUILTIN))


def run_rules(events: Iterable[Event], rules: Iterable[CompiledRule] | None = None) -> Iterator[Match]:
    """Yield every (rule, event) match, in event order."""
    rs = tuple(rules) if rules is not None else builtin_rules()
    for ev in events:
        for r in rs:
            if r.matches(ev):
                yield Match(r.rule, ev)
