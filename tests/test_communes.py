"""Commune populations joined to polygons by INSEE code, and commune inventories (issue 12)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trajectoire import Grid
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    TrajectoireWarning,
    UnitsError,
)
from trajectoire.inventory.communes import (
    insee_code,
    read_commune_inventory,
    read_commune_population,
)
from trajectoire.inventory.population import census_population, population_at
from trajectoire.inventory.readers import read_area_totals

KEY = "[inputs.population]"
IKEY = "[inputs.area_totals]"


def _polygons(tmp_path: Path, codes: list[object] | None = None) -> Path:
    """A tiny GeoPackage of 3 communes (one integer code column, as a spreadsheet writes it),
    with a second layer so that `layer` matters."""
    codes = codes if codes is not None else [59350, 1001, "2A004"]
    gdf = gpd.GeoDataFrame(
        {"insee_com": codes, "nom": ["Lille", "L'Abergement", "Ajaccio"]},
        geometry=[shapely.box(700_000 + 1000 * i, 7_000_000, 701_000 + 1000 * i, 7_001_000)
                  for i in range(len(codes))],
        crs="EPSG:2154",
    )  # fmt: skip
    path = tmp_path / "communes.gpkg"
    gdf.to_file(path, layer="communes_cog2026")
    gdf.iloc[:1].to_file(path, layer="other")
    return path


def _wide(tmp_path: Path, rows: str | None = None) -> Path:
    text = rows or (
        "insee_cog2026,nom,dep,pmun_2016,pmun_2019,pmun_2023\n"
        "59350,Lille,59,232787.0,232440.0,238246.0\n"
        "01001,L'Abergement,01,767,779,832\n"
        "2A004,Ajaccio,2A,69075,70817,73775\n"
    )
    path = tmp_path / "pop_wide.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _long(tmp_path: Path) -> Path:
    # today's code in insee_cog2026; 2016 rows of a merged commune (59999 -> 59350)
    text = (
        "insee,nom,annee,pmun,source,insee_page,insee_cog2026,note\n"
        "59350,Lille,2016,230000,x,p,59350,\n"
        "59999,Lomme,2016,2787,x,p,59350,\n"
        "59350,Lille,2023,238246,x,p,59350,\n"
        "01001,L'Abergement,2016,767,x,p,01001,\n"
        "01001,L'Abergement,2023,832,x,p,01001,\n"
        "2A004,Ajaccio,2016,69075,x,p,2A004,\n"
        "2A004,Ajaccio,2023,73775,x,p,2A004,\n"
        "60054,Les Hauts-Talican,2016,873,x,p,60054+60694,split\n"
    )
    path = tmp_path / "pop_long.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _read(tmp_path: Path, **kw: object) -> gpd.GeoDataFrame:
    args: dict[str, object] = {
        "table": kw["table"] if "table" in kw else _wide(tmp_path), "code": "insee_com", "layer": "communes_cog2026",
        "columns": {"code": "insee_cog2026"}, "config_key": KEY,
    }  # fmt: skip
    args.update(kw)
    return read_commune_population(_polygons(tmp_path), **args)  # type: ignore[arg-type]


def test_insee_code() -> None:
    assert insee_code(1001) == "01001"
    assert insee_code(59350.0) == "59350"
    assert insee_code(" 2a004") == "2A004"
    assert insee_code("1001") == "01001"
    for bad in (None, float("nan"), "60054+60694", "123456", 12.5, "ABCDE", True, 59, "62"):
        assert insee_code(bad) is None


def test_wide_round_trip(tmp_path: Path) -> None:
    z = _read(tmp_path)
    assert list(z["zone_id"]) == ["59350", "01001", "2A004"]
    assert [c for c in z.columns if c.startswith("pop_")] == ["pop_2016", "pop_2019", "pop_2023"]
    assert z.set_index("zone_id").loc["01001", "pop_2019"] == 779.0
    assert z.crs.to_epsg() == 2154 and z.attrs["census_years"] == [2016, 2019, 2023]
    # ready for census_population: totals per census conserved on a covering grid
    grid = Grid.from_bounds(699_000, 6_999_000, 704_000, 7_002_000, 500)
    pop = census_population(z, grid)
    assert pop["census"].values.tolist() == [2016, 2019, 2023]
    np.testing.assert_allclose(
        pop.sum(["y", "x"]).values,
        [232787 + 767 + 69075, 232440 + 779 + 70817, 238246 + 832 + 73775],
    )


def test_long_round_trip_sums_merged_communes(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"60054\+60694"):
        z = _read(
            tmp_path, table=_long(tmp_path), duplicates="sum",
            columns={"code": "insee_cog2026", "year": "annee", "population": "pmun"},
        )  # fmt: skip
    lille = z.set_index("zone_id").loc["59350"]
    assert lille["pop_2016"] == 232787.0 and lille["pop_2023"] == 238246.0


def test_long_duplicates_raise_by_default(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r'59350 in 2016.*\[inputs.population\] duplicates = "sum"'
    ):
        _read(tmp_path, table=_long(tmp_path), columns={"code": "insee_cog2026"})


def test_unmatched_warn_and_raise(tmp_path: Path) -> None:
    text = "insee_cog2026,pmun_2016,pmun_2023\n59350,1,2\n01001,3,4\n62041,5,6\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = _read(tmp_path, table=_wide(tmp_path, text))
    messages = " | ".join(str(w.message) for w in caught)
    assert "62041" in messages and "no polygon" in messages  # a row without polygon
    assert "2A004" in messages and "no population row" in messages  # a polygon without row
    assert list(z["zone_id"]) == ["59350", "01001"]
    with pytest.raises(InputError, match=r"pop_wide.csv.*62041.*unmatched"):
        _read(tmp_path, table=_wide(tmp_path, text), unmatched="raise")


def test_missing_values_interpolated_or_raise(tmp_path: Path) -> None:
    text = (
        "insee_cog2026,pmun_2016,pmun_2019,pmun_2023\n59350,100,,300\n01001,,10,20\n2A004,1,2,3\n"
    )
    with pytest.warns(UserWarning, match=r"01001 \(2016\), 59350 \(2019\)"):
        z = _read(tmp_path, table=_wide(tmp_path, text)).set_index("zone_id")
    assert z.loc["59350", "pop_2019"] == pytest.approx(100 + 200 * 3 / 7)
    assert z.loc["01001", "pop_2016"] == 10.0  # held before its first value
    with pytest.raises(InputError, match=r'\[inputs.population\] missing = "warn"'):
        _read(tmp_path, table=_wide(tmp_path, text), missing="raise")


def test_population_at_holds_first_census(tmp_path: Path) -> None:
    """What population_at does before the first census (documented in the reader)."""
    z = _read(tmp_path)
    grid = Grid.from_bounds(699_000, 6_999_000, 704_000, 7_002_000, 500)
    pop = census_population(z, grid)
    np.testing.assert_array_equal(population_at(pop, 1990), population_at(pop, 2016))


def test_before_first_rate_and_trend(tmp_path: Path) -> None:
    z = _read(tmp_path, years=[1990, 2016, 2023], before_first=0.01).set_index("zone_id")
    assert list(c for c in z.columns if c.startswith("pop_")) == [
        "pop_1990",
        "pop_2016",
        "pop_2023",
    ]
    assert z.loc["01001", "pop_1990"] == pytest.approx(767 / 1.01**26)
    t = _read(tmp_path, years=[2000, 2016, 2019, 2023], before_first="trend").set_index("zone_id")
    rate = (832 / 767) ** (1 / 7) - 1
    assert t.loc["01001", "pop_2000"] == pytest.approx(767 * (1 + rate) ** -16)
    with pytest.raises(InputError, match=r"1990.*before_first"):
        _read(tmp_path, years=[1990, 2016])
    with pytest.raises(InputError, match=r"2017"):
        _read(tmp_path, years=[2016, 2017], before_first="trend")
    with pytest.raises(ConfigError, match=r"before_first"):
        _read(tmp_path, before_first="linear")


@pytest.mark.parametrize("rate", [-2.0, -1.0, -0.5, 0.4, float("nan"), float("inf")])
def test_before_first_rate_outside_its_range_names_key_value_and_range(
    tmp_path: Path, rate: float
) -> None:
    """-0.5 ran, with 1990 populations 2**26 times the 2016 census (7.8e13 in MEL); -1.0
    failed blaming the table ("2214 values are not numbers: inf ... Fix the table")."""
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, years=[1990, 2016, 2023], before_first=rate)
    text = str(info.value)
    assert text.startswith(f"{KEY} before_first = {rate!r}: an annual growth rate must lie in ")
    assert "[-0.05, 0.05]" in text and "\n" not in text


def test_before_first_far_from_the_first_census_is_warned(tmp_path: Path) -> None:
    with pytest.warns(
        TrajectoireWarning,
        match=r"before_first = 0.05 makes the communes' population .* in 1990, 3.56 times less "
        r"than at the census 2016",
    ):
        z = _read(tmp_path, years=[1990, 2016], before_first=0.05).set_index("zone_id")
    assert z.loc["01001", "pop_1990"] == pytest.approx(767 / 1.05**26)
    _read(tmp_path, years=[2000, 2016], before_first=0.04)  # 1.87 times: no warning


def test_code_column_without_commune_codes_names_the_code_key(tmp_path: Path) -> None:
    """code = "dep" suggested setting prefix = "insee_cog" (the table's code column taken for
    a census year), which was not the problem."""
    polygons = _polygons(tmp_path)
    gdf = gpd.read_file(polygons, layer="communes_cog2026").assign(dep=["59", "01", "2A"])
    gdf.to_file(polygons, layer="communes_cog2026")
    with pytest.raises(InputError) as info:
        read_commune_population(polygons, table=_wide(tmp_path), code="dep", layer="communes_cog2026",
                                columns={"code": "insee_cog2026"}, config_key=KEY)  # fmt: skip
    text = str(info.value)
    assert "column 'dep' ([inputs.population] code): its values do not look like INSEE" in text
    assert "'59', '01', '2A' (3 of 3 rows)" in text
    assert "Set [inputs.population] code to the column of commune codes ('insee_com'" in text
    assert "prefix" not in text
    # the table's code column: columns.code
    with pytest.raises(InputError, match=r"column 'dep' \(\[inputs.population\] columns.code\)"):
        _read(tmp_path, columns={"code": "dep"})


def test_older_census_table(tmp_path: Path) -> None:
    older = tmp_path / "older.csv"
    older.write_text(
        "insee,pop_1990,pop_1999\n59350,172142,184657\n1001,600,700\n2A004,58949,52880\n"
    )
    z = _read(tmp_path, table=[older, _wide(tmp_path)], columns=None).set_index("zone_id")
    assert z.attrs["census_years"] == [1990, 1999, 2016, 2019, 2023]
    assert z.loc["01001", "pop_1990"] == 600.0
    with pytest.raises(InputError, match=r"census year 2016 is in two population tables"):
        _read(tmp_path, table=[_wide(tmp_path), _wide(tmp_path)])


def test_bad_inputs_name_file_field_and_key(tmp_path: Path) -> None:
    with pytest.raises(
        MissingVariableError,
        match=r"communes.gpkg: no code column .insee.*\[inputs.population\] code",
    ):
        _read(tmp_path, code="insee")
    with pytest.raises(
        MissingVariableError,
        match=r"pop_wide.csv: no column 'code_insee' \(columns.code\).*\[inputs.population\] columns.code",
    ):
        _read(tmp_path, columns={"code": "code_insee"})
    with pytest.raises(
        ConfigError, match=r"unknown key\(s\) \['pop'\].*'code', 'year', 'population'"
    ):
        _read(tmp_path, columns={"pop": "pmun"})
    with pytest.raises(InputError, match=r"several layers.*\[inputs.population\]"):
        _read(tmp_path, layer=None)
    with pytest.raises(InputError, match=r"pop_wide.csv, column 'pmun_2019'.*'beaucoup' at line 3"):
        _read(
            tmp_path,
            table=_wide(
                tmp_path, "insee_cog2026,pmun_2016,pmun_2019\n59350,1,2\n01001,1,beaucoup\n"
            ),
        )
    with pytest.raises(InputError, match=r"several families.*prefix"):
        _read(tmp_path, table=_wide(tmp_path, "insee_cog2026,pmun_2016,ptot_2016\n59350,1,2\n"))
    with pytest.raises(InputError, match=r"negative population"):
        _read(
            tmp_path, table=_wide(tmp_path, "insee_cog2026,pmun_2016\n59350,-1\n01001,1\n2A004,1\n")
        )
    bad = _polygons(tmp_path, codes=[59350, "Lille", "2A004"])
    with pytest.raises(
        InputError, match=r"column 'insee_com'.*'Lille'.*\[inputs.population\] code"
    ):
        read_commune_population(bad, table=_wide(tmp_path), code="insee_com", layer="communes_cog2026",
                                columns={"code": "insee_cog2026"}, config_key=KEY)  # fmt: skip
    # polygons without a CRS are refused (a CRS is never assumed)
    nocrs = gpd.GeoDataFrame({"insee": ["59350"]}, geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(InputError, match=r"no CRS"):
        read_commune_population(nocrs, table=_wide(tmp_path), columns={"code": "insee_cog2026"})


# ------------------------------------------------------------------ commune inventory
def _inventory_cp1252(tmp_path: Path) -> Path:
    """A commune inventory as the observatories export it: ';', cp1252, decimal commas, kg."""
    text = (
        "code_insee;nom_commune;annee;secteur;polluant;valeur;unite\n"
        "59350;Lille;2021;Résidentiel;NOx;12500,5;kg\n"
        "59350;Lille;2021;Tertiaire;NOx;2500;kg\n"
        "59350;Lille;2021;Transport routier;NOx;400000;kg\n"
        "59350;Lille;2021;Industrie (hors branche énergie);PM10;3000;kg\n"
        "59350;Lille;2021;Branche énergie;SO2;1000;kg\n"
        "01001;L'Abergement;2021;Agriculture;NH3;800;kg\n"
        "01001;L'Abergement;2021;Autres transports;NOx;10;kg\n"
        "01001;L'Abergement;2021;Déchets;COVNM;5;kg\n"
        "01001;L'Abergement;2021;Résidentiel;CO;99;kg\n"
        "2A004;Ajaccio;2021;Emetteurs non inclus;COVNM;70;kg\n"
    )
    path = tmp_path / "inventaire_communes.csv"
    path.write_bytes(text.encode("cp1252"))
    return path


def test_commune_inventory_long_cp1252(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_commune_inventory(_inventory_cp1252(tmp_path), config_key=IKEY)
    messages = " | ".join(str(w.message) for w in caught)
    assert "['CO']" in messages and "Emetteurs non inclus" in messages
    assert list(out.columns) == ["zone_id", "sector", "pollutant", "emission", "units"]
    assert set(out["units"]) == {"t yr-1"}
    got = out.set_index(["zone_id", "sector", "pollutant"])["emission"]
    assert got[("59350", "C_OtherStationaryComb", "NOx")] == pytest.approx(15.0005)
    assert got[("59350", "F_RoadTransport", "NOx")] == pytest.approx(400.0)
    assert got[("59350", "B_Industry", "PM10")] == pytest.approx(3.0)
    assert got[("59350", "A_PublicPower", "SO2")] == pytest.approx(1.0)
    assert got[("01001", "L_AgriOther", "NH3")] == pytest.approx(0.8)
    assert got[("01001", "I_OffRoad", "NOx")] == pytest.approx(0.01)
    assert got[("01001", "J_Waste", "NMVOC")] == pytest.approx(0.005)
    assert len(out) == 7
    # the same frame as read_area_totals would give (it is its output)
    pd.testing.assert_frame_equal(out, read_area_totals(out), check_like=True)


def test_commune_inventory_wide_and_mapping(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "insee;secteur;NOx;PM10;PM2,5;CO2\n59350;Autres transports;1;2;1;100\n"
        "1001;Agriculture;0;3;1;100\n",
        encoding="utf-8",
    )
    # CO2 is not a pollutant of the library: the column is not read (logged at info level)
    out = read_commune_inventory(
        path, unit="t", sector_mapping={"Autres transports": "G_Shipping", "agriculture": "K"}
    )
    got = out.set_index(["zone_id", "sector", "pollutant"])["emission"]
    assert got[("59350", "G_Shipping", "PM2.5")] == 1.0
    assert got[("01001", "K_AgriLivestock", "PM10")] == 3.0
    assert set(out["pollutant"]) == {"NOx", "PM10", "PM2.5"}


def test_commune_inventory_years(tmp_path: Path) -> None:
    path = tmp_path / "years.csv"
    path.write_text(
        "code_insee,annee,secteur,polluant,valeur\n59350,2018,Résidentiel,NOx,1\n"
        "59350,2021,Résidentiel,NOx,2\n",
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"several years \[2018, 2021\].*\[inputs.area_totals\] year = 2021"
    ):
        read_commune_inventory(path, config_key=IKEY)
    out = read_commune_inventory(path, year=2018, unit="kg yr-1")
    assert out["emission"].tolist() == [0.001]


def test_commune_inventory_bad_inputs(tmp_path: Path) -> None:
    def write(text: str) -> Path:
        p = tmp_path / "bad.csv"
        p.write_text(text, encoding="utf-8")
        return p

    with pytest.raises(
        MissingVariableError,
        match=r"bad.csv: no sector column.*\[inputs.area_totals\] columns.sector",
    ):
        read_commune_inventory(write("code_insee,polluant,valeur\n59350,NOx,1\n"), config_key=IKEY)
    with pytest.raises(MissingVariableError, match=r"no column 'SECT' \(columns.sector\)"):
        read_commune_inventory(write("code_insee,secteur,polluant,valeur\n59350,Résidentiel,NOx,1\n"),
                               columns={"sector": "SECT"}, config_key=IKEY)  # fmt: skip
    with pytest.raises(
        InputError,
        match=r"unknown sector\(s\) 'Chauffage' at line 2.*\[inputs.area_totals\] sector_mapping",
    ):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur\n59350,Chauffage,NOx,1\n"), config_key=IKEY
        )
    with pytest.raises(UnitsError, match=r"'kWh'.*column 'unite'.*\[inputs.area_totals\] unit"):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur,unite\n59350,Tertiaire,NOx,1,kWh\n"),
            config_key=IKEY,
        )
    with pytest.raises(UnitsError, match=r"'ug m-3'"):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur\n59350,Tertiaire,NOx,1\n"), unit="ug m-3"
        )
    with pytest.raises(InputError, match=r"column 'code_insee'.*line 2: 'Lille'"):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur\nLille,Tertiaire,NOx,1\n"), config_key=IKEY
        )
    with pytest.raises(InputError, match=r"column 'valeur'.*'s' at line 2"):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur\n59350,Tertiaire,NOx,s\n"), config_key=IKEY
        )
    with pytest.raises(InputError, match=r"negative"):
        read_commune_inventory(
            write("code_insee,secteur,polluant,valeur\n59350,Tertiaire,NOx,-1\n"), config_key=IKEY
        )
    with pytest.raises(ConfigError, match=r"not a GNFR id"):
        read_commune_inventory(write("code_insee,secteur,polluant,valeur\n59350,Tertiaire,NOx,1\n"),
                               sector_mapping={"Tertiaire": "Heating"})  # fmt: skip


# ---------------------------------------------------------------------- real files
TERRITORIES = ("MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC")


@pytest.mark.requires_shared
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_real_population_sums_to_territories(shared_data: Path, layout: str) -> None:
    """INSEE populations joined to the 2214 communes of 59/60/62, summed per territory
    (membership from epci_composition_2026.csv), equal the territory totals (0.5 %)."""
    pop = shared_data / "population"
    kw: dict[str, object] = {"columns": {"code": "insee_cog2026"}}
    table = pop / "population_communes_59_60_62_cog2026_wide.csv"
    if layout == "long":
        table = pop / "population_communes_59_60_62_long.csv"
        kw = {"columns": {"code": "insee_cog2026", "year": "annee", "population": "pmun"},
              "duplicates": "sum"}  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zones = read_commune_population(
            shared_data / "territories" / "communes_59_60_62.gpkg", layer="communes_cog2026",
            code="insee_cog2026", table=table, config_key=KEY, **kw,  # type: ignore[arg-type]
        )  # fmt: skip
    # the two communes split since 2020 (60054, 60694) are reported, never silently used
    assert any("60054" in str(w.message) for w in caught)
    assert len(zones) == 2214
    members = pd.read_csv(
        shared_data / "territories" / "epci_composition_2026.csv", dtype={"insee": str}
    )
    assert set(members["insee"]) <= set(zones["zone_id"])
    joined = zones.merge(members[["insee", "territoire"]].rename(columns={"territoire": "t"}),
                         left_on="zone_id", right_on="insee")  # fmt: skip
    cols = [c for c in zones.columns if c.startswith("pop_")]
    sums = joined.groupby("t")[cols].sum()
    expected = pd.read_csv(pop / "population_territoires_cog2026.csv").set_index("territoire")
    assert set(sums.index) == set(TERRITORIES)
    for col in cols:
        ref = expected[col.replace("pop_", "pmun_")].reindex(sums.index)
        np.testing.assert_allclose(sums[col].to_numpy(), ref.to_numpy(), rtol=5e-3, err_msg=col)


def test_reader_options_keep_their_keywords(tmp_path: Path) -> None:
    """`what` and `config_key` (trajectoire.tables.Provenance) are taken by keyword as before: the input and
    the key that fixes it in messages; a misspelt keyword is one TypeError naming it."""
    with pytest.raises(
        MissingVariableError, match=r"^IGN communes: no code column .*\[inputs.population\] code"
    ):
        _read(tmp_path, code="insee", what="IGN communes")
    bad = tmp_path / "bad.csv"
    bad.write_text("code_insee,secteur,polluant,valeur\n59350,Tertiaire,NOx,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^inventaire: 1 negative value.*\[inputs.area_totals\]"):
        read_commune_inventory(bad, what="inventaire", config_key=IKEY)
    with pytest.raises(
        TypeError,
        match=r"^read_commune_population\(\) got an unexpected keyword argument 'config_ky'",
    ):
        _read(tmp_path, config_ky=KEY)
    with pytest.raises(
        TypeError, match=r"^read_commune_inventory\(\) got an unexpected keyword argument 'wat'"
    ):
        read_commune_inventory(bad, wat="inventaire")  # type: ignore[call-arg]


def test_commune_inventory_blank_sector_cells_are_named(tmp_path: Path) -> None:
    """A blank sector cell was dropped by the grouping of the message: alone, it ended on a
    bare StopIteration; beside an unknown label it was left out of the message, and the
    suggested mapping ended in ``}}``."""
    path = tmp_path / "blank.csv"
    path.write_text("code_insee,secteur,polluant,valeur\n59350,,NOx,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown sector\(s\) \(empty\) at line 2;.*Fill in"):
        read_commune_inventory(path, config_key=IKEY)
    path.write_text(
        "code_insee,secteur,polluant,valeur\n59350,,NOx,1\n59350,Chauffage,NOx,2\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_commune_inventory(path, config_key=IKEY)
    text = str(err.value)
    assert "(empty) at line 2; 'Chauffage' at line 3" in text
    assert 'sector_mapping = { "Chauffage" = "B_Industry" } (or "drop")' in text
