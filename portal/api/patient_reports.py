"""What a patient (or an admin) may ask about a patient's data as a whole: who looked at it, and all of it.

Both are for the patient themself and admins only: a doctor's role is 403, another patient's id 404.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import ok
from portal.api.paging import page_of
from portal.api.schemas.audit import AccessLogEntrySchema
from portal.api.schemas.common import PageArgsSchema, envelope
from portal.api.schemas.export import ExportSchema
from portal.services.records import access_log, export

blp = ApiBlueprint("patient_reports", __name__, url_prefix="/patients", description=(
    "A patient's access log (who read or changed their data) and the export of their whole record; "
    "for the patient and admins."))


@blp.get("/<id:patient_id>/access-log")
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(AccessLogEntrySchema, many=True, paged=True))
@blp.fails_with(403, 404)
def access_log_of(args, patient_id):
    """Who read or changed this patient's data, newest first, paged; `emergency` marks what a doctor did
    under emergency access. Reading this log is not itself logged."""
    return page_of(access_log.patient_access_log(auth.actor(), patient_id), args, "Access log.")


@blp.get("/<id:patient_id>/export")
@blp.auth()
@blp.response(200, envelope(ExportSchema))
@blp.fails_with(403, 404)
def export_of(patient_id):
    """The whole record in one document: `patient`, `assignments`, `appointments`, `records` (each with
    its `versions`) and `images` (metadata with file URLs). The export is written to the audit log."""
    return ok(export.export_patient(auth.actor(), patient_id), "Your record.")
