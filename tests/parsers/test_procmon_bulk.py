"""The full decode (procmon/bulk.py) against the per-event decoder, event for event.

The per-event decoder is itself checked against Procmon's CSV exports (test_procmon_pml.py); here every
event's Path and Detail from the record batches must equal what ``decode_at`` gives for that event alone,
on every corpus and case capture, on a writer capture with one event of every supported operation, and on
captures that are cut, reordered, non-ASCII or otherwise odd.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from culprit.parsers.procmon import bulk
from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon import details as D
from culprit.parsers.procmon.pml import PmlCapture
from culprit.parsers.procmon.writer import PmlWriter
from tests.conftest import case_path, corpus_path
from tests.parsers.test_procmon_writer import build

CORPUS = [
    "LogFileUTC32Filesystem.pml",
    "LogFileUTC64Filesystem.pml",
    "LogFileUTC64Process.pml",
    "LogFileUTC64Registry.pml",
    "LogfileTests32bitUTC.pml",
    "LogfileTests64bitUTC.pml",
]


def same_as_one_by_one(cap: PmlCapture, rows: int = bulk.ROWS) -> int:
    """Assert the table equals the per-event decoder on every event; return the event count."""
    t = bulk.table(cap, rows)
    assert t.num_rows == len(cap)
    ref = [D.decode_at(cap, i, int(o)) for i, o in enumerate(cap.offsets.tolist())]
    paths = t.column("path").to_pylist()
    details = t.column("detail").to_pylist()
    wrong = [
        (i, cap.operation[i], r.path, p, D.detail_text(r.items), d)
        for i, (r, p, d) in enumerate(zip(ref, paths, details, strict=True))
        if r.path != p or D.detail_text(r.items) != d
    ]
    assert wrong[:5] == []
    assert t.column("operation").to_pylist() == list(cap.operation)
    assert t.column("pid").to_pylist() == cap.pid.tolist()
    assert t.column("tid").to_pylist() == cap.tid.tolist()
    assert t.column("result").to_pylist() == [C.result_name(s) for s in cap.result.tolist()]
    names = [p.name for p in cap.processes] + [""]
    assert t.column("process_name").to_pylist() == [names[j] for j in cap.process_index.tolist()]
    ns = t.column("time").cast("int64").to_numpy()
    assert np.array_equal(ns, (cap.time.astype(np.int64) - bulk.FILETIME_UNIX) * 100)
    return len(cap)


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS)
def test_every_corpus_event_equals_the_per_event_decoder(name: str) -> None:
    with PmlCapture(corpus_path("procmon", name)) as cap:
        assert same_as_one_by_one(cap) == len(cap) > 3000
        assert not [w for w in cap.warnings if "damaged" in w]


@pytest.mark.parametrize(
    "rel",
    [
        "edge-injected-dll/bad/procmon/edge_install.PML",
        "edge-injected-dll/good/procmon/edge_install.PML",
        "kb4474419-registry-denied/repro/procmon/reg_repro.PML",
    ],
)
def test_case_captures_equal_the_per_event_decoder(rel: str) -> None:
    case, _, rest = rel.partition("/")
    with PmlCapture(case_path(case, rest)) as cap:
        same_as_one_by_one(cap, rows=1000)  # small batches: rows cross batch boundaries


@pytest.mark.parametrize("is64", [True, False])
def test_one_event_of_every_writer_operation(tmp_path: Path, is64: bool) -> None:
    path = build(is64).write(tmp_path / "w.pml")
    with PmlCapture(path) as cap:
        ops = set(cap.operation)
        assert {"RegSetValue", "CreateFile", "Load Image", "Process Start", "ReadFile"} <= ops
        same_as_one_by_one(cap)


def test_non_ascii_paths_and_registry_data(tmp_path: Path) -> None:
    """Paths outside ASCII (a zh-CN profile), NULs and Latin-1 take the careful path and still match."""
    w = PmlWriter(is64=True)
    p = w.add_process(1200, "setup.exe")
    w.add_event(
        p, "CreateFile", "C:\\Users\\张伟\\AppData\\Local\\Temp\\安装.log", desired_access="Generic Write"
    )
    w.add_event(p, "RegSetValue", "HKLM\\SOFTWARE\\厂商\\产品\\路径", type="REG_SZ", data="C:\\程序\\app.exe")
    w.add_event(p, "RegQueryValue", "HKLM\\SOFTWARE\\Contoso\\Name", type="REG_SZ", data="Müller")
    w.add_event(p, "ReadFile", "C:\\Temp\\a.txt", offset=4096, length=512)
    w.add_event(p, "ReadFile", "C:\\Temp\\a.txt", offset=-1, length=512)
    with PmlCapture(w.write(tmp_path / "zh.pml")) as cap:
        same_as_one_by_one(cap)
        paths = bulk.table(cap).column("path").to_pylist()
    assert paths[0] == "C:\\Users\\张伟\\AppData\\Local\\Temp\\安装.log"


def test_a_truncated_capture_keeps_what_is_there_and_warns(tmp_path: Path) -> None:
    raw = build().write(tmp_path / "s.pml").read_bytes()
    with PmlCapture(tmp_path / "s.pml") as cap:
        cut_at = int(cap.offsets[-3]) + 60  # inside the third-last event's stack/details
    (tmp_path / "cut.pml").write_bytes(raw[:cut_at])
    with PmlCapture(tmp_path / "cut.pml") as cap:
        same_as_one_by_one(cap)
        assert any("past the end of the file" in w for w in cap.warnings)


def _with_offsets(src: Path, dst: Path, order: list[int]) -> None:
    """A copy of ``src`` whose event-offset array lists the events in ``order`` (a crafted capture)."""
    raw = bytearray(src.read_bytes())
    with PmlCapture(src) as cap:
        offs = cap.offsets.tolist()
        at = cap.header.event_offsets_offset
    for j, i in enumerate(order):
        struct.pack_into("<IB", raw, at + 5 * j, offs[i], 0)
    struct.pack_into("<I", raw, 0x234, len(order))  # fewer events: the rest of the array is ignored
    dst.write_bytes(bytes(raw))


def test_reordered_and_repeated_event_offsets(tmp_path: Path) -> None:
    """Offsets out of file order take the sorted path; the same event twice makes spans overlap."""
    path = case_path("kb4474419-registry-denied", "repro/procmon/reg_repro.PML")
    with PmlCapture(path) as cap:
        n = len(cap)
    _with_offsets(path, tmp_path / "rev.pml", list(range(n - 1, n - 400, -1)))
    _with_offsets(path, tmp_path / "dup.pml", [j // 2 for j in range(600)])
    for name in ("rev.pml", "dup.pml"):
        with PmlCapture(tmp_path / name) as cap:
            assert len(cap) in (399, 600)
            same_as_one_by_one(cap)


def test_process_names_without_parsing_module_lists() -> None:
    path = case_path("edge-injected-dll", "bad/procmon/edge_install.PML")
    with PmlCapture(path) as cap:
        fast = cap.process_names
        assert cap._procs is None  # nothing parsed for the names
        assert fast == [p.name for p in cap.processes]
        assert "MicrosoftEdgeUpdate.exe" in fast


def test_an_empty_capture_is_an_empty_table(tmp_path: Path) -> None:
    w = PmlWriter(is64=True)
    w.add_process(4, "System")
    with PmlCapture(w.write(tmp_path / "e.pml")) as cap:
        t = bulk.table(cap)
    assert t.num_rows == 0 and t.schema == bulk.SCHEMA


def test_time_outside_the_timestamp_range_is_null(tmp_path: Path) -> None:
    raw = bytearray(build().write(tmp_path / "s.pml").read_bytes())
    with PmlCapture(tmp_path / "s.pml") as cap:
        off = int(cap.offsets[0])
    struct.pack_into("<Q", raw, off + 0x20, 0xFFFF_FFFF_FFFF_FFF0)  # a FILETIME in year 58,000+
    (tmp_path / "t.pml").write_bytes(bytes(raw))
    with PmlCapture(tmp_path / "t.pml") as cap:
        t = bulk.table(cap)
    times = t.column("time")
    assert not times[0].is_valid and times[1].is_valid
    assert np.all(np.asarray(t.column("status").to_pylist()) == cap.result)


# --- damaged captures: whatever the per-event decoder makes of them, the bulk decode makes too -----------


def _damaged(tmp_path: Path, name: str, edit) -> Path:  # type: ignore[no-untyped-def]
    data = bytearray(build().to_bytes())
    edit(data)
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


def test_a_capture_not_closed_cleanly(tmp_path: Path) -> None:
    p = _damaged(tmp_path, "open.pml", lambda d: d.__setitem__(slice(0x240, 0x268), bytes(0x28)))
    with PmlCapture(p) as cap:
        assert any("not closed cleanly" in w for w in cap.warnings)
        same_as_one_by_one(cap)
        assert set(bulk.table(cap).column("process_name").to_pylist()) == {""}


def test_absurd_depths_and_detail_sizes(tmp_path: Path) -> None:
    def edit(data: bytearray) -> None:
        arr = struct.unpack_from("<Q", data, 0x248)[0]
        for i in range(0, 22, 3):
            off = struct.unpack_from("<I", data, arr + 5 * i)[0]
            struct.pack_into("<H", data, off + 0x28, 0x3FFF)
            struct.pack_into("<I", data, off + 0x2C, 0x7FFFFFFF)

    with PmlCapture(_damaged(tmp_path, "bad.pml", edit)) as cap:
        same_as_one_by_one(cap)
        assert any("past the end of the file" in w for w in cap.warnings)


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_in_detail_blocks(tmp_path: Path, seed: int) -> None:
    """Garbage where the fields are (string counts, lengths, extra offsets, classes): the bulk decode must
    make exactly what the per-event decoder makes of every event, and never raise."""
    rng = np.random.default_rng(seed)

    def edit(data: bytearray) -> None:
        arr = struct.unpack_from("<Q", data, 0x248)[0]
        offs = [struct.unpack_from("<I", data, arr + 5 * i)[0] for i in range(22)] + [arr]
        for i in range(22):
            start, end = offs[i] + 0x34, offs[i + 1]
            for _ in range(int(rng.integers(1, 6))):
                if end > start:
                    data[int(rng.integers(start, end))] = int(rng.integers(0, 256))
            if rng.random() < 0.2:  # the extra-detail offset too
                struct.pack_into("<I", data, offs[i] + 0x30, int(rng.integers(0, 400)))

    with PmlCapture(_damaged(tmp_path, f"r{seed}.pml", edit)) as cap:
        same_as_one_by_one(cap)


@pytest.mark.parametrize("seed", [3, 17])
def test_random_bytes_in_a_real_capture(tmp_path: Path, seed: int) -> None:
    """Bytes flipped in 5% of the events of a real capture (seed 3 once caught a CreateFile whose SID
    length said 'impersonating' while the block held no SID: the key missed the length)."""
    src = case_path("kb4474419-registry-denied", "repro/procmon/reg_repro.PML")
    rng = np.random.default_rng(seed)
    data = bytearray(src.read_bytes())
    with PmlCapture(src) as cap:
        offs = [*cap.offsets.astype(np.int64).tolist(), cap.header.event_offsets_offset]
    for i in rng.choice(len(offs) - 1, size=len(offs) // 20, replace=False).tolist():
        a, b = offs[i] + 0x34, offs[i + 1]
        for _ in range(int(rng.integers(1, 8))):
            if b > a:
                data[int(rng.integers(a, b))] = int(rng.integers(0, 256))
        if rng.random() < 0.1:
            struct.pack_into("<I", data, offs[i] + 0x30, int(rng.integers(0, 2000)))
        if rng.random() < 0.05:
            struct.pack_into("<I", data, offs[i] + 0x2C, int(rng.integers(0, 5000)))
    (tmp_path / "f.pml").write_bytes(bytes(data))
    with PmlCapture(tmp_path / "f.pml") as cap:
        same_as_one_by_one(cap)
