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


def exposure_maps() -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """(concentration, population, territory fractions) on a 4 x 3 grid of 100 m cells
    (also the maps of test_api_mistakes_assess)."""
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


@pytest.fixture
def setup():
    return exposure_maps()


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


def test_a_territory_empty_in_a_later_year_is_named_with_its_year(setup):
    """With a population (year, y, x), only the first year's row was read: a territory
    empty in the second year only was "no inhabitants in territory []"."""
    conc, pop, frac = setup
    later = pop.where(frac.sel(territory="B") == 0, 0.0)  # nobody left in B
    yearly = xr.concat([pop, later], dim="year").assign_coords(year=[2019, 2020])
    with pytest.raises(InputError) as info:
        population_weighted_mean(conc, yearly, frac)
    msg = str(info.value)
    assert "no inhabitants in territory B (year 2020);" in msg
    assert "A" not in msg.split(";")[0] and len(msg.splitlines()) == 1


def test_population_weighted_mean_of_a_uniform_float32_field_is_the_field():
    """A run writes float32 maps: the sums were float32, and a uniform field of 17.3 over
    100,000 inhabited cells came back as 17.29998 (1e-6 off)."""
    rng = np.random.default_rng(1)
    g = Grid.from_bounds(700_000, 7_000_000, 725_000, 7_040_000, 100)
    value = np.float32(17.3)
    conc = g.to_dataarray(np.full(g.shape, value, dtype=np.float32))
    pop = g.to_dataarray(rng.integers(0, 3000, g.shape).astype(np.float32))
    frac = xr.DataArray(
        np.stack([np.ones(g.shape), rng.uniform(0.0, 1.0, g.shape)]).astype(np.float32),
        dims=("territory", "y", "x"),
        coords={"territory": ["A", "B"], **g.coords()},
    )
    out = population_weighted_mean(conc, pop, frac)
    np.testing.assert_allclose(out.values, float(value), rtol=1e-13)


def test_population_weighted_mean_skips_masked_cells_of_zero_weight(setup):
    # a run's output is NaN beyond its buffer, where territory_fraction is 0
    conc, pop, frac = setup
    frac = frac.copy()
    frac[:, 0, 0] = 0.0
    masked = conc.copy()
    masked[:, 0, 0] = np.nan
    out = population_weighted_mean(masked, pop, frac)
    assert not bool(out.isnull().any())
    np.testing.assert_allclose(out.values, population_weighted_mean(conc, pop, frac).values)


def test_population_weighted_mean_nan_where_people_live_is_an_error(setup):
    conc, pop, frac = setup
    masked = conc.copy()
    masked[0, 0, 1] = np.nan  # 10 inhabitants there
    with pytest.raises(InputError, match="NaN in 1 cell"):
        population_weighted_mean(masked, pop, frac)


def test_population_weighted_mean_nan_population_is_an_error(setup):
    conc, pop, frac = setup
    with pytest.raises(InputError, match="1 NaN"):
        population_weighted_mean(conc, pop.where(pop != 100), frac)


def test_population_above_rejects_negative_population(setup):
    conc, pop, _ = setup
    with pytest.raises(InputError, match="negative"):
        population_above(conc, -pop, 10.0)


def test_population_above_accepts_pollutant_aliases(setup):
    conc, pop, _ = setup
    by_alias = population_above(conc, pop, {"no2": 10.0, "pm10": 15.0})
    by_id = population_above(conc, pop, {"NO2": 10.0, "PM10": 15.0})
    assert not bool(by_alias.isnull().any())
    np.testing.assert_array_equal(by_alias.values, by_id.values)
    with pytest.raises(InputError, match="unknown pollutant 'NO9'"):
        population_above(conc, pop, {"NO9": 10.0})


def test_population_above_without_y_dim_is_one_input_error(setup):
    conc, pop, _ = setup
    with pytest.raises(InputError, match="northing"):
        population_above(conc.rename(y="northing"), pop, 10.0)
    with pytest.raises(InputError, match="threshold is None"):
        population_above(conc, pop, None)  # type: ignore[arg-type]


def test_plain_arrays_are_refused_in_one_line_naming_the_dims(setup):
    """population_weighted_mean and population_above match dimensions by name: plain numpy
    arrays ended on AttributeError: 'numpy.ndarray' object has no attribute 'dims'."""
    conc, pop, frac = setup
    with pytest.raises(
        InputError,
        match=r"population_weighted_mean: population is a numpy\.ndarray; expected an "
        r"xarray\.DataArray with dims \('y', 'x'\).*Wrap it",
    ):
        population_weighted_mean(conc, pop.values, frac)
    with pytest.raises(InputError, match=r"territory_fraction is a numpy\.ndarray"):
        population_weighted_mean(conc, pop, frac.values)
    with pytest.raises(InputError, match=r"population_above: concentration is a numpy\.ndarray"):
        population_above(conc.values, pop, 10.0)
