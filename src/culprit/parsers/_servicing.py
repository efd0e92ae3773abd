"""Helpers shared by the servicing text parsers (CBS, DISM, SetupAPI, Windows Update, INF).

Nothing here is a parser: these are the small decoders every servicing log needs — status
codes written as ``[HRESULT = 0x80070005 - E_ACCESSDENIED]``, CBS session ids (a FILETIME
written as ``high_low`` decimals), package identities (``name~token~arch~lang~version``),
package state numbers, cached local-time parsing, and :func:`pieces`: the decoded text of a
whole log in large pieces cut at record boundaries (line-by-line Python is too slow for
multi-hundred-MB logs, so the section-based parsers run compiled patterns over pieces of a
few MiB).

References: ../shared/docs/formats.md §1 (CBS), §3 (DISM), §10 (error codes); the CBS package
state values are those of ``...\\Component Based Servicing\\Packages\\<pkg>\\CurrentState``.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from culprit.parsers.base import ParseContext, Source

# Absent 0x00 ... Permanent 0x80 (formats.md §1).
PACKAGE_STATES: dict[int, str] = {
    0x00: "Absent",
    0x05: "Uninstall Pending",
    0x10: "Resolving",
    0x20: "Resolved",
    0x30: "Staging",
    0x40: "Staged",
    0x50: "Superseded",
    0x60: "Install Pending",
    0x65: "Partially Installed",
    0x70: "Installed",
    0x80: "Permanent",
}

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

# [HRESULT = 0x80070005 - E_ACCESSDENIED]   [HRESULT = 0x800f080d]
_HRESULT_BRACKET = re.compile(r"\[HRESULT = (0x[0-9A-Fa-f]{1,8})(?: - ([A-Za-z_][\w]*))?\]")
# hr: 0x800705aa   gle=0xd000042a   status: 0x80070005   HRESULT=800F0922   (hr:0x800f0922)
_CODE_FORMS = re.compile(
    r"(?:\bhr: ?|\bgle=|\bstatus: |\bHRESULT=(?:0x)?|\bhr ?= ?(?:0x)?|Recording result: |failure status: )"
    r"(0x[0-9A-Fa-f]{1,8}|[0-9A-Fa-f]{8})\b"
)
# Package_for_KB4474419~31bf3856ad364e35~amd64~~6.1.3.2
# OpenSSH-Server-Package~31bf3856ad364e35~amd64~~10.0.17763.1
_PACKAGE = re.compile(r"(?<![\w.\-])([A-Za-z][\w.\-]*~[0-9a-fA-F]{16}~(\w*)~([\w\-]*)~([\d.]+))")
_KB = re.compile(r"(?<![A-Za-z0-9])KB(\d{6,8})(?!\d)", re.I)
_KB_IN_NAME = re.compile(r"KB(\d{6,8})(?!\d)", re.I)


def hex_code(text: str) -> int:
    """``0x80070005`` / ``80070005`` → 0x80070005 as an unsigned 32-bit int."""
    return int(text, 16) & 0xFFFFFFFF


def find_code(text: str) -> tuple[int | None, str | None]:
    """The status code a servicing message carries and its symbol as written.

    The bracketed ``[HRESULT = 0x... - SYMBOL]`` form wins; otherwise the first ``hr:``, ``gle=``,
    ``status:``, ``HRESULT=`` or ``Recording result:`` code.

    Returns:
        ``(code, symbol)``; ``(None, None)`` when the text has no code.
    """
    m = _HRESULT_BRACKET.search(text)
    if m:
        return hex_code(m.group(1)), m.group(2)
    m = _CODE_FORMS.search(text)
    if m:
        return hex_code(m.group(1)), None
    return None, None


def session_time(session: str) -> datetime | None:
    """The UTC time encoded in a CBS session id ``<high>_<low>`` (a FILETIME in decimal halves).

    ``30546173_4261722401`` → 2016-09-27 20:30:31 UTC. Returns None for ids that are no FILETIME.
    """
    high, sep, low = session.partition("_")
    if not sep or not high.isdigit() or not low.isdigit():
        return None
    ft = (int(high) << 32) | int(low)
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=ft // 10)
    except OverflowError:
        return None


def package_fields(text: str) -> dict[str, Any]:
    """Package identity fields of the first package named in ``text``.

    Returns:
        ``{"package", "arch", "version", "kb"}`` (``kb`` like ``KB4474419`` when the name has one),
        or an empty dict.
    """
    if "~" not in text:  # every package identity has its ~ separators: skip the regex otherwise
        return {}
    m = _PACKAGE.search(text)
    if not m:
        return {}
    d: dict[str, Any] = {"package": m.group(1), "arch": m.group(2) or None, "version": m.group(4)}
    kb = _KB_IN_NAME.search(m.group(1))
    if kb:
        d["kb"] = "KB" + kb.group(1)
    return d


def find_kb(text: str) -> str | None:
    """The first ``KBnnnnnnn`` in free text (``... (KB4474419)``), normalised to upper case."""
    m = _KB.search(text)
    return "KB" + m.group(1) if m else None


def state_name(value: int) -> str:
    """CBS package state number → name (``112`` → ``Installed``); unknown ones as hex."""
    return PACKAGE_STATES.get(value, f"0x{value:x}")


@lru_cache(maxsize=4096)
def local_stamp(stamp: str) -> datetime | None:
    """``2024-09-03 10:30:41`` (or with ``/`` and a ``.mmm`` fraction) → naive local datetime.

    Cached: servicing logs repeat the same second on many lines.
    """
    try:
        y, mo, d = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
        h, mi, s = int(stamp[11:13]), int(stamp[14:16]), int(stamp[17:19])
        us = 0
        if len(stamp) > 20 and stamp[19] in ".:,":
            frac = stamp[20:]
            if frac.isdigit():
                us = int(frac.ljust(6, "0")[:6])
        return datetime(y, mo, d, h, mi, s, us)  # noqa: DTZ001 - naive local time by design
    except ValueError:
        return None


def offset_minutes(local: datetime, utc: datetime) -> int:
    """Minutes east of UTC proved by one (local, UTC) pair of the same instant, to the minute."""
    delta = local - utc.replace(tzinfo=None)
    return round(delta.total_seconds() / 60.0)


def printable_ratio_bad(text: str) -> bool:
    """True when a decoded line is mostly control characters or U+FFFD (binary garbage)."""
    if not text:
        return False
    bad = sum(1 for ch in text if (ch < " " and ch not in "\t") or ch == "\ufffd")
    return bad * 10 > len(text)


# --- decoded text in large pieces ---------------------------------------------------------------

READ = 4 << 20
MAX_PIECE = 64 << 20  # a piece with no record start this big is cut anyway
MAX_LINE = 1 << 20
_CTRL_BYTES = bytes([*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BAD = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def pieces(
    source: Source, ctx: ParseContext, boundary: str, keep_cr: bool = False
) -> Iterator[tuple[int, str]]:
    """Yield ``(first_line_number, text)`` pieces of ``source``, each ending with a full line.

    Args:
        source: the artifact.
        ctx: where decoding problems and over-long lines are reported.
        boundary: a literal that starts a record at the beginning of a line (``">>>  ["``);
            pieces are cut just before the last such line of the text read so far.
        keep_cr: leave ``\\r\\n`` line ends as they are (the caller copes with a trailing ``\\r``;
            saves a pass over the text).

    Text has ``\\n`` line ends (``\\r\\n`` normalised unless ``keep_cr``), no BOM, over-long lines cut.
    """
    enc = source.encoding
    dec = codecs.getincrementaldecoder(enc.name)(errors="replace")
    needle = "\n" + boundary
    carry = ""
    lineno = 1
    ctrl = False  # control bytes read since the last piece (8-bit encodings; checked on bytes: fast)
    with source.open() as fp:
        fp.seek(enc.bom)
        while True:
            data = fp.read(READ)
            final = not data
            if not ctrl and data and not enc.wide:
                ctrl = len(data.translate(None, _CTRL_BYTES)) != len(data)
            text = dec.decode(data, final)
            buf = carry + text if carry else text
            if not keep_cr:
                buf = buf.replace("\r\n", "\n")
            if final:
                cut = len(buf)
            else:
                cut = buf.rfind(needle) + 1
                if cut <= 0:
                    if len(buf) < MAX_PIECE:
                        carry = buf
                        continue
                    cut = buf.rfind("\n") + 1 or len(buf)
            piece, carry = buf[:cut], buf[cut:]
            if piece:
                suspect = enc.wide or ctrl or "\ufffd" in piece
                ctrl = ctrl and bool(carry)  # the bytes may sit in the part carried to the next piece
                piece = _clean(piece, lineno, ctx, enc.label, suspect)
                yield lineno, piece
                lineno += piece.count("\n")
            if final:
                return


def _has_long_line(piece: str) -> bool:
    """True if a line is longer than MAX_LINE: such a line covers a whole aligned half-window."""
    half = MAX_LINE // 2
    return any(piece.find("\n", pos, pos + half) < 0 for pos in range(0, len(piece) - half + 1, half))


def _clean(piece: str, lineno: int, ctx: ParseContext, label: str, suspect: bool = True) -> str:
    """Report undecodable bytes and binary garbage per line; cut over-long lines.

    ``suspect`` False says the piece is known to hold neither (skips a regex pass over it).
    """
    if suspect and _BAD.search(piece):
        prev, line = 0, lineno
        m = _BAD.search(piece)
        while m:
            line += piece.count("\n", prev, m.start())
            prev = m.start()
            what = f"bytes not valid {label} replaced" if m.group() == "\ufffd" else "binary data in line"
            ctx.warn(what, line)
            nl = piece.find("\n", m.start())
            if nl < 0:
                break
            m = _BAD.search(piece, nl)
    if len(piece) > MAX_LINE and _has_long_line(piece):
        out = []
        for i, ln in enumerate(piece.split("\n")):
            if len(ln) > MAX_LINE:
                ctx.warn(f"line longer than {MAX_LINE:,} characters cut ({len(ln):,})", lineno + i)
                ln = ln[:MAX_LINE]
            out.append(ln)
        piece = "\n".join(out)
    return piece


# --- CBS/CSI messages (CBS.log, and the same lines inside DISM.log) ------------------------------

# 00000001@2024/9/3:02:15:22.287 WcpInitialize (wcp.dll version 0.0.0.6) called ...
_CSI = re.compile(r"([0-9a-f]{8})(?:@(\d{4})/(\d{1,2})/(\d{1,2}):(\d\d):(\d\d):(\d\d)\.(\d{3}))?\s(.*)", re.S)
# (F) STATUS_REQUEST_OUT_OF_SEQUENCE #785758# from CCSDirectTransaction::PerformChangeAnalysis(...)[gle=0xd000042a]  # noqa: E501
_CSI_F = re.compile(
    r"\(F\) (\S+)(?: #(\d+)#)?(?: (?:from|originated in function) (.*?))?\s*(?:\[gle=(0x[0-9a-fA-F]+)\])?\s*$"
)
# Session: 30546173_4261722401 initialized by client WindowsUpdateAgent.
# Session: 31088214_2841932210 initialized by client DISM Package Manager Provider, external staging directory: (null)  # noqa: E501
_SESSION_INIT = re.compile(r"Session: (\d+_\d+) initialized by client ([^,]+?)\.?(?:,|$)")
# Session: 31128999_1337659839 finalized. Reboot required: yes [HRESULT = 0x00000000 - S_OK]
_SESSION_FIN = re.compile(r"Session: (\d+_\d+) finalized\.(?: Reboot required: (yes|no))?", re.I)
# INSTALL index: 0, phase: 1, result 5, inf: cpu.inf
_DRIVER_OP = re.compile(r"(\w+) index: (\d+), phase: (\d+), result (\d+), inf: (\S+)")
# Doqe: Recording result: 0x80070005, for Inf: cpu.inf
_DOQE_RESULT = re.compile(r"Recording result: (0x[0-9A-Fa-f]+), for Inf: (\S+)")
# Doqe: Driver package: C:\Windows\winsxs\amd64_cpu.inf_31bf..._none_4f2e...\cpu.inf
_DOQE_PACKAGE = re.compile(r"Driver package: (.+\\([^\\]+\.inf))\s*$", re.I)
# Exec: Processing complete.  Session(Stack): 31128999_1337659839, Package: Package_for_KB... [HRESULT = ...]
_EXEC_ACTION = re.compile(r"Exec: (.+?)(?:\.\s|:\s|\.$|,\s|$)")
_KV = re.compile(
    r"\b(Package|Update|InstallDeployment|Client|Session(?:\(Stack\))?): ([^,\[]+?)\s*(?=,|\[|$)"
)
# WER: Generating failure report for package: <pkg>, status: 0x80070308, failure source: Execute, start state:
# Staged, target state: Installed, client id: WindowsUpdateAgent
_WER_KV = re.compile(r"(status|failure source|start state|target state|client id): ([^,]+?)\s*(?:,|$)")
# Reporting package change for package: <pkg>, current: Staged, pending: Default, start: Staged, ...
_PKG_KV = re.compile(
    r"\b(current|pending|start|applicable|target|limit|failure source|client id|status|ApplicableState"
    r"|CurrentState|applicable state|state): ?([^,]+?)\s*(?:,|$)"
)
_ROLLED_BACK = re.compile(r"rolled back to state: (\w[\w ]*?)\.?$")


def classify(comp: str, msg: str, cont: list[str] | None = None) -> tuple[str, dict[str, Any], int | None]:
    """Decide the kind of one CBS/CSI message and decode its fields.

    Args:
        comp: the component column (``CBS``, ``CSI``, ``DISM``...).
        msg: the message text (column 50 on).
        cont: continuation lines of the record, if any.

    Returns:
        ``(kind, fields, code)`` — ``code`` is the record's main status code or None.
    """
    fields: dict[str, Any] = {}
    body = msg
    if comp == "CSI":
        cm = _CSI.match(msg)
        if cm:
            fields["csi_seq"] = int(cm.group(1), 16)
            if cm.group(2):
                y, mo, d, h, mi, sec = (int(cm.group(i)) for i in range(2, 8))
                with contextlib.suppress(ValueError):
                    fields["csi_time"] = datetime(y, mo, d, h, mi, sec, int(cm.group(8)) * 1000, tzinfo=UTC)
            body = cm.group(9)
    code, symbol = find_code(body if not cont else body + " " + " ".join(cont))
    if code is not None:
        fields["hresult"] = code
        if symbol:
            fields["symbol"] = symbol
    fields.update(package_fields(body))
    kind = "cbs:line"

    if comp == "CSI" and body.startswith("(F)"):
        kind = "cbs:csi_failure"
        # the frame's [gle=0x...] is sometimes wrapped onto a continuation line
        fm = _CSI_F.match(body if not cont else body + " " + " ".join(c.strip() for c in cont))
        if fm:
            fields["symbol"] = fm.group(1)
            if fm.group(2):
                fields["correlation"] = int(fm.group(2))
            if fm.group(3):
                fields["function"] = fm.group(3)
            if fm.group(4):
                fields["gle"] = hex_code(fm.group(4))
                code = fields["gle"]
                fields.pop("hresult", None)
    elif "TrustedInstaller" in body and body.startswith(
        ("Starting TrustedInstaller", "Ending TrustedInstaller")
    ):
        kind = "cbs:run"
        fields["step"] = body.rstrip(".")
        fields["boundary"] = (
            "start"
            if body.startswith("Starting TrustedInstaller initialization")
            else "end"
            if body.startswith("Ending TrustedInstaller finalization")
            else None
        )
    elif body.startswith("Session: "):
        kind = "cbs:session"
        sm = _SESSION_INIT.match(body)
        fm2 = None if sm else _SESSION_FIN.match(body)
        if sm:
            fields.update(session=sm.group(1), action="initialized", client=sm.group(2))
        elif fm2:
            fields.update(session=fm2.group(1), action="finalized")
            if fm2.group(2):
                fields["reboot_required"] = fm2.group(2).lower() == "yes"
        else:
            fields["session"] = body.split()[1]
        st = session_time(fields["session"])
        if st is not None:
            fields["session_time"] = st
    elif body.startswith("Exec: "):
        kind = "cbs:exec"
        am = _EXEC_ACTION.match(body)
        if am:
            fields["action"] = am.group(1).strip()
        _kv_fields(body, fields)
    elif body.startswith("Perf: "):
        kind = "cbs:perf"
        phase = body[6:].strip().rstrip(".")
        fields["phase"] = phase
        last = phase.rsplit(" ", 1)[-1].lower()
        if last in ("started", "ended", "complete", "completed"):
            fields["state"] = last
    elif body.startswith(("Doqe", "DriverUpdate")) or _DRIVER_OP.match(body):
        kind = "cbs:driver"
        dm = _DRIVER_OP.match(body)
        rm = _DOQE_RESULT.search(body)
        pm = _DOQE_PACKAGE.search(body)
        if dm:
            fields.update(
                operation=dm.group(1),
                index=int(dm.group(2)),
                phase=int(dm.group(3)),
                win32=int(dm.group(4)),
                inf=dm.group(5),
            )
            code = fields["win32"]
        elif rm:
            fields.update(hresult=hex_code(rm.group(1)), inf=rm.group(2))
        elif pm:
            fields.update(path=pm.group(1), inf=pm.group(2))
    elif body.startswith(("Startup", "Shtd: ", "NonStart: ")):
        kind = "cbs:startup"
        fields["stage"] = body.split(":", 1)[0] if ":" in body[:10] else "Startup"
        low = body.lower()
        fields["failure"] = "fail" in low
        fields["rollback"] = "rolling back" in low or "rolled back" in low or "rollback" in low
        rb = _ROLLED_BACK.search(body)
        if rb:
            fields["state"] = rb.group(1)
    elif body.startswith("WER: "):
        kind = "cbs:wer"
        for k, v in _WER_KV.findall(body):
            _set_kv(fields, k, v)
    elif body.startswith(("Reporting package", "Read out cached package", "Appl: ", "Plan: ")):
        kind = "cbs:package"
        for k, v in _PKG_KV.findall(body):
            _set_kv(fields, k, v)
        _kv_fields(body, fields)
    if code is None:
        code = fields.get("hresult")
    return kind, fields, code


def _kv_fields(body: str, fields: dict[str, Any]) -> None:
    for k, v in _KV.findall(body):
        if k == "Update":
            fields["update"] = v
        elif k == "InstallDeployment":
            fields["deployment"] = v
        elif k == "Client":
            fields["client"] = v
        elif k.startswith("Session"):
            fields["session"] = v
            st = session_time(v)
            if st is not None:
                fields["session_time"] = st


_STATE_KEYS = {
    "current": "current_state",
    "CurrentState": "current_state",
    "pending": "pending_state",
    "start": "start_state",
    "start state": "start_state",
    "applicable": "applicable_state",
    "ApplicableState": "applicable_state",
    "applicable state": "applicable_state",
    "target": "target_state",
    "target state": "target_state",
    "limit": "limit_state",
    "state": "state",
}


def _set_kv(fields: dict[str, Any], key: str, value: str) -> None:
    value = value.strip()
    if key in _STATE_KEYS:
        fields[_STATE_KEYS[key]] = state_name(int(value)) if value.isdigit() else value
    elif key == "status":
        try:
            fields["hresult"] = hex_code(value)
        except ValueError:
            fields["status"] = value
    elif key == "failure source":
        fields["failure_source"] = value
    elif key == "client id":
        fields["client"] = value


# --- time zone evidence ------------------------------------------------------------------------

# 2024-09-03 10:15:22, Info                  CSI    00000001@2024/9/3:02:15:22.287 WcpInitialize ...
_CSI_PAIR_B = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), \w+ +CSI +[0-9a-f]{8}@(\d{4})/(\d{1,2})/(\d{1,2}):(\d\d):(\d\d):(\d\d)"  # noqa: E501
)
# 2024-09-03 10:16:40, Info                  CBS    Session: 31128999_1337659839 initialized by client ...
_SESSION_PAIR_B = re.compile(rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), \w+ +CBS +Session: (\d+_\d+) initialized")
MAX_PAIRS = 25
MAX_OFFSET = 14 * 60  # no time zone is further from UTC


def csi_offsets(source: Source, limit_bytes: int = 16 << 20) -> Iterator[int]:
    """UTC offsets proved by a CBS-format file (CBS.log, DISM.log) from its first ``limit_bytes``.

    Each CSI line stamped ``@YYYY/M/D:HH:MM:SS.mmm`` (UTC) and each ``Session: <FILETIME>
    initialized`` line gives one (local, UTC) pair; at most 25 of each kind are yielded.
    """
    with source.open() as fp:
        fp.seek(source.encoding.bom)
        data = fp.read(limit_bytes)
    if source.encoding.wide:
        data = data.decode(source.encoding.name, errors="replace").encode("utf-8")
    n = 0
    for m in _CSI_PAIR_B.finditer(data):
        local = local_stamp(m.group(1).decode("ascii"))
        y, mo, d, h, mi, sec = (int(g) for g in m.groups()[1:])
        try:
            utc = datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
        except ValueError:
            continue
        if local is not None and abs(offset_minutes(local, utc)) <= MAX_OFFSET:
            yield offset_minutes(local, utc)
            n += 1
            if n >= MAX_PAIRS:
                break
    n = 0
    for m in _SESSION_PAIR_B.finditer(data):
        local = local_stamp(m.group(1).decode("ascii"))
        st = session_time(m.group(2).decode("ascii"))
        if local is not None and st is not None and abs(offset_minutes(local, st)) <= MAX_OFFSET:
            yield offset_minutes(local, st)
            n += 1
            if n >= MAX_PAIRS:
                break
