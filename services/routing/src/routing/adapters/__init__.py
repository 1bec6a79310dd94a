"""Routing's adapters: MongoDB repositories and the reference data shipped with the package."""
