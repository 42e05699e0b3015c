"""A catalogue of ordinary mistakes against ``trajectoire run`` / ``info`` / ``export`` (issue 13).

Each case breaks one thing in a small copy of the sample's inputs (two territories, a 1 km
grid, one year) and runs the command line in-process. Every case must end with exit code 2
and ONE line on stderr, ``trajectoire: error: ...``, with no traceback, that names what is
wrong: the file (or config key), the field and the offending value where there is one. The
last cases are mistakes the library corrects itself: the documented warning and the right
result.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire import cli
from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning
from trajectoire.sample import SAMPLE_FILES

# the small domain leaves roads and zones of the sample outside its grid (warned, not errors)
pytestmark = pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
FILES = tuple(f for f in SAMPLE_FILES if f != "config.toml")


def _mini(d: Path) -> Path:
    """The sample's inputs in `d` (symlinks) and a small configuration; returns its path."""
    d.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (d / name).symlink_to(SAMPLE / name)
    text = (SAMPLE / "config.toml").read_text()
    repl = {
        r"^first_year = \d+": "first_year = 2017",
        r"^last_year = \d+": "last_year = 2018",
        r"^resolution = [\d.]+": "resolution = 1000.0",
        r"^territories = \[.*\]": 'territories = ["ACSO", "ARC"]',
        r"^radius = [\d.]+": "radius = 5000.0",
        r"^map_years = \[.*\]": "map_years = [2018]",
    }
    for pat, new in repl.items():
        text, n = re.subn(pat, new, text, flags=re.M)
        assert n == 1, pat
    (d / "config.toml").write_text(text)
    return d / "config.toml"


def _edit_config(d: Path, pattern: str, new: str) -> None:
    cfg = d / "config.toml"
    text, n = re.subn(pattern, new, cfg.read_text(), flags=re.M)
    assert n >= 1, pattern
    cfg.write_text(text)


def _own(d: Path, name: str) -> Path:
    """Replace the symlink of `name` by a copy that the case may edit."""
    path = d / name
    path.unlink()
    shutil.copy(SAMPLE / name, path)
    return path


def _csv(d: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = _own(d, name)
    edit(pd.read_csv(path)).to_csv(path, index=False)


def _text(d: Path, name: str, edit: Callable[[str], str]) -> None:
    path = _own(d, name)
    path.write_text(edit(path.read_text()))


@dataclass
class Case:
    """One mistake: how to make it, the argv after the config, what the line must say."""

    name: str
    make: Callable[[Path], None]
    expect: tuple[str, ...]
    argv: tuple[str, ...] = ()


def _set(df: pd.DataFrame, row: int, col: str, value: object) -> pd.DataFrame:
    df[col] = df[col].astype(object)
    df.loc[row, col] = value
    return df


CASES = [
    # ---------------------------------------------------------------- configuration
    Case(
        "config key typo",
        lambda d: _edit_config(d, r"^resolution =", "resolutoin ="),
        ("resolutoin", "Did you mean 'resolution'"),
    ),
    Case(
        "resolution as text",
        lambda d: _edit_config(d, r"^resolution = .*", 'resolution = "fine"'),
        ("[grid] resolution", "'fine'"),
    ),
    Case(
        "years reversed",
        lambda d: _edit_config(d, r"^first_year = .*", "first_year = 2030"),
        ("first_year", "2030"),
    ),
    Case(
        "unknown pollutant",
        lambda d: _edit_config(d, r"^pollutants = .*", 'pollutants = ["NOX2"]'),
        ("pollutants", "NOX2"),
    ),
    Case(
        "NO2 without NOx",
        lambda d: _edit_config(d, r"^pollutants = .*", 'pollutants = ["NO2", "PM10"]'),
        ("config.toml", "[run] pollutants", "NO2 is derived from NOx", "add 'NOx'"),
    ),
    Case(
        "unknown trajectory method",
        lambda d: _edit_config(
            d, r"^C_OtherStationaryComb = \"index\"", 'C_OtherStationaryComb = "backward"'
        ),
        ("C_OtherStationaryComb", "backward"),
    ),
    Case(
        "unknown sigma scheme",
        lambda d: _edit_config(d, r"^sigma = .*", 'sigma = "briggs"'),
        ("sigma", "briggs"),
    ),
    Case(
        "negative radius",
        lambda d: _edit_config(d, r"^radius = .*", "radius = -5.0"),
        ("radius", "-5"),
    ),
    Case(
        "radius below the resolution",
        lambda d: _edit_config(d, r"^radius = .*", "radius = 500.0"),
        ("[dispersion] radius = 500 m", "[grid] resolution = 1000 m"),
    ),
    Case(
        "resolution larger than the territories",
        lambda d: (
            _edit_config(d, r"^resolution = .*", "resolution = 400000.0"),
            _edit_config(d, r"^radius = .*", "radius = 800000.0"),
        ),
        ("config.toml", "[grid] resolution = 400000 m", "buffer"),
    ),
    Case(
        "TOML syntax",
        lambda d: _edit_config(d, r"^name = .*", 'name = "unclosed'),
        ("config.toml", "line"),
    ),
    Case(
        "input file missing",
        lambda d: (d / "trends.csv").unlink(),
        ("[inputs] trends", "not found", "trends.csv"),
    ),
    Case(
        "input file a loop of symbolic links",
        lambda d: (
            (d / "trends.csv").unlink(),
            (d / "trends.csv").symlink_to(d / "loop.csv"),
            (d / "loop.csv").symlink_to(d / "trends.csv"),
        ),
        ("[inputs] trends", "trends.csv", "a loop of symbolic links"),
    ),
    Case(
        "input file a link to nothing",
        lambda d: ((d / "trends.csv").unlink(), (d / "trends.csv").symlink_to(d / "gone.csv")),
        ("[inputs] trends", "trends.csv", "gone.csv, which does not exist"),
    ),
    Case(
        "a reader's list option given as a string",
        lambda d: _edit_config(
            d,
            r'^point_sources = "point_sources.csv"',
            'point_sources = { path = "point_sources.csv", pollutants = "NOx" }',
        ),
        ("[inputs.point_sources] pollutants = 'NOx'", "expected a list", "got a string"),
    ),
    Case(
        "a reader's number option given as a list",
        lambda d: _edit_config(
            d,
            r'^meteo = "meteo.csv.gz"',
            'meteo = { path = "meteo.csv.gz", anemometer_height = [10] }',
        ),
        ("[inputs.meteo] anemometer_height = [10]", "expected a number", "got a list"),
    ),
    Case(
        "anemometer below the ground",
        lambda d: _edit_config(
            d,
            r'^meteo = "meteo.csv.gz"',
            'meteo = { path = "meteo.csv.gz", anemometer_height = -10.0 }',
        ),
        ("meteo.csv.gz", "anemometer_height = -10.0 m", "0.1 to 300 m", "[inputs] meteo"),
    ),
    Case(
        "territory not in file",
        lambda d: _edit_config(
            d, r'^territories = \["ACSO", "ARC"\]', 'territories = ["ACSO", "XYZ"]'
        ),
        ("XYZ",),
    ),
    Case(
        "no emission input",
        lambda d: [
            _edit_config(d, rf"^{k} = .*\n", "")
            for k in (
                "point_sources",
                "point_source_history",
                "roads",
                "road_emission_factors",
                "area_emissions",
            )
        ],
        ("[inputs]", "no emission input"),
    ),
    Case(
        "csv delimiter not allowed",
        lambda d: _edit_config(d, r"^\[trajectory\]", '[csv]\ndelimiter = "|"\n\n[trajectory]'),
        ("[csv] delimiter", "'|'"),
    ),
    Case(
        "NO2 without NOx",
        lambda d: _edit_config(d, r"^pollutants = .*", 'pollutants = ["NO2", "PM10"]'),
        ("NO2", "NOx"),
    ),
    Case("bad --years", lambda d: None, ("--years", "2017to2018"), ("--years", "2017to2018")),
    Case("--years outside the run", lambda d: None, ("1950",), ("--years", "1950:1951")),
    Case("--workers 0", lambda d: None, ("--workers", "0"), ("--workers", "0")),
    # ---------------------------------------------------------------- point sources
    Case(
        "stacks: empty file",
        lambda d: _own(d, "point_sources.csv").write_text(""),
        ("point_sources.csv", "empty"),
    ),
    Case(
        "stacks: header only",
        lambda d: _text(d, "point_sources.csv", lambda t: t.splitlines()[0] + "\n"),
        ("point_sources.csv",),
    ),
    Case(
        "stacks: missing column x",
        lambda d: _csv(d, "point_sources.csv", lambda df: df.drop(columns="x")),
        ("point_sources.csv", "'x'"),
    ),
    Case(
        "stacks: height '12.5 t'",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 1, "height", "12.5 t")),
        ("point_sources.csv", "height", "'12.5 t'", "line 3"),
    ),
    Case(
        "stacks: emission text",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 0, "NOx", "lots")),
        ("point_sources.csv", "NOx", "'lots'"),
    ),
    Case(
        "stacks: ragged row",
        lambda d: _text(
            d,
            "point_sources.csv",
            lambda t: t.replace("\nCUD-STEEL-COKE,", "\nCUD-STEEL-COKE,extra,", 1),
        ),
        ("point_sources.csv", "line"),
    ),
    Case(
        "stacks: duplicate id",
        lambda d: _csv(
            d, "point_sources.csv", lambda df: _set(df, 1, "source_id", df.loc[0, "source_id"])
        ),
        ("point_sources.csv", str(pd.read_csv(SAMPLE / "point_sources.csv").loc[0, "source_id"])),
    ),
    Case(
        "stacks: negative emission",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 0, "SO2", -5.0)),
        ("point_sources.csv", "SO2", "-5"),
    ),
    Case(
        "stacks: undecodable bytes",
        lambda d: _own(d, "point_sources.csv").write_bytes(b"source_id,x\n\xff\xfe\x00\x81,1\n"),
        ("point_sources.csv",),
    ),
    Case(
        "stacks: diameter column missing",
        lambda d: _csv(d, "point_sources.csv", lambda df: df.drop(columns="diameter")),
        ("point_sources.csv", "diameter", "[inputs] point_sources"),
    ),
    Case(
        "stacks: diameter 0",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 0, "diameter", 0.0)),
        ("point_sources.csv", "diameter", "CUD-STEEL-SINTER"),
    ),
    Case(
        "stacks: positions in degrees",
        lambda d: _csv(d, "point_sources.csv", lambda df: df.assign(x=2.35, y=51.02)),
        ("point_sources.csv", "degrees"),
    ),
    # ---------------------------------------------------------------- area emissions
    Case(
        "areas: unknown sector",
        lambda d: _csv(d, "area_emissions.csv", lambda df: _set(df, 0, "sector", "Z_Nothing")),
        ("area_emissions.csv", "Z_Nothing"),
    ),
    Case(
        "areas: unknown pollutant",
        lambda d: _csv(d, "area_emissions.csv", lambda df: _set(df, 0, "pollutant", "CO9")),
        ("area_emissions.csv", "CO9"),
    ),
    Case(
        "areas: text emission",
        lambda d: _csv(d, "area_emissions.csv", lambda df: _set(df, 2, "emission", "12 kt")),
        ("area_emissions.csv", "emission", "'12 kt'"),
    ),
    Case(
        "areas: missing column",
        lambda d: _csv(d, "area_emissions.csv", lambda df: df.drop(columns="emission")),
        ("area_emissions.csv", "emission"),
    ),
    # ---------------------------------------------------------------- trends
    Case(
        "trends: text value",
        lambda d: _csv(d, "trends.csv", lambda df: _set(df, 3, "value", "12.5 %")),
        ("trends.csv", "value", "'12.5 %'"),
    ),
    Case(
        "trends: missing column",
        lambda d: _csv(d, "trends.csv", lambda df: df.drop(columns="year")),
        ("trends.csv", "year"),
    ),
    Case(
        "trends: unknown pollutant",
        lambda d: _csv(d, "trends.csv", lambda df: _set(df, 0, "pollutant", "XX")),
        ("trends.csv", "XX"),
    ),
    # ---------------------------------------------------------------- meteorology
    Case(
        "meteo: year missing",
        lambda d: _edit_config(d, r"^last_year = .*", "last_year = 2025"),
        ("2025",),
    ),
    Case(
        "meteo: text wind speed",
        lambda d: _gz_edit(
            d,
            "meteo.csv.gz",
            lambda t: t.replace("\n2018-06-01T00:00:00Z,", "\n2018-06-01T00:00:00Z,calm?", 1),
        ),
        ("meteo.csv.gz", "wind_speed", "calm?"),
    ),
    Case(
        "meteo: the inputs' folder given for the meteorology file",
        lambda d: _edit_config(d, r'^meteo = "meteo.csv.gz"', 'meteo = "."'),
        ("area_emissions.csv", "(file 1 of", "missing column(s)", "wind_speed", "[inputs] meteo"),
    ),
    Case(
        "meteo: missing column",
        lambda d: _gz_edit(d, "meteo.csv.gz", lambda t: t.replace("cloud_cover", "clouds", 1)),
        ("meteo.csv.gz", "cloud_cover"),
    ),
    Case(
        "meteo: wind speed in km/h",
        lambda d: _meteo(d, lambda m: m.assign(wind_speed=m["wind_speed"] * 3.6)),
        ("meteo.csv.gz", "wind_speed", "above 75 m s-1, up to 75.6", "divide by 3.6"),
    ),
    Case(
        "meteo: a negative wind speed, named by its hour",
        lambda d: _gz_edit(
            d,
            "meteo.csv.gz",
            lambda t: re.sub(r"\n2018-06-01T03:00:00Z,[0-9.]+,", "\n2018-06-01T03:00:00Z,-2.5,", t),
        ),
        ("meteo.csv.gz", "wind_speed", "at 2018-06-01T03:00Z;", "-2.5"),
    ),
    Case(
        "meteo: a time that is no date",
        lambda d: _gz_edit(
            d,
            "meteo.csv.gz",
            lambda t: t.replace("\n2018-06-01T05:00:00Z,", "\n2018-06-31T05h,", 1),
        ),
        ("meteo.csv.gz", "column 'time'", "'2018-06-31T05h'", "ISO 8601"),
    ),
    # ---------------------------------------------------------------- stations
    Case(
        "stations: missing y",
        lambda d: _csv(d, "stations.csv", lambda df: df.drop(columns="y")),
        ("stations.csv", "'y'"),
    ),
    Case(
        "stations: duplicate id",
        lambda d: _csv(
            d, "stations.csv", lambda df: _set(df, 1, "station_id", df.loc[0, "station_id"])
        ),
        ("stations.csv", "FR11025"),
    ),
    Case(
        "stations: text coordinate",
        lambda d: _csv(d, "stations.csv", lambda df: _set(df, 0, "x", "east")),
        ("stations.csv", "'east'"),
    ),
    # ---------------------------------------------------------------- background
    Case(
        "background: pollutant missing",
        lambda d: _csv(d, "background.csv", lambda df: df[df["pollutant"] != "SO2"]),
        ("background.csv ([inputs] background)", "no background for pollutants ['SO2']"),
    ),
    Case(
        "background: a row's units in mg m-3 where the value is in ug m-3",
        lambda d: _text(
            d, "background.csv", lambda t: t.replace("2018,NO2,10.1,ug m-3", "2018,NO2,10.1,mg m-3")
        ),
        (
            "background.csv ([inputs] background)",
            "above 1000 ug m-3",
            "NO2 1.01e+04",
            "2018",
            "units",
        ),  # fmt: skip
    ),
    Case(
        "background: a year of the run missing",
        lambda d: _csv(d, "background.csv", lambda df: df[df["year"] != 2018]),
        ("background.csv ([inputs] background)", "years [2018];", "--years"),
    ),
    Case(
        "background: particles given in ppb",
        lambda d: _csv(
            d,
            "background.csv",
            lambda df: df.assign(
                units=df["units"].astype(object).where(df["pollutant"] != "PM10", "ppb")
            ),
        ),
        ("background.csv ([inputs] background), line", "pollutant 'PM10'", "'ppb'", "molar mass"),
    ),
    Case(
        "background: negative",
        lambda d: _csv(d, "background.csv", lambda df: _set(df, 3, "value", -3.0)),
        ("background.csv", "value", "(line 5: -3)"),
    ),
    Case(
        "background: text value",
        lambda d: _csv(d, "background.csv", lambda df: _set(df, 0, "value", "18,4 µg")),
        ("background.csv", "value", "'18,4 µg'"),
    ),
    Case(
        "background: duplicated rows",
        lambda d: _csv(d, "background.csv", lambda df: pd.concat([df, df.iloc[:1]])),
        ("background.csv", "several values", "1990 NO2 at line 2, 1990 NO2 at line 376"),
    ),
    Case(
        "background: unknown pollutant",
        lambda d: _csv(d, "background.csv", lambda df: _set(df, 2, "pollutant", "NOO")),
        ("background.csv", "'pollutant', line 4", "'NOO'"),
    ),
    # ---------------------------------------------------------------- observations
    Case(
        "observations: text value",
        lambda d: _csv(d, "observations_annual.csv", lambda df: _set(df, 4, "value", "46,6*")),
        ("observations_annual.csv", "value", "'46,6*'", "[inputs] observations"),
    ),
    Case(
        "observations: unknown pollutant",
        lambda d: _csv(d, "observations_annual.csv", lambda df: _set(df, 0, "pollutant", "N02")),
        ("observations_annual.csv", "N02"),
    ),
    Case(
        "observations: duplicated rows",
        lambda d: _csv(d, "observations_annual.csv", lambda df: pd.concat([df, df.iloc[:1]])),
        ("observations_annual.csv", "several values", "at line 2,", "at line 778"),
    ),
    # ---------------------------------------------------------------- roads, zones
    Case(
        "road factors: unknown pollutant",
        lambda d: _csv(d, "road_emission_factors.csv", lambda df: _set(df, 2, "pollutant", "NOq")),
        ("road_emission_factors.csv", "'NOq' (line 4)"),
    ),
    Case(
        "road factors: negative factor",
        lambda d: _csv(d, "road_emission_factors.csv", lambda df: _set(df, 1, "ef_heavy", -0.5)),
        ("road_emission_factors.csv", "'ef_heavy'", "(line 3: -0.5)"),
    ),
    Case(
        "road factors: repeated category and pollutant",
        lambda d: _csv(d, "road_emission_factors.csv", lambda df: pd.concat([df, df.iloc[1:2]])),
        ("road_emission_factors.csv", "at line 3, line"),
    ),
    Case(
        "road factors: a category misspelt in one row (its roads would emit none of it)",
        lambda d: _csv(
            d, "road_emission_factors.csv", lambda df: _set(df, 0, "category", "motorways")
        ),
        (
            "road_emission_factors.csv ([inputs] road_emission_factors)",
            "no row for (motorway, NOx)",
            "'motorways' for 'motorway'",
        ),
    ),
    Case(
        "road factors: a pollutant given for some categories only",
        lambda d: _csv(
            d,
            "road_emission_factors.csv",
            lambda df: df[~((df["pollutant"] == "PM10") & (df["category"] != "urban"))],
        ),
        ("road_emission_factors.csv", "(motorway, PM10), (rural, PM10), (trunk, PM10)"),
    ),
    Case(
        "road factors: missing column",
        lambda d: _csv(d, "road_emission_factors.csv", lambda df: df.drop(columns="ef_heavy")),
        ("road_emission_factors.csv", "ef_heavy"),
    ),
    Case(
        "territories: not polygons",
        lambda d: _own_as(d, "territories.gpkg", "stations.csv"),
        ("territories.gpkg",),
    ),
    Case(
        "zones: population as text with a thousands space",
        lambda d: _zones_population_text(d, "12 000"),
        ("zones", "pop_", "'12 000'"),
    ),
    Case(
        "zones: a layer the file does not hold",
        lambda d: _edit_config(
            d, r'^zones = "zones.gpkg"', 'zones = { path = "zones.gpkg", layer = "zone" }'
        ),
        ("zones.gpkg ([inputs] zones)", "no layer 'zone'", "['zones']"),
    ),
    Case(
        "roads: features without a geometry",
        lambda d: _roads_without_geometry(d, 3),
        ("roads.gpkg", "[inputs] roads", "3 line(s) without a geometry", "road_id"),
    ),
    # ---------------------------------------------------------------- land use
    Case(
        "landuse: not a raster",
        lambda d: _own_as(d, "landuse.tif", "zones.gpkg"),
        ("landuse.tif", "[inputs] landuse", "as a raster", "GeoTIFF"),
    ),
    Case(
        "landuse: damaged raster",
        lambda d: _damaged(d, "landuse.tif"),
        ("landuse.tif", "[inputs] landuse", "as a raster"),
    ),
    Case(
        "landuse: class code of another nomenclature",
        lambda d: _landuse_code(d, 112),
        ("landuse.tif", "[inputs] landuse", "112 (", "1 urban"),
    ),
    # ---------------------------------------------------------------- stacks and their register
    Case(
        "point sources: start after end",
        lambda d: _csv(
            d,
            "point_sources.csv",
            lambda df: _set(_set(df, 0, "start_year", 2015), 0, "end_year", 2005),
        ),
        ("point_sources.csv", "start_year", "end_year", "CUD-STEEL-SINTER (2015 > 2005)"),
    ),
    Case(
        "point sources: year not whole",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 1, "end_year", 2015.5)),
        ("point_sources.csv", "end_year", "CUD-STEEL-COKE (2015.5)", "whole year"),
    ),
    Case(
        "point sources: empty id",
        lambda d: _csv(d, "point_sources.csv", lambda df: _set(df, 2, "source_id", "")),
        ("point_sources.csv", "source_id", "empty at line 4"),
    ),
    Case(
        "point sources: a stack column in capitals",
        lambda d: _csv(d, "point_sources.csv", lambda df: df.rename(columns={"height": "Height"})),
        ("point_sources.csv", "'Height' (expected 'height')", "lower case"),
    ),
    Case(
        "trends: a folder given",
        lambda d: (d / "trends.csv").unlink() or (d / "trends.csv").mkdir(),
        ("trends.csv", "is a folder", "[inputs] trends"),
    ),
    Case(
        "trends: a negative index",
        lambda d: _csv(d, "trends.csv", lambda df: _set(df, 3, "value", -50.0)),
        ("trends.csv ([inputs] trends)", "negative value -50 (", "sector"),
    ),
    Case(
        "stack register: id not among the stacks",
        lambda d: _csv(
            d,
            "point_source_history.csv",
            lambda df: df.replace({"source_id": {"CUD-STEEL-SINTER": "CUD-STEEL-SINTR"}}),
        ),
        (
            "point_source_history.csv",
            "[inputs] point_source_history",
            "CUD-STEEL-SINTR",
            "(line 2, line 3,",
            "[inputs] point_sources",
        ),
    ),
    Case(
        "stack register: unknown pollutant",
        lambda d: _csv(d, "point_source_history.csv", lambda df: _set(df, 0, "pollutant", "Nox2")),
        ("point_source_history.csv", "[inputs] point_source_history", "'Nox2'", "line 2"),
    ),
    Case(
        "stack register: negative figure",
        lambda d: _csv(d, "point_source_history.csv", lambda df: _set(df, 3, "emission", -5.0)),
        ("point_source_history.csv", "[inputs] point_source_history", "-5 at line 5", ">= 0"),
    ),
    Case(
        "stack register: a figure given twice",
        lambda d: _csv(
            d, "point_source_history.csv", lambda df: pd.concat([df.iloc[:2], df.iloc[1:]])
        ),
        ("point_source_history.csv", "several figures", "at line 3,", "at line 4"),
    ),
    Case(
        "stack register: a year written short",
        lambda d: _csv(d, "point_source_history.csv", lambda df: _set(df, 4, "year", 19)),
        ("point_source_history.csv", "[inputs] point_source_history", "'year'", "19 at line 6"),
    ),
    Case(
        "stack register: a year before 1900",
        lambda d: _csv(d, "point_source_history.csv", lambda df: _set(df, 0, "year", 1850)),
        ("point_source_history.csv", "1850 at line 2", "from 1900 to"),
    ),
    # ---------------------------------------------------------------- meteorology, stations
    Case(
        "meteo: a year of the run missing inside the file",
        lambda d: _gz_edit(
            d,
            "meteo.csv.gz",
            lambda t: "\n".join(ln for ln in t.splitlines() if not ln.startswith("2017-")) + "\n",
        ),
        ("meteo.csv.gz", "[inputs] meteo", "no valid hour in year(s) [2017]", "first_year"),
    ),
    Case(
        "meteo: the months a seasonal species is emitted in missing from a year",
        lambda d: _gz_edit(
            d,
            "meteo.csv.gz",
            lambda t: (
                "\n".join(
                    ln
                    for ln in t.splitlines()
                    if not ln.startswith(tuple(f"2017-0{m}" for m in range(2, 10)))
                )
                + "\n"
            ),
        ),
        (
            "meteo.csv.gz ([inputs] meteo)",
            "no valid hour in year(s) [2017] during the months S-metolachlor is emitted",
            "'L_AgriOther/S-metolachlor'",
            "--years",
        ),
    ),
    Case(
        "observations: station not in the stations file",
        lambda d: _csv(
            d, "observations_annual.csv", lambda df: _set(df, 3, "station_id", "FR99999")
        ),
        ("observations_annual.csv", "FR99999", "(line 5)", "[inputs] stations"),
    ),
    Case(
        "observations: negative value",
        lambda d: _csv(d, "observations_annual.csv", lambda df: _set(df, 5, "value", -12.5)),
        ("observations_annual.csv", "'value'", "-12.5 at line 7", ">= 0"),
    ),
    Case(
        "observations: annual mean in ng m-3",
        lambda d: _csv(d, "observations_annual.csv", lambda df: _set(df, 4, "value", 46600.0)),
        ("observations_annual.csv", "'value'", "46600 at line 6", "below 1000"),
    ),
    Case(
        "area emissions: a zone id the zones file does not hold",
        lambda d: _csv(d, "area_emissions.csv", lambda df: _set(df, 5, "zone_id", "MEL-99")),
        ("area_emissions.csv ([inputs] area_emissions)", "MEL-99 at line 7", "[inputs] zones"),
    ),
    Case(
        "zones: a zone given twice under a new id",
        lambda d: _gpkg(
            d,
            "zones.gpkg",
            lambda g: pd.concat([g, g.iloc[[0]].assign(zone_id="MEL-01-bis")], ignore_index=True),
        ),
        ("zones.gpkg", "'MEL-01' and 'MEL-01-bis'", "100 %", "[inputs] zones", "count twice"),
    ),
    Case(
        "zones: a polygon whose ring crosses itself",
        lambda d: _gpkg(d, "zones.gpkg", _bow_tie),
        (
            "zones.gpkg ([inputs] zones)",
            "'MEL-01' (Self-intersection",
            "repair = true",
            "[inputs.zones]",
        ),  # fmt: skip
    ),
    Case(
        "observations without stations",
        lambda d: _edit_config(d, r'^stations = "stations.csv"', ""),
        ("[inputs] observations", "[inputs] stations"),
    ),
]


def _bow_tie(zones: Any) -> Any:
    """The first zone's polygon replaced by a bow tie over its bounds (a ring that crosses
    itself: GEOS's overlays fail on it)."""
    from shapely.geometry import Polygon

    x0, y0, x1, y1 = zones.geometry.iloc[0].bounds
    zones.loc[zones.index[0], "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    return zones


def _gpkg(d: Path, name: str, edit: Callable[[Any], Any]) -> None:
    """Replace the GeoPackage `name` by `edit` of its (only) layer."""
    import geopandas as gpd

    path = _own(d, name)
    frame = edit(gpd.read_file(path))
    path.unlink()
    frame.to_file(path, driver="GPKG")


def _roads_without_geometry(d: Path, n: int) -> None:
    def edit(roads: Any) -> Any:
        roads.loc[roads.index[:n], "geometry"] = None
        return roads

    _gpkg(d, "roads.gpkg", edit)


def _zones_population_text(d: Path, text: str) -> None:
    def edit(zones: Any) -> Any:
        column = sorted(c for c in zones.columns if c.startswith("pop_"))[-1]
        zones[column] = zones[column].astype(object)
        zones.loc[zones.index[0], column] = text
        return zones

    _gpkg(d, "zones.gpkg", edit)


def _damaged(d: Path, name: str) -> None:
    path = _own(d, name)
    raw = bytearray(path.read_bytes())
    raw[8:4096] = bytes(len(raw[8:4096]))  # the header kept, the directory zeroed
    path.write_bytes(bytes(raw))


def _landuse_code(d: Path, code: int) -> None:
    import rasterio

    path = _own(d, "landuse.tif")
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    data[0, :20, :20] = code
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def _gz_edit(d: Path, name: str, edit: Callable[[str], str]) -> None:
    path = d / name
    text = gzip.decompress((SAMPLE / name).read_bytes()).decode()
    path.unlink()
    path.write_bytes(gzip.compress(edit(text).encode()))


def _meteo(d: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Replace the sample's meteorology by `edit` of its table."""
    table = edit(pd.read_csv(SAMPLE / "meteo.csv.gz"))
    (d / "meteo.csv.gz").unlink()
    table.to_csv(d / "meteo.csv.gz", index=False)


def _own_as(d: Path, name: str, other: str) -> None:
    (d / name).unlink()
    shutil.copy(SAMPLE / other, d / name)


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip() and not re.match(r"^\d{4}-\d\d-\d\d ", ln)]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("trajectoire: error: "), err
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_run_mistake_gives_one_clear_line(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _mini(tmp_path / "in")
    case.make(tmp_path / "in")
    out = tmp_path / "out.nc"
    argv = ["run", str(cfg), "--out", str(out), "-q", *(case.argv or ("--years", "2018:2018"))]
    assert main(argv) == 2
    line = _error_line(capsys)
    for fragment in case.expect:
        assert fragment in line, f"{fragment!r} not in: {line}"
    assert not out.exists()


def test_info_and_export_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """info/export on a file that is not there, not NetCDF, or asked for a missing map."""
    missing = tmp_path / "none.nc"
    assert main(["info", str(missing)]) == 2
    assert "none.nc" in _error_line(capsys)
    text = tmp_path / "text.nc"
    text.write_text("not a netcdf file")
    assert main(["info", str(text)]) == 2
    assert "text.nc" in _error_line(capsys)
    argv = ["export", str(text), "--year", "2018", "--pollutant", "NOx"]
    assert main(argv) == 2
    assert "text.nc" in _error_line(capsys)


def test_french_spreadsheet_csv_reads_as_the_original(tmp_path: Path) -> None:
    """Corrected, not an error: ';', decimal comma and Windows-1252 accents (issue 13)."""
    from trajectoire.inventory.readers import read_point_sources

    df = pd.read_csv(SAMPLE / "point_sources.csv")
    df.loc[0, "name"] = "Aciérie de Dunkerque"
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    french = tmp_path / "french.csv"
    french.write_bytes(df.to_csv(index=False, sep=";", decimal=",").encode("cp1252"))
    a, b = read_point_sources(plain), read_point_sources(french)
    assert a.equals(b)  # same values and coordinates (attrs name each file)
    assert str(b["source_name"].values[0]) == "Aciérie de Dunkerque"


def test_csv_dialect_from_the_configuration(tmp_path: Path) -> None:
    """``[csv]`` gives the dialect of the inputs (here a file whose decimal comma would not
    be detected: its values hold no comma in the first lines read as numbers)."""
    from trajectoire.io.config import load_config
    from trajectoire.tables import dialect_defaults, read_table

    cfg = _mini(tmp_path / "in")
    _edit_config(
        tmp_path / "in", r"^\[trajectory\]", '[csv]\ndelimiter = ";"\ndecimal = ","\n\n[trajectory]'
    )
    config = load_config(cfg)
    assert config.csv.dialect() == {"encoding": None, "sep": ";", "decimal": ","}
    table = tmp_path / "t.csv"
    table.write_text("a;b\n1;2\n3,5;4\n")
    with dialect_defaults(**config.csv.dialect()):
        assert read_table(table)["a"].tolist() == [1.0, 3.5]


def test_hourly_observations_given_to_a_run_are_said_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[inputs] observations_hourly`` is accepted but the run compares annual means: it
    says so (the file was ignored silently)."""
    cfg = _mini(tmp_path / "in")
    _edit_config(
        tmp_path / "in",
        r'^observations = "observations_annual.csv"',
        'observations = "observations_annual.csv"\nobservations_hourly = "observations_hourly.csv"',
    )
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    err = capsys.readouterr().err
    assert "[inputs] observations_hourly (observations_hourly.csv) is not used by the run" in err


def test_exposure_zones_beyond_the_grid_are_said_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exposure zones that cover no cell of the grid (moved 1000 km north: a wrong CRS or
    file) are reported, not left to give NaN statistics silently."""
    cfg = _mini(tmp_path / "in")
    _gpkg(tmp_path / "in", "qpv.gpkg", lambda z: z.set_geometry(z.geometry.translate(yoff=1e6)))
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    err = capsys.readouterr().err
    assert "qpv.gpkg ([inputs] exposure_zones): none of its" in err
    assert "covers a cell of the grid" in err


def test_register_years_outside_the_run_are_said_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The register's rows of years outside ``[run] first_year``..``last_year`` (here the
    sample's 2003-2023 against a 2017-2018 run) are named in one line of the log (INFO, on
    stderr), not dropped silently; not a warning (a run of some years with a whole register
    is usual)."""
    cfg = _mini(tmp_path / "in")
    out = tmp_path / "out.nc"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrajectoireWarning)
        assert main(["run", str(cfg), "--out", str(out), "--years", "2018:2018"]) == 0
    assert not [w for w in caught if "outside the run's years" in str(w.message)]
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "outside the run's years" in line]
    assert len(said) == 1, said
    assert "point_source_history.csv ([inputs] point_source_history)" in said[0]
    assert "2003" in said[0] and "2017-2018 ([run] first_year, last_year)" in said[0]
    first_stack = sorted(pd.read_csv(SAMPLE / "point_source_history.csv")["source_id"])[0]
    assert f"(stacks {first_stack}" in said[0]


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (
            lambda m: m.assign(wind_speed=m["wind_speed"] * 3.0),  # km/h of a calm year
            "wind_speed looks like km/h, not m s-1: median 12.",
        ),
        (
            lambda m: m.assign(wind_direction=m["wind_direction"] * 3.14159 / 180),
            "wind_direction: all 8760 values lie within 0-6.283",
        ),
        (
            lambda m: m.assign(cloud_cover=m["cloud_cover"] / 8),
            "cloud_cover: all 8760 values lie within 0-1 (mean 0.59",
        ),
    ],
    ids=["wind km/h", "direction radians", "cloud fraction"],
)
def test_meteo_in_other_units_is_warned(
    tmp_path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame], expect: str
) -> None:
    """A year of the sample's hours with the wind in km/h (a calm year: no value above the
    75 m s-1 that is an error), the directions in radians, the cloud cover as fractions of
    the sky: possible values, but one warning each names the figures and the fix."""
    from trajectoire.meteo import read_hourly

    table = pd.read_csv(SAMPLE / "meteo.csv.gz")
    path = tmp_path / "meteo.csv"
    edit(table[table["time"].str.startswith("2018-")]).to_csv(path, index=False)
    with pytest.warns(TrajectoireWarning, match=re.escape(expect)) as caught:
        read_hourly(path)
    assert all("meteo.csv" in str(w.message) for w in caught)


def test_sample_meteo_is_not_said_in_other_units() -> None:
    """The sample's 34 years of hours raise none of the unit warnings. (The filter is set
    here, not by a mark: the module's ``ignore`` mark would win over a test's own.)"""
    from trajectoire.meteo import read_hourly

    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        read_hourly(SAMPLE / "meteo.csv.gz")


def test_the_command_says_each_warning_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ``trajectoire`` command (:func:`trajectoire.cli.console`) shows a warning about
    the data as one log line, not Python's ``module.py:NN: TrajectoireWarning:`` and source
    line; the display of warnings is given back afterwards."""
    cfg = _mini(tmp_path / "in")
    _edit_config(tmp_path / "in", r"^latitude = .*", "latitude = 3.10")
    _edit_config(tmp_path / "in", r"^longitude = .*", "longitude = 50.57")
    argv = ["trajectoire", "run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]
    monkeypatch.setattr(sys, "argv", [*argv, "--years", "2018:2018"])
    with warnings.catch_warnings():
        warnings.simplefilter("default", TrajectoireWarning)  # the module's mark ignores them
        shown = warnings.showwarning
        with pytest.raises(SystemExit) as info:
            cli.console()
        assert warnings.showwarning is shown
    assert info.value.code == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "look swapped" in line]
    assert len(said) == 1, err
    assert " WARNING trajectoire: [meteo] latitude = 3.1, longitude = 50.57" in said[0]
    assert "TrajectoireWarning" not in err and ".py:" not in err, err


def test_a_warning_outside_the_log_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before a command has its log (reading the configuration), a data warning is one
    ``trajectoire: warning: ...`` line; a warning about code keeps Python's form."""

    def fake_main() -> int:
        warnings.warn("zones.csv: row 3 kept as is", TrajectoireWarning, stacklevel=1)
        warnings.warn("a deprecated call", DeprecationWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "main", fake_main)
    with warnings.catch_warnings(record=True) as passed_on:
        warnings.simplefilter("default")
        with pytest.raises(SystemExit) as info:
            cli.console()
    assert info.value.code == 0
    err = capsys.readouterr().err
    assert err == "trajectoire: warning: zones.csv: row 3 kept as is\n"
    assert [(w.category, str(w.message)) for w in passed_on] == [
        (DeprecationWarning, "a deprecated call")  # to Python's display, as it was
    ]


def test_meteo_site_swapped_is_warned(tmp_path: Path) -> None:
    """``[meteo]`` latitude and longitude swapped (3.10, 50.57: a point of the Indian Ocean,
    7000 km from the grid) are said, with the pair to write."""
    cfg = _mini(tmp_path / "in")
    _edit_config(tmp_path / "in", r"^latitude = .*", "latitude = 3.10")
    _edit_config(tmp_path / "in", r"^longitude = .*", "longitude = 50.57")
    out = tmp_path / "out.nc"
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    said = [str(w.message) for w in caught if str(w.message).startswith("[meteo] latitude")]
    assert len(said) == 1, said
    assert "[meteo] latitude = 3.1, longitude = 50.57: the site lies 7" in said[0]
    assert "They look swapped: write latitude = 50.57, longitude = 3.1." in said[0]


def test_stack_heights_of_0_m_or_above_400_m_are_warned(tmp_path: Path) -> None:
    """A stack 0 m high (not filled in) and one of 4500 m (centimetres) are possible
    values, but one warning names them with their heights and the expected range."""
    cfg = _mini(tmp_path / "in")

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        return _set(_set(df, 0, "height", 0.0), 1, "height", 4500.0)

    _csv(tmp_path / "in", "point_sources.csv", edit)
    ids = pd.read_csv(SAMPLE / "point_sources.csv")["source_id"]
    out = tmp_path / "out.nc"
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    said = [str(w.message) for w in caught if "doubtful height" in str(w.message)]
    assert len(said) == 1, said
    assert "point_sources.csv ([inputs] point_sources): column 'height': 2 stack(s)" in said[0]
    assert f"{ids[0]} = 0, {ids[1]} = 4500" in said[0]
    assert "more than 0 m and at most 400 m" in said[0] and "[inputs] point_sources" in said[0]


def test_background_in_mg_m3_is_warned(tmp_path: Path) -> None:
    """A background of NO2 written in mg m-3 (0.0184 for 18.4 ug m-3) is possible but
    doubtful: one warning names the file, the pollutant, the years and the fix."""
    cfg = _mini(tmp_path / "in")

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        no2 = df["pollutant"] == "NO2"
        df.loc[no2, "value"] = df.loc[no2, "value"] / 1000
        return df

    _csv(tmp_path / "in", "background.csv", edit)
    out = tmp_path / "out.nc"
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    said = [str(w.message) for w in caught if "far below any measured" in str(w.message)]
    assert len(said) == 1, said
    assert said[0].startswith("background.csv ([inputs] background): background(s) far below")
    assert "NO2 0.01" in said[0] and "years 2017, 2018" in said[0] and "mg m-3" in said[0]


def test_zones_overlapping_in_part_are_warned(tmp_path: Path) -> None:
    """A zone that spills over its neighbour (its polygon shifted by a fifth of its width)
    is named with the share of the smaller zone it covers: their inhabitants count twice
    there."""
    import shapely

    cfg = _mini(tmp_path / "in")

    def shift(g: Any) -> Any:
        g = g.copy()
        x0, _, x1, _ = g.geometry.iloc[1].bounds
        g.loc[1, "geometry"] = shapely.affinity.translate(g.geometry.iloc[1], 0.2 * (x1 - x0))
        return g

    _gpkg(tmp_path / "in", "zones.gpkg", shift)
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]) == 0
    said = [str(w.message) for w in caught if "overlap" in str(w.message)]
    assert len(said) == 1, said
    assert "zones.gpkg ([inputs] zones)" in said[0] and "MEL-02" in said[0] and " %)" in said[0]


def test_a_register_in_kg_is_warned(tmp_path: Path) -> None:
    """Register figures a thousand times those of point_sources at the reference year (the
    register in kg yr-1) are warned about with their ratio; the register wins in the run."""
    cfg = _mini(tmp_path / "in")
    _csv(
        tmp_path / "in",
        "point_source_history.csv",
        lambda df: df.assign(emission=df["emission"] * 1000),
    )
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]) == 0
    said = [str(w.message) for w in caught if "times those" in str(w.message)]
    assert len(said) == 1, said
    for part in (
        "point_source_history.csv ([inputs] point_source_history)",
        "2018",
        "1000 times",
        "kg yr-1",
    ):
        assert part in said[0], (part, said[0])
    # the run's summary of the clipped totals names the stacks whose figures cause it
    register = pd.read_csv(tmp_path / "in" / "point_source_history.csv")
    summary = [str(w.message) for w in caught if "could not follow their series" in str(w.message)]
    assert len(summary) == 1, summary
    assert any(str(s) in summary[0] for s in register["source_id"].unique()), summary[0]


@pytest.mark.parametrize("how", ["units column", "unit key"])
def test_a_register_in_kg_that_says_so_is_converted(tmp_path: Path, how: str) -> None:
    """A register in kg yr-1 with a ``units`` column saying so was read as t yr-1 (its
    figures a thousand times too large in the run), and ``[inputs.point_source_history]
    unit`` was refused: both now convert each figure, as the area totals' units do."""
    ref_cfg = _mini(tmp_path / "ref")
    cfg = _mini(tmp_path / "in")
    if how == "units column":
        edit = lambda df: df.assign(emission=df["emission"] * 1000, units="kg yr-1")  # noqa: E731
    else:
        edit = lambda df: df.assign(emission=df["emission"] * 1000)  # noqa: E731
        text = cfg.read_text()
        given = 'point_source_history = "point_source_history.csv"'
        assert given in text
        cfg.write_text(text.replace(given, given[:-1].replace('= "', '= { path = "')
                                    + '", unit = "kg yr-1" }'))  # fmt: skip
    _csv(tmp_path / "in", "point_source_history.csv", edit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(ref_cfg), "--out", str(tmp_path / "ref.nc"), "-q"]) == 0
        assert main(["run", str(cfg), "--out", str(tmp_path / "kg.nc"), "-q"]) == 0
    assert not [w for w in caught if "times those" in str(w.message)]
    with xr.open_dataset(tmp_path / "ref.nc") as a, xr.open_dataset(tmp_path / "kg.nc") as b:
        np.testing.assert_allclose(b["emission"].values, a["emission"].values, rtol=1e-6)
        np.testing.assert_allclose(
            b["concentration"].values, a["concentration"].values, rtol=1e-5, equal_nan=True
        )


def test_a_landuse_raster_over_a_corner_is_warned(tmp_path: Path) -> None:
    """A land-use raster that classifies a corner only (here: every cell but the top-left
    fifth set to 0, no class) is named with the share of the zones it covers and its
    extent against the grid's, besides the per-zone fallbacks."""
    import rasterio

    cfg = _mini(tmp_path / "in")
    path = _own(tmp_path / "in", "landuse.tif")
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    rows, cols = data.shape[1] // 5, data.shape[2] // 5
    corner = data[:, :rows, :cols].copy()
    data[:] = 0
    data[:, :rows, :cols] = corner
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with pytest.warns(TrajectoireWarning) as caught:
        assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]) == 0
    said = [
        str(w.message) for w in caught if "([inputs] landuse): its classes cover" in str(w.message)
    ]
    assert len(said) == 1, said
    share = int(re.search(r"cover (\d+) %", said[0]).group(1))
    assert share < 90 and "the grid x" in said[0] and "[inputs.landuse] crs" in said[0]


def test_the_sample_landuse_covers_the_zones() -> None:
    """The sample's raster classifies the zones' area (99 %): no coverage warning."""
    from trajectoire.geo.grid import Grid
    from trajectoire.inventory.build import _check_landuse_coverage
    from trajectoire.inventory.proxies import landuse_areas
    from trajectoire.inventory.readers import read_landuse, read_zones

    lu = read_landuse(SAMPLE / "landuse.tif")
    grid = Grid.from_bounds(600_000.0, 6_891_000.0, 724_000.0, 7_114_000.0, 1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = read_zones(SAMPLE / "zones.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)  # here: the module's mark ignores
        _check_landuse_coverage(lu, landuse_areas(lu, grid), zones, grid, SAMPLE / "landuse.tif")
