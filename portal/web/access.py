"""Who may open which page: sign-in redirects, role gates, safe `next` targets and the idle-logout notice."""
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, make_response, redirect, request, url_for
from flask_login import login_required

from portal import auth_context
from portal.extensions import login_manager
from portal.models import Role
from portal.services import policy
from portal.services.accounts import sessions
from portal.services.errors import Forbidden

ENDED_NOTICES = {
    sessions.Ended.IDLE: "You were logged out after inactivity. Please log in again.",
    sessions.Ended.EXPIRED: "Your session has reached its time limit. Please log in again.",
    sessions.Ended.ACCOUNT: "Your account was deactivated. Contact the clinic if you think this is a mistake.",
    sessions.Ended.ENDED: "You were logged out. Please log in again.",
}


def safe_next(target: str | None, default_endpoint: str = "main.dashboard") -> str:
    """`target` when it is a same-site relative path, else the default page: no open redirects."""
    # Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so a target with
    # whitespace, control characters or backslashes could leave the site: it is refused outright.
    if target and not any(char.isspace() or ord(char) < 32 or char == "\\" for char in target):
        parts = urlsplit(target)
        if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
            return target
    return url_for(default_endpoint)


def role_required(*roles: Role):
    """Sign-in first, then the role: a page for another role is 403 (a page, not an object)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            try:
                policy.require_role(auth_context.session_user(), *roles)
            except Forbidden:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _current_page_path() -> str | None:
    """For htmx requests, the page the person is on (HX-Current-URL), if it is on this site."""
    current = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(current)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path else None


def _whole_page_to_login():
    """For htmx: a 401 with HX-Redirect, so the whole page moves to the login (and back afterwards)."""
    response = make_response("", 401)
    response.headers["HX-Redirect"] = url_for("auth.login", next=_current_page_path())
    return response


def _unauthorized():
    """Send people to the login page and back; htmx gets the whole page moved, not a fragment swapped."""
    if request.path.startswith("/api/"):
        abort(401)
    if request.htmx:
        return _whole_page_to_login()
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_path))


def _is_page_request() -> bool:
    return request.endpoint not in (None, "static") and not request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.unauthorized_handler(_unauthorized)

    @app.before_request
    def _notice_ended_session():
        """Say why a session ended; an htmx request of it (a week arrow, a poll) moves the whole page to
        the login, rather than swapping in a fragment drawn for a visitor under a header that says Log out."""
        if not _is_page_request() or auth_context.session_user() is not None:
            return None  # (loading the user is what tells whether, and why, a session ended)
        ended = g.get("session_ended")
        if ended is None:
            return None
        flash(ENDED_NOTICES[ended], "info")
        return _whole_page_to_login() if request.htmx else None

    @app.after_request
    def _no_store_pages(response):
        # Pages may show personal data: no copies in shared caches, none after logout via Back.
        if response.mimetype == "text/html" and not request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
