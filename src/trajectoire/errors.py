"""The exception family of trajectoire.

Every error the library raises on purpose derives from :class:`TrajectoireError`, so a batch
script can catch them all with one clause, while the subclasses also derive from the builtin
exception a generic handler would expect (``ValueError``, ``KeyError``, ``FileNotFoundError``).

Messages follow three parts: what was received, what was expected, and how to fix it
(see ``HOUSE_STYLE.md`` R13).
"""

from __future__ import annotations

import contextlib
import re
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
    "config_option",
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


_INPUT_KEY = re.compile(r"\[(\w+)\] (\w+)")  # [inputs] stations
#: [[inputs.anchors]] #1 (year 2008) area_emissions, the label of an anchor's input
_ITEM_KEY = re.compile(r"\[\[(\w+(?:\.\w+)*)\]\] #(\d+)(?: \(year (\d+)\))? (\w+)")


def config_option(config_key: str | None, option: str, *, default: str | None = None) -> str:
    """The TOML spelling of `option`, a key of the table of the input `config_key` names.

    A reader's messages get the input's configuration key as it names the input as a
    whole (``[inputs] stations``, or an anchor's ``[[inputs.anchors]] #1 (year 2008)
    area_emissions``); a key of its table is written under the table's TOML name, an
    anchor's with the anchor between them (a list of tables shares one table name), so
    that ``<key> = <value>`` after it reads as the TOML line to write.

    Parameters
    ----------
    config_key : str or None
        The input's configuration key (what :func:`trajectoire.io.formats.read_input`
        passes as ``config_key``), or None when the reader is called from Python.
    option : str
        The key in the input's table (``columns.station_id``, ``crs``, ``unmatched``);
        ``""`` for the table itself.
    default : str, optional
        What to say without a configuration key (default: `option`, the reader's
        keyword of that name).

    Returns
    -------
    str
        ``[inputs.stations] columns.station_id``; a key that is not an input's as it is,
        `option` after it.

    Examples
    --------
    >>> config_option("[inputs] stations", "columns.station_id")
    '[inputs.stations] columns.station_id'
    >>> config_option("[inputs.meteo]", "format")
    '[inputs.meteo] format'
    >>> config_option("[[inputs.anchors]] #1 (year 2008) area_emissions", "columns.code")
    '[inputs.anchors.area_emissions] (anchor #1, year 2008) columns.code'
    >>> config_option("[[inputs.anchors]] #2 gridded", "")
    '[inputs.anchors.gridded] (anchor #2)'
    >>> config_option(None, "station"), config_option(None, "crs", default="crs=")
    ('station', 'crs=')
    """
    if not config_key:
        return option if default is None else default
    key = config_key.strip()
    qualifier = ""
    if m := _INPUT_KEY.fullmatch(key):
        table = f"[{m.group(1)}.{m.group(2)}]"
    elif m := _ITEM_KEY.fullmatch(key):
        table = f"[{m.group(1)}.{m.group(4)}]"
        item = m.group(1).rsplit(".", 1)[-1].removesuffix("s")
        year = f", year {m.group(3)}" if m.group(3) else ""
        qualifier = f"({item} #{m.group(2)}{year})"
    else:
        table = key
    return " ".join(part for part in (table, qualifier, option) if part)


@contextlib.contextmanager
def named_by(config_key: str | None) -> Iterator[None]:
    """Add the configuration key that names an input to the errors raised in the block.

    A :class:`TrajectoireError` whose message quotes neither `config_key` nor its table
    (:func:`config_option`) is raised again,
    of the same type, with ``" The input is named by <config_key>."`` appended (a reader
    that does not know the key names the file only; the user edits the configuration).
    Other exceptions, and every error when `config_key` is None, pass unchanged.
    """
    try:
        yield
    except TrajectoireError as exc:
        message = str(exc)
        if not config_key or config_key in message or config_option(config_key, "") in message:
            raise
        try:
            named = type(exc)(f"{message} The input is named by {config_key}.")
        except TypeError:  # a subclass built from other arguments: as it is
            raise exc from None
        raise named from None
