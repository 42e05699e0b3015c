"""Hourly mode: concentrations of point stacks at receptor points, hour by hour.

The Gaussian plume of each stack (Briggs rise with the hour's wind at the stack top, ground
and lid reflections) summed at every receptor for every hour of a meteorological series.
"""

from __future__ import annotations

from typing import Unpack

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from trajectoire._kernels import plume_longterm as _lt
from trajectoire.cf import add_history
from trajectoire.dispersion.plume import (
    _AMBIENT_TEMPERATURE,
    _anemometer_height,
    _finite,
    _kernel_lid,
    _profile_exponents,
    _require_kelvin,
)
from trajectoire.dispersion.points import (
    STACK_DEFAULTS,
    HourlyStacks,
    StackArrays,
    _keywords,
    _plume_options,
    _stacks,
)
from trajectoire.errors import InputError, MissingVariableError, UnitsError, warn
from trajectoire.meteo.classes import CALM_THRESHOLD, DEFAULT_SPEED_EDGES
from trajectoire.meteo.profiles import default_mixing_height
from trajectoire.meteo.readers import validate_hourly
from trajectoire.meteo.stability import STABILITY_CLASSES, stability_letters
from trajectoire.tables import with_options
from trajectoire.units import SECONDS_PER_YEAR, conversion_factor, unit_kind

__all__ = ["hourly_at_receptors"]


def _hours(
    met: xr.Dataset,
    calm_threshold: float,
    temperature: bool = True,
    calm_without_direction: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The hourly series as the kernel takes them, with the hours it cannot use filled.

    Returns ``valid`` (wind and a known class; with `calm_without_direction`, a calm needs
    no direction: the caller spreads calms over other hours' directions), ``calm`` (valid
    and below the threshold), the
    wind speed raised to `calm_threshold` [m s-1], the direction [degree], the class index
    (D where unknown), the lid height [m] (class default where missing, ``_NO_LID`` for none)
    and the air temperature [K] (``_AMBIENT_TEMPERATURE`` where missing). A usable hour
    (wind and a known class) whose lid or, where the caller uses it (`temperature`), air
    temperature is missing is filled and counted in a warning.
    """
    # "d", " D" are class D, "" / NaN a missing hour; "G" or "DE" one line (they were hours
    # left out without a word, their concentration NaN)
    stab = stability_letters(met["stability"].values, "met: stability")
    known = np.isin(stab, STABILITY_CLASSES)
    u = met["wind_speed"].values.astype(float)
    wd = met["wind_direction"].values.astype(float)
    with np.errstate(invalid="ignore"):
        has_direction = np.isfinite(wd) | (calm_without_direction & (u < calm_threshold))
    valid = known & np.isfinite(u) & has_direction
    cls = np.where(
        known, np.searchsorted(np.array(STABILITY_CLASSES), np.where(known, stab, "A")), 3
    )
    cls = cls.astype(np.int64)
    calm = valid & (u < calm_threshold)
    uu = np.where(valid, np.maximum(np.nan_to_num(u), calm_threshold), calm_threshold)
    wdd = np.where(valid, np.nan_to_num(wd), 0.0)
    if "mixing_height" in met:
        zi = met["mixing_height"].values.astype(float)
        _warn_filled(
            met, "mixing_height", valid & ~np.isfinite(zi), "its stability class's default lid"
        )
        zi = np.where(np.isfinite(zi), zi, default_mixing_height(np.array(STABILITY_CLASSES)[cls]))
    else:
        zi = default_mixing_height(np.array(STABILITY_CLASSES)[cls])
    zi = _kernel_lid(zi)
    ta = (
        met["temperature"].values.astype(float)
        if "temperature" in met
        else np.full(uu.size, _AMBIENT_TEMPERATURE)
    )
    if temperature and "temperature" in met:
        _warn_filled(met, "temperature", valid & ~np.isfinite(ta), f"{_AMBIENT_TEMPERATURE} K")
    ta = np.where(np.isfinite(ta), ta, _AMBIENT_TEMPERATURE)
    return valid, calm, uu, wdd, cls, zi, ta


def _absent_hours(met: xr.Dataset) -> int:
    """Hours between the first and last of `met`'s time axis that it does not hold (0 for
    a time axis that is not of dates, or of fewer than two hours)."""
    if "time" not in met.coords or met.sizes.get("time", 0) < 2:
        return 0
    if not np.issubdtype(met["time"].dtype, np.datetime64):
        return 0
    held = pd.DatetimeIndex(np.asarray(met["time"].values)).floor("h").unique()
    span = int((held.max() - held.min()) / pd.Timedelta(hours=1)) + 1
    return max(span - held.size, 0)


def _warn_filled(met: xr.Dataset, name: str, filled: np.ndarray, value: str) -> None:
    """Warn that the usable hours `filled` of `met` miss `name` and take `value` instead
    (the count, and the first such hour)."""
    if not filled.any():
        return
    first = met["time"].values[int(np.argmax(filled))] if "time" in met.coords else None
    at = f", the first at {str(first)[:16]}" if first is not None else ""
    warn(
        f"met: {int(filled.sum())} of {int(filled.size)} hours with wind and stability have "
        f"no {name}{at}; those hours use {value}.",
        stacklevel=3,
    )


def _hourly_factor(factor: npt.ArrayLike | None, n_time: int, n_source: int) -> np.ndarray | None:
    """The per-hour factors as ``(time, source)``, checked (None: constant emissions)."""
    if factor is None:
        return None
    f = np.asarray(factor, dtype=float)
    if f.ndim == 1:
        f = np.broadcast_to(f[:, None], (f.shape[0], n_source))
    if f.shape != (n_time, n_source):
        raise InputError(
            f"hourly_factor has shape {np.shape(factor)}; expected ({n_time},) for every stack "
            f"or ({n_time}, {n_source}) per stack, one value per hour of met."
        )
    if not (np.isfinite(f).all() and (f >= 0).all()):
        raise InputError("hourly_factor: expected finite values >= 0 (a factor on the mean rate).")
    return f


#: the spellings of degrees Celsius in a ``units`` attribute (folded: lower case, no blanks)
_CELSIUS = {"degc", "°c", "c", "celsius", "deg_c", "degreec", "degree_c", "degrees_c",
            "degree_celsius", "degrees_celsius", "degreescelsius", "degreecelsius"}  # fmt: skip
#: the spellings of radians in a ``units`` attribute (folded)
_RADIANS = {"rad", "radian", "radians"}
#: directions at least this many hours above 0 and all within 0-2 pi are radians
_RADIAN_HOURS = 24
#: a stack farther than this from every receptor is in other coordinates [m]
_FAR_STACK = 500e3


def _folded(units: object) -> str:
    return str(units).strip().lower().replace(" ", "")


def _check_met_units(met: xr.Dataset) -> None:
    """UnitsError for a meteorology Dataset in other units than the kernel takes (K, m s-1,
    degree): a ``units`` attribute in degC, km/h or radians, temperatures below 150 K, or
    directions that are all within 0-2 pi over a day of hours at least (radians). One pass
    over the temperature and the direction."""
    if "temperature" in met:
        units = met["temperature"].attrs.get("units")
        if units is not None and _folded(units) in _CELSIUS:
            raise UnitsError(
                f"met: temperature has units {units!r}; expected kelvin: use "
                "met.assign(temperature=(met.temperature + 273.15).assign_attrs(units='K'))."
            )
        _require_kelvin(met["temperature"].values, "met: temperature")
    units = met["wind_speed"].attrs.get("units")
    if units is not None and unit_kind(units) == "speed":
        factor = conversion_factor(units, "speed", what="met: wind_speed")
        if factor != 1.0:
            raise UnitsError(
                f"met: wind_speed has units {units!r}; expected m s-1: multiply by {factor:.6g} "
                "and set attrs['units'] = 'm s-1'."
            )
    units = met["wind_direction"].attrs.get("units")
    if units is not None and _folded(units) in _RADIANS:
        raise UnitsError(
            f"met: wind_direction has units {units!r}; expected degrees: multiply by 180/pi "
            "(57.3) and set attrs['units'] = 'degree'."
        )
    wd = np.asarray(met["wind_direction"].values, dtype=float)
    above = wd > 0.0
    if int(above.sum()) >= _RADIAN_HOURS and np.nanmax(wd[above]) <= 2 * np.pi:
        raise UnitsError(
            f"met: wind_direction: all {int(above.sum())} directions above 0 lie within 0 and "
            f"{np.nanmax(wd[above]):.3g}, radians; expected degrees (0-360): multiply by "
            "180/pi (57.3)."
        )


def _check_near(sx: np.ndarray, sy: np.ndarray, rx: np.ndarray, ry: np.ndarray) -> None:
    """InputError when a stack lies farther than 500 km from the receptors' bounding box:
    stacks and receptors in different coordinates (lon/lat and metres), all zeros else."""
    if not (sx.size and rx.size):
        return
    dx = np.maximum(np.maximum(rx.min() - sx, sx - rx.max()), 0.0)
    dy = np.maximum(np.maximum(ry.min() - sy, sy - ry.max()), 0.0)
    far = np.hypot(dx, dy) > _FAR_STACK
    if far.any():
        i = int(np.argmax(far))
        raise InputError(
            f"stack {i} at x={sx[i]:.7g}, y={sy[i]:.7g} lies {np.hypot(dx[i], dy[i]) / 1e3:.0f} "
            f"km from the receptors (x {rx.min():.7g} to {rx.max():.7g}, y {ry.min():.7g} to "
            f"{ry.max():.7g}); expected stacks and receptors in the same projected "
            "coordinates [m]: project lon/lat to the receptors' CRS."
        )


CALM_DIRECTIONS = ("spread", "reported")
"""Conventions for the direction of a calm hour in :func:`hourly_at_receptors`."""


def _calm_pieces(
    met: xr.Dataset, valid: np.ndarray, calm: np.ndarray, cls: np.ndarray, wd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hours as pieces ``(hour index, direction [degree], weight)``, calms spread.

    A valid hour that is not calm is one piece of weight 1 on its own direction. A calm hour
    is spread over the directions of the non-calm valid hours of the lowest STAR speed class
    (``u < DEFAULT_SPEED_EDGES[1]``) with the same stability class in the same year, each
    direction (rounded to the degree) weighted by its number of hours; else over those of
    all speeds; else uniformly over 36 directions: the convention by which
    :func:`trajectoire.meteo.met_classes` spreads calms over the sectors (the STAR program's).
    """
    u = met["wind_speed"].values.astype(float)
    year = np.asarray(met["time"].dt.year.values)
    moving = valid & ~calm
    slow = moving & (u < DEFAULT_SPEED_EDGES[1])
    wdeg = np.round(np.nan_to_num(wd)).astype(np.int64) % 360
    idx = [np.flatnonzero(valid & ~calm)]
    dirs = [wd[idx[0]]]
    wts = [np.ones(idx[0].size)]
    for y, c in sorted({(int(a), int(b)) for a, b in zip(year[calm], cls[calm], strict=True)}):
        hours = np.flatnonzero(calm & (year == y) & (cls == c))
        same = (year == y) & (cls == c)
        pool = slow & same if (slow & same).any() else moving & same
        if pool.any():
            d, n = np.unique(wdeg[pool], return_counts=True)
            d, w = d.astype(float), n / n.sum()
        else:
            d, w = np.arange(36) * 10.0, np.full(36, 1.0 / 36)
        idx.append(np.repeat(hours, d.size))
        dirs.append(np.tile(d, hours.size))
        wts.append(np.tile(w, hours.size))
    return np.concatenate(idx), np.concatenate(dirs), np.concatenate(wts)


def _factor_groups(f: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(series, members)`` for each distinct column of `f` (sources sharing a series)."""
    cols, inverse = np.unique(f, axis=1, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    return [(cols[:, g], inverse == g) for g in range(cols.shape[1])]


@with_options(HourlyStacks, STACK_DEFAULTS, required=list(StackArrays.__annotations__))
def hourly_at_receptors(
    met: xr.Dataset,
    *,
    emission: npt.ArrayLike,
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    calm_threshold: float = CALM_THRESHOLD,
    hourly_factor: npt.ArrayLike | None = None,
    calm_directions: str = "spread",
    **stacks: Unpack[HourlyStacks],
) -> xr.DataArray:
    """Hourly concentrations of point stacks at receptor points (the hourly mode).

    Parameters
    ----------
    met : xarray.Dataset
        Hourly meteorology with ``wind_speed``, ``wind_direction``, ``stability`` and
        optionally ``temperature`` [K] (else 283.15 K) and ``mixing_height`` [m] (else the
        class default).
    emission : array-like
        Emission of each stack [t yr-1] (taken as constant in time).
    receptors_x, receptors_y : array-like
        Receptor positions [m], one value per receptor.
    calm_threshold : float, default 0.5
        Wind speeds below it are raised to it [m s-1] (calms are kept, counted in
        ``attrs["calm_hours"]``).
    calm_directions : {"spread", "reported"}, default "spread"
        Direction of a calm hour: ``"spread"`` averages its plume over the directions of
        the slowest non-calm hours of the same stability class and year (the convention of
        :func:`trajectoire.meteo.met_classes`, so that the annual and hourly paths treat
        calms alike; a calm's reported direction is often a code, 0 in SYNOP and ISD, and a
        calm without a direction is a calm all the same); ``"reported"`` keeps it on its
        reported direction (the behaviour before 0.2), so that a calm without a direction
        is a missing hour (NaN) there.

        .. versionchanged:: 0.2
           Default ``"spread"`` (was the reported direction), issue 14.
    hourly_factor : array-like, optional
        Factor [1] on each stack's mean emission rate for each hour of `met`: shape
        ``(time,)`` (every stack) or ``(time, source)``, finite and >= 0, usually
        :func:`trajectoire.inventory.temporal.hourly_factors` of the stack's sector (mean 1
        over a year, so the annual total is kept). None (default): constant emissions.
    **stacks
        The stacks (``x``, ``y``, ``stack_height``, ``stack_diameter``,
        ``exit_temperature``, ``exit_velocity``) and ``receptor_height``, ``sigma``,
        ``decay_rate``: see :class:`~trajectoire.dispersion.points.HourlyStacks`.

    Returns
    -------
    xarray.DataArray
        ``concentration(time, receptor)`` [ug m-3]; NaN for hours with missing wind or
        stability (counted in ``attrs["missing_hours"]``). Hours absent from `met`'s time
        axis between its first and last hour (a series with gaps, which
        :func:`trajectoire.meteo.read_hourly` fills and counts) are counted in
        ``attrs["absent_hours"]``: a mean over the result is a mean over the hours given.

    Raises
    ------
    trajectoire.MissingVariableError
        A variable of `met` is missing (``stability``: call
        :func:`trajectoire.meteo.add_stability` first).
    trajectoire.UnitsError
        `met` is in other units than K, m s-1 and degree: a ``units`` attribute in degC,
        km/h or radians, temperatures below 150 K (degrees Celsius), or directions all
        within 0-2 pi over 24 hours or more (radians); one line with the conversion.
    trajectoire.InputError
        A stack lies more than 500 km from the receptors (lon/lat against metres), or an
        argument is out of range (one line naming it).
    """
    kw = _keywords("hourly_at_receptors", stacks, HourlyStacks)
    code, z, k = _plume_options(kw)
    validate_hourly(met)
    if "stability" not in met:
        raise MissingVariableError(
            "met: no 'stability' variable; call trajectoire.meteo.add_stability(met) first."
        )
    _check_met_units(met)
    n, st = _stacks(**{name: kw[name] for name in StackArrays.__required_keys__}, emission=emission)
    rx = np.atleast_1d(_finite(receptors_x, "receptors_x")).astype(float).ravel()
    ry = np.atleast_1d(_finite(receptors_y, "receptors_y")).astype(float).ravel()
    if rx.shape != ry.shape:
        raise InputError(f"receptors_x {rx.shape} and receptors_y {ry.shape} differ.")
    _check_near(st["x"], st["y"], rx, ry)
    if not (np.isfinite(calm_threshold) and calm_threshold > 0):
        raise InputError(f"calm_threshold={calm_threshold!r}; expected > 0 [m s-1].")
    if calm_directions not in CALM_DIRECTIONS:
        raise InputError(
            f"calm_directions={calm_directions!r}; expected one of {list(CALM_DIRECTIONS)}."
        )
    spread_calms = calm_directions == "spread"
    valid, calm, uu, wdd, cls, zi, ta = _hours(
        met, calm_threshold, calm_without_direction=spread_calms
    )
    if spread_calms and calm.any():
        pieces, wd_p, w_p = _calm_pieces(met, valid, calm, cls, wdd)
    else:
        pieces, wd_p, w_p = np.arange(uu.size), wdd, None
    p = _profile_exponents(code)
    zref = _anemometer_height(met)
    q = st["emission"] * 1e6 / SECONDS_PER_YEAR
    factor = _hourly_factor(hourly_factor, uu.size, n)
    out = np.zeros((pieces.size, rx.size))
    # one kernel call per distinct factor series (sources of one sector share theirs); the
    # concentration of an hour is linear in the emission rate, so the factor scales it
    groups = [(None, np.ones(n, dtype=bool))] if factor is None else _factor_groups(factor)
    for series, members in groups:
        part = out if series is None else np.zeros_like(out)
        _lt.hourly_points(
            np.ascontiguousarray(uu[pieces]),
            np.ascontiguousarray(wd_p),
            np.ascontiguousarray(cls[pieces]),
            np.ascontiguousarray(zi[pieces]),
            np.ascontiguousarray(ta[pieces]),
            st["x"][members],
            st["y"][members],
            q[members],
            st["stack_height"][members],
            st["stack_diameter"][members],
            st["exit_velocity"][members],
            st["exit_temperature"][members],
            p,
            zref,
            rx,
            ry,
            np.full(rx.size, z),
            code,
            k,
            part,
        )
        if series is not None:
            out += part * series[pieces, None]
    if w_p is not None:
        spread = np.zeros((uu.size, rx.size))
        np.add.at(spread, pieces, out * w_p[:, None])
        out = spread
    out *= 1e6
    out[~valid] = np.nan
    da = xr.DataArray(
        out,
        dims=("time", "receptor"),
        coords={"time": met["time"].values, "receptor": np.arange(rx.size)},
        name="concentration",
        attrs={
            "units": "ug m-3",
            "long_name": "hourly concentration from point sources",
            "calm_hours": int(calm.sum()),
            "missing_hours": int((~valid).sum()),
            "absent_hours": _absent_hours(met),
            "calm_threshold": float(calm_threshold),
            "calm_directions": calm_directions,
        },
    )
    return add_history(da, f"hourly_at_receptors(n_source={n}, sigma={kw['sigma']!r})")
