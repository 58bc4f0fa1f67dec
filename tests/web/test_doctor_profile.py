"""Doctor profiles, what patients read about a doctor: a doctor keeps their own (who may, an unlinked account),
an admin adds and edits any, and links the account the doctor signs in with."""
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Department, Doctor
from tests.fixtures import clinic


def departments(app, *names) -> list[int]:
    with app.app_context():
        return [clinic.department(name).id for name in names]


def profile_of(app, doctor_id):
    with app.app_context():
        doctor = db.session.get(Doctor, doctor_id)
        return {"speciality": doctor.speciality, "department_id": doctor.department_id, "fees": doctor.fees,
                "email": doctor.email, "phone": doctor.phone, "description": doctor.description}


def account_of(app, doctor_id):
    with app.app_context():
        return db.session.get(Doctor, doctor_id).user_id


def admin_on(web_as, url):
    admin, _me = web_as("admin")
    admin.get(url)
    return admin


def signed_in_doctor(web_as):
    client, me = web_as("doctor", full_name="Dr Mira Stone")
    client.get("/doctor/profile")
    return client, me


CHANGES = {"speciality": "Cardiology", "fees": "85", "email": "mira@clinic.example.org", "phone": "+43 1 555",
           "description": "Hearts, gently."}


def test_a_doctor_sees_their_profile_and_a_link_to_it_in_the_nav(web_as, app):
    (heart,) = departments(app, "Heart Centre")
    client, me = web_as("doctor", full_name="Dr Mira Stone")
    with app.app_context():
        db.session.get(Doctor, me.doctor_id).department_id = heart
        db.session.commit()
    html = client.get("/doctor/profile").get_data(as_text=True)
    assert '<a href="/doctor/profile" aria-current="page">My doctor profile</a>' in html
    assert "<h2 id=\"directory-title\">Dr Mira Stone</h2>" in html
    assert 'value="General practice"' in html and f'<option selected value="{heart}">Heart Centre</option>' in html
    assert "Choose a department" not in html  # a profile with a department cannot go back to none
    assert f'href="/doctors/{me.doctor_id}"' in html


def test_saving_swaps_the_form_with_a_message_and_patients_see_the_change(web_as, web, app):
    (heart,) = departments(app, "Heart Centre")
    client, me = signed_in_doctor(web_as)
    response = client.post("/doctor/profile", {**CHANGES, "department_id": heart}, htmx_target="doctor-profile-form")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<form id="doctor-profile-form"')
    assert "Your doctor profile is saved." in html and 'value="85.00"' in html
    assert profile_of(app, me.doctor_id) == {"speciality": "Cardiology", "department_id": heart, "fees": 85,
                                             "email": "mira@clinic.example.org", "phone": "+43 1 555",
                                             "description": "Hearts, gently."}
    public = web.get(f"/doctors/{me.doctor_id}").get_data(as_text=True)
    assert "Fee per visit: 85.00" in public and "Hearts, gently." in public


def test_without_javascript_saving_comes_back_with_a_message(web_as, app):
    client, me = signed_in_doctor(web_as)
    response = client.post("/doctor/profile", {"speciality": "Dermatology", "department_id": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/doctor/profile"
    html = client.get("/doctor/profile").get_data(as_text=True)
    assert "Your doctor profile is saved." in html and 'value="Dermatology"' in html
    assert profile_of(app, me.doctor_id)["department_id"] is None  # no department chosen: it stays as it was


def test_problems_are_shown_next_to_the_field_and_the_form_keeps_what_was_typed(web_as, app):
    client, me = signed_in_doctor(web_as)
    for target in ("doctor-profile-form", None):
        response = client.post("/doctor/profile", {**CHANGES, "fees": "-3"}, htmx_target=target)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(r'id="fees-errors">\s*<li>Give an amount from 0 to 99999999.99.</li>', html)
        assert 'value="-3"' in html and 'value="+43 1 555"' in html and "Hearts, gently.</textarea>" in html
    html = client.post("/doctor/profile", {**CHANGES, "speciality": " "},
                       htmx_target="doctor-profile-form").get_data(as_text=True)
    assert re.search(r'id="speciality-errors">\s*<li>Fill this in.</li>', html)
    html = client.post("/doctor/profile", {**CHANGES, "email": "not an address"},
                       htmx_target="doctor-profile-form").get_data(as_text=True)
    assert 'id="email-errors"' in html and 'value="not an address"' in html
    assert profile_of(app, me.doctor_id)["speciality"] == "General practice"


def test_a_doctor_changes_only_their_own_profile(web_as, app):
    client, me = signed_in_doctor(web_as)
    _other_client, other = web_as("doctor")
    client.post("/doctor/profile", {**CHANGES, "department_id": ""})
    assert profile_of(app, me.doctor_id)["speciality"] == "Cardiology"
    assert profile_of(app, other.doctor_id)["speciality"] == "General practice"


def test_a_doctor_account_without_a_profile_is_told_an_administrator_links_it(web_as, app):
    client, me = web_as("doctor")
    with app.app_context():
        db.session.get(Doctor, me.doctor_id).user_id = None
        db.session.commit()
    html = client.get("/doctor/profile").get_data(as_text=True)
    assert "Your account is not linked to a doctor profile yet" in html
    assert "An administrator links your profile to your account" in html
    assert '<form id="doctor-profile-form"' not in html
    assert client.post("/doctor/profile", CHANGES).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Doctor.speciality).where(Doctor.id == me.doctor_id)) == "General practice"


def test_only_doctors_open_the_page(web_as, web):
    for role in ("patient", "admin"):
        client, _user = web_as(role)
        assert client.get("/doctor/profile").status_code == 403
        assert client.post("/doctor/profile", CHANGES).status_code == 403
        assert "My doctor profile" not in client.get("/dashboard").get_data(as_text=True)
    assert web.get("/doctor/profile").headers["Location"] == "/login?next=/doctor/profile"


def test_saving_needs_the_csrf_token(web_as, app):
    client, me = signed_in_doctor(web_as)
    assert client.client.post("/doctor/profile", data=CHANGES).status_code == 400
    headers = {"HX-Request": "true", "HX-Target": "doctor-profile-form"}
    assert client.client.post("/doctor/profile", data=CHANGES, headers=headers).status_code == 400
    assert profile_of(app, me.doctor_id)["speciality"] == "General practice"


def test_an_archived_department_is_not_offered(web_as, app):
    heart, closed = departments(app, "Heart Centre", "Closed Wing")
    with app.app_context():
        db.session.get(Department, closed).archived_at = clinic.soon(-1)
        db.session.commit()
    client, _me = signed_in_doctor(web_as)
    html = client.get("/doctor/profile").get_data(as_text=True)
    assert f'<option value="{heart}">Heart Centre</option>' in html and "Closed Wing" not in html
    response = client.post("/doctor/profile", {**CHANGES, "department_id": closed}, htmx_target="doctor-profile-form")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


# An admin's doctor form ------------------------------------------------------------------------------------

DOCTOR = {"full_name": "Dr Nina Novak", "speciality": "Neurology", "gender": "female", "fees": "95.5",
          "email": "Nina@Example.org", "phone": "+43 1 234", "description": "Headaches and sleep."}


def test_an_admin_adds_a_doctor_who_appears_in_the_public_directory(web_as, web, app):
    department_id = departments(app, "Brain Centre")[0]
    admin = admin_on(web_as, "/admin/doctors/new")
    form = admin.get("/admin/doctors/new").get_data(as_text=True)
    assert "<h1>Add a doctor</h1>" in form and f'<option value="{department_id}">Brain Centre</option>' in form
    response = admin.post("/admin/doctors", {**DOCTOR, "department_id": department_id})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/doctors?q=Dr+Nina+Novak"
    listing = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dr Nina Novak is added to the directory." in listing and "95.50" in listing
    assert "Nina@example.org" in listing  # the address as the directory service normalised it

    public = web.get("/doctors").get_data(as_text=True)
    assert "Dr Nina Novak" in public and "Neurology · Brain Centre" in public


def test_a_doctor_form_with_problems_shows_them_next_to_the_fields_and_keeps_what_was_typed(web_as, app):
    department_id = departments(app, "Brain Centre")[0]
    admin = admin_on(web_as, "/admin/doctors/new")
    response = admin.post("/admin/doctors", {**DOCTOR, "fees": "lots", "department_id": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="department_id-errors"' in html and "Pick a department." in html
    assert 'value="Dr Nina Novak"' in html and "Headaches and sleep.</textarea>" in html

    response = admin.post("/admin/doctors", {**DOCTOR, "fees": "lots", "department_id": department_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="fees-errors">\s*<li>Give an amount such as 80.00.</li>', html)
    assert 'value="lots"' in html and f'<option selected value="{department_id}">' in html
    with app.app_context():
        assert db.session.scalar(select(Doctor.id)) is None


def test_an_admin_links_a_doctor_account_and_bad_accounts_are_explained_next_to_the_field(web_as, factories, app):
    department_id = departments(app, "Brain Centre")[0]
    unlinked = factories.user(role="doctor", username="drnina")
    linked = factories.user(role="doctor", username="drtaken")
    patient = factories.user(role="patient", username="pat")
    with app.app_context():
        db.session.get(Doctor, unlinked.doctor_id).user_id = None
        db.session.commit()
    admin = admin_on(web_as, "/admin/doctors/new")
    for account, problem in (("nobody", "No account has that username or email."),
                             (patient.username, "Link a doctor account."),
                             (linked.email, "That account already has a doctor profile.")):
        response = admin.post("/admin/doctors", {**DOCTOR, "department_id": department_id, "account": account})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and re.search(rf'id="account-errors">\s*<li>{problem}</li>', html), account
        assert f'value="{account}"' in html

    assert admin.post("/admin/doctors", {**DOCTOR, "department_id": department_id,
                                         "account": "drnina"}).status_code == 302
    with app.app_context():
        doctor_id = db.session.scalar(select(Doctor.id).where(Doctor.full_name == "Dr Nina Novak"))
    assert account_of(app, doctor_id) == unlinked.id
    assert 'value="drnina"' in admin.get(f"/admin/doctors/{doctor_id}/edit").get_data(as_text=True)

    response = admin.post(f"/admin/doctors/{doctor_id}", {**DOCTOR, "department_id": department_id, "account": ""})
    assert response.status_code == 302 and account_of(app, doctor_id) is None  # emptied: unlinked


def test_editing_a_doctor_shows_the_profile_and_saves_the_changes(web_as, app):
    with app.app_context():
        doctor_id = clinic.doctor(clinic.department("Heart Centre"), full_name="Dr Adam Baker", speciality="Cardiology",
                                  fees=80, description="Hearts.").id
    admin = admin_on(web_as, "/admin/doctors")
    page = admin.get(f"/admin/doctors/{doctor_id}/edit").get_data(as_text=True)
    assert "<h1>Edit Dr Adam Baker</h1>" in page and 'value="80.00"' in page and "Hearts.</textarea>" in page
    assert f'href="/doctors/{doctor_id}"' in page and f'href="/doctor/availability?doctor_id={doctor_id}"' in page
    with app.app_context():
        department_id = db.session.get(Doctor, doctor_id).department_id
    changes = {"full_name": "Dr Adam Baker-Smith", "department_id": department_id, "speciality": "Cardiology",
               "fees": "90"}
    response = admin.post(f"/admin/doctors/{doctor_id}", changes)
    assert response.status_code == 302
    listing = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The profile of Dr Adam Baker-Smith is saved." in listing
    assert profile_of(app, doctor_id)["fees"] == 90
    assert "Dr Adam Baker-Smith" in listing

    response = admin.post(f"/admin/doctors/{doctor_id}", {"full_name": "", "speciality": "Cardiology",
                                                          "department_id": department_id})
    assert response.status_code == 422 and re.search(r'id="full_name-errors">\s*<li>Fill this in.</li>',
                                                     response.get_data(as_text=True))
