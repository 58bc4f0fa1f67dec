"""Forgot password and reset password, through a real SMTP server."""
import re

from tests.fixtures.mailbox import Mailbox

NEW_PASSWORD = "a brand new long passphrase"
SAME_ANSWER = "If an account uses that address, we have sent it a link"


def ask_for_link(web, email):
    web.get("/forgot-password")
    return web.post("/forgot-password", {"email": email}, follow_redirects=True)


def link_in(message) -> str:
    return re.search(r"https?://\S+/reset-password/\S+", Mailbox.body(message)).group(0)


def test_the_mailed_link_sets_a_new_password_once(web, factories, mailbox):
    user = factories.user()
    assert SAME_ANSWER in ask_for_link(web, user.email).get_data(as_text=True)
    message = mailbox.wait_for(1)[0]
    assert message["To"] == user.email
    path = link_in(message).split("localhost", 1)[1]
    assert path.startswith("/reset-password/")

    page = web.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    response = web.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert "Your password is changed. Log in with the new one." in response.get_data(as_text=True)

    assert web.login(user.username, user.password).status_code == 401
    assert web.login(user.username, NEW_PASSWORD).headers["Location"] == "/dashboard"
    web.logout()

    web.get(path)
    again = web.post(path, {"password": "yet another long passphrase", "confirm": "yet another long passphrase"})
    html = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "This reset link is invalid, used or expired; ask for a new one." in html


def test_an_unknown_address_gets_the_same_answer_and_no_mail(web, mailbox):
    response = ask_for_link(web, "nobody@example.org")
    assert SAME_ANSWER in response.get_data(as_text=True)
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_a_reset_ends_every_session_of_the_account(web, factories, mailbox, app):
    from tests.fixtures.web_client import WebClient

    user = factories.user()
    elsewhere = WebClient(app.test_client())
    elsewhere.login(user.username, user.password)
    assert elsewhere.get("/dashboard").status_code == 200
    ask_for_link(web, user.email)
    path = link_in(mailbox.wait_for(1)[0]).split("localhost", 1)[1]
    web.get(path)
    web.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert elsewhere.get("/dashboard").status_code == 302


def test_a_weak_new_password_is_refused_next_to_the_field(web, factories, mailbox):
    user = factories.user()
    ask_for_link(web, user.email)
    path = link_in(mailbox.wait_for(1)[0]).split("localhost", 1)[1]
    web.get(path)
    response = web.post(path, {"password": "short", "confirm": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="password-errors">' in html and "Use at least 12 characters." in html


def test_the_public_base_url_is_used_for_the_link_when_set(web, factories, mailbox, app, monkeypatch):
    user = factories.user()
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://clinic.example")
    ask_for_link(web, user.email)
    assert link_in(mailbox.wait_for(1)[0]).startswith("https://clinic.example/reset-password/")


def test_too_many_requests_for_one_address_are_refused(web, factories, app):
    user = factories.user()
    allowed = int(app.config["RESET_REQUEST_LIMIT"].split("/")[0])
    for _ in range(allowed):
        ask_for_link(web, user.email)
    web.get("/forgot-password")
    response = web.post("/forgot-password", {"email": user.email})
    assert response.status_code == 429
    assert "Too many attempts. Try again in" in response.get_data(as_text=True)


def test_a_used_or_made_up_link_says_so_before_anyone_types(web, factories, mailbox):
    user = factories.user()
    ask_for_link(web, user.email)
    path = link_in(mailbox.wait_for(1)[0]).split("localhost", 1)[1]
    web.get(path)
    web.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    for stale in (path, "/reset-password/made-up-token"):
        page = web.get(stale)
        html = page.get_data(as_text=True)
        assert page.status_code == 410
        assert "This reset link is invalid, used or expired." in html and 'name="password"' not in html
        assert "Send me a new link" in html


def test_the_link_never_takes_its_host_from_the_request(web, factories, mailbox, app):
    user = factories.user()
    web.get("/forgot-password", headers={"Host": "evil.example"})  # the session cookie is for that host
    assert web.post("/forgot-password", {"email": user.email}, headers={"Host": "evil.example"}).status_code == 302
    body = Mailbox.body(mailbox.wait_for(1)[0])
    assert link_in(mailbox.messages[0]).startswith(app.config["PUBLIC_BASE_URL"] + "/reset-password/")
    assert "evil.example" not in body
