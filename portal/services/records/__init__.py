"""Patient records: patients, assignments, versioned medical records, images, the audit trail and emergency access."""
