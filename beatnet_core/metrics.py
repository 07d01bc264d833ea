"""Multi-label metrics of the PTB-XL benchmark: macro-AUC, per-class AUC, Fmax, bootstrap CIs.

Following Strodthoff et al., "Deep Learning for ECG Analysis: Benchmarks and
Insights from PTB-XL", IEEE JBHI 25(5), 2021: the macro-AUC averages the
per-class ROC AUCs, over the classes that have both positives and negatives
in the evaluated records; Fmax is the best sample-wise F1 over one global
threshold.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def evaluable_classes(y_true: np.ndarray) -> np.ndarray:
    """Indices of classes with at least one positive and one negative record."""
    pos = y_true.sum(axis=0)
    return np.flatnonzero((pos > 0) & (pos < y_true.shape[0]))


def per_class_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """ROC AUC per class; NaN where a class has no positives or no negatives."""
    out = np.full(y_true.shape[1], np.nan)
    for k in evaluable_classes(y_true):
        out[k] = roc_auc_score(y_true[:, k], y_score[:, k])
    return out


def macro_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean ROC AUC over the classes that have positives and negatives.

    >>> import numpy as np
    >>> macro_auc(np.array([[1, 0], [0, 1], [1, 1]]), np.array([[.9, .1], [.2, .8], [.7, .6]]))
    1.0
    """
    auc = per_class_auc(y_true, y_score)
    return float(np.nanmean(auc)) if np.isfinite(auc).any() else float("nan")


def fmax(y_true: np.ndarray, y_score: np.ndarray, thresholds: np.ndarray | None = None) -> float:
    """Sample-centric Fmax (as in the benchmark, after CAFA): the best F1, over one global
    threshold, of precision averaged over records with at least one predicted label and
    recall averaged over records with at least one true label."""
    thresholds = np.linspace(0.0, 1.0, 101) if thresholds is None else thresholds
    best = 0.0
    y_true = y_true.astype(bool)
    for t in thresholds:
        pred = y_score >= t
        has_pred = pred.any(axis=1)
        tp = (pred & y_true).sum(axis=1)
        if not has_pred.any():
            continue
        precision = (tp[has_pred] / pred[has_pred].sum(axis=1)).mean()
        has_true = y_true.any(axis=1)
        recall = (tp[has_true] / y_true[has_true].sum(axis=1)).mean()
        if precision + recall > 0:
            best = max(best, 2 * precision * recall / (precision + recall))
    return float(best)


def f1_thresholds(y_true: np.ndarray, y_score: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per-class decision threshold maximising that class's F1 (chosen on validation data)."""
    out = np.full(y_true.shape[1], default)
    for k in range(y_true.shape[1]):
        pos = y_true[:, k].astype(bool)
        if not pos.any():
            continue
        candidates = np.unique(np.round(y_score[:, k], 4))
        best_f1 = -1.0
        for t in candidates:
            pred = y_score[:, k] >= t
            tp = (pred & pos).sum()
            f1 = 2 * tp / max(1, pred.sum() + pos.sum())
            if f1 > best_f1:
                best_f1, out[k] = f1, float(t)
    return out


def bootstrap_ci(y_true: np.ndarray, y_score: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 alpha: float = 0.05) -> dict:
    """95 % percentile-bootstrap CIs of the macro-AUC and of each class's AUC.

    Records are resampled with replacement ``n_boot`` times; a resample in
    which a class has no positives (or no negatives) gives no AUC for it.
    The macro-AUC of a resample averages the classes evaluable in the full set.
    """
    rng = np.random.default_rng(seed)
    n = y_true.shape[0]
    classes = evaluable_classes(y_true)
    per_class = np.full((n_boot, y_true.shape[1]), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        yt, ys = y_true[idx], y_score[idx]
        for k in classes:
            col = yt[:, k]
            if 0 < col.sum() < n:
                per_class[b, k] = roc_auc_score(col, ys[:, k])
    macro = np.nanmean(per_class[:, classes], axis=1) if classes.size else np.full(n_boot, np.nan)
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)

    def interval(values):
        v = values[np.isfinite(values)]
        return [float(np.percentile(v, lo)), float(np.percentile(v, hi))] if v.size else [None, None]

    return {"macro_auc": interval(macro),
            "per_class_auc": [interval(per_class[:, k]) for k in range(y_true.shape[1])],
            "n_boot": n_boot, "seed": seed}
