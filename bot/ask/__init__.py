"""The /ask feature: the cog and the pure rendering of answers into Discord messages."""
