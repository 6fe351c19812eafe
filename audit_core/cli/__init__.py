"""The command line: `mnemoscope run|plan|probes|verify|sign|...` and its terminal output."""
