"""The pin store: a pin written and read back is the same pin, writes are atomic, a damaged file
is named and kept while the other pins still load, ids are the only file names."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from atwu.errors import InputError
from atwu.findings import (
    NOTE_LIMIT,
    Pin,
    PinnedRow,
    delete_pin,
    load_pin,
    load_pins,
    new_pin_id,
    save_pin,
    update_note,
)
from atwu.findings_export import findings_markdown, findings_zip, md_escape


def a_pin(
    note: str = "ATWU weights the city, WGA the name", created: str = "2026-12-06T10:00:00Z"
) -> Pin:
    return Pin(
        id=new_pin_id(),
        note=note,
        run="atwu-s0",
        step=36,
        example="a0036_award",
        compared=["wga-s0"],
        link="run=atwu-s0&step=36&example=a0036_award&compare=wga-s0",
        question="Which award did Bruno Dranygo win?",
        answer="Bruno Dranygo won the Gobel Prize.",
        rows=[
            PinnedRow(
                "atwu · step 36",
                ["Bruno", " Gobel", " Prize"],
                [0.1, 0.9, None],
                [None, "specific", "specific"],
            ),
            PinnedRow(
                "wga · step 36",
                ["Bruno", " Gobel", " Prize"],
                [0.5, 0.5, 0.25],
                [None, "specific", "specific"],
            ),
        ],
        created_at=created,
        view={
            "ground_truth": "facts",
            "normalise": False,
            "threshold": 0.5,
            "vmin": 0.0,
            "vmax": 1.0,
        },
    )


def test_a_saved_pin_reads_back_unchanged(tmp_path):
    pin = a_pin()
    path = save_pin(tmp_path, pin)
    assert path == tmp_path / f"{pin.id}.json"
    assert load_pin(tmp_path, pin.id) == pin
    pins, problems = load_pins(tmp_path)
    assert pins == [pin] and problems == []


def test_pins_survive_a_new_process_reading_the_directory(tmp_path):
    """What a restart sees is what is on disk: plain JSON with every field."""
    pin = a_pin()
    save_pin(tmp_path, pin)
    on_disk = json.loads((tmp_path / f"{pin.id}.json").read_text())
    assert on_disk["note"] == pin.note and on_disk["rows"][0]["weights"] == [0.1, 0.9, None]
    assert on_disk["format"] == 1


def test_pins_are_listed_newest_first(tmp_path):
    old, new = a_pin(created="2026-12-01T00:00:00Z"), a_pin(created="2026-12-06T00:00:00Z")
    save_pin(tmp_path, old)
    save_pin(tmp_path, new)
    assert [p.id for p in load_pins(tmp_path)[0]] == [new.id, old.id]


def test_a_save_leaves_no_temporary_file_and_replaces_in_one_step(tmp_path, monkeypatch):
    pin = a_pin()
    save_pin(tmp_path, pin)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{pin.id}.json"]

    # a write that dies half way leaves the earlier version whole
    import atwu.io

    def dying_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atwu.io.os, "replace", dying_replace)
    with pytest.raises(OSError):
        update_note(tmp_path, pin.id, "a new note")
    monkeypatch.undo()
    assert load_pin(tmp_path, pin.id).note == pin.note
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{pin.id}.json"]


def test_a_damaged_pin_is_named_kept_and_the_others_still_load(tmp_path):
    good, bad = a_pin(), a_pin()
    save_pin(tmp_path, good)
    broken = tmp_path / f"{bad.id}.json"
    broken.write_text('{"id": "cut', encoding="utf-8")
    pins, problems = load_pins(tmp_path)
    assert pins == [good]
    assert len(problems) == 1 and bad.id in problems[0] and "kept" in problems[0]
    assert "\n" not in problems[0]
    assert broken.read_text(encoding="utf-8") == '{"id": "cut'  # nothing lost


def test_a_pin_file_of_the_wrong_shape_is_refused_with_the_field(tmp_path):
    pin = a_pin()
    record = json.loads(json.dumps({"format": 1, **pin.__dict__}, default=lambda o: o.__dict__))
    record["step"] = "late"
    (tmp_path / f"{pin.id}.json").write_text(json.dumps(record))
    pins, problems = load_pins(tmp_path)
    assert pins == [] and "'step'" in problems[0]


def test_notes_are_edited_in_place_and_pins_deleted(tmp_path):
    pin = a_pin()
    save_pin(tmp_path, pin)
    edited = update_note(tmp_path, pin.id, "  shared facts keep low weight  ")
    assert edited.note == "shared facts keep low weight" and edited.updated_at
    assert replace(load_pin(tmp_path, pin.id), note=pin.note, updated_at="") == pin
    assert delete_pin(tmp_path, pin.id) is True
    assert delete_pin(tmp_path, pin.id) is False
    assert load_pins(tmp_path) == ([], [])


def test_a_note_over_the_limit_is_refused_and_the_pin_kept(tmp_path):
    pin = a_pin()
    save_pin(tmp_path, pin)
    with pytest.raises(InputError, match="characters"):
        update_note(tmp_path, pin.id, "x" * (NOTE_LIMIT + 1))
    assert load_pin(tmp_path, pin.id).note == pin.note


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "pin-1", "my note", "pin-20261206-101010-zzzzzz"]
)
def test_only_generated_ids_name_files(tmp_path, bad):
    with pytest.raises(InputError, match="not a pin id"):
        delete_pin(tmp_path, bad)
    with pytest.raises(InputError):
        save_pin(tmp_path, replace(a_pin(), id=bad))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_holds_no_pins(tmp_path):
    assert load_pins(tmp_path / "nowhere") == ([], [])


def test_the_write_up_holds_each_note_its_link_and_its_figure():
    pin = replace(a_pin(note="Shared facts get **lower** weight <script>x</script>"), updated_at="")
    text = findings_markdown(
        [pin], base_url="http://localhost:8501", figures={pin.id: "figures/a.png"}
    )
    assert text.startswith("# Findings\n")
    assert "\n\n## atwu-s0 · example a0036\\_award · step 36\n" in text
    assert "Shared facts get **lower** weight &lt;script&gt;x&lt;/script&gt;" in text
    assert "- runs: atwu-s0, wga-s0" in text
    assert f"<http://localhost:8501/tokens?{pin.link}>" in text
    assert "![Token weights: atwu-s0, step 36](figures/a.png)" in text


def test_markup_in_names_cannot_make_headings_or_links():
    assert md_escape("# [x](http://e) `y`\nz") == "\\# \\[x\\]\\(http://e\\) \\`y\\` z"


def test_the_write_up_zip_holds_the_markdown_and_one_png_per_pin():
    pins = [a_pin(), replace(a_pin(), rows=[])]
    data = findings_zip(pins, figure=lambda p: b"\x89PNG fake " + p.id.encode())
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as archive:
        names = set(archive.namelist())
        text = archive.read("findings.md").decode()
    assert names == {"findings.md", f"figures/{pins[0].id}.png"}
    assert f"(figures/{pins[0].id}.png)" in text and "2 pinned views" in text


def test_a_failing_figure_is_said_and_the_write_up_still_made():
    def broken(pin: Pin) -> bytes:
        raise RuntimeError("no font")

    with zipfile.ZipFile(__import__("io").BytesIO(findings_zip([a_pin()], figure=broken))) as z:
        text = z.read("findings.md").decode()
    assert "Figures left out" in text and "no font" in text


def test_the_figure_is_the_token_views_paper_figure_in_both_themes():
    # one figure for the page's download and the write-up: the pin's rows drawn by token_figure
    from PIL import Image

    from atwu.app.findings_view import pin_figure

    corners = {}
    for theme in ("light", "dark"):
        png = pin_figure(a_pin(), theme=theme)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
        image = Image.open(__import__("io").BytesIO(png)).convert("RGB")
        corners[theme] = image.getpixel((1, 1))
    assert corners["light"] == (255, 255, 255) and sum(corners["dark"]) < 100


def test_no_pin_says_so():
    assert "_No pinned views yet._" in findings_markdown([])


def test_pins_default_to_atwu_home(tmp_path, monkeypatch):
    from atwu.findings import findings_dir

    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    assert findings_dir() == Path(tmp_path) / "findings" / "pins"
