"""One endpoint's row: what a fleet worker does with one bundle.

:func:`analyze_bundle` hashes the bundle, runs the same pipeline as ``culprit analyze``
(``pipeline.load`` → ``analysis.analyze``) and flattens the answer into a row of plain values (the
Parquet columns of :mod:`culprit.fleet.output`). It never raises: a bundle that cannot be read is
a row whose ``error`` says why.

Bundle layout: a top-level ``good/`` folder of a bundle (or of its single top folder) holds evidence
from a machine where the same install works and is passed as ``--good`` evidence; everything else
(``bad/``, ``repro/``, the collector's disk layout) is evidence from the endpoint itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from culprit import __version__
from culprit.errors import CulpritError
from culprit.fleet.bundles import bundle_sha256
from culprit.fleet.identity import identify
from culprit.fleet.signature import SIGNATURE_VERSION, UNREADABLE_SIGNATURE, signature_of

#: Rows are reused by a rerun only when written by the same culprit and signature versions.
ROW_VERSION = f"{__version__}/sig{SIGNATURE_VERSION}"


def empty_row(path: str) -> dict[str, Any]:
    """A row with every column present and nothing known yet."""
    return {
        "path": path,
        "bundle": Path(path).name,
        "sha256": None,
        "host": None,
        "os_build": None,
        "locale": None,
        "identity_from": None,
        "outcome": None,
        "signature": None,
        "signature_text": None,
        "failure": None,
        "failure_code": None,
        "failure_symbol": None,
        "finding": None,
        "title": None,
        "title_zh": None,
        "culprit": None,
        "culprit_role": None,
        "product": None,
        "vendor": None,
        "confidence": None,
        "allow": None,
        "workaround": None,
        "workaround_zh": None,
        "fix": None,
        "fix_zh": None,
        "missing": None,
        "warnings": 0,
        "artifacts": 0,
        "error": None,
        "error_kind": None,
        "seconds": 0.0,
        "worker": None,
        "version": ROW_VERSION,
    }


def error_row(
    path: str, error: str, kind: str, sha256: str | None = None, seconds: float = 0.0
) -> dict[str, Any]:
    """The row of a bundle that could not be read (clustered under ``unreadable``)."""
    row = empty_row(path)
    row.update(
        sha256=sha256,
        outcome=UNREADABLE_SIGNATURE.outcome,
        signature=UNREADABLE_SIGNATURE.id,
        signature_text=UNREADABLE_SIGNATURE.text,
        error=error[:2000],
        error_kind=kind,
        seconds=round(seconds, 3),
        worker=_worker(),
    )
    return row


def analyze_bundle(path: str, known: Collection[str] = ()) -> dict[str, Any]:
    """Analyze one bundle and return its row; never raises.

    Args:
        path: the bundle (folder, archive or single file), as the worker sees it.
        known: bundle hashes already done by an earlier run; for those only
            ``{"path", "sha256", "reused": True}`` is returned and the caller reuses the old row.

    Returns:
        The row (see :func:`empty_row` for its keys).
    """
    t0 = time.perf_counter()
    try:
        sha = bundle_sha256(path)
    except OSError as e:
        why = e.strerror or str(e)
        return error_row(path, f"{path}: cannot read: {why}", "InputError", None, time.perf_counter() - t0)
    if sha in known:
        return {"path": path, "sha256": sha, "reused": True}
    try:
        row = _analyze(path)
    except CulpritError as e:
        return error_row(path, str(e), type(e).__name__, sha, time.perf_counter() - t0)
    except OSError as e:  # a file vanished or became unreadable mid-run: retried by the next run
        why = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e)
        return error_row(path, f"cannot read: {why}", "OSError", sha, time.perf_counter() - t0)
    except (MemoryError, RecursionError) as e:
        return error_row(
            path, f"{type(e).__name__} while analyzing", type(e).__name__, sha, time.perf_counter() - t0
        )
    except Exception as e:  # a bug in culprit must cost one row, not the run
        return error_row(
            path, f"internal error: {type(e).__name__}: {e}", "InternalError", sha, time.perf_counter() - t0
        )
    row["sha256"] = sha
    row["seconds"] = round(time.perf_counter() - t0, 3)
    row["worker"] = _worker()
    return row


def analyze_batch(paths: list[str], known: Collection[str] = ()) -> list[dict[str, Any]]:
    """:func:`analyze_bundle` for several bundles in one task (fewer round trips for small bundles)."""
    return [analyze_bundle(p, known) for p in paths]


def _analyze(path: str) -> dict[str, Any]:
    from culprit import pipeline
    from culprit.analysis import analyze

    row = empty_row(path)
    with pipeline.load([path]) as ws:
        _assign_good(ws)
        result = analyze(ws)
        ident = identify(ws)
    d = result.to_dict()
    sig = signature_of(d)
    row.update(
        host=ident.host,
        os_build=ident.os_build,
        locale=ident.locale,
        identity_from=ident.source,
        outcome=sig.outcome,
        signature=sig.id,
        signature_text=sig.text,
        warnings=len(d.get("warnings") or []),
        artifacts=sum(1 for a in d["bundle"]["artifacts"] if a.get("kind")),
        missing=",".join(dict.fromkeys(m["artifact"] for m in d.get("missing") or [])) or None,
    )
    if d["failures"]:
        f = d["failures"][0]
        row.update(failure=f.get("target"), failure_code=f.get("code"), failure_symbol=f.get("symbol"))
    findings = d["findings"]
    unresolved = d.get("unresolved") or []
    if findings:
        f = findings[0]
        c = f.get("culprit") or {}
        rem = f.get("remediation") or {}
        row.update(
            finding=f["kind"],
            title=f.get("title"),
            title_zh=f.get("title_zh"),
            confidence=f.get("confidence"),
            culprit=c.get("module"),
            culprit_role=c.get("role"),
            product=c.get("product"),
            vendor=c.get("vendor"),
            allow=json.dumps(rem.get("allow") or [], ensure_ascii=False),
            workaround=rem.get("workaround"),
            workaround_zh=rem.get("workaround_zh"),
            fix=rem.get("fix"),
            fix_zh=rem.get("fix_zh"),
        )
    elif unresolved:
        u = unresolved[0]
        rem = u.get("remediation") or {}
        row.update(
            finding=u.get("kind"),
            title=u.get("title"),
            title_zh=u.get("title_zh"),
            allow=json.dumps(rem.get("allow") or [], ensure_ascii=False),
            workaround=rem.get("workaround"),
            workaround_zh=rem.get("workaround_zh"),
        )
    return row


def _assign_good(ws: Any) -> None:
    """Evidence under the bundle's top-level ``good/`` folder is the working machine's."""
    marks = []
    for a in ws.artifacts:
        parts = a.source.name.split("/")[1:]  # drop the bundle's own name
        marks.append(parts)
    tops = {p[0].lower() for p in marks if len(p) > 1}
    depth = 1 if len(tops) == 1 and "good" not in tops else 0
    flags = [len(p) > depth + 1 and p[depth].lower() == "good" for p in marks]
    if any(flags) and not all(flags):
        for a, good in zip(ws.artifacts, flags, strict=True):
            if good:
                a.role = "good"


def _worker() -> str | None:
    """The address of the Dask worker running this task, or None outside one."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None
