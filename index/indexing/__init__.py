"""A reindex: plan what changed, read, chunk, embed and store it, with progress and a summary."""
