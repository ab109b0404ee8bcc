"""AppTest of every page's wiring with real run directories: renders without exception, the key
widgets drive the state (and the URL), damaged run directories give messages, not exceptions.

AppTest cannot look inside plotly charts or st.html; those builders are tested in tests/viz and
tests/app/test_app_data.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from navigation import goto

BROKEN = (
    "corrupt-config",
    "no-status",
    "failed",
    "no-weights",
    "bad-weights",
    "bad-eval",
    "no-eval",
    "running-empty",
)  # built by the broken_runs fixture (conftest.py)
PAGES = {
    "pages/home_page.py": "ATWU: token-level unlearning",
    "pages/run_page.py": "Run",
    "pages/token_scores.py": "Token scores",
    "pages/tradeoffs_page.py": "Trade-offs",
    "pages/comparison_page.py": "Method comparison",
    "pages/findings_page.py": "Findings",
}

pytestmark = pytest.mark.slow


def _ok(at) -> None:
    """No exception, and the page-level guard in app.py did not fire."""
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "unexpected error" in e.value]
    assert not unexpected, unexpected


def _texts(at) -> str:
    return "\n".join(e.value for kind in (at.error, at.warning, at.info) for e in kind)


def _steps(run_dir: Path) -> list[int]:
    """The checkpoints whose token weights the run recorded."""
    from atwu.app.token_view import recorded_steps
    from atwu.runs.read import read_weights

    return recorded_steps(read_weights(run_dir))


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_with_real_runs(app, app_runs, page):
    at = goto(app, page)
    _ok(at)
    assert at.title[0].value == PAGES[page]
    assert at.selectbox(key="run").value in ("atwu-s0", "wga-s0")
    assert at.query_params["run"] == at.selectbox(key="run").value


def test_home_shows_the_prepared_benchmark(app, app_runs, small_benchmark):
    at = app.run()
    _ok(at)
    # splits and models tables of the prepared benchmark, and no "prepare" button
    assert len(at.dataframe) >= 2
    assert not [b for b in at.button if b.key == "prepare"]
    # Home lists every other page of the one page table, by its title
    from pages.common import PAGE_TABLE

    shown = [link.label for link in at.get("page_link")]
    assert all(spec.title in shown for spec in PAGE_TABLE if spec.key != "home")


def test_picking_a_run_puts_it_in_the_url(app, app_runs):
    at = goto(app, "pages/token_scores.py")
    at.selectbox(key="run").set_value("wga-s0").run()
    _ok(at)
    assert at.query_params["run"] == "wga-s0"
    assert "wga" in at.sidebar.caption[-1].value


def test_step_slider_changes_the_step_in_the_url(app, app_runs):
    steps = _steps(app_runs / "atwu-s0")
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    slider = at.select_slider(key="step")
    assert list(map(int, slider.options)) == steps
    assert slider.value == steps[-1]
    slider.set_value(steps[1]).run()
    _ok(at)
    assert at.query_params["step"] == str(steps[1])
    assert at.select_slider(key="step").value == steps[1]


def test_a_link_reproduces_the_view(app, app_runs):
    from atwu.runs.read import read_examples

    second = read_examples(app_runs / "wga-s0")[1]["example_id"]
    step = _steps(app_runs / "wga-s0")[1]
    at = goto(
        app, "pages/token_scores.py", run="wga-s0", step=str(step), example=second, threshold="0.3"
    )
    _ok(at)
    assert at.selectbox(key="run").value == "wga-s0"
    assert at.select_slider(key="step").value == step
    assert at.selectbox(key="example").value == second
    assert at.slider(key="threshold").value == pytest.approx(0.3)


def test_example_and_threshold_drive_the_state(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    ids = at.selectbox(key="example").options
    at.selectbox(key="example").set_value(ids[2]).run()
    _ok(at)
    assert at.query_params["example"] == ids[2]
    before = [m.value for m in at.metric]
    at.slider(key="threshold").set_value(0.99).run()
    _ok(at)
    assert at.query_params["threshold"] == "0.99"
    assert len(at.metric) == len(before) == 4


def test_picking_a_table_row_picks_the_example(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    ids = at.selectbox(key="example").options
    # what a click on the fourth row sends (positions refer to the unsorted table)
    at.session_state["example_table"] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    at.run()
    _ok(at)
    assert at.selectbox(key="example").value == ids[3]
    assert at.query_params["example"] == ids[3]
    # the select box can still move away from the picked row
    at.selectbox(key="example").set_value(ids[5]).run()
    assert at.selectbox(key="example").value == ids[5]


def test_compare_mode_stacks_other_runs(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    at.toggle(key="compare_mode").set_value(True).run()
    _ok(at)
    assert at.multiselect(key="compare_runs").value == ["wga-s0"]
    assert at.query_params["compare"] == "wga-s0"
    # one P/R/F1 row per compared run
    assert any(len(df.value) == 2 and "F1" in df.value.columns for df in at.dataframe)
    at.toggle(key="compare_mode").set_value(False).run()
    _ok(at)
    assert "compare" not in at.query_params


def test_scoring_typed_text_with_the_saved_model(app, trained_runs):
    # only the open tab is drawn; the URL opens this one
    at = goto(
        app,
        "pages/token_scores.py",
        dir=str(trained_runs),
        run="atwu-s0",
        tab="Score your own text",
    )
    before = len(at.get("html"))
    at.text_area(key="typed_text").input("The author was born in Lima.")
    at.button(key="score_text").click().run()
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    assert len(at.get("html")) == before + 1  # the typed text, drawn with its scores


def test_tradeoffs_states_the_best_checkpoint_rule(app, app_runs):
    at = goto(app, "pages/tradeoffs_page.py")
    _ok(at)
    rules = [c.value for c in at.caption if c.value.startswith("Rule:")]
    assert rules and "highest model utility" in rules[0]
    assert at.select_slider(key="tr_step").value in _steps(
        app_runs / at.selectbox(key="tr_run").value
    )
    assert sorted(at.multiselect(key="tradeoff_runs").value) == ["atwu-s0", "wga-s0"]
    assert "runs" not in at.query_params  # the default selection keeps the URL short
    at.multiselect(key="tradeoff_runs").set_value(["wga-s0"]).run()
    _ok(at)
    assert at.query_params["runs"] == "wga-s0"
    assert at.selectbox(key="tr_run").value == "wga-s0"


def test_comparison_offers_csv_and_latex(app, app_runs):
    at = goto(app, "pages/comparison_page.py")
    _ok(at)
    labels = {b.label for b in at.get("download_button")}
    assert {"Table (CSV)", "Table (LaTeX)"} <= labels
    at.selectbox(key="cmp_metric").set_value("auroc").run()
    _ok(at)
    assert at.query_params["metric"] == "auroc"


def test_run_page_builds_and_launches_the_command(app, app_runs, small_benchmark, monkeypatch):
    import atwu.app.jobs as L

    launched = []
    monkeypatch.setattr(
        L, "launch_run", lambda args, out, log: launched.append((args, Path(out))) or 12345
    )
    at = goto(app, "pages/run_page.py")
    _ok(at)
    at.multiselect(key="methods").set_value(["atwu", "wga"]).run()
    at.number_input(key="t_steps").set_value(7).run()
    at.text_input(key="p_wga_beta").input("2").run()
    _ok(at)
    preview = at.code[0].value
    assert "--method atwu" in preview and "--method wga" in preview and "--steps 7" in preview
    assert "beta=2" in preview
    at.button(key="launch").click().run()
    _ok(at)
    assert [a[a.index("--method") + 1] for a, _ in launched] == ["atwu", "wga"]
    assert all(out.parent == app_runs for _, out in launched)


def test_run_page_states_the_run_length(app, app_runs, small_benchmark):
    at = goto(app, "pages/run_page.py")
    _ok(at)
    captions = "\n".join(c.value for c in at.caption)
    # the fixture's forget10 has 20 pairs: 2 batches of 16 per pass, 12 passes
    assert "Run length: 24 steps (12 passes over the 20 pairs of forget10, batch 16)" in captions
    assert not at.number_input(key="t_epochs").disabled
    at.number_input(key="t_steps").set_value(7).run()
    captions = "\n".join(c.value for c in at.caption)
    assert "Run length: 7 steps (steps given; epochs ignored)" in captions
    assert at.number_input(key="t_epochs").disabled
    at.number_input(key="t_steps").set_value(0).run()
    at.number_input(key="t_epochs").set_value(3.0).run()
    assert "--epochs 3" in at.code[0].value and "--steps" not in at.code[0].value


def test_run_page_rejects_bad_hyperparameters(app, app_runs):
    at = goto(app, "pages/run_page.py")
    at.text_input(key="p_atwu_scorer_lr").input("fast").run()
    _ok(at)
    assert any("scorer_lr" in e.value for e in at.error)
    assert at.button(key="launch").disabled


@pytest.mark.parametrize("name", BROKEN)
def test_damaged_run_directories_give_messages(app, broken_runs, name):
    """Every page shows a damaged run with messages, not exceptions; the token page says what is
    wrong with it (one AppTest session per damage, through all the pages)."""
    at = goto(app, "pages/token_scores.py", dir=str(broken_runs), run=name)
    _ok(at)
    assert at.selectbox(key="run").value == name
    assert name in _texts(at) or name == "no-eval", _texts(at)
    if name == "corrupt-config":
        assert any("config.json is unreadable" in e.value for e in at.error)
    if name == "failed":
        assert any("Diverged: loss is nan" in e.value for e in at.error)
        # what it recorded is still shown
        assert at.select_slider(key="step").value == _steps(broken_runs / name)[-1]
    for page in ("pages/tradeoffs_page.py", "pages/comparison_page.py", "pages/run_page.py"):
        at.switch_page(page).run()
        _ok(at)
        assert at.selectbox(key="run").value == name


def test_empty_runs_directory_offers_the_demo(app, tmp_path):
    from atwu.demo import shipped_demo_dir

    assert any(shipped_demo_dir().glob("*/config.json")), "the demo bundle must ship in assets/demo"
    at = goto(app, "pages/token_scores.py", dir=str(tmp_path / "empty"))
    _ok(at)
    assert at.toggle(key="use_demo").value is True
    assert at.selectbox(key="run").value.startswith("atwu")
    assert all(label.startswith("demo · ") for label in at.selectbox(key="run").options)
    at.toggle(key="use_demo").set_value(False).run()
    _ok(at)
    assert not [s for s in at.selectbox if s.key == "run"]


def test_no_url_path_equals_a_page_file_stem():
    """Streamlit still runs a pages/ folder the old way before the first st.navigation call of a
    process (and in every AppTest run): a file whose stem equals the requested URL path would run
    directly, without app.py's router and sidebar."""
    from pages.common import PAGE_TABLE

    root = Path(__file__).resolve().parents[2]
    stems = {p.stem for p in (root / "pages").glob("*.py")}
    paths = [spec.key for spec in PAGE_TABLE]  # app.py serves each page at its key
    assert len(paths) == len(set(paths)) == 6
    assert not set(paths) & stems
    assert all((root / spec.file).is_file() for spec in PAGE_TABLE)


def test_sidebar_is_drawn_on_every_page_after_switching(app, app_runs):
    at = app.run()
    for page in PAGES:
        at.switch_page(page).run()
        _ok(at)
        assert at.sidebar.text_input(key="runs_dir").value == str(app_runs)


def test_fresh_install_home_offers_to_prepare(app, tmp_path, monkeypatch, fragment_timers):
    """No prepared benchmark: Home explains and offers the button; the job's progress shows."""
    import json
    import os

    import atwu.app.first_run as first_run
    import atwu.app.jobs as L
    from atwu.process import process_start

    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    # the prepared copy shipped with the app cannot be used here: the button prepares
    monkeypatch.setattr(first_run, "shipped_problem", lambda: "a test without it")
    started = []

    def fake_start(cli_args, job_file, out_dir):
        progress = Path(job_file).with_suffix(".progress.json")
        progress.parent.mkdir(parents=True, exist_ok=True)
        progress.write_text(json.dumps({"message": "trained model full", "fraction": 0.5}))
        Path(job_file).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "pid_start": process_start(os.getpid()),  # Cancel and status check both
                    "progress": str(progress),
                    "log": str(tmp_path / "log"),
                    "out": str(out_dir),
                }
            )
        )
        started.append(cli_args)
        return os.getpid()

    monkeypatch.setattr(L, "start_prepare", fake_start)
    at = app.run()
    _ok(at)
    assert any("not prepared yet" in w.value for w in at.warning)
    assert fragment_timers["prepare_progress"] is None  # no job: nothing to watch
    at.button(key="prepare").click().run()
    _ok(at)
    assert started == [["prepare"]]
    assert fragment_timers["prepare_progress"] is not None  # the job runs: its progress polls
    bars = at.get("progress")
    assert bars and "trained model full" in bars[0].proto.text
    assert at.button(key="prepare").disabled  # one job at a time
    # the Run page says the benchmark is missing and launches nothing
    at.switch_page("pages/run_page.py").run()
    _ok(at)
    assert any("not prepared yet" in w.value for w in at.warning)
    assert at.button(key="launch").disabled


def test_active_runs_poll_only_while_a_run_is_live(app, tmp_path, fragment_timers):
    """The Run page's Active runs list redraws itself on a timer while a run is running, and
    is drawn without one when every run listed has ended."""
    import json
    import os
    import shutil

    from atwu.app import jobs
    from atwu.app.polling import POLL_SECONDS
    from atwu.demo import shipped_demo_dir
    from atwu.runs.status import utc_now

    run = tmp_path / "runs" / "atwu-s0"
    shutil.copytree(shipped_demo_dir() / "atwu-s0", run)
    jobs.record_launch(run, pid=999_999_999, argv=["atwu"], log_path=tmp_path / "atwu.log")

    at = goto(app, "pages/run_page.py", dir=str(tmp_path / "runs"))
    _ok(at)
    assert any("`done`" in m.value for m in at.markdown if "atwu-s0" in m.value)
    assert fragment_timers["active_runs_list"] is None

    status = json.loads((run / "status.json").read_text())
    status.update(state="running", pid=os.getpid(), heartbeat_at=utc_now())
    (run / "status.json").write_text(json.dumps(status))
    at.run()
    _ok(at)
    assert any("`running`" in m.value for m in at.markdown if "atwu-s0" in m.value)
    assert fragment_timers["active_runs_list"] == POLL_SECONDS


def test_first_run_from_home_switches_the_pages_to_it(app, tmp_path, monkeypatch):
    """A fresh install: one click installs the shipped benchmark and launches the first run;
    as soon as the run exists Home shows its card and the sidebar lists it (no reload)."""
    import os
    import shutil

    import atwu.app.jobs as L
    from atwu.demo import shipped_demo_dir

    home = tmp_path / "home"
    monkeypatch.setenv("ATWU_HOME", str(home))
    launched = []

    def fake_launch(args, out, log):  # the run appears at once, finished (in the claimed dir)
        shutil.copytree(shipped_demo_dir() / "atwu-s0", out, dirs_exist_ok=True)
        L.record_launch(Path(out), pid=os.getpid(), argv=["atwu", *args], log_path=Path(log))
        launched.append(args)
        return os.getpid()

    monkeypatch.setattr(L, "launch_run", fake_launch)
    references = []
    monkeypatch.setattr(L, "launch_command", lambda args, log: references.append(args) or 1)
    at = app.run()
    _ok(at)
    assert at.toggle(key="use_demo").value is True  # no runs of your own: the demo runs
    button = at.button(key="prepare")
    assert button.label == "Install the benchmark and launch a first ATWU run"
    button.click().run()
    _ok(at)
    assert (home / "benchmarks" / "embedded" / "models" / "full").is_dir()
    assert len(launched) == 1 and "--quick" in launched[0]
    # its references at the same settings, launched with it (one process, through the executor)
    assert len(references) == 1 and references[0][0] == "references"
    assert references[0][1 : len(launched[0])] == launched[0][1:]
    assert at.selectbox(key="run").value == "atwu-default-s0"
    assert at.toggle(key="demo_beside").value is False  # your run, not the demo runs, now
    card = [m.value for m in at.markdown if "Your latest run" in m.value]
    assert card and "atwu-default-s0" in card[0]
    assert not [b for b in at.button if b.key == "prepare"]  # nothing left to install


def test_methods_are_chosen_by_name(app, app_runs):
    at = goto(app, "pages/run_page.py")
    _ok(at)
    box = at.multiselect(key="methods")
    assert "wga" in box.options and "atwu" in box.options
    # names only: typing "wga" matches WGA, not every method whose description names it
    assert all(":" not in option and " " not in option for option in box.options)
    assert [o for o in box.options if "wga" in o] == ["wga"]


def test_demo_runs_are_listed_beside_your_own(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    _ok(at)
    toggle = at.toggle(key="demo_beside")
    assert toggle.value is False
    assert not any(n.startswith("demo · ") for n in at.selectbox(key="run").options)
    toggle.set_value(True).run()
    _ok(at)
    options = at.selectbox(key="run").options  # as labelled
    assert "atwu-s0" in options and "demo · atwu-s0" in options  # names: the caption says more
    assert at.query_params["with_demo"] == "1"
    at.selectbox(key="run").set_value("demo/wga-s0").run()
    _ok(at)
    assert at.query_params["run"] == "demo/wga-s0"
    assert any("Demo runs" in c.value for c in at.caption)  # the demo's benchmark is named


def test_a_sweep_launched_from_the_run_page_is_followed_and_its_runs_listed(app, tmp_path):
    """Several runs of a method start as one `python -m atwu sweep`; the Run page shows it as
    one line with its runs, and the sidebar lists them as <sweep>/<run>."""
    import json
    import shutil

    from atwu.app import jobs
    from atwu.demo import shipped_demo_dir

    runs = tmp_path / "runs"
    sweep = runs / "wga-sweep-20260101-000000"
    for name in ("wga-beta1-s0", "wga-beta5-s0"):
        shutil.copytree(shipped_demo_dir() / "wga-s0", sweep / name)
    (sweep / "sweep.json").write_text(
        json.dumps(
            {"executor": "ray", "spec": {"method": "wga"}, "counts": {"total": 2, "done": 2}}
        )
    )
    jobs.record_launch(
        sweep, pid=999_999_999, argv=["python", "-m", "atwu", "sweep"], log_path=tmp_path / "l"
    )
    at = goto(app, "pages/run_page.py", dir=str(runs))
    _ok(at)
    line = [m.value for m in at.markdown if "wga-sweep-20260101-000000" in m.value]
    assert line and "sweep" in line[0] and "`done`" in line[0]
    assert "wga-sweep-20260101-000000/wga-beta5-s0" in at.selectbox(key="run").options[1]
    assert at.selectbox(key="live_run").value.startswith("wga-sweep-20260101-000000/")
