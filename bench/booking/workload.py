"""What each path asks for: request lists drawn at random from the data, and the hold+confirm pool.

Files are plain text for the wrk scripts: GET paths as "<path>\\t<token or ->", hold+confirm as
"<slot_id>\\t<token>" (each free future slot once, its patient free at that time).
"""
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from bench.booking.generate import CLINIC_TZ, SCALES, conninfo
from bench.booking.server import Server

GET_LINES = 5000
TZ = ZoneInfo(CLINIC_TZ)


def _local_midnight(day: date) -> str:
    return datetime.combine(day, time(0), TZ).isoformat()


def calendar(conn: psycopg.Connection) -> tuple[date, list[date], list[date]]:
    """Today in clinic time, the future Mondays whose whole week has slots, the future working days."""
    last = conn.execute("SELECT max(starts_at) FROM slots").fetchone()[0].astimezone(TZ).date()
    today = datetime.now(TZ).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    mondays = []
    while monday + timedelta(days=4) <= last:
        mondays.append(monday)
        monday += timedelta(days=7)
    days = [today + timedelta(days=n) for n in range(1, (last - today).days + 1)]
    return today, mondays, [d for d in days if d.weekday() < 5]


def _users(conn: psycopg.Connection, bookers: int, wanted: int, rng: random.Random):
    """Usernames of dashboard patients (with generated appointments) and of bookers (without future ones)."""
    rows = conn.execute("SELECT p.id, u.username FROM patients p JOIN users u ON u.id = p.user_id "
                        "WHERE u.username LIKE 'bench.p%' ORDER BY p.id").fetchall()
    booking = rows[:bookers][:wanted]
    others = rows[bookers:]
    dashboard = rng.sample(others, min(wanted, len(others)))
    return [u for _, u in dashboard], booking


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def bookable_slots(conn: psycopg.Connection, cap: int, rng: random.Random) -> list[tuple[int, datetime]]:
    """Up to `cap` free future slots in random order, inside the production booking window (config.py's
    BOOKING_MIN_NOTICE_MINUTES and BOOKING_HORIZON_DAYS) with an hour's margin on each side, so a
    booking is refused neither as too soon while the run lasts nor as too far."""
    from config import Config  # here, not at the top: config reads the environment when imported, and an
    # in-process app (roundtrips.in_process_app) sets it first

    conn.execute("SELECT setseed(%s)", (rng.random(),))
    return conn.execute(
        "SELECT s.id, s.starts_at FROM slots s WHERE s.starts_at > now() + make_interval(mins => %s) "
        "AND s.starts_at < now() + make_interval(days => %s) - interval '1 hour' "
        "AND s.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id "
        "AND a.status <> 'cancelled') ORDER BY random() LIMIT %s",
        (Config.BOOKING_MIN_NOTICE_MINUTES + 60, Config.BOOKING_HORIZON_DAYS, cap)).fetchall()


def deal(conn: psycopg.Connection, slots: list[tuple[int, datetime]], patients: list[tuple[int, str]],
         tokens: dict[str, str]) -> list[str]:
    """Each slot to the next patient who is free at that time, as "<slot_id>\t<token>" lines."""
    ids = [pid for pid, _ in patients]
    busy = set(conn.execute("SELECT patient_id, starts_at FROM appointments WHERE patient_id = ANY(%s) "
                            "AND status <> 'cancelled' AND starts_at > now()", (ids,)).fetchall())
    lines, turn = [], 0
    for slot_id, starts_at in slots:
        for attempt in range(len(patients)):
            pid, username = patients[(turn + attempt) % len(patients)]
            if (pid, starts_at) not in busy:  # generated slots lie on one half-hour grid
                busy.add((pid, starts_at))
                lines.append(f"{slot_id}\t{tokens[username]}")
                turn += attempt + 1
                break
    return lines


def _hold_pool(conn: psycopg.Connection, bookers: list[tuple[int, str]], tokens: dict[str, str], cap: int,
               rng: random.Random) -> list[str]:
    """Free future slots in random order, each dealt to the next booker who is free at that time."""
    return deal(conn, bookable_slots(conn, cap, rng), bookers, tokens)


def directory(conn: psycopg.Connection) -> tuple[list[int], list[str]]:
    """The doctors' ids and their specialities, which the anonymous reads are drawn from."""
    return ([r[0] for r in conn.execute("SELECT id FROM doctors ORDER BY id")],
            [r[0] for r in conn.execute("SELECT DISTINCT speciality FROM doctors ORDER BY 1")])


def read_lines(mondays: list[date], days: list[date], doctors: list[int], specialities: list[str],
               rng: random.Random) -> dict[str, list[str]]:
    """GET_LINES anonymous directory reads per read path, drawn at random: {path name: [URL path]}."""
    week = [f"/api/v1/doctors/{rng.choice(doctors)}/slots?from={m}&to={m + timedelta(days=6)}"
            for m in (rng.choice(mondays) for _ in range(GET_LINES))]
    window = []
    for _ in range(GET_LINES):
        day = rng.choice(days)
        start, end = quote(_local_midnight(day)), quote(_local_midnight(day + timedelta(days=1)))
        window.append(f"/api/v1/specialities/{quote(rng.choice(specialities))}/slots?start={start}&end={end}")
    detail = [f"/api/v1/doctors/{rng.choice(doctors)}" for _ in range(GET_LINES)]
    listing = [f"/api/v1/doctors?per_page=50&page={rng.randint(1, max(1, -(-len(doctors) // 50)))}"
               for _ in range(GET_LINES)]
    return {"doctor-week": week, "doctor-detail": detail, "doctor-list": listing, "speciality-window": window}


def build(scale_name: str, dbname: str, server: Server, out_dir: Path, *, hold_cap: int,
          seed: int = 7) -> dict:
    """Log the patients in, write one request file per path; returns {path name: (script, file)} and facts."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = 200 if scale_name == "large" else 40
    with psycopg.connect(conninfo(dbname)) as conn:
        today, mondays, days = calendar(conn)
        doctors, specialities = directory(conn)
        dashboard, bookers = _users(conn, SCALES[scale_name].bookers, wanted, rng)
        tokens = server.tokens(dashboard + [u for _, u in bookers])
        pool = _hold_pool(conn, bookers, tokens, hold_cap, rng)
    reads = read_lines(mondays, days, doctors, specialities, rng)
    yesterday = today - timedelta(days=1)
    board = [f"/api/v1/appointments?{rng.choice([f'from={today}', f'to={yesterday}'])}&per_page=20\t"
             f"{tokens[rng.choice(dashboard)]}" for _ in range(GET_LINES)]
    paths = {
        "trivial": ("get.lua", _write(out_dir / "trivial.txt", ["/healthz\t-"])),
        **{name: ("get.lua", _write(out_dir / f"{name}.txt", [f"{p}\t-" for p in lines]))
           for name, lines in reads.items()},
        "patient-dashboard": ("get.lua", _write(out_dir / "patient-dashboard.txt", board)),
        "hold+confirm": ("hold_confirm.lua", _write(out_dir / "hold-confirm.txt", pool)),
    }
    facts = {"future_weeks": len(mondays), "future_days": len(days), "doctors": len(doctors),
             "specialities": len(specialities), "logins": len(tokens), "hold_pool": len(pool),
             "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return {"paths": paths, "facts": facts, "tokens": tokens, "sample_token": tokens[dashboard[0]]}
