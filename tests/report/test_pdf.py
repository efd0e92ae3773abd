"""The PDF case summary: pages render (pdftoppm), text extracts with the culprit, the KB or product,
the allow-listed keys and Chinese characters (no tofu: the glyphs come from an embedded CJK font)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from culprit.report import pdf
from culprit.report.render import render

TOOLS = ("pdftoppm", "pdftotext", "pdfinfo", "pdffonts")


@pytest.fixture(scope="module", autouse=True)
def _needs_tools() -> None:
    why = pdf.available()
    if why:
        pytest.skip(why)
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian poppler-utils; scripts/system-deps.sh)")


def needs_cjk_font(lang: str) -> None:
    """Skip a Chinese PDF test, with the reason, when fontconfig knows no font with Han glyphs."""
    if lang != "zh":
        return
    fc = shutil.which("fc-list")
    found = subprocess.run([fc, ":lang=zh"], capture_output=True, text=True).stdout.strip() if fc else ""
    if not found:
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk; scripts/system-deps.sh)")


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout


def pdf_facts(data: bytes, tmp: Path) -> tuple[int, int, str, str]:
    """(pages per pdfinfo, PNG pages written by pdftoppm, extracted text, pdffonts listing).

    The text is extracted in drawing order (``-raw``) so a path wrapped inside a table cell stays
    contiguous instead of being interleaved with the next column.
    """
    f = tmp / "report.pdf"
    f.write_bytes(data)
    pages = int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(f)), re.M).group(1))  # type: ignore[union-attr]
    _run("pdftoppm", "-r", "30", "-png", str(f), str(tmp / "page"))
    pngs = sorted(tmp.glob("page*.png"))
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    text = _run("pdftotext", "-raw", "-enc", "UTF-8", str(f), "-")
    return pages, len(pngs), text, _run("pdffonts", str(f))


def squash(s: str) -> str:
    """Text without whitespace: table cells wrap long paths across lines."""
    return re.sub(r"\s+", "", s)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kb4474419_pdf(seed_analysis, tmp_path: Path, lang: str) -> None:
    needs_cjk_font(lang)
    d = seed_analysis("kb4474419", lang)
    data = render(d, "pdf", lang, case="CAS-2024-0903-0117")
    assert isinstance(data, bytes) and data.startswith(b"%PDF-")
    pages, pngs, text, fonts = pdf_facts(data, tmp_path)
    assert 2 <= pages <= 8
    assert pngs == pages
    flat = squash(text)
    assert "krnlmgr.sys" in flat and "KB4474419" in flat and "TMS" in flat
    allow = d["findings"][0]["remediation"]["allow"]
    keys = [k for a in allow for k in a.get("registry_keys", [])]
    files = [x for a in allow for x in a.get("files", [])]
    assert keys, "the registry-denied case allow-lists service keys"
    for item in [a["process"] for a in allow] + keys + files:
        assert squash(item) in flat, item
    assert "<svg" not in text  # the timeline is drawn, not printed as markup
    if lang == "zh":
        for words in ("问题描述", "问题分析", "问题总结", "下一步动作", "补丁", "注册表", "加白", "内核驱动"):
            assert words in flat, words
        assert re.search(r"CJK", fonts), fonts  # the Han glyphs come from an embedded CJK font
        assert "\ufffd" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_edge_pdf_with_good_run(seed_analysis, tmp_path: Path, lang: str) -> None:
    needs_cjk_font(lang)
    d = seed_analysis("edge", lang)
    data = render(d, "pdf", lang)
    pages, pngs, text, fonts = pdf_facts(data, tmp_path)
    assert 2 <= pages <= 10 and pngs == pages
    flat = squash(text)
    assert "schk.dll" in flat and "MicrosoftEdge" in flat and "pcit.exe" in flat
    for a in d["findings"][0]["remediation"]["allow"]:
        assert squash(a["process"]) in flat
    # the timeline's two panels are in the page text (SVG text is real text in the PDF)
    assert ("正常机" if lang == "zh" else "good machine") in text
    if lang == "zh":
        assert "注入" in flat and "禁止注入" in flat
        assert "CJK" in fonts


def test_pdf_cli_writes_a_file(tmp_path: Path, seed_analysis) -> None:
    import json

    from culprit.cli import main

    src = tmp_path / "a.json"
    src.write_text(json.dumps(seed_analysis("kb4474419", "zh"), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "case.pdf"
    assert main(["report", str(src), "--format", "pdf", "--lang", "zh", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
