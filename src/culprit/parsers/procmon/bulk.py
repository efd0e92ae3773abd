"""Full decode of a PML capture: every event's columns, Path and Detail at once, as Arrow record batches.

Format: Sysinternals Process Monitor backing files (``*.PML``, version 9); layout in
:mod:`culprit.parsers.procmon.structs` and :mod:`culprit.parsers.procmon.details`.

How: the per-event decoder (:mod:`~culprit.parsers.procmon.details`) is the reference; this module gets the
same text without running it once per event.

* Path: where each event's path string starts, its length and encoding are computed for a whole batch with
  numpy (the layout depends only on class and operation); the strings are cut out of the mapped file by
  Arrow's ``take`` over a binary array whose offsets point into the file, and UTF-16 paths whose code units
  are all ASCII become UTF-8 by dropping their zero bytes. Only paths with other characters (or a NUL) are
  decoded one by one.
* Detail: for each operation, the fields its Detail depends on are read for the whole group (fixed fields
  from a window at the detail block's start, variable ones such as registry data or a query's result block
  as dictionary codes of their bytes), and events whose fields are all equal share one text. Each distinct
  text is made once, by a small formatter for the high-cardinality operations (ReadFile/WriteFile offsets,
  thread ids, image bases) and otherwise by the per-event decoder run on one representative event.
* Events the bulk path cannot vouch for (blocks cut by the end of the file, fields past their block, rare
  operations such as Process Start or network events) go through the per-event decoder, which also says
  what was lost; its warnings land in ``cap.warnings`` as they do when decoding one event at a time.

``tests/parsers/test_procmon_bulk.py`` checks every event of every corpus and case capture against the
per-event decoder.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon import details as D
from culprit.parsers.procmon.structs import EVENT_HEADER_SIZE

if TYPE_CHECKING:
    from culprit.parsers.procmon.pml import PmlCapture

ROWS = 1 << 16  # events per record batch
HEAD = 72  # bytes read at each detail block's start: every fixed field that precedes a path
TAIL = 16  # bytes read right after a path
FILETIME_UNIX = 116444736000000000  # 1601-01-01 -> 1970-01-01 in 100 ns ticks

SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ns", tz="UTC")),
        ("process_name", pa.dictionary(pa.int32(), pa.large_string())),
        ("pid", pa.uint32()),
        ("tid", pa.uint32()),
        ("operation", pa.dictionary(pa.int32(), pa.large_string())),
        ("path", pa.large_string()),
        ("result", pa.dictionary(pa.int32(), pa.large_string())),
        ("detail", pa.large_string()),
        ("duration", pa.duration("ns")),
        ("status", pa.uint32()),
        ("event_class", pa.uint8()),
        ("process_index", pa.uint32()),
    ]
)


def table(cap: PmlCapture, rows: int = ROWS) -> pa.Table:
    """Every event of ``cap`` as one Arrow table (see :data:`SCHEMA`)."""
    return pa.Table.from_batches(list(batches(cap, rows)), schema=SCHEMA)


def batches(cap: PmlCapture, rows: int = ROWS) -> Iterator[pa.RecordBatch]:
    """Every event of ``cap`` in capture order, ``rows`` events per record batch (see :data:`SCHEMA`).

    Memory: one batch of columns plus its strings; the mapped pages of a decoded batch are released.
    """
    n = len(cap)
    if n == 0:
        yield pa.RecordBatch.from_pylist([], schema=SCHEMA)
        return
    mem = _Memory(cap)
    names = pa.array([*cap.process_names, ""], pa.large_string())
    ops = pa.array(list(cap.operation_names) or [C.UNKNOWN], pa.large_string())
    try:
        for a in range(0, n, rows):
            b = min(n, a + rows)
            yield _Batch(cap, mem, a, b).record_batch(names, ops)
            cap._release(int(cap.offsets[a]), int(cap.offsets[b - 1]) + EVENT_HEADER_SIZE)
    finally:
        mem.close()


class _Memory:
    """The mapped file as numpy and Arrow views (released with :meth:`close` so the map can close)."""

    def __init__(self, cap: PmlCapture) -> None:
        self.whole: bytes | mmap.mmap = cap.buffer
        self.u8 = np.frombuffer(cap.buffer, np.uint8)
        self.size = int(self.u8.shape[0])
        self.arrow = pa.py_buffer(self.u8)
        self._windows: dict[int, np.ndarray] = {}

    def window(self, pos: np.ndarray, width: int) -> np.ndarray:
        """``width`` bytes at each position as rows (zero-filled past the end of the file)."""
        n = pos.shape[0]
        last = self.size - width
        if last < 0:
            out = np.zeros((n, width), np.uint8)
        else:
            # every ``width``-byte run of the file as one void item: a gather copies whole rows
            win = self._windows.get(width)
            if win is None:
                win = self._windows[width] = np.ndarray(
                    buffer=self.u8, dtype=np.dtype(f"V{width}"), shape=(last + 1,), strides=(1,)
                )
            out = win[np.minimum(pos, last)].view(np.uint8).reshape(n, width)
        for j in np.flatnonzero(pos > last).tolist():
            p = int(pos[j])
            chunk = self.u8[p : p + width]
            out[j] = 0
            out[j, : chunk.shape[0]] = chunk
        return out

    def spans(self, start: np.ndarray, end: np.ndarray) -> pa.LargeBinaryArray:
        """The bytes ``[start, end)`` of each row as a binary array (copied out of the file)."""
        n = start.shape[0]
        if n == 0:
            return pa.array([], pa.large_binary())
        if n == 1 or bool(np.all(start[1:] >= end[:-1])):
            return self._take(start, end)
        order = np.argsort(start, kind="stable")
        s, e = start[order], end[order]
        if bool(np.all(s[1:] >= e[:-1])):
            inverse = np.empty(n, np.int64)
            inverse[order] = np.arange(n)
            return self._take(s, e).take(pa.array(inverse))
        # overlapping spans (a crafted capture): gather byte by byte
        lens = (end - start).astype(np.int64)
        offs = np.zeros(n + 1, np.int64)
        np.cumsum(lens, out=offs[1:])
        idx = np.repeat(start - offs[:-1], lens) + np.arange(int(offs[-1]), dtype=np.int64)
        data = self.u8[idx]
        return pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), n, [None, pa.py_buffer(offs), pa.py_buffer(data)]
        )

    def _take(self, start: np.ndarray, end: np.ndarray) -> pa.LargeBinaryArray:
        # a binary array over the whole file whose even entries are the spans and odd ones the gaps
        n = start.shape[0]
        offs = np.empty(2 * n, np.int64)
        offs[0::2] = start
        offs[1::2] = end
        offs = np.append(offs, end[-1])
        whole = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), 2 * n, [None, pa.py_buffer(offs), self.arrow]
        )
        return whole.take(pa.array(np.arange(0, 2 * n, 2, dtype=np.int64)))

    def close(self) -> None:
        self._windows.clear()
        self.whole = b""
        self.arrow = None  # type: ignore[assignment]
        self.u8 = np.zeros(0, np.uint8)


class _Batch:
    """Events ``[a, b)`` of a capture: header columns, where each block lies, and the decoded strings."""

    def __init__(self, cap: PmlCapture, mem: _Memory, a: int, b: int) -> None:
        self.cap, self.mem, self.a = cap, mem, a
        self.n = n = b - a
        self.ps = ps = cap.pointer_size
        off = cap.offsets[a:b].astype(np.int64)
        self.off = off
        sizes = mem.window(off + 0x2C, 8).view("<u4")
        self.size = sizes[:, 0].astype(np.int64)
        xo = sizes[:, 1].astype(np.int64)
        self.ds = off + EVENT_HEADER_SIZE + cap.depth[a:b].astype(np.int64) * ps
        self.de = self.ds + self.size
        fsize = mem.size
        # the extra-detail block: a u16 size at the event start + extra_offset, then the bytes
        has_x = xo != 0
        xp = off + xo
        xlen = np.zeros(n, np.int64)
        okx = has_x & (xp + 2 <= fsize)
        if okx.any():
            w = mem.window(xp[okx], 2)
            xlen[okx] = w[:, 0].astype(np.int64) | (w[:, 1].astype(np.int64) << 8)
        self.xb = np.where(has_x, xp + 2, -1)
        self.xe = np.where(has_x, xp + 2 + xlen, -1)
        # what the per-event decoder would report as damaged, and anything odd: decoded one by one
        self.slow = (self.de > fsize) | (has_x & ((xp + 2 > fsize) | (self.xe > fsize)))
        self.head = mem.window(self.ds, HEAD)
        self.klass = cap.event_class[a:b]
        self.op = cap.op[a:b]
        self.sub = cap.sub[a:b]
        self.tid = cap.tid[a:b]
        self.status = cap.result[a:b]
        # path: absolute start, byte length, ASCII flag (length 0: no path)
        self.p_at = self.ds.copy()
        self.p_len = np.zeros(n, np.int64)
        self.p_ascii = np.ones(n, bool)
        self.filters: dict[int, str] = {}  # row -> QueryDirectory filter, shown after the path
        # detail: a code per event into the concatenation of self.pieces (texts made per distinct key)
        self.code = np.zeros(n, np.int64)
        self.pieces: list[pa.Array] = [pa.array([""], pa.large_string())]
        self.count = 1
        self.given_paths: list[tuple[int, str]] = []  # (row, path) made by a representative's decoder

    # --- groups --------------------------------------------------------------------------------------------

    def run(self) -> None:
        key = (self.klass.astype(np.uint32) << 24) | (self.op.astype(np.uint32) << 8)
        fs = (self.klass == 3) | (self.klass == 6)
        key[fs] |= self.sub[fs].astype(np.uint32)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        cuts = np.flatnonzero(np.diff(ks)) + 1
        for rows in np.split(order, cuts):
            if rows.shape[0] == 0:
                continue
            rows = rows[~self.slow[rows]]
            if rows.shape[0] == 0:
                continue
            k = int(key[rows[0]])
            klass, op, sub = k >> 24, (k >> 8) & 0xFFFF, k & 0xFF
            handler = _CLASSES.get(klass)
            if handler is None:
                continue  # unknown class: no path, no detail (as the per-event decoder says)
            handler(_Group(self, rows), op, sub)

    def record_batch(self, names: pa.Array, ops: pa.Array) -> pa.RecordBatch:
        self.run()
        path = self._paths()
        detail = self._details()
        cap, a, n = self.cap, self.a, self.n
        b = a + n
        ft = cap.time[a:b].astype(np.int64)
        ok = (ft >= FILETIME_UNIX - (1 << 63) // 100 + 1) & (ft <= FILETIME_UNIX + ((1 << 63) - 1) // 100)
        ns = np.where(ok, (ft - FILETIME_UNIX) * 100, 0)
        time = pa.array(ns, pa.timestamp("ns", tz="UTC"), mask=~ok)
        pi = cap.process_index[a:b]
        nproc = len(names) - 1
        pname = pa.DictionaryArray.from_arrays(pa.array(np.minimum(pi, nproc).astype(np.int32)), names)
        oid = cap.operation_id[a:b].astype(np.int32)
        operation = pa.DictionaryArray.from_arrays(pa.array(np.minimum(oid, len(ops) - 1)), ops)
        uniq, inv = np.unique(self.status, return_inverse=True)
        result = pa.DictionaryArray.from_arrays(
            pa.array(inv.reshape(-1).astype(np.int32)),
            pa.array([C.result_name(s) for s in uniq.tolist()], pa.large_string()),
        )
        dur = pa.array(cap.duration[a:b].astype(np.int64) * 100, pa.duration("ns"))
        return pa.RecordBatch.from_arrays(
            [
                time,
                pname,
                pa.array(cap.pid[a:b]),
                pa.array(self.tid),
                operation,
                path,
                result,
                detail,
                dur,
                pa.array(self.status),
                pa.array(self.klass),
                pa.array(pi),
            ],
            schema=SCHEMA,
        )

    # --- strings -------------------------------------------------------------------------------------------

    def _paths(self) -> pa.Array:
        n = self.n
        fast = ~self.slow
        py_rows: list[int] = []
        py_text: list[str] = []
        pieces: list[pa.Array] = []
        where = np.zeros(n, np.int64)  # row -> index in the concatenation of pieces
        base = 0
        for ascii_ in (True, False):
            rows = np.flatnonzero(fast & (self.p_ascii == ascii_))
            if rows.shape[0] == 0:
                continue
            start = self.p_at[rows]
            raw = self.mem.spans(start, start + self.p_len[rows])
            arr, bad = _as_utf8(raw, ascii_)
            for j in bad.tolist():
                r = int(rows[j])
                py_rows.append(r)
                py_text.append(D.string_text(raw[j].as_py(), ascii_))
            pieces.append(arr)
            where[rows] = base + np.arange(rows.shape[0])
            base += rows.shape[0]
        for r, text in self.given_paths:
            if not self.slow[r]:
                py_rows.append(r)
                py_text.append(text)
        # rows decoded one by one: damaged or rare events, and paths outside ASCII
        for r in np.flatnonzero(self.slow).tolist():
            py_rows.append(r)
            py_text.append(self._slow(r)[0])
        if py_rows:
            pieces.append(pa.array(py_text, pa.large_string()))
            where[np.array(py_rows, np.int64)] = base + np.arange(len(py_rows))
        paths = pa.concat_arrays(pieces) if len(pieces) > 1 else pieces[0]
        out = paths.take(pa.array(where))
        rows = [r for r in self.filters if not self.slow[r]]
        if rows:  # QueryDirectory paths end with the filter the call named
            joined = [
                D.directory_path(p, self.filters[r])
                for r, p in zip(rows, out.take(rows).to_pylist(), strict=True)
            ]
            where = np.arange(n, dtype=np.int64)
            where[rows] = n + np.arange(len(rows))
            out = pa.concat_arrays([out, pa.array(joined, pa.large_string())]).take(pa.array(where))
        return out

    def _details(self) -> pa.Array:
        slow = np.flatnonzero(self.slow)
        if slow.shape[0]:
            self.code[slow] = self._add(
                pa.array([self._slow(int(r))[1] for r in slow.tolist()], pa.large_string())
            )
        return pa.concat_arrays(self.pieces).take(pa.array(self.code))

    def _add(self, texts: pa.Array) -> np.ndarray:
        """Append texts; return their codes."""
        base = self.count
        self.pieces.append(texts)
        self.count += len(texts)
        return base + np.arange(len(texts))

    def _slow(self, r: int) -> tuple[str, str]:
        """Path and Detail of batch row ``r`` by the per-event decoder (cached: both columns ask)."""
        cache = self.__dict__.setdefault("_slow_cache", {})
        hit = cache.get(r)
        if hit is None:
            d = D.decode_at(self.cap, self.a + r, int(self.off[r]), self.mem.whole)
            if d.damaged:
                self.cap._warn_once(d.damaged)
            hit = cache[r] = (d.path, D.detail_text(d.items))
        return hit

    def text(
        self,
        rows: np.ndarray,
        keys: list[np.ndarray],
        fmt: Callable[..., D.Items] | None,
        path: bool = False,
        vfmt: Callable[..., pa.Array] | None = None,
    ) -> None:
        """Give ``rows`` their Detail: one text per distinct key tuple, by ``fmt(*key)`` (``vfmt(*columns)``
        when there are many), or by decoding a representative event (its own rows go one by one if that
        event turns out damaged); with ``path``, the representative's path too."""
        first, inverse = _distinct(keys, rows.shape[0])
        if vfmt is not None and first.shape[0] >= VECTOR_MIN:
            self.code[rows] = self._add(vfmt(*(k[first] for k in keys)))[inverse]
            return
        texts: list[str] = []
        paths: list[str] = []
        redo: list[int] = []
        if fmt is not None:
            cols = [k[first].tolist() for k in keys]
            texts = [D.detail_text(fmt(*vals)) for vals in zip(*cols, strict=True)]
        else:
            for u, j in enumerate(first.tolist()):
                r = int(rows[j])
                d = D.decode_at(self.cap, self.a + r, int(self.off[r]), self.mem.whole)
                if d.damaged:
                    redo.append(u)
                texts.append(D.detail_text(d.items))
                paths.append(d.path)
        if path:
            self.given_paths.extend(zip(rows.tolist(), (paths[u] for u in inverse.tolist()), strict=True))
        self.code[rows] = self._add(pa.array(texts, pa.large_string()))[inverse]
        for u in redo:
            self.slow[rows[inverse == u]] = True


VECTOR_MIN = 64  # distinct keys from which an operation's texts are made by Arrow kernels, not one by one


def _L(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _cat(*parts: str | pa.Array) -> pa.Array:
    """Concatenate text columns and literals element-wise."""
    return pc.binary_join_element_wise(*(_L(p) if isinstance(p, str) else p for p in parts), _L(""))


def _dec(v: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(v.astype(np.int64)), pa.large_string())


def _seconds(ticks: np.ndarray) -> pa.Array:
    """``s.fffffff`` as :func:`details.seconds` prints 100 ns ticks."""
    t = ticks.astype(np.uint64)
    frac = pc.utf8_lpad(_dec((t % np.uint64(10_000_000)).astype(np.int64)), 7, "0")
    return _cat(_dec((t // np.uint64(10_000_000)).astype(np.int64)), ".", frac)


def _digits_text(chars: np.ndarray, keep: np.ndarray) -> pa.Array:
    """Rows of right-aligned characters, of which the last ``keep`` per row are the text."""
    n, width = chars.shape
    mask = np.arange(width)[None, :] >= (width - keep)[:, None]
    offs = np.zeros(n + 1, np.int64)
    np.cumsum(keep, out=offs[1:])
    data = chars[mask]
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offs), pa.py_buffer(np.ascontiguousarray(data)))


def _num(v: np.ndarray) -> pa.Array:
    """``1,234,567`` as :func:`details.num` prints a signed 64-bit count."""
    s = v.astype(np.int64)
    neg = s < 0
    a = np.where(neg, -(s + 1), s).astype(np.uint64) + neg.astype(np.uint64)  # |s| without overflow
    n = a.shape[0]
    width = 27  # 20 digits, 6 commas, a sign
    chars = np.full((n, width), ord(","), np.uint8)
    ndig = np.ones(n, np.int64)
    rest = a.copy()
    col = width - 1
    for k in range(20):
        if k and k % 3 == 0:
            col -= 1  # a comma
        chars[:, col] = (rest % np.uint64(10)).astype(np.uint8) + ord("0")
        rest //= np.uint64(10)
        col -= 1
        if k:
            ndig += a >= np.uint64(10**k)
    keep = ndig + (ndig - 1) // 3
    chars[np.arange(n), width - 1 - keep] = ord("-")
    return _digits_text(chars, keep + neg)


def _hex(v: np.ndarray) -> pa.Array:
    """Lower-case hex digits of an unsigned 64-bit value, without leading zeros."""
    a = v.astype(np.uint64)
    n = a.shape[0]
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    chars = np.empty((n, 16), np.uint8)
    keep = np.ones(n, np.int64)
    for k in range(16):
        chars[:, 15 - k] = digits[((a >> np.uint64(4 * k)) & np.uint64(15)).astype(np.int64)]
        if k:
            keep += a >= (np.uint64(1) << np.uint64(4 * k))
    return _digits_text(chars, keep)


def _read_write(offset: np.ndarray, length: np.ndarray, flags: np.ndarray) -> pa.Array:
    """ReadFile/WriteFile Detail: offset and length, then the few distinct I/O flag / priority texts."""
    uniq, inv = np.unique(flags, return_inverse=True)
    tails = [D.detail_text(D.read_write_items(0, 0, f)[2:]) for f in uniq.tolist()]
    tail = pa.array([", " + t if t else "" for t in tails], pa.large_string()).take(pa.array(inv.reshape(-1)))
    return _cat("Offset: ", _num(offset), ", Length: ", _num(length), tail)


def _distinct(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """First row of each distinct key tuple, and row -> distinct index (numbered in order of appearance).

    The tuple's columns, as 8-byte values side by side, make one fixed-size binary value per row that
    Arrow's ``dictionary_encode`` hashes in one pass.
    """
    if not keys:
        return np.zeros(1, np.int64), np.zeros(n, np.int64)
    m = np.empty((n, len(keys)), np.uint64)
    for j, k in enumerate(keys):
        m[:, j] = k.astype(np.uint64) if k.dtype != np.int64 else k.view(np.uint64)
    rows = pa.FixedSizeBinaryArray.from_buffers(pa.binary(8 * len(keys)), n, [None, pa.py_buffer(m)])
    code = pc.dictionary_encode(rows).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # codes are handed out in order of first appearance: a row is a first one where a new maximum starts
    new = np.empty(n, bool)
    new[0] = True
    new[1:] = code[1:] > np.maximum.accumulate(code)[:-1]
    return np.flatnonzero(new), code


def _as_utf8(raw: pa.LargeBinaryArray, ascii_: bool) -> tuple[pa.Array, np.ndarray]:
    """Strings from detail-string bytes, and the rows that need a careful decode (non-ASCII, NUL)."""
    n = len(raw)
    offs = np.frombuffer(raw.buffers()[1], np.int64, count=n + 1, offset=raw.offset * 8)
    data_buf = raw.buffers()[2]
    lo, hi = int(offs[0]), int(offs[-1])
    if data_buf is None or hi == lo:
        return pa.array([""] * n, pa.large_string()), np.zeros(0, np.int64)
    data = np.frombuffer(data_buf, np.uint8, count=hi - lo, offset=lo)
    rel = offs - lo
    if ascii_:
        bad_at = np.flatnonzero((data >= 0x80) | (data == 0))
    else:  # UTF-16LE: every code unit below 0x80 (and not NUL) is that ASCII byte
        units = data.view("<u2")
        bad_at = np.flatnonzero((units >= 0x80) | (units == 0)) * 2
        data = units.astype(np.uint8)
    bad = np.unique(np.searchsorted(rel, bad_at, side="right") - 1)
    if not ascii_:
        rel = rel // 2
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(rel), pa.py_buffer(data))
    return arr, bad


class _Group:
    """The events of one operation in a batch: reads their fields, places their path, keys their Detail."""

    def __init__(self, b: _Batch, rows: np.ndarray) -> None:
        self.b = b
        self.rows = rows
        self.h = b.head[rows]
        self.size = b.size[rows]
        self.ok = np.ones(rows.shape[0], bool)  # False: a field the decoder reads lies past the block

    # fixed fields at the detail block's start
    def need(self, nbytes: int | np.ndarray) -> None:
        self.ok &= self.size >= nbytes

    def u16(self, at: int) -> np.ndarray:
        self.need(at + 2)
        return self.h[:, at].astype(np.uint64) | (self.h[:, at + 1].astype(np.uint64) << 8)

    def u32(self, at: int) -> np.ndarray:
        self.need(at + 4)
        return np.ascontiguousarray(self.h[:, at : at + 4]).view("<u4")[:, 0].astype(np.uint64)

    def u64(self, at: int) -> np.ndarray:
        self.need(at + 8)
        return np.ascontiguousarray(self.h[:, at : at + 8]).view("<u8")[:, 0]

    def ptr(self, at: int) -> np.ndarray:
        return self.u64(at) if self.b.ps == 8 else self.u32(at)

    # the path string
    def path(self, info_at: int, at: int) -> None:
        """The path: its u16 info (bit 15 ASCII, count) at ``info_at``, its text at ``at`` in the block."""
        rows = self.rows
        info = self.u16(info_at)
        ascii_ = info > 0x7FFF
        count = (info & 0x7FFF).astype(np.int64)
        nbytes = np.where(ascii_, count, 2 * count)
        # a string cut by its block is decoded one by one (the per-event decoder keeps what is there)
        self.need(at + nbytes)
        b = self.b
        b.p_at[rows] = b.ds[rows] + at
        b.p_len[rows] = nbytes
        b.p_ascii[rows] = ascii_

    @property
    def tail(self) -> np.ndarray:
        """Absolute position right after the path."""
        return self.b.p_at[self.rows] + self.b.p_len[self.rows]

    def tail_window(self) -> np.ndarray:
        return self.b.mem.window(self.tail, TAIL)

    def tail_left(self) -> np.ndarray:
        return self.b.de[self.rows] - self.tail

    # variable fields: dictionary codes of byte spans
    def span(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        return self.span_values(start, end)[0]

    def span_values(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, pa.Array]:
        """Codes of the byte spans ``[start, end)``, and the distinct spans the codes index."""
        d = pc.dictionary_encode(self.b.mem.spans(start, np.maximum(start, end)))
        return d.indices.to_numpy(zero_copy_only=False).astype(np.int64), d.dictionary

    def rest(self) -> np.ndarray:
        """Code of the block's bytes after the path."""
        t = self.tail
        return self.span(t, np.maximum(t, self.b.de[self.rows]))

    def x(self) -> list[np.ndarray]:
        """Keys for the extra-detail block: present or not, and its bytes."""
        xb, xe = self.b.xb[self.rows], self.b.xe[self.rows]
        has = xb >= 0
        return [has.astype(np.uint64), self.span(np.where(has, xb, 0), np.where(has, xe, 0))]

    def x_window(self, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(has an extra block, its length (0: none), its first width bytes as rows)``."""
        xb, xe = self.b.xb[self.rows], self.b.xe[self.rows]
        has = xb >= 0
        return has, np.where(has, xe - xb, 0), self.b.mem.window(np.where(has, xb, 0), width)

    def x_u32(self, at: int) -> tuple[np.ndarray, np.ndarray]:
        """``(x block holds at + 4 bytes, the u32 there)``."""
        xb, xe = self.b.xb[self.rows], self.b.xe[self.rows]
        has = (xb >= 0) & (xe - xb >= at + 4)
        v = np.zeros(self.rows.shape[0], np.uint64)
        if has.any():
            v[has] = self.b.mem.window(xb[has] + at, 4).view("<u4")[:, 0]
        return has.astype(np.uint64), v

    # the Detail
    def per_event(self) -> None:
        self.b.slow[self.rows] = True

    def constant(self) -> None:
        self.done([], None)

    def done(
        self,
        keys: list[np.ndarray],
        fmt: Callable[..., D.Items] | None,
        path: bool = False,
        vfmt: Callable[..., pa.Array] | None = None,
    ) -> None:
        """Texts for the rows whose fields were all readable; the others go one by one (``path``: the
        representative's path is every row's path too)."""
        b = self.b
        bad = ~self.ok
        if bad.any():
            b.slow[self.rows[bad]] = True
        good = self.ok
        if good.any():
            b.text(self.rows[good], [k[good] for k in keys], fmt, path, vfmt)


# --- per class (mirrors details.py: the fields each Detail is made of) -------------------------------------


def _process(g: _Group, op: int, sub: int) -> None:
    ps = g.b.ps
    if op == 3:  # Thread Create
        g.done(
            [g.u32(0)], lambda tid: [("Thread ID", str(tid))], vfmt=lambda tid: _cat("Thread ID: ", _dec(tid))
        )
    elif op == 4:  # Thread Exit: Thread ID (the header's), times
        tid = g.b.tid[g.rows].astype(np.uint64)

        def exits(tid: np.ndarray, kernel: np.ndarray, user: np.ndarray) -> pa.Array:
            return _cat(
                "Thread ID: ", _dec(tid), ", User Time: ", _seconds(user), ", Kernel Time: ", _seconds(kernel)
            )

        g.done([tid, g.u64(4), g.u64(12)], D.thread_exit_items, vfmt=exits)
    elif op == 5:  # Load Image
        base, size = g.ptr(0), g.u32(ps)
        g.path(ps + 4, ps + 8)
        g.done(
            [base, size],
            D.load_image_items,
            vfmt=lambda base, size: _cat("Image Base: 0x", _hex(base), ", Image Size: 0x", _hex(size)),
        )
    elif op in (0, 1, 2, 7, 8):  # Process Create/Defined/Start/Exit/Statistics: rare, one by one
        g.per_event()
    else:
        g.constant()


def _registry(g: _Group, op: int, sub: int) -> None:
    if op in (12, 14):  # RegLoadKey / RegRenameKey: a second string follows the path
        g.per_event()
        return
    if op in (0, 1):  # RegOpenKey / RegCreateKey: access; granted access and disposition in the extra block
        access = g.u32(4)
        g.path(0, 8)
        has, granted = g.x_u32(0)
        has8, disp = g.x_u32(4)
        g.done([access, has, granted, has8, disp], None)
    elif op in (3, 7):  # RegQueryKey / RegEnumKey
        _key_info(g, op)
    elif op in (5, 6):  # RegQueryValue / RegEnumValue
        _value_info(g, op)
    elif op == 4:  # RegSetValue: type, length, data after the path
        keys = [g.u32(4), g.u32(8), g.u16(12)]
        g.path(0, 16)
        g.done([*keys, g.rest()], None)
    elif op == 8:  # RegSetInfoKey: class, length, the value after the path
        keys = [g.u32(4), g.u16(12)]
        g.path(0, 16)
        g.done([*keys, g.rest() * (keys[1] > 0)], None)
    else:
        g.path(0, 2)
        g.constant()


def _xu32(w: np.ndarray, at: int | np.ndarray) -> np.ndarray:
    """The u32 at an offset (one for all rows, or one per row) of window rows; past the window reads 0."""
    width = w.shape[1]
    if isinstance(at, int):
        if at + 4 > width:
            return np.zeros(w.shape[0], np.uint64)
        return np.ascontiguousarray(w[:, at : at + 4]).view("<u4")[:, 0].astype(np.uint64)
    v = np.zeros(w.shape[0], np.uint64)
    for a in np.unique(at).tolist():
        m = at == a
        v[m] = _xu32(w[m], int(a))
    return v


_KEY_CLASSES = {v: k for k, v in C.KEY_INFORMATION_CLASSES.items()}
# key information class -> (bytes the decoder reads, offset of a, offset of b, offset of the name length)
_KEY_LAYOUT = {"Name": (4, -1, -1, -1), "HandleTags": (4, 0, -1, -1), "Flags": (4, 0, -1, -1),
               "Cached": (24, 12, 20, -1), "Basic": (16, -1, -1, 12), "Full": (36, 20, 32, -1),
               "Node": (24, -1, -1, 20)}  # fmt: skip


def _key_info(g: _Group, op: int) -> None:
    enum = op == 7
    n = g.rows.shape[0]
    length = g.u32(4)
    index = g.u32(8) if enum else np.zeros(n, np.uint64)
    klass = g.u32(12 if enum else 8)
    g.path(0, 16 if enum else 12)
    has, xlen, w = g.x_window(40)
    need = np.zeros(n, np.int64)
    a_at, b_at, s_at = (np.full(n, -1, np.int64) for _ in range(3))
    for name, (nb, ao, bo, so) in _KEY_LAYOUT.items():
        k = _KEY_CLASSES.get(name)
        if k is None:
            continue
        m = klass == k
        need[m], a_at[m], b_at[m], s_at[m] = nb, ao, bo, so
    g.ok &= ~has | (xlen >= need)
    a = np.where(has & (a_at >= 0), _xu32(w, np.maximum(a_at, 0)), 0)
    b = np.where(has & (b_at >= 0), _xu32(w, np.maximum(b_at, 0)), 0)
    named = has & (s_at >= 0)
    slen = np.where(named, _xu32(w, np.maximum(s_at, 0)), 0).astype(np.int64)
    xb = g.b.xb[g.rows]
    start = np.where(named, xb + s_at + 4, 0)
    end = np.where(named, np.minimum(start + slen, xb + xlen), 0)
    codes, texts = g.span_values(start, end)
    length = np.where(has, 0, length)

    def fmt(length: int, index: int, klass: int, has: int, a: int, b: int, code: int) -> D.Items:
        name = C.KEY_INFORMATION_CLASSES.get(klass, str(klass))
        if not has:
            return D.key_info_items(op, index, name, length)
        return D.key_info_items(op, index, name, None, a, b, D.wtext(texts[code].as_py()))

    g.done([length, index, klass, has.astype(np.uint64), a, b, codes], fmt)


def _value_info(g: _Group, op: int) -> None:
    enum = op == 6
    n = g.rows.shape[0]
    length = g.u32(4)
    index = g.u32(8) if enum else np.zeros(n, np.uint64)
    klass = g.u32(12 if enum else 8)
    g.path(0, 16 if enum else 12)
    has, xlen, w = g.x_window(20)
    full, partial = has & (klass == 1), has & (klass == 2)
    g.ok &= ~has | (xlen >= np.where(full, 20, np.where(partial, 12, 8)))
    rtype = np.where(has, _xu32(w, 4), 0)
    vlen = np.where(full, _xu32(w, 12), np.where(partial, _xu32(w, 8), 0)).astype(np.int64)
    xb = g.b.xb[g.rows]
    xe = xb + xlen
    # the value name (full information), then the data: at data_off (full) or right after the length
    nlen = np.where(full, _xu32(w, 16), 0).astype(np.int64)
    nstart = np.where(full, xb + 20, 0)
    names, name_texts = g.span_values(nstart, np.where(full, np.minimum(nstart + nlen, xe), 0))
    data_off = _xu32(w, 8).astype(np.int64)
    dstart = np.where(full, np.minimum(xb + data_off, xe), np.where(partial, xb + 12, 0))
    data, data_bytes = g.span_values(dstart, np.where(full | partial, np.minimum(dstart + vlen, xe), 0))
    length = np.where(has, 0, length)

    def fmt(
        length: int, index: int, klass: int, has: int, rtype: int, vlen: int, name: int, data: int
    ) -> D.Items:
        if not has:
            return D.value_info_items(op, index, length)
        return D.value_info_items(
            op, index, None, D.reg_type_name(rtype), klass, vlen,
            D.wtext(name_texts[name].as_py()), data_bytes[data].as_py(),
        )  # fmt: skip

    g.done([length, index, klass, has.astype(np.uint64), rtype, vlen, names, data], fmt)


def _filesystem(g: _Group, op: int, sub: int) -> None:
    ps = g.b.ps
    pad = 4 if ps == 8 else 0
    d = 4  # the FLT parameter block starts after the sub-operation byte and 3 spare bytes
    length = ps * 5 + 0x14
    g.path(d + length, d + length + 4)
    name = C.operation_name(C.FILE_SYSTEM, op, sub)
    if name == C.UNKNOWN:
        g.constant()
        return
    if name in ("ReadFile", "WriteFile"):
        flags_prio = g.u32(d + 4)
        length_ = g.u32(d + 12)
        offset = g.u64(d + 20 + 2 * pad).view(np.int64)
        has, xlen = g.x_u32(0)
        length_ = np.where(has == 1, xlen, length_)
        g.done(
            [offset, length_, flags_prio],
            lambda o, n, f: D.read_write_items(int(np.int64(o)), n, f),
            vfmt=_read_write,
        )
    elif name == "CreateFile":
        t = g.tail_window()
        g.ok &= g.tail_left() >= 8
        access = t[:, 0:4].copy().view("<u4")[:, 0]
        sid_len = t[:, 4].astype(np.int64)
        sid = g.span(g.tail + 8, np.minimum(g.tail + 8 + sid_len, g.b.de[g.rows]))
        first = d + 0x10 + pad
        fields = [g.u32(first), g.u32(first + 4 + pad), g.u32(first + 4 + pad + 4 + 4 + 2 * ps)]
        g.done([access, sid_len, sid, *fields, *g.x_u32(0)], None)
    elif name in ("FileSystemControl", "DeviceIoControl"):
        _ioctl(g, g.u32(d + 8), g.u32(d + 12), g.u32(d + 20 + 2 * pad))
    elif name == "QueryDirectory":
        _directory(g, g.u32(d + 0x14 + 2 * pad))
    elif name == "NotifyChangeDirectory":
        g.done([g.u32(d + 0x10 + pad)], None)
    elif name == "CreateFileMapping":
        failed = (g.b.status[g.rows] != 0).astype(np.uint64)
        late = g.u32(d + 0x14) if ps == 8 else np.zeros(g.rows.shape[0], np.uint64)
        g.done([g.u32(d + 0x0C), g.u32(d + 0x10), late * failed, failed], None)
    elif name in ("QuerySecurityFile", "SetSecurityFile"):
        g.done([g.u32(d + 0x0C)], None)
    elif name == "FASTIO_ACQUIRE_FOR_MOD_WRITE":
        left = g.tail_left()
        t = g.tail_window()
        end = np.where(left >= 8, t[:, 0:8].copy().view("<i8")[:, 0], 0)
        g.done(
            [(left >= 8).astype(np.uint64), end],
            lambda has, e: [("EndingOffset", D.num(int(np.int64(e))))] if has else [],
            vfmt=lambda has, e: pc.if_else(
                pa.array(has.astype(bool)), _cat("EndingOffset: ", _num(e)), _L("")
            ),
        )
    elif name == "FASTIO_MDL_READ_COMPLETE":
        g.done([g.ptr(d + ps + 4)], None)
    elif op == 25 or op == 30:  # Query*Information*: the result is the extra block
        g.done([g.u32(d + 12), *g.x()], None)
    elif op == 26:  # SetInformationFile: the input follows the path
        g.done([g.rest()], None)
    elif op == 37:  # LockFile / UnlockFile*: offset, flags; the length follows the path
        at = d + (0x1C if ps == 8 else 0x14)
        has = g.tail_left() >= 4
        length_ = np.where(has, g.tail_window()[:, 0:4].copy().view("<u4")[:, 0], 0)
        g.done([g.u64(at), g.u16(at + 8 + ps), has.astype(np.uint64), length_], None)
    else:
        g.constant()


def _directory(g: _Group, klass: np.ndarray) -> None:
    """QueryDirectory: the filter after the path, and the names of the entries in the result block (walked
    for all events at once, one entry per step)."""
    b = g.b
    n = g.rows.shape[0]
    left = g.tail_left()
    g.ok &= left >= 2  # the filter's u16 info
    t = g.tail_window()
    info = t[:, 0].astype(np.int64) | (t[:, 1].astype(np.int64) << 8)
    fascii = info > 0x7FFF
    fstart = g.tail + 2
    fend = np.minimum(fstart + np.where(fascii, info & 0x7FFF, 2 * (info & 0x7FFF)), b.de[g.rows])
    filters, filter_bytes = g.span_values(fstart, np.maximum(fstart, fend))
    texts: dict[tuple[int, bool], str] = {}
    for r, code, a in zip(g.rows[g.ok].tolist(), filters[g.ok].tolist(), fascii[g.ok].tolist(), strict=True):
        text = texts.get((code, a))
        if text is None:
            text = texts[(code, a)] = D.string_text(filter_bytes[code].as_py(), a)
        if text:
            b.filters[r] = text
    has, xlen, _ = g.x_window(0)
    xb = b.xb[g.rows]
    len_at = np.zeros(n, np.int64)
    name_at = np.full(n, 1 << 20, np.int64)  # classes without a layout list nothing
    for k, (la, na) in D.DIR_LAYOUT.items():
        m = klass == k
        len_at[m], name_at[m] = la, na
    # walk the entry chains of every event together
    pos = np.zeros(n, np.int64)
    live = np.flatnonzero(has & (name_at <= xlen))
    e_row: list[np.ndarray] = []
    e_start: list[np.ndarray] = []
    e_end: list[np.ndarray] = []
    while live.shape[0]:
        at = xb[live] + pos[live]
        nxt = b.mem.window(at, 4).view("<u4")[:, 0].astype(np.int64)
        ln = b.mem.window(at + len_at[live], 4).view("<u4")[:, 0].astype(np.int64)
        start = at + name_at[live]
        e_row.append(live)
        e_start.append(start)
        e_end.append(np.minimum(start + ln, xb[live] + xlen[live]))
        pos[live] += nxt
        live = live[(nxt != 0) & (pos[live] + name_at[live] <= xlen[live])]
    names = np.zeros(n, np.int64)
    listing: list[np.ndarray] = [np.zeros(0, np.int64)]
    if e_row:
        rows_ = np.concatenate(e_row)
        order = np.argsort(rows_, kind="stable")  # by event, entries in their order
        rows_ = rows_[order]
        s_, e_ = np.concatenate(e_start)[order], np.concatenate(e_end)[order]
        codes, name_bytes = g.span_values(s_, np.maximum(s_, e_))
        # each event's sequence of name codes, as bytes, is its listing key
        count = np.bincount(rows_, minlength=n)
        offs = np.zeros(n + 1, np.int64)
        np.cumsum(count * 4, out=offs[1:])
        seq = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), n, [None, pa.py_buffer(offs), pa.py_buffer(codes.astype("<u4").tobytes())]
        )
        enc = pc.dictionary_encode(seq)
        names = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        listing = [np.frombuffer(v, "<u4") for v in enc.dictionary.to_pylist()]

    def fmt(klass: int, flt: int, ascii_: int, has: int, seq: int) -> D.Items:
        text = D.string_text(filter_bytes[flt].as_py(), bool(ascii_))
        entries = [D.wtext(name_bytes[c].as_py()) for c in listing[seq].tolist()] if has else None
        return D.directory_items(text, klass, entries)

    g.done([klass, filters, fascii.astype(np.uint64), has.astype(np.uint64), names], fmt)


_PIPE_LENGTHS = {"FSCTL_PIPE_INTERNAL_WRITE": (1, 0), "FSCTL_PIPE_INTERNAL_READ": (0, 1),
                 "FSCTL_PIPE_TRANSCEIVE": (1, 1), "FSCTL_PIPE_INTERNAL_TRANSCEIVE": (1, 1)}  # fmt: skip
_OFFLOAD = ("FSCTL_OFFLOAD_READ", "FSCTL_OFFLOAD_WRITE")


def _ioctl(g: _Group, write_len: np.ndarray, read_len: np.ndarray, code: np.ndarray) -> None:
    """FileSystemControl / DeviceIoControl: the code names the control; pipe controls print lengths, offload
    controls an offset and length that follow the path."""
    uniq, inv = np.unique(code, return_inverse=True)
    names = [C.ioctl_name(c) for c in uniq.tolist()]
    uses_w = np.array([_PIPE_LENGTHS.get(nm, (0, 0))[0] for nm in names], bool)[inv]
    uses_r = np.array([_PIPE_LENGTHS.get(nm, (0, 0))[1] for nm in names], bool)[inv]
    offload = np.array([nm in _OFFLOAD for nm in names], bool)[inv] & (g.tail_left() >= 16)
    t = g.tail_window()
    off = np.where(offload, t[:, 0:8].copy().view("<i8")[:, 0], 0)
    length = np.where(offload, t[:, 8:16].copy().view("<u8")[:, 0], 0)

    def fmt(code: int, w: int, r: int, has: int, off: int, length: int) -> D.Items:
        return D.ioctl_items(C.ioctl_name(code), w, r, (int(np.int64(off)), length) if has else None)

    keys = [code, write_len * uses_w, read_len * uses_r, offload.astype(np.uint64), off, length]
    g.done(keys, fmt)


def _network(g: _Group, op: int, sub: int) -> None:
    """TCP/UDP: path (host and port names) and Detail depend on the whole block (few distinct ones)."""
    b = g.b
    g.done([g.span(b.ds[g.rows], b.de[g.rows])], None, path=True)


_CLASSES: dict[int, Callable[[_Group, int, int], None]] = {
    1: _process,
    2: _registry,
    3: _filesystem,
    4: lambda g, op, sub: g.per_event(),  # profiling: rare
    5: _network,
    6: _filesystem,
}
