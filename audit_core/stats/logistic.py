"""A small L2-regularised logistic regression with stratified cross-validation.

Enough for a model-free "can these two files be told apart?" baseline (the split check):
out-of-fold scores only, so the AUC they give is an honest estimate of how separable
the two sets are, not of how well the classifier memorised them. scipy's L-BFGS does
the fitting; the feature matrix may be sparse (bag of codes).
"""

from __future__ import annotations

import numpy as np


def fit_logistic(features, labels: np.ndarray, l2: float = 1.0,
                 rows: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising log-loss + l2/2 |w|^2 (intercept not penalised).

    `rows` (a 0/1 weight per row) fits on a subset of the rows without copying them out
    of `features`: the others weigh nothing. Newton-CG with Hessian-vector products: a
    handful of outer steps even with thousands of sparse columns, where quasi-Newton
    methods crawl.
    """
    from scipy.optimize import minimize

    n, d = features.shape
    y = labels.astype(np.float64)
    weight = np.ones(n) if rows is None else np.asarray(rows, dtype=np.float64)
    penalty = np.r_[np.full(d, l2), 0.0]

    def margins(theta: np.ndarray) -> np.ndarray:
        return np.asarray(features @ theta[:d]).ravel() + theta[d]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = margins(theta)
        loss = float(weight @ (np.logaddexp(0.0, z) - y * z) + 0.5 * (penalty * theta) @ theta)
        residual = weight * (1.0 / (1.0 + np.exp(-z)) - y)
        grad = np.r_[np.asarray(features.T @ residual).ravel(), residual.sum()] + penalty * theta
        return loss, grad

    def hessian_times(theta: np.ndarray, vector: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-margins(theta)))
        weighted = weight * p * (1.0 - p) * (np.asarray(features @ vector[:d]).ravel() + vector[d])
        return (np.r_[np.asarray(features.T @ weighted).ravel(), weighted.sum()]
                + penalty * vector)

    result = minimize(objective, np.zeros(d + 1), jac=True, hessp=hessian_times,
                      method="Newton-CG", options={"maxiter": 100, "xtol": 1e-6})
    return result.x[:d], float(result.x[d])


def stratified_folds(labels: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold number per row, each class spread evenly over the folds in random order."""
    assignment = np.empty(len(labels), dtype=np.int64)
    for value in (0, 1):
        rows = np.flatnonzero(labels == value)
        assignment[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % folds
    return assignment


def out_of_fold_scores(numeric: np.ndarray, binary, labels: np.ndarray, folds: int,
                       rng: np.random.Generator, l2: float = 1.0) -> np.ndarray:
    """Decision values for every row from a model fitted on the other folds.

    `numeric` columns are standardised on the training folds only; `binary` (a sparse
    0/1 matrix, or None) is used as is so that it stays sparse. The two blocks are never
    stacked into one matrix, nor copied per fold: on a large cohort those copies were
    the largest allocations of the whole split check.
    """
    from scipy import sparse

    binary = sparse.csr_matrix(binary) if binary is not None and binary.shape[1] else None
    assignment = stratified_folds(labels, folds, rng)
    scores = np.empty(len(labels))
    for fold in range(folds):
        test, train = assignment == fold, assignment != fold
        mean = numeric[train].mean(axis=0) if numeric.shape[1] else np.zeros(0)
        std = numeric[train].std(axis=0) if numeric.shape[1] else np.zeros(0)
        std = np.where(std > 0, std, 1.0)
        # Every row stays in place (weights select the training folds): slicing the rows
        # out would copy the sparse block once per fold.
        features = _Columns((numeric - mean) / std, binary)
        weights, intercept = fit_logistic(features, labels, l2, rows=train)
        scores[test] = (features @ weights + intercept)[test]
    return scores


class _Columns:
    """A dense block beside a sparse one, multiplied as if side by side (what
    `fit_logistic` needs of its features: `shape`, `@ vector` and `.T @ vector`)."""

    def __init__(self, dense: np.ndarray, sparse_block, transposed: bool = False) -> None:
        self.dense, self.sparse, self.transposed = dense, sparse_block, transposed
        width = dense.shape[1] + (sparse_block.shape[1] if sparse_block is not None else 0)
        self.shape = (width, dense.shape[0]) if transposed else (dense.shape[0], width)

    @property
    def T(self) -> _Columns:  # noqa: N802 (numpy's name)
        return _Columns(self.dense, self.sparse, not self.transposed)

    def __matmul__(self, vector: np.ndarray) -> np.ndarray:
        k = self.dense.shape[1]
        if self.transposed:  # one value per column: the dense columns, then the sparse ones
            parts = [self.dense.T @ vector]
            if self.sparse is not None:
                parts.append(np.asarray(self.sparse.T @ vector).ravel())
            return np.concatenate(parts)
        out = self.dense @ vector[:k]
        if self.sparse is not None:
            out = out + np.asarray(self.sparse @ vector[k:]).ravel()
        return out
