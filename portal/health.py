"""GET /healthz: the state of the database and Redis, for load balancers and operators.

It also says which mode runs: "laptop" (SQLite and in-process stores, `make run` without DATABASE_URL
and REDIS_URL; one process only) or "production" (PostgreSQL and Redis). A mix, e.g. PostgreSQL
without Redis, is not production: its holds and rate limits still live in one process.
"""
from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from portal.extensions import db, stores

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to talk to the database means "down"
        db.session.rollback()
        return False


def _redis_state() -> str:
    client = stores.redis
    if client is None:
        return "not configured"
    try:
        client.ping()
        return "ok"
    except Exception:  # a Redis that cannot answer is down, whatever the reason
        return "down"


def _mode() -> dict[str, str]:
    engine = "sqlite" if db.engine.dialect.name == "sqlite" else "postgresql"
    kept = "redis" if stores.redis is not None else "in-process"
    production = engine == "postgresql" and kept == "redis"
    return {"mode": "production" if production else "laptop", "engine": engine, "stores": kept}


@bp.get("/healthz")
def healthz():
    database = "ok" if _database_ok() else "down"
    redis = _redis_state()
    healthy = database == "ok" and redis != "down"
    body = {"status": "ok" if healthy else "down", "database": database, "redis": redis, **_mode()}
    return jsonify(body), 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
