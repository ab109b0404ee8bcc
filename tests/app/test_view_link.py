"""The Token scores link as a query string: what a pin stores reads back as the same view, and a
damaged or foreign link gives one-line messages, never an exception."""

from __future__ import annotations

import pytest

from atwu.app.view_link import (
    KNOWN_PARAMS,
    TokenLink,
    page_url,
    parse_token_query,
    rejected_message,
    token_query,
    unknown_params,
)

FULL = TokenLink(
    run="demo/atwu-s0",
    step=36,
    example="a0036_award & co",
    compare=("wga-s0", "oracle-s0"),
    normalise=True,
    threshold=0.35,
    truth="conflict",
    dir="/tmp/my runs",
    with_demo=True,
)


@pytest.mark.parametrize("link", [FULL, TokenLink(run="atwu-s0"), TokenLink(run="r", step=0)])
def test_a_view_reads_back_from_its_query_string(link):
    back, problems = parse_token_query(token_query(link))
    assert problems == []
    assert back == link


def test_the_query_string_is_escaped_and_in_a_fixed_order():
    assert token_query(FULL) == (
        "run=demo%2Fatwu-s0&dir=%2Ftmp%2Fmy+runs&with_demo=1&step=36&example=a0036_award+%26+co"
        "&compare=wga-s0&compare=oracle-s0&normalise=1&threshold=0.35&truth=conflict"
    )
    assert token_query(TokenLink(run="atwu-s0")) == "run=atwu-s0"  # defaults left out


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("run=a&step=late", "`step=late`"),
        ("run=a&step=-3", "`step=-3`"),
        ("run=a&threshold=nan", "`threshold=nan`"),
        ("run=a&threshold=x", "`threshold=x`"),
        ("run=a&normalise=yes", "`normalise=yes`"),
        ("run=a&truth=everything", "`truth=everything`"),
        ("run=a&colour=blue", "`colour`"),
    ],
)
def test_a_value_that_cannot_be_read_is_named_and_left_at_its_default(query, named):
    link, problems = parse_token_query(query)
    assert link is not None and link.run == "a"
    assert len(problems) == 1 and named in problems[0] and "\n" not in problems[0]
    assert link == TokenLink(run="a")


def test_a_link_without_a_run_says_so():
    link, problems = parse_token_query("?step=3")
    assert link is None and "names no run" in problems[-1]
    assert parse_token_query("")[0] is None


def test_every_parameter_the_pages_write_is_known():
    assert unknown_params(["run", "dir", "step", "example", "compare", "tab", "runs", "cmp"]) == []
    assert {"threshold", "truth", "normalise", "axis", "split", "metric"} <= KNOWN_PARAMS


def test_the_rejected_message_says_what_is_shown_instead():
    assert rejected_message("step", "999", 36) == (
        "The link's `step=999` cannot be shown here (not one of the choices this view offers); "
        "showing 36 instead."
    )
    long = rejected_message("compare", ["x" * 200], ["wga-s0"])
    assert len(long) < 200 and "wga-s0" in long


def test_page_urls_keep_the_address_and_swap_the_page():
    assert page_url("http://localhost:8501/tokens", "tokens", "findings", "") == (
        "http://localhost:8501/findings"
    )
    assert page_url("https://h.example/app/tokens", "tokens", "tokens", "run=a") == (
        "https://h.example/app/tokens?run=a"
    )
    assert page_url(None, "tokens", "tokens", "run=a") == "/tokens?run=a"
