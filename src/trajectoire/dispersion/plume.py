"""Gaussian point plume and line source: the steady-state physics and its input checks.

Thin, validating wrappers over the numba kernels of ``trajectoire._kernels`` (``sigma``,
``rise``, ``plume``). Methods, equations and choices are in ``docs/dispersion.md``.

* :func:`gaussian_plume` (stable): the steady plume with ground and lid reflections.
* :func:`dispersion_coefficients`: sigma_y, sigma_z of the Briggs and PGT schemes.
* :func:`effective_height`: Briggs stack-tip downwash plus final plume rise.
* :func:`line_source`: a road link by numerical integration along the segment.

The validators below (``_scheme``, ``_finite``, ``_wind`` ...) are shared by the other
modules of :mod:`trajectoire.dispersion` (long-term kernels, stacks, hourly mode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from trajectoire._kernels import plume as _plume
from trajectoire._kernels import rise as _rise
from trajectoire._kernels import sigma as _sigma
from trajectoire._validate import as_floats, broadcast_named, did_you_mean, masked_like, masks_off
from trajectoire.errors import InputError, UnitsError
from trajectoire.meteo.classes import CALM_THRESHOLD
from trajectoire.meteo.profiles import WIND_PROFILE_EXPONENTS
from trajectoire.meteo.stability import stability_index

__all__ = [
    "SIGMA_SCHEMES",
    "dispersion_coefficients",
    "effective_height",
    "gaussian_plume",
    "line_source",
]

SIGMA_SCHEMES: dict[str, int] = {"briggs-urban": 1, "briggs-rural": 0, "pgt": 2}
"""Dispersion-coefficient schemes and their kernel codes: Briggs (1973) urban and rural
formulas and the Pasquill-Gifford-Turner curves (Turner 1970) as fitted in ISC3. The one
definition of the vocabulary (``trajectoire.config.SIGMA_SCHEMES`` lists its keys)."""

#: kernel code of the urban scheme, which also selects the urban wind-profile exponents
_URBAN = SIGMA_SCHEMES["briggs-urban"]
#: lid height [m] that stands for "no lid" in the kernels (they take no inf)
_NO_LID = 1e30
#: air temperature [K] of the plume rise where none is given
_AMBIENT_TEMPERATURE = 283.15


def _scheme(sigma: str) -> int:
    if not isinstance(sigma, str) or sigma not in SIGMA_SCHEMES:
        note = (
            did_you_mean(sigma, SIGMA_SCHEMES)
            if isinstance(sigma, str)
            else f" is a {type(sigma).__name__}, not the name of one scheme"
        )
        raise InputError(
            f"sigma={sigma!r}{note}; expected one of {list(SIGMA_SCHEMES)} (Briggs 1973 "
            "urban or rural, or the Pasquill-Gifford-Turner curves as fitted in ISC3)."
        )
    return SIGMA_SCHEMES[sigma]


#: numpy dtype kinds that convert to float but are no physical number: booleans (True read
#: as 1), dates and durations (a date read as days since 1970)
_NOT_NUMBERS = {"b": "booleans", "M": "dates", "m": "durations"}


def _numbers(values: Any, what: str) -> Any:
    """`values` as they are; one :class:`InputError` naming `what` for booleans, dates or
    durations (numpy, pandas or Python ones), which numpy would convert to floats silently
    (``gaussian_plume(1, np.datetime64("2020-01-01"), ...)`` put a receptor 18 262 m away).

    An array's dtype is read without converting it (dask stays lazy); object arrays, lists
    and tuples are scanned for a Python bool (numpy's conversion refuses Python dates with
    a message of its own, and turns ``[500.0, True]`` into floats)."""
    dtype = getattr(values, "dtype", None)
    kind = dtype.kind if isinstance(dtype, np.dtype) else "O"
    if kind in _NOT_NUMBERS:
        arr = np.asarray(values)
        first = arr.ravel()[0] if arr.size else arr.dtype.type()
    elif kind == "O" or isinstance(values, list | tuple):
        try:
            arr = np.asarray(values, dtype=object)
        except (TypeError, ValueError):  # ragged: as_floats says so
            return values
        flat = arr.ravel()
        pos = next((i for i, v in enumerate(flat) if isinstance(v, bool | np.bool_)), None)
        if pos is None:
            return values
        first, kind = flat[pos], "b"
    else:
        return values
    shown = repr(first.item() if isinstance(first, np.generic) and kind == "b" else first)
    fix = (
        "give numbers (1.0, not True)"
        if kind == "b"
        else "give distances and rates as numbers in the units stated, not times"
    )
    raise InputError(
        f"{what}: got {_NOT_NUMBERS[kind]} (e.g. {shown[:60]}, {type(first).__name__}), "
        f"which would be read as numbers; expected real numbers; {fix}."
    )


def _finite(values: Any, what: str) -> np.ndarray:
    arr = as_floats(values, what)
    if (~np.isfinite(arr)).any():
        raise InputError(f"{what}: {int((~np.isfinite(arr)).sum())} NaN or infinite value(s).")
    return arr


def _non_negative(values: Any, what: str, hint: str = "") -> np.ndarray:
    arr = _finite(values, what)
    if (arr < 0).any():
        raise InputError(
            f"{what}: {int((arr < 0).sum())} negative value(s) (e.g. {arr[arr < 0].ravel()[0]!r}); "
            f"expected >= 0.{hint}"
        )
    return arr


#: temperature [K] below which a stack gas or near-surface air temperature cannot be kelvin
#: (the coldest air ever measured at the surface is about 184 K): degC given as kelvin
_MIN_KELVIN = 150.0


def _require_kelvin(values: np.ndarray, what: str) -> None:
    """One line (a :class:`~trajectoire.UnitsError`, an InputError) for temperatures below
    :data:`_MIN_KELVIN` (NaN passes): degC given for kelvin (127 degC read as 127 K made a
    buoyant plume rise as if 3 times hotter than the air)."""
    low = values < _MIN_KELVIN
    if low.any():
        raise UnitsError(
            f"{what}: {int(low.sum())} value(s) below {_MIN_KELVIN:g} K (e.g. "
            f"{float(values[low].ravel()[0])!r}); expected absolute temperatures [K]. Values in "
            "degC? add 273.15."
        )


def _one(arr: np.ndarray, what: str, expected: str) -> np.ndarray:
    """`arr` as a 0-d array; one line naming `what` when it holds several values
    (`expected` says what it takes)."""
    if arr.size != 1:
        raise InputError(
            f"{what}: got {arr.size} values (shape {arr.shape}); expected {expected}. Call "
            "once per value."
        )
    return arr.reshape(())


def _scalar(value: Any, what: str, expected: str) -> float:
    """A finite scalar as a float; one line naming `what` for an array of several values,
    text, NaN or infinity (`expected` says what it takes)."""
    return float(_one(_finite(value, what), what, expected))


def _scalar_non_negative(value: Any, what: str) -> float:
    """A finite scalar >= 0 as a float (heights, decay rates)."""
    return float(_one(_non_negative(value, what), what, "one number >= 0"))


def _point(value: Any, what: str) -> tuple[float, float]:
    """An end point ``(x, y)`` [m] of a segment as two finite floats; one line naming
    `what` otherwise (NaN coordinates gave a concentration of 0)."""
    xy = as_floats(value, what, "a point (x, y) [m]")
    if xy.ndim != 1 or xy.size < 2:
        raise InputError(
            f"{what}: got {xy.size} value(s) (shape {xy.shape}); expected a point (x, y) [m]."
        )
    if not np.isfinite(xy[:2]).all():
        raise InputError(
            f"{what}=({float(xy[0])!r}, {float(xy[1])!r}): a coordinate is NaN or infinite; "
            "expected a point (x, y) of finite numbers [m]. Drop or fill the link's geometry."
        )
    return float(xy[0]), float(xy[1])


def _wind(u: Any, what: str = "u") -> np.ndarray:
    arr = _finite(u, what)
    if (arr < 0).any():
        raise InputError(
            f"{what}: negative wind speed {arr[arr < 0].ravel()[0]!r} [m s-1]; a speed is >= 0 "
            "(the direction carries the sign). Check the data."
        )
    if (arr == 0).any():
        raise InputError(
            f"{what}: wind speed 0 [m s-1]; the Gaussian plume needs u > 0. Apply a calm "
            f"threshold first (e.g. np.maximum(u, {CALM_THRESHOLD}))."
        )
    return arr


def _lid(mixing_height: Any) -> np.ndarray:
    if mixing_height is None:
        return np.asarray(np.inf)
    arr = as_floats(mixing_height, "mixing_height", "heights [m], or None for no lid")
    if np.isnan(arr).any() or (arr <= 0).any():
        raise InputError(
            f"mixing_height: got {arr.ravel()[np.isnan(arr.ravel()) | (arr.ravel() <= 0)][:3]}; "
            "expected heights > 0 [m], or inf / None for no lid."
        )
    return arr


#: values that stand in for masked entries of the functions' inputs while they compute
#: (their results are masked): cheap, and accepted by the checks
_MASKED_FILL: dict[str, Any] = {
    "q": 0.0,
    "x": 0.0,
    "y": 0.0,
    "z": 0.0,
    "u": 1.0,
    "h": 0.0,
    "mixing_height": np.inf,
    "stability": "D",
    "stack_height": 0.0,
    "diameter": 0.0,
    "exit_velocity": 0.0,
    "exit_temperature": 300.0,
    "ambient_temperature": 300.0,
    "u_stack": 1.0,
    "receptors_x": 0.0,
    "receptors_y": 0.0,
    "receptors_z": 0.0,
}


def _masks_off(named: dict[str, Any]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """`named` inputs with each masked array's masked entries set to their stand-in
    (:data:`_MASKED_FILL`), and the masks found (:func:`trajectoire._validate.masks_off`)."""
    return masks_off(named, _MASKED_FILL)


def _kernel_lid(heights: Any) -> np.ndarray:
    """Lid heights [m] for the kernels: inf (no lid) becomes ``_NO_LID``."""
    return np.where(np.isinf(heights), _NO_LID, heights)


def _profile_exponents(code: int) -> np.ndarray:
    """Power-law exponents p of the wind profile for A..F: urban with the urban sigma scheme."""
    return np.asarray(WIND_PROFILE_EXPONENTS["urban" if code == _URBAN else "rural"])


def _anemometer_height(met: Any) -> float:
    """Reference height z_ref [m] of the wind of a met dataset or table (default 10 m)."""
    return float(met.attrs.get("anemometer_height", 10.0))


def dispersion_coefficients(
    x: npt.ArrayLike, stability: Any, sigma: str = "briggs-rural"
) -> tuple[np.ndarray, np.ndarray]:
    """Dispersion coefficients sigma_y, sigma_z [m] at downwind distances `x` [m].

    Parameters
    ----------
    x : array-like
        Downwind distance [m]; 0 where ``x <= 0``.
    stability : str or array-like of str
        Pasquill-Gifford class letters, broadcast against `x`.
    sigma : {"briggs-rural", "briggs-urban", "pgt"}
        Briggs (1973) open-country or urban formulas, or the Pasquill-Gifford-Turner curves
        (Turner 1970) as fitted in ISC3 (EPA-454/B-95-003b, Vol. II, Eqs. 1-33, 1-34).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        sigma_y and sigma_z [m]. Masked in, masked out: where `x` or `stability` is a
        :class:`numpy.ma.MaskedArray`, both are masked where it is.

    Examples
    --------
    >>> sy, sz = dispersion_coefficients(1000.0, "D", "pgt")
    >>> round(float(sy), 1), round(float(sz), 2)
    (68.1, 32.09)
    """
    code = _scheme(sigma)
    given, masks = _masks_off({"x": x, "stability": stability})
    xs, cls = broadcast_named(
        "dispersion_coefficients",
        x=_finite(given["x"], "x"),
        stability=stability_index(given["stability"]),
    )
    xf = np.ascontiguousarray(xs, dtype=float).ravel()
    cf = np.ascontiguousarray(cls, dtype=np.int64).ravel()
    sy = np.empty_like(xf)
    sz = np.empty_like(xf)
    _sigma.sigmas(xf, code, cf, sy, sz)
    return masked_like(sy.reshape(xs.shape), masks), masked_like(sz.reshape(xs.shape), masks)


def effective_height(
    stack_height: npt.ArrayLike,
    diameter: npt.ArrayLike,
    exit_velocity: npt.ArrayLike,
    exit_temperature: npt.ArrayLike,
    ambient_temperature: npt.ArrayLike,
    u_stack: npt.ArrayLike,
    stability: Any,
) -> np.ndarray:
    """Effective release height [m]: Briggs stack-tip downwash plus final plume rise.

    Parameters
    ----------
    stack_height : array-like
        Physical stack height [m], >= 0.
    diameter : array-like
        Inner stack diameter at the top [m], >= 0.
    exit_velocity : array-like
        Gas exit velocity [m s-1], >= 0.
    exit_temperature, ambient_temperature : array-like
        Gas exit and ambient air temperatures [K], >= 150 K (lower values are degC).
    u_stack : array-like
        Wind speed at the stack top [m s-1], > 0.
    stability : str or array-like of str
        Pasquill-Gifford class letters.

    Returns
    -------
    numpy.ndarray
        ``h' + dh`` [m] (broadcast shape); masked wherever an input is a masked array's
        masked entry (those entries are neither checked nor computed).

    Raises
    ------
    trajectoire.InputError
        NaN or text inputs, negative stack height, diameter or exit velocity, wind speed
        <= 0, unknown stability class, shapes that do not broadcast, temperatures below
        150 K (degC given for kelvin: add 273.15).

    Notes
    -----
    Briggs (1969, 1971, 1972, 1975) as in ISC3 (EPA-454/B-95-003b, Vol. II, 1.1.4); see
    ``trajectoire._kernels.rise`` for the equations.

    Examples
    --------
    >>> round(float(effective_height(50, 2, 15, 400, 283, 5, "D")), 2)
    121.98
    """
    g, masks = _masks_off(
        {
            "stack_height": stack_height,
            "diameter": diameter,
            "exit_velocity": exit_velocity,
            "exit_temperature": exit_temperature,
            "ambient_temperature": ambient_temperature,
            "u_stack": u_stack,
            "stability": stability,
        }
    )
    arrays = broadcast_named(
        "effective_height",
        stack_height=_non_negative(
            g["stack_height"], "stack_height", " A stack cannot be below ground."
        ),
        diameter=_non_negative(g["diameter"], "stack_diameter"),
        exit_velocity=_non_negative(g["exit_velocity"], "exit_velocity"),
        exit_temperature=_finite(g["exit_temperature"], "exit_temperature"),
        ambient_temperature=_finite(g["ambient_temperature"], "ambient_temperature"),
        u_stack=_wind(g["u_stack"], "u_stack"),
        stability=stability_index(g["stability"]),
    )
    for arr, what in ((arrays[3], "exit_temperature"), (arrays[4], "ambient_temperature")):
        _require_kelvin(arr, what)
    hs, ds, vs, ts, ta, us = (np.ascontiguousarray(a, dtype=float).ravel() for a in arrays[:6])
    cls = np.ascontiguousarray(arrays[6], dtype=np.int64).ravel()
    out = np.empty(hs.size)
    _rise.effective_heights(hs, ds, vs, ts, ta, us, cls, out)
    return masked_like(out.reshape(arrays[0].shape), masks)


def gaussian_plume(
    q: npt.ArrayLike,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    z: npt.ArrayLike,
    *,
    u: npt.ArrayLike,
    stability: Any,
    h: npt.ArrayLike,
    sigma: str = "briggs-rural",
    mixing_height: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Concentration of a continuous point release: the steady Gaussian plume.

    Parameters
    ----------
    q : array-like
        Emission rate [g s-1].
    x, y, z : array-like
        Receptor downwind distance, crosswind offset and height above ground [m]
        (numpy broadcasting). Receptors with ``x <= 0`` (upwind) get 0.
    u : array-like
        Wind speed at the release height [m s-1], > 0.
    stability : str or array-like of str
        Pasquill-Gifford class letter(s) ``A``..``F``.
    h : array-like
        Effective release height [m], >= 0.
    sigma : {"briggs-rural", "briggs-urban", "pgt"}, default "briggs-rural"
        Dispersion coefficients: Briggs (1973) rural or urban, or the Pasquill-Gifford-Turner
        curves (Turner 1970, ISC3 fits).
    mixing_height : array-like, optional
        Height of the mixing lid [m]; None (or inf) for ground reflection only.

    Returns
    -------
    numpy.ndarray
        Concentration [g m-3], the broadcast shape of the inputs. Masked in, masked out:
        where an input is a :class:`numpy.ma.MaskedArray` (as netCDF4 returns), the result
        is one too, masked wherever an input is masked (the masked entries are neither
        checked nor computed).

    Raises
    ------
    trajectoire.InputError
        Negative or zero wind speed, unknown stability class or sigma scheme (a list
        included), negative release height, non-positive mixing height, NaN inputs, text
        that is not a number (the argument and the value named), shapes that do not
        broadcast together.

    Notes
    -----
    .. math::

        C = \\frac{q}{2\\pi u \\sigma_y \\sigma_z} e^{-y^2/2\\sigma_y^2}
            \\sum_{n} \\left[e^{-(z-h+2n z_i)^2/2\\sigma_z^2}
            + e^{-(z+h+2n z_i)^2/2\\sigma_z^2}\\right]

    with the sum over image sources reflecting at the ground and at the lid ``z_i``
    (``n = 0`` only without a lid); for ``sigma_z > 1.6 z_i`` the well-mixed form
    ``q / (sqrt(2 pi) u sigma_y z_i) exp(-y^2 / 2 sigma_y^2)`` (ISC3). A plume above the lid
    (``h > z_i``) gives 0 below it.

    References
    ----------
    Turner, D. B. (1970). Workbook of atmospheric dispersion estimates. EPA AP-26.
    Seinfeld, J. H. and Pandis, S. N. (2016). Atmospheric Chemistry and Physics, 3rd ed.,
    ch. 18. US EPA (1995). ISC3 User's Guide Vol. II, EPA-454/B-95-003b.

    Examples
    --------
    >>> c = gaussian_plume(1.0, 1000.0, 0.0, 0.0, u=3.0, stability="D", h=0.0)
    >>> round(float(c) * 1e6, 3)  # ug m-3
    36.657
    """
    code = _scheme(sigma)
    given = {"q": q, "x": x, "y": y, "z": z, "u": u, "h": h, "stability": stability}
    if mixing_height is not None:
        given["mixing_height"] = mixing_height
    for key in ("q", "x", "y", "z", "u", "h", "mixing_height"):
        if key in given:
            _numbers(given[key], f"gaussian_plume: {key}")
    given, masks = _masks_off(given)
    q, x, y, z, u, h, stability = (given[k] for k in ("q", "x", "y", "z", "u", "h", "stability"))
    mixing_height = given.get("mixing_height")
    arrays = broadcast_named(
        "gaussian_plume",
        q=_finite(q, "q"),
        x=_finite(x, "x"),
        y=_finite(y, "y"),
        z=_non_negative(z, "z"),
        u=_wind(u),
        h=_non_negative(h, "h", " The effective release height is >= 0 (a stack below zero?)."),
        mixing_height=_lid(mixing_height),
        stability=stability_index(stability),
    )
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays[:7]]
    cls = np.ascontiguousarray(arrays[7], dtype=np.int64).ravel()
    flat[6] = _kernel_lid(flat[6])
    out = np.empty(flat[0].shape)
    _plume.plume_array(
        flat[0], flat[1], flat[2], flat[3], flat[4], flat[5], flat[6], cls, code, out
    )
    return masked_like(out.reshape(shape), masks)


def line_source(
    q: float,
    start: tuple[float, float],
    end: tuple[float, float],
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    receptors_z: npt.ArrayLike = 1.5,
    *,
    u: float,
    wind_direction: float,
    stability: str,
    h: float = 0.0,
    sigma: str = "briggs-urban",
    mixing_height: float | None = None,
) -> np.ndarray:
    """Concentration of a uniform line source (a road link) by integration along it.

    Parameters
    ----------
    q : float
        Emission per unit length [g m-1 s-1].
    start, end : (float, float)
        End points of the segment (x east, y north) [m].
    receptors_x, receptors_y, receptors_z : array-like
        Receptor coordinates [m] (same frame), broadcast together.
    u : float
        Wind speed [m s-1], > 0.
    wind_direction : float
        Direction the wind blows from [degree, 0 = north, clockwise], in [0, 360).
    stability : str
        Pasquill-Gifford class letter.
    h : float, default 0.0
        Release height [m].
    sigma : str, default "briggs-urban"
        Dispersion-coefficient scheme (see :func:`gaussian_plume`).
    mixing_height : float, optional
        Lid height [m]; None for no lid.

    Returns
    -------
    numpy.ndarray
        Concentration [g m-3] at the receptors; masked where a receptor coordinate is a
        masked array's masked entry.

    Raises
    ------
    trajectoire.InputError
        An end point that is not two finite coordinates; `q`, `u`, `wind_direction`, `h`,
        `mixing_height` or `stability` given as several values (one call per hour or per
        wind speed), NaN or text; wind speed <= 0, direction outside [0, 360), negative
        height, unknown stability class or sigma scheme; receptors that are NaN, below
        ground or of shapes that do not broadcast.

    Notes
    -----
    ``C(r) = int_0^L q c1(r - s(l)) dl`` with ``c1`` the unit Gaussian plume; the integral is
    taken on panels no longer than half the local sigma_y (Gauss-Legendre, 4 nodes), so the
    result converges for receptors close to the road. For a long segment across the wind it
    tends to the infinite crosswind line ``q V / (sqrt(2 pi) u sigma_z)`` (Seinfeld and
    Pandis 2016, ch. 18; Turner 1970, ch. 5 for the ground-level case).

    Examples
    --------
    >>> c = line_source(1e-3, (-5000.0, 0.0), (5000.0, 0.0), 0.0, 100.0, 0.0,
    ...                 u=2.0, wind_direction=180.0, stability="D", sigma="briggs-rural")
    >>> round(float(c) * 1e6, 2)  # ug m-3
    71.3
    """
    code = _scheme(sigma)
    ql = _scalar(q, "q", "one emission rate per unit length [g m-1 s-1] (a number)")
    x0, y0 = _point(start, "start")
    x1, y1 = _point(end, "end")
    uu = float(_one(_wind(u), "u", "one wind speed [m s-1] (a number)"))
    wd = _scalar(wind_direction, "wind_direction", "one direction [degree] (a number)")
    if not (0.0 <= wd < 360.0):
        raise InputError(f"wind_direction={wd!r}; expected degrees in [0, 360).")
    hh = _scalar_non_negative(h, "h")
    lid = _one(_lid(mixing_height), "mixing_height", "one height [m] (a number), or None")
    zi = float(_kernel_lid(lid))
    cls = int(_one(stability_index(stability), "stability", "one class letter 'A'..'F'"))
    r, masks = _masks_off(
        {"receptors_x": receptors_x, "receptors_y": receptors_y, "receptors_z": receptors_z}
    )
    rx, ry, rz = broadcast_named(
        "receptors",
        receptors_x=_finite(r["receptors_x"], "receptors_x"),
        receptors_y=_finite(r["receptors_y"], "receptors_y"),
        receptors_z=_non_negative(r["receptors_z"], "receptors_z"),
    )
    shape = rx.shape
    gx, gw = np.polynomial.legendre.leggauss(4)
    out = np.empty(rx.size)
    _plume.line_source(
        ql,
        x0,
        y0,
        x1,
        y1,
        np.ascontiguousarray(rx, dtype=float).ravel(),
        np.ascontiguousarray(ry, dtype=float).ravel(),
        np.ascontiguousarray(rz, dtype=float).ravel(),
        uu,
        wd,
        hh,
        zi,
        code,
        cls,
        gx,
        gw,
        out,
    )
    return masked_like(out.reshape(shape), masks)
