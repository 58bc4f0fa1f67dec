"""/departments and /specialities: the clinic directory anyone may read and admins keep up to date.

These lists are not paged: a clinic has tens of departments and specialities, each read in one
query. A speciality's free slots are bounded by their window (at most 92 days, 2000 slots).
GET /departments/{id}/records belongs to the medical-records endpoints, not here.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import created, deleted, ok, ok_items, updated
from portal.api.schemas.common import MessageEnvelopeSchema, envelope
from portal.api.schemas.directory import (
    DepartmentChangesSchema,
    DepartmentCreateSchema,
    DepartmentSchema,
    DoctorSummarySchema,
    SpecialitySchema,
    SpecialitySlotsArgsSchema,
    SpecialitySlotSchema,
)
from portal.models import Role
from portal.services.directory import doctor_search, listings
from portal.services.errors import NotFound

departments = ApiBlueprint("departments", __name__, url_prefix="/departments", description=(
    "Departments of the clinic: anyone reads them (a short list, not paged), admins change them; "
    "deleting archives."))
specialities = ApiBlueprint("specialities", __name__, url_prefix="/specialities", description=(
    "Specialities of the active doctors (not paged) and their free slots in a window."))


@departments.get("")
@departments.response(200, envelope(DepartmentSchema, many=True))
def list_departments():
    """Every department, by name, with its number of active doctors (not paged: a clinic has few)."""
    return ok(listings.list_departments(), "Departments.")


@departments.get("/<id:department_id>")
@departments.response(200, envelope(DepartmentSchema))
@departments.fails_with(404)
def show_department(department_id):
    """One department with its number of active doctors; an archived one is 404."""
    return ok(listings.get_department(department_id), "Department.")


@departments.post("")
@departments.auth(Role.ADMIN)
@departments.arguments(DepartmentCreateSchema)
@departments.response(201, envelope(DepartmentSchema))
@departments.fails_with(409, 422)
def create_department(body):
    """Add a department (admins). 409 `department_name_taken` when an active one has that name in any case."""
    return created(listings.create_department(auth.actor(), **body), "Department created.")


@departments.route("/<id:department_id>", methods=["PATCH", "PUT"])
@departments.auth(Role.ADMIN)
@departments.arguments(DepartmentChangesSchema)
@departments.response(200, envelope(DepartmentSchema))
@departments.fails_with(404, 409, 422)
def change_department(body, department_id):
    """Rename or describe a department (admins); PUT is the same as PATCH: fields left out stay.

    409 `department_name_taken` when another active department has the new name.
    """
    return updated(listings.update_department(auth.actor(), department_id, **body), "Department updated.")


@departments.delete("/<id:department_id>")
@departments.auth(Role.ADMIN)
@departments.response(200, MessageEnvelopeSchema)
@departments.fails_with(404, 409)
def delete_department(department_id):
    """Archive a department (admins): it leaves every list, its history stays.

    409 `department_in_use` while active doctors belong to it; move or archive them first.
    """
    listings.delete_department(auth.actor(), department_id)
    return deleted(None, "Department archived.")


@departments.get("/<id:department_id>/doctors")
@departments.response(200, envelope(DoctorSummarySchema, many=True))
@departments.fails_with(404)
def department_doctors(department_id):
    """The active doctors of a department, by name (for their next free slots use GET /doctors?department_id=)."""
    return ok(doctor_search.department_doctors(department_id), "Doctors of the department.")


@specialities.get("")
@specialities.response(200, envelope(SpecialitySchema, many=True))
def list_specialities():
    """Each speciality of the active doctors, by name, with how many practise it (spellings differing
    only in case are one speciality)."""
    return ok(doctor_search.specialities(), "Specialities.")


@specialities.get("/<path:name>/slots")
@specialities.arguments(SpecialitySlotsArgsSchema, location="query")
@specialities.response(200, envelope(SpecialitySlotSchema, many=True))
@specialities.fails_with(404, 422)
def speciality_slots(args, name):
    """Free slots nobody holds, of every doctor of the speciality (any case), in time order.

    `start` and `end` are both required (400 `missing_field`); 422 when start >= end or the window is
    longer than 92 days; 404 for a speciality no active doctor has; `[]` when nothing is free. At most
    2000 slots: narrow the window for more.
    """
    if "\x00" in name:  # no speciality holds a NUL, and PostgreSQL refuses to compare with one
        raise NotFound("No doctor has that speciality.")
    start, end = args.get("start"), args.get("end")
    written = doctor_search.speciality_free_slots_json(name, start, end, row_json(SpecialitySlotSchema))
    if written is not None:  # PostgreSQL wrote each slot's JSON: no rows to load nor dump
        return ok_items(written, _slots_message(written))
    slots = doctor_search.speciality_free_slots(name, start, end)
    return ok(slots, _slots_message(slots))


def _slots_message(slots: list) -> str:
    return "Free slots." if slots else "No free slots in that window."
