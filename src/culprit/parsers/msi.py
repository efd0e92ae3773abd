"""Windows Installer verbose log (``msiexec /l*v``, the ``Logging`` policy, ``MsiLogging``).

Where: the ``/l*v`` path, or ``%TEMP%\\MSI*.LOG`` (``%WINDIR%\\Temp`` for the service). Encoding:
UTF-16LE with BOM and CRLF as msiexec writes it; wrappers may convert, so the encoding is sniffed.
Times are local, ``HH:MM:SS`` without a date except in the ``=== ... ===`` banners: the banner
date is carried forward (a jump back of more than 12 hours is a midnight rollover). Words are
localized (``Action start`` / ``操作开始``, ``Return value`` / ``返回值``); the parser keys on numbers
and structure (see ``_msi_words``). References: formats.md §4, Microsoft Learn "Windows Installer
logging" and "Error codes" pages.

Kinds and fields (every kind below also has ``origin.line``; ``MSI (x)`` lines add ``side``
(``"c"`` client, ``"s"`` server), ``pid`` and ``tid`` (the LOW BYTE of the real ids, as logged)
and ``ca_thread: True`` when the ids are joined by ``!``):

``msi:banner``        ``event`` (``start``/``stop``), ``date`` (ISO), ``build``, ``process`` (calling
                      process path), ``verbose`` (bool or None when the word is unknown).
``msi:line``          any other ``MSI (x)`` line: ``text``; ``action`` for ``Doing action: X``;
                      ``package`` / ``path`` for the package lines.
``msi:action``        ``action``, ``phase`` (``start``/``end``), ``return_value`` (end only, 0 not run,
                      1 ok, 2 cancel, 3 failure, 4 suspend), ``first_failure: True`` on the first
                      ``Return value 3`` of the session (and only there).
``msi:note``          ``note`` (int), ``args`` (list of str, ``2:`` onwards); plus ``action``/``path``/
                      ``command`` for 1722, ``key``/``win32`` for 1402/1406, ``service`` for 1920-1923.
``msi:custom-action`` ``action``, ``raw`` (signed decimal as logged), ``code`` (unsigned 32-bit),
                      ``hresult`` (same, when the value is negative), ``ignored`` (continue marking).
                      ``Event.code`` = ``code``.
``msi:error``         ``error`` (int), ``level`` (``error``/``warning``/``info``/``debug``/None),
                      ``text``, ``product`` when written as ``Product: X -- Error N``.
``msi:product-message`` ``product``, ``text``, ``outcome`` (``success``/``failure``/None).
``msi:op``            ``op`` (``Executing op:`` name), ``args`` (raw); ``CustomActionSchedule`` adds
                      ``action``, ``action_type``, ``source``, ``target``.
``msi:property``      ``name``, ``value``, ``change`` (``add``/``modify``/``delete``/``dump``),
                      ``old`` (modify/delete), ``scope`` (dump: ``S``/``C``/``N``).
``msi:status``        final ``Windows Installer ... status: N`` line: ``status`` (int), ``operation``
                      (English verb ``installed``/``removed``..., None when localized), ``product``,
                      ``version``, ``language``, ``manufacturer``, ``package``, ``product_code``.
``msi:engine-return`` ``MainEngineThread is returning N``: ``status``.
``msi:text``          any other line (continuations, dumps): ``text``.
``msi:summary``       one per session (a file appended with ``/l*v+`` holds several; the
                      ``first_failure`` mark is per session too): ``product``, ``version``, ``package``,
                      ``product_code``, ``status``,
                      ``status_line``, ``first_failure_action``, ``first_failure_line``,
                      ``ca_errors`` (list of ``{action, code, raw, line}``). Origin = status line.
"""

from __future__ import annotations

import dataclasses
import contextlib
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import _msi_words as W
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 2000
_STATUS_OK = frozenset({0, 1641, 3010})

# MSI (s) (98:5C) [10:42:57:487]: Resetting cached policy values
# MSI (s) (F0!60) [05:17:51:203]: PROPERTY CHANGE: Adding _REDBALL_USERDATA_DIR_0 property. ...
_MSI_LINE = re.compile(
    r"^MSI \((?P<side>[a-z])\) \((?P<pid>[0-9A-Fa-f]{1,8})(?P<sep>[:!])(?P<tid>[0-9A-Fa-f]{1,8})\) "
    r"\[(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d):(?P<ms>\d{3})\]:? ?(?P<msg>.*)$"
)
_MSI_PREFIX = re.compile(r"^MSI \(")
# === Verbose logging started: 3/11/2020  16:44:54  Build type: SHIP UNICODE 5.00.10011.00  Calling process:
#     C:\...\msiexec.exe ===   (one line in the log)
# === 详细日志记录已停止: 2022/6/16  10:43:05 ===
_BANNER = re.compile(r"^=== (?P<body>.*?)\s*===\s*$")
_BANNER_DT = re.compile(
    r"(?P<d>\d{1,4})(?P<sep>[/.\-])(?P<e>\d{1,2})[/.\-](?P<f>\d{1,4})\.?\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d\d):(?P<s>\d\d)(?:\s*(?P<ampm>[AaPp][Mm]))?"
)
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:\.\d+)?")
# Action start 15:31:37: INSTALL.   /  操作结束 10:43:05: INSTALL。返回值 3。
_ACTION = re.compile(
    r"^(?P<word>[^\d\[\]=:]{1,40}?) ?(?P<h>\d{1,2}):(?P<m>\d\d):(?P<s>\d\d): "
    r"(?P<name>[^\s.。]+)[.。](?P<rest>.*)$"
)
# " Return value 1."  /  "返回值 3。"
_RETURN = re.compile(r"^\s*(?P<word>[^\d\-]{1,30}?) ?(?P<rv>-?\d+)\s*[.。]?\s*$")
# Note: 1: 1722 2: DoInstall 3: C:\Windows\Installer\MSI8F3A.tmp 4: /silent /install ...
_NOTE = re.compile(r"^Note: 1: (?P<n>\d+)\s*(?P<rest>.*)$")
# CustomAction DoInstall returned actual error code -2147219198 (note this may not be 100% accurate ...)
_CA = re.compile(r"^CustomAction (?P<action>\S+) returned actual error code (?P<code>-?\d+)(?P<rest>.*)$")
# 错误 1722。此 Windows Installer 程序包有问题。...  /  DEBUG: Error 2826:  Control ...  /  Info 2898.For ...
_ERROR = re.compile(r"^(?P<word>(?:DEBUG: )?[^\d\s:：.。]{1,20}) (?P<num>\d{4,5})(?:[.。:：]|$)(?P<rest>.*)$")
# 产品: Microsoft Edge -- 错误 1722。...  /  Product: Redball -- Installation completed successfully.
_PRODUCT_MSG = re.compile(r"^(?P<word>[^:：\s]{1,20})[:：] ?(?P<product>.+?) -- (?P<rest>.*)$")
_ERR_IN_MSG = re.compile(r"^(?P<word>[^\d]{1,20}?) ?(?P<num>\d{4,5})(?:[.。:：]|$)")
# Windows Installer installed the product. Product Name: Redball. Product Version: 2.1.24.0. ...
_STATUS_EN = re.compile(
    r"^Windows Installer (?P<op>\w+) the product\. Product Name: (?P<product>.*?)\. "
    r"Product Version: (?P<version>.*?)\. Product Language: (?P<language>.*?)\. "
    r"Manufacturer: (?P<manufacturer>.*?)\. .*?status: (?P<status>-?\d+)\.?\s*$"
)
_STATUS_ANY = re.compile(r"^Windows Installer\b.*[:：]\s*(?P<status>-?\d+)\s*[.。]?\s*$")
# MainEngineThread is returning 1603
_ENGINE = re.compile(r"^MainEngineThread is returning (?P<status>-?\d+)")
# PROPERTY CHANGE: Adding MsiLogFileLocation property. Its value is 'C:\Windows\TEMP\MSI5e2c1.LOG'.
_PROP_CHANGE = re.compile(
    r"^PROPERTY CHANGE: (?P<verb>Adding|Modifying|Deleting) (?P<name>\S+) property\. "
    r"(?:Its value is '(?P<value>.*)'"
    r"|Its current value is '(?P<old>.*?)'(?:\. Its new value: '(?P<new>.*)')?)\.?\s*$"
)
# Property(S): ProductName = Microsoft Edge   /  属性(S): ProductName = Microsoft Edge
_PROP_DUMP = re.compile(r"^(?P<word>[^\s(:]{1,20})\((?P<scope>[A-Z])\): (?P<name>[^\s=]+) = (?P<value>.*)$")
# Executing op: CustomActionSchedule(Action=DoInstall,ActionType=3074,Source=BinaryData,Target=/silent ...)
_OP = re.compile(r"^Executing op: (?P<op>\w+)\((?P<args>.*)\)\s*$")
_CA_SCHEDULE = re.compile(
    r"^Action=(?P<action>[^,]*),ActionType=(?P<type>\d+),Source=(?P<source>[^,]*),Target=(?P<target>.*?)"
    r"(?:,CustomActionData=.*)?$"
)
_OP_KV = re.compile(r"(?:^|,)(?P<k>ProductName|PackageName|VersionString|ProductKey)=(?P<v>[^,]*)")
# Package name extracted from package path: 'MicrosoftEdgeEnterpriseX64.msi'
_PACKAGE = re.compile(
    r"^(?:Package name extracted from package path|Package to be registered): '(?P<p>[^']*)'"
)
# Original package ==> C:\Users\...\MicrosoftEdgeEnterpriseX64.msi
_ORIGINAL = re.compile(r"^Original package ==> (?P<p>.+?)\s*$")
_DOING = re.compile(r"^Doing action: (?P<a>\S+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # one \x05 is real: "2: \x05DigitalSignature"


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1]


def _note_args(rest: str) -> list[str]:
    """Split ``2: a 3: b 4: c`` into ``[a, b, c]``, taking only the next expected index each time."""
    args: list[str] = []
    if not rest.startswith("2:"):
        return args
    pos = 3
    k = 3
    while True:
        m = re.compile(rf"(?:^| ){k}: ?").search(rest, pos)
        if not m:
            args.append(rest[pos:].strip())
            return args
        args.append(rest[pos : m.start()].strip())
        pos = m.end()
        k += 1


def _int(s: str | None) -> int | None:
    try:
        return int(s) if s is not None else None
    except ValueError:
        return None


class _DateOrder:
    """Decides how to read an ambiguous banner date (``3/11/2020``) once per file."""

    def __init__(self, head: str, locale: str | None) -> None:
        self.order: str | None = None
        lcid = re.search(r"(?:UserLanguageID|SystemLanguageID) property\. Its value is '(\d+)'", head)
        self.lcid = int(lcid.group(1)) if lcid else None
        self.locale = locale
        for m in _BANNER_DT.finditer(head):
            order = self._certain(m)
            if order:
                self.order = order
                break

    @staticmethod
    def _certain(m: re.Match[str]) -> str | None:
        d, e, sep = m.group("d"), m.group("e"), m.group("sep")
        if len(d) == 4:
            return "ymd"
        if int(d) > 12:
            return "dmy"
        if int(e) > 12:
            return "mdy"
        if sep == ".":
            return "dmy"
        return None

    def read(self, m: re.Match[str]) -> tuple[date | None, bool]:
        """The date of a banner match and whether the order had to be guessed."""
        order = self._certain(m) or self.order
        guessed = False
        if order is None:
            if self.lcid is not None:
                order = "mdy" if self.lcid in W.MONTH_FIRST_LCIDS else "dmy"
            elif self.locale:
                order = "mdy" if self.locale.lower() in ("en-us", "en_us") else "dmy"
            else:
                order, guessed = "mdy", True
        a, b, c = int(m.group("d")), int(m.group("e")), int(m.group("f"))
        y, mo, d = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
        if y < 100:
            y += 2000
        try:
            return date(y, mo, d), guessed
        except ValueError:
            return None, guessed


class _State:
    """What the parser knows so far about the product and the failure."""

    def __init__(self) -> None:
        self.product: str | None = None
        self.version: str | None = None
        self.package: str | None = None
        self.original: str | None = None
        self.product_code: str | None = None
        self.status: int | None = None
        self.status_line: int | None = None
        self.status_local: datetime | None = None
        self.engine_status: int | None = None
        self.first_failure: tuple[str, int] | None = None
        self.ca_errors: list[dict[str, Any]] = []

    def pkg(self) -> str | None:
        return self.package or (_basename(self.original) if self.original else None)

    def prop(self, name: str, value: str) -> None:
        if name == "ProductName" and value:
            self.product = value
        elif name == "ProductVersion" and value:
            self.version = value
        elif name == "ProductCode" and value:
            self.product_code = value
        elif name == "PackageName" and value:
            self.package = value
        elif name == "OriginalDatabase" and value:
            self.original = value


@register
class MsiParser(Parser):
    name = "msi"
    description = "Windows Installer verbose log (msiexec /l*v, MSI*.LOG), any UI language"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.lstrip("\ufeff").splitlines()[:80]
        first = lines[0] if lines else ""
        banner = _BANNER.match(first) is not None and _BANNER_DT.search(first) is not None
        msi = sum(1 for ln in lines if _MSI_LINE.match(ln))
        if banner and msi:
            return 0.95
        if msi >= 3:
            return 0.85
        if banner and source.filename.lower().endswith(".log"):
            return 0.5
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        head = source.text_head or ""
        order = _DateOrder(head, ctx.locale or source.locale)
        st = _State()
        wide = source.encoding.wide
        day: date | None = None
        last_tod: time | None = None
        last_local: datetime | None = None
        warned_guess = False
        warned_nodate = False
        stopped = False
        last_line = 0

        def at(tod: time) -> datetime | None:
            nonlocal day, last_tod, last_local, warned_nodate
            if day is None:
                if not warned_nodate:
                    warned_nodate = True
                    ctx.warn("times before any '=== ... ===' banner have no date", line=lineno)
                return None
            if last_tod is not None and _secs(tod) < _secs(last_tod) - 12 * 3600:
                day = day + timedelta(days=1)
            last_tod = tod
            last_local = datetime.combine(day, tod)
            return last_local

        # A log whose head was cut (a collector's tail, a truncated copy): its first banner, usually the
        # closing "logging stopped" one, dates the lines before it (read back from it, no midnight assumed).
        if not _BANNER.match(head.lstrip("\ufeff").split("\n", 1)[0]):
            for _n, _o, ln in source.lines(ParseContext(ctx.artifact, ctx.utc_offset, ctx.locale)):
                b = _BANNER.match(ln.strip("\ufeff"))
                if b and (dm := _BANNER_DT.search(b["body"])):
                    with contextlib.suppress(Exception):
                        day = order.read(dm)[0]
                    break
        session_lines = 0
        for lineno, offset, line in source.lines(ctx):
            last_line = lineno
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            if not _BANNER.match(line):
                session_lines += 1
            if ("\x00" in line or len(_CONTROL.findall(line)) > 2 or (wide and "\ufffd" in line)):
                ctx.warn("unreadable characters in line (damaged or not UTF-16 text)", line=lineno)
            origin = Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT])

            m = _MSI_LINE.match(line)
            if m:
                try:
                    tod = time(int(m["h"]), int(m["m"]), int(m["s"]), int(m["ms"]) * 1000)
                except ValueError:
                    ctx.warn(f"bad time [{m['h']}:{m['m']}:{m['s']}:{m['ms']}]", line=lineno)
                    tod = None
                local = at(tod) if tod else last_local
                ids: dict[str, Any] = {"side": m["side"], "pid": int(m["pid"], 16), "tid": int(m["tid"], 16)}
                if m["sep"] == "!":
                    ids["ca_thread"] = True
                proc = Process(name="msiexec.exe", pid=None)
                ev = self._msi_message(m["msg"], ids, origin, local, ctx, st, proc)
                yield dataclasses.replace(ev, message=m["msg"].rstrip()[:MAX_TEXT])  # time/ids are fields
                continue
            if _MSI_PREFIX.match(line):
                ctx.warn("malformed 'MSI (x) (pid:tid) [time]' line", line=lineno)
                yield self._event("msi:text", origin, last_local, ctx, {"text": line[:MAX_TEXT]})
                continue

            b = _BANNER.match(line)
            if b and (dm := _BANNER_DT.search(b["body"])):
                d, guessed = order.read(dm)
                if guessed and not warned_guess:
                    warned_guess = True
                    ctx.warn(f"banner date {dm.group(0).split()[0]} is ambiguous; read as month/day/year",
                             line=lineno)
                ev = self._banner(b["body"], dm, d, origin, ctx)
                if d is not None:
                    day = d
                    try:
                        last_tod = time(int(dm["h"]) % 24, int(dm["m"]), int(dm["s"]))
                    except ValueError:
                        last_tod = None
                    if last_tod is not None:
                        last_local = datetime.combine(day, last_tod)
                else:
                    ctx.warn(f"banner date {dm.group(0)!r} is not a date", line=lineno)
                if ev.fields.get("event") == "stop":
                    stopped = True
                elif ev.fields.get("event") == "start":
                    stopped = False
                    if "build" in ev.fields and session_lines:
                        # a new msiexec session appended to the same file (/l*v+): close the last one
                        yield self._summary(st, ctx, lineno - 1)
                        st = _State()
                        session_lines = 0
                session_lines += 1
                yield self._event(ev.kind, origin, last_local if d else None, ctx, dict(ev.fields))
                continue

            a = _ACTION.match(line)
            if a:
                ev2 = self._action(a, origin, ctx, st, at)
                if ev2 is not None:
                    yield ev2
                    continue

            c = _CA.match(line)
            if c:
                yield self._custom_action(c, origin, last_local, ctx, st, {})
                continue

            p = _PROP_DUMP.match(line)
            if p:
                st.prop(p["name"], p["value"])
                yield self._event("msi:property", origin, last_local, ctx, {
                    "name": p["name"], "value": p["value"], "change": "dump", "scope": p["scope"]})
                continue

            e = _ERROR.match(line)
            if e:
                yield self._error(e["word"], int(e["num"]), line, origin, last_local, ctx, None)
                continue

            yield self._event("msi:text", origin, last_local, ctx, {"text": line[:MAX_TEXT]})

        if last_line and not stopped:
            ctx.warn("log ends without a 'logging stopped' banner (install still running, or file truncated)",
                     line=last_line)
        if last_line:
            yield self._summary(st, ctx, last_line)

    # --- records -----------------------------------------------------------------------

    def _event(
        self,
        kind: str,
        origin: Origin,
        local: datetime | None,
        ctx: ParseContext,
        fields: dict[str, Any],
        severity: Severity = Severity.INFO,
        code: int | None = None,
        message: str | None = None,
        process: Process | None = None,
    ) -> Event:
        return Event(
            kind=kind,
            origin=origin,
            **ctx.times(local),
            severity=severity,
            process=process,
            code=code,
            message=message if message is not None else origin.text,
            fields=fields,
        )

    def _banner(
        self, body: str, dm: re.Match[str], d: date | None, origin: Origin, ctx: ParseContext
    ) -> Event:
        low = body.lower()
        head = body[: dm.start()].lower()
        if any(w in head for w in W.BANNER_STOP):
            event = "stop"
        elif any(w in head for w in W.BANNER_START):
            event = "start"
        else:  # structure: only start banners carry the build and calling process
            event = "start" if body[dm.end():].strip() else "stop"
        fields: dict[str, Any] = {"event": event, "date": d.isoformat() if d else None}
        verbose = any(w in head for w in W.BANNER_VERBOSE)
        fields["verbose"] = True if verbose else (False if "logging" in low else None)
        parts = [p.strip() for p in re.split(r"\s{2,}", body[dm.end():]) if p.strip()]
        for part in parts:
            _, sep, value = part.partition(": ")
            if not sep:
                _, sep, value = part.partition("：")
            if "UNICODE" in part or "ANSI" in part or "SHIP" in part or "CHECKED" in part:
                v = _VERSION.search(part)
                fields["build"] = v.group(0) if v else value.strip()
            elif re.match(r"^[A-Za-z]:\\|^\\\\", value.strip()):
                fields["process"] = value.strip()
        return Event(kind="msi:banner", origin=origin, fields=fields)

    def _action(
        self, a: re.Match[str], origin: Origin, ctx: ParseContext, st: _State, at: Any
    ) -> Event | None:
        word = a["word"].strip().lower()
        rest = a["rest"]
        r = _RETURN.match(rest) if rest.strip() else None
        try:
            tod = time(int(a["h"]), int(a["m"]), int(a["s"]))
        except ValueError:
            return None
        if word in W.ACTION_TEXT:
            return None  # ActionText progress line ("Action 05:17:51: X. Description"): plain text
        fields: dict[str, Any] = {"action": a["name"]}
        sev = Severity.INFO
        if r is not None and (word in W.ACTION_END or word not in W.ACTION_START):
            rv = int(r["rv"])
            fields.update(phase="end", return_value=rv)
            if rv == 3:
                sev = Severity.ERROR
                if st.first_failure is None:
                    st.first_failure = (a["name"], origin.line or 0)
                    fields["first_failure"] = True
        elif not rest.strip() and word not in W.ACTION_END:
            fields["phase"] = "start"
        else:
            return None
        local = at(tod)
        return self._event("msi:action", origin, local, ctx, fields, severity=sev)

    def _custom_action(
        self, c: re.Match[str], origin: Origin, local: datetime | None, ctx: ParseContext, st: _State,
        ids: dict[str, Any],
    ) -> Event:
        raw = int(c["code"])
        code = raw & 0xFFFFFFFF
        ignored = "continue marking" in c["rest"]
        fields: dict[str, Any] = {**ids, "action": c["action"], "raw": raw, "code": code, "ignored": ignored}
        if raw < 0:
            fields["hresult"] = code
        if raw != 0 and not ignored:
            st.ca_errors.append({"action": c["action"], "code": code, "raw": raw, "line": origin.line})
        sev = Severity.ERROR if raw != 0 and not ignored else Severity.INFO
        return self._event("msi:custom-action", origin, local, ctx, fields, severity=sev, code=code)

    def _error(
        self, word: str, num: int, text: str, origin: Origin, local: datetime | None, ctx: ParseContext,
        product: str | None, ids: dict[str, Any] | None = None,
    ) -> Event:
        w = word.strip().lower()
        if w.startswith("debug:"):
            level: str | None = "debug"
        elif w in W.ERROR_WORDS:
            level = "error"
        elif w in W.WARNING_WORDS:
            level = "warning"
        elif w in W.INFO_WORDS:
            level = "info"
        else:
            level = None
        fields: dict[str, Any] = {**(ids or {}), "error": num, "level": level, "text": text[:MAX_TEXT]}
        if product:
            fields["product"] = product
        sev = {"error": Severity.ERROR, "warning": Severity.WARNING, "debug": Severity.DEBUG}.get(
            level or "", Severity.INFO)
        if level is None and num < 2000:  # 1xxx are user-facing errors in any language
            sev = Severity.ERROR
        return self._event("msi:error", origin, local, ctx, fields, severity=sev, code=num)

    def _msi_message(
        self, msg: str, ids: dict[str, Any], origin: Origin, local: datetime | None, ctx: ParseContext,
        st: _State, proc: Process,
    ) -> Event:
        msg_s = msg.rstrip()
        if (n := _NOTE.match(msg_s)) is not None:
            note = int(n["n"])
            args = _note_args(n["rest"])
            f: dict[str, Any] = {**ids, "note": note, "args": args}
            sev = Severity.INFO
            if note == 1722 and args:
                f["action"] = args[0]
                if len(args) > 1:
                    f["path"] = args[1]
                if len(args) > 2:
                    f["command"] = args[2]
                sev = Severity.ERROR
            elif note in (1402, 1406) and args:
                # 1402 "Could not open key [2]. System error [3]"; 1406 "Could not write value [2] to key [3].
                # System error [4]"
                k, e = (0, 1) if note == 1402 else (1, 2)
                if note == 1406:
                    f["value"] = args[0]
                if len(args) > k:
                    f["key"] = args[k]
                if len(args) > e and (w := _int(args[e])) is not None:
                    f["win32"] = w
                    if w == 5:
                        sev = Severity.WARNING
            elif note in (1920, 1921, 1922, 1923) and args:
                f["service"] = args[0]
                sev = Severity.ERROR
            elif note in (1708, 2896):
                sev = Severity.ERROR
            return self._event("msi:note", origin, local, ctx, f, severity=sev, process=proc)
        if (c := _CA.match(msg_s)) is not None:
            return self._custom_action(c, origin, local, ctx, st, ids)
        if (p := _PROP_CHANGE.match(msg_s)) is not None:
            verb = p["verb"]
            if verb == "Adding":
                f = {"name": p["name"], "value": p["value"], "change": "add"}
                st.prop(p["name"], p["value"] or "")
            elif verb == "Modifying":
                f = {"name": p["name"], "value": p["new"], "old": p["old"], "change": "modify"}
                st.prop(p["name"], p["new"] or "")
            else:
                f = {"name": p["name"], "value": None, "old": p["old"], "change": "delete"}
            return self._event("msi:property", origin, local, ctx, {**ids, **f}, process=proc)
        if (s := _STATUS_EN.match(msg_s)) is not None or (s := _STATUS_ANY.match(msg_s)) is not None:
            return self._status(s, msg_s, ids, origin, local, ctx, st, proc)
        if (e := _ENGINE.match(msg_s)) is not None:
            status = int(e["status"])
            st.engine_status = status
            sev = Severity.INFO if status in _STATUS_OK else Severity.ERROR
            return self._event("msi:engine-return", origin, local, ctx, {**ids, "status": status},
                               severity=sev, code=status, process=proc)
        if (o := _OP.match(msg_s)) is not None:
            f = {**ids, "op": o["op"], "args": o["args"][:MAX_TEXT]}
            if o["op"] == "CustomActionSchedule" and (cs := _CA_SCHEDULE.match(o["args"])):
                f.update(action=cs["action"], action_type=int(cs["type"]), source=cs["source"],
                         target=cs["target"][:MAX_TEXT])
            elif o["op"] in ("ProductInfo", "ProductRegister"):
                for kv in _OP_KV.finditer(o["args"]):
                    k, v = kv["k"], kv["v"]
                    if k == "ProductName" and v and not st.product:
                        st.product = v
                    elif k == "PackageName" and v and not st.package:
                        st.package = v
                    elif k == "VersionString" and v and not st.version:
                        st.version = v
                    elif k == "ProductKey" and v and not st.product_code:
                        st.product_code = v
            return self._event("msi:op", origin, local, ctx, f, process=proc)
        if (pm := _PRODUCT_MSG.match(msg_s)) is not None:
            product, rest = pm["product"], pm["rest"]
            if (er := _ERR_IN_MSG.match(rest)) is not None:
                return self._error(er["word"], int(er["num"]), rest, origin, local, ctx, product, ids)
            low = rest.lower()
            outcome = ("failure" if any(w in low for w in W.OUTCOME_FAILURE)
                       else "success" if any(w in low for w in W.OUTCOME_SUCCESS) else None)
            sev = Severity.ERROR if outcome == "failure" else Severity.INFO
            return self._event("msi:product-message", origin, local, ctx,
                               {**ids, "product": product, "text": rest[:MAX_TEXT], "outcome": outcome},
                               severity=sev, process=proc)
        f = {**ids, "text": msg_s[:MAX_TEXT]}
        if (d := _DOING.match(msg_s)) is not None:
            f["action"] = d["a"]
        elif (pk := _PACKAGE.match(msg_s)) is not None:
            f["package"] = pk["p"]
            st.package = st.package or pk["p"]
        elif (og := _ORIGINAL.match(msg_s)) is not None:
            f["path"] = og["p"]
            st.original = st.original or og["p"]
        return self._event("msi:line", origin, local, ctx, f, process=proc)

    def _status(
        self, s: re.Match[str], msg: str, ids: dict[str, Any], origin: Origin, local: datetime | None,
        ctx: ParseContext, st: _State, proc: Process,
    ) -> Event:
        status = int(s["status"])
        gd = s.groupdict()
        if gd.get("product") is not None:
            product, version, language, manufacturer = gd["product"], gd["version"], gd["language"], gd[
                "manufacturer"]
        else:  # localized: "label: value" sentences in a fixed order
            values = []
            for part in re.split(r"。|\.\s", msg):
                _, sep, value = part.partition(": ")
                if not sep:
                    _, sep, value = part.partition("：")
                if sep:
                    values.append(value.strip().rstrip(".。"))
            product = values[0] if len(values) >= 5 else None
            version = values[1] if len(values) >= 5 else None
            language = values[2] if len(values) >= 5 else None
            manufacturer = values[3] if len(values) >= 5 else None
        if product:
            st.product = product
        if version:
            st.version = version
        st.status, st.status_line, st.status_local = status, origin.line, local
        f = {**ids, "status": status, "operation": gd.get("op"), "product": product or st.product,
             "version": version or st.version,
             "language": _int(language) if language else None, "manufacturer": manufacturer,
             "package": st.pkg(), "product_code": st.product_code}
        sev = Severity.INFO if status in _STATUS_OK else Severity.ERROR
        return self._event("msi:status", origin, local, ctx, f, severity=sev, code=status, process=proc)

    def _summary(self, st: _State, ctx: ParseContext, last_line: int) -> Event:
        status = st.status if st.status is not None else st.engine_status
        ff = st.first_failure
        fields: dict[str, Any] = {
            "product": st.product, "version": st.version, "package": st.pkg(),
            "product_code": st.product_code,
            "status": status, "status_line": st.status_line,
            "first_failure_action": ff[0] if ff else None, "first_failure_line": ff[1] if ff else None,
            "ca_errors": st.ca_errors,
        }
        failed = (status is not None and status not in _STATUS_OK) or ff is not None
        what = st.product or st.pkg() or "product"
        msg = f"{what}: status {status}" + (f", first failure in {ff[0]} (line {ff[1]})" if ff else "")
        return Event(
            kind="msi:summary",
            origin=Origin(ctx.artifact, line=st.status_line or last_line),
            **ctx.times(st.status_local),
            severity=Severity.ERROR if failed else Severity.INFO,
            code=status,
            message=msg,
            fields=fields,
        )


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
