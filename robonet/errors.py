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


class TaskFailed(RuntimeError):
    """A batch of episodes failed every attempt (its worker kept dying, or it kept raising:
    a full disk, say). Not the user's mistake, but reported the same way: one line, exit 2.
    The log keeps every task finished before it."""


def load_failure(exc: BaseException) -> str:
    """Why ``numpy.load(..., allow_pickle=False)`` refused a file, in words for a user.

    NumPy's own message for pickled data suggests loading "unsafely" with allow_pickle; robonet
    never does, so that advice is replaced.
    """
    if isinstance(exc, ValueError) and "pickle" in str(exc):
        return "not a NumPy .npy or .npz file: NumPy could only read it as a pickle, which robonet never loads"
    return f"{type(exc).__name__}: {exc}"
