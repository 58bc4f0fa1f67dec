"""The laptop mode keeps what it answered for across a restart, as a newcomer runs it.

`make run` without DATABASE_URL and REDIS_URL: migrate, load the demo, one gunicorn process with four
threads on a SQLite file, uploads in UPLOAD_DIR. A booking and a profile picture made there, then
Ctrl-C (SIGINT to gunicorn) and the same command again: both are still there, byte for byte.
"""
import os
import runpy
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.api.images import jpeg_bytes
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import GUNICORN, ROOT, STOP_SECONDS, _wait_until_up, free_port
from tests.fixtures.mailbox import Mailbox

pytestmark = pytest.mark.slow
FLASK = ROOT / ".venv" / "bin" / "flask"
GRACEFUL_SECONDS = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["graceful_timeout"]
NOT_LAPTOP = ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "TEST_DATABASE_URL", "TEST_REDIS_URL",
              "MAIL_SERVER")


def _laptop_environment(folder: Path) -> dict[str, str]:
    """The development settings of `make run`; only the SQLite file and uploads are moved into `folder`
    (DATABASE_URL names a SQLite file, so it is still the laptop mode) to keep the repository's own."""
    environment = {key: value for key, value in os.environ.items() if key not in NOT_LAPTOP}
    return {**environment, "PORTAL_ENV": "development", "DATABASE_URL": f"sqlite:///{folder / 'portal.db'}",
            "UPLOAD_DIR": str(folder / "uploads")}


def _flask(environment: dict, *arguments: str) -> str:
    done = subprocess.run([str(FLASK), "--app", "wsgi", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def _make_run(environment: dict, log: Path):
    """gunicorn as `make run` starts it; stopped with SIGINT, as Ctrl-C does, which must end it cleanly."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        process = subprocess.Popen([str(GUNICORN), "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                   cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            _wait_until_up(base, process, log)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                # gunicorn gives a worker up to its graceful_timeout (gunicorn.conf.py, read from the working
                # directory as by `make run`) before it kills it; the test waits for that and a margin, and
                # still requires a clean exit.
                assert process.wait(timeout=GRACEFUL_SECONDS + STOP_SECONDS) == 0, log.read_text()[-3000:]
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)


def _login(base: str, username: str, password: str) -> dict:
    answer = requests.post(f"{base}{PREFIX}/auth/login", json={"username": username, "password": password}, timeout=60)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


def test_a_booking_and_a_picture_survive_ctrl_c_and_a_restart(tmp_path):
    environment = _laptop_environment(tmp_path)
    _flask(environment, "db", "upgrade")
    logins = {line.split()[0]: line.split()[1:] for line in _flask(environment, "seed-demo", "--if-empty").splitlines()
              if line.startswith("  ")}
    log = tmp_path / "gunicorn.log"
    with _make_run(environment, log) as base:
        health = requests.get(f"{base}/healthz", timeout=30).json()
        assert (health["mode"], health["engine"], health["stores"]) == ("laptop", "sqlite", "in-process")
        doctor_id = requests.get(f"{base}{PREFIX}/me", headers=_login(base, *logins["doctor"]), timeout=60
                                 ).json()["data"]["doctor_id"]
        free = requests.get(f"{base}{PREFIX}/doctors/{doctor_id}/slots?status=free", timeout=60).json()["data"]
        patient = _login(base, *logins["patient"])
        booked = requests.post(f"{base}{PREFIX}/appointments", json={"slot_id": free[0]["id"]}, headers=patient,
                               timeout=60)
        assert booked.status_code == 201, booked.text
        uploaded = requests.put(f"{base}{PREFIX}/me/picture", files={"file": ("me.jpg", jpeg_bytes(), "image/jpeg")},
                                headers=patient, timeout=60)
        assert uploaded.ok, uploaded.text
        picture = requests.get(f"{base}{PREFIX}/me/picture", headers=patient, timeout=60)
        assert picture.status_code == 200 and picture.content
    assert "already has users" in _flask(environment, "seed-demo", "--if-empty")
    with _make_run(environment, log) as base:
        patient = _login(base, *logins["patient"])
        again = requests.get(f"{base}{PREFIX}/appointments/{booked.json()['data']['id']}", headers=patient, timeout=60)
        assert again.status_code == 200 and again.json()["data"] == booked.json()["data"]
        kept = requests.get(f"{base}{PREFIX}/me/picture", headers=patient, timeout=60)
        assert kept.status_code == 200 and kept.content == picture.content
        assert kept.headers["Content-Type"] == picture.headers["Content-Type"]


def test_a_mail_queued_while_the_mail_server_was_down_is_sent_after_a_restart(tmp_path):
    """The job queue lives in the SQLite file: a booking's mail that could not leave before Ctrl-C
    leaves from the next start, done by the process's own job thread (no worker, no Redis)."""
    environment = {**_laptop_environment(tmp_path), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(free_port()),
                   "JOBS_RETRY_SECONDS": "1", "JOBS_TICK_SECONDS": "1",
                   # Ctrl-C can land while the job thread holds the mail's lease (a send under way); the next
                   # start then waits for that lease to run out before sending again (120 s by default)
                   "JOBS_LEASE_SECONDS": "2"}
    _flask(environment, "db", "upgrade")
    logins = {line.split()[0]: line.split()[1:] for line in _flask(environment, "seed-demo", "--if-empty").splitlines()
              if line.startswith("  ")}
    log = tmp_path / "gunicorn.log"
    with _make_run(environment, log) as base:
        doctor_id = requests.get(f"{base}{PREFIX}/me", headers=_login(base, *logins["doctor"]), timeout=60
                                 ).json()["data"]["doctor_id"]
        free = requests.get(f"{base}{PREFIX}/doctors/{doctor_id}/slots?status=free", timeout=60).json()["data"]
        booked = requests.post(f"{base}{PREFIX}/appointments", json={"slot_id": free[0]["id"]},
                               headers=_login(base, *logins["patient"]), timeout=60)
        assert booked.status_code == 201, booked.text
    box = Mailbox()
    box.start()
    try:
        with _make_run({**environment, "MAIL_PORT": str(box.port)}, log):
            messages = box.wait_for(1, timeout=30)
        assert len(messages) == 1, log.read_text()[-3000:]
        assert "appointment booked for" in messages[0]["Subject"]
    finally:
        box.stop()
