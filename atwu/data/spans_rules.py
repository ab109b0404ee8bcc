"""Ground-truth spans for real benchmarks that publish none: rules, and user span files.

TOFU and RWKU do not say which tokens of an answer are the facts to forget. This module derives
them with two documented rules (see docs/REAL_BENCHMARKS.md) and reads user span files that
replace them.

TOFU rule (:func:`tofu_spans`)
    TOFU's perturbed answers keep a sentence's wording and change its facts, so *the words a
    perturbation changes are the facts*. Each perturbed answer is aligned word by word
    (``difflib.SequenceMatcher`` on lower-cased words) with the answer and with the paraphrased
    answer, and the better-matching one (higher ``ratio()``; the answer on a tie) is its base:
    TOFU writes its perturbations from the paraphrase, but either is handled. A perturbation
    whose best ratio is below :data:`MIN_ALIGNMENT` rewrote the sentence rather than swapping a
    fact and is skipped. The base words inside ``replace``/``delete`` blocks are the changed
    words; contiguous ones form a phrase.

    * base = answer: each changed phrase is a ``fact`` span of the answer, as it stands.
    * base = paraphrase: each changed phrase is looked up in the answer (whole words, any case);
      where the phrase as a whole is absent, each of its words that is not a function word
      (:data:`FUNCTION_WORDS`) is looked up alone. Every occurrence becomes a ``fact`` span.

    The union over all perturbed answers is taken. Then *a name restated from the question*
    becomes a ``context`` span: every run of capitalised words of the question (question words
    and function words trimmed from its ends; one word alone must have 3+ characters and not
    open the question) that occurs in the answer, case-sensitive, whole words. A fact span lying
    wholly inside a context span is dropped (the name was copied, not recalled).

    A pair for which the rule finds no fact span (no perturbed answers, perturbations identical
    to the answer, or only rewrites) gets ``spans=None``: unknown, left out of the alignment
    metrics, and counted in a :class:`SpanRuleWarning`.

RWKU rule (:func:`rwku_spans`)
    Every occurrence in a forget passage of the target's name (the full name, the part before a
    comma such as "Prince Harry" in "Prince Harry, Duke of Sussex", and its last word when the
    name has two or more words, suffixes like "Jr." skipped) and of the answer of every forget
    probe (levels 1-3) of that target is a ``fact`` span (whole words, any case for answers,
    case-sensitive for the name parts). The name counts as a fact, not context: in RWKU the
    target *is* the entity to forget, and many level-1 probes ask for the name itself.

User span files (:func:`load_span_file`, :func:`apply_span_overrides`)
    JSON Lines, one object per line: ``{"id": "<pair id>", "spans": [[start, end, label], ...]}``
    (``null`` spans = unknown, ``[]`` = no facts), character offsets into that pair's answer as
    in :mod:`atwu.data.format`. A pair named in the file takes its spans from there; other
    pairs keep the rule's. An id that is no pair of the benchmark is an error naming the line.
"""

from __future__ import annotations

import difflib
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from atwu.data.format import DataFormatError, QAPair, Span
from atwu.data.pairs_file import parse_pair

__all__ = [
    "FUNCTION_WORDS",
    "MIN_ALIGNMENT",
    "SpanRuleWarning",
    "SpanStats",
    "apply_span_overrides",
    "load_span_file",
    "phrase_spans",
    "question_name_spans",
    "rwku_spans",
    "tofu_fact_spans",
    "tofu_spans",
    "warn_unknown",
    "words",
]

MIN_ALIGNMENT = 0.5
"""A perturbed answer whose best word-level ``SequenceMatcher.ratio()`` is below this rewrote the
sentence (not a fact swap) and contributes no span."""

FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "nor",
        "as",
        "is",
        "was",
        "were",
        "are",
        "be",
        "been",
        "being",
        "am",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "his",
        "her",
        "hers",
        "him",
        "they",
        "them",
        "their",
        "theirs",
        "we",
        "our",
        "you",
        "your",
        "i",
        "my",
        "me",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "so",
        "than",
        "then",
        "there",
        "here",
        "also",
        "very",
        "into",
        "onto",
        "about",
        "over",
        "under",
        "after",
        "before",
        "during",
        "while",
        "such",
        "own",
    ]
)
"""Words never marked as facts on their own (they only change incidentally)."""

_QUESTION_WORDS = frozenset(
    [
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "has",
        "have",
        "had",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "of",
        "the",
        "a",
        "an",
        "to",
        "with",
        "as",
        "and",
        "or",
        "name",
        "tell",
        "describe",
        "please",
    ]
)

_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})

# A word: letters/digits, optionally joined by ' - . / (so "Al-Kuwaiti", "08/09/1956", "U.S"
# and "author's" are one word each).
_WORD = re.compile(r"\w+(?:['’\-./]\w+)*")


class SpanRuleWarning(UserWarning):
    """A span rule found nothing for some pairs (their spans are unknown)."""


@dataclass
class SpanStats:
    """What a span rule did over a split, for the manifest and the warning."""

    pairs: int = 0
    with_spans: int = 0
    unknown: int = 0
    overridden: int = 0
    base_answer: int = 0  # perturbations aligned to the answer
    base_paraphrase: int = 0  # perturbations aligned to the paraphrase
    skipped_rewrites: int = 0  # perturbations below MIN_ALIGNMENT

    def to_json(self) -> dict:
        return dict(vars(self))


def words(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, word)`` of every word of ``text`` (see ``_WORD``)."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def phrase_spans(text: str, phrase: str, label: str, *, ignore_case: bool = True) -> list[Span]:
    """A span for every whole-word occurrence of ``phrase`` in ``text``."""
    phrase = phrase.strip()
    if not phrase:
        return []
    pattern = r"(?<!\w)" + re.escape(phrase) + r"(?!\w)"
    flags = re.IGNORECASE if ignore_case else 0
    return [Span(m.start(), m.end(), label) for m in re.finditer(pattern, text, flags)]


def _changed_groups(base: list[str], other: list[str]) -> tuple[float, list[list[int]]]:
    """Alignment ratio and the runs of base word indices that ``other`` replaced or deleted."""
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    groups: list[list[int]] = []
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            groups.append(list(range(i1, i2)))
    return matcher.ratio(), groups


def _lower(ws: Sequence[tuple[int, int, str]]) -> list[str]:
    return [w.lower() for _s, _e, w in ws]


def tofu_fact_spans(
    answer: str, paraphrase: str | None, perturbed: Sequence[str], stats: SpanStats | None = None
) -> list[Span]:
    """The ``fact`` spans of ``answer`` that the perturbations change (TOFU rule, first half)."""
    paraphrase = paraphrase or ""  # no paraphrase: every change is aligned with the answer
    answer_words = words(answer)
    para_words = words(paraphrase)
    spans: list[Span] = []
    for pert in perturbed:
        pert_words = _lower(words(pert))
        ratio_a, groups_a = _changed_groups(_lower(answer_words), pert_words)
        ratio_p, groups_p = (
            _changed_groups(_lower(para_words), pert_words) if para_words else (-1.0, [])
        )
        if max(ratio_a, ratio_p) < MIN_ALIGNMENT:
            if stats:
                stats.skipped_rewrites += 1
            continue
        if ratio_a >= ratio_p:
            if stats:
                stats.base_answer += 1
            for group in groups_a:
                if all(answer_words[i][2].lower() in FUNCTION_WORDS for i in group):
                    continue
                spans.append(Span(answer_words[group[0]][0], answer_words[group[-1]][1], "fact"))
            continue
        if stats:
            stats.base_paraphrase += 1
        for group in groups_p:
            phrase = paraphrase[para_words[group[0]][0] : para_words[group[-1]][1]]
            found = phrase_spans(answer, phrase, "fact")
            if not found:
                for i in group:
                    word = para_words[i][2]
                    if word.lower() in FUNCTION_WORDS or len(word) < 2:
                        continue
                    found += phrase_spans(answer, word, "fact")
            spans.extend(found)
    return _dedupe(spans)


def question_name_spans(question: str, answer: str) -> list[Span]:
    """``context`` spans: names (runs of capitalised words) of the question restated in the answer."""
    q_words = words(question)
    runs: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    for item in q_words:
        if item[2][:1].isupper() or (current and item[2][:1].isdigit()):
            current.append(item)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    spans: list[Span] = []
    for run in runs:
        while run and run[0][2].lower() in _QUESTION_WORDS:
            run = run[1:]
        while run and run[-1][2].lower() in _QUESTION_WORDS:
            run = run[:-1]
        if not run:
            continue
        if len(run) == 1 and (len(run[0][2]) < 3 or run[0][0] == q_words[0][0]):
            continue
        name = question[run[0][0] : run[-1][1]]
        spans += phrase_spans(answer, name, "context", ignore_case=False)
    return _dedupe(spans)


def tofu_spans(
    question: str,
    answer: str,
    paraphrase: str | None,
    perturbed: Sequence[str] | None,
    stats: SpanStats | None = None,
) -> list[Span] | None:
    """The TOFU rule (module docstring): fact spans from the perturbations, names as context.

    Returns None when no fact span is found (the pair's ground truth is then unknown).
    """
    facts = tofu_fact_spans(answer, paraphrase, perturbed or [], stats)
    context = question_name_spans(question, answer)
    facts = [f for f in facts if not any(c.start <= f.start and f.end <= c.end for c in context)]
    if not facts:
        return None
    return sorted(facts + context, key=lambda s: (s.start, s.end, s.label))


def _name_parts(subject: str) -> list[str]:
    parts = [subject.strip()]
    head = subject.split(",")[0].strip()
    if head and head not in parts:
        parts.append(head)
    tokens = [t for t in head.split() if t.lower() not in _NAME_SUFFIXES]
    if len(head.split()) >= 2 and tokens and len(tokens[-1]) >= 3 and tokens[-1] not in parts:
        parts.append(tokens[-1])
    return parts


def rwku_spans(text: str, subject: str, answers: Iterable[str]) -> list[Span] | None:
    """The RWKU rule (module docstring): the target's name and the probe answers, as facts.

    Returns None when nothing is found in ``text``.
    """
    spans: list[Span] = []
    for part in _name_parts(subject):
        spans += phrase_spans(text, part, "fact", ignore_case=False)
    for answer in dict.fromkeys(a.strip() for a in answers if a and a.strip()):
        if len(answer) < 2 or answer.lower() in FUNCTION_WORDS:
            continue
        spans += phrase_spans(text, answer, "fact")
    spans = _dedupe(spans)
    # "King" inside "Stephen King" adds nothing: keep the outermost spans only.
    spans = [
        s for s in spans if not any(o != s and o.start <= s.start and s.end <= o.end for o in spans)
    ]
    return sorted(spans, key=lambda s: (s.start, s.end)) if spans else None


def _dedupe(spans: Iterable[Span]) -> list[Span]:
    return list(dict.fromkeys(spans))


def warn_unknown(what: str, unknown: int, total: int, rule: str) -> None:
    """One warning per split that has pairs the rule found nothing for."""
    if unknown:
        warnings.warn(
            f"{what}: the {rule} span rule found no fact in {unknown} of {total} pairs; "
            "their spans are unknown (left out of the alignment metrics). Give your "
            "own with --spans FILE.jsonl",
            SpanRuleWarning,
            stacklevel=2,
        )


# --------------------------------------------------------------------------------------------
# User span files
# --------------------------------------------------------------------------------------------


def load_span_file(path: str | Path) -> dict[str, tuple[int, list | None]]:
    """``id -> (line number, raw spans or None)`` from a span file; checks the form only.

    Raises:
        DataFormatError: a missing file, bad JSON, a line without ``id`` or ``spans``, or a
            duplicate id, naming the file and line.
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(
            name, "span file not found; check the --spans path", path=name
        ) from None
    except UnicodeDecodeError:
        raise DataFormatError(
            name, "is not UTF-8 text; save the span file as UTF-8", path=name
        ) from None
    out: dict[str, tuple[int, list | None]] = {}
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                where, f"not valid JSON ({exc.msg} at column {exc.colno})", path=name, line=lineno
            ) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise DataFormatError(
                where,
                'each line needs a string "id" and "spans", like '
                '{"id": "forget10-0", "spans": [[0, 5, "fact"]]}',
                field="'id'",
                path=name,
                line=lineno,
            )
        if "spans" not in obj:
            raise DataFormatError(
                where,
                "is missing (use null for unknown, [] for no facts)",
                field="'spans'",
                path=name,
                line=lineno,
            )
        if obj["id"] in out:
            raise DataFormatError(
                where,
                f"duplicate id {obj['id']!r} (first at line {out[obj['id']][0]})",
                field="'id'",
                path=name,
                line=lineno,
            )
        out[obj["id"]] = (lineno, obj["spans"])
    if not out:
        raise DataFormatError(name, "holds no span lines", path=name)
    return out


def apply_span_overrides(
    splits: dict[str, list[QAPair]], path: str | Path, stats: dict[str, SpanStats] | None = None
) -> dict[str, list[QAPair]]:
    """Replace the spans of every pair the span file names (validated against its answer).

    Raises:
        DataFormatError: an id that is no pair of ``splits``, or spans that do not fit the
            pair's answer, naming the span file's line.
    """
    overrides = load_span_file(path)
    where_is: dict[str, tuple[str, int]] = {}
    for split, pairs in splits.items():
        for i, pair in enumerate(pairs):
            where_is.setdefault(pair.id, (split, i))
    name = str(path)
    out = {split: list(pairs) for split, pairs in splits.items()}
    for pair_id, (lineno, raw) in overrides.items():
        if pair_id not in where_is:
            some = ", ".join(list(where_is)[:3])
            raise DataFormatError(
                f"{name}:{lineno}",
                f"id {pair_id!r} is not a pair of the benchmark (ids look like {some}, ...)",
                field="'id'",
                path=name,
                line=lineno,
            )
        split, i = where_is[pair_id]
        pair = out[split][i]
        checked = parse_pair(
            {"question": pair.question, "answer": pair.answer, "spans": raw},
            where=f"{name}:{lineno} (pair {pair_id})",
            default_id=pair_id,
        )
        for other_split, pairs in out.items():  # an id shared by two splits (e.g. a copy) too
            for j, other in enumerate(pairs):
                if other.id == pair_id and other.answer == pair.answer:
                    pairs[j] = replace(other, spans=checked.spans)
                    if stats is not None and other_split in stats:
                        stats[other_split].overridden += 1
    return out
