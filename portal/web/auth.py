"""Sign-up, sign-in and sign-out, and the forgotten-password round trip by mail."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services.accounts import password_reset, user_accounts
from portal.services.errors import Conflict, Forbidden, Invalid, RateLimited, Unauthenticated
from portal.web.access import safe_next
from portal.web.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm, add_problems, show_error

bp = Blueprint("auth", __name__)

RESET_SENT = ("If an account uses that address, we have sent it a link to choose a new password. "
              "The link works once and expires soon.")


def _rate_limited(form, error: RateLimited) -> None:
    minutes, seconds = divmod(error.retry_after, 60)
    wait = f"{minutes} min {seconds} s" if minutes else f"{seconds} seconds"
    form.form_errors.append(f"Too many attempts. Try again in {wait}.")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if auth_context.session_user() is not None:
        return redirect(url_for("main.dashboard"))
    form = RegisterForm()
    status = 200
    fields = {name: form[name].data for name in ("username", "email", "password", "full_name")}
    if form.validate_on_submit():
        role = Role.DOCTOR.value if form.is_doctor.data else Role.PATIENT.value
        try:
            user_accounts.register(**fields, phone=form.phone.data or None, role=role, ip=auth_context.client_ip())
        except RateLimited as error:
            _rate_limited(form, error)
            status = 429
        except (Invalid, Conflict) as error:
            problems = error.fields if isinstance(error, Invalid) else user_accounts.taken(
                form.username.data, form.email.data)
            add_problems(form, problems or {None: [error.message]})
            status = 422
        else:
            if role == Role.DOCTOR.value:
                flash("Thank you. An administrator will approve your doctor account; "
                      "you can log in once it is approved.", "info")
            else:
                flash("Your account is ready. Please log in.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = _other_problems(form, fields)
    return render_template("auth/register.html", form=form), status


def _other_problems(form: RegisterForm, fields: dict) -> int:
    """The form's own check failed (an empty field, passwords that differ): the service still says what else
    is wrong, so one submit shows everything. A forged request (no CSRF token) learns nothing."""
    if "csrf_token" in form.errors:
        return 422
    try:
        problems = user_accounts.registration_problems(**{name: value or "" for name, value in fields.items()},
                                                       phone=form.phone.data or None, ip=auth_context.client_ip())
    except RateLimited as error:
        _rate_limited(form, error)
        return 429
    add_problems(form, problems)
    return 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_page = request.args.get("next")
    if auth_context.session_user() is not None:
        return redirect(safe_next(next_page))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = user_accounts.authenticate(form.login.data, form.password.data, auth_context.client_ip())
        except RateLimited as error:
            _rate_limited(form, error)
            status = 429
        except (Unauthenticated, Forbidden) as error:
            message = "The username or password is not right." if isinstance(error, Unauthenticated) \
                else error.message
            form.form_errors.append(message)
            status = 401 if isinstance(error, Unauthenticated) else 403
        else:
            auth_context.begin(user)
            return redirect(safe_next(next_page))
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form, next_page=next_page), status


@bp.post("/logout")
def logout():
    """POST only, with the CSRF token: a link or an image on another site cannot sign anyone out."""
    auth_context.end()
    flash("You are logged out.", "success")
    return redirect(url_for("auth.login"))


def _reset_link(token: str) -> str:
    """The link in the mail; PUBLIC_BASE_URL, when set, keeps a forged Host header out of it."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if base:
        return base + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.request_reset(form.email.data, _reset_link)
        except RateLimited as error:
            _rate_limited(form, error)
            status = 429
        else:
            flash(RESET_SENT, "info")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.reset(token, form.password.data)
        except Invalid as error:
            show_error(form, error)
            status = 422
        else:
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 422
    elif not password_reset.is_usable(token):
        return render_template("auth/reset_password.html", form=None, token=token), 410
    return render_template("auth/reset_password.html", form=form, token=token), status
