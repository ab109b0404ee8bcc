"""Dataclass fields with help text, and typed parsing of their values from text.

Methods' hyperparameters and the training settings are dataclasses whose fields carry a ``help``
string (:func:`param`). This module is the one place that reads them back (:func:`field_infos`:
name, type, default, help) and parses a typed value from a command-line or form string
(:func:`parse_value`), so ``python -m atwu methods``, ``--set``, the Run form and ``config.json``
agree on every name and type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from atwu.errors import InputError


def param(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field with help text (shown by ``python -m atwu methods`` and in the app)."""
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True)
class FieldInfo:
    """One field of a settings dataclass: its name, type hint, default and help text."""

    name: str
    hint: Any
    default: Any
    help: str

    @property
    def type_name(self) -> str:
        return getattr(self.hint, "__name__", str(self.hint))


def field_infos(cls: type) -> list[FieldInfo]:
    """The fields of dataclass ``cls`` in declaration order, type hints resolved."""
    hints = typing.get_type_hints(cls)
    return [
        FieldInfo(f.name, hints[f.name], f.default, f.metadata.get("help", ""))
        for f in dataclasses.fields(cls)
    ]


def defaults_of(cls: type) -> dict[str, Any]:
    """Field name → default value of dataclass ``cls``."""
    return {f.name: f.default for f in field_infos(cls)}


def parse_value(name: str, text: str, hint: Any, owner: str) -> Any:
    """``text`` parsed as type ``hint`` (bool, int, float, str, Literal, X | None, unions).

    Raises :class:`InputError` naming ``owner`` and the field when the text does not parse.
    """
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise InputError(f"{owner}: {name} expects true/false, got {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise InputError(f"{owner}: {name} expects an integer, got {text!r}") from None
    if hint is float:
        try:
            return float(text)
        except ValueError:
            raise InputError(f"{owner}: {name} expects a number, got {text!r}") from None
    if hint is str:
        return text
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in typing.get_args(hint)
        if text.lower() in ("none", "null") and optional:
            return None
        if len(args) == 1:  # X | None: X's own message, plus the way to say None
            try:
                return parse_value(name, text, args[0], owner)
            except InputError as exc:
                raise InputError(f"{exc} (or none)" if optional else str(exc)) from None
        for a in args:
            try:
                return parse_value(name, text, a, owner)
            except InputError:
                continue
        raise InputError(f"{owner}: {name} expects {hint}, got {text!r}")
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if text not in choices:
            raise InputError(
                f"{owner}: {name} must be one of {', '.join(map(str, choices))}, got {text!r}"
            )
        return text
    raise InputError(f"{owner}: cannot parse {name}={text!r}")


def as_text(value: Any) -> str:
    """How a value is written as text (``--set``, form inputs): the inverse of :func:`parse_value`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        tiny_or_huge = value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6)
        return repr(value) if tiny_or_huge else f"{value:g}"
    return str(value)
