"""Text that came from a log stays text: html escapes it, Markdown neutralises it."""

from __future__ import annotations

import copy
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from culprit import pipeline
from culprit.analysis import analyze
from culprit.report import markdown
from culprit.report.render import render
from tests.report.conftest import EXAMPLES

PAYLOAD = "<script>alert('pwned')</script>"


class Tags(HTMLParser):
    """Collects start tags and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def md_to_html(md: str) -> str:
    """Markdown as a CommonMark viewer shows it, raw HTML enabled (the dangerous, usual setting)."""
    mdit = pytest.importorskip("markdown_it", reason="markdown-it-py (test extra) renders the Markdown")
    return mdit.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def tags_of(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def test_script_in_a_real_log_line_stays_text(tmp_path: Path) -> None:
    """End to end: a CBS.log line carrying <script> goes through parse, analysis and the html renderer."""
    src = EXAMPLES / "kb4474419-registry-denied"
    bad = tmp_path / "bad"
    shutil.copytree(src / "bad", bad)
    cbs = bad / "Windows" / "Logs" / "CBS" / "CBS.log"
    raw = cbs.read_bytes()
    needle = b"for Inf: cpu.inf"
    assert needle in raw
    cbs.write_bytes(raw.replace(needle, needle + b" " + PAYLOAD.encode(), 1))
    with pipeline.load([str(bad), str(src / "repro")]) as ws:
        d = analyze(ws).to_dict()
    texts = [s.get("text", "") for s in d["findings"][0]["chain"]]
    assert any(PAYLOAD in t for t in texts), "the payload should reach the chain as evidence text"
    for lang in ("en", "zh"):
        out = render(d, "html", lang)
        assert PAYLOAD not in out
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in out
        assert "script" not in tags_of(out).tags
        md_html = md_to_html(render(d, "md", lang))
        assert "script" not in tags_of(md_html).tags
        assert (
            "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in md_html or "&lt;script&gt;" in md_html
        )


def test_every_field_from_the_analysis_is_escaped(seed_analysis) -> None:
    """Titles, summaries, culprit facts, allow-list paths, missing items, warnings, bundle names."""
    d = copy.deepcopy(seed_analysis("edge", "en"))
    evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    f = d["findings"][0]
    f["title"] = f["title_zh"] = evil
    f["culprit"]["module"] = evil
    f["culprit"]["vendor"] = evil
    for s in f["chain"]:
        s["summary"] = s["summary_zh"] = evil
        s["text"] = evil
        s["artifact"] = "good/" + evil if s.get("artifact", "").startswith("good/") else evil
    f["remediation"]["allow"][0]["process"] = evil
    f["remediation"]["allow"][0]["pattern"] = evil
    f["remediation"]["workaround"] = evil
    d["failures"][0]["target"] = evil
    d["missing"] = [{"artifact": evil, "why": evil, "how": evil}]
    d["warnings"] = [{"artifact": evil, "message": evil, "line": 3}]
    d["bundle"]["path"] = evil
    for lang in ("en", "zh"):
        for template in ("summary", "scope", "request"):
            out = render(d, "html", lang, template, case=evil)
            tags = tags_of(out)
            assert "script" not in tags.tags and "img" not in tags.tags, template
            assert not any(k.startswith("on") for k, _ in tags.attrs), template
            assert "<script>" not in out and "<img" not in out
            md_tags = tags_of(md_to_html(render(d, "md", lang, template, case=evil)))
            assert "script" not in md_tags.tags and "img" not in md_tags.tags, template
            assert not any(k.startswith("on") for k, _ in md_tags.attrs), template


def test_markdown_escaping() -> None:
    assert markdown.md_text("a <b> *c* [x](javascript:1) | d") == r"a \<b\> \*c\* [x\](javascript:1) \| d"
    assert (
        markdown.md_text(r"HKLM\SYSTEM\Services\AmdK8_Service_Inst")
        == r"HKLM\SYSTEM\Services\AmdK8_Service_Inst"
    )
    assert markdown.md_text(r"C:\*.tmp") == r"C:\\\*.tmp"
    assert markdown.md_text("_x_ two\nlines") == r"\_x\_ two lines"
    assert markdown.md_code("a`b``c") == "```a`b``c```"
    assert markdown.md_code("`x") == "`` `x ``"
    assert markdown.md_cell(["a|b"]) == r"a\|b"
