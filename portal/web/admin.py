"""The admin's users page (filter, approve pending doctors, deactivate or reactivate, change a role) and
the job queue's page.

Each row is a self-contained component (`id`, hx-target="this", hx-swap="outerHTML"): an action posted
from a row answers with that row only; without JavaScript the same forms post and come back to the list.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.extensions import db
from portal.models import Role
from portal.services.accounts import administration
from portal.services.errors import Conflict, DomainError, Invalid, NotFound
from portal.services.jobs import outbox
from portal.web import fragments
from portal.web.access import role_required, safe_next
from portal.web.forms import ROLE_CHOICES, ActionForm, UserFilterForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PER_PAGE = 25
TABLE_ID = "users-table"


def row_id(user_id: int) -> str:
    return f"user-{user_id}"


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Every page of this blueprint is the admin's (403 for other roles)."""


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    role = form.role.data if form.validate() and form.role.data else None
    pending = True if form.pending.data else None
    page = administration.list_users(auth_context.actor_for(auth_context.session_user()), role=role, pending=pending,
                                    page=request.args.get("page", 1, type=int), per_page=USERS_PER_PAGE)
    return fragments.render("admin/users.html", "admin/_users_table.html", TABLE_ID, form=form, page=page,
                            action_form=ActionForm(), roles=ROLE_CHOICES, back=request.full_path.rstrip("?"))


def _act(user_id: int, **changes):
    """Apply one admin change; the row answers an htmx request, a redirect answers a plain form."""
    problem = None
    try:
        user = administration.admin_update(auth_context.actor_for(auth_context.session_user()), user_id, **changes)
    except NotFound:
        abort(404)
    except (Conflict, Invalid) as error:
        db.session.rollback()
        problem, user = _message(error), administration.get_user(user_id)
    if fragments.from_widget(row_id(user_id)):
        # A refused change is shown in its row; 422 is a status htmx is configured to swap (base.html).
        return fragments.render("admin/users.html", "admin/_user_row.html", row_id(user_id),
                                422 if problem else 200, user=user, problem=problem,
                                done=None if problem else _done(changes), action_form=ActionForm(),
                                roles=ROLE_CHOICES, back=request.form.get("next"))
    flash(problem or f"{user.username}: {_done(changes)}", "error" if problem else "success")
    return redirect(safe_next(request.form.get("next"), "admin.users"))


def _message(error: DomainError) -> str:
    if isinstance(error, Invalid):
        return " ".join(message for messages in error.fields.values() for message in messages)
    return error.message


def _done(changes: dict) -> str:
    if changes.get("approved"):
        return "approved."
    if "is_active" in changes:
        return "reactivated." if changes["is_active"] else "deactivated; their sessions have ended."
    return f"role changed to {changes.get('role')}."


@bp.post("/users/<id:user_id>/approve")
def approve(user_id: int):
    return _act(user_id, approved=True)


@bp.post("/users/<id:user_id>/deactivate")
def deactivate(user_id: int):
    return _act(user_id, is_active=False)


@bp.post("/users/<id:user_id>/reactivate")
def reactivate(user_id: int):
    return _act(user_id, is_active=True)


@bp.post("/users/<id:user_id>/role")
def change_role(user_id: int):
    return _act(user_id, role=request.form.get("role", ""))


@bp.get("/jobs")
def jobs():
    """The job queue: is it moving (counts, oldest due job, last run), and what gave up."""
    state = outbox.state(auth_context.actor_for(auth_context.session_user()))
    return render_template("admin/jobs.html", state=state, action_form=ActionForm())


@bp.post("/jobs/<id:job_id>/retry")
def retry_job(job_id: int):
    try:
        outbox.retry(auth_context.actor_for(auth_context.session_user()), job_id)
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash(f"Job #{job_id} will run again.", "success")
    return redirect(url_for("admin.jobs"))
