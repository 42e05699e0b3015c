"""Invalid polygons in the inputs: one clear error naming them, or, with ``repair = true``,
repaired by shapely.make_valid with a warning (territories, zones, communes, exposure zones).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from trajectoire.errors import InputError, TrajectoireWarning
from trajectoire.geo.territories import load_territories, read_exposure_zones, valid_polygons
from trajectoire.inventory.readers import read_zones

X0, Y0 = 700_000.0, 7_050_000.0


def _bow_tie(x0: float, y0: float, side: float) -> Polygon:
    """A square's corners joined across: two triangles of side²/4 each, meeting at the
    centre (a self-intersection; shapely's area of it is 0)."""
    return Polygon([(x0, y0), (x0 + side, y0 + side), (x0 + side, y0), (x0, y0 + side)])


def _frame(tmp_path: Path, id_col: str, extra: dict | None = None) -> Path:
    geoms = [box(X0, Y0, X0 + 1000, Y0 + 1000), _bow_tie(X0 + 2000, Y0, 1000)]
    data = {id_col: ["A", "B"], **(extra or {})}
    path = tmp_path / f"{id_col}.gpkg"
    gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:2154").to_file(path, driver="GPKG")
    return path


def test_valid_polygons_names_every_invalid_one() -> None:
    geoms = [_bow_tie(0, 0, 10), box(0, 0, 1, 1), _bow_tie(20, 0, 10)]
    with pytest.raises(InputError) as caught:
        valid_polygons(geoms, ["a", "b", "c"], "z.gpkg", config_key="[inputs] zones")
    text = str(caught.value)
    assert "2 zone(s) with an invalid polygon" in text
    assert "'a' (Self-intersection" in text and "'c' (Self-intersection" in text
    assert "'b'" not in text
    assert "repair = true in [inputs.zones]" in text and "\n" not in text


def test_repair_keeps_the_area_the_rings_enclose() -> None:
    """A bow tie repaired is its two triangles (side²/2 together); a valid polygon is
    returned as it is (the same object)."""
    ok = box(0, 0, 1, 1)
    with pytest.warns(TrajectoireWarning, match=r"1 invalid zone polygon\(s\) repaired.*'a'"):
        out = valid_polygons([_bow_tie(0, 0, 10), ok], ["a", "b"], "z", repair=True)
    assert out[1] is ok
    assert shapely.is_valid(out[0]) and out[0].geom_type in ("Polygon", "MultiPolygon")
    assert out[0].area == pytest.approx(50.0)


def test_repair_that_leaves_no_area_is_an_error() -> None:
    flat = Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])  # a ring with no area
    with pytest.raises(InputError, match=r"'a' has an invalid polygon .* leaves no area"):
        valid_polygons([flat], ["a"], "z", repair=True)


def test_each_reader_raises_or_repairs(tmp_path: Path) -> None:
    zones = _frame(tmp_path, "zone_id")
    with pytest.raises(InputError, match=r"zone\(s\) with an invalid polygon: 'B'"):
        read_zones(zones)
    with pytest.warns(TrajectoireWarning, match="repaired"):
        got = read_zones(zones, repair=True)
    assert got.geometry.is_valid.all()
    assert got.geometry.area.to_numpy() == pytest.approx([1e6, 5e5])

    exposure = _frame(tmp_path, "qpv")
    with pytest.raises(InputError, match=r"\[inputs.exposure_zones\]"):
        read_exposure_zones(exposure, id_column="qpv")
    with pytest.warns(TrajectoireWarning, match="repaired"):
        assert read_exposure_zones(exposure, id_column="qpv", repair=True).is_valid.all()

    terr = _frame(tmp_path, "territory", {"population": [10, 20]})
    with pytest.raises(InputError, match=r"territory\(s\) with an invalid polygon: 'B'"):
        load_territories(terr)
    with pytest.warns(TrajectoireWarning, match="repaired"):
        got = load_territories(terr, repair=True)
    assert np.allclose(got.geometry.area, [1e6, 5e5])
