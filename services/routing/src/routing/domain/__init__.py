"""Routing's business rules, pure: no I/O, no clock, no configuration read from the environment."""
