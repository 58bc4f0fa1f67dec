"""/admin: accounts (approve doctors, deactivate, change roles) and the audit log. Admins only."""
from portal.api import auth, paging
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import updated
from portal.api.paging import page_of
from portal.api.schemas.audit import AuditEventSchema, AuditQuerySchema
from portal.api.schemas.common import envelope
from portal.api.schemas.users import AdminUserChangesSchema, AdminUserSchema, UserListArgsSchema
from portal.models import Role
from portal.services import audit
from portal.services.accounts import user_accounts

blp = ApiBlueprint("admin", __name__, url_prefix="/admin",
                   description="Administration: users and the audit log (admins only; others get 403).")


@blp.get("/users")
@blp.auth(Role.ADMIN)
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, envelope(AdminUserSchema, many=True, paged=True))
def list_users(args):
    """All accounts, oldest first; `role=` filters by role, `pending=true` shows those waiting for approval."""
    page = user_accounts.list_users(auth.actor(), role=args.get("role"), pending=args.get("pending"),
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
    user = user_accounts.admin_update(auth.actor(), user_id, **body)
    return updated(user, "The account was updated.")


@blp.get("/audit")
@blp.auth(Role.ADMIN)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, envelope(AuditEventSchema, many=True, paged=True))
def audit_log(args):
    """Who read or changed which patient data, newest first; filter by patient, actor and time window."""
    query = audit.events_query(patient_id=args.get("patient_id"), actor_id=args.get("actor_id"),
                               start=args.get("start"), end=args.get("end"))
    return page_of(query, args, "Audit events.")
