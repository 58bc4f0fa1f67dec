"""gunicorn's settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Chosen by measurement on the project's 2-core machine (docs/performance.md, "The server"); each
setting says why. Command-line flags override them (e.g. `-b 0.0.0.0:8000`), and so does
GUNICORN_CMD_ARGS. More than one process needs REDIS_URL (README, "Production").
"""
import os
import socket
import sys

# Where the reverse proxy forwards to: a private address (the proxy terminates TLS).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# One listening socket per worker (SO_REUSEPORT), so the kernel spreads a client's keep-alive connections
# over the workers. On one shared socket the worker that wakes first accepts a burst: in 16 runs of wrk's 8
# connections one worker held 5-8 of them every time, and with all 8 on one worker the record timeline served
# 484 req/s where the other placements made 615-679 (that process's lock held one core while the other idled).
# With a socket each, 3-5 on a worker: /healthz 1,193-1,221 req/s over 8 runs where it was 1,122-1,246, the
# timeline 633-711 (docs/performance.md, "Twenty-first round"). The price: a connection still queued on a
# stopping worker's socket (a restart, a reload) is reset instead of going to another worker; Linux's
# net.ipv4.tcp_migrate_req=1 moves it instead. Only where it is safe and spreads anything: see on_starting.
reuse_port = True

# Threads in a few processes: a request spends part of its time waiting for PostgreSQL and Redis, and
# a thread waiting lets another one run; threads also keep the proxy's connections alive (sync workers
# close every connection after one answer). Compared with sync 2-5 workers and gthread 2x4, 3x8, 5x2 on
# the 1,000,000-slot clinic (docs/performance.md, "Measured at 1,000 and at 1,000,000 slots"): 2-3
# threaded processes lead on reads and on the mixed load's p99; sync workers had the worst p99.
worker_class = "gthread"

# One process per core plus one: enough to keep both cores busy while some threads wait, few enough
# that the processes do not just take turns (each also holds its own database pool and Redis pool).
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))

# Threads per process: enough to overlap the waits of a request that makes 2-4 round trips; the
# database pool (SQLAlchemy's 5 + 10 overflow per process) serves them all without queueing.
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# Seconds a connection from the proxy stays open between requests: the proxy reuses it instead of
# connecting again for each request (the proxy's own idle timeout should be longer than this).
keepalive = 5

# A worker silent this long is stuck and restarted. Requests take milliseconds; the slowest real one,
# an image upload at the size budget, took up to 8 s under load (docs/performance.md, image bombs).
timeout = 60

# On a restart, requests in flight get this long to finish before their worker is stopped.
graceful_timeout = 20

# Each worker builds its own app after the fork: no database connection, Redis socket or job-runner
# thread is ever shared between processes (worth more here than the memory and start-up time preloading
# saves).
preload_app = False

# The workers' heartbeat files live in memory, so a slow or full disk cannot make gunicorn think a
# worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# The app writes one JSON line per request itself (portal/observability.py); gunicorn's own access
# log would only repeat it. Errors go to stderr for the supervisor to collect.
accesslog = None
errorlog = "-"


def _spreads_connections(server) -> bool:
    """A socket per worker only for TCP addresses gunicorn binds itself (each worker would replace a unix
    socket's file; systemd's sockets are shared ones), and only with more than one worker to spread over."""
    return (server.cfg.workers > 1 and not os.environ.get("LISTEN_FDS")
            and all(isinstance(address, tuple) for address in server.cfg.address))


def _unusable(address: tuple) -> OSError | None:
    """Why the address cannot be listened on, e.g. another server holds it: with SO_REUSEPORT a second
    server of the same user would silently share its connections instead of failing to start."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error
    return None


def on_starting(server) -> None:
    """Decide reuse_port for the addresses and workers this start really has (flags override this file),
    and refuse an address already in use, as gunicorn does without it. A master started by another's USR2
    upgrade shares its predecessor's port on purpose."""
    server.cfg.set("reuse_port", _spreads_connections(server))
    if not server.cfg.reuse_port or "GUNICORN_PID" in os.environ:
        return
    for address in server.cfg.address:
        if (error := _unusable(address)) is not None:
            server.log.error("Cannot listen on %s:%s: %s", *address, error)
            sys.exit(1)


def on_reload(server) -> None:
    """A reload (SIGHUP) reads this file again: keep listening as the start chose. The master holds the shared
    sockets, or none when each worker has its own."""
    server.cfg.set("reuse_port", not server.LISTENERS)
