"""Monte Carlo uncertainty of the emission totals (IPCC 2006 vol. 1 ch. 3, approach 2).

:class:`Uncertainty` holds the settings (95 % half-widths per sector and pollutant, year-to-year
correlation, ensemble size, seed); :func:`monte_carlo` draws lognormal, year-correlated factors
of the domain totals of :func:`trajectoire.trajectory.rebuild`.
"""

from __future__ import annotations

import difflib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import (
    as_floats,
    is_integer_number,
    is_real_number,
    require_columns,
    require_dims,
    require_year,
    rows_preview,
)
from trajectoire.errors import ConfigError, InputError, warn
from trajectoire.sectors import normalise_sector
from trajectoire.species import NUMBER_SUFFIX, normalise_pollutant, species_view

__all__ = [
    "ORIGIN_YEAR",
    "PROPAGATED",
    "Uncertainty",
    "fractions_said",
    "monte_carlo",
    "propagate",
]

#: The year from which every error series of :func:`monte_carlo` is drawn, forward for the
#: later years and backward for the earlier ones: the factors of a year depend on the seed,
#: the (sector, pollutant) pair and that year, not on the other years, sectors or pollutants
#: of the call.
ORIGIN_YEAR = 1990


def fractions_said(percentiles: Sequence[float]) -> str:
    """What is wrong with `percentiles` in [0, 100] that are all within [0, 1], some above
    0: fractions as :func:`numpy.quantile` takes them (``(0.025, 0.5, 0.975)``), not per
    cent; ``""`` otherwise (``(0,)`` and ``(1, 99)`` are per cent)."""
    values = [float(p) for p in percentiles]
    if not values or not 0.0 < max(values) <= 1.0:
        return ""
    hint = ", ".join(f"{100.0 * p:.10g}" for p in values)
    return (
        "all within [0, 1], fractions (as numpy.quantile takes them) rather than per cent; "
        f"the percentiles are in % [0, 100]: give ({hint}{',' if len(values) == 1 else ''})"
    )


@dataclass(frozen=True)
class Uncertainty:
    """Monte Carlo settings for the emission totals (lognormal, correlated across years).

    Parameters
    ----------
    half_width : float, mapping or pandas.DataFrame
        Half-width of the 95 % interval [%] of each (sector, pollutant) total, finite and
        >= 0 (``30.0`` for ±30 %): one number for all, a mapping keyed by sector or
        ``(sector, pollutant)`` (``"default"`` for the rest; a sector's value may be a
        mapping by pollutant, as in the configuration), or a table with columns
        ``sector``, ``pollutant``, ``half_width``. Sectors are GNFR ids or letters;
        pollutants are read as :func:`trajectoire.species.normalise_pollutant` reads them
        (``"nox"`` is NOx). A pair given twice with two values is an error.
    realizations : int, default 100
        Ensemble size.
    rho : float, default 0.9
        Year-to-year correlation of the log-errors (AR(1) coefficient per year), in [0, 1].
    seed : int, default 0
        Random seed, >= 0 (the ensemble is reproducible).
    percentiles : tuple of float, default (2.5, 50, 97.5)
        Percentiles of the totals to report [%], in [0, 100], increasing: per cent, not
        fractions (``(0.025, 0.5, 0.975)``, all within [0, 1], is refused: give
        ``(2.5, 50, 97.5)``).

    Raises
    ------
    trajectoire.ConfigError
        A setting out of its range (`realizations` not a whole number >= 1, `rho` not a
        number in [0, 1], `seed` < 0, `percentiles` outside [0, 100], not increasing or
        fractions, a half-width that is not a finite number >= 0, a mapping key that is
        not a sector, ``(sector, pollutant)`` or ``"default"``, one pair given two values),
        naming the key of ``[trajectory.uncertainty]`` that sets it.
    trajectoire.InputError
        A table row whose sector is not one, whose half-width is not a number >= 0, or that
        gives a pair another row gives another value (both rows named); an unknown sector.
    trajectoire.MissingVariableError
        A table without the columns ``sector``, ``pollutant``, ``half_width``.

    Examples
    --------
    >>> Uncertainty({"default": 30.0, "F": 50.0, ("B", "nox"): 10.0}).table(
    ...     ["B_Industry", "F_RoadTransport"], ["NOx", "PM10"]).tolist()
    [[10.0, 30.0], [50.0, 50.0]]
    """

    half_width: float | Mapping[Any, float | Mapping[Any, float]] | pd.DataFrame = 30.0
    realizations: int = 100
    rho: float = 0.9
    seed: int = 0
    percentiles: tuple[float, ...] = (2.5, 50.0, 97.5)

    def __post_init__(self) -> None:
        for field, least, meaning in (
            ("realizations", 1, "a whole number of members >= 1"),
            ("seed", 0, "a whole number >= 0"),
        ):
            value = getattr(self, field)
            if not is_integer_number(value) or value < least:
                raise ConfigError(
                    f"Uncertainty.{field}={value!r}: expected {meaning} "
                    f"([trajectory.uncertainty] {field})."
                )
        rho = self.rho
        if not is_real_number(rho) or not 0.0 <= float(rho) <= 1.0:
            raise ConfigError(
                f"Uncertainty.rho={rho!r}{_type_of(rho)}: expected a correlation in [0, 1] "
                "([trajectory.uncertainty] rho)."
            )
        pct = self.percentiles
        try:
            values = [float(p) for p in pct]
        except (TypeError, ValueError):
            values = [float("nan")]
        if (
            not values
            or not all(0.0 <= p <= 100.0 for p in values)
            or any(b <= a for a, b in zip(values, values[1:], strict=False))
        ):
            raise ConfigError(
                f"Uncertainty.percentiles={pct!r}: expected percentiles in [0, 100] [%], "
                "increasing, each once, such as (2.5, 50, 97.5) "
                "([trajectory.uncertainty] percentiles)."
            )
        fractions = fractions_said(values)
        if fractions:
            raise ConfigError(
                f"Uncertainty.percentiles={pct!r}: {fractions} ([trajectory.uncertainty] "
                "percentiles)."
            )
        _pairs(_half_width_entries(self.half_width), None)  # checked now, resolved by table

    def table(self, sectors: list[str], pols: list[str]) -> np.ndarray:
        """Half-widths [%] as an array (sector, pollutant).

        A ``(sector, pollutant)`` key or row whose pollutant is no known species (a typo,
        ``"NOX2"``) is left out with a :class:`~trajectoire.TrajectoireWarning` naming the
        closest of `pols` (it was left out silently, the ``"default"`` taking its place);
        one of a known species that is not among `pols` is not used.

        Raises
        ------
        trajectoire.InputError
            A (sector, pollutant) without a half-width (no key for it, its sector or
            ``"default"``).
        """
        by_pair, by_sector, default = _pairs(_half_width_entries(self.half_width), pols)
        out = np.full((len(sectors), len(pols)), np.nan)
        for i, s in enumerate(sectors):
            for j, p in enumerate(pols):
                v = by_pair.get((s, p), by_sector.get(s, default))
                if v is not None:
                    out[i, j] = v[0]
        if np.isnan(out).any():
            i, j = np.argwhere(np.isnan(out))[0]
            raise InputError(
                f"uncertainty: no half-width for sector {sectors[i]}, pollutant {pols[j]}; add "
                "it or a 'default' entry."
            )
        return out


#: One half-width given: sector (canonical GNFR id; None for the default), pollutant as
#: given (None for a whole sector or the default), value [%], and where it was given.
_Entry = tuple[str | None, str | None, float, str]

_HALF_WIDTH_KEY = "([trajectory.uncertainty] half_width)"


def _type_of(value: Any) -> str:
    """`` (str)`` after a value that is not a number, for the messages; else ``""``."""
    return "" if is_real_number(value) else f" ({type(value).__name__})"


def _half_width_value(value: Any, where: str) -> float:
    """A half-width of a number or mapping: a finite number >= 0 [%] (ConfigError)."""
    if not is_real_number(value) or not np.isfinite(float(value)) or float(value) < 0:
        hint = " (a number, not text: 30.0 for ±30 %)" if isinstance(value, str) else ""
        raise ConfigError(
            f"Uncertainty.half_width{where}={value!r}{_type_of(value)}: expected a 95 % "
            f"half-width [%], a finite number >= 0{hint} {_HALF_WIDTH_KEY}."
        )
    return float(value)


def _half_width_entries(hw: Any) -> list[_Entry]:
    """The half-widths given, checked: numbers, keys and table rows (not yet the
    pollutants, which :func:`_pairs` reads)."""
    if isinstance(hw, pd.DataFrame):
        require_columns(hw.columns, ["sector", "pollutant", "half_width"], "uncertainty table")
        entries: list[_Entry] = []
        for label, r in hw.iterrows():
            where = f"uncertainty table, row {label!r}"
            s = normalise_sector(r["sector"], what=f"{where}, column 'sector'")
            raw = r["half_width"]
            try:
                v = float(raw) if not isinstance(raw, bool | np.bool_) else float("nan")
            except (TypeError, ValueError):
                v = float("nan")
            if not (np.isfinite(v) and v >= 0):
                raise InputError(
                    f"{where}, column 'half_width': {raw!r} is not a 95 % half-width [%]; "
                    "expected a finite number >= 0. Fix the table."
                )
            entries.append((s, str(r["pollutant"]).strip(), v, f"row {label!r}"))
        return entries
    if isinstance(hw, Mapping):
        entries = []
        for key, val in hw.items():
            if isinstance(key, tuple):
                if len(key) != 2:
                    raise ConfigError(
                        f"Uncertainty.half_width key {key!r}: expected a sector, a (sector, "
                        f"pollutant) pair or 'default' {_HALF_WIDTH_KEY}."
                    )
                v = _half_width_value(val, f"[{key!r}]")
                s = normalise_sector(str(key[0]), what="uncertainty key")
                entries.append((s, str(key[1]).strip(), v, f"key {key!r}"))
            elif key in ("default", "*"):
                entries.append((None, None, _half_width_value(val, f"[{key!r}]"), f"key {key!r}"))
            elif isinstance(val, Mapping):  # {sector: {pollutant: x}}, as in the configuration
                s = normalise_sector(str(key), what="uncertainty key")
                for pol, x in val.items():
                    v = _half_width_value(x, f"[{key!r}][{pol!r}]")
                    entries.append((s, str(pol).strip(), v, f"key {key!r}, {pol!r}"))
            else:
                v = _half_width_value(val, f"[{key!r}]")
                s = normalise_sector(str(key), what="uncertainty key")
                entries.append((s, None, v, f"key {key!r}"))
        return entries
    if isinstance(hw, str | bytes) or is_real_number(hw) or isinstance(hw, bool | np.bool_):
        return [(None, None, _half_width_value(hw, ""), "half_width")]
    raise ConfigError(
        f"Uncertainty.half_width: got {type(hw).__name__}; expected a number [%], a mapping "
        "keyed by sector or (sector, pollutant) with 'default', or a table with columns "
        f"sector, pollutant, half_width {_HALF_WIDTH_KEY}."
    )


def _pairs(
    entries: list[_Entry], pols: list[str] | None
) -> tuple[
    dict[tuple[str, str], tuple[float, str]],
    dict[str, tuple[float, str]],
    tuple[float, str] | None,
]:
    """The half-widths by (sector, pollutant), by sector, and the default, each with where
    it was given.

    Pollutants are read with :func:`~trajectoire.species.normalise_pollutant`. With `pols`
    (the totals' pollutants), a pollutant that is no known species is warned about with
    the closest of `pols` (it was left out silently); those of other species are left
    out. Without `pols` (when the settings are made), a name that is no species is kept
    as given (the registry of the run may know it). The same sector, pair or default
    given two values is an error naming both.
    """
    by_pair: dict[tuple[str, str], tuple[float, str]] = {}
    by_sector: dict[str, tuple[float, str]] = {}
    default: list[tuple[float, str]] = []
    for sector, pol, value, label in entries:
        if pol is not None:
            assert sector is not None
            pol = _pollutant_of(pol, label, pols, sector)
            if pol is None:
                continue
        if sector is None:
            seen = default[0] if default else None
        elif pol is None:
            seen = by_sector.get(sector)
        else:
            seen = by_pair.get((sector, pol))
        if seen is not None and seen[0] != value:
            what = (
                "the default"
                if sector is None
                else (f"sector {sector}" + (f", pollutant {pol}" if pol is not None else ""))
            )
            table = label.startswith("row ")
            raise (InputError if table else ConfigError)(
                f"uncertainty {'table' if table else 'half_width'}: {what} is given twice, "
                f"{seen[0]:g} % ({seen[1]}) and {value:g} % ({label}); keep one."
            )
        if seen is not None:
            continue
        if sector is None:
            default.append((value, label))
        elif pol is None:
            by_sector[sector] = (value, label)
        else:
            by_pair[(sector, pol)] = (value, label)
    return by_pair, by_sector, (default[0] if default else None)


def _pollutant_of(name: str, label: str, pols: list[str] | None, sector: str) -> str | None:
    """The pollutant id of a key or row (None: not one of `pols`, left out); see
    :func:`_pairs`."""
    if pols is not None and name in pols:
        return name
    try:
        canon = normalise_pollutant(name, what="")
    except InputError:
        canon = None
    if canon is not None:
        return canon if pols is None or canon in pols else None
    if pols is None:
        return name
    folded = {p.casefold(): p for p in pols}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1)
    hint = f" (did you mean {folded[close[0]]!r}?)" if close else ""
    where = f"uncertainty {'table' if label.startswith('row ') else 'half_width'}, {label}"
    # a warning, not an error: the run's settings are resolved when its output is assembled,
    # outside the registry of its [species] file, where a species of that file is unknown
    warn(
        f"{where}: unknown pollutant {name!r}{hint}; it is neither one of the totals' "
        f"pollutants {pols} nor a known species, and the entry is not used: sector "
        f"{sector}'s own or the default half-width applies. Fix the name.",
        stacklevel=5,
    )
    return None


def _as_uncertainty(uncertainty: Any, caller: str) -> Uncertainty:
    """`uncertainty` as :class:`Uncertainty`: a number alone is the half-width [%] of
    every total, with the other settings' defaults."""
    if isinstance(uncertainty, Uncertainty):
        return uncertainty
    if is_real_number(uncertainty):
        return Uncertainty(float(uncertainty))
    raise InputError(
        f"{caller}: uncertainty is {type(uncertainty).__name__}; expected an Uncertainty, "
        "e.g. Uncertainty(30.0, realizations=100) or Uncertainty({'default': 30.0, "
        "'F': 50.0}) (a number alone is the half-width [%] of every total)."
    )


def _check_total(total: Any) -> xr.DataArray:
    """The totals of :func:`monte_carlo`: a DataArray (year, sector, pollutant) of finite
    numbers (a NaN total gave NaN percentiles, with numpy's warnings only)."""
    if not isinstance(total, xr.DataArray):
        if isinstance(total, pd.Series | pd.DataFrame):
            fix = (
                "convert it with xr.DataArray.from_series(total) (index levels named year, "
                "sector, pollutant)"
                if isinstance(total, pd.Series)
                else "convert it with xr.DataArray.from_series(df.set_index(['year', 'sector', "
                "'pollutant'])['total'])"
            )
        elif isinstance(total, xr.Dataset):
            fix = "pass its variable, e.g. rebuild(...)['total']"
        else:
            fix = "e.g. the 'total' of trajectoire.trajectory.rebuild"
        raise InputError(
            f"monte_carlo: total is {type(total).__name__}; expected an xarray.DataArray "
            f"(year, sector, pollutant) [t yr-1]: {fix}."
        )
    require_dims(total.dims, ("year", "sector", "pollutant"), "monte_carlo total")
    values = as_floats(total.values, "monte_carlo total", "numbers [t yr-1]")
    bad = ~np.isfinite(values)
    if bad.any():
        t = total.transpose(*total.dims)
        at = dict(zip(t.dims, np.argwhere(bad)[0].tolist(), strict=True))
        where = ", ".join(f"{d} {t[d].values[at[d]]}" for d in ("year", "sector", "pollutant"))
        raise InputError(
            f"monte_carlo total: {int(bad.sum())} value(s) NaN or infinite (e.g. {where}); "
            "their percentiles would be NaN. Fill them (total.fillna(0.0) where nothing is "
            "emitted) or select the years and pairs that have a total."
        )
    return total


def monte_carlo(total: xr.DataArray, uncertainty: Uncertainty | float) -> xr.Dataset:
    """Monte Carlo ensemble of the domain totals from lognormal, year-correlated errors.

    Parameters
    ----------
    total : xarray.DataArray
        Totals ``(year, sector, pollutant)`` [t yr-1] (the ``total`` of :func:`rebuild`),
        finite numbers.
    uncertainty : Uncertainty or float
        Half-widths, correlation, ensemble size and seed; a number alone is
        ``Uncertainty(number)``: that half-width [%] for every total, the other settings'
        defaults.

    Returns
    -------
    xarray.Dataset
        ``uncertainty_factor(realization, year, sector, pollutant)`` [1] (multiplicative,
        mean 1), ``total_realization(realization, year, sector, pollutant)`` [t yr-1] and
        ``total_percentile(percentile, year, sector, pollutant)`` [t yr-1], in the years'
        order of `total`.

    Raises
    ------
    trajectoire.InputError
        A `total` that is not a DataArray (a pandas Series, a Dataset), or holds a NaN or
        infinite value (its percentiles would be NaN); a year of `total` that is not a
        whole number, or a year given twice; an `uncertainty` that is neither an
        :class:`Uncertainty` nor a number.
    trajectoire.MissingVariableError
        `total` lacks one of the dims ``year``, ``sector``, ``pollutant``.

    Notes
    -----
    With ``U`` the 95 % half-width [%], :math:`\\sigma = \\ln(1 + U/100) / 1.96` (the upper
    2.5 % quantile of the lognormal is the median times ``1 + U/100``). The factor of
    realization ``r`` is :math:`f = \\exp(\\sigma z - \\sigma^2 / 2)` (mean 1), with
    :math:`z_{t} = \\rho z_{t-1} + \\sqrt{1 - \\rho^2}\\,\\varepsilon_t` from one year to the next
    (stationary AR(1) in log space, so that years :math:`\\Delta t` apart are correlated by
    :math:`\\rho^{\\Delta t}`; :math:`\\varepsilon` standard normal, independent between
    sectors and pollutants). ``rho = 1`` gives a fully correlated error (trends exact, levels
    uncertain), ``rho = 0`` independent years.

    The series are drawn year by year from :data:`ORIGIN_YEAR` (1990), forward to the last
    year asked for and backward to the first one before it (the process is reversible), each
    (sector, pollutant) pair from its own streams, seeded by ``seed`` and the pair's names:
    with the same seed, a year's factors are the same whatever the other years, sectors and
    pollutants of `total` and their order (a 2015-only run gets the 2015 percentiles of a
    1990-2023 run). The years may come in any order; the results keep it.

    A grid percentile of one sector is the field times the factor's percentile (a scalar);
    for sums over sectors, combine lazily year by year:
    ``(ds.emission.sel(year=y) * f.sel(year=y)).sum("sector").quantile(q, "realization")``.

    References
    ----------
    IPCC (2006) vol. 1 ch. 3 "Uncertainties", approach 2 (Monte Carlo).

    Examples
    --------
    >>> t = xr.DataArray(np.ones((2, 1, 1)), dims=("year", "sector", "pollutant"),
    ...     coords={"year": [2000, 2001], "sector": ["F_RoadTransport"], "pollutant": ["NOx"]})
    >>> mc = monte_carlo(t, Uncertainty(20.0, realizations=10))
    >>> mc["total_percentile"].sizes["percentile"]
    3
    """
    uncertainty = _as_uncertainty(uncertainty, "monte_carlo")
    total = _check_total(total).transpose("year", "sector", "pollutant")
    sectors = [str(s) for s in total["sector"].values]
    pols = [str(p) for p in total["pollutant"].values]
    years = _whole_years(total["year"].values)
    sigma = np.log1p(uncertainty.table(sectors, pols) / 100.0) / 1.96
    nr = uncertainty.realizations
    z = _log_errors(years, sectors, pols, nr, uncertainty.rho, uncertainty.seed)
    factor = np.exp(sigma * z - 0.5 * sigma**2)
    coords = {"realization": np.arange(nr), **{k: total[k] for k in total.dims}}
    f = xr.DataArray(factor, dims=("realization", *total.dims), coords=coords)
    f.attrs = {"units": "1", "long_name": "multiplicative uncertainty factor (mean 1)"}
    ens = (f * total).transpose("realization", "year", "sector", "pollutant")
    ens.attrs = {"units": "t yr-1", "long_name": "domain total per realization"}
    pct = np.asarray(uncertainty.percentiles, dtype=float)
    q = ens.quantile(pct / 100.0, dim="realization").rename(quantile="percentile")
    q = q.assign_coords(percentile=pct)
    q.attrs = {"units": "t yr-1", "long_name": "percentiles of the domain total"}
    return xr.Dataset({"uncertainty_factor": f, "total_realization": ens, "total_percentile": q})


def _whole_years(values: np.ndarray) -> np.ndarray:
    """The years of a total as integers, each once (:class:`InputError` otherwise)."""
    years = np.array(
        [require_year(v, "monte_carlo total: year") for v in np.asarray(values).tolist()], int
    )
    uniq, counts = np.unique(years, return_counts=True)
    if (counts > 1).any():
        raise InputError(
            f"monte_carlo total: year(s) {rows_preview(uniq[counts > 1].tolist())} given more "
            "than once; expected each year once. Keep one with total.drop_duplicates('year')."
        )
    return years


def _log_errors(
    years: np.ndarray, sectors: Sequence[str], pols: Sequence[str], nr: int, rho: float, seed: int
) -> np.ndarray:
    """Standard-normal AR(1) series ``z(realization, year, sector, pollutant)`` of `years`.

    Each (sector, pollutant) pair has two streams, seeded by `seed` and the pair's names:
    one draws the innovations of :data:`ORIGIN_YEAR` and the later years, in that order,
    the other those of the earlier years, backward. A year's value thus depends on the
    seed, the pair and the year only (the first rows of a stream do not change when more
    are drawn).
    """
    first, last = min(int(years.min()), ORIGIN_YEAR), max(int(years.max()), ORIGIN_YEAR)
    n_back, n_fwd = ORIGIN_YEAR - first, last - ORIGIN_YEAR + 1
    shape = (len(sectors), len(pols))
    fwd, back = np.empty((n_fwd, nr, *shape)), np.empty((n_back, nr, *shape))
    for i, sector in enumerate(sectors):
        for j, pol in enumerate(pols):
            key = [seed, zlib.crc32(sector.encode()), zlib.crc32(pol.encode())]
            fwd[:, :, i, j] = np.random.default_rng([*key, 0]).standard_normal((n_fwd, nr))
            if n_back:
                back[:, :, i, j] = np.random.default_rng([*key, 1]).standard_normal((n_back, nr))
    c, s = rho, np.sqrt(max(0.0, 1.0 - rho * rho))
    chain = np.empty((n_back + n_fwd, nr, *shape))  # years first .. last
    chain[n_back] = fwd[0]
    for k in range(1, n_fwd):
        chain[n_back + k] = c * chain[n_back + k - 1] + s * fwd[k]
    for k in range(n_back):  # backward: the year before ORIGIN_YEAR - k
        chain[n_back - 1 - k] = c * chain[n_back - k] + s * back[k]
    return np.moveaxis(chain[years - first], 1, 0)


#: The run's aggregates whose percentiles :func:`propagate` gives: total variable, its parts
#: by sector and origin, and the name of the percentiles' variable.
PROPAGATED: tuple[tuple[str, str, str], ...] = (
    ("territory_concentration", "territory_contribution", "territory_concentration_percentile"),
    ("exposure", "exposure_contribution", "exposure_percentile"),
    ("station_concentration", "station_contribution", "station_concentration_percentile"),
)


def propagate(ds: xr.Dataset, uncertainty: Uncertainty | float) -> xr.Dataset:
    """Percentiles of a run's concentrations under the uncertainty of its emissions.

    The emissions of each sector and pollutant in each year are uncertain by a
    multiplicative factor ``f`` (:func:`monte_carlo`: lognormal, mean 1, correlated across
    years). Concentrations are linear in the emissions of each sector, so that realization
    ``r`` of a territory mean, exposure or station value is, exactly,
    ``C_r = C + Σ_s (f_r,s - 1) C_s``, with ``C`` the run's value (background included) and
    ``C_s`` the part of sector ``s`` (its ``*_contribution``, summed over the territories of
    origin); the background is not varied. NO2, not emitted, takes NOx's factors: its parts
    by the incremental rule (``docs/attribution.md``) are a first-order propagation.

    Parameters
    ----------
    ds : xarray.Dataset
        A run's output, or its small variables: ``year``, ``sector``, ``pollutant`` and the
        pairs of :data:`PROPAGATED` it holds (``territory_concentration`` with
        ``territory_contribution``, ...).
    uncertainty : Uncertainty or float
        Half-widths [%], correlation, ensemble size, seed and percentiles (a number alone:
        ``Uncertainty(number)``).

    Returns
    -------
    xarray.Dataset
        ``emission_factor_percentile(percentile, year, sector, pollutant)`` [1] (NaN for a
        pollutant that is not emitted) and, for each pair held,
        ``territory_concentration_percentile``, ``exposure_percentile``,
        ``station_concentration_percentile`` ``(percentile, year, <place>, pollutant)``
        [ug m-3] (``percentile`` in % of the ensemble). Where `ds` holds particle-number
        species (``pollutant_number``, ``*_number`` variables: ``docs/outputs.md``), the same
        variables for them with the suffix ``_number``, on ``pollutant_number``, in their
        variables' units (``cm-3``).

    Notes
    -----
    The particle-number species are drawn apart from the masses, from a seed derived from
    ``uncertainty.seed`` (``SeedSequence([seed, 1])``), so that the masses' percentiles do
    not depend on whether the run has number species; their half-widths are looked up by
    their own names (``UFP``) as any pollutant's.
    The realizations are formed year by year (memory: realizations × places × pollutants).
    Percentiles are numpy's linear interpolation between realizations, as in
    :func:`monte_carlo`.

    Examples
    --------
    >>> ds = xr.Dataset(
    ...     {"territory_concentration": (("year", "receptor", "pollutant"), [[[12.0]]]),
    ...      "territory_contribution": (("year", "receptor", "sector", "origin", "pollutant"),
    ...                                 [[[[[2.0]]]]])},
    ...     coords={"year": [2020], "receptor": ["MEL"], "sector": ["F_RoadTransport"],
    ...             "origin": ["MEL"], "pollutant": ["NOx"]})
    >>> out = propagate(ds, Uncertainty(0.0, realizations=5))
    >>> out["territory_concentration_percentile"].values.ravel().tolist()
    [12.0, 12.0, 12.0]
    """
    uncertainty = _as_uncertainty(uncertainty, "propagate")
    require_dims(tuple(ds.dims), ("year", "sector", "pollutant"), "propagate dataset")
    out = _propagated(ds, uncertainty)
    numbers = (
        [str(v) for v in ds["pollutant_number"].values] if "pollutant_number" in ds.coords else []
    )
    if numbers:  # the particle-number species: their own variables and draws
        seed = int(np.random.SeedSequence([uncertainty.seed, 1]).generate_state(1)[0])
        view = species_view(ds, numbers[0])
        for name, da in _propagated(view, replace(uncertainty, seed=seed)).items():
            out[name + NUMBER_SUFFIX] = da.rename(pollutant="pollutant_number")
    ds_out = xr.Dataset(out)
    ds_out.attrs = {}
    ds_out["percentile"].attrs = {"units": "%", "long_name": "percentile of the ensemble"}
    return ds_out


def _propagated(ds: xr.Dataset, uncertainty: Uncertainty) -> dict[str, xr.DataArray]:
    """The variables of :func:`propagate` for the pollutants on `ds`'s ``pollutant`` dim."""
    pols = [str(p) for p in ds["pollutant"].values]
    emitted = [p for p in pols if p != "NO2"]
    ones = xr.DataArray(
        np.ones((ds.sizes["year"], ds.sizes["sector"], len(emitted))),
        dims=("year", "sector", "pollutant"),
        coords={"year": ds["year"], "sector": ds["sector"], "pollutant": emitted},
    )
    drawn = np.asarray(monte_carlo(ones, uncertainty)["uncertainty_factor"].values)
    # each output pollutant's factors (realization, year, sector): its own, NOx's for NO2
    fac = np.full((*drawn.shape[:3], len(pols)), np.nan)
    for j, p in enumerate(pols):
        src = "NOx" if p == "NO2" else p
        if src in emitted:
            fac[..., j] = drawn[..., emitted.index(src)]
    pct = np.asarray(uncertainty.percentiles, dtype=float)
    own = np.where(np.array([p == "NO2" for p in pols]), np.nan, fac)  # NO2 emits nothing
    out: dict[str, xr.DataArray] = {}
    out["emission_factor_percentile"] = xr.DataArray(
        np.percentile(own, pct, axis=0),
        dims=("percentile", "year", "sector", "pollutant"),
        coords={
            "percentile": pct,
            "year": ds["year"],
            "sector": ds["sector"],
            "pollutant": ds["pollutant"],
        },
        attrs={
            "units": "1",
            "long_name": "percentiles of the emissions' uncertainty factor "
            "(multiplicative, mean 1; NaN for a pollutant that is not emitted)",
        },
    )
    for total_name, parts_name, name in PROPAGATED:
        if total_name not in ds or parts_name not in ds:
            continue
        total = ds[total_name]
        place = [d for d in total.dims if d not in ("year", "pollutant")][0]
        parts = ds[parts_name].sum("origin", skipna=False)
        parts = parts.rename({d: place for d in parts.dims if d not in
                              ("year", "sector", "pollutant") and d != place})  # fmt: skip
        parts = parts.transpose("year", place, "sector", "pollutant")
        total = total.transpose("year", place, "pollutant")
        values = np.empty((pct.size, *total.shape))
        for t in range(total.shape[0]):
            delta = np.einsum("rsp,xsp->rxp", fac[:, t] - 1.0, np.asarray(parts[t].values))
            values[:, t] = np.percentile(np.asarray(total[t].values) + delta, pct, axis=0)
        out[name] = xr.DataArray(
            values,
            dims=("percentile", *total.dims),
            coords={"percentile": pct, **{d: total[d] for d in total.dims}},
            attrs={
                "units": total.attrs.get("units", "ug m-3"),
                "long_name": f"percentiles of {total_name} under the emissions' uncertainty",
            },
        )
    return out
