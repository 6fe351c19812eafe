"""How one MEDS event becomes one word of a record ([data.tokens] of the plan).

By default the word is the code as is. A prefix map rewrites the start of a code (the
longest matching prefix wins), e.g. "DIAGNOSIS//ICD//10//" -> "ICD10//", so the words match
the vocabulary the model was trained on. Numeric values can join the word as a bin:
"LAB//51237//UNK" with value 1.3 becomes "LAB//51237//UNK//Q3", the third bin of that code,
where bins are (a) the quantiles of `metadata/codes.parquet` (a `values/quantiles` column:
a struct or list of the code's quantile values, as MEDS-Transforms writes them) when it has
them for the code, else the quantiles of the members' own values (the training split: what
the model learned its bins from), `bins` bins per code; or (b) explicit `edges` per code.
Bin k holds values v with edge[k-2] <= v < edge[k-1] (Q1 below the first edge). An event
without a value, or whose code has no bins, keeps the plain word.

A record's words are joined by single spaces, so whitespace inside a code (MIMIC-IV's
medication names have some) becomes "_": one event stays one word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from audit_core.plan.meds_keys import TokenSpec

BIN_SEPARATOR = "//Q"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class WordRule:
    prefixes: tuple[tuple[str, str], ...] = ()  # longest prefix first
    edges: Mapping[str, np.ndarray] = field(default_factory=dict)  # code -> rising bin edges
    # code -> its base word, filled as codes are met: a dataset has far fewer codes than events
    cache: dict[str, str] = field(default_factory=dict, compare=False)

    def base(self, code: str) -> str:
        for prefix, replacement in self.prefixes:
            if code.startswith(prefix):
                code = replacement + code[len(prefix):]
                break
        return _SPACE.sub("_", code.strip())

    def words(self, codes: Iterable[str], values: np.ndarray) -> list[str]:
        """One word per event: the code (rewritten) and, when binned, its value's bin."""
        cache = self.cache
        out = []
        for code, value in zip(codes, values, strict=True):
            word = cache.get(code)
            if word is None:
                word = cache[code] = self.base(code)
            edges = self.edges.get(code)
            if edges is not None and value == value:  # NaN: the event has no value
                word = f"{word}{BIN_SEPARATOR}{int(np.searchsorted(edges, value, side='right')) + 1}"
            out.append(word)
        return out


def word_rule(spec: TokenSpec, metadata_quantiles: Mapping[str, np.ndarray],
              member_values: Mapping[str, np.ndarray]) -> WordRule:
    """The rule the plan declares; `metadata_quantiles` from codes.parquet, `member_values`
    the members' numeric values per code (used only for quantile bins)."""
    prefixes = tuple(sorted(spec.prefixes.items(), key=lambda item: -len(item[0])))
    edges: dict[str, np.ndarray] = {}
    if spec.numeric == "quantiles":
        for code, values in member_values.items():
            found = metadata_quantiles.get(code)
            cuts = found if found is not None else quantile_edges(values, spec.bins)
            if len(cuts):
                edges[code] = cuts
    if spec.numeric != "none":  # explicit edges win over quantiles for their codes
        edges.update({code: np.asarray(e, dtype=np.float64) for code, e in spec.edges.items()})
    return WordRule(prefixes=prefixes, edges=edges)


def quantile_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """The inner cut points of `bins` equal-count bins (repeated cuts merged)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return np.empty(0)
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def metadata_quantiles(table: object) -> dict[str, np.ndarray]:
    """Per code, the quantile values of codes.parquet's `values/quantiles` column (a struct
    of numbers, or a list), NaN and missing ones dropped; {} when the column is absent."""
    import pyarrow as pa

    assert isinstance(table, pa.Table)
    if "values/quantiles" not in table.column_names:
        return {}
    out: dict[str, np.ndarray] = {}
    for code, cuts in zip(table.column("code").to_pylist(), table.column("values/quantiles").to_pylist(),
                          strict=True):
        if code is None or cuts is None:
            continue
        numbers = list(cuts.values()) if isinstance(cuts, dict) else list(cuts)
        found = np.array([float(v) for v in numbers if isinstance(v, (int, float))], dtype=np.float64)
        found = np.unique(found[np.isfinite(found)])
        if len(found):
            out[str(code)] = found
    return out
