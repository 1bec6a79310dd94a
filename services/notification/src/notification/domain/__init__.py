"""Rules without I/O: the company webhook table, complainant message texts, target classification, signing
secrets, the retry schedule, delivery and dispatch records, inbox cursors."""
