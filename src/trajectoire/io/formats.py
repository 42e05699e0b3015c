"""The built-in readers the configuration names: ``[inputs.<key>] format = "<name>"``.

Every input of ``[inputs]`` is read by a *format*: ``"trajectoire"`` (the library's own
layout, ``docs/input-formats.md``) or a built-in reader of a real source (the IREP register,
Eurostat series, Météo-France hourly files...). A format is a reader function and the
keywords through which it receives the generic keys of an input (``unit``, ``crs``,
``layer``, ``columns``); every other keyword of the reader may be written in the input's
table under its own name. :func:`check_spec` checks an input's keys when the configuration is
loaded, so a misspelt key fails before anything is read, naming the keys the format takes.

:func:`read_input` reads one input: the CSV dialect and the column names of the input are
given to every table read on the way (:func:`trajectoire.tables.dialect_defaults`,
:func:`trajectoire.tables.column_mapping`), the reader is called, and a ``columns`` entry
that matched no column of the file is an error naming it.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trajectoire._validate import did_you_mean, is_integer_number, require_columns
from trajectoire.assess.stations import read_stations
from trajectoire.dispersion.background import read_background, read_background_field
from trajectoire.errors import (
    ConfigError,
    MissingVariableError,
    TrajectoireError,
    config_option,
    named_by,
)
from trajectoire.geo.territories import load_territories, read_exposure_zones
from trajectoire.inventory.communes import read_commune_inventory, read_commune_population
from trajectoire.inventory.gridded import read_cams_reg, read_emep_gridded
from trajectoire.inventory.irep import read_irep
from trajectoire.inventory.readers import (
    read_area_totals,
    read_gridded,
    read_landuse,
    read_point_sources,
    read_road_emission_factors,
    read_roads,
    read_zones,
)
from trajectoire.meteo.readers import read_hourly
from trajectoire.meteo.sources import read_era5, read_isd_lite, read_meteo_france
from trajectoire.tables import column_mapping, dialect_defaults, option_table, read_table
from trajectoire.trajectory.eurostat import read_eurostat_air_emissions
from trajectoire.trajectory.trends import read_surrogates, read_trends

if TYPE_CHECKING:
    from trajectoire.io.config import InputSpec

__all__ = ["FORMATS", "Format", "check_spec", "input_context", "read_input", "register_format"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    """A reader of one input kind, and how the generic keys of an input reach it.

    Attributes
    ----------
    reader : callable
        ``reader(path, **keywords)``.
    unit, crs, layer, columns : str or None
        The reader's keyword receiving the input's ``unit``, ``crs``, ``layer`` and
        ``columns`` (None: the format does not take that key; ``columns`` without a keyword
        is applied to every table the reader reads, by
        :func:`trajectoire.tables.column_mapping`).
    run_keywords : tuple of str
        Keywords the run sets itself (from other sections), which the input may not set.
    summary : str
        One line for the documentation and messages.
    several_files : bool
        Whether the reader takes a list of files (``path = ["a.nc", "b.nc"]``); an input of
        a format that reads one file is refused a list of several when the configuration is
        loaded.
    column_names : tuple of str or None
        The columns the reader (and the run, for the tables read as is) reads, which the
        keys of a generic ``columns`` (no `columns` keyword) must be: a key outside them is
        refused when the configuration is loaded (None: not checked).
    column_options : tuple of str
        Reader keywords whose value (or default) is a column name, also a valid key
        (``zone_column``, ``id_column``, ``pollutants``).
    column_patterns : tuple of str
        Regular expressions of further valid keys (``pop_<year>``).
    pollutant_columns : bool
        Whether any species id or alias is a valid key (one column per pollutant).
    """

    reader: Callable[..., Any]
    unit: str | None = None
    crs: str | None = None
    layer: str | None = None
    columns: str | None = None
    run_keywords: tuple[str, ...] = ()
    summary: str = ""
    several_files: bool = False
    column_names: tuple[str, ...] | None = None
    column_options: tuple[str, ...] = ()
    column_patterns: tuple[str, ...] = ()
    pollutant_columns: bool = False

    def keywords(self) -> list[str]:
        """The reader's keywords an input may set under their own name."""
        params = list(inspect.signature(self.reader).parameters.values())[1:]
        reserved = {"what", "config_key", "unit", "crs", "layer", "columns"}
        reserved |= {k for k in (self.unit, self.crs, self.layer, self.columns) if k}
        reserved |= set(self.run_keywords)
        return [
            p.name
            for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in reserved
        ]


def _table_reader(path: Any, *, what: str | None = None, config_key: str | None = None) -> Any:
    """A CSV table in the library's layout, read as is (the pipeline checks its columns)."""
    return read_table(path, what=what, require_rows=True, config_key=config_key)


def _history_reader(
    path: Any, *, unit: str | None = None, what: str | None = None, config_key: str | None = None
) -> Any:
    """A register's figures (``point_source_history.csv``) read as is; the input's ``unit``
    (the figures' unit where no ``units`` cell says it, default t yr-1) in
    ``attrs["unit"]``, which the pipeline converts each row by."""
    table = read_table(path, what=what, require_rows=True, config_key=config_key)
    if config_key is not None:  # the run's columns, said with the key to set
        require_columns(table.columns, ["source_id", "year", "pollutant", "emission"], str(what))
    table.attrs["unit"] = unit
    return table


def _observation_reader(
    path: Any, *, what: str | None = None, config_key: str | None = None
) -> Any:
    """A table of observations (``observations_annual.csv``, ``observations_hourly.csv``)
    read as is, its ``station_id`` column as text, as :func:`read_stations` reads the
    stations' ids: ``911025`` matches the station ``911025`` and ``011025`` keeps its zero
    (the pipeline checks the columns and the ids)."""
    table = read_table(
        path, what=what, dtype={"station_id": str}, require_rows=True, config_key=config_key
    )
    if config_key is not None:  # the run's columns, said with the key to set
        time = "time" if config_key.endswith("observations_hourly") else "year"
        require_columns(table.columns, ["station_id", time, "pollutant", "value"], str(what))
    return table


#: keywords of the meteorological readers that ``[meteo]`` sets
_SITE = ("latitude", "longitude", "roughness_length")

_GENERIC = ("unit", "crs", "layer", "columns")


def _format(
    reader: Callable[..., Any],
    summary: str,
    *takes: str,
    run_keywords: tuple[str, ...] = (),
    several_files: bool = False,
    columns: tuple[str, ...] | None = None,
    column_options: tuple[str, ...] = (),
    column_patterns: tuple[str, ...] = (),
    pollutant_columns: bool = False,
) -> Format:
    """A :class:`Format` of `reader`, which takes the generic keys `takes` (``"crs"``: under
    that name; ``"unit=units"``: the reader's keyword ``units`` receives ``unit``) and, with
    `several_files`, a list of files; `columns` etc.: the keys a generic ``columns`` may
    have (:class:`Format`)."""
    keywords = {t.partition("=")[0]: t.partition("=")[2] or t for t in takes}
    assert set(keywords) <= set(_GENERIC), keywords
    return Format(
        reader,
        unit=keywords.get("unit"),
        crs=keywords.get("crs"),
        layer=keywords.get("layer"),
        columns=keywords.get("columns"),
        run_keywords=run_keywords,
        summary=summary,
        several_files=several_files,
        column_names=columns,
        column_options=column_options,
        column_patterns=column_patterns,
        pollutant_columns=pollutant_columns,
    )


# The columns each "trajectoire" format reads (the keys its generic ``columns`` may have),
# from the readers' code and docs/input-formats.md: the columns they require and the
# optional ones they look for.
#: read_point_sources: _POINT_META, the per-row unit column, one column per pollutant
_POINT_COLUMNS = (
    "source_id", "name", "x", "y", "lon", "lat", "sector", "height", "diameter",
    "temperature", "velocity", "start_year", "end_year", "units", "unit",
)  # fmt: skip
#: the run's checks of point_source_history (pipeline._point_history, backcast)
_HISTORY_COLUMNS = ("source_id", "year", "pollutant", "emission", "units", "unit")
#: read_roads: the traffic columns, or one per-km column per pollutant
_ROAD_COLUMNS = ("road_id", "category", "aadt", "hdv_share", "name", "length")
#: read_road_emission_factors
_FACTOR_COLUMNS = ("category", "pollutant", "ef_light", "ef_heavy")
#: read_area_totals (its zone column is `zone_column`; ``year`` is checked to be one year)
_AREA_COLUMNS = ("sector", "pollutant", "emission", "units", "year")
#: read_trends (trajectory.trends._REQUIRED and ``series``), read_surrogates
_TREND_COLUMNS = ("sector", "pollutant", "year", "value", "series")
_SURROGATE_COLUMNS = ("driver", "year", "value")
#: read_hourly's CSV (meteo.readers._REQUIRED, _OPTIONAL)
_METEO_COLUMNS = (
    "time", "wind_speed", "wind_direction", "cloud_cover", "temperature",
    "solar_radiation", "obukhov_length", "mixing_height", "ceiling_height",
)  # fmt: skip
#: the run's checks of the observations (pipeline._observation_table, observations_from_table)
_OBSERVATION_COLUMNS = ("station_id", "year", "pollutant", "value", "units")
_HOURLY_COLUMNS = ("station_id", "time", "pollutant", "value", "units")
#: read_background
_BACKGROUND_COLUMNS = ("year", "pollutant", "value", "units")
#: load_territories (geo.territories.COLUMNS)
_TERRITORY_COLUMNS = ("territory", "name", "population")
#: read_zones: the id (`id_column`), the territory and the censuses pop_<year>
_ZONE_COLUMNS = ("zone_id", "territory", "name", "population")
_CENSUS = (r"pop_\d{4}",)


#: input key -> format name -> :class:`Format`. ``"trajectoire"`` is each input's own layout.
# fmt: off
FORMATS: dict[str, dict[str, Format]] = {
    "territories": {
        "trajectoire": _format(
            load_territories, "polygons with an id", "layer", columns=_TERRITORY_COLUMNS
        ),
    },
    "zones": {
        "trajectoire": _format(
            read_zones, "polygons with zone_id", "crs", "layer",
            columns=_ZONE_COLUMNS, column_options=("id_column",), column_patterns=_CENSUS,
        ),
        "communes": _format(
            read_commune_population,
            "commune polygons joined by INSEE code to a population table",
            "layer", "columns",
        ),
    },
    "point_sources": {
        "trajectoire": _format(
            read_point_sources, "point_sources.csv / .gpkg", "unit=units", "crs", "layer",
            columns=_POINT_COLUMNS, column_options=("pollutants",), pollutant_columns=True,
        ),
        "irep": _format(
            read_irep,
            "IREP register: sites and their yearly emissions, default stacks",
            "unit", "crs", "layer", "columns",
            run_keywords=("reference_year", "reference_of"),
        ),
    },
    "point_source_history": {
        "trajectoire": _format(
            _history_reader, "point_source_history.csv", "unit", columns=_HISTORY_COLUMNS
        ),
    },
    "roads": {
        "trajectoire": _format(
            read_roads,
            "road links with traffic or emissions",
            "unit=units", "crs", "layer",
            run_keywords=("emission_factors",),
            columns=_ROAD_COLUMNS, column_options=("pollutants",), pollutant_columns=True,
        ),
    },
    "road_emission_factors": {
        "trajectoire": _format(
            read_road_emission_factors, "factors per road category", columns=_FACTOR_COLUMNS
        ),
    },
    "area_emissions": {
        "trajectoire": _format(
            read_area_totals, "totals per zone", "unit=units",
            columns=_AREA_COLUMNS, column_options=("zone_column",),
        ),
        "commune-inventory": _format(
            read_commune_inventory,
            "totals per commune x sector x pollutant (regional observatories)",
            "unit", "layer", "columns",
        ),
    },
    "gridded": {
        "trajectoire": _format(
            read_gridded, "GeoTIFF or NetCDF, any CRS", "unit=units", "crs"
        ),
        "cams-reg": _format(
            read_cams_reg, "CAMS-REG / TNO GNFR NetCDF", "unit", several_files=True
        ),
        "emep": _format(
            read_emep_gridded, "EMEP/CEIP 0.1 degree GNFR text", "unit", several_files=True
        ),
    },
    "landuse": {
        "trajectoire": _format(read_landuse, "land-use class raster", "crs"),
    },
    "trends": {
        "trajectoire": _format(read_trends, "tidy trend indices", columns=_TREND_COLUMNS),
        "eurostat": _format(
            read_eurostat_air_emissions,
            "Eurostat env_air_emis national series (tidy, TSV or SDMX-CSV), spliced",
            "unit", "columns",
        ),
    },
    "surrogates": {
        "trajectoire": _format(
            read_surrogates, "driver series: driver, year, value", columns=_SURROGATE_COLUMNS
        ),
    },
    "meteo": {
        "trajectoire": _format(
            read_hourly, "hourly CSV or NetCDF", run_keywords=_SITE, several_files=True,
            columns=_METEO_COLUMNS,
        ),
        "meteo-france": _format(
            read_meteo_france,
            "Météo-France hourly station file (données climatologiques de base horaires)",
            "columns",
            run_keywords=_SITE,
            several_files=True,
        ),
        "isd-lite": _format(
            read_isd_lite,
            "NOAA ISD-Lite hourly station file(s)",
            run_keywords=_SITE,
            several_files=True,
        ),
        "era5": _format(
            read_era5,
            "ERA5 single levels NetCDF (u10, v10, t2m, tcc, ssrd, blh)",
            "columns",
            run_keywords=_SITE,
            several_files=True,
        ),
    },
    "stations": {
        "trajectoire": _format(
            read_stations,
            "station_id, x, y (or lon, lat) in CSV, or points in a GeoPackage",
            "crs", "layer", "columns",
            run_keywords=("to_crs",),
        ),
    },
    "observations": {
        "trajectoire": _format(
            _observation_reader, "station_id, year, pollutant, value",
            columns=_OBSERVATION_COLUMNS,
        ),
    },
    "observations_hourly": {
        "trajectoire": _format(
            _observation_reader, "station_id, time, pollutant, value", columns=_HOURLY_COLUMNS
        ),
    },
    "background": {
        "trajectoire": _format(
            read_background, "year, pollutant, value", "unit=units", columns=_BACKGROUND_COLUMNS
        ),
        "field": _format(
            read_background_field,
            "regional model NetCDF (CAMS, CHIMERE, EMEP), any grid and CRS, local part removed",
            "unit=units", "crs",
        ),
    },
    "exposure_zones": {
        "trajectoire": _format(
            read_exposure_zones, "polygons with an id (QPV, IRIS, communes), a CRS", "layer",
            columns=("zone_id", "name", "territory"), column_options=("id_column",),
        ),
    },
}
# fmt: on


def register_format(key: str, name: str, fmt: Format) -> None:
    """Add a reader for input `key` under format `name` (for plugins and tests).

    Parameters
    ----------
    key : str
        An input key of ``[inputs]`` (``"point_sources"``, ``"meteo"``...).
    name : str
        The format name the configuration writes.
    fmt : Format
        The reader and its keywords.
    """
    if key not in FORMATS:
        raise ConfigError(
            f"register_format: unknown input {key!r}; expected one of {list(FORMATS)}"
        )
    FORMATS[key][name] = fmt


def _section(key: str) -> str:
    """The table of input `key`, for its sub-keys (``[inputs.meteo] format``)."""
    return f"[inputs.{key}]"


def _input_key(key: str) -> str:
    """The configuration key of input `key` as a whole (``[inputs] meteo``)."""
    return f"[inputs] {key}"


def check_spec(key: str, spec: InputSpec, label: str | None = None) -> Format:
    """The format of input `key`, after checking that `spec` sets only keys it takes
    (`label`: the configuration key naming the input, default ``[inputs] <key>``).

    Raises
    ------
    ValueError
        One line naming the key at fault, what the format takes and where it is documented
        (the configuration loader turns it into a :class:`~trajectoire.errors.ConfigError`).
    """
    formats = FORMATS[key]
    where = label or _input_key(key)
    fmt = formats.get(spec.format)
    if fmt is None:
        hint = did_you_mean(spec.format, list(formats))
        raise ValueError(
            f"{config_option(where, 'format')}: {spec.format!r}{hint} is not a reader of this input; "
            f"expected one of {sorted(formats)} (docs/input-formats.md)"
        )
    if len(spec.paths) > 1 and not fmt.several_files:
        names = ", ".join(f'"{p.name}"' for p in spec.paths[:3])
        more = ", ..." if len(spec.paths) > 3 else ""
        raise ValueError(
            f"{config_option(where, 'path')} = [{names}{more}]: a list of {len(spec.paths)} files, but "
            f"format {spec.format!r} reads one file; expected one path (path = "
            f'"{spec.paths[0].name}"): merge the files into one. Only {_several_files_keys()} '
            "take a list of files"
        )
    for generic in ("unit", "crs", "layer"):
        if getattr(spec, generic) is not None and getattr(fmt, generic) is None:
            raise ValueError(
                f"{config_option(where, generic)}: format {spec.format!r} does not take a {generic} "
                "(the file says it, or the format fixes it); remove the key"
            )
    _check_column_keys(where, spec, fmt)
    allowed = fmt.keywords()
    for option in spec.options:
        if option not in allowed:
            hint = did_you_mean(option, allowed)
            taken = ", ".join(["path", "format", "columns", "encoding", "delimiter", "decimal"])
            generic_keys = [g for g in ("unit", "crs", "layer") if getattr(fmt, g)]
            raise ValueError(
                f"{config_option(where, option)}{hint}: not a key of format {spec.format!r} "
                f"({fmt.reader.__module__}.{fmt.reader.__name__}); it takes {taken}"
                + (", " + ", ".join(generic_keys) if generic_keys else "")
                + (", " + ", ".join(allowed) if allowed else "")
            )
        problem = _option_form(fmt, option, spec.options[option])
        if problem:
            raise ValueError(
                f"{config_option(where, option)} = {spec.options[option]!r}: {problem} "
                f"(keyword of {fmt.reader.__module__}.{fmt.reader.__name__})"
            )
    return fmt


def _column_vocabulary(spec: InputSpec, fmt: Format) -> list[str]:
    """The columns a generic ``columns`` of `fmt` may name (:attr:`Format.column_names`,
    the column keywords' values as `spec` sets them or their defaults)."""
    names = list(fmt.column_names or ())
    params = inspect.signature(fmt.reader).parameters
    for option in fmt.column_options:
        value = spec.options.get(option)
        if value is None and option in params:
            value = params[option].default
        values = value if isinstance(value, list | tuple) else [value]
        names += [str(v) for v in values if isinstance(v, str)]
    return list(dict.fromkeys(names))


def _check_column_keys(where: str, spec: InputSpec, fmt: Format) -> None:
    """Refuse a key of a generic ``columns`` (the format has no `columns` keyword) that is
    not a column the format reads: ``columns = { unit = "unite" }`` on area emissions (whose
    column is ``units``) would leave the file's unit column unread, silently."""
    if fmt.columns is not None or not spec.columns:
        return
    if fmt.column_names is None:
        key, file_col = next(iter(spec.columns.items()))
        raise ValueError(
            f"{config_option(where, f'columns.{key}')} = {file_col!r}: format {spec.format!r} "
            f"({fmt.reader.__module__}.{fmt.reader.__name__}) reads no table with named "
            "columns (a raster, a NetCDF or a fixed-width file), so columns would change "
            "nothing; remove the key (docs/input-formats.md)"
        )
    from trajectoire.species import known_species, normalise_pollutant

    names = _column_vocabulary(spec, fmt)
    for key, file_col in spec.columns.items():
        if key in names or any(re.fullmatch(p, key) for p in fmt.column_patterns):
            continue
        if fmt.pollutant_columns:
            try:
                normalise_pollutant(key)
                continue
            except TrajectoireError:
                pass
        choices = names + (list(known_species()) if fmt.pollutant_columns else [])
        hint = did_you_mean(key, choices)
        more = ["pop_<year>" for p in fmt.column_patterns if p.startswith("pop_")]
        more += (
            ["one column per pollutant (a species id or alias)"] if fmt.pollutant_columns else []
        )
        raise ValueError(
            f"{config_option(where, f'columns.{key}')} = {file_col!r}: {key!r} is not a column "
            f"that format {spec.format!r} reads in {spec.path.name}{hint}; the keys of columns are the reader's "
            f"column names: {', '.join([*names, *more])} (docs/input-formats.md). Fix the "
            "key, the name on the left of ="
        )


def _several_files_keys() -> str:
    """The inputs whose ``path`` may be a list of files, in words (``[inputs] meteo and
    [inputs] gridded (formats cams-reg, emep)``)."""
    keys = []
    for key, formats in FORMATS.items():
        names = [name for name, fmt in formats.items() if fmt.several_files]
        if names:
            which = "" if len(names) == len(formats) else f" (format {', '.join(names)})"
            keys.append(f"{_input_key(key)}{which}")
    return " and ".join([", ".join(keys[:-1]), keys[-1]] if len(keys) > 1 else keys) or "none"


def _alternatives(annotation: str) -> list[str]:
    """The top-level alternatives of an annotation written ``A | B[C | D] | None``."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(annotation):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            out.append(annotation[start:i].strip())
            start = i + 1
    return [*out, annotation[start:].strip()]


#: (annotation prefixes, what a TOML value of that form is, an example)
_FORMS = (
    (("Sequence[int]",), "a list of integers", "[2019, 2023]"),
    (("Sequence[float]",), "a list of numbers", "[0.5, 1.0]"),
    (("Sequence[",), "a list", '["NOx", "PM10"]'),
    (("Mapping[", "dict["), "a table", '{ NOx = "NOX" }'),
    (("float",), "a number", "10.0"),
    (("int",), "a whole number", "10"),
)
_YEAR = "2021"  # the example of an option that is a year (year = 2021, not 10)
_SEQUENCES, _MAPPINGS, _NUMBERS = (
    ("Sequence[", "list[", "tuple["),
    ("Mapping[", "dict["),
    ("float", "int"),
)


def _option_form(fmt: Format, option: str, value: Any) -> str | None:
    """Why `value` cannot be the reader's keyword `option` (None when it can), read from
    the annotation: a string where only lists, tables or numbers are taken (a string is
    iterated letter by letter: ``pollutants = "NOx"`` became ``N``, ``O``, ``x``), a list
    or a table where a single value is taken, text or true/false for a number."""
    param = inspect.signature(fmt.reader).parameters.get(option)
    if param is None or param.annotation is inspect.Parameter.empty:
        return None
    alts = [a for a in _alternatives(str(param.annotation)) if a != "None"]
    if any(a in ("Any", "object") or a.startswith("PathOrFrame") for a in alts):
        return None
    takes_text = any(a == "str" or a.startswith(("Literal[", "str", "PathLike")) for a in alts)
    takes_list = any(a.startswith(_SEQUENCES) for a in alts)
    takes_table = any(a.startswith(_MAPPINGS) for a in alts)
    takes_number = any(a in _NUMBERS for a in alts)
    takes_bool = "bool" in alts
    # a whole number where only whole numbers are taken (a year: 2021, not 2021.0 nor
    # 2016.5, as [run] first_year), in a list too (years = [2016, 2019])
    takes_float = "float" in alts
    whole_items = all(a in ("Sequence[int]", "list[int]") for a in alts if a.startswith(_SEQUENCES))
    ok = (
        (isinstance(value, str) and takes_text)
        or (
            isinstance(value, list)
            and takes_list
            and (not whole_items or all(map(is_integer_number, value)))
        )
        or (isinstance(value, dict) and takes_table)
        or (isinstance(value, bool) and takes_bool)
        or (is_integer_number(value) and takes_number)
        or (isinstance(value, float) and takes_float)
    )
    if ok or not (takes_text or takes_list or takes_table or takes_number or takes_bool):
        return None
    forms = [
        next(
            (
                f"{what} (e.g. {option} = {_YEAR if 'year' in option and p == ('int',) else example})"
                for p, what, example in _FORMS
                if a.startswith(p)
            ),
            "",
        )
        for a in alts
    ]
    forms = [f for f in forms if f]
    if takes_text:
        forms.append(f'a string (e.g. {option} = "...")')
    if takes_bool:
        forms.append(f"true or false (e.g. {option} = true)")
    got = _toml_kind(value)
    if isinstance(value, list) and takes_list and whole_items:
        item = next(v for v in value if not is_integer_number(v))
        got = f"a list with {_toml_kind(item) if isinstance(item, float) else repr(item)}"
    return f"expected {' or '.join(dict.fromkeys(forms))}, got {got}"


def _toml_kind(value: Any) -> str:
    """What a TOML value is, in TOML's words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        whole = value.is_integer()
        return f"{value!r}" + (f" (write it {int(value)})" if whole else " (not a whole number)")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


@contextlib.contextmanager
def input_context(key: str, spec: InputSpec, table: str | None = None) -> Iterator[None]:
    """Read tables in the block with the dialect and column names of input `key` (its
    configuration key: `table`, default ``[inputs] <key>``; messages name its table).

    Raises
    ------
    trajectoire.ConfigError
        At the end of the block, a ``columns`` entry that matched no column of the tables
        read, naming the columns they had.
    """
    with dialect_defaults(**spec.dialect()), column_mapping(spec.columns) as state:
        try:
            yield
        except TrajectoireError as exc:
            # a reader complaining of a missing column is most often a columns entry that
            # matched nothing: name that entry, the user's mistake, instead
            _check_mapping_used(table or _input_key(key), spec, state)
            missing = _missing_columns(key, spec, table or _input_key(key), exc, state.mapping)
            if missing is not None:
                raise missing from None
            raise
    _check_mapping_used(table or _input_key(key), spec, state)


def _missing_columns(
    key: str, spec: InputSpec, table: str, exc: Exception, mapping: Mapping[str, str]
) -> MissingVariableError | None:
    """The configuration's message of a reader's missing column (``require_columns``) in
    input `key`'s file: the file as given, its own column names (those `mapping` renamed
    shown as the file has them), and the ``columns`` line to write; None for another error
    (or a table other than the input's file)."""
    missing, found, what = (getattr(exc, a, None) for a in ("missing", "found", "what"))
    fmt = FORMATS.get(key, {}).get(spec.format)
    names = {p.name for p in spec.paths} | {spec.path.name}
    if (
        not isinstance(exc, MissingVariableError)
        or missing is None
        or found is None
        or fmt is None
        or fmt.column_names is None
        or Path(str(what).split(" (", 1)[0]).name not in names
        or not all(p.is_file() for p in spec.paths)  # a folder's files: named by the reader
    ):
        return None
    back = {want: file for want, file in mapping.items() if want != file}
    has = [back.get(str(c), str(c)) for c in found]
    renamed = set(back.values())
    more = f" and {len(spec.paths) - 1} more" if len(spec.paths) > 1 else ""
    where = f"{spec.path.name}{more} ({option_table(table)})"
    if key == "observations" and "year" in missing and "time" in has:
        return MissingVariableError(
            f"{where}: missing column(s) {missing}; the file has {has}: a 'time' column, "
            f"hourly observations. Give it as {_input_key('observations_hourly')} = "
            f'"{spec.path.name}" instead of {_input_key(key)} (the run takes their annual '
            "means), or give the annual means with a 'year' column."
        )
    free = [c for c in has if c not in renamed and c not in (fmt.column_names or ())]
    sets, hints = [], []
    for col in missing:
        close = difflib.get_close_matches(str(col), free, n=1)
        if close:
            hints.append(f"{col!r}: did you mean {close[0]!r}?")
        value = close[0] if close else "<your column>"
        sets.append(f'{config_option(table, f"columns.{col}")} = "{value}"')
    hint = f" ({'; '.join(hints)})" if hints else ""
    return MissingVariableError(
        f"{where}: missing column(s) {missing}{hint}; the file has {has}. Rename the column in "
        f"the file, or name the file's column: Set {'; set '.join(sets)}"
    )


def _check_mapping_used(table: str, spec: InputSpec, state: Any) -> None:
    """Raise when a ``columns`` entry matched no column of the tables read (`table`: the
    input's configuration key, ``[inputs] <key>`` or an anchor's)."""
    unused = {k: v for k, v in spec.columns.items() if k not in state.used}
    if unused and state.seen:
        want, file_col = next(iter(unused.items()))
        raise ConfigError(
            f"{spec.path} ({option_table(table)}): columns.{want} = {file_col!r}, but the file "
            f"has no column {file_col!r}; its columns are {state.seen[0]}. Fix "
            f"{config_option(table, f'columns.{want}')}."
        )


def read_input(key: str, spec: InputSpec, *, label: str | None = None, **run_keywords: Any) -> Any:
    """Read input `key` as its configuration says.

    Parameters
    ----------
    key : str
        The input's key in ``[inputs]`` (its format and reader).
    spec : InputSpec
        Its configuration.
    label : str, optional
        The configuration key the messages name (default ``[inputs] <key>``; an anchor's
        input: ``[[inputs.anchors]] #1 area_emissions``).
    **run_keywords
        Keywords the run sets (e.g. the meteorological site's ``latitude``); one that the
        format's reader does not take (neither in :attr:`Format.run_keywords` nor in its
        signature) is not passed: the run gives ``reference_year`` to the point sources,
        which the IREP reader takes and the library's own table does not.

    Returns
    -------
    object
        What the format's reader returns.
    """
    fmt = check_spec(key, spec, label)
    kwargs: dict[str, Any] = dict(spec.options)
    for generic, keyword in (("unit", fmt.unit), ("crs", fmt.crs), ("layer", fmt.layer)):
        value = getattr(spec, generic)
        if value is not None and keyword is not None:
            kwargs[keyword] = value
    params = inspect.signature(fmt.reader).parameters
    if "what" in params:
        more = f" and {len(spec.paths) - 1} more" if len(spec.paths) > 1 else ""
        kwargs["what"] = f"{spec.path.name}{more} ({label or _input_key(key)})"
    if "config_key" in params:
        kwargs["config_key"] = label or _input_key(key)
    kwargs.update({k: v for k, v in run_keywords.items() if k in fmt.run_keywords or k in params})
    source: Any = spec.paths if len(spec.paths) > 1 else spec.path
    if spec.format != "trajectoire":
        log.info("%s: read %s as format %r", _section(key), source, spec.format)
    # a reader that names the file only gets the configuration key added to its errors
    if fmt.columns is not None and spec.columns:
        kwargs[fmt.columns] = dict(spec.columns)
        with named_by(label or _input_key(key)), dialect_defaults(**spec.dialect()):
            return fmt.reader(source, **kwargs)
    with named_by(label or _input_key(key)), input_context(key, spec, label):
        return fmt.reader(source, **kwargs)


def describe(formats: Mapping[str, Mapping[str, Format]] = FORMATS) -> str:
    """A Markdown table of the inputs and their formats (used by the documentation)."""
    rows = ["| input | format | reader | keys |", "|---|---|---|---|"]
    for key, fmts in formats.items():
        for name, fmt in fmts.items():
            keys = [g for g in ("unit", "crs", "layer") if getattr(fmt, g)] + fmt.keywords()
            rows.append(
                f"| `{key}` | `{name}` | `{fmt.reader.__module__}.{fmt.reader.__name__}` | "
                + ", ".join(f"`{k}`" for k in keys)
                + " |"
            )
    return "\n".join(rows)
