"""An absence marked while patients book slots inside it, against the real app under gunicorn (4 processes).

Whatever order the database lets them through in, no slot may end both booked and withdrawn, and no
withdrawn slot booked: each booking either wins (201, and its appointment is in the absence's
`affected`) or finds no such slot (404), and every other slot of the range is withdrawn.
"""
from collections import Counter
from datetime import timedelta

import pytest
import requests

from portal.extensions import db
from portal.models import Appointment, Slot
from tests.api.clinic_api import caller, iso, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import together

pytestmark = pytest.mark.laptop  # SQLite takes the writes in turn; the outcome must be as sound
ROUNDS = 4
BOOKERS = 3


@pytest.fixture
def server(app, gunicorn_servers):
    return gunicorn_servers(app)


def _call(server: str, method: str, path: str, token: str, body: dict):
    return lambda: requests.request(method, f"{server}{PREFIX}{path}", json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {token}"})


def test_an_absence_racing_bookings_leaves_no_slot_both_booked_and_withdrawn(app, server, factories):
    doctor = caller(app, factories.user(role="doctor"))
    for round_ in range(ROUNDS):
        start = clinic.soon(30 + 10 * round_).replace(minute=0)
        with app.app_context():
            slot_ids = [slot.id for slot in clinic.future_slots(doctor.doctor_id, BOOKERS + 1, start)]
            db.session.remove()
        bookers = patients(app, BOOKERS)
        absence = {"starts_at": iso(start), "ends_at": iso(start + timedelta(hours=3))}
        calls = [_call(server, "POST", "/appointments", who.token, {"slot_id": slot_id})
                 for who, slot_id in zip(bookers, slot_ids, strict=False)]
        calls.insert(round_ % len(calls), _call(server, "POST", f"/doctors/{doctor.doctor_id}/absences",
                                                doctor.token, absence))
        answers = together(calls)
        marked = next(a for a in answers if a.request.url.endswith("/absences"))
        bookings = [a for a in answers if a is not marked]
        assert marked.status_code == 201, marked.text
        outcome = Counter((a.status_code, (a.json().get("error") or {}).get("code")) for a in bookings)
        assert set(outcome) <= {(201, None), (404, "not_found")}, [a.text for a in bookings]
        booked = {a.json()["data"]["id"] for a in bookings if a.status_code == 201}
        data = marked.json()["data"]
        assert {visit["id"] for visit in data["affected"]} == booked
        with app.app_context():
            rows = db.session.execute(db.select(Slot.id, Slot.absence_id).where(Slot.id.in_(slot_ids))).all()
            active = set(db.session.scalars(db.select(Appointment.slot_id).where(
                Appointment.slot_id.in_(slot_ids), Appointment.status != "cancelled")))
            db.session.remove()
        withdrawn = {slot_id for slot_id, absence_id in rows if absence_id == data["id"]}
        assert not withdrawn & active
        assert withdrawn | active == set(slot_ids)
        assert len(active) == len(booked) and data["withdrawn"] == len(withdrawn)
