"""Turning text into vectors with a sentence-transformers model."""
