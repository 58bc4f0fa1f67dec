"""The application factory: config, extensions, blueprints, error handlers, CLI."""
import weakref
from contextlib import suppress

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ProductionConfig, config_for, lead_minutes


class Portal(Flask):
    """Flask that remembers which functions are plain. ensure_sync runs for every hook and view, and in each of
    flask-smorest's wrappers (about twenty times an API request), and asks inspect every time whether the
    function is a coroutine function; for a given function the answer never changes. The plain ones are kept
    weakly, so a function made for one request goes with it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_functions = weakref.WeakSet()

    def ensure_sync(self, func):
        with suppress(TypeError):  # a callable that cannot be kept (unhashable, no weak reference) is asked every time
            if func in self._plain_functions:
                return func
        synced = super().ensure_sync(func)
        if synced is func:
            with suppress(TypeError):
                self._plain_functions.add(func)
        return synced


def create_app(mode: str | None = None, **overrides) -> Flask:
    app = Portal(__name__, instance_relative_config=True)
    config = config_for(mode)
    if config is ProductionConfig:
        config.check()
    app.config.from_object(config)
    app.config.update(overrides)
    if isinstance(app.config["REMINDER_LEAD_MINUTES"], str):  # an override in the environment's notation
        app.config["REMINDER_LEAD_MINUTES"] = lead_minutes(app.config["REMINDER_LEAD_MINUTES"])
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from portal import auth_context, extensions, input_rules, observability, security_headers

    observability.init_app(app)
    input_rules.init_app(app)
    extensions.db.init_app(app)
    from portal.services import read_transactions

    with app.app_context():
        extensions.serialise_sqlite_writers(extensions.db.engine)
        extensions.utc_sessions(extensions.db.engine)
        extensions.generic_plans(extensions.db.engine)
        extensions.cache_long_statements(extensions.db.engine)
        read_transactions.init_app(app, extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(app.root_path + "/../migrations"))
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.stores.init_app(app)
    security_headers.init_app(app)
    auth_context.init_app(app)

    from portal import api, cli, health, web
    from portal.services import change_versions
    from portal.services.jobs import runner

    change_versions.track_writes(extensions.db.session.session_factory.class_)

    runner.init_app(app)

    web.init_app(app)
    api.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    return app
