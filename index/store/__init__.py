"""Where the index lives: the catalog (SQLite), the vectors (Chroma), their migrations and locks, and server mode."""
