"""What an anonymous directory read costs when it is computed (the answer cache off): a fixed, small number of
statements, whatever the form of its statement built once (doctor_search, availability, policy.seen_doctor)."""
from datetime import timedelta
from urllib.parse import quote

import pytest

from portal.extensions import db
from portal.models import Doctor, utcnow
from tests.api.clinic_api import query_count
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope

pytestmark = pytest.mark.laptop  # the built-once statements on SQLite and PostgreSQL

SOON = clinic.soon(30).replace(minute=0)


@pytest.fixture
def directory(app, ctx, monkeypatch):
    """Two cardiologists, one with a minimum notice of its own (a CASE in the many-doctor window), with free
    and booked slots, and the four anonymous reads over them."""
    monkeypatch.setitem(app.config, "DIRECTORY_CACHE_SECONDS", 0)
    ada = clinic.doctor(clinic.department("Heart"), "Cardiology", full_name="Ada")
    bob = clinic.doctor(None, "Cardiology", full_name="Bob", min_notice_minutes=60 * 20)
    for doctor in (ada, bob):
        slots = clinic.future_slots(doctor.id, 4, SOON)
        clinic.appointment(clinic.patient().id, slots[0])
    day = SOON.replace(hour=0)
    window = f"start={quote(day.isoformat())}&end={quote((day + timedelta(days=2)).isoformat())}"
    return {"week": f"/doctors/{ada.id}/slots?from={day.date()}", "detail": f"/doctors/{ada.id}",
            "list": "/doctors?per_page=50", "speciality": f"/specialities/cardiology/slots?{window}",
            "booked": f"/doctors/{ada.id}/slots?from={day.date()}&status=booked", "bob": bob.id}


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
@pytest.mark.parametrize("path, statements", [
    ("week", 2),  # the booking-rule overrides, the slots with the doctor's gate and window
    ("booked", 2),
    ("detail", 2),  # the doctor with the department, the slots
    ("list", 3),  # the booking-rule overrides, the page with its total, the next free slots
    ("speciality", 2),  # the overrides, the slots (a slot found: the speciality exists)
])
def test_a_computed_directory_read_runs_a_fixed_number_of_statements(app, api, directory, path, statements):
    assert envelope(api.get(directory[path]))["data"]
    assert query_count(app, lambda: api.get(directory[path])) == statements


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_an_empty_speciality_window_is_told_from_an_unknown_speciality_by_its_one_statement(app, api, directory):
    """A window with no free slot answers [] and a speciality nobody practises 404, each from the overrides and
    the one statement of slots (a second statement asked whether the speciality exists on every empty day)."""
    later = SOON.replace(hour=0) + timedelta(days=40)
    window = f"start={quote(later.isoformat())}&end={quote((later + timedelta(days=1)).isoformat())}"
    empty, unknown = f"/specialities/cardiology/slots?{window}", f"/specialities/astrology/slots?{window}"
    assert envelope(api.get(empty))["data"] == []
    assert query_count(app, lambda: api.get(empty)) == 2
    with app.app_context(), clinic.counted_queries() as statements:
        assert api.get(unknown).status_code == 404
    assert len(statements) == 2


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_an_empty_week_is_told_from_a_doctor_not_listed_by_its_one_statement(app, api, directory):
    """A doctor's week with no slot answers [] and a doctor the directory does not list (archived, or no such id)
    404, each from the overrides and the one statement of slots (an empty week asked policy.seen_doctor in a
    second statement)."""
    later = (SOON + timedelta(days=40)).date()
    gone = clinic.doctor(None, "Cardiology", full_name="Cy")
    clinic.future_slots(gone.id, 2, SOON)
    gone.archived_at = utcnow()
    db.session.commit()
    empty = f"/doctors/{directory['bob']}/slots?from={later}"
    assert envelope(api.get(empty))["data"] == []
    assert query_count(app, lambda: api.get(empty)) == 2
    for doctor_id in (gone.id, gone.id + 1000):
        with app.app_context(), clinic.counted_queries() as statements:
            assert api.get(f"/doctors/{doctor_id}/slots?from={SOON.date()}").status_code == 404
        assert len(statements) == 2


def test_a_changed_override_changes_the_lists_built_from_statements_kept_for_the_old_ones(api, directory):
    """The many-doctor statements are kept per set of overrides in force: a new override makes a new one."""
    before = envelope(api.get(directory["speciality"]))["data"]
    assert {slot["full_name"] for slot in before} == {"Ada", "Bob"}  # Bob's 20 hours' notice: his slots 29 h on are in
    db.session.get(Doctor, directory["bob"]).min_notice_minutes = 60 * 24 * 3
    db.session.commit()
    after = envelope(api.get(directory["speciality"]))["data"]
    assert {slot["full_name"] for slot in after} == {"Ada"}
    listing = {d["full_name"]: d["next_free_slot"] for d in envelope(api.get(directory["list"]))["data"]}
    assert listing["Bob"] is None and listing["Ada"] is not None
