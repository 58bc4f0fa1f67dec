"""Accounts as the API shows them (to their owner, to an admin) and the changes it accepts."""
import marshmallow as ma
from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import fields

from portal.api.schemas.common import PageArgsSchema, enum_field, json_boolean
from portal.models import Role
from portal.services.accounts import passwords
from portal.services.accounts.user_accounts import GENDERS

ROLES = tuple(role.value for role in Role)


class AccountSchema(ma.Schema):
    """The fields an admin and the owner both see."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)
    role = enum_field("Role", ROLES, required=True)
    approved = fields.Boolean(required=True)
    is_active = fields.Boolean(required=True)
    gender = enum_field("Gender", GENDERS, allow_none=True)
    dob = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    patient_id = fields.Integer(attribute="patient.id", allow_none=True, dump_default=None,
                                metadata={"description": "The linked patient profile (patients)."})
    doctor_id = fields.Integer(attribute="doctor.id", allow_none=True, dump_default=None,
                               metadata={"description": "The linked doctor profile (approved doctors)."})


class UserSchema(AccountSchema):
    """One's own account, with the URL of one's profile picture."""

    profile_pic_url = fields.Method(
        "_picture_url", allow_none=True,
        metadata={"type": "string", "format": "uri",
                  "description": "GET it with your credentials; null when there is no picture."})

    def _picture_url(self, user) -> str | None:
        return url_for("api_me.picture", _external=True) if user.profile_pic_key else None


class AdminUserSchema(AccountSchema):
    created_at = fields.DateTime(required=True)


class ProfileChangesSchema(ma.Schema):
    """PATCH or PUT /me: fields left out stay as they are; an empty body changes nothing, so it is 422."""

    openapi_extra = {"minProperties": 1}

    username = fields.String()
    email = fields.String()
    full_name = fields.String()
    phone = fields.String(allow_none=True, metadata={"description": "At most 40 characters."})
    gender = enum_field("Gender", GENDERS, allow_none=True)
    dob = fields.Date(allow_none=True)
    password = fields.String(load_only=True, metadata={
        "description": f"A new password ({passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters, not a "
                       "common one); needs current_password.",
        "minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH})
    current_password = fields.String(load_only=True)

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "body")


class PictureUploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "A JPEG, PNG, WebP or GIF image."})


class UserListArgsSchema(PageArgsSchema):
    role = enum_field("Role", ROLES)
    pending = fields.Boolean(metadata={"description": "true: only accounts waiting for approval; "
                                                      "false: only approved ones."})


class AdminUserChangesSchema(ma.Schema):
    openapi_extra = {"minProperties": 1}

    role = enum_field("Role", ROLES)
    is_active = json_boolean()
    approved = json_boolean(metadata={"description": "true approves a pending doctor and links or creates "
                                                       "their doctor profile."})

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one of: role, is_active, approved.", "body")
