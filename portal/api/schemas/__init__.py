"""Marshmallow schemas of the API: bodies, query arguments and answers."""
