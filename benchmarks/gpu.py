"""The GPU path's figures: the demo model's scoring and decoding tokens/s on CUDA against
the CPU, with and without I/O binding, and fp16's agreement with fp32.

Run: .venv/bin/python benchmarks/gpu.py [--repeats 3] [--records 512] [--json OUT.json]
On a machine with a GPU it needs onnxruntime-gpu instead of onnxruntime (the same version:
`pip uninstall -y onnxruntime && pip install onnxruntime-gpu==<version>`, with a CUDA 12
driver; `nvidia-smi` shows it). Without a GPU it runs the CPU parts (I/O binding against
the plain path on the CPU provider, fp16 on the CPU) and says what it could not run.

Figures, not assertions: configurations alternate within each repeat, and ratios are the
medians of per-repeat ratios in the same process (a shared machine is noisy); `uptime`'s load is printed. Each
configuration's tokens and scores are also compared bit for bit with the plain path on the
same provider (I/O binding must change nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from audit_core.generation import GenerationSchedule, Request  # noqa: E402
from audit_core.models.device_memory import free_device_memory, row_bytes  # noqa: E402
from audit_core.models.inspection import inspect_model  # noqa: E402
from audit_core.models.onnx_causal_lm import OnnxCausalLM  # noqa: E402
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer  # noqa: E402
from audit_core.passes.precision_agreement import rank_agreement  # noqa: E402
from audit_core.passes.token_scores import score_tokens  # noqa: E402
from audit_core.work.progress import Progress  # noqa: E402

DEMO = ROOT / "resources" / "demo"
INSTALL = ("no GPU: the CUDA parts were not run. On a GPU machine: pip uninstall -y onnxruntime && "
           "pip install onnxruntime-gpu=={version} (CUDA 12 driver; check nvidia-smi)")


def records(count: int) -> list[np.ndarray]:
    import pandas as pd

    tokenizer = load_tokenizer(DEMO / "model")
    texts = [*pd.read_csv(DEMO / "members.csv")["codes"], *pd.read_csv(DEMO / "non_members.csv")["codes"]]
    return encode_all(tokenizer, list(texts[:count]))


def requests(ids: list[np.ndarray], prompts: int, n: int, steps: int) -> list[Request]:
    """Sampled continuations of the records' first 12 tokens (one left-padded group)."""
    return [Request(prompt=x[:12], steps=steps, n=n, temperature=1.0, top_p=0.95, seed=(1, i))
            for i, x in enumerate(ids[:prompts])]


def score(model: OnnxCausalLM, ids: list[np.ndarray]):
    start = time.perf_counter()
    scores = score_tokens(model, ids, batch_size=32, pad_id=0, progress=Progress())
    return sum(len(x) for x in ids) / (time.perf_counter() - start), scores


def decode(model: OnnxCausalLM, asked: list[Request]):
    schedule = GenerationSchedule(model)
    start = time.perf_counter()
    answers = schedule.generate(asked)
    return schedule.counts.row_steps / (time.perf_counter() - start), answers


def same(a, b) -> bool:
    """Bit-identical scores (TokenScores) or answers (lists of Generated)."""
    if isinstance(a, list):
        return all(np.array_equal(x.tokens, y.tokens) and np.array_equal(x.mass, y.mass) for x, y in zip(a, b))
    return all(np.array_equal(x, y) for f in ("logprobs", "means", "stds") for x, y in zip(getattr(a, f), getattr(b, f)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--records", type=int, default=512, help="demo records scored per repeat")
    parser.add_argument("--prompts", type=int, default=64, help="prompts decoded per repeat (8 rows x 32 steps each)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import onnxruntime as ort

    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    memory = free_device_memory()
    print(f"onnxruntime {ort.__version__}, providers {', '.join(ort.get_available_providers())}")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} logical CPUs")
    info = inspect_model(DEMO / "model")
    configs = {"cpu plain": ("cpu", False, "fp32"), "cpu bound": ("cpu", True, "fp32")}
    if cuda:
        configs |= {"cuda plain": ("cuda", False, "fp32"), "cuda bound": ("cuda", True, "fp32"),
                    "cuda fp16 bound": ("cuda", True, "fp16")}
    models = {name: OnnxCausalLM(info, provider=p, io_binding=b, precision=q) for name, (p, b, q) in configs.items()}
    if memory is not None:
        per_row = row_bytes(models["cpu plain"]._past_shapes, info.vocab_size or 0, info.context_length or 0)
        print(f"device memory: {memory.free / 2**30:.2f} GiB free of {memory.total / 2**30:.2f} GiB; "
              f"{per_row / 2**20:.2f} MiB per row at the full context")
    ids = records(args.records)
    asked = requests(ids, args.prompts, n=8, steps=32)
    rates: dict[str, dict[str, list[float]]] = {name: {"scoring": [], "decoding": []} for name in models}
    identical: dict[str, bool] = {}
    for _ in range(args.repeats):
        outputs = {}
        for name, model in models.items():  # alternating: the load hits every config alike
            rate, scores = score(model, ids)
            rates[name]["scoring"].append(rate)
            rate, answers = decode(model, asked)
            rates[name]["decoding"].append(rate)
            outputs[name] = (scores, answers)
        for name in models:
            if "bound" in name and "fp16" not in name:
                plain = outputs[name.replace("bound", "plain")]
                identical[name] = identical.get(name, True) and all(same(x, y) for x, y in zip(outputs[name], plain))
    figures: dict[str, object] = {"load_1min": os.getloadavg()[0], "cuda": cuda, "records": len(ids),
                                  "decoded_rows": len(asked) * 8, "steps": 32}
    for name in models:
        medians = {k: statistics.median(v) for k, v in rates[name].items()}
        figures[name] = medians
        print(f"{name:16s} scoring {medians['scoring']:10,.0f} tokens/s   decoding {medians['decoding']:10,.0f} tokens/s")
    for provider in ("cpu", "cuda") if cuda else ("cpu",):
        # The median of per-repeat ratios: a repeat's two configurations ran back to back.
        bound, plain = rates[f"{provider} bound"], rates[f"{provider} plain"]
        each = {k: sorted(b / p for b, p in zip(bound[k], plain[k])) for k in bound}
        ratio = {k: round(statistics.median(v), 3) for k, v in each.items()}
        figures[f"{provider} bound/plain"] = ratio
        figures[f"{provider} bound/plain per repeat"] = {k: [round(x, 3) for x in v] for k, v in each.items()}
        print(f"{provider}: I/O binding / plain = scoring {ratio['scoring']:.3f}x "
              f"({each['scoring'][0]:.2f}-{each['scoring'][-1]:.2f}), decoding {ratio['decoding']:.3f}x "
              f"({each['decoding'][0]:.2f}-{each['decoding'][-1]:.2f}); bit-identical: {identical[f'{provider} bound']}")
    figures["bit_identical"] = identical
    fp16 = OnnxCausalLM(info, provider="cuda" if cuda else "cpu", precision="fp16")
    reference = OnnxCausalLM(info, provider="cuda" if cuda else "cpu")
    figures["fp16_agreement"] = rank_agreement(reference, fp16, ids, pad_id=0, batch_size=32)
    print(f"fp16 agreement with fp32 ({'cuda' if cuda else 'cpu'}): {figures['fp16_agreement']}")
    if not cuda:
        plain_rate, _ = score(reference, ids)
        half_rate, _ = score(fp16, ids)
        figures["cpu fp16/fp32 scoring"] = round(half_rate / plain_rate, 3)
        print(f"cpu: fp16 / fp32 scoring = {half_rate / plain_rate:.3f}x (one run each)")
        print(INSTALL.format(version=ort.__version__))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
