"""NO2 with a year-dependent primary NO2 share (issue 14) on a small run of the sample."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from fake_pipeline import write_config
from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.errors import ConfigError
from trajectoire.io.config import No2Config

YEARS = (1995, 2015)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = small_config(
        tmp_path_factory.mktemp("no2"),
        **{
            r"^first_year = \d+": f"first_year = {YEARS[0]}",
            r"^last_year = \d+": f"last_year = {YEARS[1]}",
            r"^map_years = \[.*\]": f"map_years = [{YEARS[0]}, {YEARS[1]}]",
        },
    )
    cfg = load_config(path)
    assert cfg.no2.method == "fno2"  # the default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        old_cfg = cfg.model_copy(update={"no2": No2Config(method="romberg1996")})
        old_ctx = dataclasses.replace(ctx, config=old_cfg)
        return {
            (m, y): P.compute_year(c, y)
            for m, c in (("fno2", ctx), ("old", old_ctx))
            for y in YEARS
        }


def _traffic_cell(ds):
    """The cell where road traffic makes the most local NOx."""
    road = ds["contribution"].sel(pollutant="NOx", sector="F_RoadTransport").isel(year=0)
    local = ds["contribution"].sel(pollutant="NOx").isel(year=0).sum("sector")
    share = (road / local).values
    assert np.nanmax(share[np.nan_to_num(road.values) >= np.nanmax(road.values) * 0.9]) > 0.7
    return np.unravel_index(np.nanargmax(road.values), road.shape)


def test_no2_over_nox_at_a_traffic_cell_rises_with_the_direct_share(runs):
    cell = _traffic_cell(runs["fno2", YEARS[1]])
    ratio = {}
    for key, ds in runs.items():
        c = ds["concentration"].isel(year=0)
        no2 = float(c.sel(pollutant="NO2").values[cell])
        nox = float(c.sel(pollutant="NOx").values[cell])
        ratio[key] = no2 / nox
    assert ratio["fno2", 2015] > ratio["fno2", 1995]
    assert ratio["fno2", 2015] - ratio["fno2", 1995] > ratio["old", 2015] - ratio["old", 1995]
    # NOx itself does not depend on the NO2 method
    for y in YEARS:
        np.testing.assert_array_equal(
            runs["fno2", y]["concentration"].sel(pollutant="NOx").values,
            runs["old", y]["concentration"].sel(pollutant="NOx").values,
        )


def test_no2_contributions_add_up_and_carry_the_rule(runs):
    for (method, _), ds in runs.items():
        c = ds["contribution"].sel(pollutant="NO2").sum("sector", skipna=False)
        local = ds["concentration"].sel(pollutant="NO2") - ds["background"].sel(pollutant="NO2")
        np.testing.assert_allclose(c.values, local.values, rtol=2e-5, atol=1e-4)
        terr = ds["territory_contribution"].sel(pollutant="NO2").sum(("sector", "origin"))
        bg = ds["background"].sel(pollutant="NO2")
        np.testing.assert_allclose(
            (terr + bg).values, ds["territory_concentration"].sel(pollutant="NO2").values
        )
        for name in ("contribution", "territory_contribution", "exposure_contribution"):
            assert "f_s" in ds[name].attrs["no2_attribution"]
        if method == "old":  # the curve alone: no primary NO2
            assert not ds["no2_primary_fraction"].values.any()
    road = {
        y: float(runs["fno2", y]["no2_primary_fraction"].sel(sector="F_RoadTransport").item())
        for y in YEARS
    }
    assert road[1995] == 0.05 and road[2015] == pytest.approx(0.18)


def test_primary_no2_raises_the_2015_territory_no2(runs):
    """More primary NO2 in 2015: the f-NO2 method gives more NO2 than the curve alone,
    and mostly so in the road traffic part."""
    new = runs["fno2", 2015]["territory_contribution"].sel(pollutant="NO2")
    old = runs["old", 2015]["territory_contribution"].sel(pollutant="NO2")
    gain = (new - old).sum("origin")
    assert float(gain.sum()) > 0
    road = gain.sel(sector="F_RoadTransport")
    assert np.all(road.values > 0)


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (
            "[no2]\nfno2 = { F_RoadTransport = { 1990 = 0.05, 2010 = 1.5 } }\n",
            r"^\S+config.toml: \[no2.fno2\]: F_RoadTransport 2010: share 1.5 outside 0..1",
        ),
        (
            "[no2]\nfno2 = { Z_Nothing = { 1990 = 0.05 } }\n",
            r"^\S+config.toml: \[no2.fno2\]: unknown sector 'Z_Nothing'",
        ),
        (
            "[no2]\nfno2 = { F_RoadTransport = { 19x0 = 0.05 } }\n",
            r"\[no2.fno2\]: F_RoadTransport '19x0': not a year",
        ),
        ('[no2]\nmethod = "fn02"\n', r"\[no2\] method: received 'fn02'"),
    ],
)
def test_no2_config_errors_name_the_key(tmp_path: Path, extra: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        load_config(write_config(tmp_path, extra=extra))
    assert "\n" not in str(info.value)


def test_no2_config_override_is_read(tmp_path: Path) -> None:
    extra = (
        '[no2]\nmethod = "fno2"\ncurve = "romberg1996"\n'
        "fno2 = { f = { 1990 = 0, 2010 = 0.2 }, B_Industry = { 2000 = 0.1 } }\n"
    )
    cfg = load_config(write_config(tmp_path, extra=extra))
    assert cfg.no2.fno2 == {"F_RoadTransport": {1990: 0.0, 2010: 0.2}, "B_Industry": {2000: 0.1}}
    assert load_config(write_config(tmp_path, extra="")).no2.method == "fno2"
