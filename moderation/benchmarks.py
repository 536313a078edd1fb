"""The public benchmarks: fixed test rows, our scores and the peer's, side by side.

Every benchmark follows a stated protocol (see README, "Evaluation"): models
are trained only on train splits, and thresholds are chosen without looking
at test rows. The peer is ``alt-profanity-check`` (TF-IDF + linear SVM on
Davidson + the full Jigsaw train set), scored on the very same rows.
"""

from __future__ import annotations

import ast
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .datasets import Row, load_source, load_training_data
from .explain import explain_many, toxic_characters
from .metrics import choose_thresholds, fit_platt
from .model import ModerationModel
from .normalize import normalize
from .obfuscate import obfuscate
from .train import split_of

__all__ = ["Scored", "PEER", "peer_scorer", "run_benchmarks", "span_f1", "SPAN_MIN_SHARE"]

PEER = "alt-profanity-check"
OURS = "moderation"
# Words whose weight is at least this share of the strongest word's are
# marked toxic. Chosen on the ToxicSpans trial file, never the test file. On
# the final default model, trial span F1 is 0.41 / 0.57 / 0.634 / 0.637 /
# 0.634 / 0.635 / 0.60 at 0 / 0.3 / 0.5 / 0.6 / 0.7 / 0.8 / 1.0: flat from 0.5
# to 0.8, and 0.7 (the best on a candidate model) is kept.
SPAN_MIN_SHARE = 0.7
Scorer = Callable[[list[str]], NDArray[np.float64]]


@dataclass
class Scored:
    """One system's scores on one benchmark's test rows (one fold or all of them)."""

    benchmark: str
    category: str
    system: str
    y: NDArray[np.int64]
    scores: NDArray[np.float64]
    adversarial: NDArray[np.float64] | None
    thresholds: dict[str, float] | None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    fold: str = ""


def peer_scorer() -> Scorer | None:
    """``alt-profanity-check``'s probabilities, or None when it is not installed."""
    try:
        from profanity_check import predict_prob  # type: ignore[import-not-found]
    except ImportError:
        return None
    return lambda texts: np.asarray(predict_prob(texts), dtype=np.float64)


def _labelled(rows: Sequence[Row], category: str) -> tuple[list[str], NDArray[np.int64]]:
    keep = [r for r in rows if category in r.labels]
    return [r.text for r in keep], np.asarray([r.labels[category] for r in keep], np.int64)


def _score_both(name: str, category: str, texts: list[str], y: NDArray[np.int64],
                ours: Scorer, thresholds: dict[str, float], peer: Scorer | None,
                note: str = "", peer_note: str = "", fold: str = "") -> list[Scored]:
    """Our and the peer's scores on the clean and the disguised copy of ``texts``."""
    disguised = [obfuscate(t) for t in texts]
    out = [Scored(name, category, OURS, y, ours(texts), ours(disguised), thresholds, note,
                  fold=fold)]
    if peer is not None:
        out.append(Scored(name, category, PEER, y, peer(texts), peer(disguised),
                          {"flag_at": 0.5, "reject_at": 1.01}, peer_note or note, fold=fold))
    return out


def _column(model: ModerationModel, category: str) -> Scorer:
    j = model.categories_.index(category)
    return lambda texts: model.predict_proba(texts)[:, j]


def _youtube_folds(data_dir: Path, params: dict[str, Any]) -> list[Scored]:
    """Cross-video: train on four videos, test on the fifth; calibration and thresholds
    from leave-one-video-out scores within the four."""
    rows = load_source("youtube_spam", data_dir)
    videos = sorted({r.group for r in rows})
    out: list[Scored] = []

    def fit(train: list[Row]) -> ModerationModel:
        texts, y = _labelled(train, "spam")
        return ModerationModel(**params).fit(texts, {"spam": y.tolist()})

    for video in videos:
        train = [r for r in rows if r.group != video]
        test = [r for r in rows if r.group == video]
        inner_y: list[int] = []
        inner_raw: list[float] = []
        for other in sorted({r.group for r in train}):
            texts, y = _labelled([r for r in train if r.group == other], "spam")
            inner_y += y.tolist()
            inner = fit([r for r in train if r.group != other])
            inner_raw += inner.decision_function_normalized(
                [normalize(t) for t in texts])[:, 0].tolist()
        # As in training: calibrate, then choose thresholds, on held-out scores
        # (here, out-of-fold ones from the four training videos).
        a, b = fit_platt(inner_raw, inner_y)
        thresholds = choose_thresholds(inner_y, 1 / (1 + np.exp(-(a * np.asarray(inner_raw) + b))))
        texts, y = _labelled(test, "spam")
        out += _score_both("youtube_spam (cross-video)", "spam", texts, y,
                           _column(fit(train).calibrate("spam", a, b), "spam"), thresholds, None,
                           fold=video)
    return out


def _read_spans(path: Path) -> list[tuple[str, set[int]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [(rec["text"], {int(i) for i in ast.literal_eval(rec["spans"])})
                for rec in csv.DictReader(fh)]


def span_f1(predicted: Sequence[set[int]], gold: Sequence[set[int]]) -> float:
    """SemEval-2021 Task 5 metric: mean per-comment character F1 (both empty = 1)."""
    scores = []
    for p, g in zip(predicted, gold, strict=True):
        if not p and not g:
            scores.append(1.0)
        elif not p or not g:
            scores.append(0.0)
        else:
            scores.append(2 * len(p & g) / (len(p) + len(g)))
    return float(np.mean(scores)) if scores else 0.0


def _toxic_spans(model: ModerationModel, data_dir: Path, thresholds: dict[str, float],
                 peer: Scorer | None) -> list[Scored]:
    """All-toxic SemEval test file: recall at flag, and our explanations' span F1."""
    pairs = _read_spans(data_dir / "civil_comments_toxic_spans" / "semeval2021" / "tsd_test.csv")
    texts = [t for t, _ in pairs]
    gold = [g for _, g in pairs]
    y = np.ones(len(texts), np.int64)
    out = _score_both("toxic_spans (SemEval-2021 test)", "toxic", texts, y,
                      _column(model, "toxic"), thresholds, peer)
    evidence = explain_many(model, texts, "toxic")
    predicted = [toxic_characters(e, SPAN_MIN_SHARE) for e in evidence]
    flagged = out[0].scores >= thresholds["flag_at"]
    shown = [p if f else set() for p, f in zip(predicted, flagged, strict=True)]
    out[0].extra = {"span_f1": round(span_f1(predicted, gold), 4),
                    "span_f1_flagged_only": round(span_f1(shown, gold), 4)}
    return out


def run_benchmarks(model: ModerationModel, thresholds: dict[str, dict[str, float]],
                   params: dict[str, Any], data_dir: Path, training_dir: Path,
                   peer: Scorer | None, progress: Callable[[str], None] = print
                   ) -> list[Scored]:
    """Every benchmark whose data is present, for us and (where it applies) the peer."""
    out: list[Scored] = []
    own = load_training_data(training_dir)
    held = [r for r in own if split_of(r) == "holdout"]
    for category in model.categories_:
        texts, y = _labelled(held, category)
        out += _score_both("training_data (hold-out)", category, texts, y,
                           _column(model, category), thresholds[category],
                           peer if category == "toxic" else None)
    topic = [r for r in own if r.source.endswith("topic_civil_test.jsonl")]
    if topic:
        texts, y = _labelled(topic, "toxic")
        out += _score_both("topic_civil_test (civil, sensitive topics)", "toxic", texts, y,
                           _column(model, "toxic"), thresholds["toxic"], peer)
    progress("scored our own corpus")
    folders = {p.name for p in Path(data_dir).iterdir()} if Path(data_dir).is_dir() else set()
    if "olid_offenseval2019" in folders:
        rows = [r for r in load_source("olid_offenseval2019", data_dir) if r.group == "test"]
        texts, y = _labelled(rows, "toxic")
        out += _score_both("olid (OffensEval 2019 test, A)", "toxic", texts, y,
                           _column(model, "toxic"), thresholds["toxic"], peer)
        progress("scored OLID")
    if "jigsaw_toxic_subset" in folders:
        rows = [r for r in load_source("jigsaw_toxic_subset", data_dir)
                if split_of(r) == "holdout"]
        texts, y = _labelled(rows, "toxic")
        out += _score_both("jigsaw_subset (20 % by id)", "toxic", texts, y,
                           _column(model, "toxic"), thresholds["toxic"], peer,
                           peer_note="contaminated: the peer trained on all of Jigsaw train")
        progress("scored Jigsaw")
    if (Path(data_dir) / "civil_comments_toxic_spans" / "semeval2021" / "tsd_test.csv").is_file():
        out += _toxic_spans(model, data_dir, thresholds["toxic"], peer)
        progress("scored ToxicSpans")
    if "youtube_spam" in folders:
        out += _youtube_folds(data_dir, params)
        progress("scored YouTube cross-video")
    return out
