"""Notification's use cases behind the HTTP edge: a company's webhook endpoint, redelivering a webhook, reading a
complainant's message. Routers call these and never write the store themselves."""
