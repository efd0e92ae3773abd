"""Fleet throughput: bundles/s on Dask with 1 and 2 local workers, next to plain-Python peers.

``--bundles`` (default 2,000) small bundles are generated in a temporary folder from the KB4474419
case's text files (``CBS.log``, ``setupapi.dev.log``, ``cpu.inf``, the AmdK8 ``Get-Acl`` text and a
collector ``manifest.json`` with its own host name); one in five is a clean endpoint (the previous
session's CBS log and the INF only, no failure). No captures: the point is per-bundle overhead, not parser speed.

Measured, each on the same bundles:

- ``serial``: one Python process calling :func:`culprit.fleet.endpoint.analyze_bundle` in a loop
  (``--peer-bundles`` of them, after one warm-up bundle) — the floor any scheduler adds to;
- ``process pool (2)``: :class:`concurrent.futures.ProcessPoolExecutor` with 2 processes, same function;
- ``dask 1 worker`` / ``dask 2 workers``: ``culprit.fleet.runner.run`` on a LocalCluster over all
  bundles, wall time including cluster start, journal and writing Parquet + summaries;
- ``dask 2 workers, resume``: the same run again, every bundle skipped by its hash.

Ratios are printed against ``serial`` and ``process pool (2)``. The machine is shared: run it when
nothing else is busy, and read the ratios more than the absolute numbers.

Usage::

    .venv/bin/python bench/fleet.py                       # 2,000 bundles (issue 10)
    .venv/bin/python bench/fleet.py --bundles 300 --peer-bundles 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT.parent / "shared" / "cases" / "kb4474419-registry-denied" / "bad"
FILES = ("Windows/Logs/CBS/CBS.log", "Windows/inf/setupapi.dev.log", "Windows/inf/cpu.inf", "system/AmdK8_acl.txt")
PERSIST = "Windows/Logs/CBS/CbsPersist_20240903101522.cab"


def generate(root: Path, n: int) -> list[str]:
    """``n`` small bundles under ``root``; every fifth is clean."""
    from culprit.ingest import open_bundle

    with open_bundle(CASE / PERSIST) as cab:  # the previous CBS session, no failure in it
        clean_cbs = cab.sources[0].path.read_bytes()
    blobs = {rel: (CASE / rel).read_bytes() for rel in FILES}
    out = []
    for i in range(n):
        b = root / f"ws-{i:05d}"
        clean = i % 5 == 4
        for rel, data in blobs.items():
            if clean and rel.endswith((".log", ".txt")) and not rel.endswith("CBS.log"):
                continue  # a clean endpoint: its CBS log and the INF, nothing that records the failure
            p = b / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(clean_cbs if clean and rel.endswith("CBS.log") else data)
        doc = {"schema": "culprit.manifest/1", "host": f"BANK-WS-{i:05d}", "os_build": "7601.24384",
               "locale": "zh-CN", "timezone_offset_minutes": 480}
        (b / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
        out.append(str(b))
    return out


def _serial(paths: list[str]) -> float:
    from culprit.fleet.endpoint import analyze_bundle

    analyze_bundle(paths[0])  # imports and knowledge base, once per process
    t = time.perf_counter()
    for p in paths:
        analyze_bundle(p)
    return time.perf_counter() - t


def _warm(_: int) -> None:
    from culprit.fleet.endpoint import analyze_bundle

    analyze_bundle(_WARM)


_WARM = ""


def _pool(paths: list[str], n: int) -> float:
    from culprit.fleet.endpoint import analyze_bundle

    global _WARM
    _WARM = paths[0]
    with ProcessPoolExecutor(n) as ex:
        list(ex.map(_warm, range(n)))  # start and warm the processes outside the timing
        t = time.perf_counter()
        rows = list(ex.map(analyze_bundle, paths, chunksize=1))
        dt = time.perf_counter() - t
    assert len(rows) == len(paths)
    return dt


def _dask(paths: list[str], out: Path, workers: int, resume: bool) -> tuple[float, object]:
    from culprit.fleet import runner

    t = time.perf_counter()
    res = runner.run(paths, out, workers=workers, resume=resume)
    return time.perf_counter() - t, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundles", type=int, default=2000)
    ap.add_argument("--peer-bundles", type=int, default=200, help="bundles for the serial/pool peers")
    ap.add_argument("--keep", action="store_true", help="keep the generated bundles and outputs")
    args = ap.parse_args()
    if not CASE.exists():
        print(f"needs the shared case bundle: {CASE}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="culprit-bench-fleet-"))
    try:
        t = time.perf_counter()
        paths = generate(tmp / "bundles", args.bundles)
        size = sum(f.stat().st_size for f in (tmp / "bundles").rglob("*") if f.is_file())
        print(f"generated {len(paths)} bundles ({size / len(paths) / 1024:.0f} KiB each) in "
              f"{time.perf_counter() - t:.1f} s; {os.cpu_count()} CPUs")
        peers = paths[: args.peer_bundles]
        results: dict[str, float] = {}
        dt = _serial(peers)
        results["serial"] = len(peers) / dt
        dt = _pool(peers, 2)
        results["process pool (2)"] = len(peers) / dt
        for w in (1, 2):
            dt, res = _dask(paths, tmp / f"out{w}", w, resume=False)
            results[f"dask {w} worker{'s' if w > 1 else ''}"] = len(paths) / dt
            counts = [(c.outcome, c.count) for c in res.clusters]  # type: ignore[attr-defined]
            print(f"  dask {w}: {dt:.1f} s, clusters {counts}")
        dt, res = _dask(paths, tmp / "out2", 2, resume=True)
        results["dask 2 workers, resume"] = len(paths) / dt
        print(f"  resume: {dt:.1f} s, reused {res.reused}")  # type: ignore[attr-defined]
        base, pool = results["serial"], results["process pool (2)"]
        print(f"\n{'run':<26}{'bundles/s':>11}{'vs serial':>11}{'vs pool(2)':>12}")
        for name, rate in results.items():
            print(f"{name:<26}{rate:>11.1f}{rate / base:>10.2f}x{rate / pool:>11.2f}x")
        print(f"\ndask 2 workers / dask 1 worker: {results['dask 2 workers'] / results['dask 1 worker']:.2f}x")
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
