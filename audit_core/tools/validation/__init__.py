"""Self-validation: `mnemoscope validate` and the validation every audit cites.

`latest_validation()` (run/validation_record.py, re-exported) is cheap and torch-free: the
runner reads it for every audit from the run path, never through this package;
`run_validation()` runs the installation checks and the known-answer audits and writes
the certificate (the desktop app calls it from a worker, with progress and cancel).
"""

from audit_core.run.validation_record import latest_validation, validation_dir

__all__ = ["latest_validation", "validation_dir", "run_validation", "ValidationResult"]


def __getattr__(name: str):  # lazy: the validation run loads torch-free but heavy modules
    if name in ("run_validation", "ValidationResult"):
        from audit_core.tools.validation import run

        return getattr(run, name)
    raise AttributeError(name)
