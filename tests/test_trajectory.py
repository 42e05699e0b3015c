"""Tests of trajectoire.trajectory.rebuild: anchors, indices, points, proxies, laziness."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from dask.callbacks import Callback
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.errors import ConfigError, InputError, MissingVariableError, TrajectoireWarning
from trajectoire.grid import Grid
from trajectoire.inventory import read_point_sources
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.trajectory import (
    METHOD_LABELS,
    Uncertainty,
    census_proxy,
    monte_carlo,
    rebuild,
)
from trajectoire.trends import TRAJECTORY_METHODS, Method, read_eurostat_air_emissions

SECTORS = ("A_PublicPower", "F_RoadTransport")
POLS = ("NOx", "PM10")
GRID = Grid.from_bounds(700_000, 7_050_000, 700_600, 7_050_400, 100)  # 6 x 4 cells


def make_indices(seed, years=range(1985, 2026), sectors=SECTORS, pollutants=POLS, series=None):
    """Random positive index series for every (sector, pollutant)."""
    rng = np.random.default_rng(seed)
    rows = [(s, p, y, rng.uniform(0.3, 3.0)) for s in sectors for p in pollutants for y in years]
    t = pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])
    if series is not None:
        t["series"] = series
    return t


def inventory(seed=0, year=2010, n_sources=3, point_scale=0.01, **kw):
    ds = synthetic_inventory(
        GRID,
        sectors=SECTORS,
        pollutants=POLS,
        reference_year=year,
        n_sources=n_sources,
        seed=seed,
        **kw,
    )
    if n_sources:
        ds["point_emission"] = ds["point_emission"] * point_scale
        ds["point_emission"].attrs["units"] = "t yr-1"
    return ds


def index_of(table, sector, pollutant):
    t = table[(table["sector"] == sector) & (table["pollutant"] == pollutant)]
    return t.set_index("year")["value"]


class RaiseOnCompute(Callback):
    def _start(self, dsk):
        raise AssertionError("a dask computation was triggered")


# --------------------------------------------------------------------------- properties
@given(
    seed=st.integers(0, 10_000),
    ref_year=st.integers(1995, 2015),
    anchor_years=st.sets(st.integers(1990, 2020), min_size=1, max_size=3),
)
@settings(max_examples=25)
def test_anchor_years_are_reproduced_exactly(seed, ref_year, anchor_years):
    anchor_years = sorted(anchor_years - {ref_year})
    ref = inventory(seed, ref_year)
    anchors = [inventory(seed + 1 + i, y) for i, y in enumerate(anchor_years)]
    out = rebuild(ref, make_indices(seed), range(1990, 2021), anchors=anchors)
    for a in [ref, *anchors]:
        y = int(a.attrs["reference_year"])
        got = out["emission"].sel(year=y).values
        np.testing.assert_array_equal(got, a["emission"].values)
        assert set(out["method"].sel(year=y).values.ravel()) == {
            "reference" if a is ref else "anchor"
        }


@given(
    seed=st.integers(0, 10_000),
    ref_year=st.integers(1992, 2018),
    ends=st.lists(st.integers(-1, 2020), min_size=3, max_size=3),
    starts=st.lists(st.integers(-1, 2020), min_size=3, max_size=3),
    register_year=st.integers(1990, 2020),
)
@settings(max_examples=25)
def test_totals_follow_the_index_with_points_closures_and_register(
    seed, ref_year, ends, starts, register_year
):
    """The sector follows its index with each stack counted in its own years of service:
    ``total(y) = S(y)/S(ref) (G_ref + sum of the figures of the stacks in service in y)``.
    (Before, the total followed the index as a whole, so that a stack out of service in
    the reference year came out of the gridded part in its years of service, down to 0,
    and one closed later went into it: docs/trajectory.md, point sources.) A register
    figure of a stack in service in the reference year is taken up by the gridded part;
    one of a stack out of service then comes on top as it is."""
    for k in range(3):  # a stack starting after it ends is refused (see below)
        if starts[k] >= 0 and ends[k] >= 0 and starts[k] > ends[k]:
            starts[k], ends[k] = ends[k], starts[k]
    ref = inventory(seed, ref_year)
    ref["start_year"] = ("source", np.array(starts))
    ref["end_year"] = ("source", np.array(ends))
    hist = pd.DataFrame(
        {"source_id": "S000", "year": register_year, "pollutant": "NOx", "emission": [0.02]}
    )
    idx = make_indices(seed)
    years = range(1990, 2021)

    def in_service(k, y):
        return (starts[k] < 0 or y >= starts[k]) and (ends[k] < 0 or y <= ends[k])

    active0 = in_service(0, register_year)
    if active0:
        out = rebuild(ref, idx, years, point_history=hist)
    else:
        with pytest.warns(TrajectoireWarning, match="out of service"):
            out = rebuild(ref, idx, years, point_history=hist)
    gridded = out["emission"].sum(("y", "x")).values
    points = (
        out["point_emission"].groupby(out["source_sector"]).sum().rename(source_sector="sector")
    )
    points = points.reindex(sector=list(SECTORS), fill_value=0.0).transpose(
        "year", "sector", "pollutant"
    )
    np.testing.assert_allclose(gridded + points.values, out["total"].values, rtol=1e-12)
    outside = np.isfinite(out["target_total"].values)
    assert outside.sum() == 30 * 4  # every year but the reference
    np.testing.assert_allclose(
        out["total"].values[outside], out["target_total"].values[outside], rtol=1e-9
    )
    figures = ref["point_emission"].values.copy()  # (source, pollutant)
    jnox = POLS.index("NOx")
    if register_year == ref_year and active0:  # the register's figure is the reference's
        figures[0, jnox] = 0.02
    sector_of = [str(v) for v in ref["source_sector"].values]
    g_ref = ref["emission"].sum(("y", "x")).values
    for i, s in enumerate(SECTORS):
        for j, p in enumerate(POLS):
            ind = index_of(idx, s, p)
            for iy, y in enumerate(years):
                r = ind.loc[y] / ind.loc[ref_year]
                on = [k for k in range(3) if sector_of[k] == s and in_service(k, y)]
                expected = r * (g_ref[i, j] + sum(figures[k, j] for k in on))
                fresh = 0 in on and not in_service(0, ref_year)
                if fresh and y == register_year and p == "NOx":  # on top, as it is
                    expected += 0.02 - r * figures[0, jnox]
                np.testing.assert_allclose(
                    out["total"].values[iy, i, j], expected, rtol=1e-9, atol=0
                )
    pe = out["point_emission"].values
    for k in range(3):
        for iy, y in enumerate(years):
            if (ends[k] >= 0 and y > ends[k]) or (starts[k] >= 0 and y < starts[k]):
                assert np.all(pe[iy, k] == 0.0)
                assert set(out["point_method"].values[iy, k]) == {"inactive"}
    if active0:
        v = out["point_emission"].sel(year=register_year, source="S000", pollutant="NOx")
        assert float(v) == 0.02
        m = out["point_method"].sel(year=register_year, source="S000", pollutant="NOx")
        assert str(m.values) == "register"


@given(seed=st.integers(0, 10_000), a=st.integers(1990, 2005), gap=st.integers(2, 12))
@settings(max_examples=25)
def test_interpolation_stays_between_its_anchors(seed, a, gap):
    b = a + gap
    ref = inventory(seed, a)
    other = inventory(seed + 7, b)
    out = rebuild(ref, None, range(a, b + 1), anchors=[other])
    ea, eb = ref["emission"].values, other["emission"].values
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    for y in range(a + 1, b):
        e = out["emission"].sel(year=y).values
        assert np.all(e >= lo - 1e-12 * hi) and np.all(e <= hi * (1 + 1e-12))
        t = (y - a) / (b - a)
        np.testing.assert_allclose(e, ea + t * (eb - ea), rtol=1e-12, atol=1e-15)
    assert set(out["method"].sel(year=slice(a + 1, b - 1)).values.ravel()) <= {"interpolation"}


@given(seed=st.integers(0, 10_000), end=st.integers(1990, 2019))
@settings(max_examples=20)
def test_closure_removes_the_stack_in_every_later_year(seed, end):
    ref = inventory(seed, 2005)
    ref["end_year"] = ("source", np.array([end, -1, -1]))
    out = rebuild(ref, make_indices(seed), range(1990, 2021))
    pe = out["point_emission"].sel(source="S000")
    assert np.all(pe.sel(year=slice(end + 1, None)).values == 0.0)
    assert np.all(pe.sel(year=slice(None, end)).values > 0.0)


# --------------------------------------------------------------------------- structure
def test_result_is_lazy_and_chunked_by_year():
    ref = inventory(0, 2010)
    with RaiseOnCompute():
        out = rebuild(ref, make_indices(0), range(1990, 2021))
    em = out["emission"]
    assert isinstance(em.data, da.Array)
    assert em.dims == ("year", "sector", "pollutant", "y", "x")
    assert em.data.chunksize == (1, 1, 1, GRID.ny, GRID.nx)
    # one task per output chunk, plus the basis field's own few tasks
    n_chunks = em.data.npartitions
    assert len(em.data.__dask_graph__()) <= n_chunks + 10 * len(SECTORS) + 5
    assert em.attrs["units"] == "t yr-1"


def test_year_by_year_equals_all_at_once():
    ref = inventory(3, 2008)
    other = inventory(4, 2014)
    pop = xr.DataArray(
        np.random.default_rng(0).uniform(1, 5, (3, GRID.ny, GRID.nx)),
        dims=("year", "y", "x"),
        coords={"year": [1990, 1999, 2008]},
    )
    out = rebuild(
        ref,
        make_indices(3),
        range(1990, 2021),
        anchors=[other],
        proxies={"F_RoadTransport": pop},
        chunks={"sector": 2, "y": 3},
    )
    whole = out["emission"].values
    one = np.stack([out["emission"].isel(year=i).values for i in range(out.sizes["year"])])
    np.testing.assert_array_equal(whole, one)
    # and the basis decomposition gives the same fields
    combo = (out["basis_weight"] * out["basis_emission"]).sum("basis")
    np.testing.assert_allclose(
        combo.transpose(*out["emission"].dims).values, whole, rtol=1e-12, atol=1e-15
    )


def test_output_years_need_not_contain_the_reference():
    ref = inventory(14, 2010)
    ref["end_year"] = ("source", np.array([1995, -1, -1]))
    idx = make_indices(14)
    part = rebuild(ref, idx, range(1990, 2000))
    full = rebuild(ref, idx, range(1990, 2011))
    assert part["year"].values.tolist() == list(range(1990, 2000))
    np.testing.assert_allclose(
        part["total"].values, full["total"].sel(year=slice(1990, 1999)).values, rtol=1e-12
    )
    np.testing.assert_allclose(
        part["emission"].values, full["emission"].sel(year=slice(1990, 1999)).values, rtol=1e-12
    )


def test_scale_and_pattern_flag_describe_the_field():
    ref = inventory(5, 2010)
    out = rebuild(ref, make_indices(5), range(2000, 2016))
    assert not out["pattern_changed"].any()
    expected = out["scale"] * ref["emission"]
    np.testing.assert_allclose(
        out["emission"].values, expected.transpose(*out["emission"].dims).values, rtol=1e-12
    )


def test_proxies_reweight_the_pattern_and_keep_the_total():
    ref = inventory(6, 2010, n_sources=0)
    rng = np.random.default_rng(1)
    pop = xr.DataArray(
        rng.uniform(1, 5, (3, GRID.ny, GRID.nx)),
        dims=("year", "y", "x"),
        coords={"year": [1990, 1999, 2010]},
        name="population",
    )
    idx = make_indices(6)
    out = rebuild(ref, idx, range(1990, 2011), proxies={"F": pop})
    f = out.sel(sector="F_RoadTransport")
    assert bool(f["pattern_changed"].sel(year=1995).all())
    assert not bool(out["pattern_changed"].sel(sector="A_PublicPower").any())
    # at a census year, the pattern is E_ref * P_k / P_ref, rescaled to the total
    e1990 = f["emission"].sel(year=1990).values
    w = pop.sel(year=1990).values / pop.sel(year=2010).values
    raw = ref["emission"].sel(sector="F_RoadTransport").values * w
    expected = raw / raw.sum(axis=(-2, -1), keepdims=True) * e1990.sum(axis=(-2, -1), keepdims=True)
    np.testing.assert_allclose(e1990, expected, rtol=1e-12)
    for p in POLS:
        ind = index_of(idx, "F_RoadTransport", p)
        tot = f["emission"].sel(pollutant=p).sum(("y", "x")).values
        np.testing.assert_allclose(
            tot / tot[-1], ind.loc[1990:2010].to_numpy() / ind.loc[2010], rtol=1e-9
        )

    # a callable proxy (interpolating the same census) gives the same result
    def pop_of(year):
        return pop.interp(year=min(max(year, 1990), 2010)).drop_vars("year")

    out2 = rebuild(ref, idx, range(1990, 2011), proxies={"F": pop_of})
    np.testing.assert_allclose(out2["emission"].values, out["emission"].values, rtol=1e-12)


def test_census_proxy_from_zones():
    import geopandas as gpd
    from shapely.geometry import box

    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "pop_1990": [100.0, 50.0], "pop_2010": [120.0, 80.0]},
        geometry=[
            box(700_000, 7_050_000, 700_300, 7_050_400),
            box(700_300, 7_050_000, 700_600, 7_050_400),
        ],
        crs="EPSG:2154",
    )
    pop = census_proxy(zones, GRID)
    assert pop.dims == ("year", "y", "x") and pop["year"].values.tolist() == [1990, 2010]
    np.testing.assert_allclose(pop.sum(("y", "x")).values, [150.0, 200.0])
    ref = inventory(13, 2010, n_sources=0)
    out = rebuild(ref, make_indices(13), range(1990, 2011), proxies={"F": pop})
    assert bool(out["pattern_changed"].sel(year=2000, sector="F_RoadTransport").all())
    with pytest.raises(MissingVariableError, match="census column"):
        census_proxy(zones.drop(columns=["pop_1990", "pop_2010"]), GRID)


def test_methods_are_recorded_and_overlap_surrogate_extrapolation_work():
    ref = inventory(7, 2012, n_sources=0)
    old = make_indices(1, years=range(1985, 2004), series="old")
    new = make_indices(2, years=range(2000, 2016), series="new")
    idx = pd.concat([old, new])
    drivers = pd.DataFrame(
        {"driver": "traffic", "year": range(1980, 2031), "value": np.linspace(1, 2, 51)}
    )
    methods = {
        "A_PublicPower": Method("overlap", series="new", old_series="old"),
        ("F_RoadTransport", "NOx"): Method("surrogate", driver="traffic"),
        ("F_RoadTransport", "PM10"): Method("extrapolation", series="old", max_years=15),
    }
    out = rebuild(ref, idx, range(1990, 2016), methods=methods, surrogates=drivers)
    m = out["method"]
    assert str(m.sel(year=1990, sector="A_PublicPower", pollutant="NOx").values) == "overlap"
    assert str(m.sel(year=2005, sector="A_PublicPower", pollutant="NOx").values) == "index"
    assert str(m.sel(year=2012, sector="A_PublicPower", pollutant="NOx").values) == "reference"
    assert set(m.sel(sector="F_RoadTransport", pollutant="NOx", year=[1990, 2015]).values) == {
        "surrogate"
    }
    f_pm = m.sel(sector="F_RoadTransport", pollutant="PM10")
    assert str(f_pm.sel(year=2015).values) == "extrapolation"  # bridges the reference year
    assert str(f_pm.sel(year=1995).values) == "index"
    assert set(np.unique(m.values)) <= set(METHOD_LABELS)
    tot = out["total"].sel(sector="F_RoadTransport", pollutant="NOx")
    drv = drivers.set_index("year")["value"]
    np.testing.assert_allclose(
        tot.values / float(tot.sel(year=2012)),
        drv.loc[1990:2015].to_numpy() / drv.loc[2012],
        rtol=1e-9,
    )


def test_method_labels_hold_every_trajectory_method():
    assert set(TRAJECTORY_METHODS) < set(METHOD_LABELS)
    assert METHOD_LABELS[:3] == ("reference", "anchor", "interpolation")
    assert METHOD_LABELS[-1] == "register"


def test_points_exceeding_the_target_warn_and_clip():
    ref = inventory(8, 2010, point_scale=1.0)
    ref["point_emission"][:] = 0.0
    hist = pd.DataFrame({"source_id": "S000", "year": 2000, "pollutant": "NOx", "emission": [1e6]})
    with pytest.warns(
        TrajectoireWarning, match=r"sector A_PublicPower, pollutant NOx: in 1 year\(s\) \(2000\)"
    ):
        out = rebuild(ref, make_indices(8), range(1999, 2011), point_history=hist)
    grid_2000 = out["emission"].sel(year=2000, sector="A_PublicPower", pollutant="NOx")
    assert float(grid_2000.sum()) == 0.0


def test_anchor_point_figures_are_used_at_the_anchor_year():
    ref = inventory(9, 2010)
    other = inventory(10, 2000)
    out = rebuild(ref, make_indices(9), range(1995, 2011), anchors=[other])
    np.testing.assert_array_equal(
        out["point_emission"].sel(year=2000).values, other["point_emission"].values
    )
    assert set(out["point_method"].sel(year=2000).values.ravel()) == {"anchor"}


def test_dask_backed_reference_gives_the_same_result():
    ref = inventory(11, 2010)
    lazy = ref.chunk({"sector": 1})
    idx = make_indices(11)
    a = rebuild(ref, idx, range(2005, 2016))
    b = rebuild(lazy, idx, range(2005, 2016))
    np.testing.assert_allclose(a["emission"].values, b["emission"].values, rtol=1e-14)


# --------------------------------------------------------------------------- uncertainty
def test_monte_carlo_factors_lognormal_and_correlated():
    ref = inventory(12, 2010)
    out = rebuild(
        ref,
        make_indices(12),
        range(2000, 2011),
        uncertainty=Uncertainty(
            {"default": 20.0, "F_RoadTransport": 50.0}, realizations=4000, rho=1.0, seed=1
        ),
    )
    f = out["uncertainty_factor"]
    assert f.dims == ("realization", "year", "sector", "pollutant")
    # rho = 1: one error per realization, the same every year
    np.testing.assert_allclose(f.values, f.isel(year=[0]).values.repeat(11, axis=1))
    assert float(f.mean()) == pytest.approx(1.0, abs=0.02)
    # the 97.5 % quantile of the factor is about (1 + U) times its median
    a = f.sel(sector="A_PublicPower", pollutant="NOx", year=2000)
    ratio = float(a.quantile(0.975) / a.quantile(0.5))
    assert ratio == pytest.approx(1.2, rel=0.03)
    pct = out["total_percentile"]
    assert np.all(pct.sel(percentile=2.5) <= pct.sel(percentile=50.0))
    assert np.all(pct.sel(percentile=50.0) <= pct.sel(percentile=97.5))


def test_monte_carlo_independent_years_and_bad_settings():
    t = xr.DataArray(
        np.ones((30, 1, 1)),
        dims=("year", "sector", "pollutant"),
        coords={"year": range(1990, 2020), "sector": ["F_RoadTransport"], "pollutant": ["NOx"]},
    )
    mc = monte_carlo(t, Uncertainty(30.0, realizations=2000, rho=0.0, seed=2))
    z = np.log(mc["uncertainty_factor"].values[:, :, 0, 0])
    c = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert abs(c) < 0.1
    with pytest.raises(ConfigError, match="rho"):
        Uncertainty(10.0, rho=1.5)
    with pytest.raises(InputError, match="no half-width for sector F_RoadTransport"):
        monte_carlo(t, Uncertainty({"A": 10.0}))


def _ones(years, sectors=("F_RoadTransport",), pollutants=("NOx",)):
    return xr.DataArray(
        np.ones((len(years), len(sectors), len(pollutants))),
        dims=("year", "sector", "pollutant"),
        coords={"year": list(years), "sector": list(sectors), "pollutant": list(pollutants)},
    )


def test_monte_carlo_years_in_any_order_get_the_factors_of_their_year():
    """Unsorted years: each year gets its own factors, in the caller's order, with the
    lognormal's spread (before, rho**(negative gap) made the bands explode)."""
    unc = Uncertainty(30.0, realizations=5000, rho=0.9, seed=4)
    down = monte_carlo(_ones([2020, 2010, 2000]), unc)
    up = monte_carlo(_ones([2000, 2010, 2020]), unc)
    assert down["year"].values.tolist() == [2020, 2010, 2000]
    for name in ("uncertainty_factor", "total_percentile"):
        xr.testing.assert_identical(down[name], up[name].sel(year=[2020, 2010, 2000]))
    spread = np.log(down["uncertainty_factor"]).std("realization").values.ravel()
    np.testing.assert_allclose(spread, np.log(1.3) / 1.96, rtol=0.05)


def test_monte_carlo_refuses_a_repeated_year():
    with pytest.raises(InputError, match=r"year\(s\) 2000 given more than once.*drop_duplicates"):
        monte_carlo(_ones([2000, 2010, 2000]), Uncertainty(30.0, realizations=10))
    with pytest.raises(InputError, match=r"year=2010.5 \(float\): expected one whole year"):
        monte_carlo(_ones([2000, 2010.5]), Uncertainty(30.0, realizations=10))


def test_monte_carlo_draws_of_a_year_do_not_depend_on_the_other_years():
    """With one seed, a year's factors are the same in a 1990-2023 call, a one-year call,
    calls with other sectors or pollutants, and years before the origin 1990 (before, the
    draws were made over the call's years: a 2015-only run had other 2015 percentiles)."""
    unc = Uncertainty(30.0, realizations=50, rho=0.8, seed=1)
    full = monte_carlo(
        _ones(range(1985, 2024), ("A_PublicPower", "F_RoadTransport"), ("NOx", "PM10")), unc
    )["uncertainty_factor"]
    for years, sectors, pollutants in (
        ([2015], ("F_RoadTransport",), ("NOx",)),
        ([2023, 1985, 2015], ("F_RoadTransport", "A_PublicPower"), ("PM10", "NOx")),
        ([1987], ("A_PublicPower",), ("PM10",)),
        (range(1990, 2024), ("F_RoadTransport", "J_Waste"), ("NOx",)),
    ):
        part = monte_carlo(_ones(years, sectors, pollutants), unc)["uncertainty_factor"]
        known = [s for s in sectors if s in full["sector"].values]
        want = full.sel(year=list(years), sector=known, pollutant=list(pollutants))
        np.testing.assert_array_equal(part.sel(sector=known).values, want.values)


def test_monte_carlo_correlation_is_rho_to_the_gap_across_the_origin():
    """The series drawn backward from 1990 and forward from it form one stationary AR(1)."""
    mc = monte_carlo(_ones([1980, 1989, 1990, 1991, 2000]),
                     Uncertainty(30.0, realizations=40000, rho=0.8, seed=5))  # fmt: skip
    z = np.log(mc["uncertainty_factor"].values[:, :, 0, 0])
    c = np.corrcoef(z.T)
    years = [1980, 1989, 1990, 1991, 2000]
    want = 0.8 ** np.abs(np.subtract.outer(years, years))
    np.testing.assert_allclose(c, want, atol=0.02)


@pytest.mark.parametrize(
    ("settings", "key", "shown"),
    [
        ({"percentiles": (2.5, 50.0, 150.0)}, "percentiles", "150.0"),
        ({"percentiles": (97.5, 2.5)}, "percentiles", "(97.5, 2.5)"),
        ({"percentiles": (2.5, 2.5)}, "percentiles", "(2.5, 2.5)"),
        ({"percentiles": ()}, "percentiles", "()"),
        ({"percentiles": (float("nan"),)}, "percentiles", "nan"),
        ({"realizations": 100.5}, "realizations", "100.5"),
        ({"realizations": 0}, "realizations", "0"),
        ({"seed": -1}, "seed", "-1"),
        ({"rho": float("nan")}, "rho", "nan"),
    ],
)
def test_uncertainty_settings_are_checked_when_made(settings, key, shown):
    """Out-of-range settings are one ConfigError line naming the value and the config key,
    raised by Uncertainty itself (before, numpy or xarray failed inside monte_carlo, and
    unordered percentiles were accepted)."""
    with pytest.raises(ConfigError) as info:
        Uncertainty(30.0, **settings)
    line = str(info.value)
    assert "\n" not in line
    assert f"Uncertainty.{key}=" in line and shown in line
    assert f"([trajectory.uncertainty] {key})" in line


# --------------------------------------------------------------------------- errors
def test_year_outside_series_names_extrapolation():
    ref = inventory(0, 2010)
    idx = make_indices(0, years=range(2000, 2016))
    with pytest.raises(
        InputError, match=r"\[1995, 1996, 1997, 1998, 1999\] outside.*extrapolation"
    ):
        rebuild(ref, idx, range(1995, 2011))
    out = rebuild(ref, idx, range(1995, 2011), methods={"default": "extrapolation"})
    assert str(out["method"].sel(year=1995).values[0, 0]) == "extrapolation"


def test_gap_in_index_series_is_an_error():
    ref = inventory(0, 2010)
    idx = make_indices(0, years=range(2000, 2016))
    idx = idx[~((idx["year"] == 2004) & (idx["sector"] == "F_RoadTransport"))]
    with pytest.raises(
        InputError, match=r"gap in the index series of sector F_RoadTransport.*2004"
    ):
        rebuild(ref, idx, range(2000, 2011))


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_zero_or_negative_index_at_reference_year(bad):
    ref = inventory(0, 2010)
    idx = make_indices(0, years=range(2000, 2016))
    sel = (idx["year"] == 2010) & (idx["sector"] == "A_PublicPower") & (idx["pollutant"] == "PM10")
    idx.loc[sel, "value"] = bad
    match = "is 0.0 at the reference year 2010" if bad == 0 else "negative value"
    with pytest.raises(InputError, match=match):
        rebuild(ref, idx, range(2000, 2011))


def test_anchors_that_disagree_are_errors():
    ref = inventory(0, 2010)
    idx = make_indices(0)
    other = synthetic_inventory(
        GRID, sectors=("A_PublicPower",), pollutants=POLS, reference_year=2000
    )
    with pytest.raises(
        InputError, match=r"disagrees with the reference on sectors.*F_RoadTransport"
    ):
        rebuild(ref, idx, range(2000, 2011), anchors=[other])
    other = synthetic_inventory(
        GRID, sectors=SECTORS, pollutants=("NOx", "SO2"), reference_year=2000
    )
    with pytest.raises(InputError, match="disagrees with the reference on pollutants"):
        rebuild(ref, idx, range(2000, 2011), anchors=[other])
    g2 = Grid.from_bounds(700_000, 7_050_000, 700_800, 7_050_400, 100)
    other = synthetic_inventory(g2, sectors=SECTORS, pollutants=POLS, reference_year=2000)
    with pytest.raises(InputError, match="not on the reference grid"):
        rebuild(ref, idx, range(2000, 2011), anchors=[other])
    with pytest.raises(InputError, match=r"several inventories for year\(s\) \[2010\]"):
        rebuild(ref, idx, range(2000, 2011), anchors=[inventory(1, 2010)])


def test_other_bad_inputs():
    ref = inventory(0, 2010)
    idx = make_indices(0)
    with pytest.raises(ConfigError, match="year chunks are always 1"):
        rebuild(ref, idx, [2010], chunks={"year": 5})
    with pytest.raises(ConfigError, match="not in the inventory"):
        rebuild(ref, idx, [2010], methods={"K_AgriLivestock": "index"})
    with pytest.raises(InputError, match="not increasing"):
        rebuild(ref, idx, [2011, 2010])
    with pytest.raises(MissingVariableError, match="no index for sector"):
        rebuild(ref, idx[idx["sector"] == "A_PublicPower"], [2000, 2010])
    bad = ref.copy()
    bad.attrs = {"crs": "EPSG:2154"}
    with pytest.raises(MissingVariableError, match="reference_year"):
        rebuild(bad, idx, [2010])
    hist = pd.DataFrame({"source_id": "NOPE", "year": 2000, "pollutant": "NOx", "emission": [1]})
    with pytest.raises(InputError, match="source_id"):
        rebuild(ref, idx, [2000, 2010], point_history=hist)
    sid = str(ref["source"].values[0])
    hist = pd.DataFrame(
        {"source_id": sid, "year": [2000, 2001, 2000], "pollutant": "NOx", "emission": [1, -2, 3]},
        index=["a", "b", "c"],
    )
    with pytest.raises(InputError, match=r"'emission': 1 negative value\(s\) \(row 'b': -2\)"):
        rebuild(ref, idx, [2000, 2010], point_history=hist)
    hist["emission"] = 1.0
    with pytest.raises(InputError, match=r"several rows for source .*\(row 'a', row 'c'\)"):
        rebuild(ref, idx, [2000, 2010], point_history=hist)


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("year", np.nan, "column 'year': not a number: an empty cell at row 'r1'"),
        ("year", "2010a", "column 'year': not a number: '2010a' at row 'r1'"),
        ("year", 2010.5, "column 'year': not a whole year: 2010.5 at row 'r1'"),
        ("emission", "5,5", "column 'emission': not a number: '5,5' at row 'r1'"),
        ("emission", "x", "column 'emission': not a number: 'x' at row 'r1'"),
    ],
)
def test_register_bad_year_or_emission_is_one_line_naming_row_and_value(column, value, said):
    """A register year that is missing, text or fractional and an emission that is text are
    one InputError line naming the row, the column and the value as given (before: pandas'
    IntCastingNaNError, a plain ValueError, 2010.5 cut to 2010 silently, and '5,5' reported
    as 'NaN or infinite (row 0: nan)')."""
    ref = inventory(3, 2010)
    sid = str(ref["source"].values[0])
    hist = pd.DataFrame(
        {"source_id": sid, "year": [2001, 2002], "pollutant": "NOx", "emission": [1.0, 2.0]},
        index=["r0", "r1"],
    ).astype(object)
    hist.loc["r1", column] = value
    with pytest.raises(InputError) as info:
        rebuild(ref, make_indices(3), range(2000, 2011), point_history=hist)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith("point_history, ") and said in line, line


def test_register_empty_emission_is_no_figure():
    """An empty emission cell of the register is no figure for that year (as the run's
    check of point_source_history.csv documents): the stack follows its sector that year
    (before, the run's check passed it and rebuild refused it as 'NaN (row 1: nan)')."""
    import io

    from trajectoire.tables import read_table

    ref = inventory(4, 2010)
    sid = str(ref["source"].values[0])
    text = f"source_id,year,pollutant,emission\n{sid},2001,NOx,5\n{sid},2002,NOx,\n"
    hist = read_table(io.StringIO(text))
    out = rebuild(ref, make_indices(4), range(2000, 2011), point_history=hist)
    without = rebuild(ref, make_indices(4), range(2000, 2011), point_history=hist.iloc[:1])
    got = out["point_emission"].sel(source=sid, pollutant="NOx")
    assert float(got.sel(year=2001)) == 5.0
    assert out["point_method"].sel(source=sid, pollutant="NOx", year=2002).item() != "register"
    xr.testing.assert_identical(got, without["point_emission"].sel(source=sid, pollutant="NOx"))
    anchor = inventory(5, 2000)
    anchor["point_emission"][0, 0] = np.nan  # an anchor's own figure must be a number
    with pytest.raises(InputError, match=r"anchor 2000 point_emission, column 'emission'"):
        rebuild(ref, make_indices(4), range(1995, 2011), anchors=[anchor])


def test_stack_starting_after_it_ends_is_refused_as_the_reader_does(tmp_path):
    """A reference Dataset whose stack has start_year > end_year is refused by rebuild with
    the line read_point_sources gives (before, the stack was silently 0 t every year)."""
    ref = inventory(6, 2010, n_sources=2)
    ref["start_year"].values[:] = [2012, -1]
    ref["end_year"].values[:] = [2005, -1]
    sid = str(ref["source"].values[0])
    with pytest.raises(InputError) as info:
        rebuild(ref, make_indices(6), range(2000, 2011))
    said = f"stack(s) starting after they end: {sid} (2012 > 2005); expected start_year <= end_year"
    assert str(info.value).startswith("reference inventory, 'start_year' and 'end_year': ")
    assert said in str(info.value)
    path = tmp_path / "points.csv"
    path.write_text(
        "source_id,x,y,sector,height,diameter,temperature,velocity,start_year,end_year,NOx\n"
        "P1,700250,7000250,B,50,2,400,10,2012,2005,5\n"
    )
    with pytest.raises(InputError, match=r"P1 \(2012 > 2005\); expected start_year <= end_year"):
        read_point_sources(path)


def test_stack_out_of_service_in_the_reference_year_is_said(caplog):
    """A stack closed before the reference year (or opened after it) whose reference figure
    is > 0 is 0 t that year, as documented; the log says so, naming the stack, its
    end_year (start_year), its figure and the reference year (before, nothing was said:
    the reference year's total silently lacked the figure)."""
    import logging

    ref = inventory(7, 2015, n_sources=3)
    ref["start_year"].values[:] = [-1, 2018, -1]
    ref["end_year"].values[:] = [2010, -1, -1]
    ids = [str(s) for s in ref["source"].values]
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        out = rebuild(ref, make_indices(7), range(2005, 2021))
    said = [r.getMessage() for r in caplog.records if "out of service" in r.getMessage()]
    assert len(said) == 1, said
    line = said[0]
    pe = ref["point_emission"]
    for k, what in ((0, "end_year 2010"), (1, "start_year 2018")):
        j = int(np.argmax(pe.isel(source=k).values))
        figure = float(pe.isel(source=k, pollutant=j))
        pol = str(pe["pollutant"].values[j])
        assert f"{ids[k]} ({what}, {pol} {figure:.6g} t yr-1)" in line, line
    assert "reference year 2015" in line and ids[2] not in line
    assert (out["point_emission"].sel(year=2015, source=ids[:2]) == 0).all()
    assert (out["point_method"].sel(year=2015, source=ids[:2]) == "inactive").all()


# --------------------------------------------------------------------------- real series
@pytest.mark.requires_shared
def test_real_eurostat_series_relative_trend_reproduced(shared_data):
    """With the 2016-vintage Eurostat series mapped to GNFR and a synthetic 2013 reference,
    domain totals follow the series' relative trend 1990 -> 2013 per sector (1e-9)."""
    path = shared_data / "emission_trends" / "france_trends.csv"
    idx = read_eurostat_air_emissions(path, vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2016")
    sectors = sorted(set(idx["sector"]) - {"M_Other"})  # M_Other is all zeros in this vintage
    pols = ["NOx", "PM10", "PM2.5", "SO2", "NMVOC"]
    ref = synthetic_inventory(
        GRID, sectors=sectors, pollutants=pols, reference_year=2013, n_sources=6, seed=4
    )
    ref["point_emission"] = ref["point_emission"] * 1e-3
    ref["point_emission"].attrs["units"] = "t yr-1"
    out = rebuild(ref, idx, range(1990, 2014))
    totals = out["emission"].sum(("y", "x")) + out["point_emission"].groupby(
        out["source_sector"].rename("sector")
    ).sum().reindex(sector=sectors, fill_value=0.0)
    for s in sectors:
        for p in pols:
            series = index_of(idx, s, p).loc[1990:2013].to_numpy()
            tot = totals.sel(sector=s, pollutant=p).values
            np.testing.assert_allclose(tot / tot[-1], series / series[-1], rtol=1e-9)


@pytest.mark.parametrize(
    ("sector", "pollutant", "method"),
    [
        ("A_PublicPower", "NOx", Method("index", series="new")),
        ("A_PublicPower", "NOx", Method("overlap", series="new", old_series="old")),
        ("A_PublicPower", "NOx", Method("index")),  # two series, none chosen: an error
        ("F_RoadTransport", "PM10", Method("extrapolation")),
        ("F_RoadTransport", "SO2", Method("index")),  # a pair the table lacks: an error
    ],
)
def test_series_from_a_pairs_rows_are_those_of_the_whole_table(sector, pollutant, method):
    """rebuild reads each pair's series from its own rows (``_rows_by_pair``): the same
    ratios and labels, and the same errors, as from the whole table."""
    from trajectoire.trajectory.backcast import _no_rows, _rows_by_pair
    from trajectoire.trends import ratio_series, validate_trends

    rng = np.random.default_rng(4)
    rows = [
        (s, p, y, rng.uniform(0.5, 2.0), series)
        for s, p, years, series in [
            ("A_PublicPower", "NOx", range(1985, 2011), "old"),
            ("A_PublicPower", "NOx", range(2000, 2024), "new"),
            ("F_RoadTransport", "PM10", range(2000, 2020), "new"),
            ("F_RoadTransport", "NOx", range(1985, 2024), "new"),
        ]
        for y in years
    ]
    table = pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value", "series"])
    table = validate_trends(table.sample(frac=1.0, random_state=1))  # rows in any order
    pair_rows = _rows_by_pair(table).get((sector, pollutant), _no_rows(table))
    years = [2005, 2008, 2012, 2021, 2023]

    def outcome(t):
        try:
            r, lab = ratio_series(t, sector, pollutant, years, 2015, method)
        except Exception as exc:  # the same class and message
            return type(exc), str(exc)
        return r.to_numpy().tobytes(), r.index.tolist(), lab.tolist()

    assert outcome(pair_rows) == outcome(table)
