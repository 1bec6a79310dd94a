"""Event handlers of intake: routing's decisions and webhook deliveries move the case on."""
