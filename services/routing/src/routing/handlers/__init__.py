"""Routing's event handlers."""
