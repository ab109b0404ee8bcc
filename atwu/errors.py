"""The one family of "bad input" errors.

Every error a user can fix (a wrong option, a damaged file, a missing benchmark) derives from
:class:`InputError`, whose message is one line saying what is wrong, where, and how to fix it. The
CLI prints it and exits with code 2; the app shows it in place. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, found before anything is written (exit code 2 on the command line)."""
