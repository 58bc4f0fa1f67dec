"""The admin's audit log: filters, sorting by any column, paging, and the CSV export of the selection.

The filters are a GET form whose names are the API's query parameters, so the page's URL carries the
selection and "Export these as CSV" streams exactly that selection (the audit service's CSV, written
from a server-side cursor). Column headers sort (a second click reverses); htmx swaps only the table
and keeps the URL in step.
"""
from flask import Blueprint, Response, abort, request, stream_with_context, url_for

from portal.models import Role
from portal.services.errors import Invalid
from portal.services.persistence import paginate
from portal.services.records import access_log
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.record_forms import AuditFilterForm

bp = Blueprint("admin_audit", __name__, url_prefix="/admin")

AUDIT_ID = "audit-table"
PER_PAGE = 50


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Every page of this blueprint is the admin's (403 for other roles)."""


def _selection(form: AuditFilterForm) -> access_log.AuditFilter:
    return access_log.AuditFilter(**form.filters())


@bp.get("/audit")
def audit():
    """The audit log filtered and sorted as the URL says; a filter a person got wrong is said above the table."""
    form = AuditFilterForm(request.args)
    listing, status = None, 422
    if form.validate():
        try:
            listing = paginate(access_log.admin_events(pages.actor(), _selection(form)),
                               pages.page_number(request.args), PER_PAGE)
            status = 200
        except Invalid as error:
            form.form_errors.extend(m for messages in error.fields.values() for m in messages)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return pages.render("admin_records/audit.html", "admin_records/_audit.html", AUDIT_ID, status, form=form,
                        listing=listing, csv_url=url_for("admin_audit.audit_csv", **args))


@bp.get("/audit.csv")
def audit_csv():
    """The same selection as CSV, streamed whatever its size."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        abort(400)
    try:
        chunks = access_log.csv_export(pages.actor(), _selection(form))
    except Invalid:
        abort(400)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "no-store"  # patient data: no copy in any cache
    return response
