"""Routing service: the company directory, screening of submitted complaints, and response deadlines."""
