"""Side inputs: what an EHR model reads per token beside its ids (type, age, time, visit,
visit segment, position), declared per graph input and computed from event features.

The mapping comes from the plan's `[model.inputs]` / `[model.token_types]`
(plan/side_input_keys.py) over `side_inputs.json` beside the model (the export's own
declaration). `side_values` is the one definition of each source's values, so a control
trained with it is audited with the same numbers. `SideFeed` builds the arrays of a
batch: for full rows (scoring, prompts) and one column per decoding step, where a
generated token takes the visit, age and time of the token before it, the next position,
and the type of its own word.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audit_core.data.events import DAYS_PER_YEAR, EventFeatures
from audit_core.errors import ModelError, PlanError
from audit_core.models.model_files import regular_file_present
from audit_core.plan.side_input_keys import (
    EVENT_FREE_SOURCES,
    HOW_TO_MAP,
    OTHER,
    SPECIAL,
    parse_inputs,
    parse_token_types,
    token_head,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from audit_core.models.event_lookup import RecordIndex
    from audit_core.models.inspection import ModelInfo

SIDE_INPUTS_FILE = "side_inputs.json"
# Inputs the causal-LM adapter feeds itself; any other graph input needs a mapping.
FED_BY_ADAPTER = ("input_ids", "attention_mask", "position_ids")
_SPECIAL_NAMES = frozenset({"[PAD]", "[UNK]", "[BOS]", "[EOS]", "[CLS]", "[SEP]", "[MASK]", "<s>",
                            "</s>", "<pad>", "<unk>", "<mask>", "<|endoftext|>", "<|pad|>", "<|unk|>"})
_DTYPES = {"int64": np.int64, "int32": np.int32, "float32": np.float32, "float64": np.float64,
           "float16": np.float16}


@dataclass(frozen=True, slots=True)
class SideInput:
    name: str  # the graph input
    source: str  # one of plan.side_input_keys.SOURCES
    dtype: type  # what the graph reads (the values are cast to it)


def read_side_inputs_file(folder: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The export's declaration beside the model ({} and {} when there is none)."""
    path = folder / SIDE_INPUTS_FILE
    if not regular_file_present(path):
        return {}, {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or set(raw) - {"inputs", "token_types"}:
            raise PlanError("it must hold a table with the keys inputs and token_types only")
        return (parse_inputs(raw.get("inputs", {}), f"{SIDE_INPUTS_FILE}: inputs"),
                parse_token_types(raw.get("token_types", {}), f"{SIDE_INPUTS_FILE}: token_types"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelError(f"{path} is not valid JSON") from None
    except PlanError as exc:
        raise ModelError(f"{path}: {exc}") from None


def resolve_side_inputs(info: ModelInfo, inputs: Mapping[str, str] | None = None,
                        token_types: Mapping[str, int] | None = None, *,
                        strict: bool = True) -> tuple[tuple[SideInput, ...], dict[str, int]]:
    """The graph's side inputs with their sources: side_inputs.json, overridden entry by
    entry by the plan's tables. Refuses a graph input nobody maps (naming it and how to map
    it) and, when `strict`, a mapping of an input the graph does not take (a reference
    model is read with the audited model's plan, so it is not strict)."""
    declared_inputs, declared_types = read_side_inputs_file(info.folder)
    mapping = {**declared_inputs, **(inputs or {})}
    types = {**declared_types, **(token_types or {})}
    graph = {t.name: t for t in info.inputs}
    unknown = [n for n in graph if n not in FED_BY_ADAPTER and "past" not in n and n not in mapping]
    if unknown:
        raise ModelError(f"{info.name} has inputs the tool does not know how to feed: "
                         f"{', '.join(unknown)}; {HOW_TO_MAP} (mnemoscope inspect proposes one)")
    missing = [n for n in mapping if n not in graph]
    if missing and strict:
        raise PlanError(f"'model.inputs' maps {', '.join(missing)}, which {info.name} does not "
                        f"take (its inputs: {', '.join(graph)})")
    out = []
    for name, source in mapping.items():
        if name not in graph:
            continue
        dtype = _DTYPES.get(graph[name].type)
        if dtype is None:
            raise ModelError(f"{info.name}: input '{name}' is of type {graph[name].type}; a side "
                             "input must be an integer or floating-point tensor")
        out.append(SideInput(name, source, dtype))
    if any(s.source == "type" for s in out) and not types:
        raise PlanError(f"{info.name} reads token types (input "
                        f"'{next(s.name for s in out if s.source == 'type')}') but no "
                        "[model.token_types] table says which word head has which type id "
                        f"(in the plan or {SIDE_INPUTS_FILE})")
    return tuple(out), types


def token_type_table(tokenizer: Tokenizer, token_types: Mapping[str, int], size: int) -> np.ndarray:
    """Each token id's type (`size` ids, the model's vocabulary): the head of its word through
    `token_types`; special tokens take "special", unnamed heads "other" (0 when unset)."""
    other = int(token_types.get(OTHER, 0))
    special = int(token_types.get(SPECIAL, other))
    specials = {i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}
    table = np.full(size, other, dtype=np.int64)
    for token_id in range(min(size, tokenizer.get_vocab_size(with_added_tokens=True))):
        token = tokenizer.id_to_token(token_id)
        if token is None:
            continue
        if token_id in specials or token in _SPECIAL_NAMES:
            table[token_id] = special
        else:
            table[token_id] = token_types.get(token_head(token), other)
    return table


def side_values(source: str, events: EventFeatures, types: np.ndarray | None) -> np.ndarray:
    """One source's values for one row of tokens (`types`: each token's type id). Unknown
    times and ages (NaN: static rows, no birth row) are fed as 0."""
    if source == "type":
        assert types is not None
        return types
    if source == "position":
        return np.arange(len(events), dtype=np.int64)
    if source == "visit":
        return events.visit
    if source == "visit_segment":  # EHRMamba's: 0 before the first visit, then 1, 2, 1, 2...
        return np.where(events.visit > 0, 2 - events.visit % 2, 0)
    scale = {"age_years": 1.0, "time_days": 1.0, "time_weeks": 7.0, "time_years": DAYS_PER_YEAR}[source]
    values = events.age_years if source == "age_years" else events.time_days / scale
    return np.nan_to_num(values, nan=0.0)


def extended(events: EventFeatures | None, length: int) -> EventFeatures:
    """`events` cut or extended to `length` tokens by the rule: a token past the known ones
    takes the time, age and visit of the token before it (none before: unknown, visit 0)."""
    if events is not None and len(events) >= length:
        return events if len(events) == length else events.take(slice(0, length))
    if events is None or not len(events):
        return EventFeatures(np.full(length, np.nan), np.full(length, np.nan),
                             np.zeros(length, dtype=np.int64))
    index = np.minimum(np.arange(length), len(events) - 1)
    return events.take(index)


class SideFeed:
    """The side-input arrays of a batch for one model (its inputs, their sources, its
    token types, and the audited records to look events up in)."""

    def __init__(self, inputs: Sequence[SideInput], types: np.ndarray | None) -> None:
        self.inputs = tuple(inputs)
        self.types = types
        self.needs_events = any(s.source not in EVENT_FREE_SOURCES for s in self.inputs)
        self.records: RecordIndex | None = None

    def row_events(self, row: np.ndarray, given: EventFeatures | None) -> EventFeatures:
        """The events of one unpadded row: those given, else looked up in the records,
        extended by the rule past what is known."""
        if given is None and self.records is not None:
            given = self.records.find(row)
        return extended(given, len(row))

    def rows(self, ids: np.ndarray, mask: np.ndarray,
             events: Sequence[EventFeatures | None] | None) -> tuple[dict[str, np.ndarray], State]:
        """(B, T) right-padded ids and mask -> each side input's (B, T) array, and the state
        a decoding step extends (each row's last real token's values). Padding repeats a
        row's last value (masked, or causally after it)."""
        batch, width = ids.shape
        lengths = mask.astype(np.int64).sum(axis=1)
        out: dict[str, np.ndarray] = {s.name: np.zeros((batch, width), dtype=s.dtype) for s in self.inputs}
        last: dict[str, np.ndarray] = {s.name: np.zeros(batch, dtype=s.dtype) for s in self.inputs}
        if events is not None and len(events) != batch:
            raise ValueError("events needs one entry per row")
        for r in range(batch):
            n = int(lengths[r])
            row = ids[r, :n]
            given = events[r] if events is not None else None
            features = (self.row_events(row, given) if self.needs_events
                        else extended(None, n))  # type and position read no events
            types = self.types[row] if self.types is not None else None
            for s in self.inputs:
                values = side_values(s.source, features, types)
                out[s.name][r, :n] = values
                if n:
                    out[s.name][r, n:] = values[-1]
                    last[s.name][r] = values[-1]
        return out, State(last=last, lengths=lengths)

    def step(self, tokens: np.ndarray, state: State) -> tuple[dict[str, np.ndarray], State]:
        """The (B, 1) side inputs of the next token of each row after `state`, and the state
        after it: the visit, age, time (and segment) of the token before it; the next
        position; the type of its own word."""
        column: dict[str, np.ndarray] = {}
        for s in self.inputs:
            if s.source == "type":
                assert self.types is not None
                column[s.name] = self.types[tokens].astype(s.dtype)
            elif s.source == "position":
                column[s.name] = state.lengths.astype(s.dtype)
            else:
                column[s.name] = state.last[s.name]
        return ({name: v.reshape(-1, 1) for name, v in column.items()},
                State(last={**state.last, **column}, lengths=state.lengths + 1))


@dataclass(frozen=True, slots=True)
class State:
    """Per row: each side input's value at its last token, and how many tokens it has."""

    last: dict[str, np.ndarray]
    lengths: np.ndarray

    def repeat(self, n: int) -> State:
        """Each row's state for `n` samples of it (rows in the order np.repeat gives)."""
        return State({k: np.repeat(v, n, axis=0) for k, v in self.last.items()},
                     np.repeat(self.lengths, n, axis=0))

    def take(self, index: np.ndarray) -> State:
        """The state of rows `index` (a batch's rows repeated, or its unfinished rows)."""
        return State({k: v[index] for k, v in self.last.items()}, self.lengths[index])


def describe(inputs: Sequence[SideInput]) -> dict[str, Any]:
    """results.json's words for the mapping a run used: graph input -> source."""
    return {s.name: s.source for s in inputs}


PROPOSED = "proposed, check it"


def side_input_rows(info: ModelInfo) -> list[dict[str, Any]]:
    """What `inspect` and the desktop Model step show of the graph's inputs beyond ids and
    mask: name, dtype, shape, the source a run would use and where it comes from (the
    export's side_inputs.json, the tool itself for position_ids, or a proposal from the
    name for a person to check; source None where nothing fits)."""
    from audit_core.plan.side_input_keys import propose_inputs

    declared, _ = read_side_inputs_file(info.folder)
    names = [t.name for t in info.inputs]
    proposed = propose_inputs(names)
    rows = []
    for spec in info.inputs:
        if spec.name not in proposed:  # ids, mask, the KV cache
            continue
        source: str | None
        if spec.name in declared:
            source, origin = declared[spec.name], SIDE_INPUTS_FILE
        elif spec.name == "position_ids":
            source, origin = "position", "fed by the tool"
        else:
            source = proposed[spec.name]
            origin = PROPOSED if source else "none fits: map it in [model.inputs]"
        rows.append({"name": spec.name, "type": spec.type, "shape": list(spec.shape),
                     "source": source, "origin": origin})
    # A KV export's position_ids alone is no side input to speak of: the tool feeds it.
    return rows if any(r["origin"] != "fed by the tool" for r in rows) else []
