"""Medical records in the portal: filing one, editing with the history kept and shown as a readable diff,
a stale edit showing both texts, archiving, and a foreign record being 404."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import MedicalRecord, MedicalRecordVersion
from tests.web.record_pages import is_patient_page, patient_of, record, record_row


def test_filing_a_record_puts_it_on_the_timeline(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    assert client.get(f"/patients/{patient_id}/records/new").status_code == 200
    response = client.post(f"/patients/{patient_id}/records",
                           {"diagnostics": "Acute bronchitis", "treatments": "Rest, fluids"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The record is filed." in html and "Acute bronchitis" in html and "Rest, fluids" in html
    with app.app_context():
        row = db.session.scalar(select(MedicalRecord))
        assert (row.patient_id, row.diagnostics, row.version) == (patient_id, "Acute bronchitis", 1)


def test_missing_diagnostics_are_said_next_to_the_field_keeping_the_other_texts(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    client.get(f"/patients/{patient_id}/records/new")
    response = client.post(f"/patients/{patient_id}/records", {"diagnostics": "", "observations": "Cough for 3 days"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="diagnostics-errors"' in html and "Fill this in." in html
    assert "Cough for 3 days</textarea>" in html
    with app.app_context():
        assert db.session.scalar(select(MedicalRecord.id)) is None


def test_one_submit_shows_every_problem_of_the_record_form(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    record_id = record(app, patient_id, me.doctor_id, "Mild asthma")
    client.get(f"/patients/{patient_id}/records/new")
    future = {"diagnostics": "", "recorded_at": "2999-01-01T09:00"}
    for response in (client.post(f"/patients/{patient_id}/records", future),
                     client.post(f"/records/{record_id}", {**future, "version": "1"})):
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and 'id="diagnostics-errors"' in html and "Fill this in." in html
        assert 'id="recorded_at-errors"' in html and "A record cannot be dated in the future." in html
    assert record_row(app, record_id).diagnostics == "Mild asthma"


def test_an_edit_keeps_the_earlier_version_and_the_history_shows_what_changed(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    record_id = record(app, patient_id, me.doctor_id, "Mild asthma, seasonal")
    page = client.get(f"/records/{record_id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page and "\r\nMild asthma, seasonal</textarea>" in page
    response = client.post(f"/records/{record_id}", {"diagnostics": "Moderate asthma, seasonal", "version": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(MedicalRecord, record_id).version == 2
        assert db.session.scalar(select(MedicalRecordVersion.diagnostics)) == "Mild asthma, seasonal"
    history = client.get(f"/records/{record_id}/history")
    html = history.get_data(as_text=True)
    assert history.status_code == 200 and is_patient_page(history)
    assert "<del><span class=\"visually-hidden\">removed: </span>Mild</del>" in html
    assert "<ins><span class=\"visually-hidden\">added: </span>Moderate</ins>" in html
    assert "Version 1" in html and "Version 2" in html


def test_a_stale_edit_shows_both_texts_and_loses_nothing(app, web_as, factories):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    record_id = record(app, patient_id, me.doctor_id, "First text")
    client.get(f"/records/{record_id}/edit")
    colleague, _c = web_as("admin")
    colleague.get(f"/records/{record_id}/edit")
    saved = colleague.post(f"/records/{record_id}", {"diagnostics": "Colleague's text", "version": "1"})
    assert saved.status_code == 302
    response = client.post(f"/records/{record_id}", {"diagnostics": "My text", "version": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'class="current-text">Colleague&#39;s text</dd>' in html and "My text</textarea>" in html
    assert 'name="version" type="hidden" value="2"' in html
    assert record_row(app, record_id).diagnostics == "Colleague's text"
    assert client.post(f"/records/{record_id}", {"diagnostics": "Merged text", "version": "2"}).status_code == 302
    assert record_row(app, record_id).version == 3


def test_archiving_takes_the_record_off_the_timeline_and_keeps_it(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    record_id = record(app, patient_id, me.doctor_id, "To be archived")
    assert "Nothing is deleted" in client.get(f"/records/{record_id}/archive").get_data(as_text=True)
    response = client.post(f"/records/{record_id}/archive", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The record is archived." in html and "To be archived" not in html
    assert record_row(app, record_id).archived_at is not None
    assert client.get(f"/records/{record_id}/edit").status_code == 404


def test_a_foreign_record_is_404_and_unchanged(app, web_as, factories):
    client, _me = web_as("doctor")
    other = factories.user("doctor")
    record_id = record(app, patient_of(app, other.id), other.doctor_id, "Private")
    for url in (f"/records/{record_id}/edit", f"/records/{record_id}/history", f"/records/{record_id}/archive"):
        assert client.get(url).status_code == 404, url
    client.get("/patients")
    assert client.post(f"/records/{record_id}", {"diagnostics": "Changed", "version": "1"}).status_code == 404
    assert client.post(f"/records/{record_id}/archive").status_code == 404
    row = record_row(app, record_id)
    assert (row.diagnostics, row.archived_at) == ("Private", None)
