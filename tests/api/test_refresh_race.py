"""Many refreshes of one token at once, through several gunicorn worker processes: one wins, the others
lose the race (401 token_in_use) without revoking anything, and the winner's new tokens keep working."""
import threading
from collections import Counter

import pytest
import requests

from tests.fixtures.api_client import PREFIX

CONCURRENT = 20
ROUNDS = 2


def _refresh_all_at_once(url: str, refresh_token: str) -> list[requests.Response]:
    start, answers = threading.Barrier(CONCURRENT), []

    def spend():
        start.wait()
        answers.append(requests.post(f"{url}/auth/token", json={"refresh_token": refresh_token}, timeout=60))

    threads = [threading.Thread(target=spend) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.laptop
def test_twenty_refreshes_at_once_keep_the_family_alive(app, factories, gunicorn_servers):
    user = factories.user()
    url = gunicorn_servers(app) + PREFIX
    for _ in range(ROUNDS):
        login = requests.post(f"{url}/auth/login", json={"username": user.username, "password": user.password},
                              timeout=60).json()["data"]
        answers = _refresh_all_at_once(url, login["refresh_token"])
        outcomes = Counter(a.status_code if a.ok else a.json()["error"]["code"] for a in answers)
        assert outcomes == {200: 1, "token_in_use": CONCURRENT - 1}, outcomes
        winner = next(a.json()["data"] for a in answers if a.ok)
        me = requests.get(f"{url}/me", headers={"Authorization": f"Bearer {winner['access_token']}"}, timeout=60)
        assert me.status_code == 200
        again = requests.post(f"{url}/auth/token", json={"refresh_token": winner["refresh_token"]}, timeout=60)
        assert again.status_code == 200, again.json()
