"""Rasterisation: the exact share of each grid cell covered by polygons, lines and points.

Polygons are clipped against every cell by :func:`trajectoire._kernels.coverage.polygon_coverage`
(exact areas, not cell-centre tests); lines are cut into per-cell lengths by
:func:`trajectoire._kernels.lines.segment_cell_lengths`; points fall in the cell that holds
them. Every path conserves what it spreads.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse

from trajectoire._kernels.coverage import polygon_coverage
from trajectoire._kernels.lines import segment_cell_lengths, segment_cell_lengths_serial
from trajectoire._validate import rows_preview
from trajectoire.errors import InputError, TrajectoireWarning, warn
from trajectoire.geo.grid import Grid, as_crs, to_crs

__all__ = [
    "area_fractions",
    "coverage_matrix",
    "line_coverage_matrix",
    "lines_to_grid",
    "points_to_grid",
    "to_grid_geometries",
    "to_grid_geometry",
]


# ---------------------------------------------------------------------- coverage
#: Cell fractions below this are round-off and set to 0 [1]: of the coverage kernel (1e-15)
#: and of a reprojection (vertices move by ~1e-9 m: a sliver of 1e-11 of a 200 m cell).
#: Without it, a cell a polygon does not reach, or only reaches through a sliver, would be
#: covered in one CRS and not in another (a zone total put in it, a cell in the mask).
_ROUND_OFF = 1e-9


def _polygon_rings(geom: Any) -> list[np.ndarray]:
    """Rings of a (multi)polygon oriented for the kernel: exteriors CCW, holes CW."""
    rings: list[np.ndarray] = []
    parts = shapely.get_parts(geom)
    for part in parts:
        if part.is_empty:
            continue
        if part.geom_type != "Polygon":
            raise InputError(
                f"coverage needs polygons, got a {part.geom_type}; buffer lines/points first."
            )
        oriented = shapely.geometry.polygon.orient(part, 1.0)
        rings.append(np.asarray(oriented.exterior.coords)[:, :2])
        rings.extend(np.asarray(r.coords)[:, :2] for r in oriented.interiors)
    return rings


def _window_fractions(geom: Any, grid: Grid) -> tuple[slice, slice, np.ndarray]:
    if geom is None or shapely.is_empty(geom):
        return slice(0, 0), slice(0, 0), np.zeros((0, 0))
    rows, cols = grid.window(shapely.bounds(geom).tolist())
    nrow = rows.stop - rows.start
    ncol = cols.stop - cols.start
    if nrow <= 0 or ncol <= 0:
        return rows, cols, np.zeros((max(nrow, 0), max(ncol, 0)))
    x_left = grid.xmin + cols.start * grid.dx
    y_bottom = grid.ymax - rows.stop * grid.dy
    rings = _polygon_rings(geom)
    if not rings:
        return rows, cols, np.zeros((nrow, ncol))
    xy = np.concatenate(rings)
    starts = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int64)
    u = (xy[:, 0] - x_left) / grid.dx
    v = (xy[:, 1] - y_bottom) / grid.dy
    frac = polygon_coverage(u, v, starts, nrow, ncol)[::-1]  # kernel rows are bottom-up
    frac[frac < _ROUND_OFF] = 0.0
    return rows, cols, frac


def area_fractions(geometry: Any, grid: Grid, *, crs: Any = None) -> np.ndarray:
    """Exact share of each cell's area that lies inside a polygon.

    Parameters
    ----------
    geometry : shapely (Multi)Polygon, GeoSeries or GeoDataFrame
        The shape. A GeoSeries/GeoDataFrame is reprojected to the grid CRS and its shapes are
        unioned; a bare shapely geometry must already be in `crs` (default: the grid CRS).
    grid : Grid
        Target grid.
    crs : any, optional
        CRS of a bare shapely `geometry` when it differs from the grid's.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 fractions in [0, 1]. ``(fractions * grid.cell_area).sum()`` is the
        area of the part of the polygon inside the grid, to round-off.

    Notes
    -----
    Computed by Green's theorem on the polygon boundary (see
    :func:`trajectoire._kernels.coverage.polygon_coverage`), not by testing cell centres.
    Overlapping parts of a MultiPolygon are counted twice; pass valid geometries. Fractions
    below 1e-9 are round-off (of the kernel, or of a reprojection that moves vertices by
    ~1e-9 m) and are set to 0, so that the same polygon given in another CRS covers the same
    cells.

    Examples
    --------
    >>> import shapely
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_400, 7_000_400, 100)
    >>> box = shapely.box(700_050, 7_000_050, 700_200, 7_000_100)
    >>> float(area_fractions(box, g).sum() * g.cell_area)
    7500.0
    """
    geom = to_grid_geometry(geometry, grid, crs)
    rows, cols, frac = _window_fractions(geom, grid)
    out = np.zeros(grid.shape)
    out[rows, cols] = frac
    return out


def coverage_matrix(geometries: Any, grid: Grid, *, crs: Any = None) -> sparse.csr_matrix:
    """Sparse matrix of the area fractions of many polygons on a grid.

    Parameters
    ----------
    geometries : GeoSeries, GeoDataFrame or sequence of shapely polygons
        ``n`` shapes (reprojected to the grid CRS when they carry a CRS).
    grid : Grid
        Target grid.
    crs : any, optional
        CRS of bare shapely geometries when it differs from the grid's.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n, grid.size)``; row ``k`` holds the fraction of each cell (flattened row-major,
        ``row * nx + col``) covered by polygon ``k``; fractions below 1e-9 (round-off) are
        left out, as in :func:`area_fractions`.
    """
    geoms = to_grid_geometries(geometries, grid, crs)
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for geom in geoms:
        rows, cols, frac = _window_fractions(geom, grid)
        rr, cc = np.nonzero(frac > 0)
        flat = (rr + rows.start) * grid.nx + (cc + cols.start)
        indices.append(flat.astype(np.int64))
        data.append(frac[rr, cc])
        indptr.append(indptr[-1] + flat.size)
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(geoms), grid.size),
    )


def to_grid_geometries(geometries: Any, grid: Grid, crs: Any) -> list[Any]:
    import geopandas as gpd

    if isinstance(geometries, gpd.GeoDataFrame | gpd.GeoSeries):
        return list(to_crs(geometries, grid.crs).values)
    geoms = list(geometries) if isinstance(geometries, Iterable) else [geometries]
    if crs is not None and as_crs(crs) != grid.crs:
        return list(gpd.GeoSeries(geoms, crs=crs).to_crs(grid.crs).values)
    return geoms


def to_grid_geometry(geometry: Any, grid: Grid, crs: Any) -> Any:
    import geopandas as gpd

    if isinstance(geometry, gpd.GeoDataFrame | gpd.GeoSeries):
        return shapely.union_all(to_crs(geometry, grid.crs).values)
    if crs is not None and as_crs(crs) != grid.crs:
        return gpd.GeoSeries([geometry], crs=crs).to_crs(grid.crs).iloc[0]
    return geometry


# ---------------------------------------------------------------------- points and lines
def points_to_grid(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    grid: Grid,
    *,
    strict: bool = False,
    what: str = "points",
    labels: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """Sum point values into the cells that contain them.

    Parameters
    ----------
    x, y : array-like
        Point coordinates [grid CRS units], shape ``(n,)``.
    values : array-like
        ``(n,)`` or ``(n, k)`` amounts per point (e.g. [t yr-1]).
    grid : Grid
        Target grid.
    strict : bool, default False
        Raise instead of warning when points lie outside the grid.
    what : str
        The file or table the points come from, for messages.
    labels : sequence, optional
        Row labels (source ids) of the points, for messages.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` or ``(k, ny, nx)`` sums per cell.

    Raises
    ------
    trajectoire.InputError
        With ``strict=True``, if any point is outside the grid.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Names the points outside the grid and the amount they carry (left out).

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(0, 0, 200, 100, 100, crs="EPSG:3857")
    >>> points_to_grid([50, 150, 160], [50, 50, 20], [1.0, 2.0, 3.0], g)
    array([[1., 5.]])
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    vals = np.asarray(values, dtype=float)
    one = vals.ndim == 1
    v2 = vals.reshape(vals.shape[0], -1)
    if v2.shape[0] != xa.size or ya.size != xa.size:
        raise InputError(
            f"{what}: {xa.size} x, {ya.size} y and {v2.shape[0]} values; expected the same "
            "number of each."
        )
    row, col, inside = grid.cell_index(xa, ya)
    if not inside.all():
        bad = np.flatnonzero(~inside)
        names = [labels[int(i)] for i in bad] if labels is not None else bad.tolist()
        lost = float(np.nansum(v2[bad]))
        msg = (
            f"{what}: {bad.size} point(s) of {xa.size} lie outside the grid {grid} "
            f"(rows {rows_preview(names)}), carrying {lost:.6g} in total. "
        )
        if strict:
            raise InputError(
                msg + "Enlarge the grid (Grid.from_bounds / Grid.around) or drop those rows."
            )
        warn(
            msg + "They are left out of the grid; enlarge the grid to keep them.",
            TrajectoireWarning,
        )
    flat = row[inside] * grid.nx + col[inside]
    out = np.zeros((v2.shape[1], grid.size))
    for k in range(v2.shape[1]):
        out[k] = np.bincount(flat, weights=v2[inside, k], minlength=grid.size)
    out = out.reshape((v2.shape[1], *grid.shape))
    return out[0] if one else out


def _segments(geoms: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments ``(x0, y0, x1, y1)`` of (multi)linestrings and the geometry index of each."""
    geoms_arr = np.asarray(geoms, dtype=object)
    parts, part_of = shapely.get_parts(geoms_arr, return_index=True)
    types = shapely.get_type_id(parts)
    if np.any((types != 1) & (types != 2)):
        kinds = sorted({shapely.get_type_id(p) for p in parts} - {1, 2})
        raise InputError(
            f"lines: expected LineString/MultiLineString geometries, got geometry type ids "
            f"{kinds}; take .boundary of polygons or pass only lines."
        )
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    same = coord_part[1:] == coord_part[:-1]
    i0 = np.flatnonzero(same)
    seg = np.stack([coords[i0, 0], coords[i0, 1], coords[i0 + 1, 0], coords[i0 + 1, 1]], 1)
    return seg, part_of[coord_part[i0]], np.asarray(shapely.length(geoms_arr), dtype=float)


def lines_to_grid(
    lines: Any,
    grid: Grid,
    *,
    values: npt.ArrayLike | None = None,
    crs: Any = None,
    what: str = "lines",
) -> np.ndarray:
    """Spread values along lines over the cells they cross, by length.

    Parameters
    ----------
    lines : GeoSeries, GeoDataFrame or sequence of shapely (Multi)LineStrings
        ``n`` lines; reprojected to the grid CRS when they carry a CRS.
    grid : Grid
        Target grid.
    values : array-like, optional
        ``(n,)`` or ``(n, k)`` amount per unit length of each line [per CRS unit, e.g.
        t yr-1 m-1]. Default 1, which returns the line length in each cell.
    crs : any, optional
        CRS of bare shapely `lines` when it differs from the grid's.
    what : str
        Name of the input, for messages.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` or ``(k, ny, nx)``: ``sum_lines value * length inside the cell``.

    Notes
    -----
    Each segment is cut exactly where it crosses cell edges (kernel
    :func:`trajectoire._kernels.lines.segment_cell_lengths`), so the cell lengths of a line
    add up to its length inside the grid to round-off. Parts outside the grid are left out.

    Examples
    --------
    >>> import shapely
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(0, 0, 300, 100, 100, crs="EPSG:3857")
    >>> lines_to_grid([shapely.LineString([(50, 50), (250, 50)])], g)
    array([[ 50., 100.,  50.]])
    """

    geoms = to_grid_geometries(lines, grid, crs)
    n = len(geoms)
    if values is None:
        vals = np.ones((n, 1))
        one = True
    else:
        v = np.asarray(values, dtype=float)
        one = v.ndim == 1
        vals = v.reshape(v.shape[0], -1)
        if vals.shape[0] != n:
            raise InputError(f"{what}: {n} lines but {vals.shape[0]} rows of values.")
    out = np.zeros((vals.shape[1], grid.size))
    if n:
        line, cell, length = _line_cell_lengths(geoms, grid)
        for k in range(vals.shape[1]):
            out[k] = np.bincount(cell, weights=length * vals[line, k], minlength=grid.size)
    out = out.reshape((vals.shape[1], *grid.shape))
    return out[0] if one else out


def _line_cell_lengths(
    geoms: Sequence[Any], grid: Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(line, cell, length)``: the length of each line in each cell it crosses [CRS units],
    one entry per piece of segment (a line's cells may repeat), cells flattened row-major."""
    seg, seg_line, _ = _segments(geoms)
    kernel = segment_cell_lengths if len(seg) > 5000 else segment_cell_lengths_serial
    s_idx, cell, length = kernel(
        np.ascontiguousarray(seg[:, 0]),
        np.ascontiguousarray(seg[:, 1]),
        np.ascontiguousarray(seg[:, 2]),
        np.ascontiguousarray(seg[:, 3]),
        float(grid.xmin),
        float(grid.ymax),
        float(grid.dx),
        float(grid.dy),
        int(grid.nx),
        int(grid.ny),
    )
    return seg_line[s_idx], cell, length


def line_coverage_matrix(lines: Any, grid: Grid, *, crs: Any = None) -> sparse.csr_matrix:
    """Sparse matrix of the length of many lines in each grid cell.

    The per-line form of :func:`lines_to_grid` (whose result is the column sums of this
    matrix weighted by the values), as :func:`coverage_matrix` is for polygons.

    Parameters
    ----------
    lines, grid, crs
        The ``n`` lines, the target grid and the CRS of bare shapely lines, as for
        :func:`lines_to_grid`.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n, grid.size)``; row ``k`` holds the length of line ``k`` in each cell [grid CRS
        units, m], cells flattened row-major (``row * nx + col``). Parts outside the grid
        are left out.

    Notes
    -----
    Segments are cut exactly at the cell edges (kernel
    :func:`trajectoire._kernels.lines.segment_cell_lengths`), so each row sums to the length
    of its line inside the grid, to round-off.

    Examples
    --------
    >>> import shapely
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(0, 0, 300, 100, 100, crs="EPSG:3857")
    >>> line_coverage_matrix([shapely.LineString([(50, 50), (250, 50)])], g).toarray()
    array([[ 50., 100.,  50.]])
    """
    geoms = to_grid_geometries(lines, grid, crs)
    if not geoms:
        return sparse.csr_matrix((0, grid.size))
    line, cell, length = _line_cell_lengths(geoms, grid)
    return sparse.csr_matrix((length, (line, cell)), shape=(len(geoms), grid.size))
