"""Password reset by mail: a one-time token, valid for PASSWORD_RESET_SECONDS, stored only as a hash.

The mailed link is built here and only here, from PUBLIC_BASE_URL: never from the request's Host
header, which anyone can set to their own site and so collect working reset tokens.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import PasswordResetToken, User, utcnow
from portal.services import mail, throttle
from portal.services.accounts import passwords, user_accounts
from portal.services.errors import Invalid
from portal.services.jobs import outbox
from portal.services.secrets_util import digest, new_token

BAD_TOKEN = "This reset link is invalid, used or expired; ask for a new one."
RESET_PATH = "/reset-password/"  # the portal's page; the API's POST /auth/password-reset takes the same token


def reset_link(raw_token: str) -> str:
    """The mailed link; its last path segment is the token."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{RESET_PATH}{raw_token}"


def request_reset(email: str, address: str) -> None:
    """Count the request, then hand everything else to the job queue: the answer does the same work
    (one job row) whether or not the address has an account, so neither its content nor its timing tells."""
    throttle.take_reset_request(email or "", address)
    outbox.enqueue("password_reset", {"email": email or ""})
    db.session.commit()


@outbox.handler("password_reset")
def _mail_link_if_known(payload: dict) -> None:
    """The job: a token and its link for an active account with that address; nothing for any other."""
    email = payload["email"]
    user = user_accounts.find_by_login(email) if "@" in email else None
    if user is None or not user.is_active_flag:
        return
    raw = new_token()
    seconds = int(current_app.config["PASSWORD_RESET_SECONDS"])
    db.session.add(PasswordResetToken(token_hash=digest(raw), user_id=user.id,
                                      expires_at=utcnow() + timedelta(seconds=seconds)))
    body = (f"Hello {user.full_name or user.username},\n\n"
            f"someone asked to reset the password of your {current_app.config['CLINIC_NAME']} account.\n"
            f"Open this link within {seconds // 60} minutes to choose a new one:\n\n{reset_link(raw)}\n\n"
            "If it was not you, ignore this mail; your password stays as it is.\n")
    mail.send(user.email, "Reset your password", body)  # the job is the sender; its token commits with it


def _live_token(raw_token: str) -> PasswordResetToken | None:
    token = db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.token_hash == digest(raw_token or "")))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def is_usable(raw_token: str) -> bool:
    """Whether a reset link still works, so a page can say so before anyone types a new password."""
    return _live_token(raw_token) is not None


def reset(raw_token: str, new_password: str) -> User:
    """Spend the token (once, even under races), set the password, end every session and token."""
    problems = {}
    token = _live_token(raw_token)
    if token is None:
        problems["token"] = [BAD_TOKEN]
    if passwords.problems(new_password or ""):
        problems["password"] = passwords.problems(new_password or "")
    if problems:
        raise Invalid(problems)
    spent = db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None)).values(used_at=utcnow()))
    if spent.rowcount != 1:
        db.session.rollback()
        raise Invalid({"token": [BAD_TOKEN]})
    user = db.session.get(User, token.user_id)
    user_accounts.set_password(user, new_password)
    db.session.commit()
    return user
