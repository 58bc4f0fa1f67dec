"""Patient records: profiles, the doctors assigned to them, versioned medical records, images, the audit trail
and emergency access. Every function takes the Actor and asks policy which rows it may see."""
