"""The inventory dataset schema: its variables, their attributes, and its assembly.

The canonical inventory is an :class:`xarray.Dataset` (see ``docs/data-model.md``):
``emission(sector, pollutant, y, x)`` [t yr-1 per cell] for area and line sources on the run
grid, and point stacks kept as points on dim ``source`` (``point_emission(source,
pollutant)`` [t yr-1], position, sector and stack parameters). This module is the one
definition of that layout: the names of the point-source variables
(:data:`POINT_VARIABLES`, :data:`STACK_VARIABLES`, :data:`POINT_SOURCE_VARIABLES`), their
attributes, and the assembly of a dataset from its parts (:func:`empty_inventory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from trajectoire._validate import rows_preview
from trajectoire.errors import InputError, warn
from trajectoire.geo.grid import Grid
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import normalise_pollutant

__all__ = [
    "POINT_SOURCE_VARIABLES",
    "POINT_VARIABLES",
    "STACK_RULES",
    "STACK_VARIABLES",
    "check_service_years",
    "check_stacks",
    "empty_inventory",
    "warn_doubtful_heights",
]

#: Point-source variables on dim ``source`` and the input column each one comes from.
POINT_VARIABLES: dict[str, str] = {
    "source_name": "name",
    "source_sector": "sector",
    "stack_height": "height",
    "stack_diameter": "diameter",
    "exit_temperature": "temperature",
    "exit_velocity": "velocity",
    "start_year": "start_year",
    "end_year": "end_year",
}

#: Stack parameters of a point source on dim ``source``: ``stack_height`` [m],
#: ``stack_diameter`` [m] (inner, at the top), ``exit_temperature`` [K] and
#: ``exit_velocity`` [m s-1] of the gas.
STACK_VARIABLES: tuple[str, ...] = (
    "stack_height",
    "stack_diameter",
    "exit_temperature",
    "exit_velocity",
)

#: What each of the :data:`STACK_VARIABLES` must be, as ``(lowest value, whether the lowest
#: value itself is allowed, what is expected)``: a height >= 0 m, an inner diameter > 0 m, an
#: absolute exit temperature >= 223.15 K (-50 degC: lower values are degC given as K) and a
#: velocity >= 0 m s-1. A missing value (NaN) is never valid: no default is filled in.
STACK_RULES: dict[str, tuple[float, bool, str]] = {
    "stack_height": (0.0, True, "a height >= 0 [m] above ground"),
    "stack_diameter": (0.0, False, "an inner diameter > 0 [m] (a diameter of 0 releases no gas)"),
    "exit_temperature": (
        223.15,
        True,
        "an absolute temperature [K] >= 223.15 K (-50 degC); a value in degC must be "
        "converted to K (add 273.15)",
    ),
    "exit_velocity": (0.0, True, "a velocity >= 0 [m s-1]"),
}

#: Point-source variables a plume model needs, on dim ``source``: position ``source_x``,
#: ``source_y`` [m] in the grid CRS, GNFR ``source_sector`` and the :data:`STACK_VARIABLES`.
POINT_SOURCE_VARIABLES: tuple[str, ...] = (
    "source_x",
    "source_y",
    "source_sector",
    *STACK_VARIABLES,
)


def check_stacks(points: xr.Dataset, *, missing: str = "raise", limit: int = 5) -> None:
    """Check the stack parameters of point sources against :data:`STACK_RULES`.

    Parameters
    ----------
    points : xarray.Dataset
        Point sources on dim ``source`` (:func:`trajectoire.inventory.read_point_sources`, or
        an inventory) with the :data:`STACK_VARIABLES`; ``attrs["source_file"]`` names the
        file in messages.
    missing : {"raise", "warn"}, default "raise"
        What to do with a stack parameter that is missing for *every* stack (a column absent
        from the file): raise, or warn that it stays missing (NaN; the stacks can then be
        counted and mapped but not dispersed). A value missing for some stacks only is
        always an error.
    limit : int, default 5
        How many offending stacks a message names before it counts the rest.

    Raises
    ------
    trajectoire.InputError
        One error for all the impossible or missing values: it names the file, each column,
        the source ids with their values (the first `limit`, then a count), what is expected
        and the config key ``[inputs] point_sources`` of the file to fix.

    Warns
    -----
    trajectoire.TrajectoireWarning
        With ``missing="warn"``, the parameters missing for every stack.

    Examples
    --------
    >>> pts = xr.Dataset(
    ...     {"stack_height": ("source", [30.0]), "stack_diameter": ("source", [0.0]),
    ...      "exit_temperature": ("source", [400.0]), "exit_velocity": ("source", [8.0])},
    ...     coords={"source": ["S1"]}, attrs={"source_file": "stacks.csv"})
    >>> check_stacks(pts)
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: stacks.csv: column 'diameter' (stack_diameter): 1 stack(s) \
with an impossible or missing value: source_id S1 = 0; expected an inner diameter > 0 [m] (a \
diameter of 0 releases no gas). No default is filled in: fix the file set by [inputs] \
point_sources.
    """
    if missing not in ("raise", "warn"):
        raise InputError(f"check_stacks: missing must be 'raise' or 'warn', got {missing!r}.")
    n = points.sizes.get("source", 0)
    if n == 0:
        return
    name = str(points.attrs.get("source_file", "point sources"))
    ids = [str(s) for s in points["source"].values]
    problems: list[str] = []
    absent: list[str] = []
    for var, (lowest, closed, expected) in STACK_RULES.items():
        column = f"column {POINT_VARIABLES[var]!r} ({var})"
        v = np.asarray(points[var].values, dtype=float) if var in points else np.full(n, np.nan)
        if np.isnan(v).all():
            absent.append(f"{column} is missing or empty for all {n} stack(s); expected {expected}")
            continue
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(v) & ((v >= lowest) if closed else (v > lowest))
        if ok.all():
            continue
        named = [f"{ids[i]} = {v[i]:g}" for i in np.flatnonzero(~ok)]
        problems.append(
            f"{column}: {len(named)} stack(s) with an impossible or missing value: source_id "
            f"{rows_preview(named, limit)}; expected {expected}"
        )
    if absent and missing == "warn":
        warn(
            f"{name}: " + "; ".join(absent) + ". No default is filled in: they stay missing "
            "(NaN), so these stacks are counted in the inventory but cannot be dispersed; add "
            "the column(s) to the file set by [inputs] point_sources before a run.",
            stacklevel=3,
        )
    elif absent:
        problems.extend(absent)
    if problems:
        raise InputError(
            f"{name}: " + "; ".join(problems) + ". No default is filled in: fix the file set "
            "by [inputs] point_sources."
        )


#: stack heights outside this range are warned about [m]: 0 m releases at the ground (a
#: fugitive source, or a height not filled in); no stack in Europe is above 400 m (cm, feet?)
DOUBTFUL_HEIGHT = (0.0, 400.0)


def warn_doubtful_heights(points: xr.Dataset, *, limit: int = 5) -> None:
    """Warn about stack heights of 0 m or above 400 m: possible, but often a mistake.

    Parameters
    ----------
    points : xarray.Dataset
        Point sources on dim ``source`` with ``stack_height`` [m]; ``attrs["source_file"]``
        names the file in the message.
    limit : int, default 5
        How many stacks the warning names before it counts the rest.

    Warns
    -----
    trajectoire.TrajectoireWarning
        One warning naming the file, the stacks and their heights, the expected range and
        the config key ``[inputs] point_sources``.
    """
    if "stack_height" not in points or not points.sizes.get("source", 0):
        return
    h = np.asarray(points["stack_height"].values, dtype=float)
    low, high = DOUBTFUL_HEIGHT
    with np.errstate(invalid="ignore"):
        doubtful = (h <= low) | (h > high)
    if doubtful.any():
        ids = [str(s) for s in points["source"].values]
        named = [f"{ids[i]} = {h[i]:g}" for i in np.flatnonzero(doubtful)]
        warn(
            f"{points.attrs.get('source_file', 'point sources')}: column 'height': "
            f"{len(named)} stack(s) with a doubtful height [m]: source_id "
            f"{rows_preview(named, limit)}; expected a stack's height above ground, more than "
            f"{low:g} m and at most {high:g} m (0 m releases at the ground; a height above "
            f"{high:g} m may be in cm or feet). Check the file set by [inputs] point_sources.",
            stacklevel=3,
        )


def empty_inventory(
    grid: Grid,
    sectors: Sequence[str] = GNFR,
    pollutants: Sequence[str] = ("NOx",),
    *,
    reference_year: int,
) -> xr.Dataset:
    """An inventory with zero emission and no point source.

    Parameters
    ----------
    grid : Grid
        Run grid.
    sectors : sequence of str, default all GNFR sectors
        Sector ids (aliases accepted).
    pollutants : sequence of str
        Pollutant ids (aliases accepted).
    reference_year : int
        Year the inventory describes.

    Returns
    -------
    xarray.Dataset
        The canonical inventory layout (``docs/data-model.md``).

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    >>> ds = empty_inventory(g, ["F", "C"], ["nox"], reference_year=2019)
    >>> ds["emission"].dims, ds.sector.values.tolist(), ds.sizes["source"]
    (('sector', 'pollutant', 'y', 'x'), ['F_RoadTransport', 'C_OtherStationaryComb'], 0)
    """
    sec = [normalise_sector(s) for s in sectors]
    pol = [normalise_pollutant(p) for p in pollutants]
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    return _assemble(grid, sec, pol, em, _empty_points(pol), reference_year)


def check_service_years(start: Any, end: Any, ids: Sequence[Any], what: str) -> None:
    """Refuse stacks that start after they end.

    Parameters
    ----------
    start, end : array-like of int
        ``start_year`` and ``end_year`` of each stack (-1, or any negative value: unknown,
        in service all along on that side).
    ids : sequence
        The stacks' ids, one per stack, for the message.
    what : str
        The input, first in the message (its file and key, or ``reference inventory``).

    Raises
    ------
    trajectoire.InputError
        A stack whose two years are known and ``start_year > end_year`` (it would be out of
        service every year, its emissions dropped silently): one line naming the stacks
        and their years.
    """
    first, last = np.asarray(start), np.asarray(end)
    reversed_ = np.flatnonzero((first >= 0) & (last >= 0) & (first > last)).tolist()
    if reversed_:
        raise InputError(
            f"{what}, 'start_year' and 'end_year': stack(s) starting after they end: "
            f"{rows_preview([f'{ids[i]} ({first[i]} > {last[i]})' for i in reversed_])}; "
            "expected start_year <= end_year (the years it is in service, both included). "
            "Swap or fix them."
        )


def _empty_points(pollutants: Sequence[str]) -> xr.Dataset:
    """The point-source part of an inventory without any source (variables as read)."""
    nothing = np.array([], dtype=object)
    data: dict[str, Any] = {
        "point_emission": (("source", "pollutant"), np.zeros((0, len(pollutants))))
    }
    for name in POINT_SOURCE_VARIABLES:
        data[name] = ("source", nothing if name == "source_sector" else np.zeros(0))
    for name in ("start_year", "end_year"):
        data[name] = ("source", np.zeros(0, dtype=np.int64))
    data["source_name"] = ("source", nothing)
    return xr.Dataset(data, coords={"source": nothing, "pollutant": list(pollutants)})


#: Attributes of the point-source variables (set by :func:`_assemble`, the one place).
_POINT_ATTRS = {
    "point_emission": {"units": "t yr-1", "long_name": "point-source emission"},
    "source_x": {"units": "m", "long_name": "stack x in the grid CRS"},
    "source_y": {"units": "m", "long_name": "stack y in the grid CRS"},
    "source_sector": {"long_name": "GNFR sector of the stack"},
    "stack_height": {"units": "m", "long_name": "physical stack height"},
    "stack_diameter": {"units": "m", "long_name": "inner stack diameter at the top"},
    "exit_temperature": {"units": "K", "long_name": "gas exit temperature"},
    "exit_velocity": {"units": "m s-1", "long_name": "gas exit velocity"},
    "start_year": {"long_name": "first year of operation (-1 unknown)"},
    "end_year": {"long_name": "last year of operation (-1 unknown)"},
    "source_name": {"long_name": "name of the source"},
}


def _assemble(
    grid: Grid,
    sectors: Sequence[str],
    pollutants: Sequence[str],
    emission: np.ndarray,
    points: xr.Dataset,
    reference_year: int,
) -> xr.Dataset:
    """The inventory dataset from its parts: gridded `emission` and the `points` dataset.

    `emission` is ``(sector, pollutant, y, x)`` [t yr-1 per cell]; the point variables are
    reindexed on `pollutants` (0 for a pollutant a source does not emit) and get their
    attributes here, the one place that sets them.
    """
    coords: dict[str, Any] = {"sector": list(sectors), "pollutant": list(pollutants)}
    coords.update(grid.coords())
    em = xr.DataArray(emission, dims=("sector", "pollutant", "y", "x"), coords=coords)
    em.attrs = {
        "units": "t yr-1",
        "long_name": "emission per grid cell",
        "cell_methods": "year: mean area: sum",  # a rate: the year's mean (CF 7.3)
    }
    pts = points.reindex(pollutant=list(pollutants), fill_value=0.0)
    ds = xr.Dataset({"emission": em})
    for name in pts.data_vars:
        ds[name] = pts[name]
        ds[name].attrs = dict(_POINT_ATTRS.get(str(name), {}))
    ds = ds.assign_coords(source=pts["source"].values.astype(object))
    ds.attrs = {"crs": grid.crs.to_string(), "reference_year": int(reference_year)}
    return ds
