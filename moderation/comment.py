"""The comment schema: which fields a submission may carry and their types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

__all__ = ["FIELDS", "parse_comment"]

# Only ``content`` is required by the schema; whether the other fields must be
# filled in is the site's policy (the required_fields check), not a 400.
FIELDS = ("content", "author_name", "author_email", "author_url", "author_ip", "user_agent",
          "post_id", "parent_id", "permalink")
_ID_FIELDS = {"post_id", "parent_id"}


def _valid_text(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800"-style JSON escapes
        raise ValidationError(f"field {name!r} is not valid Unicode text") from None
    return value


def parse_comment(data: Any) -> dict[str, str | None]:
    """Validate a decoded JSON object; returns every field, absent ones as ``None``."""
    if not isinstance(data, Mapping):
        raise ValidationError("the request body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(map(str, unknown))}")
    if "content" not in data:
        raise ValidationError("field 'content' is required")
    comment: dict[str, str | None] = {}
    for name in FIELDS:
        value = data.get(name)
        if value is None and name != "content":
            comment[name] = None
        elif isinstance(value, str):
            comment[name] = _valid_text(name, value)
        elif name in _ID_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            comment[name] = str(value)
        else:
            kind = "a string or an integer" if name in _ID_FIELDS else "a string"
            raise ValidationError(f"field {name!r} must be {kind}")
    return comment
