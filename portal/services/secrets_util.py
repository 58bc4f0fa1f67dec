"""Random tokens and their stored form: only a SHA-256 of an opaque token ever reaches the database."""
import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
