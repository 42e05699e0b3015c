"""Model evaluation against monitoring stations: standard statistics and the FAIRMODE MQI.

Two families of indicators, both computed on pairs of observed (``O``) and modelled (``M``)
concentrations:

* the dispersion-model statistics of Chang and Hanna (2004) and Hanna and Chang (2012):
  fractional bias ``FB``, normalised mean square error ``NMSE``, geometric mean bias ``MG``,
  geometric variance ``VG``, fraction within a factor two ``FAC2``, normalised absolute
  difference ``NAD``, plus bias, RMSE and correlation, with their acceptance criteria
  (:func:`evaluate`, :func:`acceptance`);
* the FAIRMODE Modelling Quality Indicator (Janssen and Thunis, 2022, Guidance Document v3.3):
  the observation uncertainty, the time-series and annual MQI, its decomposition into bias,
  standard deviation and correlation terms, the modelling performance criteria and the network
  90th percentile (:func:`mqi`, :func:`mqi_network`).

The model is read at the stations with :func:`trajectoire.assess.stations.sample_at_stations`
(which, with the station tables and observations, lives in :mod:`trajectoire.assess.stations`).
See ``docs/evaluation.md`` for the equations and parameter tables.

References
----------
Chang, J. C. and Hanna, S. R. (2004). Air quality model performance evaluation. Meteorology and
Atmospheric Physics 87, 167-196. https://doi.org/10.1007/s00703-003-0070-7

Hanna, S. and Chang, J. (2012). Acceptance criteria for urban dispersion model evaluation.
Meteorology and Atmospheric Physics 116, 133-146. https://doi.org/10.1007/s00703-011-0177-1

Janssen, S., Thunis, P. et al. (2022). FAIRMODE Guidance Document on Modelling Quality
Objectives and Benchmarking, version 3.3. EUR 31068 EN, JRC. https://doi.org/10.2760/41988
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import rows_preview
from trajectoire.assess._pairs import aligned_pair
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError

__all__ = [
    "CRITERIA",
    "EVALUATION_STATISTICS",
    "FAIRMODE_PARAMETERS",
    "FairmodeParameters",
    "acceptance",
    "annual_uncertainty",
    "evaluate",
    "evaluate_stations",
    "fairmode_parameters",
    "measurement_uncertainty",
    "mqi",
    "mqi_network",
]

# ----------------------------------------------------------------------------- criteria
#: Acceptance criteria: name -> {statistic: (lower, upper)} (bounds inclusive, None = open).
#: ``fb`` is tested on its absolute value. Chang and Hanna (2004) ("good model":
#: about half the predictions within a factor two, mean bias within about 30 %, scatter within
#: a factor two or three of the mean); Hanna and Chang (2012) (rural/research-grade
#: and urban field experiments).
CRITERIA: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "chang_hanna_2004": {
        "fac2": (0.5, None),
        "fb": (None, 0.3),
        "mg": (0.7, 1.3),
        "nmse": (None, 1.5),
        "vg": (None, 4.0),
    },
    "hanna_chang_2012_rural": {
        "fac2": (0.5, None),
        "fb": (None, 0.3),
        "nmse": (None, 3.0),
        "nad": (None, 0.3),
    },
    "hanna_chang_2012_urban": {
        "fac2": (0.3, None),
        "fb": (None, 0.67),
        "nmse": (None, 6.0),
        "nad": (None, 0.5),
    },
}


# ----------------------------------------------------------------------- input checks
def _real_number(
    value: object,
    name: str,
    caller: str,
    expected: str,
    ok: Callable[[float], bool] = lambda v: True,
    fix: str = "",
) -> float:
    """`value` as a float when it is a finite real number (not a bool, not a string) for which
    `ok` holds; else one :class:`~trajectoire.InputError` naming `name`, the value and its type,
    `expected` and the `fix`.

    A 0-d numpy array of numbers counts as a number.
    """
    number: float | None = None
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        number = float(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        number = float(value)
    if number is None or not math.isfinite(number) or not ok(number):
        raise InputError(
            f"{caller}: {name} must be {expected}, got {value!r} ({type(value).__name__}).{fix}"
        )
    return number


# ------------------------------------------------------------------- FAIRMODE parameters
@dataclasses.dataclass(frozen=True)
class FairmodeParameters:
    """Parameters of the FAIRMODE observation uncertainty for one pollutant.

    Attributes
    ----------
    u_rv : float
        Relative expanded (95 %) uncertainty at the reference value, ``U_r^RV`` [1].
    rv : float
        Reference value ``RV`` [ug m-3] (the limit or target value).
    alpha : float
        Fraction of the uncertainty at ``RV`` that does not scale with the concentration [1].
    n_p, n_np : float
        Effective numbers of independent samples of the proportional and non-proportional
        parts of the uncertainty in a yearly average [1].
    averaging : str
        Time averaging of the series the parameters apply to.
    source : str
        Where the values come from.
    """

    u_rv: float
    rv: float
    alpha: float
    n_p: float
    n_np: float
    averaging: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("u_rv", "rv", "n_p", "n_np"):
            _real_number(
                getattr(self, name),
                name,
                "FairmodeParameters",
                "a finite number > 0",
                lambda v: v > 0,
                " Give it as a number (a keyword of fairmode_parameters or mqi overrides it).",
            )
        _real_number(
            self.alpha,
            "alpha",
            "FairmodeParameters",
            "a number in [0, 1] (a fraction of the uncertainty at RV)",
            lambda v: 0.0 <= v <= 1.0,
        )


_V33 = "FAIRMODE Guidance Document v3.3 (Janssen and Thunis, 2022), table of U(O) parameters"

#: Default parameters (FAIRMODE Guidance Document v3.3, 2022). Override per call with
#: :func:`fairmode_parameters`. Version 2.1 (2017) used, for PM10, alpha = 0.13, N_p = 30,
#: N_np = 0.25 and, for PM2.5, alpha = 0.30, N_p = 30, N_np = 0.25.
FAIRMODE_PARAMETERS: dict[str, FairmodeParameters] = {
    "NO2": FairmodeParameters(0.24, 200.0, 0.20, 5.2, 5.5, "hourly", _V33),
    "O3": FairmodeParameters(0.18, 120.0, 0.79, 11.0, 3.0, "8-hour daily maximum", _V33),
    "PM10": FairmodeParameters(0.28, 50.0, 0.25, 20.0, 1.5, "daily", _V33),
    "PM2.5": FairmodeParameters(0.36, 25.0, 0.50, 20.0, 1.5, "daily", _V33),
}

_FAIRMODE_ALIASES = {
    "no2": "NO2",
    "o3": "O3",
    "o3mda8": "O3",
    "o3_mda8": "O3",
    "pm10": "PM10",
    "pm2.5": "PM2.5",
    "pm2_5": "PM2.5",
    "pm25": "PM2.5",
}


def fairmode_parameters(
    pollutant: str | FairmodeParameters, **overrides: float
) -> FairmodeParameters:
    """FAIRMODE uncertainty parameters of a pollutant, with optional overrides.

    Parameters
    ----------
    pollutant : str or FairmodeParameters
        ``"NO2"``, ``"O3"``, ``"PM10"`` or ``"PM2.5"`` (case-insensitive; ``"pm25"``,
        ``"PM2_5"`` accepted), or a :class:`FairmodeParameters` to be overridden.
    **overrides : float
        Replacement values for ``u_rv``, ``rv``, ``alpha``, ``n_p``, ``n_np``.

    Returns
    -------
    FairmodeParameters

    Raises
    ------
    trajectoire.InputError
        Unknown pollutant or override name, or an override that is not a finite number in
        its range (``alpha`` in [0, 1], the others > 0).

    Examples
    --------
    >>> fairmode_parameters("pm25").alpha
    0.5
    >>> fairmode_parameters("PM10", alpha=0.13, n_p=30, n_np=0.25).n_p
    30
    """
    if isinstance(pollutant, FairmodeParameters):
        base = pollutant
    else:
        key = _FAIRMODE_ALIASES.get(str(pollutant).strip().lower())
        if key is None:
            raise InputError(
                f"fairmode_parameters: no FAIRMODE uncertainty parameters for pollutant "
                f"{pollutant!r}; expected one of {list(FAIRMODE_PARAMETERS)}. For another "
                "pollutant build FairmodeParameters(u_rv=..., rv=..., alpha=..., n_p=..., n_np=...)."
            )
        base = FAIRMODE_PARAMETERS[key]
    allowed = {"u_rv", "rv", "alpha", "n_p", "n_np"}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise InputError(
            f"fairmode_parameters: unknown override(s) {unknown}; expected some of "
            f"{sorted(allowed)}."
        )
    if overrides:
        changes: dict[str, Any] = {"source": f"{base.source}; overridden {overrides}"}
        changes.update(overrides)
        return dataclasses.replace(base, **changes)
    return base


def measurement_uncertainty(observed: Any, parameters: str | FairmodeParameters) -> Any:
    """FAIRMODE expanded (95 %) observation uncertainty of individual values.

    Parameters
    ----------
    observed : array_like or xarray.DataArray
        Observed concentrations ``O_i`` [ug m-3].
    parameters : str or FairmodeParameters
        Pollutant id or parameters (see :func:`fairmode_parameters`).

    Returns
    -------
    same type as `observed`
        ``U(O_i)`` [ug m-3].

    Notes
    -----
    .. math:: U(O_i) = U_r^{RV} \\sqrt{(1 - \\alpha^2) O_i^2 + \\alpha^2 RV^2}

    Examples
    --------
    >>> round(float(measurement_uncertainty(200.0, "NO2")), 6)
    48.0
    """
    p = fairmode_parameters(parameters)
    o = observed if isinstance(observed, xr.DataArray) else np.asarray(observed, dtype=float)
    return p.u_rv * np.sqrt((1.0 - p.alpha**2) * o**2 + p.alpha**2 * p.rv**2)


def annual_uncertainty(observed_mean: Any, parameters: str | FairmodeParameters) -> Any:
    """FAIRMODE expanded (95 %) uncertainty of a yearly mean observation.

    Parameters
    ----------
    observed_mean : array_like or xarray.DataArray
        Yearly mean observed concentration ``Ō`` [ug m-3].
    parameters : str or FairmodeParameters
        Pollutant id or parameters.

    Returns
    -------
    same type as `observed_mean`
        ``U(Ō)`` [ug m-3].

    Notes
    -----
    .. math:: U(\\bar O) = U_r^{RV} \\sqrt{(1 - \\alpha^2) \\bar O^2 / N_p
              + \\alpha^2 RV^2 / N_{np}}

    Examples
    --------
    >>> round(float(annual_uncertainty(40.0, "NO2")), 4)
    5.8112
    """
    p = fairmode_parameters(parameters)
    o = (
        observed_mean
        if isinstance(observed_mean, xr.DataArray)
        else np.asarray(observed_mean, dtype=float)
    )
    return p.u_rv * np.sqrt((1.0 - p.alpha**2) * o**2 / p.n_p + p.alpha**2 * p.rv**2 / p.n_np)


# ----------------------------------------------------------------------- input handling
def _as_dims(dim: str | Sequence[str], obj: xr.DataArray, caller: str) -> list[str]:
    """`dim` as a list of dims of `obj`; an error names the dims `obj` has."""
    dims = [dim] if isinstance(dim, str) else list(dim)
    missing = [d for d in dims if d not in obj.dims]
    if missing or not dims:
        raise MissingVariableError(
            f"{caller}: dim {dims} not found; the data has dims {tuple(obj.dims)}. Pass "
            "dim= one of those (e.g. dim='time' per station, dim='station' in space)."
        )
    return dims


# ---------------------------------------------------------------- numpy statistic cores
#: The performance measures of Chang and Hanna (2004) after the bias, in the order of both
#: :func:`evaluate` and :data:`EVALUATION_STATISTICS`.
_CHANG_HANNA = ("rmse", "r", "fb", "nmse", "mg", "vg", "fac2", "nad")
_STAT_NAMES = (
    "n",
    "n_dropped_nan",
    "n_below_threshold",
    "n_fac2",
    "mean_observed",
    "mean_model",
    "std_observed",
    "std_model",
    "bias",
    *_CHANG_HANNA,
    "nmse_min",
    "vg_min",
)


class _PairMoments(NamedTuple):
    """Moments of paired series over their last axis, counting only the valid pairs."""

    valid: np.ndarray  # both values finite
    n: np.ndarray  # number of valid pairs (float)
    o0: np.ndarray  # observations, 0 where the pair is not valid
    p0: np.ndarray  # predictions, 0 where the pair is not valid
    mo: np.ndarray  # mean observation
    mp: np.ndarray  # mean prediction
    so: np.ndarray  # population standard deviation of the observations (1/N)
    sp: np.ndarray  # population standard deviation of the predictions (1/N)
    cov: np.ndarray  # population covariance (1/N)
    mse: np.ndarray  # mean square difference


def _pair_moments(o: np.ndarray, p: np.ndarray) -> _PairMoments:
    """Means, standard deviations, covariance and MSE of (o, p) over the valid pairs.

    Call inside ``np.errstate(all="ignore")``: a series without valid pair gives NaN.
    """
    valid = np.isfinite(o) & np.isfinite(p)
    n = valid.sum(axis=-1).astype(float)
    o0 = np.where(valid, o, 0.0)
    p0 = np.where(valid, p, 0.0)
    mo = o0.sum(axis=-1) / n
    mp = p0.sum(axis=-1) / n
    do = np.where(valid, o - mo[..., None], 0.0)
    dp = np.where(valid, p - mp[..., None], 0.0)
    so = np.sqrt((do**2).sum(axis=-1) / n)
    sp = np.sqrt((dp**2).sum(axis=-1) / n)
    cov = (do * dp).sum(axis=-1) / n
    mse = ((o0 - p0) ** 2).sum(axis=-1) / n
    return _PairMoments(valid, n, o0, p0, mo, mp, so, sp, cov, mse)


def _stack_last(values: Sequence[Any], shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast each value to `shape` and stack them on a new last axis (float)."""
    return np.stack([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values], axis=-1)


def _pair_statistics(o: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """All statistics over the last axis, stacked on a new last axis (order ``_STAT_NAMES``)."""
    o = np.asarray(o, dtype=float)
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        m = _pair_moments(o, p)
        n, mo, mp = m.n, m.mo, m.mp
        r = m.cov / (m.so * m.sp)
        fb = (mo - mp) / (0.5 * (mo + mp))
        nmse = m.mse / (mo * mp)
        nad = np.abs(m.o0 - m.p0).sum(axis=-1) / n / (mo + mp)
        # a value is usable in the log measures when it is >= the threshold and > 0
        o_ok = (o >= threshold) & (o > 0)
        p_ok = (p >= threshold) & (p > 0)
        pos = m.valid & o_ok & p_ok  # MG and VG: both values usable
        npos = pos.sum(axis=-1).astype(float)
        lo = np.log(np.where(pos, o, 1.0))
        lp = np.log(np.where(pos, p, 1.0))
        mg = np.exp((lo - lp).sum(axis=-1) / npos)
        vg = np.exp(((lo - lp) ** 2).sum(axis=-1) / npos)
        # FAC2: every valid pair but those with both values below the threshold (no
        # information either way); a pair with one value 0 is outside the factor two
        counted = m.valid & (o_ok | p_ok)
        n_fac2 = counted.sum(axis=-1).astype(float)
        both = counted & (o > 0) & (p > 0)
        ratio = np.where(both, p, 1.0) / np.where(both, o, 1.0)
        fac2 = (both & (ratio >= 0.5) & (ratio <= 2.0)).sum(axis=-1) / n_fac2
        nmse_min = 4.0 * fb**2 / (4.0 - fb**2)
        vg_min = np.exp(np.log(mg) ** 2)
        out = [
            n,
            float(o.shape[-1]) - n,
            n - npos,
            n_fac2,
            mo,
            mp,
            m.so,
            m.sp,
            mp - mo,
            np.sqrt(m.mse),
            r,
            fb,
            nmse,
            mg,
            vg,
            fac2,
            nad,
            nmse_min,
            vg_min,
        ]
    return _stack_last(out, n.shape)


_STAT_ATTRS: dict[str, tuple[str, str]] = {
    "n": ("number of valid (finite) pairs", "1"),
    "n_dropped_nan": ("number of pairs dropped because one value is NaN", "1"),
    "n_below_threshold": (
        "number of valid pairs left out of MG and VG (a value below the threshold or not > 0)",
        "1",
    ),
    "n_fac2": (
        "number of valid pairs FAC2 is taken over (those with both values below the "
        "threshold left out)",
        "1",
    ),
    "mean_observed": ("mean observed concentration", "U"),
    "mean_model": ("mean modelled concentration", "U"),
    "std_observed": ("standard deviation of the observations (1/N)", "U"),
    "std_model": ("standard deviation of the model (1/N)", "U"),
    "bias": ("mean bias, model minus observed", "U"),
    "rmse": ("root mean square error", "U"),
    "r": ("Pearson correlation coefficient", "1"),
    "fb": ("fractional bias (positive: under-prediction)", "1"),
    "nmse": ("normalised mean square error", "1"),
    "mg": ("geometric mean bias", "1"),
    "vg": ("geometric variance", "1"),
    "fac2": (
        "fraction of predictions within a factor two of the observations (over n_fac2 pairs; "
        "a pair with one value 0 counts outside)",
        "1",
    ),
    "nad": ("normalised absolute difference", "1"),
    "nmse_min": ("minimum NMSE for the given FB, 4 FB^2 / (4 - FB^2)", "1"),
    "vg_min": ("minimum VG for the given MG, exp((ln MG)^2)", "1"),
}


def _reduce(
    func: Any,
    mod: xr.DataArray,
    obs: xr.DataArray,
    dims: list[str],
    names: Sequence[str],
    kwargs: Mapping[str, Any],
) -> xr.Dataset:
    """Apply a numpy core over `dims` (stacked last) and split the stacked outputs."""
    for name, da in (("observed", obs), ("model", mod)):
        if da.chunks is not None:
            split = [d for d in dims if len(da.chunksizes.get(d, (1,))) > 1]
            if split:
                raise InputError(
                    f"{name} is split into several dask chunks along {split}; the statistics "
                    f"need one chunk there. Use .chunk({{{split[0]!r}: -1}}) and chunk over the "
                    "other dims instead."
                )
    core = "_pair"
    if len(dims) > 1:
        obs = obs.stack({core: dims})
        mod = mod.stack({core: dims})
        # drop the MultiIndex coordinates that the core dim carried
        obs = obs.drop_vars([c for c in obs.coords if core in obs[c].dims])
        mod = mod.drop_vars([c for c in mod.coords if core in mod[c].dims])
        cdim = core
    else:
        cdim = dims[0]
    out = xr.apply_ufunc(
        func,
        obs,
        mod,
        kwargs=dict(kwargs),
        input_core_dims=[[cdim], [cdim]],
        output_core_dims=[["statistic"]],
        dask="parallelized",
        output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {"statistic": len(names)}},
    )
    ds = xr.Dataset({name: out.isel(statistic=i, drop=True) for i, name in enumerate(names)})
    return ds


def evaluate(
    model: xr.DataArray,
    observed: xr.DataArray,
    *,
    dim: str | Sequence[str] = "time",
    pollutant: str | None = None,
    threshold: float = 0.0,
) -> xr.Dataset:
    """Chang and Hanna (2004) statistics of a model against observations.

    Parameters
    ----------
    model, observed : xarray.DataArray
        Paired modelled and observed concentrations with the same dims and coordinates and a
        ``units`` attribute each (``ug m-3``, ``ng m-3``, ``cm-3``...; the model is converted
        to the units of the observations). Sample gridded fields with
        :func:`~trajectoire.assess.stations.sample_at_stations` first.
    dim : str or sequence of str, default "time"
        Dimension(s) the statistics are taken over: ``"time"`` (one set per station),
        ``"year"``, ``"station"`` (in space, one set per year), or several at once (pooled).
    pollutant : str, optional
        Pollutant id, recorded in the attributes.
    threshold : float, default 0.0
        Detection threshold [units of `observed`]. A value is *below* it when it is
        < `threshold` or not > 0. MG and VG (logarithms) leave out every pair with a value
        below it, counted in ``n_below_threshold``. FAC2 leaves out only the pairs with both
        values below it (nothing measured, nothing predicted: no information either way),
        and takes the others, ``n_fac2`` of them: a pair with one value 0 is outside the
        factor two (a model 0 where 20 is observed fails, as does a model 20 where 0 is
        observed). The other statistics use every finite pair.

    Returns
    -------
    xarray.Dataset
        One variable per statistic (see Notes), over the dims of the inputs other than `dim`;
        ``n`` valid pairs, ``n_dropped_nan`` pairs dropped because of a NaN,
        ``n_below_threshold`` pairs left out of MG and VG, ``n_fac2`` pairs FAC2 is taken
        over.

    Raises
    ------
    trajectoire.UnitsError
        Missing or unknown units, or model and observations of different kinds.
    trajectoire.InputError
        Dims or coordinates that differ, or a threshold that is not a finite number >= 0.
    trajectoire.MissingVariableError
        `dim` is not a dimension of the inputs.

    Notes
    -----
    With :math:`C_o` observed and :math:`C_p` predicted, overbars means over the valid pairs
    (Chang and Hanna, 2004; Hanna and Chang, 2012):

    .. math::

        FB = \\frac{\\bar C_o - \\bar C_p}{0.5 (\\bar C_o + \\bar C_p)}, \\quad
        NMSE = \\frac{\\overline{(C_o - C_p)^2}}{\\bar C_o \\bar C_p}, \\quad
        NAD = \\frac{\\overline{|C_o - C_p|}}{\\bar C_o + \\bar C_p}

        MG = \\exp(\\overline{\\ln C_o} - \\overline{\\ln C_p}), \\quad
        VG = \\exp(\\overline{(\\ln C_o - \\ln C_p)^2}), \\quad
        FAC2 = \\frac{\\#\\{0.5 \\le C_p / C_o \\le 2\\}}{N_{FAC2}}

    MG and VG are means over the pairs with both values at or above the threshold and
    > 0 (undefined otherwise: Chang and Hanna 2004 recommend such a threshold);
    :math:`N_{FAC2}` (``n_fac2``) counts every valid pair but those with both values below
    the threshold. Hanna and Chang (2012) count such a pair as within the factor two; it is
    left out here, so that it neither raises nor lowers FAC2.

    FB > 0 and MG > 1 mean under-prediction; ``bias`` = :math:`\\bar C_p - \\bar C_o` (so
    bias > 0 means over-prediction). Standard deviations are population ones (1/N).
    Bounds: :math:`NMSE \\ge 4 FB^2 / (4 - FB^2)` and :math:`VG \\ge \\exp((\\ln MG)^2)`.

    Examples
    --------
    >>> o = xr.DataArray([10.0, 20.0, 30.0, 40.0], dims="time", attrs={"units": "ug m-3"})
    >>> m = xr.DataArray([12.0, 18.0, 33.0, 20.0], dims="time", attrs={"units": "ug m-3"})
    >>> s = evaluate(m, o)
    >>> round(float(s.fb), 4), float(s.fac2), int(s.n)
    (0.1858, 1.0, 4)
    """
    caller = "evaluate"
    _real_number(
        threshold,
        "threshold",
        caller,
        "a finite number >= 0 (a detection limit in the units of the observations)",
        lambda v: v >= 0,
        " Pass a number, e.g. threshold=0.0.",
    )
    mod, obs, units = aligned_pair(model, observed, caller)
    dims = _as_dims(dim, obs, caller)
    ds = _reduce(_pair_statistics, mod, obs, dims, _STAT_NAMES, {"threshold": float(threshold)})
    for name in _STAT_NAMES:
        long_name, u = _STAT_ATTRS[name]
        ds[name].attrs = {"long_name": long_name, "units": units if u == "U" else u}
    for name in ("n", "n_dropped_nan", "n_below_threshold", "n_fac2"):
        ds[name] = ds[name].astype(np.int64) if not _is_lazy(ds[name]) else ds[name]
        ds[name].attrs = {"long_name": _STAT_ATTRS[name][0], "units": "1"}
    ds.attrs.update(
        {
            "title": "model evaluation statistics (Chang and Hanna 2004)",
            "dim": " ".join(dims),
            "threshold": float(threshold),
            "units_of_concentration": units,
            "references": "Chang and Hanna (2004) doi:10.1007/s00703-003-0070-7; "
            "Hanna and Chang (2012) doi:10.1007/s00703-011-0177-1",
        }
    )
    if pollutant is not None:
        ds.attrs["pollutant"] = str(pollutant)
    return add_history(ds, f"evaluate(dim={dims!r}, threshold={threshold!r})")


def _is_lazy(da: xr.DataArray) -> bool:
    """Whether `da` is a dask array (not computed yet)."""
    return da.chunks is not None


def acceptance(
    statistics: xr.Dataset, criteria: str | Mapping[str, tuple[float | None, float | None]]
) -> xr.Dataset:
    """Pass/fail of each acceptance criterion for statistics from :func:`evaluate`.

    Parameters
    ----------
    statistics : xarray.Dataset
        Output of :func:`evaluate`.
    criteria : str or mapping
        A key of :data:`CRITERIA` (``"chang_hanna_2004"``, ``"hanna_chang_2012_rural"``,
        ``"hanna_chang_2012_urban"``) or a mapping ``{statistic: (lower, upper)}`` with
        inclusive bounds (None for open); ``fb`` is tested on its absolute value.

    Returns
    -------
    xarray.Dataset
        One boolean variable per criterion (NaN statistics fail) and ``all`` (every
        criterion met).

    Raises
    ------
    trajectoire.InputError
        Unknown criteria set or statistic.

    Notes
    -----
    Chang and Hanna (2004), "good model": FAC2 >= 0.5, abs(FB) <= 0.3, 0.7 <= MG <= 1.3,
    NMSE <= 1.5, VG <= 4. Hanna and Chang (2012): rural/research-grade abs(FB) < 0.3,
    NMSE < 3, FAC2 > 0.5, NAD < 0.3; urban abs(FB) < 0.67, NMSE < 6, FAC2 > 0.3, NAD < 0.5
    (the strict inequalities of the paper are applied as inclusive bounds here; equality has
    probability zero with real data).

    Examples
    --------
    >>> o = xr.DataArray([10.0, 20.0, 30.0, 40.0], dims="time", attrs={"units": "ug m-3"})
    >>> m = xr.DataArray([12.0, 18.0, 33.0, 20.0], dims="time", attrs={"units": "ug m-3"})
    >>> bool(acceptance(evaluate(m, o), "chang_hanna_2004")["all"])
    True
    """
    if isinstance(criteria, str):
        if criteria not in CRITERIA:
            raise InputError(
                f"acceptance: unknown criteria {criteria!r}; expected one of {list(CRITERIA)} "
                "or a mapping {statistic: (lower, upper)}."
            )
        table = CRITERIA[criteria]
        label = criteria
    else:
        table = dict(criteria)
        label = "custom"
    out = xr.Dataset()
    for stat, (lo, hi) in table.items():
        if stat not in statistics:
            raise InputError(
                f"acceptance: statistic {stat!r} is not in the statistics "
                f"({sorted(map(str, statistics.data_vars))}); compute them with evaluate()."
            )
        value = abs(statistics[stat]) if stat == "fb" else statistics[stat]
        ok = xr.ones_like(value, dtype=bool) & value.notnull()
        if lo is not None:
            ok = ok & (value >= lo)
        if hi is not None:
            ok = ok & (value <= hi)
        ok.attrs = {"long_name": f"{stat} within {lo} .. {hi} ({label})"}
        out[stat] = ok
    every = xr.ones_like(next(iter(out.data_vars.values())), dtype=bool)
    for v in out.data_vars.values():
        every = every & v
    out["all"] = every
    out["all"].attrs = {"long_name": f"every criterion of {label} met"}
    out.attrs["criteria"] = label
    return out


# ------------------------------------------------------------------------- FAIRMODE MQI
_MQI_TS_NAMES = (
    "n",
    "rms_u",
    "bias",
    "std_observed",
    "std_model",
    "r",
    "rmse",
    "mqi",
    "mqi_bias",
    "mqi_std",
    "mqi_corr",
)


def _mqi_timeseries_core(
    o: np.ndarray, m: np.ndarray, u_rv: float, rv: float, alpha: float, beta: float
) -> np.ndarray:
    """Time-series MQI and its terms over the last axis, stacked (order ``_MQI_TS_NAMES``)."""
    with np.errstate(all="ignore"):
        s = _pair_moments(o, m)
        n, so, sm = s.n, s.so, s.sp
        u2 = u_rv**2 * ((1.0 - alpha**2) * s.o0**2 + alpha**2 * rv**2)
        rms_u = np.sqrt(np.where(s.valid, u2, 0.0).sum(axis=-1) / n)
        r = s.cov / (so * sm)
        rmse = np.sqrt(s.mse)
        denom = beta * rms_u
        bias = s.mp - s.mo
        out = [
            n,
            rms_u,
            bias,
            so,
            sm,
            r,
            rmse,
            rmse / denom,
            bias / denom,
            (sm - so) / denom,
            # 2 sigma_O sigma_M (1 - R) = 2 (sigma_O sigma_M - cov): defined for constant series
            np.sqrt(np.maximum(2.0 * (so * sm - s.cov), 0.0)) / denom,
        ]
    return _stack_last(out, n.shape)


def mqi(
    model: xr.DataArray,
    observed: xr.DataArray,
    *,
    pollutant: str | FairmodeParameters,
    kind: Literal["timeseries", "annual"] = "timeseries",
    dim: str = "time",
    space_dim: str = "station",
    beta: float = 2.0,
    **overrides: float,
) -> xr.Dataset:
    """FAIRMODE Modelling Quality Indicator (MQI) and performance criteria per station.

    Parameters
    ----------
    model, observed : xarray.DataArray
        Paired modelled and observed concentrations (same dims and coordinates), ``units``
        convertible to ``ug m-3``. For ``kind="timeseries"``: series along `dim` (hourly for
        NO2, daily for PM, 8-h daily maxima for O3). For ``kind="annual"``: yearly means (if
        `dim` is a dimension of the inputs they are averaged over it first, over valid pairs).
    pollutant : str or FairmodeParameters
        ``"NO2"``, ``"O3"``, ``"PM10"``, ``"PM2.5"`` or explicit parameters.
    kind : {"timeseries", "annual"}, default "timeseries"
        Which MQI (guidance v3.3 sections on time series and on yearly averages).
    dim : str, default "time"
        Time dimension of the series.
    space_dim : str, default "station"
        Station dimension, used for the spatial performance criteria of yearly means.
    beta : float, default 2.0
        The ``β`` factor (the MQO allows model uncertainty ``β`` times the observation one).
    **overrides : float
        Overrides of the uncertainty parameters (``u_rv``, ``rv``, ``alpha``, ``n_p``,
        ``n_np``).

    Returns
    -------
    xarray.Dataset
        ``kind="timeseries"``: ``mqi``, its signed terms ``mqi_bias``, ``mqi_std`` and
        ``mqi_corr`` (:math:`MQI^2` = their sum of squares), ``rms_u``, ``bias``, ``r``,
        ``rmse``, ``std_observed``, ``std_model``, ``n``, the criteria ``mpc_bias``,
        ``mpc_corr``, ``mpc_std`` and the booleans ``mqo_fulfilled`` and ``mpc_fulfilled``.
        ``kind="annual"``: ``mqi``, ``u_annual``, ``mqo_fulfilled`` and, when `space_dim`
        has at least 2 stations, the spatial criteria ``mpc_space_corr``,
        ``mpc_space_std`` and ``rms_u_annual``.

    Raises
    ------
    trajectoire.UnitsError, trajectoire.InputError, trajectoire.MissingVariableError
        As :func:`evaluate`; unknown pollutant; `beta` or an override (``u_rv``, ``rv``,
        ``alpha``, ``n_p``, ``n_np``) that is not a finite number in its range (a string,
        None, a bool, ``beta`` <= 0): one line naming it.

    Notes
    -----
    Time series (Janssen and Thunis 2022), with population statistics over the valid pairs:

    .. math::

        RMS_U = \\sqrt{\\overline{U(O_i)^2}}, \\quad
        MQI = \\frac{RMSE}{\\beta RMS_U}

        MQI^2 = \\frac{BIAS^2 + (\\sigma_M - \\sigma_O)^2
                + 2 \\sigma_O \\sigma_M (1 - R)}{(\\beta RMS_U)^2}

    The criteria (necessary, not sufficient): ``mpc_bias`` = abs(BIAS)/(β RMS_U),
    ``mpc_std`` = abs(σ_M − σ_O)/(β RMS_U), ``mpc_corr`` = 2 σ_O σ_M (1 − R)/(β RMS_U)²,
    each <= 1. Yearly means: ``MQI = abs(Ō − M̄) / (β U(Ō))`` with
    :func:`annual_uncertainty`; in space, over the stations,
    ``mpc_space_corr`` = 2 σ_Ō σ_M̄ (1 − R)/(β RMS_Ū)² and
    ``mpc_space_std`` = abs(σ_M̄ − σ_Ō)/(β RMS_Ū), with RMS_Ū the quadratic mean of U(Ō).

    Examples
    --------
    >>> o = xr.DataArray([20.0, 40.0, 60.0, 30.0], dims="time", attrs={"units": "ug m-3"})
    >>> m = xr.DataArray([25.0, 35.0, 50.0, 40.0], dims="time", attrs={"units": "ug m-3"})
    >>> round(float(mqi(m, o, pollutant="NO2").mqi), 4)
    0.293
    """
    caller = "mqi"
    _real_number(
        beta,
        "beta",
        caller,
        "a finite number > 0 (the model may be beta times as uncertain as the observations)",
        lambda v: v > 0,
        " Pass a number, e.g. beta=2.0 (FAIRMODE's value).",
    )
    params = fairmode_parameters(pollutant, **overrides)
    mod, obs, _ = aligned_pair(model, observed, caller, to="ug m-3")
    refs = "Janssen and Thunis (2022) FAIRMODE Guidance Document v3.3, doi:10.2760/41988"
    attrs = {
        "title": f"FAIRMODE modelling quality indicator ({kind})",
        "beta": float(beta),
        "u_rv": params.u_rv,
        "rv": params.rv,
        "alpha": params.alpha,
        "n_p": params.n_p,
        "n_np": params.n_np,
        "parameters_source": params.source,
        "references": refs,
    }
    if not isinstance(pollutant, FairmodeParameters):
        attrs["pollutant"] = str(pollutant)
    if kind == "timeseries":
        ds = _mqi_timeseries(mod, obs, params, _as_dims(dim, obs, caller), beta)
    elif kind == "annual":
        ds = _mqi_annual(mod, obs, params, dim, space_dim, beta)
    else:
        raise InputError(f"{caller}: kind must be 'timeseries' or 'annual', got {kind!r}.")
    ds.attrs.update(attrs)
    return add_history(
        ds, f"mqi(kind={kind!r}, beta={beta!r}, pollutant={attrs.get('pollutant')!r})"
    )


def _mqi_timeseries(
    mod: xr.DataArray,
    obs: xr.DataArray,
    params: FairmodeParameters,
    dims: list[str],
    beta: float,
) -> xr.Dataset:
    """Time-series MQI over `dims`, its terms and the modelling performance criteria."""
    ds = _reduce(
        _mqi_timeseries_core,
        mod,
        obs,
        dims,
        _MQI_TS_NAMES,
        {"u_rv": params.u_rv, "rv": params.rv, "alpha": params.alpha, "beta": float(beta)},
    )
    ds["mpc_bias"] = abs(ds["mqi_bias"])
    ds["mpc_std"] = abs(ds["mqi_std"])
    ds["mpc_corr"] = ds["mqi_corr"] ** 2
    ds["mqo_fulfilled"] = ds["mqi"] <= 1.0
    ds["mpc_fulfilled"] = (ds["mpc_bias"] <= 1) & (ds["mpc_std"] <= 1) & (ds["mpc_corr"] <= 1)
    for name, units in (("rms_u", "ug m-3"), ("bias", "ug m-3"), ("rmse", "ug m-3")):
        ds[name].attrs["units"] = units
    ds["mqi"].attrs = {"long_name": "FAIRMODE modelling quality indicator", "units": "1"}
    return ds


def _mqi_annual(
    mod: xr.DataArray,
    obs: xr.DataArray,
    params: FairmodeParameters,
    dim: str,
    space_dim: str,
    beta: float,
) -> xr.Dataset:
    """MQI of yearly means (averaged over `dim` first when present) and spatial criteria."""
    if dim in obs.dims:
        both = obs.notnull() & mod.notnull()
        obs = obs.where(both).mean(dim)
        mod = mod.where(both).mean(dim)
    u = annual_uncertainty(obs, params)
    ds = xr.Dataset()
    ds["mean_observed"] = obs
    ds["mean_model"] = mod
    ds["u_annual"] = u
    ds["mqi"] = abs(obs - mod) / (beta * u)
    ds["mqo_fulfilled"] = ds["mqi"] <= 1.0
    ds["mqi"].attrs = {"long_name": "FAIRMODE MQI of yearly means", "units": "1"}
    ds["u_annual"].attrs = {"long_name": "uncertainty of the yearly mean", "units": "ug m-3"}
    if space_dim in obs.dims and obs.sizes[space_dim] >= 2:
        valid = obs.notnull() & mod.notnull()
        ov = obs.where(valid)
        mv = mod.where(valid)
        so = ov.std(space_dim)
        sm = mv.std(space_dim)
        r = xr.corr(ov, mv, dim=space_dim)
        rms_u = np.sqrt((u.where(valid) ** 2).mean(space_dim))
        ds["rms_u_annual"] = rms_u
        ds["mpc_space_corr"] = 2 * so * sm * (1 - r) / (beta * rms_u) ** 2
        ds["mpc_space_std"] = abs(sm - so) / (beta * rms_u)
    return ds


def mqi_network(
    mqi_values: xr.DataArray | xr.Dataset | pd.Series | np.ndarray | Sequence[float],
    *,
    dim: str = "station",
    percentile: float = 90.0,
    method: Literal["fairmode", "linear"] = "fairmode",
) -> xr.Dataset:
    """Network-level MQI: the 90th percentile of the station MQIs, and whether the network
    meets the modelling quality objective.

    Parameters
    ----------
    mqi_values : xarray.DataArray, xarray.Dataset, pandas.Series or array_like
        Station MQIs (>= 0; NaN for a station without one, ignored), or the output of
        :func:`mqi`, whose ``mqi`` is used. A pandas Series (indexed by station), a 1-D
        numpy array or a list holds one value per station, along `dim`.
    dim : str, default "station"
        Station dimension.
    percentile : float, default 90
        Percentile in per cent, in (1, 100]: 90 for the 90th percentile of FAIRMODE (not
        the fraction 0.9 of :func:`numpy.quantile`).
    method : {"fairmode", "linear"}, default "fairmode"
        ``"fairmode"``: sort the N valid MQIs increasingly, rank ``S = N p / 100``, and
        interpolate linearly between ranks ``floor(S)`` and ``floor(S) + 1`` (1-based; rank 0
        is taken as 0, so one station gives ``0.9 MQI``). ``"linear"``: numpy's default
        percentile (ranks ``(N - 1) p / 100``, 0-based).

    Returns
    -------
    xarray.Dataset
        ``mqi_percentile``; ``n_stations`` (NaN MQIs ignored); ``n_fulfilled``, the
        stations whose MQI is <= 1; ``small_network``, True where the network has fewer
        than ``100 / (100 - percentile)`` stations (10 for the 90th percentile); and
        ``mqo_fulfilled``: ``mqi_percentile <= 1``, except in a small network, where it
        is True only when every station's MQI is <= 1 (see Notes). ``attrs["mqo_rule"]``
        says the rule in words.

    Notes
    -----
    FAIRMODE's "90 % principle" (Janssen and Thunis 2022) asks the objective to be met at
    at least 90 % of the stations; ``mqi_percentile <= 1`` is how it is checked with many
    stations. With fewer than 10 stations, 90 % of them is all of them (no station may
    fail), while the interpolated percentile can stay <= 1 with a failing station (one
    station: ``0.9 MQI``, which is <= 1 up to MQI = 1.11). The verdict of a small network is
    therefore taken station by station; ``mqi_percentile`` keeps its FAIRMODE value, as the
    target diagrams show it.

    Raises
    ------
    trajectoire.MissingVariableError
        `dim` is not a dim of the MQIs, or a Dataset without ``mqi``.
    trajectoire.InputError
        MQIs that are neither xarray nor one value per station (a 1-D array, list or
        Series); a negative MQI (the message names the stations); a `percentile` that is
        not a number in (0, 100], or one in (0, 1] (a fraction: give 90, not 0.9); an
        unknown `method`.

    Examples
    --------
    >>> v = xr.DataArray([0.2, 0.5, 0.8, 1.4], dims="station")
    >>> round(float(mqi_network(v).mqi_percentile), 4)
    1.16
    >>> round(float(mqi_network([0.2, 0.5, 0.8, 1.4]).mqi_percentile), 4)
    1.16
    >>> one = mqi_network([1.07])  # one station, failing: 0.9 MQI <= 1, but not met
    >>> round(float(one.mqi_percentile), 3), bool(one.mqo_fulfilled), bool(one.small_network)
    (0.963, False, True)
    """
    caller = "mqi_network"
    if isinstance(mqi_values, xr.Dataset) and "mqi" not in mqi_values:
        raise MissingVariableError(
            f"mqi_network: the dataset has no 'mqi' variable (it has "
            f"{sorted(map(str, mqi_values.data_vars))}); expected the result of mqi() or its "
            "'mqi' DataArray."
        )
    da = _station_values(mqi_values, dim, caller)
    if dim not in da.dims:
        raise MissingVariableError(
            f"mqi_network: dim {dim!r} not in the MQI dims {tuple(da.dims)}; pass dim=."
        )
    percent = _real_number(
        percentile,
        "percentile",
        caller,
        "a number in (0, 100], in per cent (90 for FAIRMODE's 90th percentile)",
        lambda v: 0 < v <= 100,
        " Pass e.g. percentile=90.",
    )
    if percent <= 1:
        raise InputError(
            f"{caller}: percentile={percentile!r} looks like a fraction (numpy.quantile's "
            "habit), but percentile is in per cent (90 for FAIRMODE's 90th percentile); "
            f"expected a number in (1, 100]. Pass percentile={100 * percent:g}."
        )
    if method not in ("fairmode", "linear"):
        raise InputError(f"mqi_network: method must be 'fairmode' or 'linear', got {method!r}.")
    _check_not_negative(da, dim, caller)

    p = xr.apply_ufunc(
        _network_percentile,
        da,
        input_core_dims=[[dim]],
        kwargs={"percentile": percent, "method": method},
        dask="parallelized",
        output_dtypes=[float],
    )
    n = da.notnull().sum(dim)
    met = (da <= 1.0).sum(dim)
    small = _small_network(n, percent)
    ds = xr.Dataset(
        {
            "mqi_percentile": p,
            "mqo_fulfilled": xr.where(small, (met == n) & (n > 0), p <= 1.0),
            "n_stations": n,
            "n_fulfilled": met,
            "small_network": small,
        }
    )
    ds["mqi_percentile"].attrs = {
        "long_name": f"{percent:g}th percentile of the station MQIs ({method})",
        "units": "1",
    }
    ds["n_fulfilled"].attrs = {"long_name": "stations whose MQI is <= 1", "units": "1"}
    ds["small_network"].attrs = {
        "long_name": f"fewer than {_small_limit(percent):g} stations: the objective is judged "
        "station by station"
    }
    ds.attrs.update({"percentile": percent, "method": method, "mqo_rule": _mqo_rule(percent)})
    return ds


def _small_limit(percent: float) -> float:
    """Fewest stations of a network in which a station may fail the objective under the
    `percent` % principle: ``100 / (100 - percent)`` (10 for 90 %; inf for 100 %)."""
    return math.inf if percent >= 100.0 else 100.0 / (100.0 - percent)


def _small_network(n: xr.DataArray, percent: float) -> xr.DataArray:
    """Where `n` stations leave no station free to fail (``n (100 - p) < 100``: fewer than
    10 stations for the 90th percentile)."""
    return n * (100.0 - percent) < 100.0 - 1e-9


def _mqo_rule(percent: float = 90.0) -> str:
    """The network verdict of :func:`mqi_network` in words (the ``mqo_rule`` attribute).

    Parameters
    ----------
    percent : float, default 90
        Percentile of the station MQIs [%].

    Returns
    -------
    str
    """
    limit = _small_limit(percent)
    small = (
        f"with fewer than {limit:g} stations, every station's MQI <= 1 ({percent:g} % of "
        "fewer stations is all of them)"
        if math.isfinite(limit)
        else "every station's MQI <= 1"
    )
    return (
        f"FAIRMODE {percent:g} % principle (Janssen and Thunis 2022): the network meets the "
        f"objective when its {percent:g}th percentile MQI is <= 1; {small}"
    )


def _station_values(values: object, dim: str, caller: str) -> xr.DataArray:
    """The MQIs of :func:`mqi_network` as a DataArray: a Dataset's ``mqi``, a DataArray as it
    is, a pandas Series (its index as the `dim` labels), a 1-D array or list along `dim`."""
    if isinstance(values, xr.Dataset):
        return values["mqi"]
    if isinstance(values, xr.DataArray):
        return values
    if isinstance(values, pd.Series):
        return xr.DataArray(
            np.asarray(values.to_numpy(), dtype=float),
            dims=dim,
            coords={dim: values.index.to_numpy()},
        )
    array: np.ndarray | None = None
    if not isinstance(values, str | bytes | Mapping):
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            array = None
    if array is None or array.ndim != 1:
        shape = f" of shape {array.shape}" if array is not None else ""
        raise InputError(
            f"{caller}: got a {type(values).__name__}{shape}; expected the station MQIs as an "
            f"xarray.DataArray with a {dim!r} dim, the Dataset of mqi(), a pandas Series "
            "indexed by station, or a 1-D array or list of numbers (one per station)."
        )
    return xr.DataArray(array, dims=dim)


def _check_not_negative(da: xr.DataArray, dim: str, caller: str) -> None:
    """Raise, naming the stations, where an MQI is negative (an MQI is >= 0 by definition)
    or infinite (left out of the percentile as NaN is, it hid a failing station)."""
    for bad, what, fix in (
        (da < 0, "negative", "an MQI is RMSE or |bias| over beta U, never negative. Pass the "
                             "mqi of mqi(), not a signed term such as mqi_bias"),
        (abs(da) == np.inf, "infinite", "mqi() gives finite MQIs; NaN marks a station without "
                                   "one. Give the station's MQI, or NaN to leave it out"),
    ):  # fmt: skip
        if not bool(bad.any()):
            continue
        per_station = bad.any([d for d in bad.dims if d != dim])
        where = np.flatnonzero(np.asarray(per_station.values))
        if dim in da.coords:
            labels = [str(da[dim].values[i]) for i in where]
        else:
            labels = [f"index {i}" for i in where]
        extreme = float(da.where(bad).min()) if what == "negative" else float("inf")
        shown = f" (down to {extreme:g})" if what == "negative" else ""
        raise InputError(
            f"{caller}: {len(where)} {what} MQI(s){shown} at {dim} {rows_preview(labels)}; "
            f"expected MQIs >= 0 and finite ({fix})."
        )


def _network_percentile(v: np.ndarray, percentile: float, method: str) -> np.ndarray:
    """Percentile of the finite values along the last axis (NaN where there is none).

    ``"fairmode"``: with the N finite values sorted, rank ``S = N p / 100``, ``k = floor(S)``,
    linear between the k-th value (0 for k = 0) and the (k+1)-th (the last one if k = N).
    ``"linear"``: :func:`numpy.percentile` of the finite values.
    """
    if v.shape[-1] == 0:
        return np.full(v.shape[:-1], np.nan)
    x = np.sort(np.where(np.isfinite(v), v, np.nan), axis=-1)  # NaN sorted last
    n = np.isfinite(x).sum(axis=-1)
    if method == "linear":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            return np.asarray(np.nanpercentile(x, percentile, axis=-1), dtype=float)
    s = n * percentile / 100.0
    k = np.floor(s).astype(np.int64)
    below = np.take_along_axis(x, np.maximum(k - 1, 0)[..., None], axis=-1)[..., 0]
    lo = np.where(k == 0, 0.0, below)
    hi = np.take_along_axis(x, np.maximum(np.minimum(k, n - 1), 0)[..., None], axis=-1)[..., 0]
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, lo + (hi - lo) * (s - k), np.nan)


# ------------------------------------------------------------------ station network table
#: Rows of the ``evaluation`` table of a run (:func:`evaluate_stations`), in order: the
#: statistics of :func:`evaluate` over the stations, ``nmb`` and the FAIRMODE annual MQI,
#: then the counts behind them: the pairs left out of MG and VG (``n_below_threshold``),
#: those FAC2 is taken over (``n_fac2``) and the stations whose MQI is <= 1 (``n_mqo_met``).
EVALUATION_STATISTICS: tuple[str, ...] = (
    "n",
    "mean_observed",
    "mean_model",
    "bias",
    "nmb",
    *_CHANG_HANNA,
    "mqi_p90",
    "mqo_fulfilled",
    "mpc_space_corr",
    "mpc_space_std",
    "n_below_threshold",
    "n_fac2",
    "n_mqo_met",
)


def evaluate_stations(
    model: xr.DataArray,
    observed: xr.DataArray,
    *,
    beta: float = 2.0,
) -> xr.Dataset:
    """Evaluation of yearly means over a station network, per year and pollutant.

    For each year and pollutant, over the stations with both an observed and a modelled
    annual mean: the Chang and Hanna (2004) statistics in space (:func:`evaluate` with
    ``dim="station"``), the normalised mean bias ``nmb`` = bias / mean observed, and the
    FAIRMODE MQI of yearly means (:func:`mqi` with ``kind="annual"``): each station's MQI,
    the network's 90th percentile ``mqi_p90`` (:func:`mqi_network`), the stations whose
    MQI is <= 1 (``n_mqo_met``), whether the network meets the objective
    (``mqo_fulfilled``, 1 or 0: ``mqi_p90`` <= 1, and with fewer than 10 stations every
    station's MQI <= 1, FAIRMODE's 90 % principle, :func:`mqi_network`) and the spatial
    criteria ``mpc_space_corr`` and ``mpc_space_std``. The counts ``n_below_threshold``
    (pairs with a value 0, left out of MG and VG) and ``n_fac2`` (pairs FAC2 is taken
    over) say which stations each statistic covers.

    Parameters
    ----------
    model, observed : xarray.DataArray
        ``(year, station, pollutant)`` modelled and observed annual means with ``units``
        (NaN where a station has no value); the pollutant labels are the output's.
    beta : float, default 2.0
        FAIRMODE ``β``.

    Returns
    -------
    xarray.Dataset
        ``evaluation(year, pollutant, statistic)`` (rows :data:`EVALUATION_STATISTICS`) and
        ``station_mqi(year, station, pollutant)`` [1]. The MQI rows are NaN for a pollutant
        without FAIRMODE parameters (only NO2, O3, PM10, PM2.5 have them), every row is NaN
        for a (year, pollutant) without an observation.

    Raises
    ------
    trajectoire.MissingVariableError
        `model` or `observed` lacks a ``year``, ``station`` or ``pollutant`` dim.

    Examples
    --------
    >>> o = xr.DataArray([[[30.0], [20.0], [25.0]]], dims=("year", "station", "pollutant"),
    ...     coords={"year": [2023], "station": ["a", "b", "c"], "pollutant": ["NO2"]},
    ...     attrs={"units": "ug m-3"})
    >>> ev = evaluate_stations(o * 0.9, o)
    >>> round(float(ev.evaluation.sel(statistic="nmb", year=2023, pollutant="NO2")), 3)
    -0.1
    """
    dims = ("year", "station", "pollutant")
    for da in (model, observed):
        _as_dims(list(dims), da, "evaluate_stations")
    model = model.transpose(*dims)
    observed = observed.transpose(*dims)
    table = np.full(
        (observed.sizes["year"], observed.sizes["pollutant"], len(EVALUATION_STATISTICS)), np.nan
    )
    station_mqi = np.full(observed.shape, np.nan)
    for ip, pol in enumerate(observed["pollutant"].values):
        m, o = model.isel(pollutant=ip, drop=True), observed.isel(pollutant=ip, drop=True)
        have = o.notnull().any("station").values
        if not have.any():
            continue
        m, o = m.isel(year=have), o.isel(year=have)
        rows, per_station = _network_rows(m, o, str(pol), beta)
        table[have, ip] = rows
        if per_station is not None:
            station_mqi[have, :, ip] = per_station
    coords = {"year": observed["year"].values, "pollutant": observed["pollutant"].values}
    out = xr.Dataset()
    out["evaluation"] = xr.DataArray(
        table,
        dims=("year", "pollutant", "statistic"),
        coords={**coords, "statistic": list(EVALUATION_STATISTICS)},
        attrs={
            "units": "1",
            "long_name": "evaluation of the annual means against the stations, per year",
            "comment": "Chang and Hanna (2004) statistics over the stations with an "
            "observation (dim station); mg and vg over the n - n_below_threshold pairs "
            "without a value 0; fac2 over n_fac2 pairs (a pair with one value 0 counts "
            "outside the factor two); nmb = bias / mean_observed; FAIRMODE annual MQI: "
            f"mqi_p90 = 90th percentile of the station MQIs, beta = {beta:g}; n_mqo_met = "
            "stations with MQI <= 1; mqo_fulfilled: see mqo_rule. mean_observed, "
            "mean_model, bias, rmse in ug m-3. See docs/evaluation.md.",
            "mqo_rule": _mqo_rule(),
        },
    )
    out["station_mqi"] = xr.DataArray(
        station_mqi,
        dims=dims,
        coords=observed.coords,
        attrs={"units": "1", "long_name": "FAIRMODE MQI of the station's annual mean"},
    )
    return out


def _network_rows(
    m: xr.DataArray, o: xr.DataArray, pollutant: str, beta: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(year, statistic)`` rows of one pollutant and its station MQIs (None without
    FAIRMODE parameters)."""
    rows = np.full((o.sizes["year"], len(EVALUATION_STATISTICS)), np.nan)
    col = {name: k for k, name in enumerate(EVALUATION_STATISTICS)}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a year with fewer than 2 pairs
        stats = evaluate(m, o, dim="station").transpose("year")
        for name in EVALUATION_STATISTICS:
            if name in stats:
                rows[:, col[name]] = np.asarray(stats[name].values, dtype=float)
        rows[:, col["nmb"]] = rows[:, col["bias"]] / rows[:, col["mean_observed"]]
        try:
            params = fairmode_parameters(pollutant)
        except InputError:
            return rows, None
        both = o.notnull() & m.notnull()
        per = mqi(m.where(both), o.where(both), pollutant=params, kind="annual", beta=beta)
        net = mqi_network(per["mqi"], dim="station")
        rows[:, col["mqi_p90"]] = net["mqi_percentile"].values
        some = net["n_stations"].values > 0
        ok = net["mqo_fulfilled"].values.astype(float)
        rows[:, col["mqo_fulfilled"]] = np.where(some, ok, np.nan)
        rows[:, col["n_mqo_met"]] = np.where(some, net["n_fulfilled"].values, np.nan)
        pairs = both.sum("station").transpose("year").values
        for name in ("mpc_space_corr", "mpc_space_std"):
            if name in per:  # spatial criteria: at least 2 stations
                rows[:, col[name]] = np.where(
                    pairs >= 2, per[name].transpose("year").values, np.nan
                )
    return rows, np.asarray(per["mqi"].transpose("year", "station").values, dtype=float)
