"""Anonymous directory answers kept in the server (services/directory/answer_cache.py), seen from a second app.

`other` is a second app on the same database and Redis (conftest), standing in for another server process: its
kept answers live in its own memory, so only the shared directory version can tell it about a change
made through the first app. After every kind of change, its very next anonymous read must equal what a
fresh computation (the cache switched off) answers, and differ from what it answered before.
"""
import psycopg
import pytest
from redis import Redis

from portal.extensions import db
from portal.models import Doctor
from portal.services import change_versions, directory_version
from portal.services.scheduling.hold_store import RedisHoldStore
from tests.api.clinic_api import iso, patients, query_count
from tests.fixtures import clinic
from tests.fixtures.api_client import ApiClient, envelope


@pytest.fixture
def week(ctx, doctor):
    """The doctor (in Cardiology) with six slots a day ahead, and the four anonymous read paths over them."""
    department = clinic.department("Cardiology")
    profile = db.session.get(Doctor, doctor.doctor_id)
    profile.department_id, profile.speciality = department.id, "Cardiology"
    db.session.commit()
    slots = clinic.future_slots(doctor.doctor_id, 6, clinic.soon(24))
    start, end = iso(clinic.soon(2)), iso(clinic.soon(72))
    window = f"from={start}&to={end}".replace("+", "%2B")
    paths = [f"/doctors/{doctor.doctor_id}/slots?{window}", f"/doctors/{doctor.doctor_id}?{window}",
             "/doctors?per_page=50", f"/specialities/Cardiology/slots?{window.replace('from', 'start')}"
             .replace("to=", "end="), f"/departments/{department.id}/doctors"]
    return {"slots": [slot.id for slot in slots], "department": department.id, "paths": paths}


def _fresh(app, api, path):
    """The answer as the view computes it now, the cache switched off."""
    saved = app.config["DIRECTORY_CACHE_SECONDS"]
    app.config["DIRECTORY_CACHE_SECONDS"] = 0
    try:
        answer = api.get(path)
    finally:
        app.config["DIRECTORY_CACHE_SECONDS"] = saved
    return answer.status_code, answer.get_json()


def _read_all(client, paths):
    return [(answer.status_code, answer.get_json()) for answer in map(client.get, paths)]


def test_a_repeated_anonymous_read_is_answered_without_sql_and_equals_a_fresh_one(app, api, other, other_app,
                                                                                   week):
    for path in week["paths"]:
        first = other.get(path)
        assert query_count(other_app, lambda path=path: other.get(path)) == 0, path
        again = other.get(path)
        assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"] == "public, no-cache"
        assert again.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
        assert (again.status_code, again.get_json()) == _fresh(app, api, path)


@pytest.mark.parametrize("path", [0, 3], ids=["doctor's week", "speciality"])
def test_a_new_anonymous_window_reads_the_booking_rules_once_per_version(other, other_app, week, path):
    """The overrides of the booking rules are kept under the directory version (directory_version.kept): an
    anonymous window not asked before costs one statement, its slots' (with the doctor's gate and window)."""
    first = week["paths"][path]
    other.get(first)
    later = first.replace(iso(clinic.soon(72)).replace("+", "%2B"), iso(clinic.soon(96)).replace("+", "%2B"))
    assert later != first
    assert query_count(other_app, lambda: other.get(later)) == 1
    assert envelope(other.get(later))["data"] == envelope(other.get(first))["data"]  # both hold the same six


def test_signed_in_reads_read_the_booking_rules_every_time(app, other, week, doctor):
    """Only an anonymous answer, which read the version first, may use the kept overrides: a change no session
    saw (so no version moved) is in the very next signed-in read."""
    [patient] = patients(app, 1)
    speciality = week["paths"][3]
    assert len(envelope(other.get(speciality))["data"]) == 6
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    if not url.startswith("postgresql://"):
        pytest.fail("this test writes through psycopg: run it against PostgreSQL (TEST_DATABASE_URL)")
    with psycopg.connect(url) as connection:
        connection.execute("UPDATE doctors SET min_notice_minutes = %s WHERE id = %s", (60 * 48, doctor.doctor_id))
    assert envelope(other.get(speciality, token=patient.token))["data"] == []


def test_a_kept_answer_still_answers_a_current_etag_with_304(other, week):
    path = week["paths"][0]
    first = other.get(path)
    again = other.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", first.headers["ETag"])


def _book(api, patient, slot_id):
    answer = api.post("/appointments", json={"slot_id": slot_id}, token=patient.token)
    assert answer.status_code == 201, answer.get_json()
    return envelope(answer)["data"]["id"]


def _hold(api, patient, slot_id):
    answer = api.post("/holds", json={"slot_id": slot_id}, token=patient.token)
    assert answer.status_code == 201, answer.get_json()
    return envelope(answer)["data"]["hold_id"]


def _expect(answer, status):
    assert answer.status_code == status, answer.get_json()


CHANGES = {
    "hold placed": lambda c: _hold(c.api, c.patient, c.slots[0]),
    "hold released": lambda c: _expect(c.api.delete(f"/holds/{c.held}", token=c.patient.token), 200),
    "booking": lambda c: _book(c.api, c.patient, c.slots[1]),
    "cancel": lambda c: _expect(c.api.post(f"/appointments/{c.booked}/cancel", token=c.patient.token), 200),
    "reschedule": lambda c: _expect(c.api.patch(f"/appointments/{c.booked}", json={"slot_id": c.slots[4]},
                                                token=c.patient.token), 200),
    "slot published": lambda c: _expect(c.api.post(f"/doctors/{c.doctor.doctor_id}/slots", json={
        "starts_at": iso(clinic.soon(48)), "duration": 30}, token=c.doctor.token), 201),
    "slot withdrawn": lambda c: _expect(c.api.delete(f"/slots/{c.slots[5]}", token=c.doctor.token), 200),
    "absence": lambda c: _expect(c.api.post(f"/doctors/{c.doctor.doctor_id}/absences", json={
        "starts_at": iso(clinic.soon(24)), "ends_at": iso(clinic.soon(25)), "reason": "Conference"},
        token=c.doctor.token), 201),
    "doctor edited": lambda c: _expect(c.api.patch(f"/doctors/{c.doctor.doctor_id}", json={"full_name": "Dr Renamed"},
                                                   token=c.admin.token), 200),
    "booking rules changed": lambda c: _expect(c.api.patch(f"/doctors/{c.doctor.doctor_id}", json={
        "min_notice_minutes": 60 * 48}, token=c.admin.token), 200),  # the slots a day ahead leave the windows
    "doctor archived": lambda c: _expect(c.api.delete(f"/doctors/{c.doctor.doctor_id}", token=c.admin.token), 200),
    "department renamed": lambda c: _expect(c.api.patch(f"/departments/{c.department}", json={"name": "Heart"},
                                                        token=c.admin.token), 200),
}


class Change:
    def __init__(self, api, week, doctor, admin, patient):
        self.api, self.doctor, self.admin, self.patient = api, doctor, admin, patient
        self.slots, self.department = week["slots"], week["department"]
        self.held = _hold(api, patient, self.slots[2])
        self.booked = _book(api, patient, self.slots[3])


@pytest.mark.parametrize("kind", CHANGES)
def test_every_change_is_in_the_next_anonymous_read_of_another_process(app, api, other, week, doctor, admin,
                                                                       kind):
    [patient] = patients(app, 1)
    change = Change(api, week, doctor, admin, patient)
    if kind == "doctor archived":  # only a doctor without upcoming appointments may be archived
        _expect(api.delete(f"/appointments/{change.booked}", token=admin.token), 200)
    before = _read_all(other, week["paths"])
    assert {status for status, _ in before} == {200}
    assert _read_all(other, week["paths"]) == before  # kept
    CHANGES[kind](change)
    after = _read_all(other, week["paths"])
    assert after == [_fresh(app, api, path) for path in week["paths"]]
    assert after != before


def test_credentialed_reads_are_neither_answered_from_nor_kept_in_the_cache(other, other_app, week, doctor,
                                                                           monkeypatch):
    # anonymous callers see none of the slots a day ahead; their doctor sees all six
    monkeypatch.setitem(other_app.config, "BOOKING_MIN_NOTICE_MINUTES", 60 * 48)
    path = week["paths"][0]
    anonymous = other.get(path)
    assert envelope(anonymous)["data"] == []
    signed_in = other.get(path, token=doctor.token)
    assert len(envelope(signed_in)["data"]) == 6 and signed_in.headers["Cache-Control"] == "no-store"
    assert query_count(other_app, lambda: other.get(path, token=doctor.token)) > 0
    assert query_count(other_app, lambda: other.get(path)) == 0
    assert envelope(other.get(path))["data"] == []


def test_a_kept_answer_expires_after_directory_cache_seconds(other, other_app, week, clock):
    path = week["paths"][1]
    other.get(path)
    clock.advance(other_app.config["DIRECTORY_CACHE_SECONDS"] - 1)
    assert query_count(other_app, lambda: other.get(path)) == 0
    clock.advance(1)
    assert query_count(other_app, lambda: other.get(path)) > 0


def test_a_kept_answer_ends_with_the_first_hold_it_shows(app, api, other, other_app, week, clock, monkeypatch):
    monkeypatch.setitem(other_app.config, "DIRECTORY_CACHE_SECONDS", 3600)
    [patient] = patients(app, 1)
    _hold(api, patient, week["slots"][0])
    path = week["paths"][0]
    held = envelope(other.get(path))["data"]
    assert held[0]["status"] == "held"
    assert query_count(other_app, lambda: other.get(path)) == 0
    clock.advance(app.config["HOLD_TTL_SECONDS"] + 1)  # the hold ends by its TTL: no write, no bump
    assert envelope(other.get(path))["data"][0]["status"] == "free"


def test_with_redis_down_reads_are_fresh_and_correct(app, api, other_app, week, doctor, monkeypatch):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    for each in (app, other_app):
        dead_version = change_versions.RedisVersion(dead, directory_version.KEY)
        monkeypatch.setitem(each.extensions, directory_version.KEY, dead_version)
        monkeypatch.setitem(each.extensions, "hold_store", RedisHoldStore(dead))
    other = ApiClient(other_app.test_client())
    path = week["paths"][0]
    assert len(envelope(other.get(path))["data"]) == 6
    assert query_count(other_app, lambda: other.get(path)) > 0
    assert api.delete(f"/slots/{week['slots'][0]}", token=doctor.token).status_code == 200
    again = other.get(path)
    assert again.status_code == 200 and len(envelope(again)["data"]) == 5


@pytest.mark.laptop
def test_in_one_process_without_redis_a_booking_is_in_the_next_read(app, api, week):
    [patient] = patients(app, 1)
    path = week["paths"][0]
    api.get(path)
    assert query_count(app, lambda: api.get(path)) == 0
    _book(api, patient, week["slots"][0])
    assert envelope(api.get(path))["data"][0]["status"] == "booked"
