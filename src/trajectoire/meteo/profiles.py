"""Vertical profiles: the stability-dependent wind power law and the mixing heights.

See ``docs/meteorology.md`` for the exponents and the default heights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire.errors import InputError
from trajectoire.meteo.readers import _check_range
from trajectoire.meteo.stability import STABILITY_CLASSES, stability_index

__all__ = [
    "DEFAULT_MIXING_HEIGHT",
    "WIND_PROFILE_EXPONENTS",
    "default_mixing_height",
    "hourly_mixing_height",
    "wind_at_height",
]

WIND_PROFILE_EXPONENTS: dict[str, tuple[float, ...]] = {
    "rural": (0.07, 0.07, 0.10, 0.15, 0.35, 0.55),
    "urban": (0.15, 0.15, 0.20, 0.25, 0.30, 0.30),
}
"""Power-law exponents p of ``u(z) = u_ref (z / z_ref)^p`` for A..F (ISC3 Vol. II, 1.1.5)."""

DEFAULT_MIXING_HEIGHT: dict[str, float] = {
    "A": 1500.0,
    "B": 1200.0,
    "C": 1000.0,
    "D": 800.0,
    "E": math.inf,
    "F": math.inf,
}
"""Mixing heights [m] used when none is observed; E and F have no lid (as in ISCST3)."""

# DEFAULT_MIXING_HEIGHT in the order of STABILITY_CLASSES [m]
_DEFAULT_ZI = np.array([DEFAULT_MIXING_HEIGHT[c] for c in STABILITY_CLASSES])


def wind_at_height(
    u10: npt.ArrayLike,
    z: npt.ArrayLike,
    stability: Any,
    *,
    urban: bool = False,
    reference_height: float = 10.0,
) -> np.ndarray:
    """Wind speed at height `z` by the stability-dependent power law.

    Parameters
    ----------
    u10 : array-like
        Wind speed at the reference height [m s-1], >= 0.
    z : array-like
        Height [m], > 0.
    stability : str or array-like of str
        Pasquill-Gifford class letters.
    urban : bool, default False
        Urban exponents (0.15, 0.15, 0.20, 0.25, 0.30, 0.30) instead of rural
        (0.07, 0.07, 0.10, 0.15, 0.35, 0.55).
    reference_height : float, default 10.0
        Anemometer height [m].

    Returns
    -------
    numpy.ndarray
        ``u10 (z / reference_height)^p`` [m s-1].

    Notes
    -----
    Irwin (1979) exponents as used in ISC3 (EPA-454/B-95-003b, Vol. II, section 1.1.5).
    The dispersion kernels apply it with ``z = max(release height, reference_height)``.

    Examples
    --------
    >>> float(wind_at_height(3.0, 100.0, "D")[()])
    4.237612633868263
    """
    u = np.asarray(u10, dtype=float)
    zz = np.asarray(z, dtype=float)
    _check_range(u, "u10", 0.0, np.inf)
    if (~np.isfinite(zz)).any() or (zz <= 0).any():
        raise InputError(f"z: heights must be finite and > 0 [m], got {zz[zz <= 0][:5]}.")
    p = np.asarray(WIND_PROFILE_EXPONENTS["urban" if urban else "rural"])
    return np.asarray(u * (zz / reference_height) ** p[stability_index(stability)])


def default_mixing_height(stability: Any) -> np.ndarray:
    """Default mixing height [m] of each class letter (``inf`` = no lid for E and F).

    Parameters
    ----------
    stability : str or array-like of str
        Pasquill-Gifford class letters.

    Returns
    -------
    numpy.ndarray
        :data:`DEFAULT_MIXING_HEIGHT` of each letter [m], the shape of `stability`.

    Examples
    --------
    >>> default_mixing_height(["A", "D", "F"]).tolist()
    [1500.0, 800.0, inf]
    """
    return np.asarray(_DEFAULT_ZI[stability_index(stability)])


def hourly_mixing_height(ds: xr.Dataset, class_index: npt.ArrayLike) -> np.ndarray:
    """Mixing height [m] of each hour: observed where finite, else the default of its class.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology (see :func:`trajectoire.meteo.read_hourly`), with or without
        ``mixing_height`` [m].
    class_index : array-like of int
        Stability class of each hour, 0..5 for A..F (as given by
        :func:`trajectoire.meteo.stability_index`); hours without a class take any index.

    Returns
    -------
    numpy.ndarray
        Mixing height [m] on ``time``; ``inf`` (no lid) for E and F without observation
        (:data:`DEFAULT_MIXING_HEIGHT`).

    Examples
    --------
    >>> ds = xr.Dataset({"mixing_height": ("time", [450.0, np.nan])})
    >>> hourly_mixing_height(ds, np.array([3, 0])).tolist()
    [450.0, 1500.0]
    """
    default = _DEFAULT_ZI[np.asarray(class_index)]
    if "mixing_height" not in ds:
        return default
    zi = ds["mixing_height"].values.astype(float)
    return np.asarray(np.where(np.isfinite(zi), zi, default))
