"""Probe 19: the keys of a generic ``columns`` are checked when the configuration is loaded
(F1), the missing-column message of an input read through the configuration names the
``columns`` line to write (F2), a bad ``[inputs.point_sources] crs`` names the key and the
file (F3), and an anchor's unit warning names the anchor's own key (F4)."""

from __future__ import annotations

import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

from trajectoire.errors import MissingVariableError, TrajectoireError
from trajectoire.io.config import InputSpec
from trajectoire.io.formats import check_spec, read_input

ANCHOR = "[[inputs.anchors]] #1 (year 2010) area_emissions"


def _spec(tmp_path: Path, name: str = "f.csv", text: str = "a\n1\n", **keys: Any) -> InputSpec:
    path = tmp_path / name
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return InputSpec.model_validate({"path": name, **keys}, context={"base_dir": str(tmp_path)})


# ------------------------------------------------------------------ F1: keys of columns
def test_a_columns_key_the_area_reader_does_not_read_is_refused(tmp_path: Path) -> None:
    spec = _spec(tmp_path, columns={"unit": "unite"})
    with pytest.raises(ValueError) as err:
        check_spec("area_emissions", spec)
    msg = str(err.value)
    assert "[inputs.area_emissions] columns.unit = 'unite'" in msg
    assert "did you mean 'units'?" in msg and "emission" in msg
    assert "\n" not in msg


def test_an_anchors_columns_key_is_named_in_toml(tmp_path: Path) -> None:
    spec = _spec(tmp_path, columns={"emision": "valeur"})
    with pytest.raises(ValueError) as err:
        check_spec("area_emissions", spec, ANCHOR)
    msg = str(err.value)
    assert "[inputs.anchors.area_emissions] (anchor #1, year 2010) columns.emision" in msg
    assert "did you mean 'emission'?" in msg


@pytest.mark.parametrize(
    ("key", "bad", "close"),
    [
        ("meteo", "windspeed", "wind_speed"),
        ("point_sources", "sourceid", "source_id"),
        ("point_source_history", "emissions", "emission"),
        ("observations", "valeur", "value"),
        ("observations_hourly", "times", "time"),
        ("background", "years", "year"),
        ("trends", "sectors", "sector"),
        ("road_emission_factors", "ef_lights", "ef_light"),
        ("surrogates", "drivers", "driver"),
        ("territories", "territoire", "territory"),
        ("zones", "zoneid", "zone_id"),
    ],
)
def test_unknown_columns_keys_are_refused_for_every_generic_input(
    tmp_path: Path, key: str, bad: str, close: str
) -> None:
    spec = _spec(tmp_path, columns={bad: "x"})
    with pytest.raises(ValueError, match=rf"\[inputs\.{key}\] columns\.{bad} = 'x'") as err:
        check_spec(key, spec)
    assert f"did you mean {close!r}?" in str(err.value)


@pytest.mark.parametrize(
    ("key", "keys"),
    [
        ("point_sources", {"columns": {"source_id": "id", "NOx": "nox", "pm25": "p", "unit": "u"}}),
        ("point_sources", {"columns": {"benzene_x": "b"}, "pollutants": ["benzene_x"]}),
        ("area_emissions", {"columns": {"zone_id": "insee", "units": "unite", "year": "an"}}),
        ("area_emissions", {"columns": {"code": "insee"}, "zone_column": "code"}),
        ("zones", {"columns": {"zone_id": "c", "pop_2019": "P19_POP", "territory": "t"}}),
        ("zones", {"columns": {"insee": "INSEE_COM"}, "id_column": "insee"}),
        ("exposure_zones", {"columns": {"zone_id": "code_qp"}}),
        ("point_source_history", {"columns": {"unit": "u", "emission": "valeur"}}),
        ("meteo", {"columns": {"wind_speed": "ff", "mixing_height": "blh"}}),
        ("observations_hourly", {"columns": {"time": "date", "units": "unite"}}),
        ("roads", {"columns": {"road_id": "id", "NOx": "nox_km"}}),
        ("background", {"columns": {"units": "unite"}}),
        ("trends", {"columns": {"series": "serie"}}),
        ("territories", {"columns": {"territory": "code_epci", "population": "pmun"}}),
    ],
)
def test_valid_columns_keys_are_taken(tmp_path: Path, key: str, keys: dict[str, Any]) -> None:
    check_spec(key, _spec(tmp_path, **keys))


# ---------------------------------------------------------- F2: the missing column message
_AREA = "zone_id,sector,pollutant,valeur\nz1,F_RoadTransport,NOx,1.0\n"


def test_a_missing_column_names_the_columns_line_to_write(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "area_valeur.csv", _AREA)
    with pytest.raises(MissingVariableError) as err:
        read_input("area_emissions", spec)
    msg = str(err.value)
    assert msg.startswith(
        "area_valeur.csv ([inputs.area_emissions]): missing column(s) ['emission']"
    )
    assert msg.endswith('Set [inputs.area_emissions] columns.emission = "<your column>"')
    assert "named by" not in msg and "pass a column mapping" not in msg
    assert str(tmp_path) not in msg and "\n" not in msg


def test_a_missing_column_of_an_anchor_is_named_in_toml(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "area_valeur.csv", _AREA)
    with pytest.raises(MissingVariableError) as err:
        read_input("area_emissions", spec, label=ANCHOR)
    msg = str(err.value)
    assert "[[inputs.anchors]]" not in msg
    assert msg.endswith(
        "Set [inputs.anchors.area_emissions] (anchor #1, year 2010) columns.emission = "
        '"<your column>"'
    )


def test_the_missing_column_message_shows_the_files_own_names(tmp_path: Path) -> None:
    text = "zone_id,secteur,pollutant,valeur\nz1,F_RoadTransport,NOx,1.0\n"
    spec = _spec(tmp_path, "a.csv", text, columns={"sector": "secteur"})
    with pytest.raises(MissingVariableError) as err:
        read_input("area_emissions", spec)
    msg = str(err.value)
    assert "['zone_id', 'secteur', 'pollutant', 'valeur']" in msg
    assert "'sector'" not in msg.split("the file has")[1]


def test_a_close_file_column_is_the_value_suggested(tmp_path: Path) -> None:
    text = "station_id,year,pollutant,valeur\nS1,2020,NO2,20\n"
    spec = _spec(tmp_path, "obs.csv", text)
    with pytest.raises(MissingVariableError) as err:
        read_input("observations", spec)
    msg = str(err.value)
    assert msg.endswith('Set [inputs.observations] columns.value = "valeur"')
    assert "obs.csv ([inputs.observations])" in msg


def test_hourly_observations_given_as_annual_point_at_observations_hourly(
    tmp_path: Path,
) -> None:
    text = "station_id,time,pollutant,value\nS1,2020-01-01T00:00Z,NO2,20\n"
    spec = _spec(tmp_path, "observations_hourly.csv", text)
    with pytest.raises(MissingVariableError) as err:
        read_input("observations", spec)
    msg = str(err.value)
    assert '[inputs] observations_hourly = "observations_hourly.csv"' in msg
    assert "Rename" not in msg and "\n" not in msg


def test_a_register_without_emission_names_its_columns_key(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "psh.csv", "source_id,year,pollutant,valeur\nS1,2010,NOx,1\n")
    with pytest.raises(MissingVariableError) as err:
        read_input("point_source_history", spec)
    assert str(err.value).endswith(
        'Set [inputs.point_source_history] columns.emission = "<your column>"'
    )


def test_a_meteo_file_without_wind_speed_is_named_as_given(tmp_path: Path) -> None:
    text = "time,ff,wind_direction,cloud_cover,temperature\n2020-01-01T00:00Z,3,200,4,280\n"
    spec = _spec(tmp_path, "meteo_ff.csv", text)
    with pytest.raises(MissingVariableError) as err:
        read_input("meteo", spec, latitude=50.0, longitude=3.0, roughness_length=0.5)
    msg = str(err.value)
    assert msg.startswith("meteo_ff.csv ([inputs.meteo]): missing column(s) ['wind_speed']")
    assert msg.endswith('Set [inputs.meteo] columns.wind_speed = "<your column>"')
    assert "named by" not in msg


# ------------------------------------------------------------------------- F3: the crs key
_POINTS = "source_id,x,y,sector,NOx\nS1,700000,7000000,B_Industry,1.0\n"


def test_a_crs_pyproj_does_not_know_names_the_key_and_the_file(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "point_sources.csv", _POINTS, crs="Lambert93")
    with pytest.raises(TrajectoireError) as err:
        read_input("point_sources", spec)
    msg = str(err.value)
    assert msg.startswith("point_sources.csv")
    assert "[inputs.point_sources] crs = 'Lambert93'" in msg and '"EPSG:2154"' in msg
    assert "named by" not in msg and "\n" not in msg


def test_metres_read_as_degrees_name_the_crs_key() -> None:
    from trajectoire.inventory.build import _check_positions_crs

    points = xr.Dataset(
        {"source_x": ("source", np.array([700000.0])), "source_y": ("source", [7e6])},
        coords={"source": ["S1"]},
        attrs={"crs": "EPSG:4326", "source_file": "ps.csv ([inputs] point_sources)"},
    )
    grid = types.SimpleNamespace(crs=pyproj.CRS("EPSG:2154"))
    with pytest.raises(TrajectoireError) as err:
        _check_positions_crs(points, grid)  # type: ignore[arg-type]
    msg = str(err.value)
    assert '[inputs.point_sources] crs = "EPSG:2154"' in msg
    assert "read_point_sources(" not in msg


# -------------------------------------------------------------- F4: an anchor's unit key
def test_an_anchors_unit_warning_names_the_anchors_key() -> None:
    from trajectoire.inventory.readers import read_area_totals

    table = pd.DataFrame(
        {
            "zone_id": ["z1", "z2"],
            "sector": ["F_RoadTransport"] * 2,
            "pollutant": ["NOx"] * 2,
            "emission": [1.0, 2.0],
            "units": ["t yr-1"] * 2,
        }
    )
    what = "a.csv ([[inputs.anchors]] #2 (year 2005) area_emissions)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_area_totals(table, units="kg yr-1", what=what)
    said = " ".join(str(w.message) for w in caught)
    assert "[inputs.anchors.area_emissions] (anchor #2, year 2005) unit = 'kg yr-1'" in said
    assert "[inputs.area_emissions] unit" not in said
