"""Follow-ups of the ordinary-mistakes sweep: what was accepted without a word before.

A companion of ``test_bad_inputs.py``, ``test_mistakes_real_inputs.py`` and
``test_mistakes_trends_meteo.py`` (whose helpers it borrows): a species file with a
deposition velocity in cm s-1 or a half-life in hours written as seconds; a
``columns.population`` on a wide census table; station columns mapped as x/y the wrong way
round; the distance between a meteorological station and the site; IREP emissions without a
year; a meteorology file that ends in the middle of a year the run computes. Each test
checks the one line (error or warning) that names the file, the row or id, the field, the
value, what was expected and the key that fixes it. The cases on the region's real files
skip where ``../shared/data`` is absent.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from test_bad_inputs import _error_line, _meteo, _mini
from test_mistakes_real_inputs import _config, _edit, _read
from trajectoire.assess.stations import read_stations
from trajectoire.cli import main
from trajectoire.errors import ConfigError, InputError, TrajectoireWarning
from trajectoire.inventory.communes import read_commune_population
from trajectoire.inventory.irep import read_irep
from trajectoire.meteo import sources
from trajectoire.meteo.classes import select_years
from trajectoire.species import builtin_species, load_species


def _said(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]


def _recorded(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """``call(*args, **kwargs)`` and the trajectoire warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(*args, **kwargs)
    return out, _said(caught)


# ------------------------------------------------------------------ 1. species values
def _species_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "my_species.toml"
    path.write_text(body)
    return path


PFOS = '[species.PFOS]\nname = "perfluorooctanesulfonic acid"\nunit_family = "mass"\n'


def test_deposition_velocity_in_cm_per_s_is_warned(tmp_path: Path) -> None:
    """0.5 m s-1 is ten times the fastest dry deposition of a gas or a fine particle: a
    velocity in cm s-1 (0.5 cm s-1 = 0.005 m s-1). It was taken as it is."""
    path = _species_file(tmp_path, PFOS + "molar_mass = 500.13\ndeposition_velocity = 0.5\n")
    reg, said = _recorded(load_species, path)
    assert reg["PFOS"].deposition_velocity == 0.5  # read as written, said once
    assert len(said) == 1 and "\n" not in said[0], said
    for part in (
        "my_species.toml",
        "[species.PFOS]",
        "line 5",
        "deposition_velocity = 0.5 m s-1",
        "0.0001 to 0.05 m s-1",
        "Seinfeld and Pandis",
        "cm s-1",
        "deposition_velocity = 0.005",
        "[species] file",
    ):
        assert part in said[0], (part, said[0])


def test_half_life_in_hours_written_as_seconds_is_warned(tmp_path: Path) -> None:
    """3 s: the species would vanish within metres of its source; 3 h (10 800 s), the
    registry's UFP, or 3 days were meant."""
    path = _species_file(tmp_path, "[species.UFP]\nhalf_life = 3\n")
    reg, said = _recorded(load_species, path)
    assert reg["UFP"].half_life == 3.0
    assert len(said) == 1 and "\n" not in said[0], said
    for part in (
        "my_species.toml",
        "[species.UFP]",
        "line 2",
        "half_life = 3 s",
        "600 s",
        "10800",
        "259200",
        "[species] file",
    ):
        assert part in said[0], (part, said[0])


def test_a_quoted_species_id_is_named_with_its_line(tmp_path: Path) -> None:
    path = _species_file(
        tmp_path, '# PM2.5 near roads\n[species."PM2.5"]\ndeposition_velocity = 0.3\n'
    )
    _, said = _recorded(load_species, path)
    assert len(said) == 1 and '[species."PM2.5"] (line 3): deposition_velocity = 0.3' in said[0]


def test_molar_mass_in_kg_per_mol_is_an_error(tmp_path: Path) -> None:
    """0.5 g mol-1 is lighter than a hydrogen atom: kg mol-1 (0.50013 kg mol-1 = 500.13
    g mol-1). It converted mixing ratios of a background a thousand times too small."""
    path = _species_file(tmp_path, PFOS + "molar_mass = 0.50013\n")
    with pytest.raises(InputError) as err:
        load_species(path)
    msg = str(err.value)
    for part in ("my_species.toml", "species 'PFOS'", "molar_mass = 0.50013", "1.008", "500.13"):
        assert part in msg, (part, msg)
    assert "kg mol-1" in msg


def test_plausible_species_values_and_the_builtin_registry_are_quiet(tmp_path: Path) -> None:
    body = PFOS + "molar_mass = 500.13\ndeposition_velocity = 0.001\nhalf_life = 3600.0\n"
    path = _species_file(tmp_path, body + "[species.NH3]\ndeposition_velocity = 0.03\n")
    _, said = _recorded(load_species, path)
    assert said == []
    builtin_species.cache_clear()
    try:
        _, said = _recorded(builtin_species)
    finally:
        builtin_species.cache_clear()
    assert said == []


# ------------------------------------------------------------------ 2. wide census table
WIDE = pd.DataFrame(
    {
        "insee": ["59350", "01001"],
        "pmun_2016": [232_787.0, 779.0],
        "pmun_2021": [236_710.0, 820.0],
        "pmun_2023": [238_246.0, 832.0],
    }
)


def _communes() -> Any:
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {"insee": ["59350", "01001"]},
        crs="EPSG:2154",
        # in Lambert-93's area of use (shapes at its origin are refused: degrees mislabelled)
        geometry=[
            shapely.box(700_000, 7_000_000, 701_000, 7_001_000),
            shapely.box(701_000, 7_000_000, 702_000, 7_001_000),
        ],
    )


@pytest.mark.parametrize("layout", [None, "wide"])
def test_population_column_of_a_wide_table_is_the_census_read(layout: str | None) -> None:
    """``columns.population = "pmun_2021"`` on a wide table was ignored: every census
    column was read. The column named is the census read (the year from its name)."""
    zones = read_commune_population(
        _communes(),
        table=WIDE,
        columns={"population": "pmun_2021"},
        layout=layout,
        config_key="[inputs] zones",
    )
    assert zones.attrs["census_years"] == [2021]
    assert zones["pop_2021"].tolist() == [236_710.0, 820.0]


@pytest.mark.parametrize(
    ("layout", "population"), [(None, "pmun"), ("wide", "pmun"), ("wide", "population")]
)
def test_population_column_that_a_wide_table_lacks(layout: str | None, population: str) -> None:
    """A prefix, or a long table's name, given as ``columns.population`` of a wide table:
    before, ``layout = "wide"`` ignored it and the default said only "no column"."""
    with pytest.raises(InputError) as err:
        read_commune_population(
            _communes(),
            table=WIDE,
            columns={"population": population},
            layout=layout,
            config_key="[inputs] zones",
        )
    msg = str(err.value)
    assert "\n" not in msg
    for part in (
        f"columns.population = {population!r}",
        "wide",
        "'pmun_2016'",
        'prefix = "pmun_"',
        'columns.population = "pmun_2023"',
        "[inputs.zones]",
    ):
        assert part in msg, (part, msg)


def test_population_column_without_a_year_on_a_wide_table() -> None:
    """A column that exists but whose name holds no year cannot be a census of a wide
    table (before: ignored, every ``pmun_<year>`` read)."""
    table = WIDE.assign(dep=["59", "01"])
    with pytest.raises(InputError) as err:
        read_commune_population(
            _communes(), table=table, columns={"population": "dep"}, config_key="[inputs] zones"
        )
    msg = str(err.value)
    for part in ("columns.population = 'dep'", "no census year", "columns.year", "[inputs.zones]"):
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    ("layout", "population"), [(None, None), (None, "pmun_2021"), ("wide", None)]
)
def test_year_column_that_a_wide_table_lacks(layout: str | None, population: str | None) -> None:
    """``columns.year`` given for a wide table (one column per census, the year in each
    name): before, only "no column 'annee' (columns.year)", or nothing with ``layout =
    "wide"`` (the key was ignored)."""
    columns = {"year": "annee", **({"population": population} if population else {})}
    with pytest.raises(InputError) as err:
        read_commune_population(
            _communes(), table=WIDE, columns=columns, layout=layout, config_key="[inputs] zones"
        )
    msg = str(err.value)
    assert "\n" not in msg
    for part in (
        "columns.year = 'annee'",
        "wide",
        "'pmun_2016'",
        "columns.year is for a long table",
        'prefix = "pmun_"',
        'columns.population = "pmun_2023"',
        "[inputs.zones]",
    ):
        assert part in msg, (part, msg)


def test_year_column_that_a_long_table_lacks_keeps_its_message() -> None:
    long = pd.DataFrame({"insee": ["59350", "01001"], "year": [2021, 2021], "pop": [1.0e5, 800.0]})
    with pytest.raises(InputError, match=r"no column 'annee' \(columns.year\)"):
        read_commune_population(
            _communes(), table=long, columns={"year": "annee"}, config_key="[inputs] zones"
        )


@pytest.mark.requires_shared
@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_population_column_on_the_real_wide_table(shared_data: Path, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    _edit(cfg, r"^(table = .*wide.csv\")", r'\1\ncolumns = { population = "pmun_2021" }')
    zones, _ = _read(cfg, "zones")
    assert zones.attrs["census_years"] == [2021] and len(zones) == 2214


@pytest.mark.requires_shared
@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_population_prefix_on_the_real_wide_table_is_one_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    _edit(cfg, r"^(table = .*wide.csv\")", r'\1\ncolumns = { population = "pmun" }')
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2021:2021"]) == 2
    line = _error_line(capsys)
    for part in (
        "population_communes_59_60_62_cog2026_wide.csv",
        "columns.population = 'pmun'",
        'prefix = "pmun_"',
        "[inputs.zones]",
    ):
        assert part in line, (part, line)


# ------------------------------------------------------------------ 3. stations x/y
@pytest.mark.parametrize(("x", "y"), [("lat", "lon"), ("latitude", "longitude")])
def test_degrees_mapped_as_x_y_the_wrong_way_round(x: str, y: str) -> None:
    """x = the latitude column, y = the longitude one: the message used to suggest
    ``columns.lon = "lat"``, which the swapped-columns check then refused."""
    text = f"station_id,{x},{y}\nFR11025,50.6289,3.0898\nFR18042,49.8513,3.284\n"
    with pytest.raises(ConfigError) as err:
        read_stations(
            io.StringIO(text),
            what="stations.csv",
            columns={"x": x, "y": y},
            config_key="[inputs] stations",
        )
    msg = str(err.value)
    assert f'columns.lon = "{y}", columns.lat = "{x}"' in msg, msg
    assert f'columns.lon = "{x}"' not in msg, msg
    assert "latitudes" in msg and "[inputs.stations]" in msg


def test_degree_columns_of_neutral_names_mapped_the_wrong_way_round() -> None:
    """Column names that say the opposite of their values (a header written the wrong way
    round): the values decide, 50.6 is a latitude of the grid's area and 3.1 a longitude."""
    text = "station_id,lon_wgs84,lat_wgs84\nFR11025,50.6289,3.0898\nFR18042,49.8513,3.284\n"
    with pytest.raises(ConfigError) as err:
        read_stations(
            io.StringIO(text),
            what="stations.csv",
            columns={"x": "lon_wgs84", "y": "lat_wgs84"},
            config_key="[inputs] stations",
        )
    msg = str(err.value)
    assert 'columns.lon = "lat_wgs84", columns.lat = "lon_wgs84"' in msg, msg


def test_degrees_mapped_as_x_y_in_the_right_order_keep_their_order() -> None:
    text = "station_id,lon,lat\nFR11025,3.0898,50.6289\n"
    with pytest.raises(ConfigError) as err:
        read_stations(
            io.StringIO(text), columns={"x": "lon", "y": "lat"}, config_key="[inputs] stations"
        )
    msg = str(err.value)
    assert 'columns.lon = "lon", columns.lat = "lat"' in msg and 'crs = "EPSG:4326"' in msg


@pytest.mark.requires_shared
@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_real_stations_mapped_as_x_lat_y_lon(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    _edit(
        cfg,
        r'^columns = \{ station_id = "code_station".*',
        'columns = { station_id = "code_station", name = "nom_station", x = "lat", y = "lon" }',
    )
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2021:2021"]) == 2
    line = _error_line(capsys)
    assert 'columns.lon = "lon", columns.lat = "lat"' in line, line
    assert 'columns.lon = "lat"' not in line, line
    # the suggestion is right: applied, the stations read
    _edit(
        cfg,
        r'^columns = \{ station_id = "code_station".*',
        'columns = { station_id = "code_station", name = "nom_station", lon = "lon", lat = "lat" }',
    )
    stations, _ = _read(cfg, "stations", to_crs="EPSG:2154")
    assert len(stations) == 44


# ------------------------------------------------------------------ 4. station distance
WGS84_A = 6_378_137.0  # [m], semi-major axis
WGS84_QUADRANT = 10_001_965.729  # [m], equator to pole along a meridian (WGS84)


@pytest.mark.parametrize("dlon", [0.5, 1.0, 3.0])
def test_distance_along_the_equator_is_the_arc_of_the_semi_major_axis(dlon: float) -> None:
    """On the equator the geodesic is the equator: a * dlon [rad] (closed form). The
    haversine on a 6371 km sphere was 0.11 % short."""
    km = sources._distance_km(0.0, 10.0, 0.0, 10.0 + dlon)
    assert km == pytest.approx(WGS84_A * math.radians(dlon) / 1000.0, abs=1e-6)


def test_distance_from_the_equator_to_the_pole_is_the_meridian_quadrant() -> None:
    """The WGS84 meridian quadrant, 10 001 965.729 m (the haversine gave 10 007.5 km)."""
    assert sources._distance_km(0.0, 3.0, 90.0, 3.0) == pytest.approx(
        WGS84_QUADRANT / 1000.0, abs=1e-3
    )


def test_distance_between_lille_and_dunkerque() -> None:
    """Lille-Lesquin (50.57 N, 3.10 E) to Dunkerque (51.05 N, 2.34 E): about 76 km, the
    same to a metre in both argument orders, and zero from a point to itself."""
    km = sources._distance_km(50.57, 3.10, 51.05, 2.34)
    assert 70.0 < km < 80.0
    assert sources._distance_km(51.05, 2.34, 50.57, 3.10) == pytest.approx(km, abs=1e-6)
    assert sources._distance_km(50.57, 3.10, 50.57, 3.10) == 0.0


# ------------------------------------------------------------------ 5. IREP year
SITES = pd.DataFrame(
    {
        "irep_identifiant": ["7000956", "28100030"],
        "nom_etablissement": ["ARCELORMITTAL", "USINE"],
        "x_l93": [643000.0, 704000.0],
        "y_l93": [7105000.0, 7060000.0],
    }
)
TIDY = pd.DataFrame(
    {
        "site_id": ["7000956", "28100030"],
        "pollutant": ["NOx", "NOx"],
        "value": [4000.0, 12.0],
        "unit": ["t yr-1", "t yr-1"],
    }
)
KEY = "[inputs] point_sources"


def _irep(emissions: pd.DataFrame, **kw: Any) -> tuple[pd.DataFrame, list[str]]:
    return _recorded(read_irep, SITES, emissions=emissions, config_key=KEY, **kw)


def test_tidy_emissions_without_a_year_are_the_reference_year_said_once() -> None:
    """No year column and no ``year``: the run takes the rows as its reference year (the
    one the inventory stands for); before, nothing said which year they were."""
    out, said = _irep(TIDY, reference_year=2021)
    assert out["NOx"].tolist() == [4000.0, 12.0]
    assert out.attrs["irep"]["year"] == 2021
    assert len(said) == 1 and "\n" not in said[0], said
    for part in (
        "IREP emissions",
        "no year column",
        "[run] reference_year = 2021",
        "set [inputs.point_sources] year = 2021",
    ):
        assert part in said[0], (part, said[0])


def test_tidy_emissions_with_their_year_stated_are_quiet() -> None:
    _, said = _irep(TIDY, reference_year=2021, year=2021)
    assert said == []
    _, said = _irep(TIDY.assign(year=2021), reference_year=2021)
    assert said == []


@pytest.mark.parametrize("how", ["column", "option"])
def test_emissions_of_another_year_than_the_reference_are_warned(how: str) -> None:
    """2019 figures for a run whose reference inventory is 2021 were used as 2021's."""
    kw: dict[str, Any] = {"year": 2019} if how == "option" else {}
    table = TIDY.assign(year=2019) if how == "column" else TIDY
    out, said = _irep(table, reference_year=2021, **kw)
    assert out["NOx"].tolist() == [4000.0, 12.0]
    assert len(said) == 1 and "\n" not in said[0], said
    for part in ("2019", "[run] reference_year = 2021", "[inputs.point_sources]"):
        assert part in said[0], (part, said[0])


def test_tidy_emissions_without_a_year_outside_a_run_are_taken_as_they_are() -> None:
    out, said = _irep(TIDY)
    assert said == [] and out.attrs["irep"].get("year") is None


@pytest.mark.requires_shared
def test_the_run_passes_its_reference_year_to_the_irep_reader(
    shared_data: Path, tmp_path: Path
) -> None:
    """The example's illustrative table has no year column: the example states it
    (``year = 2021``); without it the run says which year it takes."""
    cfg = _config(tmp_path / "in", shared_data)
    _edit(cfg, r"^year = 2021 .*\n", "")
    out = tmp_path / "out.nc"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2021:2021"]) == 0
    year = [m for m in _said(caught) if "no year column" in m]
    assert len(year) == 1 and "[run] reference_year = 2021" in year[0], _said(caught)


ANCHOR = "[[inputs.anchors]] #1 (year 2005)"


def test_an_anchors_emissions_of_another_year_are_warned() -> None:
    """An anchor's IREP emissions are checked against the anchor's year, as the reference's
    against ``[run] reference_year`` (before: no check, 2021 figures used as 2005's)."""
    kw = {"reference_year": 2005, "reference_of": ANCHOR}
    out, said = _irep(TIDY.assign(year=2021), **kw)
    assert out["NOx"].tolist() == [4000.0, 12.0]
    assert len(said) == 1 and "\n" not in said[0], said
    for part in (
        "of 2021",
        ANCHOR,
        "the inventory of 2005",
        "year = 2005",
        "anchor of 2021",
        "[inputs.point_sources]",
    ):
        assert part in said[0], (part, said[0])
    assert "[run] reference_year" not in said[0]
    _, said = _irep(TIDY, **kw)  # no year: taken as the anchor's, said so
    assert len(said) == 1 and f"2005, the year of {ANCHOR}" in said[0], said
    _, said = _irep(TIDY.assign(year=2005), **kw)
    assert said == []


@pytest.mark.requires_shared
@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_the_run_checks_an_anchors_irep_year(shared_data: Path, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "in", shared_data)
    reference = re.search(
        r"^\[inputs\.point_sources\][^\n]*\n(.*?)\n\n", cfg.read_text(), re.M | re.S
    )
    assert reference is not None
    cfg.write_text(
        cfg.read_text()
        + "\n[[inputs.anchors]]\nyear = 2019\n[inputs.anchors.point_sources]\n"
        + reference.group(1)
        + "\n"
    )
    out = tmp_path / "out.nc"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2019:2019"]) == 0
    said = [m for m in _said(caught) if "[[inputs.anchors]] #1" in m and "of 2021" in m]
    assert len(said) == 1, _said(caught)
    for part in ("the inventory of 2019", "year = 2019", "anchor of 2021"):
        assert part in said[0], (part, said[0])


# ------------------------------------------------------------------ 6. meteorology coverage
def _tables(hours: list[float]) -> Any:
    import xarray as xr

    years = [2017, 2018]
    return xr.Dataset(
        {"valid_hours": ("year", hours), "missing_hours": ("year", [8760.0 - h for h in hours])},
        coords={"year": years},
    )


def test_select_years_says_a_year_with_too_few_hours() -> None:
    met = _tables([8760.0, 4343.0])
    _, said = _recorded(
        select_years, met, [2017, 2018], what="meteo.csv.gz ([inputs] meteo)", min_coverage=0.9
    )
    assert len(said) == 1 and "\n" not in said[0], said
    for part in ("meteo.csv.gz ([inputs] meteo)", "2018", "4343 of 8760", "49.6 %", "90 %"):
        assert part in said[0], (part, said[0])
    _, said = _recorded(select_years, met, [2017], min_coverage=0.9)
    assert said == []  # a year the run does not compute is not its concern
    _, said = _recorded(select_years, met, [2017, 2018])
    assert said == []  # not asked


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_a_run_on_a_meteorology_that_ends_in_june_says_so(tmp_path: Path) -> None:
    """The sample's meteorology cut on 1 July 2018, the run asking 2018: it used to run
    with a winter-and-spring climatology for the year, without a word."""
    cfg = _mini(tmp_path / "in")
    _meteo(tmp_path / "in", lambda t: t[t["time"] < "2018-07-01"])
    out = tmp_path / "out.nc"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 0
    short = [m for m in _said(caught) if "valid hours" in m and "2018" in m]
    assert len(short) == 1 and "\n" not in short[0], _said(caught)
    hours = int(np.sum(pd.date_range("2018-01-01", "2018-06-30 23:00", freq="h").size))
    for part in (
        "meteo.csv.gz ([inputs] meteo)",
        f"{hours} of 8760",
        f"{100 * hours / 8760:.1f} %",
        "[run] first_year/last_year",
    ):
        assert part in short[0], (part, short[0])


# ------------------------------------------- [dispersion] deposition_velocity in cm s-1
def test_configured_deposition_velocity_in_cm_is_warned() -> None:
    """The configuration's per-pollutant table gets the species files' bound: 0.5 m s-1 is
    most likely 0.5 cm s-1 (an error only above 1 m s-1 before, silent below)."""
    import warnings

    from trajectoire.io.config import DispersionConfig

    want = (
        r"\[dispersion\] deposition_velocity: PFOA = 0\.5 m s-1 above the dry deposition "
        r"velocities .* 0\.0001 to 0\.05 m s-1 .* In m s-1: deposition_velocity = "
        r"\{ \"PFOA\" = 0\.005 \}\. Taken as written\."
    )
    with pytest.warns(TrajectoireWarning, match=want):
        cfg = DispersionConfig(deposition_velocity={"PFOA": 0.5, "PM10": 0.003})
    assert cfg.deposition_velocity == {"PFOA": 0.5, "PM10": 0.003}  # taken as written
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DispersionConfig(deposition_velocity={"PM10": 0.003, "PFOA": 0.05})  # plausible
