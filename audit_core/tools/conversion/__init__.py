"""Importing a hospital's own Hugging Face causal LM: `mnemoscope convert`.

`read_source` (no torch) checks the folder and refuses what must not be loaded;
`convert_model` (imports torch and transformers on call) exports and verifies it.
"""

from audit_core.tools.conversion.source import ConversionError, SourceFolder, read_source

__all__ = ["ConversionError", "SourceFolder", "read_source", "convert_model", "ConversionReport"]


def __getattr__(name: str):  # lazy: the torch-free audit path may import this package
    if name in ("convert_model", "ConversionReport", "BackendMissing"):
        from audit_core.tools.conversion import converter

        return getattr(converter, name)
    raise AttributeError(name)
