"""A small L2-regularised logistic regression with stratified cross-validation.

Enough for a model-free "can these two files be told apart?" baseline (the split check):
out-of-fold scores only, so the AUC they give is an honest estimate of how separable
the two sets are, not of how well the classifier memorised them. scipy's L-BFGS does
the fitting; the feature matrix may be sparse (bag of codes).
"""

from __future__ import annotations

import numpy as np


def fit_logistic(features, labels: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising log-loss + l2/2 |w|^2 (intercept not penalised).

    Newton-CG with Hessian-vector products: a handful of outer steps even with thousands
    of sparse columns, where quasi-Newton methods crawl.
    """
    from scipy.optimize import minimize

    n, d = features.shape
    y = labels.astype(np.float64)
    penalty = np.r_[np.full(d, l2), 0.0]

    def margins(theta: np.ndarray) -> np.ndarray:
        return np.asarray(features @ theta[:d]).ravel() + theta[d]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = margins(theta)
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * (penalty * theta) @ theta)
        residual = 1.0 / (1.0 + np.exp(-z)) - y
        grad = np.r_[np.asarray(features.T @ residual).ravel(), residual.sum()] + penalty * theta
        return loss, grad

    def hessian_times(theta: np.ndarray, vector: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-margins(theta)))
        weighted = p * (1.0 - p) * (np.asarray(features @ vector[:d]).ravel() + vector[d])
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
    0/1 matrix, or None) is used as is so that it stays sparse.
    """
    from scipy import sparse

    assignment = stratified_folds(labels, folds, rng)
    scores = np.empty(len(labels))
    for fold in range(folds):
        test, train = assignment == fold, assignment != fold
        mean = numeric[train].mean(axis=0) if numeric.shape[1] else np.zeros(0)
        std = numeric[train].std(axis=0) if numeric.shape[1] else np.zeros(0)
        std = np.where(std > 0, std, 1.0)
        scaled = (numeric - mean) / std
        blocks = [sparse.csr_matrix(scaled)]
        if binary is not None and binary.shape[1]:
            blocks.append(sparse.csr_matrix(binary))
        matrix = sparse.hstack(blocks, format="csr")
        weights, intercept = fit_logistic(matrix[train], labels[train], l2)
        scores[test] = np.asarray(matrix[test] @ weights).ravel() + intercept
    return scores
