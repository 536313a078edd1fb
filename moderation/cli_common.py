"""Helpers shared by the command-line modules: error translation, settings, model."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .artefact import load_model
from .config import Settings, load_settings
from .errors import ModerationError
from .moderator import Moderator

__all__ = ["CONTEXT", "DEFAULT_TRAINING_DIR", "clean_errors", "settings_from", "moderator_for"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEFAULT_TRAINING_DIR = Path(__file__).resolve().parent.parent / "training_data"


def clean_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Library errors become a one-line message and exit code 1, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ModerationError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


def settings_from(**overrides: Any) -> Settings:
    """Effective settings with the non-``None`` overrides applied."""
    return load_settings({k: v for k, v in overrides.items() if v is not None})


def moderator_for(settings: Settings) -> Moderator:
    """The moderator for the configured model version and policy."""
    loaded = load_model(Path(settings["models_dir"]), settings["model_version"] or None)
    return Moderator(loaded, settings)
