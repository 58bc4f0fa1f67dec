"""What one request of each path costs in round trips: SQL statements and Redis calls, counted in-process.

PostgreSQL's pg_stat_statements is not available here, so the app runs in this process (production
settings, the bench database and Redis db) and one request per path goes through Flask's test client
while two counters run: SQLAlchemy's `before_cursor_execute` event (one per statement sent) and a
wrapper around redis-py's `Connection.send_packed_command` (one per round trip: a pipeline or an
MGET of many keys is one). The bench report and `bench booking-profile` both use it.
"""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from bench.booking.generate import BENCH_PASSWORD, CLINIC_TZ, SCALES, conninfo
from bench.booking.server import app_env


@dataclass
class Tally:
    sql: int = 0  # statements the app sends (SQLAlchemy's cursor executions)
    redis: int = 0
    pings: int = 0  # pool_pre_ping's SELECT 1 at a connection's checkout (one per request that uses the database)
    ends: int = 0  # COMMITs and ROLLBACKs (the session's end; a connection returned to the pool is rolled back)
    statements: list[str] = field(default_factory=list)
    redis_commands: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Probe:
    """One representative request of a path; `then` is a second request that depends on the first (confirm)."""

    path: str
    method: str
    url: str
    body: dict | None = None
    username: str | None = None


class Counting:
    """Counts statements and Redis round trips while `active` is entered."""

    def __init__(self, engine):
        from redis.connection import Connection
        from sqlalchemy import event

        self.tally: Tally | None = None
        counting = self

        def _statement(_conn, _cursor, statement, _params, _context, _many):
            if counting.tally is not None:
                counting.tally.sql += 1
                counting.tally.statements.append(" ".join(statement.split())[:160])

        event.listen(engine, "before_cursor_execute", _statement)

        def _ping(*_args):
            if counting.tally is not None and engine.pool._pre_ping:
                counting.tally.pings += 1

        def _end(conn):  # COMMIT or ROLLBACK, sent unless the connection runs in autocommit (nothing to end)
            if counting.tally is not None:
                if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                    counting.tally.ends += 1
                counting.settled = True

        def _returned(*_args):  # back to the pool: rolled back, unless the transaction already ended
            if counting.tally is not None and not counting.settled:
                counting.tally.ends += 1
            counting.settled = False

        def _begin(*_args):
            counting.settled = False

        self.settled = False
        event.listen(engine, "checkout", _ping)
        event.listen(engine, "begin", _begin)
        event.listen(engine, "commit", _end)
        event.listen(engine, "rollback", _end)
        event.listen(engine, "reset", _returned)
        original = Connection.send_packed_command

        def send_packed_command(conn, command, check_health=True):
            if counting.tally is not None:
                counting.tally.redis += 1
                packed = command if isinstance(command, bytes | str) else b"".join(
                    part if isinstance(part, bytes) else bytes(part) for part in command)
                text = packed.decode(errors="replace") if isinstance(packed, bytes) else packed
                counting.tally.redis_commands.append(" ".join(w for w in text.split("\r\n")[2::2])[:120])
            return original(conn, command, check_health)

        Connection.send_packed_command = send_packed_command

    @contextmanager
    def active(self) -> Iterator[Tally]:
        self.tally = Tally()
        try:
            yield self.tally
        finally:
            self.tally = None


def in_process_app(scale: str, dbname: str, work_dir: Path):
    """The app as gunicorn would build it, in this process, against a bench database."""
    os.environ.update(app_env(scale, dbname, work_dir))
    from portal import create_app

    return create_app()


def probes(dbname: str, scale: str) -> list[Probe]:
    """One request per path on the given bench database (future data, a patient with appointments, a booker)."""
    tz = ZoneInfo(CLINIC_TZ)
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    with psycopg.connect(conninfo(dbname)) as conn:
        doctor, speciality = conn.execute("SELECT id, speciality FROM doctors ORDER BY id LIMIT 1").fetchone()
        patient = conn.execute(
            "SELECT u.username FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN users u "
            "ON u.id = p.user_id WHERE a.starts_at > now() AND p.id > %s ORDER BY a.id LIMIT 1",
            (SCALES[scale].bookers,)).fetchone()[0]
        booker = conn.execute("SELECT u.username FROM patients p JOIN users u ON u.id = p.user_id "
                              "ORDER BY p.id LIMIT 1").fetchone()[0]
    day = monday + timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tz)
    window = f"start={quote(start.isoformat())}&end={quote((start + timedelta(days=1)).isoformat())}"
    return [
        Probe("trivial", "GET", "/healthz"),
        Probe("doctor-week", "GET", f"/api/v1/doctors/{doctor}/slots?from={monday}&to={monday + timedelta(days=6)}"),
        Probe("doctor-detail", "GET", f"/api/v1/doctors/{doctor}"),
        Probe("doctor-list", "GET", "/api/v1/doctors?per_page=50"),
        Probe("speciality-window", "GET", f"/api/v1/specialities/{quote(speciality)}/slots?{window}"),
        Probe("patient-dashboard", "GET", f"/api/v1/appointments?from={today}&per_page=20", username=patient),
        Probe("hold", "POST", "/api/v1/holds", {"slot_id": None}, booker),
        Probe("confirm", "POST", "/api/v1/appointments", {"hold_id": None}, booker),
    ]


def free_slots(dbname: str, username: str) -> list[int]:
    """Free future slots the booker is free at, each at a different time (so they can all be booked), inside
    the production booking horizon (the latest first: the dashboard's own appointments lie earlier)."""
    from config import Config  # here, not at the top: config reads the environment when imported, and an
    # in-process app (roundtrips.in_process_app) sets it first

    with psycopg.connect(conninfo(dbname)) as conn:
        rows = conn.execute(
            "SELECT s.id, s.starts_at FROM slots s WHERE s.starts_at > now() + interval '1 day' "
            "AND s.starts_at < now() + make_interval(days => %s) - interval '1 hour' "
            "AND s.removed_at IS NULL AND s.absence_id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled') "
            "AND NOT EXISTS (SELECT 1 FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN users u "
            "ON u.id = p.user_id WHERE u.username = %s AND a.status <> 'cancelled' AND a.starts_at < s.ends_at "
            "AND a.ends_at > s.starts_at) ORDER BY s.starts_at DESC",
            (Config.BOOKING_HORIZON_DAYS, username)).fetchall()
    seen, found = set(), []
    for slot_id, starts_at in rows:
        if starts_at not in seen:
            seen.add(starts_at)
            found.append(slot_id)
    return found


class Driver:
    """Sends probes through the test client with logged-in bearer tokens; remembers the last hold."""

    def __init__(self, app, dbname: str):
        self.app = app
        self.dbname = dbname
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}
        self.hold_id: str | None = None
        self.free: dict[str, list[int]] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            answer = self.client.post("/api/v1/auth/login", json={"username": username, "password": BENCH_PASSWORD})
            self.tokens[username] = answer.get_json()["data"]["access_token"]
        return self.tokens[username]

    def prepare(self, probe: Probe) -> tuple[dict, dict | None]:
        headers = {"Accept": "application/json"}
        if probe.username:
            headers["Authorization"] = f"Bearer {self.token(probe.username)}"
        body = probe.body
        if probe.path == "hold":
            if probe.username not in self.free:
                self.free[probe.username] = free_slots(self.dbname, probe.username)
            body = {"slot_id": self.free[probe.username].pop(0)}
        elif probe.path == "confirm":
            body = {"hold_id": self.hold_id}
        return headers, body

    def send(self, probe: Probe, headers: dict, body: dict | None):
        response = self.client.open(probe.url, method=probe.method, json=body, headers=headers)
        if probe.path == "hold" and response.status_code == 201:
            self.hold_id = response.get_json()["data"]["hold_id"]
        if response.status_code >= 400:
            raise RuntimeError(f"{probe.path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response


def undo_marks(dbname: str) -> tuple[int, int]:
    with psycopg.connect(conninfo(dbname)) as conn:
        return conn.execute("SELECT (SELECT coalesce(max(id), 0) FROM appointments), "
                            "(SELECT coalesce(max(id), 0) FROM audit_events)").fetchone()


def undo(dbname: str, marks: tuple[int, int]) -> None:
    """Leave the dataset as it was: the bookings and audit rows made since `marks` go again."""
    with psycopg.connect(conninfo(dbname)) as conn:
        for table in ("job_runs", "jobs"):
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                conn.execute(f"DELETE FROM {table}")  # the bench never runs the booking mails it queued
        conn.execute("DELETE FROM audit_events WHERE id > %s", (marks[1],))
        conn.execute("DELETE FROM appointments WHERE id > %s", (marks[0],))


def count(scale: str, dbname: str, work_dir: Path) -> dict[str, Tally]:
    """SQL statements and Redis round trips of one request per path (after one warm-up round of every path)."""
    app = in_process_app(scale, dbname, work_dir)
    from portal.extensions import db

    tallies: dict[str, Tally] = {}
    marks = undo_marks(dbname)
    try:
        with app.app_context():
            counting = Counting(db.engine)
        # No app context around the requests: each gets its own, as under gunicorn, so its session
        # checks a connection out (pre-ping) and gives it back (rollback) as a served request does.
        driver = Driver(app, dbname)
        found = probes(dbname, scale)
        for probe in found:  # warm-up: caches, pool connections, the job queue's one INFO
            driver.send(probe, *driver.prepare(probe))
        # The warm-up's booking moved the directory version, so each read below is computed (a miss of the
        # answer cache), as under the bench's random URLs. Under a version that holds (reads only), a miss finds
        # the booking rules' overrides kept (directory_version.kept): one other anonymous read keeps them.
        driver.send(Probe("overrides", "GET", "/api/v1/doctors?per_page=1"), {"Accept": "application/json"}, None)
        for probe in found:
            headers, body = driver.prepare(probe)
            with counting.active() as tally:
                driver.send(probe, headers, body)
            tallies[probe.path] = tally
    finally:
        undo(dbname, marks)
    hold, confirm = tallies.pop("hold"), tallies.pop("confirm")
    tallies["hold+confirm"] = Tally(hold.sql + confirm.sql, hold.redis + confirm.redis,
                                    hold.pings + confirm.pings, hold.ends + confirm.ends,
                                    hold.statements + ["-- confirm"] + confirm.statements,
                                    hold.redis_commands + ["-- confirm"] + confirm.redis_commands)
    return tallies


def count_in_subprocess(scale: str, dbname: str, work_dir: Path) -> dict[str, Tally] | str:
    """count() in a fresh process (the app reads its settings from the environment once); a string on failure."""
    import json
    import subprocess
    import sys

    from bench.booking.generate import ROOT

    done = subprocess.run([sys.executable, "-m", "bench.booking.roundtrips", scale, dbname, str(work_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return f"counting failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: Tally(*numbers) for name, numbers in found.items()}


if __name__ == "__main__":
    import json
    import sys

    tallies = count(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
    print(json.dumps({name: [t.sql, t.redis, t.pings, t.ends] for name, t in tallies.items()}))
