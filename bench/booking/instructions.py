"""The instructions a request costs the app, counted by callgrind: the same figure every run, where served rates
move by a third between identical servers on these machines.

    .venv/bin/python -m bench booking-instructions [--scale large] [--paths hold+confirm doctor-week] [--requests 30]

For each path, a process of its own runs the app in-process under `valgrind --tool=callgrind` with counting off
(production settings, the bench database and Redis db, as bench/booking/profile.py), sends a warm-up, then
counts `--requests` requests of the path and as many of `/healthz` (switched on and off by callgrind_control),
and reports instructions a request and their ratio to `/healthz`'s. What it counts is the app's process: Python,
psycopg, redis-py and the C they call, Flask's test client included and gunicorn left out; the database and
Redis servers are not counted (EXPLAIN ANALYZE and the served benches show theirs). Anonymous reads are
drawn as the served bench draws its URLs, each asked once, so each is computed (an answer-cache miss, as there);
hold+confirm counts a pair (two requests) and books real slots, which are deleted again. Needs Debian's valgrind.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import psycopg

from bench.booking import roundtrips, workload
from bench.booking.generate import SCALES, conninfo

OUT = Path(__file__).resolve().parents[1] / "out"
PATHS = ("hold+confirm", "doctor-week", "speciality-window", "patient-dashboard")
WARM_UP = 5
SEED = 7  # the same draw every run


def _urls(conn: psycopg.Connection, probe: roundtrips.Probe, count: int) -> list[str]:
    """`count` URLs of the probe's path: for the anonymous reads, the first distinct ones of a draw made as the served
    bench makes its own (workload.read_lines), so the answer cache has seen none of them."""
    if probe.path not in ("doctor-week", "speciality-window"):
        return [probe.url] * count
    _, mondays, days = workload.calendar(conn)
    doctors, specialities = workload.directory(conn)
    drawn = workload.read_lines(mondays, days, doctors, specialities, random.Random(SEED))[probe.path]
    return list(dict.fromkeys(drawn))[:count]


def _callgrind(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


def _counted(label: str, send, count: int) -> None:
    """Count what `send` costs `count` times, into a dump named `label`."""
    _callgrind("-z")
    _callgrind("-i", "on")
    for number in range(count):
        send(number)
    _callgrind("-i", "off")
    _callgrind("-d", label)


def _child(scale: str, dbname: str, path: str, requests: int) -> None:
    """Under callgrind: drive the path and /healthz, counting only their requests."""
    app = roundtrips.in_process_app(scale, dbname, OUT / "instructions")
    driver = roundtrips.Driver(app, dbname)
    probes = {probe.path: probe for probe in roundtrips.probes(dbname, scale)}
    client = app.test_client()
    marks = roundtrips.undo_marks(dbname)
    try:
        if path == "hold+confirm":
            hold, confirm = probes["hold"], probes["confirm"]
            ready = [driver.prepare(hold) for _ in range(WARM_UP + requests)]

            def pair(number: int) -> None:
                driver.send(hold, *ready[number])
                driver.send(confirm, *driver.prepare(confirm))

            for number in range(WARM_UP):
                pair(requests + number)
            send = pair
        else:
            probe = probes[path]
            headers, body = driver.prepare(probe)
            with psycopg.connect(conninfo(dbname)) as conn:
                urls = _urls(conn, probe, WARM_UP + requests)

            def send(number: int) -> None:
                response = client.open(urls[number], method=probe.method, json=body, headers=headers)
                if response.status_code >= 400:
                    raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}")

            for number in range(requests, requests + WARM_UP):
                send(number)
            client.get("/api/v1/doctors?per_page=1")  # the booking rules' overrides kept, as other reads keep them
        for _ in range(WARM_UP):
            client.get("/healthz")
        _counted("path", send, requests)
        _counted("healthz", lambda _: client.get("/healthz"), requests)
    finally:
        roundtrips.undo(dbname, marks)


def _totals(folder: Path) -> dict[str, int]:
    """Instructions of each dump (by its label) in a callgrind output folder."""
    found = {}
    for dump in folder.glob("callgrind.*"):
        text = dump.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: dump (\S+)", text, re.M)  # callgrind_control -d <label>
        total = re.search(r"^totals: (\d+)", text, re.M)
        if label and total:
            found[label.group(1)] = int(total.group(1))
    return found


def measure(scale: str, dbname: str, path: str, requests: int) -> dict:
    """Run the path's child under callgrind; its instructions a request and /healthz's."""
    with tempfile.TemporaryDirectory() as folder:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={folder}/callgrind.%p", sys.executable, "-m", "bench.booking.instructions",
                   "--child", path, "--scale", scale, "--db", dbname, "--requests", str(requests)]
        finished = subprocess.run(command, capture_output=True, text=True)
        totals = _totals(Path(folder))
    if finished.returncode != 0 or set(totals) != {"path", "healthz"}:
        raise SystemExit(f"{path}: the counted run failed ({finished.returncode}):\n{finished.stderr[-2000:]}")
    per_request = totals["path"] / requests / (2 if path == "hold+confirm" else 1)
    healthz = totals["healthz"] / requests
    return {"path": path, "instructions": round(per_request), "healthz": round(healthz),
            "ratio": round(per_request / healthz, 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench booking-instructions", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    parser.add_argument("--db", help="the bench database (default: the scale's, with BENCH_DB_SUFFIX)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    dbname = args.db or SCALES[args.scale].default_db
    if args.child:
        _child(args.scale, dbname, args.child, args.requests)
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is missing: install Debian's valgrind (apt-get install valgrind)")
    rows = [measure(args.scale, dbname, path, args.requests) for path in args.paths]
    lines = [f"## Instructions a request, {args.scale} dataset ({dbname}), {args.requests} requests each", "",
             "| path | instructions a request | /healthz's | ratio |", "|---|--:|--:|--:|"]
    for row in rows:
        name = f"{row['path']} (a request of a pair)" if row["path"] == "hold+confirm" else row["path"]
        millions = f"{row['instructions'] / 1e6:.2f} M | {row['healthz'] / 1e6:.2f} M"
        lines.append(f"| {name} | {millions} | {row['ratio']:.2f} |")
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"instructions-{args.scale}-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({"written": str(OUT / f"instructions-{args.scale}-{stamp}.md"), "rows": rows}))


if __name__ == "__main__":
    main()
