"""Password hashing (argon2id) and the password rules: length and a blocklist, no composition rules.

The argon2 cost comes from the settings (PASSWORD_HASH_TIME_COST, _MEMORY_KIB, _PARALLELISM): production
keeps the OWASP baseline, the tests use the cheapest parameters so that making users costs nothing.
A hash made with other parameters still verifies (argon2 reads them from the hash) and is upgraded on login.
"""
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

from portal.services.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT = 5  # "aaaaaaaaaaaa" is long but guessable (NIST 800-63B: repetitive or sequential)
_BLOCKLIST = Path(__file__).parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """The hasher for these parameters, and a dummy hash made with them: a login that names no account
    is verified against it, so a miss costs the same time as a wrong password."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash("not-a-real-password-only-for-timing")


def _hasher() -> tuple[PasswordHasher, str]:
    config = current_app.config
    return _hasher_with(int(config["PASSWORD_HASH_TIME_COST"]), int(config["PASSWORD_HASH_MEMORY_KIB"]),
                        int(config["PASSWORD_HASH_PARALLELISM"]))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in _BLOCKLIST.read_text().splitlines() if line.strip())


def _is_common(lowered: str) -> bool:
    """On the list as it is, or a listed word with digits or symbols stuck on ("iloveyou1234")."""
    base = lowered.rstrip("0123456789!?.#*@$-_ ")
    return lowered in _common_passwords() or (len(base) >= 4 and base in _common_passwords())


def _is_pattern(lowered: str) -> bool:
    """A short unit repeated ("passwordpassword") or a run of neighbouring characters ("123456789012")."""
    repeated = any(len(lowered) % size == 0 and lowered == lowered[:size] * (len(lowered) // size)
                   for size in range(1, len(lowered) // 2 + 1))
    steps = {(ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
             for a, b in zip(lowered, lowered[1:], strict=False)}
    return repeated or steps in ({1}, {-1}, {9})


def problems(password: str) -> list[str]:
    """What is wrong with a new password, in words a person understands; empty when it is fine."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    if _is_common(lowered):
        return ["This password is too common; choose another."]
    if len(set(lowered)) < MIN_DISTINCT or _is_pattern(lowered):
        return ["This password is a simple pattern; a few unrelated words are stronger."]
    return []


def check_new(password: str, field: str = "password") -> None:
    found = problems(password)
    if found:
        raise Invalid({field: found})


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash, spend the same time and say no."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the settings name now (upgrade on login)."""
    return _hasher()[0].check_needs_rehash(password_hash)
