"""Rule files: YAML data describing a known failure signature, validated with file:line errors.

A rule (the file name equals its ``id``)::

    id: setupapi-driver-install-failed
    title: Driver package failed to install
    level: high                       # info | low | medium | high | critical
    kinds: ["setupapi:section"]       # event kinds it looks at ("cbs:*" globs allowed)
    select:                           # named selections: field path (+ |modifier) -> value(s)
      section: {kind: "setupapi:section"}
      ok: {fields.exit_status|startswith: SUCCESS}
    condition: section and not ok     # boolean over selection names (default: all of them)
    failure:                          # optional: a match is a failure of this target
      target: "{fields.inf}"          # template over the event's fields
      code: code                      # field path holding the status code
    finding:                          # optional: a match explains the failure (a non-agent cause)
      kind: store-corruption
      title: "..."; title_zh: "..."; fix: "..."; fix_zh: "..."; confidence: 0.8
    show: {INF: fields.inf, Status: fields.exit_status}

Modifiers: ``contains``, ``startswith``, ``endswith``, ``re``, ``ne``, ``gt``, ``ge``, ``lt``,
``le``, ``exists``. A list value means "any of"; a list of mappings means "any selection".
String comparison is case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from culprit.errors import CulpritError

LEVELS = ("info", "low", "medium", "high", "critical")
MODIFIERS = ("eq", "contains", "startswith", "endswith", "re", "ne", "gt", "ge", "lt", "le", "exists")
_KEYS = {"id", "title", "level", "kinds", "select", "condition", "failure", "show", "description", "references",
         "tags", "title_zh", "finding"}
_FINDING_KEYS = {"kind", "title", "title_zh", "fix", "fix_zh", "confidence", "missing", "capture", "capture_summary",
                 "capture_summary_zh"}


class RuleError(CulpritError):
    """A rule file is malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Matcher:
    path: str
    modifier: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    level: str
    kinds: tuple[str, ...]
    selections: Mapping[str, tuple[tuple[Matcher, ...], ...]]  # name -> alternatives of all-of matchers
    condition: str
    failure: Mapping[str, str] | None
    show: Mapping[str, str]
    source: str
    finding: Mapping[str, Any] | None = None
    title_zh: str | None = None
    description: str = ""
    tags: tuple[str, ...] = field(default=())


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    lines = {}
    for key_node, _v in node.value:
        lines[loader.construct_object(key_node)] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("__lines__", "__line__")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def load_rule(path: Path) -> Rule:
    """Read and validate one rule file.

    Raises:
        RuleError: with ``file:line: message`` when the rule is malformed.
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise RuleError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise RuleError(f"{path}:1: a rule is a mapping")
    lines: dict[str, int] = raw.get("__lines__", {})

    def fail(key: str, msg: str) -> RuleError:
        return RuleError(f"{path}:{lines.get(key, 1)}: {key}: {msg}")

    unknown = set(raw) - _KEYS - {"__lines__", "__line__"}
    if unknown:
        k = sorted(unknown)[0]
        raise fail(k, "unknown key")
    for key in ("id", "title", "select"):
        if key not in raw:
            raise RuleError(f"{path}:1: missing {key!r}")
    rid = raw["id"]
    if rid != path.stem:
        raise fail("id", f"must equal the file name ({path.stem!r})")
    level = raw.get("level", "medium")
    if level not in LEVELS:
        raise fail("level", f"must be one of {', '.join(LEVELS)}")
    select = raw["select"]
    if not isinstance(select, dict) or not _strip(select):
        raise fail("select", "must be a non-empty mapping of named selections")
    sels: dict[str, tuple[tuple[Matcher, ...], ...]] = {}
    for name, body in _strip(select).items():
        alts = body if isinstance(body, list) else [body]
        if not alts or not all(isinstance(a, dict) and a for a in alts):
            raise fail("select", f"selection {name!r} must be a mapping (or a list of mappings)")
        compiled = []
        for alt in alts:
            ms = []
            for k, v in alt.items():
                fpath, _, mod = str(k).partition("|")
                mod = mod or "eq"
                if mod not in MODIFIERS:
                    raise fail("select", f"selection {name!r}: unknown modifier {mod!r}")
                vals = tuple(v) if isinstance(v, list) else (v,)
                if mod == "re":
                    try:
                        vals = tuple(re.compile(str(x), re.I) for x in vals)
                    except re.error as e:
                        raise fail("select", f"selection {name!r}: bad regex: {e}") from None
                ms.append(Matcher(fpath, mod, vals))
            compiled.append(tuple(ms))
        sels[name] = tuple(compiled)
    condition = raw.get("condition") or " and ".join(sels)
    from culprit.rules.engine import compile_condition  # local: engine imports this module

    try:
        compile_condition(condition, set(sels))
    except RuleError as e:
        raise fail("condition", str(e)) from None
    failure = _strip(raw.get("failure")) if raw.get("failure") else None
    if failure is not None and (not isinstance(failure, dict) or "target" not in failure):
        raise fail("failure", "needs at least 'target'")
    finding = _strip(raw.get("finding")) if raw.get("finding") else None
    if finding is not None:
        if not isinstance(finding, dict) or not {"kind", "title", "fix"} <= set(finding):
            raise fail("finding", "needs 'kind', 'title' and 'fix'")
        extra_keys = set(finding) - _FINDING_KEYS
        if extra_keys:
            raise fail("finding", f"unknown key {sorted(extra_keys)[0]!r}")
    kinds = raw.get("kinds") or []
    if isinstance(kinds, str):
        kinds = [kinds]
    return Rule(
        id=rid,
        title=str(raw["title"]),
        title_zh=raw.get("title_zh"),
        level=level,
        kinds=tuple(kinds),
        selections=sels,
        condition=condition,
        failure=failure,
        show=_strip(raw.get("show") or {}),
        source=str(path),
        finding=finding,
        description=str(raw.get("description", "")),
        tags=tuple(raw.get("tags") or ()),
    )
