"""The scaling model of docs/scaling.md: 100k patients x a 135M and a 1B model, on N CPU
workers and on one GPU, from the per-token rates benchmarks/token_rates.py measured.

Run: .venv/bin/python benchmarks/scaling_model.py RATES.json
RATES.json is what `token_rates.py --json` wrote (one thread: the rates of one core). The
work is the demo plan's (run.json of the demo, 2,000 records: 91,610 tokens scored, 3,840
prompts run, 324,064 tokens decoded) scaled to 100k patients of the same records; the
model shapes are those of SmolLM2-135M and Llama-3.2-1B. The GPU column is an assumption
(H100 SXM peak figures times an efficiency), printed as such; nothing here is measured on
a GPU.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from token_rates import fit  # noqa: E402

SCALE = 100_000 / 2_000  # the demo's 2,000 records to 100k patients
SCORED = 91_610 * SCALE
PROMPTS = 3_840 * SCALE
PROMPT_TOKENS = 24  # assumed: extraction's prefix; the other probes prompt with record prefixes
DECODED = 324_064 * SCALE
SAMPLED_SHARE = 0.95  # extraction decodes greedily (about 5% of the demo's decoded tokens)
SCORED_KV, DECODED_KV = 23, 40  # mean attention span: half a record; prompt + half a horizon
CALLS = 1_436 * SCALE  # the schedule's model calls (batches of up to 256 continuations)
ROWS_PER_CALL = DECODED / CALLS
# Measured here (sampling_distribution, 256 rows, one core): top-p sampling over the
# vocabulary in float64 costs 55-62 ns per vocabulary entry per sampled token (2.1-2.6 ms
# at 49,152 entries, 7.0-7.9 ms at 128,256); greedy (argmax) about 0.13 ns.
SAMPLE_NS_PER_ENTRY = 57.0

# Assumptions for one H100 SXM (published peaks): FP32 67 TFLOP/s (no tensor cores: the
# engine runs fp32), HBM3 3.35 TB/s, PCIe 5 x16; efficiencies are guesses, not measured.
GPU_FLOPS = 0.40 * 67e12
GPU_BYTES = 0.50 * 3.35e12
PCIE_BYTES = 25e9
GPU_CALL_SECONDS = 2e-3  # kernel launches of a 16-30 layer graph per call, host work


@dataclass(frozen=True)
class Shape:
    name: str
    parameters: float  # every weight that multiplies per token (a tied head counted once)
    layers: int
    width: int
    kv_width: int  # keys' width per layer (grouped-query attention: fewer heads)
    vocab: int

    def flops(self, kv: float) -> float:
        return 2 * self.parameters + 4 * self.layers * kv * self.width

    def kv_bytes(self, kv: float) -> float:
        return 2 * 2 * self.layers * self.kv_width * kv * 4


MODELS = (Shape("135M (SmolLM2-135M shape)", 134.5e6, 30, 576, 192, 49_152),
          Shape("1B (Llama-3.2-1B shape)", 1.236e9, 16, 2048, 512, 128_256))


def cpu_core_seconds(model: Shape, fits: dict) -> dict[str, float]:
    score = (SCORED + PROMPTS * PROMPT_TOKENS) * model.flops(SCORED_KV) / (fits["scoring"]["gflops_per_s"] * 1e9)
    decode = DECODED * (model.flops(0) / (fits["decoding"]["gflops_per_s"] * 1e9)
                        + model.kv_bytes(DECODED_KV) / (fits["decoding"]["kv_gbytes_per_s"] * 1e9))
    sample = DECODED * SAMPLED_SHARE * model.vocab * SAMPLE_NS_PER_ENTRY * 1e-9
    return {"scoring": score, "decoding": decode, "sampling": sample}


def gpu_seconds(model: Shape) -> dict[str, float]:
    tokens = SCORED + PROMPTS * PROMPT_TOKENS
    score = tokens * model.flops(SCORED_KV) / GPU_FLOPS
    decode = DECODED * (model.flops(0) / GPU_FLOPS + model.kv_bytes(DECODED_KV) / GPU_BYTES)
    # Each call's logits come back to the host (rows x vocab float32), and each call costs
    # its launches; the KV cache stays on the device (I/O binding).
    transfer = CALLS * (ROWS_PER_CALL * model.vocab * 4 / PCIE_BYTES + GPU_CALL_SECONDS)
    sample = DECODED * SAMPLED_SHARE * model.vocab * SAMPLE_NS_PER_ENTRY * 1e-9
    return {"scoring": score, "decoding": decode, "transfers and calls": transfer, "host sampling": sample}


def hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 360 else f"{seconds / 60:,.0f} min"


def main() -> None:
    rows = json.loads(Path(sys.argv[1]).read_text())["models"]
    fits = fit(rows)
    print(f"measured per core: scoring {fits['scoring']['gflops_per_s']:.1f} GFLOP/s, decoding "
          f"{fits['decoding']['gflops_per_s']:.1f} GFLOP/s + KV traffic {fits['decoding']['kv_gbytes_per_s']:.1f} GB/s")
    print(f"100k patients: {SCORED / 1e6:.2f}M tokens scored, {PROMPTS * PROMPT_TOKENS / 1e6:.2f}M prompt "
          f"tokens, {DECODED / 1e6:.1f}M tokens decoded in {CALLS:,.0f} calls")
    for model in MODELS:
        cpu = cpu_core_seconds(model, fits)
        total = sum(cpu.values())
        parts = ", ".join(f"{k} {hours(v)}" for k, v in cpu.items())
        print(f"\n{model.name}: {model.flops(SCORED_KV) / 1e9:.2f} GFLOP a token")
        print(f"  CPU, one core: {hours(total)} ({parts})")
        for workers, cores in ((1, 16), (4, 16), (16, 16)):
            # 80% per core within a worker (threads share memory bandwidth), 90% across
            # workers (the Ray path's overhead target is under 10%).
            print(f"  CPU, {workers} worker(s) x {cores} cores: {hours(total / (workers * cores * 0.8 * 0.9))}")
        gpu = gpu_seconds(model)
        device = sum(v for k, v in gpu.items() if k != "host sampling")
        print(f"  GPU (assumed H100, fp32): {hours(device)} on the device ("
              + ", ".join(f"{k} {hours(v)}" for k, v in gpu.items() if k != "host sampling")
              + f"); host-side sampling as the engine does it today adds {hours(gpu['host sampling'])} "
              f"on one core, {hours(gpu['host sampling'] / 16)} spread over 16")


if __name__ == "__main__":
    main()
