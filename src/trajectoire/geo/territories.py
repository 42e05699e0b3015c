"""The seven study territories: ids, names, populations, polygons and the grids around them.

The ids (``MEL``, ``CUD``, ``ACSO``, ``CCHF``, ``DOUAISIS``, ``CCVT``, ``ARC``) are **stable**
(see DESIGN.md). Polygons come from any file geopandas reads (GeoPackage, GeoJSON,
Shapefile), with a column mapping, or from the bundled sample (synthetic shapes at the real
positions, with the real areas and populations; see ``data/sample/README.md``).

Everything is returned in Lambert-93 (``EPSG:2154``): a file in another CRS is reprojected, a
file without CRS is refused (a CRS is never guessed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy import sparse

from trajectoire._validate import rows_preview
from trajectoire.errors import (
    ConfigError,
    GridError,
    InputError,
    MissingVariableError,
    config_option,
    warn,
)
from trajectoire.geo.grid import (
    DEFAULT_CRS,
    Grid,
    _check_bounds_in_crs,
    _resolution_pair,
    as_crs,
    check_area_of_use,
    check_geographic_range,
    to_crs,
)
from trajectoire.geo.rasterize import area_fractions, coverage_matrix, lines_to_grid
from trajectoire.tables import choose_layer, file_column, mapped_columns, option_table

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "COLUMNS",
    "TERRITORIES",
    "Territory",
    "buffer_mask",
    "get_territory",
    "load_territories",
    "read_exposure_zones",
    "regional_grid",
    "sample_territories_path",
    "select_territories",
    "territory_fractions",
    "territory_grid",
    "territory_id",
    "valid_polygons",
    "zone_layer_fraction",
    "zone_territory_fractions",
]


@dataclass(frozen=True)
class Territory:
    """Facts about one study territory.

    Attributes
    ----------
    id : str
        Stable short id (``"MEL"``...).
    name : str
        Name of the EPCI (inter-communal body).
    inhabitants : int
        Rounded population quoted in DESIGN.md.
    population_2023 : int
        INSEE *population municipale* 2023 (in force 1 January 2026), sum of the member
        communes (2026 perimeters).
    siren : str
        SIREN code of the EPCI (DGCL / INSEE).
    """

    id: str
    name: str
    inhabitants: int
    population_2023: int
    siren: str


#: The seven territories, by stable id. Populations: INSEE « populations de référence 2023 »
#: summed over the 2026 member communes (Etalab ``@etalab/decoupage-administratif`` 6.0.0);
#: SIREN codes: DGCL ``epcicom2026``.
TERRITORIES: dict[str, Territory] = {
    t.id: t
    for t in (
        Territory("MEL", "Métropole Européenne de Lille", 1_200_000, 1_195_234, "200093201"),
        Territory("CUD", "Communauté Urbaine de Dunkerque", 192_000, 191_478, "245900428"),
        Territory("ACSO", "Agglomération Creil Sud Oise", 89_000, 90_234, "200068047"),
        Territory(
            "CCHF",
            "Communauté de Communes des Hauts de Flandre",
            54_000,
            53_437,
            "200040954",
        ),
        Territory("DOUAISIS", "Douaisis Agglomération", 149_000, 149_282, "200044618"),
        Territory("CCVT", "Communauté de Communes du Vexin-Thelle", 20_000, 20_462, "246000707"),
        Territory("ARC", "Agglomération de la Région de Compiègne", 85_000, 83_992, "200067965"),
    )
}

#: Columns of the GeoDataFrame returned by :func:`load_territories`.
COLUMNS: tuple[str, ...] = ("territory", "name", "population", "geometry")

_REPO_SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample" / "territories.gpkg"


def sample_territories_path() -> Path | None:
    """Path of the bundled sample ``territories.gpkg`` in a source checkout, or None.

    In an installed wheel the file is absent and :func:`load_territories` builds the same
    polygons in memory with :mod:`trajectoire.sample`.
    """
    return _REPO_SAMPLE if _REPO_SAMPLE.is_file() else None


def _fix(config_key: str | None, python: str, toml: str) -> str:
    """How to fix it: the configuration key when the file came from a configuration, else
    the Python keyword."""
    if config_key:
        return f"Set {toml} in {option_table(config_key)} of the configuration."
    return f"Pass {python}" + ("" if python.endswith(".") else ".")


def load_territories(
    path: str | Path | None = None,
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    repair: bool = False,
    config_key: str | None = None,
) -> gpd.GeoDataFrame:
    """Read territory polygons into a GeoDataFrame in Lambert-93.

    Parameters
    ----------
    path : str or Path, optional
        A polygon file geopandas reads (GeoPackage, GeoJSON, Shapefile...). None loads the
        bundled sample (``data/sample/territories.gpkg``).
    layer : str, optional
        Layer to read. By default the only layer, or the one called ``territories`` (or
        ``territoires``).
    columns : mapping of str to str, optional
        File column to output column, e.g. ``{"territoire": "territory", "epci_nom": "name",
        "pmun_2023": "population"}`` for the real ``territoires_aqah.gpkg``. Unmapped columns
        are dropped.
    repair : bool, default False
        Repair invalid polygons (:func:`valid_polygons`, a warning lists them) instead of
        raising.
    config_key : str, optional
        The configuration key of the file (``"[inputs] territories"``): messages then say
        which key of the configuration fixes the mistake, instead of the Python keyword.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``territory`` (id, str), ``name`` (str), ``population`` (inhabitants,
        int64), ``geometry`` ((Multi)Polygon) in ``EPSG:2154``, one row per territory, in file
        order. A missing ``name`` or ``population`` column is filled from
        :data:`TERRITORIES` for the known ids.

    Raises
    ------
    trajectoire.InputError
        Missing file, a table (CSV) instead of a polygon file, file without CRS, a layer
        without features, coordinates outside the area of use of the file's CRS (degrees
        labelled Lambert-93), duplicated or empty ids, geometries that are not valid
        polygons, negative or missing populations, populations denser than
        :data:`MAX_DENSITY` (a column that is not a population).
    trajectoire.ConfigError
        A ``columns`` key of the configuration that is not ``territory``, ``name`` or
        ``population``.
    trajectoire.MissingVariableError
        Missing ``territory`` column or unknown layer.

    Examples
    --------
    >>> gdf = load_territories()
    >>> sorted(gdf["territory"])
    ['ACSO', 'ARC', 'CCHF', 'CCVT', 'CUD', 'DOUAISIS', 'MEL']
    >>> int(gdf["population"].sum())
    1784119
    """
    if path is None:
        sample = sample_territories_path()
        if sample is None:
            raise InputError(
                "load_territories(): no path given and the bundled sample "
                "(data/sample/territories.gpkg) is not beside this installation; pass the path "
                "of a polygon file, or write the sample with `trajectoire sample DIR` and pass "
                "DIR/territories.gpkg."
            )
        path = sample
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"territories file {path} does not exist; pass the path of a polygon file "
            "(GeoPackage, GeoJSON, Shapefile), or path=None for the bundled sample."
        )
    gdf, chosen = _read_polygon_file(
        path,
        layer,
        f"{path}",
        config_key,
        "territory",
        ("territories", "territoires"),
        canonical=COLUMNS[:-1],
    )
    what = f"{path}" + (f" (layer {chosen!r})" if chosen else "")
    return _normalise(gdf, columns, what, config_key, repair=repair)


def _read_polygon_file(
    path: Path,
    layer: str | None,
    what: str,
    config_key: str | None,
    kind: str,
    preferred: Sequence[str] = (),
    canonical: Sequence[str] = (),
) -> tuple[gpd.GeoDataFrame, str | None]:
    """The layer of a polygon file (:func:`trajectoire.tables.choose_layer`), its columns
    renamed by the configuration's ``columns`` (:func:`trajectoire.tables.mapped_columns`),
    and the layer's name (None for a file of one layer).

    Raises
    ------
    trajectoire.InputError
        A file that is not a vector file, several layers and none asked, or a table without
        geometry (a CSV), named by `what`, with the fix (`kind`: what a polygon is).
    trajectoire.MissingVariableError
        `layer` is not a layer of the file.

    With `canonical` (the columns the reader knows), a ``columns`` entry of the
    configuration that renames a file column to another name is an error naming it.
    """
    import geopandas as gpd

    if path.suffix.lower() in _TABLE_SUFFIXES:
        raise InputError(
            f"{what}: is a table without geometry ({path.suffix} file), not a polygon file; "
            f"expected a vector file with one polygon per {kind} (GeoPackage, GeoJSON, "
            "shapefile). "
            + _fix(config_key, "the path of a polygon file.", 'path = "<polygons>.gpkg"')
        )
    chosen = choose_layer(path, layer, what=what, config_key=config_key, preferred=preferred)
    gdf = gpd.read_file(path, layer=chosen) if chosen is not None else gpd.read_file(path)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        # a CSV (or any layer without geometry) is read as a plain table
        at = f" (layer {chosen!r})" if chosen else ""
        raise InputError(
            f"{what}{at}: is a table without geometry (columns {list(gdf.columns)}); expected "
            f"a vector file with one polygon per {kind} (GeoPackage, GeoJSON, shapefile). "
            + _fix(config_key, "the path of a polygon file.", 'path = "<polygons>.gpkg"')
        )
    if len(gdf) == 0 and kind != "territory":  # the territories say it in their own words
        # an empty layer of exposure zones ended on warnings of NaN extents, the run going on
        at = f"layer {chosen!r}" if chosen else "its layer"
        raise InputError(
            f"{what}: {at} has no feature; expected one polygon per {kind}. Give the file or "
            "layer that holds them"
            + (f" ({config_option(config_key, 'layer')}, path)." if config_key else ".")
        )
    # before the polygons are reprojected: metres read as degrees (a GeoJSON without
    # "crs") become infinities there, then "invalid polygons" that no repair mends
    check_geographic_range(
        gdf, what, "Write the file with its CRS (ogr2ogr -a_srs EPSG:2154 out.gpkg <file>, or "
        "the CRS its coordinates are in); a CRS is never assumed.", path,
    )  # fmt: skip
    mapped = mapped_columns(gdf)  # the configuration's ``columns`` (column_mapping)
    if canonical:
        new = [str(c) for c in mapped.columns if c not in gdf.columns]
        unknown = [c for c in new if c not in canonical]
        if unknown:
            given = {c: file_column(c) for c in unknown}
            shown = ", ".join(f"{k} = {v!r}" for k, v in given.items())
            raise ConfigError(
                f"{what}: columns {{ {shown} }}: unknown key(s) {unknown}; expected some of "
                f"{list(canonical)} (the name trajectoire expects = the column in the file). "
                + _fix(
                    config_key,
                    "columns={'<file column>': 'name'}.",
                    f'columns = {{ <{" or ".join(canonical)}> = "{next(iter(given.values()))}" }}',
                )
            )
    return mapped, chosen


def _check_polygons(geoms: Sequence[Any], ids: Sequence[str], what: str, kind: str) -> None:
    """Raise unless every geometry is a non-empty Polygon or MultiPolygon (`kind`: what a
    row is, for messages)."""
    for i, geom in zip(ids, geoms, strict=True):
        if geom is None or shapely.is_empty(geom):
            raise InputError(
                f"{what}: {kind} {i!r} has an empty geometry; expected a Polygon or "
                "MultiPolygon. Draw it, or drop the row."
            )
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                f"{what}: {kind} {i!r} is a {geom.geom_type}; expected a Polygon or MultiPolygon."
            )


def _normalise(
    gdf: gpd.GeoDataFrame,
    columns: Mapping[str, str] | None,
    what: str,
    config_key: str | None = None,
    *,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    import geopandas as gpd

    if gdf.crs is None:
        raise InputError(
            f"{what}: has no CRS. Set it (e.g. gdf.set_crs('EPSG:2154') and write the file "
            "again, or ogr2ogr -a_srs EPSG:2154); a CRS is never assumed."
        )
    if len(gdf) == 0:
        raise InputError(
            f"{what}: holds no territory (no feature); expected one polygon per territory. "
            + _fix(config_key, "another file or layer=.", 'layer = "<the layer of polygons>"')
        )
    mapping = dict(columns or {})
    absent = [c for c in mapping if c not in gdf.columns]
    if absent:
        raise MissingVariableError(
            f"{what}: the column mapping names {absent}, which the file does not have; "
            f"its columns are {[c for c in gdf.columns if c != gdf.geometry.name]}."
        )
    bad_targets = [v for v in mapping.values() if v not in COLUMNS[:-1]]
    if bad_targets:
        raise InputError(
            f"{what}: column mapping targets {bad_targets}; expected some of {list(COLUMNS[:-1])}."
        )
    data = gdf.rename(columns=mapping)
    if "territory" not in data.columns:
        raise MissingVariableError(
            f"{what}: no 'territory' column; found "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}. Map the id column: "
            + _fix(
                config_key,
                "columns={'territoire': 'territory'}",
                'columns = { territory = "territoire" }',
            )
        )
    renamed = {v: k for k, v in mapping.items()}
    id_column = renamed.get("territory") or file_column("territory")
    ids = [("" if v is None else str(v)).strip() for v in data["territory"]]
    empty = [k for k, i in enumerate(ids) if not i or i.lower() == "nan"]
    if empty:
        raise InputError(
            f"{what}, column {id_column!r} (territory): empty id at row(s) "
            f"{rows_preview(empty, 5)} (0-based, in file order); expected an id for every "
            "territory. Fill them or drop those rows."
        )
    ids = [territory_id(i) for i in ids]  # the stable ids, case-insensitively ("mel": MEL)
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        at = "; ".join(
            f"{d!r} at rows {', '.join(str(k) for k, i in enumerate(ids) if i == d)}"
            for d in dup[:5]
        )
        raise InputError(
            f"{what}, column {id_column!r} (territory): territory id(s) {dup} appear more "
            f"than once (ids are matched case-insensitively): {at} (rows 0-based); expected "
            "one polygon per territory. Dissolve the polygons by territory first (e.g. ogr2ogr -dialect "
            "sqlite, or geopandas dissolve), or map another id column: "
            + _fix(
                config_key,
                "columns={'<id column>': 'territory'}.",
                'columns = { territory = "<id column>" }',
            )
        )
    if "name" in data.columns:
        names = [str(v) for v in data["name"]]
    else:
        names = [TERRITORIES[i].name if i in TERRITORIES else i for i in ids]
    if "population" in data.columns:
        source = {v: k for k, v in mapping.items()}.get("population") or file_column("population")
        pop = _population_numbers(data["population"], ids, source, what, config_key)
    else:
        unknown = [i for i in ids if i not in TERRITORIES]
        if unknown:
            raise MissingVariableError(
                f"{what}: no 'population' column and territories {unknown} are not among the "
                f"known ids {list(TERRITORIES)}; map a population column with columns=..."
            )
        pop = np.asarray([TERRITORIES[i].population_2023 for i in ids], dtype=float)
    bad = [int(k) for k in np.flatnonzero(~np.isfinite(pop) | (pop < 0))]
    if bad:
        pop_column = renamed.get("population") or file_column("population")
        shown = [f"{ids[k]} ({'empty' if np.isnan(pop[k]) else f'{pop[k]:g}'})" for k in bad]
        raise InputError(
            f"{what}, column {pop_column!r} (population): missing or negative for "
            f"{rows_preview(shown, 5)}; expected inhabitants >= 0 for every territory. Fix "
            "the file, or map another column: "
            + _fix(
                config_key,
                "columns={'<population column>': 'population'}.",
                'columns = { ..., population = "<population column>" }',
            )
        )
    geoms = to_crs(data, DEFAULT_CRS, what=what).values
    _check_polygons(geoms, ids, what, "territory")
    geoms = valid_polygons(
        geoms, ids, what, repair=repair, config_key=config_key or "[inputs] territories",
        kind="territory",
    )  # fmt: skip
    check_territory_overlaps(geoms, ids, what, config_key)
    # after the polygons' own checks (synthetic test shapes near the origin), before the
    # density (degrees read as metres make polygons of a square metre)
    check_area_of_use(data, ids, what, config_key, kind="territory")
    if "population" in data.columns:
        pop_column = renamed.get("population") or file_column("population")
        _check_density(pop, geoms, ids, pop_column, what, config_key)
    return gpd.GeoDataFrame(
        {
            "territory": ids,
            "name": names,
            "population": np.rint(pop).astype(np.int64),
        },
        geometry=list(geoms),
        crs=DEFAULT_CRS,
    )


def _population_numbers(
    values: Any, ids: Sequence[str], source: str, what: str, config_key: str | None
) -> np.ndarray:
    """The territories' population column as numbers [inhabitants]; a cell that is not a
    number (a text column mapped as the population) is an error naming the file column,
    the territories and their values."""
    raw = list(values)
    numbers = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(float)
    text = [
        k
        for k, v in enumerate(raw)
        if np.isnan(numbers[k]) and not (v is None or (isinstance(v, float) and np.isnan(v)))
    ]
    if text:
        shown = [f"{raw[k]!r} ({ids[k]})" for k in text]
        raise InputError(
            f"{what}, column {source!r} (population): {len(text)} value(s) are not numbers: "
            f"{rows_preview(shown, 5)}; expected a number of inhabitants for each territory. "
            + _fix(
                config_key,
                "columns={'<population column>': 'population'}.",
                'columns = { ..., population = "<population column>" }',
            )
        )
    return numbers


#: File suffixes of tables, never polygon files (a CSV given as the territories).
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods")

#: Largest mean density [inhabitants per km²] of a territory: above it, the population
#: column holds something else (a SIREN number, inhabitants x 1000). The densest city
#: districts have some 100 000 inhabitants per km², Paris 20 000.
MAX_DENSITY = 2.0e5


def _check_density(
    pop: np.ndarray,
    geoms: Sequence[Any],
    ids: Sequence[str],
    column: str,
    what: str,
    config_key: str | None,
) -> None:
    """Populations denser than :data:`MAX_DENSITY` on their polygon (EPSG:2154, m²) are an
    error naming the file column, the territories and their values: the column mapped as
    the population is not one."""
    area_km2 = np.asarray(shapely.area(np.asarray(geoms, dtype=object)), dtype=float) / 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area_km2 > 0, pop / area_km2, 0.0)
    bad = np.flatnonzero(density > MAX_DENSITY)
    if not bad.size:
        return
    shown = [f"{ids[int(k)]} {pop[k]:.10g} on {area_km2[k]:.4g} km²" for k in bad]
    raise InputError(
        f"{what}, column {column!r} (population): {rows_preview(shown, 3)}, more than "
        f"{MAX_DENSITY:.0f} inhabitants per km² (the densest city districts have some "
        "100 000); expected the number of inhabitants of each territory. Map the population "
        "column: "
        + _fix(
            config_key,
            "columns={'<population column>': 'population'}.",
            'columns = { ..., population = "<population column>" }',
        )
    )


def _check_frame(territories: Any) -> gpd.GeoDataFrame:
    import geopandas as gpd

    if not isinstance(territories, gpd.GeoDataFrame) or "territory" not in territories.columns:
        raise InputError(
            f"expected the GeoDataFrame of load_territories() (with a 'territory' column), got "
            f"{type(territories).__name__}."
        )
    return territories


def territory_id(given: Any, known: Iterable[str] | None = None) -> Any:
    """The id among `known` that `given` names, case-insensitively (``"mel"`` is ``"MEL"``).

    Parameters
    ----------
    given : str or any
        An id as a user wrote it (surrounding blanks ignored).
    known : iterable of str, optional
        The valid ids (default: the stable ids, :data:`TERRITORIES`).

    Returns
    -------
    str or any
        The id as `known` spells it; `given` unchanged when it names none (or several), for
        the caller's message to name it as written.
    """
    ids = list(TERRITORIES) if known is None else [str(k) for k in known]
    if not isinstance(given, str):
        return given
    if given in ids:
        return given
    match = [i for i in ids if i.upper() == given.strip().upper()]
    return match[0] if len(match) == 1 else given


def get_territory(territories: gpd.GeoDataFrame, territory_id: str) -> gpd.GeoDataFrame:
    """The one-row GeoDataFrame of a territory.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories`.
    territory_id : str
        Id, case-insensitive (``"mel"`` is ``"MEL"``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row.

    Raises
    ------
    trajectoire.InputError
        If the id is not among the territories, listing the valid ids.

    Examples
    --------
    >>> get_territory(load_territories(), "cud")["name"].item()
    'Communauté Urbaine de Dunkerque'
    """
    gdf = _check_frame(territories)
    ids = [str(i) for i in gdf["territory"]]
    key = str(territory_id).strip()
    match = [k for k, i in enumerate(ids) if i == key or i.upper() == key.upper()]
    if not match:
        raise InputError(
            f"unknown territory id {territory_id!r}; expected one of {ids}. Check the "
            "spelling (the stable ids are MEL, CUD, ACSO, CCHF, DOUAISIS, CCVT, ARC)."
        )
    return gdf.iloc[[match[0]]]


def select_territories(
    territories: gpd.GeoDataFrame,
    wanted: Sequence[str],
    *,
    what: str,
    asked: bool = True,
) -> gpd.GeoDataFrame:
    """The rows of `territories` whose ids are `wanted`, in file order.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories` (the stable ids spelt as :data:`TERRITORIES`
        does, whatever the file's case).
    wanted : sequence of str
        The ids to keep (``[grid] territories``), matched case-insensitively.
    what : str
        The file, for messages.
    asked : bool, default True
        Whether `wanted` was written in the configuration (False: its default, the seven
        territories), for the message.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows kept, index reset.

    Raises
    ------
    trajectoire.InputError
        Some of `wanted` are not in the file: one line naming them, the file's ids and the
        ``[grid] territories`` that runs the territories it has.
    """
    gdf = _check_frame(territories)
    have = [str(i) for i in gdf["territory"]]
    want = [territory_id(w, have) for w in wanted]
    missing = [w for w in want if w not in have]
    if missing:
        present = [w for w in want if w in have] or [i for i in have if i in TERRITORIES]
        which = (
            "asked in [grid] territories"
            if asked
            else "of the seven that [grid] territories covers by default"
        )
        fix = (
            f"set [grid] territories = {json.dumps(present)} to run those it has"
            if present
            else (
                "none of its ids is a study territory "
                f"({', '.join(TERRITORIES)}): map the id column with "
                '[inputs.territories] columns = { territory = "..." }'
            )
        )
        raise InputError(
            f"{what} ([inputs] territories): territories {missing} {which} are not in the "
            f"file, which holds {rows_preview(have, 10)}; {fix}, or give a file with them "
            "([inputs] territories)."
        )
    keep = [k for k, i in enumerate(have) if i in want]
    return gdf.iloc[keep].reset_index(drop=True)


def _select(territories: gpd.GeoDataFrame, ids: Sequence[str] | None) -> gpd.GeoDataFrame:
    gdf = _check_frame(territories)
    if ids is None:
        return gdf
    if isinstance(ids, str):
        ids = [ids]
    if len(ids) == 0:
        raise InputError("regional grid: ids is empty; pass at least one territory id or None.")
    rows = [int(gdf.index.get_loc(get_territory(gdf, i).index[0])) for i in ids]
    return gdf.iloc[sorted(set(rows))]


def territory_grid(
    territories: gpd.GeoDataFrame,
    territory_id: str,
    resolution: float = 100.0,
    buffer: float = 5000.0,
) -> Grid:
    """Grid covering one territory plus a buffer, snapped to multiples of `resolution`.

    Parameters
    ----------
    territories, resolution, buffer
        As for :func:`regional_grid`.
    territory_id : str
        Territory id (an unknown id is an error naming the known ones).

    Returns
    -------
    Grid

    Examples
    --------
    >>> g = territory_grid(load_territories(), "ACSO", resolution=1000.0)
    >>> g.dx, g.crs.to_epsg()
    (1000.0, 2154)
    """
    one = get_territory(territories, territory_id)
    return Grid.around(one, resolution, buffer=buffer)


def regional_grid(
    territories: gpd.GeoDataFrame,
    ids: Sequence[str] | None = None,
    resolution: float = 100.0,
    buffer: float = 5000.0,
    *,
    crs: Any = DEFAULT_CRS,
    bounds: Sequence[float] | None = None,
) -> Grid:
    """One grid covering several territories (all by default) plus a buffer.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories`.
    ids : sequence of str, optional
        Territories to cover; None covers all of them.
    resolution : float, default 100
        Cell size [m].
    buffer : float, default 5000
        Margin around the bounding box of the selected territories [m].
    crs : pyproj.CRS or str, default Lambert-93 (EPSG:2154)
        Projected CRS of the grid (``[grid] crs``).
    bounds : (xmin, ymin, xmax, ymax), optional
        The grid's extent in `crs` [m] instead of the territories' box plus `buffer`
        (``[grid] bounds``, e.g. a whole region); it must cover the selected territories.
        Snapped outwards to multiples of `resolution`.

    Returns
    -------
    Grid

    Raises
    ------
    trajectoire.InputError
        If `bounds` leaves part of a selected territory out, or cannot be coordinates of
        `crs` (degrees given for metres).

    Examples
    --------
    >>> g = regional_grid(load_territories(), ["MEL", "DOUAISIS"], resolution=1000.0)
    >>> g.shape
    (70, 42)
    """
    chosen = _select(territories, ids)
    if bounds is None:
        return Grid.around(chosen, resolution, buffer=buffer, crs=crs)
    x0, y0, x1, y1 = (float(b) for b in bounds)
    shown = f"[grid] bounds [{x0:.10g}, {y0:.10g}, {x1:.10g}, {y1:.10g}]"
    try:  # degrees given for metres: Grid.from_bounds's check, before the coverage one
        _check_bounds_in_crs(
            (x0, y0, x1, y1), as_crs(crs), _resolution_pair(resolution, "regional_grid")[0],
            what=shown,
            fix=f"Give [grid] bounds in metres of [grid] crs ({crs}), or remove the key (the "
            "grid then covers the territories plus [grid] buffer).",
        )  # fmt: skip
    except GridError as exc:  # a mistake in the key, as the coverage one below
        raise InputError(str(exc)) from None
    tx0, ty0, tx1, ty1 = to_crs(chosen, crs, what="regional_grid territories").total_bounds
    if tx0 < x0 or ty0 < y0 or tx1 > x1 or ty1 > y1:
        raise InputError(
            f"[grid] bounds [{x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}] leave part of the "
            f"territories out (their box is [{tx0:.0f}, {ty0:.0f}, {tx1:.0f}, {ty1:.0f}] in "
            f"{crs}); widen [grid] bounds or remove the key."
        )
    return Grid.from_bounds(x0, y0, x1, y1, resolution, crs, snap=True)


def territory_fractions(territories: gpd.GeoDataFrame, grid: Grid) -> xr.DataArray:
    """Exact share of each grid cell that lies in each territory, plus the rest.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories` (any CRS; reprojected to the grid's).
    grid : Grid
        Target grid.

    Returns
    -------
    xarray.DataArray
        ``(territory, y, x)`` fractions between 0 and 1 [1], float64. The ``territory`` coordinate
        holds the ids in the order of `territories` then ``"rest"`` (the part of each cell
        in no territory), so that the layers sum to 1 in every cell.

    Notes
    -----
    The fractions are exact polygon-cell intersection areas divided by the cell area
    (:func:`trajectoire.coverage_matrix`). With ``f_k`` the fraction of territory ``k``,
    ``rest = max(0, 1 - sum_k f_k)``. Where territories overlap (sum above 1, which valid
    inputs do only by round-off), the territory layers are scaled to sum to 1.

    Examples
    --------
    >>> t = load_territories()
    >>> f = territory_fractions(t, territory_grid(t, "ACSO", resolution=1000.0))
    >>> bool(abs(float(f.sum("territory").max()) - 1.0) < 1e-12)
    True
    """
    gdf = _check_frame(territories)
    ids = [str(i) for i in gdf["territory"]]
    cov = coverage_matrix(gdf, grid)
    data = np.zeros((len(ids) + 1, grid.size))  # one allocation, filled row by row
    for k in range(len(ids)):
        lo, hi = cov.indptr[k], cov.indptr[k + 1]
        data[k, cov.indices[lo:hi]] = cov.data[lo:hi]
    mat = data[:-1]
    total = mat.sum(axis=0)
    over = total > 1.0
    if over.any():
        mat[:, over] /= total[over]
        total = mat.sum(axis=0)
    data[-1] = np.clip(1.0 - total, 0.0, 1.0)
    out = xr.DataArray(
        data.reshape(len(ids) + 1, grid.ny, grid.nx),
        dims=("territory", "y", "x"),
        coords={"territory": [*ids, "rest"], **grid.coords()},
        name="territory_fraction",
    )
    out.attrs = {
        "units": "1",
        "long_name": "fraction of the cell area in each territory",
        "crs": grid.crs.to_string(),
    }
    return out


def buffer_mask(territories: gpd.GeoDataFrame, grid: Grid, buffer: float = 5000.0) -> xr.DataArray:
    """Cells that are within `buffer` of at least one territory.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories`.
    grid : Grid
        Target grid.
    buffer : float, default 5000
        Distance [m] (>= 0); 0 keeps the cells that overlap a territory.

    Returns
    -------
    xarray.DataArray
        ``(y, x)`` booleans, True where the cell overlaps the union of the territories
        enlarged by `buffer` (used to mask written maps).

    Examples
    --------
    >>> t = load_territories()
    >>> g = regional_grid(t, resolution=2000.0)
    >>> m = buffer_mask(t, g, 0.0)
    >>> 0 < int(m.sum()) < g.size
    True
    """
    if not np.isfinite(buffer) or buffer < 0:
        raise InputError(f"buffer_mask: buffer must be a finite distance >= 0 m, got {buffer!r}.")
    gdf = _check_frame(territories)
    union = shapely.union_all(to_crs(gdf, grid.crs, what="territories").values)
    zone = union.buffer(buffer, quad_segs=16) if buffer > 0 else union
    mask = area_fractions(zone, grid) > 0.0
    out = grid.to_dataarray(mask, name="buffer_mask")
    out.attrs.update(
        {"long_name": f"cells within {buffer:g} m of a territory", "buffer": float(buffer)}
    )
    return out


def read_exposure_zones(
    path: str | Path,
    *,
    layer: str | None = None,
    id_column: str = "zone_id",
    partition: bool = False,
    repair: bool = False,
    config_key: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer of zones whose inhabitants' exposure is split out (priority
    neighbourhoods, IRIS, communes...).

    Parameters
    ----------
    path : str or Path
        A polygon file geopandas reads, with a CRS.
    layer : str, optional
        Layer to read (default: the only one; a file of several layers needs one).
    id_column : str, default "zone_id"
        Column holding each zone's id (after the configuration's ``columns``, which
        renames the file's columns: ``columns = { zone_id = "code_qp" }``).
    partition : bool, default False
        The zones must not overlap (a partition of part of the plane, as IRIS or communes
        are): overlapping zones are then an error. Without it, overlaps are allowed and
        counted once (the union of the zones).
    repair : bool, default False
        Repair invalid polygons (:func:`valid_polygons`, a warning lists them) instead of
        raising.
    config_key : str, optional
        The configuration key of the file (default ``"[inputs] exposure_zones"``), named by
        the messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id`` (str) and the polygons in ``EPSG:2154``.

    Raises
    ------
    trajectoire.InputError
        Missing file, a file that is not a vector file (a CSV), several layers and none
        asked, no CRS, empty or duplicated ids, empty geometries or geometries that are not
        valid polygons, or (with `partition`) two zones that overlap, named.
    trajectoire.MissingVariableError
        No `id_column`, or no layer `layer`.
    """
    import geopandas as gpd

    path = Path(path)
    key = config_key or "[inputs] exposure_zones"
    what = f"{path} ({key})"
    if not path.exists():
        raise InputError(f"{what} does not exist; give the path of a polygon file.")
    gdf, _ = _read_polygon_file(path, layer, what, key, "zone")
    if gdf.crs is None:
        raise InputError(
            f"{what}: has no CRS. Set it (e.g. ogr2ogr -a_srs EPSG:2154, or "
            "gdf.set_crs(...) and write the file again); a CRS is never assumed."
        )
    if id_column not in gdf.columns:
        raise MissingVariableError(
            f"{what}: no {id_column!r} column; found "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}. Name the id column with "
            f"{config_option(key, 'id_column')} = '...'."
        )
    ids = [("" if v is None else str(v)).strip() for v in gdf[id_column]]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if any(not i or i.lower() == "nan" for i in ids) or dup:
        raise InputError(f"{what}: zone ids must be unique and not empty (repeated: {dup}).")
    geoms = to_crs(gdf, DEFAULT_CRS, what=what).values
    _check_polygons(geoms, ids, what, "zone")
    geoms = valid_polygons(geoms, ids, what, repair=repair, config_key=option_table(key))
    out = gpd.GeoDataFrame({"zone_id": ids}, geometry=list(geoms), crs=DEFAULT_CRS)
    if partition:
        _check_partition(out, what)
    return out


def _overlapping_pairs(geoms: Any) -> list[tuple[int, int]]:
    """The rows ``(i, j)``, ``i < j``, of the geometries whose interiors overlap (one
    overlapping or containing the other; touching is not overlapping), sorted."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    inside_l, inside_r = tree.query(geoms, predicate="contains")
    return sorted(
        {
            (int(min(a, b)), int(max(a, b)))
            for a, b in zip([*left, *inside_l], [*right, *inside_r], strict=True)
            if a != b
        }
    )


def _check_partition(zones: gpd.GeoDataFrame, what: str) -> None:
    """Error naming the first two zones whose interiors overlap (touching is allowed)."""
    pairs = _overlapping_pairs(zones.geometry.values)
    if pairs:
        a, b = pairs[0]
        ids = zones["zone_id"]
        raise InputError(
            f"{what}: zones {ids.iloc[a]!r} and {ids.iloc[b]!r} overlap"
            + (f" (and {len(pairs) - 1} more pair(s))" if len(pairs) > 1 else "")
            + "; with partition = true the zones must not overlap. Fix the layer, or set "
            "partition = false to count overlaps once."
        )


OVERLAP_WARN = 0.01
"""Share of the smaller of two population zones that, covered by the other, is warned about
(:func:`check_zone_overlaps`); below it, slivers of two digitisations of one border."""
OVERLAP_ERROR = 0.5
"""Share of the smaller zone that, covered by the other, is an error (a zone given twice)."""


def zone_overlaps(zones: gpd.GeoDataFrame) -> list[tuple[int, int, float]]:
    """Pairs of zones whose interiors overlap: ``(i, j, share)`` with ``i < j`` the rows and
    `share` the overlap's area over the smaller zone's area [1], largest share first.

    Touching zones (a shared border) are not pairs. Uses an STRtree and GEOS's ``overlaps``
    and ``contains`` predicates, so that only overlapping pairs have their intersection
    formed.
    """
    geoms = zones.geometry.values
    pairs = _overlapping_pairs(geoms)
    if not pairs:
        return []
    i = np.array([p[0] for p in pairs])
    j = np.array([p[1] for p in pairs])
    inter = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    smaller = np.minimum(shapely.area(geoms[i]), shapely.area(geoms[j]))
    share = np.divide(inter, smaller, out=np.ones_like(inter), where=smaller > 0)
    order = np.argsort(-share, kind="stable")
    return [(int(i[k]), int(j[k]), float(share[k])) for k in order]


def _polygonal(geom: Any) -> Any:
    """The polygonal part of `geom` (a collection's polygons merged), or None if it has none."""
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def valid_polygons(
    geoms: Sequence[Any],
    ids: Sequence[Any],
    what: str,
    *,
    repair: bool = False,
    config_key: str | None = None,
    kind: str = "zone",
) -> list[Any]:
    """The polygons `geoms` checked to be valid (OGC simple features), or repaired.

    An invalid polygon (a ring that crosses itself, a hole outside its shell...) gives
    wrong areas and makes GEOS's overlays fail ("TopologyException") when the zones are cut
    by the grid. Without `repair`, every invalid polygon is one error naming each id and
    GEOS's reason; with it, each is made valid by :func:`shapely.make_valid` (the
    "linework" method: every part of the plane the rings enclose is kept, Ramsey et al.,
    PostGIS ``ST_MakeValid``), its polygonal part kept, and one warning lists the ids and
    their areas after repair [km2].

    Parameters
    ----------
    geoms : sequence of shapely geometries
        Polygons or MultiPolygons, in a projected CRS [m].
    ids : sequence
        The id of each geometry, for messages.
    what : str
        The input, for messages.
    repair : bool, default False
        Repair instead of raising.
    config_key : str, optional
        The input's table in the configuration (``"[inputs.zones]"``), for the fix.
    kind : str, default "zone"
        What a geometry is, for messages.

    Returns
    -------
    list
        The geometries, the repaired ones replaced.

    Raises
    ------
    trajectoire.InputError
        Invalid polygons without `repair`, or one whose repair leaves no area.
    """
    out = list(geoms)
    bad = [k for k, g in enumerate(out) if g is not None and not shapely.is_valid(g)]
    if not bad:
        return out
    table = option_table(config_key) if config_key else "the input's table"
    if not repair:
        shown = [f"{ids[k]!r} ({shapely.is_valid_reason(out[k])})" for k in bad]
        raise InputError(
            f"{what}: {len(bad)} {kind}(s) with an invalid polygon: {rows_preview(shown, 5)}; "
            f"expected valid polygons (rings that do not cross themselves). Set repair = true "
            f"in {table} to repair them with shapely.make_valid (the areas kept are reported), "
            "or fix the file (QGIS: Fix Geometries; ogr2ogr -makevalid)."
        )
    done = []
    for k in bad:
        fixed = _polygonal(shapely.make_valid(out[k]))
        if fixed is None or fixed.is_empty or not fixed.area > 0:
            raise InputError(
                f"{what}: {kind} {ids[k]!r} has an invalid polygon "
                f"({shapely.is_valid_reason(out[k])}) whose repair leaves no area; redraw it."
            )
        out[k] = fixed
        done.append(f"{ids[k]!r} ({fixed.area / 1e6:.3g} km2)")
    warn(
        f"{what}: {len(bad)} invalid {kind} polygon(s) repaired with shapely.make_valid "
        f"(repair = true in {table}): {rows_preview(done, 5)}. Check their areas; fix the "
        "file to silence this.",
        stacklevel=3,
    )
    return out


def check_zone_overlaps(zones: gpd.GeoDataFrame, what: str, config_key: str) -> None:
    """Population zones must not overlap: each overlap counts its inhabitants (and the zone
    totals spread there) twice.

    An overlap of :data:`OVERLAP_ERROR` or more of the smaller zone (a zone given twice,
    under two ids, or nested levels in one layer) is an error naming the two zones; one of
    :data:`OVERLAP_WARN` or more, a warning naming the pairs; smaller ones (slivers between
    two digitisations of a border) pass.

    Raises
    ------
    trajectoire.InputError
        Two zones overlap over half of the smaller.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Zones overlap over 1 % to 50 % of the smaller.
    """
    from trajectoire._validate import rows_preview
    from trajectoire.errors import warn

    found = [p for p in zone_overlaps(zones) if p[2] >= OVERLAP_WARN]
    if not found:
        return
    ids = zones["zone_id"].astype(str).to_numpy()
    shown = [f"{ids[i]} and {ids[j]} ({100 * s:.0f} %)" for i, j, s in found]
    where = f"{what} ({config_key})"
    if found[0][2] >= OVERLAP_ERROR:
        i, j, s = found[0]
        raise InputError(
            f"{where}: zones {ids[i]!r} and {ids[j]!r} overlap over {100 * s:.0f} % of the "
            f"smaller (overlapping pairs: {rows_preview(shown)}); expected zones that do not "
            "overlap (communes, IRIS): the inhabitants of an overlap count twice. Remove the "
            "duplicate zone, or keep one level of a nested layer."
        )
    warn(
        f"{where}: {len(found)} pair(s) of zones overlap (share of the smaller zone: "
        f"{rows_preview(shown)}); their inhabitants, and the zone totals spread there, count "
        "twice in the overlaps. Fix the layer's geometries."
    )


TERRITORY_OVERLAP = 0.01
"""Share of the smaller of two territories that, covered by the other, is an error
(:func:`check_territory_overlaps`). Measured on the inputs at hand: the real
``territoires_aqah.gpkg`` has no overlap (CUD and CCHF only touch, along 59 km); the bundled
sample has one of 1.6e-6 m2 (5e-15 of CCHF, floating-point round-off). A sliver between two
digitisations of a shared border is about the border's length times their offset: 10 m
along the 59 km of CUD-CCHF is 0.6 km2, 0.2 % of CUD. 1 % (a 50 m offset along a whole
border) is above any such sliver, and far below a territory given twice or nested in
another."""
TERRITORY_SLIVER = 1e-6
"""Share of the smaller territory above which an overlap below :data:`TERRITORY_OVERLAP` is
warned about (round-off, such as the sample's 5e-15, is far below)."""


def check_territory_overlaps(
    geoms: Sequence[Any], ids: Sequence[str], what: str, config_key: str | None = None
) -> None:
    """Territories must not overlap: each inhabitant is counted in one territory.

    Uses :func:`zone_overlaps` (touching territories, with a shared border, are not
    overlapping).

    Parameters
    ----------
    geoms : sequence of shapely geometries
        The territories' valid polygons, in a projected CRS [m].
    ids : sequence of str
        Their ids.
    what : str
        The file, for messages.
    config_key : str, optional
        The configuration key of the file (default ``"[inputs] territories"``).

    Raises
    ------
    trajectoire.InputError
        Two territories overlap over :data:`TERRITORY_OVERLAP` (1 %) or more of the smaller:
        one line naming both ids, the overlap's area [km2] and share, the file and the key.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Overlaps from :data:`TERRITORY_SLIVER` to 1 % of the smaller (slivers of two
        digitisations of a border): :func:`territory_fractions` splits the cells there
        between the territories.
    """
    import geopandas as gpd

    geoms = list(geoms)
    found = [
        p
        for p in zone_overlaps(gpd.GeoDataFrame(geometry=geoms, crs=DEFAULT_CRS))
        if p[2] >= TERRITORY_SLIVER
    ]
    if not found:
        return

    def shown(i: int, j: int, share: float) -> str:
        area = shapely.area(shapely.intersection(geoms[i], geoms[j])) / 1e6
        smaller = ids[i] if shapely.area(geoms[i]) <= shapely.area(geoms[j]) else ids[j]
        return f"{ids[i]!r} and {ids[j]!r} ({area:.3g} km2, {100 * share:.3g} % of {smaller!r})"

    key = config_key or "[inputs] territories"
    i, j, share = found[0]
    more = f" (and {len(found) - 1} more pair(s))" if len(found) > 1 else ""
    if share >= TERRITORY_OVERLAP:
        raise InputError(
            f"{what} ({key}): territories {shown(i, j, share)} overlap{more}; expected "
            "territories that do not overlap (they may share a border): each inhabitant is "
            "counted in one territory. Fix the polygons (a territory given twice, or one "
            f"inside another) or the path given by {key}."
        )
    warn(
        f"{what} ({key}): territories {rows_preview([shown(*p) for p in found], 5)} overlap "
        f"(below {100 * TERRITORY_OVERLAP:g} % of the smaller: slivers along a shared border); "
        "the cells there are split between them. Fix the polygons to silence this.",
        stacklevel=4,
    )


def zone_layer_fraction(zones: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """Share of each cell's area covered by the union of `zones` ``(ny, nx)`` in [0, 1]."""
    union = shapely.union_all(to_crs(zones, grid.crs, what="exposure zones").values)
    return np.clip(area_fractions(union, grid), 0.0, 1.0)


def _crossed_cells(geom: Any, grid: Grid) -> np.ndarray:
    """Flat indices (row-major) of the cells the boundary of the polygon `geom` (in the
    grid's CRS) runs through, increasing: the cells neither wholly inside nor wholly
    outside it."""
    rows, cols = grid.window(shapely.bounds(geom).tolist())
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return np.zeros(0, dtype=np.int64)
    length = lines_to_grid([shapely.boundary(geom)], grid.subgrid(rows, cols))
    rr, cc = np.nonzero(length > 0)
    return ((rr + rows.start) * grid.nx + (cc + cols.start)).astype(np.int64)


def _row_values(row: sparse.csr_matrix, cells: np.ndarray) -> np.ndarray:
    """The entries of the one-row matrix `row` at the flat `cells` (0 where it has none)."""
    out = np.zeros(cells.size)
    _, at_row, at_cells = np.intersect1d(
        row.indices, cells, assume_unique=True, return_indices=True
    )
    out[at_cells] = row.data[at_row]
    return out


def zone_territory_fractions(
    zones: gpd.GeoDataFrame, territories: gpd.GeoDataFrame, grid: Grid
) -> sparse.csr_matrix:
    """Share of each territory's part of each cell covered by the union of `zones`.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        The zone layer (:func:`read_exposure_zones`), any CRS (reprojected to the grid's).
    territories : geopandas.GeoDataFrame
        As returned by :func:`load_territories` (any CRS).
    grid : Grid
        Target grid.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(territory, cell)`` shares in [0, 1] (dimensionless), cells flattened row-major, rows in the
        order of `territories`; only the cells of a territory that the zones reach hold an
        entry. It splits the ``(territory, cell)`` inhabitants of
        :class:`trajectoire.assess.exposure.ZoneExposure`.

    Notes
    -----
    Each territory's inhabitants of a cell live in its part of the cell, ``T ∩ c``, so the
    share inside the zones ``Z`` is measured against that part:

    .. math:: f_T(c) = \\frac{A(Z \\cap T \\cap c)}{A(T \\cap c)},

    with the areas exact (:func:`trajectoire.geo.rasterize.coverage_matrix`, as
    :func:`territory_fractions`) and population uniform within ``T ∩ c``. In a cell wholly
    inside ``T`` this is the cell's share covered by the zones, :func:`zone_layer_fraction`
    (the same value); it differs in the cells the territory's boundary runs through
    (:func:`_crossed_cells`), where the share of the whole cell counted the zones beyond the
    border and, against the territory's smaller part, too few of them: zones equal to the
    territories leave ``f_T = 1`` wherever a territory is. A zone beyond every territory
    splits nobody.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = Grid.from_bounds(0, 0, 200, 100, 100, crs="EPSG:3857")
    >>> t = gpd.GeoDataFrame({"territory": ["A"]}, geometry=[shapely.box(0, 0, 150, 100)],
    ...                      crs="EPSG:3857")
    >>> z = gpd.GeoDataFrame(geometry=[shapely.box(100, 0, 200, 100)], crs="EPSG:3857")
    >>> zone_territory_fractions(z, t, g).toarray()  # A holds half of the second cell
    array([[0., 1.]])
    """
    union = shapely.union_all(to_crs(zones, grid.crs, what="exposure zones").values)
    shapes = list(to_crs(territories, grid.crs, what="territories").values)
    covered = coverage_matrix([union], grid)  # the zones' share of each cell, one row
    part = coverage_matrix(shapes, grid)  # each territory's share (territory_fractions)
    # Z ∩ T: its polygonal part (a zone touching T along its border adds a line)
    inside = coverage_matrix([_polygonal(g) for g in shapely.intersection(union, shapes)], grid)
    indptr, indices, data = [0], [], []
    for k, shape in enumerate(shapes):
        t_row, z_row = part[k], inside[k]
        cells = np.union1d(np.intersect1d(covered.indices, t_row.indices), z_row.indices)
        t = _row_values(t_row, cells)
        zt = _row_values(z_row, cells)
        f = np.clip(_row_values(covered, cells), 0.0, 1.0)  # as zone_layer_fraction
        border = np.isin(cells, _crossed_cells(shape, grid))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(t > 0, np.clip(zt / t, 0.0, 1.0), 0.0)
        share = np.where(border, ratio, np.where(t > 0.5, f, 0.0))
        keep = share > 0
        indices.append(cells[keep].astype(np.int64))
        data.append(share[keep])
        indptr.append(indptr[-1] + int(keep.sum()))
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(shapes), grid.size),
    )
