"""What a fleet run writes: one Parquet row per endpoint, the clusters, and a summary report.

Files in the output folder (each written to a temp file and renamed, so a crash leaves no half file):

- ``endpoints.parquet`` — one row per bundle, the columns of :data:`SCHEMA` (Apache Parquet, written
  with pyarrow; read it with pyarrow, pandas, DuckDB or Spark).
- ``clusters.json`` — the clusters (``culprit.fleet/1``): signature, counts, example endpoints,
  OS builds, locales, the merged allow-list, the title and remediation texts.
- ``summary.md`` / ``summary.html`` (English) and ``summary.zh.md`` / ``summary.zh.html`` (Chinese).

A cluster is the set of endpoints with the same signature (:mod:`culprit.fleet.signature`); clusters
are ordered by endpoint count, problems before clean endpoints and unreadable bundles.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from culprit.fleet.signature import NO_FAILURE, UNREADABLE

FLEET_SCHEMA = "culprit.fleet/1"
EXAMPLES = 5

# (column, arrow type name) in file order; every row dict of culprit.fleet.endpoint has these keys.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("host", "string"),
    ("os_build", "string"),
    ("locale", "string"),
    ("identity_from", "string"),
    ("outcome", "string"),
    ("failure", "string"),
    ("failure_code", "string"),
    ("failure_symbol", "string"),
    ("signature", "string"),
    ("signature_text", "string"),
    ("finding", "string"),
    ("title", "string"),
    ("title_zh", "string"),
    ("culprit", "string"),
    ("culprit_role", "string"),
    ("product", "string"),
    ("vendor", "string"),
    ("confidence", "float64"),
    ("allow", "string"),
    ("workaround", "string"),
    ("workaround_zh", "string"),
    ("fix", "string"),
    ("fix_zh", "string"),
    ("missing", "string"),
    ("warnings", "int32"),
    ("artifacts", "int32"),
    ("error", "string"),
    ("error_kind", "string"),
    ("bundle", "string"),
    ("path", "string"),
    ("sha256", "string"),
    ("seconds", "float64"),
    ("worker", "string"),
    ("reused", "bool"),
    ("version", "string"),
)


def arrow_schema() -> Any:
    """The pyarrow schema of ``endpoints.parquet``."""
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "int32": pa.int32(), "bool": pa.bool_()}
    return pa.schema([(name, types[t]) for name, t in COLUMNS])


def write_parquet(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write the endpoint rows (missing keys are null) to ``path``, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    cols = {name: [_cell(r.get(name), t) for r in rows] for name, t in COLUMNS}
    table = pa.table(cols, schema=schema.with_metadata({"culprit.schema": FLEET_SCHEMA}))
    with _atomic(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_parquet(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of an ``endpoints.parquet`` as dicts."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def _cell(v: Any, t: str) -> Any:
    if v is None:
        return None
    if t == "string":
        return str(v)
    if t == "float64":
        return float(v)
    if t == "int32":
        return int(v)
    return bool(v)


# --- clusters -------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """Endpoints that share one signature.

    Attributes:
        signature: the signature id (``s-...``).
        text: the signature text.
        outcome: ``explained``, ``unexplained``, ``no-failure`` or ``unreadable``.
        count: endpoints in it.
        failure, failure_code, failure_symbol, finding, culprit, product, vendor, title, title_zh:
            from the cluster's most confident row.
        confidence: min and max over its endpoints.
        examples: up to :data:`EXAMPLES` endpoints (``host`` or bundle name, ``os_build``, ``path``).
        os_builds, locales: value → count (``None`` as ``"?"``).
        allow: the allow rules of its endpoints, merged per process pattern.
        workaround, workaround_zh, fix, fix_zh: remediation texts of the most confident row.
        errors: for ``unreadable``: error kind → count.
        missing: for ``unexplained``: evidence the analyses asked for (catalog id → endpoints).
    """

    signature: str
    text: str
    outcome: str
    count: int = 0
    failure: str | None = None
    failure_code: str | None = None
    failure_symbol: str | None = None
    finding: str | None = None
    culprit: str | None = None
    product: str | None = None
    vendor: str | None = None
    title: str | None = None
    title_zh: str | None = None
    confidence: tuple[float, float] | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    os_builds: dict[str, int] = field(default_factory=dict)
    locales: dict[str, int] = field(default_factory=dict)
    allow: list[dict[str, Any]] = field(default_factory=list)
    workaround: str | None = None
    workaround_zh: str | None = None
    fix: str | None = None
    fix_zh: str | None = None
    errors: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The cluster as JSON types (the ``clusters`` entries of ``clusters.json``)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["confidence"] = list(self.confidence) if self.confidence else None
        return d


_OUTCOME_ORDER = {"explained": 0, "unexplained": 1, NO_FAILURE: 2, UNREADABLE: 3}


def clusters(rows: Iterable[Mapping[str, Any]]) -> list[Cluster]:
    """Group rows by signature; biggest problem first, clean and unreadable last."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r.get("signature") or UNREADABLE), []).append(r)
    out = [_cluster(sig, rs) for sig, rs in groups.items()]
    out.sort(key=lambda c: (_OUTCOME_ORDER.get(c.outcome, 1), -c.count, c.text))
    return out


def _cluster(sig: str, rows: list[Mapping[str, Any]]) -> Cluster:
    best = max(enumerate(rows), key=lambda ir: (ir[1].get("confidence") or 0.0, -ir[0]))[1]
    c = Cluster(sig, str(best.get("signature_text") or ""), str(best.get("outcome") or UNREADABLE), len(rows))
    for k in (
        "failure",
        "failure_code",
        "failure_symbol",
        "finding",
        "culprit",
        "product",
        "vendor",
        "title",
        "title_zh",
        "workaround",
        "workaround_zh",
        "fix",
        "fix_zh",
    ):
        setattr(c, k, best.get(k))
    confs = [float(r["confidence"]) for r in rows if r.get("confidence") is not None]
    c.confidence = (min(confs), max(confs)) if confs else None
    ordered = sorted(rows, key=lambda r: (str(r.get("host") or r.get("bundle") or ""), str(r.get("path"))))
    c.examples = [
        {
            "host": r.get("host"),
            "bundle": r.get("bundle"),
            "os_build": r.get("os_build"),
            "locale": r.get("locale"),
            "path": r.get("path"),
            "error": r.get("error"),
        }
        for r in ordered[:EXAMPLES]
    ]
    c.os_builds = dict(Counter(str(r.get("os_build") or "?") for r in rows).most_common())
    c.locales = dict(Counter(str(r.get("locale") or "?") for r in rows).most_common())
    allows = dict.fromkeys(str(r["allow"]) for r in [best, *rows] if r.get("allow"))
    c.allow = merge_allow(json.loads(a) for a in allows)
    if c.outcome == UNREADABLE:
        c.errors = dict(Counter(str(r.get("error_kind") or "error") for r in rows).most_common())
    if c.outcome == "unexplained":
        c.missing = dict(
            Counter(m for r in rows for m in str(r.get("missing") or "").split(",") if m).most_common()
        )
    return c


def merge_allow(lists: Iterable[list[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One allow rule per process (its pattern, else its path; case-insensitive); keys and files unioned."""
    merged: dict[str, dict[str, Any]] = {}
    for rules in lists:
        for rule in rules:
            ident = str(rule.get("pattern") or rule.get("process") or "").lower()
            m = merged.setdefault(
                ident,
                {
                    "process": rule.get("process"),
                    "pattern": rule.get("pattern"),
                    "registry_keys": [],
                    "files": [],
                    "no_injection": False,
                },
            )
            for k in ("registry_keys", "files"):
                seen = {x.lower() for x in m[k]}
                for x in rule.get(k) or ():
                    if str(x).lower() not in seen:
                        m[k].append(str(x))
                        seen.add(str(x).lower())
            m["no_injection"] = m["no_injection"] or bool(rule.get("no_injection"))
    return [{k: v for k, v in m.items() if v} for m in merged.values()]


# --- files -----------------------------------------------------------------------------------------


def write_all(
    rows: Sequence[Mapping[str, Any]], outdir: str | os.PathLike[str], meta: Mapping[str, Any] | None = None
) -> list[Cluster]:
    """Write ``endpoints.parquet``, ``clusters.json`` and the four summaries into ``outdir``."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cl = clusters(rows)
    meta = dict(meta or {})
    meta.setdefault("generated_utc", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    write_parquet(rows, out / "endpoints.parquet")
    doc = {
        "schema": FLEET_SCHEMA,
        **meta,
        "endpoints": len(rows),
        "counts": outcome_counts(rows),
        "clusters": [c.to_dict() for c in cl],
    }
    with _atomic(out / "clusters.json") as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")
    for lang, suffix in (("en", ""), ("zh", ".zh")):
        with _atomic(out / f"summary{suffix}.md") as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(render_markdown(rows, cl, meta, lang))
        with (
            _atomic(out / f"summary{suffix}.html") as tmp,
            open(tmp, "w", encoding="utf-8", newline="\n") as f,
        ):
            f.write(render_html(rows, cl, meta, lang))
    return cl


def outcome_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Endpoints per outcome (``explained``, ``unexplained``, ``no-failure``, ``unreadable``)."""
    c = Counter(str(r.get("outcome") or UNREADABLE) for r in rows)
    return {k: c.get(k, 0) for k in _OUTCOME_ORDER}


class _atomic:
    """A temp path beside ``path``, renamed over it when the block ends without an error."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __enter__(self) -> str:
        # not mkstemp: the file gets the user's umask like any file culprit writes
        self.tmp = str(self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp"))
        return self.tmp

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


# --- summary texts ----------------------------------------------------------------------------------

_T: dict[str, dict[str, str]] = {
    "title": {"en": "culprit fleet summary", "zh": "culprit 批量分析汇总"},
    "generated": {"en": "Generated", "zh": "生成时间"},
    "endpoints": {"en": "endpoints", "zh": "台终端"},
    "problems": {"en": "distinct problems", "zh": "类不同问题"},
    "explained": {"en": "explained", "zh": "已查明原因"},
    "unexplained": {"en": "failed, cause not proven", "zh": "失败但原因未查明"},
    NO_FAILURE: {"en": "no failure found", "zh": "未发现失败"},
    UNREADABLE: {"en": "bundle could not be read", "zh": "日志包无法读取"},
    "reused": {"en": "reused from an earlier run", "zh": "沿用上次结果"},
    "clusters": {"en": "Clusters", "zh": "问题分组"},
    "count": {"en": "Endpoints", "zh": "终端数"},
    "share": {"en": "Share", "zh": "占比"},
    "failure": {"en": "Failure", "zh": "失败项"},
    "code": {"en": "Code", "zh": "错误码"},
    "finding": {"en": "Finding", "zh": "结论类型"},
    "culprit": {"en": "Culprit", "zh": "肇事模块"},
    "signature": {"en": "Signature", "zh": "特征"},
    "examples": {"en": "Example endpoints", "zh": "示例终端"},
    "os_builds": {"en": "OS builds", "zh": "系统版本号"},
    "locales": {"en": "Locales", "zh": "区域设置"},
    "confidence": {"en": "Confidence", "zh": "置信度"},
    "allow": {"en": "Allow-list", "zh": "白名单"},
    "process": {"en": "process", "zh": "进程"},
    "keys": {"en": "registry keys", "zh": "注册表键"},
    "files": {"en": "files", "zh": "文件"},
    "no_injection": {"en": "do not inject into this process", "zh": "禁止向该进程注入"},
    "example": {"en": "e.g.", "zh": "例如"},
    "signature_text": {"en": "what it is made of", "zh": "特征组成"},
    "workaround": {"en": "Workaround", "zh": "临时规避"},
    "fix": {"en": "Fix", "zh": "修复"},
    "errors": {"en": "Errors", "zh": "错误"},
    "missing": {"en": "Evidence that would prove the cause", "zh": "可查明原因的补充证据"},
    "unreadable_list": {"en": "Bundles that could not be read", "zh": "无法读取的日志包"},
    "bundle": {"en": "Bundle", "zh": "日志包"},
    "error": {"en": "Error", "zh": "错误"},
    "no_allow": {"en": "none proposed", "zh": "暂无"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "host": {"en": "host", "zh": "主机"},
}


def _t(key: str, lang: str) -> str:
    return _T[key]["zh" if lang == "zh" else "en"]


def _label(c: Cluster, lang: str) -> str:
    if c.outcome in (NO_FAILURE, UNREADABLE):
        return _t(c.outcome, lang)
    parts = [p for p in (c.failure, c.failure_code, c.finding) if p]
    who = c.culprit + (f" ({c.product})" if c.product else "") if c.culprit else None
    if who:
        parts.append(who)
    elif c.outcome == "unexplained":
        parts.append(_t("unexplained", lang))
    return " · ".join(parts)


def _title(c: Cluster, lang: str) -> str | None:
    return (c.title_zh or c.title) if lang == "zh" else (c.title or c.title_zh)


def _remedy(c: Cluster, lang: str) -> tuple[str | None, str | None]:
    if lang == "zh":
        return c.workaround_zh or c.workaround, c.fix_zh or c.fix
    return c.workaround or c.workaround_zh, c.fix or c.fix_zh


def _endpoint(e: Mapping[str, Any]) -> str:
    name = e.get("host") or e.get("bundle") or "?"
    extra = ", ".join(str(x) for x in (e.get("os_build"), e.get("locale")) if x)
    return f"{name} ({extra})" if extra else str(name)


def _counts_line(rows: Sequence[Mapping[str, Any]], cl: list[Cluster], lang: str) -> str:
    counts = outcome_counts(rows)
    problems = sum(1 for c in cl if c.outcome in ("explained", "unexplained"))
    reused = sum(1 for r in rows if r.get("reused"))
    sep = "，" if lang == "zh" else "; "
    bits = [f"{_t(k, lang)} {n}" if lang == "zh" else f"{n} {_t(k, lang)}" for k, n in counts.items() if n]
    if reused:
        bits.append(f"{_t('reused', lang)} {reused}" if lang == "zh" else f"{reused} {_t('reused', lang)}")
    head = (
        f"共 {len(rows)} {_t('endpoints', lang)}，{problems} {_t('problems', lang)}"
        if lang == "zh"
        else f"{_n(len(rows), 'endpoints', lang)}, {_n(problems, 'problems', lang)}"
    )
    return head + (sep + sep.join(bits) if bits else "") + ("。" if lang == "zh" else ".")


def _n(n: int, key: str, lang: str) -> str:
    word = _t(key, lang)
    if lang == "zh":
        return f"{n} {word}"
    return f"{n} {word[:-1] if n == 1 and word.endswith('s') else word}"


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


def _md_cell(s: Any) -> str:
    return str(s if s is not None else "").replace("|", "\\|").replace("\n", " ")


def _md_code(s: str) -> str:
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def render_markdown(
    rows: Sequence[Mapping[str, Any]], cl: list[Cluster], meta: Mapping[str, Any], lang: str = "en"
) -> str:
    """The summary as Markdown (``lang`` ``en`` or ``zh``)."""
    total = len(rows)
    out = [f"# {_t('title', lang)}", ""]
    stop = "。" if lang == "zh" else ". "
    out.append(
        f"{_t('generated', lang)}: {meta.get('generated_utc', '')}{stop}{_counts_line(rows, cl, lang)}"
    )
    out += ["", f"## {_t('clusters', lang)}", ""]
    out.append(
        f"| # | {_t('count', lang)} | {_t('share', lang)} | {_t('failure', lang)} | {_t('code', lang)} | "
        f"{_t('finding', lang)} | {_t('culprit', lang)} | {_t('signature', lang)} |"
    )
    out.append("|---:|---:|---:|---|---|---|---|---|")
    for i, c in enumerate(cl, 1):
        if c.outcome in (NO_FAILURE, UNREADABLE):
            fail, code, finding, who = _t(c.outcome, lang), "", "", ""
        else:
            fail, code, finding = c.failure or "", c.failure_code or "", c.finding or ""
            who = (
                c.culprit + (f" ({c.product})" if c.product else "") if c.culprit else _t("unexplained", lang)
            )
        out.append(
            f"| {i} | {c.count} | {_pct(c.count, total)} | {_md_cell(fail)} | {_md_cell(code)} | "
            f"{_md_cell(finding)} | {_md_cell(who)} | `{c.signature}` |"
        )
    for i, c in enumerate(cl, 1):
        out += ["", f"## {i}. {_label(c, lang)} — {_n(c.count, 'endpoints', lang)}", ""]
        title = _title(c, lang)
        if title:
            out += [title, ""]
        if c.confidence:
            lo, hi = c.confidence
            out.append(f"- {_t('confidence', lang)}: {lo:.2f}" + (f"–{hi:.2f}" if hi != lo else ""))
        out.append(f"- {_t('signature', lang)}: `{c.signature}` {_md_code(c.text)}")
        out.append(f"- {_t('examples', lang)}: " + ", ".join(_endpoint(e) for e in c.examples))
        out.append(f"- {_t('os_builds', lang)}: " + ", ".join(f"{k} ×{n}" for k, n in c.os_builds.items()))
        out.append(f"- {_t('locales', lang)}: " + ", ".join(f"{k} ×{n}" for k, n in c.locales.items()))
        if c.outcome == UNREADABLE:
            out.append(f"- {_t('errors', lang)}: " + ", ".join(f"{k} ×{n}" for k, n in c.errors.items()))
            continue
        if c.missing:
            out.append(f"- {_t('missing', lang)}: " + ", ".join(f"{k} ×{n}" for k, n in c.missing.items()))
        if c.outcome == NO_FAILURE:
            continue
        out += ["", f"### {_t('allow', lang)}", ""]
        if not c.allow:
            out.append(f"- {_t('no_allow', lang)}")
        for rule in c.allow:
            out.append(
                f"- {_t('process', lang)} {_md_code(str(rule.get('pattern') or rule.get('process') or ''))}"
            )
            if rule.get("pattern") and rule.get("process"):
                out.append(f"  - {_t('example', lang)}: {_md_code(str(rule['process']))}")
            if rule.get("no_injection"):
                out.append(f"  - {_t('no_injection', lang)}")
            for k in ("registry_keys", "files"):
                if rule.get(k):
                    label = _t("keys" if k == "registry_keys" else "files", lang)
                    out.append(f"  - {label}: " + ", ".join(_md_code(x) for x in rule[k]))
        workaround, fix = _remedy(c, lang)
        if workaround:
            out += ["", f"**{_t('workaround', lang)}**: {workaround}"]
        if fix:
            out += ["", f"**{_t('fix', lang)}**: {fix}"]
    bad = [r for r in rows if r.get("outcome") == UNREADABLE]
    if bad:
        out += [
            "",
            f"## {_t('unreadable_list', lang)}",
            "",
            f"| {_t('bundle', lang)} | {_t('error', lang)} |",
            "|---|---|",
        ]
        out += [f"| {_md_cell(r.get('path'))} | {_md_cell(r.get('error'))} |" for r in bad]
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI","Microsoft YaHei",sans-serif;margin:2em;
max-width:72em;
color:#1b1f24}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.3em .6em;
text-align:left;vertical-align:top}th{background:#f6f8fa}td.n{text-align:right}code{font-size:.9em;
background:#f6f8fa;padding:0 .2em;word-break:break-all}section{border-top:1px solid #d0d7de;margin-top:1.5em}
.muted{color:#57606a}"""


def render_html(
    rows: Sequence[Mapping[str, Any]], cl: list[Cluster], meta: Mapping[str, Any], lang: str = "en"
) -> str:
    """The summary as one self-contained HTML page (no scripts, no external resources)."""
    e = html.escape
    total = len(rows)
    h = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(_t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(_t('title', lang))}</h1>",
        f'<p class="muted">{e(_t("generated", lang))}: {e(str(meta.get("generated_utc", "")))}'
        f"{'。' if lang == 'zh' else '. '}"
        f"{e(_counts_line(rows, cl, lang))}</p>",
        f"<h2>{e(_t('clusters', lang))}</h2><table><thead><tr><th>#</th>"
        + "".join(
            f"<th>{e(_t(k, lang))}</th>"
            for k in ("count", "share", "failure", "code", "finding", "culprit", "signature")
        )
        + "</tr></thead><tbody>",
    ]
    for i, c in enumerate(cl, 1):
        if c.outcome in (NO_FAILURE, UNREADABLE):
            cells = [_t(c.outcome, lang), "", "", ""]
        else:
            who = (
                c.culprit + (f" ({c.product})" if c.product else "") if c.culprit else _t("unexplained", lang)
            )
            cells = [c.failure or "", c.failure_code or "", c.finding or "", who]
        h.append(
            f'<tr><td class="n"><a href="#c{i}">{i}</a></td><td class="n">{c.count}</td>'
            f'<td class="n">{_pct(c.count, total)}</td>'
            + "".join(f"<td>{e(x)}</td>" for x in cells)
            + f"<td><code>{e(c.signature)}</code></td></tr>"
        )
    h.append("</tbody></table>")
    for i, c in enumerate(cl, 1):
        h.append(
            f'<section id="c{i}"><h2>{i}. {e(_label(c, lang))} — {e(_n(c.count, "endpoints", lang))}</h2>'
        )
        title = _title(c, lang)
        if title:
            h.append(f"<p>{e(title)}</p>")
        h.append("<ul>")
        if c.confidence:
            lo, hi = c.confidence
            h.append(
                f"<li>{e(_t('confidence', lang))}: {lo:.2f}" + (f"–{hi:.2f}" if hi != lo else "") + "</li>"
            )
        h.append(
            f"<li>{e(_t('signature', lang))}: <code>{e(c.signature)}</code> "
            f"<details><summary>{e(_t('signature_text', lang))}</summary>"
            f"<code>{e(c.text)}</code></details></li>"
        )
        h.append(
            f"<li>{e(_t('examples', lang))}: " + ", ".join(e(_endpoint(x)) for x in c.examples) + "</li>"
        )
        h.append(
            f"<li>{e(_t('os_builds', lang))}: "
            + ", ".join(f"{e(k)} ×{n}" for k, n in c.os_builds.items())
            + "</li>"
        )
        h.append(
            f"<li>{e(_t('locales', lang))}: "
            + ", ".join(f"{e(k)} ×{n}" for k, n in c.locales.items())
            + "</li>"
        )
        for key, counts in (("errors", c.errors), ("missing", c.missing)):
            if counts:
                h.append(
                    f"<li>{e(_t(key, lang))}: "
                    + ", ".join(f"{e(k)} ×{n}" for k, n in counts.items())
                    + "</li>"
                )
        h.append("</ul>")
        if c.outcome in ("explained", "unexplained"):
            h.append(f"<h3>{e(_t('allow', lang))}</h3>")
            if not c.allow:
                h.append(f"<p>{e(_t('no_allow', lang))}</p>")
            else:
                cols = [k for k in ("registry_keys", "files") if any(r.get(k) for r in c.allow)]
                h.append(
                    f"<table><thead><tr><th>{e(_t('process', lang))}</th>"
                    + "".join(
                        f"<th>{e(_t('keys' if k == 'registry_keys' else 'files', lang))}</th>" for k in cols
                    )
                    + "</tr></thead><tbody>"
                )
                for rule in c.allow:
                    proc = f"<code>{e(str(rule.get('pattern') or rule.get('process') or ''))}</code>"
                    if rule.get("pattern") and rule.get("process"):
                        proc += f"<br>{e(_t('example', lang))}: <code>{e(str(rule['process']))}</code>"
                    if rule.get("no_injection"):
                        proc += f"<br>{e(_t('no_injection', lang))}"
                    tds = "".join(
                        "<td>" + "<br>".join(f"<code>{e(x)}</code>" for x in rule.get(k) or ()) + "</td>"
                        for k in cols
                    )
                    h.append(f"<tr><td>{proc}</td>{tds}</tr>")
                h.append("</tbody></table>")
            workaround, fix = _remedy(c, lang)
            if workaround:
                h.append(f"<p><strong>{e(_t('workaround', lang))}</strong>: {e(workaround)}</p>")
            if fix:
                h.append(f"<p><strong>{e(_t('fix', lang))}</strong>: {e(fix)}</p>")
        h.append("</section>")
    bad = [r for r in rows if r.get("outcome") == UNREADABLE]
    if bad:
        h.append(
            f"<section><h2>{e(_t('unreadable_list', lang))}</h2><table><thead><tr>"
            f"<th>{e(_t('bundle', lang))}</th><th>{e(_t('error', lang))}</th></tr></thead><tbody>"
        )
        h += [
            f"<tr><td><code>{e(str(r.get('path') or ''))}</code></td>"
            f"<td>{e(str(r.get('error') or ''))}</td></tr>"
            for r in bad
        ]
        h.append("</tbody></table></section>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"
