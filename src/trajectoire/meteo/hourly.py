"""Meteorology: hourly surface data, Pasquill-Gifford stability and joint frequency tables.

The chain is ``read_hourly`` (CSV or NetCDF, gaps counted and reported) then ``add_stability``
(Turner's method from wind, cloud cover and sun elevation, or Golder's from the Obukhov length
and the roughness length) then ``met_classes`` (per-year joint frequencies of direction
sector x speed class x stability class, with the mean of 1/u in each class and calms kept).
See ``docs/meteorology.md`` for the methods and the choices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from trajectoire._validate import require_columns, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, UnitsError, warn

__all__ = [
    "CALM_THRESHOLD",
    "DEFAULT_MIXING_HEIGHT",
    "DEFAULT_SPEED_EDGES",
    "STABILITY_CLASSES",
    "WIND_PROFILE_EXPONENTS",
    "add_stability",
    "default_mixing_height",
    "met_classes",
    "read_hourly",
    "solar_elevation",
    "stability_class",
    "turner_class",
    "validate_hourly",
    "wind_at_height",
]

STABILITY_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
"""Pasquill-Gifford classes, from very unstable (A) to moderately stable (F)."""

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

DEFAULT_SPEED_EDGES: tuple[float, ...] = (0.0, 1.54, 3.09, 5.14, 8.23, 10.8)
"""Lower edges [m s-1] of the six STAR speed classes (1-3, 4-6, 7-10, 11-16, 17-21, >21 kt)."""

CALM_THRESHOLD = 1.0
"""Default minimum wind speed [m s-1]; slower hours are calms (ISC3 uses 1 m s-1)."""

_REQUIRED = ("time", "wind_speed", "wind_direction", "cloud_cover", "temperature")
_OPTIONAL = ("solar_radiation", "obukhov_length", "mixing_height", "ceiling_height")
_UNITS = {
    "wind_speed": "m s-1",
    "wind_direction": "degree",
    "cloud_cover": "okta",
    "temperature": "K",
    "solar_radiation": "W m-2",
    "obukhov_length": "m",
    "mixing_height": "m",
    "ceiling_height": "m",
}
# Turner (1964) table: rows = wind-speed classes (upper bounds in m s-1 of the knot classes
# 0-1, 2-3, 4-5, 6, 7, 8-9, 10, 11, >=12), columns = net radiation index 4, 3, 2, 1, 0, -1, -2.
# Values 1..7 = A..G (G is merged into F). EPA-454/R-99-005, Table 6-7.
_TURNER_SPEED = np.array([0.75, 1.8, 2.8, 3.3, 3.8, 4.8, 5.4, 5.9])
_TURNER_TABLE = np.array(
    [
        [1, 1, 2, 3, 4, 6, 7],
        [1, 2, 2, 3, 4, 6, 7],
        [1, 2, 3, 4, 4, 5, 6],
        [2, 2, 3, 4, 4, 5, 6],
        [2, 2, 3, 4, 4, 4, 5],
        [2, 3, 3, 4, 4, 4, 5],
        [3, 3, 4, 4, 4, 4, 5],
        [3, 3, 4, 4, 4, 4, 4],
        [3, 4, 4, 4, 4, 4, 4],
    ]
)
# Golder (1972) curves as straight lines 1/L = a + b log10(z0) [m-1], A..F
# (Seinfeld and Pandis 2016, Table 16.4 / eq. 16.83).
_GOLDER_A = np.array([-0.096, -0.037, -0.002, 0.0, 0.004, 0.035])
_GOLDER_B = np.array([0.029, 0.029, 0.018, 0.0, -0.018, -0.036])
_FT = 0.3048


def _as_letters(stability: Any, what: str = "stability") -> np.ndarray:
    arr = np.asarray(stability)
    if arr.dtype.kind not in "UO":
        raise InputError(
            f"{what}: expected Pasquill-Gifford class letters 'A'..'F', got values of dtype "
            f"{arr.dtype}. Map numeric classes with np.array(list('ABCDEF'))[index]."
        )
    flat = [str(v).strip().upper() for v in arr.ravel()]
    bad = sorted({v for v in flat if v not in STABILITY_CLASSES})
    if bad:
        raise InputError(
            f"{what}: unknown stability class(es) {bad}; expected one of "
            f"{list(STABILITY_CLASSES)} (Pasquill-Gifford A = very unstable .. F = stable)."
        )
    return np.array(flat, dtype="<U1").reshape(arr.shape)


def _class_index(stability: Any, what: str = "stability") -> np.ndarray:
    letters = _as_letters(stability, what)
    return (np.searchsorted(np.array(STABILITY_CLASSES), letters)).astype(np.int64)


# ------------------------------------------------------------------ sun and stability
def solar_elevation(
    time: Any, latitude: float | npt.ArrayLike, longitude: float | npt.ArrayLike
) -> np.ndarray:
    """Solar elevation angle above the horizon [degree] at UTC times and positions.

    Parameters
    ----------
    time : array-like of datetime64 or pandas datetimes
        Instants in UTC (naive values are taken as UTC).
    latitude, longitude : float or array-like
        Position [degree north, degree east]; broadcast against `time`.

    Returns
    -------
    numpy.ndarray
        Elevation [degree], negative below the horizon (no refraction correction).

    Notes
    -----
    NOAA's "general solar position calculations" with Spencer's (1971) Fourier series in
    the fractional year ``g = 2 pi / 365 (doy - 1 + (hour - 12) / 24)`` for the equation of
    time (minutes) and the declination (radians), then the hour angle from the true solar
    time; accurate to about 0.5 degree, plenty for insolation classes of 20 degrees.

    References
    ----------
    Spencer, J. W. (1971). Fourier series representation of the position of the sun.
    Search 2(5), 172. NOAA Global Monitoring Laboratory, "General solar position
    calculations" (gml.noaa.gov/grad/solcalc/solareqns.PDF).

    Examples
    --------
    >>> t = np.array(["2024-06-21T11:48"], dtype="datetime64[m]")
    >>> float(np.round(solar_elevation(t, 50.57, 3.10)[0], 0))
    63.0
    """
    t = pd.DatetimeIndex(pd.to_datetime(np.asarray(time).ravel()))
    if t.tz is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    shape = np.shape(np.asarray(time))
    doy: np.ndarray = t.day_of_year.to_numpy(dtype=float).reshape(shape)
    hour: np.ndarray = (
        (t.hour + t.minute / 60.0 + t.second / 3600.0).to_numpy(dtype=float).reshape(shape)
    )
    g = 2.0 * np.pi / 365.0 * (doy - 1.0 + (hour - 12.0) / 24.0)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * np.cos(g)
        - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g)
        - 0.040849 * np.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * np.cos(g)
        + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g)
        + 0.00148 * np.sin(3 * g)
    )
    lat = np.radians(np.asarray(latitude, dtype=float))
    tst = hour * 60.0 + eqtime + 4.0 * np.asarray(longitude, dtype=float)
    ha = np.radians(tst / 4.0 - 180.0)
    cosz = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(ha)
    return np.asarray(90.0 - np.degrees(np.arccos(np.clip(cosz, -1.0, 1.0))))


def turner_class(
    wind_speed: npt.ArrayLike,
    cloud_cover: npt.ArrayLike,
    time: Any,
    latitude: float,
    longitude: float,
    *,
    ceiling_height: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Pasquill-Gifford class by Turner's (1964) method, from wind, cloud cover and the sun.

    Parameters
    ----------
    wind_speed : array-like
        Wind speed at 10 m [m s-1], >= 0.
    cloud_cover : array-like
        Total cloud cover [okta], 0..8.
    time : array-like of datetime64
        Observation times (UTC), same shape as `wind_speed`.
    latitude, longitude : float
        Station position [degree].
    ceiling_height : array-like, optional
        Cloud ceiling [m]. Without it, an overcast sky (8 okta) is taken as a low ceiling
        (net radiation index 0, class D) and a broken sky (5-7 okta) as a ceiling between
        7000 and 16000 ft (index lowered by 1).

    Returns
    -------
    numpy.ndarray of str
        Class letters ``A``..``F`` (Turner's class G, extremely stable, is merged into F);
        ``""`` where an input is missing (NaN).

    Notes
    -----
    Night is from one hour before sunset to one hour after sunrise: an hour is daytime when
    the sun is above the horizon both one hour before and one hour after it. The net
    radiation index (NRI) follows EPA-454/R-99-005 section 6.4.4.1:

    1. total cover 10/10 with a ceiling below 7000 ft: NRI = 0 (day and night);
    2. night: NRI = -2 for cover <= 4/10, -1 otherwise;
    3. day: insolation class 4 (elevation > 60), 3 (35-60), 2 (15-35), 1 (<= 15); with
       cover > 5/10 it is lowered by 2 (ceiling < 7000 ft), by 1 (7000-16000 ft), by 1
       (10/10 above 7000 ft), and kept at least 1.

    The class then comes from the table of wind speed x NRI (Turner 1964, reproduced in
    EPA-454/R-99-005 Table 6-7). Cloud cover in okta is converted to tenths as ``10 n / 8``.

    References
    ----------
    Turner, D. B. (1964). A diffusion model for an urban area. J. Appl. Meteor. 3, 83-91.
    https://doi.org/10.1175/1520-0450(1964)003<0083:ADMFAU>2.0.CO;2
    US EPA (2000). Meteorological Monitoring Guidance for Regulatory Modeling Applications,
    EPA-454/R-99-005, section 6.4.4.

    Examples
    --------
    >>> t = np.array(["2024-06-21T12:00", "2024-06-21T00:00"], dtype="datetime64[m]")
    >>> turner_class([2.0, 2.0], [0, 0], t, 50.57, 3.10).tolist()
    ['A', 'F']
    """
    u = np.asarray(wind_speed, dtype=float)
    n = np.asarray(cloud_cover, dtype=float)
    t = np.asarray(time)
    u, n = np.broadcast_arrays(u, n)
    _check_range(u, "wind_speed", 0.0, np.inf)
    _check_range(n, "cloud_cover", 0.0, 8.0)
    hour = np.timedelta64(3600, "s")
    t64 = pd.to_datetime(t.ravel()).to_numpy().reshape(t.shape)
    elev = solar_elevation(t64, latitude, longitude)
    day = (solar_elevation(t64 - hour, latitude, longitude) > 0) & (
        solar_elevation(t64 + hour, latitude, longitude) > 0
    )
    tenths = n * 10.0 / 8.0
    if ceiling_height is None:
        ceiling_ft = np.where(n >= 8, 5000.0, 10000.0)
    else:
        ceiling_ft = np.asarray(ceiling_height, dtype=float) / _FT
        ceiling_ft = np.where(np.isnan(ceiling_ft), np.where(n >= 8, 5000.0, 10000.0), ceiling_ft)
    isc = np.select([elev > 60, elev > 35, elev > 15], [4, 3, 2], default=1)
    nri_day = isc.copy()
    broken = tenths > 5
    nri_day = np.where(broken & (ceiling_ft < 7000), isc - 2, nri_day)
    nri_day = np.where(broken & (ceiling_ft >= 7000) & (ceiling_ft <= 16000), isc - 1, nri_day)
    nri_day = np.where(broken & (tenths >= 10) & (ceiling_ft > 16000), isc - 1, nri_day)
    nri_day = np.maximum(nri_day, 1)
    nri_night = np.where(tenths <= 4, -2, -1)
    nri = np.where(day, nri_day, nri_night)
    nri = np.where((tenths >= 10) & (ceiling_ft < 7000), 0, nri)
    row = np.searchsorted(_TURNER_SPEED, np.nan_to_num(u), side="left")
    col = 4 - nri
    cls = _TURNER_TABLE[row, col]
    cls = np.minimum(cls, 6)
    letters = np.array(STABILITY_CLASSES)[cls - 1]
    return np.where(np.isnan(u) | np.isnan(n), "", letters).astype("<U1")


def stability_class(obukhov_length: npt.ArrayLike, roughness_length: npt.ArrayLike) -> np.ndarray:
    """Pasquill-Gifford class from the Obukhov length and the roughness length (Golder 1972).

    Parameters
    ----------
    obukhov_length : array-like
        Monin-Obukhov length L [m]; negative is unstable, ``inf`` (or very large) neutral.
    roughness_length : array-like
        Aerodynamic roughness length z0 [m], > 0; broadcast against `obukhov_length`.

    Returns
    -------
    numpy.ndarray of str
        Class letters ``A``..``F``, the broadcast shape of the inputs.

    Raises
    ------
    trajectoire.InputError
        NaN or zero Obukhov length, or a roughness length <= 0.

    Notes
    -----
    Golder's (1972) nomogram is represented by one straight line per class,
    ``1/L_k = a_k + b_k log10 z0`` (Seinfeld and Pandis 2016, Table 16.4): A (-0.096, 0.029),
    B (-0.037, 0.029), C (-0.002, 0.018), D (0, 0), E (0.004, -0.018), F (0.035, -0.036). The
    class is the one whose line is nearest to the observed 1/L, i.e. the boundaries lie
    midway between adjacent lines. z0 is clipped to [0.001, 1] m, the range of the nomogram
    over which the lines stay ordered.

    References
    ----------
    Golder, D. (1972). Relations among stability parameters in the surface layer.
    Boundary-Layer Meteorol. 3, 47-58. https://doi.org/10.1007/BF00769106
    Seinfeld, J. H. and Pandis, S. N. (2016). Atmospheric Chemistry and Physics, 3rd ed.,
    Wiley, ch. 16.

    Examples
    --------
    >>> stability_class([-5.0, -50.0, np.inf, 50.0, 10.0], 0.1).tolist()
    ['A', 'C', 'D', 'E', 'F']
    """
    lo = np.asarray(obukhov_length, dtype=float)
    z0 = np.asarray(roughness_length, dtype=float)
    if np.isnan(lo).any() or (lo == 0).any():
        raise InputError(
            f"obukhov_length: {int(np.isnan(lo).sum())} NaN and {int((lo == 0).sum())} zero "
            "value(s); expected a finite non-zero length [m] or +-inf for neutral. Drop or "
            "fill those hours (or use Turner's method)."
        )
    if (~np.isfinite(z0)).any() or (z0 <= 0).any():
        raise InputError(
            f"roughness_length: got {np.unique(z0[(~np.isfinite(z0)) | (z0 <= 0)])[:5]}; "
            "expected a roughness length z0 > 0 [m] (e.g. 0.1 for farmland, 1.0 for a city)."
        )
    inv_l = 1.0 / lo
    logz = np.log10(np.clip(z0, 1e-3, 1.0))
    inv_l, logz = np.broadcast_arrays(inv_l, logz)
    lines = _GOLDER_A[:, None] + _GOLDER_B[:, None] * logz.ravel()[None, :]  # (6, n)
    mids = 0.5 * (lines[1:] + lines[:-1])  # (5, n) increasing
    idx = (inv_l.ravel()[None, :] > mids).sum(axis=0)
    return np.array(STABILITY_CLASSES)[idx].reshape(inv_l.shape).astype("<U1")


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
    p = np.asarray(WIND_PROFILE_EXPONENTS["urban" if urban else "rural"])[_class_index(stability)]
    return np.asarray(u * (zz / reference_height) ** p)


def default_mixing_height(stability: Any) -> np.ndarray:
    """Default mixing height [m] of each class letter (``inf`` = no lid for E and F).

    Examples
    --------
    >>> default_mixing_height(["A", "D", "F"]).tolist()
    [1500.0, 800.0, inf]
    """
    table = np.array([DEFAULT_MIXING_HEIGHT[c] for c in STABILITY_CLASSES])
    return np.asarray(table[_class_index(stability)])


# ------------------------------------------------------------------ reading
def _check_range(
    values: np.ndarray, what: str, lo: float, hi: float, *, hi_open: bool = False
) -> None:
    arr = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = (arr < lo) | ((arr >= hi) if hi_open else (arr > hi))
    if bad.any():
        where = np.flatnonzero(bad.ravel())
        rng = f"[{lo:g}, {hi:g}{')' if hi_open else ']'}"
        hints = {
            "wind_direction": " Use values modulo 360 (360 is north: write 0).",
            "wind_speed": " Wind speed cannot be negative: check the sign and the units.",
            "u10": " Wind speed cannot be negative: check the sign and the units.",
        }
        hint = next((v for k, v in hints.items() if what.endswith(k)), "")
        raise InputError(
            f"{what}: {int(bad.sum())} value(s) outside {rng} (positions "
            f"{rows_preview(where.tolist())}; e.g. {float(arr.ravel()[where[0]])!r}).{hint}"
        )


def validate_hourly(ds: xr.Dataset, what: str = "meteorology") -> None:
    """Check the variables and value ranges of an hourly meteorology dataset.

    Raises
    ------
    trajectoire.MissingVariableError
        A required variable or the ``time`` dimension is missing.
    trajectoire.InputError
        Negative wind speed, direction outside [0, 360), cloud cover outside [0, 8],
        non-positive temperature or mixing height.
    """
    if "time" not in ds.dims:
        raise MissingVariableError(f"{what}: no 'time' dimension (dims {tuple(ds.dims)}).")
    for name in ("wind_speed", "wind_direction"):
        if name not in ds:
            raise MissingVariableError(
                f"{what}: missing variable {name!r}; found {sorted(map(str, ds.data_vars))}."
            )
    _check_range(ds["wind_speed"].values, f"{what}: wind_speed", 0.0, np.inf)
    _check_range(ds["wind_direction"].values, f"{what}: wind_direction", 0.0, 360.0, hi_open=True)
    if "cloud_cover" in ds:
        _check_range(ds["cloud_cover"].values, f"{what}: cloud_cover", 0.0, 8.0)
    if "temperature" in ds:
        _check_range(ds["temperature"].values, f"{what}: temperature", 1e-9, np.inf)
    if "mixing_height" in ds:
        _check_range(ds["mixing_height"].values, f"{what}: mixing_height", 1e-9, np.inf)


def _from_netcdf(path: Path, latitude: float | None, longitude: float | None) -> pd.DataFrame:
    ds = xr.open_dataset(path)
    try:
        if "valid_time" in ds.dims or "valid_time" in ds.coords:
            ds = ds.rename({"valid_time": "time"})
        lat_name = next((n for n in ("latitude", "lat") if n in ds.dims), None)
        lon_name = next((n for n in ("longitude", "lon") if n in ds.dims), None)
        if lat_name or lon_name:
            if latitude is None or longitude is None:
                raise InputError(
                    f"{path}: gridded meteorology (dims {tuple(ds.dims)}); pass latitude= and "
                    "longitude= of the site to take the nearest grid point."
                )
            sel = {}
            if lat_name:
                sel[lat_name] = latitude
            if lon_name:
                sel[lon_name] = longitude
            ds = ds.sel(sel, method="nearest")
        out: dict[str, Any] = {"time": pd.to_datetime(ds["time"].values)}
        if "u10" in ds and "v10" in ds:
            u = ds["u10"].values.astype(float)
            v = ds["v10"].values.astype(float)
            out["wind_speed"] = np.hypot(u, v)
            d = np.mod(np.degrees(np.arctan2(-u, -v)), 360.0)
            out["wind_direction"] = np.where(d >= 360.0, 0.0, d)
        if "tcc" in ds:
            frac = ds["tcc"].values.astype(float)
            out["cloud_cover"] = np.clip(frac, 0.0, 1.0) * 8.0
        if "t2m" in ds:
            out["temperature"] = ds["t2m"].values.astype(float)
        if "blh" in ds:
            out["mixing_height"] = ds["blh"].values.astype(float)
        for name in (*_REQUIRED[1:], *_OPTIONAL):
            if name in ds and name not in out:
                out[name] = ds[name].values.astype(float)
        units = {n: ds[n].attrs.get("units") for n in ("temperature",) if n in ds}
        frame = pd.DataFrame(out)
        frame.attrs["units"] = units
        return frame
    finally:
        ds.close()


def _meteo_files(path: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files to read: one file, the ``hourly_*`` / ``*.csv`` / ``*.nc`` files of a folder,
    or an explicit list."""
    if isinstance(path, str | Path):
        p = Path(path)
        if p.is_dir():
            files = sorted(p.glob("hourly_*.csv*")) or sorted(
                [*p.glob("*.csv"), *p.glob("*.csv.gz"), *p.glob("*.nc")]
            )
            if not files:
                raise InputError(
                    f"{p}: folder holds no hourly_*.csv, *.csv(.gz) or *.nc meteorology file."
                )
            return files
        paths = [p]
    else:
        paths = [Path(v) for v in path]
        if not paths:
            raise InputError("path: empty list of meteorology files.")
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: file not found.")
    return paths


def read_hourly(
    path: str | Path | Sequence[str | Path],
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    roughness_length: float | None = None,
    anemometer_height: float = 10.0,
    temperature_units: str | None = None,
    missing: str = "warn",
) -> xr.Dataset:
    """Read hourly surface meteorology from a CSV (``.csv``, ``.csv.gz``) or NetCDF file.

    Parameters
    ----------
    path : str, Path or sequence of them
        A file, a list of files (concatenated, e.g. one per year), or a folder (its
        ``hourly_*.csv`` files, else all ``*.csv``, ``*.csv.gz`` and ``*.nc``). CSV with
        columns ``time`` (ISO 8601, UTC), ``wind_speed`` [m s-1 at 10 m],
        ``wind_direction`` [degree, from, 0 = north], ``cloud_cover`` [okta],
        ``temperature``, and optionally ``solar_radiation`` [W m-2], ``obukhov_length`` [m],
        ``mixing_height`` [m], ``ceiling_height`` [m]; or a NetCDF file with these variables
        or ERA5-like ones (``u10``, ``v10``, ``tcc`` [0-1], ``t2m`` [K], ``blh`` [m]) on
        ``time`` (or ``valid_time``), possibly gridded on latitude/longitude.
    latitude, longitude : float, optional
        Site position [degree]; needed by Turner's method and for gridded NetCDF input.
    roughness_length : float, optional
        z0 [m] of the site, needed by Golder's method (``add_stability(method="obukhov")``).
    anemometer_height : float, default 10.0
        Height of the wind measurement [m].
    temperature_units : {"K", "degC"}, optional
        Units of the temperature column. None means kelvin (the data-model default), and
        values below 100 are then rejected as certainly not kelvin.
    missing : {"warn", "raise"}, default "warn"
        What to do with missing hours: ``"warn"`` puts them back on the hourly axis as NaN,
        counts them (attribute ``missing_hours``, list in ``missing_periods``) and warns;
        ``"raise"`` fails.

    Returns
    -------
    xarray.Dataset
        On dim ``time`` (UTC, hourly, complete): the variables above with ``units`` attrs;
        attrs ``latitude``, ``longitude``, ``roughness_length``, ``anemometer_height``,
        ``missing_hours``, ``missing_periods``, ``source_file``.

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is absent.
    trajectoire.InputError
        Duplicated or non-hourly times, out-of-range values, or missing hours with
        ``missing="raise"``.
    trajectoire.UnitsError
        Unknown temperature units or temperatures that cannot be kelvin.
    """
    if missing not in ("warn", "raise"):
        raise InputError(f"missing={missing!r}; expected 'warn' or 'raise'.")
    files = _meteo_files(path)
    frames = []
    for file in files:
        if file.name.lower().endswith((".nc", ".nc4", ".netcdf")):
            part = _from_netcdf(file, latitude, longitude)
            if temperature_units is None:
                temperature_units = part.attrs.get("units", {}).get("temperature")
        else:
            part = pd.read_csv(file)
        require_columns(part.columns, _REQUIRED, str(file))
        frames.append(part)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    where = (
        files[0]
        if len(files) == 1
        else Path(str(path) if isinstance(path, str | Path) else files[0].parent)
    )
    times = pd.to_datetime(frame["time"], utc=True, errors="coerce")
    if times.isna().any():
        rows = np.flatnonzero(times.isna().to_numpy())
        raise InputError(
            f"{where}, column 'time': {len(rows)} value(s) are not dates (rows "
            f"{rows_preview(rows.tolist())}); expected ISO 8601 UTC like 2021-01-01T00:00Z."
        )
    times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    frame = frame.assign(time=times).sort_values("time")
    dup = frame["time"].duplicated()
    if dup.any():
        raise InputError(
            f"{where}, column 'time': duplicated hours "
            f"{rows_preview(frame.loc[dup, 'time'].astype(str).tolist())}. Keep one row per hour."
        )
    off = frame["time"] != frame["time"].dt.floor("h")
    if off.any():
        raise InputError(
            f"{where}, column 'time': {int(off.sum())} time(s) not on the hour (e.g. "
            f"{frame.loc[off, 'time'].iloc[0]}); expected hourly data. Resample to hourly means."
        )
    full = pd.date_range(frame["time"].iloc[0], frame["time"].iloc[-1], freq="h")
    frame = frame.set_index("time")
    n_missing = len(full) - len(frame)
    periods = ""
    if n_missing:
        absent = full.difference(pd.DatetimeIndex(frame.index))
        runs = []
        start = prev = absent[0]
        for t in absent[1:]:
            if t - prev != pd.Timedelta(hours=1):
                runs.append((start, prev))
                start = t
            prev = t
        runs.append((start, prev))
        periods = "; ".join(
            f"{a:%Y-%m-%dT%H}" if a == b else f"{a:%Y-%m-%dT%H}..{b:%Y-%m-%dT%H}" for a, b in runs
        )
        msg = (
            f"{where}: {n_missing} missing hour(s) in {len(runs)} gap(s) "
            f"({rows_preview(periods.split('; '), 5)})"
        )
        if missing == "raise":
            raise InputError(msg + "; fill them or call read_hourly(..., missing='warn').")
        warn(
            msg + "; kept as NaN on the hourly axis, counted in attrs['missing_hours'] and "
            "left out of the frequency tables (met_classes counts them).",
            stacklevel=2,
        )
    frame = frame.reindex(full)
    temp = frame["temperature"].to_numpy(dtype=float)
    tu = (temperature_units or "K").strip()
    if tu in ("degC", "C", "celsius", "°C", "deg_C"):
        temp = temp + 273.15
    elif tu not in ("K", "kelvin"):
        raise UnitsError(
            f"{where}, column 'temperature': units {temperature_units!r}; expected 'K' or 'degC'."
        )
    elif np.isfinite(temp).any() and np.nanmedian(temp) < 100.0:
        raise UnitsError(
            f"{where}, column 'temperature': median {np.nanmedian(temp):.1f} cannot be kelvin; "
            "pass temperature_units='degC'."
        )
    data: dict[str, Any] = {}
    for col in (*_REQUIRED[1:], *_OPTIONAL):
        if col not in frame.columns:
            continue
        values = temp if col == "temperature" else frame[col].to_numpy(dtype=float)
        data[col] = ("time", values, {"units": _UNITS[col]})
    attrs: dict[str, Any] = {
        "anemometer_height": float(anemometer_height),
        "missing_hours": int(n_missing),
        "missing_periods": periods,
        "source_file": str(where),
    }
    if latitude is not None:
        attrs["latitude"] = float(latitude)
    if longitude is not None:
        attrs["longitude"] = float(longitude)
    if roughness_length is not None:
        attrs["roughness_length"] = float(roughness_length)
    ds = xr.Dataset(data, coords={"time": full.to_numpy()}, attrs=attrs)
    ds["wind_direction"].attrs["long_name"] = "direction the wind blows from (0 = north)"
    validate_hourly(ds, str(where))
    return add_history(ds, f"read_hourly({str(where)!r})")


# ------------------------------------------------------------------ stability and classes
def add_stability(ds: xr.Dataset, method: str = "turner") -> xr.Dataset:
    """Add the Pasquill-Gifford class of each hour as the variable ``stability``.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology (see :func:`read_hourly`).
    method : {"turner", "obukhov"}, default "turner"
        ``"turner"``: :func:`turner_class` from ``wind_speed``, ``cloud_cover`` and the sun
        (needs attrs ``latitude``, ``longitude``); ``"obukhov"``: :func:`stability_class`
        from ``obukhov_length`` and attr ``roughness_length``.

    Returns
    -------
    xarray.Dataset
        A copy with ``stability`` (str letters, ``""`` for hours with missing inputs) and,
        for Turner's method, ``solar_elevation`` [degree].

    Raises
    ------
    trajectoire.MissingVariableError
        A variable or attribute the method needs is absent.
    """
    validate_hourly(ds)
    out = ds.copy()
    if method == "turner":
        for key in ("latitude", "longitude"):
            if key not in ds.attrs:
                raise MissingVariableError(
                    f"meteorology: attribute {key!r} is needed by Turner's method; pass "
                    "latitude=, longitude= to read_hourly or set ds.attrs."
                )
        if "cloud_cover" not in ds:
            raise MissingVariableError("meteorology: Turner's method needs 'cloud_cover'.")
        ceiling = ds["ceiling_height"].values if "ceiling_height" in ds else None
        letters = turner_class(
            ds["wind_speed"].values,
            ds["cloud_cover"].values,
            ds["time"].values,
            ds.attrs["latitude"],
            ds.attrs["longitude"],
            ceiling_height=ceiling,
        )
        elev = solar_elevation(ds["time"].values, ds.attrs["latitude"], ds.attrs["longitude"])
        out["solar_elevation"] = ("time", elev, {"units": "degree"})
    elif method == "obukhov":
        if "obukhov_length" not in ds:
            raise MissingVariableError("meteorology: method='obukhov' needs 'obukhov_length'.")
        if "roughness_length" not in ds.attrs:
            raise MissingVariableError(
                "meteorology: method='obukhov' needs attrs['roughness_length'] [m]; pass "
                "roughness_length= to read_hourly."
            )
        lo = ds["obukhov_length"].values.astype(float)
        ok = np.isfinite(lo) & (lo != 0) | np.isinf(lo)
        letters = np.full(lo.shape, "", dtype="<U1")
        letters[ok] = stability_class(lo[ok], ds.attrs["roughness_length"])
    else:
        raise InputError(f"method={method!r}; expected 'turner' or 'obukhov'.")
    out["stability"] = ("time", letters, {"long_name": f"Pasquill-Gifford class ({method})"})
    return add_history(out, f"add_stability(method={method!r})")


def _speed_classes(edges: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
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
    validate_hourly(ds)
    if "stability" not in ds:
        raise MissingVariableError(
            "meteorology: no 'stability' variable; call trajectoire.meteo.add_stability(ds) first."
        )
    if not (isinstance(n_directions, int | np.integer) and n_directions >= 1):
        raise InputError(f"n_directions={n_directions!r}; expected a positive integer.")
    if not (np.isfinite(calm_threshold) and calm_threshold > 0):
        raise InputError(f"calm_threshold={calm_threshold!r}; expected a speed > 0 [m s-1].")
    edges, centres = _speed_classes(speed_edges)
    nd, ns, nc = int(n_directions), edges.size, len(STABILITY_CLASSES)
    width = 360.0 / nd
    u = ds["wind_speed"].values.astype(float)
    wd = ds["wind_direction"].values.astype(float)
    stab = np.asarray(ds["stability"].values).astype(str)
    known = np.isin(stab, STABILITY_CLASSES)
    valid = np.isfinite(u) & np.isfinite(wd) & known
    bad_known = ~known & (stab != "")
    if bad_known.any():
        _as_letters(stab[bad_known], "meteorology: stability")
    j = np.where(known, np.searchsorted(np.array(STABILITY_CLASSES), np.where(known, stab, "A")), 0)
    time = pd.DatetimeIndex(ds["time"].values)
    year_all = time.year.to_numpy()
    years = np.unique(year_all)
    yi = np.searchsorted(years, year_all)
    n_invalid = int((~valid).sum())
    if n_invalid:
        warn(
            f"meteorology: {n_invalid} hour(s) without valid wind or stability were left out "
            "of the frequency tables (see missing_hours).",
            stacklevel=2,
        )
    if "mixing_height" in ds:
        zi = ds["mixing_height"].values.astype(float)
        zi = np.where(np.isfinite(zi), zi, default_mixing_height(np.array(STABILITY_CLASSES)[j]))
    else:
        zi = default_mixing_height(np.array(STABILITY_CLASSES)[j])
    calm = valid & (u < calm_threshold)
    moving = valid & ~calm
    d = np.floor(np.mod(wd + 0.5 * width, 360.0) / width).astype(np.int64) % nd
    s = np.clip(np.searchsorted(edges, np.maximum(u, calm_threshold), side="right") - 1, 0, ns - 1)
    ny = years.size
    shape = (ny, nd, ns, nc)
    flat = np.ravel_multi_index((yi, d, s, j), shape)
    size = ny * nd * ns * nc
    zi_fin = np.isfinite(zi)
    counts = np.bincount(flat[moving], minlength=size).astype(float).reshape(shape)
    inv_sum = np.bincount(flat[moving], 1.0 / u[moving], size).reshape(shape)
    zi_n = np.bincount(flat[moving & zi_fin], minlength=size).astype(float).reshape(shape)
    zi_sum = np.bincount(flat[moving & zi_fin], zi[moving & zi_fin], size).reshape(shape)
    # calms: per (year, stability), spread over directions
    cflat = np.ravel_multi_index((yi[calm], j[calm]), (ny, nc))
    n_calm = np.bincount(cflat, minlength=ny * nc).astype(float).reshape(ny, nc)
    cz = calm & zi_fin
    czflat = np.ravel_multi_index((yi[cz], j[cz]), (ny, nc))
    calm_zi_n = np.bincount(czflat, minlength=ny * nc).astype(float).reshape(ny, nc)
    calm_zi_sum = np.bincount(czflat, zi[cz], ny * nc).reshape(ny, nc)
    for y in range(ny):
        for c in range(nc):
            if n_calm[y, c] == 0:
                continue
            dist = counts[y, :, 0, c].copy()
            if dist.sum() == 0:
                dist = counts[y, :, :, c].sum(axis=1)
            if dist.sum() == 0:
                dist = np.ones(nd)
            share = n_calm[y, c] * dist / dist.sum()
            counts[y, :, 0, c] += share
            inv_sum[y, :, 0, c] += share / calm_threshold
            if calm_zi_n[y, c]:
                frac = calm_zi_n[y, c] / n_calm[y, c]
                zi_n[y, :, 0, c] += share * frac
                zi_sum[y, :, 0, c] += share * frac * calm_zi_sum[y, c] / calm_zi_n[y, c]
    valid_hours = np.bincount(yi[valid], minlength=ny).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = counts / np.where(valid_hours > 0, valid_hours, 1.0)[:, None, None, None]
        inv_u = np.where(counts > 0, inv_sum / np.where(counts > 0, counts, 1.0), 0.0)
        mix = np.where(zi_n > 0, zi_sum / np.where(zi_n > 0, zi_n, 1.0), np.nan)
    inv_u = np.where(
        counts > 0, inv_u, (1.0 / np.maximum(centres, calm_threshold))[None, None, :, None]
    )
    default_zi = np.array([DEFAULT_MIXING_HEIGHT[c] for c in STABILITY_CLASSES])
    mix = np.where(np.isnan(mix), default_zi[None, None, None, :], mix)
    hours_in_year = np.array(
        [8784.0 if pd.Timestamp(int(y), 1, 1).is_leap_year else 8760.0 for y in years]
    )
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
                n_calm.sum(axis=1) / np.where(valid_hours > 0, valid_hours, 1.0),
                {"units": "1", "long_name": f"fraction of hours with u < {calm_threshold} m s-1"},
            ),
            "valid_hours": ("year", valid_hours, {"units": "h"}),
            "missing_hours": ("year", hours_in_year - valid_hours, {"units": "h"}),
        },
        coords={
            "year": years.astype(np.int64),
            "direction": ("direction", np.arange(nd) * width, {"units": "degree"}),
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
