"""Monitoring stations: station tables, observations, and model values at the stations.

* :func:`read_stations` reads and checks a station file (``stations.csv``,
  ``docs/input-formats.md``): the one reader of station files in the package;
* :func:`station_table` checks station ids and coordinates given as a DataFrame (or a
  GeoDataFrame of points, reprojected);
* :func:`observations_from_table` turns tidy observations into a ``(year, station)`` or,
  for instants parsed to UTC, a ``(time, station)`` DataArray;
* :func:`annual_means` turns hourly observations into annual means with the data-capture
  rule of Directive 2008/50/EC;
* :func:`sample_at_stations` extracts a gridded field at station positions (bilinear or
  nearest cell), for :mod:`trajectoire.assess.evaluation` and :mod:`trajectoire.assess.fusion`.
"""

from __future__ import annotations

import calendar
import datetime
import math
import os
import re
from collections.abc import Hashable, Mapping
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import require_columns, rows_preview, values_at
from trajectoire.assess._pairs import concentration_units
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    warn,
)
from trajectoire.geo.grid import AREA_MARGIN, crs_option, in_area_of_use, known_crs
from trajectoire.species import UNIT_FAMILIES, concentration_factor_of, get_pollutant
from trajectoire.tables import (
    blank_cell,
    choose_layer,
    clock_goes_back,
    columns_option,
    data_lines,
    id_text,
    numeric_column,
    read_table,
    zoned_times,
)
from trajectoire.units import UNIT_TABLE

__all__ = [
    "ANNUAL_MIN_CAPTURE",
    "annual_means",
    "observation_units",
    "observations_from_table",
    "read_stations",
    "sample_at_stations",
    "station_table",
]

#: the columns every station table has
_STATION_COLUMNS = ("station_id", "x", "y")

Sampling = Literal["bilinear", "nearest"]
"""How a field is read at the stations (`method` of :func:`sample_at_stations`): interpolated
between the four surrounding cell centres, or the value of the cell holding the station."""
Outside = Literal["raise", "nan"]
"""Stations outside the grid (`outside` of :func:`sample_at_stations`): raise an error naming
them, or keep them with NaN and warn."""


# ------------------------------------------------------------------------ station tables
def read_stations(
    source: str | os.PathLike[str] | IO[str],
    *,
    what: str | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    crs: Any = None,
    to_crs: Any = "EPSG:2154",
    config_key: str | None = None,
) -> pd.DataFrame:
    """Read and check a station file (``stations.csv`` or a GeoPackage of points).

    Parameters
    ----------
    source : str, path-like or text file object
        CSV file with a header row and the columns ``station_id`` and ``x``, ``y`` (or
        ``lon``, ``lat`` [degree, EPSG:4326]) (``docs/input-formats.md``); or a GeoPackage /
        Shapefile / GeoJSON of point geometries with a CRS (``.gpkg``, ``.shp``,
        ``.geojson``), such as the LCSQA station list (« Liste points de mesures »,
        https://www.lcsqa.org). Other columns (``name``, ``type``, ``territory``...) are kept.
    what : str, optional
        Name of the source in error messages; default the path (``"stations"`` for a file
        object).
    columns : mapping, optional
        Canonical name -> column in the file, among ``station_id``, ``x``, ``y``, ``lon``,
        ``lat``, ``name``, ``type``, ``territory`` (e.g. ``{"station_id": "code_station"}``);
        the columns are renamed to the canonical names. A name (given or canonical) absent
        from the file is matched without case when one column alone matches (``LON`` for
        ``lon``, ``CODE_STATION`` for ``code_station``).
    layer : str, optional
        Layer of a vector file with several layers.
    crs : optional
        CRS of the ``x``/``y`` columns of a CSV. Default: none stated, and ``x``/``y`` are
        taken as they are, in the CRS of the grid (the behaviour of ``stations.csv``). When
        the table has ``lon``/``lat`` and no ``x``/``y``, they are read in ``EPSG:4326``, or
        in `crs` when it is geographic (a projected one is an error). A vector file's
        positions are in its own CRS (another `crs` is an error).
    to_crs : optional, default "EPSG:2154"
        CRS of the grid: positions whose CRS is known (`crs`, ``lon``/``lat``, the CRS of
        a vector file) are transformed to it.
    config_key : str, optional
        Configuration key naming the file (``"[inputs.stations]"``), quoted in messages.

    Returns
    -------
    pandas.DataFrame
        One row per station, in the order of the file (index ``0 .. n-1``): ``station_id``
        (str, exactly as written in the file), ``x``, ``y`` [m, float, in the CRS of the
        grid] and the other columns as :func:`trajectoire.tables.read_table` reads them
        (encoding, delimiter and decimal mark detected); no geometry column.
        ``attrs["crs"]`` is `to_crs` when the positions were transformed.

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is missing.
    trajectoire.InputError
        The file is missing, empty or not a CSV table, a station has no id, an id appears
        twice, or a coordinate is not a number or not finite; positions that cannot be in
        the CRS stated (degrees given with a projected CRS, metres with a geographic one,
        degrees out of range), or fall outside the area of `to_crs` (said swapped when the
        two coordinates swapped fall inside it). The message names the file, the column, the line
        (the header is line 1), the station and the value at fault.
    trajectoire.ConfigError
        Unknown keys in `columns`; a `crs` that pyproj does not know (named with its value),
        or one that contradicts the columns or the file; ``columns.x``/``columns.y`` naming
        longitude/latitude columns without a `crs`.

    See Also
    --------
    station_table : the same checks on a DataFrame already in memory.

    Examples
    --------
    >>> import io
    >>> text = "station_id,name,x,y\\nFR11025,Lille Fives,706400,7059000\\n"
    >>> read_stations(io.StringIO(text))[["station_id", "x", "y"]].values.tolist()
    [['FR11025', 706400.0, 7059000.0]]
    >>> text = "code_station,lon,lat\\nFR11025,3.0898,50.6289\\n"
    >>> st = read_stations(io.StringIO(text), columns={"station_id": "code_station"})
    >>> st[["station_id", "x", "y"]].round(0).values.tolist()
    [['FR11025', 706365.0, 7059105.0]]
    """
    if what is None:
        what = str(source) if isinstance(source, str | os.PathLike) else "stations"
    given = columns_option(columns, _STATION_KEYS, what=what, config_key=config_key)
    stated = _stated_crs(crs, what, config_key)
    fix = (
        f' Set {config_option(config_key, "columns.{key}")} = "<your column>".'
        if config_key
        else ""
    )
    if isinstance(source, str | os.PathLike) and str(source).lower().endswith(_VECTOR):
        table, file_crs = _read_station_points(source, what, layer, config_key)
        lines = False
        if stated is not None and not stated.equals(file_crs):
            raise ConfigError(
                f"{what}: {_crs_key(config_key)} = {crs!r}, but the points are in the file's "
                f"own CRS ({file_crs.to_string()}), which is used. Remove {_crs_key(config_key)}."
            )
    else:
        id_col = given.get("station_id", "station_id")
        table = read_table(
            source,
            what=what,
            dtype={id_col: str},
            require_rows=True,
            config_key=config_key,
            expected=(
                f"a CSV table with a header row with the columns {list(_STATION_COLUMNS)} and "
                "one row per station"
            ),
        )
        file_crs = None
        lines = True
    given, table = _match_case(given, table, source, what, lines, config_key)
    if file_crs is None and stated is None:
        _refuse_degrees_as_xy(given, table, to_crs, what, config_key)
    for key, col in given.items():
        if col not in table.columns:
            raise MissingVariableError(
                f"{what}: no column {col!r} (columns.{key}); found {list(table.columns)}."
                + fix.format(key=key)
            )
    # the file's own columns (a vector file's x, y are made from its points), for messages
    own = [c for c in table.columns if lines or c not in ("x", "y")]
    table = table.rename(columns={col: key for key, col in given.items()})
    _require_station_columns(table, own, what, config_key)
    # the file's own names of the columns, and the units of the positions, for messages
    names = {key: given.get(key, key) for key in _STATION_KEYS}
    units = "m in the CRS of the grid"
    if (
        "x" not in table.columns
        and "y" not in table.columns
        and {"lon", "lat"} <= set(table.columns)
    ):
        if file_crs is None and stated is not None and not stated.is_geographic:
            raise ConfigError(
                f"{what}: {_crs_key(config_key)} = {crs!r} is a projected CRS, but the "
                f"positions are read from the columns {names['lon']!r}/{names['lat']!r} "
                "(longitude/latitude in degrees). Remove it (EPSG:4326 is taken), give a "
                "geographic CRS, or map x/y columns in metres (columns.x, columns.y)."
            )
        if file_crs is None:
            file_crs = stated if stated is not None else "EPSG:4326"
        table = table.assign(x=table["lon"], y=table["lat"])
        names = {**names, "x": names["lon"], "y": names["lat"]}
        units = "degrees (longitude/latitude)"
    elif file_crs is None and stated is not None:
        file_crs = stated
        units = f"m in {stated.to_string()}" if not stated.is_geographic else "degrees"
    elif file_crs is not None:
        units = "the CRS of the file"
    if file_crs is None:
        _, x, y = _checked_stations(table, what, lines=lines, names=names, units=units)
        return table.assign(x=x, y=y)
    ids, x, y = _checked_stations(table, what, lines=lines, names=names, units=units)
    x, y = _transformed(ids, x, y, file_crs, to_crs, what, config_key, names=names)
    out = table.assign(x=x, y=y)
    out.attrs["crs"] = str(to_crs)
    return out


def _require_station_columns(
    table: pd.DataFrame, own: list[str], what: str, config_key: str | None
) -> None:
    """Raise one error when `table` (columns renamed to the canonical names) has no
    ``station_id``, or neither ``x``/``y`` nor ``lon``/``lat``: it lists the file's own
    columns `own` and the ``columns`` mapping that names the missing ones."""
    have = set(table.columns)
    lacking = [] if "station_id" in have else ["station_id"]
    if not ({"x", "y"} <= have or {"lon", "lat"} <= have):
        half = [k for k in ("lon", "lat") if k in have]
        if len(half) == 1 and not have & {"x", "y"}:  # lat without lon: name lon
            lacking += [k for k in ("lon", "lat") if k not in have]
        else:
            lacking += [k for k in ("x", "y") if k not in have]
    if lacking:
        mapping = ", ".join(f'{k} = "<column>"' for k in lacking)
        fix = (
            f"Name them with {config_option(config_key, 'columns')} = {{ {mapping} }}"
            if config_key
            else "Name them with columns={" + ", ".join(f"{k!r}: '<column>'" for k in lacking) + "}"
        )
        raise MissingVariableError(
            f"{what}: missing column(s) {lacking}; the file has the columns {own}, expected "
            "station_id and x, y [m] (or lon, lat [degrees]). " + fix + ", or rename them."
        )


def _crs_key(config_key: str | None) -> str:
    return config_option(config_key, "crs")


def _stated_crs(crs: Any, what: str, config_key: str | None) -> Any:
    """The `crs` option as a :class:`pyproj.CRS` (None when not given); one that pyproj
    does not know is an error naming the key and the value."""
    if crs is None:
        return None
    removed = " (x/y are then taken in the CRS of the grid, lon/lat in EPSG:4326)"
    return crs_option(crs, what, _crs_key(config_key), removed, error=ConfigError)


#: canonical columns of a station file that `columns` may rename
_STATION_KEYS = ("station_id", "x", "y", "lon", "lat", "name", "type", "territory")
#: file names read as vector files (points); others as CSV tables
_VECTOR = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml")


def _read_station_points(
    source: str | os.PathLike[str], what: str, layer: str | None, config_key: str | None
) -> tuple[pd.DataFrame, Any]:
    """The attribute table of a vector file of points, with ``x``/``y``, and its CRS."""
    import geopandas as gpd

    path = os.fspath(source)
    where = f" Check the path given by {config_key}." if config_key else ""
    if not os.path.exists(path):
        raise InputError(f"{what}: file not found (looked for {os.path.abspath(path)}).{where}")
    layer = choose_layer(path, layer, what=what, config_key=config_key)
    try:
        gdf = gpd.read_file(path, layer=layer)
    except InputError:
        raise
    except Exception as exc:  # pyogrio raises its own error types
        raise InputError(f"{what}: could not read it as a vector file ({exc}).{where}") from None
    if gdf.crs is None:
        raise InputError(
            f"{what}: the points have no CRS; expected a file with a CRS (EPSG:2154 or "
            "EPSG:4326). Fix the file (ogr2ogr -a_srs EPSG:2154)."
        )
    types = set(gdf.geometry.geom_type.dropna())
    if not types <= {"Point"}:
        raise InputError(f"{what}: geometries must be points, found {sorted(types)}.{where}")
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table["x"] = gdf.geometry.x.to_numpy()
    table["y"] = gdf.geometry.y.to_numpy()
    return table, gdf.crs


def _transformed(
    ids: list[Hashable],
    x: np.ndarray,
    y: np.ndarray,
    src: Any,
    dst: Any,
    what: str,
    config_key: str | None,
    *,
    names: Mapping[str, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions from CRS `src` to `dst`, after checking they can be in `src` (`names`: the
    file's names of the ``x``/``y`` columns, for messages)."""
    import pyproj

    try:
        src_crs, dst_crs = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    except pyproj.exceptions.CRSError as exc:
        raise ConfigError(f"{what}: {exc}. Fix {config_key or 'the crs/to_crs options'}.") from None
    fix = config_option(config_key, "crs", default="crs=")
    if src_crs.is_geographic:
        bad = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        expected = "longitude/latitude in degrees"
    else:
        bad = np.flatnonzero((np.abs(x) <= 180) & (np.abs(y) <= 90))
        expected = f"metres in {src_crs.to_string()}"
    if bad.size:
        found = [f"{ids[i]} ({x[i]:g}, {y[i]:g})" for i in bad]
        metres = bool(np.all((np.abs(x[bad]) > 1000) | (np.abs(y[bad]) > 1000)))
        if not src_crs.is_geographic:
            hint = 'these look like degrees: use columns lon/lat or set crs = "EPSG:4326"'
        elif metres:
            hint = "these look like metres: state the projected CRS"
        else:  # a typo among degrees: out of range, not another CRS
            hint = "out of range: a longitude lies within -180 to 180, a latitude within -90 to 90"
        xy = f"{(names or {}).get('x', 'x')!r}/{(names or {}).get('y', 'y')!r}"
        end = (
            f"Fix {fix}."
            if metres or not src_crs.is_geographic
            else (f"Fix those values in the file (or {fix}, if the file is in another CRS).")
        )
        raise InputError(
            f"{what}, columns {xy}: position(s) of station(s) {rows_preview(found)} cannot "
            f"be {expected} ({src_crs.to_string()}); {hint}. {end}"
        )
    tx, ty = pyproj.Transformer.from_crs(src_crs, dst_crs, always_xy=True).transform(x, y)
    tx, ty = np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)
    bad = np.flatnonzero(~(np.isfinite(tx) & np.isfinite(ty)))
    # stations just beyond the official area (AREA_MARGIN degrees) are still fine; their
    # positions are finite in dst_crs, so in degrees too
    inside = in_area_of_use(dst_crs, src_crs, x, y) if not bad.size else None
    if inside is not None:
        bad = np.flatnonzero(~inside)
        swapped = _swapped_fit(src_crs, dst_crs, x[bad], y[bad]) if bad.size else None
        if swapped is not None and swapped.all():
            found = [f"{ids[i]} ({x[i]:g}, {y[i]:g})" for i in bad]
            xy = f"{(names or {}).get('x', 'x')!r}/{(names or {}).get('y', 'y')!r}"
            raise InputError(
                f"{what}, columns {xy}: station(s) {rows_preview(found)} fall outside the area "
                f"of {dst_crs.to_string()} as given in {src_crs.to_string()}, and inside it "
                "with the two coordinates swapped: the columns look swapped (longitude, or "
                "x, comes first). Swap the columns in the file, or map them the other way: "
                + config_option(config_key, "columns", default="columns=")
                + " (lon = the longitude column, lat = the latitude column)."
            )
    if bad.size:
        found = [f"{ids[i]} ({x[i]:g}, {y[i]:g})" for i in bad]
        raise InputError(
            f"{what}: station(s) {rows_preview(found)} given in {src_crs.to_string()} fall "
            f"outside the area of {dst_crs.to_string()}; check their CRS ({fix})."
        )
    return tx, ty


def _swapped_fit(src: Any, dst: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """Whether each position, its two coordinates swapped, falls inside the area of use of
    `dst` (with :data:`~trajectoire.geo.grid.AREA_MARGIN`); None when `dst` has no area or
    the swap cannot be read."""
    if src.is_geographic and not (np.all(np.abs(y) <= 180) and np.all(np.abs(x) <= 90)):
        return None
    return in_area_of_use(dst, src, y, x, AREA_MARGIN)


def _match_case(
    given: dict[str, str],
    table: pd.DataFrame,
    source: Any,
    what: str,
    lines: bool,
    config_key: str | None,
) -> tuple[dict[str, str], pd.DataFrame]:
    """The ``columns`` mapping and the canonical columns matched without case (``LON`` for
    ``lon``, ``Code_Station`` for ``code_station``) when the exact name is absent and one
    column alone matches; an id column found so is read again as text (its leading zeros)."""
    lower: dict[str, list[str]] = {}
    for c in table.columns:
        lower.setdefault(str(c).strip().casefold(), []).append(str(c))

    def match(name: str) -> str | None:
        found = lower.get(name.strip().casefold(), [])
        return found[0] if len(found) == 1 else None

    out = dict(given)
    for key, col in given.items():
        if col not in table.columns and match(col) is not None:
            out[key] = str(match(col))
    mapped = set(out.values())
    for key in _STATION_KEYS:
        if key in out or key in table.columns:
            continue
        found = match(key)
        if found is not None and found not in mapped:
            out[key] = found
    if out == given:
        return given, table
    id_col = out.get("station_id")
    if (
        lines
        and id_col is not None
        and id_col != given.get("station_id", "station_id")
        and isinstance(source, str | os.PathLike)
    ):
        again = read_table(
            source, what=what, dtype={id_col: str}, require_rows=True, config_key=config_key
        )
        table = table.assign(**{id_col: again[id_col].to_numpy()})
    return out, table


#: file column names that hold longitudes or latitudes (not metres)
_DEGREE_NAMES = re.compile(r"(?:^|[_ .-])(lon|long|longitude|lng|lat|latitude)(?:$|[_ .-])", re.I)


def _latitude_first(
    table: pd.DataFrame, x: str, y: str, to_crs: Any, x_word: str, y_word: str
) -> tuple[bool, str]:
    """Whether the columns `x`, `y` (named as degrees) hold a latitude then a longitude, and
    how that is known: by their values, when these fall in the area of use of `to_crs` one
    way round only (the grid's region: 50.6 is a latitude there, 3.1 a longitude); else by
    their names (`x_word`, `y_word`: the degree words found in them, ``lat`` then
    ``lon``)."""
    if x in table.columns and y in table.columns and to_crs is not None:
        a = pd.to_numeric(table[x], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(table[y], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.any() and known_crs(to_crs) is not None:
            as_given = in_area_of_use(to_crs, "EPSG:4326", a[ok], b[ok])
            swapped = in_area_of_use(to_crs, "EPSG:4326", b[ok], a[ok])
            if as_given is not None and swapped is not None:
                if swapped.all() and not as_given.all():
                    return True, "values"
                if as_given.all() and not swapped.all():
                    return False, "values"
    lat_words = ("lat", "latitude")
    return x_word.lower() in lat_words and y_word.lower() not in lat_words, "names"


def _refuse_degrees_as_xy(
    given: Mapping[str, str],
    table: pd.DataFrame,
    to_crs: Any,
    what: str,
    config_key: str | None,
) -> None:
    """``columns.x``/``columns.y`` naming a longitude and a latitude column, without a CRS:
    they would be read as metres in the grid's CRS (every station off the grid). The fix
    maps them as ``lon``/``lat``, the other way round where x holds the latitudes
    (:func:`_latitude_first`)."""
    if "x" not in given or "y" not in given:
        return
    x_word, y_word = _DEGREE_NAMES.search(given["x"]), _DEGREE_NAMES.search(given["y"])
    if not (x_word and y_word):
        return
    x_key = config_option(config_key, "columns.x")
    lon_key = config_option(config_key, "columns.lon")
    swapped, known_by = _latitude_first(
        table, given["x"], given["y"], to_crs, x_word.group(1), y_word.group(1)
    )
    if swapped:
        region = f" in the area of {to_crs}" if known_by == "values" else ""
        raise ConfigError(
            f"{what}: {x_key} = {given['x']!r}, columns.y = {given['y']!r} map "
            f"degrees the wrong way round (the values of {given['x']!r} are latitudes{region}, "
            f"those of {given['y']!r} longitudes), and x/y without a crs are read as metres in "
            "the CRS of the grid; expected metres. "
            f'Map them as {lon_key} = "{given["y"]}", columns.lat = "{given["x"]}" '
            "(degrees, EPSG:4326)."
        )
    raise ConfigError(
        f"{what}: {x_key} = {given['x']!r}, columns.y = {given['y']!r} name columns of "
        "longitude and latitude, but x/y without a crs are read as metres in the CRS of the "
        f'grid; expected metres. Map them as {lon_key} = "{given["x"]}", '
        f'columns.lat = "{given["y"]}" (degrees, EPSG:4326), or set '
        f'{config_option(config_key, "crs")} = "EPSG:4326".'
    )


def station_table(
    stations: pd.DataFrame, *, crs: Any = None, what: str = "stations"
) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """Station ids and coordinates of a station DataFrame, checked.

    Parameters
    ----------
    stations : pandas.DataFrame
        Columns ``station_id`` (unique), ``x``, ``y`` [m], e.g. from :func:`read_stations`;
        or a GeoDataFrame of points (with ``station_id`` and no ``x`` column), reprojected to
        `crs` when both it and `crs` are set.
    crs : optional
        CRS of the grid the stations are used on (a GeoDataFrame is reprojected to it).
    what : str, default "stations"
        Name of the table in error messages.

    Returns
    -------
    ids : list
        Station ids, in the order of the rows.
    x, y : numpy.ndarray
        Station coordinates [m] (float).

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is missing.
    trajectoire.InputError
        Not a DataFrame, missing or duplicated ids, non-numeric or non-finite coordinates
        (the message names the row label, the station and the value).

    Examples
    --------
    >>> ids, x, y = station_table(pd.DataFrame({"station_id": ["a"], "x": [1], "y": [2]}))
    >>> ids, x.tolist(), y.tolist()
    (['a'], [1.0], [2.0])
    """
    if not isinstance(stations, pd.DataFrame):
        raise InputError(
            f"{what} must be a pandas DataFrame with columns station_id, x, y; got "
            f"{type(stations).__name__}."
        )
    table = stations
    if hasattr(stations, "geometry") and "x" not in stations.columns:
        gdf: Any = stations
        geo = gdf.to_crs(crs) if crs and getattr(gdf, "crs", None) else gdf
        table = pd.DataFrame(
            {"station_id": stations["station_id"], "x": geo.geometry.x, "y": geo.geometry.y}
        )
    return _checked_stations(table, what, lines=False)


def _one_column(table: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """Column `column` of `table` alone, under the file's name `name` (same rows and
    ``attrs``, for :func:`numeric_column`'s messages)."""
    out = pd.DataFrame({name: table[column]}, index=table.index)
    out.attrs.update(table.attrs)
    return out


def _checked_stations(
    table: pd.DataFrame,
    what: str,
    *,
    lines: bool,
    names: Mapping[str, str] | None = None,
    units: str = "m in the CRS of the grid",
) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """Check the id and coordinate columns of a station table; return ids, x, y.

    Messages name the rows by file line (`lines`: a table from :func:`read_table`, the header
    is line 1) or by DataFrame row label, the columns by the file's names (`names`:
    canonical -> file column, e.g. ``{"station_id": "code_station", "x": "lon"}``) and the
    positions in `units`.
    """
    header_line = int(table.attrs.get("header_line", 1))
    named = {key: (names or {}).get(key, key) for key in _STATION_COLUMNS}

    def place(i: int) -> str:
        label = table.index[i]  # a numpy label shown as plain text (0, not np.int64(0))
        label = label.item() if isinstance(label, np.generic) else label
        return f"line {i + header_line + 1}" if lines else f"row {label!r}"

    require_columns(table.columns, list(_STATION_COLUMNS), what)
    ids = list(table["station_id"])
    id_column = f"{what}, column {named['station_id']!r}"
    no_id = np.flatnonzero(table["station_id"].isna().to_numpy()).tolist()
    if no_id:
        raise InputError(
            f"{id_column}: no id at {rows_preview([place(i) for i in no_id])}; "
            "every station needs an id."
        )
    repeated = table["station_id"].duplicated(keep=False).to_numpy()
    if repeated.any():
        at: dict[Hashable, list[str]] = {}
        for i in np.flatnonzero(repeated).tolist():
            at.setdefault(ids[i], []).append(place(i).split(" ", 1)[1])
        kind = "lines" if lines else "rows"
        found = [f"{id_text(k)!r} at {kind} {rows_preview(v, 4)}" for k, v in at.items()]
        text = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise InputError(
            f"{id_column}: duplicated id(s) ({text}); every id must appear "
            "once. Merge or rename the duplicated rows"
            + (" (or map the id column with columns.station_id)." if names else ".")
        )
    sx, sy = (
        numeric_column(
            _one_column(table, column, named[column]),
            named[column],
            what=what,
            allow_nan=True,
            units=units,
            ids=[f"station {i}" for i in ids],
            lines=lines,
        )
        for column in ("x", "y")
    )
    bad = np.flatnonzero(~(np.isfinite(sx) & np.isfinite(sy))).tolist()
    if bad:
        x_name, y_name = named["x"], named["y"]
        found = [f"{ids[i]} ({place(i)}: {x_name}={sx[i]}, {y_name}={sy[i]})" for i in bad]
        raise InputError(
            f"{what}, columns {x_name!r}/{y_name!r}: empty or non-finite coordinates for "
            f"station(s) {rows_preview(found)}; expected finite numbers in {units}. Fill or "
            "drop those rows."
        )
    return ids, sx, sy


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
    method: Sampling = "bilinear",
    outside: Outside = "raise",
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
        stations outside the grid (``outside="raise"``; the message says when the stations
        are points in another CRS than the field's ``attrs['crs']``, or the field has none).
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
    _check_sampling(field, method, outside, caller)
    ids, sx, sy = station_table(stations, crs=field.attrs.get("crs"), what=f"{caller}: stations")
    x0, stx = _axis(np.asarray(field["x"].values, dtype=float), "x")
    y0, sty = _axis(np.asarray(field["y"].values, dtype=float), "y")
    inside = _inside_extent(
        field, ids, sx, sy, (stx, sty), outside, caller, hint=_crs_hint(field, stations)
    )
    fx = (sx - x0) / stx
    fy = (sy - y0) / sty
    out = _nearest(field, fx, fy) if method == "nearest" else _bilinear(field, fx, fy)
    out = out.where(xr.DataArray(inside, dims="station"))
    out = out.transpose(*[d for d in field.dims if d not in ("x", "y")], "station")
    out = out.assign_coords(
        {
            "station": ("station", np.asarray(ids, dtype=object)),
            "station_x": ("station", sx),
            "station_y": ("station", sy),
        }
    )
    out.attrs = {**field.attrs, "sampling": method}
    out.name = field.name
    return out


def _check_sampling(field: xr.DataArray, method: str, outside: str, caller: str) -> None:
    """Check the field (a DataArray with dims y, x) and the sampling options."""
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


def _inside_extent(
    field: xr.DataArray,
    ids: list[Hashable],
    sx: np.ndarray,
    sy: np.ndarray,
    steps: tuple[float, float],
    outside: str,
    caller: str,
    *,
    hint: str = "",
) -> np.ndarray:
    """Which stations lie within the extent of the cells; raise or warn about the others.

    `steps` are the signed cell steps along x and y (0 for a single cell: an error); `hint`
    ends the message (:func:`_crs_hint`).
    """
    stx, sty = steps
    if stx == 0 or sty == 0:
        raise InputError(f"{caller}: the field needs at least two cells along x and y.")
    hx, hy = abs(stx) / 2, abs(sty) / 2
    xs = np.asarray(field["x"].values, dtype=float)
    ys = np.asarray(field["y"].values, dtype=float)
    inside = (
        (sx >= xs.min() - hx)
        & (sx <= xs.max() + hx)
        & (sy >= ys.min() - hy)
        & (sy <= ys.max() + hy)
    )
    if not inside.all():
        bad = [ids[i] for i in np.flatnonzero(~inside)]
        msg = (
            f"{caller}: {len(bad)} station(s) outside the grid extent "
            f"x [{xs.min() - hx}, {xs.max() + hx}], y [{ys.min() - hy}, {ys.max() + hy}]: "
            f"{rows_preview(bad)}.{hint}"
        )
        if outside == "raise":
            raise InputError(msg + " Enlarge the grid, drop those stations, or pass outside='nan'.")
        warn(msg + " Their values are NaN.")
    return inside


def _crs_hint(field: xr.DataArray, stations: pd.DataFrame) -> str:
    """A sentence on the CRS for a message about stations outside the grid: when the
    stations are points in a CRS other than the field's ``attrs['crs']``, or the field has
    none (then a GeoDataFrame is not reprojected); empty otherwise."""
    import pyproj

    grid = field.attrs.get("crs")
    points = getattr(stations, "crs", None) if hasattr(stations, "geometry") else None
    if points is not None and grid is None:
        return (
            f" The stations are points in {pyproj.CRS.from_user_input(points).to_string()}, "
            "but the field has no attrs['crs'], so they were not reprojected: set "
            "field.attrs['crs'] (e.g. 'EPSG:2154') or reproject them first (.to_crs)."
        )
    if grid is None:
        return (
            " The field has no attrs['crs']: the stations' x, y must be in the CRS of its "
            "x, y coordinates."
        )
    if points is not None and "x" in stations.columns:
        try:
            same = pyproj.CRS.from_user_input(points).equals(pyproj.CRS.from_user_input(grid))
        except pyproj.exceptions.CRSError:
            same = False
        if not same:
            return (
                f" The stations' x, y columns are used as they are, but their points are in "
                f"{pyproj.CRS.from_user_input(points).to_string()} and the field in {grid}: "
                "drop the x, y columns (the points are then reprojected) or give them in "
                "the field's CRS."
            )
    return ""


def _nearest(field: xr.DataArray, fx: np.ndarray, fy: np.ndarray) -> xr.DataArray:
    """Value of the cell containing each station; `fx`, `fy` are fractional cell indices."""
    ix = np.clip(np.floor(fx + 0.5), 0, field.sizes["x"] - 1).astype(np.int64)
    iy = np.clip(np.floor(fy + 0.5), 0, field.sizes["y"] - 1).astype(np.int64)
    return field.isel(
        x=xr.DataArray(ix, dims="station"), y=xr.DataArray(iy, dims="station"), drop=True
    )


def _bilinear(field: xr.DataArray, fx: np.ndarray, fy: np.ndarray) -> xr.DataArray:
    """Bilinear interpolation between the four cell centres around each station.

    `fx`, `fy` are fractional cell indices, clamped to the centres (constant value between
    the outer centres and the grid edge).
    """
    nx, ny = field.sizes["x"], field.sizes["y"]
    fxc = np.clip(fx, 0, nx - 1)
    fyc = np.clip(fy, 0, ny - 1)
    i0 = np.clip(np.floor(fxc), 0, nx - 2).astype(np.int64)
    j0 = np.clip(np.floor(fyc), 0, ny - 2).astype(np.int64)
    tx = fxc - i0
    ty = fyc - j0

    def corner(di: int, wx: np.ndarray, dj: int, wy: np.ndarray) -> xr.DataArray:
        """Weighted value of the corner (i0 + di, j0 + dj); weights along x and y."""
        w = xr.DataArray(wx * wy, dims="station")
        v = field.isel(
            x=xr.DataArray(i0 + di, dims="station"),
            y=xr.DataArray(j0 + dj, dims="station"),
            drop=True,
        )
        # weight 0 must not turn a NaN neighbour into NaN: skip exact zeros
        return xr.where(w > 0, v * w, 0.0)

    return (
        corner(0, 1 - tx, 0, 1 - ty)
        + corner(0, 1 - tx, 1, ty)
        + corner(1, tx, 0, 1 - ty)
        + corner(1, tx, 1, ty)
    )


# ------------------------------------------------------------------- tidy observations
def observations_from_table(
    table: pd.DataFrame,
    *,
    pollutant: str | None = None,
    time: str = "year",
    units: str = "ug m-3",
    what: str = "observations",
    lines: bool = False,
) -> xr.DataArray:
    """Observations as a ``(year, station)`` or ``(time, station)`` DataArray from a tidy table.

    Reads the layout of ``observations_annual.csv`` (``time="year"``, the default) and of
    ``observations_hourly.csv`` (``time="time"``) (``docs/input-formats.md``): columns
    ``station_id``, `time`, ``pollutant``, ``value``, and optionally ``units``.

    With ``time="year"`` the ``year`` column is used as it is. Any other `time` column holds
    instants, read as ISO 8601 text (``2023-01-01T00:00:00Z``) and converted to UTC: a
    time with an offset (``2023-01-01T01:00:00+01:00``, local time) is converted with it,
    and **a time without a zone (``2023-01-01T00:00:00``) is taken as UTC** (a file in
    local time must give its offsets). Every time of the table has a zone, or none has.
    Two spellings of one instant (``...T00:00:00Z``, ``...T00:00:00+00:00``,
    ``...T01:00:00+01:00``) are the same time: for one station, a duplicate. The times
    are sorted chronologically. :func:`annual_means` turns hourly values into annual means
    with the data-capture rule of Directive 2008/50/EC.

    A ``units`` column gives the units of each row's value and overrides `units`, as in the
    background table (:func:`trajectoire.dispersion.read_background`, whose rule
    :func:`observation_units` applies): every value is converted to the unit of its species' family, ``ug m-3`` for a
    mass (from ``ng m-3``, ``mg m-3``..., or for a gas from a mixing ratio, ``ppb``,
    ``ppm``, with its molar mass at 293.15 K and 101.325 kPa, Directive 2008/50/EC:
    :func:`trajectoire.units.mixing_ratio_factor`; 1 ppb of NO2 is 1.9125 ug m-3) or
    ``cm-3`` for particle numbers; the result is in that unit.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy observations, one row per station, time (and pollutant).
    pollutant : str, optional
        Keep the rows of this pollutant (compared case-insensitively); required when the
        table holds several pollutants.
    time : str, default "year"
        Name of the time column, which becomes the first dim: ``"year"`` (calendar years,
        used as given), or another name (``"time"``) for instants in ISO 8601 (UTC when
        they have no zone).
    units : str, default "ug m-3"
        Units of ``value`` when the table has no ``units`` column (checked with
        :mod:`trajectoire.units`, kept as given).
    what : str, default "observations"
        Name of the source (file, and its configuration key) for error messages.
    lines : bool, default False
        Name the rows in messages by file line (a table read by
        :func:`trajectoire.tables.read_table`), else by row label.

    Returns
    -------
    xarray.DataArray
        Dims ``(time, station)`` (`time` the name given), NaN where a station has no value
        at a time. For instants, the `time` coordinate is ``datetime64[ns]`` in UTC, without
        a zone (xarray has none), sorted, with ``attrs`` ``timezone = "UTC"``,
        ``standard_name = "time"``. ``units`` set (with a
        ``units`` column: ``ug m-3``, or ``cm-3`` for a particle-number species). The
        ``station`` coordinate holds the ids as text, as :func:`read_stations` reads them
        (:func:`trajectoire.tables.id_text`: ``911025`` read as a number is ``"911025"``;
        read the file with ``dtype={"station_id": str}`` to keep leading zeros).

    Raises
    ------
    trajectoire.MissingVariableError
        Missing columns.
    trajectoire.InputError
        Several pollutants and none chosen, duplicated (station, time) rows (instants
        compared in UTC, each pair named with its rows and their text), a row without a
        station id, values that are not numbers or not finite (each shown with its row);
        times that are not ISO 8601 (empty, numbers, ``03/04/2023``, ``2023-02-30``) or
        that mix times with and without a zone: one line naming `what`, the column, the
        rows (file lines with `lines`), the text and the form expected.
    trajectoire.UnitsError
        Unknown units; in a ``units`` column, an empty cell where a value is given, or units
        that are not a concentration (nor a mixing ratio of a gas) of the species' family:
        one line naming the row, the units and those expected.

    Examples
    --------
    >>> t = pd.DataFrame({"station_id": ["a", "a", "b"], "year": [2019, 2020, 2020],
    ...                   "pollutant": "NO2", "value": [30.0, 28.0, 41.0]})
    >>> observations_from_table(t).values.tolist()
    [[30.0, nan], [28.0, 41.0]]
    >>> t["units"] = ["ug m-3", "ppb", "ng m-3"]
    >>> observations_from_table(t, pollutant="NO2").round(3).values.tolist()
    [[30.0, nan], [53.55, 0.041]]
    >>> h = pd.DataFrame({"station_id": "a", "pollutant": "NO2", "value": [20.0, 10.0],
    ...                   "time": ["2023-01-01T01:00:00Z", "2023-01-01T01:00:00+02:00"]})
    >>> o = observations_from_table(h, time="time")
    >>> [str(t) for t in o["time"].values], o.values.ravel().tolist()
    (['2022-12-31T23:00:00.000000000', '2023-01-01T01:00:00.000000000'], [10.0, 20.0])
    """
    kind, canonical = concentration_units(units, f"{what}: units")
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
    values = numeric_column(rows, "value", what=what, allow_nan=True, units=canonical, lines=lines)
    if "units" in rows.columns:
        species = pollutant
        if species is None and "pollutant" in rows.columns and len(rows):
            species = str(rows["pollutant"].iloc[0])
        values, canonical = observation_units(rows, values, species, what=what, lines=lines)
        kind = "concentration" if canonical == "ug m-3" else "number_concentration"
    no_id = [i for i, v in zip(rows.index, rows["station_id"], strict=True) if blank_cell(v)]
    if no_id:
        raise InputError(
            f"{what}, column 'station_id': no id at rows {rows_preview(no_id)}; every "
            "observation needs the id of its station. Fill the ids or drop those rows."
        )
    # ids as text, as read_stations reads them: 911025 read as a number matches '911025'
    ids = pd.Series([id_text(v) for v in rows["station_id"]], index=rows.index)
    if time == "year":
        dup = pd.concat([ids, rows[time]], axis=1).duplicated(keep=False)
        if dup.any():
            raise InputError(
                f"{what}: duplicated (station_id, {time}) rows "
                f"{rows_preview(list(rows.index[dup]))}; keep one value per station and time."
            )
        stamps = rows[time].to_numpy()
    else:  # instants: parsed to UTC first, so that two spellings of one instant meet
        stamps, naive = _utc_times(rows, time, what=what, lines=lines)
        _refuse_repeated_instants(rows, ids, stamps, time, what=what, lines=lines, naive=naive)
    wide = (
        pd.DataFrame({time: stamps, "station_id": ids.to_numpy(), "value": values})
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
    if time != "year":
        out[time].attrs.update(_UTC_ATTRS)
    if pollutant is not None:
        out.attrs["pollutant"] = str(pollutant)
    if kind == "number_concentration":
        out.attrs["long_name"] = "observed number concentration"
    return out


def observation_units(
    rows: pd.DataFrame,
    values: Any,
    pollutant: str | None,
    *,
    what: str = "observations",
    lines: bool = False,
) -> tuple[np.ndarray, str]:
    """Observed values converted with the ``units`` column of their rows.

    Each value is converted to the unit of its species' family: ``ug m-3`` for a mass
    concentration (from ``ng m-3``, ``mg m-3``...; a gas may also be given as a mixing
    ratio, ``ppb``, ``ppm``, converted with its molar mass at the reference conditions of
    Directive 2008/50/EC, 293.15 K and 101.325 kPa: 1 ppb of NO2 is 1.9125 ug m-3), or
    ``cm-3`` for particle numbers: the rule of the background table
    (:func:`trajectoire.species.concentration_factor_of`).

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows of one pollutant, with a ``units`` column (their labels name them in
        messages).
    values : array_like of float
        Their values, in the units of the column (NaN: no value, its unit not needed).
    pollutant : str or None
        Species id or alias of the rows; one the registry does not know (or None) is
        converted within the kind of its units (a mixing ratio then needs a known gas).
    what : str, default "observations"
        The file and its configuration key, first in messages.
    lines : bool, default False
        Name the rows by file line (a table read by :func:`trajectoire.tables.read_table`),
        else by row label.

    Returns
    -------
    (numpy.ndarray, str)
        The values in ``ug m-3`` (or ``cm-3``), and that unit.

    Raises
    ------
    trajectoire.UnitsError
        An empty unit where a value is given, or a unit that is not a concentration (nor a
        mixing ratio of a gas) of the species' family, or rows mixing masses and particle
        numbers: one line naming `what`, the row, the column, the unit and those expected.

    Examples
    --------
    >>> t = pd.DataFrame({"value": [10.0, 31000.0], "units": ["ppb", "ng m-3"]})
    >>> v, unit = observation_units(t, t["value"], "NO2")
    >>> v.round(4).tolist(), unit
    ([19.125, 31.0], 'ug m-3')
    """
    values = np.asarray(values, dtype=float)
    where = data_lines(rows, range(len(rows))) if lines else [f"row {i!r}" for i in rows.index]
    try:
        species = get_pollutant(pollutant) if pollutant is not None else None
    except InputError:
        species = None
    factors = np.ones(len(rows))
    kinds: set[str] = set()
    for k, (u, v) in enumerate(zip(rows["units"], values, strict=True)):
        at = f"{what}, {where[k]}, column 'units'"
        if blank_cell(u):
            if np.isnan(v):
                continue  # no value: nothing to convert
            raise UnitsError(
                f"{at}: empty where the value is {v:g}; expected the units of the row's value "
                "(ug m-3, ng m-3, ppb, ppm; cm-3 for particle numbers). Fill the cell."
            )
        at = f"{at}, pollutant {pollutant!r}"
        if species is None:  # within the kind of the units
            kind, canon = concentration_units(u, at)
            factors[k] = UNIT_TABLE[kind][canon]
        else:  # the background table's rule
            kind = UNIT_FAMILIES[species.unit_family]["concentration"]
            factors[k] = concentration_factor_of(u, species.id, what=at)
        kinds.add(kind)
    if len(kinds) > 1:
        raise UnitsError(
            f"{what}, column 'units': mass concentrations and particle numbers in the rows of "
            f"{pollutant!r}; expected one family: particle numbers and masses never mix."
        )
    kind = kinds.pop() if kinds else "concentration"
    return values * factors, next(iter(UNIT_TABLE[kind]))


# ---------------------------------------------------------------------- instants (UTC)
#: attributes of a time coordinate of instants: naive datetime64 values that are UTC
_UTC_ATTRS = {"standard_name": "time", "timezone": "UTC"}
#: the form of a time in messages
_ISO_FORM = (
    "expected ISO 8601, e.g. 2023-01-01T00:00:00Z (UTC; or with its offset, "
    "2023-01-01T01:00:00+01:00; without a zone it is read as UTC)"
)


def _places(rows: pd.DataFrame, positions: Any, lines: bool) -> list[str]:
    """Where the rows at `positions` (0 for the first of `rows`) are, for messages: file
    lines with `lines` (a table read by :func:`trajectoire.tables.read_table`), else row
    labels."""
    positions = [int(i) for i in positions]
    if lines:
        return data_lines(rows, positions)
    return [f"row {rows.index[i]!r}" for i in positions]


def _utc_times(
    rows: pd.DataFrame, column: str, *, what: str, lines: bool
) -> tuple[np.ndarray, bool]:
    """The instants of `column` as naive UTC ``datetime64[ns]``, and whether they were
    written without a zone (then taken as UTC); one line for cells that are not ISO 8601
    times, and for a column mixing times with and without a zone."""
    raw = rows[column]
    if isinstance(raw, pd.DataFrame):
        raise InputError(f"{what}: column {column!r} appears more than once; rename one.")
    at = f"{what}, column {column!r}"
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        parsed = pd.to_datetime(raw, utc=True)  # naive: UTC; with a zone: converted
        naive = not isinstance(raw.dtype, pd.DatetimeTZDtype)
        text = raw.astype(str)
        bad = parsed.isna().to_numpy()
    else:
        cells = raw.to_numpy(dtype=object)
        number = np.array(
            [isinstance(v, int | float | np.number) and not blank_cell(v) for v in cells],
            dtype=bool,
        )
        # datetime objects (an object column) as ISO text, with their zone when they have one
        text = pd.Series(
            [
                pd.Timestamp(v).isoformat()
                if isinstance(v, np.datetime64 | datetime.date)
                else str(v).strip()
                for v in cells
            ],
            index=raw.index,
            dtype=object,
        )
        blank = np.array([blank_cell(v) for v in cells], dtype=bool)
        parsed = pd.to_datetime(
            text.where(~(blank | number), None), format="ISO8601", utc=True, errors="coerce"
        )
        bad = parsed.isna().to_numpy() | number
        zoned = zoned_times(text)
        if not bad.any() and zoned.any() and not zoned.all():
            first_naive, first_zoned = np.flatnonzero(~zoned)[0], np.flatnonzero(zoned)[0]
            places = _places(rows, [first_naive, first_zoned], lines)
            raise InputError(
                f"{at}: {int((~zoned).sum())} time(s) without a zone (e.g. "
                f"{text.iloc[first_naive]!r} at {places[0]}) among {int(zoned.sum())} with one "
                f"(e.g. {text.iloc[first_zoned]!r} at {places[1]}); expected one convention "
                "for the whole table: every time with its zone (2023-01-01T00:00:00Z), or "
                "none (then read as UTC). Add the zone to the times without one."
            )
        naive = not zoned.any()
        if number.any() and number.all():
            places = _places(rows, np.flatnonzero(number)[:3], lines)
            raise InputError(
                f"{at}: numbers, not times ({text.iloc[int(np.flatnonzero(number)[0])]!r} at "
                f"{places[0]}...); {_ISO_FORM}. For annual values, name the column 'year' "
                "and pass time='year'."
            )
    if bad.any():
        found: dict[str, list[str]] = {}
        positions = np.flatnonzero(bad)
        for i, place in zip(positions, _places(rows, positions, lines), strict=True):
            cell = raw.iloc[int(i)]
            found.setdefault("" if blank_cell(cell) else str(text.iloc[int(i)]), []).append(place)
        raise InputError(
            f"{at}: {positions.size} time(s) not read: {values_at(found)}; {_ISO_FORM}, year "
            "first (day/month orders such as 03/04/2023 are ambiguous and not read). Fix "
            "those cells."
        )
    stamps = parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
    return stamps, naive


def _refuse_repeated_instants(
    rows: pd.DataFrame,
    ids: pd.Series,
    stamps: np.ndarray,
    column: str,
    *,
    what: str,
    lines: bool,
    naive: bool,
) -> None:
    """One line for a station given twice at one instant (compared in UTC): each pair with
    its rows and their text as written."""
    keys = pd.DataFrame({"station": ids.to_numpy(), "t": stamps})
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    groups: dict[tuple[Any, Any], np.ndarray] = dict(
        keys[dup].groupby(["t", "station"], sort=True).indices  # type: ignore[arg-type]
    )
    text = rows[column].astype(str).str.strip().to_numpy()
    shown = []
    for (t, station), where in list(groups.items())[:3]:
        positions = np.flatnonzero(dup)[where]
        places = _places(rows, positions, lines)
        spelled = ", ".join(
            f"{p} ({text[int(i)]!r})" for p, i in zip(places, positions, strict=True)
        )
        shown.append(f"station {station!r} at {pd.Timestamp(t):%Y-%m-%dT%H:%M:%S}Z on {spelled}")
    more = f" (and {len(groups) - 3} more)" if len(groups) > 3 else ""
    instants = [pd.Timestamp(t) for t, _ in groups]
    if naive and all(clock_goes_back(t) for t in instants):
        why = (
            "these are the hours France's clocks repeat when they go back in autumn: the "
            "times look local (CET/CEST) and are read as UTC. Write each time with its "
            "offset (2023-10-29T02:00:00+01:00) or convert the times to UTC."
        )
    else:
        why = (
            "times are compared in UTC, so two spellings of one instant (Z, +00:00, a local "
            "time with its offset) are the same time. Keep one value per station and time."
        )
    raise InputError(
        f"{what}: {len(groups)} (station_id, {column}) pair(s) on several rows: "
        f"{'; '.join(shown)}{more}; {why}"
    )


# ------------------------------------------------------------------------ annual means
#: Minimum share of a calendar year's hours with a valid value for an annual mean [1]:
#: Directive 2008/50/EC, Annex XI section A ("annual mean: 90 % of the one hour values")
#: and Annex I section A (minimum data capture of fixed measurements, 90 % for SO2, NO2,
#: NOx, CO, benzene, PM10, PM2.5 and lead).
ANNUAL_MIN_CAPTURE = 0.9

Stamp = Literal["start", "end"]
"""Which end of its hour a time stamps (`stamp` of :func:`annual_means`): the hour that
begins at the time (``00:00`` is 00:00-01:00), or the hour that ends at it (``01:00`` is
00:00-01:00)."""


def annual_means(
    hourly: xr.DataArray,
    *,
    min_capture: float = ANNUAL_MIN_CAPTURE,
    stamp: Stamp = "start",
) -> xr.DataArray:
    """Annual means of hourly values, with the data-capture rule of the Air Quality Directive.

    A calendar year (UTC) has a mean where the share of its hours with a valid value (not
    NaN), the *data capture*, is at least `min_capture`; the denominator is every hour of
    the year, 8760 (8784 in a leap year), whether or not the data hold a row for it. The
    mean is that of the valid hours. Elsewhere the year is NaN, with its capture kept.

    Parameters
    ----------
    hourly : xarray.DataArray
        Hourly values with a ``time`` dim of ``datetime64`` in UTC (naive), such as
        ``observations_from_table(table, time="time")`` returns; any other dims
        (``station``, ``pollutant``) are kept. One value per hour: the times are distinct
        and on the hour; hours without a value are absent or NaN.
    min_capture : float, default 0.9
        Minimum data capture of a year [1, a fraction in (0, 1]]. The default,
        :data:`ANNUAL_MIN_CAPTURE`, is the Directive's: 90 % of the one-hour values over
        the year. With 0.9, 7884 valid hours of 8760 make a mean, 7883 do not (7906 of
        8784 in a leap year).
    stamp : {"start", "end"}, default "start"
        Whether a time is the start of its hour (``2023-01-01T00:00Z`` is the first hour
        of 2023, the layout of ``observations_hourly.csv``) or its end
        (``2024-01-01T00:00Z`` is the last hour of 2023, as in networks that stamp the
        end of the averaging period).

    Returns
    -------
    xarray.DataArray
        Dims ``(year, ...)`` (``year`` int, the calendar years that the times touch, in
        order; then the other dims of `hourly`), in the units of `hourly`: its ``attrs``
        (``units``, ``pollutant``...) are kept, with ``long_name`` prefixed by "annual
        mean of", ``cell_methods = "time: mean"`` and ``min_data_capture`` (the threshold
        used). Coordinates on the same dims: ``data_capture`` [1] the share of the year's
        hours with a valid value, and ``valid_hours`` their number.

    Raises
    ------
    trajectoire.InputError
        `hourly` is not a DataArray with a ``datetime64`` ``time`` dim (text times, a
        ``year`` dim, a Dataset), its values are not numbers, its times are missing,
        repeated, not on the hour or not hourly (a median step other than 1 h);
        `min_capture` is not a fraction in (0, 1] (``90`` for 90 % is refused with the
        fraction to give); `stamp` is neither "start" nor "end". One line each.

    Notes
    -----
    Directive 2008/50/EC, Annex XI section A, requires 90 % of the one-hour values over the
    year for an annual mean, and its Annex I section A sets a minimum data capture of 90 %
    for fixed measurements of SO2, NO2, NOx, CO, benzene, PM10, PM2.5 and lead. Both leave
    out of the count the data lost to the regular calibration or normal maintenance of the
    instruments; this function cannot tell those hours apart and counts every hour of the
    year, which is stricter: where the missing hours include such losses, pass the lower
    share that allows for them. The year is the UTC calendar year.

    References
    ----------
    Directive 2008/50/EC of the European Parliament and of the Council of 21 May 2008 on
    ambient air quality and cleaner air for Europe, OJ L 152, 11.6.2008, p. 1-44: Annex I
    section A (data quality objectives) and Annex XI section A (criteria for aggregating
    data and calculating statistical parameters).

    Examples
    --------
    >>> t = pd.date_range("2023-01-01", "2023-12-31T23:00", freq="h")
    >>> v = xr.DataArray(np.full((t.size, 2), 20.0), dims=("time", "station"),
    ...                  coords={"time": t, "station": ["a", "b"]}, attrs={"units": "ug m-3"})
    >>> v[: 877, 1] = np.nan  # station b: 7883 valid hours of 8760, below 90 %
    >>> a = annual_means(v)
    >>> a.values.tolist(), a["valid_hours"].values.tolist(), a.attrs["units"]
    ([[20.0, nan]], [[8760, 7883]], 'ug m-3')
    """
    min_capture = _capture_share(min_capture)
    if stamp not in ("start", "end"):
        raise InputError(
            f"annual_means: stamp={stamp!r}; expected 'start' (a time is the start of its "
            "hour) or 'end' (the end of its hour)."
        )
    times = _hourly_times(hourly)
    hours = times - pd.Timedelta(hours=1) if stamp == "end" else times
    data = hourly.transpose("time", ...)
    values = np.asarray(data.values, dtype=float)
    year_of = hours.year.to_numpy()
    years = np.unique(year_of)
    rest = values.shape[1:]
    means = np.full((years.size, *rest), np.nan)
    valid_hours = np.zeros((years.size, *rest), dtype=np.int64)
    capture = np.zeros((years.size, *rest))
    for k, year in enumerate(years):
        block = values[year_of == year]
        ok = ~np.isnan(block)
        n = ok.sum(axis=0)
        total = 8784 if calendar.isleap(int(year)) else 8760
        # the fewest whole hours that make the share (7884 of 8760 at 0.9), free of the
        # rounding of min_capture * total
        need = max(math.ceil(round(min_capture * total, 6)), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(ok, block, 0.0).sum(axis=0) / n
        means[k] = np.where(n >= need, mean, np.nan)
        valid_hours[k] = n
        capture[k] = n / total
    dims = ("year", *data.dims[1:])
    coords: dict[Hashable, Any] = {"year": years.astype(np.int64)}
    for name, coord in data.coords.items():
        if "time" not in coord.dims:
            coords[name] = coord
    coords["data_capture"] = xr.Variable(
        dims,
        capture,
        attrs={
            "units": "1",
            "long_name": "data capture: share of the calendar year's hours (8760, 8784 in "
            "a leap year) with a valid hourly value",
        },
    )
    coords["valid_hours"] = xr.Variable(
        dims, valid_hours, attrs={"units": "1", "long_name": "hours with a valid value"}
    )
    attrs = dict(hourly.attrs)
    attrs["long_name"] = "annual mean of " + str(attrs.get("long_name", "hourly values"))
    attrs["cell_methods"] = "time: mean"
    attrs["min_data_capture"] = min_capture
    return xr.DataArray(means, dims=dims, coords=coords, attrs=attrs, name=hourly.name)


def _capture_share(min_capture: Any) -> float:
    """`min_capture` as a float in (0, 1]; a percentage or a non-number is one line."""
    if isinstance(min_capture, bool) or not isinstance(min_capture, int | float | np.number):
        raise InputError(
            f"annual_means: min_capture={min_capture!r}; expected a fraction in (0, 1], "
            f"e.g. {ANNUAL_MIN_CAPTURE} (90 %, Directive 2008/50/EC)."
        )
    share = float(min_capture)
    if 1 < share <= 100:
        raise InputError(
            f"annual_means: min_capture={min_capture!r} looks like a percentage; expected a "
            f"fraction in (0, 1]: min_capture={share / 100:g} for {share:g} %."
        )
    if not (np.isfinite(share) and 0 < share <= 1):
        raise InputError(
            f"annual_means: min_capture={min_capture!r}; expected a fraction in (0, 1], "
            f"e.g. {ANNUAL_MIN_CAPTURE} (90 %, Directive 2008/50/EC)."
        )
    return share


def _hourly_times(hourly: Any) -> pd.DatetimeIndex:
    """The ``time`` coordinate of `hourly`, checked: a DataArray of numbers whose ``time``
    dim is distinct ``datetime64`` values on the hour, one hour apart (median)."""
    fix = (
        "expected an xarray.DataArray of hourly values with a datetime64 'time' dim (UTC), "
        'such as observations_from_table(table, pollutant="NO2", time="time") returns'
    )
    if isinstance(hourly, xr.Dataset):
        raise InputError(
            f"annual_means: got an xarray.Dataset ({list(hourly.data_vars)}); {fix}. Pass "
            "one of its variables."
        )
    if not isinstance(hourly, xr.DataArray):
        raise InputError(f"annual_means: got {type(hourly).__name__}; {fix}.")
    if "time" not in hourly.dims:
        already = " The values are already annual (a 'year' dim)." if "year" in hourly.dims else ""
        raise InputError(f"annual_means: no 'time' dim (dims {list(hourly.dims)}); {fix}.{already}")
    coord = hourly["time"]
    if not np.issubdtype(coord.dtype, np.datetime64):
        first = str(coord.values[0]) if coord.size else None
        raise InputError(
            f"annual_means: the 'time' coordinate holds {coord.dtype} values (e.g. {first!r}), "
            f"not datetime64; {fix} (it parses ISO 8601 text to UTC)."
        )
    if not np.issubdtype(hourly.dtype, np.number) or np.issubdtype(hourly.dtype, np.bool_):
        raise InputError(f"annual_means: the values are {hourly.dtype}, not numbers; {fix}.")
    times = pd.DatetimeIndex(coord.values.astype("datetime64[ns]"))  # asi8 in ns
    if times.size == 0:
        raise InputError(f"annual_means: no time (an empty 'time' dim); {fix}.")
    if times.hasnans:
        raise InputError(
            f"annual_means: {int(np.isnat(times.to_numpy()).sum())} missing time(s) (NaT) in the 'time' "
            "coordinate; every value needs its hour. Drop them first: "
            "hourly.sel(time=hourly.time.notnull())."
        )
    repeated = times[times.duplicated()].unique()
    if repeated.size:
        shown = ", ".join(f"{t:%Y-%m-%dT%H:%M}Z" for t in repeated[:4])
        more = f" (and {repeated.size - 4} more)" if repeated.size > 4 else ""
        raise InputError(
            f"annual_means: {repeated.size} time(s) given more than once: {shown}{more}; "
            "expected one value per hour."
        )
    off = np.asarray(times != times.floor("h"), dtype=bool)
    if off.any():
        raise InputError(
            f"annual_means: {int(off.sum())} time(s) not on the hour (e.g. "
            f"{times[off][0]:%Y-%m-%dT%H:%M:%S}); expected hourly values stamped on the hour. "
            "Resample to hourly means first."
        )
    if times.size > 1:
        step = pd.Timedelta(np.median(np.diff(times.sort_values().asi8)), "ns")
        if step != pd.Timedelta(hours=1):
            raise InputError(
                f"annual_means: the values are not hourly (median step {step}); expected one "
                "value per hour, the data capture counting the hours of each year."
            )
    return times
