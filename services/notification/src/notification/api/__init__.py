"""HTTP routers: thin; reads go to the repositories, changes to the use cases of core/ (``api/dependencies.py``)."""
