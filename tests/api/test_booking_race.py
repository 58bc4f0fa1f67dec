"""Many patients grabbing one slot at once, against the real app under gunicorn with 4 worker processes.

Each race starts 32 requests by 32 different patients released together by a barrier. The winner
must be unique whether Redis holds are in front (a) and (b) or Redis is unreachable and the
database alone decides (c); every loser gets a 409 that says why, and nothing answers 500.
"""
from collections import Counter
from datetime import timedelta

import pytest
import requests

from portal.extensions import db
from portal.models import Slot
from portal.services import clinic_time
from tests.api.clinic_api import active_appointments, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import together

RACERS = 32
CLOSED_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def server(app, gunicorn_servers):
    return gunicorn_servers(app) + PREFIX


@pytest.fixture
def server_without_redis(gunicorn_servers):
    return gunicorn_servers(None, redis_url=CLOSED_REDIS) + PREFIX


def race(url: str, tokens: list[str], body: dict) -> list[requests.Response]:
    """POST `body` to `url` once per token, all requests released at the same moment."""
    def post(token: str):
        return lambda: requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    return together([post(token) for token in tokens])


def _free_slot(app) -> int:
    with app.app_context():
        slot_id = clinic.slot(clinic.doctor().id, clinic.soon(30)).id
        db.session.remove()
    return slot_id


def _outcome(answers) -> tuple[Counter, Counter]:
    statuses = Counter(answer.status_code for answer in answers)
    codes = Counter(answer.json()["error"]["code"] for answer in answers if answer.status_code >= 400)
    return statuses, codes


def _one_booking(app, slot_id: int, answers, racers) -> None:
    (winner,) = [answer.json()["data"] for answer in answers if answer.status_code == 201]
    booked = active_appointments(app, slot_id)
    assert [(a.id, a.patient_id) for a in booked] == [(winner["id"], winner["patient"]["id"])]
    assert winner["patient"]["id"] in {racer.patient_id for racer in racers}


@pytest.mark.laptop
def test_a_booking_race_has_exactly_one_winner(app, server):
    slot_id = _free_slot(app)
    racers = patients(app, RACERS)
    answers = race(f"{server}/appointments", [r.token for r in racers], {"slot_id": slot_id})
    statuses, codes = _outcome(answers)
    assert statuses == {201: 1, 409: RACERS - 1}, (statuses, codes)
    assert set(codes) <= {"slot_held", "slot_booked"}, codes
    _one_booking(app, slot_id, answers, racers)


@pytest.mark.laptop
def test_a_hold_race_has_exactly_one_winner(app, server):
    slot_id = _free_slot(app)
    racers = patients(app, RACERS)
    answers = race(f"{server}/holds", [r.token for r in racers], {"slot_id": slot_id})
    statuses, codes = _outcome(answers)
    assert statuses == {201: 1, 409: RACERS - 1} and codes == {"slot_held": RACERS - 1}, (statuses, codes)
    assert all(a.json()["message"] == "Slot is temporarily locked." for a in answers if a.status_code == 409)
    (hold,) = [a.json()["data"] for a in answers if a.status_code == 201]
    assert hold["slot_id"] == slot_id and hold["hold_id"]


def test_without_redis_the_database_alone_lets_exactly_one_book(app, server_without_redis):
    assert requests.get(server_without_redis.removesuffix(PREFIX) + "/healthz", timeout=5).status_code == 503
    slot_id = _free_slot(app)
    racers = patients(app, RACERS)
    answers = race(f"{server_without_redis}/appointments", [r.token for r in racers], {"slot_id": slot_id})
    statuses, codes = _outcome(answers)
    assert statuses == {201: 1, 409: RACERS - 1} and codes == {"slot_booked": RACERS - 1}, (statuses, codes)
    _one_booking(app, slot_id, answers, racers)


@pytest.mark.laptop
def test_a_weekly_plan_sent_five_times_at_once_publishes_each_slot_once(app, server, doctor):
    """A double (or quintuple) click on "publish": one 201, the others 200 with every slot skipped."""
    with app.app_context():
        start = clinic_time.today() + timedelta(days=10)
    plan = {"from_date": start.isoformat(), "to_date": (start + timedelta(days=13)).isoformat(),
            "weekdays": [0, 1, 2, 3, 4], "start_time": "08:00", "end_time": "18:00", "duration": 15}
    answers = race(f"{server}/doctors/{doctor.doctor_id}/slots", [doctor.token] * 5, plan)
    per_plan = 10 * 40
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 200, 201]
    assert sorted(len(answer.json()["data"]["slots"]) for answer in answers) == [0, 0, 0, 0, per_plan]
    assert all(answer.json()["data"]["skipped"] == per_plan for answer in answers if answer.status_code == 200)
    with app.app_context():
        starts = db.session.scalars(db.select(Slot.starts_at).where(Slot.doctor_id == doctor.doctor_id)).all()
        db.session.remove()
    assert len(starts) == len(set(starts)) == per_plan
