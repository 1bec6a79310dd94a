"""HTTP routers: thin, the rules live in domain/ and the I/O in adapters/."""
