"""Password reset by mail, end to end: the request, the mailed link, the reset and what it ends."""
import re
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"https?://\S+")


def _link(mailbox) -> str:
    messages = mailbox.wait_for(1)
    assert len(messages) == 1
    return LINK.search(mailbox.body(messages[0])).group(0)


def test_the_mailed_link_resets_the_password_once_and_ends_every_token(api, factories, mailbox):
    user = factories.user()
    tokens = api.login(user)
    response = api.post("/auth/password-reset/request", json={"email": user.email})
    assert response.status_code == 202 and envelope(response)["data"] is None
    link = _link(mailbox)
    assert mailbox.messages[0]["To"] == user.email
    assert urlsplit(link).path.startswith("/reset-password/")
    token = link.rstrip("/").rsplit("/", 1)[-1]

    assert envelope(api.post("/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}))["status"] \
        == "success"
    body = error_of(api.post("/auth/password-reset", json={"token": token, "password": "yet another passphrase"}),
                    422, "validation_error")
    assert "token" in body["error"]["fields"]

    error_of(api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]}), 401, "token_revoked")
    error_of(api.get("/me", token=tokens["access_token"]), 401, "token_revoked")
    error_of(api.post("/auth/login", json={"username": user.username, "password": user.password}), 401,
             "unauthenticated")
    assert api.post("/auth/login", json={"username": user.username, "password": NEW_PASSWORD}).status_code == 200


def test_the_link_uses_the_public_base_url_when_set(api, app, factories, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.org/")
    user = factories.user()
    api.post("/auth/password-reset/request", json={"email": user.email})
    assert _link(mailbox).startswith("https://portal.example.org/reset-password/")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(api, factories, mailbox):
    user = factories.user()
    known = api.post("/auth/password-reset/request", json={"email": user.email})
    unknown = api.post("/auth/password-reset/request", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert len(mailbox.wait_for(2, timeout=1)) == 1


def test_reset_requests_are_limited_per_email(api, factories, mailbox):
    user = factories.user()
    for _ in range(5):
        assert api.post("/auth/password-reset/request", json={"email": user.email}).status_code == 202
    response = api.post("/auth/password-reset/request", json={"email": user.email})
    error_of(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_a_made_up_token_and_a_weak_password_are_422_with_fields(api, factories, mailbox):
    body = error_of(api.post("/auth/password-reset", json={"token": "made-up", "password": "short"}), 422,
                    "validation_error")
    assert set(body["error"]["fields"]) == {"token", "password"}


def test_a_weak_new_password_leaves_the_token_usable(api, factories, mailbox):
    user = factories.user()
    api.post("/auth/password-reset/request", json={"email": user.email})
    token = _link(mailbox).rsplit("/", 1)[-1]
    error_of(api.post("/auth/password-reset", json={"token": token, "password": "short"}), 422, "validation_error")
    assert api.post("/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}).status_code == 200


def test_an_expired_token_is_refused(api, app, factories, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_SECONDS", 0)
    user = factories.user()
    api.post("/auth/password-reset/request", json={"email": user.email})
    token = _link(mailbox).rsplit("/", 1)[-1]
    body = error_of(api.post("/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}), 422,
                    "validation_error")
    assert "token" in body["error"]["fields"]


def test_a_malformed_email_is_422(api):
    body = error_of(api.post("/auth/password-reset/request", json={"email": "not an address"}), 422,
                    "validation_error")
    assert "email" in body["error"]["fields"]


def test_the_link_never_takes_its_host_from_the_request(api, app, factories, mailbox):
    user = factories.user()
    response = api.post("/auth/password-reset/request", json={"email": user.email},
                        headers={"Host": "evil.example"})
    assert response.status_code == 202
    link = _link(mailbox)
    assert link.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/reset-password/")
    assert "evil.example" not in mailbox.body(mailbox.messages[0])


def _statements_of_this_thread(app, call) -> list[str]:
    """The SQL the request itself runs (the test client serves it on this thread), not background work."""
    me, seen = threading.get_ident(), []

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == me:
            seen.append(statement.split()[0])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert call().status_code == 202
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_the_answer_does_the_same_work_for_a_known_and_an_unknown_address(api, app, factories, mailbox):
    """The lookup, the token and the mail happen in the background, so the answer's timing tells nothing."""
    user = factories.user()
    known = _statements_of_this_thread(
        app, lambda: api.post("/auth/password-reset/request", json={"email": user.email}))
    unknown = _statements_of_this_thread(
        app, lambda: api.post("/auth/password-reset/request", json={"email": "nobody@example.org"}))
    assert known == unknown
    assert mailbox.wait_for(1)[0]["To"] == user.email


def test_reset_requests_are_limited_per_client_address_too(api, app, factories, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "RESET_REQUEST_ADDRESS_LIMIT", "3/hour")
    for n in range(3):
        assert api.post("/auth/password-reset/request", json={"email": f"someone{n}@example.org"}).status_code == 202
    response = api.post("/auth/password-reset/request", json={"email": "someone-else@example.org"})
    error_of(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
