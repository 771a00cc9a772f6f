"""The exit codes of the ``bot`` command (documented in the README): one table, each kind of error in
``index.errors`` with its code, mapped at the command line's edge."""

from __future__ import annotations

from index.errors import BackissueError, Busy, InvalidRequest, Unavailable

EXIT_OK = 0
EXIT_SOME_FAILED = 1  # reindex: some files could not be indexed; the rest were
EXIT_CONFIG = 2  # bad configuration or arguments
EXIT_BUSY = 3  # another process holds the data folder
EXIT_ERROR = 4  # the store or the model could not be used
EXIT_TOKEN = 5  # bot run: Discord rejected the token
EXIT_UNREACHABLE = 6  # bot run: Discord cannot be reached
EXIT_CODES: tuple[tuple[type[BackissueError], int], ...] = (
    (InvalidRequest, EXIT_CONFIG),
    (Busy, EXIT_BUSY),
    (Unavailable, EXIT_ERROR),
)


def exit_code_for(exc: BackissueError) -> int:
    """The exit code for an error that reached the command line: by its kind, else the generic failure."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_ERROR)
