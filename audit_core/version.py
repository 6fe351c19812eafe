"""The tool's name and version, in a module that imports nothing.

Kept out of audit_core/__init__.py so that the modules that stamp the version into a
result, a checkpoint or a certificate need not import the package root, whose lazy
`run_audit` reaches the whole pipeline (import-linter counts that import; see
pyproject.toml). The root re-exports both names.
"""

__version__ = "0.1.0"
TOOL_NAME = "mnemoscope"
