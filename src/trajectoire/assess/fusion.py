"""Fusion of the modelled field with monitoring stations by residual interpolation.

The model ``M`` is corrected by the station residuals ``r_k = O_k - M(x_k)`` (additive) or
ratios ``O_k / M(x_k)`` (multiplicative), interpolated over the grid by

* inverse-distance weighting (Shepard, 1968) within a search radius, or
* residual kriging (Denby et al., 2005; Horálek et al., ETC/ACM technical papers): ordinary
  (or simple) kriging of the residuals with an exponential or spherical variogram fitted by
  weighted least squares (Cressie, 1985, 1993), with the kriging variance.

Both interpolators are exact: at a station the fused value equals the observation. Far from
every station the IDW correction and the simple-kriging correction are zero (the model is
kept); the ordinary-kriging correction tends to the estimated mean residual (a network bias
correction). :func:`cross_validate` reports the statistics of :mod:`trajectoire.assess.evaluation`
before and after fusion by leave-one-out cross-validation. See ``docs/fusion.md``.

References
----------
Shepard, D. (1968). A two-dimensional interpolation function for irregularly-spaced data.
Proceedings of the 1968 ACM National Conference, 517-524. https://doi.org/10.1145/800186.810616

Cressie, N. (1985). Fitting variogram models by weighted least squares. Mathematical Geology
17, 563-586. https://doi.org/10.1007/BF01032109

Cressie, N. (1993). Statistics for Spatial Data, revised edition. Wiley.
https://doi.org/10.1002/9781119115151

Denby, B., Horálek, J., Walker, S. E., Eben, K. and Fiala, J. (2005). Interpolation and
assimilation methods for European scale air quality assessment and mapping. Part I: review
and recommendations. ETC/ACC Technical Paper 2005/7.

Horálek, J., de Smet, P., de Leeuw, F., Denby, B., Kurfürst, P. and Swart, R. (2007). European
air quality maps for 2005 including uncertainty analysis. ETC/ACC Technical Paper 2007/7.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal, TypedDict, Unpack, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from scipy import linalg, optimize

from trajectoire._kernels.idw import idw
from trajectoire._validate import first_true, require_flag, rows_preview
from trajectoire.assess._pairs import aligned_pair, units_factor
from trajectoire.assess.evaluation import _real_number, evaluate
from trajectoire.assess.stations import Outside, Sampling, sample_at_stations, station_table
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.tables import id_text, keyword_options, with_options

__all__ = [
    "FusionOptions",
    "Variogram",
    "cross_validate",
    "empirical_variogram",
    "fit_variogram",
    "fuse",
    "idw_interpolate",
    "krige",
    "kriging_weights",
]

VariogramModel = Literal["exponential", "spherical"]
Kriging = Literal["ordinary", "simple"]


# ----------------------------------------------------------------------------- variogram
@dataclasses.dataclass(frozen=True)
class Variogram:
    """An isotropic semivariogram model with a nugget.

    Attributes
    ----------
    model : {"exponential", "spherical"}
        Model family.
    nugget : float
        Nugget ``c0`` [value units squared], >= 0.
    sill : float
        Partial sill ``c`` [value units squared], > 0 (total sill ``c0 + c``).
    range : float
        Range parameter ``a`` [m], > 0: the scale of the exponential model (which reaches
        95 % of its sill at the practical range ``3 a``), or the range of the spherical model
        (which reaches its sill at ``a``).

    Notes
    -----
    With :math:`h > 0` (and :math:`\\gamma(0) = 0`):

    .. math::

        \\gamma_{exp}(h) = c_0 + c \\, (1 - e^{-h/a})

        \\gamma_{sph}(h) = c_0 + c \\left(\\tfrac{3h}{2a} - \\tfrac{h^3}{2a^3}\\right)
        \\ (h < a), \\qquad c_0 + c \\ (h \\ge a)

    Raises
    ------
    trajectoire.InputError
        An unknown model, or a nugget, sill or range that is not a finite number (text such
        as ``'500'`` included) in its bounds.

    Examples
    --------
    >>> v = Variogram("spherical", nugget=1.0, sill=4.0, range=1000.0)
    >>> v([0.0, 500.0, 2000.0]).tolist()
    [0.0, 3.75, 5.0]
    """

    model: VariogramModel
    nugget: float
    sill: float
    range: float

    def __post_init__(self) -> None:
        if self.model not in ("exponential", "spherical"):
            raise InputError(
                f"Variogram: model must be 'exponential' or 'spherical', got {self.model!r}."
            )
        for name in ("nugget", "sill", "range"):  # text ('500') said in one line
            value = getattr(self, name)
            if not isinstance(value, float | int) or isinstance(value, bool):
                _real_number(value, name, "Variogram", "a real number", fix=" Give a number.")
        if not (math.isfinite(self.nugget) and self.nugget >= 0):
            raise InputError(f"Variogram: nugget must be finite and >= 0, got {self.nugget!r}.")
        if not (math.isfinite(self.sill) and self.sill > 0):
            raise InputError(f"Variogram: sill must be finite and > 0, got {self.sill!r}.")
        if not (math.isfinite(self.range) and self.range > 0):
            raise InputError(f"Variogram: range must be finite and > 0 [m], got {self.range!r}.")

    @property
    def total_sill(self) -> float:
        """Nugget plus partial sill [value units squared]."""
        return self.nugget + self.sill

    @property
    def practical_range(self) -> float:
        """Distance [m] where the variogram reaches 95 % of its partial sill (or all of it)."""
        return 3.0 * self.range if self.model == "exponential" else self.range

    def __call__(self, h: npt.ArrayLike) -> np.ndarray:
        """Semivariance at distances `h` [m] (0 at h = 0)."""
        h = np.asarray(h, dtype=float)
        return np.where(h > 0, self.nugget + self.sill * _shape(self.model, h, self.range), 0.0)

    def covariance(self, h: npt.ArrayLike) -> np.ndarray:
        """Covariance ``C(h) = c0 + c - gamma(h)`` [value units squared]."""
        return self.total_sill - self(h)

    @classmethod
    def fit(
        cls,
        lag: npt.ArrayLike,
        gamma: npt.ArrayLike,
        n_pairs: npt.ArrayLike,
        model: VariogramModel = "exponential",
        *,
        nugget: bool = True,
    ) -> Variogram:
        """Weighted least-squares fit to an empirical variogram (see :func:`fit_variogram`).

        Parameters
        ----------
        lag, gamma, n_pairs : array_like
            Class distances [m], semivariances and pair counts (as returned by
            :func:`empirical_variogram`).
        model : {"exponential", "spherical"}, default "exponential"
            Model family.
        nugget : bool, default True
            Fit a nugget (else fixed to 0).

        Returns
        -------
        Variogram
        """
        lag_a = np.asarray(lag, dtype=float)
        if lag_a.size < 2:
            raise InputError(f"Variogram.fit: needs at least 2 lags, got {lag_a.size}.")
        return _fit(
            lag_a,
            np.asarray(gamma, dtype=float),
            np.asarray(n_pairs, dtype=float),
            model,
            nugget=nugget,
        )


def _shape(model: str, h: np.ndarray, a: float) -> np.ndarray:
    """Unit-sill variogram shape (without nugget), valid for h >= 0."""
    if model == "exponential":
        return -np.expm1(-h / a)
    s = np.minimum(h / a, 1.0)
    return 1.5 * s - 0.5 * s**3


def _coords(x: npt.ArrayLike, y: npt.ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates [m] as flat float arrays of one length, checked finite."""
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise InputError(f"{what}: x and y have different lengths ({xa.size} and {ya.size}).")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise InputError(f"{what}: coordinates must be finite (NaN or inf found).")
    return xa, ya


def _station_values(
    x: npt.ArrayLike, y: npt.ArrayLike, values: npt.ArrayLike, what: str, minimum: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Station coordinates [m] and finite values, at least `minimum` stations."""
    xa, ya = _coords(x, y, what)
    va = np.asarray(values, dtype=float).ravel()
    if va.shape != xa.shape:
        raise InputError(f"{what}: {va.size} values for {xa.size} stations.")
    bad = ~np.isfinite(va)
    if bad.any():
        raise InputError(
            f"{what}: {int(bad.sum())} station value(s) are NaN or infinite (positions "
            f"{rows_preview(np.flatnonzero(bad).tolist())}); drop those stations first."
        )
    if xa.size < minimum:
        raise InputError(
            f"{what}: {xa.size} station(s) given; at least {minimum} are needed"
            + (
                " to fit a variogram (pass variogram=Variogram(...) to use a fixed one)."
                if minimum >= 3
                else "."
            )
        )
    return xa, ya, va


def _distances(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Distances [m] between the points a (rows) and b (columns)."""
    return np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])


def empirical_variogram(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    n_lags: int | None = None,
    max_lag: float | None = None,
) -> pd.DataFrame:
    """Empirical (Matheron) semivariogram of station values in distance classes.

    Parameters
    ----------
    x, y : array_like
        Station coordinates [m].
    values : array_like
        Station values (finite).
    n_lags : int, optional
        Number of equal-width distance classes; default a third of the number of station
        pairs within `max_lag`, at most 10 (with fewer than 6 pairs: one class per distinct
        pair distance).
    max_lag : float, optional
        Largest distance [m] considered; default half the largest inter-station distance (the
        largest distance itself when fewer than 6 pairs lie within that half).

    Returns
    -------
    pandas.DataFrame
        Columns ``lag`` (mean pair distance in the class [m]), ``gamma`` (semivariance),
        ``n_pairs``; empty classes left out.

    Notes
    -----
    .. math:: \\hat\\gamma(h) = \\frac{1}{2 N(h)} \\sum_{(i,j) \\in N(h)} (v_i - v_j)^2

    Examples
    --------
    >>> empirical_variogram([0, 1, 2], [0, 0, 0], [0.0, 1.0, 2.0], n_lags=2, max_lag=2.0)
       lag  gamma  n_pairs
    0  1.0    0.5        2
    1  2.0    2.0        1
    """
    xa, ya, va = _station_values(x, y, values, "empirical_variogram", minimum=2)
    i, j = np.triu_indices(xa.size, k=1)
    d = np.hypot(xa[i] - xa[j], ya[i] - ya[j])
    sq = 0.5 * (va[i] - va[j]) ** 2
    if max_lag is None:
        max_lag = 0.5 * float(d.max())
        if ((d > 0) & (d <= max_lag)).sum() < 6:  # small networks: use every pair
            max_lag = float(d.max())
    if not (math.isfinite(max_lag) and max_lag > 0):
        raise InputError(f"empirical_variogram: max_lag must be > 0 [m], got {max_lag!r}.")
    if n_lags is None:
        within = (d > 0) & (d <= max_lag)
        if within.sum() < 6:  # tiny network: every pair is its own class
            pairs = pd.DataFrame({"lag": d[within], "gamma": sq[within], "n_pairs": 1})
            out = pairs.groupby("lag", as_index=False).agg(
                gamma=("gamma", "mean"), n_pairs=("n_pairs", "sum")
            )
            return out.astype({"n_pairs": np.int64}).reset_index(drop=True)
        n_lags = min(10, int(within.sum()) // 3)
    if n_lags < 1:
        raise InputError(f"empirical_variogram: n_lags must be >= 1, got {n_lags}.")
    edges = np.linspace(0.0, max_lag, n_lags + 1)
    keep = (d > 0) & (d <= max_lag)
    cls = np.clip(np.searchsorted(edges, d[keep], side="left") - 1, 0, n_lags - 1)
    n = np.bincount(cls, minlength=n_lags)
    with np.errstate(all="ignore"):
        lag = np.bincount(cls, weights=d[keep], minlength=n_lags) / n
        gamma = np.bincount(cls, weights=sq[keep], minlength=n_lags) / n
    ok = n > 0
    return pd.DataFrame({"lag": lag[ok], "gamma": gamma[ok], "n_pairs": n[ok].astype(np.int64)})


def fit_variogram(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    model: VariogramModel = "exponential",
    n_lags: int | None = None,
    max_lag: float | None = None,
    nugget: bool = True,
) -> Variogram:
    """Fit a variogram model to station values by weighted least squares (Cressie 1985).

    Parameters
    ----------
    x, y : array_like
        Station coordinates [m] (at least 3 stations).
    values : array_like
        Station values, e.g. model residuals.
    model : {"exponential", "spherical"}, default "exponential"
        Model family.
    n_lags, max_lag : int, float
        Distance classes of the empirical variogram (see :func:`empirical_variogram`).
    nugget : bool, default True
        Fit a nugget (else it is fixed to 0).

    Returns
    -------
    Variogram

    Raises
    ------
    trajectoire.InputError
        Fewer than 3 stations, NaN values, or fewer than 2 non-empty distance classes.

    Notes
    -----
    Minimises :math:`\\sum_h N(h) \\left(\\hat\\gamma(h)/\\gamma(h; \\theta) - 1\\right)^2`
    (Cressie 1985, weights :math:`N(h)/\\gamma(h;\\theta)^2`) over nugget >= 0, partial
    sill > 0 and range in :math:`[h_{max}/100,\\ 10\\, h_{max}]`, where :math:`h_{max}` [m]
    is the largest lag of the empirical variogram (the mean distance of the pairs of its
    last non-empty class, at most `max_lag`). The semivariances are divided by the sample
    variance of `values` for the fit; it starts from a nugget of a tenth and a partial sill
    of all of the largest empirical semivariance :math:`\\max_h \\hat\\gamma(h)`, and a range
    of :math:`h_{max}/3` (exponential: the practical range :math:`3a` is then
    :math:`h_{max}`) or :math:`h_{max}` (spherical). The fitted variogram is also
    available from :meth:`Variogram.fit` for an empirical variogram given directly (the
    same fit, in the units of `gamma`: divided by its largest value).
    """
    xa, ya, va = _station_values(x, y, values, "fit_variogram", minimum=3)
    emp = empirical_variogram(xa, ya, va, n_lags=n_lags, max_lag=max_lag)
    if len(emp) < 2:
        raise InputError(
            f"fit_variogram: only {len(emp)} non-empty distance class(es); use more stations, "
            "fewer lags (n_lags) or a larger max_lag, or pass a fixed Variogram."
        )
    return _fit(
        emp["lag"].to_numpy(),
        emp["gamma"].to_numpy(),
        emp["n_pairs"].to_numpy(),
        model,
        nugget=nugget,
        variance=float(np.var(va)),
    )


def _fit(
    lag: np.ndarray,
    gamma: np.ndarray,
    n_pairs: np.ndarray,
    model: VariogramModel,
    *,
    nugget: bool = True,
    variance: float | None = None,
) -> Variogram:
    """Cressie (1985) weighted least-squares fit of a variogram model to an empirical one."""
    if model not in ("exponential", "spherical"):
        raise InputError(
            f"fit_variogram: model must be 'exponential' or 'spherical', got {model!r}."
        )
    lag = np.asarray(lag, dtype=float)
    gamma = np.asarray(gamma, dtype=float)
    w = np.sqrt(np.asarray(n_pairs, dtype=float))
    hmax = float(lag.max())
    if not (np.isfinite(gamma).all() and np.isfinite(lag).all() and hmax > 0):
        raise InputError("fit_variogram: the empirical variogram has non-finite values.")
    if not (gamma > 0).any():
        # constant values: nothing varies in space. Any variogram gives the same kriged values
        # (the constant); a negligible sill gives a kriging variance of ~0, as observed.
        tiny = 1e-12 * max(float(variance or 0.0), 1.0)
        return Variogram(model, nugget=0.0, sill=tiny, range=hmax / 3.0)
    scale = float(variance if variance and variance > 0 else max(gamma.max(), 1e-300))
    g = gamma / scale  # fit in units of the variance: well-conditioned whatever the units

    def residuals(theta: np.ndarray) -> np.ndarray:
        """Weighted relative misfit of the model with parameters `theta` (in variance units)."""
        c0 = theta[0] if nugget else 0.0
        c, a = theta[-2], theta[-1]
        model_g = c0 + c * _shape(model, lag, a)
        return w * (g / np.maximum(model_g, 1e-12) - 1.0)

    a0 = hmax / 3.0 if model == "exponential" else hmax
    start = [0.1 * g.max(), g.max(), a0] if nugget else [g.max(), a0]
    lo = ([0.0] if nugget else []) + [1e-9, hmax / 100.0]
    hi = ([np.inf] if nugget else []) + [np.inf, 10.0 * hmax]
    start = np.clip(start, lo, [h if np.isfinite(h) else s for h, s in zip(hi, start, strict=True)])
    res = optimize.least_squares(residuals, start, bounds=(lo, hi), method="trf")
    theta = res.x
    c0 = float(theta[0]) * scale if nugget else 0.0
    return Variogram(model, nugget=c0, sill=float(theta[-2]) * scale, range=float(theta[-1]))


# ------------------------------------------------------------------------------ kriging
def _check_distinct(xa: np.ndarray, ya: np.ndarray, what: str) -> None:
    """Raise if two stations share a position (the kriging system would be singular)."""
    pts = np.stack([xa, ya], axis=1)
    _, idx, counts = np.unique(pts, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = [f"({xa[i]:.1f}, {ya[i]:.1f})" for i in idx[counts > 1]]
        raise InputError(
            f"{what}: several stations at the same position {rows_preview(dup)}; the kriging "
            "system would be singular. Average co-located stations first."
        )


def _require_variogram(variogram: object, caller: str) -> None:
    """Raise one line when `variogram` is not a :class:`Variogram` (a model name included)."""
    if isinstance(variogram, Variogram):
        return
    if isinstance(variogram, str) and variogram in get_args(VariogramModel):
        raise InputError(
            f"{caller}: variogram={variogram!r} is a model name; {caller} needs a Variogram. "
            f"Pass fit_variogram(x, y, values, model={variogram!r}) or "
            f"Variogram({variogram!r}, nugget=..., sill=..., range=...)."
        )
    raise InputError(
        f"{caller}: variogram must be a Variogram, got {variogram!r} "
        f"({type(variogram).__name__}). Pass fit_variogram(x, y, values) or "
        "Variogram('exponential', nugget=..., sill=..., range=...)."
    )


def _kriging_system(
    xa: np.ndarray, ya: np.ndarray, variogram: Variogram, kind: str
) -> tuple[Any, int]:
    """LU factors of the kriging matrix of the stations, and the number of stations."""
    n = xa.size
    d = _distances(xa, ya, xa, ya)
    if kind == "ordinary":
        a = np.zeros((n + 1, n + 1))
        a[:n, :n] = variogram(d)
        a[:n, n] = 1.0
        a[n, :n] = 1.0
    elif kind == "simple":
        a = variogram.covariance(d)
    else:
        raise InputError(f"kriging: kind must be 'ordinary' or 'simple', got {kind!r}.")
    return linalg.lu_factor(a, check_finite=True), n


def _kriging_rhs(
    xa: np.ndarray, ya: np.ndarray, tx: np.ndarray, ty: np.ndarray, vg: Variogram, kind: str
) -> np.ndarray:
    """Right-hand sides of the kriging system for the targets, one column per target."""
    d = _distances(xa, ya, tx, ty)  # (n, m)
    if kind == "ordinary":
        return np.vstack([vg(d), np.ones((1, tx.size))])
    return vg.covariance(d)


def kriging_weights(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    target_x: npt.ArrayLike,
    target_y: npt.ArrayLike,
    variogram: Variogram,
    *,
    kind: Kriging = "ordinary",
) -> np.ndarray:
    """Kriging weights of each station for each target point.

    Parameters
    ----------
    x, y : array_like
        Station coordinates [m] (distinct positions).
    target_x, target_y : array_like
        Target coordinates [m].
    variogram : Variogram
        Variogram of the interpolated quantity.
    kind : {"ordinary", "simple"}, default "ordinary"
        Ordinary kriging (unknown constant mean; weights sum to 1) or simple kriging (known
        mean; see :func:`krige`).

    Returns
    -------
    numpy.ndarray
        Weights ``(n_target, n_station)``.

    Raises
    ------
    trajectoire.InputError
        Co-located stations, mismatched lengths, a `variogram` that is not a
        :class:`Variogram`.

    Examples
    --------
    >>> v = Variogram("exponential", 0.0, 1.0, 100.0)
    >>> w = kriging_weights([0, 100, 0], [0, 0, 100], [30.0], [30.0], v)
    >>> round(float(w.sum()), 12)
    1.0
    """
    xa, ya = _coords(x, y, "kriging_weights stations")
    tx, ty = _coords(target_x, target_y, "kriging_weights targets")
    _check_distinct(xa, ya, "kriging_weights")
    _require_variogram(variogram, "kriging_weights")
    lu, n = _kriging_system(xa, ya, variogram, kind)
    sol = linalg.lu_solve(lu, _kriging_rhs(xa, ya, tx, ty, variogram, kind))
    return np.ascontiguousarray(sol[:n].T)


def krige(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    target_x: npt.ArrayLike,
    target_y: npt.ArrayLike,
    variogram: Variogram,
    *,
    kind: Kriging = "ordinary",
    mean: float = 0.0,
    block: int = 65536,
) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary or simple kriging of station values at target points, with its variance.

    Parameters
    ----------
    x, y : array_like
        Station coordinates [m], distinct.
    values : array_like
        Station values (finite).
    target_x, target_y : array_like
        Target coordinates [m] (any shape; flattened).
    variogram : Variogram
        Variogram of the values.
    kind : {"ordinary", "simple"}, default "ordinary"
        ``"ordinary"``: unknown constant mean, weights sum to 1; far from the stations the
        estimate tends to the generalised-least-squares mean of the values. ``"simple"``:
        known `mean`; far from the stations the estimate tends to `mean`.
    mean : float, default 0.0
        Known mean of simple kriging (ignored by ordinary kriging).
    block : int, default 65536
        Targets solved per block (bounds the memory to about ``block * n_station`` floats).

    Returns
    -------
    estimate, variance : numpy.ndarray
        Kriged values and kriging (error) variance [value units squared] at the targets.

    Raises
    ------
    trajectoire.InputError
        NaN values, co-located stations, mismatched lengths; a `variogram` that is not a
        :class:`Variogram` (a model name such as ``"exponential"``: fit one first with
        :func:`fit_variogram`).

    Notes
    -----
    Ordinary kriging (Cressie 1993, section 3.2) solves, for each target :math:`x_0`,

    .. math::

        \\sum_j \\lambda_j \\gamma(x_i - x_j) + \\mu = \\gamma(x_i - x_0), \\quad
        \\sum_j \\lambda_j = 1, \\qquad
        \\hat v(x_0) = \\sum_i \\lambda_i v_i, \\quad
        \\sigma^2(x_0) = \\sum_i \\lambda_i \\gamma(x_i - x_0) + \\mu

    Simple kriging solves :math:`\\sum_j \\lambda_j C(x_i - x_j) = C(x_i - x_0)`, with
    :math:`\\hat v = m + \\sum_i \\lambda_i (v_i - m)` and
    :math:`\\sigma^2 = C(0) - \\sum_i \\lambda_i C(x_i - x_0)`. With
    :math:`\\gamma(0) = 0` both are exact interpolators (a nugget makes the field jump next
    to a station, not at it).

    Examples
    --------
    >>> v = Variogram("exponential", 0.0, 1.0, 100.0)
    >>> est, var = krige([0, 100], [0, 0], [1.0, 3.0], [0.0, 50.0], [0.0, 0.0], v)
    >>> est.round(6).tolist(), var.round(6).tolist()
    ([1.0, 2.0], [0.0, 0.470878])
    """
    xa, ya, va = _station_values(x, y, values, "krige")
    tx, ty = _coords(target_x, target_y, "krige targets")
    _check_distinct(xa, ya, "krige")
    _require_variogram(variogram, "krige")
    if block < 1:
        raise InputError(f"krige: block must be >= 1, got {block}.")
    lu, n = _kriging_system(xa, ya, variogram, kind)
    est = np.empty(tx.size)
    var = np.empty(tx.size)
    centred = va - mean if kind == "simple" else va
    for s in range(0, tx.size, block):
        sl = slice(s, s + block)
        rhs = _kriging_rhs(xa, ya, tx[sl], ty[sl], variogram, kind)
        sol = linalg.lu_solve(lu, rhs)
        lam = sol[:n]
        est[sl] = lam.T @ centred
        if kind == "ordinary":
            var[sl] = (lam * rhs[:n]).sum(axis=0) + sol[n]
        else:
            var[sl] = variogram.total_sill - (lam * rhs).sum(axis=0)
    if kind == "simple":
        est += mean
    return est, np.maximum(var, 0.0)


def _positive(value: float) -> bool:
    """Whether `value` is > 0 (the test of :func:`_real_number` for power and radius)."""
    return value > 0


def _idw_parameters(power: object, radius: object, caller: str) -> tuple[float, float]:
    """IDW `power` (finite, > 0) and `radius` [m] (> 0, inf allowed) as floats; one
    :class:`~trajectoire.InputError` naming the one that is not (text such as ``'2'``)."""
    power_f = _real_number(
        power, "power", caller, "a finite number > 0", _positive, " Give a number, e.g. 2.0."
    )
    if isinstance(radius, float | np.floating) and radius == math.inf:
        return power_f, math.inf
    radius_f = _real_number(
        radius,
        "radius",
        caller,
        "a number > 0 [m] or inf (no limit)",
        _positive,
        " Give a distance in metres, e.g. 2000.0.",
    )
    return power_f, radius_f


def idw_interpolate(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    target_x: npt.ArrayLike,
    target_y: npt.ArrayLike,
    *,
    power: float = 2.0,
    radius: float = math.inf,
    fill: float = 0.0,
) -> np.ndarray:
    """Inverse-distance weighted (Shepard 1968) interpolation of station values.

    Parameters
    ----------
    x, y : array_like
        Station coordinates [m].
    values : array_like
        Station values ``(n_station,)`` or ``(n_field, n_station)``; NaN values are skipped
        (per field).
    target_x, target_y : array_like
        Target coordinates [m].
    power : float, default 2.0
        Exponent of the inverse-distance weights (> 0).
    radius : float, default inf
        Search radius [m]; stations farther away get no weight.
    fill : float, default 0.0
        Value where no station lies within `radius`.

    Returns
    -------
    numpy.ndarray
        ``(n_target,)`` or ``(n_field, n_target)``.

    Raises
    ------
    trajectoire.InputError
        Mismatched lengths, an infinite value (NaN is skipped, inf would make every target
        inf), a `power` or `radius` that is not a number > 0 (text such as ``'2'``).

    Notes
    -----
    .. math:: \\hat v(x) = \\sum_{d_k \\le R} d_k^{-p} v_k \\Big/ \\sum_{d_k \\le R} d_k^{-p}

    The weights depend on the geometry only, so the result is linear in the values. A target
    on a station takes its value. The result jumps to `fill` at distance `radius` of the
    last station; use kriging for a smooth correction.

    Examples
    --------
    >>> idw_interpolate([0, 10], [0, 0], [1.0, 3.0], [0.0, 5.0, 100.0], [0, 0, 0], radius=50)
    array([1., 2., 0.])
    """
    xa, ya = _coords(x, y, "idw_interpolate stations")
    tx, ty = _coords(target_x, target_y, "idw_interpolate targets")
    va = np.asarray(values, dtype=float)
    one = va.ndim == 1
    va2 = np.ascontiguousarray(np.atleast_2d(va))
    if va2.ndim != 2 or va2.shape[1] != xa.size:
        raise InputError(
            f"idw_interpolate: values have shape {va.shape}; expected ({xa.size},) or "
            f"(n_field, {xa.size})."
        )
    infinite = np.isinf(va2)
    if infinite.any():
        f, k = first_true(infinite)
        raise InputError(
            f"idw_interpolate: {int(infinite.sum())} value(s) are infinite (first: {va2[f, k]} "
            f"at station position {k}); expected finite values (NaN is skipped). Drop or fix "
            "those values."
        )
    power, radius = _idw_parameters(power, radius, "idw_interpolate")
    out = np.empty((va2.shape[0], tx.size))
    idw(tx, ty, xa, ya, va2, float(power), float(radius), float(fill), out)
    return out[0] if one else out


# ------------------------------------------------------------------------- xarray layer
Method = Literal["kriging", "idw"]
Mode = Literal["additive", "multiplicative"]


class FusionOptions(TypedDict, total=False):
    """The options of the station fusion, shared by :func:`fuse` and :func:`cross_validate`.

    Each is optional (defaults below); they are checked once for both functions, and a
    keyword outside the group and the function's own raises :class:`TypeError` naming it.

    Attributes
    ----------
    method : {"kriging", "idw"}
        Residual interpolation; default ``"kriging"``.
    mode : {"additive", "multiplicative"}
        ``fused = M + r̂`` with ``r_k = O_k - M(x_k)``, or ``fused = M (1 + q̂)`` with
        ``q_k = O_k / M(x_k) - 1`` (needs M > 0 at the stations); default ``"additive"``.
    variogram : Variogram or {"exponential", "spherical"}
        A fixed variogram, or the family to fit to each field's residuals (>= 3
        stations); default ``"exponential"``.
    kriging : {"ordinary", "simple"}
        Ordinary kriging (the correction tends to the mean residual far from stations) or
        simple kriging with mean 0 (the correction tends to 0: the model is kept); default
        ``"ordinary"``.
    power : float
        IDW exponent, > 0; default 2.0.
    radius : float
        IDW search radius [m] (beyond it the correction is 0); default inf.
    n_lags, max_lag : int, float
        Distance classes of the variogram fit (see :func:`fit_variogram`); default None
        (chosen from the station distances).
    sampling : {"bilinear", "nearest"}
        How the model is read at the stations (see :func:`sample_at_stations`); default
        ``"bilinear"``.
    outside : {"raise", "nan"}
        Stations outside the grid: error, or warn and leave them out; default ``"raise"``.
    """

    method: Method
    mode: Mode
    variogram: Variogram | VariogramModel
    kriging: Kriging
    power: float
    radius: float
    n_lags: int | None
    max_lag: float | None
    sampling: Sampling
    outside: Outside


#: The options of :class:`FusionOptions` that take one of a few names, and those names.
_CHOICES = {"method": get_args(Method), "mode": get_args(Mode), "kriging": get_args(Kriging)}


@dataclasses.dataclass(frozen=True)
class _Fusion:
    """The :class:`FusionOptions` of one call with their defaults; :meth:`of` checks them."""

    method: Method = "kriging"
    mode: Mode = "additive"
    variogram: Variogram | VariogramModel = "exponential"
    kriging: Kriging = "ordinary"
    power: float = 2.0
    radius: float = math.inf
    n_lags: int | None = None
    max_lag: float | None = None
    sampling: Sampling = "bilinear"
    outside: Outside = "raise"

    @classmethod
    def of(cls, caller: str, options: FusionOptions) -> _Fusion:
        """The options of a call of `caller`: an unknown keyword raises TypeError, a name
        outside its choices (method, mode, kriging, variogram) an InputError."""
        keyword_options(FusionOptions, caller, options)
        how = cls(**options)
        for name, allowed in _CHOICES.items():
            value = getattr(how, name)
            if value not in allowed:
                raise InputError(
                    f"{caller}: {name} must be {' or '.join(map(repr, allowed))}, got {value!r}."
                )
        if not isinstance(how.variogram, Variogram) and how.variogram not in get_args(
            VariogramModel
        ):
            raise InputError(
                f"{caller}: variogram must be a Variogram or 'exponential' or 'spherical', got "
                f"{how.variogram!r}."
            )
        _idw_parameters(how.power, how.radius, caller)
        return how


#: The defaults of :class:`FusionOptions` (those of :class:`_Fusion`).
_FUSION_DEFAULTS = {f.name: f.default for f in dataclasses.fields(_Fusion)}


def _station_residuals(
    model: xr.DataArray,
    observed: xr.DataArray,
    stations: pd.DataFrame,
    how: _Fusion,
    caller: str,
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, np.ndarray, np.ndarray]:
    """Model at stations (obs units), observations, residuals/ratios - 1, station coords."""
    if not isinstance(observed, xr.DataArray) or "station" not in observed.dims:
        raise MissingVariableError(
            f"{caller}: observed must be a DataArray with a 'station' dim (ids as coordinate); "
            f"got {getattr(observed, 'dims', type(observed).__name__)}."
        )
    ids, sx, sy = station_table(stations, crs=model.attrs.get("crs"), what=f"{caller}: stations")
    obs_ids = list(observed["station"].values)
    if not obs_ids:
        raise InputError(
            f"{caller}: observed has no station (an empty 'station' dim); expected at least "
            "one observed station. Give observations, or leave the model unfused."
        )
    texts = pd.Index([id_text(s) for s in obs_ids])
    if texts.has_duplicates:
        repeated = texts[texts.duplicated()].unique().tolist()
        raise InputError(
            f"{caller}: observed, coordinate 'station': duplicated id(s) "
            f"{rows_preview([repr(t) for t in repeated])}; every observed station must appear once. Average or "
            "drop the duplicated observations (the stations table is not at fault)."
        )
    values = observed.values
    infinite = np.isinf(values) if values.dtype.kind == "f" else None
    if infinite is not None and infinite.any():
        where = np.nonzero(infinite)
        k = where[observed.dims.index("station")][0]
        first = float(values[tuple(i[0] for i in where)])
        raise InputError(
            f"{caller}: observed has {int(infinite.sum())} infinite value(s) (first: {first} at "
            f"station {texts[k]!r}); expected finite observations (NaN: missing, left out). "
            "Fix them or set them to NaN."
        )
    # ids compared as text: 911025 in one table matches '911025' in the other
    position = {id_text(s): i for i, s in enumerate(ids)}
    missing = [s for s in obs_ids if id_text(s) not in position]
    if missing:
        raise InputError(
            f"{caller}: observed stations {rows_preview(missing)} are not in the stations "
            f"table (whose ids look like {rows_preview(list(position)[:3])}); add their x, y "
            "or drop them from the observations."
        )
    order = [position[id_text(s)] for s in obs_ids]
    table = pd.DataFrame({"station_id": obs_ids, "x": sx[order], "y": sy[order]})
    at = sample_at_stations(model, table, method=how.sampling, outside=how.outside)
    at = at.drop_vars(["station_x", "station_y"])
    mod, obs, _ = aligned_pair(at, observed, caller)
    if how.mode == "additive":
        res = obs - mod
    else:
        bad = (mod <= 0) & obs.notnull()
        if bool(bad.any()):
            raise InputError(
                f"{caller}: mode='multiplicative' needs a model > 0 at every station; found "
                f"{int(bad.sum())} value(s) <= 0. Use mode='additive'."
            )
        res = obs / mod - 1.0
    return mod, obs, res, table["x"].to_numpy(), table["y"].to_numpy()


def _fitted_variogram(
    sx: np.ndarray,
    sy: np.ndarray,
    values: np.ndarray,
    how: _Fusion,
    field: str,
    caller: str,
) -> Variogram:
    """The variogram of family ``how.variogram`` fitted to the finite `values` of one field
    (`field`: its name in messages, from :func:`_field_labels`)."""
    ok = np.isfinite(values)
    if ok.sum() < 3:
        raise InputError(
            f"{caller}: {int(ok.sum())} station(s) with a value in {field}; fitting a "
            "variogram needs at least 3. Pass variogram=Variogram(...) or use "
            "method='idw'."
        )
    return fit_variogram(
        sx[ok],
        sy[ok],
        values[ok],
        model=how.variogram,  # type: ignore[arg-type]
        n_lags=how.n_lags,
        max_lag=how.max_lag,
    )


def _interpolate_fields(
    sx: np.ndarray,
    sy: np.ndarray,
    res: np.ndarray,
    tx: np.ndarray,
    ty: np.ndarray,
    how: _Fusion,
    caller: str,
    fields: Sequence[str],
) -> tuple[np.ndarray, np.ndarray | None, list[Variogram | None]]:
    """Interpolate each row of `res` (n_field, n_station; NaN skipped) at the targets.

    Returns the estimates ``(n_field, n_target)``, the kriging variances (None for IDW) and
    the variogram of each field (None for IDW); `fields` names the rows in messages.
    """
    n_f = res.shape[0]
    if how.method == "idw":
        est = idw_interpolate(sx, sy, res, tx, ty, power=how.power, radius=how.radius, fill=0.0)
        return est, None, [None] * n_f
    est = np.empty((n_f, tx.size))
    var = np.empty((n_f, tx.size))
    fitted: list[Variogram | None] = []
    for f in range(n_f):
        ok = np.isfinite(res[f])
        if isinstance(how.variogram, Variogram):
            vg = how.variogram
            if ok.sum() < 1:
                raise InputError(
                    f"{caller}: no station with a value in {fields[f]}; kriging needs at "
                    "least one. Drop that field or give it observations."
                )
        else:
            vg = _fitted_variogram(sx, sy, res[f], how, fields[f], caller)
        e, v = krige(sx[ok], sy[ok], res[f, ok], tx, ty, vg, kind=how.kriging)
        est[f] = e
        var[f] = v
        fitted.append(vg)
    return est, var, fitted


def _field_labels(res: xr.DataArray, extra: Sequence[str]) -> list[str]:
    """Each field of `res` (its dims `extra`, in the C order of :func:`_residual_rows`)
    named by its coordinates for messages: ``"year 2021"``, or ``"the field"`` alone."""
    if not extra:
        return ["the field"]
    values = [res[d].values if d in res.coords else range(res.sizes[d]) for d in extra]
    return [
        ", ".join(f"{d} {v}" for d, v in zip(extra, combo, strict=True))
        for combo in itertools.product(*values)
    ]


def _stack_fields(da: xr.DataArray, core: Sequence[str]) -> tuple[xr.DataArray, list[str]]:
    """`da` with its dims other than `core` stacked into a leading ``_field`` dim."""
    extra = [d for d in da.dims if d not in core]
    if extra:
        da = da.stack(_field=extra).transpose("_field", *core)
    else:
        da = da.expand_dims("_field").transpose("_field", *core)
    return da, [str(e) for e in extra]


def _unstack_fields(da: xr.DataArray, extra: Sequence[str]) -> xr.DataArray:
    """Undo :func:`_stack_fields` (`extra` as it returned)."""
    return da.unstack("_field") if extra else da.isel(_field=0, drop=True)


def _residual_rows(
    res: xr.DataArray,
    extra: Sequence[str],
    n_station: int,
    mode: str,
    observed: xr.DataArray,
    model: xr.DataArray,
) -> np.ndarray:
    """Residuals as ``(n_field, n_station)`` in the field order of :func:`_stack_fields`.

    Additive residuals are converted back to model units; ratios are unitless.
    """
    # the model at the stations was sampled from `model`, so the extra coordinates agree;
    # C-order reshape of (*extra, station) matches the stacking order of the model's fields
    rows = np.asarray(res.transpose(*extra, "station").values, dtype=float)
    rows = rows.reshape(-1, n_station)
    factor = units_factor(observed, model)
    if mode == "additive":
        rows = rows / factor  # residuals back in model units
    return rows


@with_options(FusionOptions, _FUSION_DEFAULTS)
def fuse(
    model: xr.DataArray,
    observed: xr.DataArray,
    stations: pd.DataFrame,
    **options: Unpack[FusionOptions],
) -> xr.Dataset:
    """Correct a modelled field with station observations (residual kriging or IDW).

    Parameters
    ----------
    model : xarray.DataArray
        Modelled concentration ``(..., y, x)`` on a regular grid (cell-centre coordinates in
        the CRS of the stations), with ``units``.
    observed : xarray.DataArray
        Observations ``(..., station)`` whose other dims (``year``...) match the model's
        non-spatial dims; ``station`` coordinate = station ids; ``units`` of the same kind.
        NaN observations are skipped (that station is left out of that field).
    stations : pandas.DataFrame
        Columns ``station_id``, ``x``, ``y`` [m] (see :func:`sample_at_stations`).
    **options
        Fusion options (``method``, ``mode``, ``variogram``, ``kriging``, ``power``,
        ``radius``, ``n_lags``, ``max_lag``, ``sampling``, ``outside``): see
        :class:`FusionOptions`.

    Returns
    -------
    xarray.Dataset
        ``fused`` (dims and units of `model`; >= 0: a cell where the corrected model is
        below 0 is set to 0, ``attrs["clipped_cells"]`` counts them, and a
        :class:`~trajectoire.TrajectoireWarning` names how many and the lowest value),
        ``correction`` (the interpolated residual in model units, or ``q̂`` [1], not
        clipped), ``residual`` at the stations, ``model_at_station``,
        and for kriging ``kriging_variance`` (of the correction, [units² or 1]) and the
        variogram parameters ``variogram_nugget``, ``variogram_sill``, ``variogram_range``.
        A station observed on a cell where the model is NaN is left out; its id is listed
        in ``attrs["stations_on_missing_model"]`` (absent when there is none).

    Raises
    ------
    trajectoire.InputError
        Stations outside the grid, unknown stations, fewer than 3 stations for a variogram
        fit, co-located stations, non-positive model in multiplicative mode, bad options
        (a `power` or `radius` given as text); an infinite observation (named); no observed
        station, or an id repeated in `observed`; with ``method="idw"``, no station with
        both an observation and a model value (nothing to fuse).
    trajectoire.UnitsError
        Missing or incompatible units.

    Notes
    -----
    The cell whose centre is a station gets the observation exactly (both interpolators are
    exact); elsewhere in a cell holding a station the value differs by the sub-cell gradient
    of the model. Eager: the model is loaded into memory.

    A concentration cannot be negative, but the additive correction can take a cell below
    0: near a station where the model is far too high (a residual of -80 ug m-3 at a
    modelled hot spot, carried by IDW or kriging to cells modelled at 10), or everywhere
    with ordinary kriging when the mean residual is below minus the model. Such cells are
    set to 0, the usual practice of residual kriging maps. With IDW,
    ``mode="multiplicative"`` cannot go below 0 (a weighted mean of ratios ``O/M >= 0``);
    kriging weights can be negative, so it may, and is clipped the same way.

    Examples
    --------
    >>> x = 700_050.0 + 100.0 * np.arange(4)
    >>> y = 7_060_350.0 - 100.0 * np.arange(4)
    >>> model = xr.DataArray(np.full((4, 4), 20.0), dims=("y", "x"),
    ...                      coords={"y": y, "x": x}, attrs={"units": "ug m-3"})
    >>> stations = pd.DataFrame({"station_id": ["a", "b", "c"],
    ...                          "x": [x[0], x[3], x[0]], "y": [y[0], y[3], y[3]]})
    >>> obs = xr.DataArray([22.0, 18.0, 21.0], dims="station",
    ...                    coords={"station": ["a", "b", "c"]}, attrs={"units": "ug m-3"})
    >>> ds = fuse(model, obs, stations, method="idw")
    >>> float(ds.fused[0, 0]), float(ds.fused[3, 3]), float(ds.fused[3, 0])
    (22.0, 18.0, 21.0)
    """
    caller = "fuse"
    if not isinstance(model, xr.DataArray):
        raise InputError(
            f"{caller}: model must be an xarray.DataArray, got {type(model).__name__}."
        )
    how = _Fusion.of(caller, options)
    mod_st, obs, res, sx, sy = _station_residuals(model, observed, stations, how, caller)
    if how.method == "kriging":
        _check_distinct(sx, sy, caller)
    mode = how.mode
    f_model, extra = _stack_fields(model, ("y", "x"))
    res_np = _residual_rows(res, extra, sx.size, mode, observed, model)
    on_nan = _on_missing_model(mod_st, obs)
    if how.method == "idw" and not np.isfinite(res_np).any():
        raise InputError(
            f"{caller}: no observation to fuse: none of the {sx.size} observed station(s) has "
            "a value"
            + (
                f" where the model has one (stations on NaN model cells: {rows_preview(on_nan)})"
                if on_nan
                else " (every observation is NaN)"
            )
            + "; the fused field would be the model unchanged. Give observations, or use the "
            "model as it is."
        )
    gx, gy = np.meshgrid(
        np.asarray(model["x"].values, dtype=float), np.asarray(model["y"].values, dtype=float)
    )
    est, var, fitted = _interpolate_fields(
        sx, sy, res_np, gx.ravel(), gy.ravel(), how, caller, _field_labels(res, extra)
    )
    ds = _fused_fields(model, f_model, extra, est, mode)
    ds["residual"] = res
    ds["residual"].attrs = {
        "long_name": "observed minus model at station"
        if mode == "additive"
        else "observed / model - 1",
        "units": str(observed.attrs.get("units")) if mode == "additive" else "1",
    }
    ds["model_at_station"] = mod_st
    if var is not None:
        ds.update(_kriging_fields(model, f_model, extra, var, fitted, mode))
    ds.attrs.update(_fusion_attrs(how))
    if on_nan:
        ds.attrs["stations_on_missing_model"] = ", ".join(on_nan)
    return add_history(ds, f"fuse(method={how.method!r}, mode={mode!r}, kriging={how.kriging!r})")


def _on_missing_model(mod_st: xr.DataArray, obs: xr.DataArray) -> list[str]:
    """Ids (text) of the stations with an observation where the model is NaN (left out)."""
    lost = mod_st.isnull() & obs.notnull()
    if not bool(lost.any()):
        return []
    other = [d for d in lost.dims if d != "station"]
    per_station = lost.any(dim=other) if other else lost
    return [id_text(s) for s in lost["station"].values[per_station.values]]


def _fused_fields(
    model: xr.DataArray,
    f_model: xr.DataArray,
    extra: Sequence[str],
    est: np.ndarray,
    mode: str,
) -> xr.Dataset:
    """``fused`` and ``correction`` on the model's grid from the interpolated residuals.

    `f_model` is `model` stacked by :func:`_stack_fields`, `est` the correction per field.
    """
    shape = f_model.shape
    m_vals = np.asarray(f_model.values, dtype=float)
    corrected = _corrected(m_vals, est.reshape(shape), mode)
    fused_np, clipped = _not_negative(corrected)
    if clipped:
        lowest = float(np.nanmin(corrected))
        warn(
            f"fuse: {clipped} of {int(np.isfinite(fused_np).sum())} cell(s) of the fused "
            f"field came out below 0 (lowest {lowest:.3g} {model.attrs.get('units', '')}: "
            "a correction interpolated from a station where the model is much too high) and "
            "are set to 0, as a concentration cannot be negative (attrs['clipped_cells']). "
            "With method='idw', mode='multiplicative' keeps the fused field >= 0 by itself.",
            stacklevel=3,
        )
    ds = xr.Dataset()
    ds["fused"] = _unstack_fields(f_model.copy(data=fused_np), extra).transpose(*model.dims)
    ds["fused"].attrs = {
        **model.attrs,
        "long_name": "model corrected with station observations",
        "clipped_cells": clipped,
        "comment": "cells where the corrected model is below 0 are set to 0 (clipped_cells)",
    }
    ds["correction"] = _unstack_fields(f_model.copy(data=est.reshape(shape)), extra).transpose(
        *model.dims
    )
    ds["correction"].attrs = {
        "long_name": "interpolated station residual"
        if mode == "additive"
        else "interpolated station ratio minus one",
        "units": model.attrs.get("units", "") if mode == "additive" else "1",
    }
    return ds


def _corrected(model: np.ndarray, correction: np.ndarray, mode: str) -> np.ndarray:
    """The model corrected: ``M + r̂`` (additive) or ``M (1 + q̂)`` (multiplicative)."""
    return model + correction if mode == "additive" else model * (1.0 + correction)


def _not_negative(values: np.ndarray) -> tuple[np.ndarray, int]:
    """`values` with those below 0 set to 0 (a concentration cannot be negative), and how
    many were (NaN kept, not counted): the rule of the fused map and of its leave-one-out
    predictions."""
    negative = values < 0
    n = int(np.count_nonzero(negative))
    return (np.where(negative, 0.0, values) if n else values), n


def _kriging_fields(
    model: xr.DataArray,
    f_model: xr.DataArray,
    extra: Sequence[str],
    var: np.ndarray,
    fitted: Sequence[Variogram | None],
    mode: str,
) -> dict[str, xr.DataArray]:
    """``kriging_variance`` on the model's grid and the variogram parameters per field."""
    variance = _unstack_fields(f_model.copy(data=var.reshape(f_model.shape)), extra)
    u = model.attrs.get("units", "")
    out = {"kriging_variance": variance.transpose(*model.dims)}
    out["kriging_variance"].attrs = {
        "long_name": "kriging variance of the correction",
        "units": f"({u})2" if mode == "additive" else "1",
    }
    fdim = f_model["_field"]
    for name in ("nugget", "sill", "range"):
        vals = np.array([getattr(v, name) if v is not None else np.nan for v in fitted])
        da = xr.DataArray(vals, dims="_field", coords={"_field": fdim})
        out[f"variogram_{name}"] = _unstack_fields(da, extra)
    out["variogram_range"].attrs["units"] = "m"
    return out


def _fusion_attrs(how: _Fusion) -> dict[str, Any]:
    """Global attributes of the output of :func:`fuse`: the method and its options."""
    kriging = how.method == "kriging"
    idw = how.method == "idw"
    vg = how.variogram
    return {
        "method": how.method,
        "mode": how.mode,
        "kriging": how.kriging if kriging else "",
        "variogram_model": (vg.model if isinstance(vg, Variogram) else vg) if kriging else "",
        "idw_power": float(how.power) if idw else np.nan,
        "idw_radius": float(how.radius) if idw else np.nan,
        "references": "Denby et al. (2005) ETC/ACC TP 2005/7; Horálek et al. (2007) ETC/ACC "
        "TP 2007/7; Cressie (1993); Shepard (1968) doi:10.1145/800186.810616",
    }


@with_options(FusionOptions, _FUSION_DEFAULTS)
def cross_validate(
    model: xr.DataArray,
    observed: xr.DataArray,
    stations: pd.DataFrame,
    *,
    dim: str | Sequence[str] | None = None,
    threshold: float = 0.0,
    refit: bool = False,
    **options: Unpack[FusionOptions],
) -> xr.Dataset:
    """Leave-one-out cross-validation of the fusion: statistics before and after.

    Each station in turn is left out, the residuals of the others are interpolated to its
    position, and the resulting fused value is compared with its observation.

    Parameters
    ----------
    model, observed, stations
        As :func:`fuse`.
    dim : str or sequence of str, optional
        Dims the statistics are taken over; default every dim of `observed` (pooled).
    threshold : float, default 0.0
        Detection threshold of :func:`trajectoire.assess.evaluation.evaluate`.
    refit : bool, default False
        Refit the variogram without the left-out station (else it is fitted once on all
        stations, the usual and slightly optimistic practice).
    **options
        Fusion options, as for :func:`fuse`: see :class:`FusionOptions`.

    Returns
    -------
    xarray.Dataset
        The statistics of :func:`~trajectoire.assess.evaluation.evaluate` with a ``stage`` dim
        (``"model"``: model at the stations; ``"fused"``: leave-one-out fused value), plus
        ``loo_prediction`` and ``model_at_station`` ``(..., station)`` in observation units.
        A prediction below 0 is set to 0, as :func:`fuse` does on its map
        (``loo_prediction.attrs["clipped_predictions"]`` counts them); such a prediction,
        where something is observed, counts outside the factor two in ``fac2`` and is left
        out of ``mg`` and ``vg`` (``n_below_threshold``), as :func:`evaluate` rules for a
        value 0 (Chang and Hanna 2004). A station that is
        the only one with a value in its field (the others' observations NaN) has no
        prediction: NaN, not counted in the ``"fused"`` stage
        (``loo_prediction.attrs["not_predicted"]`` counts them).

    Raises
    ------
    trajectoire.InputError
        As :func:`fuse`; fewer than 2 stations; no station can be predicted (each field
        has at most one station with a value; the message names them); with `refit`, a
        station whose leaving out leaves fewer than 3 others with a value (named); a
        `refit` that is not True or False (``"yes"``, 1: never read by truthiness).

    Examples
    --------
    >>> model = xr.DataArray(np.full((3, 3), 20.0), dims=("y", "x"), attrs={"units": "ug m-3"},
    ...                      coords={"y": [250.0, 150.0, 50.0], "x": [50.0, 150.0, 250.0]})
    >>> stations = pd.DataFrame({"station_id": ["a", "b", "c"], "x": [50.0, 250.0, 50.0],
    ...                          "y": [250.0, 50.0, 50.0]})
    >>> obs = xr.DataArray([22.0, 23.0, 22.5], dims="station", attrs={"units": "ug m-3"},
    ...                    coords={"station": ["a", "b", "c"]})
    >>> cv = cross_validate(model, obs, stations, method="idw")
    >>> cv.rmse.round(3).values.tolist()
    [2.533, 0.544]
    """
    caller = "cross_validate"
    refit = require_flag(
        refit,
        f"{caller}: refit",
        "refit the variogram without each left-out station",
        "fit it once on all stations, the default",
    )
    how = _Fusion.of(caller, options)
    method, mode = how.method, how.mode
    mod_st, obs, res, sx, sy = _station_residuals(model, observed, stations, how, caller)
    if sx.size < 2:
        raise InputError(f"{caller}: needs at least 2 stations, got {sx.size}.")
    if method == "kriging":
        _check_distinct(sx, sy, caller)
    extra = [str(d) for d in res.dims if d != "station"]
    r_np = np.asarray(res.transpose(*extra, "station").values, dtype=float).reshape(-1, sx.size)
    fields = _field_labels(res, extra)
    fixed = _loo_variograms(sx, sy, r_np, how, refit, caller, fields)
    loo = _leave_one_out(sx, sy, r_np, fixed, how, caller, fields, res["station"].values.tolist())
    m_t = mod_st.transpose(*extra, "station")
    m_np = np.asarray(m_t.values, dtype=float).reshape(loo.shape)
    pred, clipped = _not_negative(_corrected(m_np, loo, mode))  # the rule of fuse's map
    pred_da = m_t.copy(data=pred.reshape(m_t.shape)).transpose(*obs.dims)
    pred_da.attrs = {
        **obs.attrs,
        "clipped_predictions": clipped,
        "not_predicted": int((np.isfinite(r_np) & np.isnan(loo)).sum()),
    }
    mod_st = mod_st.transpose(*obs.dims)
    mod_st.attrs = dict(obs.attrs)
    dims: str | Sequence[str] = [str(d) for d in obs.dims] if dim is None else dim
    before = evaluate(mod_st, obs, dim=dims, threshold=threshold)
    after = evaluate(pred_da, obs, dim=dims, threshold=threshold)
    out = xr.concat([before, after], dim=pd.Index(["model", "fused"], name="stage"))
    out["loo_prediction"] = pred_da
    out["model_at_station"] = mod_st
    out.attrs.update(
        {
            "title": "leave-one-out cross-validation of the station fusion",
            "method": method,
            "mode": mode,
            "refit_variogram": int(refit),
        }
    )
    return add_history(out, f"cross_validate(method={method!r}, mode={mode!r}, refit={refit})")


def _loo_variograms(
    sx: np.ndarray,
    sy: np.ndarray,
    res: np.ndarray,
    how: _Fusion,
    refit: bool,
    caller: str,
    fields: Sequence[str],
) -> list[Variogram | None]:
    """The variogram of each field used for every left-out station (None: refit each time).

    Kriging without `refit`: the given variogram, or one fitted once to all the stations.
    """
    n_f = res.shape[0]
    if how.method != "kriging" or refit:
        return [None] * n_f
    if isinstance(how.variogram, Variogram):
        return [how.variogram] * n_f
    return [_fitted_variogram(sx, sy, res[f], how, fields[f], caller) for f in range(n_f)]


def _leave_one_out(
    sx: np.ndarray,
    sy: np.ndarray,
    res: np.ndarray,
    fixed: Sequence[Variogram | None],
    how: _Fusion,
    caller: str,
    fields: Sequence[str],
    ids: Sequence[Any],
) -> np.ndarray:
    """Residual of each field interpolated at each station from the other stations.

    `res` is ``(n_field, n_station)``; NaN where the station has no value in that field, and
    where no other station has one (nothing to predict it from: not counted, rather than
    the model counted as a fused value). `fields` and `ids` name the fields and stations in
    messages.

    Raises
    ------
    trajectoire.InputError
        No station can be predicted (in every field at most one station has a value), or
        ``refit`` leaves fewer than 3 other stations to fit a variogram to.
    """
    loo = np.full_like(res, np.nan)
    alone: list[str] = []
    for k in range(sx.size):
        keep = np.arange(sx.size) != k
        for f in range(res.shape[0]):
            if not np.isfinite(res[f, k]):
                continue
            others = int(np.isfinite(res[f, keep]).sum())
            if others == 0:
                alone.append(f"station {ids[k]!r} in {fields[f]}")
                continue
            vg = fixed[f]
            if vg is None and how.method == "kriging" and others < 3:
                raise InputError(
                    f"{caller}: refit=True: leaving station {ids[k]!r} out of {fields[f]} "
                    f"leaves {others} station(s) with a value; refitting the variogram needs "
                    "at least 3 (4 stations with a value). Pass refit=False, a fixed "
                    "variogram=Variogram(...) or use method='idw'."
                )
            est, _, _ = _interpolate_fields(
                sx[keep],
                sy[keep],
                res[f : f + 1, keep],
                sx[k : k + 1],
                sy[k : k + 1],
                how if vg is None else dataclasses.replace(how, variogram=vg),
                caller,
                fields[f : f + 1],
            )
            loo[f, k] = est[0, 0]
    if alone and not np.isfinite(loo).any():
        raise InputError(
            f"{caller}: no station can be predicted from the others: {rows_preview(alone)} "
            "(the only station with a value in its field: the others' observations there "
            "are NaN) leaves none when it is left out. Leave-one-out needs at least 2 "
            "stations with a value in a field."
        )
    return loo
