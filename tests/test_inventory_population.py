"""Census population grids and the population of a year between censuses."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trajectoire import Grid, MissingVariableError
from trajectoire.inventory import census_population, population_at, proxy_grid

X0, Y0 = 700_000.0, 7_000_000.0
GRID = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 800, 100)


def strip_zones(cuts, populations):
    """Vertical strips covering the grid, cut at `cuts` [m from X0], with census columns."""
    edges = [X0, *(X0 + c for c in sorted(cuts)), X0 + 1000]
    geoms = [shapely.box(a, Y0, b, Y0 + 800) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    data = {"zone_id": [f"Z{i}" for i in range(len(geoms))]}
    for year, pops in populations.items():
        data[f"pop_{year}"] = list(pops)
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:2154")


def reference_population(years, census, year):
    """The interpolation of batch/pipeline.py before it moved here (issue 11), verbatim."""
    if year <= years[0]:
        return np.asarray(census[0])
    if year >= years[-1]:
        return np.asarray(census[-1])
    k = int(np.searchsorted(years, year)) - 1
    t = (year - years[k]) / (years[k + 1] - years[k])
    return (1.0 - t) * census[k] + t * census[k + 1]


census_years = st.lists(st.integers(1950, 2050), min_size=1, max_size=4, unique=True)


@st.composite
def zones_and_years(draw):
    years = draw(census_years)
    # zones at least 1 cm wide: a sliver narrower than the coverage round-off cut-off (1e-9
    # of a cell, geo/rasterize) covers no cell, as a polygon reprojected from degrees would
    cuts = draw(
        st.lists(st.floats(1.0, 999.0), min_size=0, max_size=3, unique=True).filter(
            lambda c: all(abs(a - b) >= 0.01 for i, a in enumerate(c) for b in c[i + 1 :])
        )
    )
    n = len(cuts) + 1
    pops = {y: draw(st.lists(st.floats(0.0, 1e6), min_size=n, max_size=n)) for y in years}
    return strip_zones(cuts, pops), years


@settings(deadline=None, max_examples=30)
@given(zones_and_years())
@example((strip_zones([99.99, 100.00000005], {2000: [0.0, 1e6, 0.0]}), [2000]))
def test_census_population_conserves_the_zone_totals(case):
    zones, years = case
    pop = census_population(zones, GRID)
    assert pop.dims == ("census", "y", "x")
    assert pop.dtype == np.float64
    assert pop["census"].values.tolist() == sorted(years)
    for year in years:
        total = float(zones[f"pop_{year}"].sum())
        # fractions under 1e-9 are round-off, set to 0 by design (coverage_matrix's
        # docstring): a zone loses up to 1e-9 of a cell, with its density, in every cell it
        # touches. A strip 1 cm wide ending 5e-8 m past a grid line loses 4e-5 m2 of its
        # 8 m2 there: 5 of its 1e6 inhabitants, against the former 1e-6 + 1e-9 of the total
        floor = 0.0
        for geom, people in zip(zones.geometry, zones[f"pop_{year}"], strict=True):
            x0, y0, x1, y1 = geom.bounds
            cells = (math.ceil((x1 - x0) / GRID.dx) + 1) * (math.ceil((y1 - y0) / GRID.dy) + 1)
            floor += people / geom.area * 1e-9 * GRID.cell_area * cells
        np.testing.assert_allclose(
            float(pop.sel(census=year).sum()), total, rtol=1e-9, atol=1e-6 + floor
        )
        assert (pop.sel(census=year).values >= 0).all()


def test_census_population_is_the_population_proxy_of_each_census():
    zones = strip_zones([250.0, 610.0], {2010: [5.0, 7.0, 11.0], 1999: [4.0, 8.0, 10.0]})
    pop = census_population(zones, GRID)
    for year in (1999, 2010):
        want = proxy_grid("population", GRID, zones=zones, population_column=f"pop_{year}")
        np.testing.assert_array_equal(pop.sel(census=year).values, want)
    assert pop["y"].values.tolist() == GRID.y.tolist()


def test_census_population_other_prefix_and_other_columns():
    zones = strip_zones([500.0], {1990: [1.0, 2.0]}).rename(columns={"pop_1990": "inh_1990"})
    zones["population"] = [3.0, 4.0]
    pop = census_population(zones, GRID, prefix="inh_")
    assert pop["census"].values.tolist() == [1990]
    with pytest.raises(MissingVariableError, match=r"no census column 'pop_<year>'.*inh_1990"):
        census_population(zones, GRID)


@st.composite
def census_arrays(draw):
    years = sorted(draw(census_years))
    shape = (len(years), 2, 3)
    values = draw(
        st.lists(st.floats(0.0, 1e7), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
    )
    census = xr.DataArray(
        np.array(values).reshape(shape), dims=("census", "y", "x"), coords={"census": years}
    )
    return census


@given(census_arrays(), st.integers(1900, 2100))
def test_population_at_matches_the_former_run_interpolation_bit_for_bit(census, year):
    years = [int(y) for y in census["census"].values]
    got = population_at(census, year)
    want = reference_population(years, census.values, year)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


@given(census_arrays())
def test_population_at_census_years_and_outside(census):
    years = [int(y) for y in census["census"].values]
    for k, year in enumerate(years):
        np.testing.assert_array_equal(population_at(census, year), census.values[k])
    for year in (years[0] - 1, years[0] - 30):
        np.testing.assert_array_equal(population_at(census, year), census.values[0])
    for year in (years[-1] + 1, years[-1] + 30):
        np.testing.assert_array_equal(population_at(census, year), census.values[-1])


_SUBNORMAL_CENSUS = xr.DataArray(  # found by hypothesis in a fresh clone's quick start
    np.array([[[5e-324, 0, 0], [0, 0, 0]], [[5e-324, 0, 0], [0, 0, 0]]]),
    dims=("census", "y", "x"),
    coords={"census": [1950, 1952]},
)


@given(census_arrays())
@example(_SUBNORMAL_CENSUS)
def test_population_at_is_monotone_between_censuses(census):
    years = [int(y) for y in census["census"].values]
    for k in range(len(years) - 1):
        a, b = census.values[k], census.values[k + 1]
        series = np.stack([population_at(census, y) for y in range(years[k], years[k + 1] + 1)])
        steps = np.diff(series, axis=0)
        # round-off of the weighted sum: relative, and at least a few subnormals (0.5 * 5e-324
        # is 0: a census of 5e-324 inhabitants in a cell dips to 0 between two such censuses)
        tiny = 4 * np.finfo(np.float64).smallest_subnormal
        slack = 1e-9 * np.maximum(np.abs(a), np.abs(b)) + tiny
        rising, falling = b >= a, b <= a
        assert (steps[:, rising] >= -slack[rising]).all()
        assert (steps[:, falling] <= slack[falling]).all()
        assert (series >= np.minimum(a, b) - slack).all()
        assert (series <= np.maximum(a, b) + slack).all()


def test_population_at_accepts_any_dim_order():
    census = xr.DataArray(
        np.arange(12.0).reshape(2, 3, 2), dims=("y", "x", "census"), coords={"census": [1990, 2000]}
    )
    got = population_at(census, 1995)
    np.testing.assert_array_equal(got, 0.5 * census.values[..., 0] + 0.5 * census.values[..., 1])
