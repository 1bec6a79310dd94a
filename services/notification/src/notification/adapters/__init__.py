"""MongoDB repositories, the DNS resolver behind the SSRF guard, the webhook HTTP client, intake's contact
lookup, the SMTP mailer and the SMS provider."""
