"""Errors a user can cause, reported by the CLI as one line without a traceback."""


class UserError(Exception):
    """A mistake in what the user asked for: a bad option, a missing or corrupt file.

    The CLI prints ``robonet <command>: error: <message>`` and exits with status 2.
    Library functions raise ``ValueError`` (or a subclass of this) for bad arguments.
    """


class DataError(UserError, ValueError):
    """A file a user gave (a log, a model) is corrupt, truncated, foreign or inconsistent.

    The message names the file at fault and what is wrong with it.
    """
