"""Timeline picture of the failing install (and the good run beside it) as standalone SVG.

Built only from the analysis JSON: the first finding's chain steps. Each step is a mark on the
lane of the artifact that holds its evidence (a Procmon capture and its CSV export share a lane),
numbered like the chain in the summary. Marks show a process start, a module load, a denied
operation, an exit (red when its status is not 0), a failure, or other evidence; a process's
lifetime is a bar from its start mark to its exit mark. Steps whose artifact lies in the good
bundle are drawn in a second panel to the right.

The horizontal axis is real time when every step of a run carries a ``time`` (ISO 8601, an
optional field of chain steps) and the chain's order otherwise. A step's mark comes from its
optional ``mark`` field (``start|load|denied|exit|fail|info``) when the analysis sets one, else
from the record it quotes (Procmon operation names) and the words of its summary.

Every text node and attribute is XML-escaped, so log text cannot become markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from culprit.report.i18n import t

MARKS = ("start", "load", "denied", "exit", "fail", "info")
COLORS = {
    "start": "#2e7d32",
    "load": "#1565c0",
    "denied": "#c62828",
    "exit": "#546e7a",
    "fail": "#c62828",
    "info": "#9e9e9e",
    "exit-bad": "#c62828",
    "exit-ok": "#2e7d32",
}
FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
WIDTH = 780  # about the A4 text width, so the PDF barely scales it down
LABEL_W = 118
LANE_H = 30
BAR_H = 14
TOP = 40
MAX_MARKS = 60  # per run; a longer chain is drawn up to here and the rest counted

# "Process Create C:\...\MicrosoftEdgeUpdate.exe SUCCESS PID: 7140, ..." (Procmon record text)
_OP = re.compile(r"^(Process Create|Process Exit|Load Image|Thread Create)\b")
# "Process Exit  SUCCESS Exit Status: -2147218431, User Time: ..."
_EXIT_STATUS = re.compile(r"Exit Status: (-?\d+)")
# "msiexec.exe (PID 7320) starts MSI8F3A.tmp (PID 6852)" / "MSI8F3A.tmp exits with ..."
_STARTS = re.compile(r"\bstarts (\S+?)(?: \(PID (\d+)[,)])")
_EXITS = re.compile(r"^(?:good machine: (?:the same )?)?(\S+?) (?:exits|runs)\b")


@dataclass(slots=True)
class Mark:
    n: int
    lane: str
    kind: str
    summary: str
    x: float = 0.0
    ok: bool | None = None
    proc: str | None = None


def classify(step: Mapping[str, Any]) -> str:
    """The mark for a chain step: ``start``, ``load``, ``denied``, ``exit``, ``fail`` or ``info``."""
    explicit = step.get("mark")
    if explicit in MARKS:
        return str(explicit)
    text = str(step.get("text") or "")
    summary = str(step.get("summary") or "")
    low = summary.lower()
    op = _OP.match(text)
    if op:
        return {"Process Create": "start", "Process Exit": "exit", "Load Image": "load"}.get(
            op.group(1), "info"
        )
    if "ACCESS DENIED" in text or "拒绝访问" in text or "access denied" in low or "denies" in low:
        return "denied"
    if re.search(r"\bstarts\b", low):
        return "start"
    if re.search(r"\bloads?\b", low):
        return "load"
    if re.search(r"\bexits?\b|\bquits\b", low) and "opens" not in low:
        return "exit"
    if re.search(r"\bfail(?:s|ed|ure)?\b|rolled back|rollback|\b1603\b|return value 3", low):
        return "fail"
    return "info"


def _lane(artifact: str, runs: Sequence[str]) -> str:
    a = artifact.replace("\\", "/")
    for r in runs:
        if a.startswith(r + "/"):
            a = a[len(r) + 1 :]
            break
    return a.rsplit("/", 1)[-1]


def _run_of(artifact: str, good: Sequence[str]) -> str:
    a = artifact.replace("\\", "/")
    return "good" if any(a.startswith(g + "/") for g in good) else "bad"


def _time(s: Any) -> datetime | None:
    if not isinstance(s, str):
        return None
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def _names(bundle: Mapping[str, Any], key: str) -> list[str]:
    return [x.strip() for x in str(bundle.get(key) or "").split(",") if x.strip()]


def _marks(steps: Sequence[tuple[int, Mapping[str, Any]]], runs: Sequence[str]) -> tuple[list[Mark], bool]:
    marks: list[Mark] = []
    times = [_time(s.get("time")) for _, s in steps]
    timed = bool(steps) and all(x is not None for x in times)
    for i, (n, s) in enumerate(steps):
        kind = classify(s)
        summary = str(s.get("summary") or "")
        m = Mark(n, _lane(str(s.get("artifact") or "?"), runs), kind, summary)
        st = _EXIT_STATUS.search(str(s.get("text") or ""))
        if kind == "exit" and st:
            m.ok = st.group(1) == "0"
        if kind == "start":
            g = _STARTS.search(summary)
            m.proc = g.group(1) if g else None
        elif kind == "exit":
            g = _EXITS.search(summary)
            m.proc = g.group(1) if g else None
        if timed:
            m.x = times[i].timestamp()  # type: ignore[union-attr]
        else:
            m.x = float(i)
        marks.append(m)
    return marks, timed


def _lifetimes(marks: Sequence[Mark]) -> list[tuple[Mark, Mark]]:
    """Pair each exit with the latest unpaired start of the same process (or lane) before it."""
    pairs = []
    open_: list[Mark] = []
    for m in marks:
        if m.kind == "start":
            open_.append(m)
        elif m.kind == "exit":
            for s in reversed(open_):
                if s.lane == m.lane and (
                    s.proc is None or m.proc is None or s.proc.lower() == m.proc.lower()
                ):
                    pairs.append((s, m))
                    open_.remove(s)
                    break
    return pairs


def _shape(m: Mark, x: float, y: float) -> str:
    c = COLORS[m.kind]
    if m.kind == "exit" and m.ok is not None:
        c = COLORS["exit-ok" if m.ok else "exit-bad"]
    if m.kind == "start":
        return (
            f'<path d="M{x - 5:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x - 5:.1f},{y + 6:.1f} Z" fill="{c}"/>'
        )
    if m.kind == "load":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{c}"/>'
    if m.kind == "denied":
        return (
            f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{c}"/>'
            f'<path d="M{x - 3.5:.1f},{y - 3.5:.1f} L{x + 3.5:.1f},{y + 3.5:.1f} '
            f"M{x + 3.5:.1f},{y - 3.5:.1f} "
            f'L{x - 3.5:.1f},{y + 3.5:.1f}" stroke="#fff" stroke-width="1.6"/>'
        )
    if m.kind == "exit":
        return f'<rect x="{x - 2:.1f}" y="{y - 8:.1f}" width="4" height="16" fill="{c}"/>'
    if m.kind == "fail":
        return (
            f'<path d="M{x:.1f},{y - 7:.1f} L{x + 7:.1f},{y:.1f} L{x:.1f},{y + 7:.1f} '
            f'L{x - 7:.1f},{y:.1f} Z" '
            f'fill="{c}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{c}"/>'


def _panel(
    marks: list[Mark], timed: bool, x0: float, width: float, title: str, lang: str
) -> tuple[str, float]:
    """One run's lanes; returns the SVG fragment and its height."""
    lanes: list[str] = []
    for m in marks:
        if m.lane not in lanes:
            lanes.append(m.lane)
    pairs = _lifetimes(marks)
    bars: dict[str, int] = {ln: 0 for ln in lanes}
    bar_row: dict[int, int] = {}
    for s, _e in pairs:
        bar_row[s.n] = bars[s.lane]
        bars[s.lane] += 1
    lane_y: dict[str, float] = {}
    y = TOP
    for ln in lanes:
        lane_y[ln] = y + 14
        y += LANE_H + BAR_H * bars[ln]
    height = y + 24
    plot_x0 = x0 + LABEL_W
    plot_w = max(40.0, width - LABEL_W - 16)
    lo = min((m.x for m in marks), default=0.0)
    hi = max((m.x for m in marks), default=1.0)
    span = (hi - lo) or 1.0

    def px(v: float) -> float:
        return plot_x0 + 8 + (v - lo) / span * (plot_w - 16)

    out = [
        f'<g class="panel"><text x="{x0 + 4:.1f}" y="{TOP - 16}" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>"
    ]
    for i, ln in enumerate(lanes):
        ly = lane_y[ln]
        band_h = LANE_H + BAR_H * bars[ln]
        if i % 2 == 0:
            out.append(
                f'<rect x="{x0:.1f}" y="{ly - 14:.1f}" width="{width - 8:.1f}" height="{band_h}" '
                f'fill="#f5f7fa"/>'
            )
        label = ln if len(ln) <= 20 else ln[:19] + "…"
        out.append(
            f'<text x="{x0 + 4:.1f}" y="{ly + 4:.1f}" font-size="10" fill="#37474f">'
            f"<title>{escape(ln)}</title>{escape(label)}</text>"
        )
        out.append(
            f'<line x1="{plot_x0:.1f}" y1="{ly:.1f}" x2="{plot_x0 + plot_w:.1f}" y2="{ly:.1f}" '
            f'stroke="#cfd8dc" stroke-width="1"/>'
        )
    for s, e in pairs:
        by = lane_y[s.lane] + 10 + BAR_H * bar_row[s.n]
        xa, xb = px(s.x), px(e.x)
        c = COLORS["exit-bad"] if e.ok is False else COLORS["exit-ok"] if e.ok else COLORS["exit"]
        out.append(
            f'<rect x="{xa:.1f}" y="{by - 3:.1f}" width="{max(2.0, xb - xa):.1f}" height="5" rx="2" '
            f'fill="{c}" fill-opacity="0.35"/>'
        )
        if s.proc:
            out.append(
                f'<text x="{xa:.1f}" y="{by + 10:.1f}" font-size="8" fill="#455a64">{escape(s.proc)}</text>'
            )
    for m in marks:
        x, ly = px(m.x), lane_y[m.lane]
        out.append(
            f'<g class="mark {m.kind}"><title>{m.n}. {escape(m.summary)}</title>{_shape(m, x, ly)}'
            f'<text x="{x:.1f}" y="{ly - 9:.1f}" font-size="8" text-anchor="middle" fill="#263238">'
            f"{m.n}</text></g>"
        )
    axis = t(lang, "fig.time" if timed else "fig.order")
    out.append(
        f'<text x="{plot_x0 + plot_w:.1f}" y="{height - 10:.1f}" font-size="9" text-anchor="end" '
        f'fill="#78909c">{escape(axis)}</text></g>'
    )
    return "".join(out), height


def _legend(y: float, lang: str) -> str:
    out = []
    x = 8.0
    for kind in (*MARKS, "life"):
        label = t(lang, f"lg.{kind}")
        if kind == "life":
            out.append(
                f'<rect x="{x:.1f}" y="{y - 3:.1f}" width="18" height="5" rx="2" fill="{COLORS["exit-ok"]}" '
                f'fill-opacity="0.35"/>'
            )
            w = 22.0
        else:
            out.append(_shape(Mark(0, "", kind, ""), x + 6, y))
            w = 16.0
        out.append(
            f'<text x="{x + w:.1f}" y="{y + 4:.1f}" font-size="10" fill="#37474f">{escape(label)}</text>'
        )
        x += w + 8 + 7 * len(label) * (1.6 if lang == "zh" else 0.85)
    return "".join(out)


def timeline(d: Mapping[str, Any], lang: str = "en") -> str:
    """The timeline SVG for the first finding of an analysis, or ``""`` when there is no chain.

    Args:
        d: the analysis JSON (``Analysis.to_dict()``).
        lang: ``en`` or ``zh`` (titles, legend).

    Returns:
        A complete ``<svg>`` element (UTF-8 text), safe to inline into HTML.
    """
    findings = d.get("findings") or []
    if not findings or not findings[0].get("chain"):
        return ""
    bundle = d.get("bundle") or {}
    good = _names(bundle, "good")
    bad = _names(bundle, "path")
    steps = list(enumerate(findings[0]["chain"], 1))
    bad_steps = [(n, s) for n, s in steps if _run_of(str(s.get("artifact") or ""), good) == "bad"]
    good_steps = [(n, s) for n, s in steps if _run_of(str(s.get("artifact") or ""), good) == "good"]
    hidden = max(0, len(bad_steps) - MAX_MARKS) + max(0, len(good_steps) - MAX_MARKS)
    bmarks, btimed = _marks(bad_steps[:MAX_MARKS], bad)
    gmarks, gtimed = _marks(good_steps[:MAX_MARKS], good)
    if gmarks:
        bw = max(380.0, min(WIDTH - 290.0, WIDTH * len(bmarks) / max(1, len(bmarks) + len(gmarks))))
        frag_b, hb = _panel(bmarks, btimed, 0, bw, f"{t(lang, 'fig.bad')} ({', '.join(bad)})", lang)
        frag_g, hg = _panel(
            gmarks, gtimed, bw + 8, WIDTH - bw - 8, f"{t(lang, 'fig.goodrun')} ({', '.join(good)})", lang
        )
        body = (
            frag_b
            + f'<line x1="{bw + 2:.1f}" y1="8" x2="{bw + 2:.1f}" y2="{max(hb, hg):.1f}" stroke="#b0bec5"/>'
        )
        body += frag_g
        h = max(hb, hg)
    else:
        body, h = _panel(bmarks, btimed, 0, WIDTH, f"{t(lang, 'fig.bad')} ({', '.join(bad)})", lang)
    legend = _legend(h + 8, lang)
    if hidden:
        h += 16
        legend += (
            f'<text x="8" y="{h + 22:.1f}" font-size="10" fill="#78909c">'
            f"{escape(t(lang, 'fig.more', n=hidden))}</text>"
        )
    total = h + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {total:.0f}" width="{WIDTH}" '
        f'height="{total:.0f}" font-family="{FONT}" role="img">{body}{legend}</svg>'
    )
