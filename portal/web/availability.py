"""A doctor's availability: publishing slots from a weekly plan, and the week calendar to review and remove them.

Doctors manage their own; an admin picks any doctor with ?doctor_id= (the services decide who may,
through policy.may_act_for_doctor). The plan form is a self-contained component that also refreshes
the calendar out of band; removing a slot answers with a message and the refreshed calendar. Without
JavaScript the form posts and comes back, and "Remove" opens a confirmation page.
"""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services import clinic_time
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.scheduling import appointment_reads, availability
from portal.web import fragments, week_grid
from portal.web import managed_doctor as managed
from portal.web.access import role_required
from portal.web.booking_forms import WeeklyPlanForm
from portal.web.forms import add_problems, show_error

bp = Blueprint("availability", __name__, url_prefix="/doctor/availability")

PLAN_ID = "plan-form"
MESSAGE_ID = "calendar-message"
BOOKED = "This slot is booked, so it cannot be removed: cancel the appointment first."
GONE = "That slot is no longer there."


@bp.before_request
@role_required(Role.DOCTOR, Role.ADMIN)
def _doctors_and_admins():
    """Only doctors (their own calendar) and admins (anyone's) come here."""


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _grid(doctor, week):
    return week_grid.build(doctor.id, week, "availability.page", managed.link_args(doctor.id))


def _calendar(doctor, week) -> dict:
    """The week's grid and, for its booked slots, the appointments (so the calendar names who comes)."""
    return {"grid": _grid(doctor, week),
            "booked": appointment_reads.booked_in_window(_actor(), doctor.id, week.start, week.end)}


def _page(doctor, week, form: WeeklyPlanForm | None = None, status: int = 200, **extra):
    if doctor is None:  # an admin picks a doctor first; a doctor without a profile is told why nothing is here
        return render_template("doctor/availability.html", doctor=None, doctors=managed.choices()), 200
    form = form or WeeklyPlanForm.with_defaults(week=week.monday.isoformat(), **managed.link_args(doctor.id))
    return fragments.render("doctor/availability.html", "doctor/_calendar.html", week_grid.GRID_ID, status,
                            doctor=doctor, form=form, **_calendar(doctor, week), **extra)


@bp.get("")
def page():
    return _page(managed.chosen(), week_grid.requested_week(request.args.get("week")))


@bp.post("")
def plan():
    """Publish a weekly plan; say how many slots it made and how many it skipped, and show their first week."""
    doctor = managed.chosen() or abort(404)
    form = WeeklyPlanForm()
    week = week_grid.requested_week(form.week.data)
    result = None
    if form.validate():
        try:
            result = availability.add_weekly_plan(_actor(), doctor.id, **form.plan())
        except Invalid as error:
            show_error(form, error)
        except Forbidden:
            abort(404)
    elif "csrf_token" not in form.errors:  # the service names what else is wrong, so one submit shows it all
        add_problems(form, availability.plan_problems(**form.plan()))
    if result is None:
        if fragments.from_widget(PLAN_ID):
            return fragments.render("doctor/availability.html", "doctor/_plan_form.html", PLAN_ID, 422,
                                    doctor=doctor, form=form)
        return _page(doctor, week, form, 422)
    report, kind = _report(result)
    week = week_grid.requested_week(form.from_date.data.isoformat())
    if not fragments.from_widget(PLAN_ID):
        flash(report, kind)
        return redirect(url_for("availability.page", week=week.monday.isoformat(), **managed.link_args(doctor.id)))
    form.week.data = week.monday.isoformat()
    response = make_response(render_template("doctor/_plan_answer.html", doctor=doctor, form=form, report=report,
                                             report_kind=kind, **_calendar(doctor, week)))
    response.headers["HX-Replace-Url"] = url_for("availability.page", week=week.monday.isoformat(),
                                                 **managed.link_args(doctor.id))
    return response


def _report(result: availability.PlanResult) -> tuple[str, str]:
    """How many slots the plan made and skipped, and the message's kind; when it made none, why."""
    created = len(result.created)
    if created == 0:
        return (f"No slots were created: all {result.skipped} times of this plan overlap slots you already have "
                "or have already begun.", "error")
    return f"{created} slot{'s' if created != 1 else ''} created, {result.skipped} skipped (overlapping or past).", \
        "success"


def _slot_view(doctor, week, slot_id: int):
    """The slot as the calendar of that week shows it, or 404."""
    found = [view for day in _grid(doctor, week).days for view in day.views if view.slot.id == slot_id]
    return found[0] if found else abort(404)


@bp.get("/slots/<id:slot_id>/remove")
def confirm_remove(slot_id: int):
    """The confirmation step of a removal for browsers without JavaScript (htmx asks with hx-confirm)."""
    doctor = managed.chosen() or abort(404)
    week = week_grid.requested_week(request.args.get("week"))
    return render_template("doctor/remove_slot.html", doctor=doctor, view=_slot_view(doctor, week, slot_id),
                           week=week, doctor_arg=managed.link_args(doctor.id))


@bp.post("/slots/<id:slot_id>/remove")
def remove(slot_id: int):
    """Withdraw a free slot; a booked one stays, and the answer says why."""
    doctor = managed.chosen() or abort(404)
    week = week_grid.requested_week(request.form.get("week"))
    message, kind = None, "error"
    try:
        slot = availability.remove_slot(_actor(), slot_id)
    except Forbidden:
        abort(404)
    except (Conflict, NotFound) as error:
        message = BOOKED if isinstance(error, Conflict) else GONE
    else:
        message, kind = f"Removed the slot of {clinic_time.format_local(slot.starts_at)}.", "success"
    if not fragments.from_widget(MESSAGE_ID):
        flash(message, kind)
        return redirect(url_for("availability.page", week=week.monday.isoformat(), **managed.link_args(doctor.id)))
    response = make_response(render_template("doctor/_remove_answer.html", doctor=doctor, **_calendar(doctor, week),
                                             message=message, kind=kind))
    response.vary.update(fragments.VARY)
    return response
