"""/records: medical records with every earlier version kept, and /departments/{id}/records.

A write names the version it is based on, as `version` in the body or `If-Match: "<version>"`; an
older one is 409 `stale_record` with the current record in `data`, so a client can show both texts.
Answers carrying one record carry its version as `ETag: "<version>"` too. Reads and writes are audited.
"""
import re

from flask import request

from portal.api import auth, errors
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import created, deleted, failure, ok, updated
from portal.api.idempotency import idempotent
from portal.api.paging import answer
from portal.api.schemas.common import PageArgsSchema, envelope
from portal.api.schemas.records import (
    RecordChangesSchema,
    RecordCreateSchema,
    RecordListArgsSchema,
    RecordSchema,
    RecordVersionSchema,
    StaleRecordEnvelopeSchema,
)
from portal.models import Role
from portal.services.records import medical_records
from portal.services.records.medical_records import StaleRecord

blp = ApiBlueprint("records", __name__, url_prefix="/records", description=(
    "Medical records of the patients you may see (others are 404). Doctors and admins file and edit them; "
    "a patient reads their own, and any write by a patient is 403. Every edit keeps the version it "
    "replaces (GET /records/{id}/history); DELETE archives. Concurrent edits never overwrite each other: "
    "send the version you edited (`version` or `If-Match`), an older one is 409 `stale_record`."))
department_records = ApiBlueprint("department_records", __name__, url_prefix="/departments", description=(
    "Medical records filed under a department, for the department's doctors and admins."))

STALE = ("`stale_record`: the record has moved past the version this write was based on; `data` is the "
         "current record, `ETag` its version.")
ETAG = re.compile(r'^(?:W/)?"?([1-9][0-9]{0,8})"?$')
IF_MATCH = {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": 'The version the change is based on, as an ETag: `"3"` (instead of `version`).'}


def _with_etag(body, record):
    return body, 200, {"ETag": f'"{record.version}"'}


def _version(body: dict) -> int | None:
    """The version a write is based on, from the body or If-Match (they must agree)."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        match = ETAG.match(header.strip())
        if match is None:
            raise errors.invalid_fields({"If-Match": ['Send the record\'s version, e.g. If-Match: "3".']})
        from_header = int(match.group(1))
    if from_header is not None and body.get("version") not in (None, from_header):
        raise errors.invalid_fields({"version": ["The version and If-Match disagree."]})
    return body.get("version", from_header)


def _stale(error: StaleRecord):
    response = failure(409, "failed", error.code, error.message, data=RecordSchema().dump(error.current))
    response.headers["ETag"] = f'"{error.current.version}"'
    return response


@blp.get("")
@blp.auth()
@blp.arguments(RecordListArgsSchema, location="query")
@blp.response(200, envelope(RecordSchema, many=True, paged=True))
@blp.fails_with(422)
def list_records(args):
    """Records you may see, newest recorded first, paged; filter by `patient_id`, `doctor_id`,
    `department_id`, and `year` or `year` + `month` in the clinic's time zone (`month` alone is 422)."""
    filters = {name: args.get(name) for name in ("patient_id", "doctor_id", "department_id", "year", "month")}
    result = medical_records.list_records(auth.actor(), **filters, page=args["page"], per_page=args["per_page"])
    return answer(result, "Records.")


@blp.post("")
@blp.auth(Role.DOCTOR, Role.ADMIN)
@idempotent(blp)
@blp.arguments(RecordCreateSchema)
@blp.response(201, envelope(RecordSchema))
@blp.fails_with(404, 422)
def create_record(body):
    """File a record for a patient you may see (doctors and admins): version 1.

    A doctor's record names them as its doctor and, unless `department_id` says otherwise, is filed
    under their department. 404 for a patient you may not see; 422 for an unknown department, a blank
    `diagnostics` or a `recorded_at` in the future, all of them named together in `error.fields`.
    """
    patient_id = body.pop("patient_id")
    record = medical_records.create_record(auth.actor(), patient_id, **body)
    body, status = created(record, "Record filed.")
    return body, status, {"ETag": f'"{record.version}"'}


@blp.get("/<id:record_id>")
@blp.auth()
@blp.response(200, envelope(RecordSchema), headers={"ETag": {"description": "The record's version.",
                                                             "schema": {"type": "string"}}})
@blp.fails_with(404)
def show_record(record_id):
    """One record you may see (404 otherwise)."""
    record = medical_records.get_record(auth.actor(), record_id)
    return _with_etag(ok(record, "Record."), record)


@blp.route("/<id:record_id>", methods=["PATCH", "PUT"])
@blp.auth()
@blp.doc(parameters=[IF_MATCH])
@blp.arguments(RecordChangesSchema)
@blp.response(200, envelope(RecordSchema))
@blp.fails_with(403, 404)
@blp.alt_response(409, schema=StaleRecordEnvelopeSchema, description=STALE)
def change_record(body, record_id):
    """Edit a record based on the version you read (doctors and admins; a patient gets 403).

    PUT is the same as PATCH: fields left out stay. The version you replace is kept in the history with
    who replaced it and when; the record's `version` goes up by one. Without `version` or If-Match it is
    400 `missing_field`. 409 `stale_record` when the record has moved past the version you sent; the
    answer's `data` is the current record (with its `version`, also as `ETag`). 422 names every field
    refused (as for filing) together in `error.fields`.
    """
    version = _version(body)
    changes = {name: value for name, value in body.items() if name != "version"}
    try:
        record = medical_records.update_record(auth.actor(), record_id, version, **changes)
    except StaleRecord as error:
        return _stale(error)
    return _with_etag(updated(record, "Record updated."), record)


@blp.delete("/<id:record_id>")
@blp.auth()
@blp.doc(parameters=[IF_MATCH])
@blp.response(200, envelope(RecordSchema))
@blp.fails_with(403, 404)
@blp.alt_response(409, schema=StaleRecordEnvelopeSchema, description=STALE)
def archive_record(record_id):
    """Archive a record (doctors and admins; a patient gets 403): it leaves lists and reads, its versions
    stay. With If-Match, only while the record is still at that version (409 `stale_record` otherwise,
    with the current record in `data`).
    """
    try:
        record = medical_records.archive_record(auth.actor(), record_id, _version({}))
    except StaleRecord as error:
        return _stale(error)
    return deleted(record, "Record archived.")


@blp.get("/<id:record_id>/history")
@blp.auth()
@blp.response(200, envelope(RecordVersionSchema, many=True))
@blp.fails_with(404)
def record_history(record_id):
    """Every version of a record you may see, oldest first, the current one last (`current: true`),
    each with who wrote it and when. Not paged: a record has few versions."""
    return ok(medical_records.history(auth.actor(), record_id), "Versions of the record.")


@department_records.get("/<id:department_id>/records")
@department_records.auth()
@department_records.arguments(PageArgsSchema, location="query")
@department_records.response(200, envelope(RecordSchema, many=True, paged=True))
@department_records.fails_with(403, 404)
def list_department_records(args, department_id):
    """Records filed under a department, newest first, paged: for the department's own doctors and admins.

    Only records of patients you may see are listed. 403 for patients and doctors of other departments
    (departments are public, so this tells nothing new); 404 for no such department.
    """
    result = medical_records.department_records(auth.actor(), department_id, page=args["page"],
                                                per_page=args["per_page"], item_json=row_json(RecordSchema))
    return answer(result, "Records of the department.")
