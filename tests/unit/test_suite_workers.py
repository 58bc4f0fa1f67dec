"""The test suite's own isolation: each pytest-xdist worker names its own database and Redis db."""
from tests.fixtures.workers import database_url_for, redis_url_for


def test_a_worker_gets_its_own_database_on_the_same_server_with_the_same_login():
    url = "postgresql+psycopg://tester:s3cret@db.internal:5433/clinic_portal_test"
    assert database_url_for(url, "gw1") == "postgresql+psycopg://tester:s3cret@db.internal:5433/clinic_portal_test_gw1"


def test_a_worker_gets_the_redis_db_of_the_setting_plus_its_number():
    assert redis_url_for("redis://127.0.0.1:6379/11", "gw0") == "redis://127.0.0.1:6379/11"
    assert redis_url_for("redis://:pw@cache:6380/11", "gw3") == "redis://:pw@cache:6380/14"
    assert redis_url_for("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"
