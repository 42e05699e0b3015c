"""Reader of the French industrial emissions register IREP into point sources.

IREP (*Registre des émissions polluantes*) is the public extract of the yearly declarations
of French industrial sites (GEREP), published by the Ministry of Ecological Transition on
Géorisques, *Installations industrielles rejetant des polluants*
(https://www.georisques.gouv.fr/donnees/bases-de-donnees/installations-industrielles-rejetant-des-polluants),
Licence Ouverte. Each yearly archive (``https://files.georisques.fr/irep/<year>.zip``) holds,
among others, two ``;``-separated tables:

* ``etablissements.csv``: one row per site: ``identifiant``, ``nom_etablissement``,
  ``numero_siret``, ``adresse``, ``code_postal``, ``commune``, ``departement``, ``region``,
  ``coordonnees_x``, ``coordonnees_y``, ``code_epsg``, ``code_ape``, ``libelle_ape``,
  ``code_eprtr``, ``libelle_eprtr`` (the names vary slightly between vintages, and in case:
  they are matched case-insensitively);
* ``emissions.csv``: one row per site, year, medium and substance: ``identifiant``,
  ``nom_etablissement``, ``annee_emission``, ``milieu`` (``Air``, ``Eau (direct)``,
  ``Eau (indirect)``, ``Sol``), ``polluant`` (French names), ``quantite``, ``unite``
  (``kg/an``); a quantity below the reporting threshold is written ``< seuil``.

The declared quantities are those of arrêté du 31 janvier 2008 (relatif au registre et à la
déclaration annuelle des émissions polluantes), annex II (list of substances and reporting
thresholds). :func:`read_irep` joins the two tables on the site id and returns a pandas
DataFrame in the point-source layout of ``docs/input-formats.md``, which
:func:`trajectoire.inventory.read_point_sources` and
:func:`trajectoire.inventory.build_inventory` accept as it is.

IREP has no stack parameters and no GNFR sector: the sector comes from the site's activity
(NAF/APE code, :data:`NAF_CLASSES`) and the stack from an *illustrative* table per activity
class (:data:`ACTIVITY_CLASSES`); both are documented below and overridable.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trajectoire._validate import rows_preview, values_at
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    warn,
)
from trajectoire.geo.grid import in_area_of_use, known_crs
from trajectoire.sectors import normalise_sector
from trajectoire.species import known_species, normalise_pollutant, not_modelled
from trajectoire.tables import (
    blank_cell,
    choose_layer,
    columns_option,
    id_text,
    numeric_column,
    read_table,
)
from trajectoire.units import UNIT_TABLE, conversion_factor

__all__ = [
    "ACTIVITY_CLASSES",
    "IREP_POLLUTANTS",
    "NAF_CLASSES",
    "SECTOR_CLASSES",
    "read_irep",
]

log = logging.getLogger(__name__)

#: IREP substance names (``polluant`` of ``emissions.csv``) -> trajectoire pollutant id, or
#: None for a substance read and deliberately not kept. Names are compared without case,
#: accents and blanks, so ``"Oxydes d'azote (NOx/ NO2)"`` matches ``"oxydes d'azote
#: (NOx/NO2)"``. The spellings are those of the Géorisques files and of arrêté du 31 janvier
#: 2008, annex II (older vintages). Total suspended particles (TSP) are *not* PM10 and are
#: not kept; carbon monoxide is not (yet) a trajectoire pollutant. Override or extend with the
#: `pollutants` option of :func:`read_irep`, e.g. ``{"Poussières totales (TSP)": "PM10"}``.
#: Any other IREP substance (CO2, metals, dioxins...) is left out and counted in the log,
#: unless its name looks like one of the pollutants above (then it is an error: map it).
IREP_POLLUTANTS: dict[str, str | None] = {
    "Oxydes d'azote (NOx - NO + NO2) (en eq. NO2)": "NOx",
    "Oxydes d'azote (NOx/NO2)": "NOx",
    "Oxydes d'azote (NOx)": "NOx",
    "Oxydes de soufre (SOx - SO2 + SO3) (en eq. SO2)": "SO2",
    "Oxydes de soufre (SOx/SO2)": "SO2",
    "Oxydes de soufre (SOx)": "SO2",
    "Dioxyde de soufre (SO2)": "SO2",
    "Ammoniac (NH3)": "NH3",
    "Composés organiques volatils non méthaniques (COVNM)": "NMVOC",
    "PM10": "PM10",
    "Particules PM10": "PM10",
    "PM2,5": "PM2.5",
    "PM2.5": "PM2.5",
    "Particules PM2,5": "PM2.5",
    "Poussières totales (TSP)": None,
    "Monoxyde de carbone (CO)": None,
}

#: Stack and sector of each activity class. The GNFR sector follows the EMEP/CEIP gridding
#: nomenclature (public electricity and heat in ``A_PublicPower``, refineries and
#: manufacturing in ``B_Industry``, gas supply in ``D_Fugitive``, waste and waste water in
#: ``J_Waste``). The stack parameters (``height`` [m], ``diameter`` [m], ``temperature`` [K],
#: ``velocity`` [m s-1]) are ILLUSTRATIVE orders of magnitude for one representative stack
#: per class, not measured values: IREP publishes none. Two floors come from French ICPE
#: rules: a chimney is at least 10 m high (e.g. arrêté du 30 juillet 2003, art. 24 II;
#: arrêté du 26 août 2013, art. 23 II) and combustion gases leave at 8 m s-1 or more (e.g.
#: arrêté du 4 mai 1992, art. 7); livestock and waste-water values are building vents, not
#: chimneys. Replace them with the site's real stacks (``stacks`` option) when known.
ACTIVITY_CLASSES: dict[str, dict[str, Any]] = {
    "power_plant": {
        "sector": "A_PublicPower",
        "height": 100.0,
        "diameter": 5.0,
        "temperature": 400.0,
        "velocity": 15.0,
    },
    "gas_supply": {
        "sector": "D_Fugitive",
        "height": 20.0,
        "diameter": 1.0,
        "temperature": 300.0,
        "velocity": 8.0,
    },
    "refinery": {
        "sector": "B_Industry",
        "height": 80.0,
        "diameter": 3.0,
        "temperature": 450.0,
        "velocity": 12.0,
    },
    "iron_steel": {
        "sector": "B_Industry",
        "height": 60.0,
        "diameter": 3.0,
        "temperature": 420.0,
        "velocity": 12.0,
    },
    "non_ferrous": {
        "sector": "B_Industry",
        "height": 40.0,
        "diameter": 2.0,
        "temperature": 400.0,
        "velocity": 10.0,
    },
    "minerals": {
        "sector": "B_Industry",
        "height": 50.0,
        "diameter": 2.5,
        "temperature": 420.0,
        "velocity": 12.0,
    },
    "chemicals": {
        "sector": "B_Industry",
        "height": 35.0,
        "diameter": 1.5,
        "temperature": 350.0,
        "velocity": 10.0,
    },
    "paper_wood": {
        "sector": "B_Industry",
        "height": 40.0,
        "diameter": 2.0,
        "temperature": 380.0,
        "velocity": 10.0,
    },
    "food": {
        "sector": "B_Industry",
        "height": 25.0,
        "diameter": 1.0,
        "temperature": 350.0,
        "velocity": 8.0,
    },
    "solvent_use": {
        "sector": "E_Solvents",
        "height": 15.0,
        "diameter": 0.8,
        "temperature": 300.0,
        "velocity": 8.0,
    },
    "other_industry": {
        "sector": "B_Industry",
        "height": 25.0,
        "diameter": 1.0,
        "temperature": 350.0,
        "velocity": 8.0,
    },
    "waste_treatment": {
        "sector": "J_Waste",
        "height": 40.0,
        "diameter": 1.5,
        "temperature": 400.0,
        "velocity": 10.0,
    },
    "waste_water": {
        "sector": "J_Waste",
        "height": 10.0,
        "diameter": 0.5,
        "temperature": 293.0,
        "velocity": 5.0,
    },
    "livestock": {
        "sector": "K_AgriLivestock",
        "height": 8.0,
        "diameter": 0.6,
        "temperature": 295.0,
        "velocity": 5.0,
    },
    "agriculture_other": {
        "sector": "L_AgriOther",
        "height": 8.0,
        "diameter": 0.6,
        "temperature": 295.0,
        "velocity": 5.0,
    },
}

#: NAF rév. 2 (APE) code prefixes (digits only: ``"35.11Z"`` is ``"3511Z"``) -> activity
#: class of :data:`ACTIVITY_CLASSES`; the longest matching prefix wins. INSEE, *Nomenclature
#: d'activités française NAF rév. 2* (2008). A code that matches none gives
#: ``other_industry``.
NAF_CLASSES: dict[str, str] = {
    "014": "livestock",
    "01": "agriculture_other",
    "06": "gas_supply",
    "091": "gas_supply",
    "10": "food",
    "11": "food",
    "12": "food",
    "16": "paper_wood",
    "17": "paper_wood",
    "18": "solvent_use",
    "19": "refinery",
    "20": "chemicals",
    "21": "chemicals",
    "22": "chemicals",
    "23": "minerals",
    "241": "iron_steel",
    "242": "iron_steel",
    "243": "iron_steel",
    "245": "iron_steel",
    "244": "non_ferrous",
    "2561": "solvent_use",
    "351": "power_plant",
    "352": "gas_supply",
    "353": "power_plant",
    "37": "waste_water",
    "38": "waste_treatment",
    "39": "waste_treatment",
    "495": "gas_supply",
    "9601": "solvent_use",
}

#: GNFR sector -> activity class whose stack a site without an activity code gets (the
#: `default_sector` option of :func:`read_irep`); sectors not listed use ``other_industry``.
SECTOR_CLASSES: dict[str, str] = {
    "A_PublicPower": "power_plant",
    "B_Industry": "other_industry",
    "D_Fugitive": "gas_supply",
    "E_Solvents": "solvent_use",
    "J_Waste": "waste_treatment",
    "K_AgriLivestock": "livestock",
    "L_AgriOther": "agriculture_other",
}

_STACK_FIELDS = ("height", "diameter", "temperature", "velocity")
_STACK_UNITS = {"height": "m", "diameter": "m", "temperature": "K", "velocity": "m s-1"}

#: The site-table layouts known, by name: canonical key -> column name in the file.
_SITE_LAYOUTS: dict[str, dict[str, str]] = {
    "geocoded": {
        "site_id": "irep_identifiant",
        "name": "nom_etablissement",
        "x": "x_l93",
        "y": "y_l93",
        "lon": "lon_geocoded",
        "lat": "lat_geocoded",
        "activity": "code_ape",
    },
    "official": {
        "site_id": "identifiant",
        "name": "nom_etablissement",
        "x": "coordonnees_x",
        "y": "coordonnees_y",
        "epsg": "code_epsg",
        "lon": "longitude",
        "lat": "latitude",
        "activity": "code_ape",
    },
}
#: The emission-table layouts known: canonical key -> column name in the file.
_EMISSION_LAYOUTS: dict[str, dict[str, str]] = {
    "official": {
        "emission_site_id": "identifiant",
        "year": "annee_emission",
        "medium": "milieu",
        "pollutant": "polluant",
        "value": "quantite",
        "unit": "unite",
    },
    "tidy": {
        "emission_site_id": "site_id",
        "year": "year",
        "medium": "medium",
        "pollutant": "pollutant",
        "value": "value",
        "unit": "unit",
    },
}
_COLUMN_KEYS = tuple(
    dict.fromkeys(
        [*_SITE_LAYOUTS["official"], *_SITE_LAYOUTS["geocoded"], *_EMISSION_LAYOUTS["official"]]
    )
)
#: Words that make an unmapped IREP substance name look like a trajectoire pollutant.
_LOOKS_KEPT = re.compile(
    r"\b(nox|sox|so2|nh3|pm ?10|pm ?2[.,]?5|covnm|nmvoc|ammoniac|oxydes? d.azote|oxydes? de soufre)\b"
)
#: The media of IREP rows not to air (``milieu``, or ``medium`` of a tidy table), compared by
#: :func:`_key` (no case, accents, blanks): left out. Any other medium but air is an error.
_MEDIA_NOT_AIR = frozenset(
    [
        "eau",
        "eau(direct)",
        "eau(indirect)",
        "sol",
        "water",
        "water(direct)",
        "water(indirect)",
        "soil",
    ]
)
_MEDIA_SHOWN = "'Eau (direct)', 'Eau (indirect)', 'Eau', 'Sol', 'water', 'soil'"
_BELOW_THRESHOLD = re.compile(r"^\s*<")
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
#: a number written with commas inside (``4,500``, ``1,234,567.5``, ``,5``)
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|,\d+)(?:[eE][+-]?\d+)?")
_POINT_DECIMAL = re.compile(r"[+-]?(?:\d*\.\d+|\d+\.)(?:[eE][+-]?\d+)?")


# ---------------------------------------------------------------------- small helpers
def _key(text: Any) -> str:
    """`text` without case, accents, blanks and typographic apostrophes (for matching)."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", "", s.replace("\u2019", "'")).casefold()


def _fold(text: Any) -> str:
    """`text` without case and accents, blanks kept (for the look-alike test)."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(s.replace("\u2019", "'").split()).casefold()


def _site_key(value: Any) -> str:
    """The join key of a site id: text, blanks and an integer's leading zeros removed.

    Géorisques writes ``0007000956``; extracts read as integers write ``7000956``, and as
    floats ``7000956.0``.
    """
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        value = int(value)
    s = str(value).strip()
    if re.fullmatch(r"\d+\.0*", s):  # an integer written as a float by a spreadsheet
        s = s.split(".", 1)[0]
    if s.isdigit():
        s = s.lstrip("0") or "0"
    return s


def _set(config_key: str | None, option: str, example: str, *, first: bool = False) -> str:
    """How to set an option, quoting the config key: ``set [inputs.x] year = 2021``."""
    return f"{'Set' if first else 'set'} {config_option(config_key, option)} = {example}"


def _lines(frame: pd.DataFrame, rows: Sequence[Any], lines: bool) -> list[str]:
    """File lines (``line 7``) of data-row labels `rows`, or ``row 5`` for a DataFrame."""
    header = int(frame.attrs.get("header_line", 1))
    return [f"line {int(r) + header + 1}" if lines else f"row {r}" for r in rows]


def _without_year(
    frame: pd.DataFrame, yv: np.ndarray, cols: Mapping[str, str], name: str, lines: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """The air rows with a year, and their years: a row whose year cell is empty belongs to
    no year (it was dropped without a word when a year was chosen, and taken as the file's
    year when none was): left out, and said with its lines and sites."""
    blank = ~np.isfinite(yv)
    if not blank.any():
        return frame, yv
    rows = list(frame.index[blank])
    sites = sorted({str(v) for v in frame.loc[blank, cols["emission_site_id"]]})
    warn(
        f"{name}, column {cols['year']!r}: {len(rows)} air emission row(s) without a year, at "
        f"{rows_preview(_lines(frame, rows, lines), 4)} (site(s) {rows_preview(sites, 5)}): "
        "left out, as they are of no year. Fill their year in the file to keep them.",
        stacklevel=4,
    )
    return frame.loc[~blank], yv[~blank]


def _numbers(frame: pd.DataFrame, column: str, **kw: Any) -> np.ndarray:
    """:func:`numeric_column` of a column read as text, its decimal commas read first.

    The tables are read as text (so that ids keep their leading zeros). The decimal mark
    given for the file (``decimal``) is obeyed. Otherwise, in a ``;`` or tab-delimited file
    (or a DataFrame), a column whose numbers are written ``12,5`` (and none ``12.5``) is
    read with a decimal comma; in a comma-delimited file a comma inside a number (a quoted
    ``"4,500"``) is ambiguous, a thousands separator or a decimal comma, and is an error
    (thousands separators are never guessed).
    """
    raw = frame[column]
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        cells = [str(c).strip() if isinstance(c, str) else c for c in raw]
        text = [c for c in cells if isinstance(c, str)]
        dialect = frame.attrs.get("dialect") or {}
        if dialect.get("decimal_given"):
            comma = dialect.get("decimal") == ","
        elif dialect.get("sep") == ",":
            _refuse_commas(frame, column, cells, kw)
            comma = False
        else:
            comma = any(_COMMA_DECIMAL.fullmatch(c) for c in text) and not any(
                _POINT_DECIMAL.fullmatch(c) for c in text
            )
        if comma:
            frame = frame.copy()
            frame[column] = [
                c.replace(",", ".") if isinstance(c, str) and _COMMA_DECIMAL.fullmatch(c) else c
                for c in cells
            ]
    return numeric_column(frame, column, **kw)


def _refuse_commas(frame: pd.DataFrame, column: str, cells: Sequence[Any], kw: Any) -> None:
    """One error for the numbers of a comma-delimited file written with a comma inside."""
    bad = [
        i
        for i, c in enumerate(cells)
        if isinstance(c, str) and "," in c and _COMMA_NUMBER.fullmatch(c)
    ]
    if not bad:
        return
    where = _lines(frame, [frame.index[i] for i in bad], kw.get("lines", True))
    found = [f"{cells[i]!r} at {w}" for i, w in zip(bad, where, strict=True)]
    example = str(cells[bad[0]])
    config_key = kw.get("config_key")
    raise InputError(
        f"{kw['what']}, column {column!r}: {rows_preview(found, 4)}: a comma inside a number "
        "of a comma-delimited file is ambiguous, a thousands separator "
        f"({example.replace(',', '')}) or a decimal comma ({example.replace(',', '.')}); "
        "neither is guessed. Write the number without it, or with a decimal point, in the "
        "file"
        + (f" given by {config_key}" if config_key else "")
        + " (or save it with ';' delimiters and set decimal = \",\" if its commas are "
        "decimal marks)."
    )


def _find(frame: pd.DataFrame, column: str) -> str | None:
    """The column of `frame` named `column`, matched without case and blanks at the ends."""
    wanted = column.strip().casefold()
    for c in frame.columns:
        if str(c).strip().casefold() == wanted:
            return str(c)
    return None


def _resolve(
    frame: pd.DataFrame,
    layout: Mapping[str, str],
    columns: Mapping[str, str],
    keys: Sequence[str],
    name: str,
    config_key: str | None,
) -> dict[str, str]:
    """Canonical key -> actual column of `frame`, for the `keys` found (or given)."""
    out: dict[str, str] = {}
    for k in keys:
        if k in columns:
            col = _find(frame, columns[k])
            if col is None:
                raise MissingVariableError(
                    f"{name}: no column {columns[k]!r} (given as columns.{k}); found "
                    f"{[str(c) for c in frame.columns]}. Fix the name: "
                    + _set(config_key, f"columns.{k}", '"<your column>"')
                    + "."
                )
            out[k] = col
        elif k in layout:
            col = _find(frame, layout[k])
            if col is not None:
                out[k] = col
    return out


def _read_any(source: Any, name: str, layer: str | None, config_key: str | None) -> pd.DataFrame:
    """A table from a CSV path, a file object, a vector file (GeoPackage...) or a DataFrame."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, io.IOBase):
        return read_table(source, what=name, config_key=config_key, require_rows=True, dtype=str)  # type: ignore[arg-type]
    p = Path(source)
    if not p.exists():
        raise InputError(
            f"{name}: file not found (relative to {Path.cwd()}). Fix the path"
            + (f" given by {config_key}." if config_key else ".")
        )
    if p.suffix.lower() in (".gpkg", ".shp", ".geojson", ".json", ".fgb"):
        import geopandas as gpd

        layer = choose_layer(p, layer, what=name, config_key=config_key)
        try:
            return gpd.read_file(p, layer=layer)
        except InputError:
            raise
        except Exception as exc:  # pyogrio raises its own error types
            raise InputError(f"{name}: could not read it as a vector file ({exc}).") from None
    return read_table(p, what=name, config_key=config_key, require_rows=True, dtype=str)


def _zip_member(archive: Path, stem: str, name: str) -> tuple[io.BytesIO, str] | None:
    """The bytes of ``<stem>.csv`` in the Géorisques yearly archive `archive`, if there."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if Path(member).name.casefold() == f"{stem}.csv":
                    return io.BytesIO(zf.read(member)), f"{archive}!{member}"
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{name}: not a readable zip archive ({exc}).") from None
    return None


# ---------------------------------------------------------------------- pollutants
def _pollutant_table(
    pollutants: Mapping[str, str] | Sequence[str] | None, config_key: str | None
) -> tuple[dict[str, str | None], set[str] | None]:
    """The name table (normalised key -> id or None) and the ids to keep (None: all)."""
    table: dict[str, str | None] = {
        _key(k): (v if v in known_species() else None) for k, v in IREP_POLLUTANTS.items()
    }
    keep: set[str] | None = None
    what = config_option(config_key, "pollutants", default="read_irep pollutants")
    if isinstance(pollutants, Mapping):
        for label, target in pollutants.items():
            if target is None or str(target).strip() == "":
                table[_key(label)] = None
            else:
                try:
                    table[_key(label)] = normalise_pollutant(str(target), what=f"{what}[{label!r}]")
                except InputError as exc:
                    raise ConfigError(str(exc)) from None
    elif pollutants is not None:
        keep = set()
        for p in pollutants:
            try:
                keep.add(normalise_pollutant(str(p), what=what))
            except InputError as exc:
                raise ConfigError(str(exc)) from None
    return table, keep


def _map_pollutants(
    frame: pd.DataFrame,
    column: str,
    table: Mapping[str, str | None],
    official: bool,
    name: str,
    lines: bool,
    config_key: str | None,
) -> list[str | None]:
    """The trajectoire id of each row (None: left out); unknown names raise one error."""
    out: list[str | None] = []
    bad: dict[str, list[Any]] = {}
    ignored: dict[str, int] = {}
    for lab, v in zip(frame.index, frame[column].tolist(), strict=True):
        k = _key(v)
        if k in table:
            out.append(table[k])
            if table[k] is None:
                ignored[str(v)] = ignored.get(str(v), 0) + 1
            continue
        if not official:
            try:
                out.append(normalise_pollutant(str(v)))
                continue
            except InputError:
                pass
            if _unmodelled_name(v):  # CO2, lead, "Dioxyde de carbone (CO2)": left out, counted
                out.append(None)
                ignored[str(v)] = ignored.get(str(v), 0) + 1
                continue
        elif not _LOOKS_KEPT.search(_fold(v)):
            out.append(None)
            ignored[str(v)] = ignored.get(str(v), 0) + 1
            continue
        bad.setdefault(str(v), []).append(lab)
        out.append(None)
    if bad:
        detail = values_at({k: _lines(frame, v, lines) for k, v in bad.items()})
        first = next(iter(bad))
        kind = (
            "IREP substance name(s) that look like a trajectoire pollutant"
            if official
            else "pollutant(s)"
        )
        guess = _guess(first)
        fix = (
            "Map it: " + _set(config_key, "pollutants", f'{{ "{first}" = "{guess}" }}') + "."
            if guess != "<trajectoire id>"
            else "Fix the name, map it to the pollutant it means: "
            + _set(config_key, "pollutants", f'{{ "{first}" = "<trajectoire id>" }}')
            + f', or leave it out: pollutants = {{ "{first}" = "" }}.'
        )
        raise InputError(
            f"{name}, column {column!r}: unknown {kind}: {detail}; expected a name of "
            f"trajectoire.inventory.irep.IREP_POLLUTANTS or one of {list(known_species())}. " + fix
        )
    if ignored:
        log.info(
            "%s: %d row(s) of %d substance(s) not kept (not trajectoire pollutants): %s",
            name,
            sum(ignored.values()),
            len(ignored),
            rows_preview(sorted(ignored), 6),
        )
    return out


def _unmodelled_name(value: Any) -> bool:
    """Whether `value` names a substance the library knows of and does not model: its name
    (``CO2``, ``lead``) or an IREP substance name whose bracketed formula is one
    (``Dioxyde de carbone (CO2)``, ``Plomb et ses composés (Pb)``), and nothing in it looks
    like a modelled pollutant (:data:`_LOOKS_KEPT`)."""
    if not isinstance(value, str) or _LOOKS_KEPT.search(_fold(value)):
        return False
    if not_modelled(value.strip()):
        return True
    return any(not_modelled(part) for part in re.findall(r"\(([^()]+)\)", value))


_GUESSES = (
    (re.compile(r"sox|so2|soufre"), "SO2"),
    (re.compile(r"nox|azote"), "NOx"),
    (re.compile(r"pm ?2[.,]?5"), "PM2.5"),
    (re.compile(r"pm ?10"), "PM10"),
    (re.compile(r"nh3|ammoniac"), "NH3"),
    (re.compile(r"covnm|nmvoc"), "NMVOC"),
)


def _guess(name: str) -> str:
    """The trajectoire id a substance name seems to mean, for the example of a message."""
    folded = _fold(name)
    return next((pid for rx, pid in _GUESSES if rx.search(folded)), "<trajectoire id>")


# ---------------------------------------------------------------------- emissions
def _unit_factors(
    frame: pd.DataFrame,
    column: str | None,
    unit: str | None,
    name: str,
    lines: bool,
    config_key: str | None,
) -> np.ndarray:
    """Per-row factor to t yr-1, from the unit column (empty cells: the `unit` option)."""
    expected = list(UNIT_TABLE["emission_rate"])
    if column is None and unit is None:
        raise UnitsError(
            f"{name}: no unit column and no unit given; expected a mass per year such as "
            f"'kg yr-1' ({expected}). Add a 'unit' column or "
            + _set(config_key, "unit", '"kg yr-1"')
            + "."
        )
    if unit is not None:  # checked even when every row has its own unit: never ignored
        try:
            f = conversion_factor(unit, "emission_rate", what=f"{name}, unit option")
        except UnitsError as exc:
            raise UnitsError(
                f"{exc} Fix it: " + _set(config_key, "unit", '"kg yr-1"') + "."
            ) from None
    if column is None:
        return np.full(len(frame), f)
    factors = np.empty(len(frame))
    cache: dict[str, float] = {}
    bad: dict[str, list[Any]] = {}
    for i, (lab, v) in enumerate(zip(frame.index, frame[column].tolist(), strict=True)):
        text = str(unit) if (blank_cell(v) and unit is not None) else str(v).strip()
        if text not in cache:
            try:
                cache[text] = conversion_factor(text, "emission_rate")
            except UnitsError:
                cache[text] = np.nan
        factors[i] = cache[text]
        if np.isnan(factors[i]):
            bad.setdefault("" if blank_cell(v) else str(v), []).append(lab)
    if bad:
        detail = values_at({k: _lines(frame, v, lines) for k, v in bad.items()})
        empty = (
            " An empty cell takes the unit option, if set: "
            + _set(config_key, "unit", '"kg yr-1"')
            + "."
            if "" in bad
            else ""
        )
        raise UnitsError(
            f"{name}, column {column!r}: unknown unit(s) {detail}; expected a mass per year "
            f"({expected}, or 'kg/an'). Fix the file, or name another column: "
            + _set(config_key, "columns.unit", '"<your unit column>"')
            + "."
            + empty
        )
    return factors


def _emission_layout(frame: pd.DataFrame, columns: Mapping[str, str]) -> str:
    """``"official"`` (Géorisques emissions.csv) or ``"tidy"``: the layout more of whose
    site id, pollutant and value columns the table has (one renamed column must not switch
    the layout: a tidy table whose ``value`` is called ``quantite`` is still tidy, and its
    message names the value column); on a tie, official where ``polluant`` or ``quantite``
    is found."""
    required = ("emission_site_id", "pollutant", "value")

    def score(name: str) -> int:
        layout = _EMISSION_LAYOUTS[name]
        return sum(k in columns or _find(frame, layout[k]) is not None for k in required)

    official, tidy = score("official"), score("tidy")
    if official != tidy:
        return "official" if official > tidy else "tidy"
    named = _find(frame, "polluant") is not None or _find(frame, "quantite") is not None
    return "official" if named else "tidy"


def _read_emissions(
    source: Any,
    *,
    name: str,
    columns: Mapping[str, str],
    unit: str | None,
    year: int | None,
    pollutants: Mapping[str, str] | Sequence[str] | None,
    config_key: str | None,
    reference_year: int | None = None,
    reference_of: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Air emissions of one year: columns ``key``, ``site``, ``pollutant``, ``t_per_yr``.

    Rows keep their 0-based data-row label of the file, so messages name file lines. The
    year of the rows (``report["year"]``) is the year column's, else `year`, else
    `reference_year` (with a warning); one other than `reference_year` is warned about.
    `reference_of` names the inventory `reference_year` is the year of (an anchor's table);
    None: the run's reference inventory (``[run] reference_year``).
    """
    frame = _read_any(source, name, None, config_key).reset_index(drop=True)
    lines = not isinstance(source, pd.DataFrame)
    official = _emission_layout(frame, columns) == "official"
    layout = _EMISSION_LAYOUTS["official" if official else "tidy"]
    cols = _resolve(frame, layout, columns, list(layout), name, config_key)
    for k in ("emission_site_id", "pollutant", "value"):
        if k not in cols:
            raise MissingVariableError(
                f"{name}: no column {columns.get(k, layout[k])!r} ({k}); found "
                f"{[str(c) for c in frame.columns]}; expected the Géorisques emissions.csv "
                "(identifiant, annee_emission, milieu, polluant, quantite, unite) or a tidy "
                "table (site_id, pollutant, value, unit). "
                + _set(config_key, f"columns.{k}", '"<your column>"', first=True)
                + "."
            )
    report: dict[str, Any] = {"emission_rows": len(frame)}
    stated = ""  # where the year of the rows comes from, for the messages
    if "medium" in cols:
        media = [_key(v) if not blank_cell(v) else "" for v in frame[cols["medium"]]]
        odd = [i for i, m in enumerate(media) if m != "air" and m not in _MEDIA_NOT_AIR]
        if odd:
            found = [
                f"{'an empty cell' if not media[i] else repr(str(frame[cols['medium']].iloc[i]))}"
                f" at {w}"
                for i, w in zip(
                    odd, _lines(frame, [frame.index[i] for i in odd], lines), strict=True
                )
            ]
            raise InputError(
                f"{name}, column {cols['medium']!r}: {rows_preview(found, 4)}: not a medium "
                f"IREP knows; expected 'Air' (kept) or {_MEDIA_SHOWN} (left out), in any case. Fix the "
                "file" + (f" given by {config_key}." if config_key else ".")
            )
        air = np.array([m == "air" for m in media], dtype=bool)
        report["rows_not_air"] = int((~air).sum())
        if (~air).any():
            log.info("%s: %d row(s) not to air (water, soil) left out", name, int((~air).sum()))
        frame = frame.loc[air]
    if "year" in cols:
        yv = _numbers(
            frame, cols["year"], what=name, allow_nan=True, lines=lines, config_key=config_key
        )
        frame, yv = _without_year(frame, yv, cols, name, lines)
        years = sorted({int(v) for v in yv})
        if year is None and len(years) > 1:
            raise InputError(
                f"{name}, column {cols['year']!r}: holds several years {years}; choose one: "
                + _set(config_key, "year", str(years[-1]))
                + "."
            )
        if year is not None:
            if int(year) not in years:
                raise InputError(
                    f"{name}, column {cols['year']!r}: no air row for year {year}; found "
                    f"{years}. Fix it: "
                    + _set(config_key, "year", str(years[-1] if years else year))
                    + "."
                )
            frame = frame.loc[yv == int(year)]
        report["year"] = int(year) if year is not None else (years[0] if years else None)
        stated = f"column {cols['year']!r}"
    elif year is not None:
        report["year"] = int(year)
        stated = f"{config_option(config_key, 'year')} = {int(year)}"
    elif reference_year is not None:
        report["year"] = int(reference_year)
        whose = (
            f"[run] reference_year = {int(reference_year)}, the year of the run's reference "
            "inventory"
            if reference_of is None
            else f"{int(reference_year)}, the year of {reference_of}"
        )
        warn(
            f"{name}: no year column ({layout['year']!r}) and no year given: its emissions are "
            f"taken as those of {whose}. Add a {layout['year']!r} column, or "
            + _set(config_key, "year", str(int(reference_year)))
            + " to state their year.",
            stacklevel=3,
        )
    got = report.get("year")
    if reference_year is not None and got is not None and got != int(reference_year):
        ref = int(reference_year)
        if reference_of is None:
            taken = (
                f"the run takes them as its reference inventory, of [run] reference_year = "
                f"{ref} (the other years follow from {ref} by the trends)"
            )
            other = f"set [run] reference_year = {got}"
        else:
            taken = f"the run takes them as {reference_of}, the inventory of {ref}"
            other = f"give them to an anchor of {got} ([[inputs.anchors]] year = {got})"
        warn(
            f"{name}: the emissions are of {got} ({stated}), and {taken}; give the register "
            f"of {ref} ("
            + _set(config_key, "year", str(ref))
            + f" where the table holds it), or {other}.",
            stacklevel=3,
        )
    table, keep_ids = _pollutant_table(pollutants, config_key)
    pol = _map_pollutants(frame, cols["pollutant"], table, official, name, lines, config_key)
    selected = np.array(
        [p is not None and (keep_ids is None or p in keep_ids) for p in pol], dtype=bool
    )
    frame = frame.loc[selected]
    pol = [p for p, s in zip(pol, selected, strict=True) if s]
    below = np.array(
        [isinstance(v, str) and bool(_BELOW_THRESHOLD.match(v)) for v in frame[cols["value"]]],
        dtype=bool,
    )
    if below.any():
        warn(
            f"{name}: {int(below.sum())} quantity(ies) of the pollutants kept written '< seuil' "
            "(below the reporting threshold) read as 0.",
            stacklevel=3,
        )
    values = np.zeros(len(frame))
    measured = frame.loc[~below]
    v = _numbers(
        measured,
        cols["value"],
        what=name,
        units="the units of its row",
        config_key=config_key,
        lines=lines,
    )
    neg = np.flatnonzero(v < 0)
    if neg.size:
        places = _lines(frame, [measured.index[int(i)] for i in neg], lines)
        found = [f"{v[int(i)]:g} at {w}" for i, w in zip(neg, places, strict=True)]
        raise InputError(
            f"{name}, column {cols['value']!r}: negative quantity {rows_preview(found, 3)}; "
            "expected emissions >= 0. Fix the file."
        )
    values[~below] = v
    values *= _unit_factors(frame, cols.get("unit"), unit, name, lines, config_key)
    ids = frame[cols["emission_site_id"]].tolist()
    empty = [lab for lab, i in zip(frame.index, ids, strict=True) if blank_cell(i)]
    if empty:
        raise InputError(
            f"{name}, column {cols['emission_site_id']!r}: empty site id at "
            f"{rows_preview(_lines(frame, empty, lines), 5)}; expected the IREP identifiant "
            "of a site. Fix the file."
        )
    out = pd.DataFrame(
        {
            "key": [_site_key(i) for i in ids],
            "site": [id_text(i) for i in ids],
            "pollutant": pol,
            "t_per_yr": values,
        }
    )
    _refuse_repeats(out, frame, cols, name, lines, config_key)
    _warn_large(out, frame, cols, unit, name, lines, config_key)
    report["air_rows_kept"] = len(out)
    return out, report


def _refuse_repeats(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    cols: Mapping[str, str],
    name: str,
    lines: bool,
    config_key: str | None,
) -> None:
    """One line for rows that repeat another: the same site, pollutant and quantity (a
    block pasted twice), named by their lines; summed, they would double the site's
    emission. As the Eurostat trends reader does, the row is not kept once either: nothing
    tells whether a second declaration was meant. Rows of one site and pollutant with
    different quantities are summed, with a warning (:func:`read_irep`)."""
    dup = out.duplicated(["key", "pollutant", "t_per_yr"], keep=False).to_numpy()
    if not dup.any():
        return
    where = _lines(frame, [frame.index[int(i)] for i in np.flatnonzero(dup)], lines)
    groups: dict[tuple[str, str, float], list[str]] = {}
    for i, w in zip(np.flatnonzero(dup), where, strict=True):
        row = out.iloc[int(i)]
        groups.setdefault(
            (str(row["site"]), str(row["pollutant"]), float(row["t_per_yr"])), []
        ).append(w)
    label = "lines" if lines else "rows"
    found = [
        f"site {s} {p} {v:g} t yr-1 at {label} {', '.join(w.split()[-1] for w in ws)}"
        for (s, p, v), ws in groups.items()
    ]
    raise InputError(
        f"{name}: {len(found)} emission row(s) given more than once with the same quantity: "
        f"{rows_preview(found, 4)}; expected one row per site and pollutant (a block pasted "
        "twice? summed, the site's emission would double). Delete the repeated line(s) of "
        "the file" + (f" given by {config_option(config_key, 'emissions')}." if config_key else ".")
    )


def _warn_large(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    cols: Mapping[str, str],
    unit: str | None,
    name: str,
    lines: bool,
    config_key: str | None,
) -> None:
    """One warning for the quantities above :data:`SITE_EMISSION_WARN` (kg written as t)."""
    big = np.flatnonzero(out["t_per_yr"].to_numpy() > SITE_EMISSION_WARN)
    if not big.size:
        return
    where = _lines(frame, [frame.index[int(i)] for i in big], lines)
    units = frame[cols["unit"]].tolist() if "unit" in cols else [unit] * len(frame)
    found = [
        f"site {out['site'].iloc[i]} {out['pollutant'].iloc[i]} "
        f"{out['t_per_yr'].iloc[i]:.4g} t yr-1 (unit {units[i]!r}, {w})"
        for i, w in zip(big, where, strict=True)
    ]
    column = f"column {cols['unit']!r}" if "unit" in cols else "the unit option"
    warn(
        f"{name}, column {cols['value']!r}: {big.size} quantity(ies) above "
        f"{SITE_EMISSION_WARN:.0f} t yr-1 for one site and one pollutant, which no French "
        f"industrial site declares: {rows_preview(found, 3)}; kg written as t? Check the "
        f"units ({column}"
        + (f" of the file given by {config_key}" if config_key else "")
        + "): 'kg yr-1' or 'kg/an' for kilograms.",
        stacklevel=4,
    )


# ---------------------------------------------------------------------- positions
def _positions(
    frame: pd.DataFrame,
    cols: Mapping[str, str],
    ids: Sequence[str],
    *,
    crs: Any,
    layout: str,
    name: str,
    lines: bool,
    config_key: str | None,
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """x, y of every site in EPSG:2154 [m] (NaN where the file has no position), and the
    sites whose position cannot be right (index -> what is wrong, for one message): outside
    the area of use of its CRS, longitude and latitude swapped, or given twice (``x``/``y``
    and ``lon``/``lat``) at places more than :data:`POSITION_TOLERANCE` apart."""
    import pyproj

    n = len(frame)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    odd: dict[int, str] = {}
    geom_col = "geometry" in frame.columns
    _check_pairs(frame, cols, layout, name, geometry=geom_col, config_key=config_key)

    def coordinate(key: str) -> np.ndarray:
        return _numbers(
            frame, cols[key], what=name, allow_nan=True, ids=ids, lines=lines, config_key=config_key
        )

    geom = getattr(frame, "geometry", None) if "geometry" in frame.columns else None
    if geom is not None and geom.notna().any():
        if frame.crs is None:
            raise InputError(f"{name}: geometries have no CRS; fix the file (set its CRS).")
        g = geom.to_crs("EPSG:2154")
        ok = g.notna().to_numpy() & ~g.is_empty.to_numpy()
        x[ok] = g[ok].x.to_numpy()
        y[ok] = g[ok].y.to_numpy()
    if "x" in cols and "y" in cols:
        xs, ys = coordinate("x"), coordinate("y")
        if "epsg" in cols:
            codes = [None if blank_cell(v) else str(v).strip() for v in frame[cols["epsg"]]]
        else:
            codes = [None] * n
        default = crs if crs is not None else ("EPSG:2154" if layout == "geocoded" else None)
        todo = np.isnan(x) & np.isfinite(xs) & np.isfinite(ys)
        no_crs = [i for i in np.flatnonzero(todo) if codes[i] is None and default is None]
        if no_crs:
            raise InputError(
                f"{name}: site(s) {rows_preview([ids[int(i)] for i in no_crs], 5)} have coordinates "
                f"({cols['x']}, {cols['y']}) but no CRS (column {cols.get('epsg', 'code_epsg')!r} "
                "empty or absent); expected an EPSG code. Give it: "
                + _set(config_key, "crs", '"EPSG:2154"')
                + "."
            )
        groups: dict[tuple[str, bool], list[int]] = {}
        for i in np.flatnonzero(todo):
            code = codes[i] if codes[i] is not None else default
            option = codes[i] is None and crs is not None
            groups.setdefault((str(code), option), []).append(int(i))
        for (code, option), idx in groups.items():
            src = _as_crs(code, name, cols, config_key, option=option)
            gx, gy = xs[idx], ys[idx]
            _check_units(src, gx, gy, [ids[i] for i in idx], name, cols, ("x", "y"), config_key)
            tx, ty = pyproj.Transformer.from_crs(src, "EPSG:2154", always_xy=True).transform(gx, gy)
            x[idx], y[idx] = tx, ty
            where = f"{cols['x']}, {cols['y']} in {src.to_string()}"
            for k, why in _outside_area(src, gx, gy).items():
                odd[idx[k]] = f"{ids[idx[k]]} ({gx[k]:g}, {gy[k]:g}: {where}, {why})"
    if "lon" in cols and "lat" in cols:
        lon, lat = coordinate("lon"), coordinate("lat")
        todo = np.isnan(x) & np.isfinite(lon) & np.isfinite(lat)
        if todo.any():
            idx = [int(i) for i in np.flatnonzero(todo)]
            wgs = pyproj.CRS.from_epsg(4326)
            _check_units(
                wgs,
                lon[idx],
                lat[idx],
                [ids[i] for i in idx],
                name,
                cols,
                ("lon", "lat"),
                config_key,
            )
            tx, ty = pyproj.Transformer.from_crs(wgs, "EPSG:2154", always_xy=True).transform(
                lon[idx], lat[idx]
            )
            x[idx], y[idx] = tx, ty
            # only swapped degrees: a site overseas (DOM) is outside Lambert-93 and right
            l93 = pyproj.CRS.from_epsg(2154)
            found = _outside_area(wgs, lon[idx], lat[idx], area_of=l93, swapped_only=True)
            for k, why in found.items():
                where = f"{cols['lon']}, {cols['lat']}"
                odd[idx[k]] = f"{ids[idx[k]]} ({lon[idx][k]:g}, {lat[idx][k]:g}: {where}, {why})"
        both = np.flatnonzero(np.isfinite(x) & np.isfinite(lon) & np.isfinite(lat))
        if both.size:  # a site given twice (x/y and lon/lat): the two must agree
            fx, fy = pyproj.Transformer.from_crs(
                pyproj.CRS.from_epsg(4326), "EPSG:2154", always_xy=True
            ).transform(lon[both], lat[both])
            gap = np.hypot(np.asarray(fx) - x[both], np.asarray(fy) - y[both])
            for far in np.flatnonzero(~(gap <= POSITION_TOLERANCE)).tolist():
                site = int(both[far])
                odd.setdefault(
                    site,
                    f"{ids[site]} ({cols['x']}, {cols['y']} and {cols['lon']}, {cols['lat']} are "
                    f"{gap[far] / 1000:.3g} km apart)",
                )
    return x, y, odd


#: Largest distance [m] between the two positions of a site given twice (``x``/``y`` and
#: ``lon``/``lat``, as the geocoded extract does): beyond it one of them is in another CRS
#: than the one it is read in (Web Mercator read as Lambert-93 is some 600 km off in the
#: north of France); within it, positions rounded or typed approximately still agree.
POSITION_TOLERANCE = 25_000.0

#: Largest yearly emission [t yr-1] of one pollutant by one site beyond which a figure is
#: warned about: no French industrial site declares 100 000 t yr-1 of a pollutant (the
#: largest declare some thousands to tens of thousands), a figure in kg written as t does.
SITE_EMISSION_WARN = 1.0e5


def _outside_area(
    crs: Any, xs: np.ndarray, ys: np.ndarray, *, area_of: Any = None, swapped_only: bool = False
) -> dict[int, str]:
    """Positions (index -> why) outside the area of use of `crs` (with a margin).

    Parameters
    ----------
    crs : pyproj.CRS
        The CRS the positions are read in.
    xs, ys : numpy.ndarray
        The positions, as read (easting/longitude, northing/latitude).
    area_of : pyproj.CRS, optional
        The CRS whose area of use the positions must fall in (default `crs`; Lambert-93
        for longitudes and latitudes, whose own CRS covers the world).
    swapped_only : bool, default False
        Report only the positions that fit the area once swapped.

    Returns
    -------
    dict of int to str
        Index of each position at fault -> ``"outside the area of EPSG:2154"``, or
        ``"... swapped"`` when the two coordinates swapped fall inside it.
    """
    target = area_of if area_of is not None else crs
    ok = in_area_of_use(target, crs, xs, ys) if len(xs) else None
    if ok is None:
        return {}
    ok_swapped = np.asarray(in_area_of_use(target, crs, ys, xs))  # the same area: not None
    code = target.to_string()
    out: dict[int, str] = {}
    for k in np.flatnonzero(~ok):
        if ok_swapped[k]:
            out[int(k)] = "the two coordinates look swapped"
        elif not swapped_only:
            out[int(k)] = f"outside the area of use of {code}"
    return out


def _check_pairs(
    frame: pd.DataFrame,
    cols: Mapping[str, str],
    layout: str,
    name: str,
    *,
    geometry: bool,
    config_key: str | None,
) -> None:
    """A coordinate column without its pair (``lat`` without ``lon``), where no complete pair
    gives the positions, is an error naming the column missing and the key to set."""
    if geometry or ("x" in cols and "y" in cols) or ("lon" in cols and "lat" in cols):
        return
    for a, b in (("x", "y"), ("y", "x"), ("lon", "lat"), ("lat", "lon")):
        if a in cols and b not in cols:
            looked = _SITE_LAYOUTS[layout].get(b, b)
            raise MissingVariableError(
                f"{name}: column {cols[a]!r} ({a}) but no {b} column (looked for {looked!r}); "
                f"found {[str(c) for c in frame.columns]}; expected both {a} and {b}. "
                + _set(config_key, f"columns.{b}", '"<your column>"', first=True)
                + "."
            )


def _as_crs(
    code: str, name: str, cols: Mapping[str, str], config_key: str | None, *, option: bool = False
) -> Any:
    """The CRS of an EPSG code of the file, or of the `crs` option (`option`: for messages)."""
    text = code
    if re.fullmatch(r"\d+(\.0)?", code):
        text = f"EPSG:{int(float(code))}"
    known = known_crs(text)
    if known is None and option:
        raise ConfigError(
            f"{name}: {config_option(config_key, 'crs')} = {code!r} (the CRS of the "
            f"columns {cols['x']!r}, {cols['y']!r}) is not a CRS pyproj knows; expected an "
            'EPSG code such as "EPSG:2154" (Lambert-93). Fix it: '
            + _set(config_key, "crs", '"EPSG:2154"')
            + "."
        )
    if known is None:
        raise InputError(
            f"{name}, column {cols.get('epsg', 'code_epsg')!r}: {code!r} is not a CRS pyproj "
            "knows; expected an EPSG code such as 2154. Fix the file or "
            + _set(config_key, "crs", '"EPSG:2154"')
            + "."
        )
    return known


def _check_units(
    crs: Any,
    xs: np.ndarray,
    ys: np.ndarray,
    ids: Sequence[str],
    name: str,
    cols: Mapping[str, str],
    keys: tuple[str, str],
    config_key: str | None,
) -> None:
    """Degrees read as metres (or the reverse) are an error naming the sites and values."""
    if crs.is_geographic:
        bad = np.flatnonzero((np.abs(xs) > 180) | (np.abs(ys) > 90))
        expected, fix = "degrees (longitude, latitude)", '"EPSG:2154"'
    else:
        bad = np.flatnonzero((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
        expected, fix = f"metres in {crs.to_string()}", '"EPSG:4326"'
    if bad.size:
        shown = rows_preview([f"{ids[int(i)]} ({xs[i]:g}, {ys[i]:g})" for i in bad], 3)
        raise InputError(
            f"{name}, columns {cols[keys[0]]!r}, {cols[keys[1]]!r}: site(s) {shown} do not look "
            f"like {expected}; the CRS of these coordinates is wrong. Fix the file's CRS "
            f"column, or " + _set(config_key, "crs", fix) + "."
        )


# ---------------------------------------------------------------------- activities
def _stack_table(
    stacks: Mapping[str, Mapping[str, float]] | None, config_key: str | None
) -> dict[str, dict[str, Any]]:
    table = {k: dict(v) for k, v in ACTIVITY_CLASSES.items()}

    def what(sub: str = "") -> str:  # the key stacks or one of its keys, for messages
        return config_option(config_key, f"stacks{sub}", default=f"read_irep stacks{sub}")

    for cls, fields in (stacks or {}).items():
        if cls not in table:
            raise ConfigError(
                f"{what()}: unknown activity class {cls!r}; expected some of {list(table)}."
            )
        if not isinstance(fields, Mapping):
            raise ConfigError(f"{what(f'.{cls}')}: expected a table of {list(_STACK_FIELDS)}.")
        unknown = sorted(set(fields) - set(_STACK_FIELDS))
        if unknown:
            raise ConfigError(
                f"{what(f'.{cls}')}: unknown field(s) {unknown}; expected some of {list(_STACK_FIELDS)} "
                f"(in {_STACK_UNITS})."
            )
        for f, v in fields.items():
            try:
                value = float(v)
            except (TypeError, ValueError):
                value = np.nan
            low = 223.15 if f == "temperature" else 0.0
            if not np.isfinite(value) or value < low or (f == "diameter" and value == 0):
                raise ConfigError(
                    f"{what(f'.{cls}.{f}')} = {v!r}: expected a number "
                    f"{'> 0' if f == 'diameter' else f'>= {low:g}'} [{_STACK_UNITS[f]}]."
                )
            table[cls][f] = value
    return table


#: A NAF rév. 2 code, its punctuation removed: a division (``35``), group (``351``), class
#: (``3511``) or sub-class (``3511Z``).
_NAF_CODE = re.compile(r"\d{2}(?:\d{1,2}|\d{2}[A-Z])?")


def _naf_code_valid(code: Any) -> bool:
    """Whether `code` is written as a NAF rév. 2 code (``"35.11Z"``, ``"3511Z"``, ``"35.1"``)."""
    return _NAF_CODE.fullmatch(re.sub(r"[^0-9A-Za-z]", "", str(code)).upper()) is not None


def _activity_class(code: Any) -> str | None:
    """The class of a NAF/APE code (longest prefix of :data:`NAF_CLASSES`), None if empty."""
    if blank_cell(code):
        return None
    digits = re.sub(r"[^0-9A-Za-z]", "", str(code)).upper()
    for n in range(len(digits), 0, -1):
        if digits[:n] in NAF_CLASSES:
            return NAF_CLASSES[digits[:n]]
    return "other_industry"


# ---------------------------------------------------------------------- the reader
def read_irep(
    path: str | PathLike[str] | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    unit: str | None = None,
    crs: str | int | None = None,
    what: str | None = None,
    config_key: str | None = None,
    emissions: str | PathLike[str] | pd.DataFrame | None = None,
    year: int | None = None,
    pollutants: Mapping[str, str] | Sequence[str] | None = None,
    default_sector: str = "B_Industry",
    stacks: Mapping[str, Mapping[str, float]] | None = None,
    missing_position: str = "error",
    sites_without_emissions: str = "keep",
    reference_year: int | None = None,
    reference_of: str | None = None,
) -> pd.DataFrame:
    """Read IREP sites and their yearly air emissions as a point-source table.

    Parameters
    ----------
    path : path or DataFrame
        The sites: the Géorisques ``etablissements.csv`` (``identifiant``,
        ``nom_etablissement``, ``coordonnees_x``, ``coordonnees_y``, ``code_epsg``,
        ``code_ape``...), the yearly archive ``<year>.zip`` that holds it (its
        ``emissions.csv`` is then the default `emissions`), a geocoded extract
        (``irep_identifiant``, ``nom_etablissement``, ``x_l93``, ``y_l93`` [EPSG:2154] and/or
        ``lon_geocoded``, ``lat_geocoded`` [EPSG:4326]) as CSV or GeoPackage (point
        geometries with a CRS), or a (Geo)DataFrame of one of these. The layout is detected
        from the header (case-insensitive); `columns` overrides it.
    columns : mapping, optional
        Canonical name -> column name in the file, for the sites (``site_id``, ``name``,
        ``x``, ``y``, ``epsg``, ``lon``, ``lat``, ``activity`` (NAF/APE code)) and the
        emissions (``emission_site_id``, ``year``, ``medium``, ``pollutant``, ``value``,
        ``unit``). Unknown keys are an error.
    layer : str, optional
        GeoPackage layer of the sites (needed when the file has several).
    unit : str, optional
        Units of the emission quantities when the emission table has no unit column (or an
        empty cell): any mass per time of :mod:`trajectoire.units` (``"kg yr-1"``,
        ``"kg/an"``, ``"t yr-1"``...). Never guessed.
    crs : str or int, optional
        CRS of the ``x``/``y`` coordinates of the rows without an EPSG code (``code_epsg``
        empty or absent). Default: none for the Géorisques layout (then an error), EPSG:2154
        for the geocoded extract's ``x_l93``/``y_l93``. ``lon``/``lat`` are EPSG:4326.
    what : str, optional
        Name of the sites input in messages (default: the path).
    config_key : str, optional
        The configuration key naming this input (``"[inputs.point_sources]"``), quoted in
        every message as the thing to change.
    emissions : path or DataFrame
        The emissions: the Géorisques ``emissions.csv`` of the same archive (rows to
        ``milieu`` ``Air`` kept, ``polluant`` mapped with :data:`IREP_POLLUTANTS`,
        ``quantite`` in ``unite``), or a tidy table ``site_id``, ``pollutant`` (a trajectoire
        id, alias or IREP name), ``value`` and ``unit`` (or the `unit` option), optionally
        ``year``. Required (IREP site lists carry no emissions).
    year : int, optional
        Reporting year to keep; required when the emission table holds several. For a
        table without a year column, the year of its rows.
    pollutants : mapping or sequence of str, optional
        A mapping IREP name -> trajectoire id (``""`` to leave a substance out) extending and
        overriding :data:`IREP_POLLUTANTS`, or a list of trajectoire ids to keep (the others
        are left out).
    default_sector : str, default "B_Industry"
        GNFR sector of the sites without an activity code (the geocoded extract has none);
        their stack is that of :data:`SECTOR_CLASSES` ``[default_sector]``.
    stacks : mapping, optional
        Activity class -> ``{height, diameter, temperature, velocity}`` (some or all)
        overriding :data:`ACTIVITY_CLASSES`.
    missing_position : {"error", "skip"}, default "error"
        A site without coordinates is an error naming it, or is left out with a warning.
    sites_without_emissions : {"keep", "drop"}, default "keep"
        Sites with no emission row for the year are kept with zero emissions, or left out;
        a warning counts them either way.
    reference_year : int, optional
        The year of the inventory the emissions are read for (a run passes its ``[run]
        reference_year``). Emissions without a year column and without `year` are taken
        as of that year, with a warning that says to state it (a ``year`` column, or
        `year`); emissions of another year (the year column's, or `year`) are warned
        about. None (the default): the rows are taken as they are, their year unknown
        where the table gives none.
    reference_of : str, optional
        What `reference_year` is the year of, in the warnings: an anchor's table
        (``"[[inputs.anchors]] #1 (year 2005)"``, which the run passes with its year as
        `reference_year`); None (the default): the run's reference inventory, ``[run]
        reference_year``.

    Returns
    -------
    pandas.DataFrame
        One row per site: ``source_id`` (the IREP id, as written in the sites file),
        ``name``, ``x``, ``y`` [m, EPSG:2154], ``sector`` (GNFR), ``height`` [m],
        ``diameter`` [m], ``temperature`` [K], ``velocity`` [m s-1], ``start_year``,
        ``end_year`` (NaN: unknown), then one column per pollutant found [t yr-1].
        ``attrs["crs"]`` is ``"EPSG:2154"``; ``attrs["irep"]`` holds the counts of the join
        and ``attrs["activity_class"]`` the class of each site.

    Raises
    ------
    trajectoire.ConfigError
        No `emissions`, unknown `columns`/`stacks` keys, bad `pollutants` or option values.
    trajectoire.MissingVariableError
        No site id column, a column named in `columns` that the file lacks.
    trajectoire.InputError
        Duplicated site ids, sites without coordinates (`missing_position` "error"),
        coordinates that do not fit their CRS (degrees as Lambert-93 or the reverse), positions
        that cannot be right (`missing_position` "error"; "skip" leaves them out with a
        warning): outside the area of use of their CRS, longitude and latitude (or x and y)
        swapped, or ``x``/``y`` and ``lon``/``lat`` more than :data:`POSITION_TOLERANCE`
        apart; several years without `year`, an unknown pollutant name, negative quantities.
    trajectoire.MissingVariableError
        One coordinate column of a pair without the other (``lon`` without ``lat``) where
        no complete pair gives the positions.
    trajectoire.UnitsError
        An emission unit that is not a mass per time.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Emission rows whose site is not in the sites file (left out) and sites without an
        emission row, with counts and the first ids; quantities ``< seuil`` read as 0;
        sites skipped for want of a position; quantities above :data:`SITE_EMISSION_WARN`
        t yr-1 for one site and pollutant (kilograms written as tonnes); emissions without a
        year taken as `reference_year`'s, or of a year other than `reference_year`.

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({"irep_identifiant": [7000956], "nom_etablissement": ["ARCELORMITTAL"],
    ...                       "x_l93": [643000.0], "y_l93": [7105000.0]})
    >>> em = pd.DataFrame({"site_id": ["7000956"], "pollutant": ["NOx"], "value": [1.5e6],
    ...                    "unit": ["kg/an"]})
    >>> read_irep(sites, emissions=em)[["source_id", "sector", "height", "NOx"]]
      source_id      sector  height     NOx
    0   7000956  B_Industry    25.0  1500.0
    """
    name = what or (str(path) if isinstance(path, str | PathLike) else "IREP sites")
    col_opt = {
        k: str(v)
        for k, v in columns_option(columns, _COLUMN_KEYS, what=name, config_key=config_key).items()
    }
    if missing_position not in ("error", "skip"):
        raise ConfigError(
            f"{config_option(config_key, 'missing_position', default='read_irep missing_position')}"
            f" = {missing_position!r}: expected "
            "'error' or 'skip'."
        )
    if sites_without_emissions not in ("keep", "drop"):
        swe = "sites_without_emissions"
        raise ConfigError(
            f"{config_option(config_key, swe, default=f'read_irep {swe}')} = "
            f"{sites_without_emissions!r}: expected 'keep' or 'drop'."
        )
    try:
        default_sector = normalise_sector(
            default_sector,
            what=config_option(config_key, "default_sector", default="read_irep default_sector"),
        )
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    stack_table = _stack_table(stacks, config_key)
    # ------------------------------------------------------------------ the sites table
    source: Any = path
    emissions_name = None
    em_source: Any = emissions
    if isinstance(path, str | PathLike) and str(path).lower().endswith(".zip"):
        member = _zip_member(Path(path), "etablissements", name)
        if member is None:
            raise InputError(
                f"{name}: no etablissements.csv in the archive; expected a Géorisques IREP "
                "yearly zip. Fix the path" + (f" given by {config_key}." if config_key else ".")
            )
        source, name = member
        if em_source is None:
            em_member = _zip_member(Path(path), "emissions", name)
            if em_member is not None:
                em_source, emissions_name = em_member
    sites = _read_any(source, name, layer, config_key).reset_index(drop=True)
    lines = not isinstance(source, pd.DataFrame) and not hasattr(sites, "geometry")
    if "site_id" in col_opt:
        geocoded = ("irep_identifiant", "x_l93", "lon_geocoded")
        layout = "geocoded" if any(_find(sites, c) for c in geocoded) else "official"
    elif _find(sites, "irep_identifiant") is not None:
        layout = "geocoded"
    elif _find(sites, "identifiant") is not None:
        layout = "official"
    else:
        raise MissingVariableError(
            f"{name}: no site id column: expected 'identifiant' (Géorisques "
            "etablissements.csv) or 'irep_identifiant' (geocoded extract); found "
            f"{[str(c) for c in sites.columns]}. "
            + _set(config_key, "columns.site_id", '"<your column>"', first=True)
            + "."
        )
    site_keys = ["site_id", "name", "x", "y", "epsg", "lon", "lat", "activity"]
    cols = _resolve(sites, _SITE_LAYOUTS[layout], col_opt, site_keys, name, config_key)
    if em_source is None:
        raise ConfigError(
            f"{name}: IREP sites carry no emission quantities and no emissions table was "
            "given; expected the emissions.csv of the same Géorisques yearly archive, or a "
            "tidy table (site_id, pollutant, value, unit). "
            + _set(config_key, "emissions", '"emissions.csv"', first=True)
            + "."
        )
    raw_ids = sites[cols["site_id"]].tolist()
    empty = [i for i, v in enumerate(raw_ids) if blank_cell(v)]
    if empty:
        raise InputError(
            f"{name}, column {cols['site_id']!r}: empty site id at "
            f"{rows_preview(_lines(sites, empty, lines), 5)}; expected the IREP identifiant. "
            "Fix the file."
        )
    ids = [_site_key(v) for v in raw_ids]
    shown_ids = [id_text(v) for v in raw_ids]
    dup = pd.Series(ids)[pd.Series(ids).duplicated(keep=False)]
    if len(dup):
        groups = {k: list(v) for k, v in dup.groupby(dup).groups.items()}
        detail = "; ".join(
            f"{k!r} at {rows_preview(_lines(sites, [int(i) for i in v], lines), 3)}"
            for k, v in list(groups.items())[:5]
        )
        raise InputError(
            f"{name}, column {cols['site_id']!r}: duplicated site id(s) {detail}; expected one "
            "row per site. Fix the file."
        )
    x, y, odd = _positions(
        sites,
        cols,
        shown_ids,
        crs=crs,
        layout=layout,
        name=name,
        lines=lines,
        config_key=config_key,
    )
    keep_site = np.ones(len(sites), dtype=bool)
    if odd:
        wrong = sorted(odd)
        listed = rows_preview([odd[i] for i in wrong], 3)
        if missing_position == "error":
            raise InputError(
                f"{name}: {len(wrong)} site(s) with a position that cannot be right: {listed}; "
                "expected the positions inside the area of their CRS (France for "
                "Lambert-93), longitude before latitude, and one place per site. Fix the "
                "columns or the CRS of the file ("
                + _set(config_key, "crs", '"EPSG:..."')
                + " for x/y without an EPSG code), or "
                + _set(config_key, "missing_position", '"skip"')
                + " to leave them out."
            )
        warn(
            f"{name}: {len(wrong)} site(s) with a position that cannot be right left out "
            f"(missing_position='skip'): {listed}.",
            stacklevel=2,
        )
        keep_site[wrong] = False
        x[wrong] = np.nan
        y[wrong] = np.nan
    no_pos = np.flatnonzero(
        ~(np.isfinite(x) & np.isfinite(y)) & ~np.isin(np.arange(len(x)), list(odd))
    )
    if no_pos.size:
        listed = rows_preview([shown_ids[i] for i in no_pos], 5)
        if missing_position == "error":
            pos_cols = [cols[k] for k in ("x", "y", "lon", "lat") if k in cols] or ["geometry"]
            raise InputError(
                f"{name}: {no_pos.size} site(s) without coordinates ({', '.join(pos_cols)}): "
                f"{listed}; expected a position for every site. Fill them, or "
                + _set(config_key, "missing_position", '"skip"')
                + " to leave them out."
            )
        warn(
            f"{name}: {no_pos.size} site(s) without coordinates left out "
            f"(missing_position='skip'): {listed}.",
            stacklevel=2,
        )
        keep_site[no_pos] = False
    # ------------------------------------------------------------------ activity -> sector, stack
    if "activity" in cols:
        codes_read = sites[cols["activity"]].tolist()
        invalid = [
            i for i, v in enumerate(codes_read) if not blank_cell(v) and not _naf_code_valid(v)
        ]
        if invalid:
            shown = [f"{str(codes_read[i]).strip()!r} (site {shown_ids[i]})" for i in invalid]
            warn(
                f"{name}, column {cols['activity']!r}: {len(invalid)} activity code(s) that "
                f"are not NAF rév. 2 codes: {rows_preview(shown, 6)}; expected a code such "
                f"as '35.11Z'. Those sites are taken as without an activity code (sector "
                f"{default_sector}, default_sector). Fix the codes in the file given by "
                f"{config_key or 'the sites path'}.",
                stacklevel=2,
            )
        unreadable = set(invalid)
        classes = [
            None if i in unreadable else _activity_class(v) for i, v in enumerate(codes_read)
        ]
        n_none = sum(c is None for c in classes)
        if n_none:
            log.info(
                "%s: %d site(s) without an activity code: sector %s (default_sector)",
                name,
                n_none,
                default_sector,
            )
    else:
        classes = [None] * len(sites)
        log.info(
            "%s: no activity column; %d site(s) get default_sector %s and the default stack "
            "of class %r",
            name,
            len(sites),
            default_sector,
            SECTOR_CLASSES.get(default_sector, "other_industry"),
        )
    fallback = SECTOR_CLASSES.get(default_sector, "other_industry")
    sectors = [default_sector if c is None else str(stack_table[c]["sector"]) for c in classes]
    classes_used = [fallback if c is None else c for c in classes]
    # ------------------------------------------------------------------ emissions
    em_name = emissions_name or (
        str(em_source) if isinstance(em_source, str | PathLike) else "IREP emissions"
    )
    tidy, report = _read_emissions(
        em_source,
        name=em_name,
        columns=col_opt,
        unit=unit,
        year=year,
        pollutants=pollutants,
        config_key=config_key,
        reference_year=reference_year,
        reference_of=reference_of,
    )
    known = set(k for k, ok in zip(ids, keep_site, strict=True) if ok)
    orphan = ~tidy["key"].isin(known)
    if orphan.any():
        missing_ids = list(dict.fromkeys(tidy.loc[orphan, "site"]))
        warn(
            f"{em_name}: {int(orphan.sum())} emission row(s) of {len(missing_ids)} site(s) not in "
            f"{name} left out (no position): {rows_preview(missing_ids, 5)}.",
            stacklevel=2,
        )
    tidy = tidy.loc[~orphan]
    dup = tidy.duplicated(["key", "pollutant"], keep=False)
    if dup.any():
        warn(
            f"{em_name}: {int(dup.sum())} row(s) give the same site and pollutant more than "
            f"once (sites {rows_preview(list(dict.fromkeys(tidy['site'][dup])), 5)}); "
            "they are summed.",
            stacklevel=2,
        )
    wide = tidy.pivot_table(
        index="key", columns="pollutant", values="t_per_yr", aggfunc="sum", fill_value=0.0
    )
    pol_cols = [p for p in known_species() if p in wide.columns]
    with_rows = set(wide.index)
    silent = [i for i, k in enumerate(ids) if keep_site[i] and k not in with_rows]
    if silent:
        action = "kept with zero emissions" if sites_without_emissions == "keep" else "left out"
        warn(
            f"{name}: {len(silent)} site(s) have no air emission row in {em_name} for the "
            f"pollutants kept; {action}: {rows_preview([shown_ids[i] for i in silent], 5)}.",
            stacklevel=2,
        )
        if sites_without_emissions == "drop":
            keep_site[silent] = False
    names = [str(v) for v in sites[cols["name"]]] if "name" in cols else list(shown_ids)
    rows = np.flatnonzero(keep_site)
    out = pd.DataFrame(
        {
            "source_id": [shown_ids[i] for i in rows],
            "name": [names[i] for i in rows],
            "x": x[rows],
            "y": y[rows],
            "sector": [sectors[i] for i in rows],
            "height": [float(stack_table[classes_used[i]]["height"]) for i in rows],
            "diameter": [float(stack_table[classes_used[i]]["diameter"]) for i in rows],
            "temperature": [float(stack_table[classes_used[i]]["temperature"]) for i in rows],
            "velocity": [float(stack_table[classes_used[i]]["velocity"]) for i in rows],
            "start_year": np.full(rows.size, np.nan),
            "end_year": np.full(rows.size, np.nan),
        }
    )
    for p in pol_cols:
        col = wide[p]
        out[p] = [float(col.get(ids[i], 0.0)) for i in rows]
    report.update(
        {
            "layout": layout,
            "sites": len(sites),
            "sites_out": len(out),
            "emission_rows_without_site": int(orphan.sum()),
            "sites_without_emissions": len(silent),
            "sites_without_position": int(no_pos.size),
        }
    )
    out.attrs = {
        "crs": "EPSG:2154",
        "source_file": name,
        "irep": report,
        "activity_class": [classes_used[i] for i in rows],
    }
    log.info(
        "%s: %d IREP site(s), %d point source(s) with %s [t yr-1] from %s",
        name,
        len(sites),
        len(out),
        pol_cols,
        em_name,
    )
    return out
