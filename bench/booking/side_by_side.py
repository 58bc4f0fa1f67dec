"""Two versions of the app side by side: the same bench database, the same gunicorn flags, alternating wrk rounds.

    .venv/bin/python -m bench.booking.side_by_side /path/to/other/checkout [--flags "-k sync -w 4"]
        [--scale large] [--paths trivial speciality-window]
    .venv/bin/python -m bench.booking.side_by_side /path/to/other/checkout --flags "" --scale large
        --paths trivial record-timeline patient-search   # the records clinic's paths (bench/records)

The other checkout (e.g. `git archive main | tar -x -C /tmp/before`, with this tree's bench/ and
gunicorn.conf.py copied in and .venv linked) is "before", this tree is "after". Both servers share one
SECRET_KEY, so the patients' tokens work on both. hold+confirm books the same pool on both: its bookings are
undone before every round (run.undo_bookings), the warm-ups' too. Alternating short rounds make a machine that
gets busier weigh on both alike.
"""
import argparse
import os
import secrets
import shlex
import subprocess
import time
from pathlib import Path

from bench.booking import generate, run, workload, wrk
from bench.booking.server import Server
from bench.records import run as records

PATHS = ("trivial", "doctor-week", "doctor-detail", "doctor-list", "speciality-window", "patient-dashboard",
         "hold+confirm")
RECORDS_PATHS = tuple(name for name in records.ORDER if name not in ("trivial", "trivial again"))
KEY = secrets.token_urlsafe(48)


class At(Server):
    """The bench's server, started from another checkout with given flags."""

    def __init__(self, root: Path, flags: list[str], *args):
        super().__init__(*args)
        self.root, self.flags = root, flags

    def env(self) -> dict[str, str]:
        return {**super().env(), "SECRET_KEY": KEY}

    def __enter__(self) -> "At":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [str(self.root / ".venv" / "bin" / "gunicorn"), "-c", str(self.root / "gunicorn.conf.py"),
                   "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", *self.flags, "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=self.root, env=self.env(), stdout=self.log_path.open("w"),
                                        stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"{self.root}: gunicorn did not start; see {self.log_path}")


def _undo(scale: str, dbname: str, marks: tuple[int, int] | None) -> None:
    """Free hold+confirm's pool again (marks: before its first booking); nothing for a read path (None)."""
    if marks is not None:
        run.undo_bookings(scale, dbname, marks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--flags", default="-k sync -w 4")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--scale", choices=sorted(generate.SCALES), default="small")
    parser.add_argument("--paths", nargs="+", choices=PATHS + RECORDS_PATHS, default=PATHS,
                        help="booking paths, or trivial and records paths (on the records clinic); not both")
    args = parser.parse_args(argv)
    on_records = bool(set(args.paths) & set(RECORDS_PATHS))
    if on_records and not set(args.paths) <= {"trivial", *RECORDS_PATHS}:
        parser.error("booking and records paths run on different clinics: measure them in two runs")
    if on_records:
        dbname, _ = records.ensure_data(args.scale, regenerate=False)
    else:
        dbname, _ = generate.generate(args.scale, generate.SCALES[args.scale].default_db)
    out = generate.ROOT / "bench" / "out" / "side-by-side"
    flags = shlex.split(args.flags)
    servers = {"before": At(args.before.resolve(), flags, args.scale, dbname, out / "before.log"),
               "after": At(generate.ROOT, flags, args.scale, dbname, out / "after.log")}
    print(f"load before: {os.getloadavg()}")
    with servers["before"], servers["after"]:
        work = (records.build(dbname, servers["after"], out / "work") if on_records
                else workload.build(args.scale, dbname, servers["after"], out / "work",
                                    hold_cap=max(2000, args.seconds * 400)))
        print("| path | req/s before → after | app CPU ms/req before → after | db CPU ms/req before → after "
              "| p50 ms before → after |")
        print("|---|--:|--:|--:|--:|")
        for name in args.paths:
            script, data = work["paths"][name]
            parts = {k: [] for k in servers}
            spent = {key: {"app": 0.0, "db": 0.0} for key in servers}  # the database's: only one server runs at a time
            marks = run.booking_marks(dbname) if name == "hold+confirm" else None
            for server in servers.values():  # warm-up
                _undo(args.scale, dbname, marks)
                wrk.run(name, server.base_url, script, data, duration=2, connections=8)
            for number in range(args.rounds):
                for key in (list(servers) if number % 2 == 0 else list(reversed(servers))):
                    server = servers[key]
                    _undo(args.scale, dbname, marks)
                    run.measured_round(server, name, script, data, args.seconds, 8, parts[key], spent[key])
            _undo(args.scale, dbname, marks)
            merged = {key: wrk.Result.merge(found) for key, found in parts.items()}
            a, b = merged["before"], merged["after"]
            ca, cb, da, db = (1000 * spent[k][side] / max(merged[k].requests, 1)
                              for side in ("app", "db") for k in ("before", "after"))
            bad = {k: m.non_2xx for k, m in merged.items() if m.non_2xx}
            print(f"| {name} | {a.rps:,.0f} → {b.rps:,.0f} | {ca:.2f} → {cb:.2f} | {da:.2f} → {db:.2f} "
                  f"| {a.p50_ms:.1f} → {b.p50_ms:.1f} |"
                  + (f" non-2xx: {bad}" if bad else ""), flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
