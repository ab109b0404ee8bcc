"""Every command the app shows is one that works as shown: the interpreter the app runs
(``.venv/bin/python`` in the checkout, as the README writes it), never a bare ``python``."""

from __future__ import annotations

import re
from pathlib import Path

from atwu.app.cli_text import ATWU, CHECKOUT, python_shown

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkouts_venv_is_shown_relative_to_the_checkout(tmp_path):
    assert python_shown(str(tmp_path / ".venv/bin/python"), tmp_path) == ".venv/bin/python"
    # another environment: its absolute path, which works from anywhere
    assert python_shown("/opt/env/bin/python", tmp_path) == "/opt/env/bin/python"
    assert ATWU.endswith(" -m atwu") and CHECKOUT == ROOT


def test_no_page_shows_a_bare_python_command():
    # a command in backticks that starts with python itself, e.g. `python -m atwu eval RUN`
    bare = re.compile(r"(?<!`)`python3? -m atwu")  # ``python`` in docstrings is not shown
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("pages", "atwu/app")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if bare.search(line)
    ]
    assert found == [], f"use atwu.app.cli_text.ATWU in: {found}"
