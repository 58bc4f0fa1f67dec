"""Finished anonymous directory answers, kept a few seconds in each process so a repeat costs no SQL at all.

An answer is reused only while (a) the directory version it was built under is still current (every
write a directory answer could show moves it: services/directory_version.py) and (b) its expiry has not
passed: DIRECTORY_CACHE_SECONDS after it was built, or sooner, when a hold it shows ends then. What
changes with time alone (a free slot passing into the booking notice, a past slot) is therefore at most
DIRECTORY_CACHE_SECONDS late, which is harmless: booking checks every rule again.

The store is a least-recently-used map bounded by the bytes of its bodies (DIRECTORY_CACHE_BYTES), so a
burst of different windows cannot grow a process without limit.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from portal.extensions import per_app
from portal.services import directory_version


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str
    version: str
    expires_at: datetime


class Answers:
    """A least-recently-used map of answers, at most `budget` bytes of bodies; safe across threads."""

    def __init__(self, budget: int):
        self.budget = budget
        self._entries: OrderedDict[tuple, Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, version: str, moment: datetime) -> Answer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                return None
            if answer.version != version or answer.expires_at <= moment:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        if len(answer.body) > self.budget:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = answer
            self._size += len(answer.body)
            while self._size > self.budget:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple) -> None:
        self._size -= len(self._entries.pop(key).body)


def _answers() -> Answers:
    return per_app("directory_answers", lambda: Answers(int(current_app.config["DIRECTORY_CACHE_BYTES"])))


def enabled() -> bool:
    return float(current_app.config["DIRECTORY_CACHE_SECONDS"]) > 0


def begin(key: tuple) -> tuple[Answer | None, str | None]:
    """The kept answer for `key` if it may be reused, and the version a fresh one would be kept under
    (None: the version cannot be read, so nothing is reused or kept)."""
    directory_version.start_answer()
    current = directory_version.version().current()
    if current is None:
        return None, None
    directory_version.build_under(current)
    return _answers().get(key, current, datetime.now(UTC)), current


def keep(key: tuple, version: str, body: bytes, etag: str) -> None:
    """Keep a fresh answer built under `version` until it may be stale (see the module's docstring)."""
    moment = datetime.now(UTC)
    expires_at = moment + timedelta(seconds=float(current_app.config["DIRECTORY_CACHE_SECONDS"]))
    deadline = directory_version.hold_deadline()
    if deadline is not None:
        expires_at = min(expires_at, deadline)
    if expires_at > moment:
        _answers().put(key, Answer(body, etag, version, expires_at))
