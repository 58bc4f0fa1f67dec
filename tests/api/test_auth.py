"""/auth: registration, login, token rotation and logout, as an app sees them."""
import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.models import Patient, User
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too

REGISTER = {"username": "alice", "email": "alice@example.org", "password": "a long enough passphrase",
            "full_name": "Alice Example"}
USER_FIELDS = {"id", "username", "email", "full_name", "role", "approved", "is_active", "gender", "dob", "phone",
               "profile_pic_url", "patient_id", "doctor_id"}


def test_register_creates_a_patient_with_a_linked_profile(api, app):
    response = api.post("/auth/register", json={**REGISTER, "gender": "female", "dob": "1990-04-01",
                                                "phone": "+49 30 1234"})
    assert response.status_code == 201
    user = envelope(response)["data"]
    assert set(user) == USER_FIELDS
    assert user["role"] == "patient" and user["approved"] and user["is_active"]
    assert (user["dob"], user["gender"], user["profile_pic_url"], user["doctor_id"]) == ("1990-04-01", "female",
                                                                                         None, None)
    assert "password" not in response.get_data(as_text=True)
    with app.app_context():
        patient = db.session.get(Patient, user["patient_id"])
        assert patient.user_id == user["id"] and patient.full_name == "Alice Example"


def test_a_registered_doctor_waits_for_approval(api):
    user = envelope(api.post("/auth/register", json={**REGISTER, "role": "doctor"}))["data"]
    assert (user["role"], user["approved"], user["patient_id"]) == ("doctor", False, None)
    body = error_of(api.post("/auth/login", json={"username": "alice", "password": REGISTER["password"]}),
                    403, "account_pending")
    assert body["status"] == "forbidden"


def test_nobody_registers_as_admin(api):
    body = error_of(api.post("/auth/register", json={**REGISTER, "role": "admin"}), 422, "validation_error")
    assert "role" in body["error"]["fields"]


def test_taken_username_and_email_are_409(api):
    api.post("/auth/register", json=REGISTER)
    body = error_of(api.post("/auth/register", json={**REGISTER, "email": "other@example.org"}), 409,
                    "username_taken")
    assert body["status"] == "failed"
    error_of(api.post("/auth/register", json={**REGISTER, "username": "alice2", "email": "ALICE@example.org"}),
             409, "email_taken")


def test_weak_passwords_are_422_on_the_password_field(api, app):
    for password in ("too short", "x" * 129, "password1234"):
        body = error_of(api.post("/auth/register", json={**REGISTER, "password": password}), 422,
                        "validation_error")
        assert list(body["error"]["fields"]) == ["password"], password
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_registrations_are_limited_per_address(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_LIMIT", "2/hour")
    for n in range(2):
        assert api.post("/auth/register", json={**REGISTER, "username": f"u{n}x",
                                                "email": f"u{n}@example.org"}).status_code == 201
    response = api.post("/auth/register", json={**REGISTER, "username": "u9x", "email": "u9@example.org"})
    error_of(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_login_returns_tokens_and_the_user(api, factories, app):
    user = factories.user()
    response = api.post("/auth/login", json={"username": user.username, "password": user.password})
    data = envelope(response)["data"]
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == app.config["ACCESS_TOKEN_SECONDS"]
    assert data["access_token"] and data["refresh_token"]
    assert data["user"]["id"] == user.id and data["user"]["patient_id"] == user.patient_id
    me = envelope(api.get("/me", token=data["access_token"]))["data"]
    assert me["username"] == user.username


def test_login_accepts_the_email_in_either_field(api, factories):
    user = factories.user()
    for body in ({"username": user.email, "password": user.password},
                 {"email": user.email.upper(), "password": user.password}):
        assert api.post("/auth/login", json=body).status_code == 200


def test_login_without_username_or_email_is_a_missing_field(api):
    body = error_of(api.post("/auth/login", json={"password": "whatever it is"}), 400, "missing_field")
    assert "username" in body["error"]["fields"]


def test_unknown_user_and_wrong_password_fail_alike(api, factories):
    user = factories.user()
    wrong = error_of(api.post("/auth/login", json={"username": user.username, "password": "not the password"}),
                     401, "unauthenticated")
    unknown = error_of(api.post("/auth/login", json={"username": "nobody", "password": "not the password"}),
                       401, "unauthenticated")
    assert wrong == unknown
    assert wrong["message"].startswith("Authentication failed")


def test_a_deactivated_account_is_403_after_the_right_password(api, factories):
    admin, user = factories.user(role="admin"), factories.user()
    api.patch(f"/admin/users/{user.id}", json={"is_active": False}, token=api.token_for(admin))
    error_of(api.post("/auth/login", json={"username": user.username, "password": "not the password"}),
             401, "unauthenticated")
    error_of(api.post("/auth/login", json={"username": user.username, "password": user.password}),
             403, "account_inactive")


def test_repeated_failures_lock_the_account_even_for_the_right_password(api, factories):
    user = factories.user()
    for _ in range(10):
        api.post("/auth/login", json={"username": user.username, "password": "not the password"})
    response = api.post("/auth/login", json={"username": user.username, "password": user.password})
    body = error_of(response, 429, "rate_limited")
    assert body["status"] == "failed"
    assert 0 < int(response.headers["Retry-After"]) <= 61


def test_successful_logins_are_never_limited(api, factories):
    user = factories.user()
    for _ in range(12):
        assert api.post("/auth/login", json={"username": user.username, "password": user.password}).status_code == 200


def test_refresh_rotates_and_the_new_pair_works(api, factories):
    tokens = api.login(factories.user())
    response = api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]})
    fresh = envelope(response)["data"]
    assert set(fresh) >= {"access_token", "refresh_token", "expires_in"}
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert api.get("/me", token=fresh["access_token"]).status_code == 200
    assert api.post("/auth/token", json={"refresh_token": fresh["refresh_token"]}).status_code == 200


def test_an_unknown_refresh_token_is_401(api):
    error_of(api.post("/auth/token", json={"refresh_token": "made-up"}), 401, "unauthenticated")


def _after_the_grace_window(app) -> None:
    """Move every spend REFRESH_REUSE_GRACE_SECONDS (and one more) into the past, as if that time had gone by."""
    with app.app_context():
        db.session.execute(text("UPDATE refresh_tokens SET spent_at = spent_at - make_interval(secs => :seconds)"),
                           {"seconds": app.config["REFRESH_REUSE_GRACE_SECONDS"] + 1})
        db.session.commit()


@pytest.mark.production_only("ages the spend with PostgreSQL SQL")
def test_reusing_a_spent_refresh_token_revokes_the_whole_family(api, app, factories):
    tokens = api.login(factories.user())
    fresh = api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]}).get_json()["data"]
    _after_the_grace_window(app)
    error_of(api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]}), 401, "token_revoked")
    error_of(api.post("/auth/token", json={"refresh_token": fresh["refresh_token"]}), 401, "token_revoked")
    error_of(api.get("/me", token=fresh["access_token"]), 401, "token_revoked")


def test_logout_ends_the_access_token_and_its_family_at_once(api, factories):
    user = factories.user()
    tokens, other = api.login(user), api.login(user)
    response = api.post("/auth/logout", token=tokens["access_token"])
    assert response.status_code == 204 and response.data == b""
    error_of(api.get("/me", token=tokens["access_token"]), 401, "token_revoked")
    error_of(api.post("/auth/token", json={"refresh_token": tokens["refresh_token"]}), 401, "token_revoked")
    assert api.get("/me", token=other["access_token"]).status_code == 200


def test_logout_can_end_another_family_of_ones_own(api, factories):
    user = factories.user()
    tokens, other = api.login(user), api.login(user)
    api.post("/auth/logout", token=tokens["access_token"], json={"refresh_token": other["refresh_token"]})
    error_of(api.get("/me", token=other["access_token"]), 401, "token_revoked")


def test_logout_needs_credentials(api):
    error_of(api.post("/auth/logout"), 401, "unauthenticated")
