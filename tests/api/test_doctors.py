"""/doctors: search with next free slot, public details with free slots, profile upkeep by admins and doctors."""
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest

from portal.extensions import db
from portal.models import Slot
from tests.api.clinic_api import caller, iso, keep_booking_rules, patients, query_count
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

SOON = clinic.soon(30).replace(minute=0)


@pytest.fixture
def heart(ctx):
    return clinic.department("Heart centre")


def test_search_lists_doctors_by_name_with_department_and_next_free_slot(api, ctx, heart):
    ada = clinic.doctor(heart, "Cardiology", full_name="Ada Heart", gender="female", fees=Decimal("95.5"))
    bob = clinic.doctor(None, "Neurology", full_name="bob Brain")
    booked, free = clinic.future_slots(ada.id, 2, SOON)
    clinic.appointment(clinic.patient().id, booked)
    body = envelope(api.get("/doctors"))
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 2}
    assert body["data"] == [
        {"id": ada.id, "full_name": "Ada Heart", "speciality": "Cardiology", "gender": "female", "fees": "95.50",
         "department": {"id": heart.id, "name": "Heart centre"}, "next_free_slot": iso(free.starts_at)},
        {"id": bob.id, "full_name": "bob Brain", "speciality": "Neurology", "gender": None, "fees": None,
         "department": None, "next_free_slot": None},
    ]


def test_search_filters_combine(api, ctx, heart):
    ada = clinic.doctor(heart, "Cardiology", full_name="Ada Heart")
    clinic.doctor(heart, "Neurology", full_name="Adam Nerve")
    clinic.doctor(None, "Cardiology", full_name="Carl Heart")
    gone = clinic.doctor(heart, "Cardiology", full_name="Ada Gone")
    gone.archived_at = clinic.soon(-1)
    db.session.commit()

    def names(query: str) -> list[str]:
        return [d["full_name"] for d in envelope(api.get(f"/doctors?{query}"))["data"]]

    assert names("speciality=CARDIOLOGY") == ["Ada Heart", "Carl Heart"]
    assert names(f"department_id={heart.id}") == ["Ada Heart", "Adam Nerve"]
    assert names("q=ada") == ["Ada Heart", "Adam Nerve"]
    assert names(f"q=heart&speciality=cardiology&department_id={heart.id}") == ["Ada Heart"]
    assert names("q=%25") == []
    assert names("colour=blue") == ["Ada Heart", "Adam Nerve", "Carl Heart"]  # unknown parameters are ignored
    assert ada.id in [d["id"] for d in envelope(api.get("/doctors?speciality=Cardiology"))["data"]]


def test_search_by_availability_keeps_those_free_in_the_window(api, ctx):
    soon = clinic.doctor(full_name="A Soon")
    later = clinic.doctor(full_name="B Later")
    clinic.doctor(full_name="C Never")
    clinic.slot(soon.id, SOON)
    far = clinic.slot(later.id, SOON + timedelta(days=20))
    start, end = quote(iso(SOON + timedelta(days=10))), quote(iso(SOON + timedelta(days=30)))
    window = f"available_from={start}&available_to={end}"
    body = envelope(api.get(f"/doctors?{window}"))
    assert [(d["full_name"], d["next_free_slot"]) for d in body["data"]] == [("B Later", iso(far.starts_at))]
    assert [d["full_name"] for d in envelope(api.get("/doctors?available_from=" + quote(iso(SOON))))["data"]] == [
        "A Soon"]  # to defaults to 14 days on


def test_search_pages(api, ctx):
    for n in range(5):
        clinic.doctor(full_name=f"Doctor {n}")
    body = envelope(api.get("/doctors?per_page=2&page=3"))
    assert body["meta"] == {"page": 3, "per_page": 2, "total": 5}
    assert [d["full_name"] for d in body["data"]] == ["Doctor 4"]


@pytest.mark.parametrize("query, field", [
    ("per_page=101", "per_page"), ("page=0", "page"), ("department_id=abc", "department_id"),
    ("department_id=99999999999", "department_id"), ("available_from=tomorrow", "available_from"),
    ("available_from=2030-01-05&available_to=2030-01-01", "available_to"),
])
def test_bad_search_parameters_are_422(api, query, field):
    body = error_of(api.get(f"/doctors?{query}"), 422, "validation_error")
    assert field in body["error"]["fields"]


def test_search_runs_the_same_queries_for_2_or_20_doctors(app, api, ctx):
    def seed(count: int, speciality: str) -> None:
        for n in range(count):
            doctor = clinic.doctor(clinic.department(), speciality)
            clinic.slot(doctor.id, SOON + timedelta(minutes=n))

    seed(2, "Few")
    seed(20, "Many")
    keep_booking_rules(api)
    few = query_count(app, lambda: api.get("/doctors?speciality=Few&per_page=50"))
    many = query_count(app, lambda: api.get("/doctors?speciality=Many&per_page=50"))
    assert all(d["next_free_slot"] for d in envelope(api.get("/doctors?speciality=Many&per_page=50"))["data"])
    assert few == many


def test_details_show_the_profile_and_the_slots_a_patient_could_pick(app, api, ctx, heart):
    doctor = clinic.doctor(heart, "Cardiology", full_name="Ada Heart", description="Hearts.", email="ada@example.org",
                           phone="+49 30 1", dob=clinic.soon(-24 * 365 * 40).date())
    booked, held, free = clinic.future_slots(doctor.id, 3, SOON)
    far = clinic.slot(doctor.id, SOON + timedelta(days=20))
    clinic.appointment(clinic.patient().id, booked)
    holder = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": held.id}, token=holder.token).status_code == 201
    data = envelope(api.get(f"/doctors/{doctor.id}"))["data"]
    assert {key: data[key] for key in ("id", "full_name", "speciality", "description", "email", "phone")} == {
        "id": doctor.id, "full_name": "Ada Heart", "speciality": "Cardiology", "description": "Hearts.",
        "email": "ada@example.org", "phone": "+49 30 1"}
    assert "dob" not in data and "user_id" not in data
    assert data["available_slots"] == [{"id": free.id, "starts_at": iso(free.starts_at),
                                        "ends_at": iso(free.ends_at), "duration": 30}]
    wide = envelope(api.get(f"/doctors/{doctor.id}?from={quote(iso(SOON))}&to={quote(iso(SOON + timedelta(days=30)))}"))
    assert [s["id"] for s in wide["data"]["available_slots"]] == [free.id, far.id]
    assert wide["data"]["available_from"] == iso(SOON)


def test_details_window_rules(api, ctx):
    doctor = clinic.doctor()
    error_of(api.get(f"/doctors/{doctor.id}?from=2030-01-01&to=2030-06-01"), 422, "validation_error")
    error_of(api.get(f"/doctors/{doctor.id}?from=2030-01-05&to=2030-01-01"), 422, "validation_error")
    body = error_of(api.get(f"/doctors/{doctor.id}?to=soon"), 422, "validation_error")
    assert "to" in body["error"]["fields"]


def test_unknown_and_archived_doctors_are_404(api, ctx):
    gone = clinic.doctor()
    gone.archived_at = clinic.soon(-1)
    db.session.commit()
    for path in (f"/doctors/{gone.id}", "/doctors/999", "/doctors/99999999999"):
        error_of(api.get(path), 404, "not_found")


def test_an_admin_creates_a_doctor(api, ctx, admin, heart, factories):
    account = factories.user(role="doctor", approved=False)
    body = envelope(api.post("/doctors", token=admin.token, json={
        "full_name": "Dr New", "speciality": "Cardiology", "department_id": heart.id, "gender": "male",
        "dob": "1980-02-03", "fees": 70, "email": "New@Example.org", "phone": "+49 1", "user_id": account.id}))
    assert body["status"] == "created"
    data = body["data"]
    assert (data["full_name"], data["fees"], data["dob"], data["user_id"]) == ("Dr New", "70.00", "1980-02-03",
                                                                               account.id)
    assert data["department"] == {"id": heart.id, "name": "Heart centre"}
    assert envelope(api.get(f"/doctors/{data['id']}"))["data"]["speciality"] == "Cardiology"
    error_of(api.post("/doctors", token=admin.token, json={
        "full_name": "Dr Twice", "speciality": "X", "department_id": heart.id, "user_id": account.id}),
        409, "doctor_account_taken")


def test_creating_a_doctor_is_validated(api, ctx, admin, heart):
    body = error_of(api.post("/doctors", token=admin.token, json={"full_name": "Dr X"}), 400, "missing_field")
    assert {"speciality", "department_id"} <= set(body["error"]["fields"])
    good = {"full_name": "Dr X", "speciality": "Y", "department_id": heart.id}
    for change, field in (({"department_id": 999}, "department_id"), ({"fees": -1}, "fees"), ({"fees": "NaN"}, "fees"),
                          ({"fees": "1e1000"}, "fees"), ({"gender": "robot"}, "gender"), ({"dob": "2999-01-01"}, "dob"),
                          ({"email": "not an address"}, "email"), ({"user_id": admin.user_id}, "user_id"),
                          ({"full_name": " "}, "full_name"), ({"rank": 1}, "rank")):
        body = error_of(api.post("/doctors", token=admin.token, json={**good, **change}), 422, "validation_error")
        assert field in body["error"]["fields"], change


def test_doctors_change_their_own_profile_admins_any(app, api, ctx, admin, factories, heart):
    me = caller(app, factories.user(role="doctor"))
    other = caller(app, factories.user(role="doctor"))
    body = envelope(api.patch(f"/doctors/{me.doctor_id}", token=me.token, json={"fees": "60", "description": "Hi"}))
    assert body["status"] == "updated" and (body["data"]["fees"], body["data"]["description"]) == ("60.00", "Hi")
    body = envelope(api.put(f"/doctors/{me.doctor_id}", token=admin.token, json={"department_id": heart.id}))
    assert body["data"]["department"]["id"] == heart.id and body["data"]["fees"] == "60.00"
    error_of(api.patch(f"/doctors/{me.doctor_id}", token=other.token, json={"fees": 1}), 403, "forbidden")
    error_of(api.patch(f"/doctors/{me.doctor_id}", token=me.token, json={"user_id": other.user_id}), 403,
             "forbidden")
    patient = patients(app, 1)[0]
    error_of(api.patch(f"/doctors/{me.doctor_id}", token=patient.token, json={"fees": 1}), 403, "forbidden")
    error_of(api.patch(f"/doctors/{me.doctor_id}", token=me.token, json={}), 422, "validation_error")
    error_of(api.patch("/doctors/999", token=admin.token, json={"fees": 1}), 404, "not_found")
    error_of(api.patch(f"/doctors/{me.doctor_id}", json={"fees": 1}), 401, "unauthenticated")


def test_only_admins_create_and_delete_doctors(app, api, ctx, factories):
    doctor = caller(app, factories.user(role="doctor"))
    for token in (doctor.token, patients(app, 1)[0].token):
        error_of(api.post("/doctors", token=token, json={"full_name": "X", "speciality": "Y", "department_id": 1}),
                 403, "forbidden")
        error_of(api.delete(f"/doctors/{doctor.doctor_id}", token=token), 403, "forbidden")
    error_of(api.delete(f"/doctors/{doctor.doctor_id}"), 401, "unauthenticated")


def test_deleting_a_doctor_waits_for_their_upcoming_appointments(api, ctx, admin):
    doctor = clinic.doctor()
    past, upcoming, free = (clinic.slot(doctor.id, SOON - timedelta(days=5)), clinic.slot(doctor.id, SOON),
                            clinic.slot(doctor.id, SOON + timedelta(hours=2)))
    clinic.appointment(clinic.patient().id, past)
    appointment = clinic.appointment(clinic.patient().id, upcoming)
    error_of(api.delete(f"/doctors/{doctor.id}", token=admin.token), 409, "doctor_has_appointments")
    appointment.status = "cancelled"
    db.session.commit()
    body = envelope(api.delete(f"/doctors/{doctor.id}", token=admin.token))
    assert body["status"] == "deleted"
    error_of(api.get(f"/doctors/{doctor.id}"), 404, "not_found")
    db.session.expire_all()
    assert db.session.get(Slot, free.id).removed_at is not None
    error_of(api.delete(f"/doctors/{doctor.id}", token=admin.token), 404, "not_found")
