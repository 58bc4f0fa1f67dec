"""One's own account: contact details, password and profile picture."""
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import login_required

from portal import auth_context
from portal.services.accounts import profile_pictures, user_accounts
from portal.services.errors import Conflict, Invalid, NotFound, TooLarge
from portal.web import fragments
from portal.web.forms import ActionForm, PasswordChangeForm, PictureForm, ProfileForm, add_problems, show_error

bp = Blueprint("profile", __name__, url_prefix="/profile")

DETAILS_ID = "profile-details"
PASSWORD_ID = "profile-password"
PICTURE_ID = "profile-picture"


@bp.before_request
@login_required
def _signed_in_only():
    """Every page here is about the signed-in account."""


def _profile_form(user) -> ProfileForm:
    return ProfileForm(data={"full_name": user.full_name, "username": user.username, "email": user.email,
                             "phone": user.phone or ""})


def _page(details: ProfileForm, password: PasswordChangeForm, status: int = 200,
          picture: PictureForm | None = None):
    return render_template("profile/profile.html", user=auth_context.session_user(), details=details,
                           password=password, picture=picture or PictureForm(formdata=None),
                           action_form=ActionForm()), status


@bp.get("")
def show():
    user = auth_context.session_user()
    return _page(_profile_form(user), PasswordChangeForm(formdata=None))


@bp.post("")
def update():
    user = auth_context.session_user()
    form = ProfileForm()
    status, saved = 422, False
    changes = {name: form[name].data for name in ("full_name", "username", "email", "phone", "current_password")}
    if form.validate_on_submit():
        try:
            user_accounts.update_profile(user, changes=changes)
        except Invalid as error:
            show_error(form, error)
        except Conflict as error:  # names one taken field; say whether the other is taken too
            show_error(form, Invalid(user_accounts.taken(changes["username"], changes["email"], except_id=user.id))
                       if error.code.endswith("_taken") else error)
        else:
            status, saved = 200, True
    elif "csrf_token" not in form.errors:  # a field left empty: the service says what else is wrong, saving nothing
        details = {name: value for name, value in changes.items() if name != "current_password"}
        add_problems(form, user_accounts.details_problems(user, **details))
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
            user_accounts.update_profile(user, changes={"password": form.password.data,
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


def _picture_answer(form: PictureForm, status: int, message: str | None):
    """The picture component for its own htmx requests; otherwise back to the page (or the page with errors)."""
    if fragments.from_widget(PICTURE_ID):
        return fragments.render("profile/profile.html", "profile/_picture.html", PICTURE_ID, status,
                                user=auth_context.session_user(), picture=form, action_form=ActionForm(),
                                saved=message)
    if status == 200:
        flash(message, "success")
        return redirect(url_for("profile.show"))
    user = auth_context.session_user()
    return _page(_profile_form(user), PasswordChangeForm(formdata=None), status, picture=form)


@bp.post("/picture")
def upload_picture():
    form = PictureForm()
    if not form.validate_on_submit():
        return _picture_answer(form, 422, None)
    try:
        profile_pictures.replace(auth_context.session_user(), form.file.data.stream)
    except (Invalid, TooLarge) as error:
        if isinstance(error, TooLarge):
            form.file.errors = [error.message]
        else:
            show_error(form, error)
        return _picture_answer(form, 422, None)
    return _picture_answer(PictureForm(formdata=None), 200, "Your picture is saved.")


@bp.post("/picture/remove")
def remove_picture():
    profile_pictures.remove(auth_context.session_user())
    return _picture_answer(PictureForm(formdata=None), 200, "Your picture is removed.")


@bp.get("/picture")
def picture_file():
    """The picture's bytes: only for its owner, never kept by shared caches."""
    try:
        stream, content_type = profile_pictures.picture_of(auth_context.session_user())
    except NotFound:
        abort(404)
    response = send_file(stream, mimetype=content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
