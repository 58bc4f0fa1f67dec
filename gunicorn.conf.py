"""gunicorn's settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Chosen by measurement on the project's 2-core machine (docs/performance.md, "The server"); each
setting says why. Command-line flags override them (e.g. `-b 0.0.0.0:8000`), and so does
GUNICORN_CMD_ARGS. More than one process needs REDIS_URL (README, "Production").
"""
import os

# Where the reverse proxy forwards to: a private address (the proxy terminates TLS).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

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
