"""The HTTP API: a Flask app built around one loaded model.

Routes only translate between HTTP and :class:`~moderation.moderator.Moderator`;
every failure, 404 and 405 included, has the JSON shape
``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.json.provider import JSONProvider
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from . import __version__
from .artefact import load_model
from .comment import parse_comment
from .config import Settings, load_settings
from .errors import (
    InvalidJSON,
    MethodNotAllowed,
    ModerationError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from .moderator import Moderator
from .policy_state import PolicyState
from .store import migrate, open_engine

__all__ = ["create_app"]

log = logging.getLogger(__name__)
bp = Blueprint("moderation", __name__)
_HTTP_ERRORS: dict[int, type[ModerationError]] = {
    404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge, 415: UnsupportedMediaType}


class _OrjsonProvider(JSONProvider):
    """Responses written by orjson: compact UTF-8, keys in insertion order.

    A moderation answer (checks, reasons, evidence) took the standard encoder
    about 50 µs, a twentieth of the request; orjson takes a few.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = orjson.dumps(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype="application/json")


def _moderator() -> Moderator:
    return current_app.extensions["moderation"]  # type: ignore[no-any-return]


def _read_json() -> Any:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the comment as JSON with Content-Type: application/json")
    body = request.get_data(cache=False)  # MAX_CONTENT_LENGTH bounds this read
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidJSON("the request body is not valid UTF-8") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None


@bp.post("/v1/moderate")
def moderate() -> Any:
    comment = parse_comment(_read_json())
    comment_id = uuid.uuid4().hex
    store = current_app.config["SETTINGS"]["store_comments"]
    result = _moderator().moderate(comment, save_as=comment_id if store else None)
    return jsonify({"id": comment_id, **result})


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok", "version": __version__})


@bp.get("/v1/model")
def model_info() -> Any:
    moderator = _moderator()
    manifest = moderator.loaded.manifest
    return jsonify({
        "version": moderator.model_version,
        "created_at": manifest.get("created_at"),
        "categories": list(moderator.categories),
        "thresholds": moderator.thresholds,
        "metrics": manifest.get("metrics", {}),
        "data_sources": manifest.get("data_sources", []),
        "policy_version": moderator.policy_version,
    })


def _error_response(error: ModerationError) -> Any:
    return jsonify(error.to_dict()), error.status


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    error_class = _HTTP_ERRORS.get(status)
    if error_class is None:
        error = ModerationError(exc.description or exc.name)
        error.status, error.code = status, exc.name.lower().replace(" ", "_")
    else:
        error = error_class(f"{exc.description}" if status != 413 else
                            "the request body is larger than the configured limit")
    response = _error_response(error)
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response[0].headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _is_outage(exc: Exception) -> bool:
    """A database or Redis connection failure: the client may retry, it is not a bug."""
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError)
                                             and exc.connection_invalidated):
        return True
    try:
        import redis
    except ImportError:
        return False
    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError))


def _unexpected(exc: Exception) -> Any:
    if _is_outage(exc):
        log.error("dependency unavailable on %s %s: %s", request.method, request.path,
                  type(exc).__name__)
        return _error_response(ServiceUnavailable(
            "storage is temporarily unavailable; nothing was saved, try again"))
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error_response(ModerationError("internal server error"))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service: settings, model, database, routes and error handlers."""
    settings: Settings = load_settings(config)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["max_request_bytes"]
    app.json = _OrjsonProvider(app)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings["log_level"],
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    loaded = load_model(Path(settings["models_dir"]), settings["model_version"] or None)
    moderator = Moderator(loaded, settings)
    # The database also holds the flood, duplicate and trust state every worker shares;
    # a submission's state and its stored comment are written in one transaction.
    if settings["store_comments"] or moderator.needs_state:
        engine = open_engine(settings["database_url"])
        migrate(engine)
        # No connection left open: under gunicorn --preload this runs before the fork,
        # and workers must not share one (each opens its own on first use).
        engine.dispose()
        app.extensions["moderation_engine"] = engine
        moderator.state = PolicyState(engine, settings["redis_url"])
    app.extensions["moderation"] = moderator
    app.register_blueprint(bp)
    app.register_error_handler(ModerationError, _error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    log.info("serving model %s, policy %s", loaded.version, settings.policy_version)
    return app
