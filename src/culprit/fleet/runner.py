"""Run the pipeline over many bundles on Dask and keep every finished row, so a run can resume.

Scheduling is Dask's (``distributed``): a :class:`distributed.LocalCluster` of worker processes by
default, or an existing cluster given as ``tcp://HOST:PORT`` (workers must see the bundle paths, e.g.
a shared file system). Each bundle is one task running :func:`culprit.fleet.endpoint.analyze_bundle`
on a worker; results come back as they finish.

Resume: every finished row is appended to ``OUTDIR/journal.jsonl`` (one JSON object per line, UTF-8,
flushed per row). A rerun loads it and sends the set of finished bundle hashes to the workers once
(``scatter``, broadcast); a worker that hashes a bundle into that set returns at once and the old row
is reused. Rows are reused only when written by the same culprit and signature versions; rows of
bundles that could not even be hashed, or whose worker died, are retried.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culprit import __version__
from culprit.errors import CulpritError, InputError, UsageError
from culprit.fleet.bundles import expand
from culprit.fleet.endpoint import ROW_VERSION, analyze_batch, error_row
from culprit.fleet.output import Cluster, write_all

JOURNAL = "journal.jsonl"
_RETRY_KINDS = {"WorkerError", "InternalError", "OSError", "Timeout", "MemoryError", "RecursionError"}
_CONNECT_TIMEOUT = 30
_WORKER_WAIT = 120
_POLL = 0.05  # s between looks at finished tasks when none was ready
_CHECK_EVERY = 5.0  # s between asking the scheduler whether any worker is left
_NO_WORKERS = 300.0  # s without a single worker before a run gives up (its rows are kept)
_STALL = 1800.0  # s without any finished task: the unfinished bundles become Timeout rows
_MAX_BATCH = 16  # bundles per task when there are many: a few ms of scheduling per task, not per bundle


@dataclass
class Progress:
    """Counts passed to the progress callback after every finished bundle."""

    done: int
    total: int
    analyzed: int
    reused: int
    errors: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Bundles per second analyzed or reused so far."""
        n = self.analyzed + self.reused
        return n / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class FleetResult:
    """What a fleet run produced.

    Attributes:
        rows: one row per bundle, in the order the PATHS named them.
        clusters: rows grouped by signature (see :mod:`culprit.fleet.output`).
        analyzed: bundles analyzed in this run.
        reused: bundles whose row came from an earlier run's journal.
        errors: rows with an error.
        seconds: wall time of the analysis phase (connect to write).
        workers: Dask workers that served the run.
        scheduler: the scheduler's address.
        notes: PATHS that named no bundle.
        outdir: where the files are.
    """

    rows: list[dict[str, Any]]
    clusters: list[Cluster]
    analyzed: int
    reused: int
    errors: int
    seconds: float
    workers: int
    scheduler: str
    notes: list[str] = field(default_factory=list)
    outdir: Path = Path(".")


class Journal:
    """``journal.jsonl``: the rows already finished, keyed by bundle hash."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        """Reusable rows by sha256 (a torn last line from a killed run is ignored)."""
        cache: dict[str, dict[str, Any]] = {}
        try:
            fp = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return cache
        with fp:
            for line in fp:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(row, dict) or row.get("version") != ROW_VERSION or not row.get("sha256"):
                    continue
                if row.get("error_kind") in _RETRY_KINDS:
                    continue
                cache[str(row["sha256"])] = row
        return cache

    @contextlib.contextmanager
    def writer(self, truncate: bool = False) -> Iterator[Callable[[dict[str, Any]], None]]:
        """An ``append(row)`` function that writes and flushes one line per row (``truncate``: start anew)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w" if truncate else "a", encoding="utf-8") as fp:

            def append(row: dict[str, Any]) -> None:
                fp.write(json.dumps(row, ensure_ascii=False) + "\n")
                fp.flush()

            yield append


def run(
    paths: Sequence[str],
    outdir: str | os.PathLike[str],
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = True,
    progress: Callable[[Progress], None] | None = None,
    batch: int | None = None,
) -> FleetResult:
    """Analyze every bundle PATHS name on Dask and write the fleet outputs into ``outdir``.

    Args:
        paths: folders (of bundles, or one bundle), globs, list files, archives.
        outdir: output folder (created); holds the journal a rerun resumes from.
        scheduler: ``tcp://HOST:PORT`` of a running Dask scheduler; None starts a LocalCluster.
        workers: LocalCluster worker processes (default: CPU count, at most one per bundle); with
            ``scheduler``, how many workers to wait for before starting (default 1).
        resume: reuse rows of bundles already finished (by sha256); False starts the journal anew.
        progress: called after every finished bundle.
        batch: bundles per Dask task (default: :func:`batch_size`).

    Raises:
        UsageError: bad arguments (``workers`` < 1, output folder not writable).
        InputError: PATHS name no bundle at all.
        CulpritError: the scheduler cannot be reached or lost mid-run (finished rows are kept).
    """
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    out = Path(outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output folder {outdir}: {e.strerror or e}") from None
    _require()
    exp = expand(list(paths))
    if not exp.bundles and not exp.missing:
        raise InputError(
            "no bundles found in " + ", ".join(paths) + ("; " + "; ".join(exp.notes) if exp.notes else "")
        )
    journal = Journal(out / JOURNAL)
    cache = journal.load() if resume else {}
    rows: dict[str, dict[str, Any]] = {}
    for p in exp.missing:
        rows[p] = error_row(p, f"{p}: no such file or folder", "InputError") | {"reused": False}
    t0 = time.perf_counter()
    stats = {"analyzed": 0, "reused": 0, "errors": len(exp.missing)}
    total = len(exp.bundles) + len(exp.missing)

    def note(row: dict[str, Any]) -> None:
        if row.get("error"):
            stats["errors"] += 1
        if progress is not None:
            progress(
                Progress(
                    len(rows),
                    total,
                    stats["analyzed"],
                    stats["reused"],
                    stats["errors"],
                    time.perf_counter() - t0,
                )
            )

    n_workers = 0
    address = scheduler or ""
    if exp.bundles:
        client, cluster = _connect(scheduler, workers, len(exp.bundles))
        try:
            address = str(client.scheduler.address)
            n_workers = len(client.scheduler_info().get("workers", {}))
            if progress is not None:
                progress(Progress(len(rows), total, 0, 0, stats["errors"], time.perf_counter() - t0))
            with journal.writer(truncate=not resume) as append:
                for path, row in _stream(client, exp.bundles, cache, batch):
                    if row.get("reused"):
                        old = cache[row["sha256"]]
                        row = {**old, "path": path, "bundle": Path(path).name, "reused": True}
                        stats["reused"] += 1
                    else:
                        row["reused"] = False
                        stats["analyzed"] += 1
                        append(row)
                    rows[path] = row
                    note(row)
            used = {r.get("worker") for r in rows.values() if r.get("worker") and not r.get("reused")}
            n_workers = max(n_workers, len(used))
        finally:
            _close(client, cluster)
    elif progress is not None:
        progress(Progress(len(rows), total, 0, 0, stats["errors"], time.perf_counter() - t0))
    seconds = time.perf_counter() - t0
    ordered = [rows[p] for p in exp.bundles] + [rows[p] for p in exp.missing]
    meta = {
        "culprit_version": __version__,
        "scheduler": scheduler or "LocalCluster",
        "workers": n_workers,
        "seconds": round(seconds, 2),
        "analyzed": stats["analyzed"],
        "reused": stats["reused"],
    }
    clusters = write_all(ordered, out, meta)
    return FleetResult(
        ordered,
        clusters,
        stats["analyzed"],
        stats["reused"],
        sum(1 for r in ordered if r.get("error")),
        seconds,
        n_workers,
        address,
        exp.notes,
        out,
    )


def _require() -> None:
    """Fail before any work when the fleet extra is missing."""
    try:
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as e:
        raise CulpritError(
            f"fleet mode needs the fleet extra ({e.name} is missing): pip install 'culprit[fleet]'"
        ) from None


def _connect(scheduler: str | None, workers: int | None, n_bundles: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=_CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise CulpritError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        need = workers or 1
        try:
            client.wait_for_workers(need, timeout=_WORKER_WAIT)
        except (TimeoutError, OSError):
            have = len(client.scheduler_info().get("workers", {}))
            client.close()
            raise CulpritError(
                f"{scheduler}: {have} Dask worker(s) after {_WORKER_WAIT} s, {need} needed"
            ) from None
        return client, None
    n = workers or max(1, min(os.cpu_count() or 1, n_bundles))
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _close(client: Any, cluster: Any) -> None:
    with contextlib.suppress(Exception):
        client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


class _Watchdog:
    """Ends a run that cannot progress: no worker left (for ``_NO_WORKERS`` s), no scheduler, or no
    task finished for ``_STALL`` s (a bundle that hangs its worker)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last_check = self.last_result = time.monotonic()
        self.since: float | None = None

    def reset(self) -> None:
        self.since = None
        self.last_result = time.monotonic()

    def stalled(self) -> bool:
        """True when workers are there but no task has finished for ``_STALL`` seconds."""
        return time.monotonic() - self.last_result >= _STALL

    def check(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last_check < _CHECK_EVERY:
            return
        self.last_check = now
        try:
            workers = self.client.scheduler_info().get("workers", {})
        except (OSError, TimeoutError) as e:
            raise CulpritError(
                f"lost the Dask scheduler after {done} of {total} bundles ({e}); "
                "rerun the same command to resume"
            ) from None
        if workers:
            self.since = None
            return
        self.since = self.since or now
        if now - self.since >= _NO_WORKERS:
            raise CulpritError(
                f"no Dask worker for {_NO_WORKERS:.0f} s after {done} of {total} bundles; "
                "start workers and rerun the same command to resume"
            )


def batch_size(n_bundles: int, n_workers: int) -> int:
    """Bundles per task: 1 for small fleets (fine-grained balance), up to 16 once each worker gets 16+."""
    return max(1, min(_MAX_BATCH, n_bundles // (max(n_workers, 1) * 16)))


def _stream(
    client: Any, bundles: list[str], cache: dict[str, dict[str, Any]], batch: int | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, row) for every bundle as its task finishes; a task that fails gives error rows."""
    from distributed import as_completed

    known: Any = frozenset()
    if cache:
        known = client.scatter([frozenset(cache)], broadcast=True)[0]
    n_workers = len(client.scheduler_info().get("workers", {}))
    size = batch or batch_size(len(bundles), n_workers)
    chunks = [bundles[i : i + size] for i in range(0, len(bundles), size)]
    run_id = os.urandom(4).hex()
    keys = [f"culprit-fleet-{run_id}-{i}" for i in range(len(chunks))]
    futures = client.map(analyze_batch, chunks, known=known, key=keys, pure=False)
    by_key = {f.key: (f, c) for f, c in zip(futures, chunks, strict=True)}
    done = 0
    ac = as_completed(futures, loop=client.loop)
    watch = _Watchdog(client)
    try:
        while not ac.is_empty():
            finished = ac.next_batch(block=False)
            if not finished:
                if watch.stalled():
                    # nothing finished anywhere for _STALL s: the rest become rows, retried by the next run
                    for f, chunk in list(by_key.values()):
                        f.cancel()
                        for p in chunk:
                            done += 1
                            yield (
                                p,
                                error_row(p, f"no result after {_STALL:.0f} s (analysis stalled)", "Timeout"),
                            )
                    by_key.clear()
                    return
                watch.check(done, len(bundles))
                time.sleep(_POLL)
                continue
            watch.reset()
            for fut in finished:
                _f, chunk = by_key.pop(fut.key)
                try:
                    rows = fut.result()
                except Exception as e:  # the worker died, the task was lost or cancelled
                    if fut.status == "cancelled" or type(e).__name__ == "CancelledError":
                        raise CulpritError(
                            f"lost the Dask scheduler after {done} of {len(bundles)} bundles; "
                            "rerun the same command to resume"
                        ) from None
                    rows = [
                        error_row(p, f"worker failed: {type(e).__name__}: {e}", "WorkerError") for p in chunk
                    ]
                fut.release()
                for path, row in zip(chunk, rows, strict=True):
                    done += 1
                    yield path, row
    finally:
        for f, _c in by_key.values():
            with contextlib.suppress(Exception):
                f.cancel()
