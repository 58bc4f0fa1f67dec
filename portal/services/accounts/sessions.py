"""Portal sessions kept on the server: a row per login, so logout and deactivation end them for real.

The cookie carries only a random id; the row decides whether it still counts (idle limit, absolute
lifetime, ended). Background polling may load a session without counting as activity.
"""
from datetime import timedelta
from enum import Enum

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from portal.extensions import db
from portal.models import User, UserSession, utcnow
from portal.services.secrets_util import digest, new_token

TOUCH_EVERY = timedelta(seconds=30)  # write last_seen_at at most this often


def start(user: User, ip: str | None, user_agent: str | None) -> str:
    """A new session (new id) for a login; the raw id goes into the signed cookie."""
    raw = new_token()
    db.session.add(UserSession(token_hash=digest(raw), user_id=user.id, ip=ip,
                               user_agent=(user_agent or "")[:255]))
    db.session.commit()
    return raw


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])),
            timedelta(hours=int(config["SESSION_ABSOLUTE_HOURS"])))


class Ended(str, Enum):
    """Why a cookie's session no longer counts, so the portal can say the right thing."""

    IDLE = "idle"  # inactive past SESSION_IDLE_MINUTES
    EXPIRED = "expired"  # older than SESSION_ABSOLUTE_HOURS
    ACCOUNT = "account"  # the account was deactivated (or is no longer approved)
    ENDED = "ended"  # logged out, reset, or unknown


def load(raw: str, *, activity: bool = True) -> tuple[User | None, Ended | None]:
    """The signed-in user of a live session, or None and why: ended, idled out, outlived its limit,
    or its account can no longer sign in."""
    row = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == digest(raw)).options(undefer(User.own_patient_id))  # as the bearer check
    ).first()
    if row is None:
        return None, Ended.ENDED
    session, user = row.UserSession, row.User
    idle, absolute = _limits()
    now = utcnow()
    if session.ended_at is not None:
        return None, Ended.ENDED if user.can_sign_in else Ended.ACCOUNT
    reason = (Ended.ACCOUNT if not user.can_sign_in else Ended.IDLE if now - session.last_seen_at > idle
              else Ended.EXPIRED if now - session.created_at > absolute else None)
    if reason is not None:
        session.ended_at = now
        db.session.commit()
        return None, reason
    if activity and now - session.last_seen_at > TOUCH_EVERY:
        session.last_seen_at = now
        db.session.commit()
    return user, None


def end(raw: str) -> None:
    db.session.execute(update(UserSession).where(UserSession.token_hash == digest(raw),
                                                 UserSession.ended_at.is_(None)).values(ended_at=utcnow()))
    db.session.commit()


def end_all_for_user(user_id: int, keep_raw: str | None = None) -> None:
    """End every session of a user (password reset, deactivation), optionally sparing the current one."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_raw:
        query = query.where(UserSession.token_hash != digest(keep_raw))
    db.session.execute(query.values(ended_at=utcnow()))
