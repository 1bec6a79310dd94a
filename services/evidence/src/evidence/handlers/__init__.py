"""Event handlers of the evidence service: it consumes ``complaint.submitted`` to attach files uploaded before filing."""
