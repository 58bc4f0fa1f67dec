"""/doctors/{id}/absences and /absences/{id}: a doctor's holidays and sick days, and what they do to slots.

The rules live in services.scheduling.absences; this module turns requests into its calls.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted, ok
from portal.api.paging import answer
from portal.api.schemas.absences import (
    AbsenceCreateSchema,
    AbsenceDeletedSchema,
    AbsenceDetailSchema,
    AbsenceListArgsSchema,
    AbsenceSchema,
)
from portal.api.schemas.common import envelope
from portal.models import Role
from portal.services.scheduling import absences

blp = ApiBlueprint("absences", __name__, url_prefix="", description=(
    "A doctor's absences (holiday, sick day), for that doctor and admins (patients get 403, another doctor 403 "
    "for a doctor's list and 404 for one absence). Free slots in the range are withdrawn, not deleted: they "
    "are no longer listed (`/doctors/{id}/slots`, `/specialities/{name}/slots`, `next_free_slot`), and holding "
    "or booking one is 404, as for a removed slot; deleting the absence offers them again. Booked slots stay "
    "booked: their appointments are `affected`, for staff to move or cancel (a slot freed inside an active "
    "absence stays withdrawn)."))


@blp.post("/doctors/<id:doctor_id>/absences")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.arguments(AbsenceCreateSchema)
@blp.response(201, envelope(AbsenceDetailSchema))
@blp.fails_with(403, 404, 422)
def create_absence(body, doctor_id):
    """Mark the doctor absent from `starts_at` to `ends_at` (that doctor or an admin).

    Withdraws the doctor's free slots ahead that overlap the range (`withdrawn` counts them) and lists
    the upcoming booked appointments inside it (`affected`, as GET /appointments/{id} shows them).
    Absences may overlap: a slot another absence already withdrew stays with that one. 400 when
    `starts_at` or `ends_at` is missing; 422 (every field at once) when the end is not after the
    start, the range is longer than 366 days, it has already ended or starts more than 730 days ahead,
    or the reason is over 200 characters; 404 for an unknown doctor. A booking racing the absence for
    the same slot either wins (its appointment is then affected) or finds no such slot (404).
    """
    made = absences.create(auth.actor(), doctor_id, body["starts_at"], body["ends_at"], body.get("reason"))
    return created(made, f"Absence marked: {made.withdrawn} free slots withdrawn, "
                         f"{len(made.affected)} booked appointments to move or cancel.")


@blp.get("/doctors/<id:doctor_id>/absences")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.arguments(AbsenceListArgsSchema, location="query")
@blp.response(200, envelope(AbsenceSchema, many=True, paged=True))
@blp.fails_with(403, 404, 422)
def list_absences(args, doctor_id):
    """The doctor's absences, latest start first (those ahead before those past), paged; deleted ones only
    with `include_archived=true`."""
    page = absences.list_absences(auth.actor(), doctor_id, page=args["page"], per_page=args["per_page"],
                                  include_archived=args["include_archived"])
    return answer(page, "Absences.")


@blp.get("/absences/<id:absence_id>")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.response(200, envelope(AbsenceDetailSchema))
@blp.fails_with(403, 404)
def get_absence(absence_id):
    """One active absence with `affected` as it stands now: the upcoming booked appointments still inside it
    (those moved or cancelled meanwhile have left). 404 for another doctor's absence or a deleted one."""
    return ok(absences.get_absence(auth.actor(), absence_id), "Absence.")


@blp.delete("/absences/<id:absence_id>")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.response(200, envelope(AbsenceDeletedSchema))
@blp.fails_with(403, 404)
def delete_absence(absence_id):
    """Delete an absence (archived: the row stays, with `archived_at`): its withdrawn slots ahead are offered
    again (`returned`), except those another active absence covers (`still_withdrawn`). Appointments that
    were cancelled or moved meanwhile stay so. 404 for an absence of another doctor or one already deleted."""
    gone = absences.delete(auth.actor(), absence_id)
    return deleted(gone, f"Absence deleted: {gone.returned} slots offered again.")
