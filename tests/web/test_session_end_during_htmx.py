"""A session that idled out while a page stayed open: the page's next htmx request (a week arrow, a poll)
moves the whole page to the login with the reason, instead of swapping in a fragment drawn for a visitor
under a header that still says "Log out"."""
from datetime import timedelta

from sqlalchemy import update

from portal.extensions import db
from portal.models import UserSession, utcnow
from tests.web.booking_pages import setup_week


def _idle_out(app):
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()


def test_next_week_after_the_idle_timeout_sends_the_page_to_the_login_with_the_reason(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, _ = setup_week(app)
    page = f"/doctors/{doctor_id}?week={week.monday}"
    assert "Log out" in client.get(page).get_data(as_text=True)
    _idle_out(app)

    response = client.htmx_get(f"/doctors/{doctor_id}?week={week.next.monday}", target="week-grid",
                               headers={"HX-Current-URL": f"http://localhost{page}"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=/doctors/{doctor_id}?week%3D{week.monday}"
    assert "week-grid" not in response.get_data(as_text=True)  # no visitor's grid swapped in

    login = client.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "You were logged out after inactivity. Please log in again." in login
    assert "Log out" not in login


def test_a_background_poll_of_an_ended_session_moves_the_page_too(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, _ = setup_week(app)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    _idle_out(app)
    response = client.htmx_get(f"/doctors/{doctor_id}?week={week.monday}", target="week-grid",
                               headers={"X-Background-Poll": "1"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_an_htmx_request_of_a_live_session_is_answered_as_before(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, _ = setup_week(app)
    response = client.htmx_get(f"/doctors/{doctor_id}?week={week.next.monday}", target="week-grid")
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert 'id="week-grid"' in response.get_data(as_text=True)
