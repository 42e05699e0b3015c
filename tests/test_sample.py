"""Tests of trajectoire.sample: contract columns, determinism, real anchors, committed copy."""

from __future__ import annotations

import gzip
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from trajectoire.errors import InputError
from trajectoire.inventory.readers import read_area_totals
from trajectoire.sample import SAMPLE_FILES, geo, write_sample
from trajectoire.sample import inventory as inv
from trajectoire.sample import meteo as met
from trajectoire.sectors import GNFR
from trajectoire.species import POLLUTANTS, known_species

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "sample"
POLL = ["NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC"]
REAL = {  # area [km2], INSEE population 2023
    "MEL": (675.36, 1_195_234),
    "CUD": (296.36, 191_478),
    "ACSO": (83.76, 90_234),
    "CCHF": (450.69, 53_437),
    "DOUAISIS": (236.29, 149_282),
    "CCVT": (315.08, 20_462),
    "ARC": (264.83, 83_992),
}
CONTRACT = {
    "point_sources.csv": [
        "source_id",
        "name",
        "x",
        "y",
        "sector",
        "height",
        "diameter",
        "temperature",
        "velocity",
        "start_year",
        "end_year",
        *POLL,
        "PFOA",
    ],
    "point_source_history.csv": ["source_id", "year", "pollutant", "emission"],
    "road_emission_factors.csv": ["category", "pollutant", "ef_light", "ef_heavy"],
    "area_emissions.csv": ["zone_id", "sector", "pollutant", "emission", "units"],
    "trends.csv": ["sector", "pollutant", "year", "value"],
    "stations.csv": ["station_id", "name", "x", "y", "type", "territory"],
    "observations_annual.csv": ["station_id", "year", "pollutant", "value"],
    "observations_hourly.csv": ["station_id", "time", "pollutant", "value"],
    "background.csv": ["year", "pollutant", "value"],
    "meteo.csv.gz": ["time", "wind_speed", "wind_direction", "cloud_cover", "temperature"],
}
FIRST, LAST = 2017, 2019


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample with a short year range (fast), written once for the module."""
    d = tmp_path_factory.mktemp("sample")
    cfg = write_sample(d, first_year=FIRST, last_year=LAST)
    assert cfg == d / "config.toml"
    return d


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def test_every_file_is_written(short: Path) -> None:
    assert sorted(p.name for p in short.iterdir()) == sorted([*SAMPLE_FILES, "README.md"])


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_columns(short: Path, name: str) -> None:
    df = _read(short / name)
    # background.csv gains a units column when the run reads particle-number backgrounds
    optional = ["units"] if name == "background.csv" else []
    assert list(df.columns) in (CONTRACT[name], CONTRACT[name] + optional)
    assert len(df) > 0


def test_layers_and_columns_of_vector_files(short: Path) -> None:
    terr = gpd.read_file(short / "territories.gpkg", layer="territories")
    assert list(terr.columns) == ["territory", "name", "population", "geometry"]
    zones = gpd.read_file(short / "zones.gpkg", layer="zones")
    pops = [f"pop_{y}" for y in (1990, 1999, 2008, 2013, 2019, 2023)]
    assert list(zones.columns) == ["zone_id", "territory", *pops, "geometry"]
    roads = gpd.read_file(short / "roads.gpkg", layer="roads")
    assert list(roads.columns) == ["road_id", "category", "aadt", "hdv_share", "geometry"]
    assert set(roads["category"]) == {"motorway", "trunk", "urban", "rural"}
    assert set(roads.geom_type) == {"LineString"}
    assert roads["hdv_share"].between(0, 1).all() and (roads["aadt"] > 0).all()
    motorway = roads.loc[roads["category"] == "motorway", "aadt"]
    assert 40_000 <= motorway.median() <= 120_000
    urban = roads.loc[roads["category"] == "urban", "aadt"]
    assert 5_000 <= urban.median() <= 30_000
    for gdf in (terr, zones, roads):
        assert gdf.crs.to_epsg() == 2154
    assert zones["zone_id"].is_unique and roads["road_id"].is_unique


def test_territories_real_areas_populations_no_overlap(short: Path) -> None:
    terr = gpd.read_file(short / "territories.gpkg").set_index("territory")
    assert sorted(terr.index) == sorted(REAL)
    for t, (area, pop) in REAL.items():
        assert terr.loc[t].geometry.area / 1e6 == pytest.approx(area, rel=1e-3)
        assert terr.loc[t, "population"] == pop
    geoms = list(terr.geometry)
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert geoms[i].intersection(geoms[j]).area < 1.0  # m2: touching at most
    assert all(g.is_valid for g in geoms)


def test_zone_populations(short: Path) -> None:
    zones = gpd.read_file(short / "zones.gpkg")
    zones["territory"] = zones["territory"].fillna("")
    inside = zones[zones["territory"] != ""]
    sums = inside.groupby("territory")["pop_2023"].sum()
    assert sums.to_dict() == {t: p for t, (_, p) in REAL.items()}
    sums_2019 = inside.groupby("territory")["pop_2019"].sum()
    assert sums_2019["MEL"] == 1_179_050 and sums_2019["CUD"] == 194_655
    counts = inside.groupby("territory").size()
    assert counts.between(8, 25).all()
    # MEL grows, CUD declines since 1990
    assert sums["MEL"] > inside.loc[inside["territory"] == "MEL", "pop_1990"].sum()
    assert sums["CUD"] < inside.loc[inside["territory"] == "CUD", "pop_1990"].sum()
    # zones tile the territories, and the outside zones fill the rest of the grid extent
    terr = gpd.read_file(short / "territories.gpkg").set_index("territory")
    for t, group in inside.groupby("territory"):
        assert group.area.sum() == pytest.approx(terr.loc[t].geometry.area, rel=1e-6)
    assert (zones[zones["territory"] == ""]["pop_2023"] > 0).all()


def test_meteo_every_hour_and_realistic(short: Path) -> None:
    with gzip.open(short / "meteo.csv.gz", "rt") as f:
        m = pd.read_csv(f)
    t = pd.to_datetime(m["time"])
    expected = pd.date_range(
        f"{FIRST}-01-01", f"{LAST + 1}-01-01", freq="h", inclusive="left", tz="UTC"
    )
    assert len(t) == len(expected) and (t.to_numpy() == expected.to_numpy()).all()
    assert m["wind_speed"].between(0, 25).all()
    assert 4.0 < m["wind_speed"].mean() < 5.5
    assert m["wind_direction"].between(0, 359).all()
    assert m["cloud_cover"].between(0, 8).all() and m["cloud_cover"].dtype == np.int64
    assert 282.5 < m["temperature"].mean() < 285.5  # about 10.5-11 degC
    sw = m["wind_direction"].between(180, 270).mean()
    ne = m["wind_direction"].between(0, 90).mean()
    assert sw > 0.3 and sw > 1.5 * ne
    assert 0.0 < (m["wind_speed"] < 0.5).mean() < 0.05  # some calms
    hour = t.dt.hour
    assert m.loc[hour == 13, "wind_speed"].mean() > m.loc[hour == 2, "wind_speed"].mean()


def test_meteo_year_does_not_depend_on_the_range() -> None:
    a = met.meteo_year(geo.DEFAULT_SEED, 2018)
    b = met.meteo(geo.DEFAULT_SEED, 2017, 2018)
    pd.testing.assert_frame_equal(a, b.iloc[8760:].reset_index(drop=True))
    assert len(met.meteo_year(1, 2020)) == 8784  # leap year


def test_inventory_tables(short: Path) -> None:
    ps = _read(short / "point_sources.csv")
    assert ps["source_id"].is_unique and set(ps["sector"]) <= set(GNFR)
    assert (ps[POLL] >= 0).all().all()
    assert ps["height"].between(5, 300).all() and ps["temperature"].between(280, 800).all()
    assert ps["start_year"].dropna().min() > 1990 and ps["end_year"].dropna().max() < 2023
    terr = gpd.read_file(short / "territories.gpkg")
    pts = gpd.points_from_xy(ps["x"], ps["y"], crs=2154)
    assert all(terr.contains(p).any() for p in pts)  # every stack in a territory
    hist = _read(short / "point_source_history.csv")
    assert set(hist["source_id"]) <= set(ps["source_id"])
    assert hist["year"].between(2003, LAST).all() and (hist["emission"] >= 0).all()
    ref = hist[(hist["source_id"] == "CUD-STEEL-SINTER") & (hist["year"] == 2018)]
    assert ref.set_index("pollutant")["emission"]["SO2"] == pytest.approx(5200.0)
    ef = _read(short / "road_emission_factors.csv")
    wear = ["TRWP", "TRWP_coarse"] if "TRWP_coarse" in known_species() else ["TRWP"]
    assert len(ef) == 4 * (len(POLL) + len(wear))
    assert set(ef["pollutant"]) == {*POLL, *wear}
    nox = ef[ef["pollutant"] == "NOx"].set_index("category")
    assert nox["ef_light"].between(0.3, 0.5).all() and nox["ef_heavy"].between(2, 4.5).all()
    area = _read(short / "area_emissions.csv")
    zones = gpd.read_file(short / "zones.gpkg")
    assert set(area["zone_id"]) <= set(zones["zone_id"])
    assert set(area["sector"]) <= set(GNFR)
    assert set(area["pollutant"]) == {*POLL, "UFP", "S-metolachlor"}
    assert set(area.loc[area["pollutant"] == "UFP", "units"]) == {"yr-1"}
    assert set(area.loc[area["pollutant"] != "UFP", "units"]) == {"t yr-1"}
    assert (area["emission"] > 0).all()
    assert not area.duplicated(["zone_id", "sector", "pollutant"]).any()
    read = read_area_totals(short / "area_emissions.csv")  # every row in its own unit
    assert read["emission"].sum() == pytest.approx(area["emission"].sum(), rel=1e-12)
    totals = area.groupby("pollutant")["emission"].sum()
    assert 10_000 < totals["NH3"] < 40_600  # below the whole region's 40.6 kt
    ship = area[area["sector"] == "G_Shipping"]
    assert set(ship["zone_id"].str.slice(0, 3)) == {"CUD"}


def test_trends_shapes(short: Path) -> None:
    tr = _read(short / "trends.csv")
    # TRWP_coarse: written when the species registry knows it
    emerging = {p for p in (*inv.EMERGING, "TRWP_coarse") if p in known_species()}
    assert set(tr["sector"]) == set(GNFR) and set(tr["pollutant"]) == {*POLL, *emerging}
    for p, sectors in inv.EMERGING.items():
        assert set(tr.loc[tr["pollutant"] == p, "sector"]) == set(GNFR)  # the trajectory needs all
        flat = tr[(tr["pollutant"] == p) & ~tr["sector"].isin(sectors)]
        assert (flat["value"] == 100.0).all()  # sectors without a source of p in the sample
    assert sorted(set(tr["year"])) == list(range(FIRST, LAST + 1))
    full = inv.trends(geo.DEFAULT_SEED, 1990, 2023).set_index(["sector", "pollutant", "year"])
    full = full.sort_index()
    v = full["value"]
    road = v["F_RoadTransport", "NOx"]
    assert road[2023] / road[1990] == pytest.approx(0.32, rel=0.1)
    assert road[1998] / road[1990] > 0.9  # plateau in the 1990s
    assert v["A_PublicPower", "SO2"][2023] / v["A_PublicPower", "SO2"][1990] < 0.1
    assert 0.8 < v["K_AgriLivestock", "NH3"][2023] / 100 < 0.95
    assert v["E_Solvents", "NMVOC"][2023] / 100 == pytest.approx(0.4, rel=0.1)
    assert v["F_RoadTransport", "NOx"][2020] < v["F_RoadTransport", "NOx"][2021]
    assert (full["value"] > 0).all()
    # the committed trends hold the same numbers as a fresh generation
    committed = _read(COMMITTED / "trends.csv")
    committed = committed[committed["pollutant"].isin(POLL)]
    committed = committed.set_index(["sector", "pollutant", "year"])
    committed = committed.sort_index()
    np.testing.assert_array_equal(committed["value"].to_numpy(), v.to_numpy())


def test_emerging_species_follow_the_models() -> None:
    """The sample's emerging inputs are the emission models' own numbers."""
    from trajectoire.inventory import emerging as em

    tr = inv.emerging_trends(1990, 2023, set(known_species()))
    v = tr.set_index(["sector", "pollutant", "year"])["value"].sort_index()
    assert v["B_Industry", "PFOA", 2010] == pytest.approx(5.0)
    assert v["L_AgriOther", "S-metolachlor", 2018] == pytest.approx(100 / 0.45, abs=1e-3)
    ufp = v["F_RoadTransport", "UFP"]
    expected = em.ufp_road_factors([1990, 2023])["all"] * em.traffic_index([1990, 2023])
    assert ufp[2023] == pytest.approx(100 * expected.iloc[1] / expected.iloc[0], abs=1e-3)
    assert ufp[2020] < ufp[2019] and ufp[2023] < 20  # lockdown dip; fleet renewal
    ps = inv.pfas_point_sources(2018).set_index("source_id")["PFOA"]
    assert ps["ACSO-FLUORO"] == pytest.approx(
        1.5 * float(em.pfoa_phase_out_index(2018)[0]), rel=1e-3
    )
    assert ps["MEL-TEXCOAT"] == pytest.approx(
        0.3 * float(em.pfoa_phase_out_index(2012)[0]), rel=1e-3
    )


def test_stations_and_observations(short: Path) -> None:
    st = _read(short / "stations.csv")
    assert st["station_id"].is_unique and len(st) >= 10
    assert set(st["type"]) <= {"traffic", "urban", "industrial", "rural"}
    assert ((st["x"] % 100 == 0) & (st["y"] % 100 == 0)).all()
    terr = gpd.read_file(short / "territories.gpkg").set_index("territory")
    for _, row in st.iterrows():
        if isinstance(row["territory"], str):
            assert terr.loc[row["territory"]].geometry.contains(
                gpd.points_from_xy([row["x"]], [row["y"]])[0]
            )
    assert (st["type"] == "rural").sum() >= 1
    ann = _read(short / "observations_annual.csv")
    assert set(ann["station_id"]) <= set(st["station_id"])
    assert set(ann["pollutant"]) <= {"NO2", "PM10", "PM2.5", "SO2"}
    assert ann["year"].between(FIRST, LAST).all() and (ann["value"] > 0).all()
    hourly = _read(short / "observations_hourly.csv")
    assert set(pd.to_datetime(hourly["time"]).dt.year) == {LAST}
    assert 3 <= hourly["station_id"].nunique() <= 4
    means = hourly.groupby(["station_id", "pollutant"])["value"].mean()
    a = ann[ann["year"] == LAST].set_index(["station_id", "pollutant"])["value"]
    for key, value in means.items():
        assert value == pytest.approx(a[key], abs=0.15)
    bg = _read(short / "background.csv")
    emerging = {"PFOA", "S-metolachlor", "TRWP"} | ({"UFP"} if "units" in bg.columns else set())
    assert set(bg["pollutant"]) == {"NOx", "NO2", "PM10", "PM2.5", "SO2", "NH3", "NMVOC", *emerging}
    assert set(bg["pollutant"]) <= set(POLLUTANTS)


def test_background_trends() -> None:
    bg = met.background(geo.DEFAULT_SEED, 1990, 2023).set_index(["pollutant", "year"])["value"]
    assert bg["NO2", 1990] > 1.6 * bg["NO2", 2023]
    assert bg["SO2", 1990] > 5 * bg["SO2", 2023]
    assert bg["PM2.5", 2023] < bg["PM10", 2023]


def test_landuse_raster(short: Path) -> None:
    with rasterio.open(short / "landuse.tif") as src:
        lu = src.read(1)
        assert src.dtypes[0] == "uint8" and src.crs.to_epsg() == 2154
        assert src.res == (100.0, 100.0) and src.compression.name.lower() == "deflate"
        transform = src.transform
    assert set(np.unique(lu)) == {1, 2, 3, 4, 5, 6}
    grid = geo.sample_grid(geo.DEFAULT_SEED)
    assert lu.shape == grid.shape and transform == grid.transform
    # sea north of the coast at Dunkerque, land south of it; industry at the steelworks
    row, col, _ = grid.cell_index(
        np.array([652_000.0, 652_000.0, 648_300.0]),
        np.array([7_112_000.0, 7_100_000.0, 7_104_700.0]),
    )
    assert lu[row[0], col[0]] == 6 and lu[row[1], col[1]] != 6 and lu[row[2], col[2]] == 2
    row, col, _ = grid.cell_index(np.array([703_900.0]), np.array([7_059_300.0]))
    assert lu[row[0], col[0]] == 1  # Lille centre is urban


def test_config_follows_the_documented_keys(short: Path) -> None:
    cfg = tomllib.loads((short / "config.toml").read_text())
    assert set(cfg) == {
        "run",
        "grid",
        "inputs",
        "trajectory",
        "meteo",
        "dispersion",
        "attribution",
        "output",
    }
    assert cfg["run"]["first_year"] == FIRST and cfg["run"]["last_year"] == LAST
    assert cfg["run"]["reference_year"] == 2018
    assert cfg["grid"]["territories"] == list(REAL)
    assert cfg["grid"]["resolution"] == 200.0 and cfg["grid"]["buffer"] == 5000.0
    for key, name in cfg["inputs"].items():
        assert (short / name).is_file(), key
    assert cfg["attribution"]["map_years"] == [2017, 2019]
    assert set(cfg["dispersion"]["release_height"]) <= set(GNFR)


def test_deterministic(tmp_path: Path, short: Path) -> None:
    again = write_sample(tmp_path, first_year=FIRST, last_year=LAST).parent
    for f in sorted(short.iterdir()):
        assert f.read_bytes() == (again / f.name).read_bytes(), f.name


def test_bad_arguments(tmp_path: Path, short: Path) -> None:
    with pytest.raises(InputError, match=r"already holds.*sample DIR --overwrite.*overwrite=True"):
        write_sample(short, first_year=FIRST, last_year=LAST)
    with pytest.raises(InputError, match="first_year <= last_year"):
        write_sample(tmp_path / "x", first_year=2020, last_year=2010)
    with pytest.raises(InputError, match="reference_year"):
        write_sample(tmp_path / "x", first_year=2019, last_year=2020)
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a directory"):
        write_sample(tmp_path / "file")
    with pytest.raises(InputError, match=r"cannot create the directory .*file.*sub"):
        write_sample(tmp_path / "file" / "sub")  # below a file: was a FileExistsError


def test_committed_sample_is_small_and_complete() -> None:
    files = sorted(p.name for p in COMMITTED.iterdir())
    assert files == sorted([*SAMPLE_FILES, "README.md"])
    total = sum(p.stat().st_size for p in COMMITTED.iterdir())
    assert total < 20 * 2**20
    readme = (COMMITTED / "README.md").read_text()
    assert "synthetic" in readme.lower() and "not real measurements" in readme


def test_committed_territories_match_the_generator() -> None:
    committed = gpd.read_file(COMMITTED / "territories.gpkg")
    fresh = geo.territory_polygons()
    assert list(committed["territory"]) == list(fresh["territory"])
    assert committed.geom_equals_exact(fresh, tolerance=1e-6).all()


@pytest.mark.slow
def test_committed_sample_equals_a_fresh_generation(tmp_path: Path) -> None:
    write_sample(tmp_path)
    for f in sorted(COMMITTED.iterdir()):
        assert f.read_bytes() == (tmp_path / f.name).read_bytes(), (
            f"data/sample/{f.name} differs from a fresh generation; regenerate it with "
            "write_sample('data/sample', overwrite=True)"
        )
