"""The tool's name and version, in a module that imports nothing.

The package root re-exports them; modules of the run path read them from here, because
importing `audit_core` itself would reach the root's lazy `run_audit` and close a cycle
through the runner (run/checkpoints.py, run/validation_record.py).
"""

__version__ = "0.1.0"
TOOL_NAME = "mnemoscope"
