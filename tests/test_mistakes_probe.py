"""Ordinary mistakes in the inputs that crashed, passed silently or were said unclearly,
found by trying them through the command line (2026-12-05); each test fails on the code
before its fix.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from test_inventory import GRID, X0, Y0, write_area, write_points, write_roads, write_zones
from trajectoire._validate import require_columns
from trajectoire.errors import ConfigError, InputError, MissingVariableError, TrajectoireWarning
from trajectoire.geo.territories import read_exposure_zones
from trajectoire.inventory import census_population
from trajectoire.inventory.readers import (
    read_area_totals,
    read_point_sources,
    read_road_emission_factors,
    read_roads,
    read_zones,
)
from trajectoire.meteo import met_classes
from trajectoire.species import NOT_MODELLED, not_modelled
from trajectoire.tables import read_table


# ------------------------------------------------------------------ CRS and empty layers
def test_roads_in_degrees_labelled_lambert93_are_an_error(tmp_path: Path) -> None:
    """All the road emissions were dropped, with a warning of a tiny mass left out (the
    lengths taken in degrees): the network lay metres from Lambert-93's origin."""
    gdf = write_roads(tmp_path / "r.gpkg")
    wrong = gdf.to_crs("EPSG:4326").set_crs("EPSG:2154", allow_override=True)
    wrong.to_file(tmp_path / "wrong.gpkg")
    with pytest.raises(InputError) as err:
        read_roads(tmp_path / "wrong.gpkg", what="roads.gpkg ([inputs] roads)",
                   config_key="[inputs] roads")  # fmt: skip
    text = str(err.value)
    assert "3 of 3 lines lie outside the area of use of the file's CRS EPSG:2154" in text
    assert "R1 (box centre 3.03" in text and "these are degrees" in text
    assert text.endswith("([inputs] roads).")
    gdf.assign(nox=1.0).to_file(tmp_path / "right.gpkg")
    assert len(read_roads(tmp_path / "right.gpkg")) == 3  # the right CRS reads


def test_zones_in_degrees_labelled_lambert93_are_an_error(tmp_path: Path) -> None:
    write_zones(tmp_path / "z.gpkg")
    z = gpd.read_file(tmp_path / "z.gpkg")
    z.to_crs("EPSG:4326").set_crs("EPSG:2154", allow_override=True).to_file(tmp_path / "w.gpkg")
    with pytest.raises(InputError, match=r"4 of 4 polygons lie outside the area of use"):
        read_zones(tmp_path / "w.gpkg")


@pytest.mark.parametrize("reader", ["roads", "zones", "exposure_zones"])
def test_an_empty_layer_is_an_error(tmp_path: Path, reader: str) -> None:
    """An empty roads layer ended on numpy's reshape error; empty zones on a message about
    the area totals' ids; empty exposure zones on a warning of NaN extents."""
    if reader == "roads":
        gdf = write_roads(tmp_path / "full.gpkg")
    else:
        write_zones(tmp_path / "full.gpkg")
        gdf = gpd.read_file(tmp_path / "full.gpkg")
    gdf.iloc[:0].to_file(tmp_path / "empty.gpkg")
    path = tmp_path / "empty.gpkg"
    read = {
        "roads": lambda: read_roads(path, config_key="[inputs] roads"),
        "zones": lambda: read_zones(path),
        "exposure_zones": lambda: read_exposure_zones(path),
    }[reader]
    with pytest.raises(InputError, match="has no feature; expected"):
        read()


# ------------------------------------------------------------------ pollutants not modelled
def test_the_pollutants_not_modelled_are_known_names_only() -> None:
    assert not_modelled("CO2") and not_modelled(" Pb ") and not_modelled("PCDD-F")
    assert not not_modelled("NOx") and not not_modelled("pm2_5")  # species and aliases
    assert not not_modelled("NOO") and not not_modelled(3.0)  # a typo stays an error
    assert all(n == "".join(n.split()).lower() for n in NOT_MODELLED)


def test_area_totals_leave_out_co2_rows_and_keep_their_lines(tmp_path: Path) -> None:
    """docs/configuration.md says a file carrying CO2 beside NOx is read; it was an error."""
    df = write_area(tmp_path / "a.csv")
    extra = pd.DataFrame([["Z1", "C", "CO2", 900.0], ["Z2", "C", "Cd", 0.1]], columns=df.columns)
    pd.concat([df.iloc[:2], extra, df.iloc[2:]]).to_csv(tmp_path / "b.csv", index=False)
    with pytest.warns(TrajectoireWarning, match=r"2 row\(s\) of pollutant\(s\) \['CO2', 'Cd'\]"):
        out = read_area_totals(tmp_path / "b.csv")
    expected = read_area_totals(tmp_path / "a.csv")
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected.reset_index(drop=True))
    # the lines of the rows after the left-out ones are still their file lines
    bad = pd.concat([df.iloc[:2], extra, df.iloc[2:]])
    bad.iloc[4, 3] = -1.0  # line 6 of the file
    bad.to_csv(tmp_path / "c.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(InputError, match=r"line 6"):
            read_area_totals(tmp_path / "c.csv")
    df.assign(pollutant=["NOx", "NOO", "PM10", "NH3", "NOx", "NH3"]).to_csv(
        tmp_path / "d.csv", index=False
    )
    with pytest.raises(InputError, match=r"unknown pollutant\(s\) 'NOO' \(line 3\)"):
        read_area_totals(tmp_path / "d.csv")


def test_point_sources_leave_out_a_co2_column_and_name_the_key_for_others(
    tmp_path: Path,
) -> None:
    df = write_points(tmp_path / "p.csv")
    df.assign(CO2=1000.0).to_csv(tmp_path / "co2.csv", index=False)
    with pytest.warns(TrajectoireWarning, match=r"column\(s\) \['CO2'\] left out"):
        got = read_point_sources(tmp_path / "co2.csv")
    xr.testing.assert_identical(
        got.drop_attrs(), read_point_sources(tmp_path / "p.csv").drop_attrs()
    )
    df.assign(commentaire="x").to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError) as err:
        read_point_sources(tmp_path / "c.csv", what="c.csv ([inputs] point_sources)")
    text = str(err.value)
    assert "unknown pollutant(s) 'commentaire'" in text
    assert '[inputs.point_sources] pollutants = ["NOx", ...]' in text


def test_road_emission_factors_leave_out_co2_rows(tmp_path: Path) -> None:
    rows = [["motorway", "NOx", 0.3, 4.0], ["motorway", "CO2", 150.0, 900.0]]
    pd.DataFrame(rows, columns=["category", "pollutant", "ef_light", "ef_heavy"]).to_csv(
        tmp_path / "ef.csv", index=False
    )
    with pytest.warns(TrajectoireWarning, match=r"1 row\(s\) of pollutant\(s\) \['CO2'\]"):
        ef = read_road_emission_factors(tmp_path / "ef.csv")
    assert ef["pollutant"].tolist() == ["NOx"] and list(ef.index) == [0]


# ------------------------------------------------------------------ census columns
def _zones(**columns: list[float]) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(X0, Y0, X0 + 2500, Y0 + 4000),
        shapely.box(X0 + 2500, Y0, X0 + 5000, Y0 + 4000),
    ]
    z = gpd.GeoDataFrame({"zone_id": ["A", "B"], **columns}, geometry=boxes, crs="EPSG:2154")
    z.attrs["source_name"] = "zones.gpkg ([inputs] zones)"
    return z


def test_a_census_column_misnamed_beside_others_is_warned() -> None:
    """``pop2019`` beside pop_2013 and pop_2023 was left out without a word (2019
    interpolated)."""
    z = _zones(pop_2013=[10.0, 20.0], pop2019=[12.0, 22.0], pop_2023=[14.0, 24.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop = census_population(z, GRID)
        census_population(z, GRID)  # the same zones again: said once
    said = [str(w.message) for w in caught if "pop2019" in str(w.message)]
    assert len(said) == 1
    assert said[0].startswith("zones.gpkg ([inputs] zones): column(s) 'pop2019' would be read")
    assert "named pop_2019" in said[0] and "pop_2013, pop_2023" in said[0]
    assert pop["census"].values.tolist() == [2013, 2023]


def test_census_columns_in_upper_case_name_the_lower_case_ones() -> None:
    z = _zones(POP_2013=[10.0, 20.0], POP_2023=[14.0, 24.0])
    with pytest.raises(MissingVariableError) as err:
        census_population(z, GRID)
    text = str(err.value)
    assert text.startswith("zones.gpkg ([inputs] zones): no census column 'pop_<year>'")
    assert "'POP_2013', 'POP_2023' would be read named pop_2013, pop_2023" in text


def test_an_empty_census_cell_names_the_file() -> None:
    z = _zones(pop_2013=[np.nan, 20.0])
    with pytest.raises(InputError, match=r"^zones.gpkg \(\[inputs\] zones\), column 'pop_2013'"):
        census_population(z, GRID)


# ------------------------------------------------------------------ tables and meteorology
def test_a_missing_column_names_a_close_one_and_not_the_readers_own() -> None:
    with pytest.raises(MissingVariableError) as err:
        require_columns(["time", "cloud", "_row"], ["time", "cloud_cover"], "meteo.csv")
    text = str(err.value)
    assert "['cloud_cover'] ('cloud_cover': did you mean 'cloud'?)" in text
    assert "found ['time', 'cloud']" in text and "_row" not in text


def test_a_delimiter_given_that_is_not_the_files_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(InputError) as err:
        read_table(path, what="p.csv ([inputs] point_sources)", sep=";",
                   config_key="[inputs] point_sources")  # fmt: skip
    text = str(err.value)
    assert "read as one column ('a,b,c')" in text
    assert "the delimiter given is semicolon but the file looks delimited by commas" in text
    assert "[inputs.point_sources] delimiter or [csv] delimiter" in text
    path.write_text("a,b,c\n1,2,3\n4,5;6,7\n")  # a ragged line: the hint joins the message
    with pytest.raises(InputError, match="line 3 has 2 fields.*the delimiter given is semicolon"):
        read_table(path, what="p.csv", sep=";", config_key="[inputs] point_sources")


def test_hours_left_out_of_the_tables_are_said_with_the_file_and_years() -> None:
    t = pd.date_range("2019-01-01", "2020-12-31 23:00", freq="h")
    rng = np.random.default_rng(0)
    wd = rng.uniform(0, 360, t.size)
    wd[::10] = np.nan
    wd[t.year == 2020] = np.where(
        np.arange((t.year == 2020).sum()) % 5 == 0, np.nan, wd[t.year == 2020]
    )
    met = xr.Dataset(
        {
            "wind_speed": ("time", rng.uniform(1, 8, t.size)),
            "wind_direction": ("time", wd),
            "stability": ("time", np.array(["D"] * t.size)),
        },
        coords={"time": t},
        attrs={"source_file": "meteo.csv.gz"},
    )
    with pytest.warns(TrajectoireWarning) as caught:
        met_classes(met)
    said = [str(w.message) for w in caught if "left out of the frequency tables" in str(w.message)]
    assert len(said) == 1
    n19, n20 = int(np.isnan(wd[t.year == 2019]).sum()), int(np.isnan(wd[t.year == 2020]).sum())
    assert said[0].startswith("meteo.csv.gz ([inputs] meteo): ")
    assert f"({n19 + n20} without a wind direction (not calm))" in said[0]
    assert f"2020: {n20} of 8784, 2019: {n19} of 8760" in said[0]  # the worst year first


# ------------------------------------------------------------------ scenarios
@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            "[thresholds]\nNO2 = 10\n",
            "[thresholds] is not read (did you mean [scenario.thresholds]?)",
        ),
        ("[scenarios]\nname = 'y'\n", "[scenarios] is not read (did you mean 'scenario'?)"),
    ],
)
def test_a_scenario_table_outside_scenario_is_an_error(
    tmp_path: Path, extra: str, said: str
) -> None:
    """Both were left out without a word: the default thresholds used, the name lost."""
    from trajectoire.scenario import load_scenario

    text = '[scenario]\nname = "x"\n[[scenario.cut]]\nsector = "F_RoadTransport"\npercent = 30\nfrom_year = 2020\n'
    path = tmp_path / "s.toml"
    path.write_text(text + extra)
    with pytest.raises(ConfigError, match=re.escape(said)):
        load_scenario(path)
    path.write_text(text + "[run]\nname = 'a run configuration holds its own tables'\n")
    assert load_scenario(path).name == "x"


def test_recomputing_against_a_baseline_of_other_inputs_is_an_error(tmp_path: Path) -> None:
    """The recomputed changes counted an input edited since the baseline as the cuts'
    effect."""
    from fake_pipeline import write_config
    from trajectoire.io.config import load_config
    from trajectoire.scenario import _check_same_run

    cfg = load_config(write_config(tmp_path / "in"))
    base = xr.Dataset(
        attrs={
            "input_checksums": json.dumps(cfg.input_checksums),
            "trajectoire_config_hash": cfg.config_hash(),
        }
    )
    _check_same_run(base, cfg, "out.nc")  # the same run: nothing said
    edited = dict(cfg.input_checksums, territories="sha256:0")
    base.attrs["input_checksums"] = json.dumps(edited)
    with pytest.raises(
        ConfigError, match=r"out.nc: the inputs changed .* \(\[inputs\] territories"
    ):
        _check_same_run(base, cfg, "out.nc")
    base.attrs["input_checksums"] = json.dumps(cfg.input_checksums)
    base.attrs["trajectoire_config_hash"] = "0123456789abcdef"
    with pytest.raises(ConfigError, match="was run with another configuration"):
        _check_same_run(base, cfg, "out.nc")


def test_a_title_line_above_the_header_is_named(tmp_path: Path) -> None:
    """A note above the header was read as the header, and the message quoted the real
    header as a ragged data line without saying so."""
    path = tmp_path / "background.csv"
    path.write_text("# fond regional, ug/m3\nyear,pollutant,value,units\n2019,NO2,12,ug m-3\n")
    with pytest.raises(InputError) as err:
        read_table(path, what="background.csv ([inputs] background)")
    text = str(err.value)
    assert "line 2 has 4 fields but the header has 2" in text
    assert "line 1 ('# fond regional, ug/m3') was read as the header" in text
    path.write_text("year,pollutant\n2019,NO2\n2020,NO2,12\n")  # a ragged line further down
    with pytest.raises(InputError) as err:
        read_table(path, what="b.csv")
    assert "line 3 has 3 fields" in str(err.value) and "read as the header" not in str(err.value)


def test_a_units_column_of_point_sources(tmp_path: Path) -> None:
    """It was read as an unknown pollutant 'units'; one unit on every row is the file's."""
    df = write_points(tmp_path / "p.csv")
    df.assign(units="kg yr-1").to_csv(tmp_path / "kg.csv", index=False)
    kg = read_point_sources(tmp_path / "kg.csv")
    t = read_point_sources(tmp_path / "p.csv")
    np.testing.assert_allclose(kg["point_emission"].values * 1000, t["point_emission"].values)
    mixed = df.assign(units=["kg yr-1"] + ["t yr-1"] * (len(df) - 1))
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    with pytest.raises(InputError, match=r"column 'units' says \['kg yr-1', 't yr-1'\].*"
                       r"\[inputs.point_sources\] unit"):  # fmt: skip
        read_point_sources(tmp_path / "mixed.csv", what="p.csv ([inputs] point_sources)")


def test_a_unit_key_that_the_rows_contradict_is_warned(tmp_path: Path) -> None:
    """``[inputs.area_emissions] unit = "kg yr-1"`` beside rows that say ``t yr-1`` was
    ignored without a word (the cells win, as documented for the rows they fill)."""
    write_area(tmp_path / "a.csv").assign(units="t yr-1").to_csv(tmp_path / "u.csv", index=False)
    with pytest.warns(TrajectoireWarning, match=r"every row says its unit in the 'units' "
                      r"column, 6 of them another than .* = 'kg yr-1' \(\['t yr-1'\]\)"):  # fmt: skip
        read_area_totals(tmp_path / "u.csv", units="kg yr-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        read_area_totals(tmp_path / "u.csv", units="t yr-1")  # agreeing: nothing said


def test_a_key_given_twice_and_a_netcdf_given_as_configuration(tmp_path: Path) -> None:
    """TOML's own message named a line and column only; an output given as the
    configuration was a UTF-8 decoding error."""
    from fake_pipeline import write_config
    from trajectoire.io.config import load_config

    cfg = write_config(tmp_path / "in")
    cfg.write_text(
        cfg.read_text().replace("resolution = 100.0", "resolution = 100.0\nresolution = 50.0")
    )
    with pytest.raises(ConfigError, match=r"Cannot overwrite a value .*: 'resolution = 50.0'\)"):
        load_config(cfg)
    out = tmp_path / "out.nc"
    xr.Dataset({"v": ("x", np.arange(2.0))}).to_netcdf(out)
    with pytest.raises(ConfigError, match=r"is a NetCDF file \(an output\?\), not a TOML"):
        load_config(out)


def test_units_with_superscripts_are_read() -> None:
    """``µg/m³`` (a spreadsheet's spelling) was not a known concentration, and the message
    did not say that a mixing ratio (ppb) is also taken where a reader converts one."""
    from trajectoire.errors import UnitsError
    from trajectoire.units import normalise_units

    assert normalise_units("µg/m³", "concentration") == normalise_units("ug/m3", "concentration")
    assert normalise_units("cm⁻³", "number_concentration") == "cm-3"
    with pytest.raises(UnitsError, match=r"\(or a mixing ratio: \[.*'ppb'\]"):
        normalise_units("µg/l", "concentration")


def test_a_roads_file_of_several_layers_names_the_key(tmp_path: Path) -> None:
    """It said ``pass layer="troncons"``, Python's keyword, where the configuration's key
    is what a user of the command line sets."""
    gdf = write_roads(tmp_path / "r.gpkg").assign(nox=1.0)
    path = tmp_path / "two.gpkg"
    gdf.to_file(path, layer="troncons")
    gdf.to_file(path, layer="troncons_2015")
    with pytest.raises(InputError, match=r'set \[inputs.roads\] layer = "troncons"'):
        read_roads(path, config_key="[inputs] roads")
    with pytest.raises(InputError, match=r'pass layer="troncons"'):  # from Python
        read_roads(path)
    assert len(read_roads(path, layer="troncons_2015")) == 3
