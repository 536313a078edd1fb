"""The decision table: model scores and policy checks to accept / flag / reject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .checks import ACCEPT, FLAG, NONE, REJECT, SEVERITY, Check

__all__ = ["Reason", "decide", "model_outcome"]


@dataclass(frozen=True)
class Reason:
    """Why a comment was not simply accepted: a stable code and a message."""

    code: str
    action: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"code": self.code, "action": self.action, "message": self.message}


def model_outcome(category: str, score: float, thresholds: Mapping[str, float]) -> str:
    """What one category's score asks for on its own."""
    if score >= thresholds["reject_at"]:
        return REJECT
    if score >= thresholds["flag_at"]:
        return FLAG
    return ACCEPT


def _severity(reason: Reason) -> int:
    return -SEVERITY[reason.action]  # sorted on: the most severe first, ties in order


def decide(scores: Mapping[str, float], thresholds: Mapping[str, Mapping[str, float]],
           checks: Sequence[Check]) -> tuple[str, list[Reason]]:
    """The most severe outcome of the model and the checks, with every reason for it."""
    reasons: list[Reason] = []
    for category, score in scores.items():
        limits = thresholds[category]
        action = model_outcome(category, score, limits)
        if action != ACCEPT:
            limit = limits["reject_at"] if action == REJECT else limits["flag_at"]
            reasons.append(Reason(f"model.{category}", action,
                                  f"{category} score {score:.3f} is at or above the "
                                  f"{action} threshold {limit:.3f}"))
    trust = None  # the first check that vouches for the author
    for check in checks:
        if check.action == NONE:  # most checks: one comparison, then the next
            continue
        if check.action == ACCEPT:
            trust = trust or check
        elif not check.passed and check.action in (FLAG, REJECT):
            reasons.append(Reason(check.code, check.action, f"{check.name}: {check.detail}"))
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
