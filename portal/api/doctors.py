"""/doctors: finding doctors and their free times (anyone), and keeping their profiles (admins, the doctor).

Their slots are in slots.py. A doctor who leaves is archived, not deleted: their past appointments
stay readable, and they drop out of every list and read here (404).
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted, ok, paged, updated
from portal.api.schemas.common import MessageEnvelopeSchema, envelope
from portal.api.schemas.directory import (
    DoctorChangesSchema,
    DoctorCreateSchema,
    DoctorDetailArgsSchema,
    DoctorDetailSchema,
    DoctorListingSchema,
    DoctorProfileSchema,
    DoctorSearchArgsSchema,
)
from portal.models import Role
from portal.services.directory import doctor_search, listings

blp = ApiBlueprint("doctors", __name__, url_prefix="/doctors",
                   description="Doctors: search, profiles with free slots, and profile upkeep.")


@blp.get("")
@blp.arguments(DoctorSearchArgsSchema, location="query")
@blp.response(200, envelope(DoctorListingSchema, many=True, paged=True))
@blp.fails_with(422)
def search(args):
    """Active doctors by name, paged, each with the start of their next free slot.

    Filters combine: `speciality` (exact, any case), `department_id`, `q` (a fragment of the name, any
    case), and `available_from` / `available_to` (only doctors with a free slot in that window; either
    bound alone is enough: the other defaults to now / 14 days on; 422 when the end is not after the start).
    """
    result = doctor_search.search_doctors(
        speciality=args.get("speciality"), department_id=args.get("department_id"), q=args.get("q"),
        available_from=args.get("available_from"), available_to=args.get("available_to"),
        page=args["page"], per_page=args["per_page"])
    return paged(result.items, result.page, result.per_page, result.total, "Doctors.")


@blp.get("/<id:doctor_id>")
@blp.arguments(DoctorDetailArgsSchema, location="query")
@blp.response(200, envelope(DoctorDetailSchema))
@blp.fails_with(404, 422)
def show(args, doctor_id):
    """A doctor's public profile and the slots a patient could pick in [from, to): free, held by nobody, and
    inside the doctor's booking rules (minimum notice and horizon, shown in the profile; null = the clinic's).

    The window defaults to the next 14 days and may span at most 92 (422 beyond, or when `to` is not after `from`).
    """
    detail = doctor_search.doctor_detail(doctor_id, args.get("start"), args.get("end"))
    return ok(detail, "Doctor.")


@blp.post("")
@blp.auth(Role.ADMIN)
@blp.arguments(DoctorCreateSchema)
@blp.response(201, envelope(DoctorProfileSchema))
@blp.fails_with(409, 422)
def create(body):
    """Add a doctor profile (admins): full_name, speciality and department_id are required.

    `user_id` links a doctor account that has no profile yet (422 for another kind of account; 409
    `doctor_account_taken` when that account already has one). 422 for an unknown department.
    """
    return created(listings.create_doctor(auth.actor(), **body), "Doctor created.")


@blp.route("/<id:doctor_id>", methods=["PATCH", "PUT"])
@blp.auth()
@blp.arguments(DoctorChangesSchema)
@blp.response(200, envelope(DoctorProfileSchema))
@blp.fails_with(403, 404, 409, 422)
def change(body, doctor_id):
    """Change a doctor profile: an admin, or that doctor (403 for anyone else); PUT is the same as PATCH.

    Fields left out stay as they are. Only an admin may change `user_id` and the booking rules of the
    doctor's slots (`min_notice_minutes`, `horizon_days`, `change_cutoff_hours`; null = the clinic's
    setting): a doctor changing them is 403 and nothing changes, while sending their current values back
    (a whole profile as it was read) is accepted.
    """
    return updated(listings.update_doctor(auth.actor(), doctor_id, **body), "Doctor updated.")


@blp.delete("/<id:doctor_id>")
@blp.auth(Role.ADMIN)
@blp.response(200, MessageEnvelopeSchema)
@blp.fails_with(404, 409)
def delete(doctor_id):
    """Archive a doctor (admins) and withdraw their future free slots.

    409 `doctor_has_appointments` while upcoming appointments are booked with them: cancel or move those first.
    """
    listings.delete_doctor(auth.actor(), doctor_id)
    return deleted(None, "Doctor archived.")
