"""ConfigMgr (SCCM) client logs in CMTrace format: AppEnforce.log, WUAHandler.log, ccmsetup.log...

Where: ``%WINDIR%\\CCM\\Logs\\`` (AppEnforce, AppDiscovery, AppIntentEval, UpdatesDeployment,
UpdatesHandler, WUAHandler, UpdatesStore, CAS, ContentTransferManager, DataTransferService, execmgr,
CcmExec...; rolled over to ``<name>-<yyyymmdd-hhmmss>.log``) and ``%WINDIR%\\ccmsetup\\Logs\\ccmsetup.log``.
Encoding: UTF-8 (sometimes with BOM) or UTF-16LE; sniffed. References: docs/events/cmtrace.md.

Record; the message may span lines, the record ends at the ``]LOG]!><...>`` trailer::

    <![LOG[Process 4242 terminated with exitcode: 1603]LOG]!><time="10:35:49.341-480" date="09-03-2024" component="AppEnforce" context="" type="1" thread="5012" file="appexcnlib.cpp:1957">

``time`` is the local ``HH:MM:SS.fff`` (3 or 7 digits) and the time-zone bias in minutes (UTC =
local + bias, so ``-480`` is UTC+08:00), sometimes no bias; ``date`` is ``MM-DD-YYYY``; ``type`` 1
info, 2 warning, 3 error (0 or none: info); ``thread`` decimal (``1234 (0x4D2)`` too); ``file`` the
writer's source file and line. The older simple form (site-server logs) ends each record with::

    Synchronizing update 5c51eaa2-...  $$<SMS_WSUS_SYNC_MANAGER><11-28-2024 22:15:03.412+300><thread=3140 (0xC44)>

Kind ``cmtrace:line``, one per record, origin = its first line: ``component``, ``thread`` (int;
also ``process.tid``), ``type`` (int or None), ``source_file``, ``context`` (when not empty),
``log_text`` (the message as written, first ``MAX_TEXT`` characters), ``lines`` (physical lines);
from the message (``_RULES``, first match of each field wins): ``hresult`` (non-zero also ``code``),
``exit_code`` (non-zero also ``code`` when there is no HRESULT), ``child_pid``, ``outcome``,
``action``, ``app``, ``deployment_type``, ``revision``, ``content_path``, ``execution_context``,
``command_line``, ``update_id``, ``title``, ``update_state``, ``kb``; ``truncated`` when the record
has no trailer or was cut at ``MAX_RECORD``. Severity: from ``type``; simple-form records (no type)
by their words (error/fail, warn); ``Unmatched exit code (n)`` is always an error. ``time`` is exact
when the bias is written (``utc_offset`` = -bias, ``local_time`` as written), else the bundle's
offset; the file's biases are its ``utc_offsets``. ``message`` is the text on one line.

Damage is warned, never dropped: text between records (quoted in the warning), a record without
its trailer (cut by the end of the file or by the next record: yielded with ``truncated``), a
damaged trailer, missing attributes, an invalid date or bias, an over-long record.
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers._rules import TextRule, apply, hex32, rule
from culprit.parsers.base import ParseContext, Parser, Source

START = "<![LOG["
END = "]LOG]!>"
MAX_TEXT = 4000  # characters of a record kept in log_text / origin.text
MAX_RECORD = 1 << 20  # characters of one record read (a longer one is cut, with a warning)
MAX_BIAS = 14 * 60
MAX_OFFSETS = 50  # offsets yielded by utc_offsets()

# <time="19:33:19.766-330" date="11-28-2014" component="AppEnforce" context="" type="1" thread="8744" file="">
_TRAILER = re.compile(r'\s*<((?:[^"<>]|"[^"]*")*)>')
_ATTR = re.compile(r'([A-Za-z_]\w*)="([^"]*)"')
# 19:33:19.766-330   10:22:50.8422964   01:52:13.827+480
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?(?:([+-])(\d{1,4}))?")
_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_THREAD = re.compile(r"\s*(?:(\d+)|0[xX]([0-9A-Fa-f]+))")
# message  $$<SMS_WSUS_SYNC_MANAGER><11-28-2024 22:15:03.412+300><thread=3140 (0xC44)>
_SIMPLE = re.compile(r"\$\$<(?P<comp>[^<>]*)><(?P<stamp>[^<>]*)>(?:<thread=(?P<thread>[^<>]*)>)?\s*$")
_SIMPLE_SNIFF = re.compile(r"\$\$<[^<>\n]*><\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d\d:\d\d[^<>\n]*>")
_BIAS_LOG = re.compile(r'time="\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,7})?([+-]\d{1,4})"')
_BIAS_SIMPLE = re.compile(
    r"\$\$<[^<>\n]*><\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d\d:\d\d(?:\.\d{1,7})?([+-]\d{1,4})>"
)
_REQUIRED = ("time", "date", "component", "type", "thread")
_SEVERITY = {2: Severity.WARNING, 3: Severity.ERROR}
# Records without a type (simple form): severity from words, as log viewers highlight them.
_ERROR_WORD = re.compile(r"\b(?:error|fail)", re.I)
_WARNING_WORD = re.compile(r"\bwarn", re.I)

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


def _num(s: str) -> int:
    """``1603`` / ``-2147024891`` / ``0x80070005`` → int (hex as unsigned 32-bit)."""
    return int(s, 16) & 0xFFFFFFFF if s[:2].lower() == "0x" else int(s)


# How a named group's text becomes its field (str when not listed).
_CONVERT: dict[str, Callable[[str], Any]] = {
    "exit_code": _num,
    "hresult": hex32,
    "child_pid": int,
    "revision": int,
    "update_id": str.upper,
    "kb": lambda s: "KB" + s,
}


def _rule(needle: str, pattern: str, flags: int = 0, **kw: Any) -> TextRule:
    return rule(needle, pattern, flags | re.M, **kw)


# Component-agnostic: any log may carry any of these. The first rule giving a field wins.
_RULES: tuple[TextRule, ...] = (
    # +++ Starting Install enforcement for App DT "Contoso Agent" ApplicationDeliveryType - ScopeId_X/DeploymentType_Y, Revision - 4, ContentPath - C:\WINDOWS\ccmcache\1k, Execution Context - System  # noqa: E501
    _rule(
        "enforcement for app dt", r'\+\+\+ Starting (?P<action>\w+) enforcement for App DT "(?P<app>[^"]*)"'
    ),
    # ApplicationDeliveryType - ScopeId_X/DeploymentType_Y, Revision - 4   [AppDT Id: ScopeId_X/DeploymentType_Y, Revision: 6]  # noqa: E501
    _rule(
        "scopeid_",
        r"(?:ApplicationDeliveryType - |AppDT Id: )(?P<deployment_type>ScopeId_[^,\s\]]+)"
        r"(?:, Revision(?: -|:) (?P<revision>\d+))?",
    ),
    # ContentPath - C:\WINDOWS\ccmcache\1k, Execution Context - System
    _rule(
        "contentpath - ",
        r"ContentPath - (?P<content_path>[^,\n]*), Execution Context - (?P<execution_context>\w+)",
    ),
    # Prepared command line: "msiexec.exe" /i "Contoso Agent.msi" /qn
    _rule("prepared command line", r"\bPrepared command line: *(?P<command_line>.+?)\s*$"),
    # Executing Command line: "C:\WINDOWS\system32\msiexec.exe" /i "Contoso Agent.msi" /qn with user context
    _rule(
        "executing command line",
        r"\bExecuting Command line: *(?P<command_line>.+?)(?: with (?:user|system) context)?\s*$",
        re.I,
    ),
    # Command line: "C:\WINDOWS\ccmsetup\ccmsetup.exe" /runservice   (ccmsetup; AppEnforce environment block)
    _rule("command line:", r"^\s*Command line: *(?P<command_line>.+?)\s*$", re.I),
    # Process 4242 terminated with exitcode: 1603
    _rule(
        "terminated with exitcode",
        r"\bProcess (?P<child_pid>\d+) terminated with exitcode: *(?P<exit_code>-?\d+)",
    ),
    # Unmatched exit code (1603) is considered an execution failure.
    _rule(
        "unmatched exit code",
        r"\bUnmatched exit code \((?P<exit_code>-?\d+)\)",  # "... is considered an execution failure."
        const={"outcome": "failure"},
        severity=Severity.ERROR,
    ),
    # Matched exit code 3010 to a SoftReboot entry in exit codes table.
    _rule("matched exit code", r"\bMatched exit code (?P<exit_code>-?\d+) to an? (?P<outcome>\w+) entry"),
    # Looking for exit code 1603 in exit codes table...   Program: Install failed with exit code 1603
    _rule("exit", r"\bexit ?code[:=]? *\(?(?P<exit_code>0x[0-9A-Fa-f]{1,8}|-?\d+)\b", re.I),
    # File 'C:\WINDOWS\ccmsetup\{...}\client.msi' installation failed (error 1603).
    _rule("installation failed (error", r"\binstallation failed \(error (?P<exit_code>\d+)\)"),
    # Update (Site_D3A5F7EA-.../SUM_3cbcf577-5139-49b8-afe8-620af5c52f95) Progress: Status = ciStateError, ...
    _rule("sum_", rf"\bSUM_(?P<update_id>{_GUID})\b"),
    # 1. Update (Missing): 2019-09 Security Update for Windows 7 ... (KB4474419) (5c51eaa2-..., 200)
    _rule(
        "update (",
        rf"\bUpdate \((?:Missing|Installed|\d+ of \d+)\): (?P<title>.+?) "
        rf"\((?P<update_id>{_GUID}), (?P<revision>\d+)\)",
        re.I,
    ),
    # Update 1 (5c51eaa2-...) finished installing (0x80070005)   Update (5c51eaa2-...) added to the batch
    _rule("update", rf"\bupdate(?: \d+)?:? \(?(?P<update_id>{_GUID})\b(?:\)?, (?P<revision>\d+)\b)?", re.I),
    # Progress: Status = ciStateError
    _rule("status = cistate", r"\bStatus = (?P<update_state>ciState\w+)"),
    # (KB4474419)   windows6.1-kb4474419-v3-x64.cab
    _rule("kb", r"(?<![A-Za-z0-9])KB(?P<kb>\d{6,8})(?!\d)", re.I),
    # error = 0x87D00324   Result = 0x80070005   Job error (0x80070005)   hr=0x80004005   error code 0x8007…
    _rule(
        "0x",
        r"\b(?:error|hr|result|code|status)(?: code)? *[=:]? *\(?0x(?P<hresult>[0-9A-Fa-f]{1,8})\b",
        re.I,
    ),
    # finished installing (0x80240022)
    _rule("(0x", r"\(0x(?P<hresult>[0-9A-Fa-f]{8})\)"),
    # InstallFromManifest failed 0x80070643   (any failure HRESULT: bit 31 set)
    _rule("0x", r"\b0x(?P<hresult>[89A-Fa-f][0-9A-Fa-f]{7})\b"),
    # MSI: Setup failed due to unexpected circumstances / The error code is 80070005
    _rule("error code is", r"\berror code is (?P<hresult>[89A-Fa-f][0-9A-Fa-f]{7})\b", re.I),
)


def message_fields(text: str) -> tuple[dict[str, Any], Severity | None]:
    """The fields the ``_RULES`` find in a message, and the severity a rule imposes (if any)."""
    found: dict[str, Any] = {}
    return found, apply(_RULES, text, _CONVERT, found)


def parse_stamp(date: str, time: str) -> tuple[datetime, int | None] | None:
    """``11-28-2014`` + ``19:33:19.766-330`` → (naive local time, bias in minutes or None).

    Returns None when either part is not a valid date or time.
    """
    d = _DATE.fullmatch(date.strip())
    t = _TIME.fullmatch(time.strip())
    if d is None or t is None:
        return None
    frac = (t[4] or "0").ljust(6, "0")[:6]
    try:
        local = datetime(int(d[3]), int(d[1]), int(d[2]), int(t[1]), int(t[2]), int(t[3]), int(frac))  # noqa: DTZ001
    except ValueError:
        return None
    bias = None if t[5] is None else int(t[6]) * (-1 if t[5] == "-" else 1)
    return local, bias


def _thread(s: str | None) -> int | None:
    m = _THREAD.match(s) if s else None
    if m is None:
        return None
    return int(m[1]) if m[1] else int(m[2], 16)


def _type(s: str | None) -> int | None:
    s = (s or "").strip()
    return int(s) if s.isdigit() and len(s) < 4 else None


@dataclass
class _Buf:
    """The physical lines of one record being read (or of stray text between records)."""

    line: int
    offset: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    lines: int = 0
    cut: bool = False

    def add(self, text: str) -> bool:
        """Append one physical line's piece; True when this piece made the record too long."""
        self.lines += 1
        if self.cut:
            return False
        room = MAX_RECORD - self.size
        if len(text) > room:
            self.parts.append(text[:room])
            self.size, self.cut = MAX_RECORD, True
            return True
        self.parts.append(text)
        self.size += len(text) + 1
        return False

    @property
    def text(self) -> str:
        return self.parts[0] if len(self.parts) == 1 else "\n".join(self.parts)


@register
class CmTraceParser(Parser):
    """ConfigMgr client logs (CMTrace ``<![LOG[...]LOG]!>`` records and the simple ``$$<`` form)."""

    name = "cmtrace"
    description = "ConfigMgr (SCCM) client logs in CMTrace format (AppEnforce, WUAHandler, ccmsetup...)"
    # Records usually carry their own bias (exact UTC, and ``utc_offsets`` proves the machine's offset);
    # records without one are local time and need the bundle's offset.
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        if START in text:
            return 0.95 if END + '<time="' in text else 0.6
        hits = len(_SIMPLE_SNIFF.findall(text))
        if not hits:
            return 0.0
        lines = sum(1 for ln in text.splitlines()[:200] if ln.strip())
        return 0.9 if hits >= max(1, min(lines, 200) // 3) else 0.5

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """The offsets (minus the biases) written in the head's records, at most ``MAX_OFFSETS``."""
        text = source.text_head or ""
        n = 0
        for rx in (_BIAS_LOG, _BIAS_SIMPLE):
            for m in rx.finditer(text):
                bias = int(m[1])
                if abs(bias) <= MAX_BIAS:
                    yield -bias
                    n += 1
                    if n >= MAX_OFFSETS:
                        return

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        rec: _Buf | None = None  # an open <![LOG[ record
        loose: _Buf | None = None  # text outside <![LOG[ records: a simple-form message, or stray text
        seen_log = seen_simple = False
        for lineno, offset, line in source.lines(ctx):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            pos = 0
            while True:  # one physical line may end one record and start the next
                if rec is None:
                    s = line.find(START, pos)
                    if s < 0:
                        rest = line[pos:] if pos else line
                        m = _SIMPLE.search(rest) if "$$<" in rest else None
                        if m is not None:
                            buf = loose or _Buf(lineno, offset)
                            self._add(buf, rest[: m.start()], ctx)
                            loose, seen_simple = None, True
                            yield self._simple(buf, m, ctx)
                        elif rest.strip() or loose is not None:
                            loose = loose or _Buf(lineno, offset)
                            self._add(loose, rest, ctx, warn=not seen_log)
                        break
                    if s > pos and line[pos:s].strip():
                        loose = loose or _Buf(lineno, offset)
                        self._add(loose, line[pos:s], ctx, warn=False)
                    if loose is not None:
                        self._stray(loose, ctx)
                        loose = None
                    rec = _Buf(lineno, offset)
                    pos = s + len(START)
                e = line.find(END, pos)
                n = line.find(START, pos)
                if n >= 0 and (e < 0 or n < e):  # the next record starts before this one's trailer
                    if n > pos or not rec.lines:
                        self._add(rec, line[pos:n], ctx)
                    ctx.warn("record without its ]LOG]!> trailer (the next record starts)", rec.line)
                    yield self._log(rec, None, "", ctx)
                    rec, pos, seen_log = None, n, True
                    continue
                if e < 0:
                    self._add(rec, line[pos:] if pos else line, ctx)
                    break
                self._add(rec, line[pos:e], ctx)
                t = _TRAILER.match(line, e + len(END))
                if t is not None:
                    yield self._log(rec, dict(_ATTR.findall(t[1])), t[0], ctx)
                    pos = t.end()
                else:  # ]LOG]!> without a whole <...>: keep what attributes there are
                    tail = line[e + len(END) :]
                    ctx.warn("record trailer damaged", rec.line)
                    yield self._log(rec, dict(_ATTR.findall(tail)), tail, ctx, check=False)
                    pos = len(line)
                rec, seen_log = None, True
                if pos >= len(line) or not line[pos:].strip():
                    break
        if rec is not None:
            ctx.warn("record without its ]LOG]!> trailer at end of file", rec.line)
            yield self._log(rec, None, "", ctx)
        if loose is not None and loose.text.strip():
            if seen_simple and not seen_log:
                ctx.warn("record without its $$<...> trailer at end of file", loose.line)
                yield self._simple(loose, None, ctx)
            else:
                self._stray(loose, ctx)

    @staticmethod
    def _add(buf: _Buf, text: str, ctx: ParseContext, warn: bool = True) -> None:
        if buf.add(text) and warn:
            ctx.warn(f"record longer than {MAX_RECORD:,} characters cut", buf.line)

    @staticmethod
    def _stray(buf: _Buf, ctx: ParseContext) -> None:
        text = buf.text.strip()
        if text:
            snippet = text[:80] + ("…" if len(text) > 80 else "")
            cut = f", first {MAX_RECORD:,} characters kept" if buf.cut else ""
            ctx.warn(f"text outside any record ({buf.lines} line(s){cut}): {snippet!r}", buf.line)

    def _log(
        self, buf: _Buf, attrs: dict[str, str] | None, tail: str, ctx: ParseContext, check: bool = True
    ) -> Event:
        """The event of one ``<![LOG[...]LOG]!><...>`` record (``attrs`` None: it has no trailer)."""
        text = buf.text
        if attrs is not None and check:
            missing = [a for a in _REQUIRED if a not in attrs]
            if len(missing) == len(_REQUIRED):
                ctx.warn("record trailer without attributes", buf.line)
            elif missing:
                ctx.warn(f"record trailer lacks {', '.join(missing)}", buf.line)
        attrs = attrs or {}
        if len(text) <= MAX_TEXT:
            raw = START + text + (END + tail if tail else "")
        else:
            raw = START + text[:MAX_TEXT]
        stamp = None
        if "time" in attrs and "date" in attrs:
            stamp = parse_stamp(attrs["date"], attrs["time"])
            if stamp is None:
                ctx.warn(f"invalid date/time: date={attrs['date']!r} time={attrs['time']!r}", buf.line)
        type_ = _type(attrs.get("type"))
        return self._event(
            buf,
            text,
            raw,
            stamp,
            ctx,
            severity=_SEVERITY.get(type_ or 0, Severity.INFO),
            fields={
                "component": attrs.get("component"),
                "thread": _thread(attrs.get("thread")),
                "type": type_,
                "source_file": attrs.get("file") or None,
                **({"context": attrs["context"]} if attrs.get("context") else {}),
            },
            truncated=not tail,
        )

    def _simple(self, buf: _Buf, m: re.Match[str] | None, ctx: ParseContext) -> Event:
        """The event of one simple-form record ``text  $$<comp><date time><thread=n (0xn)>``."""
        text = buf.text
        raw = text + (m[0] if m is not None else "")
        stamp = None
        if m is not None:
            date, _, time = m["stamp"].strip().partition(" ")
            stamp = parse_stamp(date, time)
            if stamp is None:
                ctx.warn(f"invalid date/time: {m['stamp']!r}", buf.line)
        return self._event(
            buf,
            text.rstrip(),
            raw,
            stamp,
            ctx,
            severity=None,
            fields={
                "component": m["comp"] if m is not None else None,
                "thread": _thread(m["thread"]) if m is not None else None,
                "type": None,
                "source_file": None,
            },
            truncated=m is None,
        )

    @staticmethod
    def _event(
        buf: _Buf,
        text: str,
        raw: str,
        stamp: tuple[datetime, int | None] | None,
        ctx: ParseContext,
        severity: Severity | None,
        fields: dict[str, Any],
        truncated: bool,
    ) -> Event:
        """The event of one record: ``fields`` are the trailer's; ``severity`` None: judge by words."""
        local, bias = stamp if stamp is not None else (None, None)
        if bias is not None and abs(bias) > MAX_BIAS:
            ctx.warn(f"time-zone bias out of range ({bias:+d} minutes): local time read", buf.line)
            bias = None
        if local is not None and bias is not None:
            times: dict[str, Any] = {
                "time": (local + timedelta(minutes=bias)).replace(tzinfo=UTC),
                "local_time": local,
                "utc_offset": -bias,
            }
        else:
            times = dict(ctx.times(local))
        extracted, imposed = message_fields(text)
        if severity is None:  # no type written (simple form): error/fail → error, warn → warning
            severity = (
                Severity.ERROR
                if _ERROR_WORD.search(text)
                else Severity.WARNING
                if _WARNING_WORD.search(text)
                else Severity.INFO
            )
        if imposed is not None and imposed > severity:
            severity = imposed
        fields["log_text"] = text[:MAX_TEXT]
        fields["lines"] = buf.lines
        fields.update(extracted)
        if truncated or buf.cut:
            fields["truncated"] = True
        code = extracted.get("hresult") or None
        if code is None and extracted.get("exit_code"):
            code = extracted["exit_code"] & 0xFFFFFFFF  # -2147024891 → 0x80070005
        if "\n" in text:  # one line: the physical lines' text joined by blanks
            message = " ".join(p for p in (ln.strip() for ln in text[:MAX_TEXT].splitlines()) if p)
        else:
            message = text[:MAX_TEXT].strip()
        return Event(
            kind="cmtrace:line",
            origin=Origin(ctx.artifact, line=buf.line, offset=buf.offset, text=raw[:MAX_TEXT]),
            **times,
            severity=severity,
            process=Process(tid=fields["thread"]) if fields["thread"] is not None else None,
            code=code,
            message=message,
            fields=fields,
        )
