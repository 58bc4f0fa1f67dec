"""Matching a freed slot to the waitlist: the matcher's one query against 1,000 and 100,000 entries.

    .venv/bin/python -m bench waitlist [--entries 1000 100000] [--slots 300]

For each size a PostgreSQL database of its own (clinic_bench_waitlist_<n>, migrated with the project's
chain) gets 50 doctors in 10 specialities, one patient per five entries, and the entries: 70 % for a
doctor, 30 % for a speciality; windows from up to a month ago to 1-120 days ahead; 30 % with weekdays,
30 % with times of day; a tenth already ended; made a minute apart (drawn with a fixed seed). Each doctor
has 40 slots over the next 60 days, a quarter of them booked; every twentieth entry had an offer.

Then, in the app, waitlist_matching.matching_entry_query (exactly as the matcher runs it) finds the
longest-waiting fitting entry for randomly drawn slots (timed), and EXPLAIN (ANALYZE, BUFFERS) shows the
plan and the pages read for a typical slot and for the worst case, a slot beyond every window that no
entry fits, for which the walk reads every waiting entry of that doctor and that speciality.
Results: docs/performance.md.
"""
import argparse
import random
import statistics
import time
from datetime import timedelta

from bench.booking import generate as booking

DOCTORS, SPECIALITIES, SLOTS_PER_DOCTOR = 50, 10, 40

FILL = """
SELECT setseed(0.42);
INSERT INTO doctors (full_name, speciality, description, created_at)
SELECT 'Dr Bench ' || d, 'Speciality ' || (d % {specialities}), '', now() FROM generate_series(1, {doctors}) d;
INSERT INTO patients (full_name, search_text, created_at, updated_at)
SELECT 'Patient ' || p, 'patient ' || p, now(), now() FROM generate_series(1, {patients}) p;
INSERT INTO slots (doctor_id, starts_at, ends_at, duration, created_at)
SELECT d, date_trunc('hour', now()) + make_interval(days => 1 + s * 60 / {per_doctor}, hours => 6 + s % 9),
       date_trunc('hour', now()) + make_interval(days => 1 + s * 60 / {per_doctor}, hours => 6 + s % 9, mins => 30),
       30, now()
FROM generate_series(1, {doctors}) d, generate_series(0, {per_doctor} - 1) s;
INSERT INTO appointments (slot_id, patient_id, doctor_id, starts_at, ends_at, status, created_at, updated_at)
SELECT id, 1 + (id * 7) % {patients}, doctor_id, starts_at, ends_at, 'scheduled', now(), now()
FROM slots WHERE id % 4 = 0;
INSERT INTO waitlist_entries (patient_id, doctor_id, speciality, window_from, window_to, weekdays, earliest_time,
                              latest_time, status, created_at)
SELECT 1 + i % {patients},
       CASE WHEN kind < 0.7 THEN 1 + floor(random() * {doctors})::int END,
       CASE WHEN kind >= 0.7 THEN 'speciality ' || floor(random() * {specialities})::int END,
       now() - make_interval(days => floor(random() * 30)::int),
       now() + make_interval(days => 1 + floor(random() * 120)::int),
       CASE WHEN random() < 0.3 THEN 1 + floor(random() * 127)::int END,
       CASE WHEN hours < 0.3 THEN time '08:00' + make_interval(hours => floor(hours * 30)::int) END,
       CASE WHEN hours < 0.3 THEN time '12:00' + make_interval(hours => floor(hours * 30)::int) END,
       CASE WHEN random() < 0.1 THEN 'cancelled' ELSE 'waiting' END,
       now() - make_interval(mins => ({entries} - i)::int)
FROM (SELECT i, random() AS kind, random() AS hours FROM generate_series(1, {entries}) i) AS drawn;
INSERT INTO waitlist_offers (entry_id, slot_id, hold_id, offered_at, expires_at, outcome)
SELECT e.id, 1 + (e.id * 13) % ({doctors} * {per_doctor}), 'bench-' || e.id, now(), now(), 'expired'
FROM waitlist_entries e WHERE e.id % 20 = 0;
ANALYZE;
"""


def prepare(entries: int) -> str:
    dbname = f"clinic_bench_waitlist_{entries}"
    booking.recreate_database(dbname)
    booking.migrate(dbname)
    import psycopg

    with psycopg.connect(booking.conninfo(dbname), autocommit=True) as conn:
        conn.execute(FILL.format(doctors=DOCTORS, specialities=SPECIALITIES, patients=max(1, entries // 5),
                                 per_doctor=SLOTS_PER_DOCTOR, entries=entries))
    return dbname


def _explain(db, query) -> dict:
    compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    with db.engine.connect() as conn:
        [[plan]] = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled),
                                        compiled.params).all()
    top = plan[0]
    scans, seq = [], []

    def walk(node):
        if node["Node Type"] == "Seq Scan":
            seq.append(node["Relation Name"])
        if "Index Name" in node:
            scans.append(f"{node['Node Type']} using {node['Index Name']} (rows {node['Actual Rows']}, "
                         f"filtered out {node.get('Rows Removed by Filter', 0)})")
        for child in node.get("Plans", []):
            walk(child)

    walk(top["Plan"])
    return {"ms": top["Execution Time"], "buffers": top["Plan"].get("Shared Hit Blocks", 0)
            + top["Plan"].get("Shared Read Blocks", 0), "scans": scans,
            "seq_scans": seq}


def measure(dbname: str, draws: int, seed: int = 5) -> dict:
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from portal import create_app
    from portal.extensions import db
    from portal.models import Slot
    from portal.services.scheduling import waitlist_matching

    app = create_app("development", SQLALCHEMY_DATABASE_URI=booking.sqlalchemy_url(dbname), REDIS_URL="",
                     JOBS_RUNNER="manual")
    rng = random.Random(seed)
    with app.app_context():
        slots = list(db.session.scalars(select(Slot).options(joinedload(Slot.doctor))))
        picked = [rng.choice(slots) for _ in range(draws)]
        times, found = [], 0
        for slot in picked:
            key = waitlist_matching.speciality_key(slot.doctor.speciality)
            query = waitlist_matching.matching_entry_query(slot, key)
            started = time.perf_counter()
            found += db.session.scalar(query) is not None
            times.append((time.perf_counter() - started) * 1000)
        typical = _explain(db, waitlist_matching.matching_entry_query(
            picked[0], waitlist_matching.speciality_key(picked[0].doctor.speciality)))
        beyond = picked[0].starts_at + timedelta(days=200)  # past every entry's window
        nowhere = Slot(id=0, doctor_id=picked[0].doctor_id, doctor=picked[0].doctor, duration=30,
                       starts_at=beyond, ends_at=beyond + timedelta(minutes=30))
        worst = _explain(db, waitlist_matching.matching_entry_query(
            nowhere, waitlist_matching.speciality_key(nowhere.doctor.speciality)))
        db.session.rollback()
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95) - 1], "found": found,
            "draws": draws, "typical": typical, "worst": worst}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench waitlist")
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--slots", type=int, default=300)
    args = parser.parse_args(argv)
    rows = []
    for entries in args.entries:
        started = time.perf_counter()
        dbname = prepare(entries)
        print(f"{dbname}: filled in {time.perf_counter() - started:.1f} s", flush=True)
        rows.append((entries, measure(dbname, args.slots)))
    print("\n| entries | slots matched | median ms | p95 ms | typical: plan ms, pages | no fit: plan ms, "
          "pages | sequential scans of |")
    print("|---|---|---|---|---|---|---|")
    for entries, found in rows:
        typical, worst = found["typical"], found["worst"]
        print(f"| {entries:,} | {found['found']} / {found['draws']} | {found['median_ms']:.2f} | {found['p95_ms']:.2f} "
              f"| {typical['ms']:.2f}, {typical['buffers']} | {worst['ms']:.2f}, {worst['buffers']} "
              f"| {', '.join(sorted(set(typical['seq_scans'] + worst['seq_scans']))) or 'none'} |")
    for entries, found in rows:
        print(f"\n{entries:,} entries, typical plan: " + "; ".join(found["typical"]["scans"]))
        print(f"{entries:,} entries, no-fit plan: " + "; ".join(found["worst"]["scans"]))
