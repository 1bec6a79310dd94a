"""Routing's use cases behind the HTTP edge (the event-driven ones are its handlers): editing the company directory.
Routers call these and never write the store themselves."""
