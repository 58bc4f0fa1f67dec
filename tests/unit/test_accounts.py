"""Account services without HTTP: registration, sign-in and the password rules."""
from datetime import date

import pytest

from config import ProductionConfig
from portal.extensions import db
from portal.models import Patient, User
from portal.services.accounts import passwords, user_accounts
from portal.services.errors import Conflict, Forbidden, Invalid, RateLimited, Unauthenticated


def register(**overrides):
    fields = dict(username="alice", email="alice@example.org", password="a long enough passphrase",
                  full_name="Alice Example")
    fields.update(overrides)
    return user_accounts.register(**fields)


def test_a_patient_is_active_at_once_with_a_linked_profile(ctx):
    user = register()
    assert user.role == "patient" and user.approved and user.is_active
    patient = db.session.scalar(db.select(Patient).where(Patient.user_id == user.id))
    assert patient.full_name == "Alice Example"


def test_a_doctor_waits_for_approval(ctx):
    user = register(role="doctor")
    assert user.approved is False
    with pytest.raises(Forbidden) as caught:
        user_accounts.authenticate("alice", "a long enough passphrase", "10.0.0.1")
    assert caught.value.code == "account_pending"


def test_username_and_email_are_unique_whatever_their_case(ctx):
    register()
    with pytest.raises(Conflict) as caught:
        register(username="ALICE", email="other@example.org")
    assert caught.value.code == "username_taken"
    with pytest.raises(Conflict) as caught:
        register(username="alice2", email="Alice@Example.org")
    assert caught.value.code == "email_taken"


@pytest.mark.parametrize("password, problem", [
    ("short pass", "at least 12"),
    ("x" * 129, "at most 128"),
    ("qwerty123456", "too common"),
    ("aaaaaaaaaaaaaaaa", "simple pattern"),
    ("abababababab", "simple pattern"),
    ("passwordpassword", "simple pattern"),
    ("123456789012", "simple pattern"),
    ("zyxwvutsrqpo", "simple pattern"),
    ("iloveyou1234", "too common"),
])
def test_weak_passwords_are_refused_with_a_reason(ctx, password, problem):
    with pytest.raises(Invalid) as caught:
        register(password=password)
    assert problem in caught.value.fields["password"][0]
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tr0ub4dor&3-xylophone", "a1b2c3d4e5f6g7"])
def test_ordinary_good_passwords_pass(password):
    assert passwords.problems(password) == []


PRODUCTION_COST = {"PASSWORD_HASH_TIME_COST": 2, "PASSWORD_HASH_MEMORY_KIB": 19456, "PASSWORD_HASH_PARALLELISM": 1}


def hash_parameters(password_hash: str) -> str:
    return password_hash.split("$")[3]


def test_passwords_are_hashed_with_argon2id_at_owasp_strength(ctx, monkeypatch):
    assert {name: getattr(ProductionConfig, name) for name in PRODUCTION_COST} == PRODUCTION_COST
    for name in PRODUCTION_COST:
        monkeypatch.setitem(ctx.config, name, getattr(ProductionConfig, name))
    user = register()
    assert user.password_hash.startswith("$argon2id$")
    assert hash_parameters(user.password_hash) == "m=19456,t=2,p=1"
    assert passwords.verify(user.password_hash, "a long enough passphrase")
    assert not passwords.verify(user.password_hash, "a wrong but long passphrase")


def test_the_tests_hash_at_argon2ids_cheapest_cost(ctx):
    assert hash_parameters(register().password_hash) == "m=8,t=1,p=1"


def test_a_hash_made_with_other_parameters_verifies_and_is_upgraded_on_login(ctx, monkeypatch):
    for name, value in PRODUCTION_COST.items():
        monkeypatch.setitem(ctx.config, name, value)
    strong = register().password_hash
    monkeypatch.undo()  # the settings change (here: back to the test cost) between two logins
    assert passwords.verify(strong, "a long enough passphrase")
    with pytest.raises(Unauthenticated):  # a wrong password changes nothing
        user_accounts.authenticate("alice", "a wrong but long passphrase", "10.0.0.9")
    assert db.session.scalar(db.select(User.password_hash)) == strong
    user_accounts.authenticate("alice", "a long enough passphrase", "10.0.0.9")
    upgraded = db.session.scalar(db.select(User.password_hash))
    assert hash_parameters(upgraded) == "m=8,t=1,p=1" and passwords.verify(upgraded, "a long enough passphrase")
    user_accounts.authenticate("alice", "a long enough passphrase", "10.0.0.9")
    assert db.session.scalar(db.select(User.password_hash)) == upgraded  # upgraded once, not at every login


def test_unknown_user_and_wrong_password_fail_alike(ctx):
    register()
    for login, password in (("nobody", "whatever whatever"), ("alice", "wrong password here")):
        with pytest.raises(Unauthenticated) as caught:
            user_accounts.authenticate(login, password, "10.0.0.2")
        assert caught.value.message == "Authentication failed."


def test_login_by_email_in_any_case(ctx):
    register()
    assert user_accounts.authenticate("ALICE@example.org", "a long enough passphrase", "10.0.0.3").username == "alice"


def test_repeated_failures_lock_even_the_right_password(ctx):
    register()
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            user_accounts.authenticate("alice", "wrong password here", "10.0.0.4")
    with pytest.raises(RateLimited) as caught:
        user_accounts.authenticate("alice", "a long enough passphrase", "10.0.0.4")
    assert caught.value.retry_after >= 1


def test_failures_from_one_address_do_not_lock_the_account_elsewhere(ctx):
    register()
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            user_accounts.authenticate("alice", "wrong password here", "10.0.0.5")
    assert user_accounts.authenticate("alice", "a long enough passphrase", "10.0.0.6").username == "alice"


def test_an_address_failing_across_many_accounts_is_stopped(ctx):
    ctx.config["LOGIN_FAILURE_ADDRESS_LIMITS"] = "5/hour"
    try:
        for n in range(5):
            with pytest.raises(Unauthenticated):
                user_accounts.authenticate(f"someone{n}", "wrong password here", "10.0.0.7")
        with pytest.raises(RateLimited):
            user_accounts.authenticate("someone-else", "wrong password here", "10.0.0.7")
    finally:
        ctx.config["LOGIN_FAILURE_ADDRESS_LIMITS"] = "300/hour"


def test_an_account_failing_from_many_addresses_is_locked_for_the_hour(ctx):
    register()
    ctx.config["LOGIN_FAILURE_ACCOUNT_HOURLY"] = "6/hour"
    try:
        for n in range(6):
            with pytest.raises(Unauthenticated):
                user_accounts.authenticate("alice", "wrong password here", f"10.1.0.{n}")
        with pytest.raises(RateLimited):
            user_accounts.authenticate("alice", "a long enough passphrase", "10.2.0.1")
    finally:
        ctx.config["LOGIN_FAILURE_ACCOUNT_HOURLY"] = "100/hour"


def _race(app, count, work):
    """Run work(n) in `count` threads at once, each with its own app context; the outcome of each."""
    import threading

    start, outcomes = threading.Barrier(count), []

    def run(n):
        with app.app_context():
            start.wait()
            try:
                work(n)
                outcomes.append("ok")
            except Conflict as error:
                outcomes.append(error.code)
            except Exception as error:  # noqa: BLE001 (what the test must show does not happen)
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_racing_registrations_of_one_username_or_email_are_conflicts_not_errors(app, ctx):
    by_name = _race(app, 8, lambda n: register(username="samename", email=f"same{n}@example.org"))
    assert by_name == ["ok"] + ["username_taken"] * 7
    by_email = _race(app, 8, lambda n: register(username=f"other{n}", email="same@example.org"))
    assert by_email == ["email_taken"] * 7 + ["ok"]


def test_racing_renames_to_one_username_are_conflicts_not_errors(app, ctx, factories):
    ids = [factories.user().id for _ in range(6)]

    def rename(n):
        user_accounts.update_profile(db.session.get(User, ids[n]), changes={"username": "renamerace"})

    assert _race(app, 6, rename) == ["ok"] + ["username_taken"] * 5


def test_failures_by_username_and_by_email_count_against_one_account(ctx):
    register()
    for n in range(10):
        login = "alice" if n % 2 else "ALICE@example.org"
        with pytest.raises(Unauthenticated):
            user_accounts.authenticate(login, "wrong password here", "10.0.0.9")
    with pytest.raises(RateLimited):
        user_accounts.authenticate("alice@example.org", "a long enough passphrase", "10.0.0.9")


def test_changing_the_password_needs_the_current_one(ctx):
    user = register()
    with pytest.raises(Invalid) as caught:
        user_accounts.update_profile(user, changes={"password": "another long passphrase"})
    assert caught.value.fields["current_password"] == ["Give your current password to change it."]


def test_a_date_of_birth_must_be_in_the_past(ctx):
    with pytest.raises(Invalid) as caught:
        register(dob=date(2999, 1, 1))
    assert "dob" in caught.value.fields
    user = register(dob=date(1990, 5, 17))
    with pytest.raises(Invalid):
        user_accounts.update_profile(user, changes={"dob": date(1850, 1, 1)})
