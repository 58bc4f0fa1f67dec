"""/auth: registration, access and refresh tokens, logout and password reset by mail."""
from flask import g

from portal import auth_context
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import accepted, created, no_content, ok
from portal.api.schemas.auth import (
    LoginResultSchema,
    LoginSchema,
    LogoutSchema,
    RefreshSchema,
    RegisterSchema,
    ResetRequestSchema,
    ResetSchema,
    TokenPairSchema,
)
from portal.api.schemas.common import MessageEnvelopeSchema, envelope
from portal.api.schemas.users import UserSchema
from portal.services.accounts import password_reset, tokens, user_accounts

blp = ApiBlueprint("auth", __name__, url_prefix="/auth",
                   description="Accounts and tokens: register, log in, refresh, log out, reset a password.")


@blp.post("/register")
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(UserSchema))
@blp.fails_with(409, 422, 429, 503)
def register(body):
    """Create an account; a patient gets a linked patient profile, a doctor waits for approval.

    409 `username_taken` / `email_taken`; 422 for a weak password (under 12 or over 128 characters,
    or a common one), a bad email or username; 429 after too many registrations from one address.
    """
    user = user_accounts.register(**body, ip=auth_context.client_ip())
    if user.approved:
        return created(user, "Account created.")
    return created(user, "Account created; it waits for an administrator's approval.")


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, envelope(LoginResultSchema))
@blp.fails_with(401, 403, 429, 503)
def login(body):
    """Exchange a username (or email) and password for an access and a refresh token.

    401 "Authentication failed." for an unknown account and a wrong password alike; 403
    `account_inactive` / `account_pending` (told only after the right password); 429 after repeated
    failures, even for the right password, until `Retry-After` has passed.
    """
    user = user_accounts.authenticate(body.get("username") or body.get("email"), body["password"],
                                 auth_context.client_ip())
    return ok(tokens.issue_pair(user), "Signed in.")


@blp.post("/token")
@blp.arguments(RefreshSchema)
@blp.response(200, envelope(TokenPairSchema))
@blp.fails_with(401)
def refresh(body):
    """Spend a refresh token for a new access token and its successor refresh token.

    A refresh token works once. Presenting a spent one revokes its whole family (401 `token_revoked`).
    """
    return ok(tokens.refresh(body["refresh_token"], presented_at=g.received_at), "Tokens renewed.")


@blp.post("/logout")
@blp.auth()
@blp.arguments(LogoutSchema, required=False)
@blp.response(204)
def logout(body):
    """End this login: the access token and its refresh family stop working at once.

    With a Bearer token, `refresh_token` may name another refresh token of yours whose family ends
    too. Called with the session cookie (and X-CSRFToken), it ends the browser session instead.
    """
    caller = auth.caller()
    if caller.family_id:
        tokens.logout(caller.user, caller.family_id, body.get("refresh_token"))
    else:
        auth_context.end()
    return no_content()


@blp.post("/password-reset/request")
@blp.arguments(ResetRequestSchema)
@blp.response(202, MessageEnvelopeSchema)
@blp.fails_with(429, 503)
def request_reset(body):
    """Mail a one-time reset link when the address belongs to an account; the answer is the same either way.

    At most 5 requests an hour per email address, and a bounded number per client address (429 with
    `Retry-After`). The link's host is the portal's configured public address, never this request's Host.
    """
    password_reset.request_reset(body["email"], auth_context.client_ip())
    return accepted("If that address belongs to an account, a mail with a reset link is on its way.")


@blp.post("/password-reset")
@blp.arguments(ResetSchema)
@blp.response(200, MessageEnvelopeSchema)
def reset(body):
    """Set a new password with the token from the mail; every session and refresh token of the account ends.

    422 with `error.fields.token` for an unknown, used or expired token, `error.fields.password` for a weak one.
    """
    password_reset.reset(body["token"], body["password"])
    return ok(None, "Your password was changed; sign in with it.")
