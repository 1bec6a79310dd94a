"""Pure rules of the case file: identity checks, masking, the lifecycle table. No I/O here."""
