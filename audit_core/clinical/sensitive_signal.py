"""How strongly sampled continuations reveal a sensitive category (T2's signal).

Two signals per prompt and category, both in [0, 1]:

* `samples`: the share of sampled continuations that contain a code of the category
  (Tonekaboni et al. 2025's p-hat);
* `mass`: along each sampled continuation, the chance that the category comes up in the
  horizon, 1 - prod_t (1 - m_t), with m_t the probability the sampling distribution puts
  on the category's codes at step t; averaged over the samples. It reads the model's
  distribution instead of the draws, so a few samples give a smooth score (the share of
  4 samples takes only 5 values and ties most patients at 0); it is the default.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audit_core.clinical.category_lookup import CategoryLookup
from audit_core.data.events import EventFeatures
from audit_core.generation import Generated, Request, Watch

# The seed topic of T2's signal at a patient's prompt, shared by T2, T5 and T6
# (ProbeContext.prompt_seed): the same prompt with the same settings is one request.
SIGNAL_TOPIC = "sensitive_signal"
MASS = "mass"
SAMPLES = "samples"
SIGNALS = (MASS, SAMPLES)


def signal_requests(prompts: Sequence[np.ndarray], watch: Watch | None, seeds: Sequence[tuple[int, ...]], *,
                    horizon: int, samples: int, temperature: float, top_p: float,
                    stop_ids: Sequence[int],
                    events: Sequence[EventFeatures | None] | None = None) -> list[Request]:
    """One request per prompt: `samples` continuations of `horizon` tokens, the categories
    watched (None: decoded text is read instead, on notes). `seeds`: one per prompt (the probe's name for it); `events`: one per prompt for
    the model's side inputs (T5's time and age perturbations on event data), or None."""
    return [Request(prompt=p, steps=horizon, n=samples, temperature=temperature, top_p=top_p,
                    stops=tuple(stop_ids), watch=watch, seed=seed,
                    events=None if events is None else events[i])
            for i, (p, seed) in enumerate(zip(prompts, seeds, strict=True))]


def signals_from(answers: Sequence[Generated], watch: Watch, signal: str) -> np.ndarray:
    """(len(answers), categories) signals of the answers to `signal_requests`."""
    out = np.zeros((len(answers), len(watch.sets)))
    for row, answer in enumerate(answers):
        if signal == MASS:
            mass = np.clip(answer.mass, 0.0, 1.0)  # (n, steps, K)
            out[row] = (1.0 - np.prod(1.0 - mass, axis=1)).mean(axis=0)
        else:
            for k, ids in enumerate(watch.sets):
                out[row, k] = np.isin(answer.tokens, ids).any(axis=1).mean()
    return out


def without(ids: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """The ids without the removed tokens; the first (start) token always stays."""
    return Without(removed)(ids)


class Without:
    """`without(ids, removed)` for one `removed` and many records: a table read per record
    instead of an `np.isin` (its set-up was most of the time on short records; T2, T5, T6
    strip every examined prompt), with the same result."""

    def __init__(self, removed: np.ndarray) -> None:
        self._lookup = CategoryLookup([np.asarray(removed)])

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        keep = ~self._lookup.holds(ids, 0)
        keep[:1] = True
        return ids[keep]
