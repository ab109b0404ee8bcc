"""A qualitative session in a real browser, on the demo runs: the difference view of ATWU
against static_p (a row of the ranked table picks the example; the diverging colours follow the
theme) and the weight by span label, in light and dark themes.

Screenshots go to tests/e2e/screenshots/ (difference_<theme>.png, weight_by_label_<theme>.png).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_helpers import assert_clean, full_screenshot, goto, settle
from playwright.sync_api import Page, expect

from atwu.app.weight_diff_view import DIFF_TAB, LABEL_TAB
from atwu.viz.colour_scale import hex_colour
from atwu.viz.diverging_scale import DIVERGING

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SVG = "{http://www.w3.org/2000/svg}"
ROW = 35  # px: the height of a header and of a row of st.dataframe


@pytest.fixture(scope="module")
def demo_app(browser, fresh_app: str) -> str:
    """The app on an empty home (the demo runs in place of yours), after one visit of / (a
    first deep link would get Streamlit's "Page not found" dialog, streamlit#9992)."""
    page = browser.new_page()
    try:
        page.goto(fresh_app + "/", timeout=60_000)
        page.wait_for_selector("h1", timeout=120_000)
    finally:
        page.close()
    return fresh_app


def _second_most_different() -> str:
    """The example second in the ranked table: atwu-s0 − static_p-s0 at their last step."""
    from atwu.analysis.weight_diff import example_disagreement, paired_tokens
    from atwu.demo import shipped_demo_dir
    from atwu.runs.read import read_weights

    a, b = (read_weights(shipped_demo_dir() / n) for n in ("atwu-s0", "static_p-s0"))
    paired, _ = paired_tokens(a[a["step"] == a["step"].max()], b[b["step"] == a["step"].max()])
    return str(example_disagreement(paired)["example_id"].iloc[1])


def _open(browser, url: str, scheme: str) -> tuple[object, Page]:
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=url, color_scheme=scheme
    )
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    return ctx, page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_difference_view_against_static_p(browser, demo_app: str, screenshots: Path, scheme):
    ctx, page = _open(browser, demo_app, scheme)
    try:
        goto(page, f"/tokens?run=atwu-s0&demo=1&tab={quote(DIFF_TAB)}&vs=static_p-s0")
        assert_clean(page, f"difference view ({scheme})")
        expect(page.get_by_text("A = atwu-s0 at step")).to_be_visible()
        tokens = page.locator(".atwu-delta .atwu-token")
        expect(tokens.first).to_be_visible()
        # each token shows this theme's colour of its Δw; a token both runs weight alike, the
        # scale's middle
        drawn = tokens.evaluate_all(
            "els => els.map(e => [getComputedStyle(e).backgroundColor,"
            " e.style.getPropertyValue('--atwu-bg'), e.style.getPropertyValue('--atwu-dark-bg'),"
            " e.dataset.delta])"
        )
        for shown, light, dark, _ in drawn:
            rgb = tuple(int(v) for v in re.findall(r"\d+", shown)[:3])
            assert hex_colour(rgb) == (dark if scheme == "dark" else light).strip()
        middle = DIVERGING[scheme][1]
        zero = [s for s, *_, d in drawn if d in ("+0.000", "-0.000")]
        if zero:
            rgb = tuple(int(v) for v in re.findall(r"\d+", zero[0])[:3])
            assert hex_colour(rgb) == middle
        # a click on the ranked table's second row shows that example
        grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="mean |Δw|").first
        grid.scroll_into_view_if_needed()
        settle(page)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 14, box["y"] + ROW + ROW + ROW / 2)
        settle(page)
        expect(page.get_by_text(f"Question ({_second_most_different()})")).to_be_visible()
        assert_clean(page, f"difference view after a click ({scheme})")
        full_screenshot(page, screenshots / f"difference_{scheme}.png")
        # the view as a paper figure: an SVG that parses, with its legend
        with page.expect_download() as got:
            page.get_by_role("button", name="Figure (SVG)").last.click()
        svg = Path(got.value.path()).read_text(encoding="utf-8")
        assert got.value.suggested_filename.endswith("-light.svg")
        texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]
        assert "Δ weight (A − B)" in texts and "specific fact" in texts
    finally:
        ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_weight_by_span_label(browser, demo_app: str, screenshots: Path, scheme):
    ctx, page = _open(browser, demo_app, scheme)
    try:
        goto(page, f"/tokens?run=atwu-s0&demo=1&compare=static_p-s0&tab={quote(LABEL_TAB)}")
        assert_clean(page, f"weight by span label ({scheme})")
        charts = page.locator(".js-plotly-plot")
        expect(charts).to_have_count(2, timeout=60_000)
        text = page.locator("body").inner_text()
        assert "static_p-s0" in text and "at matched forgetting" in text
        full_screenshot(page, screenshots / f"weight_by_label_{scheme}.png")
        # the camera button of a chart downloads it in the format picked in the sidebar (SVG)
        chart = charts.first
        chart.hover()
        with page.expect_download() as got:
            chart.locator('.modebar-btn[data-title^="Download plot"]').click()
        assert got.value.suggested_filename == "weight-by-label-atwu-s0.svg"
        root = ET.fromstring(Path(got.value.path()).read_text(encoding="utf-8"))
        assert root.tag == f"{SVG}svg" and root.get("width") == "1300"  # across a page
    finally:
        ctx.close()
