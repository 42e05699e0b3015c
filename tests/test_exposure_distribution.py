"""Exposure distributions, threshold counts and zone splits (issue 16)."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from trajectoire import InputError
from trajectoire.assess.exposure import (
    DEFAULT_QUANTILES,
    EU_2030_LIMITS,
    EXPOSURE_THRESHOLDS,
    WHO_2021_GUIDELINES,
    ExposureStatistics,
    exposure_distribution,
    inhabitants_above,
    territory_exposure,
    territory_inhabitants,
    threshold_table,
    zone_split,
)

concentrations = st.floats(0.0, 200.0, allow_nan=False, width=64)
quantile_values = st.floats(0.0, 1.0)


@st.composite
def fields(draw, *, integer=False, max_cells=40):
    """A concentration per cell and its inhabitants (some cells empty, at least one not)."""
    n = draw(st.integers(1, max_cells))
    c = draw(arrays(float, n, elements=concentrations))
    people = st.integers(0, 50) if integer else st.floats(0.0, 1e4, allow_nan=False)
    w = draw(arrays(float, n, elements=people))
    assume(w.sum() > 0)
    return c, w


# ---------------------------------------------------------------- exposure_distribution
@given(st.floats(0.0, 500.0), arrays(float, st.integers(1, 30), elements=st.floats(0.01, 1e4)))
def test_uniform_field_has_its_value_as_mean_and_every_quantile(value, w):
    c = np.full(w.shape, value)
    q = exposure_distribution(c, w, (0.0, *DEFAULT_QUANTILES, 1.0))
    assert np.all(q == value)
    assert np.average(c, weights=w) == pytest.approx(value)


@given(fields(integer=True), st.lists(quantile_values, min_size=1, max_size=8))
def test_quantiles_match_numpy_on_the_expanded_population(field, qs):
    c, w = field
    people = np.repeat(c, w.astype(int))
    ref = np.quantile(people, qs, method="inverted_cdf")
    np.testing.assert_array_equal(exposure_distribution(c, w, qs), ref)


@given(fields(), st.lists(quantile_values, min_size=2, max_size=10))
def test_quantiles_are_monotone_in_q(field, qs):
    c, w = field
    q = exposure_distribution(c, w, sorted(qs))
    assert np.all(np.diff(q) >= 0)
    inhabited = c[w > 0]
    assert inhabited.min() <= q.min() and q.max() <= inhabited.max()


@given(fields(), st.floats(0.01, 100.0))
@example(  # 0.01 c rounds the three subnormal concentrations to 0: median 0, not 0.01
    field=(
        np.array([5e-324, 1e-323, 1.5e-323, 1.0]),
        np.array([2528.765, 2927.974, 341.032, 5797.771000000001]),
    ),
    a=0.01,
)
def test_scaling_the_field_scales_the_quantiles(field, a):
    c, w = field
    # exact where a c keeps distinct concentrations distinct (exposure_distribution's
    # Notes): merged ones sum their inhabitants in another order, one ulp apart
    inhabited = c[w > 0]
    assume(np.unique(a * inhabited).size == np.unique(inhabited).size)
    np.testing.assert_allclose(
        exposure_distribution(a * c, w), a * exposure_distribution(c, w), rtol=1e-12
    )


@given(fields(integer=True), st.randoms(use_true_random=False))
def test_quantiles_and_counts_do_not_depend_on_cell_order(field, rnd):
    """Exact with whole numbers of inhabitants; with fractions the sums of tied cells round
    by their order (exposure_distribution's Notes: c = [1, 1, 1, 2], w = [414.236,
    2235.191, 2157.083, 4806.51] in the order [1, 2, 3, 0] moves the median from 1 to 2)."""
    c, w = field
    order = list(range(c.size))
    rnd.shuffle(order)
    np.testing.assert_array_equal(
        exposure_distribution(c[order], w[order]), exposure_distribution(c, w)
    )
    t = np.array([5.0, 20.0, 100.0])
    np.testing.assert_allclose(inhabitants_above(c[order], w[order], t), inhabitants_above(c, w, t))


def test_quantile_definition_on_a_constructed_case():
    # 1 person at 10, 2 at 20, 1 at 30: cumulative 1, 3, 4 of 4
    q = exposure_distribution([30.0, 10.0, 20.0], [1, 1, 2], (0.0, 0.25, 0.26, 0.75, 0.76, 1.0))
    np.testing.assert_array_equal(q, [10.0, 10.0, 20.0, 20.0, 30.0, 30.0])


def test_uninhabited_cells_play_no_part_even_when_masked():
    q = exposure_distribution([np.nan, 1.0, 1000.0, 3.0], [0.0, 1.0, 0.0, 1.0], (0.0, 1.0))
    np.testing.assert_array_equal(q, [1.0, 3.0])


def test_nobody_gives_nan():
    assert np.isnan(exposure_distribution([1.0, 2.0], [0.0, 0.0])).all()
    np.testing.assert_array_equal(inhabitants_above([1.0], [0.0], [0.5]), [0.0])


@pytest.mark.parametrize(
    ("c", "w", "q", "match"),
    [
        ([1.0, np.nan], [1.0, 1.0], (0.5,), "NaN in 1 inhabited"),
        ([1.0, 2.0], [1.0, -1.0], (0.5,), ">= 0"),
        ([1.0, 2.0], [1.0], (0.5,), "same grid"),
        ([1.0, 2.0], [1.0, 1.0], (1.5,), r"\[0, 1\]"),
    ],
)
def test_bad_inputs_raise_helpful_errors(c, w, q, match):
    with pytest.raises(InputError, match=match):
        exposure_distribution(c, w, q)


# ---------------------------------------------------------------- inhabitants_above
def test_threshold_counts_on_a_constructed_case():
    c = np.array([[5.0, 10.0], [10.5, 40.0]])
    w = np.array([[100, 20], [3, 7]])
    got = inhabitants_above(c, w, [10.0, 20.0, 40.0, 4.0, np.nan, -np.inf])
    np.testing.assert_array_equal(got[[0, 1, 2, 3, 5]], [10.0, 7.0, 0.0, 130.0, 130.0])
    assert np.isnan(got[4])


@given(fields(integer=True), arrays(float, st.integers(1, 6), elements=concentrations))
def test_threshold_counts_are_exact_and_bounded(field, t):
    c, w = field
    got = inhabitants_above(c, w, t)
    ref = [w[c > ti].sum() for ti in t]
    np.testing.assert_array_equal(got, ref)
    assert np.all(got <= w.sum())
    order = np.argsort(t)
    assert np.all(np.diff(got[order]) <= 0)


# ---------------------------------------------------------------- zone_split
@given(
    arrays(float, 12, elements=st.floats(0.0, 1e5)),
    arrays(float, 12, elements=st.floats(0.0, 1.0)),
    arrays(float, 12, elements=concentrations),
)
def test_zone_split_conserves_inhabitants(w, f, c):
    inside, outside = zone_split(w, f)
    np.testing.assert_allclose(inside + outside, w, rtol=1e-12, atol=1e-9)
    assert np.all(inside >= 0) and np.all(outside >= -1e-9)
    t = [10.0, 50.0]
    both = inhabitants_above(c, inside, t) + inhabitants_above(c, np.maximum(outside, 0), t)
    np.testing.assert_allclose(both, inhabitants_above(c, w, t), rtol=1e-9, atol=1e-6)


def test_zone_split_rejects_bad_fractions():
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        zone_split([1.0], [1.5])


@pytest.mark.parametrize("bad", [-5.0, np.nan, np.inf])
def test_zone_split_rejects_bad_inhabitants(bad):
    """Negative or NaN inhabitants were split as they were (-5 gave -2.5 inside and
    outside), where the other exposure functions refuse them."""
    with pytest.raises(InputError) as err:
        zone_split([bad, 10.0], [0.5, 0.5])
    text = str(err.value)
    assert "1 cell(s)" in text and repr(bad) in text and ">= 0 and finite" in text
    assert "\n" not in text


# ---------------------------------------------------------------- thresholds and territories
def test_threshold_table_has_the_cited_values():
    assert WHO_2021_GUIDELINES == {"NO2": 10.0, "PM10": 15.0, "PM2.5": 5.0}
    # SO2: Directive (EU) 2024/2881, Annex I, calendar-year limit value from 2030
    assert EU_2030_LIMITS == {"NO2": 20.0, "PM10": 20.0, "PM2.5": 10.0, "SO2": 20.0}
    labels, values = threshold_table(["NO2", "PM2.5", "SO2"])
    assert labels[:2] == ["WHO2021", "EU2030"]
    np.testing.assert_array_equal(values[:2, :2], [[10.0, 5.0], [20.0, 10.0]])
    assert np.isnan(values[0, 2]) and values[1, 2] == 20.0 and np.isnan(values[2, 2])
    user = {**EXPOSURE_THRESHOLDS, "NO2_30": {"NO2": 30.0}}
    labels, values = threshold_table(["NO2"], user)
    assert labels[-1] == "NO2_30" and values[-1, 0] == 30.0


def test_territory_exposure_matches_the_cell_functions():
    rng = np.random.default_rng(1)
    conc = rng.uniform(5, 40, (6, 5))
    pop = rng.integers(0, 100, (6, 5)).astype(float)
    frac = np.stack([np.ones((6, 5)), np.pad(np.ones((3, 5)), ((3, 0), (0, 0)))])
    m = territory_inhabitants(pop, frac)
    assert isinstance(m, sparse.csr_matrix)
    np.testing.assert_allclose(m.sum(axis=1).A1, [pop.sum(), pop[3:].sum()])
    q, n = territory_exposure(conc, m, (0.5,), [10.0, np.nan])
    assert q[1, 0] == exposure_distribution(conc[3:], pop[3:], (0.5,))[0]
    assert n[0, 0] == pop[conc > 10].sum()
    assert np.isnan(n[:, 1]).all()


def test_exposure_statistics_fills_pollutant_by_pollutant():
    pop = np.array([[10.0, 0.0], [5.0, 5.0]])
    m = territory_inhabitants(pop, np.ones((1, 2, 2)))
    stats = ExposureStatistics.zeros(m, ["NO2", "SO2"], quantiles=(0.5, 1.0))
    assert stats.quantile.shape == (1, 2, 2) and np.isnan(stats.quantile).all()
    stats.add(0, np.array([[1.0, 99.0], [2.0, 3.0]]), background=10.0)
    np.testing.assert_array_equal(stats.quantile[0, 0], [11.0, 13.0])
    labels = stats.threshold_labels
    assert stats.above[0, 0, labels.index("WHO2021")] == 20.0  # 11, 12, 13 > 10
    assert stats.above[0, 0, labels.index("EU2030")] == 0.0
    assert np.isnan(stats.above[0, 1]).all() and np.isnan(stats.quantile[0, 1]).all()


def test_info_lists_the_inhabitants_above_in_the_last_year():
    import xarray as xr

    from trajectoire.io.netcdf import _above_lines

    above = np.full((2, 1, 2, 2), np.nan)
    above[1, 0, 0] = [900.0, 100.0]  # NO2: 900 above WHO2021, 100 above EU2030
    ds = xr.Dataset(
        {
            "inhabitants_above": (("year", "territory", "pollutant", "threshold"), above),
            "population_total": (("year", "territory"), [[1000.0], [1000.0]]),
        },
        coords={
            "year": [2022, 2023],
            "territory": ["MEL"],
            "pollutant": ["NO2", "NOx"],
            "threshold": ["WHO2021", "EU2030"],
        },
    )
    lines = _above_lines(ds)
    assert "in 2023" in lines[0]
    assert "MEL" in lines[1] and "WHO2021" in lines[1] and "NO2 900 (90%)" in lines[1]
    assert "EU2030" in lines[2] and "NO2 100 (10%)" in lines[2] and "NOx" not in lines[2]
    assert _above_lines(ds.drop_vars("inhabitants_above")) == []


# ------------------------------------------------------------ exposure zones (issue 16)
def _zones_file(tmp_path, polygons, *, crs="EPSG:2154", name="z.gpkg"):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {"zone_id": [p[0] for p in polygons]}, geometry=[p[1] for p in polygons], crs=crs
    )
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        gdf.to_file(path, driver="GPKG")
    return path


def test_zone_exposure_inside_plus_outside_is_the_total():
    from scipy import sparse

    from trajectoire.assess.exposure import ExposureStatistics, ZoneExposure

    rng = np.random.default_rng(5)
    own = sparse.random(3, 400, density=0.5, random_state=7, format="csr") * 1000
    frac = rng.uniform(0, 1, 400)
    frac[rng.uniform(size=400) < 0.5] = 0.0
    conc = rng.uniform(5, 40, 400)
    z = ZoneExposure.split(own, frac, ["NO2", "PM2.5"])
    for ip in range(2):
        z.add(ip, conc)
    totals = np.asarray(own.sum(axis=1)).ravel()
    np.testing.assert_allclose(z.inhabitants.sum(axis=1), totals, rtol=1e-12)
    # the two means, weighted by their inhabitants, give the territory's mean
    mean = (own @ conc) / totals
    np.testing.assert_allclose((z.mean[:, :, 0] * z.inhabitants).sum(axis=1) / totals, mean)
    whole = ExposureStatistics.zeros(own, ["NO2", "PM2.5"])
    whole.add(0, conc)
    np.testing.assert_allclose(z.above[:, :, 0].sum(axis=1), whole.above[:, 0], rtol=1e-9)


def test_zone_covering_the_whole_territory_leaves_no_one_outside():
    from trajectoire.assess.exposure import ZoneExposure

    own = np.array([[10.0, 20.0, 0.0], [0.0, 5.0, 7.0]])
    z = ZoneExposure.split(own, np.ones(3), ["NO2"])
    z.add(0, np.array([12.0, 30.0, np.nan]))  # NaN where nobody lives is ignored
    np.testing.assert_array_equal(z.inhabitants[:, 1], 0.0)
    np.testing.assert_array_equal(z.inhabitants[:, 0], [30.0, 12.0])
    assert np.isnan(z.mean[:, 1, 0]).all()
    assert z.mean[0, 0, 0] == pytest.approx((120 + 600) / 30)
    np.testing.assert_array_equal(z.above[:, 1, 0], 0.0)


def test_exposure_zones_without_crs_is_one_clear_error(tmp_path):
    import shapely

    from trajectoire import InputError
    from trajectoire.geo.territories import read_exposure_zones

    path = _zones_file(tmp_path, [("A", shapely.box(0, 0, 10, 10))], crs=None)
    with pytest.raises(InputError, match=r"z\.gpkg .*exposure_zones.*has no CRS"):
        read_exposure_zones(path)


def test_overlapping_zones_with_partition_name_the_ids(tmp_path):
    import shapely

    from trajectoire import InputError
    from trajectoire.geo.territories import read_exposure_zones

    polys = [
        ("QPV-A", shapely.box(0, 0, 100, 100)),
        ("QPV-B", shapely.box(100, 0, 200, 100)),  # touches A: allowed
        ("QPV-C", shapely.box(150, 50, 250, 150)),  # overlaps B
        ("QPV-D", shapely.box(10, 10, 20, 20)),  # inside A
    ]
    path = _zones_file(tmp_path, polys)
    assert len(read_exposure_zones(path)) == 4  # overlaps allowed without partition
    with pytest.raises(InputError, match=r"zones 'QPV-A' and 'QPV-D' overlap \(and 1 more"):
        read_exposure_zones(path, partition=True)
    ok = _zones_file(tmp_path, polys[:2], name="ok.gpkg")
    assert list(read_exposure_zones(ok, partition=True)["zone_id"]) == ["QPV-A", "QPV-B"]


def test_exposure_zones_input_takes_partition_in_the_configuration(tmp_path):
    """[inputs.exposure_zones] path + partition reach the reader through the registry."""
    import shapely

    from trajectoire import InputError
    from trajectoire.io.config import InputSpec
    from trajectoire.io.formats import read_input

    path = _zones_file(
        tmp_path, [("A", shapely.box(0, 0, 10, 10)), ("B", shapely.box(5, 5, 15, 15))]
    )
    with pytest.raises(InputError, match="'A' and 'B' overlap"):
        read_input(
            "exposure_zones", InputSpec.model_validate({"path": str(path), "partition": True})
        )


def _former_statistics_add(stats, ip, concentration, background):
    """ExposureStatistics.add as it read the whole map before (2026-12-02)."""
    field = np.asarray(concentration, dtype=float) + np.asarray(background, dtype=float)
    return territory_exposure(field, stats.inhabitants, stats.quantiles,
                              stats.threshold_values[:, ip])  # fmt: skip


def _former_zone_add(z, ip, concentration, background):
    """ZoneExposure.add as it read the whole map before (2026-12-02)."""
    field = np.nan_to_num(np.asarray(concentration, dtype=float).reshape(-1) + background)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (z.weights @ field) / z.inhabitants.T.reshape(-1)
    _, n = territory_exposure(field.reshape(1, -1), z.weights, (), z.threshold_values[:, ip])
    return mean, n


@given(
    seed=st.integers(0, 10_000), map_background=st.booleans(), dtype=st.sampled_from(["f4", "f8"])
)
def test_statistics_from_the_inhabited_cells_are_those_of_the_whole_map(
    seed, map_background, dtype
):
    """The statistics read the inhabited cells only: the same bits as from the whole map,
    NaN, infinities and signed zeros in the map (inhabited or not) included."""
    from trajectoire.assess.exposure import ZoneExposure

    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 11)))
    n_cells, n_t = shape[0] * shape[1], int(rng.integers(1, 4))
    dense = rng.integers(0, 50, (n_t, n_cells)).astype(float)
    dense[rng.random(dense.shape) < 0.6] = 0.0
    own = sparse.csr_matrix(dense)
    conc = (rng.standard_normal(shape) * 30).astype(dtype)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype=dtype)
    pick = rng.random(shape) < 0.2
    conc[pick] = rng.choice(specials, int(pick.sum()))
    bg = rng.standard_normal(shape) if map_background else float(rng.standard_normal())
    pols = ["NO2", "PM2.5"]
    stats = ExposureStatistics.zeros(own, pols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = _former_statistics_add(stats, 1, conc, bg)
        except InputError as exc:  # a NaN where people live: the same error
            with pytest.raises(InputError, match=str(exc)[:40]):
                stats.add(1, conc, bg)
        else:
            stats.add(1, conc, bg)
            np.testing.assert_array_equal(stats.quantile[:, 1].view(np.uint64),
                                          expected[0].view(np.uint64))  # fmt: skip
            np.testing.assert_array_equal(stats.above[:, 1], expected[1])
        frac = rng.random(shape)
        frac[rng.random(shape) < 0.3] = 0.0
        z = ZoneExposure.split(own, frac, pols)
        scalar = bg if np.ndim(bg) == 0 else 0.5
        mean, n = _former_zone_add(z, 0, conc, scalar)
        z.add(0, conc, scalar)
    n_t2 = z.inhabitants.shape[0]
    np.testing.assert_array_equal(z.mean[:, :, 0].view(np.uint64),
                                  mean.reshape(2, n_t2).T.view(np.uint64))  # fmt: skip
    np.testing.assert_array_equal(z.above[:, :, 0], n.reshape(2, n_t2, -1).transpose(1, 0, 2))


# ---------------------------------------------------------------- shapes and dimension order
def test_exposure_distribution_aligns_dataarrays_by_dimension_names():
    import xarray as xr

    rng = np.random.default_rng(3)
    c = xr.DataArray(rng.uniform(0, 50, (3, 4)), dims=("y", "x"))
    w = xr.DataArray(rng.uniform(0, 9, (3, 4)), dims=("y", "x"))
    ref = exposure_distribution(c, w)
    np.testing.assert_array_equal(exposure_distribution(c.transpose("x", "y"), w), ref)
    np.testing.assert_array_equal(
        inhabitants_above(c, w.transpose("x", "y"), [20.0]), inhabitants_above(c, w, [20.0])
    )
    with pytest.raises(InputError, match=r"dims \('y', 'z'\)"):
        exposure_distribution(c, w.rename(x="z"))


def test_exposure_distribution_numpy_arrays_of_different_shapes_name_both():
    c = np.arange(6.0).reshape(2, 3)
    with pytest.raises(InputError, match=r"shape \(3, 2\) and concentration \(2, 3\)"):
        exposure_distribution(c, np.ones((3, 2)))


def test_territory_exposure_reads_a_dataarray_by_name_and_checks_cells():
    import xarray as xr

    c = xr.DataArray(np.arange(6.0).reshape(2, 3) + 1, dims=("y", "x"))
    inh = territory_inhabitants(np.ones((2, 3)), np.ones((1, 2, 3)))
    ref = territory_exposure(c.values, inh, thresholds=[3.0])
    got = territory_exposure(c.transpose("x", "y"), inh, thresholds=[3.0])
    np.testing.assert_array_equal(got[0], ref[0])
    with pytest.raises(InputError, match=r"shape \(1, 3\) \(3 cells\)"):
        territory_exposure(c.values[:1], inh)


def test_zone_split_and_territory_inhabitants_name_mismatched_shapes():
    with pytest.raises(InputError, match=r"shape \(3,\) and zone_fraction \(2,\)"):
        zone_split([100.0, 40.0, 3.0], [0.25, 1.0])
    with pytest.raises(InputError, match=r"shape \(5, 5\) and fractions \(7, 4, 4\)"):
        territory_inhabitants(np.ones((5, 5)), np.ones((7, 4, 4)))


def test_threshold_table_accepts_aliases_and_rejects_unknown_pollutants():
    labels, values = threshold_table(["no2", "PM25"])
    ref = threshold_table(["NO2", "PM2.5"])[1]
    np.testing.assert_array_equal(values, ref)
    assert not np.isnan(values[labels.index("WHO2021")]).any()
    with pytest.raises(InputError, match="unknown pollutant 'O9'"):
        threshold_table(["NO2", "O9"])


def test_tied_cells_are_summed_in_the_order_of_the_cells() -> None:
    """The documented limit of the order independence (exposure_distribution's Notes): with
    fractions of inhabitants, the sums of cells of equal concentration round by their
    order, and a sum on the edge of q W moves the quantile."""
    c = np.array([1.0, 1.0, 1.0, 2.0])
    w = np.array([414.236, 2235.191, 2157.083, 4806.51])
    order = [1, 2, 3, 0]
    assert exposure_distribution(c, w, (0.5,)).tolist() == [1.0]
    assert exposure_distribution(c[order], w[order], (0.5,)).tolist() == [2.0]
