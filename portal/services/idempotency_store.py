"""Where idempotency keys live: Redis for every real deployment, process memory when REDIS_URL is unset.

An entry is what one caller's key has led to so far, under one storage key: the fingerprint of the
request that claimed it, the claimant's random token, and, once that request has ended, its answer.
Both stores keep the same rules, so the service and its tests do not care which one runs:

- claiming is atomic: of many requests with one key exactly one gets to run (Redis: one Lua script
  around `SET NX PX`, the marker living only for a short lease so a crashed worker blocks no one long);
- only the claimant's token can store the answer (then kept for the full TTL) or give the claim up;
- an entry ends by itself at its TTL.
"""
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass

from redis import Redis


@dataclass(frozen=True)
class Answer:
    """A finished HTTP answer, as it is given again to a repeat."""

    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    token: str
    answer: Answer | None  # None: the claiming request is still running

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, raw: bytes | str) -> "Entry":
        data = json.loads(raw)
        answer = data["answer"]
        return cls(data["fingerprint"], data["token"], Answer(**answer) if answer else None)


class IdempotencyStore(ABC):
    @abstractmethod
    def claim(self, scope: str, entry: Entry, lease_ms: int) -> Entry | None:
        """Store `entry` (no answer yet) for lease_ms unless `scope` has one: None when claimed, else that one."""

    @abstractmethod
    def keep(self, scope: str, entry: Entry, ttl_ms: int) -> bool:
        """Store the finished entry for ttl_ms if `scope` is still claimed by entry.token."""

    @abstractmethod
    def release(self, scope: str, token: str) -> None:
        """Give up the claim of `token` (nothing is kept), so a retry may run."""


_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return false
"""

_KEEP = """
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current)['token'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisIdempotencyStore(IdempotencyStore):
    """Entries shared by every app process: `idempotency:{caller}:{sha256 of the key}` -> the entry as JSON."""

    def __init__(self, client: Redis):
        self._claim = client.register_script(_CLAIM)
        self._keep = client.register_script(_KEEP)
        self._release = client.register_script(_RELEASE)

    def claim(self, scope, entry, lease_ms):
        found = self._claim(keys=[scope], args=[entry.dumps(), lease_ms])
        return Entry.loads(found) if found else None

    def keep(self, scope, entry, ttl_ms):
        return bool(self._keep(keys=[scope], args=[entry.token, entry.dumps(), ttl_ms]))

    def release(self, scope, token):
        self._release(keys=[scope], args=[token])


class MemoryIdempotencyStore(IdempotencyStore):
    """The same rules inside one process, for a development setup without Redis; `clock` is in seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Entry]] = {}

    def _live(self, scope: str) -> Entry | None:
        found = self._entries.get(scope)
        if found is None or found[0] <= self._clock():
            self._entries.pop(scope, None)
            return None
        return found[1]

    def claim(self, scope, entry, lease_ms):
        with self._lock:
            current = self._live(scope)
            if current is None:
                self._entries[scope] = (self._clock() + lease_ms / 1000, entry)
            return current

    def keep(self, scope, entry, ttl_ms):
        with self._lock:
            current = self._live(scope)
            if current is None or current.token != entry.token:
                return False
            self._entries[scope] = (self._clock() + ttl_ms / 1000, entry)
            return True

    def release(self, scope, token):
        with self._lock:
            current = self._live(scope)
            if current is not None and current.token == token:
                del self._entries[scope]
