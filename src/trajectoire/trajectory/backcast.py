"""Historical emission trajectory: a consistent emission grid for every year.

:func:`rebuild` turns one reference inventory (plus optional anchor inventories of other
years, trend indices, point-source registers and yearly spatial proxies) into the lazy,
dask-backed ``emission(year, sector, pollutant, y, x)`` of the output NetCDF, with the method
used for every ``(year, sector, pollutant)`` recorded in ``method``. The time-series methods
follow IPCC (2006) vol. 1 ch. 5 (see :mod:`trajectoire.trends`).

Every year's field is a linear combination of a few **basis fields** (the anchors' gridded
emissions, and the anchors reweighted by each proxy year)::

    emission(year, s, p) = sum_b basis_weight(year, b, s, p) * basis_emission(b, s, p)

so that a linear model downstream (a dispersion convolution) can transform each basis field
once and combine the results with the scalar weights. ``scale(year, s, p)`` and
``pattern_changed(year, s, p)`` say when a year is only the reference field times a number.

References
----------
IPCC (2006). *2006 IPCC Guidelines for National Greenhouse Gas Inventories*, vol. 1, ch. 5
"Time series consistency". IGES, Hayama.
EMEP/EEA (2023). *Air pollutant emission inventory guidebook 2023*, Part A, ch. 4.
doi:10.2800/795737.
"""

from __future__ import annotations

import itertools
import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from trajectoire._validate import (
    require_columns,
    require_dims,
    require_known,
    require_unique,
    rows_preview,
)
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.errors import ConfigError, InputError, MissingVariableError, warn
from trajectoire.geo.grid import Grid
from trajectoire.sectors import normalise_sector
from trajectoire.species import POLLUTANTS
from trajectoire.trajectory.trends import Method, ratio_series, validate_trends
from trajectoire.units import normalise_units

__all__ = [
    "METHOD_LABELS",
    "Uncertainty",
    "census_proxy",
    "monte_carlo",
    "rebuild",
    "synthetic_inventory",
]

#: Strings of the ``method(year, sector, pollutant)`` output variable.
METHOD_LABELS: tuple[str, ...] = (
    "reference",
    "anchor",
    "interpolation",
    "index",
    "overlap",
    "surrogate",
    "extrapolation",
    "register",
)

ProxySpec = xr.DataArray | Callable[[int], xr.DataArray]
MethodsSpec = Mapping[str | tuple[str, str], str | Method]


# =========================================================================== factory
def synthetic_inventory(
    grid: Grid | None = None,
    *,
    sectors: Sequence[str] = ("A_PublicPower", "F_RoadTransport"),
    pollutants: Sequence[str] = ("NOx", "PM10"),
    reference_year: int = 2018,
    n_sources: int = 3,
    seed: int = 0,
    dtype: str = "float64",
    lazy: bool = False,
) -> xr.Dataset:
    """A random reference inventory following docs/data-model.md (for tests and benchmarks).

    Parameters
    ----------
    grid : Grid, optional
        Grid of the inventory; default 10 x 8 cells of 100 m in Lambert-93.
    sectors, pollutants : sequence of str
        GNFR ids and pollutant ids.
    reference_year : int, default 2018
        ``attrs["reference_year"]``.
    n_sources : int, default 3
        Number of point stacks (sectors cycled, positions inside the grid, open lifetimes).
    seed : int, default 0
        Random seed.
    dtype : str, default "float64"
        Dtype of ``emission``.
    lazy : bool, default False
        Build ``emission`` as a dask array chunked per (sector, pollutant), generated on
        demand (for grids too large to hold).

    Returns
    -------
    xarray.Dataset
        ``emission(sector, pollutant, y, x)`` [t yr-1] and the point-source variables.

    Examples
    --------
    >>> ds = synthetic_inventory()
    >>> ds["emission"].dims, int(ds.attrs["reference_year"])
    (('sector', 'pollutant', 'y', 'x'), 2018)
    """
    g = grid if grid is not None else Grid.from_bounds(700_000, 7_050_000, 701_000, 7_050_800, 100)
    rng = np.random.default_rng(seed)
    shape = (len(sectors), len(pollutants), g.ny, g.nx)
    data: Any
    if lazy:
        drng = da.random.default_rng(seed)
        data = drng.random(shape, chunks=(1, 1, g.ny, g.nx), dtype=np.float64).astype(dtype)
    else:
        data = rng.random(shape, dtype=np.dtype(dtype).type)
    coords: dict[str, Any] = {
        "sector": list(sectors),
        "pollutant": list(pollutants),
        **g.coords(),
    }
    ds = xr.Dataset(coords=coords)
    ds["emission"] = xr.DataArray(
        data, dims=("sector", "pollutant", "y", "x"), attrs={"units": "t yr-1"}
    )
    n = int(n_sources)
    src = [f"S{i:03d}" for i in range(n)]
    ds = ds.assign_coords(source=src)
    ds["point_emission"] = xr.DataArray(
        rng.uniform(1.0, 10.0, (n, len(pollutants))),
        dims=("source", "pollutant"),
        attrs={"units": "t yr-1"},
    )
    ds["source_x"] = ("source", rng.uniform(g.xmin, g.xmax, n), {"units": "m"})
    ds["source_y"] = ("source", rng.uniform(g.ymin, g.ymax, n), {"units": "m"})
    ds["source_sector"] = ("source", np.array([sectors[i % len(sectors)] for i in range(n)]))
    ds["stack_height"] = ("source", rng.uniform(20, 80, n), {"units": "m"})
    ds["stack_diameter"] = ("source", rng.uniform(1, 4, n), {"units": "m"})
    ds["exit_temperature"] = ("source", rng.uniform(350, 450, n), {"units": "K"})
    ds["exit_velocity"] = ("source", rng.uniform(5, 20, n), {"units": "m s-1"})
    ds["start_year"] = ("source", np.full(n, -1, dtype=np.int64))
    ds["end_year"] = ("source", np.full(n, -1, dtype=np.int64))
    ds["source_name"] = ("source", np.array([f"stack {s}" for s in src]))
    ds.attrs = {"crs": g.crs.to_string(), "reference_year": int(reference_year)}
    return ds


def census_proxy(zones: Any, grid: Grid, *, prefix: str = "pop_") -> xr.DataArray:
    """Population per cell at each census year, as a proxy for :func:`rebuild`.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Population zones (``zones.gpkg``) with columns ``pop_<census year>``.
    grid : Grid
        Grid of the reference inventory.
    prefix : str, default "pop_"
        Prefix of the census columns.

    Returns
    -------
    xarray.DataArray
        ``(year, y, x)`` inhabitants per cell at the census years (spread within each zone
        by :func:`trajectoire.inventory.proxy_grid` with ``"population"``). :func:`rebuild`
        interpolates linearly between census years and holds the ends constant.

    Raises
    ------
    trajectoire.MissingVariableError
        No ``pop_<year>`` column.
    """
    from trajectoire.inventory.build import proxy_grid

    cols = sorted(
        (int(c[len(prefix) :]), c)
        for c in zones.columns
        if str(c).startswith(prefix) and str(c)[len(prefix) :].isdigit()
    )
    if not cols:
        raise MissingVariableError(
            f"zones: no census column '{prefix}<year>' (columns {list(zones.columns)}); "
            "expected e.g. pop_1990, pop_1999 (docs/input-formats.md)."
        )
    fields = [proxy_grid("population", grid, zones=zones, population_column=col) for _, col in cols]
    return xr.DataArray(
        np.stack(fields),
        dims=("year", "y", "x"),
        coords={"year": [y for y, _ in cols], **grid.coords()},
        name="population",
        attrs={"units": "1", "long_name": "inhabitants per cell at census years"},
    )


# =========================================================================== inputs
@dataclass
class _Inventory:
    year: int
    emission: Any  # numpy or dask array (sector, pollutant, y, x) in t yr-1
    ds: xr.Dataset


def _check_inventory(ds: xr.Dataset, what: str) -> _Inventory:
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"{what}: expected an xarray.Dataset, got {type(ds).__name__}.")
    if "emission" not in ds:
        raise MissingVariableError(
            f"{what}: no 'emission' variable (has {list(ds.data_vars)}); expected "
            "emission(sector, pollutant, y, x) [t yr-1] (docs/data-model.md)."
        )
    em = ds["emission"]
    require_dims(em.dims, ("sector", "pollutant", "y", "x"), f"{what}, variable 'emission'")
    if len(em.dims) != 4:
        raise InputError(
            f"{what}, variable 'emission': dims {em.dims}; expected exactly "
            "(sector, pollutant, y, x). Select or sum the extra dimensions first."
        )
    units = normalise_units(em.attrs.get("units"), "emission_rate", what=f"{what} 'emission'")
    if units != "t yr-1":
        raise InputError(
            f"{what}, variable 'emission': units {units!r}; the trajectory works in 't yr-1' "
            "per cell. Convert with trajectoire.units.convert first."
        )
    year = ds.attrs.get("reference_year")
    if year is None or not float(year).is_integer():
        raise MissingVariableError(
            f"{what}: attrs['reference_year'] is {year!r}; set it to the inventory's year, "
            "e.g. ds.attrs['reference_year'] = 2018."
        )
    sectors = [str(s) for s in ds["sector"].values]
    canon = [normalise_sector(s, what=f"{what}, coordinate 'sector'") for s in sectors]
    if canon != sectors:
        raise InputError(
            f"{what}: sector labels {sectors} are not canonical GNFR ids; relabel with "
            f".assign_coords(sector={canon})."
        )
    require_unique(sectors, f"{what}, coordinate 'sector'")
    pols = [str(p) for p in ds["pollutant"].values]
    require_known(pols, POLLUTANTS, f"{what}, coordinate 'pollutant'")
    require_unique(pols, f"{what}, coordinate 'pollutant'")
    Grid.from_xarray(ds)  # raises GridError on a bad grid or missing CRS
    em = em.transpose("sector", "pollutant", "y", "x")
    return _Inventory(int(year), em.data, ds)


def _same_grid(a: xr.Dataset, b: xr.Dataset) -> bool:
    return Grid.from_xarray(a).same_as(Grid.from_xarray(b))


def _check_anchor_agreement(ref: xr.Dataset, other: xr.Dataset, what: str) -> None:
    for dim in ("sector", "pollutant"):
        mine = [str(v) for v in ref[dim].values]
        theirs = [str(v) for v in other[dim].values]
        if mine != theirs:
            only_ref = sorted(set(mine) - set(theirs))
            only_other = sorted(set(theirs) - set(mine))
            raise InputError(
                f"{what} disagrees with the reference on {dim}s: reference {mine}, anchor "
                f"{theirs} (only in reference: {only_ref}; only in anchor: {only_other}; "
                "or a different order). Give every anchor the same "
                f"{dim}s in the same order: anchor.reindex({dim}=reference.{dim}, "
                "fill_value=0) where a zero is right."
            )
    if not _same_grid(ref, other):
        raise InputError(
            f"{what} is not on the reference grid ({Grid.from_xarray(other)} vs "
            f"{Grid.from_xarray(ref)}). Regrid it first with trajectoire.regrid(anchor, grid)."
        )


@dataclass
class _Points:
    ids: list[str]
    sector: np.ndarray  # index into sectors
    ref: np.ndarray  # (source, pollutant) t yr-1
    start: np.ndarray
    end: np.ndarray
    static: dict[str, xr.DataArray] = field(default_factory=dict)


def _check_points(ds: xr.Dataset, sectors: list[str], pols: list[str], what: str) -> _Points:
    if "source" not in ds.dims or ds.sizes["source"] == 0 or "point_emission" not in ds:
        return _Points([], np.zeros(0, int), np.zeros((0, len(pols))), np.zeros(0), np.zeros(0))
    pe = ds["point_emission"]
    require_dims(pe.dims, ("source", "pollutant"), f"{what}, variable 'point_emission'")
    units = normalise_units(pe.attrs.get("units"), "emission_rate", what=f"{what} point_emission")
    if units != "t yr-1":
        raise InputError(f"{what}, 'point_emission': units {units!r}; expected 't yr-1'.")
    if [str(p) for p in pe["pollutant"].values] != pols:
        pe = pe.reindex(pollutant=pols, fill_value=0.0)
    ids = [str(s) for s in ds["source"].values]
    require_unique(ids, f"{what}, coordinate 'source'")
    if "source_sector" not in ds:
        raise MissingVariableError(f"{what}: point sources need 'source_sector(source)'.")
    sec = [str(s) for s in ds["source_sector"].values]
    unknown = sorted(set(sec) - set(sectors))
    if unknown:
        raise InputError(
            f"{what}, variable 'source_sector': sector(s) {unknown} of point sources are not "
            f"among the inventory's sectors {sectors}; add them to 'emission' (zeros) or fix "
            "the sector of those stacks."
        )
    ref = np.asarray(pe.transpose("source", "pollutant").values, dtype=float)
    from trajectoire._validate import require_non_negative

    require_non_negative(ref, f"{what}, variable 'point_emission'", ids)
    start = np.asarray(ds["start_year"].values if "start_year" in ds else np.full(len(ids), -1))
    end = np.asarray(ds["end_year"].values if "end_year" in ds else np.full(len(ids), -1))
    # readers may store an unknown year as NaN rather than -1
    start = np.where(np.isnan(start.astype(float)), -1, start)
    end = np.where(np.isnan(end.astype(float)), -1, end)
    static = {
        name: ds[name]
        for name in (
            "source_x",
            "source_y",
            "source_sector",
            "stack_height",
            "stack_diameter",
            "exit_temperature",
            "exit_velocity",
            "start_year",
            "end_year",
            "source_name",
        )
        if name in ds
    }
    return _Points(
        ids,
        np.array([sectors.index(s) for s in sec], dtype=int),
        ref,
        start.astype(np.int64),
        end.astype(np.int64),
        static,
    )


def _resolve_methods(
    methods: MethodsSpec | None, sectors: list[str], pols: list[str]
) -> dict[tuple[str, str], Method]:
    default = Method()
    by_sector: dict[str, Method] = {}
    by_pair: dict[tuple[str, str], Method] = {}
    for key, spec in (methods or {}).items():
        m = Method.parse(spec)
        if isinstance(key, tuple):
            if len(key) != 2:
                raise ConfigError(f"methods key {key!r}: expected (sector, pollutant).")
            s = normalise_sector(key[0], what="methods key")
            if str(key[1]) not in pols:
                raise ConfigError(f"methods key {key!r}: pollutant not in the inventory {pols}.")
            by_pair[(s, str(key[1]))] = m
        elif key in ("default", "*"):
            default = m
        else:
            s = normalise_sector(str(key), what="methods key")
            if s not in sectors:
                raise ConfigError(
                    f"methods key {key!r}: sector {s} is not in the inventory {sectors}."
                )
            by_sector[s] = m
    return {(s, p): by_pair.get((s, p), by_sector.get(s, default)) for s in sectors for p in pols}


def _check_years(years: Sequence[int] | range) -> list[int]:
    ys = [int(y) for y in years]
    if not ys:
        raise InputError("years: empty; pass e.g. range(1990, 2024).")
    if any(float(y) != float(v) for y, v in zip(ys, years, strict=True)):
        raise InputError(f"years: {list(years)} are not whole years.")
    require_unique(ys, "years")
    if ys != sorted(ys):
        raise InputError(f"years: {ys} are not increasing; pass them sorted.")
    return ys


def _check_register(
    table: pd.DataFrame, ids: list[str], pols: list[str], what: str = "point_history"
) -> pd.DataFrame:
    require_columns(table.columns, ["source_id", "year", "pollutant", "emission"], what)
    t = table.loc[:, ["source_id", "year", "pollutant", "emission"]].copy()
    t["source_id"] = t["source_id"].astype(str)
    t["pollutant"] = t["pollutant"].astype(str)
    require_known(t["source_id"], ids, f"{what}, column 'source_id'")
    t = t[t["pollutant"].isin(pols)]
    t["year"] = pd.to_numeric(t["year"], errors="raise").astype(np.int64)
    t["emission"] = pd.to_numeric(t["emission"], errors="coerce").astype(float)
    from trajectoire._validate import require_non_negative

    require_non_negative(t["emission"].to_numpy(), f"{what}, column 'emission'")
    dup = t.duplicated(["source_id", "year", "pollutant"])
    if dup.any():
        r = t.loc[dup].iloc[0]
        raise InputError(
            f"{what}: several rows for source {r['source_id']}, year {r['year']}, pollutant "
            f"{r['pollutant']}; keep one figure per source, year and pollutant."
        )
    return t


# =========================================================================== helpers
def _interp_weights(knots: Sequence[int], year: int) -> np.ndarray:
    """Linear interpolation weights of `year` on sorted `knots`, held constant outside."""
    k = np.asarray(knots, dtype=float)
    w = np.zeros(k.size)
    if year <= k[0]:
        w[0] = 1.0
    elif year >= k[-1]:
        w[-1] = 1.0
    else:
        j = int(np.searchsorted(k, year, side="right")) - 1
        t = (year - k[j]) / (k[j + 1] - k[j])
        w[j], w[j + 1] = 1.0 - t, t
    return w


def _is_dask(x: Any) -> bool:
    return isinstance(x, da.Array)


@dataclass
class _Proxy:
    name: str
    knots: list[int]
    fields: list[Any]  # (y, x) numpy or dask arrays


def _check_proxy(
    name: str, spec: ProxySpec, ref_ds: xr.Dataset, years: list[int], what: str
) -> _Proxy:
    if callable(spec) and not isinstance(spec, xr.DataArray):
        knots = sorted(set(years))
        arrays = []
        for y in knots:
            arr = spec(y)
            if not isinstance(arr, xr.DataArray):
                raise InputError(
                    f"{what}: the proxy callable returned {type(arr).__name__} for year {y}; "
                    "expected an xarray.DataArray (y, x) on the reference grid."
                )
            arrays.append(arr.expand_dims(year=[y]))
        spec = xr.concat(arrays, dim="year")
    assert isinstance(spec, xr.DataArray)
    require_dims(spec.dims, ("year", "y", "x"), what)
    spec = spec.transpose("year", "y", "x")
    if spec.sizes["y"] != ref_ds.sizes["y"] or spec.sizes["x"] != ref_ds.sizes["x"]:
        raise InputError(
            f"{what}: shape {dict(spec.sizes)} differs from the reference grid "
            f"(y={ref_ds.sizes['y']}, x={ref_ds.sizes['x']}); regrid the proxy first."
        )
    for c in ("y", "x"):
        if c in spec.coords and not np.allclose(spec[c].values, ref_ds[c].values):
            raise InputError(
                f"{what}: coordinate {c!r} differs from the reference grid; regrid the proxy "
                "onto the reference grid (trajectoire.regrid)."
            )
    knots = [int(v) for v in spec["year"].values]
    require_unique(knots, f"{what}, coordinate 'year'")
    order = np.argsort(knots)
    knots = [knots[i] for i in order]
    data = spec.data
    fields = [data[int(i)] for i in order]
    if not _is_dask(data):
        values = np.asarray(data, dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InputError(f"{what}: NaN or negative proxy values; proxies must be >= 0.")
    return _Proxy(name, knots, fields)


def _sums(arrays: list[Any]) -> list[np.ndarray]:
    """Domain sums over the last two axes, eager (numpy) or streamed (one dask compute)."""
    out: list[Any] = [None] * len(arrays)
    lazy = {}
    for i, a in enumerate(arrays):
        if _is_dask(a):
            lazy[i] = a.sum(axis=(-2, -1), dtype=np.float64)
        else:
            out[i] = np.asarray(a).sum(axis=(-2, -1), dtype=np.float64)
    if lazy:
        values = dask.compute(*lazy.values())
        for i, v in zip(lazy, values, strict=True):
            out[i] = np.asarray(v)
    return out


def _weighted_sums(em: Any, ratio: Any) -> Any:
    """Sum over cells of em(s, p, y, x) * ratio(y, x), without a full-size temporary."""
    if _is_dask(em) or _is_dask(ratio):
        return (da.asarray(em) * da.asarray(ratio)[None, None]).sum(axis=(-2, -1), dtype=np.float64)
    r = np.asarray(ratio, dtype=np.float64)
    return np.stack(
        [np.einsum("pyx,yx->p", np.asarray(em[s], np.float64), r) for s in range(em.shape[0])]
    )


def _combine(weights: np.ndarray, blocks: list[np.ndarray], dtype: Any) -> np.ndarray:
    """One output chunk: sum_b weights[b, s, p] * blocks[b][0, s, p, y, x], with a year axis."""
    out = blocks[0][0] * weights[0][:, :, None, None]  # float64, as the weights
    for w, b in zip(weights[1:], blocks[1:], strict=True):
        out += w[:, :, None, None] * b[0]
    return out.astype(dtype, copy=False)[None]


def _view_array(x: np.ndarray, chunks: tuple[Any, ...]) -> da.Array:
    """A dask array whose blocks are views of `x` (``da.from_array`` copies numpy inputs)."""
    norm = da.core.normalize_chunks(chunks, x.shape, dtype=x.dtype)
    name = "view-" + tokenize(id(x), x.shape, x.dtype.str, norm, uuid.uuid4().hex)
    src = "source-" + name
    dsk: dict[Any, Any] = {src: x}
    offsets = [np.concatenate([[0], np.cumsum(c)]).astype(int) for c in norm]
    for idx in itertools.product(*[range(len(c)) for c in norm]):
        sl = tuple(slice(int(o[i]), int(o[i + 1])) for o, i in zip(offsets, idx, strict=True))
        dsk[(name, *idx)] = (operator.getitem, src, sl)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
    return da.Array(graph, name, chunks=norm, dtype=x.dtype)


def _zeros_block(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _chunk_sizes(n: int, c: int) -> tuple[int, ...]:
    c = n if c in (-1, None) or c >= n else int(c)
    sizes = [c] * (n // c)
    if n % c:
        sizes.append(n % c)
    return tuple(sizes)


# =========================================================================== uncertainty
@dataclass(frozen=True)
class Uncertainty:
    """Monte Carlo settings for the emission totals (lognormal, correlated across years).

    Parameters
    ----------
    half_width : float, mapping or pandas.DataFrame
        Half-width of the 95 % interval [%] of each (sector, pollutant) total: one number for
        all, a mapping keyed by sector or ``(sector, pollutant)`` (``"default"`` for the
        rest), or a table with columns ``sector``, ``pollutant``, ``half_width``.
    realizations : int, default 100
        Ensemble size.
    rho : float, default 0.9
        Year-to-year correlation of the log-errors (AR(1) coefficient per year), in [0, 1].
    seed : int, default 0
        Random seed (the ensemble is reproducible).
    percentiles : tuple of float, default (2.5, 50, 97.5)
        Percentiles of the totals to report [%].
    """

    half_width: float | Mapping[Any, float] | pd.DataFrame = 30.0
    realizations: int = 100
    rho: float = 0.9
    seed: int = 0
    percentiles: tuple[float, ...] = (2.5, 50.0, 97.5)

    def __post_init__(self) -> None:
        if self.realizations < 1:
            raise ConfigError(f"Uncertainty.realizations={self.realizations}; expected >= 1.")
        if not 0.0 <= self.rho <= 1.0:
            raise ConfigError(f"Uncertainty.rho={self.rho}; expected a correlation in [0, 1].")

    def table(self, sectors: list[str], pols: list[str]) -> np.ndarray:
        """Half-widths [%] as an array (sector, pollutant)."""
        hw = self.half_width
        out = np.full((len(sectors), len(pols)), np.nan)
        if isinstance(hw, pd.DataFrame):
            require_columns(hw.columns, ["sector", "pollutant", "half_width"], "uncertainty")
            for _, r in hw.iterrows():
                s = normalise_sector(r["sector"], what="uncertainty table")
                if s in sectors and str(r["pollutant"]) in pols:
                    out[sectors.index(s), pols.index(str(r["pollutant"]))] = float(r["half_width"])
        elif isinstance(hw, Mapping):
            keyed: dict[Any, float] = {}
            for key, val in hw.items():
                if isinstance(key, tuple):
                    keyed[(normalise_sector(key[0], what="uncertainty key"), str(key[1]))] = val
                elif key in ("default", "*"):
                    keyed["default"] = val
                else:
                    keyed[normalise_sector(str(key), what="uncertainty key")] = val
            default = keyed.get("default")
            for i, s in enumerate(sectors):
                for j, p in enumerate(pols):
                    v = keyed.get((s, p), keyed.get(s, default))
                    if v is not None:
                        out[i, j] = float(v)
        else:
            out[:] = float(hw)
        if np.isnan(out).any():
            i, j = np.argwhere(np.isnan(out))[0]
            raise InputError(
                f"uncertainty: no half-width for sector {sectors[i]}, pollutant {pols[j]}; add "
                "it or a 'default' entry."
            )
        if (out < 0).any():
            raise InputError("uncertainty: half-widths must be >= 0 [%].")
        return out


def monte_carlo(total: xr.DataArray, uncertainty: Uncertainty) -> xr.Dataset:
    """Monte Carlo ensemble of the domain totals from lognormal, year-correlated errors.

    Parameters
    ----------
    total : xarray.DataArray
        Totals ``(year, sector, pollutant)`` [t yr-1] (the ``total`` of :func:`rebuild`).
    uncertainty : Uncertainty
        Half-widths, correlation, ensemble size and seed.

    Returns
    -------
    xarray.Dataset
        ``uncertainty_factor(realization, year, sector, pollutant)`` [1] (multiplicative,
        mean 1), ``total_realization(realization, year, sector, pollutant)`` [t yr-1] and
        ``total_percentile(percentile, year, sector, pollutant)`` [t yr-1].

    Notes
    -----
    With ``U`` the 95 % half-width [%], :math:`\\sigma = \\ln(1 + U/100) / 1.96` (the upper
    2.5 % quantile of the lognormal is the median times ``1 + U/100``). The factor of
    realization ``r`` is :math:`f = \\exp(\\sigma z - \\sigma^2 / 2)` (mean 1), with
    :math:`z_{t} = \\rho^{\\Delta t} z_{t-1} + \\sqrt{1 - \\rho^{2 \\Delta t}}\\,\\varepsilon_t`
    (stationary AR(1) in log space, :math:`\\Delta t` years between output years,
    :math:`\\varepsilon` standard normal, independent between sectors and pollutants).
    ``rho = 1`` gives a fully correlated error (trends exact, levels uncertain), ``rho = 0``
    independent years. A grid percentile of one sector is the field times the factor's
    percentile (a scalar); for sums over sectors, combine lazily year by year:
    ``(ds.emission.sel(year=y) * f.sel(year=y)).sum("sector").quantile(q, "realization")``.

    References
    ----------
    IPCC (2006) vol. 1 ch. 3 "Uncertainties", approach 2 (Monte Carlo).

    Examples
    --------
    >>> t = xr.DataArray(np.ones((2, 1, 1)), dims=("year", "sector", "pollutant"),
    ...     coords={"year": [2000, 2001], "sector": ["F_RoadTransport"], "pollutant": ["NOx"]})
    >>> mc = monte_carlo(t, Uncertainty(20.0, realizations=10))
    >>> mc["total_percentile"].sizes["percentile"]
    3
    """
    require_dims(total.dims, ("year", "sector", "pollutant"), "monte_carlo total")
    total = total.transpose("year", "sector", "pollutant")
    sectors = [str(s) for s in total["sector"].values]
    pols = [str(p) for p in total["pollutant"].values]
    years = np.asarray(total["year"].values, dtype=float)
    sigma = np.log1p(uncertainty.table(sectors, pols) / 100.0) / 1.96
    rng = np.random.default_rng(uncertainty.seed)
    nr, ny = uncertainty.realizations, years.size
    eps = rng.standard_normal((nr, ny, len(sectors), len(pols)))
    z = np.empty_like(eps)
    z[:, 0] = eps[:, 0]
    for t in range(1, ny):
        c = uncertainty.rho ** (years[t] - years[t - 1])
        z[:, t] = c * z[:, t - 1] + np.sqrt(max(0.0, 1.0 - c * c)) * eps[:, t]
    factor = np.exp(sigma * z - 0.5 * sigma**2)
    coords = {"realization": np.arange(nr), **{k: total[k] for k in total.dims}}
    f = xr.DataArray(factor, dims=("realization", *total.dims), coords=coords)
    f.attrs = {"units": "1", "long_name": "multiplicative uncertainty factor (mean 1)"}
    ens = (f * total).transpose("realization", "year", "sector", "pollutant")
    ens.attrs = {"units": "t yr-1", "long_name": "domain total per realization"}
    pct = np.asarray(uncertainty.percentiles, dtype=float)
    q = ens.quantile(pct / 100.0, dim="realization").rename(quantile="percentile")
    q = q.assign_coords(percentile=pct)
    q.attrs = {"units": "t yr-1", "long_name": "percentiles of the domain total"}
    return xr.Dataset({"uncertainty_factor": f, "total_realization": ens, "total_percentile": q})


# =========================================================================== rebuild
def rebuild(
    reference: xr.Dataset,
    indices: pd.DataFrame | None,
    years: Sequence[int] | range,
    *,
    methods: MethodsSpec | None = None,
    anchors: Sequence[xr.Dataset] = (),
    point_history: pd.DataFrame | None = None,
    proxies: Mapping[str, ProxySpec] | None = None,
    surrogates: pd.DataFrame | None = None,
    uncertainty: Uncertainty | None = None,
    chunks: Mapping[str, int] | None = None,
) -> xr.Dataset:
    """Rebuild the emission grid of every year from reference and anchor inventories.

    Parameters
    ----------
    reference : xarray.Dataset
        Reference inventory (docs/data-model.md): ``emission(sector, pollutant, y, x)``
        [t yr-1], point sources on dim ``source``, ``attrs["reference_year"]``, ``crs``.
        Numpy- or dask-backed.
    indices : pandas.DataFrame or None
        Tidy trend table ``sector, pollutant, year, value[, series]``
        (:mod:`trajectoire.trends`). None when anchors cover every year.
    years : sequence of int
        Increasing output years, e.g. ``range(1990, 2024)``.
    methods : mapping, optional
        Time-series method for the years outside the anchors, keyed by ``(sector,
        pollutant)``, by sector, or ``"default"``; values are :class:`~trajectoire.trends.Method`
        or a method name. Default ``"index"`` for every pair.
    anchors : sequence of xarray.Dataset, optional
        Other inventories of other years, same grid, sectors and pollutants as `reference`.
        Each anchor year is reproduced exactly; between anchors cells are interpolated
        linearly.
    point_history : pandas.DataFrame, optional
        Register figures ``source_id, year, pollutant, emission`` [t yr-1]; they take
        precedence over the index.
    proxies : mapping of str to DataArray or callable, optional
        Per GNFR sector, a spatial proxy per year: a DataArray ``(year, y, x)`` (e.g.
        population at census years; interpolated linearly between them and held constant
        outside) or a callable ``year -> DataArray(y, x)``. Reweights the pattern in the years
        outside the anchors, keeping the sector total.
    surrogates : pandas.DataFrame, optional
        Driver series ``driver, year, value`` for ``Method("surrogate", driver=...)``.
    uncertainty : Uncertainty, optional
        Adds the Monte Carlo variables of :func:`monte_carlo`.
    chunks : mapping, optional
        Dask chunks of ``emission`` along ``sector``, ``pollutant``, ``y``, ``x`` (``year`` is
        always 1). Default ``{"sector": 1, "pollutant": 1}``, whole grid per chunk (22 MB in
        float64 on the sample's 2.8 M cells).

    Returns
    -------
    xarray.Dataset
        ``emission(year, sector, pollutant, y, x)`` [t yr-1, dask, nothing computed];
        ``point_emission(year, source, pollutant)`` [t yr-1] with the static stack variables;
        ``method(year, sector, pollutant)`` and ``point_method(year, source, pollutant)``
        (strings, :data:`METHOD_LABELS`, plus ``inactive`` for stacks out of service);
        ``total(year, sector, pollutant)`` [t yr-1] (gridded + points);
        ``target_total(year, sector, pollutant)`` [t yr-1] (what the series method asks,
        NaN at anchor and interpolated years; differs from ``total`` only where the points
        could not be reconciled, which is warned about); ``scale(year,
        sector, pollutant)`` [1] = gridded total / reference gridded total;
        ``pattern_changed(year, sector, pollutant)`` (bool: the field is not ``scale`` times
        the reference field); ``basis_weight(year, basis, sector, pollutant)`` [1] and
        ``basis_emission(basis, sector, pollutant, y, x)`` [t yr-1, dask] with
        ``emission = sum over basis of basis_weight * basis_emission``.

    Raises
    ------
    trajectoire.InputError
        Bad inventories, anchors that disagree on sectors/pollutants/grid, a year outside a
        series (the message names extrapolation), a gap in an index series, an index that
        is zero or negative at the reference (or anchor) year, bad registers or proxies.
    trajectoire.ConfigError
        Bad methods or chunks.

    Notes
    -----
    With anchors :math:`a_1 < \\dots < a_n` (the reference among them) and :math:`G_a`,
    :math:`P_a` the gridded and point totals of (sector, pollutant) at anchor ``a``:

    * at an anchor year, :math:`E(a) = E_a` exactly (method ``reference``/``anchor``);
    * between anchors :math:`a < y < b`, per cell,
      :math:`E(y) = E_a + (E_b - E_a)(y - a)/(b - a)` (``interpolation``);
    * outside, from the nearest anchor ``a`` with the ratio series ``S`` of the method:
      the sector target :math:`T(y) = (G_a + P(a))\\,S(y)/S(a)`; points follow their register
      or :math:`p(y) = p_{ref}\\,\\rho(y)`, :math:`\\rho(y) = \\rho(a) S(y)/S(a)`,
      :math:`\\rho(a) = G_a / G_{ref}`; the gridded part is scaled by
      :math:`g(y) = (T(y) - P(y)) / G_a` (clipped at 0 with a warning), so that gridded +
      points = T(y) exactly;
    * with a proxy :math:`w_y(c) = P(y, c)/P(a, c)` (1 where :math:`P(a, c) = 0`),
      :math:`E(y, c) = g(y) G_a\\, E_a(c) w_y(c) / \\sum_c E_a(c) w_y(c)`.

    Examples
    --------
    >>> ref = synthetic_inventory(reference_year=2000, n_sources=0)
    >>> idx = pd.DataFrame({"sector": "A_PublicPower", "pollutant": "NOx",
    ...     "year": [1999, 2000], "value": [2.0, 1.0]})
    >>> idx = pd.concat([idx, idx.assign(pollutant="PM10"),
    ...     idx.assign(sector="F_RoadTransport"), idx.assign(sector="F_RoadTransport",
    ...     pollutant="PM10")])
    >>> out = rebuild(ref, idx, [1999, 2000])
    >>> out["scale"].sel(year=1999).values.tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    ref = _check_inventory(reference, "reference inventory")
    ys = _check_years(years)
    sectors = [str(s) for s in reference["sector"].values]
    pols = [str(p) for p in reference["pollutant"].values]
    ns, npol = len(sectors), len(pols)
    table = validate_trends(indices, what="trend indices") if indices is not None else None

    # ---- anchors (the reference is one of them)
    invs = [ref]
    for i, anc in enumerate(anchors):
        inv = _check_inventory(anc, f"anchor {i} (year {anc.attrs.get('reference_year')})")
        _check_anchor_agreement(reference, anc, f"anchor {i} (year {inv.year})")
        invs.append(inv)
    anchor_years = [inv.year for inv in invs]
    dups = sorted({y for y in anchor_years if anchor_years.count(y) > 1})
    if dups:
        raise InputError(
            f"anchors: several inventories for year(s) {dups} (the reference is "
            f"{ref.year}); pass one inventory per year."
        )
    invs.sort(key=lambda inv: inv.year)
    anchor_years = [inv.year for inv in invs]
    first, last = anchor_years[0], anchor_years[-1]
    resolved = _resolve_methods(methods, sectors, pols)
    out_years = ys
    ys = sorted(set(ys) | {first, last})  # internal years: the end anchors are always there
    keep = [ys.index(y) for y in out_years]

    # ---- chunks
    ch = {"sector": 1, "pollutant": 1, "y": -1, "x": -1, **(chunks or {})}
    unknown = set(ch) - {"year", "sector", "pollutant", "y", "x"}
    if unknown or ch.get("year", 1) != 1:
        raise ConfigError(
            f"chunks={dict(chunks or {})}: expected keys among sector, pollutant, y, x (year "
            "chunks are always 1, so that each year is computed on its own)."
        )
    ny, nx = reference.sizes["y"], reference.sizes["x"]
    cs = _chunk_sizes(ns, ch["sector"])
    cp = _chunk_sizes(npol, ch["pollutant"])
    cy = _chunk_sizes(ny, ch["y"])
    cx = _chunk_sizes(nx, ch["x"])
    dtype = np.result_type(ref.emission.dtype, np.float32)

    # ---- proxies
    proxy_of: dict[str, _Proxy] = {}
    outside = [y for y in ys if y < first or y > last]
    if proxies:
        seen: dict[int, _Proxy] = {}
        for key, spec in proxies.items():
            s = normalise_sector(key, what="proxies key")
            if s not in sectors:
                raise InputError(f"proxies: sector {s} is not in the inventory {sectors}.")
            if id(spec) not in seen:
                name = (
                    spec.name
                    if isinstance(spec, xr.DataArray) and spec.name
                    else f"proxy{len(seen)}"
                )
                needed = sorted(set(outside) | {first, last})
                seen[id(spec)] = _check_proxy(str(name), spec, reference, needed, f"proxy of {s}")
            proxy_of[s] = seen[id(spec)]

    # ---- basis fields
    basis_labels: list[str] = []
    basis_arrays: list[Any] = []  # (sector, pollutant, y, x)
    basis_sums: list[Any] = []
    anchor_basis: dict[int, int] = {}
    for inv in invs:
        anchor_basis[inv.year] = len(basis_labels)
        basis_labels.append(f"anchor {inv.year}")
        basis_arrays.append(inv.emission)
        basis_sums.append(inv.emission)
    proxy_basis: dict[tuple[str, int, int], int] = {}  # (proxy name, anchor, knot) -> basis
    used_ends = sorted({first if y < first else last for y in outside})
    for pname, prox in {p.name: p for p in proxy_of.values()}.items():
        users = np.array([proxy_of.get(s) is prox for s in sectors], dtype=float)
        for a in used_ends:
            inv = invs[anchor_years.index(a)]
            wa = _interp_weights(prox.knots, a)
            p_a = sum(w * f for w, f in zip(wa, prox.fields, strict=True) if w != 0)
            for k, fk in zip(prox.knots, prox.fields, strict=True):
                if _is_dask(fk) or _is_dask(p_a):
                    ratio = da.where(
                        da.asarray(p_a) > 0,
                        da.asarray(fk) / da.where(da.asarray(p_a) > 0, p_a, 1.0),
                        1.0,
                    )
                else:
                    pa = np.asarray(p_a, dtype=float)
                    ratio = np.where(pa > 0, np.asarray(fk, float) / np.where(pa > 0, pa, 1.0), 1.0)
                proxy_basis[(pname, a, k)] = len(basis_labels)
                basis_labels.append(f"{pname} {k} on anchor {a}")
                basis_arrays.append(("proxy", inv.emission, users, ratio))
                basis_sums.append(("weighted", inv.emission, ratio))
    plain = [b for b in basis_sums if not isinstance(b, tuple)]
    plain_sums = iter(_sums(plain))
    weighted = [_weighted_sums(b[1], b[2]) for b in basis_sums if isinstance(b, tuple)]
    lazy_w = [i for i, w in enumerate(weighted) if _is_dask(w)]
    if lazy_w:
        vals = dask.compute(*[weighted[i] for i in lazy_w])
        for i, v in zip(lazy_w, vals, strict=True):
            weighted[i] = np.asarray(v)
    wit = iter(weighted)
    sums = np.stack(
        [next(wit) if isinstance(b, tuple) else next(plain_sums) for b in basis_sums]
    )  # (basis, sector, pollutant)
    nb = len(basis_labels)
    g_anchor = {a: sums[anchor_basis[a]] for a in anchor_years}
    g_ref = g_anchor[ref.year]

    # ---- ratio series per pair for the years outside the anchors
    before = [y for y in ys if y < first]
    after = [y for y in ys if y > last]
    ratio = np.full((len(ys), ns, npol), np.nan)  # S(y)/S(a) for outside years
    labels = np.empty((len(ys), ns, npol), dtype=object)
    for iy, y in enumerate(ys):
        if y in anchor_years:
            labels[iy] = "reference" if y == ref.year else "anchor"
        elif first < y < last:
            labels[iy] = "interpolation"
    for i, s in enumerate(sectors):
        for j, p in enumerate(pols):
            for group, a in ((before, first), (after, last)):
                if not group:
                    continue
                r, lab = ratio_series(
                    table,
                    s,
                    p,
                    group,
                    a,
                    resolved[(s, p)],
                    surrogates=surrogates,
                    what="trend indices",
                )
                for y in group:
                    iy = ys.index(y)
                    ratio[iy, i, j] = r.loc[y]
                    labels[iy, i, j] = lab.loc[y]

    # ---- gridded weights before point adjustment; point factor rho(y)
    W = np.zeros((len(ys), nb, ns, npol))
    rho = np.ones((len(ys), ns, npol))
    safe_ref = np.where(g_ref > 0, g_ref, 1.0)
    for iy, y in enumerate(ys):
        if y in anchor_years:
            W[iy, anchor_basis[y]] = 1.0
            rho[iy] = np.where(g_ref > 0, g_anchor[y] / safe_ref, 1.0)
        elif first < y < last:
            j = int(np.searchsorted(anchor_years, y)) - 1
            a, b = anchor_years[j], anchor_years[j + 1]
            t = (y - a) / (b - a)
            W[iy, anchor_basis[a]] = 1.0 - t
            W[iy, anchor_basis[b]] = t
            g = (1.0 - t) * g_anchor[a] + t * g_anchor[b]
            rho[iy] = np.where(g_ref > 0, g / safe_ref, 1.0)
        else:
            a = first if y < first else last
            rho_a = np.where(g_ref > 0, g_anchor[a] / safe_ref, 1.0)
            rho[iy] = rho_a * ratio[iy]

    # ---- points: lifecycle, register, scaling
    pts = _check_points(reference, sectors, pols, "reference inventory")
    nsrc = len(pts.ids)
    pvals = np.zeros((len(ys), nsrc, npol))
    pmeth = np.empty((len(ys), nsrc, npol), dtype=object)
    if nsrc:
        yarr = np.asarray(ys)[:, None]
        active = ((pts.start < 0) | (yarr >= pts.start)) & ((pts.end < 0) | (yarr <= pts.end))
        pvals = pts.ref[None] * rho[:, pts.sector, :]
        pmeth[:] = labels[:, pts.sector, :]
        reg_parts = []
        for inv in invs:
            if inv is ref or "point_emission" not in inv.ds or "source" not in inv.ds.dims:
                continue
            apts = inv.ds["point_emission"].to_dataframe().reset_index()
            apts = apts.rename(columns={"source": "source_id", "point_emission": "emission"})
            apts["year"] = inv.year
            apts["label"] = "anchor"
            reg_parts.append(
                _check_register(apts, pts.ids, pols, f"anchor {inv.year} point_emission").assign(
                    label="anchor"
                )
            )
        if point_history is not None:
            hist = _check_register(point_history, pts.ids, pols)
            reg_parts.append(hist.assign(label="register"))
        for part in reg_parts:  # later parts (the register) override earlier ones (anchors)
            part = part[part["year"].isin(ys)]
            for row in part.itertuples(index=False):
                iy, k, j = (
                    ys.index(int(str(row.year))),
                    pts.ids.index(str(row.source_id)),
                    pols.index(str(row.pollutant)),
                )
                pvals[iy, k, j] = float(str(row.emission))
                pmeth[iy, k, j] = row.label
        off = ~active
        if point_history is not None and off.any():
            reg = hist[hist["emission"] > 0]
            bad = [
                (sid, int(y))
                for sid, y in zip(reg["source_id"].astype(str), reg["year"], strict=True)
                if int(y) in ys and off[ys.index(int(y)), pts.ids.index(sid)]
            ]
            if bad:
                warn(
                    f"point_history: register figures for stacks out of service (source, "
                    f"year) {bad[:5]}{' ...' if len(bad) > 5 else ''} are ignored; fix "
                    "start_year/end_year if the stack was operating."
                )
        pvals = np.where(active[:, :, None], pvals, 0.0)
        pmeth = np.where(active[:, :, None], pmeth, "inactive")
    # points total per (year, sector, pollutant)
    ptot = np.zeros((len(ys), ns, npol))
    for k in range(nsrc):
        ptot[:, pts.sector[k], :] += pvals[:, k, :]

    # ---- gridded factor for outside years (sector total follows the series)
    p_anchor = {a: ptot[ys.index(a)] for a in (first, last)}
    target_all = np.full((len(ys), ns, npol), np.nan)
    missed: dict[tuple[int, int], list[int]] = {}
    for iy, y in enumerate(ys):
        if first <= y <= last:
            continue
        a = first if y < first else last
        ga = g_anchor[a]
        target = (ga + p_anchor[a]) * ratio[iy]
        target_all[iy] = target
        rest = target - ptot[iy]
        tol = 1e-9 * np.maximum(target, ptot[iy])
        short = (rest < -tol) | ((ga <= 0) & (rest > tol))
        for i, j in np.argwhere(short):
            missed.setdefault((int(i), int(j)), []).append(y)
        gfac = np.where(ga > 0, np.clip(rest, 0.0, None) / np.where(ga > 0, ga, 1.0), 0.0)
        for i, s in enumerate(sectors):
            sprox = proxy_of.get(s)
            if sprox is None:
                W[iy, anchor_basis[a], i] = gfac[i]
                continue
            alpha = _interp_weights(sprox.knots, y)
            idx = [proxy_basis[(sprox.name, a, k)] for k in sprox.knots]
            denom = sum(alpha[m] * sums[idx[m], i] for m in range(len(idx)))
            for m, b in enumerate(idx):
                if alpha[m] == 0:
                    continue
                W[iy, b, i] = np.where(
                    denom > 0, gfac[i] * ga[i] * alpha[m] / np.where(denom > 0, denom, 1.0), 0.0
                )
            nodenom = ~(denom > 0)
            W[iy, anchor_basis[a], i] = np.where(nodenom, gfac[i], 0.0)

    for (i, j), bad_years in missed.items():
        warn(
            f"sector {sectors[i]}, pollutant {pols[j]}: in {len(bad_years)} year(s) "
            f"({rows_preview(bad_years)}) the point sources cannot be reconciled with the "
            "sector's series (they exceed its target total, or there is no gridded part to "
            "absorb the difference); the gridded part is clipped at 0 and the sector total "
            "departs from its series there (compare 'total' with 'target_total'). Check the "
            "register figures or the sector's index."
        )

    # ---- back to the output years
    W, labels, ptot, pvals, pmeth, target_all = (
        arr[keep] for arr in (W, labels, ptot, pvals, pmeth, target_all)
    )
    ys = out_years

    # ---- lazy fields
    def _as_dask(x: Any, chunks: tuple[Any, ...]) -> da.Array:
        if _is_dask(x):
            return x.rechunk(chunks)
        return _view_array(np.asarray(x), chunks)

    be_list = []
    for arr in basis_arrays:
        if isinstance(arr, tuple):
            _, em, users, rat = arr
            em_d = _as_dask(em, (cs, cp, cy, cx))
            rat_d = _as_dask(rat, (cy, cx))
            users_d = da.from_array(users, chunks=(cs,))
            be_list.append((em_d * users_d[:, None, None, None] * rat_d[None, None]).astype(dtype))
        else:
            be_list.append(_as_dask(arr, (cs, cp, cy, cx)).astype(dtype))
    basis = da.stack(be_list, axis=0)

    ename = "emission-" + tokenize(basis.name, W, ys)
    dsk: dict[Any, Any] = {}
    soff = np.concatenate([[0], np.cumsum(cs)])
    poff = np.concatenate([[0], np.cumsum(cp)])
    for iy in range(len(ys)):
        for js in range(len(cs)):
            for jp in range(len(cp)):
                wblk = W[iy, :, soff[js] : soff[js + 1], poff[jp] : poff[jp + 1]]
                used = [b for b in range(nb) if np.any(wblk[b] != 0)]
                for jy in range(len(cy)):
                    for jx in range(len(cx)):
                        okey = (ename, iy, js, jp, jy, jx)
                        if not used:
                            shape = (1, cs[js], cp[jp], cy[jy], cx[jx])
                            dsk[okey] = (_zeros_block, shape, dtype)
                        else:
                            blocks = [(basis.name, b, js, jp, jy, jx) for b in used]
                            dsk[okey] = (_combine, wblk[used], blocks, dtype)
    graph = HighLevelGraph.from_collections(ename, dsk, dependencies=[basis])
    emission = da.Array(graph, ename, chunks=((1,) * len(ys), cs, cp, cy, cx), dtype=dtype)

    # ---- assemble
    gcoords = {"y": reference["y"], "x": reference["x"]}
    coords: dict[str, Any] = {
        "year": ("year", np.asarray(ys, dtype=np.int64)),
        "sector": ("sector", sectors),
        "pollutant": ("pollutant", pols),
        **gcoords,
    }
    out = xr.Dataset(coords=coords)
    em_da = xr.DataArray(emission, dims=("year", "sector", "pollutant", "y", "x"))
    out["emission"] = set_cf_attrs(em_da, "emission")
    out = out.assign_coords(basis=basis_labels)
    out["basis_emission"] = xr.DataArray(
        basis,
        dims=("basis", "sector", "pollutant", "y", "x"),
        attrs={"units": "t yr-1", "long_name": "basis emission fields (anchors, proxy years)"},
    )
    out["basis_weight"] = xr.DataArray(
        W,
        dims=("year", "basis", "sector", "pollutant"),
        attrs={"units": "1", "long_name": "weight of each basis field in emission"},
    )
    out["method"] = xr.DataArray(
        labels.astype(str),
        dims=("year", "sector", "pollutant"),
        attrs={"long_name": "time-series method (IPCC 2006 vol. 1 ch. 5)"},
    )
    gtot = np.einsum("ybsp,bsp->ysp", W, sums)
    out["scale"] = xr.DataArray(
        np.where(g_ref > 0, gtot / safe_ref, np.where(gtot > 0, np.nan, 1.0)),
        dims=("year", "sector", "pollutant"),
        attrs={"units": "1", "long_name": "gridded total relative to the reference field"},
    )
    ref_b = anchor_basis[ref.year]
    others = np.delete(W, ref_b, axis=1)
    out["pattern_changed"] = xr.DataArray(
        np.any(others != 0, axis=1),
        dims=("year", "sector", "pollutant"),
        attrs={"long_name": "whether the field is not scale times the reference field"},
    )
    out["total"] = xr.DataArray(
        gtot + ptot,
        dims=("year", "sector", "pollutant"),
        attrs={"units": "t yr-1", "long_name": "domain total, gridded plus point sources"},
    )
    out["target_total"] = xr.DataArray(
        target_all,
        dims=("year", "sector", "pollutant"),
        attrs={
            "units": "t yr-1",
            "long_name": "sector total required by the series method (NaN at anchors)",
        },
    )
    if nsrc:
        out = out.assign_coords(source=pts.ids)
        out["point_emission"] = xr.DataArray(
            pvals,
            dims=("year", "source", "pollutant"),
            attrs={"units": "t yr-1", "long_name": "point-source emission"},
        )
        out["point_method"] = xr.DataArray(pmeth.astype(str), dims=("year", "source", "pollutant"))
        for vname, v in pts.static.items():
            out[vname] = v.drop_vars([c for c in v.coords if c != "source"])
    if uncertainty is not None:
        out = out.merge(monte_carlo(out["total"], uncertainty))
    out.attrs = {
        "crs": str(reference.attrs.get("crs", Grid.from_xarray(reference).crs.to_string())),
        "reference_year": ref.year,
        "anchor_years": np.asarray(anchor_years, dtype=np.int64),
    }
    add_history(out, f"rebuild(years={ys[0]}..{ys[-1]}, anchors={anchor_years})")
    return out
