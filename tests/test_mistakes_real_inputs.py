"""Ordinary mistakes with the region's real open-data formats (IREP register, communes and
INSEE populations, territories with a ``columns`` mapping, stations in lon/lat).

Each case copies ``examples/hauts-de-france/config.toml`` into a temporary folder with
absolute paths to ``../shared/data`` (read as it is; a file the case breaks is copied and
edited under ``tmp_path``), makes one mistake, and checks that the command line ends with
exit code 2 and ONE line ``trajectoire: error: ...`` naming the file, the field, the value
and the configuration key; or, for the mistakes a warning is enough for, the one-line
warning. The synthetic sample's catalogue is ``tests/test_bad_inputs.py``. Skipped where
``../shared/data`` is absent.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from test_bad_inputs import _error_line
from trajectoire.cli import main
from trajectoire.errors import TrajectoireError, TrajectoireWarning
from trajectoire.io.config import load_config
from trajectoire.io.formats import read_input

pytestmark = [
    pytest.mark.requires_shared,
    # what the real data lack (799 sites without amounts, communes without some censuses)
    pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning"),
]

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hauts-de-france"
SITES = "point_sources/irep2021_sites_59_60_62_geocoded.csv"
POPULATION = "population/population_communes_59_60_62_cog2026_wide.csv"
TERRITORIES = "territories/territoires_aqah.gpkg"
STATIONS = "stations/stations_hdf_lcsqa2021_rtelga.csv"


# ------------------------------------------------------------------------------ helpers
def _config(d: Path, data: Path) -> Path:
    """The example's configuration in `d`, absolute paths, a 4 km grid; returns its path."""
    d.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLE / "config.toml").read_text()
    text = text.replace("../../../shared/data", data.as_posix())
    text = text.replace(
        '"ILLUSTRATIVE_irep_emissions_2021.csv"',
        f'"{(EXAMPLE / "ILLUSTRATIVE_irep_emissions_2021.csv").as_posix()}"',
    )
    text = text.replace(
        "../../data/sample/meteo.csv.gz", (REPO / "data/sample/meteo.csv.gz").as_posix()
    )
    text, n = re.subn(r"^resolution = .*", "resolution = 4000.0", text, flags=re.M)
    assert n == 1
    (d / "config.toml").write_text(text)
    return d / "config.toml"


def _edit(cfg: Path, pattern: str, new: str) -> None:
    text, n = re.subn(pattern, new, cfg.read_text(), flags=re.M)
    assert n >= 1, pattern
    cfg.write_text(text)


def _table(
    src: Path, dst: Path, edit: Callable[[pd.DataFrame], pd.DataFrame], **to_csv: Any
) -> Path:
    """A copy of the CSV `src` at `dst`, its cells as text, edited by `edit`."""
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    edit(frame).to_csv(dst, index=False, **to_csv)
    return dst


def _sites(cfg: Path, data: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = _table(data / SITES, cfg.parent / "sites.csv", edit)
    _edit(cfg, r'^path = ".*irep2021_sites.*"', f'path = "{path.as_posix()}"')


def _emissions(cfg: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    src = EXAMPLE / "ILLUSTRATIVE_irep_emissions_2021.csv"
    path = _table(src, cfg.parent / "emissions.csv", edit)
    _edit(cfg, r"^emissions = .*", f'emissions = "{path.as_posix()}"')


def _population(cfg: Path, data: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = _table(data / POPULATION, cfg.parent / "population.csv", edit)
    _edit(cfg, r"^table = .*", f'table = "{path.as_posix()}"')


def _territories(cfg: Path, data: Path, edit: Callable[[Any], Any]) -> None:
    import geopandas as gpd

    path = cfg.parent / "territories.gpkg"
    edit(gpd.read_file(data / TERRITORIES, layer="territoires")).to_file(path, layer="territoires")
    _edit(cfg, r'^path = ".*territoires_aqah.gpkg"', f'path = "{path.as_posix()}"')


def _stations(cfg: Path, data: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = _table(data / STATIONS, cfg.parent / "stations.csv", edit)
    _edit(cfg, r'^path = ".*stations_hdf.*"', f'path = "{path.as_posix()}"')


def _reproject(frame: pd.DataFrame, crs: int) -> pd.DataFrame:
    """The sites' x_l93/y_l93 written in another CRS (the columns keep their names)."""
    import pyproj

    t = pyproj.Transformer.from_crs(2154, crs, always_xy=True)
    x, y = t.transform(
        frame["x_l93"].astype(float).to_numpy(), frame["y_l93"].astype(float).to_numpy()
    )
    return frame.assign(x_l93=[f"{v:.1f}" for v in x], y_l93=[f"{v:.1f}" for v in y])


def _swap(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return frame.rename(columns={a: b, b: a})


def _at(frame: pd.DataFrame, column: str, row: int, value: str) -> pd.DataFrame:
    return frame.assign(**{column: frame[column].where(frame.index != row, value)})


def _read(cfg: Path, key: str, **run_keywords: Any) -> tuple[Any, list[str]]:
    """Input `key` read as the run reads it, and the trajectoire warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_input(key, getattr(load_config(cfg).inputs, key), **run_keywords)
    return out, [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]


@dataclass
class Case:
    """One mistake: how to make it (config, data folder) and what the line must say."""

    name: str
    make: Callable[[Path, Path], None]
    expect: tuple[str, ...]
    absent: tuple[str, ...] = ()


CASES = [
    # ---------------------------------------------------------------- IREP register
    Case(
        "irep: longitude and latitude columns swapped (no x/y)",
        lambda c, d: _sites(
            c,
            d,
            lambda f: _swap(f.drop(columns=["x_l93", "y_l93"]), "lat_geocoded", "lon_geocoded"),
        ),
        (
            "sites.csv",
            "[inputs] point_sources",
            "28100030 (50.0557, 3.12413",
            "lon_geocoded, lat_geocoded",
            "look swapped",
            'missing_position = "skip"',
        ),
    ),
    Case(
        "irep: x_l93 and y_l93 swapped",
        lambda c, d: _sites(c, d, lambda f: _swap(f, "x_l93", "y_l93")),
        ("sites.csv", "x_l93, y_l93 in EPSG:2154", "look swapped", "[inputs] point_sources"),
    ),
    Case(
        "irep: x/y in Lambert II étendu under the names x_l93/y_l93",
        lambda c, d: _sites(c, d, lambda f: _reproject(f, 27572)),
        ("sites.csv", "outside the area of use of EPSG:2154", "[inputs.point_sources] crs"),
    ),
    Case(
        "irep: x/y in Web Mercator under the names x_l93/y_l93 (inside France's box)",
        lambda c, d: _sites(c, d, lambda f: _reproject(f, 3857)),
        (
            "sites.csv",
            "x_l93, y_l93 and lon_geocoded, lat_geocoded are",
            "km apart",
            "[inputs] point_sources",
        ),
    ),
    Case(
        "irep: latitude column renamed, no x/y",
        lambda c, d: _sites(
            c,
            d,
            lambda f: f.drop(columns=["x_l93", "y_l93"]).rename(
                columns={"lat_geocoded": "latitude"}
            ),
        ),
        (
            "sites.csv",
            "'lon_geocoded' (lon) but no lat column",
            "'lat_geocoded'",
            '[inputs.point_sources] columns.lat = "<your column>"',
        ),
    ),
    Case(
        "irep: crs option that pyproj does not know",
        lambda c, d: _edit(c, r"^(default_sector = .*)", r'\1\ncrs = "Lambert93"'),
        ("[inputs.point_sources] crs = 'Lambert93'", "'x_l93', 'y_l93'", "EPSG:2154"),
        ("code_epsg",),
    ),
    # ---------------------------------------------------------------- communes + INSEE
    Case(
        "communes: a negative population",
        lambda c, d: _population(c, d, lambda f: _at(f, "pmun_2021", 10, "-459")),
        (
            "population.csv",
            "-459 for 59011 in 2021",
            "column 'pmun_2021'",
            "line 12",
            "[inputs] zones",
        ),
    ),
    Case(
        "communes: a census column in thousands",
        lambda c, d: _population(
            c, d, lambda f: f.assign(pmun_2021=(f["pmun_2021"].astype(float) / 1000).astype(str))
        ),
        (
            "population.csv",
            "column 'pmun_2021'",
            "below one inhabitant",
            "0.459 for 59001",
            "thousands",
            "[inputs] zones",
        ),
    ),
    Case(
        "communes: a census column left empty, missing = 'raise'",
        lambda c, d: (
            _population(c, d, lambda f: f.assign(pmun_2021="")),
            _edit(c, r"^(table = .*)", r'\1\nmissing = "raise"'),
        ),
        (
            "census year(s) 2021",
            "column 'pmun_2021'",
            "population.csv",
            "empty",
            '[inputs.zones] missing = "warn"',
        ),
    ),
    Case(
        "communes: a layer the GeoPackage does not hold",
        lambda c, d: _edit(c, r'^layer = "communes_cog2026"', 'layer = "communes"'),
        (
            "communes_59_60_62.gpkg",
            "no layer 'communes'",
            "communes_cog2026",
            'set [inputs.zones] layer = "communes_cog2026"',
        ),
        ("pass layer=",),
    ),
    # ---------------------------------------------------------------- territories
    Case(
        "territories: an empty layer",
        lambda c, d: _territories(c, d, lambda g: g.iloc[0:0]),
        ("territories.gpkg", "layer 'territoires'", "holds no territory", "[inputs.territories]"),
    ),
    Case(
        "territories: degrees in a file that says EPSG:2154",
        lambda c, d: _territories(
            c, d, lambda g: g.to_crs(4326).set_crs(2154, allow_override=True)
        ),
        (
            "territories.gpkg",
            "ACSO (box centre 2.43",
            "outside the area of use",
            "EPSG:2154",
            "degrees",
            "EPSG:4326",
            "[inputs] territories",
        ),
    ),
    Case(
        "territories: Lambert II étendu in a file that says EPSG:2154",
        lambda c, d: _territories(
            c, d, lambda g: g.to_crs(27572).set_crs(2154, allow_override=True)
        ),
        ("territories.gpkg", "outside the area of use", "another CRS", "[inputs] territories"),
    ),
    Case(
        "territories: the SIREN number mapped as the population",
        lambda c, d: _edit(c, r'population = "pmun_2023"', 'population = "epci_siren"'),
        (
            "territoires_aqah.gpkg",
            "column 'epci_siren' (population)",
            "ACSO 200068047",
            "inhabitants per km²",
            "[inputs.territories]",
        ),
    ),
    Case(
        "territories: a columns key that is not a column trajectoire knows",
        lambda c, d: _edit(c, r'name = "epci_nom"', 'nom = "epci_nom"'),
        (
            "territoires_aqah.gpkg",
            "nom = 'epci_nom'",
            "'nom' is not a column",
            "territory, name, population",
            "[inputs.territories] columns.nom",
        ),
    ),
    Case(
        "territories: a territory id given twice",
        lambda c, d: _territories(c, d, lambda g: _at(g, "territoire", 6, str(g["territoire"][5]))),
        (
            "territories.gpkg",
            "column 'territoire' (territory)",
            "'DOUAISIS' at rows 5, 6",
            "[inputs.territories]",
        ),
    ),
    Case(
        "territories: an empty territory id",
        lambda c, d: _territories(
            c, d, lambda g: g.assign(territoire=g["territoire"].where(g.index != 2, None))
        ),
        (
            "territories.gpkg",
            "column 'territoire' (territory)",
            "empty id at row(s) 2",
            "[inputs] territories",
        ),
    ),
    Case(
        "territories: a negative population",
        lambda c, d: _territories(
            c, d, lambda g: g.assign(pmun_2023=g["pmun_2023"].where(g.index != 2, -5))
        ),
        (
            "territories.gpkg",
            "column 'pmun_2023' (population)",
            "CCHF (-5)",
            "[inputs.territories]",
        ),
    ),
    Case(
        "territories: the EPCI composition CSV given as the polygons",
        lambda c, d: _edit(
            c,
            r'^path = ".*territoires_aqah.gpkg"',
            f'path = "{(d / "territories/epci_composition_2026.csv").as_posix()}"',
        ),
        (
            "epci_composition_2026.csv",
            "is a table without geometry (.csv file), not a polygon file",
            "[inputs.territories]",
        ),
    ),
    # ---------------------------------------------------------------- stations
    Case(
        "stations: lon and lat columns swapped",
        lambda c, d: _stations(c, d, lambda f: _swap(f, "lon", "lat")),
        (
            "stations.csv",
            "columns 'lon'/'lat'",
            "FR18042 (49.8513, 3.284)",
            "look swapped",
            "[inputs.stations] columns",
        ),
    ),
    Case(
        "stations: a latitude out of range",
        lambda c, d: _stations(c, d, lambda f: _at(f, "lat", 4, "150.6")),
        (
            "stations.csv",
            "FR06003 (3.06586, 150.6)",
            "out of range",
            "latitude within -90 to 90",
            "[inputs] stations",
        ),
        ("look like metres",),
    ),
    Case(
        "stations: the longitude column missing",
        lambda c, d: _stations(c, d, lambda f: f.drop(columns="lon")),
        ("stations.csv", "missing column(s) ['lon']", 'columns = { lon = "<column>" }'),
    ),
    Case(
        "stations: lon/lat columns mapped as x/y without a crs",
        lambda c, d: _edit(
            c,
            r'^columns = \{ station_id = "code_station".*',
            'columns = { station_id = "code_station", name = "nom_station", x = "lon", y = "lat" }',
        ),
        (
            "stations_hdf_lcsqa2021_rtelga.csv",
            "columns.x = 'lon', columns.y = 'lat'",
            'columns.lon = "lon"',
            'crs = "EPSG:4326"',
            "[inputs] stations",
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_real_input_mistake_gives_one_clear_line(
    case: Case, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    case.make(cfg, shared_data)
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2021:2021"]) == 2
    line = _error_line(capsys)
    for fragment in case.expect:
        assert fragment in line, f"{fragment!r} not in: {line}"
    for fragment in case.absent:
        assert fragment not in line, f"{fragment!r} in: {line}"
    assert not out.exists()


# ------------------------------------------------------------------ said, not an error
def test_emissions_in_kg_written_as_t_are_warned(shared_data: Path, tmp_path: Path) -> None:
    """Figures a thousand times too large (kg under 't yr-1') are one warning naming the
    file, the site, the pollutant, the figure, its line and the unit column."""
    cfg = _config(tmp_path / "in", shared_data)
    _emissions(cfg, lambda f: f.assign(value=(f["value"].astype(float) * 1000).astype(str)))
    sources, said = _read(cfg, "point_sources")
    assert float(sources.set_index("source_id").loc["7000956", "NOx"]) == 4.0e6  # as written
    big = [m for m in said if "kg written as t" in m]
    assert len(big) == 1 and "\n" not in big[0], said
    for part in (
        "emissions.csv",
        "column 'value'",
        "site 7000956 NOx 4e+06 t yr-1",
        "unit 't yr-1', line 2",
        "[inputs] point_sources",
        "'kg yr-1'",
    ):
        assert part in big[0], (part, big[0])


def test_the_real_emissions_are_not_warned(shared_data: Path, tmp_path: Path) -> None:
    _, said = _read(_config(tmp_path / "in", shared_data), "point_sources")
    assert not [m for m in said if "kg written as t" in m]


def test_positions_that_cannot_be_right_skipped_with_a_warning(
    shared_data: Path, tmp_path: Path
) -> None:
    """missing_position = "skip" leaves the swapped sites out, with one warning."""
    cfg = _config(tmp_path / "in", shared_data)
    _sites(
        cfg,
        shared_data,
        lambda f: _at(_at(f, "x_l93", 0, f["y_l93"][0]), "y_l93", 0, f["x_l93"][0]),
    )
    _edit(
        cfg,
        r"^(default_sector = .*)",
        r'\1\nmissing_position = "skip"\nsites_without_emissions = "keep"',
    )
    _edit(cfg, r'^sites_without_emissions = "drop"\n', "")
    sources, said = _read(cfg, "point_sources")
    assert "28100030" not in set(sources["source_id"]) and len(sources) == 808
    left = [m for m in said if "cannot be right left out" in m]
    assert len(left) == 1 and "28100030" in left[0] and "look swapped" in left[0], said


def test_an_empty_census_column_is_warned_and_left_out(shared_data: Path, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    _population(cfg, shared_data, lambda f: f.assign(pmun_2021=""))
    zones, said = _read(cfg, "zones")
    assert "pop_2021" not in zones.columns and "pop_2022" in zones.columns
    empty = [m for m in said if "the column is empty" in m]
    assert len(empty) == 1 and "column 'pmun_2021'" in empty[0] and "left out" in empty[0]
    assert '[inputs.zones] missing = "raise"' in empty[0]


def test_station_headers_in_capitals_are_read(shared_data: Path, tmp_path: Path) -> None:
    """CODE_STATION, LON, LAT for code_station, lon, lat: the same stations and positions."""
    cfg = _config(tmp_path / "in", shared_data)
    plain, _ = _read(cfg, "stations", to_crs="EPSG:2154")
    _stations(cfg, shared_data, lambda f: f.rename(columns=str.upper))
    upper, _ = _read(cfg, "stations", to_crs="EPSG:2154")
    assert upper["station_id"].tolist() == plain["station_id"].tolist()
    assert upper[["x", "y"]].to_numpy().tolist() == plain[["x", "y"]].to_numpy().tolist()
    assert upper["name"].tolist() == plain["name"].tolist()


def test_the_real_inputs_read_as_before(shared_data: Path, tmp_path: Path) -> None:
    """The new checks leave the real files alone: no error, the same counts."""
    cfg = _config(tmp_path / "in", shared_data)
    for key, n in (("territories", 7), ("zones", 2214), ("point_sources", 10), ("stations", 44)):
        try:
            out, _ = _read(cfg, key, **({"to_crs": "EPSG:2154"} if key == "stations" else {}))
        except TrajectoireError as exc:  # pragma: no cover - the failure says why
            pytest.fail(f"{key}: {exc}")
        assert len(out) == n, key
