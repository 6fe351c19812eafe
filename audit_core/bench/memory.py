"""Peak memory of the shared scoring pass as the cohort grows (one subprocess per size).

Each size runs in a fresh interpreter, so its peak resident set (VmHWM) belongs to
that size alone. The child does what an audit does with a cohort of N
records: encodes the text with the model's tokenizer, runs the shared scoring pass
and reduces every record to the probes' per-record scores; it prints one JSON line.

    python -m audit_core.bench.memory RECORDS   (child; prints {"records": ..., ...})
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MIN_TOKENS, MAX_TOKENS = 16, 48


def _rss_mb() -> float:
    """Peak resident set of this process, in MiB.

    VmHWM first: Linux carries ru_maxrss across exec, so a child started by a large
    parent (torch and two models in `bench --compare`) would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(records: int, *, seed: int = 0) -> dict[str, float | int]:
    """Run in the current process: best called in a fresh one (see `measure_in_subprocess`)."""
    from audit_core.bench.synthetic_lm import SMALL, build_synthetic_lm
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
    from audit_core.progress import Progress
    from audit_core.scoring.token_scores import score_tokens

    with tempfile.TemporaryDirectory(prefix="mnemoscope-membench-") as folder:
        info = inspect_model(build_synthetic_lm(Path(folder), SMALL))
        model = OnnxCausalLM(info, provider="cpu")
        tokenizer = load_tokenizer(info.folder)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_TOKENS, MAX_TOKENS + 1, records)
    texts = [" ".join(f"t{t}" for t in rng.integers(0, SMALL.vocab, n)) for n in lengths]
    model.logits(np.zeros((1, 2), dtype=np.int64), np.ones((1, 2), dtype=np.int64))
    baseline = _rss_mb()
    start = time.perf_counter()
    token_ids = encode_all(tokenizer, texts)
    scores = score_tokens(model, token_ids, batch_size=32, pad_id=0, progress=Progress())
    # What the probes keep: one number per record (loss, Min-20%).
    losses = np.array([lp.mean() for lp in scores.logprobs])
    lowest = np.array([np.sort(lp)[: max(1, len(lp) // 5)].mean() for lp in scores.logprobs])
    assert len(losses) == len(lowest) == records
    return {"records": records, "tokens": int(sum(len(x) for x in token_ids)),
            "baseline_mb": round(baseline, 1), "peak_mb": round(_rss_mb(), 1),
            "text_mb": round(sum(len(t) for t in texts) / 2 ** 20, 1),
            "seconds": round(time.perf_counter() - start, 1)}


def measure_in_subprocess(records: int, timeout: float = 1800) -> dict[str, float | int]:
    done = subprocess.run([sys.executable, "-m", "audit_core.bench.memory", str(records)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory benchmark for {records} records failed: "
                           f"{done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
