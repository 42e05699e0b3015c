"""Tests of trajectoire.assess.siting: where to put the programme's monitors (issue 16)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.assess.siting import (
    choose_sites,
    choose_sites_from_output,
    site_features,
    siting_criterion,
)
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning

RES = 200.0
SECTORS = ["A_PublicPower", "B_Industry", "F_RoadTransport"]
TERRS = ["AAA", "BBB", "CCC"]


def _fields(ny: int = 30, nx: int = 36) -> dict[str, xr.DataArray]:
    """Synthetic run-grid fields: three sector sources, a town, three territories in x."""
    x = 600_000.0 + RES * np.arange(nx)
    y = 7_000_000.0 - RES * np.arange(ny)  # north-up, like the run grid
    xx, yy = np.meshgrid(x, y)
    coords = {"y": y, "x": x}

    def blob(cx: float, cy: float, scale: float, amp: float) -> np.ndarray:
        return amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * scale**2))

    x0, y0 = x[0], y[0]
    plant = blob(x0 + 28 * RES, y0 - 6 * RES, 600.0, 12.0)  # public power, north-east
    works = blob(x0 + 8 * RES, y0 - 22 * RES, 900.0, 9.0)  # industry, south-west
    road = 6.0 * np.exp(-((yy - (y0 - 15 * RES)) ** 2) / (2 * 300.0**2))  # east-west road
    road = road * (1 + 0.3 * np.sin(xx / 1500.0))
    contrib = np.stack([plant, works, road])  # (sector, y, x)
    contrib2 = np.stack([0.5 * plant, 1.5 * works, 0.4 * road])
    background = np.stack([np.full_like(xx, 10.0), np.full_like(xx, 14.0)])
    conc = background + np.stack([contrib.sum(0), contrib2.sum(0)])
    pollutants = ["NO2", "PM10"]
    town = blob(x0 + 18 * RES, y0 - 14 * RES, 1200.0, 400.0) + 5.0
    frac = np.zeros((3, ny, nx))
    edges = [0, nx // 3, 2 * nx // 3, nx]
    for t in range(3):
        frac[t, :, edges[t] : edges[t + 1]] = 1.0
    b = edges[1] - 1
    frac[0, :, b], frac[1, :, b] = 0.6, 0.4  # a shared border column
    return {
        "concentration": xr.DataArray(
            conc,
            dims=("pollutant", "y", "x"),
            coords={"pollutant": pollutants, **coords},
            attrs={"units": "ug m-3"},
        ),
        "contribution": xr.DataArray(
            np.stack([contrib, contrib2], axis=1),
            dims=("sector", "pollutant", "y", "x"),
            coords={"sector": SECTORS, "pollutant": pollutants, **coords},
            attrs={"units": "ug m-3"},
        ),
        "territory_fraction": xr.DataArray(
            frac, dims=("territory", "y", "x"), coords={"territory": TERRS, **coords}
        ),
        "population": xr.DataArray(town, dims=("y", "x"), coords=coords),
        "sources": pd.DataFrame(
            {"x": [x0 + 28 * RES, x0 + 8 * RES], "y": [y0 - 6 * RES, y0 - 22 * RES]}
        ),
    }


def _choose(f: dict[str, xr.DataArray], n: int = 8, **kw: object):  # noqa: ANN202
    return choose_sites(
        f["concentration"],
        n,
        population=f["population"],
        contribution=f["contribution"],
        territory_fraction=f["territory_fraction"],
        sources=f["sources"],
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def fields() -> dict[str, xr.DataArray]:
    return _fields()


@pytest.fixture(scope="module")
def chosen(fields):  # noqa: ANN001, ANN201
    return _choose(fields, 8)


def _random_criteria(res, n: int, draws: int, seed: int, existing=None) -> np.ndarray:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    valid = np.isfinite(res.features.values).all(axis=0)
    iy, ix = np.nonzero(valid)
    xs, ys = res.features["x"].values, res.features["y"].values
    ex = existing if existing is not None else np.zeros((0, 2))
    out = []
    for _ in range(draws):
        k = rng.choice(len(iy), n, replace=False)
        out.append(res.criterion_of(np.r_[ex[:, 0], xs[ix[k]]], np.r_[ex[:, 1], ys[iy[k]]]))
    return np.array(out)


def test_site_features_blocks(fields) -> None:  # noqa: ANN001
    feats = site_features(
        fields["concentration"],
        contribution=fields["contribution"],
        territory_fraction=fields["territory_fraction"],
        sources=fields["sources"],
    )
    blocks = list(feats["block"].values)
    assert blocks.count("concentration") == 2
    assert blocks.count("sectors") == 2 * 3
    assert blocks.count("distance") == 1
    assert blocks.count("territory") == 3
    shares = feats.where(feats["block"] == "sectors", drop=True)
    # per pollutant, the shares (scaled by 1/sqrt(2P)) add up to 1
    np.testing.assert_allclose(shares.sum("feature").values, 2 / np.sqrt(4.0), rtol=1e-12)
    dist = feats.sel(feature="log_distance_to_source").values
    assert dist.min() == 0.0 and np.isclose(dist.max(), 1.0)


def test_choose_sites_beats_random_placement(chosen) -> None:  # noqa: ANN001
    random = _random_criteria(chosen, 8, draws=400, seed=16)
    assert chosen.criterion < np.percentile(random, 5)
    assert chosen.criterion < random.min()
    assert chosen.criterion == pytest.approx(
        chosen.criterion_of(chosen.sites["x"], chosen.sites["y"]), rel=1e-12
    )


def test_choose_sites_near_optimal_on_small_problem() -> None:
    f = _fields(ny=9, nx=10)
    res = _choose(f, 2, max_points=10_000)
    phi = res.features.values.reshape(res.features.sizes["feature"], -1).T
    w = res.weights.values.reshape(-1)
    d = np.sqrt(((phi[:, None, :] - phi[None, :, :]) ** 2).sum(axis=2))  # (site, cell)
    i, j = np.triu_indices(len(phi), 1)
    best = (np.minimum(d[i], d[j]) @ w).min()  # every pair of sites, exhaustively
    assert res.criterion == pytest.approx(best, rel=1e-9)


def test_choose_sites_stable_under_tiny_noise(fields, chosen) -> None:  # noqa: ANN001
    rng = np.random.default_rng(3)
    noisy = dict(fields)
    for key in ("concentration", "contribution", "population"):
        da = fields[key]
        noisy[key] = da * (1 + 1e-6 * rng.standard_normal(da.shape))
    again = _choose(noisy, 8)
    pd.testing.assert_frame_equal(
        again.sites[["x", "y"]].reset_index(drop=True),
        chosen.sites[["x", "y"]].reset_index(drop=True),
    )


def test_criterion_decreases_with_k(fields, chosen) -> None:  # noqa: ANN001
    path = np.array(chosen.criterion_by_k)
    assert (np.diff(path) <= 1e-15).all()
    assert path[-1] == chosen.criterion
    alone = [_choose(fields, k).criterion for k in range(1, 9)]
    assert (np.diff(alone) <= 1e-15).all()


def _two_bumps_and_a_trend() -> tuple[xr.DataArray, xr.DataArray, pd.DataFrame]:
    """Two pollutants (a plume, a noisy trend), a random population, two stations: a case
    where the substitution pass rewrites the first slots (docs/siting.md)."""
    x, y = 100.0 * np.arange(14) + 50, 100.0 * np.arange(12)[::-1] + 50
    xx, yy = np.meshgrid(x, y)
    rng = np.random.default_rng(2)
    plume = 5 + 50 * np.exp(-((xx - 650) ** 2 + (yy - 550) ** 2) / (2 * 150**2))
    trend = 10 + xx / 100 + rng.normal(0, 0.5, xx.shape)
    c = xr.DataArray(np.stack([plume, trend]), dims=("pollutant", "y", "x"),
                     coords={"pollutant": ["NO2", "PM10"], "y": y, "x": x})  # fmt: skip
    pop = xr.DataArray(rng.uniform(0, 100, xx.shape), dims=("y", "x"), coords={"y": y, "x": x})
    return c, pop, pd.DataFrame({"x": [150.0, 350.0], "y": [250.0, 950.0]}, index=["e1", "e2"])


@pytest.mark.parametrize("with_stations", [True, False])
def test_first_k_ranked_sites_give_criterion_by_k(fields, with_stations) -> None:  # noqa: ANN001
    """The first k sites in ``rank`` order, with the stations, have the criterion
    ``criterion_by_k[k - 1]``, for every k (``rank`` was the slot of the search, which the
    substitutions rewrite: the first ranked site gave 0.1223, not criterion_by_k[0] =
    0.1140); the ranking is greedy: each site is the best next one among those left."""
    c, pop, ex = _two_bumps_and_a_trend()
    ex = ex if with_stations else ex.iloc[:0]
    res = choose_sites(c, n=6, population=pop, existing=ex)
    new = res.new_sites
    assert new["rank"].tolist() == list(range(1, 7))
    assert new["site"].tolist() == [f"new{k}" for k in range(1, 7)]
    for k in range(1, 7):
        top = new.head(k)
        j = res.criterion_of([*ex.x, *top.x], [*ex.y, *top.y])
        assert j == pytest.approx(res.criterion_by_k[k - 1], rel=1e-12)
        others = [
            res.criterion_of([*ex.x, *top.x[:-1], sx], [*ex.y, *top.y[:-1], sy])
            for sx, sy in zip(new.x[k - 1 :], new.y[k - 1 :], strict=True)
        ]
        assert j <= min(others) + 1e-12
    assert res.criterion_by_k[-1] == res.criterion


def test_a_new_site_is_never_on_a_station_cell() -> None:
    """Two plateaus: once a site is on each, every other cell gains nothing, and the tie
    went to the first cell in (y, x) order, the station's own (docs/siting.md: never)."""
    x, y = 100.0 * np.arange(14) + 50, 100.0 * np.arange(12)[::-1] + 50
    xx, _ = np.meshgrid(x, y)
    lev = xr.DataArray(np.where(xx < 700, 10.0, 20.0), dims=("y", "x"), coords={"y": y, "x": x})
    res = choose_sites(lev, n=3, existing=pd.DataFrame({"x": [50.0], "y": [1150.0]}, index=["st"]))
    new = res.new_sites[["x", "y"]].to_numpy().tolist()
    assert [50.0, 1150.0] not in new and len({tuple(p) for p in new}) == 3
    with pytest.raises(InputError, match=r"only 0 candidate cell\(s\) with features \(1 more "):
        choose_sites(lev, n=1, candidates=[[50.0, 1150.0]], existing=[[50.0, 1150.0]])


def test_existing_stations_are_kept_and_new_sites_add(fields) -> None:  # noqa: ANN001
    x, y = fields["concentration"]["x"].values, fields["concentration"]["y"].values
    existing = pd.DataFrame({"x": [x[18], x[20]], "y": [y[14], y[15]]}, index=["S1", "S2"])
    res = _choose(fields, 4, existing=existing)
    ex = res.sites[res.sites["existing"]]
    assert list(ex["site"]) == ["S1", "S2"]
    np.testing.assert_allclose(ex[["x", "y"]].to_numpy(), existing.to_numpy())
    new = res.new_sites[["x", "y"]].to_numpy()
    assert not any((new == row).all(axis=1).any() for row in existing.to_numpy())
    assert res.criterion_existing == pytest.approx(
        siting_criterion(res.features, res.weights, existing["x"], existing["y"])
    )
    assert res.criterion < res.criterion_existing
    assert res.criterion <= res.criterion_new
    # the new sites complement the stations: better together than the choice made alone
    alone = _choose(fields, 4)
    both = res.criterion_of(
        np.r_[existing["x"], alone.sites["x"]], np.r_[existing["y"], alone.sites["y"]]
    )
    assert res.criterion <= both + 1e-12
    assert (res.sites["loss_if_removed"] >= -1e-12).all()


def test_min_spacing_is_respected(fields) -> None:  # noqa: ANN001
    x, y = fields["concentration"]["x"].values, fields["concentration"]["y"].values
    existing = np.array([[x[18], y[14]]])
    free = _choose(fields, 8, existing=existing)
    res = _choose(fields, 8, existing=existing, min_spacing=1500.0)
    pts = res.sites[["x", "y"]].to_numpy()
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 1500.0
    free_pts = free.sites[["x", "y"]].to_numpy()
    d_free = np.hypot(*(free_pts[:, None, :] - free_pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d_free, np.inf)
    assert d_free.min() < 1500.0  # the constraint did bind
    assert res.criterion >= free.criterion - 1e-12


def test_one_site_per_territory(fields) -> None:  # noqa: ANN001
    # all the inhabitants in the middle territory: without the constraint, all sites go there
    pop = fields["population"].where(fields["territory_fraction"].sel(territory="BBB") == 1, 0)
    f = {**fields, "population": pop}
    res = _choose(f, 3, territories=True, area_share=0.0)
    assert sorted(res.sites["territory"]) == TERRS
    only = _choose(f, 2, territories=["CCC"], area_share=0.0)
    assert "CCC" in set(only.sites["territory"])


def test_candidate_points_and_mask(fields) -> None:  # noqa: ANN001
    x, y = fields["concentration"]["x"].values, fields["concentration"]["y"].values
    pts = pd.DataFrame({"x": x[::5] + 30.0, "y": y[: len(x[::5])] - 20.0})
    res = _choose(fields, 3, candidates=pts)
    cells = set(zip(x[::5], y[: len(x[::5])], strict=True))
    assert set(zip(res.sites["x"], res.sites["y"], strict=True)) <= cells
    mask = xr.zeros_like(fields["population"], dtype=bool)
    mask[:, :10] = True
    res = _choose(fields, 3, candidates=mask)
    assert (res.sites["x"] <= x[9]).all()


def test_aggregated_search_stays_good(fields, chosen) -> None:  # noqa: ANN001
    res = _choose(fields, 8, max_points=150)
    assert res.info["demand_points"] <= 150 and res.info["demand_step"] > 0
    assert res.info["candidates"] <= 150 and res.info["candidate_step"] > 0
    assert res.criterion == pytest.approx(res.criterion_of(res.sites["x"], res.sites["y"]))
    random = _random_criteria(res, 8, draws=200, seed=5)
    assert res.criterion < np.percentile(random, 5)
    assert res.criterion <= 1.2 * chosen.criterion


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 2000}, "only 1080 candidate cell"),
        ({"n": 0}, "expected an integer >= 1"),
        ({"territories": ["MEL"]}, r"unknown territory \['MEL'\]"),
        ({"candidates": "empty"}, "candidate mask is empty"),
        ({"existing": [[1.0, 2.0]]}, "outside the grid"),
        ({"candidates": np.zeros((0, 2))}, "no candidate point"),
        ({"n": 2, "territories": True, "candidates": "left"}, r"no candidate cell in .*BBB"),
        ({"n": 2, "territories": True}, "3 territories still need a monitor but n = 2"),
        ({"min_spacing": 20_000.0}, "only 1 new site"),
        ({"block_weights": {"wind": 1.0}}, "unknown block 'wind'"),
        ({"area_share": 1.5}, r"area_share = 1.5; expected in \[0, 1\]"),
        ({"max_points": float("nan")}, r"max_points = nan; expected a number >= 2"),
    ],
)
def test_bad_inputs_give_one_clear_line(fields, kwargs, match) -> None:  # noqa: ANN001
    kw = dict(kwargs)
    n = kw.pop("n", 8)
    if isinstance(kw.get("candidates"), str):
        mask = xr.zeros_like(fields["population"], dtype=bool)
        if kw["candidates"] == "left":
            mask[:, :5] = True
        kw["candidates"] = mask
    with pytest.raises(InputError, match=match) as info:
        _choose(fields, n, **kw)
    assert "\n" not in str(info.value)


def test_no_territory_data_and_grid_mismatch(fields) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match="territories=True needs territory_fraction"):
        choose_sites(fields["concentration"], 2, territories=True)
    with pytest.raises(InputError, match="'x' coordinates differ"):
        choose_sites(fields["concentration"], 2, population=fields["population"].isel(x=slice(1)))
    with pytest.raises(InputError, match="every cell of the concentration is NaN"):
        choose_sites(fields["concentration"] * np.nan, 2)


def test_an_all_nan_population_is_one_error_without_a_numpy_warning(fields) -> None:  # noqa: ANN001
    """Was numpy's "All-NaN slice encountered" RuntimeWarning before the error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match="no inhabitants on the valid cells"):
            _choose({**fields, "population": fields["population"] * np.nan}, 2)


def _dataset(f: dict[str, xr.DataArray]) -> xr.Dataset:
    conc = f["concentration"].expand_dims(year=[2020, 2023])
    contrib = f["contribution"].expand_dims(year=[2020, 2023]).copy()
    contrib.loc[{"year": 2020}] = np.nan  # not a map year
    emission = (10.0 * f["contribution"]).expand_dims(year=[2020, 2023])
    x, y = f["concentration"]["x"].values, f["concentration"]["y"].values
    return xr.Dataset(
        {
            "concentration": conc,
            "contribution": contrib,
            "emission": emission,
            "territory_fraction": f["territory_fraction"],
            "population": f["population"],
            "station_x": ("station", [x[18], x[3], 1.0]),
            "station_y": ("station", [y[14], y[25], 2.0]),
        },
        coords={"station": ["S1", "S2", "FAR"]},
        attrs={"map_years": "2023"},
    )


def test_choose_sites_from_output(fields) -> None:  # noqa: ANN001
    ds = _dataset(fields)
    with pytest.warns(TrajectoireWarning, match=r"station\(s\) \['FAR'\] lie outside"):
        res = choose_sites_from_output(ds, 2023, 4, territories=True)
    assert list(res.sites["site"][:2]) == ["S1", "S2"]
    assert res.criterion < res.criterion_existing
    assert sorted(set(res.sites["territory"])) == TERRS
    assert int((res.features["block"] == "distance").sum()) == 1
    with pytest.raises(InputError, match="no contribution maps for 2020"):
        choose_sites_from_output(ds, 2020, 4, use_stations=False)
    with pytest.raises(InputError, match="year 1990 is not in the file"):
        choose_sites_from_output(ds, 1990)
    with pytest.raises(InputError, match=r"pollutant \['UFP'\] not in the file"):
        choose_sites_from_output(ds, 2023, pollutants="UFP")
    with pytest.raises(MissingVariableError, match="no 'concentration'"):
        choose_sites_from_output(ds.drop_vars("concentration"), 2023)
    no_pop = ds.drop_vars("population")
    with pytest.warns(TrajectoireWarning, match="weighed by area alone"):
        choose_sites_from_output(no_pop, 2023, 2, use_stations=False)


@pytest.fixture(scope="module")
def sample_output(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("siting") / "s.nc"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "trajectoire.cli",
            "run",
            str(root / "data/sample/config.toml"),
            "--out",
            str(out),
            "--years",
            "2023",
        ],
        check=True,
        capture_output=True,
    )
    return xr.open_dataset(out)


@pytest.mark.slow
def test_sample_output_siting(sample_output: xr.Dataset) -> None:
    from trajectoire.sample.geo import town_density

    ds = sample_output
    xx, yy = np.meshgrid(ds["x"].values, ds["y"].values)
    cell_km2 = abs(float(ds["x"][1] - ds["x"][0]) * float(ds["y"][0] - ds["y"][1])) / 1e6
    pop = xr.DataArray(
        town_density(xx, yy) * cell_km2, dims=("y", "x"), coords={"y": ds["y"], "x": ds["x"]}
    )
    with pytest.warns(TrajectoireWarning, match="not counted as existing"):
        res = choose_sites_from_output(
            ds, 2023, 8, population=pop, territories=True, min_spacing=2000.0
        )
    assert res.new_sites["territory"].ne("").all()
    assert set(res.sites["territory"]) == {str(t) for t in ds["territory"].values}
    ex = res.sites[res.sites["existing"]][["x", "y"]].to_numpy()
    random = _random_criteria(res, 8, draws=100, seed=1, existing=ex)
    assert res.criterion < np.percentile(random, 5)
    assert res.criterion < res.criterion_existing
    assert (np.diff(res.criterion_by_k) <= 1e-12).all()


def test_choose_sites_from_output_takes_the_year_of_a_yearly_population(fields) -> None:  # noqa: ANN001
    # a run writes population(year, y, x) (docs/outputs.md)
    ds = _dataset(fields)
    static = choose_sites_from_output(ds, 2023, 3, use_stations=False)
    pop = fields["population"]
    yearly = ds.assign(
        population=xr.concat([pop * 0.5, pop], "year").assign_coords(year=[2020, 2023])
    )
    res = choose_sites_from_output(yearly, 2023, 3, use_stations=False)
    assert res.criterion == static.criterion
    pd.testing.assert_frame_equal(res.sites, static.sites)
    censuses = pop.expand_dims(year=[2019])
    with pytest.warns(
        TrajectoireWarning, match=r"no map for 2023 \(years 2019\); the nearest, 2019"
    ):
        choose_sites_from_output(ds, 2023, 3, use_stations=False, population=censuses)
    with pytest.raises(InputError, match=r"\.sel\(year=\.\.\.\)"):
        choose_sites(fields["concentration"], 2, population=censuses)


def test_choose_sites_from_output_accepts_pollutant_aliases(fields) -> None:  # noqa: ANN001
    ds = _dataset(fields)
    pols = [str(p) for p in ds["pollutant"].values]
    ref = choose_sites_from_output(ds, 2023, 3, use_stations=False, pollutants=pols)
    aliases = [p.lower().replace(".", "") for p in pols]
    res = choose_sites_from_output(ds, 2023, 3, use_stations=False, pollutants=aliases)
    pd.testing.assert_frame_equal(res.sites, ref.sites)


# ----------------------------------------------------------- points on cell edges (probe14 #3)
@given(
    nx=st.integers(2, 7),
    ny=st.integers(2, 7),
    res=st.sampled_from([100.0, 200.0, 1000.0]),
    x_descending=st.booleans(),
    y_ascending=st.booleans(),
    data=st.data(),
)
@settings(max_examples=60)
def test_a_point_on_a_cell_edge_is_in_the_cell_of_grid_cell_index(
    nx, ny, res, x_descending, y_ascending, data
) -> None:  # noqa: ANN001
    """Points on cell edges and corners (the sample's stations are on whole hundreds of
    metres: at 100 m every one is on a corner) are put in the cell that
    ``Grid.cell_index`` gives, the one east / south of the edge, whatever the order of the
    centres (before, siting took the nearest centre first in the array: the northern cell
    of a north-up grid, the western one of west-to-east centres)."""
    from trajectoire.assess.siting import _cells_of
    from trajectoire.grid import Grid

    g = Grid.from_bounds(600_000, 7_000_000, 600_000 + nx * res, 7_000_000 + ny * res, res)
    i = data.draw(st.lists(st.integers(0, nx), min_size=1, max_size=6))  # edge lines
    j = data.draw(st.lists(st.integers(0, ny), min_size=len(i), max_size=len(i)))
    half = data.draw(st.lists(st.booleans(), min_size=len(i), max_size=len(i)))
    px = g.xmin + res * (np.asarray(i) + np.where(half, 0.5, 0.0)).clip(0, nx)
    py = g.ymin + res * np.asarray(j, dtype=float)
    points = pd.DataFrame({"x": px, "y": py}, index=[f"p{k}" for k in range(len(i))])
    row, col, inside = g.cell_index(px, py)
    assert inside.all()
    xs = g.x[::-1] if x_descending else g.x
    ys = g.y[::-1] if y_ascending else g.y  # Grid.y is north-up (descending)
    iy, ix = np.divmod(_cells_of(points, xs, ys, "test"), nx)
    np.testing.assert_array_equal(xs[ix], g.x[col])
    np.testing.assert_array_equal(ys[iy], g.y[row])


def test_a_station_on_a_cell_edge_is_judged_at_the_cell_of_its_station_values(chosen) -> None:  # noqa: ANN001
    """The probe's case: a station on the edge between two rows (and two columns) is
    sampled by ``sample_at_stations`` in the cell south-east of it; siting judges it at
    that cell too (``siting_criterion``, hence ``criterion_existing`` and min_spacing),
    not at the northern one."""
    from trajectoire import sample_at_stations

    xs, ys = chosen.features["x"].values, chosen.features["y"].values  # north-up
    ex, ey = xs[10] + RES / 2, ys[12] - RES / 2  # the corner of 4 cells
    field = xr.DataArray(
        np.arange(xs.size * ys.size, dtype=float).reshape(ys.size, xs.size),
        dims=("y", "x"),
        coords={"y": ys, "x": xs},
    )
    station = pd.DataFrame({"station_id": ["S"], "x": [ex], "y": [ey]})
    flat = int(sample_at_stations(field, station, method="nearest").values.ravel()[0])
    assert divmod(flat, xs.size) == (13, 11)  # the row south of the edge, the column east
    crit = chosen.criterion_of
    assert crit([ex], [ey]) == crit([xs[11]], [ys[13]])
    assert crit([xs[10]], [ys[12]]) != crit([xs[11]], [ys[13]])  # the test tells them apart
