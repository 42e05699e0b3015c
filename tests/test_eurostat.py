"""Tests of trajectoire.trajectory.eurostat: env_air_emis in its three layouts, NFR -> GNFR,
vintage splicing (IPCC 2006 overlap method)."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.errors import ConfigError, InputError, MissingVariableError, UnitsError
from trajectoire.sectors import GNFR
from trajectoire.trajectory.backcast import rebuild
from trajectoire.trajectory.eurostat import (
    NFR_TO_GNFR,
    gnfr_of_nfr,
    read_eurostat_air_emissions,
    splice_vintages,
)
from trajectoire.trajectory.trends import series_of

A, B, F, K = "A_PublicPower", "B_Industry", "F_RoadTransport", "K_AgriLivestock"
OFFROAD = "I_OffRoad"
KEY = "[inputs.trends]"

# ---------------------------------------------------------------- files in their real layouts
#: bulk-download TSV since 2023: dimensions packed in the first column, years newest first,
#: cells "value flags", ":" where not available
TSV_NFR = (
    "freq,airpol,src_nfr,unit,geo\\TIME_PERIOD\t2002 \t2001 \t2000 \n"
    "A,NOX,NFR1A1A,THS_T,FR\t10.5 \t11 e\t12 \n"
    "A,NOX,NFR1A1A,THS_T,BE\t1 \t1 \t1 \n"
    "A,NOX,NFR1A3B1,THS_T,FR\t100 \t110 \t120 p\n"
    "A,NOX,NFR1A3B2,THS_T,FR\t50 \t60 \t: \n"
    "A,PM10,NFR1A1A,THS_T,FR\t1.25 \t1.5 \t2 \n"
    "A,PM10,NFR1A3B1,THS_T,FR\t5 \t6 \t7 \n"
    "A,PM10,NFR1A3B2,THS_T,FR\t1 \t1 \t1 \n"
    "A,CO,NFR1A1A,THS_T,FR\t9 \t9 \t9 \n"
)

#: the bulk TSV before 2017 (old airsect groups, years newest first)
TSV_AIRSECT = (
    "airpol,airsect,unit,geo\\time\t2001 \t2000 \n"
    "NOX,SE1_EUI,T,FR\t30 \t40 \n"
    "NOX,SE2_IP,T,FR\t3 \t4 \n"
    "NOX,SE1_RD,T,FR\t100 \t200 \n"
    "NOX,TOT_NAT,T,FR\t133 \t244 \n"
)

#: SDMX-CSV download (one observation per line)
SDMX_HEADER = "DATAFLOW,LAST UPDATE,freq,airpol,src_nfr,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"


def _sdmx_row(pol, code, year, value, flag="", unit="THS_T", geo="FR"):
    return f"ESTAT:ENV_AIR_EMIS(1.0),28/04/23 23:00:00,A,{pol},{code},{unit},{geo},{year},{value},{flag}\n"


#: the tidy extract of shared/data/emission_trends (two vintages)
TIDY_HEADER = (
    "source_id,classification,country,pollutant,sector_code,sector_label,year,value,unit,flag\n"
)


def _tidy_row(vintage, pol, code, year, value, unit="t", flag=""):
    return f"{vintage},x,FR,{pol},{code},,{year},{value},{unit},{flag}\n"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _value(t, sector, pollutant, year):
    sel = t[(t["sector"] == sector) & (t["pollutant"] == pollutant) & (t["year"] == year)]
    assert len(sel) == 1, (sector, pollutant, year)
    return float(sel["value"].iloc[0])


# ---------------------------------------------------------------- layouts
def test_tsv_layout_values_flags_missing_and_thousand_tonnes(tmp_path):
    t = read_eurostat_air_emissions(_write(tmp_path, "env_air_emis.tsv", TSV_NFR))
    assert t.attrs["layout"] == "tsv" and t.attrs["units"] == "t yr-1"
    assert list(t.columns) == ["sector", "pollutant", "year", "value", "series"]
    assert set(t["series"]) == {"env_air_emis"}
    # THS_T -> t; flags stripped ("11 e"); BE rows not read (country FR); CO not mapped
    assert _value(t, A, "NOx", 2001) == 11_000.0
    assert _value(t, A, "NOx", 2002) == 10_500.0
    assert _value(t, A, "PM10", 2002) == 1_250.0
    assert set(t["pollutant"]) == {"NOx", "PM10"}
    # F = 1A3bi + 1A3bii; 2000 has ":" for 1A3bii, so F NOx 2000 is left out (no partial sum)
    assert _value(t, F, "NOx", 2001) == 170_000.0
    assert sorted(t[(t["sector"] == F) & (t["pollutant"] == "NOx")]["year"]) == [2001, 2002]
    assert t.attrs["missing_values"] == 1
    assert t.attrs["flags"] == {"e": 1, "p": 1}
    assert t.attrs["sector_codes"][F] == ["NFR1A3B1", "NFR1A3B2"]
    assert t.attrs["sectors_covered"] == [A, F]
    assert t.attrs["sectors_missing"] == [g for g in GNFR if g not in (A, F)]


def test_tsv_gzip_and_other_country(tmp_path):
    p = tmp_path / "env_air_emis.tsv.gz"
    p.write_bytes(gzip.compress(TSV_NFR.encode()))
    t = read_eurostat_air_emissions(p, country="BE", vintage="bulk 2023")
    assert t["value"].tolist() == [1000.0, 1000.0, 1000.0]
    assert set(t["series"]) == {"bulk 2023"}


def test_old_tsv_airsect_layout_uses_the_airsect_mapping(tmp_path):
    t = read_eurostat_air_emissions(_write(tmp_path, "env_air_emis.tsv", TSV_AIRSECT))
    # B_Industry = SE1_EUI + SE2_IP, in tonnes (unit T); TOT_NAT is no sector
    assert _value(t, B, "NOx", 2000) == 44.0
    assert _value(t, F, "NOx", 2001) == 100.0
    assert _value(t, "E_Solvents", "NOx", 2000) == 4.0
    assert t.attrs["shared_series"]["E_Solvents"] == ["SE2_IP"]


def test_sdmx_csv_layout(tmp_path):
    rows = [
        _sdmx_row("NOX", "NFR1A1A", 2000, 12),
        _sdmx_row("NOX", "NFR1A1A", 2001, 11, "e"),
        _sdmx_row("NOX", "NFR1A1A", 2002, ""),  # not available
        _sdmx_row("NOX", "NFR1A1A", 2001, 7, geo="BE"),
    ]
    t = read_eurostat_air_emissions(
        _write(tmp_path, "env_air_emis.csv", SDMX_HEADER + "".join(rows))
    )
    assert t.attrs["layout"] == "sdmx"
    assert t["year"].tolist() == [2000, 2001]
    assert t["value"].tolist() == [12_000.0, 11_000.0]
    assert t.attrs["flags"] == {"e": 1} and t.attrs["missing_values"] == 1


def test_three_layouts_give_the_same_table(tmp_path):
    """One series written in the TSV, SDMX-CSV and tidy layouts reads back identically."""
    data = {("NOX", "NFR1A3B"): [300.0, 250.5], ("PM2_5", "NFR1A3B"): [20.0, 19.0]}
    years = [2000, 2001]
    tsv = "unit,airpol,src_nfr,geo\\time\t2001 \t2000 \n" + "".join(
        f"T,{p},{c},FR\t{v[1]:g} \t{v[0]:g} \n" for (p, c), v in data.items()
    )
    sdmx = SDMX_HEADER + "".join(
        _sdmx_row(p, c, y, f"{x:g}", unit="T")
        for (p, c), v in data.items()
        for y, x in zip(years, v, strict=True)
    )
    tidy = TIDY_HEADER + "".join(
        _tidy_row("V", p, c, y, f"{x:g}")
        for (p, c), v in data.items()
        for y, x in zip(years, v, strict=True)
    )
    tables = [
        read_eurostat_air_emissions(_write(tmp_path, n, txt), vintage="V")
        for n, txt in (("a.tsv", tsv), ("b.csv", sdmx), ("c.csv", tidy))
    ]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0])
    assert _value(tables[0], F, "PM2.5", 2001) == 19.0
    assert _value(tables[0], F, "NOx", 2001) == 250.5


def test_tidy_extract_reads_one_vintage(tmp_path):
    rows = [_tidy_row("OLD", "NOX", c, 2000, v) for c, v in (("SE1_EUI", 40), ("SE2_IP", 4))]
    rows += [_tidy_row("NEW", "NOX", "NFR1A2A", 2000, 5, unit="THS_T")]
    p = _write(tmp_path, "trends.csv", TIDY_HEADER + "".join(rows))
    with pytest.raises(
        InputError, match=r"trends\.csv: holds 2 vintages.*\[inputs.trends\] vintage"
    ):
        read_eurostat_air_emissions(p)
    assert _value(read_eurostat_air_emissions(p, vintage="OLD"), B, "NOx", 2000) == 44.0
    new = read_eurostat_air_emissions(p, vintage="NEW")
    assert _value(new, B, "NOx", 2000) == 5000.0
    assert new.attrs["partial_sectors"][B][:3] == ["1A1b", "1A1c", "1A2b"]


# ---------------------------------------------------------------- NFR -> GNFR
def test_nfr_codes_in_both_spellings():
    assert gnfr_of_nfr("1A3bi") == gnfr_of_nfr("NFR1A3B1") == (F,)
    assert gnfr_of_nfr("NFR1A2G7") == (OFFROAD,) and gnfr_of_nfr("1A2gviii") == (B,)
    assert gnfr_of_nfr("NFR3B4G4") == gnfr_of_nfr("3B4giv") == (K,)
    assert gnfr_of_nfr("2D3i") == ("E_Solvents",) and gnfr_of_nfr("NFR2D3B") == (B,)
    assert gnfr_of_nfr("1A3di(ii)") == ("G_Shipping",)
    assert gnfr_of_nfr("NFR1A4") == ("C_OtherStationaryComb", "G_Shipping", OFFROAD)
    assert gnfr_of_nfr("NFR3") == (K, "L_AgriOther")
    assert gnfr_of_nfr("NFR_TOT_NAT") == GNFR
    assert gnfr_of_nfr("NFR1A_TRA") is None  # an Eurostat grouping of undocumented coverage
    assert gnfr_of_nfr("1A3di(i)") is None  # memo item (international maritime)
    assert set(NFR_TO_GNFR.values()) == set(GNFR)


def test_aggregation_never_counts_a_code_twice(tmp_path):
    """By hand: F = NFR1A3B (its parts NFR1A3B1/2 are in it), A = 1A1a, B shares NFR1A1
    (1A1a+1A1b+1A1c), I = 1A2gvii, K = 3B1a + 3B3 (partial); the total is no sector."""
    codes = {
        "NFR_TOT_NAT": 1000,
        "NFR1A3B": 300,
        "NFR1A3B1": 200,
        "NFR1A3B2": 60,
        "NFR1A1A": 70,
        "NFR1A1": 90,
        "NFR1A2G7": 15,
        "NFR3B1A": 8,
        "NFR3B3": 2,
    }
    text = "unit,airpol,src_nfr,geo\\time\t2000 \n" + "".join(
        f"T,NOX,{c},FR\t{v} \n" for c, v in codes.items()
    )
    t = read_eurostat_air_emissions(_write(tmp_path, "e.tsv", text))
    got = dict(zip(t["sector"], t["value"], strict=True))
    assert got == {A: 70.0, B: 90.0, F: 300.0, OFFROAD: 15.0, K: 10.0}
    assert t.attrs["sector_codes"][F] == ["NFR1A3B"]
    assert t.attrs["shared_series"] == {B: ["NFR1A1"]}
    assert "3B1b" in t.attrs["partial_sectors"][K] and F not in t.attrs["partial_sectors"]
    assert "NFR_TOT_NAT" in t.attrs["codes_set_aside"]
    # a user mapping that sums a code and its part is refused
    with pytest.raises(InputError, match=r"sector_mapping\.F_RoadTransport.*counted twice"):
        read_eurostat_air_emissions(
            _write(tmp_path, "e.tsv", text), sector_mapping={"F": ["NFR1A3B", "NFR1A3B1"]}
        )
    with pytest.raises(InputError, match="counted twice"):
        read_eurostat_air_emissions(
            _write(tmp_path, "e.tsv", text), sector_mapping={"M": ["NFR_TOT_NAT", "NFR1A1A"]}
        )
    # the user maps a sector; the others keep the default
    t2 = read_eurostat_air_emissions(
        _write(tmp_path, "e.tsv", text), sector_mapping={"F": ["NFR1A3B1", "NFR1A3B2"]}
    )
    assert _value(t2, F, "NOx", 2000) == 260.0 and _value(t2, A, "NOx", 2000) == 70.0


def test_unknown_code_needs_a_mapping_or_ignore(tmp_path, caplog):
    text = (
        "unit,airpol,src_nfr,geo\\time\t2001 \t2000 \n"
        "T,NOX,NFR1A_TRA,FR\t5 \t6 \n"
        "T,NOX,NFR1A1A,FR\t1 \t2 \n"
        "T,NOX,NFR3_MNR,FR\t7 \t8 \n"
    )
    p = _write(tmp_path, "e.tsv", text)
    with pytest.raises(InputError) as err:
        read_eurostat_air_emissions(p)
    msg = str(err.value)
    assert "e.tsv" in msg and "NFR1A_TRA" in msg and f"{KEY} sector_mapping" in msg
    assert "ignore_codes" in msg
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        t = read_eurostat_air_emissions(
            p, sector_mapping={"F": "NFR1A_TRA"}, ignore_codes=["NFR3_MNR"]
        )
    assert t.attrs["sectors_covered"] == [A, F]
    assert _value(t, F, "NOx", 2000) == 6.0
    assert "without one" in caplog.text and "L_AgriOther" in caplog.text


# ---------------------------------------------------------------- bad inputs
def test_a_vintage_asked_of_a_tidy_file_without_its_column_is_one_line(tmp_path):
    """Without the vintage column the rows of two vintages would be read as one series
    (their sector codes then look unmapped): the error names the column instead."""
    rows = [
        _tidy_row("NEW", "NOX", "NFR1A1A", 2000, 1),
        _tidy_row("OLD", "NOX", "SE1_EUI", 2000, 2),
    ]
    text = TIDY_HEADER.replace("source_id", "vintage_code") + "".join(rows)
    p = _write(tmp_path, "trends.csv", text)
    with pytest.raises(MissingVariableError) as info:
        read_eurostat_air_emissions(p, vintage="NEW")
    msg = str(info.value)
    assert "\n" not in msg and "trends.csv" in msg and "vintage = 'NEW'" in msg
    assert "('source_id',)" in msg and "'vintage_code'" in msg
    assert f"{KEY} columns.vintage" in msg
    # the option named there fixes it
    t = read_eurostat_air_emissions(p, vintage="NEW", columns={"vintage": "vintage_code"})
    assert t["sector"].tolist() == [A] and t.attrs["vintage"] == "NEW"
    # a file of one vintage without the column still reads without `vintage`
    one = _write(tmp_path, "one.csv", text.split("\n", 1)[0] + "\n" + rows[0])
    assert read_eurostat_air_emissions(one)["sector"].tolist() == [A]


def test_missing_column_names_file_field_and_key(tmp_path):
    p = _write(
        tmp_path, "trends.csv", "source_id,country,pollutant,year,value,unit\nV,FR,NOX,2000,1,t\n"
    )
    with pytest.raises(
        MissingVariableError,
        match=r"trends\.csv.*\['sector'\].*sector_code.*\[inputs\.trends\] columns\.sector",
    ):
        read_eurostat_air_emissions(p)
    # the columns option fixes it; an unknown key is refused
    p2 = _write(
        tmp_path,
        "t2.csv",
        "source_id,country,pollutant,nfr,year,value,unit\nV,FR,NOX,1A1a,2000,1,t\n",
    )
    t = read_eurostat_air_emissions(p2, columns={"sector": "nfr"})
    assert t["sector"].tolist() == [A]
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['secteur'\].*valid keys"):
        read_eurostat_air_emissions(p2, columns={"secteur": "nfr"})


def test_wrong_unit_names_file_field_and_key(tmp_path):
    text = "unit,airpol,src_nfr,geo\\time\t2000 \nKG_HAB,NOX,NFR1A1A,FR\t3 \n"
    with pytest.raises(
        UnitsError, match=r"e\.tsv, column 'unit': unit 'KG_HAB'.*\[inputs\.trends\] unit"
    ):
        read_eurostat_air_emissions(_write(tmp_path, "e.tsv", text))
    both = text + "T,NOX,NFR1A1A,FR\t4 \n"
    t = read_eurostat_air_emissions(_write(tmp_path, "e.tsv", both))  # T chosen among two
    assert t["value"].tolist() == [4.0]


def test_vintage_country_and_cell_errors(tmp_path):
    p = _write(tmp_path, "trends.csv", TIDY_HEADER + _tidy_row("V1", "NOX", "NFR1A1A", 2000, 1))
    with pytest.raises(
        InputError, match=r"trends\.csv: no vintage 'V9'.*\[inputs\.trends\] vintage.*\['V1'\]"
    ):
        read_eurostat_air_emissions(p, vintage="V9")
    with pytest.raises(InputError, match=r"no rows for country 'DE'.*\[inputs\.trends\] country"):
        read_eurostat_air_emissions(p, country="DE")
    bad = "unit,airpol,src_nfr,geo\\time\t2001 \t2000 \nT,NOX,NFR1A1A,FR\t5 \tn/a \n"
    with pytest.raises(
        InputError, match=r"e\.tsv, line 2, column '2000': value 'n/a '.*\[inputs\.trends\] path"
    ):
        read_eurostat_air_emissions(_write(tmp_path, "e.tsv", bad))
    with pytest.raises(InputError, match="file not found.*path"):
        read_eurostat_air_emissions(tmp_path / "absent.tsv")
    with pytest.raises(ConfigError, match="crs.*does not apply"):
        read_eurostat_air_emissions(p, crs="EPSG:2154")


# ---------------------------------------------------------------- splicing
def _series(values, years, series, sector=F, pollutant="NOx"):
    return pd.DataFrame(
        {"sector": sector, "pollutant": pollutant, "year": years, "value": values, "series": series}
    )


def test_splice_matches_a_hand_computation():
    """old 1990-1993 = 100, 90, 80, 70; new 1992-1994 = 44, 36, 30. Overlap 1992-1993:
    ratios 44/80 = 0.55 and 36/70 = 0.514285714...; mean 0.532142857...; so
    1990 -> 53.2142857..., 1991 -> 47.8928571...; new years unchanged."""
    old = _series([100.0, 90.0, 80.0, 70.0], range(1990, 1994), "v2016")
    new = _series([44.0, 36.0, 30.0], range(1992, 1995), "v2023")
    out = splice_vintages(old, new)
    k = (0.55 + 36.0 / 70.0) / 2.0
    np.testing.assert_allclose(out["value"], [100.0 * k, 90.0 * k, 44.0, 36.0, 30.0], rtol=1e-15)
    assert abs(out["value"].iloc[0] - 53.2142857142857) < 1e-9
    assert set(out["series"]) == {"v2023+v2016"}
    info = out.attrs["splice"]["pairs"][f"{F}/NOx"]
    assert info["overlap"] == [1992, 1993] and info["old_years"] == [1990, 1991]
    assert info["factor"] == pytest.approx(k, rel=1e-15)
    # the offset variant: mean difference (44-80 + 36-70)/2 = -35
    off = splice_vintages(old, new, method="offset")
    assert off["value"].tolist()[:2] == [65.0, 55.0]
    with pytest.raises(ConfigError, match="splice method 'mean'"):
        splice_vintages(old, new, method="mean")


def test_splice_keeps_unpaired_series_and_refuses_disjoint_ones():
    old = pd.concat(
        [
            _series([2.0, 2.0], [2000, 2001], "old"),
            _series([5.0, 4.0], [2000, 2001], "old", pollutant="SO2"),
        ]
    )
    new = _series([1.0, 1.0], [2001, 2002], "new")
    out = splice_vintages(old, new)
    so2 = out[out["pollutant"] == "SO2"]
    assert so2["value"].tolist() == [5.0, 4.0] and set(so2["series"]) == {"old"}
    assert out.attrs["splice"]["old_only"] == [f"{F}/SO2"]
    with pytest.raises(InputError, match=r"sector F_RoadTransport, pollutant NOx.*do not overlap"):
        splice_vintages(_series([1.0], [1990], "old"), _series([1.0], [2000], "new"))


years_values = st.integers(min_value=2, max_value=12).flatmap(
    lambda n: st.tuples(
        st.integers(1980, 2010),
        st.lists(st.floats(0.1, 1e6), min_size=n, max_size=n),
        st.integers(1, n - 1),
    )
)


@settings(max_examples=60, deadline=None)
@given(years_values)
def test_splicing_a_series_with_itself_returns_it(data):
    start, values, _ = data
    s = _series(values, range(start, start + len(values)), "v")
    out = splice_vintages(s, s.assign(series="w"))
    assert out["value"].tolist() == [float(v) for v in values]


@settings(max_examples=60, deadline=None)
@given(years_values, st.floats(1e-3, 1e3))
def test_scaling_the_old_vintage_leaves_the_splice_unchanged(data, k):
    start, values, cut = data
    years = list(range(start, start + len(values)))
    old = _series(values, years, "old")
    new = _series([v * 1.7 for v in values[cut - 1 :]], years[cut - 1 :], "new")
    a = splice_vintages(old, new)
    b = splice_vintages(old.assign(value=old["value"] * k), new)
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)


def test_reader_splices_a_vintage_of_another_file(tmp_path):
    """New vintage in a TSV (2000-2002, NFR codes), old one in the tidy extract (1998-2001,
    airsect codes): F_RoadTransport is spliced, 1998-1999 rescaled by the mean ratio."""
    new = _write(tmp_path, "env_air_emis.tsv", TSV_NFR)
    old_rows = [
        _tidy_row("SNAP2016", "NOX", "SE1_RD", y, v)
        for y, v in ((1998, 300e3), (1999, 250e3), (2000, 200e3), (2001, 150e3))
    ]
    old = _write(tmp_path, "old.csv", TIDY_HEADER + "".join(old_rows))
    t = read_eurostat_air_emissions(
        new,
        vintage="SNAP2023",
        splice_with="SNAP2016",
        splice_file=old,
        splice_sector_mapping={"F": "SE1_RD"},
    )
    f = series_of(t, F, "NOx")
    # new F NOx: 2001 170 kt, 2002 150 kt (2000 not available); overlap 2001 only: 170/150
    k = 170e3 / 150e3
    np.testing.assert_allclose(f.loc[[1998, 1999, 2000]], [300e3 * k, 250e3 * k, 200e3 * k])
    assert f.loc[2002] == 150e3
    by_pollutant = t[t["sector"] == F].groupby("pollutant")["series"].unique()
    assert by_pollutant.map(list).to_dict() == {"NOx": ["SNAP2023+SNAP2016"], "PM10": ["SNAP2023"]}
    assert t.attrs["splice"]["pairs"][f"{F}/NOx"]["old_years"] == [1998, 2000]
    with pytest.raises(InputError, match=r"no vintage 'SNAP2015'.*splice_with"):
        read_eurostat_air_emissions(new, splice_with="SNAP2015", splice_file=old)


def test_output_is_accepted_by_rebuild(tmp_path):
    """The reader's table drives rebuild: scale(y) = S(y) / S(ref) per sector."""
    from trajectoire.sample.synthetic import synthetic_inventory

    t = read_eurostat_air_emissions(_write(tmp_path, "env_air_emis.tsv", TSV_NFR))
    ref = synthetic_inventory(reference_year=2002, n_sources=0)
    out = rebuild(ref, t, [2001, 2002])
    scale = out["scale"].sel(year=2001)
    assert float(scale.sel(sector=F, pollutant="NOx")) == pytest.approx(170e3 / 150e3)
    assert float(scale.sel(sector=A, pollutant="PM10")) == pytest.approx(1.5 / 1.25)


# ---------------------------------------------------------------- the real extract
@pytest.mark.requires_shared
def test_real_france_extract_both_vintages_spliced(shared_data):
    """france_trends.csv as it is: the 2016 vintage (airsect) extended by the 2023 one
    (src_nfr groupings mapped by hand). PM10 of the 2023 vintage starts in 2000 (1990-1999 are
    ':' in the source): its 1990-1999 come from the 2016 vintage rescaled by the mean ratio
    2023/2016 over 2000-2013."""
    path = shared_data / "emission_trends" / "france_trends.csv"
    old = read_eurostat_air_emissions(path, vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2016")
    assert old.attrs["sectors_covered"] == list(GNFR)
    with pytest.raises(InputError, match="NFR1A_TRA.*sector_mapping"):
        read_eurostat_air_emissions(path, vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2023")
    mapping = {"F": "NFR1A_TRA", "K": "NFR3_AGR"}
    new = read_eurostat_air_emissions(
        path,
        vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2023",
        sector_mapping=mapping,
        ignore_codes=["NFR3_MNR"],
    )
    assert new.attrs["sectors_covered"] == [F, K]
    assert int(series_of(new, F, "PM10").index.min()) == 2000
    t = read_eurostat_air_emissions(
        path,
        vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2023",
        sector_mapping=mapping,
        ignore_codes=["NFR3_MNR"],
        splice_with="EUROSTAT_ENV_AIR_EMIS_SNAP2016",
    )
    pm = series_of(t, F, "PM10")
    x = series_of(old, F, "PM10")
    y = series_of(new, F, "PM10")
    k = float(np.mean(y.loc[2000:2013] / x.loc[2000:2013]))
    assert list(pm.index) == list(range(1990, 2021))
    np.testing.assert_allclose(pm.loc[1990:1999], x.loc[1990:1999] * k, rtol=1e-12)
    assert (pm.loc[2000:2020] == y.loc[2000:2020]).all()
    info = t.attrs["splice"]["pairs"][f"{F}/PM10"]
    assert info["overlap"] == [2000, 2013] and info["old_years"] == [1990, 1999]
    # pairs of the old vintage only (other sectors, SO2, PM2.5) stay as they were
    assert set(t.loc[t["sector"] == A, "series"]) == {"EUROSTAT_ENV_AIR_EMIS_SNAP2016"}
    assert t.attrs["sectors_covered"] == list(GNFR)


# ---------------------------------------------------------------- bad inputs named (probe B)
#: the old airsect layout of the shared extract: B_Industry = SE1_EUI + SE2_IP, E = SE2_IP
AIRSECT_ROWS = [
    _tidy_row("V", "NOX", c, y, v)
    for y in (2010, 2011, 2012, 2013)
    for c, v in (("SE1_EUI", 40), ("SE2_IP", 4), ("SE1_RD", 100))
]


def _airsect_file(tmp_path, rows=AIRSECT_ROWS):
    return _write(tmp_path, "tr.csv", TIDY_HEADER + "".join(rows))


@pytest.mark.parametrize("given", ["NOx", ["NOx"], {"NOX": 1}])
def test_pollutants_option_of_the_wrong_form_is_one_config_line(tmp_path, given):
    """``pollutants = "NOx"`` crashed with ``ValueError: dictionary update sequence...``."""
    with pytest.raises(ConfigError) as info:
        read_eurostat_air_emissions(_airsect_file(tmp_path), pollutants=given)
    msg = str(info.value)
    assert "\n" not in msg and "tr.csv" in msg and f"{KEY} pollutants = {given!r}" in msg
    assert 'e.g. pollutants = { NOX = "NOx"' in msg
    t = read_eurostat_air_emissions(_airsect_file(tmp_path), pollutants={"NOX": "NOx"})
    assert set(t["pollutant"]) == {"NOx"}


@pytest.mark.parametrize("value", ["4", "9999"])
def test_a_repeated_row_is_an_error_naming_its_lines(tmp_path, value):
    """A repeated (pollutant, sector, year) silently dropped that year of every GNFR sector
    summing the code (B_Industry and E_Solvents NOx 2012), then a gap was reported."""
    rows = [*AIRSECT_ROWS, _tidy_row("V", "NOX", "SE2_IP", 2012, value)]
    with pytest.raises(InputError) as info:
        read_eurostat_air_emissions(_airsect_file(tmp_path, rows))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("tr.csv (vintage V)")
    assert "NOX SE2_IP 2012 at lines 9, 14" in msg and f"{KEY} path" in msg


def test_one_unknown_airsect_code_is_named_alone_with_its_line(tmp_path):
    """One misspelt code listed every airsect group as having no GNFR mapping."""
    rows = list(AIRSECT_ROWS)
    rows[7] = rows[7].replace("SE2_IP", "SE2_IPX")  # line 9
    p = _airsect_file(tmp_path, rows)
    with pytest.raises(InputError) as info:
        read_eurostat_air_emissions(p)
    msg = str(info.value)
    assert "\n" not in msg and "['SE2_IPX']" in msg and "SE1_EUI" not in msg
    assert "'SE2_IPX' at line 9 (did you mean 'SE2_IP'?)" in msg
    assert f"{KEY} sector_mapping" in msg and f"{KEY} ignore_codes = ['SE2_IPX']" in msg
    # the keys it names settle it
    t = read_eurostat_air_emissions(p, ignore_codes=["SE2_IPX"])
    assert t.attrs["sector_codes"][B] == ["SE1_EUI", "SE2_IP"]


@pytest.mark.parametrize("code", ["NOx", "nox", " NOx "])
def test_a_pollutant_code_written_otherwise_is_named_with_its_line(tmp_path, code):
    """'NOx ' for 'NOX' was left out as a code not read (an info line) and surfaced as a gap
    of the trend series with no file or line."""
    rows = list(AIRSECT_ROWS)
    rows[7] = rows[7].replace(",NOX,", f",{code},")  # line 9
    with pytest.raises(InputError) as info:
        read_eurostat_air_emissions(_airsect_file(tmp_path, rows))
    msg = str(info.value)
    assert "\n" not in msg
    assert f"{code.strip()!r} (Eurostat's code 'NOX') at line 9" in msg
    assert f"{KEY} path" in msg and f"{KEY} pollutants" in msg


@pytest.mark.parametrize("cell", [":", "NA", ""])
def test_a_value_not_available_makes_a_gap_naming_file_line_and_key(tmp_path, cell):
    """A ':' (or NA, or empty) value left a gap whose error named no file, line or key."""
    rows = list(AIRSECT_ROWS)
    rows[7] = rows[7].replace(",2012,4,", f",2012,{cell},")  # SE2_IP 2012, line 9
    t = read_eurostat_air_emissions(_airsect_file(tmp_path, rows), what="tr.csv ([inputs] trends)")
    assert t.attrs["missing_lines"] == {f"{B}/NOx": {2012: [9]}, "E_Solvents/NOx": {2012: [9]}}
    with pytest.raises(InputError) as info:
        series_of(t, B, "NOx", what=t.attrs["what"])
    msg = str(info.value)
    assert msg.startswith("tr.csv ([inputs] trends): gap in the index series of sector B_Industry")
    assert "[2012] missing" in msg and "not available in the file at line(s) 9" in msg
    # through rebuild, as a run meets it: the file and key come from the table's attrs
    from trajectoire.sample.synthetic import synthetic_inventory

    ref = synthetic_inventory(sectors=[B], pollutants=["NOx"], reference_year=2013, n_sources=0)
    with pytest.raises(InputError, match=r"^tr\.csv \(\[inputs\] trends\): gap .*line\(s\) 9"):
        rebuild(ref, t, [2010])
    # a year with no row at all says so
    gone = [r for r in AIRSECT_ROWS if ",SE1_RD,,2011," not in r]
    t2 = read_eurostat_air_emissions(_airsect_file(tmp_path, gone))
    with pytest.raises(InputError, match=r"\[2011\] missing .*\(2011: no row in the table\)"):
        series_of(t2, F, "NOx")


@pytest.mark.parametrize("flag", ["zq", "zz"])
def test_an_unknown_flag_is_warned_with_its_line_and_counted(tmp_path, flag):
    """``4206 zz`` was read as 4206 and its flag stripped without a word."""
    rows = list(AIRSECT_ROWS)
    rows[7] = rows[7].replace(",2012,4,", f",2012,4 {flag},")
    with pytest.warns(
        UserWarning, match=rf"tr\.csv \(vintage V\): 1 value\(s\) with flags .*'4 {flag}' at line 9"
    ):
        t = read_eurostat_air_emissions(_airsect_file(tmp_path, rows))
    assert t.attrs["flags"] == {flag: 1} and _value(t, B, "NOx", 2012) == 44.0


def test_a_figure_not_available_in_tonnes_is_read_in_thousand_tonnes(tmp_path, caplog):
    """Eurostat's downloads give each figure in T and THS_T: where the T cell is ':' (not
    available) and the THS_T one holds a figure, that figure is read (it was thrown away
    with the T row's, leaving a gap); a figure in T still wins over THS_T's."""
    tsv = (
        "unit,airpol,src_nfr,geo\\time\t2002 \t2001 \t2000 \n"
        "THS_T,NOX,NFR1A1A,FR\t2.5\t3\t4 \n"
        "T,NOX,NFR1A1A,FR\t2500\t:\t4000 \n"
        "THS_T,NOX,NFR1A2A,FR\t:\t: z\t1\n"
        "T,NOX,NFR1A2A,FR\t:\t900\t1000\n"
    )
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        t = read_eurostat_air_emissions(_write(tmp_path, "mixed.tsv", tsv))
    assert _value(t, A, "NOx", 2001) == 3000.0  # the THS_T figure
    assert _value(t, A, "NOx", 2002) == 2500.0 and _value(t, A, "NOx", 2000) == 4000.0
    b = "B_Industry"
    assert _value(t, b, "NOx", 2001) == 900.0 and _value(t, b, "NOx", 2000) == 1000.0
    assert 2002 not in set(t[(t["sector"] == b) & (t["pollutant"] == "NOx")]["year"])
    assert "not available in T (':') read in another unit" in caplog.text
