"""SetupAPI text logs: setupapi.dev.log, .app.log, .offline.log, .setup.log and dated rollovers.

Where: ``%WINDIR%\\INF\\setupapi.dev.log`` (device/driver installs), ``setupapi.app.log``,
``setupapi.offline.log`` (in the target image), ``setupapi.setup.log``; rotated as
``setupapi.dev.YYYYMMDD_HHMMSS.log``. Encoding: ANSI (CP936 on zh-CN), CRLF (LF tolerated).
Times are local. References: ../shared/docs/formats.md §2, docs/events/setupapi.md,
Microsoft's "SetupAPI text logs" documentation.

A section is one operation::

    >>>  [Device Install (DiInstallDevice) - ACPI\\AUTHENTICAMD_-_AMD64_FAMILY_15_MODEL_107\\_0]
    >>>  Section start 2024/09/03 10:30:40.621
         inf:                AddService=AmdK8,0x00000002,AmdK8_Service_Inst,AmdK8_EventLog_Inst  (cpu.inf line 80)
    !!!  dvi:                Add Service: Failed to modify existing service 'AmdK8'.
    !!!  dvi:                Error 5: Access is denied.
    <<<  Section end 2024/09/03 10:30:41.090
    <<<  [Exit status: FAILURE(0x00000005)]

The older header form (``>>>  2005/02/13 22:06:28.109: Section start``, ``<<<  [Exit
Status(0x00000000)]``) is read too. A section without footer ends at the next ``>>>  [``.

Kinds (every item event carries ``section`` (title), ``section_line``, ``instance``; times are the
latest time the section logged before the item):

- ``setupapi:header`` — ``os_version``, ``architecture``, ``service_pack``, ``product_type``.
- ``setupapi:boot`` — ``[Boot Session: ...]`` marker.
- ``setupapi:section`` — ``title``, ``instance``, ``start``/``end`` (naive local), ``exit_status``
  (``SUCCESS``, ``FAILURE``, ``SUCCESS (REBOOT_REQUIRED)``...), ``exit_code`` (int), ``command_line``,
  ``inf`` (the INF it concerns), ``infs`` (every INF named), ``subsections`` (list of ``{name,
  exit_code, line, depth}``), ``failed_subsections`` (exit codes other than 0, 0xE000020E, 0x103),
  ``errors``, ``warnings``, ``complete`` (False when the section has no exit-status footer).
- ``setupapi:error`` / ``setupapi:warning`` — ``!!!`` / ``!`` entries: ``category``, ``entry``
  (message), ``win32`` or ``hresult`` and ``error_text`` from a following ``Error N: text`` entry
  (merged into the entry before it; ``error_line`` is its line).
- ``setupapi:service_failure`` — ``!!!`` ``Add Service: Failed to ... service 'X'`` / ``Error while
  installing services``: ``service``, ``operation`` (create/modify/open/lock/install), ``win32``.
- ``setupapi:filequeue_failure`` — ``!!!`` file-queue entries (``SPFQNOTIFY_COPYERROR``,
  ``FileQueueCommit aborting``, ``flq:``): ``win32``/``hresult`` if given.
- ``setupapi:addservice`` — ``AddService=`` / ``{Add Service: X}``: ``service``, ``flags``,
  ``install_section``, ``eventlog_section``, ``inf``, ``inf_line``; a Win10 block's ``start_type``,
  ``service_type``, ``error_control``, ``image_path``, ``display_name``, ``group``, ``result`` (merged
  into the ``AddService=`` line just above it for the same service).
- ``setupapi:copy`` — file-queue ``Copying 'src' to 'dst'.``: ``source``, ``target`` (= ``path``), ``file``,
  ``inf``.
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from culprit.model import Event, Origin, Severity, format_code
from culprit.parsers import register
from culprit.parsers._servicing import local_stamp, pieces
from culprit.parsers.base import EventTimes, ParseContext, Parser, Source

MAX_TEXT = 2000

# >>>  [Device Install (Hardware initiated) - SWD\IP_TUNNEL_VBUS\ISATAP_0]
_TITLE = re.compile(r">>>  \[(.*?)(?: - (.+))?\][ \t\r]*$", re.M)
# <<<  [Exit status: FAILURE(0xe0000248)]   |  <<<  [Exit Status(0x00000000)]
_EXIT = re.compile(r"^<<<  \[Exit [Ss]tatus(?:: ([A-Z_]+)(?: ?\(([^)]*)\))?|\((0x[0-9a-fA-F]+)\))\]", re.M)
# [Boot Session: 2015/11/22 17:58:03.498]
_BOOT = re.compile(r"^\[Boot Session: (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3})\]", re.M)
#      OS Version = 10.0.10240
_HEADER_KV = re.compile(r"^ +(OS Version|Service Pack|Suite|ProductType|Architecture) = (.*?)\r?$", re.M)
# !!!  dvi:                Add Service: Failed to modify existing service 'AmdK8'.
# !    sig:                Verifying file against specific (valid) catalog failed! (0x800b0109)
_ENTRY = re.compile(r"\n(!!!|!)[ \t]+([a-z.]{2,3}|ui ):[ \t]+([^\n]*)")
#      dvi: {Build Driver List - exit(0x00000000)} 17:59:30.797   |  {_commit_file_queue exit OK}
_BRACE = re.compile(r"\n[! ]*(?:[a-z.]{2,3}|ui ):( *)\{([^{}\n]*)\}[ \t]*(\d\d:\d\d:\d\d\.\d{3})?")
#      inf:      AddService=USBSTOR,0x00000002,USBSTOR.AddService  (usbstor.inf line 69)
_ADDSERVICE = re.compile(
    r"AddService=([^,\s]+)(?:,([^,\s]*))?(?:,([^,\s]*))?(?:,([^,\s]*))?[^\n(]*(?:\(([^()\s]+\.[iI][nN][fF]) line (\d+)\))?"  # noqa: E501
)
#      inf: {Add Service: tunnel}
_ADDSERVICE_BRACE = re.compile(r"Add Service: ([^\s}]+)\}", re.I)
#       cmd: C:\Windows\system32\spoolsv.exe
_CMD = re.compile(r"\n *cmd: +([^\n]*)")
# any INF name: cpu.inf, cpu.inf_amd64_neutral_7b4c..., oem12.inf
_INF_DOT = re.compile(r"\.[iI][nN][fF](?![a-zA-Z0-9])")
# InfName      - C:\...\cpu.inf | INF path: C:\...\x.inf | Driver Package = C:\...\x.inf
_INF_PLACES = tuple(
    (lit, re.compile(lit + p, re.M))
    for lit, p in (
        ("InfName ", r" *- +(?:[^\n]*\\)?([\w\-.]+\.[iI][nN][fF])[ \t\r]*$"),
        ("INF path: ", r"(?:[^\n]*\\)?([\w\-.]+\.[iI][nN][fF])[ \t\r]*$"),
        ("Driver Package = ", r"(?:[^\n]*\\)?([\w\-.]+\.[iI][nN][fF])[ \t\r]*$"),
    )
)
# Error 5: Access is denied.   |  Error 0x800b0109: A certificate chain processed, but ...
_ERROR_N = re.compile(r"^Error (0x[0-9a-fA-F]+|-?\d+):\s*(.*)$")
_SERVICE_FAIL = re.compile(
    r"Add Service: Failed to (create|modify existing|open existing|lock|start|delete) service(?: control manager)?"  # noqa: E501
    r"(?: ['\"]([^'\"]+)['\"])?",
    re.I,
)
# ... exit(0x00000000)} 17:59:30.797  |  exit OK}  |  exit 00000000}  |  exit (0x0)}
_SUB_EXIT = re.compile(
    r"exit\s*\(?\s*(0x[0-9a-fA-F]+|[0-9a-fA-F]{8}|OK)?\s*\)?\}[ \t]*(\d\d:\d\d:\d\d\.\d{3})?"
)
_ADD_ANY = re.compile(r"AddService=|Add Service: (?!exit\b)(?=[^\s}]+\})")
_ENTRY_ITEM, _EXIT_ITEM, _ADD_ITEM, _COPY_ITEM = 0, 1, 2, 3
#      flq: Copying 'C:\...\cpu.inf_amd64_neutral_7b4c...\amdk8.sys' to 'C:\Windows\system32\DRIVERS\amdk8.sys'.  # noqa: E501
_COPY = re.compile(r"Copying '([^'\n]+)' to '([^'\n]+)'")
_SXS_PREFIX = re.compile(r"^(?:amd64|x86|wow64|arm64|arm|ia64|msil)_(?=.+\.inf$)", re.I)
_TRAILING_TIME = re.compile(r"\s(\d\d):(\d\d):(\d\d)\.(\d{3})$")
# Verifying file against specific (valid) catalog failed! (0x800b0109)
# ... (0x800b0109)   |   Failed to install services. Error = 0x00000005
_PAREN_CODE = re.compile(r"(?:\(|Error = )(0x[0-9a-fA-F]{8})\b")
_EXIT_CODES: dict[str | None, int | None] = {None: None, "OK": 0, "ok": 0}
_MISS = object()


@register
class SetupApiParser(Parser):
    """setupapi.dev/app/offline/setup .log (and dated rollovers)."""

    name = "setupapi"
    description = "SetupAPI text log (setupapi.dev/.app/.offline/.setup.log)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        head = text.lstrip("\ufeff")
        score = 0.0
        if head.startswith(("[Device Install Log]", "[SetupAPI Log]")) or "\n[BeginLog]" in head:
            score = 0.9
        elif ">>>  [" in head and (">>>  Section start" in head or ": Section start" in head):
            score = 0.85
        elif _ENTRY.search(head) and _BRACE.search(head):
            score = 0.6
        if score and source.filename.lower().startswith("setupapi"):
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        for first, text in pieces(source, ctx, ">>>  [", keep_cr=True):
            yield from _piece(text, first, ctx)


def _piece(text: str, first: int, ctx: ParseContext) -> Iterator[Event]:
    """Events of one piece of text: an optional preamble, then sections each starting ``>>>  [``."""
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\n>>>  \[", text)]
    if text.startswith(">>>  ["):
        starts = starts[1:] if len(starts) > 1 and starts[1] == 0 else starts
    line = first
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[s:e]
        if chunk.startswith(">>>  ["):
            line += yield from _section(chunk, line, ctx)  # returns its number of line ends
        else:
            yield from _preamble(chunk, line, ctx)
            line += chunk.count("\n")


def _line_of(chunk: str, pos: int, base: int) -> int:
    return base + chunk.count("\n", 0, pos)


def _preamble(chunk: str, base: int, ctx: ParseContext) -> Iterator[Event]:
    """Text outside sections: the log header and boot-session markers."""
    kv = dict(_HEADER_KV.findall(chunk))
    if kv:
        pos = chunk.find("[Device Install Log]")
        pos = 0 if pos < 0 else pos
        ln = _line_of(chunk, pos, base)
        yield Event(
            kind="setupapi:header",
            origin=Origin(
                ctx.artifact, line=ln, text=chunk[pos : pos + 400].replace("\r", "").split("\n\n")[0]
            ),
            message="SetupAPI log header: OS " + kv.get("OS Version", "?"),
            fields={
                "os_version": kv.get("OS Version"),
                "service_pack": kv.get("Service Pack"),
                "product_type": kv.get("ProductType"),
                "architecture": kv.get("Architecture"),
            },
        )
    yield from _boots(chunk, base, ctx, 0)
    if base == 1 and chunk.strip() and not kv and not chunk.lstrip("\ufeff").startswith("["):
        ctx.warn("text before the first SetupAPI section is not a SetupAPI header", 1)


def _boots(chunk: str, base: int, ctx: ParseContext, start: int) -> Iterator[Event]:
    for m in _BOOT.finditer(chunk, start):
        local = local_stamp(m.group(1))
        yield Event(
            kind="setupapi:boot",
            origin=Origin(ctx.artifact, line=_line_of(chunk, m.start(), base), text=m.group(0)),
            **ctx.times(local),
            message=m.group(0),
        )


def _section(chunk: str, base: int, ctx: ParseContext) -> Generator[Event, None, int]:
    """One section: the ``setupapi:section`` event, then its entries in line order.

    Returns the number of line ends in ``chunk`` (counted once, on the way).
    """
    tm = _TITLE.match(chunk)
    title = tm.group(1) if tm else chunk[6 : chunk.find("\n")].rstrip("\r]")
    instance = tm.group(2) if tm else None
    start = _stamp_after(chunk, "\n>>>  Section start ", ": Section start", chunk.find)
    end = _stamp_after(chunk, "\n<<<  Section end ", ": Section end", chunk.rfind)  # footers: search back
    xi = chunk.rfind("\n<<<  [Exit ")
    xm = _EXIT.match(chunk, xi + 1) if xi >= 0 else None
    status, code = _exit(xm)
    sm = start is not None
    if not sm:
        ctx.warn(f"section without a start time: {title[:80]}", base)
    ci = chunk.find("cmd: ")
    cmd = _CMD.search(chunk, ci - 20 if ci > 20 else 0) if ci >= 0 else None
    inf = _section_inf(instance, chunk)

    # Subsection ends ("... exit(0x...)} HH:MM:SS.mmm"): the most frequent body line, in a tight loop.
    subsections: list[dict[str, Any]] = []
    time_pos: list[int] = []  # positions of body times, for the items below
    time_val: list[str] = []
    rfind, count = chunk.rfind, chunk.count
    prev, line = 0, base
    xpos: list[int] = []  # exit positions and their line numbers: anchors for the items' line count
    xline: list[int] = []
    codes = _EXIT_CODES
    for m in _SUB_EXIT.finditer(chunk):
        pos = m.start()
        ls = rfind("\n", 0, pos) + 1
        ob = rfind("{", ls, pos)
        if ob < 0:
            continue  # "exit" outside a {...} subsection marker
        line += count("\n", prev, pos)
        prev = pos
        xpos.append(pos)
        xline.append(line)
        c, t = m.groups()
        if t:
            time_pos.append(pos)
            time_val.append(t)
        ec = codes.get(c, _MISS)
        subsections.append(
            {
                "name": chunk[ob + 1 : pos].rstrip(" -:"),
                "exit_code": _exit_code(c) if ec is _MISS else ec,
                "line": line,
                "depth": (ob - ls - 10) // 5 if ob - ls > 10 else 0,  # "     dvi: " then 5 a level
            }
        )

    # Entries, AddService and copy lines, in line order.
    items: list[tuple[int, int, re.Match[str]]] = [
        (m.start() + 1, _ENTRY_ITEM, m) for m in _ENTRY.finditer(chunk)
    ]
    items += [(m.start(), _ADD_ITEM, m) for m in _ADD_ANY.finditer(chunk)]
    if "Copying '" in chunk:
        items += [(m.start(), _COPY_ITEM, m) for m in _COPY.finditer(chunk)]
    items.sort(key=itemgetter(0))
    out: list[Event | dict[str, Any]] = []  # entries stay dicts until an "Error N:" line may merge in
    errors = warnings = 0
    now = start
    stamps: dict[datetime, EventTimes] = {}  # an event's time fields, converted once per distinct time
    applied = 0  # body times up to this index are applied to `now`
    prev, line = 0, base
    last_entry: dict[str, Any] | None = None  # the entry an "Error N:" line on the next line merges into
    last_add: dict[str, Any] | None = (
        None  # fields of the AddService= line a "{Add Service: X}" block details
    )
    common = {"section": title, "section_line": base, "instance": instance}
    for pos, what, m in items:
        if xpos:
            j = bisect_right(xpos, pos)
            if j and xpos[j - 1] > prev:  # jump to the nearest exit line above: count only the gap
                prev, line = xpos[j - 1], xline[j - 1]
        line += count("\n", prev, pos)
        prev = pos
        if time_pos and now is not None:
            i = bisect_right(time_pos, pos)
            if i > applied:
                now, applied = _at(now, time_val[i - 1]), i
        le = chunk.find("\n", pos)
        if le < 0:
            le = len(chunk)
        elif chunk[le - 1] == "\r":  # CRLF line end (pieces keep it: one pass less over the text)
            le -= 1
        raw = chunk[pos if what == _ENTRY_ITEM else rfind("\n", 0, pos) + 1 : le]
        if what == _COPY_ITEM:
            target = m.group(2)
            f = {
                **common,
                "source": m.group(1),
                "target": target,
                "path": target,
                "file": target.rsplit("\\", 1)[-1],
                "inf": inf,
            }
            out.append(
                _item(
                    "setupapi:copy",
                    ctx,
                    line,
                    raw,
                    now,
                    Severity.INFO,
                    f"copy {f['file']} -> {target}",
                    f,
                    stamps=stamps,
                )
            )
            continue
        if what == _ADD_ITEM:
            am = _ADDSERVICE.match(chunk, pos) if m.group(0) == "AddService=" else None
            bm = None if am else _ADDSERVICE_BRACE.match(chunk, pos)
            if am:
                f = {
                    **common,
                    "service": am.group(1),
                    "flags": _int(am.group(2)),
                    "install_section": am.group(3) or None,
                    "eventlog_section": am.group(4) or None,
                    "inf": (am.group(5) or inf or "").lower() or None,
                    "inf_line": int(am.group(6)) if am.group(6) else None,
                }
                last_add = f
            elif bm and rfind("{", max(0, pos - 2), pos) >= 0:
                details = _service_block(chunk, pos)
                if last_add is not None and last_add.get("service") == bm.group(1):
                    last_add.update(details)  # Win10: the block right after its AddService= line
                    last_add = None
                    continue
                f = {
                    **common,
                    "service": bm.group(1),
                    "flags": None,
                    "install_section": None,
                    "eventlog_section": None,
                    "inf": inf,
                    "inf_line": None,
                    **details,
                }
            else:
                continue
            out.append(
                _item(
                    "setupapi:addservice",
                    ctx,
                    line,
                    raw,
                    now,
                    Severity.INFO,
                    f"AddService {f['service']}",
                    f,
                    stamps=stamps,
                )
            )
            continue
        sev_mark, cat, msg = m.group(1), m.group(2).strip(), m.group(3).strip()
        if sev_mark == "!!!":
            errors += 1
        else:
            warnings += 1
        if len(msg) > 13 and msg[-4] == "." and msg[-13] == " " and now is not None:
            tt = _TRAILING_TIME.search(msg, len(msg) - 13)
            if tt:
                now = _at(now, msg[tt.start() + 1 :])
        em2 = _ERROR_N.match(msg) if msg.startswith("Error ") else None
        if em2 and last_entry is not None and last_entry["sev"] == sev_mark and last_entry["end"] == line - 1:
            _merge_error(last_entry, em2, line, raw)
            last_entry = None
            continue
        fields: dict[str, Any] = {**common, "category": cat, "entry": msg}
        kind = "setupapi:error" if sev_mark == "!!!" else "setupapi:warning"
        sf = _SERVICE_FAIL.search(msg) if sev_mark == "!!!" and "Service" in msg else None
        if sev_mark == "!!!" and (sf or "Error while installing services" in msg):
            kind = "setupapi:service_failure"
            fields["service"] = sf.group(2) if sf and sf.group(2) else None
            fields["operation"] = sf.group(1).split()[0].lower() if sf else "install"
        elif sev_mark == "!!!" and (cat == "flq" or "COPYERROR" in msg or "FileQueueCommit" in msg):
            kind = "setupapi:filequeue_failure"
        if em2:
            _error_code(fields, em2)
        else:
            cm = _PAREN_CODE.search(msg) if ("(0x" in msg or "Error = " in msg) else None
            if cm:
                _set_code(fields, int(cm.group(1), 16))
        fields["inf"] = fields.get("inf") or inf
        rec = {
            "sev": sev_mark,
            "fields": fields,
            "kind": kind,
            "line": line,
            "end": line,
            "raw": raw,
            "time": now,
        }
        out.append(rec)
        last_entry = None if em2 else rec

    failed = [s for s in subsections if s["exit_code"] not in (None, 0, 0xE000020E, 0x103)]
    fields = {
        **{"title": title, "instance": instance, "start": start, "end": end},
        "exit_status": status,
        "exit_code": code,
        "command_line": cmd.group(1).strip() if cmd else None,
        "command_line_line": base + chunk.count("\n", 0, cmd.start() + 1) if cmd else None,
        "inf": inf,
        "subsections": subsections,
        "failed_subsections": failed,
        "errors": errors,
        "warnings": warnings,
        "complete": xm is not None,
    }
    failure = status is not None and not status.startswith("SUCCESS")
    yield Event(
        kind="setupapi:section",
        origin=Origin(
            ctx.artifact,
            line=base,
            text=(chunk[: chunk.find("\n")] if "\n" in chunk else chunk).rstrip("\r")[:MAX_TEXT],
        ),
        **ctx.times(start),
        severity=Severity.ERROR if failure else Severity.INFO,
        code=code,
        message=f"{title}{' - ' + instance if instance else ''}: {status or 'no exit status'}",
        fields=fields,
    )
    for item in out:
        yield item if isinstance(item, Event) else _finish(item, ctx, stamps)
    b = chunk.find("\n[Boot Session: ", max(xi, 0))
    if b >= 0:  # boot markers between this section's footer and the next section
        yield from _boots(chunk, base, ctx, b)
    if xpos and xpos[-1] > prev:
        prev, line = xpos[-1], xline[-1]
    return line - base + count("\n", prev)


# {Add Service: tunnel} ... Start Type = 3 ... Image Path = \SystemRoot\...\tunnel.sys ... Created new service
_BLOCK_KV = re.compile(
    r"^[! ]*[a-z]{3}: +(Start Type|Service Type|Error Control|Image Path|Display Name|Group) += (.*?)\r?$",
    re.M,
)
_BLOCK_RESULT = re.compile(r"(Created new|Modified existing) service '")
_BLOCK_KEYS = {
    "Start Type": "start_type",
    "Service Type": "service_type",
    "Error Control": "error_control",
    "Image Path": "image_path",
    "Display Name": "display_name",
    "Group": "group",
}


def _service_block(chunk: str, pos: int) -> dict[str, Any]:
    """Details of a ``{Add Service: X}`` block (up to its ``exit``): start type, image path, result."""
    end = chunk.find("{Add Service: exit", pos)
    block = chunk[pos : end if end > 0 else min(len(chunk), pos + 4000)]
    out: dict[str, Any] = {}
    for k, v in _BLOCK_KV.findall(block):
        key = _BLOCK_KEYS[k]
        out[key] = _int(v) if key in ("start_type", "service_type", "error_control") else v.strip()
    rm = _BLOCK_RESULT.search(block)
    if rm:
        out["result"] = "created" if rm.group(1).startswith("Created") else "modified"
    return out


def _finish(rec: dict[str, Any], ctx: ParseContext, stamps: dict[datetime, EventTimes]) -> Event:
    f = rec["fields"]
    sev = Severity.ERROR if rec["sev"] == "!!!" else Severity.WARNING
    code = f.get("win32", f.get("hresult"))
    msg = f["entry"] + (
        f" (Error {format_code(code)}: {f['error_text']})" if f.get("error_text") is not None else ""
    )
    return _item(rec["kind"], ctx, rec["line"], rec["raw"], rec["time"], sev, msg, f, code, stamps)


def _item(
    kind: str,
    ctx: ParseContext,
    line: int,
    raw: str,
    now: datetime | None,
    sev: Severity,
    msg: str,
    fields: dict[str, Any],
    code: int | None = None,
    stamps: dict[datetime, EventTimes] | None = None,
) -> Event:
    if now is None or stamps is None:
        times = ctx.times(now)
    else:
        times = stamps.get(now) or stamps.setdefault(now, ctx.times(now))
    return Event(
        kind=kind,
        origin=Origin(ctx.artifact, line=line, text=raw[:MAX_TEXT]),
        **times,
        severity=sev,
        code=code,
        message=msg[:MAX_TEXT],
        fields=fields,
    )


def _merge_error(rec: dict[str, Any], em: re.Match[str], line: int, raw: str) -> None:
    _error_code(rec["fields"], em)
    rec["fields"]["error_line"] = line
    rec["raw"] = rec["raw"] + "\n" + raw


def _error_code(fields: dict[str, Any], em: re.Match[str]) -> None:
    n = em.group(1)
    value = int(n, 16) if n.lower().startswith("0x") else int(n)
    _set_code(fields, value & 0xFFFFFFFF)
    fields["error_text"] = em.group(2).strip()


def _set_code(fields: dict[str, Any], value: int) -> None:
    if value <= 0xFFFF:
        fields["win32"] = value
    else:
        fields["hresult"] = value


def _stamp_after(chunk: str, head: str, old: str, find: Callable[[str], int]) -> datetime | None:
    """The ``YYYY/MM/DD HH:MM:SS.mmm`` of a section header/footer marker (both header forms).

    ``find`` is ``chunk.find`` for headers and ``chunk.rfind`` for footers (found from the end).
    """
    i = find(head)
    if i >= 0:
        return local_stamp(chunk[i + len(head) : i + len(head) + 23])
    i = find(old)
    if i >= 23:
        return local_stamp(chunk[i - 23 : i])
    return None


def _exit(m: re.Match[str] | None) -> tuple[str | None, int | None]:
    if not m:
        return None, None
    if m.group(3):  # old form: [Exit Status(0x00000000)]
        code = int(m.group(3), 16)
        return ("SUCCESS" if code == 0 else "FAILURE"), code
    word, inner = m.group(1), m.group(2)
    if inner and re.fullmatch(r"0x[0-9a-fA-F]+", inner):
        return word, int(inner, 16)
    if inner:
        return f"{word} ({inner})", 0 if word == "SUCCESS" else None
    return word, 0 if word == "SUCCESS" else None


def _exit_code(text: str | None) -> int | None:
    """Subsection exit code text → int (cached: a log repeats a handful of codes)."""
    try:
        return _EXIT_CODES[text]
    except KeyError:
        value = _code(text)
        if len(_EXIT_CODES) < 4096:
            _EXIT_CODES[text] = value
        return value


def _code(text: str | None) -> int | None:
    if not text or text.upper() == "OK":
        return 0 if text else None
    return int(text, 16)


def _int(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def _at(now: datetime, hms: str) -> datetime:
    """The section's date with a body line's ``HH:MM:SS.mmm`` (a day later if the clock wrapped)."""
    try:
        t = datetime(  # noqa: DTZ001 - naive local time by design
            now.year,
            now.month,
            now.day,
            int(hms[0:2]),
            int(hms[3:5]),
            int(hms[6:8]),
            int(hms[9:12]) * 1000,
        )
    except (ValueError, IndexError):
        return now
    if t < now - timedelta(hours=12):
        t += timedelta(days=1)
    return t


def _section_inf(instance: str | None, chunk: str) -> str | None:
    """The INF a section concerns: its instance if that is an INF, else the body's INF references."""
    if instance:
        leaf = instance.rsplit("\\", 1)[-1]
        m = _INF_DOT.search(leaf)
        if m:
            return _SXS_PREFIX.sub("", leaf[: m.start()].lower()) + ".inf"
    i = chunk.find(".inf line ")  # AddService=...  (cpu.inf line 80)
    if i >= 0:
        j = chunk.rfind("(", max(0, i - 200), i)
        if j >= 0 and "\n" not in chunk[j:i]:
            return _SXS_PREFIX.sub("", chunk[j + 1 : i].lower()) + ".inf"
    for lit, rx in _INF_PLACES:  # find the literal (fast), then match the line there
        i = chunk.find(lit)
        for _ in range(64):
            if i < 0:
                break
            m = rx.match(chunk, i)
            if m:
                return m.group(1).lower()
            i = chunk.find(lit, i + 1)
    # Any other reference: cpu.inf, C:\...\cpu.inf_amd64_neutral_7b4c...\, 'oem12.inf'
    m = _INF_DOT.search(chunk)
    if m:
        j = k = m.start()
        while k > 0 and j - k < 200 and (chunk[k - 1].isalnum() or chunk[k - 1] in "_-."):
            k -= 1  # back to the start of the file name
        if k < j:
            return _SXS_PREFIX.sub("", chunk[k:j].lower()) + ".inf"
    return None
