"""The results as Markdown: machine facts, one table of figures, ratios to the baseline and across sizes."""
import os
import platform
import subprocess
from importlib import metadata

import psycopg

from bench.booking import wrk
from bench.booking.generate import ROOT, conninfo
from bench.booking.server import redis_url, server_settings

ORDER = ("trivial", "doctor-week", "doctor-detail", "doctor-list", "speciality-window", "patient-dashboard",
         "hold+confirm", "trivial again")


def machine_facts(dbname: str) -> dict[str, str]:
    from redis import Redis

    with psycopg.connect(conninfo(dbname)) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo")
                   if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cores": str(os.cpu_count()), "memory": f"{memory} GiB", "cpu": _cpu_model(),
        "postgresql": f"{pg} (shared_buffers {buffers})",
        "redis": Redis.from_url(redis_url("large")).info("server")["redis_version"],
        "gunicorn": f"{metadata.version('gunicorn')}, " + server_settings(),
        "python": platform.python_version(), "load tool": wrk.version(),
        "commit": commit.stdout.strip() or "?", "load average before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _cpu_model() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "–"


def outcomes(result: wrk.Result) -> str:
    if result.path == "hold+confirm":
        c = result.counts
        parts = [f"holds 201: {c.get('hold_201', 0)}", f"confirms 201: {c.get('confirm_201', 0)}"]
        parts += [f"{k}: {v}" for k, v in sorted(result.non_2xx.items())]
        return "; ".join(parts)
    bad = result.non_2xx
    return "; ".join(f"{k}: {v}" for k, v in sorted(bad.items())) or "all 2xx"


def table(results: dict[str, dict[str, wrk.Result | str]], order: tuple[str, ...] = ORDER) -> list[str]:
    lines = ["| path | data | req/s | p50 ms | p95 ms | p99 ms | req/s ÷ trivial | p50 ÷ trivial "
             "| CPU ms/req app + db | KB/resp | outcomes | seq scans of big tables |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"]
    for name in order:
        for scale, by_path in results.items():
            result, base = by_path.get(name), by_path.get("trivial")
            if not isinstance(result, wrk.Result):
                lines.append(f"| {name} | {scale} | – | – | – | – | – | – | – | – | {result or 'not run'} | |")
                continue
            ok_base = isinstance(base, wrk.Result)
            lines.append(
                f"| {name} | {scale} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p95_ms:.1f} "
                f"| {result.p99_ms:.1f} | {_ratio(result.rps, base.rps) if ok_base else '–'} "
                f"| {_ratio(result.p50_ms, base.p50_ms) if ok_base else '–'} "
                f"| {result.app_cpu_ms:.1f} + {result.db_cpu_ms:.1f} | {result.bytes_per_response / 1024:.1f} "
                f"| {outcomes(result)} | {result.seq_scans} |")
    return lines


def targets(results: dict[str, dict[str, wrk.Result | str]], order: tuple[str, ...] = ORDER) -> list[str]:
    """Each path against the trivial endpoint of the same server and run (issue #9's targets: reads at
    least 0.5 of its throughput and at most 2.5 times its app CPU a request; hold+confirm at least 0.35):
    against the trivial rounds interleaved with the path's (run.py), and against the run's first trivial."""
    lines = ["| path | data | req/s ÷ trivial between | target | app CPU/req ÷ trivial between | target "
             "| trivial between: req/s, app CPU ms | req/s ÷ first trivial |", "|---|---|--:|--:|--:|--:|--:|--:|"]
    for name in order:
        if name.startswith("trivial"):
            continue
        for scale, by_path in results.items():
            result, first = by_path.get(name), by_path.get("trivial")
            if not isinstance(result, wrk.Result):
                continue
            base = result.baseline or first
            if isinstance(base, wrk.Result):
                pairs = name == "hold+confirm"
                lines.append(f"| {name} | {scale} | {_ratio(result.rps, base.rps)} | {'≥ 0.35' if pairs else '≥ 0.5'} "
                             f"| {_ratio(result.app_cpu_ms, base.app_cpu_ms)} | {'–' if pairs else '≤ 2.5'} "
                             f"| {base.rps:,.0f}, {base.app_cpu_ms:.1f} "
                             f"| {_ratio(result.rps, first.rps) if isinstance(first, wrk.Result) else '–'} |")
    return lines


def round_trips(counts: dict[str, dict]) -> list[str]:
    """SQL statements and Redis round trips of one request per path (bench/booking/roundtrips.py)."""
    lines = ["| path | data | SQL statements | + pool pre-ping and COMMIT/ROLLBACK | Redis round trips |",
             "|---|---|--:|--:|--:|"]
    for scale, by_path in counts.items():
        if isinstance(by_path, str):
            lines.append(f"| – | {scale} | {by_path} | | |")
            continue
        for name, tally in by_path.items():
            lines.append(f"| {name} | {scale} | {tally.sql} | {tally.pings + tally.ends} | {tally.redis} |")
    return lines


def growth(results: dict[str, dict[str, wrk.Result | str]], order: tuple[str, ...] = ORDER) -> list[str]:
    large, small = results.get("large", {}), results.get("small", {})
    lines = ["| path | req/s large ÷ small | p50 large ÷ small | p99 large ÷ small | app CPU/req large ÷ small "
             "| db CPU/req large ÷ small |", "|---|--:|--:|--:|--:|--:|"]
    for name in order:
        a, b = large.get(name), small.get(name)
        if isinstance(a, wrk.Result) and isinstance(b, wrk.Result):
            lines.append(f"| {name} | {_ratio(a.rps, b.rps)} | {_ratio(a.p50_ms, b.p50_ms)} "
                         f"| {_ratio(a.p99_ms, b.p99_ms)} | {_ratio(a.app_cpu_ms, b.app_cpu_ms)} "
                         f"| {_ratio(a.db_cpu_ms, b.db_cpu_ms)} |")
    return lines


def render(stamp: str, facts: dict[str, str], datasets: dict[str, dict], settings: dict,
           results: dict[str, dict[str, wrk.Result | str]], counts: dict | None = None) -> str:
    out = [f"# Booking benchmark, {stamp}", "", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in facts.items()]
    out += ["", "## Settings", ""] + [f"- {k}: {v}" for k, v in settings.items()]
    out += ["", "## Data", ""]
    for scale, data in datasets.items():
        out.append(f"- {scale}: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                              for k, v in data.items()))
    out += ["", "## Figures", ""] + table(results)
    out += ["", "## Against the trivial endpoint", ""] + targets(results)
    if counts:
        out += ["", "## Round trips of one request (hold+confirm: both requests)", "",
                "Anonymous reads are counted as answer-cache misses with the booking rules kept, as under the "
                "runs' random URLs; authenticated ones with their caller kept. A request in a transaction also sends "
                "its BEGIN, not counted here; one whose statement runs in autocommit sends no BEGIN and no COMMIT "
                "(read_transactions.autocommitted).", ""] + round_trips(counts)
    if "large" in results and "small" in results:
        out += ["", "## Growth: the same path at 1,000,000 and at 1,000 slots", ""] + growth(results)
    return "\n".join(out) + "\n"
