"""Run: choose a benchmark, a model, methods and their hyperparameters; launch `python -m atwu run`
in the background and watch the active runs (progress, live curves, status, cancel)."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import streamlit as st

from atwu.app import jobs as L
from atwu.app.benchmarks import benchmark_summary
from atwu.app.run_form import param_overrides, param_specs, train_specs
from atwu.app.run_list import progress_of
from atwu.config import TrainSettings
from atwu.methods.base import MethodError
from atwu.methods.registry import all_methods
from atwu.params import as_text
from atwu.paths import atwu_home, benchmarks_dir, default_benchmark_dir, safe_name
from atwu.runs.read import read_run
from atwu.viz.training_figures import auroc_over_steps, loss_curves
from pages import common

ctx = common.context()
out_root = ctx.user_root  # new runs never go into the (read-only) demo bundle

st.title("Run")
st.caption(
    f"This machine trains on: **{common.device_text()}** · new runs are written to `{out_root}`"
)

# ---------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------
st.subheader("1 · Benchmark")
OTHER, UPLOAD = "another prepared directory…", "your own files (upload JSON Lines)…"
TOFU, RWKU = "TOFU (hub dataset locuslab/TOFU)", "RWKU (hub dataset jinzhuoran/RWKU)"
prepared = (
    sorted(p for p in benchmarks_dir().glob("*") if (p / "manifest.json").is_file())
    if benchmarks_dir().is_dir()
    else []
)
default_dir = default_benchmark_dir()
bench_options = (
    [str(default_dir)]
    + [str(p) for p in prepared if p != default_dir]
    + [OTHER, UPLOAD, TOFU, RWKU]
)


def _bench_label(option: str) -> str:
    if option in (OTHER, UPLOAD, TOFU, RWKU):
        return option
    path = Path(option)
    tag = "embedded (default)" if path == default_dir else path.name
    ready = "" if (path / "manifest.json").is_file() else " — not prepared yet"
    return f"{tag}{ready}"


common.seed("bench_choice", None, valid=lambda v: v in bench_options, default=bench_options[0])
choice = st.selectbox("Benchmark", bench_options, key="bench_choice", format_func=_bench_label)
bench_path: Path | None = None
hub_bench: str | None = None  # "tofu" / "rwku": converted by the CLI, no prepared directory
hub_extra: list[str] = []
hub_split: str | None = None
if choice in (TOFU, RWKU):
    hub_bench = "tofu" if choice == TOFU else "rwku"
    st.caption(
        "Converted from the hub (needs the network on first use) or from a local copy of "
        "the dataset's files; it has no model of its own: give one under Model below. "
        "See docs/REAL_BENCHMARKS.md."
    )
    h1, h2 = st.columns(2)
    data_dir = h1.text_input("Local copy of the dataset (optional)", key="hub_data_dir").strip()
    if data_dir:
        hub_extra += ["--data-dir", data_dir]
    if hub_bench == "tofu":
        hub_split = h2.selectbox(
            "Forget split", ["forget01", "forget05", "forget10"], index=2, key="hub_split"
        )
    else:
        targets = h2.text_input(
            "Targets (RWKU numbers, e.g. 1-10)", value="1", key="hub_targets"
        ).strip()
        if targets:
            hub_extra += ["--targets", targets]
elif choice == OTHER:
    text = st.text_input(
        "Prepared benchmark directory",
        key="bench_path",
        placeholder="/path/to/benchmark (holds manifest.json)",
    )
    bench_path = Path(text).expanduser() if text.strip() else None
elif choice == UPLOAD:
    st.markdown(
        "Two JSON Lines files of question–answer pairs (one object per line: "
        '`{"id", "question", "answer"}`, optional `"spans": [[start, end, label], '
        "...]`). They are turned into a benchmark with its own tiny models (a few "
        "minutes), then it appears in the list above."
    )
    c1, c2 = st.columns(2)
    forget_file = c1.file_uploader("Forget pairs", type=["jsonl", "json"], key="up_forget")
    retain_file = c2.file_uploader("Retain pairs", type=["jsonl", "json"], key="up_retain")
    up_name = st.text_input(
        "Benchmark name",
        key="up_name",
        help="Letters, digits, '.', '-', '_' (anything else becomes '-').",
    )
    job_file = atwu_home() / ".app" / "prepare-upload.json"
    if st.button(
        "Prepare this benchmark", key="up_prepare", disabled=not (forget_file and retain_file)
    ):
        name = safe_name(up_name or Path(forget_file.name).stem, fallback="my-benchmark")
        target = benchmarks_dir() / name
        if target.exists():
            st.error(
                f"A benchmark named `{name}` already exists at `{target}`; choose another name."
            )
        else:
            upload_dir = atwu_home() / "uploads" / name
            upload_dir.mkdir(parents=True, exist_ok=True)
            # Uploaded names are never used in paths: the files get fixed names.
            (upload_dir / "forget.jsonl").write_bytes(forget_file.getvalue())
            (upload_dir / "retain.jsonl").write_bytes(retain_file.getvalue())
            job_file.parent.mkdir(parents=True, exist_ok=True)
            L.start_prepare(
                [
                    "prepare",
                    "--forget",
                    str(upload_dir / "forget.jsonl"),
                    "--retain",
                    str(upload_dir / "retain.jsonl"),
                ],
                job_file,
                target,
            )
            st.success(f"Preparing `{name}`…")

    @st.fragment(run_every=2)
    def upload_progress() -> None:
        job = L.prepare_status(job_file)
        if job is None:
            return
        name = Path(job["out"]).name
        if job["state"] == "done":
            st.success(f"Benchmark `{name}` is ready: pick it in the Benchmark list above.")
            if st.button("Refresh the list", key="up_refresh"):
                st.rerun()
        elif job["state"] == "failed":
            st.error(
                f"Preparing `{name}` failed. The end of its log (the first lines name the "
                "file and line at fault):"
            )
            st.code(L.log_tail(job["log"], 15) or "(empty log)", language="text")
        else:
            st.progress(min(1.0, job["fraction"]), text=f"Preparing `{name}`: {job['message']}")

    upload_progress()
else:
    bench_path = Path(choice)

bench = benchmark_summary(bench_path) if bench_path else None
split = None
if bench_path is not None and bench is None:
    if bench_path == default_dir:
        st.warning(
            "The embedded benchmark is not prepared yet: prepare it on the Home page "
            "(or run `python -m atwu prepare`)."
        )
        st.page_link(common.PAGES["home"], label="Go to Home", icon=":material/home:")
    else:
        st.error(
            f"`{bench_path}` is not a prepared benchmark (no readable manifest.json). "
            "Prepare one with `python -m atwu prepare --forget F --retain R --out DIR`."
        )
elif bench is not None:
    splits = list(bench["forget_splits"]) or [bench["default_split"]]
    c1, c2 = st.columns([1, 3])
    with c1:
        common.seed(
            "split",
            None,
            valid=lambda v: v in splits,
            default=bench["default_split"] if bench["default_split"] in splits else splits[0],
        )
        split = st.selectbox("Forget split", splits, key="split")
    with c2:
        n = bench["splits"].set_index("split")["examples"].get(split)
        st.caption(
            f"{bench['name']} ({bench['kind']}): {n} forget pairs; retain model "
            f"`{bench['forget_splits'].get(split, '?')}`."
        )

# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
st.subheader("2 · Model")
MODEL_KINDS = ["the benchmark's target model (full)", "a Hugging Face hub id", "a local path"]
model_kind = st.radio("Starting model", MODEL_KINDS, key="model_kind", horizontal=True)
model_arg: str | None = None
if model_kind != MODEL_KINDS[0]:
    hint = (
        "e.g. open-unlearning/tofu_Llama-3.2-1B-Instruct_full"
        if model_kind == MODEL_KINDS[1]
        else "/path/to/a/save_pretrained/model"
    )
    model_arg = st.text_input("Model", key="model_id", placeholder=hint).strip() or None
    if model_kind == MODEL_KINDS[1]:
        st.caption(
            "A hub model is downloaded on first use (this needs the network) and must "
            "share the benchmark's tokenizer conventions; the embedded benchmark's tiny "
            "models are the offline default."
        )

# ---------------------------------------------------------------------------------------------
# Methods and hyperparameters
# ---------------------------------------------------------------------------------------------
st.subheader("3 · Methods and settings")
methods = all_methods()
names = sorted(methods)
common.seed(
    "methods", None, valid=lambda v: isinstance(v, list) and set(v) <= set(names), default=["atwu"]
)
chosen = st.multiselect(
    "Methods (one run per method and seed)",
    names,
    key="methods",
    format_func=lambda m: f"{m}: {methods[m].summary}",
)

values: dict[str, dict] = {}
for method in chosen:
    with st.expander(f"{method} hyperparameters", expanded=len(chosen) == 1):
        st.caption(methods[method].summary)
        specs = param_specs(method)
        cols = st.columns(3)
        values[method] = {}
        for i, spec in enumerate(specs):
            key = f"p_{method}_{spec.name}"
            with cols[i % 3]:
                label, help_text = spec.name, f"{spec.help} (default: {as_text(spec.default)})"
                if spec.kind == "bool":
                    v = st.checkbox(label, value=bool(spec.default), key=key, help=help_text)
                elif spec.kind == "int":
                    v = st.number_input(
                        label, value=int(spec.default), step=1, key=key, help=help_text
                    )
                elif spec.kind == "choice":
                    v = st.selectbox(
                        label,
                        list(spec.choices),
                        index=list(spec.choices).index(spec.default),
                        key=key,
                        help=help_text,
                    )
                else:  # float, str and anything else: typed as text, parsed by the registry
                    v = st.text_input(label, value=as_text(spec.default), key=key, help=help_text)
                values[method][spec.name] = v

st.markdown("**Training**")
train = {s.name: s for s in train_specs()}
c = st.columns(4)
steps_given = st.session_state.get("t_steps", 0) > 0  # steps replace epochs: grey the epochs out
epochs = c[0].number_input(
    "epochs",
    min_value=0.1,
    value=float(train["epochs"].default),
    step=1.0,
    key="t_epochs",
    help=train["epochs"].help,
    disabled=steps_given,
)
steps = c[1].number_input(
    "steps",
    min_value=0,
    value=int(train["steps"].default),
    step=10,
    key="t_steps",
    help=train["steps"].help,
)
lr_text = c[2].text_input(
    "lr", value=as_text(train["lr"].default), key="t_lr", help=train["lr"].help
)
ckpt = c[3].number_input(
    "checkpoint_every",
    min_value=0,
    value=int(train["checkpoint_every"].default),
    step=5,
    key="t_ckpt",
    help=train["checkpoint_every"].help,
)
if split is not None and bench is not None and hub_bench is None:
    n_forget = int(n or 0)  # the split's pair count, read for the caption above
    length = TrainSettings(epochs=float(epochs), steps=int(steps) or None)
    st.caption(
        f"Run length: {length.total_steps(n_forget)} steps "
        + (
            f"({epochs:g} passes over the {n_forget} pairs of {split}, batch "
            f"{length.forget_batch_size})."
            if not steps
            else "(steps given; epochs ignored)."
        )
    )
c = st.columns(5)
seed0 = c[0].number_input(
    "seed", min_value=0, value=0, step=1, key="t_seed", help="random seed of the first run"
)
n_seeds = c[1].number_input(
    "seeds per method",
    min_value=1,
    max_value=10,
    value=1,
    step=1,
    key="t_nseeds",
    help="runs seed, seed+1, ... (mean ± std on the Method comparison page)",
)
device = c[2].selectbox(
    "device",
    ["auto", "cpu", "cuda"],
    key="t_device",
    help="auto: CUDA with bf16 when there is a GPU, CPU otherwise",
)
quick = c[3].checkbox(
    "quick evaluation",
    value=False,
    key="t_quick",
    help="evaluate the model only at step 0 and at the end (token weights and "
    "their alignment are still recorded at every checkpoint)",
)
evaluate = c[4].checkbox(
    "evaluate", value=True, key="t_eval", help="off: --no-eval (no forget quality / utility)"
)
prefix = st.text_input(
    "Run name prefix (optional)",
    key="t_name",
    help="runs are named <prefix><method>-s<seed>-<time>",
)

# Build the commands (and say what is wrong before anything starts): `missing` are choices still
# to make, `errors` are values that would not run.
errors: list[str] = []
missing: list[str] = []
commands: list[tuple[str, list[str]]] = []
try:
    lr = float(lr_text)
    if lr <= 0:
        raise ValueError
except ValueError:
    errors.append(f"lr must be a positive number, got {lr_text!r}")
    lr = None
if not chosen:
    missing.append("choose at least one method")
if bench is None and hub_bench is None:
    missing.append("choose a prepared benchmark")
if hub_bench is not None and model_kind == MODEL_KINDS[0]:
    errors.append(
        f"{hub_bench.upper()} has no model of its own: choose a hub id or a local path under Model"
    )
if model_kind != MODEL_KINDS[0] and not model_arg:
    missing.append("type the model's hub id or path, or use the benchmark's target model")
if model_kind == MODEL_KINDS[2] and model_arg and not Path(model_arg).expanduser().is_dir():
    errors.append(f"model path {model_arg} does not exist")
stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
for method in chosen:
    try:
        overrides = param_overrides(method, values[method])
    except (MethodError, ValueError, TypeError) as exc:
        errors.append(str(exc))
        continue
    for k in range(int(n_seeds)):
        seed = int(seed0) + k
        if hub_bench is not None:
            bench_arg, split_arg = hub_bench, hub_split
        else:
            bench_arg = None if bench_path in (None, default_dir) else str(bench_path)
            split_arg = split if bench and split != bench["default_split"] else None
        args = L.build_run_args(
            method,
            benchmark=bench_arg,
            split=split_arg,
            model=model_arg,
            extra=hub_extra,
            # steps > 0 replaces epochs; epochs are passed only when changed (shorter commands)
            steps=int(steps) or None,
            epochs=None if steps or epochs == train["epochs"].default else epochs,
            lr=lr,
            checkpoint_every=int(ckpt) or None,
            seed=seed,
            device=None if device == "auto" else device,
            params=overrides,
            quick=quick,
            evaluate=evaluate,
        )
        commands.append((safe_name(f"{prefix}{method}-s{seed}-{stamp}"), args))

for e in errors:
    st.error(e)
if missing:
    st.info("To launch: " + "; ".join(missing) + ".")
if commands and not errors and not missing:
    preview = "\n".join(
        "python -m atwu " + shlex.join(a) + f" --out {out_root / name}" for name, a in commands[:4]
    )
    more = f"\n# … and {len(commands) - 4} more" if len(commands) > 4 else ""
    st.code(preview + more, language="bash")

# A launch reruns the script (so the sidebar picks up the new runs directory); its messages are
# carried over the rerun in session state and shown once here.
for level, text in st.session_state.pop("launch_messages", []):
    (st.success if level == "success" else st.error)(text)

if st.button(
    f"Launch {len(commands)} run{'s' if len(commands) != 1 else ''}",
    key="launch",
    type="primary",
    disabled=bool(errors or missing) or not commands,
):
    out_root.mkdir(parents=True, exist_ok=True)
    launched = []
    messages: list[tuple[str, str]] = []
    for name, args in commands:
        out = L.fresh_run_dir(out_root, name)
        try:
            L.launch_run(args, out, L.log_path_for(out_root, out.name))
            launched.append(out.name)
        except (L.LaunchError, OSError) as exc:
            messages.append(("error", f"Could not start {name}: {exc}"))
    if launched:
        messages.append(
            ("success", f"Launched {', '.join(launched)}. They appear under Active runs below.")
        )
        st.session_state["launch_messages"] = messages
        st.rerun()
    for _level, text in messages:
        st.error(text)

# ---------------------------------------------------------------------------------------------
# Active runs (polled every 2 s)
# ---------------------------------------------------------------------------------------------
st.subheader("4 · Active runs")


@st.fragment(run_every=2)
def active_runs() -> None:
    launches = L.list_launches(out_root)
    paths = {Path(rec["run_dir"]): rec for rec in launches}
    # Runs started from the command line into this directory show up too.
    if out_root.is_dir():
        for child in out_root.iterdir():
            if child not in paths and (child / "status.json").is_file():
                info = read_run(child)
                if info.state in ("queued", "running"):
                    paths[child] = {}
    if not paths:
        st.caption(
            "No runs launched from here yet. Launched runs are listed here while they "
            "run and after they end, until you clear them."
        )
        return
    live = []
    for path, rec in paths.items():
        info = read_run(path) if path.is_dir() else None
        pid = (info.status.get("pid") if info and info.status else None) or rec.get("pid")
        alive = L.is_alive(pid)
        state = info.state if info and info.status else ("queued" if alive else "failed")
        if state in ("queued", "running") and not alive and pid and rec:
            state = "failed"  # the process is gone without saying so
        with st.container(border=True):
            top = st.columns([4, 1, 1])
            top[0].markdown(f"**{path.name}** · {info.method if info else '?'} · `{state}`")
            if state in ("queued", "running"):
                live.append(path)
                if top[1].button("Cancel", key=f"cancel_{path.name}"):
                    result = L.cancel_run(path)
                    (st.toast if result.sent else st.warning)(result.message)
            else:
                if top[1].button(
                    "Clear",
                    key=f"clear_{path.name}",
                    help="remove it from this list (the run directory stays)",
                ):
                    L.forget_launch(path)
                    st.rerun(scope="fragment")
            if state == "done":
                top[2].page_link(
                    common.PAGES["tokens"], label="Token scores", query_params={"run": path.name}
                )
            if info and info.status:
                st.progress(
                    progress_of(info),
                    text=(
                        f"step {info.status.get('step', 0)}/{info.status.get('total_steps', '?')}"
                        f" · {info.status.get('message', '')}"
                        f" · device {(info.config.get('resolved') or {}).get('device', '?')}"
                    ),
                )
            if state == "failed":
                message = info.status.get("message") if info and info.status else ""
                st.error(
                    f"Failed: {message or 'the process ended before writing its status'}. "
                    "The end of its log:"
                )
                st.code(
                    L.log_tail(rec.get("log") or L.log_path_for(out_root, path.name), 12)
                    or "(no log)",
                    language="text",
                )
            elif rec.get("log"):
                with st.expander("Log"):
                    st.code(L.log_tail(rec["log"], 15) or "(empty)", language="text")
    watch = [p for p in paths if p.is_dir()]
    if watch:
        names = [p.name for p in watch]
        default = live[0].name if live else names[0]
        if st.session_state.get("live_run") not in names:
            st.session_state["live_run"] = default
        pick = st.selectbox("Live curves of", names, key="live_run")
        path = next(p for p in watch if p.name == pick)
        m, err = common.train_log(path)
        e, err2 = common.evals(path)
        left, right = st.columns(2)
        if err or err2:
            st.warning(f"Could not read the curves of {pick}: {err or err2}")
        else:
            left.plotly_chart(loss_curves(m), key="live_loss")
            if e is not None and not e.empty and "auroc" in e.columns:
                right.plotly_chart(auroc_over_steps(e.assign(run=pick)), key="live_auroc")
            else:
                right.caption("Alignment AUROC appears after the first checkpoint.")


active_runs()
