"""The booking benchmark: a clinic of realistic size against one of 1,000 slots, under gunicorn and wrk."""
