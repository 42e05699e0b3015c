"""The reference-year emission inventory: readers, proxy allocation, operations.

The canonical inventory is an :class:`xarray.Dataset` (see ``docs/data-model.md``):
``emission(sector, pollutant, y, x)`` [t yr-1 per cell] for area and line sources on the run
grid, and point stacks kept as points on dim ``source`` (``point_emission(source,
pollutant)`` [t yr-1], position, sector and stack parameters).

:func:`build_inventory` assembles one from the input files of ``docs/input-formats.md``:
point sources, road links (emissions per km, or traffic times emission factors), polygon
totals spread with proxies (:data:`DEFAULT_PROXIES`), and gridded inventories in any CRS
(conservatively regridded with :class:`trajectoire.regrid.Regridder`). Every path conserves
mass to round-off; see ``docs/inventory.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy import sparse

from trajectoire._validate import require_columns, require_non_negative, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import GridError, InputError, MissingVariableError, UnitsError, warn
from trajectoire.geo.grid import Grid, as_crs, crs_of, to_crs
from trajectoire.geo.rasterize import coverage_matrix, lines_to_grid
from trajectoire.geo.regridding import Regridder, grid_of
from trajectoire.sectors import GNFR, SECTEN_OF_GNFR, normalise_sector
from trajectoire.species import POLLUTANTS, normalise_pollutant
from trajectoire.units import conversion_factor

__all__ = [
    "DEFAULT_PROXIES",
    "LANDUSE_CLASSES",
    "POINT_VARIABLES",
    "ProxySpec",
    "add",
    "allocate",
    "build_inventory",
    "crop",
    "empty_inventory",
    "grid_roads",
    "group_sectors",
    "landuse_areas",
    "proxy_grid",
    "read_area_totals",
    "read_gridded",
    "read_landuse",
    "read_point_sources",
    "read_road_emission_factors",
    "read_roads",
    "read_zones",
    "road_emissions_per_km",
    "scale",
    "totals",
]

PathOrFrame: TypeAlias = str | PathLike[str] | pd.DataFrame
ProxySpec: TypeAlias = str | xr.DataArray | np.ndarray | Any
"""A proxy: a name (see :data:`DEFAULT_PROXIES`), a grid (DataArray in any CRS, or a numpy
array on the run grid), or geometries (GeoDataFrame / GeoSeries, or a ``(GeoDataFrame,
column)`` pair whose column weights each shape)."""

#: Land-use classes of ``landuse.tif`` (docs/input-formats.md).
LANDUSE_CLASSES: dict[int, str] = {
    1: "urban",
    2: "industrial",
    3: "arable",
    4: "pasture",
    5: "forest",
    6: "water",
}

#: Default proxy of each GNFR sector. ``population``: inhabitants per cell (zone population
#: spread uniformly over the zone's area); ``roads``: road length x AADT; ``road_length``;
#: ``landuse:<classes>``: area of those land-use classes in the cell; ``built_up``: urban +
#: industrial land; ``area``: the cell area (uniform).
DEFAULT_PROXIES: dict[str, str] = {
    "A_PublicPower": "landuse:industrial",
    "B_Industry": "landuse:industrial",
    "C_OtherStationaryComb": "population",
    "D_Fugitive": "landuse:industrial",
    "E_Solvents": "landuse:industrial",
    "F_RoadTransport": "roads",
    "G_Shipping": "landuse:water",
    "H_Aviation": "built_up",
    "I_OffRoad": "landuse:urban,industrial,arable",
    "J_Waste": "landuse:industrial",
    "K_AgriLivestock": "landuse:pasture",
    "L_AgriOther": "landuse:arable",
    "M_Other": "population",
}

#: Point-source variables on dim ``source`` and the input column each one comes from.
POINT_VARIABLES: dict[str, str] = {
    "source_name": "name",
    "source_sector": "sector",
    "stack_height": "height",
    "stack_diameter": "diameter",
    "exit_temperature": "temperature",
    "exit_velocity": "velocity",
    "start_year": "start_year",
    "end_year": "end_year",
}

_POINT_META = {"source_id", "x", "y", "lon", "lat", "geometry", *POINT_VARIABLES.values()}
_G_PER_T = 1e6
_DAYS_PER_YEAR = 365.25


# ---------------------------------------------------------------------- helpers
def _name(src: Any, default: str) -> str:
    return str(src) if isinstance(src, str | PathLike) else default


def _read_table(
    path: str | PathLike[str], *, layer: str | None = None, default_layer: str | None = None
) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found. Check the path (relative to {Path.cwd()}).")
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p, comment=None)
    import geopandas as gpd
    import pyogrio

    if layer is None:
        try:
            layers = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
        except Exception as exc:  # pyogrio raises its own error types
            raise InputError(f"{p}: could not read it as a vector file ({exc}).") from exc
        if len(layers) > 1:
            if default_layer in layers:
                layer = default_layer
            else:
                raise InputError(f"{p}: has several layers {layers}; pass layer= to choose one.")

    try:
        return gpd.read_file(p, layer=layer)
    except Exception as exc:  # pyogrio raises its own error types
        raise InputError(f"{p}: could not read it as a vector file ({exc}).") from exc


def _normalise_column(
    values: Sequence[Any], fn: Callable[..., str], what: str, labels: Sequence[Any]
) -> list[str]:
    """Map every value with `fn`, raising one error that lists all bad values and rows."""
    out: list[str] = []
    bad: dict[str, list[Any]] = {}
    for v, lab in zip(values, labels, strict=True):
        try:
            out.append(fn(v))
        except InputError:
            bad.setdefault(str(v), []).append(lab)
            out.append("")
    if bad:
        detail = "; ".join(f"{k!r} (rows {rows_preview(v)})" for k, v in bad.items())
        kind = "sector" if fn is normalise_sector else "pollutant"
        expected = list(GNFR) if kind == "sector" else list(POLLUTANTS)
        raise InputError(
            f"{what}: unknown {kind}(s) {detail}; expected one of {expected}. Fix the "
            "spelling or map the names to these ids before reading."
        )
    return out


def _emission_factor(units: str | None, what: str) -> float:
    try:
        return conversion_factor(units, "emission_rate", what=what)
    except UnitsError as exc:
        raise UnitsError(
            f"{exc} Emissions must be a mass per year (or per second/hour/day), e.g. "
            "units='kg yr-1'; per-area fluxes must be multiplied by the cell area first."
        ) from None


def _check_duplicates(ids: Sequence[Any], what: str) -> None:
    s = pd.Series(list(ids))
    dup = s[s.duplicated(keep=False)]
    if len(dup):
        groups = {k: list(v) for k, v in dup.groupby(dup).groups.items()}
        detail = "; ".join(f"{k!r} at rows {rows_preview(v)}" for k, v in groups.items())
        raise InputError(
            f"{what}: duplicated id(s): {detail}. Every id must appear once; merge or rename "
            "those rows."
        )


def _metres(grid: Grid, what: str) -> None:
    unit = grid.crs.axis_info[0].unit_name if grid.crs.axis_info else ""
    if not grid.crs.is_projected or unit not in ("metre", "meter"):
        raise GridError(
            f"{what}: needs a grid in a projected CRS in metres, got {grid.crs.name!r} "
            f"({unit}); use Lambert-93 (EPSG:2154)."
        )


def empty_inventory(
    grid: Grid,
    sectors: Sequence[str] = GNFR,
    pollutants: Sequence[str] = ("NOx",),
    *,
    reference_year: int,
) -> xr.Dataset:
    """An inventory with zero emission and no point source.

    Parameters
    ----------
    grid : Grid
        Run grid.
    sectors : sequence of str, default all GNFR sectors
        Sector ids (aliases accepted).
    pollutants : sequence of str
        Pollutant ids (aliases accepted).
    reference_year : int
        Year the inventory describes.

    Returns
    -------
    xarray.Dataset
        The canonical inventory layout (``docs/data-model.md``).

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    >>> ds = empty_inventory(g, ["F", "C"], ["nox"], reference_year=2019)
    >>> ds["emission"].dims, ds.sector.values.tolist(), ds.sizes["source"]
    (('sector', 'pollutant', 'y', 'x'), ['F_RoadTransport', 'C_OtherStationaryComb'], 0)
    """
    sec = [normalise_sector(s) for s in sectors]
    pol = [normalise_pollutant(p) for p in pollutants]
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    return _assemble(grid, sec, pol, em, _empty_points(pol), reference_year)


def _empty_points(pollutants: Sequence[str]) -> xr.Dataset:
    n = 0
    ds = xr.Dataset(
        {
            "point_emission": (("source", "pollutant"), np.zeros((n, len(pollutants)))),
            "source_x": ("source", np.zeros(n)),
            "source_y": ("source", np.zeros(n)),
            "source_sector": ("source", np.array([], dtype=object)),
            "stack_height": ("source", np.zeros(n)),
            "stack_diameter": ("source", np.zeros(n)),
            "exit_temperature": ("source", np.zeros(n)),
            "exit_velocity": ("source", np.zeros(n)),
            "start_year": ("source", np.zeros(n, dtype=np.int64)),
            "end_year": ("source", np.zeros(n, dtype=np.int64)),
            "source_name": ("source", np.array([], dtype=object)),
        },
        coords={"source": np.array([], dtype=object), "pollutant": list(pollutants)},
    )
    return ds


_POINT_ATTRS = {
    "point_emission": {"units": "t yr-1", "long_name": "point-source emission"},
    "source_x": {"units": "m", "long_name": "stack x in the grid CRS"},
    "source_y": {"units": "m", "long_name": "stack y in the grid CRS"},
    "source_sector": {"long_name": "GNFR sector of the stack"},
    "stack_height": {"units": "m", "long_name": "physical stack height"},
    "stack_diameter": {"units": "m", "long_name": "inner stack diameter at the top"},
    "exit_temperature": {"units": "K", "long_name": "gas exit temperature"},
    "exit_velocity": {"units": "m s-1", "long_name": "gas exit velocity"},
    "start_year": {"long_name": "first year of operation (-1 unknown)"},
    "end_year": {"long_name": "last year of operation (-1 unknown)"},
    "source_name": {"long_name": "name of the source"},
}


def _assemble(
    grid: Grid,
    sectors: Sequence[str],
    pollutants: Sequence[str],
    emission: np.ndarray,
    points: xr.Dataset,
    reference_year: int,
) -> xr.Dataset:
    coords: dict[str, Any] = {"sector": list(sectors), "pollutant": list(pollutants)}
    coords.update(grid.coords())
    em = xr.DataArray(emission, dims=("sector", "pollutant", "y", "x"), coords=coords)
    em.attrs = {
        "units": "t yr-1",
        "long_name": "emission per grid cell",
        "cell_methods": "year: sum area: sum",
    }
    pts = points.reindex(pollutant=list(pollutants), fill_value=0.0)
    ds = xr.Dataset({"emission": em})
    for name in pts.data_vars:
        ds[name] = pts[name]
        ds[name].attrs = dict(_POINT_ATTRS.get(str(name), {}))
    ds = ds.assign_coords(source=pts["source"].values.astype(object))
    ds.attrs = {"crs": grid.crs.to_string(), "reference_year": int(reference_year)}
    return ds


# ---------------------------------------------------------------------- readers
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
    df = _read_table(source, layer=layer) if isinstance(source, str | PathLike) else source.copy()
    df = df.rename(columns={c: c.strip() for c in df.columns if isinstance(c, str)})
    require_columns(df.columns, ["source_id", "sector"], name)
    df = df.reset_index(drop=True)
    ids = [str(v) for v in df["source_id"]]
    _check_duplicates(ids, f"{name}, column 'source_id'")
    rows = list(range(len(df)))
    # positions
    if isinstance(df, gpd.GeoDataFrame) and "geometry" in df and df.geometry.notna().all():
        if df.crs is None:
            raise InputError(f"{name}: geometries have no CRS; set one with .set_crs(...).")
        file_crs = as_crs(df.crs)
        xs = np.asarray(shapely.get_x(df.geometry.values), dtype=float)
        ys = np.asarray(shapely.get_y(df.geometry.values), dtype=float)
    elif "x" in df and "y" in df:
        file_crs = as_crs(crs)
        xs, ys = df["x"].to_numpy(float), df["y"].to_numpy(float)
    elif "lon" in df and "lat" in df:
        file_crs = as_crs("EPSG:4326")
        xs, ys = df["lon"].to_numpy(float), df["lat"].to_numpy(float)
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
        list(df["sector"]), normalise_sector, f"{name}, column 'sector'", ids
    )
    # pollutant columns
    if pollutants is None:
        cand = [c for c in df.columns if c not in _POINT_META and c != "geometry"]
    else:
        cand = list(pollutants)
        require_columns(df.columns, cand, name)
    pol_ids = _normalise_column(cand, normalise_pollutant, f"{name}, pollutant columns", cand)
    _check_duplicates(pol_ids, f"{name}, pollutant columns {cand}")
    factor = _emission_factor(units, f"{name}, units of the pollutant columns")
    values = np.zeros((len(df), len(cand)))
    for k, col in enumerate(cand):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
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
            yv = pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, rows)
            out[var] = ("source", yv.fillna(-1).to_numpy().astype(np.int64))
        else:
            v = (
                pd.to_numeric(df[col], errors="coerce").to_numpy(float)
                if col in df
                else np.full(len(df), np.nan)
            )
            neg = np.flatnonzero(v < 0)
            if neg.size:
                raise InputError(
                    f"{name}, column {col!r}: negative value(s) at rows "
                    f"{rows_preview([ids[i] for i in neg])}; expected >= 0."
                )
            out[var] = ("source", v)
    out.attrs = {"crs": file_crs.to_string(), "source_file": name}
    return out


def _points_to_grid_crs(points: xr.Dataset, grid: Grid) -> xr.Dataset:
    import pyproj

    src = as_crs(points.attrs.get("crs", grid.crs.to_string()))
    if src == grid.crs or points.sizes["source"] == 0:
        return points
    tr = pyproj.Transformer.from_crs(src, grid.crs, always_xy=True)
    x, y = tr.transform(points["source_x"].values, points["source_y"].values)
    out = points.copy()
    out["source_x"] = ("source", np.asarray(x, dtype=float))
    out["source_y"] = ("source", np.asarray(y, dtype=float))
    out.attrs["crs"] = grid.crs.to_string()
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
    trajectoire.InputError
        Unknown pollutants, negative/NaN factors, duplicated (category, pollutant) rows.
    """
    name = what or _name(source, "road emission factors")
    df = _read_table(source) if isinstance(source, str | PathLike) else source.copy()
    require_columns(df.columns, ["category", "pollutant", "ef_light", "ef_heavy"], name)
    df = df.reset_index(drop=True)
    rows = list(range(len(df)))
    df["pollutant"] = _normalise_column(
        list(df["pollutant"]), normalise_pollutant, f"{name}, column 'pollutant'", rows
    )
    for col in ("ef_light", "ef_heavy"):
        require_non_negative(df[col].to_numpy(float), f"{name}, column {col!r}", rows)
    _check_duplicates(
        [f"{c}/{p}" for c, p in zip(df["category"], df["pollutant"], strict=True)],
        f"{name}, (category, pollutant)",
    )
    return pd.DataFrame(df[["category", "pollutant", "ef_light", "ef_heavy"]])


def road_emissions_per_km(
    roads: pd.DataFrame, factors: pd.DataFrame, *, what: str = "roads"
) -> pd.DataFrame:
    """Emission per km of each road link from traffic and emission factors.

    Parameters
    ----------
    roads : DataFrame
        Columns ``category``, ``aadt`` [vehicles day-1], ``hdv_share`` [0-1].
    factors : DataFrame
        From :func:`read_road_emission_factors`.
    what : str
        Name of the roads input in messages.

    Returns
    -------
    pandas.DataFrame
        One column per pollutant [t yr-1 km-1], index of `roads`.

    Notes
    -----
    ``E = AADT [(1 - h) EF_light + h EF_heavy] * 365.25 * 1e-6`` with ``h`` the heavy-duty
    share, EF in g km-1 veh-1 and 365.25 days per year (``trajectoire.units``).

    Examples
    --------
    >>> roads = pd.DataFrame({"category": ["urban"], "aadt": [10_000.0], "hdv_share": [0.1]})
    >>> ef = pd.DataFrame({"category": ["urban"], "pollutant": ["NOx"],
    ...                    "ef_light": [0.3], "ef_heavy": [3.0]})
    >>> round(float(road_emissions_per_km(roads, ef)["NOx"].iloc[0]), 6)
    2.081925
    """
    require_columns(roads.columns, ["category", "aadt", "hdv_share"], what)
    labels = list(roads["road_id"]) if "road_id" in roads else list(range(len(roads)))
    aadt = roads["aadt"].to_numpy(float)
    hdv = roads["hdv_share"].to_numpy(float)
    require_non_negative(aadt, f"{what}, column 'aadt'", labels)
    require_non_negative(hdv, f"{what}, column 'hdv_share'", labels)
    above = np.flatnonzero(hdv > 1)
    if above.size:
        raise InputError(
            f"{what}, column 'hdv_share': value(s) above 1 at rows "
            f"{rows_preview([labels[i] for i in above])}; expected a share in [0, 1] (divide "
            "percentages by 100)."
        )
    missing = sorted(set(roads["category"]) - set(factors["category"]))
    if missing:
        raise InputError(
            f"{what}: road categories {missing} have no emission factor; add rows for them to "
            f"the factor table (categories there: {sorted(set(factors['category']))})."
        )
    out = pd.DataFrame(index=roads.index)
    for pol, tab in factors.groupby("pollutant", sort=False):
        ef = tab.set_index("category")
        light = roads["category"].map(ef["ef_light"]).fillna(0.0).to_numpy(float)
        heavy = roads["category"].map(ef["ef_heavy"]).fillna(0.0).to_numpy(float)
        g_km_day = aadt * ((1.0 - hdv) * light + hdv * heavy)
        out[str(pol)] = g_km_day * _DAYS_PER_YEAR / _G_PER_T
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
) -> Any:
    """Read road links (lines) with emissions per km, or traffic times emission factors.

    Parameters
    ----------
    source : path or GeoDataFrame
        ``roads.gpkg`` or a Shapefile: LineString geometries (with a CRS) and ``road_id``;
        then either ``aadt`` [vehicles day-1], ``hdv_share`` [0-1] and ``category`` (with
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
        Reproject the lines to this CRS.
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id``, the traffic columns when present, geometry, and one column per
        pollutant with the emission per km [t yr-1 km-1]; ``attrs["pollutants"]`` lists them.

    Raises
    ------
    trajectoire.InputError
        No CRS, non-line geometries, duplicated ids, negative or NaN values, unknown
        pollutants or categories.
    trajectoire.UnitsError
        `units` is not a mass per time.
    """
    import geopandas as gpd

    name = what or _name(source, "roads")
    gdf = (
        _read_table(source, layer=layer, default_layer="roads")
        if isinstance(source, str | PathLike)
        else source.copy()
    )
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{name}: expected line geometries (GeoPackage/Shapefile), got a table.")
    if gdf.crs is None:
        raise InputError(f"{name}: has no CRS; set it with .set_crs('EPSG:2154').")
    gdf = gdf.reset_index(drop=True)
    if "road_id" not in gdf:
        gdf["road_id"] = [str(i) for i in range(len(gdf))]
    ids = [str(v) for v in gdf["road_id"]]
    _check_duplicates(ids, f"{name}, column 'road_id'")
    types = set(gdf.geometry.geom_type.dropna())
    if not types <= {"LineString", "MultiLineString"}:
        raise InputError(
            f"{name}: geometries must be LineString/MultiLineString, found {sorted(types)}."
        )
    if crs is not None:
        gdf = gdf.to_crs(as_crs(crs))
    traffic = {"road_id", "category", "aadt", "hdv_share", "geometry", "name", "length"}
    if emission_factors is not None:
        ef = (
            emission_factors
            if isinstance(emission_factors, pd.DataFrame)
            and set(emission_factors.columns) >= {"category", "pollutant"}
            and emission_factors["pollutant"].isin(list(POLLUTANTS)).all()
            else read_road_emission_factors(emission_factors)
        )
        per_km = road_emissions_per_km(gdf, ef, what=name)
        if pollutants is not None:
            want = [normalise_pollutant(p) for p in pollutants]
            per_km = per_km[[p for p in want if p in per_km]]
        pols = list(per_km.columns)
        gdf = gdf.drop(columns=[c for c in pols if c in gdf]).join(per_km)
    else:
        cand = list(pollutants) if pollutants is not None else [c for c in gdf if c not in traffic]
        if not cand:
            raise MissingVariableError(
                f"{name}: no emission column and no emission factors; pass "
                "emission_factors='road_emission_factors.csv' or add per-km pollutant columns."
            )
        require_columns(gdf.columns, cand, name)
        pols = _normalise_column(cand, normalise_pollutant, f"{name}, pollutant columns", cand)
        factor = _emission_factor(units, f"{name}, units of the per-km columns")
        for col, pol in zip(cand, pols, strict=True):
            v = pd.to_numeric(gdf[col], errors="coerce").to_numpy(float)
            require_non_negative(v, f"{name}, column {col!r}", ids)
            gdf = gdf.drop(columns=[col])
            gdf[pol] = v * factor
    gdf.attrs["pollutants"] = pols
    gdf.attrs["source_file"] = name
    return gdf


def grid_roads(roads: Any, grid: Grid, *, what: str | None = None) -> xr.DataArray:
    """Spread road emissions over the grid by length per cell.

    Parameters
    ----------
    roads : GeoDataFrame
        From :func:`read_roads`: per-km emission columns [t yr-1 km-1] listed in
        ``attrs["pollutants"]`` (or every pollutant-named column).
    grid : Grid
        Run grid (projected, metres).
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    xarray.DataArray
        ``emission(pollutant, y, x)`` [t yr-1 per cell].

    Warns
    -----
    trajectoire.TrajectoireWarning
        When part of the road network lies outside the grid (its emission is left out).
    """
    name = what or roads.attrs.get("source_file", "roads")
    _metres(grid, name)
    pols = roads.attrs.get("pollutants") or [c for c in roads.columns if c in POLLUTANTS]
    geoms = to_crs(roads, grid.crs, what=name)
    per_m = roads[pols].to_numpy(float) / 1000.0
    em = lines_to_grid(geoms, grid, values=per_m, what=name)
    if em.ndim == 2:
        em = em[None]
    total = (per_m * np.asarray(geoms.length, dtype=float)[:, None]).sum(axis=0)
    inside = em.reshape(len(pols), -1).sum(axis=1)
    lost = total - inside
    if np.any(lost > 1e-9 * np.maximum(total, 1e-300)):
        detail = ", ".join(f"{p} {v:.6g} t yr-1" for p, v in zip(pols, lost, strict=True))
        warn(
            f"{name}: part of the road network lies outside the grid {grid}; its emission "
            f"({detail}) is left out. Enlarge the grid to include it."
        )
    return xr.DataArray(
        em,
        dims=("pollutant", "y", "x"),
        coords={"pollutant": list(pols), **grid.coords()},
        attrs={"units": "t yr-1", "crs": grid.crs.to_string()},
    )


def read_zones(
    source: Any, *, layer: str | None = None, id_column: str = "zone_id", what: str | None = None
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
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    trajectoire.InputError
        No CRS, non-polygon geometries, duplicated ids.
    """
    import geopandas as gpd

    name = what or _name(source, "zones")
    gdf = (
        _read_table(source, layer=layer, default_layer="zones")
        if isinstance(source, str | PathLike)
        else source.copy()
    )
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{name}: expected polygon geometries, got a plain table.")
    require_columns(gdf.columns, [id_column], name)
    if gdf.crs is None:
        raise InputError(f"{name}: has no CRS; set it with .set_crs('EPSG:2154').")
    types = set(gdf.geometry.geom_type.dropna())
    if not types <= {"Polygon", "MultiPolygon"}:
        raise InputError(f"{name}: geometries must be polygons, found {sorted(types)}.")
    gdf = gdf.reset_index(drop=True)
    gdf["zone_id"] = gdf[id_column].astype(str)
    _check_duplicates(list(gdf["zone_id"]), f"{name}, column {id_column!r}")
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
        ``emission``.
    units : str, default "t yr-1"
        Units of ``emission``.
    zone_column : str, default "zone_id"
        Column holding the zone id.
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    pandas.DataFrame
        ``zone_id`` (str), ``sector``, ``pollutant``, ``emission`` [t yr-1].

    Raises
    ------
    trajectoire.InputError
        Unknown sectors or pollutants, negative or NaN emissions, duplicated
        (zone, sector, pollutant) rows.
    trajectoire.UnitsError
        `units` is not a mass per time.
    """
    name = what or _name(source, "area totals")
    df = _read_table(source) if isinstance(source, str | PathLike) else source.copy()
    require_columns(df.columns, [zone_column, "sector", "pollutant", "emission"], name)
    df = pd.DataFrame(df).reset_index(drop=True)
    rows = [r + 2 for r in range(len(df))]  # file line numbers (header is line 1)
    out = pd.DataFrame(
        {
            "zone_id": df[zone_column].astype(str),
            "sector": _normalise_column(
                list(df["sector"]), normalise_sector, f"{name}, column 'sector'", rows
            ),
            "pollutant": _normalise_column(
                list(df["pollutant"]), normalise_pollutant, f"{name}, column 'pollutant'", rows
            ),
        }
    )
    v = pd.to_numeric(df["emission"], errors="coerce").to_numpy(float)
    require_non_negative(v, f"{name}, column 'emission' (file lines)", rows)
    out["emission"] = v * _emission_factor(units, f"{name}, units of 'emission'")
    key = out["zone_id"] + "/" + out["sector"] + "/" + out["pollutant"]
    _check_duplicates(list(key), f"{name}, (zone_id, sector, pollutant)")
    return out


_NC_SUFFIX = {".nc", ".nc4", ".netcdf", ".cdf"}


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

    Returns
    -------
    xarray.DataArray
        ``emission(sector, pollutant, y, x)`` [t yr-1 per cell] with ``attrs["crs"]``.

    Raises
    ------
    trajectoire.InputError
        Raster without CRS, negative or NaN values, unknown sector or pollutant.
    trajectoire.UnitsError
        Missing units or units that are not a mass per time (e.g. a flux per m2).
    """
    name = what or _name(source, "gridded inventory")
    if isinstance(source, xr.DataArray):
        da = source
        file_units = da.attrs.get("units")
    else:
        p = Path(source)
        if not p.exists():
            raise InputError(f"{p}: file not found.")
        if p.suffix.lower() in _NC_SUFFIX:
            da, file_units = _open_netcdf_var(p, variable, crs, name)
        else:
            da, file_units = _open_geotiff(p, crs, bands, name)
    u = units if units is not None else file_units
    if u is None:
        raise UnitsError(
            f"{name}: no units found; expected a mass per year per cell. Pass units='t yr-1' "
            "(or what the file holds): units are never guessed."
        )
    factor = _emission_factor(u, f"{name}, units")
    da = _prepare_gridded(da, name)
    if crs is not None and crs_of(da) is None:
        da.attrs["crs"] = as_crs(crs).to_string()
    grid = grid_of(da)
    if "sector" not in da.dims:
        if sector is None:
            raise MissingVariableError(
                f"{name}: no 'sector' dim; pass sector='B_Industry' (the GNFR id of the data)."
            )
        da = da.expand_dims(sector=[sector])
    if "pollutant" not in da.dims:
        if pollutant is None:
            raise MissingVariableError(
                f"{name}: no 'pollutant' dim; pass pollutant='NOx' (what the data are)."
            )
        da = da.expand_dims(pollutant=[pollutant])
    secs = [str(s) for s in da["sector"].values]
    pols = [str(s) for s in da["pollutant"].values]
    sec_ids = _normalise_column(secs, normalise_sector, f"{name}, sectors", secs)
    pol_ids = _normalise_column(pols, normalise_pollutant, f"{name}, pollutants", pols)
    da = da.assign_coords(sector=sec_ids, pollutant=pol_ids).transpose("sector", "pollutant", ...)
    values = np.asarray(da.values, dtype=float)
    if fill_value is not None:
        values = np.where(np.isfinite(values), values, float(fill_value))
    bad_nan = ~np.isfinite(values)
    bad_neg = values < 0
    for bad, kind, fix in (
        (bad_nan, "NaN / nodata", "pass fill_value=0.0 if they mean 'no emission'"),
        (bad_neg, "negative", "check the sign convention of the data"),
    ):
        if bad.any():
            where = np.argwhere(bad)[:5]
            cells = [f"({sec_ids[a]}, {pol_ids[b]}, row {r}, col {c})" for a, b, r, c in where]
            raise InputError(
                f"{name}: {int(bad.sum())} {kind} value(s), e.g. at {', '.join(cells)}; "
                f"expected finite values >= 0: {fix}."
            )
    out = xr.DataArray(
        values * factor,
        dims=("sector", "pollutant", "y", "x"),
        coords={"sector": sec_ids, "pollutant": pol_ids, "y": da["y"].values, "x": da["x"].values},
        attrs={"units": "t yr-1", "crs": grid.crs.to_string(), "source_file": name},
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
                f"{name}: unexpected dims {sizes}; expected (sector, pollutant, y, x). Select "
                "one year/level first (.sel(...)) or rename the dims."
            )
    return da


def _open_netcdf_var(
    path: Path, variable: str | None, crs: Any, name: str
) -> tuple[xr.DataArray, str | None]:
    with xr.open_dataset(path) as ds:
        ds.load()
    if variable is None:
        names = list(ds.data_vars)
        grid_vars = [v for v in names if ds[v].ndim >= 2]
        variable = "emission" if "emission" in names else (str(grid_vars[0]) if grid_vars else None)
        if variable is None or (len(grid_vars) > 1 and "emission" not in names):
            raise MissingVariableError(
                f"{name}: cannot tell which variable to read among {grid_vars}; pass variable=."
            )
    if variable not in ds:
        raise MissingVariableError(f"{name}: no variable {variable!r}; found {list(ds.data_vars)}.")
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
                "spatial_ref); pass crs='EPSG:...' with the CRS of its x/y coordinates."
            )
    return da, da.attrs.get("units")


def _open_geotiff(
    path: Path, crs: Any, bands: Sequence[tuple[str, str]] | None, name: str
) -> tuple[xr.DataArray, str | None]:
    import rasterio

    with rasterio.open(path) as r:
        data = r.read().astype(float)
        if r.nodata is not None:
            data[data == r.nodata] = np.nan
        raster_crs = r.crs
        grid = Grid.from_rasterio(r.transform, r.width, r.height, raster_crs or "EPSG:2154")
        units = r.tags().get("units") or (r.units[0] if r.units and r.units[0] else None)
        count = r.count
    if raster_crs is None and crs is None:
        raise InputError(
            f"{name}: the raster has no CRS. Pass crs='EPSG:2154' (the CRS its transform is "
            "in) or fix the file (gdal_edit.py -a_srs EPSG:2154)."
        )
    the_crs = as_crs(crs) if raster_crs is None else as_crs(raster_crs.to_wkt())
    coords = {"y": grid.y, "x": grid.x}
    if count == 1 and not bands:
        da = xr.DataArray(data[0], dims=("y", "x"), coords=coords)
    else:
        if bands is None or len(bands) != count:
            raise InputError(
                f"{name}: {count} bands; pass bands=[(sector, pollutant), ...] with one pair "
                "per band, in order."
            )
        idx = pd.MultiIndex.from_tuples(list(bands), names=["sector", "pollutant"])
        da = xr.DataArray(data, dims=("band", "y", "x"), coords=coords)
        da = da.assign_coords(xr.Coordinates.from_pandas_multiindex(idx, "band")).unstack(
            "band", fill_value=0.0
        )
    da.attrs["crs"] = the_crs.to_string()
    return da, units


def read_landuse(source: Any, *, crs: Any = None, what: str | None = None) -> xr.DataArray:
    """Read a land-use class raster (``landuse.tif``: uint8 codes of :data:`LANDUSE_CLASSES`).

    Parameters
    ----------
    source : path or DataArray
        GeoTIFF of class codes (0 or nodata: no class).
    crs : any, optional
        CRS when the raster has none.
    what : str, optional
        Name of the input in messages.

    Returns
    -------
    xarray.DataArray
        Integer codes on ``y``/``x`` with ``attrs["crs"]``.

    Raises
    ------
    trajectoire.InputError
        Raster without CRS.
    """
    name = what or _name(source, "land use")
    if isinstance(source, xr.DataArray):
        da = source
        if crs_of(da) is None:
            if crs is None:
                raise InputError(f"{name}: no CRS; set attrs['crs'] or pass crs=.")
            da = da.assign_attrs(crs=as_crs(crs).to_string())
        return da
    da, _ = _open_geotiff(Path(source), crs, None, name)
    return da.fillna(0).astype(np.int64).assign_attrs(da.attrs)


def _prepare_north_up(da: xr.DataArray) -> xr.DataArray:
    if da.sizes["x"] > 1 and float(da["x"][1] - da["x"][0]) < 0:
        da = da.isel(x=slice(None, None, -1))
    if da.sizes["y"] > 1 and float(da["y"][1] - da["y"][0]) > 0:
        da = da.isel(y=slice(None, None, -1))
    return da.transpose(..., "y", "x")


def landuse_areas(landuse: xr.DataArray, grid: Grid) -> xr.DataArray:
    """Area of each land-use class in each cell of `grid` [m2], exact (conservative).

    Parameters
    ----------
    landuse : DataArray
        Class codes (from :func:`read_landuse`), any CRS and resolution.
    grid : Grid
        Run grid.

    Returns
    -------
    xarray.DataArray
        ``(landuse_class, y, x)`` with ``landuse_class`` the names of :data:`LANDUSE_CLASSES`.
    """
    src = grid_of(landuse)
    codes = np.asarray(_prepare_north_up(landuse).values)
    ind = np.stack([(codes == c).astype(float) for c in LANDUSE_CLASSES])
    areas = Regridder(src, grid, extensive=True).covered_area(ind)
    return xr.DataArray(
        areas,
        dims=("landuse_class", "y", "x"),
        coords={"landuse_class": list(LANDUSE_CLASSES.values()), **grid.coords()},
        attrs={"units": "m2", "crs": grid.crs.to_string()},
    )


# ---------------------------------------------------------------------- proxies
def _population_column(zones: Any, column: str | None, reference_year: int | None) -> str:
    if column is not None:
        require_columns(zones.columns, [column], "zones")
        return column
    if "population" in zones:
        return "population"
    years = {int(m.group(1)): c for c in zones.columns if (m := re.fullmatch(r"pop_(\d{4})", c))}
    if not years:
        raise MissingVariableError(
            f"zones: no population column ('population' or 'pop_<year>'); found "
            f"{list(zones.columns)}. Pass population_column=."
        )
    ref = reference_year if reference_year is not None else max(years)
    return years[min(years, key=lambda y: (abs(y - ref), -y))]


def proxy_grid(
    spec: ProxySpec,
    grid: Grid,
    *,
    zones: Any = None,
    population_column: str | None = None,
    landuse: xr.DataArray | None = None,
    roads: Any = None,
    reference_year: int | None = None,
) -> np.ndarray:
    """Resolve a proxy specification into a non-negative ``(ny, nx)`` weight per cell.

    Parameters
    ----------
    spec : str, DataArray, ndarray, GeoDataFrame or (GeoDataFrame, column)
        ``"population"`` (needs `zones`), ``"roads"`` (length x AADT, needs `roads`),
        ``"road_length"``, ``"landuse:<class>[,<class>...]"`` (names or codes of
        :data:`LANDUSE_CLASSES`, needs `landuse`), ``"built_up"`` (urban + industrial),
        ``"area"``; or a grid of weights (a DataArray in any CRS is regridded conservatively,
        a numpy array must be on `grid`); or geometries (polygons weigh by area, lines by
        length, points by count, times the optional column).
    grid : Grid
        Run grid.
    zones : GeoDataFrame, optional
        Zones with a population column, for ``"population"``.
    population_column : str, optional
        Population column (default ``population`` or the ``pop_<year>`` nearest
        `reference_year`).
    landuse : DataArray, optional
        Land-use classes (:func:`read_landuse`).
    roads : GeoDataFrame, optional
        Road links with ``aadt`` (:func:`read_roads`).
    reference_year : int, optional
        Used to choose the population column.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` weights (any scale; only shares within a zone matter).

    Raises
    ------
    trajectoire.ConfigError
        Unknown proxy name, or the data it needs are missing.
    trajectoire.InputError
        Negative or NaN proxy values.

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_100, 100)
    >>> proxy_grid("area", g)
    array([[10000., 10000.]])
    """
    import geopandas as gpd

    from trajectoire.errors import ConfigError

    def need(obj: Any, what: str) -> Any:
        if obj is None:
            raise ConfigError(
                f"proxy {spec!r} needs {what}; pass it to build_inventory/allocate, or choose "
                "another proxy for that sector (proxies={'<sector>': 'area'})."
            )
        return obj

    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "area":
            return np.full(grid.shape, grid.cell_area)
        if key == "population":
            z = need(zones, "zones with a population column")
            col = _population_column(z, population_column, reference_year)
            pop = pd.to_numeric(z[col], errors="coerce").to_numpy(float)
            require_non_negative(pop, f"zones, column {col!r}", list(z.get("zone_id", z.index)))
            zg = to_crs(z, grid.crs, what="zones")
            cov = coverage_matrix(zg, grid)
            area = np.asarray(zg.area, dtype=float)
            dens = np.divide(pop, area, out=np.zeros_like(pop), where=area > 0)
            return np.asarray(cov.T @ (dens * grid.cell_area)).reshape(grid.shape)
        if key in ("roads", "road_length"):
            r = need(roads, "road links (roads=)")
            w = None
            if key == "roads":
                require_columns(r.columns, ["aadt"], "roads (proxy 'roads' = length x AADT)")
                w = pd.to_numeric(r["aadt"], errors="coerce").to_numpy(float)
                require_non_negative(w, "roads, column 'aadt'", list(r.get("road_id", r.index)))
            return lines_to_grid(to_crs(r, grid.crs, what="roads"), grid, values=w)
        if key == "built_up" or key.startswith("landuse:"):
            lu = need(landuse, "a land-use raster (landuse=)")
            names = ["urban", "industrial"] if key == "built_up" else key[8:].split(",")
            wanted = []
            for n in (s.strip() for s in names):
                if n.isdigit() and int(n) in LANDUSE_CLASSES:
                    wanted.append(LANDUSE_CLASSES[int(n)])
                elif n in LANDUSE_CLASSES.values():
                    wanted.append(n)
                else:
                    raise ConfigError(
                        f"proxy {spec!r}: unknown land-use class {n!r}; expected codes or names "
                        f"of {LANDUSE_CLASSES}."
                    )
            areas = lu if "landuse_class" in lu.dims else landuse_areas(lu, grid)
            return np.asarray(areas.sel(landuse_class=wanted).sum("landuse_class").values)
        raise ConfigError(
            f"unknown proxy {spec!r}; expected 'population', 'roads', 'road_length', "
            "'built_up', 'area', 'landuse:<classes>', a grid or geometries."
        )
    if isinstance(spec, xr.DataArray):
        if crs_of(spec) is None and spec.shape == grid.shape:
            vals = np.asarray(spec.values, dtype=float)
        elif grid_of(spec).same_as(grid):
            vals = np.asarray(spec.transpose(..., "y", "x").values, dtype=float)
            vals = vals[::-1] if spec["y"].values[0] < spec["y"].values[-1] else vals
        else:
            vals = Regridder(spec, grid).apply_array(np.asarray(spec.values, dtype=float))
        return _check_proxy(vals, grid)
    if isinstance(spec, np.ndarray):
        return _check_proxy(spec, grid)
    column = None
    if isinstance(spec, tuple) and len(spec) == 2:
        spec, column = spec
    if isinstance(spec, gpd.GeoDataFrame | gpd.GeoSeries):
        g = to_crs(spec, grid.crs, what="proxy geometries")
        w = (
            pd.to_numeric(spec[column], errors="coerce").to_numpy(float)
            if column is not None
            else np.ones(len(g))
        )
        require_non_negative(w, f"proxy geometries, column {column!r}")
        kinds = set(g.geom_type.dropna())
        if kinds <= {"Polygon", "MultiPolygon"}:
            cov = coverage_matrix(g, grid)
            return np.asarray(cov.T @ w).reshape(grid.shape) * grid.cell_area
        if kinds <= {"LineString", "MultiLineString"}:
            return lines_to_grid(g, grid, values=w)
        if kinds <= {"Point"}:
            from trajectoire.geo.rasterize import points_to_grid

            return points_to_grid(g.x.values, g.y.values, w, grid, what="proxy points")
        raise InputError(f"proxy geometries: mixed or unsupported types {sorted(kinds)}.")
    raise InputError(
        f"proxy: unsupported specification of type {type(spec).__name__}; expected a name, "
        "a DataArray, a numpy array or geometries."
    )


def _check_proxy(vals: np.ndarray, grid: Grid) -> np.ndarray:
    arr = np.asarray(vals, dtype=float)
    if arr.shape != grid.shape:
        raise InputError(f"proxy grid has shape {arr.shape}; expected the grid shape {grid.shape}.")
    require_non_negative(arr.ravel(), "proxy grid")
    return arr


def allocate(
    area_totals: pd.DataFrame,
    zones: Any,
    grid: Grid,
    *,
    proxies: Mapping[str, ProxySpec] | None = None,
    population_column: str | None = None,
    landuse: xr.DataArray | None = None,
    roads: Any = None,
    reference_year: int | None = None,
    what: str = "area totals",
) -> xr.DataArray:
    """Spread polygon totals over the grid with a proxy per sector, conserving mass.

    Parameters
    ----------
    area_totals : DataFrame
        ``zone_id``, ``sector``, ``pollutant``, ``emission`` [t yr-1]
        (:func:`read_area_totals`).
    zones : GeoDataFrame
        Polygons with ``zone_id`` (:func:`read_zones`), any CRS.
    grid : Grid
        Run grid.
    proxies : mapping of sector to proxy, optional
        Overrides of :data:`DEFAULT_PROXIES` (sector ids or letters as keys); see
        :func:`proxy_grid` for the forms a proxy can take.
    population_column, landuse, roads, reference_year
        Data the proxies need (see :func:`proxy_grid`).
    what : str
        Name of the totals input in messages.

    Returns
    -------
    xarray.DataArray
        ``emission(sector, pollutant, y, x)`` [t yr-1 per cell].

    Raises
    ------
    trajectoire.InputError
        Zone ids of the totals missing from `zones`.

    Warns
    -----
    trajectoire.TrajectoireWarning
        A zone whose proxy is zero everywhere on it (falls back to area), a zone partly or
        wholly outside the grid (its outside share, by area, is left out).

    Notes
    -----
    With ``f_zc`` the exact fraction of cell ``c`` inside zone ``z``, ``P_c`` the proxy and
    ``a_z`` the share of the zone's area inside the grid, zone total ``E_z`` gives cell ``c``

    ``E_c = a_z E_z f_zc P_c / sum_c' f_zc' P_c'``

    so the cells of a zone receive exactly ``a_z E_z`` (to round-off). When
    ``sum_c f_zc P_c = 0``, ``P`` is replaced by the cell area for that zone and sector.
    """
    prox: dict[str, ProxySpec] = {normalise_sector(k): v for k, v in DEFAULT_PROXIES.items()}
    for k, v in (proxies or {}).items():
        prox[normalise_sector(k, what="proxies")] = v
    zg = to_crs(zones, grid.crs, what="zones")
    zone_ids = list(zones["zone_id"].astype(str))
    pos = {z: i for i, z in enumerate(zone_ids)}
    unknown = sorted(set(area_totals["zone_id"]) - set(pos))
    if unknown:
        raise InputError(
            f"{what}: zone id(s) {rows_preview(unknown)} are not in the zones file (ids there "
            f"look like {zone_ids[:3]}). Fix the ids or add the zones."
        )
    cov = coverage_matrix(zg, grid).tocsr()
    zone_area = np.asarray(zg.area, dtype=float)
    inside_area = np.asarray(cov.sum(axis=1)).ravel() * grid.cell_area
    share = np.divide(
        inside_area, zone_area, out=np.zeros_like(zone_area), where=zone_area > 0
    ).clip(0.0, 1.0)
    share = np.where(share > 1 - 1e-9, 1.0, share)
    sectors = list(dict.fromkeys(area_totals["sector"]))
    pollutants = list(dict.fromkeys(area_totals["pollutant"]))
    out = np.zeros((len(sectors), len(pollutants), grid.size))
    used = area_totals[area_totals["emission"] > 0]
    partial = sorted({z for z in used["zone_id"] if share[pos[z]] < 1.0}, key=str)
    if partial:
        lost = float(sum(r.emission * (1 - share[pos[r.zone_id]]) for r in used.itertuples()))
        warn(
            f"{what}: {len(partial)} zone(s) lie partly or wholly outside the grid {grid} "
            f"(zones {rows_preview(partial)}); the share of their totals outside, by area "
            f"({lost:.6g} t yr-1 in all), is left out. Enlarge the grid to keep it."
        )
    cache: dict[str, np.ndarray] = {}
    for si, sec in enumerate(sectors):
        tab = area_totals[area_totals["sector"] == sec]
        if not (tab["emission"] > 0).any():
            continue
        spec = prox.get(sec, "area")
        key = spec.strip().lower() if isinstance(spec, str) else None
        if key is not None and key in cache:
            p = cache[key]
        else:
            p = proxy_grid(
                spec,
                grid,
                zones=zones,
                population_column=population_column,
                landuse=landuse,
                roads=roads,
                reference_year=reference_year,
            ).ravel()
            if key is not None:
                cache[key] = p
        weighted = cov.multiply(p[None, :]).tocsr()
        denom = np.asarray(weighted.sum(axis=1)).ravel()
        zrows = np.array([pos[z] for z in tab["zone_id"]])
        needs = np.zeros(len(zone_ids), dtype=bool)
        needs[zrows[tab["emission"].to_numpy() > 0]] = True
        fallback = needs & (denom <= 0) & (share > 0)
        if fallback.any():
            names = [zone_ids[i] for i in np.flatnonzero(fallback)]
            warn(
                f"{what}: sector {sec}: the proxy {spec if isinstance(spec, str) else 'given'!s}"
                f" is zero everywhere on zone(s) {rows_preview(names)}; their totals are "
                "spread by area instead. Give a proxy that covers them to avoid this."
            )
            # rows of the fallback zones take the plain area fractions (O(nnz), no LIL)
            keep = sparse.diags((~fallback).astype(float))
            swap = sparse.diags(fallback.astype(float))
            weighted = (keep @ weighted + swap @ cov).tocsr()
            denom = np.asarray(weighted.sum(axis=1)).ravel()
        mass = np.zeros((len(zone_ids), len(pollutants)))
        pidx = np.array([pollutants.index(q) for q in tab["pollutant"]])
        np.add.at(mass, (zrows, pidx), tab["emission"].to_numpy(float))
        scale_z = np.divide(share, denom, out=np.zeros_like(denom), where=denom > 0)
        out[si] = np.asarray(weighted.T @ (mass * scale_z[:, None])).T
    return xr.DataArray(
        out.reshape(len(sectors), len(pollutants), *grid.shape),
        dims=("sector", "pollutant", "y", "x"),
        coords={"sector": sectors, "pollutant": pollutants, **grid.coords()},
        attrs={"units": "t yr-1", "crs": grid.crs.to_string()},
    )


# ---------------------------------------------------------------------- builder
def build_inventory(
    grid: Grid,
    *,
    reference_year: int,
    point_sources: Any = None,
    roads: Any = None,
    road_emission_factors: Any = None,
    area_totals: Any = None,
    zones: Any = None,
    proxies: Mapping[str, ProxySpec] | None = None,
    landuse: Any = None,
    population_column: str | None = None,
    gridded: Any = None,
    sectors: Sequence[str] | None = None,
    pollutants: Sequence[str] | None = None,
    strict: bool = False,
) -> xr.Dataset:
    """Build the canonical reference-year inventory on `grid` from any mix of inputs.

    Parameters
    ----------
    grid : Grid
        Run grid (projected, metres).
    reference_year : int
        Year the inputs describe.
    point_sources : path, DataFrame or Dataset, optional
        Stacks (:func:`read_point_sources`); kept as points.
    roads : path or GeoDataFrame, optional
        Road links (:func:`read_roads`), gridded into ``F_RoadTransport`` by length.
    road_emission_factors : path or DataFrame, optional
        Factors per category when `roads` carries traffic instead of emissions.
    area_totals : path or DataFrame, optional
        Zone totals (:func:`read_area_totals`), spread with `proxies`.
    zones : path or GeoDataFrame, optional
        Zones of `area_totals` (and population for the ``population`` proxy).
    proxies : mapping of sector to proxy, optional
        Overrides of :data:`DEFAULT_PROXIES`.
    landuse : path or DataArray, optional
        Land-use raster for the ``landuse:`` proxies.
    population_column : str, optional
        Zone population column (default: ``population`` or ``pop_<year>`` nearest
        `reference_year`).
    gridded : path, DataArray or list of them, optional
        Gridded inventories in any CRS (:func:`read_gridded` output or files), regridded
        conservatively.
    sectors, pollutants : sequence of str, optional
        Keep only these (default: all GNFR sectors; the pollutants found in the inputs).
        Inputs with other sectors/pollutants are an error when these are given.
    strict : bool, default False
        Raise instead of warning for point sources outside the grid.

    Returns
    -------
    xarray.Dataset
        The canonical inventory (``docs/data-model.md``), with a ``history`` line.

    Raises
    ------
    trajectoire.InputError
        Any bad input (see the readers), sectors or pollutants outside the requested lists,
        duplicated source ids.
    """
    parts: list[xr.DataArray] = []
    zones_gdf = read_zones(zones) if zones is not None else None
    roads_gdf = None
    if roads is not None:
        roads_gdf = read_roads(roads, emission_factors=road_emission_factors)
        parts.append(grid_roads(roads_gdf, grid).expand_dims(sector=["F_RoadTransport"]))
    lu = read_landuse(landuse) if landuse is not None else None
    lu_areas = landuse_areas(lu, grid) if lu is not None else None
    if area_totals is not None:
        tab = read_area_totals(area_totals, what=_name(area_totals, "area totals"))
        if zones_gdf is None:
            raise InputError(
                "build_inventory: area_totals given without zones; pass zones='zones.gpkg'."
            )
        parts.append(
            allocate(
                tab,
                zones_gdf,
                grid,
                proxies=proxies,
                population_column=population_column,
                landuse=lu_areas,
                roads=roads_gdf,
                reference_year=reference_year,
                what=_name(area_totals, "area totals"),
            )
        )
    if gridded is not None:
        items = gridded if isinstance(gridded, list | tuple) else [gridded]
        for item in items:
            da = item if isinstance(item, xr.DataArray) else read_gridded(item)
            if "sector" not in da.dims or da.attrs.get("units") != "t yr-1":
                da = read_gridded(da)
            parts.append(Regridder(da, grid, extensive=True)(da))
    points = None
    if point_sources is not None:
        points = (
            point_sources
            if isinstance(point_sources, xr.Dataset)
            else read_point_sources(point_sources)
        )
        points = _points_inside(_points_to_grid_crs(points, grid), grid, strict)
    # labels
    found_sec: list[str] = []
    found_pol: list[str] = []
    for da in parts:
        found_sec += [str(s) for s in da["sector"].values]
        found_pol += [str(p) for p in da["pollutant"].values]
    if points is not None:
        found_sec += [str(s) for s in points["source_sector"].values]
        found_pol += [str(p) for p in points["pollutant"].values]
    if sectors is None:
        sec = list(GNFR)
    else:
        sec = [normalise_sector(s, what="sectors") for s in sectors]
        _require_subset(found_sec, sec, "sector")
    if pollutants is None:
        pol = [p for p in POLLUTANTS if p in set(found_pol)] or ["NOx"]
    else:
        pol = [normalise_pollutant(p, what="pollutants") for p in pollutants]
        _require_subset(found_pol, pol, "pollutant")
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    for da in parts:
        for s in da["sector"].values:
            for p in da["pollutant"].values:
                em[sec.index(str(s)), pol.index(str(p))] += da.sel(sector=s, pollutant=p).values
    pts = points if points is not None else _empty_points(pol)
    ds = _assemble(grid, sec, pol, em, pts, reference_year)
    inputs = [
        f"{k}={_name(v, type(v).__name__)}"
        for k, v in (
            ("point_sources", point_sources),
            ("roads", roads),
            ("area_totals", area_totals),
            ("gridded", gridded),
        )
        if v is not None
    ]
    return add_history(ds, f"build_inventory({', '.join(inputs)}, grid={grid})")


def _require_subset(found: Iterable[str], allowed: Sequence[str], kind: str) -> None:
    extra = sorted(set(found) - set(allowed))
    if extra:
        raise InputError(
            f"build_inventory: the inputs contain {kind}(s) {extra} that are not in the "
            f"requested {kind}s {list(allowed)}. Add them to {kind}s= or drop them from the "
            "inputs."
        )


def _points_inside(points: xr.Dataset, grid: Grid, strict: bool) -> xr.Dataset:
    _, _, inside = grid.cell_index(points["source_x"].values, points["source_y"].values)
    if inside.all():
        return points
    bad = [str(s) for s in points["source"].values[~inside]]
    name = points.attrs.get("source_file", "point sources")
    lost = points["point_emission"].isel(source=np.flatnonzero(~inside)).sum("source")
    detail = ", ".join(
        f"{p} {float(v):.6g}" for p, v in zip(lost.pollutant.values, lost.values, strict=True)
    )
    msg = (
        f"{name}: {len(bad)} point source(s) of {inside.size} lie outside the grid {grid} "
        f"(source_id {rows_preview(bad)}; {detail} t yr-1). "
    )
    if strict:
        raise InputError(msg + "Enlarge the grid (Grid.around with a larger buffer) or drop them.")
    warn(msg + "They are left out of the inventory; enlarge the grid to keep them.")
    return points.isel(source=np.flatnonzero(inside))


# ---------------------------------------------------------------------- operations
def _grid(ds: xr.Dataset) -> Grid:
    return Grid.from_xarray(ds)


def group_sectors(ds: xr.Dataset, mapping: Mapping[str, str] | None = None) -> xr.Dataset:
    """Sum sectors into groups (SECTEN groups by default, or a user mapping).

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    mapping : mapping of GNFR id to group name, optional
        Default :data:`trajectoire.sectors.SECTEN_OF_GNFR`. Every sector of `ds` needs an
        entry.

    Returns
    -------
    xarray.Dataset
        Same layout with the ``sector`` coordinate holding group names; ``source_sector`` is
        mapped too. Totals are unchanged.

    Raises
    ------
    trajectoire.InputError
        A sector without a group in the mapping.

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_200, 100)
    >>> ds = empty_inventory(g, ["A", "D", "C"], ["NOx"], reference_year=2019)
    >>> group_sectors(ds).sector.values.tolist()
    ['energy', 'residential_tertiary']
    """
    table = {normalise_sector(k, what="mapping"): v for k, v in (mapping or SECTEN_OF_GNFR).items()}
    secs = [str(s) for s in ds["sector"].values]
    missing = [s for s in secs if s not in table]
    if missing:
        raise InputError(
            f"group_sectors: sector(s) {missing} have no group in the mapping; add them "
            f"(mapping has {sorted(table)})."
        )
    groups = [table[s] for s in secs]
    order = list(dict.fromkeys(groups))
    em = ds["emission"].assign_coords(group=("sector", groups)).groupby("group").sum("sector")
    em = em.rename(group="sector").sel(sector=order).transpose("sector", "pollutant", "y", "x")
    out = ds.drop_vars("emission").drop_dims("sector", errors="ignore")
    out["emission"] = em.assign_attrs(ds["emission"].attrs)
    if "source_sector" in ds and ds.sizes.get("source", 0):
        out["source_sector"] = (
            "source",
            np.array([table.get(str(s), str(s)) for s in ds["source_sector"].values], object),
        )
    return add_history(out, f"group_sectors(mapping={'SECTEN' if mapping is None else 'user'})")


def scale(ds: xr.Dataset, factors: Mapping[Any, float] | xr.DataArray) -> xr.Dataset:
    """Multiply emissions by factors per sector, per pollutant or per (sector, pollutant).

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    factors : mapping or DataArray
        Keys are sector ids (or letters), pollutant ids, or ``(sector, pollutant)`` pairs;
        missing entries keep factor 1. A DataArray with ``sector`` and/or ``pollutant`` dims
        is broadcast. Factors must be finite and >= 0. Point sources are scaled too.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    trajectoire.InputError
        Negative/NaN factors, unknown keys.
    """
    secs = [str(s) for s in ds["sector"].values]
    pols = [str(p) for p in ds["pollutant"].values]
    if isinstance(factors, xr.DataArray):
        f = factors.broadcast_like(
            xr.DataArray(
                np.ones((len(secs), len(pols))),
                dims=("sector", "pollutant"),
                coords={"sector": secs, "pollutant": pols},
            )
        ).fillna(1.0)
        mat = f.transpose("sector", "pollutant").values
    else:
        mat = np.ones((len(secs), len(pols)))
        for key, val in factors.items():
            if isinstance(key, tuple):
                s2, p2 = normalise_sector(key[0]), normalise_pollutant(key[1])
                mat[secs.index(s2), pols.index(p2)] *= val
                continue
            sec_id: str | None
            try:
                sec_id = normalise_sector(key)
            except InputError:
                sec_id = None
            if sec_id is not None and sec_id in secs:
                mat[secs.index(sec_id), :] *= val
                continue
            p = normalise_pollutant(key, what="scale factors")
            if p not in pols:
                raise InputError(f"scale: pollutant {p!r} not in the inventory {pols}.")
            mat[:, pols.index(p)] *= val
    require_non_negative(mat, "scale factors", secs)
    fac = xr.DataArray(
        mat, dims=("sector", "pollutant"), coords={"sector": secs, "pollutant": pols}
    )
    out = ds.copy()
    out["emission"] = (ds["emission"] * fac).assign_attrs(ds["emission"].attrs)
    if ds.sizes.get("source", 0):
        idx = [secs.index(str(s)) if str(s) in secs else -1 for s in ds["source_sector"].values]
        pf = np.array([mat[i] if i >= 0 else np.ones(len(pols)) for i in idx])
        out["point_emission"] = ds["point_emission"] * pf
        out["point_emission"].attrs = ds["point_emission"].attrs
    return add_history(out, "scale(factors)")


def crop(ds: xr.Dataset, territory: Any, *, crs: Any = None) -> xr.Dataset:
    """Keep the emissions inside a territory: exact area shares of boundary cells.

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    territory : shapely geometry, GeoSeries or GeoDataFrame
        Territory polygon(s) (a GeoSeries/GeoDataFrame is reprojected; a bare geometry is in
        `crs`, default the inventory CRS).
    crs : any, optional
        CRS of a bare shapely geometry.

    Returns
    -------
    xarray.Dataset
        On the sub-grid of the territory's bounding box; each cell keeps the share of its
        emission equal to the share of its area inside the territory (emission assumed
        uniform within a cell); point sources inside the territory are kept.
    """
    from trajectoire.geo.rasterize import area_fractions, to_grid_geometry

    grid = _grid(ds)
    frac = area_fractions(territory, grid, crs=crs)
    geom = to_grid_geometry(territory, grid, crs)
    rows, cols = grid.window(tuple(shapely.bounds(geom).tolist()))
    sub = grid.subgrid(rows, cols)
    out = ds.isel(y=rows, x=cols).copy()
    out["emission"] = (ds["emission"].isel(y=rows, x=cols) * frac[rows, cols]).assign_attrs(
        ds["emission"].attrs
    )
    if ds.sizes.get("source", 0):
        inside = shapely.covers(geom, shapely.points(ds["source_x"].values, ds["source_y"].values))
        out = out.isel(source=np.flatnonzero(inside))
    out = out.assign_coords(sub.coords())
    return add_history(out, "crop(territory)")


def add(a: xr.Dataset, b: xr.Dataset) -> xr.Dataset:
    """Add two inventories on the same grid (sectors and pollutants are united).

    Parameters
    ----------
    a, b : xarray.Dataset
        Inventories on the same grid (regrid one of them first otherwise).

    Returns
    -------
    xarray.Dataset
        Gridded emissions summed (missing sector/pollutant = 0), point sources of both.

    Raises
    ------
    trajectoire.GridError
        Different grids.
    trajectoire.InputError
        A point-source id present in both.
    """
    ga, gb = _grid(a), _grid(b)
    if not ga.same_as(gb):
        raise GridError(
            f"add: the inventories are on different grids ({ga} and {gb}); regrid one with "
            "trajectoire.regrid(b['emission'], grid_a) first."
        )
    secs = list(dict.fromkeys([*map(str, a.sector.values), *map(str, b.sector.values)]))
    order = [s for s in GNFR if s in secs] + [s for s in secs if s not in GNFR]
    pols = list(dict.fromkeys([*map(str, a.pollutant.values), *map(str, b.pollutant.values)]))
    ea = a["emission"].reindex(sector=order, pollutant=pols, fill_value=0.0)
    eb = b["emission"].reindex(sector=order, pollutant=pols, fill_value=0.0)
    pa = a.drop_dims(["y", "x", "sector"], errors="ignore").drop_vars("emission", errors="ignore")
    pb = b.drop_dims(["y", "x", "sector"], errors="ignore").drop_vars("emission", errors="ignore")
    ids = [*map(str, pa["source"].values), *map(str, pb["source"].values)]
    _check_duplicates(ids, "add: point-source ids of the two inventories")
    pa = pa.reindex(pollutant=pols, fill_value=0.0)
    pb = pb.reindex(pollutant=pols, fill_value=0.0)
    pts = xr.concat([pa, pb], dim="source", data_vars="minimal", coords="minimal")
    pts = pts.drop_vars(["y", "x", "sector"], errors="ignore")
    year = int(a.attrs.get("reference_year", b.attrs.get("reference_year", -1)))
    out = _assemble(ga, order, pols, (ea + eb).values, pts, year)
    return add_history(out, "add(a, b)")


def totals(ds: xr.Dataset, territories: Any = None, *, column: str = "territory") -> pd.DataFrame:
    """Emission totals per territory, sector and pollutant as a tidy table.

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    territories : GeoDataFrame, optional
        Territory polygons (any CRS) with an id column. Default: the whole grid (territory
        ``"all"``).
    column : str, default "territory"
        Id column of `territories`.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory``, ``sector``, ``pollutant``, ``emission`` [t yr-1]: gridded
        emission weighted by the exact share of each cell inside the territory, plus the
        point sources inside it.

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_200, 100)
    >>> ds = empty_inventory(g, ["F"], ["NOx"], reference_year=2019)
    >>> ds["emission"][:] = 2.0
    >>> totals(ds)
      territory           sector pollutant  emission
    0       all  F_RoadTransport       NOx       8.0
    """
    secs = [str(s) for s in ds["sector"].values]
    pols = [str(p) for p in ds["pollutant"].values]
    em = np.asarray(ds["emission"].transpose("sector", "pollutant", "y", "x").values)
    nsrc = ds.sizes.get("source", 0)
    pe = np.asarray(ds["point_emission"].transpose("source", "pollutant").values) if nsrc else None
    psec = [str(s) for s in ds["source_sector"].values] if nsrc else []
    grid = _grid(ds)
    if territories is None:
        names = ["all"]
        weights = sparse.csr_matrix(np.ones((1, grid.size)))
        pt_in = np.ones((1, nsrc), dtype=bool)
    else:
        require_columns(territories.columns, [column], "territories")
        tg = to_crs(territories, grid.crs, what="territories")
        names = [str(v) for v in territories[column]]
        weights = coverage_matrix(tg, grid)
        pts = shapely.points(ds["source_x"].values, ds["source_y"].values) if nsrc else None
        pt_in = np.array(
            [shapely.covers(g, pts) if nsrc else np.zeros(0, bool) for g in tg.values]
        ).reshape(len(names), nsrc)
    flat = em.reshape(len(secs) * len(pols), grid.size)
    grid_tot = np.asarray(weights @ flat.T).reshape(len(names), len(secs), len(pols))
    if nsrc and pe is not None:
        for k, s in enumerate(psec):
            if s in secs:
                grid_tot[:, secs.index(s), :] += pt_in[:, k, None] * pe[k][None, :]
    t_idx, s_idx, p_idx = np.meshgrid(
        np.arange(len(names)), np.arange(len(secs)), np.arange(len(pols)), indexing="ij"
    )
    return pd.DataFrame(
        {
            "territory": np.array(names, dtype=object)[t_idx.ravel()],
            "sector": np.array(secs, dtype=object)[s_idx.ravel()],
            "pollutant": np.array(pols, dtype=object)[p_idx.ravel()],
            "emission": grid_tot.ravel(),
        }
    )
