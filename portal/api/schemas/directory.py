"""The clinic directory as the API shows it: departments, specialities and doctor profiles.

Fees are decimal strings ("80.00"), never floats, so an amount survives every JSON parser unchanged.
The public doctor shapes leave out what only the doctor and admins need (date of birth, linked
account); those come back in DoctorProfileSchema, the answer to the writes they may make.
"""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.common import PageArgsSchema, enum_field, id_field, query_id_field
from portal.api.schemas.windows import WindowBound
from portal.services.accounts.user_accounts import GENDERS
from portal.services.scheduling.booking_rules import LIMITS

RULES = {
    "min_notice_minutes": "Patients book this doctor's slots at least this many minutes ahead "
                          "(BOOKING_MIN_NOTICE_MINUTES when null); a sooner slot is 422 `too_soon`.",
    "horizon_days": "Patients book up to the end of the clinic day this many days after today (BOOKING_HORIZON_DAYS "
                    "when null); a later slot is 422 `too_far`.",
    "change_cutoff_hours": "Patients cancel or move an appointment up to this many hours before it starts "
                           "(CHANGE_CUTOFF_HOURS when null); later is 422 `too_late`.",
}


def _rule_out(name: str) -> fields.Integer:
    return fields.Integer(required=True, allow_none=True, metadata={
        "description": f"{RULES[name]} null: the clinic's setting applies."})


def _rule_in(name: str) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=LIMITS[name]), metadata={
        "description": f"{RULES[name]} null: use the clinic's setting again. Admins only: a doctor changing it "
                       "on their own profile is 403 (sending the current value back is no change)."})

FEES = "The consultation fee as a decimal string, e.g. \"80.00\"; null when not set."


def _fees(**kwargs) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=2, allow_nan=False, allow_none=True,
                          metadata={"type": "string", "description": FEES, "example": "80.00"}, **kwargs)


def _fees_in() -> fields.Decimal:
    """Accepted as a number or a decimal string; the directory service checks the range (0 to 99999999.99)."""
    return fields.Decimal(allow_nan=False, allow_none=True, metadata={
        "type": ["string", "number"], "pattern": r"^\d+(\.\d+)?$", "example": "80.00",
        "description": "The consultation fee, 0 to 99999999.99, kept to the cent."})


class DepartmentSchema(ma.Schema):
    """A DepartmentInfo: the department and how many active doctors belong to it."""

    id = fields.Integer(required=True, attribute="department.id")
    name = fields.String(required=True, attribute="department.name")
    description = fields.String(required=True, attribute="department.description")
    doctor_count = fields.Integer(required=True, metadata={"description": "Active doctors of the department."})


class DepartmentCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                         metadata={"description": "Unique, whatever the case (409 `department_name_taken`)."})
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class DepartmentChangesSchema(ma.Schema):
    """PATCH or PUT: fields left out stay as they are."""

    openapi_extra = {"minProperties": 1}

    name = fields.String(validate=validate.Length(min=1, max=120))
    description = fields.String(validate=validate.Length(max=5000))

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give name or description.", "body")


class SpecialitySchema(ma.Schema):
    name = fields.String(required=True, metadata={"example": "Cardiology"})
    doctor_count = fields.Integer(required=True)


class DepartmentRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class DoctorSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    speciality = fields.String(required=True)
    department = fields.Nested(DepartmentRefSchema, required=True, allow_none=True)
    gender = enum_field("Gender", GENDERS, required=True, allow_none=True)
    fees = _fees(required=True)


class _WithDoctor:
    """A service result (DoctorListing, DoctorDetail) seen as its doctor plus its own fields, so the
    doctor's fields are declared once, in DoctorSummarySchema."""

    def __init__(self, result):
        self._result = result

    def __getattr__(self, name):
        return getattr(self._result, name) if hasattr(self._result, name) else getattr(self._result.doctor, name)


class _DoctorResultSchema(DoctorSummarySchema):
    @ma.pre_dump
    def _flatten(self, result, **kwargs):
        return _WithDoctor(result)


class DoctorListingSchema(_DoctorResultSchema):
    next_free_slot = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "Start of the earliest free slot (within available_from/available_to when given); "
                       "null when there is none. A slot someone holds for a few minutes still counts as free."})


class DoctorSearchArgsSchema(PageArgsSchema):
    speciality = fields.String(metadata={"description": "Exact speciality, any case."})
    department_id = query_id_field()
    q = fields.String(metadata={"description": "A fragment of the doctor's name, any case."})
    available_from = WindowBound("start", metadata={
        "description": "Only doctors with a free slot in the window; a missing available_to means 14 days on."})
    available_to = WindowBound("end", metadata={
        "description": "End of that window; a missing available_from means now."})


class AvailableSlotSchema(ma.Schema):
    id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    duration = fields.Integer(required=True, metadata={"description": "Minutes."})


class DoctorDetailSchema(_DoctorResultSchema):
    """The public profile and the slots a patient could pick in the window."""

    description = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    min_notice_minutes = _rule_out("min_notice_minutes")
    horizon_days = _rule_out("horizon_days")
    change_cutoff_hours = _rule_out("change_cutoff_hours")
    available_slots = fields.List(fields.Nested(AvailableSlotSchema), required=True, metadata={
        "description": "Free slots nobody holds that a patient may book now (the booking rules: not sooner than "
                       "the minimum notice, not beyond the horizon), in time order, starting in "
                       "[available_from, available_to)."})
    available_from = fields.DateTime(required=True, attribute="start")
    available_to = fields.DateTime(required=True, attribute="end", metadata={"description": "Exclusive."})


class DoctorDetailArgsSchema(ma.Schema):
    start = WindowBound("start", data_key="from", metadata={"description": "Default: now."})
    end = WindowBound("end", data_key="to", metadata={"description": "Default: 14 clinic days after `from`; "
                                                                     "at most 92 days after it."})


class DoctorProfileSchema(DoctorSummarySchema):
    """The whole profile, as the admin or the doctor who changed it sees it."""

    description = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    dob = fields.Date(required=True, allow_none=True)
    user_id = fields.Integer(required=True, allow_none=True, metadata={"description": "The linked doctor account."})
    min_notice_minutes = _rule_out("min_notice_minutes")
    horizon_days = _rule_out("horizon_days")
    change_cutoff_hours = _rule_out("change_cutoff_hours")
    created_at = fields.DateTime(required=True)


class _DoctorFieldsSchema(ma.Schema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    speciality = fields.String(validate=validate.Length(min=1, max=120))
    department_id = id_field()
    gender = enum_field("Gender", GENDERS, allow_none=True)
    dob = fields.Date(allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    fees = _fees_in()
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    user_id = id_field(allow_none=True, metadata={"description": "Link a doctor account that has no "
                                                                      "profile yet (admins only)."})
    min_notice_minutes = _rule_in("min_notice_minutes")
    horizon_days = _rule_in("horizon_days")
    change_cutoff_hours = _rule_in("change_cutoff_hours")


class DoctorChangesSchema(_DoctorFieldsSchema):
    """PATCH or PUT /doctors/{id}: fields left out stay as they are."""

    openapi_extra = {"minProperties": 1}

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "body")


class DoctorCreateSchema(_DoctorFieldsSchema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    speciality = fields.String(required=True, validate=validate.Length(min=1, max=120))
    department_id = id_field(required=True)


class SpecialitySlotsArgsSchema(ma.Schema):
    start = WindowBound("start", required=True)
    end = WindowBound("end", required=True, metadata={"description": "At most 92 days after start."})


class SpecialitySlotSchema(ma.Schema):
    """A free slot with the doctor who offers it."""

    doctor_id = fields.Integer(required=True)
    full_name = fields.String(required=True, attribute="doctor.full_name")
    gender = enum_field("Gender", GENDERS, required=True, allow_none=True, attribute="doctor.gender")
    fees = _fees(required=True, attribute="doctor.fees")
    slot_id = fields.Integer(required=True, attribute="id")
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    duration = fields.Integer(required=True, metadata={"description": "Minutes."})
