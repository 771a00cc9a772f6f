"""backissue: a Discord bot that answers questions from a newsletter's past issues."""

__version__ = "0.1.0"
