"""WindowsUpdate.log of the Windows 7 / 2008 R2 update agent (plain text, TAB-separated).

Where: ``%WINDIR%\\WindowsUpdate.log`` (+ one ``WindowsUpdate.old.log``). Windows 8.1+ write ETL
instead (not read here). Encoding: ANSI (CP936 on zh-CN), CRLF. Times are local; the agent's
``Logging initialized (build: ..., tz: +0800)`` banner states the offset (``utc_offsets``).
References: ../shared/docs/formats.md §6, docs/events/windowsupdate.md.

Line (TAB-separated; PID and TID in hex, right-aligned)::

    2024-09-03	10:35:49:341	 3d4	 d7c	Handler	FATAL: Completed install of CBS update with type=0, requiresReboot=0, installerError=1, hr=0x80070005

Kinds (all carry ``component``, ``pid``, ``tid``; ``hresult`` when the line has a code; ``kb``
when it names one):

- ``windowsupdate:line`` — any line; ``level`` ``FATAL``/``WARNING`` when marked, plus ``title``,
  ``update_id``, ``package``/``arch``/``version`` (``CBS package identity:``), ``caller_id``,
  ``tz_offset`` (the banner's offset in minutes).
- ``windowsupdate:bracket`` — ``## START ##``/``** END **``/``:: START ::``/``-- START --``/
  ``SUBMITTED``/``RESUMED`` markers: ``bracket``, ``operation`` (``AU: Install updates``), ``scope``
  (``AU``, ``Agent``, ``Handler``...), ``caller_id``/``call_id``, ``exit_code``.
- ``windowsupdate:report`` — ``REPORT EVENT:`` rows, with the ReportingEvents.log fields
  (``event_id``, ``update_id``, ``hresult``, ``client``, ``result``, ``activity``, ``kb``...).
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers._servicing import find_kb, hex_code, package_fields
from culprit.parsers.base import ParseContext, Parser, Source
from culprit.parsers.reportingevents import report_event, report_fields

MAX_TEXT = 2000

# 2024-09-03	10:35:49:341	 3d4	 d7c	Handler	FATAL: ...
_LINE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)\t(\d\d):(\d\d):(\d\d):(\d{1,3})\t *([0-9a-fA-F]+)\t *([0-9a-fA-F]+)\t([^\t]*)\t?(.*)"  # noqa: E501
)
# hr=0x80070005 | hr = 80070057 | error = 0x8024402c | Error with 0x80070005 | InstallResult=0x80070005 |
# Post-reboot status for package ...: 0x80070005.
_CODE = re.compile(
    r"(?:\bhr\s*=\s*|\berror\s*=\s*|\b[Ee]rror with |InstallResult=|status for package \S+: )"
    r"(0x[0-9A-Fa-f]{1,8}|[0-9A-Fa-f]{8})\b"
)
# ## START ##  AU: Install updates | ** END **  Agent: Installing updates [CallerId = AutomaticUpdates]
# :: START ::  Handler: CBS Install | -- START -- COMAPI: Install | <<## SUBMITTED ## AU: ... | >>##  RESUMED  ## AU: ...  # noqa: E501
_BRACKET = re.compile(
    r"^(?:<<|>>)?(##|\*\*|::|--)\s*(START|END|SUBMITTED|RESUMED)\s*(?:##|\*\*|::|--)\s+(?:(\w+):\s*)?(.*?)\s*"
    r"(?:\[(CallerId|CallId|UpdateId|Exit code) = ([^\]]*)\])?\s*$"
)
_BRACKET_HEADS = frozenset({"##", "**", "::", "--", "<<", ">>"})
_TITLE = re.compile(r"^\s*\*\s+Title = (.*)$")
_UPDATE_ID = re.compile(r"UpdateId = \{?([0-9A-Fa-f-]{36})\}?(?:\.(\d+))?")
_TZ = re.compile(r"tz: ([+-])(\d\d)(\d\d)")
_LEVEL = re.compile(r"\b(FATAL|WARNING):")


@register
class WindowsUpdateParser(Parser):
    """Windows 7 WindowsUpdate.log."""

    name = "windowsupdate"
    description = "Windows Update agent log (Windows 7 WindowsUpdate.log)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:40] if ln.strip()]
        hits = sum(1 for ln in lines if _LINE.match(ln))
        if not hits:
            return 0.0
        score = 0.9 if hits >= max(1, len(lines) // 2) else 0.4
        if "windowsupdate" in source.filename.lower():
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        for lineno, offset, line in source.lines(ctx):
            line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            m = _LINE.match(line)
            if not m:
                ctx.warn("not a WindowsUpdate.log line", lineno)
                continue
            ev = _event(m, line, lineno, offset, ctx)
            if ev is not None:
                yield ev

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """The ``tz: +0800`` offsets stated by the agent's banners."""
        for m in _TZ.finditer(source.text_head or ""):
            off = int(m.group(2)) * 60 + int(m.group(3))
            yield -off if m.group(1) == "-" else off


def _event(m: re.Match[str], line: str, lineno: int, offset: int, ctx: ParseContext) -> Event | None:
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
        ctx.warn("invalid time", lineno)
        local = None
    pid, tid, comp, text = int(g[7], 16), int(g[8], 16), g[9].strip(), g[10]
    origin = Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT])
    proc = Process(pid=pid, tid=tid)
    base: dict[str, Any] = {"component": comp, "pid": pid, "tid": tid}

    if text.startswith("REPORT EVENT: "):
        f = report_fields(text[len("REPORT EVENT: ") :].split("\t"))
        if f is not None:
            ev = report_event(f, "windowsupdate:report", origin, base)
            return Event(
                kind=ev.kind,
                origin=origin,
                **ctx.times(local),
                severity=ev.severity,
                process=proc,
                code=ev.code,
                message=ev.message,
                fields=ev.fields,
            )
        ctx.warn("REPORT EVENT row not understood", lineno)

    fields = dict(base)
    kind = "windowsupdate:line"
    sev = Severity.INFO
    # Cheap substring tests gate every pattern: most lines carry none of these.
    lm = _LEVEL.search(text) if ("FATAL" in text or "WARNING" in text) else None
    if lm:
        fields["level"] = lm.group(1)
        sev = Severity.ERROR if lm.group(1) == "FATAL" else Severity.WARNING
    cm = (
        _CODE.search(text)
        if ("hr" in text or "rror" in text or "Result" in text or "status" in text)
        else None
    )
    code = None
    if cm:
        code = hex_code(cm.group(1))
        fields["hresult"] = code
    stripped = text.strip()
    bm = _BRACKET.match(stripped) if stripped[:2] in _BRACKET_HEADS else None
    if bm:
        kind = "windowsupdate:bracket"
        fields["bracket"] = bm.group(2)
        fields["scope"] = bm.group(3)
        fields["operation"] = (f"{bm.group(3)}: " if bm.group(3) else "") + bm.group(4)
        if bm.group(5):
            key = {
                "CallerId": "caller_id",
                "CallId": "call_id",
                "UpdateId": "update_id",
                "Exit code": "exit_code",
            }[bm.group(5)]
            val = bm.group(6).strip()
            if key == "exit_code":
                try:
                    fields[key] = code = hex_code(val)
                except ValueError:
                    fields[key] = val
            else:
                fields[key] = val.strip("{}").upper() if key == "update_id" else val
    tm = _TITLE.match(text) if "Title = " in text else None
    if tm:
        fields["title"] = tm.group(1).strip()
    um = _UPDATE_ID.search(text) if "UpdateId" in text else None
    if um and "update_id" not in fields:
        fields["update_id"] = um.group(1).upper()
        if um.group(2):
            fields["revision"] = int(um.group(2))
    if "~" in text:
        fields.update(package_fields(text))
    kb = fields.get("kb") or (find_kb(text) if "KB" in text or "kb" in text else None)
    if kb:
        fields["kb"] = kb
    zm = _TZ.search(text) if "Logging initialized" in text else None
    if zm:
        off = int(zm.group(2)) * 60 + int(zm.group(3))
        fields["tz_offset"] = -off if zm.group(1) == "-" else off
    return Event(
        kind=kind,
        origin=origin,
        **ctx.times(local),
        severity=sev,
        process=proc,
        code=code,
        message=stripped[:MAX_TEXT],
        fields=fields,
    )
