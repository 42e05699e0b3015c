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

:func:`sample_at_stations` extracts a gridded field at station positions (bilinear or nearest
cell). See ``docs/evaluation.md`` for the equations and parameter tables.

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
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import require_columns, require_unique, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, UnitsError, warn
from trajectoire.units import UNIT_TABLE, normalise_units

__all__ = [
    "CRITERIA",
    "FAIRMODE_PARAMETERS",
    "FairmodeParameters",
    "acceptance",
    "annual_uncertainty",
    "evaluate",
    "fairmode_parameters",
    "measurement_uncertainty",
    "mqi",
    "mqi_network",
    "observations_from_table",
    "sample_at_stations",
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
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(
                    f"FairmodeParameters.{name} must be a finite number > 0, got {value!r}."
                )
        if not (0.0 <= self.alpha <= 1.0):
            raise InputError(f"FairmodeParameters.alpha must lie in [0, 1], got {self.alpha!r}.")


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
        Unknown pollutant or override name.

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
def _units_kind(units: Any, what: str) -> tuple[str, str]:
    """Return (kind, canonical units) of a concentration units string."""
    if units is None or str(units).strip() == "":
        raise UnitsError(
            f"{what}: no units given; expected a concentration unit such as 'ug m-3' or "
            "'cm-3'. Set attrs['units'] explicitly: units are never guessed."
        )
    for kind in ("concentration", "number_concentration"):
        try:
            return kind, normalise_units(units, kind, what=what)
        except UnitsError:
            continue
    expected = list(UNIT_TABLE["concentration"]) + list(UNIT_TABLE["number_concentration"])
    raise UnitsError(
        f"{what}: units {units!r} are not a known concentration unit; expected one of "
        f"{expected}. Set attrs['units'] explicitly: units are never guessed."
    )


def _prepare_pair(
    model: xr.DataArray, observed: xr.DataArray, caller: str, *, to: str | None = None
) -> tuple[xr.DataArray, xr.DataArray, str]:
    """Validate a (model, observed) pair: types, units, dims, coordinates. Return SI-aligned."""
    for name, da in (("model", model), ("observed", observed)):
        if not isinstance(da, xr.DataArray):
            raise InputError(
                f"{caller}: `{name}` must be an xarray.DataArray with a 'units' attribute, got "
                f"{type(da).__name__}. Wrap it with xr.DataArray(values, dims=..., "
                "attrs={'units': 'ug m-3'})."
            )
    kind_o, units_o = _units_kind(observed.attrs.get("units"), f"{caller}: observed.attrs['units']")
    kind_m, units_m = _units_kind(model.attrs.get("units"), f"{caller}: model.attrs['units']")
    if kind_o != kind_m:
        raise UnitsError(
            f"{caller}: model is in {units_m!r} ({kind_m}) but observed in {units_o!r} "
            f"({kind_o}); they must measure the same quantity."
        )
    target = to or units_o
    if to is not None and kind_o != "concentration":
        raise UnitsError(
            f"{caller}: the FAIRMODE parameters are in ug m-3; got observations in {units_o!r}."
        )
    table = UNIT_TABLE[kind_o]
    obs = observed * (table[units_o] / table[target]) if units_o != target else observed
    mod = model * (table[units_m] / table[target]) if units_m != target else model
    if set(model.dims) != set(observed.dims):
        raise InputError(
            f"{caller}: model has dims {tuple(model.dims)} but observed has "
            f"{tuple(observed.dims)}; they must have the same dims. Sample the model at the "
            "stations first (sample_at_stations) or .rename/.squeeze the odd dims."
        )
    try:
        mod, obs = xr.align(mod, obs, join="exact")
    except ValueError as exc:
        raise InputError(
            f"{caller}: model and observed coordinates differ ({exc}). Select the common "
            "labels first, e.g. xr.align(model, observed, join='inner')."
        ) from exc
    mod = mod.transpose(*observed.dims)
    return mod, obs, target


def _as_dims(dim: str | Sequence[str], obj: xr.DataArray, caller: str) -> list[str]:
    dims = [dim] if isinstance(dim, str) else list(dim)
    missing = [d for d in dims if d not in obj.dims]
    if missing or not dims:
        raise MissingVariableError(
            f"{caller}: dim {dims} not found; the data has dims {tuple(obj.dims)}. Pass "
            "dim= one of those (e.g. dim='time' per station, dim='station' in space)."
        )
    return dims


# ---------------------------------------------------------------- numpy statistic cores
_STAT_NAMES = (
    "n",
    "n_dropped_nan",
    "n_below_threshold",
    "mean_observed",
    "mean_model",
    "std_observed",
    "std_model",
    "bias",
    "rmse",
    "r",
    "fb",
    "nmse",
    "mg",
    "vg",
    "fac2",
    "nad",
    "nmse_min",
    "vg_min",
)


def _pair_statistics(o: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """All statistics over the last axis, stacked on a new last axis (order ``_STAT_NAMES``)."""
    o = np.asarray(o, dtype=float)
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        valid = np.isfinite(o) & np.isfinite(p)
        n = valid.sum(axis=-1).astype(float)
        total = float(o.shape[-1])
        o0 = np.where(valid, o, 0.0)
        p0 = np.where(valid, p, 0.0)
        mo = o0.sum(axis=-1) / n
        mp = p0.sum(axis=-1) / n
        do = np.where(valid, o - mo[..., None], 0.0)
        dp = np.where(valid, p - mp[..., None], 0.0)
        so = np.sqrt((do**2).sum(axis=-1) / n)
        sp = np.sqrt((dp**2).sum(axis=-1) / n)
        r = (do * dp).sum(axis=-1) / n / (so * sp)
        mse = ((o0 - p0) ** 2).sum(axis=-1) / n
        fb = (mo - mp) / (0.5 * (mo + mp))
        nmse = mse / (mo * mp)
        nad = np.abs(o0 - p0).sum(axis=-1) / n / (mo + mp)
        pos = valid & (o >= threshold) & (p >= threshold) & (o > 0) & (p > 0)
        npos = pos.sum(axis=-1).astype(float)
        lo = np.log(np.where(pos, o, 1.0))
        lp = np.log(np.where(pos, p, 1.0))
        mg = np.exp((lo - lp).sum(axis=-1) / npos)
        vg = np.exp(((lo - lp) ** 2).sum(axis=-1) / npos)
        ratio = np.where(pos, p, 1.0) / np.where(pos, o, 1.0)
        fac2 = (pos & (ratio >= 0.5) & (ratio <= 2.0)).sum(axis=-1) / npos
        nmse_min = 4.0 * fb**2 / (4.0 - fb**2)
        vg_min = np.exp(np.log(mg) ** 2)
        out = [
            n,
            total - n,
            n - npos,
            mo,
            mp,
            so,
            sp,
            mp - mo,
            np.sqrt(mse),
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
    return np.stack([np.broadcast_to(np.asarray(v, dtype=float), n.shape) for v in out], axis=-1)


_STAT_ATTRS: dict[str, tuple[str, str]] = {
    "n": ("number of valid (finite) pairs", "1"),
    "n_dropped_nan": ("number of pairs dropped because one value is NaN", "1"),
    "n_below_threshold": (
        "number of valid pairs left out of MG, VG and FAC2 (a value below the threshold)",
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
    "fac2": ("fraction of predictions within a factor two of the observations", "1"),
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
        :func:`sample_at_stations` first.
    dim : str or sequence of str, default "time"
        Dimension(s) the statistics are taken over: ``"time"`` (one set per station),
        ``"year"``, ``"station"`` (in space, one set per year), or several at once (pooled).
    pollutant : str, optional
        Pollutant id, recorded in the attributes.
    threshold : float, default 0.0
        Detection threshold [units of `observed`]: pairs where the observation or the
        prediction is below it (or not > 0) are left out of ``mg``, ``vg`` and ``fac2`` and
        counted in ``n_below_threshold``. The other statistics use every finite pair.

    Returns
    -------
    xarray.Dataset
        One variable per statistic (see Notes), over the dims of the inputs other than `dim`;
        ``n`` valid pairs, ``n_dropped_nan`` pairs dropped because of a NaN.

    Raises
    ------
    trajectoire.UnitsError
        Missing or unknown units, or model and observations of different kinds.
    trajectoire.InputError
        Dims or coordinates that differ, or a negative threshold.
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
        FAC2 = \\frac{\\#\\{0.5 \\le C_p / C_o \\le 2\\}}{N}

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
    if not (math.isfinite(threshold) and threshold >= 0):
        raise InputError(
            f"{caller}: threshold must be a finite number >= 0 (a detection limit in the units "
            f"of the observations), got {threshold!r}."
        )
    mod, obs, units = _prepare_pair(model, observed, caller)
    dims = _as_dims(dim, obs, caller)
    ds = _reduce(_pair_statistics, mod, obs, dims, _STAT_NAMES, {"threshold": float(threshold)})
    for name in _STAT_NAMES:
        long_name, u = _STAT_ATTRS[name]
        ds[name].attrs = {"long_name": long_name, "units": units if u == "U" else u}
    for name in ("n", "n_dropped_nan", "n_below_threshold"):
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
    with np.errstate(all="ignore"):
        valid = np.isfinite(o) & np.isfinite(m)
        n = valid.sum(axis=-1).astype(float)
        o0 = np.where(valid, o, 0.0)
        m0 = np.where(valid, m, 0.0)
        u2 = u_rv**2 * ((1.0 - alpha**2) * o0**2 + alpha**2 * rv**2)
        rms_u = np.sqrt(np.where(valid, u2, 0.0).sum(axis=-1) / n)
        mo = o0.sum(axis=-1) / n
        mm = m0.sum(axis=-1) / n
        do = np.where(valid, o - mo[..., None], 0.0)
        dm = np.where(valid, m - mm[..., None], 0.0)
        so = np.sqrt((do**2).sum(axis=-1) / n)
        sm = np.sqrt((dm**2).sum(axis=-1) / n)
        cov = (do * dm).sum(axis=-1) / n
        r = cov / (so * sm)
        rmse = np.sqrt(((o0 - m0) ** 2).sum(axis=-1) / n)
        denom = beta * rms_u
        bias = mm - mo
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
            np.sqrt(np.maximum(2.0 * (so * sm - cov), 0.0)) / denom,
        ]
    return np.stack([np.broadcast_to(np.asarray(v, dtype=float), n.shape) for v in out], axis=-1)


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
        As :func:`evaluate`; unknown pollutant; ``beta`` <= 0.

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
    if not (math.isfinite(beta) and beta > 0):
        raise InputError(f"{caller}: beta must be a finite number > 0, got {beta!r}.")
    params = fairmode_parameters(pollutant, **overrides)
    mod, obs, _ = _prepare_pair(model, observed, caller, to="ug m-3")
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
        dims = _as_dims(dim, obs, caller)
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
    elif kind == "annual":
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
    else:
        raise InputError(f"{caller}: kind must be 'timeseries' or 'annual', got {kind!r}.")
    ds.attrs.update(attrs)
    return add_history(
        ds, f"mqi(kind={kind!r}, beta={beta!r}, pollutant={attrs.get('pollutant')!r})"
    )


def mqi_network(
    mqi_values: xr.DataArray | xr.Dataset,
    *,
    dim: str = "station",
    percentile: float = 90.0,
    method: Literal["fairmode", "linear"] = "fairmode",
) -> xr.Dataset:
    """Network-level MQI: the 90th percentile of the station MQIs, and whether it is <= 1.

    Parameters
    ----------
    mqi_values : xarray.DataArray or xarray.Dataset
        Station MQIs (or the output of :func:`mqi`, whose ``mqi`` is used).
    dim : str, default "station"
        Station dimension.
    percentile : float, default 90
        Percentile [%].
    method : {"fairmode", "linear"}, default "fairmode"
        ``"fairmode"``: sort the N valid MQIs increasingly, rank ``S = N p / 100``, and
        interpolate linearly between ranks ``floor(S)`` and ``floor(S) + 1`` (1-based; rank 0
        is taken as 0, so one station gives ``0.9 MQI``). ``"linear"``: numpy's default
        percentile (ranks ``(N - 1) p / 100``, 0-based).

    Returns
    -------
    xarray.Dataset
        ``mqi_percentile``, ``mqo_fulfilled`` (<= 1) and ``n_stations`` (NaN MQIs ignored).

    Examples
    --------
    >>> v = xr.DataArray([0.2, 0.5, 0.8, 1.4], dims="station")
    >>> round(float(mqi_network(v).mqi_percentile), 4)
    1.16
    """
    da = mqi_values["mqi"] if isinstance(mqi_values, xr.Dataset) else mqi_values
    if dim not in da.dims:
        raise MissingVariableError(
            f"mqi_network: dim {dim!r} not in the MQI dims {tuple(da.dims)}; pass dim=."
        )
    if not (0 < percentile <= 100):
        raise InputError(f"mqi_network: percentile must be in (0, 100], got {percentile!r}.")
    if method not in ("fairmode", "linear"):
        raise InputError(f"mqi_network: method must be 'fairmode' or 'linear', got {method!r}.")

    def _core(v: np.ndarray) -> np.ndarray:
        out = np.full(v.shape[:-1], np.nan)
        for idx in np.ndindex(*v.shape[:-1]):
            x = np.sort(v[idx][np.isfinite(v[idx])])
            n = x.size
            if n == 0:
                continue
            if method == "linear":
                out[idx] = np.percentile(x, percentile)
                continue
            s = n * percentile / 100.0
            k = int(math.floor(s))
            lo = 0.0 if k == 0 else x[k - 1]
            hi = x[min(k, n - 1)]
            out[idx] = lo + (hi - lo) * (s - k)
        return out

    p = xr.apply_ufunc(
        _core, da, input_core_dims=[[dim]], dask="parallelized", output_dtypes=[float]
    )
    ds = xr.Dataset(
        {
            "mqi_percentile": p,
            "mqo_fulfilled": p <= 1.0,
            "n_stations": da.notnull().sum(dim),
        }
    )
    ds["mqi_percentile"].attrs = {
        "long_name": f"{percentile:g}th percentile of the station MQIs ({method})",
        "units": "1",
    }
    ds.attrs.update({"percentile": float(percentile), "method": method})
    return ds


# ---------------------------------------------------------------- sampling at stations
def _axis(coord: np.ndarray, name: str) -> tuple[float, float]:
    """First centre and signed step of a regular 1-D coordinate."""
    if coord.ndim != 1 or coord.size < 1:
        raise InputError(f"sample_at_stations: coordinate {name!r} must be 1-D and non-empty.")
    if coord.size == 1:
        return float(coord[0]), 0.0
    d = np.diff(coord)
    step = float(d.mean())
    if step == 0 or not np.allclose(d, step, rtol=1e-6, atol=abs(step) * 1e-6):
        raise InputError(
            f"sample_at_stations: coordinate {name!r} is not regularly spaced (steps from "
            f"{d.min()} to {d.max()}); regrid the field onto a regular Grid first."
        )
    return float(coord[0]), step


def sample_at_stations(
    field: xr.DataArray,
    stations: pd.DataFrame,
    *,
    method: Literal["bilinear", "nearest"] = "bilinear",
    outside: Literal["raise", "nan"] = "raise",
) -> xr.DataArray:
    """Values of a gridded field at station positions.

    Parameters
    ----------
    field : xarray.DataArray
        Field with regular cell-centre coordinates ``y``, ``x`` (any other dims kept), in the
        CRS of the station coordinates.
    stations : pandas.DataFrame
        Columns ``station_id`` (unique), ``x``, ``y`` [m, grid CRS]. A GeoDataFrame of
        points with a CRS is reprojected to the field's ``attrs['crs']`` when it has one.
    method : {"bilinear", "nearest"}, default "bilinear"
        ``"nearest"``: value of the cell that contains the station. ``"bilinear"``:
        interpolation between the four surrounding cell centres; between the outer cell
        centres and the grid edge the value is held constant (nearest centre along that
        axis). NaN in any of the used cells gives NaN.
    outside : {"raise", "nan"}, default "raise"
        Stations outside the grid extent: raise an error naming them, or keep them with NaN
        and emit a :class:`trajectoire.TrajectoireWarning` naming them.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., station)``; coordinates ``station`` (ids), ``station_x``,
        ``station_y``; attrs of `field` kept, plus ``sampling``.

    Raises
    ------
    trajectoire.InputError
        Missing ``x``/``y`` dims, irregular coordinates, duplicated or non-finite stations,
        stations outside the grid (``outside="raise"``).
    trajectoire.MissingVariableError
        Missing station columns.

    Notes
    -----
    Bilinear weights with fractional indices :math:`f_x = (x - x_0)/\\Delta x`,
    :math:`f_y = (y - y_0)/\\Delta y` (:math:`\\Delta y < 0` for north-up grids), clamped to
    the range of the centres: :math:`v = \\sum_{ij} (1 - |f_x - i|)(1 - |f_y - j|) v_{ji}`
    over the two nearest columns i and rows j.

    Examples
    --------
    >>> f = xr.DataArray([[0.0, 1.0], [2.0, 3.0]], dims=("y", "x"),
    ...                  coords={"y": [150.0, 50.0], "x": [50.0, 150.0]}, attrs={"units": "ug m-3"})
    >>> st = pd.DataFrame({"station_id": ["a"], "x": [100.0], "y": [100.0]})
    >>> float(sample_at_stations(f, st).sel(station="a"))
    1.5
    """
    caller = "sample_at_stations"
    if not isinstance(field, xr.DataArray):
        raise InputError(
            f"{caller}: field must be an xarray.DataArray, got {type(field).__name__}."
        )
    for d in ("x", "y"):
        if d not in field.dims:
            raise InputError(
                f"{caller}: field has dims {tuple(field.dims)}; expected cell-centre dims 'y' "
                "and 'x'. Rename them with .rename({...: 'x'})."
            )
    if method not in ("bilinear", "nearest"):
        raise InputError(f"{caller}: method must be 'bilinear' or 'nearest', got {method!r}.")
    if outside not in ("raise", "nan"):
        raise InputError(f"{caller}: outside must be 'raise' or 'nan', got {outside!r}.")
    ids, sx, sy = _station_table(stations, field, caller)
    x0, stx = _axis(np.asarray(field["x"].values, dtype=float), "x")
    y0, sty = _axis(np.asarray(field["y"].values, dtype=float), "y")
    nx, ny = field.sizes["x"], field.sizes["y"]
    hx = abs(stx) / 2 if stx else np.inf
    hy = abs(sty) / 2 if sty else np.inf
    xs = np.asarray(field["x"].values, dtype=float)
    ys = np.asarray(field["y"].values, dtype=float)
    inside = (
        (sx >= xs.min() - hx)
        & (sx <= xs.max() + hx)
        & (sy >= ys.min() - hy)
        & (sy <= ys.max() + hy)
    )
    if stx == 0 or sty == 0:
        raise InputError(f"{caller}: the field needs at least two cells along x and y.")
    if not inside.all():
        bad = [ids[i] for i in np.flatnonzero(~inside)]
        msg = (
            f"{caller}: {len(bad)} station(s) outside the grid extent "
            f"x [{xs.min() - hx}, {xs.max() + hx}], y [{ys.min() - hy}, {ys.max() + hy}]: "
            f"{rows_preview(bad)}."
        )
        if outside == "raise":
            raise InputError(msg + " Enlarge the grid, drop those stations, or pass outside='nan'.")
        warn(msg + " Their values are NaN.")
    fx = (sx - x0) / stx
    fy = (sy - y0) / sty
    st_coords = {
        "station": ("station", np.asarray(ids, dtype=object)),
        "station_x": ("station", sx),
        "station_y": ("station", sy),
    }
    if method == "nearest":
        ix = np.clip(np.floor(fx + 0.5), 0, nx - 1).astype(np.int64)
        iy = np.clip(np.floor(fy + 0.5), 0, ny - 1).astype(np.int64)
        out = field.isel(
            x=xr.DataArray(ix, dims="station"), y=xr.DataArray(iy, dims="station"), drop=True
        )
    else:
        fxc = np.clip(fx, 0, nx - 1)
        fyc = np.clip(fy, 0, ny - 1)
        i0 = np.clip(np.floor(fxc), 0, nx - 2).astype(np.int64)
        j0 = np.clip(np.floor(fyc), 0, ny - 2).astype(np.int64)
        tx = fxc - i0
        ty = fyc - j0
        acc: xr.DataArray | None = None
        for di, wx in ((0, 1 - tx), (1, tx)):
            for dj, wy in ((0, 1 - ty), (1, ty)):
                w = xr.DataArray(wx * wy, dims="station")
                v = field.isel(
                    x=xr.DataArray(i0 + di, dims="station"),
                    y=xr.DataArray(j0 + dj, dims="station"),
                    drop=True,
                )
                # weight 0 must not turn a NaN neighbour into NaN: skip exact zeros
                term = xr.where(w > 0, v * w, 0.0)
                acc = term if acc is None else acc + term
        assert acc is not None
        out = acc
    out = out.where(xr.DataArray(inside, dims="station"))
    out = out.transpose(*[d for d in field.dims if d not in ("x", "y")], "station")
    out = out.assign_coords(st_coords)
    out.attrs = {**field.attrs, "sampling": method}
    out.name = field.name
    return out


def _station_table(
    stations: pd.DataFrame, field: xr.DataArray, caller: str
) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """Station ids and coordinates from a DataFrame (or GeoDataFrame, reprojected)."""
    if not isinstance(stations, pd.DataFrame):
        raise InputError(
            f"{caller}: stations must be a pandas DataFrame with columns station_id, x, y; got "
            f"{type(stations).__name__}."
        )
    table = stations
    if hasattr(stations, "geometry") and "x" not in stations.columns:
        crs = field.attrs.get("crs")
        gdf: Any = stations
        geo = gdf.to_crs(crs) if crs and getattr(gdf, "crs", None) else gdf
        table = pd.DataFrame(
            {"station_id": stations["station_id"], "x": geo.geometry.x, "y": geo.geometry.y}
        )
    require_columns(table.columns, ["station_id", "x", "y"], f"{caller}: stations")
    ids = list(table["station_id"])
    require_unique(ids, f"{caller}: stations, column 'station_id'")
    sx = np.asarray(table["x"], dtype=float)
    sy = np.asarray(table["y"], dtype=float)
    bad = ~(np.isfinite(sx) & np.isfinite(sy))
    if bad.any():
        raise InputError(
            f"{caller}: stations, columns 'x'/'y': non-finite coordinates for station(s) "
            f"{rows_preview([ids[i] for i in np.flatnonzero(bad)])}. Fix or drop them."
        )
    return ids, sx, sy


# ------------------------------------------------------------------- tidy observations
def observations_from_table(
    table: pd.DataFrame,
    *,
    pollutant: str | None = None,
    time: str = "year",
    units: str = "ug m-3",
    what: str = "observations",
) -> xr.DataArray:
    """Observations as a ``(time, station)`` DataArray from a tidy table.

    Reads the layout of ``observations_annual.csv`` / ``observations_hourly.csv``
    (``docs/input-formats.md``): columns ``station_id``, `time`, ``pollutant``, ``value``.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy observations, one row per station, time (and pollutant).
    pollutant : str, optional
        Keep the rows of this pollutant (compared case-insensitively); required when the
        table holds several pollutants.
    time : str, default "year"
        Name of the time column, which becomes the first dim (``"year"`` or ``"time"``).
    units : str, default "ug m-3"
        Units of ``value`` (checked with :mod:`trajectoire.units`).
    what : str, default "observations"
        Name of the source (file) for error messages.

    Returns
    -------
    xarray.DataArray
        Dims ``(time, station)``, NaN where a station has no value; ``units`` set.

    Raises
    ------
    trajectoire.MissingVariableError
        Missing columns.
    trajectoire.InputError
        Several pollutants and none chosen, duplicated (station, time) rows, non-numeric
        values.
    trajectoire.UnitsError
        Unknown units.

    Examples
    --------
    >>> t = pd.DataFrame({"station_id": ["a", "a", "b"], "year": [2019, 2020, 2020],
    ...                   "pollutant": "NO2", "value": [30.0, 28.0, 41.0]})
    >>> observations_from_table(t).values.tolist()
    [[30.0, nan], [28.0, 41.0]]
    """
    kind, canonical = _units_kind(units, f"{what}: units")
    require_columns(table.columns, ["station_id", time, "value"], what)
    rows = table
    if "pollutant" in table.columns:
        names = table["pollutant"].astype(str)
        if pollutant is not None:
            rows = table[names.str.lower() == str(pollutant).lower()]
            if rows.empty:
                raise InputError(
                    f"{what}: no row for pollutant {pollutant!r}; the table holds "
                    f"{sorted(names.unique())}."
                )
        elif names.nunique() > 1:
            raise InputError(
                f"{what}: several pollutants {sorted(names.unique())}; choose one with "
                "pollutant=..."
            )
    values = pd.to_numeric(rows["value"], errors="coerce")
    bad = values.isna() & rows["value"].notna()
    if bad.any():
        raise InputError(
            f"{what}, column 'value': non-numeric entries at rows "
            f"{rows_preview(list(rows.index[bad]))}; expected numbers [{canonical}] or empty."
        )
    dup = rows.duplicated(["station_id", time], keep=False)
    if dup.any():
        raise InputError(
            f"{what}: duplicated (station_id, {time}) rows {rows_preview(list(rows.index[dup]))}; "
            "keep one value per station and time."
        )
    wide = (
        rows.assign(value=values)
        .pivot(index=time, columns="station_id", values="value")
        .sort_index()
    )
    out = xr.DataArray(
        wide.to_numpy(dtype=float),
        dims=(time, "station"),
        coords={time: wide.index.to_numpy(), "station": wide.columns.to_numpy(dtype=object)},
        attrs={"units": canonical, "long_name": "observed concentration"},
        name="observed",
    )
    if pollutant is not None:
        out.attrs["pollutant"] = str(pollutant)
    if kind == "number_concentration":
        out.attrs["long_name"] = "observed number concentration"
    return out
