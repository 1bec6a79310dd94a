"""Background work: the periodic clean-up of unattached files and abandoned presigned uploads."""
