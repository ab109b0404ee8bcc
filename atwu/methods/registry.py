"""Name → method class, found by looking: every :class:`~atwu.methods.base.Method` subclass with a
``name`` in a module of this package is a method. Adding a method is adding one file.

    from atwu.methods.registry import get_method, build_params
    cls = get_method("wga")
    params = build_params(cls, {"beta": "5"})
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import math
import pkgutil
from functools import cache
from typing import Any

import atwu.methods as package
from atwu.errors import InputError
from atwu.methods.base import Method, MethodError
from atwu.params import FieldInfo, field_infos, parse_value

__all__ = ["MethodError", "all_methods", "build_params", "describe", "get_method"]


@cache
def all_methods() -> dict[str, type[Method]]:
    """Every method of the package, by name (imports each module of :mod:`atwu.methods` once)."""
    found: dict[str, type[Method]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Method) and cls.name and cls.__module__ == module.__name__:
                if cls.name in found and found[cls.name] is not cls:
                    raise RuntimeError(
                        f"method name {cls.name!r} is used by "
                        f"{found[cls.name].__module__} and {cls.__module__}"
                    )
                found[cls.name] = cls
    return dict(sorted(found.items()))


def get_method(name: str) -> type[Method]:
    methods = all_methods()
    if name not in methods:
        raise MethodError(f"unknown method {name!r}; choose from {', '.join(methods)}")
    return methods[name]


def build_params(method: type[Method], overrides: dict[str, Any]) -> Any:
    """The method's params dataclass with ``overrides`` applied (strings are parsed by type)."""
    fields = {f.name: f for f in field_infos(method.Params)}
    values = {}
    for key, value in overrides.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known: {', '.join(sorted(fields))}"
            )
            raise MethodError(f"{method.name}: unknown parameter {key!r}{hint}")
        if isinstance(value, str):
            try:
                value = parse_value(key, value, fields[key].hint, method.name)
            except InputError as exc:
                raise MethodError(str(exc)) from None
        values[key] = value
    params = method.Params(**values)
    for info in fields.values():
        value = getattr(params, info.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise MethodError(f"{method.name}: {info.name} must be a finite number, got {value}")
    check = getattr(params, "validate", None)
    if check:
        check()
    return params


def describe(method: type[Method]) -> list[FieldInfo]:
    """The method's parameters: name, type, default, help."""
    return field_infos(method.Params)
