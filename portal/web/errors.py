"""Friendly error pages for the portal, and the hand-over of /api/ paths to the API's JSON errors.

Flask has one error-handler table per app, so these handlers see every path. The contract with
the API: for a path under /api/, the handler calls `current_app.extensions["api_error_renderer"]`
(a callable taking the error and returning a response) when the API has set it, and otherwise
answers with a plain JSON envelope. Pages never show a stack trace; they show the request id, which
is also in the logs, so a person can quote it.
"""
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

PAGE_CODES = (400, 401, 403, 404, 405, 413, 429, 500)

TITLES = {
    400: "That request was not understood",
    401: "Please log in",
    403: "You may not open this page",
    404: "Page not found",
    405: "That action is not available here",
    413: "That upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}

EXPLANATIONS = {
    400: "The page sent something we could not use. Go back, reload the page and try again.",
    401: "You need to log in to continue.",
    403: "Your account does not have access to this page.",
    404: "There is nothing at this address. It may have moved, or the link may be mistyped.",
    405: "This address does not accept that kind of request.",
    413: "What you sent is larger than we accept. Choose a smaller file, or shorten the text, and try again.",
    429: "Please wait a moment before trying again.",
    500: "We have been told about it. Please try again in a moment.",
}

CSRF_TITLE = "This form has expired"
CSRF_EXPLANATION = "For your safety, forms expire. Go back, reload the page and send the form again."

FALLBACK_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head>"
                 "<body><main><h1>Something went wrong</h1><p>Request id: {request_id}</p></main></body></html>")


def _status(error: Exception) -> int:
    return error.code if isinstance(error, HTTPException) and error.code else 500


def _api_response(error: Exception):
    renderer = current_app.extensions.get("api_error_renderer")
    if renderer is not None:
        return renderer(error)
    status = _status(error)
    message = error.description if isinstance(error, HTTPException) else "Internal server error."
    body = {"status": "failed", "message": message, "data": None,
            "error": {"code": "internal" if status == 500 else "http_error"}}
    return jsonify(body), status


def render_error_page(status: int, title: str | None = None, explanation: str | None = None,
                      retry_after: int | None = None):
    """The friendly page for an error status; the same layout whether a view or a handler asks."""
    request_id = g.get("request_id", "")
    try:
        html = render_template("errors/error.html", status=status, title=title or TITLES[status],
                               explanation=explanation or EXPLANATIONS[status], request_id=request_id,
                               retry_after=retry_after)
    except Exception:  # the layout itself failed (say the database is down): still no stack trace
        current_app.logger.exception("error page could not be rendered")
        html = FALLBACK_PAGE.format(request_id=request_id)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return html, status, headers


def _page_or_api(error: Exception):
    if request.path.startswith("/api/"):
        return _api_response(error)
    status = _status(error)
    if status >= 500:
        db.session.rollback()  # a failed transaction must not break the page that reports it
    retry_after = getattr(error, "retry_after", None)
    return render_error_page(status, explanation=getattr(error, "explanation", None),
                             retry_after=retry_after if isinstance(retry_after, int) else None)


def _csrf_failed(error: CSRFError):
    if request.path.startswith("/api/"):
        return _api_response(error)
    return render_error_page(400, CSRF_TITLE, CSRF_EXPLANATION)


def init_app(app: Flask) -> None:
    for code in PAGE_CODES:
        app.register_error_handler(code, _page_or_api)
    app.register_error_handler(CSRFError, _csrf_failed)
