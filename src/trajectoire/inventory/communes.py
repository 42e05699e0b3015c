"""Commune-level inputs keyed by INSEE code: populations and emission inventories.

* :func:`read_commune_population` joins a population table (INSEE legal populations, wide
  ``pmun_2016 .. pmun_2023`` or long ``code, year, population``) to commune polygons and
  returns the zones of :func:`trajectoire.inventory.read_zones` with one ``pop_<year>``
  column per census, ready for :func:`trajectoire.inventory.census_population`;
* :func:`read_commune_inventory` reads the commune totals that the regional air-quality
  observatories (AASQA: Atmo Hauts-de-France, Atmo Auvergne-Rhône-Alpes, Airparif...)
  publish per commune, sector and pollutant, with French sector names mapped to GNFR
  (:data:`FRENCH_SECTORS`), and returns what :func:`trajectoire.inventory.read_area_totals`
  returns.

INSEE commune codes (« code officiel géographique ») are 5-character strings: two
characters of département (``01`` .. ``95``, ``2A``/``2B`` for Corsica, ``97x`` overseas)
and three of commune. Leading zeros are kept (``01001``); a code read as a number by a
spreadsheet (``1001``) is padded back to five digits.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Unpack

import numpy as np
import pandas as pd

from trajectoire._validate import rows_preview, values_at
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    warn,
)
from trajectoire.geo.territories import valid_polygons
from trajectoire.inventory.gridded import _sector_mapping
from trajectoire.inventory.proxies import _census_columns
from trajectoire.inventory.readers import (
    _is_csv,
    _read_shapes,
    _read_table,
    read_area_totals,
    read_zones,
)
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import known_species, normalise_pollutant
from trajectoire.tables import (
    Provenance,
    blank_cell,
    choose_layer,
    columns_option,
    keyword_options,
    numeric_column,
    option_table,
    read_table,
    with_options,
)
from trajectoire.units import annual_total_factor

__all__ = [
    "FRENCH_POLLUTANTS",
    "FRENCH_SECTORS",
    "MAX_COMMUNE_POPULATION",
    "insee_code",
    "read_commune_inventory",
    "read_commune_population",
]

log = logging.getLogger("trajectoire")

_INSEE = re.compile(r"(?:(?!00)\d{5}|2[AB]\d{3})")  # no département 00 ('59' -> '00059')
_DIGITS = re.compile(r"\d{1,5}(?:\.0*)?")

#: French sector labels of the observatories' commune inventories (SECTEN level 1, as the
#: PCAET regulation asks: arrêté du 4 août 2016, and the usual sub-sector labels), mapped to
#: GNFR. Keys are compared in lower case, without accents, blanks collapsed. The grouping is a
#: choice where SECTEN is wider than one GNFR sector: "Autres transports" (rail, river, sea,
#: air, off-road) goes to ``I_OffRoad`` and "Agriculture" (crops and livestock) to
#: ``L_AgriOther``; say otherwise with ``sector_mapping`` (e.g. ``{"Autres transports":
#: "G_Shipping"}`` where ports dominate). ``"drop"`` leaves a sector out (with a warning), for
#: the "émetteurs non inclus dans le total" (biogenic and other sources outside the totals).
FRENCH_SECTORS: dict[str, str] = {
    "residentiel": "C_OtherStationaryComb",
    "tertiaire": "C_OtherStationaryComb",
    "residentiel-tertiaire": "C_OtherStationaryComb",
    "residentiel et tertiaire": "C_OtherStationaryComb",
    "residentiel / tertiaire": "C_OtherStationaryComb",
    "transport routier": "F_RoadTransport",
    "transports routiers": "F_RoadTransport",
    "routier": "F_RoadTransport",
    "autres transports": "I_OffRoad",
    "transport non routier": "I_OffRoad",
    "transports non routiers": "I_OffRoad",
    "ferroviaire": "I_OffRoad",
    "transport ferroviaire": "I_OffRoad",
    "transport fluvial": "G_Shipping",
    "transport maritime": "G_Shipping",
    "maritime": "G_Shipping",
    "fluvial": "G_Shipping",
    "transport aerien": "H_Aviation",
    "aerien": "H_Aviation",
    "agriculture": "L_AgriOther",
    "agriculture, sylviculture et aquaculture": "L_AgriOther",
    "agriculture/sylviculture": "L_AgriOther",
    "cultures": "L_AgriOther",
    "elevage": "K_AgriLivestock",
    "agriculture - elevage": "K_AgriLivestock",
    "agriculture - cultures": "L_AgriOther",
    "industrie (hors branche energie)": "B_Industry",
    "industrie hors branche energie": "B_Industry",
    "industrie manufacturiere": "B_Industry",
    "industrie manufacturiere, construction": "B_Industry",
    "industrie": "B_Industry",
    "branche energie": "A_PublicPower",
    "industrie de l'energie": "A_PublicPower",
    "industrie de l'energie (production et distribution)": "A_PublicPower",
    "production d'energie": "A_PublicPower",
    "energie": "A_PublicPower",
    "extraction, transformation et distribution d'energie": "A_PublicPower",
    "transformation d'energie": "A_PublicPower",
    "dechets": "J_Waste",
    "traitement des dechets": "J_Waste",
    "gestion des dechets": "J_Waste",
    "traitement centralise des dechets": "J_Waste",
    "utilisation de solvants": "E_Solvents",
    "solvants": "E_Solvents",
    "autres": "M_Other",
    "autres sources": "M_Other",
    "emetteurs non inclus": "drop",
    "emetteurs non inclus dans le total": "drop",
    "hors total": "drop",
    "sources biotiques": "drop",
    "sources naturelles": "drop",
}

#: French pollutant labels of those exports, mapped to the library's ids (lower case,
#: without accents). Other labels go through :func:`trajectoire.species.normalise_pollutant`.
FRENCH_POLLUTANTS: dict[str, str] = {
    "oxydes d'azote": "NOx",
    "oxydes d'azote (nox)": "NOx",
    "nox (eq. no2)": "NOx",
    "dioxyde d'azote": "NO2",
    "dioxyde de soufre": "SO2",
    "so2": "SO2",
    "ammoniac": "NH3",
    "particules pm10": "PM10",
    "pm 10": "PM10",
    "particules pm2.5": "PM2.5",
    "particules pm2,5": "PM2.5",
    "particules fines pm2.5": "PM2.5",
    "pm2,5": "PM2.5",
    "pm 2,5": "PM2.5",
    "pm 2.5": "PM2.5",
    "covnm": "NMVOC",
    "cov nm": "NMVOC",
    "composes organiques volatils non methaniques": "NMVOC",
}

_POP_KEYS = ("code", "year", "population")
_POP_ALIASES = {
    "year": ("year", "annee", "année"),
    "population": ("population", "pmun", "pop"),
}
_INV_KEYS = ("code", "sector", "pollutant", "value", "unit", "year")
_INV_ALIASES = {
    "code": ("code_insee", "insee", "insee_com", "code_commune", "codgeo", "insee_cog2026"),
    "sector": ("secteur", "nom_secteur", "lib_secteur", "secteur_activite", "sector"),
    "pollutant": ("polluant", "nom_polluant", "lib_polluant", "pollutant"),
    "value": ("valeur", "emission", "emissions", "val", "value"),
    "unit": ("unite", "unité", "unit", "units"),
    "year": ("annee", "année", "annee_inv", "year"),
}


# ----------------------------------------------------------------------------- helpers
def _key(config_key: str | None, option: str = "") -> str:
    """The input's configuration key, or the TOML spelling of its key `option`
    (:func:`~trajectoire.errors.config_option`); the reader's options without one."""
    if not option:
        return config_key or "the reader's options"
    return config_option(config_key, option, default=f"the reader's options {option}")


def _fold(text: Any) -> str:
    """Lower case, accents removed, blanks collapsed: the key of the French vocabularies."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return " ".join(s.lower().replace("’", "'").split())


def insee_code(value: Any) -> str | None:
    """The 5-character INSEE commune code of `value`, or None when it is not one.

    Integers and integral floats are padded (``1001 -> "01001"``, ``59350.0 -> "59350"``);
    strings are stripped and upper-cased (``"2a004" -> "2A004"``). No département is
    ``00``: a padded code that would start with it (``59``, a département) is not one.

    Examples
    --------
    >>> insee_code(1001), insee_code(" 59350 "), insee_code("2a004"), insee_code("60054+60694")
    ('01001', '59350', '2A004', None)
    >>> insee_code(59), insee_code("62")
    (None, None)
    """
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        s = f"{int(value):05d}"
    elif isinstance(value, float | np.floating):
        if float(value) != int(value):
            return None
        s = f"{int(value):05d}"
    else:
        s = str(value).strip().upper()
        if _DIGITS.fullmatch(s):
            s = f"{int(float(s)):05d}"
    return s if _INSEE.fullmatch(s) else None


def _pick(
    df: pd.DataFrame,
    key: str,
    given: Mapping[str, str],
    aliases: Sequence[str],
    name: str,
    config_key: str | None,
    *,
    required: bool,
) -> str | None:
    """The file column of canonical `key`: the one `given`, else the first alias present."""
    if key in given:
        col = given[key]
        if col not in df.columns:
            raise MissingVariableError(
                f"{name}: no column {col!r} (columns.{key}); found {list(df.columns)}. Set "
                f'{_key(config_key, f"columns.{key}")} = "<your column>".'
            )
        return col
    found = [a for a in aliases if a in df.columns]
    if found:
        return found[0]
    lower = {str(c).lower(): c for c in df.columns}
    for a in aliases:
        if a in lower:
            return str(lower[a])
    if required:
        raise MissingVariableError(
            f"{name}: no {key} column (looked for {list(aliases)}); found {list(df.columns)}. "
            f'Set {_key(config_key, f"columns.{key}")} = "<your column>".'
        )
    return None


def _code_column_check(
    frame: pd.DataFrame, column: str, name: str, key: str, config_key: str | None
) -> None:
    """Refuse a code column most of whose values are not INSEE commune codes (the wrong
    column named by `key`), naming the key, some values and a column that holds codes."""
    values = frame[column]
    bad = [v for v in values if insee_code(v) is None]
    if not len(values) or 2 * len(bad) <= len(values):
        return
    distinct = list(dict.fromkeys(str(v) for v in bad))
    shown = rows_preview([repr(v) for v in distinct], 5)

    def codes_share(c: Any) -> float:
        try:
            found = [insee_code(v) for v in frame[c]]
        except (TypeError, ValueError):
            return 0.0
        unique = len({f for f in found if f is not None})
        return unique / len(found) if len(found) else 0.0

    others = [
        str(c) for c in frame.columns if c != column and c != "geometry" and codes_share(c) > 0.9
    ]
    hint = f" ({', '.join(repr(c) for c in others[:3])} looks like one)" if others else ""
    raise InputError(
        f"{name}, column {column!r} ({_key(config_key, key)}): its values do not look like "
        f"INSEE commune codes: {shown} ({len(bad)} of {len(values)} rows); expected 5 "
        f"characters such as '59350' or '2A004'. Set {_key(config_key, key)} to the column "
        f"of commune codes{hint}."
    )


def _report(message: str, policy: str, config_key: str | None, fix: str) -> None:
    if policy == "raise":
        raise InputError(f"{message} {fix}")
    log.info(message)
    warn(f'{message} Set {_key(config_key, "unmatched")} = "raise" to make this an error.')


def _check_choice(value: Any, choices: Sequence[Any], option: str, config_key: str | None) -> None:
    if value not in choices:
        raise ConfigError(
            f"{option} must be one of {list(choices)}, got {value!r}. Fix "
            f"{_key(config_key, option)}."
        )


# ------------------------------------------------------------------------- population
def _population_rows(
    source: Any,
    code: str,
    given: Mapping[str, str],
    *,
    layout: str | None,
    prefix: str | None,
    duplicates: str,
    config_key: str | None,
) -> tuple[pd.DataFrame, str]:
    """The table as long rows ``code`` (raw), ``insee`` (normalised or None), ``year``,
    ``population`` (NaN where empty); and its name for messages."""
    if isinstance(source, pd.DataFrame):
        name, df, lines = "population table", source.reset_index(drop=True), False
    else:
        name = str(source)
        code_col = given.get("code", code)
        df = read_table(
            source, what=name, dtype={code_col: str}, require_rows=True, config_key=config_key
        )
        lines = True
    picked = _pick(
        df, "code", given, (code, *_INV_ALIASES["code"]), name, config_key, required=True
    )
    assert picked is not None
    code_col = picked
    _code_column_check(
        df, code_col, name, "columns.code" if "code" in given else "code", config_key
    )
    year_col = population_col = None
    chosen = given.get("population")
    if "year" in given and given["year"] not in df.columns:
        _year_on_wide(df, code_col, given["year"], name, config_key)
    if layout != "wide":
        year_col = _pick(df, "year", given, _POP_ALIASES["year"], name, config_key, required=False)
        if layout is None and chosen is not None and chosen not in df.columns and not year_col:
            # a wide table given a long table's name, or the prefix: say what to set
            _one_census(df, code_col, chosen, name, lines, config_key)
        population_col = _pick(
            df, "population", given, _POP_ALIASES["population"], name, config_key, required=False
        )
    if layout == "long" and (year_col is None or population_col is None):
        _pick(df, "year", given, _POP_ALIASES["year"], name, config_key, required=True)
        _pick(df, "population", given, _POP_ALIASES["population"], name, config_key, required=True)
    if year_col is not None and population_col is not None:
        years = numeric_column(df, year_col, what=name, config_key=config_key, lines=lines)
        pop = _inhabitants(df, population_col, name, lines, config_key)
        rows = pd.DataFrame(
            {"code": df[code_col].to_numpy(), "year": years.astype(int), "population": pop}
        )
        rows["line"] = np.arange(len(df)) + 2
        rows["column"] = population_col
    elif chosen is not None:  # one census column of a wide table
        rows = _one_census(df, code_col, chosen, name, lines, config_key)
    else:
        rows = _wide_rows(df, code_col, prefix, name, lines, config_key)
    rows["insee"] = [insee_code(v) for v in rows["code"]]
    negative = rows["population"] < 0
    if negative.any():
        found = _populations_at(rows[negative], lines, "{:g}")
        raise InputError(
            f"{name}: negative population(s) {rows_preview(found, 4)}; expected inhabitants "
            f">= 0. Fix the file named by {_key(config_key)}."
        )
    _check_scale(rows, name, lines, config_key)
    _check_plausible(rows, name, lines, config_key)
    ok = rows[rows["insee"].notna()]
    dup = ok[ok.duplicated(["insee", "year"], keep=False)]
    if len(dup) and duplicates == "raise":
        pairs = [
            f"{c} in {y}"
            for c, y in dup.drop_duplicates(["insee", "year"])[["insee", "year"]].to_numpy()
        ]
        raise InputError(
            f"{name}: {len(dup)} rows share a (commune, year) with another row: "
            f"{rows_preview(pairs)} (lines {rows_preview(list(dup['line']))}). Set "
            f'{_key(config_key, "duplicates")} = "sum" when several rows belong to one commune '
            "(merged communes keyed by today's code), or fix the code column."
        )
    return rows, name


def _populations_at(bad: pd.DataFrame, lines: bool, number: str) -> list[str]:
    """The rows of `bad` as a message names them: ``"-5 for 59350 in 2019 (column 'p19',
    line 4)"``, the population written with the format `number`."""
    where = "line" if lines else "row"
    return [
        f"{number.format(p)} for {c} in {y} (column {col!r}, {where} {ln})"
        for p, c, y, col, ln in bad[["population", "code", "year", "column", "line"]].to_numpy()
    ]


def _check_scale(rows: pd.DataFrame, name: str, lines: bool, config_key: str | None) -> None:
    """A population column most of whose values are below one inhabitant (written in
    thousands) is an error naming the column and some values: no French commune but a
    handful (the villages « morts pour la France », 0) has fewer than one inhabitant."""
    for column, part in rows.groupby("column", sort=False):
        pop = part["population"].to_numpy(dtype=float)
        positive = np.isfinite(pop) & (pop > 0)
        small = positive & (pop < 1)
        if not positive.any() or 2 * int(small.sum()) <= int(positive.sum()):
            continue
        found = _populations_at(part[small], lines, "{:g}")
        raise InputError(
            f"{name}, column {column!r}: {int(small.sum())} of {int(positive.sum())} "
            f"populations are below one inhabitant ({rows_preview(found, 3)}): thousands of "
            "inhabitants? Expected inhabitants (INSEE population municipale, whole numbers; "
            "the median French commune has some 450). Write the column in inhabitants (the "
            f"file named by {_key(config_key)})."
        )


def _check_plausible(rows: pd.DataFrame, name: str, lines: bool, config_key: str | None) -> None:
    """One line for a commune population above :data:`MAX_COMMUNE_POPULATION` (more people
    than in Paris) and for a census year after the current year (a census not yet taken):
    each named with the commune, the column and the value."""
    pop = rows["population"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(pop) & (pop > MAX_COMMUNE_POPULATION)
    if huge.any():
        found = _populations_at(rows[huge], lines, "{:,.0f}")
        raise InputError(
            f"{name}: population(s) {rows_preview(found, 4)} above {MAX_COMMUNE_POPULATION:,} "
            "inhabitants, more than any French commune has (Paris: some 2.1 million); "
            "expected the INSEE population municipale of each commune, in inhabitants. Fix "
            f"the value in the file named by {_key(config_key, 'table')} (a census written in "
            "another unit, or digits added?)."
        )
    this_year = date.today().year
    future = rows["year"].to_numpy() > this_year
    if future.any():
        bad = rows[future].drop_duplicates(["year", "column"])
        found = [f"{y} (column {col!r})" for y, col in bad[["year", "column"]].to_numpy()]
        raise InputError(
            f"{name}: census year(s) {rows_preview(found, 4)} after the current year "
            f"{this_year}: a census not yet taken; expected the years of published INSEE "
            f"censuses. Fix the column name or the year, or remove the column from the file "
            f"named by {_key(config_key, 'table')}."
        )


def _inhabitants(
    df: pd.DataFrame, col: str, name: str, lines: bool, config_key: str | None
) -> np.ndarray:
    """The population column `col` as numbers of inhabitants (NaN where empty)."""
    return numeric_column(
        df, col, what=name, config_key=config_key, allow_nan=True, units="inhabitants", lines=lines
    )


def _yearly_columns(df: pd.DataFrame, code_col: str) -> dict[str, dict[int, str]]:
    """The families of yearly columns ``<prefix><four-digit year>`` of a table: prefix ->
    {year: column}."""
    groups: dict[str, dict[int, str]] = {}
    for c in df.columns:
        m = re.fullmatch(r"(.*?)(\d{4})", str(c))
        if m and c != code_col and 1700 <= int(m.group(2)) <= 2200:
            groups.setdefault(m.group(1), {})[int(m.group(2))] = str(c)
    return groups


def _census_advice(groups: dict[str, dict[int, str]], key: str, leave: str) -> tuple[str, str]:
    """The census columns of a wide table's widest family (`groups`:
    :func:`_yearly_columns`), shown, and what to set instead of the key `leave` that does
    not fit such a table: leave it out (or set the prefix), or name one census column."""
    prefix, by_year = max(groups.items(), key=lambda kv: len(kv[1]))
    census = [by_year[y] for y in sorted(by_year)]
    instead = (
        f"Leave {leave} out to read every census column (or set "
        f'{_key(key, "prefix")} = "{prefix}"), or name the one census to read: '
        f'{_key(key, "columns.population")} = "{census[-1]}".'
    )
    return rows_preview([repr(c) for c in census], 4), instead


def _year_on_wide(
    df: pd.DataFrame, code_col: str, column: str, name: str, config_key: str | None
) -> None:
    """``columns.year`` names a column that a wide table (one column per census, the year in
    its name) does not have: an error that says the table is wide and what to set instead.
    Returns where the table has no census columns (the caller's usual message then)."""
    groups = _yearly_columns(df, code_col)
    if not groups:
        return
    key = _key(config_key)
    shown, instead = _census_advice(groups, key, "columns.year")
    raise MissingVariableError(
        f"{name}: {_key(key, 'columns.year')} = {column!r} is not a column of this table, which is wide: "
        f"one column per census ({shown}), the year in each column's name. columns.year is "
        f"for a long table (one row per commune and year). {instead}"
    )


def _one_census(
    df: pd.DataFrame, code_col: str, column: str, name: str, lines: bool, config_key: str | None
) -> pd.DataFrame:
    """The rows of the census column `column` of a wide table (``columns.population``; the
    year from its name ``<prefix><year>``), or an error that says what to set instead."""
    groups = _yearly_columns(df, code_col)
    key = _key(config_key)
    given = f"{name}: {_key(key, 'columns.population')} = {column!r}"
    if groups:
        shown, instead = _census_advice(groups, key, "it")
    m = re.fullmatch(r"(.*?)(\d{4})", column)
    if column not in df.columns:
        if not groups:  # neither wide nor long: the usual message
            _pick(df, "population", {"population": column}, (), name, config_key, required=True)
        raise MissingVariableError(
            f"{given} is not a column of this wide table (one census column per year: "
            f"{shown}); columns.population names the population column of a long table (with "
            f"columns.year), or one census column of a wide table. {instead}"
        )
    if m is None or not 1700 <= int(m.group(2)) <= 2200:
        wide = f" (a wide table has one column per census: {shown})" if groups else ""
        raise InputError(
            f"{given} names a column with no census year in its name, and the table has no "
            f"year column{wide}; expected '<prefix><year>' such as 'pmun_2021'. "
            + (f"{instead} " if groups else "")
            + f"For a long table (one row per commune and year), set {_key(key, 'columns.year')} too."
        )
    year = int(m.group(2))
    others = sorted(c for c in groups.get(m.group(1), {}).values() if c != column)
    log.info(
        "%s: columns.population = %r: the census %d only (the other census columns %s are "
        "not read)",
        name,
        column,
        year,
        others,
    )
    return pd.DataFrame(
        {
            "code": df[code_col].to_numpy(),
            "year": year,
            "population": _inhabitants(df, column, name, lines, config_key),
            "line": np.arange(len(df)) + 2,
            "column": column,
        }
    )


def _fold_prefix(prefix: str) -> str:
    """A prefix without case, blanks and punctuation (``"PMUN_"``, ``"pmun"`` -> ``"pmun"``)."""
    return re.sub(r"[^0-9a-z]", "", prefix.lower())


def _several_families(groups: dict[str, dict[int, str]], name: str, config_key: str | None) -> None:
    """One line for a wide table with several families of yearly columns: where a family
    differs from a wider one only by case or punctuation (``pmun2023`` beside ``pmun_2016``
    ..), the column is a misspelling to rename (the prefix of either family would leave
    years out); else the prefix to set, the population family's (``pmun``, ``pop``...)
    first, then the widest."""
    key = _key(config_key)
    shown = {k: sorted(v) for k, v in groups.items()}
    widest = max(groups, key=lambda k: (len(groups[k]), k))
    typos = [
        (col, widest)
        for prefix, by_year in groups.items()
        if prefix != widest and _fold_prefix(prefix) == _fold_prefix(widest)
        for col in by_year.values()
    ]
    if typos:
        said = ", ".join(f"{col!r} (rename it '{wide}{col[-4:]}')" for col, wide in typos)
        raise InputError(
            f"{name}: census column(s) {said} are spelt otherwise than the other census "
            f"columns {sorted(groups[widest].values())}; expected one spelling "
            f"'<prefix><year>' for every census. Rename the column(s) in the file named by "
            f'{_key(key, "table")} (setting {_key(key, "prefix")} = "{widest}" would leave '
            f"{sorted(y for p, g in groups.items() if p != widest for y in g)} out)."
        )
    population = [p for p in groups if _fold_prefix(p).startswith(("pmun", "pop", "ptot"))]
    chosen = (
        population[0]
        if len(population) == 1
        else max(population or list(groups), key=lambda k: (len(groups[k]), k))
    )
    raise InputError(
        f"{name}: several families of yearly columns {sorted(groups)} ({shown}); expected one "
        f'family of census columns. Set {_key(key, "prefix")} = "{chosen}" (or the prefix of the '
        "population family)."
    )


def _wide_rows(
    df: pd.DataFrame,
    code_col: str,
    prefix: str | None,
    name: str,
    lines: bool,
    config_key: str | None,
) -> pd.DataFrame:
    if prefix is not None:
        by_year = _census_columns(df.columns, prefix)
        if not by_year:
            raise MissingVariableError(
                f"{name}: no column '{prefix}<year>' (prefix = {prefix!r}); found "
                f"{list(df.columns)}. Fix {_key(config_key, 'prefix')}."
            )
    else:
        groups = _yearly_columns(df, code_col)
        if not groups:
            raise MissingVariableError(
                f"{name}: neither a long layout (a year and a population column, e.g. 'annee', "
                f"'pmun') nor census columns '<prefix><year>' (e.g. 'pmun_2016'); found "
                f"{list(df.columns)}. Set {_key(config_key, 'columns.year')} and "
                "columns.population, or prefix."
            )
        if len(groups) > 1:
            _several_families(groups, name, config_key)
        by_year = next(iter(groups.values()))
    parts = []
    for year, col in sorted(by_year.items()):
        pop = _inhabitants(df, col, name, lines, config_key)
        parts.append(
            pd.DataFrame(
                {
                    "code": df[code_col].to_numpy(),
                    "year": year,
                    "population": pop,
                    "line": np.arange(len(df)) + 2,
                    "column": col,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _empty_years(
    rows: pd.DataFrame, name: str, missing: str, config_key: str | None
) -> pd.DataFrame:
    """`rows` without the census years whose population is empty for every commune (a
    column left blank), with a warning that names them (an error when `missing` is
    ``"raise"``): without it, the year would drop out of the zones unsaid."""
    filled = rows[rows["population"].notna()]
    empty = sorted(set(rows["year"]) - set(filled["year"]))
    if not empty:
        return rows
    gone = rows[rows["year"].isin(empty)]
    found = [
        f"{y} (column {c!r} of {t})"
        for y, c, t in gone[["year", "column", "table"]].drop_duplicates().to_numpy()
    ]
    msg = (
        f"{name}: census year(s) {rows_preview(found, 4)} have no population for any "
        "commune (the column is empty)"
    )
    if missing == "raise":
        raise InputError(
            f"{msg}; expected inhabitants. Fill the column or remove it, or set "
            f'{_key(config_key, "missing")} = "warn" to leave the year(s) out.'
        )
    warn(
        f"{msg}; left out. Fill the column or remove it; set {_key(config_key, 'missing')} = "
        '"raise" to make this an error.',
        stacklevel=3,
    )
    return rows[~rows["year"].isin(empty)]


def _backcast(
    wide: pd.DataFrame, years: Sequence[int], before_first: str | float
) -> dict[int, pd.Series]:
    """Populations of the `years` before the first census, by commune."""
    first, last = int(wide.columns.min()), int(wide.columns.max())
    p0 = wide[first]
    if isinstance(before_first, str):  # "trend": each commune's own rate first -> last census
        if last == first:
            raise InputError(
                f'before_first = "trend" needs two census years; the table has only {first}.'
            )
        p1 = wide[last]
        ratio = np.where((p0 > 0) & (p1 > 0), p1 / p0.where(p0 > 0, 1.0), 1.0)
        rate = pd.Series(ratio ** (1.0 / (last - first)) - 1.0, index=wide.index)
    else:
        rate = pd.Series(float(before_first), index=wide.index)
    return {y: p0 * (1.0 + rate) ** (y - first) for y in years}


MAX_COMMUNE_POPULATION = 3_000_000
"""Largest population of one commune taken [inhabitants]: Paris, the largest French commune,
has some 2.1 million (INSEE, population municipale 2021: 2 133 111); a value above is a
slip (a census written in another unit, digits added) and is an error naming the commune,
the column and the value."""


BEFORE_FIRST_RATE = 0.05
"""Largest annual growth rate (either sign) taken by ``before_first``: one rate for every
commune, and 5 % a year is far beyond the mean rate of any French region since 1962 (the
59/60/62 communes: +0.1 % a year 2016-2023); a percent written for a fraction (0.4 for
+0.4 %) falls outside, as do rates of -1 or less (infinite or negative populations)."""
BACKCAST_FACTOR = 2.0
"""Factor between the communes' total in a year made by ``before_first`` and at the first
census beyond which a warning is given."""


def _check_backcast(
    made: Mapping[int, pd.Series],
    first: pd.Series,
    first_year: int,
    before_first: str | float,
    tables_name: str,
    config_key: str | None,
) -> None:
    """The populations made before the first census: finite (else an error naming
    `before_first`), and a warning when their total departs from the first census's by more
    than :data:`BACKCAST_FACTOR`."""
    total0 = float(first.sum())
    worst: tuple[float, int, float] | None = None
    for year, values in made.items():
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise ConfigError(
                f"{tables_name}: {_key(config_key, 'before_first')} = {before_first!r} gives "
                f"populations that are not finite numbers in {year} (carried back from the "
                f"census {first_year}); give a table of older censuses, or drop {year} from "
                f"{_key(config_key, 'years')}."
            )
        total = float(values.sum())
        if total0 > 0 and total > 0:
            factor = max(total / total0, total0 / total)
            if factor > BACKCAST_FACTOR and (worst is None or factor > worst[0]):
                worst = (factor, year, total)
    if worst is not None:
        factor, year, total = worst
        warn(
            f"{tables_name}: {_key(config_key, 'before_first')} = {before_first!r} makes the "
            f"communes' population {total:,.0f} in {year}, {factor:.3g} times "
            f"{'more' if total > total0 else 'less'} than at the census {first_year} "
            f"({total0:,.0f}); check the rate, or give a table of older censuses.",
            stacklevel=3,
        )


@with_options(Provenance)
def read_commune_population(
    polygons: Any,
    *,
    table: Any,
    code: str = "insee",
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    layout: Literal["wide", "long"] | None = None,
    prefix: str | None = None,
    years: Sequence[int] | None = None,
    before_first: str | float = "hold",
    duplicates: Literal["raise", "sum"] = "raise",
    missing: Literal["warn", "raise"] = "warn",
    unmatched: Literal["warn", "raise"] = "warn",
    repair: bool = False,
    **options: Unpack[Provenance],
) -> Any:
    """Commune polygons with their census populations ``pop_<year>``, joined by INSEE code.

    Parameters
    ----------
    polygons : path or GeoDataFrame
        Commune polygons with a CRS (GeoPackage, Shapefile...), e.g. IGN ADMIN EXPRESS
        (https://geoservices.ign.fr/adminexpress) or ``communes_59_60_62.gpkg`` (layer
        ``communes_cog2026``). The code column may hold strings or integers.
    table : path, DataFrame or list of them
        Population table(s), INSEE « populations légales » by commune
        (https://www.insee.fr/fr/statistiques/8680726 and the earlier millésimes):
        *wide*, one column per census year with a common prefix (``pmun_2016`` ..
        ``pmun_2023``); or *long*, one row per (commune, year) with columns ``year``
        (or ``annee``) and ``population`` (or ``pmun``). Several tables add their years (a
        table of older censuses beside a recent one); a year found in two tables is an error.
    code : str, default "insee"
        Column of the INSEE code in the polygons, and in the tables unless
        ``columns.code`` says otherwise.
    columns : mapping, optional
        Columns of the table(s): ``code``, ``year``, ``population`` (canonical name -> the
        column in the file). On a wide table (no year column), ``population`` names the one
        census column to read (``"pmun_2021"``: the census of 2021 only, its year from the
        name; the other census columns are not read); a name that is not a census column
        of the table (the prefix ``"pmun"``, a long table's ``"population"``) is an error
        that says to leave it out or set `prefix`.

        .. versionchanged:: Unreleased
           ``population`` on a wide table was ignored (every census column read).
    layer : str, optional
        Layer of the polygon file.
    repair : bool, default False
        Repair invalid polygons (:func:`trajectoire.geo.territories.valid_polygons`, a
        warning lists them) instead of raising.
    layout : {"wide", "long"}, optional
        Layout of the table(s); default: long when a year and a population column are
        found, else wide.
    prefix : str, optional
        Prefix of the wide census columns (``"pmun_"``); default: the one family of
        ``<prefix><four-digit year>`` columns of the table.
    years : sequence of int, optional
        Census years to keep (default: all). Years before the first census of the tables
        are made by `before_first`; other years missing from the tables are an error.
    before_first : "hold", "trend" or float, default "hold"
        Population before the first census year given (a rate: within +/-
        :data:`BEFORE_FIRST_RATE`, 5 % a year; a total that the rate or trend changes by
        more than a factor 2 from the first census is warned about). ``"hold"``: nothing is added, and
        :func:`trajectoire.inventory.population_at` holds the first census constant before
        it (it interpolates linearly between censuses and holds the first/last one
        outside). ``"trend"``: each commune's own compound annual rate between the first
        and the last census of the tables, carried back to the earlier `years` (a strong
        assumption over decades: prefer an older census table where one exists). A number:
        one annual growth rate for every commune (``0.004`` = +0.4 % a year), carried back
        the same way. Between an added year and the first census,
        :func:`~trajectoire.inventory.population_at` interpolates linearly: over 26 years
        that departs from the compound curve by at most 0.13 % for a rate of 0.4 % a year,
        0.8 % for 1 % a year (ask for intermediate years too to follow it closer).
    duplicates : {"raise", "sum"}, default "raise"
        Several rows for one (commune, year): an error, or summed (a long table keyed by
        today's commune, where merged communes have one row each).
    missing : {"warn", "raise"}, default "warn"
        A commune with an empty population for some census years: filled by linear
        interpolation in time of its own values (held constant before its first and after
        its last known year) with a warning, or an error. A commune with no value at all
        counts as unmatched.
    unmatched : {"warn", "raise"}, default "warn"
        Communes of the polygons with no population row (left out of the zones returned)
        and population rows with no polygon (not counted): a warning that counts them and
        names the first codes, or an error.
    **options
        `what` (the name of the polygons in messages), `config_key`: see
        :class:`~trajectoire.tables.Provenance`.

    Returns
    -------
    geopandas.GeoDataFrame
        The matched communes as :func:`trajectoire.inventory.read_zones` returns them
        (``zone_id`` = the 5-character INSEE code), in the polygons' CRS, with one float
        column ``pop_<year>`` [inhabitants] per census year, increasing; ``attrs`` holds
        ``census_years`` and ``population_source``.

    Raises
    ------
    trajectoire.MissingVariableError
        A code, year or population column is missing.
    trajectoire.InputError
        Invalid or duplicated codes in the polygons, negative populations, a population
        column most of whose values are below one inhabitant (thousands), a census column
        empty for every commune when `missing` is ``"raise"`` (else a warning, and the year
        is left out), duplicated (commune, year) rows, unmatched codes or missing values when asked to raise,
        requested years not in the tables, polygons that already carry a ``pop_<year>``
        column of the tables.
    trajectoire.ConfigError
        Unknown keys in `columns`, bad option values.
    TypeError
        A keyword that is neither a parameter nor one of
        :class:`~trajectoire.tables.Provenance`.

    Examples
    --------
    >>> import geopandas as gpd, shapely, pandas as pd
    >>> polys = gpd.GeoDataFrame({"insee": [59350, 1001]}, crs="EPSG:2154",
    ...     geometry=[shapely.box(700_000, 7_000_000, 701_000, 7_001_000),
    ...               shapely.box(701_000, 7_000_000, 702_000, 7_001_000)])
    >>> pop = pd.DataFrame({"insee": ["59350", "01001"], "pmun_2016": [232_787, 779],
    ...                     "pmun_2023": [238_246, 832]})
    >>> z = read_commune_population(polys, table=pop)
    >>> z[["zone_id", "pop_2016", "pop_2023"]].values.tolist()
    [['59350', 232787.0, 238246.0], ['01001', 779.0, 832.0]]
    """
    named = keyword_options(Provenance, "read_commune_population", options)
    what, config_key = named["what"], named["config_key"]
    name = what or (str(polygons) if isinstance(polygons, str | PathLike) else "communes")
    _check_choice(duplicates, ("raise", "sum"), "duplicates", config_key)
    _check_choice(missing, ("warn", "raise"), "missing", config_key)
    _check_choice(unmatched, ("warn", "raise"), "unmatched", config_key)
    _check_choice(layout, (None, "wide", "long"), "layout", config_key)
    if not (
        before_first in ("hold", "trend")
        or (isinstance(before_first, int | float) and not isinstance(before_first, bool))
    ):
        raise ConfigError(
            f'before_first must be "hold", "trend" or an annual growth rate (e.g. 0.004), got '
            f"{before_first!r}. Fix {_key(config_key, 'before_first')}."
        )
    if not isinstance(before_first, str) and not (
        -BEFORE_FIRST_RATE <= float(before_first) <= BEFORE_FIRST_RATE
    ):
        raise ConfigError(
            f"{_key(config_key, 'before_first')} = {before_first!r}: an annual growth rate must lie "
            f"in [{-BEFORE_FIRST_RATE:g}, {BEFORE_FIRST_RATE:g}] (-5 % to +5 % a year, one rate "
            "for every commune; 0.004 is +0.4 % a year). A rate of -1 or less gives infinite "
            "or negative populations before the first census, and one of -0.5 multiplies "
            "them by 2 each year back. Fix the rate (a fraction, not a percent), or use "
            '"trend" or a table of older censuses.'
        )
    given = columns_option(columns, _POP_KEYS, what=name, config_key=config_key)

    # polygons, with their codes normalised
    if isinstance(polygons, str | PathLike) and layer is not None and Path(polygons).exists():
        # a layer the file lacks: one message that names the configuration key to set
        layer = choose_layer(polygons, layer, what=name, config_key=config_key)
    try:
        gdf = _read_shapes(
            polygons,
            name,
            layer,
            "communes",
            "polygon",
            ("Polygon", "MultiPolygon"),
            id_column=code,
            id_kind="commune",
            config_key=config_key,
        )
    except InputError as exc:
        if config_key and option_table(config_key) in str(exc):  # says its fix already
            raise
        raise type(exc)(f"{exc} (input {_key(config_key)}: set its layer or path.)") from None
    if code not in gdf.columns:
        raise MissingVariableError(
            f"{name}: no code column {code!r}; found {list(gdf.columns)}. Set "
            f'{_key(config_key, "code")} = "<the INSEE code column>".'
        )
    _code_column_check(gdf, code, name, "code", config_key)
    codes = [insee_code(v) for v in gdf[code]]
    bad = [f"row {i}: {gdf[code].iloc[i]!r}" for i, c in enumerate(codes) if c is None]
    if bad:
        raise InputError(
            f"{name}, column {code!r}: {len(bad)} value(s) are not INSEE commune codes "
            f"({rows_preview(bad)}); expected 5 characters such as '59350' or '2A004'. Fix "
            f"the file or {_key(config_key, 'code')}."
        )
    gdf = gdf.assign(**{code: codes})
    gdf = gdf.set_geometry(
        valid_polygons(
            gdf.geometry.values, codes, name, repair=repair, config_key=config_key, kind="commune"
        ),  # fmt: skip
        crs=gdf.crs,
    )

    # tables, as long rows
    tables = table if isinstance(table, list | tuple) else [table]
    frames: list[pd.DataFrame] = []
    origin: dict[int, str] = {}
    for t in tables:
        rows, tname = _population_rows(
            t,
            code,
            given,
            layout=layout,
            prefix=prefix,
            duplicates=duplicates,
            config_key=config_key,
        )
        for y in sorted(set(rows["year"])):
            if y in origin:
                raise InputError(
                    f"census year {y} is in two population tables ({origin[y]} and {tname}); "
                    f"give each year once. Fix {_key(config_key, 'table')}."
                )
            origin[int(y)] = tname
        rows["table"] = tname
        frames.append(rows)
    rows = pd.concat(frames, ignore_index=True)
    tables_name = ", ".join(dict.fromkeys(rows["table"]))
    rows = _empty_years(rows, name, missing, config_key)

    zone_codes = set(codes)
    # rows with no polygon (invalid codes included)
    orphan = rows[~rows["insee"].isin(zone_codes)]
    if len(orphan):
        shown = list(dict.fromkeys(str(c) for c in orphan["code"]))
        pop_last = orphan[orphan["year"] == orphan["year"].max()]["population"].sum()
        _report(
            f"{tables_name}: {len(shown)} commune code(s) with no polygon in {name} "
            f"({rows_preview(shown)}); their population is not counted "
            f"({pop_last:,.0f} inhabitants in {int(orphan['year'].max())}).",
            unmatched,
            config_key,
            f'Fix the codes, the polygons, or set {_key(config_key, "unmatched")} = "warn".',
        )
    rows = rows[rows["insee"].isin(zone_codes)]
    wide = (
        rows.pivot_table(
            index="insee", columns="year", values="population", aggfunc=lambda s: s.sum(min_count=1)
        )
        if len(rows)
        else pd.DataFrame()
    )
    wide = wide.dropna(how="all")
    wide.columns = [int(c) for c in wide.columns]
    if wide.empty:
        raise InputError(
            f"{tables_name}: no population row matches a commune of {name} (codes of the "
            f"polygons e.g. {rows_preview(codes[:5])}). Check {_key(config_key, 'code')} and "
            "columns.code."
        )
    # census years kept / made
    available = sorted(int(y) for y in wide.columns)
    wanted = sorted(int(y) for y in years) if years is not None else available
    earlier = [y for y in wanted if y < available[0]]
    absent = [y for y in wanted if y not in available and y >= available[0]]
    if absent or (earlier and before_first == "hold"):
        raise InputError(
            f"{tables_name}: no census for year(s) {absent + earlier} (the tables have "
            f"{available}). Years before {available[0]} need {_key(config_key, 'before_first')} "
            '= "trend" or a growth rate, or a table of older censuses; drop the others from '
            "years (population_at interpolates between censuses)."
        )
    # communes with some years empty
    if wide.isna().any().any():
        holes = wide[wide.isna().any(axis=1)]
        detail = [
            f"{c} ({', '.join(str(y) for y in holes.columns[holes.loc[c].isna()])})"
            for c in holes.index
        ]
        msg = (
            f"{tables_name}: {len(holes)} commune(s) have no population for some census years: "
            f"{rows_preview(detail)}"
        )
        if missing == "raise":
            raise InputError(
                f'{msg}. Fill them, or set {_key(config_key, "missing")} = "warn" to interpolate '
                "them in time."
            )
        wide = wide.T.interpolate(method="index", limit_direction="both").T
        warn(
            f"{msg}; filled by linear interpolation in time of each commune's own values (held "
            f"before its first and after its last year). Set {_key(config_key, 'missing')} = "
            '"raise" to make this an error.'
        )
    if earlier:
        made = _backcast(wide, earlier, before_first)
        _check_backcast(
            made, wide[available[0]], available[0], before_first, tables_name, config_key
        )
        for y, v in made.items():
            wide[y] = v
        log.info(
            "%s: population of %s made from the census %s with before_first=%r",
            tables_name,
            earlier,
            available[0],
            before_first,
        )
    wide = wide[[y for y in wanted]]

    # polygons with no population
    lonely = [c for c in codes if c not in wide.index]
    if lonely:
        _report(
            f"{name}: {len(lonely)} commune(s) of {len(codes)} have no population row in "
            f"{tables_name} ({rows_preview(lonely)}); they are left out of the zones.",
            unmatched,
            config_key,
            f'Fix the table, or set {_key(config_key, "unmatched")} = "warn".',
        )
    gdf = gdf[[c in wide.index for c in codes]]
    clash = [f"pop_{y}" for y in wide.columns if f"pop_{y}" in gdf.columns]
    if clash:
        raise InputError(
            f"{name}: already has column(s) {clash}, also given by {tables_name}; rename or "
            "drop them from the polygons (each census year once)."
        )
    zones = read_zones(gdf, id_column=code, what=name)
    for y in wide.columns:
        zones[f"pop_{y}"] = wide[y].reindex(zones["zone_id"]).to_numpy(dtype=np.float64)
    zones.attrs["census_years"] = [int(y) for y in wide.columns]
    zones.attrs["population_source"] = tables_name
    return zones


# ------------------------------------------------------------------------- inventory
def _label_of(label: Any, table: Mapping[str, str], normalise: Callable[[str], str]) -> str | None:
    """What `table` says of a label (by its :func:`_fold`), else the label through
    `normalise` (:func:`~trajectoire.sectors.normalise_sector` or
    :func:`~trajectoire.species.normalise_pollutant`); None when unknown."""
    key = _fold(label)
    if key in table:
        return table[key]
    try:
        return normalise(str(label))
    except InputError:
        return None


@with_options(Provenance)
def read_commune_inventory(
    path: Any,
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    unit: str | None = "t yr-1",
    layout: Literal["wide", "long"] | None = None,
    year: int | None = None,
    sector_mapping: Mapping[str, str] | None = None,
    pollutant_mapping: Mapping[str, str] | None = None,
    **options: Unpack[Provenance],
) -> pd.DataFrame:
    """Read commune totals per sector and pollutant (an observatory's commune inventory).

    Parameters
    ----------
    path : path or DataFrame
        CSV (any of the encodings and delimiters of :func:`trajectoire.tables.read_table`:
        the exports are often ``;``-separated Windows-1252 with decimal commas) or a vector
        file (its geometry is ignored). *Long* layout: one row per (commune, sector,
        pollutant) with columns ``code_insee``, ``secteur``, ``polluant``, ``valeur`` and
        optionally ``unite`` and ``annee``; *wide* layout: one row per (commune, sector) and
        one column per pollutant (``NOx``, ``PM10``, ``PM2.5``, ``COVNM``...), as the PCAET
        indicators of the AASQA (e.g. Atmo Auvergne-Rhône-Alpes « émissions par commune »,
        kg, SECTEN level 1 sectors; Atmo Hauts-de-France, https://www.atmo-hdf.fr, inventory
        A2M; the Airparif per-territory tables). The exact export columns vary: map yours
        with `columns`.
    columns : mapping, optional
        Canonical name -> column in the file, among ``code``, ``sector``, ``pollutant``,
        ``value``, ``unit``, ``year``. Defaults: the usual French names (``code_insee``,
        ``insee``, ``secteur``, ``polluant``, ``valeur``, ``unite``, ``annee``...).
    layer : str, optional
        Layer of a vector file.
    unit : str, default "t yr-1"
        Units of the values when the file has no unit column: a mass per year, or the
        annual mass (``"kg"``, ``"t"``): see :func:`trajectoire.units.annual_total_factor`.
    layout : {"wide", "long"}, optional
        Default: long when a pollutant column is found, else wide.
    year : int, optional
        Inventory year to keep when the file has a year column with several years.
    sector_mapping : mapping, optional
        Sector label -> GNFR id (or ``"drop"``), added to and overriding
        :data:`FRENCH_SECTORS` (labels compared without case or accents).
    pollutant_mapping : mapping, optional
        Pollutant label -> pollutant id, added to :data:`FRENCH_POLLUTANTS`. Pollutants the
        library does not model (CO, CO2, metals...) are left out with a warning that names
        them.
    **options
        `what`, `config_key`: see :class:`~trajectoire.tables.Provenance`.

    Returns
    -------
    pandas.DataFrame
        As :func:`trajectoire.inventory.read_area_totals`: ``zone_id`` (the 5-character
        INSEE code), ``sector`` (GNFR), ``pollutant``, ``emission`` [t yr-1], ``units``
        (``t yr-1``); rows of one
        commune mapped to the same (sector, pollutant) are summed (``Résidentiel`` and
        ``Tertiaire`` both go to ``C_OtherStationaryComb``).

    Raises
    ------
    trajectoire.MissingVariableError
        A code, sector, pollutant or value column is missing.
    trajectoire.InputError
        Invalid INSEE codes, unknown sector labels (the message lists them and the
        mapping key to set), values that are not numbers or negative, several years without
        `year`.
    trajectoire.UnitsError
        A unit (keyword or column) that is not an annual mass.
    trajectoire.ConfigError
        Unknown keys in `columns` or `sector_mapping` targets that are not GNFR ids.
    TypeError
        A keyword that is neither a parameter nor one of
        :class:`~trajectoire.tables.Provenance`.
    """
    named = keyword_options(Provenance, "read_commune_inventory", options)
    what, config_key = named["what"], named["config_key"]
    name = what or (str(path) if isinstance(path, str | PathLike) else "commune inventory")
    _check_choice(layout, (None, "wide", "long"), "layout", config_key)
    given = columns_option(columns, _INV_KEYS, what=name, config_key=config_key)
    if isinstance(path, pd.DataFrame):
        df, lines = path.reset_index(drop=True), False
    elif not _is_csv(path):
        try:
            df = pd.DataFrame(_read_table(path, layer=layer, what=name))
        except InputError as exc:
            raise type(exc)(f"{exc} (input {_key(config_key)}.)") from None
        df, lines = df.drop(columns=["geometry"], errors="ignore"), False
    else:
        code_hint = given.get("code")
        dtype = {c: str for c in (code_hint, *_INV_ALIASES["code"]) if c}
        df = read_table(path, what=name, dtype=dtype, require_rows=True, config_key=config_key)
        lines = True
    df = df.rename(columns={c: str(c).strip() for c in df.columns})
    code_col = _pick(df, "code", given, _INV_ALIASES["code"], name, config_key, required=True)
    sector_col = _pick(df, "sector", given, _INV_ALIASES["sector"], name, config_key, required=True)
    year_col = _pick(df, "year", given, _INV_ALIASES["year"], name, config_key, required=False)
    unit_col = _pick(df, "unit", given, _INV_ALIASES["unit"], name, config_key, required=False)
    pol_col = None
    if layout != "wide":
        pol_col = _pick(
            df,
            "pollutant",
            given,
            _INV_ALIASES["pollutant"],
            name,
            config_key,
            required=layout == "long",
        )
    assert code_col is not None and sector_col is not None
    line = pd.Series(np.arange(len(df)) + 2 if lines else np.arange(len(df)), index=df.index)
    where = "line" if lines else "row"

    # one inventory year
    if year_col is not None:
        y = numeric_column(df, year_col, what=name, config_key=config_key, lines=lines)
        found = sorted({int(v) for v in y})
        if year is not None:
            if int(year) not in found:
                raise InputError(
                    f"{name}: no row for year {year} in column {year_col!r} (years {found}). "
                    f"Fix {_key(config_key, 'year')}."
                )
            keep = y == int(year)
            df, line = df[keep], line[keep]
        elif len(found) > 1:
            raise InputError(
                f"{name}: column {year_col!r} holds several years {found}; set "
                f"{_key(config_key, 'year')} = {found[-1]} (the inventory year to read)."
            )

    sec_table = {
        **{k: (v if v == "drop" else normalise_sector(v)) for k, v in FRENCH_SECTORS.items()},
        **{_fold(k): v for k, v in _sector_mapping(sector_mapping, config_key, name).items()},
    }
    pol_table = {
        **FRENCH_POLLUTANTS,
        **{_fold(k): v for k, v in (pollutant_mapping or {}).items()},
    }

    # long rows: code, sector label, pollutant label, value, unit, line
    def long_rows(pollutant: Any, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "code": df[code_col].to_numpy(),
                "sector": df[sector_col].to_numpy(),
                "pollutant": pollutant,
                "value": values,
                "unit": df[unit_col].to_numpy() if unit_col else unit,
                "line": line.to_numpy(),
            }
        )

    if pol_col is not None:
        value_col = _pick(
            df, "value", given, _INV_ALIASES["value"], name, config_key, required=True
        )
        assert value_col is not None
        values = numeric_column(
            df, value_col, what=name, config_key=config_key, units=unit, lines=lines
        )
        long = long_rows(df[pol_col].to_numpy(), values)
    else:
        meta = {code_col, sector_col, year_col, unit_col, "geometry"}
        cand = [c for c in df.columns if c not in meta]
        pol_cols = [c for c in cand if _label_of(c, pol_table, normalise_pollutant) is not None]
        if not pol_cols:
            raise MissingVariableError(
                f"{name}: no pollutant column (long layout: 'polluant'; wide layout: one column "
                f"per pollutant such as 'NOx', 'PM10'); found {list(df.columns)}. Set "
                f'{_key(config_key, "columns.pollutant")} = "<your column>".'
            )
        ignored = [c for c in cand if c not in pol_cols]
        if ignored:
            log.info("%s: columns %s are not pollutants: not read", name, ignored)
        parts = []
        for c in pol_cols:
            v = numeric_column(df, c, what=name, config_key=config_key, units=unit, lines=lines)
            parts.append(long_rows(c, v))
        long = pd.concat(parts, ignore_index=True)

    # codes
    long["zone_id"] = [insee_code(v) for v in long["code"]]
    bad = long[long["zone_id"].isna()]
    if len(bad):
        shown = [
            f"{where} {ln}: {c!r}" for ln, c in bad[["line", "code"]].drop_duplicates().to_numpy()
        ]
        raise InputError(
            f"{name}, column {code_col!r}: {bad['line'].nunique()} value(s) are not INSEE commune "
            f"codes ({rows_preview(shown)}); expected 5 characters such as '59350' or '2A004'. "
            f'Fix the file or {_key(config_key, "columns.code")} = "<the INSEE code column>".'
        )
    # sectors
    long["gnfr"] = [_label_of(s, sec_table, normalise_sector) for s in long["sector"]]
    unknown = long[long["gnfr"].isna()]
    if len(unknown):
        labels: dict[str, list[str]] = {}
        for s, n in zip(unknown["sector"], unknown["line"], strict=True):
            labels.setdefault("" if blank_cell(s) else str(s), []).append(f"{where} {n}")
        detail = values_at(labels, len(labels), 8)
        spelled = [k for k in labels if k]
        fix = (
            f'Map them with {_key(config_key, "sector_mapping")} = {{ "{spelled[0]}" = '
            '"B_Industry" } (or "drop")'
            if spelled
            else "Fill in the empty sector cells"
        )
        raise InputError(
            f"{name}, column {sector_col!r}: unknown sector(s) {detail}; expected a French "
            f"observatory sector (FRENCH_SECTORS) or a GNFR id among {list(GNFR)}. {fix}."
        )
    dropped = long[long["gnfr"] == "drop"]
    if len(dropped):
        warn(
            f"{name}: {len(dropped)} row(s) of sector(s) {sorted(set(map(str, dropped['sector'])))} "
            'left out (mapped to "drop": outside the inventory totals).'
        )
    long = long[long["gnfr"] != "drop"]
    # pollutants
    long["pol"] = [_label_of(p, pol_table, normalise_pollutant) for p in long["pollutant"]]
    other = long[long["pol"].isna()]
    if len(other):
        warn(
            f"{name}: {len(other)} value(s) of pollutant(s) "
            f"{sorted({'(empty)' if blank_cell(p) else str(p) for p in other['pollutant']})} "
            "left out: not modelled (known: "
            f"{list(known_species())}). Map a label with {_key(config_key, 'pollutant_mapping')}."
        )
    long = long[long["pol"].notna()]
    if long.empty:
        raise InputError(f"{name}: no row left to read (see the warnings above).")
    # units, row by row
    factors: dict[Any, float] = {}
    for u in pd.unique(long["unit"]):
        try:
            factors[u] = annual_total_factor(None if pd.isna(u) else str(u), what=f"{name}, units")
        except UnitsError as exc:
            src = f"column {unit_col!r}" if unit_col else "unit"
            raise UnitsError(
                f"{exc} ({src}; expected an annual mass such as 'kg' or 't yr-1'.) Fix the file "
                f'or {_key(config_key, "unit")} = "kg".'
            ) from None
    long["emission"] = long["value"] * long["unit"].map(factors).to_numpy(dtype=float)
    neg = long[long["emission"] < 0]
    if len(neg):
        raise InputError(
            f"{name}: {len(neg)} negative value(s) at {where}s {rows_preview(list(neg['line']))}; "
            f"expected emissions >= 0. Fix the file named by {_key(config_key)}."
        )
    totals = (
        long.groupby(["zone_id", "gnfr", "pol"], sort=True)["emission"].sum().reset_index()
    ).rename(columns={"gnfr": "sector", "pol": "pollutant"})
    out = read_area_totals(totals, units="t yr-1", what=name)
    out.attrs["source_file"] = name
    return out
