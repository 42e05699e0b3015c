"""The main job: from a run configuration to every year's emissions, concentrations and shares.

This module is the pipeline the batch runner (:mod:`trajectoire.runner`) drives:

* :func:`prepare` does the year-independent work once: grid, territories, reference
  inventory, the lazy emission trajectory, meteorological frequency tables, background,
  population, territory fractions, receptors;
* :func:`compute_year` turns one year into a :class:`xarray.Dataset` holding the stable
  output variables of DESIGN.md for that year (``emission``, ``concentration``,
  ``contribution`` in map years, ``background``, ``exposure``) plus the aggregated
  attribution (territory means, population-weighted means and station values split by sector
  and territory of origin) that is kept for every year;
* :func:`static_variables` and :func:`global_attributes` complete the output file.

Years are independent: the runner may compute them in any order, serially or on a Dask
cluster, and the result is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire.attribution import aggregate_by_origin_stack, origin_layers
from trajectoire.cf import set_cf_attrs
from trajectoire.dispersion.chemistry import no2_attribution
from trajectoire.dispersion.concentration import DispersionSettings, YearDispersion
from trajectoire.errors import ConfigError, InputError
from trajectoire.geo.grid import Grid
from trajectoire.io.config import RunConfig

__all__ = [
    "RunContext",
    "compute_year",
    "global_attributes",
    "prepare",
    "static_variables",
    "years",
]

log = logging.getLogger("trajectoire")

#: Release heights [m] used for the area sources of each GNFR sector when the configuration
#: does not give one (typical effective heights: road traffic and soils near the ground,
#: domestic chimneys, low industrial and port sources).
DEFAULT_RELEASE_HEIGHT: dict[str, float] = {
    "A_PublicPower": 20.0,
    "B_Industry": 15.0,
    "C_OtherStationaryComb": 8.0,
    "D_Fugitive": 10.0,
    "E_Solvents": 3.0,
    "F_RoadTransport": 1.0,
    "G_Shipping": 20.0,
    "H_Aviation": 5.0,
    "I_OffRoad": 2.0,
    "J_Waste": 10.0,
    "K_AgriLivestock": 1.0,
    "L_AgriOther": 1.0,
    "M_Other": 3.0,
}


@dataclass
class Receptor:
    """A weighted receptor aggregate on a window of the grid."""

    name: str
    rows: slice
    cols: slice
    weights: np.ndarray  # sums to 1 over the window


@dataclass
class RunContext:
    """Everything year-independent a run needs (picklable for Dask workers)."""

    config: RunConfig
    grid: Grid
    years: list[int]
    sectors: list[str]
    dispersed: list[str]  # pollutants dispersed linearly (NO2 excluded)
    output_pollutants: list[str]  # dispersed + NO2 when asked
    map_years: set[int]
    territories: list[str]
    origins: list[str]  # territories + "rest"
    basis: np.ndarray  # (basis, pollutant, sector, ny, nx) float32 basis fields [t yr-1]
    basis_weight: xr.DataArray  # (year, basis, sector, pollutant): emission = Σ_b w_b basis_b
    trajectory: xr.Dataset  # the trajectory's small variables (method, total, scale...)
    points: xr.Dataset | None  # stacks: positions, parameters, sector, origin
    point_emission: xr.DataArray | None  # (year, source, pollutant) [t yr-1]
    met: xr.Dataset  # frequency tables with a year dim
    background: xr.DataArray  # (year, pollutant) [ug m-3]
    census_years: list[int]  # years of the population grids
    census: np.ndarray  # (census, ny, nx) inhabitants per cell at the census years
    fractions: np.ndarray  # (origin, ny, nx)
    origin_index: np.ndarray
    origin_fraction: np.ndarray
    mask: np.ndarray  # (ny, nx) bool: written cells
    territory_receptors: list[Receptor]
    stations: pd.DataFrame  # station_id, x, y, row, col
    settings: DispersionSettings
    attrs: dict[str, Any] = field(default_factory=dict)


def years(ctx: RunContext) -> list[int]:
    """Years of the run, in order."""
    return list(ctx.years)


# ---------------------------------------------------------------------------------- prepare
def prepare(config: RunConfig) -> RunContext:
    """Do the year-independent work of a run.

    Parameters
    ----------
    config : RunConfig
        Validated configuration (:func:`trajectoire.config.load_config`).

    Returns
    -------
    RunContext
    """
    from trajectoire.dispersion.background import read_background
    from trajectoire.geo.territories import (
        buffer_mask,
        load_territories,
        regional_grid,
        territory_fractions,
    )
    from trajectoire.inventory.build import build_inventory, read_zones

    inputs = config.inputs
    terr = load_territories(inputs.territories)
    wanted = list(config.grid.territories)
    terr = terr[terr["territory"].isin(wanted)].reset_index(drop=True)
    missing = sorted(set(wanted) - set(terr["territory"]))
    if missing:
        raise InputError(
            f"{inputs.territories}: territories {missing} asked in [grid] are not in the file."
        )
    grid = regional_grid(terr, resolution=config.grid.resolution, buffer=config.grid.buffer)
    log.info("grid: %s", grid)
    run_years = list(range(config.run.first_year, config.run.last_year + 1))

    zones = read_zones(inputs.zones) if inputs.zones else None
    reference = build_inventory(
        grid,
        reference_year=config.run.reference_year,
        point_sources=inputs.point_sources,
        roads=inputs.roads,
        road_emission_factors=inputs.road_emission_factors,
        area_totals=inputs.area_emissions,
        zones=zones,
        landuse=inputs.landuse,
        pollutants=[p for p in config.run.pollutants if p != "NO2"] or None,
    )
    # keep the sectors that emit something (gridded or stacks): empty ones cost FFTs and bytes
    # (one sector at a time: xarray's NaN-skipping sum made a masked copy of the whole grid)
    em = np.asarray(reference["emission"].transpose("sector", ...).values)
    emits = [bool((em[i] > 0).any()) for i in range(em.shape[0])]
    stack_sectors = (
        {str(v) for v in reference["source_sector"].values} if "source" in reference.dims else set()
    )
    sectors = [
        str(s)
        for s, t in zip(reference["sector"].values, emits, strict=True)
        if t or str(s) in stack_sectors
    ]
    reference = reference.sel(sector=sectors)
    dispersed = [str(p) for p in reference["pollutant"].values]
    output_pollutants = list(dispersed)
    if "NO2" in config.run.pollutants:
        if "NOx" not in dispersed:
            raise ConfigError("[run] pollutants: NO2 is derived from NOx; add 'NOx'.")
        output_pollutants.append("NO2")

    met = _meteorology(config, run_years)  # first: the years it covers are checked cheaply
    trajectory = _trajectory(config, reference, run_years)
    background = _background(config, output_pollutants, run_years, read_background)
    census_years, census = _census_grids(zones, grid)

    frac_da = territory_fractions(terr, grid)
    origins = [str(o) for o in frac_da["territory"].values]
    fractions = np.asarray(frac_da.values, dtype=np.float64)
    oidx, ofrac = origin_layers(fractions)
    mask = (
        np.asarray(buffer_mask(terr, grid, config.grid.buffer).values, dtype=bool)
        if config.output.mask_beyond_buffer
        else np.ones(grid.shape, dtype=bool)
    )
    heights = dict(DEFAULT_RELEASE_HEIGHT)
    heights.update(config.dispersion.release_height)
    settings = DispersionSettings(
        radius=config.dispersion.radius,
        sigma=config.dispersion.sigma,
        receptor_height=config.dispersion.receptor_height,
        release_height=heights,
        precision="single",
    )
    half = int(np.ceil(settings.radius / grid.resolution))
    receptors = [_window_receptor(str(t), fractions[i], half) for i, t in enumerate(origins[:-1])]
    stations = _stations(config, grid)
    points, point_emission = _points(trajectory, reference, grid, fractions, origins)
    # one (sector, y, x) slab at a time: converting the whole float64 basis at once held a
    # transposed float64 copy beside the float32 result (+1.7 GB at 100 m on the sample)
    be = trajectory["basis_emission"].transpose("basis", "pollutant", "sector", "y", "x")
    basis = np.empty(be.shape, dtype=np.float32)
    for b in range(be.shape[0]):
        for p in range(be.shape[1]):
            basis[b, p] = be[b, p].values
    del be
    basis_weight = (
        trajectory["basis_weight"].transpose("year", "basis", "sector", "pollutant").load()
    )
    small = (
        trajectory.drop_vars(
            [v for v in ("emission", "basis_emission") if v in trajectory], errors="ignore"
        )
        .drop_dims(["y", "x"], errors="ignore")
        .load()
    )
    del trajectory, reference
    map_years = set(config.attribution.map_years) & set(run_years)
    if not config.attribution.map_years:
        map_years = {y for y in run_years if y % 5 == 0} | {run_years[-1]}
    return RunContext(
        config=config,
        grid=grid,
        years=run_years,
        sectors=sectors,
        dispersed=dispersed,
        output_pollutants=output_pollutants,
        map_years=map_years,
        territories=origins[:-1],
        origins=origins,
        basis=basis,
        basis_weight=basis_weight,
        trajectory=small,
        points=points,
        point_emission=point_emission,
        met=met,
        background=background,
        census_years=census_years,
        census=census,
        fractions=fractions,
        origin_index=oidx,
        origin_fraction=ofrac,
        mask=mask,
        territory_receptors=receptors,
        stations=stations,
        settings=settings,
        attrs={"reference_year": config.run.reference_year},
    )


def _window_receptor(name: str, weights: np.ndarray, half: int) -> Receptor:
    rows = np.flatnonzero(weights.any(axis=1))
    cols = np.flatnonzero(weights.any(axis=0))
    if rows.size == 0:
        raise InputError(f"territory {name!r} does not overlap the grid.")
    ny, nx = weights.shape
    r = slice(max(0, rows[0] - half), min(ny, rows[-1] + half + 1))
    c = slice(max(0, cols[0] - half), min(nx, cols[-1] + half + 1))
    w = weights[r, c]
    return Receptor(name, r, c, w / w.sum())


def _trajectory(config: RunConfig, reference: xr.Dataset, run_years: list[int]) -> xr.Dataset:
    from trajectoire.trajectory.backcast import rebuild
    from trajectoire.trajectory.trends import read_trends

    if config.inputs.trends is None:
        raise ConfigError("[inputs] trends: a trend table is needed to rebuild the years.")
    indices = read_trends(config.inputs.trends)
    history = (
        pd.read_csv(config.inputs.point_source_history)
        if config.inputs.point_source_history
        else None
    )
    if history is not None and "source_id" in history.columns:
        # register rows of stacks the inventory left out (outside the grid) are not needed
        known = (
            {str(v) for v in reference["source"].values} if "source" in reference.dims else set()
        )
        history = history[history["source_id"].astype(str).isin(known)]
    methods: dict[str | tuple[str, str], str] = {
        s: config.trajectory.method_of(s) for s in map(str, reference["sector"].values)
    }
    import warnings

    from trajectoire.errors import TrajectoireWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrajectoireWarning)
        out = rebuild(
            reference,
            indices,
            run_years,
            methods=methods,
            point_history=history,
            chunks={"sector": 1, "pollutant": 1},
        )
    notes = [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]
    for w in caught:
        if not issubclass(w.category, TrajectoireWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if notes:
        for n in notes:
            log.debug("trajectory: %s", n)
        from trajectoire.errors import warn

        warn(
            f"trajectory: {len(notes)} (sector, pollutant, year) totals could not follow their "
            f"series because registered stacks exceed them (first: {notes[0]}); the register "
            "wins, as documented. All messages are in the debug log (trajectoire run -v)."
        )
    return out


def _meteorology(config: RunConfig, run_years: list[int]) -> xr.Dataset:
    from trajectoire.meteo.hourly import add_stability, met_classes, read_hourly

    if config.inputs.meteo is None:
        raise ConfigError("[inputs] meteo: hourly meteorology is needed for the dispersion.")
    hourly = read_hourly(
        config.inputs.meteo,
        latitude=config.meteo.latitude,
        longitude=config.meteo.longitude,
        roughness_length=config.meteo.roughness_length,
    )
    hourly = add_stability(hourly)
    met = met_classes(hourly, calm_threshold=config.meteo.calm_threshold)
    have = {int(y) for y in met["year"].values}
    missing = sorted(set(run_years) - have)
    if missing:
        raise InputError(
            f"{config.inputs.meteo}: no meteorology for years {missing}; the run asks "
            f"{run_years[0]}..{run_years[-1]}. Add those years or narrow [run] first_year/last_year."
        )
    return met.sel(year=run_years).load()


def _background(
    config: RunConfig, pollutants: Sequence[str], run_years: list[int], reader: Any
) -> xr.DataArray:
    if config.inputs.background is None:
        log.warning("no background given: the regional background is taken as 0")
        return xr.DataArray(
            np.zeros((len(run_years), len(pollutants))),
            dims=("year", "pollutant"),
            coords={"year": run_years, "pollutant": list(pollutants)},
            attrs={"units": "ug m-3"},
        )
    bg = reader(config.inputs.background)
    missing_p = sorted(set(pollutants) - {str(p) for p in bg["pollutant"].values})
    missing_y = sorted(set(run_years) - {int(y) for y in bg["year"].values})
    if missing_p or missing_y:
        raise InputError(
            f"{config.inputs.background}: no background for "
            + (f"pollutants {missing_p} " if missing_p else "")
            + (f"years {missing_y}" if missing_y else "")
            + "; complete the table."
        )
    return bg.sel(year=run_years, pollutant=list(pollutants)).load()


def _census_grids(zones: Any, grid: Grid) -> tuple[list[int], np.ndarray]:
    """Inhabitants per cell at each census year of the zones (``pop_<year>`` columns)."""
    from trajectoire.inventory.build import proxy_grid

    if zones is None:
        return [0], np.ones((1, *grid.shape))
    census = sorted(int(c[4:]) for c in zones.columns if c.startswith("pop_") and c[4:].isdigit())
    if not census:
        raise InputError("zones: no 'pop_<year>' column to weigh the exposure with.")
    grids = np.stack(
        [proxy_grid("population", grid, zones=zones, population_column=f"pop_{c}") for c in census]
    )
    return census, grids


def population(ctx: RunContext, year: int) -> np.ndarray:
    """Inhabitants per cell in `year`, interpolated linearly between census years.

    Held constant before the first and after the last census.
    """
    census = ctx.census_years
    if year <= census[0]:
        return np.asarray(ctx.census[0])
    if year >= census[-1]:
        return np.asarray(ctx.census[-1])
    k = int(np.searchsorted(census, year)) - 1
    t = (year - census[k]) / (census[k + 1] - census[k])
    return (1.0 - t) * ctx.census[k] + t * ctx.census[k + 1]


def emission_of(ctx: RunContext, year: int, pollutant: str) -> np.ndarray:
    """Gridded emission ``(sector, ny, nx)`` [t yr-1, float32] of one pollutant in `year`.

    ``Σ_b basis_weight(year, b, s, p) × basis(b, s, p)``: the trajectory's linear form.
    """
    ip = ctx.dispersed.index(pollutant)
    w = np.asarray(ctx.basis_weight.sel(year=year).values, dtype=np.float32)  # (b, s, p)
    out = np.empty((len(ctx.sectors), *ctx.grid.shape), dtype=np.float32)
    _emission_into(ctx.basis, w, ip, out)
    return out


def _emission_into(basis: np.ndarray, weight: np.ndarray, ip: int, out: np.ndarray) -> None:
    """Write pollutant `ip`'s emission ``(sector, ny, nx)`` into `out` (float32, in place).

    The same float32 operations as :func:`emission_of` (so the same values), without the
    temporary grids: `out` may be a view of the year's output array.
    """
    w = weight[:, :, ip]  # (basis, sector)
    np.multiply(basis[0, ip], w[0][:, None, None], out=out)
    if w.shape[0] > 1:
        term = np.empty(out.shape, dtype=np.float32)
        for b in range(1, w.shape[0]):
            np.multiply(basis[b, ip], w[b][:, None, None], out=term)
            out += term


def _stations(config: RunConfig, grid: Grid) -> pd.DataFrame:
    if config.inputs.stations is None:
        return pd.DataFrame({"station_id": [], "x": [], "y": [], "row": [], "col": []})
    df = pd.read_csv(config.inputs.stations)
    for name in ("station_id", "x", "y"):
        if name not in df.columns:
            raise InputError(f"{config.inputs.stations}: missing column {name!r}.")
    row, col, inside = grid.cell_index(df["x"].to_numpy(), df["y"].to_numpy())
    if not inside.all():
        out = df.loc[~inside, "station_id"].tolist()
        log.warning("%d station(s) outside the grid are left out: %s", len(out), out)
    df = df.loc[inside].copy()
    df["row"] = row[inside]
    df["col"] = col[inside]
    return df.reset_index(drop=True)


def _points(
    trajectory: xr.Dataset,
    reference: xr.Dataset,
    grid: Grid,
    fractions: np.ndarray,
    origins: list[str],
) -> tuple[xr.Dataset | None, xr.DataArray | None]:
    if "source" not in reference.dims or reference.sizes["source"] == 0:
        return None, None
    pts = reference[
        [
            "source_x",
            "source_y",
            "source_sector",
            "stack_height",
            "stack_diameter",
            "exit_temperature",
            "exit_velocity",
        ]
    ].load()
    row, col, inside = grid.cell_index(pts["source_x"].values, pts["source_y"].values)
    pts = pts.isel(source=np.flatnonzero(inside))
    row, col = row[inside], col[inside]
    origin = np.argmax(fractions[:, row, col], axis=0)
    pts = pts.assign(
        origin=("source", np.asarray(origins)[origin]), row=("source", row), col=("source", col)
    )
    pe = trajectory["point_emission"].sel(source=pts["source"]).load()
    return pts, pe


# ------------------------------------------------------------------------------ compute_year
def compute_year(ctx: RunContext, year: int) -> xr.Dataset:
    """Emissions, concentrations and their attribution for one year.

    Parameters
    ----------
    ctx : RunContext
        From :func:`prepare`.
    year : int
        One of ``ctx.years``.

    Returns
    -------
    xarray.Dataset
        Variables with a length-1 ``year`` dim (see ``docs/outputs.md``); the wall time of
        each stage is in ``attrs["timing"]``.
    """
    if year not in ctx.years:
        raise InputError(f"year {year} is not in the run ({ctx.years[0]}..{ctx.years[-1]}).")
    clock = _Clock()
    grid = ctx.grid
    settings = ctx.settings
    sectors = ctx.sectors
    heights = settings.heights(sectors)
    h_index = {h: i for i, h in enumerate(heights)}
    h_of_s = np.array([h_index[settings.height_of(s)] for s in sectors], dtype=np.int64)
    met = ctx.met.sel(year=year)
    disp = YearDispersion(grid, met, settings, heights)
    clock("kernels")
    is_map = year in ctx.map_years
    n_s, n_o, n_t = len(sectors), len(ctx.origins), len(ctx.territories)
    pols = ctx.output_pollutants
    n_st = len(ctx.stations)

    # receptors: territory means, population-weighted means, station cells
    pop = population(ctx, year)
    exp_receptors = []
    for i, rec in enumerate(ctx.territory_receptors):
        w = pop[rec.rows, rec.cols] * ctx.fractions[i][rec.rows, rec.cols]
        total = w.sum()
        exp_receptors.append(Receptor(rec.name, rec.rows, rec.cols, w / total if total > 0 else w))
    adj_both = []  # per territory: (2 weightings: area mean, population, n_height, wy, wx)
    for rec, erec in zip(ctx.territory_receptors, exp_receptors, strict=True):
        both = disp.adjoints(np.stack([rec.weights, erec.weights]), heights)
        adj_both.append(both)
    adj_sta = []
    for r_st, c_st in zip(
        ctx.stations["row"].to_numpy(int), ctx.stations["col"].to_numpy(int), strict=True
    ):
        parts = [disp.point_adjoint(int(r_st), int(c_st), h) for h in heights]
        adj_sta.append((parts[0][0], parts[0][1], np.stack([q[2] for q in parts])))
    clock("adjoints")

    # stacks: one footprint per stack and year, shared by every pollutant
    stacks = _stack_footprints(ctx, met)
    st_sector = (
        []
        if ctx.points is None
        else [sectors.index(str(v)) for v in ctx.points["source_sector"].values]
    )
    st_origin = (
        []
        if ctx.points is None
        else [ctx.origins.index(str(v)) for v in ctx.points["origin"].values]
    )
    # receptor sums of each footprint: <w_r, fp_s>
    fp_terr = np.array(
        [[_window_dot(r, fp) for fp in stacks] for r in ctx.territory_receptors]
    ).reshape(n_t, len(stacks))
    fp_exp = np.array([[_window_dot(r, fp) for fp in stacks] for r in exp_receptors]).reshape(
        n_t, len(stacks)
    )
    fp_sta = np.array(
        [
            [_cell_value(fp, int(r), int(c)) for fp in stacks]
            for r, c in zip(ctx.stations["row"], ctx.stations["col"], strict=True)
        ]
    ).reshape(n_st, len(stacks))
    clock("stacks")

    # Output arrays are filled plane by plane below (np.empty: no NaN pass over 250 MB). The
    # emission planes of the dispersed pollutants hold the full grid until the aggregates and
    # NO2 are done, then the cells beyond the mask are set to NaN and the stacks added.
    n_d = len(ctx.dispersed)
    emis_out = np.empty((1, n_s, len(pols), *grid.shape), dtype=np.float32)
    conc_out = np.empty((1, len(pols), *grid.shape), dtype=np.float32)
    contrib_out = np.empty((1, n_s, len(pols), *grid.shape), dtype=np.float32) if is_map else None
    outside = ~ctx.mask
    # 1 inside the mask, NaN beyond: a multiplication blanks the masked cells in one pass
    keep = np.where(ctx.mask, np.float32(1.0), np.float32(np.nan))
    agg_terr = np.zeros((n_t, n_s, n_o, len(pols)))
    agg_exp = np.zeros_like(agg_terr)
    agg_sta = np.zeros((n_st, n_s, n_o, len(pols)))
    bg = ctx.background.sel(year=year)
    nox_state: dict[str, Any] = {}

    emission = emis_out[0]  # (sector, pollutant, ny, nx), C-contiguous
    weight = np.asarray(ctx.basis_weight.sel(year=year).values, dtype=np.float32)  # (b, s, p)
    for ip in range(n_d):
        _emission_into(ctx.basis, weight, ip, emission[:, ip])
    q_all = np.array([_stack_emission(ctx, year, pol) for pol in ctx.dispersed]).reshape(
        n_d, len(stacks)
    )
    clock("emission")

    scratch: np.ndarray | None = None  # per-sector local concentrations of a map year
    for ip, pol in enumerate(ctx.dispersed):
        e = emission[:, ip]
        q = q_all[ip]
        if is_map:
            if pol == "NOx" or scratch is None:
                local_s = np.empty((n_s, *grid.shape))  # NOx's is kept for NO2
                if pol != "NOx":
                    scratch = local_s
            else:
                local_s = scratch
            for i, sec in enumerate(sectors):
                if e[i].any():
                    local_s[i] = disp.convolve(e[i], settings.height_of(sec))
                else:
                    local_s[i] = 0.0
            for k, (rs, cs, fp) in enumerate(stacks):
                if q[k] > 0:
                    local_s[st_sector[k], rs, cs] += q[k] * fp
            local = local_s.sum(axis=0)
        else:
            local_s = None
            local = _local_concentration(disp, e, q, stacks, sectors, settings)
        clock("dispersion")
        conc_ip = conc_out[0, ip]
        np.add(local, float(bg.sel(pollutant=pol)), out=conc_ip, casting="same_kind")
        conc_ip[outside] = np.nan
        if contrib_out is not None and local_s is not None:
            contrib_ip = contrib_out[0, :, ip]
            np.multiply(local_s, keep, out=contrib_ip, casting="same_kind")
        if pol == "NOx":
            # a contiguous copy: NO2's window sums read it 2-3x faster than the strided view
            nox_state = {"local": local, "local_s": local_s, "e": np.ascontiguousarray(e), "q": q}
        clock("output")

    # receptor aggregates: each window once for every dispersed pollutant
    every = np.arange(n_d)
    for ir, rec in enumerate(ctx.territory_receptors):
        both = _aggregate(adj_both[ir], emission, h_of_s, ctx, rec.rows, rec.cols, n_o, every)
        agg_terr[ir, :, :, :n_d] = both[0]
        agg_exp[ir, :, :, :n_d] = both[1]
    for ist, (rs, cs, a) in enumerate(adj_sta):
        agg_sta[ist, :, :, :n_d] = _aggregate(a, emission, h_of_s, ctx, rs, cs, n_o, every)
    for k in range(len(stacks)):
        qk = q_all[:, k]
        if (qk > 0).any():
            qk = np.where(qk > 0, qk, 0.0)
            agg_terr[:, st_sector[k], st_origin[k], :n_d] += fp_terr[:, k, None] * qk
            agg_exp[:, st_sector[k], st_origin[k], :n_d] += fp_exp[:, k, None] * qk
            agg_sta[:, st_sector[k], st_origin[k], :n_d] += fp_sta[:, k, None] * qk
    clock("aggregates")

    if "NO2" in pols:
        _no2(
            ctx,
            disp,
            nox_state,
            bg,
            conc_out,
            contrib_out,
            agg_terr,
            agg_exp,
            agg_sta,
            h_of_s,
            exp_receptors,
            stacks,
            st_sector,
            st_origin,
        )
        clock("no2")
    # written emissions: NaN beyond the mask (and for NO2, which is not emitted), plus stacks
    emission[:, :n_d] *= keep
    emission[:, n_d:] = np.nan
    if ctx.points is not None:
        written = ctx.mask[ctx.points["row"].values, ctx.points["col"].values]
        where = (
            np.asarray(st_sector, dtype=int)[written],
            ctx.points["row"].values[written],
            ctx.points["col"].values[written],
        )
        for ip in range(n_d):
            np.add.at(emission[:, ip], where, q_all[ip][written].astype(np.float32))
    clock("output")
    ds = _year_dataset(
        ctx, year, emis_out, conc_out, contrib_out, agg_terr, agg_exp, agg_sta, bg, pop
    )
    clock("assemble")
    ds.attrs["timing"] = clock.summary()
    log.debug("year %d: %s", year, ds.attrs["timing"])
    return ds


class _Clock:
    """Accumulates the wall time of named stages."""

    def __init__(self) -> None:
        import time

        self._time = time.perf_counter
        self._last = self._time()
        self.stages: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = self._time()
        self.stages[name] = self.stages.get(name, 0.0) + now - self._last
        self._last = now

    def summary(self) -> str:
        return ", ".join(f"{k} {v:.2f} s" for k, v in self.stages.items())


def _local_concentration(
    disp: YearDispersion,
    emission: np.ndarray,
    stack_emission: np.ndarray,
    stacks: list[tuple[slice, slice, np.ndarray]],
    sectors: Sequence[str],
    settings: DispersionSettings,
) -> np.ndarray:
    """Local concentration [ug m-3] of gridded emissions and stacks, float64.

    Sectors are grouped by release height before the forward transforms (one per height
    class, one inverse in all): linearity makes this equal to one convolution per sector.
    """
    spectra = {}
    for h in settings.heights(sectors):
        sel = [i for i, sec in enumerate(sectors) if settings.height_of(sec) == h]
        field = np.add.reduce([emission[i] for i in sel], dtype=np.float64)
        if field.any():
            spectra[h] = disp.spectrum(field)
    if spectra:
        local = np.asarray(disp.apply(spectra), dtype=np.float64)
    else:
        local = np.zeros(disp.grid.shape)
    for k, (rs, cs, fp) in enumerate(stacks):
        if stack_emission[k] > 0:
            local[rs, cs] += stack_emission[k] * fp
    return local


def _window_dot(rec: Receptor, fp: tuple[slice, slice, np.ndarray]) -> float:
    """``Σ w_r(c) fp(c)`` over the overlap of a receptor window and a footprint window."""
    rs, cs, f = fp
    r0, r1 = max(rec.rows.start, rs.start), min(rec.rows.stop, rs.stop)
    c0, c1 = max(rec.cols.start, cs.start), min(rec.cols.stop, cs.stop)
    if r0 >= r1 or c0 >= c1:
        return 0.0
    w = rec.weights[
        r0 - rec.rows.start : r1 - rec.rows.start, c0 - rec.cols.start : c1 - rec.cols.start
    ]
    v = f[r0 - rs.start : r1 - rs.start, c0 - cs.start : c1 - cs.start]
    return float((w * v).sum())


def _cell_value(fp: tuple[slice, slice, np.ndarray], row: int, col: int) -> float:
    rs, cs, f = fp
    if rs.start <= row < rs.stop and cs.start <= col < cs.stop:
        return float(f[row - rs.start, col - cs.start])
    return 0.0


def _aggregate(
    adj: np.ndarray,
    e: np.ndarray,
    h_of_s: np.ndarray,
    ctx: RunContext,
    rows: slice,
    cols: slice,
    n_o: int,
    pollutants: np.ndarray | None = None,
) -> np.ndarray:
    """Receptor sums of a window by sector and origin (:func:`aggregate_by_origin_stack`).

    `e` is the grid's emission of one pollutant ``(sector, ny, nx)`` (result ``(..., sector,
    origin)``) or a stack ``(sector, pollutant, ny, nx)`` of which the planes `pollutants` are
    summed (result ``(..., sector, origin, pollutant)``).
    """
    single = e.ndim == 3
    out = aggregate_by_origin_stack(
        adj,
        e[:, None] if single else e,
        h_of_s,
        ctx.origin_index,
        ctx.origin_fraction,
        n_o,
        rows=rows,
        cols=cols,
        pollutants=None if single else pollutants,
    )
    return out[..., 0] if single else out


def _stack_emission(ctx: RunContext, year: int, pol: str) -> np.ndarray:
    """Emission of each stack in `year` [t yr-1] (0 for stacks out of service)."""
    if ctx.points is None or ctx.point_emission is None:
        return np.zeros(0)
    q = np.asarray(ctx.point_emission.sel(year=year, pollutant=pol).values, dtype=float)
    return np.nan_to_num(q, nan=0.0)


def _stack_footprints(ctx: RunContext, met: xr.Dataset) -> list[tuple[slice, slice, np.ndarray]]:
    if ctx.points is None:
        return []
    from trajectoire.dispersion.concentration import stack_footprints

    pts = ctx.points
    return stack_footprints(
        met,
        x=pts["source_x"].values,
        y=pts["source_y"].values,
        stack_height=pts["stack_height"].values,
        stack_diameter=pts["stack_diameter"].values,
        exit_temperature=pts["exit_temperature"].values,
        exit_velocity=pts["exit_velocity"].values,
        grid=ctx.grid,
        radius=ctx.settings.radius,
        receptor_height=ctx.settings.receptor_height,
        sigma=ctx.settings.sigma,
    )


def _no2(  # type: ignore[no-untyped-def]
    ctx,
    disp,
    nox,
    bg,
    conc_out,
    contrib_out,
    agg_terr,
    agg_exp,
    agg_sta,
    h_of_s,
    exp_receptors,
    stacks,
    st_sector,
    st_origin,
) -> None:
    """NO2 from NOx, attributed by the incremental rule (see trajectoire.chemistry)."""
    local, local_s, e, q = nox["local"], nox["local_s"], nox["e"], nox["q"]
    pols = ctx.output_pollutants
    ino2 = pols.index("NO2")
    inox = pols.index("NOx")
    bg_nox = float(bg.sel(pollutant="NOx"))
    bg_no2 = float(bg.sel(pollutant="NO2"))
    total, _ = no2_attribution(bg_nox, bg_no2, local[None], axis=0)
    conc_out[0, ino2] = np.where(ctx.mask, total, np.nan)
    # local NO2 increment per unit of local NOx, cell by cell
    ratio = np.divide(total - bg_no2, local, out=np.zeros_like(local), where=local > 0)
    if contrib_out is not None and local_s is not None:
        contrib_out[0, :, ino2] = np.where(ctx.mask, local_s * ratio, np.nan)
    heights = list(disp.kernels)
    n_o = len(ctx.origins)
    for ir, rec in enumerate(ctx.territory_receptors):
        rw = ratio[rec.rows, rec.cols]
        pair = [
            Receptor(rec.name, rec.rows, rec.cols, rec.weights * rw),
            Receptor(rec.name, rec.rows, rec.cols, exp_receptors[ir].weights * rw),
        ]
        both = disp.adjoints(np.stack([r.weights for r in pair]), heights)
        sums = _aggregate(both, e, h_of_s, ctx, rec.rows, rec.cols, n_o)
        for wr, part, agg in zip(pair, sums, (agg_terr, agg_exp), strict=True):
            agg[ir, :, :, ino2] = part
            for k, fp in enumerate(stacks):
                if q[k] > 0:
                    agg[ir, st_sector[k], st_origin[k], ino2] += q[k] * _window_dot(wr, fp)
    for ist, (r_st, c_st) in enumerate(zip(ctx.stations["row"], ctx.stations["col"], strict=True)):
        agg_sta[ist, :, :, ino2] = agg_sta[ist, :, :, inox] * ratio[int(r_st), int(c_st)]


def _year_dataset(  # type: ignore[no-untyped-def]
    ctx, year, emis, conc, contrib, agg_terr, agg_exp, agg_sta, bg, pop
) -> xr.Dataset:
    grid = ctx.grid
    gc = grid.coords()
    pols = ctx.output_pollutants
    coords_g = {"year": [year], "sector": ctx.sectors, **gc}
    ds = xr.Dataset(attrs={"crs": grid.crs.to_string()})
    ds["emission"] = set_cf_attrs(
        xr.DataArray(
            emis,
            dims=("year", "sector", "pollutant", "y", "x"),
            coords={**coords_g, "pollutant": pols},
        ),
        "emission",
    )
    ds["concentration"] = set_cf_attrs(
        xr.DataArray(
            conc,
            dims=("year", "pollutant", "y", "x"),
            coords={"year": [year], "pollutant": pols, **gc},
        ),
        "concentration",
    )
    if contrib is not None:
        ds["contribution"] = set_cf_attrs(
            xr.DataArray(
                contrib,
                dims=("year", "sector", "pollutant", "y", "x"),
                coords={**coords_g, "pollutant": pols},
            ),
            "contribution",
        )
    bgv = np.array([[float(bg.sel(pollutant=p)) for p in pols]])
    ds["background"] = set_cf_attrs(
        xr.DataArray(bgv, dims=("year", "pollutant"), coords={"year": [year], "pollutant": pols}),
        "background",
    )
    # receptor aggregates
    ac = {
        "year": [year],
        "receptor": ctx.territories,
        "sector": ctx.sectors,
        "origin": ctx.origins,
        "pollutant": pols,
    }
    terr_c = xr.DataArray(
        agg_terr[None], dims=("year", "receptor", "sector", "origin", "pollutant"), coords=ac
    )
    exp_c = xr.DataArray(
        agg_exp[None], dims=("year", "receptor", "sector", "origin", "pollutant"), coords=ac
    )
    ds["territory_contribution"] = terr_c.assign_attrs(
        units="ug m-3",
        long_name="territory mean concentration due to each sector and territory of origin",
    )
    ds["exposure_contribution"] = exp_c.assign_attrs(
        units="ug m-3",
        long_name="population-weighted mean concentration due to each sector and territory of origin",
    )
    bg_da = xr.DataArray(bgv[0], dims="pollutant", coords={"pollutant": pols})
    ds["territory_concentration"] = (terr_c.sum(("sector", "origin")) + bg_da).assign_attrs(
        units="ug m-3",
        long_name="area-weighted mean concentration over each territory, background included",
    )
    exposure = (exp_c.sum(("sector", "origin")) + bg_da).rename({"receptor": "territory"})
    ds["exposure"] = set_cf_attrs(exposure, "exposure")
    if len(ctx.stations):
        sc = {
            "year": [year],
            "station": ctx.stations["station_id"].astype(str).tolist(),
            "sector": ctx.sectors,
            "origin": ctx.origins,
            "pollutant": pols,
        }
        st_c = xr.DataArray(
            agg_sta[None], dims=("year", "station", "sector", "origin", "pollutant"), coords=sc
        )
        ds["station_contribution"] = st_c.assign_attrs(
            units="ug m-3",
            long_name="concentration at the station's cell due to each sector and territory of origin",
        )
        ds["station_concentration"] = (st_c.sum(("sector", "origin")) + bg_da).assign_attrs(
            units="ug m-3",
            long_name="modelled concentration at the station's cell, background included",
        )
    ds["population_total"] = xr.DataArray(
        [[float((pop * ctx.fractions[i]).sum()) for i in range(len(ctx.territories))]],
        dims=("year", "territory"),
        coords={"year": [year], "territory": ctx.territories},
        attrs={"units": "1", "long_name": "inhabitants of each territory"},
    )
    ds["calm_fraction"] = (
        xr.DataArray(
            [float(ctx.met["calm_fraction"].sel(year=year))],
            dims="year",
            coords={"year": [year]},
            attrs={"units": "1", "long_name": "fraction of calm hours"},
        )
        if "calm_fraction" in ctx.met
        else xr.DataArray([np.nan], dims="year", coords={"year": [year]})
    )
    return ds


def static_variables(ctx: RunContext) -> xr.Dataset:
    """Year-independent output variables: territory fractions, buffer mask, stations."""
    gc = ctx.grid.coords()
    ds = xr.Dataset(attrs={"crs": ctx.grid.crs.to_string()})
    ds["territory_fraction"] = xr.DataArray(
        ctx.fractions[:-1].astype(np.float32),
        dims=("territory", "y", "x"),
        coords={"territory": ctx.territories, **gc},
        attrs={"units": "1", "long_name": "share of each cell inside each territory"},
    )
    ds["mask"] = xr.DataArray(
        ctx.mask.astype(np.int8),
        dims=("y", "x"),
        coords=gc,
        attrs={
            "long_name": "cells written (within the buffer of a territory)",
            "flag_values": np.array([0, 1], dtype=np.int8),
            "flag_meanings": "masked written",
        },
    )
    if len(ctx.stations):
        st = ctx.stations
        ds["station_x"] = xr.DataArray(
            st["x"].to_numpy(float),
            dims="station",
            coords={"station": st["station_id"].astype(str).tolist()},
            attrs={"units": "m"},
        )
        ds["station_y"] = xr.DataArray(
            st["y"].to_numpy(float),
            dims="station",
            coords={"station": st["station_id"].astype(str).tolist()},
            attrs={"units": "m"},
        )
    return ds


def global_attributes(ctx: RunContext) -> dict[str, Any]:
    """Global attributes describing the methods of the run."""
    cfg = ctx.config
    methods = {s: cfg.trajectory.method_of(s) for s in ctx.sectors}
    return {
        "reference_year": cfg.run.reference_year,
        "trajectory_methods": "; ".join(f"{s}: {m}" for s, m in methods.items()),
        "dispersion": f"climatological Gaussian plume kernel, radius {ctx.settings.radius:g} m, sigma {ctx.settings.sigma}, receptor height {ctx.settings.receptor_height:g} m",
        "release_heights": "; ".join(f"{s}: {ctx.settings.height_of(s):g} m" for s in ctx.sectors),
        "no2_conversion": "Romberg et al. (1996) annual-mean curve, incremental attribution rule",
        "map_years": " ".join(str(y) for y in sorted(ctx.map_years)),
    }


# ------------------------------------------------------------------------- change split
def decompose_change(ctx: RunContext, year0: int, year1: int) -> xr.Dataset:
    """Split the change of territory means between two years into its causes.

    For every receptor territory (area mean) and pollutant, the change
    ``C(year1) − C(year0)`` is split exactly into the effect of **emissions**, of
    **meteorology** and of the **background** with Shapley values
    (:func:`trajectoire.attribution.decompose_change`). For the linear pollutants the
    emission and meteorology effects are also given per sector (they add up over sectors);
    NO2 is split on its total only (its conversion is not linear).

    Parameters
    ----------
    ctx : RunContext
        From :func:`prepare`.
    year0, year1 : int
        Initial and final years of the run.

    Returns
    -------
    xarray.Dataset
        ``change_emission(receptor, sector, pollutant)``,
        ``change_meteorology(receptor, sector, pollutant)``,
        ``change_background(receptor, pollutant)``, ``change_total(receptor, pollutant)``
        [ug m-3]; the three effects add up to ``change_total`` to round-off. For NO2 the
        sector entries are missing and the effects are in ``sector="all"``.
    """
    from trajectoire.attribution import decompose_change as shapley_change

    for y in (year0, year1):
        if y not in ctx.years:
            raise InputError(
                f"decompose_change: year {y} is not in the run ({ctx.years[0]}..{ctx.years[-1]})."
            )
    settings = ctx.settings
    sectors = ctx.sectors
    heights = settings.heights(sectors)
    h_of_s = np.array([heights.index(settings.height_of(s)) for s in sectors], dtype=np.int64)
    disp = {
        m: YearDispersion(ctx.grid, ctx.met.sel(year=m), settings, heights) for m in (year0, year1)
    }
    stacks = {m: _stack_footprints(ctx, ctx.met.sel(year=m)) for m in (year0, year1)}
    st_sector = (
        []
        if ctx.points is None
        else [sectors.index(str(v)) for v in ctx.points["source_sector"].values]
    )
    n_t, n_s, n_o = len(ctx.territories), len(sectors), len(ctx.origins)
    adj = {
        m: [disp[m].adjoints(r.weights, heights) for r in ctx.territory_receptors]
        for m in (year0, year1)
    }
    fpdot = {
        m: np.array(
            [[_window_dot(r, fp) for fp in stacks[m]] for r in ctx.territory_receptors]
        ).reshape(n_t, -1)
        for m in (year0, year1)
    }
    pols = ctx.output_pollutants
    label = [*sectors, "all"]
    e_eff = np.full((n_t, n_s + 1, len(pols)), np.nan)
    m_eff = np.full_like(e_eff, np.nan)
    b_eff = np.zeros((n_t, len(pols)))
    total = np.zeros((n_t, len(pols)))
    ys = (year0, year1)
    for ip, pol in enumerate(ctx.dispersed):
        emis = {e: emission_of(ctx, e, pol) for e in ys}
        q = {e: _stack_emission(ctx, e, pol) for e in ys}
        parts: dict[tuple[int, int], np.ndarray] = {}
        for e in ys:
            for m in ys:
                v = np.zeros((n_t, n_s))
                for ir, rec in enumerate(ctx.territory_receptors):
                    v[ir] = _aggregate(
                        adj[m][ir], emis[e], h_of_s, ctx, rec.rows, rec.cols, n_o
                    ).sum(axis=1)
                for k in range(len(q[e])):
                    if q[e][k] > 0:
                        v[:, st_sector[k]] += q[e][k] * fpdot[m][:, k]
                parts[(e, m)] = v
        bgv = {b: float(ctx.background.sel(year=b, pollutant=pol)) for b in ys}

        def value(
            ie: int,
            im: int,
            ib: int,
            parts: dict[tuple[int, int], np.ndarray] = parts,
            bgv: dict[int, float] = bgv,
        ) -> np.ndarray:
            v = parts[(ys[ie], ys[im])]
            return np.concatenate([v, np.full((n_t, 1), bgv[ys[ib]])], axis=1)

        out = shapley_change(value)
        e_eff[:, :n_s, ip] = out["emission"][:, :n_s]
        m_eff[:, :n_s, ip] = out["meteorology"][:, :n_s]
        e_eff[:, n_s, ip] = out["emission"][:, :n_s].sum(axis=1)
        m_eff[:, n_s, ip] = out["meteorology"][:, :n_s].sum(axis=1)
        b_eff[:, ip] = out["background"][:, n_s]
        total[:, ip] = out["total"].sum(axis=1)
    if "NO2" in pols:
        ino2 = pols.index("NO2")
        local = {}
        for e in ys:
            nox_e = emission_of(ctx, e, "NOx")
            q_e = _stack_emission(ctx, e, "NOx")
            for m in ys:
                local[(e, m)] = _local_concentration(
                    disp[m], nox_e, q_e, stacks[m], sectors, settings
                )

        def no2_value(ie: int, im: int, ib: int) -> np.ndarray:
            b = ys[ib]
            nox_bg = float(ctx.background.sel(year=b, pollutant="NOx"))
            no2_bg = float(ctx.background.sel(year=b, pollutant="NO2"))
            tot, _ = no2_attribution(nox_bg, no2_bg, local[(ys[ie], ys[im])][None], axis=0)
            return np.array(
                [float((r.weights * tot[r.rows, r.cols]).sum()) for r in ctx.territory_receptors]
            )

        out = shapley_change(no2_value)
        e_eff[:, n_s, ino2] = out["emission"]
        m_eff[:, n_s, ino2] = out["meteorology"]
        b_eff[:, ino2] = out["background"]
        total[:, ino2] = out["total"]
    coords = {"receptor": ctx.territories, "sector": label, "pollutant": pols}
    attrs = {"units": "ug m-3", "period": f"{year0}-{year1}"}
    ds = xr.Dataset(
        {
            "change_emission": xr.DataArray(
                e_eff,
                dims=("receptor", "sector", "pollutant"),
                coords=coords,
                attrs={
                    **attrs,
                    "long_name": "change of the territory mean due to emissions (Shapley)",
                },
            ),
            "change_meteorology": xr.DataArray(
                m_eff,
                dims=("receptor", "sector", "pollutant"),
                coords=coords,
                attrs={
                    **attrs,
                    "long_name": "change of the territory mean due to meteorology (Shapley)",
                },
            ),
            "change_background": xr.DataArray(
                b_eff,
                dims=("receptor", "pollutant"),
                coords={"receptor": ctx.territories, "pollutant": pols},
                attrs={
                    **attrs,
                    "long_name": "change of the territory mean due to the background (Shapley)",
                },
            ),
            "change_total": xr.DataArray(
                total,
                dims=("receptor", "pollutant"),
                coords={"receptor": ctx.territories, "pollutant": pols},
                attrs={**attrs, "long_name": "change of the territory mean concentration"},
            ),
        }
    )
    ds.attrs["method"] = (
        "Shapley decomposition over (emissions, meteorology, background); see docs/attribution.md"
    )
    return ds
