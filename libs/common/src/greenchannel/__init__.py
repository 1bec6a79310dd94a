"""Shared contracts and plumbing of the complaint platform's services (no business rules)."""
