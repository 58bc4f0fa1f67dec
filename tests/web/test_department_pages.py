"""The doctor's department page, and the patient page reached from every appointment row (the dashboard's
visits and the availability calendar's booked slots)."""
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Doctor
from portal.services import clinic_time
from tests.fixtures import clinic
from tests.web.record_pages import is_patient_page, patient_of, record


def join_department(app, doctor_id, department_id):
    with app.app_context():
        db.session.get(Doctor, doctor_id).department_id = department_id
        db.session.commit()


def test_a_doctor_sees_colleagues_and_the_departments_records(app, web_as, factories):
    client, me = web_as("doctor", full_name="Dr Dora Dept")
    colleague = factories.user("doctor", full_name="Dr Carl Colleague")
    outsider = factories.user("doctor", full_name="Dr Otto Outside")
    with app.app_context():
        heart, other = clinic.department("Heart Centre").id, clinic.department("Skin Clinic").id
    join_department(app, me.doctor_id, heart)
    join_department(app, colleague.doctor_id, heart)
    join_department(app, outsider.doctor_id, other)
    mine = patient_of(app, me.id, "Hanna Heart")
    record(app, mine, me.doctor_id, "Arrhythmia", department_id=heart)
    record(app, patient_of(app, outsider.id, "Sam Skin"), outsider.doctor_id, "Eczema", department_id=other)
    response = client.get("/department")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    assert "<h1>Heart Centre</h1>" in html and "Dr Carl Colleague" in html and "Dr Otto Outside" not in html
    assert "Hanna Heart" in html and "Arrhythmia" in html and "Eczema" not in html
    assert f'href="/patients/{mine}#record-' in html


def test_a_doctor_without_a_department_is_told_so(web_as):
    client, _me = web_as("doctor")
    assert "Your profile has no department yet." in client.get("/department").get_data(as_text=True)


def test_the_patient_page_opens_from_the_dashboard_and_the_calendar(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        patient = clinic.patient(full_name="Vera Visit")
        starts = clinic_time.local_instant(clinic_time.today() + timedelta(days=1), time(10))
        slot = clinic.slot(me.doctor_id, starts)
        clinic.appointment(patient.id, slot)
        patient_id, slot_id = patient.id, slot.id
        week = clinic_time.week_of(clinic_time.to_local(starts).date()).monday
    assert f'href="/patients/{patient_id}">Patient page' in client.get("/dashboard").get_data(as_text=True)
    calendar = client.get(f"/doctor/availability?week={week.isoformat()}").get_data(as_text=True)
    assert f'href="/patients/in-slot/{slot_id}">Open the patient' in calendar
    response = client.get(f"/patients/in-slot/{slot_id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/patients/{patient_id}"
    assert "Vera Visit" in client.get(response.headers["Location"]).get_data(as_text=True)
    other, _o = web_as("doctor")
    assert other.get(f"/patients/in-slot/{slot_id}").status_code == 404
