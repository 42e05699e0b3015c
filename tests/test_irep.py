"""The IREP reader (Géorisques register of industrial emissions) into point sources.

Every test writes its own small files in the real layouts: the Géorisques
``etablissements.csv`` and ``emissions.csv`` (``;``-separated, Windows-1252, French
substance names, ``kg/an``), the yearly zip that holds them, and the geocoded extract of
``../shared/data/point_sources`` (CSV and GeoPackage). One ``requires_shared`` test reads
the shared extract as it is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    TrajectoireWarning,
    UnitsError,
)
from trajectoire.geo.grid import Grid
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.irep import (
    ACTIVITY_CLASSES,
    IREP_POLLUTANTS,
    NAF_CLASSES,
    SECTOR_CLASSES,
    read_irep,
)
from trajectoire.inventory.readers import read_point_sources
from trajectoire.sectors import GNFR
from trajectoire.species import POLLUTANTS
from trajectoire.tables import dialect_defaults

KEY = "[inputs.point_sources]"

SITES_HEADER = (
    "identifiant;nom_etablissement;numero_siret;adresse;code_postal;commune;departement;"
    "region;coordonnees_x;coordonnees_y;code_epsg;code_ape;libelle_ape;code_eprtr;libelle_eprtr"
)
#: a power plant and a steel works in Lambert-93, a waste incinerator given in WGS84
SITES_ROWS = [
    "0001234567;CENTRALE DK6;44229377500031;Route du Fortelet;59760;Grande-Synthe;Nord;"
    "Hauts-de-France;643010;7104020;2154;35.11Z;Production d'électricité;1.c;Centrales",
    "0007000956;ARCELORMITTAL FRANCE;55206977900154;Rue du Comte Jean;59381;Dunkerque;Nord;"
    "Hauts-de-France;645500;7106300;2154;24.10Z;Sidérurgie;2.b;Sidérurgie",
    "0005500123;VALORISATION ÉNERGÉTIQUE;39998877700015;Rue de l'Abbé Lemire;59000;Lille;Nord;"
    "Hauts-de-France;3,0573;50,6292;4326;38.21Z;Traitement des déchets;5.b;Incinération",
]
EM_HEADER = "identifiant;nom_etablissement;annee_emission;milieu;polluant;quantite;unite"
EM_ROWS = [
    "0001234567;CENTRALE DK6;2021;Air;Oxydes d'azote (NOx - NO + NO2) (en eq. NO2);1250000;kg/an",
    "0001234567;CENTRALE DK6;2021;Air;Oxydes de soufre (SOx - SO2 + SO3) (en eq. SO2);"
    "300000,5;kg/an",
    "0001234567;CENTRALE DK6;2021;Air;Dioxyde de carbone (CO2);2500000000;kg/an",
    "0001234567;CENTRALE DK6;2021;Eau (direct);Azote total;60000;kg/an",
    "0007000956;ARCELORMITTAL FRANCE;2021;Air;PM10;450000;kg/an",
    "0007000956;ARCELORMITTAL FRANCE;2021;Air;PM2,5;< seuil;kg/an",
    "0007000956;ARCELORMITTAL FRANCE;2021;Air;Poussières totales (TSP);900000;kg/an",
    "0007000956;ARCELORMITTAL FRANCE;2021;Air;Composés organiques volatils non méthaniques "
    "(COVNM);120000;kg/an",
    "0005500123;VALORISATION ÉNERGÉTIQUE;2021;Air;Ammoniac (NH3);15000;kg/an",
    "0005500123;VALORISATION ÉNERGÉTIQUE;2021;Sol;Ammoniac (NH3);1000;kg/an",
]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    """Write a Géorisques table as the real files are: ';'-separated, Windows-1252."""
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("cp1252"))
    return path


def _official(tmp_path: Path, sites: list[str] | None = None, em: list[str] | None = None):
    s = _write(
        tmp_path / "etablissements.csv", SITES_HEADER, SITES_ROWS if sites is None else sites
    )
    e = _write(tmp_path / "emissions.csv", EM_HEADER, EM_ROWS if em is None else em)
    return s, e


def _read(sites: Path, emissions: Path, **kw):
    with pytest.warns(TrajectoireWarning, match="< seuil"):
        return read_irep(sites, emissions=emissions, config_key=KEY, **kw)


def test_official_layout_round_trip(tmp_path: Path) -> None:
    sites, em = _official(tmp_path)
    assert b"\xe9" in sites.read_bytes()  # cp1252 'é', as the real files
    df = _read(sites, em, year=2021)
    assert list(df.columns) == [
        "source_id",
        "name",
        "x",
        "y",
        "sector",
        "height",
        "diameter",
        "temperature",
        "velocity",
        "start_year",
        "end_year",
        "NOx",
        "PM10",
        "PM2.5",
        "SO2",
        "NH3",
        "NMVOC",
    ]
    df = df.set_index("source_id")
    assert list(df.index) == ["0001234567", "0007000956", "0005500123"]
    # kg/an -> t yr-1, decimal comma, '< seuil' read as 0, water/soil rows and CO2/TSP left out
    assert df.loc["0001234567", "NOx"] == pytest.approx(1250.0)
    assert df.loc["0001234567", "SO2"] == pytest.approx(300.0005)
    assert df.loc["0007000956", "PM10"] == pytest.approx(450.0)
    assert df.loc["0007000956", "PM2.5"] == 0.0
    assert df.loc["0007000956", "NMVOC"] == pytest.approx(120.0)
    assert df.loc["0005500123", "NH3"] == pytest.approx(15.0)
    assert df.loc["0007000956", "NOx"] == 0.0
    # sector and stack by NAF activity
    assert list(df["sector"]) == ["A_PublicPower", "B_Industry", "J_Waste"]
    assert df.loc["0001234567", "height"] == ACTIVITY_CLASSES["power_plant"]["height"]
    assert df.loc["0007000956", "height"] == ACTIVITY_CLASSES["iron_steel"]["height"]
    assert df.loc["0005500123", "velocity"] == ACTIVITY_CLASSES["waste_treatment"]["velocity"]
    assert df.attrs["activity_class"] == ["power_plant", "iron_steel", "waste_treatment"]
    # positions: Lambert-93 kept, WGS84 (code_epsg 4326) projected
    assert (df.loc["0001234567", "x"], df.loc["0001234567", "y"]) == (643010.0, 7104020.0)
    x, y = pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(3.0573, 50.6292)
    assert df.loc["0005500123", "x"] == pytest.approx(x)
    assert df.loc["0005500123", "y"] == pytest.approx(y)
    assert df.attrs["crs"] == "EPSG:2154"
    assert df.attrs["irep"]["rows_not_air"] == 2


def test_official_frame_goes_through_read_point_sources_and_build_inventory(
    tmp_path: Path,
) -> None:
    df = _read(*_official(tmp_path))
    ds = read_point_sources(df)
    assert list(ds["source"].values) == ["0001234567", "0007000956", "0005500123"]
    assert float(ds["point_emission"].sel(source="0001234567", pollutant="NOx")) == 1250.0
    assert list(ds["source_sector"].values) == ["A_PublicPower", "B_Industry", "J_Waste"]
    assert np.all(ds["start_year"].values == -1)
    grid = Grid.from_bounds(630000, 6990000, 720000, 7120000, 1000)
    inv = build_inventory(grid, reference_year=2021, point_sources=df)
    assert inv.sizes["source"] == 3
    total = inv["point_emission"].sum("source")
    assert float(total.sel(pollutant="NOx")) == pytest.approx(1250.0)
    assert float(total.sel(pollutant="PM10")) == pytest.approx(450.0)


def test_yearly_zip_archive(tmp_path: Path) -> None:
    sites, em = _official(tmp_path)
    archive = tmp_path / "2021.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(sites, "2021/etablissements.csv")
        zf.write(em, "2021/emissions.csv")
    with pytest.warns(TrajectoireWarning, match="< seuil"):
        df = read_irep(archive)
    assert df["NOx"].sum() == pytest.approx(1250.0)
    assert "2021.zip!2021/etablissements.csv" in df.attrs["source_file"]


def _geocoded_csv(path: Path) -> Path:
    """Three rows in the layout of irep2021_sites_59_60_62_geocoded.csv (ids as integers)."""
    path.write_text(
        "irep_identifiant,nom_etablissement,lat_geocoded,lon_geocoded,x_l93,y_l93,"
        "n_sites_same_point,insee_cog2026,commune_of_point,dep,territoire,air_stations_nearby\n"
        "7000956,ARCELORMITTAL FRANCE Dunkerque,51.02,2.30,645500.0,7106300.0,1,59183,"
        'Dunkerque,59,CUD,"FR11021;FR11034"\n'
        "7000683,ALUMINIUM DUNKERQUE SAS,51.01,2.20,640000.0,7105000.0,1,59155,Loon-Plage,59,"
        "CUD,\n"
        "28100030,SOFEDIT SAS,50.0557299,3.1241298,,,1,59269,Gouzeaucourt,59,,\n",
        encoding="utf-8",
    )
    return path


def _tidy(path: Path, rows: str, header: str = "site_id,pollutant,value,unit") -> Path:
    path.write_text(header + "\n" + rows, encoding="utf-8")
    return path


def test_geocoded_extract_with_tidy_emissions(tmp_path: Path, caplog) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    # Géorisques writes ids with leading zeros: they join with the extract's integers
    em = _tidy(
        tmp_path / "em.csv",
        "0007000956,NOx,1500000,kg/an\n7000683,PM2_5,2.5,t/an\n28100030,nmvoc,1,g/s\n",
    )
    with caplog.at_level("INFO", logger="trajectoire.inventory.irep"):
        df = read_irep(sites, emissions=em, config_key=KEY).set_index("source_id")
    assert list(df.index) == ["7000956", "7000683", "28100030"]
    assert df.loc["7000956", "NOx"] == pytest.approx(1500.0)
    assert df.loc["7000683", "PM2.5"] == pytest.approx(2.5)
    assert df.loc["28100030", "NMVOC"] == pytest.approx(31.5576)  # 1 g s-1 in t yr-1
    # x_l93/y_l93 used; the row without them falls back on lon/lat
    assert df.loc["7000956", "x"] == 645500.0
    x, y = pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(3.1241298, 50.0557299)
    assert (df.loc["28100030", "x"], df.loc["28100030", "y"]) == pytest.approx((x, y))
    # no activity column: default_sector and its stack, logged once with the count
    assert set(df["sector"]) == {"B_Industry"}
    assert set(df["height"]) == {ACTIVITY_CLASSES["other_industry"]["height"]}
    assert [r.getMessage() for r in caplog.records if "no activity column" in r.message] == [
        f"{sites}: no activity column; 3 site(s) get default_sector B_Industry and the "
        "default stack of class 'other_industry'"
    ]
    read_point_sources(df.reset_index())


def test_geopackage(tmp_path: Path) -> None:
    import geopandas as gpd

    frame = pd.read_csv(_geocoded_csv(tmp_path / "sites.csv")).dropna(subset=["x_l93"])
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["x_l93"], frame["y_l93"]), crs="EPSG:2154"
    ).to_crs("EPSG:4326")  # another CRS than the output's: reprojected back
    gpkg = tmp_path / "sites.gpkg"
    gdf.to_file(gpkg, layer="irep2021_sites")
    gdf.iloc[:1].to_file(gpkg, layer="other")
    em = _tidy(tmp_path / "em.csv", "7000956,NOx,1.5,t yr-1\n7000683,NOx,2,t yr-1\n")
    with pytest.raises(InputError, match=r"several layers .*set \[inputs.point_sources\] layer"):
        read_irep(gpkg, emissions=em, config_key=KEY)
    df = read_irep(gpkg, layer="irep2021_sites", emissions=em, config_key=KEY)
    assert list(df["source_id"]) == ["7000956", "7000683"]
    assert df["x"].to_numpy() == pytest.approx([645500.0, 640000.0], abs=1e-3)
    assert df["NOx"].tolist() == [1.5, 2.0]


def test_unit_conversion(tmp_path: Path) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    em = _tidy(
        tmp_path / "em.csv",
        "7000956,NOx,1000\n7000683,NOx,2000\n28100030,NOx,3000\n",
        header="site_id,pollutant,value",
    )
    with pytest.raises(UnitsError, match=r"no unit column .*set \[inputs.point_sources\] unit"):
        read_irep(sites, emissions=em, config_key=KEY)
    df = read_irep(sites, emissions=em, unit="kg yr-1")
    assert df["NOx"].tolist() == [1.0, 2.0, 3.0]
    df = read_irep(sites, emissions=em, unit="kg h-1")
    assert df["NOx"].tolist() == pytest.approx([8766.0, 17532.0, 26298.0])
    # an empty unit cell takes the unit option
    em2 = _tidy(
        tmp_path / "em2.csv", "7000956,NOx,1000,\n7000683,NOx,2,t/an\n28100030,NOx,0,kg/an\n"
    )
    df = read_irep(sites, emissions=em2, unit="kg/an")
    assert df["NOx"].tolist() == [1.0, 2.0, 0.0]


def test_join_reports_orphan_rows_and_silent_sites(tmp_path: Path) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    em = _tidy(
        tmp_path / "em.csv",
        "7000956,NOx,1,t/an\n999,NOx,5,t/an\n998,SO2,5,t/an\n999,SO2,1,t/an\n",
    )
    with pytest.warns(TrajectoireWarning) as caught:
        df = read_irep(sites, emissions=em)
    text = [str(w.message) for w in caught]
    assert any("3 emission row(s) of 2 site(s) not in" in t and "999, 998" in t for t in text)
    assert any("2 site(s) have no air emission row" in t and "7000683, 28100030" in t for t in text)
    assert len(df) == 3
    assert df.set_index("source_id").loc["7000683", "NOx"] == 0.0
    assert df.attrs["irep"]["emission_rows_without_site"] == 3
    assert df.attrs["irep"]["sites_without_emissions"] == 2
    with pytest.warns(TrajectoireWarning) as caught:
        df = read_irep(sites, emissions=em, sites_without_emissions="drop")
    assert any("left out: 7000683, 28100030" in str(w.message) for w in caught)
    assert list(df["source_id"]) == ["7000956"]


def test_default_stacks_by_activity(tmp_path: Path) -> None:
    rows = []
    codes = {
        "35.11Z": ("power_plant", "A_PublicPower"),
        "35.21Z": ("gas_supply", "D_Fugitive"),
        "19.20Z": ("refinery", "B_Industry"),
        "24.42Z": ("non_ferrous", "B_Industry"),
        "23.51Z": ("minerals", "B_Industry"),
        "01.46Z": ("livestock", "K_AgriLivestock"),
        "37.00Z": ("waste_water", "J_Waste"),
        "38.11Z": ("waste_treatment", "J_Waste"),
        "28.11Z": ("other_industry", "B_Industry"),
        "": ("power_plant", "A_PublicPower"),  # no code: default_sector A_PublicPower
    }
    for i, code in enumerate(codes):
        rows.append(f"{i + 1};SITE {i};;;;;;;{640000 + i};{7100000 + i};2154;{code};;;")
    sites = _write(tmp_path / "etablissements.csv", SITES_HEADER, rows)
    em = _tidy(tmp_path / "em.csv", "1,NOx,1,t/an\n", header="site_id,pollutant,value,unit")
    stacks = {"refinery": {"height": 150, "temperature": 500.0}}
    with pytest.warns(TrajectoireWarning, match="9 site"):
        df = read_irep(
            sites, emissions=em, crs=None, default_sector="A", stacks=stacks, config_key=KEY
        )
    assert df.attrs["activity_class"] == [c for c, _ in codes.values()]
    assert list(df["sector"]) == [s for _, s in codes.values()]
    ref = df.iloc[2]
    assert (ref["height"], ref["temperature"], ref["diameter"]) == (
        150.0,
        500.0,
        ACTIVITY_CLASSES["refinery"]["diameter"],
    )
    assert df.iloc[5]["height"] == ACTIVITY_CLASSES["livestock"]["height"]
    with pytest.raises(ConfigError, match=r"stacks: unknown activity class 'steel'.*iron_steel"):
        read_irep(sites, emissions=em, stacks={"steel": {"height": 1}}, config_key=KEY)
    with pytest.raises(ConfigError, match=r"stacks.refinery.diameter = 0"):
        read_irep(sites, emissions=em, stacks={"refinery": {"diameter": 0}}, config_key=KEY)


def test_tables_are_consistent() -> None:
    assert set(NAF_CLASSES.values()) <= set(ACTIVITY_CLASSES)
    assert set(SECTOR_CLASSES.values()) <= set(ACTIVITY_CLASSES)
    for name, spec in ACTIVITY_CLASSES.items():
        assert spec["sector"] in GNFR, name
        assert spec["diameter"] > 0 and spec["temperature"] >= 273.15 and spec["velocity"] > 0
    assert {v for v in IREP_POLLUTANTS.values() if v} <= set(POLLUTANTS)


def test_pollutants_option(tmp_path: Path) -> None:
    sites, em = _official(tmp_path)
    with pytest.warns(TrajectoireWarning) as caught:
        df = read_irep(sites, emissions=em, pollutants={"Poussières totales (TSP)": "PM10"})
    assert "2 row(s) give the same site and pollutant more than once" in str(caught[-1].message)
    # TSP mapped onto PM10 on request: the two rows of the site are summed, with a warning
    assert df.set_index("source_id").loc["0007000956", "PM10"] == pytest.approx(1350.0)
    with pytest.warns(TrajectoireWarning, match="1 site.* no air emission row .*0007000956"):
        df = read_irep(sites, emissions=em, pollutants=["NOx", "nh3"])
    assert [c for c in df.columns if c in POLLUTANTS] == ["NOx", "NH3"]
    with pytest.raises(ConfigError, match="unknown pollutant 'CO2'"):
        read_irep(sites, emissions=em, pollutants={"Dioxyde de carbone (CO2)": "CO2"})


# ---------------------------------------------------------------------- bad inputs
def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    assert KEY in text
    return text


def test_missing_identifiant_column(tmp_path: Path) -> None:
    sites = _write(
        tmp_path / "etablissements.csv",
        SITES_HEADER.replace("identifiant;", "id_site;", 1),
        SITES_ROWS,
    )
    em = tmp_path / "emissions.csv"
    with pytest.raises(MissingVariableError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert str(sites) in text and "'identifiant'" in text and "columns.site_id" in text
    # the columns option fixes it
    _write(em, EM_HEADER, EM_ROWS)
    with pytest.warns(TrajectoireWarning, match="< seuil"):
        df = read_irep(sites, emissions=em, columns={"site_id": "id_site"})
    assert len(df) == 3
    with pytest.raises(ConfigError, match=r"columns: unknown key\(s\) \['identifiant'\]"):
        read_irep(sites, emissions=em, columns={"identifiant": "id_site"}, config_key=KEY)


def test_unknown_unit(tmp_path: Path) -> None:
    rows = [*EM_ROWS[:1], EM_ROWS[1].replace("kg/an", "tonnes/siècle")]
    sites, em = _official(tmp_path, em=rows)
    with pytest.raises(UnitsError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert str(em) in text and "'unite'" in text and "'tonnes/siècle' at line 3" in text
    assert "columns.unit" in text


def test_an_empty_unit_cell_is_named_empty(tmp_path: Path) -> None:
    """An empty unit cell without a unit option: "(empty)" and the option that fills it,
    not 'nan'."""
    rows = [*EM_ROWS[:1], EM_ROWS[1].replace("kg/an", "")]
    sites, em = _official(tmp_path, em=rows)
    with pytest.raises(UnitsError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert "unknown unit(s) (empty) at line 3" in text and "'nan'" not in text
    assert "An empty cell takes the unit option" in text


def test_degrees_given_as_lambert(tmp_path: Path) -> None:
    rows = [SITES_ROWS[0], SITES_ROWS[2].replace(";4326;", ";2154;")]
    sites, em = _official(tmp_path, sites=rows, em=EM_ROWS[:2])
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert (
        str(sites) in text and "'coordonnees_x'" in text and "0005500123 (3.0573, 50.6292)" in text
    )
    assert "metres in EPSG:2154" in text and 'crs = "EPSG:4326"' in text


def test_no_crs_for_official_coordinates(tmp_path: Path) -> None:
    rows = [SITES_ROWS[0].replace(";2154;", ";;")]
    sites, em = _official(tmp_path, sites=rows, em=EM_ROWS[:1])
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    assert "0001234567" in _one_line(exc) and 'crs = "EPSG:2154"' in str(exc.value)
    assert read_irep(sites, emissions=em, crs="EPSG:2154")["x"].tolist() == [643010.0]


def test_unknown_pollutant_name(tmp_path: Path) -> None:
    rows = [*EM_ROWS[:1], EM_ROWS[1].replace("(SOx - SO2 + SO3) (en eq. SO2)", "(SOx) total")]
    sites, em = _official(tmp_path, em=rows)
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert (
        str(em) in text
        and "'polluant'" in text
        and "'Oxydes de soufre (SOx) total' at line 3" in text
    )
    assert 'pollutants = { "Oxydes de soufre (SOx) total" = "SO2" }' in text
    # a tidy table: every pollutant must be known
    tidy = _tidy(tmp_path / "tidy.csv", "0001234567,benzène,1,kg/an\n")
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=tidy, config_key=KEY)
    text = _one_line(exc)
    assert str(tidy) in text and "'pollutant'" in text and "'benzène' at line 2" in text


def test_several_years_without_year(tmp_path: Path) -> None:
    rows = [*EM_ROWS, EM_ROWS[0].replace(";2021;", ";2020;")]
    sites, em = _official(tmp_path, em=rows)
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    text = _one_line(exc)
    assert str(em) in text and "'annee_emission'" in text and "[2020, 2021]" in text
    assert "year = 2021" in text
    with pytest.warns(TrajectoireWarning, match="2 site.* no air emission row"):
        df = read_irep(sites, emissions=em, year=2020)
    assert df["NOx"].tolist() == [1250.0, 0.0, 0.0]
    with pytest.raises(InputError, match=r"no air row for year 2019; found \[2020, 2021\]"):
        read_irep(sites, emissions=em, year=2019)


def test_no_emissions_file(tmp_path: Path) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    with pytest.raises(ConfigError) as exc:
        read_irep(sites, config_key=KEY)
    text = _one_line(exc)
    assert str(sites) in text and 'emissions = "emissions.csv"' in text


def test_sites_without_coordinates(tmp_path: Path) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    text = sites.read_text().replace("50.0557299,3.1241298,,,", ",,,,")
    sites.write_text(text)
    em = _tidy(tmp_path / "em.csv", "7000956,NOx,1,t/an\n7000683,NOx,1,t/an\n")
    with pytest.raises(InputError) as exc:
        read_irep(sites, emissions=em, config_key=KEY)
    msg = _one_line(exc)
    assert "1 site(s) without coordinates" in msg and "28100030" in msg
    assert 'missing_position = "skip"' in msg
    with pytest.warns(TrajectoireWarning, match="1 site.* without coordinates left out .*28100030"):
        df = read_irep(sites, emissions=em, missing_position="skip")
    assert list(df["source_id"]) == ["7000956", "7000683"]


def test_duplicated_site_ids(tmp_path: Path) -> None:
    sites, em = _official(tmp_path, sites=[SITES_ROWS[0], SITES_ROWS[0].replace("0001", "1")])
    with pytest.raises(InputError, match=r"duplicated site id\(s\) '1234567' at line 2, line 3"):
        read_irep(sites, emissions=em)


# ---------------------------------------------------------------------- the real extract
@pytest.mark.requires_shared
def test_shared_geocoded_extract(shared_data: Path, tmp_path: Path) -> None:
    base = shared_data / "point_sources" / "irep2021_sites_59_60_62_geocoded"
    if not base.with_suffix(".csv").exists():
        pytest.skip(f"{base}.csv not found")
    em = _tidy(
        tmp_path / "em.csv",
        "7000956,NOx,5200000,kg/an\n7000683,PM10,120000,kg/an\n9069912,SO2,3000,kg/an\n",
    )
    frames = {}
    for suffix, layer in ((".csv", None), (".gpkg", "irep2021_sites")):
        with pytest.warns(TrajectoireWarning, match="806 site"):
            df = read_irep(base.with_suffix(suffix), layer=layer, emissions=em, year=2021)
        assert len(df) == 809
        assert df["source_id"].is_unique
        # the Hauts-de-France bounding box in Lambert-93
        assert df["x"].between(570000, 820000).all() and df["y"].between(6850000, 7140000).all()
        assert df.set_index("source_id").loc["7000956", "NOx"] == pytest.approx(5200.0)
        ds = read_point_sources(df)
        assert ds.sizes["source"] == 809
        frames[suffix] = df.set_index("source_id").sort_index()
    a, b = frames[".csv"], frames[".gpkg"]
    assert list(a.index) == list(b.index)
    assert np.abs(a[["x", "y"]].to_numpy() - b[["x", "y"]].to_numpy()).max() < 1.0


# ---------------------------------------------------------------------- probe B defects
def test_a_comma_inside_a_number_of_a_comma_delimited_file_is_an_error(tmp_path: Path) -> None:
    """``"4,500"`` (quoted) in a comma-delimited file was read as 4.5, a decimal comma
    guessed because no other cell had a decimal point (docs: never in a ',' file)."""
    sites = _geocoded_csv(tmp_path / "sites.csv")
    em = _tidy(tmp_path / "em.csv", '7000956,NOx,4000,t/an\n7000683,SO2,"4,500",t/an\n')
    with pytest.raises(InputError) as info:
        read_irep(sites, emissions=em, config_key=KEY)
    msg = str(info.value)
    assert "\n" not in msg and f"{em}, column 'value': '4,500' at line 3" in msg
    assert "thousands separator (4500) or a decimal comma (4.500)" in msg
    assert f"given by {KEY}" in msg and 'decimal = ","' in msg
    # a ';' file keeps its decimal commas (documented), and a given decimal is obeyed
    semi = tmp_path / "semi.csv"
    semi.write_text("site_id;pollutant;value;unit\n7000956;NOx;4,5;t/an\n", encoding="utf-8")
    with pytest.warns(TrajectoireWarning, match="no air emission row"):
        assert read_irep(sites, emissions=semi)["NOx"].iloc[0] == pytest.approx(4.5)
    with pytest.raises(InputError, match=r"'4,5' at line 2; expected a number"):
        with dialect_defaults(decimal="."):  # [inputs.point_sources] decimal = "."
            read_irep(sites, emissions=semi)


@pytest.mark.parametrize("medium", ["Aire", ""])
def test_an_unknown_medium_is_an_error_not_a_row_left_out(tmp_path: Path, medium) -> None:
    """A misspelt or empty medium dropped the row with an INFO "not to air" only."""
    sites = _geocoded_csv(tmp_path / "sites.csv")
    header = "site_id,pollutant,value,unit,medium"
    rows = f"7000956,NOx,4000,t/an,Air\n7000956,SO2,4500,t/an,{medium}\n"
    with pytest.raises(InputError) as info:
        read_irep(sites, emissions=_tidy(tmp_path / "em.csv", rows, header), config_key=KEY)
    msg = str(info.value)
    shown = "an empty cell" if not medium else repr(medium)
    assert "\n" not in msg and f"column 'medium': {shown} at line 3: not a medium" in msg
    assert "expected 'Air' (kept) or 'Eau (direct)'" in msg and f"given by {KEY}" in msg
    # recognised media other than air are left out, in either language and any case
    rows = (
        "7000956,NOx,4000,t/an,AIR\n7000956,SO2,4500,t/an,water\n7000683,SO2,1,t/an,Eau (direct)\n"
    )
    with pytest.warns(TrajectoireWarning, match="no air emission row"):
        df = read_irep(sites, emissions=_tidy(tmp_path / "em2.csv", rows, header))
    assert df.set_index("source_id")["NOx"].to_dict() == {
        "7000956": 4000.0,
        "7000683": 0.0,
        "28100030": 0.0,
    }
    assert "SO2" not in df.columns


def test_negative_quantity_names_value_and_integer_valued_float_ids_join(tmp_path: Path) -> None:
    sites = _geocoded_csv(tmp_path / "sites.csv")
    em = _tidy(tmp_path / "em.csv", "7000956,NOx,4000,t/an\n7000683,NOx,-4500,t/an\n")
    with pytest.raises(InputError, match=r"negative quantity -4500 at line 3"):
        read_irep(sites, emissions=em)
    # a spreadsheet writes the id 7000956 as 7000956.0: it is the same site
    em = _tidy(tmp_path / "em2.csv", "7000956.0,NOx,4000,t/an\n")
    with pytest.warns(TrajectoireWarning, match="left out: 7000683, 28100030"):
        df = read_irep(sites, emissions=em, sites_without_emissions="drop")
    assert df["source_id"].tolist() == ["7000956"] and df["NOx"].tolist() == [4000.0]


@pytest.mark.parametrize("year", [2021, None])
def test_rows_without_a_year_are_left_out_and_said(tmp_path: Path, year: int | None) -> None:
    """An air row whose year cell is empty is of no year: it was dropped without a word when
    a year was chosen, and added to the file's year when none was; now left out, and said
    with its line and site, the same way in both cases."""
    nox = "Oxydes d'azote (NOx - NO + NO2) (en eq. NO2)"
    em = [
        f"0001234567;CENTRALE DK6;2021;Air;{nox};1250000;kg/an",
        f"0001234567;CENTRALE DK6;;Air;{nox};500000;kg/an",  # line 3: no year
        "0007000956;ARCELORMITTAL FRANCE;2021;Air;PM10;450000;kg/an",
        f"0005500123;VALORISATION ÉNERGÉTIQUE;;Air;{nox};300000;kg/an",  # line 5, its only row
    ]
    sites, emissions = _official(tmp_path, em=em)
    with pytest.warns(TrajectoireWarning) as caught:
        df = read_irep(sites, emissions=emissions, config_key=KEY, year=year)
    said = [str(w.message) for w in caught if "without a year" in str(w.message)]
    assert len(said) == 1
    assert "2 air emission row(s) without a year, at line 3, line 5" in said[0]
    assert "0001234567" in said[0] and "0005500123" in said[0]
    nox_t = df.set_index("source_id")["NOx"]
    assert nox_t.loc["0001234567"] == pytest.approx(1250.0)  # not 1750 t
    assert "0005500123" not in nox_t.index or not nox_t.loc["0005500123"] > 0
