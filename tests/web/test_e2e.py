"""End to end in headless Chromium (Debian's, driven by Playwright) against ``culprit serve``:
an engineer opens a case and issues an upload link, a customer uploads the case bundle as a zip
through it, the analysis finishes, the results name the culprit and the allow-list, the timeline
filters, and the PDF report downloads. Screenshots of the main pages go to ``out/screenshots/``
(git-ignored) as test artifacts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from tests.web.conftest import PASSWORD, Live

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
CHROMIUM = os.environ.get("CULPRIT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium, scripts/system-packages.txt)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _watch(page, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


def test_case_to_pdf(browser, live: Live, case_zip: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    bundle = tmp_path / "bad.zip"
    bundle.write_bytes(case_zip)
    digest = hashlib.sha256(case_zip).hexdigest()
    errors: list[str] = []

    eng = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = eng.new_page()
    _watch(page, errors)
    page.goto(live.base + "/")
    expect(page).to_have_url(live.base + "/login?next=/")
    _shot(page, "00-login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("Cases")
    _shot(page, "01-cases")

    page.click("a.button:has-text('New case')")
    page.fill("input[name=title]", "KB4474419 fails with 0x80070005 on ward PCs")
    page.fill("input[name=customer]", "City Hospital")
    page.select_option("select[name=priority]", "P2")
    page.click("button:has-text('Open the case')")
    number = page.locator("#case-number").inner_text()
    assert number.startswith("CAS-")
    expect(page.locator("#case-status")).to_have_text("new")

    page.fill("#new-link input[name=note]", "ward PC 12")
    page.click("button:has-text('Issue upload link')")
    expect(page.locator("#case-status")).to_have_text("awaiting-evidence")
    url = page.locator("input.upload-url").first.input_value()
    assert url.startswith(live.base + "/u/")
    _shot(page, "02-case")

    customer = browser.new_context(viewport={"width": 1100, "height": 800})  # no account, no cookies
    cpage = customer.new_page()
    _watch(cpage, errors)
    cpage.goto(url)
    expect(cpage.locator("#case-number")).to_have_text(number)
    cpage.set_input_files("#files", str(bundle))
    cpage.click("button:has-text('Upload')")
    expect(cpage.locator("#upload-ok")).to_contain_text("1 file(s) received")
    expect(cpage.locator("#received")).to_contain_text(digest)
    _shot(cpage, "03-customer-upload")
    customer.close()

    page.reload()
    expect(page.locator("#evidence")).to_contain_text(digest)
    expect(page.locator("#evidence")).to_contain_text("bad.zip")
    page.click("button:has-text('Analyze the evidence')")
    expect(page.locator("#answer")).to_be_visible(timeout=90_000)  # progress polls, then the page reloads
    expect(page.locator("#culprit .module")).to_have_text("krnlmgr.sys")
    expect(page.locator("#answer")).to_contain_text("KB4474419")
    expect(page.locator("#allow-list")).to_have_text("Allow-list")
    allow = page.locator("table.allow")
    expect(allow).to_contain_text("TrustedInstaller.exe")
    expect(allow).to_contain_text("HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8")
    _shot(page, "04-results")

    page.click("a:has-text('Timeline')")
    page.fill("input[name=where]", "code = 0x80070005")
    page.click("button:has-text('Apply')")
    expect(page.locator("#events tbody tr").first).to_contain_text("0x80070005")
    _shot(page, "05-timeline")
    page.go_back()
    page.go_back()

    from culprit.report import pdf

    why = pdf.available()
    if why:
        pytest.skip(f"PDF report renderer unavailable: {why}")
    with page.expect_download(timeout=120_000) as dl:
        page.click("a.dl-pdf-en")
    d = dl.value
    assert d.suggested_filename == f"{number}-summary-en.pdf"
    saved = tmp_path / d.suggested_filename
    d.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 2000

    page.goto(live.base + f"/cases/{number}")
    expect(page.locator("#case-status")).to_have_text("root-cause")
    _shot(page, "06-case-after")
    eng.close()
    assert errors == [], errors  # no script errors, no CSP violations
