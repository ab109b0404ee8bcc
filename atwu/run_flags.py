"""The command-line flags of a run, made from the settings' own metadata, both ways.

Every field of :class:`~atwu.config.TrainSettings`, :class:`~atwu.config.BenchmarkOptions` and
:class:`~atwu.config.LoraOptions`, and each :class:`~atwu.config.RunConfig` field whose
:func:`~atwu.params.param` metadata names a ``flag``, is one :class:`SettingFlag`: its flag
(``--lr``; a field without one is ``--`` + its name), help text, type and choices. From that one
list :mod:`atwu.cli.run_args` builds the ``run``/``sweep``/``frontier`` options and reads them
into a configuration, and :func:`run_argv` writes a configuration back as a command line (what
the app launches), so a setting gets its flag, its parsing and its place in the app's commands
by being declared.

Metadata keys a field may carry besides ``help``: ``flag`` (its flag), ``off_flag`` (the flag
that sets a bool to False, e.g. ``--no-eval``), ``cli_help`` (a shorter text for ``--help``),
``choices``, ``metavar``, ``group`` (a titled section of ``--help``), ``exclusive`` (flags of one
name exclude each other), ``blank_is_unset`` (an empty value counts as not given).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from atwu.config import LoraOptions, RunConfig, TrainSettings

__all__ = ["SettingFlag", "run_argv", "run_settings"]


@dataclass(frozen=True)
class SettingFlag:
    """One setting of a run and its command-line flag(s).

    Attributes:
        path: where it lives in a :class:`RunConfig`: ``("seed",)``, ``("train", "lr")``,
            ``("benchmark_options", "data_dir")``, ``("lora", "r")``.
        flag: the flag giving a value or turning a bool on (None: only ``off_flag``).
        off_flag: the flag turning a bool off (``--no-eval``), else None.
        hint: the field's type.
        default: the field's default.
        help: the ``--help`` text.
    """

    path: tuple[str, ...]
    flag: str | None
    off_flag: str | None
    hint: Any
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    group: str | None = None
    exclusive: str | None = None
    blank_is_unset: bool = False

    @property
    def dest(self) -> str:
        """The argparse attribute the flag fills."""
        name = self.flag or self.off_flag
        assert name is not None
        return name.removeprefix("--").replace("-", "_")

    @property
    def kind(self) -> str:
        """``value`` (takes an argument), ``on`` (a switch to True), ``off`` (a switch to
        False), ``on_off`` (both switches; neither leaves the default), ``options`` (the switch
        that turns on a dict of options, e.g. ``--lora``)."""
        if self.hint is dict:
            return "options"
        if _base_type(self.hint) is bool:
            if self.flag and self.off_flag:
                return "on_off"
            return "on" if self.flag else "off"
        return "value"

    @property
    def value_type(self) -> type:
        """What argparse converts a value to (int, float or str)."""
        return _base_type(self.hint)


def _base_type(hint: Any) -> Any:
    """``X`` of ``X | None``; ``str`` for a Literal; the hint itself otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else str
    if typing.get_origin(hint) is typing.Literal:
        return str
    if typing.get_origin(hint) is dict:
        return dict
    return hint


def _setting(
    path: tuple[str, ...], f: dataclasses.Field, hint: Any, flag: str | None
) -> SettingFlag:
    meta = f.metadata
    return SettingFlag(
        path=path,
        flag=flag,
        off_flag=meta.get("off_flag"),
        hint=hint,
        default=f.default,
        help=meta.get("cli_help", meta.get("help", "")),
        choices=meta.get("choices"),
        metavar=meta.get("metavar"),
        group=meta.get("group"),
        exclusive=meta.get("exclusive"),
        blank_is_unset=meta.get("blank_is_unset", False),
    )


def _fields_of(
    cls: type, prefix: tuple[str, ...], flag_prefix: str, group: str | None
) -> list[SettingFlag]:
    """Every field of a settings dataclass, each a flag (``--<flag_prefix><name>`` unless its
    metadata names one)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        flag = f.metadata.get("flag") or f"--{flag_prefix}{f.name.replace('_', '-')}"
        setting = _setting((*prefix, f.name), f, hints[f.name], flag)
        out.append(dataclasses.replace(setting, group=setting.group or group))
    return out


@functools.cache
def run_settings() -> tuple[SettingFlag, ...]:
    """Every setting with a flag, in :class:`RunConfig`'s field order (``train``'s settings at
    its place): the order of ``--help`` and of :func:`run_argv`'s command lines."""
    hints = typing.get_type_hints(RunConfig)
    out: list[SettingFlag] = []
    for f in dataclasses.fields(RunConfig):
        meta = f.metadata
        if hints[f.name] is TrainSettings:
            out += _fields_of(TrainSettings, ("train",), "", None)
        elif "options" in meta:
            if meta.get("flag"):  # the switch that turns the options on (--lora)
                out.append(_setting((f.name,), f, dict, meta["flag"]))
            out += _fields_of(meta["options"], (f.name,), meta.get("prefix", ""), meta["group"])
        elif meta.get("flag") or meta.get("off_flag"):
            out.append(_setting((f.name,), f, hints[f.name], meta.get("flag")))
    return tuple(out)


def _get(cfg: RunConfig, path: tuple[str, ...]) -> Any:
    value: Any = cfg
    for part in path:
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part)
    return value


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):  # LoRA target modules given as a list
        return ",".join(str(v) for v in value)
    return str(value)


def run_argv(
    cfg: RunConfig, *, keep_defaults: Collection[str] = (), extra: Collection[str] = ()
) -> list[str]:
    """``cfg`` as ``python -m atwu run`` arguments (without ``--out``): ``--method``, then the
    flag of every setting whose value is not its default, in ``--help``'s order (each method
    parameter as ``--set KEY=VALUE`` after ``--device``) (settings named in ``keep_defaults`` by their flag's name, e.g. ``"seed"``,
    even at their default), then ``extra`` as given (e.g. ``--allow-hub``, which is a choice of
    the command line and never of a configuration). Parsing the result gives ``cfg`` back
    (``tests/test_run_flags.py``); LoRA options are written as they are, defaults included."""
    args = ["run", "--method", cfg.method]
    for s in run_settings():
        if s.path == ("device",):
            # the method's parameters where ``run --help`` lists --set: after --device
            args += _device_then_sets(cfg, s, keep_defaults)
            continue
        value = _get(cfg, s.path)
        if s.path[0] == "lora" and s.kind != "options" and cfg.lora is not None:
            if value is not None:  # every given option: the defaults live with torch
                args += [s.flag or "", _text(value)]
            continue
        kept = s.dest in keep_defaults
        if s.kind == "options":
            args += [s.flag or ""] if value is not None else []
        elif s.kind in ("on", "off", "on_off"):
            if value is True and s.flag and (value != s.default or kept):
                args.append(s.flag)
            elif value is False and s.off_flag and (value != s.default or kept):
                args.append(s.off_flag)
        elif value is not None and (value != s.default or kept):
            args += [s.flag or "", _text(value)]
    return args + [str(a) for a in extra]


def _device_then_sets(
    cfg: RunConfig, device: SettingFlag, keep_defaults: Collection[str]
) -> list[str]:
    out = []
    if cfg.device != device.default or device.dest in keep_defaults:
        out += [device.flag or "", str(cfg.device)]
    for key, value in cfg.params.items():
        out += ["--set", f"{key}={value}"]
    return out


def flag_of(path: tuple[str, ...]) -> str:
    """The flag of the setting at ``path`` (KeyError for a setting without one)."""
    for s in run_settings():
        if s.path == path:
            return s.flag or s.off_flag or ""
    raise KeyError(path)


LORA_KEYS = tuple(f.name for f in dataclasses.fields(LoraOptions))
