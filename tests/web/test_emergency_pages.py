"""Breaking the glass in the portal: the page says it is recorded, refusals sit next to the field, the
patient opens for the doctor with the access's end shown, the admins review it in their queue."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assignment, EmergencyAccess
from tests.web.record_pages import patient_of


def test_the_page_says_plainly_that_the_access_is_recorded_and_lasts_an_hour(web_as):
    client, _me = web_as("doctor")
    response = client.get("/emergency-access")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This is recorded" in html and "lasts 60 minutes" in html and "administrator reviews" in html


def test_a_short_reason_or_unknown_patient_is_said_next_to_the_field_keeping_what_was_typed(app, web_as):
    client, _me = web_as("doctor")
    patient_id = patient_of(app, None, "Unconscious Ulla")
    client.get("/emergency-access")
    response = client.post("/emergency-access", {"patient_id": patient_id, "reason": "urgent"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="reason-errors"' in html and "at least 10 characters" in html
    assert "urgent</textarea>" in html and f'value="{patient_id}"' in html
    response = client.post("/emergency-access", {"patient_id": 987654, "reason": "Brought in unconscious"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="patient_id-errors"' in html
    assert "There is no patient with this number." in html
    with app.app_context():
        assert db.session.scalar(select(EmergencyAccess.id)) is None


def test_breaking_the_glass_opens_the_patient_and_the_admin_reviews_it(app, web_as, mailbox):
    client, _me = web_as("doctor", full_name="Dr Erik Emergency")
    patient_id = patient_of(app, None, "Unconscious Ulla")
    assert client.get(f"/patients/{patient_id}").status_code == 404
    client.get("/emergency-access")
    response = client.post("/emergency-access", {"patient_id": patient_id, "reason": "Brought in unconscious"})
    assert response.status_code == 302 and response.headers["Location"] == f"/patients/{patient_id}"
    html = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Unconscious Ulla" in html and "Emergency access until" in html and "recorded" in html
    admin, _a = web_as("admin")
    queue = admin.get("/admin/emergency-access").get_data(as_text=True)
    assert "Dr Erik Emergency" in queue and "Brought in unconscious" in queue and "Unconscious Ulla" in queue
    with app.app_context():
        access_id = db.session.scalar(select(EmergencyAccess.id))
    response = admin.post(f"/admin/emergency-access/{access_id}", {"note": "Checked with the ward"},
                          follow_redirects=True)
    assert "The emergency access is marked reviewed." in response.get_data(as_text=True)
    assert "Nothing to review." in admin.get("/admin/emergency-access").get_data(as_text=True)
    reviewed = admin.get("/admin/emergency-access?reviewed=true").get_data(as_text=True)
    assert "Checked with the ward" in reviewed
    assert client.get("/admin/emergency-access").status_code == 403


def test_the_patient_page_says_once_that_the_emergency_access_is_open(app, web_as, mailbox):
    client, _me = web_as("doctor")
    patient_id = patient_of(app, None, "Once Olga")
    client.get("/emergency-access")
    response = client.post("/emergency-access", {"patient_id": patient_id, "reason": "Brought in unconscious"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Once Olga" in html
    assert html.count("Emergency access") == 1 and html.count("recorded") == 1


def test_a_review_note_too_long_stays_in_its_field_with_the_reason_under_it(app, web_as):
    doctor, _me = web_as("doctor")
    patient_id = patient_of(app, None, "Long Note Lena")
    doctor.get("/emergency-access")
    doctor.post("/emergency-access", {"patient_id": patient_id, "reason": "Brought in unconscious"})
    admin, _a = web_as("admin")
    admin.get("/admin/emergency-access")
    with app.app_context():
        access_id = db.session.scalar(select(EmergencyAccess.id))
    note = "Checked with the ward. " * 100  # over the 2,000 characters a note holds
    response = admin.post(f"/admin/emergency-access/{access_id}", {"note": note})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html[html.index(f'id="note-{access_id}"'):]
    assert field.index("Checked with the ward.") < field.index(f'id="note-{access_id}-errors"')
    assert 'aria-invalid="true"' in html and "At most 2000 characters." in field
    with app.app_context():
        assert db.session.get(EmergencyAccess, access_id).reviewed_at is None


def test_emergency_access_does_not_let_the_doctor_assign_themself(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, None, "Guarded Greta")
    client.get("/emergency-access")
    client.post("/emergency-access", {"patient_id": patient_id, "reason": "Collapsed in the waiting room"})
    client.get(f"/patients/{patient_id}")
    response = client.post(f"/patients/{patient_id}/assignments", {"doctor_id": me.doctor_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "not assign doctors" in html and 'id="doctor_id-errors"' in html
    with app.app_context():
        assert db.session.scalar(select(Assignment.id)) is None
