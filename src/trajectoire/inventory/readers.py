"""Readers of the inventory inputs of ``docs/input-formats.md``, with fix-it messages.

Point sources (:func:`read_point_sources`), road links and their emission factors
(:func:`read_roads`, :func:`read_road_emission_factors`), zones and their totals
(:func:`read_zones`, :func:`read_area_totals`), gridded inventories in any CRS
(:func:`read_gridded`) and the land-use raster (:func:`read_landuse`). Every reader checks
its input (ids, sectors, pollutants, units, signs) and returns amounts in ``t yr-1``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import shapely
import xarray as xr

from trajectoire._validate import require_columns, require_non_negative, rows_preview, values_at
from trajectoire.errors import (
    GridError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    warn,
)
from trajectoire.geo.grid import (
    Grid,
    as_crs,
    beyond_degrees,
    check_area_of_use,
    check_geographic_range,
    crs_of,
    crs_option,
)
from trajectoire.geo.regridding import grid_of
from trajectoire.geo.territories import check_zone_overlaps, valid_polygons
from trajectoire.inventory.proxies import road_emissions_per_km
from trajectoire.inventory.schema import POINT_VARIABLES, check_service_years
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import (
    emission_factor,
    get_pollutant,
    known_species,
    normalise_pollutant,
    not_modelled,
)
from trajectoire.tables import (
    blank_cell,
    choose_layer,
    data_lines,
    file_column,
    id_text,
    mapped_columns,
    numeric_column,
    open_netcdf,
    option_table,
    read_table,
)
from trajectoire.units import conversion_factor

__all__ = [
    "read_area_totals",
    "read_gridded",
    "read_landuse",
    "read_point_sources",
    "read_road_emission_factors",
    "read_roads",
    "read_zones",
]

PathOrFrame: TypeAlias = str | PathLike[str] | pd.DataFrame

_POINT_META = {"source_id", "x", "y", "lon", "lat", "geometry", *POINT_VARIABLES.values()}
#: units of the stack-parameter and year columns of a point-source table, for messages
_POINT_UNITS = {"height": "m", "diameter": "m", "temperature": "K", "velocity": "m s-1"}


def _name(src: Any, default: str) -> str:
    return str(src) if isinstance(src, str | PathLike) else default


#: file names read as CSV tables (:func:`trajectoire.tables.read_table`); others as vector files
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")


def _is_csv(source: Any) -> bool:
    """True when `source` is the path of a CSV table (its rows are then named by file line)."""
    return isinstance(source, str | PathLike) and str(source).lower().endswith(_CSV_SUFFIXES)


def _read_table(
    path: str | PathLike[str],
    *,
    layer: str | None = None,
    default_layer: str | None = None,
    what: str | None = None,
    text: Sequence[str] = (),
    config_key: str | None = None,
) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found. Check the path (relative to {Path.cwd()}).")
    if _is_csv(p):  # the columns `text` (ids) as text, keeping their leading zeros
        dtype = {file_column(c): str for c in text} or None
        return read_table(p, what=what, require_rows=True, dtype=dtype)
    import geopandas as gpd

    layer = choose_layer(
        p, layer, what=what or str(p), preferred=() if default_layer is None else (default_layer,),
        config_key=config_key,
    )  # fmt: skip
    try:
        frame = gpd.read_file(p, layer=layer)
    except Exception as exc:  # pyogrio raises its own error types
        raise InputError(f"{p}: could not read it as a vector file ({exc}).") from exc
    return mapped_columns(frame)


def _table(
    source: Any,
    *,
    layer: str | None = None,
    default_layer: str | None = None,
    what: str | None = None,
    text: Sequence[str] = (),
    config_key: str | None = None,
) -> pd.DataFrame:
    """The table in file `source` (:func:`_read_table`; the CSV columns `text` read as
    text; `config_key` named where a layer is to be chosen), or a copy of the
    (Geo)DataFrame given."""
    if isinstance(source, str | PathLike):
        return _read_table(source, layer=layer, default_layer=default_layer, what=what, text=text,
                           config_key=config_key)  # fmt: skip
    if isinstance(source, pd.DataFrame):
        return source.copy()
    raise InputError(
        f"{what or 'input'}: received {type(source).__name__}; expected a file path (str or "
        "pathlib.Path) or a (Geo)DataFrame (pandas.read_csv(...) of an open file)."
    )


def _read_shapes(
    source: Any,
    name: str,
    layer: str | None,
    default_layer: str,
    kind: str,
    types: tuple[str, ...],
    *,
    crs: Any = None,
    crs_key: str | None = None,
    crs_fix: str = "",
    assume_crs: Any = None,
    config_key: str | None = None,
    id_column: str | None = None,
    id_kind: str | None = None,
) -> Any:
    """A GeoDataFrame of `kind` geometries (of `types` only) with a CRS, from a file or a frame.

    With `crs_key` (the option that states the CRS of a file without one, e.g.
    ``[inputs.zones] crs``), `crs` is that CRS: it is given to a file without one, and one
    that differs from the file's own is an error; a file without a CRS, when `crs` is not
    given, is an error saying `crs_fix` (how to set it). `assume_crs` is given to a file
    without a CRS (a file with one keeps it); without it, such a file is an error saying
    `crs_fix` when given. A CRS in degrees that cannot hold the file's coordinates (a
    GeoJSON without ``"crs"`` in metres, read as WGS84) counts as none: `crs` or
    `assume_crs` replaces it, and without them it is an error saying `crs_fix`
    (:func:`trajectoire.geo.grid.check_geographic_range`). Features outside the area of use
    of a projected CRS are an error (:func:`trajectoire.geo.grid.check_area_of_use`, naming
    `config_key`). `id_column` names the column whose values name a feature in messages
    (a commune's INSEE code), called `id_kind` (default: the column's name).
    """
    import geopandas as gpd

    gdf = _table(source, layer=layer, default_layer=default_layer, what=name, config_key=config_key)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{name}: expected {kind} geometries (GeoPackage/Shapefile), got a plain table."
        )
    if crs_key is not None and crs is not None:
        stated = as_crs(crs, f"{name}: {crs_key}")
        if gdf.crs is None or (not stated.equals(gdf.crs) and beyond_degrees(gdf)):
            # a CRS in degrees that cannot hold the coordinates (a GeoJSON without "crs",
            # read as WGS84) is no CRS of the file's: the one stated replaces it
            gdf = gdf.set_crs(stated, allow_override=True)
        elif not stated.equals(gdf.crs):
            raise InputError(
                f"{name}: {crs_key} = {crs!r}, but the file has its own CRS "
                f"({gdf.crs.to_string()}), which is used for its coordinates. Remove "
                f"{crs_key}, or fix the file's CRS."
            )
    if len(gdf) == 0:  # an empty layer ended on a reshape error (roads) or misleading ids
        raise InputError(
            f"{name}: the layer{f' {layer!r}' if layer else ''} has no feature; expected "
            f"{kind}s. Give the file or layer that holds them"
            + (f" ({config_option(config_key, 'layer')}, path)." if config_key else ".")
        )
    if gdf.crs is None and crs_key is not None:
        raise InputError(
            f"{name}: has no CRS (a shapefile without its .prj file?); expected the CRS its "
            f"coordinates are in. {crs_fix} (or the right one), or give the file a CRS."
        )
    if assume_crs is not None and (gdf.crs is None or beyond_degrees(gdf)):
        gdf = gdf.set_crs(as_crs(assume_crs, f"{name}: crs"), allow_override=True)
    if gdf.crs is None and crs_fix:
        raise InputError(
            f"{name}: has no CRS (a shapefile without its .prj file?); expected the CRS its "
            f"coordinates are in. {crs_fix} (or the right one), or give the file a CRS."
        )
    if gdf.crs is None:
        raise InputError(f"{name}: has no CRS; set it with .set_crs('EPSG:2154').")
    # before anything reprojects it: metres read as degrees become infinities there
    rewrite = (
        "write the file with its CRS (ogr2ogr -a_srs EPSG:2154 out.gpkg <file>)"
        if isinstance(source, str | PathLike)
        else "set the frame's true CRS (.set_crs('EPSG:2154', allow_override=True))"
    )
    check_geographic_range(
        gdf, name,
        f"{crs_fix} (or the CRS its coordinates are in), or {rewrite}." if crs_fix
        else f"{rewrite[0].upper()}{rewrite[1:]}.",
        source,
    )  # fmt: skip
    found = set(gdf.geometry.geom_type.dropna())
    if not found <= set(types):
        raise InputError(
            f"{name}: geometries must be {kind}s ({'/'.join(types)}), found {sorted(found)}."
        )
    ident = next((c for c in (f"{default_layer[:-1]}_id", "id") if c in gdf.columns), None)
    if id_column is not None and id_column in gdf.columns:
        ident = id_column
    missing = np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
    if missing.size:  # a feature without a shape would carry nothing, silently
        labels = [f"{gdf[ident].iloc[i]}" if ident else f"{i + 1}" for i in missing]
        called = (id_kind or ident) if ident == id_column else ident
        where = (
            f"{called} {rows_preview(labels)}" if ident else f"feature(s) {rows_preview(labels)}"
        )
        raise InputError(
            f"{name}: {missing.size} {kind}(s) without a geometry ({where}); expected a "
            f"{kind} for every row. Draw their geometry or remove those rows"
            + (f" of the file given by {config_option(config_key, 'path')}." if config_key else ".")
        )
    # degrees labelled Lambert-93 put every feature metres from the CRS's origin: outside
    # the grid, their emissions left out with a warning of a tiny mass (lengths in degrees)
    labels = [str(v) for v in gdf[ident]] if ident else [f"row {i + 1}" for i in range(len(gdf))]
    check_area_of_use(gdf, labels, name, config_key, kind=kind)
    return gdf


def _modelled(values: Sequence[Any], what: str, kind: str) -> np.ndarray:
    """Which of the pollutant names `values` to read: False for the pollutants the library
    does not model (:func:`trajectoire.species.not_modelled`: CO2, CO, metals...), which
    inventories carry beside NOx, left out with one warning naming them (`kind`:
    ``"column(s)"`` or ``"row(s)"``). Other names are read, and an unknown one is an error
    there (a typo of a modelled pollutant)."""
    distinct = {v for v in values if isinstance(v, str)}  # each once: a table repeats them
    left_out = {v for v in distinct if not_modelled(v)}
    keep = np.array([v not in left_out for v in values], dtype=bool)
    if not keep.all():
        left = [str(v) for v, k in zip(values, keep, strict=True) if not k]
        names = sorted(set(left))
        said = (
            f"{len(left)} row(s) of pollutant(s) {names}" if kind.startswith("row")
            else f"column(s) {names}"
        )  # fmt: skip
        warn(
            f"{what}: {said} left out: pollutant(s) not modelled by trajectoire (modelled: "
            f"{list(known_species())})."
        )
    return keep


def _option_of(what: str, option: str, python: str | None = None) -> str:
    """The option `option` of the input that `what` names (``"x.csv ([inputs]
    point_sources)"`` gives ``[inputs.point_sources] option``, an anchor's input its
    ``[inputs.anchors.<key>]``), or its Python keyword (`python`, default ``option=``) for a
    reader called from Python."""
    m = re.search(r"\((\[inputs\] \w+|\[\[inputs\.anchors\]\] #\d+(?: \(year \d+\))? \w+)\)", what)
    return config_option(m.group(1), option) if m else (f"{option}=" if python is None else python)


def _normalise_column(
    values: Sequence[Any],
    fn: Callable[..., str],
    what: str,
    places: Sequence[str] | None,
    *,
    columns_key: str | None = None,
) -> list[str]:
    """Map every value with `fn`, raising one error that lists all bad values and where they
    are (`places`: ``"line 5"`` or ``"row 3"`` for each value; None for column names).
    `columns_key`: the option that lists the pollutant columns to read, named in the error
    (a column of another kind, a comment, read as a pollutant)."""
    out: list[str] = []
    bad: dict[str, list[Any]] = {}
    for v, lab in zip(values, places or [""] * len(values), strict=True):
        try:
            out.append(fn(v))
        except InputError:
            bad.setdefault(str(v), []).append(lab)
            out.append("")
    if bad:
        detail = "; ".join(
            f"{k!r} ({rows_preview(v)})" if places else repr(k) for k, v in bad.items()
        )
        kind = "sector" if fn is normalise_sector else "pollutant"
        expected = list(GNFR) if kind == "sector" else list(known_species())
        fix = "Fix the spelling or map the names to these ids before reading"
        if columns_key is not None:
            where = _option_of(what, columns_key)
            fix += (
                f', or list the pollutant columns to read ({where} = ["NOx", ...]: the other '
                "columns are then not read)"
            )
        raise InputError(f"{what}: unknown {kind}(s) {detail}; expected one of {expected}. {fix}.")
    return out


def _emission_factor(units: str | None, what: str, pollutant: str | None = None) -> float:
    """Factor of `units` to the canonical emission unit of `pollutant` (``t yr-1``, or
    ``yr-1`` for a particle-number species: a mass given for one is an error)."""
    try:
        if pollutant is not None:
            return emission_factor(pollutant, units, what=what)
        return conversion_factor(units, "emission_rate", what=what)
    except UnitsError as exc:
        if "never mix" in str(exc):
            raise
        raise UnitsError(
            f"{exc} Emissions must be a mass per year (or per second/hour/day), e.g. "
            "units='kg yr-1'; per-area fluxes must be multiplied by the cell area first."
        ) from None


def _places(df: pd.DataFrame, source: Any) -> list[str]:
    """Where each row of `df` (as read, before any re-indexing) is, for messages: its file
    line for a CSV (the header is line 1, :func:`data_lines`), else its row label."""
    if _is_csv(source):
        return data_lines(df, range(len(df)))
    return [f"row {label!r}" for label in df.index]


def _text_ids(
    df: pd.DataFrame, column: str, what: str, places: Sequence[str], expected: str
) -> list[str]:
    """The ids of `column` as text (:func:`~trajectoire.tables.id_text`: ``59001.0`` read
    from a float column is ``59001``); an empty cell is an error naming where it is
    (`places`, as :func:`_places`) and what the id should be (`expected`)."""
    values = list(df[column])
    empty = [places[i] for i, v in enumerate(values) if blank_cell(v)]
    if empty:
        raise InputError(
            f"{what}, column {file_column(column)!r}: empty cell(s) at {rows_preview(empty)}; "
            f"expected {expected}. Fill the ids or remove those rows."
        )
    return [id_text(v) for v in values]


def _check_duplicates(ids: Sequence[Any], what: str, places: Sequence[str] | None = None) -> None:
    """One error naming the ids given more than once and where (`places`, as
    :func:`_places`; default ``row i``, the position from 0): the first
    :data:`SHOWN_REPEATS` in the order of the file, then how many more."""
    s = pd.Series(list(ids))
    dup = s[s.duplicated(keep=False)]
    if len(dup):
        where = list(places) if places is not None else [f"row {i}" for i in range(len(s))]
        groups: dict[Any, list[str]] = {}
        for i, k in zip(np.flatnonzero(s.duplicated(keep=False)), dup, strict=True):
            groups.setdefault(k, []).append(where[i])  # in the order of the file
        shown = list(groups.items())[:SHOWN_REPEATS]
        detail = "; ".join(f"{k!r} at {rows_preview(v)}" for k, v in shown)
        if len(groups) > SHOWN_REPEATS:
            detail += f" (and {len(groups) - SHOWN_REPEATS} more repeated ids)"
        raise InputError(
            f"{what}: duplicated id(s): {detail}. Every id must appear once; merge or rename "
            "those rows."
        )


#: How many repeated ids :func:`_check_duplicates` names (the others are counted).
SHOWN_REPEATS = 5


def read_point_sources(
    source: PathOrFrame,
    *,
    crs: Any = "EPSG:2154",
    units: str = "t yr-1",
    pollutants: Sequence[str] | None = None,
    layer: str | None = None,
    what: str | None = None,
) -> xr.Dataset:
    """Read point sources (industrial stacks) from CSV, GeoPackage or a (Geo)DataFrame.

    Parameters
    ----------
    source : path or DataFrame
        ``point_sources.csv`` (columns ``source_id``, ``name``, ``x``, ``y`` (or ``lon``,
        ``lat``), ``sector``, ``height`` [m], ``diameter`` [m], ``temperature`` [K],
        ``velocity`` [m s-1], ``start_year``, ``end_year``, one column per pollutant), a
        GeoPackage with point geometries and the same columns, or a (Geo)DataFrame.
    crs : any, default "EPSG:2154"
        CRS of the ``x``/``y`` columns of a CSV (``lon``/``lat`` imply ``EPSG:4326``). A
        GeoPackage carries its own CRS.
    units : str, default "t yr-1"
        Units of the pollutant columns (any mass per year or per second/hour/day).
    pollutants : sequence of str, optional
        Pollutant columns to read. Default: every column that is not a metadata column; each
        must then be a known pollutant.
    layer : str, optional
        GeoPackage layer.
    what : str, optional
        Name of the input in messages (default the file name).

    Returns
    -------
    xarray.Dataset
        Point variables on dim ``source`` (``point_emission(source, pollutant)`` [t yr-1],
        ``source_x``, ``source_y`` in ``attrs["crs"]``, ``source_sector``, stack parameters,
        ``start_year``/``end_year`` (-1 when unknown), ``source_name``). Missing stack
        parameter columns are NaN.

    Raises
    ------
    trajectoire.MissingVariableError
        Missing ``source_id``, ``sector`` or position columns.
    trajectoire.InputError
        Duplicated ``source_id``, unknown sector or pollutant, negative or NaN emissions,
        negative stack parameters.
    trajectoire.UnitsError
        `units` is not a mass per time.
    """
    import geopandas as gpd

    name = what or _name(source, "point sources")
    df = _table(source, layer=layer, what=name)
    lines = _is_csv(source)
    df = df.rename(columns={c: c.strip() for c in df.columns if isinstance(c, str)})
    require_columns(df.columns, ["source_id", "sector"], name)
    places = _places(df, source)
    df = df.reset_index(drop=True)
    blank = [places[i] for i, v in enumerate(df["source_id"]) if pd.isna(v) or not str(v).strip()]
    if blank:
        raise InputError(
            f"{name}, column 'source_id': empty at {rows_preview(blank)}; expected an id for "
            "every stack (the register and the outputs name the stacks by it). Fill the ids."
        )
    ids = [str(v) for v in df["source_id"]]
    _check_duplicates(ids, f"{name}, column 'source_id'", places)
    rows = list(range(len(df)))
    # positions
    if isinstance(df, gpd.GeoDataFrame) and "geometry" in df and df.geometry.notna().all():
        if df.crs is None:
            raise InputError(f"{name}: geometries have no CRS; set one with .set_crs(...).")
        # metres read as degrees (a GeoJSON without "crs"): said as read, with the fix
        check_geographic_range(
            df, name,
            "Write the file with its CRS (ogr2ogr -a_srs EPSG:2154 out.gpkg <file>), or give "
            "the positions as x and y columns of a CSV ([inputs.point_sources] crs applies to "
            "those).",
            source,
        )  # fmt: skip
        file_crs = as_crs(df.crs)
        xs = np.asarray(shapely.get_x(df.geometry.values), dtype=float)
        ys = np.asarray(shapely.get_y(df.geometry.values), dtype=float)
    elif "x" in df and "y" in df:
        file_crs = crs_option(
            crs, name, _option_of(name, "crs"), " (x/y are then read in EPSG:2154, Lambert-93)"
        )
        xs, ys = (
            numeric_column(
                df, c, what=name, allow_nan=True, units=f"the CRS {crs}", ids=ids, lines=lines
            )
            for c in ("x", "y")
        )
    elif "lon" in df and "lat" in df:
        file_crs = as_crs("EPSG:4326")
        xs, ys = (
            numeric_column(df, c, what=name, allow_nan=True, units="degree", ids=ids, lines=lines)
            for c in ("lon", "lat")
        )
    else:
        raise MissingVariableError(
            f"{name}: no position: expected columns 'x', 'y' (in crs={crs}), 'lon', 'lat' "
            f"or point geometries; found {list(df.columns)}."
        )
    bad_pos = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad_pos.any():
        raise InputError(
            f"{name}: {int(bad_pos.sum())} source(s) without a valid position (rows "
            f"{rows_preview([ids[i] for i in np.flatnonzero(bad_pos)])}). Fill x/y or drop them."
        )
    sectors = _normalise_column(
        list(df["sector"]), normalise_sector, f"{name}, column 'sector'", places
    )
    # pollutant columns
    if pollutants is None:
        cand = [c for c in df.columns if c not in _POINT_META and c != "geometry"]
        meta = {m.lower(): m for m in _POINT_META}
        cased = [c for c in cand if str(c).lower() in meta]
        if cased:  # 'Height' would otherwise be read as an unknown pollutant
            shown = ", ".join(f"{c!r} (expected {meta[str(c).lower()]!r})" for c in cased)
            raise InputError(
                f"{name}: column(s) {shown}: the stack columns are named in lower case. "
                "Rename them in the file."
            )
        per_row = [c for c in cand if str(c).strip().lower() in ("unit", "units", "unite", "unité")]
        if per_row:  # it was read as an unknown pollutant
            key = _option_of(name, "unit", python="units=")
            said = sorted({str(v).strip() for v in df[per_row[0]].dropna() if str(v).strip()})
            if len(said) == 1 and (units == "t yr-1" or units == said[0]):
                units = said[0]  # one unit for every row: the file's unit, as the key would
                cand = [c for c in cand if c != per_row[0]]
            else:
                raise InputError(
                    f"{name}: column {per_row[0]!r} says {said[:4]}: the units of the "
                    f"pollutant columns are one for the file, given by {key} (here {units!r}); "
                    f"convert the rows to one unit, then remove the column or set {key} to it."
                )
        cand = [c for c, k in zip(cand, _modelled(cand, name, "column(s)"), strict=True) if k]
    else:
        cand = list(pollutants)
        require_columns(df.columns, cand, name)
    pol_ids = _normalise_column(cand, normalise_pollutant, f"{name}, pollutant columns", None,
                                columns_key="pollutants" if pollutants is None else None)  # fmt: skip
    _check_duplicates(pol_ids, f"{name}, pollutant columns {cand}")
    values = np.zeros((len(df), len(cand)))
    for k, (col, pol) in enumerate(zip(cand, pol_ids, strict=True)):
        factor = _emission_factor(units, f"{name}, units of column {col!r}", pol)
        v = numeric_column(df, col, what=name, units=units, ids=ids, lines=lines)
        require_non_negative(v, f"{name}, column {col!r}", ids)
        values[:, k] = v * factor
    out = xr.Dataset(
        {
            "point_emission": (("source", "pollutant"), values),
            "source_x": ("source", xs),
            "source_y": ("source", ys),
            "source_sector": ("source", np.array(sectors, dtype=object)),
        },
        coords={"source": np.array(ids, dtype=object), "pollutant": pol_ids},
    )
    for var, col in POINT_VARIABLES.items():
        if var in ("source_sector",):
            continue
        if var == "source_name":
            vals = df[col].astype(str).to_numpy(object) if col in df else np.array(ids, object)
            out[var] = ("source", vals)
        elif var in ("start_year", "end_year"):
            yv = (
                pd.Series(
                    numeric_column(df, col, what=name, allow_nan=True, ids=ids, lines=lines), rows
                )
                if col in df
                else pd.Series(np.nan, rows)
            )
            part = np.flatnonzero(yv.notna().to_numpy() & (yv.to_numpy() % 1 != 0))
            if part.size:
                raise InputError(
                    f"{name}, column {col!r}: not a whole year at rows "
                    f"{rows_preview([f'{ids[i]} ({yv.iloc[i]:g})' for i in part])}; expected "
                    "a year such as 2015 (empty: in service all along)."
                )
            out[var] = ("source", yv.fillna(-1).to_numpy().astype(np.int64))
        else:
            v = (
                numeric_column(
                    df,
                    col,
                    what=name,
                    allow_nan=True,
                    units=_POINT_UNITS.get(col),
                    ids=ids,
                    lines=lines,
                )
                if col in df
                else np.full(len(df), np.nan)
            )
            neg = np.flatnonzero(v < 0)
            if neg.size:
                raise InputError(
                    f"{name}, column {col!r}: negative value(s) at rows "
                    f"{rows_preview([f'{ids[i]} ({v[i]:g})' for i in neg])}; expected >= 0."
                )
            out[var] = ("source", v)
    check_service_years(out["start_year"].values, out["end_year"].values, ids, name)
    out.attrs = {"crs": file_crs.to_string(), "source_file": name}
    return out


def read_road_emission_factors(source: PathOrFrame, *, what: str | None = None) -> pd.DataFrame:
    """Read road emission factors per category and pollutant.

    Parameters
    ----------
    source : path or DataFrame
        ``road_emission_factors.csv`` with columns ``category``, ``pollutant``, ``ef_light``,
        ``ef_heavy`` [g km-1 veh-1].
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    pandas.DataFrame
        Same columns, pollutant ids normalised.

    Raises
    ------
    trajectoire.MissingVariableError
        A column of the four is missing.
    trajectoire.InputError
        Unknown pollutants, negative/NaN/text factors, duplicated (category, pollutant)
        rows. A file names each row by its line; a DataFrame by its label, and its
        ``category/pollutant`` where the labels are positions (``row 0 (motorway/NOx)``). A
        DataFrame is checked as a file is (:func:`read_roads` checks the factors it is
        given the same way).
    trajectoire.UnitsError
        A particle-number pollutant (the factors are masses).

    Examples
    --------
    >>> ef = pd.DataFrame({"category": ["motorway"], "pollutant": ["NOx"],
    ...                    "ef_light": [-0.1], "ef_heavy": [2.0]})
    >>> read_road_emission_factors(ef)
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: road emission factors, column 'ef_light': 1 negative value(s) (row 0 (motorway/NOx): -0.1); expected values >= 0. Check the sign convention of the source data.
    """
    attrs = source.attrs if isinstance(source, pd.DataFrame) else {}
    name = what or str(attrs.get("source_file") or _name(source, "road emission factors"))
    df = _table(source, what=name)
    require_columns(df.columns, ["category", "pollutant", "ef_light", "ef_heavy"], name)
    lines = _is_csv(source)
    places = _places(df, source)
    # no file line and no label of its own (positions 0, 1...): a row is also named by
    # what it is, ``row 3 (motorway/NOx)``
    by_pair = not lines and pd.api.types.is_integer_dtype(df.index.dtype)
    if by_pair:
        places = [
            f"{where} ({c}/{p})"
            for where, c, p in zip(places, df["category"], df["pollutant"], strict=True)
        ]
    keep = _modelled(list(df["pollutant"]), name, "row(s)")  # CO2, metals: left out
    places = [p for p, k in zip(places, keep, strict=True) if k]
    df = df.loc[keep].copy()  # the rows keep their labels: the messages below name their lines
    df["pollutant"] = _normalise_column(
        list(df["pollutant"]), normalise_pollutant, f"{name}, column 'pollutant'", places
    )
    numbers = sorted({p for p in df["pollutant"] if get_pollutant(p).is_number})
    if numbers:
        raise UnitsError(
            f"{name}: pollutant(s) {numbers} are particle-number species, but road emission "
            "factors are masses [g km-1 veh-1]; particle numbers and masses never mix. Give "
            "their road emissions as per-km columns of the roads file with units='yr-1'."
        )
    pairs = [f"{c}/{p}" for c, p in zip(df["category"], df["pollutant"], strict=True)]
    for col in ("ef_light", "ef_heavy"):
        v = numeric_column(
            df, col, what=name, units="g km-1 veh-1", lines=lines, ids=pairs if by_pair else None
        )
        require_non_negative(v, f"{name}, column {col!r}", places)
    _check_duplicates(pairs, f"{name}, (category, pollutant)", places)
    out = pd.DataFrame(df[["category", "pollutant", "ef_light", "ef_heavy"]])
    out = out.reset_index(drop=True)
    out.attrs["source_file"] = name
    return out


def read_roads(
    source: Any,
    *,
    emission_factors: PathOrFrame | None = None,
    units: str = "t yr-1",
    pollutants: Sequence[str] | None = None,
    layer: str | None = None,
    crs: Any = None,
    what: str | None = None,
    config_key: str | None = None,
) -> Any:
    """Read road links (lines) with emissions per km, or traffic times emission factors.

    Parameters
    ----------
    source : path or GeoDataFrame
        ``roads.gpkg`` or a Shapefile: LineString geometries (with a CRS) and ``road_id``
        (without it, the links are numbered ``"0"``, ``"1"``... in file order, and messages
        and outputs name them so); then either ``aadt`` [vehicles day-1], ``hdv_share`` [0-1] and ``category`` (with
        `emission_factors`), or one column per pollutant with the emission per km.
    emission_factors : path or DataFrame, optional
        ``road_emission_factors.csv`` (see :func:`read_road_emission_factors`).
    units : str, default "t yr-1"
        Mass-per-year units of the per-km pollutant columns (per km implied).
    pollutants : sequence of str, optional
        Per-km pollutant columns to read (default: every non-traffic column).
    layer : str, optional
        Layer of a GeoPackage.
    crs : any, optional
        Reproject the lines to this CRS; a file that states no CRS (a shapefile without
        its ``.prj``) is read in it (``[inputs.roads] crs`` in a run).
    what, config_key : str, optional
        The input's name in messages (default: the file's name), and the configuration key
        that names the file (``[inputs] roads``), named in the fixes the messages give.

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id``, the traffic columns when present, geometry, and one column per
        pollutant with the emission per km [t yr-1 km-1]; ``attrs["pollutants"]`` lists them.

    Raises
    ------
    trajectoire.InputError
        No CRS, non-line geometries, lines of zero length, duplicated ids, negative, NaN
        or text values, unknown pollutants or categories.
    trajectoire.UnitsError
        `units` is not a mass per time.
    """
    name = what or _name(source, "roads")
    crs_fix = f'Set {config_option(config_key, "crs")} = "EPSG:2154"'
    gdf = _read_shapes(
        source, name, layer, "roads", "line", ("LineString", "MultiLineString"),
        assume_crs=crs,
        crs_fix=crs_fix if config_key else "Pass crs='EPSG:2154'",
        config_key=config_key,
    )  # fmt: skip
    gdf = gdf.reset_index(drop=True)
    if "road_id" not in gdf:
        gdf["road_id"] = [str(i) for i in range(len(gdf))]
    ids = [str(v) for v in gdf["road_id"]]
    _check_duplicates(ids, f"{name}, column 'road_id'")
    flat = np.flatnonzero(~(shapely.length(np.asarray(gdf.geometry.values)) > 0))
    if flat.size:  # a link of no length carries no emission, silently
        raise InputError(
            f"{name}: {flat.size} line(s) of zero length (road_id "
            f"{rows_preview([ids[i] for i in flat])}): their emission would be lost; expected "
            "lines of two distinct points at least. Redraw or remove those links."
        )
    if crs is not None:
        gdf = gdf.to_crs(as_crs(crs))
    traffic = {"road_id", "category", "aadt", "hdv_share", "geometry", "name", "length"}
    if emission_factors is not None:
        _check_traffic(gdf, ids, name)
        # a DataFrame is checked as a file is (one path): its signs, NaN, columns and
        # repeated rows were taken as they were (a negative factor, negative road NOx)
        ef = read_road_emission_factors(emission_factors)
        _check_categories(gdf, ef, ids, name)
        per_km = road_emissions_per_km(gdf, ef, what=name)
        if pollutants is not None:
            want = [normalise_pollutant(p) for p in pollutants]
            per_km = per_km[[p for p in want if p in per_km]]
        pols = list(per_km.columns)
        gdf = gdf.drop(columns=[c for c in pols if c in gdf]).join(per_km)
    else:
        cand = list(pollutants) if pollutants is not None else [c for c in gdf if c not in traffic]
        if pollutants is None:
            cand = [c for c, k in zip(cand, _modelled(cand, name, "column(s)"), strict=True) if k]
        if not cand:
            raise MissingVariableError(
                f"{name}: no emission column and no emission factors; pass "
                "emission_factors='road_emission_factors.csv' or add per-km pollutant columns."
            )
        require_columns(gdf.columns, cand, name)
        pols = _normalise_column(cand, normalise_pollutant, f"{name}, pollutant columns", None,
                                 columns_key="pollutants" if pollutants is None else None)  # fmt: skip
        for col, pol in zip(cand, pols, strict=True):
            factor = _emission_factor(units, f"{name}, units of the per-km column {col!r}", pol)
            v = numeric_column(gdf, col, what=name, units=f"{units} km-1", ids=ids, lines=False)
            require_non_negative(v, f"{name}, column {col!r}", ids)
            gdf = gdf.drop(columns=[col])
            gdf[pol] = v * factor
    gdf.attrs["pollutants"] = pols
    gdf.attrs["source_file"] = name
    return gdf


def _check_traffic(gdf: Any, ids: list[str], name: str) -> None:
    """The traffic columns ``aadt`` and ``hdv_share`` as numbers (in place): text such as
    ``'12 000'`` is an error naming the road and the value."""
    for col, unit in (("aadt", "vehicles day-1"), ("hdv_share", "share 0-1")):
        if col in gdf.columns and not pd.api.types.is_numeric_dtype(gdf[col]):
            gdf[col] = numeric_column(gdf, col, what=name, units=unit, ids=ids, lines=False)


def _check_categories(gdf: Any, factors: pd.DataFrame, ids: list[str], name: str) -> None:
    """Every road's ``category`` has rows in the emission factors: an empty or unknown
    category is an error naming the roads and the file to fix."""
    if "category" not in gdf.columns or "category" not in factors.columns:
        return
    known = {str(c) for c in factors["category"]}
    cats = list(gdf["category"])
    bad: dict[str, list[str]] = {}
    for i, c in enumerate(cats):
        if blank_cell(c) or str(c) not in known:
            bad.setdefault("" if blank_cell(c) else str(c), []).append(f"road_id {ids[i]}")
    if bad:
        named = [k or "(empty)" for k in bad]
        raise InputError(
            f"{name}, column 'category': categories {named} have no emission factor "
            f"({values_at(bad, len(bad), 8)}); "
            f"expected one of {sorted(known)}. Fix the roads' categories, or add their rows "
            "to the factor table ([inputs] road_emission_factors)."
        )


def read_zones(
    source: Any,
    *,
    layer: str | None = None,
    id_column: str = "zone_id",
    repair: bool = False,
    crs: Any = None,
    what: str | None = None,
    config_key: str | None = None,
) -> Any:
    """Read polygon zones (communes, territories) with a unique id.

    Parameters
    ----------
    source : path or GeoDataFrame
        ``zones.gpkg`` (layer ``zones``) or any polygon file with a CRS.
    layer : str, optional
        Layer name.
    id_column : str, default "zone_id"
        Column with the zone id (kept as a string column ``zone_id``).
    repair : bool, default False
        Repair invalid polygons (:func:`trajectoire.geo.territories.valid_polygons`, a
        warning lists them) instead of raising.
    crs : any, optional
        CRS of a file that states none (a shapefile without its ``.prj``;
        ``[inputs.zones] crs`` in a run). A file with its own CRS keeps it: another `crs`
        is an error.
    what, config_key : str, optional
        The input's name in messages (default: the file's name), and the configuration key
        that names the file (``[inputs] zones``), named in the fixes the messages give.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id`` (text), the geometry (repaired with `repair`) and the file's other
        columns, one row per zone in the file's order, in the file's CRS (or `crs`).

    Raises
    ------
    trajectoire.InputError
        No CRS (and no `crs`), a `crs` other than the file's, non-polygon geometries, invalid polygons (without `repair`), duplicated ids, two zones that overlap over half of
        the smaller (:func:`trajectoire.geo.territories.check_zone_overlaps`; over 1 %: a
        warning).
    """
    name = what or _name(source, "zones")
    crs_key = config_option(config_key, "crs")
    crs_fix = f'Set {crs_key} = "EPSG:2154"' if config_key else "Pass crs='EPSG:2154'"
    gdf = _read_shapes(
        source, name, layer, "zones", "polygon", ("Polygon", "MultiPolygon"),
        crs=crs, crs_key=crs_key, crs_fix=crs_fix, config_key=config_key,
    )  # fmt: skip
    require_columns(gdf.columns, [id_column], name)
    gdf = gdf.reset_index(drop=True)
    gdf["zone_id"] = _text_ids(gdf, id_column, name, _places(gdf, source), "an id for every zone")
    _check_duplicates(list(gdf["zone_id"]), f"{name}, column {id_column!r}")
    gdf = gdf.set_geometry(
        valid_polygons(
            gdf.geometry.values,
            list(gdf["zone_id"]),
            name,
            repair=repair,
            config_key="[inputs] zones",
        ),  # fmt: skip
        crs=gdf.crs,
    )
    if not gdf.attrs.get("overlaps_checked"):  # zones read once are not checked again
        check_zone_overlaps(gdf, name, "[inputs] zones")
        gdf.attrs["overlaps_checked"] = True
    gdf.attrs.setdefault("source_name", name)  # the messages about their columns name the file
    return gdf


def read_area_totals(
    source: PathOrFrame,
    *,
    units: str = "t yr-1",
    zone_column: str = "zone_id",
    what: str | None = None,
) -> pd.DataFrame:
    """Read polygon totals per zone, sector and pollutant (``area_emissions.csv``).

    Parameters
    ----------
    source : path or DataFrame
        CSV or GeoPackage with columns ``zone_id``, ``sector`` (GNFR), ``pollutant``,
        ``emission`` and optionally ``units`` (the unit of each row's ``emission``, e.g.
        ``t yr-1`` for a mass species, ``yr-1`` for particle numbers; an empty cell takes
        `units`).
    units : str, default "t yr-1"
        Units of ``emission`` in the rows without a ``units`` cell.
    zone_column : str, default "zone_id"
        Column holding the zone id.
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    pandas.DataFrame
        ``zone_id`` (str), ``sector``, ``pollutant``, ``emission`` in each species' own
        emission unit, and ``units`` naming it (``t yr-1`` for mass species, ``yr-1`` for
        number species such as ``UFP``), so that the table reads back unchanged.

    Raises
    ------
    trajectoire.InputError
        Unknown sectors or pollutants, negative or NaN emissions, duplicated
        (zone, sector, pollutant) rows.
    trajectoire.UnitsError
        A row's unit (its ``units`` cell, else `units`) is not an emission rate of its
        species' family: a mass per time for a number species or the reverse (the message
        names the file, line, pollutant and unit).

    Examples
    --------
    >>> t = pd.DataFrame({"zone_id": ["z1", "z1"], "sector": ["F", "F"],
    ...                   "pollutant": ["NOx", "UFP"], "emission": [2.0, 3e20],
    ...                   "units": ["kg yr-1", "yr-1"]})
    >>> read_area_totals(t)["emission"].tolist()
    [0.002, 3e+20]
    """
    known = source.attrs if isinstance(source, pd.DataFrame) else {}  # a table read before
    name = what or known.get("what") or _name(source, "area totals")
    df = _table(source, what=name, text=[zone_column])
    require_columns(df.columns, [zone_column, "sector", "pollutant", "emission"], name)
    lines = known.get("file_lines") or (data_lines(df, range(len(df))) if _is_csv(source) else None)
    rows = lines or _places(df, source)
    df = pd.DataFrame(df).reset_index(drop=True)
    keep = _modelled(list(df["pollutant"]), name, "row(s)")
    if not keep.all():  # CO2, metals...: left out; the other rows keep their labels (lines)
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        lines = None if lines is None else [r for r, k in zip(lines, keep, strict=True) if k]
        df = df.loc[keep]
        if df.empty:
            raise InputError(f"{name}: no row of a modelled pollutant (see the warning above).")
    _check_one_year(df, name, rows)
    zone_ids = _text_ids(df, zone_column, name, rows, "the zone_id of a zone of [inputs] zones")
    out = pd.DataFrame(
        {
            "zone_id": zone_ids,
            "sector": _normalise_column(
                list(df["sector"]), normalise_sector, f"{name}, column 'sector'", rows
            ),
            "pollutant": _normalise_column(
                list(df["pollutant"]), normalise_pollutant, f"{name}, column 'pollutant'", rows
            ),
        }
    )
    v = numeric_column(df, "emission", what=name, units=units, lines=_is_csv(source))
    require_non_negative(v, f"{name}, column 'emission'", rows)
    out["emission"] = v * row_unit_factors(
        df, out["pollutant"], units, name, rows, unit_key=_option_of(name, "unit", "units=")
    )
    canonical = {
        p: "yr-1" if get_pollutant(p).is_number else "t yr-1" for p in set(out["pollutant"])
    }
    out["units"] = out["pollutant"].map(canonical).astype(object)
    key = out["zone_id"] + "/" + out["sector"] + "/" + out["pollutant"]
    _check_duplicates(list(key), f"{name}, (zone_id, sector, pollutant)", rows)
    out.attrs.update(what=name, file_lines=lines)  # for the messages of later checks
    return out


def _check_one_year(df: pd.DataFrame, name: str, rows: list[str]) -> None:
    """A ``year`` column (which the reader does not use) that holds several years is an
    error: the table is one year's totals, the reference year's (the rows of the other
    years would be read as duplicates)."""
    if "year" not in df.columns:
        return
    years = pd.unique(df["year"].dropna().astype(str).str.strip())
    if len(years) > 1:
        first = {y: rows[int(np.flatnonzero(df["year"].astype(str).str.strip() == y)[0])]
                 for y in years[:5]}  # fmt: skip
        shown = ", ".join(f"{y!r} (first at {where})" for y, where in first.items())
        raise InputError(
            f"{name}, column 'year': {len(years)} years {shown}{' ...' if len(years) > 5 else ''}"
            "; expected the totals of one year, the reference year ([run] reference_year). "
            "Keep the rows of that year only (other years go in [[inputs.anchors]])."
        )


def row_unit_factors(
    df: pd.DataFrame,
    pollutants: pd.Series | Sequence[str],
    units: str,
    name: str,
    rows: list[str],
    unit_key: str = "[inputs.area_emissions] unit",
    column: str = "units",
) -> np.ndarray:
    """Factor of each row of a table of emissions (area totals, a register's figures) to its
    species' own emission unit.

    A row's `column` cell (when the table has that column and the cell is not empty) names
    its unit; the other rows take `units` (the input's `unit_key`).
    """
    given = [False] * len(df)
    row_units = [units] * len(df)
    if column in df.columns:
        for i, c in enumerate(df[column].astype(object)):
            if isinstance(c, str) and c.strip():
                given[i], row_units[i] = True, c.strip()
            elif not isinstance(c, str) and c is not None and not pd.isna(c):
                given[i], row_units[i] = True, str(c)
    if units != "t yr-1" and all(given):  # a key given that no row takes: said once
        # (the rows that say the key's unit agree with it; the particle-number species' rows
        # are in numbers, which no mass key is about)
        mass = [not get_pollutant(p).is_number for p in pollutants]
        differ = [u != units and m for u, m in zip(row_units, mass, strict=True)]
        other = sorted({u for u, d in zip(row_units, differ, strict=True) if d})
        if other:
            warn(
                f"{name}: every row says its unit in the {column!r} column, {sum(differ)} of "
                f"them another than {unit_key} = {units!r} ({other[:4]}): the cells win, and "
                f"the key applies to the rows without a {column!r} cell only (none here). "
                "Remove the key, or the cells that contradict it."
            )
    factors: dict[tuple[str, str, bool], float] = {}
    out = np.empty(len(df))
    for i, (pol, u) in enumerate(zip(pollutants, row_units, strict=True)):
        key = (pol, u, given[i])
        if key not in factors:
            where = (
                f"{name}, {rows[i]}, column {column!r} = {u!r} for pollutant {pol!r}"
                if given[i]
                else f"{name}, units of 'emission' for pollutant {pol!r} ({rows[i]})"
            )
            try:
                factors[key] = _emission_factor(u, where, pol)
            except UnitsError as exc:
                fix = (
                    f"correct the {column!r} cell of that row"
                    if given[i]
                    else f"give the row a {column!r} cell (add a {column!r} column to the "
                    f"file) or set {unit_key}"
                )
                raise UnitsError(f"{exc} Fix: {fix}.") from None
        out[i] = factors[key]
    return out


_NC_SUFFIX = {".nc", ".nc4", ".netcdf", ".cdf"}


class _Options:
    """How the messages of a raster reader name a fix: the option of the input's table in
    the configuration (``[inputs.gridded] unit = 't yr-1'``) when `config_key` is known,
    else the reader's keyword (``units='t yr-1'``)."""

    def __init__(self, config_key: str | None) -> None:
        self.config_key = config_key
        self.table = option_table(config_key) if config_key else None

    def fix(self, option: str, keyword: str, value: str, *, lower: bool = False) -> str:
        """``Set <table> <option> = <value>`` or ``Pass <keyword>=<value>``."""
        key = config_option(self.config_key, option)
        text = f"Set {key} = {value}" if self.table else f"Pass {keyword}={value}"
        return text[0].lower() + text[1:] if lower else text


def _check_grid_in_crs(grid: Grid, name: str, opt: _Options) -> None:
    """Raise when a raster's coordinates cannot be in its CRS: beyond ±180/±90 in degrees
    (metres labelled EPSG:4326), or all within ±180/±90 with cells under a metre in a
    projected CRS (degrees labelled with metres)."""
    x0, y0, x1, y1 = grid.bounds
    crs = grid.crs
    where = f"from ({x0:.6g}, {y0:.6g}) to ({x1:.6g}, {y1:.6g})"
    fix = opt.fix("crs", "crs", repr("EPSG:...")) + " when the file has none"
    if crs.is_geographic and (max(abs(x0), abs(x1)) > 360 or max(abs(y0), abs(y1)) > 90.5):
        raise GridError(
            f"{name}: its CRS ({crs.to_string()}) is in degrees, but its coordinates run "
            f"{where}, beyond ±180/±90: metres with a wrong CRS. Give the file its true CRS "
            f"(gdal_edit.py -a_srs EPSG:2154), or {fix[0].lower() + fix[1:]}."
        )
    if (
        crs.is_projected
        and max(abs(x0), abs(x1)) <= 180
        and max(abs(y0), abs(y1)) <= 90
        and max(grid.dx, grid.dy) < 1
    ):
        raise GridError(
            f"{name}: its CRS ({crs.to_string()}) is in metres, but its coordinates run "
            f"{where} with cells of {grid.dx:g} x {grid.dy:g}: degrees of longitude/latitude. "
            "Give the file its true CRS (gdal_edit.py -a_srs EPSG:4326)."
        )


def read_gridded(
    source: Any,
    *,
    variable: str | None = None,
    units: str | None = None,
    crs: Any = None,
    sector: str | None = None,
    pollutant: str | None = None,
    bands: Sequence[tuple[str, str]] | None = None,
    fill_value: float | None = None,
    what: str | None = None,
    config_key: str | None = None,
) -> xr.DataArray:
    """Read a gridded inventory (GeoTIFF or NetCDF, any CRS) as amounts per cell.

    Parameters
    ----------
    source : path or DataArray
        A GeoTIFF (read with rasterio) or a NetCDF file. NetCDF variables have ``y``/``x``
        (or ``lat``/``lon``) dims and optionally ``sector`` and ``pollutant`` dims.
    variable : str, optional
        NetCDF variable (default: ``emission``, or the only data variable).
    units : str, optional
        Units of the values (a mass per year, per cell). Default: the variable's ``units``
        attribute (NetCDF) or the ``units`` tag (GeoTIFF); never guessed.
    crs : any, optional
        CRS when the file has none (``lat``/``lon`` dims are read as ``EPSG:4326``).
    sector, pollutant : str, optional
        Labels of a single-band raster or of a variable without those dims.
    bands : sequence of (sector, pollutant), optional
        Labels of the bands of a multi-band GeoTIFF, in order.
    fill_value : float, optional
        Replace NaN / nodata by this value (e.g. 0 over the sea); by default NaN is an error.
    what : str, optional
        Name of the input in messages.
    config_key : str, optional
        The configuration key that names the file (``[inputs] gridded``): the messages
        then name the options of its table (``[inputs.gridded] unit``...) as the fix.

    Returns
    -------
    xarray.DataArray
        ``emission(sector, pollutant, y, x)`` [t yr-1 per cell] with ``attrs["crs"]``. The
        ``y``/``x`` dims may come in either order in the file (``(lon, lat)`` too). A grid
        whose values are all 0 is read, with a warning.

    Raises
    ------
    trajectoire.InputError
        Raster without CRS, negative or NaN values, unknown sector or pollutant, a file
        that is not NetCDF or GeoTIFF.
    trajectoire.GridError
        Coordinates that do not fit the CRS: beyond ±180/±90 in a CRS in degrees (metres
        with a wrong CRS), or degrees in a projected CRS.
    trajectoire.UnitsError
        Missing units or units that are not a mass per time (e.g. a flux per m2).
    """
    name = what or _name(source, "gridded inventory")
    opt = _Options(config_key)
    if isinstance(source, xr.DataArray):
        da = source
        file_units = da.attrs.get("units")
    else:
        p = Path(source)
        if not p.exists():
            raise InputError(f"{p}: file not found.")
        if p.suffix.lower() in _NC_SUFFIX:
            da, file_units = _open_netcdf_var(p, variable, crs, name, opt)
        else:
            da, file_units = _open_geotiff(p, crs, bands, name, opt)
    u = units if units is not None else file_units
    if u is None:
        raise UnitsError(
            f"{name}: no units found; expected a mass per year per cell. "
            f"{opt.fix('unit', 'units', repr('t yr-1'))} (or what the file holds): units are "
            "never guessed."
        )
    da = _prepare_gridded(da, name)
    if crs is not None and crs_of(da) is None:
        da.attrs["crs"] = as_crs(crs).to_string()
    try:
        grid = grid_of(da)
    except GridError as exc:  # irregular coordinates, no CRS: name the file
        raise GridError(f"{name}: {exc}") from None
    _check_grid_in_crs(grid, name, opt)
    if "sector" not in da.dims:
        if sector is None:
            raise MissingVariableError(
                f"{name}: no 'sector' dim; expected the GNFR id of the data. "
                f"{opt.fix('sector', 'sector', repr('B_Industry'))}."
            )
        da = da.expand_dims(sector=[sector])
    if "pollutant" not in da.dims:
        if pollutant is None:
            raise MissingVariableError(
                f"{name}: no 'pollutant' dim; expected what the data are. "
                f"{opt.fix('pollutant', 'pollutant', repr('NOx'))}."
            )
        da = da.expand_dims(pollutant=[pollutant])
    secs = [str(s) for s in da["sector"].values]
    pols = [str(s) for s in da["pollutant"].values]
    sec_ids = _normalise_column(secs, normalise_sector, f"{name}, sectors", None)
    pol_ids = _normalise_column(pols, normalise_pollutant, f"{name}, pollutants", None)
    da = da.assign_coords(sector=sec_ids, pollutant=pol_ids)
    da = da.transpose("sector", "pollutant", "y", "x")  # (lon, lat) files too
    # one units string for the file: every pollutant must be of its unit family (a particle
    # number species given in t yr-1 is an error naming it)
    factor = np.array([_emission_factor(u, f"{name}, units of {p!r}", p) for p in pol_ids])
    out_units = get_pollutant(pol_ids[0]).emission_units if pol_ids else "t yr-1"
    values = np.asarray(da.values, dtype=float)
    if fill_value is not None:
        values = np.where(np.isfinite(values), values, float(fill_value))
    bad_nan = ~np.isfinite(values)
    bad_neg = values < 0
    negatives = np.unique(values[bad_neg])
    neg_fix = (
        f"the value {negatives[0]:g} in every such cell looks like a nodata marker the file "
        f"does not declare: declare it (gdal_edit.py -a_nodata {negatives[0]:g}) and "
        f"{opt.fix('fill_value', 'fill_value', '0.0', lower=True)} if it means 'no emission'"
        if negatives.size == 1 and negatives[0] <= -999
        else "check the sign convention of the data"
    )
    for bad, kind, fix in (
        (
            bad_nan,
            "NaN / nodata",
            f"{opt.fix('fill_value', 'fill_value', '0.0', lower=True)} if they mean 'no emission'",
        ),
        (bad_neg, "negative", neg_fix),
    ):
        if bad.any():
            where = np.argwhere(bad)[:5]
            cells = [f"({sec_ids[a]}, {pol_ids[b]}, row {r}, col {c})" for a, b, r, c in where]
            raise InputError(
                f"{name}: {int(bad.sum())} {kind} value(s), e.g. at {', '.join(cells)}; "
                f"expected finite values >= 0: {fix}."
            )
    if values.size and not values.any():
        warn(
            f"{name}: every cell of the grid is 0 (sectors {sec_ids}, pollutants {pol_ids}): "
            "it adds no emission. Check the band, variable or units read"
            + (f" ({config_option(opt.config_key, 'variable')}, bands)." if opt.table else ".")
        )
    out = xr.DataArray(
        values * factor[None, :, None, None],
        dims=("sector", "pollutant", "y", "x"),
        coords={"sector": sec_ids, "pollutant": pol_ids, "y": da["y"].values, "x": da["x"].values},
        attrs={"units": out_units, "crs": grid.crs.to_string(), "source_file": name},
    )
    return out


def _prepare_gridded(da: xr.DataArray, name: str) -> xr.DataArray:
    for xn, yn in (("lon", "lat"), ("longitude", "latitude")):
        if xn in da.dims and yn in da.dims:
            da = da.rename({xn: "x", yn: "y"})
            if crs_of(da) is None:
                da.attrs["crs"] = "EPSG:4326"
    extra = [d for d in da.dims if d not in ("sector", "pollutant", "y", "x")]
    if extra:
        sizes = {d: da.sizes[d] for d in extra}
        if all(s == 1 for s in sizes.values()):
            da = da.squeeze(extra, drop=True)
        else:
            raise InputError(
                f"{name}: unexpected dims {sizes}; expected (sector, pollutant, y, x) of one "
                "year. Select one year/level first (.sel(...) or cdo selyear,2018 in.nc "
                'out.nc), or read a CAMS-REG file with format = "cams-reg" and its year option.'
            )
    return da


def _open_netcdf_var(
    path: Path, variable: str | None, crs: Any, name: str, opt: _Options | None = None
) -> tuple[xr.DataArray, str | None]:
    opt = opt or _Options(None)
    ds = open_netcdf(
        path,
        lambda reason: (
            f"{name}: could not read {path} as NetCDF ({reason}); expected a NetCDF file "
            "(.nc). Check the path, or convert the file (a GeoTIFF is read by its .tif name)."
        ),
        load=True,
    )
    if variable is None:
        names = list(ds.data_vars)
        grid_vars = [v for v in names if ds[v].ndim >= 2]
        variable = "emission" if "emission" in names else (str(grid_vars[0]) if grid_vars else None)
        if variable is None or (len(grid_vars) > 1 and "emission" not in names):
            raise MissingVariableError(
                f"{name}: cannot tell which variable to read among {grid_vars}. "
                f"{opt.fix('variable', 'variable', repr(grid_vars[0] if grid_vars else '...'))}."
            )
    if variable not in ds:
        raise MissingVariableError(
            f"{name}: no variable {variable!r}; found {list(ds.data_vars)}. "
            f"{opt.fix('variable', 'variable', repr('<one of them>'))}."
        )
    da = ds[variable]
    if crs_of(da) is None:
        gm = da.attrs.get("grid_mapping")
        if gm and gm in ds.variables:
            for key in ("crs_wkt", "spatial_ref"):
                if ds[gm].attrs.get(key):
                    da.attrs["crs"] = ds[gm].attrs[key]
                    break
        elif crs_of(ds) is not None:
            da.attrs["crs"] = crs_of(ds).to_string()  # type: ignore[union-attr]
        elif crs is not None:
            da.attrs["crs"] = as_crs(crs).to_string()
        elif not ({"lon", "lat"} <= set(da.dims) or {"longitude", "latitude"} <= set(da.dims)):
            raise InputError(
                f"{name}: variable {variable!r} has no CRS (no crs attribute, grid_mapping or "
                f"spatial_ref) and dims {tuple(map(str, da.dims))}, not lat/lon; "
                f"{opt.fix('crs', 'crs', repr('EPSG:...'), lower=True)} with the CRS of its "
                "x/y coordinates."
            )
    return da, da.attrs.get("units")


def _open_geotiff(
    path: Path,
    crs: Any,
    bands: Sequence[tuple[str, str]] | None,
    name: str,
    opt: _Options | None = None,
) -> tuple[xr.DataArray, str | None]:
    opt = opt or _Options(None)
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(path) as r:
            data = r.read().astype(float)
            if r.nodata is not None:
                data[data == r.nodata] = np.nan
            raster_crs = r.crs
            grid = Grid.from_rasterio(r.transform, r.width, r.height, raster_crs or "EPSG:2154")
            units = r.tags().get("units") or (r.units[0] if r.units and r.units[0] else None)
            count = r.count
    except RasterioError as exc:  # not a raster, a damaged one, a folder...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{name}: could not read {path} as a raster ({reason}); expected a GeoTIFF. "
            "Check the path, or convert the file (gdal_translate -of GTiff)."
        ) from None
    if raster_crs is None and crs is None:
        raise InputError(
            f"{name}: the raster has no CRS. {opt.fix('crs', 'crs', repr('EPSG:2154'))} (the "
            "CRS its transform is in) or fix the file (gdal_edit.py -a_srs EPSG:2154)."
        )
    the_crs = as_crs(crs) if raster_crs is None else as_crs(raster_crs.to_wkt())
    coords = {"y": grid.y, "x": grid.x}
    if count == 1 and not bands:
        da = xr.DataArray(data[0], dims=("y", "x"), coords=coords)
    else:
        if bands is None or len(bands) != count:
            raise InputError(
                f"{name}: {count} bands; "
                f"{opt.fix('bands', 'bands', '[(sector, pollutant), ...]', lower=True)} with "
                "one pair per band, in order."
            )
        idx = pd.MultiIndex.from_tuples(list(bands), names=["sector", "pollutant"])
        da = xr.DataArray(data, dims=("band", "y", "x"), coords=coords)
        da = da.assign_coords(xr.Coordinates.from_pandas_multiindex(idx, "band")).unstack(
            "band", fill_value=0.0
        )
    da.attrs["crs"] = the_crs.to_string()
    return da, units


def read_landuse(
    source: Any, *, crs: Any = None, what: str | None = None, config_key: str | None = None
) -> xr.DataArray:
    """Read a land-use class raster (``landuse.tif``: uint8 codes of :data:`LANDUSE_CLASSES`).

    Parameters
    ----------
    source : path or DataArray
        GeoTIFF of class codes (0 or nodata: no class).
    crs : any, optional
        CRS when the raster has none.
    what : str, optional
        Name of the input in messages.
    config_key : str, optional
        The configuration key that names the file (``[inputs] landuse``): the messages then
        name ``[inputs.landuse] crs`` as the fix.

    Returns
    -------
    xarray.DataArray
        Integer codes on ``y``/``x`` with ``attrs["crs"]``.

    Raises
    ------
    trajectoire.InputError
        Raster without CRS, codes that are not whole numbers (a resampled or continuous
        raster) or not land-use classes.
    trajectoire.GridError
        Coordinates that do not fit the CRS (metres labelled in degrees, or the reverse).
    """
    name = what or _name(source, "land use")
    if isinstance(source, xr.DataArray):
        da = source
        if crs_of(da) is None:
            if crs is None:
                raise InputError(f"{name}: no CRS; set attrs['crs'] or pass crs=.")
            da = da.assign_attrs(crs=as_crs(crs).to_string())
        return da
    opt = _Options(config_key)
    da, _ = _open_geotiff(Path(source), crs, None, name, opt)
    _check_grid_in_crs(grid_of(da), name, opt)
    values = np.asarray(da.values)
    part = np.isfinite(values) & (values != np.round(values))
    if part.any():  # codes 1.4 would be read as class 1, silently
        shown = ", ".join(f"{v:g}" for v in np.unique(values[part])[:5])
        raise InputError(
            f"{name}: {int(part.sum())} cell(s) hold codes that are not whole numbers ({shown}"
            f"{' ...' if np.unique(values[part]).size > 5 else ''}); expected class codes "
            "(0 or nodata, 1 to 6). Reclassify the raster with nearest-neighbour resampling "
            "(gdalwarp -r near), not an average (docs/input-formats.md)."
        )
    codes = da.fillna(0).astype(np.int64).assign_attrs(da.attrs)
    _check_landuse_codes(codes.values, name)
    return codes


def _check_landuse_codes(codes: np.ndarray, name: str) -> None:
    """Every code of a land-use raster is 0 (no class) or one of :data:`LANDUSE_CLASSES`:
    another code (a raster of another nomenclature, e.g. CORINE's 111-523) would weigh
    nothing in the ``landuse:`` proxies, silently."""
    from trajectoire.inventory.proxies import LANDUSE_CLASSES

    found, counts = np.unique(codes, return_counts=True)
    bad = [
        (int(c), int(n))
        for c, n in zip(found, counts, strict=True)
        if c != 0 and int(c) not in LANDUSE_CLASSES
    ]
    if bad:
        shown = ", ".join(f"{c} ({n} cells)" for c, n in bad[:5]) + (" ..." if len(bad) > 5 else "")
        classes = ", ".join(f"{c} {v}" for c, v in LANDUSE_CLASSES.items())
        nodata = (
            f" A single negative code such as {bad[0][0]} is most often a nodata marker the "
            f"file does not declare: gdal_edit.py -a_nodata {bad[0][0]}."
            if len(bad) == 1 and bad[0][0] < 0
            else ""
        )
        raise InputError(
            f"{name}: class code(s) {shown} are not land-use classes; expected 0 or nodata "
            f"(no class) or one of {classes}. Reclassify the raster to these codes "
            f"(docs/input-formats.md).{nodata}"
        )
