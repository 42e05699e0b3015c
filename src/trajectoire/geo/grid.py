"""Regular grids in a projected CRS (Lambert-93 by default) and exact polygon coverage.

A :class:`Grid` is north-up: ``x`` (cell centres) increases with the column, ``y`` (cell
centres) decreases with the row, as in GeoTIFF and rasterio. It knows its CRS, affine
transform, cell area, and converts to and from xarray coordinates and rasterio profiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt
import pyproj
import xarray as xr
from affine import Affine

from trajectoire._validate import is_integer_number
from trajectoire.errors import GridError, InputError, TrajectoireError, TrajectoireWarning, warn

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "DEFAULT_CRS",
    "RUN_MAX_CELLS",
    "Grid",
    "as_crs",
    "check_run_cells",
    "crs_of",
    "known_crs",
    "north_up",
    "to_crs",
]

DEFAULT_CRS = "EPSG:2154"

RUN_MAX_CELLS = 20_000_000
"""Cells above which a run's grid is refused before anything is allocated
(:func:`check_run_cells`). A run holds the reference inventory as one float64 array per GNFR
sector and pollutant, 13 x 8 bytes per pollutant and cell (0.5 kB a cell for 5 pollutants,
1.2 kB for 12), and several float64 grids a year besides. The production grid (the seven
territories at 100 m, 1241 x 2241 cells) has 2.8 million; 20 million is 7 times that (the
whole region at 50 m), whose inventory alone takes 10 to 25 GB."""


@overload
def north_up(obj: xr.DataArray) -> xr.DataArray: ...
@overload
def north_up(obj: xr.Dataset) -> xr.Dataset: ...
@overload
def north_up(obj: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset: ...
def north_up(obj: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset:
    """`obj` with ``x`` ascending and ``y`` descending, the order of a :class:`Grid`'s rows
    and columns (north-up, as GeoTIFFs and the run's outputs store them).

    Arrays built with ``np.meshgrid`` or written by other tools often run ``y`` upwards;
    code that takes ``.values`` by position must read them in this order, or the map comes
    out mirrored. Labels move with their values; the dims' order is kept.

    Examples
    --------
    >>> import xarray as xr
    >>> da = xr.DataArray([[1, 2], [3, 4]], dims=("y", "x"), coords={"y": [50, 150], "x": [0, 100]})
    >>> north_up(da)["y"].values.tolist(), north_up(da).values.tolist()
    ([150, 50], [[3, 4], [1, 2]])
    """
    if obj.sizes.get("x", 0) > 1 and float(obj["x"][1] - obj["x"][0]) < 0:
        obj = obj.isel(x=slice(None, None, -1))
    if obj.sizes.get("y", 0) > 1 and float(obj["y"][1] - obj["y"][0]) > 0:
        obj = obj.isel(y=slice(None, None, -1))
    return obj


def known_crs(crs: Any) -> pyproj.CRS | None:
    """`crs` as a :class:`pyproj.CRS`, or None when pyproj does not know it: for callers
    whose message names their own key (``[inputs.stations] crs``, a file's EPSG column).

    Examples
    --------
    >>> known_crs("EPSG:2154").to_epsg(), known_crs("EPSG:99999")
    (2154, None)
    """
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return None


def crs_option(
    crs: Any,
    what: str,
    key: str,
    removed: str = "",
    *,
    error: type[TrajectoireError] = GridError,
) -> pyproj.CRS:
    """The CRS an input's option `key` (``[inputs.point_sources] crs``) gives; one pyproj
    does not know is an error of type `error` naming the file (`what`), the key, the value
    and valid ones (`removed`: what leaving the key out does, e.g. ``" (x/y are read in
    EPSG:2154)"``).

    Examples
    --------
    >>> crs_option("Lambert93", "ps.csv", "[inputs.point_sources] crs")
    Traceback (most recent call last):
    ...
    trajectoire.errors.GridError: ps.csv: [inputs.point_sources] crs = 'Lambert93' is not a CRS pyproj knows; expected e.g. "EPSG:2154" (Lambert-93, x/y in metres) or "EPSG:4326" (lon/lat in degrees). Fix [inputs.point_sources] crs, or remove it.
    """
    known = known_crs(crs)
    if known is None:
        raise error(
            f"{what}: {key} = {crs!r} is not a CRS pyproj knows; expected e.g. "
            '"EPSG:2154" (Lambert-93, x/y in metres) or "EPSG:4326" (lon/lat in degrees). '
            f"Fix {key}, or remove it{removed}."
        )
    return known


def as_crs(crs: Any, what: str = "crs") -> pyproj.CRS:
    if crs is None:
        raise GridError(f"{what}: no CRS given; pass e.g. crs='EPSG:2154'.")
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise GridError(f"{what}: {crs!r} is not a CRS pyproj understands ({exc}).") from exc


def to_crs(geoms: Any, crs: Any, *, what: str = "geometries") -> gpd.GeoSeries:
    """Return `geoms` (GeoSeries, GeoDataFrame) as a GeoSeries reprojected to `crs`.

    Raises
    ------
    trajectoire.InputError
        If the input has no CRS (it is never guessed).
    """
    import geopandas as gpd

    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if not isinstance(geoms, gpd.GeoSeries):
        raise InputError(
            f"{what}: expected a GeoSeries or GeoDataFrame with a CRS, got {type(geoms).__name__}. "
            "Wrap shapely geometries with geopandas.GeoSeries(geoms, crs=...)."
        )
    if geoms.crs is None:
        raise InputError(
            f"{what}: has no CRS. Set it with .set_crs('EPSG:2154') (or the CRS the "
            "coordinates are really in); a CRS is never assumed."
        )
    return geoms.to_crs(as_crs(crs))


@dataclass(frozen=True)
class Grid:
    """A regular, north-up grid of rectangular cells in a projected CRS.

    Use :meth:`from_bounds` or :meth:`around` rather than the constructor.

    Attributes
    ----------
    xmin, ymin : float
        Outer lower-left corner [CRS units, metres for Lambert-93].
    dx, dy : float
        Cell size along x and y [CRS units], both > 0.
    nx, ny : int
        Number of columns and rows.
    crs : pyproj.CRS
        Coordinate reference system.

    Raises
    ------
    trajectoire.GridError
        `dx` or `dy` not a finite number > 0; `nx` or `ny` not a whole number >= 1 (an
        integral float such as ``10.0`` is taken as 10); a CRS pyproj does not know.
    """

    xmin: float
    ymin: float
    dx: float
    dy: float
    nx: int
    ny: int
    crs: pyproj.CRS

    def __post_init__(self) -> None:
        for name in ("nx", "ny"):
            value = getattr(self, name)
            if isinstance(value, float | np.floating) and float(value).is_integer():
                object.__setattr__(self, name, int(value))  # 10.0 cells: 10
            elif not is_integer_number(value):
                what = "columns" if name == "nx" else "rows"
                raise GridError(
                    f"Grid: {name}={value!r} ({type(value).__name__}); expected a whole number "
                    f"of {what} (an int >= 1). Round it, or build the grid with "
                    "Grid.from_bounds(xmin, ymin, xmax, ymax, resolution), which counts the cells."
                )
        for name in ("dx", "dy"):
            value = getattr(self, name)
            try:
                finite = math.isfinite(value)
            except TypeError:
                finite = False
            if not (finite and value > 0):
                raise GridError(
                    f"Grid {name} (resolution) must be a finite number > 0, got {value!r}; "
                    "pass the cell size in CRS units, e.g. resolution=100.0 for 100 m."
                )
        if self.nx < 1 or self.ny < 1:
            raise GridError(f"Grid has {self.nx} x {self.ny} cells; it needs at least one.")
        if not isinstance(self.crs, pyproj.CRS):
            object.__setattr__(self, "crs", as_crs(self.crs))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_bounds(
        cls,
        xmin: float,
        ymin: float,
        xmax: float,
        ymax: float,
        resolution: float | tuple[float, float],
        crs: Any = DEFAULT_CRS,
        *,
        bounds_crs: Any = None,
        snap: bool | None = None,
    ) -> Grid:
        """Grid covering the bounds ``(xmin, ymin, xmax, ymax)`` with square (or dx, dy) cells.

        Parameters
        ----------
        xmin, ymin, xmax, ymax : float
            Bounds [units of `bounds_crs`, or of `crs` when `bounds_crs` is None].
        resolution : float or (float, float)
            Cell size [CRS units, m for Lambert-93]; a pair (tuple, list or 1-D array) gives
            ``(dx, dy)``, a one-element sequence square cells.
        crs : any, default "EPSG:2154"
            CRS of the grid (anything :class:`pyproj.CRS` accepts).
        bounds_crs : any, optional
            CRS of the bounds, when they are not in `crs` (for example ``"EPSG:4326"`` for
            degrees): the bounds are reprojected and their envelope is used.
        snap : bool, optional
            ``True``: widen the bounds to multiples of the resolution, so that grids of the
            same resolution share cell edges (nested grids line up exactly). ``False``: keep
            `xmin`, `ymin` and round the extent to a whole number of cells. By default
            (None) bounds that span a whole number of cells are kept exactly as given (to
            match another model's grid), and other bounds are widened to multiples of the
            resolution with a warning that states the bounds used; bounds given in
            `bounds_crs` are always widened so (their envelope is never whole cells).

            .. versionchanged:: 0.2
               The default no longer snaps bounds that are a whole number of cells
               (issue 13): ``from_bounds(700050, 7000050, 700650, 7000650, 100)`` is the
               6 x 6 grid asked, not 7 x 7 cells from 700000.

        Returns
        -------
        Grid

        Raises
        ------
        trajectoire.GridError
            `resolution` not a number > 0 nor a pair of them, empty bounds, or bounds that
            are not in the grid's CRS (degrees passed as Lambert-93 metres, or metres passed
            with a geographic `crs` such as ``"EPSG:4326"``).

        Examples
        --------
        >>> g = Grid.from_bounds(700_000, 7_050_000, 710_000, 7_060_000, 100)
        >>> g.shape, g.cell_area
        ((100, 100), 10000.0)
        >>> Grid.from_bounds(700_050, 7_000_050, 700_650, 7_000_650, 100).bounds
        (700050.0, 7000050.0, 700650.0, 7000650.0)
        """
        dx, dy = _resolution_pair(resolution, "Grid.from_bounds")
        crs_obj = as_crs(crs)
        bounds = [float(v) for v in (xmin, ymin, xmax, ymax)]
        if not all(math.isfinite(v) for v in bounds):
            raise GridError(f"Grid.from_bounds: bounds must be finite numbers, got {bounds}.")
        if bounds_crs is not None:
            tr = pyproj.Transformer.from_crs(as_crs(bounds_crs), crs_obj, always_xy=True)
            b0, b1, b2, b3 = bounds
            bounds = list(tr.transform_bounds(b0, b1, b2, b3, densify_pts=21))
        xmin, ymin, xmax, ymax = bounds
        if xmax <= xmin or ymax <= ymin:
            raise GridError(
                f"Grid.from_bounds: empty bounds (xmin={xmin}, ymin={ymin}, xmax={xmax}, "
                f"ymax={ymax}); expected xmin < xmax and ymin < ymax."
            )
        _check_bounds_in_crs(
            (xmin, ymin, xmax, ymax),
            crs_obj,
            dx,
            what=f"Grid.from_bounds: bounds {tuple(round(b, 6) for b in (xmin, ymin, xmax, ymax))}",
        )
        asked = (xmin, ymin, xmax, ymax)
        warn_snap = False
        if snap is None and bounds_crs is not None:
            snap = True  # a reprojected envelope is never a whole number of cells
        if snap is None:
            snap = warn_snap = not (_whole_cells(xmax - xmin, dx) and _whole_cells(ymax - ymin, dy))
        if snap:
            xmin = math.floor(xmin / dx + 1e-9) * dx
            ymin = math.floor(ymin / dy + 1e-9) * dy
            xmax = math.ceil(xmax / dx - 1e-9) * dx
            ymax = math.ceil(ymax / dy - 1e-9) * dy
            if warn_snap:
                warn(
                    f"Grid.from_bounds: the bounds {asked} do not span a whole number of "
                    f"{dx:g} x {dy:g} cells; the grid covers {(xmin, ymin, xmax, ymax)} "
                    "(widened to multiples of the resolution). Pass snap=True to snap without "
                    "this warning, or bounds a whole number of cells apart to keep them.",
                    TrajectoireWarning,
                )
        nx = max(1, round((xmax - xmin) / dx))
        ny = max(1, round((ymax - ymin) / dy))
        return cls(xmin, ymin, dx, dy, int(nx), int(ny), crs_obj)

    @classmethod
    def around(
        cls,
        geometries: Any,
        resolution: float = 100.0,
        *,
        buffer: float = 5000.0,
        crs: Any = DEFAULT_CRS,
    ) -> Grid:
        """Grid covering `geometries` plus a `buffer`, in `crs`.

        Parameters
        ----------
        geometries : GeoSeries or GeoDataFrame
            Shapes with a CRS (any CRS; reprojected to `crs`).
        resolution : float, default 100
            Cell size [m].
        buffer : float, default 5000
            Margin added on every side [m].
        crs : any, default "EPSG:2154"
            CRS of the grid.

        Returns
        -------
        Grid
        """
        if buffer < 0:
            raise GridError(f"Grid.around: buffer must be >= 0 m, got {buffer}.")
        geoms = to_crs(geometries, crs, what="Grid.around geometries")
        x0, y0, x1, y1 = geoms.total_bounds
        box = (x0 - buffer, y0 - buffer, x1 + buffer, y1 + buffer)
        _check_within_crs(box, as_crs(crs), f"the shapes' box plus buffer = {buffer:.10g} m")
        return cls.from_bounds(*box, resolution, crs, snap=True)

    @classmethod
    def from_coords(cls, x: npt.ArrayLike, y: npt.ArrayLike, crs: Any) -> Grid:
        """Grid whose cell centres are the regular 1-D coordinates `x` and `y`.

        Raises
        ------
        trajectoire.GridError
            If the coordinates are not regularly spaced.
        """
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        if xa.ndim != 1 or ya.ndim != 1 or xa.size < 1 or ya.size < 1:
            raise GridError("Grid.from_coords: x and y must be non-empty 1-D coordinates.")
        dx = _regular_step(xa, "x")
        dy = _regular_step(ya, "y")
        if xa.size == 1 or ya.size == 1:
            raise GridError("Grid.from_coords: needs at least two cells along x and y.")
        return cls(
            float(xa.min() - abs(dx) / 2),
            float(ya.min() - abs(dy) / 2),
            abs(dx),
            abs(dy),
            xa.size,
            ya.size,
            as_crs(crs),
        )

    @classmethod
    def from_xarray(cls, obj: xr.DataArray | xr.Dataset) -> Grid:
        """Grid of a DataArray/Dataset with cell-centre ``x``, ``y`` coordinates.

        The CRS is read from ``attrs["crs"]``, from a ``spatial_ref`` or ``crs`` coordinate /
        variable (``crs_wkt`` or ``spatial_ref`` attribute, as rioxarray and trajectoire write).

        Raises
        ------
        trajectoire.GridError
            If ``x``/``y`` are missing or irregular, or no CRS is found.
        """
        if "x" not in obj.coords or "y" not in obj.coords:
            raise GridError(
                f"object has coords {list(obj.coords)}; expected cell-centre 'x' and 'y'. "
                "Rename them with .rename({'lon': 'x', 'lat': 'y'})."
            )
        crs = crs_of(obj)
        if crs is None:
            raise GridError(
                "object has no CRS: set attrs['crs'] = 'EPSG:2154' (or the right CRS), or "
                "write it with rioxarray (.rio.write_crs)."
            )
        return cls.from_coords(obj["x"].values, obj["y"].values, crs)

    @classmethod
    def from_rasterio(cls, transform: Affine, width: int, height: int, crs: Any) -> Grid:
        """Grid from a rasterio transform and shape (north-up rasters only)."""
        if transform.b != 0 or transform.d != 0:
            raise GridError("rotated rasters are not supported; warp the raster first.")
        if transform.e >= 0:
            raise GridError("only north-up rasters (negative y pixel size) are supported.")
        dx, dy = transform.a, -transform.e
        return cls(transform.c, transform.f - height * dy, dx, dy, int(width), int(height), crs)

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``: rows then columns."""
        return (self.ny, self.nx)

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    @property
    def xmax(self) -> float:
        """Outer right edge [CRS units]."""
        return self.xmin + self.nx * self.dx

    @property
    def ymax(self) -> float:
        """Outer top edge [CRS units]."""
        return self.ymin + self.ny * self.dy

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the outer cell edges."""
        return (self.xmin, self.ymin, self.xmax, self.ymax)

    @property
    def resolution(self) -> float:
        """Cell size [CRS units] (square cells; see `dx`, `dy` otherwise)."""
        if self.dx != self.dy:
            raise GridError(
                f"grid cells are not square (dx={self.dx}, dy={self.dy}): the dispersion "
                "kernels need one cell size; build the grid with Grid.from_bounds(xmin, ymin, "
                "xmax, ymax, resolution), or regrid the data onto such a grid."
            )
        return self.dx

    def true_north_angle(self) -> float:
        """The direction of true north at the grid's centre [degrees], clockwise from the
        grid's north (its ``+y`` axis): the meridian convergence of the projection there.

        Wind directions are bearings from true north while the kernels turn plumes in the
        grid's axes, so a plume is turned by this angle: -0.04 degrees at Lille and 0.46 at
        Dunkerque on Lambert-93 (EPSG:2154, central meridian 3 degrees E), 5.9 at Dunkerque
        on EPSG:3035. Measured by projecting a 1 km step north along the meridian of the
        centre (the opposite of PROJ's ``meridian_convergence``); NaN for a geographic CRS.

        Examples
        --------
        >>> g = Grid.from_bounds(650_000, 7_100_000, 660_000, 7_110_000, 1000)  # Dunkerque
        >>> round(g.true_north_angle(), 2)
        0.46
        """
        if self.crs.is_geographic:
            return math.nan
        x0, y0 = (self.xmin + self.xmax) / 2, (self.ymin + self.ymax) / 2
        to_geo = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_geo.transform(x0, y0)
        x1, y1 = to_geo.transform(lon, lat + 1e3 / 111_320.0, direction="INVERSE")
        return math.degrees(math.atan2(x1 - x0, y1 - y0))

    @property
    def cell_area(self) -> float:
        """Area of one cell [CRS units squared, m2 for Lambert-93]."""
        return self.dx * self.dy

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates, increasing with the column."""
        return self.xmin + (np.arange(self.nx) + 0.5) * self.dx

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates, decreasing with the row (north-up)."""
        return self.ymax - (np.arange(self.ny) + 0.5) * self.dy

    @property
    def transform(self) -> Affine:
        """rasterio/GDAL affine transform of the outer top-left corner."""
        return Affine(self.dx, 0.0, self.xmin, 0.0, -self.dy, self.ymax)

    def coords(self) -> dict[str, xr.DataArray]:
        """xarray coordinates ``y``, ``x`` with CF attributes."""

        def axis(values: np.ndarray, name: str) -> xr.DataArray:
            attrs = {
                "standard_name": f"projection_{name}_coordinate",
                "long_name": f"{name} coordinate of cell centre",
                "units": "m",
                "axis": name.upper(),
            }
            return xr.DataArray(values, dims=name, attrs=attrs)

        return {"y": axis(self.y, "y"), "x": axis(self.x, "x")}

    def to_dataarray(
        self, values: npt.ArrayLike, name: str | None = None, attrs: dict[str, Any] | None = None
    ) -> xr.DataArray:
        """Wrap a ``(..., ny, nx)`` array whose last two axes are this grid's rows/columns.

        The ``x`` and ``y`` coordinates carry the cell size as their attribute
        ``resolution`` [CRS units] (`dx`, `dy`), so that the grid of an array one cell thick
        (one row, one column, or ``da.isel(y=[k])``), whose coordinates cannot tell it, is
        still known to :func:`trajectoire.regrid`.
        """
        arr = np.asarray(values)
        if arr.shape[-2:] != self.shape:
            raise InputError(
                f"array of shape {arr.shape} does not end with the grid shape {self.shape}."
            )
        if arr.ndim != 2:
            raise InputError("to_dataarray takes a 2-D (y, x) array; use xr.DataArray for more.")
        coords = self.coords()
        coords["x"].attrs["resolution"] = self.dx
        coords["y"].attrs["resolution"] = self.dy
        out = xr.DataArray(arr, dims=("y", "x"), coords=coords, name=name)
        out.attrs = {"crs": self.crs.to_string(), **(attrs or {})}
        return out

    def rasterio_profile(self, dtype: str = "float32", count: int = 1) -> dict[str, Any]:
        """Profile for ``rasterio.open(path, "w", **profile)`` (GeoTIFF, deflate)."""
        return {
            "driver": "GTiff",
            "width": self.nx,
            "height": self.ny,
            "count": count,
            "dtype": dtype,
            "crs": self.crs.to_wkt(),
            "transform": self.transform,
            "compress": "deflate",
            "tiled": self.nx >= 256 and self.ny >= 256,
        }

    def cell_index(
        self, x: npt.ArrayLike, y: npt.ArrayLike
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of the cells containing points ``(x, y)`` (in the grid CRS).

        Returns
        -------
        row, col : numpy.ndarray of int64
            Cell indices; -1 for points outside the grid.
        inside : numpy.ndarray of bool
            Whether each point is inside. A point on the shared edge of two cells goes to the
            cell on its right / below; points on the outer right or bottom edge are inside.
        """
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        col = np.floor((xa - self.xmin) / self.dx).astype(np.int64)
        row = np.floor((self.ymax - ya) / self.dy).astype(np.int64)
        col = np.where((xa == self.xmax), self.nx - 1, col)
        row = np.where((ya == self.ymin), self.ny - 1, row)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny) & np.isfinite(xa)
        inside &= np.isfinite(ya)
        return np.where(inside, row, -1), np.where(inside, col, -1), inside

    def window(self, bounds: tuple[float, float, float, float]) -> tuple[slice, slice]:
        """Row and column slices of the cells that intersect `bounds` (clipped to the grid)."""
        x0, y0, x1, y1 = bounds
        c0 = max(0, math.floor((x0 - self.xmin) / self.dx))
        c1 = min(self.nx, math.ceil((x1 - self.xmin) / self.dx))
        r0 = max(0, math.floor((self.ymax - y1) / self.dy))
        r1 = min(self.ny, math.ceil((self.ymax - y0) / self.dy))
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def subgrid(self, rows: slice, cols: slice) -> Grid:
        """The grid of a window ``grid[rows, cols]`` (same CRS and resolution)."""
        r0, r1, _ = rows.indices(self.ny)
        c0, c1, _ = cols.indices(self.nx)
        return Grid(
            self.xmin + c0 * self.dx,
            self.ymax - r1 * self.dy,
            self.dx,
            self.dy,
            c1 - c0,
            r1 - r0,
            self.crs,
        )

    def same_as(self, other: Grid, *, rtol: float = 1e-9) -> bool:
        """Whether `other` has the same cells (CRS, origin, resolution, shape)."""
        return (
            self.shape == other.shape
            and self.crs == other.crs
            and all(
                math.isclose(a, b, rel_tol=rtol, abs_tol=rtol * max(self.dx, self.dy))
                for a, b in zip(
                    (self.xmin, self.ymin, self.dx, self.dy),
                    (other.xmin, other.ymin, other.dx, other.dy),
                    strict=True,
                )
            )
        )

    def __repr__(self) -> str:
        epsg = self.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else self.crs.name
        return (
            f"Grid({self.nx} x {self.ny} cells of {self.dx:g} x {self.dy:g}, "
            f"bounds=({self.xmin:.1f}, {self.ymin:.1f}, {self.xmax:.1f}, {self.ymax:.1f}), "
            f"crs={crs})"
        )


def crs_of(obj: xr.DataArray | xr.Dataset) -> pyproj.CRS | None:
    """CRS of an xarray object: ``attrs['crs']``, or a ``spatial_ref``/``crs`` variable."""
    if obj.attrs.get("crs"):
        return as_crs(obj.attrs["crs"], "attrs['crs']")
    for name in ("spatial_ref", "crs"):
        if name in obj.coords or (isinstance(obj, xr.Dataset) and name in obj.variables):
            attrs = obj[name].attrs
            for key in ("crs_wkt", "spatial_ref"):
                if attrs.get(key):
                    return as_crs(attrs[key], f"{name}.{key}")
    gm = obj.attrs.get("grid_mapping") if isinstance(obj, xr.DataArray) else None
    if gm and gm in obj.coords:
        return crs_of(obj[gm])
    return None


def _whole_cells(extent: float, step: float) -> bool:
    """Whether `extent` is a whole number of `step` (to 1e-9 of a cell)."""
    n = extent / step
    return abs(n - round(n)) <= 1e-9 * max(1.0, abs(n))


def _regular_step(values: np.ndarray, name: str) -> float:
    if values.size < 2:
        return 0.0
    d = np.diff(values)
    step = float(d.mean())
    if step == 0 or not np.allclose(d, step, rtol=1e-6, atol=abs(step) * 1e-6):
        raise GridError(
            f"coordinate {name!r} is not regularly spaced (steps from {d.min()} to {d.max()}); "
            "trajectoire grids are regular. Regrid irregular data first."
        )
    return step


#: Margin [degree] around a CRS's area of use within which positions are still taken as
#: its own (a station or a site just beyond the official area).
AREA_MARGIN = 2.0


def in_area_of_use(
    area_crs: Any, crs: Any, x: npt.ArrayLike, y: npt.ArrayLike, margin: float = AREA_MARGIN
) -> np.ndarray | None:
    """Whether each position falls in the area of use of `area_crs`, widened by `margin`.

    Parameters
    ----------
    area_crs : pyproj.CRS or anything pyproj takes
        The CRS whose area of use (longitudes and latitudes, ``CRS.area_of_use``) counts.
    crs : pyproj.CRS or anything pyproj takes
        The CRS the positions are in.
    x, y : array-like
        Easting or longitude, northing or latitude of each position.
    margin : float, default :data:`AREA_MARGIN`
        Degrees added on every side of the area.

    Returns
    -------
    numpy.ndarray of bool or None
        One value per position (False where it does not transform to finite degrees);
        None where `area_crs` has no area of use.
    """
    area = pyproj.CRS.from_user_input(area_crs).area_of_use
    if area is None:
        return None
    with np.errstate(invalid="ignore"):
        lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (
        (lon >= area.west - margin)
        & (lon <= area.east + margin)
        & (lat >= area.south - margin)
        & (lat <= area.north + margin)
    )


def check_area_of_use(
    data: Any, ids: Sequence[Any], what: str, config_key: str | None, *, kind: str = "feature"
) -> None:
    """Raise when features of a projected layer lie outside its CRS's area of use.

    A feature whose bounding-box centre falls outside the area of use of the CRS the file
    declares, widened by :data:`AREA_MARGIN`, is in another CRS than the file says: degrees
    labelled Lambert-93 (which would put a road network a few metres from the CRS's origin,
    outside any grid, and its emissions nowhere), Lambert II étendu labelled Lambert-93...

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        The layer, in the CRS its file declares (nothing is checked for a geographic CRS or
        a CRS without an area of use; empty geometries are skipped).
    ids : sequence
        The id of each feature, for the message.
    what : str
        The file, as messages name it.
    config_key : str or None
        The configuration key that gives the file.
    kind : str, default "feature"
        What a feature is, in words (``"territory"``, ``"road"``).

    Raises
    ------
    trajectoire.InputError
        Naming the first features outside (with their box centre), whether they look like
        degrees, and the fix.
    """
    if data.crs is None or len(data) == 0:
        return
    crs = pyproj.CRS.from_user_input(data.crs)
    if crs.is_geographic:
        return
    b = data.geometry.bounds.to_numpy(dtype=float)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    finite = np.isfinite(cx) & np.isfinite(cy)
    inside = in_area_of_use(crs, crs, np.where(finite, cx, 0.0), np.where(finite, cy, 0.0))
    if inside is None:
        return
    out = ~inside & finite
    if not out.any():
        return
    from trajectoire._validate import rows_preview

    bad = np.flatnonzero(out)
    shown = [f"{ids[int(k)]} (box centre {cx[k]:.6g}, {cy[k]:.6g})" for k in bad]
    degrees = bool(np.all((np.abs(cx[bad]) <= 180) & (np.abs(cy[bad]) <= 90)))
    hint = (
        "these are degrees (longitude, latitude): the file's CRS should be EPSG:4326"
        if degrees
        else "the coordinates are in another CRS than the file says"
    )
    kinds = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    raise InputError(
        f"{what}: {bad.size} of {len(data)} {kinds} lie outside the area of use of the "
        f"file's CRS {crs.to_string()} ({crs.name}): {rows_preview(shown, 3)}; {hint}. Fix the "
        "CRS the file declares (e.g. ogr2ogr -a_srs EPSG:4326 for degrees), then give the "
        "file again" + (f" ({config_key})." if config_key else ".")
    )


#: Suffixes of GeoJSON files: one without a ``"crs"`` member is read in WGS84
#: longitude/latitude (RFC 7946), whatever its coordinates are.
_GEOJSON_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons")


def beyond_degrees(data: Any) -> tuple[float, float, float, float] | None:
    """The bounds ``(xmin, ymin, xmax, ymax)`` of a GeoDataFrame in a geographic CRS whose
    coordinates cannot be degrees (beyond ±360 in x or ±90 in y: metres of a projected CRS
    labelled, or read by default, in degrees); None otherwise (a projected CRS, no CRS, no
    geometry)."""
    if data.crs is None or not data.crs.is_geographic or data.geometry.isna().all():
        return None
    x0, y0, x1, y1 = (float(v) for v in data.total_bounds)
    if np.isfinite([x0, y0, x1, y1]).all() and (
        max(abs(x0), abs(x1)) > 360 or max(abs(y0), abs(y1)) > 90
    ):
        return (x0, y0, x1, y1)
    return None


def check_geographic_range(data: Any, what: str, fix: str, source: Any = None) -> None:
    """Raise when a GeoDataFrame in a geographic CRS has coordinates that cannot be degrees
    (:func:`beyond_degrees`): metres (Lambert-93, UTM...) labelled with a CRS in degrees,
    most often a GeoJSON file that states no CRS. Run it on the layer as read, before any
    reprojection (which turns such coordinates into infinities, then "invalid polygons").

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        The layer, in the CRS its file declares.
    what : str
        The file, as messages name it.
    fix : str
        The fix the message ends with (the configuration key that states the file's CRS,
        or how to write the file with it).
    source : path, optional
        The file read: a GeoJSON one is said to be read in WGS84 for want of a ``"crs"``.

    Raises
    ------
    trajectoire.GridError
        One line: the file, its CRS, the bounds found and `fix`.
    """
    found = beyond_degrees(data)
    if found is None:
        return
    x0, y0, x1, y1 = found
    geojson = isinstance(source, str | PathLike) and str(source).lower().endswith(_GEOJSON_SUFFIXES)
    raise GridError(
        f"{what}: its CRS ({data.crs.to_string()}) is in degrees, but its coordinates run "
        f"from ({x0:.6g}, {y0:.6g}) to ({x1:.6g}, {y1:.6g}), beyond ±180/±90: metres of a "
        "projected CRS the file does not state"
        + (
            ' (a GeoJSON file without a "crs" member is read as WGS84 longitude/latitude, '
            "EPSG:4326)"
            if geojson
            else ""
        )
        + f". {fix}"
    )


def _crs_domain(crs: pyproj.CRS) -> tuple[float, float, float, float] | None:
    """The area of use of the projected `crs`, in its own coordinates (None without one)."""
    aou = crs.area_of_use
    if aou is None:
        return None
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(aou.west, aou.south, aou.east, aou.north, densify_pts=21)
    return float(x0), float(y0), float(x1), float(y1)


def _resolution_pair(resolution: Any, caller: str) -> tuple[float, float]:
    """``(dx, dy)`` of a `resolution` argument: a number, or a pair ``(dx, dy)`` (tuple,
    list or 1-D array; one element: square cells), each finite and > 0."""

    def expected() -> str:
        return (
            f"{caller}: resolution={resolution!r}; expected a cell size > 0 in CRS units "
            "(resolution=100.0 for 100 m cells) or a pair (dx, dy)"
        )

    if isinstance(resolution, str | bytes):
        try:
            values = [float(resolution)]
        except ValueError:
            raise GridError(expected() + ", as a number, not text.") from None
    elif isinstance(resolution, bool | np.bool_):
        raise GridError(expected() + ".")
    elif isinstance(resolution, tuple | list | np.ndarray):
        arr = np.asarray(resolution, dtype=object)
        if arr.ndim > 1 or arr.size not in (1, 2):
            got = f"a {arr.ndim}-D array" if arr.ndim > 1 else f"{arr.size} values"
            raise GridError(expected() + f", not {got}; give one number for square cells.")
        values = list(np.atleast_1d(arr))
    else:
        values = [resolution]
    out = []
    for v in values:
        if isinstance(v, bool | np.bool_):
            raise GridError(expected() + ".")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise GridError(expected() + f"; {v!r} is not a number.") from None
        if not (math.isfinite(f) and f > 0):
            raise GridError(
                f"{caller}: resolution must be a finite number > 0, got {f!r}; "
                "e.g. resolution=100.0 for 100 m cells."
            )
        out.append(f)
    return (out[0], out[-1])


#: Tolerance [degree] beyond [-180, 360] x [-90, 90] for the outer edges of a geographic
#: grid (cell centres on the poles put the edges half a cell beyond), at most this.
_DEGREE_EDGE_SLACK = 10.0


def _check_bounds_in_crs(
    bounds: tuple[float, float, float, float],
    crs: pyproj.CRS,
    res: float,
    *,
    what: str | None = None,
    fix: str | None = None,
) -> None:
    """Raise if `bounds` cannot be coordinates of `crs`.

    Projected bounds that look like degrees or lie far outside the CRS's area of use, and
    geographic bounds beyond [-180, 360] x [-90, 90] degrees (metres given with
    ``crs="EPSG:4326"``), by up to `res` (at most :data:`_DEGREE_EDGE_SLACK`) for cell edges.

    Parameters
    ----------
    bounds : (float, float, float, float)
        ``(xmin, ymin, xmax, ymax)``.
    crs : pyproj.CRS
        The CRS they are said to be in.
    res : float
        Cell size [CRS units].
    what : str, optional
        How the message names the bounds (``"bounds (x0, y0, x1, y1)"`` by default).
    fix : str, optional
        The fix the message ends with (the :meth:`Grid.from_bounds` one by default).

    Raises
    ------
    trajectoire.GridError
        One line: the bounds, the CRS, what they look like and `fix`.
    """
    x0, y0, x1, y1 = bounds
    shown = what or f"bounds {tuple(round(b, 6) for b in bounds)}"
    if crs.is_geographic:
        slack = min(abs(res), _DEGREE_EDGE_SLACK) if math.isfinite(res) else 0.0
        if x0 < -180 - slack or x1 > 360 + slack or y0 < -90 - slack or y1 > 90 + slack:
            raise GridError(
                f"{shown} are outside [-180, 360] x [-90, 90] degrees of {crs.name} "
                f"({crs.to_string()}): they look like metres of a projected CRS (e.g. "
                "EPSG:2154 for Lambert-93). "
                + (fix or "Pass crs='EPSG:2154' (the CRS the bounds are in), or bounds in degrees.")
            )
        return
    if not crs.is_projected:
        return
    looks_degrees = max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90
    domain = _crs_domain(crs)
    outside = False
    if domain is not None:
        ax0, ay0, ax1, ay1 = domain
        margin = max(ax1 - ax0, ay1 - ay0)
        outside = x1 < ax0 - margin or x0 > ax1 + margin or y1 < ay0 - margin or y0 > ay1 + margin
    if looks_degrees or outside:
        raise GridError(
            f"{shown} do not look like coordinates of "
            f"{crs.name} ({crs.axis_info[0].unit_name}): "
            + ("they look like degrees of longitude/latitude. " if looks_degrees else "")
            + (fix or "Pass bounds in the grid CRS, or give their CRS with bounds_crs='EPSG:4326'.")
        )


def _check_within_crs(
    bounds: tuple[float, float, float, float], crs: pyproj.CRS, what: str
) -> None:
    """Raise if the box `bounds` reaches beyond the projected `crs`'s area of use by more
    than the area's own size (where :func:`_check_bounds_in_crs` refuses a box lying
    wholly), as a buffer of thousands of km does: no map there means anything, and the
    grid is too large to hold."""
    domain = _crs_domain(crs) if crs.is_projected else None
    if domain is None:
        return
    ax0, ay0, ax1, ay1 = domain
    margin = max(ax1 - ax0, ay1 - ay0)
    x0, y0, x1, y1 = bounds
    beyond = max(ax0 - margin - x0, ay0 - margin - y0, x1 - ax1 - margin, y1 - ay1 - margin)
    if beyond > 0:
        raise GridError(
            f"{what} spans x {x0:.0f} to {x1:.0f}, y {y0:.0f} to {y1:.0f} m, reaching "
            f"{(beyond + margin) / 1000:.0f} km beyond the area of use of {crs.name} (x "
            f"{ax0:.0f} to {ax1:.0f}, y {ay0:.0f} to {ay1:.0f} m); expected a box within "
            f"{margin / 1000:.0f} km of it: lower the buffer"
        )


def check_run_cells(grid: Grid, max_cells: int = RUN_MAX_CELLS) -> None:
    """Refuse the grid of a run when it has more than `max_cells` cells, before anything
    of its size is allocated.

    Parameters
    ----------
    grid : Grid
        The run's grid.
    max_cells : int, default :data:`RUN_MAX_CELLS`
        The most cells a run may have.

    Raises
    ------
    trajectoire.GridError
        `grid` has more cells: the message gives its shape, its cells and what one float64
        grid of it takes [GiB].
    """
    if grid.size > max_cells:

        def spaced(n: int) -> str:
            return f"{n:,}".replace(",", " ")

        raise GridError(
            f"the grid has {grid.ny} x {grid.nx} = {spaced(grid.size)} cells of {grid.dx:g} m "
            f"({grid.size * 8 / 2**30:.1f} GiB a float64 map, and the inventory holds one per "
            f"sector and pollutant), more than the {spaced(max_cells)} a run holds"
        )
