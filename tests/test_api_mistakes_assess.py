"""Ordinary user mistakes in the Python API of trajectoire.assess: one clear error each.

mqi_network with a fraction for a percentile (0.9 gave a "90th percentile" of 0.0072 and the
MQO fulfilled), with negative MQIs or a numpy array (AttributeError); mqi with beta='2'
(TypeError from math.isfinite); population_above with territory_fraction in per cent
(inhabitants x 100) or on a masked map (people in NaN cells counted as "not above", while
inhabitants_above and exposure_distribution refused the same map); cross_validate with
refit='yes' (ValueError from int()). The valid calls keep their results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_exposure import exposure_maps
from trajectoire import InputError
from trajectoire.assess.evaluation import evaluate, fairmode_parameters, mqi, mqi_network
from trajectoire.assess.exposure import (
    WHO_2021_GUIDELINES,
    exposure_distribution,
    inhabitants_above,
    population_above,
    population_weighted_mean,
)
from trajectoire.assess.fusion import cross_validate

U = {"units": "ug m-3"}
MQIS = [0.2, 0.5, 0.8, 1.4]  # S90 = 3.6: 0.8 + 0.6 (1.4 - 0.8) = 1.16


# ------------------------------------------------------------------------- mqi_network
@pytest.fixture
def stations_mqi():
    return xr.DataArray(MQIS, dims="station", coords={"station": ["a", "b", "c", "d"]})


@pytest.mark.parametrize("fraction", [0.9, 0.5, 1.0, np.float64(0.95)])
def test_mqi_network_percentile_given_as_a_fraction_is_an_error(stations_mqi, fraction):
    """0.9 was read as the 0.9th percentile: 0.0072 and mqo_fulfilled True (the 90th is
    1.16, failing)."""
    with pytest.raises(InputError) as info:
        mqi_network(stations_mqi, percentile=fraction)
    message = str(info.value)
    assert "percentile=" in message and "fraction" in message and "per cent" in message
    assert f"percentile={100 * float(fraction):g}" in message
    assert "\n" not in message


@pytest.mark.parametrize("bad", ["90", None, True, float("nan"), float("inf"), 0, -5, 150])
def test_mqi_network_percentile_not_a_percentage_is_an_error(stations_mqi, bad):
    with pytest.raises(InputError, match=r"mqi_network: percentile must be a number in \(0, 100\]"):
        mqi_network(stations_mqi, percentile=bad)


@pytest.mark.parametrize("percentile", [90, 90.0, np.float64(90.0), np.int64(90), np.array(90.0)])
def test_mqi_network_percentile_in_per_cent_keeps_its_result(stations_mqi, percentile):
    net = mqi_network(stations_mqi, percentile=percentile)
    assert float(net.mqi_percentile) == pytest.approx(1.16)
    assert not bool(net.mqo_fulfilled)
    assert net.attrs["percentile"] == 90.0
    # a percentile just above 1 is still a percentile
    assert float(mqi_network(stations_mqi, percentile=1.5).mqi_percentile) >= 0


def test_mqi_network_negative_mqi_is_an_error_naming_the_stations(stations_mqi):
    bad = stations_mqi.copy(data=[0.2, -0.5, 0.8, -0.1])
    with pytest.raises(InputError, match=r"2 negative MQI\(s\) \(down to -0\.5\) at station b, d"):
        mqi_network(bad)
    # several years: the stations negative in any year
    two = xr.concat([stations_mqi, stations_mqi.copy(data=[0.2, 0.5, -0.8, 1.4])], dim="year")
    with pytest.raises(InputError, match=r"at station c; expected MQIs >= 0"):
        mqi_network(two)
    # NaN (a station without an MQI) stays allowed and ignored
    gap = stations_mqi.copy(data=[0.2, np.nan, 0.8, 1.4])
    assert int(mqi_network(gap).n_stations) == 3


@pytest.mark.parametrize(
    "values",
    [np.array(MQIS), MQIS, tuple(MQIS), pd.Series(MQIS, index=["a", "b", "c", "d"])],
    ids=["ndarray", "list", "tuple", "Series"],
)
def test_mqi_network_takes_one_value_per_station(values, stations_mqi):
    """A numpy array was "AttributeError: 'numpy.ndarray' object has no attribute 'dims'"."""
    net = mqi_network(values)
    ref = mqi_network(stations_mqi)
    assert float(net.mqi_percentile) == float(ref.mqi_percentile)
    assert int(net.n_stations) == 4 and not bool(net.mqo_fulfilled)


def test_mqi_network_negative_values_of_a_series_are_named_by_its_index():
    with pytest.raises(InputError, match=r"at station FR02"):
        mqi_network(pd.Series([0.3, -0.2], index=["FR01", "FR02"]))
    with pytest.raises(InputError, match=r"at station index 1"):
        mqi_network(np.array([0.3, -0.2]))


@pytest.mark.parametrize("values", [np.ones((2, 3)), 0.5, "0.5", {"a": 0.5}, [["x"]]], ids=str)
def test_mqi_network_of_something_else_says_what_it_expects(values):
    with pytest.raises(InputError) as info:
        mqi_network(values)
    message = str(info.value)
    assert message.startswith("mqi_network: got a ")
    assert "1-D array or list of numbers (one per station)" in message
    assert "\n" not in message


# --------------------------------------------------------------------------------- mqi
@pytest.fixture
def pair():
    o = xr.DataArray([20.0, 40.0, 60.0, 30.0], dims="time", attrs=U)
    m = xr.DataArray([25.0, 35.0, 50.0, 40.0], dims="time", attrs=U)
    return m, o


@pytest.mark.parametrize("beta", ["2", None, True, float("nan"), 0, -2.0, [2.0]])
def test_mqi_beta_of_another_kind_is_one_input_error(pair, beta):
    """beta='2' was "TypeError: must be real number, not str"."""
    m, o = pair
    with pytest.raises(InputError) as info:
        mqi(m, o, pollutant="NO2", beta=beta)
    message = str(info.value)
    assert message.startswith("mqi: beta must be a finite number > 0")
    assert f"got {beta!r}" in message and "beta=2.0" in message


@pytest.mark.parametrize("beta", [2, 2.0, np.float64(2.0), np.array(2.0)])
def test_mqi_beta_as_a_number_keeps_its_result(pair, beta):
    m, o = pair
    assert float(mqi(m, o, pollutant="NO2", beta=beta).mqi) == pytest.approx(0.293, abs=5e-5)
    annual = mqi(m, o, pollutant="NO2", kind="annual", beta=beta)
    ref = mqi(m, o, pollutant="NO2", kind="annual")
    assert float(annual.mqi) == float(ref.mqi)


@pytest.mark.parametrize(
    ("override", "name"),
    [({"u_rv": "0.24"}, "u_rv"), ({"rv": None}, "rv"), ({"alpha": "0.2"}, "alpha"),
     ({"alpha": 1.5}, "alpha"), ({"n_p": float("nan")}, "n_p")],
)  # fmt: skip
def test_mqi_parameter_overrides_of_another_kind_are_one_input_error(pair, override, name):
    """u_rv='0.24' was a bare TypeError from math.isfinite."""
    m, o = pair
    with pytest.raises(InputError, match=rf"FairmodeParameters: {name} must be a "):
        mqi(m, o, pollutant="NO2", **override)
    with pytest.raises(InputError, match=rf"{name} must be"):
        fairmode_parameters("NO2", **override)


def test_evaluate_threshold_keeps_its_checks(pair):
    m, o = pair
    with pytest.raises(InputError, match=r"threshold must be a finite number >= 0 .* got '5'"):
        evaluate(m, o, threshold="5")
    assert float(evaluate(m, o, threshold=np.float64(1.0)).fb) == float(evaluate(m, o).fb)


# ---------------------------------------------------------------------------- exposure
@pytest.fixture
def grid_maps():
    return exposure_maps()


def test_population_above_territory_fraction_in_per_cent_is_an_error(grid_maps):
    """tf * 100 multiplied the inhabitants by 100, silently."""
    conc, pop, frac = grid_maps
    with pytest.raises(InputError) as info:
        population_above(conc, pop, WHO_2021_GUIDELINES, territory_fraction=frac * 100)
    message = str(info.value)
    assert message.startswith("population_above: territory_fraction has shares outside [0, 1]")
    assert "the largest 100 (territory 'A')" in message
    assert "per cent" in message and "territory_fraction / 100" in message
    # the largest value is named with its own territory
    over = frac.copy()
    over.loc[{"territory": "B"}] = over.sel(territory="B") * 1.5
    with pytest.raises(InputError, match=r"the largest 1\.5 \(territory 'B'\)"):
        population_above(conc, pop, 10.0, territory_fraction=over)
    with pytest.raises(InputError, match=r"the lowest -1 \(territory 'A'\)"):
        population_above(conc, pop, 10.0, territory_fraction=-frac)


def test_population_above_territory_fraction_within_round_off_keeps_its_result(grid_maps):
    conc, pop, frac = grid_maps
    ref = population_above(conc, pop, WHO_2021_GUIDELINES, territory_fraction=frac)
    np.testing.assert_array_equal(
        ref.sel(pollutant="NO2").values,
        [pop.values[conc.values[0] > 10].sum(), (pop * frac[1]).values[conc.values[0] > 10].sum()],
    )
    nudged = frac.where(frac == 0, frac + 1e-9)  # round-off above 1
    out = population_above(conc, pop, WHO_2021_GUIDELINES, territory_fraction=nudged)
    np.testing.assert_allclose(out.values, ref.values, rtol=1e-8)


def test_population_above_territory_fraction_on_another_grid_is_an_error(grid_maps):
    conc, pop, frac = grid_maps
    with pytest.raises(InputError, match="territory_fraction: the 'x' coordinates differ"):
        population_above(conc, pop, 10.0, territory_fraction=frac.assign_coords(x=frac.x + 50))


def test_population_above_nan_where_people_live_is_the_siblings_error(grid_maps):
    """The masked map's NaN cells were counted as "not above", silently, while
    inhabitants_above and exposure_distribution refused the same map."""
    conc, pop, frac = grid_maps
    no2 = conc.sel(pollutant="NO2")
    masked = no2.where(pop.values != 10)  # NaN where 10 people live
    words = "the concentration is NaN in 1 inhabited cell(s); expected a value wherever people live"
    for call in (
        lambda: population_above(masked, pop, 10.0),
        lambda: inhabitants_above(masked, pop, [10.0]),
        lambda: exposure_distribution(masked, pop),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert words in str(info.value)
        assert "unmasked" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InputError, match="pass territory_fraction="):
        population_above(masked, pop, 10.0)
    # with every pollutant (a mapping) and with territories
    with pytest.raises(InputError, match=r"NaN in 1 cell\(s\) with inhabitants in a territory"):
        population_above(conc.where(pop != 10), pop, {"NO2": 10.0}, territory_fraction=frac)


def test_population_above_nan_where_nobody_counts_is_allowed(grid_maps):
    conc, pop, frac = grid_maps
    # NaN where nobody lives: the same count as the filled map
    empty = conc.where(pop != 0)
    xr.testing.assert_identical(
        population_above(empty, pop, WHO_2021_GUIDELINES),
        population_above(conc, pop, WHO_2021_GUIDELINES),
    )
    # NaN outside every territory (a run's written map beyond the buffer): with the fractions
    inside = frac.sel(territory="B", drop=True)
    only_b = frac.sel(territory=["B"])
    masked = conc.where(inside > 0)
    xr.testing.assert_identical(
        population_above(masked, pop, 10.0, territory_fraction=only_b),
        population_above(conc, pop, 10.0, territory_fraction=only_b),
    )
    # NaN in a pollutant without a threshold (its count is NaN anyway)
    pm_nan = conc.where(conc.pollutant == "NO2")
    out = population_above(pm_nan, pop, {"NO2": 10.0})
    assert np.isnan(float(out.sel(pollutant="PM10")))
    assert float(out.sel(pollutant="NO2")) == float(
        population_above(conc, pop, {"NO2": 10.0}).sel(pollutant="NO2")
    )


def test_exposure_distribution_of_a_masked_map_with_the_territories_inhabitants(grid_maps):
    """The documented way to use a run's written map (NaN beyond the buffer): weigh by the
    territories' inhabitants, population * territory_fraction.sum('territory')."""
    conc, pop, frac = grid_maps
    only_b = frac.sel(territory=["B"])
    no2 = conc.sel(pollutant="NO2")
    masked = no2.where(only_b.sum("territory") > 0)
    people = pop * only_b.sum("territory")
    np.testing.assert_array_equal(
        exposure_distribution(masked, people), exposure_distribution(no2, people)
    )
    np.testing.assert_array_equal(
        inhabitants_above(masked, people, [5.0, 10.0]),
        inhabitants_above(no2, people, [5.0, 10.0]),
    )
    with pytest.raises(InputError, match="population \\* territory_fraction.sum"):
        exposure_distribution(masked, pop)


def test_population_weighted_mean_keeps_its_nan_rule(grid_maps):
    conc, pop, frac = grid_maps
    with pytest.raises(InputError, match=r"NaN in 1 cell\(s\) with inhabitants in a territory"):
        population_weighted_mean(conc.where(pop != 10), pop, frac)
    only_b = frac.sel(territory=["B"])
    masked = conc.where(only_b.sum("territory") > 0)
    xr.testing.assert_identical(
        population_weighted_mean(masked, pop, only_b), population_weighted_mean(conc, pop, only_b)
    )


# ---------------------------------------------------------------------- cross_validate
@pytest.fixture
def fusion_inputs():
    model = xr.DataArray(
        np.full((3, 3), 20.0),
        dims=("y", "x"),
        attrs=U,
        coords={"y": [250.0, 150.0, 50.0], "x": [50.0, 150.0, 250.0]},
    )
    stations = pd.DataFrame(
        {"station_id": ["a", "b", "c"], "x": [50.0, 250.0, 50.0], "y": [250.0, 50.0, 50.0]}
    )
    obs = xr.DataArray(
        [22.0, 23.0, 22.5], dims="station", attrs=U, coords={"station": ["a", "b", "c"]}
    )
    return model, obs, stations


@pytest.mark.parametrize("refit", ["yes", "False", 1, 0, None])
def test_cross_validate_refit_of_another_kind_is_one_input_error(fusion_inputs, refit):
    """refit='yes' was "ValueError: invalid literal for int() with base 10: 'yes'", after
    the whole cross-validation."""
    with pytest.raises(InputError) as info:
        cross_validate(*fusion_inputs, method="idw", refit=refit)
    message = str(info.value)
    assert message.startswith(f"cross_validate: refit={refit!r}")
    assert "expected True" in message and "or False" in message and "\n" not in message


@pytest.mark.parametrize("refit", [False, True, np.bool_(False)])
def test_cross_validate_refit_as_a_bool_keeps_its_result(fusion_inputs, refit):
    cv = cross_validate(*fusion_inputs, method="idw", refit=refit)
    assert cv.rmse.round(3).values.tolist() == [2.533, 0.544]
    assert cv.attrs["refit_variogram"] == int(bool(refit))


def test_mqi_network_names_an_infinite_mqi():
    """An infinite MQI was left out of the percentile as NaN is: a failing station hid."""
    v = xr.DataArray([0.2, np.inf, 0.5], dims="station", coords={"station": ["a", "b", "c"]})
    with pytest.raises(InputError, match=r"1 infinite MQI\(s\) at station b; expected MQIs"):
        mqi_network(v)
    assert int(mqi_network(v.where(np.isfinite(v))).n_stations) == 2  # NaN: left out, said
