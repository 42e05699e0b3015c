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
import logging
import operator
import uuid
import warnings
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
    normalise_rows,
    require_columns,
    require_dims,
    require_known,
    require_non_negative,
    require_subset,
    require_unique,
    require_year,
    rows_preview,
    year_ranges,
)
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    TrajectoireWarning,
    warn,
)
from trajectoire.geo.grid import Grid
from trajectoire.inventory.population import census_population
from trajectoire.inventory.schema import POINT_SOURCE_VARIABLES, check_service_years
from trajectoire.sectors import normalise_sector
from trajectoire.species import known_species, normalise_pollutant
from trajectoire.tables import numeric_column
from trajectoire.trajectory.trends import (
    TRAJECTORY_METHODS,
    Method,
    ratio_series,
    validate_trends,
)
from trajectoire.trajectory.uncertainty import Uncertainty, monte_carlo
from trajectoire.units import normalise_units

__all__ = [
    "METHOD_LABELS",
    "census_proxy",
    "rebuild",
]

log = logging.getLogger("trajectoire")

#: Strings of the ``method(year, sector, pollutant)`` output variable: the reference and
#: anchor years, linear interpolation between anchors, the series methods of
#: :data:`~trajectoire.trajectory.trends.TRAJECTORY_METHODS` outside them, and (for point
#: sources) register figures. A pair that emits nothing reads no series: outside the
#: anchors it is ``no_emission``, the flag that
#: :data:`trajectoire.io.outputs.EMISSION_METHOD_FLAGS` adds after these.
METHOD_LABELS: tuple[str, ...] = (
    "reference",
    "anchor",
    "interpolation",
    *(m for m in TRAJECTORY_METHODS if m != "interpolation"),
    "register",
)

ProxySpec = xr.DataArray | Callable[[int], xr.DataArray]
MethodsSpec = Mapping[str | tuple[str, str], str | Method]


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
    pop = census_population(zones, grid, prefix=prefix)
    return xr.DataArray(
        pop.values,
        dims=("year", "y", "x"),
        coords={"year": pop["census"].values, **grid.coords()},
        name="population",
        attrs={"units": "1", "long_name": "inhabitants per cell at census years"},
    )


# =========================================================================== inputs
@dataclass
class _Inventory:
    """A checked inventory: its year, ``emission`` (sector, pollutant, y, x) and dataset."""

    year: int
    emission: Any  # numpy or dask array (sector, pollutant, y, x) in t yr-1
    ds: xr.Dataset


def _check_inventory(ds: xr.Dataset, what: str) -> _Inventory:
    """Check an inventory dataset (docs/data-model.md): emission, units, year, ids, grid."""
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
    require_known(pols, known_species(), f"{what}, coordinate 'pollutant'")
    require_unique(pols, f"{what}, coordinate 'pollutant'")
    Grid.from_xarray(ds)  # raises GridError on a bad grid or missing CRS
    em = em.transpose("sector", "pollutant", "y", "x")
    _check_emission_values(em, what)
    return _Inventory(int(year), em.data, ds)


def _check_emission_values(em: xr.DataArray, what: str) -> None:
    """Refuse NaN, infinite or negative cells of ``emission(sector, pollutant, y, x)``.

    One NaN cell made its (sector, pollutant) total NaN in every year, and a negative cell
    was scaled as any other. Every cell of the grid is checked (the trajectory sums and
    scales them all: no cell is outside its reach). The per-pair minimum and maximum are
    taken first (no temporary the size of the grid; one pass over a dask array); only a
    pair found wrong is looked at cell by cell, for the message.
    """
    data = em.data
    if em.size == 0:
        return
    if _is_dask(data):
        low, high = dask.compute(data.min(axis=(2, 3)), data.max(axis=(2, 3)))
        lo, hi = np.asarray(low), np.asarray(high)
    else:
        arr = np.asarray(data)
        lo, hi = arr.min(axis=(2, 3)), arr.max(axis=(2, 3))
    lo, hi = lo.astype(float), hi.astype(float)
    nonfinite = ~(np.isfinite(lo) & np.isfinite(hi))  # a NaN makes the minimum NaN
    negative = lo < 0
    bad = np.argwhere(nonfinite | negative)
    if not bad.size:
        return
    sectors = [str(v) for v in em["sector"].values]
    pols = [str(v) for v in em["pollutant"].values]
    i, j = (int(v) for v in bad[0])
    cells = np.asarray(em.isel(sector=i, pollutant=j).values, dtype=float)
    flagged = ~np.isfinite(cells) if nonfinite[i, j] else cells < 0
    r, c = (int(v) for v in np.argwhere(flagged)[0])
    y = em["y"].values[r] if "y" in em.coords else r
    x = em["x"].values[c] if "x" in em.coords else c
    others = [f"{sectors[a]}/{pols[b]}" for a, b in bad[1:].tolist()]
    also = f" (also in {rows_preview(others, 4)})" if others else ""
    if nonfinite[i, j]:
        kind, fix = (
            "NaN or infinite",
            "expected finite emissions >= 0 in every cell of the grid (0 where nothing is "
            "emitted). Fill them, e.g. ds['emission'] = ds['emission'].fillna(0.0) where an "
            "empty cell means no emission",
        )
    else:
        kind, fix = (
            "negative",
            "expected emissions >= 0. Check the sign convention of the source data",
        )
    example = f"{float(cells[r, c]):g} t yr-1 at y={y:.10g}, x={x:.10g}"
    raise InputError(
        f"{what}, variable 'emission': sector {sectors[i]}, pollutant {pols[j]}: "
        f"{int(flagged.sum())} {kind} cell(s) of {cells.size} (e.g. {example}){also}; {fix}."
    )


def _same_grid(a: xr.Dataset, b: xr.Dataset) -> bool:
    """Whether two datasets are on the same grid."""
    return Grid.from_xarray(a).same_as(Grid.from_xarray(b))


def _check_anchor_agreement(ref: xr.Dataset, other: xr.Dataset, what: str) -> None:
    """Check that an anchor has the reference's sectors, pollutants (same order) and grid."""
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
    """The checked point sources of the reference inventory."""

    ids: list[str]
    sector: np.ndarray  # index into sectors
    ref: np.ndarray  # (source, pollutant) t yr-1
    start: np.ndarray
    end: np.ndarray
    static: dict[str, xr.DataArray] = field(default_factory=dict)


#: Static point-source variables copied from the reference inventory to the output.
_POINT_STATIC_VARIABLES: tuple[str, ...] = (
    *POINT_SOURCE_VARIABLES,
    "start_year",
    "end_year",
    "source_name",
)


def _check_points(ds: xr.Dataset, sectors: list[str], pols: list[str], what: str) -> _Points:
    """The point sources of `ds` (none without ``point_emission``), checked.

    Emissions on the inventory's pollutants (0 where absent), sector positions, lifetimes
    (-1: open) and the static variables of :data:`_POINT_STATIC_VARIABLES`.
    """
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
    require_subset(
        sec,
        sectors,
        lambda unknown: (
            f"{what}, variable 'source_sector': sector(s) {unknown} of point sources are not "
            f"among the inventory's sectors {sectors}; add them to 'emission' (zeros) or fix "
            "the sector of those stacks."
        ),
    )
    ref = np.asarray(pe.transpose("source", "pollutant").values, dtype=float)
    require_non_negative(ref, f"{what}, variable 'point_emission'", ids)
    start = np.asarray(ds["start_year"].values if "start_year" in ds else np.full(len(ids), -1))
    end = np.asarray(ds["end_year"].values if "end_year" in ds else np.full(len(ids), -1))
    # readers may store an unknown year as NaN rather than -1
    start = np.where(np.isnan(start.astype(float)), -1, start)
    end = np.where(np.isnan(end.astype(float)), -1, end)
    check_service_years(start, end, ids, what)
    static = {name: ds[name] for name in _POINT_STATIC_VARIABLES if name in ds}
    return _Points(
        ids,
        np.array([sectors.index(s) for s in sec], dtype=int),
        ref,
        start.astype(np.int64),
        end.astype(np.int64),
        static,
    )


def _note_out_of_service(pts: _Points, year: int, pols: list[str]) -> None:
    """Say (log, INFO) which stacks carry figures in the reference inventory but are out of
    service in its `year`: they are 0 that year, and their figures, scaled by their sector's
    series, give their years of service, on top of the sector's series (a documented
    convention, not an error)."""
    off = ((pts.start >= 0) & (year < pts.start)) | ((pts.end >= 0) & (year > pts.end))
    emitting = off & (pts.ref > 0).any(axis=1)
    if not emitting.any():
        return
    shown = []
    for k in np.flatnonzero(emitting).tolist():
        service = (
            f"end_year {pts.end[k]}" if year > pts.end[k] >= 0 else f"start_year {pts.start[k]}"
        )
        j = int(np.argmax(pts.ref[k]))
        shown.append(f"{pts.ids[k]} ({service}, {pols[j]} {pts.ref[k, j]:.6g} t yr-1)")
    log.info(
        "reference inventory: %d stack(s) out of service in the reference year %d carry "
        "figures in it: %s. They are 0 t in %d (point_method 'inactive'); their figures, "
        "times their sector's series, give their years of service, on top of the sector's "
        "series (docs/trajectory.md, point sources).",
        len(shown),
        year,
        rows_preview(shown, 5),
        year,
    )


def _resolve_methods(
    methods: MethodsSpec | None, sectors: list[str], pols: list[str]
) -> dict[tuple[str, str], Method]:
    """The method of every (sector, pollutant): its own, else its sector's, else the default."""
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


def _check_years(years: Sequence[int] | range | int) -> list[int]:
    """The output years as a list of int: not empty, whole, unique and increasing.

    One year may be given alone (``2015``, ``"2015"``), as a one-year list.
    """
    if isinstance(years, np.ndarray) and years.ndim == 0:
        years = [years.item()]
    elif isinstance(years, str | bytes | int | float | np.integer | np.floating):
        years = [years]  # type: ignore[list-item]  # one year, not a list
    elif not hasattr(years, "__iter__"):
        raise InputError(
            f"years: got {type(years).__name__}; expected the output years, e.g. "
            "range(1990, 2024) or [2015]."
        )
    years = list(years)
    if not years:
        raise InputError("years: empty; pass e.g. range(1990, 2024).")
    ys = []
    for y in years:
        try:
            ys.append(require_year(y))
        except InputError:
            raise InputError(
                f"years: {y!r} ({type(y).__name__}) is not a whole year (years given: "
                f"{rows_preview(years)}); pass whole years, e.g. range(1990, 2024)."
            ) from None
    require_unique(ys, "years")
    if ys != sorted(ys):
        raise InputError(f"years: {ys} are not increasing; pass them sorted.")
    return ys


def _check_register(
    table: pd.DataFrame,
    ids: list[str],
    pols: list[str],
    what: str = "point_history",
    *,
    empty_is_none: bool = True,
) -> pd.DataFrame:
    """Check register figures ``source_id, year, pollutant, emission`` [t yr-1].

    Sources must be known; pollutants are read as :func:`trajectoire.species.normalise_pollutant`
    reads them (an id that is no pollutant is an error), and rows of pollutants other than
    `pols` are dropped; years are whole numbers and emissions numbers >= 0 (else one line
    naming the row, the column and the value); one figure per source, year and pollutant.
    With `empty_is_none`, a row without an emission (an empty cell, NaN) is no figure and
    is dropped; else it is an error.
    """
    require_columns(table.columns, ["source_id", "year", "pollutant", "emission"], what)
    t = table.loc[:, ["source_id", "year", "pollutant", "emission"]].copy()
    t["source_id"] = t["source_id"].astype(str)
    names = t["pollutant"].astype(str).tolist()
    t["pollutant"] = normalise_rows(
        names, t.index.tolist(), normalise_pollutant, f"{what}, column 'pollutant'"
    )
    require_known(t["source_id"], ids, f"{what}, column 'source_id'")
    t = t[t["pollutant"].isin(pols)]
    years = numeric_column(t, "year", what=what, lines=False)
    part = np.flatnonzero(years % 1 != 0)
    if part.size:
        found = [f"{years[i]:g} at row {t.index[i]!r}" for i in part.tolist()]
        raise InputError(
            f"{what}, column 'year': not a whole year: {rows_preview(found, 5)}; expected a "
            "year such as 2015. Fix the table."
        )
    t["year"] = years.astype(np.int64)
    t["emission"] = numeric_column(
        t, "emission", what=what, allow_nan=empty_is_none, units="t yr-1", lines=False
    )
    if empty_is_none:
        t = t[t["emission"].notna()]  # an empty cell: no figure that year
    labels = [f"row {label!r}" for label in t.index]
    require_non_negative(t["emission"].to_numpy(), f"{what}, column 'emission'", labels)
    dup = t.duplicated(["source_id", "year", "pollutant"], keep=False)
    if dup.any():
        r = t.loc[dup].iloc[0]
        raise InputError(
            f"{what}: several rows for source {r['source_id']}, year {r['year']}, pollutant "
            f"{r['pollutant']} ({rows_preview(f'row {label!r}' for label in t.index[dup])}); "
            "keep one figure per source, year and pollutant."
        )
    return t


# =========================================================================== helpers
def _interp_weights(knots: Sequence[int], years: Sequence[int] | np.ndarray) -> np.ndarray:
    """Linear interpolation weights (year, knot) of `years` on sorted `knots`, constant outside."""
    k = np.asarray(knots, dtype=float)
    y = np.asarray(years, dtype=float)
    w = np.zeros((y.size, k.size))
    w[y <= k[0], 0] = 1.0
    w[(y > k[0]) & (y >= k[-1]), -1] = 1.0
    inner = np.flatnonzero((y > k[0]) & (y < k[-1]))
    j = np.searchsorted(k, y[inner], side="right") - 1
    t = (y[inner] - k[j]) / (k[j + 1] - k[j])
    w[inner, j] = 1.0 - t
    w[inner, j + 1] = t
    return w


def _is_dask(x: Any) -> bool:
    """Whether `x` is a dask array."""
    return isinstance(x, da.Array)


@dataclass
class _Proxy:
    """A checked spatial proxy: its name, knot years and field (y, x) at each knot."""

    name: str
    knots: list[int]
    fields: list[Any]  # (y, x) numpy or dask arrays


def _check_proxy(
    name: str, spec: ProxySpec, ref_ds: xr.Dataset, years: list[int], what: str
) -> _Proxy:
    """Check a proxy (a DataArray (year, y, x), or a callable evaluated at `years`)."""
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
    """An output chunk without any basis field."""
    return np.zeros(shape, dtype=dtype)


def _chunk_sizes(n: int, c: int) -> tuple[int, ...]:
    """Chunk sizes of a length-`n` axis in chunks of `c` (-1 or None: one chunk)."""
    c = n if c in (-1, None) or c >= n else int(c)
    sizes = [c] * (n // c)
    if n % c:
        sizes.append(n % c)
    return tuple(sizes)


# =========================================================================== steps of rebuild
@dataclass
class _Inputs:
    """The checked inputs of :func:`rebuild`, on its internal years."""

    reference: xr.Dataset
    ref: _Inventory
    invs: list[_Inventory]  # the reference and the anchors, sorted by year
    sectors: list[str]
    pols: list[str]
    table: pd.DataFrame | None  # validated trend indices
    methods: dict[tuple[str, str], Method]
    years: list[int]  # internal years: the output years and the first and last anchor years
    keep: list[int]  # position in `years` of each output year
    chunks: tuple[tuple[int, ...], ...]  # emission chunk sizes along sector, pollutant, y, x
    dtype: np.dtype[Any]

    @property
    def anchor_years(self) -> list[int]:
        """Years of the reference and anchor inventories, increasing."""
        return [inv.year for inv in self.invs]

    @property
    def first(self) -> int:
        """The first anchor year."""
        return self.invs[0].year

    @property
    def last(self) -> int:
        """The last anchor year."""
        return self.invs[-1].year

    @property
    def out_years(self) -> list[int]:
        """The output years."""
        return [self.years[i] for i in self.keep]

    @property
    def outside(self) -> list[int]:
        """The internal years before the first or after the last anchor."""
        return [y for y in self.years if y < self.first or y > self.last]


def _check_inputs(
    reference: xr.Dataset,
    indices: pd.DataFrame | None,
    years: Sequence[int] | range | int,
    methods: MethodsSpec | None,
    anchors: Sequence[xr.Dataset] | xr.Dataset | None,
    chunks: Mapping[str, int] | None,
) -> _Inputs:
    """Check the inventories, years, trend table, methods and chunks of :func:`rebuild`."""
    ref = _check_inventory(reference, "reference inventory")
    ys = _check_years(years)
    sectors = [str(s) for s in reference["sector"].values]
    pols = [str(p) for p in reference["pollutant"].values]
    # the file and key the table was read from, when its reader says (``attrs["what"]``)
    what = str(indices.attrs.get("what", "trend indices")) if indices is not None else ""
    table = validate_trends(indices, what=what) if indices is not None else None
    invs = _check_anchors(reference, ref, anchors)
    resolved = _resolve_methods(methods, sectors, pols)
    internal = sorted(set(ys) | {invs[0].year, invs[-1].year})  # the end anchors are always in
    return _Inputs(
        reference=reference,
        ref=ref,
        invs=invs,
        sectors=sectors,
        pols=pols,
        table=table,
        methods=resolved,
        years=internal,
        keep=[internal.index(y) for y in ys],
        chunks=_chunk_layout(chunks, reference, len(sectors), len(pols)),
        dtype=np.result_type(ref.emission.dtype, np.float32),
    )


def _anchor_list(anchors: Any) -> list[xr.Dataset]:
    """`anchors` as a list of inventories: one Dataset alone is a one-element list, None
    none; anything else that is not a sequence of Datasets is one line (iterating a
    Dataset gave its variable names, then ``'str' object has no attribute 'attrs'``)."""
    if anchors is None:
        return []
    if isinstance(anchors, xr.Dataset):
        return [anchors]
    if isinstance(anchors, xr.DataArray | str | bytes | Mapping) or not hasattr(
        anchors, "__iter__"
    ):
        raise InputError(
            f"anchors: got {type(anchors).__name__}; expected a list of inventories "
            "(xarray.Dataset, each with attrs['reference_year']), e.g. anchors=[inv_2005]."
        )
    out = list(anchors)
    for i, anc in enumerate(out):
        if not isinstance(anc, xr.Dataset):
            raise InputError(
                f"anchors: item {i} is {type(anc).__name__}; expected a list of inventories "
                "(xarray.Dataset, each with attrs['reference_year']), e.g. anchors=[inv_2005]."
            )
    return out


def _check_anchors(
    reference: xr.Dataset, ref: _Inventory, anchors: Sequence[xr.Dataset] | xr.Dataset | None
) -> list[_Inventory]:
    """Check the anchors against the reference; the reference and anchors sorted by year."""
    invs = [ref]
    for i, anc in enumerate(_anchor_list(anchors)):
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
    return invs


def _chunk_layout(
    chunks: Mapping[str, int] | None, reference: xr.Dataset, ns: int, npol: int
) -> tuple[tuple[int, ...], ...]:
    """Chunk sizes of ``emission`` along sector, pollutant, y, x (year chunks are always 1)."""
    ch = {"sector": 1, "pollutant": 1, "y": -1, "x": -1, **(chunks or {})}
    unknown = set(ch) - {"year", "sector", "pollutant", "y", "x"}
    if unknown or ch.get("year", 1) != 1:
        raise ConfigError(
            f"chunks={dict(chunks or {})}: expected keys among sector, pollutant, y, x (year "
            "chunks are always 1, so that each year is computed on its own)."
        )
    return (
        _chunk_sizes(ns, ch["sector"]),
        _chunk_sizes(npol, ch["pollutant"]),
        _chunk_sizes(reference.sizes["y"], ch["y"]),
        _chunk_sizes(reference.sizes["x"], ch["x"]),
    )


def _check_proxies(proxies: Mapping[str, ProxySpec] | None, inp: _Inputs) -> dict[str, _Proxy]:
    """The checked proxy of each sector that has one (a proxy given for several sectors once)."""
    proxy_of: dict[str, _Proxy] = {}
    seen: dict[int, _Proxy] = {}
    for key, spec in (proxies or {}).items():
        s = normalise_sector(key, what="proxies key")
        if s not in inp.sectors:
            raise InputError(f"proxies: sector {s} is not in the inventory {inp.sectors}.")
        if id(spec) not in seen:
            name = (
                spec.name if isinstance(spec, xr.DataArray) and spec.name else f"proxy{len(seen)}"
            )
            needed = sorted(set(inp.outside) | {inp.first, inp.last})
            seen[id(spec)] = _check_proxy(str(name), spec, inp.reference, needed, f"proxy of {s}")
        proxy_of[s] = seen[id(spec)]
    return proxy_of


@dataclass
class _Basis:
    """The basis fields: ``emission(year) = sum_b weight(year, b) * field(b)``."""

    labels: list[str]
    fields: list[Any]  # an anchor's emission array, or ("proxy", emission, users, ratio)
    sums: np.ndarray  # domain totals (basis, sector, pollutant) [t yr-1]
    anchor: dict[int, int]  # anchor year -> basis
    proxy: dict[tuple[str, int, int], int]  # (proxy name, anchor year, knot) -> basis

    def total(self, year: int) -> np.ndarray:
        """Gridded domain totals (sector, pollutant) of the anchor inventory of `year` [t yr-1]."""
        return self.sums[self.anchor[year]]


def _basis_fields(inp: _Inputs, proxy_of: dict[str, _Proxy]) -> _Basis:
    """The anchors' fields, then each proxy's knot fields on each end anchor used, with totals.

    The field of proxy knot ``k`` on anchor ``a`` is the anchor's field of the sectors using
    the proxy times ``P(k) / P(a)`` (:func:`_proxy_ratios`).
    """
    labels: list[str] = []
    fields: list[Any] = []
    to_sum: list[Any] = []
    anchor: dict[int, int] = {}
    for inv in inp.invs:
        anchor[inv.year] = len(labels)
        labels.append(f"anchor {inv.year}")
        fields.append(inv.emission)
        to_sum.append(inv.emission)
    proxy: dict[tuple[str, int, int], int] = {}
    used_ends = sorted({inp.first if y < inp.first else inp.last for y in inp.outside})
    for pname, prox in {p.name: p for p in proxy_of.values()}.items():
        users = np.array([proxy_of.get(s) is prox for s in inp.sectors], dtype=float)
        for a in used_ends:
            em = inp.invs[inp.anchor_years.index(a)].emission
            for k, ratio in zip(prox.knots, _proxy_ratios(prox, a), strict=True):
                proxy[(pname, a, k)] = len(labels)
                labels.append(f"{pname} {k} on anchor {a}")
                fields.append(("proxy", em, users, ratio))
                to_sum.append(("weighted", em, ratio))
    return _Basis(labels, fields, _basis_sums(to_sum), anchor, proxy)


def _proxy_ratios(prox: _Proxy, year: int) -> list[Any]:
    """``P(k) / P(year)`` (y, x) for each knot ``k`` of a proxy, 1 where ``P(year) = 0``."""
    weights = _interp_weights(prox.knots, [year])[0]
    p_a = sum(w * f for w, f in zip(weights, prox.fields, strict=True) if w != 0)
    return [_ratio_to(f, p_a) for f in prox.fields]


def _ratio_to(field: Any, p_a: Any) -> Any:
    """``field / p_a`` where ``p_a > 0``, else 1 (y, x); lazy when either is a dask array."""
    if _is_dask(field) or _is_dask(p_a):
        return da.where(
            da.asarray(p_a) > 0,
            da.asarray(field) / da.where(da.asarray(p_a) > 0, p_a, 1.0),
            1.0,
        )
    pa = np.asarray(p_a, dtype=float)
    return np.where(pa > 0, np.asarray(field, float) / np.where(pa > 0, pa, 1.0), 1.0)


def _basis_sums(to_sum: list[Any]) -> np.ndarray:
    """Domain totals (basis, sector, pollutant) of the fields (lazy ones computed together).

    An entry is an emission array, or ``("weighted", emission, ratio)`` for the total of
    ``emission * ratio``.
    """
    plain_sums = iter(_sums([b for b in to_sum if not isinstance(b, tuple)]))
    weighted = [_weighted_sums(b[1], b[2]) for b in to_sum if isinstance(b, tuple)]
    lazy = [i for i, w in enumerate(weighted) if _is_dask(w)]
    if lazy:
        values = dask.compute(*[weighted[i] for i in lazy])
        for i, v in zip(lazy, values, strict=True):
            weighted[i] = np.asarray(v)
    wit = iter(weighted)
    return np.stack([next(wit) if isinstance(b, tuple) else next(plain_sums) for b in to_sum])


def _silent_pairs(
    inp: _Inputs, basis: _Basis, pts: _Points, parts: list[pd.DataFrame]
) -> np.ndarray:
    """Whether each (sector, pollutant) emits nothing at all, as bools (sector, pollutant).

    A pair is silent when its field is 0 in every cell of the reference and of every anchor
    inventory (their domain totals, sums of cells >= 0, are 0: a tiny figure in one cell
    of one anchor makes a total > 0), and every figure of its stacks is 0: the reference's,
    the anchors' and the register's (`parts`, :func:`_register_parts`), in any year, in
    service or not. Every basis field (the anchors' and their proxy reweightings) is then 0,
    and so is every year's emission whatever the series says: the pair needs none.
    """
    totals = basis.sums[[basis.anchor[a] for a in inp.anchor_years]]  # (anchor, s, p)
    silent = ~(totals != 0).any(axis=0)
    if not pts.ids:
        return silent
    figures = pts.ref != 0  # (source, pollutant)
    for part in parts:
        given = part[part["emission"].to_numpy(float) != 0]
        k = _positions(pts.ids, given["source_id"].astype(str))
        j = _positions(inp.pols, given["pollutant"].astype(str))
        figures[k, j] = True
    for i in range(len(inp.sectors)):
        silent[i] &= ~figures[pts.sector == i].any(axis=0)
    return silent


def _series_ratios(
    inp: _Inputs, surrogates: pd.DataFrame | None, silent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Series ratios and method labels, both (year, sector, pollutant).

    ``S(y) / S(a)`` of each pair's method, ``a`` the nearest end anchor, in the years outside
    the anchors (NaN elsewhere); the labels of :data:`METHOD_LABELS` in every year. A pair
    that emits nothing (`silent` (sector, pollutant), :func:`_silent_pairs`) reads no
    series: it is 0 in every year whatever its index, so its ratio is 1 outside the anchors
    (0 times 1) and its label there ``no_emission``, the word of the output's flags
    (:data:`trajectoire.io.outputs.EMISSION_METHOD_FLAGS`).
    """
    ys = np.asarray(inp.years)
    before, after = ys[ys < inp.first].tolist(), ys[ys > inp.last].tolist()
    shape = (ys.size, len(inp.sectors), len(inp.pols))
    ratio = np.full(shape, np.nan)
    labels = np.empty(shape, dtype=object)
    labels[(ys > inp.first) & (ys < inp.last)] = "interpolation"
    labels[np.isin(ys, inp.anchor_years)] = "anchor"
    labels[ys == inp.ref.year] = "reference"
    sides = (
        (slice(0, len(before)), before, inp.first),
        (slice(ys.size - len(after), ys.size), after, inp.last),
    )
    rows_of = _rows_by_pair(inp.table) if before or after else {}
    for i, s in enumerate(inp.sectors):
        for j, p in enumerate(inp.pols):
            for rows, group, a in sides:
                if not group:
                    continue
                if silent[i, j]:
                    ratio[rows, i, j] = 1.0
                    labels[rows, i, j] = "no_emission"
                    continue
                r, lab = ratio_series(
                    rows_of.get((s, p), _no_rows(inp.table)),
                    s,
                    p,
                    group,
                    a,
                    inp.methods[(s, p)],
                    surrogates=surrogates,
                    what=str(inp.table.attrs.get("what", "trend indices"))
                    if inp.table is not None
                    else "trend indices",
                )
                ratio[rows, i, j] = r.loc[group].to_numpy()
                labels[rows, i, j] = lab.loc[group].to_numpy()
    return ratio, labels


def _rows_by_pair(table: pd.DataFrame | None) -> dict[tuple[str, str], pd.DataFrame]:
    """The rows of the trend `table` of each ``(sector, pollutant)``, in the table's order:
    :func:`ratio_series` reads a pair's rows from them instead of masking the whole table
    for each pair and side (286 masks of string columns cost 1.5 s of prepare on the
    sample; the rows, hence the series, are the same)."""
    if table is None or table.empty:
        return {}
    groups = table.groupby(["sector", "pollutant"], sort=False, observed=True)
    return {(str(k[0]), str(k[1])): rows for k, rows in groups}


def _no_rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The trend table without rows (None when there is none): a pair it lacks."""
    return None if table is None else table.iloc[:0]


def _anchor_weights(inp: _Inputs, basis: _Basis) -> np.ndarray:
    """Basis weights (year, basis, sector, pollutant) [1] of the anchor and interpolated years.

    At an anchor year its field (weight 1); between anchors ``a < y < b`` the linear
    interpolation of theirs, weights ``1 - t`` and ``t`` with ``t = (y - a) / (b - a)``
    (IPCC 2006 vol. 1 ch. 5, interpolation); outside the anchors no weight yet
    (:func:`_outside_weights`). The stacks take the same weights on their anchor figures
    (:func:`_point_emissions`).
    """
    ys = np.asarray(inp.years)
    inside = (ys >= inp.first) & (ys <= inp.last)
    knots = np.where(inside[:, None], _interp_weights(inp.anchor_years, ys), 0.0)
    weight = np.zeros((ys.size, len(basis.labels), len(inp.sectors), len(inp.pols)))
    weight[:, [basis.anchor[a] for a in inp.anchor_years]] = knots[:, :, None, None]
    return weight


def _in_service(pts: _Points, years: Sequence[int] | np.ndarray) -> np.ndarray:
    """Whether each stack is in service (year, source): ``start_year <= y <= end_year``,
    a year of -1 being open."""
    y = np.asarray(years)[:, None]
    return ((pts.start < 0) | (y >= pts.start)) & ((pts.end < 0) | (y <= pts.end))


@dataclass
class _StackYears:
    """The stacks in every internal year (first axis: year), from :func:`_point_emissions`."""

    value: np.ndarray  # (year, source, pollutant) [t yr-1], 0 out of service
    method: np.ndarray  # (year, source, pollutant) labels of METHOD_LABELS, or "inactive"
    path: np.ndarray  # (year, source, pollutant) [t yr-1]: the anchor figures interpolated,
    # or the end anchor's times S(y)/S(a), before register figures and service years
    on: np.ndarray  # (year, source) in service
    on_end: np.ndarray  # (year, source) in service at the end anchor a year outside is taken from


def _anchor_figures(
    inp: _Inputs, pts: _Points, basis: _Basis, parts: list[pd.DataFrame]
) -> np.ndarray:
    """Each stack's figure at each anchor year (anchor, source, pollutant) [t yr-1].

    In order of precedence: the register's figure for that year, when the stack is in
    service then; the anchor inventory's own figure (the reference's ``p_ref``); for an
    anchor that lacks the stack, ``p_ref G_a / G_ref`` (its sector's gridded total at the
    anchor relative to the reference's, 1 where ``G_ref = 0``). A stack out of service at an
    anchor year keeps that inventory's figure: the figure of its years of service, as the
    reference's (docs/trajectory.md, point sources).
    """
    anchors = inp.anchor_years
    g_ref = basis.total(inp.ref.year)
    g_anchor = basis.sums[[basis.anchor[a] for a in anchors]]  # (anchor, sector, pollutant)
    rho = np.where(g_ref > 0, g_anchor / np.where(g_ref > 0, g_ref, 1.0), 1.0)
    fig = pts.ref[None] * rho[:, pts.sector, :]
    labels = np.empty(fig.shape, dtype=object)
    on = _in_service(pts, anchors)[:, :, None]
    for part in parts:  # the anchors' own figures, then the register's
        given = fig.copy()
        _apply_register(part, anchors, pts.ids, inp.pols, given, labels)
        fig = np.where(on, given, fig) if part["label"].eq("register").any() else given
    return fig


def _point_emissions(
    inp: _Inputs,
    pts: _Points,
    basis: _Basis,
    ratio: np.ndarray,
    labels: np.ndarray,
    parts: list[pd.DataFrame],
    point_history: pd.DataFrame | None,
) -> _StackYears:
    """Point-source emissions (year, source, pollutant) [t yr-1] and their method labels.

    A stack is used as the gridded part is (IPCC 2006 vol. 1 ch. 5): its figure at each
    anchor year (:func:`_anchor_figures`) is reproduced there; between anchors ``a < y < b``
    it is interpolated linearly between its two figures, with the gridded part's weights
    ``1 - t``, ``t`` (label ``interpolation``); before the first anchor and after the last
    it is that anchor's figure times the series ratio ``S(y) / S(a)`` of its sector (the
    sector's method label). Register figures (`point_history`, checked in `parts` by
    :func:`_register_parts`) override in their years (``register``); a stack is zero
    (``inactive``) outside its years of service.
    """
    ys = inp.years
    yarr = np.asarray(ys)
    shape = (len(ys), len(pts.ids), len(inp.pols))
    outside = (yarr < inp.first) | (yarr > inp.last)
    if not pts.ids:
        none = np.zeros(shape[:2], dtype=bool)
        return _StackYears(np.zeros(shape), np.empty(shape, object), np.zeros(shape), none, none)
    on = _in_service(pts, ys)
    fig = _anchor_figures(inp, pts, basis, parts)
    path = np.einsum("ya,akp->ykp", _interp_weights(inp.anchor_years, yarr), fig)
    path[outside] *= ratio[outside][:, pts.sector, :]
    value = path.copy()
    method = labels[:, pts.sector, :].copy()
    for part in parts:  # later parts (the register) override earlier ones (anchors)
        _apply_register(part, ys, pts.ids, inp.pols, value, method)
    if point_history is not None and (~on).any():
        _warn_out_of_service(parts[-1], ys, pts.ids, ~on)  # parts[-1]: the register
    value = np.where(on[:, :, None], value, 0.0)
    method = np.where(on[:, :, None], method, "inactive")
    end_anchor = np.where(yarr < inp.first, inp.first, inp.last)
    return _StackYears(value, method, path, on, _in_service(pts, end_anchor))


def _register_parts(
    inp: _Inputs, pts: _Points, point_history: pd.DataFrame | None
) -> list[pd.DataFrame]:
    """Checked stack figures ``source_id, year, pollutant, emission, label`` [t yr-1].

    Those of each anchor inventory (label ``anchor``), then `point_history` (``register``).
    """
    parts = []
    for inv in inp.invs:
        if inv is inp.ref or "point_emission" not in inv.ds or "source" not in inv.ds.dims:
            continue
        apts = inv.ds["point_emission"].to_dataframe().reset_index()
        apts = apts.rename(columns={"source": "source_id", "point_emission": "emission"})
        apts["year"] = inv.year
        apts["label"] = "anchor"
        what = f"anchor {inv.year} point_emission"
        checked = _check_register(apts, pts.ids, inp.pols, what, empty_is_none=False)
        parts.append(checked.assign(label="anchor"))
    if point_history is not None:
        # the pipeline names the file and its key (DataFrame.attrs); a caller's table: the name
        what = str(point_history.attrs.get("what", "point_history"))
        hist = _check_register(point_history, pts.ids, inp.pols, what)
        parts.append(hist.assign(label="register"))
    return parts


def _apply_register(
    part: pd.DataFrame,
    ys: list[int],
    ids: list[str],
    pols: list[str],
    pvals: np.ndarray,
    pmeth: np.ndarray,
) -> None:
    """Write the figures and labels of `part` in the years `ys` into `pvals`, `pmeth`."""
    part = part[part["year"].isin(ys)]
    iy = _positions(ys, part["year"])
    k = _positions(ids, part["source_id"].astype(str))
    j = _positions(pols, part["pollutant"].astype(str))
    pvals[iy, k, j] = part["emission"].to_numpy(float)
    pmeth[iy, k, j] = part["label"].to_numpy()


def _warn_out_of_service(
    register: pd.DataFrame, ys: list[int], ids: list[str], off: np.ndarray
) -> None:
    """Warn about register figures > 0 of stacks out of service (`off` (year, source))."""
    reg = register[(register["emission"] > 0) & register["year"].isin(ys)]
    sids = reg["source_id"].astype(str)
    hit = off[_positions(ys, reg["year"]), _positions(ids, sids)]
    bad = list(zip(sids[hit].tolist(), reg["year"][hit].tolist(), strict=True))
    if bad:
        warn(
            f"point_history: register figures for stacks out of service (source, "
            f"year) {bad[:5]}{' ...' if len(bad) > 5 else ''} are ignored; fix "
            "start_year/end_year if the stack was operating."
        )


def _positions(labels: Sequence[Any], values: pd.Series) -> np.ndarray:
    """Position in `labels` of each of `values` (all among them)."""
    return pd.Index(labels).get_indexer(pd.Index(values))


def _point_totals(pts: _Points, pvals: np.ndarray, ns: int) -> np.ndarray:
    """Point-source totals (year, sector, pollutant) [t yr-1], summed in source order."""
    ptot = np.zeros((pvals.shape[0], ns, pvals.shape[2]))
    np.add.at(ptot.swapaxes(0, 1), pts.sector, pvals.swapaxes(0, 1))  # in place, k ascending
    return ptot


def _outside_weights(
    inp: _Inputs,
    basis: _Basis,
    proxy_of: dict[str, _Proxy],
    ratio: np.ndarray,
    pts: _Points,
    stacks: _StackYears,
    ptot: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Fill the basis weights of the years outside the anchors; the sector targets.

    With ``a`` the end anchor a year ``y`` is taken from (the first anchor before it, the
    last after it), ``P_ay(a)`` the figures at ``a`` of the stacks in service both at ``a``
    and in ``y``, and ``F(y)`` the figures in ``y`` of those in service in ``y`` but not at
    ``a``, the target is

        T(y) = (G_a + P_ay(a)) S(y) / S(a) + F(y)

    (year, sector, pollutant) [t yr-1], NaN at and between the anchors: the part of the
    sector present at ``a`` and still in ``y`` follows its series (IPCC 2006 vol. 1 ch. 5),
    a stack that the total of ``a`` did not contain comes on top with its own figures, and
    one out of service in ``y`` takes only its own figures away. The gridded part is scaled
    by ``g(y) = (T(y) - P(y)) / G_a`` [1], which is ``S(y) / S(a)`` unless register
    figures depart from their stacks' series; where they cannot be reconciled with
    ``T(y)`` it is clipped at 0, with a warning naming them (:func:`_clip_causes`).
    """
    ys = np.asarray(inp.years)
    ns = len(inp.sectors)
    target_all = np.full(ratio.shape, np.nan)
    rows = np.flatnonzero((ys < inp.first) | (ys > inp.last))
    ends = np.where(ys[rows] < inp.first, inp.first, inp.last).tolist()  # anchor of each row
    ga = basis.sums[np.array([basis.anchor[a] for a in ends], dtype=int)]
    at_end = stacks.value[np.array([inp.years.index(a) for a in ends], dtype=int)]
    on_y, on_a = stacks.on[rows][:, :, None], stacks.on_end[rows][:, :, None]
    kept = _point_totals(pts, np.where(on_y & on_a, at_end, 0.0), ns)  # P_ay(a)
    fresh = _point_totals(pts, np.where(on_y & ~on_a, stacks.value[rows], 0.0), ns)  # F(y)
    target = (ga + kept) * ratio[rows] + fresh
    target_all[rows] = target
    rest = target - ptot[rows]
    tol = 1e-9 * np.maximum(target, ptot[rows])
    over = rest < -tol  # the stacks exceed the target
    bare = (ga <= 0) & (rest > tol)  # no gridded part to take up the difference
    gfac = np.where(ga > 0, np.clip(rest, 0.0, None) / np.where(ga > 0, ga, 1.0), 0.0)
    _spread_outside(weight, rows, ys[rows], ends, gfac, ga, basis, proxy_of, inp.sectors)
    causes = _clip_causes(over, bare, rows, ends, pts, stacks, inp.years)
    _warn_unreconciled(over | bare, ys[rows].tolist(), inp.sectors, inp.pols, causes)
    return target_all


def _spread_outside(
    weight: np.ndarray,
    rows: np.ndarray,
    years: np.ndarray,
    ends: list[int],
    gfac: np.ndarray,
    ga: np.ndarray,
    basis: _Basis,
    proxy_of: dict[str, _Proxy],
    sectors: list[str],
) -> None:
    """Weights of the outside `years` (rows `rows` of `weight`, end anchors `ends`), in place.

    ``g(y)`` on the end anchor's field; for a sector with a proxy, ``g(y) G_a alpha_k / D``
    on its knot fields ``k`` (``alpha`` the interpolation weights of the year on the knots,
    ``D = sum_k alpha_k G_k`` with ``G_k`` a knot field's total), or the anchor's field where
    ``D = 0``.
    """
    base = np.array([basis.anchor[a] for a in ends], dtype=int)[:, None]
    plain = [i for i, s in enumerate(sectors) if s not in proxy_of]
    weight[rows[:, None], base, plain] = gfac[:, plain]
    users: dict[int, list[int]] = {}  # sectors of each proxy
    for i, s in enumerate(sectors):
        if s in proxy_of:
            users.setdefault(id(proxy_of[s]), []).append(i)
    for sec in users.values():
        prox = proxy_of[sectors[sec[0]]]
        alpha = _interp_weights(prox.knots, years)[:, :, None, None]  # (row, knot, 1, 1)
        idx = np.array([[basis.proxy[(prox.name, a, k)] for k in prox.knots] for a in ends], int)
        idx = idx.reshape(len(ends), len(prox.knots))
        denom = sum(alpha[:, m] * basis.sums[idx[:, m]][:, sec] for m in range(alpha.shape[1]))
        safe = np.where(denom > 0, denom, 1.0)[:, None]
        share = np.where(
            denom[:, None] > 0, gfac[:, None, sec] * ga[:, None, sec] * alpha / safe, 0.0
        )
        weight[rows[:, None, None], idx[:, :, None], sec] = np.where(alpha != 0, share, 0.0)
        weight[rows[:, None], base, sec] = np.where(~(denom > 0), gfac[:, sec], 0.0)


class UnreconciledTotals(TrajectoireWarning):
    """A (sector, pollutant) whose total departs from its series in some years: the stacks
    exceed the sector's target or there is no gridded part to absorb the difference
    (:func:`_warn_unreconciled`). ``sector``, ``pollutant`` and ``years`` say which, and
    ``sources`` the stacks that cause it (empty when not known), for a caller that
    summarises them (the run: one warning for all the pairs)."""

    def __init__(
        self,
        message: str,
        sector: str,
        pollutant: str,
        years: list[int],
        sources: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.sector, self.pollutant, self.years = sector, pollutant, years
        self.sources = list(sources)


def _clip_causes(
    over: np.ndarray,
    bare: np.ndarray,
    rows: np.ndarray,
    ends: list[int],
    pts: _Points,
    stacks: _StackYears,
    years: list[int],
) -> dict[tuple[int, int], tuple[str, list[str]]]:
    """Why the gridded part of a (sector, pollutant) is clipped: a clause and the stack ids.

    `over` and `bare` are (row, sector, pollutant) over the outside `rows` (their end anchors
    `ends`): the stacks stand above the target, or the sector has no gridded part there to
    take up what they leave below it. A stack's departure is its figure less its series
    path (its figure at the end anchor times ``S(y)/S(a)``), for the stacks in service
    both at the end anchor and that year (the others add or take away only their own
    figures): a register figure above or below the path.
    """
    value, path = stacks.value[rows], stacks.path[rows]
    both = (stacks.on[rows] & stacks.on_end[rows])[:, :, None]
    dev = np.where(both, value - path, 0.0)  # (row, source, pollutant) [t yr-1]
    causes: dict[tuple[int, int], tuple[str, list[str]]] = {}
    for i, j in np.argwhere((over | bare).any(axis=0)).tolist():
        ks = np.flatnonzero(pts.sector == i)
        clauses, named = [], []
        for flags, sign in ((over[:, i, j], 1.0), (bare[:, i, j], -1.0)):
            r = np.flatnonzero(flags)
            if not r.size:
                continue
            d = sign * dev[np.ix_(r, ks)][:, :, j]  # (row, stack) > 0: a cause
            order = np.argsort(-d.max(axis=0), kind="stable")
            shown = []
            for m in order[d.max(axis=0)[order] > 0].tolist():
                k, hit = int(ks[m]), r[d[:, m] > 0]
                when = year_ranges(years[rows[h]] for h in hit.tolist())
                kind = str(stacks.method[rows[int(hit[0])], k, j])  # the register's, mostly
                shown.append(f"{pts.ids[k]} ({kind}: {when})")
                named.append(pts.ids[k])
            stacks_text = f"stack(s) {rows_preview(shown, 5)}" if shown else "its stacks"
            if sign > 0:
                clauses.append(
                    f"{stacks_text} stand above their series path (their anchor figure times "
                    "S(y)/S(a)) by more than the sector's gridded part"
                )
            else:
                anchors = sorted({ends[h] for h in r.tolist()})
                clauses.append(
                    f"the sector has no gridded part in anchor {rows_preview(anchors)} to take "
                    f"up what {stacks_text} leave below their series path"
                )
        causes[(i, j)] = ("; ".join(clauses), list(dict.fromkeys(named)))
    return causes


def _warn_unreconciled(
    short: np.ndarray,
    years: list[int],
    sectors: list[str],
    pols: list[str],
    causes: Mapping[tuple[int, int], tuple[str, list[str]]] | None = None,
) -> None:
    """Warn, per (sector, pollutant), about the years (`short` (year, sector, pollutant)),
    naming the stacks that cause it where `causes` (:func:`_clip_causes`) says."""
    missed: dict[tuple[int, int], list[int]] = {}
    for r, i, j in np.argwhere(short):
        missed.setdefault((int(i), int(j)), []).append(years[r])
    for (i, j), bad_years in missed.items():
        cause, sources = (causes or {}).get(
            (i, j),
            ("they exceed its target total, or there is no gridded part to absorb the "
             "difference", []),
        )  # fmt: skip
        message = (
            f"sector {sectors[i]}, pollutant {pols[j]}: in {len(bad_years)} year(s) "
            f"({rows_preview(bad_years)}) the point sources cannot be reconciled with the "
            f"sector's series: {cause}. The gridded part is clipped at 0 there and the "
            "sector total departs from its series (compare 'total' with 'target_total'). "
            "Check the register figures or the sector's index (docs/trajectory.md, point "
            "sources)."
        )
        warnings.warn(
            UnreconciledTotals(message, sectors[i], pols[j], bad_years, sources), stacklevel=2
        )


def _as_dask(x: Any, chunks: tuple[Any, ...]) -> da.Array:
    """`x` as a dask array with `chunks` (numpy arrays as views, not copies)."""
    if _is_dask(x):
        return x.rechunk(chunks)
    return _view_array(np.asarray(x), chunks)


def _lazy_basis(basis: _Basis, chunks: tuple[tuple[int, ...], ...], dtype: Any) -> da.Array:
    """The basis fields (basis, sector, pollutant, y, x) [t yr-1] as one lazy array.

    A proxy field is its anchor's field of the proxy's sectors times the knot ratio.
    """
    cs, cp, cy, cx = chunks
    fields = []
    for arr in basis.fields:
        if isinstance(arr, tuple):
            _, em, users, rat = arr
            em_d = _as_dask(em, (cs, cp, cy, cx))
            rat_d = _as_dask(rat, (cy, cx))
            users_d = da.from_array(users, chunks=(cs,))
            fields.append((em_d * users_d[:, None, None, None] * rat_d[None, None]).astype(dtype))
        else:
            fields.append(_as_dask(arr, (cs, cp, cy, cx)).astype(dtype))
    return da.stack(fields, axis=0)


def _lazy_emission(
    basis: da.Array,
    weight: np.ndarray,
    years: list[int],
    chunks: tuple[tuple[int, ...], ...],
    dtype: Any,
) -> da.Array:
    """``emission(year, sector, pollutant, y, x) = sum_b weight * basis``, one task a chunk.

    Each task combines only the basis fields with a non-zero weight in its block (zeros when
    there is none), so that a year costs what its own fields cost.
    """
    cs, cp, cy, cx = chunks
    ename = "emission-" + tokenize(basis.name, weight, years)
    dsk: dict[Any, Any] = {}
    soff = np.concatenate([[0], np.cumsum(cs)])
    poff = np.concatenate([[0], np.cumsum(cp)])
    for iy, js, jp in itertools.product(range(len(years)), range(len(cs)), range(len(cp))):
        wblk = weight[iy, :, soff[js] : soff[js + 1], poff[jp] : poff[jp + 1]]
        used = [b for b in range(weight.shape[1]) if np.any(wblk[b] != 0)]
        for jy, jx in itertools.product(range(len(cy)), range(len(cx))):
            okey = (ename, iy, js, jp, jy, jx)
            if not used:
                dsk[okey] = (_zeros_block, (1, cs[js], cp[jp], cy[jy], cx[jx]), dtype)
            else:
                blocks = [(basis.name, b, js, jp, jy, jx) for b in used]
                dsk[okey] = (_combine, wblk[used], blocks, dtype)
    dependencies: list[Any] = [basis]
    graph = HighLevelGraph.from_collections(ename, dsk, dependencies=dependencies)
    return da.Array(graph, ename, chunks=((1,) * len(years), cs, cp, cy, cx), dtype=dtype)


@dataclass
class _PerYear:
    """The per-year arrays of :func:`rebuild` (first axis: year)."""

    weight: np.ndarray  # basis_weight (year, basis, sector, pollutant) [1]
    method: np.ndarray  # (year, sector, pollutant) labels
    point_total: np.ndarray  # (year, sector, pollutant) [t yr-1]
    point_emission: np.ndarray  # (year, source, pollutant) [t yr-1]
    point_method: np.ndarray  # (year, source, pollutant) labels
    target_total: np.ndarray  # (year, sector, pollutant) [t yr-1]

    def take(self, rows: list[int]) -> _PerYear:
        """The arrays at the years `rows`."""
        return _PerYear(
            self.weight[rows],
            self.method[rows],
            self.point_total[rows],
            self.point_emission[rows],
            self.point_method[rows],
            self.target_total[rows],
        )


def _assemble(
    inp: _Inputs, basis: _Basis, lazy_basis: da.Array, emission: da.Array, per_year: _PerYear
) -> xr.Dataset:
    """The dataset of the gridded variables, per-year methods and totals, on the output years."""
    reference = inp.reference
    coords: dict[str, Any] = {
        "year": ("year", np.asarray(inp.out_years, dtype=np.int64)),
        "sector": ("sector", inp.sectors),
        "pollutant": ("pollutant", inp.pols),
        "y": reference["y"],
        "x": reference["x"],
    }
    out = xr.Dataset(coords=coords)
    em_da = xr.DataArray(emission, dims=("year", "sector", "pollutant", "y", "x"))
    out["emission"] = set_cf_attrs(em_da, "emission")
    out = out.assign_coords(basis=basis.labels)
    out["basis_emission"] = xr.DataArray(
        lazy_basis,
        dims=("basis", "sector", "pollutant", "y", "x"),
        attrs={"units": "t yr-1", "long_name": "basis emission fields (anchors, proxy years)"},
    )
    out["basis_weight"] = xr.DataArray(
        per_year.weight,
        dims=("year", "basis", "sector", "pollutant"),
        attrs={"units": "1", "long_name": "weight of each basis field in emission"},
    )
    out["method"] = xr.DataArray(
        per_year.method.astype(str),
        dims=("year", "sector", "pollutant"),
        attrs={"long_name": "time-series method (IPCC 2006 vol. 1 ch. 5)"},
    )
    return _add_totals(out, inp, basis, per_year)


def _add_totals(out: xr.Dataset, inp: _Inputs, basis: _Basis, per_year: _PerYear) -> xr.Dataset:
    """Add ``scale``, ``pattern_changed``, ``total`` and ``target_total`` (year, sector, pollutant)."""
    dims = ("year", "sector", "pollutant")
    weight = per_year.weight
    g_ref = basis.total(inp.ref.year)
    safe_ref = np.where(g_ref > 0, g_ref, 1.0)
    gtot = np.einsum("ybsp,bsp->ysp", weight, basis.sums)
    out["scale"] = xr.DataArray(
        np.where(g_ref > 0, gtot / safe_ref, np.where(gtot > 0, np.nan, 1.0)),
        dims=dims,
        attrs={"units": "1", "long_name": "gridded total relative to the reference field"},
    )
    others = np.delete(weight, basis.anchor[inp.ref.year], axis=1)
    out["pattern_changed"] = xr.DataArray(
        np.any(others != 0, axis=1),
        dims=dims,
        attrs={"long_name": "whether the field is not scale times the reference field"},
    )
    out["total"] = xr.DataArray(
        gtot + per_year.point_total,
        dims=dims,
        attrs={"units": "t yr-1", "long_name": "domain total, gridded plus point sources"},
    )
    out["target_total"] = xr.DataArray(
        per_year.target_total,
        dims=dims,
        attrs={
            "units": "t yr-1",
            "long_name": "sector total required by the series method, stacks opened or "
            "closed since the anchor year at their own figures (NaN at and between anchors)",
        },
    )
    return out


def _add_points(out: xr.Dataset, pts: _Points, per_year: _PerYear) -> xr.Dataset:
    """Add the point sources: emission and method per year, and their static variables."""
    if not pts.ids:
        return out
    out = out.assign_coords(source=pts.ids)
    out["point_emission"] = xr.DataArray(
        per_year.point_emission,
        dims=("year", "source", "pollutant"),
        attrs={"units": "t yr-1", "long_name": "point-source emission"},
    )
    out["point_method"] = xr.DataArray(
        per_year.point_method.astype(str), dims=("year", "source", "pollutant")
    )
    for vname, v in pts.static.items():
        out[vname] = v.drop_vars([c for c in v.coords if c != "source"])
    return out


# =========================================================================== rebuild
def rebuild(
    reference: xr.Dataset,
    indices: pd.DataFrame | None,
    years: Sequence[int] | range | int,
    *,
    methods: MethodsSpec | None = None,
    anchors: Sequence[xr.Dataset] | xr.Dataset = (),
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
        [t yr-1], finite and >= 0 in every cell, point sources on dim ``source``,
        ``attrs["reference_year"]``, ``crs``. Numpy- or dask-backed (a dask array is read
        once more, for the check of its values).
    indices : pandas.DataFrame or None
        Tidy trend table ``sector, pollutant, year, value[, series]``
        (:mod:`trajectoire.trends`). None when anchors cover every year.
    years : sequence of int, or int
        Increasing output years, e.g. ``range(1990, 2024)``; one year alone (``2015``) is
        a one-year list.
    methods : mapping, optional
        Time-series method for the years outside the anchors, keyed by ``(sector,
        pollutant)``, by sector, or ``"default"``; values are :class:`~trajectoire.trends.Method`
        or a method name. Default ``"index"`` for every pair.
    anchors : sequence of xarray.Dataset, or xarray.Dataset, optional
        Other inventories of other years, same grid, sectors and pollutants as `reference`,
        checked as it is (one Dataset alone is a one-element list). Each anchor year is
        reproduced exactly, its stack figures too; between anchors cells and stack figures
        are interpolated linearly, and before the first anchor (after the last) both are
        taken from that anchor with the series.
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
        (strings, :data:`METHOD_LABELS`, plus ``inactive`` for stacks out of service, and
        ``no_emission`` in the years outside the anchors for a pair that emits nothing: 0
        in every cell of the reference and anchors and in every figure of its stacks, the
        reference's, anchors' and register's; it reads no series, and is 0 in every year);
        ``total(year, sector, pollutant)`` [t yr-1] (gridded + points);
        ``target_total(year, sector, pollutant)`` [t yr-1] (what the series method asks of
        the part of the sector in service at the anchor the year is taken from, with the
        stacks opened or closed since then at their own figures; NaN at anchor and
        interpolated years; differs from ``total`` only where register figures could not be
        reconciled, which is warned about); ``scale(year,
        sector, pollutant)`` [1] = gridded total / reference gridded total;
        ``pattern_changed(year, sector, pollutant)`` (bool: the field is not ``scale`` times
        the reference field); ``basis_weight(year, basis, sector, pollutant)`` [1] and
        ``basis_emission(basis, sector, pollutant, y, x)`` [t yr-1, dask] with
        ``emission = sum over basis of basis_weight * basis_emission``.

    Raises
    ------
    trajectoire.InputError
        Bad inventories (among them an ``emission`` cell that is NaN, infinite or
        negative: the message names the sector, pollutant, count and a cell), `anchors`
        that are not Datasets, years that are not whole numbers, anchors that disagree on
        sectors/pollutants/grid, a year outside a
        series (the message names extrapolation), a gap in an index series, an index that
        is zero in every year or zero or negative at the reference (or anchor) year (for a
        pair that emits: one that emits nothing reads no series), bad registers or proxies.
    trajectoire.ConfigError
        Bad methods or chunks.

    Notes
    -----
    With anchors :math:`a_1 < \\dots < a_n` (the reference among them) and :math:`G_a`,
    :math:`P_a` the gridded and point totals of (sector, pollutant) at anchor ``a``:

    * at an anchor year, :math:`E(a) = E_a` exactly (method ``reference``/``anchor``);
    * between anchors :math:`a < y < b`, per cell,
      :math:`E(y) = E_a + (E_b - E_a)(y - a)/(b - a)` (``interpolation``);
    * a stack ``k`` is used as the gridded part is: its figure :math:`p_k(a)` at each
      anchor (the register's, else the anchor inventory's, else
      :math:`p_{k,ref}\\,G_a/G_{ref}`) is reproduced there; between anchors
      :math:`p_k(y) = p_k(a) + (p_k(b) - p_k(a))(y - a)/(b - a)` (``interpolation``);
      outside, :math:`p_k(y) = p_k(a)\\,S(y)/S(a)` from the nearest anchor ``a`` with the
      ratio series ``S`` of the method; register figures override in their years, and a
      stack is 0 out of service;
    * outside the anchors the sector target is
      :math:`T(y) = (G_a + P_{ay}(a))\\,S(y)/S(a) + F(y)`, with :math:`P_{ay}(a)` the
      figures at ``a`` of the stacks in service both at ``a`` and in ``y``, and :math:`F(y)`
      the figures of those in service in ``y`` but not at ``a`` (a stack opened or closed
      in between adds or takes away only its own figures); the gridded part is scaled by
      :math:`g(y) = (T(y) - P(y)) / G_a`, which is :math:`S(y)/S(a)` unless register
      figures depart from their stacks' series (clipped at 0 with a warning naming the
      stacks), so that gridded + points = T(y) exactly;
    * with a proxy :math:`w_y(c) = P(y, c)/P(a, c)` (1 where :math:`P(a, c) = 0`),
      :math:`E(y, c) = g(y) G_a\\, E_a(c) w_y(c) / \\sum_c E_a(c) w_y(c)`.

    Examples
    --------
    >>> from trajectoire.sample.synthetic import synthetic_inventory
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
    inp = _check_inputs(reference, indices, years, methods, anchors, chunks)
    proxy_of = _check_proxies(proxies, inp)
    basis = _basis_fields(inp, proxy_of)
    pts = _check_points(reference, inp.sectors, inp.pols, "reference inventory")
    _note_out_of_service(pts, inp.ref.year, inp.pols)
    parts = _register_parts(inp, pts, point_history) if pts.ids else []
    silent = _silent_pairs(inp, basis, pts, parts)
    ratio, labels = _series_ratios(inp, surrogates, silent)
    weight = _anchor_weights(inp, basis)
    stacks = _point_emissions(inp, pts, basis, ratio, labels, parts, point_history)
    ptot = _point_totals(pts, stacks.value, len(inp.sectors))
    target = _outside_weights(inp, basis, proxy_of, ratio, pts, stacks, ptot, weight)
    per_year = _PerYear(weight, labels, ptot, stacks.value, stacks.method, target)
    per_year = per_year.take(inp.keep)
    lazy_basis = _lazy_basis(basis, inp.chunks, inp.dtype)
    emission = _lazy_emission(lazy_basis, per_year.weight, inp.out_years, inp.chunks, inp.dtype)
    out = _assemble(inp, basis, lazy_basis, emission, per_year)
    out = _add_points(out, pts, per_year)
    if uncertainty is not None:
        out = out.merge(monte_carlo(out["total"], uncertainty))
    ys, anchor_years = inp.out_years, inp.anchor_years
    out.attrs = {
        "crs": str(reference.attrs.get("crs", Grid.from_xarray(reference).crs.to_string())),
        "reference_year": inp.ref.year,
        "anchor_years": np.asarray(anchor_years, dtype=np.int64),
    }
    add_history(out, f"rebuild(years={ys[0]}..{ys[-1]}, anchors={anchor_years})")
    return out
