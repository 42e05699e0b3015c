"""Tests of trajectoire.territories: loading, validation, grids, fractions, masks."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import example, given
from hypothesis import strategies as st

from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning
from trajectoire.grid import Grid
from trajectoire.tables import column_mapping
from trajectoire.territories import (
    COLUMNS,
    TERRITORIES,
    buffer_mask,
    get_territory,
    load_territories,
    regional_grid,
    territory_fractions,
    territory_grid,
)

REAL_COLUMNS = {"territoire": "territory", "epci_nom": "name", "pmun_2023": "population"}
INSEE_2023 = {
    "MEL": 1_195_234,
    "CUD": 191_478,
    "DOUAISIS": 149_282,
    "ACSO": 90_234,
    "ARC": 83_992,
    "CCHF": 53_437,
    "CCVT": 20_462,
}


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    return load_territories()


def _frame(ids: list[str], crs: str | None = "EPSG:2154") -> gpd.GeoDataFrame:
    geoms = [
        shapely.box(700_000 + 3000 * k, 7_000_000, 702_000 + 3000 * k, 7_002_000)
        for k in range(len(ids))
    ]
    return gpd.GeoDataFrame({"code": ids, "pop": [10] * len(ids)}, geometry=geoms, crs=crs)


def test_registry_ids_names_and_populations() -> None:
    assert list(TERRITORIES) == ["MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC"]
    assert {k: t.population_2023 for k, t in TERRITORIES.items()} == INSEE_2023
    assert TERRITORIES["MEL"].inhabitants == 1_200_000
    assert TERRITORIES["CUD"].siren == "245900428"
    assert all(len(t.siren) == 9 for t in TERRITORIES.values())


def test_load_sample_columns_crs_and_populations(sample: gpd.GeoDataFrame) -> None:
    assert list(sample.columns) == list(COLUMNS)
    assert sample.crs.to_epsg() == 2154
    assert dict(zip(sample["territory"], sample["population"], strict=True)) == INSEE_2023
    assert sample["population"].dtype == np.int64
    assert all(g.geom_type in ("Polygon", "MultiPolygon") for g in sample.geometry)


def test_load_reprojects_other_crs(tmp_path: Path, sample: gpd.GeoDataFrame) -> None:
    path = tmp_path / "t.geojson"
    sample.to_crs("EPSG:4326").to_file(path)
    back = load_territories(path)
    assert back.crs.to_epsg() == 2154
    np.testing.assert_allclose(back.area, sample.area, rtol=1e-6)


def test_column_mapping_and_registry_fill(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    _frame(["MEL", "CUD"]).to_file(path)
    gdf = load_territories(path, columns={"code": "territory"})
    assert list(gdf["name"]) == [TERRITORIES["MEL"].name, TERRITORIES["CUD"].name]
    assert list(gdf["population"]) == [1_195_234, 191_478]
    gdf = load_territories(path, columns={"code": "territory", "pop": "population"})
    assert list(gdf["population"]) == [10, 10]


def test_file_without_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        _frame(["MEL"], crs=None).to_file(path)
    with pytest.raises(InputError, match="no CRS.*set_crs"):
        load_territories(path, columns={"code": "territory"})


def test_missing_file_and_unknown_layer(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_territories(tmp_path / "absent.gpkg")
    path = tmp_path / "t.gpkg"
    _frame(["MEL"]).to_file(path, layer="a")
    _frame(["CUD"]).to_file(path, layer="b")
    with pytest.raises(InputError, match=r"several layers \['a', 'b'\]"):
        load_territories(path, columns={"code": "territory"})
    with pytest.raises(MissingVariableError, match="no layer 'c'"):
        load_territories(path, layer="c", columns={"code": "territory"})
    assert (
        load_territories(path, layer="b", columns={"code": "territory"})["territory"].item()
        == "CUD"
    )


def test_bad_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    _frame(["MEL"]).to_file(path)
    with pytest.raises(MissingVariableError, match="no 'territory' column.*columns="):
        load_territories(path)
    with pytest.raises(MissingVariableError, match=r"names \['territoire'\]"):
        load_territories(path, columns={"territoire": "territory"})
    with pytest.raises(InputError, match="targets"):
        load_territories(path, columns={"code": "territory", "pop": "inhabitants"})


def test_unknown_ids_need_a_population(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    _frame(["LENS"]).to_file(path)
    with pytest.raises(MissingVariableError, match="LENS"):
        load_territories(path, columns={"code": "territory"})
    gdf = load_territories(path, columns={"code": "territory", "pop": "population"})
    assert gdf["name"].item() == "LENS"


def test_duplicated_ids_and_bad_geometries(tmp_path: Path) -> None:
    path = tmp_path / "dup.gpkg"
    _frame(["MEL", "MEL"]).to_file(path)
    with pytest.raises(InputError, match="more than once.*dissolve"):
        load_territories(path, columns={"code": "territory"})
    bowtie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    bad = gpd.GeoDataFrame({"territory": ["MEL"]}, geometry=[bowtie], crs="EPSG:2154")
    bad.to_file(tmp_path / "bowtie.gpkg")
    with pytest.raises(InputError, match="invalid polygon.*make_valid"):
        load_territories(tmp_path / "bowtie.gpkg")
    pts = gpd.GeoDataFrame({"territory": ["MEL"]}, geometry=[shapely.Point(0, 0)], crs=2154)
    pts.to_file(tmp_path / "pts.gpkg")
    with pytest.raises(InputError, match="is a Point"):
        load_territories(tmp_path / "pts.gpkg")
    neg = _frame(["MEL"])
    neg["pop"] = -1
    neg.to_file(tmp_path / "neg.gpkg")
    with pytest.raises(InputError, match="missing or negative"):
        load_territories(tmp_path / "neg.gpkg", columns={"code": "territory", "pop": "population"})


def test_table_without_geometry_is_refused(tmp_path: Path) -> None:
    """A CSV given as the territories crashed with AttributeError: 'DataFrame' object has
    no attribute 'crs'."""
    path = tmp_path / "epci.csv"
    path.write_text("territoire,epci_nom,pmun_2023\nMEL,Metropole,1195234\n")
    with pytest.raises(InputError, match=r"epci\.csv: is a table without geometry.*GeoPackage"):
        load_territories(path)
    with pytest.raises(InputError, match=r"Set path = .* in \[inputs\.territories\]") as info:
        load_territories(path, config_key="[inputs] territories")
    assert "\n" not in str(info.value)


def test_text_population_column_names_column_and_values(tmp_path: Path) -> None:
    """A text column mapped as the population crashed with ValueError: could not convert
    string to float."""
    path = tmp_path / "t.gpkg"
    _frame(["MEL", "CUD"]).assign(nom=["Lille", "Dunkerque"]).to_file(path)
    with pytest.raises(
        InputError, match=r"column 'nom' \(population\): 2 value\(s\) are not numbers: "
        r"'Lille' \(MEL\), 'Dunkerque' \(CUD\); expected a number of inhabitants"
    ):  # fmt: skip
        load_territories(path, columns={"code": "territory", "nom": "population"})
    # the configuration's mapping (canonical -> file column) names the file's column too
    with (
        column_mapping({"territory": "code", "population": "nom"}),
        pytest.raises(InputError, match=r"column 'nom' \(population\).*population = "),
    ):
        load_territories(path, config_key="[inputs] territories")


def _overlap_file(tmp_path: Path, second: shapely.Polygon) -> Path:
    first = shapely.box(700_000, 7_000_000, 710_000, 7_010_000)
    gdf = gpd.GeoDataFrame(
        {"territory": ["ACSO", "ARC"], "population": [10, 20]},
        geometry=[first, second],
        crs="EPSG:2154",
    )
    path = tmp_path / "t.gpkg"
    gdf.to_file(path)
    return path


def test_overlapping_territories_are_refused(tmp_path: Path) -> None:
    """ARC given ACSO's polygon ran, and ARC's inhabitants were ACSO's."""
    same = _overlap_file(tmp_path, shapely.box(700_000, 7_000_000, 710_000, 7_010_000))
    with pytest.raises(
        InputError,
        match=r"t\.gpkg \(\[inputs\] territories\): territories 'ACSO' and 'ARC' "
        r"\(100 km2, 100 % of 'ACSO'\) overlap.*counted in one territory",
    ):
        load_territories(same, config_key="[inputs] territories")
    # half of the smaller inside the other
    with pytest.raises(InputError, match=r"\(20 km2, 50 % of 'ARC'\)"):
        load_territories(
            _overlap_file(tmp_path, shapely.box(708_000, 7_000_000, 712_000, 7_010_000))
        )


def test_touching_territories_pass_and_slivers_warn(tmp_path: Path) -> None:
    touching = _overlap_file(tmp_path, shapely.box(710_000, 7_000_000, 720_000, 7_010_000))
    assert len(load_territories(touching)) == 2
    # a 1 m sliver along a 10 km border: 1e-4 of a territory, a digitising mismatch
    sliver = _overlap_file(tmp_path, shapely.box(709_999, 7_000_000, 720_000, 7_010_000))
    with pytest.warns(TrajectoireWarning, match=r"'ACSO' and 'ARC' \(0\.01 km2, 0\.01 % "):
        assert len(load_territories(sliver)) == 2


def test_get_territory(sample: gpd.GeoDataFrame) -> None:
    assert get_territory(sample, "douaisis")["territory"].item() == "DOUAISIS"
    with pytest.raises(InputError, match=r"unknown territory id 'LILLE'.*'MEL'"):
        get_territory(sample, "LILLE")
    with pytest.raises(InputError, match="GeoDataFrame"):
        get_territory([1, 2], "MEL")  # type: ignore[arg-type]


def test_territory_and_regional_grids(sample: gpd.GeoDataFrame) -> None:
    g = territory_grid(sample, "ACSO", resolution=100.0, buffer=5000.0)
    x0, y0, x1, y1 = get_territory(sample, "ACSO").total_bounds
    assert g.xmin <= x0 - 5000 < g.xmin + 100 and g.ymax - 100 < y1 + 5000 <= g.ymax
    assert g.xmin % 100 == 0 and g.ymin % 100 == 0
    r = regional_grid(sample, resolution=1000.0, buffer=0.0)
    b = sample.total_bounds
    assert r.xmin <= b[0] and r.ymin <= b[1] and r.xmax >= b[2] and r.ymax >= b[3]
    part = regional_grid(sample, ["MEL", "CUD"], resolution=1000.0)
    assert part.size < regional_grid(sample, resolution=1000.0).size
    # a fixed extent ([grid] bounds), snapped outwards; it must cover the territories
    wide = (b[0] - 30_250.0, b[1] - 20_000.0, b[2] + 10_000.0, b[3] + 40_100.0)
    w = regional_grid(sample, resolution=1000.0, bounds=wide)
    assert (w.xmin, w.ymin) == (np.floor(wide[0] / 1000) * 1000, np.floor(wide[1] / 1000) * 1000)
    assert (w.xmax, w.ymax) == (np.ceil(wide[2] / 1000) * 1000, np.ceil(wide[3] / 1000) * 1000)
    with pytest.raises(InputError, match=r"\[grid\] bounds .* leave part of the territories"):
        regional_grid(sample, resolution=1000.0, bounds=(b[0] + 5000, b[1], b[2], b[3]))
    # the grid's CRS is the one asked ([grid] crs), the territories reprojected into it
    laea = regional_grid(sample, ["ACSO"], resolution=1000.0, crs="EPSG:3035")
    assert laea.crs.to_epsg() == 3035
    t = get_territory(sample, "ACSO").to_crs("EPSG:3035").total_bounds
    assert laea.xmin <= t[0] and laea.ymin <= t[1] and laea.xmax >= t[2] and laea.ymax >= t[3]
    with pytest.raises(InputError, match="unknown territory"):
        regional_grid(sample, ["MEL", "XX"])
    with pytest.raises(InputError, match="empty"):
        regional_grid(sample, [])


def test_fractions_sum_to_one_and_conserve_area(sample: gpd.GeoDataFrame) -> None:
    grid = regional_grid(sample, resolution=500.0)
    frac = territory_fractions(sample, grid)
    assert frac.dims == ("territory", "y", "x")
    assert list(frac["territory"].values) == [*sample["territory"], "rest"]
    np.testing.assert_allclose(frac.sum("territory"), 1.0, atol=1e-12)
    assert float(frac.min()) >= 0.0 and float(frac.max()) <= 1.0 + 1e-12
    area = frac.sel(territory=list(sample["territory"])).sum(("y", "x")) * grid.cell_area
    np.testing.assert_allclose(area.values, sample.area.values, rtol=1e-9)
    assert frac.attrs["units"] == "1"


def test_fractions_of_overlapping_polygons_are_rescaled() -> None:
    a = shapely.box(0, 0, 200, 200)
    b = shapely.box(100, 0, 300, 200)
    gdf = gpd.GeoDataFrame({"territory": ["A", "B"]}, geometry=[a, b], crs="EPSG:2154")
    grid = Grid.from_bounds(700_000, 6_700_000, 700_300, 6_700_200, 100)
    gdf = gdf.translate(700_000, 6_700_000).to_frame("geometry").assign(territory=["A", "B"])
    frac = territory_fractions(gpd.GeoDataFrame(gdf, geometry="geometry"), grid)
    np.testing.assert_allclose(frac.sum("territory"), 1.0)
    np.testing.assert_allclose(frac.sel(territory="A").values[0], [1.0, 0.5, 0.0])


def test_buffer_mask(sample: gpd.GeoDataFrame) -> None:
    grid = regional_grid(sample, resolution=1000.0)
    inside = buffer_mask(sample, grid, 0.0)
    wide = buffer_mask(sample, grid, 5000.0)
    assert inside.dtype == bool and inside.dims == ("y", "x")
    assert bool((wide | ~inside).all())  # inside implies wide
    assert int(inside.sum()) < int(wide.sum()) < grid.size
    frac = territory_fractions(sample, grid)
    covered = 1.0 - frac.sel(territory="rest").values
    differ = inside.values != (covered > 0.0)
    assert covered[differ].max(initial=0.0) < 1e-9  # only round-off slivers may differ
    with pytest.raises(InputError, match="buffer"):
        buffer_mask(sample, grid, -1.0)


@pytest.mark.requires_shared
def test_real_polygons(shared_data: Path) -> None:
    path = shared_data / "territories" / "territoires_aqah.gpkg"
    real = load_territories(path, columns=REAL_COLUMNS)
    assert sorted(real["territory"]) == sorted(INSEE_2023)
    assert dict(zip(real["territory"], real["population"], strict=True)) == INSEE_2023
    # the default layer choice picks 'territoires'
    again = load_territories(path, columns=REAL_COLUMNS)
    assert list(again["territory"]) == list(real["territory"])
    grid = regional_grid(real, resolution=100.0)
    frac = territory_fractions(real, grid)
    np.testing.assert_allclose(frac.sum("territory"), 1.0, atol=1e-9)
    area = frac.sel(territory=list(real["territory"])).sum(("y", "x")).values * grid.cell_area
    np.testing.assert_allclose(area, real.area.values, rtol=1e-3)
    # the sample polygons have the real areas and sit near the real centroids
    sample = load_territories().set_index("territory")
    for _, row in real.iterrows():
        s = sample.loc[row["territory"]]
        assert s.geometry.area == pytest.approx(row.geometry.area, rel=1e-3)
        assert s.geometry.centroid.distance(row.geometry.centroid) < 3000.0


def test_without_the_repository_file_the_error_says_how_to_get_the_sample(
    monkeypatch: pytest.MonkeyPatch, sample: gpd.GeoDataFrame
) -> None:
    """No domain module builds synthetic data (issue 11): the sample package does."""
    import trajectoire.geo.territories as mod
    from trajectoire.sample.geo import territory_polygons

    monkeypatch.setattr(mod, "_REPO_SAMPLE", Path("/nonexistent/territories.gpkg"))
    assert mod.sample_territories_path() is None
    with pytest.raises(InputError, match="trajectoire sample DIR"):
        load_territories()
    built = territory_polygons()
    assert list(built["territory"]) == list(sample["territory"])
    assert built.geom_equals_exact(sample, tolerance=1e-6).all()


@given(
    x0=st.floats(700_000, 700_900),
    y0=st.floats(6_700_000, 6_700_900),
    w=st.floats(50, 1500),
    h=st.floats(50, 1500),
    cut=st.floats(0.05, 0.95),
    res=st.sampled_from([50.0, 100.0, 250.0]),
)
@example(x0=700_000.0, y0=6_700_000.0, w=50.0, h=250.00001, cut=0.05, res=250.0)
def test_fractions_properties(
    x0: float, y0: float, w: float, h: float, cut: float, res: float
) -> None:
    """Two territories sharing an edge: layers sum to 1, each area is conserved."""
    xc = x0 + cut * w
    a = shapely.box(x0, y0, xc, y0 + h)
    b = shapely.box(xc, y0, x0 + w, y0 + h)
    gdf = gpd.GeoDataFrame({"territory": ["A", "B"]}, geometry=[a, b], crs="EPSG:2154")
    grid = Grid.around(gdf, res, buffer=res)
    frac = territory_fractions(gdf, grid)
    np.testing.assert_allclose(frac.sum("territory"), 1.0, atol=1e-9)
    areas = frac.sel(territory=["A", "B"]).sum(("y", "x")).values * grid.cell_area
    # fractions under 1e-9 are round-off, set to 0 by design (coverage_matrix's docstring):
    # up to 1e-9 of a cell lost in each cell a territory's boundary crosses. A (2.5 m wide)
    # ending 1e-5 m past a 250 m grid line loses 2.5e-5 m2 there, 4e-8 of its 625 m2
    border = 2 * (math.ceil(w / res) + 1) + 2 * (math.ceil(h / res) + 1)
    floor = 1e-9 * grid.cell_area * border
    np.testing.assert_allclose(areas, [a.area, b.area], rtol=1e-9, atol=floor)
    assert float(frac.min()) >= 0.0


# ------------------------------------------------- ids of the file, in any case (D7)
def test_territory_ids_of_the_file_are_matched_in_any_case(tmp_path: Path) -> None:
    """configuration.md: territories are case-insensitive. A file with the ids lower-cased
    ended on "territories [...] asked in [grid] are not in the file"."""
    path = tmp_path / "lower.gpkg"
    _frame(["mel", "Cud", "Lille"]).to_file(path)
    gdf = load_territories(path, columns={"code": "territory", "pop": "population"})
    assert list(gdf["territory"]) == ["MEL", "CUD", "Lille"]  # the stable ids' spelling
    from trajectoire.geo.territories import select_territories

    picked = select_territories(gdf, ["CUD", "MEL"], what=str(path))
    assert list(picked["territory"]) == ["MEL", "CUD"]  # in file order
    _frame(["MEL", "mel"]).to_file(tmp_path / "twice.gpkg")
    with pytest.raises(InputError, match=r"\['MEL'\] appear more than once.*case-insensitive"):
        load_territories(tmp_path / "twice.gpkg", columns={"code": "territory"})


def test_territories_missing_from_the_file_name_its_ids_and_the_grid_key(
    tmp_path: Path,
) -> None:
    """The message did not list the file's ids, and said "asked in [grid]" when
    [grid] territories was left at its default (a file holding only MEL and CUD)."""
    from test_pipeline import small_config
    from trajectoire import pipeline as P
    from trajectoire.config import load_config

    path = tmp_path / "two.gpkg"
    _frame(["MEL", "CUD"]).rename(columns={"code": "territory"}).to_file(path)
    given = small_config(tmp_path, **{r'^territories = ".*"': f'territories = "{path}"'})
    text = given.read_text()
    given.write_text(
        text.replace('\nterritories = ["ACSO", "ARC"]', '\nterritories = ["mel", "ARC"]')
    )
    with pytest.raises(
        InputError,
        match=r"two\.gpkg \(\[inputs\] territories\): territories \['ARC'\] asked in \[grid\] "
        r"territories are not in the file, which holds MEL, CUD; set \[grid\] territories = "
        r'\["MEL"\] to run those it has',
    ):
        P._territories_and_grid(load_config(given))
    default = tmp_path / "default.toml"
    default.write_text(text.replace('\nterritories = ["ACSO", "ARC"]', ""))
    with pytest.raises(
        InputError,
        match=r"\['ACSO', 'CCHF', 'DOUAISIS', 'CCVT', 'ARC'\] of the seven that \[grid\] "
        r"territories covers by default .* which holds MEL, CUD; set \[grid\] territories = "
        r'\["MEL", "CUD"\]',
    ):
        P._territories_and_grid(load_config(default))
