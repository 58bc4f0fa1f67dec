"""The signed-in user of a browser, shared by the portal pages and the API's cookie sessions.

Flask-Login asks `_load_from_cookie` for the user of each request; the cookie holds only the id of a
server-side session (services.sessions), so ending that row ends the session everywhere.
"""
from flask import Flask, g, request, session
from flask_login import AnonymousUserMixin, current_user

from portal.extensions import login_manager
from portal.models import User
from portal.services.accounts import sessions
from portal.services.actor import Actor

SESSION_KEY = "sid"
BACKGROUND_HEADER = "X-Background-Poll"  # polling requests send it; they do not keep a session alive


class Anonymous(AnonymousUserMixin):
    role = None
    id = None


def _load_from_cookie(_request) -> User | None:
    raw = session.get(SESSION_KEY)
    if not raw:
        return None
    user, ended = sessions.load(raw, activity=request.headers.get(BACKGROUND_HEADER) != "1")
    if user is None:
        session.pop(SESSION_KEY, None)
        g.session_ended = ended
    return user


def begin(user: User) -> None:
    """Sign a browser in with a brand-new session id (nothing of the old cookie session survives)."""
    session.clear()
    session[SESSION_KEY] = sessions.start(user, client_ip(), request.headers.get("User-Agent"))
    g._login_user = user  # Flask-Login's per-request cache, so this request already sees the user


def end() -> None:
    """End the server-side session and forget the cookie's contents."""
    raw = session.get(SESSION_KEY)
    if raw:
        sessions.end(raw)
    session.clear()
    g._login_user = Anonymous()


def current_session_id() -> str | None:
    return session.get(SESSION_KEY)


def session_user() -> User | None:
    """The user signed in through the cookie, or None."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def client_ip() -> str:
    """The caller's address as the WSGI server saw it (ProxyFix in production sets it from the proxy)."""
    return request.remote_addr or "unknown"


def actor_for(user: User | None) -> Actor:
    return Actor(user=user, ip=client_ip(), request_id=g.get("request_id"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = None  # server-side sessions do this job
    login_manager.request_loader(_load_from_cookie)
