"""Who is calling: a Bearer access token, or the portal's session cookie (with CSRF on unsafe methods).

When an Authorization header is present it alone decides, so a bad token is never rescued by a
cookie. Anything that is neither is 401. The caller is kept on `g` for the rest of the request.
"""
from dataclasses import dataclass

from flask import Response, current_app, g, request
from flask_wtf.csrf import ValidationError, validate_csrf

from portal import auth_context
from portal.models import Role, User
from portal.services import policy
from portal.services.accounts import tokens
from portal.services.actor import Actor
from portal.services.errors import Unauthenticated

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIX = "/api/"
TOKEN_BLUEPRINTS = ("api_auth", "api_sessions")  # their answers may carry tokens or a CSRF token
CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


@dataclass(frozen=True)
class Caller:
    user: User
    family_id: str | None = None  # set for Bearer callers: the token family of their login
    session_id: str | None = None  # set for cookie callers: the raw id of their portal session


def _from_bearer(header: str) -> Caller:
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthenticated("Send the access token as 'Authorization: Bearer <token>'.")
    user, family_id = tokens.authenticate_access(raw.strip())
    return Caller(user=user, family_id=family_id)


def _check_csrf() -> None:
    token = next((request.headers[name] for name in CSRF_HEADERS if request.headers.get(name)), None)
    try:
        validate_csrf(token)
    except ValidationError:
        raise Unauthenticated("With the session cookie, POST, PUT, PATCH and DELETE need a valid "
                              "X-CSRFToken header.", code="csrf_failed") from None


def _from_cookie() -> Caller:
    user = auth_context.session_user()
    if user is None:
        raise Unauthenticated("Sign in first: send a Bearer access token or the session cookie.")
    if request.method not in SAFE_METHODS:
        _check_csrf()
    return Caller(user=user, session_id=auth_context.current_session_id())


def identify(*roles: Role) -> Caller:
    """Find and remember the caller; Unauthenticated (401) or, for a role outside `roles`, Forbidden (403)."""
    header = request.headers.get("Authorization")
    caller = _from_bearer(header) if header else _from_cookie()
    if roles:
        policy.require_role(caller.user, *roles)
    g.api_caller = caller
    return caller


def cookie_caller() -> Caller | None:
    """The cookie session's caller when there is a live one (CSRF checked as in identify), else None."""
    if auth_context.session_user() is None:
        return None
    return _from_cookie()


def optional_actor() -> Actor:
    """For public reads that show staff more: the caller when credentials come with the request (a bad Bearer
    token is 401, as everywhere), else an anonymous actor."""
    if request.headers.get("Authorization"):
        return auth_context.actor_for(identify().user)
    found = cookie_caller()
    return auth_context.actor_for(found.user if found else None)


def caller() -> Caller:
    return g.api_caller


def current_user() -> User:
    return g.api_caller.user


def actor() -> Actor:
    """The caller as services see them, for policy checks and audit rows."""
    return auth_context.actor_for(g.api_caller.user)


def credentialed() -> bool:
    """Did the request come with credentials (a Bearer token, the portal's session cookie, or a reminder link's
    `?token=`)?"""
    return ("Authorization" in request.headers or current_app.config["SESSION_COOKIE_NAME"] in request.cookies
            or "token" in request.args)


def no_store(response: Response) -> Response:
    """Cache-Control: no-store on every API answer to a request with credentials (Bearer or session
    cookie), errors and unknown paths included, and on every answer of the token endpoints, so no
    browser or proxy cache keeps personal data or tokens; image bytes keep their `private` (the
    owner's browser may revalidate them). One app-wide after_request rule (api/__init__.py)."""
    if not request.path.startswith(API_PREFIX):
        return response
    if (credentialed() or request.blueprint in TOKEN_BLUEPRINTS) and not response.cache_control.private:
        response.headers["Cache-Control"] = "no-store"
    return response
