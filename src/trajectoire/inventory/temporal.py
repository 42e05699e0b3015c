"""Temporal emission profiles per sector: month, weekday and hour of the day (issue 15).

A profile splits a sector's annual total over the hours of a calendar year. It has three
parts: the share of each month (12), the relative weight of each weekday (7, Monday first)
and the share of each hour of the day (24, local time). The factor of hour ``t`` (in month
``m``, on weekday ``d``, at hour ``h``) on the mean hourly rate of its year is

    f(t) = N_year * M[m] * W[d] * H[h] / sum over the days of m of W[day]

with ``N_year`` the number of hours of the calendar year (8760 or 8784). The hours of month
``m`` then carry exactly the share ``M[m]`` of the year, whatever the weekday composition of
that month and year, and ``f`` has mean exactly 1 over every calendar year (leap years
included): the annual total is preserved to round-off (:func:`hourly_emissions`).

The default table (``data/temporal_profiles.toml``) gives representative shapes after the
TNO/MACC sector profiles (Denier van der Gon et al. 2011; see the file's header for their
status); :func:`load_temporal_profiles` reads a user file (TOML of the same layout, or a CSV
with columns ``key, profile, index, value``) whose keys replace or add to them. A key is a GNFR
sector, or ``"sector/species"`` for a seasonal species (the application calendar of a
pesticide): :func:`hourly_factors` uses the most specific key it finds.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import pandas as pd

from trajectoire._validate import FrozenTable, require_columns, year_ranges
from trajectoire.errors import InputError
from trajectoire.sectors import normalise_sector
from trajectoire.species import normalise_pollutant
from trajectoire.tables import (
    data_lines,
    id_text,
    keyword_options,
    numeric_column,
    read_table,
    with_options,
)

__all__ = [
    "PROFILE_LENGTHS",
    "ProfileOptions",
    "TemporalProfile",
    "TemporalProfiles",
    "default_temporal_profiles",
    "hourly_emissions",
    "hourly_factors",
    "load_temporal_profiles",
]

#: the parts of a profile and their number of values
PROFILE_LENGTHS: dict[str, int] = {"month": 12, "weekday": 7, "hour": 24}
#: tolerance on the sum of a profile (1 for shares, its length for factors)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class TemporalProfile:
    """The month, weekday and hour shares of one sector (each sums to one).

    Attributes
    ----------
    month : numpy.ndarray
        Share of the annual total in each month, January first (12 values, sum 1).
    weekday : numpy.ndarray
        Relative weight of each weekday, Monday first (7 values, sum 1).
    hour : numpy.ndarray
        Share of a day's emission in each hour 0..23 of local time (24 values, sum 1).
    source : str
        Where the profile comes from.
    """

    month: np.ndarray
    weekday: np.ndarray
    hour: np.ndarray
    source: str = ""

    def factors(self, part: str) -> np.ndarray:
        """The part as factors of mean 1 (``month``, ``weekday`` or ``hour``)."""
        return np.asarray(getattr(self, part)) * PROFILE_LENGTHS[part]


_FLAT = TemporalProfile(
    np.full(12, 1 / 12), np.full(7, 1 / 7), np.full(24, 1 / 24), "flat (no temporal variation)"
)


class TemporalProfiles(FrozenTable[TemporalProfile]):
    """Profiles by key: a GNFR sector id, or ``"sector/species"``.

    Parameters
    ----------
    profiles : mapping of str to TemporalProfile
        Keys are normalised (``"F"`` -> ``"F_RoadTransport"``, ``"l/s_metolachlor"`` ->
        ``"L_AgriOther/S-metolachlor"``).
    """

    def __init__(self, profiles: Mapping[str, TemporalProfile]) -> None:
        self._table = {_key(k, "temporal profiles"): v for k, v in profiles.items()}

    def __repr__(self) -> str:
        return f"TemporalProfiles({list(self._table)})"

    def profile(self, sector: str, species: str | None = None) -> TemporalProfile:
        """The profile of a sector (and species): ``sector/species``, else ``sector``, else
        flat."""
        sec = normalise_sector(sector, what="temporal profile")
        if species is not None:
            key = f"{sec}/{normalise_pollutant(species, what='temporal profile')}"
            if key in self._table:
                return self._table[key]
        return self._table.get(sec, _FLAT)

    def updated(self, other: Mapping[str, TemporalProfile]) -> TemporalProfiles:
        """These profiles with `other`'s keys replacing or added."""
        return TemporalProfiles({**self._table, **dict(TemporalProfiles(other))})


def _key(key: str, what: str) -> str:
    sector, _, species = str(key).partition("/")
    sec = normalise_sector(sector.strip(), what=f"{what}, key {key!r}")
    if not species:
        return sec
    return f"{sec}/{normalise_pollutant(species.strip(), what=f'{what}, key {key!r}')}"


def _shares(
    values: Any, part: str, *, factors: bool, key: str, what: str, normalise: bool
) -> np.ndarray:
    """A part of a profile as shares summing to one, checked."""
    n = PROFILE_LENGTHS[part]
    name = f"{part}_factors" if factors else part
    at = f"{what}: profile {key!r}, {name}"
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{at}: expected {n} numbers, got {values!r}.") from None
    if v.shape != (n,):
        raise InputError(f"{at}: {v.size} values; expected {n} ({_PART_WORDS[part]}).")
    if not (np.isfinite(v).all() and (v >= 0).all()):
        raise InputError(f"{at}: expected finite values >= 0, got {v.tolist()}.")
    total = float(v.sum())
    target = float(n) if factors else 1.0
    if not total > 0:
        raise InputError(f"{at}: all values are 0; a profile needs a positive weight.")
    if abs(total - target) > TOLERANCE * target and not normalise:
        raise InputError(
            f"{at}: sums to {total!r}; expected {target:g} ({'factors of mean 1' if factors else 'shares'}"
            f" within {TOLERANCE:g}). Fix the values, or read the file with normalise=True "
            "to rescale them explicitly."
        )
    return v / total


_PART_WORDS = {
    "month": "January..December",
    "weekday": "Monday..Sunday",
    "hour": "hours 0..23 of local time",
}
#: how a CSV profile numbers the values of each part (its column ``index``)
_PART_FIX = {
    "month": "number the months 1 (January) to 12 (December)",
    "weekday": "number the weekdays 1 (Monday) to 7 (Sunday)",
    "hour": "number the hours 0 to 23 of local time",
}


def _from_mapping(
    data: Mapping[str, Any], *, what: str, normalise: bool, base: TemporalProfiles | None
) -> TemporalProfiles:
    out: dict[str, TemporalProfile] = {}
    written_as: dict[str, str] = {}  # normalised key -> the key as written
    allowed = {*PROFILE_LENGTHS, *(f"{p}_factors" for p in PROFILE_LENGTHS), "source"}
    for raw_key, table in data.items():
        if not isinstance(table, Mapping):
            raise InputError(f"{what}: {raw_key!r} must be a table of profiles.")
        key = _key(raw_key, what)
        if key in written_as:  # "F" and "F_RoadTransport": the second would replace the first
            raise InputError(
                f"{what}: profiles {written_as[key]!r} and {raw_key!r} are the same key "
                f"{key!r}; expected each key once: merge their parts under one key."
            )
        written_as[key] = str(raw_key)
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise InputError(
                f"{what}: profile {raw_key!r}: unknown field(s) {unknown}; expected "
                f"{sorted(allowed)}."
            )
        parts = {}
        prev = base.get(key) if base is not None else None
        if prev is None and "/" in key and base is not None:
            prev = base.get(key.split("/")[0])
        for part in PROFILE_LENGTHS:
            if part in table and f"{part}_factors" in table:
                raise InputError(
                    f"{what}: profile {raw_key!r} gives both {part} and {part}_factors; give one."
                )
            if part in table or f"{part}_factors" in table:
                factors = f"{part}_factors" in table
                values = table[f"{part}_factors" if factors else part]
                parts[part] = _shares(
                    values, part, factors=factors, key=raw_key, what=what, normalise=normalise
                )
            else:
                parts[part] = getattr(prev or _FLAT, part)
        out[key] = TemporalProfile(**parts, source=str(table.get("source", what)))
    return TemporalProfiles(out)


def default_temporal_profiles() -> TemporalProfiles:
    """The default profiles of ``data/temporal_profiles.toml`` (see its header)."""
    text = resources.files("trajectoire").joinpath("data/temporal_profiles.toml").read_text("utf-8")
    return _from_mapping(
        tomllib.loads(text), what="data/temporal_profiles.toml", normalise=False, base=None
    )


def load_temporal_profiles(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    normalise: bool = False,
    base: TemporalProfiles | None = None,
) -> TemporalProfiles:
    """Read profiles from a TOML or CSV file and lay them over `base` (default profiles).

    Parameters
    ----------
    source : path or mapping
        TOML in the layout of ``data/temporal_profiles.toml`` (one table per key, with
        ``month``/``weekday``/``hour`` shares or ``*_factors``), a CSV with columns ``key``,
        ``profile`` (``month``, ``weekday``, ``hour`` or one of them with ``_factors``),
        ``index`` (1..12 months, 1..7 Monday..Sunday, 0..23 hours) and ``value``, or the
        parsed mapping. Parts a key leaves out are taken from `base`'s profile of that key
        (or of its sector), else flat.
    normalise : bool, default False
        Rescale a profile that does not add up instead of raising.
    base : TemporalProfiles, optional
        Default: :func:`default_temporal_profiles`.

    Returns
    -------
    TemporalProfiles

    Raises
    ------
    trajectoire.InputError
        Unknown key or field, wrong number of values, negative values, or a profile that
        does not sum to one (factors: to its length) within 1e-9, naming the key and part;
        one key written two ways (``F`` and ``F_RoadTransport``); in a CSV, an index out of
        range or given twice (naming the line(s)) or missing (numbered as the file numbers
        them: months 1..12, weekdays 1..7, hours 0..23).
    """
    base = default_temporal_profiles() if base is None else base
    if isinstance(source, Mapping):
        return base.updated(
            _from_mapping(source, what="temporal profiles", normalise=normalise, base=base)
        )
    path = Path(source)
    what = str(path)
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{what}: temporal profile file not found.") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{what}: not valid TOML ({exc}).") from None
    else:
        data = _csv_mapping(path, what)
    return base.updated(_from_mapping(data, what=what, normalise=normalise, base=base))


def _csv_mapping(path: Path, what: str) -> dict[str, dict[str, list[float]]]:
    df = read_table(path, what=what, require_rows=True)
    require_columns(df.columns, ["key", "profile", "index", "value"], what)
    values = numeric_column(df, "value", what=what)
    index = numeric_column(df, "index", what=what)
    lines = data_lines(df, range(len(df)))
    out: dict[str, dict[str, Any]] = {}
    first_at: dict[tuple[str, str, int], str] = {}  # (key, profile, index) -> its line
    rows_of: dict[tuple[str, str], list[int]] = {}  # (key, profile) -> its line numbers
    for key, prof, raw, i, v, line in zip(
        df["key"], df["profile"], df["index"], index, values, lines, strict=True
    ):
        key, prof = str(key).strip(), str(prof).strip()
        part = prof.removesuffix("_factors")
        if part not in PROFILE_LENGTHS:
            raise InputError(
                f"{what}, {line}: profile {prof!r}; expected one of "
                f"{[*PROFILE_LENGTHS, *(p + '_factors' for p in PROFILE_LENGTHS)]}."
            )
        n = PROFILE_LENGTHS[part]
        first = 0 if part == "hour" else 1
        written = id_text(raw)  # the index as the file writes it: 12, not np.float64(12.0)
        k = int(i) - first
        if i != int(i) or not 0 <= k < n:
            raise InputError(
                f"{what}, {line}: column 'index': {part} {written} of profile "
                f"{key!r} ({prof}); expected an integer {first}..{first + n - 1} "
                f"({_PART_WORDS[part]}): {_PART_FIX[part]}."
            )
        at = (key, prof, k)
        if at in first_at:
            raise InputError(
                f"{what}, {line}: column 'index': {part} {written} of profile "
                f"{key!r} ({prof}) is given again ({v:g}; first at {first_at[at]}: "
                f"{out[key][prof][k]:g}); expected each {part} once: delete one of the two "
                "rows or fix its index."
            )
        first_at[at] = line
        rows_of.setdefault((key, prof), []).append(int(line.split()[-1]))
        arr = out.setdefault(key, {}).setdefault(prof, [np.nan] * n)
        arr[k] = float(v)
    for key, parts in out.items():
        for prof, arr in parts.items():
            missing = [j for j, x in enumerate(arr) if not np.isfinite(x)]
            if missing:
                part = prof.removesuffix("_factors")
                first = 0 if part == "hour" else 1
                n = len(arr)
                raise InputError(
                    f"{what}: profile {key!r} ({prof}, lines "
                    f"{year_ranges(rows_of[(key, prof)])}): no row for "
                    f"{part}(s) {year_ranges(j + first for j in missing)}; "
                    f"expected one row for each of {first}..{first + n - 1} "
                    f"({_PART_WORDS[part]}): add the missing row(s)."
                )
    return out


class ProfileOptions(TypedDict, total=False):
    """Keywords of :func:`hourly_factors` and :func:`hourly_emissions`: which profile, and
    the local time of `times`.

    Attributes
    ----------
    species : str, optional
        Use the ``sector/species`` profile when there is one (seasonal species).
    profiles : TemporalProfiles, optional
        Default: :func:`default_temporal_profiles`.
    utc_offset : float, default 0
        Hours added to `times` before they are read as local time (1 for CET given UTC
        times; daylight saving is not applied). The factors are normalised per calendar
        year of the shifted times.
    """

    species: str | None
    profiles: TemporalProfiles | None
    utc_offset: float


#: The defaults of :class:`ProfileOptions` other than None.
_PROFILE_DEFAULTS: dict[str, Any] = {"utc_offset": 0.0}


def _profile_times(
    sector: str, times: npt.ArrayLike, options: ProfileOptions, caller: str
) -> tuple[TemporalProfile, pd.DatetimeIndex]:
    """The profile of `sector` and the local `times` that `options` say (with defaults)."""
    given = keyword_options(ProfileOptions, caller, options, _PROFILE_DEFAULTS)
    profiles = given["profiles"] or default_temporal_profiles()
    prof = profiles.profile(sector, given["species"])
    t = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
    if t.hasnans:
        raise InputError("times: NaT values; expected valid timestamps.")
    return prof, t + pd.Timedelta(hours=float(given["utc_offset"]))


@with_options(ProfileOptions, _PROFILE_DEFAULTS)
def hourly_factors(
    sector: str, times: npt.ArrayLike, **options: Unpack[ProfileOptions]
) -> np.ndarray:
    """Factor on the mean hourly rate of a sector's emission, for each of `times`.

    Parameters
    ----------
    sector : str
        GNFR sector (id or alias).
    times : array-like of datetime64
        The hours (timestamps of the hour's start), any span.
    **options
        `species`, `profiles`, `utc_offset`: see :class:`ProfileOptions`.

    Returns
    -------
    numpy.ndarray
        Factors [1], one per time; their mean over every whole calendar year is exactly 1
        (to round-off), leap years and the weekday composition of the year included.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2021-01-01", "2021-12-31 23:00", freq="h")
    >>> f = hourly_factors("F_RoadTransport", t)
    >>> round(float(f.mean()), 12), round(float(f[8]), 3)  # 2021-01-01 08:00, a Friday
    (1.0, 1.846)
    """
    return _factors(*_profile_times(sector, times, options, "hourly_factors"))


def _factors(prof: TemporalProfile, t: pd.DatetimeIndex) -> np.ndarray:
    """The factors of :func:`hourly_factors` for the local times `t`."""
    year, month, day = t.year.to_numpy(), t.month.to_numpy(), t.day_of_week.to_numpy()
    hour = t.hour.to_numpy()
    # sum of the weekday weights over the days of each (year, month) of `times`
    out = np.empty(t.size)
    for y in np.unique(year):
        days = pd.date_range(f"{y}-01-01", f"{y}-12-31", freq="D")
        per_month = np.bincount(
            days.month.to_numpy() - 1,
            weights=prof.weekday[days.day_of_week.to_numpy()],
            minlength=12,
        )
        n_hours = days.size * 24
        sel = year == y
        m = month[sel] - 1
        out[sel] = (
            n_hours * prof.month[m] * prof.weekday[day[sel]] * prof.hour[hour[sel]] / per_month[m]
        )
    return out


@with_options(ProfileOptions, _PROFILE_DEFAULTS)
def hourly_emissions(
    total: float, sector: str, times: npt.ArrayLike, **options: Unpack[ProfileOptions]
) -> np.ndarray:
    """The amount emitted in each hour of `times` from an annual `total` of one year.

    ``total * f(t) / N_year``, with ``f`` the factors of :func:`hourly_factors`: summed over
    the hours of the calendar year, the amounts give back `total` to round-off (1e-12
    relative).

    Parameters
    ----------
    total : float
        The annual total, in any unit (the amounts are in the same unit per hour).
    sector, times, **options
        As for :func:`hourly_factors`.

    Returns
    -------
    numpy.ndarray
        The amount of each hour of `times`.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2024-01-01", "2024-12-31 23:00", freq="h")  # leap year
    >>> round(float(hourly_emissions(100.0, "C", t).sum()), 9)
    100.0
    """
    prof, t = _profile_times(sector, times, options, "hourly_emissions")
    n_hours = np.where(t.is_leap_year, 8784.0, 8760.0)
    return float(total) * _factors(prof, t) / n_hours
