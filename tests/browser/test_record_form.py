"""The record form as a doctor sees it: its date-and-time field looks and sizes like the fields around it."""
import pytest
from playwright.sync_api import Page

from tests.browser.test_records_journeys import log_in
from tests.web.record_pages import patient_of

pytestmark = pytest.mark.browser

LOOKS = "el => { const s = getComputedStyle(el); return [s.fontSize, s.paddingTop, s.borderTopWidth, s.borderRadius]; }"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_recorded_at_field_looks_like_the_other_fields(page: Page, app, factories, width):
    doctor = factories.user("doctor")
    patient_id = patient_of(app, doctor.id, "Rita Record")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, doctor.username, doctor.password)
    page.goto(f"/patients/{patient_id}/records/new")
    recorded_at = page.get_by_label("Recorded at (clinic time)")
    diagnostics = page.get_by_label("Diagnostics")
    assert recorded_at.evaluate(LOOKS) == diagnostics.evaluate(LOOKS)
    assert recorded_at.bounding_box()["height"] >= 40  # a finger-sized target, like the text fields
