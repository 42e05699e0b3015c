"""Eurostat ``env_air_emis`` national sector totals as GNFR trend indices, and vintage splicing.

Eurostat re-publishes, as dataset ``env_air_emis`` "Air pollutants by source sector (source:
EEA)", the national inventories that the EU Member States report under the CLRTAP and the
NEC Directive. :func:`read_eurostat_air_emissions` reads one country of it, in any of the
layouts it is found in, and turns it into the tidy trend table of
:mod:`trajectoire.trajectory.trends` (``sector, pollutant, year, value, series``) [t yr-1]:

* the tidy extract of ``shared/data/emission_trends/france_trends.csv`` (``source_id,
  classification, country, pollutant, sector_code, sector_label, year, value, unit, flag``);
* the bulk-download TSV ``env_air_emis.tsv(.gz)``: the first column packs the dimensions
  (``airpol,airsect,unit,geo\\time`` before 2017, ``unit,airpol,src_nfr,geo\\time`` or
  ``freq,airpol,src_nfr,unit,geo\\TIME_PERIOD`` since), then one column per year whose cells
  hold the value and its flags (``12345 e``), ``:`` where not available;
* the SDMX-CSV download (``DATAFLOW, LAST UPDATE, freq, airpol, src_nfr, unit, geo,
  TIME_PERIOD, OBS_VALUE, OBS_FLAG``).

Source sectors are mapped to GNFR: the old ``airsect`` groups with
:data:`EUROSTAT_AIRSECT_TO_GNFR`, the NFR codes (``src_nfr``: ``NFR1A3B1``..., or the NFR14
spelling ``1A3bi``) with :data:`NFR_TO_GNFR`. Inventories are recalculated every year, so a
file that holds several vintages is read one vintage at a time; :func:`splice_vintages` joins
an older vintage onto a newer one with the overlap method of IPCC (2006).

References
----------
Eurostat, dataset ``env_air_emis``, https://ec.europa.eu/eurostat/databrowser/view/env_air_emis
(metadata: https://ec.europa.eu/eurostat/cache/metadata/en/env_air_emis_esms.htm).
Eurostat, bulk download and SDMX-CSV formats: "Eurostat database - bulk download" and
"API - SDMX 2.1 data query" user guides, https://wikis.ec.europa.eu/display/EUROSTATHELP.
UNECE (2014). *Guidelines for reporting emissions and projections data under the Convention
on Long-range Transboundary Air Pollution*, ECE/EB.AIR/125; EMEP/CEIP, annexes to the 2014
reporting guidelines: Annex I (NFR14 reporting template, with the GNFR aggregation of each
NFR code) and Annex V (gridded emissions in GNFR),
https://www.ceip.at/ms/ceip_home1/ceip_home/reporting_instructions/annexes_to_guidelines/.
IPCC (2006). *2006 IPCC Guidelines for National Greenhouse Gas Inventories*, vol. 1, ch. 5,
§5.3.3.1 "Overlap", eq. 5.1.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trajectoire._validate import DATA_YEARS, did_you_mean, rows_preview
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    warn,
)
from trajectoire.sectors import GNFR
from trajectoire.tables import columns_option, read_table
from trajectoire.trajectory.trends import (
    aggregate_sectors,
    checked_sector_mapping,
    overlap_splice,
    series_of,
    validate_trends,
)
from trajectoire.units import UNIT_TABLE, conversion_factor

__all__ = [
    "EUROSTAT_AIRSECT_TO_GNFR",
    "EUROSTAT_COLUMNS",
    "EUROSTAT_FLAGS",
    "EUROSTAT_POLLUTANTS",
    "JUMP_FACTOR",
    "NATIONAL_TOTAL_CODES",
    "NFR_MEMO_ITEMS",
    "NFR_TO_GNFR",
    "gnfr_of_nfr",
    "read_eurostat_air_emissions",
    "splice_vintages",
]

log = logging.getLogger("trajectoire")

_CONFIG_KEY = "[inputs.trends]"

#: Default mapping of the old Eurostat ``airsect`` groups (``env_air_emis`` before 2017) to
#: GNFR: each GNFR sector takes the **sum** of the listed series sectors. A series sector may
#: serve several GNFR sectors (only ratios are used, so this double use is harmless). Labels:
#: SE1_EPD energy production and distribution, SE1_EUI energy use in industry, SE1_CIH
#: commercial, institutional and households, SE1_RD road transport, SE1_NRD non-road
#: transport, SE2_IP industrial processes and product use, SE4_AGR agriculture, SE6_WST
#: waste, SE7_OTH other.
EUROSTAT_AIRSECT_TO_GNFR: dict[str, tuple[str, ...]] = {
    "A_PublicPower": ("SE1_EPD",),
    "B_Industry": ("SE1_EUI", "SE2_IP"),
    "C_OtherStationaryComb": ("SE1_CIH",),
    "D_Fugitive": ("SE1_EPD",),
    "E_Solvents": ("SE2_IP",),
    "F_RoadTransport": ("SE1_RD",),
    "G_Shipping": ("SE1_NRD",),
    "H_Aviation": ("SE1_NRD",),
    "I_OffRoad": ("SE1_NRD",),
    "J_Waste": ("SE6_WST",),
    "K_AgriLivestock": ("SE4_AGR",),
    "L_AgriOther": ("SE4_AGR",),
    "M_Other": ("SE7_OTH",),
}

#: Eurostat pollutant codes to trajectoire pollutant ids (SOX is reported as SO2, NOX as NO2).
EUROSTAT_POLLUTANTS: dict[str, str] = {
    "NOX": "NOx",
    "SOX": "SO2",
    "PM10": "PM10",
    "PM2_5": "PM2.5",
    "NH3": "NH3",
    "NMVOC": "NMVOC",
}

#: Codes of the national total (all sectors): never summed with the sectors it contains.
NATIONAL_TOTAL_CODES: tuple[str, ...] = ("NFR_TOT_NAT", "TOT_NAT")

#: The NFR14 codes of each GNFR sector (the "GNFR" aggregation column of the NFR14 reporting
#: template, Annex I to the 2014 EMEP reporting guidelines ECE/EB.AIR/125; GNFR F1-F4 are
#: merged into F_RoadTransport). Memo items, outside the national total, are in
#: :data:`NFR_MEMO_ITEMS`.
_GNFR_NFR14: dict[str, tuple[str, ...]] = {
    "A_PublicPower": ("1A1a",),
    "B_Industry": (
        *"1A1b 1A1c 1A2a 1A2b 1A2c 1A2d 1A2e 1A2f 1A2gviii".split(),
        *"2A1 2A2 2A3 2A5a 2A5b 2A5c 2A6 2B1 2B2 2B3 2B5 2B6 2B7 2B10a 2B10b".split(),
        *"2C1 2C2 2C3 2C4 2C5 2C6 2C7a 2C7b 2C7c 2C7d 2D3b 2D3c".split(),
        *"2H1 2H2 2H3 2I 2J 2K 2L".split(),
    ),
    "C_OtherStationaryComb": ("1A4ai", "1A4bi", "1A4ci", "1A5a"),
    "D_Fugitive": tuple("1B1a 1B1b 1B1c 1B2ai 1B2aiv 1B2av 1B2b 1B2c 1B2d".split()),
    "E_Solvents": tuple("2D3a 2D3d 2D3e 2D3f 2D3g 2D3h 2D3i 2G".split()),
    "F_RoadTransport": tuple("1A3bi 1A3bii 1A3biii 1A3biv 1A3bv 1A3bvi 1A3bvii".split()),
    "G_Shipping": ("1A3di(ii)", "1A3dii", "1A4ciii"),
    "H_Aviation": ("1A3ai(i)", "1A3aii(i)"),
    "I_OffRoad": tuple("1A2gvii 1A3c 1A3ei 1A3eii 1A4aii 1A4bii 1A4cii 1A5b".split()),
    "J_Waste": tuple(
        "5A 5B1 5B2 5C1a 5C1bi 5C1bii 5C1biii 5C1biv 5C1bv 5C1bvi 5C2 5D1 5D2 5D3 5E".split()
    ),
    "K_AgriLivestock": tuple(
        "3B1a 3B1b 3B2 3B3 3B4a 3B4d 3B4e 3B4f 3B4gi 3B4gii 3B4giii 3B4giv 3B4h".split()
    ),
    "L_AgriOther": tuple("3Da1 3Da2a 3Da2b 3Da2c 3Da3 3Da4 3Db 3Dc 3Dd 3De 3Df 3F 3I".split()),
    "M_Other": ("6A",),
}

#: NFR14 code -> GNFR id, for every detailed code of the national total.
NFR_TO_GNFR: dict[str, str] = {c: g for g, codes in _GNFR_NFR14.items() for c in codes}

#: NFR14 memo items (international cruise aviation and maritime navigation, natural sources...):
#: outside the national total, set aside by the reader.
NFR_MEMO_ITEMS: tuple[str, ...] = (
    "1A3ai(ii)",
    "1A3aii(ii)",
    "1A3di(i)",
    "6B",
    "11A",
    "11B",
    "11C",
)

#: The canonical names :func:`read_eurostat_air_emissions` reads, and where each layout keeps
#: them (``columns=`` overrides them): tidy extract, TSV dimensions, SDMX-CSV columns.
EUROSTAT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "tidy": {
        "vintage": ("source_id",),
        "country": ("country",),
        "pollutant": ("pollutant",),
        "sector": ("sector_code",),
        "year": ("year",),
        "value": ("value",),
        "unit": ("unit",),
        "flag": ("flag",),
    },
    "tsv": {
        "country": ("geo",),
        "pollutant": ("airpol",),
        "sector": ("src_nfr", "airsect"),
        "unit": ("unit",),
        "freq": ("freq",),
    },
    "sdmx": {
        "country": ("geo",),
        "pollutant": ("airpol",),
        "sector": ("src_nfr", "airsect"),
        "year": ("TIME_PERIOD",),
        "value": ("OBS_VALUE",),
        "unit": ("unit",),
        "flag": ("OBS_FLAG",),
        "freq": ("freq",),
    },
}
_CANONICAL = ("vintage", "country", "pollutant", "sector", "year", "value", "unit", "flag", "freq")
_REQUIRED = ("pollutant", "sector", "year", "value")


#: Eurostat unit codes -> units of :data:`trajectoire.units.UNIT_TABLE` (annual totals)
_EUROSTAT_UNITS = {"T": "t yr-1", "THS_T": "kt yr-1"}

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}
_NFR14 = re.compile(
    r"(\d+)([A-Z])?(\d+)?([a-z])?(iv|ix|vi{0,3}|i{1,3}|\d+)?([a-z])?(?:\((iv|v|i{1,3})\))?"
)
_VALUE = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*")
#: the overlap ratio new/old is called steady while max/min stays below this factor
_STABLE_RATIO = 1.25
#: A year-to-year ratio of one national series (a pollutant of a sector code) beyond this
#: factor, up or down, is warned about: a value in kt among tonnes (x1000), or a slip of
#: digits. National sector totals move slowly: the largest step of the French series of
#: ``env_air_emis`` (vintages 2016 and 2023, 1990-2021) is SOX of road transport, /5.9 in
#: 2005 (the sulphur content of fuels cut by law); a factor 10 is well beyond it.
JUMP_FACTOR = 10.0
_MISSING = re.compile(r"\s*:\s*([A-Za-z]*)\s*")

#: The letters of Eurostat's observation flags (b break in time series, c confidential, d
#: definition differs, e estimated, f forecast, n not significant, p provisional, r revised,
#: s Eurostat estimate, u low reliability, z not applicable); others are warned about.
EUROSTAT_FLAGS = "bcdefnprsuz"


# --------------------------------------------------------------------------- NFR codes
def _levels(code: str) -> tuple[str, ...] | None:
    """The hierarchy levels of an NFR14 code (``"1A3bi"`` -> ``("1","A","3","B","1")``).

    Roman sub-levels are written as Arabic numbers and letters in upper case, the spelling of
    Eurostat's ``src_nfr`` codes (``NFR1A3B1``). None when `code` is not an NFR14 code.
    """
    m = _NFR14.fullmatch(code)
    if m is None:
        return None
    roman = (4, 6)  # the groups after a lower-case letter: roman sub-levels
    return tuple(
        str(_ROMAN.get(p, p) if i in roman else p).upper() for i, p in enumerate(m.groups()) if p
    )


def _build_nodes() -> dict[str, tuple[tuple[str, ...], frozenset[str], frozenset[str]]]:
    """Key -> (levels, GNFR sectors spanned, detailed codes below) for every NFR node."""
    spans: dict[tuple[str, ...], set[str]] = {}
    leaves: dict[tuple[str, ...], set[str]] = {}
    for code, gnfr in NFR_TO_GNFR.items():
        lv = _levels(code)
        assert lv is not None, code
        for k in range(1, len(lv) + 1):
            spans.setdefault(lv[:k], set()).add(gnfr)
            leaves.setdefault(lv[:k], set()).add(code)
    nodes: dict[str, tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = {}
    for lv, gnfrs in spans.items():
        key = "".join(lv)
        assert key not in nodes, key  # the flat spelling names one node only
        nodes[key] = (lv, frozenset(gnfrs), frozenset(leaves[lv]))
    return nodes


_NODES = _build_nodes()
_MEMO_KEYS = {"".join(lv) for c in NFR_MEMO_ITEMS if (lv := _levels(c)) is not None}


def _nfr_key(code: str) -> str:
    """The flat key of an NFR code in either spelling (``"NFR1A3B1"``, ``"1A3bi"``)."""
    s = code.strip()
    if s.upper().startswith("NFR"):
        s = s[3:]
    lv = _levels(s)
    return "".join(lv) if lv is not None else re.sub(r"[^0-9A-Z]", "", s.upper())


def gnfr_of_nfr(code: str) -> tuple[str, ...] | None:
    """The GNFR sectors an NFR code (detailed or aggregate) spans, or None if unknown.

    Parameters
    ----------
    code : str
        An NFR14 code (``"1A3bi"``, ``"3B1a"``, ``"1A3di(ii)"``), an Eurostat ``src_nfr`` code
        (``"NFR1A3B1"``, ``"NFR1A3B"``, ``"NFR3"``) or a national total
        (:data:`NATIONAL_TOTAL_CODES`, all 13 sectors).

    Returns
    -------
    tuple of str or None
        The GNFR ids, sorted; None for a code outside the NFR hierarchy (an Eurostat grouping
        such as ``NFR1A_TRA`` whose coverage is not documented) or a memo item.

    Examples
    --------
    >>> gnfr_of_nfr("NFR1A3B1"), gnfr_of_nfr("1A3bi")
    (('F_RoadTransport',), ('F_RoadTransport',))
    >>> gnfr_of_nfr("NFR1A1")
    ('A_PublicPower', 'B_Industry')
    """
    if code.strip().upper() in NATIONAL_TOTAL_CODES:
        return tuple(GNFR)
    node = _NODES.get(_nfr_key(code))
    return None if node is None else tuple(sorted(node[1]))


# --------------------------------------------------------------------------- layouts
def _head(path: Path) -> str:
    """The first line of `path` (gunzipped), for layout detection."""
    with path.open("rb") as fh:
        data = fh.read(65536)
    if data[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as gz:
            data = gz.read(65536)
    text = data.decode("utf-8-sig", errors="replace")
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _layout(first_line: str) -> str:
    """``"tsv"``, ``"sdmx"`` or ``"tidy"`` from the header line, ``""`` if none fits."""
    first_cell = first_line.split("\t", 1)[0]
    if "\\" in first_cell and "\t" in first_line:
        return "tsv"
    names = {c.strip().strip('"') for c in re.split(r"[,;\t]", first_line)}
    if {"OBS_VALUE", "TIME_PERIOD"} <= names:
        return "sdmx"
    return "tidy"


def _resolve_columns(
    layout: str,
    have: Sequence[str],
    columns: Mapping[str, str] | None,
    what: str,
    key: str,
    vintage: str | None = None,
) -> dict[str, str]:
    """Canonical name -> column of the table, from the layout defaults and `columns`.

    A `vintage` asked of a tidy table needs its vintage column: without it the rows of every
    vintage the file holds would be read as one series.
    """
    given = columns_option(columns, _CANONICAL, what=what, config_key=key)
    out: dict[str, str] = {}
    for name in _CANONICAL:
        if name in given:
            if given[name] not in have:
                raise MissingVariableError(
                    f"{what}: no column {given[name]!r} (given by {config_option(key, f'columns.{name}')}); "
                    f"the file has {list(have)}."
                )
            out[name] = given[name]
            continue
        for cand in EUROSTAT_COLUMNS[layout].get(name, ()):
            if cand in have:
                out[name] = cand
                break
    required = _REQUIRED if layout != "tsv" else ("pollutant", "sector")
    missing = [n for n in required if n not in out]
    if missing:
        expected = {n: EUROSTAT_COLUMNS[layout].get(n, (n,)) for n in missing}
        raise MissingVariableError(
            f"{what}: missing column(s) for {missing} ({layout} layout; expected "
            f"{expected}); found {list(have)}. Rename them, or set "
            f'{config_option(key, f"columns.{missing[0]}")} = "<your column>".'
        )
    if vintage is not None and layout == "tidy" and "vintage" not in out:
        raise MissingVariableError(
            f"{what}: {config_option(key, 'vintage')} = {vintage!r} is asked for, but the file has no vintage "
            f"column (tidy layout; expected {EUROSTAT_COLUMNS['tidy']['vintage']}); found "
            f'{list(have)}. Rename it, set {config_option(key, "columns.vintage")} = "<your column>", or '
            f"leave out {config_option(key, 'vintage')} if the file holds one vintage only."
        )
    return out


def _read_long(
    path: Path,
    columns: Mapping[str, str] | None,
    what: str,
    key: str,
    vintage: str | None = None,
) -> tuple[pd.DataFrame, str]:
    """The file as one long table of canonical columns (values still text), and its layout.

    Columns: the canonical names found, plus ``line`` (file line) and ``field`` (the file
    column the value comes from).
    """
    if not path.is_file():
        raise InputError(
            f"{what}: file not found (looked for {path.absolute()}); expected an Eurostat "
            f"env_air_emis file. Check the path given by {config_option(key, 'path')}."
        )
    layout = _layout(_head(path))
    if layout == "tsv":
        raw = read_table(
            path, what=what, sep="\t", decimal=".", dtype=str, config_key=key, require_rows=True
        )
        first = str(raw.columns[0])
        dims = [d.strip() for d in first.split("\\", 1)[0].split(",")]
        cols = _resolve_columns("tsv", dims, columns, what, key)
        parts = raw[first].astype(str).str.split(",", expand=True)
        if parts.shape[1] != len(dims):
            raise InputError(
                f"{what}, column {first!r}: rows hold {parts.shape[1]} comma-separated codes, "
                f"the header names {len(dims)} ({dims}); expected one code per dimension."
            )
        wide = raw.drop(columns=first)
        wide.columns = [str(c).strip() for c in wide.columns]
        bad = [c for c in wide.columns if not re.fullmatch(r"\d{4}", c)]
        odd = [
            c for c in wide.columns if c not in bad and not DATA_YEARS[0] <= int(c) <= DATA_YEARS[1]
        ]
        if odd:
            raise InputError(
                f"{what}, line 1: column(s) {odd[:5]} are not years of an emission series; "
                f"expected annual columns from {DATA_YEARS[0]} to {DATA_YEARS[1]}, such as '1990'. Fix "
                f"the header of the file given by {config_option(key, 'path')}."
            )
        if bad:
            raise InputError(
                f"{what}: column(s) {bad[:5]} are not years; expected annual columns such as "
                "'1990' (an annual env_air_emis download)."
            )
        wide["line"] = np.arange(len(wide)) + 2
        for i in range(len(dims)):
            wide[f"_dim_{i}"] = parts[i].str.strip().to_numpy()
        long = wide.melt(
            id_vars=["line", *[f"_dim_{i}" for i in range(len(dims))]],
            var_name="year",
            value_name="value",
        )
        long["field"] = long["year"]
        out = pd.DataFrame({"line": long["line"], "field": long["field"]})
        for name, col in cols.items():
            out[name] = long[f"_dim_{dims.index(col)}"].to_numpy()
        out["year"] = long["year"].astype(int).to_numpy()
        out["value"] = long["value"].to_numpy()
        return out, layout
    raw = read_table(path, what=what, dtype=str, config_key=key, require_rows=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    cols = _resolve_columns(layout, list(raw.columns), columns, what, key, vintage)
    out = pd.DataFrame({name: raw[col].to_numpy() for name, col in cols.items()})
    out["line"] = np.arange(len(raw)) + 2
    out["field"] = cols["value"]
    years = pd.to_numeric(out["year"].astype(str).str.strip(), errors="coerce")
    not_year = years.isna() | (years != np.round(years))
    if not_year.any():
        i = int(np.flatnonzero(not_year.to_numpy())[0])
        raise InputError(
            f"{what}, line {out['line'].iloc[i]}, column {cols['year']!r}: year "
            f"{out['year'].iloc[i]!r} is not a whole year; expected e.g. 1990."
        )
    out_of_range = (years < DATA_YEARS[0]) | (years > DATA_YEARS[1])
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range.to_numpy())[0])
        raise InputError(
            f"{what}, line {out['line'].iloc[i]}, column {cols['year']!r}: year "
            f"{out['year'].iloc[i]!r} is not a year of an emission series "
            f"({int(out_of_range.sum())} such row(s)); expected a four-digit year from "
            f"{DATA_YEARS[0]} to {DATA_YEARS[1]}, e.g. 1990. Fix the file given by {config_option(key, 'path')}."
        )
    out["year"] = years.astype(np.int64)
    out.attrs["decimal"] = raw.attrs.get("dialect", {}).get("decimal", ".")
    return out, layout


def _parse_values(
    table: pd.DataFrame, what: str, key: str, decimal: str = "."
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers [file units] and flags of the ``value`` cells; ``:`` (not available) is NaN.

    `decimal` is the decimal mark of the file (``[inputs.trends] decimal``, or detected):
    with ``","``, ``4206,5`` is 4206.5, and a point in a number (``4.206``: a thousands
    separator, or a decimal point?) is an error, never guessed.
    """
    text = table["value"].astype(object).where(table["value"].notna(), ":").astype(str)
    if decimal == ",":
        point = text.str.contains(".", regex=False).to_numpy()
        text = text.str.replace(",", ".", regex=False).where(~point, "?" + text)
    flags_col = (
        table["flag"].astype(object).where(table["flag"].notna(), "").astype(str)
        if "flag" in table.columns
        else pd.Series("", index=table.index)
    )
    values = np.full(len(text), np.nan)
    flags = np.empty(len(text), dtype=object)
    for i, (cell, extra) in enumerate(zip(text.to_numpy(), flags_col.to_numpy(), strict=True)):
        extra = str(extra).strip()
        if cell.strip() in ("", "nan"):
            flags[i] = extra
            continue
        m = _VALUE.fullmatch(cell)
        if m is not None:
            values[i] = float(m.group(1))
            flags[i] = m.group(2) + extra
            continue
        m = _MISSING.fullmatch(cell)
        if m is not None:
            flags[i] = m.group(1) + extra
            continue
        row = table.iloc[i]
        shown = str(table["value"].iloc[i])
        comma = (
            f', or set {config_option(key, "decimal")} = "," if the file writes decimals with a comma'
            if decimal != "," and re.fullmatch(r"\s*[+-]?\d*,\d+\s*[A-Za-z]*\s*", shown)
            else f' (the decimal mark is ",": {config_option(key, "decimal")} or detected; a point '
            "is no decimal mark there)"
            if decimal == "," and "." in shown
            else ""
        )
        raise InputError(
            f"{what}, line {row['line']}, column {row['field']!r}: value {shown!r} is not a "
            "number; expected a number, optionally followed by Eurostat flags (e.g. "
            "'12345 e'), or ':' for not available. Fix the file given by "
            f"{config_option(key, 'path')}{comma}."
        )
    return values, flags


def _refuse_negative(table: pd.DataFrame, values: np.ndarray, what: str, key: str) -> None:
    """One line for negative emission totals, named by file line and column (they used to
    be refused after the aggregation to GNFR, far from the file and without their line)."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(values < 0)
    if not bad.size:
        return
    shown = [
        f"{str(table['value'].iloc[i]).strip()!r} ({table['pollutant'].iloc[i]} "
        f"{table['sector'].iloc[i]} {table['year'].iloc[i]}) at line {table['line'].iloc[i]}"
        for i in bad[:4]
    ]
    more = f" (and {bad.size - 4} more)" if bad.size > 4 else ""
    raise InputError(
        f"{what}, column {table['field'].iloc[bad[0]]!r}: {bad.size} negative emission "
        f"total(s): {', '.join(shown)}{more}; expected a value >= 0 [t or kt], or ':' for "
        f"not available. Fix the file given by {config_option(key, 'path')}."
    )


def _known_flag(flag: str) -> bool:
    """Whether `flag` is empty or made of distinct letters of :data:`EUROSTAT_FLAGS`
    (``"e"``, ``"ep"``; not ``"zz"`` nor ``"x"``)."""
    letters = flag.lower()
    return set(letters) <= set(EUROSTAT_FLAGS) and len(set(letters)) == len(letters)


def _tonnes_factor(code: str, what: str, key: str) -> float:
    """Factor [t per file unit] of an Eurostat unit code (``T``, ``THS_T``) or unit string."""
    units = _EUROSTAT_UNITS.get(str(code).strip().upper())
    if units is None:
        try:
            return conversion_factor(code, "emission_rate", what=what)
        except UnitsError:
            raise UnitsError(
                f"{what}, column 'unit': unit {code!r} is not an annual mass; expected "
                f"{list(_EUROSTAT_UNITS)} (Eurostat codes) or one of "
                f"{list(UNIT_TABLE['emission_rate'])}. Keep the rows in tonnes (T) or "
                f"thousand tonnes (THS_T), or set {config_option(key, 'unit')} to the unit to read."
            ) from None
    return conversion_factor(units, "emission_rate", what=what)


# --------------------------------------------------------------------------- selection
def _select(
    long: pd.DataFrame,
    layout: str,
    *,
    path: Path,
    vintage: str | None,
    country: str,
    unit: str | None,
    what: str,
    key: str,
) -> tuple[pd.DataFrame, str]:
    """The rows of one vintage, country, frequency and unit; and the vintage's name."""
    if "vintage" in long.columns:
        vintages = sorted(long["vintage"].astype(str).unique())
        if vintage is None:
            if len(vintages) != 1:
                raise InputError(
                    f"{what}: holds {len(vintages)} vintages {vintages}; vintages must never "
                    f'be mixed in one series. Choose one with {config_option(key, "vintage")} = "..." (and '
                    'splice an older one onto it with splice_with = "...").'
                )
            vintage = vintages[0]
        if vintage not in vintages:
            raise InputError(
                f"{what}: no vintage {vintage!r} (given by {config_option(key, 'vintage')} or splice_with); "
                f"the file has {vintages}."
            )
        long = long[long["vintage"].astype(str) == vintage]
    elif vintage is None:
        vintage = path.stem.removesuffix(".tsv").removesuffix(".csv")
    if "freq" in long.columns:
        long = long[long["freq"].astype(str).str.strip().str.upper() == "A"]
    if "country" in long.columns:
        have = sorted(long["country"].astype(str).str.strip().unique())
        if country not in have:
            raise InputError(
                f"{what}: no rows for country {country!r}; the file has {have[:40]}. Set "
                f'{config_option(key, "country")} = "<code>" (Eurostat geo codes: FR, BE, DE...).'
            )
        others = long["country"].astype(str).str.strip() != country
        if others.any():
            log.info(
                "%s: %d row(s) of other countries %s left out; the country read is %r (%s).",
                what,
                int(others.sum()),
                [c for c in have if c != country][:10],
                country,
                config_option(key, "country"),
            )
        long = long[~others.to_numpy()]
    if "unit" in long.columns:
        codes = long["unit"].astype(str).str.strip()
        units = sorted(codes.unique())
        if unit is not None:
            chosen = unit
            if chosen not in units:
                raise UnitsError(
                    f"{what}, column 'unit': no rows in unit {chosen!r} (given by {config_option(key, 'unit')}); "
                    f"the file has {units}."
                )
        elif len(units) == 1:
            chosen = units[0]
        elif (tonnes := [u for u in units if u.upper() == "T"]) and len(tonnes) == 1:
            chosen = tonnes[0]  # the code as the file writes it ("T", or "t" in the extract)
        else:
            raise UnitsError(
                f"{what}, column 'unit': several units {units} for the same series; choose "
                f'one with {config_option(key, "unit")} = "{units[0]}".'
            )
        if unit is None and len(units) > 1:
            long = _rows_in_units(long, codes, chosen, vintage, what, key)
        else:
            if len(units) > 1:
                log.info(
                    "%s: %d rows in unit(s) %s left out; the unit read is %s.",
                    what,
                    int((codes != chosen).sum()),
                    [u for u in units if u != chosen],
                    chosen,
                )
            factor = _tonnes_factor(chosen, what, key)
            long = long[codes == chosen].assign(_factor=factor)
    elif unit is not None:
        long = long.assign(_factor=_tonnes_factor(unit, what, key))
    else:
        raise UnitsError(
            f"{what}: no unit column and no unit given; units are never guessed. Set "
            f'{config_option(key, "unit")} = "T" (tonnes) or "THS_T" (thousand tonnes).'
        )
    if long.empty:
        raise InputError(f"{what}: no annual rows left for vintage {vintage!r}, {country}.")
    return long, vintage


def _rows_in_units(
    long: pd.DataFrame, codes: pd.Series, chosen: str, vintage: str, what: str, key: str
) -> pd.DataFrame:
    """The rows of a file in several units, none chosen by the configuration: a (pollutant,
    sector, year) given in `chosen` (tonnes) is read in it, its rows in the other units left
    out (Eurostat's downloads repeat every figure in ``T`` and ``THS_T``); one given in
    another unit only is read in that unit, converted to tonnes (a file whose pollutants
    were kept in different units). Each row carries its factor to tonnes (``_factor``)."""
    keys = pd.MultiIndex.from_frame(long[["pollutant", "sector", "year"]].astype(str))
    is_chosen = (codes == chosen).to_numpy()
    given = _figure_given(long["value"])

    def among(rows: np.ndarray) -> np.ndarray:  # the rows whose key is one of `rows`'
        return np.asarray(keys.isin(keys[rows]))

    # a figure in `chosen` wins; a ':' in `chosen` (not available) gives way to a figure
    # of the same key in another unit (Eurostat's T row may be ':' where THS_T has one)
    chosen_figure = among(is_chosen & given)
    keep_chosen = is_chosen & (given | ~among(~is_chosen & given))
    keep_other = ~is_chosen & ~chosen_figure & (given | ~among(is_chosen))
    keep = keep_chosen | keep_other
    repeats = ~is_chosen & ~keep
    if repeats.any():
        log.info(
            "%s: %d row(s) in unit(s) %s repeat figures given in %s and are left out.",
            what,
            int(repeats.sum()),
            sorted(set(codes[repeats])),
            chosen,
        )
    hidden = is_chosen & ~keep
    if hidden.any():
        log.info(
            "%s: %d figure(s) not available in %s (':') read in another unit, e.g. %s at line %s.",
            what,
            int(hidden.sum()),
            chosen,
            " ".join(keys[np.flatnonzero(hidden)[0]]),
            long["line"].to_numpy()[hidden][0],
        )
    other = keep_other
    if other.any():
        log.info(
            "%s (vintage %s): %d row(s) given in unit(s) %s only (not in %s), converted to "
            "tonnes, e.g. %s at line %s.",
            what,
            vintage,
            int(other.sum()),
            sorted(set(codes[other])),
            chosen,
            " ".join(keys[np.flatnonzero(other)[0]]),
            long["line"].to_numpy()[other][0],
        )
    factors = {u: _tonnes_factor(u, what, key) for u in sorted(set(codes[keep]))}
    return long[keep].assign(_factor=codes[keep].map(factors).to_numpy(float))


def _figure_given(values: pd.Series) -> np.ndarray:
    """Whether each ``value`` cell holds a figure: not ``:`` (not available, with or without
    flags), empty or NA."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    missing = text.str.fullmatch(_MISSING.pattern) | text.isin(["", "nan", "NaN"])
    return ~missing.to_numpy(dtype=bool)


def _overlapping(codes: Sequence[str]) -> tuple[str, str] | None:
    """A pair of `codes` of which the first contains the second (national total, NFR parent)."""
    levels: dict[str, tuple[str, ...]] = {}
    for c in codes:
        if c.strip().upper() in NATIONAL_TOTAL_CODES:
            levels[c] = ()
        elif (node := _NODES.get(_nfr_key(c))) is not None:
            levels[c] = node[0]
    for a, la in levels.items():
        for b, lb in levels.items():
            if a != b and len(la) < len(lb) and lb[: len(la)] == la:
                return a, b
    return None


def _default_mapping(
    codes: Sequence[str],
    *,
    user: Mapping[str, Sequence[str]],
    ignore: set[str],
    vintage: str,
    what: str,
    key: str,
    lines_of: Mapping[str, Sequence[int]] | None = None,
) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    """GNFR -> file codes to sum, for the GNFR sectors the user does not map; and a report.

    For each GNFR sector: the codes that lie wholly in it (a code whose parent is also there is
    left out: the parent already holds it, so nothing is counted twice); failing those, the
    narrowest codes spanning it with other sectors (then a shared series). National totals
    are never used for a sector. A file of old ``airsect`` groups is told from an NFR one by
    its codes: airsect groups and no NFR code. `lines_of` (code -> file lines) places the
    codes of unknown coverage in the message.
    """
    used = {c for cs in user.values() for c in cs}
    airsect = {c for cs in EUROSTAT_AIRSECT_TO_GNFR.values() for c in cs}
    is_airsect = any(c in airsect for c in codes) and not any(
        _NODES.get(_nfr_key(c)) is not None for c in codes
    )
    report: dict[str, Any] = {"shared": {}, "partial": {}, "set_aside": []}

    def refuse(unknown: list[str], kind: str, known: Sequence[str]) -> None:
        where = "; ".join(
            f"{c!r} at {_lines_text(lines_of[c])}{did_you_mean(c, known)}"
            for c in unknown
            if lines_of and c in lines_of
        )
        raise InputError(
            f"{what} (vintage {vintage}): sector code(s) {unknown} have no default GNFR "
            f"mapping ({kind})" + (f": {where}" if where else "") + ". Fix the code, map "
            f'it: {config_option(key, "sector_mapping")} = {{ F_RoadTransport = ["{unknown[0]}"], ... }}, or '
            f"leave it out: {config_option(key, 'ignore_codes')} = {unknown}."
        )

    if is_airsect:
        odd = [
            c
            for c in codes
            if c not in airsect
            and c.strip().upper() not in NATIONAL_TOTAL_CODES
            and c not in used
            and c not in ignore
        ]
        if odd:
            refuse(odd, "not one of the old Eurostat airsect groups of the file", sorted(airsect))
        by_group = {  # the sectors whose groups are all in the file
            g: cs
            for g, cs in EUROSTAT_AIRSECT_TO_GNFR.items()
            if g not in user and all(c in codes for c in cs)
        }
        for g, cs in by_group.items():
            for c in cs:
                if sum(c in v for v in EUROSTAT_AIRSECT_TO_GNFR.values()) > 1:
                    report["shared"][g] = [*report["shared"].get(g, []), c]
        return by_group, report
    spans: dict[str, frozenset[str]] = {}
    unknown = []
    for c in codes:
        if c in used or c in ignore:
            continue
        if c.strip().upper() in NATIONAL_TOTAL_CODES:
            report["set_aside"].append(c)
            continue
        k = _nfr_key(c)
        if k in _MEMO_KEYS:
            report["set_aside"].append(c)
            continue
        node = _NODES.get(k)
        if node is None:
            unknown.append(c)
            continue
        spans[c] = node[1]
    if unknown:
        refuse(
            unknown,
            "their coverage is not documented: not an NFR14 code or parent of NFR_TO_GNFR",
            [],
        )
    mapping: dict[str, tuple[str, ...]] = {}
    for g in GNFR:
        if g in user:
            continue
        single = [c for c, s in spans.items() if s == {g}]
        chosen = single
        if not single:
            wider = [c for c, s in spans.items() if g in s]
            if not wider:
                continue
            narrowest = min(len(spans[c]) for c in wider)
            chosen = [c for c in wider if len(spans[c]) == narrowest]
            report["shared"][g] = sorted(chosen)
        while (pair := _overlapping(chosen)) is not None:
            chosen = [c for c in chosen if c != pair[1]]
        mapping[g] = tuple(sorted(chosen))
        if g not in report["shared"]:
            covered = set().union(*(_NODES[_nfr_key(c)][2] for c in chosen))
            missing = sorted(set(_GNFR_NFR14[g]) - covered)
            if missing:
                report["partial"][g] = missing
    return mapping, report


# --------------------------------------------------------------------------- one vintage
def _pollutant_option(pollutants: Any, what: str, key: str) -> dict[str, str]:
    """The `pollutants` option as a dict (Eurostat code -> trajectoire id), checked.

    A list or a single string (``"NOx"``) is no mapping: one :class:`ConfigError` naming the
    key, the value given and the form expected, instead of Python's ``dict()`` error.
    """
    if pollutants is None:
        return dict(EUROSTAT_POLLUTANTS)
    bad = not isinstance(pollutants, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in pollutants.items()
    )
    if bad:
        example = ", ".join(f'{c} = "{p}"' for c, p in list(EUROSTAT_POLLUTANTS.items())[:2])
        raise ConfigError(
            f"{what}: {config_option(key, 'pollutants')} = {pollutants!r} ({type(pollutants).__name__}); "
            "expected a table of Eurostat pollutant code -> trajectoire pollutant id, e.g. "
            f"pollutants = {{ {example} }} (only the codes it names are read; leave it out "
            f"to read {list(EUROSTAT_POLLUTANTS)})."
        )
    return dict(pollutants)


def _check_near_codes(
    long: pd.DataFrame, other: list[str], kept: list[str], vintage: Any, what: str, key: str
) -> None:
    """One line for pollutant codes that differ from a code read only by case or blanks
    (``NOx`` for ``NOX``): left out as codes not read, they used to surface as a gap in the
    trend series, far from the file."""
    fold = {k.upper().replace(" ", ""): k for k in kept}
    near = {
        c: fold[c.upper().replace(" ", "")] for c in other if c.upper().replace(" ", "") in fold
    }
    if not near:
        return
    rows = long[long["pollutant"].isin(list(near))]
    shown = [
        f"{p!r} (Eurostat's code {near[p]!r}) at line {ln}"
        for p, ln in zip(rows["pollutant"], rows["line"], strict=True)
    ]
    raise InputError(
        f"{what} (vintage {vintage}): pollutant code(s) written otherwise than the codes read: "
        f"{rows_preview(shown, 4)}; expected the codes exactly, as {sorted(kept)}. Fix the "
        f"file given by {config_option(key, 'path')}, or map the code in {config_option(key, 'pollutants')}."
    )


def _lines_text(lines: Any) -> str:
    """``line 624`` or ``lines 624, 1898`` (sorted, each once)."""
    ls = sorted({int(v) for v in lines})
    return f"line{'s' if len(ls) > 1 else ''} {rows_preview(ls, 6)}"


def _check_repeats(long: pd.DataFrame, vintage: str, what: str, key: str) -> None:
    """Refuse (pollutant, sector, year) read more than once: a repeated row would make every
    GNFR sector summing that code lose the year (its count of codes no longer matches)."""
    keys = ["pollutant", "sector", "year"]
    dup = long[long.duplicated(keys, keep=False)]
    if dup.empty:
        return
    found = [
        f"{p} {s} {y} at {_lines_text(g['line'])}" for (p, s, y), g in dup.groupby(keys, sort=True)
    ]
    raise InputError(
        f"{what} (vintage {vintage}): {len(found)} (pollutant, sector, year) given more than "
        f"once: {rows_preview(found, 4)}; expected one row each, even where the repeats agree "
        f"(a block pasted twice?). Delete the repeated line(s) of the file given by "
        f"{config_option(key, 'path')}."
    )


def _series_text(years: np.ndarray, values: np.ndarray, j: int) -> str:
    """The neighbouring years' values of position `j` of a series, for a message."""
    near = [f"{int(years[k])}: {values[k]:g}" for k in (j - 1, j + 1) if 0 <= k < len(years)]
    return f"({', '.join(near)})" if near else "(no other year)"


def _check_plausible(long: pd.DataFrame, vintage: str, what: str, key: str) -> None:
    """Warn about values of a national series (a pollutant of a sector code) that look like
    slips: a zero after the series has been non-zero (a sector that emitted does not stop
    at once; zeros before a first value are a source not yet reported, as NH3 of energy
    production in the 1990s, and are kept silent), and a year-to-year ratio beyond
    :data:`JUMP_FACTOR` either way (a value in kt among tonnes). Each is named with its
    line, sector, pollutant, year, value and the neighbouring years' values. The values
    are read as they are (they may be right)."""
    zeros: list[str] = []
    jumps: list[str] = []
    for (pol, code), g in long.groupby(["pollutant", "sector"], sort=True):
        g = g[np.isfinite(g["_value"].to_numpy())].sort_values("year")
        if len(g) < 2:
            continue
        years = g["year"].to_numpy()
        values = g["_value"].to_numpy(float)
        lines = g["line"].to_numpy()
        positive = values > 0
        if positive.any():
            after = np.arange(len(values)) > int(np.argmax(positive))
            for z in np.flatnonzero(after & (values == 0)).tolist():
                zeros.append(
                    f"{pol} {code} {int(years[z])} = 0 at line {lines[z]} "
                    f"{_series_text(years, values, z)}"
                )
        both = positive[:-1] & positive[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(both, values[1:] / np.where(both, values[:-1], 1.0), 1.0)
        flagged = (step > JUMP_FACTOR) | (step < 1.0 / JUMP_FACTOR)
        if not flagged.any():
            continue
        # a year out of line: every step to or from it is flagged (a spike, or an end
        # value); a level shift (one flagged step) names the year after it
        steps: dict[int, list[bool]] = {}
        for i in np.flatnonzero(both):
            steps.setdefault(int(i), []).append(bool(flagged[i]))
            steps.setdefault(int(i) + 1, []).append(bool(flagged[i]))
        shown = {j for j, f in steps.items() if len(f) > 1 and all(f)}
        for e, f in steps.items():  # an end year, unless its neighbour is the spike
            if len(f) == 1 and f[0] and not {e - 1, e + 1} & shown:
                shown.add(e)
        for k in np.flatnonzero(flagged).tolist():
            if k not in shown and k + 1 not in shown:
                shown.add(k + 1)
        for j in sorted(shown):
            jumps.append(
                f"{pol} {code} {int(years[j])} = {values[j]:g} at line {lines[j]} "
                f"{_series_text(years, values, j)}"
            )
    if zeros:
        warn(
            f"{what} (vintage {vintage}): {len(zeros)} zero(s) in a national series that "
            f"was not zero before: {rows_preview(zeros, 4)} [t]; a national sector total "
            "does not drop to nothing in one year (an empty or lost value?). Read as 0; "
            f"check those cells of the file given by {config_option(key, 'path')} (':' if not available).",
            stacklevel=4,
        )
    if jumps:
        warn(
            f"{what} (vintage {vintage}): {len(jumps)} value(s) more than {JUMP_FACTOR:g} "
            f"times above or below the year before or after: {rows_preview(jumps, 4)} [t]; "
            "national sector totals do not move so fast (a value in kt among tonnes, or "
            f"digits slipped?). Read as they are; check those cells of the file given by "
            f"{config_option(key, 'path')}.",
            stacklevel=4,
        )


def _check_zero_parts(
    long: pd.DataFrame,
    mapping: Mapping[str, Sequence[str]],
    pol: Mapping[str, str],
    vintage: str,
    what: str,
    key: str,
) -> None:
    """Warn about a code that is zero in every year for a pollutant while the other codes
    summed into the same GNFR sector are not: it adds nothing to the sector's index, which
    then follows the other codes only (a column of zeros written for a lost series?). An
    all-zero code alone in its sector (Eurostat's SE7_OTH) makes an all-zero series, which
    is refused where it is used as an index."""
    found: list[str] = []
    for g, cs in sorted(mapping.items()):
        if len(cs) < 2:
            continue
        part = long[long["sector"].isin(list(cs))]
        for p, rows in part.groupby("pollutant", sort=True):
            vals = rows.groupby("sector")["_value"].apply(
                lambda v: np.nanmax(np.abs(v.to_numpy(float))) if np.isfinite(v).any() else np.nan
            )
            zero = [str(c) for c, v in vals.items() if v == 0]
            if zero and (vals > 0).any():
                lines = rows.loc[rows["sector"].isin(zero), "line"]
                found.append(
                    f"{p} {', '.join(zero)} in {g}/{pol.get(str(p), p)} ({_lines_text(lines)})"
                )
    if found:
        warn(
            f"{what} (vintage {vintage}): code(s) zero in every year while the other codes "
            f"of their GNFR sector are not: {rows_preview(found, 4)}; the sector's index then "
            "follows the other codes only. Check those rows of the file given by "
            f"{config_option(key, 'path')}, or map the sector to the codes that hold values with "
            f"{config_option(key, 'sector_mapping')}.",
            stacklevel=4,
        )


def _read_vintage(
    path: Path,
    *,
    vintage: str | None,
    columns: Mapping[str, str] | None,
    unit: str | None,
    country: str,
    sector_mapping: Mapping[str, str | Sequence[str]] | None,
    pollutants: Mapping[str, str] | None,
    ignore_codes: Sequence[str] | None,
    what: str,
    key: str,
) -> pd.DataFrame:
    """One vintage of an Eurostat file as a validated GNFR trend table [t yr-1]."""
    pol = _pollutant_option(pollutants, what, key)
    long, layout = _read_long(path, columns, what, key, vintage)
    decimal = str(long.attrs.get("decimal", "."))
    long, vintage = _select(
        long,
        layout,
        path=path,
        vintage=vintage,
        country=country,
        unit=unit,
        what=what,
        key=key,
    )
    values, flags = _parse_values(long, what, key, decimal)
    _refuse_negative(long, values, what, key)
    long = long.assign(_value=values * long["_factor"].to_numpy(), _flag=flags)
    long["sector"] = long["sector"].astype(str).str.strip()
    long["pollutant"] = long["pollutant"].astype(str).str.strip()
    other = sorted(set(long["pollutant"]) - set(pol))
    _check_near_codes(long, other, list(pol), vintage, what, key)
    if other:
        log.info(
            "%s (%s): pollutant code(s) %s not read (not in the pollutants mapping).",
            what,
            vintage,
            other,
        )
    long = long[long["pollutant"].isin(list(pol))]
    _check_repeats(long, vintage, what, key)
    _check_plausible(long, vintage, what, key)
    flag_counts = {
        f: int(n) for f, n in pd.Series(long["_flag"]).value_counts().items() if str(f) != ""
    }
    odd = long[[not _known_flag(str(f)) for f in long["_flag"]]]
    if not odd.empty:
        shown = [
            f"{v.strip()!r} at line {ln}" for v, ln in zip(odd["value"], odd["line"], strict=True)
        ]
        warn(
            f"{what} (vintage {vintage}): {len(odd)} value(s) with flags that are not "
            f"Eurostat's ({rows_preview(shown, 4)}; expected letters of "
            f"{EUROSTAT_FLAGS!r}, see EUROSTAT_FLAGS): read as the number before them and "
            "counted in attrs['flags']. Check those cells of the file given by "
            f"{config_option(key, 'path')}.",
            stacklevel=4,
        )
    missing = int(np.isnan(long["_value"].to_numpy()).sum())
    if missing:
        log.info(
            "%s (%s): %d value(s) not available (':', empty or NA) left out, at %s; a "
            "sector-year is kept only where every code summed into it has a value.",
            what,
            vintage,
            missing,
            _lines_text(long.loc[np.isnan(long["_value"].to_numpy()), "line"]),
        )
    codes = sorted(long["sector"].unique())
    user = checked_sector_mapping(
        sector_mapping or {},
        codes,
        what=f"{what} (vintage {vintage})",
        key=config_option(key, "sector_mapping"),
    )
    for canon, cs_t in user.items():
        if (pair := _overlapping(cs_t)) is not None:
            raise InputError(
                f"{what} (vintage {vintage}): {config_option(key, f'sector_mapping.{canon}')} sums {pair[0]!r} "
                f"and {pair[1]!r}, but {pair[1]!r} is part of {pair[0]!r}: it would be "
                "counted twice. Keep the detailed codes or their total, not both."
            )
    lines_of = {str(c): g["line"].tolist() for c, g in long.groupby("sector", sort=False)}
    mapping, report = _default_mapping(
        codes,
        user=user,
        ignore=set(ignore_codes or ()),
        vintage=vintage,
        what=what,
        key=key,
        lines_of=lines_of,
    )
    mapping.update(user)
    _check_zero_parts(long, mapping, pol, vintage, what, key)
    table = pd.DataFrame(
        {
            "sector": long["sector"].to_numpy(),
            "pollutant": long["pollutant"].map(pol).to_numpy(),
            "year": long["year"].to_numpy(),
            "value": long["_value"].to_numpy(),
            "series": vintage,
        }
    )
    absent = long[~np.isfinite(long["_value"].to_numpy())]
    table = table[np.isfinite(table["value"].to_numpy())]
    out = aggregate_sectors(table, mapping, what=f"{what} ({vintage})")
    out = validate_trends(out, what=f"{what} ({vintage})")
    if out.empty:
        raise InputError(
            f"{what} (vintage {vintage}): no GNFR sector series; the sector codes are {codes} "
            "(national totals and ignored codes are no sector, and a sector-year needs a value "
            f"for every code summed into it). Map codes with {config_option(key, 'sector_mapping')}."
        )
    out.attrs.update(
        {
            "units": "t yr-1",
            "source": "Eurostat env_air_emis",
            "layout": layout,
            "country": country,
            "vintage": vintage,
            "sector_codes": {g: list(cs) for g, cs in sorted(mapping.items())},
            "shared_series": report["shared"],
            "partial_sectors": report["partial"],
            "codes_set_aside": sorted(report["set_aside"] + list(ignore_codes or ())),
            "flags": flag_counts,
            "missing_values": missing,
            "what": what,
            "missing_lines": _missing_lines(absent, mapping, pol),
        }
    )
    return out


def _missing_lines(
    absent: pd.DataFrame, mapping: Mapping[str, Sequence[str]], pol: Mapping[str, str]
) -> dict[str, dict[int, list[int]]]:
    """``"sector/pollutant"`` -> year -> file lines of the values not available (``:``,
    empty, ``NA``) that leave that GNFR sector-year out, for the message of a gap
    (:func:`trajectoire.trajectory.trends.series_of`)."""
    out: dict[str, dict[int, list[int]]] = {}
    for g, cs in mapping.items():
        sub = absent[absent["sector"].isin(list(cs))]
        for (p, y), rows in sub.groupby(["pollutant", "year"], sort=True):
            years = out.setdefault(f"{g}/{pol[str(p)]}", {})
            years[int(str(y))] = sorted({int(v) for v in rows["line"]})
    return out


def _set_coverage(out: pd.DataFrame, what: str) -> None:
    """Record and log which GNFR sectors have a series (the others need a fallback)."""
    covered = [g for g in GNFR if g in set(out["sector"])]
    absent = [g for g in GNFR if g not in covered]
    out.attrs["sectors_covered"] = covered
    out.attrs["sectors_missing"] = absent
    out.attrs["pairs"] = sorted(
        f"{s}/{p}" for s, p in out[["sector", "pollutant"]].drop_duplicates().itertuples(False)
    )
    shared = out.attrs.get("shared_series") or {}
    log.info(
        "%s: GNFR sectors with a series: %s; without one (give them another series or a "
        "fallback): %s%s.",
        what,
        covered,
        absent,
        f"; sharing a wider code: {shared}" if shared else "",
    )


# --------------------------------------------------------------------------- splicing
def splice_vintages(
    old: pd.DataFrame,
    new: pd.DataFrame,
    *,
    method: str = "ratio",
    overlap_years: Sequence[int] | None = None,
    what: str = "trend tables",
) -> pd.DataFrame:
    """Splice an older vintage of trend series onto a newer one (IPCC 2006 overlap method).

    For each (sector, pollutant) present in both tables, the years of the older vintage are
    rescaled to the level of the newer one over the years they share (:func:`overlap_splice`);
    the newer vintage's own values are kept as they are.

    Parameters
    ----------
    old, new : pandas.DataFrame
        Tidy trend tables (``sector, pollutant, year, value, series``), one series per
        (sector, pollutant) each: the older vintage and the newer one.
    method : {"ratio", "overlap", "offset"}, default "ratio"
        ``ratio`` (or its alias ``overlap``): multiply the old values by the mean ratio
        new/old over the overlap (IPCC 2006 vol. 1 eq. 5.1); ``offset``: add the mean
        difference.
    overlap_years : (int, int), optional
        First and last year of the overlap used; default every year both vintages have.
    what : str
        Name of the tables, for messages.

    Returns
    -------
    pandas.DataFrame
        Validated tidy table. Pairs in both vintages: series ``"<new>+<old>"`` over the union
        of their years. Pairs in one vintage only are kept unchanged under their own series
        name. ``attrs["splice"]``: ``method``, ``old`` and ``new`` names, ``pairs``
        (``"sector/pollutant"`` -> ``factor`` (ratio or offset [t yr-1]), ``overlap``
        ``[first, last]``, ``old_years`` ``[first, last]`` taken from the old vintage,
        ``ratio_range`` ``[min, max]`` of new/old over the overlap, to check its
        stability), ``old_only`` and ``new_only`` (lists of ``"sector/pollutant"``).

    Raises
    ------
    trajectoire.InputError
        A pair whose vintages do not overlap, an old value of zero in the overlap (ratio),
        or a table holding several series for one pair.
    trajectoire.ConfigError
        Unknown `method`.

    Notes
    -----
    Ratio method, overlap years :math:`m..n`, old series :math:`x`, new :math:`y`:
    :math:`y_0 = x_0 \\cdot \\frac{1}{n-m+1}\\sum_{i=m}^{n} y_i / x_i`. Multiplying the old
    vintage by a constant leaves the result unchanged; splicing a series with itself returns
    it.

    Examples
    --------
    >>> old = pd.DataFrame({"sector": "F", "pollutant": "NOx", "year": [2000, 2001, 2002],
    ...                     "value": [10.0, 8.0, 6.0], "series": "v2016"})
    >>> new = pd.DataFrame({"sector": "F", "pollutant": "NOx", "year": [2001, 2002, 2003],
    ...                     "value": [4.0, 3.0, 2.0], "series": "v2023"})
    >>> out = splice_vintages(old, new)
    >>> out["value"].tolist(), out["series"].iloc[0]
    ([5.0, 4.0, 3.0, 2.0], 'v2023+v2016')
    """
    variants = {"ratio": "ratio", "overlap": "ratio", "offset": "offset"}
    if method not in variants:
        raise ConfigError(
            f"splice method {method!r}; expected one of {list(variants)} "
            f'({_CONFIG_KEY} splice_method = "ratio").'
        )
    variant = variants[method]
    span = None if overlap_years is None else (int(overlap_years[0]), int(overlap_years[1]))
    o = validate_trends(old, what=f"{what} (old vintage)")
    n = validate_trends(new, what=f"{what} (new vintage)")
    pairs_o = set(o[["sector", "pollutant"]].itertuples(index=False, name=None))
    pairs_n = set(n[["sector", "pollutant"]].itertuples(index=False, name=None))
    parts = []
    info: dict[str, dict[str, Any]] = {}
    names: tuple[str, str] = ("", "")
    for sector, pol in sorted(pairs_o & pairs_n):
        x = series_of(o, sector, pol, what=f"{what} (old vintage)")
        y = series_of(n, sector, pol, what=f"{what} (new vintage)")
        name_o = str(o.loc[(o["sector"] == sector) & (o["pollutant"] == pol), "series"].iloc[0])
        name_n = str(n.loc[(n["sector"] == sector) & (n["pollutant"] == pol), "series"].iloc[0])
        names = (name_o, name_n)
        try:
            spliced, from_old = overlap_splice(x, y, variant=variant, overlap_years=span)
        except InputError as exc:
            raise InputError(f"{what}, sector {sector}, pollutant {pol}: {exc}") from None
        common = x.index.intersection(y.index)
        if span is not None:
            common = common[(common >= span[0]) & (common <= span[1])]
        xs, ys = x.loc[common].to_numpy(float), y.loc[common].to_numpy(float)
        ratio = ys / xs if variant == "ratio" else ys - xs
        old_years = [int(v) for v in from_old.index[from_old.to_numpy()]]
        info[f"{sector}/{pol}"] = {
            "factor": float(np.mean(ratio)),
            "overlap": [int(common.min()), int(common.max())],
            "old_years": [min(old_years), max(old_years)] if old_years else [],
            "ratio_range": [float(ratio.min()), float(ratio.max())],
        }
        spliced = spliced.dropna()
        parts.append(
            pd.DataFrame(
                {
                    "sector": sector,
                    "pollutant": pol,
                    "year": spliced.index.to_numpy(np.int64),
                    "value": spliced.to_numpy(float),
                    "series": f"{name_n}+{name_o}",
                }
            )
        )
    unstable = {
        k: v["ratio_range"]
        for k, v in info.items()
        if variant == "ratio" and v["ratio_range"][1] > _STABLE_RATIO * v["ratio_range"][0]
    }
    if unstable:
        log.warning(
            "%s: the ratio new/old varies by more than a factor %g over the overlap for %s; "
            "the overlap method assumes a steady ratio (IPCC 2006 vol. 1 5.3.3.1): check "
            "that both vintages cover the same sources.",
            what,
            _STABLE_RATIO,
            unstable,
        )
    only_o = sorted(pairs_o - pairs_n)
    only_n = sorted(pairs_n - pairs_o)
    for table, only in ((o, only_o), (n, only_n)):
        if only:
            keys = pd.MultiIndex.from_frame(table[["sector", "pollutant"]])
            parts.append(table[keys.isin(only)])
    if only_o or only_n:
        log.info(
            "%s: %d (sector, pollutant) pair(s) in the old vintage only and %d in the new one "
            "only are kept unspliced under their own series name.",
            what,
            len(only_o),
            len(only_n),
        )
    cols = ["sector", "pollutant", "year", "value", "series"]
    out = validate_trends(pd.concat([p[cols] for p in parts], ignore_index=True), what=what)
    out.attrs["splice"] = {
        "method": variant,
        "old": names[0] or (str(o["series"].iloc[0]) if len(o) else ""),
        "new": names[1] or (str(n["series"].iloc[0]) if len(n) else ""),
        "pairs": info,
        "old_only": [f"{s}/{p}" for s, p in only_o],
        "new_only": [f"{s}/{p}" for s, p in only_n],
    }
    return out


# --------------------------------------------------------------------------- reader
def read_eurostat_air_emissions(
    path: str | PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    unit: str | None = None,
    crs: str | None = None,
    what: str | None = None,
    config_key: str | None = None,
    vintage: str | None = None,
    country: str = "FR",
    sector_mapping: Mapping[str, str | Sequence[str]] | None = None,
    pollutants: Mapping[str, str] | None = None,
    ignore_codes: Sequence[str] | None = None,
    splice_with: str | None = None,
    splice_file: str | PathLike[str] | None = None,
    splice_sector_mapping: Mapping[str, str | Sequence[str]] | None = None,
    splice_method: str = "ratio",
) -> pd.DataFrame:
    """Read Eurostat ``env_air_emis`` national sector totals as GNFR trend series [t yr-1].

    The layout is detected from the header: the tidy extract of
    ``shared/data/emission_trends`` (``source_id, country, pollutant, sector_code, year,
    value, unit, flag``), the bulk-download TSV (first column ``airpol,airsect,unit,geo\\time``
    or ``freq,airpol,src_nfr,unit,geo\\TIME_PERIOD``, one column per year, cells such as
    ``12345 e``, ``:`` not available; plain or ``.gz``) or the SDMX-CSV download
    (``DATAFLOW, LAST UPDATE, freq, airpol, src_nfr, unit, geo, TIME_PERIOD, OBS_VALUE,
    OBS_FLAG``).

    Parameters
    ----------
    path : str or path-like
        The file.
    columns : mapping of str to str, optional
        Canonical name -> column (or TSV dimension) of the file, for files that differ from
        the layouts above. Keys: ``vintage, country, pollutant, sector, year, value, unit,
        flag, freq``.
    layer, crs : None
        Do not apply to a table; given, they are an error.
    unit : str, optional
        Unit code to read when the file holds several (only its rows are read), or the
        unit of a file without a ``unit`` column. ``T`` [t] and ``THS_T`` [kt] are converted
        to tonnes. Left unset with several units in the file, each (pollutant, sector,
        year) is read in ``T`` (any case) where the file gives it so, else in the unit it
        is given in, converted to tonnes (logged).
    what : str, optional
        Name of the input in messages (default: the file name).
    config_key : str, optional
        The configuration key naming this input (default ``"[inputs.trends]"``).
    vintage : str, optional
        Vintage to read (``source_id`` of the tidy extract, e.g.
        ``"EUROSTAT_ENV_AIR_EMIS_SNAP2023"``); required when the file holds several. For TSV
        and SDMX files (one vintage each) it names the series (default: the file name).
    country : str, default "FR"
        Eurostat ``geo`` code of the country read.
    sector_mapping : mapping, optional
        GNFR id -> file sector code(s), **summed**; replaces the default for the GNFR sectors
        it names. Defaults: :data:`EUROSTAT_AIRSECT_TO_GNFR` for the old ``airsect`` codes,
        :data:`NFR_TO_GNFR` (and its parents: ``NFR1A3B``, ``NFR3``...) for NFR codes.
    pollutants : mapping of str to str, optional
        Eurostat pollutant code -> trajectoire id (``{"NOX": "NOx"}``; in the configuration
        ``pollutants = { NOX = "NOx" }``); defaults to :data:`EUROSTAT_POLLUTANTS`. Other
        codes are left out (logged). A list or a string is a :class:`ConfigError`.
    ignore_codes : list of str, optional
        Sector codes to leave out (groupings of undocumented coverage, e.g. ``NFR3_MNR``).
    splice_with : str, optional
        An older vintage to splice onto `vintage` (:func:`splice_vintages`): from this file,
        or from `splice_file`.
    splice_file : str or path-like, optional
        The file holding the `splice_with` vintage (default: `path`).
    splice_sector_mapping : mapping, optional
        `sector_mapping` for the older vintage (its codes may differ).
    splice_method : {"ratio", "overlap", "offset"}, default "ratio"
        See :func:`splice_vintages`.

    Returns
    -------
    pandas.DataFrame
        Tidy table ``sector, pollutant, year, value, series`` [t yr-1, national totals],
        ``series`` = the vintage (``"<new>+<old>"`` for spliced pairs), accepted by
        :func:`~trajectoire.trajectory.backcast.rebuild`. ``attrs``: ``units``, ``layout``,
        ``country``, ``vintage``, ``sector_codes`` (GNFR -> codes summed),
        ``shared_series`` (GNFR -> codes of a wider grouping it shares with other sectors),
        ``partial_sectors`` (GNFR -> NFR14 codes of the sector missing from the file),
        ``codes_set_aside``, ``flags`` (flag -> count), ``missing_values`` (``:`` cells),
        ``missing_lines`` (``"sector/pollutant"`` -> year -> file lines of the values not
        available that leave the sector-year out), ``what`` (the file, for the messages of
        the trajectory),
        ``sectors_covered`` and ``sectors_missing`` (GNFR ids with and without a series),
        ``pairs``, and ``splice`` when spliced (see :func:`splice_vintages`).

    Raises
    ------
    trajectoire.InputError
        Missing file, a cell that is not a number, several vintages and none chosen, a
        vintage or country not in the file, a sector code of unknown coverage neither mapped
        nor ignored (each named with its lines), a mapping that would count a code twice, a
        (pollutant, sector, year) on several rows (even with the same value: the lines are
        named), a negative value or a year outside 1900-2100 (each named with its line).
    trajectoire.MissingVariableError
        A required column is missing.
    trajectoire.UnitsError
        A unit that is not an annual mass, several units and none chosen.
    trajectoire.ConfigError
        `layer` or `crs` given, unknown `columns` keys, unknown `splice_method`,
        `pollutants` that is not a mapping.

    Warns
    -----
    trajectoire.TrajectoireWarning
        A value whose flag letters are not Eurostat's (:data:`EUROSTAT_FLAGS`; the number is
        read, the flag counted).

    Notes
    -----
    Values flagged by Eurostat (``e`` estimated, ``p`` provisional...) are read as numbers;
    the flags are counted in ``attrs["flags"]``. A GNFR sector-year is kept only where every
    code summed into it has a value (``:``, an empty cell or ``NA`` is none: the gap this
    leaves is refused later with the lines, if the run needs that year). National totals (``NFR_TOT_NAT``, ``TOT_NAT``) and their
    parts are never summed together: totals are left out of the sectors, and a code whose
    NFR parent is also in the file is left out of the parent's sector.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tsv = pathlib.Path(tempfile.mkdtemp()) / "env_air_emis.tsv"
    >>> _ = tsv.write_text("unit,airpol,src_nfr,geo\\\\time\\t2001 \\t2000 \\n"
    ...                    "THS_T,NOX,NFR1A1A,FR\\t2.5 e\\t3 \\n")
    >>> t = read_eurostat_air_emissions(tsv)
    >>> t[["sector", "year", "value"]].values.tolist()
    [['A_PublicPower', 2000, 3000.0], ['A_PublicPower', 2001, 2500.0]]
    """
    p = Path(path)
    key = config_key or _CONFIG_KEY
    name = what or p.name
    for option, given in (("layer", layer), ("crs", crs)):
        if given is not None:
            raise ConfigError(
                f"{name}: {config_option(key, option)} = {given!r} does not apply to an Eurostat table; "
                "remove it."
            )

    def read(q: Path, vint: str | None, mapping: Any, label: str) -> pd.DataFrame:
        return _read_vintage(
            q,
            vintage=vint,
            columns=columns,
            unit=unit,
            country=country,
            sector_mapping=mapping,
            pollutants=pollutants,
            ignore_codes=ignore_codes,
            what=label,
            key=key,
        )

    new = read(p, vintage, sector_mapping, name)
    if splice_with is None:
        if splice_file is not None:
            raise ConfigError(
                f"{name}: {config_option(key, 'splice_file')} is given without splice_with; name the older "
                'vintage to splice: splice_with = "<vintage>".'
            )
        _set_coverage(new, name)
        return new
    q = p if splice_file is None else Path(splice_file)
    old = read(q, splice_with, splice_sector_mapping, q.name if splice_file else name)
    out = splice_vintages(old, new, method=splice_method, what=name)
    keep = {k: v for k, v in new.attrs.items() if k not in ("vintage",)}
    out.attrs = {**keep, **out.attrs, "vintage": new.attrs["vintage"], "old": dict(old.attrs)}
    _set_coverage(out, name)
    return out
