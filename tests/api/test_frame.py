"""The frame every endpoint shares: the envelope and each error row of API.md's status table."""
import io
import json

import pytest

from portal.extensions import db
from portal.models import User
from tests.api.images import png_bytes
from tests.fixtures.api_client import PREFIX, envelope, error_of

REGISTER = {"username": "alice", "email": "alice@example.org", "password": "a long enough passphrase",
            "full_name": "Alice Example"}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)))


def test_unknown_api_path_is_a_404_envelope(api):
    response = api.get("/no/such/thing")
    error_of(response, 404, "not_found")
    assert response.headers["X-Request-ID"]


def test_unknown_object_id_in_a_path_is_a_404_envelope(api, factories):
    admin = factories.user(role="admin")
    token = api.token_for(admin)
    error_of(api.patch("/admin/users/999999", json={"is_active": False}, token=token), 404, "not_found")
    error_of(api.patch("/admin/users/not-a-number", json={"is_active": False}, token=token), 404, "not_found")


def test_wrong_method_is_a_405_envelope_naming_the_allowed_ones(api):
    response = api.delete("/auth/login")
    error_of(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_portal_paths_keep_their_own_error_pages(client):
    response = client.get("/no-such-portal-page")
    assert response.status_code == 404
    assert response.mimetype != "application/json"


def test_malformed_json_is_400_incomplete_and_changes_nothing(api, app):
    response = api.post("/auth/register", data='{"username": "alice",', content_type="application/json")
    body = error_of(response, 400, "malformed_json")
    assert body["status"] == "incomplete"
    assert _users(app) == 0


@pytest.mark.parametrize("opening, closing", [('{"a":', "}"), ("[", "]")])
@pytest.mark.parametrize("depth", [5000, 900, 40])
def test_deeply_nested_json_is_malformed_and_changes_nothing(api, app, opening, closing, depth):
    nested = opening * depth + "1" + closing * depth
    body = dict(REGISTER, full_name="__NESTED__")
    text = json.dumps(body).replace('"__NESTED__"', nested)
    response = api.post("/auth/register", data=text, content_type="application/json")
    assert error_of(response, 400, "malformed_json")["error"] == {"code": "malformed_json"}
    assert _users(app) == 0


def test_json_that_is_not_an_object_is_malformed(api):
    error_of(api.post("/auth/register", json=["alice"]), 400, "malformed_json")


def test_a_missing_required_field_is_400_with_the_field_named(api, app):
    without_email = {name: value for name, value in REGISTER.items() if name != "email"}
    body = error_of(api.post("/auth/register", json=without_email), 400, "missing_field")
    assert body["status"] == "incomplete"
    assert "email" in body["error"]["fields"]
    assert _users(app) == 0


def test_an_empty_body_misses_every_required_field(api):
    body = error_of(api.post("/auth/register"), 400, "missing_field")
    assert {"username", "email", "password", "full_name"} <= set(body["error"]["fields"])


def test_a_field_of_the_wrong_type_is_422_with_fields(api, app):
    body = error_of(api.post("/auth/register", json={**REGISTER, "dob": "yesterday"}), 422, "validation_error")
    assert body["status"] == "invalid"
    assert list(body["error"]["fields"]) == ["dob"]
    assert _users(app) == 0


def test_unknown_body_fields_are_refused(api, app):
    body = error_of(api.post("/auth/register", json={**REGISTER, "is_admin": True}), 422, "validation_error")
    assert "is_admin" in body["error"]["fields"]
    assert _users(app) == 0


def test_a_body_that_is_not_json_is_415(api, app):
    response = api.post("/auth/register", data="username=alice&password=x",
                        content_type="application/x-www-form-urlencoded")
    body = error_of(response, 415, "unsupported_media")
    assert body["status"] == "invalid"
    assert _users(app) == 0


def test_bad_paging_values_are_422(api, factories):
    token = api.token_for(factories.user(role="admin"))
    for query in ("page=0", "per_page=101", "per_page=0", "page=abc"):
        body = error_of(api.get(f"/admin/users?{query}", token=token), 422, "validation_error")
        assert set(body["error"]["fields"]) <= {"page", "per_page"}, query


def test_a_bug_is_a_500_envelope_with_a_request_id_and_no_stack_trace(api, factories, app, tmp_path):
    """A real failure: the upload directory is a file, so saving a picture cannot work."""
    user = factories.user()
    token = api.token_for(user)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    saved = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(blocker)
    try:
        response = api.put("/me/picture", token=token, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(png_bytes()), "me.png")})
    finally:
        app.config["UPLOAD_DIR"] = saved
    body = error_of(response, 500, "internal")
    request_id = response.headers["X-Request-ID"]
    assert request_id and request_id in body["message"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "NotADirectoryError" not in text and str(blocker) not in text


def test_the_request_id_of_a_caller_is_kept(api):
    response = api.get("/me", headers={"X-Request-ID": "trace-12345678"})
    assert response.headers["X-Request-ID"] == "trace-12345678"


def test_a_plain_html_form_cannot_sign_in(client, factories):
    user = factories.user()
    response = client.post(f"{PREFIX}/sessions", data={"username": user.username, "password": user.password})
    error_of(response, 415, "unsupported_media")
    assert client.get_cookie("portal_session") is None


def test_success_answers_are_envelopes(api):
    body = envelope(api.post("/auth/register", json=REGISTER))
    assert body["status"] == "created"


def test_a_body_over_the_request_limit_is_413(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 1024)
    response = api.post("/auth/register", json={**REGISTER, "full_name": "x" * 4096})
    body = error_of(response, 413, "too_large")
    assert body["status"] == "invalid"
    assert _users(app) == 0


def test_nul_characters_are_refused_wherever_they_come_from(api, app, factories):
    body = error_of(api.post("/auth/login", json={"username": "ali\u0000ce", "password": "whatever it is"}), 422,
                    "validation_error")
    assert list(body["error"]["fields"]) == ["username"]
    token = api.token_for(factories.user(role="admin"))
    body = error_of(api.get("/admin/users?role=doc%00tor", token=token), 422, "validation_error")
    assert list(body["error"]["fields"]) == ["role"]


def test_numbers_no_row_can_have_are_refused_before_the_database(api, factories):
    token = api.token_for(factories.user(role="admin"))
    error_of(api.patch("/admin/users/99999999999", json={"is_active": False}, token=token), 404, "not_found")
    error_of(api.patch("/admin/users/0", json={"is_active": False}, token=token), 404, "not_found")
    for query in ("page=99999999999999999999", "patient_id=99999999999", "actor_id=-1"):
        error_of(api.get(f"/admin/audit?{query}", token=token), 422, "validation_error")


def test_over_long_text_is_a_field_error(api, app):
    body = error_of(api.post("/auth/register", json={**REGISTER, "phone": "1" * 41}), 422, "validation_error")
    assert list(body["error"]["fields"]) == ["phone"]
    assert _users(app) == 0
