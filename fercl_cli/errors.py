"""The one exception type the command line turns into a one-line message."""


class FerclError(Exception):
    """A user-facing error: the message names the file or option at fault and what to do.

    The CLI prints ``error: <message>`` and exits with status 2, without a traceback.
    """
