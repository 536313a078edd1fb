"""Scoring a comment end to end: normalise once, score, check, decide."""

from __future__ import annotations

import datetime as _dt
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, analyse, prepare, raw_scores, scores_from_analysis
from .artefact import LoadedModel
from .cache import LRUCache
from .checks import json_forms
from .decision import decide
from .errors import ConfigError, UnknownSite
from .explain import Evidence, explain
from .normalize import normalize_many
from .overlap import overlapped
from .policy import SUBMISSION_CHECKS, Check, Policy, Submission, site_error, site_policies
from .policy_state import PolicyState
from .rounding import rounded_rows
from .store import utcnow

__all__ = ["Moderator", "Site"]


@dataclass(frozen=True)
class Site:
    """One site's compiled policy, thresholds and policy version."""

    name: str
    policy: Policy
    thresholds: dict[str, dict[str, float]]
    policy_version: str


def _thresholds(loaded: LoadedModel, settings: Mapping[str, Any], categories: Sequence[str]
                ) -> dict[str, dict[str, float]]:
    thresholds = loaded.thresholds()
    for category, override in settings["thresholds"].items():
        if category not in thresholds:
            raise ConfigError(f"thresholds: unknown category {category!r}; the model has "
                              f"{', '.join(categories)}")
        thresholds[category].update(override)
    for category, limits in thresholds.items():
        if limits["flag_at"] > limits["reject_at"]:
            raise ConfigError(f"thresholds.{category}: flag_at must not exceed reject_at")
    return thresholds

# Longer contents are not remembered: they bound the cache's memory, and a
# comment that long is rarely repeated word for word.
_CACHED_LENGTH = 2000
# Comments a batch scores at a time: small enough that at the start and the end of an
# overlapping batch neither thread waits long for the other.
_OVERLAP_CHUNK = 256
# A chunk's contents, their cached results (None where not cached) and the distinct
# contents that are not cached.
_LookedUp = tuple[Sequence[str], list[Any], list[str]]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a batch is moderated. Its results hold no
    cycles, yet with thousands of them alive each collection walks them all again: a
    third of a batch's time on 20,000 comments."""
    if not gc.isenabled():  # paused already (by the caller, or another thread's batch)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Moderator:
    """A loaded model and each site's compiled policy; safe to share across requests.

    ``state`` (flood, duplicate and trust state shared by every worker) is used
    by live submissions only; without it those three checks report "not checked".
    """

    def __init__(self, loaded: LoadedModel, settings: Mapping[str, Any],
                 state: PolicyState | None = None) -> None:
        self.loaded = loaded
        self.state = state
        self.categories = tuple(loaded.model.categories_)
        self.sites: dict[str, Site] = {}
        for site_settings, policy in site_policies(settings):
            name = policy.site
            try:
                thresholds = _thresholds(loaded, site_settings, self.categories)
            except ConfigError as exc:
                raise site_error(name, exc) from None
            self.sites[name] = Site(name, policy, thresholds,
                                    str(getattr(site_settings, "policy_version", "")))
        default = self.sites[""]
        self.policy, self.thresholds = default.policy, default.thresholds
        self.policy_version = default.policy_version

        self.score_cache: LRUCache[str, tuple[str, dict[str, float]]] = LRUCache(
            settings["score_cache_size"])
        # Evidence per category for repeated contents (a spam wave): it depends on
        # the content and the model only, not on any site's thresholds.
        self.explanation_cache: LRUCache[str, dict[str, list[Evidence]]] = LRUCache(
            settings["score_cache_size"])
        self.overlap = bool(settings["batch_overlap"])
        loaded.model.scorer()  # compile the fast path at start-up, not on a first request
        self._scores_from_analysis = scores_from_analysis(loaded.model)
        if self._scores_from_analysis:
            prepare(loaded.model)

    @property
    def needs_state(self) -> bool:
        """Whether any site's policy uses flood, duplicate or trust state."""
        return any(site.policy.needs_state for site in self.sites.values())

    @property
    def model_version(self) -> str:
        """The served model's version."""
        return self.loaded.version

    def site(self, name: str | None) -> Site:
        """The policy of site ``name`` (the top-level one when empty)."""
        try:
            return self.sites[name or ""]
        except KeyError:
            raise UnknownSite(f"unknown site {name!r}; this service knows "
                              f"{', '.join(repr(s) for s in self.sites if s) or 'none'}"
                              ) from None

    def explain(self, content: str, scores: Mapping[str, float],
                thresholds: Mapping[str, Mapping[str, float]] | None = None,
                normalised: str | None = None, analysis: Analysis | None = None
                ) -> dict[str, list[Any]]:
        """For each category at or over its flag threshold, the words that raised it most
        (``normalised`` and ``analysis``: the content's, when known)."""
        thresholds = thresholds or self.thresholds
        over = [c for c in self.categories if scores[c] >= thresholds[c]["flag_at"]]
        if not over:
            return {}
        known = self.explanation_cache.get(content) or {}
        missing = [c for c in over if c not in known]
        if missing:
            known = {**known, **explain(self.loaded.model, content, missing,
                                        normalised=normalised, analysis=analysis)}
            if len(content) <= _CACHED_LENGTH:
                self.explanation_cache.put(content, known)
        # Fresh dicts per answer: a caller's edit cannot reach the cached evidence.
        return {c: [e.to_dict() for e in known[c]] for c in over}

    def moderate(self, comment: Mapping[str, Any], *, now: _dt.datetime | None = None,
                 save_as: str | None = None) -> dict[str, Any]:
        """Decision, scores, reasons, checks and the evidence, for one live submission
        (every check runs).

        With ``save_as`` (an id), the comment and its decision are stored in the same
        transaction as the submission's claims and history: all of it or none.
        """
        if save_as is not None and self.state is None:
            raise ValueError("saving a comment needs the database state")
        content = str(comment.get("content") or "")
        site = self.site(comment.get("site"))
        scored, analyses = self._score([content], analyse_one=True)
        normalised, scores = scored[0]
        # Before the transaction: it holds SQLite's write lock, the evidence needs none.
        explanation = self.explain(content, scores, site.thresholds, normalised,
                                   analyses.get(content))
        with self._submission(now) as submission:
            result = self._result(comment, site, normalised, scores, None, submission)
            result["explanation"] = explanation
            if save_as is not None:
                submission.state.save(save_as, comment, result)  # type: ignore[union-attr]
        return result

    def moderate_many(self, comments: Sequence[Mapping[str, Any]],
                      recorded: Sequence[Sequence[Check]] | None = None, *,
                      submitted: bool = False, now: _dt.datetime | None = None
                      ) -> list[dict[str, Any]]:
        """The same for many comments, scoring them in one model call. Unless
        ``submitted``, the submission checks are skipped (re-scoring stored comments).

        ``recorded`` (one list per comment, for re-scoring) holds submission-time
        check outcomes that replace the policy's own checks of the same names.
        """
        sites = [self.site(c.get("site")) for c in comments]  # unknown site: fail before work
        with _collector_paused():
            contents = [str(c.get("content") or "") for c in comments]
            now = now or utcnow()
            results: list[dict[str, Any]] = []
            result = self._result
            for scored in self._scored(contents):
                start = len(results)
                if not submitted and recorded is None:  # re-scoring, the common batch
                    end = start + len(scored)
                    results += [result(comment, site, text, scores, None, None)
                                for comment, site, (text, scores)
                                in zip(comments[start:end], sites[start:end], scored,
                                       strict=True)]
                    continue
                for i, (text, scores) in enumerate(scored, start):
                    comment, site = comments[i], sites[i]
                    previous = None if recorded is None else recorded[i]
                    if not submitted:
                        results.append(result(comment, site, text, scores, previous, None))
                        continue
                    with self._submission(now) as submission:
                        results.append(result(comment, site, text, scores, previous,
                                              submission))
        return results

    @contextmanager
    def _submission(self, now: _dt.datetime | None) -> Iterator[Submission]:
        """A live submission at ``now``, in a transaction of the shared state if any."""
        moment = now or utcnow()
        if self.state is None:
            yield Submission(moment)
            return
        with self.state.transaction() as state:
            yield Submission(moment, state)

    def _result(self, comment: Mapping[str, Any], site: Site, normalised: str,
                scores: Mapping[str, float], recorded: Sequence[Check] | None,
                submission: Submission | None) -> dict[str, Any]:
        """One comment's checks, decision and reasons, its history counted."""
        scores = dict(scores)  # the cached dict is shared; hand out a copy
        checks = site.policy.run(comment, normalised, submission)
        if recorded is not None:
            checks = [c for c in checks if c.name not in SUBMISSION_CHECKS] + list(recorded)
        decision, reasons = decide(scores, site.thresholds, checks)
        if submission is not None:
            site.policy.record(comment, decision, submission)
        return {
            "decision": decision,
            "scores": scores,
            "reasons": json_forms(reasons),
            "checks": json_forms(checks),
            "model_version": self.loaded.version,
            "policy_version": site.policy_version,
        }

    def _score(self, contents: Sequence[str], analyse_one: bool = False
               ) -> tuple[list[tuple[str, dict[str, float]]], dict[str, Analysis]]:
        """Normalised text and rounded scores per content; each distinct content scored once.

        With ``analyse_one``, a single content to score is scored from its analysis
        (returned too, by content), which its explanation reuses.
        """
        looked_up = self._look_up(contents)
        missing = looked_up[2]
        if not missing:
            return looked_up[1], {}
        if analyse_one and len(missing) == 1 and self._scores_from_analysis:
            model, normalised = self.loaded.model, normalize_many(missing)
            analysis = analyse(model, normalised[0])
            probabilities = model.probability(raw_scores(model, analysis)[None, :])
            return self._merge(looked_up, normalised, probabilities), {missing[0]: analysis}
        return self._merge(looked_up, *self._normalised_probabilities(looked_up)), {}

    def _scored(self, contents: Sequence[str]) -> Iterator[list[tuple[str, dict[str, float]]]]:
        """:meth:`_score` of each chunk of ``contents``, in order. With ``batch_overlap`` and
        two chunks or more, a helper thread normalises and scores chunks while the caller
        checks the ones before (:mod:`.overlap`)."""
        chunks = [contents[i:i + _OVERLAP_CHUNK] for i in range(0, len(contents), _OVERLAP_CHUNK)]
        if not self.overlap or len(chunks) < 2:
            for chunk in chunks:
                yield self._score(chunk)[0]
            return
        for looked_up, worked in overlapped(chunks, self._look_up,
                                            self._normalised_probabilities):
            yield self._merge(looked_up, *worked)

    def _look_up(self, contents: Sequence[str]) -> _LookedUp:
        """``contents``, the cached result of each (``None`` where not cached) and the
        distinct contents that are not cached."""
        known = [self.score_cache.get(c) for c in contents]
        missing = list(dict.fromkeys(c for c, k in zip(contents, known, strict=True) if k is None))
        return contents, known, missing

    def _normalised_probabilities(self, looked_up: _LookedUp) -> tuple[list[str], Any]:
        """The contents to score, normalised, and their probabilities (mostly C, with the
        GIL released: what a helper thread does for an overlapping batch)."""
        return self.loaded.model.normalised_probabilities(looked_up[2])

    def _merge(self, looked_up: _LookedUp, normalised: list[str], probabilities: Any
               ) -> list[tuple[str, dict[str, float]]]:
        """Each content's normalised text and rounded scores, cached or fresh (and now
        remembered)."""
        contents, known, missing = looked_up
        categories = self.categories
        # Rounded as round(p, 4) rounds each, a chunk's in one numpy call (.rounding).
        scored = list(zip(normalised, [dict(zip(categories, row, strict=True))
                                       for row in rounded_rows(probabilities)], strict=True))
        if self.score_cache.size > 0:
            for content, pair in zip(missing, scored, strict=True):
                if len(content) <= _CACHED_LENGTH:
                    self.score_cache.put(content, pair)
        if len(missing) == len(contents):  # none cached, none repeated: in order already
            return scored
        fresh = dict(zip(missing, scored, strict=True))
        return [k if k is not None else fresh[c] for c, k in zip(contents, known, strict=True)]
