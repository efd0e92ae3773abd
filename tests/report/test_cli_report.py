"""``culprit report`` and ``culprit analyze --format md|html``: files, languages, templates, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.cli import main
from culprit.errors import InputError
from culprit.model import SCHEMA
from culprit.report.render import render
from tests.report.conftest import EXAMPLES


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args], capture_output=True, text=True, timeout=300, input=stdin
    )


@pytest.fixture()
def saved(tmp_path: Path, seed_analysis) -> Path:
    p = tmp_path / "analysis.json"
    p.write_text(json.dumps(seed_analysis("kb4474419", "zh"), ensure_ascii=False, indent=2), encoding="utf-8")
    return p


def test_report_from_saved_json_matches_the_library(saved: Path, tmp_path: Path, seed_analysis) -> None:
    out = tmp_path / "case.md"
    rc = main(["report", str(saved), "--lang", "zh", "--case", "CAS-9", "-o", str(out)])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    assert text == render(seed_analysis("kb4474419", "zh"), "md", "zh", case="CAS-9")
    assert text.startswith("# 案例总结 CAS-9\n")


def test_report_templates_and_stdin(saved: Path) -> None:
    r = run_cli(
        "report",
        "-",
        "--format",
        "html",
        "--template",
        "request",
        "--lang",
        "en",
        "--upload-link",
        "https://wb.example.com/u/CAS-9?sig=ab",
        stdin=saved.read_text(encoding="utf-8"),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<!DOCTYPE html>")
    assert '<a href="https://wb.example.com/u/CAS-9?sig=ab">' in r.stdout
    md = run_cli(
        "report", str(saved), "--template", "request", "--upload-link", "https://wb.example.com/u/9?a=1&b=2"
    )
    assert "<https://wb.example.com/u/9?a=1&b=2>" in md.stdout  # a Markdown autolink


def test_upload_link_with_credentials_is_refused(saved: Path) -> None:
    r = run_cli(
        "report",
        str(saved),
        "--template",
        "request",
        "--upload-link",
        "https://bank:Passw0rd@portal.example.com/",
    )
    assert r.returncode == 2
    assert "password" in r.stderr and "Traceback" not in r.stderr
    for bad in ("ftp://portal.example.com/", 'https://x.example.com/"><script>', "https://x.example.com/a b"):
        r = run_cli("report", str(saved), "--template", "request", "--upload-link", bad)
        assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "cannot read it as UTF-8"),
        (b"[1, 2]", "not an object"),
        (b'{"schema": "other/1"}', "schema"),
        (json.dumps({"schema": SCHEMA, "findings": {"a": 1}}).encode(), "'findings' must be a list"),
        (json.dumps({"schema": SCHEMA, "findings": [{"chain": "x"}]}).encode(), "'chain' must be a list"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    ],
)
def test_bad_analysis_files_exit_3_with_a_message(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "a.json"
    p.write_bytes(content)
    r = run_cli("report", str(p), "-o", str(tmp_path / "x.md"))
    assert r.returncode == 3, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.md").exists()


def test_missing_file_exit_3(tmp_path: Path) -> None:
    r = run_cli("report", str(tmp_path / "nope.json"))
    assert r.returncode == 3 and "no such file" in r.stderr


def test_analyze_writes_the_case_summary(tmp_path: Path) -> None:
    bundle = EXAMPLES / "kb4474419-registry-denied"
    if not bundle.exists():
        pytest.skip(f"example bundle not available: {bundle}")
    out = tmp_path / "s.html"
    rc = main(
        [
            "analyze",
            str(bundle / "bad"),
            str(bundle / "repro"),
            "--format",
            "html",
            "--lang",
            "zh",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "问题总结" in page and "<svg" in page and "krnlmgr.sys" in page


def test_minimal_analysis_renders_every_template() -> None:
    d = {
        "schema": SCHEMA,
        "bundle": {"path": "bad"},
        "failures": [],
        "findings": [],
        "missing": [],
        "warnings": [],
    }
    for lang in ("en", "zh"):
        for template in ("summary", "scope", "request"):
            for fmt in ("md", "html"):
                out = render(d, fmt, lang, template)
                assert isinstance(out, str) and out.endswith("\n")
    assert "No failed installation is recorded" in render(d, "md", "en")
    assert "现有证据还不足以认定" in render(d, "md", "zh")


_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40))
_json = st.recursive(
    _scalar,
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c, max_size=4)),
    max_leaves=12,
)
_step = st.dictionaries(
    st.sampled_from(["summary", "summary_zh", "artifact", "line", "event", "text", "time", "mark", "csv"]),
    _json,
    max_size=6,
)
_finding = st.fixed_dictionaries(
    {
        "title": _json,
        "confidence": _json,
        "chain": st.lists(_step, max_size=4),
        "culprit": st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["module", "product", "role", "mechanism", "vendor", "loaded_into", "path"]),
                _json,
            ),
        ),
        "remediation": st.fixed_dictionaries(
            {
                "allow": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            ["process", "pattern", "registry_keys", "files", "no_injection", "note"]
                        ),
                        _json,
                    ),
                    max_size=2,
                ),
                "workaround": _json,
            }
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    findings=st.lists(_finding, max_size=2),
    failures=st.lists(
        st.dictionaries(st.sampled_from(["target", "code", "symbol", "artifact", "line", "action"]), _json),
        max_size=2,
    ),
    lang=st.sampled_from(["en", "zh"]),
    template=st.sampled_from(["summary", "scope", "request"]),
)
def test_odd_but_well_formed_json_renders_or_is_refused(findings, failures, lang, template) -> None:
    """Any value types in the fields: a rendering or an InputError, never another exception."""
    d = {
        "schema": SCHEMA,
        "bundle": {"path": "bad", "good": "good"},
        "failures": failures,
        "findings": findings,
        "missing": [],
        "warnings": [],
    }
    try:
        out = render(d, "html", lang, template)
    except InputError:
        return
    assert out.startswith("<!DOCTYPE html>")
    render(d, "md", lang, template)


def test_pdf_without_weasyprint_says_what_to_install(monkeypatch, seed_analysis) -> None:
    from culprit.errors import CulpritError

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    with pytest.raises(CulpritError, match=r"pip install 'culprit\[pdf\]'"):
        render(seed_analysis("kb4474419", "en"), "pdf", "en")


def test_a_huge_analysis_gives_a_bounded_document() -> None:
    """20,000 steps with 100 KB records and 50,000 warnings: listed up to the bounds, the rest counted."""
    chain = [
        {"summary": f"step {i} " * 300, "artifact": "bad/CBS.log", "line": i, "text": "x" * 100_000}
        for i in range(20_000)
    ]
    d = {
        "schema": SCHEMA,
        "bundle": {"path": "bad"},
        "failures": [],
        "findings": [{"title": "t", "chain": chain, "remediation": {"allow": []}}],
        "missing": [],
        "warnings": [{"artifact": "a", "message": "m" * 100}] * 50_000,
    }
    md = render(d, "md", "en")
    assert isinstance(md, str) and len(md) < 1_000_000
    assert "19800 more steps are in the analysis JSON." in md
    assert "... and 49980 more" in md
    zh = render(d, "html", "zh")
    assert isinstance(zh, str) and "另有 19800 个步骤未列出" in zh
