"""Metrics of a model: on a labelled JSONL file, or as the benchmark table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from .benchmarks import PEER, Scored
from .datasets import iter_labelled
from .errors import InputFileError
from .metrics import calibration_error, category_metrics, decision_rates, macro_f1
from .moderator import Moderator

__all__ = ["evaluate_file", "benchmark_table", "format_table"]


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


def _summarise(group: list[Scored]) -> dict[str, Any]:
    """One table row: metrics per fold, then their mean (one fold: the metrics)."""
    per_fold = []
    for s in group:
        both = len(np.unique(s.y)) == 2
        assert s.thresholds is not None
        flag = s.thresholds["flag_at"]
        row: dict[str, Any] = {
            "rows": len(s.y), "positives": int(s.y.sum()),
            "roc_auc": float(roc_auc_score(s.y, s.scores)) if both else None,
            "average_precision": float(average_precision_score(s.y, s.scores)) if both else None,
            "f1": category_metrics(s.y, s.scores, s.thresholds)["at_flag"]["f1"],  # type: ignore[index]
            "macro_f1": macro_f1(s.y, s.scores, flag) if both else None,
            "recall_at_flag": float(np.mean(s.scores[s.y == 1] >= flag)) if s.y.any() else None,
            "ece": calibration_error(s.y, s.scores),
            **decision_rates(s.scores, s.thresholds),
        }
        if both and s.adversarial is not None:
            row["adversarial_roc_auc"] = float(roc_auc_score(s.y, s.adversarial))
            row["adversarial_drop"] = row["roc_auc"] - row["adversarial_roc_auc"]
        elif s.adversarial is not None and s.y.any():
            row["adversarial_recall_at_flag"] = float(np.mean(s.adversarial >= flag))
        per_fold.append({**row, **s.extra})
    summary: dict[str, Any] = {"benchmark": group[0].benchmark, "category": group[0].category,
                               "system": group[0].system, "note": group[0].note,
                               "folds": len(group)}
    for key in per_fold[0]:
        values = [f[key] for f in per_fold if f.get(key) is not None]
        if key in ("rows", "positives"):
            summary[key] = int(sum(values))
        else:
            summary[key] = round(float(np.mean(values)), 4) if values else None
    if group[0].system == PEER:
        summary["reject"] = None  # the peer has one cut-off (0.5): it flags or accepts
    return summary


def benchmark_table(scored: list[Scored]) -> list[dict[str, Any]]:
    """One row per benchmark, category and system, folds averaged."""
    groups: dict[tuple[str, str, str], list[Scored]] = {}
    for s in scored:
        groups.setdefault((s.benchmark, s.category, s.system), []).append(s)
    return [_summarise(g) for g in groups.values()]


_COLUMNS = [("benchmark", "benchmark", 42), ("category", "cat", 5), ("system", "system", 21),
            ("rows", "rows", 5), ("roc_auc", "AUC", 6), ("average_precision", "AP", 6),
            ("f1", "F1", 6), ("macro_f1", "mF1", 6), ("recall_at_flag", "rec@f", 6),
            ("ece", "ECE", 6), ("accept", "acc", 6), ("flag", "flag", 6),
            ("reject", "rej", 6), ("adversarial_drop", "advΔ", 6), ("span_f1", "spanF1", 6)]


def format_table(rows: list[dict[str, Any]]) -> str:
    """The benchmark rows as a fixed-width text table, with notes underneath."""
    def cell(value: Any, width: int) -> str:
        if value is None:
            text = "-"
        elif isinstance(value, float):
            text = f"{value:.3f}"
        else:
            text = str(value)
        return text[:width].ljust(width)

    lines = [" ".join(cell(title, w) for _, title, w in _COLUMNS)]
    notes = []
    for row in rows:
        mark = ""
        if row.get("note"):
            notes.append(row["note"])
            mark = "*" * len(notes)
        lines.append(" ".join(cell(f"{row.get(k)}{mark}" if k == "system" else row.get(k), w)
                              for k, _, w in _COLUMNS))
    lines += ["", "AUC/AP: ranking; F1 and mF1 (macro-F1) at our flag threshold (the peer: 0.5); "
              "rec@f: recall at flag; ECE: expected calibration error; acc/flag/rej: shares of "
              "rows; advΔ: ROC AUC lost on the disguised copy; spanF1: SemEval-2021 Task 5."]
    lines += [f"{'*' * (i + 1)} {n}" for i, n in enumerate(notes)]
    return "\n".join(lines)
