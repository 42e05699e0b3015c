"""Hourly surface meteorology: reading CSV and NetCDF files, checking variables and ranges.

``read_hourly`` puts the hours of one or several files on a complete hourly UTC axis (gaps
counted, reported and kept as NaN); ``validate_hourly`` checks a dataset of that form.
See ``docs/meteorology.md`` for the columns and the choices.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._validate import require_columns, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, MissingVariableError, UnitsError, config_option, warn
from trajectoire.tables import (
    clock_goes_back,
    data_lines,
    numeric_column,
    read_table,
    zoned_times,
)
from trajectoire.units import conversion_factor

__all__ = ["read_hourly", "validate_hourly"]

_REQUIRED = ("time", "wind_speed", "wind_direction", "cloud_cover", "temperature")
_OPTIONAL = ("solar_radiation", "obukhov_length", "mixing_height", "ceiling_height")
_UNITS = {
    "wind_speed": "m s-1",
    "wind_direction": "degree",
    "cloud_cover": "okta",
    "temperature": "K",
    "solar_radiation": "W m-2",
    "obukhov_length": "m",
    "mixing_height": "m",
    "ceiling_height": "m",
}


def _hour_labels(times: Any) -> list[str]:
    """Hours (UTC) as messages name them: ``2018-06-01T03:00Z``."""
    return pd.DatetimeIndex(times).strftime("%Y-%m-%dT%H:%MZ").tolist()


def _check_range(
    values: np.ndarray,
    what: str,
    lo: float,
    hi: float,
    *,
    hi_open: bool = False,
    times: np.ndarray | None = None,
) -> None:
    """Raise InputError, with where and a hint, if `values` leave ``[lo, hi]`` (or ``[lo, hi)``).

    The offending values are named by their hour (UTC) where `times` (one per value) is
    given, else by their positions (0 for the first). NaN passes (missing hours are
    counted elsewhere).
    """
    arr = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = (arr < lo) | ((arr >= hi) if hi_open else (arr > hi))
    if bad.any():
        where = np.flatnonzero(bad.ravel())
        rng = f"[{lo:g}, {hi:g}{')' if hi_open else ']'}"
        hints = {
            "wind_direction": " Use values modulo 360 (360 is north: write 0).",
            "wind_speed": " Wind speed cannot be negative: check the sign and the units.",
            "u10": " Wind speed cannot be negative: check the sign and the units.",
            "cloud_cover": " Cloud cover is in okta, 0 (clear) to 8 (overcast): divide a "
            "percentage by 12.5, multiply tenths by 0.8, and leave the cell of a missing-value "
            "code (9, 99, -9999) empty.",
        }
        hint = next((v for k, v in hints.items() if what.endswith(k)), "")
        if times is not None and np.shape(times) == arr.shape:
            at = f"at {rows_preview(_hour_labels(np.asarray(times).ravel()[where]))}"
        else:
            at = f"positions {rows_preview(where.tolist())}"
        raise InputError(
            f"{what}: {int(bad.sum())} value(s) outside {rng} ({at}; e.g. "
            f"{float(arr.ravel()[where[0]])!r}).{hint}"
        )


#: the conversion of a NetCDF file of cftime dates to one of the standard calendar
_FILE_CALENDAR_FIX = (
    'convert the file first: xr.open_dataset(path).convert_calendar("standard", '
    'align_on="date").to_netcdf(new_path) (dates the standard calendar lacks dropped)'
)
#: the conversion of a dataset on cftime dates to the standard calendar (datetime64);
#: ``align_on="date"`` is needed from the 360_day calendar, and harmless from the others
_CALENDAR_FIX = 'ds.convert_calendar("standard", align_on="date")'


def _refuse_cftime(time: Any, what: str, fix: str = "") -> None:
    """One :class:`InputError` when `time` holds cftime dates (climate-model output in the
    noleap or 360_day calendar, as xarray decodes it): `what` names the function and the
    argument, `fix` how to convert (default: :data:`_CALENDAR_FIX` on a dataset). Before,
    a raw TypeError of pandas, or "is not a date".

    Only the first value that is not missing is looked at: a time axis is of one type.
    """
    values = np.asarray(time)
    if values.dtype.kind != "O":
        return
    first = next((v for v in values.ravel() if v is not None), None)
    if first is None or not type(first).__module__.startswith("cftime"):
        return
    calendar = getattr(first, "calendar", "") or "unknown"
    fix = fix or f"convert them first: {_CALENDAR_FIX} (dates the standard calendar lacks dropped)"
    raise InputError(
        f"{what}: cftime dates in the {calendar!r} calendar (e.g. {first}, "
        f"{type(first).__name__}), which are not supported; expected numpy datetime64 times "
        f"in the standard calendar; {fix}."
    )


def validate_hourly(ds: xr.Dataset, what: str = "meteorology") -> None:
    """Check the variables and value ranges of an hourly meteorology dataset.

    Raises
    ------
    trajectoire.MissingVariableError
        A required variable or the ``time`` dimension is missing.
    trajectoire.InputError
        Negative wind speed, direction outside [0, 360), cloud cover outside [0, 8],
        non-positive temperature or mixing height.
    """
    if "time" not in ds.dims:
        raise MissingVariableError(f"{what}: no 'time' dimension (dims {tuple(ds.dims)}).")
    for name in ("wind_speed", "wind_direction"):
        if name not in ds:
            raise MissingVariableError(
                f"{what}: missing variable {name!r}; found {sorted(map(str, ds.data_vars))}."
            )
    hours = ds["time"].values if ds["wind_speed"].dims == ("time",) else None
    _check_range(ds["wind_speed"].values, f"{what}: wind_speed", 0.0, np.inf, times=hours)
    _check_range(ds["wind_direction"].values, f"{what}: wind_direction", 0.0, 360.0,
                 hi_open=True, times=hours)  # fmt: skip
    if "cloud_cover" in ds:
        _check_range(ds["cloud_cover"].values, f"{what}: cloud_cover", 0.0, 8.0, times=hours)
    _check_units(ds, what)
    if "temperature" in ds:
        _check_range(ds["temperature"].values, f"{what}: temperature", 1e-9, np.inf, times=hours)
    if "mixing_height" in ds:
        _check_range(ds["mixing_height"].values, f"{what}: mixing_height", 1e-9, np.inf,
                     times=hours)  # fmt: skip


#: hourly mean wind at 10 m above which a value is no wind [m s-1] (a missing-value code, or km/h)
_WIND_IMPOSSIBLE = 75.0
#: a year of hourly values at least (a month: 720 hours) before the units are judged on them
_HOURS_TO_JUDGE = 720


def _check_units(ds: xr.Dataset, what: str) -> None:
    """Errors and warnings for values in other units than those :func:`read_hourly` reads.

    A wind speed above 75 m s-1 is an error (no hourly mean wind at 10 m reaches it: km/h,
    or a missing-value code such as 999). Over a month of hours at least, a warning when the
    wind speed's median is above 12 m s-1 or more than 1 % of hours are above 40 m s-1 (km/h),
    the wind directions all lie within 0-2 pi (radians), or the cloud cover lies within 0-1
    with fractions (a fraction of the sky, not okta).
    """
    speed = ds["wind_speed"].values.astype(float)
    high = speed > _WIND_IMPOSSIBLE
    if high.any():
        times = _hour_labels(ds["time"].values[high])
        raise InputError(
            f"{what}: wind_speed: {int(high.sum())} value(s) above {_WIND_IMPOSSIBLE:g} m s-1, "
            f"up to {np.nanmax(speed):g} (at {rows_preview(times, 3)}); expected hourly mean "
            "winds in m s-1 (0-40). Convert km/h to m s-1 (divide by 3.6), or leave the cells "
            "of a missing-value code empty."
        )
    _warn_other_units(speed, ds, what)


def _warn_other_units(speed: np.ndarray, ds: xr.Dataset, what: str) -> None:
    """The warnings of :func:`_check_units` (wind in km/h, directions in radians, cloud cover
    as fractions), judged on a month of valid hours at least."""
    speed = speed[np.isfinite(speed)]
    if speed.size >= _HOURS_TO_JUDGE:
        median, share = float(np.median(speed)), float(np.mean(speed > 40.0))
        if median > 12.0 or share > 0.01:
            warn(
                f"{what}: wind_speed looks like km/h, not m s-1: median {median:.1f}, "
                f"{share:.1%} of hours above 40, maximum {speed.max():.1f}; hourly winds at 10 m "
                "have a median of 2-8 m s-1 and rarely exceed 30. Divide km/h by 3.6.",
                stacklevel=4,
            )
    for name, top, unit, fix in (
        ("wind_direction", 2 * np.pi, "radians", "multiply by 180/pi (57.3) for degrees"),
        ("cloud_cover", 1.0, "fractions of the sky (0-1)", "multiply by 8 for okta (0-8)"),
    ):
        if name not in ds:
            continue
        v = ds[name].values.astype(float)
        v = v[np.isfinite(v)]
        if v.size >= _HOURS_TO_JUDGE and v.max() <= top and np.mean(v % 1 != 0) > 0.1:
            warn(
                f"{what}: {name}: all {v.size} values lie within 0-{top:.4g} (mean {v.mean():.3g})"
                f"; expected {_UNITS[name]} ({'0-360' if name == 'wind_direction' else '0-8'}). "
                f"They look like {unit}: {fix}.",
                stacklevel=4,
            )


# ------------------------------------------------------------------ files
def _netcdf_point(
    ds: xr.Dataset, where: str | Path, latitude: float | None, longitude: float | None
) -> xr.Dataset:
    """`ds` on dim ``time`` (``valid_time`` renamed), at the grid point nearest to
    (`latitude`, `longitude`) when it is gridded on latitude/longitude (or lat/lon)."""
    if "valid_time" in ds.dims or "valid_time" in ds.coords:
        ds = ds.rename({"valid_time": "time"})
    lat_name = next((n for n in ("latitude", "lat") if n in ds.dims), None)
    lon_name = next((n for n in ("longitude", "lon") if n in ds.dims), None)
    if lat_name or lon_name:
        if latitude is None or longitude is None:
            raise InputError(
                f"{where}: gridded meteorology (dims {tuple(ds.dims)}); pass latitude= and "
                "longitude= of the site to take the nearest grid point."
            )
        sel = {}
        if lat_name:
            sel[lat_name] = latitude
        if lon_name:
            sel[lon_name] = longitude
        ds = ds.sel(sel, method="nearest")
    return ds


#: seconds in the hour over which ERA5 accumulates its fluxes (``ssrd`` [J m-2] per hour)
_SECONDS_PER_HOUR = 3600.0
#: how far packing noise takes ERA5's total cloud cover out of [0, 1]: within it, clipped
_TCC_NOISE = 1e-3


def _tcc_okta(tcc: np.ndarray, where: str | Path, name: str, units: Any, fix: str) -> np.ndarray:
    """Cloud cover [okta] from ERA5's total cloud cover `tcc` [0-1] (x 8).

    Values out of [0, 1] by at most :data:`_TCC_NOISE` (packing noise) are clipped; further
    out is an error: a :class:`UnitsError` above 1 (percent or okta, whatever the ``units``
    attribute says), an :class:`InputError` below 0. `where`, `name` (the variable of the
    file), its `units` attribute and `fix` (the closing sentence) make the message.
    """
    tcc = np.asarray(tcc, dtype=float)
    said = f" (units {units!r})" if units is not None else ""
    if np.isfinite(tcc).any() and float(np.nanmax(tcc)) > 1.0 + _TCC_NOISE:
        raise UnitsError(
            f"{where}, variable {name!r}: values up to {float(np.nanmax(tcc)):g}{said}; "
            "ERA5 total cloud cover is a fraction 0-1 (not percent, not okta). Divide it by "
            "100 (percent) or 8 (okta)." + fix
        )
    if np.isfinite(tcc).any() and float(np.nanmin(tcc)) < -_TCC_NOISE:
        raise InputError(
            f"{where}, variable {name!r}: values down to {float(np.nanmin(tcc)):g}{said}; "
            "expected ERA5 total cloud cover, a fraction 0-1." + fix
        )
    return np.clip(tcc, 0.0, 1.0) * 8.0


#: spellings of knots the units table does not list, as :func:`_wind_factor` reads them
_KNOTS = frozenset({"knot", "knots", "kn", "kts"})


def _wind_factor(ds: xr.Dataset, var: str, where: str | Path, name: str, fix: str) -> float:
    """Factor [m s-1 per unit] of the wind component `var` of `ds` from its ``units``
    attribute (none: m s-1, as ERA5); `name` is the variable of the file, `where` and `fix`
    go into the message.

    ERA5's ``m s**-1`` is read as ``m s-1``; ``km h-1`` (``km/h``) and knots are converted
    with :func:`trajectoire.units.conversion_factor`. Other units raise a
    :class:`~trajectoire.UnitsError` naming the variable and the units.
    """
    units = ds[var].attrs.get("units")
    if units is None or str(units).strip() == "":
        return 1.0
    key = str(units).strip().replace("**", "").replace("^", "")
    key = "kt" if key.lower() in _KNOTS else key
    try:
        return conversion_factor(key, "speed", what=f"{where}, variable {name!r}")
    except UnitsError:
        raise UnitsError(
            f"{where}, variable {name!r}: units {units!r} are not a wind speed trajectoire "
            "knows; expected m s-1 (ERA5's 'm s**-1'), km h-1 or knots. Convert the wind "
            "components to m s-1 and set their units attribute." + fix
        ) from None


def _era5_columns(
    ds: xr.Dataset, where: str | Path, *, names: Mapping[str, str] | None = None, fix: str = ""
) -> dict[str, np.ndarray]:
    """The columns of :func:`read_hourly` from the ERA5 variables of a point dataset.

    ``u10``, ``v10`` [m s-1; ``km h-1`` and knots converted, other units refused by
    :func:`_wind_factor`] -> ``wind_speed``, ``wind_direction`` (from, 0 = north);
    ``tcc`` [0-1] -> ``cloud_cover`` [okta] (x 8, checked by :func:`_tcc_okta`: percent
    and okta are refused); ``t2m`` -> ``temperature`` (units kept); ``blh`` [m] ->
    ``mixing_height``; ``ssrd`` [J m-2 accumulated over the hour ending at the time stamp]
    -> ``solar_radiation`` [W m-2] (/ 3600 s). Variables absent are skipped. `where`, the
    variable names of the file (`names`, ERA5 short name -> variable; default the short
    names) and `fix` (the closing sentence) go into the messages.
    """
    out: dict[str, np.ndarray] = {}
    if "u10" in ds and "v10" in ds:
        u = ds["u10"].values.astype(float)
        v = ds["v10"].values.astype(float)
        for var in ("u10", "v10"):
            factor = _wind_factor(ds, var, where, (names or {}).get(var, var), fix)
            if factor != 1.0:  # m s-1 (ERA5) is read as it is
                if var == "u10":
                    u = u * factor
                else:
                    v = v * factor
        out["wind_speed"] = np.hypot(u, v)
        d = np.mod(np.degrees(np.arctan2(-u, -v)), 360.0)
        out["wind_direction"] = np.where(d >= 360.0, 0.0, d)
    if "tcc" in ds:
        name = (names or {}).get("tcc", "tcc")
        units = ds["tcc"].attrs.get("units")
        out["cloud_cover"] = _tcc_okta(ds["tcc"].values, where, name, units, fix)
    if "t2m" in ds:
        out["temperature"] = ds["t2m"].values.astype(float)
    if "blh" in ds:
        out["mixing_height"] = ds["blh"].values.astype(float)
    if "ssrd" in ds:
        # packing leaves tiny negative amounts at night: no energy, not an error
        ssrd = np.maximum(ds["ssrd"].values.astype(float), 0.0)
        out["solar_radiation"] = ssrd / _SECONDS_PER_HOUR
    return out


def _from_netcdf(path: Path, latitude: float | None, longitude: float | None) -> pd.DataFrame:
    """The columns of :func:`read_hourly` from a NetCDF file (ERA5 names converted).

    A gridded file is read at the grid point nearest to (`latitude`, `longitude`).
    """
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as exc:  # empty, truncated, or no NetCDF at all
        raise InputError(
            f"{path}: not a readable NetCDF file ({' '.join(str(exc).split())[:120]}); "
            "expected a complete NetCDF file with the variables of read_hourly (or ERA5's "
            "u10, v10, t2m, tcc). Download it again, or check the path."
        ) from None
    try:
        ds = _netcdf_point(ds, path, latitude, longitude)
        _refuse_cftime(ds["time"].values, f"{path}: variable 'time'", _FILE_CALENDAR_FIX)
        out: dict[str, Any] = {"time": pd.to_datetime(ds["time"].values)}
        out |= _era5_columns(ds, path, fix=" Fix the file.")
        for name in (*_REQUIRED[1:], *_OPTIONAL):
            if name in ds and name not in out:
                out[name] = ds[name].values.astype(float)
        units = {n: ds[n].attrs.get("units") for n in ("temperature",) if n in ds}
        frame = pd.DataFrame(out)
        frame.attrs["units"] = units
        return frame
    finally:
        ds.close()


def _input_files(
    path: str | Path | Sequence[str | Path],
    *,
    in_folder: Callable[[Path], list[Path]],
    names: str,
    kind: str,
    what: str | None = None,
    config_key: str | None = None,
) -> list[Path]:
    """The files to read: one file, an explicit list, or the files of a folder.

    Parameters
    ----------
    path : str, Path or sequence of them
        A file, a list of files or a folder.
    in_folder : callable
        The files of a folder to read, sorted (an empty list when it holds none).
    names : str
        What those file names look like, for the message when a folder holds none.
    kind : str
        The kind of file, for messages (e.g. ``"ERA5 NetCDF (*.nc)"``).
    what, config_key : str, optional
        Name of the input and the configuration key giving it, quoted in messages.

    Returns
    -------
    list of Path
        Existing files, in reading order.

    Raises
    ------
    trajectoire.InputError
        An empty list or folder, or a path that is not a file.
    """
    given = config_key if config_key else "path"
    if isinstance(path, str | Path):
        p = Path(path)
        if p.is_dir():
            files = in_folder(p)
            if not files:
                raise InputError(
                    f"{what or p}: folder holds no {kind} file (names like {names}); give the "
                    f"file itself, or a folder of such files. Check the path given by {given}."
                )
            return files
        paths = [p]
    else:
        paths = [Path(v) for v in path]
        if not paths:
            raise InputError(f"{what or 'path'}: empty list of {kind} files; check {given}.")
    for p in paths:
        if not p.is_file():
            state = "is a folder" if p.exists() else "file not found"
            raise InputError(
                f"{p}: {state} (looked for {p.absolute()}); expected a {kind} file. "
                f"Check the path given by {given}."
            )
    return paths


def _hourly_in_folder(folder: Path) -> list[Path]:
    """The ``hourly_*`` files of a folder, else all its ``*.csv``, ``*.csv.gz`` and ``*.nc``."""
    return sorted(folder.glob("hourly_*.csv*")) or sorted(
        [*folder.glob("*.csv"), *folder.glob("*.csv.gz"), *folder.glob("*.nc")]
    )


def _read_csv(file: Path) -> pd.DataFrame:
    """The rows of one CSV file (:func:`~trajectoire.tables.read_table`), its value columns as
    float; a cell that is not a number is an error naming the file, line, column and value
    (empty cells are missing values, kept as NaN)."""
    part = read_table(
        file,
        require_rows=True,
        expected=f"a header row with the columns {list(_REQUIRED)} and one row per hour",
    )
    for col in (*_REQUIRED[1:], *_OPTIONAL):
        if col in part.columns:
            units = None if col == "temperature" else _UNITS[col]  # K or degC
            part[col] = numeric_column(part, col, what=str(file), allow_nan=True, units=units)
    return part


def _read_frames(
    files: list[Path],
    latitude: float | None,
    longitude: float | None,
    temperature_units: str | None,
) -> tuple[pd.DataFrame, str | None]:
    """The rows of all `files` in one frame, and the temperature units (a NetCDF file's
    ``units`` attribute when `temperature_units` is None)."""
    frames = []
    for i, file in enumerate(files):
        where = str(file) if len(files) == 1 else f"{file} (file {i + 1} of {len(files)} read)"
        if file.name.lower().endswith((".nc", ".nc4", ".netcdf")):
            part = _from_netcdf(file, latitude, longitude)
            if temperature_units is None:
                temperature_units = part.attrs.get("units", {}).get("temperature")
        else:
            part = _read_csv(file)
            _require_own_layout(part, where)
            part["_row"] = _line_names(part, None if len(files) == 1 else file.name)
        require_columns(part.columns, _REQUIRED, where)
        frames.append(part)
    return _concat(frames), temperature_units


#: columns that tell a Météo-France hourly file (H_descriptif_champs.csv)
_MF_MARKS = ("NUM_POSTE", "AAAAMMJJHH")
#: an ISD-Lite record read as a CSV header: 12 integers separated by blanks
_ISD_HEADER = r"\s*-?\d+(?:\s+-?\d+){11}\s*"


def _require_own_layout(part: pd.DataFrame, where: str) -> None:
    """One line, naming the format to set, for a Météo-France or ISD-Lite file read as the
    library's CSV (the message on its missing columns listed the 200 columns of a
    Météo-France file, or an ISD-Lite record taken for a header, without the way out)."""
    if all(c in part.columns for c in _REQUIRED):
        return
    columns = [str(c) for c in part.columns]
    if all(c in columns for c in _MF_MARKS):
        fmt, kind = "meteo-france", "a Météo-France hourly file (columns NUM_POSTE, AAAAMMJJHH...)"
    elif columns and pd.Series(columns[:1]).str.fullmatch(_ISD_HEADER).all():
        fmt, kind = "isd-lite", "a NOAA ISD-Lite file (12 integers a line, no header)"
    else:
        return
    raise MissingVariableError(
        f"{where}: this is {kind}, not the library's hourly CSV (columns "
        f"{list(_REQUIRED)}); read it with its format: [inputs.meteo] format = {fmt!r} "
        f'(in the configuration: meteo = {{ path = "...", format = "{fmt}" }}).'
    )


def _line_names(part: pd.DataFrame, file: str | None) -> pd.Series:
    """The file line of each row of `part` (read by :func:`_read_csv`), ``"line 5"`` or, with
    the `file` name, ``"hourly_2019.csv line 5"``: the rows follow each other from the
    first's line (:func:`~trajectoire.tables.data_lines`)."""
    first = int(data_lines(part, [0])[0].split()[-1]) if len(part) else 0
    prefix = "line " if file is None else f"{file} line "
    numbers = pd.Series(np.arange(first, first + len(part)), index=part.index).astype(str)
    return prefix + numbers


def _concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `frames` in one frame (the one frame itself when there is only one)."""
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


#: the form of time the messages ask for
_ISO_EXPECTED = "expected ISO 8601 times, UTC, like 2021-01-01T00:00Z"


def _cells(frame: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """The ``time`` cells of `frame` at the positions `rows`, as written, with their file
    line where the reader gave it (column ``_row``)."""
    values = frame["time"].to_numpy()[rows]
    where = frame["_row"].to_numpy()[rows] if "_row" in frame.columns else [None] * len(rows)
    shown = []
    for v, w in zip(values, where, strict=True):
        text = "an empty cell" if pd.isna(v) or not str(v).strip() else repr(str(v).strip())
        shown.append(f"{text} at {w}" if isinstance(w, str) else text)
    return shown


def _parse_times(frame: pd.DataFrame, where: str | Path) -> pd.Series:
    """The ``time`` column of `frame` as UTC dates: dates as they are (naive ones are UTC),
    text in any ISO 8601 spelling (``format="ISO8601"``: seconds or not, a date alone for
    midnight, ``Z`` or an offset, converted); other text, numbers, and naive times mixed with
    zoned ones are an InputError naming the cells."""
    column = frame["time"]
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return pd.to_datetime(column, utc=True)
    if pd.api.types.is_numeric_dtype(column.dtype):
        shown = _cells(frame, np.arange(min(len(frame), 3)))
        first = str(column.iloc[0]).split(".")[0] if len(column) else ""
        compact = len(first) == 10 and first.isdigit()
        hint = (
            " Compact AAAAMMJJHH times are the Météo-France layout: read such a file with "
            'read_meteo_france (format = "meteo-france").'
            if compact
            else ""
        )
        raise InputError(
            f"{where}, column 'time': numbers, not dates ({rows_preview(shown, 3)}); "
            f"{_ISO_EXPECTED}.{hint} Write the times as ISO 8601 text."
        )
    text = column.astype(str).str.strip()
    times = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        _refuse_cftime(  # cftime dates are read as text; 360_day ones the standard lacks
            column.to_numpy()[bad],
            f"{where}, column 'time'",
            'convert the dataset first: ds.convert_calendar("standard", align_on="date")'
            ".to_dataframe() (dates the standard calendar lacks dropped)",
        )
        raise InputError(
            f"{where}, column 'time': {bad.size} value(s) are not ISO 8601 dates "
            f"({rows_preview(_cells(frame, bad), 5)}); {_ISO_EXPECTED} (year first: "
            "day/month orders such as 03/04/2021 are ambiguous and not read)."
        )
    zoned = zoned_times(text)
    if zoned.any() and not zoned.all():
        examples = np.array([np.flatnonzero(~zoned)[0], np.flatnonzero(zoned)[0]])
        naive, with_zone = _cells(frame, examples)
        raise InputError(
            f"{where}, column 'time': {int((~zoned).sum())} time(s) without a zone (e.g. "
            f"{naive}) among {int(zoned.sum())} with one (e.g. {with_zone}); expected one "
            "convention for the whole file: every time with its zone (2021-01-01T00:00Z), or "
            "none (then read as UTC). Add the zone to the times without one."
        )
    return times


def _utc_hours(frame: pd.DataFrame, where: str | Path) -> pd.DataFrame:
    """`frame` with ``time`` as naive UTC, sorted; raise on non-dates (:func:`_parse_times`),
    duplicates, off-hours."""
    times = _parse_times(frame, where)
    times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    frame = frame.assign(time=times).sort_values("time", kind="stable")
    dup = frame["time"].duplicated()
    if dup.any():
        _refuse_repeated_hours(frame, dup.to_numpy(), where)
    off = frame["time"] != frame["time"].dt.floor("h")
    if off.any():
        raise InputError(
            f"{where}, column 'time': {int(off.sum())} time(s) not on the hour (e.g. "
            f"{frame.loc[off, 'time'].iloc[0]}); expected hourly data. Resample to hourly means."
        )
    return frame


def _refuse_repeated_hours(frame: pd.DataFrame, dup: np.ndarray, where: str | Path) -> None:
    """One line for hours given on several rows of `frame` (sorted, ``time`` naive UTC;
    `dup`: the rows repeating an earlier one), each hour named with the file lines of its
    rows (column ``_row``) where the reader gave them; times in local time (the hour the
    clocks go back, given twice) are said so."""
    times = frame["time"]
    hours = pd.DatetimeIndex(times.to_numpy()[dup]).unique()
    rows = frame["_row"].to_numpy() if "_row" in frame.columns else None
    shown = []
    for hour in hours[:4]:
        label = f"{hour:%Y-%m-%dT%H:%M}Z"
        if rows is not None:
            at = [str(r) for r in rows[(times == hour).to_numpy()]]
            label += f" at {', '.join(at)}"
        shown.append(label)
    more = f" (and {hours.size - 4} more)" if hours.size > 4 else ""
    if all(clock_goes_back(h) for h in hours):
        why = (
            "these are the hours France's clocks repeat when they go back in autumn: the "
            "times look local (CET/CEST), and must be UTC. Convert them to UTC (winter time "
            "minus 1 h, summer time minus 2 h) or write each with its offset "
            "(2018-10-28T02:00+01:00)."
        )
    else:
        why = (
            "expected one row per hour. Delete the repeated rows (a block pasted twice, or "
            "files whose periods overlap: give each hour in one file only)."
        )
    raise InputError(
        f"{where}, column 'time': {hours.size} duplicated hour(s) (on several rows): "
        f"{'; '.join(shown)}{more}; {why}"
    )


def _gap_runs(absent: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The (first, last) hour of each run of consecutive hours in `absent` (sorted, not empty)."""
    step = np.asarray(absent[1:] - absent[:-1] != pd.Timedelta(hours=1))
    starts = absent[np.concatenate(([True], step))]
    ends = absent[np.concatenate((step, [True]))]
    return list(zip(starts, ends, strict=True))


def _report_gaps(
    full: pd.DatetimeIndex, have: pd.Index, where: str | Path, missing: str, stacklevel: int = 3
) -> str:
    """The gaps of `have` on the hourly axis `full` as ``"2021-01-01T03..2021-01-01T05; ..."``.

    Raises InputError with ``missing="raise"``, else warns (attributed to the frame
    `stacklevel` above this one: the caller of :func:`read_hourly`); ``""`` without gaps.
    """
    n_missing = len(full) - len(have)
    if not n_missing:
        return ""
    runs = _gap_runs(full.difference(pd.DatetimeIndex(have)))
    periods = "; ".join(
        f"{a:%Y-%m-%dT%H}" if a == b else f"{a:%Y-%m-%dT%H}..{b:%Y-%m-%dT%H}" for a, b in runs
    )
    msg = (
        f"{where}: {n_missing} missing hour(s) in {len(runs)} gap(s) "
        f"({rows_preview(periods.split('; '), 5)})"
    )
    if missing == "raise":
        raise InputError(msg + "; fill them or call read_hourly(..., missing='warn').")
    warn(
        msg + "; kept as NaN on the hourly axis, counted in attrs['missing_hours'] and "
        "left out of the frequency tables (met_classes counts them).",
        stacklevel=stacklevel,
    )
    return periods


#: a median air temperature above this [degC] is taken for kelvin given where degC is expected
_MAX_MEDIAN_CELSIUS = 60.0
#: a median air temperature below this [K] is taken for degC given where kelvin is expected
_MIN_MEDIAN_KELVIN = 100.0
#: plausible near-surface air temperatures [K]: -93.15 to +66.85 degC, beyond the records
#: measured (-89.2 degC at Vostok, 1983; 56.7 degC at Death Valley, 1913)
_AIR_TEMPERATURE_RANGE = (180.0, 340.0)
#: values that files write for a missing temperature, named as such in messages
_MISSING_CODES = (9999.0, -9999.0, 999.9, -999.9, 999.0, -999.0, 99.9, -99.9)
#: the spellings of the temperature units the readers take
_CELSIUS = ("degC", "C", "celsius", "°C", "deg_C")
_KELVIN = ("K", "kelvin")


def _median_without_codes(values: np.ndarray) -> float | None:
    """The median of the finite `values` that are not :data:`_MISSING_CODES` (None if none)."""
    kept = values[np.isfinite(values) & ~np.isin(values, _MISSING_CODES)]
    return float(np.median(kept)) if kept.size else None


def _require_celsius(values: np.ndarray, where: str | Path, field: str, fix: str) -> None:
    """Raise UnitsError when `values`, air temperatures said to be in degC, have a median
    (missing-value codes left out) above 60: kelvin. `fix` ends the message."""
    median = _median_without_codes(values)
    if median is not None and median > _MAX_MEDIAN_CELSIUS:
        raise UnitsError(
            f"{where}, {field}: median {median:.1f} cannot be an air temperature in degC (it "
            f"looks like kelvin: {median - 273.15:.1f} degC); {fix}"
        )


def _require_air_temperature(
    values: np.ndarray,
    kelvin: np.ndarray,
    unit: str,
    where: str | Path,
    field: str,
    rows: Callable[[np.ndarray], list[str]],
) -> None:
    """Raise InputError when some `kelvin` leave :data:`_AIR_TEMPERATURE_RANGE` (NaN passes).

    The message quotes `values`, as written in the file in `unit`, with the rows (`rows`:
    positions -> their names) and names the missing-value codes among them.
    """
    lo, hi = _AIR_TEMPERATURE_RANGE
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero((kelvin < lo) | (kelvin > hi))
    if not bad.size:
        return
    found = [
        f"{values[i]:g} {unit} at {name}" for i, name in zip(bad[:5], rows(bad[:5]), strict=True)
    ]
    shift = 0.0 if unit in _KELVIN else 273.15
    codes = sorted({float(v) for v in values[bad] if v in _MISSING_CODES})
    if codes:
        listed = ", ".join(f"{c:g}" for c in codes)
        fix = (
            f" {listed} {'is a' if len(codes) == 1 else 'are'} missing-value code"
            f"{'' if len(codes) == 1 else 's'}, not a temperature: leave those cells empty "
            "(an empty cell is a missing value; the readers have no setting that declares a "
            "code missing)."
        )
    else:
        fix = " Check the values and their units; leave the cell of a missing value empty."
    raise InputError(
        f"{where}, {field}: {bad.size} value(s) outside the near-surface air temperatures "
        f"{lo - shift:g} to {hi - shift:g} {unit}: {rows_preview(found, 5)}.{fix}"
    )


def _kelvin(
    values: np.ndarray,
    units: str | None,
    where: str | Path,
    *,
    field: str = "column 'temperature'",
    rows: Callable[[np.ndarray], list[str]] | None = None,
    celsius_fix: str | None = None,
    kelvin_fix: str | None = None,
) -> np.ndarray:
    """Temperatures [K] from `values` in `units` (None: kelvin), checked.

    A median (missing-value codes left out) below 100 K is degC, one above 60 degC is
    kelvin: both are a :class:`UnitsError`; then every value must be a near-surface air
    temperature (:data:`_AIR_TEMPERATURE_RANGE`), or it is an :class:`InputError` quoting
    it as written in the file. `field` names the column, `rows` the rows (positions ->
    names; default the positions), `celsius_fix` ends the message on kelvin given as degC,
    `kelvin_fix` the one on degC given as kelvin (default: the ``temperature_units`` keyword).
    """
    tu = (units or "K").strip()
    if tu in _CELSIUS:
        fix = (
            celsius_fix or "pass temperature_units='K' (or leave it unset: kelvin is the default)."
        )
        _require_celsius(values, where, field, fix)
        kelvin, unit = values + 273.15, "degC"
    elif tu in _KELVIN:
        median = _median_without_codes(values)
        if median is not None and median < _MIN_MEDIAN_KELVIN:
            raise UnitsError(
                f"{where}, {field}: median {median:.1f} cannot be kelvin; "
                + (kelvin_fix or "pass temperature_units='degC'.")
            )
        kelvin, unit = values, "K"
    else:
        raise UnitsError(f"{where}, {field}: units {units!r}; expected 'K' or 'degC'.")
    _require_air_temperature(
        values, kelvin, unit, where, field, rows or (lambda at: [f"row {i}" for i in at])
    )
    return kelvin


def _row_names(frame: pd.DataFrame) -> Callable[[np.ndarray], list[str]]:
    """How messages name rows of `frame` by position: the hour (UTC) and, where the reader
    gave it (column ``_row``), the file line."""

    def names(at: np.ndarray) -> list[str]:
        hours = _hour_labels(frame["time"].to_numpy()[at])
        if "_row" not in frame.columns:
            return hours
        where = frame["_row"].to_numpy()[at]
        return [
            f"{w} ({h})" if isinstance(w, str) else h for w, h in zip(where, hours, strict=True)
        ]

    return names


def read_hourly(
    path: str | Path | Sequence[str | Path] | pd.DataFrame,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    roughness_length: float | None = None,
    anemometer_height: float = 10.0,
    temperature_units: str | None = None,
    missing: str = "warn",
    config_key: str | None = None,
) -> xr.Dataset:
    """Read hourly surface meteorology from a CSV (``.csv``, ``.csv.gz``) or NetCDF file.

    Parameters
    ----------
    path : str, Path, sequence of them, or pandas.DataFrame
        A file, a list of files (concatenated, e.g. one per year), or a folder (its
        ``hourly_*.csv`` files, else all ``*.csv``, ``*.csv.gz`` and ``*.nc``). CSV with
        columns ``time`` (ISO 8601, UTC), ``wind_speed`` [m s-1 at 10 m],
        ``wind_direction`` [degree, from, 0 = north], ``cloud_cover`` [okta],
        ``temperature``, and optionally ``solar_radiation`` [W m-2], ``obukhov_length`` [m],
        ``mixing_height`` [m], ``ceiling_height`` [m]; or a NetCDF file with these variables
        or ERA5-like ones (``u10``, ``v10``, ``tcc`` [0-1], ``t2m`` [K], ``blh`` [m]) on
        ``time`` (or ``valid_time``), possibly gridded on latitude/longitude. A
        DataFrame (``pd.read_csv(...)``) with the CSV's columns is read as the CSV would
        be, ``time`` a column or its index.
    latitude, longitude : float, optional
        Site position [degree]; needed by Turner's method and for gridded NetCDF input.
    roughness_length : float, optional
        z0 [m] of the site, needed by Golder's method (``add_stability(method="obukhov")``).
    anemometer_height : float, default 10.0
        Height of the wind measurement [m].
    temperature_units : {"K", "degC"}, optional
        Units of the temperature column. None means kelvin (the data-model default). A
        median below 100 K is refused as certainly not kelvin, one above 60 degC as
        certainly not degC; every value must then be a near-surface air temperature,
        180 to 340 K (-93.15 to 66.85 degC): a missing-value
        code such as 9999, 999.9 or -9999 is refused, named as a code (leave its cell
        empty).
    missing : {"warn", "raise"}, default "warn"
        What to do with missing hours: ``"warn"`` puts them back on the hourly axis as NaN,
        counts them (attribute ``missing_hours``, list in ``missing_periods``) and warns;
        ``"raise"`` fails.
    config_key : str, optional
        The configuration key that names the file (``[inputs] meteo``): the temperature
        messages then name ``[inputs.meteo] temperature_units`` instead of the keyword.

    Returns
    -------
    xarray.Dataset
        On dim ``time`` (UTC, hourly, complete): the variables above with ``units`` attrs;
        attrs ``latitude``, ``longitude``, ``roughness_length``, ``anemometer_height``,
        ``missing_hours``, ``missing_periods``, ``source_file``.

    Raises
    ------
    trajectoire.MissingVariableError
        A required column is absent.
    trajectoire.InputError
        Duplicated or non-hourly times, out-of-range values (temperatures outside 180-340 K,
        quoted as written in the file, with their line and hour), or missing hours with
        ``missing="raise"``; a `path` that is neither a path, a list of paths nor a
        DataFrame (an xarray dataset, a number).
    trajectoire.UnitsError
        Unknown temperature units, temperatures that cannot be in the units given (kelvin
        below a median of 100, degC above a median of 60); an ERA5-like
        ``tcc`` above 1 (percent or okta, as :func:`~trajectoire.meteo.sources.read_era5`
        refuses it).
    """
    if missing not in ("warn", "raise"):
        raise InputError(f"missing={missing!r}; expected 'warn' or 'raise'.")
    dataset = functools.partial(  # the settings shared by a DataFrame and files
        _hourly_dataset,
        latitude=latitude,
        longitude=longitude,
        roughness_length=roughness_length,
        anemometer_height=anemometer_height,
        missing=missing,
    )
    if isinstance(path, pd.DataFrame):
        given = "read_hourly: the DataFrame given"
        return dataset(
            _frame_rows(path, given),
            given,
            temperature_units=temperature_units,
            call="read_hourly(<DataFrame>)",
            source_file="DataFrame",
        )
    path = _require_paths(path)
    files = _input_files(
        path,
        in_folder=_hourly_in_folder,
        names="hourly_*.csv, *.csv(.gz) or *.nc",
        kind="hourly meteorology (CSV or NetCDF)",
    )
    frame, temperature_units = _read_frames(files, latitude, longitude, temperature_units)
    where = (
        files[0]
        if len(files) == 1
        else Path(str(path) if isinstance(path, str | Path) else files[0].parent)
    )
    key = None if config_key is None else config_option(config_key, "temperature_units")
    return dataset(  # within a run, the fixes name the key to set, not the keyword
        frame,
        where,
        temperature_units=temperature_units,
        call=f"read_hourly({str(where)!r})",
        celsius_fix=key and f'set {key} = "K" (or leave it unset: kelvin is the default).',
        kelvin_fix=key and f'set {key} = "degC".',
    )


#: what :func:`read_hourly` reads, for the messages on something else
_READ_HOURLY_TAKES = (
    "a file path, a list of files, a folder, or a pandas DataFrame with the columns "
    f"{list(_REQUIRED)}"
)


def _require_paths(path: Any) -> str | Path | list[str | Path]:
    """`path` of :func:`read_hourly`, an iterable of paths as a list; one line for one that
    is neither a path nor paths (a dataset, a number, None: its items were taken for file
    names, or it raised a TypeError)."""
    if isinstance(path, str | Path):
        return path
    if isinstance(path, xr.Dataset | xr.DataArray):
        raise InputError(
            f"read_hourly: path is an xarray {type(path).__name__}; expected "
            f"{_READ_HOURLY_TAKES}. A dataset on 'time' needs no reading: check it with "
            "trajectoire.meteo.validate_hourly(ds)."
        )
    items = list(path) if isinstance(path, Iterable) and not isinstance(path, Mapping) else None
    if items is None or not all(isinstance(v, str | Path) for v in items):
        odd = path if items is None else next(v for v in items if not isinstance(v, str | Path))
        raise InputError(
            f"read_hourly: path {' '.join(repr(odd).split())[:60]} ({type(odd).__name__}); "
            f"expected "
            f"{_READ_HOURLY_TAKES}."
        )
    return items


def _frame_rows(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The rows of a DataFrame given to :func:`read_hourly`, as :func:`_read_csv` gives those
    of a file: ``time`` a column (a DatetimeIndex or an index named ``time`` becomes one),
    the value columns as float (text that is not a number is an error naming the row), a
    column ``_row`` naming each row by its label."""
    if "time" not in frame.columns and (
        frame.index.name == "time" or isinstance(frame.index, pd.DatetimeIndex)
    ):
        frame = frame.rename_axis("time").reset_index()
    _require_own_layout(frame, where)
    require_columns(frame.columns, _REQUIRED, where)
    values = {
        col: numeric_column(
            frame, col, what=where, allow_nan=True, units=_UNITS[col] if col != "temperature"
            else None, lines=False,
        )
        for col in (*_REQUIRED[1:], *_OPTIONAL)
        if col in frame.columns
    }  # fmt: skip
    labels = frame.index if frame.index.is_unique else range(len(frame))
    rows = pd.Series([f"row {r!r}" for r in labels], index=frame.index)
    return frame.assign(**values, _row=rows)


#: (keyword, lowest, highest, unit, what a good value is) of a meteorological site
_SITE_RANGES = (
    ("latitude", -90.0, 90.0, "degrees", "-90 to 90 (Lille is 50.6)"),
    ("longitude", -180.0, 180.0, "degrees", "-180 to 180 (Lille is 3.1)"),
    ("roughness_length", 1e-5, 5.0, "m", "above 0 and at most 5 m (grass 0.03, town 1)"),
    ("anemometer_height", 0.1, 300.0, "m", "above the ground, 0.1 to 300 m (usually 10 m)"),
)


def _check_site(where: str | Path, *values: float | None) -> None:
    """One line for a site description out of its range (:data:`_SITE_RANGES`): a negative
    anemometer height used to run and end on NaN concentrations far downstream."""
    for (key, lo, hi, unit, want), value in zip(_SITE_RANGES, values, strict=True):
        if value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if not lo <= v <= hi:
            raise InputError(f"{where}: {key} = {value!r} {unit}; expected {want}.")


def _hourly_dataset(
    frame: pd.DataFrame,
    where: str | Path,
    *,
    latitude: float | None,
    longitude: float | None,
    roughness_length: float | None,
    anemometer_height: float,
    temperature_units: str | None,
    missing: str,
    call: str,
    source_file: str | None = None,
    attrs: dict[str, Any] | None = None,
    stacklevel: int = 4,
    temperature_field: str = "column 'temperature'",
    celsius_fix: str | None = None,
    kelvin_fix: str | None = None,
) -> xr.Dataset:
    """The dataset of :func:`read_hourly` from the rows of `frame`: the one path shared by
    :func:`read_hourly` and the readers of :mod:`trajectoire.meteo.sources`.

    `frame` has a ``time`` column (dates, UTC when naive) and some of the columns of
    :func:`read_hourly` in their units (``temperature`` in `temperature_units`). The hours
    are checked and put on a complete hourly axis (gaps counted, reported at `stacklevel`
    frames above :func:`_report_gaps`, kept as NaN), the values converted and validated.
    `where` names the input in messages, `source_file` (default `where`) goes to the
    ``source_file`` attribute, `attrs` are added to the dataset's, `call` is the history line.
    The temperatures are checked by :func:`_kelvin` (`temperature_field` names their column
    of the file, `celsius_fix` ends the message on kelvin given as degC, `kelvin_fix` the
    one on degC given as kelvin); a column ``_row``
    of `frame` (text: the file line of each row) names the rows in its messages.
    """
    if missing not in ("warn", "raise"):
        raise InputError(f"missing={missing!r}; expected 'warn' or 'raise'.")
    _check_site(where, latitude, longitude, roughness_length, anemometer_height)
    frame = _utc_hours(frame, where)
    kelvin = _kelvin(
        frame["temperature"].to_numpy(dtype=float),
        temperature_units,
        where,
        field=temperature_field,
        rows=_row_names(frame),
        celsius_fix=celsius_fix,
        kelvin_fix=kelvin_fix,
    )
    frame = frame.assign(temperature=kelvin)
    full = pd.date_range(frame["time"].iloc[0], frame["time"].iloc[-1], freq="h")
    frame = frame.set_index("time")
    periods = _report_gaps(full, frame.index, where, missing, stacklevel)
    n_missing = len(full) - len(frame)
    frame = frame.reindex(full)
    data: dict[str, Any] = {}
    for col in (*_REQUIRED[1:], *_OPTIONAL):
        if col not in frame.columns:
            continue
        data[col] = ("time", frame[col].to_numpy(dtype=float), {"units": _UNITS[col]})
    out_attrs: dict[str, Any] = {
        "anemometer_height": float(anemometer_height),
        "missing_hours": int(n_missing),
        "missing_periods": periods,
        "source_file": str(where) if source_file is None else source_file,
    }
    optional = {"latitude": latitude, "longitude": longitude, "roughness_length": roughness_length}
    out_attrs |= {k: float(v) for k, v in optional.items() if v is not None}
    out_attrs |= attrs or {}
    ds = xr.Dataset(data, coords={"time": full.to_numpy()}, attrs=out_attrs)
    ds["wind_direction"].attrs["long_name"] = "direction the wind blows from (0 = north)"
    validate_hourly(ds, str(where))
    return add_history(ds, call)
