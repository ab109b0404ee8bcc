"""The Findings write-up: every pin as a Markdown section (its note, what it shows, the link that
reopens it) with its token view as an image, packed in one zip (``findings.md`` and
``figures/<pin id>.png``) so the Markdown's image links work wherever it is unpacked."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable, Sequence

from atwu.findings import Pin

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def md_escape(text: str) -> str:
    """Text shown literally in Markdown (run names, example ids, questions): its markup characters
    escaped and line breaks folded, so a name cannot start a heading, a link or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def note_markdown(note: str) -> str:
    """A note as written (its Markdown kept: emphasis, lists, links), with HTML made inert:
    ``<``, ``>`` and ``&`` escaped, so a pasted tag shows as text in any Markdown viewer."""
    return html.escape(note.strip(), quote=False)


def view_link(base_url: str, pin: Pin) -> str:
    """The URL that reopens the pin's view: the Token scores page's address with the pin's query
    string (only the query string when no address is known)."""
    query = pin.link.lstrip("?")
    if not base_url:
        return f"?{query}" if query else ""
    return f"{base_url.rstrip('/')}/tokens" + (f"?{query}" if query else "")


def figure_name(pin: Pin) -> str:
    return f"figures/{pin.id}.png"


def pin_markdown(pin: Pin, *, base_url: str = "", figure: str | None = None) -> str:
    """One pin's section."""
    runs = ", ".join(md_escape(n) for n in [pin.run, *pin.compared])
    lines = [
        f"## {md_escape(pin.run)} · example {md_escape(pin.example)} · step {pin.step}",
        "",
        note_markdown(pin.note) or "_(no note)_",
        "",
        f"- runs: {runs}",
        f"- example: {md_escape(pin.example)}, checkpoint (step) {pin.step}",
    ]
    if pin.question:
        lines.append(f"- question: {md_escape(pin.question)}")
    if pin.answer:
        lines.append(f"- answer: {md_escape(pin.answer)}")
    truth = pin.view.get("ground_truth")
    if truth:
        lines.append(f"- ground truth: {md_escape(str(truth))}")
    link = view_link(base_url, pin)
    if link:
        lines.append(f"- reopen: <{link}>" if base_url else f"- reopen: `{link}`")
    lines.append(
        f"- pinned {pin.created_at}" + (f", edited {pin.updated_at}" if pin.updated_at else "")
    )
    if figure:
        lines += ["", f"![Token weights: {md_escape(pin.run)}, step {pin.step}]({figure})"]
    return "\n".join(lines) + "\n"


def findings_markdown(
    pins: Sequence[Pin],
    *,
    base_url: str = "",
    figures: dict[str, str] | None = None,
    title: str = "Findings",
) -> str:
    """The write-up: a title, one section per pin (in the order given), figures by pin id."""
    figures = figures or {}
    head = [f"# {md_escape(title)}", ""]
    if not pins:
        return "\n".join([*head, "_No pinned views yet._", ""])
    head += [
        f"{len(pins)} pinned view{'s' if len(pins) != 1 else ''}. Token background = the method's "
        "weight (darker = pushed down harder); underline = ground-truth span (solid specific, "
        "dashed shared, dotted context).",
        "",
    ]
    sections = [pin_markdown(p, base_url=base_url, figure=figures.get(p.id)) for p in pins]
    return "\n".join(head) + "\n" + "\n".join(sections)


def findings_zip(
    pins: Sequence[Pin],
    *,
    figure: Callable[[Pin], bytes] | None = None,
    base_url: str = "",
) -> bytes:
    """``findings.md`` and each pin's figure (``figure(pin)``, PNG bytes) in a zip. A pin without
    token rows gets no image; a figure that fails is left out and said so in its section."""
    buffer = io.BytesIO()
    figures: dict[str, str] = {}
    failed: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for pin in pins:
            if figure is None or not pin.rows:
                continue
            try:
                data = figure(pin)
            except Exception as exc:  # one bad figure must not cost the write-up
                failed.append(f"{pin.id}: {type(exc).__name__}: {exc}")
                continue
            figures[pin.id] = figure_name(pin)
            archive.writestr(figures[pin.id], data)
        text = findings_markdown(pins, base_url=base_url, figures=figures)
        if failed:
            text += "\n_Figures left out:_ " + "; ".join(md_escape(f) for f in failed) + "\n"
        archive.writestr("findings.md", text)
    return buffer.getvalue()
