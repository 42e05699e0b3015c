"""Keyword groups that a family of inventory functions shares (PEP 692 ``**options``).

A group is a :class:`typing.TypedDict` written once, with its description: the functions of
the family take it as ``**options: Unpack[Group]``, so mypy checks the keywords a caller
writes against it, and :func:`check_options` checks them when the function runs (a
misspelt keyword is one clear error naming it, as with a named parameter). The defaults and
checks of a group's values are applied in one place, by the module that owns the family
(e.g. ``trajectoire.inventory.gridded._request``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

__all__ = ["ReaderOptions", "check_options"]


class ReaderOptions(TypedDict, total=False):
    """Keywords of a reader of a configuration input: how it names the input in messages.

    Taken by :func:`~trajectoire.inventory.read_cams_reg`,
    :func:`~trajectoire.inventory.read_emep_gridded`,
    :func:`~trajectoire.inventory.read_commune_inventory` and
    :func:`~trajectoire.inventory.read_commune_population`;
    :func:`trajectoire.io.formats.read_input` sets both when it reads an input of the
    configuration.

    Attributes
    ----------
    what : str, optional
        Name of the input in messages (default: the path(s) read).
    config_key : str, optional
        Configuration key naming this input (``"[inputs] gridded"``), quoted in messages
        about an option so that they name the key that fixes it (default: "the reader's
        options").
    """

    what: str | None
    config_key: str | None


def check_options(options: Mapping[str, object], group: type, caller: str) -> None:
    """Raise when `options` holds a keyword that the keyword group `group` does not have.

    Parameters
    ----------
    options : mapping
        The ``**options`` a function received.
    group : type
        Its :class:`typing.TypedDict` (the keys it lists, inherited ones included).
    caller : str
        The function's name, for the message.

    Raises
    ------
    TypeError
        ``"<caller>() got an unexpected keyword argument 'x'; ..."``, as Python says of a
        misspelt named parameter, followed by the keywords of the group.

    Examples
    --------
    >>> check_options({"what": "x.csv"}, ReaderOptions, "read_x")
    >>> check_options({"wat": "x.csv"}, ReaderOptions, "read_x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: read_x() got an unexpected keyword argument 'wat'; ...
    """
    known = list(group.__annotations__)
    unknown = [key for key in options if key not in known]
    if unknown:
        raise TypeError(
            f"{caller}() got an unexpected keyword argument {unknown[0]!r}; it takes the "
            f"parameters of its signature and the keywords {known} of {group.__name__}"
        )
