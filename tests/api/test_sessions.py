"""/sessions and cookie callers: the session cookie works for reads; writes need the CSRF token."""
import pytest

from portal.extensions import db
from portal.models import User
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


def _full_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).full_name


def test_a_browser_signs_in_and_gets_a_cookie_and_a_csrf_token(api, factories):
    user = factories.user()
    response = api.post("/sessions", json={"username": user.username, "password": user.password})
    assert response.status_code == 201
    data = envelope(response)["data"]
    assert data["user"]["id"] == user.id and data["csrf_token"]
    cookie = response.headers["Set-Cookie"]
    assert "portal_session=" in cookie and "HttpOnly" in cookie
    assert envelope(api.get("/me"))["data"]["username"] == user.username


def test_bad_credentials_get_401_and_no_session(api, factories):
    user = factories.user()
    error_of(api.post("/sessions", json={"username": user.username, "password": "not the password"}), 401,
             "unauthenticated")
    error_of(api.get("/me"), 401, "unauthenticated")


def test_an_unsafe_cookie_request_without_the_csrf_token_is_401_and_changes_nothing(api, app, factories):
    user = factories.user(full_name="Before")
    api.browser_login(user)
    body = error_of(api.patch("/me", json={"full_name": "After"}), 401, "csrf_failed")
    assert "X-CSRFToken" in body["message"]
    error_of(api.patch("/me", json={"full_name": "After"}, headers={"X-CSRFToken": "forged"}), 401, "csrf_failed")
    assert _full_name(app, user.id) == "Before"


def test_with_the_csrf_token_the_cookie_caller_may_write(api, app, factories):
    user = factories.user(full_name="Before")
    csrf = api.browser_login(user)
    response = api.patch("/me", json={"full_name": "After"}, headers={"X-CSRFToken": csrf})
    assert envelope(response)["status"] == "updated"
    assert _full_name(app, user.id) == "After"


def test_the_csrf_token_of_one_session_does_not_fit_another(api, app, factories):
    first, second = factories.user(), factories.user(full_name="Second")
    csrf = api.browser_login(first)
    other = type(api)(app.test_client())
    other.browser_login(second)
    error_of(other.patch("/me", json={"full_name": "Hijacked"}, headers={"X-CSRFToken": csrf}), 401, "csrf_failed")
    assert _full_name(app, second.id) == "Second"


def test_a_reloaded_page_can_fetch_its_csrf_token_again(api, factories):
    user = factories.user()
    api.browser_login(user)
    data = envelope(api.get("/sessions"))["data"]
    assert data["user"]["id"] == user.id
    assert api.patch("/me", json={"phone": "123"}, headers={"X-CSRFToken": data["csrf_token"]}).status_code == 200


def test_without_a_session_get_sessions_is_401(api):
    error_of(api.get("/sessions"), 401, "unauthenticated")


def test_ending_the_session_clears_the_cookie_and_ends_it_on_the_server(api, app, factories):
    user = factories.user()
    csrf = api.browser_login(user)
    stolen = api.client.get_cookie("portal_session").value
    error_of(api.delete("/sessions"), 401, "csrf_failed")
    response = api.delete("/sessions", headers={"X-CSRFToken": csrf})
    assert response.status_code == 204 and response.data == b""
    assert api.client.get_cookie("portal_session") is None
    error_of(api.get("/me"), 401, "unauthenticated")
    replay = type(api)(app.test_client())
    replay.client.set_cookie("portal_session", stolen)
    error_of(replay.get("/me"), 401, "unauthenticated")


def test_ending_no_session_is_fine(api):
    assert api.delete("/sessions").status_code == 204


def test_logout_through_auth_ends_a_cookie_session(api, factories):
    csrf = api.browser_login(factories.user())
    assert api.post("/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    error_of(api.get("/me"), 401, "unauthenticated")


def test_a_pending_doctor_cannot_start_a_session(api, factories):
    doctor = factories.user(role="doctor", approved=False)
    error_of(api.post("/sessions", json={"username": doctor.username, "password": doctor.password}), 403,
             "account_pending")
