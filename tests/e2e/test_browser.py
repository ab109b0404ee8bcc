"""The app in a real browser: launch two runs from the Run page, watch them finish, then read
them on Token scores (heatmap, compare mode), Trade-offs and Method comparison.

Full-page screenshots of every page visited go to tests/e2e/screenshots/<page>.png (gitignored),
for a human look at the layout.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from browser_helpers import assert_clean, full_screenshot, goto, settle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RUN_TIMEOUT = 180  # seconds for two 20-step runs (evaluated at 0, 10, 20) to reach "done"
STEPS, CHECKPOINT_EVERY = 20, 10
METHODS = ("atwu", "wga")
REUSED_APP = bool(os.environ.get("ATWU_E2E_URL"))  # an app started by hand (see conftest.py)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def run_state_line(page: Page, name: str):
    """The Active runs line of a run: `**name** · method · `state``."""
    return (
        page.locator('[data-testid="stMarkdownContainer"] p')
        .filter(has=page.locator("strong", has_text=name))
        .first
    )


def wait_until_done(page: Page, names: list[str], timeout: float) -> None:
    """Poll the Active runs list (it redraws itself every 2 s) until every run shows `done`;
    fail at once, with what the page says, when one shows `failed` or `cancelled`."""
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while True:
        for name in names:
            line = run_state_line(page, name)
            code = line.locator("code")
            states[name] = code.first.inner_text() if code.count() else "(not listed)"
        bad = {n: s for n, s in states.items() if s in ("failed", "cancelled")}
        if bad:
            pytest.fail(
                f"run(s) ended badly {bad}; the Run page says:\n"
                f"{page.locator('body').inner_text()[-4000:]}"
            )
        if all(s == "done" for s in states.values()):
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"runs not done after {timeout} s: {states}; the Run page says:\n"
                f"{page.locator('body').inner_text()[-4000:]}"
            )
        page.wait_for_timeout(2000)


# ---------------------------------------------------------------------------------------------
# Launching from the Run page (shared by both tests)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_runs(browser, warm_app: str, screenshots: Path) -> dict[str, str]:
    """Launch atwu and wga (20 steps, checkpoints every 10) on the embedded benchmark from the
    Run page, wait there until both are `done`; method -> run name."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=warm_app)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        goto(page, "/run")
        expect(page.locator("h1", has_text="Run")).to_be_visible()
        assert_clean(page, "/run")

        # 1 · Benchmark: the session's embedded benchmark is the default, and it is prepared.
        expect(page.get_by_role("combobox", name="Benchmark", exact=True)).to_have_value(
            "embedded (default)"
        )  # "embedded (default) — not prepared yet" when it is missing
        expect(page.get_by_text("20 forget pairs")).to_be_visible()

        # 3 · Methods: atwu is preselected; add wga by typing its name and Enter. The box
        # lists names only, so "wga" + Enter selects WGA alone (not every method whose
        # description mentions WGA).
        label = "Methods (one run per method, setting and seed)"
        methods = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
        expect(methods).to_contain_text("atwu")
        box = page.get_by_role("combobox", name=label)
        box.click()
        box.press_sequentially("wga")
        expect(page.get_by_role("option").first).to_have_text(re.compile(r"^\s*wga\s*$"))
        box.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        chosen = methods.locator('[data-testid="stMultiSelectTagsContainer"]').first
        assert sorted(t.strip() for t in chosen.inner_text().split("\n") if t.strip()) == [
            "atwu",
            "wga",
        ]
        # the trap of the old box: "wga" + Enter chose four methods ("Launch 5 runs")
        expect(page.get_by_role("button", name=re.compile(r"^Launch \d+ runs?$"))).to_have_text(
            "Launch 2 runs"
        )

        # Training: few steps, a checkpoint in the middle (number inputs commit on Enter).
        for label, value in (("steps", STEPS), ("checkpoint_every", CHECKPOINT_EVERY)):
            box = page.get_by_label(label, exact=True)
            box.fill(str(value))
            box.press("Enter")
            settle(page)
            expect(box).to_have_value(str(value))
        # The command preview (the first code block; launched runs below show theirs in logs).
        preview = page.locator('[data-testid="stCode"]').filter(has_text="python -m atwu run").first
        for method in METHODS:
            expect(preview).to_contain_text(f"--method {method}")
        expect(preview).to_contain_text(f"--steps {STEPS}")
        expect(preview).to_contain_text(f"--checkpoint-every {CHECKPOINT_EVERY}")

        page.get_by_role("button", name="Launch 2 runs").click()
        launched = page.locator('[data-testid="stAlert"]').filter(has_text="Launched")
        expect(launched).to_be_visible(timeout=60_000)
        names = dict(re.findall(r"\b((atwu|wga)-s0-\d{8}-\d{6}(?:-\d+)?)\b", launched.inner_text()))
        names = {method: name for name, method in names.items()}
        assert set(names) == set(METHODS), f"not one run per method in: {launched.inner_text()}"

        # 4 · Active runs: both listed, then done.
        for name in names.values():
            expect(run_state_line(page, name)).to_be_visible(timeout=30_000)
        wait_until_done(page, list(names.values()), RUN_TIMEOUT)
        settle(page)
        for name in names.values():
            line = run_state_line(page, name)
            expect(line).to_contain_text("done")
        assert_clean(page, "/run after the runs finished")
        full_screenshot(page, screenshots / "run.png")
        return names
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_run_page_launches_runs_that_finish(
    page: Page, finished_runs: dict[str, str], atwu_home: Path, screenshots: Path
) -> None:
    """The two runs launched from the Run page ran to the end with the form's settings, and a
    new session of the Run page still lists them as done, with a link to their token scores."""
    goto(page, "/run")
    for method, name in finished_runs.items():
        line = run_state_line(page, name)
        expect(line).to_be_visible(timeout=30_000)
        expect(line).to_contain_text(f"{method}")
        expect(line.locator("code")).to_have_text("done")
        expect(page.get_by_text(f"step {STEPS}/{STEPS}").first).to_be_visible()
    links = page.locator('[data-testid="stPageLink"] a').filter(has_text="Token scores")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    for name in finished_runs.values():
        assert any(f"run={name}" in h for h in hrefs), f"no Token scores link to {name}: {hrefs}"
    assert_clean(page, "/run")

    if not REUSED_APP:  # the runs are in this session's ATWU_HOME
        from atwu.runs.read import read_run

        for name in finished_runs.values():
            info = read_run(atwu_home / "runs" / name)
            assert info.state == "done"
            assert info.status.get("step") == STEPS


def test_result_pages_show_the_runs(
    page: Page, finished_runs: dict[str, str], screenshots: Path
) -> None:
    """Token scores draws the atwu run's heatmap (and the wga run beside it in compare mode);
    Home, Trade-offs and Method comparison render without errors."""
    atwu = finished_runs["atwu"]

    # Token scores, the run taken from the URL.
    goto(page, f"/tokens?run={atwu}")
    expect(page.locator("h1", has_text="Token scores")).to_be_visible()
    assert_clean(page, "/tokens")
    # The sidebar's run picker shows the run of the URL (by its label, which names it).
    sidebar_run = page.locator('[data-testid="stSidebar"]').get_by_role(
        "combobox", name="Run", exact=True
    )
    expect(sidebar_run).to_have_value(re.compile(re.escape(atwu)))
    tokens = page.locator('span.atwu-token[title*="weight"]')
    expect(tokens.first).to_be_visible(timeout=30_000)
    single = tokens.count()
    assert single > 3, single
    # The heatmap is the reference answer's tokens: a word of it is in the "Reference answer".
    reference = page.get_by_text("Reference answer").first.locator("xpath=..").inner_text()
    words = [
        w for w in (t.strip() for t in tokens.all_inner_texts()) if len(w) >= 3 and w.isalpha()
    ]
    assert words and any(w in reference for w in words), (words[:20], reference)
    full_screenshot(page, screenshots / "tokens.png")

    # Compare mode: the wga run (another method, same forget split) becomes a second row.
    toggle = page.locator('[data-testid="stCheckbox"]').filter(has_text="Compare runs")
    expect(toggle).to_be_visible()
    toggle.get_by_text("Compare runs").click()
    settle(page)
    compared = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Compared with")
    expect(compared).to_be_visible()
    expect(compared).to_contain_text("wga")
    # The default compared run is the oldest wga run in the runs directory: this test's, or one
    # that the AppTest fixtures of the same pytest session left there (they share ATWU_HOME).
    row = r"wga-s0"
    expect(
        page.locator(".atwu-row-label").filter(has_text=re.compile(rf"^wga · {row}"))
    ).to_be_visible()
    assert tokens.count() > single, "compare mode drew no second row of tokens"
    assert "compare=" in page.url, page.url
    assert_clean(page, "/tokens in compare mode")
    full_screenshot(page, screenshots / "tokens_compare.png")

    # Home is the default page: Streamlit serves it at / (its url_path "home" is ignored).
    for path, shot, title in (
        ("/", "home", "ATWU: token-level unlearning"),
        ("/tradeoffs", "tradeoffs", "Trade-offs"),
        ("/comparison", "comparison", "Method comparison"),
    ):
        goto(page, f"{path}?run={atwu}")
        expect(page.locator("h1", has_text=title)).to_be_visible()
        if path != "/":
            expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(
                timeout=60_000
            )
        assert_clean(page, path)
        full_screenshot(page, screenshots / f"{shot}.png")
