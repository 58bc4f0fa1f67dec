"""API tokens: short-lived signed access JWTs and opaque rotating refresh tokens.

Every access token names its refresh family (`fam`); revoking the family (logout, reuse of a spent
refresh token, password reset, deactivation) ends the access token at once as well.
"""
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType

import jwt
from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import undefer

from portal.extensions import db
from portal.models import RefreshToken, TokenFamily, User, utcnow
from portal.services.accounts import callers
from portal.services.errors import Unauthenticated
from portal.services.secrets_util import digest, new_token

ACCESS = "access"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _access_token(user: User, family_id: str) -> tuple[str, int]:
    config = current_app.config
    lifetime = int(config["ACCESS_TOKEN_SECONDS"])
    now = datetime.now(UTC)
    claims = {
        "iss": config["JWT_ISSUER"], "aud": config["JWT_AUDIENCE"], "sub": str(user.id), "typ": ACCESS,
        "fam": family_id, "jti": uuid.uuid4().hex, "iat": now, "nbf": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    return jwt.encode(claims, config["SECRET_KEY"], algorithm=config["JWT_ALGORITHM"]), lifetime


def _refresh_token(user: User, family_id: str) -> str:
    raw = new_token()
    days = int(current_app.config["REFRESH_TOKEN_DAYS"])
    db.session.add(RefreshToken(token_hash=digest(raw), family_id=family_id, user_id=user.id,
                                expires_at=utcnow() + timedelta(days=days)))
    return raw


def issue_pair(user: User) -> TokenPair:
    """A fresh family for a new login; committed here."""
    family = TokenFamily(id=str(uuid.uuid4()), user_id=user.id)
    db.session.add(family)
    refresh = _refresh_token(user, family.id)
    access, lifetime = _access_token(user, family.id)
    db.session.commit()
    return TokenPair(access, refresh, lifetime, user)


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when FOR UPDATE NOWAIT finds the row locked


def _lock_token(raw_refresh: str) -> RefreshToken | None:
    """The token row, locked for this transaction; a request already spending it makes this one lose.

    The lock (PostgreSQL; SQLite ignores it, see _spend) tells a race from a replay: a request that
    overlaps another spending the same token finds the row locked and simply loses, while one that
    comes after the spend finds it spent, which is a replay.
    """
    query = (select(RefreshToken).where(RefreshToken.token_hash == digest(raw_refresh or ""))
             .with_for_update(nowait=True))
    try:
        return db.session.scalar(query)
    except OperationalError as error:
        db.session.rollback()
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Unauthenticated("Another request is renewing with this refresh token right now.",
                                  code="token_in_use") from None
        raise


def _spend(token: RefreshToken) -> bool:
    """Mark the token spent unless someone already has: the row count decides, on every database.

    PostgreSQL's row lock already orders the spenders; SQLite ignores FOR UPDATE, and this conditional
    UPDATE (inside its BEGIN IMMEDIATE transaction) is what leaves exactly one winner there.
    """
    spent = db.session.execute(
        update(RefreshToken).where(RefreshToken.id == token.id, RefreshToken.spent_at.is_(None))
        .values(spent_at=utcnow()).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def _lost_race(token: RefreshToken, presented_at: datetime) -> bool:
    """Presented before its spend, or within REFRESH_REUSE_GRACE_SECONDS after it: a request that raced
    the winner (several app processes queue such requests for a while), not a stolen token replayed."""
    grace = timedelta(seconds=int(current_app.config["REFRESH_REUSE_GRACE_SECONDS"]))
    return presented_at < token.spent_at + grace


def refresh(raw_refresh: str, presented_at: datetime | None = None) -> TokenPair:
    """Spend a refresh token and hand out its successor; a spent one presented again revokes its family.

    Of requests racing with one token exactly one wins and keeps a working family: the others find the
    row locked, or find it spent less than the grace window before they were presented (`presented_at`,
    when the request arrived) — token_in_use, nothing revoked. A token presented later is a replay.
    """
    presented_at = presented_at or utcnow()
    token = _lock_token(raw_refresh)
    if token is None:
        raise Unauthenticated("Invalid refresh token.")
    family = db.session.get(TokenFamily, token.family_id)
    if family.revoked_at is not None:
        db.session.rollback()
        raise Unauthenticated("This refresh token was revoked.", code="token_revoked")
    if token.spent_at is not None and _lost_race(token, presented_at):
        db.session.rollback()
        raise Unauthenticated("Another request renewed with this refresh token at the same moment; "
                              "use the tokens that request received.", code="token_in_use")
    if token.spent_at is not None:
        revoke_family(token.family_id)
        db.session.commit()
        raise Unauthenticated("This refresh token was already used; sign in again.", code="token_revoked")
    if token.expires_at <= utcnow():
        db.session.rollback()
        raise Unauthenticated("This refresh token has expired.", code="token_expired")
    user = db.session.get(User, token.user_id)
    if user is None or not user.can_sign_in:
        db.session.rollback()
        raise Unauthenticated("This account cannot sign in.", code="token_revoked")
    if not _spend(token):
        db.session.rollback()
        raise Unauthenticated("Another request renewed with this refresh token at the same moment; "
                              "use the tokens that request received.", code="token_in_use")
    new_refresh = _refresh_token(user, family.id)
    access, lifetime = _access_token(user, family.id)
    db.session.commit()
    return TokenPair(access, new_refresh, lifetime, user)


def decode_access(raw: str) -> Mapping:
    """The claims of a valid access token; Unauthenticated with the reason otherwise."""
    config = current_app.config
    try:
        claims = _verified(raw, config["SECRET_KEY"], config["JWT_ALGORITHM"], config["JWT_AUDIENCE"],
                           config["JWT_ISSUER"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired.", code="token_expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is not valid.") from None
    if claims["exp"] <= time.time():  # as PyJWT decides it, for a token verified on an earlier request
        raise Unauthenticated("The access token has expired.", code="token_expired")
    if claims.get("typ") != ACCESS:
        raise Unauthenticated("This is not an access token.")
    return claims


@lru_cache(maxsize=4096)
def _verified(raw: str, key: str, algorithm: str, audience: str, issuer: str) -> Mapping:
    """The claims of a token whose signature, audience, issuer and times PyJWT checked once in this process.

    A client sends the same access token with every request until it expires; checking its signature again
    (PyJWT's base64 checks alone are 400 Python calls) was a tenth of an authenticated read. The result
    depends only on these arguments and on time, so the caller checks the expiry on every use; a token that
    fails is not kept, so a bad token is checked in full every time.
    """
    return MappingProxyType(jwt.decode(
        raw, key, algorithms=[algorithm], audience=audience, issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "typ", "fam"]},
    ))


# Built once: SQLAlchemy then reuses its compiled form and cache key on every request. The user's own
# patient id comes in the same statement, so a patient's request needs no second one to learn it.
_BEARER = (select(User, TokenFamily.revoked_at).join(TokenFamily, TokenFamily.user_id == User.id)
           .where(TokenFamily.id == bindparam("family_id"), User.id == bindparam("user_id"))
           .options(undefer(User.own_patient_id)))


def authenticate_access(raw: str) -> tuple[User, str]:
    """The user behind an access token as the database says now (read again, or kept while nothing about
    accounts changed: callers.py), and the token's family id."""
    claims = decode_access(raw)
    family_id, user_id = claims["fam"], int(claims["sub"])
    version, kept = callers.lookup(family_id, user_id)
    if kept is not None:
        return kept, family_id
    row = db.session.execute(_BEARER, {"family_id": family_id, "user_id": user_id}).first()
    if row is None or row.revoked_at is not None or not row.User.can_sign_in:
        raise Unauthenticated("The access token was revoked.", code="token_revoked")
    callers.keep(family_id, user_id, version, row.User)
    return row.User, family_id


def revoke_family(family_id: str) -> None:
    db.session.execute(update(TokenFamily).where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def revoke_all_for_user(user_id: int, keep_family_id: str | None = None) -> None:
    query = update(TokenFamily).where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
    if keep_family_id:
        query = query.where(TokenFamily.id != keep_family_id)
    db.session.execute(query.values(revoked_at=utcnow()))


def logout(user: User, family_id: str, raw_refresh: str | None = None) -> None:
    """End the caller's family, and the family of a refresh token they name if it is theirs."""
    revoke_family(family_id)
    if raw_refresh:
        other = db.session.scalar(select(RefreshToken.family_id).where(
            RefreshToken.token_hash == digest(raw_refresh), RefreshToken.user_id == user.id))
        if other:
            revoke_family(other)
    db.session.commit()
