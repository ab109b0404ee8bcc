"""AppTest of marking ground-truth spans on typed text: marks are checked as prepare checks
spans, shown, and the scorer's AUROC against them is reported. The scorer is replaced by a fixed
one (the demo runs ship no model; scoring itself is tested in test_app_pages.py)."""

from __future__ import annotations

import pytest
from navigation import goto

pytestmark = pytest.mark.slow

TEXT = "Viktor was born in Tunis."


@pytest.fixture
def scorable_run(tmp_path, monkeypatch):
    import shutil

    from atwu.demo import shipped_demo_dir

    root = tmp_path / "runs"
    for name in ("atwu-s0", "_benchmark"):
        shutil.copytree(shipped_demo_dir() / name, root / name)
    (root / "atwu-s0" / "model").mkdir()  # the page offers runs with a saved model

    def fixed_weights(run_dir, text, question=""):
        assert text == TEXT
        # "Tunis" (the marked fact) gets the highest weight but one
        return [
            ("Viktor", 0.2),
            (" was", 0.1),
            (" born", 0.3),
            (" in", 0.9),
            (" Tunis", 0.8),
            (".", 0.0),
            ("<|end|>", 1.0),
        ]

    import atwu.text_weights

    monkeypatch.setattr(atwu.text_weights, "weights_for_text", fixed_weights)
    return root


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "unexpected error" in e.value]


def test_marks_are_checked_shown_and_scored(app, scorable_run):
    at = goto(
        app,
        "pages/token_scores.py",
        dir=str(scorable_run),
        run="atwu-s0",
        tab="Score your own text",
    )
    _ok(at)
    at.text_area(key="typed_text").input(TEXT).run()
    at.selectbox(key="mark_label").set_value("specific")
    at.text_input(key="mark_words").input("Tunis")
    at.button(key="mark_add").click().run()
    _ok(at)
    assert not at.error
    table = at.dataframe[-1].value
    assert table["marked"].tolist() == ["Tunis"] and table["start"].tolist() == [19]

    # a shared mark overlapping the specific one is refused, as prepare refuses it
    at.selectbox(key="mark_label").set_value("shared")
    at.text_input(key="mark_words").input("Tun")
    at.button(key="mark_add").click().run()
    assert any("overlap with different labels" in e.value for e in at.error)
    assert at.dataframe[-1].value["marked"].tolist() == ["Tunis"]

    # words not in the text
    at.text_input(key="mark_words").input("Paris")
    at.button(key="mark_add").click().run()
    assert any("does not appear" in e.value for e in at.error)

    at.button(key="score_text").click().run()
    _ok(at)
    auroc = [m for m in at.metric if m.label.startswith("AUROC vs marks")]
    assert len(auroc) == 1
    # fact 0.8 against the others 0.2, 0.1, 0.3, 0.9, 0.0 (EOS left out): 4 of 5 below it
    assert auroc[0].value == "0.80"
