"""Run the booking benchmark: each dataset under gunicorn, each path under wrk, one report.

    .venv/bin/python -m bench booking [--scale large|small|both] [--duration 20] [--connections 8]

Per dataset: (re)generate it when needed, empty the bench Redis db, start gunicorn, log the bench
patients in, then for each path a short warm-up and one bounded run (duration seconds, `connections`
keep-alive connections; hold+confirm also stops when its pool of free slots is spent).
"""
import argparse
import time
from datetime import datetime
from pathlib import Path

from bench.booking import generate, report, workload, wrk
from bench.booking.server import WORKERS, Server, flush_bench_redis

OUT = generate.ROOT / "bench" / "out"
WARM_UP_SECONDS = 3
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
    first = data_file.read_text().splitlines()[0]
    if name == "hold+confirm":
        status, _ = server.call("POST", "/api/v1/holds", {}, token=first.split("\t")[1])
        return f"endpoint missing ({status})" if status in (404, 405) else None
    path, token = first.split("\t")
    status, body = server.call("GET", path, token=None if token == "-" else token)
    if status != 200:
        code = (body or {}).get("error", {}).get("code", "") if isinstance(body, dict) else ""
        return f"endpoint answers {status} {code}".strip()
    return None


def run_scale(scale: str, args, stamp: str) -> tuple[dict, dict, dict]:
    dbname, found = ensure_data(scale, args.regenerate)
    flush_bench_redis()
    work_dir = OUT / f"work-{stamp}" / scale
    results: dict[str, wrk.Result | str] = {}
    with Server(dbname, work_dir / "gunicorn.log") as server:
        print(f"{scale}: gunicorn on {server.base_url}, logging in bench patients", flush=True)
        work = workload.build(scale, dbname, server, work_dir, hold_cap=max(2000, args.duration * 300))
        for name in report.ORDER:  # "trivial again" shows how much the machine drifted during the run
            script, data_file = work["paths"][name.removesuffix(" again")]
            why = probe(server, name, data_file) if data_file.stat().st_size > 1 else "no free slots left"
            if why:
                print(f"  {name:<18} skipped: {why}", flush=True)
                results[name] = why
                continue
            if name != "hold+confirm":  # a warm-up would spend the pool
                wrk.run(name, server.base_url, script, data_file, duration=WARM_UP_SECONDS,
                        connections=args.connections)
            result = wrk.run(name, server.base_url, script, data_file, duration=args.duration,
                             connections=args.connections)
            results[name] = result
            print(f"  {name:<18} {result.rps:8,.0f} req/s  p50 {result.p50_ms:6.1f}  p95 {result.p95_ms:6.1f}  "
                  f"p99 {result.p99_ms:6.1f} ms  {report._outcomes(result)}", flush=True)
    return results, found, work["facts"]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench booking", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("large", "small", "both"), default="both")
    parser.add_argument("--duration", type=int, default=20, help="seconds per path (1-300)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (1-64)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the large dataset too")
    args = parser.parse_args(argv)
    args.duration = min(max(args.duration, 1), 300)
    args.connections = min(max(args.connections, 1), 64)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    scales = ("large", "small") if args.scale == "both" else (args.scale,)
    facts = report.machine_facts("postgres")
    results, datasets = {}, {}
    for scale in scales:
        results[scale], found, extra = run_scale(scale, args, stamp)
        datasets[scale] = {**found, **{k: v for k, v in extra.items() if k != "generated_at"}}
    settings = {"wrk": f"1 thread, {args.connections} connections, {args.duration} s per path after a "
                       f"{WARM_UP_SECONDS} s warm-up (none for hold+confirm), timeout 10 s",
                "gunicorn": f"-w {WORKERS} (sync), PORTAL_ENV=production, REDIS_URL db 11",
                "total run time": f"{time.monotonic() - started:.0f} s"}
    text = report.render(stamp, facts, datasets, settings, results)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"booking-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target.relative_to(generate.ROOT)})", flush=True)
    return target


if __name__ == "__main__":
    main()
