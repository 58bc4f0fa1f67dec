"""Doctors' and admins' patient pages: My patients (live search, create), the patient page, editing, archiving,
assigning, who may open them (a foreign patient is 404) and what they cost in queries."""
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Patient
from tests.fixtures import clinic
from tests.web.record_pages import assign, is_patient_page, patient_of, record


def test_my_patients_lists_only_the_patients_a_doctor_may_see(app, web_as, factories):
    client, me = web_as("doctor")
    other = factories.user("doctor")
    patient_of(app, me.id, "Anna Ärztin")
    assigned = patient_of(app, other.id, "Bruno Assigned")
    assign(app, assigned, me.doctor_id)
    patient_of(app, other.id, "Carl Colleague")
    response = client.get("/patients")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    assert "Anna Ärztin" in html and "Bruno Assigned" in html and "Carl Colleague" not in html
    assert "2 patients" in html


def test_the_search_filters_as_one_types_and_answers_with_the_results_only(app, web_as):
    client, me = web_as("doctor")
    patient_of(app, me.id, "Zoë Zander", phone="+49 30 1234")
    patient_of(app, me.id, "Yusuf Young")
    response = client.htmx_get("/patients?q=zoe", "patient-results")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="patient-results"')
    assert "Zoë Zander" in html and "Yusuf Young" not in html
    assert "HX-Request" in response.headers["Vary"]
    page = client.get("/patients").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms' in page and 'hx-push-url="true"' in page


def test_creating_a_patient_opens_their_page(app, web_as):
    client, me = web_as("doctor")
    client.get("/patients/new")
    response = client.post("/patients", {"full_name": "Hanna Neu", "dob": "1980-02-03", "phone": "0301111"})
    assert response.status_code == 302
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.full_name == "Hanna Neu"))
        assert patient.created_by_id == me.id and str(patient.dob) == "1980-02-03"
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Hanna Neu</h1>" in html and "1980-02-03" in html
    assert "is added to your patients" in html


def test_a_missing_name_is_said_next_to_the_field_and_the_form_keeps_what_was_typed(app, web_as):
    client, _me = web_as("doctor")
    client.get("/patients/new")
    response = client.post("/patients", {"full_name": "", "phone": "0309999", "city": "Köln"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="full_name-errors"' in html and "Fill this in." in html and 'aria-invalid="true"' in html
    assert 'value="0309999"' in html and 'value="Köln"' in html
    with app.app_context():
        assert db.session.scalar(select(Patient.id)) is None


def test_the_patient_page_shows_profile_doctors_appointments_and_records(app, web_as, factories):
    client, me = web_as("doctor", full_name="Dr Mia Meyer")
    patient_id = patient_of(app, me.id, "Ivo Ill", dob=None, city="Bonn")
    assign(app, patient_id, me.doctor_id)
    record(app, patient_id, me.doctor_id, "Sprained ankle", earlier=["Ankle pain"])
    with app.app_context():
        clinic.appointment(patient_id, clinic.slot(me.doctor_id), reason="Check the ankle")
    response = client.get(f"/patients/{patient_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    for seen in ("Ivo Ill", "Bonn", "Dr Mia Meyer", "Check the ankle", "Sprained ankle", "version 2", "History"):
        assert seen in html


def test_a_foreign_or_archived_patient_is_404(app, web_as, factories):
    client, _me = web_as("doctor")
    other = factories.user("doctor")
    foreign = patient_of(app, other.id, "Not Yours")
    for url in (f"/patients/{foreign}", f"/patients/{foreign}/edit", f"/patients/{foreign}/records/new",
                "/patients/999999", "/patients/99999999999999999999", "/records/99999999999999999999/edit"):
        assert client.get(url).status_code == 404, url
    client.get("/patients")
    assert client.post(f"/patients/{foreign}", {"full_name": "Stolen"}).status_code == 404
    assert client.post(f"/patients/{foreign}/archive").status_code == 404
    with app.app_context():
        assert db.session.get(Patient, foreign).full_name == "Not Yours"


def test_patients_may_not_open_the_staff_pages(app, web_as):
    client, me = web_as("patient")
    assert client.get("/patients").status_code == 403
    assert client.get(f"/patients/{me.patient_id}").status_code == 403


def test_editing_and_archiving_a_patient(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id, "Old Name")
    client.get(f"/patients/{patient_id}/edit")
    assert client.post(f"/patients/{patient_id}", {"full_name": "New Name", "city": "Ulm"}).status_code == 302
    assert "New Name" in client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Nothing is deleted" in client.get(f"/patients/{patient_id}/archive").get_data(as_text=True)
    response = client.post(f"/patients/{patient_id}/archive", follow_redirects=True)
    assert "New Name is archived." in response.get_data(as_text=True)
    assert client.get(f"/patients/{patient_id}").status_code == 404
    with app.app_context():
        assert db.session.get(Patient, patient_id).archived_at is not None


def test_a_doctor_assigns_a_colleague(app, web_as, factories):
    client, me = web_as("doctor")
    colleague = factories.user("doctor", full_name="Dr Colleague Cole")
    patient_id = patient_of(app, me.id)
    client.get(f"/patients/{patient_id}")
    response = client.post(f"/patients/{patient_id}/assignments", {"doctor_id": colleague.doctor_id},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The doctor is assigned." in html
    assigned = html[html.index('id="assigned-doctors"'):html.index('id="appointments"')]
    assert "Dr Colleague Cole" in assigned


def page_queries(app, client, url) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_list_and_the_patient_page_cost_the_same_queries_for_few_or_many_rows(app, web_as):
    few, few_user = web_as("doctor")
    many, many_user = web_as("doctor")
    pages = {}
    for client, user, count in ((few, few_user, 1), (many, many_user, 15)):
        patient_ids = [patient_of(app, user.id, f"Patient {n}") for n in range(count)]
        for n in range(count):
            record(app, patient_ids[0], user.doctor_id, f"Finding {n}", earlier=["First"])
        pages[count] = (page_queries(app, client, "/patients"),
                        page_queries(app, client, f"/patients/{patient_ids[0]}"))
    assert pages[1] == pages[15]


def test_a_nul_character_is_refused_next_to_the_field_not_a_server_error(app, web_as):
    client, me = web_as("doctor")
    client.get("/patients/new")
    response = client.post("/patients", {"full_name": "Nu\x00ll", "city": "Köln"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="full_name-errors"' in html and "NUL character" in html
    search = client.htmx_get("/patients?q=a%00b", "patient-results")
    assert search.status_code == 422 and "NUL character" in search.get_data(as_text=True)
    record_id = record(app, patient_of(app, me.id), me.doctor_id, "Clean")
    client.get(f"/records/{record_id}/edit")
    edit = client.post(f"/records/{record_id}", {"diagnostics": "Di\x00rty", "version": "1"})
    assert edit.status_code == 422 and 'id="diagnostics-errors"' in edit.get_data(as_text=True)


def test_the_records_timeline_pages_by_itself(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    for n in range(21):
        record(app, patient_id, me.doctor_id, f"Finding number {n:02d}", days_ago=n + 1)
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Finding number 00" in page and "Finding number 20" not in page
    assert re.search(r'<div hx-boost="true">\s*<nav class="pager"', page) and f"/patients/{patient_id}?page=2" in page
    response = client.htmx_get(f"/patients/{patient_id}?page=2", "records-timeline")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="records-timeline"')
    assert "Finding number 20" in html and "Finding number 00" not in html and "<h1>" not in html


def test_ending_ones_own_last_link_to_a_patient_goes_back_to_the_list(app, web_as, factories):
    client, me = web_as("doctor")
    creator = factories.user("doctor")
    patient_id = patient_of(app, creator.id, "Linked Once")
    assignment_id = assign(app, patient_id, me.doctor_id)
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Archive…" not in page  # only the creator or an admin may archive
    response = client.post(f"/patients/assignments/{assignment_id}/end", {"next": f"/patients/{patient_id}"})
    assert response.status_code == 302 and response.headers["Location"] == "/patients"
    assert client.get(f"/patients/{patient_id}").status_code == 404


def test_every_problem_of_a_new_patient_is_said_at_once_next_to_its_field(app, web_as):
    client, _me = web_as("doctor")
    client.get("/patients/new")
    response = client.post("/patients", {"full_name": "", "dob": "2999-01-01", "email": "not-an-email",
                                         "phone": "1" * 41, "city": "Köln"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("full_name", "dob", "email", "phone"):
        assert f'id="{name}-errors"' in html, name
    assert "cannot be in the future" in html and "at most 40 characters" in html
    assert 'value="Köln"' in html


def test_a_name_longer_than_the_profile_holds_is_refused_next_to_the_field_not_a_server_error(app, web_as):
    client, me = web_as("doctor")
    patient = patient_of(app, me.id, "Short Name")
    client.get(f"/patients/{patient}/edit")
    response = client.post(f"/patients/{patient}", {"full_name": "A" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="full_name-errors"' in html
    assert "at most 200 characters" in html
    assert client.post("/patients", {"full_name": "B" * 201}).status_code == 422
    with app.app_context():
        assert db.session.get(Patient, patient).full_name == "Short Name"


def test_a_profile_without_gender_says_not_given_like_its_other_facts(app, web_as):
    client, me = web_as("doctor")
    html = client.get(f"/patients/{patient_of(app, me.id, 'Nora Neutral')}").get_data(as_text=True)
    assert re.search(r"<dt>Gender</dt><dd>Not given</dd>", html)
    html = client.get(f"/patients/{patient_of(app, me.id, 'Fay Female', gender='female')}").get_data(as_text=True)
    assert re.search(r"<dt>Gender</dt><dd>Female</dd>", html)


def test_an_assignment_that_cannot_be_made_is_said_next_to_the_doctor_field(app, web_as):
    """On a phone the page opens at the doctors' section, far below the messages at the top."""
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id, "Ola Once")
    assign(app, patient_id, me.doctor_id)
    client.get(f"/patients/{patient_id}")
    for sent, said in (({"doctor_id": ""}, "Choose a doctor to assign."),
                       ({"doctor_id": me.doctor_id}, "already")):
        response = client.post(f"/patients/{patient_id}/assignments", sent)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "<h1>Ola Once</h1>" in html
        section = html[html.index('id="assigned-doctors"'):html.index('id="appointments"')]
        errors = re.search(r'<ul class="field-errors" id="doctor_id-errors">(.*?)</ul>', section, re.S)
        assert errors and said in errors.group(1) and 'aria-invalid="true"' in section
