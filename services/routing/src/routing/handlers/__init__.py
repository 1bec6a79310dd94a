"""Routing's event handlers: screening of filings and the SLA clocks (registered in ``subscriptions.py``)."""
