"""The extension singletons, created unbound and attached to an app in create_app()."""
from flask import Flask, current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from limits.storage import Storage, storage_from_string
from redis import Redis

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
api = Api()


class KeyValueStores:
    """Redis when REDIS_URL is set; otherwise None, and callers use in-process fallbacks.

    Rate-limit storage follows the same rule so that every app process shares one count.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None
        limit_uri = app.config.get("RATELIMIT_STORAGE_URI") or url or "memory://"
        app.extensions["redis"] = client
        app.extensions["limits_storage"] = storage_from_string(limit_uri)

    @property
    def redis(self) -> Redis | None:
        return current_app.extensions["redis"]

    @property
    def limits_storage(self) -> Storage:
        return current_app.extensions["limits_storage"]


stores = KeyValueStores()
