"""The admin's booking-rules page: the clinic-wide values from the environment (read-only), and each doctor's
overrides saved one row at a time, with the problems next to the fields."""
from portal.extensions import db
from portal.models import Doctor
from tests.fixtures import clinic


def _doctor(app, **fields) -> int:
    with app.app_context():
        return clinic.doctor(full_name="Dr Override", **fields).id


def _overrides(app, doctor_id):
    with app.app_context():
        doctor = db.session.get(Doctor, doctor_id)
        return doctor.min_notice_minutes, doctor.horizon_days, doctor.change_cutoff_hours


def test_the_page_shows_the_clinic_values_as_read_only_and_each_doctor(app, web_as, rules_on):
    rules_on(NO_SHOW_LIMIT=3)
    client, _ = web_as("admin")
    doctor_id = _doctor(app, horizon_days=30)
    html = client.get("/admin/booking-rules").get_data(as_text=True)
    assert "read-only here" in html and "BOOKING_MIN_NOTICE_MINUTES" in html and "<strong>120</strong>" in html
    assert "<strong>3</strong>" in html and "+49 30 5550 1000" in html
    assert "Dr Override" in html and f'name="d{doctor_id}-horizon_days"' in html and 'value="30"' in html
    assert "/admin/booking-rules" in client.get("/dashboard").get_data(as_text=True)


def test_a_row_saves_its_overrides_and_empty_means_the_clinics(app, web_as):
    client, _ = web_as("admin")
    doctor_id = _doctor(app, horizon_days=30)
    client.get("/admin/booking-rules")
    prefix = f"d{doctor_id}-"
    answer = client.post(f"/admin/booking-rules/doctors/{doctor_id}", {
        prefix + "min_notice_minutes": "45", prefix + "horizon_days": "", prefix + "change_cutoff_hours": "6"},
        htmx_target=f"rules-{doctor_id}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith("<tr") and "Saved." in html
    assert _overrides(app, doctor_id) == (45, None, 6)


def test_bad_values_are_said_next_to_their_fields_and_nothing_changes(app, web_as):
    client, _ = web_as("admin")
    doctor_id = _doctor(app, min_notice_minutes=10)
    client.get("/admin/booking-rules")
    prefix = f"d{doctor_id}-"
    answer = client.post(f"/admin/booking-rules/doctors/{doctor_id}", {
        prefix + "min_notice_minutes": "soon", prefix + "horizon_days": "-2", prefix + "change_cutoff_hours": ""},
        htmx_target=f"rules-{doctor_id}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Give a whole number" in html and 'aria-invalid="true"' in html
    assert "from 0 to 730" in html  # every problem at once
    assert 'value="soon"' in html  # what was typed stays
    assert _overrides(app, doctor_id) == (10, None, None)
    again = client.post(f"/admin/booking-rules/doctors/{doctor_id}", {
        prefix + "min_notice_minutes": "5", prefix + "horizon_days": "-2", prefix + "change_cutoff_hours": ""},
        htmx_target=f"rules-{doctor_id}")
    assert again.status_code == 422 and "from 0 to 730" in again.get_data(as_text=True)
    assert _overrides(app, doctor_id) == (10, None, None)


def test_without_javascript_the_form_comes_back_to_the_page(app, web_as):
    client, _ = web_as("admin")
    doctor_id = _doctor(app)
    client.get("/admin/booking-rules")
    answer = client.post(f"/admin/booking-rules/doctors/{doctor_id}", {f"d{doctor_id}-horizon_days": "14"},
                         follow_redirects=True)
    assert "booking rules saved" in answer.get_data(as_text=True)
    assert _overrides(app, doctor_id) == (None, 14, None)


def test_only_admins_open_it(web_as):
    for role in ("doctor", "patient"):
        client, _ = web_as(role)
        assert client.get("/admin/booking-rules").status_code == 403
