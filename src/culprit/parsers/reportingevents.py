"""ReportingEvents.log — Windows Update reporting events (Windows 7 / 2008 R2 agent).

Where: ``%WINDIR%\\SoftwareDistribution\\ReportingEvents.log``; the same rows appear in
WindowsUpdate.log after ``REPORT EVENT:``. Encoding: ANSI (CP936 on zh-CN), CRLF. The message
text is localized; key on the event id, result, HRESULT and the KB in the text. Each time
carries its own UTC offset, so this file proves the machine's offset (``utc_offsets``).
References: ../shared/docs/formats.md §6, docs/events/windowsupdate.md.

Row (TAB-separated)::

    {478E0180-...}	2024-09-03 10:35:49:671+0800	1	183	101	{5C51EAA2-...}	200	80070005	AutomaticUpdates	Failure	Content Install	安装失败: ... 0x80070005: ... (KB4474419)。

event GUID · time ``YYYY-MM-DD HH:MM:SS:mmm±hhmm`` · version · event id (181 install started,
182/183 install result, 184 reboot required, 162 download...) · category · update GUID ·
revision · HRESULT hex without ``0x`` (``0`` = OK) · client · ``Success``/``Failure`` ·
activity (``Content Install``, ``Content Download``, ``Software Synchronization``) · message.

Kind ``reportingevents:event`` — fields ``event_guid``, ``version``, ``event_id``, ``category``,
``update_id``, ``revision``, ``hresult``, ``client``, ``result``, ``activity``, ``kb``,
``report_text``; ``time`` is exact (the row's own offset), ``utc_offset`` that offset.
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._servicing import find_kb
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 2000
# 2024-09-03 10:35:49:671+0800
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d):(\d{1,3})([+-])(\d\d)(\d\d)$")
_GUID = re.compile(r"\{[0-9A-Fa-f-]{36}\}$")


def parse_time(text: str) -> tuple[datetime, int] | None:
    """``2024-09-03 10:35:49:671+0800`` → (naive local time, offset in minutes east of UTC)."""
    m = _TIME.match(text.strip())
    if not m:
        return None
    g = m.groups()
    try:
        local = datetime(  # noqa: DTZ001 - naive local time by design
            int(g[0]),
            int(g[1]),
            int(g[2]),
            int(g[3]),
            int(g[4]),
            int(g[5]),
            int(g[6].ljust(3, "0")) * 1000,
        )
    except ValueError:
        return None
    off = int(g[8]) * 60 + int(g[9])
    return local, (-off if g[7] == "-" else off)


def report_fields(cols: list[str]) -> dict[str, Any] | None:
    """Decode one reporting row (already split on TAB) into fields; None if it is not one.

    Returns:
        A dict with ``event_guid``, ``local``, ``offset``, ``version``, ``event_id``, ``category``,
        ``update_id``, ``revision``, ``hresult``, ``client``, ``result``, ``activity``, ``report_text``
        and ``kb``.
    """
    if len(cols) < 11 or not _GUID.match(cols[0].strip()):
        return None
    t = parse_time(cols[1])
    if t is None:
        return None
    try:
        hr = int(cols[7].strip(), 16) & 0xFFFFFFFF
    except ValueError:
        return None
    text = "\t".join(cols[11:]).strip() if len(cols) > 11 else ""
    return {
        "event_guid": cols[0].strip().strip("{}").upper(),
        "local": t[0],
        "offset": t[1],
        "version": _num(cols[2]),
        "event_id": _num(cols[3]),
        "category": _num(cols[4]),
        "update_id": cols[5].strip().strip("{}").upper(),
        "revision": _num(cols[6]),
        "hresult": hr,
        "client": cols[8].strip(),
        "result": cols[9].strip(),
        "activity": cols[10].strip(),
        "report_text": text,
        "kb": find_kb(text),
    }


def _num(s: str) -> int | None:
    s = s.strip()
    return int(s) if s.isdigit() else None


def report_event(f: dict[str, Any], kind: str, origin: Origin, extra: dict[str, Any] | None = None) -> Event:
    """The event for one decoded reporting row (shared with the WindowsUpdate.log parser)."""
    local, off = f.pop("local"), f.pop("offset")
    failed = f["result"].lower() == "failure" or f["hresult"] not in (0, None)
    fields = dict(extra or {})
    fields.update(f)
    return Event(
        kind=kind,
        origin=origin,
        time=(local - timedelta(minutes=off)).replace(tzinfo=UTC),
        local_time=local,
        utc_offset=off,
        severity=Severity.ERROR if failed else Severity.INFO,
        code=f["hresult"] if f["hresult"] else None,
        message=f"{f['result']} {f['activity']} event {f['event_id']}"
        + (f" 0x{f['hresult']:08X}" if f["hresult"] else "")
        + (f" {f['kb']}" if f["kb"] else ""),
        fields=fields,
    )


@register
class ReportingEventsParser(Parser):
    """ReportingEvents.log (Windows Update reporting rows)."""

    name = "reportingevents"
    description = "Windows Update ReportingEvents.log (Windows 7 agent)"
    local_time = False  # every row carries its own offset

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:20] if ln.strip()]
        hits = sum(1 for ln in lines if report_fields(ln.split("\t")) is not None)
        if not hits:
            return 0.0
        return 0.95 if hits >= max(1, len(lines) // 2) else 0.5

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        for lineno, offset, line in source.lines(ctx):
            line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            f = report_fields(line.split("\t"))
            if f is None:
                ctx.warn("not a ReportingEvents row", lineno)
                continue
            yield report_event(
                f,
                "reportingevents:event",
                Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT]),
            )

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """The offsets written in the rows (at most 50)."""
        text = source.text_head or ""
        n = 0
        for ln in text.lstrip("\ufeff").splitlines():
            cols = ln.split("\t")
            t = parse_time(cols[1]) if len(cols) > 1 else None
            if t is not None:
                yield t[1]
                n += 1
                if n >= 50:
                    return
