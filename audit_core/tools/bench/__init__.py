"""Benchmarks and the workstation calibration behind `mnemoscope bench` (issue 7)."""
