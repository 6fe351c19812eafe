"""What every probe declares and receives, and what it returns.

A probe is an object with an id (equal to its module name), a title, the question it
answers, its citation, a config dataclass made of `param()` fields, what it needs, and
`run(config, ctx) -> ProbeOutcome`; a probe that reads the shared scoring pass also has
`reduce` (TokenLevelProbe). The CLI listing, plan validation and the report's
settings table are generated from these declarations.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from tokenizers import Tokenizer

from audit_core.data.cohort import Cohort, Role
from audit_core.data.events import EventFeatures
from audit_core.families import Family, Thresholds
from audit_core.generation import Generated, GenerationSchedule, Request, seed_of
from audit_core.models.inspection import ModelInfo
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.onnx_encoder import OnnxEncoder
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.passes.encoder_outputs import EncoderOutputs
from audit_core.passes.tabular_signals import TabularOutputs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.run_memo import RunMemo
from audit_core.results.verdicts import Verdict
from audit_core.work.progress import Progress

# The model kinds of models/inspection.py, as the names a probe declares (text, so that a
# plan check can compare them with inspection's kind without opening a model).
_KIND_NEEDS = {"causal_lm": "a causal language model (ONNX) with its tokenizer",
               "tabular_classifier": "a tabular classifier (ONNX, class probabilities) with "
                                     "feature columns and a label column",
               "encoder": "an encoder (ONNX) that outputs embeddings, with its tokenizer",
               "masked_lm": "an encoder with a masked-language-model head (ONNX), with its tokenizer"}


@dataclass(frozen=True, slots=True)
class Needs:
    token_scores: bool = False  # the shared teacher-forced pass
    generation: bool = False  # decoding from the model
    reference: bool = False  # a reference model (plan: model.reference), scored by the shared pass
    text_records: bool = False  # free-text records (data.columns.kind = "text"), e.g. clinical notes
    # Code records (data.columns.kind = "codes"): a probe that compares, varies or counts
    # medical codes (T1's code futures, T5's age/time/code perturbations) has nothing to read
    # in prose; it is left out of a notes audit before the run (probes.applicability).
    code_records: bool = False
    canaries: bool = False  # a canary manifest in the probe's settings (only the hospital has one)
    hidden_states: bool = False  # the export's optional 'hidden_states' output (inspection.HIDDEN_STATES)
    model_kinds: tuple[str, ...] = ("causal_lm",)  # the model kinds the probe applies to

    def applies_to(self, kind: str) -> bool:
        return kind in self.model_kinds

    def describe(self) -> str:
        parts = [" or ".join(_KIND_NEEDS.get(k, k) for k in self.model_kinds), "members and non-members"]
        if self.token_scores:
            parts.append("the shared per-token scoring pass")
        if self.generation:
            parts.append("decoding, greedy or sampled (uses the KV cache when the export has one)")
        if self.reference:
            parts.append("a reference model trained without the members (a tabular classifier: "
                         "the same features and classes)" if "tabular_classifier" in self.model_kinds
                         else "a reference model of the same tokenizer trained without the members")
        if self.text_records:
            parts.append("free-text records (data.columns.kind = \"text\")")
        if self.code_records:
            parts.append("records of medical codes (data.columns.kind = \"codes\"), not free text")
        if self.canaries:
            parts.append("a canary manifest and seed file (mnemoscope canaries), inserted before training")
        if self.hidden_states:
            parts.append("an export that outputs its hidden states ('hidden_states')")
        return "; ".join(parts)


# What a probe reads, typed by the model kinds there are: a probe that needs one kind's
# object asks ProbeContext for it (`causal_lm()`, `tabular_outputs()`, ...), which narrows the
# union. The audited model as onnxruntime runs it:
AuditedModel = OnnxCausalLM | OnnxTabularClassifier | OnnxEncoder
# A shared pass's outputs other than the language model's per-probe reductions:
SharedOutputs = TabularOutputs | EncoderOutputs
# One family's thresholds dataclass, as `ProbeContext.thresholds_of` returns it.
FamilyThresholds = TypeVar("FamilyThresholds", bound=Thresholds)


class WrongContext(TypeError):
    """A probe was handed another model kind's model or pass, or another family's thresholds.

    A bug, never the user's input: the runner selects probes by `needs.model_kinds` and gives
    each its own family's thresholds. The runner reports the probe as not assessed."""


class RecordColumns(Protocol):
    """What a probe reads of the plan's column mapping (plan/parsing.py ColumnMapping, which
    is not imported: the plan module imports the probes)."""

    @property
    def kind(self) -> str: ...  # the records' kind: "codes" or "text" (or "tabular")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeContext:
    cohorts: dict[Role, Cohort]
    token_ids: Mapping[Role, Sequence[np.ndarray]]  # what the model reads; empty for tabular rows
    # Per record, each token's time, age and visit (data/events.py), aligned with token_ids;
    # None unless the cohorts came from event data (MEDS): then clinical tests read real time.
    token_events: Mapping[Role, Sequence[EventFeatures]] | None = None
    model: AuditedModel  # e.g. an OnnxCausalLM, for probes that decode
    thresholds: Thresholds  # the probe family's thresholds dataclass
    rng: np.random.Generator  # seeded from the plan's seed and the probe id
    progress: Progress
    # This probe's `reduce` of the shared scoring pass (passes/chunked_scoring.py): one value
    # per record, in cohort order; empty unless the probe needs token scores.
    reduced: dict[Role, np.ndarray] = field(default_factory=dict)
    reference_scored: bool = False  # the shared pass also scored a reference model (model.reference)
    tokenizer: Tokenizer | None = None  # the audited model's tokenizer, for probes that decode to text
    columns: RecordColumns | None = None  # the plan's ColumnMapping: record kind and subgroup columns
    model_info: ModelInfo | None = None  # from inspection (names, signature, folder)
    # Other model kinds' shared pass: passes.tabular_signals.TabularOutputs (class
    # probabilities and labels) or passes.encoder_outputs.EncoderOutputs (embeddings,
    # pseudo-likelihoods).
    outputs: SharedOutputs | None = None
    # The audit's generation schedule (generation/schedule.py): the runner decoded every
    # generating probe's declared requests in one pass before the probes ran. None in a
    # context a test builds itself: then `generate` decodes on the spot, with the same answers.
    schedule: GenerationSchedule | None = None
    seed: tuple[int, ...] = (0,)  # the plan's seed and this probe's: its requests' seeds start so
    # Figures the run's probes share (probes/run_memo.py); a test's context has its own.
    memo: RunMemo = field(default_factory=RunMemo)

    def generate(self, requests: Sequence[Request], progress: Progress | None = None) -> list[Generated]:
        """The continuations `requests` ask for, in order (`progress`: for requests decoded
        now, e.g. a second stage that depends on the first; silent by default)."""
        schedule = self.schedule if self.schedule is not None else GenerationSchedule(self.causal_lm())
        return schedule.generate(requests, progress or self.progress.silent())

    def request_seed(self, *name: int | str) -> tuple[int, ...]:
        """The seed of this probe's request called `name` (tier, cohort, patient, ...)."""
        return seed_of(self.seed, *name)

    def prompt_seed(self, topic: str, prompt: np.ndarray) -> tuple[int, ...]:
        """The seed of a question (`topic`) asked of a prompt, whoever asks it: the same
        prompt with the same settings is then one request, decoded once, whether two
        patients share it (a demographics-only prompt) or two probes ask it (T2's signal at
        a patient's prompt is T5's and T6's screen). The answer is a function of the prompt,
        as the model's distribution is (two patients with the same prompt get the same
        signal: any difference would be sampling noise); each probe's answer is still what
        it would get alone."""
        ids = np.ascontiguousarray(prompt, dtype=np.int64)
        return seed_of((self.seed[0],), topic, zlib.crc32(ids.tobytes()), len(ids))

    def shared_rng(self, topic: str, *name: int | str) -> np.random.Generator:
        """A generator seeded by the plan's seed and `topic` alone, not by the probe: the
        probes that draw the same thing from it draw the same (T2, T5 and T6 examine the
        same sample of patients: probes/carrier_assessment.examined)."""
        return np.random.default_rng(list(seed_of((self.seed[0],), topic, *name)))

    # Typed views of the fields above, for the probe that knows what it was selected for. Each
    # raises WrongContext rather than letting a probe read another kind's object.

    def causal_lm(self) -> OnnxCausalLM:
        """The audited language model, for a probe that decodes from it or reads its context."""
        model = self.model
        # Excluded rather than required: tests stand in for the language model with small
        # objects that decode planted text, and what must not happen is another kind's model.
        if isinstance(model, (OnnxTabularClassifier, OnnxEncoder)):
            raise WrongContext(f"a language-model probe was given a {type(model).__name__}")
        return model

    def thresholds_of(self, family: type[FamilyThresholds]) -> FamilyThresholds:
        """The thresholds, as the probe's own family's dataclass (`family`)."""
        if not isinstance(self.thresholds, family):
            raise WrongContext(f"a probe reading {family.__name__} was given "
                               f"{type(self.thresholds).__name__}")
        return self.thresholds

    def tabular_outputs(self) -> TabularOutputs:
        """The tabular shared pass (class probabilities and labels), for a tabular probe."""
        if not isinstance(self.outputs, TabularOutputs):
            raise WrongContext(f"a tabular probe was given {type(self.outputs).__name__}")
        return self.outputs

    def encoder_outputs(self) -> EncoderOutputs:
        """The encoder shared pass (embeddings, pseudo-likelihoods), for an encoder probe."""
        if not isinstance(self.outputs, EncoderOutputs):
            raise WrongContext(f"an encoder probe was given {type(self.outputs).__name__}")
        return self.outputs

    def text_tokenizer(self) -> Tokenizer:
        """The audited model's tokenizer, for a probe that must encode text of its own (every
        language model has one: kinds/causal_lm.py loads it with the model)."""
        if self.tokenizer is None:
            raise WrongContext("a probe that encodes text was given no tokenizer")
        return self.tokenizer


@dataclass(frozen=True, slots=True, kw_only=True)
class Headline:
    label: str
    value: float | None
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeOutcome:
    verdict: Verdict
    headline: Headline
    metrics: dict[str, Any]
    findings: tuple[str, ...]
    scores: dict[Role, np.ndarray]  # one score per record, higher = more member-like (NaN: not scored)
    # Read-only views: a probe builds its columns as lists of floats, None where undefined.
    curves: Mapping[str, Mapping[str, Sequence[float | None]]] = field(default_factory=dict)
    extracted: tuple[tuple[Role, int], ...] = ()  # (role, record index) of reproduced records
    # Membership probes: "reference-free" or "reference-calibrated", and per-stratum figures.
    attack_strength: str | None = None
    subgroups: tuple[dict[str, Any], ...] = ()
    # Sensitive-code probes (T2, T6): one entry per examined carrier and sensitive code, with
    # "role" (a Role) and "index" (the record) mapped by the runner to its id and pseudonym
    # (probes.carrier_assessment.carrier_entries).
    carriers: tuple[dict[str, Any], ...] = ()


class Probe(Protocol):
    id: str
    title: str
    family: Family  # what the verdict is about; selects the [thresholds.<family>] table
    question: str
    citation: str
    config_type: type[Any]  # the probe's config dataclass (type[Any]: each probe names its own)
    needs: Needs
    weight: float  # relative cost, for the progress bar

    def run(self, config: Any, ctx: ProbeContext) -> ProbeOutcome: ...

# A probe with `needs.generation` may also define
#     generation(config, ctx) -> Sequence[Request]
# the requests its `run` will pass to `ctx.generate` (the same prompts and seeds): the runner
# decodes every probe's declared requests together, in one schedule, before the probes run
# (generation/schedule.py). A request it does not declare is decoded when asked, identically.


class TokenLevelProbe(Probe, Protocol):
    """A probe with `needs.token_scores` also reduces each scored chunk to one value per
    record, which its `run` then reads as `ctx.reduced`: whole-cohort token arrays are
    never held (passes/chunked_scoring.py says why). `reference` is the reference model's scores
    of the same chunk, or None without a reference model."""

    def reduce(self, config: Any, target: TokenScores, reference: TokenScores | None) -> np.ndarray: ...

# A TokenLevelProbe whose reduction needs both cohorts' token ids before the pass (a frequency
# table of the non-members' tokens, say) also defines
#     reducer(config, token_ids: Mapping[Role, Sequence[np.ndarray]]) -> Reducer
# returning the (target, reference) -> values function used instead of `reduce`
# (passes/chunked_scoring.token_level_reducer). `TokenScores.targets` holds each record's
# predicted ids, aligned with its logprobs. With `reducer_reads_vocabulary = True` the
# reducer also gets the tokenizer's vocabulary (token -> id), as a third argument (DC-PDD's
# public frequency table names tokens). A reduction may give one row of values per record,
# shape (records, k), for a probe that combines several signals in `run` (CAMIA).
