"""The runner on a LocalCluster, its journal, its errors, and the CLI shell around it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from culprit import cli
from culprit.errors import InputError, UsageError
from culprit.fleet import runner
from culprit.fleet.endpoint import ROW_VERSION, error_row
from culprit.fleet.runner import Journal, Progress
from tests.fleet.conftest import clean_bundle, small_kb_bundle

pytest.importorskip("distributed", reason="the fleet extra (dask[distributed]) is not installed")
pytest.importorskip("pyarrow", reason="the fleet extra (pyarrow) is not installed")


def test_local_cluster_run_and_resume(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    small_kb_bundle(fleet, "a", "PC-A")
    small_kb_bundle(fleet, "b", "PC-B")
    clean_bundle(fleet, "c", "PC-C")
    seen: list[Progress] = []
    res = runner.run([str(fleet), str(tmp_path / "gone")], tmp_path / "out", workers=1, progress=seen.append)
    assert (res.analyzed, res.reused, res.errors, res.workers, res.scheduler[:6]) == (3, 0, 1, 1, "tcp://")
    assert [r["host"] for r in res.rows] == ["PC-A", "PC-B", "PC-C", None]
    assert [(c.outcome, c.count) for c in res.clusters] == [
        ("unexplained", 2),
        ("no-failure", 1),
        ("unreadable", 1),
    ]
    assert [p.done for p in seen] == [1, 2, 3, 4] and seen[-1].total == 4 and seen[-1].errors == 1
    assert (seen[0].analyzed, seen[-1].analyzed) == (0, 3) and seen[0].rate == 0.0
    journal = (tmp_path / "out" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(journal) == 3  # the missing path has no hash: not journaled, retried next time

    res2 = runner.run([str(fleet)], tmp_path / "out", workers=1)
    assert (res2.analyzed, res2.reused) == (0, 3)
    assert [r["signature"] for r in res2.rows] == [r["signature"] for r in res.rows[:3]]
    res3 = runner.run([str(fleet)], tmp_path / "out", workers=1, resume=False, batch=2)  # 2 tasks: 2 + 1
    assert (res3.analyzed, res3.reused) == (3, 0)
    assert [(r["path"], r["signature"]) for r in res3.rows] == [
        (r["path"], r["signature"]) for r in res.rows[:3]
    ]


def test_batch_size() -> None:
    assert [
        runner.batch_size(n, w) for n, w in ((24, 2), (63, 2), (64, 2), (2000, 2), (10**6, 8), (5, 0))
    ] == [1, 1, 2, 16, 16, 1]


def test_journal_keeps_only_reusable_rows(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.jsonl")
    good = error_row("/a.zip", "damaged zip", "InputError", sha256="a" * 64)
    worker = error_row("/b", "worker failed: KilledWorker", "WorkerError", sha256="b" * 64)
    old = dict(good, sha256="c" * 64, version="0.0.1/sig0")
    with j.writer() as append:
        for r in (good, worker, old):
            append(r)
    with (tmp_path / "journal.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"path": "/torn", "sha256": "dd')  # a run killed mid-line
    cache = j.load()
    assert list(cache) == ["a" * 64] and cache["a" * 64]["version"] == ROW_VERSION
    assert Journal(tmp_path / "none.jsonl").load() == {}


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least 1"):
        runner.run([str(tmp_path)], tmp_path / "o", workers=0)
    with pytest.raises(InputError, match="no bundles found"):
        runner.run([str(tmp_path / "*.zip")], tmp_path / "o")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot create output folder"):
        runner.run([str(tmp_path)], blocker / "sub")


def test_cli_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fleet", str(tmp_path / "none*"), "-o", str(tmp_path / "o")]) == 3
    assert "no bundles found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["fleet", str(tmp_path)])  # -o is required
    assert e.value.code == 2
    assert cli.main(["fleet", str(tmp_path / "gone"), "-o", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "1 bundles (0 analyzed, 0 reused, 1 unreadable) on 0 worker(s)" in out
    doc = json.loads((tmp_path / "o" / "clusters.json").read_text(encoding="utf-8"))
    assert doc["counts"]["unreadable"] == 1


def test_progress_line_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def fake_run(paths: list[str], outdir: str, **kw: object) -> runner.FleetResult:
        cb = kw["progress"]
        if cb is not None:
            cb(Progress(1, 2, 1, 0, 0, 0.5))
            cb(Progress(2, 2, 1, 1, 0, 1.0))
        return runner.FleetResult([], [], 1, 1, 0, 1.0, 1, "tcp://x", [], Path(outdir))

    monkeypatch.setattr(runner, "run", fake_run)
    for tty, expect in (
        (True, "\r2/2 bundles  1 analyzed  1 reused  0 unreadable  2.0/s\x1b[K\n"),
        (False, ""),
    ):
        err = Tty() if tty else io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        assert cli.main(["fleet", str(tmp_path), "-o", str(tmp_path / "o")]) == 0
        assert err.getvalue().endswith(expect) and (("\r" in err.getvalue()) == tty)


def test_losing_every_worker_ends_the_run_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import time

    from distributed import LocalCluster

    from culprit.errors import CulpritError
    from culprit.fleet import endpoint

    fleet = tmp_path / "fleet"
    for i in range(6):
        small_kb_bundle(fleet, f"pc{i}", f"PC-{i}")
    real = endpoint._analyze

    def slow(path: str) -> dict:
        time.sleep(0.3)
        return real(path)

    monkeypatch.setattr(endpoint, "_analyze", slow)  # in-process workers run the patched function
    monkeypatch.setattr(runner, "_CHECK_EVERY", 0.1)
    monkeypatch.setattr(runner, "_NO_WORKERS", 1.0)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:

        def stop(p: Progress) -> None:
            if p.done == 1:
                cluster.scale(0)

        with pytest.raises(
            CulpritError, match=r"no Dask worker for 1 s after \d of 6 bundles; start workers"
        ):
            runner.run(
                [str(fleet)], tmp_path / "out", scheduler=cluster.scheduler_address, progress=stop, batch=1
            )
    kept = (tmp_path / "out" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert 1 <= len(kept) < 6  # what finished is kept for the rerun


def test_a_bundle_that_hangs_becomes_a_timeout_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging
    import time

    from distributed import LocalCluster

    from culprit.fleet import endpoint

    fleet = tmp_path / "fleet"
    for name in ("pc0", "pc1", "stuck"):
        small_kb_bundle(fleet, name, name.upper())
    real = endpoint._analyze

    def hang(path: str) -> dict:
        if path.endswith("stuck"):
            time.sleep(4)
        return real(path)

    monkeypatch.setattr(endpoint, "_analyze", hang)
    monkeypatch.setattr(runner, "_STALL", 1.0)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        res = runner.run([str(fleet)], tmp_path / "out", scheduler=cluster.scheduler_address, batch=1)
    by = {r["bundle"]: r for r in res.rows}
    assert by["pc0"]["outcome"] == by["pc1"]["outcome"] == "unexplained"
    assert (by["stuck"]["error_kind"], by["stuck"]["error"]) == (
        "Timeout",
        "no result after 1 s (analysis stalled)",
    )
    assert Journal(tmp_path / "out" / "journal.jsonl").load().keys() == {
        by["pc0"]["sha256"],
        by["pc1"]["sha256"],
    }
