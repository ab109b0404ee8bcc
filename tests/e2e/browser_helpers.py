"""What the browser tests share: waiting for Streamlit to settle, going to a page, checking it
shows no error, a screenshot of the whole page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

LOAD_TIMEOUT = 120_000  # ms for a page's first draw (the first run of a page imports torch/plotly)
ERROR_TEXTS = ("Traceback", "unexpected error", "Page not found")


def settle(page: Page, timeout: float = LOAD_TIMEOUT) -> None:
    """Wait until Streamlit has drawn the page and no script run is in progress."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout)
    page.wait_for_selector("h1", timeout=timeout)
    # The status widget ("Running...") shows while a script run is in flight; it may appear a
    # moment after the first draw, so look twice.
    status = page.locator('[data-testid="stStatusWidget"]')
    for _ in range(2):
        try:
            status.wait_for(state="hidden", timeout=timeout)
        except PlaywrightTimeoutError:
            said = status.inner_text(timeout=1000) if status.count() else ""
            pytest.fail(
                f"{page.url}: the app stayed busy for {timeout / 1000:.0f} s (status "
                f"widget: {said!r})"
            )
        page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="hidden", timeout=timeout)


def goto(page: Page, path: str) -> None:
    page.goto(path, timeout=60_000)
    settle(page)


def assert_clean(page: Page, where: str) -> None:
    """No exception box, traceback, crash message or "page not found" dialog on the page."""
    text = page.locator("body").inner_text()
    found = [t for t in ERROR_TEXTS if t.lower() in text.lower()]
    exceptions = page.locator('[data-testid="stException"]').count()
    assert not found and not exceptions, (
        f"{where}: the page shows {found or ''} {exceptions} exception box(es):\n{text[:3000]}"
    )


def full_screenshot(page: Page, path: Path) -> None:
    """A screenshot of the whole page. Streamlit scrolls inside <main data-testid=stMain>, not the
    document, so Playwright's full_page alone only captures the viewport: grow the viewport to
    the content's height first."""
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight); }"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), 900), 12_000)})
    page.wait_for_timeout(1000)  # plotly charts redraw on resize
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
