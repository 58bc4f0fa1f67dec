"""On PostgreSQL the app's connections plan each prepared statement once, generically (extensions.generic_plans):
PostgreSQL's default would plan some of them afresh on every execution."""
from sqlalchemy import text

from portal.extensions import db

STATEMENT = "SELECT id FROM slots WHERE doctor_id = %(doctor_id)s AND starts_at >= now()"


def test_the_app_sessions_plan_generically(ctx):
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"


def test_a_statement_run_again_and_again_is_planned_once_and_generically(ctx):
    """psycopg prepares a statement on its fifth execution; PostgreSQL's default would then make five custom plans
    before it even weighs the generic one."""
    with db.engine.connect() as connection:
        for doctor_id in range(1, 9):
            connection.exec_driver_sql(STATEMENT, {"doctor_id": doctor_id}).all()
        plans = connection.exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %(text)s",
            {"text": "SELECT id FROM slots WHERE doctor_id = $1%"}).one()
    assert plans.generic_plans >= 3 and plans.custom_plans == 0, plans
