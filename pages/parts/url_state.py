"""URL state: widgets seeded from query parameters and mirrored back into them, so a copied link
reproduces the view.

Parameters: ``run`` (the run picked in the sidebar; ``demo/<name>`` for a demo run listed beside
yours), ``dir`` (the runs directory when it is not the default), ``demo=1`` (the demo runs in
place of yours, while you have none), ``with_demo=1`` (the demo runs listed beside yours), and
page parameters such as ``step``, ``example``, ``compare``, ``tab`` (the Token scores tab open).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from atwu.app.view_link import rejected_message


def qp_all(name: str) -> list[str]:
    return list(st.query_params.get_all(name))


def qp_one(name: str) -> str | None:
    values = qp_all(name)
    return values[-1] if values else None


WRITTEN = "_url_written"
"""Session record of the value each parameter was last given by the app itself: a URL value that
differs from it came from a link (or was typed), and a link's value the page cannot show gets a
note (:data:`NOTES`); the app's own stale values (a step after switching runs) do not."""

NOTES = "_link_notes"
"""Messages on link values a page could not show, drawn above the page by app.py."""


def qp_set(name: str, value: Any) -> None:
    """Write a query parameter only when it changes (None / empty list removes it)."""
    written = st.session_state.setdefault(WRITTEN, {})
    if value is None or value == [] or value == "":
        written[name] = None
        if name in st.query_params:
            del st.query_params[name]
        return
    if isinstance(value, (list, tuple)):
        value = [str(v) for v in value]
        if qp_all(name) != value:
            st.query_params[name] = value
    elif qp_all(name) != [str(value)]:
        st.query_params[name] = str(value)
    written[name] = value if isinstance(value, list) else str(value)


def link_note(text: str) -> None:
    notes = st.session_state.setdefault(NOTES, [])
    if text not in notes:
        notes.append(text)


def take_link_notes() -> list[str]:
    """The notes gathered in this script run (and forgets them: shown once, on opening)."""
    return list(st.session_state.pop(NOTES, None) or [])


def seed(
    key: str,
    param: str | None,
    *,
    valid: Callable[[Any], bool],
    default: Any,
    parse: Callable[[Any], Any] = lambda v: v,
    multi: bool = False,
) -> None:
    """Give widget ``key`` its starting value before it is drawn.

    Order: the widget's own state (the user's last choice in this session), then the URL's
    ``param`` (a shared link), then the value kept when the widget was last on screen (pages
    drop widget state when you leave them), then ``default``.
    """
    if key in st.session_state and valid(st.session_state[key]):
        return
    candidates = []
    raw: Any = None
    if param is not None:
        raw = qp_all(param) if multi else qp_one(param)
        if raw not in (None, []):
            with contextlib.suppress(TypeError, ValueError):  # a bad value: noted below
                candidates.append([parse(v) for v in raw] if multi else parse(raw))
    from_link = raw not in (None, []) and st.session_state.get(WRITTEN, {}).get(param) != raw
    if f"_keep_{key}" in st.session_state:
        candidates.append(st.session_state[f"_keep_{key}"])
    parsed = from_link and len(candidates) > (1 if f"_keep_{key}" in st.session_state else 0)
    chosen, used_link = default, False
    for number, value in enumerate(candidates):
        if valid(value):
            chosen, used_link = value, number == 0 and parsed
            break
    st.session_state[key] = chosen
    if from_link and not used_link:
        link_note(rejected_message(str(param), raw, chosen))


def keep(key: str, param: str | None = None, *, to_url: Callable[[Any], Any] = lambda v: v) -> Any:
    """After a widget is drawn: remember its value across pages and mirror it in the URL."""
    value = st.session_state.get(key)
    st.session_state[f"_keep_{key}"] = value
    if param is not None:
        qp_set(param, to_url(value) if value is not None else None)
    return value
