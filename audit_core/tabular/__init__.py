"""Auditing tabular risk models (ONNX classifiers over feature columns) for membership.

`audit.run_tabular_audit` is the path `runner.run_audit` hands such models to; `signals`
holds the per-record attack scores the tabular probes read.
"""
