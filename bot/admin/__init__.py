"""Admin features: /reindex and /status."""
