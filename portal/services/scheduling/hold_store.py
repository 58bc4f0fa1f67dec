"""Where slot holds live: Redis for every real deployment, process memory when REDIS_URL is unset.

A hold is the courtesy in front of the database: for a few minutes one patient may confirm a slot
while others see it as taken. Both stores keep the same rules, so the service and its tests do not
care which one runs:

- one holder per slot; acquiring is atomic (Redis: one Lua script around `SET NX PX`);
- a patient who already holds the slot gets their own hold back (a double click is not a conflict);
- at most `cap` unexpired holds per patient (None: no cap);
- each hold has its own TTL (a waitlist offer is held far longer than a click in the portal), and a
  patient's list of holds lives as long as the longest of them;
- only the holder releases (compare-and-delete), and every hold ends by itself at its TTL;
- a patient's live holds can be listed and released together (the portal keeps one per patient);
- why a hold was let go early can be noted for a while, so the patient's other tab can be told;
- placing or releasing a hold moves the directory version in the same step (Redis: the same script),
  so no cached directory answer shows the slot's old state (services/directory_version.py).

The hold id is a random token, so it cannot be guessed from a slot id.
"""
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from portal.services import directory_version
from portal.services.commit_messages import Message


@dataclass(frozen=True)
class Hold:
    hold_id: str
    slot_id: int
    patient_id: int
    expires_at: datetime


class SlotHeld(Exception):
    """Someone else holds the slot."""


class TooManyHolds(Exception):
    """The patient already holds as many slots as allowed."""


class HoldStore(ABC):
    @abstractmethod
    def acquire(self, slot_id: int, patient_id: int, ttl_ms: int, cap: int | None) -> Hold: ...

    @abstractmethod
    def get(self, hold_id: str) -> Hold | None: ...

    @abstractmethod
    def release(self, hold_id: str, patient_id: int) -> bool:
        """True when the hold existed and belonged to the patient (and is now gone)."""

    def drop(self, hold: Hold) -> bool:
        """Release a hold the caller has in hand (a booking's, an offer's) while it is still the patient's hold
        of that slot; True when it was. The Redis store does it in one round trip."""
        current = self.get(hold.hold_id)
        return current is not None and current.slot_id == hold.slot_id and self.release(hold.hold_id, hold.patient_id)

    def drop_message(self, hold: Hold, failed: Callable[[Exception], None]) -> Message:
        """drop(hold) as a message of a commit (services/commit_messages.py); in the process, done as it is written."""
        return Message(lambda _batch: self.drop(hold), failed)

    @abstractmethod
    def holders(self, slot_ids: list[int]) -> dict[int, Hold]:
        """The live hold of each held slot among slot_ids, in one round trip."""

    @abstractmethod
    def holds_of(self, patient_id: int) -> list[Hold]:
        """The patient's live holds, the first to expire first."""

    @abstractmethod
    def note_gone(self, patient_id: int, hold_ids: list[str], why: str, ttl_ms: int) -> None:
        """Remember for ttl_ms why these holds of the patient ended before their time."""

    @abstractmethod
    def why_gone(self, hold_id: str, patient_id: int) -> str | None:
        """What note_gone remembered about the patient's hold, or None (never noted, or forgotten)."""

    def release_all_except(self, patient_id: int, keep_hold_id: str | None = None) -> list[Hold]:
        """Release every live hold of the patient but `keep_hold_id` (None: all); returns those released.

        Each release is the usual compare-and-delete, so a hold that expires meanwhile is simply skipped.
        """
        return [hold for hold in self.holds_of(patient_id)
                if hold.hold_id != keep_hold_id and self.release(hold.hold_id, patient_id)]


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('GET', KEYS[1])
if current then return {0, current} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local cap = tonumber(ARGV[4])
if cap > 0 and redis.call('ZCARD', KEYS[2]) >= cap then return {-1, ''} end
local expires = string.format('%d', now + tonumber(ARGV[3]))
local value = ARGV[1] .. ':' .. ARGV[2] .. ':' .. expires
if not redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[3]) then return {0, redis.call('GET', KEYS[1])} end
redis.call('SET', KEYS[3], ARGV[5] .. ':' .. ARGV[2] .. ':' .. expires, 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('INCR', KEYS[4]) end
return {1, value}
"""

# Reads the hold by its id and lets it go only while it is still the patient's hold of that slot: the
# check and the deletes are one step, so nothing that expired or was taken meanwhile is touched.
_RELEASE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local slot, patient, expires = string.match(raw, '^(%d+):(%d+):(%d+)$')
if patient ~= ARGV[2] or slot ~= ARGV[3] then return 0 end
if redis.call('GET', KEYS[2]) == ARGV[1] .. ':' .. patient .. ':' .. expires then redis.call('DEL', KEYS[2]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('INCR', KEYS[4]) end
return 1
"""


class RedisHoldStore(HoldStore):
    """Holds shared by every app process: `hold:slot:{id}` -> "token:patient:expires_ms",
    `hold:id:{token}` -> "slot:patient:expires_ms", and a zset of each patient's tokens by expiry.
    Every acquire and release bumps the directory version's key (when it exists) in the same script."""

    def __init__(self, client: Redis):
        self.client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    # A bound str.format, not a function of ours: a window's check of its 100-200 slots maps it over their ids
    # without a Python frame apiece.
    _slot_key = staticmethod("hold:slot:{}".format)

    @staticmethod
    def _patient_key(patient_id: int) -> str:
        return f"hold:patient:{patient_id}"

    @staticmethod
    def _from_slot_value(slot_id: int, raw: bytes | str) -> Hold:
        token, patient_id, expires = (raw.decode() if isinstance(raw, bytes) else raw).split(":")
        return Hold(token, slot_id, int(patient_id), _instant(int(expires)))

    def acquire(self, slot_id, patient_id, ttl_ms, cap):
        token = secrets.token_urlsafe(16)
        keys = [self._slot_key(slot_id), self._patient_key(patient_id), f"hold:id:{token}", directory_version.KEY]
        won, raw = self._acquire(keys=keys, args=[token, patient_id, ttl_ms, cap or 0, slot_id])
        if won == -1:
            raise TooManyHolds()
        hold = self._from_slot_value(slot_id, raw)
        if won == 0 and hold.patient_id != patient_id:
            raise SlotHeld()
        return hold

    def get(self, hold_id):
        if not hold_id or len(hold_id) > 64:
            return None
        raw = self.client.get(f"hold:id:{hold_id}")
        if raw is None:
            return None
        slot_id, patient_id, expires = raw.decode().split(":")
        return Hold(hold_id, int(slot_id), int(patient_id), _instant(int(expires)))

    def release(self, hold_id, patient_id):
        hold = self.get(hold_id)
        return hold is not None and hold.patient_id == patient_id and self.drop(hold)

    def drop(self, hold):
        """The script itself reads the hold and checks it, so it needs no read before it."""
        keys, args = self._release_of(hold)
        return self._release(keys=keys, args=args) == 1

    def drop_message(self, hold, failed):
        keys, args = self._release_of(hold)
        return Message(lambda batch: batch.script(self._release, keys, args), failed)

    def _release_of(self, hold: Hold) -> tuple[list, list]:
        """The release script's keys and arguments for `hold`."""
        return ([f"hold:id:{hold.hold_id}", self._slot_key(hold.slot_id), self._patient_key(hold.patient_id),
                 directory_version.KEY], [hold.hold_id, hold.patient_id, hold.slot_id])

    def holders(self, slot_ids):
        if not slot_ids:
            return {}
        values = self.client.mget(list(map(self._slot_key, slot_ids)))
        pairs = zip(slot_ids, values, strict=True)
        return {slot_id: self._from_slot_value(slot_id, raw) for slot_id, raw in pairs if raw}

    def note_gone(self, patient_id, hold_ids, why, ttl_ms):
        if hold_ids:
            with self.client.pipeline(transaction=False) as pipe:
                for hold_id in hold_ids:
                    pipe.set(f"hold:gone:{hold_id}", f"{patient_id}:{why}", px=ttl_ms)
                pipe.execute()

    def why_gone(self, hold_id, patient_id):
        if not hold_id or len(hold_id) > 64:
            return None
        raw = self.client.get(f"hold:gone:{hold_id}")
        holder, _, why = (raw.decode() if isinstance(raw, bytes) else raw or "").partition(":")
        return why if raw and holder == str(patient_id) else None

    def holds_of(self, patient_id):
        """From the patient's zset of tokens; tokens whose hold has expired have no `hold:id:` key left."""
        members = self.client.zrange(self._patient_key(patient_id), 0, -1)
        tokens = [member.decode() if isinstance(member, bytes) else member for member in members]
        if not tokens:
            return []
        values = self.client.mget([f"hold:id:{token}" for token in tokens])
        found = []
        for token, raw in zip(tokens, values, strict=True):
            if raw:
                slot_id, holder, expires = (raw.decode() if isinstance(raw, bytes) else raw).split(":")
                if int(holder) == patient_id:
                    found.append(Hold(token, int(slot_id), patient_id, _instant(int(expires))))
        return found


class MemoryHoldStore(HoldStore):
    """The same rules inside one process, for a development setup without Redis; `changed` is called after
    every acquire and release (it bumps the directory version)."""

    def __init__(self, changed: Callable[[], None]):
        self._changed = changed
        self._lock = threading.Lock()
        self._by_slot: dict[int, Hold] = {}
        self._by_id: dict[str, Hold] = {}
        self._gone: dict[str, tuple[int, str, datetime]] = {}  # hold id -> (patient, why, forget at)

    def _purge(self) -> None:
        moment = datetime.now(UTC)
        for hold in [h for h in self._by_id.values() if h.expires_at <= moment]:
            self._forget(hold)
        for hold_id in [key for key, (_, _, until) in self._gone.items() if until <= moment]:
            del self._gone[hold_id]

    def _forget(self, hold: Hold) -> None:
        self._by_id.pop(hold.hold_id, None)
        if self._by_slot.get(hold.slot_id) == hold:
            del self._by_slot[hold.slot_id]

    def acquire(self, slot_id, patient_id, ttl_ms, cap):
        with self._lock:
            self._purge()
            current = self._by_slot.get(slot_id)
            if current is not None:
                if current.patient_id != patient_id:
                    raise SlotHeld()
                return current
            if cap and sum(1 for h in self._by_id.values() if h.patient_id == patient_id) >= cap:
                raise TooManyHolds()
            hold = Hold(secrets.token_urlsafe(16), slot_id, patient_id, _instant(int(time.time() * 1000) + ttl_ms))
            self._by_slot[slot_id] = self._by_id[hold.hold_id] = hold
        self._changed()
        return hold

    def get(self, hold_id):
        with self._lock:
            self._purge()
            return self._by_id.get(hold_id)

    def release(self, hold_id, patient_id):
        with self._lock:
            self._purge()
            hold = self._by_id.get(hold_id)
            if hold is None or hold.patient_id != patient_id:
                return False
            self._forget(hold)
        self._changed()
        return True

    def holders(self, slot_ids):
        with self._lock:
            self._purge()
            return {slot_id: self._by_slot[slot_id] for slot_id in slot_ids if slot_id in self._by_slot}

    def note_gone(self, patient_id, hold_ids, why, ttl_ms):
        until = _instant(int(time.time() * 1000) + ttl_ms)
        with self._lock:
            self._gone.update({hold_id: (patient_id, why, until) for hold_id in hold_ids})

    def why_gone(self, hold_id, patient_id):
        with self._lock:
            self._purge()
            holder, why, _ = self._gone.get(hold_id, (None, None, None))
            return why if holder == patient_id else None

    def holds_of(self, patient_id):
        with self._lock:
            self._purge()
            mine = [hold for hold in self._by_id.values() if hold.patient_id == patient_id]
            return sorted(mine, key=lambda hold: hold.expires_at)
