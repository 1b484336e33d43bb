"""What lets a distribution survive a crashed batch or a database away: the lease its
heartbeat renews, the journal of every message the SMTP server accepted before the results
were recorded, and the patience of a live batch that keeps them while the database is
away."""
