"""One's own profile: contact details, password and picture, as full pages and as htmx components."""
import io

import pytest
from PIL import Image

from tests.fixtures.web_client import WebClient

NEW_PASSWORD = "another long passphrase here"


def details(user, **changes):
    fields = {"full_name": "Pat Example", "username": user.username, "email": user.email, "phone": ""}
    return {**fields, **changes}


def test_the_profile_shows_the_account(web_as):
    client, user = web_as("patient", full_name="Pat Example")
    html = client.get("/profile").get_data(as_text=True)
    assert "<h1>Your profile</h1>" in html
    assert 'value="Pat Example"' in html and f'value="{user.email}"' in html


def test_saving_details_as_a_plain_form_redirects_with_a_message(web_as):
    client, user = web_as("patient")
    response = client.post("/profile", details(user, phone="+49 30 1234567"), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Your details are saved." in html and 'value="+49 30 1234567"' in html


def test_the_details_component_answers_with_itself(web_as):
    client, user = web_as("patient")
    client.get("/profile")
    response = client.post("/profile", details(user, full_name="Pat Renamed"), htmx_target="profile-details")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="profile-details"') and "<html" not in html
    assert "Your details are saved." in html and 'value="Pat Renamed"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_taken_email_is_shown_next_to_the_field_with_what_was_typed(web_as, factories):
    other = factories.user(email="taken@example.org")
    client, user = web_as("patient")
    client.get("/profile")
    response = client.post("/profile", details(user, email=other.email.upper(), phone="555 0100"),
                           htmx_target="profile-details")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="email-errors">' in html and "That email is already taken." in html
    assert 'value="TAKEN@EXAMPLE.ORG"' in html and 'value="555 0100"' in html


def test_changing_the_password_needs_the_current_one_and_logs_out_other_devices(web_as, app):
    client, user = web_as("patient")
    other_device = WebClient(app.test_client())
    other_device.login(user.username, user.password)
    client.get("/profile")
    wrong = client.post("/profile/password", {"current_password": "not my password at all",
                                              "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                        htmx_target="profile-password")
    assert wrong.status_code == 422
    assert "The current password is not right." in wrong.get_data(as_text=True)

    right = client.post("/profile/password", {"current_password": user.password, "password": NEW_PASSWORD,
                                              "confirm": NEW_PASSWORD}, htmx_target="profile-password")
    assert "Your password is changed. Other devices were logged out." in right.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200
    assert other_device.get("/dashboard").status_code == 302
    assert WebClient(app.test_client()).login(user.username, NEW_PASSWORD).status_code == 302


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_uploading_viewing_and_removing_a_picture(web_as, uploads):
    client, _user = web_as("patient")
    client.get("/profile")
    response = client.post("/profile/picture", {"file": (io.BytesIO(png_bytes()), "me.png")},
                           htmx_target="profile-picture", content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="profile-picture"')
    assert "Your picture is saved." in html and 'alt="Your profile picture"' in html

    picture = client.get("/profile/picture")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert Image.open(io.BytesIO(picture.data)).size == (40, 30)
    assert "private" in picture.headers["Cache-Control"]

    removed = client.post("/profile/picture/remove", htmx_target="profile-picture")
    assert "You have no profile picture." in removed.get_data(as_text=True)
    assert client.get("/profile/picture").status_code == 404
    assert list(uploads.iterdir()) == []


def test_a_file_that_is_not_an_image_is_refused_next_to_the_field(web_as, uploads):
    client, _user = web_as("patient")
    client.get("/profile")
    response = client.post("/profile/picture", {"file": (io.BytesIO(b"%PDF-1.4 not an image"), "cv.pdf")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="file-errors">' in html
    assert "Upload a JPEG, PNG, WebP or GIF image." in html
    assert "<h1>Your profile</h1>" in html


def test_a_picture_upload_without_javascript_comes_back_to_the_profile(web_as, uploads):
    client, _user = web_as("patient")
    client.get("/profile")
    response = client.post("/profile/picture", {"file": (io.BytesIO(png_bytes()), "me.png")},
                           content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Your picture is saved." in html and 'alt="Your profile picture"' in html


def test_one_submit_of_the_details_shows_every_problem_at_once(web_as, factories):
    factories.user(username="taken-name", email="taken@example.org")
    client, _ = web_as("patient")
    client.get("/profile")
    for target in (None, "profile-details"):
        response = client.post("/profile", {"full_name": "", "username": "taken-name", "email": "taken@example.org",
                                            "phone": "x" * 41}, htmx_target=target)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        for field in ("full_name", "username", "email", "phone"):
            assert f'id="{field}-errors"' in html, (target, field)
        assert "That username is already taken." in html and "That email is already taken." in html

    response = client.post("/profile", {"full_name": "Still Me", "username": "taken-name",
                                        "email": "taken@example.org"}, htmx_target="profile-details")
    html = response.get_data(as_text=True)
    assert "That username is already taken." in html and "That email is already taken." in html
