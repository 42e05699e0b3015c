"""Trend indices per sector and pollutant, and the IPCC time-series methods on them.

A trend table is a tidy :class:`pandas.DataFrame` with columns ``sector`` (GNFR id),
``pollutant``, ``year``, ``value`` (an index or an absolute total; only ratios are used) and
optionally ``series`` (the name of the source series, e.g. an inventory vintage). This module
reads such tables (:func:`read_trends` for the tidy ``trends.csv``; Eurostat's ``env_air_emis``
is read by :mod:`trajectoire.trajectory.eurostat`, whose :func:`read_eurostat_air_emissions`,
:data:`EUROSTAT_AIRSECT_TO_GNFR` and :data:`EUROSTAT_POLLUTANTS` this module still serves), maps the series' sectors
to GNFR, checks them, and turns one series into the ratio ``S(y) / S(ref)`` that the
trajectory applies, with the methods of IPCC (2006) vol. 1 ch. 5 (:class:`Method`,
:func:`ratio_series`).

References
----------
IPCC (2006). *2006 IPCC Guidelines for National Greenhouse Gas Inventories*, vol. 1, ch. 5
"Time series consistency". IGES, Hayama.
EMEP/EEA (2023). *Air pollutant emission inventory guidebook 2023*, Part A, ch. 4
"Time series consistency". EEA Report 06/2023, doi:10.2800/795737.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from trajectoire._validate import (
    DATA_YEARS,
    as_floats,
    did_you_mean,
    require_columns,
    require_known,
    require_year,
    rows_preview,
    year_ranges,
)
from trajectoire.errors import ConfigError, InputError, MissingVariableError, config_option
from trajectoire.sectors import normalise_sector
from trajectoire.species import known_species
from trajectoire.tables import data_lines, numeric_column, read_table

if TYPE_CHECKING:  # served lazily by __getattr__ below (eurostat.py imports this module)
    from trajectoire.trajectory.eurostat import (
        EUROSTAT_AIRSECT_TO_GNFR,
        EUROSTAT_POLLUTANTS,
        read_eurostat_air_emissions,
    )

__all__ = [
    "EUROSTAT_AIRSECT_TO_GNFR",
    "EUROSTAT_POLLUTANTS",
    "METHOD_KINDS",
    "TRAJECTORY_METHODS",
    "Method",
    "TrajectoryMethod",
    "aggregate_sectors",
    "checked_sector_mapping",
    "extrapolate_trend",
    "overlap_splice",
    "ratio_series",
    "read_eurostat_air_emissions",
    "read_trends",
    "series_of",
    "validate_trends",
]

#: Name of a time-series method (IPCC 2006 vol. 1 ch. 5) that a (sector, pollutant) can be given
#: for the years outside the span of the anchors: the one definition of this vocabulary
#: (:attr:`Method.kind`, the ``[trajectory]`` methods of a run configuration).
TrajectoryMethod = Literal["index", "overlap", "surrogate", "extrapolation", "interpolation"]
#: The names of :data:`TrajectoryMethod`, in that order.
TRAJECTORY_METHODS: tuple[str, ...] = get_args(TrajectoryMethod)
#: Former name of :data:`TRAJECTORY_METHODS`.
METHOD_KINDS: tuple[str, ...] = TRAJECTORY_METHODS
#: The trends of :func:`extrapolate_trend` and :attr:`Method.trend`.
_TRENDS: tuple[str, ...] = ("linear", "multiplicative")

_REQUIRED = ("sector", "pollutant", "year", "value")

#: names this module has served since before :mod:`trajectoire.trajectory.eurostat` held them
_EUROSTAT_NAMES = ("EUROSTAT_AIRSECT_TO_GNFR", "EUROSTAT_POLLUTANTS", "read_eurostat_air_emissions")


def __getattr__(name: str) -> Any:
    """The Eurostat names, from :mod:`trajectoire.trajectory.eurostat` (PEP 562)."""
    if name in _EUROSTAT_NAMES:
        from trajectoire.trajectory import eurostat

        return getattr(eurostat, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EUROSTAT_NAMES})


# --------------------------------------------------------------------------- tables
def _reject_rows(table: pd.DataFrame, bad: Any, message: Callable[[pd.Series, int], str]) -> None:
    """Raise :class:`InputError` with ``message(first bad row, number of bad rows)`` if any.

    `bad` is a boolean mask of the rows of `table` (numpy array or aligned Series).
    """
    if bad.any():
        raise InputError(message(table.loc[bad].iloc[0], int(bad.sum())))


def validate_trends(table: pd.DataFrame, *, what: str = "trend table") -> pd.DataFrame:
    """Check a tidy trend table and return a clean copy.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``sector`` (GNFR id or alias), ``pollutant``, ``year``, ``value`` and optional
        ``series``.
    what : str
        Name of the table or file, for error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``sector, pollutant, year, value, series`` (``series`` is ``""`` when absent),
        sectors normalised to GNFR ids, ``year`` as int, ``value`` as float, sorted.

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is missing.
    trajectoire.InputError
        Unknown sector or pollutant, non-integer years, NaN or negative values, duplicated
        ``(series, sector, pollutant, year)`` rows.

    Examples
    --------
    >>> t = pd.DataFrame({"sector": ["F", "F"], "pollutant": ["NOx", "NOx"],
    ...                   "year": [1990, 1991], "value": [2.0, 1.5]})
    >>> validate_trends(t)["sector"].tolist()
    ['F_RoadTransport', 'F_RoadTransport']
    """
    require_columns(table.columns, _REQUIRED, what)
    out = table.loc[:, [c for c in (*_REQUIRED, "series") if c in table.columns]].copy()
    if "series" not in out.columns:
        out["series"] = ""
    out["series"] = out["series"].fillna("").astype(str)
    out["sector"] = [normalise_sector(s, what=f"{what}, column 'sector'") for s in out["sector"]]
    out["pollutant"] = out["pollutant"].astype(str)
    require_known(out["pollutant"], known_species(), f"{what}, column 'pollutant'")
    years = pd.to_numeric(out["year"], errors="coerce")
    bad = years.isna() | (years != np.round(years))
    if bad.any():
        first = out.loc[bad, "year"].iloc[0]
        shown = f"{first:g}" if isinstance(first, (int, float, np.number)) else repr(str(first))
        raise InputError(
            f"{what}, column 'year': {int(bad.sum())} value(s) are not whole years "
            f"(e.g. {shown}); expected integers such as 1990."
        )
    out["year"] = years.astype(np.int64)
    values = pd.to_numeric(out["value"], errors="coerce").astype(float)
    _reject_rows(
        out,
        ~np.isfinite(values.to_numpy()),
        lambda row, n: (
            f"{what}, column 'value': {n} missing or non-numeric value(s), e.g. "
            f"sector {row['sector']}, pollutant {row['pollutant']}, year {row['year']}. "
            "A missing year is a gap in the series: fill it (interpolate between its "
            "neighbours, documenting it) or drop the whole series."
        ),
    )
    _reject_rows(
        out,
        values < 0,
        lambda row, n: (
            f"{what}, column 'value': negative value {float(row['value']):g} (sector {row['sector']}, "
            f"pollutant {row['pollutant']}, year {row['year']}); indices must be >= 0."
        ),
    )
    out["value"] = values
    keys = ["series", "sector", "pollutant", "year"]
    _reject_rows(
        out,
        out.duplicated(keys, keep=False),
        lambda row, n: (
            f"{what}: {n} duplicated rows for (series, sector, pollutant, year), "
            f"e.g. ({row['series']!r}, {row['sector']}, {row['pollutant']}, {row['year']}). "
            "Keep one row per year, or give each vintage its own 'series' name."
        ),
    )
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs = dict(table.attrs)  # the file it was read from (``what``), for later messages
    return out


def checked_sector_mapping(
    mapping: Mapping[str, str | Sequence[str]],
    codes: Iterable[str],
    *,
    what: str,
    key: str = "sector_mapping",
) -> dict[str, tuple[str, ...]]:
    """A sector mapping with GNFR ids as keys, each of its codes checked to be in a table.

    Parameters
    ----------
    mapping : mapping of str to str or sequence of str
        GNFR id or alias -> series sector code(s), as for :func:`aggregate_sectors`.
    codes : iterable of str
        The sector codes the table has.
    what : str
        Name of the table, for error messages.
    key : str, default "sector_mapping"
        Setting that holds `mapping`, named in messages.

    Returns
    -------
    dict of str to tuple of str
        Canonical GNFR id -> its codes, in the order of `mapping`.

    Raises
    ------
    trajectoire.InputError
        A key that is not a GNFR sector, two keys naming the same sector, or a code the table
        does not have.

    Examples
    --------
    >>> checked_sector_mapping({"F": "RD"}, ["RD", "IP"], what="t")
    {'F_RoadTransport': ('RD',)}
    """
    have = sorted(set(codes))
    out: dict[str, tuple[str, ...]] = {}
    for gnfr, given in mapping.items():
        canon = normalise_sector(gnfr, what=f"{what}: {key} key")
        if canon in out:
            raise InputError(f"{what}: {key} maps {canon} twice; give each sector once.")
        codes_t = (given,) if isinstance(given, str) else tuple(given)
        missing = [c for c in codes_t if c not in have]
        if missing:
            raise InputError(
                f"{what}: {key}.{canon} names code(s) {missing}, but the table has no such "
                f"sector (its sector codes are {have}). Fix {key}."
            )
        out[canon] = codes_t
    return out


def aggregate_sectors(
    table: pd.DataFrame,
    mapping: Mapping[str, str | Sequence[str]],
    *,
    what: str = "trend table",
) -> pd.DataFrame:
    """Map series sectors to GNFR, summing several series sectors into one GNFR sector.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table whose ``sector`` column holds the series' own sector codes.
    mapping : mapping of str to str or sequence of str
        GNFR id -> series sector code(s) whose values are **summed**, for example
        ``{"B_Industry": ["SE1_EUI", "SE2_IP"]}``. GNFR sectors absent from the mapping are
        left out; a series sector may appear under several GNFR sectors.
    what : str
        Name of the table, for error messages.

    Returns
    -------
    pandas.DataFrame
        Tidy table with GNFR ``sector`` ids. A GNFR year is kept only where **every** mapped
        series sector has a value (a partial sum would be a silent break in the series).

    Raises
    ------
    trajectoire.InputError
        A mapped series sector is not in the table, or a key is not a GNFR sector.

    Examples
    --------
    >>> t = pd.DataFrame({"sector": ["a", "b"], "pollutant": ["NOx", "NOx"],
    ...                   "year": [2000, 2000], "value": [1.0, 2.0]})
    >>> aggregate_sectors(t, {"B_Industry": ["a", "b"]})["value"].tolist()
    [3.0]
    """
    require_columns(table.columns, _REQUIRED, what)
    have = set(table["sector"].astype(str))
    extra = [c for c in ("series",) if c in table.columns]
    parts = []
    for canon, codes_t in checked_sector_mapping(mapping, have, what=what).items():
        sub = table[table["sector"].astype(str).isin(codes_t)]
        keys = [*extra, "pollutant", "year"]
        grouped = sub.groupby(keys, sort=True)["value"]
        summed = grouped.sum(min_count=1).to_frame()
        summed["n"] = grouped.count()
        summed = summed[summed["n"] == len(set(codes_t))].drop(columns="n").reset_index()
        summed["sector"] = canon
        parts.append(summed)
    if not parts:
        return pd.DataFrame({c: [] for c in (*_REQUIRED, *extra)})
    out = pd.concat(parts, ignore_index=True)
    return out.loc[:, [*_REQUIRED, *extra]]


def _input_file(path: str | PathLike[str], kind: str, key: str) -> Path:
    """`path` as a Path; an error naming it and `key` when it is no file (a folder, or
    nothing)."""
    p = Path(path)
    if not p.is_file():
        state = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise InputError(
            f"{kind} {str(p)!r} {state}; check the path ({key}, relative to the "
            "configuration file)."
        )
    return p


def read_trends(
    path: str | PathLike[str],
    *,
    sector_mapping: Mapping[str, str | Sequence[str]] | None = None,
    pollutant_mapping: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a tidy trend-index CSV (``trends.csv`` of docs/input-formats.md).

    Parameters
    ----------
    path : str or path-like
        CSV with columns ``sector``, ``pollutant``, ``year``, ``value`` and optional
        ``series``.
    sector_mapping : mapping, optional
        GNFR id -> sector code(s) of the file, summed (see :func:`aggregate_sectors`). Without
        it the ``sector`` column must hold GNFR ids or their aliases (``"F"``).
    pollutant_mapping : mapping of str to str, optional
        File pollutant code -> trajectoire pollutant id (e.g. ``{"NOX": "NOx"}``).

    Returns
    -------
    pandas.DataFrame
        The validated tidy table (see :func:`validate_trends`).

    Raises
    ------
    trajectoire.InputError
        Missing file, bad columns or values (the message names the file).
    """
    p = _input_file(path, "trend file", "[inputs] trends")
    table = read_table(p, what=p.name, comment="#", require_rows=True, config_key="[inputs] trends")
    if "value" in table.columns:  # text cells: the value and its line named (issue 13)
        numeric_column(table, "value", what=p.name, allow_nan=True, config_key="[inputs] trends")
    what = f"{p.name} ([inputs] trends)"
    require_columns(table.columns, _REQUIRED, what)
    _check_rows(table, p.name, "[inputs] trends")
    if pollutant_mapping:
        table["pollutant"] = table["pollutant"].map(lambda v: pollutant_mapping.get(v, v))
    if sector_mapping is not None:
        table = aggregate_sectors(table, sector_mapping, what=what)
    out = validate_trends(table, what=what)
    out.attrs["what"] = what  # named by the messages of the trajectory (a gap...)
    return out


def _check_rows(table: pd.DataFrame, name: str, key: str) -> None:
    """One line naming the file line of an empty sector or pollutant, or of a year that is
    not a whole year from :data:`DATA_YEARS` (``2019Q1``, ``19``, ``3000``): the checks of
    :func:`validate_trends` name the (sector, pollutant, year) only, and took ``19`` for a
    year (a gap of 1970 years later)."""

    def refuse(bad: np.ndarray, column: str, problem: str, expected: str) -> None:
        rows = np.flatnonzero(bad)
        if rows.size:
            cell = table[column].iloc[rows[0]]
            shown = (
                "an empty cell"
                if pd.isna(cell) or not str(cell).strip()
                else repr(str(cell).strip())
            )
            raise InputError(
                f"{name}, column {column!r}: {rows.size} row(s) with {problem} "
                f"({rows_preview(data_lines(table, rows), 5)}; first: {shown}); expected "
                f"{expected}. Fix the file given by {key}."
            )

    for column in ("sector", "pollutant"):
        empty = table[column].isna() | (table[column].astype(str).str.strip() == "")
        refuse(empty.to_numpy(), column, f"an empty {column}", f"a {column} on every row")
    text = table["year"].astype(str).str.strip()
    years = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(years) | (years != np.round(years))
        outside = ~bad & ((years < DATA_YEARS[0]) | (years > DATA_YEARS[1]))
    refuse(bad, "year", "a year that is not a whole number", "a year such as 1990")
    refuse(
        outside,
        "year",
        "a year outside the series' span",
        f"a four-digit year from {DATA_YEARS[0]} to {DATA_YEARS[1]}",
    )


SURROGATE_COLUMNS = ("driver", "year", "value")
"""Columns of a surrogates file (:func:`read_surrogates`)."""


def read_surrogates(path: str | PathLike[str]) -> pd.DataFrame:
    """Read the driver series of ``Method("surrogate", driver=...)`` (``[inputs] surrogates``).

    A surrogate (IPCC 2006 Guidelines, vol. 1, ch. 5, section 5.3.3.3) is an activity
    series that the emission of a sector follows: vehicle-kilometres for road transport,
    head counts for livestock, population for domestic heating. Only its year-to-year ratios
    matter (``E(y) = E(ref) D(y) / D(ref)``), so its unit is free.

    Parameters
    ----------
    path : str or path-like
        CSV (any dialect :func:`trajectoire.tables.read_table` reads) with columns
        ``driver`` (a name that ``[trajectory.methods]`` quotes), ``year`` and ``value``
        (>= 0; other columns, such as a unit, are ignored).

    Returns
    -------
    pandas.DataFrame
        ``driver`` (str), ``year`` (int64), ``value`` (float64), sorted by driver and year.

    Raises
    ------
    trajectoire.InputError
        Missing file; one line naming the file line, column and value of an empty driver, a
        year that is not whole, a value that is not a number or is negative, or a driver
        and year given twice.
    trajectoire.MissingVariableError
        A required column is missing.
    """
    key = "[inputs] surrogates"
    p = _input_file(path, "surrogates file", key)
    table = read_table(p, what=p.name, comment="#", require_rows=True, config_key=key)
    what = f"{p.name} ({key})"
    require_columns(table.columns, SURROGATE_COLUMNS, what)
    years = numeric_column(table, "year", what=p.name, config_key=key)
    values = numeric_column(table, "value", what=p.name, config_key=key)
    drivers = table["driver"].fillna("").astype(str).str.strip()

    def refuse(bad: np.ndarray, problem: str, expected: str) -> None:
        rows = np.flatnonzero(bad)
        if rows.size:
            first = int(rows[0])
            where = rows_preview(data_lines(table, rows))
            raise InputError(
                f"{what}: {rows.size} row(s) with {problem} ({where}; first: driver "
                f"{drivers.iloc[first]!r}, year {table['year'].iloc[first]!r}, value "
                f"{table['value'].iloc[first]!r}); expected {expected}."
            )

    refuse((drivers == "").to_numpy(), "an empty driver", "the name of a driver series")
    refuse(years != np.round(years), "a year that is not whole", "a year such as 1990")
    refuse(values < 0, "a negative value", "a value >= 0 (only its ratios count)")
    refuse(
        pd.DataFrame({"d": drivers, "y": years}).duplicated(keep=False).to_numpy(),
        "a driver and year given twice",
        "one value per driver and year",
    )
    out = pd.DataFrame({"driver": drivers, "year": years.astype(np.int64), "value": values})
    out = out.sort_values(["driver", "year"], kind="stable").reset_index(drop=True)
    out.attrs["what"] = what  # the file, in the messages of the surrogate method
    return out


def series_of(
    table: pd.DataFrame,
    sector: str,
    pollutant: str,
    *,
    series: str | None = None,
    what: str = "trend table",
) -> pd.Series:
    """One index series, ``year -> value``, checked for gaps.

    Parameters
    ----------
    table : pandas.DataFrame
        Validated tidy table (:func:`validate_trends`).
    sector, pollutant : str
        GNFR id and pollutant id.
    series : str, optional
        Value of the ``series`` column to take; required when the pair has several series.
    what : str
        Name of the table, for error messages.

    Returns
    -------
    pandas.Series
        Float values indexed by consecutive integer years.

    Raises
    ------
    trajectoire.MissingVariableError
        No row for that sector and pollutant (or series).
    trajectoire.InputError
        Several series and none chosen, or a gap (missing interior year). The gap's message
        says why each year is missing: a value not available in the file (at the lines that
        ``table.attrs["missing_lines"]``, ``"sector/pollutant"`` -> year -> lines, records,
        as :func:`~trajectoire.trajectory.eurostat.read_eurostat_air_emissions` does), or no
        row in the table.
    """
    sel = table[(table["sector"] == sector) & (table["pollutant"] == pollutant)]
    names = sorted(sel["series"].unique()) if "series" in sel.columns else [""]
    if series is not None:
        sel = sel[sel["series"] == series]
    elif len(names) > 1:
        raise InputError(
            f"{what}: sector {sector}, pollutant {pollutant} has several series {names}; "
            "choose one with Method(series=...) (vintages must not be mixed), or splice two "
            "with Method('overlap', series=new, old_series=old)."
        )
    if sel.empty:
        label = f" series {series!r}" if series is not None else ""
        raise MissingVariableError(
            f"{what}: no index for sector {sector}, pollutant {pollutant}{label}. Add that "
            "series to the table, map a series sector onto it (sector_mapping=...), or give "
            "this pair anchors that span every year."
        )
    s = pd.Series(sel["value"].to_numpy(float), index=sel["year"].to_numpy(np.int64))
    s = s.sort_index()
    full = np.arange(int(s.index[0]), int(s.index[-1]) + 1)
    missing = np.setdiff1d(full, s.index.to_numpy())
    if missing.size:
        noted = table.attrs.get("missing_lines", {}).get(f"{sector}/{pollutant}", {})
        why = [
            f"{y}: value(s) not available in the file at line(s) {rows_preview(noted[int(y)], 4)}"
            for y in missing
            if int(y) in noted
        ]
        absent = [int(y) for y in missing if int(y) not in noted]
        if absent:
            why.append(f"{year_ranges(absent)}: no row in the table")
        raise InputError(
            f"{what}: gap in the index series of sector {sector}, pollutant {pollutant}"
            f"{' (series ' + repr(series) + ')' if series else ''}: year(s) "
            f"{_years_text(missing)} missing between {int(full[0])} and {int(full[-1])} "
            f"({'; '.join(why)}). Fill the gap in the table (e.g. linear interpolation, "
            "documented) or shorten the series."
        )
    s.index.name = "year"
    return s


def _years_text(years: np.ndarray) -> str:
    """``[2002, 2003]``, or as runs (``[1, 2, 3..1989]`` -> ``[1..1989]``) beyond 10 years:
    a gap of centuries (a year written ``19``) used to list every year in one message."""
    if years.size <= 10:
        return str([int(y) for y in years])
    return f"[{year_ranges(years)}]"


# --------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class Method:
    """A time-series method for one (sector, pollutant), for years outside the anchors.

    Parameters
    ----------
    kind : {"index", "overlap", "surrogate", "extrapolation", "interpolation"}
        One of :data:`TRAJECTORY_METHODS`.
        ``index``: scale by the index series, E(y) = E(a) I(y) / I(a).
        ``overlap``: splice an older series onto a newer one (IPCC eq. 5.1) and scale.
        ``surrogate``: scale by a driver series (population, traffic, degree days...).
        ``extrapolation``: as ``index`` inside the series, bounded trend extrapolation
        outside it. ``interpolation``: only between anchors (an error outside them).
    series : str, optional
        Series name (``series`` column) to use; for ``overlap`` the **new** series.
    old_series : str, optional
        ``overlap`` only: the older, longer series.
    overlap_years : (int, int), optional
        ``overlap`` only: first and last overlap year; default all common years.
    variant : {"ratio", "offset"}
        ``overlap`` only: average ratio (IPCC eq. 5.1) or constant offset.
    driver : str, optional
        ``surrogate`` only: name of the driver series in the ``surrogates`` table.
    trend : {"linear", "multiplicative"}
        ``extrapolation`` only: additive slope or constant growth rate.
    fit_years : int, default 5
        ``extrapolation`` only: the trend is taken over the last (first) ``fit_years`` + 1
        years of the series.
    max_years : int, default 10
        ``extrapolation`` only: at most this many years beyond the series.
    max_ratio : float, default 3.0
        ``extrapolation`` only: extrapolated values stay within ``[v/max_ratio,
        v*max_ratio]`` of the series end value ``v`` (and >= 0).

    Examples
    --------
    >>> Method("extrapolation", trend="multiplicative").kind
    'extrapolation'
    """

    kind: str = "index"
    series: str | None = None
    old_series: str | None = None
    overlap_years: tuple[int, int] | None = None
    variant: str = "ratio"
    driver: str | None = None
    trend: str = "linear"
    fit_years: int = 5
    max_years: int = 10
    max_ratio: float = 3.0

    def __post_init__(self) -> None:
        if self.kind not in TRAJECTORY_METHODS:
            raise ConfigError(
                f"unknown time-series method {self.kind!r}; expected one of "
                f"{list(TRAJECTORY_METHODS)}."
            )
        if self.variant not in ("ratio", "offset"):
            raise ConfigError(f"overlap variant {self.variant!r}; expected 'ratio' or 'offset'.")
        if self.trend not in _TRENDS:
            raise ConfigError(
                f"extrapolation trend {self.trend!r}; expected 'linear' or 'multiplicative'."
            )
        if self.kind == "overlap" and self.old_series is None:
            raise ConfigError("Method('overlap') needs old_series='<name of the older series>'.")
        if self.kind == "surrogate" and self.driver is None:
            raise ConfigError("Method('surrogate') needs driver='<name in the surrogates table>'.")
        if self.fit_years < 1 or self.max_years < 0 or not self.max_ratio >= 1.0:
            raise ConfigError(
                f"extrapolation bounds fit_years={self.fit_years} (>= 1), max_years="
                f"{self.max_years} (>= 0), max_ratio={self.max_ratio} (>= 1) are invalid."
            )

    @classmethod
    def parse(cls, spec: str | Method) -> Method:
        """A :class:`Method` from a method name or an existing Method."""
        return spec if isinstance(spec, Method) else cls(str(spec))


def overlap_splice(
    old: pd.Series,
    new: pd.Series,
    *,
    variant: str = "ratio",
    overlap_years: tuple[int, int] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Splice an older series onto a newer one over their overlap (IPCC 2006, eq. 5.1).

    Parameters
    ----------
    old : pandas.Series
        Older (longer) series ``x``, indexed by year.
    new : pandas.Series
        Newer series ``y`` (the method consistent with the reference), indexed by year.
    variant : {"ratio", "offset"}
        Average ratio or constant difference over the overlap.
    overlap_years : (int, int), optional
        First and last overlap year ``(m, n)``; default every common year.

    Returns
    -------
    spliced : pandas.Series
        ``new`` where it exists, else the adjusted ``old``, over the union of years.
    from_old : pandas.Series of bool
        Whether each year comes from the adjusted old series.

    Raises
    ------
    trajectoire.InputError
        No overlap, or (ratio variant) an old value of zero in the overlap.

    Notes
    -----
    Ratio variant: :math:`y_0 = x_0 \\cdot \\frac{1}{n-m+1}\\sum_{i=m}^{n} y_i / x_i`.
    Offset variant: :math:`y_0 = x_0 + \\frac{1}{n-m+1}\\sum_{i=m}^{n} (y_i - x_i)`.
    The ratio (or difference) should be stable over the overlap; check it before use.

    Examples
    --------
    >>> old = pd.Series([10.0, 8.0, 6.0], index=[2000, 2001, 2002])
    >>> new = pd.Series([4.0, 3.0, 2.0], index=[2001, 2002, 2003])
    >>> overlap_splice(old, new)[0].tolist()
    [5.0, 4.0, 3.0, 2.0]
    """
    common = old.index.intersection(new.index)
    if overlap_years is not None:
        m, n = overlap_years
        common = common[(common >= m) & (common <= n)]
    if len(common) == 0:
        raise InputError(
            f"overlap splicing: the series do not overlap (old {int(old.index.min())}-"
            f"{int(old.index.max())}, new {int(new.index.min())}-{int(new.index.max())}"
            f"{', overlap_years=' + str(overlap_years) if overlap_years else ''}). Use "
            "surrogate data or extrapolation instead."
        )
    x = old.loc[common].to_numpy(float)
    y = new.loc[common].to_numpy(float)
    years = old.index.union(new.index)
    adjusted = old.reindex(years)
    if variant == "ratio":
        if np.any(x == 0):
            raise InputError(
                "overlap splicing: the old series is zero in an overlap year "
                f"({[int(v) for v in common[x == 0]]}); use variant='offset' or other years."
            )
        adjusted = adjusted * float(np.mean(y / x))
    else:
        adjusted = adjusted + float(np.mean(y - x))
    spliced = new.reindex(years).where(new.reindex(years).notna(), adjusted)
    from_old = pd.Series(~years.isin(new.index), index=years)
    return spliced.astype(float), from_old


def extrapolate_trend(
    series: pd.Series,
    years: Iterable[int] | int,
    *,
    trend: str = "linear",
    fit_years: int = 5,
    max_years: int = 10,
    max_ratio: float = 3.0,
    what: str = "series",
) -> pd.Series:
    """Bounded trend extrapolation of a series to `years` before or after it.

    Parameters
    ----------
    series : pandas.Series
        Values indexed by year (whole numbers, or a ``DatetimeIndex``/``PeriodIndex`` read by
        its years), each year once, in any order (they are sorted). A missing year (a gap)
        is allowed: the trend is fitted on the years themselves (per year, not per point).
    years : iterable of int, or int
        Years wanted; those of the series are returned unchanged. A year inside the span of
        the series that it lacks (in a gap) is an error.
    trend : {"linear", "multiplicative"}
        Mean annual change or mean annual growth rate over the fit window.
    fit_years : int, default 5
        Window [years], >= 0: from the end (start) of the series back (forward) to the
        farthest year of the series at most `fit_years` years from it, and at least the
        next year of the series; for a series without gaps, the last (first)
        ``k = min(fit_years, len - 1)`` steps. 0: the end value, held constant.
    max_years : int, default 10
        Largest distance beyond the series end [years], >= 0.
    max_ratio : float, default 3.0
        Extrapolated values are clipped to ``[v_n / max_ratio, v_n * max_ratio]``, ``v_n``
        the end value, and to >= 0; ``max_ratio`` >= 1 (``numpy.inf``: no bound).
    what : str
        Name of the series, for error messages.

    Returns
    -------
    pandas.Series
        Values for `years` (sorted), indexed by year.

    Raises
    ------
    trajectoire.InputError
        A year farther than `max_years` from the series, a multiplicative trend on a
        window with zero values, a wanted year in a gap of the series; a series that is
        empty, not a pandas Series, indexed by something other than years, with a year
        twice or a value that is NaN or infinite; a `trend` other than the two names;
        `fit_years` or `max_years` not a whole number >= 0, `max_ratio` < 1.

    Notes
    -----
    After the end ``n`` (IPCC 2006 vol. 1 §5.3.3.4), with ``m`` the other end of the fit
    window (``n - m = k`` years):
    linear :math:`y_t = y_n + (t - n)\\,\\Delta`, :math:`\\Delta = (y_n - y_m)/k`;
    multiplicative :math:`y_t = y_n\\,r^{t-n}`, :math:`r = (y_n / y_m)^{1/k}`.
    Symmetrically before the start. The guidelines caution against long extrapolations,
    hence the bounds.

    Examples
    --------
    >>> s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2002])
    >>> extrapolate_trend(s, [2003, 2004]).tolist()
    [1.0, 0.6666666666666666]
    >>> extrapolate_trend(pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2005]), 2006).tolist()
    [1.6]
    """
    fit_years, max_years = _check_trend_settings(trend, fit_years, max_years, max_ratio, what)
    yrs, values = _trend_points(series, what)
    years_arr = _wanted_years(years, what)
    first, last = int(yrs[0]), int(yrs[-1])
    n = len(values)
    constant = fit_years == 0 or n == 1
    # the other end of the fit window after the series (`far_after`) and before it
    # (`far_before`): the farthest year within `fit_years` of the end, at least one step;
    # positions n - 1 - k and k for a series without gaps (k = min(fit_years, n - 1))
    far_after = min(int(np.searchsorted(yrs, last - fit_years, side="left")), max(n - 2, 0))
    far_before = max(int(np.searchsorted(yrs, first + fit_years, side="right")) - 1, min(1, n - 1))
    after = years_arr > last
    outside = after | (years_arr < first)
    dist = np.where(after, years_arr - last, first - years_arr)
    end = np.where(after, values[-1], values[0])  # the series end next to each year
    far = np.where(after, values[far_after], values[far_before])  # the window's other end
    span = np.where(after, last - yrs[far_after], yrs[far_before] - first)  # its length [yr]
    multiplicative = not constant and trend == "multiplicative"
    _check_extrapolation(
        years_arr[outside],
        dist[outside],
        end[outside],
        far[outside],
        multiplicative,
        first=first,
        last=last,
        max_years=max_years,
        what=what,
    )
    inside = years_arr[~outside]
    pos = np.searchsorted(yrs, inside)
    missing = inside[yrs[np.minimum(pos, n - 1)] != inside]
    if missing.size:
        raise InputError(
            f"{what}: year(s) {_years_text(missing)} fall in a gap of the series (it has "
            f"{year_ranges(yrs)}); fill the gap first, e.g. series.reindex(range({first}, "
            f"{last + 1})).interpolate(), or ask for years the series has."
        )
    out = np.empty(years_arr.size)
    out[~outside] = values[pos]
    e, f, d, k = end[outside], far[outside], dist[outside], span[outside]
    if constant:
        val = e
    elif multiplicative:
        val = e * _libm_power(e / f, d / k)
    else:
        val = e + d * (e - f) / k
    # min(max(val, e / max_ratio), e * max_ratio), then max(val, 0.0), as Python's min and max
    low, high = e / max_ratio, e * max_ratio
    val = np.where(low > val, low, val)
    val = np.where(high < val, high, val)
    out[outside] = np.where(0.0 > val, 0.0, val)
    return pd.Series(out, index=pd.Index(years_arr, name="year"))


def _check_trend_settings(
    trend: Any, fit_years: Any, max_years: Any, max_ratio: Any, what: str
) -> tuple[int, int]:
    """`fit_years` and `max_years` as int; one line for a `trend` that is not one of
    :data:`_TRENDS` (any other name was taken as multiplicative), a window or bound that is
    not a whole number >= 0 (``5.0`` is 5), a `max_ratio` below 1 (0 gave 0.0 with a
    division by zero)."""
    if not isinstance(trend, str) or trend not in _TRENDS:
        hint = did_you_mean(trend, _TRENDS) if isinstance(trend, str) else ""
        if not hint and isinstance(trend, str) and trend.lower() in (
            "exponential", "geometric", "growth", "log", "ratio", "constant growth"
        ):  # fmt: skip
            hint = " (a constant annual growth rate is 'multiplicative')"
        raise InputError(
            f"{what}: trend={trend!r}: expected 'linear' (mean annual change) or "
            f"'multiplicative' (mean annual growth rate){hint}."
        )
    whole: list[int] = []
    for name, value in (("fit_years", fit_years), ("max_years", max_years)):
        ok = isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()
        )
        if isinstance(value, bool | np.bool_) or not ok or value < 0:
            raise InputError(f"{what}: {name}={value!r}: expected a whole number of years >= 0.")
        whole.append(int(value))
    if (
        isinstance(max_ratio, bool | np.bool_)
        or not isinstance(max_ratio, int | float | np.integer | np.floating)
        or not max_ratio >= 1.0
    ):
        raise InputError(
            f"{what}: max_ratio={max_ratio!r}: expected a number >= 1 (extrapolated values "
            "stay within [v / max_ratio, v * max_ratio] of the end value v; numpy.inf for "
            "no bound)."
        )
    return whole[0], whole[1]


def _trend_points(series: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The years (int64, increasing) and values (float64) of a series to extrapolate.

    A ``DatetimeIndex`` or ``PeriodIndex`` gives its years; an unsorted series is sorted
    (a series sorted already keeps its arrays as they are: the same arithmetic).
    """
    if not isinstance(series, pd.Series):
        raise InputError(
            f"{what}: got {type(series).__name__}; expected a pandas.Series of values "
            "indexed by year, e.g. pd.Series([4.0, 3.0], index=[2000, 2001])."
        )
    if series.empty:
        raise InputError(f"{what}: the series is empty; there is no value to extrapolate from.")
    index = series.index
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        yrs = np.asarray(index.year, dtype=np.int64)
    else:
        if isinstance(index, pd.MultiIndex):
            raise InputError(
                f"{what}: indexed by {list(index.names)} (a MultiIndex); expected one value "
                "per year: select one series first (series.xs(...))."
            )
        yrs = np.array(
            [require_year(v, f"{what}: index value") for v in index.tolist()], dtype=np.int64
        )
    values = as_floats(series.to_numpy(), f"{what}: values", "a number per year")
    uniq, counts = np.unique(yrs, return_counts=True)
    if (counts > 1).any():
        raise InputError(
            f"{what}: year(s) {_years_text(uniq[counts > 1])} given more than once; expected "
            "one value per year."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            f"{what}: value(s) NaN or infinite in year(s) {_years_text(np.sort(yrs[bad]))}; "
            "drop them (series.dropna(): a missing year is a gap, fitted per year) or fill them."
        )
    if (np.diff(yrs) < 0).any():
        order = np.argsort(yrs, kind="stable")
        yrs, values = yrs[order], values[order]
    return yrs, values


def _wanted_years(years: Any, what: str) -> np.ndarray:
    """The wanted years, sorted and each once; one year alone is a one-year list."""
    if isinstance(years, np.ndarray) and years.ndim == 0:
        years = [years.item()]
    elif isinstance(years, str | bytes | int | float | np.integer | np.floating):
        years = [years]
    elif not hasattr(years, "__iter__"):
        raise InputError(
            f"{what}: years={years!r} ({type(years).__name__}): expected the years wanted, "
            "e.g. [2003, 2004] or one year."
        )
    return np.array(
        sorted({require_year(y, f"{what}: wanted year") for y in years}), dtype=np.int64
    )


def _check_extrapolation(
    years: np.ndarray,
    dist: np.ndarray,
    end: np.ndarray,
    far: np.ndarray,
    multiplicative: bool,
    *,
    first: int,
    last: int,
    max_years: int,
    what: str,
) -> None:
    """Raise for the first of the sorted extrapolated `years` that cannot be extrapolated.

    A year farther than `max_years` from the series (`dist` [years]), or a multiplicative trend
    whose fit window has a non-positive `end` or `far` value.
    """
    nonpositive = (end <= 0) | (far <= 0) if multiplicative else np.zeros(years.size, bool)
    bad = np.flatnonzero((dist > max_years) | nonpositive)
    if not bad.size:
        return
    i = bad[0]
    if dist[i] > max_years:
        raise InputError(
            f"{what}: year {years[i]} is {dist[i]} years beyond the series ({first}-{last}); "
            f"extrapolation is bounded to max_years={max_years}. Extend the series, add "
            "an anchor inventory nearer that year, or raise Method(max_years=...)."
        )
    raise InputError(
        f"{what}: multiplicative extrapolation needs positive values at both "
        f"ends of the fit window; got {far[i]} and {end[i]}. Use trend='linear'."
    )


_scalar_power = np.frompyfunc(lambda b, e: np.float64(b) ** np.float64(e), 2, 1)


def _libm_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """``base ** exponent`` element by element with numpy's scalar power (the C library's ``pow``).

    ``np.power`` on arrays takes a SIMD path (SVML on AVX-512) whose last bit differs from
    ``pow`` for some inputs; the extrapolated values stay those of the scalar formula.
    """
    return np.asarray(_scalar_power(base, exponent), dtype=np.float64)


def ratio_series(
    table: pd.DataFrame | None,
    sector: str,
    pollutant: str,
    years: Iterable[int],
    base_year: int,
    method: Method,
    *,
    surrogates: pd.DataFrame | None = None,
    what: str = "trend table",
) -> tuple[pd.Series, pd.Series]:
    """The ratio ``S(y) / S(base_year)`` of one (sector, pollutant) under a method.

    Parameters
    ----------
    table : pandas.DataFrame or None
        Validated tidy trend table (:func:`validate_trends`).
    sector, pollutant : str
        GNFR id and pollutant id.
    years : iterable of int
        Years wanted (the base year is added).
    base_year : int
        Year whose value is the denominator (the reference inventory's year).
    method : Method
        The method (kind ``interpolation`` is not a series method and raises).
    surrogates : pandas.DataFrame, optional
        Driver table with columns ``driver``, ``year``, ``value`` (``surrogate`` only).
    what : str
        Name of the table, for messages.

    Returns
    -------
    ratio : pandas.Series
        ``S(y) / S(base_year)`` indexed by year.
    label : pandas.Series of str
        Method label per year: ``index``, ``overlap``, ``surrogate`` or ``extrapolation``.

    Raises
    ------
    trajectoire.InputError
        A year outside the series (the fix names extrapolation), a gap, a series that is 0
        in every year (an index method; :func:`~trajectoire.trajectory.rebuild` calls this
        only for a pair that emits), or a value that is zero or negative at the base year.

    Examples
    --------
    >>> t = validate_trends(pd.DataFrame({"sector": "F", "pollutant": "NOx",
    ...     "year": [2000, 2001, 2002], "value": [4.0, 3.0, 2.0]}))
    >>> ratio_series(t, "F_RoadTransport", "NOx", [2000, 2002], 2001, Method())[0].tolist()
    [1.3333333333333333, 1.0, 0.6666666666666666]
    """
    wanted = sorted({int(y) for y in years} | {int(base_year)})
    if method.kind == "interpolation":
        raise InputError(
            f"sector {sector}, pollutant {pollutant}: method 'interpolation' needs anchor "
            f"inventories on both sides of year(s) {wanted}; add anchors or choose "
            f"another method for this pair: [trajectory.methods] {sector} = {{ {pollutant} = "
            '"index" } (or "extrapolation") in the configuration, '
            "Method('index') / Method('extrapolation') from Python."
        )
    from_old = None
    if method.kind == "surrogate":
        s = _surrogate_series(surrogates, sector, pollutant, method)
    else:
        s, from_old = _index_series(table, sector, pollutant, method, what)
    first, last = int(s.index[0]), int(s.index[-1])
    if method.kind != "surrogate" and len(s) and not (s.to_numpy(float) != 0).any():
        raise InputError(_zero_series_message(what, sector, pollutant, first, last))
    values = _series_values(s, wanted, method, sector, pollutant, what)
    base = float(values.loc[int(base_year)])
    if not base > 0:
        raise InputError(
            f"{what}: the {method.kind} series of sector {sector}, pollutant {pollutant} is "
            f"{base} at the reference year {base_year}; a ratio to it is undefined. Use another "
            "series for this pair (sector_mapping=...), another reference or anchor year, or "
            "drop the pair from the inventory."
        )
    ratio = values / base
    labels = []
    for y in wanted:
        if method.kind == "extrapolation":
            labels.append("extrapolation" if (y < first or y > last) else "index")
        elif method.kind == "overlap":
            assert from_old is not None
            labels.append("overlap" if bool(from_old.get(y, False)) else "index")
        else:
            labels.append(method.kind)
    label = pd.Series(labels, index=pd.Index(wanted, name="year"), dtype=object)
    ratio.index.name = "year"
    return ratio.astype(float), label


def _zero_series_message(what: str, sector: str, pollutant: str, first: int, last: int) -> str:
    """The error of a series that is 0 in every year, read for a pair that emits.

    The zeros may be genuine (Eurostat's NH3 of households, ``SE1_CIH``): a pair that emits
    nothing reads no series (:func:`trajectoire.trajectory.rebuild` skips it), so the fixes
    offered are those that give a pair that emits a series with values: other codes for the
    sector (``sector_mapping``, which maps every pollutant of the sector: it cannot map one
    alone), a driver series (``surrogate``, the one method that does not read the trend
    table: ``index``, ``overlap`` and ``extrapolation`` all divide by it, ``interpolation``
    serves only years between anchors), or the pollutant left out of the run.
    """
    mapping = config_option("[inputs] trends", f"sector_mapping.{sector}")
    return (
        f"{what}: the series of sector {sector}, pollutant {pollutant} is 0 in every year of "
        f"the file ({first}-{last}), perhaps genuinely; a pair that emits in the inventories "
        "or stacks cannot be scaled by it (each year divided by that of the year it is scaled "
        "from is undefined; a pair that emits nothing reads no series): expected a series "
        "with values > 0. Take the sector's series from codes of the file that hold values, "
        f'{mapping} = ["<code>", ...] (summed, for every pollutant of {sector}: it cannot map '
        f"{pollutant} alone), give the pair a driver series of [inputs] surrogates, "
        f'[trajectory.methods] {sector} = {{ {pollutant} = {{ kind = "surrogate", driver = '
        "\"<driver>\" } } (Method('surrogate', driver=...) from Python), or leave "
        f"{pollutant} out of [run] pollutants."
    )


def _surrogate_series(
    surrogates: pd.DataFrame | None, sector: str, pollutant: str, method: Method
) -> pd.Series:
    """The driver series of ``Method("surrogate", driver=...)``, checked, indexed by year."""
    if surrogates is None:
        raise InputError(
            f"sector {sector}: Method('surrogate', driver={method.driver!r}) but no "
            "surrogates table was given; pass surrogates=DataFrame(driver, year, value)."
        )
    source = str(surrogates.attrs.get("what", "surrogates table"))
    require_columns(surrogates.columns, ["driver", "year", "value"], source)
    drv = surrogates[surrogates["driver"] == method.driver]
    if drv.empty:
        raise MissingVariableError(
            f"{source}: no driver {method.driver!r} (sector {sector}, pollutant {pollutant}); "
            f"its drivers are {sorted(surrogates['driver'].unique())}. Fix the driver of the "
            "sector's method ([trajectory.methods]) or add the series."
        )
    tab = pd.DataFrame(
        {
            "sector": sector,
            "pollutant": pollutant,
            "year": drv["year"],
            "value": drv["value"],
            "series": str(method.driver),
        }
    )
    return series_of(
        validate_trends(tab, what=source),
        sector,
        pollutant,
        what=f"{source}, driver {method.driver!r}",
    )


def _index_series(
    table: pd.DataFrame | None, sector: str, pollutant: str, method: Method, what: str
) -> tuple[pd.Series, pd.Series | None]:
    """The index series of a method (spliced for ``overlap``), and which years are spliced.

    The second item is None except for ``overlap``: whether each year comes from the
    adjusted old series.
    """
    if table is None:
        raise InputError(
            f"sector {sector}, pollutant {pollutant}: method {method.kind!r} needs trend "
            "indices, and none were given; pass indices=... or anchors spanning the years."
        )
    s = series_of(table, sector, pollutant, series=method.series, what=what)
    if method.kind != "overlap":
        return s, None
    assert method.old_series is not None
    old = series_of(table, sector, pollutant, series=method.old_series, what=what)
    s, from_old = overlap_splice(old, s, variant=method.variant, overlap_years=method.overlap_years)
    return s.dropna(), from_old


def _series_values(
    s: pd.Series, wanted: list[int], method: Method, sector: str, pollutant: str, what: str
) -> pd.Series:
    """The series at the `wanted` years: extrapolated by ``extrapolation``, else inside it."""
    if method.kind == "extrapolation":
        return extrapolate_trend(
            s,
            wanted,
            trend=method.trend,
            fit_years=method.fit_years,
            max_years=method.max_years,
            max_ratio=method.max_ratio,
            what=f"{what}, sector {sector}, pollutant {pollutant}",
        )
    first, last = int(s.index[0]), int(s.index[-1])
    outside = [y for y in wanted if y < first or y > last]
    if outside:
        raise InputError(
            f"{what}: year(s) {outside} outside the {method.kind} series of sector "
            f"{sector}, pollutant {pollutant} ({first}-{last}). Extend the series, or "
            "choose bounded trend extrapolation for this pair: in the configuration "
            f'[trajectory.methods] {sector} = {{ {pollutant} = "extrapolation" }} (or '
            f'{sector} = "extrapolation" for all its pollutants), from Python '
            f"methods={{('{sector}', '{pollutant}'): Method('extrapolation')}}."
        )
    return s.reindex(wanted)
