"""Policy checks: the site's rules, each reported whether it passed or not."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .normalize import count_links, fold_line_endings, normalize
from .wordlist import WordList

__all__ = ["Check", "Policy", "ACCEPT", "FLAG", "REJECT", "NONE", "SEVERITY",
           "SUBMISSION_CHECKS"]

NONE, ACCEPT, FLAG, REJECT = "none", "accept", "flag", "reject"
SEVERITY = {ACCEPT: 0, FLAG: 1, REJECT: 2}
# Checks that judge the act of submitting (rate, duplicates, form traps, timing,
# thread state, author trust) rather than the text: a re-score keeps their
# recorded outcome, since the context they saw is gone.
SUBMISSION_CHECKS = frozenset({"flood", "duplicate", "honeypot", "submit_timing",
                               "closed_thread", "trust"})
# Deliberately permissive (RFC 5322 allows far more than sites see), but it
# demands one @, a dotted domain and no spaces, like WordPress's is_email().
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class Check:
    """The outcome of one policy check.

    ``action`` is what the failed check asks for (``flag`` or ``reject``), or
    ``none`` when it passed; ``code`` is the stable reason code it reports.
    """

    name: str
    passed: bool
    action: str
    detail: str
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: name, passed, action, detail."""
        # Built by hand: dataclasses.asdict deep-copies and was a fifth of the
        # cost of re-scoring a large archive.
        return {"name": self.name, "passed": self.passed, "action": self.action,
                "detail": self.detail}


def _result(name: str, failed: bool, action: str, code: str, detail: str) -> Check:
    return Check(name, not failed, action if failed else NONE, detail, code if failed else "")


class Policy:
    """The site's checks, compiled once from the settings."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.required_fields = tuple(settings["required_fields"])
        self.max_length = int(settings["max_length"])
        self.max_links = int(settings["max_links"])
        self.moderation_words = WordList(settings["moderation_words"])
        self.block_words = WordList(settings["block_words"])
        self._checks: tuple[Callable[[Mapping[str, Any], str], Check], ...] = (
            self._required_fields, self._length, self._email, self._links,
            self._moderation_words, self._block_words)

    def run(self, comment: Mapping[str, Any], normalised: str) -> list[Check]:
        """Every check, in a fixed order, on a comment and its normalised content."""
        return [check(comment, normalised) for check in self._checks]

    def _required_fields(self, comment: Mapping[str, Any], _: str) -> Check:
        missing = [f for f in self.required_fields if not str(comment.get(f) or "").strip()]
        detail = f"missing: {', '.join(missing)}" if missing else "all required fields present"
        return _result("required_fields", bool(missing), REJECT, "policy.missing_field", detail)

    def _length(self, comment: Mapping[str, Any], _: str) -> Check:
        content = fold_line_endings(str(comment.get("content") or "")).strip()
        if not content:
            return _result("length", True, REJECT, "policy.empty_content",
                           "content is empty after trimming")
        detail = f"{len(content)} of at most {self.max_length} characters"
        return _result("length", len(content) > self.max_length, REJECT, "policy.too_long",
                       detail)

    def _email(self, comment: Mapping[str, Any], _: str) -> Check:
        email = str(comment.get("author_email") or "").strip()
        if not email:
            return _result("email_syntax", False, REJECT, "", "no e-mail given")
        bad = len(email) > 254 or not _EMAIL.match(email)
        return _result("email_syntax", bad, REJECT, "policy.invalid_email",
                       "e-mail address is not valid" if bad else "e-mail address is valid")

    def _links(self, comment: Mapping[str, Any], normalised: str) -> Check:
        links = count_links(normalised)
        if self.max_links == 0:
            return _result("links", False, FLAG, "", f"{links} link(s); link limit disabled")
        too_many = links >= self.max_links
        return _result("links", too_many, FLAG, "policy.too_many_links",
                       f"{links} link(s); {self.max_links} or more are held for review")

    def _words(self, name: str, words: WordList, action: str, code: str,
               comment: Mapping[str, Any], normalised: str) -> Check:
        # An empty list (the default) cannot match: skip normalising the author name.
        author = normalize(str(comment.get("author_name") or "")) if words.entries else ""
        in_content = words.find(normalised)
        hits = in_content + [w for w in words.find(author) if w not in in_content]
        detail = f"matched: {', '.join(hits)}" if hits else "no listed word found"
        return _result(name, bool(hits), action, code, detail)

    def _moderation_words(self, comment: Mapping[str, Any], normalised: str) -> Check:
        return self._words("moderation_words", self.moderation_words, FLAG,
                           "policy.moderation_word", comment, normalised)

    def _block_words(self, comment: Mapping[str, Any], normalised: str) -> Check:
        return self._words("block_words", self.block_words, REJECT, "policy.blocked_word",
                           comment, normalised)
