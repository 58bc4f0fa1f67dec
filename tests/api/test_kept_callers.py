"""The callers behind access tokens, kept per process and shared in Redis (services/accounts/callers.py), seen
from a second app.

`other` is a second app on the same database and Redis (conftest), standing in for another server process: the
callers it keeps live in its own memory and in Redis beside the accounts version, so only that version can tell
it that a token was revoked or an account changed through the first app. Its very next request must see the change.
"""
import jwt
import psycopg
import pytest
from redis import Redis
from sqlalchemy.dialects.postgresql import insert

from portal.extensions import db
from portal.models import User
from portal.services import change_versions
from portal.services.accounts import callers
from tests.api.clinic_api import query_count, steady_query_count
from tests.fixtures.api_client import envelope, error_of


@pytest.fixture
def patient(api, factories):
    user = factories.user()
    return user, api.token_for(user)


def test_a_kept_caller_saves_the_bearer_statement_and_answers_the_same(other, other_app, patient):
    _, token = patient
    first = other.get("/me", token=token)
    reads = query_count(other_app, lambda: other.get("/me", token=token))
    again = other.get("/me", token=token)
    assert again.get_json() == first.get_json()
    with other_app.app_context():
        callers.ACCOUNTS.version().bump()  # as any commit to users, token_families or patients does
    assert query_count(other_app, lambda: other.get("/me", token=token)) == reads + 1


def test_a_logout_elsewhere_ends_the_token_at_the_next_request(api, other, patient):
    _, token = patient
    assert other.get("/me", token=token).status_code == 200
    assert api.post("/auth/logout", json={}, token=token).status_code == 204
    error_of(other.get("/me", token=token), 401, "token_revoked")


def test_a_deactivation_and_a_role_change_elsewhere_show_at_the_next_request(api, other, patient, factories):
    user, token = patient
    admin = api.token_for(factories.user(role="admin"))
    assert envelope(other.get("/me", token=token))["data"]["role"] == "patient"
    assert api.patch(f"/admin/users/{user.id}", json={"role": "doctor"}, token=admin).status_code == 200
    assert envelope(other.get("/me", token=token))["data"]["role"] == "doctor"
    assert api.patch(f"/admin/users/{user.id}", json={"is_active": False}, token=admin).status_code == 200
    error_of(other.get("/me", token=token), 401, "token_revoked")


def test_with_redis_down_every_request_reads_the_caller_again(other, other_app, patient, monkeypatch):
    _, token = patient
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    monkeypatch.setitem(other_app.extensions, callers.ACCOUNTS.key,
                        change_versions.RedisVersion(dead, callers.ACCOUNTS.key))
    first = query_count(other_app, lambda: other.get("/me", token=token))
    assert query_count(other_app, lambda: other.get("/me", token=token)) == first
    assert other.get("/me", token=token).status_code == 200


def test_a_change_no_session_saw_is_read_within_keep_seconds(app, other, patient, clock):
    """A write that bypasses the app (so no bump: as if the bump were lost to a Redis fault) is seen once the
    kept caller is KEEP_SECONDS old: the bound on what a lost bump can leave behind."""
    user, token = patient
    assert other.get("/me", token=token).status_code == 200
    app.extensions["redis"].persist(_shared_key(token))  # the shared copy's own time bounds it, not only its TTL
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    if not url.startswith("postgresql://"):
        pytest.fail("this test writes through psycopg: run it against PostgreSQL (TEST_DATABASE_URL)")
    with psycopg.connect(url) as connection:
        connection.execute("UPDATE users SET is_active = false WHERE id = %s", (user.id,))
    clock.advance(callers.KEEP_SECONDS + 1)
    error_of(other.get("/me", token=token), 401, "token_revoked")


def test_a_kept_caller_changes_their_password_and_other_logins_end(api, other, patient):
    """The kept copy holds no password hash: checking the current password loads it on use."""
    user, token = patient
    second = api.token_for(user)
    assert other.get("/me", token=token).status_code == 200 and other.get("/me", token=second).status_code == 200
    changed = other.patch("/me", json={"password": "a new battery horse staple", "current_password": "wrong one"},
                          token=token)
    assert "current_password" in error_of(changed, 422, "validation_error")["error"]["fields"]
    changed = other.patch("/me", json={"password": "a new battery horse staple", "current_password": user.password},
                          token=token)
    assert changed.status_code == 200, changed.get_json()
    assert other.get("/me", token=token).status_code == 200
    error_of(other.get("/me", token=second), 401, "token_revoked")


def test_a_login_elsewhere_keeps_callers_and_an_upsert_of_a_user_ends_them(api, app, other, other_app, patient,
                                                                           factories):
    """A new login writes a token family and a refresh token: no kept caller can be stale by them. An INSERT
    that may update (ON CONFLICT DO UPDATE) counts as an update."""
    user, token = patient
    someone = factories.user()
    kept = steady_query_count(other_app, lambda: other.get("/me", token=token))
    api.login(someone)
    assert query_count(other_app, lambda: other.get("/me", token=token)) == kept
    with app.app_context():
        upsert = (insert(User).values(id=user.id, username="upserted", email="upserted@example.org",
                                      password_hash="x", role="patient")
                  .on_conflict_do_update(index_elements=[User.id], set_={"full_name": "Upserted Name"}))
        db.session.execute(upsert)
        db.session.commit()
    assert envelope(other.get("/me", token=token))["data"]["full_name"] == "Upserted Name"


def _shared_key(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return f"caller:{claims['fam']}:{claims['sub']}"


def test_a_caller_read_by_one_process_is_reused_by_another_until_accounts_change(api, app, other, other_app,
                                                                                patient):
    _, token = patient
    mine = api.get("/me", token=token)  # the first app reads the caller, and shares it
    first_elsewhere = query_count(other_app, lambda: other.get("/me", token=token))
    assert query_count(other_app, lambda: other.get("/me", token=token)) == first_elsewhere
    assert other.get("/me", token=token).get_json() == mine.get_json()
    with app.app_context():
        callers.ACCOUNTS.version().bump()
    stale = query_count(app, lambda: api.get("/me", token=token))  # read again, and shared under the new version
    assert query_count(other_app, lambda: other.get("/me", token=token)) == first_elsewhere
    assert stale == first_elsewhere + 1


def test_the_shared_copy_holds_no_password_hash(api, app, patient):
    user, token = patient
    assert api.get("/me", token=token).status_code == 200
    shared = app.extensions["redis"].get(_shared_key(token))
    with app.app_context():
        password_hash = db.session.get(User, user.id).password_hash
    assert shared is not None and password_hash.encode() not in shared and b"password" not in shared


def test_a_forged_or_lent_shared_copy_is_not_believed(api, app, other, other_app, patient, factories):
    """Whoever can write to Redis cannot make a caller up: an altered copy fails its signature, and another
    token's genuine copy names another family and user."""
    _, token = patient
    admin_token = api.token_for(factories.user(role="admin"))
    assert api.get("/me", token=admin_token).status_code == 200
    assert api.get("/me", token=token).status_code == 200
    redis = app.extensions["redis"]
    kept = steady_query_count(other_app, lambda: other.get("/me", token=admin_token))
    genuine = redis.get(_shared_key(token))
    forged = genuine.replace(b'"role":"patient"', b'"role":"admin"')
    assert forged != genuine
    for planted in (forged, redis.get(_shared_key(admin_token))):
        redis.set(_shared_key(token), planted)
        with other_app.app_context():
            other_app.extensions["kept_callers"].clear()  # a process that has not read this caller yet
        assert query_count(other_app, lambda: other.get("/me", token=token)) == kept + 1
        assert envelope(other.get("/me", token=token))["data"]["role"] == "patient"
