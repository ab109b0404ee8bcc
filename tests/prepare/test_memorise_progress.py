"""Progress of the memoriser: plain lines in a log, a bar only on a terminal."""

from __future__ import annotations

import io

from atwu.data.chat import EncodedPair
from atwu.models import TinyModelSpec, build_tiny_model
from atwu.prepare.memorise import PretrainConfig, train_memoriser
from atwu.progress import Progress

SPEC = TinyModelSpec(
    hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pairs() -> list[EncodedPair]:
    return [
        EncodedPair(input_ids=[2, 3 + i, 4, 5 + i, 1], prompt_len=2, answer_offsets=[None] * 3)
        for i in range(4)
    ]


def test_memoriser_writes_a_few_plain_lines_to_a_log(capsys):
    # pytest's captured stderr is not a TTY, like a log file the app redirects `prepare` into
    model = build_tiny_model(16, SPEC, pad_id=0, eos_id=1, seed=0)
    losses = train_memoriser(
        model, _pairs(), 0, PretrainConfig(epochs=20, batch_size=2), desc="full"
    )
    err = capsys.readouterr().err
    assert len(losses) == 20
    assert "\r" not in err  # no bar redraws
    lines = [line for line in err.splitlines() if line.startswith("[full] epoch")]
    assert len(lines) == 10  # one per tenth of the epochs
    assert lines[0].startswith("[full] epoch 2/20 (10%), ")
    assert " elapsed, ~" in lines[0] and " left, loss " in lines[0]
    assert lines[-1].startswith("[full] epoch 20/20 (100%), ")
    assert " left" not in lines[-1]  # nothing left at the end
    assert lines[-1].endswith(f"loss {losses[-1]:.3f}")


def test_a_terminal_gets_a_bar_and_no_plain_lines():
    terminal = _Terminal()
    with Progress(20, "full", unit="epoch", file=terminal) as progress:
        for _ in range(20):
            progress.update(1, loss="1.000")
    text = terminal.getvalue()
    assert not progress.plain
    assert "\r" in text and "| 0/20 [" in text  # tqdm's bar, drawn in place
    assert "[full] epoch" not in text


def test_lines_count_from_a_resumed_position():
    log = io.StringIO()
    with Progress(10, "run", initial=5, every=0.25, file=log) as progress:
        for _ in range(5):
            progress.update(1)
    lines = log.getvalue().splitlines()
    # marks at 25/50/75/100%: 50% was passed before the resume, so 75% and 100% are printed
    assert [line.split(",")[0] for line in lines] == [
        "[run] step 8/10 (80%)",
        "[run] step 10/10 (100%)",
    ]
