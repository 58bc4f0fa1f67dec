"""The admin's patient-data pages: assignments, the audit log (filters, sorting, CSV) and the review queue
of emergency accesses. Patients themselves are managed on the staff's /patients pages.

The audit filters are a GET form whose names are the API's query parameters, so the page's URL carries
the selection and its "Export as CSV" link streams exactly that selection (the audit service's CSV).
Column headers sort (a second click reverses); htmx swaps only the table and keeps the URL in step.
"""
from flask import Blueprint, Response, abort, flash, redirect, request, stream_with_context, url_for

from portal.models import Role
from portal.services.errors import Conflict, Invalid
from portal.services.persistence import paginate
from portal.services.records import access_log, assignments, emergency
from portal.web import patient_pages as pages
from portal.web.access import role_required, safe_next
from portal.web.forms import ActionForm
from portal.web.record_forms import AUDIT_SORTS, AuditFilterForm, ReviewForm

bp = Blueprint("admin_records", __name__, url_prefix="/admin")

AUDIT_ID = "audit-table"
ASSIGNMENTS_ID = "assignments-table"
QUEUE_ID = "emergency-queue"
PER_PAGE = 50


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Every page of this blueprint is the admin's (403 for other roles)."""


@bp.get("/assignments")
def assignments_list():
    include_ended = request.args.get("include_ended") == "true"
    listing = assignments.list_assignments(
        pages.actor(), patient_id=request.args.get("patient_id", type=int),
        doctor_id=request.args.get("doctor_id", type=int), include_ended=include_ended,
        page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("admin_records/assignments.html", "admin_records/_assignments.html", ASSIGNMENTS_ID,
                        listing=listing, include_ended=include_ended, action_form=ActionForm(),
                        back=request.full_path.rstrip("?"))


@bp.get("/audit")
def audit():
    """The audit log filtered and sorted as the URL says; a filter a person got wrong is said next to it."""
    form = AuditFilterForm(request.args)
    listing, status = None, 422
    if form.validate():
        try:
            listing = access_log.audit_events(pages.actor(), **form.filters(),
                                              page=pages.page_number(request.args), per_page=PER_PAGE)
            status = 200
        except Invalid as error:
            form.form_errors.extend(m for messages in error.fields.values() for m in messages)
    return pages.render("admin_records/audit.html", "admin_records/_audit.html", AUDIT_ID, status, form=form,
                        listing=listing, sorts=AUDIT_SORTS, csv_url=_csv_url())


def _csv_url() -> str:
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return url_for("admin_records.audit_csv", **args)


@bp.get("/audit.csv")
def audit_csv():
    """The same selection as CSV, streamed row by row from the audit service, whatever its size."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        abort(400)
    try:
        lines = access_log.audit_csv(pages.actor(), **form.filters())
    except Invalid:
        abort(400)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


@bp.get("/emergency-access")
def emergency_queue():
    reviewed = request.args.get("reviewed") == "true"
    listing = paginate(emergency.grants_query(pages.actor(), reviewed=reviewed), pages.page_number(request.args),
                       PER_PAGE)
    return pages.render("admin_records/emergency.html", "admin_records/_emergency.html", QUEUE_ID,
                        listing=listing, reviewed=reviewed, review_form=ReviewForm(formdata=None))


@bp.post("/emergency-access/<int:access_id>")
def review(access_id: int):
    """Mark one access reviewed with a note; the queue then shows it under "reviewed"."""
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            pages.visible(emergency.review, access_id, form.note.data)
        except (Conflict, Invalid) as error:
            flash(error.message, "error")
        else:
            flash("The emergency access is marked reviewed.", "success")
    return redirect(safe_next(request.form.get("next"), "admin_records.emergency_queue"))
