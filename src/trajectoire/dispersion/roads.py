"""Roads as line sources (RLINE-like) and street canyons (OSPM-like) at receptor points.

The run grids road emissions into cells and disperses them as area sources: the value of a
cell is the cell-scale mean, with no roadside peak. This module computes, at given points
(stations, street-side receptors):

* :func:`line_concentration_hourly`, :func:`line_concentration_annual`: the concentration of
  road links treated as finite line sources with initial vertical and lateral spread
  (Snyder et al. 2013), hour by hour or from a year's frequency table;
* :func:`near_road_increment`: what the gridded representation misses at a point, the
  line-source value minus the value the run's own kernel gives at the point's cell for the
  same links gridded the run's way (the near-road subgrid increment);
* :func:`street_canyon_increment`: the concentration in a street canyon from the street's
  own traffic, direct plume plus recirculation (Berkowicz 2000; Hertel and Berkowicz 1989);
* :func:`roadside_values`: both for a table of stations or streets, per year and pollutant,
  added to the run's value at the station's cell.

Method, equations and checks: ``docs/roads.md``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from trajectoire._kernels import rline as _rl
from trajectoire._kernels.plume import NO_LID
from trajectoire._validate import did_you_mean, rows_preview
from trajectoire.dispersion.chemistry import nox_to_no2
from trajectoire.dispersion.hourly import _hours
from trajectoire.dispersion.longterm import _table, annual_kernel, table_arrays
from trajectoire.dispersion.plume import _anemometer_height, _profile_exponents, _scheme
from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.geo.grid import Grid
from trajectoire.geo.rasterize import lines_to_grid
from trajectoire.meteo.classes import CALM_THRESHOLD
from trajectoire.tables import data_lines, keyword_options, numeric_column, with_options

__all__ = [
    "ROAD_DEFAULTS",
    "RoadLinkOptions",
    "line_concentration_annual",
    "line_concentration_hourly",
    "near_road_increment",
    "roadside_values",
    "street_canyon_increment",
    "traffic_turbulence",
]

#: Defaults of the road line sources: release height [m] (the run's F_RoadTransport
#: height in the sample), initial sigma_z [m] (RLINE, Snyder et al. 2013: 1.5-2 m for the
#: vehicle wake), road width [m] (lateral initial spread 0.5 W |cos|, as in RLINE).
ROAD_DEFAULTS = {"release_height": 1.0, "initial_sigma_z": 1.5, "width": 10.0}

_PER_KM_TO_G_PER_M_S = 1e6 / (365.25 * 86400.0) / 1000.0  # t yr-1 km-1 -> g m-1 s-1


# --------------------------------------------------------------------------- inputs


def _number(value: Any, what: str, *, low: float = 0.0, strict: bool = False) -> float:
    """A finite scalar >= low (> low with `strict`), else a one-line InputError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}={value!r}: expected a number.") from None
    if not math.isfinite(v) or v < low or (strict and v == low):
        sign = ">" if strict else ">="
        raise InputError(f"{what}={value!r}: expected a finite number {sign} {low:g}.")
    return v


def _points(x: npt.ArrayLike, y: npt.ArrayLike, what: str = "receptors") -> tuple[Any, Any]:
    rx = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
    ry = np.atleast_1d(np.asarray(y, dtype=float)).ravel()
    if rx.shape != ry.shape:
        raise InputError(f"{what}: x has {rx.size} values and y {ry.size}; expected one pair each.")
    bad = np.flatnonzero(~(np.isfinite(rx) & np.isfinite(ry)))
    if bad.size:
        raise InputError(f"{what}: position {int(bad[0])} is not finite; expected x, y [m].")
    return rx, ry


def _link_values(roads: Any, value: Any, what: str) -> Any:
    """One float per link: a column name of `roads`, a scalar or an array; checked >= 0."""
    n = len(roads)
    if isinstance(value, str):
        if value not in roads.columns:
            raise MissingVariableError(
                f"roads: no column {value!r} for {what}; columns are {list(roads.columns)}."
            )
        arr = pd.to_numeric(roads[value], errors="coerce").to_numpy(float)
    else:
        try:
            arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)
        except ValueError:
            raise InputError(
                f"roads, {what}: got {np.size(value)} value(s) for {n} links; expected a "
                "column name, one number, or one number per link."
            ) from None
    ids = list(roads["road_id"]) if "road_id" in roads.columns else list(range(n))
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise InputError(
            f"roads, link {ids[int(bad[0])]!r}, {what}: {arr[bad[0]]!r}; expected a finite "
            "value >= 0."
        )
    return arr


def _segments(roads: Any, emission: Any, links: _Links) -> dict[str, np.ndarray]:
    """Straight segments of the links: end points [m], emission [g m-1 s-1], width, sigma_z0."""
    if not hasattr(roads, "geometry"):
        raise InputError(
            f"roads: expected a GeoDataFrame of LineStrings, got {type(roads).__name__}."
        )
    crs = getattr(roads, "crs", None)
    if crs is not None and not crs.is_projected:
        raise InputError(
            f"roads: CRS {crs.name!r} is not projected; reproject to metres (EPSG:2154)."
        )
    q = _link_values(roads, emission, "emission [t yr-1 km-1]") * _PER_KM_TO_G_PER_M_S
    w = _link_values(roads, links.width, "width [m]")
    s0 = _link_values(roads, links.initial_sigma_z, "initial_sigma_z [m]")
    cols: dict[str, list[float]] = {k: [] for k in ("x0", "y0", "x1", "y1", "q", "w", "s0")}
    cols["link"] = []
    for i, geom in enumerate(roads.geometry):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type not in ("LineString", "MultiLineString"):
            raise InputError(
                f"roads, row {i}: geometry {geom.geom_type}; expected LineString or "
                "MultiLineString."
            )
        parts = geom.geoms if geom.geom_type == "MultiLineString" else [geom]
        for part in parts:
            c = np.asarray(part.coords, dtype=float)[:, :2]
            for a, b in zip(c[:-1], c[1:], strict=True):
                cols["x0"].append(a[0])
                cols["y0"].append(a[1])
                cols["x1"].append(b[0])
                cols["y1"].append(b[1])
                cols["q"].append(q[i])
                cols["w"].append(w[i])
                cols["s0"].append(s0[i])
                cols["link"].append(i)
    return {k: np.asarray(v, dtype=np.int64 if k == "link" else float) for k, v in cols.items()}


def _clip(seg: dict[str, np.ndarray], box: tuple[float, float, float, float]) -> Any:
    """The parts of the segments inside `box` (xmin, ymin, xmax, ymax) (Liang-Barsky)."""
    xmin, ymin, xmax, ymax = box
    x0, y0 = seg["x0"], seg["y0"]
    dx, dy = seg["x1"] - x0, seg["y1"] - y0
    t0 = np.zeros(x0.size)
    t1 = np.ones(x0.size)
    keep = np.ones(x0.size, dtype=bool)
    for p, qq in ((-dx, x0 - xmin), (dx, xmax - x0), (-dy, y0 - ymin), (dy, ymax - y0)):
        par = p == 0
        keep &= ~(par & (qq < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(par, 0.0, qq / np.where(par, 1.0, p))
        t0 = np.where(~par & (p < 0), np.maximum(t0, r), t0)
        t1 = np.where(~par & (p > 0), np.minimum(t1, r), t1)
    keep &= t1 > t0
    out = {k: v[keep] for k, v in seg.items()}
    a, b = t0[keep], t1[keep]
    out["x0"], out["x1"] = x0[keep] + a * dx[keep], x0[keep] + b * dx[keep]
    out["y0"], out["y1"] = y0[keep] + a * dy[keep], y0[keep] + b * dy[keep]
    return out


# --------------------------------------------------------------------------- met cases


def _table_cases(
    freq_year: xr.Dataset, code: int, release_height: float, sub_directions: int
) -> tuple[np.ndarray, ...]:
    """Met cases of a year's table: directions, weights f <1/u_h>, class, lid.

    Speed classes are merged (the line-source value is linear in 1/u); each direction
    sector is spread over ``2 m`` sub-directions with the hat weights of the run's sector
    smoothing (linear between adjacent sector centres), ``m = sub_directions``.
    """
    table = _table(freq_year)
    f, iu, zi, cls_of = table_arrays(table)
    p = _profile_exponents(code)
    zref = _anemometer_height(table)
    dirs = np.asarray(table["direction"].values, dtype=float)
    width = 360.0 / dirs.size
    m = int(sub_directions)
    offs = (np.arange(2 * m) + 0.5) / m * width - width
    hat = 1.0 - np.abs(offs) / width
    hat /= hat.sum()
    wd, wt, cl, zz = [], [], [], []
    for c in range(f.shape[2]):
        k = int(cls_of[c])
        fac = (zref / max(release_height, zref)) ** p[k]
        for d in range(f.shape[0]):
            fs = f[d, :, c]
            w = float((fs * iu[d, :, c]).sum()) * fac
            if w <= 0:
                continue
            zmean = zi[d, :, c]
            ok = np.isfinite(zmean) & (fs > 0)
            lid = float((fs[ok] * zmean[ok]).sum() / fs[ok].sum()) if ok.any() else np.inf
            for o, hw in zip(offs, hat, strict=True):
                wd.append((dirs[d] + o) % 360.0)
                wt.append(w * hw)
                cl.append(k)
                zz.append(lid)
    zarr = np.asarray(zz, dtype=float)
    return (
        np.asarray(wd, dtype=float),
        np.asarray(wt, dtype=float),
        np.asarray(cl, dtype=np.int64),
        np.where(np.isfinite(zarr), zarr, NO_LID),
    )


class RoadLinkOptions(TypedDict, total=False):
    """The road-link keywords of :func:`line_concentration_hourly`,
    :func:`line_concentration_annual`, :func:`near_road_increment` and
    :func:`roadside_values`: how the links are released and where they are received.

    Each is optional (defaults below, :data:`ROAD_DEFAULTS`); a keyword outside the group
    and the function's own raises :class:`TypeError` naming it.

    Attributes
    ----------
    width : str, float or array-like
        Road width [m]: a column of the roads, one value, or one value per link; default
        10 m. Initial lateral spread ``0.5 W |cos(angle between road and wind)|`` (RLINE,
        Snyder et al. 2013).
    initial_sigma_z : str, float or array-like
        Initial vertical spread [m] (column, scalar or per link); default 1.5 m (the
        vehicle wake; Snyder et al. 2013).
    release_height : float
        Release height of the links [m], >= 0; default 1.0.
    receptor_height : float
        Receptor height [m], >= 0; default 1.5.
    sigma : str
        Dispersion-coefficient scheme (``"briggs-rural"``, ``"briggs-urban"``, ``"pgt"``);
        default ``"briggs-urban"``.
    """

    width: Any
    initial_sigma_z: Any
    release_height: float
    receptor_height: float
    sigma: str


@dataclasses.dataclass(frozen=True)
class _Links:
    """The :class:`RoadLinkOptions` of one call, defaults applied (None: the default) and
    heights and scheme checked (`code`: the scheme's kernel code); width and
    initial_sigma_z are checked per link by :func:`_segments`."""

    width: Any = ROAD_DEFAULTS["width"]
    initial_sigma_z: Any = ROAD_DEFAULTS["initial_sigma_z"]
    release_height: float = ROAD_DEFAULTS["release_height"]
    receptor_height: float = 1.5
    sigma: str = "briggs-urban"
    code: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        for name in ("width", "initial_sigma_z"):  # None was the default before the group
            if getattr(self, name) is None:
                object.__setattr__(self, name, ROAD_DEFAULTS[name])
        for name in ("release_height", "receptor_height"):
            object.__setattr__(self, name, _number(getattr(self, name), name))
        object.__setattr__(self, "code", _scheme(self.sigma))

    @classmethod
    def of(cls, caller: str, options: RoadLinkOptions) -> _Links:
        """The options of a call of `caller`, an unknown keyword raising TypeError."""
        keyword_options(RoadLinkOptions, caller, options)
        return cls(**options)


#: The defaults of :class:`RoadLinkOptions` (those of :class:`_Links`).
_LINK_DEFAULTS = {f.name: f.default for f in dataclasses.fields(_Links) if f.init}


# --------------------------------------------------------------------------- line sources


@with_options(RoadLinkOptions, _LINK_DEFAULTS)
def line_concentration_hourly(
    roads: Any,
    met: xr.Dataset,
    *,
    emission: Any,
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    calm_threshold: float = CALM_THRESHOLD,
    **links: Unpack[RoadLinkOptions],
) -> xr.DataArray:
    """Hourly concentration of road links as finite line sources at receptor points.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Road links (LineString or MultiLineString) in a projected CRS in metres, the
        receptors' CRS.
    met : xarray.Dataset
        Hourly meteorology with ``wind_speed`` [m s-1 at the anemometer], ``wind_direction``
        [degree, from], ``stability`` (:func:`trajectoire.meteo.add_stability`) and
        optionally ``mixing_height`` [m].
    emission : str or array-like
        Emission of each link per length [t yr-1 km-1]: a column of `roads` (the per-km
        pollutant columns of :func:`trajectoire.inventory.read_roads`) or one value per link.
    receptors_x, receptors_y : array-like
        Receptor positions [m].
    calm_threshold : float, default CALM_THRESHOLD (0.5)
        Wind speeds below it are raised to it [m s-1].
    **links
        Road-link keywords (``width``, ``initial_sigma_z``, ``release_height``,
        ``receptor_height``, ``sigma``): see :class:`RoadLinkOptions`.

    Returns
    -------
    xarray.DataArray
        ``concentration(time, receptor)`` [ug m-3]; NaN for hours without wind or class.
    """
    how = _Links.of("line_concentration_hourly", links)
    for name in ("wind_speed", "wind_direction", "time"):
        if name not in met:
            raise MissingVariableError(
                f"met: no {name!r}; expected hourly meteorology (trajectoire.meteo.read_meteo)."
            )
    if "stability" not in met:
        raise MissingVariableError(
            "met: no 'stability' variable; call trajectoire.meteo.add_stability(met) first."
        )
    calm = _number(calm_threshold, "calm_threshold", strict=True)
    rx, ry = _points(receptors_x, receptors_y)
    seg = _segments(roads, emission, how)
    valid, _calm, uu, wdd, cls, zi, _ta = _hours(met, calm, temperature=False)
    h, zr, code = how.release_height, how.receptor_height, how.code
    p = _profile_exponents(code)
    fac = (_anemometer_height(met) / max(h, _anemometer_height(met))) ** p[cls]
    inv_u = np.where(valid, fac / uu, 0.0)
    out = np.zeros((uu.size, rx.size))
    _rl.lines_hourly(
        seg["x0"], seg["y0"], seg["x1"], seg["y1"], seg["q"], np.full(seg["q"].size, h),
        seg["s0"], seg["w"], rx, ry, np.full(rx.size, zr), wdd, inv_u, cls, zi, code, out,
    )  # fmt: skip
    out *= 1e6
    out[~valid] = np.nan
    return xr.DataArray(
        out,
        dims=("time", "receptor"),
        coords={"time": met["time"].values, "receptor": np.arange(rx.size)},
        name="concentration",
        attrs={"units": "ug m-3", "long_name": "hourly concentration from road line sources"},
    )


@with_options(RoadLinkOptions, _LINK_DEFAULTS)
def line_concentration_annual(
    roads: Any,
    freq_year: xr.Dataset,
    *,
    emission: Any,
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    sub_directions: int = 3,
    **links: Unpack[RoadLinkOptions],
) -> xr.DataArray:
    """Annual mean concentration of road links as line sources, from a frequency table.

    Parameters
    ----------
    roads, emission, receptors_x, receptors_y
        As :func:`line_concentration_hourly`.
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes` (the run's table).
    sub_directions : int, default 3
        Each direction sector is spread over ``2 * sub_directions`` directions with the
        hat weights of the run's sector smoothing (linear between adjacent sector centres).
    **links
        Road-link keywords: see :class:`RoadLinkOptions`.

    Returns
    -------
    xarray.DataArray
        ``concentration(receptor)`` [ug m-3].

    Notes
    -----
    ``C = sum_k f_k <1/u>_k (z_ref / max(h, z_ref))^p_k  sum_j q_j I_jk``, the line integral
    ``I`` of :mod:`trajectoire._kernels.rline` per class ``k``: the long-term formula of the
    run's kernels (``docs/dispersion.md``) with the sector average replaced by the
    line integral along each sub-direction. Speed classes merge (C is linear in 1/u).
    """
    how = _Links.of("line_concentration_annual", links)
    if int(sub_directions) < 1:
        raise InputError(f"sub_directions={sub_directions!r}; expected an integer >= 1.")
    rx, ry = _points(receptors_x, receptors_y)
    seg = _segments(roads, emission, how)
    out = _annual_at(seg, freq_year, rx, ry, how, int(sub_directions)).sum(axis=1)
    return xr.DataArray(
        out,
        dims=("receptor",),
        coords={"receptor": np.arange(rx.size)},
        name="concentration",
        attrs={"units": "ug m-3", "long_name": "annual mean concentration from road lines"},
    )


def _annual_at(
    seg: dict[str, np.ndarray],
    freq_year: xr.Dataset,
    rx: np.ndarray,
    ry: np.ndarray,
    links: _Links,
    sub: int,
) -> np.ndarray:
    """``(receptor, segment)`` annual mean [ug m-3] of each segment at each receptor."""
    h, zr, code = links.release_height, links.receptor_height, links.code
    wd, wt, cl, zz = _table_cases(freq_year, code, h, sub)
    out = np.zeros((rx.size, seg["q"].size))
    if seg["q"].size == 0:
        return out
    _rl.lines_at_receptors(
        seg["x0"], seg["y0"], seg["x1"], seg["y1"], seg["q"], np.full(seg["q"].size, h),
        seg["s0"], seg["w"], rx, ry, np.full(rx.size, zr), wd, np.ones(wd.size), cl, zz, wt,
        code, out,
    )  # fmt: skip
    return out * 1e6


def _gridded_at(
    seg: dict[str, np.ndarray],
    grid: Grid,
    kernel: np.ndarray,
    rx: float,
    ry: float,
    box: tuple[float, float, float, float],
) -> np.ndarray:
    """Per segment, the run's value at the cell of (rx, ry) of the segment gridded the
    run's way (length per cell, then the annual kernel) [ug m-3]."""
    from shapely.geometry import LineString

    out = np.zeros(seg["q"].size)
    res = grid.dx
    i0 = max(int(math.floor((box[0] - grid.xmin) / res)) - 1, 0)
    i1 = min(int(math.ceil((box[2] - grid.xmin) / res)) + 1, grid.nx)
    j0 = max(int(math.floor((grid.ymax - box[3]) / grid.dy)) - 1, 0)
    j1 = min(int(math.ceil((grid.ymax - box[1]) / grid.dy)) + 1, grid.ny)
    if i1 <= i0 or j1 <= j0 or seg["q"].size == 0:
        return out
    sub = Grid(
        grid.xmin + i0 * res, grid.ymax - j1 * grid.dy, res, grid.dy, i1 - i0, j1 - j0, grid.crs
    )
    lines = [
        LineString([(a, b), (c, d)])
        for a, b, c, d in zip(seg["x0"], seg["y0"], seg["x1"], seg["y1"], strict=True)
    ]
    # t yr-1 per cell: g m-1 s-1 -> t yr-1 m-1 times the length in each cell
    per_m = seg["q"] / _PER_KM_TO_G_PER_M_S / 1000.0
    em = lines_to_grid(lines, sub, values=np.diag(per_m), what="roads")
    if em.ndim == 2:
        em = em[None]
    ic = int(math.floor((rx - sub.xmin) / res))
    jc = int(math.floor((sub.ymax - ry) / sub.dy))
    m = kernel.shape[0] // 2
    rows = np.arange(sub.ny)[:, None]
    cols = np.arange(sub.nx)[None, :]
    di = np.clip(jc - rows + m, 0, kernel.shape[0] - 1)
    dj = np.clip(ic - cols + m, 0, kernel.shape[1] - 1)
    weights = kernel[di, dj]
    return np.asarray((em * weights[None]).sum(axis=(1, 2)))


def _window_kernel(
    freq_year: xr.Dataset, grid: Grid, rad: float, links: _Links, s0: float
) -> np.ndarray:
    """The run's annual kernel, large enough for every cell of a window of half side `rad`."""
    return np.asarray(
        annual_kernel(
            freq_year,
            resolution=grid.dx,
            radius=(rad + 2.0 * grid.dx) * math.sqrt(2.0) + grid.dx,
            release_height=links.release_height,
            receptor_height=links.receptor_height,
            sigma=links.sigma,
            initial_sigma_z=s0,
        ).values
    )


@with_options(RoadLinkOptions, _LINK_DEFAULTS)
def near_road_increment(
    roads: Any,
    freq_year: xr.Dataset,
    grid: Grid,
    *,
    emission: Any,
    receptors_x: npt.ArrayLike,
    receptors_y: npt.ArrayLike,
    radius: float = 1000.0,
    grid_initial_sigma_z: float = 0.0,
    sub_directions: int = 3,
    **links: Unpack[RoadLinkOptions],
) -> pd.DataFrame:
    """Near-road subgrid increment: line-source value minus the run's gridded value.

    For each receptor, the links inside the square of half side `radius` around it (clipped
    to it) are (a) dispersed as line sources (:func:`line_concentration_annual`) at the
    receptor and (b) gridded by length per cell (:func:`trajectoire.inventory.grid_roads`'
    rule) and dispersed with the run's annual kernel (:func:`annual_kernel` with the same
    table, scheme and heights) to the centre of the receptor's cell, the value the run
    reports there. ``increment = line - grid`` is what the grid misses at the point; added
    to the run's value at the cell it gives a roadside value. Further links are left to the
    grid (their line and gridded values converge a few cells away).

    Parameters
    ----------
    roads, freq_year, emission, receptors_x, receptors_y, sub_directions
        As :func:`line_concentration_annual`.
    grid : trajectoire.Grid
        The run's grid (its cells and resolution).
    radius : float, default 1000.0
        Half side [m] of the window of links around each receptor, > 2 cells.
    grid_initial_sigma_z : float, default 0.0
        The run's ``[dispersion] initial_sigma_z`` of the road sector [m] for (b).
    **links
        Road-link keywords, for (a) and (b): see :class:`RoadLinkOptions`.

    Returns
    -------
    pandas.DataFrame
        One row per receptor: ``x``, ``y``, ``line``, ``grid``, ``increment`` [ug m-3].
    """
    how = _Links.of("near_road_increment", links)
    if not isinstance(grid, Grid):
        raise InputError(f"grid: expected a trajectoire.Grid, got {type(grid).__name__}.")
    rad = _number(radius, "radius", strict=True)
    if rad < 2 * grid.dx:
        raise InputError(f"radius={radius!r} m; expected at least two cells ({2 * grid.dx} m).")
    s0 = _number(grid_initial_sigma_z, "grid_initial_sigma_z")
    rx, ry = _points(receptors_x, receptors_y)
    seg = _segments(roads, emission, how)
    kernel = _window_kernel(freq_year, grid, rad, how, s0)
    line = np.zeros(rx.size)
    gridded = np.zeros(rx.size)
    for i in range(rx.size):
        box = (rx[i] - rad, ry[i] - rad, rx[i] + rad, ry[i] + rad)
        local = _clip(seg, box)
        line[i] = _annual_at(
            local, freq_year, rx[i : i + 1], ry[i : i + 1], how, int(sub_directions)
        ).sum()
        gridded[i] = _gridded_at(local, grid, kernel, rx[i], ry[i], box).sum()
    return pd.DataFrame(
        {"x": rx, "y": ry, "line": line, "grid": gridded, "increment": line - gridded}
    )


# --------------------------------------------------------------------------- street canyon

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def traffic_turbulence(
    vehicles_per_day: npt.ArrayLike,
    width: float,
    *,
    speed: float = 30.0 / 3.6,
    vehicle_area: float = 15.0,
    drag: float = 0.3,
) -> np.ndarray:
    """Traffic-produced turbulence sigma_wt [m s-1] of a street (OSPM's parameterisation).

    ``sigma_wt = b sqrt(N V S / W)``: ``N`` vehicles per second, speed ``V`` [m s-1],
    horizontal area ``S`` [m2] a vehicle occupies, street width ``W`` [m], ``b`` an
    aerodynamic drag coefficient (Hertel and Berkowicz 1989; Berkowicz 2000).

    Parameters
    ----------
    vehicles_per_day : array-like
        Traffic [vehicles day-1] (AADT), >= 0.
    width : float
        Street width [m], > 0.
    speed : float, default 8.33
        Vehicle speed [m s-1] (30 km h-1).
    vehicle_area : float, default 15.0
        [m2] (a car with its share of the lane).
    drag : float, default 0.3
        ``b`` [1].

    Returns
    -------
    numpy.ndarray
        sigma_wt [m s-1].
    """
    n = np.asarray(vehicles_per_day, dtype=float)
    if (~np.isfinite(n)).any() or (n < 0).any():
        raise InputError("traffic_turbulence: vehicles_per_day must be finite and >= 0.")
    w = _number(width, "width", strict=True)
    v = _number(speed, "speed")
    s = _number(vehicle_area, "vehicle_area")
    b = _number(drag, "drag")
    return np.asarray(b * np.sqrt(n / 86400.0 * v * s / w))


def _direct(q_area: Any, sw: Any, ub: Any, path: Any, h0: float) -> Any:
    """``sqrt(2/pi) q_a / sigma_w ln(1 + sigma_w L / (u_b h0))`` [g m-3] (crosswind lines)."""
    return _SQRT_2_OVER_PI * q_area / sw * np.log1p(sw * path / (ub * h0))


def street_canyon_increment(
    wind_speed: npt.ArrayLike,
    wind_direction: npt.ArrayLike,
    *,
    emission: float,
    width: float,
    building_height: float,
    orientation: float,
    traffic_turbulence: float = 0.0,
    roughness_length: float = 0.5,
    anemometer_height: float = 10.0,
    street_roughness: float = 0.6,
    initial_height: float = 2.0,
    street_length: float = 200.0,
    turbulence_ratio: float = 0.1,
    calm_threshold: float = CALM_THRESHOLD,
) -> xr.DataArray:
    """Street-canyon concentration from the street's own traffic (OSPM-like), per hour.

    Direct plume plus recirculation on both sides of a street canyon (Berkowicz 2000;
    Hertel and Berkowicz 1989), for given winds above the city.

    Parameters
    ----------
    wind_speed : array-like
        Wind speed at the anemometer [m s-1] (hours, or any 1-D set of cases).
    wind_direction : array-like
        Wind direction [degree, from], same length.
    emission : float
        Emission of the street per length [t yr-1 km-1], >= 0.
    width : float
        Street width W between the facades [m], > 0.
    building_height : float
        Building height H [m], > ``street_roughness``.
    orientation : float
        Bearing of the street axis [degree from north, 0-360]; ``left`` and ``right`` are
        the facades on either side looking along this bearing.
    traffic_turbulence : float, default 0.0
        sigma_wt [m s-1] (:func:`traffic_turbulence`), >= 0.
    roughness_length : float, default 0.5
        Urban roughness [m] from the anemometer to roof level (log profile).
    anemometer_height : float, default 10.0
        [m].
    street_roughness : float, default 0.6
        Roughness [m] of the log profile from roof to street level.
    initial_height : float, default 2.0
        Initial vertical spread h0 [m] of the traffic plume.
    street_length : float, default 200.0
        Longest plume path along the street [m] (the path is W / |sin phi| for a wind at
        angle phi to the axis: capped here for winds along the street).
    turbulence_ratio : float, default 0.1
        sigma_w / u of the wind-generated turbulence [1].
    calm_threshold : float, default CALM_THRESHOLD (0.5)
        Wind speeds below it are raised to it [m s-1].

    Returns
    -------
    xarray.DataArray
        ``concentration(case, side)`` [ug m-3], ``side`` = ``left``, ``right``; NaN where
        the wind is missing. Its mean over the cases is the annual mean for hourly input.

    Notes
    -----
    Roof wind ``u_t = u ln(H/z0)/ln(z_ref/z0)``; street-level wind
    ``u_b = u_t ln(h0/z0s)/ln(H/z0s)``; ``sigma_w = sqrt((a u_b)^2 + sigma_wt^2)`` (direct)
    and ``sigma_v = sqrt((a u_t)^2 + sigma_wt^2)`` (ventilation), ``a`` =
    `turbulence_ratio`. Vortex length along the wind ``L_r = 2 H min(1, u_t / 2)``. With
    ``s = |sin phi|``, path across the street ``P = min(W / s, street_length)``, its part in
    the vortex ``P_r = s min(L_r, P)``, emission per area ``q_a = q / W`` and
    ``D(L) = sqrt(2/pi) q_a / sigma_w ln(1 + sigma_w L / (u_b h0))``:

    * leeward facade: ``D(P_r) + (1 - s) (D(P) - D(P_r)) + C_r``,
    * windward facade: ``D(P - P_r) + C_r``,
    * recirculation ``C_r = q_a l_r / (sigma_v L_t)`` with ``l_r = s P_r`` the vortex's
      cross-street extent and ``L_t = min(W, L_r / 2)`` its top edge.

    Along the street (``s = 0``) both facades get ``D(P)`` and no recirculation; across it
    (``s = 1``) the leeward facade gets the vortex emissions, the windward one those beyond
    the vortex (OSPM). ``docs/roads.md`` gives the derivation and the limits.
    """
    q = _number(emission, "emission") * _PER_KM_TO_G_PER_M_S
    w = _number(width, "width", strict=True)
    z0s = _number(street_roughness, "street_roughness", strict=True)
    hb = _number(building_height, "building_height", strict=True)
    if hb <= z0s:
        raise InputError(
            f"building_height={building_height!r} m; expected above street_roughness "
            f"({z0s} m): this is not a street canyon."
        )
    beta = _number(orientation, "orientation")
    swt = _number(traffic_turbulence, "traffic_turbulence")
    z0 = _number(roughness_length, "roughness_length", strict=True)
    zref = _number(anemometer_height, "anemometer_height", strict=True)
    if zref <= z0 or hb <= z0:
        raise InputError(
            f"roughness_length={roughness_length!r} m: expected below the anemometer "
            f"({zref} m) and the buildings ({hb} m)."
        )
    h0 = _number(initial_height, "initial_height", strict=True)
    lmax = _number(street_length, "street_length", strict=True)
    a = _number(turbulence_ratio, "turbulence_ratio", strict=True)
    calm = _number(calm_threshold, "calm_threshold", strict=True)
    u = np.atleast_1d(np.asarray(wind_speed, dtype=float)).ravel()
    wd = np.atleast_1d(np.asarray(wind_direction, dtype=float)).ravel()
    if u.shape != wd.shape:
        raise InputError(
            f"wind_speed has {u.size} values and wind_direction {wd.size}; expected one each."
        )
    if (u[np.isfinite(u)] < 0).any():
        raise InputError("wind_speed: negative value(s); expected >= 0 [m s-1].")
    valid = np.isfinite(u) & np.isfinite(wd)
    uu = np.maximum(np.where(valid, u, calm), calm)
    ut = uu * math.log(hb / z0) / math.log(zref / z0)
    ub = ut * math.log(max(h0, 1.001 * z0s) / z0s) / math.log(hb / z0s)
    sw = np.sqrt((a * ub) ** 2 + swt**2)
    sv = np.sqrt((a * ut) ** 2 + swt**2)
    # wind travel direction relative to the street's left normal (bearing beta - 90)
    phi = np.radians(np.where(valid, wd, 0.0) + 180.0 - (beta - 90.0))
    cross = np.cos(phi)  # > 0: roof wind blows towards the left facade
    s = np.abs(cross)
    lr = 2.0 * hb * np.minimum(1.0, ut / 2.0)
    with np.errstate(divide="ignore"):
        path = np.minimum(np.where(s > 0, w / np.where(s > 0, s, 1.0), np.inf), lmax)
    pr = s * np.minimum(lr, path)
    qa = q / w
    d_all = _direct(qa, sw, ub, path, h0)
    d_vortex = _direct(qa, sw, ub, pr, h0)
    cr = qa * (s * pr) / (sv * np.minimum(w, lr / 2.0))
    leeward = d_vortex + (1.0 - s) * (d_all - d_vortex) + cr
    windward = _direct(qa, sw, ub, path - pr, h0) + cr
    # roof wind towards the left facade: the right facade is the leeward one
    right = np.where(cross > 0, leeward, windward)
    left = np.where(cross > 0, windward, leeward)
    out = np.stack([left, right], axis=1) * 1e6
    out[~valid] = np.nan
    return xr.DataArray(
        out,
        dims=("case", "side"),
        coords={"case": np.arange(u.size), "side": ["left", "right"]},
        name="street_canyon_increment",
        attrs={
            "units": "ug m-3",
            "long_name": "street-canyon concentration from the street's own traffic (OSPM-like)",
        },
    )


# --------------------------------------------------------------------------- run level

#: The canyon columns of a point and what each holds: (units, lowest value, strictly above).
_CANYON_NUMBERS = {
    "canyon_width": ("m", 0.0, True),
    "building_height": ("m", 0.0, True),
    "orientation": ("degree", -math.inf, False),
}


def check_canyon_columns(
    table: pd.DataFrame, what: str, ids: list[str], in_file: bool = False
) -> None:
    """Check the street-canyon columns of the points where they are given, in place.

    Numbers (empty cells allowed: a point without a canyon), widths and heights > 0, all
    four columns or none on each row, ``side`` one of ``left`` / ``right``; each bad value
    is named with its line (`in_file`: `table` read by :func:`trajectoire.tables.read_table`)
    or row, its id and its column. A column whose name is close to one of them
    (``canyon``, ``building_heigth``) is warned about: it would be left out and the point
    taken as an open road. The numeric columns are replaced by their float64 values.

    Parameters
    ----------
    table : pandas.DataFrame
        The points (``id`` or ``station_id``, ``x``, ``y`` and the canyon columns).
    what : str
        The points' name in messages (the file, or ``"points"``).
    ids : list of str
        The points' ids, in row order.
    in_file : bool, default False
        Name rows by file line rather than by row number.

    Raises
    ------
    trajectoire.InputError
        A bad value, a row with some of the four columns only, a side that is not one.
    """
    for col, (units, low, strict) in _CANYON_NUMBERS.items():
        if col not in table.columns:
            continue
        values = numeric_column(table, col, what=what, units=units, ids=ids, allow_nan=True,
                                lines=in_file)  # fmt: skip
        bad = np.flatnonzero(np.isfinite(values) & ((values <= low) if strict else (values < low)))
        if bad.size:
            places = data_lines(table, bad) if in_file else [f"row {i}" for i in bad]
            shown = [f"{values[i]:g} at {p} ({ids[i]})" for i, p in zip(bad, places, strict=True)]
            raise InputError(
                f"{what}, column {col!r}: {rows_preview(shown, 5)}; expected a number > {low:g} "
                f"{units} (or an empty cell for a point without a street canyon). Fix the file."
            )
        table[col] = values
    canyon = [*_CANYON_NUMBERS, "side"]
    given = [c for c in canyon if c in table.columns]
    if given:  # all four or none, and a side that is one: said with the file and the line
        filled = pd.DataFrame({c: ~_blank(table[c]) for c in given})
        for c in canyon:
            if c not in filled:
                filled[c] = False
        partial = np.flatnonzero(filled.any(axis=1).to_numpy() & ~filled.all(axis=1).to_numpy())
        if partial.size:
            i = int(partial[0])
            empty = [c for c in canyon if not filled[c].iloc[i]]
            place = data_lines(table, [i])[0] if in_file else f"row {i}"
            raise InputError(
                f"{what}: {place} ({ids[i]}): street-canyon column(s) {empty} empty or absent "
                f"while {[c for c in canyon if c not in empty]} are given"
                + (f" (and {partial.size - 1} more point(s))" if partial.size > 1 else "")
                + f"; give all of {canyon} for a point in a canyon, or none for an open road."
            )
        if "side" in table.columns:
            side = table["side"].where(~_blank(table["side"]))
            wrong = np.flatnonzero(
                side.notna().to_numpy() & ~side.isin(["left", "right"]).to_numpy()
            )
            if wrong.size:
                places = data_lines(table, wrong) if in_file else [f"row {i}" for i in wrong]
                shown = [
                    f"{side.iloc[i]!r} at {p} ({ids[i]})"
                    for i, p in zip(wrong, places, strict=True)
                ]
                raise InputError(
                    f"{what}, column 'side': {rows_preview(shown, 5)}; expected 'left' or "
                    "'right' (the side of the street, looking along orientation)."
                )
    known = {"id", "station_id", "x", "y", *_CANYON_NUMBERS, "side"}
    for col in map(str, table.columns):
        if col in known:
            continue
        hint = did_you_mean(col.lower(), [*_CANYON_NUMBERS, "side"])
        if hint or col.lower().startswith(("canyon", "building", "street")):
            warn(
                f"{what}: column {col!r} is not read{hint}; the street-canyon columns are "
                f"{', '.join([*_CANYON_NUMBERS, 'side'])} (all four, or none for an open "
                "road): without them the points are open roads."
            )


def _blank(column: pd.Series) -> pd.Series:
    """Empty cells: missing, or text of blanks only."""
    return column.isna() | column.astype(str).str.strip().eq("")


_CANYON = (*_CANYON_NUMBERS, "side")


def _point_table(points: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    key = "id" if "id" in points.columns else "station_id"
    for col in (key, "x", "y"):
        if col not in points.columns:
            raise MissingVariableError(
                f"points: no column {col!r}; expected id (or station_id), x, y [m]."
            )
    px, py = _points(points["x"], points["y"], "points")
    return [str(v) for v in points[key]], px, py


def _canyon_of(points: pd.DataFrame, i: int) -> dict[str, Any] | None:
    """The canyon geometry of point `i` (None when it has none) of points checked by
    :func:`check_canyon_columns` (all four columns or none on a row)."""
    if "side" not in points.columns or bool(_blank(points["side"]).iloc[i]):
        return None
    return {c: points[c].iloc[i] for c in _CANYON}


def _no2_roadside(
    no2_grid: float, nox_grid: float, d_nox: float, fno2: float, method: str
) -> float:
    """NO2 at the roadside: the run's NO2 plus the primary share of the NOx increment and
    the curve's change for the rest (the run's incremental rule, docs/chemistry.md)."""
    n = max(nox_grid + (1.0 - fno2) * d_nox, 0.0)
    return float(no2_grid + fno2 * d_nox + nox_to_no2(n, method) - nox_to_no2(nox_grid, method))


@with_options(RoadLinkOptions, _LINK_DEFAULTS)
def roadside_values(
    roads: Any,
    freq: xr.Dataset,
    grid: Grid,
    points: pd.DataFrame,
    *,
    pollutants: list[str],
    years: list[int] | None = None,
    grid_values: pd.DataFrame | None = None,
    emission_scale: pd.DataFrame | None = None,
    hourly_met: xr.Dataset | None = None,
    radius: float = 1000.0,
    grid_initial_sigma_z: float = 0.0,
    fno2: float = 0.0,
    no2_method: str = "romberg1996",
    sub_directions: int = 3,
    kerb_distance: float | None = None,
    roughness_length: float = 0.5,
    **links: Unpack[RoadLinkOptions],
) -> pd.DataFrame:
    """Roadside values at stations or streets: the run's cell value plus what roads add.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        The run's roads (:func:`trajectoire.inventory.read_roads`, grid CRS) with one
        per-km column [t yr-1 km-1] per dispersed pollutant of `pollutants`.
    freq : xarray.Dataset
        The run's frequency tables (:func:`trajectoire.meteo.met_classes`) with a ``year``
        dimension.
    grid : trajectoire.Grid
        The run's grid.
    points : pandas.DataFrame
        ``id`` (or ``station_id``), ``x``, ``y`` [m, grid CRS]; optional street-canyon
        columns ``canyon_width``, ``building_height`` [m], ``orientation`` [degree] and
        ``side`` (``left`` / ``right`` looking along `orientation`): with the four, the
        open-road line value of the nearest link is replaced by the canyon value of that
        link (:func:`street_canyon_increment`; needs `hourly_met`; its ``aadt`` gives the
        traffic turbulence when present).
    pollutants : list of str
        Pollutants; ``NO2`` is derived from the NOx increment (needs `grid_values` of NOx
        and NO2).
    years : list of int, optional
        Years (default: every year of `freq`).
    grid_values : pandas.DataFrame, optional
        The run's annual means at the points' cells, columns ``year``, ``id``,
        ``pollutant``, ``value`` [ug m-3] (``station_concentration`` of the output).
    emission_scale : pandas.DataFrame, optional
        ``year``, ``pollutant``, ``factor``: the year's road emission relative to the
        roads' columns (the run's trend of F_RoadTransport); 1 when not given.
    hourly_met : xarray.Dataset, optional
        Hourly ``wind_speed``, ``wind_direction`` (for the canyons).
    radius, grid_initial_sigma_z, sub_directions
        As :func:`near_road_increment`.
    fno2 : float, default 0.0
        Primary NO2 share of the road NOx [1] (the run's f-NO2 of F_RoadTransport).
    no2_method : str, default "romberg1996"
        The run's NO2 curve (:func:`nox_to_no2`).
    kerb_distance : float, optional
        Evaluate the line sources at this distance [m] from the axis of the nearest link, on
        the point's side (a kerbside receptor), instead of at the point itself; a column
        ``kerb_distance`` of `points` sets it per point (NaN: the point as given). The
        gridded part stays at the point's cell, whose run value it corrects.
    roughness_length : float, default 0.5
        Urban roughness [m] for the canyons' roof-level wind (``[meteo] roughness_length``).
    **links
        Road-link keywords (the run's ``[dispersion] release_height`` of the road sector,
        ``receptor_height`` and ``sigma``): see :class:`RoadLinkOptions`.

    Returns
    -------
    pandas.DataFrame
        One row per (year, id, pollutant): ``x_line``, ``y_line`` (where the lines are
        evaluated) and ``road_distance`` (from there to the nearest link's axis) [m],
        ``line`` (the local links as lines), ``grid``
        (the same links gridded, at the cell), ``increment`` = line - grid, ``own_line``
        and ``canyon`` (the nearest link as a line and in its canyon; NaN without
        canyon), ``roadside_increment`` (``increment - own_line + canyon`` with a canyon),
        and with `grid_values` ``grid_value`` and ``roadside`` [ug m-3].
    """
    how = _Links.of("roadside_values", links)
    rad = _number(radius, "radius", strict=True)
    s0g = _number(grid_initial_sigma_z, "grid_initial_sigma_z")
    f2 = _number(fno2, "fno2")
    z0 = _number(roughness_length, "roughness_length", strict=True)
    ids, px, py = _point_table(points)
    if "year" not in freq.dims:
        raise MissingVariableError("freq: no 'year' dimension; pass the run's met_classes table.")
    have = [int(y) for y in freq["year"].values]
    yrs = [int(y) for y in years] if years is not None else have
    missing = sorted(set(yrs) - set(have))
    if missing:
        raise InputError(f"freq: no table for years {missing}; it has {have}.")
    dispersed = [p for p in pollutants if p != "NO2"]
    if "NO2" in pollutants and "NOx" not in dispersed:
        dispersed.append("NOx")
    for pol in dispersed:
        if pol not in roads.columns:
            raise MissingVariableError(
                f"roads: no per-km column for {pol!r}; columns are {list(roads.columns)}."
            )
    if any(c in points.columns for c in _CANYON):  # checked on a copy: the caller's kept
        points = points.copy()
        check_canyon_columns(points, "points", ids)
    canyons = [_canyon_of(points, i) for i in range(len(ids))]
    if any(c is not None for c in canyons) and hourly_met is None:
        raise InputError("points: street-canyon rows need hourly_met (wind speed, direction).")
    # unit emission per link: the line and grid values of every pollutant are sums over
    # the segments of (link emission) x (unit value), computed once per year and point
    seg = _segments(roads.assign(_unit=1.0 / _PER_KM_TO_G_PER_M_S), "_unit", how)
    nearest = [
        int(np.argmin(roads.geometry.distance(_pt(x, y)).to_numpy()))
        for x, y in zip(px, py, strict=True)
    ]
    lx, ly, dist = _kerb_points(roads, nearest, points, px, py, kerb_distance)
    rows: list[dict[str, Any]] = []
    for year in yrs:
        table = freq.sel(year=year)
        kernel = _window_kernel(table, grid, rad, how, s0g)
        for i, pid in enumerate(ids):
            box = (px[i] - rad, py[i] - rad, px[i] + rad, py[i] + rad)
            local = _clip(seg, box)
            line_u = _annual_at(
                local, table, lx[i : i + 1], ly[i : i + 1], how, int(sub_directions)
            )[0]
            grid_u = _gridded_at(local, grid, kernel, px[i], py[i], box)
            own = local["link"] == nearest[i]
            for pol in dispersed:
                scale = _scale(emission_scale, year, pol)
                e_link = pd.to_numeric(roads[pol], errors="coerce").to_numpy(float) * scale
                e = e_link[local["link"]] * _PER_KM_TO_G_PER_M_S  # g m-1 s-1
                line = float((e * line_u).sum())
                gval = float((e * grid_u).sum())
                row = {"year": year, "id": pid, "pollutant": pol, "x_line": lx[i],
                       "y_line": ly[i], "road_distance": dist[i], "line": line, "grid": gval,
                       "increment": line - gval, "own_line": float((e * line_u)[own].sum()),
                       "canyon": math.nan}  # fmt: skip
                canyon = canyons[i]
                if canyon is not None and hourly_met is not None:
                    row["canyon"] = _canyon_value(
                        canyon, roads, nearest[i], e_link[nearest[i]], hourly_met, year, z0
                    )
                row["roadside_increment"] = (
                    row["increment"]
                    if math.isnan(row["canyon"])
                    else row["increment"] - row["own_line"] + row["canyon"]
                )
                rows.append(row)
    out = pd.DataFrame(rows)
    if grid_values is None:
        return out
    return _add_grid_values(out, grid_values, pollutants, f2, no2_method)


def _kerb_points(
    roads: Any,
    nearest: list[int],
    points: pd.DataFrame,
    px: np.ndarray,
    py: np.ndarray,
    kerb_distance: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the line sources are evaluated: each point, or its kerbside twin at
    `kerb_distance` from the nearest link's axis on the point's side; and that distance."""
    default = math.nan if kerb_distance is None else _number(kerb_distance, "kerb_distance")
    if "kerb_distance" in points.columns:
        per = pd.to_numeric(points["kerb_distance"], errors="coerce").to_numpy(float)
        per = np.where(np.isfinite(per), per, default)
    else:
        per = np.full(px.size, default)
    if (per[np.isfinite(per)] < 0).any():
        raise InputError("points, column 'kerb_distance': negative value; expected >= 0 [m].")
    lx, ly, dist = px.copy(), py.copy(), np.zeros(px.size)
    for i, link in enumerate(nearest):
        geom = roads.geometry.iloc[link]
        pt = _pt(px[i], py[i])
        foot = geom.interpolate(geom.project(pt))
        vx, vy = px[i] - foot.x, py[i] - foot.y
        d = math.hypot(vx, vy)
        dist[i] = d
        if not np.isfinite(per[i]):
            continue
        if d == 0.0:  # on the axis: go along the normal of the link there
            ahead = geom.interpolate(min(geom.project(pt) + 1.0, geom.length))
            behind = geom.interpolate(max(geom.project(pt) - 1.0, 0.0))
            tx, ty = ahead.x - behind.x, ahead.y - behind.y
            vx, vy, d = -ty, tx, math.hypot(tx, ty)
        lx[i] = foot.x + per[i] * vx / d
        ly[i] = foot.y + per[i] * vy / d
        dist[i] = per[i]
    return lx, ly, dist


def _pt(x: float, y: float) -> Any:
    from shapely.geometry import Point

    return Point(x, y)


def _scale(emission_scale: pd.DataFrame | None, year: int, pol: str) -> float:
    if emission_scale is None:
        return 1.0
    hit = emission_scale[(emission_scale["year"] == year) & (emission_scale["pollutant"] == pol)]
    if not len(hit):
        raise InputError(f"emission_scale: no row for year {year}, pollutant {pol!r}.")
    return _number(hit["factor"].iloc[0], f"emission_scale factor of {pol} in {year}")


def _canyon_value(
    c: dict[str, Any],
    roads: Any,
    link: int,
    per_km: float,
    met: xr.Dataset,
    year: int,
    roughness_length: float,
) -> float:
    """Annual mean canyon value [ug m-3] of the nearest link in its canyon for `year`."""
    times = pd.DatetimeIndex(met["time"].values)
    sel = met.isel(time=np.flatnonzero(times.year == year))
    if sel.sizes["time"] == 0:
        raise InputError(f"hourly_met: no hour in {year} for the street canyons.")
    width = float(c["canyon_width"])
    swt = 0.0
    if "aadt" in roads.columns:
        swt = float(traffic_turbulence(float(roads["aadt"].iloc[link]), width))
    da = street_canyon_increment(
        sel["wind_speed"].values,
        sel["wind_direction"].values,
        emission=per_km,
        width=width,
        building_height=float(c["building_height"]),
        orientation=float(c["orientation"]),
        traffic_turbulence=swt,
        roughness_length=roughness_length,
        anemometer_height=_anemometer_height(met),
    )
    return float(da.sel(side=str(c["side"])).mean(skipna=True))


def _add_grid_values(
    out: pd.DataFrame, grid_values: pd.DataFrame, pollutants: list[str], fno2: float, method: str
) -> pd.DataFrame:
    """Add the run's cell values and the roadside values (NO2 from the NOx increment)."""
    for col in ("year", "id", "pollutant", "value"):
        if col not in grid_values.columns:
            raise MissingVariableError(
                f"grid_values: no column {col!r}; expected year, id, pollutant, value [ug m-3]."
            )
    table = grid_values.assign(
        id=grid_values["id"].astype(str), year=grid_values["year"].astype(int)
    )
    gv: dict[tuple[int, str, str], float] = {
        (int(y), str(i), str(p)): float(v)
        for y, i, p, v in zip(
            table["year"], table["id"], table["pollutant"], table["value"], strict=True
        )
    }
    out = out.copy()
    out["grid_value"] = [
        gv.get((int(y), str(i), str(p)), math.nan)
        for y, i, p in zip(out["year"], out["id"], out["pollutant"], strict=True)
    ]
    out["roadside"] = out["grid_value"] + out["roadside_increment"]
    if "NO2" in pollutants:
        nox = out[out["pollutant"] == "NOx"]
        extra = []
        for _, r in nox.iterrows():
            g2 = gv.get((int(r["year"]), str(r["id"]), "NO2"), math.nan)
            val = (
                _no2_roadside(
                    g2, float(r["grid_value"]), float(r["roadside_increment"]), fno2, method
                )
                if np.isfinite(g2) and np.isfinite(r["grid_value"])
                else math.nan
            )
            extra.append({"year": r["year"], "id": r["id"], "pollutant": "NO2",
                          "grid_value": g2, "roadside": val,
                          "roadside_increment": val - g2})  # fmt: skip
        out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out
