"""What a person saw go wrong in the browser: two tabs of one patient, and a page left open past the idle
timeout. Both now say what happened."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from portal.extensions import db
from portal.models import UserSession, utcnow
from tests.browser.test_booking_journeys import doctor_with_tuesday, log_in

pytestmark = pytest.mark.browser


def test_a_hold_in_tab_b_closes_tab_as_panel_with_the_reason(page: Page, app, factories, console_errors):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    log_in(page, patient.username, patient.password)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    page.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
    expect(page.locator("#booking-panel")).to_contain_text("Confirm your appointment")

    tab_b = page.context.new_page()
    tab_b.goto(f"/doctors/{doctor_id}?week={monday}")
    tab_b.locator("#week-grid").get_by_role("button", name=re.compile(r"^10:00")).click()
    expect(tab_b.locator("#booking-panel")).to_contain_text(re.compile(r"10:00 CES?T"))

    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # what switching back to the tab fires
    expect(page.locator("#booking-message")).to_contain_text("You picked another time")
    expect(page.locator("#booking-panel")).to_be_empty()  # no countdown left running
    expect(page.locator("#week-grid").get_by_role("button", name=re.compile(r"^10:00"))).to_contain_text("your hold")
    assert console_errors == []


def test_after_booking_in_one_tab_confirm_in_the_other_says_it_is_booked(page: Page, app, factories):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    log_in(page, patient.username, patient.password)
    tabs = [page, page.context.new_page()]
    for tab in tabs:
        tab.goto(f"/doctors/{doctor_id}?week={monday}")
        tab.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
        expect(tab.locator("#booking-panel")).to_contain_text("Confirm your appointment")
    tabs[0].locator("#booking-panel").get_by_role("button", name="Confirm").click()
    expect(tabs[0].locator("#booking-panel")).to_contain_text("Booked")
    tabs[1].locator("#booking-panel").get_by_role("button", name="Confirm").click()
    expect(tabs[1].locator("#booking-message")).to_have_text(
        "You already booked this time: it is in your appointments.")


def test_next_week_after_the_idle_timeout_goes_to_the_login_with_the_reason(page: Page, app, factories,
                                                                             console_errors):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    log_in(page, patient.username, patient.password)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    with app.app_context():
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()
    page.locator("#week-grid").get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#messages")).to_have_text("You were logged out after inactivity. Please log in again.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.get_by_label("Username or email").fill(patient.username)
    page.get_by_label("Password").fill(patient.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/doctors/{doctor_id}\?week={monday}$"))
    assert console_errors == []


def test_a_cancelled_visit_leaves_upcoming_without_a_reload_and_the_login_focuses_its_field(
        page: Page, app, factories, console_errors):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    page.goto("/login")
    expect(page.get_by_label("Username or email")).to_be_focused()
    log_in(page, patient.username, patient.password)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    page.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
    page.locator("#booking-panel").get_by_role("button", name="Confirm").click()
    page.locator("#booking-panel").get_by_role("link", name="See your appointments").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    page.evaluate("window.stillTheSamePage = true")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#upcoming-list").get_by_role("button", name=re.compile("^Cancel")).click()
    notice = page.locator("#upcoming-list").get_by_role("status")
    expect(notice).to_contain_text("Cancelled. The time is free for others again.")
    expect(notice).to_be_focused()
    expect(page.locator("#upcoming-list")).to_contain_text("You have no upcoming appointments.")
    expect(page.locator("#past-list")).to_contain_text("Cancelled")
    assert page.evaluate("window.stillTheSamePage") is True
    assert console_errors == []
