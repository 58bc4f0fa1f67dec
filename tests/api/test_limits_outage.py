"""When the rate-limit counts (Redis) cannot be reached: 503 with Retry-After and a clear message, never a 500.

The counts are pointed at a Redis nobody listens on (a closed port), as when the real one is down.
"""
import pytest
from limits.storage import storage_from_string

from tests.fixtures.api_client import error_of
from tests.fixtures.web_client import WebClient

CLOSED_PORT = "redis://127.0.0.1:1/0"
PASSWORD = "a long enough passphrase"


@pytest.fixture
def counts_down(app):
    saved = app.extensions["limits_storage"]
    app.extensions["limits_storage"] = storage_from_string(CLOSED_PORT, socket_connect_timeout=1)
    yield
    app.extensions["limits_storage"] = saved


def _unavailable(response) -> dict:
    body = error_of(response, 503, "service_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert "try again" in body["message"].lower()
    return body


def test_the_api_says_503_on_every_limited_endpoint(api, factories, counts_down):
    user = factories.user()
    _unavailable(api.post("/auth/login", json={"username": user.username, "password": user.password}))
    _unavailable(api.post("/sessions", json={"username": user.username, "password": user.password}))
    _unavailable(api.post("/auth/register", json={"username": "newcomer", "email": "new@example.org",
                                                  "password": PASSWORD, "full_name": "New Comer"}))
    _unavailable(api.post("/auth/password-reset/request", json={"email": user.email}))


@pytest.mark.parametrize("path, form", [
    ("/login", {"login": "someone", "password": PASSWORD}),
    ("/register", {"full_name": "New Comer", "username": "newcomer", "email": "new@example.org",
                   "password": PASSWORD, "confirm": PASSWORD}),
    ("/forgot-password", {"email": "someone@example.org"}),
])
def test_the_portal_shows_the_message_on_the_form(app, counts_down, path, form):
    web = WebClient(app.test_client())
    web.get(path)
    response = web.post(path, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert "paused for a moment" in html and "<form" in html


def test_the_document_tells_clients_of_the_503(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    for path in ("/auth/login", "/sessions", "/auth/register", "/auth/password-reset/request"):
        assert "503" in paths[f"/api/v1{path}"]["post"]["responses"], path
