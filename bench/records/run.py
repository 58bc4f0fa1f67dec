"""Run the records benchmark: both records clinics under gunicorn, each path under wrk next to /healthz,
and the CSV export of the admin's audit rows with the serving worker's peak memory.

    .venv/bin/python -m bench records [--scale large|small|both] [--duration 20] [--rounds 5] [--connections 8]
                                      [--paths department-records ...]

Paths whose endpoint a branch does not serve yet are reported as skipped, not failed. The run
alternates between the datasets round by round (bench/booking/run.py), so drift weighs on both alike.
"""
import argparse
import random
import statistics
import time
import urllib.request
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import psycopg

from bench.booking import cpu, report
from bench.booking.generate import ROOT, conninfo
from bench.booking.run import OUT, run_path
from bench.booking.server import Server, server_settings
from bench.records import generate

ORDER = ("trivial", "patient-search", "record-timeline", "department-records", "admin-audit-by-patient",
         "trivial again")
CSV = "csv-export"
GET_LINES = 5000
CSV_REPEATS = 3
SURNAMES = ("Albers", "Brandt", "Dorn", "Koch", "Lehmann", "Richter", "Schmidt", "Weber", "Ziegler")


def ensure_data(scale: str, regenerate: bool) -> tuple[str, dict]:
    dbname = generate.SCALES[scale].default_db
    wanted = generate.SCALES[scale]
    try:
        found = generate.counts(dbname)
    except psycopg.Error:
        found = {}
    if regenerate or found.get("records", 0) < wanted.clinic.patients * wanted.per_patient \
            or found.get("admin_audit_rows") != wanted.csv_rows:
        return generate.generate(scale, dbname)
    print(f"reusing {dbname}: " + ", ".join(f"{k} {v:,}" for k, v in found.items()), flush=True)
    return dbname, found


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def build(dbname: str, server: Server, out_dir: Path, seed: int = 11) -> dict:
    """Log in 50 doctors, 200 patients and the admin; one shuffled request file per path."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(conninfo(dbname)) as conn:
        doctors = conn.execute("SELECT u.username, d.department_id FROM doctors d JOIN users u ON u.id = d.user_id "
                               "ORDER BY d.id").fetchall()
        patients = conn.execute("SELECT u.username, p.id FROM patients p JOIN users u ON u.id = p.user_id "
                                "ORDER BY p.id").fetchall()
        admin_id = conn.execute("SELECT id FROM users WHERE username = 'bench.admin'").fetchone()[0]
        patient_ids = [pid for _, pid in patients]
    doctors = rng.sample(doctors, min(50, len(doctors)))
    patients = rng.sample(patients, min(200, len(patients)))
    tokens = server.tokens([u for u, _ in doctors] + [u for u, _ in patients] + ["bench.admin"])
    admin = tokens["bench.admin"]

    def lines(make) -> list[str]:
        return [make() for _ in range(GET_LINES)]

    def department_line() -> str:
        username, department = rng.choice(doctors)
        return f"/api/v1/departments/{department}/records?per_page=20\t{tokens[username]}"

    def timeline_line() -> str:
        username, pid = rng.choice(patients)
        return f"/api/v1/patients/{pid}/records?per_page=20\t{tokens[username]}"

    paths = {
        "trivial": ["/healthz\t-"],
        "patient-search": lines(lambda: f"/api/v1/patients?q={rng.choice(SURNAMES)}&per_page=20\t"
                                        f"{tokens[rng.choice(doctors)[0]]}"),
        "record-timeline": lines(timeline_line),
        "department-records": lines(department_line),
        "admin-audit-by-patient": lines(lambda: f"/api/v1/admin/audit?patient_id={rng.choice(patient_ids)}"
                                                f"&per_page=20\t{admin}"),
    }
    return {"paths": {name: ("get.lua", _write(out_dir / f"{name}.txt", found)) for name, found in paths.items()},
            "admin": (admin_id, admin)}


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def csv_export(server: Server, admin_id: int, token: str) -> dict:
    """Download the admin's audit rows as CSV CSV_REPEATS times; the median time, the rows, and the most
    any worker's resident memory rose above where it stood before the request (peak, VmHWM)."""
    times, growth, rows, size = [], [], 0, 0
    for _ in range(CSV_REPEATS):
        workers = cpu.children(server.process.pid)
        for pid in workers:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak to the current size
        before = {pid: _memory_kib(pid, "VmRSS") for pid in workers}
        request = urllib.request.Request(f"{server.base_url}/api/v1/admin/audit?actor_id={admin_id}",
                                         headers={"Accept": "text/csv", "Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        rows = size = 0
        with urllib.request.urlopen(request, timeout=600) as response:
            while chunk := response.read(1 << 16):
                rows += chunk.count(b"\n")
                size += len(chunk)
        times.append(time.perf_counter() - started)
        growth.append(max(_memory_kib(pid, "VmHWM") - rss for pid, rss in before.items()))
    return {"rows": rows - 1, "mb": size / 1e6, "seconds": statistics.median(times),
            "peak_growth_mib": max(growth) / 1024}


def render(stamp: str, facts: dict, datasets: dict, results: dict, exports: dict, settings: dict,
           order: tuple[str, ...]) -> str:
    out = [f"# Records benchmark, {stamp}", "", "## Machine", ""] + [f"- {k}: {v}" for k, v in facts.items()]
    out += ["", "## Settings", ""] + [f"- {k}: {v}" for k, v in settings.items()]
    out += ["", "## Data", ""] + [f"- {scale}: " + ", ".join(f"{k} {v:,}" for k, v in data.items())
                                  for scale, data in datasets.items()]
    out += ["", "## Figures", ""] + report.table(results, order)
    out += ["", "## Against the trivial endpoint", ""] + report.targets(results, order)
    if "large" in results and "small" in results:
        out += ["", "## Growth: the same path in the large and the small records clinic", ""]
        out += report.growth(results, order)
    if not exports:
        return "\n".join(out) + "\n"
    out += ["", "## CSV export of the admin's audit rows (streamed)", "",
            "| data | rows | MB | seconds (median of 3) | peak worker memory growth MiB |", "|---|--:|--:|--:|--:|"]
    out += [f"| {scale} | {e['rows']:,} | {e['mb']:.1f} | {e['seconds']:.2f} | {e['peak_growth_mib']:.1f} |"
            for scale, e in exports.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench records", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("large", "small", "both"), default="both")
    parser.add_argument("--duration", type=int, default=20, help="seconds per path and dataset (1-300)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--paths", nargs="+", choices=ORDER[1:-1] + (CSV,), default=ORDER[1:-1] + (CSV,),
                        help="measure only these (the trivial path always runs, before and after them)")
    args = parser.parse_args(argv)
    args.duration, args.connections = min(max(args.duration, 1), 300), min(max(args.connections, 1), 64)
    args.rounds = min(max(args.rounds, 1), args.duration)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    scales = ("large", "small") if args.scale == "both" else (args.scale,)
    datasets, works, servers, exports = {}, {}, {}, {}
    order = tuple(name for name in ORDER if name.startswith("trivial") or name in args.paths)
    for scale in scales:
        dbname, datasets[scale] = ensure_data(scale, args.regenerate)
        servers[scale] = Server(scale, dbname, OUT / f"records-work-{stamp}" / scale / "gunicorn.log")
    facts = report.machine_facts(servers[scales[0]].dbname)
    results: dict[str, dict] = {scale: {} for scale in scales}
    with ExitStack() as stack:
        for scale, server in servers.items():
            stack.enter_context(server)
            works[scale] = build(server.dbname, server, server.log_path.parent)
        for name in order:
            for scale, result in run_path(name, servers, works, args).items():
                results[scale][name] = result
        for scale, server in servers.items() if CSV in args.paths else ():
            exports[scale] = csv_export(server, *works[scale]["admin"])
            print(f"  csv export {scale}: {exports[scale]}", flush=True)
    settings = {"wrk": f"1 thread, {args.connections} connections, {args.duration} s per path and dataset in "
                       f"{args.rounds} alternating rounds after a warm-up",
                "gunicorn": f"{server_settings()} per dataset, PORTAL_ENV=production",
                "total run time": f"{time.monotonic() - started:.0f} s"}
    text = render(stamp, facts, datasets, results, exports, settings, order)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"records-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target.relative_to(ROOT)})", flush=True)
    return target
