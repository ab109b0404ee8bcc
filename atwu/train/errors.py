"""How a run ends other than by finishing, and bad input found before it starts."""

from __future__ import annotations

from atwu.errors import InputError


class RunError(InputError):
    """Bad input found before training starts (exit code 2, no run directory claiming success)."""


class Cancelled(Exception):
    """SIGTERM or Ctrl-C: the run writes status "cancelled" and stops."""


class Diverged(Exception):
    """A non-finite loss or gradient: the run writes status "failed" with the step."""
