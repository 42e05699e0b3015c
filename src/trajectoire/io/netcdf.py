"""Output files: the CF-1.8 NetCDF of a run, its human summary, and GeoTIFF export.

:func:`write_netcdf` writes a dataset atomically (temporary file, fsync, rename) with CF-1.8
global attributes, a ``crs`` grid-mapping variable for Lambert-93 that GDAL/QGIS understand
(CF attributes from :meth:`pyproj.CRS.to_cf` plus ``crs_wkt``, ``spatial_ref`` and
``GeoTransform``), ``grid_mapping = "crs"`` on every gridded variable, zlib compression
with shuffle and chunks of one year (and one sector, one pollutant) by map tile.

See ``docs/outputs.md`` for the variables, dims, units and attributes of the output file,
and how to open it in QGIS, GDAL and xarray.

References
----------
Eaton, B. et al. (2020). NetCDF Climate and Forecast (CF) Metadata Conventions, version
1.8. https://cfconventions.org/Data/cf-conventions/cf-conventions-1.8/cf-conventions.html
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict, Unpack

import numpy as np
import pyproj
import xarray as xr

from trajectoire._planes import Planes
from trajectoire._validate import require_year, scalar_coordinate, year_ranges
from trajectoire._version import __version__
from trajectoire.assess.exposure import NUMBER_THRESHOLD_NOTES
from trajectoire.cf import CF_VERSION, utc_stamp, variable_metadata
from trajectoire.errors import ConfigError, InputError, MissingVariableError, warn
from trajectoire.geo.grid import Grid, crs_of, north_up
from trajectoire.species import NUMBER_SUFFIX, species_view
from trajectoire.tables import keyword_options, with_options

__all__ = [
    "FLOAT_VARIABLES",
    "GRID_MAPPING",
    "LOSSLESS_VARIABLES",
    "UNSHUFFLED_VARIABLES",
    "MapSelection",
    "atomic_path",
    "check_output",
    "check_writable",
    "crs_variable",
    "decode_flags",
    "export_geotiff",
    "map_to_geotiff",
    "netcdf_encoding",
    "open_output",
    "select_map",
    "summary",
    "write_netcdf",
    "years_attribute",
]

#: Name of the grid-mapping variable of every output.
GRID_MAPPING = "crs"
#: Variables stored in the output's float dtype (float32 by default).
FLOAT_VARIABLES: tuple[str, ...] = (
    "background",
    "concentration",
    "contribution",
    "emission",
    "exposure",
    "population",
)
#: Variables never quantised by ``significant_digits``: emission totals must add up exactly,
#: counts of inhabitants stay whole, and the territories' shares of the cells sum to 1
#: (what credits emissions and inhabitants to the territories). Their particle-number
#: forms (``emission_number``, ``inhabitants_above_number``...) are lossless too
#: (:func:`_lossless`).
LOSSLESS_VARIABLES: tuple[str, ...] = (
    "emission",
    "inhabitants_above",
    "point_emission",
    "population",
    "population_total",
    "territory_emission",
    "territory_fraction",
    "zone_inhabitants",
    "zone_inhabitants_above",
)
#: Variables deflated without the shuffle filter: fields spread from tables by proxies
#: (emission maps, population, the territories' cell fractions), whose cells repeat a few
#: values whole. Deflate finds those 4-byte repeats in the plain layout; the shuffle splits
#: them into byte planes where they no longer repeat. Measured on the 200 m sample output
#: (34 years, 2026-12-04, ISA-L level 2 as the writer encodes): emission 0.655 of its size
#: with the shuffle (202 -> 132 MB), emission_number 0.72, population 0.65, territory_fraction
#: 0.93, in half the encoding time; the dispersed fields (concentration, contribution,
#: deposition) are 1.04-1.27 times larger without it and keep it. A variable quantised by
#: ``significant_digits`` keeps the shuffle (its zeroed low bits make byte planes of zeros).
UNSHUFFLED_VARIABLES: tuple[str, ...] = (
    "emission",
    "emission_number",
    "population",
    "territory_fraction",
)
#: zlib compression level of the outputs. Measured on a sample year (200 m, 91 emission
#: maps, NaN beyond the buffer), compressing the chunks that hold data: levels 1-3 take the
#: same time (zlib's fast strategy) and level 3 gives the smallest files of the three (4.6
#: MiB against 5.0 for level 1); level 4 takes twice as long for 1 % less.
COMPLEVEL = 3
#: Largest chunk along y or x [cells]. Tiles are evened out (a 1111-row grid gets 9 tiles
#: of 124 rows, not 8 of 128 and a ninth of 87 padded to 128). 128 x 128 float32 tiles are
#: 64 KiB: a whole map is tens of chunks, a time series at one cell reads one per year,
#: and the tiles beyond the territories' buffer hold only NaN and are not stored at all
#: (on the sample, 19 of 45 tiles of a 200 m map hold data).
MAX_TILE = 128

_COORD_ATTRS: dict[str, dict[str, str]] = {
    # an integer year, not a CF time coordinate: CF 4.4 asks a time axis ("axis": "T") for
    # units "<unit> since <date>", which a calendar year has not; a CF checker refused it
    "year": {"long_name": "calendar year"},
    "sector": {"long_name": "emission sector (GNFR id)"},
    "pollutant": {"long_name": "pollutant id"},
    "territory": {"long_name": "territory id"},
    "station": {"long_name": "monitoring station id"},
    "quantile": {"long_name": "probability of the population-weighted quantile", "units": "1"},
    "threshold": {"long_name": "label of the reference value (annual mean)"},
    "zone": {"long_name": "inside or outside the zones of [inputs] exposure_zones"},
    "receptor": {"long_name": "territory whose area mean is taken (territory id)"},
    "statistic": {"long_name": "statistic of the model against the stations (docs/evaluation.md)"},
    "origin": {
        "long_name": "where the emissions come from: a territory id, or 'rest' (the rest of "
        "the grid)"
    },
    "station_x": {
        "long_name": "station easting (grid CRS)",
        "standard_name": "projection_x_coordinate",
        "units": "m",
    },
    "station_y": {
        "long_name": "station northing (grid CRS)",
        "standard_name": "projection_y_coordinate",
        "units": "m",
    },
}

#: The stations' positions: coordinates of the variables along ``station``.
STATION_POSITIONS = ("station_x", "station_y")

_GLOBAL_DEFAULTS = {
    "Conventions": CF_VERSION,
    "title": "trajectoire output",
    "institution": "",
    "source": f"trajectoire {__version__}",
    "references": "trajectoire documentation, docs/outputs.md; CF conventions 1.8",
}


# ---------------------------------------------------------------------- atomic files
def refuse_directory_name(path: str | Path, what: str = "--out", example: str = "out.nc") -> None:
    """One :class:`~trajectoire.ConfigError` when `path` is text ending with a path separator
    (``--out newdir/``): :class:`~pathlib.Path` drops the separator, so a file ``newdir``
    would be written where a directory was meant. An existing directory is refused by
    :func:`check_writable`."""
    if isinstance(path, str) and path.endswith(("/", os.sep)):
        raise ConfigError(
            f"{what} {path!r} ends with {path[-1]!r}, so names a directory; expected a file "
            f"name: give one such as {path.rstrip('/' + os.sep)}/{example}."
        )


def check_writable(
    path: str | Path,
    *,
    what: str = "output",
    example: str = "out.nc",
    kind: str | None = None,
    reads: Mapping[str, str | Path | None] | None = None,
) -> Path:
    """Check that `path` can be written (its directory exists and accepts files), and that
    writing it loses nothing.

    Nothing is left behind: a probe file is created and removed.

    Parameters
    ----------
    path : str or pathlib.Path
        File to be written.
    what : str
        Name of the option or field, for the message.
    example : str, default "out.nc"
        A file name the message proposes when `path` is a directory.
    kind : {"NetCDF", "GeoTIFF", "HTML", "PDF", "CSV"}, optional
        What is written: an existing file at `path` that does not begin as such a file
        does (:func:`check_replaceable`) is not replaced.
    reads : mapping of str to path, optional
        The files (or directories) the command reads, by what they are in words (``"[inputs]
        stations"``, ``"the configuration file"``; None values are skipped): `path` may be
        none of them nor lie in one of the directories.

    Returns
    -------
    pathlib.Path
        The absolute path.

    Raises
    ------
    trajectoire.InputError
        If the directory does not exist, is not a directory, is not writable, `path` is an
        existing directory or another thing than a regular file (a device such as
        ``/dev/null``, a FIFO, a socket: the atomic write would replace it), or its
        temporary ``<path>.tmp`` (:func:`atomic_path`) is in the way; `path` is one of
        `reads` or lies in one of them; an existing file that is not of `kind`.
    """
    p = Path(path).expanduser().absolute()
    parent = p.parent
    if p.is_dir():
        raise InputError(f"{what} {str(p)!r} is a directory; give a file name such as {example}.")
    check_not_special(p, what)
    check_not_read(p, reads or {}, what)
    if kind is not None:
        check_replaceable(p, kind, what)
        _check_suffix(p, kind, what)
    tmp = p.with_name(p.name + ".tmp")
    if tmp.is_dir() or (tmp.exists() and not tmp.is_file()):
        raise InputError(
            f"{what} {str(p)!r}: {str(tmp)!r}, where the file is written before it replaces "
            f"{p.name}, is a {_kind(tmp)}; remove it or choose another path."
        )
    if not parent.is_dir():
        raise InputError(
            f"{what} {str(p)!r}: directory {str(parent)!r} does not exist (or is not a "
            f"directory). Create it first (mkdir -p {parent}) or choose another path."
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        raise InputError(
            f"{what} {str(p)!r}: directory {str(parent)!r} is not writable ({exc.strerror}). "
            "Choose a writable directory or fix its permissions."
        ) from None
    os.close(fd)
    os.unlink(probe)
    return p


def _kind(path: Path) -> str:
    """What `path` is, in words (for the messages of :func:`check_writable`)."""
    import stat

    mode = path.lstat().st_mode if path.is_symlink() else path.stat().st_mode
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "file"


#: The first bytes of each kind of file the commands write (an HDF5 file may begin with a
#: user block of 512 bytes times a power of two: the signature is looked for there too).
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "NetCDF": (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05"),
    "GeoTIFF": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "PDF": (b"%PDF-",),
}


def _head(path: Path) -> bytes:
    """The first bytes of `path`, enough for :func:`begins_as` (an HDF5 user block too)."""
    with path.open("rb") as f:
        return f.read(4104)


def begins_as(head: bytes, kind: str) -> bool:
    """Whether the first bytes `head` of a file are those of a `kind` file (``"CSV"``: any
    text, no NUL byte)."""
    if kind == "CSV":
        return b"\x00" not in head
    if kind == "HTML":
        text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
        return text.startswith((b"<!doctype html", b"<html"))
    if kind == "NetCDF":
        hdf = _SIGNATURES["NetCDF"][0]
        blocks = (0, 512, 1024, 2048, 4096)
        if any(head[b : b + len(hdf)] == hdf for b in blocks):
            return True
    return head.startswith(_SIGNATURES[kind])


#: The file name suffixes of each kind of output (another one is warned about).
_SUFFIXES = {
    "NetCDF": (".nc", ".nc4", ".cdf", ".netcdf", ".h5"),
    "GeoTIFF": (".tif", ".tiff"),
    "HTML": (".html", ".htm"),
    "PDF": (".pdf",),
    "CSV": (".csv", ".txt", ".tsv"),
}


def _check_suffix(path: Path, kind: str, what: str) -> None:
    """Warn when `path`'s suffix says another kind of file than the `kind` written there
    (``--out result.csv`` for the NetCDF, ``--out map.png`` for the GeoTIFF): the file
    opens by its content, but a viewer chosen by its name does not."""
    suffix = path.suffix.lower()
    if suffix and suffix not in _SUFFIXES[kind]:
        warn(
            f"{what} {str(path)!r}: {'an' if kind == 'HTML' else 'a'} {kind} file is written under a "
            f"name ending in {suffix!r}; "
            f"a {kind} file's name ends in {' or '.join(_SUFFIXES[kind][:2])}, by which "
            "programs open it."
        )


def check_replaceable(path: Path, kind: str, what: str = "--out") -> None:
    """Refuse to replace an existing file that is not a `kind` file.

    A run writes its output over an earlier output of the same path (the usual re-run), but
    a path that holds something else (a CSV of inputs, a configuration, a picture, a
    report given where a map is written) is a mistake, and replacing it would lose the
    file. An empty file is replaced.

    Parameters
    ----------
    path : pathlib.Path
        The file to be written.
    kind : {"NetCDF", "GeoTIFF", "HTML", "PDF", "CSV"}
        What is written there (a CSV replaces text files only).
    what : str, default "--out"
        The option or field, for the message.

    Raises
    ------
    trajectoire.InputError
        If `path` exists, is not empty and does not begin as a `kind` file does.
    """
    if kind not in (*_SIGNATURES, "HTML", "CSV"):
        raise ValueError(f"kind {kind!r}; expected one of {[*_SIGNATURES, 'HTML', 'CSV']}")
    if not path.is_file():
        return
    try:
        head = _head(path)
    except OSError as exc:
        raise InputError(
            f"{what} {str(path)!r} exists and cannot be read ({exc.strerror}): it is not "
            f"replaced. Choose another path, or remove it first."
        ) from None
    if not head or begins_as(head, kind):
        return
    first = head[:24]
    a = "an" if kind == "HTML" else "a"
    raise InputError(
        f"{what} {str(path)!r} exists and is not {a} {kind} file (it begins with {first!r}): "
        f"the {kind} written there would replace it. Give another path, or remove or rename "
        "that file first if it is to be replaced."
    )


def check_not_read(path: Path, reads: Mapping[str, str | Path | None], what: str = "--out") -> None:
    """Refuse an output `path` that is a file the command reads, or lies in a directory it
    reads: the output would replace an input (``--out stations.csv``, ``--out
    config.toml``), or be read back as one by the next run.

    Parameters
    ----------
    path : pathlib.Path
        The file to be written.
    reads : mapping of str to path
        The files and directories read, by what they are in words (None values skipped).
    what : str, default "--out"
        The option or field, for the message.

    Raises
    ------
    trajectoire.InputError
        Naming the input and what it is.
    """
    target = path.expanduser().resolve()
    for label, given in reads.items():
        if given is None:
            continue
        src = Path(given).expanduser()
        read = src.resolve()
        same = read == target
        if not same and src.exists() and target.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(src, target)  # hard links, another mount
        inside = read.is_dir() and read in target.parents
        if same or inside:
            where = "is" if same else f"lies in the directory {str(read)!r} of"
            raise InputError(
                f"{what} {str(path)!r} {where} {label}, which this command reads: writing the "
                "output there would replace or add to its input. Give an output path outside "
                "the inputs."
            )


def check_not_special(path: Path, what: str) -> None:
    """Refuse an existing `path` that is neither a regular file nor a directory (a device
    such as ``/dev/null``, a FIFO, a socket): writing it atomically would replace the
    thing itself by a file (as root, ``--out /dev/null`` replaced the system's device)."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise InputError(
            f"{what} {str(path)!r} is a {_kind(path)}, not a regular file: the output is "
            "written beside it and renamed over it, which would replace it; give the path of "
            "a file (to discard an output, write it to a temporary directory)."
        )


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM received in the block and deliver them when it ends.

    xarray guards the netCDF-C library with a lock that is not re-entrant. A Ctrl-C (or the
    SIGTERM the command line turns into one) raised while xarray held it, between taking
    it and the ``try`` that gives it back, left it held: the clean-up that closes the file
    then waited for it forever, the run hung with its output's lock held. The blocks held
    are short (a file's small variables and its layout; the large variables are written
    chunk by chunk through h5py, outside). Only the main thread receives signals; in
    another thread the block runs as it is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        got.append(signum)

    kinds = (signal.SIGINT, signal.SIGTERM)
    before = {k: signal.signal(k, hold) for k in kinds}
    try:
        yield
    finally:
        for k, handler in before.items():
            signal.signal(k, handler)
        if got:  # the run's own handlers now: KeyboardInterrupt, or what SIGTERM does
            signal.raise_signal(got[0])


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Context manager yielding a temporary path that replaces `path` on success.

    The temporary file ``<path>.tmp`` is fsynced and renamed over `path` with
    :func:`os.replace` (atomic on POSIX) when the block ends without error, and removed
    otherwise, so `path` is never half written.
    """
    final = Path(path)
    tmp = final.with_name(final.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------- CF pieces
def crs_variable(grid: Grid) -> xr.DataArray:
    """The scalar ``crs`` grid-mapping variable of `grid` (CF + GDAL attributes).

    Carries the CF grid-mapping parameters of :meth:`pyproj.CRS.to_cf` (for Lambert-93:
    ``grid_mapping_name = "lambert_conformal_conic"``, standard parallels 44 and 49 deg N,
    origin 46.5 deg N 3 deg E, false easting 700 km, northing 6600 km), ``crs_wkt`` (CF 1.7+)
    and, for GDAL, ``spatial_ref`` (the same WKT) and ``GeoTransform`` (the six affine
    coefficients ``xmin dx 0 ymax 0 -dy`` of the outer top-left corner).

    Examples
    --------
    >>> g = Grid.from_bounds(700_000, 7_050_000, 701_000, 7_051_000, 100)
    >>> v = crs_variable(g)
    >>> v.attrs["grid_mapping_name"], v.attrs["GeoTransform"]
    ('lambert_conformal_conic', '700000.0 100.0 0.0 7051000.0 0.0 -100.0')
    """
    crs = pyproj.CRS.from_user_input(grid.crs)
    attrs: dict[str, Any] = dict(crs.to_cf())
    attrs["spatial_ref"] = attrs["crs_wkt"]
    epsg = crs.to_epsg()
    if epsg:
        attrs["epsg_code"] = f"EPSG:{epsg}"
    t = grid.transform
    attrs["GeoTransform"] = " ".join(repr(float(v)) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
    return xr.DataArray(np.int32(0), attrs=attrs)


def _is_gridded(da: xr.DataArray) -> bool:
    return "y" in da.dims and "x" in da.dims


def tile_size(n: int, max_tile: int = MAX_TILE) -> int:
    """Chunk length along a grid axis of `n` cells: even tiles of at most `max_tile`.

    Examples
    --------
    >>> tile_size(1111), tile_size(614), tile_size(100)
    (124, 123, 100)
    """
    n, max_tile = int(n), int(max_tile)
    if n <= max_tile:
        return max(1, n)
    pieces = -(-n // max_tile)
    return -(-n // pieces)


def netcdf_encoding(
    ds: xr.Dataset,
    *,
    dtype: str = "float32",
    complevel: int = COMPLEVEL,
    significant_digits: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Encoding of every variable of `ds` for :meth:`xarray.Dataset.to_netcdf`.

    Data variables: zlib (`complevel`) with shuffle (without it for
    :data:`UNSHUFFLED_VARIABLES`, unless quantised); chunks of one along ``year`` and every
    other non-spatial dim, even tiles of at most :data:`MAX_TILE` cells along ``y`` and ``x``
    (:func:`tile_size`);
    the variables of :data:`FLOAT_VARIABLES` (and any other float variable) stored as
    `dtype` with ``_FillValue`` NaN. Coordinates: no fill value (CF), ``x``/``y`` and other
    float coordinates kept in float64 so that the grid transform stays exact.

    With `significant_digits`, float data variables (except :data:`LOSSLESS_VARIABLES` and
    their particle-number forms, whose totals must add up exactly) are quantised by netCDF-C's
    Granular BitRound (``quantize_mode="GranularBitRound"``) to that many significant
    decimal digits before compression: lossy, relative error below ``0.5 * 10**(1 - digits)`` (see
    ``docs/outputs.md`` for the sizes measured).
    """
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        name = str(name)
        e: dict[str, Any] = {}
        is_coord = name in ds.coords or name == GRID_MAPPING
        if is_coord:
            if var.dtype.kind in "fiu":
                e["_FillValue"] = None
            enc[name] = e
            continue
        if var.dtype.kind == "f":
            e["dtype"] = dtype
            e["_FillValue"] = np.array(np.nan, dtype=dtype)
            if significant_digits is not None and var.ndim >= 1 and not _lossless(name):
                e["significant_digits"] = int(significant_digits)
                e["quantize_mode"] = "GranularBitRound"
        if var.ndim >= 1 and var.dtype.kind in "fiub":
            e["zlib"] = True
            e["complevel"] = complevel
            e["shuffle"] = name not in UNSHUFFLED_VARIABLES or "significant_digits" in e
            chunks = []
            for dim, size in zip(var.dims, var.shape, strict=True):
                if dim in ("y", "x"):
                    chunks.append(tile_size(size))
                elif _is_gridded(ds[name]) or dim == "year":
                    chunks.append(1)
                else:
                    chunks.append(size)
            e["chunksizes"] = tuple(max(1, c) for c in chunks)
        enc[name] = e
    return enc


def _lossless(name: str) -> bool:
    """Whether variable `name` is never quantised: in :data:`LOSSLESS_VARIABLES`, itself
    or as its particle-number form (``<name>_number``)."""
    base = name[: -len(NUMBER_SUFFIX)] if name.endswith(NUMBER_SUFFIX) else name
    return base in LOSSLESS_VARIABLES


def _attr_value(value: Any) -> Any:
    """NetCDF attributes hold strings and numbers: dicts/lists become JSON text."""
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, list | tuple) and not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return json.dumps(list(value), default=str)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _prepare(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    if GRID_MAPPING not in out.variables and "x" in out.coords and "y" in out.coords:
        if crs_of(out) is not None or any(crs_of(out[v]) for v in out.data_vars):
            src = (
                out
                if crs_of(out) is not None
                else next(out[v] for v in out.data_vars if crs_of(out[v]) is not None)
            )
            grid = Grid.from_coords(out["x"].values, out["y"].values, crs_of(src))
            out[GRID_MAPPING] = crs_variable(grid)
    has_crs = GRID_MAPPING in out.variables
    # the stations' positions are their variables' coordinates (CF 5: written in the
    # variables' "coordinates" attribute, stored in float64 without a fill value like x, y)
    out = out.set_coords([n for n in STATION_POSITIONS if n in out.data_vars])
    for coord, defaults in _COORD_ATTRS.items():  # coordinates, and the stations' positions
        if coord in out.variables:
            out[coord].attrs = {**defaults, **out[coord].attrs}
    for name in out.data_vars:
        da = out[name]
        with contextlib.suppress(KeyError):
            meta = variable_metadata(str(name))
            for key in ("units", "long_name", "standard_name", "cell_methods"):
                if meta.get(key) and key not in da.attrs:
                    da.attrs[key] = meta[key]
        if has_crs and _is_gridded(da):
            da.attrs["grid_mapping"] = GRID_MAPPING
        da.attrs = {k: _attr_value(v) for k, v in da.attrs.items()}
    stamp = utc_stamp()
    attrs = {**_GLOBAL_DEFAULTS, **out.attrs}
    attrs["Conventions"] = CF_VERSION
    attrs.setdefault("trajectoire_version", __version__)
    if "history" not in out.attrs:
        attrs["history"] = f"{stamp}: trajectoire {__version__}: write_netcdf"
    out.attrs = {k: _attr_value(v) for k, v in attrs.items() if v is not None}
    return out


def write_netcdf(
    ds: xr.Dataset,
    path: str | Path,
    *,
    encoding_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    dtype: str = "float32",
    significant_digits: int | None = None,
    fill: Mapping[str, Callable[[Any], object]] | None = None,
) -> Path:
    """Write `ds` to a CF-1.8 NetCDF-4 file, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Variables on dims ``year``, ``sector``, ``pollutant``, ``y``, ``x``... with ``units``;
        may be dask-backed (written chunk by chunk, never loaded whole). The grid's CRS is
        taken from a ``crs`` variable, ``attrs["crs"]`` of the dataset or of a variable.
    path : str or pathlib.Path
        Output file; written to ``<path>.tmp``, fsynced, then renamed.
    encoding_overrides : mapping, optional
        Per-variable encoding entries that replace the defaults of :func:`netcdf_encoding`.
    dtype : {"float32", "float64"}, default "float32"
        Storage type of the floating data variables. float32 keeps 7 significant digits,
        well beyond the accuracy of any emission or concentration estimate.
    significant_digits : int, optional
        Lossy quantisation of the float variables to this many significant digits (1 to 7;
        default None: lossless). See :func:`netcdf_encoding`.
    fill : mapping of str to callable, optional
        Variables whose values are written by a callable instead of taken from `ds`: the
        variable of `ds` only gives the dims, shape and attributes (it is never computed),
        and ``fill[name](dataset)`` receives the defined, empty variable as an open
        :class:`h5py.Dataset` to write into (the runner copies compressed chunks of its
        per-year parts this way, see :func:`trajectoire.io.chunks.copy_chunks`).

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    trajectoire.InputError
        `ds` is not a Dataset, `dtype` or `significant_digits` is none of those above, the
        directory of `path` is missing, or `path` is a directory or an existing file that is
        not a NetCDF (it is not replaced).

    Notes
    -----
    Global attributes ``Conventions``, ``title``, ``institution``, ``source``, ``history``,
    ``references`` and ``trajectoire_version`` are filled in when `ds` lacks them; dict or
    list attributes are stored as JSON text.

    Gridded float variables held in memory (not dask) and not quantised are written by
    :func:`trajectoire.io.chunks.write_array`: chunks that hold only NaN are not stored
    (readers get the ``_FillValue``, NaN) and the others are compressed in a thread pool,
    with the same shuffle and deflate filters netCDF-C would use.
    """
    path = Path(path)
    _check_write_arguments(ds, path, dtype, significant_digits)
    out = _prepare(ds)
    enc = netcdf_encoding(out, dtype=dtype, significant_digits=significant_digits)
    for name, over in (encoding_overrides or {}).items():
        enc.setdefault(name, {}).update(over)
    fill = dict(fill or {})
    unknown = [n for n in fill if n not in out.data_vars]
    if unknown:
        raise ValueError(f"fill names variables that are not in the dataset: {unknown}")
    direct = [n for n in _direct_candidates(out, enc) if n not in fill]
    with atomic_path(path) as tmp:
        skip = set(direct) | set(fill)
        rest = out.drop_vars(list(skip))
        rest_enc = {k: v for k, v in enc.items() if k not in skip}
        with signals_held():  # xarray's file lock must not be left held by Ctrl-C
            rest.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=rest_enc)
        if skip:
            _define_variables(tmp, out, enc, [str(n) for n in out.data_vars if n in skip])
            import h5py

            from trajectoire.io.chunks import io_pool, write_array

            # the temporary file is this writer's alone: HDF5's advisory lock adds nothing
            # here, and a child process forked while the file was open (a Dask nanny
            # spawning workers, a user's process pool) would hold it until it execs
            with h5py.File(tmp, "r+", locking=False) as f, io_pool() as pool:
                for name in direct:
                    write_array(f[name], _planes(out[name].data), pool)
                for name, writer in fill.items():
                    writer(f[name])
    return path


def _check_write_arguments(
    ds: object, path: Path, dtype: object, significant_digits: object
) -> None:
    """One line for the mistakes of a :func:`write_netcdf` call that netCDF-C or xarray
    would answer deep down (a DataArray, ``dtype="float16"``, ``significant_digits=0``, a
    missing directory said "Permission denied"), and an existing file that is not a NetCDF
    (a CSV, a configuration) is not replaced (:func:`check_replaceable`)."""
    if not isinstance(ds, xr.Dataset):
        hint = " (a DataArray: da.to_dataset(name=...))" if isinstance(ds, xr.DataArray) else ""
        raise InputError(
            f"write_netcdf: ds is a {type(ds).__name__}; expected an xarray.Dataset{hint}."
        )
    if dtype not in ("float32", "float64"):
        raise InputError(
            f"write_netcdf: dtype={dtype!r}; expected 'float32' (the default, 7 significant "
            "digits) or 'float64'."
        )
    if significant_digits is not None and (
        isinstance(significant_digits, bool)
        or not isinstance(significant_digits, int | np.integer)
        or not 1 <= int(significant_digits) <= 7
    ):
        raise InputError(
            f"write_netcdf: significant_digits={significant_digits!r}; expected an integer "
            "from 1 to 7, or None for lossless storage."
        )
    if path.is_dir():
        raise InputError(f"write_netcdf: {str(path)!r} is a directory; give a file name (out.nc).")
    if not path.parent.is_dir():
        raise InputError(
            f"write_netcdf: directory {str(path.parent)!r} of {str(path)!r} does not exist; "
            "create it first or choose another path."
        )
    check_replaceable(path, "NetCDF", what="write_netcdf path")


def _direct_candidates(out: xr.Dataset, enc: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Gridded float variables in memory (or dask arrays of whole planes), chunked and not
    quantised (written by trajectoire.io.chunks)."""
    names = []
    for name, da in out.data_vars.items():
        e = enc.get(str(name), {})
        if (
            da.dtype.kind == "f"
            and da.ndim >= 2
            and da.dims[-2:] == ("y", "x")
            and "chunksizes" in e
            and "significant_digits" not in e
            and (da.chunks is None or _whole_planes(da))
        ):
            names.append(str(name))
    return names


def _whole_planes(da: xr.DataArray) -> bool:
    """A dask array of one chunk per ``(y, x)`` plane (:class:`trajectoire.io.outputs.YearMaps`:
    its constant planes are computed chunk by chunk, never all at once)."""
    assert da.chunks is not None
    *lead, ys, xs = da.chunks
    return len(ys) == 1 and len(xs) == 1 and all(set(c) == {1} for c in lead)


def _planes(data: Any) -> Any:
    """`data` for write_array: numpy as it is, dask behind :class:`~trajectoire._planes.Planes`."""
    return data if isinstance(data, np.ndarray) else Planes(data)


def _define_variables(
    path: Path, out: xr.Dataset, enc: Mapping[str, Mapping[str, Any]], names: list[str]
) -> None:
    """Define (without data) the float variables `names` of `out` in the NetCDF `path`."""
    import netCDF4

    with netCDF4.Dataset(path, "a") as nc:
        for name in names:
            da = out[name]
            e = enc.get(name, {})
            for dim, size in zip(da.dims, da.shape, strict=True):
                if dim not in nc.dimensions:
                    nc.createDimension(str(dim), size)
            kind = np.dtype(e.get("dtype", da.dtype))
            kwargs: dict[str, Any] = {
                "zlib": bool(e.get("zlib", False)),
                "complevel": int(e.get("complevel", COMPLEVEL)),
                "shuffle": bool(e.get("shuffle", False)),
                "chunksizes": e.get("chunksizes"),
                "fill_value": kind.type(np.nan),
            }
            if "significant_digits" in e:
                kwargs["significant_digits"] = e["significant_digits"]
                kwargs["quantize_mode"] = e.get("quantize_mode", "BitGroom")
            var = nc.createVariable(name, kind, tuple(str(d) for d in da.dims), **kwargs)
            attrs = {str(k): v for k, v in da.attrs.items() if k != "_FillValue"}
            extra = [str(c) for c in da.coords if c not in da.dims]
            if extra:
                attrs["coordinates"] = " ".join(extra)
            var.setncatts(attrs)


# ---------------------------------------------------------------------- reading
def years_attribute(value: Any) -> list[int]:
    """The years of a global attribute such as ``map_years``, sorted: integers (what the
    run writes) or text of years separated by spaces or commas (files of earlier
    versions, ``"1990 1995 2023"``); ``[]`` for None or an empty value."""
    if value is None:
        return []
    text = " ".join(str(v) for v in np.atleast_1d(value))
    return sorted({int(v) for v in text.replace(",", " ").split()})


def decode_flags(da: xr.DataArray) -> xr.DataArray:
    """The meaning of each value of a CF flag variable (CF 1.8 §3.5), as text.

    Reads the variable's ``flag_values`` and ``flag_meanings`` (words separated by spaces):
    ``emission_method`` and ``emission_method_number`` (how each year's emission was
    rebuilt, ``docs/outputs.md``), ``mask``.

    Parameters
    ----------
    da : xarray.DataArray
        A flag variable (loaded or lazy; its values are read).

    Returns
    -------
    xarray.DataArray
        The dims and coordinates of `da`, each value's meaning (str); ``""`` where a value
        is none of the flags (a missing value, read as NaN). Attribute ``long_name`` kept.

    Raises
    ------
    trajectoire.InputError
        `da` has no ``flag_values`` or ``flag_meanings``, or not one meaning per value.

    Examples
    --------
    >>> mask = xr.DataArray(
    ...     np.array([[0, 1, 1]], dtype=np.int8), dims=("y", "x"),
    ...     attrs={"flag_values": np.array([0, 1], dtype=np.int8),
    ...            "flag_meanings": "masked written"})
    >>> decode_flags(mask).values.tolist()
    [['masked', 'written', 'written']]
    """
    name = da.name if da.name is not None else "the variable"
    if "flag_values" not in da.attrs or "flag_meanings" not in da.attrs:
        raise InputError(
            f"decode_flags: {name} has no flag_values and flag_meanings attributes: it is not "
            "a flag variable (CF 3.5), such as emission_method or mask."
        )
    codes = np.atleast_1d(np.asarray(da.attrs["flag_values"]))
    meanings = str(da.attrs["flag_meanings"]).split()
    if len(meanings) != codes.size:
        raise InputError(
            f"decode_flags: {name} has {codes.size} flag_values and {len(meanings)} "
            f"flag_meanings ({' '.join(meanings)!r}); CF 3.5 asks one meaning per value."
        )
    values = np.asarray(da.values)
    text = np.full(values.shape, "", dtype=f"<U{max(map(len, meanings), default=1)}")
    for code, meaning in zip(codes.tolist(), meanings, strict=True):
        text[values == code] = meaning
    out = da.copy(data=text)
    out.attrs = {k: v for k, v in da.attrs.items() if k == "long_name"}
    out.encoding = {}
    return out


def open_output(path: str | Path, **kwargs: Any) -> xr.Dataset:
    """Open a trajectoire output NetCDF lazily (dask chunks: one year, one whole map).

    Parameters
    ----------
    path : str or pathlib.Path
        Output of ``trajectoire run``.
    **kwargs
        Passed to :func:`xarray.open_dataset` (for example ``chunks=None`` to load eagerly).

    Raises
    ------
    trajectoire.InputError
        If `path` is not a path (None, an open file, a dataset), does not exist, is a
        directory or is not a NetCDF file.
    """
    if isinstance(path, xr.Dataset):
        raise InputError(
            "open_output: got an xarray.Dataset, which is already open; use it as it is "
            "(open_output takes the path of a trajectoire output, .nc)."
        )
    if not isinstance(path, str | os.PathLike):
        name = getattr(path, "name", None)
        hint = f" such as open_output({name!r})" if isinstance(name, str) else " (.nc)"
        raise InputError(
            f"open_output: got {type(path).__name__} {path!r:.60}; expected the path of a "
            f"trajectoire output as a str or pathlib.Path{hint}."
        )
    p = Path(path)
    if p.is_dir():
        raise InputError(
            f"{str(p)!r} is a directory; give the path of a trajectoire output file in it "
            "(.nc), e.g. the --out of `trajectoire run`."
        )
    if not p.is_file():
        raise InputError(f"{str(p)!r} not found; give the path of a trajectoire output (.nc).")
    # dask chunks of whole maps: the stored 128-cell tiles would make ~10^5 tiny tasks
    kwargs.setdefault("chunks", {"year": 1, "y": -1, "x": -1})
    try:
        return xr.open_dataset(p, engine="netcdf4", **kwargs)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{str(p)!r} cannot be opened as NetCDF ({exc}); is it a trajectoire output?"
        ) from None


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"  # pragma: no cover


def _grid_line(ds: xr.Dataset) -> str:
    try:
        return repr(Grid.from_xarray(ds))
    except Exception as exc:  # a summary shows what it can
        return f"(no regular grid: {exc})"


def check_output(path: str | Path) -> None:
    """Check that every stored chunk of an output file reads back.

    Parameters
    ----------
    path : str or pathlib.Path
        Output NetCDF of a run.

    Raises
    ------
    trajectoire.InputError
        The file is missing, is not NetCDF-4/HDF5 (truncated or another format), or holds
        chunks that cannot be decoded (bytes changed on disk): the message names the first
        damaged variable and chunk, and how to get an intact file again.
    """
    from trajectoire.io.chunks import verify_chunks

    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "file not found"
        raise InputError(f"{p}: {what}; give the output of a `trajectoire run` (a .nc file).")
    redo = f"recompute it with `trajectoire run CONFIG --out {p}`"
    head = b""
    with contextlib.suppress(OSError):  # unreadable: said below, with HDF5's reason
        head = _head(p)
    if head and not begins_as(head, "NetCDF"):  # a CSV, a TOML, a GeoTIFF: not an output
        raise InputError(
            f"{p} is not a NetCDF file (it begins with {head[:24]!r}); give the output of a "
            "`trajectoire run` (a .nc file)."
        )
    try:
        problems = verify_chunks(p)
    except OSError as exc:
        raise InputError(
            f"{p} is damaged or is not a NetCDF-4 file ({str(exc).splitlines()[0]}); {redo}."
        ) from None
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{p} is damaged: {problems[0]}{more}; {redo}.")


def summary(path: str | Path) -> str:
    """A human-readable summary of an output file (``trajectoire info``).

    Lists the grid, years, pollutants, sectors, territories, the variables with their dims
    and units, the size on disk, the configuration name, the methods recorded per sector,
    the years each method rebuilt (``emission_method``), the domain-mean concentration of
    the first and last year of each pollutant, the inhabitants of each territory above the
    reference values (WHO 2021, EU 2030...) in the last year, the evaluation at the stations
    (``evaluation``) when it was computed, and the leave-one-out skill of the fused maps
    (``fusion_skill``) when the run fused them.

    Parameters
    ----------
    path : str or pathlib.Path
        Output NetCDF.

    Returns
    -------
    str
        Several lines of text.
    """
    p = Path(path)
    ds = open_output(p)
    try:
        lines = [f"{p}  ({_size(p.stat().st_size)} on disk)"]
        a = ds.attrs
        if "trajectoire_version" in a:
            lines.append(f"  run:         {a.get('title', '(no title)')}")
            lines.append(
                f"  written by:  {a.get('source', '?')}; {a.get('Conventions', 'no Conventions')}"
            )
        else:  # a NetCDF from elsewhere: say so rather than print '?' where the run would be
            made = "; ".join(str(a[k]) for k in ("title", "source", "Conventions") if k in a)
            lines.append(
                "  not a trajectoire output (no 'trajectoire_version' attribute)"
                + (f": {made}" if made else "")
                + "; what it holds:"
            )
        lines.append(f"  grid:        {_grid_line(ds)}")
        if "year" in ds.coords:
            yrs = [int(v) for v in ds["year"].values]
            span = f"{yrs[0]}..{yrs[-1]}" if yrs else "none"
            lines.append(f"  years:       {span} ({len(yrs)})")
            if "contribution" in ds:
                maps = a.get("map_years")
                if maps is not None:
                    lines.append(f"  map years:   {years_attribute(maps)}")
        for dim, label in (
            ("pollutant", "pollutants:"),
            ("pollutant_number", "particle no.:"),  # number species: own *_number variables
            ("sector", "sectors:"),
            ("territory", "territories:"),
            ("station", "stations:"),
        ):
            if dim in ds.coords:
                vals = [str(v) for v in ds[dim].values]
                lines.append(f"  {label:<12} {', '.join(vals)}")
        lines.append("  variables:")
        for name, da in ds.data_vars.items():
            if name == GRID_MAPPING:
                continue
            units = da.attrs.get("units", "-")
            lines.append(f"    {name:<16} ({', '.join(map(str, da.dims))})  [{units}]")
        if "station_observation" in ds:
            n_obs = int(ds["station_observation"].notnull().sum())
            lines.append(f"  observations: {n_obs} station-year-pollutant annual means")
        methods = a.get("trajectory_methods")
        if methods:
            lines.append(f"  methods:     {_methods_line(str(methods))}")
        rebuilt = _rebuilt_line(ds)
        if rebuilt:
            lines.append(f"  rebuilt:     {rebuilt}")
        if "concentration" in ds and "year" in ds.dims and ds.sizes["year"] > 0:
            lines.append("  domain-mean concentration (first and last year with maps):")
            for name, dim in (
                ("concentration", "pollutant"),
                ("concentration_number", "pollutant_number"),
            ):
                if name in ds:
                    lines += _mean_lines(ds[name], dim)
        lines += _above_lines(ds)
        lines += _evaluation_lines(ds)
        lines += _fusion_lines(ds)
        lines += _evaluation_notes(ds)
        return "\n".join(lines)
    finally:
        ds.close()


def _methods_line(methods: str) -> str:
    """``trajectory_methods`` as ``sector: method; ...`` (the JSON the run writes; the text of
    files of earlier versions as it is)."""
    try:
        table = json.loads(methods)
    except ValueError:
        return methods
    if not isinstance(table, dict):
        return methods
    return "; ".join(f"{k}: {v}" for k, v in table.items())


def _rebuilt_line(ds: xr.Dataset) -> str:
    """The years of each method of ``emission_method`` (and its ``_number`` twin): a year
    counts for every method some sector and pollutant got, ``no_emission`` left out, in the
    flags' order (``reference 2018; interpolation 2013..2017; ...``); ``""`` without them."""
    years: dict[str, set[int]] = {}
    for name in ("emission_method", f"emission_method{NUMBER_SUFFIX}"):
        if name not in ds.data_vars or "flag_meanings" not in ds[name].attrs:
            continue
        labels = decode_flags(ds[name])
        others = [d for d in labels.dims if d != "year"]
        for meaning in str(ds[name].attrs["flag_meanings"]).split():
            found = (labels == meaning).any(others).values
            years.setdefault(meaning, set()).update(int(y) for y in labels["year"].values[found])
    return "; ".join(
        f"{m} {year_ranges(ys)}" for m, ys in years.items() if ys and m != "no_emission"
    )


def _mean_lines(conc: xr.DataArray, dim: str) -> list[str]:
    """Domain mean of each pollutant of `conc` in the first and last year that hold a map
    (one year when only one does; a scenario's years before its cuts hold none), in its
    units."""
    units = conc.attrs.get("units", "")
    pols = conc[dim].values if dim in conc.dims else [None]
    years = [int(y) for y in conc["year"].values]
    lines = []
    for pol in pols:
        sel = conc if pol is None else conc.sel({dim: pol})
        means: dict[int, float] = {}
        first = _first_map_year(sel, years, means)
        if first is None:
            shown, means[years[0]] = [years[0]], float("nan")
        else:
            shown = sorted({first, _first_map_year(sel, years[::-1], means) or first})
        label = "" if pol is None else str(pol)
        cells = "  ".join(f"{y}: {means[y]:.4g}" for y in shown)
        lines.append(f"    {label:<12} {cells}  [{units}]")
    return lines


def _first_map_year(da: xr.DataArray, order: Sequence[int], means: dict[int, float]) -> int | None:
    """The first year of `order` whose map of `da` holds a value, each mean read kept in
    `means` (maps read one by one: most outputs stop at the first)."""
    for y in order:
        if y not in means:
            means[y] = float(da.sel(year=y).mean(skipna=True))
        if np.isfinite(means[y]):
            return y
    return None


def _above_lines(ds: xr.Dataset) -> list[str]:
    """Inhabitants above each reference value per territory in the last year (share)."""
    if "inhabitants_above" not in ds or ds.sizes.get("year", 0) == 0:
        return []
    last = ds["year"].values[-1]
    above = ds["inhabitants_above"].sel(year=last)
    if "inhabitants_above_number" in ds:  # particle numbers: their own variable, same counts
        number = ds["inhabitants_above_number"].sel(year=last)
        above = xr.concat([above, number.rename(pollutant_number="pollutant")], "pollutant")
    # a scenario's output: one threshold per pollutant (its ``threshold`` variable)
    per_pollutant = ds["threshold"] if "threshold" not in above.dims and "threshold" in ds else None
    if "threshold" not in above.dims:
        above = above.expand_dims(threshold=["scenario"])
    total = ds["population_total"].sel(year=last) if "population_total" in ds else None
    lines = [f"  inhabitants above the reference values in {int(last)} (share of the territory):"]
    for terr in above["territory"].values:
        head = str(terr)
        for label in above["threshold"].values:
            cells = []
            for pol in above["pollutant"].values:
                n = float(above.sel(territory=terr, threshold=label, pollutant=pol))
                if np.isnan(n):
                    continue
                pop = np.nan if total is None else float(total.sel(territory=terr))
                share = f" ({100 * n / pop:.0f}%)" if pop > 0 else ""
                limit = (
                    "" if per_pollutant is None else f">{float(per_pollutant.sel(pollutant=pol)):g}"
                )
                cells.append(f"{pol}{limit} {n:,.0f}{share}")
            if cells:
                lines.append(f"    {head:<10} {str(label):<8} {'  '.join(cells)}")
                head = ""
    if len(lines) == 1:
        return []  # no pollutant with a reference value: no header
    labels = {str(t) for t in above["threshold"].values}
    return lines + [
        f"    ({NUMBER_THRESHOLD_NOTES[t]})" for t in sorted(labels & set(NUMBER_THRESHOLD_NOTES))
    ]


def _counted_years(
    ds: xr.Dataset, variable: str, **n_at: str
) -> list[tuple[Any, xr.DataArray, np.ndarray]] | None:
    """Per pollutant of a statistics table (``evaluation``, ``fusion_skill``): the table of
    that pollutant and the indices of its years with a count ``n`` > 0 (``n`` taken at
    `n_at`, e.g. ``stage="fused"``); None when `ds` has no such table or no year."""
    if variable not in ds or ds.sizes.get("year", 0) == 0:
        return None
    stats = ds[variable].load()
    rows = []
    for pol in stats["pollutant"].values:
        table = stats.sel(pollutant=pol)
        n = table.sel({"statistic": "n", **n_at}).values
        rows.append((pol, table, np.flatnonzero(np.nan_to_num(n) > 0)))
    return rows


def _evaluation_lines(ds: xr.Dataset) -> list[str]:
    """The evaluation table: per pollutant, its last year with observations, and the years
    whose network MQI meets the objective."""
    rows = _counted_years(ds, "evaluation")
    if rows is None:
        return []
    lines = ["  evaluation at the stations (last year observed; docs/evaluation.md):"]
    for pol, table, observed in rows:
        if not len(observed):
            continue
        row = table.isel(year=observed[-1])

        def v(stat: str, row: xr.DataArray = row) -> float:
            return float(row.sel(statistic=stat))

        text = (
            f"    {str(pol):<6} {int(row['year'])}: n {v('n'):.0f}  FB {v('fb'):+.2f}  "
            f"NMSE {v('nmse'):.2f}  FAC2 {v('fac2'):.2f}  R {v('r'):.2f}  NMB {v('nmb'):+.2f}"
        )
        if np.isfinite(v("mqi_p90")):
            met = table.sel(statistic="mqo_fulfilled").values
            ok, of = int(np.nansum(met)), int(np.isfinite(met).sum())
            text += f"  MQI90 {v('mqi_p90'):.2f} (MQO met {ok}/{of} years)"
        lines.append(text)
    return lines if len(lines) > 1 else []


def _evaluation_notes(ds: xr.Dataset) -> list[str]:
    """What the evaluation table's figures are taken over, per pollutant, in its last year
    observed (the year ``trajectoire info`` shows): the stations FAC2 counts (``n_fac2`` of
    ``n``), those MG and VG leave out (a value 0: ``n_below_threshold``), the stations
    meeting the MQO (``n_mqo_met``) and, below 10 stations, the small-network rule; and
    the stations ``fusion_skill`` covers. Lines of :func:`summary` (``trajectoire info``).

    Parameters
    ----------
    ds : xarray.Dataset
        An output (its ``evaluation`` and ``fusion_skill`` are read when present).

    Returns
    -------
    list of str
        Indented lines under a header; empty without an ``evaluation`` holding the counts
        (an output of an earlier version).
    """
    if "evaluation" not in ds or ds.sizes.get("year", 0) == 0:
        return []
    table = ds["evaluation"].load()
    have = {str(s) for s in table["statistic"].values}
    if not {"n_fac2", "n_below_threshold", "n_mqo_met"} <= have:
        return []
    skill = ds["fusion_skill"].load() if "fusion_skill" in ds else None
    lines = ["  what the evaluation covers (last year observed; docs/evaluation.md):"]
    for pol in table["pollutant"].values:
        t = table.sel(pollutant=pol)
        n_all = np.nan_to_num(np.asarray(t.sel(statistic="n").values, dtype=float))
        seen = np.flatnonzero(n_all > 0)
        if not len(seen):
            continue
        row = t.isel(year=seen[-1])
        year = int(row["year"])

        def v(stat: str, row: xr.DataArray = row) -> float:
            return float(row.sel(statistic=stat))

        n = int(v("n"))
        parts = [f"FAC2 over {int(v('n_fac2'))} of {n} station(s)"]
        if v("n_fac2") < n:
            parts[0] += f" ({n - int(v('n_fac2'))} with both values 0 left out)"
        zero = int(v("n_below_threshold"))
        if zero:
            parts.append(
                f"{zero} with the model or the observation 0: outside the factor two, left "
                f"out of MG and VG (taken over {n - zero})"
            )
        if np.isfinite(v("n_mqo_met")):
            text = f"MQI <= 1 at {int(v('n_mqo_met'))} of {n} station(s)"
            if n < 10:
                text += " (fewer than 10: the MQO needs every one, FAIRMODE 90 % principle)"
            parts.append(text)
        if skill is not None and pol in skill["pollutant"].values:
            k = skill.sel(pollutant=pol, year=year)
            fused = float(k.sel(stage="model", statistic="n"))
            if np.isfinite(fused):
                loo = float(k.sel(stage="fused", statistic="n"))
                parts.append(
                    f"fusion_skill over {int(fused)} station(s)"
                    + (f", {int(loo)} predicted leaving each out" if np.isfinite(loo) else "")
                )
        lines.append(f"    {str(pol):<6} {year}: " + "; ".join(parts))
    return lines if len(lines) > 1 else []


# ---------------------------------------------------------------------- fusion (docs/fusion.md)


def _fusion_lines(ds: xr.Dataset) -> list[str]:
    """The leave-one-out skill of the fused maps: per pollutant, its last fused year."""
    rows = _counted_years(ds, "fusion_skill", stage="fused")
    if rows is None:
        return []
    lines = ["  fusion with the stations (leave-one-out, model -> fused; docs/fusion.md):"]
    for pol, table, fused in rows:
        if not len(fused):
            lines.append(f"    {str(pol):<6} not fused (no year with enough observed stations)")
            continue
        row = table.isel(year=fused[-1])

        def v(stage: str, stat: str, row: xr.DataArray = row) -> float:
            return float(row.sel(stage=stage, statistic=stat))

        lines.append(
            f"    {str(pol):<6} {int(row['year'])}: n {v('fused', 'n'):.0f}  LOO RMSE "
            f"{v('model', 'rmse'):.2f} -> {v('fused', 'rmse'):.2f}  R {v('model', 'r'):.2f} -> "
            f"{v('fused', 'r'):.2f}  bias {v('model', 'bias'):+.2f} -> {v('fused', 'bias'):+.2f}"
            f"  ({len(fused)} year(s) fused)"
        )
    return lines


# ---------------------------------------------------------------------- GeoTIFF
class MapSelection(TypedDict):
    """Which map of a gridded output variable: the keywords that select it.

    :func:`select_map` takes them (``**selection``, PEP 692) and checks them; the functions
    that pass them on to it take them the same way: :func:`map_to_geotiff`,
    :func:`export_geotiff`, ``ds.trajectoire.map`` and ``ds.trajectoire.to_geotiff``.

    Attributes
    ----------
    year : int
        Year of the map: a whole number (``2019.0`` is 2019; ``2019.7``, None or a list
        raise :class:`trajectoire.InputError`).
    pollutant : str or None, optional
        Pollutant id or alias (``"PM2_5"`` is ``PM2.5``), required for variables with a
        ``pollutant`` dim (default None: ``population`` and ``mask`` have none).
    sector : str or None, optional
        GNFR sector, required for variables with a ``sector`` dim (default None).

    Notes
    -----
    A missing `year`, or an unknown keyword, raises :class:`TypeError` naming it, as Python
    does for a function without ``**selection``; a missing `pollutant` or `sector` that the
    variable needs raises :class:`trajectoire.InputError` listing the file's.
    """

    year: int
    pollutant: NotRequired[str | None]
    sector: NotRequired[str | None]


def _selection(selection: Mapping[str, Any]) -> tuple[int, str | None, str | None]:
    """``(year, pollutant, sector)`` of a :class:`MapSelection`, checked, defaults applied."""
    given = keyword_options(MapSelection, "select_map", selection, required=("year",))
    return require_year(given["year"]), given["pollutant"], given["sector"]


MAP_YEAR_VARIABLES = frozenset(
    {"contribution", "contribution_number", "deposition", "deposition_number"}
)
"""Gridded variables the run writes in the map years only (NaN in the other years; absent
from a file whose years hold no map year): docs/outputs.md, "The map years"."""


def _check_scalar_selection(
    da: xr.DataArray, name: str, year: int, pollutant: str | None, sector: str | None
) -> dict[str, Any]:
    """Refuse a map asked of a dataset already cut to another year, pollutant or sector
    (``ds.sel(year=2022)`` keeps ``year`` as a scalar coordinate): the map of the scalar's
    value was returned whatever was asked. Returns the scalar coordinates held, by name."""
    from trajectoire.sectors import normalise_sector
    from trajectoire.species import normalise_pollutant

    asked: dict[str, Any] = {"year": year}
    held_all: dict[str, Any] = {}
    if pollutant is not None:
        asked["pollutant"] = normalise_pollutant(
            pollutant, what=f"{name}: pollutant (--pollutant, pollutant=)"
        )
    if sector is not None:
        asked["sector"] = normalise_sector(sector, what=f"{name}: sector (--sector, sector=)")
    for dim in ("year", "pollutant", "sector"):
        held = scalar_coordinate(da, dim)
        if held is None:
            continue
        held = held_all[dim] = int(held) if dim == "year" else str(held)
        value = asked.get(dim, held)
        if held != value:
            raise InputError(
                f"{name}: {dim}={value!r} asked of a dataset already cut to {dim} {held!r} (a "
                f"scalar coordinate, as ds.sel({dim}=...) leaves it); select from the whole "
                f"output, or ask {dim}={held!r}."
            )
    return held_all


@with_options(MapSelection, required=("year",))
def select_map(
    ds: xr.Dataset, variable: str = "concentration", **selection: Unpack[MapSelection]
) -> tuple[xr.DataArray, dict[str, Any]]:
    """One ``(y, x)`` map of a gridded output variable, with its inputs checked.

    Parameters
    ----------
    ds : xarray.Dataset
        An output of ``trajectoire run`` (:func:`open_output`), or a dataset of the same
        layout; its name in messages is ``ds.encoding["source"]`` when it was opened from a
        file.
    variable : str, default "concentration"
        A gridded variable (``concentration``, ``contribution``, ``emission``...).
    **selection
        ``year``, ``pollutant`` and ``sector``: see :class:`MapSelection`.

    Returns
    -------
    (xarray.DataArray, dict)
        The map, dims ``(y, x)`` with the variable's attributes, and the selection made
        (``{"year": ..., "pollutant": ..., "sector": ...}``).

    Raises
    ------
    trajectoire.InputError
        Unknown variable, year, pollutant or sector (the message lists the valid ones), a
        missing `sector` for a per-sector variable, or a map that is missing for that year
        (contributions exist only for the configured map years).
    """
    from trajectoire.sectors import normalise_sector
    from trajectoire.species import normalise_pollutant

    year, pollutant, sector = _selection(selection)
    name = ds.encoding.get("source", "dataset")
    # particle numbers live in their own variables (cm-3, yr-1...)
    ds = species_view(ds, pollutant, what=f"{name}: pollutant (--pollutant, pollutant=)")
    selectable = {"year", "pollutant", "sector", "y", "x"}
    maps = [str(v) for v in ds.data_vars if _is_gridded(ds[v]) and set(ds[v].dims) <= selectable]
    if variable not in ds.data_vars or not _is_gridded(ds[variable]):
        if variable in MAP_YEAR_VARIABLES and not years_attribute(ds.attrs.get("map_years")):
            raise MissingVariableError(
                f"{name}: no {variable} maps: none of the file's years is a map year (map "
                f"years: {_map_years(ds)}); run again with a year of [attribution] map_years "
                f"among the years computed, or read one of {maps}."
            )
        raise MissingVariableError(
            f"{name}: no gridded variable {variable!r}; expected one of {maps}."
        )
    da = ds[variable]
    other = [str(d) for d in da.dims if d not in selectable]
    if other:
        first = {d: str(da[d].values[0]) for d in other if d in da.coords}
        raise InputError(
            f"{name}: {variable} is given per {', '.join(other)}, which a map export does not "
            f"select (it selects year, pollutant and sector); expected one of {maps}, or read "
            f"it with xarray: open_output(path)[{variable!r}].sel({first})."
        )
    sel: dict[str, Any] = {}
    held = _check_scalar_selection(da, name, year, pollutant, sector)
    if "year" in da.dims:
        years = [int(v) for v in da["year"].values]
        if year not in years:
            raise InputError(
                f"{name}: year {year} not in the file; available: {years[0]}..{years[-1]}."
            )
        sel["year"] = year
    # and the particle-number species, in their own variable (species_view's layout)
    number = ds.get(f"{variable}{NUMBER_SUFFIX}")
    more = [] if number is None else [str(v) for v in number["pollutant_number"].values]
    for dim, given, normalise, others in (
        ("pollutant", pollutant, normalise_pollutant, more),
        ("sector", sector, normalise_sector, []),
    ):
        if dim not in da.dims:
            continue
        have = [str(v) for v in da[dim].values]
        option = f"--{dim}, {dim}="
        if given is None:
            raise InputError(
                f"{name}: {variable} is given per {dim}; pass a {dim} ({option}) among "
                f"{have + others}."
            )
        sel[dim] = normalise(given, what=f"{name}: {dim} ({option})")
        if sel[dim] not in have:
            raise InputError(f"{name}: {dim} {sel[dim]!r} not in the file; have {have}.")
    # a sector asked of a variable without one (a 0-d sector coordinate: the total, as it)
    if sector is not None and "sector" not in da.dims and "sector" not in da.coords:
        per_sector = sorted(
            str(v) for v in ds.data_vars if "sector" in ds[v].dims and {"y", "x"} <= set(ds[v].dims)
        )
        raise InputError(
            f"{name}: {variable} has no sector dimension (it is the sum of all sectors), so "
            f"sector {sector!r} cannot be selected; drop the sector, or choose a variable "
            f"given per sector: {per_sector or 'none in this file'}"
            + (
                f" (contribution: map years {_map_years(ds)})"
                if "contribution" in per_sector
                else ""
            )
            + "."
        )
    da = da.sel(sel)
    sel.update(held)  # a dataset cut to the value asked: said as if selected here
    extra = [d for d in da.dims if d not in ("y", "x")]
    if extra:
        raise InputError(
            f"{variable} still has dims {extra} after selecting {sel}; "
            "a map is selected by year, pollutant and sector."
        )
    da = da.transpose("y", "x")
    if bool(np.isnan(da).all()):  # computed once (a dask read)
        if variable in MAP_YEAR_VARIABLES and year not in years_attribute(
            ds.attrs.get("map_years")
        ):
            raise InputError(
                f"{name}: {variable} maps of {year} are missing (not a map year); "
                f"map years: {_map_years(ds)}. Pick one of them, or add the "
                "year to [attribution] map_years and run again."
            )
        words = {"pollutant": "of", "sector": "from", "year": "in"}
        what = " ".join([variable] + [f"{w} {sel[k]}" for k, w in words.items() if k in sel])
        raise InputError(
            f"{name}: {what} holds no value (NaN in every cell, nothing to draw or export: "
            "docs/outputs.md says which maps are not computed, e.g. NO2's emission and "
            "deposition, carried by NOx, from which NO2 is formed); choose another pollutant "
            "or variable."
        )
    return da, sel


def _map_years(ds: xr.Dataset) -> str:
    """The file's map years as a reader writes them (``1990, 2000``), '?' when unknown."""
    if ds.attrs.get("map_years") is None:
        return "?"
    return ", ".join(map(str, years_attribute(ds.attrs["map_years"]))) or "none"


@with_options(MapSelection, required=("year",))
def export_geotiff(
    path_nc: str | Path,
    out_tif: str | Path,
    *,
    variable: str = "concentration",
    **selection: Unpack[MapSelection],
) -> Path:
    """Write one map of an output NetCDF as a GeoTIFF that QGIS reads with its CRS.

    Parameters
    ----------
    path_nc : str or pathlib.Path
        Output NetCDF of a run.
    out_tif : str or pathlib.Path
        GeoTIFF to write (atomically).
    variable : str, default "concentration"
        A gridded variable, as for :func:`select_map`.
    **selection
        ``year``, ``pollutant`` and ``sector``: see :class:`MapSelection`.

    Returns
    -------
    pathlib.Path
        `out_tif`: float32, one band, CRS of the grid (EPSG:2154), the grid's exact
        transform, nodata NaN, deflate-compressed, tiled 256 x 256; the band description
        names the variable, pollutant, sector and year, and its tags hold ``units``,
        ``year`` (and ``pollutant``, ``sector`` for the variables that have them).

    Raises
    ------
    trajectoire.InputError
        As :func:`select_map`; `out_tif` that cannot be written (:func:`check_writable`),
        is `path_nc` or is an existing file that is not a GeoTIFF (it is not replaced).
    """
    ds = open_output(path_nc)
    try:
        return map_to_geotiff(ds, out_tif, variable, source=str(path_nc), **selection)
    finally:
        ds.close()


@with_options(MapSelection, required=("year",))
def map_to_geotiff(
    ds: xr.Dataset,
    out_tif: str | Path,
    variable: str = "concentration",
    *,
    source: str | None = None,
    **selection: Unpack[MapSelection],
) -> Path:
    """Write one map of an output dataset as a GeoTIFF (see :func:`export_geotiff`).

    `ds` is an opened output (or a dataset of the same layout, ``ds.trajectoire.to_geotiff``);
    `variable` and the keywords of :class:`MapSelection` choose the map (:func:`select_map`);
    `source` is recorded in the file's ``source_file`` tag. Returns `out_tif`.

    Raises :class:`trajectoire.InputError` when `out_tif` cannot be written (its directory
    is missing or read-only, or it is a directory: :func:`check_writable`), is the NetCDF
    the map is read from (`source`, or the file `ds` was opened from), or is an existing file
    that is not a GeoTIFF, before anything is read; and as :func:`select_map` for the
    selection.
    """
    import rasterio

    out_tif = Path(out_tif)
    origin = source if source is not None else str(ds.encoding.get("source", ""))
    # a missing directory: one line, not rasterio's; the NetCDF read, or a file that is no
    # GeoTIFF (a configuration, a CSV), is not replaced
    # (its name's suffix is the command line's to warn about, once)
    check_writable(
        out_tif, what="GeoTIFF", reads={"the NetCDF the map is read from": origin or None}
    )
    check_replaceable(out_tif, "GeoTIFF", what="GeoTIFF")
    da, sel = select_map(ds, variable, **selection)
    year = require_year(selection["year"])
    values = np.asarray(north_up(da).values, dtype="float32")  # the rows GDAL expects
    grid = Grid.from_xarray(ds)
    profile = grid.rasterio_profile(dtype="float32")
    profile.update(nodata=float("nan"), tiled=True, blockxsize=256, blockysize=256)
    # a variable without years (mask, population) is not labelled with the year asked
    dated = "year" in sel
    desc = f"{variable} {sel.get('pollutant', '')} {sel.get('sector', '')} {year if dated else ''}"
    units = str(da.attrs.get("units", ""))
    tags = {"variable": variable, "units": units, "long_name": str(da.attrs.get("long_name", ""))}
    if dated:
        tags["year"] = str(year)
    for key in ("pollutant", "sector"):  # those the variable has
        if key in sel:
            tags[key] = str(sel[key])
    with atomic_path(out_tif) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(values, 1)
            dst.set_band_description(1, " ".join(desc.split()))
            if units:
                dst.set_band_unit(1, units)  # GDAL's unit type: QGIS shows it
            dst.update_tags(1, **tags)
            dst.update_tags(source=f"trajectoire {__version__}", source_file=origin)
    return out_tif
