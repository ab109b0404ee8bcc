"""Imports every method module so their ``@register`` decorators run."""

from atwu.methods import atwu, sample_level, token_weighted  # noqa: F401
