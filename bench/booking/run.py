"""Run the booking benchmark: both datasets under gunicorn side by side, each path under wrk, one report.

    .venv/bin/python -m bench booking [--scale large|small|both] [--duration 20] [--rounds 5] [--connections 8]

Both servers start at once (each with its own database and Redis db) and every path is measured in
rounds that alternate between them (large, small, small, large, ...), so a machine that gets busier or
quieter during the run (other people's tests) weighs on both sizes alike. Per path: a short warm-up,
then `rounds` rounds adding up to `duration` seconds per dataset with `connections` keep-alive
connections. Hold+confirm starts every burst from the same data: the appointments and audit rows it
made are deleted and the holds let go before the next, and a round books in bursts until its seconds are
used (the small clinic's pool lasts a second or two: booking_round).

Each round of a path is preceded by a round of the trivial endpoint on the same server, as long: the
ratios are taken against that interleaved baseline, so a host whose speed drifts within the run (seen
here: /healthz at 496 and at 781 req/s twenty minutes apart) weighs on a path and its baseline alike.
"""
import argparse
import math
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import psycopg

from bench.booking import cpu, generate, pgstats, report, roundtrips, workload, wrk
from bench.booking.server import REDIS_DBS, Server, flush_bench_redis, forget_holds, server_settings

OUT = generate.ROOT / "bench" / "out"
WARM_UP_SECONDS = 3
IN_FLIGHT_SECONDS = 2
LARGE_MINIMUM = {"doctors": 200, "slots": 1_000_000, "appointments": 300_000}


def ensure_data(scale: str, regenerate: bool) -> tuple[str, dict]:
    """The small clinic is rebuilt every run (2 s); the large one when missing, stale or asked to."""
    dbname = generate.SCALES[scale].default_db
    if scale == "small" or regenerate or not generate.schema_is_current(dbname):
        return generate.generate(scale, dbname)
    found = generate.counts(dbname)
    if any(found[k] < v for k, v in LARGE_MINIMUM.items()):
        return generate.generate(scale, dbname)
    print(f"reusing {dbname}: " + ", ".join(f"{k} {v:,}" for k, v in found.items()), flush=True)
    return dbname, found


def probe(server: Server, name: str, data_file: Path) -> str | None:
    """None when the path's endpoint answers; otherwise why the path is skipped."""
    lines = data_file.read_text().splitlines()
    if not lines:
        return "no free slots to book"
    if name == "hold+confirm":
        status, _ = server.call("POST", "/api/v1/holds", {}, token=lines[0].split("\t")[1])
        return f"endpoint missing ({status})" if status in (404, 405) else None
    path, token = lines[0].split("\t")
    status, body = server.call("GET", path, token=None if token == "-" else token)
    if status != 200:
        code = (body or {}).get("error", {}).get("code", "") if isinstance(body, dict) else ""
        return f"endpoint answers {status} {code}".strip()
    return None


def booking_marks(dbname: str) -> tuple[int, int]:
    with psycopg.connect(generate.conninfo(dbname)) as conn:
        return conn.execute("SELECT (SELECT coalesce(max(id), 0) FROM appointments), "
                            "(SELECT coalesce(max(id), 0) FROM audit_events)").fetchone()


def undo_bookings(scale: str, dbname: str, marks: tuple[int, int]) -> None:
    """Put a dataset back as it was before hold+confirm: its slots free again, no holds left.

    wrk leaves up to `connections` requests in flight when a round ends; they finish first. Only the holds and
    the directory's version go from Redis (forget_holds): the callers the server keeps there stay, as on a
    server that runs on, where flushing it all made every round of every worker read each caller again.
    """
    time.sleep(IN_FLIGHT_SECONDS)
    with psycopg.connect(generate.conninfo(dbname)) as conn:
        conn.execute("DELETE FROM audit_events WHERE id > %s", (marks[1],))
        conn.execute("DELETE FROM appointments WHERE id > %s", (marks[0],))
    forget_holds(scale)


def measured_round(server: Server, name: str, script, data_file, seconds: int, connections: int,
                   into: list[wrk.Result], cpu_s: dict[str, float]) -> None:
    """One wrk round of a path, with the CPU the server's workers and backends spent on it (added to cpu_s)."""
    start = cpu.sample(server.process.pid, server.dbname)
    into.append(wrk.run(name, server.base_url, script, data_file, duration=seconds, connections=connections))
    for side, used in cpu.spent(start, cpu.sample(server.process.pid, server.dbname)).items():
        cpu_s[side] += used


def booking_round(server: Server, scale: str, script, data_file, seconds: int, connections: int,
                  into: list[wrk.Result], cpu_s: dict[str, float], marks: tuple[int, int]) -> None:
    """One round of hold+confirm: bursts, each from its pool undone again, until they have booked for `seconds`.
    The pool runs out before a round ends on a small clinic (its 692 free slots in a second or two), and one
    burst's start then weighs on the whole figure: 0.20 in one run, 0.41 in the next, the same code."""
    booked_for = 0.0
    while booked_for < seconds:
        undo_bookings(scale, server.dbname, marks)
        measured_round(server, "hold+confirm", script, data_file, math.ceil(seconds - booked_for), connections,
                       into, cpu_s)
        if not into[-1].requests:
            return
        booked_for += into[-1].seconds


def _merged(parts: list[wrk.Result], cpu_s: dict[str, float]) -> wrk.Result:
    result = wrk.Result.merge(parts)
    result.app_cpu_ms = 1000 * cpu_s["app"] / max(result.requests, 1)
    result.db_cpu_ms = 1000 * cpu_s["db"] / max(result.requests, 1)
    return result


def run_path(name: str, servers: dict[str, Server], works: dict, args) -> dict[str, wrk.Result | str]:
    results: dict[str, wrk.Result | str] = {}
    ready, marks = {}, {}
    for scale, server in servers.items():
        script, data_file = works[scale]["paths"][name.removesuffix(" again")]
        why = probe(server, name, data_file)
        if why:
            results[scale] = why
            continue
        ready[scale] = (server, script, data_file)
        if name == "hold+confirm":  # its warm-up spends the pool: every measured round undoes what it booked
            marks[scale] = booking_marks(server.dbname)
        wrk.run(name, server.base_url, script, data_file, duration=WARM_UP_SECONDS, connections=args.connections)
    time.sleep(pgstats.SETTLE_SECONDS)
    before = {scale: pgstats.snapshot(server.dbname) for scale, (server, _, _) in ready.items()}
    interleaved = not name.startswith("trivial")
    rounds = {(scale, kind): [] for scale in ready for kind in ("path", "trivial")}
    cpu_s = {key: {"app": 0.0, "db": 0.0} for key in rounds}
    seconds = max(1, round(args.duration / args.rounds))
    for number in range(args.rounds):
        order = list(ready) if number % 2 == 0 else list(reversed(ready))
        for scale in order:
            server, script, data_file = ready[scale]
            if interleaved:
                trivial_script, trivial_data = works[scale]["paths"]["trivial"]
                measured_round(server, "trivial", trivial_script, trivial_data, seconds, args.connections,
                               rounds[scale, "trivial"], cpu_s[scale, "trivial"])
            if name == "hold+confirm":
                booking_round(server, scale, script, data_file, seconds, args.connections, rounds[scale, "path"],
                              cpu_s[scale, "path"], marks[scale])
            else:
                measured_round(server, name, script, data_file, seconds, args.connections, rounds[scale, "path"],
                               cpu_s[scale, "path"])
    time.sleep(pgstats.SETTLE_SECONDS)
    for scale, (server, _, _) in ready.items():
        result = _merged(rounds[scale, "path"], cpu_s[scale, "path"])
        if interleaved:
            result.baseline = _merged(rounds[scale, "trivial"], cpu_s[scale, "trivial"])
        result.seq_scans = pgstats.seq_scans(before[scale], pgstats.snapshot(server.dbname), result.requests)
        results[scale] = result
        if name == "hold+confirm":
            undo_bookings(scale, server.dbname, marks[scale])
    for scale, result in results.items():
        if isinstance(result, str):
            print(f"  {name:<18} {scale:<6} skipped: {result}", flush=True)
        else:
            print(f"  {name:<18} {scale:<6} {result.rps:7,.0f} req/s  p50 {result.p50_ms:6.1f}  p95 "
                  f"{result.p95_ms:6.1f}  p99 {result.p99_ms:6.1f} ms  CPU app {result.app_cpu_ms:.1f} db "
                  f"{result.db_cpu_ms:.1f} ms/req  {report.outcomes(result)}; "
                  f"seq scans: {result.seq_scans}", flush=True)
            if result.baseline is not None:
                print(f"  {'  trivial between':<18} {scale:<6} {result.baseline.rps:7,.0f} req/s  CPU app "
                      f"{result.baseline.app_cpu_ms:.1f} db {result.baseline.db_cpu_ms:.1f} ms/req", flush=True)
    return results


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench booking", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("large", "small", "both"), default="both")
    parser.add_argument("--duration", type=int, default=20, help="seconds per path and dataset (1-300)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the duration is split into")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (1-64)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the large dataset too")
    args = parser.parse_args(argv)
    args.duration = min(max(args.duration, 1), 300)
    args.rounds = min(max(args.rounds, 1), args.duration)
    args.connections = min(max(args.connections, 1), 64)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    scales = ("large", "small") if args.scale == "both" else (args.scale,)
    datasets, works, servers = {}, {}, {}
    for scale in scales:
        dbname, datasets[scale] = ensure_data(scale, args.regenerate)
        flush_bench_redis(scale)
        servers[scale] = Server(scale, dbname, OUT / f"work-{stamp}" / scale / "gunicorn.log")
    facts = report.machine_facts(servers[scales[0]].dbname)
    counts = {}
    for scale, server in servers.items():  # one request per path in-process, before any load
        counts[scale] = roundtrips.count_in_subprocess(scale, server.dbname, OUT / f"work-{stamp}" / scale)
        flush_bench_redis(scale)
    results: dict[str, dict] = {scale: {} for scale in scales}
    with ExitStack() as stack:
        for scale, server in servers.items():
            stack.enter_context(server)
            print(f"{scale}: gunicorn on {server.base_url}, logging in bench patients", flush=True)
            works[scale] = workload.build(scale, server.dbname, server, server.log_path.parent,
                                          hold_cap=max(2000, args.duration * 300))
            datasets[scale].update({k: v for k, v in works[scale]["facts"].items() if k != "generated_at"})
        for name in report.ORDER:  # "trivial again" shows how much the machine drifted during the run
            for scale, result in run_path(name, servers, works, args).items():
                results[scale][name] = result
    settings = {"wrk": f"1 thread, {args.connections} connections, {args.duration} s per path and dataset in "
                       f"{args.rounds} alternating rounds, after a {WARM_UP_SECONDS} s warm-up (hold+confirm's "
                       "bookings undone before each burst, bursts until a round's seconds are used), timeout 10 s",
                "gunicorn": f"{server_settings()} per dataset, PORTAL_ENV=production, Redis db "
                            + " / ".join(f"{REDIS_DBS[s]} ({s})" for s in scales),
                "total run time": f"{time.monotonic() - started:.0f} s"}
    text = report.render(stamp, facts, datasets, settings, results, counts)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"booking-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target.relative_to(generate.ROOT)})", flush=True)
    return target


if __name__ == "__main__":
    main()
