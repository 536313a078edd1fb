"""Checks on the act of submitting: flood, duplicates, honeypot, timing, closed
threads and author trust. They need the time of submission and, for flood,
duplicates and trust, the state shared by every worker."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .checks import ACCEPT, FLAG, NONE, REJECT, Check, result
from .comment import parse_time
from .normalize import normalize_field
from .policy_state import PolicyState, StateTransaction, hash_key

__all__ = ["Submission", "SubmissionChecks", "SUBMISSION_CHECKS", "STATE_CHECKS"]

_WORDS = re.compile(r"\w+")
_NO_STATE = "not checked: no shared state"

# Their outcomes belong to the moment of submission: re-scoring keeps them.
SUBMISSION_CHECKS = frozenset({"flood", "duplicate", "honeypot", "submit_timing",
                               "closed_thread", "trust"})
# The ones that need the shared state, in the order they run (see state_checks).
STATE_CHECKS = ("flood", "duplicate", "trust")


@dataclass(frozen=True)
class Submission:
    """A live submission: when it arrived (naive UTC) and the shared state, if any
    (inside the submission's transaction, or each call in a transaction of its own)."""

    now: _dt.datetime
    state: StateTransaction | PolicyState | None = None


def _identity(comment: Mapping[str, Any]) -> dict[str, str]:
    """Who posted, by each signal the flood check follows (empty ones left out)."""
    values = {"author_ip": str(comment.get("author_ip") or "").strip(),
              "author_email": _email(comment),
              "author_name": normalize_field(str(comment.get("author_name") or ""))}
    return {k: v for k, v in values.items() if v}


def _email(comment: Mapping[str, Any]) -> str:
    """The author's e-mail as flood and trust compare it (without case)."""
    return str(comment.get("author_email") or "").strip().lower()


class SubmissionChecks:
    """Checks that need the submission's time or shared state."""

    def __init__(self, settings: Mapping[str, Any], site: str) -> None:
        self.site = site
        self.flood_seconds = int(settings["flood_seconds"])
        self.duplicate_window = int(settings["duplicate_window"])
        self.honeypot_field = str(settings["honeypot_field"])
        self.min_seconds = int(settings["min_seconds_to_submit"])
        self.close_after_days = int(settings["close_after_days"])
        self.trust_after = int(settings["trust_after"])

    @property
    def needs_state(self) -> bool:
        """Whether flood, duplicate or trust is enabled (they need shared state)."""
        return bool(self.flood_seconds or self.duplicate_window or self.trust_after)

    def _key(self, *parts: str) -> str:
        return hash_key(self.site, *parts)

    def state_checks(self, comment: Mapping[str, Any], normalised: str, sub: Submission,
                     names: Collection[str]) -> list[Check]:
        """The flood, duplicate and trust checks among ``names``, in that order. The
        author's identity is worked out once, and the flood and duplicate claims are
        made together (one statement on the database)."""
        who = _identity(comment)
        state = sub.state
        claims: dict[str, dict[str, str]] = {}  # per check, its keys and what each names
        if state is not None and "flood" in names and self.flood_seconds:
            claims["flood"] = {self._key("flood", k, v): k for k, v in who.items()}
        if state is not None and "duplicate" in names and self.duplicate_window and normalised:
            claims["duplicate"] = self._duplicate_keys(comment, normalised, who)
        held: dict[str, list[str]] = {}
        if state is not None and claims:
            seconds = {"flood": self.flood_seconds, "duplicate": self.duplicate_window}
            held = dict(zip(claims, state.claim_groups(
                [(list(keys), seconds[name]) for name, keys in claims.items()], sub.now),
                strict=True))
        checks = []
        if "flood" in names:
            checks.append(self._flood(claims.get("flood"), held.get("flood", [])))
        if "duplicate" in names:
            checks.append(self._duplicate(claims.get("duplicate"), held.get("duplicate", []),
                                          sub))
        if "trust" in names:
            checks.append(self._trust(who, sub))
        return checks

    def _flood(self, keys: dict[str, str] | None, held: list[str]) -> Check:
        """No earlier comment by the same IP, e-mail or author within ``flood_seconds``."""
        if keys is None:
            return result("flood", False, REJECT, "", _NO_STATE if self.flood_seconds
                          else "flood check disabled")
        same = sorted(keys[k] for k in held)
        detail = (f"posted again within {self.flood_seconds} s (same {', '.join(same)})" if same
                  else f"no comment by this author in the last {self.flood_seconds} s")
        return result("flood", bool(same), REJECT, "policy.flood", detail)

    def _duplicate_keys(self, comment: Mapping[str, Any], normalised: str,
                        who: Mapping[str, str]) -> dict[str, str]:
        # Words only: a changed full stop or extra "!!" does not make it new.
        content = hash_key(" ".join(_WORDS.findall(normalised)))
        author = who.get("author_email") or who.get("author_name") or who.get("author_ip")
        keys = {}
        if author:
            keys[self._key("duplicate", "author", author, content)] = "the same author"
        if comment.get("post_id"):
            keys[self._key("duplicate", "post", str(comment["post_id"]), content)] = (
                "the same post")
        return keys

    def _duplicate(self, keys: dict[str, str] | None, held: list[str], sub: Submission
                   ) -> Check:
        """Not the same content from the same author, or on the same post, recently."""
        if keys is None:
            detail = ("duplicate check disabled" if self.duplicate_window == 0 else
                      _NO_STATE if sub.state is None else "no content")
            return result("duplicate", False, REJECT, "", detail)
        detail = (f"same content from {' and on '.join(keys[k] for k in held)} within "
                  f"{self.duplicate_window} s" if held else "no recent duplicate")
        return result("duplicate", bool(held), REJECT, "policy.duplicate", detail)

    def honeypot(self, comment: Mapping[str, Any], _: str, sub: Submission) -> Check:
        """The hidden form field people never see is empty."""
        if not self.honeypot_field:
            return result("honeypot", False, REJECT, "", "no honeypot field configured")
        fields = comment.get("form_fields") or {}
        if self.honeypot_field not in fields:
            return result("honeypot", False, REJECT, "",
                          f"form field {self.honeypot_field!r} not sent")
        filled = bool(str(fields[self.honeypot_field]).strip())
        return result("honeypot", filled, REJECT, "policy.honeypot",
                      f"hidden field {self.honeypot_field!r} is "
                      f"{'filled in' if filled else 'empty'}")

    def submit_timing(self, comment: Mapping[str, Any], _: str, sub: Submission) -> Check:
        """Sent no sooner than ``min_seconds_to_submit`` after the form was rendered."""
        if self.min_seconds == 0 or not comment.get("form_rendered_at"):
            return result("submit_timing", False, FLAG, "", "timing check disabled"
                          if self.min_seconds == 0 else "no form_rendered_at given")
        elapsed = (sub.now - parse_time(str(comment["form_rendered_at"]))).total_seconds()
        return result("submit_timing", elapsed < self.min_seconds, FLAG, "policy.too_fast",
                      f"sent {elapsed:.1f} s after the form was rendered; under "
                      f"{self.min_seconds} s is too fast for a person")

    def closed_thread(self, comment: Mapping[str, Any], _: str, sub: Submission) -> Check:
        """The post is younger than ``close_after_days``."""
        if self.close_after_days == 0 or not comment.get("post_published_at"):
            return result("closed_thread", False, REJECT, "", "threads never close"
                          if self.close_after_days == 0 else "no post_published_at given")
        age = sub.now - parse_time(str(comment["post_published_at"]))
        closed = age > _dt.timedelta(days=self.close_after_days)
        return result("closed_thread", closed, REJECT, "policy.closed_thread",
                      f"post published {age.days} day(s) ago; comments close after "
                      f"{self.close_after_days}")

    def _trust(self, who: Mapping[str, str], sub: Submission) -> Check:
        """Whether the author's record earns trust (it never fails)."""
        email = who.get("author_email")
        if self.trust_after == 0 or sub.state is None or not email:
            return Check("trust", True, NONE, "trust disabled" if self.trust_after == 0 else
                         _NO_STATE if sub.state is None else "no e-mail given")
        accepted, rejected = sub.state.history(self._key("history", email))
        trusted = accepted >= self.trust_after and rejected == 0
        verdict = "trusted" if trusted else f"trust needs {self.trust_after} and none rejected"
        return Check("trust", True, ACCEPT if trusted else NONE,
                     f"{accepted} accepted and {rejected} rejected earlier; {verdict}",
                     "policy.trusted" if trusted else "")

    def record(self, comment: Mapping[str, Any], decision: str, sub: Submission) -> None:
        """Add this comment's decision to its author's record."""
        email = _email(comment)
        if self.trust_after and sub.state is not None and email:
            sub.state.record(self._key("history", email), decision)
