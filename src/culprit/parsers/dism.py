"""DISM.log — Deployment Image Servicing and Management (dism.exe, DismApi.dll, their providers).

Where: ``%WINDIR%\\Logs\\DISM\\dism.log`` (WinPE: ``X:\\Windows\\Logs\\DISM``), ``/LogPath`` overrides;
rolled over to ``dism.log.bak``. Encoding: 8-bit (ANSI), CRLF. Times are local. The layout is the
CBS one; when DISM hosts the servicing stack the same CBS/CSI lines appear inline (they are
decoded exactly as in CBS.log by ``_servicing.classify`` and keep their ``cbs:*`` kinds). References:
../shared/docs/formats.md §3 and §1, docs/events/dism.md.

Line::

    2017-03-10 10:24:32, Error                 DISM   DISM.EXE: DISM Package Manager processed the command line but failed. HRESULT=800F0922

The DISM message is ``<Provider>: PID=<dec> TID=<dec> <text> - <Class>::<Method>`` (provider and
PID/TID are sometimes absent). Lines without a time stamp continue the record above them.

Kinds (all carry ``level``, ``component``; DISM lines add ``provider``, ``pid``, ``tid``,
``method`` and ``hresult`` when present):

- ``dism:line`` — any DISM line.
- ``dism:session`` — ``<----- Starting/Ending Dism.exe|DismApi.dll session ----->``: ``action``
  (``start``/``end``), ``host`` (``Dism.exe``/``DismApi.dll``).
- ``dism:command_line`` — ``Parent process command line: ...`` / ``Command line: ...``:
  ``command_line``, ``parent`` (True for the parent's).
- ``dism:image_session`` — ``Image session has been closed. Reboot required=no.``: ``reboot_required``.
- ``cbs:*`` — inline CBS/CSI lines (see cbs.py).
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers._servicing import classify, csi_offsets, find_code, local_stamp
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 4000
# 2017-03-10 10:24:32, Error                 DISM   DISM.EXE: ... HRESULT=800F0922
_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), (\w+)\s+(\S+)\s+(.*)")
# DISM Package Manager: PID=1234 TID=5678 Processing the top level command token(add-package). - CPackageManagerCLIHandler::Private_ValidateCmdLine  # noqa: E501
_DISM_MSG = re.compile(
    r"(?:(?P<provider>[^:=]{1,60}?): )?(?:PID=(?P<pid>\d+) TID=(?P<tid>\d+)\s*)?(?P<text>.*?)"
    r"(?: - (?P<method>[\w~<>]+::[\w~<>]+)(?:\([^()]*\))?)?\s*$"
)
# <----- Starting Dism.exe session ----->
_SESSION = re.compile(r"<-+ (Starting|Ending) (\S+) session -+>")
# Parent process command line: C:\Windows\system32\svchost.exe -k netsvcs
_CMDLINE = re.compile(r"(Parent process command line|Command line|Executing command line): (.*)$")
_REBOOT = re.compile(r"Image session has been closed\. Reboot required=(yes|no)", re.I)
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING}


@register
class DismParser(Parser):
    """DISM.log (and dism.log.bak)."""

    name = "dism"
    description = "DISM.log (Deployment Image Servicing and Management)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.lstrip("\ufeff").splitlines()[:80]
        stamped = dism = 0
        for ln in lines:
            m = _LINE.match(ln)
            if not m:
                continue
            stamped += 1
            if m.group(3) == "DISM" or "PID=" in m.group(4):
                dism += 1
        if not dism:
            return 0.0
        score = 0.92 if stamped >= max(2, len(lines) // 3) else 0.5
        if "dism" in source.filename.lower():
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        pending: tuple[int, int, str, list[str]] | None = None
        for lineno, offset, line in source.lines(ctx):
            line = line.lstrip("\ufeff")
            if _LINE.match(line):
                if pending:
                    ev = _event(*pending, ctx)
                    if ev is not None:
                        yield ev
                pending = (lineno, offset, line, [])
            elif pending is not None:
                if line.strip() and len(pending[3]) < 1000:
                    pending[3].append(line)
            elif line.strip():
                ctx.warn("text before the first DISM line", lineno)
        if pending:
            ev = _event(*pending, ctx)
            if ev is not None:
                yield ev

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """Offsets proved by inline CSI ``@`` stamps and CBS session ids (as in CBS.log)."""
        yield from csi_offsets(source)


def _event(lineno: int, offset: int, line: str, cont: list[str], ctx: ParseContext) -> Event | None:
    m = _LINE.match(line)
    if m is None:
        return None
    stamp, level, comp, msg = m.groups()
    local = local_stamp(stamp)
    if local is None:
        ctx.warn("invalid time stamp", lineno)
    text = "\n".join([line, *cont])
    proc = None
    if comp in ("CBS", "CSI"):
        kind, fields, code = classify(comp, msg, cont)
    else:
        kind, fields, code = "dism:line", {}, None
        dm = _DISM_MSG.match(msg)
        body = msg
        if dm:
            body = dm.group("text")
            if dm.group("provider"):
                fields["provider"] = dm.group("provider").strip()
            if dm.group("pid"):
                fields["pid"] = int(dm.group("pid"))
                fields["tid"] = int(dm.group("tid"))
                proc = Process(pid=fields["pid"], tid=fields["tid"])
            if dm.group("method"):
                fields["method"] = dm.group("method")
        hr, sym = find_code(msg + (" " + " ".join(cont) if cont else ""))
        if hr is not None:
            fields["hresult"] = hr
            code = hr
            if sym:
                fields["symbol"] = sym
        _dism_kind(body, fields)
        kind = fields.pop("_kind", kind)
    fields["level"] = level
    fields["component"] = comp
    if cont:
        fields["continuation"] = "\n".join(cont)[:MAX_TEXT]
    return Event(
        kind=kind,
        origin=Origin(ctx.artifact, line=lineno, offset=offset, text=text[:MAX_TEXT]),
        **ctx.times(local),
        severity=_SEVERITY.get(level.lower(), Severity.INFO),
        process=proc,
        code=code,
        message=msg[:MAX_TEXT],
        fields=fields,
    )


def _dism_kind(body: str, fields: dict[str, Any]) -> None:
    sm = _SESSION.search(body)
    if sm:
        fields.update(
            _kind="dism:session", action="start" if sm.group(1) == "Starting" else "end", host=sm.group(2)
        )
        return
    cm = _CMDLINE.search(body)
    if cm:
        fields.update(
            _kind="dism:command_line",
            command_line=cm.group(2).strip(),
            parent=cm.group(1).startswith("Parent"),
        )
        return
    rm = _REBOOT.search(body)
    if rm:
        fields.update(_kind="dism:image_session", reboot_required=rm.group(1).lower() == "yes")
