"""Bodies and answers of sign-in: registration, tokens, browser sessions and password reset."""
import marshmallow as ma
from marshmallow import fields

from portal.api.schemas.common import enum_field
from portal.api.schemas.users import UserSchema
from portal.services.accounts import passwords
from portal.services.accounts.user_accounts import GENDERS, SELF_SERVICE_ROLES

NEW_PASSWORD = {"minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH,
                "description": f"{passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters, not a common password."}


class RegisterSchema(ma.Schema):
    username = fields.String(required=True, metadata={"example": "alice"})
    email = fields.String(required=True, metadata={"example": "alice@example.org"})
    password = fields.String(required=True, load_only=True, metadata=NEW_PASSWORD)
    full_name = fields.String(required=True, metadata={"example": "Alice Example"})
    role = enum_field("SelfServiceRole", SELF_SERVICE_ROLES, load_default="patient", metadata={
        "description": "patient (default) or doctor (waits for an admin's approval)."})
    gender = enum_field("Gender", GENDERS, allow_none=True)
    dob = fields.Date(allow_none=True, metadata={"description": "Date of birth, ISO date."})
    phone = fields.String(allow_none=True, metadata={"description": "At most 40 characters."})


class LoginSchema(ma.Schema):
    # "username or email": as if/then, which generators leave alone (anyOf here would split the model in two)
    openapi_extra = {"if": {"not": {"required": ["username"], "properties": {"username": {"minLength": 1}}}},
                     "then": {"required": ["email"], "properties": {"email": {"minLength": 1}}}}

    username = fields.String(metadata={"description": "Username or email; this or `email` is required."})
    email = fields.String(metadata={"description": "Accepted instead of username."})
    password = fields.String(required=True, load_only=True)

    @ma.validates_schema
    def _needs_a_login(self, data, **kwargs):
        if not (data.get("username") or data.get("email")):
            raise ma.ValidationError(fields.Field.default_error_messages["required"], "username")


class SessionLoginSchema(ma.Schema):
    username = fields.String(required=True, metadata={"description": "Username or email."})
    password = fields.String(required=True, load_only=True)


class RefreshSchema(ma.Schema):
    refresh_token = fields.String(required=True, load_only=True)


class LogoutSchema(ma.Schema):
    refresh_token = fields.String(load_only=True, metadata={
        "description": "Optional: a refresh token of yours whose family should end as well."})


class ResetRequestSchema(ma.Schema):
    email = fields.Email(required=True)


class ResetSchema(ma.Schema):
    token = fields.String(required=True, metadata={"description": "The last path segment of the mailed link."})
    password = fields.String(required=True, load_only=True, metadata=NEW_PASSWORD)


class TokenPairSchema(ma.Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True, metadata={"description": "Single use; spend it at /auth/token."})
    token_type = fields.Constant("Bearer", required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the access token lives."})


class LoginResultSchema(TokenPairSchema):
    user = fields.Nested(UserSchema, required=True)


class BrowserSessionSchema(ma.Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True, metadata={"description": "Send as X-CSRFToken on unsafe requests."})
