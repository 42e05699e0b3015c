"""Probe 20: ``[output] significant_digits`` rounded the inhabitants of each territory
(``population_total``: MEL 1 179 050 written 1 179 648 with N = 3, the report then saying
149 000 inhabitants for 148 800) and the territories' cell shares (``territory_fraction``,
cell sums up to 1.00037). They, and the territories' emissions, are written bit for bit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire.batch.runner import run as run_chain
from trajectoire.config import load_config
from trajectoire.geo.grid import Grid
from trajectoire.io.netcdf import write_netcdf

KEPT = (
    "population_total",
    "territory_fraction",
    "territory_emission",
    "territory_emission_number",
)


def test_territory_counts_shares_and_emissions_are_written_exactly(tmp_path: Path) -> None:
    g = Grid.from_bounds(700_000, 7_050_000, 703_000, 7_052_000, 100)
    rng = np.random.default_rng(7)
    ds = xr.Dataset(coords={"year": [2019], "territory": ["A", "B"], **g.coords()})
    ds["population_total"] = (("year", "territory"), np.array([[1179050.0, 148784.0]], "f4"))
    f = rng.random((2, *g.shape))
    ds["territory_fraction"] = (("territory", "y", "x"), (f / f.sum(axis=0)).astype("f4"))
    for name in ("territory_emission", "territory_emission_number", "exposure"):
        ds[name] = (("year", "territory"), rng.gamma(2.0, 1000.0, (1, 2)).astype("f4"))
    ds.attrs["crs"] = "EPSG:2154"
    lossy = write_netcdf(ds, tmp_path / "lossy.nc", significant_digits=3)
    with xr.open_dataset(lossy) as b:
        for name in KEPT:
            np.testing.assert_array_equal(b[name].values, ds[name].values, err_msg=name)
        assert not np.array_equal(b["exposure"].values, ds["exposure"].values)


@pytest.mark.parametrize("digits", [3])
def test_a_quantised_run_keeps_its_inhabitants_and_shares(tmp_path: Path, digits: int) -> None:
    over = {
        r"^resolution = [\d.]+": "resolution = 2000.0",
        r"^first_year = \d+": "first_year = 2019",
        r"^last_year = \d+": "last_year = 2019",
        r"^map_years = \[.*\]": "map_years = [2019]",
    }
    outs = {}
    for name, extra in (("plain", ""), ("lossy", f"significant_digits = {digits}\n")):
        folder = tmp_path / name
        folder.mkdir()
        path = small_config(folder, **over)
        text = path.read_text().replace("[output]\n", f"[output]\n{extra}", 1)
        path.write_text(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrajectoireWarning)
            outs[name] = run_chain(load_config(path), folder / "out.nc", progress=False)
    with xr.open_dataset(tmp_path / "plain" / "out.nc") as a:
        with xr.open_dataset(tmp_path / "lossy" / "out.nc") as b:
            for name in ("population_total", "territory_fraction", "territory_emission"):
                np.testing.assert_array_equal(b[name].values, a[name].values, err_msg=name)
            # the quantiser did run: a concentration map changed
            assert not np.array_equal(b["concentration"].values, a["concentration"].values)
