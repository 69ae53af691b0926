"""One exception hierarchy for everything a user can get wrong.

Every exception that reports a user's mistake (a bad scenario, world file, sweep file, output
folder, command-line value, or a request beyond the machine's resources) derives from
:class:`UrbsimError`. The command line prints its message as one ``error:`` paragraph and exits
with code 2; the Python API lets it propagate. Any other exception is a bug in urbsim and keeps
its traceback.
"""

from __future__ import annotations


class UrbsimError(Exception):
    """A user's mistake that urbsim detected: the message names the file, field or flag and the
    reason, and nothing was written."""


class InputError(UrbsimError, ValueError):
    """A value passed through the Python API or a flag that is of the wrong type or out of range."""


class ResourceError(UrbsimError):
    """A request that would exceed the machine's memory or the sweep size limits (the message
    gives the estimate, the limit and the flag that overrides it)."""
