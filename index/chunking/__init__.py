"""Chunking: each section cut into the overlapping windows that are embedded."""
