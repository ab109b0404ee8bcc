"""Spans edited in the browser saved as a new benchmark version: the original untouched, the
new one named from the original (never from typed text), the edit in every split holding the
pair, checked as prepare checks spans."""

from __future__ import annotations

import pytest

from atwu.app.span_versions import save_span_version, version_name, with_spans
from atwu.benchmark import Benchmark
from atwu.data.format import Span
from atwu.errors import InputError


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    from atwu.prepare.shipped import install_shipped

    root = tmp_path_factory.mktemp("benchmarks")
    return install_shipped(root / "embedded")


def test_versions_are_numbered_from_the_original_name():
    assert version_name("mine", set()) == "mine-spans-v2"
    assert version_name("mine", {"mine-spans-v2"}) == "mine-spans-v3"
    assert version_name("mine-spans-v3", {"mine-spans-v2", "mine-spans-v3"}) == "mine-spans-v4"


def test_an_edited_pair_is_checked_as_prepare_checks_it(shipped):
    pair = Benchmark.load(shipped).pairs("forget01")[0]
    n = len(pair.answer)
    with pytest.raises(InputError, match="beyond"):
        with_spans(pair, [Span(0, n + 5, "specific")])
    with pytest.raises(InputError, match="overlap with different labels"):
        with_spans(pair, [Span(0, 4, "specific"), Span(2, 6, "shared")])
    assert with_spans(pair, [Span(0, 3, "fact")]).spans == [Span(0, 3, "fact")]


def test_saving_makes_a_new_version_and_keeps_the_original(shipped):
    bench = Benchmark.load(shipped)
    pair = bench.pairs("forget01")[0]
    before = (shipped / "data" / "forget01.jsonl").read_bytes()
    edited = with_spans(pair, [Span(0, len(pair.answer), "context")])

    new = save_span_version(shipped, {pair.id: edited}, shipped.parent)

    assert new == shipped.parent / "embedded-spans-v2"
    assert (shipped / "data" / "forget01.jsonl").read_bytes() == before  # original kept
    version = Benchmark.load(new)
    assert version.manifest["name"] == "embedded-spans-v2"
    assert version.manifest["derived_from"]["edited_spans"] == [pair.id]
    for split in ("forget01", "full"):  # every split that holds the pair
        got = next(p for p in version.pairs(split) if p.id == pair.id)
        assert got.spans == [Span(0, len(pair.answer), "context")]
    other = bench.pairs("forget01")[1]
    assert next(p for p in version.pairs("forget01") if p.id == other.id) == other
    assert (new / "models").is_dir()

    again = save_span_version(shipped, {pair.id: edited}, shipped.parent)
    assert again.name == "embedded-spans-v3"


def test_nothing_is_saved_without_an_edit_or_for_an_unknown_pair(shipped):
    from atwu.data.format import QAPair

    listed = sorted(p.name for p in shipped.parent.iterdir())
    with pytest.raises(InputError, match="no span was edited"):
        save_span_version(shipped, {}, shipped.parent)
    ghost = QAPair(id="nobody", question="q?", answer="a.", spans=[])
    with pytest.raises(InputError, match="not in"):
        save_span_version(shipped, {"nobody": ghost}, shipped.parent)
    assert sorted(p.name for p in shipped.parent.iterdir()) == listed


@pytest.mark.slow
def test_the_run_page_edits_a_pairs_spans_and_saves_a_version(tmp_path, monkeypatch):
    from navigation import goto
    from streamlit.testing.v1 import AppTest

    from atwu.prepare.shipped import install_shipped

    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    bench = install_shipped(tmp_path / "benchmarks" / "embedded")
    split = Benchmark.load(bench).default_forget_split
    before = (bench / "data" / f"{split}.jsonl").read_bytes()
    app = AppTest.from_file(
        str(__import__("pathlib").Path(__file__).parents[2] / "app.py"), default_timeout=120
    )
    at = goto(app, "pages/run_page.py")
    assert not at.exception, [e.value for e in at.exception]
    pair_id = at.selectbox(key="span_pair").value
    pair = next(p for p in Benchmark.load(bench).pairs(split) if p.id == pair_id)
    word = pair.answer.split()[0]
    at.selectbox(key="bench_mark_label").set_value("context")
    at.text_input(key="bench_mark_words").input(word)
    at.button(key="bench_mark_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="span_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("embedded-spans-v2" in s.value for s in at.success)
    saved = next(
        p
        for p in Benchmark.load(bench.parent / "embedded-spans-v2").pairs(split)
        if p.id == pair_id
    )
    assert Span(0, len(word), "context") in (saved.spans or [])
    assert (bench / "data" / f"{split}.jsonl").read_bytes() == before
