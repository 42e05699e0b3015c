"""Population exposure: means, distributions and people above thresholds.

The exposure of a territory is the population-weighted mean concentration
``X_T = Σ_c P(c) f_T(c) C(c) / Σ_c P(c) f_T(c)`` with ``P`` the inhabitants per cell and
``f_T`` the exact share of the cell inside territory ``T`` (population assumed uniform
within a cell). Beyond the mean, :func:`exposure_distribution` gives the population-weighted
quantiles of the concentration people breathe, :func:`inhabitants_above` the inhabitants
living above reference values, and :func:`zone_split` splits the inhabitants of a cell
between the inside and the outside of a zone layer (priority neighbourhoods, IRIS...).
:func:`territory_exposure` applies the first two to every territory of a run from a
``(territory, cell)`` matrix of inhabitants, and :class:`ExposureStatistics` collects them
for the pollutants of one year (``exposure_quantile`` and ``inhabitants_above`` of a run).

Reference values (:data:`EXPOSURE_THRESHOLDS`, annual means only):

* ``WHO2021``: WHO global air quality guidelines (2021), annual AQG levels NO2 10,
  PM10 15, PM2.5 5 ug m-3 (SO2, CO and O3 have no annual guideline level);
* ``EU2030``: Directive (EU) 2024/2881, Annex I, annual limit values to be met by
  1 January 2030, NO2 20, PM10 20, PM2.5 10, SO2 20 ug m-3;
* ``EU2008``: Directive 2008/50/EC, Annexes XI and XIV, annual limit values in force until
  then, NO2 40, PM10 40, PM2.5 25 ug m-3.

References
----------
World Health Organization (2021). WHO global air quality guidelines: particulate matter
(PM2.5 and PM10), ozone, nitrogen dioxide, sulfur dioxide and carbon monoxide. Geneva,
ISBN 978-92-4-003422-8, https://www.who.int/publications/i/item/9789240034228.

Directive (EU) 2024/2881 of the European Parliament and of the Council of 23 October 2024
on ambient air quality and cleaner air for Europe (recast), OJ L, 2024/2881, 20.11.2024,
Annex I, Section 1, Table 1.

Directive 2008/50/EC of the European Parliament and of the Council of 21 May 2008 on
ambient air quality and cleaner air for Europe, OJ L 152, 11.6.2008, Annexes XI and XIV.

Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages. The American
Statistician 50(4), 361-365, doi:10.1080/00031305.1996.10473566.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy import sparse

from trajectoire._kernels.sorting import stable_argsort
from trajectoire._validate import require_dims, rows_preview
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.errors import InputError
from trajectoire.species import POLLUTANTS, normalise_pollutant, thresholds_table

__all__ = [
    "DEFAULT_QUANTILES",
    "EU_2008_LIMITS",
    "EU_2030_LIMITS",
    "EXPOSURE_THRESHOLDS",
    "HEALTH_LABELS",
    "NUMBER_THRESHOLDS",
    "NUMBER_THRESHOLD_NOTES",
    "WHO_2021_GUIDELINES",
    "ExposureStatistics",
    "ZoneExposure",
    "exposure_distribution",
    "inhabitants_above",
    "population_above",
    "population_weighted_mean",
    "registry_thresholds",
    "run_thresholds",
    "territory_exposure",
    "territory_inhabitants",
    "threshold_table",
    "zone_split",
]

#: The labels of the annual health reference values a run writes, in this order; their
#: values are the species registry's (``data/species.toml``, :func:`registry_thresholds`).
HEALTH_LABELS: tuple[str, ...] = ("WHO2021", "EU2030", "EU2008")
#: WHO 2021 air quality guideline levels, annual means [ug m-3] (built-in registry).
WHO_2021_GUIDELINES: dict[str, float] = thresholds_table("WHO2021", registry=POLLUTANTS)
#: Directive (EU) 2024/2881 annual limit values applying from 2030 [ug m-3] (built-in
#: registry; SO2's calendar-year limit included).
EU_2030_LIMITS: dict[str, float] = thresholds_table("EU2030", registry=POLLUTANTS)
#: Directive 2008/50/EC annual limit values (in force until 2029) [ug m-3] (built-in
#: registry).
EU_2008_LIMITS: dict[str, float] = thresholds_table("EU2008", registry=POLLUTANTS)
#: Labelled reference values of the built-in registry: label -> pollutant -> annual mean
#: [ug m-3]. A run takes those of its own registry (:func:`registry_thresholds`).
EXPOSURE_THRESHOLDS: dict[str, dict[str, float]] = {
    "WHO2021": WHO_2021_GUIDELINES,
    "EU2030": EU_2030_LIMITS,
    "EU2008": EU_2008_LIMITS,
}


def registry_thresholds() -> dict[str, dict[str, float]]:
    """The annual health reference values (:data:`HEALTH_LABELS`) of the species registry in
    use (:func:`trajectoire.species.current_species`: a run's ``[species] file`` included),
    label -> pollutant -> value in the species' concentration units [ug m-3, cm-3].

    Examples
    --------
    >>> registry_thresholds()["EU2030"]["SO2"]
    20.0
    """
    return {label: thresholds_table(label) for label in HEALTH_LABELS}


#: WHO 2021 good practice statement on ultrafine particles: "high" particle number
#: concentrations, above 10 000 cm-3 as a 24-hour mean (WHO global air quality guidelines
#: 2021, section 3.4.1). Not a guideline level; added to a run's thresholds (label
#: ``WHO2021_GPS``) only when it has a particle-number species (:func:`run_thresholds`),
#: compared with the annual mean: the inhabitants whose annual mean is above it [cm-3].
NUMBER_THRESHOLDS: dict[str, dict[str, float]] = {"WHO2021_GPS": {"UFP": 10000.0}}
#: What each of the :data:`NUMBER_THRESHOLDS` is, written beside the counts of a run
#: (``exposure_threshold_number``, ``inhabitants_above_number``, ``trajectoire info``): not
#: an annual value, so the inhabitants whose annual mean is above it are fewer than those
#: with days above it.
NUMBER_THRESHOLD_NOTES: dict[str, str] = {
    "WHO2021_GPS": (
        "WHO2021_GPS is the WHO 2021 good practice statement on ultrafine particles, "
        "10 000 cm-3 as a 24-hour mean (not a guideline level, not an annual value): "
        "compared with the annual mean, it counts fewer inhabitants than those with days above it"
    )
}
#: Population-weighted quantiles a run writes (``exposure_quantile``).
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def _check_same_grid(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    """Raise unless `a` and `b` have the same ``y`` and ``x`` coordinates."""
    for dim in ("y", "x"):
        if a.sizes[dim] != b.sizes[dim] or not np.allclose(a[dim].values, b[dim].values):
            raise InputError(
                f"{what}: the {dim!r} coordinates differ from the concentration's; put both on "
                "the same Grid (trajectoire.regrid) first."
            )


def _require_dataarray(value: object, name: str, dims: str, what: str) -> None:
    """Raise unless `value` is a DataArray (the dimensions are matched by name)."""
    if not isinstance(value, xr.DataArray):
        raise InputError(
            f"{what}: {name} is a {type(value).__module__}.{type(value).__name__}; expected an "
            f"xarray.DataArray with dims {dims}, matched by name. Wrap it: "
            f"xr.DataArray(values, dims={dims}) (or call exposure_distribution or "
            "inhabitants_above, which take plain arrays)."
        )


def _check_inhabitants(population: xr.DataArray, what: str) -> None:
    """Raise unless every cell of `population` is finite and >= 0, counting the others."""
    values = np.asarray(population.values, dtype=float)
    n_missing = int((~np.isfinite(values)).sum())
    n_negative = int((values < 0).sum())
    if n_missing or n_negative:
        raise InputError(
            f"{what}: population has {n_negative} negative and {n_missing} NaN or infinite "
            "cell(s); expected inhabitants >= 0 and finite in every cell. Fill the cells "
            "without data with 0 (population.fillna(0)) and check the sign of the source data."
        )


#: Round-off allowed on a share of a cell beyond [0, 1] (float32 sums of area shares).
_FRACTION_TOLERANCE = 1e-6


def _check_fractions(territory_fraction: xr.DataArray, what: str) -> None:
    """Raise unless every share of `territory_fraction` lies in [0, 1] (to round-off),
    naming the largest (or lowest) value and its territory. NaN is left alone."""
    values = np.asarray(territory_fraction.values, dtype=float)
    if values.size == 0 or np.isnan(values).all():
        return
    high = float(np.nanmax(values))
    if high > 1.0 + _FRACTION_TOLERANCE:
        value, flat, which = high, int(np.nanargmax(values)), "largest"
    else:
        low = float(np.nanmin(values))
        if low >= -_FRACTION_TOLERANCE:
            return
        value, flat, which = low, int(np.nanargmin(values)), "lowest"
    where = ""
    dims = territory_fraction.dims
    if "territory" in dims:
        k = int(np.unravel_index(flat, values.shape)[dims.index("territory")])
        if "territory" in territory_fraction.coords:
            where = f" (territory {str(territory_fraction['territory'].values[k])!r})"
        else:
            where = f" (territory index {k})"
    hint = (
        " It looks like per cent: pass territory_fraction / 100."
        if 1.0 < value <= 100.0 + _FRACTION_TOLERANCE
        else " Check how the shares were computed (trajectoire.territory_fractions)."
    )
    raise InputError(
        f"{what}: territory_fraction has shares outside [0, 1], the {which} {value:g}{where}; "
        f"expected the share of each cell in each territory, a fraction in [0, 1].{hint}"
    )


def _nan_inhabited_error(what: str, n_cells: int, cells: str, fix: str) -> InputError:
    """The error of a concentration that is NaN in `n_cells` cells where people live (the
    same words for :func:`population_weighted_mean`, :func:`population_above`,
    :func:`exposure_distribution` and :func:`inhabitants_above`)."""
    return InputError(
        f"{what}: the concentration is NaN in {n_cells} {cells}; expected a value wherever "
        f"people live (NaN is allowed only where the weight is 0). {fix}"
    )


def _n_nan_weighed(missing: xr.DataArray, weights: xr.DataArray) -> int:
    """Number of ``(y, x)`` cells where `missing` holds (on some other dim) and `weights`
    is > 0 (on some other dim): NaN concentrations that would count."""
    weighed = (weights > 0).any([d for d in weights.dims if d not in ("y", "x")])
    bad = (missing & weighed).any([d for d in missing.dims if d not in ("y", "x")])
    return int(bad.sum())


def _same_dims(value: ArrayLike, like: ArrayLike, names: tuple[str, str], what: str) -> ArrayLike:
    """`value` ordered as `like`: by dimension names when both are DataArrays (then their
    dimension names must be the same), else as it is, provided both have the same shape.

    Raises
    ------
    trajectoire.InputError
        DataArrays with different dimension names, or arrays of different shapes.
    """
    if isinstance(value, xr.DataArray) and isinstance(like, xr.DataArray):
        if set(value.dims) != set(like.dims):
            raise InputError(
                f"{what}: {names[0]} has dims {tuple(value.dims)} and {names[1]} "
                f"{tuple(like.dims)}; expected the same dimensions (in any order). Select or "
                "rename them (.sel(year=...), .rename(...)) to match."
            )
        value = value.transpose(*like.dims)
        for dim in like.dims:
            if dim in like.coords and dim in value.coords:
                a, b = like[dim].values, value[dim].values
                if a.shape != b.shape or not np.array_equal(a, b):
                    raise InputError(
                        f"{what}: the {dim!r} coordinates of {names[0]} and {names[1]} "
                        "differ; put both on the same grid (trajectoire.regrid) first."
                    )
        return value
    shape_v, shape_l = np.shape(value), np.shape(like)
    if shape_v != shape_l:
        raise InputError(
            f"{what}: {names[0]} has shape {shape_v} and {names[1]} {shape_l}; expected the "
            "same shape (the same cells, in the same order). Pass two arrays of the same grid, "
            "or xarray DataArrays with named dims to align them by name."
        )
    return value


def _canonical_thresholds(thresholds: Mapping[str, float], what: str) -> dict[str, float]:
    """`thresholds` keyed by canonical pollutant ids (``no2`` -> ``NO2``)."""
    out: dict[str, float] = {}
    for key, value in thresholds.items():
        canon = normalise_pollutant(key, what=f"{what}, key {key!r}")
        if canon in out:
            raise InputError(
                f"{what}: pollutant {canon!r} is given twice (as {key!r} and another "
                "spelling); keep one key per pollutant."
            )
        out[canon] = value
    return out


def population_weighted_mean(
    concentration: xr.DataArray,
    population: xr.DataArray,
    territory_fraction: xr.DataArray,
) -> xr.DataArray:
    """Population-weighted mean concentration per territory.

    Parameters
    ----------
    concentration : xarray.DataArray
        Concentration with dims ``(..., y, x)`` [ug m-3 or cm-3].
    population : xarray.DataArray
        Inhabitants per cell, dims ``(y, x)`` or ``(year, y, x)`` aligned with
        `concentration`.
    territory_fraction : xarray.DataArray
        Share of each cell in each territory, dims ``(territory, y, x)``, in [0, 1].

    Returns
    -------
    xarray.DataArray
        ``exposure`` with dims ``(..., territory)`` and the concentration's units.

    Raises
    ------
    trajectoire.InputError
        An input that is not a DataArray (plain arrays have no dimension names to match),
        mismatched grids, negative or NaN population, a territory with no inhabitants, or
        a NaN concentration in a cell with inhabitants in some territory (the message
        counts those cells).

    Notes
    -----
    Cells of zero weight (nobody, or outside every territory) play no part: a run's output
    is NaN beyond its buffer, where ``territory_fraction`` is 0, and gives the same mean
    as the unmasked map. Dimensions are matched by name, in any order.
    """
    what = "population_weighted_mean"
    _require_dataarray(concentration, "concentration", "(..., 'y', 'x')", what)
    _require_dataarray(population, "population", "('y', 'x')", what)
    _require_dataarray(territory_fraction, "territory_fraction", "('territory', 'y', 'x')", what)
    require_dims(concentration.dims, ("y", "x"), "population_weighted_mean: concentration")
    require_dims(population.dims, ("y", "x"), "population_weighted_mean: population")
    require_dims(territory_fraction.dims, ("territory", "y", "x"), "territory_fraction")
    _check_same_grid(concentration, population, "population")
    _check_same_grid(concentration, territory_fraction, "territory_fraction")
    _check_inhabitants(population, "population_weighted_mean")
    # sums in float64: a run writes float32 maps, whose float32 sums over a territory's
    # cells drift by ~1e-6 (a uniform field's mean was not the field)
    weights = population.astype(np.float64) * territory_fraction.astype(np.float64)
    denom = weights.sum(("y", "x"))
    if bool((denom <= 0).any()):
        # each territory empty somewhere, with where on the other dims (a year of a
        # population (year, y, x)): the first row alone missed a territory empty later on
        flags = (denom <= 0).transpose("territory", ...)
        empty = []
        for idx in np.argwhere(flags.values):
            at = ", ".join(
                f"{d} {flags[d].values[i]}" if d in flags.coords else f"{d} index {i}"
                for d, i in zip(flags.dims[1:], idx[1:], strict=True)
            )
            name = str(flags["territory"].values[idx[0]])
            empty.append(f"{name} ({at})" if at else name)
        raise InputError(
            f"population_weighted_mean: no inhabitants in territory {rows_preview(empty)}; "
            "expected a population > 0 in every territory: check the population grid and "
            "territory_fraction there (or leave the territory out)."
        )
    missing = concentration.isnull()
    if bool(missing.any()):
        n_bad = _n_nan_weighed(missing, weights)
        if n_bad:
            raise _nan_inhabited_error(
                what,
                n_bad,
                "cell(s) with inhabitants in a territory",
                "Use the unmasked map, or fill those cells.",
            )
        concentration = concentration.fillna(0.0)  # NaN only where the weight is 0
    num = xr.dot(concentration, weights, dim=["y", "x"])
    out = num / denom
    out = set_cf_attrs(out, "exposure", units=concentration.attrs.get("units", "ug m-3"))
    return add_history(out, "population_weighted_mean()")


def population_above(
    concentration: xr.DataArray,
    population: xr.DataArray,
    thresholds: Mapping[str, float] | float,
    *,
    territory_fraction: xr.DataArray | None = None,
) -> xr.DataArray:
    """Number of inhabitants living where the concentration exceeds a threshold.

    Parameters
    ----------
    concentration : xarray.DataArray
        ``(..., y, x)``; when it has a ``pollutant`` dim, `thresholds` may be a mapping
        pollutant -> threshold (pollutants without a threshold give NaN).
    population : xarray.DataArray
        Inhabitants per cell ``(y, x)``, finite and >= 0; dims are matched by name.
    thresholds : float or mapping
        Threshold [concentration units], e.g. :data:`WHO_2021_GUIDELINES`; the keys of a
        mapping are pollutant ids or aliases (``no2``, ``pm25``).
    territory_fraction : xarray.DataArray, optional
        ``(territory, y, x)``: count per territory instead of over the whole grid. Shares
        of each cell in [0, 1] (fractions, not per cent).

    Returns
    -------
    xarray.DataArray
        Inhabitants (float, since cells hold fractional people), dims ``(..., [territory])``.

    Raises
    ------
    trajectoire.InputError
        Inputs that are not DataArrays, without ``y``/``x`` dims or on different grids, a
        negative or NaN population, a threshold that is not a number, or an unknown
        pollutant key; a `territory_fraction` outside [0, 1] (per cent given for a
        fraction: the message names the largest value and its territory); a NaN
        concentration where people are counted (where the population, times
        `territory_fraction` when given, is > 0): a run's written map is NaN beyond the
        buffer of its territories, so count on it with `territory_fraction`, or use the
        unmasked map.

    Notes
    -----
    NaN concentrations are allowed where the weight is 0 (nobody, or outside every
    territory), as in :func:`population_weighted_mean`, :func:`exposure_distribution` and
    :func:`inhabitants_above`; elsewhere they are an error, never counted as "not above".
    """
    what = "population_above"
    _require_dataarray(concentration, "concentration", "(..., 'y', 'x')", what)
    _require_dataarray(population, "population", "('y', 'x')", what)
    if territory_fraction is not None:
        _require_dataarray(
            territory_fraction, "territory_fraction", "('territory', 'y', 'x')", what
        )
    require_dims(concentration.dims, ("y", "x"), "population_above: concentration")
    require_dims(population.dims, ("y", "x"), "population_above: population")
    _check_same_grid(concentration, population, "population")
    if territory_fraction is not None:
        require_dims(territory_fraction.dims, ("y", "x"), "population_above: territory_fraction")
        _check_same_grid(concentration, territory_fraction, "territory_fraction")
        _check_fractions(territory_fraction, what)
    _check_inhabitants(population, what)
    if isinstance(thresholds, Mapping):
        if "pollutant" not in concentration.dims:
            raise InputError("population_above: a threshold mapping needs a 'pollutant' dim.")
        canon = _canonical_thresholds(thresholds, "population_above: thresholds")
        values = [
            _threshold_value(canon.get(str(p), np.nan), str(p))
            for p in concentration["pollutant"].values
        ]
        thr = xr.DataArray(
            values, dims="pollutant", coords={"pollutant": concentration["pollutant"]}
        )
    else:
        thr = xr.DataArray(_threshold_value(thresholds, None))
    weights = population if territory_fraction is None else population * territory_fraction
    missing = concentration.isnull() & thr.notnull()  # a pollutant without threshold: NaN
    if bool(missing.any()):
        n_bad = _n_nan_weighed(missing, weights)
        if n_bad:
            if territory_fraction is None:
                cells = "inhabited cell(s)"
                fix = (
                    "Use the unmasked map, or pass territory_fraction= to count the "
                    "territories' inhabitants only (a run's written map is NaN beyond the "
                    "buffer of its territories)."
                )
            else:
                cells = "cell(s) with inhabitants in a territory"
                fix = "Use the unmasked map, or fill those cells."
            raise _nan_inhabited_error(what, n_bad, cells, fix)
    above = (concentration > thr).astype(float).where(thr.notnull())
    out = xr.dot(above, weights, dim=["y", "x"])
    out.attrs = {"units": "1", "long_name": "inhabitants above the threshold"}
    return out


def _threshold_value(value: object, pollutant: str | None) -> float:
    """A threshold of :func:`population_above` as a float, or one clear error."""
    try:
        if isinstance(value, str | bytes):
            raise TypeError
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        of = f" of {pollutant!r}" if pollutant else ""
        raise InputError(
            f"population_above: the threshold{of} is {value!r}; expected a number "
            "[concentration units] or a mapping pollutant -> number."
        ) from None


# ------------------------------------------------------------------ distributions
def _inhabited(
    concentration: ArrayLike, inhabitants: ArrayLike, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Concentration and inhabitants of the inhabited cells, sorted by concentration.

    DataArrays are matched by dimension names (:func:`_same_dims`); other arrays must
    have the same shape."""
    inhabitants = _same_dims(inhabitants, concentration, ("inhabitants", "concentration"), what)
    c = np.asarray(concentration, dtype=float).reshape(-1)
    w = np.asarray(inhabitants, dtype=float).reshape(-1)
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(
            f"{what}: inhabitants must be finite and >= 0 (got NaN, infinite or negative)."
        )
    keep = w > 0
    c, w = c[keep], w[keep]
    if np.isnan(c).any():
        raise _nan_inhabited_error(
            what,
            int(np.isnan(c).sum()),
            "inhabited cell(s)",
            "Use the unmasked field, or weigh by the inhabitants of the territories only "
            "(a run's written map is NaN beyond their buffer: population * "
            "territory_fraction.sum('territory')).",
        )
    order = stable_argsort(c)  # numpy's stable argsort, by radix (trajectoire._kernels.sorting)
    return c[order], w[order]


def exposure_distribution(
    concentration: ArrayLike,
    inhabitants: ArrayLike,
    quantiles: Sequence[float] | ArrayLike = DEFAULT_QUANTILES,
) -> np.ndarray:
    """Population-weighted quantiles of the concentration the inhabitants breathe.

    Each inhabitant is given the concentration of the cell where they live; the result is
    the quantile of that distribution over the inhabitants, e.g. the median is the
    concentration that half of the inhabitants breathe or less.

    Parameters
    ----------
    concentration : array_like
        Concentration per cell [ug m-3, or cm-3 for particle number], any shape; NaN is
        allowed only where nobody lives (where `inhabitants` is 0). A run's written map is
        NaN beyond the buffer of its territories, where the population grid still has
        people: pair it with the territories' inhabitants (``population *
        territory_fraction.sum("territory")``), or use the unmasked map.
    inhabitants : array_like
        Inhabitants per cell, the shape of `concentration`, finite and >= 0 (fractional
        people allowed). Two DataArrays are matched by dimension names (in any order).
    quantiles : sequence of float, default :data:`DEFAULT_QUANTILES`
        Probabilities ``q`` in [0, 1].

    Returns
    -------
    numpy.ndarray
        One concentration per quantile [units of `concentration`]; NaN when nobody lives
        in the cells.

    Raises
    ------
    trajectoire.InputError
        Arrays of different shapes (DataArrays: of different dimensions or coordinates),
        negative or NaN inhabitants, NaN concentration where people live, or a quantile
        outside [0, 1].

    Notes
    -----
    With the inhabited cells (``w_i > 0``) sorted by concentration,
    ``c_(1) <= ... <= c_(n)``, and ``W_k = Σ_{i<=k} w_(i)`` their cumulative inhabitants
    (``W = W_n``), the quantile ``q`` is the weighted empirical quantile

    .. math:: Q(q) = c_{(k)}, \\quad k = \\min\\{k : W_k \\ge q W\\},

    the inverse of the population-weighted empirical distribution function. There is no
    interpolation between cells: ``Q(q)`` is always the concentration of an inhabited cell,
    ``Q(0)`` the lowest and ``Q(1)`` the highest. With integer inhabitants this is
    ``numpy.quantile(np.repeat(c, w), q, method="inverted_cdf")`` (Hyndman and Fan 1996,
    definition 1). ``W_k`` and ``q W`` are compared in float64. Uninhabited cells play no
    part. The quantiles are monotone in ``q``, scale with the field (``Q_{a c} = a Q_c``
    for ``a > 0``) and equal ``c`` for a uniform field. Cells of equal concentration are
    summed in the order of the cells (a stable sort), so the quantiles do not depend on the
    order of the cells except through the rounding of those sums: a cumulative sum one ulp
    apart can fall on the other side of ``q W`` and move a quantile to the next
    concentration (three cells at 1 ug m-3 of 414.236, 2235.191 and 2157.083 inhabitants
    and one at 2 of 4806.51: the median is 1 or 2 by the order of the first three), and a
    scaling that rounds distinct concentrations to one value (``0.01 c`` on subnormal ones)
    sums their inhabitants in another order. With whole numbers of inhabitants (exact
    sums) neither happens. The run's cells are always in the grid's order.

    References
    ----------
    Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages. The
    American Statistician 50(4), 361-365, doi:10.1080/00031305.1996.10473566.

    Examples
    --------
    >>> exposure_distribution([10.0, 20.0, 30.0], [1, 2, 1], quantiles=(0.0, 0.25, 0.5, 1.0))
    array([10., 10., 20., 30.])
    """
    q = _checked_quantiles(quantiles)
    c, w = _inhabited(concentration, inhabitants, "exposure_distribution")
    return _sorted_quantiles(c, w, q)


def _checked_quantiles(quantiles: Sequence[float] | ArrayLike) -> np.ndarray:
    """The probabilities of :func:`exposure_distribution`, checked to lie in [0, 1]."""
    q = np.atleast_1d(np.asarray(quantiles, dtype=float))
    if q.size and (np.isnan(q).any() or q.min() < 0 or q.max() > 1):
        raise InputError(f"exposure_distribution: quantiles must lie in [0, 1], got {q.tolist()}.")
    return q


def _sorted_quantiles(c: np.ndarray, w: np.ndarray, q: np.ndarray) -> np.ndarray:
    """:func:`exposure_distribution` of the inhabited cells sorted by :func:`_inhabited`."""
    if c.size == 0:
        return np.full(q.shape, np.nan)
    cum = np.cumsum(w)
    k = np.searchsorted(cum, q * cum[-1], side="left")
    return c[np.minimum(k, c.size - 1)]


def inhabitants_above(
    concentration: ArrayLike, inhabitants: ArrayLike, thresholds: ArrayLike
) -> np.ndarray:
    """Inhabitants living in cells where the concentration is strictly above each threshold.

    Parameters
    ----------
    concentration : array_like
        Concentration per cell [ug m-3], any shape; NaN only where nobody lives.
    inhabitants : array_like
        Inhabitants per cell, the shape of `concentration` (DataArrays: matched by
        dimension names), >= 0.
    thresholds : array_like
        Thresholds [units of `concentration`], any shape; NaN gives NaN (a pollutant without
        a reference value), ``-inf`` every inhabitant.

    Returns
    -------
    numpy.ndarray
        Inhabitants above each threshold, the shape of `thresholds`.

    Raises
    ------
    trajectoire.InputError
        As :func:`exposure_distribution`.

    Notes
    -----
    ``N(t) = Σ_{i : c_i > t} w_i``, summed over the inhabited cells from the highest
    concentration down (a suffix sum of the sorted cells), so integer inhabitants give
    exact counts. ``N`` is non-increasing in ``t``, and ``N(t) <= Σ_i w_i``. Cells exactly
    at the threshold are not counted (the WHO and EU values are levels not to be exceeded).

    Examples
    --------
    >>> inhabitants_above([8.0, 10.0, 12.0], [100, 50, 25], [10.0, 5.0, np.nan])
    array([ 25., 175.,  nan])
    """
    c, w = _inhabited(concentration, inhabitants, "inhabitants_above")
    return _sorted_above(c, w, np.asarray(thresholds, dtype=float))


def _sorted_above(c: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    """:func:`inhabitants_above` of the inhabited cells sorted by :func:`_inhabited`."""
    tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])  # tail[k] = Σ_{i>=k} w_(i)
    k = np.searchsorted(c, np.where(np.isnan(t), 0.0, t), side="right")
    return np.where(np.isnan(t), np.nan, tail[k])


def zone_split(inhabitants: ArrayLike, zone_fraction: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Inhabitants of each cell inside and outside a zone layer.

    Parameters
    ----------
    inhabitants : array_like
        Inhabitants per cell, >= 0.
    zone_fraction : array_like
        Share of the part of each cell where `inhabitants` live that the zone layer covers,
        in [0, 1], broadcast against `inhabitants`: for all of a cell's inhabitants, the
        share of the cell (:func:`trajectoire.geo.area_fractions` of the zones); for a
        territory's own, the share of the territory's part of the cell
        (:func:`trajectoire.geo.territories.zone_territory_fractions`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``inside = P f`` and ``outside = P - inside`` per cell [inhabitants]; pass either to
        :func:`exposure_distribution`, :func:`inhabitants_above` or a weighted mean.

    Raises
    ------
    trajectoire.InputError
        A fraction outside [0, 1] or NaN, inhabitants negative, NaN or infinite, or shapes
        that do not broadcast.

    Notes
    -----
    Population is assumed uniform where it lives within a cell, so the inhabitants inside
    are the covered share of that part's. ``inside + outside`` is the cell's inhabitants to
    round-off.

    Examples
    --------
    >>> zone_split([100.0, 40.0], [0.25, 1.0])
    (array([25., 40.]), array([75.,  0.]))
    """
    p = np.asarray(inhabitants, dtype=float)
    f = np.asarray(zone_fraction, dtype=float)
    try:
        np.broadcast_shapes(p.shape, f.shape)
    except ValueError:
        raise InputError(
            f"zone_split: inhabitants has shape {p.shape} and zone_fraction {f.shape}; "
            "expected the same grid (or a zone_fraction that broadcasts against it)."
        ) from None
    if np.isnan(f).any() or (f < 0).any() or (f > 1).any():
        raise InputError("zone_split: zone_fraction must lie in [0, 1] (got NaN or outside).")
    bad = ~(p >= 0) | np.isinf(p)  # NaN, negative or infinite inhabitants
    if bad.any():
        raise InputError(
            f"zone_split: inhabitants has {int(bad.sum())} cell(s) negative, NaN or infinite "
            f"(e.g. {float(p[bad].ravel()[0])!r}); expected inhabitants >= 0 and finite in "
            "every cell. Fill the cells without data with 0 and check the sign of the source "
            "data."
        )
    inside = p * f
    return inside, p - inside


def threshold_table(
    pollutants: Sequence[str],
    thresholds: Mapping[str, Mapping[str, float]] = EXPOSURE_THRESHOLDS,
) -> tuple[list[str], np.ndarray]:
    """Labelled reference values as a ``(threshold, pollutant)`` array.

    Parameters
    ----------
    pollutants : sequence of str
        Pollutant ids or aliases (``no2``, ``pm25``) of the columns.
    thresholds : mapping, default :data:`EXPOSURE_THRESHOLDS`
        Label -> pollutant -> value [ug m-3]; add a user value as another label, e.g.
        ``{**EXPOSURE_THRESHOLDS, "NO2_30": {"NO2": 30.0}}``. Pollutant keys may be aliases.

    Returns
    -------
    (list of str, numpy.ndarray)
        The labels and their values, NaN where a label has no value for a pollutant.

    Raises
    ------
    trajectoire.InputError
        An unknown pollutant (in `pollutants` or a key of `thresholds`).

    Examples
    --------
    >>> threshold_table(["NO2", "SO2"], {"WHO2021": WHO_2021_GUIDELINES})
    (['WHO2021'], array([[10., nan]]))
    """
    if isinstance(pollutants, str):
        pollutants = [pollutants]
    pols = [normalise_pollutant(p, what="threshold_table: pollutants") for p in pollutants]
    labels = [str(k) for k in thresholds]
    table = {
        str(k): _canonical_thresholds(v, f"threshold_table: thresholds[{str(k)!r}]")
        for k, v in thresholds.items()
    }
    values = np.array(
        [[float(table[k].get(p, np.nan)) for p in pols] for k in labels], dtype=float
    ).reshape(len(labels), len(pols))
    return labels, values


# ------------------------------------------------------------------ per territory
def territory_inhabitants(population: np.ndarray, fractions: np.ndarray) -> sparse.csr_matrix:
    """``(territory, cell)`` inhabitants: population per cell times each territory's share.

    Parameters
    ----------
    population : numpy.ndarray
        ``(ny, nx)`` inhabitants per cell.
    fractions : numpy.ndarray
        ``(territory, ny, nx)`` share of each cell in each territory, in [0, 1].

    Returns
    -------
    scipy.sparse.csr_matrix
        Inhabitants of each territory in each cell (cells flattened row-major), the layout
        of :meth:`trajectoire.inventory.population.TerritoryPopulation.at`.

    Raises
    ------
    trajectoire.InputError
        `fractions` not 3-D, or `population` not on its grid (neither its ``(ny, nx)``
        shape nor its ``ny * nx`` cells flattened).
    """
    fractions = np.asarray(fractions)
    pop = np.asarray(population)
    grid = fractions.shape[1:]
    if fractions.ndim != 3 or (pop.shape != grid and pop.shape != (int(np.prod(grid)),)):
        raise InputError(
            f"territory_inhabitants: population has shape {pop.shape} and fractions "
            f"{fractions.shape}; expected population (ny, nx) and fractions (territory, ny, nx) "
            "on the same grid."
        )
    n = fractions.shape[0]
    return sparse.csr_matrix(fractions.reshape(n, -1) * pop.reshape(1, -1))


def territory_exposure(
    concentration: np.ndarray,
    inhabitants: sparse.spmatrix | np.ndarray,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: ArrayLike = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles and threshold counts of the exposure in every territory.

    Parameters
    ----------
    concentration : numpy.ndarray or xarray.DataArray
        ``(ny, nx)`` concentration [ug m-3], unmasked where people live (a DataArray is
        put in ``(y, x)`` order by name; an array is read row-major, as `inhabitants`).
    inhabitants : scipy.sparse matrix or numpy.ndarray
        ``(territory, cell)`` inhabitants of each territory in each cell (cells flattened
        row-major), e.g. :meth:`~trajectoire.inventory.population.TerritoryPopulation.at`
        or :func:`territory_inhabitants`.
    quantiles : sequence of float, default :data:`DEFAULT_QUANTILES`
        Probabilities in [0, 1].
    thresholds : array_like, default ()
        ``(threshold,)`` values [ug m-3], NaN allowed.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(territory, quantile)`` :func:`exposure_distribution` and ``(territory,
        threshold)`` :func:`inhabitants_above` of each territory's own inhabitants.

    Raises
    ------
    trajectoire.InputError
        A concentration whose number of cells is not that of `inhabitants`, or as
        :func:`exposure_distribution`.
    """
    m = sparse.csr_matrix(inhabitants)
    if isinstance(concentration, xr.DataArray) and {"y", "x"} <= set(concentration.dims):
        concentration = concentration.transpose(..., "y", "x")
    flat = np.asarray(concentration, dtype=float).reshape(-1)
    if flat.size != m.shape[1]:
        raise InputError(
            f"territory_exposure: concentration has shape {np.shape(concentration)} "
            f"({flat.size} cells) and inhabitants {m.shape} (territory, cell), "
            f"{m.shape[1]} cells; expected the concentration map of the inhabitants' grid."
        )
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    q_out = np.empty((m.shape[0], len(quantiles)))
    n_out = np.empty((m.shape[0], t.size))
    for i in range(m.shape[0]):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        cells, w = m.indices[lo:hi], m.data[lo:hi]
        # the cells sorted once for both (exposure_distribution, then inhabitants_above)
        q = _checked_quantiles(quantiles)
        c_sorted, w_sorted = _inhabited(flat[cells], w, "exposure_distribution")
        q_out[i] = _sorted_quantiles(c_sorted, w_sorted, q)
        n_out[i] = _sorted_above(c_sorted, w_sorted, t)
    return q_out, n_out


def _columns_used(m: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The columns (cells) of `m` that hold an entry, increasing, and `m` on them alone.

    Column ``j`` of the second is column ``cells[j]`` of `m`, its rows, entries and their
    order unchanged: a product with ``x[cells]`` adds the same terms in the same order as
    with ``x``, and a row's entries gather the same values, so that the statistics of a
    map are computed from its inhabited cells only (the others, most of a 100 m grid, are
    never converted or read), bit for bit.
    """
    used = np.zeros(m.shape[1], dtype=bool)
    used[m.indices] = True
    cells = np.flatnonzero(used)
    position = np.cumsum(used, dtype=np.int64) - 1  # of each used column among them
    local = sparse.csr_matrix(
        (m.data, position[m.indices], m.indptr), shape=(m.shape[0], cells.size)
    )
    return cells, local


def _at_cells(values: np.ndarray | float, shape: tuple[int, ...], cells: np.ndarray) -> np.ndarray:
    """`values` (a value, or an array broadcast to the map's `shape`) at the flat `cells`,
    as float64."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        return v
    if v.shape != shape:
        v = np.broadcast_to(v, shape)
    return v.reshape(-1)[cells]


@dataclass
class _ByInhabitedCells:
    """Statistics read from a map at the cells their ``(row, cell)`` matrix weighs only."""

    _used: tuple[sparse.csr_matrix, np.ndarray, sparse.csr_matrix] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def _inhabited_cells(self, m: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix]:
        """:func:`_columns_used` of `m`, computed on first use and again if the attribute
        holding `m` is given another matrix (a matrix is not modified in place)."""
        if self._used is None or self._used[0] is not m:
            self._used = (m, *_columns_used(m))
        return self._used[1], self._used[2]


@dataclass
class ExposureStatistics(_ByInhabitedCells):
    """Exposure quantiles and threshold counts of one year, filled pollutant by pollutant.

    Build it with :meth:`zeros`, call :meth:`add` with each pollutant's unmasked map.

    Attributes
    ----------
    inhabitants : scipy.sparse.csr_matrix
        ``(territory, cell)`` inhabitants of each territory.
    quantiles : tuple of float
        Probabilities of :attr:`quantile`.
    threshold_labels : list of str
        Labels of the thresholds (e.g. ``WHO2021``).
    threshold_values : numpy.ndarray
        ``(threshold, pollutant)`` values [ug m-3], NaN where a pollutant has none.
    quantile : numpy.ndarray
        ``(territory, pollutant, quantile)`` population-weighted quantiles [ug m-3]; NaN
        until the pollutant is added.
    above : numpy.ndarray
        ``(territory, pollutant, threshold)`` inhabitants above each threshold.
    """

    inhabitants: sparse.csr_matrix
    quantiles: tuple[float, ...]
    threshold_labels: list[str]
    threshold_values: np.ndarray
    quantile: np.ndarray
    above: np.ndarray

    @classmethod
    def zeros(
        cls,
        inhabitants: sparse.spmatrix,
        pollutants: Sequence[str],
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        thresholds: Mapping[str, Mapping[str, float]] = EXPOSURE_THRESHOLDS,
    ) -> ExposureStatistics:
        """Empty statistics (NaN) for the territories of `inhabitants` and `pollutants`."""
        labels, values = threshold_table(pollutants, thresholds)
        n_t, n_p = inhabitants.shape[0], len(pollutants)
        return cls(
            inhabitants=sparse.csr_matrix(inhabitants),
            quantiles=tuple(float(q) for q in quantiles),
            threshold_labels=labels,
            threshold_values=values,
            quantile=np.full((n_t, n_p, len(quantiles)), np.nan),
            above=np.full((n_t, n_p, len(labels)), np.nan),
        )

    def add(self, ip: int, concentration: np.ndarray, background: float | np.ndarray = 0.0) -> None:
        """Statistics of pollutant `ip` from its map ``concentration + background`` [ug m-3]
        (`background` a value or a map)."""
        cells, local = self._inhabited_cells(self.inhabitants)
        conc = np.asarray(concentration)
        # the inhabited cells only: the same sums, cell by cell, as on the whole map
        values = conc.reshape(-1)[cells].astype(float) + _at_cells(background, conc.shape, cells)
        q, n = territory_exposure(values, local, self.quantiles, self.threshold_values[:, ip])
        self.quantile[:, ip] = q
        self.above[:, ip] = n


def _shares_at(zone_fraction: ArrayLike | sparse.spmatrix, m: sparse.csr_matrix) -> np.ndarray:
    """The zones' share at each entry of the ``(territory, cell)`` matrix `m`, in the order
    of ``m.data``: from a ``(territory, cell)`` `zone_fraction` (sparse: 0 where it has no
    entry), else from one share per cell."""
    if sparse.issparse(zone_fraction) or np.shape(zone_fraction) == m.shape:
        f = sparse.csr_matrix(zone_fraction, dtype=float)  # a copy, made canonical below
        if f.shape != m.shape:
            raise InputError(
                f"ZoneExposure.split: zone_fraction has shape {f.shape} and inhabitants "
                f"{m.shape}; expected the same (territory, cell) matrix, or one share per cell."
            )
        f.sum_duplicates()  # sorted, unique entries: their keys below increase
        n_cells = m.shape[1]
        keys = np.repeat(np.arange(f.shape[0], dtype=np.int64), np.diff(f.indptr)) * n_cells
        keys += f.indices
        wanted = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr)) * n_cells
        wanted += m.indices
        at = np.searchsorted(keys, wanted).clip(max=max(keys.size - 1, 0))
        out = np.zeros(wanted.size)
        if keys.size:
            hit = keys[at] == wanted
            out[hit] = f.data[at[hit]]
        if np.isnan(f.data).any() or (f.data < 0).any() or (f.data > 1).any():
            raise InputError(
                "ZoneExposure.split: zone_fraction must lie in [0, 1] (got NaN or outside); "
                "pass the shares of trajectoire.geo.territories.zone_territory_fractions."
            )
        return out
    return np.asarray(zone_fraction, dtype=float).reshape(-1)[m.indices]


#: Labels of the ``zone`` dimension of :class:`ZoneExposure`.
ZONE_LABELS: tuple[str, str] = ("inside", "outside")


@dataclass
class ZoneExposure(_ByInhabitedCells):
    """Exposure of each territory's inhabitants inside and outside a zone layer, one year.

    Build it with :meth:`split`, call :meth:`add` with each pollutant's map.

    Attributes
    ----------
    inhabitants : numpy.ndarray
        ``(territory, zone)`` inhabitants inside and outside the zones (:data:`ZONE_LABELS`);
        the two add up to the territory's.
    mean : numpy.ndarray
        ``(territory, zone, pollutant)`` population-weighted mean concentration [ug m-3]
        (NaN where the zone has no inhabitant, or until the pollutant is added).
    above : numpy.ndarray
        ``(territory, zone, pollutant, threshold)`` inhabitants above each threshold.
    threshold_labels : list of str
        Labels of the thresholds.
    """

    weights: sparse.csr_matrix  # (territory * 2, cell): inside rows, then outside rows
    inhabitants: np.ndarray
    mean: np.ndarray
    above: np.ndarray
    threshold_labels: list[str]
    threshold_values: np.ndarray

    @classmethod
    def split(
        cls,
        inhabitants: sparse.spmatrix | np.ndarray,
        zone_fraction: ArrayLike,
        pollutants: Sequence[str],
        *,
        thresholds: Mapping[str, Mapping[str, float]] = EXPOSURE_THRESHOLDS,
    ) -> ZoneExposure:
        """Split the ``(territory, cell)`` `inhabitants` by the share of each territory's
        part of each cell covered by the zones (:func:`zone_split`).

        Parameters
        ----------
        inhabitants : scipy.sparse matrix or numpy.ndarray
            ``(territory, cell)`` inhabitants of each territory in each cell (cells
            flattened row-major).
        zone_fraction : scipy.sparse matrix or array_like
            In [0, 1]: ``(territory, cell)``, the share of each territory's part of each
            cell covered by the zones
            (:func:`trajectoire.geo.territories.zone_territory_fractions`, what a run
            passes), or one share per cell for every territory (``(ny, nx)`` or flat: the
            share of the whole cell, right where every cell lies wholly in one territory).
        pollutants : sequence of str
            Pollutant ids of the statistics.
        thresholds : mapping, default :data:`EXPOSURE_THRESHOLDS`
            Label -> pollutant -> value [ug m-3].

        Returns
        -------
        ZoneExposure
            Inhabitants inside and outside, statistics NaN until :meth:`add`.

        Raises
        ------
        trajectoire.InputError
            A `zone_fraction` outside [0, 1] or NaN, or a ``(territory, cell)`` one of
            another shape than `inhabitants`.

        Examples
        --------
        >>> z = ZoneExposure.split(np.array([[100.0, 40.0]]), [0.25, 1.0], ["NO2"])
        >>> z.inhabitants.tolist()
        [[65.0, 75.0]]
        >>> z.add(0, np.array([30.0, 10.0]))
        >>> z.mean[0, :, 0].round(3).tolist(), z.above[0, :, 0, 0].tolist()  # WHO 2021: 10
        ([17.692, 30.0], [25.0, 75.0])
        """
        m = sparse.csr_matrix(inhabitants, dtype=float)
        inside, _ = zone_split(m.data, _shares_at(zone_fraction, m))  # checks f in [0, 1]
        m_in = m.copy()
        m_in.data = inside
        weights = sparse.vstack([m_in, m - m_in]).tocsr()
        n_t = m.shape[0]
        totals = np.asarray(weights.sum(axis=1)).reshape(2, n_t).T
        labels, values = threshold_table(pollutants, thresholds)
        n_p = len(pollutants)
        return cls(
            weights=weights,
            inhabitants=totals,
            mean=np.full((n_t, 2, n_p), np.nan),
            above=np.full((n_t, 2, n_p, len(labels)), np.nan),
            threshold_labels=labels,
            threshold_values=values,
        )

    def add(self, ip: int, concentration: np.ndarray, background: float = 0.0) -> None:
        """Statistics of pollutant `ip` from its map ``concentration + background`` [ug m-3]
        (NaN cells, beyond the written mask, must hold no inhabitant: taken as 0)."""
        cells, local = self._inhabited_cells(self.weights)
        # the cells some row weighs only (:func:`_columns_used`): the same values and sums
        conc = np.asarray(concentration).reshape(-1)[cells].astype(float)
        values = np.nan_to_num(conc + background)
        n_t = self.inhabitants.shape[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (local @ values) / self.inhabitants.T.reshape(-1)
        self.mean[:, :, ip] = mean.reshape(2, n_t).T
        _, n = territory_exposure(values.reshape(1, -1), local, (), self.threshold_values[:, ip])
        self.above[:, :, ip] = n.reshape(2, n_t, -1).transpose(1, 0, 2)


def run_thresholds(
    thresholds: Mapping[str, Mapping[str, float]], pollutants: Sequence[str]
) -> dict[str, dict[str, float]]:
    """The thresholds of a run: `thresholds`, plus :data:`NUMBER_THRESHOLDS` (in cm-3)
    where the run has one of their particle-number species and no label of that name.

    A run without a number species gets `thresholds` unchanged (its ``threshold``
    coordinate does not change).

    Examples
    --------
    >>> list(run_thresholds(EXPOSURE_THRESHOLDS, ["NO2", "UFP"]))
    ['WHO2021', 'EU2030', 'EU2008', 'WHO2021_GPS']
    >>> list(run_thresholds(EXPOSURE_THRESHOLDS, ["NO2"]))
    ['WHO2021', 'EU2030', 'EU2008']
    """
    out = {k: dict(v) for k, v in thresholds.items()}
    for label, values in NUMBER_THRESHOLDS.items():
        kept = {p: v for p, v in values.items() if p in pollutants}
        if kept and label not in out:
            out[label] = kept
    return out
