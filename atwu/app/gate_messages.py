"""The gates of a frontier analysis as sentences for the pages (METHOD.md §4.6): each gate's state
(``passed``, ``failed``, ``unchecked``) and its figures; analyses written before the three gates
show their single oracle-vs-uniform gate the same way."""

from __future__ import annotations

from typing import Any

from atwu.numbers import as_number as _num
from atwu.numbers import number_text as _fmt


def gate_message(gate: dict[str, Any] | None) -> tuple[str, str]:
    """One gate as ``(state, sentence)``: state is ``passed``, ``failed`` or ``unchecked``.

    Reads both the three gates of METHOD.md §4.6 (``name``, ``state``, ``checked``) and the single
    oracle-vs-uniform gate of analyses written before them (``oracle``/``uniform`` entries)."""
    if not gate:
        return "unchecked", "Gate not checked: this analysis has no gate."
    checked = gate.get("checked") or []
    reason = str(gate.get("reason", ""))
    name = str(gate.get("name") or "validity")
    detail = "; ".join(_checked_text(c) for c in checked)
    state = str(gate.get("state") or ("passed" if gate.get("passed") else "failed"))
    if not checked or state == "unchecked":
        return "unchecked", f"Gate {name} not checked: {reason}. No claim can be made."
    if state == "passed":
        return "passed", f"Gate {name} passed: {reason} ({detail})."
    return (
        "failed",
        f"Gate {name} failed: {reason} ({detail}). By METHOD.md §4.6 the comparison below "
        "supports no claim until it passes.",
    )


def _checked_text(entry: dict[str, Any]) -> str:
    where = (
        f"FFE {_num(entry['level']):g}"
        if "level" in entry
        else f"seed {entry.get('seed')}, step {entry.get('step')}"
    )
    values = ", ".join(
        f"{k} {_fmt(v)}" for k, v in entry.items() if k not in ("level", "seed", "step")
    )
    return f"{where}: {values}"


def gate_messages(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Every gate of an analysis as ``(state, sentence)``, in the order of METHOD.md §4.6."""
    found = result.get("gates")
    if isinstance(found, dict) and found:
        return [gate_message(g) for g in found.values()]
    return [gate_message(result.get("gate"))]
