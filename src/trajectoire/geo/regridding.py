"""Conservative (area-weighted) regridding, lines split by length per cell, points to cells.

The weights of a remap are computed once into a :class:`Regridder` plan (the shape of
xESMF's ``Regridder``) and applied to as many variables, sectors or years as needed.

Two exact paths:

* **same CRS** (``method="separable"``): the overlap of two regular grids is the outer product
  of the 1-D overlaps of their rows and of their columns, so the weights are two short 1-D
  tables and no polygon is ever built (see :mod:`trajectoire._kernels.regrid`);
* **across CRS** (``method="polygon"``): each source cell becomes a polygon in the target CRS
  (edges densified before reprojection) and its exact area in every target cell comes from
  the Green's-theorem coverage kernel of :func:`trajectoire.coverage_matrix`.

See ``docs/regridding.md`` for the equations and references.
"""

from __future__ import annotations

import functools
import logging
import math
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyproj
import xarray as xr
from scipy import sparse

from trajectoire._kernels.coverage import polygon_coverage
from trajectoire._kernels.regrid import apply_csr, apply_separable, overlap_1d
from trajectoire._validate import is_real_number, require_flag
from trajectoire.errors import GridError, InputError, warn
from trajectoire.geo.grid import (
    Grid,
    _check_bounds_in_crs,
    _regular_step,
    crs_of,
    north_up,
)
from trajectoire.units import unit_is_intensive

__all__ = ["SMALL_PROBLEM", "Regridder", "grid_of", "grid_values", "regrid"]

Method = Literal["auto", "separable", "polygon"]

#: Below this many weight applications (non-zeros x fields) scipy's serial sparse product is
#: used instead of the parallel numba kernels, whose thread start-up dominates tiny problems.
SMALL_PROBLEM = 200_000

log = logging.getLogger(__name__)

#: shifts [degree] that bring longitudes of one convention (0..360, -180..180) into the
#: other: a geographic source in 0..360 (ERA5, CAMS) covers a target west of Greenwich
_TURNS = (360.0, -360.0)


@functools.lru_cache(maxsize=64)
def _transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


_LONLAT_NAMES = (("lon", "lat"), ("longitude", "latitude"))


# ---------------------------------------------------------------------- source grids
def _prepare(obj: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset:
    """Rename lon/lat dims to x/y (CRS EPSG:4326 when none is given) and orient north-up."""
    if "x" not in obj.dims or "y" not in obj.dims:
        for xn, yn in _LONLAT_NAMES:
            if xn in obj.dims and yn in obj.dims:
                obj = obj.rename({xn: "x", yn: "y"})
                if crs_of(obj) is None:
                    obj = obj.copy()
                    obj.attrs["crs"] = "EPSG:4326"
                break
    if "x" not in obj.dims or "y" not in obj.dims:
        raise GridError(
            f"regrid: source has dims {tuple(obj.dims)}; expected cell-centre dims 'y' and 'x' "
            "(or 'lat' and 'lon'). Rename them with .rename({'row': 'y', 'col': 'x'})."
        )
    return north_up(obj)


def grid_of(obj: xr.DataArray | xr.Dataset, like: Grid | None = None) -> Grid:
    """The regular :class:`~trajectoire.Grid` of a gridded DataArray or Dataset.

    Accepts ``x``/``y`` (or ``lon``/``lat``) cell-centre coordinates in any order
    (increasing or decreasing); the CRS comes from ``attrs["crs"]`` or a ``spatial_ref``
    coordinate (``EPSG:4326`` is used for ``lon``/``lat`` dims without one).

    Along a dim one cell long, whose coordinate cannot tell the cell size, the size is the
    coordinate's attribute ``resolution`` (:meth:`Grid.to_dataarray` writes it), else the
    ``GeoTransform`` of the CRS variable (rioxarray's ``spatial_ref``, the ``crs`` of
    trajectoire's NetCDF outputs), else that of `like` (the grid a plan was built for).

    Raises
    ------
    trajectoire.GridError
        Missing dims, irregular coordinates or no CRS; a dim one cell long whose cell size
        is given nowhere (one line saying how to give it).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.zeros((2, 3)), dims=("lat", "lon"),
    ...                   coords={"lat": [50.025, 50.075], "lon": [2.05, 2.15, 2.25]})
    >>> grid_of(da)
    Grid(3 x 2 cells of 0.1 x 0.05, bounds=(2.0, 50.0, 2.3, 50.1), crs=EPSG:4326)
    """
    prepared = _prepare(obj)
    if crs_of(prepared) is None:
        gm = prepared.attrs.get("grid_mapping") if isinstance(prepared, xr.DataArray) else None
        if gm:
            name = prepared.name if prepared.name is not None else "variable"
            raise GridError(
                f"regrid: the source has grid_mapping={gm!r}, but no {gm!r} variable came "
                f"with it (ds[{name!r}] leaves the dataset's other variables behind) and no "
                f"attrs['crs']. Pass ds[[{name!r}]] (a Dataset keeps its CRS), or "
                f"ds[{name!r}].assign_coords({gm}=ds[{gm!r}]), or set attrs['crs']."
            )
        raise GridError(
            "regrid: the source has no CRS. Set attrs['crs'] = 'EPSG:2154' (or the CRS its "
            "x/y are really in), or write one with rioxarray (.rio.write_crs); a CRS is "
            "never assumed."
        )
    sizes = [prepared.sizes[d] for d in ("x", "y")]
    if min(sizes) >= 2 or min(sizes) == 0 or not {"x", "y"} <= set(prepared.coords):
        return Grid.from_xarray(prepared)
    return _thin_grid(prepared, like)


def grid_values(obj: xr.DataArray) -> np.ndarray:
    """The values of a gridded DataArray in the order of the cells of :func:`grid_of`.

    Parameters
    ----------
    obj : xarray.DataArray
        Values on ``x``/``y`` (or ``lon``/``lat``) cell centres, in any order and either
        direction.

    Returns
    -------
    numpy.ndarray
        ``(..., ny, nx)`` float64, rows north-up and columns west to east (the other dims
        first, in their order): the array :meth:`Regridder.apply_array` expects for
        ``Regridder(obj, ...)``.

    Raises
    ------
    trajectoire.GridError
        No ``y``/``x`` (or ``lat``/``lon``) dims.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray([[1.0, 2.0], [3.0, 4.0]], dims=("x", "y"),
    ...                   coords={"x": [0.5, 1.5], "y": [0.5, 1.5]})
    >>> grid_values(da).tolist()  # dims (x, y), y upwards: turned to (y, x), north first
    [[2.0, 4.0], [1.0, 3.0]]
    """
    prepared = _prepare(obj)
    return np.asarray(prepared.transpose(..., "y", "x").values, dtype=np.float64)


def _given_cell_size(obj: xr.DataArray | xr.Dataset, axis: str) -> float | None:
    """The cell size [CRS units] along `axis` that `obj` states: its coordinate's attribute
    ``resolution``, else the ``GeoTransform`` of its CRS variable; None if neither does."""
    value: Any = obj[axis].attrs.get("resolution")
    if is_real_number(value) and math.isfinite(value) and value > 0:
        return float(value)
    names = ("spatial_ref", "crs", obj.attrs.get("grid_mapping"))
    for name in names:
        held = obj.variables if isinstance(obj, xr.Dataset) else obj.coords
        if isinstance(name, str) and name in held:
            try:
                gt = [float(v) for v in str(obj[name].attrs.get("GeoTransform", "")).split()]
            except ValueError:
                continue
            if len(gt) == 6 and gt[2] == gt[4] == 0.0:
                size = abs(gt[1] if axis == "x" else gt[5])
                if math.isfinite(size) and size > 0:
                    return size
    return None


def _thin_grid(prepared: xr.DataArray | xr.Dataset, like: Grid | None) -> Grid:
    """The grid of a (north-up) source one cell thick along x or y (:func:`grid_of`)."""
    steps: dict[str, float] = {}
    missing: list[str] = []
    for axis in ("x", "y"):
        values = np.asarray(prepared[axis].values, dtype=float)
        if values.size >= 2:
            steps[axis] = abs(_regular_step(values, axis))
            continue
        size = _given_cell_size(prepared, axis)
        if size is None and like is not None:
            size = like.dx if axis == "x" else like.dy
        if size is None:
            missing.append(axis)
        else:
            steps[axis] = size
    if missing:
        held = " and ".join(f"{a}={prepared[a].values.tolist()}" for a in missing)
        give = " and ".join(f"source[{a!r}].attrs['resolution'] = <cell size>" for a in missing)
        raise GridError(
            f"regrid: the source is one cell thick ({held}), so its cell size cannot be read "
            f"from its coordinates; give it in CRS units: {give} (Grid.to_dataarray writes "
            "it), or build the plan from the source's grid: Regridder(Grid.from_bounds(xmin, "
            "ymin, xmax, ymax, resolution, crs), target)(source)."
        )
    crs = crs_of(prepared)
    assert crs is not None  # grid_of checked it
    x = np.asarray(prepared["x"].values, dtype=float)
    y = np.asarray(prepared["y"].values, dtype=float)
    dx, dy = steps["x"], steps["y"]
    return Grid(float(x.min() - dx / 2), float(y.min() - dy / 2), dx, dy, x.size, y.size, crs)


def _check_source_coords(grid: Grid, assumed: bool) -> None:
    """Raise when the source's x/y cannot be coordinates of its CRS (degrees labelled
    Lambert-93, metres under ``lon``/``lat`` dims), which would regrid to nothing.

    Uses the check of :meth:`Grid.from_bounds` on the source's outer cell edges; `assumed`
    says that the CRS is EPSG:4326 only because the dims are named ``lon``/``lat``.
    """
    x0, y0, x1, y1 = grid.bounds
    said = (
        "no CRS given, EPSG:4326 assumed for lon/lat dims"
        if assumed
        else f"CRS {grid.crs.to_string()}"
    )
    what = (
        f"regrid: the source's x/y cell edges (x {x0:.10g} to {x1:.10g}, y {y0:.10g} to "
        f"{y1:.10g}; {said})"
    )
    fix = (
        "Set the source's attrs['crs'] to the CRS its x/y are really in (e.g. 'EPSG:4326' "
        "for degrees, 'EPSG:2154' for Lambert-93 metres)."
    )
    _check_bounds_in_crs(grid.bounds, grid.crs, grid.dx, what=what, fix=fix)


def _bounds_text(grid: Grid) -> str:
    return f"({', '.join(f'{b:.10g}' for b in grid.bounds)}) in {grid.crs.to_string()}"


def _edges_ascending_x(grid: Grid) -> np.ndarray:
    return grid.xmin + np.arange(grid.nx + 1) * grid.dx


def _edges_ascending_y(grid: Grid) -> np.ndarray:
    return grid.ymin + np.arange(grid.ny + 1) * grid.dy


def _to_csr_by_dst(
    src: np.ndarray, dst: np.ndarray, w: np.ndarray, n_dst: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.lexsort((src, dst))
    counts = np.bincount(dst, minlength=n_dst)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, src[order].astype(np.int64), w[order].astype(np.float64)


# ---------------------------------------------------------------------- plan
class Regridder:
    """A conservative regridding plan from a regular source grid onto a :class:`Grid`.

    Build it once (the weights are computed here), then call it on as many DataArrays or
    Datasets on the source grid as needed.

    Parameters
    ----------
    source : Grid, xarray.DataArray or xarray.Dataset
        Source grid, or an object whose ``x``/``y`` (or ``lon``/``lat``) are cell centres of a
        regular grid in the CRS of ``attrs["crs"]`` (or a ``spatial_ref`` coordinate).
    target : Grid
        Target grid.
    extensive : bool, default True
        True: values are amounts per cell (emissions [t yr-1]) and sums are conserved.
        False: values are intensive (densities, concentrations, fractions) and each target
        cell receives the area-weighted mean of the source cells that cover it (NaN where
        none does).
    method : {"auto", "separable", "polygon"}, default "auto"
        ``"separable"`` (exact, same CRS only), ``"polygon"`` (exact polygon coverage after
        reprojection, any CRS). ``"auto"`` picks the separable path when both grids share
        the CRS.
    densify : int, default 8
        Points per cell edge when source cells are reprojected (polygon path).

    Attributes
    ----------
    source, target : Grid
        The two grids.
    source_coverage : numpy.ndarray
        ``(ny, nx)`` share of each source cell's area that falls on the target grid
        (1 inside, 0 outside); with ``extensive=True``, ``(field * source_coverage).sum()``
        is the total the target receives.

    Raises
    ------
    trajectoire.GridError
        `source` or `target` of the wrong type; a source without ``x``/``y`` (or
        ``lon``/``lat``) dims, irregular or without a CRS; a source whose coordinates
        cannot be in its CRS (degrees with ``attrs["crs"] = "EPSG:2154"``, metres under
        ``lon``/``lat`` dims without a CRS); ``method="separable"`` across CRSs.
    trajectoire.InputError
        Unknown `method`, `extensive` not a bool, `densify` < 1.

    Notes
    -----
    With ``A_st`` the area of the overlap of source cell ``s`` and target cell ``t``, ``A_s``
    the area of ``s``, the extensive remap is ``E_t = sum_s (A_st / A_s) E_s`` and the
    intensive one ``c_t = sum_s A_st c_s / sum_s A_st``. See ``docs/regridding.md``.

    A target that overlaps only part of the source (a crop) is normal: the source beyond it
    is not transferred (the share that is goes to the ``trajectoire.geo.regridding`` logger
    at DEBUG level). A target that does not overlap the source at all is an error when the
    plan is applied to values that are not all 0 (:meth:`apply_array`).

    References
    ----------
    Jones, P. W. (1999), First- and second-order conservative remapping schemes for grids in
    spherical coordinates, Mon. Weather Rev. 127, 2204-2210,
    doi:10.1175/1520-0493(1999)127<2204:FASOCR>2.0.CO;2.

    Examples
    --------
    >>> import numpy as np
    >>> from trajectoire import Grid
    >>> coarse = Grid.from_bounds(700_000, 7_000_000, 703_000, 7_002_000, 1000)
    >>> fine = Grid.from_bounds(700_000, 7_000_000, 703_000, 7_002_000, 100)
    >>> da = coarse.to_dataarray(np.arange(6.0).reshape(2, 3), attrs={"units": "t yr-1"})
    >>> plan = Regridder(coarse, fine)
    >>> plan
    Regridder(separable, extensive, 3 x 2 -> 30 x 20 cells, EPSG:2154 -> EPSG:2154)
    >>> out = plan(da)
    >>> round(float(out.sum()), 9), out.shape
    (15.0, (20, 30))
    """

    _w_cache: sparse.csr_matrix | None = None

    def __init__(
        self,
        source: Grid | xr.DataArray | xr.Dataset,
        target: Grid,
        *,
        extensive: bool = True,
        method: Method = "auto",
        densify: int = 8,
    ) -> None:
        if not isinstance(source, Grid | xr.DataArray | xr.Dataset):
            raise GridError(
                f"Regridder: source must be an xarray DataArray or Dataset on a regular y, x "
                f"grid (with attrs crs and units) or a trajectoire.Grid, got "
                f"{type(source).__name__}; wrap an array with xarray.DataArray(values, "
                "dims=('y', 'x'), coords=grid.coords(), attrs={'crs': ..., 'units': ...})."
            )
        if isinstance(source, Grid):
            src = source
        else:
            src = grid_of(source)
            _check_source_coords(src, assumed=crs_of(source) is None)
        if not isinstance(target, Grid):
            raise GridError(
                f"Regridder: target must be a trajectoire.Grid, got {type(target).__name__}; "
                "build one with Grid.from_bounds(...) or Grid.from_xarray(obj)."
            )
        if method not in ("auto", "separable", "polygon"):
            raise InputError(
                f"Regridder: method={method!r}; expected 'auto', 'separable' or 'polygon'."
            )
        same_crs = src.crs == target.crs
        if method == "auto":
            method = "separable" if same_crs else "polygon"
        if method == "separable" and not same_crs:
            raise GridError(
                "Regridder: method='separable' needs both grids in the same CRS "
                f"(got {src.crs.name!r} and {target.crs.name!r}); use method='polygon'."
            )
        if densify < 1:
            raise InputError(f"Regridder: densify must be >= 1, got {densify}.")
        self.source = src
        self.target = target
        self.extensive = _require_bool(extensive, "Regridder")
        self.method: str = method
        self.densify = int(densify)
        self.source_coverage: np.ndarray = np.zeros(src.shape)
        if method == "separable":
            self._build_separable()
        else:
            self._build_polygon()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "Regridder: %.4g%% of the source grid's area %s falls on the target %s",
                100.0 * float(self.source_coverage.mean()),
                _bounds_text(src),
                _bounds_text(target),
            )

    # ------------------------------------------------------------------ weights
    def _build_separable(self) -> None:
        s, t = self.source, self.target
        x_src, x_dst = _edges_ascending_x(s), _edges_ascending_x(t)
        xs, xd, xl = overlap_1d(x_src, x_dst)
        if s.crs.is_geographic:  # longitudes 0..360 against -180..180, or the other way
            parts = [(xs, xd, xl), *(overlap_1d(x_src + turn, x_dst) for turn in _TURNS)]
            xs, xd, xl = (np.concatenate(p) for p in zip(*parts, strict=True))
        ys, yd, yl = overlap_1d(_edges_ascending_y(s), _edges_ascending_y(t))
        # rows counted from the top (north-up)
        ys = s.ny - 1 - ys
        yd = t.ny - 1 - yd
        self._sep = {"xs": xs, "xd": xd, "xl": xl, "ys": ys, "yd": yd, "yl": yl}
        self._finish_separable()

    def _finish_separable(self) -> None:
        s, t = self.source, self.target
        p = self._sep
        xs, xd, xl, ys, yd, yl = (p[k] for k in ("xs", "xd", "xl", "ys", "yd", "yl"))
        if self.extensive:
            xw = xl / s.dx
            yw = yl / s.dy
        else:
            xcov = np.bincount(xd, weights=xl, minlength=t.nx)
            ycov = np.bincount(yd, weights=yl, minlength=t.ny)
            xw = xl / xcov[xd]
            yw = yl / ycov[yd]
        self._x_csr = _to_csr_by_dst(xs, xd, xw, t.nx)
        self._y_csr = _to_csr_by_dst(ys, yd, yw, t.ny)
        xfrac = np.bincount(xs, weights=xl / s.dx, minlength=s.nx)
        yfrac = np.bincount(ys, weights=yl / s.dy, minlength=s.ny)
        self.source_coverage = np.outer(yfrac, xfrac)
        self._target_covered = np.outer(
            np.bincount(yd, minlength=t.ny) > 0, np.bincount(xd, minlength=t.nx) > 0
        )

    def _build_polygon(self) -> None:
        s, t = self.source, self.target
        tr_back = _transformer(t.crs, s.crs)
        bx0, by0, bx1, by1 = tr_back.transform_bounds(*t.bounds, densify_pts=51)
        pad_x, pad_y = 2 * s.dx, 2 * s.dy
        if not all(math.isfinite(v) for v in (bx0, by0, bx1, by1)):
            bx0, by0, bx1, by1 = s.bounds
        rows, cols = s.window((bx0 - pad_x, by0 - pad_y, bx1 + pad_x, by1 + pad_y))
        if s.crs.is_geographic:  # longitudes 0..360 against -180..180: the columns of each
            turned = [s.window((bx0 - pad_x + d, by0 - pad_y, bx1 + pad_x + d, by1 + pad_y))[1]
                      for d in _TURNS]  # fmt: skip
            spans = [c for c in (cols, *turned) if c.stop > c.start]
            if spans:
                cols = slice(min(c.start for c in spans), max(c.stop for c in spans))
        self._rows, self._cols = rows, cols
        win = s.subgrid(rows, cols) if rows.stop > rows.start and cols.stop > cols.start else None
        n_src = s.size
        if win is None:
            self.source_coverage = np.zeros(s.shape)
            self._finish_polygon()
            return
        # corners of every window cell, edges densified, counter-clockwise in the source CRS
        d = self.densify
        f = np.arange(d) / d
        ex = np.concatenate([f, np.ones(d), 1.0 - f, np.zeros(d), [0.0]])
        ey = np.concatenate([np.zeros(d), f, np.ones(d), 1.0 - f, [0.0]])
        col_i, row_i = np.meshgrid(np.arange(win.nx), np.arange(win.ny))
        x_left = win.xmin + col_i.ravel() * win.dx
        y_bottom = win.ymax - (row_i.ravel() + 1) * win.dy
        px = x_left[:, None] + ex[None, :] * win.dx
        py = y_bottom[:, None] + ey[None, :] * win.dy
        tr = _transformer(s.crs, t.crs)
        qx, qy = tr.transform(px.ravel(), py.ravel())
        qx = np.asarray(qx).reshape(px.shape)
        qy = np.asarray(qy).reshape(py.shape)
        # shoelace about each polygon's first vertex (no cancellation with large coordinates)
        rx = qx - qx[:, :1]
        ry = qy - qy[:, :1]
        area = 0.5 * np.sum(rx[:, :-1] * ry[:, 1:] - rx[:, 1:] * ry[:, :-1], axis=1)
        indptr = [0]
        idx_parts: list[np.ndarray] = []
        val_parts: list[np.ndarray] = []
        flat_src = (row_i.ravel() + rows.start) * s.nx + (col_i.ravel() + cols.start)
        for k in range(px.shape[0]):
            a = area[k]
            if not (math.isfinite(a) and a != 0.0):
                indptr.append(indptr[-1])
                continue
            ux, uy = (qx[k], qy[k]) if a > 0 else (qx[k][::-1], qy[k][::-1])
            r_, c_ = t.window((ux.min(), uy.min(), ux.max(), uy.max()))
            nr, nc = r_.stop - r_.start, c_.stop - c_.start
            if nr <= 0 or nc <= 0:
                indptr.append(indptr[-1])
                continue
            x_l = t.xmin + c_.start * t.dx
            y_b = t.ymax - r_.stop * t.dy
            frac = polygon_coverage(
                (ux - x_l) / t.dx,
                (uy - y_b) / t.dy,
                np.array([0, ux.size], dtype=np.int64),
                nr,
                nc,
            )[::-1]
            rr, cc = np.nonzero(frac > 0)
            idx_parts.append((rr + r_.start) * t.nx + (cc + c_.start))
            val_parts.append(frac[rr, cc] * t.cell_area)  # overlap area A_st
            indptr.append(indptr[-1] + rr.size)
        # (n_window_src, n_target) overlap areas, then map window rows to full source index
        m = sparse.csr_matrix(
            (
                np.concatenate(val_parts) if val_parts else np.zeros(0),
                np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(px.shape[0], t.size),
        ).tocoo()
        src_idx = flat_src[m.row]
        abs_area = np.abs(area)
        self._overlap = (src_idx, m.col.astype(np.int64), m.data, abs_area[m.row])
        cov = np.bincount(src_idx, weights=m.data / abs_area[m.row], minlength=n_src)
        self.source_coverage = cov.reshape(s.shape)
        self._finish_polygon()

    def _finish_polygon(self) -> None:
        t = self.target
        if not hasattr(self, "_overlap"):
            self._overlap = (
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
            )
        src, dst, a_st, a_s = self._overlap
        if self.extensive:
            w = a_st / a_s
        else:
            tot = np.bincount(dst, weights=a_st, minlength=t.size)
            w = a_st / tot[dst]
        self._csr = _to_csr_by_dst(src, dst, w, t.size)
        self._target_covered = (np.bincount(dst, minlength=t.size) > 0).reshape(t.shape)

    # ------------------------------------------------------------------ apply
    @property
    def weights(self) -> sparse.csr_matrix:
        """The full weight matrix ``(target.size, source.size)`` (row-major flat cells)."""
        s, t = self.source, self.target
        if self.method == "separable":
            yptr, ysrc, yw = self._y_csr
            xptr, xsrc, xw = self._x_csr
            wy = sparse.csr_matrix((yw, ysrc, yptr), shape=(t.ny, s.ny))
            wx = sparse.csr_matrix((xw, xsrc, xptr), shape=(t.nx, s.nx))
            return sparse.kron(wy, wx, format="csr")
        ptr, idx, w = self._csr
        return sparse.csr_matrix((w, idx, ptr), shape=(t.size, s.size))

    @property
    def overlap_areas(self) -> sparse.csr_matrix:
        """The overlap areas ``A_st`` as a matrix ``(target.size, source.size)``.

        Entry ``(t, s)`` is the area of source cell ``s`` inside target cell ``t`` [target
        CRS units squared, m2 on a projected grid], on either path (row-major flat cells);
        :meth:`covered_area` is this matrix applied to the values.
        """
        s, t = self.source, self.target
        if self.method == "separable":
            if not self.extensive:
                return Regridder(s, t).overlap_areas
            return sparse.csr_matrix(self.weights * s.cell_area)
        src, dst, a_st, _ = self._overlap
        return sparse.csr_matrix((a_st, (dst, src)), shape=(t.size, s.size))

    def covered_area(self, values: npt.ArrayLike) -> np.ndarray:
        """Sum over source cells of ``values * (area of the source cell in each target cell)``.

        With a 0/1 indicator (a land-use class, a mask) this is the exact area of the
        indicated source cells inside each target cell [target CRS units squared], on
        either path.

        Parameters
        ----------
        values : array-like
            ``(..., ny_src, nx_src)`` weights (north-up rows).

        Returns
        -------
        numpy.ndarray
            ``(..., ny_target, nx_target)``.
        """
        arr = np.asarray(values, dtype=np.float64)
        if self.method == "separable":
            if not self.extensive:
                return Regridder(self.source, self.target).covered_area(arr)
            return self._apply_values(arr * self.source.cell_area)
        s, t = self.source, self.target
        if arr.shape[-2:] != s.shape:
            raise InputError(
                f"Regridder: array of shape {arr.shape} does not end with the source grid "
                f"shape {s.shape}."
            )
        src, dst, a_st, _ = self._overlap
        flat = arr.reshape(-1, s.size)
        out = np.stack([np.bincount(dst, weights=a_st * f[src], minlength=t.size) for f in flat])
        return out.reshape((*arr.shape[:-2], *t.shape))

    def _small_weights(self) -> sparse.csr_matrix:
        if self._w_cache is None:
            self._w_cache = self.weights
        return self._w_cache

    def apply_array(self, values: npt.ArrayLike) -> np.ndarray:
        """Regrid a numpy array ``(..., ny_src, nx_src)`` (north-up rows) to the target.

        Returns
        -------
        numpy.ndarray
            ``(..., ny_target, nx_target)`` float64.

        Raises
        ------
        trajectoire.InputError
            `values` does not end with the source grid's shape.
        trajectoire.GridError
            The target does not overlap the source at all while `values` are not all 0
            (nothing would be transferred): the message gives both grids' bounds and CRS.
        """
        arr = np.asarray(values, dtype=np.float64)
        if not self._target_covered.any() and arr.shape[-2:] == self.source.shape:
            if np.any(arr != 0):
                raise GridError(self._no_overlap_message())
        return self._apply_values(arr)

    def _no_overlap_message(self) -> str:
        s, t = self.source, self.target
        seen = ""
        if s.crs != t.crs:
            b = _transformer(s.crs, t.crs).transform_bounds(*s.bounds, densify_pts=21)
            if all(math.isfinite(v) for v in b):
                seen = f", that is ({', '.join(f'{v:.10g}' for v in b)}) in the target CRS,"
        return (
            f"Regridder: the source grid {_bounds_text(s)}{seen} and the target grid "
            f"{_bounds_text(t)} do not overlap: nothing would be transferred. Check the "
            "target's bounds and crs, and the source's CRS (attrs['crs']) and x/y coordinates."
        )

    def _apply_values(self, values: npt.ArrayLike) -> np.ndarray:
        """:meth:`apply_array` without the overlap check (for :meth:`covered_area`)."""
        arr = np.asarray(values, dtype=np.float64)
        s, t = self.source, self.target
        if arr.shape[-2:] != s.shape:
            raise InputError(
                f"Regridder: array of shape {arr.shape} does not end with the source grid "
                f"shape {s.shape}."
            )
        lead = arr.shape[:-2]
        flat = np.ascontiguousarray(arr.reshape((-1, *s.shape)))
        nan = np.isnan(flat) if not self.extensive else None
        if nan is not None and nan.any():
            valid = (~nan).astype(np.float64)
            num = self._apply(np.where(nan, 0.0, flat))
            den = self._apply(np.ascontiguousarray(valid))
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        else:
            out = self._apply(flat)
            if self.extensive:
                self._say_nan(flat, out)
        if not self.extensive:
            out[:, ~self._target_covered] = np.nan
        return out.reshape((*lead, *t.shape))

    def _say_nan(self, flat: np.ndarray, out: np.ndarray) -> None:
        """Warn when NaN cells of an extensive field make target cells NaN: the finite
        total of the result is then less than the source's, and would be summed silently."""
        bad = ~np.isfinite(flat)
        if not bad.any():
            return
        lost = np.isnan(out) & ~np.isnan(self._apply(np.where(bad, 0.0, flat)))
        warn(
            f"Regridder: {int(bad.sum())} source cell(s) of an extensive field are NaN or "
            f"infinite; the {int(lost.sum())} target cell(s) they overlap are NaN, with the "
            "finite amounts of the source cells that share them. Fill the source (0 where "
            "nothing is emitted) to conserve the total, or regrid with extensive=False for "
            "a density."
        )

    def _apply(self, flat: np.ndarray) -> np.ndarray:
        s, t = self.source, self.target
        nf = flat.shape[0]
        if self.method == "separable":
            if self._y_csr[1].size * self._x_csr[1].size * nf < SMALL_PROBLEM:
                # same two passes and summation order as the kernel, with scipy
                yptr, ysrc, yw = self._y_csr
                xptr, xsrc, xw = self._x_csr
                wy = sparse.csr_matrix((yw, ysrc, yptr), shape=(t.ny, s.ny))
                wx = sparse.csr_matrix((xw, xsrc, xptr), shape=(t.nx, s.nx))
                tmp = np.asarray(wx @ flat.reshape(nf * s.ny, s.nx).T).T  # (nf*ny_s, nx_t)
                tmp = tmp.reshape(nf, s.ny, t.nx).transpose(1, 0, 2).reshape(s.ny, nf * t.nx)
                res = np.asarray(wy @ tmp).reshape(t.ny, nf, t.nx)
                return np.ascontiguousarray(res.transpose(1, 0, 2))
        elif self._csr[1].size * nf < SMALL_PROBLEM:
            w = self._small_weights()
            return np.asarray(w @ flat.reshape(nf, s.size).T).T.reshape(nf, t.ny, t.nx)
        if self.method == "separable":
            out = np.empty((nf, t.ny, t.nx))
            yptr, ysrc, yw = self._y_csr
            xptr, xsrc, xw = self._x_csr
            return apply_separable(flat, yptr, ysrc, yw, xptr, xsrc, xw, out)
        ptr, idx, w = self._csr
        out2 = np.empty((nf, t.size))
        apply_csr(flat.reshape(nf, s.size), ptr, idx, w, out2)
        return out2.reshape(nf, t.ny, t.nx)

    def __call__(self, obj: xr.DataArray | xr.Dataset) -> Any:
        """Regrid a DataArray or every ``(y, x)`` variable of a Dataset onto the target.

        Variables without both ``y`` and ``x`` dims are passed through unchanged, except the
        point-source positions ``source_x``/``source_y`` of an inventory, which are
        reprojected when the CRS changes. The result has the target's ``y``/``x``
        coordinates and ``attrs["crs"]``; other attributes and coordinates are kept.
        """
        prepared = _prepare(obj)
        have = grid_of(prepared, like=self.source)
        _check_source_coords(have, assumed=crs_of(obj) is None)
        if not have.same_as(self.source):
            raise GridError(
                f"Regridder: the data are on {have}, but this plan was built for "
                f"{self.source}. Build a new Regridder for that grid."
            )
        if isinstance(prepared, xr.DataArray):
            return self._regrid_da(prepared)
        out = xr.Dataset(attrs=dict(prepared.attrs))
        for name, var in prepared.data_vars.items():
            if "x" in var.dims and "y" in var.dims:
                out[name] = self._regrid_da(var)
            else:
                out[name] = var.drop_vars(
                    [c for c in var.coords if {"x", "y"} & set(var[c].dims)], errors="ignore"
                )
        if "source_x" in out and "source_y" in out and self.source.crs != self.target.crs:
            # point sources of an inventory follow the grid into the new CRS
            tx, ty = _transformer(self.source.crs, self.target.crs).transform(
                out["source_x"].values, out["source_y"].values
            )
            out["source_x"] = out["source_x"].copy(data=np.asarray(tx, dtype=float))
            out["source_y"] = out["source_y"].copy(data=np.asarray(ty, dtype=float))
        out.attrs["crs"] = self.target.crs.to_string()
        return out

    def _regrid_da(self, da: xr.DataArray) -> xr.DataArray:
        t = self.target
        if da.chunks is not None and (len(da.chunksizes["y"]) > 1 or len(da.chunksizes["x"]) > 1):
            # y and x are core dims of the remap: one chunk each (other dims keep theirs)
            da = da.chunk({"y": -1, "x": -1})
        res = xr.apply_ufunc(
            self.apply_array,
            da,
            input_core_dims=[["y", "x"]],
            output_core_dims=[["y_", "x_"]],
            dask="parallelized",
            output_dtypes=[np.float64],
            dask_gufunc_kwargs={"output_sizes": {"y_": t.ny, "x_": t.nx}},
            keep_attrs=True,
        )
        res = res.rename({"y_": "y", "x_": "x"}).assign_coords(t.coords())
        drop = [c for c in res.coords if c not in ("x", "y") and {"x", "y"} & set(res[c].dims)]
        res = res.drop_vars(drop + [c for c in ("spatial_ref",) if c in res.coords])
        res.attrs["crs"] = t.crs.to_string()
        res.attrs.pop("grid_mapping", None)
        return res.transpose(*da.dims)

    # ------------------------------------------------------------------ persistence
    def to_netcdf(self, path: str | PathLike[str]) -> None:
        """Write the plan (grids and weights) to a NetCDF file, reloadable with
        :meth:`from_netcdf`.

        Raises
        ------
        trajectoire.InputError
            The directory of `path` does not exist, or `path` is a directory.
        """
        target = Path(path)
        if not target.parent.is_dir():
            raise InputError(
                f"Regridder.to_netcdf: directory {str(target.parent)!r} of {str(target)!r} "
                + ("is a file" if target.parent.exists() else "does not exist")
                + "; create it first (Path(...).mkdir(parents=True)) or give another path."
            )
        if target.is_dir():
            raise InputError(
                f"Regridder.to_netcdf: {str(target)!r} is a directory; give a file name in "
                f"it, e.g. {str(target / 'weights.nc')!r}."
            )
        s, t = self.source, self.target
        attrs: dict[str, Any] = {
            "method": self.method,
            "extensive": int(self.extensive),
            "densify": self.densify,
            "title": "trajectoire regridding weights",
        }
        for tag, g in (("source", s), ("target", t)):
            attrs[f"{tag}_grid"] = [g.xmin, g.ymin, g.dx, g.dy, g.nx, g.ny]
            attrs[f"{tag}_crs"] = g.crs.to_wkt()
        if self.method == "separable":
            p = self._sep
            ds = xr.Dataset(
                {
                    "x_src": ("nx_overlap", p["xs"]),
                    "x_dst": ("nx_overlap", p["xd"]),
                    "x_length": ("nx_overlap", p["xl"]),
                    "y_src": ("ny_overlap", p["ys"]),
                    "y_dst": ("ny_overlap", p["yd"]),
                    "y_length": ("ny_overlap", p["yl"]),
                },
                attrs=attrs,
            )
        else:
            src, dst, a_st, a_s = self._overlap
            ds = xr.Dataset(
                {
                    "src": ("n_overlap", src),
                    "dst": ("n_overlap", dst),
                    "overlap_area": ("n_overlap", a_st),
                    "source_area": ("n_overlap", a_s),
                    "source_coverage": (("ys", "xs"), self.source_coverage),
                },
                attrs=attrs,
            )
        ds.to_netcdf(path)

    @classmethod
    def from_netcdf(cls, path: str | PathLike[str]) -> Regridder:
        """Load a plan written by :meth:`to_netcdf` (no weight is recomputed).

        Raises
        ------
        trajectoire.InputError
            `path` does not exist, is not a NetCDF file, or is a NetCDF file that is not a
            plan written by :meth:`to_netcdf`.
        """
        p = Path(path)
        expected = "expected a regridding plan written by Regridder.to_netcdf()."
        if not p.is_file():
            state = "is a directory" if p.is_dir() else "not found"
            raise InputError(f"Regridder.from_netcdf: {str(p)!r} {state}; {expected}")
        try:
            with xr.open_dataset(path) as ds:
                ds.load()
        except (OSError, ValueError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "IO backends" in why:  # xarray: no engine recognises the file
                why = "no engine recognises it"
            elif len(why) > 100:
                why = why[:100] + "..."
            raise InputError(
                f"Regridder.from_netcdf: {str(p)!r} cannot be read as NetCDF ({why}); {expected}"
            ) from exc
        try:
            grids = []
            for tag in ("source", "target"):
                xmin, ymin, dx, dy, nx, ny = (float(v) for v in ds.attrs[f"{tag}_grid"])
                grids.append(
                    Grid(xmin, ymin, dx, dy, int(nx), int(ny), pyproj.CRS(ds.attrs[f"{tag}_crs"]))
                )
            method = str(ds.attrs["method"])
        except KeyError as exc:
            raise InputError(
                f"Regridder.from_netcdf: {str(p)!r} is not a trajectoire regridding file "
                f"(missing attribute {exc}); {expected}"
            ) from exc
        plan = cls.__new__(cls)
        plan.source, plan.target = grids
        plan.extensive = bool(int(ds.attrs["extensive"]))
        plan.method = method
        plan.densify = int(ds.attrs.get("densify", 8))
        if method == "separable":
            plan._sep = {
                "xs": ds["x_src"].values.astype(np.int64),
                "xd": ds["x_dst"].values.astype(np.int64),
                "xl": ds["x_length"].values.astype(np.float64),
                "ys": ds["y_src"].values.astype(np.int64),
                "yd": ds["y_dst"].values.astype(np.int64),
                "yl": ds["y_length"].values.astype(np.float64),
            }
            plan._finish_separable()
        else:
            plan._overlap = (
                ds["src"].values.astype(np.int64),
                ds["dst"].values.astype(np.int64),
                ds["overlap_area"].values.astype(np.float64),
                ds["source_area"].values.astype(np.float64),
            )
            plan.source_coverage = ds["source_coverage"].values
            plan._finish_polygon()
        return plan

    def __repr__(self) -> str:
        def crs_name(c: pyproj.CRS) -> str:
            epsg = c.to_epsg()
            return f"EPSG:{epsg}" if epsg else c.name

        s, t = self.source, self.target
        kind = "extensive" if self.extensive else "intensive"
        return (
            f"Regridder({self.method}, {kind}, {s.nx} x {s.ny} -> {t.nx} x {t.ny} cells, "
            f"{crs_name(s.crs)} -> {crs_name(t.crs)})"
        )


def _require_bool(extensive: object, caller: str) -> bool:
    """`extensive` as a bool; anything else (``"no"``, 0) is an error, never truthiness."""
    return require_flag(
        extensive,
        f"{caller}: extensive",
        "amounts per cell, e.g. emissions [t yr-1]: sums conserved",
        "densities, concentrations: area-weighted means",
    )


def _gridded_units(source: xr.DataArray | xr.Dataset) -> dict[str, object]:
    """The ``units`` attribute of the source, or of each gridded variable of a Dataset."""

    def gridded(da: xr.DataArray) -> bool:
        dims = set(da.dims)
        return any({a, b} <= dims for a, b in (("x", "y"), *_LONLAT_NAMES))

    if isinstance(source, xr.DataArray):
        name = str(source.name) if source.name is not None else "source"
        return {name: source.attrs.get("units")}
    return {str(k): v.attrs.get("units") for k, v in source.data_vars.items() if gridded(v)}


def _extensive_of(source: object, extensive: object) -> bool:
    """The `extensive` flag of :func:`regrid`, checked against the source's ``units``.

    Raises
    ------
    trajectoire.InputError
        `extensive` not a bool (nor None); a Dataset whose gridded variables' units are of
        both kinds; an intensive source (by its units) with `extensive` not given.
    """
    if extensive is not None:
        extensive = _require_bool(extensive, "regrid")
    if not isinstance(source, xr.DataArray | xr.Dataset):
        return True if extensive is None else bool(extensive)
    units = _gridded_units(source)
    kinds = {
        name: unit_is_intensive(u) if isinstance(u, str) else None for name, u in units.items()
    }
    intensive = [n for n, k in kinds.items() if k is True]
    amounts = [n for n, k in kinds.items() if k is False]
    if intensive and amounts:

        def listed(names: list[str]) -> str:
            return ", ".join(f"{n} [{units[n]}]" for n in names)

        raise InputError(
            f"regrid: the Dataset holds intensive variables ({listed(intensive)}) and "
            f"amounts per cell ({listed(amounts)}); one extensive flag cannot fit both. "
            f"Regrid them apart: regrid(ds[{intensive}], grid, extensive=False) and "
            f"regrid(ds[{amounts}], grid, extensive=True)."
        )
    if extensive is None:
        if intensive:
            what = ", ".join(f"{n} has units {units[n]!r}" for n in intensive)
            raise InputError(
                f"regrid: {what}, an intensive quantity (per area or volume), and extensive "
                "was not given; the default (True) would sum it over the target cells. Pass "
                "extensive=False for area-weighted means (or extensive=True if the values "
                "really are amounts per cell)."
            )
        return True
    return bool(extensive)


def regrid(
    source: xr.DataArray | xr.Dataset, target: Grid, *, extensive: bool | None = None
) -> xr.DataArray | xr.Dataset:
    """Conservative regridding of a gridded DataArray or Dataset onto a :class:`Grid`.

    Parameters
    ----------
    source : xarray.DataArray or xarray.Dataset
        Values on a regular grid: ``x``, ``y`` (or ``lon``, ``lat``) are cell centres in the CRS
        named by ``attrs["crs"]`` (or a rioxarray ``spatial_ref`` coordinate). Other dims
        (sector, pollutant, year...) are carried along; dask arrays stay lazy.
    target : Grid
        Target grid, any CRS.
    extensive : bool, optional
        True conserves sums (amounts per cell, e.g. emissions [t yr-1]); False gives
        area-weighted means (densities, concentrations). Not given: True, unless the
        ``units`` attribute says an intensive quantity (a concentration, a mixing ratio,
        anything per area or volume: :func:`trajectoire.units.unit_is_intensive`), which
        is then an error asking for ``extensive=False``. Must be a bool.

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        On the target grid, with ``attrs["crs"]`` set to the target CRS.

    Raises
    ------
    trajectoire.GridError
        Source without ``x``/``y`` dims, irregular coordinates or without a CRS (a
        ``grid_mapping`` variable left behind by ``ds[name]`` is named); source coordinates
        that cannot be in its CRS (degrees with ``attrs["crs"] = "EPSG:2154"``, metres under
        ``lon``/``lat`` dims without a CRS); a target that does not overlap the source at
        all while the source holds values other than 0; a source one cell thick whose cell
        size is given nowhere (see :func:`grid_of`: ``Grid.to_dataarray`` records it).
    trajectoire.InputError
        `extensive` not a bool; an intensive source (by its ``units``) without
        `extensive`; a Dataset whose variables' units are of both kinds (regrid them
        apart).

    .. versionchanged:: Unreleased
        `extensive` defaults to None (was True): an intensive source is no longer summed
        silently.

    Notes
    -----
    A geographic source in 0..360 longitudes (ERA5, CAMS) is matched to a target west of
    Greenwich (or in -180..180 degrees) as the same places. Builds a :class:`Regridder` and
    applies it once; build the plan yourself to reuse the
    weights. Source mass outside the target grid is not transferred (see
    :attr:`Regridder.source_coverage`): cropping a larger source onto the target is normal
    and silent. Dask-backed sources stay lazy; chunks along ``x``/``y`` are merged into one
    (the remap needs whole rows and columns), other dims keep theirs.

    Examples
    --------
    >>> import numpy as np
    >>> from trajectoire import Grid
    >>> src = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 500)
    >>> da = src.to_dataarray(np.array([[4.0, 0.0], [0.0, 8.0]]))
    >>> dst = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 250)
    >>> regrid(da, dst).values[0]  # amounts: each 500 m cell split in four
    array([1., 1., 0., 0.])
    >>> regrid(da, dst, extensive=False).values[0]  # densities: kept
    array([4., 4., 0., 0.])
    """
    flag = _extensive_of(source, extensive)
    return Regridder(source, target, extensive=flag)(source)
