"""/sessions: sign a browser in with the portal's session cookie, for browser apps on this origin."""
from flask_wtf.csrf import generate_csrf

from portal import auth_context
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, no_content, ok
from portal.api.schemas.auth import BrowserSessionSchema, SessionLoginSchema
from portal.api.schemas.common import envelope
from portal.services.accounts import user_accounts
from portal.services.errors import Unauthenticated

blp = ApiBlueprint("sessions", __name__, url_prefix="/sessions",
                   description="Browser sessions: the portal's cookie plus a CSRF token for unsafe requests.")


@blp.post("")
@blp.arguments(SessionLoginSchema)
@blp.response(201, envelope(BrowserSessionSchema))
@blp.fails_with(401, 403, 429, 503)
def start(body):
    """Sign in and set the session cookie; send the returned csrf_token as X-CSRFToken on unsafe requests.

    Failures as for /auth/login (401, 403, 429).
    """
    user = user_accounts.authenticate(body["username"], body["password"], auth_context.client_ip())
    auth_context.begin(user)
    return created({"user": user, "csrf_token": generate_csrf()}, "Signed in.")


@blp.get("")
@blp.response(200, envelope(BrowserSessionSchema))
@blp.fails_with(401)
def current():
    """The cookie session's user and CSRF token (for a page that was reloaded); 401 without a live session."""
    caller = auth.cookie_caller()
    if caller is None:
        raise Unauthenticated("There is no browser session; sign in with POST /sessions.")
    return ok({"user": caller.user, "csrf_token": generate_csrf()}, "Signed in.")


@blp.delete("")
@blp.response(204)
@blp.fails_with(401)
def end():
    """Sign the browser out and clear the cookie; with a live session this needs X-CSRFToken (else 401)."""
    auth.cookie_caller()
    auth_context.end()
    return no_content()
