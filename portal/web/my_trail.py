"""A patient's trail: "who looked at my records" and "download my record" (a JSON file and a printable page).

The access log comes from the audit trail (emergency reads marked); the download is the export service's
one read of everything held about the patient. The JSON file is the API's own export of the same
document (the browser's session is accepted there), so the file and the API never differ; the printable
page shows the same Export.
"""
from flask import Blueprint, request

from portal.models import Role
from portal.services.persistence import paginate
from portal.services.records import access_log, export
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.my_records import own_patient_id

bp = Blueprint("my_trail", __name__, url_prefix="/my")

ACCESS_ID = "access-log"
PER_PAGE = 20


@bp.before_request
@role_required(Role.PATIENT)
def _patients_only():
    """Staff read the audit log under /admin; these pages are a patient's own."""


@bp.get("/access-log")
def who_looked():
    """Who read or changed my data, newest first; reads under emergency access are marked."""
    query = pages.visible(access_log.patient_access_log, own_patient_id())
    log = paginate(query, pages.page_number(request.args), PER_PAGE)
    return pages.render("my_records/access_log.html", "my_records/_access_log.html", ACCESS_ID, log=log)


@bp.get("/download")
def download():
    """The choice between the file and the printable page."""
    return pages.render("my_records/download.html", "my_records/download.html", "download",
                        patient_id=own_patient_id())


@bp.get("/record")
def printable():
    document = pages.visible(export.export_patient, own_patient_id())
    return pages.render("my_records/printable.html", "my_records/printable.html", "record", record=document)
