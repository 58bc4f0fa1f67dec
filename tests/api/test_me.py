"""/me: reading and changing one's own account, and the profile picture."""
import io

import pytest
from PIL import Image

from tests.api.images import SECRET, bmp_bytes, jpeg_bytes, png_bytes
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


def _upload(api, token, data: bytes, name: str = "me.png"):
    return api.put("/me/picture", token=token, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(data), name)})


def test_me_needs_credentials(api):
    for method in ("get", "patch", "put", "delete"):
        path = "/me/picture" if method == "delete" else "/me"
        error_of(getattr(api, method)(path), 401, "unauthenticated")


def test_me_shows_the_account(api, factories):
    doctor = factories.user(role="doctor")
    me = envelope(api.get("/me", token=api.token_for(doctor)))["data"]
    assert (me["id"], me["role"], me["doctor_id"], me["patient_id"]) == (doctor.id, "doctor", doctor.doctor_id, None)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_profile_changes_are_saved_and_the_patient_profile_follows(api, factories, method):
    user = factories.user()
    token = api.token_for(user)
    response = getattr(api, method)("/me", token=token, json={"full_name": "New Name", "phone": "+49 30 999",
                                                              "email": "new@example.org",
                                                              "current_password": user.password})
    body = envelope(response)
    assert body["status"] == "updated"
    assert (body["data"]["full_name"], body["data"]["email"], body["data"]["username"]) == (
        "New Name", "new@example.org", user.username)
    assert envelope(api.get("/me", token=token))["data"]["phone"] == "+49 30 999"


def test_a_taken_username_is_409_and_a_bad_email_422(api, factories):
    user, other = factories.user(), factories.user()
    token = api.token_for(user)
    error_of(api.patch("/me", token=token, json={"username": other.username}), 409, "username_taken")
    body = error_of(api.patch("/me", token=token, json={"email": "not-an-email"}), 422, "validation_error")
    assert "email" in body["error"]["fields"]


def test_role_and_unknown_fields_cannot_be_changed_here(api, factories):
    token = api.token_for(factories.user())
    body = error_of(api.patch("/me", token=token, json={"role": "admin"}), 422, "validation_error")
    assert "role" in body["error"]["fields"]
    assert envelope(api.get("/me", token=token))["data"]["role"] == "patient"


def test_a_password_change_needs_the_current_password(api, factories):
    user = factories.user()
    token = api.token_for(user)
    body = error_of(api.patch("/me", token=token, json={"password": "a brand new passphrase"}), 422,
                    "validation_error")
    assert "current_password" in body["error"]["fields"]
    body = error_of(api.patch("/me", token=token, json={"password": "a brand new passphrase",
                                                        "current_password": "wrong guess"}), 422, "validation_error")
    assert "current_password" in body["error"]["fields"]


def test_a_password_change_keeps_this_login_and_ends_the_others(api, factories):
    user = factories.user()
    mine, other = api.login(user), api.login(user)
    response = api.patch("/me", token=mine["access_token"],
                         json={"password": "a brand new passphrase", "current_password": user.password})
    assert response.status_code == 200
    assert api.get("/me", token=mine["access_token"]).status_code == 200
    assert api.post("/auth/token", json={"refresh_token": mine["refresh_token"]}).status_code == 200
    error_of(api.get("/me", token=other["access_token"]), 401, "token_revoked")
    error_of(api.post("/auth/login", json={"username": user.username, "password": user.password}), 401,
             "unauthenticated")


def test_a_picture_is_stored_without_metadata_and_served_privately(api, factories, uploads):
    user = factories.user()
    token = api.token_for(user)
    body = envelope(_upload(api, token, jpeg_bytes(orientation=6), "holiday.jpg"))
    url = body["data"]["profile_pic_url"]
    assert url.endswith("/api/v1/me/picture")

    error_of(api.client.get(url), 401, "unauthenticated")
    response = api.client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "private" in response.headers["Cache-Control"]
    assert SECRET.encode() not in response.data
    stored = Image.open(io.BytesIO(response.data))
    assert stored.size == (20, 40)  # the EXIF orientation was applied before the EXIF was dropped
    assert not stored.getexif()
    (kept,) = uploads.iterdir()
    assert kept.read_bytes() == response.data


def test_a_new_picture_replaces_the_old_file(api, factories, uploads):
    token = api.token_for(factories.user())
    _upload(api, token, png_bytes())
    first = {p.name for p in uploads.iterdir()}
    _upload(api, token, jpeg_bytes(), "new.jpg")
    second = {p.name for p in uploads.iterdir()}
    assert len(first) == len(second) == 1 and first != second
    assert api.get("/me/picture", token=token).mimetype == "image/jpeg"


def test_deleting_the_picture_removes_the_file(api, factories, uploads):
    token = api.token_for(factories.user())
    _upload(api, token, png_bytes())
    body = envelope(api.delete("/me/picture", token=token))
    assert body["status"] == "deleted" and body["data"]["profile_pic_url"] is None
    assert list(uploads.iterdir()) == []
    error_of(api.get("/me/picture", token=token), 404, "not_found")


def test_a_non_image_is_415_and_stores_nothing(api, factories, uploads):
    token = api.token_for(factories.user())
    for data, name in ((b"%PDF-1.7 not an image", "scan.pdf"), (bmp_bytes(), "old.bmp"),
                       (png_bytes()[:60], "cut.png")):
        body = error_of(_upload(api, token, data, name), 415, "unsupported_media")
        assert body["status"] == "invalid" and "file" in body["error"]["fields"]
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert envelope(api.get("/me", token=token))["data"]["profile_pic_url"] is None


def test_a_picture_over_the_limit_is_413(api, app, factories, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 200)
    token = api.token_for(factories.user())
    body = error_of(_upload(api, token, png_bytes(size=(400, 400))), 413, "too_large")
    assert body["status"] == "invalid"


def test_the_picture_must_come_as_multipart(api, factories, uploads):
    token = api.token_for(factories.user())
    error_of(api.put("/me/picture", token=token, data=png_bytes(), content_type="image/png"), 415,
             "unsupported_media")
    body = error_of(api.put("/me/picture", token=token, content_type="multipart/form-data", data={}), 400,
                    "missing_field")
    assert "file" in body["error"]["fields"]


def test_an_email_change_needs_the_current_password_and_tells_the_old_address(api, factories, mailbox):
    user = factories.user()
    token = api.token_for(user)
    for wrong in ({}, {"current_password": "not my password at all"}):
        body = error_of(api.patch("/me", token=token, json={"email": "thief@example.org", **wrong}), 422,
                        "validation_error")
        assert list(body["error"]["fields"]) == ["current_password"]
    assert envelope(api.get("/me", token=token))["data"]["email"] == user.email
    assert mailbox.wait_for(1, timeout=0.5) == []

    changed = api.patch("/me", token=token, json={"email": "new@example.org", "current_password": user.password})
    assert envelope(changed)["data"]["email"] == "new@example.org"
    message = mailbox.wait_for(1)[0]
    assert message["To"] == user.email
    assert "new@example.org" in mailbox.body(message) and "changed" in message["Subject"]


def test_the_same_email_again_needs_no_password(api, factories, mailbox):
    user = factories.user()
    token = api.token_for(user)
    assert envelope(api.patch("/me", token=token, json={"email": user.email.upper()}))["status"] == "updated"
    assert mailbox.wait_for(1, timeout=0.5) == []
