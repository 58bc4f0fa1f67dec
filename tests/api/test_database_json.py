"""Items written as JSON by PostgreSQL (portal/api/database_json.py): marshmallow's dump of the declared schema,
value for value, edge values included; and no field is ever written differently, only refused."""
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import marshmallow as ma
import pytest
from sqlalchemy import select

from portal.api.database_json import row_json
from portal.api.schemas.booking import SlotSchema
from portal.api.schemas.directory import SpecialitySlotSchema
from portal.extensions import db
from portal.models import Doctor, Slot
from portal.services.directory import doctor_search
from portal.services.scheduling import availability
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
        views = availability.doctor_slots(doctor.id, lower, upper, status)
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


@pytest.mark.parametrize("schema_class", [_Float, _ThreePlaces, _DateOnly, _Shouted, _Defaulted])
def test_a_field_postgresql_would_write_differently_is_refused(schema_class):
    columns = {"doctor.fees": Doctor.fees, "starts_at": Slot.starts_at, "doctor.full_name": Doctor.full_name,
               "duration": Slot.duration}
    with pytest.raises(TypeError):
        row_json(schema_class)(columns)
