"""Reading the audit trail: a patient's access log, the admins' filtered and sorted log, the streamed CSV."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import AuditEvent
from tests.api.clinic_api import caller, steady_query_count
from tests.api.images import png_bytes
from tests.api.records_helpers import assign, upload
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _event(app, actor_id, patient_id, minutes: int, action="read", object_type="medical_record", object_id=1,
           emergency=False, ip="10.0.0.1", request_id="req"):
    with app.app_context():
        db.session.add(AuditEvent(actor_id=actor_id, patient_id=patient_id, at=T0 + timedelta(minutes=minutes),
                                  action=action, object_type=object_type, object_id=object_id,
                                  emergency=emergency, ip=ip, request_id=request_id))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def doctor(app, factories):
    return caller(app, factories.user(role="doctor", full_name="Dr Reader"))


@pytest.fixture
def erin(app, factories):
    return caller(app, factories.user(full_name="Erin Patient"))


@pytest.fixture
def trail(app, erin, doctor, admin):
    """Three events about Erin (a doctor's read, an emergency read, Erin's own) and one about someone else."""
    _event(app, doctor.user_id, erin.patient_id, 1, object_id=11)
    _event(app, doctor.user_id, erin.patient_id, 2, object_type="patient_image", object_id=12, emergency=True)
    _event(app, erin.user_id, erin.patient_id, 3, action="update", object_type="patient", object_id=erin.patient_id)
    _event(app, doctor.user_id, None, 4, action="create", object_type="appointment", object_id=14)
    return erin


def test_a_patient_reads_who_looked_at_their_data(api, trail, doctor):
    body = envelope(api.get(f"/patients/{trail.patient_id}/access-log", token=trail.token))
    assert body["meta"]["total"] == 3
    assert [(e["object_id"], e["emergency"]) for e in body["data"]] == [(trail.patient_id, False), (12, True),
                                                                         (11, False)]
    first = body["data"][2]
    assert first["actor"]["id"] == doctor.user_id and first["actor"]["role"] == "doctor"
    assert first["actor"]["full_name"] == "Dr Reader" and first["action"] == "read"
    assert set(first) == {"at", "actor", "action", "object_type", "object_id", "emergency"}
    page = envelope(api.get(f"/patients/{trail.patient_id}/access-log?per_page=1&page=2", token=trail.token))
    assert [e["object_id"] for e in page["data"]] == [12]


def test_the_access_log_is_for_the_patient_and_admins(api, app, factories, trail, doctor, admin):
    assign(app, trail.patient_id, doctor.doctor_id)
    assert envelope(api.get(f"/patients/{trail.patient_id}/access-log", token=admin.token))["meta"]["total"] == 3
    error_of(api.get(f"/patients/{trail.patient_id}/access-log", token=doctor.token), 403, "forbidden")
    other = caller(app, factories.user())
    error_of(api.get(f"/patients/{trail.patient_id}/access-log", token=other.token), 404, "not_found")
    error_of(api.get("/patients/999999/access-log", token=admin.token), 404, "not_found")
    error_of(api.get(f"/patients/{trail.patient_id}/access-log"), 401, "unauthenticated")


def test_a_real_read_shows_up_in_the_access_log(api, app, erin, doctor, uploads):
    assign(app, erin.patient_id, doctor.doctor_id)
    image = envelope(upload(api, erin.token, erin.patient_id, png_bytes()))["data"][0]
    api.get(f"/images/{image['id']}", token=doctor.token)
    latest = envelope(api.get(f"/patients/{erin.patient_id}/access-log", token=erin.token))["data"][0]
    assert (latest["actor"]["id"], latest["action"], latest["object_type"], latest["object_id"]) == (
        doctor.user_id, "read", "patient_image", image["id"])


def test_the_admin_log_filters_by_action_and_emergency(api, trail, admin):
    only = envelope(api.get("/admin/audit?emergency=true", token=admin.token))["data"]
    assert [(e["object_id"], e["emergency"]) for e in only] == [(12, True)]
    assert only[0]["actor"]["role"] == "doctor" and only[0]["actor_id"] == only[0]["actor"]["id"]
    assert envelope(api.get("/admin/audit?emergency=false", token=admin.token))["meta"]["total"] == 3
    updates = envelope(api.get(f"/admin/audit?action=update&patient_id={trail.patient_id}", token=admin.token))
    assert [e["object_type"] for e in updates["data"]] == ["patient"]
    body = error_of(api.get("/admin/audit?action=peek", token=admin.token), 422, "validation_error")
    assert "action" in body["error"]["fields"]


@pytest.mark.parametrize("field", ["id", "at", "actor_id", "action", "object_type", "object_id", "patient_id",
                                   "ip", "request_id", "emergency"])
def test_the_admin_log_sorts_by_any_field(api, app, trail, admin, field):
    for row, ip in zip(range(4), ("10.0.0.9", "10.0.0.3", "10.0.0.7", "10.0.0.5"), strict=True):
        with app.app_context():
            event_row = db.session.get(AuditEvent, row + 1)
            event_row.ip, event_row.request_id = ip, f"req-{9 - row}"
            db.session.commit()
            db.session.remove()

    def key(e):
        value = e[field]
        return (value is None, value) if field != "at" else value  # an empty value sorts as the largest

    ascending = envelope(api.get(f"/admin/audit?sort={field}", token=admin.token))["data"]
    assert [key(e) for e in ascending] == sorted(key(e) for e in ascending)
    descending = envelope(api.get(f"/admin/audit?sort=-{field}", token=admin.token))["data"]
    assert [key(e) for e in descending] == sorted((key(e) for e in descending), reverse=True)
    assert {e["id"] for e in ascending} == {e["id"] for e in descending} == {1, 2, 3, 4}


def test_the_default_order_is_newest_first_and_unknown_sorts_are_422(api, trail, admin):
    assert [e["id"] for e in envelope(api.get("/admin/audit", token=admin.token))["data"]] == [4, 3, 2, 1]
    for sort in ("password", "-", "--at", "actor.full_name"):
        body = error_of(api.get(f"/admin/audit?sort={sort}", token=admin.token), 422, "validation_error")
        assert "sort" in body["error"]["fields"]


def test_the_csv_export_is_the_same_selection_with_a_header(api, trail, admin, doctor):
    response = api.get(f"/admin/audit?patient_id={trail.patient_id}&sort=at&per_page=1", token=admin.token,
                       headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["object_id"], r["emergency"], r["actor_role"]) for r in rows] == [
        ("11", "false", "doctor"), ("12", "true", "doctor"), (str(trail.patient_id), "false", "patient")]
    assert rows[0]["actor_full_name"] == "Dr Reader" and rows[0]["patient_id"] == str(trail.patient_id)
    assert rows[0]["at"].startswith("2027-03-01T09:01")


def test_the_csv_cannot_carry_formulas(api, app, erin, admin):
    _event(app, None, erin.patient_id, 1, request_id="=HYPERLINK(\"http://evil\")", ip="+1")
    text = api.get("/admin/audit", token=admin.token, headers={"Accept": "text/csv"}).get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["request_id"].startswith("'=") and row["ip"] == "'+1" and row["actor_id"] == ""


@pytest.mark.production_only("streams from a PostgreSQL server-side cursor")
def test_the_csv_streams_every_row_from_a_server_side_cursor(api, app, erin, admin):
    with app.app_context():
        db.session.execute(db.insert(AuditEvent), [
            {"actor_id": None, "patient_id": erin.patient_id, "at": T0 + timedelta(seconds=n), "action": "read",
             "object_type": "medical_record", "object_id": n} for n in range(2500)])
        db.session.commit()
        cursors = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            if "FROM audit_events" in statement:
                cursors.append(getattr(cursor, "name", None))

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            response = api.get("/admin/audit?sort=object_id", token=admin.token, headers={"Accept": "text/csv"})
            chunks = list(response.response)
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        db.session.remove()
    assert len(chunks) >= 4  # the header, then one chunk per batch of rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [int(r["object_id"]) for r in rows] == list(range(2500))
    assert cursors and all(cursors), cursors  # a named (server-side) cursor, never a fully fetched result


def test_only_admins_read_or_export_the_log(api, trail, doctor):
    for token in (doctor.token, trail.token):
        error_of(api.get("/admin/audit", token=token, headers={"Accept": "text/csv"}), 403, "forbidden")
    error_of(api.get("/admin/audit", headers={"Accept": "text/csv"}), 401, "unauthenticated")


def test_reading_the_log_costs_the_same_whatever_its_length(api, app, trail, admin):
    small = steady_query_count(app, lambda: api.get("/admin/audit", token=admin.token))
    log = steady_query_count(app, lambda: api.get(f"/patients/{trail.patient_id}/access-log", token=trail.token))
    for n in range(30):
        _event(app, trail.user_id, trail.patient_id, 10 + n)
    assert steady_query_count(app, lambda: api.get("/admin/audit", token=admin.token)) == small
    log_again = steady_query_count(app, lambda: api.get(f"/patients/{trail.patient_id}/access-log", token=trail.token))
    assert log_again == log
