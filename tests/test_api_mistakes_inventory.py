"""Ordinary user mistakes with the inventory API (road emission factors given as a
DataFrame, roads or zones off the grid, census population, build_inventory's arguments):
one-line errors or warnings that say how much, valid cases kept."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from trajectoire import Grid, GridError, InputError, MissingVariableError, TrajectoireWarning
from trajectoire.inventory import (
    allocate,
    build_inventory,
    census_population,
    read_area_totals,
    read_road_emission_factors,
    read_roads,
)
from trajectoire.inventory.proxies import grid_roads, road_emissions_per_km

X0, Y0 = 700_000.0, 7_000_000.0
GRID = Grid.from_bounds(X0, Y0, X0 + 4000, Y0 + 3000, 100)
FAR = Grid.from_bounds(100_000, 6_100_000, 104_000, 6_103_000, 100)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


def factors() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["motorway", "motorway", "urban", "urban"],
            "pollutant": ["NOx", "PM10", "NOx", "PM10"],
            "ef_light": [0.3, 0.02, 0.4, 0.03],
            "ef_heavy": [3.0, 0.1, 4.0, 0.2],
        }
    )


def roads(crs: str = "EPSG:2154") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "road_id": ["R1", "R2"],
            "category": ["motorway", "urban"],
            "aadt": [40_000.0, 8_000.0],
            "hdv_share": [0.12, 0.05],
        },
        geometry=[
            shapely.LineString([(X0 + 100, Y0 + 500), (X0 + 3900, Y0 + 2500)]),
            shapely.LineString([(X0 + 500, Y0 + 2800), (X0 + 2000, Y0 + 1000)]),
        ],
        crs=crs,
    )


def zones(crs: str = "EPSG:2154", dx: float = 0.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"zone_id": ["A", "B"], "pop_1999": [100.0, 300.0], "pop_2019": [120.0, 330.0]},
        geometry=[
            shapely.box(X0 + dx, Y0, X0 + dx + 2000, Y0 + 3000),
            shapely.box(X0 + dx + 2000, Y0, X0 + dx + 4000, Y0 + 3000),
        ],
        crs=crs,
    )


def totals() -> pd.DataFrame:
    return read_area_totals(
        pd.DataFrame(
            {
                "zone_id": ["A", "B"],
                "sector": ["C", "C"],
                "pollutant": ["NOx", "NOx"],
                "emission": [10.0, 30.0],
            }
        )
    )


# ------------------------------------------------- 1. road emission factors as a DataFrame
@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-0.1, ["column 'ef_light'", "negative", "row 0 (motorway/NOx): -0.1", ">= 0"]),
        (np.nan, ["column 'ef_light'", "empty cell at row 0 (motorway/NOx)", "expected a number"]),
        ("0,3", ["column 'ef_light'", "'0,3' at row 0 (motorway/NOx)", "decimal comma"]),
    ],
)
def test_read_roads_checks_a_factor_dataframe_as_a_file(value: object, words: list[str]) -> None:
    ef = factors().astype({"ef_light": object})
    ef.loc[0, "ef_light"] = value
    with pytest.raises(InputError) as exc:
        read_roads(roads(), emission_factors=ef)
    msg = one_line(exc)
    for word in ["road emission factors", *words]:
        assert word in msg, msg


def test_read_roads_factor_dataframe_without_ef_heavy() -> None:
    with pytest.raises(MissingVariableError) as exc:
        read_roads(roads(), emission_factors=factors().drop(columns="ef_heavy"))
    msg = one_line(exc)
    assert "missing column(s) ['ef_heavy']" in msg
    assert "found ['category', 'pollutant', 'ef_light']" in msg


def test_read_roads_factor_dataframe_with_a_repeated_row() -> None:
    ef = pd.concat([factors(), factors().iloc[[2]]], ignore_index=True)
    with pytest.raises(InputError) as exc:
        read_roads(roads(), emission_factors=ef)
    msg = one_line(exc)
    assert "(category, pollutant)" in msg
    assert "'urban/NOx' at row 2 (urban/NOx), row 4 (urban/NOx)" in msg


def test_build_inventory_with_a_negative_factor_dataframe_is_an_error() -> None:
    ef = factors()
    ef.loc[ef["pollutant"] == "NOx", "ef_light"] = -5.0
    with pytest.raises(InputError) as exc:
        build_inventory(GRID, reference_year=2019, roads=roads(), road_emission_factors=ef)
    assert "negative" in one_line(exc)


def test_road_emissions_per_km_with_a_repeated_factor_row() -> None:
    """Called directly, the function said pandas' InvalidIndexError."""
    ef = pd.concat([factors(), factors().iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError) as exc:
        road_emissions_per_km(pd.DataFrame(roads().drop(columns="geometry")), ef)
    msg = one_line(exc)
    assert "given more than once" in msg
    assert "row 0 (motorway/NOx), row 4 (motorway/NOx)" in msg


def test_factor_dataframe_read_twice_keeps_its_name_and_values() -> None:
    """The pipeline reads the file, then gives the frame to read_roads: checked again, the
    same table, the file still named."""
    first = read_road_emission_factors(factors(), what="ef.csv ([inputs] road_emission_factors)")
    again = read_road_emission_factors(first)
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs["source_file"] == "ef.csv ([inputs] road_emission_factors)"
    a = read_roads(roads(), emission_factors=factors())
    b = read_roads(roads(), emission_factors=first)
    np.testing.assert_array_equal(a["NOx"].to_numpy(), b["NOx"].to_numpy())
    assert float(a["NOx"].min()) > 0


# ------------------------------------------------------------- 2. census off the grid
def test_census_population_with_a_grid_far_from_every_zone() -> None:
    with pytest.raises(InputError) as exc:
        census_population(zones(), FAR)
    msg = one_line(exc)
    for word in (
        "none of the 2 zone(s) overlaps the grid",
        "population would be 0",
        "the zones span x 700000 to 704000, y 7000000 to 7003000 in EPSG:2154",
        "the grid x 100000 to 104000, y 6100000 to 6103000 in EPSG:2154",
        "CRS",
    ):
        assert word in msg, msg


def test_census_population_valid_and_without_inhabitants() -> None:
    pop = census_population(zones(), GRID)
    np.testing.assert_allclose(pop.sum(("y", "x")).values, [400.0, 450.0])
    empty = zones()
    empty[["pop_1999", "pop_2019"]] = 0.0  # on the grid, no inhabitant: no error
    assert float(census_population(empty, GRID).sum()) == 0.0


# ------------------------------------------------------------- 3. roads / zones off the grid
def test_build_inventory_roads_in_the_wrong_crs_is_an_error() -> None:
    wrong = roads().set_crs("EPSG:3857", allow_override=True)
    with pytest.raises(InputError) as exc:
        build_inventory(GRID, reference_year=2019, roads=wrong, road_emission_factors=factors())
    msg = one_line(exc)
    for word in (
        "none of the 2 road link(s) lies on the grid",
        "would be 0 everywhere",
        "in EPSG:3857",
        "the grid x 700000 to 704000",
        "in EPSG:2154",
        "CRS",
    ):
        assert word in msg, msg


def test_roads_partly_outside_warn_with_the_share_of_length() -> None:
    half = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 3000, 100)
    r = read_roads(roads(), emission_factors=factors())
    with pytest.warns(TrajectoireWarning) as caught:
        grid_roads(r, half)
    msg = next(str(w.message) for w in caught if "road network" in str(w.message))
    assert "\n" not in msg
    assert "part of the road network lies outside the grid" in msg
    assert "% of its length" in msg and " km)" in msg
    assert "NOx" in msg


def test_roads_inside_the_grid_do_not_warn() -> None:
    r = read_roads(roads(), emission_factors=factors())
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        em = grid_roads(r, GRID)
    length = np.asarray(r.length) / 1000.0
    np.testing.assert_allclose(
        em.sum(("y", "x")).values, (r[["NOx", "PM10"]].to_numpy() * length[:, None]).sum(0)
    )


def test_build_inventory_zones_in_the_wrong_crs_is_an_error() -> None:
    with pytest.raises(InputError) as exc:
        build_inventory(
            GRID,
            reference_year=2019,
            area_totals=totals(),
            zones=zones("EPSG:3857"),
            proxies={"C": "area"},
        )
    msg = one_line(exc)
    for word in (
        "none of the 2 zone(s) with a total lies on the grid",
        "left out",
        "the zones span x 700000 to 704000",
        "in EPSG:3857",
        "in EPSG:2154",
    ):
        assert word in msg, msg


def test_zones_partly_outside_warn_with_the_share() -> None:
    with pytest.warns(TrajectoireWarning) as caught:
        em = allocate(totals(), zones(dx=1000.0), GRID, proxies={"C": "area"})
    msg = next(str(w.message) for w in caught if "outside the grid" in str(w.message))
    assert "\n" not in msg
    # zone A wholly inside (10 t), zone B half outside (15 of 30 t): 15 of 40 t left out
    assert "NOx 15 t yr-1 (38 %)" in msg, msg
    np.testing.assert_allclose(float(em.sum()), 25.0, rtol=1e-12)


# ----------------------------------------------------------------- 4. build_inventory args
def test_build_inventory_with_bounds_instead_of_a_grid() -> None:
    with pytest.raises(GridError) as exc:
        build_inventory(
            (X0, Y0, X0 + 4000, Y0 + 3000),
            reference_year=2019,
            roads=roads(),
            road_emission_factors=factors(),
        )
    msg = one_line(exc)
    assert "grid=(700000.0, 7000000.0, 704000.0, 7003000.0) (tuple)" in msg
    assert "expected a trajectoire.Grid" in msg
    assert "Grid.from_bounds(" in msg


@pytest.mark.parametrize(
    ("year", "words"),
    [
        (2019.5, ["reference_year=2019.5", "whole year"]),
        (19, ["reference_year=19", "expected a year from 1900 to 2100", "2019, not 19"]),
        (3000, ["reference_year=3000", "expected a year from 1900 to 2100"]),
        ("soon", ["reference_year='soon'", "whole year"]),
    ],
)
def test_build_inventory_reference_year_must_be_a_whole_year(
    year: object, words: list[str]
) -> None:
    with pytest.raises(InputError) as exc:
        build_inventory(GRID, reference_year=year, roads=roads(), road_emission_factors=factors())
    msg = one_line(exc)
    for word in words:
        assert word in msg, msg


def test_build_inventory_without_any_emission_input() -> None:
    with pytest.raises(InputError) as exc:
        build_inventory(GRID, reference_year=2019, zones=zones())
    msg = one_line(exc)
    assert "no emission input" in msg
    for arg in ("point_sources", "roads", "area_totals", "gridded"):
        assert arg in msg


def test_build_inventory_valid_calls_still_work() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        inv = build_inventory(
            GRID,
            reference_year=np.int64(2019),
            roads=roads(),
            road_emission_factors=factors(),
            area_totals=totals(),
            zones=zones(),
            proxies={"C": "population"},
        )
    assert isinstance(inv, xr.Dataset)
    assert int(inv.attrs["reference_year"]) == 2019
    area = float(inv.emission.sel(sector="C_OtherStationaryComb", pollutant="NOx").sum())
    np.testing.assert_allclose(area, 40.0, rtol=1e-12)
    assert float(inv.emission.sel(sector="F_RoadTransport", pollutant="NOx").sum()) > 0
    same = build_inventory(
        GRID, reference_year=2019.0, roads=roads(), road_emission_factors=factors()
    )
    assert int(same.attrs["reference_year"]) == 2019
