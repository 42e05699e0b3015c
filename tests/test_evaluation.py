"""Tests of trajectoire.assess.evaluation and .stations: Chang & Hanna statistics, FAIRMODE MQI,
station files, station sampling and observations.

References are independent of the module: plain numpy formulas written here, small examples
worked by hand, and ``tests/data/fairmode_reference.csv`` (FAIRMODE v3.3 formulas evaluated
step by step in decimal arithmetic, see ``tests/data/README.md``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trajectoire.assess import evaluation, stations
from trajectoire.assess.evaluation import (
    CRITERIA,
    FAIRMODE_PARAMETERS,
    FairmodeParameters,
    acceptance,
    annual_uncertainty,
    evaluate,
    fairmode_parameters,
    measurement_uncertainty,
    mqi,
    mqi_network,
)
from trajectoire.assess.stations import (
    observations_from_table,
    read_stations,
    sample_at_stations,
    station_table,
)
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning, UnitsError

DATA = Path(__file__).parent / "data"


def da(values, dims=("time",), units="ug m-3", **coords):
    return xr.DataArray(
        np.asarray(values, dtype=float), dims=dims, coords=coords, attrs={"units": units}
    )


# ------------------------------------------------------------------ independent numpy
def ref_stats(o, p, threshold=0.0):
    """Plain numpy Chang & Hanna (2004) statistics on finite pairs (reference)."""
    o = np.asarray(o, float)
    p = np.asarray(p, float)
    ok = np.isfinite(o) & np.isfinite(p)
    o, p = o[ok], p[ok]
    mo, mp = o.mean(), p.mean()
    out = {
        "n": o.size,
        "mean_observed": mo,
        "mean_model": mp,
        "bias": mp - mo,
        "rmse": np.sqrt(np.mean((o - p) ** 2)),
        "r": _corr(o, p),
        "fb": (mo - mp) / (0.5 * (mo + mp)),
        "nmse": np.mean((o - p) ** 2) / (mo * mp),
        "nad": np.mean(np.abs(o - p)) / (mo + mp),
    }
    o_ok = (o >= threshold) & (o > 0)
    p_ok = (p >= threshold) & (p > 0)
    pos = o_ok & p_ok
    lo, lp = np.log(o[pos]), np.log(p[pos])
    out["mg"] = np.exp(np.mean(lo - lp))
    out["vg"] = np.exp(np.mean((lo - lp) ** 2))
    # FAC2 (Chang and Hanna 2004): over every pair but those with both values below the
    # threshold; a pair with one value 0 is outside the factor two
    counted = o_ok | p_ok
    within = [0.5 * oi <= pi <= 2.0 * oi and oi > 0 and pi > 0
              for oi, pi in zip(o[counted], p[counted], strict=True)]  # fmt: skip
    out["fac2"] = np.mean(within)
    out["n_fac2"] = counted.sum()
    out["n_below_threshold"] = o.size - pos.sum()
    return out


def _corr(o, p):
    with np.errstate(all="ignore"):
        return np.corrcoef(o, p)[0, 1]


positive = hnp.arrays(
    float,
    st.integers(3, 30),
    elements=st.floats(0.5, 500.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def pairs(draw):
    o = draw(positive)
    p = draw(hnp.arrays(float, o.shape, elements=st.floats(0.5, 500.0, allow_nan=False)))
    return o, p


# --------------------------------------------------------------- Chang & Hanna stats
def test_evaluate_hand_computed_example():
    """O = 10, 20, 30, 40; P = 12, 18, 33, 20, worked by hand (means 25 and 20.75)."""
    s = evaluate(da([12, 18, 33, 20]), da([10, 20, 30, 40]))
    assert float(s.fb) == pytest.approx(4.25 / 22.875)
    assert float(s.nmse) == pytest.approx(104.25 / 518.75)
    assert float(s.nad) == pytest.approx(6.75 / 45.75)
    assert float(s.fac2) == 1.0  # ratios 1.2, 0.9, 1.1, 0.5 (0.5 counts)
    assert float(s.mg) == pytest.approx(1.683502**0.25, rel=1e-6)
    assert float(s.vg) == pytest.approx(math.exp(0.533879 / 4), rel=1e-5)
    assert float(s.bias) == pytest.approx(-4.25)
    assert float(s.rmse) == pytest.approx(math.sqrt(104.25))
    assert int(s.n) == 4 and int(s.n_dropped_nan) == 0
    assert s.fb.attrs["units"] == "1" and s.rmse.attrs["units"] == "ug m-3"


@given(pairs())
def test_evaluate_matches_numpy_reference(op):
    o, p = op
    s = evaluate(da(p), da(o))
    ref = ref_stats(o, p)
    for k, v in ref.items():
        if k == "r" and not np.isfinite(v):
            continue
        assert float(s[k]) == pytest.approx(v, rel=1e-9, abs=1e-12), k


@given(pairs())
def test_fb_antisymmetric_and_bounds(op):
    o, p = op
    a = evaluate(da(p), da(o))
    b = evaluate(da(o), da(p))
    assert float(a.fb) == pytest.approx(-float(b.fb), abs=1e-12)
    assert float(a.mg) == pytest.approx(1.0 / float(b.mg), rel=1e-9)
    assert 0.0 <= float(a.fac2) <= 1.0
    assert float(a.nmse) >= float(a.nmse_min) * (1 - 1e-9) - 1e-12
    assert float(a.vg) >= float(a.vg_min) * (1 - 1e-9)
    assert float(a.nmse_min) == pytest.approx(4 * float(a.fb) ** 2 / (4 - float(a.fb) ** 2))


def test_threshold_and_nan_pairs_are_counted():
    o = da([0.0, 5.0, np.nan, 20.0, 0.2, 30.0])
    p = da([1.0, 6.0, 3.0, np.nan, 4.0, 15.0])
    s = evaluate(p, o, threshold=1.0)
    assert int(s.n) == 4 and int(s.n_dropped_nan) == 2
    assert int(s.n_below_threshold) == 2  # obs 0.0 and obs 0.2 are below 1
    # FAC2 over the 4 pairs: (0, 1) and (0.2, 4) have a prediction at or above the threshold
    # where nothing (0) or 1/20 of it is observed: outside the factor two, counted
    assert int(s.n_fac2) == 4 and float(s.fac2) == 0.5
    ref = ref_stats(o.values, p.values, threshold=1.0)
    for k in ("fb", "nmse", "mg", "vg", "fac2", "nad", "n_fac2"):
        assert float(s[k]) == pytest.approx(ref[k]), k


def test_evaluate_per_station_and_in_space():
    rng = np.random.default_rng(1)
    o = rng.uniform(5, 50, (3, 48))
    p = o * rng.uniform(0.6, 1.5, o.shape)
    coords = {"station": ["a", "b", "c"]}
    obs = da(o, dims=("station", "time"), **coords)
    mod = da(p, dims=("station", "time"), **coords)
    per_station = evaluate(mod, obs, dim="time")
    assert per_station.fb.dims == ("station",)
    for i, sid in enumerate("abc"):
        assert float(per_station.fb.sel(station=sid)) == pytest.approx(ref_stats(o[i], p[i])["fb"])
    in_space = evaluate(mod, obs, dim="station")
    assert in_space.nmse.dims == ("time",)
    pooled = evaluate(mod, obs, dim=("station", "time"))
    assert float(pooled.rmse) == pytest.approx(ref_stats(o.ravel(), p.ravel())["rmse"])
    assert int(pooled.n) == o.size


def test_evaluate_units_converted_and_checked():
    o = da([10.0, 20.0, 30.0])
    p = da([0.012, 0.018, 0.033], units="mg m-3")
    s = evaluate(p, o)
    assert float(s.mean_model) == pytest.approx(21.0)
    with pytest.raises(UnitsError, match="model"):
        evaluate(da([1.0, 2.0, 3.0], units="cm-3"), o)
    with pytest.raises(UnitsError, match="no units"):
        evaluate(xr.DataArray([1.0, 2.0, 3.0], dims="time"), o)


def test_evaluate_bad_inputs():
    o = da([1.0, 2.0, 3.0], time=[0, 1, 2])
    with pytest.raises(InputError, match="coordinates differ"):
        evaluate(da([1.0, 2.0, 3.0], time=[1, 2, 3]), o)
    with pytest.raises(InputError, match="same dims"):
        evaluate(da([1.0, 2.0, 3.0], dims=("year",)), o)
    with pytest.raises(MissingVariableError, match="dim"):
        evaluate(o, o, dim="station")
    with pytest.raises(InputError, match="threshold"):
        evaluate(o, o, threshold=-1.0)
    with pytest.raises(InputError, match="DataArray"):
        evaluate(np.ones(3), o)


def test_evaluate_dask_matches_eager():
    rng = np.random.default_rng(2)
    o = da(rng.uniform(1, 9, (4, 20)), dims=("station", "time"))
    p = da(rng.uniform(1, 9, (4, 20)), dims=("station", "time"))
    lazy = evaluate(p.chunk({"station": 2}), o.chunk({"station": 2}))
    assert lazy.fb.chunks is not None
    xr.testing.assert_allclose(lazy.compute().fb, evaluate(p, o).fb)
    with pytest.raises(InputError, match="one chunk"):
        evaluate(p.chunk({"time": 5}), o, dim="time")


def test_acceptance_booleans_per_criterion():
    s = evaluate(da([12, 18, 33, 20]), da([10, 20, 30, 40]))
    a = acceptance(s, "chang_hanna_2004")
    assert set(a.data_vars) == {"fac2", "fb", "mg", "nmse", "vg", "all"}
    assert bool(a["all"])
    bad = evaluate(da([1, 2, 3, 4]), da([10, 20, 30, 40]))
    for name in CRITERIA:
        res = acceptance(bad, name)
        assert not bool(res["all"]) and not bool(res["fb"])
    urban = acceptance(s, "hanna_chang_2012_urban")
    assert set(urban.data_vars) == {"fac2", "fb", "nmse", "nad", "all"}
    custom = acceptance(s, {"r": (0.9, None)})
    assert bool(custom["r"]) == (float(s.r) >= 0.9)
    with pytest.raises(InputError, match="unknown criteria"):
        acceptance(s, "nope")
    with pytest.raises(InputError, match="statistic"):
        acceptance(s, {"xyz": (0, 1)})


# --------------------------------------------------------------------------- FAIRMODE
def test_fairmode_parameters_v33_table():
    expect = {
        "NO2": (0.24, 200, 0.20, 5.2, 5.5),
        "O3": (0.18, 120, 0.79, 11, 3),
        "PM10": (0.28, 50, 0.25, 20, 1.5),
        "PM2.5": (0.36, 25, 0.50, 20, 1.5),
    }
    for pol, vals in expect.items():
        p = FAIRMODE_PARAMETERS[pol]
        assert (p.u_rv, p.rv, p.alpha, p.n_p, p.n_np) == vals
        assert "v3.3" in p.source
    assert fairmode_parameters("pm2_5") is FAIRMODE_PARAMETERS["PM2.5"]
    old = fairmode_parameters("PM10", alpha=0.13, n_p=30, n_np=0.25)
    assert (old.alpha, old.n_p, old.u_rv) == (0.13, 30, 0.28)
    with pytest.raises(InputError, match="SO2"):
        fairmode_parameters("SO2")
    with pytest.raises(InputError, match="override"):
        fairmode_parameters("NO2", beta=3)
    with pytest.raises(InputError, match="alpha"):
        FairmodeParameters(0.2, 10, 1.5, 1, 1)


def _reference_rows():
    table = pd.read_csv(DATA / "fairmode_reference.csv", dtype={"observed": str, "model": str})
    return [(name, g) for name, g in table.groupby("case", sort=False)]


@pytest.mark.reference
@pytest.mark.parametrize("group", _reference_rows(), ids=lambda g: g[0])
def test_fairmode_reference_table(group):
    """tests/data/fairmode_reference.csv: v3.3 formulas evaluated in decimal arithmetic."""
    case, rows = group
    first = rows.iloc[0]
    obs = [float(v) for v in str(first.observed).split(";")]
    expected = dict(zip(rows.quantity, rows.value, strict=True))
    if first.kind == "uncertainty":
        got = {"u": float(measurement_uncertainty(obs[0], first.pollutant))}
    elif first.kind == "timeseries":
        mod = [float(v) for v in str(first.model).split(";")]
        ds = mqi(da(mod), da(obs), pollutant=first.pollutant, beta=float(first.beta))
        got = {k: float(ds[k]) for k in expected}
    else:
        mod = [float(first.model)]
        ds = mqi(
            da(mod, dims=("station",)),
            da(obs, dims=("station",)),
            pollutant=first.pollutant,
            kind="annual",
            beta=float(first.beta),
        )
        got = {"u_annual": float(ds.u_annual[0]), "mqi": float(ds.mqi[0])}
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-10, abs=1e-11), (case, k)


@given(pairs(), st.sampled_from(list(FAIRMODE_PARAMETERS)))
def test_mqi_decomposition_and_beta_scaling(op, pol):
    o, p = op
    ds = mqi(da(p), da(o), pollutant=pol)
    terms = float(ds.mqi_bias) ** 2 + float(ds.mqi_std) ** 2 + float(ds.mqi_corr) ** 2
    assert float(ds.mqi) ** 2 == pytest.approx(terms, rel=1e-9, abs=1e-12)
    # the same with plain numpy: RMSE / (beta RMS_U)
    pr = FAIRMODE_PARAMETERS[pol]
    u = pr.u_rv * np.sqrt((1 - pr.alpha**2) * o**2 + pr.alpha**2 * pr.rv**2)
    ref = np.sqrt(np.mean((o - p) ** 2)) / (2 * np.sqrt(np.mean(u**2)))
    assert float(ds.mqi) == pytest.approx(ref, rel=1e-10)
    half = mqi(da(p), da(o), pollutant=pol, beta=1.0)
    assert float(half.mqi) == pytest.approx(2 * float(ds.mqi), rel=1e-12)
    assert float(ds.mpc_corr) == pytest.approx(float(ds.mqi_corr) ** 2)
    assert bool(ds.mqo_fulfilled) == (float(ds.mqi) <= 1)


def test_mqi_units_and_nan_and_errors():
    o = da([20.0, 40.0, np.nan, 30.0])
    p = da([0.025, 0.035, 0.05, 0.040], units="mg m-3")
    ds = mqi(p, o, pollutant="NO2")
    ref = mqi(da([25.0, 35.0, 40.0]), da([20.0, 40.0, 30.0]), pollutant="NO2")
    assert float(ds.mqi) == pytest.approx(float(ref.mqi))
    assert int(ds.n) == 3
    with pytest.raises(InputError, match="beta"):
        mqi(p, o, pollutant="NO2", beta=0)
    with pytest.raises(InputError, match="kind"):
        mqi(p, o, pollutant="NO2", kind="daily")  # type: ignore[arg-type]
    with pytest.raises(UnitsError):
        mqi(da([1.0, 2.0], units="cm-3"), da([1.0, 2.0], units="cm-3"), pollutant="NO2")


def test_mqi_annual_with_spatial_criteria():
    rng = np.random.default_rng(3)
    o = rng.uniform(15, 45, 12)
    m = o + rng.normal(0, 5, 12)
    ids = [f"s{i}" for i in range(12)]
    ds = mqi(
        da(m, dims=("station",), station=ids),
        da(o, dims=("station",), station=ids),
        pollutant="NO2",
        kind="annual",
    )
    pr = FAIRMODE_PARAMETERS["NO2"]
    u = pr.u_rv * np.sqrt((1 - pr.alpha**2) * o**2 / pr.n_p + pr.alpha**2 * pr.rv**2 / pr.n_np)
    np.testing.assert_allclose(ds.mqi.values, np.abs(o - m) / (2 * u), rtol=1e-12)
    rms = np.sqrt(np.mean(u**2))
    so, sm, r = o.std(), m.std(), np.corrcoef(o, m)[0, 1]
    assert float(ds.mpc_space_std) == pytest.approx(abs(sm - so) / (2 * rms))
    assert float(ds.mpc_space_corr) == pytest.approx(2 * so * sm * (1 - r) / (2 * rms) ** 2)
    # annual MQI from hourly series: averaged first
    hourly_o = da(np.tile(o, (5, 1)).T, dims=("station", "time"), station=ids)
    hourly_m = da(np.tile(m, (5, 1)).T, dims=("station", "time"), station=ids)
    again = mqi(hourly_m, hourly_o, pollutant="NO2", kind="annual")
    np.testing.assert_allclose(again.mqi.values, ds.mqi.values)


def test_uncertainty_functions():
    assert float(measurement_uncertainty(200.0, "NO2")) == pytest.approx(48.0)
    arr = da([0.0, 200.0])
    assert isinstance(measurement_uncertainty(arr, "NO2"), xr.DataArray)
    # zero concentration: alpha RV U_r
    assert float(measurement_uncertainty(0.0, "PM10")) == pytest.approx(0.28 * 0.25 * 50)
    assert float(annual_uncertainty(0.0, "NO2")) == pytest.approx(0.24 * 0.2 * 200 / math.sqrt(5.5))


def test_mqi_network_percentile():
    v = xr.DataArray([0.2, 0.5, 0.8, 1.4], dims="station")
    # S90 = 3.6: 0.8 + 0.6 (1.4 - 0.8) = 1.16 (worked by hand)
    net = mqi_network(v)
    assert float(net.mqi_percentile) == pytest.approx(1.16)
    assert not bool(net.mqo_fulfilled) and int(net.n_stations) == 4
    assert float(mqi_network(xr.DataArray([0.5], dims="station")).mqi_percentile) == pytest.approx(
        0.45
    )
    lin = mqi_network(v, method="linear")
    assert float(lin.mqi_percentile) == pytest.approx(np.percentile(v.values, 90))
    ten = xr.DataArray(np.r_[np.linspace(0.1, 0.9, 9), 3.0, np.nan], dims="station")
    assert float(mqi_network(ten).mqi_percentile) == pytest.approx(0.9)  # S90 = 9 exactly
    ds = mqi(
        da(np.ones((3, 4)) * [[1], [2], [3]], dims=("station", "time")),
        da(np.ones((3, 4)) * 2, dims=("station", "time")),
        pollutant="NO2",
    )
    assert "mqi_percentile" in mqi_network(ds)
    with pytest.raises(MissingVariableError):
        mqi_network(v, dim="time")
    with pytest.raises(InputError):
        mqi_network(v, percentile=0)


# ------------------------------------------------------------------------- sampling
def plane_field(nx=20, ny=15, x0=700_050.0, y0=7_060_050.0, res=100.0, extra=None):
    x = x0 + res * np.arange(nx)
    y = y0 - res * np.arange(ny)
    vals = 3.0 + 0.01 * (x[None, :] - x0) - 0.02 * (y[:, None] - y0)
    dims, coords = ("y", "x"), {"y": y, "x": x}
    if extra:
        vals = np.stack([vals * k for k in extra])
        dims, coords = ("year", "y", "x"), {"year": np.arange(len(extra)), "y": y, "x": x}
    return xr.DataArray(
        vals, dims=dims, coords=coords, attrs={"units": "ug m-3", "crs": "EPSG:2154"}
    )


def plane(x, y, x0=700_050.0, y0=7_060_050.0):
    return 3.0 + 0.01 * (np.asarray(x) - x0) - 0.02 * (np.asarray(y) - y0)


def test_sample_bilinear_reproduces_a_plane():
    f = plane_field(extra=[1.0, 2.0])
    rng = np.random.default_rng(4)
    sx = rng.uniform(700_050, 700_050 + 1900, 10)
    sy = rng.uniform(7_060_050 - 1400, 7_060_050, 10)
    st_ = pd.DataFrame({"station_id": [f"s{i}" for i in range(10)], "x": sx, "y": sy})
    out = sample_at_stations(f, st_)
    assert out.dims == ("year", "station")
    np.testing.assert_allclose(out.sel(year=1).values, 2 * plane(sx, sy), rtol=1e-12)
    assert list(out.station.values) == list(st_.station_id)
    assert out.attrs["units"] == "ug m-3" and out.attrs["sampling"] == "bilinear"


def test_sample_nearest_and_edges():
    f = plane_field()
    # a station in the outer half-cell: inside the grid, value held at the edge centre
    st_ = pd.DataFrame(
        {
            "station_id": ["edge", "mid"],
            "x": [700_010.0, 700_149.0],
            "y": [7_060_090.0, 7_059_951.0],
        }
    )
    near = sample_at_stations(f, st_, method="nearest")
    assert float(near.sel(station="mid")) == float(f.isel(y=1, x=1))
    bil = sample_at_stations(f, st_)
    assert float(bil.sel(station="edge")) == pytest.approx(float(f.isel(y=0, x=0)))


def test_sample_nan_neighbour_only_when_weighted():
    f = plane_field()
    f[0, 1] = np.nan
    on_centre = pd.DataFrame({"station_id": ["a"], "x": [700_050.0], "y": [7_060_050.0]})
    assert np.isfinite(float(sample_at_stations(f, on_centre)[0]))
    between = pd.DataFrame({"station_id": ["b"], "x": [700_100.0], "y": [7_060_050.0]})
    assert np.isnan(float(sample_at_stations(f, between)[0]))


def test_sample_outside_reported_not_dropped():
    f = plane_field()
    st_ = pd.DataFrame(
        {
            "station_id": ["in", "FR_OUT"],
            "x": [700_500.0, 690_000.0],
            "y": [7_059_500.0, 7_059_500.0],
        }
    )
    with pytest.raises(InputError, match="FR_OUT"):
        sample_at_stations(f, st_)
    with pytest.warns(TrajectoireWarning, match="FR_OUT"):
        out = sample_at_stations(f, st_, outside="nan")
    assert out.sizes["station"] == 2 and np.isnan(float(out.sel(station="FR_OUT")))


def test_stations_outside_the_grid_get_a_crs_hint():
    """GeoDataFrame points in EPSG:4326 on a field without attrs['crs'] are not reprojected:
    "outside the grid extent" now says why (the points' CRS, the missing attrs['crs'])."""
    gpd = pytest.importorskip("geopandas")
    f = plane_field()
    pts = gpd.GeoDataFrame(
        {"station_id": ["g"]}, geometry=gpd.points_from_xy([700_550.0], [7_059_550.0]),
        crs="EPSG:2154",
    ).to_crs("EPSG:4326")  # fmt: skip
    assert float(sample_at_stations(f, pts)[0]) == pytest.approx(
        float(
            sample_at_stations(
                f, pd.DataFrame({"station_id": ["g"], "x": [700_550.0], "y": [7_059_550.0]})
            )[0]
        )  # fmt: skip
    )
    bare = f.copy()
    bare.attrs.pop("crs")
    with pytest.raises(InputError, match=r"outside the grid extent .* points in EPSG:4326, but "
                       r"the field has no attrs\['crs'\]"):  # fmt: skip
        sample_at_stations(bare, pts)
    with_xy = pts.assign(x=pts.geometry.x, y=pts.geometry.y)  # degrees in x, y columns
    with pytest.raises(InputError, match=r"x, y columns are used as they are, but their "
                       r"points are in EPSG:4326 and the field in EPSG:2154"):  # fmt: skip
        sample_at_stations(f, with_xy)
    far = pd.DataFrame({"station_id": ["a"], "x": [0.0], "y": [0.0]})
    with pytest.raises(InputError, match=r"outside the grid extent .*: a\. Enlarge"):
        sample_at_stations(f, far)  # same CRS: no hint


def test_sample_bad_inputs():
    f = plane_field()
    ok = pd.DataFrame({"station_id": ["a"], "x": [700_500.0], "y": [7_059_500.0]})
    with pytest.raises(MissingVariableError, match="station_id"):
        sample_at_stations(f, ok.rename(columns={"station_id": "id"}))
    with pytest.raises(InputError, match="duplicated"):
        sample_at_stations(f, pd.concat([ok, ok]))
    with pytest.raises(InputError, match="non-finite"):
        sample_at_stations(f, ok.assign(x=np.nan))
    with pytest.raises(InputError, match="dims"):
        sample_at_stations(f.rename(x="lon"), ok)
    irregular = f.assign_coords(x=f.x.values + np.r_[0, 5, np.zeros(18)])
    with pytest.raises(InputError, match="regularly"):
        sample_at_stations(irregular, ok)


def test_sample_geodataframe_reprojected():
    import geopandas as gpd

    f = plane_field()
    pts = gpd.GeoDataFrame(
        {"station_id": ["a"]}, geometry=gpd.points_from_xy([700_500.0], [7_059_500.0]), crs=2154
    ).to_crs(4326)
    out = sample_at_stations(f, pts)
    assert float(out[0]) == pytest.approx(float(plane(700_500.0, 7_059_500.0)), rel=1e-9)


@pytest.mark.requires_shared
def test_sample_synthetic_plane_at_real_stations(shared_data):
    """A plane over the region sampled at the 44 real station positions (Lambert-93)."""
    table = pd.read_csv(shared_data / "stations" / "stations_hdf_lcsqa2021_rtelga.csv")
    stations = table.rename(columns={"code_station": "station_id", "x_l93": "x", "y_l93": "y"})
    x0, y0 = stations.x.min() - 5000, stations.y.max() + 5000
    res = 1000.0
    nx = int((stations.x.max() + 5000 - x0) / res) + 1
    ny = int((y0 - stations.y.min() + 5000) / res) + 1
    f = plane_field(nx=nx, ny=ny, x0=x0, y0=y0, res=res)
    out = sample_at_stations(f, stations[["station_id", "x", "y"]])
    np.testing.assert_allclose(out.values, plane(stations.x, stations.y, x0, y0), rtol=1e-9)
    s = evaluate(out, out.copy(), dim="station")
    assert float(s.fb) == 0.0 and float(s.fac2) == 1.0 and int(s.n) == len(stations)


# ------------------------------------------------------------------- tidy observations
def test_observations_from_table():
    t = pd.DataFrame(
        {
            "station_id": ["FR11016", "FR11016", "FR10004", "FR10004"],
            "year": [2019, 2020, 2020, 2020],
            "pollutant": ["NO2", "NO2", "NO2", "PM10"],
            "value": [30.0, 28.0, 41.0, 20.0],
        }
    )
    no2 = observations_from_table(t, pollutant="no2")
    assert no2.dims == ("year", "station") and no2.attrs["units"] == "ug m-3"
    assert float(no2.sel(year=2020, station="FR10004")) == 41.0
    assert np.isnan(float(no2.sel(year=2019, station="FR10004")))
    with pytest.raises(InputError, match="several pollutants"):
        observations_from_table(t)
    with pytest.raises(InputError, match="duplicated"):
        observations_from_table(pd.concat([t, t]), pollutant="NO2")
    with pytest.raises(InputError, match="column 'value': not a number: 'x' at row 0"):
        observations_from_table(t.assign(value=["x", 1, 2, 3]), pollutant="NO2")
    with pytest.raises(MissingVariableError, match="value"):
        observations_from_table(t.drop(columns="value"), pollutant="NO2")
    with pytest.raises(UnitsError):
        observations_from_table(t, pollutant="NO2", units="ppb")


def test_observations_from_table_shows_bad_values_and_refuses_non_finite():
    """A value that is not a number is shown as written (``'<1'``, was only its row), and an
    infinite one is refused (was kept, then counted with the NaN)."""
    t = pd.DataFrame({"station_id": ["a", "b", "c"], "year": 2020, "value": [30.0, 20.0, 1.0]})
    with pytest.raises(InputError, match=r"'value': not a number: '<1' at row 1; expected a"):
        observations_from_table(t.assign(value=["30", "<1", ""]))
    with pytest.raises(InputError, match=r"'value': not a number: inf at row 2"):
        observations_from_table(t.assign(value=[30.0, np.nan, np.inf]))
    assert observations_from_table(t.assign(value=["30", "", None])).count() == 1


# ---------------------------------------------------------------------- station files
STATIONS_CSV = """station_id,name,x,y,type,territory
FR11025,Lille Fives,706400.0,7059000.0,urban,MEL
007,Zero Seven,712800,7067800.5,rural,CAL
FR11016,Marcq CTM,705400.0,7063700.0,traffic,MEL
"""


def write(tmp_path, text, name="stations.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_stations_keeps_the_file(tmp_path):
    path = write(tmp_path, STATIONS_CSV)
    out = read_stations(path)
    plain = pd.read_csv(path)
    # every column, in the file's order; rows in the file's order; ids as written
    assert list(out.columns) == list(plain.columns)
    assert out["station_id"].tolist() == ["FR11025", "007", "FR11016"]
    assert isinstance(out.index, pd.RangeIndex) and out.index.tolist() == [0, 1, 2]
    assert out["x"].dtype == np.float64 and out["y"].dtype == np.float64
    np.testing.assert_array_equal(out["x"], plain["x"].to_numpy(float))
    np.testing.assert_array_equal(out["y"], plain["y"].to_numpy(float))
    assert out["name"].tolist() == plain["name"].tolist()
    assert out["territory"].tolist() == ["MEL", "CAL", "MEL"]
    # the same from a text file object, and the same table as station_table reads
    with path.open() as fh:
        pd.testing.assert_frame_equal(read_stations(fh), out)
    ids, x, y = station_table(out)
    assert ids == out["station_id"].tolist()
    np.testing.assert_array_equal(x, out["x"].to_numpy())
    np.testing.assert_array_equal(y, out["y"].to_numpy())


def test_read_stations_sample_file_as_the_pipeline_read_it():
    """The sample run's stations: ids, order and coordinates as ``pd.read_csv`` gives them."""
    path = Path(__file__).parents[1] / "data" / "sample" / "stations.csv"
    if not path.is_file():
        pytest.skip(f"{path} not generated")
    plain = pd.read_csv(path)
    out = read_stations(path)
    assert out["station_id"].tolist() == plain["station_id"].astype(str).tolist()
    np.testing.assert_array_equal(out["x"], plain["x"].to_numpy(float))
    np.testing.assert_array_equal(out["y"], plain["y"].to_numpy(float))


@pytest.mark.parametrize(
    ("text", "error", "parts"),
    [
        (
            "station_id,name,x\nA,a,1.0\n",
            MissingVariableError,
            ["stations.csv", "missing column", "'y'"],
        ),
        (
            "station_id,x,y\nA,1.0,2.0\nB,3.0,4.0\nA,5.0,6.0\n",
            InputError,
            ["stations.csv", "column 'station_id'", "duplicated", "A", "once"],
        ),
        (
            "station_id,x,y\nA,1.0,2.0\nB,abc,4.0\n",
            InputError,
            ["stations.csv", "column 'x'", "not a number", "'abc'", "B", "line 3", "expected"],
        ),
        (
            "station_id,x,y\nA,1.0,2.0\nB,3.0,\n",
            InputError,
            ["stations.csv", "'x'/'y'", "non-finite", "B", "line 3", "y=nan", "expected"],
        ),
        (
            "station_id,x,y\nA,1.0,2.0\n,3.0,4.0\n",
            InputError,
            ["stations.csv", "column 'station_id'", "no id", "line 3"],
        ),
        ("", InputError, ["stations.csv", "CSV", "station_id"]),
    ],
    ids=["missing-column", "duplicate-id", "non-numeric-x", "empty-y", "no-id", "empty-file"],
)
def test_read_stations_errors_name_the_fault(tmp_path, text, error, parts):
    path = write(tmp_path, text)
    with pytest.raises(error) as info:
        read_stations(path)
    for part in parts:
        assert part in str(info.value)


def test_read_stations_what_names_the_source(tmp_path):
    path = write(tmp_path, "station_id,x,y\nA,1.0,2.0\nA,3.0,4.0\n")
    with pytest.raises(InputError, match="run.toml: inputs.stations"):
        read_stations(path, what="run.toml: inputs.stations")


@given(
    st.lists(
        st.tuples(
            st.text("AZaz09_-", min_size=1, max_size=8),
            st.floats(-1e7, 1e7, allow_nan=False),
            st.floats(-1e7, 1e7, allow_nan=False),
        ),
        min_size=1,
        max_size=20,
        unique_by=lambda r: r[0],
    )
)
def test_read_stations_round_trip(tmp_path_factory, rows):
    """Ids come back as written (leading zeros kept), coordinates as pandas parses them."""
    ids = [r[0] for r in rows]
    text = "station_id,x,y\n" + "".join(f"{i},{x!r},{y!r}\n" for i, x, y in rows)
    path = write(tmp_path_factory.mktemp("st"), text)
    out = read_stations(path)
    plain = pd.read_csv(path)
    assert out["station_id"].tolist() == ids
    np.testing.assert_array_equal(out["x"], plain["x"].to_numpy(float))
    np.testing.assert_array_equal(out["y"], plain["y"].to_numpy(float))
    np.testing.assert_allclose(out["x"], [r[1] for r in rows], rtol=1e-15, atol=0)


def test_station_table_names_the_row_label():
    table = pd.DataFrame({"station_id": ["a", "b"], "x": [1.0, np.nan], "y": [2.0, 3.0]})
    with pytest.raises(InputError, match=r"b \(row 'r2': x=nan"):
        station_table(table.set_axis(["r1", "r2"]), what="my stations")
    with pytest.raises(
        InputError, match=r"column 'x': not a number: 'east' at row 1 \(station b\).*Fix the table"
    ):
        station_table(table.assign(x=["1.0", "east"]))
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        station_table({"station_id": ["a"]})  # type: ignore[arg-type]


def test_former_module_path_serves_both_modules():
    """``trajectoire.evaluation`` (before issue 11) holds the names of both new modules."""
    import trajectoire
    import trajectoire.evaluation as former

    for module in (evaluation, stations):
        for name in module.__all__:
            assert getattr(former, name) is getattr(module, name)
    assert trajectoire.evaluation.sample_at_stations is sample_at_stations
    assert trajectoire.sample_at_stations is sample_at_stations
    assert trajectoire.evaluate is evaluate and trajectoire.mqi is mqi
    assert trajectoire.assess.read_stations is read_stations


def test_evaluate_stations_rows_per_year_and_pollutant():
    """Issue 16: the run's evaluation table; NaN rows where nothing is observed."""
    from trajectoire.assess.evaluation import EVALUATION_STATISTICS, evaluate_stations

    rng = np.random.default_rng(3)
    coords = {"year": [2020, 2021], "station": list("abcd"), "pollutant": ["NO2", "SO2", "PM10"]}
    o = xr.DataArray(
        rng.uniform(10, 40, (2, 4, 3)),
        dims=("year", "station", "pollutant"),
        coords=coords,
        attrs={"units": "ug m-3"},
    )
    o[0, :, 2] = np.nan  # no PM10 in 2020
    o[1, 1:, 2] = np.nan  # one PM10 station in 2021
    m = (o * 1.2).assign_attrs(units="ug m-3")
    ev = evaluate_stations(m, o)["evaluation"]
    assert list(ev["statistic"].values) == list(EVALUATION_STATISTICS)
    row = ev.sel(year=2021, pollutant="NO2")
    assert float(row.sel(statistic="nmb")) == pytest.approx(0.2)
    assert float(row.sel(statistic="fac2")) == 1.0
    assert bool(ev.sel(year=2020, pollutant="PM10").isnull().all())
    one = ev.sel(year=2021, pollutant="PM10")
    assert int(one.sel(statistic="n")) == 1 and np.isnan(float(one.sel(statistic="mpc_space_std")))
    assert bool(ev.sel(pollutant="SO2", statistic="mqi_p90").isnull().all())  # no FAIRMODE MQI


@pytest.mark.parametrize("threshold", [None, "5", True, float("nan"), -1.0])
def test_evaluate_threshold_of_another_kind_is_one_input_error(threshold):
    """None and "5" were a bare TypeError from math.isfinite."""
    o = xr.DataArray([10.0, 20.0, 30.0], dims="time", attrs={"units": "ug m-3"})
    with pytest.raises(InputError, match="threshold must be a finite number >= 0"):
        evaluate(o * 1.1, o, threshold=threshold)


def test_mqi_network_of_a_dataset_without_mqi_names_what_it_has():
    """A dataset without 'mqi' (the observations given by mistake) was a bare KeyError."""
    obs = xr.Dataset({"no2": ("station", [10.0, 20.0])})
    with pytest.raises(MissingVariableError, match=r"no 'mqi' variable \(it has \['no2'\]\)"):
        mqi_network(obs)


# ------------------------------------------------- zeros in FAC2, MG and VG (probe 15, #2)
def test_fac2_counts_a_model_of_zero_as_outside_the_factor_two():
    """8 stations of 10 with a model of 0 and 2 within the factor two: FAC2 = 2/10 (it was
    2/2 = 1.0: the pairs with a 0 left both the numerator and the denominator). MG and VG,
    undefined with a 0, are taken over the 2 other pairs and say how many they leave out."""
    obs = np.array([20.0, 25.0, 30.0, 22.0, 18.0, 27.0, 24.0, 21.0, 26.0, 19.0])
    mod = np.array([18.0, 24.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    s = evaluate(da(mod, dims="station"), da(obs, dims="station"), dim="station")
    by_hand = np.mean((mod >= 0.5 * obs) & (mod <= 2.0 * obs))
    assert by_hand == 0.2 and float(s.fac2) == pytest.approx(by_hand)
    assert int(s.n) == 10 and int(s.n_fac2) == 10 and int(s.n_below_threshold) == 8
    assert float(s.mg) == pytest.approx(math.exp(np.mean(np.log(obs[:2] / mod[:2]))))
    assert "n_fac2" in s.fac2.attrs["long_name"]


def test_fac2_of_zeros_on_either_side_and_on_both():
    """A model above 0 where 0 is observed is outside (C_p/C_o infinite); a pair with both
    values 0 says nothing either way and is left out of FAC2 (counted out of n_fac2)."""
    o = da([0.0, 0.0, 10.0, 10.0], dims="station")
    p = da([5.0, 0.0, 10.0, 0.0], dims="station")
    s = evaluate(p, o, dim="station")
    assert int(s.n) == 4 and int(s.n_fac2) == 3 and float(s.fac2) == pytest.approx(1 / 3)
    assert int(s.n_below_threshold) == 3  # MG, VG: the pair (10, 10) only
    assert float(s.mg) == 1.0 and float(s.vg) == 1.0
    # a threshold: both values below it (0.5 and 0.8 < 1) is no information either way
    s = evaluate(da([0.8, 12.0], dims="station"), da([0.5, 10.0], dims="station"),
                 dim="station", threshold=1.0)  # fmt: skip
    assert int(s.n_fac2) == 1 and float(s.fac2) == 1.0


def test_the_run_table_counts_the_pairs_behind_fac2_mg_and_vg():
    """evaluate_stations (the run's evaluation table) has the counts as rows."""
    from trajectoire.assess.evaluation import EVALUATION_STATISTICS, evaluate_stations

    assert {"n_below_threshold", "n_fac2", "n_mqo_met"} <= set(EVALUATION_STATISTICS)
    obs = [20.0, 25.0, 30.0, 22.0, 18.0, 27.0, 24.0, 21.0, 26.0, 19.0]
    mod = [18.0, 24.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    o = xr.DataArray(
        np.array(obs)[None, :, None],
        dims=("year", "station", "pollutant"),
        coords={"year": [2019], "station": [f"s{i}" for i in range(10)], "pollutant": ["NO2"]},
        attrs={"units": "ug m-3"},
    )
    row = evaluate_stations(o.copy(data=np.array(mod)[None, :, None]), o)["evaluation"]
    row = row.sel(year=2019, pollutant="NO2")
    assert float(row.sel(statistic="fac2")) == pytest.approx(0.2)
    assert float(row.sel(statistic="n_fac2")) == 10
    assert float(row.sel(statistic="n_below_threshold")) == 8
    assert float(row.sel(statistic="n_mqo_met")) == 2  # the two stations modelled near


def test_cross_validate_counts_a_prediction_set_to_zero_as_a_failure():
    """Leave-one-out predictions clipped to 0 (a correction below 0) are failed predictions:
    the fused-stage FAC2 is 3/5 (it was 3/3 = 1.0)."""
    from trajectoire.assess import cross_validate

    x = 600_500.0 + 1000 * np.arange(10)
    y = 7_050_500.0 - 1000 * np.arange(10)
    field = np.full((10, 10), 10.0)
    field[0:3, 0:3] = 100.0  # a modelled hot spot in one corner
    model = xr.DataArray(field, dims=("y", "x"), coords={"y": y, "x": x},
                         attrs={"units": "ug m-3"})  # fmt: skip
    st_ = pd.DataFrame({"station_id": list("abcde"), "x": x[[0, 2, 1, 4, 9]],
                        "y": y[[0, 2, 1, 4, 9]]})  # fmt: skip
    obs = xr.DataArray([20.0, 22.0, 21.0, 12.0, 11.0], dims="station",
                       coords={"station": list("abcde")}, attrs={"units": "ug m-3"})  # fmt: skip
    cv = cross_validate(model, obs, st_, method="idw")
    pred, o = cv.loo_prediction.values, obs.values
    assert (pred == 0).sum() == 2
    by_hand = np.mean((pred >= o / 2) & (pred <= 2 * o))
    assert by_hand == pytest.approx(0.6)
    assert float(cv.fac2.sel(stage="fused")) == pytest.approx(by_hand)
    assert int(cv.n_fac2.sel(stage="fused")) == 5


# --------------------------------------------------- small networks and the MQO (#4)
def test_a_network_of_one_failing_station_does_not_meet_the_objective():
    """One station with MQI 1.07: MQI90 = 0.9 x 1.07 = 0.96 <= 1, but 90 % of one station is
    that station, which fails: mqo_fulfilled is False (was True), and the output says why."""
    net = mqi_network([1.0721])
    assert float(net.mqi_percentile) == pytest.approx(0.9 * 1.0721)
    assert not bool(net.mqo_fulfilled)
    assert bool(net.small_network) and int(net.n_fulfilled) == 0
    assert "fewer than 10 stations" in net.attrs["mqo_rule"]
    three = mqi_network([0.27, 0.46, 1.07])  # MQI90 = 0.888: one station of three fails
    assert float(three.mqi_percentile) < 1.0 and not bool(three.mqo_fulfilled)
    assert int(three.n_fulfilled) == 2
    assert bool(mqi_network([0.27, 0.46, 0.99]).mqo_fulfilled)


def test_ten_stations_or_more_keep_the_percentile_verdict():
    """From 10 stations one may fail (90 %): the FAIRMODE MQI90 <= 1 decides."""
    ten = mqi_network(np.r_[np.linspace(0.1, 0.9, 9), 3.0])
    assert float(ten.mqi_percentile) == pytest.approx(0.9)
    assert bool(ten.mqo_fulfilled) and not bool(ten.small_network)
    assert int(ten.n_fulfilled) == 9 and int(ten.n_stations) == 10
    nine = mqi_network(np.r_[np.linspace(0.1, 0.8, 8), 3.0])
    assert bool(nine.small_network) and not bool(nine.mqo_fulfilled)


def test_the_run_table_of_a_one_station_network():
    """The probe's DOUAISIS run: one NO2 station observed at 9.0, modelled near 0 (MQI
    1.07): mqi_p90 0.96, mqo_fulfilled 0 (was 1), n_mqo_met 0, the rule in mqo_rule."""
    from trajectoire.assess.evaluation import evaluate_stations

    o = xr.DataArray(
        [[[9.0]]],
        dims=("year", "station", "pollutant"),
        coords={"year": [2019], "station": ["FR06003"], "pollutant": ["NO2"]},
        attrs={"units": "ug m-3"},
    )
    ev = evaluate_stations(o * 0.0 + 0.0066, o)
    row = ev["evaluation"].sel(year=2019, pollutant="NO2")
    u = 0.24 * math.sqrt((1 - 0.2**2) * 81 / 5.2 + 0.2**2 * 200**2 / 5.5)
    assert float(ev["station_mqi"].squeeze()) == pytest.approx((9.0 - 0.0066) / (2 * u))
    assert float(row.sel(statistic="mqi_p90")) < 1.0
    assert float(row.sel(statistic="mqo_fulfilled")) == 0.0
    assert float(row.sel(statistic="n_mqo_met")) == 0.0
    assert "fewer than 10 stations" in ev["evaluation"].attrs["mqo_rule"]


# ------------------------------------------------ a units column in observations (#1)
def test_observations_in_ppb_and_ng_are_converted_by_their_units_column():
    """The ``units`` column was ignored for mass species: NO2 in ppb was read as ug m-3
    (1.9125 times too low). It is converted as the background table converts it."""
    t = pd.DataFrame(
        {
            "station_id": ["FR11016", "FR11025", "FR10004"],
            "year": 2019,
            "pollutant": "NO2",
            "value": [15.69, 20.92, 31000.0],
            "units": ["ppb", "ppb", "ng m-3"],
        }
    )
    no2 = observations_from_table(t, pollutant="NO2")
    assert no2.attrs["units"] == "ug m-3"
    np.testing.assert_allclose(
        no2.sel(year=2019, station=["FR11016", "FR11025", "FR10004"]).values,
        [15.69 * 1.9125, 20.92 * 1.9125, 31.0],
        rtol=1e-4,
    )


def test_observations_units_column_agrees_with_the_background_conversion(tmp_path):
    """The same rule as background.csv: the same factor for ppb, ppm (gases)."""
    from trajectoire.dispersion import read_background

    bg = tmp_path / "bg.csv"
    bg.write_text("year,pollutant,value,units\n2019,NO2,10,ppb\n2019,SO2,10,ppm\n")
    ref = read_background(bg)
    for pol, unit in (("NO2", "ppb"), ("SO2", "ppm")):
        t = pd.DataFrame({"station_id": ["a"], "year": [2019], "pollutant": [pol],
                          "value": [10.0], "units": [unit]})  # fmt: skip
        got = float(observations_from_table(t, pollutant=pol).squeeze())
        assert got == pytest.approx(float(ref.sel(year=2019, pollutant=pol)), rel=1e-12)


@pytest.mark.parametrize(
    ("unit", "value", "parts"),
    [
        ("furlong", 20.0, ("obs.csv ([inputs] observations)", "line 3", "column 'units'",
                           "'furlong'", "expected one of", "ug m-3")),
        ("cm-3", 20.0, ("line 3", "column 'units'", "'cm-3'", "never mix")),
        ("", 20.0, ("line 3", "column 'units'", "empty", "20", "ppb")),
    ],
)  # fmt: skip
def test_an_unknown_unit_in_the_observations_is_one_line(unit, value, parts):
    t = pd.DataFrame({"station_id": ["a", "b"], "year": 2019, "pollutant": "NO2",
                      "value": [10.0, value], "units": ["ug m-3", unit]})  # fmt: skip
    with pytest.raises(UnitsError) as err:
        observations_from_table(t, pollutant="NO2", what="obs.csv ([inputs] observations)",
                                lines=True)  # fmt: skip
    text = str(err.value)
    assert "\n" not in text
    for part in parts:
        assert part in text, (part, text)
    # a row without a value needs no unit
    t = t.assign(value=[10.0, np.nan], units=["ug m-3", ""])
    assert observations_from_table(t, pollutant="NO2").count() == 1


def test_the_run_log_says_why_a_small_network_misses_and_what_mg_leaves_out(caplog):
    """The run's log says, when it writes the table, the years a network of fewer than 10
    stations misses the objective while MQI90 <= 1, and the stations MG and VG leave out."""
    import logging

    from trajectoire.assess.evaluation import evaluate_stations
    from trajectoire.batch.runner import _log_evaluation

    o = xr.DataArray(
        [[[9.0], [20.0]]],
        dims=("year", "station", "pollutant"),
        coords={"year": [2019], "station": ["a", "b"], "pollutant": ["NO2"]},
        attrs={"units": "ug m-3"},
    )
    m = o.copy(data=[[[0.0], [19.0]]])  # a: model 0, MQI 1.07; b: MQI 0.07
    ev = evaluate_stations(m, o)
    row = ev["evaluation"].sel(year=2019, pollutant="NO2")
    assert float(row.sel(statistic="mqi_p90")) <= 1.0
    assert float(row.sel(statistic="mqo_fulfilled")) == 0.0
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        _log_evaluation(ev)
    assert "NO2: the network of fewer than 10 stations misses the objective" in caplog.text
    assert "stations meeting it: 1 of 2" in caplog.text
    assert "row n_below_threshold: 1 of 2 in 2019" in caplog.text
