"""The site's policy: every check, in a fixed order, each reporting whether it passed.

Content and author checks need only the comment; submission checks (see
:data:`SUBMISSION_CHECKS`) also need the time of submission and shared state,
and run only for live submissions, never when a file is re-scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .checks import ACCEPT, FLAG, NONE, REJECT, SEVERITY, Check, result
from .errors import ConfigError
from .list_checks import ListChecks
from .submission_checks import STATE_CHECKS, SUBMISSION_CHECKS, Submission, SubmissionChecks
from .text_checks import TextChecks

__all__ = ["Check", "Policy", "Submission", "ACCEPT", "FLAG", "REJECT", "NONE", "SEVERITY",
           "CHECK_NAMES", "CONTENT_CHECKS", "SUBMISSION_CHECKS", "site_policies",
           "site_error"]

CONTENT_CHECKS = ("required_fields", "length", "email_syntax", "links", "link_domains",
                  "shorteners", "moderation_words", "block_words", "shouting", "gibberish",
                  "script")
CHECK_NAMES = CONTENT_CHECKS + ("honeypot", "submit_timing", "closed_thread", "flood",
                                "duplicate", "trust")
ContentCheck = Callable[[Mapping[str, Any], str], Check]
SubmissionCheck = Callable[[Mapping[str, Any], str, Submission], Check]


class Policy:
    """One site's checks, compiled once from its settings."""

    def __init__(self, settings: Mapping[str, Any], site: str = "") -> None:
        self.site = site
        text, lists = TextChecks(settings), ListChecks(settings)
        self.submission = SubmissionChecks(settings, site)
        content: dict[str, ContentCheck] = {
            "required_fields": text.required, "length": text.length,
            "email_syntax": text.email, "links": lists.links,
            "link_domains": lists.link_domains, "shorteners": lists.shortener_links,
            "moderation_words": lists.moderation_words, "block_words": lists.block_words,
            "shouting": text.shouting, "gibberish": text.gibberish, "script": text.script}
        sub = self.submission
        submission: dict[str, SubmissionCheck] = {
            "honeypot": sub.honeypot, "submit_timing": sub.submit_timing,
            "closed_thread": sub.closed_thread}
        self.actions = dict(settings["check_actions"])
        for name, action in self.actions.items():
            if name not in CHECK_NAMES:
                raise ConfigError(f"check_actions: unknown check {name!r}; the checks are "
                                  f"{', '.join(CHECK_NAMES)}")
            if name == "trust" and action != "off":
                raise ConfigError("check_actions.trust: the trust check can only be 'off'")
        # A check whose outcome the settings settle is not run: its outcome is kept.
        fixed = {check.name: check for check in (*text.fixed(), *lists.fixed())}
        self._content: list[Check | ContentCheck] = [
            fixed.get(n, f) for n, f in content.items() if self.actions.get(n) != "off"]
        # run() copies the settled outcomes and fills in the others, without asking each
        # entry what it is, comment after comment.
        self._settled = [c if isinstance(c, Check) else None for c in self._content]
        self._to_run = [(i, c) for i, c in enumerate(self._content) if not isinstance(c, Check)]
        self._submission = [(n, f) for n, f in submission.items()
                            if self.actions.get(n) != "off"]
        # flood, duplicate and trust run together, after the others (as CHECK_NAMES lists).
        self._state_checks = tuple(n for n in STATE_CHECKS if self.actions.get(n) != "off")
        # A check turned off never runs, so only flag and reject change outcomes.
        self._overrides = {n: a for n, a in self.actions.items() if a != "off"}

    @property
    def needs_state(self) -> bool:
        """Whether an enabled check needs the state shared by every worker."""
        return self.submission.needs_state and bool(self._state_checks)

    def _override(self, check: Check) -> Check:
        if check.passed:
            return check
        action = self._overrides.get(check.name)
        if action and check.code != "policy.pattern_timeout":
            # The same as dataclasses.replace(check, action=action), from the shared ones.
            return result(check.name, True, action, check.code, check.detail)
        return check

    def run(self, comment: Mapping[str, Any], normalised: str,
            submission: Submission | None = None) -> list[Check]:
        """Every enabled check on a comment and its normalised content; the submission
        checks only when ``submission`` describes a live submission."""
        checks: list[Check] = self._settled.copy()  # type: ignore[assignment]
        for i, check in self._to_run:
            checks[i] = check(comment, normalised)
        if submission is not None:
            checks += [check(comment, normalised, submission) for _, check in self._submission]
            if self._state_checks:
                checks += self.submission.state_checks(comment, normalised, submission,
                                                       self._state_checks)
        return [self._override(c) for c in checks] if self._overrides else checks

    def record(self, comment: Mapping[str, Any], decision: str,
               submission: Submission | None) -> None:
        """Remember a live submission's decision (the trust check's history)."""
        if submission is not None and self.actions.get("trust") != "off":
            self.submission.record(comment, decision, submission)


def site_error(site: str, exc: ConfigError) -> ConfigError:
    """``exc`` with the site's section named, so the message points at the right key."""
    return ConfigError(f"sites.{site}.{exc.message}") if site else exc


def site_policies(settings: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Policy]]:
    """Each site's settings and compiled policy, the top-level policy (site "") first."""
    compiled = []
    per_site = settings.sites() if hasattr(settings, "sites") else [settings]
    for site_settings in per_site:
        name = str(getattr(site_settings, "site", ""))
        try:
            compiled.append((site_settings, Policy(site_settings, name)))
        except ConfigError as exc:
            raise site_error(name, exc) from None
    return compiled
