"""CPU time the server side spent on a round: gunicorn workers and the PostgreSQL backends of the bench DB.

Wall-clock figures move with whatever else the machine runs; CPU seconds per request barely do, so
they are the steadier measure of what a path costs at each size. Read from /proc (utime + stime).
"""
import os
from pathlib import Path

import psycopg

from bench.booking.generate import conninfo

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # the fields after "pid (comm) "


def _cpu_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else None  # utime, stime


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def backends(dbname: str) -> list[int]:
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            (dbname,)).fetchall()
    return [pid for (pid,) in rows]


def sample(master_pid: int, dbname: str) -> dict[str, dict[int, int]]:
    """{"app": {pid: ticks}, "db": {pid: ticks}} for the gunicorn workers and the DB's backends."""
    out: dict[str, dict[int, int]] = {}
    for side, pids in (("app", children(master_pid)), ("db", backends(dbname))):
        out[side] = {pid: t for pid in pids if (t := _cpu_ticks(pid)) is not None}
    return out


def spent(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per side between two samples (a process that started in between counts from zero)."""
    return {side: sum(t - before.get(side, {}).get(pid, 0) for pid, t in after[side].items()) / TICK
            for side in after}
