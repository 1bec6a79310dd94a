"""Event handlers of the evidence service: ``complaint.submitted`` and ``complaint.supplemented`` attach the files they
list (registered in ``subscriptions.py``)."""
