"""Evaluation metrics and threshold selection for one category."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

__all__ = ["category_metrics", "choose_thresholds", "REJECT_PRECISION", "FLAG_RECALL",
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


def category_metrics(y_true: Sequence[int], scores: ArrayLike,
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
    one's) meets ``reject_precision``. ``flag_at`` is the highest threshold that
    still reaches ``flag_recall``, raised if needed until precision reaches
    ``flag_precision``, and never above ``reject_at``.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    precision, recall, cuts = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]
    # Precision is not monotone in the threshold; require it from here upwards.
    floor = np.minimum.accumulate(precision[::-1])[::-1]
    ok = np.nonzero(floor >= reject_precision)[0]
    reject_at = float(cuts[ok[0]]) if len(ok) else 0.99
    reaching = np.nonzero(recall >= flag_recall)[0]
    flag_at = float(cuts[reaching[-1]]) if len(reaching) else float(cuts[0])
    precise = np.nonzero(floor >= flag_precision)[0]
    if len(precise):
        flag_at = max(flag_at, float(cuts[precise[0]]))
    flag_at = min(flag_at, reject_at)
    return {"flag_at": round(flag_at, 4), "reject_at": round(reject_at, 4)}
