"""How the audit's cost grows with the cohort: scoring throughput and 1x/2x/4x scaling.

Run: .venv/bin/python benchmarks/scaling.py
On the demo model and the first 250, 500 and 1,000 records of each demo cohort, prints
tokens per second of the shared scoring pass, of extraction decoding, and the wall time
of a whole audit (run_audit), each as a ratio to the 1x run in the same process (the
machine is shared and noisy, so only in-process ratios mean anything). Linear growth
shows as ratios near 2 and 4.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit_core.models.inspection import inspect_model  # noqa: E402
from audit_core.models.onnx_causal_lm import OnnxCausalLM  # noqa: E402
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id  # noqa: E402
from audit_core.passes.token_scores import score_tokens  # noqa: E402
from audit_core.work.progress import Progress  # noqa: E402

DEMO = ROOT / "resources/demo"


def main() -> None:
    model_dir = DEMO / "model"
    model = OnnxCausalLM(inspect_model(model_dir))
    tokenizer = load_tokenizer(model_dir)
    frames = {name: pd.read_csv(DEMO / f"{name}.csv", dtype=str) for name in ("members", "non_members")}
    texts = frames["members"]["codes"].tolist()
    score_tokens(model, encode_all(tokenizer, texts[:32]), batch_size=32,
                 pad_id=pad_token_id(tokenizer), progress=Progress())  # warm-up

    print(f"demo model ({model.info.parameters:,} parameters), 250 records per cohort at 1x")
    reference = {}
    for factor in (1, 2, 4):
        records = encode_all(tokenizer, texts[:250 * factor])
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
        timings["audit"] = _whole_audit(frames, 250 * factor)
        for key, value in timings.items():
            reference.setdefault(key, value)
        print(f"{factor}x: {len(records):5d} records {tokens:7d} tokens | scoring "
              f"{timings['scoring']:5.2f} s = {tokens / timings['scoring']:6.0f} tok/s "
              f"(x{timings['scoring'] / reference['scoring']:.2f}) | decoding "
              f"{len(prompts) * 16 / timings['extraction']:6.0f} tok/s "
              f"(x{timings['extraction'] / reference['extraction']:.2f}) | whole audit of both cohorts "
              f"{timings['audit']:5.2f} s (x{timings['audit'] / reference['audit']:.2f})")


def _whole_audit(frames: dict[str, pd.DataFrame], rows: int) -> float:
    from audit_core.plan.parsing import load_plan
    from audit_core.run.runner import run_audit

    with tempfile.TemporaryDirectory() as folder:
        for name, frame in frames.items():
            frame.head(rows).to_csv(Path(folder) / f"{name}.csv", index=False)
        plan_text = (DEMO / "plan.toml").read_text().replace('path = "model"', f'path = "{DEMO / "model"}"')
        (Path(folder) / "plan.toml").write_text(plan_text)
        plan = load_plan(Path(folder) / "plan.toml")
        start = time.perf_counter()
        run_audit(plan)
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
