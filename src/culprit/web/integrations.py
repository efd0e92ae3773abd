"""What the workbench borrows from the rest of culprit: report renderers, the good-vs-bad diff
and the event timeline with the ``--where`` filter language.

Report and diff modules are looked up when asked for, so the workbench keeps working (and hides
the matching buttons) on an install where a renderer is missing. Every renderer reads the
stored analysis JSON (``Analysis.to_dict()``), never a log.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culprit.errors import CulpritError
from culprit.web.jobs import evidence_folder
from culprit.web.models import Evidence
from culprit.web.storage import Store

# format → (media type, file suffix)
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "pdf": ("application/pdf", "pdf"),
}
# template → what it is (culprit.report.render.TEMPLATES)
REPORT_TEMPLATES: dict[str, str] = {
    "summary": "case summary",
    "scope": "scope email",
    "request": "evidence request email",
}


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def report_formats() -> list[str]:
    """The report formats this install can produce (``[]`` without the report renderers)."""
    if not _has("culprit.report.render"):
        return []
    try:
        render = importlib.import_module("culprit.report.render")
    except Exception:  # a renderer whose own import fails must not take the pages down
        return []
    out = [f for f in REPORT_FORMATS if f in getattr(render, "FORMATS", ())]
    if "pdf" in out:
        try:
            why = importlib.import_module("culprit.report.pdf").available()
        except Exception as e:
            why = str(e)
        if why:
            out.remove("pdf")
    return out


def render_report(
    result: Mapping[str, Any],
    fmt: str,
    lang: str,
    case: str,
    template: str = "summary",
    upload_link: str | None = None,
) -> tuple[bytes, str, str]:
    """Render the stored analysis with :func:`culprit.report.render.render`.

    Returns:
        ``(body, media type, file suffix)``.

    Raises:
        KeyError: the format or template is unknown or not available on this install.
        CulpritError: the renderer refused the input (its message is for people).
    """
    if fmt not in report_formats() or template not in REPORT_TEMPLATES:
        raise KeyError(fmt)
    render = importlib.import_module("culprit.report.render")
    body = render.render(result, fmt, lang=lang, template=template, case=case, upload_link=upload_link)
    media, suffix = REPORT_FORMATS[fmt]
    if isinstance(body, str):
        body = body.encode("utf-8")
    return body, media, suffix


def diff_available() -> bool:
    return _has("culprit.diff") and callable(getattr(importlib.import_module("culprit.diff"), "diff", None))


@dataclass
class Timeline:
    rows: list[dict[str, Any]]
    matched: int
    scanned: int
    truncated: bool
    error: str | None = None


def timeline(
    store: Store,
    work_root: Path,
    evs: list[Evidence],
    where: str = "",
    limit: int = 500,
    role: str | None = "bad",
) -> Timeline:
    """Parse the job's evidence again and return the events matching a ``--where`` filter, in time order.

    A filter that does not parse gives an empty result with ``error`` set (never an exception).
    """
    from culprit import pipeline
    from culprit.query import compile_where

    pred = None
    if where.strip():
        try:
            pred = compile_where(where)
        except CulpritError as e:
            return Timeline([], 0, 0, False, str(e))
    rows: list[dict[str, Any]] = []
    matched = scanned = 0
    with evidence_folder(store, work_root, evs) as (bad, good), pipeline.load(bad, good=good) as ws:
        events = list(ws.events(role=role))
    events.sort(
        key=lambda e: (
            e.time is None,
            e.time.isoformat() if e.time else "",
            e.origin.artifact,
            e.origin.line or 0,
            e.origin.record or 0,
        )
    )
    for ev in events:
        scanned += 1
        try:
            ok = pred is None or pred(ev)
        except Exception as e:  # a comparison of odd types: report, do not crash the page
            return Timeline(rows, matched, scanned, False, f"filter failed on {ev.kind}: {e}")
        if not ok:
            continue
        matched += 1
        if len(rows) < limit:
            rows.append(_row(ev.to_dict()))
    return Timeline(rows, matched, scanned, matched > len(rows))


def _row(d: Mapping[str, Any]) -> dict[str, Any]:
    origin = d.get("origin") or {}
    proc = d.get("process") or {}
    loc = str(origin.get("artifact", ""))
    if origin.get("line") is not None:
        loc += f":{origin['line']}"
    elif origin.get("event") is not None:
        loc += f" #{origin['event']}"
    return {
        "time": d.get("time") or "",
        "kind": d.get("kind", ""),
        "severity": d.get("severity", ""),
        "process": " ".join(str(x) for x in (proc.get("name"), proc.get("pid")) if x is not None),
        "code": d.get("code") or "",
        "message": d.get("message", ""),
        "where": loc,
        "fields": json.dumps(d.get("fields") or {}, ensure_ascii=False)[:2000],
    }
