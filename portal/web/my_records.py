"""A patient's own record: the records timeline (read only), images, who looked, and "download my record".

Everything here is about the signed-in patient's own profile; the services check it again and audit
every read. The download is the export service's one JSON document, as a file or as a printable page.
"""
import json

from flask import Blueprint, abort, make_response, request

from portal import auth_context
from portal.models import Role
from portal.services import policy
from portal.services.records import access_log, export, medical_records
from portal.web import images_pages
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.record_forms import ImagesForm
from portal.web.records_pages import history_page

bp = Blueprint("my_records", __name__, url_prefix="/my")

TIMELINE_ID = "records-timeline"
ACCESS_ID = "access-log"
PER_PAGE = 20


@bp.before_request
@role_required(Role.PATIENT)
def _patients_only():
    """Staff read patients under /patients; these pages are a patient's own."""


def _own_patient_id() -> int:
    patient_id = policy.patient_id_of(auth_context.session_user())
    if patient_id is None:
        abort(404)
    return patient_id


@bp.get("/records")
def records():
    timeline = medical_records.list_records(pages.actor(), patient_id=_own_patient_id(),
                                            page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("my_records/records.html", "patients/_timeline.html", TIMELINE_ID, timeline=timeline)


@bp.get("/records/<int:record_id>/history")
def history(record_id: int):
    return history_page(record_id, "records/history.html")


@bp.get("/images")
def my_images():
    return images_pages.gallery(_own_patient_id(), ImagesForm(formdata=None))


@bp.get("/access-log")
def who_looked():
    """Who read or changed my data, newest first; reads under emergency access are marked."""
    log = access_log.patient_access_log(pages.actor(), _own_patient_id(),
                                        page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("my_records/access_log.html", "my_records/_access_log.html", ACCESS_ID, log=log)


@bp.get("/download")
def download():
    """The choice between the file and the printable page."""
    return pages.render("my_records/download.html", "my_records/download.html", "download")


@bp.get("/record.json")
def record_json():
    document = pages.visible(export.export_patient, _own_patient_id())
    response = make_response(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="my-medical-record.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/record")
def printable():
    document = pages.visible(export.export_patient, _own_patient_id())
    return pages.render("my_records/printable.html", "my_records/printable.html", "record", record=document)
