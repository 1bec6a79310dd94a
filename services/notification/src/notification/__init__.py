"""The notification service: delivers accepted complaints to companies as Standard Webhooks and keeps the delivery log."""
