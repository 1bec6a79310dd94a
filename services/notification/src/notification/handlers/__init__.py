"""Event handlers: each applies its effect once per event id, in the inbox's transaction (registered in
``subscriptions.py``)."""
