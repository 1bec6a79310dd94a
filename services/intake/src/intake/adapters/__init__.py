"""intake's adapters: the MongoDB case store, PII encryption, HTTP clients of the other services."""
