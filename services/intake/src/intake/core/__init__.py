"""Use cases of intake: what the API and the web client ask for, between the HTTP edge and the case file."""
