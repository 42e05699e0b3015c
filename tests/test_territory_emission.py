"""``territory_emission(year, territory, sector, pollutant)``: each territory's emission, the
gridded sources by the territory's share of each cell and each stack whole in the territory
its point lies in (the attribution's origin rule). Before it, the report and
``plot.trajectories`` took the emission maps times ``territory_fraction``, which split a
stack whose cell straddles a border by area (real-data example, 1 km: 9.7 of a stack's 21 t
NMVOC in its own territory's emissions, all 21 t in its source split)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.io.outputs import YearMaps

YEAR = 2018


# ------------------------------------------------------------ YearMaps.territory_sums
def _dense_reference(planes, mask, weights_grid, n_dispersed):
    """Plain numpy: Σ over the mask's cells of plane × weight, NaN for the pollutants not
    emitted."""
    n_s, n_p = planes.shape[:2]
    out = np.zeros((n_s, n_p, weights_grid.shape[0]))
    for s in range(n_s):
        for ip in range(n_p):
            if ip >= n_dispersed:
                out[s, ip] = np.nan
                continue
            for t in range(weights_grid.shape[0]):
                out[s, ip, t] = np.sum(
                    planes[s, ip][mask].astype(np.float64) * weights_grid[t][mask]
                )
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    ny=st.integers(1, 9),
    nx=st.integers(1, 9),
    n_t=st.integers(1, 3),
    zero_share=st.floats(0.0, 1.0),
)
def test_territory_sums_match_plain_numpy(seed, ny, nx, n_t, zero_share) -> None:
    rng = np.random.default_rng(seed)
    n_s, n_p, n_d = 3, 3, 2  # the last pollutant not emitted (NO2)
    mask = rng.random((ny, nx)) < 0.7
    planes = rng.random((n_s, n_p, ny, nx)).astype(np.float32) * 100.0
    planes[rng.random((n_s, n_p)) < zero_share] = 0.0  # whole planes of zeros: not held
    f = rng.random((n_t, ny, nx))
    f /= np.maximum(f.sum(axis=0), 1.0)
    maps = YearMaps(n_s, n_p, mask, with_contribution=False)
    none = np.zeros(0, dtype=int)
    by_pollutant = [list(planes[:, ip]) for ip in range(n_d)]  # each: its planes by sector
    maps.finish_emission(n_d, none, none, [], np.zeros((n_d, 0)), by_pollutant)
    weights = f.reshape(n_t, -1)[:, np.flatnonzero(mask)]
    got = maps.territory_sums(weights)
    want = _dense_reference(planes, mask, f, n_d)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    # linear in the weights: two territories' sums are the sum of their weights' sums
    if n_t >= 2:
        both = maps.territory_sums(weights[:1] + weights[1:2])
        assert np.allclose(
            maps.territory_sums(sparse.csr_matrix(weights)), got, rtol=1e-12, equal_nan=True
        )
        np.testing.assert_allclose(both[..., 0], got[..., 0] + got[..., 1], rtol=1e-12, atol=1e-9)


def test_territory_sums_count_the_stacks_in_their_cells() -> None:
    mask = np.ones((2, 3), dtype=bool)
    planes = np.zeros((1, 1, 2, 3), dtype=np.float32)
    planes[0, 0, 0, 1] = 2.0
    maps = YearMaps(1, 1, mask, with_contribution=False)
    rows, cols = np.array([1]), np.array([2])
    maps.finish_emission(1, rows, cols, [0], np.array([[5.0]]), [list(planes[:, 0])])
    w = np.zeros((1, 6))
    w[0, 1], w[0, 5] = 1.0, 0.25  # the stack's cell (1, 2) is flat index 5
    np.testing.assert_allclose(maps.territory_sums(w)[0, 0], [2.0 + 0.25 * 5.0])


def test_territory_sums_before_finish_emission_is_an_error() -> None:
    maps = YearMaps(1, 1, np.ones((2, 2), dtype=bool), with_contribution=False)
    with pytest.raises(RuntimeError, match="before finish_emission"):
        maps.territory_sums(np.ones((1, 4)))


# ------------------------------------------------------------ a run with a border stack
def _border_point(tmp: Path) -> tuple[float, float, str]:
    """A point inside ACSO whose 1 km cell ACSO shares (20-80 %) with the rest of the grid,
    found from a first preparation of the run."""
    cfg = load_config(_config(tmp))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
    ia = ctx.origins.index("ACSO")
    share = ctx.fractions[ia]
    rows, cols = np.nonzero((share > 0.2) & (share < 0.8) & ctx.mask)
    terr = gpd.read_file(SAMPLE / "territories.gpkg").to_crs(ctx.grid.crs)
    poly = terr.loc[terr["territory"] == "ACSO"].geometry.iloc[0]
    x, y = ctx.grid.coords()["x"].values, ctx.grid.coords()["y"].values
    half = ctx.grid.resolution / 2
    r, c = int(rows[0]), int(cols[0])
    cell = shapely.box(x[c] - half, y[r] - half, x[c] + half, y[r] + half)
    inside = cell.intersection(poly).representative_point()
    return float(inside.x), float(inside.y), f"{share[r, c]:.3f}"


def _config(tmp: Path, stacks: Path | None = None) -> Path:
    over = {
        r"^resolution = [\d.]+": "resolution = 1000.0",
        r"^first_year = \d+": f"first_year = {YEAR}",
        r"^last_year = \d+": f"last_year = {YEAR}",
        r"^map_years = \[.*\]": f"map_years = [{YEAR}]",
        r'^point_source_history = ".*"\n': "",
    }
    if stacks is not None:
        over[r'^point_sources = ".*"'] = f'point_sources = "{stacks}"'
    tmp.mkdir(parents=True, exist_ok=True)
    return small_config(tmp, **over)


@pytest.fixture(scope="module")
def border_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("border")
    x, y, share = _border_point(tmp / "first")
    table = pd.read_csv(SAMPLE / "point_sources.csv")
    one = table.iloc[[0]].copy()
    one["source_id"], one["x"], one["y"] = "BORDER", x, y
    inner = table.iloc[[0]].copy()
    inner["source_id"] = "INNER"
    path = tmp / "stacks.csv"
    pd.concat([one, inner]).to_csv(path, index=False)
    cfg = load_config(_config(tmp / "second", path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        ds = P.compute_year(ctx, YEAR).merge(P.static_variables(ctx))
    return ctx, ds, one.iloc[0]


def test_a_border_stack_counts_whole_in_its_territory(border_run) -> None:
    ctx, ds, stack = border_run
    pts = ctx.points
    k = [str(v) for v in pts["source"].values].index("BORDER")
    assert str(pts["origin"].values[k]) == "ACSO"
    r, c = int(pts["row"].values[k]), int(pts["col"].values[k])
    f = ctx.fractions[:, r, c]
    assert 0.2 < f[ctx.origins.index("ACSO")] < 0.8
    te = ds["territory_emission"].sel(year=YEAR, sector=stack["sector"])
    by_cell = (ds["emission"].sel(year=YEAR, sector=stack["sector"]).fillna(0.0)
               * ds["territory_fraction"].fillna(0.0)).sum(("y", "x"))  # fmt: skip
    for pol in ("NOx", "SO2", "PM10"):
        q = float(stack[pol])
        for terr in ("ACSO", "ARC"):
            own = 1.0 if terr == "ACSO" else 0.0
            want = float(by_cell.sel(territory=terr, pollutant=pol)) + q * (
                own - f[ctx.origins.index(terr)]
            )
            got = float(te.sel(territory=terr, pollutant=pol))
            assert got == pytest.approx(want, rel=1e-5), (pol, terr)
        # the whole stack is in ACSO's emission: its cell's share alone would miss part of it
        gap = float(te.sel(territory="ACSO", pollutant=pol)) - float(
            by_cell.sel(territory="ACSO", pollutant=pol)
        )
        assert gap == pytest.approx(q * (1.0 - f[ctx.origins.index("ACSO")]), rel=1e-4)
        assert gap > 0.1 * q


def test_the_other_sectors_are_the_maps_times_the_shares(border_run) -> None:
    ctx, ds, stack = border_run
    others = [s for s in ds["sector"].values if s != stack["sector"]]
    te = ds["territory_emission"].sel(year=YEAR, sector=others)
    by_cell = (ds["emission"].sel(year=YEAR, sector=others).fillna(0.0)
               * ds["territory_fraction"].fillna(0.0)).sum(("y", "x"))  # fmt: skip
    pols = [p for p in ds["pollutant"].values if p != "NO2"]
    np.testing.assert_allclose(
        te.sel(pollutant=pols).values,
        by_cell.sel(pollutant=pols).transpose(*te.dims).values,
        rtol=1e-5,
        atol=1e-6 * float(by_cell.max()),
    )
    assert bool(ds["territory_emission"].sel(pollutant="NO2").isnull().all())


def test_the_stacks_origin_and_the_territory_emission_agree(border_run) -> None:
    """What the attribution credits to ACSO as origin comes from the emission counted in
    ACSO: the border stack's SO2 is ACSO's own, whole."""
    ctx, ds, stack = border_run
    te = ds["territory_emission"].sel(year=YEAR, pollutant="SO2").sum("sector")
    stacks_in_acso = sum(
        float(stack["SO2"]) for o in ctx.points["origin"].values if str(o) == "ACSO"
    )
    assert float(te.sel(territory="ACSO")) >= stacks_in_acso * (1 - 1e-6)
    attrs = ds["territory_emission"].attrs
    assert attrs["units"] == "t yr-1" and "whole" in attrs["comment"]
