"""Joint frequency tables per year: direction sector x speed class x stability class.

``met_classes`` counts the hours of each (year, direction, speed, stability) class, with
the mean of 1/u and of the mixing height in each class, calms kept (spread over the
directions as the STAR program does). ``select_years`` takes the years a run needs from
such a table. See ``docs/meteorology.md`` for the choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from trajectoire._validate import require_subset, require_year, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.meteo.profiles import default_mixing_height, hourly_mixing_height
from trajectoire.meteo.readers import _hour_labels, _refuse_cftime, validate_hourly
from trajectoire.meteo.stability import STABILITY_CLASSES, stability_letters

__all__ = [
    "CALM_THRESHOLD",
    "DEFAULT_SPEED_EDGES",
    "DEFAULT_STACK_SPEED_EDGES",
    "REPORT_RESOLUTIONS",
    "YEAR_COVERAGE",
    "detect_direction_resolution",
    "met_classes",
    "select_years",
]

DEFAULT_SPEED_EDGES: tuple[float, ...] = (0.0, 1.54, 3.09, 5.14, 8.23, 10.8)
"""Lower edges [m s-1] of the six STAR speed classes (1-3, 4-6, 7-10, 11-16, 17-21, >21 kt)."""

DEFAULT_STACK_SPEED_EDGES: tuple[float, ...] = (
    0.0,
    *(round(0.05 + 0.1 * i, 2) for i in range(200)),
    25.0,
)
"""Lower edges [m s-1] of the speed classes of the stacks' table (``stack_frequency`` of
:func:`met_classes`): classes 0.1 m s-1 wide centred on the multiples of 0.1 m s-1 (edges
0.05, 0.15, ..., 19.95), then 19.95–25 m s-1 and above 25 m s-1.

Plume rise goes as 1/u and, near a stack, the ground concentration of an elevated release
goes as ``exp(-H²/2σz²)``: any speed class gives its hours one effective height, and
where σz is small (a few hundred metres from a tall stack) that one height is far from the
mean over the hours of the exponential. Wind speeds are reported to 0.1 m s-1 (Météo-France
``FF``, ISD-Lite) or to 1 kt (SYNOP, METAR, 0.514 m s-1): with these classes each reported
speed has a class of its own, so each group's plume rise is exactly its hours' and the
annual path is the mean of the hourly plumes but for the directions within a sector. A
continuous speed (a reanalysis) lies within 0.05 m s-1 of its class's. Measured
(``benchmarks/bench_wind_sectors.py``, docs/validation.md): with the 0.5 m s-1 classes of
versions before, the annual path of a 100 m stack (4 m, 15 m s-1, 420 K) missed the mean of
the hourly plumes by 11 % (median) at 200 m, and a 220 m stack by 54 %; with these classes
by 0.1 and 0.5 %. The default of ``[meteo] stack_speed_edges``.

.. versionchanged:: 0.2
   0.1 m s-1 classes to 20 m s-1 (were 0.5 m s-1 to 10 m s-1, then 12 and 15).
"""

CALM_THRESHOLD = 0.5
"""Default minimum wind speed [m s-1]; slower hours are calms.

0.5 m s-1 is the WMO calm (less than 1 kt, Beaufort force 0; WMO-No. 182, International
Meteorological Vocabulary) and the default of ``[meteo] calm_threshold``; the same value is
the default of :func:`met_classes` and of the hourly path
(:func:`trajectoire.dispersion.hourly_at_receptors`). ISC3 used 1 m s-1 (the value of
versions before 0.2).
"""


REPORT_RESOLUTIONS: tuple[float, ...] = (10.0, 5.0, 1.0)
"""Reporting resolutions [degree] that ``direction_resolution="auto"`` recognises, coarsest
first (SYNOP and Météo-France report to 10°, some networks to 5° or 1°)."""


def detect_direction_resolution(wind_direction: npt.ArrayLike) -> float:
    """Reporting resolution [degree] of wind directions, 0 when they look continuous.

    The coarsest of :data:`REPORT_RESOLUTIONS` of which every finite direction is a multiple
    (to 1e-6 degree); 0 (exact directions) when none is, or when no direction is finite.

    Parameters
    ----------
    wind_direction : array-like
        Directions [degree], NaN for missing.

    Returns
    -------
    float
        10.0 for SYNOP-like reports, 0.0 for continuous (reanalysis) directions.

    Examples
    --------
    >>> detect_direction_resolution([350.0, 0, 10, 270]), detect_direction_resolution([12.3, 270])
    (10.0, 0.0)
    """
    wd = np.asarray(wind_direction, dtype=float).ravel()
    wd = wd[np.isfinite(wd)]
    if not wd.size:
        return 0.0
    for r in REPORT_RESOLUTIONS:
        q = wd / r
        if np.all(np.abs(q - np.round(q)) * r < 1e-6):
            return float(r)
    return 0.0


def _resolution(wd: np.ndarray, resolution: float | str) -> float:
    """The checked `resolution` [degree] of :func:`met_classes` ("auto": detected)."""
    if isinstance(resolution, str):
        if resolution != "auto":
            raise InputError(
                f"direction_resolution={resolution!r}; expected 'auto' or a width in degrees "
                "(10 for SYNOP / Météo-France reports, 0 for exact directions)."
            )
        return detect_direction_resolution(wd)
    r = float(resolution)
    if not (math.isfinite(r) and 0.0 <= r < 360.0):
        raise InputError(
            f"direction_resolution={resolution!r}; expected 'auto' or a width in [0, 360) "
            "degrees (10 for SYNOP / Météo-France reports, 0 for exact directions)."
        )
    return r


def _sector_shares(
    wd: np.ndarray, n_directions: int, resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sectors and shares of each hour: ``(sector, share)``, both (n_hours, n_pieces).

    An hour reported at ``d`` with resolution ``r`` > 0 stands for a direction uniform on
    ``[d - r/2, d + r/2]``; its share of sector ``k`` (``[(k - 1/2) D, (k + 1/2) D)``,
    ``D = 360 / n_directions``) is the overlap of the two intervals over ``r``. With
    ``r = 0`` each hour lies wholly in the sector of ``d`` (one piece, share 1). Shares of
    an hour sum to 1 (normalised, so rounding never changes a year's total).
    """
    width = 360.0 / n_directions
    # hours without a direction get sector 0 (they are not valid: never counted), so that
    # NaN is never cast to an integer (a RuntimeWarning, and an undefined value)
    wd = np.where(np.isfinite(wd), wd, 0.0)
    if resolution == 0.0:
        d = np.floor(np.mod(wd + 0.5 * width, 360.0) / width)
        return (d.astype(np.int64) % n_directions)[:, None], np.ones((wd.size, 1))
    # in sector units, sector k covers [k, k + 1) of t = (direction + D/2) / D
    lo = (wd - 0.5 * resolution + 0.5 * width) / width
    hi = lo + resolution / width
    k0 = np.floor(lo)
    ks = k0[:, None] + np.arange(int(math.ceil(resolution / width)) + 1)[None, :]
    share = np.clip(np.minimum(hi[:, None], ks + 1.0) - np.maximum(lo[:, None], ks), 0.0, None)
    share /= share.sum(axis=1, keepdims=True)
    return np.mod(ks, n_directions).astype(np.int64), share


def _speed_classes(
    edges: Sequence[float], what: str = "speed_edges"
) -> tuple[np.ndarray, np.ndarray]:
    """Lower edges and centres [m s-1] of the speed classes (the open last class is centred
    half a class width above its edge; a single class has centre 1)."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 1 or e[0] != 0.0 or (np.diff(e) <= 0).any():
        raise InputError(
            f"{what}={e.tolist()}: expected increasing lower edges starting at 0 [m s-1]."
        )
    if e.size == 1:
        return e, np.array([1.0])
    centres = np.empty_like(e)
    centres[:-1] = 0.5 * (e[:-1] + e[1:])
    centres[-1] = e[-1] + 0.5 * (e[-1] - e[-2])
    return e, centres


def _refuse_repeated_times(ds: xr.Dataset, what: str = "meteorology") -> None:
    """One line naming the times `ds` holds on several steps of ``time``: the frequency
    tables would count each as many times (a dataset concatenated with itself, or with a
    period that overlaps, gave 8860 valid hours in a year of 8760)."""
    if "time" not in ds.coords:
        return
    times = pd.Index(ds["time"].values)
    if times.is_unique:
        return
    repeated = times[times.duplicated()].unique()
    shown = (
        _hour_labels(repeated)
        if isinstance(times, pd.DatetimeIndex)
        else [str(t) for t in repeated]
    )
    raise InputError(
        f"{what}: {repeated.size} time(s) on several steps of 'time' ({rows_preview(shown)}): "
        "the frequency tables would count them as many times; expected each hour once. Drop "
        "the repeats (ds.isel(time=~ds.indexes['time'].duplicated())) or concatenate periods "
        "that do not overlap."
    )


def _check_arguments(ds: xr.Dataset, n_directions: int, calm_threshold: float) -> None:
    """The checks of :func:`met_classes` on its dataset and scalar arguments."""
    validate_hourly(ds)
    _refuse_cftime(ds["time"].values, "met_classes: ds['time']")
    _refuse_repeated_times(ds)
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
    valid: np.ndarray  # wind speed, stability and (but for a calm) direction known
    calm: np.ndarray  # valid and u < calm threshold (direction known or not)
    years: np.ndarray  # the calendar years present, sorted
    yi: np.ndarray  # index in `years`
    d: np.ndarray  # direction sectors of each hour (n_hours, n_pieces), 0 centred on north
    share: np.ndarray  # share of the hour in each of those sectors (rows sum to 1)
    s: np.ndarray  # speed class (calms in the lowest)
    j: np.ndarray  # stability class, 0..5 for A..F (0 where unknown)


def _invalid_hours_message(ds: xr.Dataset, hours: _Hours, calm_threshold: float) -> str:
    """The warning about the hours left out of the tables: the file, how many a year (the
    most affected years first), what each lacks, and what to do."""
    bad = ~hours.valid
    u = ds["wind_speed"].values.astype(float)
    with np.errstate(invalid="ignore"):
        no_speed = bad & ~np.isfinite(u)
        no_dir = bad & np.isfinite(u) & (u >= calm_threshold)
        no_dir &= ~np.isfinite(ds["wind_direction"].values.astype(float))
    no_stab = bad & (_stability_letters(ds) == "")
    counts = np.bincount(hours.yi[bad], minlength=hours.years.size)
    total = np.bincount(hours.yi, minlength=hours.years.size)
    order = np.argsort(-counts, kind="stable")
    shown = [f"{hours.years[i]}: {counts[i]} of {total[i]}" for i in order[:5] if counts[i]]
    more = int((counts > 0).sum()) - len(shown)
    lacks = ", ".join(
        f"{n} {what}"
        for n, what in (
            (int(no_speed.sum()), "without a wind speed"),
            (int(no_dir.sum()), "without a wind direction (not calm)"),
            (int(no_stab.sum()), "without a stability class"),
        )
        if n
    )
    source = ds.attrs.get("source_file") or "meteorology"
    return (
        f"{source} ([inputs] meteo): {int(bad.sum())} hour(s) left out of the frequency "
        f"tables ({lacks}): {', '.join(shown)}{f' (and {more} more years)' if more else ''}. "
        "The years' tables are made of their other hours; fill the gaps in the file, or give "
        "a station with fewer (a year under its coverage threshold is an error)."
    )


def _stability_letters(ds: xr.Dataset) -> np.ndarray:
    """The ``stability`` of `ds` as upper-case letters ``A``..``F``, ``""`` where missing.

    Letters in lower case or with blanks (``"d"``, ``" D"``) are read as the class they
    name (:func:`~trajectoire.meteo.stability.stability_index`): they used to be left out,
    every hour with them. InputError for anything else but blanks (missing).
    """
    return stability_letters(ds["stability"].values, "meteorology: stability")


def _classify_hours(
    ds: xr.Dataset, n_directions: int, edges: np.ndarray, calm_threshold: float, resolution: float
) -> _Hours:
    """Year, direction sectors (with shares), speed and stability class of each hour of `ds`.

    An hour is valid with a wind speed, a stability class and a direction; a calm (speed
    below `calm_threshold`) needs no direction, since calms are spread over the directions
    of other hours (:func:`_spread_calms`), never put on their own.
    Raises InputError for stability values other than ``A``..``F`` (any case, blanks
    around) or ``""`` (missing).
    """
    u = ds["wind_speed"].values.astype(float)
    wd = ds["wind_direction"].values.astype(float)
    stab = _stability_letters(ds)
    known = stab != ""
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(u) & (np.isfinite(wd) | (u < calm_threshold)) & known
    j = np.where(known, np.searchsorted(np.array(STABILITY_CLASSES), np.where(known, stab, "A")), 0)
    year_all = pd.DatetimeIndex(ds["time"].values).year.to_numpy()
    years = np.unique(year_all)
    d, share = _sector_shares(wd, n_directions, resolution)
    s = np.searchsorted(edges, np.maximum(u, calm_threshold), side="right") - 1
    return _Hours(
        u=u,
        zi=hourly_mixing_height(ds, j),
        valid=valid,
        calm=valid & (u < calm_threshold),
        years=years,
        yi=np.searchsorted(years, year_all),
        d=d,
        share=share,
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
    height and the sum of those heights [m]; each hour counted with its share of the sector."""
    size = int(np.prod(shape))
    col = (slice(None), None)
    flat = np.ravel_multi_index((h.yi[col], h.d, h.s[col], h.j[col]), shape)
    moving = h.valid & ~h.calm
    with_zi = moving & np.isfinite(h.zi)
    w = h.share[moving]
    wz = h.share[with_zi]
    counts = _bin(flat[moving].ravel(), size, w.ravel()).reshape(shape)
    inv_sum = _bin(flat[moving].ravel(), size, (w / h.u[moving][:, None]).ravel()).reshape(shape)
    zi_n = _bin(flat[with_zi].ravel(), size, wz.ravel()).reshape(shape)
    zi_sum = _bin(flat[with_zi].ravel(), size, (wz * h.zi[with_zi][:, None]).ravel())
    return counts, inv_sum, zi_n, zi_sum.reshape(shape)


def _calm_sums(
    h: _Hours, ny: int, nc: int, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (year, stability): the number of calm hours, of those with a finite mixing
    height, and the sum of those heights [m] (each hour counted with its weight `w`)."""
    cz = h.calm & np.isfinite(h.zi)
    cflat = np.ravel_multi_index((h.yi[h.calm], h.j[h.calm]), (ny, nc))
    czflat = np.ravel_multi_index((h.yi[cz], h.j[cz]), (ny, nc))
    wc, wz = (None, None) if w is None else (w[h.calm], w[cz])
    n_calm = _bin(cflat, ny * nc, wc).reshape(ny, nc)
    calm_zi_n = _bin(czflat, ny * nc, wz).reshape(ny, nc)
    calm_zi_sum = _bin(czflat, ny * nc, h.zi[cz] if wz is None else h.zi[cz] * wz)
    return n_calm, calm_zi_n, calm_zi_sum.reshape(ny, nc)


def _calm_directions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How calms are spread over the directions, per (year, stability): the weights
    (year, stability, direction) and their sums.

    The non-calm hours of the lowest speed class, else those of all speeds, else 1 for
    each direction. With exact directions the counts are whole numbers, so their sums are
    exact in any order.
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
    spread: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Add the calm hours, with u = `calm_threshold`, to the lowest speed class (in place).

    `sums` are the outputs of :func:`_class_sums`, `calms` those of :func:`_calm_sums`.
    Where a (year, stability) has no calm, the shares are 0 and adding them changes no bit
    (the sums are >= +0); so are they where it has no calm with a mixing height.
    `spread` is the :func:`_calm_directions` to use (default: those of `sums`).
    """
    counts, inv_sum, zi_n, zi_sum = sums
    n_calm, calm_zi_n, calm_zi_sum = calms
    dist, total = _calm_directions(counts) if spread is None else spread
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


def _hour_weights(weights: np.ndarray | None, n: int) -> np.ndarray | None:
    """The hourly `weights` of :func:`met_classes` checked: ``(n,)``, finite, >= 0."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not (np.isfinite(w).all() and (w >= 0).all()):
        bad = "wrong shape" if w.shape != (n,) else "a NaN, infinite or negative value"
        raise InputError(
            f"met_classes: weights of shape {w.shape} with {bad}; "
            f"expected one finite weight >= 0 per hour of the meteorology ({n},), such as "
            "trajectoire.inventory.temporal.hourly_factors(sector, times, species=...)."
        )
    return w


def _hours_in_year(years: np.ndarray) -> np.ndarray:
    """Hours [h] of each calendar year (Gregorian leap years have 8784)."""
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    return np.where(leap, 8784.0, 8760.0)


def met_classes(
    ds: xr.Dataset,
    *,
    n_directions: int = 36,
    speed_edges: Sequence[float] = DEFAULT_SPEED_EDGES,
    calm_threshold: float = CALM_THRESHOLD,
    direction_resolution: float | str = "auto",
    weights: np.ndarray | None = None,
    stack_speed_edges: Sequence[float] | None = DEFAULT_STACK_SPEED_EDGES,
) -> xr.Dataset:
    """Joint frequency table per year: direction sector x speed class x stability class.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology with ``wind_speed``, ``wind_direction``, ``stability`` (see
        :func:`add_stability`; class letters ``A``..``F`` in any case, blanks around
        ignored, ``""`` for a missing class) and optionally ``mixing_height``; each hour
        once.
    n_directions : int, default 36
        Number of direction sectors; sector 0 is centred on north (wind *from* the north).
        36 sectors of 10° match SYNOP / Météo-France reports (one report, one sector);
        ``n_directions=16, direction_resolution=0`` is the table of versions before 0.2.

        .. versionchanged:: 0.2
           Default 36 (was 16): 16 sectors of 22.5° over-weight the N/E/S/W sectors of
           10° reports (issue 14).
    speed_edges : sequence of float, default DEFAULT_SPEED_EDGES
        Lower edges of the speed classes [m s-1], starting at 0; the last class is open.
    calm_threshold : float, default 0.5
        Minimum wind speed [m s-1] (:data:`CALM_THRESHOLD`). Slower hours are calms: they
        are kept, with ``u = calm_threshold``, in the lowest speed class.

        .. versionchanged:: 0.2
           Default 0.5 (was 1.0), the default of ``[meteo] calm_threshold``.
    direction_resolution : float or "auto", default "auto"
        Reporting resolution ``r`` of the directions [degree]: an hour reported at ``d``
        stands for a direction uniform on ``[d - r/2, d + r/2]`` and is shared among the
        sectors by overlap. ``"auto"`` detects it (:func:`detect_direction_resolution`: 10
        when all directions are multiples of 10); 0 puts each hour wholly in the sector of
        ``d`` (the behaviour before 0.2).
    weights : numpy.ndarray, optional
        ``(time,)`` weight of each hour of `ds` (>= 0, finite): the hourly factor of an
        emission on its mean rate (:func:`trajectoire.inventory.temporal.hourly_factors`,
        mean 1 over a year). Each hour then counts with its weight in the frequencies (and
        the class means of 1/u and mixing height), normalised per year by the weights of
        the valid hours: the table of a source whose emission follows the profile, so that
        the annual kernel built from it gives the annual mean concentration of that source
        (issue 15: seasonal pesticide spraying). None (default): every hour counts 1, bit
        for bit the unweighted table; all-ones weights give the same table.
    stack_speed_edges : sequence of float or None, default DEFAULT_STACK_SPEED_EDGES
        Lower edges [m s-1] of the speed classes of a second table, for the plume rise of
        the stacks (``stack_frequency``, ``stack_inverse_wind_speed``,
        ``stack_mixing_height`` on dim ``stack_speed``): the same hours, directions,
        calms (spread over the directions of the first table's lowest class) and weights,
        with finer speed classes. The stack paths
        (:func:`trajectoire.dispersion.stack_footprints`,
        :func:`trajectoire.dispersion.point_sources_annual`) use it when present; area
        sources keep the first table. None or empty: no second table (the stacks then use
        the first).

        .. versionadded:: 0.2

    Returns
    -------
    xarray.Dataset
        ``frequency(year, direction, speed, stability)`` (sums to 1 per year over the valid
        hours), ``inverse_wind_speed`` (mean of 1/u [s m-1] in each class, 1/centre where a
        class is empty), ``mixing_height`` (mean [m], ``inf`` = no lid), ``calm_fraction(year)``
        (the calms' share of the valid hours, each hour counted with its weight when
        `weights` are given, so at most 1; 0 for a year without valid hour),
        ``valid_hours(year)``, ``missing_hours(year)`` (hours of the calendar year without
        valid wind or stability; both count hours, never weights); coordinates ``direction`` (sector centres, degree),
        ``speed`` (class centres, m s-1), ``speed_lower``, ``stability``.

    Raises
    ------
    trajectoire.MissingVariableError
        No ``stability`` (call :func:`add_stability` first), no wind or no ``time``.
    trajectoire.InputError
        Values out of range (:func:`validate_hourly`), hours given twice, stability values
        other than class letters, bad `n_directions`, `speed_edges`, `calm_threshold`,
        `direction_resolution` or `weights`.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Hours left out of the tables (no wind speed, no direction but for a calm, or no
        stability class), counted per year.

    Notes
    -----
    With resolution ``r > 0`` the share of sector ``k`` (``[(k - 1/2) D, (k + 1/2) D)``,
    ``D = 360 / n_directions``) of an hour reported at ``d`` is
    ``|[d - r/2, d + r/2] ∩ sector k| / r``; frequencies, the mean of 1/u and the mean
    mixing height count every hour with these shares, so a sector's frequency is
    proportional to its width for a uniform rose whatever ``D`` and ``r``. Calms are
    spread over the directions in proportion to the non-calm hours of the lowest speed class
    with the same stability in the same year (as the STAR program does), falling back on
    all speeds of that stability, then on a uniform spread; a calm's own direction is never
    used, so a calm without a direction (NaN) counts as a calm all the same. Hours with a
    missing wind speed, stability or (but for a calm) direction are left out of the
    frequencies and counted (warning). The mean of 1/u, not 1/mean(u), is kept because
    concentrations scale with 1/u.
    """
    _check_arguments(ds, n_directions, calm_threshold)
    edges, centres = _speed_classes(speed_edges)
    nd = int(n_directions)
    res = _resolution(ds["wind_direction"].values.astype(float), direction_resolution)
    hours = _classify_hours(ds, nd, edges, calm_threshold, res)
    w = _hour_weights(weights, hours.u.shape[0])
    if w is not None:
        hours = hours._replace(share=hours.share * w[:, None])
    n_invalid = int((~hours.valid).sum())
    if n_invalid and weights is None:  # the weighted tables are of the same hours: said once
        warn(_invalid_hours_message(ds, hours, calm_threshold), stacklevel=2)
    ny, nc = hours.years.size, len(STABILITY_CLASSES)
    sums = _class_sums(hours, (ny, nd, edges.size, nc))
    calms = _calm_sums(hours, ny, nc, w)
    spread = _calm_directions(sums[0])
    _spread_calms(sums, calms, calm_threshold, spread)
    valid_hours = _bin(hours.yi[hours.valid], ny)
    weight_sum = valid_hours if w is None else _bin(hours.yi[hours.valid], ny, w[hours.valid])
    freq, inv_u, mix = _class_means(sums, weight_sum, centres, calm_threshold)
    out = _tables_dataset(
        (freq, inv_u, mix), hours.years, (calms[0], weight_sum), valid_hours,
        (nd, edges, centres), ds.attrs, calm_threshold, res,
    )  # fmt: skip
    stack_text = ""
    if stack_speed_edges is not None and len(stack_speed_edges):
        s_edges = _add_stack_speed_tables(
            out, hours, stack_speed_edges, (calms, spread, weight_sum), calm_threshold
        )
        stack_text = f", stack_speed_edges={list(s_edges)}"
    return add_history(
        out,
        f"met_classes(n_directions={nd}, speed_edges={list(edges)}, "
        f"calm_threshold={calm_threshold}, direction_resolution={res}{stack_text})",
    )


def _tables_dataset(
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
    years: np.ndarray,
    calm_parts: tuple[np.ndarray, np.ndarray],
    valid_hours: np.ndarray,
    classes: tuple[int, np.ndarray, np.ndarray],
    met_attrs: Mapping[str, Any],
    calm_threshold: float,
    res: float,
) -> xr.Dataset:
    """The dataset of :func:`met_classes` from its tables (frequency, mean ``1/u`` [s m-1],
    mean mixing height [m]), the calm hours per year and class with the valid hours per
    year, each hour counted with its weight (`calm_parts`: their ratio is ``calm_fraction``),
    the valid hours per year (unweighted), the classes (number of directions, speed class
    edges and centres [m s-1]) and the meteorology's attributes."""
    freq, inv_u, mix = tables
    calm_hours, weight_sum = calm_parts
    nd, edges, centres = classes
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
                calm_hours.sum(axis=1) / np.where(weight_sum > 0, weight_sum, 1.0),
                {"units": "1", "long_name": f"fraction of hours with u < {calm_threshold} m s-1"},
            ),
            "valid_hours": ("year", valid_hours, {"units": "h"}),
            "missing_hours": ("year", _hours_in_year(years) - valid_hours, {"units": "h"}),
        },
        coords={
            "year": years.astype(np.int64),
            "direction": ("direction", np.arange(nd) * (360.0 / nd), {"units": "degree"}),
            "speed": ("speed", centres, {"units": "m s-1"}),
            "speed_lower": ("speed", edges, {"units": "m s-1"}),
            "stability": ("stability", np.array(STABILITY_CLASSES)),
        },
        attrs={
            "calm_threshold": float(calm_threshold),
            "anemometer_height": float(met_attrs.get("anemometer_height", 10.0)),
            "direction_convention": "wind blowing from, sector centres, 0 = north",
            "direction_resolution": res,
        },
    )
    if "roughness_length" in met_attrs:
        out.attrs["roughness_length"] = met_attrs["roughness_length"]
    return out


def _add_stack_speed_tables(
    out: xr.Dataset,
    hours: _Hours,
    stack_speed_edges: Sequence[float],
    calm_parts: tuple[
        tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray
    ],
    calm_threshold: float,
) -> np.ndarray:
    """Add to `out` the ``stack_*`` tables of :func:`met_classes`: the same hours classed by
    the speed classes of the stacks (`stack_speed_edges` [m s-1]), calms spread alike
    (`calm_parts`: the calm sums, their directions and the weight sums per year). Returns
    the edges used."""
    calms, spread, weight_sum = calm_parts
    ny, nd, nc = out.sizes["year"], out.sizes["direction"], out.sizes["stability"]
    s_edges, s_centres = _speed_classes(stack_speed_edges, "stack_speed_edges")
    s_idx = np.searchsorted(s_edges, np.maximum(hours.u, calm_threshold), side="right") - 1
    s_hours = hours._replace(s=np.clip(s_idx, 0, s_edges.size - 1))
    s_sums = _class_sums(s_hours, (ny, nd, s_edges.size, nc))
    _spread_calms(s_sums, calms, calm_threshold, spread)
    s_tabs = _class_means(s_sums, weight_sum, s_centres, calm_threshold)
    s_dims = ("year", "direction", "stack_speed", "stability")
    for name, values in zip(("frequency", "inverse_wind_speed", "mixing_height"), s_tabs,
                            strict=True):  # fmt: skip
        out[f"stack_{name}"] = (s_dims, values, {**out[name].attrs})
    out.coords["stack_speed"] = ("stack_speed", s_centres, {"units": "m s-1"})
    out.coords["stack_speed_lower"] = ("stack_speed", s_edges, {"units": "m s-1"})
    return s_edges


# ------------------------------------------------------------------ years of a run
def _years_text(years: Sequence[int]) -> str:
    """``"2018..2021"`` for consecutive years, else their list (``"none"`` when empty)."""
    if not len(years):
        return "none"
    if len(years) > 1 and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}..{years[-1]}"
    return f"[{rows_preview(years)}]"


YEAR_COVERAGE = 0.9
"""Share of a year's hours with valid wind and stability below which a run's year is warned
about (:func:`select_years` ``min_coverage``): the 90 % completeness a meteorological record
needs for regulatory dispersion modelling (US EPA 2000, *Meteorological Monitoring Guidance
for Regulatory Modeling Applications*, EPA-454/R-99-005, section 5.3.2; there per quarter,
here per year). A file that ends in June gives about 50 %."""


def select_years(
    met: xr.Dataset,
    years: int | str | Sequence[int | str] | np.ndarray,
    *,
    what: str = "meteorology",
    min_coverage: float = 0.0,
) -> xr.Dataset:
    """The frequency tables of the years a run asks for, or an error naming the missing ones.

    Parameters
    ----------
    met : xarray.Dataset
        Tables on a ``year`` dimension (:func:`met_classes`).
    years : int or sequence of int
        Calendar years wanted; an int selects one year and drops the ``year`` dimension.
        A year may be given as text (``"2022"``) or a whole float (``2022.0``).
    what : str, default "meteorology"
        What `met` was read from (the file name), for the error message.
    min_coverage : float, default 0
        Share of a year's hours (8760, 8784 in a leap year) that ``valid_hours`` should
        reach: a year of `years` below it is warned about, one line naming the file, the
        years and their share of hours (a run passes :data:`YEAR_COVERAGE`). 0: no check.

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
        and the fix (add those years to the meteorology or narrow the run's years). A
        value of `years` that is not a whole year (``"2022a"``, ``2022.5``, None).

    Warns
    -----
    trajectoire.TrajectoireWarning
        Years of `years` whose valid hours are fewer than `min_coverage` of the year (a file
        that starts or ends within the year, long gaps): their tables stand for the hours
        present, a season rather than the year.

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
    chosen = _years_asked(years)
    asked = sorted({int(y) for y in np.atleast_1d(np.asarray(chosen))})
    have = sorted(int(y) for y in met["year"].values)
    require_subset(
        asked,
        have,
        lambda missing: (
            f"{what}: no meteorology for years {missing} (it holds {_years_text(have)}); the run "
            f"asks {_years_text(asked)}. Add those years to the meteorology ([inputs] meteo) or "
            "narrow the run's years ([run] first_year/last_year, or --years)."
        ),
    )
    if "valid_hours" in met:  # a year inside the file's span may still hold no valid hour
        hours = met["valid_hours"].sel(year=asked).values
        empty = [y for y, h in zip(asked, np.atleast_1d(hours), strict=True) if not h > 0]
        if empty:
            raise InputError(
                f"{what}: no valid hour in year(s) {_years_text(empty)} (missing from the file, "
                f"or every value of those years invalid), though the file spans "
                f"{_years_text(have)}; the run asks {_years_text(asked)}. Add those years' "
                "hours to the meteorology ([inputs] meteo) or narrow the run's years ([run] "
                "first_year/last_year, or --years)."
            )
        _warn_coverage(met, asked, what, min_coverage)
    return met.sel(year=chosen)


def _years_asked(years: Any) -> int | list[int]:
    """The `years` of :func:`select_years` as integers: one year (int, or text such as
    ``"2022"``) or a list of them; one line naming the value that is not a year."""
    if np.ndim(years) == 0:
        value = np.asarray(years, dtype=object).item()
        return require_year(value.decode() if isinstance(value, bytes) else value, "years")
    values = np.asarray(years, dtype=object).ravel()
    return [require_year(y, f"years[{i}]") for i, y in enumerate(values)]


def _warn_coverage(met: xr.Dataset, asked: list[int], what: str, min_coverage: float) -> None:
    """Warn, in one line, of the years of `asked` whose valid hours are fewer than
    `min_coverage` of their calendar year's."""
    if not min_coverage > 0:
        return
    valid = np.atleast_1d(met["valid_hours"].sel(year=asked).values).astype(float)
    total = _hours_in_year(np.asarray(asked))
    short = [
        f"{y} ({h:.0f} of {t:.0f} hours, {100 * h / t:.1f} %)"
        for y, h, t in zip(asked, valid, total, strict=True)
        if h < min_coverage * t
    ]
    if short:
        warn(
            f"{what}: year(s) {rows_preview(short, 4)} have valid hours for less than "
            f"{100 * min_coverage:g} % of the year: their frequency tables stand for the hours "
            "the meteorology holds (a season, when it starts or ends within the year), not "
            "the whole year. Give the meteorology of the whole year(s) ([inputs] meteo), or "
            "leave them out of the run ([run] first_year/last_year, --years).",
            stacklevel=3,
        )
