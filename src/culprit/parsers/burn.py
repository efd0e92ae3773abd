"""WiX Burn bootstrapper bundle logs: which chained package of a setup.exe failed, with which code.

Where: ``%TEMP%`` of the user who ran the bundle (``C:\\Windows\\Temp`` when it ran as SYSTEM, e.g. from
ConfigMgr or Intune), named after the bundle: ``dd_vcredist_amd64_20240903101522.log``,
``Redball_20260313153146.log``, or wherever ``-log``/``/log`` pointed. Beside it, one log per chained
package, ``<bundle log stem>_000_<package>.log`` (MSI verbose logs: the ``msi`` parser reads them) and
``..._000_<package>_rollback.log``. Burn writes UTF-8 (CRLF); copies converted to UTF-16LE are sniffed.
Times are local, without a zone (``local_time``; the bundle's offset converts them). References:
docs/events/burn.md, WiX ``src/burn/engine/engine.mc`` (the engine's message table).

Record: ``[PID:TID][local time]`` + level letter (``i`` info, ``w`` warning, ``e`` error) + message id
(3 digits, ``000`` for free text) + ``: `` + message; lines without that prefix continue the record::

    [14B0:6910][2026-03-13T15:31:46]i001: Burn x86 v7.0.0-rc.2, Windows v10.0 x64 (Build 26100: Service Pack 0), path: C:\\...\\Redball-Setup-2.1.24.exe
    [1B30:1C2C][2024-09-03T10:32:47]e000: Error 0x80070643: Failed to install MSI package.
    [0A44:0B48][2024-09-03T10:32:47]i319: Applied execute package: ContosoAgentMsi, result: 0x80070643, restart: None

PID and TID are hexadecimal; a per-machine bundle's elevated engine writes into the same log with its
own PID.

Kind ``burn:line``, one per record, origin = its first line: ``pid``, ``tid`` (ints; also
``process``), ``level`` (``info``/``warning``/``error``; None for an unknown letter), ``msg_id`` (int),
``log_text`` (the message as written, first ``MAX_TEXT`` characters), ``lines`` (physical lines); from
the message (``_RULES``, first match of each field wins): ``engine_version``, ``engine_arch``,
``windows_version``, ``windows_build``, ``bundle_path`` (i001); ``command_line`` (i009);
``condition``, ``condition_result`` (i052); ``package`` (the package id the line names), ``feature``,
``state``, ``cached`` (i101); ``default_requested``, ``requested``, ``execute``, ``rollback``,
``cache``, ``uncache``, ``dependency`` (i201); ``related_bundle``, ``relation_type`` (i102/i207/i214);
``package_count`` (i100/i200), ``action`` (bundle action in i200, package action in i301/i318);
``phase`` (``execute``/``rollback``), ``path``, ``arguments``, ``target`` (i301/i306); ``result``
(HRESULT of ``result: 0x...``: i319, i399, ``... complete``), ``restart``; ``hresult`` (``Error
0x...:``, ``error: 0x...``, ``reason: 0x...``); ``exit_code`` (i007, i500); ``payload``; ``variable``
and ``value`` (``Setting string variable 'X' to value 'Y'``, ``Variable: X = Y``), ``hidden: True``
(Burn marks it hidden, or wrote ``*****``: the value is dropped, ``value`` None), ``unset: True``;
``child_log``, ``log_package``, ``log_kind`` (``execute``/``rollback``) for ``WixBundleLog_<package>``
/ ``WixBundleRollbackLog_<package>``; ``bundle_log`` for ``WixBundleLog``. Long values are cut at
``MAX_VALUE`` characters (ending ``…``). ``truncated`` when the record was cut at ``MAX_RECORD``;
``damaged`` when its prefix is cut or garbled. ``code``: ``hresult`` if non-zero, else ``result`` if
non-zero, else ``exit_code`` if non-zero. Severity: ``e`` → error, ``w`` → warning, and error for a
failing ``result`` (bit 31 set) or an exit code other than 0, 1641, 3010.

Kind ``burn:summary``, one per engine run (after the ``Exit code`` line, or at the end of the file),
origin = the exit-code line (else the run's last record): ``engine_version``, ``bundle_path``,
``bundle_name``, ``bundle_version``, ``command_line``, ``action``, ``packages`` (list of
``{package, detected, execute, rollback, action, result, restart, applied_line, rollback_result,
vital, child_log, rollback_log}``, keys present when logged), ``failed_package``, ``failed_result``,
``failed_line``, ``child_log`` (the failed package's log), ``apply_result``, ``first_error``,
``first_error_line``, ``hresult``, ``exit_code``, ``restart``, ``finished`` (the exit-code line was
seen). Severity error when a package or the apply failed or the exit code is a failure.

Damage is warned, never dropped: text before the first record (quoted), a damaged prefix (kept as a
record of its own), an invalid date/time, an unknown level letter, control characters in a record, a
record longer than ``MAX_RECORD`` (cut), a run without its ``Exit code`` line (cut short, or the
engine did not finish).
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers._rules import TextRule, apply, hex32, rule
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 4000  # characters of a record kept in log_text / origin.text / message
MAX_RECORD = 1 << 16  # characters of one record read (line + continuation lines); longer is cut
MAX_VALUE = 2000  # characters kept of a value, command line, arguments or path
MAX_PACKAGES = 500  # packages tracked per run for the summary
MAX_HIDDEN = 1000  # hidden variable names remembered
_EXIT_OK = frozenset({0, 1641, 3010})
_OBSCURED = "*****"  # what Burn writes for the value of a hidden variable

# [14B0:6910][2026-03-13T15:31:46]i001: Burn x86 v7.0.0-rc.2, ...   (the stamp is checked separately)
_PREFIX = re.compile(
    r"\[(?P<pid>[0-9A-Fa-f]{1,8}):(?P<tid>[0-9A-Fa-f]{1,8})\]\[(?P<stamp>[^\[\]]{0,40})\]"
    r"(?P<level>[A-Za-z])(?P<id>\d{1,5}): ?(?P<text>.*)",
    re.S,
)
# a record start cut or garbled: "[14B0:6910][2026-03-13T15:3" at the end of a truncated file
_DAMAGED = re.compile(r"\[[0-9A-Fa-f]{1,8}(?::|$)")
_STAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?")
_SNIFF = re.compile(
    r"^\ufeff?\[[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{4,8}\]\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\][iwe]\d{3}: ", re.M
)
_SNIFF_ENGINE = re.compile(r"\][iwe]001: Burn (?:\w+ )?v\d")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LEVELS = {"i": ("info", Severity.INFO), "w": ("warning", Severity.WARNING), "e": ("error", Severity.ERROR)}
_CHILD_LOG = re.compile(r"WixBundle(Rollback)?Log_(.+)")
_BUNDLE_VARS = {"WixBundleName": "bundle_name", "WixBundleVersion": "bundle_version"}
_LIFECYCLE = ("Detected package:", "Planned package:", "Applying", "Applied")  # lines a summary lists
_SUMMARY_HEAD = ("engine_version", "bundle_path", "bundle_name", "bundle_version", "command_line", "action")

# A package id (WiX identifier: letters, digits, _ and .), without a sentence's final period.
_PKG = r"(?P<package>[^\s,']+?)\.?(?=[\s,]|$)"
_HEX = r"0x(?P<{}>[0-9A-Fa-f]{{1,8}})\b"


def _bounded(s: str) -> str:
    return s if len(s) <= MAX_VALUE else s[:MAX_VALUE] + "…"


def _path(s: str) -> str | None:
    s = s.rstrip().removesuffix(".")  # "... at path: C:\\x\\y.msi." ends a sentence
    return None if s in ("", "(null)") else _bounded(s)


def _quoted(s: str) -> str:
    """``'value'`` → ``value`` (numeric values are written without quotes)."""
    return _bounded(s[1:-1] if len(s) >= 2 and s[0] == s[-1] == "'" else s)


def _unclosed(s: str) -> str:
    """The text after an opening quote, without its closing quote (absent when the record was cut)."""
    return _bounded(s.removesuffix("'"))


# How a named group's text becomes its field (str when not listed; None: the field is left out).
_CONVERT: dict[str, Callable[[str], Any]] = {
    "result": hex32,
    "hresult": hex32,
    "exit_code": hex32,
    "windows_build": int,
    "package_count": int,
    "condition_result": lambda s: s == "true",
    "path": _path,
    "bundle_path": _path,
    "command_line": _unclosed,
    "arguments": _unclosed,
    "condition": _bounded,
    "value": _bounded,
    "quoted_value": _quoted,
}
_ALIAS = {"quoted_value": "value"}  # group name → field name, where one field has two shapes


def _rule(needle: str, pattern: str, flags: int = 0, **kw: Any) -> TextRule:
    return rule(needle, pattern, flags | re.M, **kw)


# The first rule giving a field wins, so the precise shapes come before the generic ones.
_RULES: tuple[TextRule, ...] = (
    # Burn v3.11.2.4516, Windows v10.0 (Build 19045: Service Pack 0), path: C:\...\setup.exe
    # Burn x86 v7.0.0-rc.2, Windows v10.0 x64 (Build 26100: Service Pack 0), path: C:\...\Redball-Setup.exe
    _rule(
        "burn ",
        r"^Burn (?:(?P<engine_arch>[A-Za-z0-9]+) )?v(?P<engine_version>\d[^,\s]*),"
        r"(?: Windows v(?P<windows_version>\d[\d.]*+)[^(\n]*\(Build (?P<windows_build>\d{1,9})[^)\n]*\),)?"
        r"(?: path: (?P<bundle_path>.+))?$",
    ),
    # Command Line: '-uninstall -quiet -burn.related.upgrade ... -log C:\...\bundle.log'
    _rule("command line: '", r"^Command Line: '(?P<command_line>.*)$"),
    # Condition 'NET8DesktopInstalled' evaluates to true.
    _rule("evaluates to", r"^Condition '(?P<condition>.*)' evaluates to (?P<condition_result>true|false)\b"),
    # Detected package: X, state: Present, cached: Complete   Detected package: X, feature: F, state: Local
    _rule(
        "detected package: ",
        rf"^Detected package: {_PKG}, (?:feature: (?P<feature>[^,\n]+), )?state: (?P<state>[^,\n]+)",
    ),
    _rule("detected package: ", r"^Detected package: .*?, cached: (?P<cached>[^,\n]+)"),
    # Planned package: X, state: Absent, default requested: Present, ba requested: Present, execute: Install, rollback: Uninstall, ...  # noqa: E501
    _rule(
        "planned package: ",
        rf"^Planned package: {_PKG}, state: (?P<state>[^,\n]+), "
        r"default requested: (?P<default_requested>[^,\n]+), ba requested: (?P<requested>[^,\n]+), "
        r"execute: (?P<execute>[^,\n]+), rollback: (?P<rollback>[^,\n]+)",
    ),
    # ..., cache: Yes, uncache: No, dependency: Register   (the end of i201, v3 and v4+)
    _rule(
        "uncache: ",
        r"\bcache: (?P<cache>[^,\n]+), uncache: (?P<uncache>[^,\n]+), dependency: (?P<dependency>[^,\n]+)",
    ),
    # Detected related bundle: {GUID}, type: Upgrade, ...   Planned related bundle: {GUID}, detect type: ...
    _rule(
        "related bundle: ",
        r"\brelated bundle: (?P<related_bundle>[^\s,]+?)\.?(?=[\s,]|$)"
        r"(?:, (?:detect )?type: (?P<relation_type>\w+))?",
    ),
    _rule(
        "planned related bundle: ",
        r"^Planned related bundle: .*?\bexecute: (?P<execute>[^,\n]+), rollback: (?P<rollback>[^,\n]+)",
    ),
    # Plan begin, 2 packages, action: Uninstall   Detect begin, 2 packages
    _rule(
        "begin, ",
        r"^(?:Plan|Detect) begin, (?P<package_count>\d{1,9}) packages(?:, action: (?P<action>\w+))?",
    ),
    # Applying execute package: X, action: Install, path: C:\...\X.msi, arguments: ' MSIFASTINSTALL="7" ...'
    _rule(
        "applying ",
        rf"^Applying (?P<phase>\w+) package: {_PKG}, action: (?P<action>\w+), path: (?P<path>.*?), "
        r"arguments: '(?P<arguments>.*)$",
    ),
    # Applying package: X, target: {GUID}, action: Install, path: ..., arguments: '...'   (patches, v3)
    _rule(
        "applying package: ",
        rf"^Applying package: {_PKG}, target: (?P<target>[^,\n]*), action: (?P<action>\w+), "
        r"path: (?P<path>.*?), arguments: '(?P<arguments>.*)$",
    ),
    _rule(
        "applying ",
        rf"^Applying (?:(?P<phase>\w+) )?package: {_PKG}, (?:target: [^,\n]*, )?action: (?P<action>\w+)",
    ),
    # Applied execute package: X, result: 0x80070643, restart: None
    _rule(
        "applied ",
        rf"^Applied (?P<phase>\w+) package: {_PKG}, result: {_HEX.format('result')}"
        r"(?:, restart: (?P<restart>\w+))?",
    ),
    # Skipped rollback of package: X, action: Uninstall, already: Absent
    _rule(
        "skipped rollback",
        rf"^Skipped rollback of package: {_PKG}, action: (?P<action>\w+)(?:, already: (?P<state>\w+))?",
        const={"phase": "rollback"},
    ),
    # Apply complete, result: 0x80070643, restart: None, ...   Detect/Plan/Cleanup complete, result: 0x0
    _rule(
        "complete, result: 0x",
        rf"\bcomplete, result: {_HEX.format('result')}(?:, restart: (?P<restart>\w+))?",
    ),
    # Exit code: 0x643, restarting: No   Shutting down, exit code: 0x0
    _rule(
        "exit code: 0x", rf"\bexit code: {_HEX.format('exit_code')}(?:, restarting: (?P<restart>\w+))?", re.I
    ),
    # Error 0x80070643: Failed to install MSI package.
    _rule("error 0x", rf"^Error {_HEX.format('hresult')}"),
    # ..., error: 0x80070057.   encountered error: 0x...   reason: 0x...   HRESULT 0x...
    _rule("0x", rf"\b(?:error|reason|hresult):? {_HEX.format('hresult')}", re.I),
    # Setting string variable 'X' to value 'Y'   Setting numeric variable 'X' to value 1   Initializing ...
    _rule(
        "variable '",
        r"^(?:Setting|Initializing) (?:string |numeric |version )?variable '(?P<variable>[^'\n]*)' "
        r"to value (?P<quoted_value>.*)$",
    ),
    _rule(
        "hidden variable '",
        r"^(?:Setting|Initializing) hidden variable '(?P<variable>[^'\n]*)'",
        const={"hidden": True},
    ),
    _rule("unsetting variable '", r"^Unsetting variable '(?P<variable>[^'\n]*)'", const={"unset": True}),
    # Variable: WixBundleLog_X = C:\...\Y_000_X.log   (the variable dump at the end, i410)
    _rule("variable: ", r"^Variable: (?P<variable>[^\s=]+) = ?(?P<value>.*)$"),
    # generic: Removing cached package: X, from path: ...   Acquiring package: X, payload: ...
    _rule("package: ", rf"\bpackage: {_PKG}"),
    # Removed dependency: {...} on package provider: {...}, package X
    _rule(", package ", r", package (?P<package>[^\s,]+?)\.?\s*$"),
    # Skipping dependency registration on package with no dependency providers: X
    _rule("no dependency providers: ", rf"no dependency providers: {_PKG}"),
    _rule("payload: ", r"\bpayload: (?P<payload>[^\s,]+?)\.?(?=[\s,]|$)"),
    # Removing cached package: X, from path: C:\...\   Verified existing payload: X at path: C:\...\X.msi.
    _rule(" path: ", r"\b(?:from|at) path: (?P<path>[^,\n]+)"),
    _rule("restart: ", r"\brestart: (?P<restart>\w+)"),
)


def message_fields(text: str) -> dict[str, Any]:
    """The fields the ``_RULES`` find in a Burn message (before the hidden-variable check)."""
    found: dict[str, Any] = {}
    apply(_RULES, text, _CONVERT, found, _ALIAS)
    return found


def parse_stamp(stamp: str) -> datetime | None:
    """``2026-03-13T15:31:46`` → naive local time, None when it is no valid date and time."""
    m = _STAMP.fullmatch(stamp.strip())
    if m is None:
        return None
    frac = (m[7] or "0").ljust(6, "0")[:6]
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), int(frac))  # noqa: DTZ001
    except ValueError:
        return None


def _failing(code: int | None) -> bool:
    """An HRESULT with the severity bit set."""
    return code is not None and bool(code & 0x80000000)


def _bad_exit(code: int | None) -> bool:
    """An exit code other than success / success with restart (0, 1641, 3010)."""
    return code is not None and code not in _EXIT_OK


@dataclass
class _Rec:
    """The physical lines of one record being read."""

    line: int
    offset: int
    head: re.Match[str] | None  # None: a damaged prefix
    parts: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    size: int = 0
    lines: int = 0
    cut: bool = False
    control: bool = False

    def add(self, text: str, raw: str) -> bool:
        """Append one physical line; True when this line made the record too long."""
        self.lines += 1
        if self.cut:
            return False
        room = MAX_RECORD - self.size
        if len(text) > room:
            self.parts.append(text[:room])
            self.raw.append(raw[: room + len(raw) - len(text)])
            self.size, self.cut = MAX_RECORD, True
            return True
        self.parts.append(text)
        self.raw.append(raw)
        self.size += len(text) + 1
        return False


@dataclass
class _Run:
    """What one engine run (``Burn v...`` to ``Exit code: ...``) said, for its summary."""

    fields: dict[str, Any] = field(default_factory=dict)
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    applying: str | None = None  # execute package applied and not yet reported
    failed: tuple[str, int | None, int] | None = None  # package, result, line
    last: Event | None = None
    records: int = 0

    def pkg(self, name: str) -> dict[str, Any] | None:
        """The summary entry of a package (None beyond ``MAX_PACKAGES``)."""
        if name not in self.packages:
            if len(self.packages) >= MAX_PACKAGES:
                return None
            self.packages[name] = {"package": name}
        return self.packages[name]

    def note(self, ev: Event) -> None:
        """Take what the summary needs from one record."""
        self.records += 1
        self.last = ev
        f, text, line = ev.fields, str(ev.fields.get("log_text", "")), ev.origin.line or 0
        s = self.fields
        for k in ("engine_version", "bundle_path", "command_line"):
            if k in f:
                s.setdefault(k, f[k])
        if f.get("variable") in _BUNDLE_VARS and f.get("value"):
            s[_BUNDLE_VARS[f["variable"]]] = f["value"]
        if text.startswith("Plan begin") and "action" in f:
            s["action"] = f["action"]
        if text.startswith("Apply complete") and "result" in f:
            s["apply_result"] = f["result"]
        if text.startswith("Exit code:") and "exit_code" in f:
            s["exit_code"] = f["exit_code"]
            s["restart"] = f.get("restart")
        if f.get("level") == "error":
            if "first_error_line" not in s:
                s["first_error_line"] = line
                s["first_error"] = ev.message[:300]
                if f.get("hresult"):
                    s["hresult"] = f["hresult"]
            if self.applying is not None and self.failed is None:  # an error while a package runs
                self.failed = (self.applying, None, line)
        if "log_package" in f and f.get("child_log"):
            p = self.pkg(f["log_package"])
            if p is not None:
                p["rollback_log" if f.get("log_kind") == "rollback" else "child_log"] = f["child_log"]
        name = f.get("package")
        if not isinstance(name, str) or not text.startswith(_LIFECYCLE):
            return
        p = self.pkg(name)
        if p is None:
            return
        if text.startswith("Detected package:") and "feature" not in f and "state" in f:
            p["detected"] = f["state"]
        elif text.startswith("Planned package:"):
            for k in ("execute", "rollback"):
                if k in f:
                    p[k] = f[k]
        elif text.startswith("Applying") and f.get("phase", "execute") == "execute":
            p["action"] = f.get("action")
            self.applying = name
        elif text.startswith("Applied non-vital"):  # failed, and the engine went on
            p["result"], p["vital"] = f.get("hresult"), False
        elif text.startswith("Applied") and "result" in f:
            if f.get("phase") == "rollback":
                p["rollback_result"] = f["result"]
                return
            p["result"], p["restart"], p["applied_line"] = f["result"], f.get("restart"), line
            self.applying = None
            # the first failing package; its Applied line beats an error line seen while it ran
            if _failing(f["result"]) and (self.failed is None or self.failed[:2] == (name, None)):
                self.failed = (name, f["result"], line)

    def summary(self, ctx: ParseContext, finished: bool) -> Event:
        s: dict[str, Any] = {k: self.fields.get(k) for k in _SUMMARY_HEAD}
        s["packages"] = list(self.packages.values())
        pkg, result, fline = self.failed if self.failed else (None, None, None)
        child = self.packages.get(pkg, {}).get("child_log") if pkg else None
        s.update(failed_package=pkg, failed_result=result, failed_line=fline, child_log=child)
        for k in ("apply_result", "first_error", "first_error_line", "hresult", "exit_code", "restart"):
            s[k] = self.fields.get(k)
        s["finished"] = finished
        apply_result, exit_code = s["apply_result"], s["exit_code"]
        failed = pkg is not None or _failing(apply_result) or _bad_exit(exit_code)
        code = None
        if failed:
            code = next(
                (c for c in (result, apply_result if _failing(apply_result) else None, s["hresult"]) if c),
                exit_code or None,
            )
        what = " ".join(str(x) for x in (s["bundle_name"] or "bundle", s["bundle_version"]) if x)
        engine = f" (Burn v{s['engine_version']})" if s["engine_version"] else ""
        msg = f"{what}{engine}" + (f" {s['action']}" if s["action"] else "") + ":"
        if pkg is not None:
            msg += f" package {pkg} failed" + (f" 0x{result:08X}" if result is not None else "")
            msg += ","
        if exit_code is None:
            msg += " no exit code (run not finished)"
        else:
            msg += f" exit code 0x{exit_code:X}" + (f" ({exit_code})" if exit_code > 9 else "")
        if child:
            msg += f"; package log {child}"
        last = self.last
        return Event(
            kind="burn:summary",
            origin=Origin(ctx.artifact, line=last.origin.line if last else None),
            time=last.time if last else None,
            local_time=last.local_time if last else None,
            utc_offset=last.utc_offset if last else None,
            severity=Severity.ERROR if failed else Severity.INFO,
            code=code,
            message=msg,
            fields=s,
        )


@dataclass
class _State:
    """Per file: the run being read and the hidden variables' names."""

    run: _Run = field(default_factory=_Run)
    hidden: set[str] = field(default_factory=set)


@register
class BurnParser(Parser):
    """WiX Burn bundle logs (``[PID:TID][time]i301: Applying execute package: ...``)."""

    name = "burn"
    description = "WiX Burn bootstrapper bundle logs (VC++/.NET redistributables, vendor setup.exe bundles)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        hits = len(_SNIFF.findall(text))
        if not hits:
            return 0.0
        lines = sum(1 for ln in text.splitlines()[:200] if ln.strip())
        if hits >= max(1, min(lines, 200) // 2):
            return 0.97 if _SNIFF_ENGINE.search(text) else 0.9
        return 0.5

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        st = _State()
        rec: _Rec | None = None
        stray: list[tuple[int, str]] = []  # the first lines of text before the first record
        stray_count = 0
        for lineno, offset, line in source.lines(ctx):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            m = _PREFIX.match(line)
            if m is not None or _DAMAGED.match(line):
                if rec is not None:
                    yield from self._finish(rec, ctx, st)
                elif stray_count:
                    self._stray(stray, stray_count, ctx)
                rec = _Rec(lineno, offset, m)
                if rec.add(m["text"] if m is not None else line, line):
                    ctx.warn(f"record longer than {MAX_RECORD:,} characters cut", lineno)
                continue
            if not line.strip():
                continue
            if rec is None:
                stray_count += 1
                if len(stray) < 3:
                    stray.append((lineno, line))
                continue
            if _CONTROL.search(line) and not rec.control:
                rec.control = True
                ctx.warn("control characters in a record's text (garbage in the log?)", lineno)
            if rec.add(line, line):
                ctx.warn(f"record longer than {MAX_RECORD:,} characters cut", rec.line)
        if rec is not None:
            yield from self._finish(rec, ctx, st)
        elif stray_count:
            self._stray(stray, stray_count, ctx)
        if st.run.records:
            yield from self._unfinished(st, ctx)

    @staticmethod
    def _stray(stray: list[tuple[int, str]], count: int, ctx: ParseContext) -> None:
        text = "\n".join(t for _, t in stray).strip()
        snippet = text[:80] + ("…" if len(text) > 80 else "")
        ctx.warn(f"text before the first record ({count} line(s)): {snippet!r}", stray[0][0])

    @staticmethod
    def _unfinished(st: _State, ctx: ParseContext) -> Iterator[Event]:
        """The summary of a run that has no ``Exit code`` line (the file ends, or a new run starts)."""
        last = st.run.last
        ctx.warn(
            "engine run without Burn's 'Exit code' line (log cut short, or the engine did not finish)",
            last.origin.line if last else None,
        )
        yield st.run.summary(ctx, finished=False)
        st.run = _Run()

    def _finish(self, rec: _Rec, ctx: ParseContext, st: _State) -> Iterator[Event]:
        """The event of one record, and the run's summary after its ``Exit code`` line."""
        ev = self._event(rec, ctx, st.hidden)
        if "engine_version" in ev.fields and "engine_version" in st.run.fields:
            yield from self._unfinished(st, ctx)  # a second run appended to the file
        st.run.note(ev)
        yield ev
        if ev.fields.get("exit_code") is not None and ev.message.startswith("Exit code:"):
            yield st.run.summary(ctx, finished=True)
            st.run = _Run()

    def _event(self, rec: _Rec, ctx: ParseContext, hidden: set[str]) -> Event:
        text = rec.parts[0] if len(rec.parts) == 1 else "\n".join(rec.parts)
        raw = rec.raw[0] if len(rec.raw) == 1 else "\n".join(rec.raw)
        m = rec.head
        fields: dict[str, Any] = {}
        local = None
        severity = Severity.INFO
        process = None
        if m is None:
            ctx.warn("damaged record prefix (cut or garbled): read as a record of its own", rec.line)
            fields.update(pid=None, tid=None, level=None, msg_id=None, damaged=True)
        else:
            pid, tid = int(m["pid"], 16), int(m["tid"], 16)
            process = Process(pid=pid, tid=tid)
            local = parse_stamp(m["stamp"])
            if local is None:
                ctx.warn(f"invalid date/time {m['stamp']!r}: record read without a time", rec.line)
            level = _LEVELS.get(m["level"])
            if level is None:
                ctx.warn(f"unknown level letter {m['level']!r}", rec.line)
            else:
                severity = level[1]
            fields.update(pid=pid, tid=tid, level=level[0] if level else None, msg_id=int(m["id"]))
        fields["log_text"] = text[:MAX_TEXT]
        fields["lines"] = rec.lines
        if m is not None:
            fields.update(message_fields(text))
            self._variable(fields, hidden)
        if rec.cut:
            fields["truncated"] = True
        result, exit_code = fields.get("result"), fields.get("exit_code")
        if _failing(result) or _bad_exit(exit_code):
            severity = Severity.ERROR
        code = fields.get("hresult") or result or exit_code or None
        if "\n" in text:
            message = " ".join(p for p in (ln.strip() for ln in text[:MAX_TEXT].splitlines()) if p)
        else:
            message = text[:MAX_TEXT].strip()
        return Event(
            kind="burn:line",
            origin=Origin(ctx.artifact, line=rec.line, offset=rec.offset, text=raw[:MAX_TEXT]),
            **ctx.times(local),
            severity=severity,
            process=process,
            code=code,
            message=message,
            fields=fields,
        )

    @staticmethod
    def _variable(fields: dict[str, Any], hidden: set[str]) -> None:
        """Drop hidden values; name the child logs ``WixBundleLog_<package>`` point at."""
        var = fields.get("variable")
        if not isinstance(var, str):
            return
        if fields.get("hidden") and len(hidden) < MAX_HIDDEN:
            hidden.add(var)
        if "value" not in fields:
            if fields.get("hidden") or fields.get("unset"):
                fields["value"] = None
            return
        value = str(fields["value"])
        if var in hidden or _OBSCURED in value:
            fields["value"], fields["hidden"] = None, True
            return
        child = _CHILD_LOG.fullmatch(var)
        if child is not None and value:
            fields["child_log"] = value
            fields["log_package"] = child[2]
            fields["log_kind"] = "rollback" if child[1] else "execute"
        elif var == "WixBundleLog" and value:
            fields["bundle_log"] = value
