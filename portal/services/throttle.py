"""Rate limits on failed logins, password-reset requests and registrations.

Counts live in Redis when it is configured (shared by every app process), in memory otherwise.
Only failures are counted for logins, so a normal client that signs in correctly is never limited.
A request that is itself counted (reset, registration) is decided by the result of counting it, so two
requests at once cannot both slip under the limit. When the counts cannot be reached (Redis down), the
request is refused with Unavailable (503 with Retry-After) rather than let through unlimited: these are
the endpoints guessing and mail-bombing go for.
"""
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from limits import parse_many
from limits.strategies import MovingWindowRateLimiter

from portal.extensions import stores
from portal.services.errors import RateLimited, Unavailable

COUNTS_DOWN = ("Signing in, registering and password resets are paused for a moment because a service "
               "they need is not responding. Please try again in a minute.")
RETRY_AFTER_OUTAGE = 30


@contextmanager
def _limiter() -> Iterator[MovingWindowRateLimiter]:
    storage = stores.limits_storage
    try:
        yield MovingWindowRateLimiter(storage)
    except storage.base_exceptions:
        current_app.logger.exception("rate-limit storage unreachable")
        raise Unavailable(COUNTS_DOWN, code="service_unavailable", retry_after=RETRY_AFTER_OUTAGE) from None


def _limits_for(setting: str):
    return parse_many(current_app.config[setting])


def _retry_after(limiter, item, *keys) -> int:
    reset_at, _remaining = limiter.get_window_stats(item, *keys)
    return int(reset_at - time.time()) + 1


def _ensure_open(checks) -> None:
    with _limiter() as limiter:
        for setting, keys in checks:
            for item in _limits_for(setting):
                if not limiter.test(item, *keys):
                    raise RateLimited(_retry_after(limiter, item, *keys))


def _count(checks) -> None:
    with _limiter() as limiter:
        for setting, keys in checks:
            for item in _limits_for(setting):
                limiter.hit(item, *keys)


def _take(checks) -> None:
    """Count this request against each limit; the first limit it does not fit under refuses it."""
    with _limiter() as limiter:
        for setting, keys in checks:
            for item in _limits_for(setting):
                if not limiter.hit(item, *keys):
                    raise RateLimited(_retry_after(limiter, item, *keys))


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


def take_reset_request(email: str, address: str) -> None:
    """5 an hour per email (no mailbox is flooded) and a bounded number per client address (no one
    address walks a list of emails)."""
    _take([("RESET_REQUEST_LIMIT", ("reset", email.strip().lower())),
           ("RESET_REQUEST_ADDRESS_LIMIT", ("reset-address", address))])


def take_registration(address: str) -> None:
    _take([("REGISTRATION_LIMIT", ("register", address))])
