"""A vector file in metres that states no CRS, and grid bounds in degrees.

A GeoJSON file without a ``"crs"`` member is read as WGS84 longitude/latitude (RFC 7946):
Lambert-93 metres written so became infinities on reprojection, then "invalid polygons"
whose suggested repair could not work. They are refused as read, naming the file, the
bounds found, why, and the key or the rewrite that states the CRS; the key then reads the
file. ``[grid] bounds`` / ``regional_grid(bounds=)`` in degrees say so, as
:meth:`Grid.from_bounds` does, instead of "widen [grid] bounds".
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from test_bad_inputs import SAMPLE, _edit_config, _error_line, _mini
from trajectoire.cli import main
from trajectoire.errors import GridError, InputError
from trajectoire.geo import load_territories, regional_grid
from trajectoire.geo.territories import read_exposure_zones
from trajectoire.inventory.readers import read_roads, read_zones

FACTORS = SAMPLE / "road_emission_factors.csv"


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    return msg


def _geojson(path: Path, name: str, edit: Callable[[Any], Any] | None = None) -> Path:
    """The sample's `name` written to `path` as GeoJSON without a CRS (what
    ``gdf.set_crs(None, allow_override=True).to_file(...)`` writes: Lambert-93 metres and
    no ``"crs"`` member), or edited by `edit` instead."""
    gdf = gpd.read_file(SAMPLE / name)
    gdf = edit(gdf) if edit else gdf.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL: no CRS to write
        gdf.to_file(path, driver="GeoJSON")
    return path


def _says_geojson_metres(msg: str, path: Path) -> None:
    assert str(path) in msg
    assert "EPSG:4326" in msg and "beyond ±180/±90" in msg
    assert re.search(
        r"coordinates run from \(6\d{5}, 6\.\d+e\+06\) to \(7\d{5}, 7\.\d+e\+06\)", msg
    )
    assert 'GeoJSON file without a "crs" member is read as WGS84 longitude/latitude' in msg
    assert "EPSG:2154" in msg
    assert "invalid polygon" not in msg and "repair" not in msg


# ---------------------------------------------------------------- F1: territories
@pytest.mark.parametrize("repair", [False, True])
def test_territories_geojson_in_metres_without_crs(tmp_path: Path, repair: bool) -> None:
    path = _geojson(tmp_path / "t.geojson", "territories.gpkg")
    with pytest.raises(GridError) as exc:
        load_territories(path, repair=repair, config_key="[inputs] territories")
    msg = _one_line(exc)
    _says_geojson_metres(msg, path)
    assert "ogr2ogr -a_srs EPSG:2154" in msg


def test_territories_gpkg_in_metres_labelled_in_degrees(tmp_path: Path) -> None:
    """The same mistake stated in a GeoPackage: no word of GeoJSON."""
    path = tmp_path / "t.gpkg"
    gdf = gpd.read_file(SAMPLE / "territories.gpkg").set_crs("EPSG:4326", allow_override=True)
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(GridError) as exc:
        load_territories(path)
    msg = _one_line(exc)
    assert str(path) in msg and "beyond ±180/±90" in msg and "EPSG:4326" in msg
    assert "GeoJSON" not in msg and "invalid polygon" not in msg
    assert "ogr2ogr -a_srs EPSG:2154" in msg


def test_exposure_zones_geojson_in_metres_without_crs(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "q.geojson", "qpv.gpkg")
    with pytest.raises(GridError) as exc:
        read_exposure_zones(path, repair=True)
    msg = _one_line(exc)
    _says_geojson_metres(msg, path)
    assert "[inputs] exposure_zones" in msg


# ---------------------------------------------------------------- F1: zones and roads
def test_zones_geojson_names_the_crs_key_and_the_key_reads_it(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "z.geojson", "zones.gpkg")
    with pytest.raises(GridError) as exc:
        read_zones(path, config_key="[inputs] zones")
    msg = _one_line(exc)
    _says_geojson_metres(msg, path)
    assert 'Set [inputs.zones] crs = "EPSG:2154"' in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_zones(path, crs="EPSG:2154", config_key="[inputs] zones")
    ref = read_zones(SAMPLE / "zones.gpkg")
    assert got.crs == ref.crs
    assert list(got["zone_id"]) == list(ref["zone_id"])
    np.testing.assert_allclose(got.geometry.area, ref.geometry.area, rtol=1e-9)


def test_roads_geojson_names_the_crs_key_and_the_key_reads_it(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "r.geojson", "roads.gpkg")
    with pytest.raises(GridError) as exc:
        read_roads(path, emission_factors=FACTORS, config_key="[inputs] roads")
    msg = _one_line(exc)
    _says_geojson_metres(msg, path)
    assert 'Set [inputs.roads] crs = "EPSG:2154"' in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_roads(path, emission_factors=FACTORS, crs="EPSG:2154")
    ref = read_roads(SAMPLE / "roads.gpkg", emission_factors=FACTORS)
    assert got.crs == ref.crs
    np.testing.assert_allclose(got["NOx"], ref["NOx"], rtol=1e-6)


def test_zones_frame_in_metres_labelled_in_degrees_says_set_crs() -> None:
    gdf = gpd.read_file(SAMPLE / "zones.gpkg").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(GridError) as exc:
        read_zones(gdf)
    msg = _one_line(exc)
    assert "beyond ±180/±90" in msg and "GeoJSON" not in msg
    assert "Pass crs='EPSG:2154'" in msg and ".set_crs('EPSG:2154', allow_override=True)" in msg


# ---------------------------------------------------------------- valid files unchanged
@pytest.mark.parametrize("crs", ["EPSG:2154", "EPSG:4326"])
def test_valid_geojson_reads_as_the_geopackage(tmp_path: Path, crs: str) -> None:
    """A GeoJSON that states Lambert-93, or is in WGS84 degrees: read as before, silently."""
    path = _geojson(tmp_path / "t.geojson", "territories.gpkg", lambda g: g.to_crs(crs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = load_territories(path)
    ref = load_territories(SAMPLE / "territories.gpkg")
    assert list(got["territory"]) == list(ref["territory"])
    np.testing.assert_allclose(got.geometry.area, ref.geometry.area, rtol=1e-6)


def test_zones_geojson_in_degrees_with_another_crs_stated_is_still_refused(
    tmp_path: Path,
) -> None:
    """Coordinates that are degrees keep the file's CRS: a `crs` that differs is the error
    it was."""
    path = _geojson(tmp_path / "z.geojson", "zones.gpkg", lambda g: g.to_crs("EPSG:4326"))
    with pytest.raises(InputError, match=r"but the file has its own CRS \(EPSG:4326\)"):
        read_zones(path, crs="EPSG:2154", config_key="[inputs] zones")


# ---------------------------------------------------------------- F5: bounds in degrees
@pytest.mark.parametrize("crs", ["EPSG:2154", "EPSG:3035"])
def test_regional_grid_bounds_in_degrees(crs: str) -> None:
    with pytest.raises(InputError) as exc:
        regional_grid(load_territories(), resolution=1000.0, bounds=(2.0, 49.0, 4.0, 51.0), crs=crs)
    msg = _one_line(exc)
    assert "[grid] bounds [2, 49, 4, 51]" in msg
    assert "look like degrees of longitude/latitude" in msg
    assert f"in metres of [grid] crs ({crs})" in msg
    assert "widen" not in msg


def test_regional_grid_bounds_in_metres_unchanged() -> None:
    t = load_territories()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = regional_grid(t, resolution=1000.0, bounds=(600000, 6890000, 730000, 7120000))
    assert g.bounds == (600000.0, 6890000.0, 730000.0, 7120000.0)
    with pytest.raises(InputError, match=r"leave part of the territories out.*widen"):
        regional_grid(t, resolution=1000.0, bounds=(690000, 6990000, 700000, 7000000))


# ---------------------------------------------------------------- through a run
def test_run_grid_bounds_in_degrees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _mini(tmp_path / "in")
    _edit_config(tmp_path / "in", r"^(\[grid\]\n)", r"\1bounds = [2.0, 49.0, 4.0, 51.0]\n")
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]) == 2
    line = _error_line(capsys)
    assert "[grid] bounds [2, 49, 4, 51]" in line and "look like degrees" in line
    assert "widen" not in line


def test_run_territories_geojson_in_metres(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _mini(tmp_path / "in")
    path = _geojson(tmp_path / "in" / "t.geojson", "territories.gpkg")
    _edit_config(tmp_path / "in", r'^territories = "territories.gpkg"', 'territories = "t.geojson"')
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q"]) == 2
    line = _error_line(capsys)
    _says_geojson_metres(line, path)


def test_point_sources_geojson_in_metres_without_crs_is_said_as_read(tmp_path: Path) -> None:
    """A point-sources GeoJSON in Lambert-93 metres states no CRS (read as WGS84): it was
    caught only when the inventory was built, advising x/y columns; said as read now."""
    import json

    from trajectoire.inventory.readers import read_point_sources

    props = {"source_id": "S1", "sector": "A", "NOx": 10.0, "height": 50.0, "diameter": 2.0,
             "temperature": 400.0, "velocity": 10.0}  # fmt: skip
    point = {"type": "Point", "coordinates": [704000.0, 7060000.0]}
    path = tmp_path / "stacks.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": point, "properties": props}]}))  # fmt: skip
    with pytest.raises(GridError) as err:
        read_point_sources(path)
    text = _one_line(err)
    assert str(path) in text and "704000" in text and 'without a "crs" member' in text
    assert "ogr2ogr -a_srs EPSG:2154" in text
    lonlat = tmp_path / "lonlat.geojson"  # the same file in degrees reads as before
    point["coordinates"] = [3.06, 50.63]
    lonlat.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": point, "properties": props}]}))  # fmt: skip
    assert read_point_sources(lonlat).sizes["source"] == 1
