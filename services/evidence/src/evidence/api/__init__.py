"""The evidence service's HTTP API (internal: called by intake, not exposed to the public)."""
