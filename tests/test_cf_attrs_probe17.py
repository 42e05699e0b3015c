"""Output attributes that said something the data do not: the NO2 rule on particle-number
variables, the WHO ultrafine-particle statement (a 24-hour value) labelled an annual mean,
rates per year whose cell_methods summed them over the year."""

from __future__ import annotations

import numpy as np
import xarray as xr

from trajectoire.cf import variable_metadata
from trajectoire.dispersion.chemistry import NO2_ATTRIBUTION_RULE
from trajectoire.io.netcdf import _above_lines
from trajectoire.io.outputs import split_number_species


def _year_parts() -> xr.Dataset:
    pols = ["NOx", "UFP"]
    labels = ["WHO2021", "WHO2021_GPS"]
    contribution = xr.DataArray(
        np.ones((1, 1, 2)),
        dims=("year", "sector", "pollutant"),
        coords={"year": [2019], "sector": ["F_RoadTransport"], "pollutant": pols},
        attrs={
            "units": "ug m-3",
            "long_name": "contribution",
            "no2_attribution": NO2_ATTRIBUTION_RULE,
        },
    )
    threshold = xr.DataArray(
        [[np.nan, np.nan], [np.nan, 10000.0]],
        dims=("threshold", "pollutant"),
        coords={"threshold": labels, "pollutant": pols},
        attrs={"units": "ug m-3", "long_name": "reference annual mean concentration"},
    )
    above = xr.DataArray(
        np.array([[[[np.nan, np.nan], [np.nan, 1200.0]]]]).transpose(0, 1, 3, 2),
        dims=("year", "territory", "pollutant", "threshold"),
        coords={"year": [2019], "territory": ["MEL"], "pollutant": pols, "threshold": labels},
        attrs={"units": "1", "long_name": "inhabitants living where the annual mean is above"},
    )
    return xr.Dataset(
        {"contribution": contribution, "exposure_threshold": threshold, "inhabitants_above": above}
    )


def test_particle_numbers_do_not_carry_the_no2_rule() -> None:
    out = split_number_species(_year_parts(), ["UFP"])
    assert out["contribution"].attrs["no2_attribution"] == NO2_ATTRIBUTION_RULE
    assert "no2_attribution" not in out["contribution_number"].attrs


def test_the_who_ufp_statement_is_said_to_be_a_24_hour_value() -> None:
    out = split_number_species(_year_parts(), ["UFP"])
    threshold = out["exposure_threshold_number"].attrs
    assert "annual" not in threshold["long_name"]
    assert "24-hour mean" in threshold["comment"]
    assert "24-hour mean" in out["inhabitants_above_number"].attrs["comment"]
    assert "comment" not in out["inhabitants_above"].attrs  # the mass species' values are annual


def test_trajectoire_info_says_it_too() -> None:
    out = split_number_species(_year_parts(), ["UFP"])
    out["population_total"] = xr.DataArray(
        [[10000.0]], dims=("year", "territory"), coords={"year": [2019], "territory": ["MEL"]}
    )
    lines = _above_lines(out)
    assert any("WHO2021_GPS" in line and "UFP" in line for line in lines)
    assert "24-hour mean" in lines[-1]


def test_rates_per_year_are_means_over_the_year() -> None:
    for name in ("emission", "deposition", "territory_deposition"):
        meta = variable_metadata(name)
        assert meta["units"].endswith("yr-1")
        assert "year: mean" in meta["cell_methods"], name
    # an amount accumulated over the years is a sum
    assert variable_metadata("territory_deposition_cumulative")["cell_methods"].startswith(
        "year: sum"
    )
