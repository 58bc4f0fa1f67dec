"""Limits that count the request itself decide with that count, so simultaneous requests cannot all slip under."""
import threading

import pytest

from portal.services import throttle
from portal.services.errors import RateLimited

AT_ONCE = 12


def _all_at_once(app, take) -> list[str]:
    start, outcomes = threading.Barrier(AT_ONCE), []

    def attempt():
        with app.app_context():
            start.wait()
            try:
                take()
                outcomes.append("taken")
            except RateLimited:
                outcomes.append("limited")

    threads = [threading.Thread(target=attempt) for _ in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("setting, take", [
    ("REGISTRATION_LIMIT", lambda: throttle.take_registration("192.0.2.7")),
    ("RESET_REQUEST_LIMIT", lambda: throttle.take_reset_request("pat@example.org", "192.0.2.7")),
    ("RESET_REQUEST_ADDRESS_LIMIT", lambda: throttle.take_reset_request("pat@example.org", "192.0.2.7")),
])
def test_simultaneous_requests_at_the_limit_let_exactly_the_limit_through(app, monkeypatch, setting, take):
    monkeypatch.setitem(app.config, setting, "2/hour")
    assert sorted(_all_at_once(app, take)) == ["limited"] * (AT_ONCE - 2) + ["taken"] * 2
