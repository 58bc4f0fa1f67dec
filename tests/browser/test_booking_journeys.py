"""What a patient does in the browser: find a doctor, hold and book a time, move it, cancel it; two people
after one time; a hold that runs out; and the booking pages on a phone."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.services import clinic_time
from tests.fixtures import clinic

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it


def doctor_with_tuesday(app, full_name="Dr Carla Diaz", hours=(9, 10, 11)):
    """A cardiologist with free times on next week's Tuesday; (doctor id, next week's Monday)."""
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today()).next
        doctor = clinic.doctor(full_name=full_name, speciality="Cardiology")
        for hour in hours:
            clinic.slot(doctor.id, clinic_time.local_instant(week.monday + timedelta(days=1), time(hour)))
        return doctor.id, week.monday


def test_a_patient_finds_a_doctor_books_moves_and_cancels(page: Page, app, factories, console_errors):
    patient = factories.user("patient", full_name="Pat Example")
    doctor_id, monday = doctor_with_tuesday(app)
    doctor_with_tuesday(app, full_name="Dr Adam Baker")
    log_in(page, patient.username, patient.password)

    page.goto("/doctors")
    expect(page.locator("#doctor-results")).to_contain_text("Dr Adam Baker")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Doctor's name").press_sequentially("carl")
    expect(page.locator("#doctor-results")).not_to_contain_text("Dr Adam Baker")
    expect(page).to_have_url(re.compile(r"[?&]q=carl(&|$)"))
    assert page.evaluate("window.stillTheSamePage") is True  # filtered in place, no page load

    page.get_by_role("link", name="Dr Carla Diaz", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr Carla Diaz")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    # The page opens on the week of the doctor's next free time (next week), not on an empty one.
    expect(page.get_by_role("link", name="Previous week")).to_have_attribute(
        "href", re.compile(rf"/doctors/{doctor_id}\?week={monday - timedelta(days=7)}$"))
    grid = page.locator("#week-grid")
    grid.get_by_role("button", name=re.compile(r"^09:00")).click()

    panel = page.locator("#booking-panel")
    expect(panel.get_by_role("heading", name="Confirm your appointment")).to_be_focused()
    expect(panel.get_by_role("timer")).to_have_text(re.compile(r"\([45]:\d\d left\)"))
    expect(grid.get_by_role("button", name=re.compile(r"^09:00"))).to_contain_text("your hold")
    page.get_by_label("Reason for the visit (optional)").fill("A check-up")
    panel.get_by_role("button", name="Confirm").click()
    expect(panel.get_by_role("heading", name="Booked")).to_be_visible()
    expect(grid.get_by_role("button", name=re.compile(r"^09:00"))).to_have_count(0)

    panel.get_by_role("link", name="See your appointments").click()
    upcoming = page.locator("#upcoming-list")
    expect(upcoming).to_contain_text(re.compile(r"09:00 CES?T"))
    expect(upcoming).to_contain_text("Dr Carla Diaz")
    upcoming.get_by_role("link", name=re.compile("^Reschedule")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move your appointment")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    expect(page.locator("#week-grid")).to_contain_text("your time now")
    page.locator("#week-grid").get_by_role("button", name=re.compile(r"^10:00")).click()
    expect(page.get_by_role("heading", name="Move to this time?")).to_be_focused()
    page.get_by_role("button", name="Yes, move it").click()
    expect(page.locator("#messages")).to_contain_text("Your appointment is moved to")
    expect(upcoming).to_contain_text(re.compile(r"10:00 CES?T"))
    expect(upcoming).to_contain_text("Moved")

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    upcoming.get_by_role("button", name=re.compile("^Cancel")).click()
    expect(upcoming).to_contain_text("Cancelled. The time is free for others again.")
    assert dialogs and dialogs[0].startswith("Cancel your appointment on")
    expect(upcoming.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
    expect(upcoming.get_by_role("link", name=re.compile("^Add to calendar"))).to_have_count(0)
    page.reload()  # the cancelled visit is history now, not upcoming
    expect(page.locator("#upcoming-list")).to_contain_text("You have no upcoming appointments.")
    expect(page.locator("#past-list")).to_contain_text("Dr Carla Diaz")
    expect(page.locator("#past-list")).to_contain_text("Cancelled")
    assert console_errors == []


def test_a_second_time_clicked_replaces_the_first_hold(page: Page, app, factories, console_errors):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    log_in(page, patient.username, patient.password)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    grid = page.locator("#week-grid")
    grid.get_by_role("button", name=re.compile(r"^09:00")).click()
    expect(grid.get_by_role("button", name=re.compile(r"^09:00"))).to_contain_text("your hold")
    grid.get_by_role("button", name=re.compile(r"^10:00")).click()
    expect(page.locator("#booking-panel")).to_contain_text(re.compile(r"10:00 CES?T"))
    expect(grid.get_by_role("button", name=re.compile(r"^10:00"))).to_contain_text("your hold")
    expect(grid.get_by_role("button", name=re.compile(r"^09:00"))).not_to_contain_text("your hold")
    assert console_errors == []


def test_two_patients_after_one_time_the_second_is_told_plainly(browser: Browser, base_url, app, factories):
    first, second = factories.user("patient"), factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    pages = []
    for person in (first, second):
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        log_in(page, person.username, person.password)
        page.goto(f"/doctors/{doctor_id}?week={monday}")
        pages.append(page)
    winner, loser = pages

    winner.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
    expect(winner.locator("#booking-panel")).to_contain_text("Confirm your appointment")
    # The second page still shows 09:00 as free; trying it says who has it, on the same week.
    loser.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
    message = loser.locator("#booking-message")
    expect(message).to_have_text("Someone else is booking this time right now. Pick another time, or try this one "
                                 "again in a few minutes.")
    expect(message.locator("p")).to_be_focused()
    expect(loser.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00"))).to_have_count(0)
    expect(loser.locator("#week-grid")).to_contain_text("taken")
    expect(loser).to_have_url(re.compile(rf"week={monday}"))
    expect(loser.locator("#booking-panel")).to_be_empty()
    for page in pages:
        page.context.close()


def test_the_week_arrows_swap_the_grid_and_the_back_button_returns(page: Page, app, console_errors):
    doctor_id, monday = doctor_with_tuesday(app)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    page.evaluate("window.stillTheSamePage = true")
    grid = page.locator("#week-grid")
    grid.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(rf"week={monday + timedelta(days=7)}$"))
    expect(grid.get_by_role("heading", level=3)).to_contain_text(f"{(monday + timedelta(days=7)).day}")
    expect(grid).not_to_contain_text("09:00")
    assert page.evaluate("window.stillTheSamePage") is True
    page.go_back()
    expect(page).to_have_url(re.compile(rf"week={monday}$"))
    expect(page.locator("#week-grid")).to_contain_text("09:00")
    assert console_errors == []


def test_when_the_hold_runs_out_the_panel_says_so_and_the_time_is_free_again(page: Page, app, factories,
                                                                             console_errors):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app)
    saved = app.config["HOLD_TTL_SECONDS"]
    app.config["HOLD_TTL_SECONDS"] = 3
    try:
        log_in(page, patient.username, patient.password)
        page.goto(f"/doctors/{doctor_id}?week={monday}")
        page.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
        panel = page.locator("#booking-panel")
        expect(panel.get_by_role("timer")).to_have_text(re.compile(r"\(0:0\d left\)"))
        expect(panel.get_by_role("alert")).to_have_text(re.compile("Your hold expired and the time was released"),
                                                        timeout=10_000)
        expect(panel.get_by_role("button", name="Confirm")).to_be_hidden()
        slot = page.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00"))
        expect(slot).not_to_contain_text("your hold", timeout=10_000)
        assert console_errors == []
    finally:
        app.config["HOLD_TTL_SECONDS"] = saved


def test_the_doctor_page_and_the_dashboard_fit_a_phone(page: Page, app, factories):
    patient = factories.user("patient")
    doctor_id, monday = doctor_with_tuesday(app, hours=range(8, 18))
    page.set_viewport_size(PHONE)
    log_in(page, patient.username, patient.password)
    page.goto(f"/doctors/{doctor_id}?week={monday}")
    page.locator("#week-grid").get_by_role("button", name=re.compile(r"^09:00")).click()
    expect(page.locator("#booking-panel")).to_contain_text("Confirm your appointment")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#booking-panel").get_by_role("button", name="Confirm").click()
    expect(page.locator("#booking-panel")).to_contain_text("Booked")
    page.goto("/dashboard")
    expect(page.locator("#upcoming-list")).to_contain_text("Dr Carla Diaz")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
