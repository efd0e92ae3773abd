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
import threading
from collections import OrderedDict
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


_CACHE: OrderedDict[tuple, list[Any]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_JOBS = 2  # parsed event lists kept in memory (most recently used)
CACHE_MAX_EVENTS = 300_000  # bigger timelines are parsed again on each request


def _events(store: Store, work_root: Path, evs: list[Evidence], role: str | None) -> list[Any]:
    """The evidence's events in time order, parsed once per evidence set while they fit the cache."""
    from culprit import pipeline

    key = (role, tuple((e.sha256, e.role, e.filename) for e in evs))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    with evidence_folder(store, work_root, evs) as (bad, good), pipeline.load(bad, good=good) as ws:
        events = list(ws.events(role=role))
    events.sort(
        key=lambda e: (
            e.time is None,
            e.time.timestamp() if e.time else 0.0,
            e.origin.artifact,
            e.origin.line or 0,
            e.origin.record or 0,
        )
    )
    if len(events) <= CACHE_MAX_EVENTS:
        with _CACHE_LOCK:
            _CACHE[key] = events
            while len(_CACHE) > CACHE_JOBS:
                _CACHE.popitem(last=False)
    return events


def timeline(
    store: Store,
    work_root: Path,
    evs: list[Evidence],
    where: str = "",
    limit: int = 500,
    role: str | None = "bad",
) -> Timeline:
    """The events of the job's evidence matching a ``--where`` filter, in time order.

    The evidence is parsed again (the analysis keeps no events), then kept for the next request while it
    is small enough. A filter that does not parse, or evidence that cannot be read, gives an empty result
    with ``error`` set (never an exception).
    """
    from culprit.query import compile_where

    pred = None
    if where.strip():
        try:
            pred = compile_where(where)
        except CulpritError as e:
            return Timeline([], 0, 0, False, str(e))
    rows: list[dict[str, Any]] = []
    matched = scanned = 0
    try:
        events = _events(store, work_root, evs, role)
    except CulpritError as e:
        return Timeline([], 0, 0, False, str(e))
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
