"""Patient records in the browser: a doctor creates a patient, files and edits a record, uploads images; the
patient reads the record, sees the doctor in "who looked" and downloads it; an admin finds the read in the
audit log and exports it; a doctor breaks the glass and the admin reviews it."""
import json
import re
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.web.record_pages import assign, patient_of, record

pytestmark = pytest.mark.browser


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def png(colour: str) -> bytes:
    out = BytesIO()
    Image.new("RGB", (30, 20), colour).save(out, "PNG")
    return out.getvalue()


def test_doctor_files_a_record_patient_reads_and_downloads_it_admin_audits_it(page: Page, app, factories,
                                                                              console_errors):
    doctor = factories.user("doctor", full_name="Dr Hugo Heal")
    patient = factories.user("patient", full_name="Petra Patient")
    admin = factories.user("admin")
    assign(app, patient.patient_id, doctor.doctor_id)

    # The doctor adds a new patient, then files and edits a record for an assigned one.
    log_in(page, doctor.username, doctor.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My patients").click()
    page.get_by_role("link", name="Add a patient").click()
    page.get_by_label("Full name").fill("Nils New")
    page.get_by_label("Date of birth").fill("1990-05-06")
    page.get_by_role("button", name="Add the patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nils New")

    page.get_by_role("link", name="Patients").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My patients")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: type after it
    page.get_by_label("Name, date of birth or phone").fill("petra")
    results = page.locator("#patient-results")
    expect(results).to_contain_text("Petra Patient")
    expect(results).not_to_contain_text("Nils New")
    expect(page).to_have_url(re.compile(r"q=petra"))
    results.get_by_role("link", name="Petra Patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Petra Patient")

    page.get_by_role("link", name="Add a record").click()
    page.get_by_label("Diagnostics").fill("Mild asthma")
    page.get_by_label("Treatments").fill("Inhaler as needed")
    page.get_by_role("button", name="File the record").click()
    expect(page.locator("#records-timeline")).to_contain_text("Mild asthma")

    page.locator("#records-timeline").get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Diagnostics").fill("Moderate asthma")
    page.get_by_role("button", name="Save the record").click()
    expect(page.locator("#records-timeline")).to_contain_text("Moderate asthma")
    page.locator("#records-timeline").get_by_role("link", name=re.compile("^History")).click()
    expect(page.locator(".diff del")).to_contain_text("Mild")
    expect(page.locator(".diff ins")).to_contain_text("Moderate")
    page.go_back()

    page.get_by_label(re.compile(r"^Images \(JPEG")).set_input_files([
        {"name": "left.png", "mimeType": "image/png", "buffer": png("red")},
        {"name": "right.png", "mimeType": "image/png", "buffer": png("blue")},
    ])
    page.get_by_role("button", name="Upload images").click()
    gallery = page.locator("#patient-images")
    expect(gallery).to_contain_text("2 images uploaded.")
    expect(gallery.locator(".gallery img")).to_have_count(2)
    log_out(page)

    # The patient reads the record, sees who looked, and downloads it.
    log_in(page, patient.username, patient.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My records").click()
    expect(page.locator("#records-timeline")).to_contain_text("Moderate asthma")
    expect(page.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    page.get_by_role("link", name="Who looked at my records").click()
    expect(page.locator("#access-log")).to_contain_text("Dr Hugo Heal")
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Download my record").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the file (JSON)").click()
    assert download.value.suggested_filename == "my-medical-record.json"
    document = json.loads(open(download.value.path(), encoding="utf-8").read())["data"]
    assert document["patient"]["full_name"] == "Petra Patient"
    assert [r["diagnostics"] for r in document["records"]] == ["Moderate asthma"]
    page.get_by_role("link", name="Open the printable page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medical record of Petra Patient")
    log_out(page)

    # The admin finds the doctor's read in the audit log and exports it.
    log_in(page, admin.username, admin.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.get_by_label("Patient id").fill(str(patient.patient_id))
    page.get_by_label("Action").select_option("read")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("#audit-table")
    expect(table).to_contain_text("Dr Hugo Heal")
    expect(page).to_have_url(re.compile(rf"patient_id={patient.patient_id}"))
    with page.expect_download() as download:
        table.get_by_role("link", name="Export these as CSV").click()
    exported = open(download.value.path(), encoding="utf-8").read()
    assert exported.splitlines()[0].startswith("id,") and "read" in exported
    assert console_errors == []


def test_a_doctor_breaks_the_glass_and_the_admin_reviews_it(page: Page, app, factories, mailbox, console_errors):
    doctor = factories.user("doctor", full_name="Dr Erin Urgent")
    admin = factories.user("admin")
    patient_id = patient_of(app, None, "Ursula Unknown")

    log_in(page, doctor.username, doctor.password)
    page.goto(f"/patients/{patient_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.goto("/patients")
    page.get_by_role("link", name="Emergency access to another patient").click()
    expect(page.get_by_role("heading", name="This is recorded")).to_be_visible()
    page.get_by_label("Patient number").fill(str(patient_id))
    page.get_by_label("Why do you need").fill("Too short")
    page.get_by_role("button", name=re.compile("^Open the record")).click()
    expect(page.get_by_label("Why do you need")).to_be_focused()
    page.get_by_label("Why do you need").fill("Brought in unconscious, no relatives reachable")
    page.get_by_role("button", name=re.compile("^Open the record")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ursula Unknown")
    expect(page.get_by_role("alert").first).to_contain_text("recorded")
    log_out(page)

    log_in(page, admin.username, admin.password)
    page.get_by_role("link", name="Emergency accesses to review").click()
    queue = page.locator("#emergency-queue")
    expect(queue).to_contain_text("Dr Erin Urgent")
    expect(queue).to_contain_text("Brought in unconscious")
    page.get_by_label("Review note").fill("Confirmed with the ward")
    page.get_by_role("button", name=re.compile("^Mark reviewed")).click()
    expect(page.get_by_role("status")).to_contain_text("marked reviewed")
    expect(page.locator("#emergency-queue")).to_contain_text("Nothing to review.")
    assert console_errors == []


def test_the_patient_page_fits_a_phone_and_keeps_no_history_copy(page: Page, app, factories, console_errors):
    doctor = factories.user("doctor")
    patient_id = patient_of(app, doctor.id, "Phoebe Phone")
    record(app, patient_id, doctor.doctor_id, "A rather long diagnosis text " * 8, earlier=["Short"])
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, doctor.username, doctor.password)
    page.goto(f"/patients/{patient_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Phoebe Phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("document.body.getAttribute('hx-history')") == "false"
    page.get_by_role("link", name=re.compile("^History")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("History of the record")  # the new page is in
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert console_errors == []
