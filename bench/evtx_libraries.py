"""Compare EVTX readers on the shared corpus: records/s and robustness (bench, not a test).

Usage: ``python bench/evtx_libraries.py [corpus_dir]``. Libraries that are not installed are
skipped. Peers: the Rust-backed ``evtx`` (PyEvtxParser, JSON output), ``python-evtx`` (pure
Python, XML output) and ``dissect.eventlog`` (pure Python, dict output). For each file it counts
records read, records that raised, and whether the whole file aborted; it then repeats on a
truncated copy and on a copy with garbage written over the middle of one chunk.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _rust(path: str) -> tuple[int, int]:
    from evtx import PyEvtxParser

    ok = bad = 0
    it = PyEvtxParser(path).records_json()
    while True:
        try:
            rec = next(it)
        except StopIteration:
            break
        except Exception:
            bad += 1
            continue
        _ = rec["data"]
        ok += 1
    return ok, bad


def _python_evtx(path: str) -> tuple[int, int]:
    import Evtx.Evtx as E

    ok = bad = 0
    with E.Evtx(path) as log:
        for rec in log.records():
            try:
                rec.xml()
                ok += 1
            except Exception:
                bad += 1
    return ok, bad


def _dissect(path: str) -> tuple[int, int]:
    from dissect.eventlog.evtx import Evtx

    ok = bad = 0
    with open(path, "rb") as fh:
        it = iter(Evtx(fh))
        while True:
            try:
                rec = next(it)
            except StopIteration:
                break
            except Exception:
                bad += 1
                break  # the iterator cannot resume after an error
            _ = dict(rec)
            ok += 1
    return ok, bad


PEERS: dict[str, Callable[[str], tuple[int, int]]] = {
    "evtx (Rust)": _rust,
    "python-evtx": _python_evtx,
    "dissect.eventlog": _dissect,
}


def _available(name: str) -> bool:
    mod = {"evtx (Rust)": "evtx", "python-evtx": "Evtx", "dissect.eventlog": "dissect.eventlog"}[name]
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def _run(fn: Callable[[str], tuple[int, int]], path: str) -> tuple[int, int, str]:
    try:
        ok, bad = fn(path)
        return ok, bad, ""
    except Exception as e:  # a whole-file abort is a robustness result
        return 0, 0, f"{type(e).__name__}"


def _damaged(src: Path, tmp: Path) -> list[tuple[str, str]]:
    data = src.read_bytes()
    out = []
    t = tmp / f"trunc_{src.name}"
    t.write_bytes(data[: 4096 + 65536 + 30000] if len(data) > 100000 else data[: len(data) // 2])
    out.append(("truncated", str(t)))
    g = tmp / f"garbage_{src.name}"
    b = bytearray(data)
    start = 4096 + 512 + 8000
    b[start : start + 4000] = os.urandom(4000)
    g.write_bytes(bytes(b))
    out.append(("garbage", str(g)))
    return out


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared/corpus/evtx"
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    files = sorted(corpus.glob("*.evtx"))
    peers = [n for n in PEERS if _available(n)]
    total_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} files, {total_mb:.1f} MB; peers: {', '.join(peers)}")
    base: float | None = None
    for name in peers:
        fn = PEERS[name]
        t0 = time.perf_counter()
        recs = bads = aborts = 0
        for f in files:
            ok, bad, err = _run(fn, str(f))
            recs += ok
            bads += bad
            aborts += bool(err)
        dt = time.perf_counter() - t0
        base = base or recs / dt
        print(f"{name:18s} {recs:6d} records  {bads:3d} bad  {aborts} aborted  {dt:6.2f} s  "
              f"{recs / dt:8.0f} rec/s  ({recs / dt / base:.2f}x of first)")
    with tempfile.TemporaryDirectory() as td:
        for name in peers:
            res = []
            for f in files[:4]:
                for label, p in _damaged(f, Path(td)):
                    ok, bad, err = _run(PEERS[name], p)
                    res.append(f"{label}:{ok}/{bad}{'!' + err if err else ''}")
            print(f"{name:18s} damaged (ok/bad): {' '.join(res)}")


if __name__ == "__main__":
    main()
