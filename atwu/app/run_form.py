"""The Run page's launch form: a method's hyperparameters and the training settings as inputs
(with defaults and help), and the ``--set`` overrides a filled form means."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from atwu.config import TrainSettings
from atwu.methods.registry import build_params, get_method
from atwu.params import FieldInfo, as_text, defaults_of, field_infos


@dataclass(frozen=True)
class ParamSpec:
    """One input of the launch form: ``kind`` is bool, int, float, str, choice or text (any
    other type, typed as text and parsed by the method's registry)."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    optional: bool = False


def _spec(info: FieldInfo) -> ParamSpec:
    name, hint, default, help_text = info.name, info.hint, info.default, info.help
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    optional = type(None) in args
    inner = [a for a in args if a is not type(None)]
    if origin is typing.Literal:
        return ParamSpec(name, "choice", default, help_text, tuple(args))
    if optional and len(inner) == 1:
        hint = inner[0]
    if hint is bool:
        return ParamSpec(name, "bool", default, help_text, optional=optional)
    if hint is int and not optional:
        return ParamSpec(name, "int", default, help_text)
    if hint is float and not optional:
        return ParamSpec(name, "float", default, help_text)
    if hint is str and not optional:
        return ParamSpec(name, "str", default, help_text)
    return ParamSpec(name, "text", default, help_text, optional=optional)


def param_specs(method: str) -> list[ParamSpec]:
    """The method's hyperparameters (from its params dataclass) as form inputs, with defaults
    and help text."""
    return [_spec(info) for info in field_infos(get_method(method).Params)]


def train_specs(
    names: tuple[str, ...] = ("epochs", "steps", "lr", "checkpoint_every"),
) -> list[ParamSpec]:
    """Training settings shown on the Run page (from :class:`atwu.config.TrainSettings`). The
    optional integers (steps, checkpoint_every) are asked as numbers where 0 means "the default
    rule" (epochs; 6 checkpoints per run)."""
    infos = {info.name: info for info in field_infos(TrainSettings)}
    out = []
    for name in names:
        spec = _spec(infos[name])
        if name in ("steps", "checkpoint_every"):
            spec = dataclasses.replace(
                spec,
                kind="int",
                optional=False,
                default=spec.default or 0,
                help=f"0: the default. {spec.help}",
            )
        elif name == "epochs":
            spec = dataclasses.replace(spec, kind="float", optional=False)
        out.append(spec)
    return out


def param_overrides(method: str, values: dict[str, Any]) -> dict[str, str]:
    """The ``--set key=value`` pairs for the form's values: only those that differ from the
    default, after parsing. Raises :class:`~atwu.methods.registry.MethodError` with a clear
    message for a value that does not parse or validate."""
    cls = get_method(method)
    defaults = defaults_of(cls.Params)
    as_strings = {k: v if isinstance(v, str) else as_text(v) for k, v in values.items()}
    params = build_params(cls, as_strings)  # parses and validates every value
    changed = {}
    for key in values:
        parsed = getattr(params, key)
        if parsed != defaults.get(key):
            changed[key] = as_text(parsed)
    return changed
