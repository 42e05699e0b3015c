"""Tests of trajectoire.assess.fusion (IDW kernel, variogram, kriging, fusion, cross-validation).

The references are plain numpy implementations written here from the textbook equations
(Shepard 1968; Cressie 1993 section 3.2), not calls to the module.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trajectoire._kernels.idw import idw
from trajectoire.assess import fusion
from trajectoire.assess.fusion import (
    FusionOptions,
    Variogram,
    cross_validate,
    empirical_variogram,
    fit_variogram,
    fuse,
    idw_interpolate,
    krige,
    kriging_weights,
)
from trajectoire.errors import InputError, TrajectoireWarning


# ------------------------------------------------------------------- numpy references
def ref_idw(sx, sy, v, tx, ty, power, radius, fill=0.0):
    out = np.full(tx.size, fill)
    for t in range(tx.size):
        d = np.hypot(tx[t] - sx, ty[t] - sy)
        ok = (d <= radius) & np.isfinite(v)
        if not ok.any():
            continue
        if (d[ok] == 0).any():
            out[t] = v[ok][d[ok] == 0].mean()
            continue
        w = d[ok] ** -power
        out[t] = (w * v[ok]).sum() / w.sum()
    return out


def ref_gamma(h, model, c0, c, a):
    h = np.asarray(h, float)
    if model == "exponential":
        g = c0 + c * (1 - np.exp(-h / a))
    else:
        s = np.minimum(h / a, 1)
        g = c0 + c * (1.5 * s - 0.5 * s**3)
    return np.where(h > 0, g, 0.0)


def ref_ordinary_kriging(sx, sy, v, tx, ty, model, c0, c, a):
    """Ordinary kriging point by point with np.linalg.solve (Cressie 1993, eq. 3.2.12)."""
    n = sx.size
    G = np.ones((n + 1, n + 1))
    G[:n, :n] = ref_gamma(np.hypot(sx[:, None] - sx, sy[:, None] - sy), model, c0, c, a)
    G[n, n] = 0.0
    est, var = [], []
    for x0, y0 in zip(tx, ty, strict=True):
        g0 = np.append(ref_gamma(np.hypot(sx - x0, sy - y0), model, c0, c, a), 1.0)
        sol = np.linalg.solve(G, g0)
        est.append(sol[:n] @ v)
        var.append(sol[:n] @ g0[:n] + sol[n])
    return np.array(est), np.array(var)


stations_xy = hnp.arrays(
    float, st.tuples(st.integers(3, 8), st.just(2)), elements=st.floats(0, 1000), unique=True
)


# ------------------------------------------------------------------------------- IDW
def test_idw_kernel_matches_numpy_and_py_func():
    rng = np.random.default_rng(0)
    sx, sy = rng.uniform(0, 1000, 7), rng.uniform(0, 1000, 7)
    v = rng.normal(size=(2, 7))
    v[1, 3] = np.nan
    tx, ty = rng.uniform(-200, 1200, 50), rng.uniform(-200, 1200, 50)
    tx[0], ty[0] = sx[2], sy[2]
    for power, radius in ((2.0, math.inf), (1.0, 300.0), (3.5, 600.0)):
        out = np.empty((2, 50))
        idw(tx, ty, sx, sy, v, power, radius, 0.0, out)
        for f in range(2):
            np.testing.assert_allclose(
                out[f], ref_idw(sx, sy, v[f], tx, ty, power, radius), rtol=1e-12
            )
    small = np.empty((2, 5))
    idw.py_func(tx[:5], ty[:5], sx, sy, v, 2.0, 400.0, 0.0, small)
    np.testing.assert_allclose(small, idw_interpolate(sx, sy, v, tx[:5], ty[:5], radius=400.0))


@given(
    hnp.arrays(float, 6, elements=st.floats(-100, 100)),
    hnp.arrays(float, 6, elements=st.floats(-100, 100)),
    st.floats(-3, 3),
    st.floats(0.5, 4),
)
def test_idw_is_linear_in_the_values(v1, v2, a, power):
    sx = np.array([0.0, 100, 250, 400, 20, 330])
    sy = np.array([0.0, 50, 300, 120, 400, 390])
    tx = np.linspace(-50, 450, 9)
    ty = np.linspace(420, -30, 9)
    f = lambda v: idw_interpolate(sx, sy, v, tx, ty, power=power, radius=350.0)  # noqa: E731
    np.testing.assert_allclose(f(a * v1 + v2), a * f(v1) + f(v2), atol=1e-9 * (1 + abs(a)) * 100)


@given(
    hnp.arrays(float, 7, elements=st.floats(-50, 50)),
    st.permutations(list(range(7))),
    st.floats(0.5, 4),
)
def test_idw_is_a_weighted_mean_invariant_to_station_order(v, perm, power):
    sx = np.array([0.0, 120, 250, 400, 20, 330, 510])
    sy = np.array([0.0, 50, 300, 120, 400, 390, 80])
    tx, ty = np.linspace(-40, 560, 11), np.linspace(430, -20, 11)
    out = idw_interpolate(sx, sy, v, tx, ty, power=power)
    assert (out >= v.min() - 1e-9).all() and (out <= v.max() + 1e-9).all()
    p = np.array(perm)
    np.testing.assert_allclose(
        idw_interpolate(sx[p], sy[p], v[p], tx, ty, power=power), out, atol=1e-9
    )


def test_idw_exact_at_stations_and_zero_beyond_radius():
    sx, sy, v = np.array([0.0, 100.0]), np.array([0.0, 0.0]), np.array([2.0, -1.0])
    np.testing.assert_array_equal(idw_interpolate(sx, sy, v, sx, sy), v)
    far = idw_interpolate(sx, sy, v, [5000.0], [0.0], radius=1000.0)
    assert far[0] == 0.0
    with pytest.raises(InputError, match="power"):
        idw_interpolate(sx, sy, v, sx, sy, power=0)
    with pytest.raises(InputError, match="shape"):
        idw_interpolate(sx, sy, v[:1], sx, sy)


# ------------------------------------------------------------------------ variogram
def test_variogram_models_and_validation():
    e = Variogram("exponential", 0.5, 2.0, 100.0)
    np.testing.assert_allclose(e([0, 100, 1e9]), [0.0, 0.5 + 2 * (1 - math.exp(-1)), 2.5])
    assert e.practical_range == 300.0 and e.total_sill == 2.5
    s = Variogram("spherical", 0.0, 1.0, 100.0)
    assert s(50.0) == pytest.approx(0.6875) and s(150.0) == 1.0
    np.testing.assert_allclose(s.covariance([0.0, 200.0]), [1.0, 0.0])
    for bad in (
        ("gaussian", 0, 1, 1),
        ("exponential", -1, 1, 1),
        ("exponential", 0, 0, 1),
        ("exponential", 0, 1, -5),
    ):
        with pytest.raises(InputError):
            Variogram(*bad)  # type: ignore[arg-type]


def test_empirical_variogram_hand_example():
    emp = empirical_variogram([0, 1, 3], [0, 0, 0], [0.0, 2.0, 2.0], n_lags=3, max_lag=3.0)
    # pairs: d=1 (0,2) -> 2; d=3 (0,2) -> 2; d=2 (2,2) -> 0
    assert emp.lag.tolist() == [1.0, 2.0, 3.0]
    assert emp.gamma.tolist() == [2.0, 0.0, 2.0]
    assert emp.n_pairs.tolist() == [1, 1, 1]


@pytest.mark.parametrize("model", ["exponential", "spherical"])
def test_variogram_fit_recovers_noise_free_parameters(model):
    true = Variogram(model, nugget=0.3, sill=2.0, range=800.0)
    lag = np.linspace(100, 2000, 15)
    fitted = Variogram.fit(lag, true(lag), np.full(15, 30), model)
    assert fitted.nugget == pytest.approx(0.3, abs=1e-4)
    assert fitted.sill == pytest.approx(2.0, rel=1e-4)
    assert fitted.range == pytest.approx(800.0, rel=1e-4)


def test_variogram_fit_recovers_parameters_of_a_random_field():
    """Exponential field (sill 4, range 500 m, no nugget) on 400 random points.

    One realisation gives a noisy empirical variogram (the range of a single one is often off
    by a factor 2), so the empirical variograms of 8 independent realisations on the same
    points are averaged before the weighted least-squares fit; a single-realisation fit is
    checked more loosely.
    """
    rng = np.random.default_rng(42)
    x, y = rng.uniform(0, 10_000, 400), rng.uniform(0, 10_000, 400)
    d = np.hypot(x[:, None] - x, y[:, None] - y)
    chol = np.linalg.cholesky(4.0 * np.exp(-d / 500.0) + 1e-9 * np.eye(400))
    fields = [chol @ rng.normal(size=400) for _ in range(8)]
    emps = [empirical_variogram(x, y, z, n_lags=15, max_lag=3000.0) for z in fields]
    gamma = np.mean([e.gamma for e in emps], axis=0)
    vg = Variogram.fit(emps[0].lag, gamma, emps[0].n_pairs * 8)
    assert vg.range == pytest.approx(500.0, rel=0.2)
    assert vg.total_sill == pytest.approx(4.0, rel=0.15)
    assert vg.nugget < 0.1 * vg.total_sill
    one = fit_variogram(x, y, fields[0], n_lags=15, max_lag=3000.0)
    assert 250.0 < one.range < 1000.0 and 2.0 < one.total_sill < 8.0


def test_variogram_range_is_bounded_by_the_largest_class_lag_as_documented():
    """fit_variogram's docstring and docs/fusion.md: the range lies in [h_max/100,
    10 h_max], h_max the largest lag of the empirical variogram (the mean distance of its
    last class), not `max_lag`. A linear trend has no sill: the fit runs to the bound."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10_000, 60), rng.uniform(0, 10_000, 60)
    emp = empirical_variogram(x, y, x / 100.0, max_lag=5000.0)
    h_max = float(emp.lag.max())
    assert h_max < 5000.0
    vg = fit_variogram(x, y, x / 100.0, max_lag=5000.0)
    assert vg.range == pytest.approx(10 * h_max, rel=1e-6)
    doc = fit_variogram.__doc__ or ""
    assert "10 max_lag" not in doc and "largest lag of the empirical variogram" in doc


def test_constant_residuals_are_kriged_to_the_constant():
    rng = np.random.default_rng(1)
    x, y, v = rng.uniform(0, 1000, 8), rng.uniform(0, 1000, 8), np.full(8, 2.0)
    vg = fit_variogram(x, y, v, n_lags=4)
    est, var = krige(x, y, v, [10.0, 1e6], [10.0, 0.0], vg)
    np.testing.assert_allclose(est, 2.0, rtol=1e-9)
    np.testing.assert_allclose(var, 0.0, atol=1e-9)


def test_tiny_networks_use_one_class_per_pair():
    emp = empirical_variogram([0, 1, 3], [0, 0, 0], [0.0, 2.0, 2.0])
    assert emp.lag.tolist() == [1.0, 2.0, 3.0] and emp.n_pairs.tolist() == [1, 1, 1]
    vg = fit_variogram([0.0, 1000.0, 3000.0], [0.0, 0.0, 500.0], [1.0, 2.0, 4.0])
    assert isinstance(vg, Variogram)


def test_variogram_fit_needs_three_stations_and_finite_values():
    with pytest.raises(InputError, match="at least 3"):
        fit_variogram([0, 1], [0, 0], [1.0, 2.0])
    with pytest.raises(InputError, match="NaN"):
        fit_variogram([0, 1, 2], [0, 0, 0], [1.0, np.nan, 2.0])


# -------------------------------------------------------------------------- kriging
@given(stations_xy, st.sampled_from(["exponential", "spherical"]))
def test_ordinary_kriging_weights_sum_to_one(xy, model):
    vg = Variogram(model, 0.1, 1.0, 300.0)
    tx, ty = np.array([10.0, 500.0, 2000.0]), np.array([900.0, 500.0, -400.0])
    w = kriging_weights(xy[:, 0], xy[:, 1], tx, ty, vg)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-8)


@pytest.mark.parametrize("model", ["exponential", "spherical"])
def test_kriging_matches_independent_numpy(model):
    # 1-D: stations on a line
    sx, sy = np.array([0.0, 1.0, 3.0]), np.zeros(3)
    v = np.array([1.0, 3.0, 2.0])
    tx, ty = np.array([0.5, 2.0, 5.0]), np.zeros(3)
    est, var = krige(sx, sy, v, tx, ty, Variogram(model, 0.0, 1.0, 2.0))
    ref_e, ref_v = ref_ordinary_kriging(sx, sy, v, tx, ty, model, 0.0, 1.0, 2.0)
    np.testing.assert_allclose(est, ref_e, rtol=1e-12)
    np.testing.assert_allclose(var, ref_v, rtol=1e-12)
    # 2-D with a nugget
    rng = np.random.default_rng(5)
    sx, sy, v = rng.uniform(0, 1000, 6), rng.uniform(0, 1000, 6), rng.normal(size=6)
    tx, ty = rng.uniform(0, 1000, 20), rng.uniform(0, 1000, 20)
    est, var = krige(sx, sy, v, tx, ty, Variogram(model, 0.2, 1.5, 400.0), block=7)
    ref_e, ref_v = ref_ordinary_kriging(sx, sy, v, tx, ty, model, 0.2, 1.5, 400.0)
    np.testing.assert_allclose(est, ref_e, rtol=1e-10)
    np.testing.assert_allclose(var, ref_v, rtol=1e-10)


def test_kriging_exact_at_stations_and_far_field():
    rng = np.random.default_rng(6)
    sx, sy, v = rng.uniform(0, 1000, 5), rng.uniform(0, 1000, 5), rng.normal(2, 1, 5)
    vg = Variogram("exponential", 0.3, 1.0, 100.0)
    for kind in ("ordinary", "simple"):
        est, var = krige(sx, sy, v, sx, sy, vg, kind=kind)
        np.testing.assert_allclose(est, v, atol=1e-12)
        np.testing.assert_allclose(var, 0.0, atol=1e-12)
    far_x, far_y = np.array([1e6]), np.array([1e6])
    est, var = krige(sx, sy, v, far_x, far_y, vg, kind="simple")
    assert est[0] == pytest.approx(0.0, abs=1e-12)  # the known mean: the model is kept
    assert var[0] == pytest.approx(vg.total_sill)
    # ordinary kriging tends to the GLS mean 1' G^-1 v / 1' G^-1 1 (C = covariance matrix)
    C = vg.covariance(np.hypot(sx[:, None] - sx, sy[:, None] - sy))
    ci = np.linalg.solve(C, np.ones(5))
    est, _ = krige(sx, sy, v, far_x, far_y, vg)
    assert est[0] == pytest.approx(ci @ v / ci.sum(), rel=1e-9)


def test_kriging_bad_input():
    vg = Variogram("exponential", 0.0, 1.0, 100.0)
    with pytest.raises(InputError, match="same position"):
        krige([0, 0, 1], [0, 0, 1], [1.0, 2.0, 3.0], [0.5], [0.5], vg)
    with pytest.raises(InputError, match="NaN"):
        krige([0, 1], [0, 1], [1.0, np.nan], [0.5], [0.5], vg)
    with pytest.raises(InputError, match="kind"):
        krige([0, 1], [0, 1], [1.0, 2.0], [0.5], [0.5], vg, kind="universal")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- fusion
def grid_model(nyear=1, nx=30, ny=25, res=100.0, units="ug m-3"):
    x = 700_050.0 + res * np.arange(nx)
    y = 7_060_050.0 - res * np.arange(ny)
    base = 20.0 + 0.002 * (x[None, :] - x[0]) + 0.001 * (y[:, None] - y[-1])
    vals = np.stack([base * (1 + 0.1 * k) for k in range(nyear)])
    return xr.DataArray(
        vals,
        dims=("year", "y", "x"),
        coords={"year": 2018 + np.arange(nyear), "y": y, "x": x},
        attrs={"units": units, "crs": "EPSG:2154"},
    )


def stations_at_centres(model, cells):
    x = model.x.values[[c for _, c in cells]]
    y = model.y.values[[r for r, _ in cells]]
    return pd.DataFrame({"station_id": [f"FR{i:05d}" for i in range(len(cells))], "x": x, "y": y})


CELLS = [(2, 3), (5, 20), (12, 8), (20, 25), (22, 2), (8, 14), (15, 17)]


def observations(model, stations, seed=7, scale=1.0):
    rng = np.random.default_rng(seed)
    vals = 22 + scale * rng.normal(size=(model.sizes["year"], len(stations)))
    return xr.DataArray(
        vals,
        dims=("year", "station"),
        coords={"year": model.year.values, "station": stations.station_id.values},
        attrs={"units": "ug m-3"},
    )


@pytest.mark.parametrize("method", ["kriging", "idw"])
@pytest.mark.parametrize("mode", ["additive", "multiplicative"])
def test_fuse_exact_at_stations(method, mode):
    model = grid_model(nyear=2)
    stations = stations_at_centres(model, CELLS)
    obs = observations(model, stations)
    ds = fuse(model, obs, stations, method=method, mode=mode)
    at = ds.fused.isel(
        y=xr.DataArray([r for r, _ in CELLS], dims="station"),
        x=xr.DataArray([c for _, c in CELLS], dims="station"),
    )
    np.testing.assert_allclose(at.transpose("year", "station").values, obs.values, rtol=1e-10)
    assert ds.fused.dims == model.dims and ds.fused.attrs["units"] == "ug m-3"
    if method == "kriging":
        assert (ds.kriging_variance >= 0).all()
        assert ds.variogram_range.dims == ("year",)


def test_fuse_far_from_stations_keeps_the_model():
    model = grid_model(nx=60, ny=10)
    stations = stations_at_centres(model, [(2, 1), (5, 3), (8, 2), (1, 4)])
    obs = observations(model, stations)
    far = {"x": slice(40, None)}
    idw_ds = fuse(model, obs, stations, method="idw", radius=800.0)
    xr.testing.assert_equal(
        idw_ds.fused.isel(far), model.isel(far).rename(None).assign_attrs(idw_ds.fused.attrs)
    )
    vg = Variogram("exponential", 0.0, 1.0, 200.0)
    sk = fuse(model, obs, stations, variogram=vg, kriging="simple")
    np.testing.assert_allclose(sk.correction.isel(far).values, 0.0, atol=1e-6)
    ok = fuse(model, obs, stations, variogram=vg, kriging="ordinary")
    corr = ok.correction.isel(far).values
    np.testing.assert_allclose(corr, corr.flat[0], atol=1e-6)  # a constant: the mean residual


def test_fuse_units_of_model_kept():
    model_mg = grid_model() * 1e-3
    model_mg.attrs = {"units": "mg m-3", "crs": "EPSG:2154"}
    stations = stations_at_centres(model_mg, CELLS)
    obs = observations(model_mg, stations)
    ds = fuse(model_mg, obs, stations, method="idw")
    at = ds.fused.isel(
        y=xr.DataArray([r for r, _ in CELLS], dims="station"),
        x=xr.DataArray([c for _, c in CELLS], dims="station"),
    )
    np.testing.assert_allclose(at.values * 1e3, obs.values, rtol=1e-10)
    assert ds.fused.attrs["units"] == "mg m-3" and ds.correction.attrs["units"] == "mg m-3"


def test_fuse_skips_nan_observations():
    model = grid_model(nyear=2)
    stations = stations_at_centres(model, CELLS)
    obs = observations(model, stations)
    obs[0, 1] = np.nan
    ds = fuse(model, obs, stations, method="idw")
    assert np.isfinite(ds.fused).all()


def test_fuse_bad_inputs():
    model = grid_model()
    stations = stations_at_centres(model, CELLS)
    obs = observations(model, stations)
    outside = stations.copy()
    outside.loc[0, "x"] = 600_000.0
    with pytest.raises(InputError, match="FR00000"):
        fuse(model, obs, outside)
    with pytest.warns(TrajectoireWarning, match="outside"):
        fuse(model, obs, outside, method="idw", outside="nan")
    nan_xy = stations.copy()
    nan_xy.loc[2, "y"] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        fuse(model, obs, nan_xy)
    few = stations.iloc[:2]
    with pytest.raises(InputError, match="at least 3"):
        fuse(model, obs.isel(station=slice(0, 2)), few)
    with pytest.raises(InputError, match="not in the stations"):
        fuse(model, obs, stations.iloc[1:])
    twin = pd.concat([stations, stations.iloc[:1].assign(station_id="twin")], ignore_index=True)
    obs_twin = xr.concat([obs, obs.isel(station=[0]).assign_coords(station=["twin"])], "station")
    with pytest.raises(InputError, match="same position"):
        fuse(model, obs_twin, twin)
    negative = model.copy()
    negative[:] = -1.0
    with pytest.raises(InputError, match="multiplicative"):
        fuse(negative, obs, stations, mode="multiplicative")
    with pytest.raises(InputError, match="method"):
        fuse(model, obs, stations, method="spline")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the keyword group
ALL_IDW = {"method": "idw", "mode": "multiplicative", "variogram": "spherical",
           "kriging": "simple", "power": 3.0, "radius": 900.0, "n_lags": 3,
           "max_lag": 1500.0, "sampling": "nearest", "outside": "raise"}  # fmt: skip


def test_fusion_keywords_keep_their_meaning():
    # the ten keywords of FusionOptions given one by one, as before: against numpy
    model = grid_model()
    stations = stations_at_centres(model, CELLS)
    obs = observations(model, stations)
    sx, sy = stations.x.values, stations.y.values
    gx, gy = np.meshgrid(model.x.values, model.y.values)
    m_at = model.values[0][[r for r, _ in CELLS], [c for _, c in CELLS]]
    ds = fuse(model, obs, stations, method="idw", mode="multiplicative", variogram="spherical",
              kriging="simple", power=3.0, radius=900.0, n_lags=3, max_lag=1500.0,
              sampling="nearest", outside="raise")  # fmt: skip
    q = obs.values[0] / m_at - 1.0
    q_hat = ref_idw(sx, sy, q, gx.ravel(), gy.ravel(), 3.0, 900.0).reshape(gx.shape)
    np.testing.assert_allclose(ds.fused.values[0], model.values[0] * (1 + q_hat), rtol=1e-12)
    assert (ds.attrs["method"], ds.attrs["mode"], ds.attrs["idw_power"]) == (
        "idw", "multiplicative", 3.0)  # fmt: skip
    # the same group as a FusionOptions dict: the same result
    xr.testing.assert_identical(fuse(model, obs, stations, **ALL_IDW).drop_attrs(),
                                ds.drop_attrs())  # fmt: skip
    # kriging with a fixed variogram, additive (the residuals) and the defaults spelled out
    vg = Variogram("exponential", 0.2, 2.0, 700.0)
    kr = fuse(model, obs, stations, method="kriging", mode="additive", variogram=vg,
              kriging="ordinary", sampling="bilinear")  # fmt: skip
    est, _ = ref_ordinary_kriging(sx, sy, obs.values[0] - m_at, gx.ravel(), gy.ravel(),
                                  "exponential", 0.2, 2.0, 700.0)  # fmt: skip
    np.testing.assert_allclose(kr.correction.values[0], est.reshape(gx.shape), atol=1e-10)
    # cross_validate: each station from the others, with the same ten keywords
    cv = cross_validate(model, obs, stations, refit=False, **ALL_IDW)
    loo = [m_at[k] * (1 + ref_idw(np.delete(sx, k), np.delete(sy, k), np.delete(q, k),
                                  sx[k : k + 1], sy[k : k + 1], 3.0, 900.0)[0])
           for k in range(sx.size)]  # fmt: skip
    np.testing.assert_allclose(cv.loo_prediction.values[0], loo, rtol=1e-12)


@pytest.mark.parametrize("function", [fuse, cross_validate])
def test_a_misspelled_fusion_keyword_is_one_error_naming_it(function):
    model = grid_model()
    stations = stations_at_centres(model, CELLS)
    obs = observations(model, stations)
    with pytest.raises(TypeError, match=rf"{function.__name__}\(\) got an unexpected keyword "
                                        r"argument 'metod' \(did you mean 'method'\?\)"):  # fmt: skip
        function(model, obs, stations, metod="idw")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        function(model, obs, stations, colour="red")
    with pytest.raises(InputError, match=rf"{function.__name__}: kriging must be 'ordinary' or "
                                         "'simple', got 'universal'"):  # fmt: skip
        function(model, obs, stations, kriging="universal")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="variogram must be a Variogram.*'gaussian'"):
        function(model, obs, stations, variogram="gaussian")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="mode must be 'additive' or 'multiplicative'"):
        function(model, obs, stations, mode="ratio")  # type: ignore[arg-type]


def test_fusion_option_group_is_one_list():
    # the TypedDict that callers and mypy see and the dataclass that holds the defaults
    fields = [f.name for f in dataclasses.fields(fusion._Fusion)]
    assert fields == list(FusionOptions.__annotations__)
    assert set(fusion._CHOICES) <= set(fields)


# ------------------------------------------------------------------ cross-validation
def test_cross_validation_improves_a_biased_model():
    """Truth = model + smooth bias field; LOO fusion must beat the raw model."""
    model = grid_model(nx=40, ny=40, res=250.0)
    rng = np.random.default_rng(11)
    idx = rng.choice(40 * 40, 25, replace=False)
    cells = [(int(i // 40), int(i % 40)) for i in idx]
    stations = stations_at_centres(model, cells)
    sx, sy = stations.x.values, stations.y.values
    bias = 5.0 + 2.0 * np.sin((sx - sx.min()) / 3000.0) * np.cos((sy - sy.min()) / 4000.0)
    at = model.isel(
        y=xr.DataArray([r for r, _ in cells], dims="station"),
        x=xr.DataArray([c for _, c in cells], dims="station"),
    ).values
    obs = xr.DataArray(
        at + bias,
        dims=("year", "station"),
        coords={"year": model.year.values, "station": stations.station_id.values},
        attrs={"units": "ug m-3"},
    )
    for method in ("kriging", "idw"):
        cv = cross_validate(model, obs, stations, method=method)
        assert cv.rmse.dims == ("stage",)
        assert float(cv.rmse.sel(stage="fused")) < 0.5 * float(cv.rmse.sel(stage="model"))
        assert abs(float(cv.fb.sel(stage="fused"))) < abs(float(cv.fb.sel(stage="model")))
        assert cv.loo_prediction.dims == obs.dims
    refit = cross_validate(model, obs, stations, refit=True)
    assert float(refit.rmse.sel(stage="fused")) < float(refit.rmse.sel(stage="model"))


def _hot_spot():
    """A 2 x 5 grid of 100 m cells, 10 ug m-3 but 100 in the top-left cell, where a station
    observes 20 (residual -80); a station in the top-right cell observes 10 (residual 0)."""
    x, y = 50.0 + 100.0 * np.arange(5), np.array([150.0, 50.0])
    m = np.full((2, 5), 10.0)
    m[0, 0] = 100.0
    model = xr.DataArray(m, dims=("y", "x"), coords={"y": y, "x": x}, attrs={"units": "ug m-3"})
    stations = pd.DataFrame({"station_id": ["peak", "far"], "x": [50.0, 450.0], "y": [150.0] * 2})
    obs = xr.DataArray([20.0, 10.0], dims="station", coords={"station": ["peak", "far"]},
                       attrs={"units": "ug m-3"})  # fmt: skip
    return model, stations, obs


def test_fused_concentrations_below_zero_are_clipped_and_counted():
    """IDW of the residuals (-80, 0) by inverse squared distance: at x = 150 m on the top row
    the weight of "peak" is (1/100²) / (1/100² + 1/300²) = 0.9, so 10 - 72 < 0; at 250 m
    10 - 40 < 0; at 350 m 10 - 8 = 2; lowest, below "peak", 10 - 80 (17/18) = -65.6.
    Below 0 is set to 0 (6 cells), counted in
    attrs['clipped_cells'] and warned about; the leave-one-out prediction of "far" (from
    "peak" alone: 10 - 80) follows the same rule."""
    model, stations, obs = _hot_spot()
    with pytest.warns(
        TrajectoireWarning, match=r"fuse: 6 of 10 cell\(s\) .* below 0 \(lowest -65.6 ug m-3"
    ):
        ds = fuse(model, obs, stations, method="idw")
    np.testing.assert_allclose(ds.fused[0].values, [20.0, 0.0, 0.0, 2.0, 10.0])
    np.testing.assert_allclose(ds.fused[1].values, [0, 0, 0, 0, 10 - 80 / 18], atol=1e-12)
    assert ds.fused.attrs["clipped_cells"] == 6
    np.testing.assert_allclose(ds.correction[0].values, [-80, -72, -40, -8, 0])  # unclipped
    cv = cross_validate(model, obs, stations, method="idw")
    assert cv.loo_prediction.values.tolist() == [100.0, 0.0]
    assert cv.loo_prediction.attrs["clipped_predictions"] == 1
    assert float(cv.rmse.sel(stage="fused")) == pytest.approx(math.sqrt((80**2 + 10**2) / 2))
    with warnings.catch_warnings():  # nothing below 0: no warning, 0 counted
        warnings.simplefilter("error")
        assert (
            fuse(model, obs, stations, method="idw", mode="multiplicative").fused.attrs[
                "clipped_cells"
            ]
            == 0
        )


def _two_years_three_stations():
    model = grid_model(nyear=2, nx=5, ny=5)
    stations = stations_at_centres(model, [(0, 0), (4, 4), (0, 4)])
    obs = observations(model, stations)
    return model, stations, obs


@pytest.mark.parametrize(
    "how", [{"method": "idw"}, {"variogram": Variogram("exponential", 0, 1, 500)}]
)
def test_cross_validate_names_the_station_no_other_can_predict(how):
    """Two stations, one without a value: leaving out the other leaves none. The message
    names it and the cause (was "field 0 has no valid station value" with kriging, and
    with IDW the model itself counted as a fused prediction)."""
    model, stations, obs = _two_years_three_stations()
    obs = obs.isel(year=[0], station=[0, 1]).copy()
    obs[0, 1] = np.nan
    with pytest.raises(InputError, match=r"no station can be predicted from the others: "
                       r"station 'FR00000' in year 2018 \(the only station with a value"):  # fmt: skip
        cross_validate(model.isel(year=[0]), obs, stations.iloc[:2], **how)


@pytest.mark.parametrize(
    "how", [{"method": "idw"}, {"variogram": Variogram("exponential", 0, 1, 500)}]
)
def test_cross_validate_does_not_count_a_station_with_no_other(how):
    """In 2019 only one station has a value: it has no leave-one-out prediction (NaN), so
    the fused stage counts the three of 2018 only."""
    model, stations, obs = _two_years_three_stations()
    obs[1, 1:] = np.nan
    cv = cross_validate(model, obs, stations, **how)
    assert int(cv.n.sel(stage="model")) == 4 and int(cv.n.sel(stage="fused")) == 3
    assert np.isnan(float(cv.loo_prediction.sel(year=2019, station="FR00000")))
    assert cv.loo_prediction.attrs["not_predicted"] == 1


def test_cross_validate_refit_names_the_station_that_leaves_too_few():
    """refit=True with three stations: leaving one out leaves two, too few for a fit; the
    message says so and names the station (was "field 0 has 2 valid station(s)"); a year
    with too few stations for any fit is named by its year (was "field 1")."""
    model, stations, obs = _two_years_three_stations()
    with pytest.raises(InputError, match=r"refit=True: leaving station 'FR00000' out of "
                       r"year 2018 leaves 2 station\(s\) with a value; refitting"):  # fmt: skip
        cross_validate(model, obs, stations, refit=True)
    obs[1, 2] = np.nan
    with pytest.raises(InputError, match=r"2 station\(s\) with a value in year 2019; fitting"):
        cross_validate(model, obs, stations)
