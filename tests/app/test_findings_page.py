"""AppTest of keeping findings: the Token scores page pins its view with a note, the Findings
page lists, edits and deletes pins and survives a damaged pin file; a link's values the page
cannot show get a message, never an exception."""

from __future__ import annotations

import shutil

import pytest
from navigation import goto

pytestmark = pytest.mark.slow

TOKENS, FINDINGS = "pages/token_scores.py", "pages/findings_page.py"


@pytest.fixture
def pins_dir(atwu_home):
    from atwu.findings import findings_dir

    shutil.rmtree(findings_dir(), ignore_errors=True)
    yield findings_dir()
    shutil.rmtree(findings_dir(), ignore_errors=True)


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "unexpected error" in e.value]


def _pin(at, note: str):
    at.text_area(key="pin_note").set_value(note)
    at.button(key="pin_save").click().run()
    _ok(at)
    return at


def test_pinning_keeps_the_view_with_its_note_and_findings_lists_it(app, app_runs, pins_dir):
    from atwu.findings import load_pins

    at = goto(app, TOKENS, run="atwu-s0")
    example = at.selectbox(key="example").options[2]
    at.selectbox(key="example").set_value(example).run()
    step = at.select_slider(key="step").value
    _pin(at, "ATWU weights the award, not the name")
    assert any("Pinned" in s.value for s in at.success)

    pins, problems = load_pins(pins_dir)
    assert problems == [] and len(pins) == 1
    pin = pins[0]
    assert (pin.run, pin.step, pin.example) == ("atwu-s0", step, example)
    assert pin.note == "ATWU weights the award, not the name"
    assert f"example={example}" in pin.link and f"step={step}" in pin.link
    assert pin.rows and pin.rows[0].tokens  # the snapshot the write-up draws

    at.switch_page(FINDINGS).run()
    _ok(at)
    assert at.title[0].value == "Findings"
    assert at.text_area(key=f"note_{pin.id}").value == pin.note


def test_findings_edits_and_deletes_a_pin(app, app_runs, pins_dir):
    from atwu.findings import load_pins

    at = goto(app, TOKENS, run="wga-s0")
    _pin(at, "first note")
    pin = load_pins(pins_dir)[0][0]
    at.switch_page(FINDINGS).run()
    at.text_area(key=f"note_{pin.id}").set_value("an edited note").run()
    at.button(key=f"save_{pin.id}").click().run()
    _ok(at)
    assert load_pins(pins_dir)[0][0].note == "an edited note"
    at.button(key=f"delete_{pin.id}").click().run()
    _ok(at)
    assert load_pins(pins_dir) == ([], [])
    assert any("No pinned views yet" in i.value for i in at.info)


def test_findings_names_a_damaged_pin_file_and_keeps_it(app, app_runs, pins_dir):
    at = goto(app, TOKENS, run="atwu-s0")
    _pin(at, "a good pin")
    bad = pins_dir / "pin-20261206-101010-abcdef.json"
    bad.write_text("{cut", encoding="utf-8")
    at.switch_page(FINDINGS).run()
    _ok(at)
    assert any(bad.name in w.value for w in at.warning)
    assert len([t for t in at.text_area if t.key.startswith("note_")]) == 1
    assert bad.read_text(encoding="utf-8") == "{cut"


def test_a_link_with_values_the_page_cannot_show_says_so(app, app_runs):
    at = goto(app, TOKENS, run="atwu-s0", step="99999", example="nope")
    _ok(at)
    texts = " ".join(w.value for w in at.warning)
    assert "`step=99999`" in texts and "`example=nope`" in texts
    shown = at.select_slider(key="step").value
    assert f"showing {shown} instead" in texts
    assert at.query_params["step"] == str(shown)
    at.select_slider(key="step").set_value(at.select_slider(key="step").options[0]).run()
    assert not at.warning  # said once, on opening the link


def test_a_parameter_no_page_reads_is_named_and_dropped(app, app_runs):
    app.query_params["colour"] = "blue"
    at = app.run()
    _ok(at)
    assert any("`colour`" in w.value for w in at.warning)
    assert "colour" not in at.query_params


def test_a_link_to_an_unknown_run_says_which_run_is_shown(app, app_runs):
    app.query_params["run"] = "gone-s9"
    at = app.run()
    _ok(at)
    assert any("`run=gone-s9`" in w.value for w in at.warning)
    assert at.selectbox(key="run").value in ("atwu-s0", "wga-s0")


def test_a_pinned_link_reopens_the_same_view(app, app_runs, pins_dir):
    from urllib.parse import parse_qs

    from atwu.findings import load_pins

    at = goto(app, TOKENS, run="wga-s0")
    ids = at.selectbox(key="example").options
    at.selectbox(key="example").set_value(ids[3]).run()
    steps = at.select_slider(key="step").options
    at.select_slider(key="step").set_value(steps[1]).run()
    _pin(at, "reopen me")
    link = load_pins(pins_dir)[0][0].link

    from streamlit.testing.v1 import AppTest

    fresh = AppTest.from_file(str(app._script_path), default_timeout=120)  # a new session
    params = {k: v[-1] for k, v in parse_qs(link).items()}
    again = goto(fresh, TOKENS, **params)
    _ok(again)
    assert not again.warning or not [w for w in again.warning if "link" in w.value]
    assert again.selectbox(key="run").value == "wga-s0"
    assert str(again.select_slider(key="step").value) == str(steps[1])
    assert again.selectbox(key="example").value == ids[3]
