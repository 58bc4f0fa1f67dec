"""A patient's whole record as one JSON document (GET /patients/{id}/export)."""
import marshmallow as ma
from marshmallow import fields

from portal.api.schemas.images import ImageSchema


class DoctorRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    speciality = fields.String(required=True)


class ExportPatientSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    gender = fields.String(allow_none=True)
    dob = fields.Date(allow_none=True)
    address = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class ExportAssignmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    doctor = fields.Nested(DoctorRefSchema, required=True)
    created_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)


class ExportAppointmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    reason = fields.String(allow_none=True)
    doctor = fields.Nested(DoctorRefSchema, required=True)


class RecordTextSchema(ma.Schema):
    diagnostics = fields.String(required=True)
    observations = fields.String(allow_none=True)
    treatments = fields.String(allow_none=True)
    misc = fields.String(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime(required=True)


class ExportVersionSchema(RecordTextSchema):
    """The record as it was before an edit."""

    version = fields.Integer(required=True)
    edited_by_id = fields.Integer(allow_none=True)
    edited_at = fields.DateTime(required=True)


class ExportRecordSchema(RecordTextSchema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "The current version's number."})
    doctor = fields.Nested(DoctorRefSchema, allow_none=True)
    department = fields.String(attribute="department.name", allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    versions = fields.List(fields.Nested(ExportVersionSchema), required=True,
                           metadata={"description": "Earlier versions, oldest first."})


class ExportSchema(ma.Schema):
    patient = fields.Nested(ExportPatientSchema, required=True)
    assignments = fields.List(fields.Nested(ExportAssignmentSchema), required=True,
                              metadata={"description": "Every assignment, ended ones too."})
    appointments = fields.List(fields.Nested(ExportAppointmentSchema), required=True,
                               metadata={"description": "Every appointment, cancelled ones too, by start."})
    records = fields.List(fields.Nested(ExportRecordSchema), required=True,
                          metadata={"description": "Medical records (not archived ones), each with its versions."})
    images = fields.List(fields.Nested(ImageSchema), required=True, metadata={
        "description": "Image metadata with the URLs of the bytes (fetch them with your credentials)."})
