"""What looking events up costs a model with side inputs: scoring + sampling with each row's
events given, against the same work with the events found from the ids (models/event_lookup).

    python -m audit_core.tools.bench.side_inputs [--records 600] [--repeats 3]

The model (tools/bench/side_input_lm.py) has 600 codes, width 256, four per-token layers
and a KV cache; the records are 20-60 codes long with times, ages and visits. Sampling
prompts are each record's first 16 tokens with a set of "sensitive" codes left out (as
T2/T5/T6 prompt), so the look-up has to match skipped tokens. Each repeat builds the look-up
afresh (its cache would otherwise answer every row). Prints medians and their ratio, in
one process (the machine is shared: only in-process ratios mean anything). A model
without side inputs (the demo's) skips the feed entirely: checked, not timed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from audit_core.data.events import EventFeatures
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.passes.token_scores import score_tokens
from audit_core.tools.bench import side_input_lm
from audit_core.work.progress import Progress

WORDS = tuple(f"{head}//{i:03d}" for head in ("DIAGNOSIS", "LAB", "MEDICATION") for i in range(200))
PROMPT_TOKENS, STEPS, SAMPLES = 16, 8, 4


def _cohort(records: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[EventFeatures]]:
    ids, events = [], []
    for _ in range(records):
        n = int(rng.integers(20, 61))
        codes = rng.integers(4, 4 + len(WORDS), n)
        row = np.concatenate([[2], codes, [3]]).astype(np.int64)  # [BOS] codes [EOS]
        visits = np.concatenate([[1], np.cumsum(rng.random(n) < 0.2) + 1, [0]])
        visits[-1] = visits[-2]
        days = 18000.0 + visits * 30.0 + rng.random(n + 2)
        ids.append(row)
        events.append(EventFeatures(days, 40.0 + (days - 18000.0) / 365.25, visits.astype(np.int64)))
    return ids, events


def measure(records: int = 600, repeats: int = 3) -> dict[str, float]:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = side_input_lm.build(Path(tmp) / "model", kv_cache=True, declare=True, words=WORDS,
                                     dim=256, layers=4, context=128)
        model = OnnxCausalLM(inspect_model(folder))
    ids, events = _cohort(records, rng)
    sensitive = rng.choice(np.arange(4, 4 + len(WORDS)), 30, replace=False)
    keep = [np.flatnonzero(~np.isin(r[:PROMPT_TOKENS], sensitive) | (np.arange(min(len(r), PROMPT_TOKENS)) == 0))
            for r in ids]
    prompts = [r[k] for r, k in zip(ids, keep)]
    prompt_events = [e.take(k) for e, k in zip(events, keep)]

    def given() -> None:
        score_tokens(model, ids, batch_size=32, pad_id=0, progress=Progress(), events=events)
        model.sample(prompts, STEPS, n=SAMPLES, rng=np.random.default_rng(1), events=prompt_events)

    def looked_up() -> None:
        model.use_records(ids, events)  # a fresh index: its cache starts empty
        score_tokens(model, ids, batch_size=32, pad_id=0, progress=Progress())
        model.sample(prompts, STEPS, n=SAMPLES, rng=np.random.default_rng(1))

    def lookup_only() -> None:
        model.use_records(ids, events)
        side = model._side
        assert side is not None and side.records is not None
        for row in [*ids, *prompts]:
            side.records.find(row)

    times: dict[str, list[float]] = {"given": [], "looked_up": [], "lookup_only": []}
    for _ in range(repeats):  # interleaved, so drifting load hits both alike
        for name, work in (("given", given), ("looked_up", looked_up), ("lookup_only", lookup_only)):
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    # Same tokens either way: the look-up finds exactly the events the run would give.
    model.use_records(ids, events)
    same = np.array_equal(model.sample(prompts, STEPS, n=SAMPLES, rng=np.random.default_rng(1)).tokens,
                          model.sample(prompts, STEPS, n=SAMPLES, rng=np.random.default_rng(1),
                                       events=prompt_events).tokens)
    return {**medians, "ratio": medians["looked_up"] / medians["given"],
            "lookup_us_per_row": 1e6 * medians["lookup_only"] / (2 * records), "same_tokens": float(same)}


def _demo_skips_the_feed() -> bool:
    demo = Path(__file__).resolve().parents[3] / "resources" / "demo" / "model"
    model = OnnxCausalLM(inspect_model(demo))
    return model._side is None and model.side_inputs == {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    found = measure(args.records, args.repeats)
    print(f"scoring + sampling, events given:     {found['given']:.2f} s")
    print(f"scoring + sampling, events looked up: {found['looked_up']:.2f} s")
    print(f"ratio looked up / given:              {found['ratio']:.3f}")
    print(f"look-up alone: {found['lookup_us_per_row']:.0f} us per row (records and prompts)")
    print(f"same sampled tokens: {bool(found['same_tokens'])}")
    print(f"demo model (no side inputs) skips the feed: {_demo_skips_the_feed()}")


if __name__ == "__main__":
    main()
