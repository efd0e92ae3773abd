"""Message rule tables shared by the line parsers whose records carry free text (ConfigMgr, Exchange Setup,
WiX Burn): each rule is a cheap substring test plus a regex whose named groups become event fields.

Not a parser (the registry skips modules starting with ``_``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from culprit.model import Severity


@dataclass(frozen=True, slots=True)
class TextRule:
    """One message shape: each named group of ``pattern`` that matched becomes the field of that name.

    ``needle`` (lower case) must occur in the message before the regex runs (cheap on big logs);
    ``const`` fields are added on a match (without overriding), ``severity`` raises the record's.
    """

    needle: str
    pattern: re.Pattern[str]
    const: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None


def rule(needle: str, pattern: str, flags: int = 0, **kw: Any) -> TextRule:
    return TextRule(needle, re.compile(pattern, flags), **kw)


def hex32(s: str) -> int:
    """``80070005`` / ``0x80070005`` → the unsigned 32-bit value."""
    return int(s, 16) & 0xFFFFFFFF


def apply(
    rules: Iterable[TextRule],
    text: str,
    convert: Mapping[str, Callable[[str], Any]],
    found: dict[str, Any],
    alias: Mapping[str, str] | None = None,
) -> Severity | None:
    """Add to ``found`` the fields the rules find in ``text`` and return the highest severity a matching rule
    imposes. The first match of each field wins; a group's text goes through ``convert[group]`` (``str`` when
    not listed) and is dropped if that gives None; ``alias`` renames groups."""
    low = text.lower()
    sev: Severity | None = None
    for r in rules:
        if r.needle not in low:
            continue
        m = r.pattern.search(text)
        if m is None:
            continue
        for group, v in m.groupdict().items():
            k = alias.get(group, group) if alias else group
            if v is not None and k not in found:
                value = convert.get(group, str)(v)
                if value is not None:
                    found[k] = value
        for k, v in r.const.items():
            found.setdefault(k, v)
        if r.severity is not None and (sev is None or r.severity > sev):
            sev = r.severity
    return sev
