"""Vertical profiles: the stability-dependent wind power law and the mixing heights.

See ``docs/meteorology.md`` for the exponents and the default heights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning, warn
from trajectoire.meteo.readers import _check_range
from trajectoire.meteo.stability import STABILITY_CLASSES, stability_index

__all__ = [
    "DEFAULT_MIXING_HEIGHT",
    "MECHANICAL_MIXING_COEFFICIENT",
    "MIXING_HEIGHT_SCHEMES",
    "WIND_PROFILE_EXPONENTS",
    "add_mixing_height",
    "default_mixing_height",
    "hourly_mixing_height",
    "mechanical_mixing_height",
    "mixing_height_scheme",
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
"""Mixing heights [m] used when none is observed; E and F have no lid (as in ISCST3).

E and F: ISC3's rule, "unlimited vertical mixing under stable conditions"
(EPA-454/B-95-003b, Vol. II, 1.1.6). A 1500, B 1200, C 1000 m: round afternoon convective
heights inside the "order of 1-2 km" of the AMS Glossary of Meteorology (entry "mixed-layer
evolution"); VDI 3782 Part 3 / AUSTAL2000 (TA Luft 2002) use 1100 m for the Klug/Manier
classes V and IV and 800 m for III/2, a change measured at +1.6 % at most on the sample's
annual kernel at 20 km (docs/meteorology.md). D 800 m: AUSTAL2000's neutral default.
``[meteo] mixing_height`` (:func:`mixing_height_scheme`) chooses data, these defaults or
the mechanical scheme."""

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


MECHANICAL_MIXING_COEFFICIENT = 2300.0
"""``c`` [m (m s-1)^-3/2] of the mechanical mixing height ``h = c u*^3/2``: AERMET's value
(Cimorelli et al. 2005, eq. 24; US EPA 2004, EPA-454/R-03-004 eq. 24) of Venkatram's (1980)
stable boundary-layer relation (2400 in the original)."""

_KARMAN = 0.4


def mechanical_mixing_height(
    u10: npt.ArrayLike, roughness_length: float, *, reference_height: float = 10.0
) -> np.ndarray:
    """Mechanically driven mixing height [m], ``h = 2300 u*^3/2`` (Venkatram 1980).

    Parameters
    ----------
    u10 : array-like
        Wind speed at the reference height [m s-1], > 0 (raise calms to the calm threshold
        first).
    roughness_length : float
        Surface roughness length z0 [m], > 0 and below `reference_height`.
    reference_height : float, default 10.0
        Anemometer height [m].

    Returns
    -------
    numpy.ndarray
        ``MECHANICAL_MIXING_COEFFICIENT * u*^1.5`` [m] with the neutral friction velocity
        ``u* = 0.4 u10 / ln(reference_height / z0)`` [m s-1].

    Notes
    -----
    Venkatram (1980) relates the depth of the stable (night-time) boundary layer to the
    friction velocity, ``h = 2400 u*^3/2``; AERMET, AERMOD's preprocessor, uses it with the
    coefficient 2300 as the mechanical mixing height of every hour and, in stable hours, as
    the mixing height itself (Cimorelli et al. 2005). The neutral log law is used for u*
    (no stability correction, which would lower u* and h in stable hours): a simple
    estimate for data without a boundary-layer height, not a substitute for ERA5's ``blh``.

    References
    ----------
    Venkatram, A. (1980). Estimating the Monin-Obukhov length in the stable boundary layer
    for dispersion calculations. *Boundary-Layer Meteorol.* 19, 481-485.
    Cimorelli, A. J. et al. (2005). AERMOD: a dispersion model for industrial source
    applications. Part I. *J. Appl. Meteor.* 44, 682-693.

    Examples
    --------
    >>> round(float(mechanical_mixing_height(4.0, 0.5)[()]), 1)
    897.7
    """
    u = np.asarray(u10, dtype=float)
    _check_range(u, "u10", 1e-9, np.inf)
    z0 = float(roughness_length)
    zr = float(reference_height)
    if not (np.isfinite(z0) and 0 < z0 < zr):
        raise InputError(
            f"roughness_length={roughness_length!r}; expected 0 < z0 < reference_height "
            f"({zr} m) [m]."
        )
    ustar = _KARMAN * u / math.log(zr / z0)
    return np.asarray(MECHANICAL_MIXING_COEFFICIENT * ustar**1.5)


def add_mixing_height(
    ds: xr.Dataset,
    *,
    roughness_length: float | None = None,
    classes: Any = ("D", "E", "F"),
    calm_threshold: float = 0.5,
) -> xr.Dataset:
    """Fill the missing hourly mixing heights of some classes by the mechanical scheme.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology with ``wind_speed`` and ``stability`` (:func:`add_stability`),
        with or without ``mixing_height``.
    roughness_length : float, optional
        z0 [m]; default ``ds.attrs["roughness_length"]``.
    classes : sequence of str, default ("D", "E", "F")
        Stability classes whose hours without a finite ``mixing_height`` get
        :func:`mechanical_mixing_height`; the other hours keep their value (or, later, the
        class default of :data:`DEFAULT_MIXING_HEIGHT`).
    calm_threshold : float, default 0.5
        Wind speeds below it are raised to it [m s-1] (as the kernels do).

    Returns
    -------
    xarray.Dataset
        A copy with ``mixing_height`` [m]: the data's values where finite, the mechanical
        height for the hours of `classes` without one, NaN elsewhere (class default).

    Raises
    ------
    trajectoire.MissingVariableError
        No ``stability`` or no roughness length.

    Notes
    -----
    Not applied by default (``[meteo] mixing_height = "mechanical"`` applies the scheme to
    every D-F hour of a run, :func:`mixing_height_scheme`): without it the hours without
    data take the class defaults
    (A 1500, B 1200, C 1000, D 800 m, E and F no lid). With it, neutral and stable hours get
    ``2300 u*^3/2`` (a few hundred metres at night), which confines stable plumes (higher
    concentrations far from ground-level sources). Convective classes keep the defaults: a
    convective height needs the surface heat flux integrated over the morning (Batchvarova
    and Gryning 1991), which the cloud-cover stability method does not provide.

    Examples
    --------
    >>> ds = xr.Dataset({"wind_speed": ("time", [4.0, 4.0]),
    ...                  "stability": ("time", ["B", "F"])}, attrs={"roughness_length": 0.5})
    >>> add_mixing_height(ds)["mixing_height"].values.round(1).tolist()
    [nan, 897.7]
    """
    if "stability" not in ds:
        raise MissingVariableError(
            "meteorology: no 'stability' variable; call trajectoire.meteo.add_stability first."
        )
    z0 = roughness_length if roughness_length is not None else ds.attrs.get("roughness_length")
    if z0 is None:
        raise MissingVariableError(
            "meteorology: no roughness length; pass roughness_length= or set "
            "ds.attrs['roughness_length'] ([meteo] roughness_length)."
        )
    u = np.maximum(np.nan_to_num(ds["wind_speed"].values.astype(float)), float(calm_threshold))
    zref = float(ds.attrs.get("anemometer_height", 10.0))
    mech = mechanical_mixing_height(u, float(z0), reference_height=zref)
    stab = np.asarray(ds["stability"].values).astype(str)
    chosen = np.isin(stab, np.asarray(classes, dtype=str))
    have = (
        ds["mixing_height"].values.astype(float)
        if "mixing_height" in ds
        else np.full(u.size, np.nan)
    )
    zi = np.where(np.isfinite(have), have, np.where(chosen, mech, np.nan))
    out = ds.copy()
    out["mixing_height"] = (ds["wind_speed"].dims, zi, {"units": "m"})
    out["mixing_height"].attrs["comment"] = (
        "data where finite; else 2300 u*^1.5 (Venkatram 1980, AERMET) for classes "
        f"{list(np.asarray(classes, dtype=str))}; NaN: class default"
    )
    return out


MIXING_HEIGHT_SCHEMES: tuple[str, ...] = ("auto", "data", "classes", "mechanical")
"""The values of ``[meteo] mixing_height`` (:func:`mixing_height_scheme`)."""


def mixing_height_scheme(
    ds: xr.Dataset,
    scheme: str = "auto",
    *,
    calm_threshold: float = 0.5,
    what: str = "meteorology",
) -> xr.Dataset:
    """The hourly mixing heights a run uses, by the scheme of ``[meteo] mixing_height``.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology with ``wind_speed`` and ``stability`` (:func:`add_stability`),
        with or without ``mixing_height`` [m] (a CSV column, or ERA5's ``blh``).
    scheme : {"auto", "data", "classes", "mechanical"}, default "auto"
        * ``"auto"``: the data's mixing height where finite, else the class default of
          :data:`DEFAULT_MIXING_HEIGHT` (`ds` unchanged; the behaviour before the key).
        * ``"data"``: the same, but the data must have a mixing height: an error if `ds`
          has none, a warning with the number of hours that take the class default
          because their value is missing.
        * ``"classes"``: the class defaults for every hour; the data's heights are ignored.
        * ``"mechanical"``: :func:`mechanical_mixing_height` (Venkatram 1980,
          ``2300 u*^3/2``) for the D, E and F hours, the class defaults for A, B and C;
          the data's heights are ignored (:func:`add_mixing_height` on `ds` without them).
    calm_threshold : float, default 0.5
        Wind speeds below it are raised to it for the mechanical scheme [m s-1].
    what : str, default "meteorology"
        The file the hours come from, for the messages.

    Returns
    -------
    xarray.Dataset
        `ds` with the hourly ``mixing_height`` [m] of the scheme (NaN: class default, as
        :func:`hourly_mixing_height` reads it), its ``comment`` naming the scheme; no
        ``mixing_height`` for ``"classes"``.

    Raises
    ------
    trajectoire.InputError
        An unknown `scheme`, or ``"data"`` with no mixing height in `ds`.

    Notes
    -----
    The class defaults are ISC3's "no lid" for E and F and round values for A-D
    (``docs/meteorology.md``). ``"data"`` is for a user who counts on a boundary-layer height
    (ERA5 ``blh``): a file without one stops the run instead of silently using the
    defaults. ``"mechanical"`` gives the neutral and stable hours a lid from the wind
    alone, reproducible from any station file, AERMET's mechanical height (Cimorelli et
    al. 2005); the convective hours keep the defaults (no heat-flux integration).

    Examples
    --------
    >>> ds = xr.Dataset({"wind_speed": ("time", [4.0, 4.0]), "stability": ("time", ["B", "F"]),
    ...                  "mixing_height": ("time", [900.0, 300.0])},
    ...                 attrs={"roughness_length": 0.5})
    >>> mixing_height_scheme(ds, "mechanical")["mixing_height"].values.round(1).tolist()
    [nan, 897.7]
    >>> "mixing_height" in mixing_height_scheme(ds, "classes")
    False
    """
    if scheme not in MIXING_HEIGHT_SCHEMES:
        raise InputError(
            f"{what}: mixing height scheme {scheme!r}; expected one of "
            f"{list(MIXING_HEIGHT_SCHEMES)} ([meteo] mixing_height)."
        )
    if scheme == "auto":
        return ds
    if scheme == "data":
        return _data_mixing_height(ds, what)
    bare = ds.drop_vars("mixing_height", errors="ignore")
    if scheme == "classes":
        return bare
    return add_mixing_height(bare, classes=("D", "E", "F"), calm_threshold=calm_threshold)


def _data_mixing_height(ds: xr.Dataset, what: str) -> xr.Dataset:
    """`ds` checked for ``[meteo] mixing_height = "data"``: it has a mixing height (else
    InputError); the hours without one are counted in a warning."""
    if "mixing_height" not in ds:
        raise InputError(
            f'{what}: [meteo] mixing_height = "data" but the meteorology has no mixing height '
            "(no 'mixing_height' column or variable, no ERA5 'blh'); add it, or set [meteo] "
            'mixing_height = "auto", "classes" or "mechanical".'
        )
    zi = ds["mixing_height"].values.astype(float)
    missing = int((~np.isfinite(zi)).sum())
    if missing:
        warn(
            f"{what}: {missing} of {zi.size} hour(s) have no mixing height; they take the "
            'default of their stability class ([meteo] mixing_height = "data").',
            TrajectoireWarning,
            stacklevel=3,
        )
    return ds
