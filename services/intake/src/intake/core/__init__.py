"""intake's application layer: one use case per thing a complainant, a company or an operator does, each owning
its transaction, its idempotency and the events it stages (built in ``intake.core.events``)."""
