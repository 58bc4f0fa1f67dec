"""A patient's own record: the records timeline (read only), a record's earlier versions, and their images.

Everything here is about the signed-in patient's own profile; the services check it again and audit
every read. "Who looked" and "download my record" are in my_trail.py.
"""
from flask import Blueprint, abort, request

from portal import auth_context
from portal.models import Role
from portal.services import policy
from portal.services.records import medical_records
from portal.web import images_pages
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.record_forms import ImagesForm
from portal.web.records_pages import history_page

bp = Blueprint("my_records", __name__, url_prefix="/my")

TIMELINE_ID = "records-timeline"
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


@bp.get("/records")
def records():
    timeline = medical_records.patient_records(pages.actor(), own_patient_id(),
                                               page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("my_records/records.html", "patients/_timeline.html", TIMELINE_ID, timeline=timeline)


@bp.get(f"/records/<{pages.ID}:record_id>/history")
def history(record_id: int):
    return history_page(record_id, "records/history.html")


@bp.get("/images")
def my_images():
    return images_pages.gallery(own_patient_id(), ImagesForm(formdata=None))
