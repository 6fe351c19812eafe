"""User-facing errors: each names the file or setting at fault and what to do about it.

Messages never quote record text or identifier values (patient data); they may quote
file names, column names, setting names and counts.
"""


class MnemoscopeError(Exception):
    """A problem with the user's input that the user can fix; the CLI exits with code 2."""


class PlanError(MnemoscopeError):
    """The plan file is missing, malformed, or holds an unknown key or a bad value."""


class ModelError(MnemoscopeError):
    """The model folder or ONNX file cannot be used as it is."""


class DataError(MnemoscopeError):
    """A members or non-members file cannot be used as it is."""


class OutputFolderError(PlanError):
    """The output folder cannot take this audit's files; the message says why and what to do.

    Here, with the other errors, because the checkpoint store (audit_core.work), which sits
    below the results, refuses a checkpoint file another program wrote with it too; the
    output folder's checks (results/output_folder.py) raise it for everything else."""
