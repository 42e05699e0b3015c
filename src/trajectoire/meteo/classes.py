"""Joint frequency tables per year: direction sector x speed class x stability class.

``met_classes`` counts the hours of each (year, direction, speed, stability) class, with
the mean of 1/u and of the mixing height in each class, calms kept (spread over the
directions as the STAR program does). ``select_years`` takes the years a run needs from
such a table. See ``docs/meteorology.md`` for the choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import require_subset, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.meteo.profiles import default_mixing_height, hourly_mixing_height
from trajectoire.meteo.readers import validate_hourly
from trajectoire.meteo.stability import STABILITY_CLASSES, _as_letters

__all__ = ["CALM_THRESHOLD", "DEFAULT_SPEED_EDGES", "met_classes", "select_years"]

DEFAULT_SPEED_EDGES: tuple[float, ...] = (0.0, 1.54, 3.09, 5.14, 8.23, 10.8)
"""Lower edges [m s-1] of the six STAR speed classes (1-3, 4-6, 7-10, 11-16, 17-21, >21 kt)."""

CALM_THRESHOLD = 1.0
"""Default minimum wind speed [m s-1]; slower hours are calms (ISC3 uses 1 m s-1)."""


def _speed_classes(edges: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Lower edges and centres [m s-1] of the speed classes (the open last class is centred
    half a class width above its edge; a single class has centre 1)."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 1 or e[0] != 0.0 or (np.diff(e) <= 0).any():
        raise InputError(
            f"speed_edges={list(e)}: expected increasing lower edges starting at 0 [m s-1]."
        )
    if e.size == 1:
        return e, np.array([1.0])
    centres = np.empty_like(e)
    centres[:-1] = 0.5 * (e[:-1] + e[1:])
    centres[-1] = e[-1] + 0.5 * (e[-1] - e[-2])
    return e, centres


def _check_arguments(ds: xr.Dataset, n_directions: int, calm_threshold: float) -> None:
    """The checks of :func:`met_classes` on its dataset and scalar arguments."""
    validate_hourly(ds)
    if "stability" not in ds:
        raise MissingVariableError(
            "meteorology: no 'stability' variable; call trajectoire.meteo.add_stability(ds) first."
        )
    if not (isinstance(n_directions, int | np.integer) and n_directions >= 1):
        raise InputError(f"n_directions={n_directions!r}; expected a positive integer.")
    if not (np.isfinite(calm_threshold) and calm_threshold > 0):
        raise InputError(f"calm_threshold={calm_threshold!r}; expected a speed > 0 [m s-1].")


class _Hours(NamedTuple):
    """The hours of a meteorology dataset, each with its class indices."""

    u: np.ndarray  # wind speed [m s-1]
    zi: np.ndarray  # mixing height [m], the class default where not observed
    valid: np.ndarray  # wind and stability known
    calm: np.ndarray  # valid and u < calm threshold
    years: np.ndarray  # the calendar years present, sorted
    yi: np.ndarray  # index in `years`
    d: np.ndarray  # direction sector, 0 centred on north
    s: np.ndarray  # speed class (calms in the lowest)
    j: np.ndarray  # stability class, 0..5 for A..F (0 where unknown)


def _classify_hours(
    ds: xr.Dataset, n_directions: int, edges: np.ndarray, calm_threshold: float
) -> _Hours:
    """Year, direction sector, speed and stability class of each hour of `ds`.

    Raises InputError for stability values other than ``A``..``F`` or ``""`` (missing).
    """
    u = ds["wind_speed"].values.astype(float)
    wd = ds["wind_direction"].values.astype(float)
    stab = np.asarray(ds["stability"].values).astype(str)
    known = np.isin(stab, STABILITY_CLASSES)
    valid = np.isfinite(u) & np.isfinite(wd) & known
    bad_known = ~known & (stab != "")
    if bad_known.any():
        _as_letters(stab[bad_known], "meteorology: stability")
    j = np.where(known, np.searchsorted(np.array(STABILITY_CLASSES), np.where(known, stab, "A")), 0)
    year_all = pd.DatetimeIndex(ds["time"].values).year.to_numpy()
    years = np.unique(year_all)
    width = 360.0 / n_directions
    # hours without a direction get sector 0 (they are not valid: never counted), so that
    # NaN is never cast to an integer (a RuntimeWarning, and an undefined value)
    d = np.floor(np.mod(np.where(np.isfinite(wd), wd, 0.0) + 0.5 * width, 360.0) / width)
    d = d.astype(np.int64) % n_directions
    s = np.searchsorted(edges, np.maximum(u, calm_threshold), side="right") - 1
    return _Hours(
        u=u,
        zi=hourly_mixing_height(ds, j),
        valid=valid,
        calm=valid & (u < calm_threshold),
        years=years,
        yi=np.searchsorted(years, year_all),
        d=d,
        s=np.clip(s, 0, edges.size - 1),
        j=j,
    )


def _bin(index: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Count (or sum `weights`) per flat class `index`, as float even when nothing is binned."""
    return np.bincount(index, weights, size).astype(float, copy=False)


def _class_sums(
    h: _Hours, shape: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (year, direction, speed, stability) class, over the non-calm valid hours: the
    number of hours, the sum of 1/u [s m-1], the number of hours with a finite mixing
    height and the sum of those heights [m]."""
    size = int(np.prod(shape))
    flat = np.ravel_multi_index((h.yi, h.d, h.s, h.j), shape)
    moving = h.valid & ~h.calm
    with_zi = moving & np.isfinite(h.zi)
    counts = _bin(flat[moving], size).reshape(shape)
    inv_sum = _bin(flat[moving], size, 1.0 / h.u[moving]).reshape(shape)
    zi_n = _bin(flat[with_zi], size).reshape(shape)
    zi_sum = _bin(flat[with_zi], size, h.zi[with_zi]).reshape(shape)
    return counts, inv_sum, zi_n, zi_sum


def _calm_sums(h: _Hours, ny: int, nc: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (year, stability): the number of calm hours, of those with a finite mixing
    height, and the sum of those heights [m]."""
    cz = h.calm & np.isfinite(h.zi)
    cflat = np.ravel_multi_index((h.yi[h.calm], h.j[h.calm]), (ny, nc))
    czflat = np.ravel_multi_index((h.yi[cz], h.j[cz]), (ny, nc))
    n_calm = _bin(cflat, ny * nc).reshape(ny, nc)
    calm_zi_n = _bin(czflat, ny * nc).reshape(ny, nc)
    calm_zi_sum = _bin(czflat, ny * nc, h.zi[cz]).reshape(ny, nc)
    return n_calm, calm_zi_n, calm_zi_sum


def _calm_directions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How calms are spread over the directions, per (year, stability): the weights
    (year, stability, direction) and their sums.

    The non-calm hours of the lowest speed class, else those of all speeds, else 1 for
    each direction. The counts are whole numbers, so their sums are exact in any order.
    """
    lowest = np.moveaxis(counts[:, :, 0, :], 1, -1)
    all_speeds = np.moveaxis(counts.sum(axis=2), 1, -1)
    total = lowest.sum(axis=-1)
    first = total != 0
    dist = np.where(first[..., None], lowest, all_speeds)
    total = np.where(first, total, all_speeds.sum(axis=-1))
    second = total != 0
    dist = np.where(second[..., None], dist, 1.0)
    total = np.where(second, total, float(dist.shape[-1]))
    return dist, total


def _spread_calms(
    sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    calms: tuple[np.ndarray, np.ndarray, np.ndarray],
    calm_threshold: float,
) -> None:
    """Add the calm hours, with u = `calm_threshold`, to the lowest speed class (in place).

    `sums` are the outputs of :func:`_class_sums`, `calms` those of :func:`_calm_sums`.
    Where a (year, stability) has no calm, the shares are 0 and adding them changes no bit
    (the sums are >= +0); so are they where it has no calm with a mixing height.
    """
    counts, inv_sum, zi_n, zi_sum = sums
    n_calm, calm_zi_n, calm_zi_sum = calms
    dist, total = _calm_directions(counts)
    share = np.moveaxis(n_calm[..., None] * dist / total[..., None], -1, 1)  # (year, dir, stab)
    counts[:, :, 0, :] += share
    inv_sum[:, :, 0, :] += share / calm_threshold
    has_zi = (calm_zi_n > 0)[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (calm_zi_n / n_calm)[:, None, :]
        zi_share = share * frac
        zi_part = zi_share * calm_zi_sum[:, None, :] / calm_zi_n[:, None, :]
    zi_n[:, :, 0, :] += np.where(has_zi, zi_share, 0.0)
    zi_sum[:, :, 0, :] += np.where(has_zi, zi_part, 0.0)


def _class_means(
    sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    valid_hours: np.ndarray,
    centres: np.ndarray,
    calm_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, mean 1/u [s m-1] and mean mixing height [m] of each class.

    An empty class has 1/u of its centre speed (at least `calm_threshold`) and the
    default mixing height of its stability class.
    """
    counts, inv_sum, zi_n, zi_sum = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = counts / np.where(valid_hours > 0, valid_hours, 1.0)[:, None, None, None]
        inv_u = np.where(counts > 0, inv_sum / np.where(counts > 0, counts, 1.0), 0.0)
        mix = np.where(zi_n > 0, zi_sum / np.where(zi_n > 0, zi_n, 1.0), np.nan)
    inv_u = np.where(
        counts > 0, inv_u, (1.0 / np.maximum(centres, calm_threshold))[None, None, :, None]
    )
    default_zi = default_mixing_height(STABILITY_CLASSES)
    mix = np.where(np.isnan(mix), default_zi[None, None, None, :], mix)
    return freq, inv_u, mix


def _hours_in_year(years: np.ndarray) -> np.ndarray:
    """Hours [h] of each calendar year (Gregorian leap years have 8784)."""
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    return np.where(leap, 8784.0, 8760.0)


def met_classes(
    ds: xr.Dataset,
    *,
    n_directions: int = 16,
    speed_edges: Sequence[float] = DEFAULT_SPEED_EDGES,
    calm_threshold: float = CALM_THRESHOLD,
) -> xr.Dataset:
    """Joint frequency table per year: direction sector x speed class x stability class.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology with ``wind_speed``, ``wind_direction``, ``stability`` (see
        :func:`add_stability`) and optionally ``mixing_height``.
    n_directions : int, default 16
        Number of direction sectors; sector 0 is centred on north (wind *from* the north).
    speed_edges : sequence of float, default DEFAULT_SPEED_EDGES
        Lower edges of the speed classes [m s-1], starting at 0; the last class is open.
    calm_threshold : float, default 1.0
        Minimum wind speed [m s-1]. Slower hours are calms: they are kept, with
        ``u = calm_threshold``, in the lowest speed class.

    Returns
    -------
    xarray.Dataset
        ``frequency(year, direction, speed, stability)`` (sums to 1 per year over the valid
        hours), ``inverse_wind_speed`` (mean of 1/u [s m-1] in each class, 1/centre where a
        class is empty), ``mixing_height`` (mean [m], ``inf`` = no lid), ``calm_fraction(year)``,
        ``valid_hours(year)``, ``missing_hours(year)`` (hours of the calendar year without
        valid wind or stability); coordinates ``direction`` (sector centres, degree),
        ``speed`` (class centres, m s-1), ``speed_lower``, ``stability``.

    Notes
    -----
    Calms are spread over the directions in proportion to the non-calm hours of the lowest
    speed class with the same stability in the same year (as the STAR program does),
    falling back on all speeds of that stability, then on a uniform spread. Hours with a
    missing wind or stability are left out of the frequencies and counted (warning). The
    mean of 1/u, not 1/mean(u), is kept because concentrations scale with 1/u.
    """
    _check_arguments(ds, n_directions, calm_threshold)
    edges, centres = _speed_classes(speed_edges)
    nd = int(n_directions)
    hours = _classify_hours(ds, nd, edges, calm_threshold)
    n_invalid = int((~hours.valid).sum())
    if n_invalid:
        warn(
            f"meteorology: {n_invalid} hour(s) without valid wind or stability were left out "
            "of the frequency tables (see missing_hours).",
            stacklevel=2,
        )
    ny, nc = hours.years.size, len(STABILITY_CLASSES)
    sums = _class_sums(hours, (ny, nd, edges.size, nc))
    calms = _calm_sums(hours, ny, nc)
    _spread_calms(sums, calms, calm_threshold)
    valid_hours = _bin(hours.yi[hours.valid], ny)
    freq, inv_u, mix = _class_means(sums, valid_hours, centres, calm_threshold)
    dims = ("year", "direction", "speed", "stability")
    out = xr.Dataset(
        {
            "frequency": (dims, freq, {"units": "1", "long_name": "joint frequency of the class"}),
            "inverse_wind_speed": (
                dims,
                inv_u,
                {"units": "s m-1", "long_name": "mean of 1/u (10 m) in the class"},
            ),
            "mixing_height": (dims, mix, {"units": "m", "long_name": "mean mixing height"}),
            "calm_fraction": (
                "year",
                calms[0].sum(axis=1) / np.where(valid_hours > 0, valid_hours, 1.0),
                {"units": "1", "long_name": f"fraction of hours with u < {calm_threshold} m s-1"},
            ),
            "valid_hours": ("year", valid_hours, {"units": "h"}),
            "missing_hours": ("year", _hours_in_year(hours.years) - valid_hours, {"units": "h"}),
        },
        coords={
            "year": hours.years.astype(np.int64),
            "direction": ("direction", np.arange(nd) * (360.0 / nd), {"units": "degree"}),
            "speed": ("speed", centres, {"units": "m s-1"}),
            "speed_lower": ("speed", edges, {"units": "m s-1"}),
            "stability": ("stability", np.array(STABILITY_CLASSES)),
        },
        attrs={
            "calm_threshold": float(calm_threshold),
            "anemometer_height": float(ds.attrs.get("anemometer_height", 10.0)),
            "direction_convention": "wind blowing from, sector centres, 0 = north",
        },
    )
    if "roughness_length" in ds.attrs:
        out.attrs["roughness_length"] = ds.attrs["roughness_length"]
    return add_history(
        out,
        f"met_classes(n_directions={nd}, speed_edges={list(edges)}, "
        f"calm_threshold={calm_threshold})",
    )


# ------------------------------------------------------------------ years of a run
def _years_text(years: Sequence[int]) -> str:
    """``"2018..2021"`` for consecutive years, else their list (``"none"`` when empty)."""
    if not len(years):
        return "none"
    if len(years) > 1 and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}..{years[-1]}"
    return f"[{rows_preview(years)}]"


def select_years(
    met: xr.Dataset, years: int | Sequence[int] | np.ndarray, *, what: str = "meteorology"
) -> xr.Dataset:
    """The frequency tables of the years a run asks for, or an error naming the missing ones.

    Parameters
    ----------
    met : xarray.Dataset
        Tables on a ``year`` dimension (:func:`met_classes`).
    years : int or sequence of int
        Calendar years wanted; an int selects one year and drops the ``year`` dimension.
    what : str, default "meteorology"
        What `met` was read from (the file name), for the error message.

    Returns
    -------
    xarray.Dataset
        ``met.sel(year=years)``, lazy as `met` is (no ``.load()``).

    Raises
    ------
    trajectoire.MissingVariableError
        `met` has no ``year`` coordinate.
    trajectoire.InputError
        Some of `years` are not in `met`: the message names them, the years `met` holds
        and the fix (add those years to the meteorology or narrow [run] first_year/last_year).

    Examples
    --------
    >>> met = xr.Dataset({"valid_hours": ("year", [8760.0, 8784.0])}, coords={"year": [2019, 2020]})
    >>> select_years(met, [2020])["valid_hours"].values.tolist()
    [8784.0]
    """
    if "year" not in met.coords:
        raise MissingVariableError(
            f"{what}: no 'year' coordinate; expected tables from trajectoire.meteo.met_classes."
        )
    asked = sorted({int(y) for y in np.atleast_1d(np.asarray(years))})
    have = sorted(int(y) for y in met["year"].values)
    require_subset(
        asked,
        have,
        lambda missing: (
            f"{what}: no meteorology for years {missing} (it holds {_years_text(have)}); the run "
            f"asks {_years_text(asked)}. Add those years to the meteorology or narrow [run] "
            "first_year/last_year."
        ),
    )
    return met.sel(year=years)
