"""Whole-audit speed: the demo's default audit against a scoring-pass-only audit of the same
plan, in the same process; each probe's seconds (against an older run.json when given);
the estimate's error; and a KV-less export against the same model with its KV cache.

Run: .venv/bin/python benchmarks/speed.py [--repeats 3] [--before OLD/run.json] [--no-kv]
Figures, not assertions: the machine is shared, so the two audits alternate and the ratio
of their medians is what to read (target: the default audit within 4x the scoring-only
one, and 20 s or less on two idle cores). `uptime`'s load is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit_core.plan.parsing import load_plan  # noqa: E402
from audit_core.run.estimate import estimate_run  # noqa: E402
from audit_core.run.runner import run_audit  # noqa: E402

DEMO_PLAN = ROOT / "resources" / "demo" / "plan.toml"


def scoring_only(plan_text: str) -> str:
    """The demo plan with its probes replaced by LOSS alone (the shared scoring pass)."""
    head, _, rest = plan_text.partition("[probes.")
    thresholds = rest[rest.index("[thresholds."):]
    return f"{head}[probes.loss]\n\n{thresholds}"


def timed_audit(plan_path: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    result = run_audit(load_plan(plan_path))
    return time.perf_counter() - start, result.run_dict()


def whole_audit(repeats: int, folder: Path) -> dict:
    text = DEMO_PLAN.read_text()
    for name in ("model", "members.csv", "non_members.csv"):
        text = text.replace(f'"{name}"', f'"{DEMO_PLAN.parent / name}"')
    full, loss = folder / "default.toml", folder / "loss.toml"
    full.write_text(text)
    loss.write_text(scoring_only(text))
    timed_audit(loss)  # the first audit of a process pays for imports and allocations
    times: dict[str, list[float]] = {"default": [], "scoring_only": []}
    run = {}
    for _ in range(repeats):
        seconds, _ = timed_audit(loss)
        times["scoring_only"].append(seconds)
        seconds, run = timed_audit(full)
        times["default"].append(seconds)
    default, only = statistics.median(times["default"]), statistics.median(times["scoring_only"])
    estimate = estimate_run(load_plan(full))
    return {"default_s": default, "scoring_only_s": only, "ratio": default / only, "runs": times,
            "run": run, "estimate_s": estimate.seconds,
            "estimate_error": (estimate.seconds - default) / default,
            "estimate_phases": dict(estimate.phases)}


def probe_table(run: dict, before: dict | None) -> list[str]:
    now = run.get("probe_seconds", {})
    old = (before or {}).get("probe_seconds", {})
    lines = ["| Probe | Seconds | Before | Ratio |", "|---|---:|---:|---:|"]
    for probe in sorted(set(now) | set(old), key=lambda p: -now.get(p, 0.0)):
        a, b = now.get(probe), old.get(probe)
        ratio = f"{a / b:.2f}" if a and b else ""
        lines.append(f"| {probe} | {a if a is not None else '':} | {b if b is not None else ''} | {ratio} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an older run.json of the demo, for per-probe ratios")
    parser.add_argument("--no-kv", action="store_true", help="skip the KV-less export comparison")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="mnemoscope-speed-") as scratch:
        figures = whole_audit(args.repeats, Path(scratch))
        print(f"demo default audit: {figures['default_s']:.1f} s (runs {[round(t, 1) for t in figures['runs']['default']]})")
        print(f"scoring-pass-only audit: {figures['scoring_only_s']:.1f} s")
        print(f"ratio: {figures['ratio']:.2f}x (target <= 4x; default target <= 20 s on two idle cores)")
        print(f"estimate: {figures['estimate_s']:.1f} s, error {figures['estimate_error']:+.0%}")
        generation = figures["run"].get("generation") or {}
        if generation:
            print(f"generation step: {generation.get('tokens', 0):,} tokens in {generation.get('model_calls', 0):,} "
                  f"model calls, {generation.get('seconds', 0):.1f} s; {generation.get('on_the_spot', 0)} "
                  "requests decoded on the spot")
        before = json.loads(args.before.read_text()) if args.before else None
        print("\n".join(probe_table(figures["run"], before)))
        if not args.no_kv:
            try:
                from audit_core.tools.bench.kv_cost import kv_cost_figures  # noqa: PLC0415
            except ImportError:
                print("KV-less comparison: not available in this build")
            else:
                for key, value in kv_cost_figures(Path(scratch) / "kv").items():
                    print(f"{key}: {value}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
