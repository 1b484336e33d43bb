"""Bounces and complaints mailed back: read them (`reports`), apply them (`record`)."""
