"""Roadside values of a finished run: roads as line sources at stations or streets.

The run's maps resolve roads only at the grid scale. :func:`roadside_values_of_run` reads what
a run's configuration and output hold (roads and their emission factors, the meteorology, the
stations or a table of points, the cell values and the year's road emission, the NO2 settings)
and hands them to :func:`trajectoire.dispersion.roads.roadside_values`, which adds the
line-source (RLINE-like) increment and, where a point carries canyon columns, the OSPM-like
street-canyon increment (``docs/roads.md``). The command ``trajectoire streets`` is this
function.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._compile_notice import compile_notice
from trajectoire._validate import require_columns, year_ranges
from trajectoire.batch.pipeline import _meteorology
from trajectoire.dispersion.chemistry import fno2_shares
from trajectoire.dispersion.roads import check_canyon_columns, roadside_values
from trajectoire.errors import ConfigError, InputError
from trajectoire.geo.grid import Grid
from trajectoire.inventory.proxies import grid_roads
from trajectoire.io.config import RunConfig
from trajectoire.io.formats import read_input
from trajectoire.io.netcdf import open_output
from trajectoire.species import get_pollutant
from trajectoire.tables import numeric_column, read_table

__all__ = ["roadside_values_of_run"]

log = logging.getLogger("trajectoire")
ROAD = "F_RoadTransport"


def roadside_values_of_run(
    config: RunConfig,
    run: str | Path | xr.Dataset,
    *,
    points: pd.DataFrame | str | Path | None = None,
    years: Sequence[int] | None = None,
    radius: float = 1000.0,
    kerb_distance: float | None = None,
) -> pd.DataFrame:
    """Roadside annual means at stations or streets from a run's configuration and output.

    Parameters
    ----------
    config : RunConfig
        The run's configuration: ``[inputs] roads``, ``road_emission_factors`` and ``meteo``
        are needed; ``[inputs] stations`` gives the points when `points` is not given.
    run : path or xarray.Dataset
        The run's output (``concentration``, ``emission`` by sector).
    points : pandas.DataFrame or path, optional
        A table (or a CSV file of any dialect, :func:`trajectoire.tables.read_table`) with
        ``id`` (or ``station_id``), ``x``, ``y`` [m, grid CRS] and the optional canyon columns
        of :func:`trajectoire.dispersion.roads.roadside_values`. Points outside the run's grid
        are left out with a warning naming them.
    years : sequence of int, optional
        Years to compute (default: every year of the output).
    radius : float, default 1000.0
        Window of the roads taken as lines around each point [m].
    kerb_distance : float, optional
        Evaluate the lines this far from the nearest road [m] (default: at the point).

    Returns
    -------
    pandas.DataFrame
        One row per year, point and pollutant (columns of
        :func:`~trajectoire.dispersion.roads.roadside_values`), ``grid_value`` and
        ``roadside`` [ug m-3].

    Raises
    ------
    trajectoire.ConfigError
        A needed input is not configured.
    """
    inputs = config.inputs
    specs = {key: getattr(inputs, key) for key in ("roads", "road_emission_factors", "meteo")}
    for key, spec in specs.items():
        if spec is None:
            raise ConfigError(f"[inputs] {key} is needed for roadside values; set it.")
    # read lazily: only the slices used are read (the whole 200 m sample output is 14 GB
    # once decompressed, and `load()` of it was killed for memory)
    if isinstance(run, xr.Dataset):
        return _roadside_table(config, run, points, years, radius, kerb_distance)
    with open_output(run, chunks=None) as ds:
        return _roadside_table(config, ds, points, years, radius, kerb_distance)


def _roadside_table(
    config: RunConfig,
    ds: xr.Dataset,
    points: pd.DataFrame | str | Path | None,
    years: Sequence[int] | None,
    radius: float,
    kerb_distance: float | None,
) -> pd.DataFrame:
    """The body of :func:`roadside_values_of_run` on an open output `ds`."""
    inputs = config.inputs
    specs = {key: getattr(inputs, key) for key in ("roads", "road_emission_factors", "meteo")}
    grid = Grid.from_xarray(ds)
    _check_roads_in(ds)
    years = _years_of(ds, years)
    factors = read_input("road_emission_factors", specs["road_emission_factors"])
    roads = read_input("roads", specs["roads"], emission_factors=factors).to_crs(grid.crs)
    pts = _points_on_grid(config, grid, points)
    pts = _points_written(ds, grid, pts)
    freq, hourly = _meteorology(config, years, grid)  # read and classed as the run does, once
    pols = [str(p) for p in ds["pollutant"].values]
    # the species dispersed from roads (not NO2, derived; not what deposits at its source)
    dispersed = [
        p for p in pols
        if p != "NO2" and p in roads.columns and not get_pollutant(p).deposited_at_source
    ]  # fmt: skip
    asked = dispersed + (["NO2"] if "NO2" in pols else [])
    scale = _emission_scale(ds, roads, grid, years, dispersed)
    cells = _cell_values(ds, pts, years, asked)
    d = config.dispersion
    tables = []
    with compile_notice():  # the first use after an install compiles the line kernels
        for year in years:
            fno2, curve = 0.0, config.no2.method
            if config.no2.method == "fno2":
                fno2 = float(fno2_shares([ROAD], year, config.no2.fno2)[0])
                curve = config.no2.curve
            tables.append(
                roadside_values(
                    roads,
                    freq,
                    grid,
                    pts,
                    pollutants=asked,
                    years=[year],
                    grid_values=cells,
                    emission_scale=scale,
                    hourly_met=hourly,
                    radius=radius,
                    kerb_distance=kerb_distance,
                    release_height=d.release_height.get(ROAD, 1.0),
                    grid_initial_sigma_z=d.initial_sigma_z.get(ROAD, 0.0),
                    receptor_height=d.receptor_height,
                    sigma=d.sigma,
                    fno2=fno2,
                    no2_method=curve,
                    roughness_length=config.meteo.roughness_length,
                )
            )
    return pd.concat(tables, ignore_index=True)


def _check_roads_in(ds: xr.Dataset) -> None:
    """Raise when the output has no road emissions to scale (the output of another
    configuration may have none)."""
    sectors = [str(s) for s in ds["sector"].values] if "sector" in ds.coords else []
    if ROAD not in sectors:
        raise InputError(
            f"{ds.encoding.get('source', 'the run output')}: no {ROAD} emissions (its sectors: "
            f"{sectors}); give the output of a run of this configuration, which has [inputs] "
            "roads (trajectoire streets CONFIG --run OUT.nc)."
        )


def _years_of(ds: xr.Dataset, years: Sequence[int] | None) -> list[int]:
    """The years asked (default: the output's), each one the output holds."""
    have = [int(y) for y in ds["year"].values]
    what = ds.encoding.get("source", "the run's output")
    if years is None:
        return have
    missing = sorted({int(y) for y in years} - set(have))
    if missing:
        raise InputError(
            f"--years: {year_ranges(missing)} not in {what}, which holds "
            f"{year_ranges(have)}; choose years of the run."
        )
    return [int(y) for y in years]


def _points_on_grid(
    config: RunConfig, grid: Grid, points: pd.DataFrame | str | Path | None
) -> pd.DataFrame:
    """The points (default: the configured stations, in the grid CRS) that lie on the grid."""
    what = "points"
    if points is None:
        if config.inputs.stations is None:
            raise ConfigError("no [inputs] stations: give the points (trajectoire streets "
                              "--points P.csv with id, x, y).")  # fmt: skip
        table = read_input("stations", config.inputs.stations, to_crs=grid.crs)
    elif isinstance(points, pd.DataFrame):
        table = points
    else:
        what = f"{points} (trajectoire streets --points)"
        table = read_table(points, what=what, require_rows=True)
    key = "id" if "id" in table.columns else "station_id"
    require_columns(table.columns, [key, "x", "y"], f"{what}: id (or station_id), x, y [m]")
    if not len(table):
        raise InputError(f"{what}: no points; expected one row a point (id, x, y [m]).")
    ids = table[key].astype(str)
    in_file = isinstance(points, str | Path)
    for c in ("x", "y"):  # an empty or text cell: named, not "outside the grid"
        table[c] = numeric_column(table, c, what=what, units="m", ids=list(ids), lines=in_file)
    check_canyon_columns(table, what, list(ids), in_file)
    repeated = sorted(set(ids[ids.duplicated()]))
    if repeated:
        raise InputError(
            f"{what}, column {key!r}: id(s) {repeated} given more than once; every point "
            "needs its own id (the rows of the table are named by it)."
        )
    x, y = table["x"].to_numpy(float), table["y"].to_numpy(float)
    _, _, inside = grid.cell_index(x, y)
    if len(table) and not inside.any():
        x0, y0, x1, y1 = grid.bounds
        degrees = bool(np.all((np.abs(x) <= 180) & (np.abs(y) <= 90)))
        raise InputError(
            f"{what}: none of the {len(table)} point(s) lies on the run's grid (x {x0:.0f} to "
            f"{x1:.0f}, y {y0:.0f} to {y1:.0f} in {grid.crs.to_string()}); first point x = "
            f"{x[0]:.10g}, y = {y[0]:.10g}. "
            + ("They look like degrees (longitude, latitude): give" if degrees else "Give")
            + f" x, y in metres of {grid.crs.to_string()}."
        )
    if not inside.all():
        out = table.loc[~inside, key].astype(str).tolist()
        log.warning("%d point(s) outside the run's grid are left out: %s", len(out), out)
    return table.loc[inside].reset_index(drop=True)


def _points_written(ds: xr.Dataset, grid: Grid, points: pd.DataFrame) -> pd.DataFrame:
    """The points whose cell the run wrote (not masked beyond the territories' buffer)."""
    key = "id" if "id" in points.columns else "station_id"
    row, col, _ = grid.cell_index(points["x"].to_numpy(float), points["y"].to_numpy(float))
    first = ds["concentration"].isel(year=0, pollutant=0).values
    written = np.isfinite(first[row, col]) if len(points) else np.zeros(0, dtype=bool)
    if len(points) and not written.any():
        raise InputError(
            f"none of the {len(points)} point(s) lies in a cell the run wrote (the run masks "
            "the cells beyond the buffer of its territories, [grid] buffer): "
            f"{points[key].astype(str).tolist()[:10]}; choose points in or near the territories."
        )
    if not written.all():
        out = points.loc[~written, key].astype(str).tolist()
        log.warning("%d point(s) in cells the run did not write (beyond the buffer of its "
                    "territories) are left out: %s", len(out), out)  # fmt: skip
    return points.loc[written].reset_index(drop=True)


def _emission_scale(
    ds: xr.Dataset, roads: pd.DataFrame, grid: Grid, years: list[int], pols: list[str]
) -> pd.DataFrame:
    """The year's road emission over the reference links' total, per pollutant."""
    reference = grid_roads(roads, grid).sum(("y", "x"))
    rows = []
    for year in years:
        for p in pols:
            em = float(ds["emission"].sel(year=year, sector=ROAD, pollutant=p).sum())
            ref = float(reference.sel(pollutant=p))
            rows.append({"year": year, "pollutant": p, "factor": em / ref if ref > 0 else 1.0})
    return pd.DataFrame(rows)


def _cell_values(
    ds: xr.Dataset, points: pd.DataFrame, years: list[int], pols: list[str]
) -> pd.DataFrame:
    """The run's annual mean in each point's cell [ug m-3]."""
    key = "id" if "id" in points.columns else "station_id"
    grid = Grid.from_xarray(ds)
    row, col, _ = grid.cell_index(points["x"].to_numpy(float), points["y"].to_numpy(float))
    rows = []
    for year in years:
        for p in pols:
            conc = ds["concentration"].sel(year=year, pollutant=p).values
            rows += [{"year": year, "id": str(pid), "pollutant": p, "value": float(conc[r, c])}
                     for pid, r, c in zip(points[key], row, col, strict=True)]  # fmt: skip
    return pd.DataFrame(rows, columns=["year", "id", "pollutant", "value"]).astype(
        {"value": np.float64}
    )
