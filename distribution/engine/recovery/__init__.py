"""What lets a distribution survive a crashed batch: the lease its heartbeat renews, and
the journal of every message the SMTP server accepted before the results were recorded."""
