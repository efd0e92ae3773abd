"""Background analysis: a thread pool runs ``pipeline.load`` → ``analysis.analyze`` per job.

A job links the case's evidence blobs under their upload names into a private work folder
(hard links; a copy across file systems), opens them as the bad and good bundles, parses every
artifact while reporting progress (5 % opened, 10-85 % parsing by artifact, 90 % analysing,
100 % done) and stores ``Analysis.to_dict()`` as the result. Jobs queued or running when the
server stopped are queued again at startup. No broker: the embedded default is one process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from culprit.errors import CulpritError
from culprit.web import services
from culprit.web.models import Evidence, Job
from culprit.web.storage import Store, safe_filename

log = logging.getLogger("culprit.web.jobs")


@contextlib.contextmanager
def evidence_folder(
    store: Store, work_root: Path, evs: list[Evidence]
) -> Iterator[tuple[list[str], list[str]]]:
    """Lay the evidence out as named files; yields ``(bad paths, good paths)``, removed afterwards."""
    work_root.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="job-", dir=work_root))
    bad: list[str] = []
    good: list[str] = []
    try:
        for e in evs:
            sub = d / f"{e.role}-{e.id}"
            sub.mkdir()
            dest = sub / safe_filename(e.filename)
            src = store.blob_path(e.sha256)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
            (bad if e.role == "bad" else good).append(str(dest))
        yield bad, good
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_analysis(
    bad: list[str], good: list[str], lang: str, progress: Callable[[int, str], None] = lambda p, s: None
):  # type: ignore[no-untyped-def]
    """Load and analyse; returns the :class:`culprit.model.Analysis`."""
    from culprit import pipeline
    from culprit.analysis import analyze

    progress(5, "opening the bundles")
    with pipeline.load(bad, good=good) as ws:
        arts = [a for a in ws.artifacts if a.parser is not None]
        for i, a in enumerate(arts):
            progress(10 + int(75 * i / max(len(arts), 1)), f"parsing {a.name}")
            _ = a.events
        progress(90, "analysing")
        return analyze(ws, lang=lang)


class JobRunner:
    """The worker pool. ``submit(job_id)`` after the job row is committed."""

    def __init__(
        self, factory: sessionmaker[Session], store: Store, work_root: Path, workers: int = 2
    ) -> None:
        self.factory = factory
        self.store = store
        self.work_root = work_root
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="culprit-job")
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job_id: int) -> None:
        with self._lock:
            if not self._closed:
                self._pool.submit(self._run, job_id)

    def resume(self) -> int:
        """Queue again the jobs an earlier process left queued or running."""
        with self.factory() as db:
            stale = db.scalars(select(Job).where(Job.state.in_(("queued", "running")))).all()
            for j in stale:
                j.state, j.progress, j.stage = "queued", 0, "queued again after a restart"
            db.commit()
            ids = [j.id for j in stale]
        for i in ids:
            self.submit(i)
        return len(ids)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _progress(self, job_id: int) -> Callable[[int, str], None]:
        last = [0.0]

        def report(pct: int, stage: str) -> None:
            now = time.monotonic()
            if now - last[0] < 0.3 and pct < 90:
                return
            last[0] = now
            with self.factory() as db:
                job = db.get(Job, job_id)
                if job is not None:
                    job.progress, job.stage = pct, stage[:200]
                    db.commit()

        return report

    def _run(self, job_id: int) -> None:
        try:
            with self.factory() as db:
                job = db.get(Job, job_id)
                if job is None or job.state not in ("queued",):
                    return
                job.state, job.stage, job.started_at = "running", "starting", services.utcnow()
                db.commit()
                evs = services.job_evidence(db, job)
                lang = job.lang
            result: dict[str, Any] | None = None
            error: str | None = None
            try:
                with evidence_folder(self.store, self.work_root, evs) as (bad, good):
                    analysis = run_analysis(bad, good, lang, self._progress(job_id))
                    result = analysis.to_dict()
            except CulpritError as e:
                error = str(e)
            except Exception as e:  # a bug must fail the job, not the worker
                log.exception("analysis job %s failed", job_id)
                error = f"internal error: {type(e).__name__}: {e}"
            with self.factory() as db:
                job = db.get(Job, job_id)
                if job is not None:
                    services.finish_job(db, job, result, error)
                    db.commit()
        except Exception:  # pragma: no cover - the database went away under us
            log.exception("analysis job %s could not be recorded", job_id)
