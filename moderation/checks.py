"""The outcome of a policy check, and the actions checks and decisions use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Check", "result", "json_forms", "NONE", "ACCEPT", "FLAG", "REJECT", "SEVERITY"]

NONE, ACCEPT, FLAG, REJECT = "none", "accept", "flag", "reject"
SEVERITY = {ACCEPT: 0, FLAG: 1, REJECT: 2}


@dataclass(frozen=True)
class Check:
    """The outcome of one policy check.

    ``action`` is what the failed check asks for (``flag`` or ``reject``), or
    ``none`` when it passed; the trust check passes with ``accept`` when it
    vouches for the author. ``code`` is the stable reason code it reports.
    """

    name: str
    passed: bool
    action: str
    detail: str
    code: str = ""

    def __post_init__(self) -> None:
        # Most checks are made once and shared (see result) while their JSON form
        # is asked for with every comment: build it once, hand out copies. Spelled
        # out, since dataclasses.asdict deep-copies every field.
        object.__setattr__(self, "_json", {"name": self.name, "passed": self.passed,
                                           "action": self.action, "detail": self.detail})

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: name, passed, action, detail."""
        return self._json.copy()  # type: ignore[attr-defined, no-any-return]


def json_forms(outcomes: Iterable[Any]) -> list[dict[str, Any]]:
    """A fresh copy of the JSON form of each check or reason (both keep theirs in
    ``_json``): what ``to_dict`` gives, without a method call per outcome."""
    return [outcome._json.copy() for outcome in outcomes]


# A check is frozen, so equal outcomes can share one instance: most comments
# pass most checks with the same detail, and a lookup costs a fraction of
# building a frozen dataclass.
@lru_cache(maxsize=4096)
def result(name: str, failed: bool, action: str, code: str, detail: str) -> Check:
    """A check that asks for ``action`` with ``code`` if ``failed``, and nothing otherwise."""
    return Check(name, not failed, action if failed else NONE, detail, code if failed else "")
