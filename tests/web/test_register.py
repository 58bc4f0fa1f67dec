"""Registering as a patient or as a (pending) doctor, and the form's answers when something is wrong."""
from tests.fixtures.factories import DEFAULT_PASSWORD

FORM = {"full_name": "Alice Example", "username": "alice", "email": "alice@example.org", "phone": "",
        "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}


def register(web, **changes):
    web.get("/register")
    return web.post("/register", {**FORM, **changes}, follow_redirects=True)


def test_a_new_patient_can_log_in_and_sees_the_patient_dashboard(web):
    page = register(web).get_data(as_text=True)
    assert "Your account is ready. Please log in." in page
    response = web.login("alice", DEFAULT_PASSWORD, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "<h1>Your dashboard</h1>" in html and "Hello, Alice Example." in html


def test_a_doctor_is_told_an_admin_will_approve_and_cannot_log_in_yet(web):
    page = register(web, is_doctor="y").get_data(as_text=True)
    assert "An administrator will approve your doctor account" in page
    response = web.login("alice", DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert "This account is waiting for an administrator&#39;s approval." in response.get_data(as_text=True)


def test_a_taken_username_and_email_are_shown_next_to_the_field_and_typed_values_stay(web, factories):
    factories.user(username="alice", email="first@example.org")
    response = register(web, full_name="Alice Second", email="second@example.org")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="username-errors">' in html
    assert "That username is already taken." in html
    assert 'aria-describedby="username-hint username-errors"' in html and 'aria-invalid="true"' in html
    assert 'value="Alice Second"' in html and 'value="second@example.org"' in html

    response = register(web, username="alice2", email="FIRST@example.org")
    html = response.get_data(as_text=True)
    assert '<ul class="field-errors" id="email-errors">' in html and "That email is already taken." in html
    assert 'value="alice2"' in html


def test_a_weak_password_is_refused_with_the_reason(web):
    response = register(web, password="qwerty123456", confirm="qwerty123456")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="password-errors">' in html
    assert "This password is too common; choose another." in html
    response = register(web, password="short", confirm="short")
    assert "Use at least 12 characters." in response.get_data(as_text=True)


def test_the_two_passwords_must_match(web):
    response = register(web, confirm="something else entirely")
    assert response.status_code == 422
    assert "The two passwords differ." in response.get_data(as_text=True)


def test_an_invalid_email_is_explained(web):
    response = register(web, email="not-an-address")
    html = response.get_data(as_text=True)
    assert '<ul class="field-errors" id="email-errors">' in html and 'value="not-an-address"' in html


def test_one_submit_shows_every_problem_of_the_form_at_once(web, factories):
    factories.user(username="taken", email="taken@example.org")
    response = register(web, full_name="", username="taken", email="not-an-address", password="short",
                        confirm="different")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field, message in (("full_name", "Fill this in."), ("username", "That username is already taken."),
                           ("email", "An email address must have an @-sign."),
                           ("password", "Use at least 12 characters."), ("confirm", "The two passwords differ.")):
        assert f'<ul class="field-errors" id="{field}-errors">\n    <li>{message}</li>' in html, field


def test_a_username_and_an_email_both_taken_are_both_said(web, factories):
    factories.user(username="alice", email="alice@example.org")
    html = register(web).get_data(as_text=True)
    assert "That username is already taken." in html and "That email is already taken." in html
