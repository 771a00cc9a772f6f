"""Every error backissue raises on purpose, in one hierarchy. Light: importing it loads nothing else.

Each message is for the person running the bot and names the file, the setting or the argument at
fault. The application maps the four kinds to its exit codes at its edge (``bot.cli``); a bad issue
never reaches it: it fails alone and is listed in the reindex summary.
"""

from __future__ import annotations


class BackissueError(Exception):
    """Base of the errors backissue raises on purpose."""


class InvalidRequest(BackissueError):
    """What was configured or asked for is unusable: a setting, an argument, a source name, a date range."""


class Busy(BackissueError):
    """Another process holds what is needed (the data folder, the writer's lease)."""


class Unavailable(BackissueError):
    """The store or the model cannot be used."""


class BadIssue(BackissueError):
    """One issue cannot be read; it fails (or is held back) alone and is named in the reindex summary."""


class Stopped(BackissueError):
    """The process is shutting down and the work stopped between two steps."""
