"""A run given only ``[inputs] observations_hourly`` compares the model with their annual
means (Directive 2008/50/EC data capture, :func:`trajectoire.assess.annual_means`); given
both inputs, the annual file is compared and the hourly one said unused."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config

HOURLY = SAMPLE / "observations_hourly.csv"


def _config(tmp_path, observations: str):
    return load_config(
        small_config(
            tmp_path,
            **{
                r'^observations = ".*"': observations,
                r"^first_year = \d+": "first_year = 2023",
                r"^last_year = \d+": "last_year = 2023",
                r"^resolution = [\d.]+": "resolution = 2000.0",
                r"^territories = \[.*\]": 'territories = ["MEL", "CUD"]',
                r"^map_years = \[.*\]": "map_years = [2023]",
            },
        )
    )


def _prepare(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return P.prepare(cfg)


def test_the_run_takes_the_annual_means_of_hourly_observations(tmp_path, caplog) -> None:
    cfg = _config(tmp_path, f'observations_hourly = "{HOURLY}"')
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        ctx = _prepare(cfg)
    obs = ctx.observations
    assert obs is not None
    table = pd.read_csv(HOURLY, dtype={"station_id": str})
    compared = 0
    for (sid, pol), rows in table.groupby(["station_id", "pollutant"]):
        if sid not in obs["station"].values or pol not in obs["pollutant"].values:
            continue
        valid = rows["value"].notna().sum()
        expected = rows["value"].mean() if valid >= 0.9 * 8760 else np.nan
        got = float(obs.sel(year=2023, station=sid, pollutant=pol))
        np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)
        compared += int(np.isfinite(expected))
    assert compared >= 4
    assert "annual means of" in caplog.text and "taken from the hourly values" in caplog.text


def test_given_both_the_annual_file_is_compared(tmp_path, caplog) -> None:
    annual = SAMPLE / "observations_annual.csv"
    cfg = _config(tmp_path, f'observations = "{annual}"\nobservations_hourly = "{HOURLY}"')
    with caplog.at_level(logging.WARNING, logger="trajectoire"):
        ctx = _prepare(cfg)
    assert "observations_hourly (observations_hourly.csv) is not used by the run" in caplog.text
    table = pd.read_csv(annual, dtype={"station_id": str})
    rows = table[(table["year"] == 2023) & (table["pollutant"] == "NO2")].dropna()
    rows = rows[rows["station_id"].isin(ctx.observations["station"].values)]
    assert len(rows) >= 2
    for sid, value in zip(rows["station_id"], rows["value"], strict=True):
        got = float(ctx.observations.sel(year=2023, station=sid, pollutant="NO2"))
        assert got == float(value)
