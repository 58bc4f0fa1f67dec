"""What a commit owes Redis, sent in one round trip once the commit is done.

A commit can leave Redis several things to hear: a bump of each change version it moved (change_versions),
"run job N now" for the job runner (jobs/runner), the release of each hold the change used up (holds). Sent one
by one, each cost a round trip after the commit: a booking paid three. Now every one of them is a Message,
written into one pipeline as the outermost commit's after_commit runs (the messages `after_commit` added during
the transaction, then those of the `on_commit` work, in the order it was registered), and the pipeline goes once.
A rollback drops the transaction's messages: nothing that did not happen is announced.

Each message says what to do when Redis refuses it or cannot be reached: the committed change stands, and
every one of them has a fallback already (a version that cannot be read reuses nothing, a job's row waits
for the runner's tick, a hold ends at its TTL), so it is logged. A Lua script is sent by its SHA; a Redis
that lost its scripts (a restart) answers NOSCRIPT, and those commands are sent again once it has them.
Without Redis (the laptop) a message does its work in the process when it is written.
"""
from collections.abc import Callable
from dataclasses import dataclass

from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError, RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import stores


class Batch:
    """The pipeline a commit's messages are written into; `pipe` is None without Redis."""

    def __init__(self, pipe: Pipeline | None):
        self.pipe = pipe
        self.scripts: dict[str, Script] = {}

    def script(self, script: Script, keys: list, args: list) -> None:
        """Run a registered script in the pipeline by its SHA (redis-py would ask SCRIPT EXISTS first)."""
        self.scripts[script.sha] = script
        self.pipe.evalsha(script.sha, len(keys), *keys, *args)

    def size(self) -> int:
        return len(self.pipe.command_stack) if self.pipe is not None else 0


@dataclass(frozen=True)
class Message:
    write: Callable[[Batch], None]  # adds its commands to the batch (or, without Redis, does its work)
    failed: Callable[[RedisError], None]  # Redis refused a command of it or could not be reached


_WORK: list[Callable[[Session], list[Message]]] = []
_PENDING = "commit_messages"  # Session.info: the messages of the transaction in progress


def on_commit(work: Callable[[Session], list[Message]]) -> Callable[[Session], list[Message]]:
    """Register work that every outermost commit asks for the messages it owes (at import time)."""
    _WORK.append(work)
    return work


def after_commit(session: Session, message: Message) -> None:
    """Send `message` with the session's next commit, or never when the transaction rolls back."""
    session.info.setdefault(_PENDING, []).append(message)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the outer transaction has not committed yet
    messages = session.info.pop(_PENDING, [])
    for work in _WORK:
        messages += work(session)
    if messages:
        send(messages)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def send(messages: list[Message]) -> None:
    """Write every message into one pipeline and send it: one round trip, however many there are."""
    client = stores.redis
    batch = Batch(client.pipeline(transaction=False) if client is not None else None)
    spans = []
    for message in messages:
        start = batch.size()
        try:
            message.write(batch)  # RQ asks Redis for its version once, before its first job
        except RedisError as error:
            del batch.pipe.command_stack[start:]
            message.failed(error)
            continue
        spans.append((message, start, batch.size()))
    if not batch.size():
        return
    commands = list(batch.pipe.command_stack)
    try:
        results = batch.pipe.execute(raise_on_error=False)
        results = _with_scripts_loaded(client, batch, commands, results)
    except RedisError as error:
        for message, start, end in spans:
            if end > start:
                message.failed(error)
        return
    for message, start, end in spans:
        error = next((result for result in results[start:end] if isinstance(result, RedisError)), None)
        if error is not None:
            message.failed(error)


def _with_scripts_loaded(client, batch: Batch, commands: list, results: list) -> list:
    """The results again, with every command that met NOSCRIPT sent once more after loading the scripts."""
    missing = [number for number, result in enumerate(results) if isinstance(result, NoScriptError)]
    if not missing:
        return results
    for script in batch.scripts.values():
        client.script_load(script.script)
    results = list(results)
    for number in missing:
        args, options = commands[number]
        try:
            results[number] = client.execute_command(*args, **options)
        except RedisError as error:
            results[number] = error
    return results
