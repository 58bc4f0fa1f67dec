"""Portal page tests use the CSRF-carrying client of tests/fixtures/web_client.py."""
from tests.fixtures.web_client import web, web_as  # noqa: F401 (fixtures)
