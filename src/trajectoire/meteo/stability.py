"""Pasquill-Gifford stability: the sun's elevation, Turner's and Golder's classes.

``add_stability`` gives each hour of a meteorology dataset its class, by Turner's method
(wind, cloud cover and sun elevation) or Golder's (Obukhov and roughness lengths).
See ``docs/meteorology.md`` for the methods and the choices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from trajectoire._validate import as_floats, broadcast_named, masked_like, masks_off
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.meteo.readers import _check_range, _refuse_cftime, validate_hourly

__all__ = [
    "STABILITY_CLASSES",
    "add_stability",
    "solar_elevation",
    "stability_class",
    "stability_index",
    "stability_letters",
    "turner_class",
    "urban_stability",
]

STABILITY_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
"""Pasquill-Gifford classes, from very unstable (A) to moderately stable (F)."""

#: one knot [m s-1]
_KNOT = 1852.0 / 3600.0
# Turner (1964) table: rows = wind-speed classes of whole knots 0-1, 2-3, 4-5, 6, 7, 8-9, 10,
# 11, >=12, columns = net radiation index 4, 3, 2, 1, 0, -1, -2. Values 1..7 = A..G (G is
# merged into F). EPA-454/R-99-005, Table 6-7. The rows' upper edges are the half knots
# between the classes (1.5 kt = 0.772 m s-1, ..., 11.5 kt = 5.916 m s-1): a speed reported
# to 0.1 m s-1 falls in the row of the table's m/s column (0-0.7, 0.8-1.8, 1.9-2.8, 2.9-3.3,
# 3.4-3.8, 3.9-4.8, 4.9-5.4, 5.5-5.9, >=6.0), which is these edges on a 0.1 m s-1 grid, a
# speed in whole knots in its knot row, a continuous speed in the row of the knots it rounds
# to. A speed on an edge takes the lower row.
_TURNER_SPEED = np.array([1.5, 3.5, 5.5, 6.5, 7.5, 9.5, 10.5, 11.5]) * _KNOT
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

URBAN_STABLE_CLASSES: dict[str, str] = {"E": "D", "F": "D"}
"""Urban stable-class adjustment: the stable classes and the class they take (E, F -> D)."""


def _as_letters(stability: Any, what: str = "stability") -> np.ndarray:
    """`stability` as upper-case class letters (``"<U1"``); InputError for anything else."""
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


def stability_index(stability: Any, what: str = "stability") -> np.ndarray:
    """Index 0..5 of Pasquill-Gifford class letters in :data:`STABILITY_CLASSES`.

    Parameters
    ----------
    stability : str or array-like of str
        Class letters ``A``..``F`` (case and surrounding blanks ignored).
    what : str, default "stability"
        Name of the input in error messages.

    Returns
    -------
    numpy.ndarray of int64
        0 for A .. 5 for F, the shape of `stability`.

    Raises
    ------
    trajectoire.InputError
        Numeric values or letters outside A..F (empty strings included).

    Examples
    --------
    >>> stability_index(["a", "D", "F"]).tolist()
    [0, 3, 5]
    """
    letters = _as_letters(stability, what)
    return (np.searchsorted(np.array(STABILITY_CLASSES), letters)).astype(np.int64)


def stability_letters(values: Any, what: str = "stability") -> np.ndarray:
    """An hourly series of classes as upper-case letters ``A``..``F``, ``""`` where missing.

    Letters in lower case or with blanks (``"d"``, ``" D"``) are the class they name; an
    empty string, None or NaN is a missing class (the hour is left out and counted by the
    caller).

    Parameters
    ----------
    values : array-like
        The ``stability`` of an hourly meteorology.
    what : str, default "stability"
        Name of the input in error messages.

    Returns
    -------
    numpy.ndarray of ``<U1``

    Raises
    ------
    trajectoire.InputError
        A value that is neither a class letter nor missing (``"G"``, ``"DE"``, a number):
        one line listing them (:func:`stability_index`).
    """
    raw = np.asarray(values)
    stab = raw.astype(str)
    if np.isin(stab, STABILITY_CLASSES).all():  # the letters add_stability writes
        return stab
    missing = (
        np.asarray(pd.isna(raw), dtype=bool) if raw.dtype.kind == "O" else np.zeros(raw.shape, bool)
    )
    stab = np.char.strip(stab)
    given = (stab != "") & ~missing
    letters = np.full(stab.shape, "", dtype="<U1")
    letters[given] = np.asarray(STABILITY_CLASSES)[stability_index(stab[given], what)]
    return letters


# ------------------------------------------------------------------ sun
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
    _refuse_cftime(time, "solar_elevation: time")
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


#: what :func:`pandas.api.types.infer_dtype` says of an object array of numbers
_NUMERIC_INFERRED = frozenset(
    {"integer", "floating", "mixed-integer", "mixed-integer-float", "decimal", "complex", "boolean"}
)
_TIME_EXPECTED = (
    "expected datetimes: numpy datetime64, pandas Timestamps or ISO 8601 strings such as "
    "'2024-06-21T12:00' (naive times are read as UTC, timezone-aware ones converted to UTC)"
)


def _utc_times(time: Any, what: str = "time") -> np.ndarray:
    """`time` as naive datetime64 values in UTC, of the shape of ``np.asarray(time)``.

    datetime64 values pass as they are (taken as UTC). Other values are parsed by pandas:
    naive ones are read as UTC, timezone-aware ones (``tz_localize('Europe/Paris')``, a
    Series of tz UTC) converted to UTC. Numbers, which pandas would read as nanoseconds
    after 1970 (Unix seconds then fall in the night of 1 January 1970), and text that is
    not a date are an :class:`InputError` naming `what` and the value.
    """
    t = np.asarray(time)
    if t.dtype.kind == "M":
        return np.asarray(pd.to_datetime(t.ravel()).to_numpy().reshape(t.shape))
    flat = t.ravel()
    numeric = flat.size > 0 and (
        t.dtype.kind in "biufc"
        or (
            t.dtype.kind == "O" and pd.api.types.infer_dtype(flat, skipna=True) in _NUMERIC_INFERRED
        )
    )
    if numeric:
        first = next((v for v in flat if isinstance(v, int | float | complex | np.number)), flat[0])
        shown = repr(first.item() if isinstance(first, np.generic) else first)[:40]
        raise InputError(
            f"{what}: got numbers (e.g. {shown}, dtype {t.dtype}), which would be read as "
            f"nanoseconds after 1970; {_TIME_EXPECTED}. Convert Unix seconds with "
            "pd.to_datetime(values, unit='s')."
        )
    try:
        parsed = pd.DatetimeIndex(pd.to_datetime(flat, utc=True))
    except (TypeError, ValueError, OverflowError) as exc:
        try:
            coerced = pd.DatetimeIndex(pd.to_datetime(flat, utc=True, errors="coerce"))
            bad = np.flatnonzero(np.asarray(coerced.isna()) & ~np.asarray(pd.isna(flat)))
        except (TypeError, ValueError, OverflowError):
            bad = np.zeros(0, dtype=int)
        if bad.size:
            value = flat[bad[0]]
            value = value.item() if isinstance(value, np.generic) else value
            at = f" at position {int(bad[0])}" if t.ndim else ""
            shown = f"{value!r}"[:60]
        else:
            at, shown = "", str(exc).splitlines()[0][:120] if str(exc) else repr(exc)
        raise InputError(
            f"{what}: {shown}{at} is not a date; {_TIME_EXPECTED}, all in one format."
        ) from None
    return np.asarray(parsed.tz_localize(None).to_numpy().reshape(t.shape))


def _check_position(latitude: Any, longitude: Any) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude as floats, within [-90, 90] and [-180, 360] [degree]."""
    lat = as_floats(latitude, "latitude", "degrees north")
    lon = as_floats(longitude, "longitude", "degrees east")
    for arr, name, lo, hi, want in (
        (lat, "latitude", -90.0, 90.0, "degrees north in [-90, 90] (Lille is 50.6)"),
        (lon, "longitude", -180.0, 360.0, "degrees east in [-180, 360] (Lille is 3.1)"),
    ):
        with np.errstate(invalid="ignore"):
            bad = ~((arr >= lo) & (arr <= hi))
        if bad.any():
            v = float(arr[bad].ravel()[0]) if arr.ndim else float(arr)
            fix = (
                " (NaN: the position is missing)"
                if np.isnan(v)
                else " (latitude and longitude swapped?)"
                if name == "latitude" and -180.0 <= v <= 180.0
                else ""
            )
            raise InputError(f"{name}={v!r}: expected {want}{fix}.")
    return lat, lon


# ------------------------------------------------------------------ classes
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
    time : array-like of datetime64, pandas Timestamps or ISO 8601 strings
        Observation times, same shape as `wind_speed`. The method works in UTC: naive
        times (datetime64 included) are taken as UTC, timezone-aware ones (a
        ``DatetimeIndex`` localised to ``Europe/Paris``, a Series of tz UTC) are converted
        to UTC. Numbers are refused: convert Unix seconds with
        ``pd.to_datetime(values, unit="s")``.
    latitude, longitude : float
        Station position [degree north in [-90, 90], degree east in [-180, 360]].
    ceiling_height : array-like, optional
        Cloud ceiling [m], >= 0; NaN where unknown. Without it (and where it is NaN), an
        overcast sky (8 okta) is taken as a low ceiling (net radiation index 0, class D)
        and a broken sky (5-7 okta) as a ceiling between 7000 and 16000 ft (index lowered
        by 1).

    Returns
    -------
    numpy.ndarray of str
        Class letters ``A``..``F`` (Turner's class G, extremely stable, is merged into F);
        ``""`` where an input is missing (NaN, or a NaT time).

    Raises
    ------
    trajectoire.InputError
        One line naming the argument and its value: a wind speed < 0 or a cloud cover
        outside 0..8 okta; `time` given as numbers or as text that is not a date; a
        latitude outside [-90, 90] or a longitude outside [-180, 360] (NaN included); a
        negative `ceiling_height`; text where numbers are expected; arguments whose shapes
        do not broadcast together.

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
    The table's speed rows are classes of whole knots (0-1, 2-3, ..., >= 12 kt); their upper
    edges are the half knots between them, 1.5 kt = 0.772 m s-1 to 11.5 kt = 5.916 m s-1 (a
    speed on an edge takes the lower row), so that speeds reported to 0.1 m s-1 fall in the
    rows of the table's m/s column (0-0.7, 0.8-1.8, ..., >= 6.0).

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
    u = as_floats(wind_speed, "wind_speed", "speeds [m s-1]")
    n = as_floats(cloud_cover, "cloud_cover", "cloud cover [okta], 0..8")
    u, n = broadcast_named("turner_class", wind_speed=u, cloud_cover=n)
    _check_range(u, "wind_speed", 0.0, np.inf)
    _check_range(n, "cloud_cover", 0.0, 8.0)
    lat, lon = _check_position(latitude, longitude)
    _refuse_cftime(time, "turner_class: time")
    t64 = _utc_times(time)
    ceiling = None
    if ceiling_height is not None:
        ceiling = as_floats(ceiling_height, "ceiling_height", "heights [m]")
        with np.errstate(invalid="ignore"):
            below = ceiling < 0
        if below.any():
            raise InputError(
                f"ceiling_height: {int(below.sum())} negative value(s) (e.g. "
                f"{float(ceiling[below].ravel()[0])!r}); expected a cloud ceiling >= 0 [m] "
                "above the ground, NaN where unknown (leave missing-value codes such as "
                "-9999 empty)."
            )
    shapes = {"wind_speed": u, "cloud_cover": n, "time": t64}
    broadcast_named(
        "turner_class", **shapes, **({} if ceiling is None else {"ceiling_height": ceiling})
    )
    hour = np.timedelta64(3600, "s")
    elev = solar_elevation(t64, lat, lon)
    day = (solar_elevation(t64 - hour, lat, lon) > 0) & (solar_elevation(t64 + hour, lat, lon) > 0)
    tenths = n * 10.0 / 8.0
    assumed_ft = np.where(n >= 8, 5000.0, 10000.0)  # overcast: low ceiling; else 7000-16000 ft
    if ceiling is None:
        ceiling_ft = assumed_ft
    else:
        ceiling_ft = ceiling / _FT
        ceiling_ft = np.where(np.isnan(ceiling_ft), assumed_ft, ceiling_ft)
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
    return np.where(np.isnan(u) | np.isnan(n) | np.isnat(t64), "", letters).astype("<U1")


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
        Class letters ``A``..``F``, the broadcast shape of the inputs. Masked in, masked
        out: where an input is a :class:`numpy.ma.MaskedArray` (a netCDF4 variable with
        fill values is read masked), the result is one too, masked wherever an input is
        (the masked entries are neither checked nor classed; fill value ``""``, no class).

    Raises
    ------
    trajectoire.InputError
        NaN or zero Obukhov length, or a roughness length <= 0; text that is not a number
        (the argument and the value named).

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
    given = {"obukhov_length": obukhov_length, "roughness_length": roughness_length}
    plain, masks = masks_off(given, {"obukhov_length": np.inf, "roughness_length": 0.1})
    if masks:  # masked entries (netCDF4 fill values) stand in as neutral, then masked again
        return masked_like(stability_class(**plain), masks, fill_value="")
    lo = as_floats(obukhov_length, "obukhov_length", "lengths [m]")
    z0 = as_floats(roughness_length, "roughness_length", "lengths [m]")
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
    inv_l, logz = broadcast_named("stability_class", obukhov_length=inv_l, roughness_length=logz)
    lines = _GOLDER_A[:, None] + _GOLDER_B[:, None] * logz.ravel()[None, :]  # (6, n)
    mids = 0.5 * (lines[1:] + lines[:-1])  # (5, n) increasing
    idx = (inv_l.ravel()[None, :] > mids).sum(axis=0)
    return np.array(STABILITY_CLASSES)[idx].reshape(inv_l.shape).astype("<U1")


# ------------------------------------------------------------------ datasets
def urban_stability(stability: Any) -> np.ndarray:
    """Pasquill-Gifford classes with the urban stable-class adjustment: E and F become D.

    Over a city the night-time surface layer is not stable as over open country: buildings
    store heat and trap long-wave radiation, so a weakly convective, near-neutral layer
    forms under the rural inversion (Oke 1973, 1982). Regulatory Gaussian models represent
    it by treating the stable urban hours as neutral: AERMOD takes the night-time urban
    boundary layer as neutral for the vertical spread (Cimorelli et al. 2005) and its
    buoyant-line algorithm sets class D for every urban night-time hour.

    Parameters
    ----------
    stability : str or array-like of str
        Class letters ``A``..``F`` (case and surrounding blanks ignored); ``""`` marks an
        hour without a class and is kept.

    Returns
    -------
    numpy.ndarray of str
        Letters of the same shape: ``E`` and ``F`` replaced by ``D``, the others (and
        ``""``) unchanged. The count of hours is unchanged, so frequency tables built from
        the result still sum to 1.

    Raises
    ------
    trajectoire.InputError
        A value that is neither a class letter nor ``""``.

    Notes
    -----
    Only the class changes: in the frequency tables the former E and F hours then take the
    D class's wind-profile exponent, dispersion coefficients and, without an observed
    mixing height, its default lid (800 m, ``trajectoire.meteo.profiles.DEFAULT_MIXING_HEIGHT``). See
    ``docs/meteorology.md`` (urban stable hours) for the sources and what is not modelled
    (AERMOD's urban boundary-layer height from the population).

    References
    ----------
    Cimorelli, A. J. et al. (2005). AERMOD: a dispersion model for industrial source
    applications. Part I. *J. Appl. Meteor.* 44, 682-693. doi:10.1175/JAM2227.1

    Examples
    --------
    >>> urban_stability(["A", "D", "E", "F", ""]).tolist()
    ['A', 'D', 'D', 'D', '']
    """
    arr = np.asarray(stability)
    if arr.dtype.kind not in "UO":
        _as_letters(arr)  # raises the dtype error
    flat = np.array([str(v).strip().upper() for v in arr.ravel()], dtype="<U1")
    known = flat != ""
    flat[known] = _as_letters(flat[known])
    for stable, neutral in URBAN_STABLE_CLASSES.items():
        flat[flat == stable] = neutral
    return flat.reshape(arr.shape)


def add_stability(
    ds: xr.Dataset, method: str = "turner", *, urban_stable_adjustment: bool = False
) -> xr.Dataset:
    """Add the Pasquill-Gifford class of each hour as the variable ``stability``.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly meteorology (see :func:`read_hourly`).
    method : {"turner", "obukhov"}, default "turner"
        ``"turner"``: :func:`turner_class` from ``wind_speed``, ``cloud_cover`` and the sun
        (needs attrs ``latitude``, ``longitude``); ``"obukhov"``: :func:`stability_class`
        from ``obukhov_length`` and attr ``roughness_length``.
    urban_stable_adjustment : bool, default False
        Replace the stable classes E and F by D (:func:`urban_stability`), for a station
        and sources in a city. Off by default: the classes are those of the method.

        .. versionadded:: 0.2

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
        _refuse_cftime(ds["time"].values, "add_stability: ds['time'] (Turner's method)")
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
    long_name = f"Pasquill-Gifford class ({method})"
    if urban_stable_adjustment:
        letters = urban_stability(letters)
        long_name = f"Pasquill-Gifford class ({method}, urban: E and F as D)"
    out["stability"] = ("time", letters, {"long_name": long_name})
    call = f"add_stability(method={method!r}"
    call += ", urban_stable_adjustment=True)" if urban_stable_adjustment else ")"
    return add_history(out, call)
