"""The operator commands: create-user and seed-demo, run through Flask's CLI runner."""
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Doctor, Slot
from portal.services.accounts import user_accounts


def test_create_user_makes_an_admin_who_can_sign_in(runner, ctx):
    result = runner.invoke(args=["create-user", "--role", "admin", "--username", "root", "--email",
                                 "root@example.org", "--password", "an admin passphrase"])
    assert result.exit_code == 0, result.output
    assert "Created admin root" in result.output
    assert user_accounts.authenticate("root", "an admin passphrase", "127.0.0.1").role == "admin"


def test_create_user_takes_the_password_from_the_environment(runner, ctx):
    result = runner.invoke(args=["create-user", "--role", "doctor", "--username", "doc", "--email",
                                 "doc@example.org"], env={"PORTAL_PASSWORD": "a doctor passphrase"})
    assert result.exit_code == 0, result.output
    user = user_accounts.authenticate("doc", "a doctor passphrase", "127.0.0.1")
    assert user.approved and db.session.scalar(select(Doctor).where(Doctor.user_id == user.id)) is not None


def test_create_user_refuses_a_weak_password_with_the_reason(runner, ctx):
    result = runner.invoke(args=["create-user", "--role", "admin", "--username", "root", "--email",
                                 "root@example.org", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12" in result.output


def test_seed_demo_prints_working_logins_and_runs_once(runner, ctx):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    logins = [line.split() for line in result.output.splitlines()[1:]]
    assert {role for role, _, _ in logins} == {"admin", "doctor", "patient"}
    for role, username, password in logins:
        assert user_accounts.authenticate(username, password, "127.0.0.1").role == role
    slots = db.session.scalar(select(func.count(Slot.id)))
    assert slots > 500
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not loaded" in again.output
    assert db.session.scalar(select(func.count(Slot.id))) == slots
