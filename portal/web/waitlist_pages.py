"""The waitlist in the portal: "tell me when something opens", the offer's link, leaving it.

A doctor's page and a speciality search link to the form, prefilled. The patient's dashboard shows the
entries (waitlist_section gives its template what it needs): each offer with the hold's countdown and a
"Book it" button, how many wait (never who) and "Leave the waitlist". The link in an offer mail
(/waitlist/offers/<id>, built by waitlist_matching.offer_link) opens the doctor's page with the offered
hold in its confirm panel, where one "Confirm" books it. Everything here is the patient's own: another's
entry or offer is a 404.
"""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services import clinic_time, policy
from portal.services.directory import doctor_search
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.scheduling import holds, waitlist
from portal.web.access import role_required
from portal.web.booking_forms import WEEKDAYS
from portal.web.forms import show_error
from portal.web.waitlist_forms import SERVICE_FIELDS, WaitlistForm

bp = Blueprint("waitlist", __name__, url_prefix="/waitlist")

DASHBOARD_ENTRIES = 10
OFFER_ENDED = {
    "booked": "You booked this time: it is in your appointments.",
    "expired": "This offer has expired and passed to the next person waiting. You are still on the waitlist.",
    "withdrawn": "This offer was withdrawn when you left the waitlist.",
}


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _doctor(doctor_id):
    """The doctor the form is about, as the directory shows them (404 for one it does not)."""
    if not doctor_id:
        return None
    try:
        return policy.seen_doctor(auth_context.session_user(), int(doctor_id))
    except (NotFound, ValueError):
        abort(404)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def join():
    """The form, prefilled from ?doctor_id= or ?speciality= (and ?from=/?to= of a search); on success the
    dashboard, where the entry is shown."""
    if request.method == "GET":
        form = WaitlistForm.prefilled(request.args.get("doctor_id", type=int), request.args.get("speciality"),
                                      _day("from"), _day("to"))
    else:
        form = WaitlistForm()
    doctor = _doctor(form.doctor_id.data)
    if request.method == "POST" and form.validate():
        try:
            waitlist.join(_actor(), **form.wanted())
        except (Invalid, NotFound, Conflict) as error:
            if isinstance(error, Invalid):
                error = Invalid({SERVICE_FIELDS.get(name, name): problems for name, problems in error.fields.items()})
            show_error(form, error)
        else:
            flash("You are on the waitlist. When a matching time opens, we hold it for you and send you a mail.",
                  "success")
            return redirect(url_for("main.dashboard", _anchor="waitlist"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("waitlist/join.html", form=form, doctor=doctor), status


def waitlist_section(user) -> dict:
    """What the patient dashboard's waitlist section shows: the newest entries with offers and counts."""
    views = waitlist.list_entries(auth_context.actor_for(user), per_page=DASHBOARD_ENTRIES)
    return {"waitlist": views, "now": clinic_time.now(), **_entry_words(views.items)}


def _entry_words(views) -> dict:
    """What the entries' sentences need: an entry keeps its speciality folded to lower case (as matching
    compares it), so it is shown as the directory spells it ("Neurology", not "neurology")."""
    names = ({info.name.lower(): info.name for info in doctor_search.specialities()}
             if any(view.entry.speciality for view in views) else {})
    return {"window_days": waitlist.window_days, "weekday_names": WEEKDAYS, "speciality_names": names}


@bp.get("/offers/<id:offer_id>")
@role_required(Role.PATIENT)
def offer(offer_id: int):
    """The mail's one-click link: the doctor's page with the offered hold open, ready to confirm."""
    try:
        found = waitlist.own_offer(_actor(), offer_id)
    except NotFound:
        abort(404)
    hold = holds.own_hold(_actor(), found.hold_id) if found.outcome is None else None
    if hold is None:
        flash(OFFER_ENDED.get(found.outcome or "expired"), "info")
        return redirect(url_for("main.dashboard", _anchor="waitlist"))
    week = clinic_time.week_of(clinic_time.to_local(found.slot.starts_at).date())
    return redirect(url_for("booking.doctor_page", doctor_id=found.slot.doctor_id, week=week.monday.isoformat(),
                            hold=hold.hold_id))


@bp.route("/<id:entry_id>/leave", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def leave(entry_id: int):
    """GET: are you sure? POST: leave (the entry stays, cancelled); back to the dashboard either way."""
    if request.method == "GET":  # the question names the entry, as the dashboard does; another's is a 404
        try:
            view = waitlist.get_entry(_actor(), entry_id)
        except NotFound:
            abort(404)
        return render_template("waitlist/leave.html", entry_id=entry_id, view=view, **_entry_words([view]))
    try:  # the CSRF token is checked for every form post (extensions.csrf)
        waitlist.leave(_actor(), entry_id)
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(error.message, "info")
    else:
        flash("You left the waitlist.", "success")
    return redirect(url_for("main.dashboard", _anchor="waitlist"))
