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


def write_config(
    directory: Any,
    *,
    first_year: int = 1990,
    last_year: int = 1995,
    map_years: tuple[int, ...] = (1990, 1995),
    pollutants: tuple[str, ...] = ("NOx", "PM10"),
    extra: str = "",
) -> Any:
    """Write a small valid ``config.toml`` (and its one input file) in `directory`."""
    from pathlib import Path

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "territories.gpkg").write_bytes(b"not a real geopackage: the fake pipeline ignores it")
    pols = ", ".join(f'"{p}"' for p in pollutants)
    text = f"""[run]
name = "fake run"
first_year = {first_year}
last_year = {last_year}
reference_year = {last_year}
pollutants = [{pols}]

[grid]
resolution = 100.0

[inputs]
territories = "territories.gpkg"

[attribution]
map_years = [{", ".join(map(str, map_years))}]
{extra}"""
    path = d / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


#: Global attributes that legitimately differ between two runs of the same configuration.
VOLATILE_ATTRS = ("history", "trajectoire_config_file")


def assert_same_content(path_a: Any, path_b: Any) -> None:
    """Assert two outputs hold the same variables, values, dtypes and attributes.

    Global attributes are compared except :data:`VOLATILE_ATTRS` (time stamps, paths).
    """
    with xr.open_dataset(path_a) as a, xr.open_dataset(path_b) as b:
        assert list(a.variables) == list(b.variables)
        for name in a.variables:
            va, vb = a[name], b[name]
            assert va.dims == vb.dims, name
            assert va.dtype == vb.dtype, name
            np.testing.assert_array_equal(va.values, vb.values, err_msg=str(name))
            assert _attrs_equal(va.attrs, vb.attrs), name
        ga = {k: v for k, v in a.attrs.items() if k not in VOLATILE_ATTRS}
        gb = {k: v for k, v in b.attrs.items() if k not in VOLATILE_ATTRS}
        assert _attrs_equal(ga, gb), set(ga) ^ set(gb)


def _attrs_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if set(a) != set(b):
        return False
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
