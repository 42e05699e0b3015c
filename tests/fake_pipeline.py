"""A small deterministic stand-in for ``trajectoire.pipeline`` (runner, io and CLI tests).

It follows the :class:`trajectoire.runner.Pipeline` protocol with synthetic data on a small
Lambert-93 grid: emission(year, sector, pollutant, y, x) decreasing with the year,
concentration = background + sum of contributions, contribution only for the map years.
Set the environment variable ``FAKE_PIPELINE_SLEEP`` (seconds) to slow each year down, so
that a test can kill a run in the middle.

Importable by a subprocess or a Dask worker once ``tests/`` is on ``sys.path``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from trajectoire.config import RunConfig
from trajectoire.grid import Grid

SECTORS = ["C_OtherStationaryComb", "F_RoadTransport", "B_Industry"]
NY, NX = 30, 40


@dataclass
class Context:
    grid: Grid
    years: list[int]
    pollutants: list[str]
    map_years: list[int]
    methods: dict[str, str]


def prepare(config: RunConfig) -> Context:
    grid = Grid.from_bounds(690_000, 7_050_000, 690_000 + NX * 100, 7_050_000 + NY * 100, 100)
    return Context(
        grid=grid,
        years=config.years,
        pollutants=list(config.run.pollutants),
        map_years=list(config.attribution.map_years),
        methods={s: config.trajectory.method_of(s) for s in SECTORS},
    )


def years(ctx: Context) -> list[int]:
    return list(ctx.years)


def _field(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).gamma(2.0, 1.0, size=shape)


def compute_year(ctx: Context, year: int) -> xr.Dataset:
    delay = float(os.environ.get("FAKE_PIPELINE_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    g = ctx.grid
    ns, npol = len(SECTORS), len(ctx.pollutants)
    factor = 1.0 + 0.02 * (2023 - year)
    emission = _field(year, (ns, npol, *g.shape)) * factor
    contrib = 0.1 * emission
    background = np.linspace(5.0, 8.0, npol) * factor
    conc = contrib.sum(axis=0) + background[:, None, None]
    coords: dict[str, Any] = {
        "year": [year],
        "sector": SECTORS,
        "pollutant": ctx.pollutants,
        **g.coords(),
    }
    ds = xr.Dataset(coords=coords)
    ds["emission"] = (
        ("year", "sector", "pollutant", "y", "x"),
        emission[None],
        {"units": "t yr-1", "long_name": "emission per grid cell"},
    )
    ds["concentration"] = (
        ("year", "pollutant", "y", "x"),
        conc[None],
        {"units": "ug m-3", "long_name": "annual mean concentration"},
    )
    ds["background"] = (("year", "pollutant"), background[None], {"units": "ug m-3"})
    if year in ctx.map_years:
        ds["contribution"] = (
            ("year", "sector", "pollutant", "y", "x"),
            contrib[None],
            {"units": "ug m-3", "long_name": "contribution of local sources by sector"},
        )
    ds.attrs["crs"] = "EPSG:2154"
    return ds


def static_variables(ctx: Context) -> xr.Dataset:
    g = ctx.grid
    pop = _field(7, g.shape) * 100.0
    ds = xr.Dataset(coords=g.coords())
    ds["population"] = (("y", "x"), pop, {"units": "1", "long_name": "inhabitants per cell"})
    ds.attrs["crs"] = "EPSG:2154"
    return ds


def global_attributes(ctx: Context) -> dict[str, Any]:
    return {"trajectory_methods": ctx.methods, "pipeline": "fake"}
