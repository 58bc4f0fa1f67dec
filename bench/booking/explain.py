"""EXPLAIN (ANALYZE, BUFFERS) of the SQL each benchmarked path really runs, on a bench database.

    .venv/bin/python -m bench booking-explain [--scale large]

The app runs in this process (production settings, the bench DB and Redis db); one request per path
goes through Flask's test client while SQLAlchemy's cursor events record every statement with its
parameters. Each recorded SELECT is then explained on a separate connection inside a transaction
that is rolled back. Writes are listed, not explained (they already happened). Plans use the literal
parameters, i.e. PostgreSQL's custom plans.
"""
import argparse
import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from bench.booking.generate import BENCH_PASSWORD, CLINIC_TZ, SCALES, conninfo
from bench.booking.server import app_env, flush_bench_redis

OUT = Path(__file__).resolve().parents[1] / "out"
BIG_TABLE_ROWS = 10_000  # a sequential scan over a table larger than this is reported


def _nodes(plan: dict, depth: int = 0):
    yield depth, plan
    for child in plan.get("Plans", []):
        yield from _nodes(child, depth + 1)


def _describe(node: dict) -> str:
    text = node["Node Type"]
    if node.get("Index Name"):
        text += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        text += f" on {node['Relation Name']}"
    return f"{text} ({node.get('Actual Rows', 0)} rows × {node.get('Actual Loops', 1)})"


def _kind(node: dict) -> tuple:
    return node["Node Type"], node.get("Index Name"), node.get("Relation Name")


def _requests(conn: psycopg.Connection, scale: str) -> list[tuple[str, str, str, dict | None, str | None]]:
    """(label, method, path, body, username) for one representative request of every path."""
    tz = ZoneInfo(CLINIC_TZ)
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7 * (4 if scale == "large" else 1))
    doctor, speciality = conn.execute("SELECT id, speciality FROM doctors ORDER BY id LIMIT 1").fetchone()
    patient = conn.execute(
        "SELECT u.username FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN users u ON u.id = p.user_id"
        " WHERE a.starts_at > now() AND p.id > %s ORDER BY a.id LIMIT 1", (SCALES[scale].bookers,)).fetchone()[0]
    booker_id, booker = conn.execute("SELECT p.id, u.username FROM patients p JOIN users u ON u.id = p.user_id"
                                     " ORDER BY p.id LIMIT 1").fetchone()
    slot = conn.execute(
        "SELECT s.id FROM slots s WHERE s.starts_at > now() + interval '1 day' AND s.removed_at IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM appointments a WHERE (a.slot_id = s.id OR a.patient_id = %s AND a.starts_at = s.starts_at)"
        " AND a.status <> 'cancelled') ORDER BY s.starts_at LIMIT 1", (booker_id,)).fetchone()[0]
    day = monday + timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tz)
    window = f"start={quote(start.isoformat())}&end={quote((start + timedelta(days=1)).isoformat())}"
    return [
        ("trivial", "GET", "/healthz", None, None),
        ("doctor-week", "GET", f"/api/v1/doctors/{doctor}/slots?from={monday}&to={monday + timedelta(days=6)}",
         None, None),
        ("speciality-window", "GET", f"/api/v1/specialities/{quote(speciality)}/slots?{window}", None, None),
        ("patient-dashboard (upcoming)", "GET", f"/api/v1/appointments?from={today}&per_page=20", None, patient),
        ("patient-dashboard (past)", "GET", f"/api/v1/appointments?to={today - timedelta(days=1)}&per_page=20",
         None, patient),
        ("hold", "POST", "/api/v1/holds", {"slot_id": slot}, booker),
        ("confirm", "POST", "/api/v1/appointments", {"hold_id": None}, booker),
    ]


def _explain(conn: psycopg.Connection, statement: str, params) -> tuple[dict, str]:
    cursor = psycopg.ClientCursor(conn)
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params or None)
    as_json = cursor.fetchone()[0][0]
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params or None)
    as_text = "\n".join(row[0] for row in cursor.fetchall())
    return as_json, as_text


def _generic_plan(conn: psycopg.Connection, statement: str, params) -> dict | None:
    """The plan PostgreSQL uses once it switches a prepared statement to a generic plan (psycopg prepares
    a statement after its 5th execution on a connection); None when the statement cannot be prepared."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    if not isinstance(params, dict) or not names:
        return None
    body = statement
    for number, name in enumerate(names, 1):
        body = body.replace(f"%({name})s", f"${number}")
    cursor = psycopg.ClientCursor(conn)
    try:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("PREPARE bench_generic AS " + body.replace("%%", "%"))
        marks = ", ".join(["%s"] * len(names))
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_generic({marks})",
                       [params[name] for name in names])
        return cursor.fetchone()[0][0]
    except psycopg.Error:
        return None
    finally:
        conn.rollback()
        conn.execute("DEALLOCATE ALL")


def _scans(plan: dict) -> list[dict]:
    return [n for _, n in _nodes(plan["Plan"]) if "Scan" in n["Node Type"] or n.get("Relation Name")]


def _table_sizes(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
                        "AND relnamespace = 'public'::regnamespace").fetchall()
    return dict(rows)


def run(scale: str) -> tuple[str, list[str]]:
    dbname = SCALES[scale].default_db
    os.environ.update(app_env(scale, dbname, OUT / "explain"))
    flush_bench_redis(scale)
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app()
    client = app.test_client()
    captured: list[tuple[str, object]] = []
    report, full, slow = [f"## EXPLAIN (ANALYZE, BUFFERS), {scale} dataset", ""], [], []
    with app.app_context(), psycopg.connect(conninfo(dbname)) as conn:
        marks = conn.execute("SELECT (SELECT coalesce(max(id), 0) FROM appointments), "
                             "(SELECT coalesce(max(id), 0) FROM audit_events)").fetchone()
        conn.rollback()
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, statement, params, _ctx, many: captured.append((statement, params)))
        sizes = _table_sizes(conn)
        tokens: dict[str, str] = {}
        hold_id = None
        for label, method, path, body, username in _requests(conn, scale):
            headers = {"Accept": "application/json"}
            if username:
                if username not in tokens:
                    login = client.post("/api/v1/auth/login", json={"username": username, "password": BENCH_PASSWORD})
                    tokens[username] = login.get_json()["data"]["access_token"]
                headers["Authorization"] = f"Bearer {tokens[username]}"
            if label == "confirm":
                body = {"hold_id": hold_id}
            captured.clear()
            response = client.open(path, method=method, json=body, headers=headers)
            if label == "hold" and response.status_code == 201:
                hold_id = response.get_json()["data"]["hold_id"]
            report += [f"### {label}: {method} {path.split('?')[0]} → {response.status_code}", "",
                       "| # | statement | plan (actual rows × loops) | buffers hit/read | ms |",
                       "|--:|---|---|--:|--:|"]
            for number, (statement, params) in enumerate(list(captured), 1):
                short = re.sub(r"\s+", " ", statement).strip()
                full.append(f"-- {label} #{number}\n{short}\n-- params: {params!r}")
                if not short.upper().startswith(("SELECT", "WITH")):
                    report.append(f"| {number} | `{short[:90]}…` | (write, not explained) | | |")
                    continue
                plan, text = _explain(conn, statement, params)
                conn.rollback()
                scans = _scans(plan)
                generic = _generic_plan(conn, statement, params)
                generic_scans = _scans(generic) if generic else []
                for kind, nodes in (("custom plan", scans), ("generic plan only", generic_scans)):
                    for n in nodes:
                        table = n.get("Relation Name")
                        if n["Node Type"] == "Seq Scan" and sizes.get(table, 0) > BIG_TABLE_ROWS and not (
                                kind != "custom plan" and any(_kind(m) == _kind(n) for m in scans)):
                            slow.append(f"{label} #{number} ({kind}): Seq Scan on {table} "
                                        f"(~{sizes[table]:,} rows): {short[:300]}")
                top = plan["Plan"]
                described = "; ".join(_describe(n) for n in scans) or top["Node Type"]
                if generic and [_kind(n) for n in generic_scans] != [_kind(n) for n in scans]:
                    described += "; **generic plan:** " + "; ".join(_describe(n) for n in generic_scans)
                report.append(
                    f"| {number} | `{short[:90]}…` | {described} "
                    f"| {top.get('Shared Hit Blocks', 0)}/{top.get('Shared Read Blocks', 0)} "
                    f"| {plan['Planning Time'] + plan['Execution Time']:.2f} |")
                full.append(text + "\n")
            report.append("")
        conn.execute("DELETE FROM audit_events WHERE id > %s", (marks[1],))
        conn.execute("DELETE FROM appointments WHERE id > %s", (marks[0],))  # leave the dataset as it was
        conn.commit()
    if slow:
        report += ["**Sequential scans on large tables:**", ""] + [f"- {s}" for s in slow] + [""]
    else:
        report += [f"No sequential scan on a table of more than {BIG_TABLE_ROWS:,} rows.", ""]
    return "\n".join(report), full


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench booking-explain", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    args = parser.parse_args(argv)
    text, full = run(args.scale)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"explain-{args.scale}-{stamp}.md").write_text(text)
    (OUT / f"explain-{args.scale}-{stamp}-plans.txt").write_text("\n".join(full))
    print(text)
    print(json.dumps({"written": str(OUT / f"explain-{args.scale}-{stamp}.md")}))


if __name__ == "__main__":
    main()
