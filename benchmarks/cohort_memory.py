"""Peak memory of the data edge, the scoring pass and the generation step's kept answers as
the cohort grows: 100k, 200k and 1M records read from Parquet.

Run: .venv/bin/python benchmarks/cohort_memory.py [--sizes 100000,200000,1000000]
For each size, members and non-members (half each) are written as Parquet files in row
groups of 65,536 rows, their records drawn from the demo's cohorts (short code records of
about 35 tokens). A fresh process per size (its peak, VmHWM, is its own) then does with
the demo model and the demo plan's probes what `mnemoscope run` does, phase by phase, and
prints the peak above the process's libraries and model after each:

- read: load_cohorts (Parquet row groups converted a batch at a time);
- tokens: encode_all (each cohort's ids packed in one int32 buffer);
- scoring: the streamed scoring pass (chunked_scoring.score_streamed) over a 4,000-record
  slice with the five token-level probes' reducers: a chunk at a time, so it should not
  grow with the cohort;
- declared: every generating probe's requests listed over the whole cohorts (what the
  generation step declares), and the bytes their answers would hold if kept all at once,
  against what the step keeps under its budget (generation/kept_answers.py:
  the answers declared together, or one probe's decoded when it runs, whichever is more).

The whole audit is not run here (1M records would take hours on two cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources/demo"
ROW_GROUP = 65_536
SLICE = 4_000


def write_cohorts(folder: Path, records: int) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pd.concat([pd.read_csv(DEMO / f"{n}.csv", dtype=str) for n in ("members", "non_members")])
    rng = np.random.default_rng(0)
    for name, count, prefix in (("members", records // 2, "M"), ("non_members", records - records // 2, "N")):
        picked = source.iloc[rng.integers(0, len(source), count)].reset_index(drop=True)
        picked["patient_id"] = [f"{prefix}{i:07d}" for i in range(count)]
        pq.write_table(pa.Table.from_pandas(picked, preserve_index=False), folder / f"{name}.parquet",
                       row_group_size=ROW_GROUP)
    plan = (DEMO / "plan.toml").read_text(encoding="utf-8")
    plan = plan.replace('path = "model"', f'path = "{DEMO / "model"}"')
    plan = plan.replace('"members.csv"', '"members.parquet"').replace('"non_members.csv"', '"non_members.parquet"')
    (folder / "plan.toml").write_text(plan, encoding="utf-8")


def child(folder: Path) -> None:
    """Runs in a fresh process: one JSON line of peaks (MB above the baseline)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from audit_core.data.cohort import Role
    from audit_core.data.loading import load_cohorts
    from audit_core.generation.kept_answers import kept_at_once
    from audit_core.kinds.generation_estimate import declared_requests
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id
    from audit_core.passes.chunked_scoring import score_streamed, token_level_reducer
    from audit_core.plan.parsing import load_plan
    from audit_core.probes.selection import resolve_probes
    from audit_core.work.checkpoints import NoCheckpoint
    from audit_core.work.progress import Progress

    def peak() -> float:
        text = Path("/proc/self/status").read_text()
        return int(text.split("VmHWM:")[1].split()[0]) / 1024

    plan = load_plan(folder / "plan.toml")
    info = inspect_model(plan.model.path)
    model = OnnxCausalLM(info, 1, provider="cpu")
    tokenizer = load_tokenizer(info.folder)
    model.logits(np.ones((1, 4), dtype=np.int64), np.ones((1, 4), dtype=np.int64))
    base = peak()
    out: dict = {"records": 0}
    start = time.perf_counter()
    cohorts = load_cohorts(plan.data)
    out["records"] = sum(len(c.sequences) for c in cohorts.values())
    out["read"] = peak() - base
    token_ids = {role: encode_all(tokenizer, list(c.sequences), c.info.file) for role, c in cohorts.items()}
    out["tokens"] = int(sum(int(ids.lengths.sum()) for ids in token_ids.values()))
    out["tokenized"] = peak() - base
    out["data_seconds"] = time.perf_counter() - start
    selected = resolve_probes(plan)
    reducers = {p.id: token_level_reducer(p, c, token_ids) for p, c in selected if p.needs.token_scores}
    score_streamed([model], token_ids[Role.MEMBERS][:SLICE], reducers, batch_size=plan.model.batch_size,
                   pad_id=pad_token_id(tokenizer), progress=Progress(), checkpoint=NoCheckpoint(), unit="bench")
    out["scoring_slice"] = peak() - base
    declared = declared_requests(plan, selected, model, cohorts, token_ids, tokenizer, info)
    out["declared"] = peak() - base
    kept = {probe: sum(r.n * r.steps for r in asked) for probe, asked in declared.items()}
    out["kept_tokens_all"] = sum(kept.values())
    out["kept_tokens_largest_probe"] = max(kept.values(), default=0)
    out["kept_tokens_by_probe"] = kept
    # What the generation step keeps at once under its budget (generation/kept_answers.py).
    out["kept_tokens_bounded"] = kept_at_once([8 * t for t in kept.values()]) // 8
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,200000,1000000")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"{'records':>9s} {'tokens':>11s} | peak MB above libraries+model: {'read':>7s} {'tokenized':>9s} "
          f"{'scoring':>8s} {'declared':>8s} | answers kept if all declared / under the budget (MB)")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="mnemoscope-cohortmem-") as name:
            folder = Path(name)
            write_cohorts(folder, size)
            done = subprocess.run([sys.executable, __file__, "--child", str(folder)],
                                  capture_output=True, text=True)
            if done.returncode:
                print(done.stderr[-2000:])
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{r['records']:9,d} {r['tokens']:11,d} | {'':30s} {r['read']:7.0f} {r['tokenized']:9.0f} "
                  f"{r['scoring_slice']:8.0f} {r['declared']:8.0f} | {r['kept_tokens_all'] * 8 / 1e6:8.0f} / "
                  f"{r['kept_tokens_bounded'] * 8 / 1e6:.0f}   ({r['data_seconds']:.0f} s to read and "
                  f"tokenize; by probe {r['kept_tokens_by_probe']})", flush=True)


if __name__ == "__main__":
    main()
