"""How the audit's cost grows with the cohort: scoring throughput and 1x/2x/4x scaling.

Run: .venv/bin/python benchmarks/scaling.py [MODEL_DIR] [CSV]
Prints tokens per second of the shared scoring pass and of extraction decoding at 1x,
2x and 4x the records, and each time as a ratio to the 1x run in the same process (the
machine is shared and noisy, so only in-process ratios mean anything). Linear growth
shows as ratios near 2 and 4.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit_core.models.inspection import inspect_model  # noqa: E402
from audit_core.models.onnx_causal_lm import OnnxCausalLM  # noqa: E402
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id  # noqa: E402
from audit_core.progress import Progress  # noqa: E402
from audit_core.scoring.token_scores import score_tokens  # noqa: E402


def main() -> None:
    model_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources/demo/model"
    csv = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "resources/demo/members.csv"
    model = OnnxCausalLM(inspect_model(model_dir))
    tokenizer = load_tokenizer(model_dir)
    base = encode_all(tokenizer, pd.read_csv(csv, dtype=str)["codes"].tolist()[:250])
    score_tokens(model, base[:32], batch_size=32, pad_id=pad_token_id(tokenizer), progress=Progress())  # warm-up

    print(f"model {model_dir} ({model.info.parameters:,} parameters), {len(base)} records at 1x")
    reference = {}
    for factor in (1, 2, 4):
        records = base * factor
        tokens = sum(len(r) for r in records)
        timings = {}
        start = time.perf_counter()
        score_tokens(model, records, batch_size=32, pad_id=pad_token_id(tokenizer), progress=Progress())
        timings["scoring"] = time.perf_counter() - start
        prompts = np.stack([r[:24] for r in records if len(r) >= 40])
        start = time.perf_counter()
        for i in range(0, len(prompts), 64):
            model.greedy(prompts[i:i + 64], 16)
        timings["extraction"] = time.perf_counter() - start
        reference.setdefault("scoring", timings["scoring"])
        reference.setdefault("extraction", timings["extraction"])
        print(f"{factor}x: {len(records):5d} records {tokens:7d} tokens | scoring "
              f"{timings['scoring']:6.2f} s = {tokens / timings['scoring']:8.0f} tok/s "
              f"(x{timings['scoring'] / reference['scoring']:.2f}) | extraction "
              f"{timings['extraction']:6.2f} s = {len(prompts) * 16 / timings['extraction']:6.0f} "
              f"generated tok/s (x{timings['extraction'] / reference['extraction']:.2f})")


if __name__ == "__main__":
    main()
