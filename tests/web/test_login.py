"""Logging in and out: server-side sessions, fresh session ids, idle timeout, CSRF and rate limits."""
from datetime import timedelta

from sqlalchemy import update

from portal.extensions import db
from portal.models import UserSession, utcnow


def test_login_with_username_or_email_lands_on_the_dashboard(web, factories):
    user = factories.user()
    response = web.login(user.username, user.password)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    web.logout()
    response = web.login(user.email.upper(), user.password, follow_redirects=True)
    assert "<h1>Your dashboard</h1>" in response.get_data(as_text=True)


def test_a_wrong_password_says_so_without_saying_which_part(web, factories):
    user = factories.user()
    for login in (user.username, "nobody-here"):
        response = web.login(login, "not the right password")
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert "The username or password is not right." in html and f'value="{login}"' in html


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(web, factories):
    user = factories.user()
    web.get("/login?next=/profile")
    response = web.post("/login?next=/profile", {"login": user.username, "password": user.password})
    assert response.headers["Location"] == "/profile"
    web.logout()
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example",
                "javascript:alert(1)", " //evil.example/"):
        web.get("/login")
        response = web.post("/login", {"login": user.username, "password": user.password},
                            query_string={"next": bad})
        assert response.headers["Location"] == "/dashboard", bad
        web.logout()


def test_logout_ends_the_session_on_the_server(web, factories):
    user = factories.user()
    web.login(user.username, user.password)
    copied = web.cookie()
    assert web.get("/dashboard").status_code == 200
    response = web.logout(follow_redirects=True)
    assert "You are logged out." in response.get_data(as_text=True)
    web.set_cookie(copied)  # someone replays the cookie from before the logout
    response = web.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_needs_a_post_with_the_csrf_token(web, factories):
    user = factories.user()
    web.login(user.username, user.password)
    assert web.client.get("/logout").status_code == 405
    response = web.client.post("/logout")
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert web.get("/dashboard").status_code == 200


def test_a_login_gets_a_new_session_id_and_the_old_cookie_is_not_signed_in(web, factories):
    user = factories.user()
    web.get("/login")
    before = web.cookie()
    assert before
    web.login(user.username, user.password)
    after = web.cookie()
    assert after and after != before
    web.set_cookie(before)
    assert web.get("/dashboard").status_code == 302


def test_an_idle_session_ends_with_a_message(web, factories, app):
    user = factories.user()
    web.login(user.username, user.password)
    assert web.get("/dashboard").status_code == 200
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()
    response = web.get("/dashboard", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "You were logged out after inactivity. Please log in again." in html
    assert "<h1 id=\"login-title\">Log in</h1>" in html


def test_an_htmx_request_after_the_session_ended_is_sent_to_the_login_page(web, factories):
    user = factories.user()
    web.login(user.username, user.password)
    web.logout()
    response = web.htmx_get("/profile", target="profile-details",
                            headers={"HX-Current-URL": "http://localhost/profile"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/profile"


def test_a_post_without_the_csrf_token_is_refused_with_a_friendly_page(web, factories):
    user = factories.user()
    response = web.client.post("/login", data={"login": user.username, "password": user.password})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired" in html and "send the form again" in html
    assert response.headers["X-Request-ID"] in html
    assert web.get("/dashboard").status_code == 302


def test_repeated_failures_are_rate_limited_with_the_wait_shown(web, factories, app):
    user = factories.user()
    limit = int(app.config["LOGIN_FAILURE_LIMITS"].split("/")[0])
    for _ in range(limit):
        web.login(user.username, "not the right password")
    response = web.login(user.username, user.password)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many attempts. Try again in" in html
    assert web.get("/dashboard").status_code == 302


def test_a_deactivated_user_is_told_so(web, factories, app):
    from portal.services.accounts import administration
    from portal.services.actor import Actor

    admin = factories.user(role="admin")
    user = factories.user()
    with app.app_context():
        administration.admin_update(Actor(administration.get_user(admin.id)), user.id, is_active=False)
    response = web.login(user.username, user.password)
    assert response.status_code == 403
    assert "This account is deactivated." in response.get_data(as_text=True)


def test_the_session_cookie_is_httponly_and_samesite_lax(web, factories):
    user = factories.user()
    web.get("/login")
    response = web.post("/login", {"login": user.username, "password": user.password})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("portal_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
