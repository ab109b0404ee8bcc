"""Progress of the models prepare trains side by side: which model, which epoch, time left."""

from __future__ import annotations

from atwu.prepare.job_progress import (
    PROGRESS_DIR,
    duration_text,
    epoch_reporter,
    read_progress,
    summary,
)


def test_the_reporter_writes_at_the_first_step_and_each_epoch_end(tmp_path):
    on_step = epoch_reporter(tmp_path, "full", epochs=3, steps_per_epoch=4)
    seen = []
    for step in range(1, 13):
        on_step(step, 12)
        seen.append(read_progress(tmp_path, ["full"])["full"]["epoch"])
    assert (tmp_path / PROGRESS_DIR / "full.json").is_file()
    # epoch 1 from the first step; the record moves on only when an epoch ends
    assert seen == [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert read_progress(tmp_path, ["full", "base"]).keys() == {"full"}


def test_summary_names_each_model_and_estimates_the_time_left():
    records = {
        "full": {"step": 50, "total": 100, "epoch": 5, "epochs": 10, "started": 1000.0},
        "retain90": {"step": 25, "total": 100, "epoch": 3, "epochs": 12, "started": 1000.0},
    }
    message, fraction = summary(["full", "retain90", "base"], records, set(), now=1060.0)
    assert message.startswith("training models: full epoch 5/10 · retain90 epoch 3/12 · ")
    assert "base waiting" in message
    # base counted with the mean total (100): 75 of 300 steps in 60 s -> 180 s left
    assert fraction == 0.25
    assert message.endswith("about 3 min left")


def test_summary_counts_finished_models_whole_and_guesses_no_time_before_any_step():
    records = {"full": {"step": 1, "total": 100, "epoch": 1, "epochs": 10, "started": 0.0}}
    message, fraction = summary(["full", "base"], records, {"base"}, now=5.0)
    assert "base done" in message
    assert fraction == (1 + 100) / 200
    message, fraction = summary(["full"], {}, set(), now=5.0)
    assert message == "training models: full waiting" and fraction == 0.0
    message, _ = summary(["full"], records, set(), now=5.0)  # 1 step of 100: too early
    assert "left" not in message


def test_durations_are_rounded_for_reading():
    assert duration_text(3) == "5 s"
    assert duration_text(42) == "40 s"
    assert duration_text(100) == "2 min"
