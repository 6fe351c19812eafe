"""How long `mnemoscope validate` will take: the sum of its known-answer audits' estimates.

Validation runs the demo audit, the negative control and each family control's two plans
(run.py); each is estimated as an audit is (run/estimate.py: loads its model and times
it on a sample). The installation checks and the certificate are seconds; their time is
`FIXED_SECONDS`, measured (python -m audit_core.tools.bench.estimate --validate,
docs/speed.md). The desktop's validation dialog shows this before it starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_core.families.answers import NEGATIVE, POSITIVE
from audit_core.tools.validation import installation
from audit_core.tools.validation.family_answers import FAMILY_CONTROLS
from audit_core.work.progress import Cancelled, CancelToken

# Checking the installed files against the record and writing the certificate's PDF.
FIXED_SECONDS = 3.0


def validation_plans(resources: Path | None = None) -> list[Path]:
    """The plan files `validate` audits, in its order (run.py)."""
    resources = installation.resources_dir() if resources is None else resources
    plans = [resources / "demo" / "plan.toml", resources / "controls" / "negative" / "plan.toml"]
    for control in FAMILY_CONTROLS:
        plans += [resources / control.where / POSITIVE, resources / control.where / NEGATIVE]
    return plans


def estimate_validation(resources: Path | None = None, cancel: CancelToken | None = None,
                        calibration: dict[str, Any] | bool = False) -> float:
    """Seconds `validate` will take on this computer; a plan that cannot be estimated
    (a missing control: validate fails it quickly) adds nothing. `calibration`: False
    times each model on a sample (the controls are small: seconds), else as estimate_run."""
    from audit_core.plan.parsing import load_plan
    from audit_core.run.estimate import estimate_run

    seconds = FIXED_SECONDS
    for path in validation_plans(resources):
        try:
            seconds += estimate_run(load_plan(path), cancel=cancel, calibration=calibration).seconds
        except Cancelled:
            raise
        except Exception:  # noqa: BLE001 - validate itself reports what is wrong with a control
            continue
    return seconds
