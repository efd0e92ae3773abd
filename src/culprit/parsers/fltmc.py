"""``fltmc`` / ``fltmc filters`` and ``fltmc instances`` console output (minifilter drivers).

Format: a console table, header row over a dashed rule whose runs give the column spans::

    Filter Name                     Num Instances    Altitude    Frame
    ------------------------------  -------------  ------------  -----
    WdFilter                                5       328010         0

``fltmc instances`` has ``Filter  Volume Name  Altitude  Instance Name  Frame [SprtFtrs
VlStatus]``. Headers are localized (zh-CN: ``筛选器名称  数字实例  海拔高度  框架``); columns are
mapped by a header table and, failing that, by position. Altitudes are kept as text (fractional
altitudes such as ``385250.5`` exist); legacy filters show Frame ``<Legacy>`` and no instance count.
Without elevation fltmc prints ``Filter listing failed with error: 0x80070005``.

Where it lives: not a log; collected with ``fltmc > fltmc.txt`` from an elevated ``cmd``
(OEM code page: CP437/850, CP936 on zh-CN) or PowerShell (UTF-16LE with BOM).

Events:
    ``fltmc:filter`` — fields ``filter``, ``instances`` (int or None), ``altitude`` (str),
    ``frame`` (int or None), ``legacy`` (bool).
    ``fltmc:instance`` — fields ``filter``, ``volume``, ``altitude``, ``instance``, ``frame``,
    ``supported_features`` (str or None), ``volume_status`` (str or None).
    ``fltmc:error`` — fields ``hresult`` (int), ``message`` (the failure line), ``detail`` (the
    message lines after it, e.g. ``Access is denied.``); ``code`` = the HRESULT.

References: formats.md §9; Microsoft Learn "fltmc" and "Load order groups and altitudes for
minifilter drivers".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._tables import (
    clip,
    cut,
    header_cells,
    header_keys,
    int_or_none,
    is_rule,
    norm_header,
    rule_spans,
    tool_lines,
)
from culprit.parsers.base import ParseContext, Parser, Source

HEADERS: dict[str, str] = {
    norm_header(k): v
    for k, v in {
        "Filter Name": "filter",
        "筛选器名称": "filter",
        "Filter": "filter",
        "筛选器": "filter",
        "Num Instances": "instances",
        "数字实例": "instances",
        "实例数": "instances",
        "Altitude": "altitude",
        "海拔高度": "altitude",
        "高度": "altitude",
        "Frame": "frame",
        "框架": "frame",
        "Volume Name": "volume",
        "卷名": "volume",
        "卷名称": "volume",
        "Instance Name": "instance",
        "实例名称": "instance",
        "实例名": "instance",
        "SprtFtrs": "supported_features",
        "VlStatus": "volume_status",
    }.items()
}
FILTER_COLUMNS = ("filter", "instances", "altitude", "frame")
INSTANCE_COLUMNS = (
    "filter",
    "volume",
    "altitude",
    "instance",
    "frame",
    "supported_features",
    "volume_status",
)

# 385200   385250.5   389998.99
_ALTITUDE = re.compile(r"^\d{1,6}(?:\.\d+)?$")
# AcmeLegacy                                     389998.99   <Legacy>
_TOKENS = re.compile(
    r"^(?P<filter>\S+)\s+(?:(?P<instances>\d+)\s+)?(?P<altitude>\d{1,6}(?:\.\d+)?)\s+"
    r"(?P<frame>\d+|<[^>]*>)\s*$"
)
# Filter listing failed with error: 0x80070005
_HRESULT = re.compile(r"0x[0-9A-Fa-f]{8}")


def _failure(line: str) -> int | None:
    """The HRESULT of a ``... failed ... 0x8007xxxx`` line, else None (linear time on any line)."""
    m = _HRESULT.search(line)
    if not m:
        return None
    before = line[: m.start()].casefold()
    return int(m.group(0), 16) if "failed" in before or "失败" in before else None


# PROCMON24                               4       385200         0
_ROW_SHAPE = re.compile(r"^\S.*?\s+\d*\s+\d{1,6}(?:\.\d+)?\s+(?:\d+|<\S+>)\s*$")


@register
class FltmcParser(Parser):
    name = "fltmc"
    description = "fltmc filters / fltmc instances console output (English, zh-CN)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.splitlines()[:60]
        for i, line in enumerate(lines):
            if _failure(line) is not None and re.search(r"filter|筛选器", line, re.I):
                return 0.8
            if i and is_rule(line):
                keys = set(header_keys(header_cells(lines[i - 1], rule_spans(line)), HEADERS)) - {None}
                if {"filter", "altitude"} <= keys:
                    return 0.95
                rows = [ln for ln in lines[i + 1 : i + 6] if ln.strip()]
                if rows and len(rule_spans(line)) in (4, 5, 6, 7) and all(_ROW_SHAPE.match(r) for r in rows):
                    return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        spans: list[tuple[int, int]] | None = None
        columns: tuple[str | None, ...] = ()
        kind = ""
        prev: tuple[int, int, str] | None = None
        error: dict[str, Any] | None = None
        for lineno, offset, line in tool_lines(source, ctx):
            if not line.strip():
                if prev is not None:
                    ctx.warn("line outside a fltmc table ignored", prev[0])
                prev = None
                continue
            hr = _failure(line)
            if hr is not None:
                if error:
                    yield _error(error, ctx)
                error = {
                    "line": lineno,
                    "offset": offset,
                    "text": line,
                    "hresult": hr,
                    "detail": "",
                }
                prev = None
                continue
            if error is not None and spans is None and not is_rule(line):
                error["detail"] = (error["detail"] + " " + line.strip()).strip()
                continue
            if is_rule(line):
                spans = rule_spans(line)
                header = prev[2] if prev else ""
                keys = header_keys(header_cells(header, spans), HEADERS)
                if "volume" in keys or "instance" in keys or (not any(keys) and len(spans) >= 5):
                    kind = "fltmc:instance"
                    default: tuple[str, ...] = INSTANCE_COLUMNS
                else:
                    kind = "fltmc:filter"
                    default = FILTER_COLUMNS
                if not any(keys):
                    if header.strip():
                        ctx.warn("fltmc header not recognised; columns taken by position", lineno - 1)
                    keys = list(default[: len(spans)])
                columns = tuple(keys)
                prev = None
                continue
            if spans is None:
                if prev is not None:
                    ctx.warn("line outside a fltmc table ignored", prev[0])
                prev = (lineno, offset, line)
                continue
            ev = self._row(line, lineno, offset, spans, columns, kind, ctx)
            if ev is not None:
                yield ev
        if error:
            yield _error(error, ctx)
        if prev is not None:
            ctx.warn("line outside a fltmc table ignored", prev[0])

    @staticmethod
    def _row(
        line: str,
        lineno: int,
        offset: int,
        spans: list[tuple[int, int]],
        columns: tuple[str | None, ...],
        kind: str,
        ctx: ParseContext,
    ) -> Event | None:
        cells = cut(line, spans)
        row = {k: v for k, v in zip(columns, cells, strict=False) if k}
        if kind == "fltmc:filter" and not _ALTITUDE.match(row.get("altitude", "")):
            # Filter names have no blanks: fall back to tokens when a row is not aligned.
            m = _TOKENS.match(line)
            if m:
                row = {k: v or "" for k, v in m.groupdict().items()}
        name = row.get("filter", "")
        altitude = row.get("altitude", "")
        if not name or not _ALTITUDE.match(altitude):
            ctx.warn(f"not a fltmc row (filter {name[:40]!r}, altitude {altitude[:20]!r})", lineno)
            return None
        frame_text = row.get("frame", "")
        fields: dict[str, Any] = {"filter": name}
        if kind == "fltmc:filter":
            fields["instances"] = int_or_none(row.get("instances", ""))
            fields["altitude"] = altitude
            fields["frame"] = int_or_none(frame_text)
            fields["legacy"] = frame_text.startswith("<")
            msg = f"filter {name} altitude {altitude}"
        else:
            fields["volume"] = row.get("volume", "")
            fields["altitude"] = altitude
            fields["instance"] = row.get("instance", "")
            fields["frame"] = int_or_none(frame_text)
            fields["supported_features"] = row.get("supported_features") or None
            fields["volume_status"] = row.get("volume_status") or None
            msg = f"instance {fields['instance']} of {name} on {fields['volume'] or '(no volume)'}"
        return Event(
            kind=kind,
            origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
            message=msg,
            fields=fields,
        )


def _error(err: dict[str, Any], ctx: ParseContext) -> Event:
    text = err["text"].strip()
    return Event(
        kind="fltmc:error",
        origin=Origin(ctx.artifact, line=err["line"], offset=err["offset"], text=clip(text)),
        severity=Severity.ERROR,
        code=err["hresult"],
        message=clip(text),
        fields={"hresult": err["hresult"], "message": clip(text), "detail": clip(err["detail"])},
    )
