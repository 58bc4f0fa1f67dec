"""Where a request's time goes, per path: pyinstrument over many requests in this process, in categories.

    .venv/bin/python -m bench booking-profile [--scale small] [--requests 300] [--db NAME] [--html]

The app runs as gunicorn would build it (production settings, the bench database and Redis db, its
JSON request log on) and each path's representative request (bench/booking/roundtrips.py) is sent
`--requests` times through Flask's test client under pyinstrument (a sampling profiler, 0.2 ms). The
samples are put into categories twice:

- by **code**: the innermost frame of each sample decides (our services, SQLAlchemy, psycopg, Redis,
  marshmallow, Flask/Werkzeug, logging, JWT...), so the categories add up to 100 %;
- by **step**: the inclusive time of the steps a request goes through (authentication, argument
  parsing, the service call, its audit row, the answer's serialisation, the log line, the commit).

The test client skips gunicorn's HTTP parsing and socket work, so the absolute figures are below a
served request's; the shares are what the document keeps. hold+confirm books real slots: the
appointments, audit rows and jobs it makes are deleted again at the end.
"""
import argparse
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from bench.booking import roundtrips
from bench.booking.generate import SCALES

OUT = Path(__file__).resolve().parents[1] / "out"
HOLD_CONFIRM_PAIRS = 50  # the small clinic has about 80 distinct future times a booker can take

# The innermost frame's file decides; the first match wins.
CODE = [
    ("SQL driver psycopg, incl. waiting for PostgreSQL", ("psycopg",)),
    ("Redis client, incl. waiting for Redis", ("/redis/",)),
    ("SQLAlchemy (ORM, Core, pool)", ("sqlalchemy",)),
    ("marshmallow / webargs / apispec", ("marshmallow", "webargs", "apispec")),
    ("JSON encoding", ("/json/",)),
    ("logging", ("/logging/",)),
    ("JWT", ("/jwt/",)),
    ("Flask / Werkzeug / flask-smorest / extensions", ("flask", "werkzeug", "itsdangerous", "jinja2", "limits")),
    ("our code (portal/)", ("/portal/",)),
    ("Python standard library", ("/lib/python3",)),
]

# (step, file fragment, function) - inclusive time of the outermost frame that matches.
STEPS = [
    ("authentication (JWT + user re-read)", "portal/api/auth.py", "identify"),
    ("argument parsing (webargs)", "webargs/core.py", "parse"),
    ("audit row", "portal/services/audit.py", None),
    ("response serialisation (compiled dump)", "portal/api/lean.py", "dump"),
    ("response serialisation (marshmallow dump)", "marshmallow/schema.py", "dump"),
    ("JSON encoding of the answer", "flask/json/provider.py", "response"),
    ("request log line", "portal/observability.py", "_finish"),
    ("conditional answer (ETag)", "portal/api/caching.py", "conditional"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
]


def _code_category(file_path: str) -> str:
    for name, fragments in CODE:
        if any(fragment in file_path for fragment in fragments):
            return name
    return "other"


def cpu_by_code(send, prepared) -> dict[str, float]:
    """CPU time (not wall time: waiting for PostgreSQL or Redis is left out) by the code that spent it,
    from cProfile with the process clock; shares of the total."""
    import cProfile
    import pstats
    import time

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for probe, ready in prepared:
        send(probe, ready)
    profile.disable()
    spent: dict[str, float] = defaultdict(float)
    for (file_path, _line, _function), (_cc, _nc, own, _cum, _callers) in pstats.Stats(profile).stats.items():
        name = _code_category(file_path) if file_path != "~" else "Python built-ins (C: sockets, dicts, str...)"
        spent[name.replace(", incl. waiting for PostgreSQL", "").replace(", incl. waiting for Redis", "")] += own
    total = sum(spent.values()) or 1.0
    return {name: value / total for name, value in spent.items()}


def _walk(frame, inside: frozenset, by_code: dict, by_step: dict, parent_path: str = "") -> None:
    path = frame.file_path or ""
    if frame.is_synthetic or not path or path.startswith("<"):  # self time, built-ins: the caller's code
        path = parent_path
    entered = inside
    for step, fragment, function in STEPS:
        if step not in inside and fragment in path and (function is None or frame.function == function):
            by_step[step] += frame.time
            entered = entered | {step}
    self_time = frame.time - sum(child.time for child in frame.children)
    if self_time > 0:
        by_code[_code_category(path)] += self_time
    for child in frame.children:
        _walk(child, entered, by_code, by_step, path)


def profile(scale: str, dbname: str, requests: int, html: bool) -> tuple[str, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    from pyinstrument import Profiler

    tallies = roundtrips.count(scale, dbname, OUT / "profile")
    app = roundtrips.in_process_app(scale, dbname, OUT / "profile")
    marks = roundtrips.undo_marks(dbname)
    results = {}
    lines = [f"## Profile of one request per path, {scale} dataset ({dbname}), {requests} requests each", ""]
    try:
        # each request in its own app context, as under gunicorn (session, pool checkout, rollback)
        driver = roundtrips.Driver(app, dbname)
        probes = roundtrips.probes(dbname, scale)
        by_path = {p.path: p for p in probes}
        plans = [[p] for p in probes if p.path not in ("hold", "confirm")]
        plans.append([by_path["hold"], by_path["confirm"]])
        for plan in plans:
            name = "+".join(p.path for p in plan) if len(plan) > 1 else plan[0].path
            prepared = []
            reps = requests if len(plan) == 1 else min(requests, HOLD_CONFIRM_PAIRS)
            for _ in range(reps):
                for probe in plan:
                    if probe.path == "confirm":
                        prepared.append((probe, None))  # its body needs the hold made just before
                    else:
                        prepared.append((probe, driver.prepare(probe)))
            if len(plan) == 1:
                for _ in range(5):
                    driver.send(plan[0], *prepared[0][1])
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for probe, ready in prepared:
                driver.send(probe, *(ready or driver.prepare(probe)))
            profiler.stop()
            session = profiler.last_session
            by_code, by_step = defaultdict(float), defaultdict(float)
            root = session.root_frame()
            _walk(root, frozenset(), by_code, by_step)
            total = sum(by_code.values()) or 1.0
            per_request = 1000 * session.duration / reps
            tally = tallies[name]
            results[name] = {"ms_per_request": per_request, "sql": tally.sql, "redis": tally.redis,
                             "by_code": {k: v / total for k, v in by_code.items()},
                             "by_step": {k: v / total for k, v in by_step.items()}}
            lines += [f"### {name}: {per_request:.2f} ms a request in-process; {tally.sql} SQL statements, "
                      f"{tally.redis} Redis round trips", "",
                      "| by code (innermost frame) | share |", "|---|--:|"]
            lines += [f"| {k} | {v / total:.0%} |" for k, v in sorted(by_code.items(), key=lambda kv: -kv[1])]
            cpu = cpu_by_code(lambda probe, ready: driver.send(probe, *(ready or driver.prepare(probe))),
                              [(p, None if p.path == "confirm" else driver.prepare(p)) for p, _ in prepared])
            results[name]["cpu_by_code"] = cpu
            lines += ["", "| CPU by code (cProfile, process clock) | share |", "|---|--:|"]
            lines += [f"| {k} | {v:.0%} |" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])]
            lines += ["", "| by step (inclusive) | share |", "|---|--:|"]
            lines += [f"| {k} | {v / total:.0%} |" for k, v in sorted(by_step.items(), key=lambda kv: -kv[1])]
            lines += ["", "SQL statements:", ""] + [f"- `{s}`" for s in tally.statements] + [""]
            lines += ["Redis round trips:", ""] + [f"- `{c}`" for c in tally.redis_commands] + [""]
            (OUT / f"profile-{scale}-{name}.txt").write_text(
                profiler.output_text(unicode=True, show_all=False, color=False))
            if html:
                (OUT / f"profile-{scale}-{name}.html").write_text(profiler.output_html())
    finally:
        roundtrips.undo(dbname, marks)
    return "\n".join(lines), results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench booking-profile", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", help="the bench database (default: the scale's, with BENCH_DB_SUFFIX)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--html", action="store_true", help="also write pyinstrument's HTML per path")
    args = parser.parse_args(argv)
    text, results = profile(args.scale, args.db or SCALES[args.scale].default_db, args.requests, args.html)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = OUT / f"profile-{args.scale}-{stamp}.md"
    target.write_text(text)
    (OUT / f"profile-{args.scale}-{stamp}.json").write_text(json.dumps(results, indent=1))
    print(text)
    print(json.dumps({"written": str(target)}))


if __name__ == "__main__":
    main()
