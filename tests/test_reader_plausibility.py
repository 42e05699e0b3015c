"""Ordinary mistakes in the real-data readers (a probe's findings F2, F4, F5, F7, F8, F9, F13,
F14): each is one clear line naming the file, the row or id, the field, the value, what was
expected and the key that fixes it, or a warning for what may be right; valid input reads
without a word."""

from __future__ import annotations

import logging
import warnings
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning
from trajectoire.inventory.communes import read_commune_population
from trajectoire.inventory.irep import read_irep
from trajectoire.tables import dialect_defaults, read_table
from trajectoire.trajectory import eurostat
from trajectoire.trajectory.eurostat import read_eurostat_air_emissions
from trajectoire.trajectory.trends import Method, ratio_series, validate_trends

TKEY = "[inputs] trends"
PKEY = "[inputs] point_sources"
ZKEY = "[inputs] zones"


# ------------------------------------------------------------------ F8: short CSV rows
def test_a_row_with_fewer_fields_than_the_header_is_one_line(tmp_path: Path) -> None:
    """A field left out of a row was read with the next fields shifted (or blamed on
    'coordinates look swapped'); only over-long rows were detected."""
    p = tmp_path / "sites.csv"
    p.write_text("id,name,x,y,dep\n1,A,650000,7100000,59\n2,650000,7100000,59\n", "utf-8")
    with pytest.raises(InputError) as info:
        read_table(p, what="sites.csv", config_key=PKEY)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("sites.csv: line 3 has 4 field(s) but the header has 5")
    assert "'2,650000,7100000,59'" in msg and PKEY in msg


def test_empty_fields_written_in_full_and_blank_lines_read_silently(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("a,b,c\n1,2,\n\n4,5,6\n", "utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_table(p)
    assert t["a"].tolist() == [1, 4] and pd.isna(t["c"].iloc[0])


# ------------------------------------------------------------------ Eurostat series
HEADER = (
    "source_id,classification,country,pollutant,sector_code,sector_label,year,value,unit,flag\n"
)


def _row(code: str, year: int, value: object, pol: str = "NOX", country: str = "FR") -> str:
    return f"V,x,{country},{pol},{code},,{year},{value},t,\n"


def _trends(tmp_path: Path, ip: list[object], eui: list[object] | None = None) -> Path:
    """SE1_EUI + SE2_IP (B_Industry) and SE1_RD, NOX 2010-2013; SE2_IP as given."""
    years = (2010, 2011, 2012, 2013)
    eui = eui or [40, 40, 40, 40]
    rows = [_row("SE1_EUI", y, v) for y, v in zip(years, eui, strict=True)]
    rows += [_row("SE2_IP", y, v) for y, v in zip(years, ip, strict=True)]
    rows += [_row("SE1_RD", y, 100) for y in years]
    p = tmp_path / "tr.csv"
    p.write_text(HEADER + "".join(rows), "utf-8")
    return p


def _read_quietly(path: Path, **kw: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_eurostat_air_emissions(path, config_key=TKEY, **kw)  # type: ignore[arg-type]


def test_a_zero_after_non_zero_values_is_warned_with_its_neighbours(tmp_path: Path) -> None:
    p = _trends(tmp_path, [4834, 4206, 0, 5059])
    with pytest.warns(TrajectoireWarning) as rec:
        read_eurostat_air_emissions(p, config_key=TKEY)
    msgs = [str(w.message) for w in rec if "zero(s)" in str(w.message)]
    assert len(msgs) == 1 and "\n" not in msgs[0]
    assert "NOX SE2_IP 2012 = 0 at line 8 (2011: 4206, 2013: 5059)" in msgs[0]
    assert msgs[0].startswith("tr.csv (vintage V)") and "[inputs.trends] path" in msgs[0]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([4834, 4206, 4500, 5_059_000], "NOX SE2_IP 2013 = 5.059e+06 at line 9 (2012: 4500)"),
        ([4834, 4.206e9, 4500, 5059], "NOX SE2_IP 2011 = 4.206e+09 at line 7 (2010: 4834, "),
    ],
)
def test_a_x1000_value_is_warned_naming_it_alone(tmp_path: Path, values, shown) -> None:
    p = _trends(tmp_path, values)
    with pytest.warns(TrajectoireWarning, match="more than 10 times") as rec:
        read_eurostat_air_emissions(p, config_key=TKEY)
    msg = next(str(w.message) for w in rec if "more than 10" in str(w.message))
    assert shown in msg and "1 value(s)" in msg  # the spike only, not its neighbours


def test_zeros_before_a_first_value_and_real_steps_read_silently(tmp_path: Path) -> None:
    """NH3 of energy production is 0 in 1990-1997 and the largest real step is /5.9."""
    assert getattr(eurostat, "JUMP_FACTOR", 10.0) == 10.0
    t = _read_quietly(_trends(tmp_path, [0, 0, 47, 8]))
    assert len(t)


def test_an_all_zero_code_summed_with_others_is_warned(tmp_path: Path) -> None:
    p = _trends(tmp_path, [0, 0, 0, 0])
    with pytest.warns(TrajectoireWarning, match="zero in every year") as rec:
        read_eurostat_air_emissions(p, config_key=TKEY)
    msg = next(str(w.message) for w in rec if "zero in every year" in str(w.message))
    assert "NOX SE2_IP in B_Industry/NOx (lines 6, 7, 8, 9)" in msg and "sector_mapping" in msg


def test_an_all_zero_series_used_as_an_index_is_refused() -> None:
    t = validate_trends(
        pd.DataFrame({"sector": "M", "pollutant": "NOx", "year": [2010, 2011], "value": 0.0})
    )
    for method in (Method("index"), Method("extrapolation", trend="linear")):
        with pytest.raises(InputError, match="is 0 in every year") as info:
            ratio_series(t, "M_Other", "NOx", [2011, 2012], 2011, method, what="tr.csv")
        assert "undefined" in str(info.value) and "[trajectory.methods] M_Other" in str(info.value)


def test_the_decimal_key_is_obeyed(tmp_path: Path) -> None:
    """``[inputs.trends] decimal = ","`` was accepted by the configuration, then ignored."""
    # one value written with a point: the decimal comma is not detected
    trends = _trends(tmp_path, [4834, 4206, 4500, 5059], eui=[40.5, 40, 40, 40])
    text = trends.read_text("utf-8").replace(",", ";")
    p = tmp_path / "semi.csv"
    p.write_text(text.replace(";4206;", ";4206,5;"), "utf-8")
    with pytest.raises(InputError) as info:
        read_eurostat_air_emissions(p, config_key=TKEY)
    assert "'4206,5' is not a number" in str(info.value)
    assert 'set [inputs.trends] decimal = ","' in str(info.value)
    with pytest.raises(InputError, match="'40.5' is not a number") as info:
        with dialect_defaults(decimal=","):  # a point is then no decimal mark: never guessed
            _read_quietly(p)
    assert "a point is no decimal mark there" in str(info.value)
    p.write_text(p.read_text("utf-8").replace(";40.5;", ";40;"), "utf-8")
    with dialect_defaults(decimal=","):
        t = _read_quietly(p)
    got = t[(t["sector"] == "B_Industry") & (t["year"] == 2011)]["value"]
    assert got.tolist() == [40 + 4206.5]


def test_rows_of_other_countries_are_logged(tmp_path: Path, caplog) -> None:
    p = _trends(tmp_path, [4, 4, 4, 4])
    p.write_text(p.read_text("utf-8") + _row("SE2_IP", 2013, 999999, country="BE"), "utf-8")
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        _read_quietly(p)
    said = [r.getMessage() for r in caplog.records if "other countries" in r.getMessage()]
    assert said == [
        "tr.csv: 1 row(s) of other countries ['BE'] left out; the country read is 'FR' "
        "([inputs.trends] country)."
    ]


@pytest.mark.parametrize(
    "vintage", ["EUROSTAT_ENV_AIR_EMIS_SNAP2016", "EUROSTAT_ENV_AIR_EMIS_SNAP2023"]
)
def test_the_real_series_read_without_a_warning(shared_data: Path, vintage: str) -> None:
    """The checks of zeros and jumps never fire on the real French series (zeros before a
    first value, SOX of road transport /5.9 in 2005, all-zero codes alone in their sector)."""
    path = shared_data / "emission_trends" / "france_trends.csv"
    groupings = {"F_RoadTransport": ["NFR1A_TRA"], "K_AgriLivestock": ["NFR3_AGR"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_eurostat_air_emissions(
            path, vintage=vintage, ignore_codes=["NFR3_MNR"],
            sector_mapping=groupings if vintage.endswith("2023") else None,
        )  # fmt: skip
    assert len(t)


# ------------------------------------------------------------------ commune populations
def _communes(tmp_path: Path, empty: str | None = None) -> Path:
    codes = ["59350", "01001", "2A004"]
    geoms = [
        shapely.Polygon() if c == empty else shapely.box(700_000 + 1000 * i, 7_000_000,
                                                         701_000 + 1000 * i, 7_001_000)
        for i, c in enumerate(codes)
    ]  # fmt: skip
    gdf = gpd.GeoDataFrame({"insee_com": codes}, geometry=geoms, crs="EPSG:2154")
    path = tmp_path / "communes.gpkg"
    gdf.to_file(path, layer="communes")
    return path


def _population(tmp_path: Path, header: str = "pmun_2016,pmun_2019,pmun_2023", lille=None) -> Path:
    lille = lille or "232787,232440,238246"
    text = f"insee,{header}\n59350,{lille}\n01001,767,779,832\n2A004,69075,70817,73775\n"
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _zones(tmp_path: Path, table: Path, empty: str | None = None) -> gpd.GeoDataFrame:
    return read_commune_population(
        _communes(tmp_path, empty), table=table, code="insee_com", config_key=ZKEY
    )


@pytest.mark.parametrize("factor", [1000, 1_000_000])
def test_a_commune_population_beyond_paris_is_refused(tmp_path: Path, factor: int) -> None:
    value = 232440 * factor
    table = _population(tmp_path, lille=f"232787,{value},238246")
    with pytest.raises(InputError) as info:
        _zones(tmp_path, table)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{table}: population(s) {value:,.0f} for 59350")
    assert "in 2019 (column 'pmun_2019', line 2)" in msg and "3,000,000" in msg
    assert "[inputs.zones] table" in msg


def test_a_census_year_after_this_year_is_refused(tmp_path: Path) -> None:
    year = date.today().year + 4
    table = _population(tmp_path, header=f"pmun_2016,pmun_2019,pmun_{year}")
    with pytest.raises(InputError) as info:
        _zones(tmp_path, table)
    msg = str(info.value)
    assert f"census year(s) {year} (column 'pmun_{year}') after the current year" in msg


def test_a_misspelt_census_column_is_named_with_its_right_spelling(tmp_path: Path) -> None:
    """'pmun2023' beside 'pmun_2016'...: the advice was prefix = "pmun", the typo's family,
    which would drop the real censuses."""
    table = _population(tmp_path, header="pmun_2016,pmun_2019,pmun2023")
    with pytest.raises(InputError) as info:
        _zones(tmp_path, table)
    msg = str(info.value)
    assert "'pmun2023' (rename it 'pmun_2023')" in msg
    assert 'prefix = "pmun"' not in msg and "would leave [2023] out" in msg


def test_an_empty_commune_geometry_names_its_insee_code(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        _zones(tmp_path, _population(tmp_path), empty="01001")
    msg = str(info.value)
    assert "1 polygon(s) without a geometry (commune 01001)" in msg
    assert "set its layer or path" not in msg and "[inputs.zones] path" in msg


# ------------------------------------------------------------------ IREP
SITES = (
    "irep_identifiant,nom_etablissement,lat_geocoded,lon_geocoded,x_l93,y_l93,code_ape\n"
    "7000956,ARCELORMITTAL,51.02,2.30,645500.0,7106300.0,{ape}\n"
    "7000683,ALUMINIUM DUNKERQUE,51.01,2.20,640000.0,7105000.0,24.42Z\n"
)


def _irep(tmp_path: Path, emissions: str, ape: str = "24.10Z", header: str | None = None):
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES.format(ape=ape), "utf-8")
    em = tmp_path / "em.csv"
    em.write_text((header or "site_id,pollutant,value,unit") + "\n" + emissions, "utf-8")
    return sites, em


@pytest.mark.parametrize(
    "name", ["CO2", "Dioxyde de carbone (CO2)", "Plomb et ses composés (Pb)", "CO", "lead"]
)
def test_an_unmodelled_substance_of_a_tidy_table_is_left_out_and_counted(
    tmp_path: Path, caplog, name: str
) -> None:
    sites, em = _irep(
        tmp_path, f"7000956,NOx,4000,t yr-1\n7000683,NOx,10,t yr-1\n7000956,{name},5,t yr-1\n"
    )
    with caplog.at_level(logging.INFO, logger="trajectoire"), warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_irep(sites, emissions=em, config_key=PKEY)
    assert df.set_index("source_id").loc["7000956", "NOx"] == 4000.0
    said = [r.getMessage() for r in caplog.records if "not kept" in r.getMessage()]
    assert said == [
        f"{em}: 1 row(s) of 1 substance(s) not kept (not trajectoire pollutants): {name}"
    ]


def test_an_unknown_pollutant_says_how_to_leave_it_out(tmp_path: Path) -> None:
    sites, em = _irep(tmp_path, "7000956,NOx,4000,t yr-1\n7000683,Truc,5,t yr-1\n")
    with pytest.raises(InputError) as info:
        read_irep(sites, emissions=em, config_key=PKEY)
    msg = str(info.value)
    assert "'Truc' at line 3" in msg and 'pollutants = { "Truc" = "" }' in msg


def test_an_invalid_activity_code_is_warned_naming_it(tmp_path: Path) -> None:
    sites, em = _irep(tmp_path, "7000956,NOx,4000,t yr-1\n7000683,NOx,10,t yr-1\n", ape="XX.99Q")
    with pytest.warns(TrajectoireWarning, match="not NAF") as rec:
        df = read_irep(sites, emissions=em, config_key=PKEY)
    msg = next(str(w.message) for w in rec if "not NAF" in str(w.message))
    assert "column 'code_ape': 1 activity code(s)" in msg and "'XX.99Q' (site 7000956)" in msg
    assert df.set_index("source_id").loc["7000956", "sector"] == "B_Industry"


def test_valid_activity_codes_read_silently(tmp_path: Path) -> None:
    sites, em = _irep(tmp_path, "7000956,NOx,4000,t yr-1\n7000683,NOx,10,t yr-1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_irep(sites, emissions=em, config_key=PKEY)


def test_a_renamed_value_column_is_named_not_the_id_column(tmp_path: Path) -> None:
    sites, em = _irep(
        tmp_path, "7000956,NOx,4000,t yr-1\n", header="site_id,pollutant,quantite,unit"
    )
    with pytest.raises(MissingVariableError) as info:
        read_irep(sites, emissions=em, config_key=PKEY)
    msg = str(info.value)
    assert "no column 'value' (value)" in msg and "identifiant'" not in msg.split(";")[0]
    assert "columns.value" in msg


def test_an_exactly_repeated_emission_row_is_refused(tmp_path: Path) -> None:
    """It was summed (the site's NOx doubled) with a warning; the trends reader refuses."""
    rows = "7000956,NOx,4000,t yr-1\n7000683,NOx,10,t yr-1\n7000956,NOx,4000,t yr-1\n"
    sites, em = _irep(tmp_path, rows)
    with pytest.raises(InputError) as info:
        read_irep(sites, emissions=em, config_key=PKEY)
    msg = str(info.value)
    assert "\n" not in msg and "site 7000956 NOx 4000 t yr-1 at lines 2, 4" in msg
    assert "[inputs.point_sources] emissions" in msg
    # two declarations that differ are still summed, with a warning
    sites, em = _irep(tmp_path, rows.replace("4000,t yr-1\n", "100,t yr-1\n", 1))
    with pytest.warns(TrajectoireWarning, match="they are summed"):
        df = read_irep(sites, emissions=em, config_key=PKEY)
    assert df.set_index("source_id").loc["7000956", "NOx"] == 4100.0
