"""/assignments: which doctors look after which patients. Doctors and admins only (patients read their
doctors at /patients/{id}/doctors); only assignments of patients you may see exist for you."""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted
from portal.api.paging import answer
from portal.api.schemas.common import envelope
from portal.api.schemas.patients import AssignmentCreateSchema, AssignmentListArgsSchema, AssignmentSchema
from portal.models import Role
from portal.services.records import assignments

blp = ApiBlueprint("assignments", __name__, url_prefix="/assignments", description=(
    "Doctor-patient assignments, for doctors and admins (patients get 403). An active assignment makes the "
    "patient visible to its doctor; DELETE ends it (the row stays with `ended_at`), after which it no longer "
    "does, and the same pair may be assigned again."))


@blp.post("")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.arguments(AssignmentCreateSchema)
@blp.response(201, envelope(AssignmentSchema))
@blp.fails_with(404, 409)
def create_assignment(body):
    """Assign a doctor (yourself or a colleague) to a patient you may see.

    404 for a patient you may not see or an unknown doctor; 409 `assignment_exists` while that doctor
    has an active assignment to the patient (also when two such requests race: one wins).
    """
    assignment = assignments.create_assignment(auth.actor(), body["patient_id"], body["doctor_id"])
    return created(assignment, "Doctor assigned.")


@blp.get("")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.arguments(AssignmentListArgsSchema, location="query")
@blp.response(200, envelope(AssignmentSchema, many=True, paged=True))
@blp.fails_with(422)
def list_assignments(args):
    """Assignments of the patients you may see, newest first, paged; filter by `patient_id`, `doctor_id`.

    Ended assignments are listed only with `include_ended=true`.
    """
    result = assignments.list_assignments(auth.actor(), patient_id=args.get("patient_id"),
                                          doctor_id=args.get("doctor_id"), include_ended=args["include_ended"],
                                          page=args["page"], per_page=args["per_page"])
    return answer(result, "Assignments.")


@blp.delete("/<id:assignment_id>")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@blp.response(200, envelope(AssignmentSchema))
@blp.fails_with(404, 409)
def end_assignment(assignment_id):
    """End an assignment: the answer carries it with `ended_at` set. 409 `assignment_ended` when it already has."""
    return deleted(assignments.end_assignment(auth.actor(), assignment_id), "Assignment ended.")
