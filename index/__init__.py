"""backissue's index library: parse → chunk → embed → store → retrieve.

Knows nothing of Discord or of the application's settings: every function takes
plain arguments (paths, a model, a store).
"""
