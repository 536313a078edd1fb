"""Word lists: words and phrases matched on normalised text on word boundaries,
IP addresses and CIDR ranges matched on the author's IP, and regular expressions
run with a time limit."""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import regex

from .normalize import normalize

__all__ = ["WordList", "Scan", "parse_network"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(entry: str) -> Network | None:
    """``entry`` as an IP network (an address is a one-address network), or ``None``."""
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


@dataclass
class Scan:
    """What a word list found: ``entry in field`` hits, and patterns that ran out of time."""

    hits: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)

    def add(self, hit: str) -> None:
        """Record a hit once."""
        if hit not in self.hits:
            self.hits.append(hit)

_SPACES = re.compile(r"\s+")


class WordList:
    """A list of entries compiled once.

    Words are normalised like the text they are matched against, so one entry
    "viagra" also catches "v1agra", "v i a g r a" and Cyrillic look-alikes; word
    boundaries keep "Scunthorpe" and "class" clear of short entries. An entry
    that parses as an IP address or CIDR range matches the author's IP; an entry
    written ``/like this/`` is a case-insensitive regular expression.
    """

    def __init__(self, entries: Iterable[str], *, timeout_ms: int = 50) -> None:
        words: set[str] = set()
        self.networks: list[tuple[str, Network]] = []
        self.patterns: list[tuple[str, regex.Pattern[str]]] = []
        self.timeout = timeout_ms / 1000
        for entry in entries:
            entry = entry.strip()
            network = parse_network(entry)
            if len(entry) > 2 and entry.startswith("/") and entry.endswith("/"):
                try:
                    self.patterns.append((entry, regex.compile(entry[1:-1], regex.IGNORECASE)))
                except regex.error as exc:
                    raise ValueError(f"invalid regular expression {entry}: {exc}") from None
            elif network is not None:
                self.networks.append((entry, network))
            elif normalize(entry):
                words.add(normalize(entry))
        self.entries = tuple(sorted(words, key=len, reverse=True))
        alternatives = "|".join(r"\s+".join(map(re.escape, e.split())) for e in self.entries)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if words else None

    @property
    def empty(self) -> bool:
        """True when the list has no entry of any kind (nothing to scan for)."""
        return not (self.entries or self.networks or self.patterns)

    def find(self, normalised_text: str) -> list[str]:
        """The distinct word entries present in ``normalised_text``, in order of appearance."""
        if self._pattern is None:
            return []
        found: dict[str, None] = {}
        for match in self._pattern.finditer(normalised_text):
            found[_SPACES.sub(" ", match.group())] = None
        return list(found)

    def scan(self, fields: Mapping[str, tuple[str, str]], ip: str | None) -> Scan:
        """Every entry found in ``fields`` (name to raw and normalised text) and ``ip``."""
        result = Scan()
        for name, (_, normalised) in fields.items():
            for word in self.find(normalised):
                result.add(f"{word} in {name}")
        address = _address(ip)
        for entry, network in self.networks:
            if address is not None and address.version == network.version and (
                    address in network):
                result.add(f"{entry} in author_ip")
        # One time budget for all patterns on all fields, so a bad pattern
        # costs at most ``timeout`` per list and request, never a hung worker.
        deadline = time.monotonic() + self.timeout
        for entry, pattern in self.patterns:
            for name, texts in fields.items():
                try:
                    if any(pattern.search(text, timeout=max(deadline - time.monotonic(), 1e-3))
                           for text in dict.fromkeys(texts) if text):
                        result.add(f"{entry} in {name}")
                except TimeoutError:
                    result.timed_out.append(entry)
                    break
        return result


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1 behind a dual-stack proxy
    return address
