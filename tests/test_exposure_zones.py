"""The exposure zones: reading ``[inputs] exposure_zones`` and splitting each territory's
inhabitants inside and outside them."""

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from trajectoire import InputError, MissingVariableError
from trajectoire.errors import ConfigError
from trajectoire.geo.territories import read_exposure_zones
from trajectoire.io.config import InputSpec
from trajectoire.io.formats import read_input


def _write(path: Path, frame: gpd.GeoDataFrame, layer: str | None = None) -> Path:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        frame.to_file(path, driver="GPKG", layer=layer)
    return path


def _zones(ids, geoms, column="zone_id", crs="EPSG:2154") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({column: ids}, geometry=geoms, crs=crs)


BOXES = [
    shapely.box(700_000, 7_000_000, 701_000, 7_001_000),
    shapely.box(702_000, 7_000_000, 703_000, 7_001_000),
]


# ------------------------------------------------------------------ reading the layer
def test_exposure_zones_layer_the_file_lacks_is_one_error_listing_its_layers(tmp_path):
    """It was a pyogrio DataLayerError traceback (the layer was passed to gpd.read_file)."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], BOXES), layer="qpv")
    with pytest.raises(MissingVariableError, match=r"no layer 'qpvv'.*holds \['qpv'\]"):
        read_exposure_zones(path, layer="qpvv")
    assert list(read_exposure_zones(path, layer="qpv")["zone_id"]) == ["A", "B"]


def test_exposure_zones_of_several_layers_need_one_named(tmp_path):
    """The first layer was read silently."""
    path = _write(tmp_path / "z.gpkg", _zones(["X"], BOXES[:1]), layer="aaa_other")
    _write(path, _zones(["A", "B"], BOXES), layer="qpv")
    with pytest.raises(
        InputError, match=r"several layers.*set \[inputs\.exposure_zones\] layer = "
    ):
        read_exposure_zones(path)
    assert list(read_exposure_zones(path, layer="qpv")["zone_id"]) == ["A", "B"]


def test_exposure_zones_table_without_geometry_is_one_error(tmp_path):
    """A CSV ended on AttributeError: 'DataFrame' object has no attribute 'crs'."""
    path = tmp_path / "zones.csv"
    path.write_text("zone_id,x\nA,1\n")
    with pytest.raises(
        InputError, match=r"zones\.csv .*is a table without geometry.*expected a vector file"
    ):
        read_exposure_zones(path)


def test_exposure_zones_columns_of_the_configuration_rename_the_id(tmp_path):
    """``columns = { zone_id = "code_qp" }`` was ignored (no 'zone_id' column), and a
    mapping to a column the file lacks passed."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], BOXES, column="code_qp"))
    spec = InputSpec.model_validate({"path": str(path), "columns": {"zone_id": "code_qp"}})
    assert list(read_input("exposure_zones", spec)["zone_id"]) == ["A", "B"]
    bad = InputSpec.model_validate(
        {"path": str(path), "columns": {"zone_id": "nonexistent"}, "id_column": "code_qp"}
    )
    with pytest.raises(ConfigError, match=r"columns\.zone_id = 'nonexistent'.*no column"):
        read_input("exposure_zones", bad)


def test_exposure_zones_empty_polygon_is_refused(tmp_path):
    """An empty polygon passed silently (the territories reader refuses one)."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], [BOXES[0], shapely.Polygon()]))
    with pytest.raises(InputError, match=r"zone 'B' has an empty geometry"):
        read_exposure_zones(path)
