"""Bodies and answers of sign-in: registration, tokens, browser sessions and password reset."""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.users import UserSchema
from portal.services.accounts.user_accounts import GENDERS, SELF_SERVICE_ROLES


class RegisterSchema(ma.Schema):
    username = fields.String(required=True, metadata={"example": "alice"})
    email = fields.String(required=True, metadata={"example": "alice@example.org"})
    password = fields.String(required=True, load_only=True,
                             metadata={"description": "12 to 128 characters, not a common password."})
    full_name = fields.String(required=True, metadata={"example": "Alice Example"})
    role = fields.String(load_default="patient", validate=validate.OneOf(SELF_SERVICE_ROLES),
                         metadata={"description": "patient (default) or doctor (waits for an admin's approval)."})
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    dob = fields.Date(allow_none=True, metadata={"description": "Date of birth, ISO date."})
    phone = fields.String(allow_none=True, metadata={"description": "At most 40 characters."})


class LoginSchema(ma.Schema):
    username = fields.String(metadata={"description": "Username or email."})
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
    password = fields.String(required=True, load_only=True)


class TokenPairSchema(ma.Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True, metadata={"description": "Single use; spend it at /auth/token."})
    token_type = fields.Constant("Bearer", required=True, metadata={"type": "string", "enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the access token lives."})


class LoginResultSchema(TokenPairSchema):
    user = fields.Nested(UserSchema, required=True)


class BrowserSessionSchema(ma.Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True, metadata={"description": "Send as X-CSRFToken on unsafe requests."})
