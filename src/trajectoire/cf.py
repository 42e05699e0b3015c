"""CF metadata: the variable registry, attributes of outputs and the ``history`` line.

The registry ``data/variables.toml`` holds, for each output variable id, its canonical
``units``, ``long_name``, ``standard_name`` (when CF has one) and ``cell_methods``.
"""

from __future__ import annotations

import datetime as _dt
import os
import tomllib
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import xarray as xr

from trajectoire._version import __version__
from trajectoire.errors import ConfigError

__all__ = ["CF_VERSION", "add_history", "set_cf_attrs", "utc_stamp", "variable_metadata"]

CF_VERSION = "CF-1.8"

T = TypeVar("T", xr.DataArray, xr.Dataset)


@cache
def _registry() -> dict[str, dict[str, str]]:
    text = resources.files("trajectoire").joinpath("data/variables.toml").read_text("utf-8")
    return tomllib.loads(text)


def variable_metadata(name: str) -> dict[str, str]:
    """Registered metadata of an output variable (``units``, ``long_name``...).

    Raises
    ------
    KeyError
        If the variable is not in the registry.
    """
    return dict(_registry()[name])


def set_cf_attrs(da: xr.DataArray, name: str, **overrides: Any) -> xr.DataArray:
    """Return `da` named `name` with the registry's attributes (empty ones left out).

    Keyword arguments override registry entries (for example ``units="cm-3"`` for particle
    number concentrations).
    """
    meta = {k: v for k, v in variable_metadata(name).items() if v and k != "description"}
    meta.update({k: v for k, v in overrides.items() if v is not None})
    out = da.rename(name)
    attrs = {**da.attrs, **meta}
    if not {"y", "x"} <= set(da.dims):  # reduced over the cells: no grid to map
        attrs.pop("crs", None)
        attrs.pop("grid_mapping", None)
    named = str(attrs.get("cell_methods", ""))
    if named.startswith("year: ") and "year" not in da.dims and "year" not in da.coords:
        # CF names a dim or coordinate before each method: the year's is said only when
        # the variable has one (a user's population_weighted_mean of one year has none)
        rest = named.split(" ", 2)[2] if named.count(" ") >= 2 else ""
        if rest:
            attrs["cell_methods"] = rest
        else:
            attrs.pop("cell_methods")
    out.attrs = attrs
    return out


def utc_stamp() -> str:
    """The UTC time written in ``history`` lines, ``YYYY-MM-DDThh:mm:ssZ``.

    Now, or the time the ``SOURCE_DATE_EPOCH`` environment variable gives (integer seconds
    since 1970-01-01 UTC, the convention of reproducible builds:
    https://reproducible-builds.org/specs/source-date-epoch/): with it set, two runs of the
    same configuration write the same attributes, so their files can be compared whole.

    Raises
    ------
    trajectoire.ConfigError
        If ``SOURCE_DATE_EPOCH`` is set but is not a non-negative integer (a
        :class:`ValueError` too).
    """
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed is None or not fixed.strip():
        when = _dt.datetime.now(_dt.UTC)
    else:
        try:
            seconds = int(fixed.strip())
            if seconds < 0:
                raise ValueError
            when = _dt.datetime.fromtimestamp(seconds, _dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise ConfigError(
                f"environment variable SOURCE_DATE_EPOCH={fixed!r}: expected whole seconds "
                "since 1970-01-01 UTC (for example 1735689600); unset it to stamp outputs "
                "with the current time."
            ) from None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_history(obj: T, call: str) -> T:
    """Prepend a ``history`` line (UTC time, library version, call) to `obj`'s attributes.

    The time is :func:`utc_stamp`'s (``SOURCE_DATE_EPOCH`` fixes it).
    """
    stamp = utc_stamp()
    line = f"{stamp}: trajectoire {__version__}: {call}"
    old = obj.attrs.get("history")
    obj.attrs["history"] = line if not old else f"{line}\n{old}"
    return obj
