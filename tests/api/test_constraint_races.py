"""Races that only the database's constraints can settle, against the real app under gunicorn (4 processes).

One patient cannot be in two places at once (ex_appointments_patient_overlap). When two requests of the
same patient reach for overlapping times with two different doctors, no slot lock orders them; the
constraint does, and the loser must hear 409 `appointment_overlap`, never a 500. Each write path is
raced over several rounds: booking by slot id, booking by hold id, rescheduling, a booking against a
reschedule, and three confirms of one hold in the portal.
"""
import re
from collections import Counter
from datetime import timedelta

import pytest
import requests

from portal.extensions import db
from portal.models import Appointment, Slot
from tests.api.clinic_api import patients, token_for
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import together
from tests.web.booking_pages import hold_id_in, setup_week

pytestmark = pytest.mark.laptop  # every race here runs on SQLite too
ROUNDS = 5
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
MESSAGE = re.compile(r'<p class="message message-\w+"[^>]*>([^<]+)</p>')
TITLE = re.compile(r"<h1>([^<]+)</h1>")


@pytest.fixture
def server(app, gunicorn_servers):
    return gunicorn_servers(app)


def _api(server: str, method: str, path: str, token: str, body: dict):
    return lambda: requests.request(method, f"{server}{PREFIX}{path}", json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {token}"})


def _outcome(answers) -> Counter:
    return Counter((a.status_code, a.json().get("error", {}).get("code")) for a in answers)


def _same_time_two_doctors(app, hours: float) -> tuple[int, int]:
    """Two free slots at the same time, of two different doctors."""
    with app.app_context():
        at = clinic.soon(hours)
        ids = clinic.slot(clinic.doctor().id, at).id, clinic.slot(clinic.doctor().id, at).id
        db.session.remove()
    return ids


def _active_of(app, patient_id: int) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Appointment).where(Appointment.patient_id == patient_id,
                                                                    Appointment.status != "cancelled")))
        db.session.remove()
    return rows


def test_one_patient_booking_two_overlapping_slots_at_once_gets_one_201_and_one_409(app, server):
    for round_ in range(ROUNDS):
        patient = patients(app, 1)[0]
        first, second = _same_time_two_doctors(app, 30 + round_)
        answers = together([_api(server, "POST", "/appointments", patient.token, {"slot_id": slot_id})
                            for slot_id in (first, second)])
        assert _outcome(answers) == {(201, None): 1, (409, "appointment_overlap"): 1}, [a.text for a in answers]
        assert [a.id for a in _active_of(app, patient.patient_id)] == [
            a.json()["data"]["id"] for a in answers if a.status_code == 201]


def test_confirming_two_holds_on_overlapping_slots_at_once_books_one(app, server):
    for round_ in range(ROUNDS):
        patient = patients(app, 1)[0]
        hold_ids = []
        for slot_id in _same_time_two_doctors(app, 30 + round_):
            held = _api(server, "POST", "/holds", patient.token, {"slot_id": slot_id})()
            assert held.status_code == 201, held.text
            hold_ids.append(held.json()["data"]["hold_id"])
        answers = together([_api(server, "POST", "/appointments", patient.token, {"hold_id": hold_id})
                            for hold_id in hold_ids])
        assert _outcome(answers) == {(201, None): 1, (409, "appointment_overlap"): 1}, [a.text for a in answers]
        assert len(_active_of(app, patient.patient_id)) == 1


def _two_appointments_and_a_shared_time(app, patient_id: int, hours: float) -> list[tuple[int, int]]:
    """The patient's appointments with two doctors at different times, and for each a free slot of
    the same doctor at one common later time: [(appointment id, target slot id)] per doctor."""
    with app.app_context():
        moves = []
        for offset in (0, 1):
            doctor_id = clinic.doctor().id
            booked = clinic.appointment(patient_id, clinic.slot(doctor_id, clinic.soon(hours + offset)))
            moves.append((booked.id, clinic.slot(doctor_id, clinic.soon(hours + 5)).id))
        db.session.remove()
    return moves


def test_two_reschedules_of_one_patient_into_the_same_time_move_one(app, server):
    for round_ in range(ROUNDS):
        patient = patients(app, 1)[0]
        moves = _two_appointments_and_a_shared_time(app, patient.patient_id, 30 + 10 * round_)
        answers = together([_api(server, "PATCH", f"/appointments/{appointment_id}", patient.token,
                                 {"slot_id": slot_id}) for appointment_id, slot_id in moves])
        assert _outcome(answers) == {(200, None): 1, (409, "appointment_overlap"): 1}, [a.text for a in answers]
        starts = sorted(a.starts_at for a in _active_of(app, patient.patient_id))
        assert starts[1] - starts[0] >= timedelta(minutes=30)


def test_a_booking_racing_a_reschedule_into_the_same_time_lets_one_through(app, server):
    for round_ in range(ROUNDS):
        patient = patients(app, 1)[0]
        (appointment_id, target), (_, other_doctors_slot) = _two_appointments_and_a_shared_time(
            app, patient.patient_id, 30 + 10 * round_)
        with app.app_context():  # leave the second appointment out of the way: cancel it in the database
            db.session.execute(db.update(Appointment).where(Appointment.id != appointment_id,
                                                            Appointment.patient_id == patient.patient_id)
                               .values(status="cancelled"))
            db.session.commit()
        answers = together([
            _api(server, "PATCH", f"/appointments/{appointment_id}", patient.token, {"slot_id": target}),
            _api(server, "POST", "/appointments", patient.token, {"slot_id": other_doctors_slot}),
        ])
        outcome = _outcome(answers)
        assert sum(n for (status, _), n in outcome.items() if status < 300) == 1, [a.text for a in answers]
        assert outcome[(409, "appointment_overlap")] == 1, [a.text for a in answers]


def _message(html: str) -> str | None:
    """What the page says next to the grid, or its title when it is an error page."""
    found = MESSAGE.search(html) or TITLE.search(html)
    return found.group(1).strip() if found else None


def _portal_session(server: str, user) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{server}/login", timeout=30)
    token = CSRF.search(page.text).group(1)
    signed_in = session.post(f"{server}/login", data={"login": user.username, "password": user.password,
                                                      "csrf_token": token}, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302, signed_in.text
    return session


def _portal_hold(server: str, session: requests.Session, doctor_id: int, week, slot_id: int) -> tuple[str, dict]:
    """Hold the slot from the doctor's page; the confirm URL and the form a confirm posts."""
    page = session.get(f"{server}/doctors/{doctor_id}?week={week.monday.isoformat()}", timeout=30)
    token = CSRF.search(page.text).group(1)
    held = session.post(f"{server}/doctors/{doctor_id}/holds", timeout=30,
                        data={"slot_id": slot_id, "week": week.monday.isoformat(), "csrf_token": token})
    assert held.status_code == 200, held.text
    confirm = f"{server}/doctors/{doctor_id}/holds/{hold_id_in(held.text)}/confirm"
    return confirm, {"week": week.monday.isoformat(), "reason": "", "csrf_token": token}


def _posting(url: str, form: dict, session: requests.Session):
    """A confirm click as its own connection with the session's cookie."""
    cookies = session.cookies.get_dict()
    return lambda: requests.post(url, data=form, cookies=cookies, allow_redirects=False, timeout=60)


def test_three_confirms_of_one_hold_in_the_portal_book_once_and_never_fail(app, server, factories):
    for round_ in range(ROUNDS):
        doctor_id, week, (slot_id,) = setup_week(app, hours=(9 + round_,), name=f"Dr Race {round_}")
        user = factories.user(role="patient")
        session = _portal_session(server, user)
        confirm, form = _portal_hold(server, session, doctor_id, week, slot_id)
        answers = together([_posting(confirm, form, session)] * 3)
        said = Counter((a.status_code, _message(a.text)) for a in answers)
        assert sum(said.values()) == 3 and said[(302, "Redirecting...")] == 1, said
        losers = [message for (status, message) in said.elements() if status != 302]
        assert all(status == 409 for status, _ in said if status != 302), said
        assert all(message and "went wrong" not in message for message in losers), said
        assert len(_active_of(app, user.patient_id)) == 1


def test_a_portal_confirm_racing_an_api_booking_of_the_same_time_lets_one_through(app, server, factories):
    for round_ in range(ROUNDS):
        doctor_id, week, (slot_id,) = setup_week(app, hours=(9 + round_,), name=f"Dr Race {round_}")
        user = factories.user(role="patient")
        with app.app_context():
            at = db.session.get(Slot, slot_id).starts_at
            elsewhere = clinic.slot(clinic.doctor().id, at).id
            db.session.remove()
        session = _portal_session(server, user)
        confirm, form = _portal_hold(server, session, doctor_id, week, slot_id)
        portal, api = together([_posting(confirm, form, session),
                                _api(server, "POST", "/appointments", token_for(app, user.id), {"slot_id": elsewhere})])
        assert (portal.status_code, api.status_code) in {(302, 409), (422, 201)}, (portal.text, api.text)
        if api.status_code == 409:
            assert api.json()["error"]["code"] == "appointment_overlap"
        else:
            assert "You already have an appointment at that time." in portal.text
        assert len(_active_of(app, user.patient_id)) == 1
