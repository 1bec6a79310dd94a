"""HTTP routers of intake: thin, they validate input and call the case service."""
