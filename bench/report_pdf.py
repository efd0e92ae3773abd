#!/usr/bin/env python3
"""Compare PDF libraries for the Chinese case summary: WeasyPrint (ours) vs reportlab vs fpdf2.

All three get the same document (the zh case summary of the KB4474419 seed case, built by
``culprit.report.summary``). WeasyPrint renders our HTML + CSS + inline timeline SVG; the peers
get the document's text laid out as plain paragraphs (no tables, no picture), which is the least
they would need, so their times are a lower bound. For each: median seconds over N runs, PDF size,
whether pdftotext gets the Han characters back, whether a CJK font is embedded (pdffonts), and the
ratio of its time to WeasyPrint's.

Usage: python bench/report_pdf.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CJK_FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]


def analysis() -> dict:
    from culprit import pipeline
    from culprit.analysis import analyze

    base = ROOT / "examples" / "kb4474419-registry-denied"
    with pipeline.load([str(base / "bad"), str(base / "repro")]) as ws:
        return analyze(ws, lang="zh").to_dict()


def plain_lines(doc) -> list[str]:
    """The document's text, one paragraph per line (what the peers lay out)."""
    from culprit.report.document import Code

    def inline(parts) -> str:
        return "".join(p.text if isinstance(p, Code) else str(p) for p in parts)

    lines = [doc.title]
    for s in doc.sections:
        lines.append(s.heading)
        for b in s.blocks:
            k = b.kind
            if k == "para":
                lines.append(inline(b.parts))
            elif k == "bullets":
                lines += ["• " + inline(i) for i in b.items]
            elif k == "table":
                for row in b.rows:
                    for cell in row:
                        lines += [inline(x if isinstance(x, tuple) else (x,)) for x in cell]
            elif k == "chain":
                for st in b.steps:
                    lines += [f"{st.n}. {st.summary}", st.where, st.excerpt]
    return [x for x in lines if x]


def weasy(doc) -> bytes:
    from culprit.report import pdf

    return pdf.render(doc)


def reportlab_peer(doc) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    # reportlab embeds TrueType (glyf) fonts only; Noto CJK is CFF-based OpenType, so the CJK
    # route is Adobe's non-embedded CID font STSong-Light (the viewer must supply the glyphs).
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=10, leading=14, wordWrap="CJK")
    buf = io.BytesIO()
    from xml.sax.saxutils import escape

    SimpleDocTemplate(buf, pagesize=A4).build([Paragraph(escape(x), style) for x in plain_lines(doc)])
    return buf.getvalue()


def fpdf_peer(doc) -> bytes:
    from fpdf import FPDF

    font = next((f for f in CJK_FONTS if Path(f).exists()), None)
    if font is None:
        raise RuntimeError("no CJK font file")
    p = FPDF(format="A4")
    p.add_page()
    p.add_font("cjk", fname=font)
    p.set_font("cjk", size=10)
    for x in plain_lines(doc):
        p.multi_cell(0, 6, x, new_x="LMARGIN", new_y="NEXT")
    return bytes(p.output())


def facts(data: bytes) -> tuple[bool, str]:
    if not shutil.which("pdftotext"):
        return False, "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, text=True
        ).stdout
        fonts = subprocess.run(["pdffonts", f.name], capture_output=True, text=True).stdout
    embedded = [ln for ln in fonts.splitlines()[2:] if ("CJK" in ln or "Song" in ln or "Hei" in ln)]
    emb = "yes" if any(" yes " in ln for ln in embedded) else ("no" if embedded else "none")
    return "问题分析" in text, emb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from culprit.report import summary

    doc = summary.build(analysis(), "zh", "CAS-BENCH")
    peers: dict[str, Callable] = {"weasyprint": weasy, "reportlab": reportlab_peer, "fpdf2": fpdf_peer}
    print(
        f"{'library':12} {'median s':>9} {'x weasy':>8} {'KB':>6} {'zh text':>8} "
        f"{'CJK font embedded':>18}  content"
    )
    base = None
    for name, fn in peers.items():
        try:
            fn(doc)  # warm-up: imports, font loading
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                data = fn(doc)
                times.append(time.perf_counter() - t0)
        except Exception as e:  # a peer that cannot do it is a result too
            print(f"{name:12} failed: {type(e).__name__}: {e}")
            continue
        med = statistics.median(times)
        base = base or med
        ok, emb = facts(data)
        what = "html+css+svg, tables" if name == "weasyprint" else "plain paragraphs only"
        print(
            f"{name:12} {med:9.2f} {med / base:8.2f} {len(data) // 1024:6} {'yes' if ok else 'NO':>8} "
            f"{emb:>18}  {what}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
