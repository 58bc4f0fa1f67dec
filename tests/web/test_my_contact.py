"""A patient keeps the contact details on their own patient record current from "My records": the four
contact fields only, with the rules of PATCH /patients/{id}, every problem next to its field, as a page
post and as the form's own htmx swap."""
from portal.extensions import db
from portal.models import Patient
from tests.web.record_pages import is_patient_page


def _profile(app, patient_id: int) -> tuple:
    with app.app_context():
        row = db.session.get(Patient, patient_id)
        return row.full_name, row.phone, row.email, row.address, row.city


def test_a_patient_saves_their_contact_details_and_nothing_else(app, web_as):
    client, me = web_as("patient", full_name="Carla Contact")
    page = client.get("/my/records")
    html = page.get_data(as_text=True)
    assert is_patient_page(page) and "Contact details on your patient record" in html
    assert 'id="patient-contact"' in html and 'name="csrf_token"' in html
    changes = {"phone": "+49 30 1234567", "email": "carla@example.org", "address": "Hauptstraße 5",
               "city": "Berlin", "full_name": "Someone Else"}
    response = client.post("/my/contact", changes, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your contact details are saved on your patient record." in html
    assert 'value="Hauptstraße 5"' in html and 'value="carla@example.org"' in html
    assert _profile(app, me.patient_id) == ("Carla Contact", "+49 30 1234567", "carla@example.org",
                                            "Hauptstraße 5", "Berlin")


def test_every_problem_is_shown_next_to_its_field_and_nothing_is_saved(app, web_as):
    client, me = web_as("patient")
    before = _profile(app, me.patient_id)
    client.get("/my/records")
    bad = {"phone": "1" * 41, "email": "not an address", "address": "Lindenweg 1", "city": "C" * 121}
    response = client.post("/my/contact", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    for name in ("phone", "email", "city"):
        assert f'id="{name}-errors"' in html, name
    assert 'id="address-errors"' not in html and 'value="Lindenweg 1"' in html
    assert _profile(app, me.patient_id) == before


def test_the_form_swaps_itself_under_htmx(app, web_as):
    client, me = web_as("patient")
    client.get("/my/records")
    refused = client.post("/my/contact", {"email": "nope"}, htmx_target="patient-contact")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<html" not in html and 'id="email-errors"' in html
    saved = client.post("/my/contact", {"city": "Hamburg"}, htmx_target="patient-contact")
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "<html" not in html and html.lstrip().startswith('<form id="patient-contact"')
    assert "Your contact details are saved" in html and 'value="Hamburg"' in html
    assert "HX-Target" in saved.headers["Vary"] and _profile(app, me.patient_id)[4] == "Hamburg"


def test_staff_have_no_own_contact_form(app, web_as):
    for role in ("doctor", "admin"):
        client, _me = web_as(role)
        client.get("/profile")
        assert client.post("/my/contact", {"city": "Nowhere"}).status_code == 403, role
