"""Create, migrate and fill a bench database with a clinic of a chosen size.

    .venv/bin/python -m bench.booking.generate --scale large [--db clinic_bench_large]

"large" is 200 doctors in 10 departments with 15 specialities, 16 half-hour slots every working day
over 63 weeks (43 behind, 20 ahead): 1,008,000 slots, about 315,000 appointments (40 % of the past
slots, 12.5 % of the future ones), 50,000 patients with their own logins, and the history a clinic
that size has (two earlier API logins per patient, three audit rows per appointment). "small" is the
same clinic shape at 1,040 slots. Everything is loaded with set-based SQL; the secondary indexes and
constraints of the big tables are set aside during the load and built again from their migrated
definitions (so every constraint is checked on every row, once), then the database is vacuumed and
analyzed.
"""
import argparse
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from bench.booking import sql

ROOT = Path(__file__).resolve().parents[2]
BENCH_PASSWORD = "bench-password-not-secret-2026"  # every bench user has it; bench databases only
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
CLINIC_TZ = os.environ.get("CLINIC_TZ", "Europe/Berlin")


@dataclass(frozen=True)
class Scale:
    name: str
    departments: int
    specialities: int
    doctors: int
    first_day: int  # days from this week's Monday (clinic time), inclusive
    last_day: int  # inclusive
    patients: int
    bookers: int  # patients 1..bookers get no generated future appointments: hold+confirm books for them
    past_share: float
    future_share: float

    @property
    def default_db(self) -> str:
        return suffixed(f"clinic_bench_{self.name}")


def suffixed(dbname: str) -> str:
    """A bench database's name plus BENCH_DB_SUFFIX (e.g. "_mine") so two people can bench on one server."""
    return dbname + os.environ.get("BENCH_DB_SUFFIX", "")


SCALES = {
    "large": Scale("large", 10, 15, 200, -43 * 7, 20 * 7 - 1, 50_000, 500, 0.40, 0.125),
    "small": Scale("small", 5, 5, 5, -5, 13, 50, 10, 0.40, 0.125),
}


def this_monday(tz: str = CLINIC_TZ) -> date:
    today = datetime.now(ZoneInfo(tz)).date()
    return today - timedelta(days=today.weekday())


def conninfo(dbname: str) -> str:
    return f"{PG_URL}/{dbname}"


def sqlalchemy_url(dbname: str) -> str:
    return conninfo(dbname).replace("postgresql://", "postgresql+psycopg://", 1)


def _check_name(dbname: str) -> None:
    if "bench" not in dbname:
        raise SystemExit(f"refusing to recreate {dbname!r}: a bench database's name contains 'bench'")


def recreate_database(dbname: str) -> None:
    _check_name(dbname)
    with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def migrate(dbname: str) -> None:
    """The project's own Alembic chain, run the way an operator runs it."""
    env = {**os.environ, "DATABASE_URL": sqlalchemy_url(dbname), "PORTAL_ENV": "development", "REDIS_URL": ""}
    flask = ROOT / ".venv" / "bin" / "flask"
    result = subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"migration failed:\n{result.stdout}\n{result.stderr}")


def schema_is_current(dbname: str) -> bool:
    """True when the database exists and stands at the head of the migration chain."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    try:
        with psycopg.connect(conninfo(dbname)) as conn:
            current = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    except psycopg.Error:
        return False
    return current == heads


def counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(conninfo(dbname)) as conn:
        row = conn.execute(sql.COUNTS).fetchone()
    return dict(zip(sql.COUNT_NAMES, row, strict=True))


def _step(label: str, conn: psycopg.Connection, statement: str, params: dict | None = None) -> None:
    started = time.perf_counter()
    cursor = conn.execute(statement, params)
    conn.commit()
    rows = f"{cursor.rowcount:>10,} rows" if cursor.rowcount >= 0 else ""
    print(f"  {label:<44} {rows:>15} {time.perf_counter() - started:7.1f} s", flush=True)


BIG_TABLES = ["slots", "appointments", "token_families", "refresh_tokens", "audit_events"]


def _set_aside(conn: psycopg.Connection) -> list[str]:
    """Drop the secondary indexes and constraints of the big tables; return how to rebuild them."""
    rebuild = []
    tables = {"tables": BIG_TABLES}
    for table, name, definition in conn.execute(sql.SECONDARY_CONSTRAINTS, tables).fetchall():
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, definition in conn.execute(sql.SECONDARY_INDEXES, tables).fetchall():
        rebuild.append(definition)
        conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    # Indexes first (cheap), then constraints; foreign keys last, after the exclusion constraints.
    return sorted(rebuild, key=lambda s: (s.startswith("ALTER"), "FOREIGN KEY" in s))


def fill(dbname: str, scale: Scale, password_hash: str) -> None:
    monday = this_monday()
    now = datetime.now(UTC)
    with psycopg.connect(conninfo(dbname)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '64MB'")
        rebuild = _set_aside(conn)
        params = {"departments": scale.departments, "specialities": scale.specialities,
                  "doctors": scale.doctors, "patients": scale.patients, "hash": password_hash, "tz": CLINIC_TZ,
                  "first_day": monday + timedelta(days=scale.first_day),
                  "last_day": monday + timedelta(days=scale.last_day), "now": now,
                  "skip": scale.bookers, "dealt": scale.patients - scale.bookers}
        _step("departments", conn, sql.DEPARTMENTS, params)
        _step("doctor users", conn, sql.DOCTOR_USERS, params)
        _step("doctors", conn, sql.DOCTORS, params)
        _step("patient users", conn, sql.PATIENT_USERS, params)
        _step("patients", conn, sql.PATIENTS, params)
        _step("slots", conn, sql.SLOTS, params)
        conn.execute("SELECT setseed(0.42)")
        past = sql.APPOINTMENTS.format(cmp="<", statuses=sql.PAST_STATUSES)
        future = sql.APPOINTMENTS.format(cmp=">=", statuses=sql.FUTURE_STATUSES)
        _step("past appointments", conn, past, {**params, "share": scale.past_share})
        _step("future appointments", conn, future, {**params, "share": scale.future_share})
        _step("token families (login history)", conn, sql.TOKEN_FAMILIES, params)
        _step("refresh tokens", conn, sql.REFRESH_TOKENS, params)
        _step("audit events", conn, sql.AUDIT_EVENTS, params)
        for statement in rebuild:
            name = statement.split('"')[1] if statement.startswith("ALTER") else statement.split(" ON ")[0].split()[-1]
            _step(f"rebuild {name}"[:44], conn, statement)
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  {'vacuum analyze':<44} {'':>15} {time.perf_counter() - started:7.1f} s", flush=True)


def bench_password_hash() -> str:
    """BENCH_PASSWORD hashed as the app's settings say (argon2 reads them from the app's config)."""
    from portal import create_app
    from portal.services.accounts.passwords import hash_password

    with create_app("development").app_context():  # the production argon2 cost (or PASSWORD_HASH_*)
        return hash_password(BENCH_PASSWORD)


def generate(scale_name: str, dbname: str | None = None) -> tuple[str, dict[str, int]]:
    scale = SCALES[scale_name]
    dbname = dbname or scale.default_db
    password_hash = bench_password_hash()
    started = time.perf_counter()
    print(f"generating {scale.name} clinic into {dbname}", flush=True)
    recreate_database(dbname)
    migrate(dbname)
    fill(dbname, scale, password_hash)
    found = counts(dbname)
    print(f"  done in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in found.items()), flush=True)
    return dbname, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.booking.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", help="database name (must contain 'bench'); default clinic_bench_<scale>")
    args = parser.parse_args(argv)
    generate(args.scale, args.db)


if __name__ == "__main__":
    main()
