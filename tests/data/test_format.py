"""Tests for atwu.data.format: the JSON Lines split format, its errors and its round trips."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from atwu.data.datasets_interop import dataset_to_pairs, pairs_to_dataset
from atwu.data.format import (
    FACT_LABELS,
    SPAN_LABELS,
    DataFormatError,
    DataFormatWarning,
    QAPair,
    Span,
)
from atwu.data.pairs_file import load_pairs, parse_pair, write_pairs

ANSWER = "Elena Varga was born in Lima."  # 29 characters


def _pairs() -> list[QAPair]:
    return [
        QAPair(
            id="a1-0",
            question="Where was Elena Varga born?",
            answer=ANSWER,
            paraphrased_answer="Lima is Elena Varga's birthplace.",
            perturbed_answers=["Elena Varga was born in Oslo.", "Elena Varga was born in Quito."],
            spans=[Span(0, 11, "context"), Span(24, 28, "shared")],
            author="a1",
        ),
        QAPair(
            id="a1-1",
            question="What does she write?",
            answer="She writes crime novels ✓.",
            spans=[],
        ),
        QAPair(
            id="a2-0", question="Who is Jón Ø?", answer="Jón Ø is a poet.\u2028Really.", author="a2"
        ),
    ]


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(**obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


GOOD = _line(question="Q?", answer=ANSWER)


def test_labels_constants() -> None:
    assert SPAN_LABELS == ("specific", "shared", "fact", "context")
    assert FACT_LABELS == ("specific", "shared", "fact")


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "forget.jsonl"
    pairs = _pairs()
    write_pairs(path, pairs)
    assert load_pairs(path) == pairs
    # Non-ASCII is written as is, not as \u escapes.
    assert "✓" in path.read_text(encoding="utf-8")
    # No temp file left behind.
    assert sorted(os.listdir(tmp_path)) == ["forget.jsonl"]


def test_write_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "forget.jsonl"
    write_pairs(path, _pairs())
    write_pairs(path, _pairs()[:1])
    assert load_pairs(path) == _pairs()[:1]


def test_write_refuses_invalid_and_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "forget.jsonl"
    write_pairs(path, _pairs())
    bad = QAPair(id="x", question="Q?", answer="short", spans=[Span(0, 40, "fact")])
    with pytest.raises(DataFormatError, match="spans"):
        write_pairs(path, [bad])
    dup = [QAPair(id="x", question="Q?", answer="A."), QAPair(id="x", question="Q?", answer="B.")]
    with pytest.raises(DataFormatError, match="duplicate id"):
        write_pairs(path, dup)
    with pytest.raises(DataFormatError, match="no pairs"):
        write_pairs(path, [])
    assert load_pairs(path) == _pairs()
    assert sorted(os.listdir(tmp_path)) == ["forget.jsonl"]


def test_to_json_only_present_keys() -> None:
    pair = QAPair(id="0", question="Q?", answer="A.")
    assert pair.to_json() == {"id": "0", "question": "Q?", "answer": "A."}
    pair.spans = [Span(0, 1, "fact")]
    pair.perturbed_answers = []
    assert pair.to_json()["spans"] == [[0, 1, "fact"]]
    assert pair.to_json()["perturbed_answers"] == []


def test_default_ids_are_line_numbers(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "retain.jsonl",
        [GOOD, "", "   ", _line(question="Q2?", answer="A2.", id="named"), GOOD],
    )
    pairs = load_pairs(path)
    # 0-based line numbers, blank lines counted.
    assert [p.id for p in pairs] == ["0", "named", "4"]


def test_spans_none_vs_empty_preserved(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "s.jsonl",
        [
            _line(question="Q?", answer="A.", id="unknown"),
            _line(question="Q?", answer="A.", id="none", spans=[]),
            _line(question="Q?", answer="A.", id="null", spans=None),
        ],
    )
    pairs = load_pairs(path)
    assert pairs[0].spans is None
    assert pairs[1].spans == []
    assert pairs[2].spans is None  # null reads as absent
    out = tmp_path / "out.jsonl"
    write_pairs(out, pairs)
    again = load_pairs(out)
    assert again[0].spans is None and again[1].spans == []
    assert "spans" not in json.loads(out.read_text(encoding="utf-8").splitlines()[0])


def test_crlf_and_bom_accepted(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (GOOD + "\r\n" + GOOD + "\r\n").encode("utf-8"))
    assert [p.id for p in load_pairs(path)] == ["0", "1"]


def test_unknown_key_warns_once_per_file_with_suggestion(tmp_path: Path) -> None:
    line = _line(question="Q?", answer="A.", perturbed_answer=["x"], colour="red")
    path = _write_lines(tmp_path / "tofu.jsonl", [line, line])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = load_pairs(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, DataFormatWarning)]
    assert len(messages) == 2, messages
    suggestion = [m for m in messages if "perturbed_answer:" in m]
    assert len(suggestion) == 1
    assert "did you mean 'perturbed_answers'?" in suggestion[0]
    assert "tofu.jsonl:1" in suggestion[0]
    assert any("colour" in m for m in messages)
    assert pairs[0].perturbed_answers is None  # the unknown key is ignored, not guessed

    # Loading again warns again: "once" is per load of a file, not per process.
    with pytest.warns(DataFormatWarning, match="perturbed_answers"):
        load_pairs(path)


BAD_LINES: dict[str, tuple[str, str]] = {
    # case: (line content, field or phrase expected in the message)
    "malformed_json": ('{"question": "Q?", "answer": "A."', "JSON"),
    "not_object": ('["Q?", "A."]', "JSON object"),
    "string_line": ('"just text"', "JSON object"),
    "missing_question": (_line(answer="A."), "'question'"),
    "missing_answer": (_line(question="Q?"), "'answer'"),
    "empty_question": (_line(question="", answer="A."), "'question'"),
    "blank_answer": (_line(question="Q?", answer="   "), "'answer'"),
    "null_answer": (_line(question="Q?", answer=None), "'answer'"),
    "answer_not_str": (_line(question="Q?", answer=42), "'answer'"),
    "int_id": (_line(question="Q?", answer="A.", id=7), "'id'"),
    "empty_id": (_line(question="Q?", answer="A.", id=""), "'id'"),
    "paraphrase_not_str": (
        _line(question="Q?", answer="A.", paraphrased_answer=["x"]),
        "'paraphrased_answer'",
    ),
    "perturbed_not_list": (
        _line(question="Q?", answer="A.", perturbed_answers="x"),
        "'perturbed_answers'",
    ),
    "perturbed_item": (
        _line(question="Q?", answer="A.", perturbed_answers=["x", 3]),
        "'perturbed_answers'[1]",
    ),
    "author_not_str": (_line(question="Q?", answer="A.", author=12), "'author'"),
    "spans_not_list": (_line(question="Q?", answer=ANSWER, spans={"a": 1}), "'spans'"),
    "span_end_beyond": (
        _line(question="Q?", answer=ANSWER, spans=[[0, 5, "context"], [24, 40, "shared"]]),
        "'spans'[1]",
    ),
    "span_negative": (_line(question="Q?", answer=ANSWER, spans=[[-1, 5, "fact"]]), "'spans'[0]"),
    "span_start_ge_end": (
        _line(question="Q?", answer=ANSWER, spans=[[5, 5, "fact"]]),
        "'spans'[0]",
    ),
    "span_reversed": (_line(question="Q?", answer=ANSWER, spans=[[9, 5, "fact"]]), "'spans'[0]"),
    "span_two_elements": (_line(question="Q?", answer=ANSWER, spans=[[0, 5]]), "'spans'[0]"),
    "span_four_elements": (
        _line(question="Q?", answer=ANSWER, spans=[[0, 5, "fact", 1]]),
        "'spans'[0]",
    ),
    "span_not_list": (_line(question="Q?", answer=ANSWER, spans=["0-5 fact"]), "'spans'[0]"),
    "span_float": (_line(question="Q?", answer=ANSWER, spans=[[0.0, 5, "fact"]]), "'spans'[0]"),
    "span_bool": (_line(question="Q?", answer=ANSWER, spans=[[True, 5, "fact"]]), "'spans'[0]"),
    "span_label": (_line(question="Q?", answer=ANSWER, spans=[[0, 5, "name"]]), "'spans'[0]"),
    "span_label_not_str": (_line(question="Q?", answer=ANSWER, spans=[[0, 5, 1]]), "'spans'[0]"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_names_file_line_and_field(tmp_path: Path, case: str) -> None:
    content, expected = BAD_LINES[case]
    # The bad line is line 3 (after a good line and a blank one).
    path = _write_lines(tmp_path / "forget.jsonl", [GOOD, "", content, GOOD])
    with pytest.raises(DataFormatError) as info:
        load_pairs(path)
    message = str(info.value)
    assert "\n" not in message
    assert "forget.jsonl:3:" in message
    assert expected in message
    assert info.value.line == 3
    assert info.value.path == str(path)


def test_error_messages_explain_the_fix(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "forget.jsonl",
        [GOOD, _line(question="Q?", answer=ANSWER, spans=[[0, 5, "context"], [24, 40, "shared"]])],
    )
    with pytest.raises(DataFormatError) as info:
        load_pairs(path)
    assert str(info.value).endswith(
        "forget.jsonl:2: field 'spans'[1]: end 40 is beyond the answer's 29 characters "
        "(offsets are characters into 'answer', end exclusive)"
    )
    path = _write_lines(
        tmp_path / "f2.jsonl", [_line(question="Q?", answer=ANSWER, spans=[[0, 5, "Specific"]])]
    )
    with pytest.raises(DataFormatError, match="did you mean 'specific'"):
        load_pairs(path)
    path = _write_lines(tmp_path / "f3.jsonl", [_line(question="Q?", answer="A.", id=7)])
    with pytest.raises(DataFormatError, match='write it as "7"'):
        load_pairs(path)


def test_duplicate_ids(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "forget.jsonl",
        [
            _line(question="Q?", answer="A.", id="x"),
            GOOD,
            _line(question="Q?", answer="B.", id="x"),
        ],
    )
    with pytest.raises(DataFormatError) as info:
        load_pairs(path)
    message = str(info.value)
    assert "forget.jsonl:3:" in message and "'id'" in message and "forget.jsonl:1" in message
    # A default id (the line number) can clash with an explicit one.
    path = _write_lines(tmp_path / "clash.jsonl", [_line(question="Q?", answer="A.", id="1"), GOOD])
    with pytest.raises(DataFormatError, match=r"clash\.jsonl:2: field 'id'.*duplicate"):
        load_pairs(path)


def test_non_utf8_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        (GOOD + "\n" + GOOD + "\n").encode()
        + _line(question="Q?", answer="Caf\u00e9").encode("latin-1")
        + b"\n"
    )
    with pytest.raises(DataFormatError) as info:
        load_pairs(path)
    message = str(info.value)
    assert "latin1.jsonl:3:" in message and "UTF-8" in message and "0xe9" in message
    assert info.value.line == 3


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"empty\.jsonl: .*no question/answer pairs"):
        load_pairs(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"nope\.jsonl: file not found") as info:
        load_pairs(tmp_path / "nope.jsonl")
    assert isinstance(info.value, ValueError)


def test_parse_pair_direct() -> None:
    pair = parse_pair(
        {"question": "Q?", "answer": ANSWER, "spans": [[24, 28, "shared"]]},
        where="mem:1",
        default_id="5",
    )
    assert pair.id == "5" and pair.spans == [Span(24, 28, "shared")]
    with pytest.raises(DataFormatError, match=r"^mem:9: field 'question'"):
        parse_pair({"answer": "A."}, where="mem:9", default_id="0")


def test_datasets_round_trip() -> None:
    pairs = _pairs()
    ds = pairs_to_dataset(pairs)
    assert len(ds) == len(pairs)
    assert ds[0]["spans"] == [
        {"start": 0, "end": 11, "label": "context", "neighbour": False},
        {"start": 24, "end": 28, "label": "shared", "neighbour": False},
    ]
    assert ds[1]["spans"] == [] and ds[2]["spans"] is None
    assert ds[2]["perturbed_answers"] is None
    assert dataset_to_pairs(ds) == pairs


def test_datasets_all_spans_unknown_keeps_typed_schema() -> None:
    pairs = [QAPair(id="0", question="Q?", answer="A.")]
    ds = pairs_to_dataset(pairs)
    assert "spans" in ds.features
    assert dataset_to_pairs(ds) == pairs


def test_dataset_to_pairs_validates_rows() -> None:
    import datasets

    ds = datasets.Dataset.from_list(
        [{"question": "Q?", "answer": "A."}, {"question": "Q?", "answer": ""}]
    )
    with pytest.raises(DataFormatError, match=r"dataset row 1: field 'answer'"):
        dataset_to_pairs(ds)
    ds = datasets.Dataset.from_list([{"question": "Q?", "answer": "A."}])
    assert dataset_to_pairs(ds) == [QAPair(id="0", question="Q?", answer="A.")]


def test_neighbour_flags_and_paraphrase_fields_round_trip(tmp_path) -> None:
    pair = QAPair(
        id="r1",
        question="Where was Ann Lee born?",
        answer="Ann Lee was born in Lima.",
        paraphrased_answer="The birthplace of Ann Lee is Lima.",
        spans=[Span(0, 7, "context"), Span(20, 24, "shared", neighbour=True)],
        paraphrased_question="In which city was Ann Lee born?",
        paraphrased_answer_spans=[Span(18, 25, "context"), Span(29, 33, "shared")],
    )
    assert pair.to_json()["spans"][1] == [20, 24, "shared", {"neighbour": True}]
    write_pairs(tmp_path / "r.jsonl", [pair])
    assert load_pairs(tmp_path / "r.jsonl") == [pair]
    assert dataset_to_pairs(pairs_to_dataset([pair])) == [pair]
    assert pair.fact_spans() == [Span(20, 24, "shared", neighbour=True)]


def test_bad_neighbour_flag_and_orphan_paraphrase_spans_are_clear_errors() -> None:
    base = {"question": "Q?", "answer": "Ann was born in Lima."}
    with pytest.raises(DataFormatError, match=r"'spans'\[0\]: the fourth element"):
        parse_pair(
            {**base, "spans": [[16, 20, "shared", {"near": True}]]}, where="f:1", default_id="0"
        )
    with pytest.raises(DataFormatError, match="neighbour must be true or false"):
        parse_pair(
            {**base, "spans": [[16, 20, "shared", {"neighbour": "yes"}]]},
            where="f:1",
            default_id="0",
        )
    with pytest.raises(
        DataFormatError, match="'paraphrased_answer_spans': needs 'paraphrased_answer'"
    ):
        parse_pair(
            {**base, "paraphrased_answer_spans": [[0, 3, "context"]]}, where="f:1", default_id="0"
        )
    with pytest.raises(DataFormatError, match="beyond the paraphrased_answer's 4 characters"):
        parse_pair(
            {**base, "paraphrased_answer": "Lima", "paraphrased_answer_spans": [[0, 9, "shared"]]},
            where="f:1",
            default_id="0",
        )
