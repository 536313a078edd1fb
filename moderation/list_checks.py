"""Checks against the site's lists: link count and link domains (allowed, blocked,
shorteners), and the moderation and block word lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from .checks import FLAG, REJECT, Check, result
from .errors import ConfigError
from .normalize import count_links, link_hosts, normalize, normalize_field
from .wordlist import WordList

__all__ = ["ListChecks", "registrable_domain"]


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    # The package ships a snapshot of the Public Suffix List; nothing is fetched.
    return PublicSuffixList()


@lru_cache(maxsize=4096)  # a spam wave links the same few hosts again and again
def registrable_domain(host: str) -> str:
    """The domain a registrant controls: ``sub.evil.example.co.uk`` -> ``example.co.uk``."""
    host = host.strip().strip(".").lower()
    host = re.sub(r"^www\.", "", host)
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a valid IDN: compare it as written
    return _suffixes().privatesuffix(host) or host


def _url_host(url: str) -> str:
    url = url.strip()
    try:
        return urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:  # e.g. an unbalanced "[" in a would-be IPv6 host
        return ""


def _domains(key: str, entries: list[str]) -> frozenset[str]:
    domains = {registrable_domain(e) for e in entries if e.strip()}
    if "" in domains:
        raise ConfigError(f"{key}: an entry is not a domain name")
    return frozenset(domains)


@lru_cache(maxsize=4096)
def _field_words(value: str) -> str:
    # E-mails, URLs and IPs would become placeholders if normalised whole;
    # their parts are words to match list entries against.
    return normalize(re.sub(r"[\W_]+", " ", value))


@lru_cache(maxsize=256)
def _link_domains(content: str, author_url: str) -> tuple[str, ...]:
    # Three checks ask for the same comment's domains in a row: find them once.
    hosts = link_hosts(content)
    if author_url.strip():
        hosts.append(_url_host(author_url))
    return tuple(registrable_domain(h) for h in hosts)


class ListChecks:
    """Link and word-list checks, with their lists compiled once."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.max_links = int(settings["max_links"])
        self.allowed = _domains("allowed_domains", settings["allowed_domains"])
        self.blocked = _domains("blocked_domains", settings["blocked_domains"])
        self.shorteners = _domains("url_shorteners", settings["url_shorteners"])
        self._flagged_shorteners = self.shorteners - self.allowed
        self.words = {}
        for key in ("moderation_words", "block_words"):
            try:
                self.words[key] = WordList(settings[key], timeout_ms=settings["regex_timeout_ms"])
            except ValueError as exc:
                raise ConfigError(f"{key}: {exc}") from None
        self._last: tuple[Any, Any, Any, tuple[str, ...]] = (None, None, None, ())
        # Most comments have no link: their outcomes are made once.
        self._no_links = self._count(0)
        self._no_blocked = result("link_domains", False, REJECT, "policy.blocked_domain",
                                  "no blocked domain")
        self._no_shortener = result("shorteners", False, FLAG, "policy.url_shortener",
                                    "no shortened link")
        self._none_found = {
            "moderation_words": result("moderation_words", False, FLAG,
                                       "policy.moderation_word", "no listed word found"),
            "block_words": result("block_words", False, REJECT, "policy.blocked_word",
                                  "no listed word found")}

    def fixed(self) -> list[Check]:
        """The outcomes this policy settles whatever the comment: with no blocked
        domain, no shortener outside the allowed ones, or an empty word list."""
        fixed = [self._none_found[key] for key, words in self.words.items() if words.empty]
        if not self.blocked:
            fixed.append(self._no_blocked)
        if not self._flagged_shorteners:
            fixed.append(self._no_shortener)
        return fixed

    def _link_domains(self, comment: Mapping[str, Any], normalised: str) -> tuple[str, ...]:
        # Asked by two or three checks of one comment in a row: the last answer is kept
        # with the very objects it was worked out from (held, so none is another's).
        raw, url = comment.get("content"), comment.get("author_url")
        last = self._last
        if last[0] is normalised and last[1] is raw and last[2] is url:
            return last[3]
        # normalize turns each link link_hosts finds into a _url_ placeholder,
        # so content whose normalised text shows none has no host to look up.
        content = str(raw or "") if count_links(normalised) else ""
        author_url = str(url or "")
        domains = _link_domains(content, author_url) if content or author_url else ()
        self._last = (normalised, raw, url, domains)
        return domains

    def _count(self, links: int) -> Check:
        if self.max_links == 0:
            return result("links", False, FLAG, "", f"{links} link(s); link limit disabled")
        return result("links", links >= self.max_links, FLAG, "policy.too_many_links",
                      f"{links} link(s); {self.max_links} or more are held for review")

    def links(self, comment: Mapping[str, Any], normalised: str) -> Check:
        """Fewer than ``max_links`` links outside the allowed domains."""
        domains = self._link_domains(comment, normalised)
        if not domains:
            return self._no_links
        return self._count(sum(d not in self.allowed for d in domains))

    def _listed(self, listed: frozenset[str], comment: Mapping[str, Any], normalised: str
                ) -> list[str]:
        """The comment's link domains that are in ``listed``, sorted."""
        domains = self._link_domains(comment, normalised)
        return sorted(listed.intersection(domains)) if domains else []

    def link_domains(self, comment: Mapping[str, Any], normalised: str) -> Check:
        """No link to a blocked registrable domain."""
        blocked = self._listed(self.blocked, comment, normalised)
        if not blocked:
            return self._no_blocked
        return result("link_domains", True, REJECT, "policy.blocked_domain",
                      f"blocked: {', '.join(blocked)}")

    def shortener_links(self, comment: Mapping[str, Any], normalised: str) -> Check:
        """No link through a URL shortener."""
        found = self._listed(self._flagged_shorteners, comment, normalised)
        if not found:
            return self._no_shortener
        return result("shorteners", True, FLAG, "policy.url_shortener",
                      f"shortened: {', '.join(found)}")

    def _scan(self, key: str, name: str, action: str, code: str, comment: Mapping[str, Any],
              normalised: str) -> Check:
        if self.words[key].empty:
            return self._none_found[key]
        fields = {"content": (str(comment.get("content") or ""), normalised)}
        for field, prepare in (("author_name", normalize_field), ("author_email", _field_words),
                               ("author_url", _field_words), ("author_ip", _field_words),
                               ("user_agent", normalize_field)):
            raw = str(comment.get(field) or "")
            if raw:
                fields[field] = (raw, prepare(raw))
        scan = self.words[key].scan(fields, comment.get("author_ip"))
        if scan.hits:
            return result(name, True, action, code, f"matched: {', '.join(scan.hits)}")
        if scan.timed_out:
            # Unproven, so never a reject: a person looks at it.
            return result(name, True, FLAG, "policy.pattern_timeout",
                          f"timed out: {', '.join(scan.timed_out)}")
        return self._none_found[key]

    def moderation_words(self, comment: Mapping[str, Any], normalised: str) -> Check:
        """No entry of the moderation list (hold for review)."""
        return self._scan("moderation_words", "moderation_words", FLAG,
                          "policy.moderation_word", comment, normalised)

    def block_words(self, comment: Mapping[str, Any], normalised: str) -> Check:
        """No entry of the block list (reject)."""
        return self._scan("block_words", "block_words", REJECT, "policy.blocked_word",
                          comment, normalised)
