"""Announcing each new issue exactly once: state, post rendering, the engine, and the cog that runs it."""
