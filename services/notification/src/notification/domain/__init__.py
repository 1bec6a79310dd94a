"""Delivery rules without I/O: target classification, signing secrets, the retry schedule, delivery records."""
