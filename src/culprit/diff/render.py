"""Print a :class:`culprit.diff.DiffResult`: text for a terminal, JSON, and a side-by-side HTML page.

Everything that came from a capture (process names, paths, command lines, companies) is escaped in HTML
with :func:`html.escape`; the page has no script and loads nothing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import IO, Any

from culprit.diff.model import AlignedProcess, Difference, DiffResult, ProcSide
from culprit.diff.readings import dur, dur_zh, status

_T = {
    "en": {
        "title": "Good-vs-bad diff",
        "good": "good run",
        "bad": "failing run",
        "rank": "#",
        "score": "score",
        "kind": "kind",
        "process": "process",
        "reading": "reading",
        "none": "no differences found",
        "nothing": "nothing could be compared: no process of one capture matches a process of the other",
        "procs": "Processes of the install, aligned",
        "how": "matched by",
        "warnings": "Warnings",
        "events": "events",
        "lifetime": "lifetime",
        "exit": "exit",
        "pid": "PID",
        "evidence": "evidence",
        "not_loaded": "not loaded",
        "not_started": "not started",
        "not_done": "not done",
        "absent": "absent",
        "running": "still running",
        "more": "more differences in the JSON output",
        "aligned": "processes aligned",
        "common": "Present in both runs (third-party, not a difference)",
    },
    "zh": {
        "title": "正常/失败运行对比",
        "good": "正常的运行",
        "bad": "失败的运行",
        "rank": "#",
        "score": "得分",
        "kind": "类型",
        "process": "进程",
        "reading": "解读",
        "none": "未发现差异",
        "nothing": "无法比较：两个捕获中没有能对应上的进程",
        "procs": "安装相关进程（已对齐）",
        "how": "对齐依据",
        "warnings": "警告",
        "events": "事件数",
        "lifetime": "运行时长",
        "exit": "退出状态",
        "pid": "PID",
        "evidence": "证据",
        "not_loaded": "未加载",
        "not_started": "未启动",
        "not_done": "无此操作",
        "absent": "不存在",
        "running": "仍在运行",
        "more": "更多差异见 JSON 输出",
        "aligned": "个进程已对齐",
        "common": "两次运行中都存在（第三方，不是差异）",
    },
}


def _t(lang: str) -> dict[str, str]:
    return _T.get(lang, _T["en"])


def _d(lang: str) -> Callable[[float | None], str]:
    return dur_zh if lang == "zh" else dur


def sides(d: Difference, lang: str = "en") -> tuple[str, str]:
    """What the good run and the failing run show for one difference, one short line each."""
    t = _t(lang)
    x = d.details
    du = _d(lang)

    def ev(events: tuple[int, ...]) -> str:
        return f" [#{events[0]}]" if events else ""

    if d.kind == "module-only-in-bad":
        off = x.get("load_offset_ms")
        when = f" +{du(off / 1000)}" if isinstance(off, (int, float)) else ""
        who = f" ({x.get('company')})" if x.get("company") else ""
        return t["not_loaded"], f"{x.get('module', d.subject)}{who}{when}{ev(d.bad_events)}"
    if d.kind == "module-only-in-good":
        who = f" ({x.get('company')})" if x.get("company") else ""
        return f"{x.get('module', d.subject)}{who}{ev(d.good_events)}", t["not_loaded"]
    if d.kind == "third-party-in-both":
        return f"{d.subject}{ev(d.good_events)}", f"{d.subject}{ev(d.bad_events)}"
    if d.kind in ("early-exit", "exit-differs"):
        gl = (
            t["running"] + f" ({du(x.get('good_lifetime'))})"
            if x.get("good_still_running")
            else (f"{t['lifetime']} {du(x.get('good_lifetime'))}, {t['exit']} {status(x.get('good_status'))}")
        )
        bl = f"{t['lifetime']} {du(x.get('bad_lifetime'))}, {t['exit']} {status(x.get('bad_status'))}"
        return gl + ev(d.good_events), bl + ev(d.bad_events)
    if d.kind == "result-differs":
        count = x.get("count", 1)
        good = x.get("good_result") or t["not_done"]
        return (
            f"{good}{ev(d.good_events)}",
            f"{x.get('bad_result')}{' ×' + str(count) if count > 1 else ''}" + ev(d.bad_events),
        )
    if d.kind == "child-missing":
        return f"{x.get('child_command_line') or x.get('child_image') or d.subject}{ev(d.good_events)}", t[
            "not_started"
        ]
    if d.kind == "child-only-in-bad":
        return t[
            "not_started"
        ], f"{x.get('child_command_line') or x.get('child_image') or d.subject}{ev(d.bad_events)}"
    if d.kind == "first-divergence":
        return (x.get("good_step") or "—") + ev(d.good_events), (x.get("bad_step") or "—") + ev(d.bad_events)
    if d.kind == "process-missing":
        return d.subject + ev(d.good_events), t["absent"]
    if d.kind == "process-only-in-bad":
        return t["absent"], d.subject + ev(d.bad_events)
    if d.kind == "activity-differs":
        return f"{x.get('good_events')} {t['events']}", f"{x.get('bad_events')} {t['events']}"
    return ev(d.good_events) or "—", ev(d.bad_events) or "—"


def _pids(d: Difference) -> str:
    g = "-" if d.good_pid is None else str(d.good_pid)
    b = "-" if d.bad_pid is None else str(d.bad_pid)
    return f"pid {g}/{b}"


def _side(s: ProcSide | None, lang: str) -> str:
    if s is None:
        return "—"
    t = _t(lang)
    life = (
        f"{_d(lang)(s.lifetime)}"
        if s.lifetime is not None
        else (t["running"] if s.started_in_capture else "")
    )
    ex = f" {t['exit']} {status(s.exit_status)}" if s.exit_status is not None else ""
    return f"{s.name} ({t['pid']} {s.pid}) {life}{ex}, {s.events:,} {t['events']}".replace("  ", " ")


def _install(p: AlignedProcess) -> bool:
    return any(s is not None and s.started_in_capture for s in (p.good, p.bad))


def write_text(r: DiffResult, out: IO[str], lang: str = "en", limit: int = 25) -> None:
    """The ranked differences, then the install's aligned processes, then warnings."""
    t = _t(lang)
    w = out.write
    w(f"{t['title']}: {t['good']} {r.good}  vs  {t['bad']} {r.bad}\n")
    s = r.stats
    w(
        f"  {s.get('good_events', 0):,} / {s.get('bad_events', 0):,} {t['events']}; "
        f"{s.get('aligned', 0)} {t['aligned']}; {s.get('seconds', 0)} s\n\n"
    )
    if not r.differences:
        w(f"{t['nothing'] if not s.get('aligned') else t['none']}\n")
    for n, d in enumerate(r.differences[:limit], 1):
        text = d.reading_zh if lang == "zh" else d.reading
        g, b = sides(d, lang)
        w(f"{n:2d}. [{d.score:.2f}] {d.kind}  {d.process}  ({_pids(d)})\n")
        w(f"    {text}\n")
        w(f"    {t['good']}: {g}\n    {t['bad']}: {b}\n")
    if len(r.differences) > limit:
        w(f"    … {len(r.differences) - limit} {t['more']}\n")
    if r.common:
        w(f"\n{t['common']}\n")
        for d in r.common:
            w(f"  {d.reading_zh if lang == 'zh' else d.reading}\n")
    procs = [p for p in r.processes if _install(p)]
    if procs:
        w(f"\n{t['procs']}\n")
        for p in procs:
            w(f"  {_side(p.good, lang):60s} | {_side(p.bad, lang):60s} | {p.how}\n")
    if r.warnings:
        w(f"\n{t['warnings']}\n")
        for m in r.warnings:
            w(f"  {m}\n")


def write_json(r: DiffResult, out: IO[str]) -> None:
    """The result as JSON (schema ``culprit.diff/1``)."""
    json.dump(r.to_dict(), out, ensure_ascii=False, indent=2)
    out.write("\n")


_CSS = """
body{font-family:system-ui,"Segoe UI","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left;font-size:.9em}
th{background:#f0f0f0} td.good{background:#eef8ee} td.bad{background:#fbecec}
td.score{text-align:right} code{font-family:Consolas,monospace;word-break:break-all}
.reading{color:#333}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def write_html(r: DiffResult, out: IO[str], lang: str = "en", limit: int = 200) -> None:
    """A self-contained page: differences with the good and failing run side by side, then the processes."""
    t = _t(lang)
    w = out.write
    w(
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{_e(t['title'])}</title><style>{_CSS}</style></head><body>\n"
    )
    w(
        f"<h1>{_e(t['title'])}</h1>\n<p>{_e(t['good'])}: <code>{_e(r.good)}</code> — {_e(t['bad'])}: "
        f"<code>{_e(r.bad)}</code></p>\n"
    )
    if not r.differences:
        w(f"<p>{_e(t['nothing'] if not r.stats.get('aligned') else t['none'])}</p>\n")
    else:
        w(
            f"<table><thead><tr><th>{t['rank']}</th><th>{_e(t['score'])}</th><th>{_e(t['kind'])}</th>"
            f"<th>{_e(t['process'])}</th><th>{_e(t['good'])}</th><th>{_e(t['bad'])}</th>"
            f"<th>{_e(t['reading'])}</th></tr></thead><tbody>\n"
        )
        for n, d in enumerate(r.differences[:limit], 1):
            g, b = sides(d, lang)
            text = d.reading_zh if lang == "zh" else d.reading
            w(
                f'<tr><td>{n}</td><td class="score">{d.score:.2f}</td><td>{_e(d.kind)}</td>'
                f"<td>{_e(d.process)}<br><small>{_e(_pids(d))}</small></td>"
                f'<td class="good"><code>{_e(g)}</code></td><td class="bad"><code>{_e(b)}</code></td>'
                f'<td class="reading">{_e(text)}</td></tr>\n'
            )
        w("</tbody></table>\n")
    if r.common:
        w(f"<h2>{_e(t['common'])}</h2><ul>\n")
        for d in r.common:
            w(f"<li>{_e(d.reading_zh if lang == 'zh' else d.reading)}</li>\n")
        w("</ul>\n")
    w(
        f"<h2>{_e(t['procs'])}</h2>\n<table><thead><tr><th>{_e(t['good'])}</th><th>{_e(t['bad'])}</th>"
        f"<th>{_e(t['how'])}</th></tr></thead><tbody>\n"
    )
    for p in r.processes:
        if not _install(p):
            continue
        gc = ' class="good"' if p.good else ""
        bc = ' class="bad"' if p.bad and not p.good else ""
        gt = _e(_side(p.good, lang)) + (
            f"<br><small><code>{_e(p.good.command_line)}</code></small>" if p.good else ""
        )
        bt = _e(_side(p.bad, lang)) + (
            f"<br><small><code>{_e(p.bad.command_line)}</code></small>" if p.bad else ""
        )
        w(f"<tr><td{gc}>{gt}</td><td{bc}>{bt}</td><td>{_e(p.how)}</td></tr>\n")
    w("</tbody></table>\n")
    if r.warnings:
        w(f"<h2>{_e(t['warnings'])}</h2><ul>\n")
        for m in r.warnings:
            w(f"<li>{_e(m)}</li>\n")
        w("</ul>\n")
    w("</body></html>\n")


def write(r: DiffResult, out: IO[str], fmt: str = "text", lang: str = "en", limit: int = 25) -> None:
    """Render in ``fmt`` (``text``, ``json`` or ``html``); ``limit`` caps the differences shown as text."""
    if fmt == "json":
        write_json(r, out)
    elif fmt == "html":
        write_html(r, out, lang)
    else:
        write_text(r, out, lang, limit)
