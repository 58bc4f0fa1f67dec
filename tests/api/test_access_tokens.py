"""Access-token rules as a client meets them: what a forged, stale or revoked token gets."""
import base64
import json
import threading
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests

from tests.fixtures.api_client import error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _sign(app, claims: dict, **changes) -> str:
    return jwt.encode({**claims, **changes}, app.config["SECRET_KEY"], algorithm="HS256")


def test_a_tampered_signature_is_refused(api, factories):
    token = api.token_for(factories.user())
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    error_of(api.get("/me", token=f"{head}.{payload}.{flipped}"), 401, "unauthenticated")


def test_a_changed_payload_is_refused(api, factories):
    token = api.token_for(factories.user())
    admin = factories.user(role="admin")
    head, payload, signature = token.split(".")
    claims = _claims(token) | {"sub": str(admin.id)}
    forged = base64.urlsafe_b64encode(json.dumps(claims, default=str).encode()).rstrip(b"=").decode()
    error_of(api.get("/admin/users", token=f"{head}.{forged}.{signature}"), 401, "unauthenticated")


def test_an_expired_token_says_so(api, app, factories):
    claims = _claims(api.token_for(factories.user()))
    past = datetime.now(UTC) - timedelta(minutes=1)
    stale = _sign(app, claims, exp=past, iat=past - timedelta(minutes=15), nbf=past - timedelta(minutes=15))
    error_of(api.get("/me", token=stale), 401, "token_expired")


def test_a_token_accepted_before_ends_when_it_expires(api, app, factories, clock):
    """A token's signature is checked once per process (tokens._verified); its expiry on every request."""
    token = api.token_for(factories.user())
    assert api.get("/me", token=token).status_code == 200
    clock.advance(app.config["ACCESS_TOKEN_SECONDS"] - 5)
    assert api.get("/me", token=token).status_code == 200
    clock.advance(5)
    error_of(api.get("/me", token=token), 401, "token_expired")


def test_alg_none_is_refused(api, factories):
    claims = _claims(api.token_for(factories.user()))
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    error_of(api.get("/me", token=unsigned), 401, "unauthenticated")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the point is our key, misused
def test_another_algorithm_with_the_same_secret_is_refused(api, app, factories):
    claims = _claims(api.token_for(factories.user()))
    other = jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS512")
    error_of(api.get("/me", token=other), 401, "unauthenticated")


def test_a_refresh_token_is_not_an_access_token(api, app, factories):
    tokens = api.login(factories.user())
    error_of(api.get("/me", token=tokens["refresh_token"]), 401, "unauthenticated")
    as_refresh = _sign(app, _claims(tokens["access_token"]), typ="refresh")
    error_of(api.get("/me", token=as_refresh), 401, "unauthenticated")


def test_wrong_issuer_or_audience_is_refused(api, app, factories):
    claims = _claims(api.token_for(factories.user()))
    error_of(api.get("/me", token=_sign(app, claims, iss="someone-else")), 401, "unauthenticated")
    error_of(api.get("/me", token=_sign(app, claims, aud="another-api")), 401, "unauthenticated")


def test_a_token_signed_with_another_key_is_refused(api, factories):
    claims = _claims(api.token_for(factories.user()))
    error_of(api.get("/me", token=jwt.encode(claims, "not-our-secret-" * 3, algorithm="HS256")), 401,
             "unauthenticated")


def test_other_authorization_schemes_are_401(api):
    error_of(api.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}), 401, "unauthenticated")
    error_of(api.get("/me", headers={"Authorization": "Bearer"}), 401, "unauthenticated")


def test_a_bad_token_is_not_rescued_by_a_session_cookie(api, factories):
    user = factories.user()
    api.browser_login(user)
    assert api.get("/me").status_code == 200
    error_of(api.get("/me", token="garbage"), 401, "unauthenticated")


def test_the_role_is_read_from_the_database_on_every_request(api, factories):
    first, second = factories.user(role="admin"), factories.user(role="admin")
    token = api.token_for(first)
    assert api.get("/admin/users", token=token).status_code == 200
    api.patch(f"/admin/users/{first.id}", json={"role": "patient"}, token=api.token_for(second))
    error_of(api.get("/admin/users", token=token), 403, "forbidden")


def test_deactivation_ends_tokens_at_once(api, factories):
    admin, user = factories.user(role="admin"), factories.user()
    tokens = api.login(user)
    api.patch(f"/admin/users/{user.id}", json={"is_active": False}, token=api.token_for(admin))
    error_of(api.get("/me", token=tokens["access_token"]), 401, "token_revoked")
    error_of(api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]}), 401, "token_revoked")


def _race(url: str, refresh_token: str) -> list[int]:
    start = threading.Barrier(2)
    statuses: list[int] = []

    def spend():
        start.wait()
        statuses.append(requests.post(f"{url}/auth/token", json={"refresh_token": refresh_token}, timeout=30)
                        .status_code)

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_two_refreshes_racing_with_one_token_exactly_one_wins(api, factories, live_server):
    """Through a real threaded server, each request on its own PostgreSQL connection."""
    user = factories.user()
    for _ in range(5):
        tokens = api.login(user)
        assert _race(live_server, tokens["refresh_token"]) == [200, 401]
