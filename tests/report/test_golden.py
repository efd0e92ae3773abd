"""Golden case summaries and emails for the two seed cases, md and html, English and Chinese.

The analysis is computed from ``examples/`` in the test. When the analysis output changes on
purpose, regenerate the goldens with ``CULPRIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/report -q`` and review the diff before committing it.
"""

from __future__ import annotations

import difflib
import os

import pytest

from culprit.report.render import render
from tests.conftest import data_path

UPDATE = os.environ.get("CULPRIT_UPDATE_GOLDEN") == "1"
CASE_NO = {"kb4474419": "CAS-2024-0903-0117", "edge": "CAS-2022-0616-0042"}
LINK = "https://workbench.example.com/upload/CAS-2024-0903-0117?exp=1725523200&sig=3f9a0c"


def check_golden(name: str, text: str) -> None:
    path = data_path("report", name)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"golden {path} missing: run with CULPRIT_UPDATE_GOLDEN=1 to create it")
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(
            difflib.unified_diff(want.splitlines(True), text.splitlines(True), str(path), "rendered", n=2)
        )
        pytest.fail(
            f"rendering differs from {path.name} (CULPRIT_UPDATE_GOLDEN=1 regenerates):\n{diff[:6000]}"
        )


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("case", ["kb4474419", "edge"])
def test_summary_golden(seed_analysis, case: str, lang: str, fmt: str) -> None:
    out = render(seed_analysis(case, lang), fmt, lang, "summary", case=CASE_NO[case])
    assert isinstance(out, str)
    check_golden(f"{case}.summary.{lang}.{fmt}", out)


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("template", ["scope", "request"])
def test_email_golden(seed_analysis, template: str, lang: str, fmt: str) -> None:
    """Emails from the first round: the failing machine's logs only, so evidence is still missing."""
    out = render(
        seed_analysis("kb4474419-bad-only", lang),
        fmt,
        lang,
        template,
        case=CASE_NO["kb4474419"],
        upload_link=LINK,
    )
    check_golden(f"kb4474419-bad-only.{template}.{lang}.{fmt}", out)


def test_request_without_link_never_asks_for_a_shared_account(seed_analysis) -> None:
    d = seed_analysis("kb4474419-bad-only", "en")
    out = render(d, "md", "en", "request")
    assert "We will send you an upload link for this case" in out
    assert "not send logs through a shared account or a shared password" in out
    zh = render(seed_analysis("kb4474419-bad-only", "zh"), "md", "zh", "request")
    assert "请不要通过共享账号或共享密码传送日志" in zh
