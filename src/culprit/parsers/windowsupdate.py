"""WindowsUpdate.log: the Windows 7 / 2008 R2 agent's text log, and the Windows 10+ log rendered from ETW.

Where: ``%WINDIR%\\WindowsUpdate.log`` (+ one ``WindowsUpdate.old.log``) on Windows 7; Windows 8.1+
write ETL traces (``%WINDIR%\\Logs\\WindowsUpdate\\*.etl``) that ``Get-WindowsUpdateLog`` renders into a
text file (the collector does this; the ``WindowsUpdate.log`` left in ``%WINDIR%`` there is a
placeholder that says so, reported as a warning). Encoding: ANSI (CP936 on zh-CN) or UTF-8, CRLF.
Times are local; the Windows 7 agent's ``Logging initialized (build: ..., tz: +0800)`` banner states the
offset (``utc_offsets``). References: ../shared/docs/formats.md §6, docs/events/windowsupdate.md.

Windows 7 line (TAB-separated; PID and TID in hex, right-aligned)::

    2024-09-03	10:35:49:341	 3d4	 d7c	Handler	FATAL: Completed install of CBS update with type=0, requiresReboot=0, installerError=1, hr=0x80070005

Windows 10+ rendered line (blank-separated; PID and TID decimal; 100 ns fraction; errors as
``*FAILED* [hhhhhhhh]``, brackets as ``* START *`` / ``* END *``)::

    2019/11/04 13:45:06.0713746 5084  14248 Shared          * START * Service startup
    2019/11/04 13:45:25.8430099 5084  12540 ComApi          *FAILED* [8024000C] ISusInternal:: DisconnectCall failed, hr=8024000C

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
# 2019/11/04 13:45:06.0713746 5084  14248 Shared          * START * Service startup
_LINE10 = re.compile(r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,7})\s+(\d+)\s+(\d+)\s+(Unknown\(\s*\d+\):|\S+)[ \t]?(.*)")
# *FAILED* [80070005] Method failed [...]
_FAILED = re.compile(r"\*FAILED\*\s*\[([0-9A-Fa-f]{8})\]")
# * START * Installing updates CallerId = UpdateOrchestrator  Id = 12 | * END * Install ClientId = ..., Exit code = 0x80070005
_BRACKET10 = re.compile(r"^\*\s*(START|END)\s*\*\s*(.*?)\s*$")
_EXIT10 = re.compile(r"Exit code = (0x[0-9A-Fa-f]{1,8})")
# ETW events Get-WindowsUpdateLog had no format for (symbols missing): ``Unknown( 10): GUID=... (No Format Information found).``
_UNFORMATTED = "(No Format Information found)"
_PLACEHOLDER = "Windows Update logs are now generated using ETW"
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
_TITLE = re.compile(r"^\s*(?:\*\s+)?Title = (.*)$")
_UPDATE_ID = re.compile(r"UpdateId = \{?([0-9A-Fa-f-]{36})\}?(?:\.(\d+))?")
_TZ = re.compile(r"tz: ([+-])(\d\d)(\d\d)")
_LEVEL = re.compile(r"\b(FATAL|WARNING):")


@register
class WindowsUpdateParser(Parser):
    """WindowsUpdate.log: the Windows 7 agent's, or the Windows 10+ one rendered by Get-WindowsUpdateLog."""

    name = "windowsupdate"
    description = "Windows Update agent log (Windows 7 WindowsUpdate.log; Windows 10+ Get-WindowsUpdateLog output)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        if _PLACEHOLDER in text[:2000]:
            return 0.9
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:40] if ln.strip()]
        hits = sum(1 for ln in lines if _LINE.match(ln) or _LINE10.match(ln))
        if not hits:
            return 0.0
        score = 0.9 if hits >= max(1, len(lines) // 2) else 0.4
        if "windowsupdate" in source.filename.lower():
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        unformatted = 0
        for lineno, offset, line in source.lines(ctx):
            line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            m = _LINE.match(line)
            if m:
                ev = _event(m, line, lineno, offset, ctx)
            elif m10 := _LINE10.match(line):
                if _UNFORMATTED in line:
                    unformatted += 1
                ev = _event10(m10, line, lineno, offset, ctx)
            else:
                if _PLACEHOLDER in line:
                    ctx.warn(
                        "this WindowsUpdate.log is the Windows 10+ placeholder: the real log is ETW "
                        "(%WINDIR%\\Logs\\WindowsUpdate\\*.etl); render it on the machine with "
                        "Get-WindowsUpdateLog (the culprit collector does)",
                        lineno,
                    )
                    return
                ctx.warn("not a WindowsUpdate.log line", lineno)
                continue
            if ev is not None:
                yield ev
        if unformatted:
            ctx.warn(
                f"{unformatted:,} line(s) rendered without their message (Get-WindowsUpdateLog found no "
                "format information: early Windows 10 needs the public symbols when rendering)"
            )

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


def _event10(m: re.Match[str], line: str, lineno: int, offset: int, ctx: ParseContext) -> Event:
    """A line of the Windows 10+ rendered log (``Get-WindowsUpdateLog``)."""
    g = m.groups()
    local = None
    if g[0] != "1601":  # the renderer's "no time" (unformatted events)
        try:
            local = datetime(  # noqa: DTZ001 - naive local time by design
                int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), int(g[6].ljust(7, "0")[:6])
            )
        except ValueError:
            ctx.warn("invalid time", lineno)
    pid, tid, comp, text = int(g[7]), int(g[8]), g[9], g[10]
    fields: dict[str, Any] = {"component": comp, "pid": pid, "tid": tid}
    kind = "windowsupdate:line"
    sev = Severity.INFO
    code = None
    stripped = text.strip()
    fm = _FAILED.search(text) if "FAILED" in text else None
    if fm:
        code = int(fm.group(1), 16)
        fields["level"] = "FAILED"
        sev = Severity.ERROR
    elif "rror" in text or "hr" in text or "Result" in text or "status" in text:
        cm = _CODE.search(text)
        if cm:
            code = hex_code(cm.group(1))
    bm = _BRACKET10.match(stripped) if stripped.startswith("*") and not fm else None
    if bm:
        kind = "windowsupdate:bracket"
        fields["bracket"] = bm.group(1)
        fields["scope"] = comp
        fields["operation"] = f"{comp}: {bm.group(2)}"
        em = _EXIT10.search(bm.group(2))
        if em:
            fields["exit_code"] = code = hex_code(em.group(1))
            if code & 0x80000000:
                sev = Severity.ERROR
    if code is not None:
        fields["hresult"] = code
    tm = _TITLE.match(text) if "Title = " in text else None
    if tm:
        fields["title"] = tm.group(1).strip()
    um = _UPDATE_ID.search(text) if "UpdateId" in text else None
    if um:
        fields["update_id"] = um.group(1).upper()
        if um.group(2):
            fields["revision"] = int(um.group(2))
    if "~" in text:
        fields.update(package_fields(text))
    kb = fields.get("kb") or (find_kb(text) if "KB" in text or "kb" in text else None)
    if kb:
        fields["kb"] = kb
    return Event(
        kind=kind,
        origin=Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT]),
        **ctx.times(local),
        severity=sev,
        process=Process(pid=pid, tid=tid),
        code=code,
        message=stripped[:MAX_TEXT],
        fields=fields,
    )
