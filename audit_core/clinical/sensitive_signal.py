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

from collections.abc import Callable, Sequence

import numpy as np

from audit_core.data.events import EventFeatures

MASS = "mass"
SAMPLES = "samples"
SIGNALS = (MASS, SAMPLES)


def category_signals(model, prompts: Sequence[np.ndarray], categories: Sequence[np.ndarray], *,
                     signal: str, horizon: int, samples: int, temperature: float, top_p: float,
                     rng: np.random.Generator, stop_ids: Sequence[int], batch_size: int,
                     on_chunk: Callable[[float], None] = lambda _f: None,
                     events: Sequence[EventFeatures | None] | None = None) -> np.ndarray:
    """(len(prompts), len(categories)) signals. `events`: one per prompt, given to the
    model's side inputs (T5's time and age perturbations on event data); None: none given."""
    out = np.zeros((len(prompts), len(categories)))
    chunk = max(1, 4 * batch_size // max(samples, 1))
    for start in range(0, len(prompts), chunk):
        part = list(prompts[start:start + chunk])
        # Only when given: a model without side inputs (and the tests' stand-ins) takes none.
        side = {} if events is None else {"events": list(events[start:start + chunk])}
        drawn = model.sample(part, horizon, n=samples, rng=rng, temperature=temperature, top_p=top_p,
                             stop_ids=stop_ids, watch=list(categories), batch_size=batch_size, **side)
        if signal == MASS:
            mass = np.clip(drawn.mass, 0.0, 1.0)  # (B, n, steps, K)
            out[start:start + len(part)] = (1.0 - np.prod(1.0 - mass, axis=2)).mean(axis=1)
        else:
            for k, ids in enumerate(categories):
                out[start:start + len(part), k] = np.isin(drawn.tokens, ids).any(axis=2).mean(axis=1)
        on_chunk(min(start + chunk, len(prompts)) / max(len(prompts), 1))
    return out


def without(ids: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """The ids without the removed tokens; the first (start) token always stays."""
    keep = ~np.isin(ids, removed)
    keep[:1] = True
    return ids[keep]
