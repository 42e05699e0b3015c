"""``[meteo] mixing_height``: the scheme of the hourly mixing heights of a run (issue 14).

The scheme function is checked against the closed form of the mechanical height written
here in plain numpy; the run's wiring on the sample's meteorology (one year of frequency
tables from ``pipeline._meteorology``) and on the annual kernel of a ground source.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from test_pipeline import small_config
from trajectoire import InputError, TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.dispersion import annual_kernel
from trajectoire.errors import ConfigError
from trajectoire.meteo.profiles import (
    DEFAULT_MIXING_HEIGHT,
    MIXING_HEIGHT_SCHEMES,
    mixing_height_scheme,
)

YEAR = 2018


def hours(zi=None, z0: float = 0.5) -> xr.Dataset:
    """Six hours, one per class, winds 0.2 (a calm) to 9 m s-1."""
    ds = xr.Dataset(
        {
            "wind_speed": ("time", [0.2, 2.0, 3.0, 4.0, 6.0, 9.0]),
            "stability": ("time", list("ABCDEF")),
        },
        attrs={"roughness_length": z0},
    )
    if zi is not None:
        ds["mixing_height"] = ("time", np.asarray(zi, dtype=float))
    return ds


def venkatram(u: np.ndarray, z0: float, calm: float = 0.5) -> np.ndarray:
    """2300 u*^1.5 with the neutral u* = 0.4 u / ln(10 / z0), calms raised (reference)."""
    ustar = 0.4 * np.maximum(u, calm) / math.log(10.0 / z0)
    return 2300.0 * ustar**1.5


# ------------------------------------------------------------------------ the function
def test_auto_keeps_the_data_and_classes_drops_it() -> None:
    ds = hours([900.0, np.nan, 700.0, 500.0, 300.0, 150.0])
    assert mixing_height_scheme(ds, "auto") is ds
    assert mixing_height_scheme(hours(), "auto")["wind_speed"].size == 6
    out = mixing_height_scheme(ds, "classes")
    assert "mixing_height" not in out and "mixing_height" in ds


def test_mechanical_heights_are_the_formula_for_d_e_f_only() -> None:
    ds = hours([900.0, 800.0, 700.0, 500.0, 300.0, 150.0], z0=0.3)
    zi = mixing_height_scheme(ds, "mechanical", calm_threshold=0.5)["mixing_height"].values
    want = venkatram(ds["wind_speed"].values, 0.3)
    assert np.isnan(zi[:3]).all()  # A-C: the class defaults (the data ignored)
    np.testing.assert_allclose(zi[3:], want[3:], rtol=1e-13)
    # 4 m s-1 over z0 = 0.5 m: 897.7 m (docs/meteorology.md)
    assert mixing_height_scheme(hours(), "mechanical")["mixing_height"].values[3] == pytest.approx(
        897.7, abs=0.05
    )


@settings(max_examples=30, deadline=None)
@given(
    u=st.lists(st.floats(0.0, 30.0), min_size=6, max_size=6),
    z0=st.floats(0.001, 2.0),
)
def test_mechanical_height_grows_as_u_to_the_three_halves(u, z0) -> None:
    ds = hours(z0=z0).assign(wind_speed=("time", np.asarray(u)))
    zi = mixing_height_scheme(ds, "mechanical")["mixing_height"].values[3:]
    np.testing.assert_allclose(zi, venkatram(np.asarray(u), z0)[3:], rtol=1e-12)
    # doubling the wind (above the calm threshold) multiplies the height by 2^1.5
    fast = ds.assign(wind_speed=("time", 2.0 * np.maximum(np.asarray(u), 0.5)))
    zi2 = mixing_height_scheme(fast, "mechanical")["mixing_height"].values[3:]
    np.testing.assert_allclose(zi2, 2.0**1.5 * zi, rtol=1e-12)


def test_data_without_a_mixing_height_is_one_clear_line() -> None:
    with pytest.raises(
        InputError,
        match=re.escape('meteo.csv: [meteo] mixing_height = "data" but the meteorology has no'),
    ):
        mixing_height_scheme(hours(), "data", what="meteo.csv")


def test_data_with_missing_hours_says_how_many() -> None:
    ds = hours([900.0, np.nan, 700.0, np.nan, 300.0, 150.0])
    with pytest.warns(TrajectoireWarning, match=r"2 of 6 hour\(s\) have no mixing height"):
        out = mixing_height_scheme(ds, "data")
    np.testing.assert_array_equal(out["mixing_height"].values, ds["mixing_height"].values)


def test_unknown_scheme_is_an_error() -> None:
    with pytest.raises(InputError, match=r"'blh'.*\[meteo\] mixing_height"):
        mixing_height_scheme(hours(), "blh")
    assert MIXING_HEIGHT_SCHEMES == ("auto", "data", "classes", "mechanical")


# -------------------------------------------------------------------------- the config
def test_config_default_is_auto_and_a_wrong_value_names_the_key(tmp_path) -> None:
    assert load_config(small_config(tmp_path)).meteo.mixing_height == "auto"
    over = {r"^calm_threshold = 0\.5": 'calm_threshold = 0.5\nmixing_height = "blh"'}
    with pytest.raises(ConfigError, match=re.escape("[meteo] mixing_height: received 'blh'")):
        load_config(small_config(tmp_path, **over))


# ----------------------------------------------------------------------------- the run
def _tables(tmp_path, scheme: str, extra: str = "") -> xr.Dataset:
    new = f'calm_threshold = 0.5\nmixing_height = "{scheme}"{extra}'
    over = {r"^calm_threshold = 0\.5": new}
    cfg = load_config(small_config(tmp_path, **over))
    assert cfg.meteo.mixing_height == scheme
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        met, _ = P._meteorology(cfg, [YEAR])
    return met.sel(year=YEAR)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, xr.Dataset]:
    tmp = tmp_path_factory.mktemp("zi")
    return {s: _tables(tmp, s) for s in ("auto", "classes", "mechanical")}


def test_run_tables_follow_the_scheme(tables, tmp_path) -> None:
    # the sample's meteorology has no mixing height: auto = classes, and "data" stops
    xr.testing.assert_equal(tables["auto"], tables["classes"])
    with pytest.raises(InputError, match=re.escape('[meteo] mixing_height = "data"')):
        _tables(tmp_path, "data")
    zi = tables["mechanical"]["mixing_height"]
    freq = tables["mechanical"]["frequency"]
    for c in "ABC":  # the class defaults (means of equal values: round-off)
        np.testing.assert_allclose(zi.sel(stability=c).values, DEFAULT_MIXING_HEIGHT[c], rtol=1e-12)
    for c in "DEF":
        used = zi.sel(stability=c).values[freq.sel(stability=c).values > 0]
        assert used.size and np.isfinite(used).all()  # a lid instead of none (E, F)
    # a speed class's lid rises with its wind (2300 u*^1.5): D, lowest against highest used
    d = zi.sel(stability="D").where(freq.sel(stability="D") > 0).mean("direction")
    assert float(d.isel(speed=0)) < float(d.dropna("speed").isel(speed=-1))


def test_run_kernel_changes_as_the_lids_do(tables) -> None:
    """Ground source: the same kernel near the source (lids far above the plume), higher far
    from it with the mechanical lids (stable plumes confined below a few hundred metres)."""
    k = {
        s: annual_kernel(tables[s], resolution=250.0, radius=10_000.0).values
        for s in ("classes", "mechanical")
    }
    n = k["classes"].shape[0] // 2
    near = k["mechanical"][n, n + 1] / k["classes"][n, n + 1]
    far = k["mechanical"][n, -1] / k["classes"][n, -1]
    assert near == pytest.approx(1.0, abs=0.02)
    assert far > 1.1
    total = {s: float(k[s].sum()) for s in k}
    assert total["mechanical"] > total["classes"]


def test_run_applies_the_urban_stable_adjustment(tables, tmp_path) -> None:
    """``[meteo] urban_stable_adjustment = true`` reaches the run's tables: no E or F hour,
    their frequency moved to D, the other classes unchanged."""
    urban = _tables(tmp_path, "classes", "\nurban_stable_adjustment = true")
    rural = tables["classes"]["frequency"]
    freq = urban["frequency"]
    assert float(freq.sel(stability=["E", "F"]).sum()) == 0.0
    assert float(rural.sel(stability=["E", "F"]).sum()) > 0.1
    merged = rural.sel(stability=["D", "E", "F"]).sum("stability")
    d = freq.sel(stability="D")
    # per direction above the lowest speed class; the calms (lowest class) are spread over
    # the directions like D's slow hours, so only their total over the directions is kept
    np.testing.assert_allclose(d.isel(speed=slice(1, None)), merged.isel(speed=slice(1, None)),
                               rtol=1e-12, atol=1e-15)  # fmt: skip
    np.testing.assert_allclose(d.sum("direction"), merged.sum("direction"), rtol=1e-12)
    xr.testing.assert_equal(freq.sel(stability=list("ABC")), rural.sel(stability=list("ABC")))
