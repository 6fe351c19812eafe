"""T2 and T6 give on a demo slice the figures their per-resample bootstrap loops gave
before stats.bootstrap_curves evaluated whole blocks of resamples at once.

Each probe runs twice on the same stand-in model and seed: as it is, and with its
bootstrap replaced by the old loop (one `rng.integers` per cohort per resample, the
scalar stats.roc.auc and average_precision on each). Every verdict, metric, table and
stratum must match; average precision to float rounding, everything else exactly."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from audit_core.data.cohort import Role
from audit_core.models.onnx_causal_lm import Samples
from audit_core.probes import attribute_assessment, vulnerable_subgroups
from audit_core.probes.sensitive_attributes import SensitiveAttributes
from audit_core.probes.vulnerable_subgroups import VulnerableSubgroups
from audit_core.stats.disparity import _summary
from audit_core.stats.precision_recall import average_precision
from audit_core.stats.roc import auc
from tests.probes.demo_slice import clinical_context, flat_loss


@dataclasses.dataclass
class CodeSumModel:
    """A category mass that depends on the prompt's codes (a few levels: many ties), the
    same at every step and sample; no preference in the carriers' forward pass."""

    context_length: int = 128
    vocab_size: int = 1024

    def logits(self, input_ids, attention_mask):
        return np.zeros((*input_ids.shape, self.vocab_size), dtype=np.float32)

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64, **_side):
        mass = np.zeros((len(prompts), n, steps, len(watch)))
        for b, prompt in enumerate(prompts):
            for k in range(len(watch)):
                mass[b, :, :, k] = 0.01 * ((int(np.sum(prompt)) + 3 * k) % 5)
        return Samples(tokens=np.full((len(prompts), n, steps), -1, dtype=np.int64), mass=mass)


def _loop_boot(y, s, rng):
    """T2's bootstrap as it was (probes.attribute_assessment._boot before the blocks)."""
    out = np.full((attribute_assessment._RESAMPLES, 2), np.nan)
    for b in range(attribute_assessment._RESAMPLES):
        pick = rng.integers(0, len(y), len(y))
        yb, sb = y[pick], s[pick]
        if yb.any() and not yb.all():
            out[b] = auc(sb[yb], sb[~yb]), average_precision(sb, yb)
    return out


class _ScalarAuc:
    """stats.roc.auc on each resample, the scores repeated as often as they were drawn."""

    def __init__(self, positives, negatives):
        self.positives, self.negatives, self.width = positives, negatives, 1

    def __call__(self, weights_pos, weights_neg):
        out = []
        for w_p, w_n in zip(weights_pos, weights_neg):
            p, n = np.repeat(self.positives, w_p), np.repeat(self.negatives, w_n)
            out.append(auc(p, n) if len(p) and len(n) else np.nan)
        return np.asarray(out)

    @property
    def order(self):
        return np.argsort(self.negatives, kind="stable")

    def ranked(self, weights_pos, ranked_neg):
        """The same, the negatives' weights given in `order` (as T6's disclosure gap gives them)."""
        return _ScalarAuc(self.positives, self.negatives[self.order])(weights_pos, ranked_neg)


def _loop_disparity(statistic, in_m, in_n, rng, resamples=1000, confidence=0.95, keep_draws=False):
    """T6's paired bootstrap as it was (stats.disparity.stratum_disparity before the blocks)."""
    n1, n0 = len(in_m), len(in_n)

    def at(rows_m, rows_n):
        return statistic(np.bincount(rows_m, minlength=n1)[None], np.bincount(rows_n, minlength=n0)[None])[0]
    whole, inside = at(np.arange(n1), np.arange(n0)), at(np.flatnonzero(in_m), np.flatnonzero(in_n))
    if not (np.isfinite(whole) and np.isfinite(inside)):
        return {"value": None, "ci": None, "p_value": None, **({"draws": None} if keep_draws else {})}
    diffs = []
    for _ in range(resamples):
        rows_m, rows_n = rng.integers(0, n1, n1), rng.integers(0, n0, n0)
        d = at(rows_m[in_m[rows_m]], rows_n[in_n[rows_n]]) - at(rows_m, rows_n)
        if np.isfinite(d):
            diffs.append(d)
    out = _summary(inside - whole, np.asarray(diffs), confidence)
    if keep_draws:
        out["draws"] = np.asarray(diffs) if out["p_value"] is not None else None
    return out


def _same(a, b, path=""):
    """Equal, floats under 'auprc' to 1e-12 (their sums are grouped differently)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, float) and "auprc" in path:
        assert math.isclose(a, b, rel_tol=0, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), path
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"


def _outcome(o):
    return {"verdict": o.verdict, "headline": o.headline.text, "metrics": o.metrics, "curves": o.curves,
            "findings": list(o.findings), "subgroups": list(o.subgroups), "scores": o.scores}


def test_t2_gives_the_loops_figures(demo_slice, monkeypatch) -> None:
    probe = SensitiveAttributes()
    config = dataclasses.replace(probe.config_type(), tiers="10", samples=1, horizon=4, max_records=40,
                                 baseline_samples=1)

    def run():
        ctx = clinical_context(demo_slice, CodeSumModel(), "attribute", flat_loss(demo_slice))
        return _outcome(probe.run(config, ctx))
    vectorized = run()
    monkeypatch.setattr(attribute_assessment, "_boot", _loop_boot)
    looped = run()
    assert vectorized["metrics"]["cells_assessed"] >= 2  # intervals were bootstrapped
    _same(vectorized, looped)


def test_t6_gives_the_loops_figures(demo_slice, monkeypatch) -> None:
    probe = VulnerableSubgroups()
    config = dataclasses.replace(probe.config_type(), samples=1, horizon=4, max_records=40, resamples=200)
    loss = flat_loss(demo_slice)
    loss[Role.MEMBERS] = np.round(loss[Role.MEMBERS], 1)  # ties

    def run():
        return _outcome(probe.run(config, clinical_context(demo_slice, CodeSumModel(), "subgroups", loss)))
    vectorized = run()
    monkeypatch.setattr(vulnerable_subgroups, "RankedAuc", _ScalarAuc)
    monkeypatch.setattr(vulnerable_subgroups, "stratum_disparity", _loop_disparity)
    looped = run()
    tested = [r for r in vectorized["subgroups"] if r.get("disclosure_gap_disparity") is not None]
    assert len(tested) >= 2 and any(r["auc_disparity"] is not None for r in vectorized["subgroups"])
    _same(vectorized, looped)
