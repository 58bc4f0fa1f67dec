"""One's own account: contact details, password and profile picture."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_required

from portal import auth_context
from portal.services import accounts
from portal.services.errors import Conflict, Invalid
from portal.web import fragments
from portal.web.forms import PasswordChangeForm, ProfileForm, show_error

bp = Blueprint("profile", __name__, url_prefix="/profile")

DETAILS_ID = "profile-details"
PASSWORD_ID = "profile-password"


@bp.before_request
@login_required
def _signed_in_only():
    """Every page here is about the signed-in account."""


def _profile_form(user) -> ProfileForm:
    return ProfileForm(data={"full_name": user.full_name, "username": user.username, "email": user.email,
                             "phone": user.phone or ""})


def _page(details: ProfileForm, password: PasswordChangeForm, status: int = 200, **context):
    return render_template("profile/profile.html", user=auth_context.session_user(), details=details,
                           password=password, **context), status


@bp.get("")
def show():
    user = auth_context.session_user()
    return _page(_profile_form(user), PasswordChangeForm(formdata=None))


@bp.post("")
def update():
    user = auth_context.session_user()
    form = ProfileForm()
    status, saved = 422, False
    if form.validate_on_submit():
        changes = {name: form[name].data for name in ("full_name", "username", "email", "phone")}
        try:
            accounts.update_profile(user, changes=changes)
        except (Invalid, Conflict) as error:
            show_error(form, error)
        else:
            status, saved = 200, True
    if not fragments.from_widget(DETAILS_ID):
        if saved:
            flash("Your details are saved.", "success")
            return redirect(url_for("profile.show"))
        return _page(form, PasswordChangeForm(formdata=None), status)
    if saved:
        form = _profile_form(user)
    return fragments.render("profile/profile.html", "profile/_details_form.html", DETAILS_ID, status,
                            details=form, saved=saved)


@bp.post("/password")
def change_password():
    """A new password ends every other session of the account; this browser stays signed in."""
    user = auth_context.session_user()
    form = PasswordChangeForm()
    status, saved = 422, False
    if form.validate_on_submit():
        try:
            accounts.update_profile(user, changes={"password": form.password.data,
                                                   "current_password": form.current_password.data},
                                    keep_session=auth_context.current_session_id())
        except Invalid as error:
            show_error(form, error)
        else:
            status, saved = 200, True
    if not fragments.from_widget(PASSWORD_ID):
        if saved:
            flash("Your password is changed. Other devices were logged out.", "success")
            return redirect(url_for("profile.show"))
        return _page(_profile_form(user), form, status)
    if saved:
        form = PasswordChangeForm(formdata=None)
    return fragments.render("profile/profile.html", "profile/_password_form.html", PASSWORD_ID, status,
                            password=form, saved=saved)
