"""Opening a page in an AppTest the way a user does: query parameters from a link, and the runs
directory (``dir``) as one the user opened in this session (typed into the sidebar), which the
sidebar accepts wherever it lies; a link alone may only point under $ATWU_HOME."""

from __future__ import annotations

OPENED_DIRS = "_opened_dirs"
"""The sidebar's session record of the directories typed into it (pages/parts/sidebar.py)."""


def goto(at, page: str, **params: str):
    if "dir" in params:
        at.session_state[OPENED_DIRS] = {params["dir"]}
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    return at
