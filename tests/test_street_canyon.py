"""Street-canyon increment (OSPM-like, trajectoire.dispersion.roads.street_canyon_increment).

References: the direct term against scipy's quadrature of the crosswind line sources it
integrates, a case computed by hand (values in the comments), and the limits: wind along the
street (no recirculation, both facades equal), inverse proportionality to the wind at high
wind, the 1/W scaling of the recirculation in the skimming regime, leeward above windward.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from trajectoire.dispersion.roads import street_canyon_increment, traffic_turbulence
from trajectoire.errors import InputError

PER_KM = 1e6 / (365.25 * 86400.0) / 1000.0  # t yr-1 km-1 -> g m-1 s-1


def _canyon(u, wd, **kw):
    args = {"emission": 10.0, "width": 20.0, "building_height": 20.0, "orientation": 0.0}
    args.update(kw)
    return street_canyon_increment(u, wd, **args)


def test_hand_computed_case():
    # H = W = 20 m, street north-south, wind 5 m s-1 from the west (across the street),
    # no traffic turbulence, 10 t yr-1 km-1:
    #   u_t = 5 ln(20/0.5)/ln(10/0.5) = 6.15689 m s-1; u_b = u_t ln(2/0.6)/ln(20/0.6) = 2.11396
    #   sigma_w = 0.1 u_b = 0.211396; sigma_v = 0.1 u_t = 0.615689
    #   L_r = 40 m >= W: P = 20, P_r = 20 (the vortex covers the street), l_r = 20, L_t = 20
    #   q_a = q / W; D(20) = sqrt(2/pi) q_a / sigma_w ln(1 + 0.1 * 20 / 2) = ... ln 2
    #   leeward (west facade = left) = D(20) + q_a / sigma_v; windward = q_a / sigma_v
    q_a = 10.0 * PER_KM / 20.0
    ut = 5.0 * math.log(40.0) / math.log(20.0)
    ub = ut * math.log(2.0 / 0.6) / math.log(20.0 / 0.6)
    assert ut == pytest.approx(6.15689, rel=1e-5)
    assert ub == pytest.approx(2.11396, rel=1e-5)
    d20 = math.sqrt(2.0 / math.pi) * q_a / (0.1 * ub) * math.log(2.0)
    cr = q_a / (0.1 * ut)
    c = _canyon(5.0, 270.0)
    assert float(c.sel(side="left")[0]) == pytest.approx((d20 + cr) * 1e6, rel=1e-12)
    assert float(c.sel(side="right")[0]) == pytest.approx(cr * 1e6, rel=1e-12)
    # q_a = 10 t/yr/km / 20 m = 1.5844e-5 g m-2 s-1: D(20) = 0.79788 * 1.5844e-5 / 0.211396
    # * 0.693147 = 41.45 ug m-3 and C_r = 1.5844e-5 / 0.615689 = 25.73 ug m-3
    assert float(c.sel(side="left")[0]) == pytest.approx(67.18, abs=0.01)
    assert float(c.sel(side="right")[0]) == pytest.approx(25.73, abs=0.01)


def test_direct_term_is_the_integral_of_crosswind_line_sources():
    # along the path each strip dx emits q_a dx; a ground-level crosswind line source of that
    # strength at distance x gives sqrt(2/pi) q_a dx / (u_b sigma_z(x)) with
    # sigma_z = h0 + sigma_w x / u_b (OSPM), integrated over the path in the vortex
    u, swt, h0 = 3.0, 0.3, 2.0
    c = _canyon(u, 270.0, building_height=10.0, width=30.0, traffic_turbulence=swt,
                initial_height=h0)  # fmt: skip
    q_a = 10.0 * PER_KM / 30.0
    ut = u * math.log(10.0 / 0.5) / math.log(20.0)
    ub = ut * math.log(2.0 / 0.6) / math.log(10.0 / 0.6)
    sw = math.hypot(0.1 * ub, swt)
    sv = math.hypot(0.1 * ut, swt)
    lr = 2.0 * 10.0  # u_t > 2 m s-1
    direct, _ = quad(lambda x: math.sqrt(2 / math.pi) * q_a / (ub * (h0 + sw * x / ub)), 0.0, lr)
    behind, _ = quad(lambda x: math.sqrt(2 / math.pi) * q_a / (ub * (h0 + sw * x / ub)), 0.0, 10.0)
    cr = q_a * lr / (sv * min(30.0, lr / 2.0))
    assert float(c.sel(side="left")[0]) == pytest.approx((direct + cr) * 1e6, rel=1e-9)
    assert float(c.sel(side="right")[0]) == pytest.approx((behind + cr) * 1e6, rel=1e-9)


@pytest.mark.parametrize("orientation", [0.0, 37.0, 120.0])
def test_wind_along_the_street_no_recirculation(orientation):
    # both facades get the same direct plume over the street length, no vortex term
    c = _canyon([4.0, 4.0], [orientation, orientation + 180.0], orientation=orientation,
                street_length=150.0)  # fmt: skip
    np.testing.assert_allclose(c.sel(side="left"), c.sel(side="right"), rtol=1e-9)
    ut = 4.0 * math.log(40.0) / math.log(20.0)
    ub = ut * math.log(2.0 / 0.6) / math.log(20.0 / 0.6)
    q_a = 10.0 * PER_KM / 20.0
    d = math.sqrt(2 / math.pi) * q_a / (0.1 * ub) * math.log1p(0.1 * 150.0 / 2.0)
    np.testing.assert_allclose(c.sel(side="left"), d * 1e6, rtol=1e-9)


def test_inverse_to_the_wind_at_high_wind():
    u = np.array([3.0, 6.0, 12.0, 24.0])
    for wd in (270.0, 300.0, 200.0):
        c = _canyon(u, np.full(4, wd))
        prod = c.values * u[:, None]
        np.testing.assert_allclose(prod, prod[:1].repeat(4, axis=0), rtol=1e-12)
    # with traffic turbulence C u tends to the same constant as u grows
    free = _canyon(30.0, 270.0).values * 30.0
    c = _canyon(np.array([30.0, 60.0]), np.array([270.0, 270.0]), traffic_turbulence=0.3)
    prod = c.values * np.array([30.0, 60.0])[:, None]
    assert np.all(prod < free)
    assert np.all(np.abs(prod[1] / free - 1) < np.abs(prod[0] / free - 1))
    assert np.all(np.abs(prod[1] / free - 1) < 0.01)


@settings(max_examples=30, deadline=None)
@given(w1=st.floats(3.0, 9.0), w2=st.floats(3.0, 9.0), u=st.floats(2.5, 15.0))
def test_recirculation_scales_as_one_over_width_when_skimming(w1, w2, u):
    # H = 20 m: L_r = 40 m >= 2 W for W <= 20 m; across the street the windward facade gets
    # only the recirculation, q / (W sigma_v): W C is the same for every width
    a = _canyon(u, 270.0, width=w1).sel(side="right")
    b = _canyon(u, 270.0, width=w2).sel(side="right")
    assert float(a[0]) * w1 == pytest.approx(float(b[0]) * w2, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    u=st.floats(0.5, 20.0),
    off=st.floats(-80.0, 80.0),
    width=st.floats(8.0, 60.0),
    height=st.floats(4.0, 40.0),
    swt=st.floats(0.0, 0.5),
    k=st.floats(0.1, 10.0),
)
def test_properties(u, off, width, height, swt, k):
    # wind from the west within 80 degrees of across a north-south street: C > 0 on both
    # facades, linear in the emission, and the mirrored wind swaps the facades; straight
    # across with a vortex covering the street (L_r = 2H >= W, u_t > 2 m s-1), the west
    # facade (left, leeward) gets more than the windward one
    wd = 270.0 + off
    kw = {"width": width, "building_height": height, "traffic_turbulence": swt}
    c = _canyon(u, wd, **kw)
    left, right = float(c.sel(side="left")[0]), float(c.sel(side="right")[0])
    assert left > 0 and right > 0
    across = _canyon(max(u, 3.0), 270.0, **{**kw, "building_height": max(height, width / 2)})
    assert float(across.sel(side="left")[0]) > float(across.sel(side="right")[0])
    c2 = _canyon(u, wd, emission=10.0 * k, **kw)
    np.testing.assert_allclose(c2.values, k * c.values, rtol=1e-12)
    mirrored = _canyon(u, (90.0 - off) % 360.0, **kw)
    assert float(mirrored.sel(side="right")[0]) == pytest.approx(left, rel=1e-9)
    assert float(mirrored.sel(side="left")[0]) == pytest.approx(right, rel=1e-9)


def test_annual_mean_and_missing_hours():
    c = _canyon([4.0, np.nan, 2.0], [270.0, 90.0, np.nan])
    assert np.isnan(c.values[1:]).all()
    assert c.mean("case", skipna=True).values == pytest.approx(c.values[0])
    assert c.attrs["units"] == "ug m-3"


def test_traffic_turbulence():
    # b sqrt(N V S / W): 20 000 veh/day, 30 km/h, 15 m2, 20 m -> 0.3 sqrt(0.2315*8.333*15/20)
    got = float(traffic_turbulence(20000.0, 20.0))
    assert got == pytest.approx(0.3 * math.sqrt(20000 / 86400 * (30 / 3.6) * 15 / 20), rel=1e-12)
    with pytest.raises(InputError, match="width=0"):
        traffic_turbulence(1000.0, 0.0)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"width": -5.0}, r"width=-5\.0: expected a finite number > 0"),
        ({"building_height": 0.3}, r"building_height=0\.3 m; expected above street_roughness"),
        ({"emission": float("nan")}, r"emission=nan"),
        ({"traffic_turbulence": -0.1}, r"traffic_turbulence=-0\.1"),
        ({"roughness_length": 15.0}, r"roughness_length=15\.0 m: expected below the anemometer"),
        ({"orientation": "north"}, r"orientation='north': expected a number"),
    ],
)
def test_bad_inputs(kw, match):
    with pytest.raises(InputError, match=match):
        _canyon(3.0, 270.0, **kw)
    with pytest.raises(InputError, match="wind_speed has 2 values and wind_direction 1"):
        _canyon([3.0, 4.0], [270.0])
    with pytest.raises(InputError, match="wind_speed: negative"):
        _canyon([-3.0], [270.0])


def test_roadside_values_uses_the_canyon_for_the_nearest_link():
    import geopandas as gpd
    from shapely.geometry import LineString

    from trajectoire.dispersion.roads import roadside_values
    from trajectoire.geo.grid import Grid
    from trajectoire.meteo.classes import met_classes

    rng = np.random.default_rng(3)
    n = 200
    times = pd.date_range("2019-01-01", periods=n, freq="h")
    import xarray as xr

    met = xr.Dataset(
        {
            "wind_speed": ("time", rng.uniform(1.5, 8.0, n)),
            "wind_direction": ("time", rng.integers(0, 36, n) * 10.0),
            "stability": ("time", rng.choice(list("CD"), n)),
        },
        coords={"time": times},
    )
    freq = met_classes(met, calm_threshold=1.0)
    grid = Grid(0.0, 0.0, 200.0, 200.0, 30, 30, "EPSG:2154")
    road = gpd.GeoDataFrame(
        {"road_id": ["a"], "NOx": [8.0], "aadt": [15000.0]},
        geometry=[LineString([(3000.0, 500.0), (3000.0, 5500.0)])],
        crs="EPSG:2154",
    )
    points = pd.DataFrame({"id": ["s"], "x": [3008.0], "y": [3000.0], "canyon_width": [16.0],
                           "building_height": [18.0], "orientation": [0.0], "side": ["right"]})  # fmt: skip
    out = roadside_values(road, freq, grid, points, pollutants=["NOx"], hourly_met=met)
    row = out.iloc[0]
    canyon = _canyon(met["wind_speed"].values, met["wind_direction"].values, emission=8.0,
                     width=16.0, building_height=18.0,
                     traffic_turbulence=float(traffic_turbulence(15000.0, 16.0)))  # fmt: skip
    assert row["canyon"] == pytest.approx(float(canyon.sel(side="right").mean()), rel=1e-12)
    assert row["roadside_increment"] == pytest.approx(
        row["increment"] - row["own_line"] + row["canyon"], rel=1e-12
    )
    bad = points.assign(side="middle")
    with pytest.raises(InputError, match="column 'side': 'middle'"):
        roadside_values(road, freq, grid, bad, pollutants=["NOx"], hourly_met=met)
    with pytest.raises(InputError, match="need hourly_met"):
        roadside_values(road, freq, grid, points, pollutants=["NOx"])
    # the checks of `trajectoire streets --points` apply to a table given from Python (a
    # negative height or a text width went into the canyon's formulas)
    for column, value, said in (
        ("building_height", -18.0, "column 'building_height': -18 at row 0 (s); expected a "
                                   "number > 0 m"),
        ("canyon_width", "16 m", "column 'canyon_width': not a number: '16 m' at row 0 (s)"),
        ("orientation", np.nan, "row 0 (s): street-canyon column(s) ['orientation'] empty"),
    ):  # fmt: skip
        with pytest.raises(InputError, match=re.escape(said)):
            roadside_values(road, freq, grid, points.assign(**{column: [value]}),
                            pollutants=["NOx"], hourly_met=met)  # fmt: skip
    assert points["canyon_width"].tolist() == [16.0]  # the caller's table is left as it was


def test_cli_streets_needs_roads_and_meteo(tmp_path, capsys):
    from fake_pipeline import write_config
    from trajectoire.cli import main

    cfg = write_config(tmp_path)
    assert main(["streets", str(cfg), "--run", str(tmp_path / "out.nc")]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1
    assert "[inputs] roads is needed for roadside values" in err[0]
