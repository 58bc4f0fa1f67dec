"""The admin's clinic directory: departments, the doctor list, deleting both, who may come here and what it costs.

Adding and editing a doctor profile is in test_doctor_profile.py, next to a doctor editing their own.
"""
import re
from datetime import UTC, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import Department, Doctor
from tests.fixtures import clinic


def make_department(app, name="Heart Centre", description="", doctors=0) -> int:
    with app.app_context():
        department = clinic.department(name, description)
        for n in range(doctors):
            clinic.doctor(department, full_name=f"Dr {name} {n:02d}")
        return department.id


def make_doctor(app, full_name="Dr Adam Baker", department_name="Heart Centre", **fields) -> int:
    with app.app_context():
        department = db.session.scalar(select(Department).where(Department.name == department_name))
        return clinic.doctor(department or clinic.department(department_name), full_name=full_name, **fields).id


def doctor_row(app, doctor_id):
    with app.app_context():
        doctor = db.session.get(Doctor, doctor_id)
        return doctor.full_name, doctor.speciality, doctor.fees, doctor.user_id, doctor.archived_at


def signed_in_admin(web_as, page="/admin/departments"):
    admin, _me = web_as("admin")
    admin.get(page)
    return admin


# Who may come here --------------------------------------------------------------------------------------

def test_only_admins_may_open_the_directory_pages(web_as, web, app):
    department_id = make_department(app)
    for role in ("patient", "doctor"):
        client, _user = web_as(role)
        assert "/admin/departments" not in client.get("/dashboard").get_data(as_text=True)  # not in their nav
        for url in ("/admin/departments", "/admin/doctors", "/admin/doctors/new",
                    f"/admin/departments/{department_id}/edit"):
            response = client.get(url)
            assert response.status_code == 403 and "You may not open this page" in response.get_data(as_text=True)
        assert client.post("/admin/departments", {"name": "Sneaky"}).status_code == 403
        assert client.post(f"/admin/departments/{department_id}/delete").status_code == 403
        assert client.post("/admin/doctors", {"full_name": "Dr Sneaky", "speciality": "X"}).status_code == 403
    assert web.get("/admin/departments").headers["Location"] == "/login?next=/admin/departments"
    with app.app_context():
        assert db.session.scalar(select(Department.name).where(Department.archived_at.is_(None))) == "Heart Centre"


def test_changes_need_the_csrf_token(web_as, app):
    admin = signed_in_admin(web_as)
    department_id = make_department(app, doctors=0)
    doctor_id = make_doctor(app)
    assert admin.client.post("/admin/departments", data={"name": "Skin Clinic"}).status_code == 400
    assert admin.client.post(f"/admin/departments/{department_id}/delete").status_code == 400
    assert admin.client.post(f"/admin/doctors/{doctor_id}/delete").status_code == 400
    htmx = {"HX-Request": "true", "HX-Target": f"doctor-{doctor_id}"}
    assert admin.client.post(f"/admin/doctors/{doctor_id}/delete", headers=htmx).status_code == 400
    html = admin.get("/admin/departments").get_data(as_text=True)
    assert "Skin Clinic" not in html and "Heart Centre" in html
    assert doctor_row(app, doctor_id)[4] is None


# Departments --------------------------------------------------------------------------------------------

def test_the_departments_list_shows_name_description_and_active_doctors(web_as, app):
    heart = make_department(app, "Heart Centre", "Cardiology and vascular care", doctors=2)
    make_department(app, "Skin Clinic")
    with app.app_context():
        clinic.doctor(db.session.get(Department, heart), full_name="Dr Retired", archived_at=datetime.now(UTC))
    html = signed_in_admin(web_as).get("/admin/departments").get_data(as_text=True)
    assert '<a href="/admin/departments" aria-current="page">Departments</a>' in html  # in the admin's nav
    assert '<a href="/admin/doctors">Doctors</a>' in html
    assert html.index("<strong>Heart Centre</strong>") < html.index("<strong>Skin Clinic</strong>")
    assert "Cardiology and vascular care" in html
    assert f'<a href="/admin/doctors?department_id={heart}">2 doctors' in html and ">0 doctors<" in html


def test_creating_a_department_shows_it_in_the_list_with_an_empty_form(web_as):
    admin = signed_in_admin(web_as)
    response = admin.post("/admin/departments", {"name": "Skin Clinic", "description": "Dermatology"},
                          htmx_target="departments")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="departments">')
    assert "Department Skin Clinic is created." in html and "<strong>Skin Clinic</strong>" in html
    assert re.search(r'<input id="name" name="name"[^>]* value="">', html)

    response = admin.post("/admin/departments", {"name": "Eye Clinic"})  # without JavaScript
    assert response.status_code == 302 and response.headers["Location"] == "/admin/departments"
    html = admin.get("/admin/departments").get_data(as_text=True)
    assert "Department Eye Clinic is created." in html and "<strong>Eye Clinic</strong>" in html


def test_a_taken_name_in_any_case_is_explained_next_to_the_field_keeping_what_was_typed(web_as, app):
    make_department(app, "Heart Centre")
    admin = signed_in_admin(web_as)
    for target in ("departments", None):
        response = admin.post("/admin/departments", {"name": "heart centre", "description": "Second try"},
                              htmx_target=target)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(r'<ul class="field-errors" id="name-errors">\s*<li>A department with that name exists.</li>',
                         html)
        assert 'value="heart centre"' in html and "Second try</textarea>" in html
    empty = admin.post("/admin/departments", {"name": "  "}, htmx_target="departments").get_data(as_text=True)
    assert re.search(r'id="name-errors">\s*<li>Fill this in.</li>', empty)


def test_editing_in_the_row_saves_and_shows_the_row_again(web_as, app):
    department_id = make_department(app, "Heart Centre", "Old text")
    admin = signed_in_admin(web_as)
    row_id = f"department-{department_id}"
    editing = admin.htmx_get(f"/admin/departments/{department_id}/edit", target=row_id).get_data(as_text=True)
    assert editing.lstrip().startswith(f'<tr id="{row_id}" hx-target="this" hx-swap="outerHTML">')
    assert f'name="d{department_id}-name"' in editing and 'value="Heart Centre"' in editing and "Cancel" in editing

    response = admin.post(f"/admin/departments/{department_id}",
                          {f"d{department_id}-name": "Heart and Vessels", f"d{department_id}-description": "New text"},
                          htmx_target=row_id)
    row = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in row
    assert "<strong>Heart and Vessels</strong>" in row and "Heart and Vessels: Saved." in row and "New text" in row

    cancelled = admin.htmx_get(f"/admin/departments/{department_id}", target=row_id).get_data(as_text=True)
    assert "<strong>Heart and Vessels</strong>" in cancelled and "<form class=\"row-form\"" not in cancelled
    assert admin.get(f"/admin/departments/{department_id}").headers["Location"] == f"/admin/departments#{row_id}"


def test_a_name_clash_while_editing_stays_in_the_row_next_to_the_field(web_as, app):
    make_department(app, "Skin Clinic")
    department_id = make_department(app, "Heart Centre")
    admin = signed_in_admin(web_as)
    response = admin.post(f"/admin/departments/{department_id}", {f"d{department_id}-name": "SKIN CLINIC"},
                          htmx_target=f"department-{department_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert f'id="d{department_id}-name-errors"' in html and "A department with that name exists." in html
    assert 'value="SKIN CLINIC"' in html
    assert "<strong>Heart Centre</strong>" in admin.get("/admin/departments").get_data(as_text=True)


def test_without_javascript_editing_is_a_page_that_comes_back_to_the_list(web_as, app):
    department_id = make_department(app, "Heart Centre")
    admin = signed_in_admin(web_as)
    page = admin.get(f"/admin/departments/{department_id}/edit").get_data(as_text=True)
    assert "<h1>Edit Heart Centre</h1>" in page and "hx-post" not in page.split("<h1>")[1]
    response = admin.post(f"/admin/departments/{department_id}", {f"d{department_id}-name": "Cardiology"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/departments#department-{department_id}"
    assert "Department Cardiology is saved." in admin.get("/admin/departments").get_data(as_text=True)
    response = admin.post(f"/admin/departments/{department_id}", {f"d{department_id}-name": ""})
    assert response.status_code == 422 and "<h1>Edit Cardiology</h1>" in response.get_data(as_text=True)
    assert "Fill this in." in response.get_data(as_text=True)


def test_a_department_with_doctors_is_not_deleted_and_its_row_says_why(web_as, app):
    department_id = make_department(app, "Heart Centre", doctors=1)
    admin = signed_in_admin(web_as)
    response = admin.post(f"/admin/departments/{department_id}/delete", htmx_target=f"department-{department_id}")
    row = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in row
    assert "Doctors still belong to this department; move or archive them first." in row
    assert "<strong>Heart Centre</strong>" in row

    response = admin.post(f"/admin/departments/{department_id}/delete")
    assert response.status_code == 302
    html = admin.get("/admin/departments").get_data(as_text=True)
    assert "Doctors still belong to this department" in html and "<strong>Heart Centre</strong>" in html


def test_deleting_asks_first_and_then_the_department_is_gone(web_as, app):
    department_id = make_department(app, "Skin Clinic")
    admin = signed_in_admin(web_as)
    listing = admin.get("/admin/departments").get_data(as_text=True)
    assert 'hx-confirm="Delete the department Skin Clinic?"' in listing
    assert f'action="/admin/departments/{department_id}/delete"' in listing  # the no-JS way: a GET to ask first
    confirm = admin.get(f"/admin/departments/{department_id}/delete").get_data(as_text=True)
    assert "<h1>Delete Skin Clinic?</h1>" in confirm and "Yes, delete" in confirm and "No, keep it" in confirm

    response = admin.post(f"/admin/departments/{department_id}/delete", htmx_target=f"department-{department_id}")
    assert response.status_code == 200 and "Department Skin Clinic is deleted." in response.get_data(as_text=True)
    assert "<strong>Skin Clinic</strong>" not in admin.get("/admin/departments").get_data(as_text=True)
    assert admin.get(f"/admin/departments/{department_id}/edit").status_code == 404


def page_queries(app, client, url) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_departments_list_costs_the_same_queries_for_2_or_20_departments(web_as, app):
    admin = signed_in_admin(web_as)
    for n in range(2):
        make_department(app, f"Few {n}", doctors=1)
    few = page_queries(app, admin, "/admin/departments")
    for n in range(18):
        make_department(app, f"Many {n}", doctors=2)
    assert "Many 17" in admin.get("/admin/departments").get_data(as_text=True)
    assert page_queries(app, admin, "/admin/departments") == few


# Doctors ------------------------------------------------------------------------------------------------

def test_the_doctor_list_filters_and_links_to_each_doctors_pages(web_as, app):
    heart, skin = make_department(app, "Heart Centre"), make_department(app, "Skin Clinic")
    adam = make_doctor(app, "Dr Adam Baker", speciality="Cardiology", fees=80, email="adam@example.org")
    make_doctor(app, "Dr Zoe Young", "Skin Clinic", speciality="Dermatology")
    admin = signed_in_admin(web_as)
    html = admin.get("/admin/doctors").get_data(as_text=True)
    assert html.index("Dr Adam Baker") < html.index("Dr Zoe Young") and "2 doctors" in html
    assert f'<a href="/doctors/{adam}"><strong>Dr Adam Baker</strong></a>' in html
    assert f'href="/doctor/availability?doctor_id={adam}"' in html and f'href="/admin/doctors/{adam}/edit"' in html
    assert "80.00" in html and "adam@example.org" in html

    for query in ({"q": "zoe"}, {"speciality": "dermatology"}, {"department_id": skin}):
        found = admin.get("/admin/doctors", query_string=query).get_data(as_text=True)
        assert "Dr Zoe Young" in found and "Dr Adam Baker" not in found, query
    response = admin.htmx_get(f"/admin/doctors?department_id={heart}", target="doctors-table")
    table = response.get_data(as_text=True)
    assert table.lstrip().startswith('<div id="doctors-table"') and "<html" not in table
    assert "Dr Adam Baker" in table and "Dr Zoe Young" not in table and "HX-Target" in response.headers["Vary"]
    assert "Correct the filter to see doctors" in admin.get("/admin/doctors?department_id=x").get_data(as_text=True)


def test_the_doctor_list_is_paged(web_as, app):
    with app.app_context():
        department = clinic.department("Heart Centre")
        for n in range(27):
            clinic.doctor(department, full_name=f"Dr {n:02d}")
    admin = signed_in_admin(web_as)
    first = admin.get("/admin/doctors").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Dr 24" in first and "Dr 25" not in first
    second = admin.get("/admin/doctors?page=2").get_data(as_text=True)
    assert "Dr 26" in second and "Dr 00" not in second


def test_the_doctor_list_costs_the_same_queries_for_2_or_20_doctors(web_as, app):
    admin = signed_in_admin(web_as)
    for n in range(2):
        make_doctor(app, f"Dr Few {n}", f"Department {n}", fees=50)
    few = page_queries(app, admin, "/admin/doctors")
    for n in range(18):
        make_doctor(app, f"Dr Many {n:02d}", f"Department {n % 5}", fees=60)
    assert "Dr Many 17" in admin.get("/admin/doctors").get_data(as_text=True)
    assert page_queries(app, admin, "/admin/doctors") == few


def test_a_doctor_with_booked_appointments_is_not_deleted_and_the_row_says_why(web_as, factories, app):
    patient, doctor_id = factories.user(role="patient"), make_doctor(app, "Dr Busy Bee")
    with app.app_context():
        clinic.appointment(patient.patient_id, clinic.slot(doctor_id, clinic.soon(48)))
    admin = signed_in_admin(web_as, "/admin/doctors")
    response = admin.post(f"/admin/doctors/{doctor_id}/delete", htmx_target=f"doctor-{doctor_id}")
    row = response.get_data(as_text=True)
    assert response.status_code == 422 and row.lstrip().startswith(f'<tr id="doctor-{doctor_id}"')
    assert "This doctor has upcoming appointments. Cancel or move them first." in row
    response = admin.post(f"/admin/doctors/{doctor_id}/delete")
    assert response.status_code == 302
    assert "This doctor has upcoming appointments." in admin.get("/admin/doctors").get_data(as_text=True)
    assert doctor_row(app, doctor_id)[4] is None


def test_deleting_a_doctor_asks_first_then_withdraws_them_from_the_directory(web_as, web, app):
    doctor_id = make_doctor(app, "Dr Gone Soon")
    with app.app_context():
        clinic.slot(doctor_id, clinic.soon(48))
    admin = signed_in_admin(web_as, "/admin/doctors")
    listing = admin.get("/admin/doctors").get_data(as_text=True)
    assert 'hx-confirm="Delete Dr Gone Soon from the directory?"' in listing
    confirm = admin.get(f"/admin/doctors/{doctor_id}/delete").get_data(as_text=True)
    assert "<h1>Delete Dr Gone Soon?</h1>" in confirm and "Their free times are withdrawn" in confirm
    response = admin.post(f"/admin/doctors/{doctor_id}/delete", htmx_target=f"doctor-{doctor_id}")
    assert response.status_code == 200 and "Dr Gone Soon is deleted." in response.get_data(as_text=True)
    assert "Dr Gone Soon" not in web.get("/doctors").get_data(as_text=True)
    assert web.get(f"/doctors/{doctor_id}").status_code == 404
    assert admin.get(f"/admin/doctors/{doctor_id}/edit").status_code == 404


def test_an_unknown_department_or_doctor_is_404(web_as):
    admin = signed_in_admin(web_as)
    for url in ("/admin/departments/9999/edit", "/admin/departments/9999/delete", "/admin/doctors/9999/edit",
                "/admin/doctors/9999/delete"):
        assert admin.get(url).status_code == 404, url
    assert admin.post("/admin/departments/9999", {"d9999-name": "X"}).status_code == 404
    assert admin.post("/admin/departments/9999/delete", htmx_target="department-9999").status_code == 404
    assert admin.post("/admin/doctors/9999", {"full_name": "X", "speciality": "Y"}).status_code == 404
    assert admin.post("/admin/doctors/9999/delete", htmx_target="doctor-9999").status_code == 404

