"""Event handlers of the evidence service: it consumes no event yet (it only publishes ``evidence.stored``)."""
