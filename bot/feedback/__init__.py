"""A record of the questions readers asked and what they were offered (issue 14): pure modules, no cog yet."""
