"""The production runner: `flask jobs worker` processes (RQ on Redis) doing the suite's jobs.

Jobs are written here through the services (the test app runs none itself); the workers are real
processes on the suite's database and Redis, mailing a real SMTP server. A worker is killed with
SIGKILL in the middle of a delivery, and Redis is unreachable when a change commits: neither loses a mail.
"""
import asyncio
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from portal.extensions import db
from portal.models import Job
from portal.services import mail
from tests.fixtures.gunicorn_server import ROOT, _environment, free_port
from tests.fixtures.mailbox import Mailbox, _Collector
from tests.fixtures.waiting import until

pytestmark = pytest.mark.slow

FLASK = ROOT / ".venv" / "bin" / "flask"


@contextmanager
def job_worker(box, log: Path, **settings):
    """One `flask jobs worker` process with a short tick and lease, mailing `box`."""
    environment = {**_environment(None, None), "JOBS_RUNNER": "rq", "MAIL_SERVER": box.host,
                   "MAIL_PORT": str(box.port), "JOBS_TICK_SECONDS": "1", "JOBS_LEASE_SECONDS": "3",
                   **{key: str(value) for key, value in settings.items()}}
    with log.open("ab") as output:
        process = subprocess.Popen([str(FLASK), "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=environment,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)


def _mails(app, count: int, subject: str = "Mail") -> None:
    with app.app_context():
        for n in range(count):
            mail.send_later("ann@example.org", f"{subject} {n}", "See you.")
        db.session.commit()


def _jobs(app) -> list[Job]:
    with app.app_context():
        jobs = list(db.session.scalars(select(Job).order_by(Job.id)))
        db.session.remove()
    return jobs


@pytest.fixture
def box():
    mailbox = Mailbox()
    mailbox.start()
    yield mailbox
    mailbox.stop()


def test_two_workers_deliver_every_mail_exactly_once(app, box, tmp_path):
    _mails(app, 30)
    with job_worker(box, tmp_path / "w1.log"), job_worker(box, tmp_path / "w2.log"):
        until(lambda: len(box.messages) >= 30 and all(job.status == "done" for job in _jobs(app)))
        time.sleep(1.5)  # a tick more: a second delivery would show now
    subjects = sorted(message["Subject"] for message in box.messages)
    assert subjects == sorted(f"Mail {n}" for n in range(30)), (tmp_path / "w1.log").read_text()[-2000:]
    assert {(job.status, job.attempts) for job in _jobs(app)} == {("done", 1)}


class _StallFirstDelivery(_Collector):
    """The first delivery hangs inside DATA (the worker is killed there) and is never kept; later ones are."""

    def __init__(self) -> None:
        super().__init__()
        self.first_arrived, self.release, self._first = threading.Event(), threading.Event(), True

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self._first:
            self._first = False
            self.first_arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_in_the_middle_of_a_delivery_loses_nothing(app, tmp_path):
    collector = _StallFirstDelivery()
    stalling = Mailbox(collector=collector)
    stalling.start()
    try:
        _mails(app, 1, "Booked")
        with job_worker(stalling, tmp_path / "killed.log") as worker:
            assert collector.first_arrived.wait(30), (tmp_path / "killed.log").read_text()[-2000:]
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=20)
        collector.release.set()
        [job] = _jobs(app)
        assert (job.status, job.attempts) == ("running", 1)  # claimed by the dead worker, its lease running
        with job_worker(stalling, tmp_path / "restarted.log"):
            until(lambda: _jobs(app)[0].status == "done")
        assert [message["Subject"] for message in stalling.messages] == ["Booked 0"]
        assert [(job.status, job.attempts) for job in _jobs(app)] == [("done", 2)]
    finally:
        collector.release.set()
        stalling.stop()


def test_redis_down_when_a_change_commits_delays_its_mail_and_loses_nothing(app, box, tmp_path):
    closed = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1, socket_timeout=1)
    saved = app.config["JOBS_RUNNER"], app.extensions["redis"]
    app.config["JOBS_RUNNER"], app.extensions["redis"] = "rq", closed
    try:
        _mails(app, 1, "Booked")  # the commit's "do job N now" cannot reach Redis: only logged
    finally:
        app.config["JOBS_RUNNER"], app.extensions["redis"] = saved
    assert [job.status for job in _jobs(app)] == ["pending"]
    with job_worker(box, tmp_path / "worker.log"):  # Redis is back: the worker's tick finds the row
        until(lambda: len(box.messages) >= 1)
    assert [message["Subject"] for message in box.messages] == ["Booked 0"]
