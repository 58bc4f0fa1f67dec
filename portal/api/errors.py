"""One mapping from every failure to the envelope and its HTTP status, for /api/ paths only.

API blueprints carry these handlers themselves (ApiBlueprint attaches them), so the portal's HTML
error pages never see them and their app-wide handlers never shadow ours; requests that match no
route (unknown /api/ path, wrong method) are answered by a before_request hook before Flask raises.
"""
from flask import Flask, current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import RequestRedirect

from portal.api.envelope import failure
from portal.extensions import db
from portal.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    RuleRefusal,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

API_PATH = "/api/"
BEARER_CHALLENGE = 'Bearer realm="clinic-portal"'

# HTTP status -> (envelope status, error code) for errors raised as werkzeug HTTP exceptions
HTTP_ENVELOPE = {
    400: ("incomplete", "bad_request"),
    401: ("forbidden", "unauthenticated"),
    403: ("forbidden", "forbidden"),
    404: ("failed", "not_found"),
    405: ("failed", "method_not_allowed"),
    409: ("failed", "conflict"),
    413: ("invalid", "too_large"),
    415: ("invalid", "unsupported_media"),
    422: ("invalid", "validation_error"),
    429: ("failed", "rate_limited"),
}
HTTP_MESSAGES = {
    404: "There is no such endpoint.",
    405: "This endpoint does not accept that method.",
    413: "The request body is too large.",
}


class ApiError(Exception):
    """A failure the API layer finds itself (body parsing, credentials), already placed in the status table."""

    def __init__(self, http_status: int, status: str, code: str, message: str,
                 fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.http_status, self.status, self.code, self.message = http_status, status, code, message
        self.fields, self.headers = fields, headers


def malformed_json(message: str = "The body is not valid JSON.") -> ApiError:
    return ApiError(400, "incomplete", "malformed_json", message)


def missing_fields(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "incomplete", "missing_field", "A required field is missing.", fields)


def invalid_fields(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(422, "invalid", "validation_error", "Some fields are not valid.", fields)


def unsupported_media(message: str) -> ApiError:
    return ApiError(415, "invalid", "unsupported_media", message)


def _from_domain(error: DomainError):
    if isinstance(error, NotFound):
        return failure(404, "failed", error.code, error.message)
    if isinstance(error, Unauthenticated):
        return failure(401, "forbidden", error.code, error.message, headers={"WWW-Authenticate": BEARER_CHALLENGE})
    if isinstance(error, Forbidden):
        return failure(403, "forbidden", error.code, error.message)
    if isinstance(error, Conflict):
        return failure(409, "failed", error.code, error.message)
    if isinstance(error, RuleRefusal):  # a booking rule: too_soon, too_far, too_late, no_show_limit
        return failure(422, "invalid", error.code, error.message)
    if isinstance(error, RateLimited):
        return failure(429, "failed", error.code, error.message, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, Unavailable):
        return failure(503, "failed", error.code, error.message, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, TooLarge):
        return failure(413, "invalid", error.code, error.message)
    if isinstance(error, Invalid):
        if error.code == "missing_field":
            return failure(400, "incomplete", error.code, error.message, fields=error.fields)
        status = 415 if error.code == "unsupported_media" else 422
        return failure(status, "invalid", error.code, error.message, fields=error.fields)
    return failure(400, "failed", error.code, error.message)


def _from_http(error: HTTPException):
    if error.code is None or error.code >= 500:
        return _internal(error)
    status, code = HTTP_ENVELOPE.get(error.code, ("failed", (error.name or "error").lower().replace(" ", "_")))
    message = HTTP_MESSAGES.get(error.code) or error.description or error.name
    headers = {name: value for name, value in error.get_headers() if name in ("Allow", "Retry-After")}
    if error.code == 401:
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return failure(error.code, status, code, message, headers=headers)


def _internal(error: BaseException):
    current_app.logger.error("unhandled error in the API", exc_info=error)
    try:
        db.session.rollback()  # a failed transaction must not leak into the answer or the next request
    except Exception:  # a database that is down cannot roll back; the envelope must still go out
        current_app.logger.exception("rollback after an unhandled error failed")
    request_id = g.get("request_id", "")
    return failure(500, "failed", "internal",
                   f"Something went wrong on our side. Quote request id {request_id} when you report it.")


def to_envelope(error: Exception):
    """The envelope response for any exception raised while serving an API request."""
    if isinstance(error, ApiError):
        return failure(error.http_status, error.status, error.code, error.message, error.fields, error.headers)
    if isinstance(error, DomainError):
        return _from_domain(error)
    if isinstance(error, HTTPException):
        return _from_http(error)
    return _internal(error)


def attach(blueprint: SmorestBlueprint) -> None:
    """Make a blueprint answer every error with the envelope (by code too, so app-wide
    handlers registered for a status code by the portal cannot take precedence)."""
    blueprint.register_error_handler(Exception, to_envelope)
    for code in default_exceptions:
        blueprint.register_error_handler(code, to_envelope)


def _unrouted_api_request():
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect) or not request.path.startswith(API_PATH):
        return None
    return to_envelope(error)


def init_app(app: Flask, smorest_handler) -> None:
    """Answer unknown /api/ paths and wrong methods with the envelope; drop flask-smorest's
    app-wide JSON error handler, which would otherwise answer the portal's HTML pages too.

    The portal's app-wide handlers hand /api/ paths to `api_error_renderer` (see web/errors.py),
    which covers the rest, e.g. errors raised before any API code ran.
    """
    app_handlers = app.error_handler_spec[None][None]
    if app_handlers.get(HTTPException) == smorest_handler:
        del app_handlers[HTTPException]
    app.before_request(_unrouted_api_request)
    app.extensions["api_error_renderer"] = to_envelope
