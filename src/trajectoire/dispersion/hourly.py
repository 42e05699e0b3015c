"""Hourly mode: concentrations of point stacks at receptor points, hour by hour.

The Gaussian plume of each stack (Briggs rise with the hour's wind at the stack top, ground
and lid reflections) summed at every receptor for every hour of a meteorological series.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire._kernels import plume_longterm as _lt
from trajectoire.cf import add_history
from trajectoire.dispersion.plume import (
    _AMBIENT_TEMPERATURE,
    _anemometer_height,
    _finite,
    _kernel_lid,
    _profile_exponents,
    _scalar_non_negative,
    _scheme,
)
from trajectoire.dispersion.points import _stacks
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.meteo.classes import CALM_THRESHOLD
from trajectoire.meteo.profiles import default_mixing_height
from trajectoire.meteo.readers import validate_hourly
from trajectoire.meteo.stability import STABILITY_CLASSES
from trajectoire.units import SECONDS_PER_YEAR

__all__ = ["hourly_at_receptors"]


def _hours(
    met: xr.Dataset, calm_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The hourly series as the kernel takes them, with the hours it cannot use filled.

    Returns ``valid`` (wind and a known class), ``calm`` (valid and below the threshold), the
    wind speed raised to `calm_threshold` [m s-1], the direction [degree], the class index
    (D where unknown), the lid height [m] (class default where missing, ``_NO_LID`` for none)
    and the air temperature [K] (``_AMBIENT_TEMPERATURE`` where missing).
    """
    stab = np.asarray(met["stability"].values).astype(str)
    known = np.isin(stab, STABILITY_CLASSES)
    u = met["wind_speed"].values.astype(float)
    wd = met["wind_direction"].values.astype(float)
    valid = known & np.isfinite(u) & np.isfinite(wd)
    cls = np.where(
        known, np.searchsorted(np.array(STABILITY_CLASSES), np.where(known, stab, "A")), 3
    )
    cls = cls.astype(np.int64)
    calm = valid & (u < calm_threshold)
    uu = np.where(valid, np.maximum(np.nan_to_num(u), calm_threshold), calm_threshold)
    wdd = np.where(valid, np.nan_to_num(wd), 0.0)
    if "mixing_height" in met:
        zi = met["mixing_height"].values.astype(float)
        zi = np.where(np.isfinite(zi), zi, default_mixing_height(np.array(STABILITY_CLASSES)[cls]))
    else:
        zi = default_mixing_height(np.array(STABILITY_CLASSES)[cls])
    zi = _kernel_lid(zi)
    ta = (
        met["temperature"].values.astype(float)
        if "temperature" in met
        else np.full(uu.size, _AMBIENT_TEMPERATURE)
    )
    ta = np.where(np.isfinite(ta), ta, _AMBIENT_TEMPERATURE)
    return valid, calm, uu, wdd, cls, zi, ta


def hourly_at_receptors(
    met: xr.Dataset,
    *,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    stack_height: npt.ArrayLike,
    stack_diameter: npt.ArrayLike,
    exit_temperature: npt.ArrayLike,
    exit_velocity: npt.ArrayLike,
    emission: npt.ArrayLike,
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    receptor_height: float = 1.5,
    sigma: str = "briggs-rural",
    calm_threshold: float = CALM_THRESHOLD,
    decay_rate: float = 0.0,
) -> xr.DataArray:
    """Hourly concentrations of point stacks at receptor points (the hourly mode).

    Parameters
    ----------
    met : xarray.Dataset
        Hourly meteorology with ``wind_speed``, ``wind_direction``, ``stability`` and
        optionally ``temperature`` [K] (else 283.15 K) and ``mixing_height`` [m] (else the
        class default).
    x, y, stack_height, stack_diameter, exit_temperature, exit_velocity : array-like
        Stack parameters, one value per source (see :func:`point_sources_annual`).
    emission : array-like
        Emission of each stack [t yr-1] (taken as constant in time).
    receptors_x, receptors_y : array-like
        Receptor positions [m], one value per receptor.
    receptor_height : float, default 1.5
        [m].
    sigma : str, default "briggs-rural"
        Dispersion-coefficient scheme.
    calm_threshold : float, default 1.0
        Wind speeds below it are raised to it [m s-1] (calms are kept, counted in
        ``attrs["calm_hours"]``).
    decay_rate : float, default 0.0
        First-order loss rate [s-1].

    Returns
    -------
    xarray.DataArray
        ``concentration(time, receptor)`` [ug m-3]; NaN for hours with missing wind or
        stability (counted in ``attrs["missing_hours"]``).
    """
    code = _scheme(sigma)
    validate_hourly(met)
    if "stability" not in met:
        raise MissingVariableError(
            "met: no 'stability' variable; call trajectoire.meteo.add_stability(met) first."
        )
    n, st = _stacks(
        x, y, stack_height, stack_diameter, exit_temperature, exit_velocity, emission=emission
    )
    rx = np.atleast_1d(_finite(receptors_x, "receptors_x")).astype(float).ravel()
    ry = np.atleast_1d(_finite(receptors_y, "receptors_y")).astype(float).ravel()
    if rx.shape != ry.shape:
        raise InputError(f"receptors_x {rx.shape} and receptors_y {ry.shape} differ.")
    if not (np.isfinite(calm_threshold) and calm_threshold > 0):
        raise InputError(f"calm_threshold={calm_threshold!r}; expected > 0 [m s-1].")
    z = _scalar_non_negative(receptor_height, "receptor_height")
    k = _scalar_non_negative(decay_rate, "decay_rate")
    valid, calm, uu, wdd, cls, zi, ta = _hours(met, calm_threshold)
    p = _profile_exponents(code)
    zref = _anemometer_height(met)
    q = st["emission"] * 1e6 / SECONDS_PER_YEAR
    out = np.zeros((uu.size, rx.size))
    _lt.hourly_points(
        uu,
        wdd,
        cls,
        zi,
        ta,
        st["x"],
        st["y"],
        q,
        st["stack_height"],
        st["stack_diameter"],
        st["exit_velocity"],
        st["exit_temperature"],
        p,
        zref,
        rx,
        ry,
        np.full(rx.size, z),
        code,
        k,
        out,
    )
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
            "calm_threshold": float(calm_threshold),
        },
    )
    return add_history(da, f"hourly_at_receptors(n_source={n}, sigma={sigma!r})")
