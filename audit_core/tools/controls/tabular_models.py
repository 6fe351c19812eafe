"""Tabular control models: one that memorizes its training patients and one that cannot.

* `overfit_forest`: a random forest of fully grown trees (leaves of one patient). Every
  training patient's noisy outcome is learnt by heart: its confidence on members is near
  1 and on others it is not. The tabular probes must FAIL it.
* `regularised_logistic`: an L2 logistic regression on standardised features. It can only
  learn the smooth risk; members and non-members look alike to it and it must not FAIL.

Both are trained with scikit-learn and exported with skl2onnx (the `controls` extra);
the audit reads the ONNX files with onnxruntime only. The forest keeps skl2onnx's
default ZipMap output, the logistic regression a plain probability tensor, so that both
output forms are exercised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audit_core.tools.controls.tabular_cohort import FEATURES, LABEL

FOREST_TREES = 40
LOGISTIC_C = 0.05
ONNX_OPSET = 17


def overfit_forest(frame, seed: int):
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=FOREST_TREES, max_depth=None, min_samples_leaf=1,
                                    max_features="sqrt", bootstrap=False, random_state=seed,
                                    n_jobs=1)
    return forest.fit(_features(frame), frame[LABEL].to_numpy())


def regularised_logistic(frame, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=LOGISTIC_C, max_iter=1000,
                                                               random_state=seed))
    return model.fit(_features(frame), frame[LABEL].to_numpy())


def export_classifier(model, path: Path, *, zipmap: bool = True) -> Path:
    """Write `model` as ONNX (one float input [N, len(FEATURES)]); deterministic bytes."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    options = None if zipmap else {id(model): {"zipmap": False}}
    if not zipmap and hasattr(model, "steps"):  # a pipeline: the option belongs to its classifier
        options = {id(model.steps[-1][1]): {"zipmap": False}}
    proto = to_onnx(model, initial_types=[("input", FloatTensorType([None, len(FEATURES)]))],
                    options=options, target_opset={"": ONNX_OPSET, "ai.onnx.ml": 3})
    proto.producer_name, proto.producer_version = "skl2onnx", ""  # no version drift in the bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(proto.SerializeToString())
    return path


def _features(frame) -> np.ndarray:
    return frame[list(FEATURES)].to_numpy(dtype=np.float32)
