"""Which runs directory a page may read and write (no Streamlit here).

A shared link's ``?dir=`` must not choose where Launch writes: a directory is accepted when it
lies under ``$ATWU_HOME`` or the user opened it in this session (typed it into the sidebar).
Paths are compared resolved, so ``..`` and symbolic links do not lead out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def is_within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` is ``root`` or lies under it, both resolved."""
    return _resolved(path).is_relative_to(_resolved(root))


def allowed_dir(candidate: str | Path, *, opened: Iterable[str | Path], home: str | Path) -> bool:
    """Whether ``candidate`` may be used: under ``home`` ($ATWU_HOME) or one of ``opened``."""
    if not str(candidate).strip():
        return False
    target = _resolved(candidate)
    return is_within(target, home) or any(target == _resolved(p) for p in opened)


def dir_from_link(
    value: str | None, *, opened: Iterable[str | Path], home: str | Path, default: str | Path
) -> tuple[Path, str | None]:
    """The runs directory a link's ``?dir=`` asks for, or ``default`` with the reason when it
    is not allowed (to show in place of the refused path)."""
    if not value:
        return Path(default), None
    if allowed_dir(value, opened=opened, home=home):
        return Path(value).expanduser(), None
    return Path(default), (
        f"The link asked for the runs directory {value}, which is outside $ATWU_HOME and was "
        "not opened in this session; showing the default. Type it into the sidebar to open it."
    )
