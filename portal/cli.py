"""Command-line tools: flask --app wsgi create-user, seed-demo."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
