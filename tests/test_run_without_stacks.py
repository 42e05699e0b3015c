"""A run with no ``[inputs] point_sources`` (area totals and roads only) goes through: the
inputs are each optional as long as one emission input is given (docs/configuration.md)."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire.batch.runner import run as run_chain
from trajectoire.config import load_config


def test_a_run_without_point_sources(tmp_path) -> None:
    cfg = load_config(
        small_config(
            tmp_path,
            **{
                r'^point_sources = ".*"\n': "",
                r'^point_source_history = ".*"\n': "",
                r"^first_year = \d+": "first_year = 2018",
                r"^resolution = [\d.]+": "resolution = 1000.0",
                r"^map_years = \[.*\]": "map_years = [2018]",
            },
        )
    )
    assert cfg.inputs.point_sources is None
    out = tmp_path / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # zones beyond the small grid
        run_chain(cfg, out, progress=False)
    ds = xr.open_dataset(out)
    assert [int(y) for y in ds["year"]] == [2018]
    conc = ds["concentration"].sel(year=2018, pollutant="NOx").values
    assert np.nanmax(conc) > 0.0
    # concentration = background + the sectors' contributions, no stack term
    local = ds["contribution"].sel(year=2018, pollutant="NOx").sum("sector").values
    bg = float(ds["background"].sel(year=2018, pollutant="NOx"))
    ok = np.isfinite(conc)
    np.testing.assert_allclose(conc[ok], bg + local[ok], rtol=1e-5)
