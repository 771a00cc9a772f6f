"""Retrieval: keyword and meaning search fused, the no-match judge, and the quoted snippets."""
