"""The portal's forms, and how a service's domain error lands next to the field it is about.

Forms check only what a browser form can get wrong by itself (a missing value, two passwords that
differ); every rule about accounts lives in the services, whose Invalid/Conflict errors are shown here.
A form shows all its problems after one submit: its own and every one the services find, together.
"""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Optional

from portal import input_rules
from portal.models import Role
from portal.services.errors import Conflict, DomainError, Invalid

REQUIRED = DataRequired(message="Fill this in.")
SAME_PASSWORD = EqualTo("password", message="The two passwords differ.")
NO_NUL = "Remove the invisible NUL character from this text."
ROLE_CHOICES = [SelectChoice(role.value, role.value.title()) for role in Role]


class PortalForm(FlaskForm):
    """Every portal form: besides its own checks, text the database cannot store (a NUL; the one rule of
    input_rules.text_problem) is refused next to its field, so it never reaches a query."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and input_rules.text_problem(field.data):
                field.errors = [*field.errors, NO_NUL]
                valid = False
        return valid


class LoginForm(PortalForm):
    login = StringField("Username or email", validators=[REQUIRED])
    password = PasswordField("Password", validators=[REQUIRED])
    submit = SubmitField("Log in")


class RegisterForm(PortalForm):
    full_name = StringField("Full name", validators=[REQUIRED])
    username = StringField("Username", validators=[REQUIRED])
    email = StringField("Email", validators=[REQUIRED])
    phone = StringField("Phone (optional)", validators=[Optional()])
    password = PasswordField("Password", validators=[REQUIRED])
    confirm = PasswordField("Repeat the password", validators=[REQUIRED, SAME_PASSWORD])
    is_doctor = BooleanField("I am a doctor (an administrator approves doctor accounts)")
    submit = SubmitField("Create account")


class ForgotPasswordForm(PortalForm):
    email = StringField("Email", validators=[REQUIRED])
    submit = SubmitField("Send me a link")


class ResetPasswordForm(PortalForm):
    password = PasswordField("New password", validators=[REQUIRED])
    confirm = PasswordField("Repeat the new password", validators=[REQUIRED, SAME_PASSWORD])
    submit = SubmitField("Set new password")


class ProfileForm(PortalForm):
    full_name = StringField("Full name", validators=[REQUIRED])
    username = StringField("Username", validators=[REQUIRED])
    email = StringField("Email", validators=[REQUIRED])
    phone = StringField("Phone", validators=[Optional()])
    current_password = PasswordField("Current password (needed to change your email)", validators=[Optional()])
    submit = SubmitField("Save changes")


class PasswordChangeForm(PortalForm):
    current_password = PasswordField("Current password", validators=[REQUIRED])
    password = PasswordField("New password", validators=[REQUIRED])
    confirm = PasswordField("Repeat the new password", validators=[REQUIRED, SAME_PASSWORD])
    submit = SubmitField("Change password")


class PictureForm(PortalForm):
    file = FileField("New picture (JPEG, PNG, WebP or GIF)", validators=[FileRequired("Choose a file.")])
    submit = SubmitField("Upload picture")


class ActionForm(PortalForm):
    """An empty form: the CSRF token of a button-only POST."""


class UserFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES], validators=[Optional()])
    pending = BooleanField("Only doctors waiting for approval")


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class DoctorSearchForm(PortalForm):
    """The "find a doctor" search; its names are the directory's query parameters (shareable URLs)."""

    class Meta:
        csrf = False

    # A list, not free text: the directory matches a speciality by its whole name, and a list shows
    # what exists. Any value is accepted from a shared URL (validate_choice=False).
    speciality = SelectField("Speciality", validators=[Optional()], validate_choice=False)
    department_id = SelectField("Department", coerce=_optional_int, validators=[Optional()])
    q = StringField("Doctor's name", validators=[Optional()])
    available_from = DateField("Available from", validators=[Optional()])
    available_to = DateField("Available until", validators=[Optional()])

    def with_choices(self, departments, specialities) -> "DoctorSearchForm":
        self.department_id.choices = [SelectChoice("", "Any department"),
                                      *(SelectChoice(str(d.id), d.name) for d in departments)]
        self.speciality.choices = [SelectChoice("", "Any speciality"),
                                   *(SelectChoice(s.name, s.name) for s in specialities)]
        return self

    def filters(self) -> dict:
        return {name: self[name].data or None
                for name in ("speciality", "department_id", "q", "available_from", "available_to")}


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's complaint next to the field it names; anything else goes on top of the form."""
    if isinstance(error, Invalid):
        problems = error.fields
    elif isinstance(error, Conflict) and error.code.endswith("_taken"):
        problems = {error.code.removesuffix("_taken"): [error.message]}
    else:
        problems = {None: [error.message]}
    for name, messages in problems.items():
        field = form._fields.get(name) if name else None
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def add_problems(form: FlaskForm, problems: dict[str, list[str]]) -> None:
    """The services' problems next to the fields that have none of their own (an empty one already says so)."""
    fresh = {name: messages for name, messages in problems.items()
             if not (name in form._fields and form._fields[name].errors)}
    if fresh:
        show_error(form, Invalid(fresh))
