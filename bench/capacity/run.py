"""Capacity: the mixed workload at rising concurrency, and the highest rate whose p99 stays under 200 ms.

    .venv/bin/python -m bench capacity [--scale large|small] [--seconds 10] [--steps 2,4,8,16,32,64]
                                       [--patients N] [--port P]

One gunicorn as the README's production section starts it (gunicorn.conf.py, PORTAL_ENV=production,
Redis, PostgreSQL), several hundred logged-in patients (lua/mixed.lua says what each request is),
then one wrk run per step of connections. Every step starts from the same data: the appointments
and audit rows of the step before are deleted and the dataset's Redis db emptied.
"""
import argparse
import os
import time
from datetime import datetime

from bench.booking import cpu, wrk
from bench.booking import report as booking_report
from bench.booking.run import OUT, booking_marks, ensure_data, undo_bookings
from bench.booking.server import REDIS_DBS, Server, flush_bench_redis, server_settings
from bench.capacity import mix, report
from bench.capacity.outcome import P99_LIMIT_MS, Step, capacity

WARM_UP_SECONDS = 3
PATIENTS = {"large": 400, "small": 50}


def measure(server: Server, request_file, label: str, *, seconds: int, connections: int,
            script: str = "mixed.lua") -> Step:
    """One wrk run with the app's and the database's CPU per request."""
    load = os.getloadavg()[0]
    start = cpu.sample(server.process.pid, server.dbname)
    result = wrk.run(label, server.base_url, script, request_file, duration=seconds, connections=connections)
    used = cpu.spent(start, cpu.sample(server.process.pid, server.dbname))
    result.app_cpu_ms = 1000 * used["app"] / max(result.requests, 1)
    result.db_cpu_ms = 1000 * used["db"] / max(result.requests, 1)
    return Step(label, result, load)


def print_step(step: Step) -> None:
    r = step.result
    print(f"  {step.label:<28} {r.rps:7,.0f} req/s  p50 {r.p50_ms:6.1f}  p99 {r.p99_ms:6.1f} ms  CPU app "
          f"{r.app_cpu_ms:.1f} db {r.db_cpu_ms:.1f} ms/req  409s {sum(step.conflicts.values())}  failures "
          f"{step.failures or 0}  load {step.load:.2f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("large", "small"), default="large")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per step (1-120)")
    parser.add_argument("--steps", default="2,4,8,16,32,64", help="wrk connections per step")
    parser.add_argument("--patients", type=int, help="patients logged in (default 400 large, 50 small)")
    parser.add_argument("--port", type=int, help="the server's port (default: a free one)")
    args = parser.parse_args(argv)
    seconds = min(max(args.seconds, 1), 120)
    steps = [min(max(int(c), 1), 256) for c in args.steps.split(",")]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    dbname, data = ensure_data(args.scale, regenerate=False)
    flush_bench_redis(args.scale)
    work_dir = OUT / f"work-{stamp}" / "capacity"
    server = Server(args.scale, dbname, work_dir / "gunicorn.log", port=args.port)
    facts = booking_report.machine_facts(dbname)
    measured: list[Step] = []
    with server:
        print(f"{args.scale}: gunicorn on {server.base_url}, logging in bench patients", flush=True)
        marks = booking_marks(dbname)
        # Bookings spend slots: enough for the busiest step at a generous 3,000 req/s.
        work = mix.build(dbname, server, work_dir, patients=args.patients or PATIENTS[args.scale],
                         bookings=300 * seconds)
        measure(server, work["file"], "warm-up", seconds=WARM_UP_SECONDS, connections=8)
        for connections in steps:
            undo_bookings(args.scale, dbname, marks)
            measured.append(measure(server, work["file"], f"{connections} connections", seconds=seconds,
                                    connections=connections))
            print_step(measured[-1])
        undo_bookings(args.scale, dbname, marks)
    best = capacity(measured)
    settings = {"wrk": f"1 thread, one step per connection count ({args.steps}), {seconds} s each after a "
                       f"{WARM_UP_SECONDS} s warm-up, timeout 10 s; closed loop (a connection sends its next "
                       "request when the answer is in, so latency under overload shows as lower throughput)",
                "mix": "each request drawn: 70 % anonymous read (doctor week, doctor detail, doctor list of 50, "
                       "speciality day, a quarter each), 20 % hold path (POST /holds, then DELETE it on the "
                       "next hold-path draw), 10 % booking (POST /appointments {slot_id})",
                "gunicorn": f"{server_settings()}, PORTAL_ENV=production, Redis db {REDIS_DBS[args.scale]}",
                "total run time": f"{time.monotonic() - started:.0f} s"}
    data.update(work["facts"])
    text = report.render(f"Capacity, {args.scale} clinic, {stamp}", facts, settings, data, [
        (f"Capacity: the highest rate with p99 under {P99_LIMIT_MS} ms", [report.capacity_line(best)]),
        ("Steps", report.steps_table(measured))])
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"capacity-{args.scale}-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target})", flush=True)
