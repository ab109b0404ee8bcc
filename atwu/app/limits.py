"""Size limits of what a user hands the app (no Streamlit here): typed text scored in the app's
own process, and uploaded files. Each check raises :class:`~atwu.errors.InputError` with a
message to show in place."""

from __future__ import annotations

from atwu.app.cli_text import ATWU
from atwu.data.pairs_file import check_text_length
from atwu.errors import InputError

MAX_TYPED_TEXT_CHARS = 2_000
"""Typed text on the Token scores page (scored in the app's process, token by token)."""
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""One uploaded question–answer file (every pair's text is limited as well, see
:data:`atwu.data.pairs_file.MAX_TEXT_CHARS`)."""


def check_typed_text(text: str, what: str = "The text") -> None:
    check_text_length(text, what, limit=MAX_TYPED_TEXT_CHARS)


def check_upload(data: bytes, name: str) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB "
            f"per file (prepare a larger benchmark with `{ATWU} prepare`)"
        )
