"""Command-line tools for operators: flask --app wsgi create-user | seed-demo."""
import os

import click
from flask import Flask

from portal.services.errors import DomainError, Invalid


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in getattr(error, "fields", {}).items())
    raise click.ClickException(f"{error.message} {details}".strip())


@click.command("create-user")
@click.option("--role", type=click.Choice(["admin", "doctor", "patient"]), required=True)
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--full-name", default="", help="Defaults to the username.")
@click.option("--password", default=None, help="Or set PORTAL_PASSWORD, or type it at the prompt.")
def create_user_command(role, username, email, full_name, password):
    """Create an approved, active account of any role (the way to make the first admin)."""
    from portal.services.accounts import user_accounts

    password = password or os.environ.get("PORTAL_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    try:
        user = user_accounts.create_user(role=role, username=username, email=email, password=password,
                                    full_name=full_name)
    except DomainError as error:
        _fail(error)
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo_command(if_empty):
    """Load demo departments, doctors with a month of free slots, and one login per role."""
    from portal.services import demo_data

    if if_empty and demo_data.has_users():
        click.echo("The database already has users; demo data not loaded.")
        return
    try:
        logins = demo_data.load()
    except (DomainError, Invalid) as error:
        _fail(error)
    click.echo("Demo data loaded. Logins:")
    for role, username, password in logins:
        click.echo(f"  {role:8} {username:12} {password}")


@click.group("jobs")
def jobs_group():
    """The job queue: mails, reminders and offers written by the app, done by a worker."""


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Do what is due now, then stop.")
def jobs_worker_command(burst):
    """Run an RQ worker on the jobs queue (needs REDIS_URL; `make worker` starts it)."""
    from flask import current_app

    from portal.services.jobs import runner

    app = current_app._get_current_object()
    if app.config["JOBS_RUNNER"] != "rq":
        raise click.ClickException("Set REDIS_URL for a worker; without it `make run` runs the jobs itself.")
    runner.work_on_rq(app, burst=burst)


@jobs_group.command("status")
def jobs_status_command():
    """How many jobs wait, run, are done or failed, and when the last one finished."""
    from portal.services.jobs import outbox

    state = outbox.snapshot()
    click.echo(" ".join(f"{status}={count}" for status, count in state["counts"].items()))
    click.echo(f"oldest due: {state['oldest_due_at'] or '-'}  last run: {state['last_run_at'] or '-'}")
    for job in state["failed"]:
        click.echo(f"failed #{job.id} {job.kind} after {job.attempts} attempts: {job.last_error}")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(jobs_group)
