"""Routing's HTTP API: thin routers over the repositories on ``app.state``."""
