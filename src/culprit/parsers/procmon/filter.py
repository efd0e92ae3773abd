"""Columnar evaluation of ``--where`` filters over a Procmon capture.

Format: Process Monitor captures opened by :func:`culprit.parsers.procmon.open_capture` (PML or CSV).
The filter language is :mod:`culprit.query`'s (``result = 'ACCESS DENIED' and path like '%Services%'``).

Comparisons on fixed columns (pid, tid, operation, result, event class, process name/image/company, code,
duration, severity) run over whole numpy columns, string ones once per distinct value; anything else (path,
detail, decoded detail fields, stack) is decoded only for the events that survive the column tests, so
``result = 'ACCESS DENIED' and path like '%Services%' and process.name = 'TrustedInstaller.exe'`` decodes
the few ACCESS DENIED events only. ``and`` evaluates its column side first.

References: ``culprit.query`` (grammar), ``docs/events/procmon.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from culprit.parsers.procmon import consts
from culprit.parsers.procmon.capture import severity_of
from culprit.parsers.procmon.structs import TICKS_PER_SECOND
from culprit.query import And, Cmp, Node, Not, Or, like_regex, parse_where

if TYPE_CHECKING:
    from culprit.parsers.procmon.capture import Capture

_NUMERIC = {
    "pid": "pid",
    "process.pid": "pid",
    "tid": "tid",
    "process.tid": "tid",
    "code": "result",
    "fields.code": "result",
}
_PROCESS_TEXT = {
    "process.name": "name",
    "process": "name",
    "process_name": "name",
    "image_path": "image_path",
    "company": "company",
    "architecture": "architecture",
    "command_line_process": "command_line",
}
_PROCESS_NUM = {"parent_pid": "parent_pid"}


def _field(name: str) -> str:
    n = name.strip()
    return n[7:] if n.lower().startswith("fields.") else n


def match_value(op: str, want: Any, got: Any) -> bool:
    """One comparison with :mod:`culprit.query` semantics (case-insensitive text, LIKE with % and _)."""
    if op in ("like", "notlike"):
        hit = like_regex(str(want)).fullmatch("" if got is None else str(got)) is not None
        return hit if op == "like" else not hit
    if op == "contains":
        return str(want).casefold() in ("" if got is None else str(got)).casefold()
    if op == "in":
        norm = {v.casefold() if isinstance(v, str) else v for v in want}
        g = got.casefold() if isinstance(got, str) else got
        if g in norm:
            return True
        return isinstance(got, (int, float)) and str(got) in norm
    if got is None:
        return op == "!="
    w = want.casefold() if isinstance(want, str) else want
    g = got.casefold() if isinstance(got, str) else got
    if isinstance(w, (int, float)) and isinstance(g, str):
        try:
            g = int(g.replace(",", ""), 0)
        except ValueError:
            return op == "!="
    elif isinstance(w, str) and not isinstance(g, str):
        g = str(g).casefold()
    try:
        return {"=": g == w, "!=": g != w, "<": g < w, "<=": g <= w, ">": g > w, ">=": g >= w}[op]
    except (TypeError, KeyError):
        return False


def _by_value(values: list[Any], codes: np.ndarray, cand: np.ndarray, node: Cmp) -> np.ndarray:
    """Match once per distinct value, then select candidates whose code points at a match."""
    ok = np.array([match_value(node.op, node.value, v) for v in values] + [False], dtype=bool)
    codes = np.minimum(codes[cand], len(values))
    return cand[ok[codes]]


def _numeric(col: np.ndarray, cand: np.ndarray, node: Cmp) -> np.ndarray:
    vals = col[cand].astype(np.int64)
    op, want = node.op, node.value
    if op == "in":
        nums = []
        for v in want:
            try:
                nums.append(int(v, 0) if isinstance(v, str) else int(v))
            except ValueError:
                continue
        return cand[np.isin(vals, nums)]
    if op in ("like", "notlike", "contains"):
        return (
            cand[np.array([match_value(op, want, int(v)) for v in vals], dtype=bool)] if len(cand) else cand
        )
    try:
        w = int(want, 0) if isinstance(want, str) else want
    except ValueError:
        return cand if op == "!=" else cand[:0]
    cmp: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "=": lambda a: a == w,
        "!=": lambda a: a != w,
        "<": lambda a: a < w,
        "<=": lambda a: a <= w,
        ">": lambda a: a > w,
        ">=": lambda a: a >= w,
    }
    return cand[cmp[op](vals)]


def _columnar(cap: Capture, node: Cmp, cand: np.ndarray) -> np.ndarray | None:
    """Evaluate a comparison over columns, or None when the field needs per-event decoding."""
    f = _field(node.field)
    key = f.lower()
    if key in _NUMERIC:
        return _numeric(getattr(cap, _NUMERIC[key]), cand, node)
    if key == "operation":
        return _by_value(cap.operation_names, cap.operation_id, cand, node)
    if key == "kind":
        return cand if match_value(node.op, node.value, "procmon:event") else cand[:0]
    if key == "event_class":
        values = [consts.EVENT_CLASSES.get(k, consts.UNKNOWN) for k in range(256)]
        return _by_value(values, cap.event_class, cand, node)
    if key in ("result", "severity"):
        if key == "result" and isinstance(node.value, int) and node.op not in ("like", "notlike", "contains"):
            return _numeric(cap.result, cand, node)
        uniq, first = np.unique(cap.result, return_index=True)
        if key == "result":
            values = [cap.result_name(int(i)) for i in first]
        else:
            values = [str(severity_of(int(u))) for u in uniq]
        codes = np.searchsorted(uniq, cap.result)
        return _by_value(values, codes, cand, node)
    if key == "time" and isinstance(node.value, str) and node.op in ("=", "!=", "<", "<=", ">", ">="):
        ticks = _iso_ticks(node.value)
        if ticks is not None:
            return _numeric(cap.time, cand, Cmp(node.field, node.op, ticks))
    if key == "duration":
        secs = cap.duration[cand].astype(np.float64) / TICKS_PER_SECOND
        return (
            cand[np.array([match_value(node.op, node.value, float(s)) for s in secs], dtype=bool)]
            if node.op in ("like", "notlike", "contains", "in")
            else _float(secs, cand, node)
        )
    if key in _PROCESS_TEXT or key in _PROCESS_NUM:
        attr = _PROCESS_TEXT.get(key) or _PROCESS_NUM[key]
        values = [getattr(p, attr) for p in cap.processes]
        return _by_value(values, cap.process_index, cand, node)
    return None


def _iso_ticks(text: str) -> int | None:
    """``2022-06-16T02:43:04.8Z`` (UTC when no offset is given) as FILETIME ticks, or None."""
    from datetime import UTC, datetime

    try:
        t = datetime.fromisoformat(text.strip().replace("z", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    d = t - datetime(1601, 1, 1, tzinfo=UTC)
    return (d.days * 86400 + d.seconds) * TICKS_PER_SECOND + d.microseconds * 10


def _float(secs: np.ndarray, cand: np.ndarray, node: Cmp) -> np.ndarray:
    try:
        w = float(node.value)
    except (TypeError, ValueError):
        return cand[:0]
    ops = {"=": secs == w, "!=": secs != w, "<": secs < w, "<=": secs <= w, ">": secs > w, ">=": secs >= w}
    return cand[ops[node.op]]


def _lazy(cap: Capture, node: Cmp, cand: np.ndarray) -> np.ndarray:
    f = _field(node.field)
    if f.lower() == "path":
        get: Callable[[int], Any] = cap.path_of
    elif f.lower() == "detail":
        get = cap.detail
    else:

        def get(i: int) -> Any:
            return cap.event(i).get(node.field)

    keep = [i for i in cand.tolist() if match_value(node.op, node.value, get(i))]
    return np.array(keep, dtype=np.int64)


def _cost(node: Node) -> int:
    if isinstance(node, Cmp):
        k = _field(node.field).lower()
        cheap = (
            k in _NUMERIC
            or k in _PROCESS_TEXT
            or k in _PROCESS_NUM
            or k in ("operation", "kind", "event_class", "result", "severity", "duration", "time")
        )
        return 0 if cheap else 1
    if isinstance(node, Not):
        return _cost(node.inner)
    return max(_cost(node.left), _cost(node.right))  # type: ignore[union-attr]


def _eval(cap: Capture, node: Node, cand: np.ndarray) -> np.ndarray:
    if len(cand) == 0:
        return cand
    if isinstance(node, And):
        a, b = (node.left, node.right) if _cost(node.left) <= _cost(node.right) else (node.right, node.left)
        return _eval(cap, b, _eval(cap, a, cand))
    if isinstance(node, Or):
        left = _eval(cap, node.left, cand)
        rest = np.setdiff1d(cand, left, assume_unique=True)
        return np.union1d(left, _eval(cap, node.right, rest))
    if isinstance(node, Not):
        return np.setdiff1d(cand, _eval(cap, node.inner, cand), assume_unique=True)
    out = _columnar(cap, node, cand)
    return out if out is not None else _lazy(cap, node, cand)


def evaluate(cap: Capture, expr: str | Node) -> np.ndarray:
    """Indexes (ascending int64) of the events of ``cap`` that match ``expr``.

    Args:
        cap: an open capture.
        expr: filter text (``culprit.query`` grammar) or an already parsed tree.

    Raises:
        culprit.errors.UsageError: the text is not a valid filter.
    """
    node = parse_where(expr) if isinstance(expr, str) else expr
    return _eval(cap, node, np.arange(len(cap), dtype=np.int64))
