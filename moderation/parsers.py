"""Value parsers for settings: each takes a TOML or environment value and returns
the validated value, or raises ``ValueError`` with a message for the user."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["as_int", "as_float", "as_str", "as_bool", "as_list", "as_fields", "as_thresholds",
           "as_check_actions", "as_table", "CHECK_FIELDS", "CHECK_ACTIONS"]

CHECK_FIELDS = ("content", "author_name", "author_email", "author_url")
CHECK_ACTIONS = ("flag", "reject", "off")


def as_int(minimum: int) -> Callable[[Any], int]:
    """A parser of integers not below ``minimum``."""
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("expected an integer")
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number

    return parse


def as_float(low: float, high: float) -> Callable[[Any], float]:
    """A parser of numbers between ``low`` and ``high`` inclusive."""
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("expected a number")
        number = float(value)
        if math.isnan(number) or not low <= number <= high:
            raise ValueError(f"expected a number between {low:g} and {high:g}")
        return number

    return parse


def as_str(value: Any) -> str:
    """A string, unchanged."""
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def as_bool(value: Any) -> bool:
    """A boolean, or one of the usual spellings in the environment."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no",
                                                    "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise ValueError("expected true or false")


def as_list(value: Any) -> list[str]:
    """A list of strings; in the environment a JSON array or comma-separated."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [
            part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return list(value)


def as_fields(value: Any) -> list[str]:
    """A list of comment field names."""
    fields = as_list(value)
    unknown = sorted(set(fields) - set(CHECK_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(CHECK_FIELDS)}")
    return fields


def as_table(value: Any) -> dict[str, Any]:
    """A TOML table, or a JSON object in the environment."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError("expected a table")
    return dict(value)


def as_thresholds(value: Any) -> dict[str, dict[str, float]]:
    """Per-category ``flag_at`` / ``reject_at`` overrides."""
    result: dict[str, dict[str, float]] = {}
    for category, limits in as_table(value).items():
        if not isinstance(limits, dict) or not set(limits) <= {"flag_at", "reject_at"}:
            raise ValueError(f"{category}: expected flag_at and/or reject_at")
        for key, number in limits.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not (
                    0.0 <= number <= 1.0):
                raise ValueError(f"{category}.{key}: expected a number between 0 and 1")
        result[category] = {k: float(v) for k, v in limits.items()}
    return result


def as_check_actions(value: Any) -> dict[str, str]:
    """Check name to ``flag``, ``reject`` or ``off`` (names are checked by the policy)."""
    table = as_table(value)
    for name, action in table.items():
        if action not in CHECK_ACTIONS:
            raise ValueError(f"{name}: expected one of {', '.join(CHECK_ACTIONS)}")
    return {str(k): str(v) for k, v in table.items()}
