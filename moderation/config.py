"""Settings, declared once: name, default, help and parser.

Values are read from the defaults, then a TOML file (``MODERATION_CONFIG``),
then ``MODERATION_<NAME>`` environment variables, then explicit overrides
(tests, CLI options), and validated before anything starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, UnknownSite
from .parsers import (
    as_bool,
    as_check_actions,
    as_fields,
    as_float,
    as_int,
    as_list,
    as_str,
    as_table,
    as_thresholds,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings", "ENV_PREFIX", "DEFAULT_MODELS_DIR"]

ENV_PREFIX = "MODERATION_"
DEFAULT_MODELS_DIR = str(Path(__file__).resolve().parent.parent / "models")
# Public link shorteners: their links hide the real target from the domain lists.
DEFAULT_SHORTENERS = (
    "bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
    "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "s.id", "v.gd", "adf.ly", "shorte.st",
    "bc.vc", "clck.ru", "lnkd.in", "bl.ink", "tr.im", "x.co", "soo.gd", "qr.ae")
_SITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


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
            as_str),
    Setting("models_dir", DEFAULT_MODELS_DIR, "Folder holding model versions and CURRENT.",
            as_str),
    Setting("model_version", "", "Model version to serve; empty means the one in CURRENT.",
            as_str),
    Setting("store_comments", True, "Store every moderated comment and its decision.", as_bool),
    Setting("max_request_bytes", 65536, "Largest accepted request body, in bytes.", as_int(1024)),
    Setting("log_level", "INFO", "Logging level of the service and CLI.", as_str),
    Setting("score_cache_size", 5000,
            "Model scores and explanations remembered per process for exact repeats of a "
            "comment's content (spam repeats itself) of up to 2,000 characters; least "
            "recently used go first, 0 disables.", as_int(0)),
    Setting("batch_overlap", True,
            "Batches (re-scoring, moderate_many) score each chunk of comments on a helper "
            "thread while the calling thread checks the chunk before: two cores busy in one "
            "process. false keeps a batch on the calling thread.", as_bool),
    Setting("redis_url", "",
            "Redis URL (redis://host:6379/0) for flood and duplicate state shared by every "
            "worker; empty keeps that state in the database.", as_str),
    Setting("required_fields", ["content", "author_name", "author_email"],
            "Comment fields that must be non-empty.", as_fields, policy=True),
    Setting("min_length", 1, "Shortest comment in Unicode code points, after trimming.",
            as_int(1), policy=True),
    Setting("max_length", 1500,
            "Longest comment in Unicode code points (line endings count as one).",
            as_int(1), policy=True),
    Setting("max_author_length", 245, "Longest author name (WordPress's column limit).",
            as_int(1), policy=True),
    Setting("max_email_length", 100, "Longest author e-mail (WordPress's column limit).",
            as_int(6), policy=True),
    Setting("max_url_length", 200, "Longest author URL (WordPress's column limit).",
            as_int(1), policy=True),
    Setting("max_links", 2, "A comment with this many links or more, counting the author URL, "
            "is flagged (0 disables).", as_int(0), policy=True),
    Setting("allowed_domains", [],
            "Registrable domains whose links are trusted: not counted, never blocked.",
            as_list, policy=True),
    Setting("blocked_domains", [],
            "Registrable domains whose links reject a comment (sub.evil.example.co.uk matches "
            "example.co.uk).", as_list, policy=True),
    Setting("url_shorteners", list(DEFAULT_SHORTENERS),
            "Link-shortener domains, which hide the real target: a link to one is flagged.",
            as_list, policy=True),
    Setting("moderation_words", [],
            "Words, phrases, IP addresses or CIDR ranges, or /regular expressions/ that hold a "
            "comment for review.", as_list, policy=True),
    Setting("block_words", [],
            "Words, phrases, IP addresses or CIDR ranges, or /regular expressions/ that reject "
            "a comment.", as_list, policy=True),
    Setting("regex_timeout_ms", 50,
            "Longest time one word-list regular expression may run on one field.",
            as_int(1), policy=True),
    Setting("flood_seconds", 15, "A second comment from the same IP, e-mail or author within "
            "this many seconds is rejected (0 disables).", as_int(0), policy=True),
    Setting("duplicate_window", 86400, "The same content from the same author or on the same "
            "post within this many seconds is rejected (0 disables).", as_int(0), policy=True),
    Setting("honeypot_field", "", "Name of the hidden form field bots fill in; a comment whose "
            "form_fields give it a value is rejected (empty disables).", as_str, policy=True),
    Setting("min_seconds_to_submit", 3, "A comment sent sooner than this after "
            "form_rendered_at is flagged (0 disables).", as_int(0), policy=True),
    Setting("close_after_days", 0, "Comments arriving this many days after "
            "post_published_at are rejected (0 disables).", as_int(0), policy=True),
    Setting("trust_after", 3, "An e-mail with this many accepted comments and none rejected is "
            "trusted: model-only flags become accepts (0 disables).", as_int(0), policy=True),
    Setting("shouting_ratio", 0.7, "Share of upper-case letters at which a comment is shouting.",
            as_float(0.5, 1.0), policy=True),
    Setting("shouting_min_letters", 20,
            "Letters a comment needs before the shouting check applies.", as_int(1), policy=True),
    Setting("max_repeated_chars", 10,
            "A run of this many identical characters is flagged as gibberish.", as_int(3),
            policy=True),
    Setting("scripts", [], "Expected scripts (Latin, Cyrillic, ...) or language codes (en, ru, "
            "...); content mostly in another script is flagged (empty disables).",
            as_list, policy=True),
    Setting("check_actions", {}, "Per-check action override: flag, reject or off, e.g. "
            '{"links": "reject", "shouting": "off"}.', as_check_actions, policy=True),
    Setting("thresholds", {},
            "Per-category overrides of the model's flag_at / reject_at, e.g. "
            '{"spam": {"flag_at": 0.5}}.', as_thresholds, policy=True),
    Setting("sites", {}, "Per-site policy sections: [sites.<name>] tables overriding any policy "
            "setting; a request picks one with its site field.", lambda v: _as_sites(v)),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def _as_sites(value: Any) -> dict[str, dict[str, Any]]:
    sites: dict[str, dict[str, Any]] = {}
    for name, section in as_table(value).items():
        if not _SITE_NAME.match(name):
            raise ValueError(f"site name {name!r}: use letters, digits, '.', '_', '-'")
        if not isinstance(section, dict):
            raise ValueError(f"{name}: expected a table of policy settings")
        parsed = {}
        for key, raw in section.items():
            setting = _BY_NAME.get(key)
            if setting is None or not setting.policy:
                raise ValueError(f"{name}.{key}: not a policy setting")
            try:
                parsed[key] = setting.parse(raw)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name}.{key}: {exc}") from None
        sites[name] = parsed
    return sites


class Settings(Mapping[str, Any]):
    """The effective, validated settings (of one site, when ``site`` is set)."""

    def __init__(self, values: dict[str, Any], site: str = "") -> None:
        self._values = values
        self.site = site

    def for_site(self, name: str) -> Settings:
        """The settings of site ``name``: its section over the top-level policy."""
        if not name:
            return self
        if name not in self._values["sites"]:
            raise UnknownSite(f"unknown site {name!r}")
        return Settings({**self._values, **self._values["sites"][name], "sites": {}}, name)

    def sites(self) -> list[Settings]:
        """The top-level settings followed by each site's."""
        return [self] + [self.for_site(name) for name in self._values["sites"]]

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
