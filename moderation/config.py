"""Settings, declared once: name, default, help and parser.

Values are read from the defaults, then a TOML file (``MODERATION_CONFIG``),
then ``MODERATION_<NAME>`` environment variables, then explicit overrides
(tests, CLI options), and validated before anything starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings", "ENV_PREFIX", "DEFAULT_MODELS_DIR"]

ENV_PREFIX = "MODERATION_"
DEFAULT_MODELS_DIR = str(Path(__file__).resolve().parent.parent / "models")
_CHECK_FIELDS = ("content", "author_name", "author_email", "author_url")


def _as_int(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("expected an integer")
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number

    return parse


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no",
                                                    "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise ValueError("expected true or false")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):  # environment: JSON array or comma-separated
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [
            part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return list(value)


def _as_fields(value: Any) -> list[str]:
    fields = _as_list(value)
    unknown = sorted(set(fields) - set(_CHECK_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(_CHECK_FIELDS)}")
    return fields


def _as_thresholds(value: Any) -> dict[str, dict[str, float]]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError("expected a table of categories")
    result: dict[str, dict[str, float]] = {}
    for category, limits in value.items():
        if not isinstance(limits, dict) or not set(limits) <= {"flag_at", "reject_at"}:
            raise ValueError(f"{category}: expected flag_at and/or reject_at")
        for key, number in limits.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not (
                    0.0 <= number <= 1.0):
                raise ValueError(f"{category}.{key}: expected a number between 0 and 1")
        result[category] = {k: float(v) for k, v in limits.items()}
    return result


@dataclass(frozen=True)
class Setting:
    """One configurable value."""

    name: str
    default: Any
    help: str
    parse: Callable[[Any], Any]
    policy: bool = False  # part of the policy hash reported with every decision


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "sqlite:///moderation.db",
            "Where decisions are stored: sqlite:///relative/path.db, sqlite:////absolute.db, "
            "postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db.",
            _as_str),
    Setting("models_dir", DEFAULT_MODELS_DIR, "Folder holding model versions and CURRENT.",
            _as_str),
    Setting("model_version", "", "Model version to serve; empty means the one in CURRENT.",
            _as_str),
    Setting("store_comments", True, "Store every moderated comment and its decision.", _as_bool),
    Setting("max_request_bytes", 65536, "Largest accepted request body, in bytes.", _as_int(1024)),
    Setting("log_level", "INFO", "Logging level of the service and CLI.", _as_str),
    Setting("score_cache_size", 5000,
            "Model scores remembered per process for exact repeats of a comment's content "
            "(spam repeats itself) of up to 2,000 characters; least recently used go first, "
            "0 disables.", _as_int(0)),
    Setting("required_fields", ["content", "author_name", "author_email"],
            "Comment fields that must be non-empty.", _as_fields, policy=True),
    Setting("max_length", 1500,
            "Longest comment in Unicode code points (line endings count as one).",
            _as_int(1), policy=True),
    Setting("max_links", 2, "A comment with this many links or more is flagged (0 disables).",
            _as_int(0), policy=True),
    Setting("moderation_words", [],
            "Words or phrases that hold a comment for review (matched on normalised text).",
            _as_list, policy=True),
    Setting("block_words", [],
            "Words or phrases that reject a comment (matched on normalised text).",
            _as_list, policy=True),
    Setting("thresholds", {},
            "Per-category overrides of the model's flag_at / reject_at, e.g. "
            '{"spam": {"flag_at": 0.5}}.', _as_thresholds, policy=True),
)
_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(Mapping[str, Any]):
    """The effective, validated settings."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def policy_version(self) -> str:
        """A stable hash of every setting that shapes the policy."""
        policy = {s.name: self._values[s.name] for s in SETTINGS if s.policy}
        blob = json.dumps(policy, sort_keys=True, ensure_ascii=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _apply(values: dict[str, Any], source: Mapping[str, Any], origin: str) -> None:
    for key, raw in source.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        try:
            values[key] = setting.parse(raw)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{origin}: invalid value for {key!r}: {exc}") from None


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file, then the environment, then ``overrides``."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.parse(s.default) for s in SETTINGS}
    path = environ.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                _apply(values, tomllib.load(fh), path)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    env = {s.name: environ[ENV_PREFIX + s.name.upper()] for s in SETTINGS
           if ENV_PREFIX + s.name.upper() in environ}
    _apply(values, env, "environment")
    _apply(values, overrides or {}, "configuration")
    return Settings(values)
