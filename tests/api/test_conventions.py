"""API.md's conventions a client relies on everywhere: plain ids, valid text, capped bodies, no caching."""
import io
import json
import socket

import pytest

from tests.api.clinic_api import caller
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX, envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

SURROGATE = "a\ud800"  # json.dumps writes it as the escape "a\\ud800", as a client's JSON text would
PASSWORD = "a long enough passphrase"


@pytest.fixture
def booked(ctx, alice):
    """Alice's appointment, the first row of its table: id 1."""
    appointment = clinic.appointment(alice.patient_id, clinic.slot(clinic.doctor().id, clinic.soon(30)))
    assert appointment.id == 1
    return appointment


@pytest.mark.parametrize("path", ["/appointments/01", "/appointments/%EF%BC%91", "/appointments/+1",
                                  "/appointments/1%20", "/appointments/99999999999"])
def test_an_id_that_is_not_a_plain_decimal_names_nothing(api, booked, alice, path):
    assert envelope(api.get("/appointments/1", token=alice.token))["data"]["id"] == 1
    error_of(api.get(path, token=alice.token), 404, "not_found")


def test_the_portal_routes_read_ids_the_same_way(client, ctx):
    doctor_id = clinic.doctor().id
    assert doctor_id == 1
    assert client.get("/doctors/1").status_code == 200
    for path in ("/doctors/01", "/doctors/%EF%BC%91", "/appointments/01.ics"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path


def _text_request(api, method: str, path: str, body: dict, token: str | None = None):
    return api.request(method, path, data=json.dumps(body), content_type="application/json", token=token)


ANONYMOUS = [
    ("/auth/login", {"username": SURROGATE, "password": PASSWORD}, "username"),
    ("/auth/login", {"username": "alice", "password": SURROGATE}, "password"),
    ("/auth/register", {"username": "alice", "email": "a@example.org", "password": PASSWORD,
                        "full_name": SURROGATE}, "full_name"),
    ("/auth/register", {"username": SURROGATE, "email": "a@example.org", "password": PASSWORD,
                        "full_name": "Alice"}, "username"),
    ("/auth/token", {"refresh_token": SURROGATE}, "refresh_token"),
    ("/sessions", {"username": "alice", "password": SURROGATE}, "password"),
    ("/auth/password-reset/request", {"email": f"{SURROGATE}@example.org"}, "email"),
    ("/auth/password-reset", {"token": SURROGATE, "password": PASSWORD}, "token"),
]


@pytest.mark.parametrize("path, body, field", ANONYMOUS)
def test_a_lone_surrogate_is_422_naming_the_field_even_for_strangers(api, path, body, field):
    body = error_of(_text_request(api, "POST", path, body), 422, "validation_error")
    assert list(body["error"]["fields"]) == [field]


def test_a_lone_surrogate_is_422_for_signed_in_callers_in_values_and_keys(api, app, factories, alice):
    error_of(_text_request(api, "PATCH", "/me", {"phone": SURROGATE}, alice.token), 422, "validation_error")
    admin = caller(app, factories.user(role="admin"))
    body = error_of(_text_request(api, "POST", "/departments", {"name": SURROGATE}, admin.token), 422,
                    "validation_error")
    assert list(body["error"]["fields"]) == ["name"]
    body = error_of(_text_request(api, "POST", "/departments", {"name": "Ok", SURROGATE: 1}, admin.token), 422,
                    "validation_error")
    assert list(body["error"]["fields"]) == ["body"]


def test_a_json_body_over_the_cap_is_413_before_anything_else(api, app):
    padding = "x" * app.config["MAX_JSON_BYTES"]
    response = api.post("/auth/login", data=json.dumps({"username": padding, "password": PASSWORD}),
                        content_type="application/json")
    assert error_of(response, 413, "too_large")["status"] == "invalid"


def test_a_chunked_json_body_is_cut_off_at_the_cap_while_it_streams(api, app):
    body = json.dumps({"username": "x" * (app.config["MAX_JSON_BYTES"] + 10), "password": PASSWORD}).encode()
    response = api.client.post(f"{PREFIX}/auth/login", input_stream=io.BytesIO(body),
                               headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                               environ_overrides={"wsgi.input_terminated": True})
    error_of(response, 413, "too_large")


def test_uploads_keep_the_larger_limit(api, app, factories, uploads):
    token = api.token_for(factories.user())
    big = b"not an image" * (app.config["MAX_JSON_BYTES"] // 10)
    response = api.put("/me/picture", token=token, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(big), "me.png")})
    error_of(response, 415, "unsupported_media")


def test_a_portal_form_over_the_cap_gets_a_friendly_page(client, app):
    response = client.post("/login", data={"login": "x" * (app.config["MAX_JSON_BYTES"] + 1), "password": "x"})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "larger than we accept" in response.get_data(as_text=True)


def _no_store(response) -> bool:
    return response.headers.get("Cache-Control") == "no-store"


def test_answers_with_tokens_or_to_credentialed_requests_are_never_stored(api, factories, booked, alice, uploads):
    user = factories.user()
    login = api.post("/auth/login", json={"username": user.username, "password": user.password})
    tokens = login.get_json()["data"]
    refreshed = api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]})
    failed_login = api.post("/auth/login", json={"username": user.username, "password": "wrong password here"})
    bearer = [api.get("/me", token=alice.token), api.get("/appointments", token=alice.token),
              api.get("/appointments/1", token=alice.token), api.get("/appointments/2", token=alice.token),
              api.get("/appointments/01", token=alice.token), api.get("/no/such/path", token=alice.token),
              api.get("/doctors", token=alice.token)]
    session = api.post("/sessions", json={"username": user.username, "password": user.password})
    cookie = [api.get("/sessions"), api.get("/me")]
    for response in [login, refreshed, failed_login, session, *bearer, *cookie]:
        assert _no_store(response), (response.request.path, response.headers.get("Cache-Control"))


def test_picture_bytes_stay_private_rather_than_no_store(api, factories, uploads):
    from tests.api.images import png_bytes

    token = api.token_for(factories.user())
    api.put("/me/picture", token=token, content_type="multipart/form-data",
            data={"file": (io.BytesIO(png_bytes()), "me.png")})
    response = api.get("/me/picture", token=token)
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("private")


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_sent(app, live_server):
    """Through a real server: the answer comes while the client has sent nothing but the headers."""
    host, port = live_server.split("//", 1)[1].split("/", 1)[0].split(":")
    declared = app.config["MAX_JSON_BYTES"] * 2
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall((f"POST {PREFIX}/auth/login HTTP/1.1\r\nHost: {host}\r\n"
                            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n").encode())
        answer = ""
        while '"too_large"' not in answer and (chunk := connection.recv(65536)):
            answer += chunk.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413") and '"too_large"' in answer
