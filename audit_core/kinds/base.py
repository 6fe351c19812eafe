"""What a model kind hands the runner, and what a kind is.

A kind (kinds/causal_lm.py, tabular.py, encoder.py) reads its model and both cohorts and
runs every check that can refuse them, then returns `Prepared`: the probes to run, the
inputs they read, results.json's model and dataset sections, and its shared pass, not yet
run. The runner (run/runner.py) fingerprints the audit from `Prepared` (the audit id and
the checkpoint's key: one computation), opens the checkpoint, runs `shared_pass` and then
the one probe loop. The shared pass waits for the checkpoint because each of its pieces is
a unit of work the checkpoint keeps; that is why it is handed over as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np
from tokenizers import Tokenizer

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.data.events import EventFeatures
from audit_core.data.split_validity import SplitValidity
from audit_core.kinds.memory_need import MemoryNeed
from audit_core.models.inspection import ModelInfo
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.span_settings import MemorizedSpansSettings
from audit_core.plan.thresholds import SplitValidityThresholds
from audit_core.probes.base import AuditedModel, Probe, SharedOutputs, Thresholds
from audit_core.results.sections import DatasetSection, ModelSection
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Progress
from audit_core.work.shards import Shards


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedPass:
    """What a kind's shared pass computed, as the probes and the result read it."""

    # A tabular classifier's class probabilities, an encoder's embeddings and pseudo-likelihoods.
    outputs: SharedOutputs | None = None
    # A language model's streamed scoring pass: each probe's `reduce` per cohort (probe id ->
    # one value per record), and how many context windows each record was scored in.
    reduced: dict[Role, dict[str, np.ndarray]] = field(default_factory=dict)
    windows: dict[Role, np.ndarray] = field(default_factory=dict)
    broken: frozenset[str] = frozenset()  # probes whose `reduce` crashed: not assessed
    # Cancelled in the pass: no probe runs, what the pass finished is kept (and reported).
    cancelled: bool = False


class PassRunner(Protocol):
    """The shared pass, run by the runner once the checkpoint is open: (checkpoint, its slice
    of the progress bar, a cluster's workers or None) -> what it computed. A Cancelled inside
    it comes back as `cancelled`. Only a language model's pass spreads over workers."""

    def __call__(self, saved: OpenCheckpoint, progress: Progress, shards: Shards | None = None,
                 /) -> SharedPass: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A kind's model and cohorts, read and checked, ready for the shared pass and the probes."""

    selected: list[tuple[Probe, object]]  # (probe, its settings), in run order
    # Each [thresholds.*] table by name: a probe family's, the split check's, the localisation's.
    thresholds: dict[str, Thresholds | SplitValidityThresholds | MemorizedSpansSettings]
    cohorts: dict[Role, Cohort]
    split: SplitValidity  # the model-free split check, already run
    model: AuditedModel
    # The plan's reference model (a language model's [model] reference), for work after the
    # shared pass that scores a few records again (run/memorized_spans.py); None without one.
    reference_model: AuditedModel | None = None
    model_info: ModelInfo
    reference_info: ModelInfo | None  # the reference model's files are part of the audit id
    tokenizer: Tokenizer | None  # None for a tabular classifier
    token_ids: Mapping[Role, Sequence[np.ndarray]]  # what the model reads; empty for tabular rows
    # Per record, each token's time, age and visit (data/events.py), aligned with token_ids;
    # None unless the cohorts came from event data (MEDS).
    token_events: Mapping[Role, Sequence[EventFeatures]] | None = None
    model_section: ModelSection  # results.json's model section
    # results.json's datasets, members first; "records_windowed" is filled from the pass.
    datasets: tuple[DatasetSection, ...]
    # Each record's content as text, for the pseudonym key (run/pseudonyms.cohort_key), when
    # the cohorts carry no record text (tabular rows); None: the cohorts' own sequences.
    key_records: dict[Role, tuple[str, ...]] | None
    pass_end: float  # where the shared pass ends on the progress bar (it starts at 0.02)
    pass_label: str  # what the progress bar says during it
    shared_pass: PassRunner


def inspected(info: ModelInfo) -> ModelSection:
    """What inspection saw in a model, as the first keys of results.json's model section.

    `ModelInfo.as_dict` is built with `dataclasses.asdict`, which mypy types as a plain
    dict; this is the one place it is taken for a ModelSection (and `cohort_entry` below
    for a DatasetSection). tests/core/test_one_run_path.py checks every key each kind
    writes against the TypedDicts, so a field added to ModelInfo without its key in
    results/sections.py fails there.
    """
    return cast(ModelSection, info.as_dict())


def cohort_entry(info: DatasetInfo) -> DatasetSection:
    """A cohort's file as read (role, file, hash, format, records, columns): the first keys
    of its entry in results.json's datasets; see `inspected`."""
    return cast(DatasetSection, info.as_dict())


@dataclass(frozen=True, slots=True)
class Estimate:
    """How long an audit will take (run/estimate.py), for planning; never in a report."""

    seconds: float
    records: int
    tokens: int
    sampled_records: int
    source: str = "sample"  # "calibration": from `mnemoscope bench`; "sample": timed here
    # (phase, seconds) in the run's order, named as its progress messages name them (a
    # language model's: setup, the shared pass, each probe, writing); empty for other kinds.
    phases: tuple[tuple[str, float], ...] = ()
    # What the run will hold in memory at once (kinds/memory_need.py); None for other kinds.
    memory: MemoryNeed | None = None


# (plan, the inspection's kind string, progress) -> Prepared
Prepare = Callable[[AuditPlan, str, Progress], Prepared]
# (plan, kind string, progress, records to time, the workstation calibration or None)
EstimateFn = Callable[[AuditPlan, str, Progress, int, dict[str, Any] | None], Estimate]


@dataclass(frozen=True, slots=True)
class Kind:
    """One entry of kinds.KINDS: the inspection kinds it serves, and its two entry points."""

    serves: tuple[str, ...]  # models.inspection kind strings
    prepare: Prepare
    estimate: EstimateFn
