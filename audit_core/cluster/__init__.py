"""Distributed runs on Ray: the shared scoring pass and the generation schedule spread over
a cluster's workers, with the same results as on the workstation (docs/cluster.md).

The only package that imports Ray (an import-linter contract says so), and only when a
plan's [run] table asks for a cluster: a local run never loads it.
"""
