"""Capacity: the mixed booking workload at rising load, and the gunicorn settings compared under it."""
