"""Routing's HTTP API: thin routers over the repositories (reads) and the use cases of core/ (changes), given by
``api/dependencies.py`` from what ``main.build`` put on ``app.state``."""
