"""Scoring a comment end to end: normalise once, score, check, decide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .artefact import LoadedModel
from .decision import decide
from .errors import ConfigError
from .normalize import normalize
from .policy import SUBMISSION_CHECKS, Check, Policy

__all__ = ["Moderator"]


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

    @property
    def model_version(self) -> str:
        """The served model's version."""
        return self.loaded.version

    def moderate(self, comment: Mapping[str, Any]) -> dict[str, Any]:
        """Decision, scores, reasons and checks for one validated comment."""
        return self.moderate_many([comment])[0]

    def moderate_many(self, comments: Sequence[Mapping[str, Any]],
                      recorded: Sequence[Sequence[Check]] | None = None) -> list[dict[str, Any]]:
        """The same for many comments, scoring them in one model call.

        ``recorded`` (one list per comment, for re-scoring) holds submission-time
        check outcomes that replace the policy's own checks of the same names.
        """
        normalised = [normalize(str(c.get("content") or "")) for c in comments]
        probabilities = self.loaded.model.predict_proba_normalized(normalised)
        results = []
        for i, (comment, text, row) in enumerate(zip(comments, normalised, probabilities,
                                                     strict=True)):
            scores = {c: round(float(p), 4) for c, p in zip(self.categories, row, strict=True)}
            checks = self.policy.run(comment, text)
            if recorded is not None:
                checks = [c for c in checks if c.name not in SUBMISSION_CHECKS] + list(recorded[i])
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
