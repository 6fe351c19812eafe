"""Peak memory of a whole audit as the cohort grows (one subprocess per size).

Each size runs in a fresh interpreter, so its peak resident set (VmHWM) belongs to that
size alone. The child does what `mnemoscope run` does with two CSV files of N/2 records
each: reads and checks them, runs the model-free split check, encodes the records, runs
the streamed scoring pass (scoring/chunked.py) with the five token-level membership
probes, and writes results.json, records.csv and the PDF report; it prints one JSON line.

    python -m audit_core.tools.bench.memory RECORDS   (child; prints {"records": ..., ...})
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


# The probes that read the shared scoring pass; none decodes, so the pass is the work.
_PROBES = ("loss", "zlib", "min_k", "min_k_plus_plus", "rmia")


def measure(records: int, *, seed: int = 0) -> dict[str, float | int]:
    """Run in the current process: best called in a fresh one (see `measure_in_subprocess`)."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.plan.parsing import load_plan
    from audit_core.run.outputs import write_outputs
    from audit_core.run.runner import run_audit
    from audit_core.tools.bench.synthetic_lm import SMALL, build_synthetic_lm

    with tempfile.TemporaryDirectory(prefix="mnemoscope-membench-") as name:
        folder = Path(name)
        model = build_synthetic_lm(folder / "model", SMALL)
        rng = np.random.default_rng(seed)
        text_bytes = 0
        for file, count, prefix in (("members.csv", records // 2, "M"),
                                    ("non_members.csv", records - records // 2, "N")):
            lengths = rng.integers(MIN_TOKENS, MAX_TOKENS + 1, count)
            lines = ["patient_id,codes"] + [
                f"{prefix}{i},{' '.join(f't{t}' for t in rng.integers(0, SMALL.vocab, n))}"
                for i, n in enumerate(lengths)]
            text = "\n".join(lines) + "\n"
            text_bytes += len(text)
            (folder / file).write_text(text)
            del lines, text
        probes = "".join(f"[probes.{p}]\n" for p in _PROBES)
        (folder / "plan.toml").write_text(
            f'[audit]\ntitle = "Memory benchmark"\nseed = {seed}\n\n'
            f'[model]\npath = "model"\nbatch_size = 32\n\n'
            f'[data]\nmembers = "members.csv"\nnon_members = "non_members.csv"\n\n'
            f'[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n\n{probes}')
        # What the process holds before any record is read: the libraries and the model.
        warm = OnnxCausalLM(inspect_model(model), provider="cpu")
        warm.logits(np.zeros((1, 2), dtype=np.int64), np.ones((1, 2), dtype=np.int64))
        baseline = _rss_mb()
        del warm
        start = time.perf_counter()
        result = run_audit(load_plan(folder / "plan.toml"))
        scored_seconds = time.perf_counter() - start
        write_outputs(result, folder / "out")
        assert result.records is not None and len(result.records.ids) == records
        assert len(result.probes) == len(_PROBES)
        tokens = sum(int(d["tokens"]) for d in result.as_dict()["datasets"])
        return {"records": records, "tokens": tokens,
                "baseline_mb": round(baseline, 1), "peak_mb": round(_rss_mb(), 1),
                "text_mb": round(text_bytes / 2 ** 20, 1),
                "seconds": round(time.perf_counter() - start, 1),
                "audit_seconds": round(scored_seconds, 1)}


def measure_in_subprocess(records: int, timeout: float = 1800) -> dict[str, float | int]:
    done = subprocess.run([sys.executable, "-m", "audit_core.tools.bench.memory", str(records)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory benchmark for {records} records failed: "
                           f"{done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
