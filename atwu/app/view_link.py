"""Links that reopen a view: the query parameters every page reads, the Token scores view as a
query string and back, and the one-line messages for a link that does not fit.

The pages mirror their widgets into the URL (``pages/parts/url_state.py``); this module says which
parameter names exist (:data:`PAGE_PARAMS`), builds the Token scores page's query string for a pin
(:func:`token_query`) and reads one back (:func:`parse_token_query`), and words what a page shows
in place of a value a link asked for that it cannot show (:func:`rejected_message`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from atwu.app.token_compare import GROUND_TRUTHS

SIDEBAR_PARAMS = ("run", "dir", "demo", "with_demo")
"""Read by the sidebar on every page."""

PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "tokens": ("step", "example", "compare", "normalise", "threshold", "truth", "tab"),
    "tradeoffs": ("runs", "split", "axis"),
    "comparison": ("cmp", "metric"),
    "home": (),
    "run": (),
    "findings": (),
}
"""Each page's own parameters (key = the page's URL path)."""

STREAMLIT_PARAMS = ("embed", "embed_options")
"""Parameters Streamlit itself reads."""

KNOWN_PARAMS = frozenset(
    (*SIDEBAR_PARAMS, *STREAMLIT_PARAMS, *(p for ps in PAGE_PARAMS.values() for p in ps))
)


@dataclass(frozen=True)
class TokenLink:
    """The state of a Token scores view that a link carries."""

    run: str
    step: int | None = None
    example: str | None = None
    compare: tuple[str, ...] = field(default_factory=tuple)
    normalise: bool = False
    threshold: float | None = None
    truth: str = "facts"
    dir: str | None = None
    """The runs directory, when it is not the default one."""
    with_demo: bool = False


def token_query(link: TokenLink) -> str:
    """The query string (no ``?``) for ``link``, in a fixed order; defaults are left out, as the
    page leaves them out of its URL."""
    pairs: list[tuple[str, str]] = [("run", link.run)]
    if link.dir:
        pairs.append(("dir", link.dir))
    if link.with_demo:
        pairs.append(("with_demo", "1"))
    if link.step is not None:
        pairs.append(("step", str(int(link.step))))
    if link.example is not None:
        pairs.append(("example", link.example))
    pairs += [("compare", name) for name in link.compare]
    if link.normalise:
        pairs.append(("normalise", "1"))
    if link.threshold is not None:
        pairs.append(("threshold", f"{link.threshold:g}"))
    if link.truth != "facts":
        pairs.append(("truth", link.truth))
    return urlencode(pairs)


def _last(values: Sequence[str]) -> str:
    return values[-1]


def parse_token_query(
    query: str | Mapping[str, Sequence[str]],
) -> tuple[TokenLink | None, list[str]]:
    """A Token scores link read back: the view (None without a run) and one message per value
    that could not be read (that value is left at its default). Never raises."""
    params = (
        parse_qs(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else query
    )
    problems = unknown_params(params)
    runs = params.get("run") or []
    if not runs or not _last(runs):
        return None, [*problems, "The link names no run (run=…); pick one in the sidebar."]
    values: dict[str, object] = {"run": _last(runs)}
    if params.get("dir"):
        values["dir"] = _last(params["dir"])
    if params.get("with_demo"):
        values["with_demo"] = _last(params["with_demo"]) in ("1", "true", "True")
    if params.get("step"):
        raw = _last(params["step"])
        if raw.isdigit() and len(raw) <= 12:
            values["step"] = int(raw)
        else:
            problems.append(rejected_message("step", raw, None, why="not a whole number ≥ 0"))
    if params.get("example"):
        values["example"] = _last(params["example"])
    values["compare"] = tuple(v for v in params.get("compare", []) if v)
    if params.get("normalise"):
        raw = _last(params["normalise"])
        if raw in ("0", "1"):
            values["normalise"] = raw == "1"
        else:
            problems.append(rejected_message("normalise", raw, None, why="expected 0 or 1"))
    if params.get("threshold"):
        raw = _last(params["threshold"])
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            values["threshold"] = number
        else:
            problems.append(rejected_message("threshold", raw, None, why="not a number"))
    if params.get("truth"):
        raw = _last(params["truth"])
        if raw in GROUND_TRUTHS:
            values["truth"] = raw
        else:
            problems.append(
                rejected_message(
                    "truth", raw, None, why=f"expected one of {', '.join(GROUND_TRUTHS)}"
                )
            )
    return TokenLink(**values), problems  # type: ignore[arg-type]


def unknown_names(names: Mapping[str, object] | Sequence[str]) -> list[str]:
    """The parameter names no page reads, sorted."""
    return sorted(set(names) - KNOWN_PARAMS)


def unknown_params(names: Mapping[str, object] | Sequence[str]) -> list[str]:
    """A message on the parameters no page reads (a mistyped or foreign link); none if all known."""
    unknown = unknown_names(names)
    if not unknown:
        return []
    listed = ", ".join(f"`{_short(n)}`" for n in unknown)
    return [
        f"The link holds parameter(s) no page reads: {listed}; ignored. "
        f"Known: {', '.join(sorted(KNOWN_PARAMS - set(STREAMLIT_PARAMS)))}."
    ]


def _short(value: object, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    return _short(value)


def rejected_message(param: str, raw: object, shown: object, *, why: str = "") -> str:
    """``The link's step=999 cannot be shown here (not one of this view's choices); showing 156.``"""
    reason = why or "not one of the choices this view offers"
    tail = (
        f"; showing {shown_text(shown)} instead" if shown is not None else "; left at its default"
    )
    return f"The link's `{param}={shown_text(raw)}` cannot be shown here ({reason}){tail}."


def page_url(current_url: str | None, current_page: str, page: str, query: str) -> str:
    """The address of ``page`` (a URL path such as ``tokens``) with ``query``, on the app whose
    page ``current_page`` the browser shows at ``current_url`` (``st.context.url``: no query).
    Without an address, a path from the site's root."""
    root = (current_url or "").rstrip("/")
    if current_page and root.endswith("/" + current_page):
        root = root[: -len(current_page) - 1]
    return f"{root}/{page}" + (f"?{query}" if query else "")
