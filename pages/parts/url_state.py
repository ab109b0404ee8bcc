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


def qp_all(name: str) -> list[str]:
    return list(st.query_params.get_all(name))


def qp_one(name: str) -> str | None:
    values = qp_all(name)
    return values[-1] if values else None


def qp_set(name: str, value: Any) -> None:
    """Write a query parameter only when it changes (None / empty list removes it)."""
    if value is None or value == [] or value == "":
        if name in st.query_params:
            del st.query_params[name]
        return
    if isinstance(value, (list, tuple)):
        value = [str(v) for v in value]
        if qp_all(name) != value:
            st.query_params[name] = value
    elif qp_all(name) != [str(value)]:
        st.query_params[name] = str(value)


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
    if param is not None:
        raw = qp_all(param) if multi else qp_one(param)
        if raw not in (None, []):
            with contextlib.suppress(TypeError, ValueError):  # a bad link falls back quietly
                candidates.append([parse(v) for v in raw] if multi else parse(raw))
    if f"_keep_{key}" in st.session_state:
        candidates.append(st.session_state[f"_keep_{key}"])
    for value in candidates:
        if valid(value):
            st.session_state[key] = value
            return
    st.session_state[key] = default


def keep(key: str, param: str | None = None, *, to_url: Callable[[Any], Any] = lambda v: v) -> Any:
    """After a widget is drawn: remember its value across pages and mirror it in the URL."""
    value = st.session_state.get(key)
    st.session_state[f"_keep_{key}"] = value
    if param is not None:
        qp_set(param, to_url(value) if value is not None else None)
    return value
