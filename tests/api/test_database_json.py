"""Items written as JSON by PostgreSQL (portal/api/database_json.py): marshmallow's dump of the declared schema,
value for value, edge values included; and no field is ever written differently, only refused."""
import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import marshmallow as ma
import pytest
from sqlalchemy import select

from portal.api.database_json import row_json
from portal.api.schemas.audit import AuditEventSchema
from portal.api.schemas.booking import AppointmentSchema, PartySchema, SlotSchema
from portal.api.schemas.directory import SpecialitySlotSchema
from portal.api.schemas.patients import PatientSchema
from portal.api.schemas.records import RecordSchema
from portal.extensions import db
from portal.models import AuditEvent, Doctor, MedicalRecord, Slot
from portal.services.directory import doctor_search
from portal.services.records import access_log, medical_records, patients
from portal.services.scheduling import appointment_reads, slot_lists
from tests.api.clinic_api import iso
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope

START = clinic.soon(48).replace(minute=0, second=0, microsecond=0)
ODD_NAME = 'Zoë "Ω" O\'Brien \\ tab\tnew\nline \u2028 </script>'


def _window(start, hours=6) -> str:
    return f"start={quote(iso(start))}&end={quote(iso(start + timedelta(hours=hours)))}"


def test_a_speciality_window_is_marshmallows_dump_of_the_same_slots(api, ctx, alice):
    odd = clinic.doctor(None, "Cardiology", full_name=ODD_NAME, gender=None, fees=None)
    ada = clinic.doctor(clinic.department("Heart"), "cardiology", full_name="Ada", gender="female",
                        fees=Decimal("95.5"))
    free = clinic.doctor(None, "CARDIOLOGY", full_name="Free", gender="other", fees=Decimal("0"))
    times = [START, START + timedelta(minutes=10, seconds=17), START + timedelta(minutes=40, seconds=1, microseconds=5),
             START + timedelta(hours=1, microseconds=120000)]  # whole minutes, seconds, and fractions of them
    for doctor in (odd, ada, free):
        for moment in times:
            clinic.slot(doctor.id, moment, duration=7)
    held = db.session.scalar(select(Slot.id).where(Slot.doctor_id == ada.id).order_by(Slot.starts_at))
    envelope(api.post("/holds", json={"slot_id": held}, token=alice.token))

    answer = envelope(api.get(f"/specialities/cardiology/slots?{_window(START - timedelta(hours=1))}"))

    expected = ma.Schema.dump(SpecialitySlotSchema(), doctor_search.speciality_free_slots(
        "cardiology", START - timedelta(hours=1), START + timedelta(hours=5)), many=True)
    assert len(expected) == 11 and held not in {item["slot_id"] for item in expected}
    assert answer["data"] == expected
    assert answer["message"] == "Free slots."
    shown = {item["full_name"]: item for item in answer["data"]}
    assert shown[ODD_NAME]["gender"] is None and shown[ODD_NAME]["fees"] is None
    assert shown["Ada"]["fees"] == "95.50" and shown["Free"]["fees"] == "0.00"
    assert [item["starts_at"] for item in answer["data"] if item["doctor_id"] == free.id] == [
        moment.isoformat() for moment in times]
    assert times[2].isoformat().endswith(".000005+00:00") and times[3].isoformat().endswith(".120000+00:00")


def test_a_public_week_is_marshmallows_dump_of_its_slots_with_their_states(api, ctx, alice):
    doctor = clinic.doctor(None, "Cardiology")
    past = clinic.slot(doctor.id, clinic.soon(-2))
    booked, held, free, fraction = clinic.future_slots(doctor.id, 4, START)
    fraction.starts_at += timedelta(seconds=1, microseconds=250)
    db.session.commit()
    clinic.appointment(clinic.patient().id, booked)
    envelope(api.post("/holds", json={"slot_id": held.id}, token=alice.token))
    lower, upper = clinic.soon(-3), START + timedelta(days=1)
    window = f"from={quote(iso(lower))}&to={quote(iso(upper))}"

    for status, token in ((None, None), (None, alice.token), ("held", None), ("free", alice.token)):
        url = f"/doctors/{doctor.id}/slots?{window}" + (f"&status={status}" if status else "")
        answer = envelope(api.get(url, token=token))
        views = slot_lists.doctor_slots(doctor.id, lower, upper, status)
        assert answer["data"] == ma.Schema.dump(SlotSchema(), views, many=True), url
    everything = envelope(api.get(f"/doctors/{doctor.id}/slots?{window}"))["data"]
    assert [(item["id"], item["status"]) for item in everything] == [
        (past.id, "past"), (booked.id, "booked"), (held.id, "held"), (free.id, "free"), (fraction.id, "free")]
    assert everything[-1]["starts_at"] == fraction.starts_at.isoformat()
    assert envelope(api.get(f"/doctors/{doctor.id}/slots?{window}&status=held"))["data"][0]["id"] == held.id


def test_an_empty_window_is_an_empty_list_and_an_unknown_speciality_404(api, ctx):
    clinic.slot(clinic.doctor(None, "Cardiology").id, START)
    empty = envelope(api.get(f"/specialities/cardiology/slots?{_window(START + timedelta(days=1))}"))
    assert empty["data"] == [] and empty["message"] == "No free slots in that window."
    assert api.get(f"/specialities/astrology/slots?{_window(START)}").status_code == 404


def _record(patient_id: int, at, **fields) -> MedicalRecord:
    record = MedicalRecord(patient_id=patient_id, recorded_at=at, **{"diagnostics": "Flu", **fields})
    db.session.add(record)
    db.session.commit()
    return record


def test_record_lists_are_marshmallows_dump_of_the_same_records(api, ctx, doctor, admin, alice):
    """The timeline and a department's records, as a doctor (the department's matches found first) and an admin
    (paged as any list): null doctor and department, odd text, fractions of seconds, the meta of every page."""
    heart = clinic.department("Heart")
    db.session.get(Doctor, doctor.doctor_id).department_id = heart.id
    clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(24)))  # she is his patient
    past = clinic.soon(-24 * 30).replace(microsecond=0)
    _record(alice.patient_id, past + timedelta(microseconds=5), doctor_id=doctor.doctor_id, department_id=heart.id,
            author_id=doctor.user_id, diagnostics=ODD_NAME, observations='ü "quoted"', treatments=None, misc="")
    _record(alice.patient_id, past - timedelta(days=1), department_id=heart.id, author_id=admin.user_id)  # no doctor
    _record(alice.patient_id, past - timedelta(days=2, microseconds=-120000), doctor_id=doctor.doctor_id)  # no dept
    _record(alice.patient_id, past, department_id=heart.id, archived_at=past)  # left out of every list

    def shown(path: str, token: str) -> dict:
        answer = envelope(api.get(path, token=token))
        return {"data": answer["data"], "meta": answer["meta"]}

    def dumped(page) -> dict:
        return {"data": RecordSchema(many=True).dump(page.items),
                "meta": {"page": page.page, "per_page": page.per_page, "total": page.total}}

    for caller in (doctor, admin):
        reader = clinic.actor(caller.user_id)
        for number in (1, 2, 3):
            timeline = shown(f"/patients/{alice.patient_id}/records?per_page=2&page={number}", caller.token)
            assert timeline == dumped(medical_records.patient_records(reader, alice.patient_id, page=number,
                                                                      per_page=2))
            department = shown(f"/departments/{heart.id}/records?per_page=1&page={number}", caller.token)
            assert department == dumped(medical_records.department_records(reader, heart.id, page=number,
                                                                           per_page=1))
    written = medical_records.department_records(clinic.actor(doctor.user_id), heart.id,
                                                 item_json=row_json(RecordSchema))
    assert written.json_items and [json.loads(item) for item in written.items] == shown(
        f"/departments/{heart.id}/records", doctor.token)["data"]  # what the API answers is PostgreSQL's text
    everything = shown(f"/patients/{alice.patient_id}/records", doctor.token)
    assert [item["doctor"] and item["doctor"]["id"] for item in everything["data"]] == [
        doctor.doctor_id, None, doctor.doctor_id]
    assert [item["department"] for item in everything["data"]][1:] == [{"id": heart.id, "name": "Heart"}, None]
    assert everything["data"][0]["diagnostics"] == ODD_NAME and everything["data"][0]["misc"] == ""
    assert everything["data"][0]["recorded_at"].endswith(".000005+00:00")
    assert everything["meta"] == {"page": 1, "per_page": 20, "total": 3}
    assert shown(f"/patients/{alice.patient_id}/records?page=4", doctor.token) == {
        "data": [], "meta": {"page": 4, "per_page": 20, "total": 3}}


def test_a_patient_search_is_marshmallows_dump_of_the_same_patients(api, ctx, doctor, admin):
    for hours, (name, fields) in enumerate(((ODD_NAME, {"gender": None, "dob": None}),
                         ("Zoe Albers", {"gender": "female", "dob": date(1901, 2, 3), "phone": "+49 30 1"}),
                         ("Zoë Brandt", {"gender": "other", "dob": date(2020, 12, 31), "email": "z@example.org"})),
                                 start=24):
        patient = clinic.patient(full_name=name)
        for field, value in fields.items():
            setattr(patient, field, value)
        db.session.commit()
        clinic.appointment(patient.id, clinic.slot(doctor.doctor_id, clinic.soon(hours)))  # seen by the doctor
    for caller in (doctor, admin):
        reader = clinic.actor(caller.user_id)
        for q in ("", "zoe", "1901-02-03"):
            answer = envelope(api.get(f"/patients?q={quote(q)}&per_page=2", token=caller.token))
            page = patients.list_patients(reader, q=q, per_page=2)
            assert answer["data"] == PatientSchema(many=True).dump(page.items)
            assert answer["meta"] == {"page": 1, "per_page": 2, "total": page.total}
    written = patients.list_patients(clinic.actor(admin.user_id), q="zoe", item_json=row_json(PatientSchema))
    assert written.json_items and len(written.items) == 3
    found = {p["full_name"]: p for p in envelope(api.get("/patients?q=zoe", token=admin.token))["data"]}
    assert [found[name]["dob"] for name in ("Zoe Albers", "Zoë Brandt", ODD_NAME)] == ["1901-02-03", "2020-12-31", None]
    assert found[ODD_NAME]["gender"] is None and found["Zoë Brandt"]["email"] == "z@example.org"


def test_an_appointment_list_is_marshmallows_dump_of_the_same_appointments(api, ctx, doctor, admin, alice):
    """The API's appointment list (a patient's dashboard, a doctor's day, an admin's view): null reason and times,
    a reschedule's old slot, fractions of seconds, a doctor with an odd name and speciality."""
    db.session.get(Doctor, doctor.doctor_id).full_name = ODD_NAME
    db.session.get(Doctor, doctor.doctor_id).speciality = 'Cardiology "Ω"'
    db.session.commit()
    old = clinic.slot(doctor.doctor_id, clinic.soon(20))
    moved = clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(24)), reason=ODD_NAME)
    moved.rescheduled_from_slot_id = old.id
    moved.confirmed_at = clinic.soon(-1).replace(microsecond=120000)
    cancelled = clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(48)), status="cancelled")
    cancelled.cancelled_at = clinic.soon(-2).replace(microsecond=0)
    clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(72)))
    db.session.commit()

    for caller in (alice, doctor, admin):
        reader = clinic.actor(caller.user_id)
        for query, arguments in (("per_page=2", {"per_page": 2}), ("per_page=2&page=2", {"per_page": 2, "page": 2}),
                                 ("status=cancelled", {"status": "cancelled"})):
            answer = envelope(api.get(f"/appointments?{query}", token=caller.token))
            page = appointment_reads.appointment_rows(reader, **arguments)
            assert answer["data"] == AppointmentSchema(many=True).dump(page.items)
            assert answer["meta"] == {"page": page.page, "per_page": page.per_page, "total": page.total}
    written = appointment_reads.appointment_rows(clinic.actor(alice.user_id), item_json=row_json(AppointmentSchema))
    shown = envelope(api.get("/appointments", token=alice.token))["data"]
    assert written.json_items and [json.loads(item) for item in written.items] == shown
    assert [item["reason"] for item in shown] == [ODD_NAME, None, None]
    assert shown[0]["rescheduled_from_slot_id"] == old.id and shown[0]["confirmed_at"].endswith(".120000+00:00")
    assert shown[0]["doctor"] == {"id": doctor.doctor_id, "full_name": ODD_NAME, "speciality": 'Cardiology "Ω"'}
    assert shown[1]["cancelled_at"] is not None and shown[1]["status"] == "cancelled"


def test_the_audit_log_is_marshmallows_dump_of_the_same_events(api, ctx, doctor, admin, alice):
    """The admins' audit log, sorted and filtered: a system event (no actor), emergency reads, odd request ids."""
    at = clinic.soon(-5).replace(microsecond=0)
    db.session.add_all([
        AuditEvent(actor_id=doctor.user_id, action="read", object_type="patient", object_id=alice.patient_id,
                   patient_id=alice.patient_id, ip="10.0.0.1", request_id=ODD_NAME, emergency=True,
                   at=at + timedelta(microseconds=5)),
        AuditEvent(actor_id=None, action="update", object_type="appointment", object_id=None,
                   patient_id=alice.patient_id, ip=None, request_id=None, emergency=False, at=at),
        AuditEvent(actor_id=admin.user_id, action="delete", object_type="medical_record", object_id=7,
                   patient_id=None, ip="::1", request_id="r", emergency=False, at=at - timedelta(seconds=1))])
    db.session.commit()
    reader = clinic.actor(admin.user_id)
    for query, selection in (("", {}), ("sort=ip", {"sort": "ip"}), ("emergency=true", {"emergency": True}),
                             (f"patient_id={alice.patient_id}&sort=-object_id", {"patient_id": alice.patient_id,
                                                                                "sort": "-object_id"})):
        answer = envelope(api.get(f"/admin/audit?per_page=3&{query}", token=admin.token))
        page = access_log.admin_event_page(reader, access_log.AuditFilter(**selection), page=1, per_page=3)
        assert answer["data"] == AuditEventSchema(many=True).dump(page.items)
        assert answer["meta"] == {"page": 1, "per_page": 3, "total": page.total}
    written = access_log.admin_event_page(reader, access_log.AuditFilter(patient_id=alice.patient_id), page=1,
                                          per_page=3, item_json=row_json(AuditEventSchema))
    shown = envelope(api.get(f"/admin/audit?patient_id={alice.patient_id}", token=admin.token))["data"]
    assert written.json_items and [json.loads(item) for item in written.items] == shown
    assert [(item["actor"] and item["actor"]["id"], item["emergency"]) for item in shown] == [
        (doctor.user_id, True), (None, False)]
    assert shown[0]["request_id"] == ODD_NAME and shown[0]["at"].endswith(".000005+00:00")


class _Float(ma.Schema):
    fees = ma.fields.Float(attribute="doctor.fees")


class _ThreePlaces(ma.Schema):
    fees = ma.fields.Decimal(as_string=True, places=3, attribute="doctor.fees")


class _DateOnly(ma.Schema):
    starts_at = ma.fields.DateTime(format="%Y-%m-%d")


class _Shouted(ma.Schema):
    full_name = ma.fields.String(attribute="doctor.full_name")

    @ma.post_dump
    def shout(self, data, **kwargs):
        return {key: value.upper() for key, value in data.items()}


class _Defaulted(ma.Schema):
    duration = ma.fields.Integer(dump_default=30)


class _FlagOverNumber(ma.Schema):
    duration = ma.fields.Boolean()


class _NestedMany(ma.Schema):
    doctor = ma.fields.Nested(PartySchema, many=True)


class _NestedPart(ma.Schema):
    doctor = ma.fields.Nested(PartySchema, only=("id",))


class _NestedDateTime(ma.Schema):
    doctor = ma.fields.Nested(_DateOnly)


@pytest.mark.parametrize("schema_class", [_Float, _ThreePlaces, _DateOnly, _Shouted, _Defaulted, _FlagOverNumber,
                                          _NestedMany, _NestedPart, _NestedDateTime])
def test_a_field_postgresql_would_write_differently_is_refused(schema_class):
    columns = {"doctor.fees": Doctor.fees, "starts_at": Slot.starts_at, "doctor.full_name": Doctor.full_name,
               "duration": Slot.duration, "doctor": Doctor.id, "doctor.id": Doctor.id,
               "doctor.starts_at": Slot.starts_at}
    with pytest.raises(TypeError):
        row_json(schema_class).column(columns)
