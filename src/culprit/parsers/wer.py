"""Report.wer — one Windows Error Reporting report (a crash, a hang, a servicing/store failure).

Where: ``%ProgramData%\\Microsoft\\Windows\\WER\\ReportArchive\\<bucket folder>\\Report.wer`` (sent
or kept reports) and ``...\\WER\\ReportQueue\\<bucket folder>\\Report.wer`` (waiting to be sent);
per-user ones under ``%LOCALAPPDATA%\\Microsoft\\Windows\\WER\\``. Encoding: UTF-16LE with BOM,
CRLF, usually no line end after the last line. References: ../shared/docs/formats.md §8 (the
same signature appears as P1-P10 of Application log event 1001), docs/events/wer.md.

Lines are ``Key=Value`` (the value may contain ``=``)::

    Version=1
    EventType=APPCRASH                        (BEX64, WindowsWcpOtherFailure3, CbsPackageServicingFailure2...)
    EventTime=133698048675312340              (FILETIME: 100 ns ticks since 1601-01-01 UTC, decimal)
    ReportIdentifier=7c1e4b2a-5d3f-4e81-9a6c-2f0b8d4e1a37
    AppSessionGuid=00001a2c-0001-0011-00f6-15baaafdda01
    Sig[0].Name=Application Name              (localized: 应用程序名称 on zh-CN)
    Sig[0].Value=MicrosoftEdgeUpdate.exe
    DynamicSig[1].Name=OS Version             DynamicSig[2].Name=Locale ID
    UI[2]=C:\\Program Files (x86)\\Microsoft\\Temp\\EU3F2A.tmp\\MicrosoftEdgeUpdate.exe
    LoadedModule[9]=C:\\Program Files\\TMS\\schk.dll
    State[0].Key=Transport.DoneStage1         OsInfo[0].Key=vermaj          File[0].CabName=...
    FriendlyEventName=Stopped working
    AppName=Microsoft Edge Update             (the file description, not always the image name)
    AppPath=C:\\Program Files (x86)\\Microsoft\\Temp\\EU3F2A.tmp\\MicrosoftEdgeUpdate.exe
    MetadataHash=-1427735062

Signature names are localized, so the crash layouts are read by index: APPCRASH 0 application,
1 its version, 3 fault module, 4 its version, 6 exception code, 7 exception offset; BEX/BEX64
(buffer overrun, DEP, /GS) 6 offset, 7 code, 8 exception data. Servicing and store failures
carry an HRESULT in a signature named ``HResult``/``Status`` (hex without ``0x``);
CbsPackageServicingFailure* by index as in event 1001 (1 package, 5 status, 6 phase, 9 client).
``AppSessionGuid`` holds the reporting process: its id (first group, hex) and its creation time
(last 8 bytes, a little-endian FILETIME). Not documented; read from real reports, where that
time falls seconds to days before EventTime (a TiWorker.exe 4 minutes, a svchost.exe 6 days).

Kind ``wer:report`` (one per report; a file may hold several when concatenated: a ``Version=``
line after a report starts the next) — fields ``event_type``, ``friendly_event_name``,
``report_id``, ``app_name`` (image name), ``app_display_name`` (``AppName=``), ``app_path``,
``app_version``, ``fault_module``, ``fault_module_version``, ``fault_module_path`` (from the
loaded modules), ``exception_code`` (int), ``exception_offset``, ``exception_data``, ``hresult``
(int), ``package``/``phase``/``client`` (CBS failures), ``signatures`` (``[{index, name, value}]``),
``dynamic_signatures`` (same shape), ``loaded_modules`` (paths), ``fault_module_line`` /
``fault_module_path_line`` (``{line, offset, text}`` of the signature and module lines that name the
faulting module, for findings to cite), ``os_version``, ``locale_id``
(int), ``kb``, ``pid``, ``process_start``, ``upload_time``. ``time`` = EventTime (UTC),
``code`` = exception code or HRESULT. Origin = the ``EventType=`` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers._servicing import find_kb
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 2000  # characters kept of one value / of origin.text
MAX_ITEMS = 4096  # entries kept of one indexed group (Sig, DynamicSig, LoadedModule)
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

# Sig[3].Name   DynamicSig[22].Value   LoadedModule[12]   State[0].Key   File[0].Original.Path
_INDEXED = re.compile(r"(?P<group>[A-Za-z][A-Za-z0-9_]*)\[(?P<n>\d{1,9})\](?:\.(?P<attr>\S+))?")
# c0000005   0xC0000409   800f0984
_HEX32 = re.compile(r"(?:0[xX])?([0-9A-Fa-f]{8})")
_HEX_ANY = re.compile(r"0[xX]([0-9A-Fa-f]{1,8})")
# the simple keys the event uses (lower case)
_SCALARS = frozenset(
    {
        "version",
        "eventtype",
        "eventtime",
        "uploadtime",
        "reportidentifier",
        "nsappname",
        "originalfilename",
        "appsessionguid",
        "friendlyeventname",
        "appname",
        "apppath",
        "reportdescription",
    }
)
_GROUPS = {"sig": "sigs", "dynamicsig": "dynamic", "loadedmodule": "modules"}
# event types whose report says something failed or crashed (the rest: warning)
_FAILURE = re.compile(r"crash|hang|fail|^bex|bluescreen|clr20r3|exception|error", re.I)
# index layouts of the crash signatures: field -> Sig index
_CRASH_LAYOUTS: dict[str, dict[str, int]] = {
    "appcrash": {
        "app_name": 0,
        "app_version": 1,
        "fault_module": 3,
        "fault_module_version": 4,
        "exception_code": 6,
        "exception_offset": 7,
    },
    "bex": {
        "app_name": 0,
        "app_version": 1,
        "fault_module": 3,
        "fault_module_version": 4,
        "exception_offset": 6,
        "exception_code": 7,
        "exception_data": 8,
    },
}
_CRASH_LAYOUTS["bex64"] = _CRASH_LAYOUTS["bex"]
_CRASH_FIELDS = (
    "app_name",
    "app_version",
    "fault_module",
    "fault_module_version",
    "exception_code",
    "exception_offset",
    "exception_data",
)
# CbsPackageServicingFailure2: P2 package, P6 status, P7 phase, P10 client (formats.md §8)
_CBS_LAYOUT = {"package": 1, "hresult": 5, "phase": 6, "client": 9}
# signature names that carry a status code (compared lower case, blanks removed)
_CODE_NAMES = frozenset(
    {
        "hresult",
        "hr",
        "status",
        "statuscode",
        "errorcode",
        "error",
        "errorstatus",
        "failurestatus",
        "result",
        "resultcode",
        "exitcode",
        "returncode",
        "failurecode",
    }
)
# names whose 8-hex-digit values are no status (hashes, link timestamps, offsets...)
_NOT_CODE = re.compile(r"hash|time|stamp|offset|version|id$|build|guid|address|bucket", re.I)


@dataclass
class _Report:
    """What one report's lines said so far."""

    line: int  # first line of the report
    offset: int
    text: str
    values: dict[str, str] = field(default_factory=dict)  # _SCALARS only
    lines: dict[str, int] = field(default_factory=dict)  # key -> line number
    sigs: dict[int, dict[str, str]] = field(default_factory=dict)
    dynamic: dict[int, dict[str, str]] = field(default_factory=dict)
    modules: dict[int, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)  # groups over MAX_ITEMS (warned once)
    where: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)  # (group, n) -> line
    anchor: tuple[int, int, str] | None = None  # the EventType= line

    @property
    def empty(self) -> bool:
        return not (self.values.keys() - {"version"} or self.sigs or self.dynamic or self.modules)


def filetime(text: str) -> datetime | None:
    """``133496477153022430`` (decimal FILETIME) → aware UTC datetime; None if no plausible time."""
    s = text.strip()
    if not (s.isascii() and s.isdigit()) or len(s) > 20:
        return None
    try:
        t = _FILETIME_EPOCH + timedelta(microseconds=int(s) // 10)
    except OverflowError:
        return None
    return t if 1980 <= t.year < 2200 else None


def hex_value(text: str | None) -> int | None:
    """A status written as ``c0000005`` / ``0xC0000005`` (or a short ``0x5``) → int; else None."""
    s = (text or "").strip()
    m = _HEX32.fullmatch(s) or _HEX_ANY.fullmatch(s)
    return int(m.group(1), 16) if m else None


def session_guid(text: str) -> tuple[int | None, datetime | None]:
    """``AppSessionGuid`` → (process id, process start time UTC); (None, None) if it is no GUID."""
    s = text.strip().strip("{}").replace("-", "")
    if len(s) != 32:
        return None, None
    try:
        raw = bytes.fromhex(s)
    except ValueError:
        return None, None
    pid = int.from_bytes(raw[:4], "big") or None
    start = filetime(str(int.from_bytes(raw[8:], "little")))
    return pid, start


def _at(where: tuple[int, int, str] | None) -> dict[str, Any] | None:
    """Where a value was read, for a finding that cites it: ``{line, offset, text}``."""
    return None if where is None else {"line": where[0], "offset": where[1], "text": where[2]}


def _basename(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


@register
class WerParser(Parser):
    """Report.wer (Windows Error Reporting report manifest)."""

    name = "wer"
    description = "Windows Error Reporting Report.wer (crashes, servicing and store failures)"
    local_time = False  # EventTime is a UTC FILETIME

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = [ln.strip() for ln in text.lstrip("\ufeff").splitlines()[:12]]
        lines = [ln for ln in lines if ln]
        if (
            lines
            and lines[0].startswith("Version=")
            and any(ln.startswith("EventType=") for ln in lines[1:8])
        ):
            return 0.95
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        wide = source.encoding.wide  # textio reports bad bytes of 8-bit text itself, not of UTF-16
        rep: _Report | None = None
        for lineno, offset, raw in source.lines(ctx):
            line = raw.lstrip("\ufeff")  # a BOM inside: reports concatenated with `copy /b`
            if not line.strip():
                continue
            if wide and "\ufffd" in line:
                ctx.warn(f"bytes not valid {source.encoding.label} replaced", lineno)
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not key:
                ctx.warn("not a Key=Value line", lineno)
                continue
            if key.lower() == "version" and rep is not None and not rep.empty:
                yield from self._finish(rep, ctx)
                rep = None
            if rep is None:
                rep = _Report(lineno, offset, line[:MAX_TEXT])
            if len(value) > MAX_TEXT:
                ctx.warn(
                    f"value of {key[:80]} longer than {MAX_TEXT:,} characters cut ({len(value):,})", lineno
                )
                value = value[:MAX_TEXT]
            self._store(rep, key, value, lineno, offset, line, ctx)
        if rep is None:
            ctx.warn("no Key=Value lines: no WER report in this file")
        elif rep.empty:
            ctx.warn("WER report without EventType=", rep.line)
        else:
            yield from self._finish(rep, ctx)

    @staticmethod
    def _store(
        rep: _Report, key: str, value: str, lineno: int, offset: int, line: str, ctx: ParseContext
    ) -> None:
        """Keep one ``Key=Value`` line if the event uses it; warn on duplicates and overflow."""
        low = key.lower()
        if low in _SCALARS:
            if low in rep.values:
                ctx.warn(f"duplicate key {key} (the first value is kept)", lineno)
                return
            rep.values[low] = value
            rep.lines[low] = lineno
            if low == "eventtype":
                rep.anchor = (lineno, offset, line[:MAX_TEXT])
            return
        m = _INDEXED.fullmatch(key)
        if not m:
            return  # ReportType, Consent, Response.BucketId...: not used
        group = _GROUPS.get(m.group("group").lower())
        if group is None:
            return  # UI, State, OsInfo, File...: not used
        n = int(m.group("n"))
        attr = (m.group("attr") or "").lower()
        store: dict[int, Any] = getattr(rep, group)
        if n not in store and len(store) >= MAX_ITEMS:
            if group not in rep.full:
                rep.full.add(group)
                ctx.warn(f"more than {MAX_ITEMS:,} {m.group('group')} entries; the rest are not kept", lineno)
            return
        if group == "modules":
            if attr:
                return
            if n in store:
                ctx.warn(f"duplicate key {key} (the first value is kept)", lineno)
                return
            store[n] = value
            rep.where[(group, n)] = (lineno, offset, line[:MAX_TEXT])
            return
        if attr not in ("name", "value"):
            return
        entry = store.setdefault(n, {})
        if attr in entry:
            ctx.warn(f"duplicate key {key} (the first value is kept)", lineno)
            return
        entry[attr] = value
        if attr == "value":
            rep.where[(group, n)] = (lineno, offset, line[:MAX_TEXT])

    def _finish(self, rep: _Report, ctx: ParseContext) -> Iterator[Event]:
        v = rep.values
        et = v.get("eventtype", "").strip() or None
        line, offset, text = rep.anchor or (rep.line, rep.offset, rep.text)
        if et is None:
            ctx.warn("WER report without EventType=", rep.line)
            if not (rep.sigs or rep.modules or v.get("apppath")):
                return
        time = None
        if "eventtime" in v:
            time = filetime(v["eventtime"])
            if time is None:
                ctx.warn(f"EventTime {v['eventtime'][:40]!r} is not a FILETIME", rep.lines["eventtime"])
        else:
            ctx.warn("WER report without EventTime=", line)

        def sig(i: int) -> str | None:
            s = rep.sigs.get(i, {}).get("value", "").strip()
            return s or None

        def dyn(i: int) -> str | None:
            s = rep.dynamic.get(i, {}).get("value", "").strip()
            return s or None

        signatures: list[dict[str, Any]] = [
            {"index": i, "name": s.get("name", ""), "value": s.get("value", "")}
            for i, s in sorted(rep.sigs.items())
        ]
        modules = [p for _, p in sorted(rep.modules.items())]
        etl = (et or "").lower()
        layout = _CRASH_LAYOUTS.get(etl)
        crash = {k: sig(layout[k]) if layout and k in layout else None for k in _CRASH_FIELDS}
        exc = hex_value(crash.pop("exception_code"))
        app_path = (v.get("apppath") or "").strip() or None
        f: dict[str, Any] = {
            "event_type": et,
            "friendly_event_name": (v.get("friendlyeventname") or "").strip() or None,
            "report_id": (v.get("reportidentifier") or "").strip() or None,
            "app_name": crash.pop("app_name")
            or (v.get("nsappname") or "").strip()
            or (v.get("originalfilename") or "").strip()
            or (_basename(app_path) if app_path else None),
            "app_display_name": (v.get("appname") or "").strip() or None,
            "app_path": app_path,
            **crash,
            "exception_code": exc,
            "fault_module_path": None,
            "hresult": None,
            "package": None,
            "phase": None,
            "client": None,
        }
        f["fault_module_line"] = f["fault_module_path_line"] = None
        if f["fault_module"]:
            assert layout is not None
            f["fault_module_line"] = _at(rep.where.get(("sigs", layout["fault_module"])))
            fm = str(f["fault_module"]).casefold()
            hit = next((n for n, p in sorted(rep.modules.items()) if _basename(p).casefold() == fm), None)
            if hit is not None:
                f["fault_module_path"] = rep.modules[hit]
                f["fault_module_path_line"] = _at(rep.where.get(("modules", hit)))
        code: int | None = exc
        if layout is None:
            if etl.startswith("cbspackageservicingfailure"):
                for k in ("package", "phase", "client"):
                    f[k] = sig(_CBS_LAYOUT[k])
            f["hresult"] = self._hresult(rep.sigs, etl)
            code = f["hresult"]
        f["signatures"] = signatures
        f["dynamic_signatures"] = [
            {"index": i, "name": s.get("name", ""), "value": s.get("value", "")}
            for i, s in sorted(rep.dynamic.items())
        ]
        f["loaded_modules"] = modules
        f["os_version"] = dyn(1)
        loc = dyn(2)
        f["locale_id"] = int(loc) if loc and loc.isascii() and loc.isdigit() and len(loc) < 10 else None
        every = [str(s["value"]) for s in signatures] + [v.get("apppath", ""), v.get("reportdescription", "")]
        f["kb"] = find_kb(" ".join(every))
        pid, started = session_guid(v.get("appsessionguid", ""))
        f["pid"], f["process_start"] = pid, started
        f["upload_time"] = filetime(v.get("uploadtime", ""))

        failed = bool(et and _FAILURE.search(et)) or bool(code)
        if layout is not None:
            message = f"{et} {f['app_name'] or '?'}: fault"
            if f["fault_module"]:
                message += f" in {f['fault_module']}"
                if f["fault_module_version"]:
                    message += f" {f['fault_module_version']}"
            if code is not None:
                message += f" (0x{code:08x})"
        else:
            message = et or "WER report without EventType"
            if code:
                message += f" 0x{code:08x}"
            elif f["app_name"]:
                message += f" {f['app_name']}"
        if f["kb"]:
            message += f" {f['kb']}"
        yield Event(
            kind="wer:report",
            origin=Origin(ctx.artifact, line=line, offset=offset, text=text),
            time=time,
            severity=Severity.ERROR if failed else Severity.WARNING,
            process=Process(f["app_name"], pid) if pid is not None else None,
            code=code or None,
            message=message[:MAX_TEXT],
            fields=f,
        )

    @staticmethod
    def _hresult(sigs: dict[int, dict[str, str]], event_type: str) -> int | None:
        """A failure report's status: a signature named like ``HResult``, the CBS index, or an error value."""
        for _, s in sorted(sigs.items()):
            name = s.get("name", "").lower().replace(" ", "").replace("_", "")
            if name in _CODE_NAMES:
                c = hex_value(s.get("value"))
                if c:
                    return c
        if event_type.startswith("cbspackageservicingfailure"):
            c = hex_value(sigs.get(_CBS_LAYOUT["hresult"], {}).get("value"))
            if c:
                return c
        for _, s in sorted(sigs.items()):
            m = _HEX32.fullmatch(s.get("value", "").strip())
            if m and int(m.group(1), 16) >= 0x80000000 and not _NOT_CODE.search(s.get("name", "")):
                return int(m.group(1), 16)
        return None
