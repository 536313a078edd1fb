"""The error tree shared by the core, the HTTP API and the CLI.

Every error carries an HTTP ``status`` and a stable machine ``code``; the API
renders any of them as ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

__all__ = [
    "ModerationError",
    "BadRequest",
    "UnsupportedMediaType",
    "PayloadTooLarge",
    "InvalidJSON",
    "ValidationError",
    "NotFound",
    "MethodNotAllowed",
    "ConfigError",
    "ServiceUnavailable",
    "ModelError",
    "ModelIntegrityError",
    "InputFileError",
    "UnknownSite",
]


class ModerationError(Exception):
    """Base class of every error this package raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The JSON error body."""
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ModerationError):
    """The request could not be understood."""

    status = 400
    code = "bad_request"


class InvalidJSON(BadRequest):
    """The body is not valid UTF-8 JSON."""

    code = "invalid_json"


class ValidationError(BadRequest):
    """The JSON is well formed but does not match the schema."""

    code = "invalid_request"


class UnsupportedMediaType(ModerationError):
    """The request body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(ModerationError):
    """The request body exceeds the configured limit."""

    status = 413
    code = "payload_too_large"


class NotFound(ModerationError):
    """No such resource."""

    status = 404
    code = "not_found"


class MethodNotAllowed(ModerationError):
    """The resource exists but not with this method."""

    status = 405
    code = "method_not_allowed"


class ServiceUnavailable(ModerationError):
    """A service we depend on (database, Redis) cannot be reached; try again later."""

    status = 503
    code = "service_unavailable"


class ConfigError(ModerationError):
    """The configuration is invalid."""

    code = "config_error"


class ModelError(ModerationError):
    """The model artefact is missing or unusable."""

    code = "model_error"


class ModelIntegrityError(ModelError):
    """The model artefact does not match the sha256 in its manifest."""

    code = "model_integrity_error"


class InputFileError(ModerationError):
    """A batch input file has a bad row."""

    status = 400
    code = "input_file_error"

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


class UnknownSite(NotFound):
    """The request names a site the configuration does not define."""

    code = "unknown_site"
