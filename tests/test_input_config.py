"""Everything a reader's keyword can say about an input, the configuration can say (issue 12).

``[inputs.<key>]`` tables (path, format, layer, columns, unit, crs, CSV dialect, the
reader's own keywords), checked when the configuration is loaded; ``[proxies]`` with
fallbacks; ``[trajectory.methods]`` per (sector, pollutant); ``[run] pollutants`` selecting
among the inputs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from fake_pipeline import write_config
from trajectoire import Grid
from trajectoire.errors import ConfigError
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.proxies import choose_proxies
from trajectoire.io.config import load_config
from trajectoire.io.formats import FORMATS, read_input
from trajectoire.trajectory.trends import Method


def _config(tmp_path: Path, extra: str) -> Path:
    return write_config(tmp_path, extra=extra)


def _stations_csv(path: Path, sep: str = ",", id_column: str = "code") -> Path:
    path.write_text(
        f"{id_column}{sep}x{sep}y\nFR001{sep}700100{sep}7000100\nFR002{sep}700300{sep}7000200\n",
        encoding="utf-8",
    )
    return path


# ------------------------------------------------------------------------ input tables
def test_a_table_input_reads_with_its_columns_and_dialect(tmp_path: Path) -> None:
    _stations_csv(tmp_path / "st.csv", sep=";")
    cfg = load_config(
        _config(
            tmp_path,
            '[inputs.stations]\npath = "st.csv"\ndelimiter = ";"\n'
            'columns = { station_id = "code" }\n',
        )
    )
    spec = cfg.inputs.stations
    assert spec is not None and spec.path == (tmp_path / "st.csv").resolve()
    df = read_input("stations", spec, to_crs="EPSG:2154")
    assert df["station_id"].tolist() == ["FR001", "FR002"]
    assert df["x"].tolist() == [700100.0, 700300.0]


def test_a_plain_path_is_still_an_input(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, ""))
    assert cfg.inputs.territories.path == (tmp_path / "territories.gpkg").resolve()
    assert cfg.inputs.territories.format == "trajectoire"


def test_a_column_the_file_lacks_names_the_key_and_the_columns(tmp_path: Path) -> None:
    _stations_csv(tmp_path / "st.csv", id_column="id")
    cfg = load_config(
        _config(tmp_path, '[inputs.stations]\npath = "st.csv"\ncolumns = { station_id = "code" }\n')
    )
    assert cfg.inputs.stations is not None
    with pytest.raises(Exception) as info:
        read_input("stations", cfg.inputs.stations, to_crs="EPSG:2154")
    msg = str(info.value)
    assert "st.csv" in msg and "station_id" in msg and "'code'" in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("block", "fragments"),
    [
        (
            '[inputs.stations]\npath = "st.csv"\nformat = "irepp"\n',
            ["[inputs.stations] format", "'irepp'", "'trajectoire'"],
        ),
        (
            '[inputs.point_sources]\npath = "st.csv"\nformat = "irep"\nemissionz = "st.csv"\n',
            ["[inputs.point_sources] emissionz", "did you mean 'emissions'", "irep"],
        ),
        (
            '[inputs.stations]\npath = "st.csv"\nunit = "ug m-3"\n',
            ["[inputs.stations] unit", "does not take"],
        ),
        (
            '[inputs.point_sources]\npath = "st.csv"\nformat = "irep"\nemissions = "nope.csv"\n',
            ["[inputs]", "nope.csv", "file not found"],
        ),
        ('[inputs.stations]\nformat = "trajectoire"\n', ["stations", "'path'"]),
    ],
)
def test_config_mistakes_in_an_input_table(
    tmp_path: Path, block: str, fragments: list[str]
) -> None:
    _stations_csv(tmp_path / "st.csv")
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, block))
    msg = str(info.value)
    for f in fragments:
        assert f in msg, (f, msg)
    assert "config.toml" in msg and "\n" not in msg


def test_option_files_are_resolved_and_enter_the_hash(tmp_path: Path) -> None:
    _stations_csv(tmp_path / "st.csv")
    em = tmp_path / "em.csv"
    em.write_text("site_id,pollutant,value,unit\n1,NOx,1,t yr-1\n", encoding="utf-8")
    block = '[inputs.point_sources]\npath = "st.csv"\nformat = "irep"\nemissions = "em.csv"\n'
    cfg = load_config(_config(tmp_path, block))
    assert cfg.inputs.point_sources is not None
    assert cfg.inputs.point_sources.options["emissions"] == str(em.resolve())
    assert em.resolve() in cfg.inputs.files().values()
    before = cfg.config_hash()
    em.write_text("site_id,pollutant,value,unit\n1,NOx,2,t yr-1\n", encoding="utf-8")
    after = load_config(cfg.source_path).config_hash()
    assert after != before
    other = load_config(_config(tmp_path, block + 'default_sector = "A_PublicPower"\n'))
    assert other.config_hash() != after  # how a file is read enters the hash too


def test_every_format_names_a_reader_whose_keywords_exist() -> None:
    """The registry's routing keywords are real keywords of the readers."""
    import inspect

    for key, formats in FORMATS.items():
        for name, fmt in formats.items():
            params = inspect.signature(fmt.reader).parameters
            for routed in (fmt.unit, fmt.crs, fmt.layer, fmt.columns, *fmt.run_keywords):
                if routed is not None:
                    assert routed in params, (key, name, routed)


# ----------------------------------------------------------------------------- proxies
def test_proxies_fall_back_to_what_the_run_has(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trajectoire.inventory.proxies"):
        chosen = choose_proxies({"F": ["roads", "population"]}, {"population"})
    assert chosen["F_RoadTransport"] == "population"
    assert chosen["B_Industry"] == "population"  # landuse:industrial, built_up need a raster
    assert any("F_RoadTransport" in r.getMessage() for r in caplog.records)
    assert choose_proxies(None, {"landuse", "roads", "population"})["B_Industry"] == (
        "landuse:industrial"
    )
    assert choose_proxies(None, set())["C_OtherStationaryComb"] == "area"


def test_proxies_section_is_checked(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, '[proxies]\nB_Industry = ["built_up", "area"]\n'))
    assert cfg.proxies.wanted() == {"B_Industry": ["built_up", "area"]}
    with pytest.raises(ConfigError, match=r"\[proxies\].*'popluation'"):
        load_config(_config(tmp_path, '[proxies]\nB_Industry = "popluation"\n'))
    with pytest.raises(ConfigError, match="unknown sector"):
        load_config(_config(tmp_path, '[proxies]\nZ_Nothing = "area"\n'))
    with pytest.raises(ConfigError, match="none of"):
        choose_proxies({"F": "roads"}, set())


# ----------------------------------------------------------------------------- methods
def test_methods_per_sector_and_pollutant(tmp_path: Path) -> None:
    block = (
        "[trajectory.methods]\n"
        'B_Industry = { kind = "extrapolation", trend = "multiplicative", max_years = 8 }\n'
        'F_RoadTransport = { NOx = "index", PM10 = { kind = "extrapolation" } }\n'
    )
    cfg = load_config(_config(tmp_path, block))
    methods = cfg.trajectory.methods_for(["B_Industry", "F_RoadTransport"], ["NOx", "PM10"])
    assert methods["B_Industry"] == Method("extrapolation", trend="multiplicative", max_years=8)
    assert methods[("F_RoadTransport", "NOx")] == Method("index")
    assert methods[("F_RoadTransport", "PM10")] == Method("extrapolation")
    assert cfg.trajectory.method_of("F_RoadTransport") == "NOx: index, PM10: extrapolation"
    only_nox = cfg.trajectory.methods_for(["F_RoadTransport"], ["NOx"])
    assert ("F_RoadTransport", "PM10") not in only_nox


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('{ kind = "extrapolation", trend = "cubic" }', "trend 'cubic'"),
        ('{ kind = "index", colour = "red" }', "unknown method key(s) ['colour']"),
        ('{ NOx = "indx" }', "F_RoadTransport.NOx: method 'indx'"),
        ('{ XYZ = "index" }', "XYZ"),
    ],
)
def test_method_mistakes(tmp_path: Path, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, f"[trajectory.methods]\nF_RoadTransport = {value}\n"))
    assert fragment in str(info.value)


# -------------------------------------------------------------------------- pollutants
def test_run_pollutants_select_among_the_inputs(caplog: pytest.LogCaptureFixture) -> None:
    grid = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    zones = pd.DataFrame({"zone_id": ["Z"]})
    import geopandas as gpd

    zones = gpd.GeoDataFrame(
        zones, geometry=[shapely.box(700_000, 7_000_000, 701_000, 7_001_000)], crs="EPSG:2154"
    )
    totals = pd.DataFrame(
        {
            "zone_id": ["Z", "Z"],
            "sector": ["M_Other", "M_Other"],
            "pollutant": ["NOx", "NH3"],
            "emission": [5.0, 7.0],
        }
    )
    kw = dict(reference_year=2020, area_totals=totals, zones=zones, proxies={"M": "area"})
    with pytest.raises(Exception, match="NH3"):
        build_inventory(grid, pollutants=["NOx"], **kw)
    with caplog.at_level(logging.INFO, logger="trajectoire.inventory.build"):
        inv = build_inventory(grid, pollutants=["NOx"], others="drop", **kw)
    assert [str(p) for p in inv["pollutant"].values] == ["NOx"]
    assert float(inv["emission"].sum()) == pytest.approx(5.0)
    assert np.isclose(float(inv["emission"].sel(pollutant="NOx").sum()), 5.0)
    assert any("NH3" in r.getMessage() for r in caplog.records)


def test_an_input_may_be_several_files(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        _stations_csv(tmp_path / name)
    cfg = load_config(_config(tmp_path, '[inputs.meteo]\npath = ["a.csv", "b.csv"]\n'))
    spec = cfg.inputs.meteo
    assert spec is not None and spec.path == (tmp_path / "a.csv").resolve()
    assert spec.paths == [(tmp_path / n).resolve() for n in ("a.csv", "b.csv")]
    assert set(cfg.inputs.files()) == {"territories", "meteo", "meteo.1"}
    with pytest.raises(ConfigError, match="empty list"):
        load_config(_config(tmp_path, "[inputs.meteo]\npath = []\n"))


@pytest.mark.parametrize(
    ("proxy", "fragment"),
    [("landuse", "unknown proxy 'landuse'"), ("landuse:urban,foo", "land-use class 'foo'")],
)
def test_proxy_names_are_checked_to_their_classes(
    tmp_path: Path, proxy: str, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_config(_config(tmp_path, f'[proxies]\nB_Industry = "{proxy}"\n'))


def _territories_gpkg(path: Path) -> Path:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {"territoire": ["MEL"], "pmun": [100]},
        geometry=[shapely.box(700_000, 7_000_000, 701_000, 7_001_000)],
        crs="EPSG:2154",
    )
    gdf.to_file(path, layer="territoires", driver="GPKG")
    return path


def test_a_columns_entry_that_matched_nothing_is_named_before_the_reader_s_complaint(
    tmp_path: Path,
) -> None:
    """The reader would say "no 'territory' column"; the mistake is the entry's typo."""
    _territories_gpkg(tmp_path / "t.gpkg")
    block = '[inputs.territories]\npath = "t.gpkg"\ncolumns = { territory = "territoir" }\n'
    text = _config(tmp_path, "").read_text().replace('territories = "territories.gpkg"\n', "")
    (tmp_path / "config.toml").write_text(text + block)
    cfg = load_config(tmp_path / "config.toml")
    with pytest.raises(ConfigError) as info:
        read_input("territories", cfg.inputs.territories)
    msg = str(info.value)
    assert "columns.territory = 'territoir'" in msg and "'territoire'" in msg


def test_zones_without_a_crs_name_the_key_that_sets_it(tmp_path: Path) -> None:
    """A zones shapefile without its .prj: the message names [inputs.zones] crs (before, a
    Python call, .set_crs('EPSG:2154'), which a run's configuration cannot make); that key
    gives the file its CRS, and one other than a file's own is an error."""
    import geopandas as gpd

    from trajectoire.errors import InputError

    box = shapely.box(700_000, 7_000_000, 701_000, 7_001_000)
    gpd.GeoDataFrame({"zone_id": ["A"]}, geometry=[box], crs=2154).to_file(tmp_path / "z.shp")
    (tmp_path / "z.prj").unlink()
    gpd.GeoDataFrame({"zone_id": ["A"]}, geometry=[box], crs=2154).to_file(tmp_path / "z.gpkg")

    def zones(block: str) -> object:
        (tmp_path / "config.toml").write_text(_config(tmp_path, "").read_text() + block)
        cfg = load_config(tmp_path / "config.toml")
        return read_input("zones", cfg.inputs.zones)

    with pytest.raises(InputError) as info:
        zones('[inputs.zones]\npath = "z.shp"\n')
    line = str(info.value)
    assert "\n" not in line and "set_crs" not in line
    assert "z.shp ([inputs] zones): has no CRS" in line
    assert 'Set [inputs.zones] crs = "EPSG:2154"' in line
    got = zones('[inputs.zones]\npath = "z.shp"\ncrs = "EPSG:2154"\n')
    assert got.crs.to_epsg() == 2154 and got["zone_id"].tolist() == ["A"]
    assert zones('[inputs.zones]\npath = "z.gpkg"\ncrs = "EPSG:2154"\n').crs.to_epsg() == 2154
    with pytest.raises(InputError, match=r"\[inputs.zones\] crs = 'EPSG:4326', but the file has"):
        zones('[inputs.zones]\npath = "z.gpkg"\ncrs = "EPSG:4326"\n')


def test_territory_messages_name_the_configuration_key(tmp_path: Path) -> None:
    _territories_gpkg(tmp_path / "t.gpkg")
    block = '[inputs.territories]\npath = "t.gpkg"\nlayer = "territories"\n'
    text = _config(tmp_path, "").read_text().replace('territories = "territories.gpkg"\n', "")
    (tmp_path / "config.toml").write_text(text + block)
    cfg = load_config(tmp_path / "config.toml")
    with pytest.raises(Exception) as info:
        read_input("territories", cfg.inputs.territories)
    msg = str(info.value)
    assert 'set [inputs.territories] layer = "territoires"' in msg and "layer=" not in msg


def test_an_irep_unit_option_is_checked_even_when_rows_carry_units(tmp_path: Path) -> None:
    from trajectoire.errors import UnitsError
    from trajectoire.inventory.irep import read_irep

    (tmp_path / "sites.csv").write_text(
        "irep_identifiant,nom_etablissement,x_l93,y_l93\n1,A,700100,7000100\n", encoding="utf-8"
    )
    (tmp_path / "em.csv").write_text(
        "site_id,pollutant,value,unit\n1,NOx,5,t yr-1\n", encoding="utf-8"
    )
    with pytest.raises(UnitsError, match="tonnes par siecle"):
        read_irep(tmp_path / "sites.csv", emissions=tmp_path / "em.csv", unit="tonnes par siecle")


def test_named_by_adds_the_configuration_key_once() -> None:
    """A reader's error that names the file only gets the key that names the input; one
    that quotes it already, an error of another family and a block without a key pass as
    they are; the type is kept (a caller catching MissingVariableError still does)."""
    from trajectoire.errors import InputError, MissingVariableError, named_by

    with pytest.raises(MissingVariableError) as caught, named_by("[inputs] meteo"):
        raise MissingVariableError("met.csv: missing column(s) ['time']")
    assert str(caught.value) == (
        "met.csv: missing column(s) ['time'] The input is named by [inputs] meteo."
    )
    with pytest.raises(InputError, match=r"^met.csv \(\[inputs\] meteo\): bad$"):
        with named_by("[inputs] meteo"):
            raise InputError("met.csv ([inputs] meteo): bad")
    with pytest.raises(ValueError, match=r"^plain$"), named_by("[inputs] meteo"):
        raise ValueError("plain")
    with pytest.raises(InputError, match=r"^no key$"), named_by(None):
        raise InputError("no key")

    class Built(InputError):  # an error built from other arguments passes as it is
        def __init__(self, file: str, line: int) -> None:
            super().__init__(f"{file}: line {line}")

    with pytest.raises(Built, match=r"^a.csv: line 3$"), named_by("[inputs] stations"):
        raise Built("a.csv", 3)


def test_the_formats_table_of_the_docs_is_the_registry_s() -> None:
    """docs/input-formats.md says its Formats table *is* ``describe()``'s output: it must not
    fall behind the registry (it missed ``repair`` on the vector inputs)."""
    from trajectoire.io.formats import describe

    doc = (Path(__file__).resolve().parents[1] / "docs" / "input-formats.md").read_text()
    start = doc.index("| input | format | reader | keys |")
    table = []
    for line in doc[start:].splitlines():
        if not line.startswith("|"):
            break
        table.append(line)
    assert "\n".join(table) == describe().strip()


@pytest.mark.parametrize(
    ("fmt", "option", "value", "expected"),
    [
        (("point_sources", "irep"), "year", "2021", "a whole number (e.g. year = 2021)"),
        (
            ("meteo", "trajectoire"),
            "anemometer_height",
            [10],
            "a number (e.g. anemometer_height = 10.0)",
        ),
    ],
)
def test_an_option_of_the_wrong_kind_is_shown_in_its_own_form(fmt, option, value, expected) -> None:
    """The example of the expected form fits the option: a year is a whole number written
    as a year (``year = 2021``, not ``year = 10.0``), a height a number."""
    from trajectoire.io.formats import _option_form

    said = _option_form(FORMATS[fmt[0]][fmt[1]], option, value)
    assert said is not None and said.startswith(f"expected {expected}")
