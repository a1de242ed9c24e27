"""Exceptions that reach the user as one clear line (the CLI prints ``str(exc)``)."""


class FormcheckError(Exception):
    """Base class: the message is a complete, user-facing sentence."""


class InputError(FormcheckError):
    """The input (file, camera, landmark track, profile) cannot be used."""


class NoPersonError(FormcheckError):
    """No person was found in the input."""
