"""A patient's own record: the records timeline (read only), a record's earlier versions, their images,
and the contact details on their patient record (the one part a patient may change, as in the API).

Everything here is about the signed-in patient's own profile; the services check it again and audit
every read. "Who looked" and "download my record" are in my_trail.py.
"""
from flask import Blueprint, abort, flash, redirect, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services import policy
from portal.services.errors import Forbidden, Invalid
from portal.services.records import medical_records, patients
from portal.web import images_pages
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.forms import add_problems, show_error
from portal.web.record_forms import ContactForm, ImagesForm
from portal.web.records_pages import history_page

bp = Blueprint("my_records", __name__, url_prefix="/my")

TIMELINE_ID = "records-timeline"
CONTACT_ID = "patient-contact"
PER_PAGE = 20


@bp.before_request
@role_required(Role.PATIENT)
def _patients_only():
    """Staff read patients under /patients; these pages are a patient's own."""


def own_patient_id() -> int:
    """The signed-in patient's own profile (404 for an account without one)."""
    patient_id = policy.patient_id_of(auth_context.session_user())
    if patient_id is None:
        abort(404)
    return patient_id


def _records_page(contact: ContactForm | None, status: int = 200):
    timeline = medical_records.patient_records(pages.actor(), own_patient_id(),
                                               page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("my_records/records.html", "patients/_timeline.html", TIMELINE_ID, status,
                        timeline=timeline, contact=contact)


@bp.get("/records")
def records():
    """The timeline and the contact form; the timeline's own paging (HX-Target) needs no profile read."""
    if pages.fragments.from_widget(TIMELINE_ID):
        return _records_page(None)
    return _records_page(ContactForm(formdata=None, obj=patients.get_patient(pages.actor(), own_patient_id())))


@bp.post("/contact")
def update_contact():
    """Save the contact fields with the rules of PATCH /patients/{id}: every problem next to its field."""
    form = ContactForm()
    status, saved = 422, False
    if form.validate_on_submit():
        try:
            patients.update_patient(pages.actor(), own_patient_id(), **form.values())
        except (Invalid, Forbidden) as error:
            show_error(form, error)
        else:
            status, saved = 200, True
    else:
        add_problems(form, patients.profile_problems(form.values()))
    if not pages.fragments.from_widget(CONTACT_ID):
        if saved:
            flash("Your contact details are saved on your patient record.", "success")
            return redirect(url_for("my_records.records", _anchor="contact"))
        return _records_page(form, status)
    return pages.render("my_records/records.html", "my_records/_contact_form.html", CONTACT_ID, status,
                        contact=form, saved=saved)


@bp.get(f"/records/<{pages.ID}:record_id>/history")
def history(record_id: int):
    return history_page(record_id, "records/history.html")


@bp.get("/images")
def my_images():
    return images_pages.gallery(own_patient_id(), ImagesForm(formdata=None))
