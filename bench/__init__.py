"""Benchmarks of the complaint platform; each prints its figures as one JSON document.

They run the services with the published development tokens and keys, so in development mode, set here
before any benchmark reads its settings.
"""

import os

os.environ["GREENCHANNEL_ENV"] = "development"
