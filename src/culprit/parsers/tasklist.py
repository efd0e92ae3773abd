"""``tasklist`` output, chiefly ``tasklist /m`` (modules loaded per process): table and CSV forms.

Format (table): header over a rule of ``=`` runs giving column spans; the module list wraps
onto continuation lines indented to the Modules column::

    Image Name                     PID Modules
    ========================= ======== ============================================
    lsass.exe                      676 ntdll.dll, KERNEL32.DLL, KERNELBASE.dll,
                                       RPCRT4.dll, ADVAPI32.dll
    System                           4 N/A

``/fo csv`` puts the list in one quoted field (``"lsass.exe","676","ntdll.dll,KERNEL32.DLL"``).
Headers and ``N/A`` are localized (zh-CN: ``映像名称  PID  模块``, ``暂缺``). ``tasklist /m x.dll``
lists only processes with that module; none found prints ``INFO: No tasks are running which
match the specified criteria.`` (zh-CN ``信息: 没有运行的任务匹配指定标准。``). Plain ``tasklist``
and ``tasklist /svc`` tables (Session Name, Mem Usage, Services) are read the same way.

Where it lives: not a log; collected with ``tasklist /m > tasklist_m.txt`` (OEM code page from
cmd: CP437/850, CP936 on zh-CN) or from PowerShell (UTF-16LE with BOM).

Events:
    ``tasklist:process`` — one per process, origin = its first line. Fields ``image``, ``pid``
    (int), ``modules`` (list of module names as written, [] when N/A), ``modules_available``
    (False for N/A), ``module_lines`` (the line each module is written on, parallel to
    ``modules``, so a finding can cite the exact line), and when present ``services`` (list)
    with ``service_lines``, ``session_name``, ``session``, ``mem_usage`` (text as written).
    ``process`` = (image, pid).
    ``tasklist:none`` — the "no tasks match" message (``message``).

References: formats.md §9; Microsoft Learn "tasklist".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin, Process
from culprit.parsers import register
from culprit.parsers._tables import (
    clip,
    csv_row,
    cut,
    header_cells,
    header_keys,
    is_rule,
    norm_header,
    rule_spans,
    tool_lines,
)
from culprit.parsers.base import ParseContext, Parser, Source

HEADERS: dict[str, str] = {
    norm_header(k): v
    for k, v in {
        "Image Name": "image",
        "映像名称": "image",
        "映像名": "image",
        "PID": "pid",
        "Modules": "modules",
        "模块": "modules",
        "Services": "services",
        "服务": "services",
        "Session Name": "session_name",
        "会话名": "session_name",
        "会话名称": "session_name",
        "Session#": "session",
        "会话#": "session",
        "Mem Usage": "mem_usage",
        "内存使用": "mem_usage",
        "内存使用量": "mem_usage",
        "Status": "status",
        "状态": "status",
        "User Name": "user",
        "用户名": "user",
        "CPU Time": "cpu_time",
        "CPU 时间": "cpu_time",
        "Window Title": "window_title",
        "窗口标题": "window_title",
    }.items()
}
NA = {"n/a", "暂缺", "不适用"}
_LISTS = ("modules", "services")
# INFO: No tasks are running which match the specified criteria.   信息: 没有运行的任务匹配指定标准。
_NONE = re.compile(r"^\s*(?:INFO|信息)\s*[:：]\s*(?P<msg>.+)$", re.I)


def _split_list(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


@register
class TasklistParser(Parser):
    name = "tasklist"
    description = "tasklist /m (and /svc, plain) output, table and CSV (English, zh-CN)"
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
        if first and len(first) >= 2:
            keys = header_keys(first, HEADERS)
            if "image" in keys and "pid" in keys:
                return 0.95
        for i, line in enumerate(lines[1:], 1):
            if is_rule(line) and "=" in line:
                keys = header_keys(header_cells(lines[i - 1], rule_spans(line)), HEADERS)
                if "pid" in keys and ("image" in keys or "modules" in keys):
                    return 0.95
                # PID is never localized; a 3-column table whose 2nd column is numbers.
                rows = [ln for ln in lines[i + 1 : i + 6]]
                spans = rule_spans(line)
                if (
                    len(spans) >= 3
                    and rows
                    and all(cut(r, spans)[1].isdigit() or not cut(r, spans)[0] for r in rows)
                ):
                    return 0.5
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        spans: list[tuple[int, int]] | None = None
        columns: tuple[str | None, ...] = ()
        csv_columns: tuple[str | None, ...] | None = None
        current: dict[str, Any] | None = None
        pending: tuple[int, str] | None = None
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                continue
            m = _NONE.match(line)
            if m:
                if current:
                    yield self._event(current, ctx)
                    current = None
                yield Event(
                    kind="tasklist:none",
                    origin=Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line)),
                    message=clip(m.group("msg").strip()),
                )
                continue
            if spans is None and line.startswith('"'):
                cells = csv_row(line)
                if cells is None:
                    ctx.warn("tasklist CSV line does not parse (unbalanced quotes)", lineno)
                    continue
                keys = header_keys(cells, HEADERS)
                if "pid" in keys:
                    csv_columns = tuple(keys)
                    continue
                cols = csv_columns or ("image", "pid", "modules")[: len(cells)]
                row = dict(zip(cols, cells, strict=False))
                rec = self._record(row, lineno, offset, line, ctx)
                if rec:
                    yield self._event(rec, ctx)
                continue
            if is_rule(line):
                if current:
                    yield self._event(current, ctx)
                    current = None
                spans = rule_spans(line)
                header = pending[1] if pending else ""
                keys = header_keys(header_cells(header, spans), HEADERS)
                if not any(keys):
                    ctx.warn(
                        "tasklist header not recognised; columns taken as Image Name, PID, Modules", lineno
                    )
                    keys = list[str | None](["image", "pid", "modules"][: len(spans)])
                columns = tuple(keys)
                pending = None
                continue
            if spans is None:
                if pending is not None:
                    ctx.warn("line is not tasklist output", pending[0])
                pending = (lineno, line)
                continue
            cells = cut(line, spans)
            row = dict(zip(columns, cells, strict=False))
            if not row.get("image") and not row.get("pid") and line[:1].isspace():
                if current is None:
                    ctx.warn("continuation line without a process", lineno)
                    continue
                for key in _LISTS:
                    if row.get(key):
                        items = _split_list(row[key])
                        current.setdefault(key, []).extend(items)
                        current.setdefault(f"{key[:-1]}_lines", []).extend([lineno] * len(items))
                continue
            rec = self._record(row, lineno, offset, line, ctx)
            if current:
                yield self._event(current, ctx)
            current = rec
        if current:
            yield self._event(current, ctx)
        if pending is not None:
            ctx.warn("line is not tasklist output", pending[0])

    @staticmethod
    def _record(
        row: dict[str | None, str], lineno: int, offset: int, line: str, ctx: ParseContext
    ) -> dict[str, Any] | None:
        image = (row.get("image") or "").strip()
        pid_text = (row.get("pid") or "").strip()
        if not image or not re.fullmatch(r"\d{1,10}", pid_text):
            ctx.warn(f"not a tasklist row (image {image[:40]!r}, PID {pid_text[:20]!r})", lineno)
            return None
        rec: dict[str, Any] = {
            "_line": lineno,
            "_offset": offset,
            "_text": line,
            "image": image,
            "pid": int(pid_text),
        }
        for key, value in row.items():
            if key in (None, "image", "pid"):
                continue
            v = value.strip()
            if key in _LISTS:
                rec[f"{key}_available"] = v.casefold() not in NA
                rec[key] = [] if v.casefold() in NA else _split_list(v)
                rec[f"{key[:-1]}_lines"] = [lineno] * len(rec[key])
            else:
                rec[key] = clip(v)
        return rec

    @staticmethod
    def _event(rec: dict[str, Any], ctx: ParseContext) -> Event:
        fields = {k: v for k, v in rec.items() if not k.startswith("_")}
        n = len(fields.get("modules", []))
        return Event(
            kind="tasklist:process",
            origin=Origin(ctx.artifact, line=rec["_line"], offset=rec["_offset"], text=clip(rec["_text"])),
            process=Process(name=rec["image"], pid=rec["pid"]),
            message=f"{rec['image']} ({rec['pid']})" + (f": {n} modules" if "modules" in fields else ""),
            fields=fields,
        )
