"""/admin: accounts (approve doctors, deactivate, change roles) and the audit log. Admins only."""
from flask import Response, request, stream_with_context

from portal.api import auth, paging
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import ok, updated
from portal.api.schemas.audit import AuditEventSchema, AuditQuerySchema
from portal.api.schemas.common import envelope
from portal.api.schemas.jobs import JobQueueSchema, JobSchema
from portal.api.schemas.users import AdminUserChangesSchema, AdminUserSchema, UserListArgsSchema
from portal.models import Role
from portal.services.accounts import administration
from portal.services.jobs import outbox
from portal.services.records import access_log

CSV = "text/csv"

blp = ApiBlueprint("admin", __name__, url_prefix="/admin",
                   description="Administration: users, the audit log and the job queue (admins only; others get 403).")


@blp.get("/users")
@blp.auth(Role.ADMIN)
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, envelope(AdminUserSchema, many=True, paged=True))
def list_users(args):
    """All accounts, oldest first; `role=` filters by role, `pending=true` shows those waiting for approval."""
    page = administration.list_users(auth.actor(), role=args.get("role"), pending=args.get("pending"),
                                    page=args["page"], per_page=args["per_page"])
    return paging.answer(page, "Users.")


@blp.patch("/users/<id:user_id>")
@blp.auth(Role.ADMIN)
@blp.arguments(AdminUserChangesSchema)
@blp.response(200, envelope(AdminUserSchema))
@blp.fails_with(404, 409)
def change_user(body, user_id):
    """Change `role`, `is_active` or `approved`; `{"approved": true}` approves a pending doctor.

    Deactivating ends the account's sessions and tokens at once. 409 `self_lockout` when an admin
    would deactivate or demote themselves.
    """
    user = administration.admin_update(auth.actor(), user_id, **body)
    return updated(user, "The account was updated.")


@blp.get("/audit")
@blp.auth(Role.ADMIN)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, envelope(AuditEventSchema, many=True, paged=True))
@blp.doc(responses={200: {"content": {CSV: {"schema": {"type": "string", "description": (
    "With `Accept: text/csv`: the whole selection (paging ignored) as CSV with a header row, streamed.")}}}}})
@blp.fails_with(422)
def audit_log(args):
    """Who read or changed which patient data; filter by patient, actor, action, emergency and time window,
    sort by any field (`sort=-at`, the default, is newest first).

    Send `Accept: text/csv` to export the same selection, every row of it, as CSV with a header row
    (a streamed download: its size is not limited). Cells that a spreadsheet would run as a formula
    are prefixed with `'`.
    """
    actor = auth.actor()
    selection = access_log.AuditFilter(**{key: args.get(key) for key in (
        "patient_id", "actor_id", "action", "emergency", "start", "end")}, sort=args["sort"])
    if request.accept_mimetypes.best_match(["application/json", CSV]) == CSV:
        chunks = access_log.csv_export(actor, selection)
        return Response(stream_with_context(chunks), mimetype=CSV, headers={
            "Content-Disposition": 'attachment; filename="audit.csv"', "Cache-Control": "no-store"})
    return paging.answer(access_log.admin_event_page(actor, selection, page=args["page"], per_page=args["per_page"],
                                                     item_json=row_json(AuditEventSchema)), "Audit events.")


@blp.get("/jobs")
@blp.auth(Role.ADMIN)
@blp.response(200, envelope(JobQueueSchema))
def job_queue():
    """The job queue (mails, reminders, waitlist offers): how many jobs wait, run, are done or failed,
    the oldest due one, when one last finished, and the latest failures."""
    return ok(outbox.state(auth.actor()), "The job queue.")


@blp.post("/jobs/<id:job_id>/retry")
@blp.auth(Role.ADMIN)
@blp.response(200, envelope(JobSchema))
@blp.fails_with(404, 409)
def retry_job(job_id):
    """Send a failed job again, due now with its attempts counted from zero (e.g. once the mail server
    is fixed). 409 `not_failed` for a job that is pending, running or done."""
    return updated(outbox.retry(auth.actor(), job_id), "The job will run again.")
