"""Metrics of a model on a labelled file (JSONL rows with ``text`` and ``labels``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputFileError
from .metrics import category_metrics
from .moderator import Moderator

__all__ = ["evaluate_file"]


def _read_labelled(path: Path) -> tuple[list[str], list[dict[str, int]]]:
    texts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text, row_labels = record["text"], record["labels"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputFileError("expected a JSON object with 'text' and 'labels'",
                                     number) from None
            if not isinstance(text, str) or not isinstance(row_labels, dict) or not all(
                    v in (0, 1) for v in row_labels.values()):
                raise InputFileError("'text' must be a string and 'labels' 0/1 values", number)
            texts.append(text)
            labels.append(row_labels)
    if not texts:
        raise InputFileError(f"{path}: no rows")
    return texts, labels


def evaluate_file(moderator: Moderator, path: Path) -> dict[str, Any]:
    """Per category: ROC AUC, average precision and F1 at the served thresholds."""
    texts, labels = _read_labelled(path)
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
