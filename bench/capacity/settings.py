"""gunicorn settings compared: the same fixed workloads against each setting, in alternating order.

    .venv/bin/python -m bench server-settings [--scale large|small] [--seconds 5] [--rounds 2]
                                              [--connections 16] [--only "sync 4,gthread 3x4"] [--port P]

In every round each setting takes its turn (the order reverses from one round to the next, so a machine
that gets busier or quieter weighs on all settings alike): gunicorn starts with gunicorn.conf.py and the
setting's flags, takes a short warm-up, then GET /healthz, doctor-week and the capacity bench's mixed
workload run for `seconds` each with the same connections, and it stops. The bookings of the mixed
workload are undone after each run. All servers share one SECRET_KEY, so the patients log in once.
"""
import argparse
import secrets
import shlex
import time
from datetime import datetime

from bench.booking import report as booking_report
from bench.booking import wrk
from bench.booking.run import OUT, booking_marks, ensure_data, undo_bookings
from bench.booking.server import REDIS_DBS, Server, flush_bench_redis
from bench.capacity import mix, report
from bench.capacity.outcome import Step
from bench.capacity.run import PATIENTS, WARM_UP_SECONDS, measure

# Flags on top of gunicorn.conf.py; "gthread 3x4" is the file's own choice on a 2-core machine.
SETTINGS = {
    "sync 2": "-k sync -w 2", "sync 3": "-k sync -w 3", "sync 4": "-k sync -w 4", "sync 5": "-k sync -w 5",
    "gthread 2x4": "-k gthread -w 2 --threads 4", "gthread 3x4": "-k gthread -w 3 --threads 4",
    "gthread 3x8": "-k gthread -w 3 --threads 8", "gthread 5x2": "-k gthread -w 5 --threads 2",
    "gthread 3x4 keep-alive off": "-k gthread -w 3 --threads 4 --keep-alive 0",
    "gthread 3x4 preload": "-k gthread -w 3 --threads 4 --preload",
}
WORKLOADS = ("trivial", "doctor-week", "mixed")


def pooled(steps: list[Step]) -> tuple[wrk.Result, float]:
    """The rounds of one setting and workload as one result, and its app CPU ms per request over all rounds."""
    result = wrk.Result.merge([step.result for step in steps])
    app_ms = sum(step.result.app_cpu_ms * step.result.requests for step in steps) / max(result.requests, 1)
    return result, app_ms


def table(runs: dict[str, dict[str, list[Step]]]) -> list[str]:
    head = " | ".join(f"{w} req/s | p99 ms | app CPU ms/req" for w in WORKLOADS)
    lines = [f"| setting | flags | {head} | 409s | failures |",
             "|---|---|" + "--:|--:|--:|" * len(WORKLOADS) + "---|---|"]
    for name, by_workload in runs.items():
        cells, conflicts, failures = [], 0, 0
        for workload in WORKLOADS:
            result, app_ms = pooled(by_workload[workload])
            cells.append(f"{result.rps:,.0f} | {result.p99_ms:.1f} | {app_ms:.2f}")
            conflicts += sum(sum(step.conflicts.values()) for step in by_workload[workload])
            failures += sum(sum(step.failures.values()) for step in by_workload[workload])
        lines.append(f"| {name} | `{SETTINGS[name]}` | {' | '.join(cells)} | {conflicts} | {failures} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench server-settings", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("large", "small"), default="large")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per workload, setting and round (1-60)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (1-64)")
    parser.add_argument("--only", help="comma-separated setting names (default: all)")
    parser.add_argument("--port", type=int, help="the servers' port (default: a free one)")
    args = parser.parse_args(argv)
    seconds, connections = min(max(args.seconds, 1), 60), min(max(args.connections, 1), 64)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(SETTINGS)
    unknown = set(names) - set(SETTINGS)
    if unknown:
        raise SystemExit(f"unknown settings {sorted(unknown)}; known: {', '.join(SETTINGS)}")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    dbname, data = ensure_data(args.scale, regenerate=False)
    flush_bench_redis(args.scale)
    work_dir, key = OUT / f"work-{stamp}" / "server-settings", secrets.token_urlsafe(48)
    facts = booking_report.machine_facts(dbname)

    def server(name: str) -> Server:
        return Server(args.scale, dbname, work_dir / f"{name.replace(' ', '-')}.log", port=args.port,
                      flags=shlex.split(SETTINGS[name]), secret_key=key)

    with server(names[0]) as first:
        marks = booking_marks(dbname)
        work = mix.build(dbname, first, work_dir, patients=PATIENTS[args.scale],
                         bookings=300 * seconds)
    files = {**work["paths"], "mixed": work["file"]}
    runs: dict[str, dict[str, list[Step]]] = {name: {w: [] for w in WORKLOADS} for name in names}
    for number in range(max(args.rounds, 1)):
        for name in names if number % 2 == 0 else list(reversed(names)):
            with server(name) as running:
                measure(running, files["mixed"], "warm-up", seconds=WARM_UP_SECONDS, connections=connections)
                for workload in WORKLOADS:
                    if workload == "mixed":  # the warm-up and the round before booked
                        undo_bookings(args.scale, dbname, marks)
                    step = measure(running, files[workload], f"{name} {workload}", seconds=seconds,
                                   connections=connections, script="mixed.lua" if workload == "mixed" else "get.lua")
                    runs[name][workload].append(step)
                    print(f"  round {number + 1} {name:<28} {workload:<12} {step.result.rps:7,.0f} req/s  p99 "
                          f"{step.result.p99_ms:6.1f} ms  app CPU {step.result.app_cpu_ms:.2f} ms/req  "
                          f"failures {step.failures or 0}  load {step.load:.2f}", flush=True)
    undo_bookings(args.scale, dbname, marks)
    flush_bench_redis(args.scale)
    settings = {"wrk": f"1 thread, {connections} connections, {seconds} s per workload, setting and round, "
                       f"{args.rounds} rounds in alternating order, each server warmed up for {WARM_UP_SECONDS} s "
                       "with the mixed workload",
                "workloads": "GET /healthz; doctor-week (anonymous); mixed (the capacity bench's: 70 % reads, "
                             "20 % hold path, 10 % bookings)",
                "gunicorn": f"gunicorn.conf.py plus each setting's flags, PORTAL_ENV=production, Redis db "
                            f"{REDIS_DBS[args.scale]}",
                "total run time": f"{time.monotonic() - started:.0f} s"}
    data.update(work["facts"])
    text = report.render(f"gunicorn settings, {args.scale} clinic, {stamp}", facts, settings, data,
                         [("Figures (rounds pooled; p99 is the median of the rounds')", table(runs))])
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"server-settings-{args.scale}-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target})", flush=True)
