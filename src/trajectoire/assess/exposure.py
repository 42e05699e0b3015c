"""Population exposure: population-weighted means and people above thresholds.

The exposure of a territory is the population-weighted mean concentration
``X_T = Σ_c P(c) f_T(c) C(c) / Σ_c P(c) f_T(c)`` with ``P`` the inhabitants per cell and
``f_T`` the exact share of the cell inside territory ``T`` (population assumed uniform
within a cell).

Reference values for the threshold counts: WHO global air quality guidelines (2021),
annual means NO2 10, PM10 15, PM2.5 5 ug m-3; EU Directive 2024/2881 limit values applying
from 2030, annual means NO2 20, PM10 20, PM2.5 10 ug m-3.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from trajectoire._validate import require_dims
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.errors import InputError

__all__ = [
    "EU_2030_LIMITS",
    "WHO_2021_GUIDELINES",
    "population_above",
    "population_weighted_mean",
]

WHO_2021_GUIDELINES: dict[str, float] = {"NO2": 10.0, "PM10": 15.0, "PM2.5": 5.0}
EU_2030_LIMITS: dict[str, float] = {"NO2": 20.0, "PM10": 20.0, "PM2.5": 10.0}


def _check_same_grid(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    """Raise unless `a` and `b` have the same ``y`` and ``x`` coordinates."""
    for dim in ("y", "x"):
        if a.sizes[dim] != b.sizes[dim] or not np.allclose(a[dim].values, b[dim].values):
            raise InputError(
                f"{what}: the {dim!r} coordinates differ from the concentration's; put both on "
                "the same Grid (trajectoire.regrid) first."
            )


def population_weighted_mean(
    concentration: xr.DataArray,
    population: xr.DataArray,
    territory_fraction: xr.DataArray,
) -> xr.DataArray:
    """Population-weighted mean concentration per territory.

    Parameters
    ----------
    concentration : xarray.DataArray
        Concentration with dims ``(..., y, x)`` [ug m-3 or cm-3].
    population : xarray.DataArray
        Inhabitants per cell, dims ``(y, x)`` or ``(year, y, x)`` aligned with
        `concentration`.
    territory_fraction : xarray.DataArray
        Share of each cell in each territory, dims ``(territory, y, x)``, in [0, 1].

    Returns
    -------
    xarray.DataArray
        ``exposure`` with dims ``(..., territory)`` and the concentration's units.

    Raises
    ------
    trajectoire.InputError
        Mismatched grids, negative population, or a territory with no inhabitants.
    """
    require_dims(concentration.dims, ("y", "x"), "population_weighted_mean: concentration")
    require_dims(population.dims, ("y", "x"), "population_weighted_mean: population")
    require_dims(territory_fraction.dims, ("territory", "y", "x"), "territory_fraction")
    _check_same_grid(concentration, population, "population")
    _check_same_grid(concentration, territory_fraction, "territory_fraction")
    if float(population.min()) < 0:
        raise InputError("population_weighted_mean: population has negative cells.")
    weights = population * territory_fraction
    denom = weights.sum(("y", "x"))
    if bool((denom <= 0).any()):
        empty = [
            str(t)
            for t in denom["territory"].values[
                (denom <= 0).values.reshape(-1)[: denom.sizes["territory"]]
            ]
        ]
        raise InputError(f"population_weighted_mean: no inhabitants in territory {empty}.")
    num = xr.dot(concentration, weights, dim=["y", "x"])
    out = num / denom
    out = set_cf_attrs(out, "exposure", units=concentration.attrs.get("units", "ug m-3"))
    return add_history(out, "population_weighted_mean()")


def population_above(
    concentration: xr.DataArray,
    population: xr.DataArray,
    thresholds: Mapping[str, float] | float,
    *,
    territory_fraction: xr.DataArray | None = None,
) -> xr.DataArray:
    """Number of inhabitants living where the concentration exceeds a threshold.

    Parameters
    ----------
    concentration : xarray.DataArray
        ``(..., y, x)``; when it has a ``pollutant`` dim, `thresholds` may be a mapping
        pollutant -> threshold (pollutants without a threshold give NaN).
    population : xarray.DataArray
        Inhabitants per cell ``(y, x)``.
    thresholds : float or mapping
        Threshold [concentration units], e.g. :data:`WHO_2021_GUIDELINES`.
    territory_fraction : xarray.DataArray, optional
        ``(territory, y, x)``: count per territory instead of over the whole grid.

    Returns
    -------
    xarray.DataArray
        Inhabitants (float, since cells hold fractional people), dims ``(..., [territory])``.
    """
    _check_same_grid(concentration, population, "population")
    if isinstance(thresholds, Mapping):
        if "pollutant" not in concentration.dims:
            raise InputError("population_above: a threshold mapping needs a 'pollutant' dim.")
        values = [float(thresholds.get(str(p), np.nan)) for p in concentration["pollutant"].values]
        thr = xr.DataArray(
            values, dims="pollutant", coords={"pollutant": concentration["pollutant"]}
        )
    else:
        thr = xr.DataArray(float(thresholds))
    above = (concentration > thr).astype(float).where(thr.notnull())
    weights = population if territory_fraction is None else population * territory_fraction
    out = xr.dot(above, weights, dim=["y", "x"])
    out.attrs = {"units": "1", "long_name": "inhabitants above the threshold"}
    return out
