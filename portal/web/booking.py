"""A doctor's page and booking from it: the week grid, holding a slot, confirming or releasing the hold.

Three regions of the page take part: the message next to the grid (#booking-message), the confirm
panel (#booking-panel) and the grid (#week-grid). An htmx answer fills one of them and refreshes the
others out of band (hx-swap-oob), so whatever happens the patient stays on the week they were looking
at and sees its slots as they are now. Without JavaScript the same forms post, and the page comes back
with the same regions filled; the open hold is in the URL (?hold=), so a refresh keeps the panel.
A patient holds one time at a time here: a new hold, and a booking, let go of the others. The hold
service notes why it let one go, so another tab of the same patient says what happened ("you picked
another time", "you already booked this time") - when it asks (a poll, focus, Confirm), not "expired".
"""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services import clinic_time, policy
from portal.services.directory import doctor_search
from portal.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RuleRefusal, Unavailable
from portal.services.scheduling import appointments, booking_rules, holds, slot_rules
from portal.web import fragments, week_grid
from portal.web.access import role_required
from portal.web.booking_forms import ConfirmForm
from portal.web.forms import show_error

bp = Blueprint("booking", __name__)

PANEL_ID = "booking-panel"
MESSAGE_ID = "booking-message"
TAKEN = {
    "slot_held": "Someone else is booking this time right now. Pick another time, or try this one again "
                 "in a few minutes.",
    "slot_booked": "This time was just booked. Please pick another time.",
    "hold_expired": "Your hold has expired and the time was released. Please pick a time again.",
}
LET_GO = {
    holds.Gone.REPLACED: "You picked another time (perhaps in another tab or window), so this one was let go. "
                         "Only the time you picked last is held for you.",
    holds.Gone.BOOKED: "You already booked this time: it is in your appointments.",
    holds.Gone.BOOKED_OTHER: "You booked another time meanwhile (perhaps in another tab or window), so this one "
                             "was let go.",
}
PAST = "That time has already begun. Please pick a later one."
GONE = "That time is no longer offered. Please pick another."
RELEASED = "The time is released for others to book."


def _problem(error: DomainError) -> str:
    """What a patient reads when a time slipped away or a booking rule refuses it: plain words, never a code."""
    if isinstance(error, RuleRefusal):
        return error.message  # too soon, too far, too many missed visits: the rule's own sentence
    if isinstance(error, NotFound):
        return GONE
    if isinstance(error, Invalid):
        return PAST  # the one Invalid a hold or a booking raises about the slot itself
    return TAKEN.get(error.code, error.message)


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _doctor(doctor_id: int):
    try:
        return policy.seen_doctor(auth_context.session_user(), doctor_id)
    except NotFound:
        abort(404)


def _week_of(slot) -> clinic_time.Week:
    return clinic_time.week_of(clinic_time.to_local(slot.starts_at).date())


def _page_url(doctor_id: int, week: clinic_time.Week, **args) -> str:
    return url_for("booking.doctor_page", doctor_id=doctor_id, week=week.monday.isoformat(), **args)


def _context(doctor, week: clinic_time.Week, **regions) -> dict:
    user = auth_context.session_user()
    grid = week_grid.build(doctor.id, week, "booking.doctor_page", {"doctor_id": doctor.id}, from_this_week=True)
    staff = policy.may_act_for_doctor(user, doctor.id)  # sees every slot: the rules do not bind them
    return {"doctor": doctor, "grid": grid, "me": policy.patient_id_of(user),
            "anonymous": user is None, "message_kind": "error", "now": clinic_time.now(),
            "rules_note": None if staff else booking_rules.window_note(doctor), **regions}


def _answer(doctor_id: int, week: clinic_time.Week, status: int = 200, **regions):
    """The three regions after a hold, confirm or release.

    For htmx: the panel (or, with a message, the message region via HX-Retarget) plus the other two
    out of band, with the URL set to what the page now shows; htmx swaps only 2xx and 422 answers, so a
    conflict goes to it as 200. Otherwise: the whole page with the conflict's status.
    """
    context = _context(_doctor(doctor_id), week, **regions)
    if not fragments.from_widget(PANEL_ID):
        return render_template("booking/doctor.html", **context), status
    response = make_response(render_template("booking/_answer.html", **context), 422 if status == 422 else 200)
    if regions.get("message"):
        response.headers.update({"HX-Retarget": f"#{MESSAGE_ID}", "HX-Reswap": "innerHTML"})
    hold = regions.get("hold")
    response.headers["HX-Replace-Url"] = _page_url(doctor_id, week, **({"hold": hold.hold_id} if hold else {}))
    response.vary.update(fragments.VARY)
    return response


@bp.get("/doctors/<id:doctor_id>")
def doctor_page(doctor_id: int):
    """The doctor and one week of their slots; ?hold= reopens the patient's confirm panel (refresh, no-JS)."""
    doctor = _doctor(doctor_id)
    week = week_grid.requested_week(request.args.get("week") or _first_free_day(doctor_id))
    regions = {}
    hold_id = request.args.get("hold")
    if hold_id and policy.patient_id_of(auth_context.session_user()) is not None:
        try:
            hold, slot = _my_hold(hold_id)
        except DomainError as error:
            regions = {"message": _problem(error)}
        else:
            if slot.doctor_id == doctor.id:
                regions, week = {"hold": hold, "slot": slot, "form": ConfirmForm(formdata=None)}, _week_of(slot)
    return fragments.render("booking/doctor.html", "booking/_grid.html", week_grid.GRID_ID,
                            **_context(doctor, week, **regions))


def _first_free_day(doctor_id: int) -> str | None:
    """Without ?week=, open on the week of the doctor's next free time rather than an empty week."""
    starts_at = doctor_search.next_free_slot(doctor_id)
    return clinic_time.to_local(starts_at).date().isoformat() if starts_at else None


def _hold_gone(hold_id: str) -> str:
    """What became of a hold that is no longer live, as the hold service remembers it; else it expired."""
    return LET_GO.get(holds.why_gone(_actor(), hold_id), TAKEN["hold_expired"])


def _my_hold(hold_id: str):
    """The signed-in patient's live hold and its slot, if the slot can still be booked."""
    hold = holds.own_hold(_actor(), hold_id)
    if hold is None:
        raise Conflict(_hold_gone(hold_id), code="hold_gone")
    return hold, slot_rules.bookable_slot(hold.slot_id)


@bp.post("/doctors/<id:doctor_id>/holds")
@role_required(Role.PATIENT)
def hold(doctor_id: int):
    """Hold the slot (letting go of any other the patient holds) and open the confirm panel; a time someone
    else has is said next to the grid."""
    week = week_grid.requested_week(request.form.get("week"))
    slot_id = request.form.get("slot_id", type=int)
    if slot_id is None:
        abort(400)
    try:
        held = holds.place_only_hold(_actor(), slot_id)
        slot = slot_rules.bookable_slot(held.slot_id)
    except RuleRefusal as error:
        return _answer(doctor_id, week, 422, message=_problem(error))
    except (Conflict, Invalid, NotFound) as error:
        return _answer(doctor_id, week, 409, message=_problem(error))
    except Unavailable as error:
        return _answer(doctor_id, week, 503, message=error.message)
    if not fragments.from_widget(PANEL_ID):
        return redirect(_page_url(slot.doctor_id, _week_of(slot), hold=held.hold_id))
    return _answer(slot.doctor_id, _week_of(slot), hold=held, slot=slot, form=ConfirmForm(formdata=None))


@bp.post("/doctors/<id:doctor_id>/holds/<hold_id>/confirm")
@role_required(Role.PATIENT)
def confirm(doctor_id: int, hold_id: str):
    form = ConfirmForm()
    week = week_grid.requested_week(form.week.data)
    try:
        booked = appointments.book(_actor(), hold_id=hold_id, reason=form.reason.data)
    except Forbidden:
        abort(404)  # someone else's hold: as if it did not exist
    except RuleRefusal as error:  # the service let the hold go: the time cannot be booked online now
        return _answer(doctor_id, week, 422, message=_problem(error))
    except (Invalid, Conflict, NotFound) as error:
        if (isinstance(error, Invalid) and "reason" in error.fields) or error.code == "appointment_overlap":
            return _refused(doctor_id, week, hold_id, form, error)
        message = _hold_gone(hold_id) if error.code == "hold_expired" else _problem(error)
        return _answer(doctor_id, week, 409, message=message)
    except Unavailable as error:
        return _answer(doctor_id, week, 503, message=error.message)
    holds.release_other_holds(_actor(), booked=hold_id)
    when = clinic_time.format_local(booked.starts_at)
    if not fragments.from_widget(PANEL_ID):
        flash(f"Booked: {when} with {booked.doctor.full_name}.", "success")
        return redirect(url_for("main.dashboard"))
    return _answer(doctor_id, _week_of(booked.slot), appointment=booked)


def _refused(doctor_id: int, week: clinic_time.Week, hold_id: str, form: ConfirmForm, error: DomainError):
    """The panel again with the service's complaint, while the hold lasts (a reason too long, a clash)."""
    show_error(form, error)
    try:
        hold, slot = _my_hold(hold_id)
    except DomainError as gone:
        return _answer(doctor_id, week, 409, message=_problem(gone))
    return _answer(doctor_id, _week_of(slot), 422, hold=hold, slot=slot, form=form)


@bp.get("/doctors/<id:doctor_id>/holds/<hold_id>")
@role_required(Role.PATIENT)
def hold_state(doctor_id: int, hold_id: str):
    """The open panel asks now and then (and when its tab gets focus) whether its hold still stands: 204 while
    it does; otherwise the panel closes and says what happened. Without htmx: the page with ?hold=."""
    week = week_grid.requested_week(request.args.get("week"))
    if not fragments.from_widget(PANEL_ID):
        return redirect(_page_url(doctor_id, week, hold=hold_id))
    try:
        _my_hold(hold_id)
    except DomainError as error:
        return _answer(doctor_id, week, 409, message=_problem(error))
    return "", 204


@bp.post("/doctors/<id:doctor_id>/holds/<hold_id>/release")
@role_required(Role.PATIENT)
def release(doctor_id: int, hold_id: str):
    """Give the time back; a hold that has already expired is released all the same."""
    week = week_grid.requested_week(request.form.get("week"))
    try:
        holds.release_hold(_actor(), hold_id)
    except NotFound:
        pass
    except Unavailable as error:
        return _answer(doctor_id, week, 503, message=error.message)
    if not fragments.from_widget(PANEL_ID):
        flash(RELEASED, "info")
        return redirect(_page_url(doctor_id, week))
    return _answer(doctor_id, week, message=RELEASED, message_kind="info")
