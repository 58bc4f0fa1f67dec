"""Drive one path with wrk (Debian's `wrk`, LuaJIT scripts in lua/) and read back its figures."""
import json
import os
import shutil
import statistics
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"


@dataclass
class Result:
    path: str
    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    seq_scans: str = ""  # filled in by the caller from PostgreSQL's counters
    app_cpu_ms: float = 0.0  # CPU per request of the gunicorn workers, filled in by the caller
    db_cpu_ms: float = 0.0  # CPU per request of the PostgreSQL backends, filled in by the caller
    kinds: dict = field(default_factory=dict)  # per request kind {n, p50_us, p99_us}, from a script that times them
    baseline: "Result | None" = None  # the trivial endpoint in rounds interleaved with this one (the caller)

    rounds: int = 1

    @classmethod
    def merge(cls, parts: list["Result"]) -> "Result":
        """Rounds of one path pooled: counts and time add up exactly; each percentile is the median of
        the rounds' percentiles (wrk does not hand out its histogram)."""
        def med(name: str) -> float:
            return statistics.median(getattr(p, name) for p in parts)

        requests = sum(p.requests for p in parts)
        return cls(path=parts[0].path, requests=requests, seconds=sum(p.seconds for p in parts),
                   bytes=sum(p.bytes for p in parts), p50_ms=med("p50_ms"), p95_ms=med("p95_ms"),
                   p99_ms=med("p99_ms"), mean_ms=sum(p.mean_ms * p.requests for p in parts) / max(requests, 1),
                   max_ms=max(p.max_ms for p in parts), errors=dict(sum((Counter(p.errors) for p in parts), Counter())),
                   counts=dict(sum((Counter(p.counts) for p in parts), Counter())), rounds=len(parts))

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0

    @property
    def non_2xx(self) -> dict:
        """Counters whose key starts with a 3xx/4xx/5xx status (e.g. "404", "409_slot_held")."""
        return {k: v for k, v in self.counts.items() if k[:1] in "345"}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench installs it)")
    return found


def run(name: str, base_url: str, script: str, data_file: Path, *, duration: int, connections: int,
        threads: int = 1, timeout_s: int = 10) -> Result:
    """One bounded wrk run: `connections` keep-alive connections for at most `duration` seconds."""
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s",
               "-s", str(LUA_DIR / script), base_url, "--", str(data_file), str(threads)]
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=duration + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {name}:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCHJSON "))
    kinds = next((json.loads(x.removeprefix("BENCHKINDS ")) for x in done.stdout.splitlines()
                  if x.startswith("BENCHKINDS ")), {})
    # wrk always waits out the duration; a script that stopped early reports its own active time.
    stopped_early = raw["counts"].get("stopped_when_exhausted") and raw["active_us"] > 0
    seconds = (raw["active_us"] if stopped_early else raw["duration_us"]) / 1e6
    return Result(path=name, requests=raw["requests"], seconds=seconds, bytes=raw["bytes"],
                  p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
                  mean_ms=raw["mean_us"] / 1000, max_ms=raw["max_us"] / 1000, errors=raw["errors"],
                  counts=raw["counts"], kinds=kinds)


def version() -> str:
    done = subprocess.run([ensure_wrk(), "-v"], capture_output=True, text=True)
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "wrk"
