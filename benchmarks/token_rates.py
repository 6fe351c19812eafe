"""Per-token rates of scoring and decoding against model size: the input of docs/scaling.md.

Run: .venv/bin/python benchmarks/token_rates.py [--threads 1] [--json out.json]
Exports GPT-2-style models with random weights (transformers' GPT2Config through the
controls exporter, audit_core/tools/controls/export.py: the same graph and KV contract as
a real export) of about 1M, 10M and 40M parameters, and times on each, through the code
the audit runs (OnnxCausalLM, score_tokens, the greedy KV loop of models/batch_decoding),
the fastest of five repeats each, in CPU seconds at one thread (a shared machine's
other jobs then cost no time):

- scoring: seconds per token of the shared pass, records of 64 and of 256 tokens;
- decoding: seconds per decoded token (one row, one step) at a batch of 64 rows, with a
  KV cache of about 48 and of about 240 positions (the prompt's prefill timed apart).

It prints the rates and least-squares fits (`fit`): scoring time per token against its
forward FLOPs (2 x the parameters that multiply per token, plus the attention's), decoding
time per token against its matrix FLOPs and the KV cache's bytes per step; docs/scaling.md
extrapolates them to 135M and 1B models. One thread
(`--threads 1`) gives the rate of one CPU worker; the machine is shared, so the script
prints the load average with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_TOKENIZER = ROOT / "resources/demo/model/tokenizer.json"
VOCAB = 8192  # the model's output (the demo tokenizer's ids sit below it)
CONTEXT = 320
# (name, n_embd, n_layer, n_head): about 1M, 10M and 40M parameters with VOCAB.
SIZES = (("1M", 96, 4, 4), ("10M", 320, 7, 8), ("40M", 512, 12, 8))
SCORE_LENGTHS = (64, 256)
SCORE_RECORDS = 64
DECODE_ROWS = 64
DECODE_STEPS = 32
DECODE_PROMPTS = (32, 224)  # the KV length is about prompt + steps / 2
REPEATS = 5
THREADS = [1]  # set from --threads


def build(folder: Path, n_embd: int, n_layer: int, n_head: int) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from audit_core.tools.controls.export import export_model

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=CONTEXT, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head, bos_token_id=2, eos_token_id=3)
    export_model(GPT2LMHeadModel(config), DEMO_TOKENIZER, folder)
    return folder


def flops_per_token(parameters: int, n_embd: int, n_layer: int, kv_length: float) -> float:
    """Forward FLOPs per token: 2 per weight that multiplies (the position table does not),
    plus the attention's scores and weighted sum over `kv_length` positions."""
    return 2.0 * (parameters - CONTEXT * n_embd) + 4.0 * n_layer * kv_length * n_embd


def best_seconds(work) -> float:
    """The fastest of REPEATS runs, in this process's CPU seconds when it runs one thread
    (onnxruntime then computes on the calling thread): on a shared machine other jobs take
    turns on the core, which wall time counts and CPU time does not; with more threads,
    wall time (their spinning would count as CPU time)."""
    clock = time.process_time if THREADS[0] == 1 else time.perf_counter
    times = []
    for _ in range(REPEATS):
        start = clock()
        work()
        times.append(clock() - start)
    return min(times)


def measure(folder: Path, threads: int) -> dict:
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.passes.token_scores import score_tokens
    from audit_core.work.progress import Progress

    model = OnnxCausalLM(inspect_model(folder), threads, provider="cpu")
    rng = np.random.default_rng(0)
    out: dict = {"parameters": model.info.parameters, "scoring": {}, "decoding": {}}
    for length in SCORE_LENGTHS:
        records = [rng.integers(4, 500, length) for _ in range(SCORE_RECORDS)]
        score_tokens(model, records[:4], batch_size=32, pad_id=0, progress=Progress())
        seconds = best_seconds(lambda: score_tokens(model, records, batch_size=32, pad_id=0,
                                                      progress=Progress()))
        out["scoring"][length] = seconds / (length * SCORE_RECORDS)
    for prompt in DECODE_PROMPTS:
        prompts = rng.integers(4, 500, (DECODE_ROWS, prompt))
        model.greedy(prompts[:4], 2)
        # The prompt's prefill (a scoring-like pass) is timed alone and taken away: what
        # is left is the per-step cost at this KV length.
        prefill = best_seconds(lambda: model.greedy(prompts, 1))
        seconds = best_seconds(lambda: model.greedy(prompts, DECODE_STEPS + 1)) - prefill
        out["decoding"][prompt + DECODE_STEPS // 2] = seconds / (DECODE_ROWS * DECODE_STEPS)
    return out


def fit(rows: list[dict]) -> dict:
    """Least squares over the measured points: scoring time per token against its forward
    FLOPs (no intercept: the smallest model's per-call costs would otherwise swing it), and
    decoding time per token against its matrix FLOPs and the bytes of KV cache a step
    reads and writes (each step concatenates the past with the new position: 2 x layers x
    width x KV length floats in and out), which is what grows with the KV length on a CPU."""
    score_x, score_y, dec_x, dec_y = [], [], [], []
    for row in rows:
        p, d, layers = row["parameters"], row["n_embd"], row["n_layer"]
        for length, seconds in row["scoring"].items():
            # A scored record attends to half its length on average.
            score_x.append(flops_per_token(p, d, layers, int(length) / 2))
            score_y.append(seconds)
        for kv, seconds in row["decoding"].items():
            dec_x.append([flops_per_token(p, d, layers, 0), kv_bytes_per_token(d, layers, int(kv))])
            dec_y.append(seconds)
    (per_flop,), *_ = np.linalg.lstsq(np.array(score_x)[:, None], np.array(score_y), rcond=None)
    (dec_flop, dec_byte), *_ = np.linalg.lstsq(np.array(dec_x), np.array(dec_y), rcond=None)
    return {"scoring": {"gflops_per_s": 1e-9 / per_flop},
            "decoding": {"gflops_per_s": 1e-9 / dec_flop, "kv_gbytes_per_s": 1e-9 / dec_byte}}


def kv_bytes_per_token(n_embd: int, n_layer: int, kv_length: int) -> float:
    """float32 keys and values of every layer at `kv_length`, read and written once a step."""
    return 2 * 2 * n_layer * n_embd * kv_length * 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--models", type=Path, help="keep the exports here (reused when present)")
    parser.add_argument("--refit", type=Path, help="fit the rates a previous --json saved (no timing)")
    args = parser.parse_args()
    THREADS[0] = args.threads
    if args.refit:
        rows = json.loads(args.refit.read_text())["models"]
    else:
        rows = []
        with tempfile.TemporaryDirectory(prefix="mnemoscope-rates-") as name:
            for label, n_embd, n_layer, n_head in SIZES:
                folder = (args.models or Path(name)) / label
                if not (folder / "model.onnx").is_file():
                    build(folder, n_embd, n_layer, n_head)
                measured = measure(folder, args.threads)
                measured.update(name=label, n_embd=n_embd, n_layer=n_layer)
                rows.append(measured)
    for row in rows:
        print(f"{row['name']:>4s} {row['parameters']:11,d} parameters | scoring "
              + " ".join(f"{1 / s:8,.0f} tok/s @{n}" for n, s in row["scoring"].items())
              + " | decoding (batch 64) "
              + " ".join(f"{1 / s:7,.0f} tok/s @KV{n}" for n, s in row["decoding"].items()), flush=True)
    fits = fit(rows)
    print(f"fit scoring : {fits['scoring']['gflops_per_s']:.1f} GFLOP/s of forward FLOPs per token")
    print(f"fit decoding: {fits['decoding']['gflops_per_s']:.1f} GFLOP/s of matrix FLOPs, plus the KV "
          f"cache's traffic at {fits['decoding']['kv_gbytes_per_s']:.1f} GB/s")
    load = os.getloadavg()
    print(f"threads {args.threads}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json and not args.refit:
        args.json.write_text(json.dumps({"threads": args.threads, "models": rows, "fits": fits,
                                         "load": load}, indent=1, default=str))


if __name__ == "__main__":
    main()
