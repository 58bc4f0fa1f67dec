"""API tests use the client, upload directory and live server of tests/fixtures/api_client.py."""
from tests.fixtures.api_client import api, live_server, uploads  # noqa: F401 (fixtures)
