"""Booking at the desk: a doctor (their own slots) or an admin (any doctor's) books a time for a patient on the
phone. Three steps on one page, each in the URL so a refresh or the back button keeps the place: pick the
patient (a live search among the patients one sees, ?patient_id=), for an admin the doctor (?doctor_id=),
then a free time in the doctor's week grid (?week=, ?slot_id=), and confirm. Staff see every free slot (the
booking rules bind patients only). The booking is appointments.book_for, the service the API calls, so
the patient gets the same mail; a time that slipped away is said above the grid, on the same week.
Without JavaScript every step is a plain link or form; htmx swaps the search results and the week.
"""
from flask import Blueprint, abort, flash, redirect, request, url_for

from portal.models import Role
from portal.services import clinic_time, policy
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.records import patients
from portal.services.scheduling import appointments
from portal.web import managed_doctor as managed
from portal.web import patient_pages as pages
from portal.web import week_grid
from portal.web.access import role_required
from portal.web.booking_forms import DeskBookingForm
from portal.web.forms import show_error
from portal.web.record_forms import PatientSearchForm

bp = Blueprint("desk_booking", __name__, url_prefix="/desk-booking")

RESULTS_ID = "desk-patients"
PER_PAGE = 10
TAKEN = {
    "slot_held": "A patient is booking this time online right now. Pick another time, or try again in a few minutes.",
    "slot_booked": "This time was just booked. Pick another time.",
    "appointment_overlap": "The patient already has an appointment at that time. Pick another time.",
}
GONE = "That time is no longer offered. Pick another time."
PAST = "That time has already begun. Pick a later one."


@bp.before_request
@role_required(Role.DOCTOR, Role.ADMIN)
def _staff_only():
    """Doctors book their own times, admins anyone's; patients book on the doctor pages."""


def _patient():
    """The picked patient (?patient_id= or the form's), None before one is picked; 404 for one not seen."""
    patient_id = pages.id_arg(request.values, "patient_id")
    return pages.visible(patients.get_patient, patient_id) if patient_id else None


def _args(patient, doctor) -> dict:
    """What every link of the page keeps: the patient and, for an admin, the doctor."""
    values = {"patient_id": patient.id}
    if doctor is not None and policy.is_admin(pages.actor().user):
        values["doctor_id"] = doctor.id
    return values


def _page(patient, doctor, week, *, status: int = 200, message: str | None = None, picked_id: int | None = None,
          form: DeskBookingForm | None = None):
    admin = policy.is_admin(pages.actor().user)
    context = {"patient": patient, "doctor": doctor, "message": message, "admin": admin,
               "doctor_arg": {"doctor_id": doctor.id} if doctor is not None and admin else {}}
    if patient is None:
        search = PatientSearchForm(request.args)
        q = ((search.q.data or "").strip() or None) if search.validate() else None
        context.update(search=search, listing=patients.list_patients(pages.actor(), q=q, per_page=PER_PAGE,
                                                                     page=pages.page_number(request.args)))
        return pages.render("desk_booking/page.html", "desk_booking/_patients.html", RESULTS_ID, status, **context)
    if doctor is None:
        return pages.render("desk_booking/page.html", "desk_booking/_patients.html", RESULTS_ID, status,
                            doctors=managed.choices(), **context)
    grid = week_grid.build(doctor.id, week, "desk_booking.page", _args(patient, doctor))
    picked = next((view.slot for day in grid.days for view in day.views
                   if view.slot.id == picked_id and view.state == "free"), None)
    if picked_id is not None and picked is None and message is None:
        message, status = TAKEN["slot_booked"], 409
    if picked is not None and form is None:
        form = DeskBookingForm(formdata=None, data={"patient_id": patient.id, "slot_id": picked.id,
                                                    "doctor_id": doctor.id, "week": week.monday.isoformat()})
    context.update(grid=grid, picked=picked, form=form, args=_args(patient, doctor))
    return pages.render("desk_booking/page.html", "desk_booking/_grid.html", week_grid.GRID_ID, status, **context)


@bp.get("")
def page():
    """The step the URL is at: find the patient, (an admin) pick the doctor, pick a time, confirm it."""
    return _page(_patient(), managed.chosen(), week_grid.requested_week(request.args.get("week")),
                 picked_id=request.args.get("slot_id", type=int))


@bp.post("")
def book():
    """Book the confirmed time for the patient; a time that slipped away keeps the patient and the week."""
    form = DeskBookingForm()
    patient, doctor = _patient(), managed.chosen()
    week = week_grid.requested_week(form.week.data)
    slot_id = pages.id_arg(request.form, "slot_id")
    if patient is None or doctor is None or slot_id is None:
        abort(400)
    if not form.validate():
        return _page(patient, doctor, week, status=422, picked_id=slot_id, form=form)
    try:
        booked = appointments.book_for(pages.actor(), patient_id=patient.id, slot_id=slot_id,
                                       reason=form.reason.data)
    except Invalid as error:
        if "reason" in error.fields:
            show_error(form, error)
            return _page(patient, doctor, week, status=422, picked_id=slot_id, form=form)
        return _page(patient, doctor, week, status=409, message=PAST)
    except Forbidden as error:
        return _page(patient, doctor, week, status=403, message=error.message)
    except NotFound:
        return _page(patient, doctor, week, status=409, message=GONE)
    except Conflict as error:
        return _page(patient, doctor, week, status=409, message=TAKEN.get(error.code, error.message))
    flash(f"Booked {clinic_time.format_local(booked.starts_at)} with {booked.doctor.full_name} for "
          f"{booked.patient.full_name}. They get a confirmation by mail.", "success")
    return redirect(url_for("patients.show", patient_id=patient.id))
