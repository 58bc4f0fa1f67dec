"""Create, migrate and fill a records bench database: a booking clinic with years of medical history.

    .venv/bin/python -m bench records-generate --scale large|small

"large" is 50,000 patients, each assigned to one of 200 doctors, with 20 records apiece (1,000,000,
a tenth of them edited once) and an audit trail of 2,000,000 rows, 100,000 of them by one admin (the
CSV export reads those). "small" is the same shape at 1 % of the patients: 500 patients, 10,000 records,
20,000 audit rows, 1,000 by the admin. The clinic itself (doctors, patients with logins, a fortnight
of slots either side of today, appointments) comes from the booking generator; the history is loaded
with set-based SQL while the big tables' secondary indexes are set aside, then rebuilt and analyzed.
"""
import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from bench.booking import generate as booking
from bench.booking import sql as booking_sql
from bench.records import sql

HISTORY_TABLES = ["assignments", "medical_records", "medical_record_versions", "audit_events"]


@dataclass(frozen=True)
class RecordsScale:
    clinic: booking.Scale
    per_patient: int
    audit_total: int
    csv_rows: int

    @property
    def default_db(self) -> str:
        return booking.suffixed(f"clinic_bench_records_{self.clinic.name}")


SCALES = {
    "large": RecordsScale(booking.Scale("large", 10, 15, 200, -14, 13, 50_000, 500, 0.40, 0.125),
                          20, 2_000_000, 100_000),
    "small": RecordsScale(booking.Scale("small", 5, 5, 5, -14, 13, 500, 10, 0.40, 0.125),
                          20, 20_000, 1_000),
}


def counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(booking.conninfo(dbname)) as conn:
        row = conn.execute(sql.COUNTS).fetchone()
    return dict(zip(sql.COUNT_NAMES, row, strict=True))


def _set_aside(conn: psycopg.Connection) -> list[str]:
    """Drop the history tables' secondary indexes and foreign keys; return how to rebuild them."""
    rebuild = []
    tables = {"tables": HISTORY_TABLES}
    for table, name, definition in conn.execute(booking_sql.SECONDARY_CONSTRAINTS, tables).fetchall():
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _, definition in conn.execute(booking_sql.SECONDARY_INDEXES, tables).fetchall():
        rebuild.append(definition)
    for name, _ in conn.execute(booking_sql.SECONDARY_INDEXES, tables).fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    return sorted(rebuild, key=lambda s: (s.startswith("ALTER"), "FOREIGN KEY" in s))


def add_history(dbname: str, scale: RecordsScale, password_hash: str) -> None:
    with psycopg.connect(booking.conninfo(dbname)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '64MB'")
        rebuild = _set_aside(conn)
        present = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        records = scale.clinic.patients * scale.per_patient
        params = {"hash": password_hash, "doctors": scale.clinic.doctors, "per_patient": scale.per_patient,
                  "now": datetime.now(UTC), "records": records, "csv_rows": scale.csv_rows,
                  "reads": max(scale.audit_total - present, scale.csv_rows)}
        booking._step("admin", conn, sql.ADMIN, params)
        booking._step("patient search text", conn, sql.SEARCH_TEXT, params)
        booking._step("assignments", conn, sql.ASSIGNMENTS, params)
        booking._step("medical records", conn, sql.RECORDS, params)
        booking._step("record versions", conn, sql.VERSIONS, params)
        booking._step("audit reads", conn, sql.AUDIT_READS, params)
        for statement in rebuild:
            name = statement.split('"')[1] if statement.startswith("ALTER") else statement.split(" ON ")[0].split()[-1]
            booking._step(f"rebuild {name}"[:44], conn, statement)
    with psycopg.connect(booking.conninfo(dbname), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def generate(scale_name: str, dbname: str | None = None) -> tuple[str, dict[str, int]]:
    scale = SCALES[scale_name]
    dbname = dbname or scale.default_db
    started = time.perf_counter()
    print(f"generating the {scale_name} records clinic into {dbname}", flush=True)
    password_hash = booking.bench_password_hash()
    booking.recreate_database(dbname)
    booking.migrate(dbname)
    booking.fill(dbname, scale.clinic, password_hash)
    add_history(dbname, scale, password_hash)
    found = counts(dbname)
    print(f"  done in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in found.items()), flush=True)
    return dbname, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench records-generate", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", help="database name (must contain 'bench'); "
                                     "default clinic_bench_records_<scale> + BENCH_DB_SUFFIX")
    args = parser.parse_args(argv)
    generate(args.scale, args.db)


if __name__ == "__main__":
    main()
