"""Background jobs (the lead's outbox replaces this stand-in on main)."""
