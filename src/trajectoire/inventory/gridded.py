"""European gridded inventories on longitude/latitude grids: CAMS-REG and EMEP/CEIP.

Both readers crop to a box first (the files cover Europe), normalise the GNFR sector names
and the pollutant names, convert the values to ``t yr-1`` per cell, and hand the result to
:func:`trajectoire.inventory.read_gridded`, so they return what it returns: an
``emission(sector, pollutant, y, x)`` DataArray on the file's own ``EPSG:4326`` grid, which
the library regrids conservatively onto the run grid
(:func:`trajectoire.inventory.build_inventory` ``gridded=``).

* :func:`read_cams_reg`: CAMS-REG-ANT / CAMS-REG-AP (TNO for the Copernicus Atmosphere
  Monitoring Service, 0.1° x 0.05°), NetCDF in either of the layouts they are distributed in;
* :func:`read_emep_gridded`: the EMEP/CEIP gridded emissions (0.1° x 0.1°), text files
  ``ISO2;YEAR;SECTOR;POLLUTANT;LONGITUDE;LATITUDE;UNIT;EMISSION``.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple, Unpack

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
    warn,
)
from trajectoire.inventory.readers import read_gridded
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import known_species, normalise_pollutant
from trajectoire.tables import (
    Provenance,
    keyword_options,
    numeric_column,
    open_netcdf,
    read_table,
    with_options,
)
from trajectoire.units import annual_total_factor, conversion_factor

__all__ = ["CAMS_TNO_CATEGORIES", "GriddedOptions", "read_cams_reg", "read_emep_gridded"]

log = logging.getLogger("trajectoire")

#: emission categories of the TNO source-list NetCDF of CAMS-REG (v5 to v8), in the order of
#: ``emission_category_index`` (1-based), when the file does not name them (``emis_cat_code``)
CAMS_TNO_CATEGORIES: tuple[str, ...] = (
    "A", "B", "C", "D", "E", "F1", "F2", "F3", "F4", "G", "H", "I", "J", "K", "L",
)  # fmt: skip

#: variables of the gridded CAMS files that are sums, not sectors
_SUMS = {"sum", "sumallsectors", "total", "sum_all_sectors"}
#: metadata variables of the TNO source-list layout
_TNO_META = {
    "longitude_source", "latitude_source", "longitude_index", "latitude_index",
    "country_index", "emission_category_index", "source_type_index",
}  # fmt: skip
_EARTH_RADIUS = 6_371_000.0  # m, mean radius (IUGG), for fluxes per m2 on a sphere
_GNFR_LETTER = re.compile(r"([A-Ma-m])(\d*)(?:_.*)?")


def _key(config_key: str | None, option: str = "") -> str:
    """The table whose keys set the reader's options (``[inputs.gridded]``), or the TOML
    spelling of its key `option` (``[inputs.gridded] bbox``), for messages."""
    return config_option(config_key or "the reader's options", option)


def _gnfr(label: Any, mapping: Mapping[str, str]) -> str | None:
    """GNFR id of a sector label: the mapping, an id or letter, or ``F1_...``/``D_Fugitives``."""
    s = str(label).strip()
    if s in mapping:
        return mapping[s]
    try:
        return normalise_sector(s)
    except InputError:
        pass
    m = _GNFR_LETTER.fullmatch(s)
    return normalise_sector(m.group(1).upper()) if m else None


def _pollutant(label: Any) -> str | None:
    s = re.sub(r"^(emis|emi|emission)_", "", str(label).strip(), flags=re.I)
    try:
        return normalise_pollutant(s)
    except InputError:
        return None


def _check_bbox(bbox: Sequence[float] | None, config_key: str | None) -> tuple[float, ...] | None:
    if bbox is None:
        return None
    b = tuple(float(v) for v in bbox)
    if len(b) != 4 or not (b[0] < b[2] and b[1] < b[3]) or abs(b[1]) > 90 or abs(b[3]) > 90:
        raise ConfigError(
            f"bbox must be [west, south, east, north] in degrees (EPSG:4326), west < east and "
            f"south < north; got {list(bbox)}. Fix {_key(config_key, 'bbox')}."
        )
    return b


def _sector_mapping(
    mapping: Mapping[str, str] | None, config_key: str | None, name: str
) -> dict[str, str]:
    """Sector label -> GNFR id or ``"drop"``: `mapping` with its targets checked."""
    out: dict[str, str] = {}
    for label, target in (mapping or {}).items():
        try:
            out[str(label)] = target if target == "drop" else normalise_sector(target)
        except InputError:
            raise ConfigError(
                f"{name}: sector_mapping maps {label!r} to {target!r}, not a GNFR id; expected "
                f'one of {list(GNFR)} or "drop". Fix {_key(config_key, "sector_mapping")}.'
            ) from None
    return out


def _wanted(pollutants: Sequence[str] | None, config_key: str | None) -> set[str] | None:
    if pollutants is None:
        return None
    out = set()
    for p in pollutants:
        try:
            out.add(normalise_pollutant(p))
        except InputError as exc:
            raise ConfigError(f"{exc} Fix {_key(config_key, 'pollutants')}.") from None
    return out


class GriddedOptions(Provenance, total=False):
    """Keywords of the European gridded readers, :func:`read_cams_reg` and
    :func:`read_emep_gridded`: which part of the file to read, and how to name its sectors.

    Attributes
    ----------
    pollutants : list of str, optional
        Pollutants to keep (default: every pollutant of the library found; the others, such
        as CO, CH4 or PMcoarse, are left out with a warning).
    bbox : [west, south, east, north], optional
        Degrees (EPSG:4326). Only the cells that overlap it are read, before anything else
        (the files cover Europe; read only what the grid needs, with a margin). An EMEP grid
        covers the whole box (whole cells), with zeros where the file has no row.
    sector_mapping : mapping, optional
        Sector label -> GNFR id or ``"drop"``, for labels that are not GNFR ids or letters.
        ``F1``..``F4`` are read as ``F_RoadTransport`` and ``D_Fugitives`` as
        ``D_Fugitive``; the GNFR sectors beyond M (``N_Natural``, ``O_AviCruise``,
        ``P_IntShipping``, ``z_Memo``) are left out with a warning unless mapped (e.g.
        ``{"P_IntShipping": "G_Shipping"}``).
    what, config_key : str, optional
        As for :class:`~trajectoire.tables.Provenance` (`what` defaults to the
        path(s) read).
    """

    pollutants: Sequence[str] | None
    bbox: Sequence[float] | None
    sector_mapping: Mapping[str, str] | None


class _Request(NamedTuple):
    """The options the gridded readers share (:class:`GriddedOptions`), checked."""

    paths: list[str | PathLike[str]]
    name: str  #: the input in messages: `what`, else the paths
    key: str  #: the configuration key in messages (the reader's options without one)
    box: tuple[float, ...] | None
    smap: dict[str, str]
    wanted: set[str] | None
    what: str | None  #: as given
    config_key: str | None  #: as given

    def file_name(self, path: Path) -> str:
        """The input in the messages about one of its files: `what`, else the file."""
        return self.what or str(path)


def _request(
    path: str | PathLike[str] | Sequence[str | PathLike[str]],
    options: GriddedOptions,
    caller: str,
) -> _Request:
    """`options` of reader `caller` checked, with their defaults."""
    given = keyword_options(GriddedOptions, caller, options)
    what, config_key = given["what"], given["config_key"]
    paths = [path] if isinstance(path, str | PathLike) else list(path)
    name = what or ", ".join(str(p) for p in paths)
    box = _check_bbox(given["bbox"], config_key)
    smap = _sector_mapping(given["sector_mapping"], config_key, name)
    wanted = _wanted(given["pollutants"], config_key)
    return _Request(paths, name, config_key or _key(None), box, smap, wanted, what, config_key)


def _existing(path: str | PathLike[str], key: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(
            f"{p}: file not found (looked for {p.absolute()}). Check {_key(key, 'path')}."
        )
    return p


def _left_out(name: str, kind: str, labels: Mapping[Any, float], fix: str) -> None:
    """Warn about what is not read (nothing when `name` is empty: the caller chose)."""
    if labels and name:
        detail = ", ".join(
            f"{k} ({v:.6g} t yr-1)" if np.isfinite(v) else k for k, v in sorted(labels.items())
        )
        warn(f"{name}: {kind} {detail} left out. {fix}")


def _assemble(
    cells: Mapping[tuple[str, str], np.ndarray],
    lat: np.ndarray,
    lon: np.ndarray,
    name: str,
    fill_value: float | None,
    config_key: str | None = None,
) -> xr.DataArray:
    """``emission(sector, pollutant, lat, lon)`` [t yr-1] from the fields of each (sector,
    pollutant) (summed when several labels map to one), through :func:`read_gridded`."""
    if not cells:
        raise InputError(f"{name}: no sector and pollutant left to read (see the warnings).")
    sectors = [s for s in GNFR if any(k[0] == s for k in cells)]
    pols = [p for p in known_species() if any(k[1] == p for k in cells)]
    data = np.zeros((len(sectors), len(pols), lat.size, lon.size))
    for (s, p), v in cells.items():
        data[sectors.index(s), pols.index(p)] += v
    da = xr.DataArray(
        data,
        dims=("sector", "pollutant", "lat", "lon"),
        coords={"sector": sectors, "pollutant": pols, "lat": lat, "lon": lon},
        attrs={"units": "t yr-1", "crs": "EPSG:4326"},
    )
    return read_gridded(da, what=name, fill_value=fill_value, config_key=config_key)


# --------------------------------------------------------------------------- CAMS-REG
def _crop(ds: xr.Dataset, bbox: tuple[float, ...] | None, name: str) -> xr.Dataset:
    """`ds` cropped to the cells (of its ``lon``/``lat`` dims) that overlap `bbox`."""
    if bbox is None:
        return ds
    out = ds
    for dim, lo, hi in (("lon", bbox[0], bbox[2]), ("lat", bbox[1], bbox[3])):
        c = np.asarray(ds[dim].values, dtype=float)
        half = abs(float(np.diff(c).mean())) / 2 if c.size > 1 else 0.0
        keep = np.flatnonzero((c + half > lo) & (c - half < hi))
        if keep.size == 1 and c.size > 1:  # a grid needs two cells: add a neighbour
            keep = np.sort(np.r_[keep, keep + 1 if keep[0] + 1 < c.size else keep - 1])
        if keep.size == 0:
            raise InputError(
                f"{name}: the bbox {list(bbox)} holds no cell of the file ({dim} from "
                f"{c.min()} to {c.max()}); expected [west, south, east, north] in degrees"
                f"{_swapped(bbox)}. Fix the bbox."
            )
        out = out.isel({dim: keep})
    return out


def _swapped(bbox: Sequence[float]) -> str:
    """A hint when `bbox` looks written latitude first (a south above 80 or so, in Europe)."""
    w, s, e, n = bbox
    if abs(w) <= 90 and abs(e) <= 90 and abs(s) < abs(w) and abs(n) < abs(e):
        return f" ([{s:g}, {w:g}, {n:g}, {e:g}] if it was written latitude first)"
    return ""


def _lonlat_names(ds: xr.Dataset) -> xr.Dataset:
    ren = {a: b for a, b in (("longitude", "lon"), ("latitude", "lat")) if a in ds.dims}
    return ds.rename(ren) if ren else ds


def _cell_area(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Area [m2] of the cells of a regular lon/lat grid on a sphere, ``(lat, lon)``."""
    dlat = abs(float(np.diff(lat).mean())) if lat.size > 1 else 0.05
    dlon = abs(float(np.diff(lon).mean())) if lon.size > 1 else 0.1
    band = np.sin(np.radians(lat + dlat / 2)) - np.sin(np.radians(lat - dlat / 2))
    return np.outer(_EARTH_RADIUS**2 * np.radians(dlon) * band, np.ones(lon.size))


def _to_tonnes(
    values: np.ndarray, units: str | None, lat: np.ndarray, lon: np.ndarray, what: str, key: str
) -> np.ndarray:
    """Values [t yr-1 per cell] from annual masses per cell or from fluxes ``kg m-2 s-1``."""
    u = None if units is None else " ".join(str(units).replace("/", " /").split())
    if u is not None and re.fullmatch(r"kg ?(m-2|/m2|m\^-2) ?(s-1|/s)", u.replace(" /", "/")):
        return values * _cell_area(lat, lon) * conversion_factor("kg s-1", "emission_rate")
    try:
        return values * annual_total_factor(units, what=what)
    except UnitsError as exc:
        raise UnitsError(
            f"{exc} Fluxes 'kg m-2 s-1' are also read (times the cell area). Set {_key(key, 'unit')} = "
            '"<the units of the file>" if its attribute is missing or wrong.'
        ) from None


def _select_year(da: xr.DataArray, year: int | None, name: str, key: str) -> xr.DataArray:
    if "time" not in da.dims:
        return da
    years = (
        [int(v) for v in pd.DatetimeIndex(da["time"].values).year]
        if np.issubdtype(da["time"].dtype, np.datetime64)
        else [int(v) for v in np.asarray(da["time"].values)]
    )
    if year is None:
        if da.sizes["time"] == 1:
            return da.isel(time=0, drop=True)
        raise InputError(
            f"{name}: several years {years} in the file; set {_key(key, 'year')} = {years[-1]}."
        )
    if int(year) not in years:
        raise InputError(
            f"{name}: no year {year} in the file (years {years}). Fix {_key(key, 'year')}."
        )
    return da.isel(time=years.index(int(year)), drop=True)


#: What a reader gets from one file: (GNFR sector, pollutant) -> field [t yr-1 per cell] on
#: (lat, lon), the lat and lon of the cell centres [degree], and label -> total [t yr-1] of
#: what is left out.
_Fields = tuple[dict[tuple[str, str], np.ndarray], np.ndarray, np.ndarray, dict[str, float]]


def _cams_file(
    path: Path, req: _Request, *, pollutant: str | None, year: int | None, unit: str | None
) -> _Fields:
    """The fields of one CAMS-REG file (any of the three layouts of :func:`read_cams_reg`)."""
    name, key, bbox, smap, wanted = req.name, req.key, req.box, req.smap, req.wanted
    ds = open_netcdf(
        path,
        lambda reason: (
            f"{name}: not a readable NetCDF file ({reason}); expected a CAMS-REG NetCDF. "
            f"Check {_key(key, 'path')}."
        ),
    )
    with ds:
        if "source" in ds.dims and "emission_category_index" in ds:
            return _cams_sources(ds, req, unit)
        ds = _lonlat_names(ds)
        if not {"lon", "lat"} <= set(ds.dims):
            raise MissingVariableError(
                f"{name}: no lon/lat dims (dims {dict(ds.sizes)}) and no TNO source list "
                "('source' dim with emission_category_index); expected a CAMS-REG file on its "
                "lon/lat grid. A gridded inventory on x/y in another CRS is read with format "
                f'= "trajectoire" and its crs ({_key(key, "format")}, crs).'
            )
        ds = _crop(ds, bbox, name)
        lat = np.asarray(ds["lat"].values, dtype=float)
        lon = np.asarray(ds["lon"].values, dtype=float)
        cells: dict[tuple[str, str], np.ndarray] = {}
        left: dict[str, float] = {}
        grid_vars = [v for v in ds.data_vars if {"lat", "lon"} <= set(ds[v].dims)]
        with_sector = [v for v in grid_vars if "sector" in ds[v].dims]
        if with_sector:  # pollutant variables with a sector dim
            for v in with_sector:
                pol = _pollutant(v)
                if pol is None:
                    left[f"{v} (pollutant not modelled)"] = np.nan
                if pol is None or (wanted is not None and pol not in wanted):
                    continue
                da = _select_year(ds[v], year, name, key)
                for lab in da["sector"].values:
                    lab_s = lab.decode() if isinstance(lab, bytes) else str(lab)
                    sec = _gnfr(lab_s, smap)
                    field = da.sel(sector=lab).transpose("lat", "lon").values
                    vals = _to_tonnes(
                        field, unit or da.attrs.get("units"), lat, lon, f"{name}, {v}", key
                    )
                    if sec in (None, "drop") or lab_s.lower() in _SUMS:
                        if sec is None and lab_s.lower() not in _SUMS:
                            left[f"{v}/{lab_s}"] = float(np.nansum(vals))
                        continue
                    cells[(sec, pol)] = cells.get((sec, pol), 0) + vals
            return cells, lat, lon, left
        # one file per pollutant, one variable per sector (ECCAD yearly files)
        pol = normalise_pollutant(pollutant) if pollutant else None
        if pol is None:
            m = re.search(
                r"_(nox|so2|sox|nh3|nmvoc|pm2_5|pm10|co|ch4|co2_ff|co2_bf)_", path.name, re.I
            )
            found = (
                ds.attrs.get("species") or ds.attrs.get("pollutant") or (m.group(1) if m else None)
            )
            if found is None:
                raise MissingVariableError(
                    f"{name}: cannot tell the pollutant (variables {list(ds.data_vars)} are "
                    f"sectors, no 'species' attribute, file name without it); set "
                    f'{_key(key, "pollutant")} = "NOx".'
                )
            pol = _pollutant(found)
            if pol is None:
                warn(
                    f"{name}: pollutant {found!r} is not modelled (known: {list(known_species())}); file left out."
                )
                return {}, lat, lon, {}
        if wanted is not None and pol not in wanted:
            return {}, lat, lon, {}
        for v in grid_vars:
            if str(v).lower() in _SUMS:
                continue
            sec = _gnfr(v, smap)
            da = _select_year(ds[v], year, name, key).transpose("lat", "lon")
            vals = _to_tonnes(
                da.values, unit or da.attrs.get("units"), lat, lon, f"{name}, {v}", key
            )
            if sec in (None, "drop"):
                if sec is None:
                    left[str(v)] = float(np.nansum(vals))
                continue
            cells[(sec, pol)] = cells.get((sec, pol), 0) + vals
        return cells, lat, lon, left


def _cams_sources(ds: xr.Dataset, req: _Request, unit: str | None) -> _Fields:
    """The TNO source-list layout: area and point sources on dim ``source``, each with the
    (1-based) indices of its grid cell and of its emission category; summed per cell."""
    name, bbox, smap, wanted = req.name, req.box, req.smap, req.wanted
    ds = _lonlat_names(ds)
    for need in ("lon", "lat", "longitude_index", "latitude_index"):
        if need not in ds.variables:
            raise MissingVariableError(
                f"{name}: TNO source list without {need!r}; expected the grid coordinates "
                "'longitude'/'latitude' and the cell indices of each source."
            )
    lon_all = np.asarray(ds["lon"].values, dtype=float)
    lat_all = np.asarray(ds["lat"].values, dtype=float)
    ix = np.asarray(ds["longitude_index"].values, dtype=np.int64) - 1
    iy = np.asarray(ds["latitude_index"].values, dtype=np.int64) - 1
    cat = np.asarray(ds["emission_category_index"].values, dtype=np.int64) - 1
    if "emis_cat_code" in ds:
        codes = [
            (c.tobytes().decode() if hasattr(c, "tobytes") else str(c)).strip("\x00 ")
            for c in np.asarray(ds["emis_cat_code"].values)
        ]
        codes = [c.decode() if isinstance(c, bytes) else c for c in codes]
    else:
        codes = list(CAMS_TNO_CATEGORIES)
    jx = np.arange(lon_all.size)
    jy = np.arange(lat_all.size)
    if bbox is not None:
        sub = _crop(xr.Dataset(coords={"lon": lon_all, "lat": lat_all}), bbox, name)
        jx = np.flatnonzero(np.isin(lon_all, sub["lon"].values))
        jy = np.flatnonzero(np.isin(lat_all, sub["lat"].values))
    inside = np.isin(ix, jx) & np.isin(iy, jy)
    lon, lat = lon_all[jx], lat_all[jy]
    px, py = np.searchsorted(jx, ix[inside]), np.searchsorted(jy, iy[inside])
    cells: dict[tuple[str, str], np.ndarray] = {}
    left: dict[str, float] = {}
    for v in ds.data_vars:
        if v in _TNO_META or ds[v].dims != ("source",) or not np.issubdtype(ds[v].dtype, np.number):
            continue
        pol = _pollutant(v)
        if pol is None or (wanted is not None and pol not in wanted):
            continue
        values = np.asarray(ds[v].values, dtype=float)[inside] * annual_total_factor(
            unit or _tno_units(ds[v].attrs.get("units")), what=f"{name}, {v}"
        )
        for k in np.unique(cat[inside]):
            label = codes[k] if 0 <= k < len(codes) else str(k + 1)
            sec = _gnfr(label, smap)
            sel = cat[inside] == k
            if sec in (None, "drop"):
                if sec is None:
                    left[f"{v}/{label}"] = float(values[sel].sum())
                continue
            field = np.zeros((lat.size, lon.size))
            np.add.at(field, (py[sel], px[sel]), values[sel])
            cells[(sec, pol)] = cells.get((sec, pol), 0) + field
    return cells, lat, lon, left


def _tno_units(units: Any) -> str | None:
    """TNO writes ``kg/year``; other spellings go to :func:`annual_total_factor` as they are."""
    return None if units is None else str(units).replace("year", "yr")


@with_options(GriddedOptions)
def read_cams_reg(
    path: str | PathLike[str] | Sequence[str | PathLike[str]],
    *,
    year: int | None = None,
    pollutant: str | None = None,
    unit: str | None = None,
    fill_value: float | None = None,
    **options: Unpack[GriddedOptions],
) -> xr.DataArray:
    """Read CAMS-REG-ANT / CAMS-REG-AP gridded emissions (NetCDF) as amounts per cell.

    Parameters
    ----------
    path : path or list of paths
        CAMS-REG NetCDF file(s) (Kuenen et al. 2022, ESSD 14, 491-515,
        https://doi.org/10.5194/essd-14-491-2022; files from the Copernicus Atmosphere Data
        Store / ECCAD, https://eccad.sedoo.fr, or TNO). Three layouts are read:

        * one file per pollutant (``CAMS-REG-ANT_EUR_0.05x0.1_anthro_nox_v5.1_yearly.nc``):
          dims ``time, lat, lon``, one variable per GNFR sector (``A_PublicPower`` ..
          ``L_AgriOther``; ``SumAllSectors``/``sum`` are skipped), the pollutant taken from
          `pollutant`, the ``species`` attribute or the file name;
        * one variable per pollutant with a ``sector`` dim (``emis_nox(sector, lat, lon)``);
        * TNO's source list (``CAMS-REG-v8_1_emissions_year2019.nc``): area and point
          sources on dim ``source`` with ``longitude_index``, ``latitude_index``,
          ``emission_category_index`` (categories :data:`CAMS_TNO_CATEGORIES` unless
          ``emis_cat_code`` names them) and one variable per pollutant [kg/year]; summed
          per grid cell (point sources become cell totals).

        Several files (one per pollutant) are read together.
    year : int, optional
        Year to read from a file with a ``time`` dim of several years.
    pollutant : str, optional
        Pollutant of a one-pollutant file whose name and attributes do not say it.
    unit : str, optional
        Units of the values when the variables' ``units`` attribute is missing or wrong:
        an annual mass per cell (``"kg"``, ``"Mg"``, ``"kg yr-1"``) or the flux
        ``"kg m-2 s-1"`` (times the cell area on a sphere of radius 6 371 km).
    fill_value : float, optional
        Value of NaN cells (passed to :func:`~trajectoire.inventory.read_gridded`).
    **options
        `pollutants`, `bbox`, `sector_mapping`, `what`, `config_key`: see
        :class:`GriddedOptions`.

    Returns
    -------
    xarray.DataArray
        As :func:`trajectoire.inventory.read_gridded`: ``emission(sector, pollutant, y, x)``
        [t yr-1 per cell] on the file's lon/lat grid (cell centres), ``attrs["crs"] =
        "EPSG:4326"``.

    Raises
    ------
    trajectoire.InputError
        Unreadable file, a bbox holding no cell, several years without `year`.
    trajectoire.MissingVariableError
        No lon/lat dims, or a pollutant that cannot be told.
    trajectoire.UnitsError
        Units that are neither an annual mass nor ``kg m-2 s-1``.
    trajectoire.ConfigError
        A bad `bbox`, `pollutants` or `sector_mapping`.
    TypeError
        A keyword that is neither a parameter nor one of :class:`GriddedOptions`.
    """
    req = _request(path, options, "read_cams_reg")
    name, key = req.name, req.key
    cells: dict[tuple[str, str], np.ndarray] = {}
    left: dict[str, float] = {}
    grid: tuple[np.ndarray, np.ndarray] | None = None
    for given in req.paths:
        p = _existing(given, key)
        file_req = req._replace(name=req.file_name(p))
        got, lat, lon, lo = _cams_file(p, file_req, pollutant=pollutant, year=year, unit=unit)
        if grid is not None and (
            grid[0].shape != lat.shape
            or not np.allclose(grid[0], lat)
            or not np.allclose(grid[1], lon)
        ):
            raise InputError(
                f"{name}: {p} is not on the grid of the files before it; read them separately."
            )
        grid = (lat, lon)
        left.update(lo)
        for k, v in got.items():
            cells[k] = cells.get(k, 0) + v
    assert grid is not None
    _left_out(
        name,
        "variable(s)/sector(s)",
        left,
        f"Map a sector with {_key(key, 'sector_mapping')} if it belongs to a GNFR sector; the library "
        f"models {list(known_species())}.",
    )
    return _assemble(cells, grid[0], grid[1], name, fill_value, req.config_key)


# --------------------------------------------------------------------------- EMEP/CEIP
_EMEP_COLUMNS = ("SECTOR", "POLLUTANT", "LONGITUDE", "LATITUDE", "UNIT", "EMISSION")


def _emep_text(path: Path, name: str, key: str) -> io.StringIO | Path:
    """The file with its ``# Format: ...`` comment turned into the header row (same lines)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{name}: cannot be read ({exc.strerror}). Check {_key(key, 'path')}."
        ) from None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[:50]):
        m = re.match(r"\s*#\s*Format\s*:\s*(.*)", line, re.I)
        if m:
            # the header goes just above the first data row, the comments between them above
            # it: every data row keeps its line number
            d = i + 1
            while d < len(lines) and (not lines[d].strip() or lines[d].lstrip().startswith("#")):
                d += 1
            header = m.group(1).strip() + "\n"
            return io.StringIO("".join(lines[:i] + lines[i + 1 : d] + [header] + lines[d:]))
    return path


def _nothing_in_box(
    outside: list[tuple[str, np.ndarray, np.ndarray]], box: tuple[float, ...], key: str
) -> None:
    """Raise: the bbox kept no row of the files (named with their extent), with a hint when
    the file's LONGITUDE and LATITUDE columns look swapped."""
    name, lon, lat = outside[0]
    inside_swapped = (lat > box[0]) & (lat < box[2]) & (lon > box[1]) & (lon < box[3])
    hint = (
        " Its LONGITUDE and LATITUDE columns look swapped (read the other way, "
        f"{int(inside_swapped.sum())} row(s) fall in the bbox): fix the file's header."
        if inside_swapped.any()
        else f" Check {_key(key, 'bbox')} (degrees: west, south, east, north) and the file."
    )
    raise InputError(
        f"{name}: no row inside the bbox {list(box)} (its rows run over LONGITUDE "
        f"{np.nanmin(lon):g} to {np.nanmax(lon):g}, LATITUDE {np.nanmin(lat):g} to "
        f"{np.nanmax(lat):g}); expected cells of the bbox.{hint}"
    )


def _check_repeated_cells(rows: pd.DataFrame, name: str) -> None:
    """Raise when one country's emission of a sector and pollutant in one cell (and year) is
    given twice in one file (rows copied): they would be summed, silently. Files given
    together are summed as they are (the rows of several files may meet)."""
    keys = ["_name"] + [c for c in ("ISO2", "YEAR", "SECTOR", "POLLUTANT") if c in rows.columns]
    keys += ["LONGITUDE", "LATITUDE"]
    ident = rows[keys].astype(str).apply(lambda c: c.str.strip().str.upper())
    dup = ident.duplicated(keep=False).to_numpy()
    if dup.any():
        groups: dict[tuple[str, ...], list[str]] = {}
        for i in np.flatnonzero(dup):
            groups.setdefault(tuple(ident.iloc[i]), []).append(
                f"line {rows['_line'].iloc[i]} of {rows['_name'].iloc[i]}"
            )
        first = next(iter(groups.items()))
        raise InputError(
            f"{name}: {len(groups)} cell(s) given more than once for one "
            f"{'/'.join(k for k in keys[1:] if k not in ('LONGITUDE', 'LATITUDE'))}, e.g. "
            f"{' '.join(first[0][1:])} at {', '.join(first[1][:4])}; expected one row per "
            "country, sector, pollutant and cell (they would be summed). Remove the repeated "
            "rows."
        )


@with_options(GriddedOptions)
def read_emep_gridded(
    path: str | PathLike[str] | Sequence[str | PathLike[str]],
    *,
    countries: Sequence[str] | None = None,
    resolution: float = 0.1,
    unit: str | None = None,
    **options: Unpack[GriddedOptions],
) -> xr.DataArray:
    """Read EMEP/CEIP gridded emissions (0.1° text files) as amounts per cell.

    Parameters
    ----------
    path : path or list of paths
        The CEIP gridded files (« Gridded emissions in the new EMEP grid, 0.1° x 0.1° »,
        https://www.ceip.at/the-emep-grid/gridded-emissions; one file per sector and
        pollutant, e.g. ``NOx_F_RoadTransport_2023_GRID_2021.txt``): ``;``-separated, a
        ``# Format: ISO2;YEAR;SECTOR;POLLUTANT;LONGITUDE;LATITUDE;UNIT;EMISSION`` comment
        (or that header row), other ``#`` lines ignored, one row per country and cell with
        emissions (cells without a row emit nothing; the rows of several countries in one
        cell are summed). ``LONGITUDE``/``LATITUDE`` are cell centres, ``UNIT`` is ``Mg``
        (tonnes of the year). ``.gz`` files are read too.
    countries : list of str, optional
        ISO2 codes (column ``ISO2``) to keep, e.g. ``["FR", "BE"]``.
    resolution : float, default 0.1
        Cell size [degree] of the grid (cell centres at odd multiples of half of it).
    unit : str, optional
        Units when the file has no ``UNIT`` column (an annual mass, e.g. ``"Mg"``).
    **options
        `pollutants`, `bbox`, `sector_mapping`, `what`, `config_key`: see
        :class:`GriddedOptions`.

    Returns
    -------
    xarray.DataArray
        As for :func:`read_cams_reg`, on the 0.1° lon/lat grid (cell centres).

    Raises
    ------
    trajectoire.MissingVariableError
        A column of the format is missing.
    trajectoire.InputError
        Values that are not numbers, negative emissions, cell centres off the grid.
    trajectoire.UnitsError
        A ``UNIT`` that is not an annual mass.
    trajectoire.ConfigError
        A bad `bbox`, `pollutants`, `resolution` or `sector_mapping`.
    TypeError
        A keyword that is neither a parameter nor one of :class:`GriddedOptions`.
    """
    req = _request(path, options, "read_emep_gridded")
    name_all, key, box, smap, wanted = req.name, req.key, req.box, req.smap, req.wanted
    config_key = req.config_key
    if not resolution > 0:
        raise ConfigError(
            f"resolution must be > 0 degree, got {resolution!r}. Fix {_key(key, 'resolution')}."
        )
    frames = []
    outside: list[tuple[str, np.ndarray, np.ndarray]] = []  # rows the bbox left out
    for given in req.paths:
        p = _existing(given, key)
        name = req.file_name(p)
        df = read_table(_emep_text(p, name, key), what=name, sep=";", comment="#",
                        require_rows=True, config_key=config_key)  # fmt: skip
        df = df.rename(columns={c: str(c).strip().upper() for c in df.columns})
        need = [c for c in _EMEP_COLUMNS if c != "UNIT" or unit is None]
        missing = [c for c in need if c not in df.columns]
        if missing:
            unit_key = _key(key, "unit")
            raise MissingVariableError(
                f"{name}: missing column(s) {missing}; found {list(df.columns)}; expected the "
                f"EMEP/CEIP format ISO2;YEAR;SECTOR;POLLUTANT;LONGITUDE;LATITUDE;UNIT;EMISSION"
                f"{'' if 'UNIT' not in missing else f' (or set {unit_key})'}. Fix the file."
            )
        df["_line"] = df.index.to_numpy() + int(df.attrs.get("header_line", 1)) + 1
        lon = numeric_column(df, "LONGITUDE", what=name, config_key=config_key, units="degree")
        lat = numeric_column(df, "LATITUDE", what=name, config_key=config_key, units="degree")
        keep = np.ones(len(df), bool)
        if box is not None:
            h = resolution / 2
            keep &= (
                (lon + h > box[0]) & (lon - h < box[2]) & (lat + h > box[1]) & (lat - h < box[3])
            )
        if countries is not None and "ISO2" in df.columns:
            keep &= (
                df["ISO2"]
                .astype(str)
                .str.strip()
                .str.upper()
                .isin([c.upper() for c in countries])
                .to_numpy()
            )
        if not keep.any() and len(df):
            outside.append((name, np.asarray(lon, float), np.asarray(lat, float)))
        df = df[keep].assign(LONGITUDE=lon[keep], LATITUDE=lat[keep], _name=name)
        df["EMISSION"] = numeric_column(
            df, "EMISSION", what=name, config_key=config_key, units=unit or "Mg"
        )
        neg = df[df["EMISSION"] < 0]
        if len(neg):
            raise InputError(
                f"{name}, column 'EMISSION': negative value(s) at lines "
                f"{rows_preview(list(neg['_line']))}; expected emissions >= 0. Fix the file."
            )
        frames.append(df)
    rows = pd.concat(frames, ignore_index=True)
    if box is not None and not len(rows) and outside:
        _nothing_in_box(outside, box, key)
    _check_repeated_cells(rows, name_all)
    # units
    factor = np.ones(len(rows))
    units = (
        rows["UNIT"].astype(str).str.strip()
        if "UNIT" in rows and unit is None
        else pd.Series(unit, index=rows.index)
    )
    for u in pd.unique(units):
        try:
            factor[(units == u).to_numpy()] = annual_total_factor(
                u, what=f"{name_all}, column 'UNIT'"
            )
        except UnitsError as exc:
            raise UnitsError(f"{exc} Fix the file or set {_key(key, 'unit')}.") from None
    rows["t"] = rows["EMISSION"].to_numpy() * factor
    # sectors, pollutants
    rows["sec"] = [_gnfr(s, smap) for s in rows["SECTOR"]]
    rows["pol"] = [_pollutant(p) for p in rows["POLLUTANT"]]
    if wanted is not None:
        rows = rows[rows["pol"].isin(wanted)]
    rows = rows[rows["sec"] != "drop"]  # mapped to "drop" by the user: not read
    # rows of a label the library does not read: left out, with a warning of their totals
    for column, label, kind, fix in (
        ("sec", "SECTOR", "sector(s)",
         f'Map them with {_key(key, "sector_mapping")} (e.g. {{ P_IntShipping = "G_Shipping" }}) to '
         "keep them."),
        ("pol", "POLLUTANT", "pollutant(s) not modelled",
         f"Known pollutants: {list(known_species())}."),
    ):  # fmt: skip
        out = rows[rows[column].isna()]
        _left_out(name_all, kind, out.groupby(out[label].astype(str))["t"].sum().to_dict(), fix)
        rows = rows.drop(out.index)
    # the grid: whole cells of `resolution`, covering the bbox or the rows
    fx = rows["LONGITUDE"].to_numpy() / resolution - 0.5
    fy = rows["LATITUDE"].to_numpy() / resolution - 0.5
    ix, iy = np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)
    off = np.flatnonzero((np.abs(fx - ix) > 1e-3) | (np.abs(fy - iy) > 1e-3))
    if off.size:
        bad = rows.iloc[off[:5]]
        shown = [
            f"line {ln} of {n}: {x}, {y}"
            for ln, n, x, y in bad[["_line", "_name", "LONGITUDE", "LATITUDE"]].to_numpy()
        ]
        raise InputError(
            f"{name_all}: {off.size} position(s) are not centres of {resolution}° cells "
            f"({'; '.join(shown)}); expected odd multiples of {resolution / 2}. Set "
            f"{_key(key, 'resolution')} to the file's cell size."
        )
    if box is not None:
        x0, x1 = int(np.floor(box[0] / resolution)), int(np.ceil(box[2] / resolution)) - 1
        y0, y1 = int(np.floor(box[1] / resolution)), int(np.ceil(box[3] / resolution)) - 1
    elif len(rows):
        x0, x1, y0, y1 = int(ix.min()), int(ix.max()), int(iy.min()), int(iy.max())
    else:
        raise InputError(f"{name_all}: no row left to read (see the warnings).")
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)  # a grid needs two cells along each axis
    lon_c = np.round((np.arange(x0, x1 + 1) + 0.5) * resolution, 10)
    lat_c = np.round((np.arange(y0, y1 + 1) + 0.5) * resolution, 10)
    cells: dict[tuple[str, str], np.ndarray] = {}
    t = rows["t"].to_numpy()
    groups: dict[Any, Any] = rows.groupby(["sec", "pol"]).indices
    for pair, idx in groups.items():
        field = np.zeros((lat_c.size, lon_c.size))
        np.add.at(field, (iy[idx] - y0, ix[idx] - x0), t[idx])
        cells[(str(pair[0]), str(pair[1]))] = field
    log.info("%s: %d rows read on a %d x %d grid", name_all, len(rows), lon_c.size, lat_c.size)
    return _assemble(cells, lat_c, lon_c, name_all, None, config_key)
