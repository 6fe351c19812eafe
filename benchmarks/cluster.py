"""The demo audit on a local Ray cluster with 1 and 2 workers against the plain run, in the
same process: the ratios to the plain run and the overhead of the distributed path at one
worker (issue 18's target: under 10%). Every run's results.json is checked to be the plain
run's, bit for bit.

Run: .venv/bin/python benchmarks/cluster.py [--repeats 2] [--cpus 2] [--plan PLAN]
Needs the [cluster] extra. Figures, not assertions: the machine is shared, so the three
set-ups alternate, the median of each is taken, and `uptime`'s load is printed with them.
A one-worker run gets every CPU (its onnxruntime threads), two workers half each; a run's
seconds include starting its workers (opening the model in each), as a user's would.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit_core.plan.parsing import AuditPlan, load_plan  # noqa: E402
from audit_core.plan.run_keys import RunSettings  # noqa: E402
from audit_core.run.runner import run_audit  # noqa: E402

DEMO_PLAN = ROOT / "resources" / "demo" / "plan.toml"


def timed(plan: AuditPlan) -> tuple[float, str, dict]:
    start = time.perf_counter()
    result = run_audit(plan)
    return time.perf_counter() - start, json.dumps(result.as_dict()), result.run_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray")
    parser.add_argument("--plan", type=Path, default=DEMO_PLAN)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    # Before Ray is imported (its token loader reads the environment once): a token of this
    # process's own, nothing written to ~/.ray, nothing reported.
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                      RAY_USAGE_STATS_ENABLED="0")
    import ray

    with tempfile.TemporaryDirectory(prefix="mnemoscope-cluster-bench-"):
        plain = load_plan(args.plan)
        setups = {"plain": plain,
                  "ray_1_worker": replace(plain, run=RunSettings(cluster="auto", workers=1)),
                  "ray_2_workers": replace(plain, run=RunSettings(cluster="auto", workers=2))}
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
        try:
            timed(plain)  # the first audit of a process pays for imports and allocations
            times: dict[str, list[float]] = {name: [] for name in setups}
            reference = None
            clusters = {}
            for _ in range(args.repeats):
                for name, plan in setups.items():
                    seconds, results, run = timed(plan)
                    times[name].append(seconds)
                    reference = reference or results
                    if results != reference:
                        print(f"{name}: results.json differs from the plain run's", file=sys.stderr)
                        return 1
                    clusters[name] = run.get("cluster")
        finally:
            ray.shutdown()
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["plain"]
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs; {args.repeats} repeats; "
          f"plan {args.plan.name}")
    for name, median in medians.items():
        where = clusters.get(name) or {}
        threads = f", {where['threads_per_worker']} thread(s) each" if where else ""
        print(f"{name:>14}: {median:7.2f} s  ratio to plain {median / base:5.2f}{threads}  "
              f"runs {[round(t, 2) for t in times[name]]}")
    overhead = medians["ray_1_worker"] / base - 1
    print(f"overhead of the distributed path at 1 worker: {overhead:+.1%} (target < 10%)")
    print(f"2 workers against 1: {medians['ray_2_workers'] / medians['ray_1_worker']:.2f}")
    print("results.json: identical in every run")
    if args.json:
        args.json.write_text(json.dumps({"medians_s": medians, "runs_s": times, "overhead": overhead,
                                         "load": os.getloadavg()[0]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
