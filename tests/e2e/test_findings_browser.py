"""Keeping a finding in a real browser: pin a Token scores view with a note, find it on the
Findings page, export the write-up (a zip with the Markdown and a PNG per pin), reopen the pinned
link; a link with a value the page cannot show gets a message. Screenshots in light and dark
themes go to tests/e2e/screenshots/findings-*.png (gitignored) for a human look.

Runs on an app of its own over copies of two demo runs (conftest.demo_app): nothing is trained."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from browser_helpers import assert_clean, full_screenshot, goto, settle
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOTE = "ATWU weights the award; WGA the name"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pin_find_export_and_reopen(browser, demo_app, scheme):
    url, home = demo_app
    SCREENSHOTS.mkdir(exist_ok=True)
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 900}, color_scheme=scheme, accept_downloads=True
    )
    page = ctx.new_page()
    try:
        goto(page, url + "/")  # the first visit of a server (see conftest.warm_app)
        goto(page, f"{url}/tokens?run=wga-s0&example=a0036_award&compare=atwu-s0")
        assert_clean(page, "Token scores")
        page.get_by_role("button", name="Pin this view").click()
        page.get_by_role("textbox", name="Note").fill(NOTE)
        page.get_by_role("button", name="Pin", exact=True).click()
        settle(page)
        expect(page.get_by_text("Pinned.")).to_be_visible()
        full_screenshot(page, SCREENSHOTS / f"findings-tokens-{scheme}.png")

        goto(page, url + "/findings")
        assert_clean(page, "Findings")
        expect(page.get_by_text("wga-s0 vs atwu-s0 · example a0036_award").first).to_be_visible()
        full_screenshot(page, SCREENSHOTS / f"findings-page-{scheme}.png")
        with page.expect_download() as download:
            page.get_by_role("button", name="Write-up").click()
        data = Path(download.value.path()).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = archive.read("findings.md").decode()
            figures = [n for n in archive.namelist() if n.startswith("figures/")]
        assert NOTE in text and figures and f"({figures[0]})" in text
        assert "/tokens?run=wga-s0" in text

        page.get_by_role("link", name="Reopen this view").first.click()
        settle(page)
        assert "/tokens" in page.url and "example=a0036_award" in page.url
        assert_clean(page, "the reopened view")
        full_screenshot(page, SCREENSHOTS / f"findings-reopened-{scheme}.png")
        assert "run=wga-s0" in page.url and "compare=atwu-s0" in page.url, page.url
        # the pinned example is the one shown (its header names it)
        assert "(a0036_award)" in page.locator("body").inner_text()
    finally:
        ctx.close()
        shutil.rmtree(home / "findings", ignore_errors=True)


def test_a_link_the_page_cannot_show_gets_a_message(browser, demo_app):
    url, _ = demo_app
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        goto(page, url + "/")
        goto(page, f"{url}/tokens?run=gone-s9&step=99999&colour=blue")
        assert_clean(page, "a bad link")
        body = page.locator("body").inner_text()
        assert "run=gone-s9" in body and "step=99999" in body and "colour" in body
        full_screenshot(page, SCREENSHOTS / "findings-bad-link.png")
    finally:
        ctx.close()
