"""Tests of trajectoire.trajectory.rebuild: the stacks around anchor inventories, and stacks
out of service in the reference (anchor) year (review probe14, findings 1 and 2).

* An anchor's stack figures are used as its gridded field is: reproduced at the anchor,
  interpolated linearly between two anchors (``interpolation``), and back-cast from the
  earliest anchor's figure with the series (before, a stack took ``p_ref G(y)/G_ref``
  between anchors and was back-cast from the reference figure: 311 -> 250 -> 300 t).
* A stack opened or closed since the anchor year adds or takes away only its own figures:
  the gridded part follows the series (before, a stack opened after the reference year
  came out of the gridded part of its sector, down to 0 t).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.grid import Grid
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.trajectory import rebuild
from trajectoire.trajectory.backcast import UnreconciledTotals

SECTORS = ("A_PublicPower", "F_RoadTransport")
POLS = ("NOx", "PM10")
GRID = Grid.from_bounds(700_000, 7_050_000, 700_600, 7_050_400, 100)  # 6 x 4 cells
YEARS = range(1985, 2026)


def inventory(seed: int, year: int, point_scale: float = 1.0):  # noqa: ANN201
    """A synthetic inventory of `year`: random gridded fields, stacks S000 (A), S001 (F),
    S002 (A) in service every year, figures times `point_scale` [t yr-1]."""
    ds = synthetic_inventory(
        GRID, sectors=SECTORS, pollutants=POLS, reference_year=year, n_sources=3, seed=seed
    )
    ds["point_emission"] = ds["point_emission"] * point_scale
    ds["point_emission"].attrs["units"] = "t yr-1"
    return ds


def index_table(ratio) -> pd.DataFrame:  # noqa: ANN001
    """Index ``S(y) = ratio(y)`` for every (sector, pollutant) in :data:`YEARS`."""
    rows = [(s, p, y, ratio(y)) for s in SECTORS for p in POLS for y in YEARS]
    return pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])


def linear(y: int) -> float:
    """The probe's index, ``S(y) = 1 + 0.05 (2015 - y)``."""
    return 1.0 + 0.05 * (2015 - y)


def gridded(out, sector: str, pollutant: str):  # noqa: ANN001, ANN201
    """Gridded domain total (year) [t yr-1]."""
    return out["emission"].sel(sector=sector, pollutant=pollutant).sum(("y", "x")).values


def rebuild_said(*args, **kw):  # noqa: ANN002, ANN003, ANN201
    """rebuild, and the warnings it gave (valid input gives none: checked after the
    numbers, so that a failure shows them first)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = rebuild(*args, **kw)
    return out, [str(w.message) for w in caught]


# ------------------------------------------------------------------ finding 1: anchors
def test_stack_interpolates_between_its_anchor_figures_and_backcasts_from_the_first():
    """The probe's case: an anchor (2008) with the reference's gridded field and other
    stack figures. The stack goes linearly from its 2008 figure to its 2015 one, labelled
    ``interpolation``; before 2008 it is its 2008 figure times S(y)/S(2008); the gridded
    part follows the index from 2008 (before, it was set to 0 in 2004-2007)."""
    ref = inventory(0, 2015, point_scale=30.0)
    a08 = ref.copy(deep=True)
    a08.attrs["reference_year"] = 2008
    a08["point_emission"].values[:] = ref["point_emission"].values * [[0.8], [1.3], [0.5]]
    years = range(2004, 2018)
    out, said = rebuild_said(ref, index_table(linear), years, anchors=[a08])
    p08, p15 = a08["point_emission"].values, ref["point_emission"].values
    pe = out["point_emission"].transpose("year", "source", "pollutant").values
    meth = out["point_method"].transpose("year", "source", "pollutant").values
    for iy, y in enumerate(years):
        if y < 2008:
            expected, label = p08 * linear(y) / linear(2008), "index"
        elif y <= 2015:
            expected = p08 + (p15 - p08) * (y - 2008) / 7
            label = {2008: "anchor", 2015: "reference"}.get(y, "interpolation")
        else:
            expected, label = p15 * linear(y) / linear(2015), "index"
        np.testing.assert_allclose(pe[iy], expected, rtol=1e-12, err_msg=str(y))
        assert set(meth[iy].ravel()) == {label}, y
    for s in SECTORS:
        for p in POLS:
            g = gridded(out, s, p)
            g08 = float(a08["emission"].sel(sector=s, pollutant=p).sum())
            before = np.array([g08 * linear(y) / linear(2008) for y in range(2004, 2008)])
            np.testing.assert_allclose(g[:4], before, rtol=1e-12)
    assert not said, said


def test_stack_missing_from_an_anchor_keeps_the_gridded_ratio():
    """A stack that an anchor inventory lacks takes ``p_ref G_a / G_ref`` there, and is
    interpolated between that and its reference figure (what it was before, for it)."""
    ref = inventory(1, 2015)
    anc = inventory(2, 2005).isel(source=[1, 2])  # lacks S000 (A_PublicPower)
    out, said = rebuild_said(ref, index_table(linear), range(2005, 2016), anchors=[anc])
    g = {
        y: float(ds["emission"].sel(sector="A_PublicPower", pollutant="NOx").sum())
        for y, ds in ((2005, anc), (2015, ref))
    }
    p_ref = float(ref["point_emission"].sel(source="S000", pollutant="NOx"))
    got = out["point_emission"].sel(source="S000", pollutant="NOx").values
    f05 = p_ref * g[2005] / g[2015]
    np.testing.assert_allclose(got, f05 + (p_ref - f05) * np.arange(11) / 10, rtol=1e-12)
    assert not said, said


@given(
    seed=st.integers(0, 10_000),
    a=st.integers(1992, 2010),
    gap=st.integers(2, 12),
    factors=st.lists(st.floats(0.05, 20.0), min_size=3, max_size=3),
    reference_first=st.booleans(),
)
@settings(max_examples=30)
def test_with_flat_trends_totals_between_anchors_stay_between_theirs(
    seed, a, gap, factors, reference_first
):
    """With flat trends (every ratio 1) and stacks in service throughout: each stack
    between two anchors lies between its two figures (linearly), each sector total between
    the two anchors' totals, and before the first anchor (after the last) both are that
    anchor's; gridded + points = total in every year (the mass of the sector)."""
    b = a + gap
    first, second = inventory(seed, a), inventory(seed + 1, b)
    second["point_emission"] = second["point_emission"] * np.asarray(factors)[:, None]
    ref, anc = (first, second) if reference_first else (second, first)
    years = range(a - 3, b + 4)
    out, said = rebuild_said(ref, index_table(lambda y: 1.0), years, anchors=[anc])
    pe = out["point_emission"].transpose("year", "source", "pollutant").values
    pa, pb = first["point_emission"].values, second["point_emission"].values
    tot = out["total"].transpose("year", "sector", "pollutant").values
    ta, tb = tot[3], tot[3 + gap]
    for iy, y in enumerate(years):
        if y < a:
            np.testing.assert_allclose(pe[iy], pa, rtol=1e-12)
            np.testing.assert_allclose(tot[iy], ta, rtol=1e-12)
        elif y > b:
            np.testing.assert_allclose(pe[iy], pb, rtol=1e-12)
            np.testing.assert_allclose(tot[iy], tb, rtol=1e-12)
        else:
            t = (y - a) / gap
            np.testing.assert_allclose(pe[iy], pa + t * (pb - pa), rtol=1e-12)
            lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
            assert np.all(pe[iy] >= lo * (1 - 1e-12)) and np.all(pe[iy] <= hi * (1 + 1e-12))
            lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
            assert np.all(tot[iy] >= lo * (1 - 1e-12)) and np.all(tot[iy] <= hi * (1 + 1e-12))
    points = out["point_emission"].groupby(out["source_sector"].rename("sector")).sum()
    points = points.reindex(sector=list(SECTORS), fill_value=0.0)
    mass = out["emission"].sum(("y", "x")) + points
    np.testing.assert_allclose(
        mass.transpose(*out["total"].dims).values, out["total"].values, rtol=1e-12
    )
    assert not said, said


# ------------------------------------------------------------------ finding 2: service
@pytest.mark.parametrize(
    ("service", "years"),
    [({"start_year": 2017}, range(2010, 2021)), ({"end_year": 2011}, range(2005, 2016))],
    ids=["opened-after-reference", "closed-before-reference"],
)
def test_stack_out_of_service_in_the_reference_year_leaves_the_area_part(service, years):
    """The probe's case: a large stack of A_PublicPower out of service in the reference
    year 2015. In its years of service it comes on top of the sector's series; the gridded
    part follows the index, ``G S(y)/S(2015)``, in every year (before, it was 0 t there),
    and no warning is given."""
    ref = inventory(3, 2015, point_scale=100.0)
    for name, year in service.items():
        ref[name].values[0] = year  # S000, A_PublicPower
    out, said = rebuild_said(ref, index_table(linear), years)
    for s in SECTORS:
        for p in POLS:
            g_ref = float(ref["emission"].sel(sector=s, pollutant=p).sum())
            expected = np.array([g_ref * linear(y) / linear(2015) for y in years])
            np.testing.assert_allclose(gridded(out, s, p), expected, rtol=1e-12)
    p_ref = ref["point_emission"].sel(source="S000").values
    on = [
        (y >= service.get("start_year", 0)) and (y <= service.get("end_year", 9999)) for y in years
    ]
    got = out["point_emission"].sel(source="S000").transpose("year", "pollutant").values
    for iy, y in enumerate(years):
        expected = p_ref * linear(y) / linear(2015) if on[iy] else 0.0 * p_ref
        np.testing.assert_allclose(got[iy], expected, rtol=1e-12)
    outside = np.isfinite(out["target_total"].values)
    np.testing.assert_allclose(out["total"].values[outside], out["target_total"].values[outside])
    assert not said, said


@given(
    seed=st.integers(0, 10_000),
    ref_year=st.integers(1995, 2015),
    starts=st.lists(st.integers(1985, 2025) | st.just(-1), min_size=3, max_size=3),
    ends=st.lists(st.integers(1985, 2025) | st.just(-1), min_size=3, max_size=3),
    point_scale=st.floats(0.01, 1000.0),
)
@settings(max_examples=30)
def test_service_years_never_move_the_gridded_part(seed, ref_year, starts, ends, point_scale):
    """Without a register, whatever the stacks' years of service and sizes, the gridded
    part of every sector is ``G_ref S(y)/S(ref)`` in every year (never clipped, no warning)
    and each stack ``p_ref S(y)/S(ref)`` in its years of service: the sector's mass is the
    index times what is in service that year."""
    for k in range(3):  # a stack starting after it ends is refused
        if starts[k] >= 0 and ends[k] >= 0 and starts[k] > ends[k]:
            starts[k], ends[k] = ends[k], starts[k]
    ref = inventory(seed, ref_year, point_scale=point_scale)
    ref["start_year"].values[:] = starts
    ref["end_year"].values[:] = ends
    rng = np.random.default_rng(seed)
    series = dict(zip(YEARS, rng.uniform(0.2, 3.0, len(YEARS)), strict=True))
    out, said = rebuild_said(ref, index_table(series.get), YEARS)
    r = np.array([series[y] / series[ref_year] for y in YEARS])
    g_ref = ref["emission"].sum(("y", "x")).transpose("sector", "pollutant").values
    g = out["emission"].sum(("y", "x")).transpose("year", "sector", "pollutant").values
    np.testing.assert_allclose(g, r[:, None, None] * g_ref, rtol=1e-12)
    on = np.array(
        [
            [(s < 0 or y >= s) and (e < 0 or y <= e) for s, e in zip(starts, ends, strict=True)]
            for y in YEARS
        ]
    )
    pe = out["point_emission"].transpose("year", "source", "pollutant").values
    p_ref = ref["point_emission"].values
    np.testing.assert_allclose(
        pe, np.where(on[:, :, None], r[:, None, None] * p_ref, 0.0), rtol=1e-12
    )
    assert not said, said


# ------------------------------------------------------------------ the warning
def test_clipping_names_the_register_stack_and_its_years():
    """A register figure far above its stack's series is the cause of the clipping: the
    warning names the stack, the label and the year, and ``sources`` holds its id."""
    ref = inventory(8, 2010)
    hist = pd.DataFrame({"source_id": "S000", "year": 2000, "pollutant": "NOx", "emission": [1e6]})
    with pytest.warns(UnreconciledTotals) as said:
        out = rebuild(ref, index_table(linear), range(1999, 2011), point_history=hist)
    (w,) = [w.message for w in said if isinstance(w.message, UnreconciledTotals)]
    assert "sector A_PublicPower, pollutant NOx: in 1 year(s) (2000)" in str(w)
    assert "stack(s) S000 (register: 2000)" in str(w), str(w)
    assert w.sources == ["S000"] and w.years == [2000]
    assert float(gridded(out, "A_PublicPower", "NOx")[1]) == 0.0


def test_no_gridded_part_names_the_stacks_left_below_their_series():
    """A sector made only of stacks, one with a register figure below its series: nothing
    can take up the difference; the warning says so and names the stack and the year."""
    ref = inventory(9, 2010)
    ref["emission"].loc[{"sector": "A_PublicPower"}] = 0.0
    hist = pd.DataFrame({"source_id": "S002", "year": 2003, "pollutant": "PM10", "emission": [0.0]})
    with pytest.warns(UnreconciledTotals) as said:
        rebuild(ref, index_table(linear), range(2000, 2011), point_history=hist)
    (w,) = [w.message for w in said if isinstance(w.message, UnreconciledTotals)]
    text = str(w)
    assert "sector A_PublicPower, pollutant PM10: in 1 year(s) (2003)" in text
    assert "no gridded part in anchor 2010" in text and "S002 (register: 2003)" in text, text
    assert w.sources == ["S002"]
