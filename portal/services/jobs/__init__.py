"""The durable job queue: the outbox (rows in the change's own transaction) and the runners that drain it."""
