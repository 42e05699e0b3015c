"""Hourly meteorology from real sources: Météo-France station files, NOAA ISD-Lite, ERA5.

Each reader turns its source into exactly what :func:`~trajectoire.meteo.readers.read_hourly`
returns (one shared path: the hours are put on a complete hourly UTC axis, the gaps counted,
reported and kept as NaN, the values converted and checked), so that the result feeds
:func:`~trajectoire.meteo.stability.add_stability` and
:func:`~trajectoire.meteo.classes.met_classes` unchanged:

* :func:`read_meteo_france`: the public hourly CSV files of Météo-France ("données
  climatologiques de base horaires", ``H_59_previous-2020-2022.csv.gz``);
* :func:`read_isd_lite`: NOAA ISD-Lite fixed-width files (``070150-99999-2021.gz``);
* :func:`read_era5`: ERA5 single-level NetCDF files from the Copernicus Climate Data Store.

:func:`read_meteo` dispatches on a format name (:data:`METEO_FORMATS`), as the run's
configuration does. Every error is one line naming the file, the field and, when the caller
gives it, the configuration key that names the input (`config_key`).
"""

from __future__ import annotations

import gzip
import inspect
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import rows_preview
from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    UnitsError,
    config_option,
    named_by,
    warn,
)
from trajectoire.meteo.readers import (
    _FILE_CALENDAR_FIX,
    _concat,
    _era5_columns,
    _hourly_dataset,
    _input_files,
    _netcdf_point,
    _refuse_cftime,
    _require_celsius,
    read_hourly,
)
from trajectoire.tables import (
    Provenance,
    detect_dialect,
    keyword_options,
    numeric_column,
    read_table,
    with_options,
)

__all__ = [
    "ERA5_VARIABLES",
    "METEO_FORMATS",
    "MF_COLUMNS",
    "MetSite",
    "read_era5",
    "read_isd_lite",
    "read_meteo",
    "read_meteo_france",
]

log = logging.getLogger("trajectoire")

PathArg = str | Path | Sequence[str | Path]

#: most solar energy an hour can bring to the ground [J m-2] (solar constant x 3600 s)
_MAX_HOURLY_SOLAR = 1361.0 * 3600.0


# ------------------------------------------------------------------ messages
def _fix(config_key: str | None, setting: str | None = None) -> str:
    """The closing sentence naming what to change: the file, or `setting` in `config_key`."""
    if not config_key:
        return " Fix the file." if setting is None else f" Fix the file or pass {setting}."
    if setting is None:
        return f" Fix the file or the path given by {config_key}."
    return f" Fix the file or set {config_option(config_key, setting)}."


def _station_setting(config_key: str | None) -> str:
    """How to give the station: the configuration setting, else the keyword."""
    return f"set {config_option(config_key, 'station')}" if config_key else "pass station"


def _file_label(file: Path, files: Sequence[Path], what: str | None) -> str:
    """The name of one of `files` in messages: `what` when it is the only file, else its path."""
    return what if what and len(files) == 1 else str(file)


def _label(path: PathArg, what: str | None) -> str:
    """The input's name in messages: `what`, else the path, or the files of a list."""
    if what:
        return what
    if isinstance(path, str | Path):
        return str(path)
    return rows_preview([str(p) for p in path], 3) or "(no file)"


class MetSite(Provenance, total=False):
    """The keywords every meteorology reader of this module takes.

    :func:`read_meteo_france`, :func:`read_isd_lite` and :func:`read_era5` take, beside
    `what` and `config_key` (:class:`~trajectoire.tables.Provenance`), the site, passed on
    to the shared reading path of :func:`~trajectoire.meteo.readers.read_hourly`. A
    keyword outside the group is a :class:`TypeError` naming it.

    Attributes
    ----------
    latitude, longitude : float or None
        Site position [degree], default None. A station file that gives its position
        (Météo-France ``LAT``/``LON``) is read at its own; ERA5 reads the grid point nearest
        to it (required); ISD-Lite files carry none (Turner's method needs it).
    roughness_length : float or None
        z0 [m], default None: passed through as by
        :func:`~trajectoire.meteo.readers.read_hourly`.
    anemometer_height : float
        Height of the wind measurement [m], default 10.0 (``FF``, ISD-Lite and ERA5
        ``u10``/``v10`` are at 10 m).
    missing : {"warn", "raise"}
        Missing hours, as in :func:`~trajectoire.meteo.readers.read_hourly`; default
        ``"warn"``.
    """

    latitude: float | None
    longitude: float | None
    roughness_length: float | None
    anemometer_height: float
    missing: str


#: the defaults of :class:`MetSite` that are not None
_MET_DEFAULTS: dict[str, Any] = {"anemometer_height": 10.0, "missing": "warn"}
#: the keys of :class:`MetSite` passed on to the shared reading path: the site's
_SITE_KEYS = tuple(k for k in MetSite.__annotations__ if k not in Provenance.__annotations__)


def _to_hourly(
    frame: pd.DataFrame,
    where: str,
    files: Sequence[Path],
    options: MetSite,
    *,
    temperature_units: str | None,
    call: str,
    attrs: dict[str, Any],
    temperature_field: str,
    kelvin_fix: str | None = None,
) -> xr.Dataset:
    """What a reader returns: the rows of `frame` (temperature in `temperature_units`) on the
    shared reading path of :func:`~trajectoire.meteo.readers.read_hourly` with the site
    keywords of the reader's `options`, the `files` read as ``source_file``, `call` as the
    history line and errors named by its ``config_key`` (`temperature_field`: the
    temperature's column in the reader's files, `kelvin_fix` the end of the message on
    degC where the file says kelvin); the gap warning is attributed to the reader's caller."""
    site: dict[str, Any] = {k: options.get(k) for k in _SITE_KEYS}
    config_key = options.get("config_key")
    with named_by(config_key):
        return _hourly_dataset(
            frame,
            where,
            **site,
            temperature_units=temperature_units,
            call=call,
            source_file=", ".join(str(f) for f in files),
            attrs=attrs,
            stacklevel=5,
            temperature_field=temperature_field,
            celsius_fix=_celsius_fix(config_key) if temperature_units == "degC" else None,
            kelvin_fix=kelvin_fix,
        )


def _column_names(
    defaults: Mapping[str, str],
    columns: Mapping[str, str] | None,
    where: str,
    config_key: str | None,
) -> dict[str, str]:
    """`defaults` (canonical name -> column of the real file) updated by `columns`."""
    given = dict(columns or {})
    unknown = sorted(set(given) - set(defaults))
    key = config_option(config_key, "columns")
    if unknown:
        raise ConfigError(
            f"{where}: unknown name(s) {unknown} in {key}; expected some of {list(defaults)} "
            "(canonical name = the column of your file)."
        )
    bad = {k: v for k, v in given.items() if not isinstance(v, str) or not v.strip()}
    if bad:
        raise ConfigError(f"{where}: {key} maps {bad}; expected a column name (text) for each.")
    return {**defaults, **{k: v.strip() for k, v in given.items()}}


def _source_files(
    path: PathArg, pattern: re.Pattern[str], kind: str, what: str | None, config_key: str | None
) -> list[Path]:
    """One file, the files of a list, or the files of a folder whose names match `pattern`."""
    return _input_files(
        path,
        in_folder=lambda p: sorted(
            f for f in p.iterdir() if f.is_file() and pattern.fullmatch(f.name)
        ),
        names=repr(pattern.pattern),
        kind=kind,
        what=what,
        config_key=config_key,
    )


def _lines(file: Path, config_key: str | None) -> Iterator[bytes]:
    """The lines of `file` (gunzipped when compressed), end of line removed."""
    raw = file.open("rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
        try:
            for line in stream:
                yield line.rstrip(b"\r\n")
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                f"{file}: not a readable gzip file ({exc}); expected a complete .gz file or "
                "a plain text file." + _fix(config_key)
            ) from None
    finally:
        raw.close()


def _check_field(
    values: np.ndarray,
    times: pd.DatetimeIndex | np.ndarray,
    lo: float,
    hi: float,
    where: str,
    field: str,
    expected: str,
    config_key: str | None,
) -> None:
    """Raise InputError naming the hours where `values` leave ``[lo, hi]`` (NaN passes)."""
    with np.errstate(invalid="ignore"):
        bad = (values < lo) | (values > hi)
    if bad.any():
        idx = np.flatnonzero(bad)
        when = [f"{pd.Timestamp(t):%Y-%m-%dT%H}" for t in np.asarray(times)[idx]]
        raise InputError(
            f"{where}, {field}: {idx.size} value(s) outside [{lo:g}, {hi:g}] at "
            f"{rows_preview(when, 5)} (e.g. {float(values[idx[0]])!r}); expected {expected}."
            + _fix(config_key)
        )


def _celsius_fix(config_key: str | None) -> str:
    """The end of the message on kelvin where a format gives degC (:func:`_require_celsius`)."""
    return (
        "the format gives degC. Convert the column to degC, or write the file in the "
        "'trajectoire' format with temperature_units = 'K'." + _fix(config_key)
    )


def _required_values(
    values: np.ndarray, where: str, field: str, meaning: str, config_key: str | None, hint: str
) -> None:
    """Raise InputError when the required `field` has no value at all."""
    if values.size and not np.isfinite(values).any():
        raise InputError(
            f"{where}, {field}: no value in any of the {values.size} hour(s); {meaning} is "
            f"required (the hourly classes need it). {hint}"
            + (f" The input is named by {config_key}." if config_key else "")
        )


def _codes_to_nan(
    values: np.ndarray, codes: np.ndarray, where: str, field: str, meaning: str
) -> np.ndarray:
    """`values` with the hours holding one of `codes` set to NaN (counted in a warning)."""
    hit = np.isin(values, codes)
    if hit.any():
        warn(
            f"{where}, {field}: {int(hit.sum())} hour(s) coded {sorted({int(v) for v in values[hit]})} "
            f"({meaning}) are taken as missing cloud cover (NaN): the stability class of "
            "those hours is unknown and they are left out of the frequency tables.",
            stacklevel=4,
        )
        values = np.where(hit, np.nan, values)
    return values


def _observations(
    when: np.ndarray,
    speed: np.ndarray,
    direction: np.ndarray,
    cloud: np.ndarray,
    temperature: np.ndarray,
) -> pd.DataFrame:
    """The rows of :func:`_hourly_dataset` from the checked fields (direction 360 -> 0)."""
    return pd.DataFrame(
        {
            "time": when,
            "wind_speed": speed,
            "wind_direction": np.mod(direction, 360.0),
            "cloud_cover": cloud,
            "temperature": temperature,
        }
    )


#: a station farther than this from the site given [km] is warned about (a file of another
#: département, or a station number mistyped): a region's stations lie within it
_FAR_STATION_KM = 100.0


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance [km] between two positions [degree] on the WGS84 ellipsoid
    (:meth:`pyproj.Geod.inv`, Karney 2013, J. Geodesy 87, 43)."""
    import pyproj

    _, _, metres = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return float(metres) / 1000.0


def _position(
    file_lat: float | None,
    file_lon: float | None,
    latitude: float | None,
    longitude: float | None,
    where: str,
    setting: str = "pass station",
) -> tuple[float | None, float | None]:
    """The station's position: the file's when it has one, else the one given.

    A station more than :data:`_FAR_STATION_KM` from the site given is warned about
    (`setting` names how to choose the station); nearer, a difference is logged.
    """
    if file_lat is None or file_lon is None:
        return latitude, longitude
    if latitude is not None and longitude is not None:
        km = _distance_km(file_lat, file_lon, latitude, longitude)
        if km > _FAR_STATION_KM:
            configured = setting.startswith("set ")
            site = "[meteo] latitude, longitude" if configured else "latitude=, longitude="
            warn(
                f"{where}: the station lies at ({file_lat:.4f}, {file_lon:.4f}), {km:.0f} km "
                f"from the site given ({latitude:g}, {longitude:g}); the station's position "
                f"is used, and its winds stand for the site's. Check the station ({setting} = "
                f'"<NUM_POSTE>" of a station near the site) or the site position ({site}).',
                stacklevel=4,
            )
        elif abs(latitude - file_lat) > 0.05 or abs(longitude - file_lon) > 0.05:
            log.info(
                "%s: the station position of the file (%.4f, %.4f) is used, not the "
                "latitude/longitude given (%.4f, %.4f)",
                where,
                file_lat,
                file_lon,
                latitude,
                longitude,
            )
    return file_lat, file_lon


# ------------------------------------------------------------------ Météo-France
_MF_FILES = re.compile(r"H_.*\.csv(\.gz)?", re.IGNORECASE)
#: canonical name -> column of the Météo-France hourly files (H_descriptif_champs.csv)
MF_COLUMNS = {
    "station": "NUM_POSTE",
    "station_name": "NOM_USUEL",
    "latitude": "LAT",
    "longitude": "LON",
    "altitude": "ALTI",
    "time": "AAAAMMJJHH",
    "wind_speed": "FF",
    "wind_direction": "DD",
    "temperature": "T",
    "cloud_cover": "N",
    "solar_radiation": "GLO",
}
#: the UTF-8 byte-order mark some editors write before the header (Excel's "CSV UTF-8")
_UTF8_BOM = b"\xef\xbb\xbf"
#: J cm-2 per hour -> W m-2
_J_CM2_PER_HOUR = 1e4 / 3600.0


def _station_code(value: object) -> str:
    """A Météo-France station number as written in the files (8 digits, leading zeros)."""
    text = str(value).strip().strip('"').strip()
    return text.zfill(8) if text.isdigit() else text


class _StationRows:
    """The header and the rows of one station in a Météo-France file (the others skipped)."""

    def __init__(self, file: Path, key: str, name_key: str, config_key: str | None) -> None:
        self.file = file
        self.header = b""
        self.sep = ";"
        self.key = key
        self.name_key = name_key
        self.config_key = config_key
        self.stations: dict[str, str] = {}  # code -> name, in file order

    def read(self, station: str | None) -> tuple[bytes, list[int]]:
        """The CSV bytes (header + the rows of `station`, all rows when None) and the file
        line number of each row."""
        lines = _lines(self.file, self.config_key)
        number = 0
        for line in lines:
            number += 1
            if number == 1 and line.startswith(_UTF8_BOM):
                line = line[len(_UTF8_BOM) :]  # a byte-order mark, as read_table's utf-8-sig
            if line.strip():
                self.header = line
                break
        if not self.header:
            raise InputError(
                f"{self.file}: empty file; expected the header line of a Météo-France hourly "
                "file (NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJHH;...)." + _fix(self.config_key)
            )
        self.sep = detect_dialect(self.header + b"\n", what=str(self.file)).sep
        sep = self.sep.encode()
        names = [
            c.strip().strip('"').strip() for c in self.header.decode("latin-1").split(self.sep)
        ]
        if self.key not in names:
            fix = _fix(self.config_key, 'columns.station = "<your column>"')
            raise MissingVariableError(
                f"{self.file}: no column {self.key!r} (station number); found "
                f"{rows_preview(names, 12)}. Expected a Météo-France hourly file." + fix
            )
        at = names.index(self.key)
        name_at = names.index(self.name_key) if self.name_key in names else None
        kept = [self.header]
        numbers: list[int] = []
        for line in lines:
            number += 1
            if not line.strip():
                continue
            fields = line.split(sep, max(at, name_at or 0) + 1)
            code = _station_code(fields[at].decode("latin-1")) if len(fields) > at else ""
            if code not in self.stations:
                name = fields[name_at] if name_at is not None and len(fields) > name_at else b""
                self.stations[code] = name.decode("utf-8", "replace").strip().strip('"')
            if station is None or code == station:
                kept.append(line)
                numbers.append(number)
        return b"\n".join(kept) + b"\n", numbers


def _choose_station(
    station: str | int | None, found: dict[str, str], where: str, config_key: str | None
) -> str:
    """The station code to read: `station`, or the only one of the file."""
    listed = rows_preview([f"{c} {n}".strip() for c, n in found.items()], 10)
    setting = _station_setting(config_key)
    if station is None:
        if len(found) == 1:
            return next(iter(found))
        raise InputError(
            f'{where}: holds {len(found)} stations ({listed}); {setting} = "<NUM_POSTE>" to '
            "say which one to read."
        )
    code = _station_code(station)
    if code not in found:
        raise InputError(
            f"{where}: no row of station {code!r} (column NUM_POSTE); the file holds "
            f'{listed}. Fix the station number ({setting} = "<NUM_POSTE>").'
        )
    return code


def _mf_frame(
    file: Path,
    station: str | int | None,
    names: dict[str, str],
    label: str,
    config_key: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The hourly rows of one station in one Météo-France file, in the units of read_hourly
    (temperature in degC), and the station's description."""
    rows = _StationRows(file, names["station"], names["station_name"], config_key)
    data, numbers = rows.read(None if station is None else _station_code(station))
    code = _choose_station(station, rows.stations, label, config_key)
    name = rows.stations.get(code, "")
    where = f"{label}, station {code}" + (f" ({name})" if name else "")
    frame = read_table(
        io.BytesIO(data),
        what=where,
        sep=rows.sep,
        dtype={names["station"]: str, names["time"]: str},
        config_key=config_key,
        require_rows=True,
        expected="a header line and one line per station and hour",
    )
    frame.index = pd.Index(np.asarray(numbers) - 2)  # numeric_column names the file lines
    required = ("time", "wind_speed", "wind_direction", "temperature", "cloud_cover")
    meaning = {
        "time": "date and hour, UTC, AAAAMMJJHH",
        "wind_speed": "10-min mean wind at 10 m [m/s]",
        "wind_direction": "direction of FF [degree, 360 = north]",
        "temperature": "air temperature [degC]",
        "cloud_cover": "total cloud cover [octa]",
    }
    for key in required:
        if names[key] not in frame.columns:
            raise MissingVariableError(
                f"{where}: no column {names[key]!r} ({meaning[key]}); found "
                f"{rows_preview(list(frame.columns), 12)}."
                + _fix(config_key, f'columns.{key} = "<your column>"')
            )
    text = frame[names["time"]].astype(str).str.strip()
    times = pd.to_datetime(text, format="%Y%m%d%H", errors="coerce")
    if times.isna().any():
        bad = np.flatnonzero(times.isna().to_numpy())
        shown = [f"{text.iloc[i]!r} at line {int(frame.index[i]) + 2}" for i in bad.tolist()]
        raise InputError(
            f"{where}, column {names['time']!r}: {bad.size} value(s) are not dates "
            f"({rows_preview(shown, 5)}); expected AAAAMMJJHH (UTC), e.g. 2021010113."
            + _fix(config_key)
        )

    def number(key: str, units: str) -> np.ndarray:
        return numeric_column(
            frame, names[key], what=where, config_key=config_key, allow_nan=True, units=units
        )

    ff = number("wind_speed", "m/s")
    dd = number("wind_direction", "degree")
    t = number("temperature", "degC")
    n = number("cloud_cover", "octa")
    when = times.to_numpy()
    field = {k: f"column {names[k]!r}" for k in names}
    _check_field(ff, when, 0.0, 75.0, where, field["wind_speed"], "m/s >= 0", config_key)
    _check_field(dd, when, 0.0, 360.0, where, field["wind_direction"], "degrees 0-360", config_key)
    _check_field(
        n, when, 0.0, 9.0, where, field["cloud_cover"], "octas 0-8 (9 = sky invisible)", config_key
    )
    _require_celsius(t, where, field["temperature"], _celsius_fix(config_key))
    hint = "Choose a station that observes it (a main synoptic station such as Lille-Lesquin 59343001)."
    for key, values in (
        ("wind_speed", ff),
        ("wind_direction", dd),
        ("temperature", t),
        ("cloud_cover", n),
    ):
        _required_values(values, where, field[key], meaning[key], config_key, hint)
    n = _codes_to_nan(
        n,
        np.array([9.0]),
        where,
        field["cloud_cover"],
        "9 = sky invisible: fog or other phenomenon",
    )
    out = _observations(when, ff, dd, n, t)
    out["_row"] = [f"line {i}" for i in numbers]  # the file lines, for the shared checks
    if names["solar_radiation"] in frame.columns:
        glo = number("solar_radiation", "J/cm2")
        _check_field(
            glo,
            when,
            0.0,
            _MAX_HOURLY_SOLAR / 1e4,
            where,
            field["solar_radiation"],
            "J/cm2 per hour >= 0",
            config_key,
        )
        if np.isfinite(glo).any():
            out["solar_radiation"] = glo * _J_CM2_PER_HOUR
    info: dict[str, Any] = {"station": code, "station_name": name, "where": where}
    for key in ("latitude", "longitude", "altitude"):
        if names[key] in frame.columns:
            values = number(key, "degree" if key != "altitude" else "m")
            finite = values[np.isfinite(values)]
            if finite.size:
                info[key] = float(finite[-1])  # the station's latest position
    return out, info


@with_options(MetSite, _MET_DEFAULTS)
def read_meteo_france(
    path: PathArg,
    *,
    station: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    **options: Unpack[MetSite],
) -> xr.Dataset:
    """Read one station of the Météo-France public hourly files ("données climatologiques
    de base horaires").

    The files (``H_<département>_<period>.csv.gz``, e.g. ``H_59_previous-2020-2022.csv.gz``)
    are semicolon-separated, one line per station and hour, with the fields of the official
    description ``H_descriptif_champs.csv`` (Météo-France, Licence Ouverte 2.0). The fields
    read are ``NUM_POSTE`` (station number, 8 digits), ``NOM_USUEL``, ``LAT``, ``LON``
    [degree], ``ALTI`` [m], ``AAAAMMJJHH`` (date and hour, UTC), ``FF`` (10-min mean wind
    at 10 m [m/s]), ``DD`` (its direction [degree], 360 = north, 0 = calm), ``T`` (air
    temperature [degC]), ``N`` (total cloud cover [octa], 9 = sky invisible) and, when
    present, ``GLO`` (global radiation of the UTC hour [J cm-2]). The quality codes
    (``QFF``, ``QT``, ...) are not read: every value is taken as published.

    Parameters
    ----------
    path : str, Path or sequence of them
        A file (``.csv`` or ``.csv.gz``), a list of files (concatenated, e.g. the
        ``previous`` and ``latest`` periods), or a folder (its ``H_*.csv(.gz)`` files).
    station : str or int, optional
        The ``NUM_POSTE`` to read (``"59343001"`` Lille-Lesquin, ``"59183001"``
        Dunkerque); required when a file holds several stations (a département file does).
    columns : mapping of str to str, optional
        Canonical name -> column of the file, to read a file whose columns differ; keys among
        ``station, station_name, latitude, longitude, altitude, time, wind_speed,
        wind_direction, temperature, cloud_cover, solar_radiation`` (:data:`MF_COLUMNS` gives
        the defaults; e.g. ``{"wind_speed": "FF2", "wind_direction": "DD2"}`` with
        ``anemometer_height=2``).
    **options
        Other keywords: see :class:`MetSite` (`what`, `config_key`, the site); `latitude`,
        `longitude` are used only when the file has no ``LAT``/``LON``.

    Returns
    -------
    xarray.Dataset
        As :func:`~trajectoire.meteo.readers.read_hourly`: ``wind_speed`` [m s-1],
        ``wind_direction`` [degree, from, 0 = north], ``cloud_cover`` [okta],
        ``temperature`` [K] and, when ``GLO`` has values, ``solar_radiation`` [W m-2] (the
        mean of the hour ending at the time stamp: GLO x 10^4 / 3600), on a complete hourly
        UTC ``time`` axis; attrs ``latitude``, ``longitude``, ``missing_hours``,
        ``missing_periods``, ``source_file``, plus ``station``, ``station_name``,
        ``altitude`` [m].

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is absent.
    trajectoire.InputError
        Missing file, several stations and no `station`, a station not in the file, text
        or out-of-range values (naming the line or the hour), a required field without any
        value (a station that does not observe the cloud cover), missing hours with
        ``missing="raise"``.
    trajectoire.UnitsError
        Temperatures that cannot be degC (kelvin).
    trajectoire.ConfigError
        Unknown keys in `columns`.

    Notes
    -----
    Cloud cover 9 (sky invisible: fog) is taken as missing (NaN, counted in a warning);
    direction 360 becomes 0. Hours without a line are missing hours; empty cells are NaN.

    References
    ----------
    Météo-France, "Données climatologiques de base - horaires",
    https://meteo.data.gouv.fr/datasets/donnees-climatologiques-de-base-horaires; field
    description ``H_descriptif_champs.csv``,
    https://object.files.data.gouv.fr/meteofrance/data/synchro_ftp/BASE/HOR/H_descriptif_champs.csv
    """
    given = keyword_options(MetSite, "read_meteo_france", options, _MET_DEFAULTS)
    what, config_key = given["what"], given["config_key"]
    label0 = _label(path, what)
    names = _column_names(MF_COLUMNS, columns, label0, config_key)
    files = _source_files(path, _MF_FILES, "Météo-France hourly (H_*.csv.gz)", what, config_key)
    frames: list[pd.DataFrame] = []
    info: dict[str, Any] = {}
    chosen: str | int | None = station
    for file in files:
        label = _file_label(file, files, what)
        try:
            frame, info_file = _mf_frame(file, chosen, names, label, config_key)
        except InputError as exc:
            if chosen is not None and len(files) > 1 and "no row of station" in str(exc):
                warn(f"{exc} This file is skipped.", stacklevel=2)
                continue
            raise
        chosen = info_file["station"]
        if len(files) > 1:
            frame["_row"] = file.name + " " + frame["_row"]
        frames.append(frame)
        info = info or info_file
    if not frames:
        raise InputError(
            f"{label0}: no file holds station {_station_code(chosen)!r}."
            + _fix(config_key, 'station = "<NUM_POSTE>"')
        )
    frame = _concat(frames)
    where = info["where"] if len(files) == 1 else f"{label0}, station {info['station']}"
    lat, lon = _position(
        info.get("latitude"),
        info.get("longitude"),
        given["latitude"],
        given["longitude"],
        where,
        _station_setting(config_key),
    )
    attrs = {"station": info["station"], "station_name": info["station_name"]}
    if "altitude" in info:
        attrs["altitude"] = info["altitude"]
    return _to_hourly(
        frame,
        where,
        files,
        {**given, "latitude": lat, "longitude": lon},
        temperature_units="degC",
        call=f"read_meteo_france({label0!r}, station={info['station']!r})",
        attrs=attrs,
        temperature_field=f"column {names['temperature']!r}",
    )


# ------------------------------------------------------------------ NOAA ISD-Lite
_ISD_FILES = re.compile(r"(\d{6}-\d{5})-(\d{4})(\.gz)?")
_ISD_MISSING = -9999
#: the temperature field of an ISD-Lite line, in messages
_ISD_FIELD_TEMPERATURE = "field 5 (air temperature [degC x 10])"
_ISD_FIELDS = (
    "year",
    "month",
    "day",
    "hour",
    "air temperature [degC x 10]",
    "dew point [degC x 10]",
    "sea-level pressure [hPa x 10]",
    "wind direction [degree]",
    "wind speed [m/s x 10]",
    "sky condition total coverage code",
    "1-h precipitation [mm x 10]",
    "6-h precipitation [mm x 10]",
)


def _isd_rows(file: Path, where: str, config_key: str | None) -> np.ndarray:
    """The 12 integer fields of every line of an ISD-Lite file, as an (n, 12) int64 array."""
    rows: list[list[int]] = []
    for number, line in enumerate(_lines(file, config_key), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            if len(fields) != len(_ISD_FIELDS):
                raise ValueError
            rows.append([int(f) for f in fields])
        except ValueError:
            shown = line.decode("latin-1")
            shown = shown if len(shown) <= 70 else shown[:67] + "..."
            raise InputError(
                f"{where}: line {number} is not an ISD-Lite record ({shown!r}, "
                f"{len(fields)} field(s)); expected 12 integers (year month day hour "
                "temperature dew-point pressure direction speed sky-cover precip-1h "
                "precip-6h, -9999 = missing)." + _fix(config_key)
            ) from None
    if not rows:
        raise InputError(
            f"{where}: no record; expected one ISD-Lite line per hour." + _fix(config_key)
        )
    return np.asarray(rows, dtype=np.int64)


def _isd_frame(file: Path, where: str, config_key: str | None) -> pd.DataFrame:
    """The hourly rows of one ISD-Lite file in the units of read_hourly (temperature degC)."""
    raw = _isd_rows(file, where, config_key)
    stamp = pd.DataFrame(raw[:, :4], columns=["year", "month", "day", "hour"])
    times = pd.to_datetime(stamp, errors="coerce")
    if times.isna().any():
        bad = np.flatnonzero(times.isna().to_numpy())
        shown = [" ".join(map(str, raw[i, :4])) for i in bad]
        raise InputError(
            f"{where}: {bad.size} record(s) with an impossible date ({rows_preview(shown, 5)}); "
            "expected year month day hour (UTC)." + _fix(config_key)
        )
    values = np.where(raw == _ISD_MISSING, np.nan, raw.astype(float))
    when = times.to_numpy()
    field = {i: f"field {i + 1} ({_ISD_FIELDS[i]})" for i in range(len(_ISD_FIELDS))}
    t = values[:, 4] / 10.0
    wd = values[:, 7]
    ws = values[:, 8] / 10.0
    sky = values[:, 9]
    _check_field(ws, when, 0.0, 75.0, where, field[8], "m/s x 10 >= 0", config_key)
    _check_field(wd, when, 0.0, 360.0, where, field[7], "degrees 0-360", config_key)
    _check_field(sky, when, 0.0, 19.0, where, field[9], "a code 0-19", config_key)
    _require_celsius(t, where, field[4], _celsius_fix(config_key))
    hint = "Choose another station, or another source for this field."
    meaning = {4: "the air temperature", 7: "the wind direction", 8: "the wind speed"}
    for i, v in ((4, t), (7, wd), (8, ws)):
        _required_values(v, where, field[i], meaning[i], config_key, hint)
    _required_values(sky, where, field[9], "the total cloud cover", config_key, hint)
    sky = _codes_to_nan(
        sky,
        np.arange(9.0, 20.0),
        where,
        field[9],
        "9 = sky obscured, 10-19 = obscuration or coverage without oktas",
    )
    _required_values(sky, where, field[9], "the total cloud cover in oktas", config_key, hint)
    return _observations(when, ws, wd, sky, t)


@with_options(MetSite, _MET_DEFAULTS)
def read_isd_lite(
    path: PathArg, *, station: str | None = None, **options: Unpack[MetSite]
) -> xr.Dataset:
    """Read NOAA ISD-Lite hourly files (one station, one file a year).

    ISD-Lite files (``USAF-WBAN-YEAR.gz``, e.g. ``070150-99999-2021.gz`` for
    Lille-Lesquin) hold one fixed-width line per hour with 12 integer fields: year, month,
    day, hour (UTC), air temperature [degC x 10], dew point [degC x 10], sea-level pressure
    [hPa x 10], wind direction [degree, 0 for calm], wind speed [m/s x 10], sky condition
    total coverage code (0-8 oktas; 9 = sky obscured, 10-19 = obscuration and METAR-style
    amounts), 1-h and 6-h precipitation [mm x 10]; -9999 is missing.

    Parameters
    ----------
    path : str, Path or sequence of them
        A file (plain or ``.gz``), a list of files (e.g. one per year), or a folder (its
        ``USAF-WBAN-YEAR(.gz)`` files).
    station : str, optional
        ``"USAF-WBAN"`` (``"070150-99999"``) to pick the files of one station in a folder
        that holds several.
    **options
        Other keywords: see :class:`MetSite`; the station position (`latitude`,
        `longitude`) is in NOAA's ``isd-history.csv`` (Lille-Lesquin 50.570, 3.098).

    Returns
    -------
    xarray.Dataset
        As :func:`~trajectoire.meteo.readers.read_hourly` (``wind_speed`` [m s-1],
        ``wind_direction`` [degree], ``cloud_cover`` [okta], ``temperature`` [K]), with the
        attribute ``station`` (``USAF-WBAN`` from the file name) when the names say it.

    Raises
    ------
    trajectoire.InputError
        Missing file, a line that is not 12 integers, an impossible date, out-of-range
        values, a field without any value, missing hours with ``missing="raise"``.
    trajectoire.UnitsError
        Temperatures that cannot be degC x 10 (kelvin x 10).

    Notes
    -----
    Sky-cover codes 9 to 19 carry no okta amount: they are taken as missing (NaN, counted
    in a warning), as is -9999. Direction 360 becomes 0; a calm (0, speed 0) stays 0.

    References
    ----------
    NOAA NCEI, "Integrated Surface Data - Lite, Format Documentation" (June 20, 2006),
    https://www.ncei.noaa.gov/pub/data/noaa/isd-lite/isd-lite-format.pdf, and the
    "ISD-Lite Technical Document", same folder.
    """
    given = keyword_options(MetSite, "read_isd_lite", options, _MET_DEFAULTS)
    what, config_key = given["what"], given["config_key"]
    label0 = _label(path, what)
    files = _source_files(path, _ISD_FILES, "ISD-Lite (USAF-WBAN-YEAR.gz)", what, config_key)
    ids = {f: m.group(1) for f in files if (m := _ISD_FILES.fullmatch(f.name))}
    if station is not None:
        chosen = [f for f in files if ids.get(f) == str(station).strip()]
        if not chosen:
            found = sorted(set(ids.values()))
            setting = _station_setting(config_key)
            raise InputError(
                f"{label0}: no file of station {str(station)!r}; the files are of "
                f"{rows_preview(found, 10) or 'unnamed stations'}. Fix the station "
                f'({setting} = "USAF-WBAN") or the path.'
            )
        files = chosen
    stations = sorted({ids[f] for f in files if f in ids})
    if len(stations) > 1:
        setting = _station_setting(config_key)
        raise InputError(
            f"{label0}: files of {len(stations)} stations ({rows_preview(stations, 10)}); "
            f'{setting} = "USAF-WBAN" to say which one to read.'
        )
    frames = []
    for file in files:
        frames.append(_isd_frame(file, _file_label(file, files, what), config_key))
    frame = _concat(frames)
    attrs = {"station": stations[0]} if stations else {}
    return _to_hourly(
        frame,
        what or (str(files[0]) if len(files) == 1 else label0),
        files,
        given,
        temperature_units="degC",
        call=f"read_isd_lite({label0!r})",
        attrs=attrs,
        temperature_field=f"{_ISD_FIELD_TEMPERATURE} read as degC",
    )


# ------------------------------------------------------------------ ERA5
_ERA5_FILES = re.compile(r".*\.(nc|nc4|netcdf)", re.IGNORECASE)
#: ERA5 short name -> (its name in the Climate Data Store requests, required by the reader);
#: the optional ones are read when present (``solar_radiation``, ``mixing_height``)
_ERA5_CDS = {
    "u10": ("10m_u_component_of_wind", True),
    "v10": ("10m_v_component_of_wind", True),
    "t2m": ("2m_temperature", True),
    "tcc": ("total_cloud_cover", True),
    "ssrd": ("surface_solar_radiation_downwards", False),
    "blh": ("boundary_layer_height", False),
}
#: canonical ERA5 short name -> variable of the file
ERA5_VARIABLES = {name: name for name in _ERA5_CDS}


def _era5_point(
    file: Path,
    names: dict[str, str],
    latitude: float,
    longitude: float,
    where: str,
    config_key: str | None,
) -> xr.Dataset:
    """The ERA5 variables of one file at the grid point nearest to the site, loaded."""
    try:
        ds = xr.open_dataset(file)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{where}: not a readable NetCDF file ({' '.join(str(exc).split())[:120]}); "
            "expected an ERA5 single-level NetCDF file from the Climate Data Store."
            + _fix(config_key)
        ) from None
    try:
        rename = {v: k for k, v in names.items() if v in ds.variables and v != k}
        keep = [k for k in names if names[k] in ds.data_vars]
        if not keep:
            found = sorted(map(str, ds.data_vars))
            setting = config_option(config_key, "columns.u10")
            raise MissingVariableError(
                f"{where}: none of the ERA5 variables {list(names.values())} "
                f"({', '.join(cds for cds, _ in _ERA5_CDS.values())}); the file has "
                f"{rows_preview(found, 8) or 'no variable'}. Download ERA5 single levels from "
                f"the CDS, or if the file names them otherwise map them: {setting} = "
                '"<your variable>", ...'
            )
        ds = ds[[names[k] for k in keep]].rename(rename)
        for dim in ("expver", "number"):  # ERA5/ERA5T versions, a one-member ensemble axis
            if dim in ds.dims:
                ds = ds.max(dim, keep_attrs=True) if dim == "expver" else ds.isel({dim: 0})
        ds = ds.drop_vars([c for c in ("expver", "number") if c in ds.coords])
        lon_name = next((n for n in ("longitude", "lon") if n in ds.dims), None)
        if lon_name is not None:
            if float(ds[lon_name].max()) > 180.0 and longitude < 0:
                longitude = longitude + 360.0  # a 0-360 grid
            if not ds.indexes[lon_name].is_monotonic_increasing:
                ds = ds.sortby(lon_name)
        point = _netcdf_point(ds, where, latitude, longitude)
        for dim, want in (("latitude", latitude), ("longitude", longitude)):
            name = next((n for n in (dim, dim[:3]) if n in ds.dims), None)
            if name is None:
                continue
            grid = ds[name].to_numpy().astype(float)
            step = float(np.abs(np.diff(grid)).min()) if grid.size > 1 else 0.25
            if abs(float(point[name]) - want) > step:
                raise InputError(
                    f"{where}: the site {dim} {want:g} is outside the grid "
                    f"({grid.min():g} to {grid.max():g}); download an area around the site "
                    "or fix the site position (latitude, longitude)." + _fix(config_key)
                )
        return point.load()
    finally:
        ds.close()


@with_options(MetSite, _MET_DEFAULTS)
def read_era5(
    path: PathArg, *, columns: Mapping[str, str] | None = None, **options: Unpack[MetSite]
) -> xr.Dataset:
    """Read ERA5 hourly single-level NetCDF files at the grid point nearest to the site.

    The Climate Data Store ("ERA5 hourly data on single levels from 1940 to present")
    writes ``u10``, ``v10`` [m s-1], ``t2m`` [K], ``tcc`` [0-1], ``ssrd`` [J m-2,
    accumulated over the hour ending at the time stamp] and ``blh`` [m] on ``valid_time``
    (``time`` in older files), ``latitude``, ``longitude``; a request with instantaneous
    and accumulated variables comes as two files (``...stepType-instant.nc``,
    ``...stepType-accum.nc``): give both, they are merged.

    Parameters
    ----------
    path : str, Path or sequence of them
        A NetCDF file, a list of files (merged by variable and time, e.g. one per year and
        the instant/accum pair), or a folder (its ``*.nc`` files).
    columns : mapping of str to str, optional
        ERA5 short name -> variable of the file, for files written with other names; keys
        among ``u10, v10, t2m, tcc, ssrd, blh`` (e.g. ``{"u10": "VAR_10U"}``).
    **options
        Other keywords: see :class:`MetSite`; `latitude` and `longitude` are required (the
        grid point nearest to them is read).

    Returns
    -------
    xarray.Dataset
        As :func:`~trajectoire.meteo.readers.read_hourly`: ``wind_speed`` and
        ``wind_direction`` from ``u10``, ``v10``; ``cloud_cover`` = 8 ``tcc`` [okta];
        ``temperature`` [K]; ``solar_radiation`` = ``ssrd`` / 3600 s [W m-2] (mean of the
        hour ending at the time stamp) and ``mixing_height`` = ``blh`` [m] when present;
        attrs ``latitude``, ``longitude`` (the site), ``grid_latitude``,
        ``grid_longitude`` (the grid point read).

    Raises
    ------
    trajectoire.MissingVariableError
        ``u10``, ``v10``, ``t2m`` or ``tcc`` absent from every file.
    trajectoire.InputError
        No site position, a site outside the grid, unreadable or inconsistent files,
        out-of-range values, missing hours with ``missing="raise"``.
    trajectoire.UnitsError
        ``tcc`` above 1 (percent or okta), ``ssrd`` not in J m-2 or accumulated over more
        than an hour (ERA5-Land accumulates from 00 UTC), ``t2m`` not in K, ``u10`` or
        ``v10`` in a unit other than a speed (km/h and knots are converted to m s-1).
    trajectoire.ConfigError
        Unknown keys in `columns`.

    References
    ----------
    Hersbach, H. et al. (2023): ERA5 hourly data on single levels from 1940 to present.
    Copernicus Climate Change Service (C3S) Climate Data Store, doi:10.24381/cds.adbb2d47;
    parameter table and accumulation convention in the "ERA5: data documentation",
    https://confluence.ecmwf.int/display/CKB/ERA5%3A+data+documentation.
    """
    given = keyword_options(MetSite, "read_era5", options, _MET_DEFAULTS)
    what, config_key = given["what"], given["config_key"]
    latitude, longitude = given["latitude"], given["longitude"]
    label0 = _label(path, what)
    names = _column_names(ERA5_VARIABLES, columns, label0, config_key)
    files = _source_files(path, _ERA5_FILES, "ERA5 NetCDF (*.nc)", what, config_key)
    if latitude is None or longitude is None:
        setting = "[meteo] latitude and longitude" if config_key else "latitude=, longitude="
        raise InputError(
            f"{label0}: ERA5 is gridded: the site position is needed to pick the nearest "
            f"grid point; set {setting}."
        )
    parts = []
    for file in files:
        where = _file_label(file, files, what)
        parts.append(_era5_point(file, names, latitude, longitude, where, config_key))
    try:
        ds = (
            parts[0]
            if len(parts) == 1
            else xr.combine_by_coords(
                parts,
                compat="no_conflicts",
                data_vars="all",
                coords="different",
                join="outer",
                combine_attrs="drop_conflicts",
            )
        )
    except (ValueError, KeyError) as exc:
        raise InputError(
            f"{label0}: the files cannot be merged ({' '.join(str(exc).split())[:160]}); "
            "expected files of the same grid point that differ by variables or by hours."
            + _fix(config_key)
        ) from None
    assert isinstance(ds, xr.Dataset)
    absent = [k for k, (_, required) in _ERA5_CDS.items() if required and k not in ds]
    if absent:
        name = absent[0]
        found = sorted(map(str, ds.data_vars))
        raise MissingVariableError(
            f"{label0}: no variable {names[name]!r} ({_ERA5_CDS[name][0]}); found "
            f"{found}. Download it from the CDS, or if the file names it otherwise set "
            f'{config_option(config_key, f"columns.{name}")} = "<your variable>".'
        )
    if "ssrd" in ds:
        units = str(ds["ssrd"].attrs.get("units", "J m**-2")).replace(" ", "")
        if units not in ("Jm**-2", "Jm-2", "J/m2", "J/m**2"):
            raise UnitsError(
                f"{label0}, variable {names['ssrd']!r}: units {units!r}; expected 'J m**-2' "
                "accumulated over the hour (ERA5 hourly)." + _fix(config_key)
            )
        top = float(np.nanmax(ds["ssrd"].to_numpy())) if ds["ssrd"].size else 0.0
        if top > _MAX_HOURLY_SOLAR:
            raise UnitsError(
                f"{label0}, variable {names['ssrd']!r}: up to {top:.3g} J m-2 in an hour, more "
                "than the sun can bring (4.9e6); the values are accumulated over more than an "
                "hour (ERA5-Land accumulates from 00 UTC). Use ERA5 single levels, or difference "
                "the hours first." + _fix(config_key)
            )
    columns_of = _era5_columns(ds, label0, names=names, fix=_fix(config_key))
    _refuse_cftime(ds["time"].to_numpy(), f"{label0}, variable 'time'", _FILE_CALENDAR_FIX)
    frame = pd.DataFrame({"time": pd.to_datetime(ds["time"].to_numpy()), **columns_of})
    attrs = {}
    for dim in ("latitude", "longitude"):
        coord = next((ds[n] for n in (dim, dim[:3]) if n in ds.coords and ds[n].size == 1), None)
        if coord is not None:
            attrs[f"grid_{dim}"] = float(coord)
    return _to_hourly(
        frame,
        label0,
        files,
        given,
        temperature_units=ds["t2m"].attrs.get("units"),
        call=f"read_era5({label0!r}, latitude={latitude}, longitude={longitude})",
        attrs=attrs,
        temperature_field=f"variable {names['t2m']!r}",
        kelvin_fix=(
            (
                f"its units attribute says {ds['t2m'].attrs['units']!r}"
                if "units" in ds["t2m"].attrs
                else "it has no units attribute (read as K)"
            )
            + ", but the values are degC (ERA5's t2m is in K): convert the variable to K, "
            "or set its units attribute to 'degC'." + _fix(config_key)
        ),
    )


# ------------------------------------------------------------------ dispatch
METEO_FORMATS: dict[str, Callable[..., xr.Dataset]] = {
    "trajectoire": read_hourly,
    "meteo-france": read_meteo_france,
    "isd-lite": read_isd_lite,
    "era5": read_era5,
}
"""Format name -> reader of hourly meteorology (the ``format`` of the configuration)."""


def read_meteo(
    path: PathArg,
    *,
    format: str = "trajectoire",
    what: str | None = None,
    config_key: str | None = None,
    **options: Any,
) -> xr.Dataset:
    """Read hourly meteorology in one of :data:`METEO_FORMATS`.

    Parameters
    ----------
    path : str, Path or sequence of them
        The file(s) or folder, as the reader of `format` takes them.
    format : {"trajectoire", "meteo-france", "isd-lite", "era5"}, default "trajectoire"
        ``"trajectoire"``: :func:`~trajectoire.meteo.readers.read_hourly` (the library's
        CSV or NetCDF); the others: :func:`read_meteo_france`, :func:`read_isd_lite`,
        :func:`read_era5`.
    what : str, optional
        Name of the input in messages (not used by the ``"trajectoire"`` format, which names
        the file).
    config_key : str, optional
        Configuration key naming the input (``"[inputs.meteo]"``), quoted in messages.
    **options
        The keywords of the reader (``station``, ``columns``, ``latitude``, ``longitude``,
        ``roughness_length``, ``missing``, ...).

    Returns
    -------
    xarray.Dataset
        What :func:`~trajectoire.meteo.readers.read_hourly` returns.

    Raises
    ------
    trajectoire.ConfigError
        Unknown format, or an option the reader of that format does not take.
    trajectoire.InputError
        What the reader raises, with `config_key` in the message.
    """
    reader = METEO_FORMATS.get(format)
    where = config_option(config_key, "format")
    if reader is None:
        raise ConfigError(
            f"{where} = {format!r}: unknown meteorology format; expected one of "
            f"{list(METEO_FORMATS)}."
        )
    accepted = [
        p for p in inspect.signature(reader).parameters if p not in ("path", "what", "config_key")
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"{config_key + ': ' if config_key else ''}option(s) {unknown} are not read by "
            f"format {format!r}; its options are {accepted}."
        )
    if reader is read_hourly:
        with named_by(config_key):
            return read_hourly(path, **options)
    return reader(path, what=what, config_key=config_key, **options)
