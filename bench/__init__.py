"""Benchmarks of the complaint platform; each prints its figures as one JSON document."""
