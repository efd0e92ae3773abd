"""``driverquery`` output: ``/v /fo csv`` (preferred), plain CSV, and the table forms.

Format: the verbose CSV has 15 quoted columns in a fixed order (one record a line; wrapped here)::

    "Module Name","Display Name","Description","Driver Type","Start Mode","State","Status",
    "Accept Stop","Accept Pause","Paged Pool(bytes)","Code(bytes)","BSS(bytes)","Link Date","Path",
    "Init(bytes)"
    "AmdK8","AMD K8 Processor Driver","AMD K8 Processor Driver","Kernel ","System","Running","OK",
    "TRUE","FALSE","69,632","462,848","0","7/14/2009 7:19:25 AM",
    "C:\\Windows\\system32\\drivers\\amdk8.sys","4,096"

``Driver Type`` has a trailing space; numbers carry thousands separators; headers and values are
localized (zh-CN: ``"模块名","显示名称",...,"状态","状态",...`` — State and Status are both
``状态``, so the verbose layout is mapped by position). Without ``/v`` there are 4 columns
(Module Name, Display Name, Driver Type, Link Date). ``/nh`` drops the header. The table forms
(``/fo table``, the default) put a header over a rule of ``=`` runs giving column spans.

Where it lives: not a log; collected with ``driverquery /v /fo csv > driverquery.csv`` (OEM code
page from cmd: CP437/850, CP936 on zh-CN) or from PowerShell (UTF-16LE with BOM).

Events: ``driverquery:driver`` per driver, origin line = its CSV (or table) line. Fields:
``module``, ``display_name``, ``description``, ``driver_type`` / ``start_mode`` / ``state`` /
``status`` (English canonical values: ``Kernel``, ``File System``; ``Boot``, ``System``, ``Auto``,
``Manual``, ``Disabled``; ``Running``, ``Stopped``; ``OK``...; the text as written is kept in
``localized`` when it differs), ``accept_stop`` / ``accept_pause`` (bool), ``paged_pool``,
``code_bytes``, ``bss``, ``init_bytes`` (int), ``link_date`` (text as written), ``path`` (as
written). Columns a form lacks are absent.
``driverquery:signed`` per device of ``/si``: ``device_name``, ``inf``, ``signed`` (bool),
``manufacturer``.

References: formats.md §9; Microsoft Learn "driverquery".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin
from culprit.parsers import register
from culprit.parsers._tables import (
    clip,
    csv_row,
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

VERBOSE = (
    "module",
    "display_name",
    "description",
    "driver_type",
    "start_mode",
    "state",
    "status",
    "accept_stop",
    "accept_pause",
    "paged_pool",
    "code_bytes",
    "bss",
    "link_date",
    "path",
    "init_bytes",
)
SHORT = ("module", "display_name", "driver_type", "link_date")
SIGNED = ("device_name", "inf", "signed", "manufacturer")

HEADERS: dict[str, str] = {
    norm_header(k): v
    for k, v in {
        "Module Name": "module",
        "模块名": "module",
        "模块名称": "module",
        "Display Name": "display_name",
        "显示名称": "display_name",
        "Description": "description",
        "描述": "description",
        "Driver Type": "driver_type",
        "驱动程序类型": "driver_type",
        "Start Mode": "start_mode",
        "启动模式": "start_mode",
        "State": "state",
        "Status": "status",
        "状态": "state",
        "Accept Stop": "accept_stop",
        "接受停止": "accept_stop",
        "Accept Pause": "accept_pause",
        "接受暂停": "accept_pause",
        "Paged Pool(bytes)": "paged_pool",
        "分页缓冲池(字节)": "paged_pool",
        "Code(bytes)": "code_bytes",
        "代码(字节)": "code_bytes",
        "BSS(bytes)": "bss",
        "BSS(字节)": "bss",
        "Link Date": "link_date",
        "链接日期": "link_date",
        "Path": "path",
        "路径": "path",
        "Init(bytes)": "init_bytes",
        "Init(字节)": "init_bytes",
        "DeviceName": "device_name",
        "InfName": "inf",
        "IsSigned": "signed",
        "Manufacturer": "manufacturer",
    }.items()
}

#: Localized values → English canonical values (folded keys).
VALUES: dict[str, str] = {
    norm_header(k): v
    for k, v in {
        "内核": "Kernel",
        "Kernel": "Kernel",
        "文件系统": "File System",
        "File System": "File System",
        "引导": "Boot",
        "Boot": "Boot",
        "系统": "System",
        "System": "System",
        "自动": "Auto",
        "Auto": "Auto",
        "手动": "Manual",
        "Manual": "Manual",
        "已禁用": "Disabled",
        "禁用": "Disabled",
        "Disabled": "Disabled",
        "正在运行": "Running",
        "Running": "Running",
        "已停止": "Stopped",
        "Stopped": "Stopped",
        "正常": "OK",
        "OK": "OK",
        "错误": "Error",
        "Error": "Error",
        "降级": "Degraded",
        "Degraded": "Degraded",
        "未知": "Unknown",
        "Unknown": "Unknown",
    }.items()
}
_NUMERIC = ("paged_pool", "code_bytes", "bss", "init_bytes")
_BOOL = ("accept_stop", "accept_pause", "signed")
_CANON = ("driver_type", "start_mode", "state", "status")
# "C:\Windows\system32\drivers\amdk8.sys"   \SystemRoot\System32\drivers\x.sys
_SYS = re.compile(r"\.(?:sys|exe|dll)$", re.I)


def _layout(cells: list[str]) -> tuple[str, ...] | None:
    """Column keys for a row of this many cells, by position (fixed layouts)."""
    return {15: VERBOSE, 4: SHORT}.get(len(cells))


def _is_header(cells: list[str]) -> bool:
    keys = header_keys(cells, HEADERS)
    return "module" in keys or sum(k is not None for k in keys) >= 3


def _positional_header(cells: list[str]) -> bool:
    """A first row in a known layout whose values cannot be data (headers in an unknown language)."""
    if len(cells) == 15:
        return not any(ch.isdigit() for ch in cells[9] + cells[10]) and "\\" not in cells[13]
    if len(cells) == 4:
        return not any(ch.isdigit() for ch in cells[3])
    return False


def _is_nh_row(cells: list[str]) -> bool:
    return len(cells) == 15 and cells[7].upper() in ("TRUE", "FALSE") and bool(_SYS.search(cells[13]))


@register
class DriverqueryParser(Parser):
    name = "driverquery"
    description = "driverquery output: /v /fo csv, /fo csv, table forms (English, zh-CN)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
        if not lines:
            return 0.0
        first = csv_row(lines[0].lstrip("\ufeff"))
        if first and len(first) >= 4 and _is_header(first):
            return 0.95
        if first and _is_nh_row(first):
            return 0.8
        for i, line in enumerate(lines[1:], 1):
            if is_rule(line) and "=" in line:
                keys = header_keys(header_cells(lines[i - 1], rule_spans(line)), HEADERS)
                if "module" in keys and ("driver_type" in keys or "display_name" in keys):
                    return 0.9
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        mode: str | None = None  # "csv" | "table"
        columns: tuple[str | None, ...] | None = None
        spans: list[tuple[int, int]] | None = None
        pending: tuple[int, str] | None = None
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                continue
            if mode != "table" and line.lstrip().startswith('"'):
                cells = csv_row(line)
                if cells is None:
                    ctx.warn("driverquery CSV line does not parse (unbalanced quotes)", lineno)
                    continue
                if _is_header(cells) or (mode is None and _positional_header(cells)):
                    mode = "csv"
                    named = header_keys(cells, HEADERS)
                    if all(named) and len(set(named)) == len(named):
                        columns = tuple(named)  # every header known and distinct (e.g. /si)
                    else:
                        columns = _layout(cells) or tuple(named)
                    continue
                mode = "csv"
                cols = columns if columns and len(columns) == len(cells) else _layout(cells)
                if cols is None:
                    ctx.warn(f"driverquery CSV row has {len(cells)} columns, expected 15 or 4", lineno)
                    continue
                yield from self._event(dict(zip(cols, cells, strict=False)), lineno, offset, line, ctx)
                continue
            if is_rule(line):
                spans = rule_spans(line)
                header = pending[1] if pending else ""
                cells = header_cells(header, spans)
                keys = header_keys(cells, HEADERS)
                if not any(keys):
                    ctx.warn("driverquery table header not recognised; columns taken by position", lineno)
                    keys = list((_layout(cells) or VERBOSE)[: len(spans)])
                elif len(spans) == 15:
                    keys = list(VERBOSE)
                columns = tuple(keys)
                mode = "table"
                pending = None
                continue
            if mode == "table" and spans and columns:
                cells = cut(line, spans)
                yield from self._event(dict(zip(columns, cells, strict=False)), lineno, offset, line, ctx)
                continue
            if pending is not None:
                ctx.warn("line is not driverquery output", pending[0])
            pending = (lineno, line)
        if pending is not None:
            ctx.warn("line is not driverquery output", pending[0])

    @staticmethod
    def _event(
        row: dict[str | None, str], lineno: int, offset: int, line: str, ctx: ParseContext
    ) -> Iterator[Event]:
        module = (row.get("module") or "").strip()
        signed = "device_name" in row and "module" not in row
        if not module and not (signed and (row.get("device_name") or "").strip()):
            ctx.warn("driverquery row without a module name", lineno)
            return
        fields: dict[str, Any] = {}
        localized: dict[str, str] = {}
        for key, value in row.items():
            if not key:
                continue
            v = value.strip()
            if key in _NUMERIC:
                fields[key] = int_or_none(v)
            elif key in _BOOL:
                fields[key] = v.upper() == "TRUE" if v.upper() in ("TRUE", "FALSE") else None
            elif key in _CANON:
                canon = VALUES.get(norm_header(v), v)
                fields[key] = canon
                if canon != v:
                    localized[key] = v
            else:
                fields[key] = clip(v)
        if localized:
            fields["localized"] = localized
        if signed:
            msg = f"device {fields['device_name']}: " + ("signed" if fields.get("signed") else "not signed")
        else:
            msg = f"driver {module}" + (f" {fields['path']}" if fields.get("path") else "")
        yield Event(
            kind="driverquery:signed" if signed else "driverquery:driver",
            origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
            message=msg,
            fields=fields,
        )
