"""ExchangeSetup.log — the setup log of Microsoft Exchange Server (installs, cumulative updates, /PrepareAD).

Where: ``%SystemDrive%\\ExchangeSetupLogs\\ExchangeSetup.log`` (beside ``ExchangeSetup.msilog``,
``ServiceControl.log``, ``UpdateCas.log``, ``Install-*-<date>.ps1``...); every run of Setup appends
to it. Encoding: UTF-8 or ANSI, sniffed. References: docs/events/exchangesetup.md.

Record: a stamped line, local time ``MM/DD/YYYY HH:MM:SS.0fff`` (milliseconds written with four
digits) and the nesting depth; lines without a stamp continue the record (stack traces, the
PowerShell scripts of ``Executing:`` and of ``The following error was generated when "..." was
run: "..."``, multi-line ``[Value:...]`` of the prerequisite analysis)::

    [03/13/2021 05:01:29.0411] [0] Local time zone: (UTC-06:00) Central Time (US & Canada).
    [03/13/2021 06:46:30.0977] [2] [ERROR] Couldn't remove product with code 8466eaed-7024-4aee-9d13-f3a55b98d114. The installation source for this product is not available. Verify that the source exists and that you can access it. Error code is 1612.
    [03/13/2021 06:46:31.0008] [1] [ERROR-REFERENCE] Id=UmLanguagePackComponent___adacb802c5fd485bbad616cb75d89385 Component=EXCHANGE14:\\Current\\Release\\Client Access\\Unified Messaging
    [12/19/2020 04:17:00.0247] [1] Failed [Rule:SchemaUpdateRequired] [Message:The Active Directory schema isn't up-to-date, and this user account isn't a member of the 'Schema Admins' and/or 'Enterprise Admins' groups.]

Markers after the depth: ``[ERROR]``, ``[WARNING]``, ``[ERROR-REFERENCE]``, and the readiness
check's ``[REQUIRED]`` (an error) and ``[RECOMENDED]`` (sic; a warning).

Kind ``exchangesetup:line``, one per record, origin = its first line: ``depth`` (int, None when not
written), ``level`` (``ERROR``/``WARNING``/None), ``marker`` (the bracketed word as written, when
there is one), ``log_text`` (the text after the depth, continuation lines kept, first ``MAX_TEXT``
characters), ``lines`` (physical lines); from the text (``_RULES``, first match of each field
wins): banner ``product``, ``setup_version``, ``os_version``, ``user``, ``time_zone`` and
``tz_offset`` (minutes east), ``parameter``/``parameter_value`` and ``mode``/``sourcedir``,
``installed_version``, ``previous_version``, ``install_mode``, ``install_dir`` (the Exchange installation
directory); ``error_code`` (int; ``Error code
is 1612``, ``error code 1603``, ``ExitCode: 1603``), ``hresult``, ``exception`` and
``inner_exception`` (.NET types), ``product_code`` (``{GUID}`` upper case), ``package``, ``path``,
``error_id`` and ``component`` (``[ERROR-REFERENCE]``), ``script`` and ``error_text`` (``The
following error was generated when``), ``task``, ``setup_component``, ``error_record``,
``outcome``; prerequisite analysis ``prereq_step``, ``rule``, ``setting``, ``rule_type``,
``value``, ``has_exception``, ``rule_failure``, ``help_url``; ``truncated`` when the record was
cut. ``code`` = ``error_code``, else ``hresult``. Severity: the level; ``N.  ErrorRecord:``,
``Failed [Rule:...]`` and Setup's own failure sentences are errors, ``[HasException:True]`` a
warning.

Time: the banner's ``Local time zone: (UTC-06:00) ...`` gives the offset of the run's records (the
records of a new run are held until its banner says it, at most ``MAX_PENDING``); without one the
bundle's offset. Windows names a zone by its *standard* offset: in daylight-saving time the clock
ran one hour ahead of it. The head's stated offsets are the file's ``utc_offsets``.

Damage is warned, never dropped: text before the first record (yielded, ``truncated``), a stamp
that is no valid date, a record without its ``[depth]``, an over-long record (cut), a file that
ends inside a line (the last record ``truncated``), bytes not valid in the encoding.
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._rules import TextRule, apply, hex32, rule
from culprit.parsers.base import EventTimes, ParseContext, Parser, Source

MAX_TEXT = 4000  # characters of a record kept in log_text / origin.text / message
MAX_RECORD = 1 << 20  # characters of one record read (a longer one is cut, with a warning)
MAX_PENDING = 16  # records of a new run held until its "Local time zone:" line
MAX_OFFSETS = 50  # offsets yielded by utc_offsets()
MAX_TZ = 14 * 60
MAX_SCRIPT_IN_MESSAGE = 300

# [03/13/2021 05:01:29.0411] [0] text        (the depth may be missing on a damaged line)
_RECORD = re.compile(
    r"\[(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}) (?P<h>\d{1,2}):(?P<mi>\d{1,2}):(?P<s>\d{1,2})"
    r"(?:\.(?P<frac>\d{1,7}))?\](?: \[(?P<depth>\d{1,6})\])? ?"
)
_SNIFF = re.compile(r"^\ufeff?\[\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{4}\] \[\d{1,3}\] ", re.M)
_SNIFF_WORDS = ("Exchange Server", "ExchangeSetup", "Exchange Setup")
# [ERROR] [WARNING] [ERROR-REFERENCE] [REQUIRED] [RECOMENDED]; not "[ServiceControl.ps1] ..."
_MARKER = re.compile(r"\[(?P<marker>[A-Z][A-Z-]{2,30})\](?: |$)")
_LEVEL = {
    "ERROR": "ERROR",
    "ERROR-REFERENCE": "ERROR",
    "REQUIRED": "ERROR",
    "WARNING": "WARNING",
    "RECOMENDED": "WARNING",
    "RECOMMENDED": "WARNING",
}
_SEVERITY = {"ERROR": Severity.ERROR, "WARNING": Severity.WARNING}
# Local time zone: (UTC-06:00) Central Time (US & Canada).   (UTC) Coordinated Universal Time
_TZ = re.compile(r"\((?:UTC|GMT)(?:(?P<sign>[+-])(?P<h>\d{1,2}):(?P<m>\d\d))?\)")
_TZ_HEAD = re.compile(r"\] Local time zone: (\((?:UTC|GMT)(?:[+-]\d{1,2}:\d\d)?\))")
_STARS = re.compile(r"\*{10,}\s*\Z")
_RUN_START = re.compile(r"Starting Microsoft Exchange\b.* Setup\s*\Z")
# The following error was generated when "$error.Clear(); <script>" was run: "<error>".
_GENERATED = re.compile(
    r'\A\s*(?:\[ERROR\] )?The following error was generated when "(?P<script>.*?)" was run: "', re.S
)
_CLEAR = re.compile(r"\A\s*\$error\.Clear\(\);?\s*", re.I)

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
# A .NET exception type as Exchange writes it: "System.TimeoutException: ...", "... (0x80072030): ...".
# The lookbehind lets "Exchange.System.TimeoutException" (a message glued to the type) give the type.
_EXC = r"(?<!\w)(?:System|Microsoft)(?:\.[A-Za-z_]\w*){0,12}\.\w*Exception(?=:| \(0x|\s*$|\s*\")"


def _guid(s: str) -> str:
    return "{" + s.upper() + "}"


def _one_line(s: str) -> str:
    return " ".join(p for p in (ln.strip() for ln in s.splitlines()) if p)


def _clip(s: str) -> str:
    s = s.strip()
    return s if len(s) <= MAX_TEXT else s[:MAX_TEXT] + "…"


# How a named group's text becomes its field (str when not listed).
_CONVERT: dict[str, Callable[[str], Any]] = {
    "error_code": int,
    "error_record": int,
    "hresult": hex32,
    "product_code": _guid,
    "value": _clip,
    "rule_failure": _clip,
}


# The text a rule sees starts after the depth (and marker); \A anchors at the record's start.
# Records of "The following error was generated when" see only the error, after 'was run: "'.
_RULES: tuple[TextRule, ...] = (
    # banner
    rule("starting microsoft exchange", r"\AStarting (?P<product>Microsoft Exchange.*?) Setup\s*$", re.M),
    rule("setup version:", r"\ASetup version: (?P<setup_version>\d+(?:\.\d+)+)"),
    rule("operating system version:", r"\AOperating system version: (?P<os_version>.+?)\.?\s*$", re.M),
    rule("logged on user:", r"\ALogged on user: (?P<user>.+?)\.?\s*$", re.M),
    rule("local time zone:", r"\ALocal time zone: (?P<time_zone>.+?)\.?\s*$", re.M),
    # Command Line Parameter Name='mode', Value='Upgrade'.
    rule(
        "command line parameter",
        r"\ACommand Line Parameter Name='(?P<parameter>[^']*)', Value='(?P<parameter_value>[^']*)'",
    ),
    rule("name='mode'", r"Name='mode', Value='(?P<mode>[^']*)'", re.I),
    rule("name='sourcedir'", r"Name='sourcedir', Value='(?P<sourcedir>[^']*)'", re.I),
    rule(
        "locally installed version", r"The locally installed version is (?P<installed_version>\d+(?:\.\d+)+)"
    ),
    rule("previously installed version", r"previously installed version is '(?P<previous_version>[^']*)'"),
    rule("installation mode is set", r"The installation mode is set to: '(?P<install_mode>[^']*)'"),
    # Exchange Installation Directory : 'C:\Program Files\Microsoft\Exchange Server\V15'.
    rule("installation directory", r"Exchange Installation Directory\s*:\s*'(?P<install_dir>[^']+)'", re.I),
    # [ERROR-REFERENCE] Id=UmLanguagePackComponent___adacb8... Component=EXCHANGE14:\Current\Release\...
    rule(
        "id=",
        r"\A\[ERROR-REFERENCE\] Id=(?P<error_id>\S+)(?: Component=(?P<component>.+?))?\s*$",
        re.M,
    ),
    # Setup failed previously while performing the action Install.  Looking for the failed task with ID X.
    rule("failed task with id", r"Looking for the failed task with ID (?P<error_id>\w+)"),
    # prerequisite analysis: Started/Evaluated/Finished/Failed [Rule:X] / [Setting:X] / [Analysis:X]
    rule(
        "ed [",
        r"\A(?P<prereq_step>Started|Evaluated|Finished|Failed) "
        r"\[(?:Rule:(?P<rule>[^\]\s]+)|Setting:(?P<setting>[^\]\s]+)|Analysis:[^\]]*)\]",
    ),
    rule(
        "[message:",
        r"\AFailed \[Rule:[^\]]*\] \[Message:(?P<rule_failure>.*)\]\s*\Z",
        re.S,
        severity=Severity.ERROR,
    ),
    rule("[ruletype:", r"\A\w+ \[Rule:[^\]]*\].*?\[RuleType:(?P<rule_type>\w+)\]"),
    rule("[hasexception:true]", r"\AEvaluated \[", const={"has_exception": True}, severity=Severity.WARNING),
    rule("[hasexception:false]", r"\AEvaluated \[", const={"has_exception": False}),
    rule(
        "[value:",
        r"\AEvaluated \[[^\]\n]*\](?: \[HasException:\w+\])? \[Value:\"?(?P<value>.*?)\"?\] \[ParentValue:",
        re.S,
    ),
    # Help URL: http://technet.microsoft.com/library(EXCHG.150)/ms.exch.setupreadiness.AdInitErrorRule.aspx
    rule("help url:", r"\AHelp URL: (?P<help_url>\S*?setupreadiness\.(?P<rule>\w+)\.aspx)", re.I),
    rule("help url:", r"\AHelp URL: (?P<help_url>\S+)"),
    # 0.  ErrorRecord: <the error>   (the task's list of errors)
    rule("errorrecord:", r"\A(?P<error_record>\d+)\.\s+ErrorRecord: ", severity=Severity.ERROR),
    # Error code is 1612.   error code 1603   ExitCode: 1603
    rule("code", r"\b(?:error|exit) ?code(?: is|:|=)? *(?P<error_code>-?\d+)\b", re.I),
    # HRESULT: 0x80070005   error code 0x8007...   hr=0x...   (0x80072030)   any bare 0x8.../0xC... code
    rule(
        "0x",
        r"\b(?:hresult|hr|error|result|status|exit ?code)(?: code)?(?: is)? *(?:[=:] *)?"
        r"\(?0x(?P<hresult>[0-9A-Fa-f]{1,8})\b",
        re.I,
    ),
    rule("(0x", r"\(0x(?P<hresult>[0-9A-Fa-f]{8})\)"),
    rule("0x", r"\b0x(?P<hresult>[89A-Fa-f][0-9A-Fa-f]{7})\b"),
    # Microsoft.Exchange.Configuration.Tasks.TaskException: ... ---> System.ComponentModel.Win32Exception: ...
    rule("exception", rf"(?P<exception>{_EXC})", re.M),
    rule("--->", rf"---> (?P<inner_exception>{_EXC})", re.M),
    # the standard .NET messages of two exceptions, when the type is not written
    rule(
        "object reference not set to an instance of an object",
        r"Object reference not set to an instance of an object",
        const={"exception": "System.NullReferenceException"},
    ),
    rule(
        "access to the path",
        r"Access to the path '(?P<path>[^']*)' is denied",
        const={"exception": "System.UnauthorizedAccessException"},
    ),
    rule("cannot find path", r"Cannot find path '(?P<path>[^']*)' because it does not exist"),
    # Couldn't remove product with code 8466eaed-...   Product code: {BAD2A75A-...}   ProductCode is '...'
    rule("product with code", rf"product with code \{{?(?P<product_code>{_GUID})", re.I),
    rule("package with code", rf"package with code '\{{?(?P<product_code>{_GUID})", re.I),
    rule("product code", rf"\bProduct ?code(?: is|:) *'?\{{?(?P<product_code>{_GUID})", re.I),
    # Installing product D:\cu23\...\MSSpeech_SR_TEL.zh-CN.msi failed.   Installing MSI package 'N:\en\x.msi'.
    rule("installing product", r"Installing product (?P<package>[^\r\n]{1,1000}?\.ms[ip]) failed", re.I),
    rule("msi package '", r"(?:Installing|Removing) MSI package '(?P<package>[^']+)'"),
    # Installing a new product. Package: E:\exchangeserver.msi. Property values: ...
    rule("package: ", r"\bPackage: (?P<package>[^\r\n]{1,1000}?\.ms[ip])\b", re.I),
    # Beginning processing Install-MsiPackage   Setup will run the task 'Install-BridgeheadRole'
    rule("processing ", r"\A(?:Beginning|Ending) processing (?P<task>[\w.-]+)"),
    rule("setup will run the task", r"\ASetup will run the task '(?P<task>[\w.-]+)"),
    rule("setup launched task", r"\ASetup launched task '(?P<task>[\w.-]+)"),
    rule("processing component", r"\AProcessing component '(?P<setup_component>[^']*)'"),
    # Setup's own words of failure and success
    rule(
        "setup operation didn't complete",
        r"setup operation didn't complete",
        const={"outcome": "failure"},
        severity=Severity.ERROR,
    ),
    rule(
        "failed during prereq check",
        r"installation failed during prereq check",
        const={"outcome": "failure"},
        severity=Severity.ERROR,
    ),
    rule(
        "setup is stopping now",
        r"\ASetup is stopping now because of one or more critical errors",
        const={"outcome": "failure"},
        severity=Severity.ERROR,
    ),
    rule(
        "completed successfully",
        r"setup operation completed successfully",
        const={"outcome": "success"},
    ),
)


def message_fields(text: str) -> tuple[dict[str, Any], Severity | None]:
    """The fields the ``_RULES`` find in a record's text (after the depth), and the severity one imposes."""
    found: dict[str, Any] = {}
    g = _GENERATED.match(text) if "generated when" in text else None
    if g is not None:
        script = _CLEAR.sub("", g["script"], count=1).strip()
        found["script"] = _clip(script)
        text = text[g.end() :]
        err = text.rstrip()
        err = err[:-2] if err.endswith('".') else err[:-1] if err.endswith('"') else err
        found["error_text"] = _clip(err)
    else:
        m = _MARKER.match(text)
        if m is not None and m["marker"] != "ERROR-REFERENCE":  # the rule reads the marker itself
            text = text[m.end() :]
    sev = apply(_RULES, text, _CONVERT, found)
    if "time_zone" in found:
        off = tz_offset(found["time_zone"])
        if off is not None:
            found["tz_offset"] = off
    return found, sev


def tz_offset(text: str) -> int | None:
    """``(UTC-06:00) Central Time (US & Canada)`` → -360 (minutes east of UTC); None if not stated."""
    m = _TZ.search(text)
    if m is None:
        return None
    if m["sign"] is None:
        return 0
    off = int(m["h"]) * 60 + int(m["m"])
    if off > MAX_TZ or int(m["m"]) >= 60:
        return None
    return -off if m["sign"] == "-" else off


def parse_stamp(m: re.Match[str]) -> datetime | None:
    """The naive local time of a record's stamp; None when it is no valid date.

    Setup writes milliseconds with four digits (``.0411`` = 411 ms, format ``ss.0fff``); other
    fraction shapes are read as a decimal fraction of a second.
    """
    frac = m["frac"] or "0"
    micro = int(frac) * 1000 if len(frac) == 4 and frac[0] == "0" else int(frac.ljust(6, "0")[:6])
    try:
        return datetime(  # noqa: DTZ001 - naive local time by design
            int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]), micro
        )
    except ValueError:
        return None


@dataclass
class _Rec:
    """One record being read: its stamp, depth and physical lines."""

    line: int
    offset: int
    prefix: str  # "[03/13/2021 05:01:29.0411] [0] " as written ("" for text before the first record)
    local: datetime | None
    depth: int | None
    parts: list[str] = field(default_factory=list)
    size: int = 0
    lines: int = 0
    cut: bool = False
    orphan: bool = False  # text before the first record
    fields: dict[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.INFO

    def add(self, text: str) -> bool:
        """Append one physical line's text; True when this line made the record too long."""
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
        return (self.parts[0] if len(self.parts) == 1 else "\n".join(self.parts)).rstrip("\r\n")


@register
class ExchangeSetupParser(Parser):
    """ExchangeSetup.log of Microsoft Exchange Server setup (CUs, installs, /PrepareAD)."""

    name = "exchangesetup"
    description = "Microsoft Exchange Server setup log (C:\\ExchangeSetupLogs\\ExchangeSetup.log)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        head = text[:16384]
        hits = len(_SNIFF.findall(head))
        if not hits:
            return 0.0
        lines = sum(1 for ln in head.splitlines()[:200] if ln.strip())
        exchange = any(w in text for w in _SNIFF_WORDS)
        if hits >= 3 and hits >= min(lines, 200) // 3:
            return 0.95 if exchange else 0.85
        return 0.6 if exchange else 0.35

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """The offsets stated by the ``Local time zone:`` lines of the head (at most ``MAX_OFFSETS``)."""
        n = 0
        for m in _TZ_HEAD.finditer(source.text_head or ""):
            off = tz_offset(m[1])
            if off is not None:
                yield off
                n += 1
                if n >= MAX_OFFSETS:
                    return

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        rec: _Rec | None = None
        held: list[_Rec] = []  # records of a new run waiting for its time zone
        waiting = False  # held since a "Starting Microsoft Exchange ... Setup" banner
        tz: int | None = None  # the offset the current run's banner stated

        def finish(r: _Rec) -> Iterator[Event]:
            nonlocal waiting, tz
            self._read(r, ctx)
            starts_run = r.depth == 0 and _RUN_START.match(r.text) is not None
            stars = r.depth == 0 and _STARS.match(r.text) is not None
            if starts_run:  # a new run: its records wait for the banner's time zone
                tz, waiting = None, True
                held.append(r)
                return
            if stars and not waiting:  # may open a new run: decided by the next record
                yield from (self._event(h, tz, ctx) for h in held)
                held.clear()
                held.append(r)
                return
            if waiting:
                held.append(r)
                if "tz_offset" in r.fields:
                    tz = r.fields["tz_offset"]
                if "tz_offset" in r.fields or len(held) >= MAX_PENDING:
                    yield from (self._event(h, tz, ctx) for h in held)
                    held.clear()
                    waiting = False
                return
            yield from (self._event(h, tz, ctx) for h in held)
            held.clear()
            if "tz_offset" in r.fields:
                tz = r.fields["tz_offset"]
            yield self._event(r, tz, ctx)

        for lineno, offset, line in source.lines(ctx):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            m = _RECORD.match(line)
            if m is None:
                if rec is None:
                    if not line.strip():
                        continue
                    rec = _Rec(lineno, offset, "", None, None, orphan=True)
                self._add(rec, line, ctx)
                continue
            if rec is not None:
                yield from finish(rec)
            local = parse_stamp(m)
            if local is None:
                ctx.warn(f"invalid date/time: {m[0].split(']')[0] + ']'!r}", lineno)
            if m["depth"] is None:
                ctx.warn("record without its [depth]", lineno)
            rec = _Rec(lineno, offset, m[0], local, int(m["depth"]) if m["depth"] else None)
            self._add(rec, line[m.end() :], ctx)
        if rec is not None:
            if not _ends_with_line_end(source):
                ctx.warn("the file ends inside a line: the last record may be cut", rec.line)
                rec.fields["truncated"] = True
            yield from finish(rec)
        for h in held:
            yield self._event(h, tz, ctx)

    @staticmethod
    def _add(rec: _Rec, text: str, ctx: ParseContext) -> None:
        if rec.add(text):
            ctx.warn(f"record longer than {MAX_RECORD:,} characters cut", rec.line)

    @staticmethod
    def _read(rec: _Rec, ctx: ParseContext) -> None:
        """Fill ``rec.fields`` and ``rec.severity`` from its text."""
        text = rec.text
        if rec.orphan:
            snippet = text.strip()[:80] + ("…" if len(text.strip()) > 80 else "")
            ctx.warn(f"text before the first record ({rec.lines} line(s)): {snippet!r}", rec.line)
        m = _MARKER.match(text)
        marker = m["marker"] if m is not None else None
        level = _LEVEL.get(marker or "")
        extracted, imposed = message_fields(text)
        severity = _SEVERITY.get(level or "", Severity.INFO)
        if imposed is not None and imposed > severity:
            severity = imposed
        fields: dict[str, Any] = {"depth": rec.depth, "level": level}
        if marker is not None:
            fields["marker"] = marker
        fields["log_text"] = text[:MAX_TEXT]
        fields["lines"] = rec.lines
        fields.update(extracted)
        if rec.cut or rec.orphan or rec.fields.get("truncated"):
            fields["truncated"] = True
        rec.fields, rec.severity = fields, severity

    @staticmethod
    def _event(rec: _Rec, tz: int | None, ctx: ParseContext) -> Event:
        f = rec.fields
        times: EventTimes | dict[str, Any]
        if rec.local is not None and tz is not None:
            times = {
                "time": (rec.local - timedelta(minutes=tz)).replace(tzinfo=UTC),
                "local_time": rec.local,
                "utc_offset": tz,
            }
        else:
            times = ctx.times(rec.local)
        code = f.get("error_code") or None
        code = code & 0xFFFFFFFF if code is not None else (f.get("hresult") or None)
        if "script" in f:  # the script can be long: keep its head and the whole error on the line
            script = _one_line(f["script"])
            if len(script) > MAX_SCRIPT_IN_MESSAGE:
                script = script[:MAX_SCRIPT_IN_MESSAGE] + "…"
            error = _one_line(f["error_text"])
            message = f'The following error was generated when "{script}" was run: "{error}"'
        else:
            message = _one_line(f["log_text"])
        raw = rec.prefix + rec.text[:MAX_TEXT]
        return Event(
            kind="exchangesetup:line",
            origin=Origin(ctx.artifact, line=rec.line, offset=rec.offset, text=raw[:MAX_TEXT]),
            **times,
            severity=rec.severity,
            code=code,
            message=message[:MAX_TEXT],
            fields=f,
        )


def _ends_with_line_end(source: Source) -> bool:
    """True when the file's last bytes are a line end (a log cut mid-write is not)."""
    try:
        with source.open() as fp:
            fp.seek(0, 2)
            size = fp.tell()
            fp.seek(max(0, size - 2))
            tail = fp.read()
    except OSError:
        return True
    end = {"utf-16-le": b"\n\x00", "utf-16-be": b"\x00\n"}.get(source.encoding.name, b"\n")
    return tail.endswith(end)
