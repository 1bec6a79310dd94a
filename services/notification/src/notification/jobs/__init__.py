"""Background work: the webhook delivery worker, the dispatch job, their claim loop, the dead-letter watch."""
