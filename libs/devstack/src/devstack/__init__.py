"""Development and test stand-ins for the complaint platform (never installed in production images)."""
