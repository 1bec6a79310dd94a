"""intake: the complaint platform's public gateway and the owner of every complaint's case file."""
