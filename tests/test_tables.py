"""The CSV reading layer (:mod:`trajectoire.tables`) and the readers that go through it.

* round trips: one table written as UTF-8, UTF-8 with a byte-order mark and Windows-1252,
  with comma, semicolon and tab delimiters, with decimal commas (as a French spreadsheet
  saves it), gzip-compressed, reads back the same; explicit options override detection;
* every fault (missing, empty, header-only, undecodable, ragged, unclosed quote, UTF-16,
  damaged gzip) is one :class:`InputError` line naming the file and, where it applies, the
  line and the config key; :func:`numeric_column` shows the value, the line and the column;
* hypothesis feeds malformed tables (random bytes, ragged rows, text in numeric columns, empty
  files) to :func:`read_table` and :func:`numeric_column`: a frame or one-line InputError,
  never another exception;
* the readers (:func:`read_point_sources`, :func:`read_area_totals`, :func:`read_stations`,
  :func:`read_hourly`) read a French-spreadsheet CSV as the plain one, and name a
  ``"12.5 t"`` cell.
"""

from __future__ import annotations

import gzip
import inspect
import io
import logging

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajectoire import meteo as tm
from trajectoire.assess.stations import read_stations
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.inventory import read_area_totals, read_point_sources
from trajectoire.tables import (
    ENCODINGS,
    SEPARATORS,
    TableDialect,
    TableOptions,
    detect_dialect,
    dialect_defaults,
    numeric_column,
    read_table,
)

X0, Y0 = 700_000.0, 7_000_000.0

TABLE = pd.DataFrame(
    {
        "ville": ["Compiègne", "Lille Fives", "Saint-Étienne", "Dunkerque"],
        "x": [706400.5, 712800.0, 705400.25, 650000.0],
        "n": [1, 22, 333, 4],
        "valeur": [12.5, 0.125, -3.75, 1e-05],
    }
)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


def write_table(path, table=TABLE, *, encoding="utf-8", sep=",", decimal=".", gz=False):
    """`table` saved as a spreadsheet would: the given encoding, delimiter and decimal mark."""
    text = table.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    data = text.encode(encoding)
    if gz:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------- round trips
DIALECTS = [
    ("utf-8", ",", "."),
    ("utf-8-sig", ",", "."),
    ("cp1252", ",", "."),
    ("utf-8", ";", "."),
    ("utf-8", "\t", "."),
    ("utf-8-sig", ";", ","),
    ("cp1252", ";", ","),  # a French spreadsheet's "CSV (séparateur: point-virgule)"
    ("cp1252", "\t", ","),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(("encoding", "sep", "decimal"), DIALECTS)
def test_round_trip_in_every_dialect(tmp_path, caplog, encoding, sep, decimal, gz):
    path = write_table(
        tmp_path / ("t.csv.gz" if gz else "t.csv"),
        encoding=encoding,
        sep=sep,
        decimal=decimal,
        gz=gz,
    )
    with caplog.at_level(logging.DEBUG, logger="trajectoire"):
        out = read_table(path)
    assert out["ville"].tolist() == TABLE["ville"].tolist()
    for col in ("x", "n", "valeur"):
        np.testing.assert_array_equal(
            numeric_column(out, col, what="t"), TABLE[col].to_numpy(float)
        )
    assert out["n"].dtype == np.int64 and out["valeur"].dtype == np.float64
    assert detect_dialect(path.read_bytes() if not gz else gzip.decompress(path.read_bytes())) == (
        TableDialect(encoding, sep, decimal)
    )
    # the dialect is reported at debug level, with what was detected
    logged = [r.getMessage() for r in caplog.records if r.name == "trajectoire"]
    assert any(f"encoding {encoding}" in m and f"decimal {decimal!r}" in m for m in logged)
    assert any("sep detected" in m for m in logged)


def test_windows_1252_accents_read_right(tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes("ville;NOx\nCompiègne;1,5\nCréteil;2\n".encode("cp1252"))
    out = read_table(path)
    assert out["ville"].tolist() == ["Compiègne", "Créteil"]
    assert out["NOx"].tolist() == [1.5, 2.0]


def test_same_frame_as_pandas_on_a_plain_csv(tmp_path):
    """A well-formed comma/point UTF-8 file reads exactly as ``pd.read_csv`` reads it."""
    path = write_table(tmp_path / "t.csv")
    pd.testing.assert_frame_equal(read_table(path), pd.read_csv(path))
    pd.testing.assert_frame_equal(
        read_table(path, dtype={"ville": str}), pd.read_csv(path, dtype={"ville": str})
    )


def test_dataframe_and_file_objects(tmp_path):
    copy = read_table(TABLE)
    pd.testing.assert_frame_equal(copy, TABLE)
    assert copy is not TABLE
    text = TABLE.to_csv(index=False, sep=";", decimal=",")
    pd.testing.assert_frame_equal(read_table(io.StringIO(text)), TABLE)
    pd.testing.assert_frame_equal(read_table(io.BytesIO(text.encode("cp1252"))), TABLE)


def test_comment_lines_and_line_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("# source: somewhere\n# units: t yr-1\nid,v\na,1\nb,12.5 t\n")
    out = read_table(path, comment="#")
    assert out["id"].tolist() == ["a", "b"]
    with pytest.raises(InputError) as info:
        numeric_column(out, "v", what="c.csv")
    assert "'12.5 t' at line 5" in one_line(info.value)


# ---------------------------------------------------------------------- explicit options
def test_explicit_options_override_detection(tmp_path):
    path = write_table(tmp_path / "fr.csv", encoding="cp1252", sep=";", decimal=",")
    # told '.' decimals: '12,5' stays text, and numeric_column says why
    out = read_table(path, decimal=".")
    assert out["valeur"].tolist()[0] == "12,5"
    with pytest.raises(InputError, match=r"'12,5' at line 2.*decimal comma.*decimal=','"):
        numeric_column(out, "valeur", what="fr.csv")
    # told the wrong delimiter: the decimal commas make ragged rows, named
    with pytest.raises(InputError, match=r"line 2 has 3 fields but the header has 1"):
        read_table(path, sep=",", decimal=".")
    # told the wrong encoding: a clear error, not mojibake
    with pytest.raises(InputError, match=r"fr.csv: cannot be decoded as utf-8: byte .* line 2"):
        read_table(path, encoding="utf-8", what="fr.csv")
    # told the right one: the same as detected
    pd.testing.assert_frame_equal(
        read_table(path, encoding="cp1252", sep=";", decimal=","), read_table(path)
    )
    # latin-1 is accepted when told
    assert read_table(path, encoding="latin-1")["ville"][0] == "Compiègne"
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")
    with pytest.raises(InputError, match="must differ"):
        read_table(path, sep=";", decimal=";")


def test_keywords_of_the_old_signatures_and_a_misspelt_one(tmp_path):
    """read_table and detect_dialect take their keyword groups (TableOptions,
    DialectOptions) as **options: every keyword of the old signatures still reads the
    same, a keyword given as None falls back on the dialect_defaults block, and a misspelt
    one is a TypeError naming it."""
    path = tmp_path / "fr.csv"
    path.write_bytes("# note\nville;valeur\nCompiègne;12,5\n".encode("cp1252"))
    out = read_table(
        path,
        what="fr.csv",
        encoding="cp1252",
        sep=";",
        decimal=",",
        comment="#",
        dtype={"ville": str},
        config_key="[inputs] x",
        require_rows=True,
        expected="a town and a value",
    )
    assert out.to_dict("list") == {"ville": ["Compiègne"], "valeur": [12.5]}
    assert out.attrs["header_line"] == 2
    with dialect_defaults(sep=";", decimal=","):
        given_none = read_table(io.StringIO("a;b\n1,5;2\n"), sep=None, decimal=None)
    assert given_none["a"].tolist() == [1.5]
    with pytest.raises(InputError, match=r"^fr.csv: no data rows .*a town and a value"):
        read_table(
            io.StringIO("a;b\n"), what="fr.csv", require_rows=True, expected="a town and a value"
        )
    data = path.read_bytes()
    assert detect_dialect(data, encoding="cp1252", comment="#", what="fr.csv") == (
        TableDialect("cp1252", ";", ",")
    )
    with pytest.raises(
        TypeError,
        match=r"^read_table\(\) got an unexpected keyword argument 'delimiter'; "
        r"besides its named parameters it takes the keywords \['what', 'config_key', 'encoding'",
    ):
        read_table(path, delimiter=";")  # type: ignore[call-arg]
    with pytest.raises(
        TypeError,
        match=r"^detect_dialect\(\) .* 'decimals' \(did you mean 'decimal'\?\); .*DialectOptions$",
    ):
        detect_dialect(data, decimals=",")  # type: ignore[call-arg]
    # the signature shows the keywords (help, and the readers' keyword lists of io.formats)
    params = inspect.signature(read_table).parameters
    assert list(params) == [
        "source",
        "dtype",
        "require_rows",
        "expected",
        *TableOptions.__annotations__,
    ]
    assert all(params[k].default is None for k in TableOptions.__annotations__)
    assert set(TableOptions.__annotations__) == {
        "what",
        "config_key",
        "encoding",
        "sep",
        "decimal",
        "comment",
    }


def test_thousands_separators_are_not_guessed(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("id;v\na;1 234,5\nb;2,5\n")
    out = read_table(path)
    assert out["v"].tolist() == ["1 234,5", "2,5"]
    with pytest.raises(InputError, match=r"'1 234,5' at line 2"):
        numeric_column(out, "v", what="k.csv")
    path.write_text("id;v\na;1.234\nb;2,5\n")  # '.' and ',' both: '.' decimals, '2,5' flagged
    with pytest.raises(InputError, match=r"'2,5' at line 3.*decimal comma"):
        numeric_column(read_table(path), "v", what="k.csv")


# ---------------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("data", "parts"),
    [
        (b"", ["empty file", "header row"]),
        (b"\r\n\n  \n", ["empty file"]),
        (b"a,b\n", ["no data rows", "header only"]),
        (b"a,b\n1,2\n3,4,5\n", ["line 3 has 3 fields but the header has 2", "'3,4,5'"]),
        (b"a;b\n1;2\n\n3;4;5;6\n", ["line 4 has 4 fields", "semicolons"]),
        (b"a,b\n1,2,3\n4,5,6\n", ["line 2 has 3 fields but the header has 2"]),
        (b'a,b\n1,2\n3,"4\n5,6\n', ["quote opened at line 3 is never closed"]),
        (
            b"a,b\n\x81\x8d,2\n",
            [
                "cannot be decoded as UTF-8 or Windows-1252",
                "line 2",
                "(config [inputs.point_sources] encoding)",
            ],
        ),
        ("a,b\n1,2\n".encode("utf-16"), ["UTF-16", "CSV UTF-8"]),
        (b"a,b\n1,\x002\n", ["NUL byte at line 2"]),
        (b"\x1f\x8b\x08\x00garbage", ["not a readable gzip file"]),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "longer-row",
        "longer-row-after-blank",
        "every-row-longer",
        "unclosed-quote",
        "undecodable",
        "utf16",
        "nul",
        "bad-gzip",
    ],
)
def test_faults_are_one_line_naming_file_line_and_key(tmp_path, data, parts):
    path = tmp_path / "pts.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_table(path, config_key="[inputs] point_sources", require_rows=True)
    text = one_line(info.value)
    assert text.startswith(str(path))
    for part in parts:
        assert part in text
    if "CSV UTF-8" not in parts:  # the input, or the key of its table that fixes it
        assert "[inputs] point_sources" in text or "[inputs.point_sources] " in text


def test_missing_file_folder_and_header_only_allowed(tmp_path):
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "nope.csv", what="nope.csv", config_key="[inputs] stations")
    assert one_line(info.value).startswith("nope.csv: file not found")
    assert "path given by [inputs] stations" in str(info.value)
    with pytest.raises(InputError, match="is a folder"):
        read_table(tmp_path)
    (tmp_path / "h.csv").write_text("a,b\n")
    out = read_table(tmp_path / "h.csv")
    assert list(out.columns) == ["a", "b"] and out.empty


def test_repeated_column_names_are_one_line_naming_column_and_positions(tmp_path):
    """A wide population table whose header said pmun_2023 twice (pmun_2022 overwritten)
    read the first as 2023, and 2022 vanished: pandas renames the second 'pmun_2023.1'."""
    path = tmp_path / "pop.csv"
    path.write_text("insee;pmun_2021;pmun_2023;pmun_2023\n59350;1;2;3\n")
    with pytest.raises(InputError) as info:
        read_table(path, config_key="[inputs] zones")
    text = one_line(info.value)
    assert text == str(info.value)
    assert text.startswith(f"{path}: duplicated column name(s) in the header: ")
    assert "'pmun_2023' (columns 3 and 4)" in text
    assert "path given by [inputs] zones" in text
    path.write_text("a,b,a,c,b,a\n1,2,3,4,5,6\n")
    with pytest.raises(InputError, match=r"'a' \(columns 1, 3 and 6\), 'b' \(columns 2 and 5\)"):
        read_table(path)
    # blank names (trailing delimiters) are not names: read as pandas' 'Unnamed: k'
    path.write_text("a,b,,\n1,2,,\n")
    assert list(read_table(path).columns[:2]) == ["a", "b"]


# ---------------------------------------------------------------------- numeric_column
def test_numeric_column_shows_value_line_column_units_and_key():
    # 'n/a' is one of pandas' missing-value markers: an empty cell
    df = read_table(io.StringIO("id,height\nS1,80\nS2,12.5 t\nS3,n/a\n"))
    with pytest.raises(InputError) as info:
        numeric_column(
            df,
            "height",
            what="pts.csv",
            units="m",
            ids=df["id"].tolist(),
            config_key="[inputs] point_sources",
        )
    text = one_line(info.value)
    for part in (
        "pts.csv, column 'height'",
        "'12.5 t' at line 3 (S2)",
        "an empty cell at line 4 (S3)",
        "expected a number in m",
        "Write the number alone",
        "[inputs] point_sources",
    ):
        assert part in text
    # empty cells allowed: only the text is reported
    with pytest.raises(InputError) as info:
        numeric_column(df, "height", what="pts.csv", allow_nan=True)
    assert "'12.5 t' at line 3" in str(info.value) and "line 4" not in str(info.value)
    out = numeric_column(df.iloc[[0, 2]], "height", what="pts.csv", allow_nan=True)
    assert out.dtype == np.float64 and out[0] == 80.0 and np.isnan(out[1])


def test_numeric_column_infinite_labels_and_missing_column():
    df = pd.DataFrame({"v": [1.0, np.inf]}, index=["a", "b"])
    with pytest.raises(InputError, match=r"'v': not a number: inf at row 'b'.*Fix the table"):
        numeric_column(df, "v", what="frame", lines=False, allow_nan=True)
    with pytest.raises(MissingVariableError, match="missing column"):
        numeric_column(df, "w", what="frame")
    many = pd.DataFrame({"v": ["x"] * 12})
    with pytest.raises(InputError, match=r"12 values are not numbers: 'x' at line 2.*and 7 more"):
        numeric_column(many, "v", what="f.csv")
    assert (
        numeric_column(
            pd.DataFrame({"v": pd.array([1, None], "Int64")}), "v", what="f", allow_nan=True
        )[0]
        == 1.0
    )


# ---------------------------------------------------------------------- hypothesis
CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", "12.5 t", "n/a", "NA", "1,2", "12,5", " ", "inf", "-", "Compiègne", '"q;,"', '"', "é"]
    ),
    st.text(alphabet=st.characters(codec="cp1252", exclude_categories=("Cs",)), max_size=6),
)


@st.composite
def malformed_tables(draw):
    """Bytes of a CSV table that may be ragged, hold text in numeric columns, or be empty."""
    kind = draw(st.sampled_from(["bytes", "chars", "table", "table", "table"]))
    if kind == "bytes":
        data = draw(st.binary(max_size=200))
    elif kind == "chars":  # delimiters, quotes, line ends, digits and accents in any order
        text = draw(
            st.text(alphabet=st.sampled_from(list(',;\t"\n\r #abcé0123456789.-+eE')), max_size=60)
        )
        data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])))
    else:
        sep = draw(st.sampled_from([",", ";", "\t", "|"]))
        width = draw(st.integers(1, 4))
        header = [f"c{i}" for i in range(width)]
        rows = draw(
            st.lists(
                st.lists(CELLS, min_size=max(0, width - 1), max_size=width + 1),
                max_size=6,
            )
        )
        text = "\n".join(sep.join(r) for r in [header, *rows])
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
        data = text.encode(encoding, errors="replace")
    if draw(st.booleans()) and len(data) % 3 == 0:
        data = gzip.compress(data)
    return data


def attempt(fn, *args, **kwargs):
    """``(fn(...), None)``, or ``(None, the InputError)``: any other exception propagates."""
    try:
        return fn(*args, **kwargs), None
    except InputError as exc:
        return None, exc


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=malformed_tables(), require_rows=st.booleans())
def test_malformed_tables_give_a_frame_or_one_line(tmp_path, data, require_rows):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    frame, error = attempt(read_table, path, require_rows=require_rows, config_key="[inputs] x")
    if error is not None:
        assert str(path) in one_line(error)
        return
    assert isinstance(frame, pd.DataFrame)
    for column in frame.columns:
        for allow_nan in (False, True):
            out, error = attempt(numeric_column, frame, column, what="bad.csv", allow_nan=allow_nan)
            if error is not None:
                assert one_line(error).startswith(f"bad.csv, column {column!r}")
            else:
                assert out.dtype == np.float64 and out.shape == (len(frame),)
                assert allow_nan or np.isfinite(out).all()


@st.composite
def numeric_tables(draw):
    width = draw(st.integers(2, 4))
    n = draw(st.integers(1, 8))
    values = draw(
        st.lists(
            st.lists(
                st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), min_size=n, max_size=n
            ),
            min_size=width,
            max_size=width,
        )
    )
    return pd.DataFrame({f"col{i}": v for i, v in enumerate(values)})


@given(
    table=numeric_tables(),
    dialect=st.sampled_from(DIALECTS),
    gz=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_well_formed_tables_read_back_in_any_dialect(tmp_path, table, dialect, gz):
    encoding, sep, decimal = dialect
    path = write_table(
        tmp_path / "ok.csv", table, encoding=encoding, sep=sep, decimal=decimal, gz=gz
    )
    out = read_table(path, require_rows=True)
    assert list(out.columns) == list(table.columns)
    for col in table.columns:
        np.testing.assert_allclose(
            numeric_column(out, col, what="ok.csv"), table[col].to_numpy(), rtol=1e-15, atol=0
        )


def test_constants():
    assert ENCODINGS == ("utf-8-sig", "utf-8", "cp1252")
    assert SEPARATORS == (",", ";", "\t")


# ---------------------------------------------------------------------- through the readers
def french(df: pd.DataFrame, path):
    """`df` saved as a French spreadsheet saves CSV: ';', decimal commas, Windows-1252."""
    path.write_bytes(
        df.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n").encode("cp1252")
    )
    return path


POINTS = pd.DataFrame(
    {
        "source_id": ["S1", "S2"],
        "name": ["Usine de Compiègne", "Chaufferie Saint-Étienne"],
        "x": [X0 + 1050.5, X0 + 3020.25],
        "y": [Y0 + 950.5, Y0 + 3010.0],
        "sector": ["B_Industry", "C_OtherStationaryComb"],
        "height": [80.5, 40.0],
        "diameter": [3.25, 1.5],
        "temperature": [420.0, 380.5],
        "velocity": [12.5, 9.0],
        "start_year": [1975, 1990],
        "end_year": [2030, 2015],
        "NOx": [120.5, 30.0],
        "PM10": [8.0, 2.5],
    }
)


def test_point_sources_from_a_french_spreadsheet(tmp_path):
    plain = tmp_path / "plain.csv"
    POINTS.to_csv(plain, index=False)
    fr = french(POINTS, tmp_path / "fr.csv")
    a = read_point_sources(plain)
    b = read_point_sources(fr)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert b["source_name"].values.tolist() == POINTS["name"].tolist()


def test_point_sources_text_cell_names_value_column_line_and_source(tmp_path):
    bad = POINTS.assign(height=["80,5", "12,5 t"])  # text columns keep what was typed
    with pytest.raises(InputError) as info:
        read_point_sources(french(bad, tmp_path / "pts.csv"))
    text = one_line(info.value)
    for part in ("pts.csv", "column 'height'", "'12,5 t'", "line 3", "S2", "in m"):
        assert part in text
    bad = POINTS.astype({"NOx": object})
    bad.loc[0, "NOx"] = "12.5 t"
    bad.to_csv(tmp_path / "p2.csv", index=False)
    with pytest.raises(InputError, match=r"p2.csv, column 'NOx': not a number: '12.5 t' at line 2"):
        read_point_sources(tmp_path / "p2.csv")


def test_area_totals_from_a_french_spreadsheet(tmp_path):
    df = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2"],
            "sector": ["C", "J"],
            "pollutant": ["NOx", "PM10"],
            "emission": [5.25, 2.5],
        }
    )
    df.to_csv(tmp_path / "a.csv", index=False)
    pd.testing.assert_frame_equal(
        read_area_totals(tmp_path / "a.csv"), read_area_totals(french(df, tmp_path / "fr.csv"))
    )
    bad = df.assign(emission=["5,25", "12,5 t"])
    with pytest.raises(InputError) as info:
        read_area_totals(french(bad, tmp_path / "bad.csv"))
    text = one_line(info.value)
    for part in ("bad.csv", "column 'emission'", "'12,5 t' at line 3", "t yr-1"):
        assert part in text


def test_stations_from_a_french_spreadsheet(tmp_path):
    df = pd.DataFrame(
        {
            "station_id": ["FR11025", "007"],
            "name": ["Lille Fives", "Compiègne"],
            "x": [706400.5, 712800.0],
            "y": [7059000.0, 7067800.25],
        }
    )
    df.to_csv(tmp_path / "s.csv", index=False)
    plain = read_stations(tmp_path / "s.csv")
    fr = read_stations(french(df, tmp_path / "fr.csv"))
    pd.testing.assert_frame_equal(plain, fr)
    assert fr["station_id"].tolist() == ["FR11025", "007"]
    bad = df.assign(x=["706400,5", "12.5 t"])
    with pytest.raises(InputError) as info:
        read_stations(french(bad, tmp_path / "bad.csv"))
    text = one_line(info.value)
    for part in ("bad.csv", "column 'x'", "'12.5 t' at line 3", "station 007"):
        assert part in text
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match=r"e.csv: empty file; expected a CSV table.*station_id"):
        read_stations(tmp_path / "e.csv")


def hourly_frame(n=30):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-03-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%MZ"),
            "wind_speed": rng.uniform(0.2, 9.0, n).round(2),
            "wind_direction": rng.uniform(0, 359.9, n).round(1),
            "cloud_cover": rng.integers(0, 9, n),
            "temperature": rng.uniform(275, 295, n).round(2),
        }
    )


def test_hourly_meteorology_from_a_french_spreadsheet(tmp_path):
    frame = hourly_frame()
    frame.to_csv(tmp_path / "m.csv", index=False)
    a = tm.read_hourly(tmp_path / "m.csv")
    b = tm.read_hourly(french(frame, tmp_path / "fr.csv"))
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)
    bad = frame.assign(wind_speed=[f"{v:.2f}".replace(".", ",") for v in frame["wind_speed"]])
    bad.loc[4, "wind_speed"] = "12.5 t"
    with pytest.raises(InputError) as info:
        tm.read_hourly(french(bad, tmp_path / "bad.csv"))
    text = one_line(info.value)
    for part in ("bad.csv", "column 'wind_speed'", "'12.5 t' at line 6", "m s-1"):
        assert part in text
    (tmp_path / "h.csv").write_text("time,wind_speed,wind_direction,cloud_cover,temperature\n")
    with pytest.raises(InputError, match=r"h.csv: no data rows.*one row per hour"):
        tm.read_hourly(tmp_path / "h.csv")


def test_stack_register_of_a_run_names_its_config_key(tmp_path):
    from types import SimpleNamespace

    from trajectoire.batch.pipeline import _point_history
    from trajectoire.io.config import InputSpec

    path = tmp_path / "history.csv"
    reference = xr.Dataset(coords={"source": ["S1"]})
    french(
        pd.DataFrame(
            {"source_id": ["S1", "S9"], "year": [2003, 2003], "pollutant": "NOx", "emission": 1.5}
        ),
        path,
    )
    listed = {"S1", "S9"}  # S9 is a stack of the point sources the inventory did not keep
    spec = InputSpec.model_validate(str(path))
    config = SimpleNamespace(
        inputs=SimpleNamespace(point_source_history=spec),
        run=SimpleNamespace(first_year=2000, last_year=2010, reference_year=2003),
    )
    history = _point_history(config, reference, listed)
    assert history["source_id"].tolist() == ["S1"] and history["emission"].tolist() == [1.5]
    path.write_bytes(b"")
    with pytest.raises(InputError) as info:
        _point_history(config, reference, listed)
    assert one_line(info.value).endswith("path given by [inputs] point_source_history.")


def test_every_keyword_group_shows_in_its_functions_signature():
    """Each public function of the package that takes a keyword group (``**options:
    Unpack[Group]``, PEP 692) shows the group's keys in its signature (``with_options``), so
    that ``help()``, a notebook's call tips and ``io.formats`` see them as named parameters;
    a required key has no default."""
    import importlib
    import inspect
    import pkgutil

    import trajectoire

    grouped = []
    for info in pkgutil.walk_packages(trajectoire.__path__, "trajectoire."):
        if "._kernels" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            if function.__module__ != module.__name__:
                continue
            code = function.__code__
            if not code.co_flags & inspect.CO_VARKEYWORDS:
                continue
            star = 1 if code.co_flags & inspect.CO_VARARGS else 0
            kwargs = code.co_varnames[code.co_argcount + code.co_kwonlyargcount + star]
            if "Unpack[" not in str(function.__annotations__.get(kwargs, "")):
                continue
            grouped.append(function)
            kinds = [p.kind for p in inspect.signature(function).parameters.values()]
            assert inspect.Parameter.VAR_KEYWORD not in kinds, function.__qualname__
    assert len(grouped) >= 20  # readers, plots, maps, stacks, roads, fusion, profiles
    from trajectoire.dispersion import stack_footprints
    from trajectoire.io.netcdf import select_map

    x = inspect.signature(stack_footprints).parameters["x"]
    assert x.default is inspect.Parameter.empty and x.kind is x.KEYWORD_ONLY
    params = inspect.signature(select_map).parameters
    assert params["year"].default is inspect.Parameter.empty and params["sector"].default is None
    assert params["sector"].annotation == "str | None"  # NotRequired[...] is said by a default


def test_detect_dialect_given_a_path_or_text_says_it_takes_bytes(tmp_path):
    """A path given as a string was an AttributeError deep in the decoding."""
    from trajectoire.errors import InputError
    from trajectoire.tables import detect_dialect

    for wrong in (str(tmp_path / "a.csv"), tmp_path / "a.csv", "a;b\n1;2\n"):
        with pytest.raises(InputError, match=r"expected the file's content as bytes"):
            detect_dialect(wrong)
    assert detect_dialect(bytearray(b"a;b\n1,5;2\n")).sep == ";"


def test_choose_layer_one_rule_for_every_vector_reader(tmp_path):
    """The territories, zones, registers and stations readers choose their layer with one
    function (four copies before, the stations' without the list of layers)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from trajectoire.errors import InputError, MissingVariableError
    from trajectoire.tables import choose_layer, option_table

    path = tmp_path / "two.gpkg"
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 0)], crs="EPSG:2154")
    for name in ("stations", "sites"):
        frame.to_file(path, layer=name)
    assert choose_layer(path, "sites") == "sites"
    assert choose_layer(path, None, preferred=("nope", "sites")) == "sites"
    with pytest.raises(InputError, match=r"several layers \['stations', 'sites'\]") as info:
        choose_layer(path, None, config_key="[inputs] stations")
    assert 'set [inputs.stations] layer = "stations"' in str(info.value)
    with pytest.raises(MissingVariableError, match=r"no layer 'site' \(did you mean 'sites'\?\)"):
        choose_layer(path, "site", what="two.gpkg ([inputs] stations)")
    one = tmp_path / "one.gpkg"
    frame.to_file(one, layer="x")
    assert choose_layer(one, None) is None
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError, match=r"cannot be read as a vector file"):
        choose_layer(bad, None, config_key="[inputs] zones")
    assert option_table("[inputs] zones") == "[inputs.zones]"
    assert (
        option_table("[[inputs.anchors]] #1 area_emissions")
        == "[inputs.anchors.area_emissions] (anchor #1)"
    )


def test_a_decimal_comma_names_the_option_that_reads_it() -> None:
    """A value written with a decimal comma names the input's ``decimal`` option where the
    configuration names the file, the reader's keyword otherwise."""
    df = pd.DataFrame({"lon": ["3.1", "3,28"]})
    with pytest.raises(InputError) as info:
        numeric_column(df, "lon", what="stations.csv", config_key="[inputs] stations")
    assert 'set [inputs.stations] decimal = ","' in str(info.value)
    assert "'3,28' at line 3" in str(info.value)
    with pytest.raises(InputError, match="read the file with decimal=','"):
        numeric_column(df, "lon", what="stations.csv")
