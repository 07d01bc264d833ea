"""Multi-label metrics of the PTB-XL benchmark: macro-AUC, per-class AUC, Fmax, bootstrap CIs.

Following Strodthoff et al., "Deep Learning for ECG Analysis: Benchmarks and
Insights from PTB-XL", IEEE JBHI 25(5), 2021: the macro-AUC averages the
per-class ROC AUCs, over the classes that have both positives and negatives
in the evaluated records; Fmax is the best sample-wise F1 over one global
threshold.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata
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


def fold_mean(metric, y_true: np.ndarray, y_score: np.ndarray, groups=None):
    """``metric(y_true, y_score)``, or with ``groups`` (one label per record) its mean over the groups.

    Cross-validation scores each held-out fold with the model trained
    without it; averaging the folds' own figures never ranks one fold's
    scores against another model's, whose calibration differs. Array
    metrics (per-class AUC) are averaged per element, ignoring NaN.

    >>> y = np.array([[1], [0], [1], [0]]); s = np.array([[.9], [.5], [.2], [.1]])
    >>> fold_mean(macro_auc, y, s, groups=[1, 1, 2, 2]), macro_auc(y, s)   # each fold ranks perfectly
    (1.0, 0.75)
    """
    if groups is None:
        return metric(y_true, y_score)
    values = [metric(y_true[rows], y_score[rows]) for rows in _group_rows(groups)]
    with warnings.catch_warnings():   # a class evaluable in no group stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0) if np.ndim(values[0]) else float(np.mean(values))


def _group_rows(groups) -> list[np.ndarray]:
    groups = np.asarray(groups)
    return [np.flatnonzero(groups == g) for g in dict.fromkeys(groups.tolist())]


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


def _bootstrap_class_aucs(y_true: np.ndarray, y_score: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Per-class AUC of ``n_boot`` resamples of the records, (n_boot, classes); NaN where not evaluable.

    The resamples depend only on ``seed`` and the number of records, so two
    models scored on the same records with the same seed see the same
    resamples (what makes :func:`paired_bootstrap_difference` paired). The
    AUC is the Mann-Whitney statistic from mid-ranks, equal to scikit-learn's
    ``roc_auc_score`` with ties, computed for all resamples at once.
    """
    rng = np.random.default_rng(seed)
    n = y_true.shape[0]
    idx = rng.integers(0, n, (n_boot, n))                              # (n_boot, n) record indices
    per_class = np.full((n_boot, y_true.shape[1]), np.nan)
    for k in evaluable_classes(y_true):
        positive = y_true[idx, k] > 0                                   # (n_boot, n)
        ranks = rankdata(y_score[idx, k], axis=1)                       # mid-ranks within each resample
        n_pos = positive.sum(axis=1)
        n_neg = n - n_pos
        ok = (n_pos > 0) & (n_neg > 0)
        rank_sum = np.where(positive, ranks, 0.0).sum(axis=1)
        per_class[ok, k] = (rank_sum[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2) / (n_pos[ok] * n_neg[ok])
    return per_class


def _bootstrap_macro(y_true: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    # a resample's macro-AUC averages the classes evaluable in the full set (those it has)
    classes = evaluable_classes(y_true)
    return np.nanmean(per_class[:, classes], axis=1) if classes.size else np.full(len(per_class), np.nan)


def _resampled_aucs(y_true: np.ndarray, y_score: np.ndarray, n_boot: int, seed: int, groups=None):
    """Per-class AUCs (n_boot, classes) and macro-AUCs (n_boot,) of bootstrap resamples of the records.

    With ``groups``, records are resampled within their group (a stratified
    bootstrap; group ``j`` uses seed ``seed + j``) and both figures are the
    mean over the groups, as :func:`fold_mean`.
    """
    rows = [np.arange(len(y_true))] if groups is None else _group_rows(groups)
    per_class, macro = [], []
    for j, r in enumerate(rows):
        aucs = _bootstrap_class_aucs(y_true[r], y_score[r], n_boot, seed + j)
        per_class.append(aucs)
        macro.append(_bootstrap_macro(y_true[r], aucs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(per_class, axis=0), np.mean(macro, axis=0)


def _percentile_interval(values: np.ndarray, alpha: float) -> list:
    v = values[np.isfinite(values)]
    if not v.size:
        return [None, None]
    return [float(np.percentile(v, 100 * alpha / 2)), float(np.percentile(v, 100 * (1 - alpha / 2)))]


def bootstrap_ci(y_true: np.ndarray, y_score: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 alpha: float = 0.05, groups=None) -> dict:
    """95 % percentile-bootstrap CIs of the macro-AUC and of each class's AUC.

    Records are resampled with replacement ``n_boot`` times; a resample in
    which a class has no positives (or no negatives) gives no AUC for it.
    The macro-AUC of a resample averages the classes evaluable in the full set.
    ``groups`` (e.g. the held-out fold of each record): the CIs of the
    figures' means over the groups, records resampled within their group.
    """
    per_class, macro = _resampled_aucs(y_true, y_score, n_boot, seed, groups)
    return {"macro_auc": _percentile_interval(macro, alpha),
            "per_class_auc": [_percentile_interval(per_class[:, k], alpha) for k in range(y_true.shape[1])],
            "n_boot": n_boot, "seed": seed}


def paired_bootstrap_difference(y_true: np.ndarray, scores_a: list[np.ndarray], scores_b: list[np.ndarray],
                                n_boot: int = 1000, seed: int = 0, alpha: float = 0.05, groups=None) -> dict:
    """Macro-AUC of model A minus model B on the same records, with a paired bootstrap CI.

    Parameters
    ----------
    y_true : (records, classes) labels of the records both models scored.
    scores_a, scores_b : lists of (records, classes) scores, e.g. one per
        training seed; each model's macro-AUC is the mean over its list.
    n_boot, seed, alpha : the resampling (the same resamples for A and B).
    groups : optional (records,) group of each record, e.g. the held-out
        fold of a cross-validation: each macro-AUC is then the mean of the
        groups' own (:func:`fold_mean`) and records are resampled within
        their group.

    Returns
    -------
    dict
        ``difference`` (on all records), ``ci95`` (percentile interval of the
        difference over resamples: the uncertainty from the finite test set;
        seed-to-seed spread is the sd beside it), ``share_a_better`` (fraction
        of resamples where A's macro-AUC is higher), ``n_boot``, ``seed``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((300, 2)) < 0.3).astype(int)
    >>> good, noise = y + rng.random((300, 2)), rng.random((300, 2))
    >>> d = paired_bootstrap_difference(y, [good], [noise], n_boot=200)
    >>> d["ci95"][0] > 0
    True
    """
    def figure(scores):
        return np.mean([fold_mean(macro_auc, y_true, s, groups) for s in scores])

    def mean_samples(scores):
        return np.mean([_resampled_aucs(y_true, s, n_boot, seed, groups)[1] for s in scores], axis=0)

    diff = mean_samples(scores_a) - mean_samples(scores_b)
    return {"difference": float(figure(scores_a) - figure(scores_b)), "ci95": _percentile_interval(diff, alpha),
            "share_a_better": float(np.mean(diff[np.isfinite(diff)] > 0)), "n_boot": n_boot, "seed": seed}
