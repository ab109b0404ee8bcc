"""The app as a live demo, in a real browser: a fresh install's first run from Home without a
reload, and the dark theme's token view with a colour scale that stands out from its background.

Screenshots go to tests/e2e/screenshots/ (home_first_run.png, tokens_dark.png, tokens_light.png).
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from browser_helpers import assert_clean, full_screenshot, goto, settle
from playwright.sync_api import Page, expect

from atwu.viz.colour_scale import contrast_ratio, hex_colour, relative_luminance

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FIRST_RUN_TIMEOUT = 240  # seconds: install + a quick default run (about 40 s on 2 idle cores)


def test_first_run_from_home_without_a_reload(browser, fresh_app: str, screenshots: Path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=fresh_app)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        goto(page, "/")
        assert_clean(page, "/ on a fresh install")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text("Show the demo runs")).to_be_visible()
        # a flag in the page's window: a reload would lose it
        page.evaluate("() => { window.__atwuNoReload = true; }")
        page.get_by_role("button", name="Install the benchmark and launch a first ATWU run").click()
        card = page.locator('[data-testid="stMarkdownContainer"] p').filter(
            has_text="Your latest run"
        )
        expect(card).to_be_visible(timeout=60_000)
        deadline = time.monotonic() + FIRST_RUN_TIMEOUT
        while card.locator("code").last.inner_text() != "done":
            state = card.locator("code").last.inner_text()
            assert state not in ("failed", "cancelled"), page.locator("body").inner_text()[-3000:]
            assert time.monotonic() < deadline, f"not done after {FIRST_RUN_TIMEOUT} s: {state}"
            page.wait_for_timeout(1000)
        settle(page)
        assert page.evaluate("() => window.__atwuNoReload === true"), "the page was reloaded"
        # the sidebar switched from the demo runs to the run of your own
        run_box = sidebar.get_by_role("combobox", name="Run", exact=True)
        expect(run_box).to_have_value(re.compile("atwu-default-s0"))
        expect(sidebar.get_by_text("Show the demo runs")).to_have_count(0)
        link = page.locator('[data-testid="stPageLink"] a').filter(has_text="Token scores")
        assert any("run=atwu-default-s0" in (h or "") for h in [link.first.get_attribute("href")])
        assert_clean(page, "/ after the first run")
        full_screenshot(page, screenshots / "home_first_run.png")
    finally:
        ctx.close()


def _pixel(png: bytes, x: int, y: int) -> str:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return hex_colour(image.getpixel((x, y)))


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_token_view_scale_stands_out_in_both_themes(
    browser, warm_app: str, tmp_path, screenshots: Path, scheme: str
):
    """Streamlit follows the browser's colour scheme: the token view's scale ends, read off a
    screenshot, against the page's background read off the same screenshot."""
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=warm_app, color_scheme=scheme
    )
    page: Page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        goto(page, f"/tokens?dir={tmp_path / 'empty'}&run=atwu-s0")  # the demo runs
        bar = page.locator(".atwu-scale-bar").first
        expect(bar).to_be_visible(timeout=60_000)
        bar.scroll_into_view_if_needed()
        settle(page)
        shot = page.screenshot()
        box = bar.bounding_box()
        assert box is not None
        y = int(box["y"] + box["height"] / 2)
        low = _pixel(shot, int(box["x"] + 4), y)
        high = _pixel(shot, int(box["x"] + box["width"] - 5), y)
        # the gap between the page's two columns, beside the bar: the page's background
        background = _pixel(shot, int(box["x"] - 8), y)
        dark_page = relative_luminance(background) < 0.05
        assert dark_page == (scheme == "dark"), (scheme, background)
        assert contrast_ratio(high, background) >= 4.5, (scheme, high, background)
        assert contrast_ratio(low, background) >= 1.15, (scheme, low, background)
        assert contrast_ratio(low, high) >= 4.5, (scheme, low, high)
        # every token shows its colour of this theme (the light one, or the dark one)
        drawn = page.locator(".atwu-token").evaluate_all(
            "els => els.map(e => { const s = getComputedStyle(e); return [s.backgroundColor,"
            " s.getPropertyValue('--atwu-bg').trim(), s.getPropertyValue('--atwu-dark-bg').trim()]; })"
        )
        assert drawn, "no token drawn"
        for shown, light, dark in drawn:
            rgb = tuple(int(v) for v in re.findall(r"\d+", shown)[:3])
            assert hex_colour(rgb) == (dark if scheme == "dark" else light), (shown, light, dark)
        assert_clean(page, f"/tokens ({scheme} theme)")
        full_screenshot(page, screenshots / f"tokens_{scheme}.png")
    finally:
        ctx.close()
