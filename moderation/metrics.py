"""Evaluation metrics and threshold selection for one category."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

__all__ = ["category_metrics", "choose_thresholds", "calibration_error", "decision_rates",
           "macro_f1", "tradeoff_table", "fit_platt", "REJECT_PRECISION", "FLAG_RECALL",
           "FLAG_PRECISION"]

REJECT_PRECISION = 0.97  # the model alone rejects only where it is this precise
FLAG_RECALL = 0.90  # and holds for review enough to catch this share of positives
FLAG_PRECISION = 0.80  # unless under 4 in 5 held comments would deserve it


def _f1_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (y == 1)))
    precision = tp / max(float(predicted.sum()), 1.0)
    recall = tp / max(float((y == 1).sum()), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "positive_rate": round(float(predicted.mean()) if len(y) else 0.0, 4)}


def category_metrics(y_true: ArrayLike, scores: ArrayLike,
                     thresholds: dict[str, float]) -> dict[str, object]:
    """ROC AUC, average precision, and precision/recall/F1 at flag and reject thresholds."""
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    both = len(np.unique(y)) == 2
    return {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, s)), 4) if both else None,
        "average_precision": round(float(average_precision_score(y, s)), 4) if both else None,
        "at_flag": _f1_at(y, s, thresholds["flag_at"]),
        "at_reject": _f1_at(y, s, thresholds["reject_at"]),
    }


def choose_thresholds(y_true: Sequence[int], scores: ArrayLike, *,
                      reject_precision: float = REJECT_PRECISION,
                      flag_recall: float = FLAG_RECALL,
                      flag_precision: float = FLAG_PRECISION) -> dict[str, float]:
    """Thresholds from held-out scores.

    ``reject_at`` is the lowest threshold whose precision (and every higher
    one's, past the top few rows) meets ``reject_precision``. ``flag_at`` is
    the highest threshold that still reaches ``flag_recall``, raised if needed
    until precision reaches ``flag_precision``, and never above ``reject_at``.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    precision, recall, cuts = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]
    # Precision is not monotone in the threshold; require it from here upwards,
    # except over the top few rows, where two or three confident mistakes sink
    # precision below the target and say nothing about the threshold: judge only
    # thresholds holding 3 / (1 - target) rows (100 for 0.97), or all positives
    # if there are fewer.
    support = len(s) - np.searchsorted(np.sort(s), cuts, side="left")
    min_support = min(int(np.ceil(3 / max(1 - reject_precision, 1e-9))), int(y.sum()))
    judged = np.where(support >= min_support, precision, 1.0)
    floor = np.minimum.accumulate(judged[::-1])[::-1]
    ok = np.nonzero(floor >= reject_precision)[0]
    reject_at = float(cuts[ok[0]]) if len(ok) else 0.99
    reaching = np.nonzero(recall >= flag_recall)[0]
    flag_at = float(cuts[reaching[-1]]) if len(reaching) else float(cuts[0])
    precise = np.nonzero(floor >= flag_precision)[0]
    if len(precise):
        flag_at = max(flag_at, float(cuts[precise[0]]))
    flag_at = min(flag_at, reject_at)
    return {"flag_at": round(flag_at, 4), "reject_at": round(reject_at, 4)}


def macro_f1(y_true: ArrayLike, scores: ArrayLike, threshold: float) -> float:
    """Mean of the positive and the negative class's F1 at ``threshold``."""
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    positive = _f1_at(y, s, threshold)["f1"]
    negative = _f1_at(1 - y, -s, -threshold + 1e-12)["f1"]  # "below threshold" as positive
    return round((positive + negative) / 2, 4)


def calibration_error(y_true: ArrayLike, scores: ArrayLike, bins: int = 10) -> float:
    """Expected calibration error: |mean score - positive share| over equal-width bins."""
    y = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if not len(y):
        return 0.0
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() / len(y) * abs(s[inside].mean() - y[inside].mean())
    return round(float(total), 4)


def decision_rates(scores: ArrayLike, thresholds: dict[str, float]) -> dict[str, float]:
    """Shares of comments this category alone would accept, flag and reject."""
    s = np.asarray(scores, dtype=np.float64)
    reject = float(np.mean(s >= thresholds["reject_at"])) if len(s) else 0.0
    held = float(np.mean(s >= thresholds["flag_at"])) if len(s) else 0.0
    return {"accept": round(1 - held, 4), "flag": round(held - reject, 4),
            "reject": round(reject, 4)}


def tradeoff_table(y_true: ArrayLike, scores: ArrayLike,
                   cuts: Sequence[float] | None = None) -> list[dict[str, float]]:
    """Precision, recall and share of comments at or above each threshold."""
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    grid = cuts if cuts is not None else [round(0.05 * i, 2) for i in range(1, 20)]
    rows = []
    for cut in grid:
        at = _f1_at(y, s, cut)
        rows.append({"threshold": round(float(cut), 4), "precision": at["precision"],
                     "recall": at["recall"], "share": at["positive_rate"]})
    return rows


def fit_platt(raw: ArrayLike, y_true: ArrayLike) -> tuple[float, float]:
    """Platt scaling ``(a, b)``: ``sigmoid(a * raw + b)`` fits held-out labels.

    The heads are trained on a mix of sources whose positive shares differ
    from a site's, so their raw probabilities are off; two parameters learned
    on held-out comments bring them back in line without changing the ranking.
    """
    platt = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)  # nearly unregularised
    platt.fit(np.asarray(raw, dtype=np.float64).reshape(-1, 1), np.asarray(y_true))
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])
