"""Background work: the SLA watchdog and the pruning of old similarity band keys."""
