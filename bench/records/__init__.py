"""The records benchmark: a clinic with a long medical history (patients, records, audit trail)."""
