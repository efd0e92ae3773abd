"""CBS.log and CbsPersist_*.log — Component Based Servicing (TrustedInstaller / TiWorker).

Where: ``%WINDIR%\\Logs\\CBS\\CBS.log``; older logs are renamed ``CbsPersist_<local stamp>.log`` and
cabbed beside it (the ingest step extracts the cab). Encoding: 8-bit (ASCII/ANSI), no BOM, CRLF;
a UTF-16 file is transcoded. Times are local, one-second resolution. References:
../shared/docs/formats.md §1, docs/events/cbs.md.

Line layout (fixed columns)::

    2024-09-03 10:30:41, Error                 CBS    Startup: Failed while processing ... [HRESULT = 0x80070005 - E_ACCESSDENIED]

Lines without the leading stamp (``CSIPERF:TXCOMMIT;594313``, wrapped dumps) continue the record
above them and are part of its ``origin.text``.

Speed: CBS logs reach gigabytes, so the file is scanned as bytes in 4 MiB chunks with compiled
patterns; only records that matter become events (every Error/Warning line, every line carrying a
status code or ``Failed``, and every line of a record kind below). Plain Info lines are counted,
not itemised: a final ``cbs:summary`` event says how many (see docs/decisions.md for the numbers).

Kinds (all carry ``level``, ``component``, and ``hresult``/``symbol`` when the line has a code;
package lines add ``package``, ``kb``, ``arch``, ``version``; CSI lines add ``csi_seq`` and, when
stamped, ``csi_time`` in UTC):

- ``cbs:run`` — TrustedInstaller boundaries: ``step``, ``boundary`` (``start``/``end``/None).
- ``cbs:session`` — ``session``, ``session_time`` (its FILETIME, UTC), ``action``
  (``initialized``/``finalized``), ``client``, ``reboot_required``.
- ``cbs:package`` — applicability and state changes: ``current_state``, ``applicable_state``,
  ``start_state``, ``target_state``, ``pending_state``, ``failure_source``, ``client``.
- ``cbs:exec`` — ``Exec:`` lines: ``action``, ``update``, ``deployment``, ``session``, ``client``.
- ``cbs:perf`` — ``Perf:`` phases: ``phase``, ``state`` (``started``/``ended``/``complete``).
- ``cbs:driver`` — Doqe/driver operations: ``operation``, ``index``, ``phase``, ``win32``, ``inf``,
  ``path``.
- ``cbs:startup`` — ``Startup:``/``Shtd:``/``NonStart:``: ``stage``, ``failure``, ``rollback``, ``state``.
- ``cbs:wer`` — failure report: ``package``…, ``hresult`` (status), ``failure_source``,
  ``start_state``, ``target_state``, ``client``.
- ``cbs:csi_failure`` — CSI ``(F)`` frames: ``symbol``, ``gle``, ``correlation``, ``function``.
- ``cbs:line`` — any other kept line (Error/Warning/coded/``Failed``).
- ``cbs:summary`` — one per file: ``lines``, ``records``, ``plain_info_lines``.
"""  # noqa: E501 - verbatim sample log lines

from __future__ import annotations

import codecs
import dataclasses
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, BinaryIO, cast

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._servicing import classify, csi_offsets, local_stamp
from culprit.parsers.base import ParseContext, Parser, Source

CHUNK = 4 << 20
MAX_RECORD = 1 << 20  # bytes kept of one record (a longer one is cut, with a warning)
MAX_TEXT = 4000  # characters of a record kept in origin.text

# 2024-09-03 10:30:41, Error                 CBS    Startup: Failed while processing ...
_STAMP_B = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, ")
_NEXT_B = re.compile(rb"\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, ")
# Record kinds recognised from the start of the message (col 50), e.g.
# 2024-09-03 10:16:40, Info                  CBS    Session: 31128999_1337659839 initialized by client WindowsUpdateAgent.  # noqa: E501
_KIND_BODY = (
    rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \w+ +(?:CBS|CSI|DISM) +(?:[0-9a-f]{8}\S* \(F\)|Session: |Exec: |Perf: "
    rb"|Doqe|\w+ index: |Startup|Shtd: |NonStart: |WER: |Reporting package|Read out cached package"
    rb"|Starting TrustedInstaller|Ending TrustedInstaller|DriverUpdate)"
)
# ...or anything carrying a failure code, a failure word or a non-Info level (anywhere in the line):
# 2024-09-03 10:30:41, Info                  CBS    DriverUpdateInstallUpdates failed [HRESULT = 0x80070005 - ...]  # noqa: E501
_KIND_B = re.compile(rb"\n" + _KIND_BODY)
_KIND0_B = re.compile(_KIND_BODY)
# (flat literals scan faster; "x8..." hits not preceded by "0" are dropped in the loop)
_CODE_B = re.compile(rb"x[89a-dA-D][0-9a-fA-F]|, Error |, Warning |\(F\)|HRESULT|Failed|failed|FAILED")
_CTRL_B = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CTRL_BYTES = bytes([*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])

_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), (\w+)\s+(\S+)\s+(.*)")
_BODY = re.compile(r", (\w+)\s+(\S+)\s+(.*)")


@register
class CbsParser(Parser):
    """CBS.log / CbsPersist_*.log (also the CBS/CSI lines a DISM-hosted stack writes)."""

    name = "cbs"
    description = "CBS.log / CbsPersist_*.log (Component Based Servicing)"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.lstrip("\ufeff").splitlines()[:60]
        hits = dism = 0
        for ln in lines:
            m = _LINE.match(ln)
            if not m:
                continue
            comp = m.group(3)
            if comp in ("CBS", "CSI"):
                hits += 1
            elif comp == "DISM" or "PID=" in m.group(4):
                dism += 1
        if hits == 0 or dism:
            return 0.0 if dism >= hits else 0.4
        score = 0.9 if hits >= max(2, len(lines) // 3) else 0.5
        if "cbs" in source.filename.lower():
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        scan = _Scanner(source, ctx)
        yield from scan.events()
        yield Event(
            kind="cbs:summary",
            origin=Origin(ctx.artifact, line=None, text=""),
            message=f"{scan.lines:,} lines, {scan.kept_lines:,} in {scan.kept:,} records kept, "
            f"{scan.lines - scan.kept_lines:,} plain Info lines counted",
            fields={
                "lines": scan.lines,
                "records": scan.kept,
                "plain_info_lines": scan.lines - scan.kept_lines,
            },
        )

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """Offsets proved by CSI ``@`` UTC stamps and by session ids (FILETIME UTC) vs the local stamp."""
        yield from csi_offsets(source)


# --- scanning ----------------------------------------------------------------------------------


class _Scanner:
    """Splits a CBS-format byte stream into the records worth an event, chunk by chunk."""

    def __init__(self, source: Source, ctx: ParseContext) -> None:
        self.source = source
        self.ctx = ctx
        self.builder = _Builder(source, ctx)
        self.lines = 0
        self.kept = 0
        self.kept_lines = 0
        self.exact_offsets = not source.encoding.wide

    def events(self) -> Iterator[Event]:
        carry = b""
        offset = self.source.encoding.bom  # file offset of carry[0]
        lineno = 1  # line number of carry[0]
        skipping = False  # inside an over-long line: drop bytes until its end
        with self.source.open() as fp:
            for data in _chunks(fp, self.source):
                if skipping:
                    nl = data.find(b"\n")
                    if nl < 0:
                        offset += len(data)
                        continue
                    data = data[nl + 1 :]
                    offset += nl + 1
                    lineno += 1
                    skipping = False
                buf = carry + data if carry else data
                cut = _last_record_start(buf)
                if cut == 0:
                    nl = buf.rfind(b"\n")
                    if nl >= 0:
                        cut = nl + 1
                    elif len(buf) > MAX_RECORD:
                        # One line longer than any record: keep its head, drop the rest of it.
                        self.ctx.warn(f"line longer than {MAX_RECORD:,} bytes cut", lineno)
                        yield from self._work(buf[:MAX_RECORD], offset, lineno)
                        offset += len(buf)
                        carry = b""
                        skipping = True
                        continue
                    else:
                        carry = buf
                        continue
                work, carry = buf[:cut], buf[cut:]
                yield from self._work(work, offset, lineno)
                offset += cut
                lineno += work.count(b"\n")
            if carry:
                yield from self._work(carry, offset, lineno)

    def _work(self, work: bytes, base_off: int, base_line: int) -> Iterator[Event]:
        n_lines = work.count(b"\n") + (0 if work.endswith(b"\n") else 1)
        self.lines += n_lines
        if base_line == 1 and work and not _STAMP_B.match(work):
            self.ctx.warn("file does not start with a CBS time stamp; leading lines ignored", 1)
        if len(work.translate(None, _CTRL_BYTES)) != len(work):  # 3x faster than a regex search
            self._garbage(work, base_line)
        rfind, find, count, stamp = work.rfind, work.find, work.count, _STAMP_B.match
        starts = [m.start() + 1 for m in _KIND_B.finditer(work)]  # stamped by construction
        if _KIND0_B.match(work):
            starts.append(0)
        last = -1  # line start of the previous hit
        owner = -1  # record start owning that line (-1: none, text before the first stamp)
        for m in _CODE_B.finditer(work):
            pos = m.start()
            if work[pos] == 120 and (pos == 0 or work[pos - 1] != 48):  # "x.." must be "0x.."
                continue
            s = rfind(b"\n", 0, pos) + 1
            if s != last:
                # a continuation line: walk back to its stamped line, never past the previous hit's line
                owner = s if stamp(work, s) else _record_start(work, s, last, owner)
                last = s
                if owner >= 0:
                    starts.append(owner)
        starts.sort()
        prev = 0  # start of the last record (for line counting)
        line = base_line
        done = -1  # end of the last record
        size = len(work)
        builder = self.builder
        event, lookup = builder.event, builder.lookup
        bodies_get, stamps_get = builder.bodies.get, builder.stamps.get
        art, exact = builder.artifact, self.exact_offsets
        kept = kept_lines = 0
        for s in starts:
            if s < done:
                continue  # another hit inside the same record
            # The record ends where the next stamped line starts (usually the very next line).
            nl = find(b"\n", s)
            if nl < 0:
                end = size
            elif (  # "\nYYYY-MM-DD hh:mm:ss, ": separators at fixed columns (cheaper than a regex call)
                nl + 21 < size
                and work[nl + 5] == 45
                and work[nl + 8] == 45
                and work[nl + 11] == 32
                and work[nl + 14] == 58
                and work[nl + 17] == 58
                and work[nl + 20] == 44
            ):
                end = nl + 1
            else:
                nm = _NEXT_B.search(work, s)
                end = nm.start() + 1 if nm else size
            done = end
            line += count(b"\n", prev, s)
            prev = s
            if end - s > MAX_RECORD:
                self.ctx.warn(f"record longer than {MAX_RECORD:,} bytes cut", line)
                end = s + MAX_RECORD
            kept += 1
            kept_lines += count(b"\n", s, end) if end != nl + 1 else 1
            if not _POSITIONAL:
                ev = event(work, s, end, line, base_off + s if self.exact_offsets else None)
                if ev is not None:
                    yield ev
                continue
            # The builder's work, inlined for the common case (cached body and stamp).
            body_b = work[s + 19 : end]
            hit: Any = bodies_get(body_b, _MISSING)  # a _Body, None (malformed) or _MISSING
            if hit is _MISSING or (hit is not None and hit[6]):
                hit = lookup(body_b, line)
            if hit is None:
                continue
            stamp_b = work[s : s + 19]
            times = stamps_get(stamp_b) or builder.times(stamp_b)
            full = times[2] + hit[0]
            yield Event(
                hit[1],
                Origin(art, line, None, base_off + s if exact else None, full[:MAX_TEXT]),
                times[1],
                times[0],
                times[3],
                hit[2],
                None,
                hit[5],
                hit[3],
                hit[4],
            )
        if work and not work.endswith(b"\n") and done == size:
            kept_lines += 1
        self.kept += kept
        self.kept_lines += kept_lines

    def _garbage(self, work: bytes, base_line: int) -> None:
        m = _CTRL_B.search(work)
        prev, line = 0, base_line
        while m:
            i = m.start()
            line += work.count(b"\n", prev, i)
            prev = i
            self.ctx.warn("binary data (control characters) in line", line)
            nl = work.find(b"\n", i)
            if nl < 0:
                return
            m = _CTRL_B.search(work, nl)


def _chunks(fp: BinaryIO, source: Source) -> Iterator[bytes]:
    """The file as byte chunks; UTF-16 files are transcoded to UTF-8 on the way."""
    enc = source.encoding
    fp.seek(enc.bom)
    if not enc.wide:
        while data := fp.read(CHUNK):
            yield data
        return
    dec = codecs.getincrementaldecoder(enc.name)(errors="replace")
    while True:
        data = fp.read(CHUNK)
        text = dec.decode(data, final=not data)
        if text:
            yield text.encode("utf-8", "surrogatepass")
        if not data:
            return


def _last_record_start(buf: bytes) -> int:
    """Offset of the last stamped line start in ``buf`` (0 if none after the first line)."""
    i = len(buf)
    for _ in range(10_000):
        i = buf.rfind(b"\n", 0, i)
        if i < 0:
            return 0
        if _STAMP_B.match(buf, i + 1):
            return i + 1
    return 0


def _record_start(work: bytes, ls: int, floor: int, floor_owner: int) -> int:
    """The stamped line owning the continuation line at ``ls`` (-1 if none).

    The walk back stops at ``floor`` (an earlier line already resolved to ``floor_owner``), so the
    lines of a chunk are walked at most once however many hits they hold.
    """
    while True:
        if ls <= floor:
            return floor_owner
        if _STAMP_B.match(work, ls):
            return ls
        if ls == 0:
            return -1
        ls = work.rfind(b"\n", 0, ls - 1) + 1


# --- events ------------------------------------------------------------------------------------

# Events are built with positional arguments when the model's field order is the one assumed here.
_POSITIONAL = [f.name for f in dataclasses.fields(Event)][:10] == [
    "kind",
    "origin",
    "time",
    "local_time",
    "utc_offset",
    "severity",
    "process",
    "code",
    "message",
    "fields",
] and [f.name for f in dataclasses.fields(Origin)][:5] == ["artifact", "line", "record", "offset", "text"]
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


# (record text after the stamp, kind, severity, message, read-only fields, code, had undecodable bytes)
_Body = tuple[str, str, Severity, str, Mapping[str, Any], "int | None", bool]
_Times = tuple[datetime | None, datetime | None, str, int | None]
_MISSING = object()


class _Builder:
    """Turns kept records into events; identical record bodies are decoded and classified once."""

    def __init__(self, source: Source, ctx: ParseContext) -> None:
        self.source = source
        self.ctx = ctx
        self.codec = "utf-8" if source.encoding.wide else source.encoding.name
        self.artifact = ctx.artifact
        self.bodies: dict[bytes, _Body | None] = {}
        self.stamps: dict[bytes, _Times] = {}

    def lookup(self, body_b: bytes, lineno: int) -> _Body | None:
        """The decoded, classified record body (cached); warns for bad bytes or a malformed line."""
        got = self.bodies.get(body_b, _MISSING)
        if got is _MISSING:
            hit = self._body(body_b, lineno)
            if len(self.bodies) > 20_000:  # bounded memory (~20 MB) on logs of unique lines
                self.bodies.clear()
            self.bodies[body_b] = hit
        else:
            hit = cast("_Body | None", got)
            if hit is not None and hit[6]:
                self.ctx.warn(f"bytes not valid {self.source.encoding.label} replaced", lineno)
        if hit is None:
            self.ctx.warn("malformed CBS line", lineno)
        return hit

    def times(self, stamp_b: bytes) -> _Times:
        """(local, UTC, stamp text, offset) of a 19-byte stamp (cached)."""
        times = self.stamps.get(stamp_b)
        if times is None:
            stamp = stamp_b.decode("ascii", "replace")
            local = local_stamp(stamp)
            times = (local, self.ctx.to_utc(local), stamp, self.ctx.utc_offset if local else None)
            if len(self.stamps) > 100_000:
                self.stamps.clear()
            self.stamps[stamp_b] = times
        return times

    def event(self, work: bytes, s: int, end: int, lineno: int, offset: int | None) -> Event | None:
        """The event of the record ``work[s:end]`` (None, with a warning, if it is malformed)."""
        hit = self.lookup(work[s + 19 : end], lineno)
        if hit is None:
            return None
        text, kind, sev, msg, fields, code, _bad = hit
        times = self.times(work[s : s + 19])
        full = times[2] + text
        text_ = full if len(full) <= MAX_TEXT else full[:MAX_TEXT]
        if _POSITIONAL:  # ~25 % cheaper than keywords; the field order is checked at import
            return Event(
                kind,
                Origin(self.artifact, lineno, None, offset, text_),
                times[1],
                times[0],
                times[3],
                sev,
                None,
                code,
                msg,
                fields,
            )
        return Event(
            kind=kind,
            origin=Origin(self.artifact, line=lineno, offset=offset, text=text_),
            time=times[1],
            local_time=times[0],
            utc_offset=times[3],
            severity=sev,
            code=code,
            message=msg,
            fields=fields,  # one read-only mapping shared by every record with this body
        )

    def _body(self, body_b: bytes, lineno: int) -> _Body | None:
        bad = False
        try:
            text = body_b.decode(self.codec)
        except UnicodeDecodeError:
            bad = True
            self.ctx.warn(f"bytes not valid {self.source.encoding.label} replaced", lineno)
            text = body_b.decode(self.codec, errors="replace")
        parts = text.replace("\r", "").rstrip("\n").split("\n")
        m = _BODY.match(parts[0])
        if not m:
            return None
        level, comp, msg = m.groups()
        cont = [p for p in parts[1:] if p.strip()]
        kind, fields, code = classify(comp, msg, cont)
        fields["level"] = level
        fields["component"] = comp
        if cont:
            fields["continuation"] = "\n".join(cont)[:MAX_TEXT]
        sev = _SEVERITY.get(level.lower(), Severity.INFO)
        return "\n".join(parts), kind, sev, msg[:MAX_TEXT], MappingProxyType(fields), code, bad
