"""Windows event log files (EVTX): System, Application, Setup, WindowsUpdateClient/Operational.

Where: ``%WINDIR%\\System32\\winevt\\Logs\\*.evtx``. Format: ``ElfFile\\0`` file header, 64 KiB
``ElfChnk\\0`` chunks, records (``2A 2A 00 00``) holding binary XML; times are UTC FILETIMEs.
Rendered messages are not stored, only the inserts (formats.md §8). Read with the Rust-backed
``evtx`` package (optional extra ``culprit[evtx]``; the choice and its numbers are in
docs/decisions.md). Without it the artifact gets one warning saying how to install it.

One event per record; ``origin.record`` = EventRecordID; ``time`` = TimeCreated (UTC). Fields of
every kind: ``provider``, ``event_id``, ``channel``, ``computer``, ``level`` (int), ``record_id``,
``data`` (named EventData/UserData values, a dict), ``inserts`` (unnamed ``<Data>`` values, a
list), ``user_data`` (the UserData element name, if any). ``process`` = Execution ProcessID/ThreadID.

Install-relevant records get a specific kind and canonical fields (formats.md §8 table):

``evtx:servicing``  Microsoft-Windows-Servicing 1-16: ``package``, ``kb``, ``hresult``, ``client``,
                    ``initial_state``, ``intended_state``, ``result`` (``initiated``/``success``/
                    ``failure``/``reboot-required``/None).
``evtx:wu-install`` WindowsUpdateClient 19/20/21/43/44: ``kb``, ``title``, ``update_guid``,
                    ``revision``, ``hresult``, ``result`` (``success``/``failure``/
                    ``restart-required``/``install-started``/``download-started``).
``evtx:wu``         other WindowsUpdateClient ids (25 scan failed, 31 download failed...): ``hresult``,
                    ``kb``/``title`` when present.
``evtx:msi``        MsiInstaller: ``product``, ``version``, ``language``, ``status`` (1033/1034/1035),
                    ``manufacturer``, ``product_code`` (from the binary data), ``error`` (117xx:
                    id - 10000), ``outcome`` (``success``/``failure``), ``text``, ``path`` (1040).
``evtx:scm``        Service Control Manager: ``service``, ``win32`` (``%%N`` inserts), and for 7045
                    ``path``, ``service_type``, ``start_type``, ``account``.
``evtx:app-crash``  Application Error 1000: ``process``, ``module``, ``module_version``,
                    ``module_path``, ``path`` (app), ``exception`` (int), ``fault_offset``, ``pid``.
``evtx:wer``        Windows Error Reporting 1001: ``event_name``, ``bucket``, ``params`` (P1-P10),
                    ``report_path``; APPCRASH adds ``process``/``module``/``exception``;
                    CbsPackageServicingFailure2 adds ``package``, ``kb``, ``version``, ``arch``,
                    ``hresult``, ``phase``, ``client``.
``evtx:record``     anything else.

``Event.code`` is the record's status (HRESULT unsigned, Win32 or MSI status).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 2000
MAX_BAD_IN_A_ROW = 5000  # a reader that keeps failing is stopped, not looped on
MISSING_LIBRARY = "EVTX support is not installed (pip install 'culprit[evtx]'); this event log was not read"
HEADER_SIZE = 4096  # file header block; then 64 KiB chunks
CHUNK_SIZE = 65536

_KB = re.compile(r"(?<![A-Za-z0-9])KB(\d{6,8})(?!\d)", re.I)  # "Package_for_KB4474419", "(KB5007040)"
_PCT = re.compile(r"^%%(\d+)$")
# Product: Microsoft Visual C++ 2022 X86 Minimum Runtime - 14.32.31326 -- Installation completed successfully.
_PRODUCT_MSG = re.compile(r"^(?P<word>[^:：\s]{1,20})[:：] ?(?P<product>.+?) -- (?P<rest>.*)$", re.S)

_SERVICING_RESULT = {1: "initiated", 2: "success", 3: "failure", 4: "reboot-required"}
_WU_RESULT = {19: "success", 20: "failure", 21: "restart-required", 43: "install-started",
              44: "download-started"}
_APP_ERROR_ORDER = ("AppName", "AppVersion", "AppTimeStamp", "ModuleName", "ModuleVersion", "ModuleTimeStamp",
                    "ExceptionCode", "FaultingOffset", "ProcessId", "ProcessCreationTime", "AppPath",
                    "ModulePath", "IntegratorReportId", "PackageFullName", "PackageRelativeAppId")
_LEVEL_SEVERITY = {1: Severity.ERROR, 2: Severity.ERROR, 3: Severity.WARNING, 5: Severity.DEBUG}


def _hexint(v: Any) -> int | None:
    """``0x80073d02`` / ``800f0984`` / ``-2147024891`` / 5 → unsigned int, else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v & 0xFFFFFFFF
    s = str(v).strip()
    try:
        if s.lower().startswith("0x"):
            return int(s, 16) & 0xFFFFFFFF
        if re.fullmatch(r"-?\d+", s):
            return int(s) & 0xFFFFFFFF
        if re.fullmatch(r"[0-9a-fA-F]{8}", s):
            return int(s, 16)
    except ValueError:
        return None
    return None


def _hex_only(v: Any) -> int | None:
    """A status written in hex without ``0x`` (WER P6 ``80070005``)."""
    s = str(v or "").strip().lower().removeprefix("0x")
    return int(s, 16) if re.fullmatch(r"[0-9a-f]{1,8}", s) else None


def _hex_pid(v: Any) -> int | None:
    """Application Error writes the process id in hex, with or without ``0x``."""
    if isinstance(v, int):
        return v
    try:
        return int(str(v).strip(), 16) if v not in (None, "") else None
    except ValueError:
        return None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        v = v.get("#text")
        if v is None:
            return None
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return str(v)


def _kb(*texts: Any) -> str | None:
    for t in texts:
        if t and (m := _KB.search(str(t))):
            return "KB" + m.group(1)
    return None


def _binary_guid(b: Any) -> str | None:
    """MsiInstaller puts the product code as ASCII hex in the binary data: ``7B3436...7D`` → ``{46...}``."""
    if not isinstance(b, str):
        return None
    try:
        raw = bytes.fromhex(b[:76]).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return raw if re.fullmatch(r"\{[0-9A-Fa-f-]{36}\}", raw) else None


def _time(s: Any) -> datetime | None:
    if not isinstance(s, str):
        return None
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@register
class EvtxParser(Parser):
    name = "evtx"
    description = "Windows event log (.evtx): Setup, System, Application, WindowsUpdateClient"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        if source.head.startswith(b"ElfFile\x00"):
            return 0.95
        if source.head.startswith(b"ElfChnk\x00"):
            return 0.6  # a bare chunk (carved); the reader may still cope
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        try:
            from evtx import PyEvtxParser
        except ImportError:
            ctx.warn(MISSING_LIBRARY)
            return
        try:
            reader = PyEvtxParser(str(source.path))
            records = reader.records_json()
        except Exception as e:  # header unreadable: not an EVTX file we can use
            ctx.warn(f"not a readable EVTX file: {type(e).__name__}: {str(e)[:200]}")
            return
        size = source.size
        if size < HEADER_SIZE + CHUNK_SIZE or (size - HEADER_SIZE) % CHUNK_SIZE:
            ctx.warn(f"file size {size:,} is not the 4 KiB header plus whole 64 KiB chunks: "
                     "truncated or carved")
        bad_in_a_row = 0
        index = 0
        while True:
            try:
                rec = next(records)
            except StopIteration:
                if index == 0:
                    ctx.warn("no EVTX record could be read from this file")
                return
            except Exception as e:
                bad_in_a_row += 1
                ctx.warn(f"EVTX record after #{index} could not be rendered: {str(e).splitlines()[0][:200]}")
                if bad_in_a_row >= MAX_BAD_IN_A_ROW:
                    ctx.warn("too many unreadable EVTX records in a row; reading stopped")
                    return
                continue
            bad_in_a_row = 0
            index += 1
            try:
                ev = self.record_event(rec, ctx)
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                rid = rec.get("event_record_id")
                ctx.warn(f"EVTX record {rid} has an unexpected shape: {type(e).__name__}: {e}")
                continue
            if ev is not None:
                yield ev

    # --- one record -------------------------------------------------------------------------

    def record_event(self, rec: dict[str, Any], ctx: ParseContext) -> Event | None:
        """Turn one record as the ``evtx`` package gives it into an Event.

        Args:
            rec: ``{"event_record_id": int, "timestamp": str, "data": "<the record as JSON>"}``.
            ctx: the artifact's context (a record without ``<Event>`` becomes a warning).

        Returns:
            The event, or None when the record has no ``<Event>`` element.
        """
        doc = json.loads(rec["data"])
        event = doc.get("Event") if isinstance(doc, dict) else None
        if not isinstance(event, dict):
            ctx.warn(f"EVTX record {rec.get('event_record_id')} has no <Event> element")
            return None
        system = event.get("System") or {}
        prov = (system.get("Provider") or {}).get("#attributes") or {}
        provider = prov.get("Name") or prov.get("EventSourceName") or ""
        eid = system.get("EventID")
        if isinstance(eid, dict):
            eid = eid.get("#text")
        event_id = int(eid) if eid is not None and str(eid).lstrip("-").isdigit() else None
        rid = system.get("EventRecordID", rec.get("event_record_id"))
        record_id = int(rid) if rid is not None else None
        level = system.get("Level")
        level = int(level) if isinstance(level, int) or (isinstance(level, str) and level.isdigit()) else None
        tc = (system.get("TimeCreated") or {}).get("#attributes") or {}
        when = _time(tc.get("SystemTime")) or _time(rec.get("timestamp"))
        ex = (system.get("Execution") or {}).get("#attributes") or {}
        pid, tid = ex.get("ProcessID"), ex.get("ThreadID")
        process = None
        if isinstance(pid, int):
            process = Process(pid=pid, tid=tid if isinstance(tid, int) else None)

        data, inserts, binary, user_data = self._payload(event)
        fields: dict[str, Any] = {
            "provider": provider, "event_id": event_id, "channel": system.get("Channel"),
            "computer": system.get("Computer"), "level": level, "record_id": record_id,
            "data": data, "inserts": inserts,
        }
        if user_data:
            fields["user_data"] = user_data
        kind, code, sev = "evtx:record", None, _LEVEL_SEVERITY.get(level or 4, Severity.INFO)
        special = self._special(provider, event_id, data, inserts, binary)
        if special is not None:
            kind, extra, code, sev2 = special
            fields.update(extra)
            sev = max(sev, sev2)
        summary = self._summary(fields, data, inserts)
        return Event(
            kind=kind,
            origin=Origin(ctx.artifact, record=record_id, text=summary),
            time=when,
            severity=sev,
            process=process,
            code=code,
            message=summary,
            fields=fields,
        )

    @staticmethod
    def _payload(event: dict[str, Any]) -> tuple[dict[str, Any], list[str], Any, str | None]:
        data: dict[str, Any] = {}
        inserts: list[str] = []
        binary: Any = None
        user_data: str | None = None
        ed = event.get("EventData")
        if isinstance(ed, dict):
            for k, v in ed.items():
                if k == "#attributes":
                    continue
                if k == "Data":
                    t = v.get("#text") if isinstance(v, dict) else v
                    if isinstance(t, list):
                        inserts.extend("" if x is None else str(x) for x in t)
                    elif t is not None:
                        inserts.append(str(t))
                elif k == "Binary":
                    binary = v
                else:
                    data[k] = v
        elif isinstance(ed, (str, int)):
            inserts.append(str(ed))
        ud = event.get("UserData")
        if isinstance(ud, dict):
            for k, v in ud.items():
                if k == "#attributes":
                    continue
                user_data = k
                if isinstance(v, dict):
                    data.update({kk: vv for kk, vv in v.items() if kk != "#attributes"})
                else:
                    data[k] = v
        return data, inserts, binary, user_data

    def _special(
        self, provider: str, eid: int | None, data: dict[str, Any], inserts: list[str], binary: Any
    ) -> tuple[str, dict[str, Any], int | None, Severity] | None:
        if eid is None:
            return None
        p = provider.lower()
        if p == "microsoft-windows-servicing":
            return self._servicing(eid, data)
        if p == "microsoft-windows-windowsupdateclient":
            return self._wu(eid, data)
        if p == "msiinstaller":
            return self._msi(eid, data, inserts, binary)
        if p == "service control manager":
            return self._scm(eid, data, inserts)
        if p == "application error" and eid == 1000:
            return self._app_crash(data, inserts)
        if p == "windows error reporting" and eid == 1001:
            return self._wer(data, inserts)
        return None

    @staticmethod
    def _servicing(eid: int, d: dict[str, Any]) -> tuple[str, dict[str, Any], int | None, Severity]:
        package = _text(d.get("PackageIdentifier"))
        hr = _hexint(d.get("ErrorCode"))
        f: dict[str, Any] = {
            "package": package, "kb": _kb(package), "hresult": hr, "client": _text(d.get("Client")),
            "initial_state": _text(d.get("InitialPackageStateTextized") or d.get("InitialPackageState")),
            "intended_state": _text(d.get("IntendedPackageStateTextized") or d.get("IntendedPackageState")),
            "result": _SERVICING_RESULT.get(eid),
        }
        if eid == 2 and hr:  # "changed" with a failure code
            f["result"] = "failure"
        sev = Severity.ERROR if f["result"] == "failure" or hr else Severity.INFO
        return "evtx:servicing", f, hr, sev

    @staticmethod
    def _wu(eid: int, d: dict[str, Any]) -> tuple[str, dict[str, Any], int | None, Severity]:
        title = _text(d.get("updateTitle"))
        hr = _hexint(d.get("errorCode"))
        f: dict[str, Any] = {"kb": _kb(title), "title": title, "update_guid": _text(d.get("updateGuid")),
                             "revision": d.get("updateRevisionNumber"), "hresult": hr}
        if eid in _WU_RESULT:
            f["result"] = _WU_RESULT[eid]
            sev = Severity.ERROR if eid == 20 else Severity.INFO
            return "evtx:wu-install", f, hr, sev
        return "evtx:wu", f, hr, Severity.ERROR if hr else Severity.INFO

    @staticmethod
    def _msi(
        eid: int, d: dict[str, Any], ins: list[str], binary: Any
    ) -> tuple[str, dict[str, Any], int | None, Severity]:
        def at(i: int) -> str | None:
            v = ins[i] if i < len(ins) else None
            return None if v in (None, "", "(NULL)") else v

        f: dict[str, Any] = {"product_code": _binary_guid(binary)}
        code: int | None = None
        sev = Severity.INFO
        if eid in (1033, 1034, 1035, 1036, 1037, 1038):
            status = at(3)
            f.update(product=at(0), version=at(1), language=_hexint(at(2)) if at(2) else None,
                     status=int(status) if status and status.lstrip("-").isdigit() else None,
                     manufacturer=at(4))
            code = f["status"]
            if code not in (None, 0, 1641, 3010):
                sev = Severity.ERROR
        elif 11000 <= eid < 12000:
            text = at(0) or ""
            f["error"] = eid - 10000
            f["text"] = text[:MAX_TEXT]
            m = _PRODUCT_MSG.match(text)
            if m:
                f["product"] = m["product"]
            low = text.lower()
            f["outcome"] = ("failure" if eid == 11708 or "failed" in low or "失败" in low
                            else "success" if eid == 11707 else None)
            code = f["error"]
            if f["outcome"] == "failure":
                sev = Severity.ERROR
        elif eid in (1040, 1042):
            f.update(path=at(0), pid=int(ins[1]) if len(ins) > 1 and ins[1].isdigit() else None)
        return "evtx:msi", f, code, sev

    @staticmethod
    def _scm(eid: int, d: dict[str, Any], ins: list[str]) -> tuple[str, dict[str, Any], int | None, Severity]:
        f: dict[str, Any] = {"service": _text(d.get("ServiceName") or d.get("param1"))}
        code = None
        for k in ("param2", "param3", "param4"):
            m = _PCT.match(str(d.get(k, "")))
            if m:
                f["win32"] = code = int(m.group(1))
                break
        if eid == 7045:
            f.update(path=_text(d.get("ImagePath")), service_type=_text(d.get("ServiceType")),
                     start_type=_text(d.get("StartType")), account=_text(d.get("AccountName")))
        sev = Severity.ERROR if eid in (7000, 7009, 7023, 7024, 7031, 7034) else Severity.INFO
        return "evtx:scm", f, code, sev

    @staticmethod
    def _app_crash(d: dict[str, Any], ins: list[str]) -> tuple[str, dict[str, Any], int | None, Severity]:
        vals = dict(d) if "AppName" in d else {k: v for k, v in zip(_APP_ERROR_ORDER, ins, strict=False)}
        exc = _hex_only(vals.get("ExceptionCode"))  # always hex: c0000005, 80000003
        pid = vals.get("ProcessId")
        f = {
            "process": _text(vals.get("AppName")), "module": _text(vals.get("ModuleName")),
            "module_version": _text(vals.get("ModuleVersion")), "module_path": _text(vals.get("ModulePath")),
            "path": _text(vals.get("AppPath")), "exception": exc,
            "fault_offset": _text(vals.get("FaultingOffset")),
            "pid": _hex_pid(pid),
        }
        return "evtx:app-crash", f, exc, Severity.ERROR

    @staticmethod
    def _wer(d: dict[str, Any], ins: list[str]) -> tuple[str, dict[str, Any], int | None, Severity]:
        def at(i: int) -> str:
            return ins[i] if i < len(ins) and ins[i] is not None else ""

        params = [at(i) for i in range(5, 15)]
        f: dict[str, Any] = {"bucket": at(0) or None, "event_name": at(2) or None, "params": params,
                             "report_path": at(16) or None}
        code = None
        name = (f["event_name"] or "").lower()
        if name in ("appcrash", "bex", "bex64", "apphangb1"):
            f.update(process=params[0] or None, module=params[3] or None, exception=_hex_only(params[6]))
            code = f["exception"]
        elif name.startswith("cbspackageservicingfailure"):
            hr = _hex_only(params[5])
            f.update(package=params[1] or None, kb=_kb(params[1]), version=params[2] or None,
                     arch=params[3] or None, hresult=hr, phase=params[6] or None, client=params[9] or None)
            code = hr
        sev = Severity.ERROR if code else Severity.INFO
        return "evtx:wer", f, code, sev

    @staticmethod
    def _summary(fields: dict[str, Any], data: dict[str, Any], inserts: list[str]) -> str:
        head = f"{fields.get('channel') or '?'}/{fields.get('provider')} {fields.get('event_id')}"
        if data:
            body = "; ".join(f"{k}={v if isinstance(v, (int, float)) else _text(v)}" for k, v in data.items())
        else:
            body = " | ".join(x for x in inserts if x)
        s = f"{head}: {body}" if body else head
        s = " ".join(s.split())
        return s[:MAX_TEXT]
