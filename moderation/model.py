"""The classifier: shared TF-IDF features and one linear head per category."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from .fastpath import CompiledScorer, compile_scorer
from .features import build_features
from .normalize import native_normalizer, normalize, normalize_many
from .term_order import order_by_frequency

__all__ = ["ModerationModel", "UNKNOWN"]

UNKNOWN = -1  # label value for "this source does not say"


class ModerationModel:
    """Per-category probabilities from one feature space and stacked linear heads.

    Adding a category means adding a key to the training labels: the heads are
    stacked into one weight matrix, so scoring cost barely grows with it.
    """

    def __init__(self, *, C: float = 1.0, max_word_features: int = 150_000,
                 max_char_features: int = 250_000, min_df: int = 2,
                 random_state: int = 0) -> None:
        self.C = C
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Mapping[str, Sequence[int]],
            sample_weight: Sequence[float] | None = None) -> ModerationModel:
        """Learn features from ``texts`` (raw) and one head per label column.

        A label of ``UNKNOWN`` leaves that row out of that category's head.
        """
        weights_in = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        if not labels:
            raise ValueError("at least one label category is required")
        normalised = [normalize(t) for t in texts]
        self.features_ = build_features(max_word_features=self.max_word_features,
                                        max_char_features=self.max_char_features,
                                        min_df=self.min_df)
        X = self.features_.fit_transform(normalised).tocsr()
        self.categories_ = tuple(labels)
        weights = np.zeros((X.shape[1], len(self.categories_)), dtype=np.float64)
        intercepts = np.zeros(len(self.categories_), dtype=np.float64)
        for j, category in enumerate(self.categories_):
            y = np.asarray(labels[category], dtype=np.int64)
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"labels for {category!r} do not match the number of texts")
            known = y != UNKNOWN
            if len(np.unique(y[known])) != 2:
                raise ValueError(f"category {category!r} needs both positive and negative rows")
            head = LogisticRegression(C=self.C, solver="liblinear", max_iter=1000,
                                      random_state=self.random_state)
            head.fit(X[known], y[known],
                     sample_weight=None if weights_in is None else weights_in[known])
            weights[:, j] = head.coef_[0]
            intercepts[j] = head.intercept_[0]
        # The heads are fitted on the alphabetical ids; the commonest terms are then
        # numbered first, which keeps a batch's hot terms in the CPU's caches.
        weights = order_by_frequency(self.features_, weights)
        self.coef_ = weights.astype(np.float32)
        self.intercept_ = intercepts.astype(np.float32)
        self.__dict__.pop("_scorer", None)  # refitting invalidates a compiled scorer
        return self

    def scorer(self) -> CompiledScorer | None:
        """The compiled fast path for this fitted model (built once), or ``None``."""
        if "_scorer" not in self.__dict__:
            self._scorer = compile_scorer(self.features_, self.coef_, self.intercept_)
        return self._scorer

    def __getstate__(self) -> dict[str, object]:
        # The compiled scorer is derived state: rebuilt after loading, never stored.
        return {k: v for k, v in self.__dict__.items() if k != "_scorer"}

    def calibrate(self, category: str, a: float, b: float) -> ModerationModel:
        """Fold a Platt scaling ``sigmoid(a * score + b)`` into the category's head.

        Folding keeps scoring a single ``X @ coef_ + intercept_``; the pair is
        kept in ``calibration_`` to document what was done.
        """
        j = self.categories_.index(category)
        self.coef_[:, j] *= np.float32(a)
        self.intercept_[j] = np.float32(a * float(self.intercept_[j]) + b)
        self.calibration_ = {**getattr(self, "calibration_", {}), category: (a, b)}
        self.__dict__.pop("_scorer", None)  # the weights changed: recompile on next use
        return self

    def decision_function_normalized(self, normalised: Sequence[str]) -> NDArray[np.float64]:
        """Raw linear scores, one column per category, for normalised texts."""
        scorer = self.scorer()
        if scorer is not None:
            return scorer.decision_function(normalised)
        X = self.features_.transform(normalised)
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    def predict_proba_normalized(self, normalised: Sequence[str]) -> NDArray[np.float64]:
        """Probabilities in [0, 1], one column per category, for normalised texts."""
        return self.probability(self.decision_function_normalized(normalised))

    @staticmethod
    def probability(raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Raw linear scores as probabilities (the heads are logistic)."""
        return 1.0 / (1.0 + np.exp(-raw))

    def normalised_probabilities(self, texts: Sequence[str]
                                 ) -> tuple[list[str], NDArray[np.float64]]:
        """Raw texts normalised, and their probabilities: in one C call, where the
        normalisation and the scorer are both compiled."""
        scorer, native = self.scorer(), native_normalizer()
        fused = None if scorer is None or native is None else (
            scorer.normalised_decision_function(texts, *native))
        if fused is not None:
            return fused[0], self.probability(fused[1])
        normalised = normalize_many(list(texts))
        return normalised, self.predict_proba_normalized(normalised)

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Probabilities for raw texts."""
        return self.normalised_probabilities(texts)[1]
