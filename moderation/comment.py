"""The comment schema: which fields a submission may carry and their types."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

__all__ = ["FIELDS", "parse_comment", "parse_time"]

# Only ``content`` is required by the schema; whether the other fields must be
# filled in is the site's policy (the required_fields check), not a 400.
FIELDS = ("content", "author_name", "author_email", "author_url", "author_ip", "user_agent",
          "post_id", "parent_id", "permalink", "site", "form_rendered_at", "post_published_at",
          "form_fields")
_ID_FIELDS = {"post_id", "parent_id"}
_TIME_FIELDS = {"form_rendered_at", "post_published_at"}
_NUMBER = re.compile(r"^\d{1,12}(?:\.\d+)?$")


def parse_time(value: str) -> _dt.datetime:
    """A timestamp (ISO 8601, or seconds since the epoch) as naive UTC; naive ISO
    times are taken as UTC."""
    text = value.strip()
    try:
        if _NUMBER.match(text):
            return _dt.datetime.fromtimestamp(float(text), _dt.timezone.utc).replace(tzinfo=None)
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{value!r} is not an ISO 8601 time or epoch seconds") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return moment


def _form_fields(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
            isinstance(v, str) or v is None for v in value.values()):
        raise ValidationError("field 'form_fields' must be an object of strings")
    return {str(k): _valid_text("form_fields", v) for k, v in value.items() if v is not None}


def _valid_text(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800"-style JSON escapes
        raise ValidationError(f"field {name!r} is not valid Unicode text") from None
    return value


def parse_comment(data: Any) -> dict[str, Any]:
    """Validate a decoded JSON object; returns every field, absent ones as ``None``."""
    if not isinstance(data, Mapping):
        raise ValidationError("the request body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(map(str, unknown))}")
    if "content" not in data:
        raise ValidationError("field 'content' is required")
    comment: dict[str, Any] = {}
    for name in FIELDS:
        value = data.get(name)
        if value is None and name != "content":
            comment[name] = None
        elif name == "form_fields":
            comment[name] = _form_fields(value)
        elif isinstance(value, str):
            comment[name] = _valid_text(name, value)
        elif (name in _ID_FIELDS and isinstance(value, int) or name in _TIME_FIELDS and (
                isinstance(value, (int, float)))) and not isinstance(value, bool):
            comment[name] = str(value)
        else:
            kind = "a string or a number" if name in _ID_FIELDS | _TIME_FIELDS else "a string"
            raise ValidationError(f"field {name!r} must be {kind}")
        if name in _TIME_FIELDS and comment[name] is not None:
            try:
                parse_time(comment[name])
            except ValueError as exc:
                raise ValidationError(f"field {name!r}: {exc}") from None
    return comment
