"""Scoring a comment end to end: normalise once, score, check, decide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .artefact import LoadedModel
from .cache import LRUCache
from .decision import decide
from .errors import ConfigError
from .normalize import normalize
from .policy import Policy

__all__ = ["Moderator"]

# Longer contents are not remembered: they bound the cache's memory, and a
# comment that long is rarely repeated word for word.
_CACHED_LENGTH = 2000


class Moderator:
    """A loaded model and a compiled policy; pure and safe to share across requests."""

    def __init__(self, loaded: LoadedModel, settings: Mapping[str, Any]) -> None:
        self.loaded = loaded
        self.policy = Policy(settings)
        self.policy_version = str(getattr(settings, "policy_version", ""))
        self.categories = tuple(loaded.model.categories_)
        thresholds = loaded.thresholds()
        for category, override in settings["thresholds"].items():
            if category not in thresholds:
                raise ConfigError(f"thresholds: unknown category {category!r}; the model has "
                                  f"{', '.join(self.categories)}")
            thresholds[category].update(override)
        for category, limits in thresholds.items():
            if limits["flag_at"] > limits["reject_at"]:
                raise ConfigError(f"thresholds.{category}: flag_at must not exceed reject_at")
        self.thresholds = thresholds
        self.score_cache: LRUCache[str, tuple[str, dict[str, float]]] = LRUCache(
            settings["score_cache_size"])
        loaded.model.scorer()  # compile the fast path at start-up, not on a first request

    @property
    def model_version(self) -> str:
        """The served model's version."""
        return self.loaded.version

    def moderate(self, comment: Mapping[str, Any]) -> dict[str, Any]:
        """Decision, scores, reasons and checks for one validated comment."""
        return self.moderate_many([comment])[0]

    def moderate_many(self, comments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The same for many comments, scoring them in one model call."""
        scored = self._score([str(c.get("content") or "") for c in comments])
        results = []
        for comment, (text, scores) in zip(comments, scored, strict=True):
            scores = dict(scores)  # the cached dict is shared; hand out a copy
            checks = self.policy.run(comment, text)
            decision, reasons = decide(scores, self.thresholds, checks)
            results.append({
                "decision": decision,
                "scores": scores,
                "reasons": [r.to_dict() for r in reasons],
                "checks": [c.to_dict() for c in checks],
                "model_version": self.model_version,
                "policy_version": self.policy_version,
            })
        return results

    def _score(self, contents: Sequence[str]) -> list[tuple[str, dict[str, float]]]:
        """Normalised text and rounded scores per content; each distinct content scored once."""
        known = [self.score_cache.get(c) for c in contents]
        missing = list(dict.fromkeys(c for c, k in zip(contents, known, strict=True) if k is None))
        if not missing:
            return known  # type: ignore[return-value]
        normalised = [normalize(c) for c in missing]
        probabilities = self.loaded.model.predict_proba_normalized(normalised)
        fresh = {}
        for content, text, row in zip(missing, normalised, probabilities, strict=True):
            fresh[content] = (text, {c: round(float(p), 4)
                                     for c, p in zip(self.categories, row, strict=True)})
            if len(content) <= _CACHED_LENGTH:
                self.score_cache.put(content, fresh[content])
        return [k if k is not None else fresh[c] for c, k in zip(contents, known, strict=True)]
