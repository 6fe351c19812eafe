"""How good is the time estimate? Estimate a plan, run it, and print both, phase by phase.

    python -m audit_core.tools.bench.estimate [PLAN] [--runs N] [--validate]

PLAN defaults to the demo's. Each run estimates the plan as the Run step does (timed on
a sample, no workstation calibration unless --calibrated), then runs it as `mnemoscope
run` does (run_audit, then results.json, records.csv and the PDF into a temporary
folder), and prints each phase's estimated and measured seconds, the totals and their
ratio, with the load average, because on a shared machine the ratio moves with it.
--validate does the same for `mnemoscope validate` (its estimate: the sum of its
audits' estimates, tools/validation/estimate.py). Printed, never asserted: timings
belong here, not in unit tests (docs/speed.md).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from audit_core.kinds.estimates import WRITING
from audit_core.plan.parsing import load_plan
from audit_core.run.estimate import estimate_run
from audit_core.run.remaining import phase_of

DEMO_PLAN = Path(__file__).resolve().parents[3] / "resources" / "demo" / "plan.toml"


def measure_plan(plan_path: Path, calibrated: bool = False) -> dict:
    """Estimate then run one plan; the phases' estimated and measured seconds."""
    from audit_core.run.outputs import write_outputs
    from audit_core.run.runner import run_audit

    plan = load_plan(plan_path)
    clock = time.perf_counter()
    estimate = estimate_run(plan, calibration=None if calibrated else False)
    estimating = time.perf_counter() - clock
    names = [name for name, _ in estimate.phases]
    measured: dict[str, float] = {}
    since = [time.perf_counter()]
    running = [names[0] if names else "setup"]

    def on_progress(fraction: float, message: str) -> None:
        now, phase = time.perf_counter(), phase_of(message, names)
        if phase not in names or names.index(phase) < names.index(running[0]):
            phase = running[0]  # "done" and the like: still the phase that was running
        measured[running[0]] = measured.get(running[0], 0.0) + now - since[0]
        since[0], running[0] = now, phase

    start = time.perf_counter()
    result = run_audit(plan, on_progress=on_progress)
    on_progress(1.0, WRITING)
    with tempfile.TemporaryDirectory() as folder:
        write_outputs(result, Path(folder) / "out")
    on_progress(1.0, WRITING)
    seconds = time.perf_counter() - start
    return {"plan": str(plan_path), "estimate": estimate.seconds, "measured": seconds,
            "ratio": estimate.seconds / seconds, "estimating": estimating, "source": estimate.source,
            "phases": [(name, prior, measured.get(name, 0.0)) for name, prior in estimate.phases]}


def measure_validation() -> dict:
    from audit_core.tools.validation import run_validation
    from audit_core.tools.validation.estimate import estimate_validation

    clock = time.perf_counter()
    estimate = estimate_validation()
    estimating = time.perf_counter() - clock
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_validation(Path(folder))
        seconds = time.perf_counter() - start
    return {"plan": "mnemoscope validate", "estimate": estimate, "measured": seconds,
            "ratio": estimate / seconds, "estimating": estimating, "source": "sample", "phases": []}


def format_measurement(row: dict, load: tuple[float, float]) -> str:
    lines = [f"{row['plan']}: estimate {row['estimate']:.1f} s ({row['source']}, computed in "
             f"{row['estimating']:.1f} s), measured {row['measured']:.1f} s, ratio "
             f"{row['ratio']:.2f}; load average {load[0]:.1f} before, {load[1]:.1f} after"]
    for name, prior, measured in row["phases"]:
        ratio = f"{prior / measured:5.2f}" if measured > 0.05 else "    -"
        lines.append(f"  {name:<24} estimate {prior:6.1f} s  measured {measured:6.1f} s  ratio {ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", nargs="?", type=Path, default=DEMO_PLAN)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--validate", action="store_true", help="also estimate and run `validate`")
    parser.add_argument("--calibrated", action="store_true",
                        help="use the stored workstation calibration (`mnemoscope bench`)")
    args = parser.parse_args(argv)
    for _ in range(args.runs):
        before = os.getloadavg()[0]
        row = measure_plan(args.plan, args.calibrated)
        print(format_measurement(row, (before, os.getloadavg()[0])), flush=True)
        if args.validate:
            before = os.getloadavg()[0]
            row = measure_validation()
            print(format_measurement(row, (before, os.getloadavg()[0])), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
