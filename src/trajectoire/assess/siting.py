"""Where to put the programme's monitors: a population-weighted coverage of feature space.

Every cell ``c`` of the run grid gets a feature vector ``φ(c)`` (:func:`site_features`):
the normalised concentration of each pollutant, the share of each sector in the local
contribution, the log distance to the nearest main source and the territory the cell lies
in. A network ``S`` of sites "covers" a cell when some site has features close to the
cell's: what the site measures then tells about the cell. The criterion is the weighted mean
distance, in feature space, from every cell to the nearest site:

    J(S) = Σ_c w_c min_{s ∈ S} ‖φ(c) − φ(s)‖₂,   Σ_c w_c = 1,

with ``w_c`` mostly the inhabitants of the cell (a share ``area_share`` spread over the area
of the territories, so that unpopulated places near sources still count). This is the
p-median (weighted k-medoids) objective; ``J(∅) − J(S)`` is a monotone submodular set
function (a facility-location function), so the greedy choice gets within ``1 − 1/e`` of the
best value (Nemhauser, Wolsey & Fisher, 1978; Cornuéjols, Fisher & Nemhauser, 1977). After
each greedy addition, a vertex-substitution pass (Teitz & Bart, 1968; the swap step of
PAM, Kaufman & Rousseeuw, 1990) replaces a site by a candidate while that lowers ``J``.
Existing stations are sites from the start; minimum spacing and "one site per territory"
are constraints of both steps. Large grids are reduced by demand aggregation (cells binned
in feature space, Francis, Lowe, Rayco & Tamir, 2009) before the search; the criterion
reported is always evaluated exactly on every cell.

See ``docs/siting.md`` for the justification of the features and the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import xarray as xr

from trajectoire._validate import as_floats, require_dims, require_year, year_ranges
from trajectoire.assess.exposure import _check_same_grid
from trajectoire.cf import add_history
from trajectoire.errors import GridError, InputError, MissingVariableError, warn
from trajectoire.geo.grid import Grid
from trajectoire.species import normalise_pollutant

__all__ = [
    "DEFAULT_BLOCK_WEIGHTS",
    "SiteChoice",
    "choose_sites",
    "choose_sites_from_output",
    "site_features",
    "siting_criterion",
]

#: Weight of each block of features; each block is scaled so that two cells at opposite
#: ends of it are at distance about its weight (see docs/siting.md).
DEFAULT_BLOCK_WEIGHTS: dict[str, float] = {
    "concentration": 1.0,
    "sectors": 1.0,
    "distance": 1.0,
    "territory": 1.0,
}

_Points = pd.DataFrame | np.ndarray | Sequence[Sequence[float]]


# --------------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------------


def _require_dataarray(value: object, what: str) -> None:
    """One :class:`~trajectoire.InputError` when `value` (named `what`) is not an
    :class:`xarray.DataArray` (a numpy array has no dims nor coordinates to put on the grid)."""
    if not isinstance(value, xr.DataArray):
        raise InputError(
            f"{what}: got a {type(value).__module__}.{type(value).__name__} of shape "
            f"{getattr(value, 'shape', '?')}; expected an xarray.DataArray with dims ('y', 'x') and the "
            "grid's y, x coordinates. Wrap it: xr.DataArray(values, dims=('y', 'x'), "
            "coords={'y': ..., 'x': ...})."
        )


def _as_stack(da: xr.DataArray, dim: str, what: str) -> xr.DataArray:
    """`da` as ``(dim, y, x)``; a ``(y, x)`` array gets a length-1 `dim`."""
    _require_dataarray(da, what)
    require_dims(da.dims, ("y", "x"), what)
    extra = [d for d in da.dims if d not in ("y", "x")]
    if not extra:
        return da.expand_dims({dim: [""]})
    if len(extra) > 1:
        raise InputError(
            f"{what}: has dims {tuple(da.dims)}, expected ({dim!r}, 'y', 'x'); "
            f"select one value of {extra[1:]} first (.sel)."
        )
    return da.transpose(extra[0], "y", "x")


def _block_weights(block_weights: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_BLOCK_WEIGHTS)
    for key, value in (block_weights or {}).items():
        if key not in out:
            raise InputError(
                f"block_weights: unknown block {key!r}; expected some of {sorted(out)}."
            )
        if not (value >= 0 and math.isfinite(value)):
            raise InputError(f"block_weights[{key!r}] = {value}; expected a finite value >= 0.")
        out[key] = float(value)
    return out


def site_features(
    concentration: xr.DataArray,
    *,
    contribution: xr.DataArray | None = None,
    territory_fraction: xr.DataArray | None = None,
    sources: _Points | None = None,
    distance_scale: float = 500.0,
    block_weights: Mapping[str, float] | None = None,
) -> xr.DataArray:
    """Feature vector of every cell for siting monitors (dimensionless, NaN where unknown).

    Parameters
    ----------
    concentration : xarray.DataArray
        ``(y, x)`` or ``(pollutant, y, x)`` [any units]; NaN cells are left out.
    contribution : xarray.DataArray, optional
        Local contribution ``(sector, y, x)`` or ``(sector, pollutant, y, x)`` [same units]:
        gives the sector shares.
    territory_fraction : xarray.DataArray, optional
        ``(territory, y, x)`` share of each cell in each territory, in [0, 1].
    sources : DataFrame or array (n, 2), optional
        Positions ``x, y`` [m, grid CRS] of the main sources.
    distance_scale : float, default 500.0
        Distance ``r0`` [m] of the log-distance feature ``log(1 + r / r0)``.
    block_weights : mapping, optional
        Weight of each block (:data:`DEFAULT_BLOCK_WEIGHTS`); 0 drops a block.

    Returns
    -------
    xarray.DataArray
        ``site_features`` with dims ``(feature, y, x)``; coordinate ``block`` names the block
        of each feature.

    Raises
    ------
    trajectoire.InputError
        Mismatched grids, bad weights or source positions.

    Notes
    -----
    Blocks, each scaled to span about its weight ``b``:

    * concentration: ``b (C_p − q01_p) / (q99_p − q01_p) / √P`` per pollutant ``p``
      (1st and 99th percentiles over the valid cells; a flat field gives 0);
    * sectors: ``b s_{k,p} / √(2P)``, ``s_{k,p} = max(c_{k,p}, 0) / Σ_k max(c_{k,p}, 0)``
      (0 where no local contribution), so two cells dominated by different sectors are
      ``b`` apart;
    * distance: ``b log(1 + r/r0) / log(1 + r_max/r0)``, ``r`` the distance to the nearest
      main source;
    * territory: ``b f_T / √2``: cells of two different territories are ``b`` apart.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("y", "x"),
    ...                  coords={"y": [1.0, 0.0], "x": [0.0, 1.0, 2.0]})
    >>> site_features(c).sizes["feature"]
    1
    """
    weights = _block_weights(block_weights)
    conc = _as_stack(concentration, "pollutant", "site_features: concentration")
    conc = conc.astype(float)
    ny, nx = conc.sizes["y"], conc.sizes["x"]
    valid = np.isfinite(conc.values).all(axis=0)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    labels: list[str] = []

    if weights["concentration"] > 0:
        values = conc.values
        n_pol = values.shape[0]
        for i, p in enumerate(conc[conc.dims[0]].values):
            v = values[i][valid]
            lo, hi = np.percentile(v, [1.0, 99.0]) if v.size else (0.0, 0.0)
            span = hi - lo
            z = (values[i] - lo) / span if span > 0 else np.zeros((ny, nx))
            blocks.append(weights["concentration"] * z / math.sqrt(n_pol))
            names.append(f"concentration:{p}" if str(p) else "concentration")
            labels.append("concentration")

    if contribution is not None and weights["sectors"] > 0:
        require_dims(contribution.dims, ("sector", "y", "x"), "site_features: contribution")
        _check_same_grid(contribution, concentration, "site_features: contribution")
        contrib = contribution
        if "pollutant" in contrib.dims and "pollutant" in concentration.dims:
            contrib = contrib.sel(pollutant=conc[conc.dims[0]].values)
        if "pollutant" not in contrib.dims:
            contrib = contrib.expand_dims({"pollutant": [""]})
        contrib = contrib.transpose("pollutant", "sector", "y", "x").astype(float)
        # negative parts (round-off of the FFT convolution, NO2 titration) count as 0
        cv = np.clip(contrib.values, 0.0, None)
        n_pol = cv.shape[0]
        total = cv.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(total > 0, cv / np.where(total > 0, total, 1.0), 0.0)
        valid &= np.isfinite(cv).all(axis=(0, 1))
        scale = weights["sectors"] / math.sqrt(2.0 * n_pol)
        for i, p in enumerate(contrib["pollutant"].values):
            for k, s in enumerate(contrib["sector"].values):
                blocks.append(scale * shares[i, k])
                names.append(f"share:{s}:{p}" if str(p) else f"share:{s}")
                labels.append("sectors")

    if sources is not None and weights["distance"] > 0:
        pts = _points(sources, "site_features: sources")
        if len(pts) == 0:
            raise InputError("site_features: sources is empty; pass at least one x, y.")
        if not (distance_scale > 0):
            raise InputError(f"site_features: distance_scale = {distance_scale}; expected > 0.")
        xx, yy = np.meshgrid(conc["x"].values, conc["y"].values)
        r = np.full((ny, nx), np.inf)
        for sx, sy in pts[["x", "y"]].to_numpy(float):
            r = np.minimum(r, np.hypot(xx - sx, yy - sy))
        rmax = float(r[valid].max()) if valid.any() else 0.0
        denom = math.log1p(rmax / distance_scale) if rmax > 0 else 1.0
        blocks.append(weights["distance"] * np.log1p(r / distance_scale) / denom)
        names.append("log_distance_to_source")
        labels.append("distance")

    if territory_fraction is not None and weights["territory"] > 0:
        tf = _territory_stack(territory_fraction, concentration)
        scale = weights["territory"] / math.sqrt(2.0)
        for i, t in enumerate(tf["territory"].values):
            blocks.append(scale * np.nan_to_num(tf.values[i]))
            names.append(f"territory:{t}")
            labels.append("territory")

    if not blocks:
        raise InputError(
            "site_features: every block has weight 0 or no data; give a concentration with "
            "block_weights['concentration'] > 0."
        )
    data = np.stack(blocks)
    data[:, ~valid] = np.nan
    out = xr.DataArray(
        data,
        dims=("feature", "y", "x"),
        coords={
            "feature": names,
            "block": ("feature", labels),
            "y": conc["y"],
            "x": conc["x"],
        },
        name="site_features",
        attrs={"units": "1", "long_name": "feature vector of each cell for siting monitors"},
    )
    return add_history(out, f"site_features(distance_scale={distance_scale})")


def _territory_stack(territory_fraction: xr.DataArray, ref: xr.DataArray) -> xr.DataArray:
    require_dims(territory_fraction.dims, ("territory", "y", "x"), "territory_fraction")
    _check_same_grid(territory_fraction, ref, "territory_fraction")
    return territory_fraction.transpose("territory", "y", "x").astype(float)


# --------------------------------------------------------------------------------------------
# points, cells and the criterion
# --------------------------------------------------------------------------------------------


def _points(points: _Points, what: str) -> pd.DataFrame:
    """Points as a DataFrame with float columns ``x``, ``y`` (index kept as ids)."""
    if isinstance(points, pd.DataFrame):
        frame = points
        for a, b in (("station_x", "x"), ("station_y", "y")):
            if b not in frame.columns and a in frame.columns:
                frame = frame.rename(columns={a: b})
        if "x" not in frame.columns or "y" not in frame.columns:
            raise MissingVariableError(
                f"{what}: missing column(s) x, y; found {list(points.columns)}. "
                "Rename the coordinate columns to x and y."
            )
        out = frame[["x", "y"]].astype(float)
    else:
        arr = np.asarray(points, dtype=float)
        if arr.size == 0:
            arr = arr.reshape(0, 2)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise InputError(
                f"{what}: has shape {arr.shape}, expected (n, 2) rows of x, y [m]; pass a "
                "DataFrame with columns x, y or an (n, 2) array."
            )
        out = pd.DataFrame(arr, columns=["x", "y"])
    if not np.isfinite(out.to_numpy()).all():
        raise InputError(f"{what}: has NaN or infinite coordinates; drop those rows.")
    return out


#: The CRS of the grids :func:`_cells_of` builds from bare cell centres: a local Cartesian
#: one in metres. Only the cell lookup of :meth:`Grid.cell_index` is used, which does not
#: depend on it; the points and the centres are in the same (projected) CRS.
_LOCAL_CRS = pyproj.CRS.from_wkt(
    'ENGCRS["grid coordinates",EDATUM["unknown"],CS[Cartesian,2],'
    'AXIS["easting (x)",east,LENGTHUNIT["metre",1]],'
    'AXIS["northing (y)",north,LENGTHUNIT["metre",1]]]'
)


def _cells_of(points: pd.DataFrame, xs: np.ndarray, ys: np.ndarray, what: str) -> np.ndarray:
    """Flat cell index ``iy * len(xs) + ix`` of the cell containing each point.

    The cell is the one :meth:`trajectoire.Grid.cell_index` gives (the rule of the stacks
    and of :func:`trajectoire.sample_at_stations` on north-up grids): a point on the edge
    shared by two cells goes to the one east of it / south of it, whatever the order of
    `xs` and `ys`.

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``x``, ``y`` [m], in the CRS of the grid; the index names the points.
    xs, ys : numpy.ndarray
        Regular cell-centre coordinates [m] along x and y, increasing or decreasing (one
        centre alone: the cell is as wide as the other axis's step).
    what : str
        The caller and the points, for the message.

    Returns
    -------
    numpy.ndarray of int64
        Position of each point's cell in the (y, x) arrays, flattened row by row.

    Raises
    ------
    trajectoire.InputError
        A point outside the grid (the outer edges belong to it), or irregular centres.
    """
    if len(points) == 0:
        return np.zeros(0, np.int64)
    xa, ya = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if xa.size > 1 and ya.size > 1:
        try:
            grid = Grid.from_coords(xa, ya, _LOCAL_CRS)
        except GridError as exc:  # irregular centres
            raise GridError(f"{what}: the grid's cell centres: {exc}") from None
    else:  # one centre along an axis: its cell is as wide as the other axis's step
        steps = [abs(float(c[1] - c[0])) for c in (xa, ya) if c.size > 1]
        if not steps:  # one cell, of no known size: every point is in it
            return np.zeros(len(points), np.int64)
        h = steps[0]
        grid = Grid(xa.min() - h / 2, ya.min() - h / 2, h, h, xa.size, ya.size, _LOCAL_CRS)
    px = _onto_edge(points["x"].to_numpy(float), grid.xmin, grid.xmax, grid.dx)
    py = _onto_edge(points["y"].to_numpy(float), grid.ymin, grid.ymax, grid.dy)
    row, col, inside = grid.cell_index(px, py)
    if not inside.all():
        bad = [str(i) for i in points.index[~inside]][:5]
        raise InputError(
            f"{what}: point(s) {bad} lie outside the grid x [{xa.min()}, {xa.max()}], "
            f"y [{ya.min()}, {ya.max()}] (cell centres); give x, y in the grid's CRS [m] "
            "or drop them."
        )
    # cell_index counts rows from the north and columns from the west
    ix = col if xa.size < 2 or xa[1] > xa[0] else xa.size - 1 - col
    iy = row if ya.size < 2 or ya[1] < ya[0] else ya.size - 1 - row
    return (iy * xa.size + ix).astype(np.int64)


def _onto_edge(v: np.ndarray, low: float, high: float, step: float) -> np.ndarray:
    """`v` [m] with the values within 1e-9 of a cell outside ``[low, high]`` put on that
    edge (the outer edges of the grid belong to it; a station on the edge, read back from
    a file, may lie a rounding error beyond it)."""
    on = np.clip(v, low, high)
    return np.where(np.abs(v - on) <= 1e-9 * step, on, v)


#: how far [m] beyond the grid a main source may lie (a source just off the grid still
#: shapes the near/far gradient); farther, at least the grid's own size, is another CRS
_SOURCE_REACH = 100_000.0


def _sources_near_grid(points: pd.DataFrame, xs: np.ndarray, ys: np.ndarray) -> None:
    """Refuse main sources far off the grid (x, y in lon/lat on a projected grid), as
    :func:`_cells_of` refuses candidates and stations off the grid; sources near the
    grid but outside it are kept (they shape the distance feature)."""
    if len(points) == 0 or xs.size == 0 or ys.size == 0:
        return
    reach = max(_SOURCE_REACH, float(np.ptp(xs)), float(np.ptp(ys)))
    px, py = points["x"].to_numpy(float), points["y"].to_numpy(float)
    far = (
        (px < xs.min() - reach)
        | (px > xs.max() + reach)
        | (py < ys.min() - reach)
        | (py > ys.max() + reach)
    )
    if far.any():
        bad = [
            f"{i} ({x:g}, {y:g})"
            for i, x, y in zip(points.index[far], px[far], py[far], strict=True)
        ]
        raise InputError(
            f"choose_sites: sources: point(s) {bad[:5]} lie far outside the grid x "
            f"[{xs.min()}, {xs.max()}], y [{ys.min()}, {ys.max()}] (more than {reach:g} m "
            "away: lon/lat?); give x, y in the grid's CRS [m] or drop them."
        )


def _distances(demand: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Euclidean distances ``(len(demand), len(sites))``, one site at a time (low memory)."""
    out = np.empty((len(demand), len(sites)))
    for j, f in enumerate(sites):
        out[:, j] = np.sqrt(((demand - f) ** 2).sum(axis=1))
    return out


def siting_criterion(
    features: xr.DataArray,
    weights: xr.DataArray,
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
) -> float:
    """Weighted mean feature distance from every cell to the nearest of the sites ``(x, y)``.

    Parameters
    ----------
    features : xarray.DataArray
        ``(feature, y, x)`` from :func:`site_features`.
    weights : xarray.DataArray
        ``(y, x)`` importance of each cell (for example :attr:`SiteChoice.weights`); NaN or
        0 cells are left out; normalised to sum 1.
    x, y : array_like
        Site positions [m, grid CRS]; each stands for the cell it falls in.

    Returns
    -------
    float
        ``J(S) = Σ_c w_c min_s ‖φ(c) − φ(s)‖₂ / Σ_c w_c`` [dimensionless]; ``inf`` for no site.

    Raises
    ------
    trajectoire.InputError
        Sites outside the grid or on cells without features, or no weight anywhere; `x` and
        `y` of different lengths.
    """
    require_dims(features.dims, ("feature", "y", "x"), "siting_criterion: features")
    require_dims(weights.dims, ("y", "x"), "siting_criterion: weights")
    flat = features.transpose("feature", "y", "x").values.reshape(features.sizes["feature"], -1).T
    w = np.nan_to_num(weights.transpose("y", "x").values.reshape(-1).astype(float))
    keep = (w > 0) & np.isfinite(flat).all(axis=1)
    if not keep.any():
        raise InputError("siting_criterion: no cell has both features and a weight > 0.")
    xa = as_floats(x, "siting_criterion: x").ravel()
    ya = as_floats(y, "siting_criterion: y").ravel()
    if xa.size != ya.size:
        raise InputError(
            f"siting_criterion: x has {xa.size} value(s) and y {ya.size}; expected one x and "
            "one y per site [m]. Give x and y of the same length."
        )
    pts = _points(np.column_stack([xa, ya]), "sites")
    cells = _cells_of(pts, features["x"].values, features["y"].values, "siting_criterion")
    if len(cells) == 0:
        return math.inf
    site_f = flat[cells]
    if not np.isfinite(site_f).all():
        raise InputError("siting_criterion: a site lies on a cell without features (NaN).")
    d = _distances(flat[keep], site_f).min(axis=1)
    return float(np.dot(w[keep], d) / w[keep].sum())


# --------------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------------


def _aggregate(
    features: np.ndarray, max_points: int, tiles: np.ndarray | None = None
) -> tuple[np.ndarray, int, float]:
    """Bin rows of `features` on a lattice of step ``h`` (grown until <= `max_points` bins).

    Returns the bin of each row, the number of bins and ``h``; `tiles` (int per row) is an
    extra key (spatial tile) kept as it is.
    """
    h = 0.02
    while True:
        keys = np.floor(features / h).astype(np.int64)
        if tiles is not None:
            keys = np.column_stack([keys, tiles])
        keys = np.ascontiguousarray(keys)
        view = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        _, inverse = np.unique(view, return_inverse=True)
        n_bins = int(inverse.max()) + 1 if len(inverse) else 0
        if n_bins <= max_points or (tiles is not None and h > 10.0):
            return inverse.reshape(-1), n_bins, h
        h *= 1.3


@dataclass
class _Problem:
    dist: np.ndarray  # (M, D) candidate -> demand distances
    weights: np.ndarray  # (D,)
    base: np.ndarray  # (D,) distance to the nearest existing site (inf without one)
    xy: np.ndarray  # (M, 2) candidate positions
    exist_xy: np.ndarray  # (m, 2)
    territory: np.ndarray  # (M,) territory index of each candidate, -1 for none
    required: set[int]  # territory indices that need a site
    covered0: set[int]  # required territories the existing stations already cover
    min_spacing: float


def _cost(p: _Problem, chosen: Sequence[int], skip: int = -1) -> np.ndarray:
    cur = p.base.copy()
    for i, j in enumerate(chosen):
        if i != skip:
            np.minimum(cur, p.dist[j], out=cur)
    return cur


def _allowed(p: _Problem, chosen: Sequence[int], slots_left: int, skip: int = -1) -> np.ndarray:
    """Candidates that may join `chosen` (minus position `skip`) with `slots_left` to fill."""
    ok = np.ones(len(p.xy), bool)
    others = [j for i, j in enumerate(chosen) if i != skip]
    ok[others] = False
    if p.min_spacing > 0:
        near = np.vstack([p.exist_xy, p.xy[others]]) if others else p.exist_xy
        for qx, qy in near:
            ok &= np.hypot(p.xy[:, 0] - qx, p.xy[:, 1] - qy) >= p.min_spacing
    uncovered = p.required - p.covered0 - {int(p.territory[j]) for j in others}
    if uncovered and slots_left <= len(uncovered):
        ok &= np.isin(p.territory, sorted(uncovered))
    return ok


def _search(p: _Problem, n: int, refine: bool) -> list[int]:
    """Greedy additions, each followed by vertex substitution; the final `n` candidates (the
    substitutions rewrite earlier slots: the list is in no order of merit, see
    :func:`_ranked`)."""
    chosen: list[int] = []
    for step in range(n):
        ok = _allowed(p, chosen, n - step)
        if not ok.any():
            raise InputError(
                f"choose_sites: only {step} new site(s) fit the constraints "
                f"(min_spacing={p.min_spacing:g} m, territories, candidates); lower n or "
                "min_spacing, or widen the candidates."
            )
        cur = _cost(p, chosen)
        value = np.minimum(p.dist, cur[None, :]) @ p.weights
        value[~ok] = np.inf
        chosen.append(int(np.argmin(value)))
        best = float(value[chosen[-1]])
        while refine:
            improved = False
            for i in range(len(chosen)):
                ok = _allowed(p, chosen, n - step, skip=i)
                if not ok.any():
                    continue
                cur = _cost(p, chosen, skip=i)
                value = np.minimum(p.dist, cur[None, :]) @ p.weights
                value[~ok] = np.inf
                j = int(np.argmin(value))
                if value[j] < best - 1e-12 * max(abs(best), 1e-300):
                    chosen[i] = j
                    best = float(value[j])
                    improved = True
            if not improved:
                break
    return chosen


def _ranked(
    cells: np.ndarray, dist: np.ndarray, base: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, tuple[float, ...]]:
    """The sites `cells` in greedy order, and ``J`` of the first 1, 2, ... of them.

    The first is the site that alone (with the existing stations) gives the lowest ``J``,
    the next the one that with it gives the lowest, and so on; ties go to the first in the
    order of `cells`. `dist` holds the distances ``(demand, site)`` from each demand point
    to each site, `base` those to the nearest existing station (inf without one), `weights`
    the demand weights (sum 1).
    """
    cur = base.copy()
    left = list(range(len(cells)))
    order: list[int] = []
    by_k: list[float] = []
    while left:
        values = [float(weights @ np.minimum(cur, dist[:, j])) for j in left]
        best = int(np.argmin(values))
        order.append(left.pop(best))
        by_k.append(values[best])
        np.minimum(cur, dist[:, order[-1]], out=cur)
    return cells[order], tuple(by_k)


@dataclass
class SiteChoice:
    """The monitors chosen by :func:`choose_sites`, and how well each network covers.

    Attributes
    ----------
    sites : pandas.DataFrame
        One row per site, existing stations first: ``site`` (id), ``x``, ``y`` [m],
        ``territory`` (``""`` outside them), ``existing`` (bool), ``rank`` (0 for existing
        ones; the new sites ``new1``, ``new2``... in rank order 1, 2...: the site that
        alone, with the stations, lowers ``J`` most, then the one that with it lowers
        ``J`` most, and so on) and ``loss_if_removed`` (increase of the criterion if the
        site alone were removed from the full network).
    criterion : float
        ``J`` of the new sites and the existing stations together.
    criterion_new : float
        ``J`` of the new sites alone.
    criterion_existing : float
        ``J`` of the existing stations alone (``inf`` without any).
    criterion_by_k : tuple of float
        ``J`` (with the existing stations) of the first 1, 2, … `n` new sites in ``rank``
        order: the first `k` ranked sites give ``criterion_by_k[k - 1]``, a sequence to
        install them in. These prefixes are not the best `k`-site networks: the search
        optimises the `n` sites together (better than adding them one at a time), so
        ``choose_sites(..., n=k)`` may choose other sites, with a lower ``J``.
    features, weights : xarray.DataArray
        The feature stack and the normalised cell weights the criterion uses.
    info : dict
        Search details: cells, candidates, demand points and lattice step of the
        aggregation (0 when exact).
    """

    sites: pd.DataFrame
    criterion: float
    criterion_new: float
    criterion_existing: float
    criterion_by_k: tuple[float, ...]
    features: xr.DataArray
    weights: xr.DataArray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def new_sites(self) -> pd.DataFrame:
        """The rows of :attr:`sites` that are new monitors."""
        return self.sites[~self.sites["existing"]]

    def criterion_of(
        self, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
    ) -> float:
        """Criterion ``J`` of any network ``(x, y)`` on the same features and weights."""
        return siting_criterion(self.features, self.weights, x, y)


def _cell_weights(
    valid: np.ndarray,
    population: xr.DataArray | None,
    territory_fraction: xr.DataArray | None,
    ref: xr.DataArray,
    area_share: float,
) -> np.ndarray:
    """Normalised weights: ``(1 − a) P g / Σ P g + a g / Σ g`` on valid cells."""
    if territory_fraction is not None:
        tf = _territory_stack(territory_fraction, ref)
        inside = np.clip(np.nan_to_num(tf.values).sum(axis=0), 0.0, 1.0)
    else:
        inside = np.ones(valid.shape)
    inside = np.where(valid, inside, 0.0)
    if inside.sum() <= 0:
        raise InputError(
            "choose_sites: no valid cell inside the territories; check territory_fraction "
            "and the concentration's NaN mask."
        )
    area = inside / inside.sum()
    if population is None:
        return area
    _require_dataarray(population, "choose_sites: population")
    require_dims(population.dims, ("y", "x"), "choose_sites: population")
    extra = [d for d in population.dims if d not in ("y", "x")]
    if extra:
        raise InputError(
            f"choose_sites: population has dims {tuple(population.dims)}; expected (y, x), "
            f"one map. Select one with .sel({extra[0]}=...) (e.g. the year of the "
            "concentration)."
        )
    _check_same_grid(population, ref, "choose_sites: population")
    pop = population.transpose("y", "x").values.astype(float)
    if (pop < 0).any():  # NaN compares False (an all-NaN map is refused below)
        raise InputError("choose_sites: population has negative cells; expected >= 0.")
    pop = np.where(valid, np.nan_to_num(pop), 0.0) * inside
    if pop.sum() <= 0:
        raise InputError(
            "choose_sites: no inhabitants on the valid cells inside the territories; pass "
            "the population on the run grid or population=None to weigh by area."
        )
    return (1.0 - area_share) * pop / pop.sum() + area_share * area


def choose_sites(
    concentration: xr.DataArray,
    n: int = 8,
    *,
    population: xr.DataArray | None = None,
    contribution: xr.DataArray | None = None,
    territory_fraction: xr.DataArray | None = None,
    sources: _Points | None = None,
    candidates: xr.DataArray | _Points | None = None,
    existing: _Points | None = None,
    territories: bool | Sequence[str] = False,
    min_spacing: float = 0.0,
    area_share: float = 0.1,
    block_weights: Mapping[str, float] | None = None,
    distance_scale: float = 500.0,
    max_points: int = 2500,
    refine: bool = True,
) -> SiteChoice:
    r"""Choose `n` monitor positions that best cover what the programme must learn.

    Minimises the weighted mean feature distance from every cell to its nearest monitor,

    .. math:: J(S) = \sum_c w_c \min_{s \in S \cup E} \lVert \varphi(c) - \varphi(s) \rVert_2,

    over the new sites ``S`` (``|S| = n``, from the candidates), the existing stations ``E``
    being monitors already; ``φ`` from :func:`site_features`, ``w`` the cell weights
    (inhabitants, plus `area_share` spread over the territories' area; ``Σ w = 1``).

    Parameters
    ----------
    concentration : xarray.DataArray
        ``(y, x)`` or ``(pollutant, y, x)`` on the run grid; NaN cells are neither
        candidates nor counted.
    n : int, default 8
        Number of new monitors.
    population : xarray.DataArray, optional
        Inhabitants per cell ``(y, x)``. Without it the weights are the area alone.
    contribution : xarray.DataArray, optional
        ``(sector, [pollutant,] y, x)`` local contribution: sector-share features.
    territory_fraction : xarray.DataArray, optional
        ``(territory, y, x)``: territory features, weights restricted to the territories,
        and the `territories` constraint. A cell belongs to the territory holding at least
        half of it.
    sources : DataFrame or array (n, 2), optional
        Main sources ``x, y`` [m, grid CRS], on or near the grid (one more than 100 km or
        the grid's size beyond it is refused): the log-distance feature (near/far gradient).
    candidates : xarray.DataArray or points, optional
        Boolean mask ``(y, x)`` of allowed cells, or points ``x, y`` [m] (each stands for
        its cell). Default: every valid cell.
    existing : DataFrame or array (m, 2), optional
        Stations already installed ``x, y`` [m] (index = ids): they count as chosen, and
        their cells are never new sites.
    territories : bool or list of str, default False
        At least one monitor (new or existing) in each of these territories (``True``: all
        of `territory_fraction`).
    min_spacing : float, default 0.0
        Minimum distance [m] between a new site and any other site, new or existing.
    area_share : float, default 0.1
        Share of the weight spread uniformly over the territories' area, in [0, 1].
    block_weights : mapping, optional
        Weights of the feature blocks (:data:`DEFAULT_BLOCK_WEIGHTS`).
    distance_scale : float, default 500.0
        ``r0`` [m] of the log-distance feature.
    max_points : int, default 2500
        Above this many demand cells or candidates, cells are binned in feature space
        first (demand aggregation); the reported criteria stay exact.
    refine : bool, default True
        Vertex substitution after each greedy addition.

    Returns
    -------
    SiteChoice
        Sites, the criterion of the new network, the existing one and both together, and
        the criterion of the first 1, 2, … ranked new sites with the stations.

    Raises
    ------
    trajectoire.InputError
        `n` < 1 or larger than the candidates, an empty candidate mask, an unknown
        territory, a station outside the grid or a source far outside it (x, y in lon/lat
        on a projected grid), a station on a NaN cell, constraints that cannot all hold; a
        `concentration` or `population` that is not an :class:`xarray.DataArray`.

    Notes
    -----
    ``F(S) = J(E) − J(S ∪ E)`` (with ``J(∅)`` taken at the largest distance) is monotone
    submodular, so greedy addition reaches at least ``(1 − 1/e)`` of the best ``F``
    (Nemhauser et al., 1978); the substitution pass (Teitz & Bart, 1968) only lowers
    ``J``. The final sites are then ranked greedily (the one that alone lowers ``J`` most
    first, and so on), :attr:`SiteChoice.criterion_by_k` being ``J`` of the first 1, 2, …
    `n` of them (non-increasing). The cells of the existing stations are never candidates.
    Deterministic: ties go to the first cell in (y, x) order.

    References
    ----------
    Nemhauser, G. L., Wolsey, L. A., Fisher, M. L. (1978). An analysis of approximations for
    maximizing submodular set functions I. Math. Program. 14, 265-294. doi:10.1007/BF01588971

    Teitz, M. B., Bart, P. (1968). Heuristic methods for estimating the generalized vertex
    median of a weighted graph. Oper. Res. 16(5), 955-961. doi:10.1287/opre.16.5.955

    Kaufman, L., Rousseeuw, P. J. (1990). Finding Groups in Data. Wiley, ch. 2 (PAM).

    Kanaroglou, P. S. et al. (2005). Establishing an air pollution monitoring network for
    intra-urban population exposure assessment: a location-allocation approach. Atmos.
    Environ. 39, 2399-2409. doi:10.1016/j.atmosenv.2004.06.049

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> yy, xx = np.mgrid[0:10, 0:10] * 100.0
    >>> c = xr.DataArray(xx / 100.0, dims=("y", "x"),
    ...                  coords={"y": yy[:, 0], "x": xx[0]})
    >>> res = choose_sites(c, n=2)
    >>> sorted(res.new_sites["x"].tolist())
    [200.0, 700.0]
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"choose_sites: n = {n!r}; expected an integer >= 1.")
    if not (0.0 <= area_share <= 1.0):
        raise InputError(f"choose_sites: area_share = {area_share}; expected in [0, 1].")
    if not (min_spacing >= 0 and math.isfinite(min_spacing)):
        raise InputError(f"choose_sites: min_spacing = {min_spacing}; expected >= 0 [m].")
    if not (max_points >= 2 and math.isfinite(max_points)):
        raise InputError(f"choose_sites: max_points = {max_points}; expected a number >= 2.")
    _require_dataarray(concentration, "choose_sites: concentration")
    if sources is not None and "x" in concentration.coords and "y" in concentration.coords:
        _sources_near_grid(
            _points(sources, "choose_sites: sources"),
            np.asarray(concentration["x"].values, dtype=float),
            np.asarray(concentration["y"].values, dtype=float),
        )
    feats = site_features(
        concentration,
        contribution=contribution,
        territory_fraction=territory_fraction,
        sources=sources,
        distance_scale=distance_scale,
        block_weights=block_weights,
    )
    xs, ys = feats["x"].values, feats["y"].values
    nf = feats.sizes["feature"]
    flat = feats.values.reshape(nf, -1).T  # (cells, features)
    valid2d = np.isfinite(feats.values).all(axis=0)
    valid = valid2d.reshape(-1)
    if not valid.any():
        raise InputError("choose_sites: every cell of the concentration is NaN.")
    w2d = _cell_weights(valid2d, population, territory_fraction, concentration, area_share)
    w = w2d.reshape(-1)
    xx, yy = np.meshgrid(xs, ys)
    cell_xy = np.column_stack([xx.reshape(-1), yy.reshape(-1)])

    # territory of each cell (>= half of it), and the territories asked for
    terr_names: list[str] = []
    cell_terr = np.full(flat.shape[0], -1, np.int64)
    if territory_fraction is not None:
        tf = _territory_stack(territory_fraction, concentration)
        terr_names = [str(t) for t in tf["territory"].values]
        tv = np.nan_to_num(tf.values).reshape(len(terr_names), -1)
        top = tv.argmax(axis=0)
        cell_terr = np.where(tv.max(axis=0) >= 0.5, top, -1)
    if territories is True:
        if territory_fraction is None:
            raise InputError(
                "choose_sites: territories=True needs territory_fraction (territory, y, x)."
            )
        wanted = list(terr_names)
    elif territories is False or territories is None:
        wanted = []
    else:
        wanted = [str(t) for t in territories]
        unknown = [t for t in wanted if t not in terr_names]
        if unknown:
            raise InputError(
                f"choose_sites: unknown territory {unknown}; territory_fraction has "
                f"{terr_names or 'none'}. Use those ids (or pass territory_fraction)."
            )
    required = {terr_names.index(t) for t in wanted}

    # candidates
    if candidates is None:
        cand = np.flatnonzero(valid)
    elif isinstance(candidates, xr.DataArray):
        require_dims(candidates.dims, ("y", "x"), "choose_sites: candidates")
        _check_same_grid(candidates, concentration, "choose_sites: candidates")
        mask = candidates.transpose("y", "x").values.astype(bool).reshape(-1)
        if not mask.any():
            raise InputError(
                "choose_sites: the candidate mask is empty (no True cell); allow at least "
                f"n = {n} cells."
            )
        cand = np.flatnonzero(mask & valid)
    else:
        pts = _points(candidates, "choose_sites: candidates")
        if len(pts) == 0:
            raise InputError("choose_sites: no candidate point; pass at least n points.")
        cand = np.unique(_cells_of(pts, xs, ys, "choose_sites: candidates"))
        cand = cand[valid[cand]]

    # existing stations
    exist = (
        _points(existing, "choose_sites: existing")
        if existing is not None
        else pd.DataFrame(columns=["x", "y"], dtype=float)
    )
    ecells = _cells_of(exist, xs, ys, "choose_sites: existing")
    bad = ~valid[ecells] if len(ecells) else np.zeros(0, bool)
    if bad.any():
        raise InputError(
            f"choose_sites: existing station(s) {[str(i) for i in exist.index[bad]]} lie on "
            "cells without features (NaN concentration, masked); drop them or fill the field."
        )
    # a station's cell is never a new site (a tie in the gains could otherwise pick it)
    on_station = np.isin(cand, ecells)
    cand = cand[~on_station]
    if len(cand) < n:
        held = f" ({int(on_station.sum())} more hold a station)" if on_station.any() else ""
        raise InputError(
            f"choose_sites: n = {n} monitors but only {len(cand)} candidate cell(s) with "
            f"features{held}; lower n or widen the candidates."
        )
    covered0 = {int(cell_terr[c]) for c in ecells} & required
    missing = required - covered0 - set(cell_terr[cand].tolist())
    if missing:
        raise InputError(
            "choose_sites: no candidate cell in territory "
            f"{sorted(terr_names[i] for i in missing)}; widen the candidates there or leave "
            "it out of `territories`."
        )
    if len(required - covered0) > n:
        raise InputError(
            f"choose_sites: {len(required - covered0)} territories still need a monitor but "
            f"n = {n}; raise n or ask for fewer territories."
        )

    # demand points and candidate representatives (aggregated on large grids)
    demand = np.flatnonzero(valid & (w > 0))
    info: dict[str, Any] = {"cells": int(len(demand)), "candidate_cells": int(len(cand))}
    if len(demand) > max_points:
        binned, n_bins, h = _aggregate(flat[demand], max_points)
        wd = np.bincount(binned, weights=w[demand], minlength=n_bins)
        fd = (
            np.stack(
                [
                    np.bincount(binned, weights=w[demand] * flat[demand, j], minlength=n_bins)
                    for j in range(nf)
                ],
                axis=1,
            )
            / wd[:, None]
        )
        info["demand_step"] = h
    else:
        wd, fd = w[demand], flat[demand]
        info["demand_step"] = 0.0
    if len(cand) > max_points:
        tiles = None
        if min_spacing > 0:
            tx = np.floor(cell_xy[cand, 0] / min_spacing).astype(np.int64)
            ty = np.floor(cell_xy[cand, 1] / min_spacing).astype(np.int64)
            tiles = tx * 1_000_003 + ty
        binned, n_bins, h = _aggregate(flat[cand], max_points, tiles)
        counts = np.bincount(binned, minlength=n_bins)
        cen = (
            np.stack(
                [np.bincount(binned, weights=flat[cand, j], minlength=n_bins) for j in range(nf)],
                axis=1,
            )
            / counts[:, None]
        )
        off = np.sqrt(((flat[cand] - cen[binned]) ** 2).sum(axis=1))
        order = np.lexsort((cand, off, binned))
        first = np.r_[True, binned[order][1:] != binned[order][:-1]]
        reps = np.sort(cand[order[first]])
        # territories asked for keep one representative each
        for t in required - covered0:
            if not (cell_terr[reps] == t).any():
                inside = cand[cell_terr[cand] == t]
                reps = np.sort(np.r_[reps, inside[np.argmax(w[inside])]])
        info["candidate_step"] = h
    else:
        reps = cand
        info["candidate_step"] = 0.0
    info["demand_points"], info["candidates"] = int(len(wd)), int(len(reps))
    if len(reps) < n:
        raise InputError(
            f"choose_sites: only {len(reps)} distinct candidates after aggregation for "
            f"n = {n}; raise max_points."
        )

    dist = np.empty((len(reps), len(fd)))
    for start in range(0, len(reps), 256):
        part = flat[reps[start : start + 256]]
        dist[start : start + 256] = np.sqrt(((part[:, None, :] - fd[None, :, :]) ** 2).sum(axis=2))
    base = _distances(fd, flat[ecells]).min(axis=1) if len(ecells) else np.full(len(fd), np.inf)
    problem = _Problem(
        dist=dist,
        weights=wd / wd.sum(),
        base=base,
        xy=cell_xy[reps],
        exist_xy=exist[["x", "y"]].to_numpy(float).reshape(-1, 2),
        territory=cell_terr[reps],
        required=required,
        covered0=covered0,
        min_spacing=float(min_spacing),
    )
    found = reps[_search(problem, int(n), refine)]

    # exact criteria on every cell; the new sites in the order in which they lower J most
    fdem, wdem = flat[demand], w[demand] / w[demand].sum()
    m = len(ecells)
    d_stations = _distances(fdem, flat[ecells])  # (demand, station)
    d_exist = d_stations.min(axis=1) if m else np.full(len(fdem), np.inf)
    final = np.sort(found)  # ties in the ranking go to the first cell in (y, x) order
    d_final = _distances(fdem, flat[final])
    new_cells, by_k = _ranked(final, d_final, d_exist, wdem)
    all_cells = np.r_[ecells, new_cells]
    # the columns computed above, in the order of all_cells (the stations, then the ranks)
    d_all = np.hstack([d_stations, d_final[:, np.searchsorted(final, new_cells)]])

    def crit(cols: np.ndarray) -> float:
        return float(wdem @ d_all[:, cols].min(axis=1)) if len(cols) else math.inf

    loss = [crit(np.delete(np.arange(len(all_cells)), i)) - by_k[-1] for i in range(len(all_cells))]
    ids = [str(i) for i in exist.index] + [f"new{k + 1}" for k in range(n)]
    sites = pd.DataFrame(
        {
            "site": ids,
            "x": cell_xy[all_cells, 0],
            "y": cell_xy[all_cells, 1],
            "territory": [terr_names[t] if t >= 0 else "" for t in cell_terr[all_cells]],
            "existing": [True] * m + [False] * n,
            "rank": [0] * m + list(range(1, n + 1)),
            "loss_if_removed": loss,
        }
    )
    weights = xr.DataArray(
        np.where(valid2d, w2d, np.nan),
        dims=("y", "x"),
        coords={"y": feats["y"], "x": feats["x"]},
        name="siting_weight",
        attrs={"units": "1", "long_name": "normalised importance of each cell for siting"},
    )
    return SiteChoice(
        sites=sites,
        criterion=by_k[-1],
        criterion_new=crit(np.arange(m, m + n)),
        criterion_existing=crit(np.arange(m)),
        criterion_by_k=by_k,
        features=feats,
        weights=weights,
        info=info,
    )


# --------------------------------------------------------------------------------------------
# from the output of a run
# --------------------------------------------------------------------------------------------


def _main_sources(emission: xr.DataArray, n_sources: int, separation: float) -> pd.DataFrame:
    """The `n_sources` cells of largest emission (each pollutant's share of its total),
    at least `separation` [m] apart."""
    e = emission.fillna(0.0)
    if "sector" in e.dims:
        e = e.sum("sector")
    if "pollutant" in e.dims:
        tot = e.sum(("y", "x"))
        e = (e / tot.where(tot > 0)).fillna(0.0).sum("pollutant")
    values = e.transpose("y", "x").values
    order = np.argsort(-values, axis=None, kind="stable")
    xx, yy = np.meshgrid(e["x"].values, e["y"].values)
    px, py = xx.reshape(-1), yy.reshape(-1)
    chosen: list[int] = []
    for idx in order[: max(1000, 50 * n_sources)]:
        if values.flat[idx] <= 0 or len(chosen) >= n_sources:
            break
        if all(math.hypot(px[idx] - px[j], py[idx] - py[j]) >= separation for j in chosen):
            chosen.append(int(idx))
    return pd.DataFrame({"x": px[chosen], "y": py[chosen]})


def _canonical_or_as_given(name: Any) -> Any:
    """The canonical id of a pollutant alias (``no2`` -> ``NO2``), else `name` unchanged
    (then said not to be in the file)."""
    try:
        return normalise_pollutant(name, what="choose_sites_from_output: pollutants")
    except InputError:
        return name


def _population_of_year(population: xr.DataArray, year: int) -> xr.DataArray:
    """The ``(y, x)`` map of `year` of a ``(year, y, x)`` population, else that of the
    nearest year it holds (said with a warning)."""
    held = [int(v) for v in population["year"].values]
    if not held:
        raise InputError(
            "choose_sites_from_output: population has an empty 'year' dimension; pass the "
            "population of the run grid, (y, x) or (year, y, x)."
        )
    if year in held:
        return population.sel(year=year)
    nearest = min(held, key=lambda y: (abs(y - year), y))
    warn(
        f"choose_sites_from_output: population has no map for {year} (years "
        f"{year_ranges(held)}); the nearest, {nearest}, is used."
    )
    return population.sel(year=nearest)


def choose_sites_from_output(
    ds: xr.Dataset,
    year: int,
    n: int = 8,
    *,
    pollutants: Sequence[str] | str | None = None,
    population: xr.DataArray | None = None,
    use_stations: bool = True,
    n_sources: int = 10,
    source_separation: float = 2000.0,
    **kwargs: Any,
) -> SiteChoice:
    """Choose monitor sites from the output Dataset of ``trajectoire run``.

    Builds the inputs of :func:`choose_sites` from the file's variables for one `year`:
    ``concentration`` of the `pollutants`, their ``contribution`` (a map year is needed),
    ``territory_fraction``, the main sources (the `n_sources` cells of largest emission,
    each pollutant weighed by its share of its own total, at least `source_separation`
    apart) and the stations ``station_x``, ``station_y`` as existing monitors.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of a run (``trajectoire.io`` / ``xarray.open_dataset``).
    year : int
        Year of the fields; a map year (global attribute ``map_years``) for the sector
        shares.
    n : int, default 8
        Number of new monitors.
    pollutants : str or list of str, optional
        Pollutant ids or aliases (``no2``, ``pm25``). Default: ``NO2``, ``PM10`` and
        ``PM2.5`` where present, else every pollutant.
    population : xarray.DataArray, optional
        Inhabitants per cell ``(y, x)``, or ``(year, y, x)`` (the `year` is taken, else the
        nearest year it holds, with a warning); default the file's ``population``
        variable, else the area alone (with a warning).
    use_stations : bool, default True
        Count the file's stations as existing monitors (those on masked cells are dropped
        with a warning).
    n_sources, source_separation : int, float
        Number of main sources and their minimum distance [m].
    **kwargs
        Passed to :func:`choose_sites` (``territories``, ``min_spacing``, ``candidates``…).

    Returns
    -------
    SiteChoice
        As :func:`choose_sites`; ``criterion_existing`` is the stations' network.

    Raises
    ------
    trajectoire.InputError
        A year or pollutant not in the file (a dataset cut to one year with ``.sel`` is
        read for that year only), a year without contribution maps, a `year` that is not
        a whole year (``2023.5``), a negative `n_sources`, a `population` that is not an
        :class:`xarray.DataArray`.
    """
    if "concentration" not in ds:
        raise MissingVariableError(
            "choose_sites_from_output: the dataset has no 'concentration'; pass the output "
            "of `trajectoire run`."
        )
    year = require_year(year, "choose_sites_from_output: year")
    if (
        not isinstance(n_sources, int | np.integer)
        or isinstance(n_sources, bool | np.bool_)
        or n_sources < 0
    ):
        raise InputError(
            f"choose_sites_from_output: n_sources={n_sources!r}; expected a whole number "
            ">= 0 of main sources (0: none). Pass e.g. n_sources=10."
        )
    if population is not None:
        _require_dataarray(population, "choose_sites_from_output: population")
    if "year" not in ds.coords:
        raise MissingVariableError(
            "choose_sites_from_output: the dataset has no 'year' coordinate; pass the output "
            "of `trajectoire run`."
        )
    years = [int(v) for v in np.atleast_1d(ds["year"].values)]
    if year not in years:
        raise InputError(
            f"choose_sites_from_output: year {year} is not in the file (years {years[0]}.."
            f"{years[-1]}); pick one of them."
        )
    # a dataset already cut to one year (ds.sel(year=2023)) has a scalar 'year': kept as is
    at_year: dict[Any, Any] = {"year": year} if "year" in ds.dims else {}
    have = [str(p) for p in ds["pollutant"].values]
    if pollutants is None:
        pols = [p for p in ("NO2", "PM10", "PM2.5") if p in have] or have
    else:
        given = [pollutants] if isinstance(pollutants, str) else list(pollutants)
        pols = [p if p in have else _canonical_or_as_given(p) for p in given]
        unknown = [p for p in pols if p not in have]
        if unknown:
            raise InputError(
                f"choose_sites_from_output: pollutant {unknown} not in the file; it has {have}."
            )
    conc = ds["concentration"].sel(at_year).sel(pollutant=pols)
    contrib = None
    if "contribution" in ds:
        contrib = ds["contribution"].sel(at_year).sel(pollutant=pols)
        if not bool(np.isfinite(contrib.values).any()):
            raise InputError(
                f"choose_sites_from_output: no contribution maps for {year}; pick a map "
                f"year ({ds.attrs.get('map_years', 'global attribute map_years')}) or drop "
                "'contribution' from the dataset."
            )
    sources = None
    if "emission" in ds:
        sources = _main_sources(
            ds["emission"].sel(at_year).sel(pollutant=pols), n_sources, source_separation
        )
        if len(sources) == 0:
            sources = None
    if population is None and "population" in ds:
        population = ds["population"]
    if population is not None and "year" in population.dims:
        population = _population_of_year(population, year)
    if population is None:
        warn(
            "choose_sites_from_output: no population given and none in the file; the cells "
            "are weighed by area alone. Pass population=... (inhabitants per cell)."
        )
    existing = None
    if use_stations and "station_x" in ds and "station_y" in ds:
        existing = pd.DataFrame(
            {"x": ds["station_x"].values.astype(float), "y": ds["station_y"].values.astype(float)},
            index=[str(s) for s in ds["station"].values],
        )
        xs, ys = ds["x"].values, ds["y"].values
        dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
        inside = (
            (existing["x"] >= xs.min() - dx / 2)
            & (existing["x"] <= xs.max() + dx / 2)
            & (existing["y"] >= ys.min() - dy / 2)
            & (existing["y"] <= ys.max() + dy / 2)
        ).to_numpy()
        ok = inside.copy()
        if inside.any():
            cells = _cells_of(existing[inside], xs, ys, "stations")
            finite = np.isfinite(conc.values).all(axis=0).reshape(-1)[cells]
            ok[np.flatnonzero(inside)] = finite
        if not ok.all():
            warn(
                "choose_sites_from_output: station(s) "
                f"{list(existing.index[~ok])} lie outside the grid or on masked cells; "
                "they are not counted as existing monitors."
            )
        existing = existing[ok]
    return choose_sites(
        conc,
        n,
        population=population,
        contribution=contrib,
        territory_fraction=ds["territory_fraction"] if "territory_fraction" in ds else None,
        sources=sources,
        existing=existing,
        **kwargs,
    )
