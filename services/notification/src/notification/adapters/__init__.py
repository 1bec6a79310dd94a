"""MongoDB repositories, the DNS resolver behind the SSRF guard, and the webhook HTTP client."""
