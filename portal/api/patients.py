"""/patients: profiles staff create, search, edit and archive; the patient's own profile; and the
doctors, appointments and records hanging off one.

"Visible" patients: a doctor's own creations, those assigned to them (while the assignment lasts) and
those with an appointment with them; an admin sees all; a patient only themselves. Any other id, and
any archived patient, is 404. Every read and write is written to the audit log.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import created, deleted, ok, updated
from portal.api.idempotency import idempotent
from portal.api.paging import answer
from portal.api.schemas.booking import AppointmentSchema
from portal.api.schemas.common import PageArgsSchema, envelope
from portal.api.schemas.patients import (
    AssignedDoctorSchema,
    PatientChangesSchema,
    PatientCreateSchema,
    PatientListArgsSchema,
    PatientSchema,
)
from portal.api.schemas.records import RecordSchema
from portal.models import Role
from portal.services.records import medical_records, patients

blp = ApiBlueprint("patients", __name__, url_prefix="/patients", description=(
    "Patient profiles. Staff (doctors, admins) create and search them; everyone reads and edits the ones "
    "they may see (a patient: their own, contact fields only). Patients you may not see, or archived ones, "
    "are 404. DELETE archives: the profile leaves lists and reads and stays in the database with its records."))


@blp.get("")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.arguments(PatientListArgsSchema, location="query")
@blp.response(200, envelope(PatientSchema, many=True, paged=True))
@blp.fails_with(422)
def list_patients(args):
    """The patients you may see, by name, paged (doctors and admins; patients 403).

    `q`: words that must all match, each in the name (any case, accents ignored: `zoe` finds Zoë), the
    date of birth (`1980-05-17`, `17.05.1980`) or the phone number (digits; spaces and punctuation ignored).
    """
    result = patients.list_patients(auth.actor(), q=args.get("q"), page=args["page"], per_page=args["per_page"],
                                    item_json=row_json(PatientSchema))
    return answer(result, "Patients.")


@blp.post("")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@idempotent(blp)
@blp.arguments(PatientCreateSchema)
@blp.response(201, envelope(PatientSchema))
@blp.fails_with(422)
def create_patient(body):
    """Create a patient profile (doctors and admins). You see it from then on; its creating doctor may archive it."""
    return created(patients.create_patient(auth.actor(), **body), "Patient created.")


@blp.get("/<id:patient_id>")
@blp.auth()
@blp.response(200, envelope(PatientSchema))
@blp.fails_with(404)
def show_patient(patient_id):
    """One patient profile you may see (404 otherwise)."""
    return ok(patients.get_patient(auth.actor(), patient_id), "Patient.")


@blp.route("/<id:patient_id>", methods=["PATCH", "PUT"])
@blp.auth()
@blp.arguments(PatientChangesSchema)
@blp.response(200, envelope(PatientSchema))
@blp.fails_with(403, 404)
def change_patient(body, patient_id):
    """Change a profile you may see; PUT is the same as PATCH: fields left out stay.

    A patient may change only their own `address`, `city`, `phone` and `email`: a body with any other
    field is **403** `forbidden` and changes nothing (the fields are real, the role may not set them).
    """
    return updated(patients.update_patient(auth.actor(), patient_id, **body), "Patient updated.")


@blp.delete("/<id:patient_id>")
@blp.auth()
@blp.response(200, envelope(PatientSchema))
@blp.fails_with(403, 404)
def archive_patient(patient_id):
    """Archive a patient (an admin, or the doctor who created the profile; 403 for others who see it).

    It is then 404 everywhere and gone from lists; the row, its assignments and records stay. Of
    simultaneous deletes one archives it; the others are 404, as a later delete is.
    """
    return deleted(patients.archive_patient(auth.actor(), patient_id), "Patient archived.")


@blp.get("/<id:patient_id>/doctors")
@blp.auth()
@blp.response(200, envelope(AssignedDoctorSchema, many=True))
@blp.fails_with(404)
def patient_doctors(patient_id):
    """The doctors with an active assignment to a patient you may see, by name (not paged: a handful)."""
    return ok(patients.patient_doctors(auth.actor(), patient_id), "Assigned doctors.")


@blp.get("/<id:patient_id>/appointments")
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(AppointmentSchema, many=True, paged=True))
@blp.fails_with(404)
def patient_appointments(args, patient_id):
    """A visible patient's appointments, newest first, paged: those you may also read one by one at
    /appointments/{id} (a doctor: the ones with them; the patient and admins: all)."""
    result = patients.patient_appointments(auth.actor(), patient_id, page=args["page"], per_page=args["per_page"])
    return answer(result, "Appointments of the patient.")


@blp.get("/<id:patient_id>/records")
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(RecordSchema, many=True, paged=True))
@blp.fails_with(404)
def patient_records(args, patient_id):
    """A visible patient's medical records, newest recorded first, paged (archived ones are left out)."""
    result = medical_records.patient_records(auth.actor(), patient_id, page=args["page"], per_page=args["per_page"],
                                             item_json=row_json(RecordSchema))
    return answer(result, "Records of the patient.")
