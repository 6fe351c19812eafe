"""What an export without a KV cache costs, measured on one model exported both ways
(issue 21's benchmark: "a notes control exported without KV cache against the same model
with it: time per generated token, and the estimate's error").

    python -m audit_core.tools.bench.kv_cost [--kv MODEL_DIR] [--plain MODEL_DIR] [--json]

Defaults: the committed notes control, and its KV-less copy built here
(tools/controls/kvless.py) in a temporary folder. For each export it measures

* seconds per generated token when sampling as a generating probe samples (record
  prefixes, several continuations per prompt at temperature 1 and top-p 0.95, the batch of
  the plan), with the factor between the two;
* the plan's generating probes (re-identification, extraction, elicitation on the notes
  control's cohorts) estimated as the Run step estimates them and then run
  (tools/bench/estimate.py): each probe's estimated and measured seconds, and the error;
* the factor the core announces before the run (kinds/decoding_cost.py).

Printed, never asserted (docs/speed.md); `measure_kv_cost` returns a dict for the lead's
benchmark script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

NOTES = Path(__file__).resolve().parents[3] / "resources" / "controls" / "notes"
# The sampling workload: as identifier leakage and elicitation prompt (a note's first
# tokens), continuations of this many tokens, this many per prompt, in the plan's batch.
PROMPTS, PROMPT_TOKENS, NEW_TOKENS, SAMPLES, BATCH = 64, 24, 48, 4, 32
TOP_P = 0.95
# One onnxruntime thread: on a shared machine, threads that spin waiting for a busy core
# made the same timing vary sixfold; one thread keeps the ratios (what is reported) steady.
THREADS = 1
REPEATS = 5
PROBES = ("generation", "reidentification", "extraction", "elicitation")  # "generation": the schedule's step
PLAN = """[audit]
title = "KV-cache cost ({name})"
seed = 20261205

[model]
path = "{model}"
batch_size = 32
threads = {threads}

[data]
members = "{data}/members.csv"
non_members = "{data}/non_members.csv"

[data.columns]
id = "patient_id"
sequence = "text"
kind = "text"

[probes.reidentification]
[probes.extraction]
prefix_tokens = 4
suffix_tokens = 12
[probes.elicitation]
"""


def measure_kv_cost(kv_dir: Path | None = None, plain_dir: Path | None = None, *,
                    data_dir: Path = NOTES, run_plans: bool = True) -> dict[str, Any]:
    """The figures for both exports; builds the KV-less copy of `kv_dir` when `plain_dir`
    is None. `run_plans` False skips the estimate-versus-run part (minutes on a big model)."""
    kv_dir = kv_dir or data_dir / "model"
    with tempfile.TemporaryDirectory(prefix="mnemoscope-kv-cost-") as scratch:
        if plain_dir is None:
            from audit_core.tools.controls.kvless import export_without_kv_cache

            plain_dir = export_without_kv_cache(kv_dir, Path(scratch) / "plain").out_dir
        out: dict[str, Any] = {"load_average": os.getloadavg()[0], "workload": {
            "prompts": PROMPTS, "prompt_tokens": PROMPT_TOKENS, "new_tokens": NEW_TOKENS,
            "samples": SAMPLES, "batch_size": BATCH, "top_p": TOP_P}}
        out.update(_sampling(kv_dir, plain_dir, data_dir))
        for name, folder in (("kv", kv_dir), ("plain", plain_dir)):
            if run_plans:
                out[name]["probes"] = _estimate_and_run(folder, data_dir, Path(scratch), name)
        out["measured_factor"] = out["plain"]["seconds_per_token"] / out["kv"]["seconds_per_token"]
        if run_plans:  # the generating probes' whole time, decoding and the rest
            out["plan_measured_factor"] = out["plain"]["probes"]["measured"] / out["kv"]["probes"]["measured"]
        out["announced_factor"] = _announced_factor(plain_dir, data_dir, Path(scratch))
        out["load_average_after"] = os.getloadavg()[0]
    return out


def _sampling(kv_dir: Path, plain_dir: Path, data_dir: Path) -> dict[str, dict[str, float]]:
    """Median seconds per generated token of the sampling workload on each export (their
    repeats interleaved, so a busy spell of a shared machine slows both alike), and what
    kinds/decoding_cost.py predicts for it from its rates timed on that export."""
    from audit_core.data.loading import read_table
    from audit_core.kinds.decoding_cost import PLAN, ProbeDecoding, RecomputeCost, timed_rates
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer

    models = {name: OnnxCausalLM(inspect_model(folder), THREADS)
              for name, folder in (("kv", kv_dir), ("plain", plain_dir))}
    notes = [str(t) for t in read_table(data_dir / "members.csv", ["text"])[0]["text"]]
    ids = encode_all(load_tokenizer(Path(kv_dir)), notes)
    prompts = [np.asarray(x[:PROMPT_TOKENS]) for x in ids if len(x) >= PROMPT_TOKENS][:PROMPTS]
    steps = min(NEW_TOKENS, models["kv"].context_length - PROMPT_TOKENS)
    tokens = len(prompts) * SAMPLES * steps
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {name: [] for name in models}
    for repeat in range(REPEATS + 1):  # the first round pays for the sessions' allocations
        for name, model in models.items():
            start = time.perf_counter()
            model.sample(prompts, steps, n=SAMPLES, rng=rng, top_p=TOP_P, batch_size=BATCH)
            if repeat:
                times[name].append(time.perf_counter() - start)
    out = {}
    for name, model in models.items():
        rates = timed_rates(model)
        work = (ProbeDecoding("sampling", tokens, PROMPT_TOKENS + steps / 2),)
        predicted = (RecomputeCost(work, rates, PLAN).recompute_seconds() if not model.kv_cache
                     else tokens * rates.kv_token_seconds)
        out[name] = {"seconds_per_token": statistics.median(times[name]) / tokens,
                     "predicted_seconds_per_token": predicted / tokens}
    return out


def _write_plan(model_dir: Path, data_dir: Path, scratch: Path, name: str) -> Path:
    path = scratch / f"{name}.toml"
    path.write_text(PLAN.format(name=name, model=Path(model_dir).resolve().as_posix(), threads=THREADS,
                                data=data_dir.resolve().as_posix()), encoding="utf-8")
    return path


def _estimate_and_run(model_dir: Path, data_dir: Path, scratch: Path, name: str) -> dict[str, Any]:
    """Each generating probe's estimated and measured seconds (tools/bench/estimate.py)."""
    from audit_core.tools.bench.estimate import measure_plan

    row = measure_plan(_write_plan(model_dir, data_dir, scratch, name))
    probes = {phase: {"estimate": prior, "measured": measured,
                      "error": prior / measured - 1 if measured > 0 else None}
              for phase, prior, measured in row["phases"] if phase in PROBES}
    estimate = sum(p["estimate"] for p in probes.values())
    measured = sum(p["measured"] for p in probes.values())
    # The whole audit too: where the run decodes every probe's requests in one step before
    # the probes (the generation schedule), its time is no probe's own.
    return {"by_probe": probes, "estimate": estimate, "measured": measured,
            "error": estimate / measured - 1 if measured > 0 else None, "source": row["source"],
            "audit_estimate": row["estimate"], "audit_measured": row["measured"],
            "audit_error": row["ratio"] - 1}


def _announced_factor(plain_dir: Path, data_dir: Path, scratch: Path) -> float | None:
    """The factor the plan check announces for the KV-less export (timed, no calibration)."""
    from audit_core.plan.parsing import load_plan
    from audit_core.run.decoding_notice import plan_notice

    cost = plan_notice(load_plan(_write_plan(plain_dir, data_dir, scratch, "announced")), False)
    return cost.factor if cost is not None else None


def kv_cost_figures(scratch: Path, kv_dir: Path | None = None) -> dict[str, str]:
    """The headline figures, one line each, for benchmarks/speed.py: the KV-less copy of
    `kv_dir` (default the notes control) is built under `scratch`."""
    from audit_core.tools.controls.kvless import export_without_kv_cache

    kv_dir = kv_dir or NOTES / "model"
    plain = export_without_kv_cache(kv_dir, Path(scratch) / "plain").out_dir
    f = measure_kv_cost(kv_dir, plain)
    out = {"KV-less: ms per generated token, KV / plain (predicted)":
           f"{f['kv']['seconds_per_token'] * 1e3:.3f} ({f['kv']['predicted_seconds_per_token'] * 1e3:.3f}) / "
           f"{f['plain']['seconds_per_token'] * 1e3:.3f} ({f['plain']['predicted_seconds_per_token'] * 1e3:.3f})",
           "KV-less: measured factor": f"{f['measured_factor']:.1f}x",
           "KV-less: factor announced before the run": f"{f['announced_factor'] or 0:.1f}x"}
    for name in ("kv", "plain"):
        p = f[name]["probes"]
        out[f"KV-less: {name} generation + generating probes, estimated / measured"] = (
            f"{p['estimate']:.1f} / {p['measured']:.1f} s ({p['error']:+.0%})")
    return out


def format_kv_cost(figures: dict[str, Any]) -> str:
    kv, plain = figures["kv"], figures["plain"]
    lines = [f"sampling ({figures['workload']}): {kv['seconds_per_token'] * 1e3:.3f} ms per generated "
             f"token with the KV cache (predicted {kv['predicted_seconds_per_token'] * 1e3:.3f}), "
             f"{plain['seconds_per_token'] * 1e3:.3f} ms without (predicted "
             f"{plain['predicted_seconds_per_token'] * 1e3:.3f}): {figures['measured_factor']:.1f}x; "
             f"announced before the run of the plan below: {figures['announced_factor'] or 0:.1f}x "
             f"(its probes took {figures.get('plan_measured_factor', 0):.1f}x as long); "
             f"load {figures['load_average']:.1f} -> {figures['load_average_after']:.1f}"]
    for name in ("kv", "plain"):
        if "probes" not in figures[name]:
            continue
        p = figures[name]["probes"]
        lines.append(f"{name}: whole audit estimated {p['audit_estimate']:.1f} s ({p['source']}), measured "
                     f"{p['audit_measured']:.1f} s, error {p['audit_error']:+.0%}; generating probes "
                     f"estimated {p['estimate']:.1f} s, measured {p['measured']:.1f} s, error {p['error']:+.0%}")
        for probe, row in p["by_probe"].items():
            error = f"{row['error']:+.0%}" if row["error"] is not None else "-"
            lines.append(f"  {probe:<18} estimate {row['estimate']:6.1f} s  measured "
                         f"{row['measured']:6.1f} s  error {error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kv", type=Path, help="export with a KV cache (default: the notes control)")
    parser.add_argument("--plain", type=Path, help="the same model without (default: built here)")
    parser.add_argument("--no-runs", action="store_true", help="skip estimating and running the plans")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure_kv_cost(args.kv, args.plain, run_plans=not args.no_runs)
    print(json.dumps(figures, indent=2) if args.json else format_kv_cost(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
