"""The plan's side-input tables: `[model.inputs]` (graph input -> source) and
`[model.token_types]` (a word's head -> type id), their checks, and the mapping proposed
from a graph's input names.

EHR foundation models (EHRMamba and its kind) read, beside the code ids, each token's
type, the patient's age, a time stamp, the visit number and the visit segment. What
each graph input holds is declared, not guessed at run time: the plan (or the export's
side_inputs.json) names a source per input; `propose_inputs` only suggests one for a
person to check (`mnemoscope inspect`, the desktop Model step).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from audit_core.errors import PlanError

# Where each side input's values come from (models/side_inputs.side_values computes them).
SOURCES = ("type", "age_years", "time_days", "time_weeks", "time_years", "visit",
           "visit_segment", "position")
# Sources computed from the token ids alone: a cohort of codes without event data feeds them.
EVENT_FREE_SOURCES = frozenset({"type", "position"})
# The reserved keys of [model.token_types]: special tokens (BOS/EOS/PAD/UNK...) and any
# head the table does not name.
SPECIAL, OTHER = "special", "other"
# Inputs the causal-LM adapter feeds itself (ids, mask, KV cache) and never maps.
BUILT_IN_INPUTS = ("input_ids", "attention_mask")

HOW_TO_MAP = ('map each in the plan, [model.inputs] name = "' + '" | "'.join(SOURCES) + '", '
              "or in side_inputs.json beside the model")


def parse_inputs(table: Any, where: str = "model.inputs") -> dict[str, str]:
    """`[model.inputs]`: every value one of SOURCES."""
    if not isinstance(table, Mapping):
        raise PlanError(f"'{where}' must be a table of graph input name = source")
    out: dict[str, str] = {}
    for name, source in table.items():
        if not isinstance(name, str) or not name or name in BUILT_IN_INPUTS:
            raise PlanError(f"'{where}' may not map '{name}': the tool feeds it itself")
        if not isinstance(source, str) or source not in SOURCES:
            raise PlanError(f"'{where}.{name}' must be one of {', '.join(SOURCES)}"
                            + (f" (got '{source}')" if isinstance(source, str) else ""))
        out[name] = source
    return out


def parse_token_types(table: Any, where: str = "model.token_types") -> dict[str, int]:
    """`[model.token_types]`: head -> a non-negative integer type id."""
    if not isinstance(table, Mapping):
        raise PlanError(f"'{where}' must be a table of word head = type id")
    out: dict[str, int] = {}
    for head, value in table.items():
        if not isinstance(head, str) or not head:
            raise PlanError(f"'{where}' holds an empty head")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PlanError(f"'{where}.{head}' must be a non-negative integer type id")
        out[head] = value
    return out


def token_head(token: str) -> str:
    """The part of a word before its first "//" or "/" ("DIAGNOSIS//ICD//10//E119" ->
    "DIAGNOSIS", "ICD10CM/E11.9" -> "ICD10CM"); the whole word when it has neither."""
    cut = token.find("/")
    return token if cut <= 0 else token[:cut]


# Input names seen in EHR exports (EHRMamba/odyssey, CEHR-BERT, ...) -> the likely source.
_PROPOSALS = (
    (re.compile(r"^(token_)?type(_ids?)?$|^token_types?$"), "type"),
    (re.compile(r"^ages?(_years)?$"), "age_years"),
    (re.compile(r"^(time_stamps?|timestamps?|times?)$"), "time_days"),
    (re.compile(r"^visit_(orders?|ids?|numbers?)$|^visits?$"), "visit"),
    (re.compile(r"^(visit_segments?|segment_ids?|segments?)$"), "visit_segment"),
    (re.compile(r"^position(_ids?)?$|^positions$"), "position"),
)


def propose_inputs(names: Iterable[str]) -> dict[str, str | None]:
    """A source for each input name beyond ids and mask (None where none fits); a
    proposal for a person to check, never applied silently to a run. Past key/values
    (KV-cache inputs) are not side inputs and are left out."""
    out: dict[str, str | None] = {}
    for name in names:
        if name in BUILT_IN_INPUTS or "past" in name:
            continue
        key = name.lower()
        out[name] = next((source for pattern, source in _PROPOSALS if pattern.match(key)), None)
    return out


def side_input_tables(inputs: Mapping[str, str], token_types: Mapping[str, int]) -> dict[str, Any]:
    """The plan's [model] entries for the tables, only those that are set (so a plan
    without them reads back as before)."""
    out: dict[str, Any] = {}
    if inputs:
        out["inputs"] = dict(inputs)
    if token_types:
        out["token_types"] = dict(token_types)
    return out
