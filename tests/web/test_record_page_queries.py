"""The record pages cost the same number of queries whatever the number of rows they show."""
from portal.extensions import db
from portal.models import AuditEvent, Doctor
from tests.fixtures import clinic
from tests.web.record_pages import assign, patient_of, record


def queries(app, client, url) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get(url).status_code == 200, url
    return len(statements)


def filled(app, web_as, factories, count: int):
    """A patient with `count` records, reads in the audit log and an assignment, and their department doctor."""
    patient, me = web_as("patient")
    doctor, doc = web_as("doctor")
    admin, _a = web_as("admin")
    with app.app_context():
        department = clinic.department().id
        db.session.get(Doctor, doc.doctor_id).department_id = department
        db.session.add_all([AuditEvent(actor_id=doc.id, action="read", object_type="medical_record", object_id=n,
                                       patient_id=me.patient_id) for n in range(count)])
        db.session.commit()
    assign(app, me.patient_id, doc.doctor_id)
    for n in range(count):
        record(app, me.patient_id, doc.doctor_id, f"Finding {n}", earlier=["First"], department_id=department)
        assign(app, patient_of(app, None, f"Other {n}"), doc.doctor_id)
    return {
        "patient": [queries(app, patient, url) for url in ("/my/records", "/my/access-log", "/my/record")],
        "doctor": [queries(app, doctor, url) for url in ("/department", f"/patients/{me.patient_id}")],
        "admin": [queries(app, admin, url) for url in (
            f"/admin/audit?patient_id={me.patient_id}", "/admin/assignments", "/admin/emergency-access")],
    }


def test_pages_cost_the_same_for_1_or_12_rows(app, web_as, factories):
    assert filled(app, web_as, factories, 1) == filled(app, web_as, factories, 12)
