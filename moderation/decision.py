"""The decision table: model scores and policy checks to accept / flag / reject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .checks import ACCEPT, FLAG, NONE, REJECT, SEVERITY, Check

__all__ = ["Reason", "decide", "model_outcome"]


@dataclass(frozen=True)
class Reason:
    """Why a comment was not simply accepted: a stable code and a message."""

    code: str
    action: str
    message: str

    def __post_init__(self) -> None:
        # Reasons are shared like checks (see _model_reason): the JSON form is
        # built once and each caller gets a copy.
        object.__setattr__(self, "_json", {"code": self.code, "action": self.action,
                                           "message": self.message})

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return self._json.copy()  # type: ignore[attr-defined, no-any-return]


def model_outcome(category: str, score: float, thresholds: Mapping[str, float]) -> str:
    """What one category's score asks for on its own."""
    if score >= thresholds["reject_at"]:
        return REJECT
    if score >= thresholds["flag_at"]:
        return FLAG
    return ACCEPT


# Scores are rounded to four places and most checks are shared outcomes, so the
# same reasons come back comment after comment: each message is formatted once.
@lru_cache(maxsize=8192)
def _model_reason(category: str, score: float, action: str, limit: float) -> Reason:
    return Reason(f"model.{category}", action,
                  f"{category} score {score:.3f} is at or above the {action} threshold "
                  f"{limit:.3f}")


@lru_cache(maxsize=4096)
def _check_reason(code: str, action: str, name: str, detail: str) -> Reason:
    return Reason(code, action, f"{name}: {detail}")


def _severity(reason: Reason) -> int:
    return -SEVERITY[reason.action]  # sorted on: the most severe first, ties in order


def decide(scores: Mapping[str, float], thresholds: Mapping[str, Mapping[str, float]],
           checks: Sequence[Check]) -> tuple[str, list[Reason]]:
    """The most severe outcome of the model and the checks, with every reason for it."""
    reasons: list[Reason] = []
    for category, score in scores.items():
        limits = thresholds[category]
        # model_outcome() spelled out, without a call per category.
        limit = limits["reject_at"]
        if score >= limit:
            action = REJECT
        else:
            limit = limits["flag_at"]
            if not score >= limit:  # most scores (and, as there, a NaN)
                continue
            action = FLAG
        # 0.0 and -0.0 are one key to the cache but print differently.
        make = _model_reason if score and limit else _model_reason.__wrapped__
        reasons.append(make(category, score, action, limit))
    trust = None  # the first check that vouches for the author
    for check in checks:
        if check.action == NONE:  # most checks: one comparison, then the next
            continue
        if check.action == ACCEPT:
            trust = trust or check
        elif not check.passed and check.action in (FLAG, REJECT):
            reasons.append(_check_reason(check.code, check.action, check.name, check.detail))
    if len(reasons) > 1:
        reasons.sort(key=_severity)
    decision = reasons[0].action if reasons else ACCEPT
    if trust is not None and decision == FLAG and all(
            r.code.startswith("model.") for r in reasons):
        # A trusted author's comment is not held on the model's doubt alone;
        # policy flags and model rejects still stand.
        lowered = ", ".join(r.code for r in reasons)
        return ACCEPT, [Reason(trust.code, ACCEPT,
                               f"{trust.name}: {trust.detail}; lowered {lowered} to accept")]
    return decision, reasons
