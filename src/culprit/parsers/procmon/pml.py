"""Process Monitor PML reader: the whole capture as columns, details decoded on demand.

Format: Sysinternals Process Monitor backing file, version 9 (``*.PML``; saved wherever the user chose,
``%TEMP%`` while capturing, boot logs in ``%SystemRoot%``). Binary, little-endian, UTF-16LE strings,
times are UTC FILETIMEs (100 ns). 32- and 64-bit captures differ in pointer size (header flag at 0x008).

Reading: the file is memory-mapped; the fixed 0x34-byte headers of all events are gathered in bulk with
numpy (chunks of :data:`CHUNK` events through the event-offset array) into compact columns, so memory stays
proportional to the event count, not the file size. Path, Detail and stacks are decoded per event, only
when asked (:mod:`culprit.parsers.procmon.details`).

Damaged captures: if Procmon did not close the file (header offsets 0) the events are found by walking them
from the first event; events cut off by truncation keep their header columns and lose their details; a
stretch of garbage ends the walk. Every loss is a warning that says what was lost.

References: ``shared/docs/formats.md`` §7.1; eronnen/procmon-parser ``docs/PML Format.md`` (MIT).
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import mmap
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from culprit.model import Event
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source
from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon import details as D
from culprit.parsers.procmon.capture import Capture
from culprit.parsers.procmon.structs import (
    EVENT_DTYPE,
    EVENT_HEADER_SIZE,
    HEADER_SIZE,
    MAGIC,
    MODULE_PAD,
    OFFSET_DTYPE,
    PROCESS_FIXED,
    PROCESS_NAME_AT,
    Header,
    Module,
    PmlError,
    ProcessRecord,
    module_struct,
    read_header,
    read_hosts_ports,
    read_processes,
    read_strings,
    string_at,
)

CHUNK = 1 << 16  # events gathered per numpy pass
BLOCK = 1 << 18  # bytes read at once for per-event decoding
RELEASE_FROM = 1 << 26  # files from 64 MB give back mapped pages once they are read (bounded RSS)
MAX_DEPTH = 1024  # sanity limits when walking an unindexed capture
MAX_DETAIL = 1 << 20


class PmlCapture(Capture):
    """A PML capture opened for reading (see :class:`culprit.parsers.procmon.capture.Capture`).

    Extra columns: ``offsets`` (event file offsets), ``op`` (raw operation number), ``sub`` (first detail
    byte: file-system sub-operation / network flags), ``depth`` (stack frames).

    Attributes:
        header: the decoded file header (computer, OS, pointer size...).
        tz_minutes: zone used for dates inside Detail text (0 = UTC, like the corpus exports).
    """

    kind = "pml"

    def __init__(self, path: str | Path, artifact: str | None = None, tz_minutes: int = 0) -> None:
        super().__init__(path, artifact)
        self._procs: list[ProcessRecord] | None = None
        self._last: tuple[int, int, D.Decoded] | None = None  # (event, zone of its dates, decoded)
        self.tz_minutes = tz_minutes
        self._fp = open(self.path, "rb")  # noqa: SIM115 - kept open for the mapping
        try:
            size = self.path.stat().st_size
            if size < 8:
                raise PmlError("not a Process Monitor capture (file too short)")
            self._mm: mmap.mmap | None = mmap.mmap(self._fp.fileno(), 0, access=mmap.ACCESS_READ)
            self.buffer = self._mm
            self._fd = self._fp.fileno()
            self._blk = b""
            self._blk_start = 0
            self._size = size
            self.header: Header = read_header(self._mm)
            self.pointer_size = self.header.pointer_size
            self.current_result = 0
            self._read()
        except BaseException:
            self.close()
            raise

    # --- loading ----------------------------------------------------------------------------------------------

    def _read(self) -> None:
        h = self.header
        buf = self._mm
        assert buf is not None
        size = len(buf)
        w = self.warnings
        if not h.closed_cleanly:
            w.append(
                "capture was not closed cleanly by Procmon (header offsets are 0): "
                "events found by walking the file; process names may be missing"
            )
        self._proc_count = 0
        if h.process_table_offset:
            self._index_process_table(size)
        elif h.closed_cleanly:
            w.append("no process table: process names are unknown")
        self._hosts, self._ports = ({}, {})
        if h.hosts_offset and h.hosts_offset < size:
            self._hosts, self._ports = read_hosts_ports(buf, h.hosts_offset)
        offsets = self._offsets_from_array(size) if h.closed_cleanly else None
        if offsets is None:
            offsets = self._walk(size)
        self._gather(offsets, size)

    def _index_process_table(self, size: int) -> None:
        """Read only each process record's own index and PID (vectorized); the records load on first use.

        Events name processes by the capture's index (Procmon starts it anywhere, e.g. 1280); the
        ``process_index`` column holds the position in :attr:`processes`, which are sorted by that index.
        """
        start = self.header.process_table_offset
        if start + 4 > size:
            self.warnings.append(
                "process table offset is past the end of the file: process names are unknown"
            )
            return
        n = struct.unpack_from("<I", self._mm, start)[0]
        if start + 4 + 8 * n > size:
            self.warnings.append(
                f"process table truncated ({n:,} processes declared): process names are unknown"
            )
            return
        offs = (
            np.frombuffer(self._mm, dtype="<u4", count=n, offset=start + 4 + 4 * n).astype(np.int64) + start
        )
        offs = offs[offs + 8 <= size]
        u8 = np.frombuffer(self._mm, dtype=np.uint8)
        rec = u8[offs[:, None] + np.arange(8)].view("<u4").reshape(-1, 2)
        order = np.argsort(rec[:, 0], kind="stable")
        self._proc_offsets = offs[order]
        self._raw_index = rec[order, 0].astype(np.int64)
        self._proc_pids = rec[order, 1].astype(np.uint32)
        self._proc_count = len(order)
        del u8, rec

    @property
    def processes(self) -> list[ProcessRecord]:  # type: ignore[override]
        """The process records (with module lists), parsed on first use."""
        if self._procs is None:
            self._procs = self._load_processes()
        return self._procs

    @processes.setter
    def processes(self, value: list[ProcessRecord]) -> None:
        self._procs = value

    @property
    def process_names(self) -> list[str]:
        """Each process's name, in :attr:`processes` order, without parsing the records and module lists
        (falls back to them when the table is anything but well formed)."""
        if self._procs is None:
            names = self._names_alone()
            if names is not None:
                return names
        return [p.name for p in self.processes]

    def _names_alone(self) -> list[str] | None:
        h = self.header
        mm = self._mm
        if not self._proc_count or mm is None or not h.string_table_offset:
            return None
        size = len(mm)
        st = h.string_table_offset
        if st + 4 > size:
            return None
        nstr = struct.unpack_from("<I", mm, st)[0]
        if st + 4 + 4 * nstr > size or len(np.unique(self._raw_index)) != len(self._raw_index):
            return None
        # a record is whole when its fixed part, module count and module list lie inside the file
        # (what read_processes checks before it keeps a record)
        offs = self._proc_offsets
        fixed = PROCESS_FIXED + self.pointer_size
        if int(offs.max()) + fixed + 4 > size:
            return None
        u8 = np.frombuffer(mm, np.uint8)
        count = u8[(offs + fixed)[:, None] + np.arange(4)].copy().view("<u4")[:, 0].astype(np.int64)
        mod = module_struct(self.header.is64).size + MODULE_PAD
        if bool(np.any(offs + fixed + 4 + count * mod > size)):
            return None
        idx = u8[(offs + PROCESS_NAME_AT)[:, None] + np.arange(4)].copy().view("<u4")[:, 0].tolist()
        table = np.frombuffer(mm, dtype="<u4", count=nstr, offset=st + 4)
        cache: dict[int, str] = {}
        out = []
        for i in idx:
            name = cache.get(i)
            if name is None:
                name = cache[i] = string_at(mm, st + int(table[i]))[0] if i < nstr else ""
            out.append(name)
        return out

    def _load_processes(self) -> list[ProcessRecord]:
        h = self.header
        if not self._proc_count or self._mm is None:
            return []
        strings = (
            read_strings(self._mm, h.string_table_offset, self.warnings) if h.string_table_offset else []
        )
        parsed = {
            p.index: p
            for p in read_processes(self._mm, h.process_table_offset, strings, h.is64, self.warnings)
        }
        out = []
        for j, (raw, pid) in enumerate(zip(self._raw_index.tolist(), self._proc_pids.tolist(), strict=True)):
            p = parsed.get(raw)
            out.append(
                dataclasses.replace(p, index=j)
                if p
                else ProcessRecord(index=j, pid=pid, parent_pid=None, name="")
            )
        return out

    def _offsets_from_array(self, size: int) -> np.ndarray | None:
        h = self.header
        n = h.event_count
        start = h.event_offsets_offset
        if start + 5 * n > size:
            self.warnings.append(
                f"event-offset array missing or cut ({n:,} events declared; file truncated?): "
                "events found by walking the file"
            )
            return None
        if n == 0:
            return np.zeros(0, dtype=np.uint32)
        arr = np.frombuffer(self._mm, dtype=OFFSET_DTYPE, count=n, offset=start)["offset"].copy()
        ok = (arr >= HEADER_SIZE) & (arr.astype(np.int64) + EVENT_HEADER_SIZE <= size)
        if not ok.all():
            bad = int((~ok).sum())
            self.warnings.append(f"{bad:,} event offset(s) point outside the file: those events are lost")
            arr = arr[ok]
        return arr

    def _walk(self, size: int) -> np.ndarray:
        """Find events one after another from the first-event offset (capture not closed cleanly)."""
        buf = self._mm
        assert buf is not None
        ps = self.header.pointer_size
        pos = self.header.events_offset or HEADER_SIZE
        limit = size
        for t in (
            self.header.event_offsets_offset,
            self.header.process_table_offset,
            self.header.string_table_offset,
        ):
            if t and pos < t < limit:
                limit = t
        out: list[int] = []
        unpack = struct.Struct("<III H").unpack_from
        while pos + EVENT_HEADER_SIZE <= limit:
            _pi, _tid, klass, _op = unpack(buf, pos)
            (depth,) = struct.unpack_from("<H", buf, pos + 0x28)
            dsize, xoff = struct.unpack_from("<II", buf, pos + 0x2C)
            if not 1 <= klass <= 6 or depth > MAX_DEPTH or dsize > MAX_DETAIL:
                self.warnings.append(
                    f"unreadable data at byte {pos:,} ({limit - pos:,} bytes): "
                    f"stopped after {len(out):,} events"
                )
                break
            end = pos + EVENT_HEADER_SIZE + depth * ps + dsize
            if xoff:
                xp = pos + xoff
                if xp + 2 <= limit:
                    end = max(end, xp + 2 + struct.unpack_from("<H", buf, xp)[0])
            out.append(pos)
            if end > limit:
                break
            pos = end
        return np.array(out, dtype=np.uint32)

    def _gather(self, offsets: np.ndarray, size: int) -> None:
        """Decode the fixed header of every event in bulk into columns, one chunk at a time.

        Everything per event is computed inside the chunk loop (no capture-sized temporaries), so memory is
        the columns (~40 bytes an event) plus one chunk.
        """
        n = int(offsets.shape[0])
        ps = self.header.pointer_size
        u8 = np.frombuffer(self._mm, dtype=np.uint8)
        pi = np.empty(n, np.uint32)
        pid = np.zeros(n, np.uint32)
        tid = np.empty(n, np.uint32)
        klass = np.empty(n, np.uint8)
        op = np.empty(n, np.uint16)
        sub = np.zeros(n, np.uint8)
        opid = np.empty(n, np.uint16)
        dur = np.empty(n, np.uint64)
        tim = np.empty(n, np.int64)
        res = np.empty(n, np.uint32)
        depth = np.empty(n, np.uint16)
        # every EVENT_HEADER_SIZE-byte run of the file as one record (a view: nothing is copied until indexed)
        windows = (
            np.ndarray(
                buffer=u8, dtype=f"V{EVENT_HEADER_SIZE}", shape=(size - EVENT_HEADER_SIZE + 1,), strides=(1,)
            )
            if n
            else None
        )
        nproc = self._proc_count
        raw = getattr(self, "_raw_index", np.zeros(0, np.int64))
        pids = np.concatenate((getattr(self, "_proc_pids", np.zeros(0, np.uint32)), np.zeros(1, np.uint32)))
        op_keys: dict[int, int] = {}
        names: list[str] = []
        ids: dict[str, int] = {}
        cut = missing = 0
        for a in range(0, n, CHUNK):
            b = min(n, a + CHUNK)
            offs = offsets[a:b].astype(np.int64)
            rec = windows[offs].view(EVENT_DTYPE)  # type: ignore[index]
            rclass = rec["event_class"]
            rdepth = rec["depth"]
            tid[a:b] = rec["tid"]
            klass[a:b] = np.minimum(rclass, 255)
            op[a:b] = rec["operation"]
            dur[a:b] = np.where(rec["result"] == 0x103, 0, rec["duration"])  # pending: Procmon shows none
            tim[a:b] = rec["time"].astype(np.int64)
            res[a:b] = rec["result"]
            depth[a:b] = rdepth
            # the first detail byte names file-system sub-operations and the TCP/UDP flag
            dpos = offs + EVENT_HEADER_SIZE + rdepth.astype(np.int64) * ps
            has = (rec["detail_size"] > 0) & (dpos < size) & np.isin(rclass, (3, 5, 6))
            sub[a:b][has] = u8[dpos[has]]
            cut += int((dpos + rec["detail_size"] > size).sum())
            # capture process index -> position in self.processes (nproc when unknown)
            rpi = rec["process_index"].astype(np.int64)
            if nproc:
                j = np.minimum(np.searchsorted(raw, rpi), nproc - 1)
                pos = np.where(raw[j] == rpi, j, nproc)
                missing += int((pos == nproc).sum())
                pi[a:b] = pos
                pid[a:b] = pids[pos]
            else:
                pi[a:b] = 0
            # operation names: one id per distinct (class, operation, sub-operation)
            key = (klass[a:b].astype(np.uint32) << 24) | (op[a:b].astype(np.uint32) << 8)
            fs = np.isin(klass[a:b], (3, 5, 6))
            key[fs] |= sub[a:b][fs].astype(np.uint32)
            uniq, inv = np.unique(key, return_inverse=True)
            local = np.empty(len(uniq), np.uint16)
            for u, k in enumerate(uniq.tolist()):
                if k not in op_keys:
                    name = C.operation_name(k >> 24, (k >> 8) & 0xFFFF, k & 0xFF)
                    if name not in ids:
                        ids[name] = len(names)
                        names.append(name)
                    op_keys[k] = ids[name]
                local[u] = op_keys[k]
            opid[a:b] = local[inv.reshape(-1)]
            del rec, offs, dpos, key, inv
            self._release(int(offsets[a]), int(offsets[b - 1]) + EVENT_HEADER_SIZE)
        if cut:
            self.warnings.append(f"file truncated: {cut:,} event(s) cut off, their details are lost")
        if missing:
            self.warnings.append(f"{missing:,} event(s) name a process missing from the process table")
        self.offsets = offsets
        self.process_index = pi
        self.pid = pid
        self.tid = tid
        self.event_class = klass
        self.op = op
        self.sub = sub
        self.duration = dur
        self.time = tim
        self.result = res
        self.depth = depth
        self.operation_names = names
        self.operation_id = opid

    def remaining(self, offset: int) -> int:
        return max(0, self._size - offset)

    def window(self, offset: int, size: int) -> tuple[bytes, int]:
        """``(buffer, start)`` with the file's bytes from ``offset`` at ``buffer[start:]`` (at least ``size``
        of them, or all that is left): the cached block when it covers them, else a new block."""
        size = min(size, self._size - offset)
        rel = offset - self._blk_start
        if rel >= 0 and rel + size <= len(self._blk):
            return self._blk, rel
        if size > BLOCK:
            return os.pread(self._fd, size, offset), 0
        if offset >= self._size:
            return b"", 0
        self._blk = os.pread(self._fd, BLOCK, offset)
        self._blk_start = offset
        return self._blk, 0

    def span(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of the file from ``offset`` in one read (not cached: sequential decoding)."""
        if offset >= self._size or size <= 0:
            return b""
        return os.pread(self._fd, min(size, self._size - offset), offset)

    def read(self, offset: int, size: int) -> bytes:
        """Bytes of the file (``pread``: per-event reads do not keep mapped pages resident)."""
        if size <= 0 or offset >= self._size:
            return b""
        size = min(size, self._size - offset)
        rel = offset - self._blk_start
        if rel >= 0 and rel + size <= len(self._blk):
            return self._blk[rel : rel + size]
        if size > BLOCK:
            return os.pread(self._fd, size, offset)
        # one read serves the following events too (sequential decoding); memory: one block
        self._blk = os.pread(self._fd, BLOCK, offset)
        self._blk_start = offset
        return self._blk[:size]

    def _release(self, start: int, end: int) -> None:
        """Drop the mapped pages of an already gathered range from our resident set (bounded RSS on huge files)."""
        if self._size < RELEASE_FROM:
            return  # a small file's pages are cheaper to keep than to fault in again
        advise = getattr(self._mm, "madvise", None)
        flag = getattr(mmap, "MADV_DONTNEED", None)
        if advise is None or flag is None:
            return
        page = mmap.PAGESIZE
        lo = start - start % page
        with contextlib.suppress(OSError, ValueError):
            advise(flag, lo, max(0, end - lo))

    # --- per event --------------------------------------------------------------------------------------------

    def decoded(self, i: int) -> D.Decoded:
        """Path and Detail of event ``i`` (the last one decoded is kept: a row asks for both in turn)."""
        last = self._last
        if last is not None and last[0] == i and last[1] == self.tz_minutes:
            return last[2]
        d = D.decode(self, i)
        self._last = (i, self.tz_minutes, d)
        return d

    def path_of(self, i: int) -> str:
        return self.decoded(i).path

    def detail_items(self, i: int) -> list[tuple[str, str]]:
        return list(self.decoded(i).items)

    def _decode(self, i: int) -> tuple[str, list[tuple[str, str]]]:
        d = self.decoded(i)
        if d.damaged:
            self._warn_once(d.damaged)
        return d.path, d.items

    def _warn_once(self, msg: str) -> None:
        if msg not in self.warnings and len(self.warnings) < 200:
            self.warnings.append(msg)

    def frames(self, i: int) -> list[int]:
        """Event ``i``'s raw stack addresses."""
        depth = int(self.depth[i])
        if not depth:
            return []
        ps = self.header.pointer_size
        raw = self.read(int(self.offsets[i]) + EVENT_HEADER_SIZE, depth * ps)
        n = len(raw) // ps
        return list(struct.unpack_from(f"<{n}{'Q' if ps == 8 else 'I'}", raw)) if n else []

    def is_kernel(self, address: int) -> bool:
        return address >= (0xFFFF800000000000 if self.header.is64 else 0x80000000)

    def stack(self, i: int) -> list[str]:
        """Stack frames of event ``i`` as ``module+0xoffset`` (``0x...`` when no module holds the address).

        User-mode frames resolve through the owning process's module list; kernel frames through the System
        process's (PID 4) module list, then any process's kernel-range modules.
        """
        addrs = self.frames(i)
        if not addrs:
            return []
        pi = int(self.process_index[i])
        user = self._module_table(pi) if pi < len(self.processes) else ([], [])
        kernel = self._kernel_table()
        boundary = 0xFFFF800000000000 if self.header.is64 else 0x80000000
        out = []
        for a in addrs:
            bases, mods = kernel if a >= boundary else user
            j = bisect.bisect_right(bases, a) - 1
            if j >= 0:
                base, size, name = mods[j]
                if a < base + size:
                    out.append(f"{name}+0x{a - base:x}")
                    continue
            out.append(f"0x{a:x}")
        return out

    def module_of(self, i: int, address: int) -> Module | None:
        """The module holding ``address`` for event ``i`` (kernel range: System's or any process's drivers)."""
        boundary = 0xFFFF800000000000 if self.header.is64 else 0x80000000
        if address >= boundary:
            cands = [m for p in self.processes for m in p.modules if m.base >= boundary]
        else:
            proc = self.process(i)
            cands = proc.modules if proc else []
        for m in cands:
            if m.base <= address < m.base + m.size:
                return m
        return None

    def _module_table(self, pi: int) -> tuple[list[int], list[tuple[int, int, str]]]:
        cache = self.__dict__.setdefault("_mod_cache", {})
        t = cache.get(pi)
        if t is None:
            mods = sorted(((m.base, m.size, m.name) for m in self.processes[pi].modules), key=lambda x: x[0])
            t = cache[pi] = ([m[0] for m in mods], mods)
        return t

    def _kernel_table(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        t = self.__dict__.get("_kernel_cache")
        if t is None:
            boundary = 0xFFFF800000000000 if self.header.is64 else 0x80000000
            system = [p for p in self.processes if p.pid == 4]
            seen: dict[int, tuple[int, int, str]] = {}
            for p in system + [p for p in self.processes if p.pid != 4]:
                for m in p.modules:
                    if m.base >= boundary:
                        seen.setdefault(m.base, (m.base, m.size, m.name))
            mods = sorted(seen.values())
            t = self.__dict__["_kernel_cache"] = ([m[0] for m in mods], mods)
        return t

    def host_name(self, ip: bytes, v4: bool) -> str:
        name = self._hosts.get(ip, "")
        if name:
            return name
        if v4:
            return ".".join(str(b) for b in ip[:4])
        return ":".join(f"{int.from_bytes(ip[k : k + 2], 'big'):x}" for k in range(0, 16, 2))

    def port_name(self, port: int, tcp: bool) -> str:
        return self._ports.get((port, tcp), str(port))

    def close(self) -> None:
        mm = getattr(self, "_mm", None)
        if mm is not None:
            self.buffer = b""
            # numpy views of the map may still exist in callers; let the GC close it then
            with contextlib.suppress(BufferError):
                mm.close()
            self._mm = None
        fp = getattr(self, "_fp", None)
        if fp is not None:
            fp.close()


@register
class ProcmonParser(Parser):
    """Process Monitor PML captures (events in capture order, kind ``procmon:event``)."""

    name = "procmon"
    description = "Process Monitor capture (PML v9, 32/64-bit): processes, modules, events, stacks"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        head = source.head
        if head[:4] != MAGIC:
            return 0.0
        if len(head) >= 8 and struct.unpack_from("<I", head, 4)[0] == 9:
            return 1.0
        return 0.6

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        try:
            cap = PmlCapture(source.path, ctx.artifact)
        except PmlError as e:
            ctx.warn(str(e))
            return
        with cap:
            reported = 0
            for i in range(len(cap)):
                ev = cap.event(i)
                while reported < len(cap.warnings):
                    ctx.warn(cap.warnings[reported])
                    reported += 1
                yield ev
            while reported < len(cap.warnings):
                ctx.warn(cap.warnings[reported])
                reported += 1
