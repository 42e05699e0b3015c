"""Population-weighted exposure and threshold counts."""

import numpy as np
import pytest
import xarray as xr

from trajectoire import Grid, InputError
from trajectoire.assess.exposure import (
    WHO_2021_GUIDELINES,
    population_above,
    population_weighted_mean,
)


@pytest.fixture
def setup():
    g = Grid.from_bounds(700_000, 7_050_000, 700_400, 7_050_300, 100)
    conc = xr.DataArray(
        np.arange(24, dtype=float).reshape(2, 3, 4),
        dims=("pollutant", "y", "x"),
        coords={"pollutant": ["NO2", "PM10"], **g.coords()},
        attrs={"units": "ug m-3"},
    )
    pop = g.to_dataarray(np.array([[0, 10, 0, 5], [1, 1, 1, 1], [0, 0, 100, 0]], dtype=float))
    frac = xr.DataArray(
        np.stack([np.ones(g.shape), np.pad(np.ones((2, 2)), ((1, 0), (2, 0)))]),
        dims=("territory", "y", "x"),
        coords={"territory": ["A", "B"], **g.coords()},
    )
    return conc, pop, frac


def test_population_weighted_mean_matches_numpy(setup):
    conc, pop, frac = setup
    out = population_weighted_mean(conc, pop, frac)
    w = pop.values * frac.values
    ref = np.einsum("pyx,tyx->pt", conc.values, w) / w.sum((1, 2))
    np.testing.assert_allclose(out.transpose("pollutant", "territory").values, ref)
    assert out.attrs["units"] == "ug m-3"


def test_population_above(setup):
    conc, pop, frac = setup
    out = population_above(conc, pop, WHO_2021_GUIDELINES)
    no2 = conc.sel(pollutant="NO2").values
    assert float(out.sel(pollutant="NO2")) == pytest.approx(pop.values[no2 > 10].sum())


def test_empty_territory_is_an_error(setup):
    conc, pop, frac = setup
    with pytest.raises(InputError, match="no inhabitants"):
        population_weighted_mean(conc, pop * 0, frac)
