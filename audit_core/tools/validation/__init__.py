"""Self-validation: `mnemoscope validate` and the validation every audit cites.

`latest_validation()` is cheap and torch-free (the runner calls it for every audit);
`run_validation()` runs the installation checks and the known-answer audits and writes
the certificate (the desktop app calls it from a worker, with progress and cancel).
"""

from audit_core.tools.validation.certificate import latest_validation, validation_dir

__all__ = ["latest_validation", "validation_dir", "run_validation", "ValidationResult"]


def __getattr__(name: str):  # lazy: the runner imports this package on every audit
    if name in ("run_validation", "ValidationResult"):
        from audit_core.tools.validation import run

        return getattr(run, name)
    raise AttributeError(name)
