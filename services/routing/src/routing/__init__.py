"""Routing service: the company directory, screening of submitted complaints, and the SLA clocks with their watchdog."""
