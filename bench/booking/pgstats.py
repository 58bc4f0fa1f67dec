"""Sequential scans the server ran during a path, from PostgreSQL's own counters (pg_stat_user_tables).

A backend flushes its counters at most once a second while busy and within 10 s once idle, so a
snapshot taken SETTLE_SECONDS after a run has everything that run did.
"""
import os
import time

import psycopg

from bench.booking.generate import conninfo

# BENCH_SETTLE_SECONDS=1 for quick comparisons whose sequential-scan column does not matter
SETTLE_SECONDS = int(os.environ.get("BENCH_SETTLE_SECONDS", 11))
BIG_TABLE_ROWS = 10_000


def snapshot(dbname: str) -> dict[str, tuple[int, int, int]]:
    """{table: (seq_scan, seq_tup_read, idx_scan)} for the tables of more than BIG_TABLE_ROWS rows."""
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT s.relname, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0) FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE c.reltuples > %s", (BIG_TABLE_ROWS,)).fetchall()
    return {name: (seq, tuples, idx) for name, seq, tuples, idx in rows}


def settled_snapshot(dbname: str) -> dict[str, tuple[int, int, int]]:
    time.sleep(SETTLE_SECONDS)
    return snapshot(dbname)


def seq_scans(before: dict, after: dict, requests: int) -> str:
    """"appointments 0.50/req (143,000 rows/req)" for each big table scanned sequentially, or "none"."""
    parts = []
    for table, (seq, tuples, _) in sorted(after.items()):
        old_seq, old_tuples, _ = before.get(table, (0, 0, 0))
        if seq > old_seq and requests:
            parts.append(f"{table} {(seq - old_seq) / requests:.2f}/req "
                         f"({(tuples - old_tuples) / requests:,.0f} rows/req)")
    return "; ".join(parts) or "none"
