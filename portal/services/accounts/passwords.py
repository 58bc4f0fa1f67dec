"""Password hashing (argon2id) and the password rules: length and a blocklist, no composition rules."""
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.services.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT = 5  # "aaaaaaaaaaaa" is long but guessable (NIST 800-63B: repetitive or sequential)
_BLOCKLIST = Path(__file__).parent / "data" / "common_passwords.txt"

# OWASP's argon2id baseline is m=19 MiB, t=2, p=1; we spend a little more memory.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

# Verified against when a login names no account, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


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
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
