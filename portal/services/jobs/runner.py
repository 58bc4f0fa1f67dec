"""Who drains the outbox, chosen by JOBS_RUNNER (default: "rq" with REDIS_URL, else "thread").

- "rq": production. After a commit that wrote jobs, their ids go to an RQ queue on Redis; `make
  worker` (flask jobs worker) runs an RQ worker that does them, and a ticker in it puts a `tick` on
  the same queue every JOBS_TICK_SECONDS: periodic work, and every due row dispatched again (a
  reminder coming due, a retry, a job whose kick was lost with Redis, one whose worker died). The
  rows are the truth; Redis only carries "do job 42 now", so losing Redis loses nothing.
- "thread": the laptop. One daemon thread in the serving process, started by its first request, runs
  due jobs when woken after a commit and every tick; jobs of a stopped process run after the next
  start and its first request.
- "manual": tests. Nothing runs on its own; a test calls `outbox.run_due()` (the mailbox does).
"""
import threading

from flask import Flask, current_app, has_request_context
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import runs_as_writer, stores
from portal.services import commit_messages
from portal.services.commit_messages import Message
from portal.services.jobs import outbox

MODES = ("rq", "thread", "manual")
_worker_app: Flask | None = None  # the app of this `flask jobs worker` process, for RQ's job functions


def init_app(app: Flask) -> None:
    mode = app.config.get("JOBS_RUNNER") or ("rq" if app.config.get("REDIS_URL") else "thread")
    if mode not in MODES:
        raise RuntimeError(f"JOBS_RUNNER must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "rq" and not app.config.get("REDIS_URL"):
        raise RuntimeError("JOBS_RUNNER=rq needs REDIS_URL")
    app.config["JOBS_RUNNER"] = mode
    runner = _ThreadRunner(app) if mode == "thread" else None
    app.extensions["jobs_runner"] = runner
    if runner is not None:
        app.before_request(runner.start)  # per process, after any fork; a no-op once running


@commit_messages.on_commit
def _kicks(session: Session) -> list[Message]:
    """Tell the runner about the jobs this commit made real (never before: a rollback would orphan them)."""
    ids = session.info.pop(outbox.ENQUEUED, None)
    if not ids:
        return []
    mode = current_app.config["JOBS_RUNNER"]
    if mode == "rq":
        return [_dispatch_message(ids)]
    if mode == "thread":
        current_app.extensions["jobs_runner"].wake()
    return []


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(outbox.ENQUEUED, None)


def _queue() -> Queue:
    """The app's queue, kept: a Queue asks Redis for its version (INFO) once, so a booking does not ask every time."""
    queue = current_app.extensions.get("jobs_rq_queue")
    if queue is None or queue.connection is not stores.redis or queue.name != current_app.config["JOBS_QUEUE"]:
        queue = current_app.extensions["jobs_rq_queue"] = Queue(current_app.config["JOBS_QUEUE"],
                                                                 connection=stores.redis)
    return queue


def dispatch(ids: list[int]) -> None:
    """Put "run job N" on the RQ queue now (the ticker's dispatch of every due row)."""
    if ids:
        commit_messages.send([_dispatch_message(ids)])


def _dispatch_message(ids: list[int]) -> Message:
    """The message "run job N" for each of `ids`, in the pipeline of the commit that made them (a booking's mail
    with its other messages); when Redis is down the rows wait for a later tick."""
    def write(batch: commit_messages.Batch) -> None:
        _queue().enqueue_many([Queue.prepare_data(run_job, (job_id,), job_id=f"outbox-{job_id}", result_ttl=0,
                                                  failure_ttl=3600) for job_id in ids], pipeline=batch.pipe)

    def failed(error: RedisError) -> None:
        current_app.logger.warning("job queue unreachable (%s); %s job(s) wait in the outbox", error, len(ids))

    return Message(write, failed)


def run_job(job_id: int) -> None:
    """RQ's entry point for one outbox row."""
    with _worker_app.app_context():
        outbox.run(job_id)


def run_tick() -> None:
    """RQ's entry point for the periodic pass: periodic work, then every due row onto the queue."""
    with _worker_app.app_context():
        outbox.tick()
        dispatch(outbox.due_ids(limit=1000))


def work_on_rq(app: Flask, burst: bool = False) -> None:
    """The `flask jobs worker` process: an RQ worker on the jobs queue plus its ticker thread."""
    global _worker_app
    _worker_app = app
    stop = threading.Event()
    with app.app_context():
        queue = _queue()
        connection = stores.redis

    def ticker() -> None:
        while not stop.is_set():
            try:
                queue.enqueue(run_tick, job_id="outbox-tick", result_ttl=0, failure_ttl=3600)
            except RedisError as error:
                app.logger.warning("cannot reach Redis for the tick: %s", error)
            stop.wait(app.config["JOBS_TICK_SECONDS"])

    if burst:  # one pass, then stop when the queue is empty (tests and cron-style runs)
        queue.enqueue(run_tick, job_id="outbox-tick", result_ttl=0)
    else:
        threading.Thread(target=ticker, name="jobs-ticker", daemon=True).start()
    # SimpleWorker runs jobs in this process: no fork, so the app's database pool stays sound.
    SimpleWorker([queue], connection=connection).work(burst=burst, with_scheduler=False)
    stop.set()


class _ThreadRunner:
    """The laptop's runner: one thread, woken after commits and every JOBS_TICK_SECONDS."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """After a commit that wrote jobs. Only a serving process runs jobs: a command (seed-demo,
        create-user) leaves them to the server, which starts its thread with its first request."""
        if has_request_context():
            self.start()
        self._wake.set()

    def _loop(self) -> None:
        runs_as_writer()  # SQLite: this thread's transactions begin IMMEDIATE, like a request's
        while True:
            with self.app.app_context():
                try:
                    outbox.run_due()
                    outbox.tick()
                except Exception:  # the runner must outlive any one failure; the rows stay for the next pass
                    self.app.logger.exception("job runner pass failed")
            self._wake.wait(self.app.config["JOBS_TICK_SECONDS"])
            self._wake.clear()
