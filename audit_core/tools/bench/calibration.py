"""`mnemoscope bench`: calibrate this workstation once, so audits can be timed in advance.

It builds the ~20M-parameter synthetic reference decoder (bench/synthetic_lm.py), runs
it through the audit's own code (OnnxCausalLM, the shared scoring pass, greedy KV
decoding) with the session options an audit gets, and stores tokens per second for
scoring and for generation at batch 1 and 16, with the fp32 GEMM peak, in the user's
config folder; and the same scoring and batch-16 generation rates for the int8 fast
screen (models/precision.py), measured rather than assumed because its speedup depends on
the CPU (integer dot-product units or not). `estimate.py` scales these by the audited
model's FLOPs per token.
Timings are medians of repeated runs: workstations are noisy.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Where the calibration is stored, and reading it, belong to the run path (the estimate
# reads them before every audit); re-exported here for the bench command and its tests.
from audit_core.run.calibration import (
    CALIBRATION_FILE,
    CALIBRATION_FORMAT,
    calibration_path,
    config_dir,
    load_calibration,
)

__all__ = ["CALIBRATION_FILE", "CALIBRATION_FORMAT", "calibrate", "calibration_path", "config_dir",
           "load_calibration", "median_time"]

# The reference workload: records of this many tokens, generation prompt + new tokens.
RECORD_TOKENS = 64
PROMPT_TOKENS, NEW_TOKENS = 16, 32


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of `repeats` runs after one warm-up run."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def calibrate(*, threads: int = 0, provider: str = "auto", records: int = 96, repeats: int = 3,
              size=None, save: bool = True, say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Measure and (by default) store the calibration; returns it."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.passes.token_scores import score_tokens
    from audit_core.tools.bench.peak import forward_flops, gemm_peak_gflops, gemm_probe
    from audit_core.tools.bench.synthetic_lm import REFERENCE, build_synthetic_lm
    from audit_core.work.progress import Progress

    size = size or REFERENCE
    workdir = Path(tempfile.mkdtemp(prefix="mnemoscope-bench-"))
    try:
        say(f"building the reference model ({size.parameters / 1e6:.1f}M parameters, random weights)")
        info = inspect_model(build_synthetic_lm(workdir / "reference", size))
        model = OnnxCausalLM(info, threads, provider=provider)
        say("quantizing a copy to int8 (the fast screen)")
        screen = OnnxCausalLM(info, threads, provider=provider, precision="int8")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, size.vocab, RECORD_TOKENS) for _ in range(records)]
    say("timing the scoring pass")
    gemm_now = gemm_probe(model.threads)
    pairs = [(median_time(lambda: score_tokens(model, ids, batch_size=32, pad_id=0,
                                               progress=Progress()), 1), gemm_now())
             for _ in range(repeats)]  # each repeat paired with the GEMM rate beside it
    scoring = statistics.median(t for t, _ in pairs)
    generation = {}
    for batch in (1, 16, 128):  # 128: the merged generation schedule's batches (issue 21)
        say(f"timing greedy generation at batch {batch}")
        prompts = rng.integers(0, size.vocab, (batch, PROMPT_TOKENS))
        seconds = median_time(lambda: model.greedy(prompts, NEW_TOKENS), repeats)
        generation[f"batch_{batch}_tokens_per_s"] = round(batch * NEW_TOKENS / seconds, 1)
    say("timing the int8 fast screen")
    int8_scoring = median_time(lambda: score_tokens(screen, ids, batch_size=32, pad_id=0,
                                                    progress=Progress()), repeats)
    prompts = rng.integers(0, size.vocab, (16, PROMPT_TOKENS))
    int8_generation = median_time(lambda: screen.greedy(prompts, NEW_TOKENS), repeats)
    say("measuring the fp32 matrix-multiply peak")
    peak = gemm_peak_gflops(model.threads)
    flops = forward_flops(n_layer=size.n_layer, n_embd=size.n_embd, vocab=size.vocab,
                          lengths=[RECORD_TOKENS] * records)
    result = {
        "format": CALIBRATION_FORMAT,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"processor": platform.processor() or platform.machine(),
                    "platform": platform.platform(), "threads": model.threads,
                    "execution_provider": model.provider},
        "reference": {"parameters": size.parameters, "n_layer": size.n_layer, "n_embd": size.n_embd,
                      "vocab": size.vocab, "record_tokens": RECORD_TOKENS,
                      "flops_per_token": round(flops / (RECORD_TOKENS * records)),
                      "prompt_tokens": PROMPT_TOKENS, "new_tokens": NEW_TOKENS},
        "scoring_tokens_per_s": round(RECORD_TOKENS * records / scoring, 1),
        "generation": generation,
        # Read by estimate.py for plans with model.precision = "int8".
        "int8": {"scoring_tokens_per_s": round(RECORD_TOKENS * records / int8_scoring, 1),
                 "generation": {"batch_16_tokens_per_s": round(16 * NEW_TOKENS / int8_generation, 1)}},
        "gemm_peak_gflops": {k: round(v, 1) for k, v in peak.items()},
        # Against the best GEMM rate of the run (see bench.compare: the rate beside a
        # repeat reads low on a quiet machine).
        "scoring_fraction_of_peak": round(flops / scoring / 1e9 / max(peak["peak"], *(g for _, g in pairs)), 4),
    }
    if save:
        from audit_core.results.atomic import write_atomic

        calibration_path().parent.mkdir(parents=True, exist_ok=True)
        write_atomic(calibration_path(), (json.dumps(result, indent=2) + "\n").encode("utf-8"))
    return result
