"""/doctors/{id}/absences and /absences/{id}: marking, listing and deleting absences; slots hidden and back."""
from datetime import timedelta
from urllib.parse import quote

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Doctor
from portal.services import clinic_time
from tests.api.clinic_api import caller, iso, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

START = clinic.soon(48).replace(minute=0)


def _window(start=START, days=1, names=("from", "to")) -> str:
    return f"{names[0]}={quote(iso(start - timedelta(hours=1)))}&{names[1]}={quote(iso(start + timedelta(days=days)))}"


def _free(api, doctor_id):
    return [s["id"] for s in envelope(api.get(f"/doctors/{doctor_id}/slots?status=free&{_window()}"))["data"]]


@pytest.fixture
def clinic_day(ctx, doctor):
    """Four slots of the doctor from START, the second booked by a patient."""
    rows = clinic.future_slots(doctor.doctor_id, 4, START)
    patient = clinic.patient(full_name="Paula Patient")
    visit = clinic.appointment(patient.id, rows[1], reason="Check-up")
    return [slot.id for slot in rows], visit.id, patient.id


def test_a_doctor_marks_an_absence_and_sees_what_it_did(api, doctor, clinic_day):
    slot_ids, visit_id, patient_id = clinic_day
    body = {"starts_at": iso(START), "ends_at": iso(START + timedelta(minutes=90)), "reason": "Conference"}
    answer = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", json=body, token=doctor.token))
    assert answer["status"] == "created"
    data = answer["data"]
    assert {k: data[k] for k in ("doctor_id", "starts_at", "ends_at", "reason", "withdrawn", "archived_at")} == {
        "doctor_id": doctor.doctor_id, "starts_at": iso(START), "ends_at": iso(START + timedelta(minutes=90)),
        "reason": "Conference", "withdrawn": 2, "archived_at": None}
    [affected] = data["affected"]
    assert (affected["id"], affected["status"], affected["patient"]["id"], affected["reason"]) == (
        visit_id, "scheduled", patient_id, "Check-up")
    assert _free(api, doctor.doctor_id) == [slot_ids[3]]
    states = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?{_window()}"))["data"]
    assert [(s["id"], s["status"]) for s in states] == [(slot_ids[1], "booked"), (slot_ids[3], "free")]
    audited = db.session.scalars(db.select(AuditEvent).where(AuditEvent.object_id == visit_id)).all()
    assert [(e.action, e.patient_id) for e in audited] == [("read", patient_id)]


def test_withdrawn_slots_are_hidden_everywhere_and_cannot_be_held_or_booked(app, api, ctx, doctor):
    doc = db.session.get(Doctor, doctor.doctor_id)
    doc.speciality = "Cardiology"
    db.session.commit()
    first, second = clinic.future_slots(doctor.doctor_id, 2, START)
    envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                      json={"starts_at": iso(START), "ends_at": iso(START + timedelta(minutes=30))}))
    slots = envelope(api.get(f"/specialities/cardiology/slots?{_window(names=('start', 'end'))}"))["data"]
    assert [s["slot_id"] for s in slots] == [second.id]
    listed = envelope(api.get("/doctors?speciality=Cardiology"))["data"]
    assert listed[0]["next_free_slot"] == iso(second.starts_at)
    shown = envelope(api.get(f"/doctors/{doctor.doctor_id}?{_window()}"))["data"]
    assert [s["id"] for s in shown["available_slots"]] == [second.id]
    patient = patients(app, 1)[0]
    error_of(api.post("/holds", json={"slot_id": first.id}, token=patient.token), 404, "not_found")
    error_of(api.post("/appointments", json={"slot_id": first.id}, token=patient.token), 404, "not_found")


def test_one_absence_shows_the_visits_still_inside(api, doctor, admin, clinic_day):
    _, visit_id, _ = clinic_day
    made = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                             json={"starts_at": iso(START), "ends_at": iso(START + timedelta(hours=2))}))["data"]
    shown = envelope(api.get(f"/absences/{made['id']}", token=admin.token))["data"]
    assert ([v["id"] for v in shown["affected"]], shown["withdrawn"]) == ([visit_id], 3)
    envelope(api.delete(f"/appointments/{visit_id}", token=doctor.token))
    assert envelope(api.get(f"/absences/{made['id']}", token=doctor.token))["data"]["affected"] == []
    envelope(api.delete(f"/absences/{made['id']}", token=doctor.token))
    error_of(api.get(f"/absences/{made['id']}", token=doctor.token), 404, "not_found")


def test_deleting_the_absence_gives_the_slots_back(api, doctor, clinic_day):
    slot_ids, _, _ = clinic_day
    made = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                             json={"starts_at": iso(START), "ends_at": iso(START + timedelta(hours=2))}))["data"]
    assert _free(api, doctor.doctor_id) == []
    gone = envelope(api.delete(f"/absences/{made['id']}", token=doctor.token))
    assert gone["status"] == "deleted"
    assert (gone["data"]["id"], gone["data"]["returned"], gone["data"]["still_withdrawn"]) == (made["id"], 3, 0)
    assert gone["data"]["archived_at"] is not None
    assert _free(api, doctor.doctor_id) == [slot_ids[0], slot_ids[2], slot_ids[3]]
    error_of(api.delete(f"/absences/{made['id']}", token=doctor.token), 404, "not_found")


def test_a_cancelled_affected_visit_leaves_its_slot_withdrawn(api, doctor, clinic_day):
    slot_ids, visit_id, _ = clinic_day
    made = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                             json={"starts_at": iso(START), "ends_at": iso(START + timedelta(hours=1))}))["data"]
    envelope(api.delete(f"/appointments/{visit_id}", token=doctor.token))
    assert _free(api, doctor.doctor_id) == [slot_ids[2], slot_ids[3]]
    assert envelope(api.delete(f"/absences/{made['id']}", token=doctor.token))["data"]["returned"] == 2
    assert _free(api, doctor.doctor_id) == slot_ids


def test_dates_are_whole_clinic_days(api, ctx, doctor):
    day = clinic_time.to_local(START).date() + timedelta(days=2)
    data = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                             json={"starts_at": day.isoformat(), "ends_at": day.isoformat()}))["data"]
    lower, upper = clinic_time.day_bounds(day)
    assert (data["starts_at"], data["ends_at"]) == (iso(lower), iso(upper))
    assert data["reason"] is None


def test_the_list_is_paged_latest_first(api, ctx, doctor):
    day = clinic_time.today() + timedelta(days=3)
    ids = [envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token,
                             json={"starts_at": (day + timedelta(days=n)).isoformat(),
                                   "ends_at": (day + timedelta(days=n)).isoformat()}))["data"]["id"]
           for n in (0, 5, 2)]
    envelope(api.delete(f"/absences/{ids[0]}", token=doctor.token))
    body = envelope(api.get(f"/doctors/{doctor.doctor_id}/absences?per_page=1", token=doctor.token))
    assert ([a["id"] for a in body["data"]], body["meta"]) == ([ids[1]], {"page": 1, "per_page": 1, "total": 2})
    body = envelope(api.get(f"/doctors/{doctor.doctor_id}/absences?include_archived=true", token=doctor.token))
    assert [a["id"] for a in body["data"]] == [ids[1], ids[2], ids[0]]
    assert body["data"][2]["archived_at"] is not None and body["data"][0]["withdrawn"] == 0


def test_admins_act_for_any_doctor_others_may_not(app, api, ctx, doctor, admin, factories):
    path = f"/doctors/{doctor.doctor_id}/absences"
    body = {"starts_at": iso(START), "ends_at": iso(START + timedelta(hours=1))}
    made = envelope(api.post(path, json=body, token=admin.token))["data"]
    assert envelope(api.get(path, token=admin.token))["data"][0]["id"] == made["id"]
    other = caller(app, factories.user(role="doctor"))
    patient = patients(app, 1)[0]
    for who in (other, patient):
        error_of(api.post(path, json=body, token=who.token), 403, "forbidden")
        error_of(api.get(path, token=who.token), 403, "forbidden")
    error_of(api.delete(f"/absences/{made['id']}", token=other.token), 404, "not_found")
    error_of(api.get(f"/absences/{made['id']}", token=other.token), 404, "not_found")
    error_of(api.get(f"/absences/{made['id']}", token=patient.token), 403, "forbidden")
    error_of(api.delete(f"/absences/{made['id']}", token=patient.token), 403, "forbidden")
    for method in ("get", "post"):
        error_of(getattr(api, method)(path, json=body), 401, "unauthenticated")
    error_of(api.delete(f"/absences/{made['id']}"), 401, "unauthenticated")
    error_of(api.post("/doctors/999999/absences", json=body, token=admin.token), 404, "not_found")
    error_of(api.get("/doctors/999999/absences", token=admin.token), 404, "not_found")
    for path_id in ("999999", "01"):
        error_of(api.delete(f"/absences/{path_id}", token=admin.token), 404, "not_found")
    assert envelope(api.delete(f"/absences/{made['id']}", token=admin.token))["status"] == "deleted"


@pytest.mark.parametrize("body, status, code, field", [
    ({"ends_at": "2027-06-02"}, 400, "missing_field", "starts_at"),
    ({"starts_at": "2027-06-02"}, 400, "missing_field", "ends_at"),
    ({"starts_at": "2027-06-03", "ends_at": "2027-06-02"}, 422, "validation_error", "ends_at"),
    ({"starts_at": "2027-06-01", "ends_at": "2028-06-02"}, 422, "validation_error", "ends_at"),
    ({"starts_at": "2027-06-01T09:00:00", "ends_at": "2027-06-02"}, 422, "validation_error", "starts_at"),
    ({"starts_at": "soon", "ends_at": "2027-06-02"}, 422, "validation_error", "starts_at"),
    ({"starts_at": 20270601, "ends_at": "2027-06-02"}, 422, "validation_error", "starts_at"),
    ({"starts_at": "2020-06-01", "ends_at": "2020-06-02"}, 422, "validation_error", "ends_at"),
    ({"starts_at": "2027-06-01", "ends_at": "2027-06-02", "reason": "x" * 201}, 422, "validation_error", "reason"),
    ({"starts_at": "2027-06-01", "ends_at": "2027-06-02", "reason": "a\u0000b"}, 422, "validation_error", "reason"),
])
def test_bad_bodies(api, ctx, doctor, body, status, code, field):
    answer = error_of(api.post(f"/doctors/{doctor.doctor_id}/absences", json=body, token=doctor.token), status, code)
    assert field in answer["error"]["fields"]
