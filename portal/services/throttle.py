"""Rate limits on failed logins, password-reset requests and registrations.

Counts live in Redis when it is configured (shared by every app process), in memory otherwise.
Only failures are counted for logins, so a normal client that signs in correctly is never limited.
"""
import time

from flask import current_app
from limits import parse_many
from limits.strategies import MovingWindowRateLimiter

from portal.extensions import stores
from portal.services.errors import RateLimited


def _limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(stores.limits_storage)


def _limits_for(setting: str):
    return parse_many(current_app.config[setting])


def _retry_after(limiter, item, *keys) -> int:
    reset_at, _remaining = limiter.get_window_stats(item, *keys)
    return int(reset_at - time.time()) + 1


def _ensure_open(checks) -> None:
    limiter = _limiter()
    for setting, keys in checks:
        for item in _limits_for(setting):
            if not limiter.test(item, *keys):
                raise RateLimited(_retry_after(limiter, item, *keys))


def _count(checks) -> None:
    limiter = _limiter()
    for setting, keys in checks:
        for item in _limits_for(setting):
            limiter.hit(item, *keys)


def _login_checks(account: str, address: str):
    """Failures of one account from one address (10 a minute), of one account from anywhere (100 an
    hour), and of one address across accounts (a generous guard against password spraying)."""
    account = account.strip().lower()
    return [
        ("LOGIN_FAILURE_LIMITS", ("login-pair", account, address)),
        ("LOGIN_FAILURE_ACCOUNT_HOURLY", ("login-account-hour", account)),
        ("LOGIN_FAILURE_ADDRESS_LIMITS", ("login-address", address)),
    ]


def ensure_login_allowed(account: str, address: str) -> None:
    """Raise RateLimited once an account or address has failed too often, even for the right password."""
    _ensure_open(_login_checks(account, address))


def record_login_failure(account: str, address: str) -> None:
    _count(_login_checks(account, address))


def take_reset_request(email: str) -> None:
    checks = [("RESET_REQUEST_LIMIT", ("reset", email.strip().lower()))]
    _ensure_open(checks)
    _count(checks)


def take_registration(address: str) -> None:
    checks = [("REGISTRATION_LIMIT", ("register", address))]
    _ensure_open(checks)
    _count(checks)
