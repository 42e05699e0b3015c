"""User thresholds and quantiles of the exposure statistics in a run (issue 16).

``[exposure] thresholds`` adds labelled reference values to the built-in ones and
``[exposure] quantiles`` chooses the population-weighted quantiles written; the run uses them
for ``exposure_quantile``, ``inhabitants_above`` and ``zone_inhabitants_above``. Checked on
one year of the small sample run of ``test_pipeline.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.assess.exposure import EXPOSURE_THRESHOLDS, WHO_2021_GUIDELINES
from trajectoire.config import load_config
from trajectoire.errors import ConfigError

#: A user threshold with the values of WHO 2021: it must count the same inhabitants.
SAME_AS_WHO = (
    '"same as WHO" = { NO2 = 10.0, PM10 = 15.0, "PM2.5" = 5.0 }, "NO2 25" = { NO2 = 25.0 }'
)


def _with_exposure(tmp, body: str):
    path = small_config(tmp)
    path.write_text(path.read_text() + f"\n[exposure]\n{body}\n")
    return path


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    body = f"thresholds = {{ {SAME_AS_WHO} }}\nquantiles = [0.1, 0.5, 0.9]"
    cfg = load_config(_with_exposure(tmp_path_factory.mktemp("exposure"), body))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # zones outside the small grid
        ctx = P.prepare(cfg)
        return P.compute_year(ctx, 2018)


def test_user_threshold_equal_to_a_builtin_counts_the_same(year):
    ds = year
    labels = [str(t) for t in ds["threshold"].values]
    # the particle-number level comes after the user's labels, in a run with UFP
    number = ["WHO2021_GPS"] if "pollutant_number" in ds.dims else []
    assert labels == [*EXPOSURE_THRESHOLDS, "same as WHO", "NO2 25", *number]
    above = ds["inhabitants_above"]
    mine, who = above.sel(threshold="same as WHO"), above.sel(threshold="WHO2021")
    np.testing.assert_array_equal(mine.values, who.values)
    assert float(who.sel(pollutant="NO2").sum()) > 0  # the comparison is not of zeros
    zone = ds["zone_inhabitants_above"]
    np.testing.assert_array_equal(
        zone.sel(threshold="same as WHO").values, zone.sel(threshold="WHO2021").values
    )
    values = ds["exposure_threshold"]
    for pol, v in WHO_2021_GUIDELINES.items():
        assert float(values.sel(threshold="same as WHO", pollutant=pol)) == v
    assert float(values.sel(threshold="NO2 25", pollutant="NO2")) == 25.0
    assert bool(values.sel(threshold="NO2 25", pollutant="PM10").isnull())
    # 25 lies between WHO's 10 and EU 2008's 40: the counts are ordered the same way
    no2 = above.sel(pollutant="NO2")
    assert bool((no2.sel(threshold="NO2 25") <= no2.sel(threshold="WHO2021")).all())
    assert bool((no2.sel(threshold="NO2 25") >= no2.sel(threshold="EU2008")).all())


def test_user_quantiles_are_written(year):
    q = year["exposure_quantile"]
    assert q["quantile"].values.tolist() == [0.1, 0.5, 0.9]
    v = q.sel(pollutant="NO2").values  # (year, territory, quantile)
    assert np.all(np.diff(v, axis=-1) >= 0)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("quantiles = [0.05, 1.5]", r"\[exposure\] quantiles: 1.5 is not a probability"),
        ("quantiles = [0.5, 0.05]", r"\[exposure\] quantiles: .*not increasing"),
        ("quantiles = [0.5, 0.5]", r"\[exposure\] quantiles: .*without repeats"),
        ("quantiles = []", r"\[exposure\] quantiles: expected a non-empty list"),
        (
            'thresholds = { "mine" = { XX = 3.0 } }',
            r"\[exposure.thresholds\] 'mine': unknown pollutant 'XX'",
        ),
        (
            'thresholds = { "mine" = { NO2 = -3.0 } }',
            r"\[exposure.thresholds\] 'mine' NO2: -3.0 is not a concentration.*> 0",
        ),
        (
            'thresholds = { "mine" = { NO2 = "high" } }',
            r"\[exposure.thresholds\] 'mine' NO2: 'high' is not a number",
        ),
        ('thresholds = { "WHO2021" = { NO2 = 5.0 } }', r"'WHO2021' is a built-in label"),
        ("quantile = [0.5]", r"unknown key 'quantile'.*Did you mean 'quantiles'"),
    ],
)
def test_bad_exposure_config_is_one_clear_error(tmp_path, body, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        load_config(_with_exposure(tmp_path, body))
    assert "more problem" not in str(info.value)  # one error, not a cascade


def test_calm_fraction_keeps_its_units_without_calms(tmp_path):
    """A frequency table without ``calm_fraction`` (a user's own) gives NaN with the
    variable's units and name, not a bare NaN: a run whose first year has none wrote the
    variable without units."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(load_config(small_config(tmp_path)))
        ctx.met = ctx.met.drop_vars("calm_fraction")
        ds = P.compute_year(ctx, 2018)
    calm = ds["calm_fraction"]
    assert np.isnan(calm.values).all()
    assert calm.attrs["units"] == "1" and calm.attrs["long_name"] == "fraction of calm hours"
