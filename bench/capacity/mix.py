"""The mixed workload's request file for lua/mixed.lua: anonymous reads, slots to hold, slots to book.

Patients are the first `patients` bench patients by id (the bookers first: they have no future
appointments), each logged in once. The free slots inside the booking window are split: a few
thousand (a quarter on the small clinic) are held and released in a loop, the rest are each booked
once, dealt to a patient who is free at that time, so no booking meets a conflict the data made.
"""
import random
from pathlib import Path

import psycopg

from bench.booking import workload
from bench.booking.generate import conninfo
from bench.booking.server import Server

HOLD_SLOTS = 5000
READ_PATHS = ("doctor-week", "doctor-detail", "doctor-list", "speciality-window")


def _patients(conn: psycopg.Connection, wanted: int) -> list[tuple[int, str]]:
    return conn.execute("SELECT p.id, u.username FROM patients p JOIN users u ON u.id = p.user_id "
                        "WHERE u.username LIKE 'bench.p%%' ORDER BY p.id LIMIT %s", (wanted,)).fetchall()


def build(dbname: str, server: Server, out_dir: Path, *, patients: int, bookings: int, seed: int = 7) -> dict:
    """Log the patients in and write mixed.txt, plus trivial.txt and doctor-week.txt for get.lua.

    Returns {"file": mixed.txt, "paths": {name: file}, "facts": {...}}."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(conninfo(dbname)) as conn:
        _, mondays, days = workload.calendar(conn)
        doctors = [r[0] for r in conn.execute("SELECT id FROM doctors ORDER BY id")]
        specialities = [r[0] for r in conn.execute("SELECT DISTINCT speciality FROM doctors ORDER BY 1")]
        people = _patients(conn, patients)
        tokens = server.tokens([username for _, username in people])
        slots = workload.bookable_slots(conn, bookings + HOLD_SLOTS, rng)
        holdable = min(HOLD_SLOTS, len(slots) // 4)
        hold_lines = workload.deal(conn, slots[:holdable], people, tokens)
        book_lines = workload.deal(conn, slots[holdable:], people, tokens)
    reads = workload.read_lines(mondays, days, doctors, specialities, rng)
    mixed = [f"R\t{rng.choice(reads[rng.choice(READ_PATHS)])}" for _ in range(workload.GET_LINES)]
    mixed += [f"H\t{line}" for line in hold_lines] + [f"B\t{line}" for line in book_lines]
    paths = {"trivial": out_dir / "trivial.txt", "doctor-week": out_dir / "doctor-week.txt"}
    paths["trivial"].write_text("/healthz\t-\n")
    paths["doctor-week"].write_text("".join(f"{p}\t-\n" for p in reads["doctor-week"]))
    (out_dir / "mixed.txt").write_text("\n".join(mixed) + "\n")
    facts = {"patients logged in": len(tokens), "slots held and released in a loop": len(hold_lines),
             "slots to book (each once)": len(book_lines), "read requests (replayed)": workload.GET_LINES}
    return {"file": out_dir / "mixed.txt", "paths": paths, "facts": facts}
