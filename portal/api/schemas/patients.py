"""Patient profiles and doctor assignments as the API shows and accepts them.

Which fields a caller may change (a patient: contact fields only) is the service's rule; this module
only checks shapes and lengths.
"""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.booking import DoctorPartySchema, PartySchema
from portal.api.schemas.common import PageArgsSchema, enum_field, id_field, query_id_field
from portal.services.accounts.user_accounts import GENDERS


def _text(size: int, **kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=size), **kwargs)


class PatientSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    gender = fields.String(required=True, allow_none=True)
    dob = fields.Date(required=True, allow_none=True, metadata={"description": "Date of birth."})
    address = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    user_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The patient's own account, when they have one."})
    created_by_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The account that created the profile (that doctor may archive it)."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PatientChangesSchema(ma.Schema):
    """PATCH or PUT: fields left out stay. A patient may send only address, city, phone and email (403 otherwise)."""

    openapi_extra = {"minProperties": 1}

    full_name = fields.String(validate=validate.Length(min=1, max=200))
    gender = enum_field("Gender", GENDERS, allow_none=True)
    dob = fields.Date(allow_none=True, metadata={"description": "Date of birth, not in the future."})
    address = _text(300)
    city = _text(120)
    phone = _text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "body")


class PatientCreateSchema(PatientChangesSchema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PatientListArgsSchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=200), metadata={
        "description": "Words that must all match the name (any case, accents ignored), the date of birth "
                       "(YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY) or the phone number (digits, any punctuation)."})


class AssignmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    patient = fields.Nested(PartySchema, required=True)
    doctor = fields.Nested(DoctorPartySchema, required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "null while active."})


class AssignmentCreateSchema(ma.Schema):
    patient_id = id_field(required=True)
    doctor_id = id_field(required=True, metadata={"description": "Yourself or a colleague."})


class AssignmentListArgsSchema(PageArgsSchema):
    patient_id = query_id_field()
    doctor_id = query_id_field()
    include_ended = fields.Boolean(load_default=False, metadata={"description": "Also list ended assignments."})


class AssignedDoctorSchema(ma.Schema):
    """A doctor with an active assignment to the patient."""

    id = fields.Integer(required=True, attribute="doctor.id")
    full_name = fields.String(required=True, attribute="doctor.full_name")
    speciality = fields.String(required=True, attribute="doctor.speciality")
    department_id = fields.Integer(required=True, allow_none=True, attribute="doctor.department_id")
    assignment_id = fields.Integer(required=True, attribute="id")
    assigned_at = fields.DateTime(required=True, attribute="created_at")
