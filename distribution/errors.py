"""Errors a user can cause; the CLI prints their message on one line, without a traceback."""


class PressroomError(Exception):
    """Base of every user-facing error; its message is one complete sentence."""


class NotFound(PressroomError):
    """An id or name the user gave does not exist."""


class InvalidInput(PressroomError):
    """Input that cannot be accepted as given."""


class Stopped(PressroomError):
    """Work stopped by something outside Pressroom (a full disk, a database away); the
    message says what is safe and what to run once it is mended."""
