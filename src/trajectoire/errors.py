"""The exception family of trajectoire.

Every error the library raises on purpose derives from :class:`TrajectoireError`, so a batch
script can catch them all with one clause, while the subclasses also derive from the builtin
exception a generic handler would expect (``ValueError``, ``KeyError``, ``FileNotFoundError``).

Messages follow three parts: what was received, what was expected, and how to fix it
(see ``HOUSE_STYLE.md`` R13).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

__all__ = [
    "ConfigError",
    "GridError",
    "InputError",
    "MissingVariableError",
    "TrajectoireError",
    "TrajectoireWarning",
    "UnitsError",
    "named_by",
    "warn",
]


class TrajectoireError(Exception):
    """Base class of every error raised on purpose by trajectoire."""


class InputError(TrajectoireError, ValueError):
    """Bad input data: a file, a field, a value or an array that is not what was expected."""


class UnitsError(InputError):
    """A ``units`` attribute or column that is missing or not convertible to what is expected."""


class MissingVariableError(InputError, KeyError):
    """A variable, column, layer or dimension that the input should have and does not."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class GridError(InputError):
    """An impossible grid: non-positive resolution, empty bounds, degrees given as metres."""


class ConfigError(TrajectoireError, ValueError):
    """A configuration file or option that is invalid (unknown key, wrong type, missing file)."""


class TrajectoireWarning(UserWarning):
    """Warnings that trajectoire emits about data it corrected or could not use."""


def warn(message: str, category: type[Warning] = TrajectoireWarning, stacklevel: int = 2) -> None:
    """Emit a warning attributed to the caller's caller (skipping this helper).

    Parameters
    ----------
    message : str
        Text of the warning: what was found, what was done about it.
    category : type of Warning, default TrajectoireWarning
        Warning class.
    stacklevel : int, default 2
        Stack level relative to the function that calls :func:`warn`.
    """
    warnings.warn(message, category, stacklevel=stacklevel + 1)


@contextlib.contextmanager
def named_by(config_key: str | None) -> Iterator[None]:
    """Add the configuration key that names an input to the errors raised in the block.

    A :class:`TrajectoireError` whose message does not quote `config_key` is raised again,
    of the same type, with ``" The input is named by <config_key>."`` appended (a reader
    that does not know the key names the file only; the user edits the configuration).
    Other exceptions, and every error when `config_key` is None, pass unchanged.
    """
    try:
        yield
    except TrajectoireError as exc:
        message = str(exc)
        if not config_key or config_key in message:
            raise
        try:
            named = type(exc)(f"{message} The input is named by {config_key}.")
        except TypeError:  # a subclass built from other arguments: as it is
            raise exc from None
        raise named from None
