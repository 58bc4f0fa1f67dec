"""Token services without HTTP: access-token checks, refresh rotation, families and their revocation."""
import threading
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import RefreshToken, User
from portal.services.accounts import administration, tokens
from portal.services.actor import Actor
from portal.services.errors import Unauthenticated
from portal.services.secrets_util import digest


@pytest.fixture
def user(ctx, factories):
    made = factories.user()
    return db.session.get(User, made.id)


def _code(call) -> str:
    with pytest.raises(Unauthenticated) as caught:
        call()
    return caught.value.code


def _resign(app, token: str, **changes) -> str:
    claims = jwt.decode(token, options={"verify_signature": False}) | changes
    return jwt.encode(claims, app.config["SECRET_KEY"], algorithm=app.config["JWT_ALGORITHM"])


def test_an_access_token_names_its_user_and_family(user):
    pair = tokens.issue_pair(user)
    found, family = tokens.authenticate_access(pair.access_token)
    assert found.id == user.id and family
    claims = tokens.decode_access(pair.access_token)
    assert (claims["typ"], claims["fam"], claims["sub"]) == ("access", family, str(user.id))


def test_refresh_tokens_are_stored_only_as_hashes(user):
    pair = tokens.issue_pair(user)
    stored = db.session.scalars(db.select(RefreshToken.token_hash)).all()
    assert pair.refresh_token not in stored and len(stored) == 1


@pytest.mark.parametrize("changes, code", [
    ({"exp": datetime.now(UTC) - timedelta(seconds=1)}, "token_expired"),
    ({"typ": "refresh"}, "unauthenticated"),
    ({"iss": "elsewhere"}, "unauthenticated"),
    ({"aud": "another-api"}, "unauthenticated"),
])
def test_changed_claims_are_refused(ctx, user, changes, code):
    pair = tokens.issue_pair(user)
    assert _code(lambda: tokens.authenticate_access(_resign(ctx, pair.access_token, **changes))) == code


def test_unsigned_and_foreign_tokens_are_refused(ctx, user):
    claims = jwt.decode(tokens.issue_pair(user).access_token, options={"verify_signature": False})
    for forged in (jwt.encode(claims, None, algorithm="none"), jwt.encode(claims, "x" * 40, algorithm="HS256"),
                   "not.a.jwt"):
        assert _code(lambda token=forged: tokens.decode_access(token)) == "unauthenticated"


def _after_the_grace_window(app) -> datetime:
    """A moment past REFRESH_REUSE_GRACE_SECONDS from now: a presentation then is a replay, not a race."""
    return datetime.now(UTC) + timedelta(seconds=app.config["REFRESH_REUSE_GRACE_SECONDS"] + 1)


def test_rotation_spends_the_old_token_and_reuse_revokes_the_family(ctx, user):
    first = tokens.issue_pair(user)
    second = tokens.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert _code(lambda: tokens.refresh(first.refresh_token, presented_at=_after_the_grace_window(ctx))) \
        == "token_revoked"
    assert _code(lambda: tokens.refresh(second.refresh_token)) == "token_revoked"
    assert _code(lambda: tokens.authenticate_access(second.access_token)) == "token_revoked"


def test_an_expired_refresh_token_is_refused(ctx, user):
    pair = tokens.issue_pair(user)
    db.session.execute(db.update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    assert _code(lambda: tokens.refresh(pair.refresh_token)) == "token_expired"


def test_logout_ends_one_family_and_leaves_the_others(user):
    kept, ended = tokens.issue_pair(user), tokens.issue_pair(user)
    _user, family = tokens.authenticate_access(ended.access_token)
    tokens.logout(user, family)
    assert _code(lambda: tokens.authenticate_access(ended.access_token)) == "token_revoked"
    assert tokens.authenticate_access(kept.access_token)[0].id == user.id


def test_revoking_all_can_spare_the_current_family(user):
    current, other = tokens.issue_pair(user), tokens.issue_pair(user)
    _user, family = tokens.authenticate_access(current.access_token)
    tokens.revoke_all_for_user(user.id, keep_family_id=family)
    db.session.commit()
    assert tokens.authenticate_access(current.access_token)[0].id == user.id
    assert _code(lambda: tokens.refresh(other.refresh_token)) == "token_revoked"


def test_the_role_comes_from_the_database_not_the_token(ctx, factories):
    made = factories.user(role="admin")
    admin = db.session.get(User, made.id)
    pair = tokens.issue_pair(admin)
    other = db.session.get(User, factories.user(role="admin").id)
    administration.admin_update(Actor(other), admin.id, role="doctor")
    db.session.expire_all()
    assert tokens.authenticate_access(pair.access_token)[0].role == "doctor"


def test_two_sessions_racing_with_one_refresh_token_exactly_one_wins(app, factories):
    """Each thread has its own app context, so its own PostgreSQL connection and transaction."""
    made = factories.user()
    with app.app_context():
        raw = tokens.issue_pair(db.session.get(User, made.id)).refresh_token
    start, outcomes = threading.Barrier(2), []

    def spend():
        with app.app_context():
            start.wait()
            try:
                tokens.refresh(raw)
                outcomes.append("won")
            except Unauthenticated as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The loser overlapped the winner or came just after it: a lost race either way, not a replay.
    assert sorted(outcomes) == ["token_in_use", "won"]


def test_a_refresh_overlapping_another_loses_and_the_family_lives_on(app, factories):
    """A second connection holds the row lock, as a request spending the token at that moment would."""
    made = factories.user()
    with app.app_context():
        raw = tokens.issue_pair(db.session.get(User, made.id)).refresh_token
        with db.engine.connect() as other:
            transaction = other.begin()
            other.execute(select(RefreshToken).where(RefreshToken.token_hash == digest(raw)).with_for_update())
            assert _code(lambda: tokens.refresh(raw)) == "token_in_use"
            transaction.rollback()
        pair = tokens.refresh(raw)
        assert tokens.refresh(pair.refresh_token).access_token
        db.session.remove()


def test_withdrawing_approval_revokes_tokens_for_good(ctx, factories):
    admin = db.session.get(User, factories.user(role="admin").id)
    doctor = db.session.get(User, factories.user(role="doctor").id)
    pair = tokens.issue_pair(doctor)
    administration.admin_update(Actor(admin), doctor.id, approved=False)
    administration.admin_update(Actor(admin), doctor.id, approved=True)
    assert _code(lambda: tokens.authenticate_access(pair.access_token)) == "token_revoked"
    assert _code(lambda: tokens.refresh(pair.refresh_token)) == "token_revoked"


def test_a_token_spent_after_it_was_presented_is_a_lost_race_not_a_replay(ctx, factories):
    """The loser of a race may only reach the row after the winner committed; when it was presented
    before that spend, it loses without revoking the family the winner just renewed."""
    user = db.session.get(User, factories.user().id)
    raw = tokens.issue_pair(user).refresh_token
    presented = datetime.now(UTC)
    winner = tokens.refresh(raw)
    assert _code(lambda: tokens.refresh(raw, presented_at=presented)) == "token_in_use"
    renewed = tokens.refresh(winner.refresh_token)  # the family lives on
    # Presented after the spend but within the grace window: a request that queued behind the winner.
    assert _code(lambda: tokens.refresh(raw)) == "token_in_use"
    assert tokens.refresh(renewed.refresh_token).access_token
    # Presented after the grace window: a replay, and the family ends.
    assert _code(lambda: tokens.refresh(raw, presented_at=_after_the_grace_window(ctx))) == "token_revoked"
