"""Generic timestamped text lines: the fallback for text logs no specific parser claims.

Recognises a leading timestamp in the common Windows shapes (``2024-09-03 10:15:22``,
``2024/09/03 10:15:22.123``, ``[09/03/2024 10:15:22.1234]``) and yields one ``text:line``
event per line; lines without a timestamp continue the previous record. Times are local.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source

# 2024-09-03 10:15:22, Info   |  2024/09/03 10:15:22.123  |  [09/03/2024 10:15:22.1234]
_STAMPS = (
    (re.compile(r"^\[?(\d{4})[-/](\d\d)[-/](\d\d)[ T](\d\d):(\d\d):(\d\d)(?:[.,:](\d{1,7}))?"), "ymd"),
    (re.compile(r"^\[?(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)(?:[.,:](\d{1,7}))?"), "mdy"),
)
_LEVEL = re.compile(r"\b(error|fatal|failed|failure|warning|warn)\b", re.I)
MAX_TEXT = 2000


def _stamp(line: str) -> datetime | None:
    for rx, order in _STAMPS:
        m = rx.match(line)
        if not m:
            continue
        g = m.groups()
        if order == "ymd":
            y, mo, d = int(g[0]), int(g[1]), int(g[2])
        else:
            mo, d, y = int(g[0]), int(g[1]), int(g[2])
        frac = (g[6] or "0").ljust(6, "0")[:6]
        try:
            return datetime(y, mo, d, int(g[3]), int(g[4]), int(g[5]), int(frac))  # noqa: DTZ001 - local
        except ValueError:
            return None
    return None


@register
class GenericTextParser(Parser):
    name = "text"
    description = "any text log whose lines start with a timestamp (fallback)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.splitlines()[:50]
        hits = sum(1 for ln in lines if _stamp(ln.lstrip("\ufeff")))
        return 0.3 if hits >= max(1, len(lines) // 4) else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        for lineno, offset, line in source.lines(ctx):
            local = _stamp(line.lstrip("\ufeff"))
            if local is None and not line.strip():
                continue
            m = _LEVEL.search(line)
            sev = Severity.INFO
            if m:
                word = m.group(1).lower()
                sev = Severity.WARNING if word.startswith("warn") else Severity.ERROR
            yield Event(
                kind="text:line",
                origin=Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT]),
                **ctx.times(local),
                severity=sev,
                message=line[:MAX_TEXT],
                fields={"continuation": local is None},
            )
