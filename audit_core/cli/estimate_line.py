"""The line `mnemoscope run` prints before an audit starts: about how long it will take
(from the workstation calibration, no model run; a model smaller than the calibration's
reference is timed on a sample instead, about a second) and the memory it needs."""

from __future__ import annotations

import sys

from audit_core.version import TOOL_NAME


def print_estimate(plan) -> None:
    """The run time from the workstation calibration, before the run starts."""
    from audit_core.tools.bench.calibration import load_calibration

    calibration = load_calibration()
    if calibration is None:
        print(f"{TOOL_NAME}: run `{TOOL_NAME} bench` once to see how long audits will take "
              "before they start", file=sys.stderr)
        return
    from audit_core.run.estimate import describe_duration, describe_memory, estimate_run

    try:
        estimate = estimate_run(plan, calibration=calibration)
    except Exception:  # the run itself reports whatever is wrong, with its proper message
        return
    basis = (f"workstation calibration of {calibration['created_utc'][:10]}"
             if estimate.source == "calibration" else  # timed: a model below the reference, or int8 before bench timed it
             f"timed on {estimate.sampled_records:,} records")
    size = (f"{estimate.tokens:,} tokens" if estimate.tokens  # a tabular model reads rows
            else f"{estimate.records:,} records")
    memory = f"; {describe_memory(estimate.memory)}" if estimate.memory else ""
    print(f"{TOOL_NAME}: estimated time about {describe_duration(estimate.seconds)} "
          f"({size}; {basis}){memory}", file=sys.stderr)
