"""How the app writes a command of the project's CLI for the user to type: with the interpreter
the app itself runs (``.venv/bin/python`` in the checkout, as the README writes it), so that every
command shown works from the checkout as shown; a bare ``python`` may not have atwu installed.

    f"`{ATWU} eval {run.path}` rewrites it."    # `.venv/bin/python -m atwu eval ...`
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def python_shown(executable: str = sys.executable, checkout: Path = CHECKOUT) -> str:
    """``executable`` relative to the checkout when it lies inside it (``.venv/bin/python``),
    else its absolute path (another environment: typed anywhere, it is still this one)."""
    path = Path(executable).absolute()
    try:
        return str(path.relative_to(checkout))
    except ValueError:
        return str(path)


ATWU = f"{python_shown()} -m atwu"
"""The CLI as the app shows it (``.venv/bin/python -m atwu``)."""
