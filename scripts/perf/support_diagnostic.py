"""Step-0 diagnostic of the retain-support signal (METHOD.md §1, issue 23): before any training,
does −S separate a forget set's ``specific`` fact tokens from its ``shared`` ones?

    ATWU_HOME=... .venv/bin/python scripts/perf/support_diagnostic.py                  # embedded forget10
    .venv/bin/python scripts/perf/support_diagnostic.py --benchmark companies --split forget

Loads the benchmark's ``full`` model (the starting model of every run), fills a support bank with
the answer tokens of the retain *training* split (the pairs unlearning may train on; the bank's
hidden state at the layer and position given, ATWU's scorer defaults by default), and scores each
answer token of the forget split three ways:

- ``-S``: minus the retain support S_t = Σ_r [y_r = y_t]·exp((cos(h_t, h_r) − 1)/T);
- ``1 - p_ref``: the starting model's doubt (``static_p``'s weights);
- ``-count``: minus the raw unigram count of the token id among the bank's entries (S without the
  context).

For each it prints the retain-conflict AUROC (``specific`` fact tokens against ``shared`` ones, the
labels of :func:`atwu.evaluate.alignment_metrics.retain_conflict_labels`) and, for reference, the
fact-vs-template AUROC (all fact tokens against the answer tokens outside every span), both from
:func:`atwu.evaluate.alignment_metrics.alignment_metrics`. Prints a table and one JSON line
(``{"bench": "support_diagnostic", ...}``).

When the retain-train split holds more answer tokens than ``--bank``, the bank keeps the last
``--bank`` of them (the FIFO of a run); the default is large enough for the embedded benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from atwu.benchmark import Benchmark
from atwu.data.batching import collate
from atwu.data.chat import encode_pair
from atwu.evaluate.alignment_metrics import alignment_metrics, retain_conflict_labels
from atwu.methods.atwu import layer_index
from atwu.methods.base import forward
from atwu.methods.retain_support import SupportBank, answer_tokens, pick_hidden
from atwu.models import load_model, load_tokenizer
from atwu.paths import benchmarks_dir
from atwu.train.encode import encode_example, forget_batch


def benchmark_root(name: str) -> Path:
    """A prepared benchmark's directory: a path, or a name under $ATWU_HOME/benchmarks."""
    path = Path(name).expanduser()
    return path if path.is_dir() else benchmarks_dir() / name


def fill_bank(model, tokenizer, pairs, bank: SupportBank, layer: int, at_token: bool, batch: int):
    """Append the answer tokens of ``pairs`` (in order) to the bank, as the model sees them."""
    pad = tokenizer.pad_token_id
    encoded = [encode_pair(tokenizer, p.question, p.answer) for p in pairs]
    for start in range(0, len(encoded), batch):
        b = collate(encoded[start : start + batch], pad)
        fw = forward(model, b, all_hidden=True)
        assert fw.hidden_states is not None
        bank.add(*answer_tokens(pick_hidden(fw.hidden_states, layer, at_token), b))


def forget_scores(model, tokenizer, pairs, bank: SupportBank, args, layer: int, at_token: bool):
    """Per forget answer token: −S, 1 − p_ref, −count, its label (1/0/−1) and span kind."""
    pad = tokenizer.pad_token_id
    examples = [encode_example(tokenizer, p) for p in pairs]
    bank_ids = bank.entries()[1]
    cols: dict[str, list] = {"-S": [], "1 - p_ref": [], "-count": [], "label": [], "kind": []}
    for start in range(0, len(examples), args.batch):
        chunk = examples[start : start + args.batch]
        b = forget_batch(chunk, pad)
        fw = forward(model, b, all_hidden=True)
        assert fw.hidden_states is not None
        h = pick_hidden(fw.hidden_states, layer, at_token)
        targets = b.labels[:, 1:]
        support = bank.support(h, targets.clamp(min=0), args.temp)
        count = (targets.unsqueeze(-1) == bank_ids.view(1, 1, -1)).sum(-1)
        for i, e in enumerate(chunk):
            # completion token j sits at target index prompt_len + j − 1 (as forget_batch aligns)
            lo = e.prompt_len - 1
            idx = slice(lo, lo + len(e.labels))
            cols["-S"].extend((-support[i, idx]).tolist())
            cols["1 - p_ref"].extend((1 - fw.logp[i, idx].exp()).tolist())
            cols["-count"].extend((-count[i, idx].float()).tolist())
            cols["label"].extend(e.labels)
            cols["kind"].extend(e.kinds)
    return cols


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--benchmark", default="embedded", help="a name under $ATWU_HOME/benchmarks or a path"
    )
    parser.add_argument("--split", default="forget10", help="the forget split")
    parser.add_argument("--layer", default="middle", help="'middle', 'last' or an integer")
    parser.add_argument("--position", choices=("token", "predicting"), default="token")
    parser.add_argument("--temp", type=float, default=0.1, help="support temperature T")
    parser.add_argument("--bank", type=int, default=65536, help="bank capacity (entries)")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    torch.set_grad_enabled(False)
    bench = Benchmark.load(benchmark_root(args.benchmark))
    model = load_model(bench.model_path("full")).eval()
    tokenizer = load_tokenizer(bench.model_path("full"))
    layer = layer_index(args.layer, model.config.num_hidden_layers)
    at_token = args.position == "token"
    retain_split = bench.retain_train_for(args.split)
    bank = SupportBank(args.bank, model.config.hidden_size)
    fill_bank(model, tokenizer, bench.pairs(retain_split), bank, layer, at_token, args.batch)
    cols = forget_scores(model, tokenizer, bench.pairs(args.split), bank, args, layer, at_token)

    labels = np.asarray(cols["label"])
    conflict = retain_conflict_labels(labels, cols["kind"])
    n_specific, n_shared = int((conflict == 1).sum()), int((conflict == 0).sum())
    results = {}
    for name in ("-S", "1 - p_ref", "-count"):
        rc = alignment_metrics(cols[name], conflict)
        ft = alignment_metrics(cols[name], labels)
        results[name] = {"retain_conflict_auroc": rc.auroc, "fact_template_auroc": ft.auroc}

    print(
        f"benchmark {bench.root.name}, forget split {args.split}; bank: {bank.size} answer tokens of "
        f"{retain_split} (layer {layer}, position {args.position}, T = {args.temp}); "
        f"{n_specific} specific and {n_shared} shared fact tokens"
    )
    print(f"{'score':<10} {'retain-conflict AUROC':>22} {'fact-vs-template AUROC':>23}")
    for name, r in results.items():
        print(f"{name:<10} {r['retain_conflict_auroc']:>22.3f} {r['fact_template_auroc']:>23.3f}")
    record = {
        "bench": "support_diagnostic",
        "benchmark": bench.root.name,
        "split": args.split,
        "retain_split": retain_split,
        "layer": layer,
        "position": args.position,
        "temp": args.temp,
        "bank_entries": bank.size,
        "n_specific": n_specific,
        "n_shared": n_shared,
        "auroc": {k: {m: round(v, 4) for m, v in r.items()} for k, r in results.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
