"""Gaussian dispersion: the point plume, line sources, long-term kernels and FFT convolution.

Thin, validating wrappers over the numba kernels of ``trajectoire._kernels`` (``sigma``,
``rise``, ``plume``, ``plume_longterm``). Methods, equations and choices are in
``docs/dispersion.md``.

* :func:`gaussian_plume` (stable): the steady plume with ground and lid reflections.
* :func:`line_source`: a road link by numerical integration along the segment.
* :func:`annual_kernel`: the frequency-weighted, cell-averaged annual kernel of a unit
  ground-level or low source, applied to emission grids by :class:`ConvolutionPlan` (FFT with
  zero padding, no wrap-around).
* :func:`point_sources_annual`: the annual footprints of stacks (Briggs rise per met class).
* :func:`hourly_at_receptors`: hourly concentrations of stacks at receptor points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.fft
import xarray as xr

from trajectoire._kernels import plume as _plume
from trajectoire._kernels import plume_longterm as _lt
from trajectoire._kernels import rise as _rise
from trajectoire._kernels import sigma as _sigma
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.geo.grid import Grid
from trajectoire.meteo.hourly import (
    CALM_THRESHOLD,
    STABILITY_CLASSES,
    WIND_PROFILE_EXPONENTS,
    _as_letters,
    default_mixing_height,
    validate_hourly,
)
from trajectoire.units import SECONDS_PER_YEAR

__all__ = [
    "SIGMA_SCHEMES",
    "ConvolutionPlan",
    "annual_kernel",
    "dispersion_coefficients",
    "effective_height",
    "fft_convolve",
    "gaussian_plume",
    "hourly_at_receptors",
    "line_source",
    "point_sources_annual",
]

SIGMA_SCHEMES: dict[str, int] = {"briggs-rural": 0, "briggs-urban": 1, "pgt": 2}
"""Dispersion-coefficient schemes and their kernel codes."""

# ug m-3 per (t yr-1) from g m-3 per (g s-1)
_T_PER_YR_TO_UG = 1e6 / SECONDS_PER_YEAR * 1e6


def _scheme(sigma: str) -> int:
    if sigma not in SIGMA_SCHEMES:
        raise InputError(
            f"sigma={sigma!r}; expected one of {list(SIGMA_SCHEMES)} (Briggs 1973 rural or "
            "urban, or the Pasquill-Gifford-Turner curves as fitted in ISC3)."
        )
    return SIGMA_SCHEMES[sigma]


def _classes(stability: Any) -> np.ndarray:
    return np.searchsorted(np.array(STABILITY_CLASSES), _as_letters(stability)).astype(np.int64)


def _finite(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
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
    arr = np.asarray(mixing_height, dtype=float)
    if np.isnan(arr).any() or (arr <= 0).any():
        raise InputError(
            f"mixing_height: got {arr.ravel()[np.isnan(arr.ravel()) | (arr.ravel() <= 0)][:3]}; "
            "expected heights > 0 [m], or inf / None for no lid."
        )
    return arr


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
        sigma_y and sigma_z [m].

    Examples
    --------
    >>> sy, sz = dispersion_coefficients(1000.0, "D", "pgt")
    >>> round(float(sy), 1), round(float(sz), 2)
    (68.1, 32.09)
    """
    code = _scheme(sigma)
    xs, cls = np.broadcast_arrays(_finite(x, "x"), _classes(stability))
    xf = np.ascontiguousarray(xs, dtype=float).ravel()
    cf = np.ascontiguousarray(cls, dtype=np.int64).ravel()
    sy = np.empty_like(xf)
    sz = np.empty_like(xf)
    _sigma.sigmas(xf, code, cf, sy, sz)
    return sy.reshape(xs.shape), sz.reshape(xs.shape)


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
        Gas exit and ambient air temperatures [K], > 0.
    u_stack : array-like
        Wind speed at the stack top [m s-1], > 0.
    stability : str or array-like of str
        Pasquill-Gifford class letters.

    Returns
    -------
    numpy.ndarray
        ``h' + dh`` [m] (broadcast shape).

    Notes
    -----
    Briggs (1969, 1971, 1972, 1975) as in ISC3 (EPA-454/B-95-003b, Vol. II, 1.1.4); see
    ``trajectoire._kernels.rise`` for the equations.

    Examples
    --------
    >>> round(float(effective_height(50, 2, 15, 400, 283, 5, "D")), 2)
    121.98
    """
    arrays = np.broadcast_arrays(
        _non_negative(stack_height, "stack_height", " A stack cannot be below ground."),
        _non_negative(diameter, "stack_diameter"),
        _non_negative(exit_velocity, "exit_velocity"),
        _finite(exit_temperature, "exit_temperature"),
        _finite(ambient_temperature, "ambient_temperature"),
        _wind(u_stack, "u_stack"),
        _classes(stability),
    )
    for arr, what in ((arrays[3], "exit_temperature"), (arrays[4], "ambient_temperature")):
        if (arr <= 0).any():
            raise InputError(f"{what}: temperatures must be > 0 [K], got {arr[arr <= 0][:3]}.")
    out = np.empty(arrays[0].shape)
    it = np.nditer(arrays, flags=["multi_index", "refs_ok"])
    for vals in it:
        out[it.multi_index] = _rise.effective_height(
            float(vals[0]),
            float(vals[1]),
            float(vals[2]),
            float(vals[3]),
            float(vals[4]),
            float(vals[5]),
            int(vals[6]),
        )
    return out


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
        Concentration [g m-3], the broadcast shape of the inputs.

    Raises
    ------
    trajectoire.InputError
        Negative or zero wind speed, unknown stability class or sigma scheme, negative
        release height, non-positive mixing height, NaN inputs.

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
    arrays = np.broadcast_arrays(
        _finite(q, "q"),
        _finite(x, "x"),
        _finite(y, "y"),
        _non_negative(z, "z"),
        _wind(u),
        _non_negative(h, "h", " The effective release height is >= 0 (a stack below zero?)."),
        _lid(mixing_height),
        _classes(stability),
    )
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays[:7]]
    cls = np.ascontiguousarray(arrays[7], dtype=np.int64).ravel()
    flat[6] = np.where(np.isinf(flat[6]), 1e30, flat[6])
    out = np.empty(flat[0].shape)
    _plume.plume_array(
        flat[0], flat[1], flat[2], flat[3], flat[4], flat[5], flat[6], cls, code, out
    )
    return out.reshape(shape)


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
        Concentration [g m-3] at the receptors.

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
    _wind(u)
    wd = float(wind_direction)
    if not (0.0 <= wd < 360.0):
        raise InputError(f"wind_direction={wd!r}; expected degrees in [0, 360).")
    hh = float(_non_negative(h, "h"))
    zi = float(_lid(mixing_height))
    zi = 1e30 if math.isinf(zi) else zi
    rx, ry, rz = np.broadcast_arrays(
        _finite(receptors_x, "receptors_x"),
        _finite(receptors_y, "receptors_y"),
        _non_negative(receptors_z, "receptors_z"),
    )
    shape = rx.shape
    gx, gw = np.polynomial.legendre.leggauss(4)
    out = np.empty(rx.size)
    _plume.line_source(
        float(q),
        float(start[0]),
        float(start[1]),
        float(end[0]),
        float(end[1]),
        np.ascontiguousarray(rx, dtype=float).ravel(),
        np.ascontiguousarray(ry, dtype=float).ravel(),
        np.ascontiguousarray(rz, dtype=float).ravel(),
        float(u),
        wd,
        hh,
        zi,
        code,
        int(_classes(stability)),
        gx,
        gw,
        out,
    )
    return out.reshape(shape)


# ------------------------------------------------------------------ long-term kernels
def _table(freq: xr.Dataset, what: str = "freq_year") -> xr.Dataset:
    for name in ("frequency", "inverse_wind_speed"):
        if name not in freq:
            raise MissingVariableError(
                f"{what}: missing {name!r}; expected a table from trajectoire.meteo.met_classes."
            )
    if "year" in freq.dims:
        if freq.sizes["year"] != 1:
            raise InputError(
                f"{what}: has {freq.sizes['year']} years; pass one year, e.g. table.sel(year=2019)."
            )
        freq = freq.isel(year=0)
    dims = ("direction", "speed", "stability")
    for d in dims:
        if d not in freq["frequency"].dims:
            raise MissingVariableError(f"{what}: frequency lacks dim {d!r}.")
    return freq.transpose(*dims, ...)


def _groups(
    freq: xr.Dataset, urban: bool, decay: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse a frequency table into groups of (speed, stability) classes.

    Returns the direction weights a (G, N) = f <1/u10> of each group, the stability index,
    the lid height (frequency-weighted mean over directions), the group's mean 1/u and the
    power-law exponent of each group.
    """
    f = np.asarray(freq["frequency"].values, dtype=float)  # (N, S, C)
    iu = np.asarray(freq["inverse_wind_speed"].values, dtype=float)
    if (~np.isfinite(f)).any() or (f < 0).any():
        raise InputError("freq_year: frequency holds NaN or negative values.")
    if "mixing_height" in freq:
        zi = np.asarray(freq["mixing_height"].values, dtype=float)
    else:
        zi = np.broadcast_to(default_mixing_height(np.array(STABILITY_CLASSES)), f.shape)
    letters = [str(v) for v in freq["stability"].values]
    cls_of = _classes(np.array(letters))
    p = np.asarray(WIND_PROFILE_EXPONENTS["urban" if urban else "rural"])
    keys: dict[tuple[Any, ...], int] = {}
    rows: list[np.ndarray] = []
    cl: list[int] = []
    zis: list[float] = []
    ius: list[float] = []
    for s in range(f.shape[1]):
        for c in range(f.shape[2]):
            fs = f[:, s, c]
            tot = fs.sum()
            if tot <= 0:
                continue
            w = fs * iu[:, s, c]
            z = zi[:, s, c]
            fin = np.isfinite(z) & (fs > 0)
            if not fin.any():
                zmean = math.inf
            elif np.all(z[fin] == z[fin][0]):
                zmean = float(z[fin][0])
            else:
                zmean = round(float((fs[fin] * z[fin]).sum() / fs[fin].sum()), 3)
            imean = float(w.sum() / tot)
            key: tuple[Any, ...] = (int(cls_of[c]), zmean) + ((s,) if decay else ())
            if key in keys:
                rows[keys[key]] += w
                continue
            keys[key] = len(rows)
            rows.append(w.copy())
            cl.append(int(cls_of[c]))
            zis.append(zmean)
            ius.append(imean)
    if not rows:
        raise InputError("freq_year: all frequencies are 0; nothing to disperse.")
    a = np.array(rows)
    zarr = np.array(zis)
    zarr = np.where(np.isinf(zarr), 1e30, zarr)
    return a, np.array(cl, dtype=np.int64), zarr, np.array(ius), p[np.array(cl)]


def _leggauss_half(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * x, 0.5 * w


def annual_kernel(
    freq_year: xr.Dataset,
    *,
    resolution: float,
    radius: float,
    release_height: float = 0.0,
    receptor_height: float = 1.5,
    sigma: str = "briggs-urban",
    decay_rate: float = 0.0,
    initial_sigma_z: float = 0.0,
    sector_smoothing: bool = True,
    refine: int = 1,
) -> xr.DataArray:
    """Annual mean concentration around a grid cell emitting 1 t yr-1 (the convolution kernel).

    Parameters
    ----------
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes` (``frequency``,
        ``inverse_wind_speed``, optionally ``mixing_height``).
    resolution : float
        Cell size [m] of the (square-celled) grid, > 0.
    radius : float
        Cut-off radius [m]: cells whose centre is further than this from the source cell
        centre get 0. The kernel has ``2 m + 1`` cells a side, ``m = ceil(radius / resolution)``.
    release_height : float, default 0.0
        Release height [m] of the cell's emissions (no plume rise).
    receptor_height : float, default 1.5
        Receptor height [m].
    sigma : {"briggs-rural", "briggs-urban", "pgt"}, default "briggs-urban"
        Dispersion-coefficient scheme; urban also selects the urban wind-profile exponents.
    decay_rate : float, default 0.0
        First-order loss rate k [s-1]: the plume is multiplied by ``exp(-k r / u)``.
    initial_sigma_z : float, default 0.0
        Initial vertical spread [m] added in quadrature to sigma_z (building wakes, traffic
        turbulence); needed when both heights are 0.
    sector_smoothing : bool, default True
        Interpolate linearly between adjacent sector centres (True) or use flat sectors
        (pure ISCLT).
    refine : int, default 1
        Multiplies the number of quadrature nodes (for convergence checks).

    Returns
    -------
    xarray.DataArray
        ``kernel(dy, dx)`` [ug m-3 per t yr-1] of integer cell offsets; ``dy`` positive to the
        south (row index of a north-up grid), ``dx`` positive to the east; the source cell is
        at the centre.

    Raises
    ------
    trajectoire.InputError
        Bad resolution, radius, heights or table; or both heights and the initial sigma_z 0
        (the ground-level point kernel is not integrable at the receptor).

    Notes
    -----
    Sector-averaged long-term form (ISCLT), frequency-weighted over the classes ``k``::

        K(r, theta) = sum_k f_k <1/u>_k w_k(theta) / r  V_k / (sqrt(2 pi) sigma_z,k(r))

    averaged over the source cell: Gauss-Legendre rules whose order falls with distance
    (16 x 16 nodes for the 8 neighbours, down to 2 x 2 up to 40 cells and the midpoint
    beyond), and for the source cell itself a polar integral around the receptor in which the
    1/r cancels the Jacobian (no singularity). The wind at the release height is
    ``u10 (max(h, z_ref) / z_ref)^p``. Emission 1 t yr-1 = 1e6 / 31 557 600 g s-1.

    Examples
    --------
    >>> import pandas as pd
    >>> import trajectoire.meteo as tm
    >>> t = pd.date_range("2021-01-01", periods=4, freq="h")
    >>> met = xr.Dataset({"wind_speed": ("time", [3.0, 4, 5, 2]),
    ...                   "wind_direction": ("time", [270.0, 250, 260, 280]),
    ...                   "stability": ("time", ["D", "D", "C", "D"])}, coords={"time": t})
    >>> k = annual_kernel(tm.met_classes(met).isel(year=0), resolution=100.0, radius=1000.0)
    >>> k.shape, bool(k.sel(dy=0, dx=2) > k.sel(dy=0, dx=-2))
    ((21, 21), True)
    """
    code = _scheme(sigma)
    res = float(resolution)
    rad = float(radius)
    if not (math.isfinite(res) and res > 0):
        raise InputError(f"resolution={resolution!r}; expected a cell size > 0 [m].")
    if not (math.isfinite(rad) and rad >= res):
        raise InputError(f"radius={radius!r}; expected a cut-off >= resolution [m].")
    h = float(_non_negative(release_height, "release_height"))
    z = float(_non_negative(receptor_height, "receptor_height"))
    sz0 = float(_non_negative(initial_sigma_z, "initial_sigma_z"))
    k = float(_non_negative(decay_rate, "decay_rate"))
    if h == 0 and z == 0 and sz0 == 0:
        raise InputError(
            "release_height, receptor_height and initial_sigma_z are all 0: the ground-level "
            "kernel is not integrable at the source. Use receptor_height=1.5 (default) or "
            "initial_sigma_z > 0."
        )
    refine = int(refine)
    if refine < 1:
        raise InputError(f"refine={refine!r}; expected an integer >= 1.")
    table = _table(freq_year)
    a, cls, zis, ius, p = _groups(table, urban=code == 1, decay=k > 0)
    zref = float(table.attrs.get("anemometer_height", 10.0))
    fac = (zref / max(h, zref)) ** p
    a = a * fac[:, None] * _T_PER_YR_TO_UG
    ius = ius * fac
    hs = np.full(a.shape[0], h)
    m = int(math.ceil(rad / res - 1e-9))
    base = [16, 8, 4, 2, 1]
    orders = [b * refine for b in base]
    nmax = max(orders)
    gl_x = np.zeros((len(orders), nmax))
    gl_w = np.zeros((len(orders), nmax))
    for lev, n in enumerate(orders):
        gl_x[lev, :n], gl_w[lev, :n] = _leggauss_half(n)
    gl_n = np.array(orders, dtype=np.int64)
    level_edges = np.array([1, 3, 8, 40], dtype=np.int64)
    nd = a.shape[1]
    width = 360.0 / nd
    kinks = np.arange(nd) * width if sector_smoothing else np.arange(nd) * width + width / 2
    breaks = np.unique(np.concatenate([[0.0, 360.0], [45.0, 135.0, 225.0, 315.0], kinks % 360]))
    ax, aw = np.polynomial.legendre.leggauss(8 * refine)
    rx, rw = np.polynomial.legendre.leggauss(16 * refine)
    out = np.zeros((2 * m + 1, 2 * m + 1))
    _lt.annual_kernel_grid(
        m,
        res,
        z,
        np.ascontiguousarray(a),
        hs,
        zis,
        cls,
        ius,
        code,
        sz0,
        k,
        bool(sector_smoothing),
        rad,
        gl_x,
        gl_w,
        gl_n,
        level_edges,
        breaks,
        ax,
        aw,
        rx,
        rw,
        6,
        out,
    )
    offsets = np.arange(-m, m + 1)
    da = xr.DataArray(
        out,
        dims=("dy", "dx"),
        coords={"dy": offsets, "dx": offsets},
        name="kernel",
        attrs={
            "units": "ug m-3 yr t-1",
            "long_name": "annual mean concentration per t yr-1 emitted by the centre cell",
            "resolution": res,
            "radius": rad,
            "release_height": h,
            "receptor_height": z,
            "sigma": sigma,
            "decay_rate": k,
            "dy_positive": "south (row index of a north-up grid)",
            "dx_positive": "east",
        },
    )
    return add_history(
        da,
        f"annual_kernel(resolution={res}, radius={rad}, release_height={h}, "
        f"receptor_height={z}, sigma={sigma!r}, decay_rate={k})",
    )


class ConvolutionPlan:
    """Linear (zero-padded) FFT convolution of fields with odd-sized kernels, reusable.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the fields (leading dims are allowed at call time).
    kernel_shape : (int, int)
        ``(ky, kx)`` of the kernels, both odd; ``K[ky // 2, kx // 2]`` is the source cell.
    workers : int, default -1
        Threads used by :mod:`scipy.fft` (-1: all cores).
    dtype : float64 or float32, default float64
        Precision of the transforms. float32 halves memory and roughly halves the time; its
        round-off is about 1e-7 of the largest value of the result.

    Notes
    -----
    The fields and kernels are zero-padded to at least ``(ny + ky - 1, nx + kx - 1)``
    (rounded up to fast FFT sizes), so the circular convolution of the FFT equals the linear
    one: nothing wraps around the edges. Emissions outside the field are taken as zero. The
    result is cropped to the field ("same" alignment):
    ``out[i, j] = sum_{p, q} field[p, q] K[i - p + my, j - q + mx]``. Real FFTs.
    Because the transform is linear, a spectrum computed once with :meth:`forward` can be
    scaled and summed before a single :meth:`inverse`.

    Examples
    --------
    >>> plan = ConvolutionPlan((4, 5), (3, 3))
    >>> field = np.zeros((4, 5)); field[1, 1] = 2.0
    >>> kern = np.arange(9.0).reshape(3, 3)
    >>> out = plan.convolve(field, kern)
    >>> np.allclose(out[0:3, 0:3], 2 * kern)
    True
    """

    def __init__(
        self,
        shape: tuple[int, int],
        kernel_shape: tuple[int, int],
        *,
        workers: int = -1,
        dtype: npt.DTypeLike = np.float64,
    ) -> None:
        if len(shape) != 2 or min(shape) < 1:
            raise InputError(f"shape={shape!r}; expected (ny, nx) with positive sizes.")
        if len(kernel_shape) != 2 or any(k < 1 or k % 2 == 0 for k in kernel_shape):
            raise InputError(
                f"kernel_shape={kernel_shape!r}; expected odd sizes (2 m + 1) so that the "
                "source cell is the centre."
            )
        self.shape = (int(shape[0]), int(shape[1]))
        self.kernel_shape = (int(kernel_shape[0]), int(kernel_shape[1]))
        self.workers = workers
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InputError(f"dtype={dtype!r}; expected float32 or float64.")
        self.fft_shape = (
            scipy.fft.next_fast_len(self.shape[0] + self.kernel_shape[0] - 1, real=True),
            scipy.fft.next_fast_len(self.shape[1] + self.kernel_shape[1] - 1, real=True),
        )

    def __repr__(self) -> str:
        return (
            f"ConvolutionPlan(shape={self.shape}, kernel_shape={self.kernel_shape}, "
            f"fft_shape={self.fft_shape})"
        )

    def _check(self, arr: np.ndarray, expected: tuple[int, int], what: str) -> np.ndarray:
        a = np.asarray(arr, dtype=self.dtype)
        if a.ndim < 2 or a.shape[-2:] != expected:
            raise InputError(
                f"{what}: shape {a.shape}; expected (..., {expected[0]}, {expected[1]})."
            )
        return a

    def forward(self, field: npt.ArrayLike) -> np.ndarray:
        """Spectrum of a zero-padded field of shape ``(..., ny, nx)`` (complex128)."""
        a = self._check(np.asarray(field), self.shape, "field")
        return scipy.fft.rfftn(a, s=self.fft_shape, axes=(-2, -1), workers=self.workers)

    def kernel_spectrum(self, kernel: npt.ArrayLike) -> np.ndarray:
        """Spectrum of a zero-padded kernel of shape ``(..., ky, kx)`` (complex128)."""
        a = self._check(np.asarray(kernel), self.kernel_shape, "kernel")
        return scipy.fft.rfftn(a, s=self.fft_shape, axes=(-2, -1), workers=self.workers)

    def inverse(self, spectrum: npt.ArrayLike) -> np.ndarray:
        """Field ``(..., ny, nx)`` back from a product of spectra, "same" alignment."""
        full = scipy.fft.irfftn(
            np.asarray(spectrum), s=self.fft_shape, axes=(-2, -1), workers=self.workers
        )
        my, mx = self.kernel_shape[0] // 2, self.kernel_shape[1] // 2
        return np.ascontiguousarray(full[..., my : my + self.shape[0], mx : mx + self.shape[1]])

    def convolve(self, field: npt.ArrayLike, kernel: npt.ArrayLike) -> np.ndarray:
        """Convolve `field` ``(..., ny, nx)`` with `kernel` ``(..., ky, kx)``."""
        return self.inverse(self.forward(field) * self.kernel_spectrum(kernel))


def fft_convolve(field: npt.ArrayLike, kernel: npt.ArrayLike, *, workers: int = -1) -> np.ndarray:
    """Linear "same" convolution of `field` (..., ny, nx) with an odd `kernel` by FFT.

    A one-shot :class:`ConvolutionPlan`; see it for the alignment and the padding.
    """
    f = np.asarray(field, dtype=float)
    k = np.asarray(kernel, dtype=float)
    if f.ndim < 2 or k.ndim < 2:
        raise InputError(f"field {f.shape} and kernel {k.shape} must have at least 2 dims.")
    plan = ConvolutionPlan((f.shape[-2], f.shape[-1]), (k.shape[-2], k.shape[-1]), workers=workers)
    return plan.convolve(f, k)


# ------------------------------------------------------------------ point sources
def _stacks(n: int | None, **arrays: Any) -> tuple[int, dict[str, np.ndarray]]:
    out = {}
    for name, values in arrays.items():
        arr = np.atleast_1d(_finite(values, name)).astype(float)
        if arr.ndim != 1:
            raise InputError(f"{name}: expected one value per source, got shape {arr.shape}.")
        out[name] = arr
    sizes = {a.size for a in out.values()}
    if len(sizes) > 1:
        raise InputError(
            f"source arrays have different lengths { {k: v.size for k, v in out.items()} }."
        )
    size = sizes.pop()
    if n is not None and size != n:
        raise InputError(f"source arrays have {size} entries, expected {n}.")
    for name in ("stack_height", "stack_diameter", "exit_velocity"):
        if name in out and (out[name] < 0).any():
            raise InputError(
                f"{name}: {int((out[name] < 0).sum())} negative value(s) (e.g. "
                f"{out[name][out[name] < 0][0]!r}); expected >= 0 [m, m s-1]. A stack height "
                "below zero is not possible: check the sign and the units."
            )
    if "exit_temperature" in out and (out["exit_temperature"] <= 0).any():
        raise InputError("exit_temperature: expected > 0 [K]; convert degC to K.")
    return size, out


def _stack_groups(
    freq_year: xr.Dataset,
    code: int,
    stack_height: np.ndarray,
    stack_diameter: np.ndarray,
    exit_velocity: np.ndarray,
    exit_temperature: np.ndarray,
    ambient_temperature: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Met groups of a year and, per stack and group, the effective height and wind factor.

    Returns ``a, cls, zis, ius`` of :func:`_groups` and ``hs, fac`` of shape (n_stack, G):
    Briggs effective height [m] with the wind at the stack top ``u_s = u_g (h_s/z_ref)^p``,
    and ``fac = (h_s/z_ref)^-p`` (``1/u_s = fac / u_g``).
    """
    table = _table(freq_year)
    a, cls, zis, ius, p = _groups(table, urban=code == 1, decay=True)
    zref = float(table.attrs.get("anemometer_height", 10.0))
    n, g = len(stack_height), a.shape[0]
    hs = np.empty((n, g))
    fac = np.empty((n, g))
    for s in range(n):
        ratio = max(float(stack_height[s]), zref) / zref
        for gi in range(g):
            fac[s, gi] = ratio ** (-p[gi])
            hs[s, gi] = _rise.effective_height(
                float(stack_height[s]),
                float(stack_diameter[s]),
                float(exit_velocity[s]),
                float(exit_temperature[s]),
                ambient_temperature,
                (1.0 / ius[gi]) * ratio ** p[gi],
                int(cls[gi]),
            )
    return a, cls, zis, ius, hs, fac


def point_sources_annual(
    freq_year: xr.Dataset,
    *,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    stack_height: npt.ArrayLike,
    stack_diameter: npt.ArrayLike,
    exit_temperature: npt.ArrayLike,
    exit_velocity: npt.ArrayLike,
    weights: npt.ArrayLike,
    grid: Grid,
    radius: float,
    receptor_height: float = 1.5,
    sigma: str = "briggs-rural",
    ambient_temperature: float = 283.15,
    decay_rate: float = 0.0,
    sector_smoothing: bool = True,
) -> np.ndarray:
    """Annual mean concentration fields of point stacks on the grid-cell centres.

    Parameters
    ----------
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes`.
    x, y : array-like
        Stack positions [m, grid CRS], shape (n_source,).
    stack_height, stack_diameter : array-like
        [m], >= 0.
    exit_temperature : array-like
        [K], > 0.
    exit_velocity : array-like
        [m s-1], >= 0.
    weights : array-like
        Emissions [t yr-1], shape (n_source, k) (or (n_source,) for k = 1): each stack's
        footprint is computed once and added to the `k` output fields with these weights
        (several pollutants or scenarios at the cost of one).
    grid : trajectoire.Grid
        Receptor grid (cell centres).
    radius : float
        Cut-off radius [m] around each stack.
    receptor_height : float, default 1.5
        [m].
    sigma : str, default "briggs-rural"
        Dispersion-coefficient scheme.
    ambient_temperature : float, default 283.15
        Ambient air temperature for the plume rise [K].
    decay_rate : float, default 0.0
        First-order loss rate [s-1].
    sector_smoothing : bool, default True
        See :func:`annual_kernel`.

    Returns
    -------
    numpy.ndarray
        ``(k, ny, nx)`` annual mean concentration [ug m-3].

    Notes
    -----
    For each (speed, stability) class ``g`` of the table: wind at the stack top
    ``u_s = u_g (max(h_s, z_ref) / z_ref)^p`` with ``u_g = 1 / <1/u>_g``, effective height
    ``H_g`` = Briggs downwash + final rise, and the sector-averaged kernel of
    :func:`annual_kernel` at point receptors. Rows of the grid run in parallel; each row adds
    the stacks in order, so the summation order is fixed (deterministic).
    """
    code = _scheme(sigma)
    if not isinstance(grid, Grid):
        raise InputError(f"grid: expected a trajectoire.Grid, got {type(grid).__name__}.")
    n, st = _stacks(
        None,
        x=x,
        y=y,
        stack_height=stack_height,
        stack_diameter=stack_diameter,
        exit_temperature=exit_temperature,
        exit_velocity=exit_velocity,
    )
    w = _finite(weights, "weights")
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] != n:
        raise InputError(f"weights: shape {w.shape}; expected (n_source={n}, k).")
    rad = float(radius)
    if not (math.isfinite(rad) and rad > 0):
        raise InputError(f"radius={radius!r}; expected > 0 [m].")
    z = float(_non_negative(receptor_height, "receptor_height"))
    k = float(_non_negative(decay_rate, "decay_rate"))
    ta = float(ambient_temperature)
    if not (math.isfinite(ta) and ta > 0):
        raise InputError(f"ambient_temperature={ambient_temperature!r}; expected > 0 [K].")
    a, cls, zis, ius, hs, fac = _stack_groups(
        freq_year,
        code,
        st["stack_height"],
        st["stack_diameter"],
        st["exit_velocity"],
        st["exit_temperature"],
        ta,
    )
    ius_stack = ius  # decay uses the 10 m speed of the class (documented approximation)
    out = np.zeros((w.shape[1], grid.ny, grid.nx))
    _lt.point_sources_footprint(
        st["x"],
        st["y"],
        hs,
        fac,
        np.ascontiguousarray(w * _T_PER_YR_TO_UG),
        np.ascontiguousarray(a),
        zis,
        cls,
        ius_stack,
        code,
        z,
        k,
        bool(sector_smoothing),
        rad,
        np.ascontiguousarray(grid.x, dtype=float),
        np.ascontiguousarray(grid.y, dtype=float),
        out,
    )
    return out


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
        None,
        x=x,
        y=y,
        stack_height=stack_height,
        stack_diameter=stack_diameter,
        exit_temperature=exit_temperature,
        exit_velocity=exit_velocity,
        emission=emission,
    )
    rx = np.atleast_1d(_finite(receptors_x, "receptors_x")).astype(float).ravel()
    ry = np.atleast_1d(_finite(receptors_y, "receptors_y")).astype(float).ravel()
    if rx.shape != ry.shape:
        raise InputError(f"receptors_x {rx.shape} and receptors_y {ry.shape} differ.")
    if not (np.isfinite(calm_threshold) and calm_threshold > 0):
        raise InputError(f"calm_threshold={calm_threshold!r}; expected > 0 [m s-1].")
    z = float(_non_negative(receptor_height, "receptor_height"))
    k = float(_non_negative(decay_rate, "decay_rate"))
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
    zi = np.where(np.isinf(zi), 1e30, zi)
    ta = (
        met["temperature"].values.astype(float)
        if "temperature" in met
        else np.full(uu.size, 283.15)
    )
    ta = np.where(np.isfinite(ta), ta, 283.15)
    urban = code == 1
    p = np.asarray(WIND_PROFILE_EXPONENTS["urban" if urban else "rural"])
    zref = float(met.attrs.get("anemometer_height", 10.0))
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
