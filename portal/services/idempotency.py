"""Idempotency keys: a create retried with the same key gives its first answer instead of acting twice.

A client that lost an answer (a timeout, a dropped connection) cannot know whether its booking happened.
With an `Idempotency-Key` it simply sends the same request again: the first answer comes back, status and
body, and nothing runs a second time. Keys belong to one caller (two callers never share an answer);
one key names one request (the fingerprint of method, path and body), so reusing it for another is
Invalid `idempotency_mismatch`; a repeat while the first still runs is Conflict `request_in_progress`.

The faces decide which answers are kept (API: 2xx and the domain's 4xx; never a 5xx, so a failure can be
retried). Keys live IDEMPOTENCY_TTL_SECONDS (24 hours), in Redis when configured, else in-process
(idempotency_store). When Redis cannot be reached a request with a key is Unavailable: doing it
without the promise it asked for could do it twice, and the same request without a key still works.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from portal.extensions import per_app, stores
from portal.services.errors import Conflict, Invalid, Unavailable
from portal.services.idempotency_store import (
    Answer,
    Entry,
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
)

__all__ = ["Answer", "Claim", "HEADER", "begin", "finish", "abandon"]

HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
BAD_KEY = "Use 1 to 255 printable ASCII characters."
MISMATCH = "This Idempotency-Key was used for a different request; use a new key for a new request."
IN_PROGRESS = "A request with this Idempotency-Key is still being processed; retry shortly for its answer."
DOWN = "Idempotency keys cannot be checked for a moment; retry shortly, or send the request without the key."


@dataclass(frozen=True)
class Claim:
    """The right to run a request once: finish() keeps its answer, abandon() lets a retry run it."""

    scope: str
    entry: Entry


def store() -> IdempotencyStore:
    """One store per app: Redis when configured, otherwise one in-process store."""
    return per_app("idempotency_store", lambda: RedisIdempotencyStore(stores.redis) if stores.redis is not None
                   else MemoryIdempotencyStore())


def _ms(setting: str) -> int:
    return int(float(current_app.config[setting]) * 1000)


def _outage() -> Unavailable:
    current_app.logger.warning("idempotency store unreachable")
    return Unavailable(DOWN, code="service_unavailable")


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body (the faces canonicalise the body first)."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def begin(caller_id: int, key: str, request_fingerprint: str) -> Claim | Answer:
    """Claim `key` for this request, or give the first request's answer.

    Invalid (validation_error) for a malformed key, Invalid (idempotency_mismatch) for a key used with
    another request, Conflict request_in_progress while the first runs, Unavailable when the store is down.
    """
    if not KEY_RE.match(key):
        raise Invalid.field(HEADER, BAD_KEY)
    scope = f"idempotency:{caller_id}:{hashlib.sha256(key.encode()).hexdigest()}"
    mine = Entry(request_fingerprint, secrets.token_hex(16), None)
    try:
        found = store().claim(scope, mine, _ms("IDEMPOTENCY_LEASE_SECONDS"))
    except RedisError:
        raise _outage() from None
    if found is None:
        return Claim(scope, mine)
    if found.fingerprint != request_fingerprint:
        error = Invalid({HEADER: [MISMATCH]}, message=MISMATCH)
        error.code = "idempotency_mismatch"
        raise error
    if found.answer is None:
        raise Conflict(IN_PROGRESS, code="request_in_progress")
    return found.answer


def finish(claim: Claim, answer: Answer) -> None:
    """Keep the answer for repeats; failures only log (the request itself has happened)."""
    entry = Entry(claim.entry.fingerprint, claim.entry.token, answer)
    try:
        kept = store().keep(claim.scope, entry, _ms("IDEMPOTENCY_TTL_SECONDS"))
    except RedisError:
        kept = False
    if not kept:
        current_app.logger.warning("an idempotent answer could not be kept; a repeat after the lease runs again")


def abandon(claim: Claim) -> None:
    """Forget the claim without an answer (a server failure), so the client's retry runs the request."""
    try:
        store().release(claim.scope, claim.entry.token)
    except RedisError:
        current_app.logger.warning("an idempotency claim could not be released; it ends with its lease")
