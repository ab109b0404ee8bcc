"""Name → method class. A method registers itself with ``@register``."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from atwu.methods.base import Method

REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    if cls.name in REGISTRY:
        raise ValueError(f"method {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


class MethodError(ValueError):
    """Unknown method, unknown hyperparameter or a value of the wrong type."""


def get_method(name: str) -> type[Method]:
    _load_all()
    if name not in REGISTRY:
        raise MethodError(f"unknown method {name!r}; choose from {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def all_methods() -> dict[str, type[Method]]:
    _load_all()
    return dict(REGISTRY)


def _load_all() -> None:
    # Importing the package modules runs their @register decorators.
    import atwu.methods.all  # noqa: F401


def _convert(name: str, text: str, typ: Any, method: str) -> Any:
    origin = typing.get_origin(typ)
    args = [a for a in typing.get_args(typ) if a is not type(None)]
    if typ is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise MethodError(f"{method}: {name} expects true/false, got {text!r}")
    if typ is int:
        try:
            return int(text)
        except ValueError:
            raise MethodError(f"{method}: {name} expects an integer, got {text!r}") from None
    if typ is float:
        try:
            return float(text)
        except ValueError:
            raise MethodError(f"{method}: {name} expects a number, got {text!r}") from None
    if typ is str:
        return text
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in typing.get_args(typ)
        if text.lower() in ("none", "null") and optional:
            return None
        if len(args) == 1:  # X | None: X's own message, plus the way to say None
            try:
                return _convert(name, text, args[0], method)
            except MethodError as exc:
                raise MethodError(f"{exc} (or none)" if optional else str(exc)) from None
        for a in args:
            try:
                return _convert(name, text, a, method)
            except MethodError:
                continue
        raise MethodError(f"{method}: {name} expects {typ}, got {text!r}")
    if origin is typing.Literal:
        choices = typing.get_args(typ)
        if text not in choices:
            raise MethodError(f"{method}: {name} must be one of {', '.join(map(str, choices))}, got {text!r}")
        return text
    raise MethodError(f"{method}: cannot parse {name}={text!r}")


def build_params(method: type[Method], overrides: dict[str, Any]) -> Any:
    """The method's params dataclass with ``overrides`` applied (strings are parsed by type)."""
    hints = typing.get_type_hints(method.Params)
    known = {f.name for f in dataclasses.fields(method.Params)}
    values = {}
    for key, value in overrides.items():
        if key not in known:
            import difflib
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
            raise MethodError(f"{method.name}: unknown parameter {key!r}{hint}")
        values[key] = _convert(key, value, hints[key], method.name) if isinstance(value, str) else value
    params = method.Params(**values)
    check = getattr(params, "validate", None)
    if check:
        check()
    return params


def describe(method: type[Method]) -> list[dict[str, Any]]:
    """Parameter table: name, type, default, help."""
    hints = typing.get_type_hints(method.Params)
    rows = []
    for f in dataclasses.fields(method.Params):
        rows.append({"name": f.name, "type": getattr(hints[f.name], "__name__", str(hints[f.name])),
                     "default": f.default, "help": f.metadata.get("help", "")})
    return rows
