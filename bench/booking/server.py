"""The app under test: gunicorn on a free loopback port, production settings, the bench DB and Redis db."""
import json
import os
import runpy
import secrets
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.booking.generate import BENCH_PASSWORD, ROOT, sqlalchemy_url

# Each dataset's server gets its own Redis database (holds are keyed by slot id, and both datasets
# have a slot 1); they run side by side, so neither may see the other's holds.
BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
# BENCH_REDIS_DBS="4,5" picks others (large, small), e.g. when two people bench on one machine.
REDIS_DBS = dict(zip(("large", "small"), map(int, os.environ.get("BENCH_REDIS_DBS", "11,12").split(",")), strict=True))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1)))  # logins at once while preparing
# The server runs as the README's production section says (`gunicorn -c gunicorn.conf.py`);
# BENCH_GUNICORN_ARGS adds flags that override the file, e.g. "-k sync -w 4" to compare settings.
GUNICORN_ARGS = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))
GENEROUS = "1000000/minute"
# BENCH_PORTS="8600-8649" keeps the servers in a range of ports (a shared machine); default any free one.
PORTS = os.environ.get("BENCH_PORTS", "")
_handed_out: set[int] = set()  # a server binds its port only when it starts; two made at once must differ


def server_settings() -> str:
    """The worker settings the bench's servers run with, for the report."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    text = (f"gunicorn.conf.py ({conf.get('worker_class', 'sync')}, {conf.get('workers', 1)} workers"
            f" × {conf.get('threads', 1)} threads, keepalive {conf.get('keepalive', 2)} s)")
    return text + (f" overridden by `{' '.join(GUNICORN_ARGS)}`" if GUNICORN_ARGS else "")


def free_port() -> int:
    low, _, high = PORTS.partition("-")
    candidates = range(int(low), int(high or low) + 1) if low else [0]
    for port in (port for port in candidates if port not in _handed_out):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _handed_out.add(sock.getsockname()[1])
            return sock.getsockname()[1]
    raise SystemExit(f"BENCH_PORTS={PORTS}: no free port")


def redis_url(scale: str) -> str:
    return f"{BENCH_REDIS}/{REDIS_DBS[scale]}"


def flush_bench_redis(scale: str) -> None:
    """Empty the bench's own Redis database of a dataset (holds and rate-limit counters of earlier rounds)."""
    from redis import Redis

    Redis.from_url(redis_url(scale)).flushdb()


def forget_holds(scale: str) -> None:
    """Delete a dataset's holds and its directory version from its Redis db, after its bookings were deleted
    behind the app's back: the version's next reader sets a new one, so the directory answers kept under the
    old one (which showed those slots booked) are never used again (services/change_versions.py)."""
    from redis import Redis

    from portal.services import directory_version  # not at import: the app reads its settings from os.environ then

    client = Redis.from_url(redis_url(scale))
    client.delete(directory_version.KEY, *client.scan_iter("hold:*", count=1000))


def app_env(scale: str, dbname: str, work_dir: Path) -> dict[str, str]:
    """Production settings against the bench database and Redis db, with limits no bench run reaches."""
    return {"PORTAL_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": sqlalchemy_url(dbname), "REDIS_URL": redis_url(scale),
            "RATELIMIT_STORAGE_URI": "", "SESSION_COOKIE_SECURE": "false",
            "LOGIN_FAILURE_LIMITS": GENEROUS, "LOGIN_FAILURE_ACCOUNT_HOURLY": GENEROUS,
            "LOGIN_FAILURE_ADDRESS_LIMITS": GENEROUS,
            "REGISTRATION_LIMIT": GENEROUS, "RESET_REQUEST_LIMIT": GENEROUS,
            "ACCESS_TOKEN_SECONDS": "7200", "PUBLIC_BASE_URL": "http://127.0.0.1",
            "UPLOAD_DIR": str(work_dir / "uploads"), "MAIL_SERVER": ""}


class Server:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on a free port (or `port`), started and stopped by the bench; its
    log goes to log_path. `flags` override the file (default BENCH_GUNICORN_ARGS); servers started one after
    another with one `secret_key` accept each other's tokens."""

    def __init__(self, scale: str, dbname: str, log_path: Path, *, port: int | None = None,
                 flags: list[str] | None = None, secret_key: str | None = None):
        self.scale = scale
        self.dbname = dbname
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.flags = GUNICORN_ARGS if flags is None else flags
        self.secret_key = secret_key
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = {**os.environ, **app_env(self.scale, self.dbname, self.log_path.parent)}
        return {**env, "SECRET_KEY": self.secret_key} if self.secret_key else env

    def __enter__(self) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                   "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", *self.flags, "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = self.call("GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"gunicorn did not become healthy in 60 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """One request; (status, parsed JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def login(self, username: str) -> str:
        status, body = self.call("POST", "/api/v1/auth/login", {"username": username, "password": BENCH_PASSWORD})
        if status != 200:
            raise RuntimeError(f"login of {username} answered {status}: {body}")
        return body["data"]["access_token"]

    def tokens(self, usernames: list[str]) -> dict[str, str]:
        """Access tokens through POST /api/v1/auth/login, as many at once as there are workers."""
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return dict(zip(usernames, pool.map(self.login, usernames), strict=True))
