"""Metrics of a model on a labelled file (JSONL rows with ``text`` and ``labels``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .datasets import iter_labelled
from .errors import InputFileError
from .metrics import category_metrics
from .moderator import Moderator

__all__ = ["evaluate_file"]


def evaluate_file(moderator: Moderator, path: Path) -> dict[str, Any]:
    """Per category: ROC AUC, average precision and F1 at the served thresholds."""
    rows = list(iter_labelled(path))
    if not rows:
        raise InputFileError(f"{path}: no rows")
    texts = [text for text, _ in rows]
    labels = [row_labels for _, row_labels in rows]
    scores = moderator.loaded.model.predict_proba(texts)
    report: dict[str, Any] = {}
    for j, category in enumerate(moderator.categories):
        known = [i for i, row in enumerate(labels) if category in row]
        if known:
            report[category] = category_metrics([labels[i][category] for i in known],
                                                scores[known, j], moderator.thresholds[category])
    if not report:
        raise InputFileError(f"{path}: no row is labelled with any of "
                             f"{', '.join(moderator.categories)}")
    return report
