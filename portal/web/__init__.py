"""HTML blueprints (auth, patient, doctor, admin) and the portal's error pages."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
