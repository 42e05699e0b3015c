"""Regional background: what the local sources of the domain do not explain.

Two sources of background are supported:

* a **rural station series** (``background.csv``: year, pollutant, value): a scalar per year
  and pollutant, used as is (a rural station outside the domain sees no local source);
* a **regional model field** (e.g. CAMS or a regional CTM at 5–10 km): it already contains the
  contribution of the domain's own emissions, smeared over its coarse cells. To avoid counting
  local sources twice, trajectoire removes the local part the way uEMEP does
  (Denby et al., 2020, GMD 13, 6303–6323, doi:10.5194/gmd-13-6303-2020): the local
  contribution computed by trajectoire is averaged onto the regional model's cells and
  subtracted, ``C_bg = C_regional − ⟨C_local⟩_regional cell`` (clipped at zero, with the
  clipped share reported), then interpolated back to the fine grid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import xarray as xr
from scipy import sparse
from scipy.ndimage import distance_transform_edt

from trajectoire._validate import (
    DATA_YEARS,
    normalise_rows,
    require_columns,
    require_non_negative,
)
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.dispersion.receptors import receptor_means
from trajectoire.errors import GridError, InputError, TrajectoireWarning, UnitsError, warn
from trajectoire.geo.grid import Grid, as_crs, crs_of
from trajectoire.geo.regridding import Regridder, grid_of
from trajectoire.species import (
    concentration_factor_of,
    get_pollutant,
    normalise_pollutant,
)
from trajectoire.tables import check_repeats, data_lines, numeric_column, open_netcdf, read_table
from trajectoire.units import conversion_factor, mixing_ratio_factor, unit_kind

__all__ = [
    "RegionalBackground",
    "bilinear_weights",
    "read_background",
    "read_background_field",
    "receptor_background",
    "remove_local_part",
]

#: the configuration table of a field background, for messages
_KEY = "[inputs.background]"


def read_background(path: str | Path, *, units: str = "ug m-3") -> xr.DataArray:
    """Read a background table ``year, pollutant, value`` into ``background(year, pollutant)``.

    Parameters
    ----------
    path : str or Path
        CSV file; an optional ``units`` column overrides `units` per row.
    units : str, default "ug m-3"
        Units of ``value``: a mass concentration, converted to ug m-3; for a gas also a
        mixing ratio (``ppb``, ``ppm``), converted with its molar mass at 293.15 K and
        101.325 kPa (Directive 2008/50/EC; :func:`trajectoire.units.mixing_ratio_factor`);
        particle numbers in cm-3.

    Returns
    -------
    xarray.DataArray
        ``background`` [ug m-3], dims ``(year, pollutant)``.

    Raises
    ------
    trajectoire.InputError
        `path` not a path (a DataFrame: write it to CSV first), missing columns, negative or
        NaN values, duplicated (year, pollutant) rows, a pollutant given for some years but
        not for every year of the file, units that are not a concentration (or a mixing
        ratio of a particle species).
    """
    if not isinstance(path, str | os.PathLike):
        raise InputError(
            f"read_background: path is a {type(path).__name__}; expected the path of a CSV "
            "file with columns year, pollutant, value. For a table in memory, write it first: "
            "df.to_csv('background.csv', index=False)."
        )
    path = Path(path)
    what = f"{path.name} ([inputs] background)"
    df = read_table(path, what=what, require_rows=True, config_key="[inputs] background")
    require_columns(df.columns, ["year", "pollutant", "value"], what)
    lines = data_lines(df, range(len(df)))
    df["pollutant"] = normalise_rows(
        df["pollutant"].tolist(), lines, normalise_pollutant, f"{what}, column 'pollutant'"
    )
    key = "[inputs] background"
    years = numeric_column(df, "year", what=what, config_key=key)
    first, last = DATA_YEARS
    odd = [f"{y:g} at {lines[i]}" for i, y in enumerate(years) if y % 1 or not first <= y <= last]
    if odd:  # 2018.5 or 18 would be read as another year, silently
        raise InputError(
            f"{what}, column 'year': {', '.join(odd[:5])}{' ...' if len(odd) > 5 else ''}; "
            f"expected whole years from {first} to {last} (2018). Fix the file ({key})."
        )
    df["year"] = years.astype(int)
    df["value"] = numeric_column(
        df, "value", what=what, config_key=key, units=None if "units" in df.columns else units
    )
    require_non_negative(df["value"].to_numpy(), f"{what}, column 'value'", labels=lines)
    # each row in its species' family: ug m-3 for masses, cm-3 for particle numbers (UFP)
    row_units = list(df["units"]) if "units" in df.columns else [units] * len(df)
    if "units" in df.columns:
        empty = [
            lines[i] for i, u in enumerate(row_units) if not isinstance(u, str) or not u.strip()
        ]
        if empty:
            raise UnitsError(
                f"{what}, column 'units': empty at {', '.join(empty[:5])}"
                f"{' ...' if len(empty) > 5 else ''}; expected the units of each row's value "
                "(ug m-3, ppb, cm-3 for particle numbers). Fill the cells, or remove the "
                f"column to read every value in the reader's units ({key})."
            )
    factor = np.array(
        [
            concentration_factor_of(
                u,
                p,
                what=f"{what}, {lines[i]}, pollutant {p!r}, units"
                + ("" if "units" in df.columns else " (no 'units' column: the reader's units)"),
            )
            for i, (u, p) in enumerate(zip(row_units, df["pollutant"], strict=True))
        ]
    )
    df["value"] = df["value"] * factor
    said = "several values for one year and pollutant: {found}; keep one each."
    check_repeats(df, [df["year"], df["pollutant"]], what, said)
    da = df.set_index(["year", "pollutant"])["value"].to_xarray()
    holes = np.argwhere(np.isnan(da.values))
    if holes.size:
        pairs = [(int(da["year"].values[i]), str(da["pollutant"].values[j])) for i, j in holes]
        raise InputError(
            f"{what}: no value for {len(pairs)} (year, pollutant) pair(s) "
            f"{pairs[:5]}{' ...' if len(pairs) > 5 else ''}; every pollutant of the file "
            f"needs a row for every year of it. Add those rows ({key})."
        )
    da = set_cf_attrs(da, "background")
    da.attrs["source_file"] = str(path)
    return add_history(da, f"read_background({path.name!r})")


# ------------------------------------------------------------------------ regional field
def read_background_field(
    path: str | Path,
    *,
    variables: Mapping[str, str],
    units: str | None = None,
    crs: str | None = None,
    years: Sequence[int] | str | None = None,
    local_fraction: float = 1.0,
    what: str | None = None,
    config_key: str | None = None,
) -> xr.DataArray:
    """Read a regional chemistry-transport field (CAMS regional, CHIMERE, EMEP NetCDF).

    Each pollutant's variable is reduced to annual means (steps weighted by their length:
    days of the month for monthly fields, equal weights for hourly or daily ones) and
    converted to ug m-3. The field stays on its own grid and CRS; the run removes its local
    part and interpolates it (:class:`RegionalBackground`).

    Parameters
    ----------
    path : str or Path
        NetCDF file with ``(time, y, x)``, ``(time, lat, lon)`` or ``(year, y, x)`` variables
        (singleton dims such as a surface ``level`` are dropped).
    variables : mapping of str to str
        Pollutant id -> variable name in the file (``{NO2 = "no2_conc", "PM2.5" = "pm2p5"}``).
    units : str, optional
        Units of every variable, overriding their ``units`` attributes: a mass concentration
        (``ug m-3``, ``kg m-3``) or a mixing ratio (``ppb``, ``ppm``, ``mol mol-1``; converted
        with the gas's molar mass at 293.15 K, 101.325 kPa).
    crs : str, optional
        CRS of the ``x``/``y`` coordinates, when the file does not say it (a ``grid_mapping``
        variable with ``crs_wkt`` or ``spatial_ref``); ``lat``/``lon`` dims are EPSG:4326.
    years : [first, last] or "first:last", optional
        Years to read (inclusive); default: every year of the file.
    local_fraction : float, default 1.0
        Share of the run's local contribution the regional model contains, removed from it
        (1: the regional model uses the same emissions; 0: keep the field as is). Stored in
        ``attrs["local_fraction"]`` for :class:`RegionalBackground`.
    what, config_key : str, optional
        Names used in messages.

    Returns
    -------
    xarray.DataArray
        ``regional_background(year, pollutant, y, x)`` [ug m-3], ``x`` increasing and ``y``
        decreasing, ``attrs["crs"]`` set, ``attrs["variables"]`` the variable of each pollutant.

    Raises
    ------
    trajectoire.InputError
        Unreadable file, variable missing, no CRS, no time axis, years not covered, NaN.
    trajectoire.UnitsError
        Units missing or neither a mass concentration nor a mixing ratio.
    """
    path = Path(path)
    what = what or path.name
    if not 0 <= local_fraction <= 1:
        raise InputError(f"{what}: {_KEY} local_fraction = {local_fraction}; expected 0..1.")
    if not isinstance(variables, Mapping) or not variables:
        raise InputError(
            f'{what}: no variables given; set {_KEY} variables = {{ NO2 = "<name in the file>" }}.'
        )
    ds = open_netcdf(
        path,
        lambda reason: (
            f"{what}: cannot read as NetCDF ({reason}); expected a NetCDF file. Check {_KEY} path."
        ),
    )
    wanted = _year_range(years, what)
    fields = []
    with ds:
        for pol_name, var in variables.items():
            pol = normalise_pollutant(pol_name, what=f"{what}, {_KEY} variables")
            fields.append(_read_variable(ds, pol, str(var), units, crs, wanted, what))
    out = xr.concat(fields, dim="pollutant", join="exact")
    out = out.transpose("year", "pollutant", "y", "x")
    out.attrs = {
        "units": "ug m-3",
        "long_name": "regional model concentration (local part included)",
        "crs": fields[0].attrs["crs"],
        "source_file": str(path),
        "variables": "; ".join(f"{p}: {v}" for p, v in variables.items()),
        "local_fraction": float(local_fraction),
    }
    return add_history(out, f"read_background_field({path.name!r})")


def _year_range(years: Sequence[int] | str | None, what: str) -> list[int] | None:
    """The years asked by the ``years`` option, or None for all."""
    if years is None:
        return None
    try:
        parts = str(years).split(":") if isinstance(years, str) else list(years)
        first, last = int(parts[0]), int(parts[-1])
    except (ValueError, IndexError, TypeError):
        first, last = 1, 0
    if len(parts) not in (1, 2) or first > last:
        raise InputError(
            f'{what}: {_KEY} years = {years!r}; expected [first, last] or "first:last".'
        )
    return list(range(first, last + 1))


def _read_variable(
    ds: xr.Dataset,
    pol: str,
    var: str,
    units: str | None,
    crs: str | None,
    wanted: list[int] | None,
    what: str,
) -> xr.DataArray:
    """One pollutant's annual means [ug m-3] on the file's grid."""
    where = f"{what}, variable {var!r} ({pol})"
    if var not in ds.data_vars:
        raise InputError(
            f"{what}: no variable {var!r} for {pol}; the file has {sorted(map(str, ds.data_vars))}."
            f" Fix {_KEY} variables.{pol}."
        )
    da = ds[var]
    da = da.squeeze([d for d in da.dims if da.sizes[d] == 1 and d not in ("time", "year")])
    geographic = False
    for xn, yn in (("lon", "lat"), ("longitude", "latitude")):
        if xn in da.dims and yn in da.dims:
            da, geographic = da.rename({xn: "x", yn: "y"}), True
    the_crs = _field_crs(ds, da, crs, geographic, where)
    time_dim = "time" if "time" in da.dims else "year" if "year" in da.dims else None
    if time_dim is None or set(da.dims) != {time_dim, "y", "x"}:
        raise InputError(
            f"{where}: dims {tuple(map(str, da.dims))}; expected (time, y, x), (time, lat, lon) "
            f"or (year, y, x). Select one level before, or fix {_KEY} variables.{pol}."
        )
    factor = _field_factor(pol, units or da.attrs.get("units"), where)
    annual = _annual_means(da, where) if time_dim == "time" else da.astype(float)
    annual = annual.sortby("x").sortby("y", ascending=False)
    have = [int(y) for y in annual["year"].values]
    if wanted is not None:
        missing = sorted(set(wanted) - set(have))
        if missing:
            raise InputError(
                f"{where}: no data for years {missing} (the file covers {have[0]}..{have[-1]}); "
                f"fix {_KEY} years."
            )
        annual = annual.sel(year=wanted)
    values = np.asarray(annual.values, dtype=float)
    if (values < 0).any():  # a concentration below 0: a sign or an offset in the file
        bad = int((values < 0).sum())
        raise InputError(
            f"{where}: {bad} negative annual mean(s), down to {np.nanmin(values):.3g} "
            f"{units or da.attrs.get('units')}; expected concentrations >= 0. Check the "
            f"variable ({_KEY} variables.{pol}) or the file."
        )
    out = (annual * factor).expand_dims(pollutant=[pol])
    out = out.drop_vars([c for c in out.coords if c not in ("year", "pollutant", "y", "x")])
    out.attrs = {"crs": the_crs.to_string(), "units": "ug m-3"}
    return out


def _field_crs(
    ds: xr.Dataset, da: xr.DataArray, crs: str | None, geographic: bool, where: str
) -> pyproj.CRS:
    """The CRS of a field variable: the option, its CF grid mapping, or lon/lat (EPSG:4326)."""
    if crs is not None:
        return as_crs(crs, f"{_KEY} crs")
    gm = da.attrs.get("grid_mapping") or da.encoding.get("grid_mapping")
    if gm and gm in ds.variables:
        attrs = ds.variables[gm].attrs
        for key in ("crs_wkt", "spatial_ref", "epsg_code"):
            if attrs.get(key):
                return as_crs(str(attrs[key]), f"{where}, grid mapping {gm!r} {key}")
        try:
            return pyproj.CRS.from_cf(dict(attrs))
        except pyproj.exceptions.CRSError:
            pass
    found = crs_of(da)
    if found is not None:
        return found
    if geographic:
        return pyproj.CRS.from_epsg(4326)
    raise InputError(
        f"{where}: the field has x/y coordinates but no CRS (no grid_mapping variable with "
        f'crs_wkt or spatial_ref); set {_KEY} crs = "EPSG:...".'
    )


def _field_factor(pol: str, units: Any, where: str) -> float:
    """Factor to ug m-3 of a mass concentration or, with the molar mass, a mixing ratio."""
    if units is None or str(units).strip() == "":
        raise UnitsError(f'{where}: no units attribute; set {_KEY} unit ("ug m-3", "ppb"...).')
    try:
        return conversion_factor(units, "concentration", what=where)
    except UnitsError:
        pass
    try:
        return mixing_ratio_factor(units, get_pollutant(pol).molar_mass, what=where)
    except UnitsError as exc:
        if "molar mass" in str(exc):
            raise
        raise UnitsError(
            f"{where}: units {units!r} are neither a mass concentration (ug m-3, kg m-3...) "
            f"nor a mixing ratio (ppb, ppm, mol mol-1); fix {_KEY} unit."
        ) from None


def _annual_means(da: xr.DataArray, where: str) -> xr.DataArray:
    """Annual means of a time series of fields, each step weighted by its length.

    Monthly steps (27 to 32 days apart) are weighted by the days of their month; hourly,
    daily or annual steps equally. A year covered by less than 75 % of its length warns.
    """
    time = da["time"]
    try:
        year = time.dt.year
    except (AttributeError, TypeError):
        raise InputError(
            f"{where}: the time axis could not be decoded as dates; give it CF units "
            "('hours since 2019-01-01')."
        ) from None
    step = _step_days(time)
    weight = time.dt.days_in_month.astype(float) if 27 <= step <= 32 else xr.ones_like(year, float)
    num = (da.astype(float) * weight).groupby(year).sum("time", skipna=False)
    den = weight.groupby(year).sum("time")
    out = num / den
    covered = (weight.groupby(year).count("time") * (step if step < 366 else 365.0)) / 365.0
    short = [
        int(y) for y, c in zip(covered["year"].values, covered.values, strict=True) if c < 0.75
    ]
    if short:
        warn(f"{where}: years {short} are covered by less than 75 % of their steps.")
    return out


def _step_days(time: xr.DataArray) -> float:
    """Median step of a time axis [days] (365 for a single step)."""
    if time.size < 2:
        return 365.0
    t = time.values
    d = np.diff(t) if np.issubdtype(t.dtype, np.datetime64) else np.diff(time.to_index())
    days = np.array([np.timedelta64(v, "ns").astype(float) / 86400e9 for v in d])
    return float(np.median(days))


# ------------------------------------------------------------------ local-part removal
def _subtract(
    regional: np.ndarray, local_mean: np.ndarray, fraction: float
) -> tuple[np.ndarray, float, float]:
    """``max(C_regional − f ⟨C_local⟩, 0)``, the share of cells clipped and the largest deficit."""
    out = regional - fraction * local_mean
    clipped = out < 0
    share = float(clipped.mean()) if out.size else 0.0
    deficit = float(-out[clipped].min()) if clipped.any() else 0.0
    return np.maximum(out, 0.0), share, deficit


def _warn_clipped(share: float, deficit: float, where: str) -> None:
    if share > 0:
        warn(
            f"{where}: the local part exceeds the regional field in {share:.1%} of the regional "
            f"cells (by up to {deficit:.3g} ug m-3); clipped to 0. Check that the emissions match "
            "the regional model's, or lower [inputs.background] local_fraction.",
            TrajectoireWarning,
            stacklevel=3,
        )


def remove_local_part(
    regional: xr.DataArray,
    local: xr.DataArray,
    *,
    fraction: float = 1.0,
) -> xr.DataArray:
    """Regional model field minus its local part, on the regional cells (uEMEP-style).

    ``C_bg(J) = max(C_regional(J) − f ⟨C_local⟩_J, 0)``, where ``⟨C_local⟩_J`` is the
    area-weighted mean of the local contribution over the part of regional cell ``J`` that
    the fine grid covers (conservative remap, :class:`~trajectoire.Regridder`); cells the fine
    grid does not reach take the mean of the nearest cell it does (the run does not model
    them, but the contribution of its sources does not stop at the grid's edge).

    Parameters
    ----------
    regional : xarray.DataArray
        Regional model concentration on a coarse regular grid ``(..., y, x)`` with a CRS
        [ug m-3; another mass concentration in its ``units`` attribute is converted].
    local : xarray.DataArray
        trajectoire's local contribution on the fine grid ``(..., y, x)``, any CRS, with the
        same leading dims and coordinates as `regional` [ug m-3; another mass concentration
        in its ``units`` attribute is converted].
    fraction : float, default 1.0
        Share of the local contribution the regional model is assumed to contain (1 when it
        uses the same emissions).

    Returns
    -------
    xarray.DataArray
        Non-local background on the regional grid [ug m-3], clipped at 0; ``attrs
        ["clipped_share"]`` is the share of regional cells clipped (a warning says it too).
        Interpolate it to the fine grid with :class:`RegionalBackground` (bilinear) or
        ``trajectoire.regrid(..., extensive=False)`` (conservative, blocky).

    Raises
    ------
    trajectoire.InputError
        `fraction` outside [0, 1], `regional` or `local` not DataArrays, or leading
        coordinates (year, pollutant...) that differ between them.
    trajectoire.UnitsError
        A ``units`` attribute that is not a concentration (``ppb``: convert the field to
        ug m-3 first), or a mass against a particle number concentration.
    trajectoire.GridError
        Grids that do not overlap, or without a CRS.

    References
    ----------
    Denby, B. R., et al. (2020). Description of the uEMEP_v5 downscaling approach for the
    EMEP MSC-W chemistry transport model. Geosci. Model Dev. 13, 6303-6323,
    doi:10.5194/gmd-13-6303-2020.
    """
    if not 0 <= fraction <= 1:
        raise InputError(f"remove_local_part: fraction must be in [0, 1], got {fraction}.")
    if not isinstance(local, xr.DataArray) or not isinstance(regional, xr.DataArray):
        raise InputError("remove_local_part: `regional` and `local` must be DataArrays.")
    kind_r, f_r = _units_factor(regional, "regional")
    kind_l, f_l = _units_factor(local, "local")
    if kind_r and kind_l and kind_r != kind_l:
        raise UnitsError(
            f"remove_local_part: regional is in {regional.attrs['units']!r} and local in "
            f"{local.attrs['units']!r}; both must be mass (ug m-3) or both particle number "
            "concentrations (cm-3)."
        )
    if f_r != 1.0:
        regional = (regional * f_r).assign_attrs({**regional.attrs, "units": "ug m-3"})
    if f_l != 1.0:
        local = (local * f_l).assign_attrs({**local.attrs, "units": "ug m-3"})
    for dim in regional.dims:
        if dim in ("y", "x") or dim not in local.dims:
            continue
        if (
            dim in regional.coords
            and dim in local.coords
            and not np.array_equal(regional[dim].values, local[dim].values)
        ):
            raise InputError(
                f"remove_local_part: {dim} of regional is {regional[dim].values.tolist()} but "
                f"of local {local[dim].values.tolist()}; expected the same labels in the same "
                f"order. Select the matching ones, e.g. local.sel({dim}=regional['{dim}'])."
            )
    coarse = grid_of(regional)
    plan = Regridder(grid_of(local), coarse, extensive=False)
    lead = [d for d in regional.dims if d not in ("y", "x")]
    reg = regional.transpose(*lead, "y", "x")
    if reg.sizes["y"] > 1 and float(reg["y"][1] - reg["y"][0]) > 0:
        reg = reg.isel(y=slice(None, None, -1))
    if reg.sizes["x"] > 1 and float(reg["x"][1] - reg["x"][0]) < 0:
        reg = reg.isel(x=slice(None, None, -1))
    loc = plan(local).transpose(*lead, "y", "x")
    mean = _fill_nearest(np.asarray(loc.values, dtype=float))
    values, share, deficit = _subtract(np.asarray(reg.values, dtype=float), mean, fraction)
    _warn_clipped(share, deficit, "remove_local_part")
    out = reg.copy(data=values).transpose(*regional.dims)
    out.attrs = {
        **regional.attrs,
        "long_name": "regional background without the local part",
        "clipped_share": share,
    }
    return add_history(out, f"remove_local_part(fraction={fraction})")


def _units_factor(da: xr.DataArray, name: str) -> tuple[str | None, float]:
    """Kind (mass or number concentration) of a field's ``units`` attribute and the factor
    to ug m-3 (cm-3); ``(None, 1.0)`` without units (ug m-3 assumed)."""
    units = da.attrs.get("units")
    if units is None or not str(units).strip():
        return None, 1.0
    what = f"remove_local_part: {name}.attrs['units']"
    if unit_kind(units) == "number_concentration":
        return "number_concentration", conversion_factor(units, "number_concentration", what=what)
    return "concentration", conversion_factor(units, "concentration", what=what)


def _fill_nearest(mean: np.ndarray) -> np.ndarray:
    """NaN cells (``(..., y, x)``) take the value of the nearest finite cell (0 if none)."""
    out = np.array(mean, dtype=float)
    for plane in out.reshape(-1, *out.shape[-2:]):
        nan = np.isnan(plane)
        if nan.all():
            plane[:] = 0.0
        elif nan.any():
            idx = distance_transform_edt(nan, return_distances=False, return_indices=True)
            plane[:] = plane[tuple(idx)]
    return out


def bilinear_weights(source: Grid, target: Grid) -> sparse.csr_matrix:
    """Bilinear interpolation of cell-centre values of `source` at the cell centres of `target`.

    The centres of `target` are projected into the CRS of `source`, and each takes the
    bilinear blend of the four `source` centres around it; beyond the outermost centres the
    edge value is held (no extrapolation).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(target.size, source.size)``, rows summing to 1 (row-major, north-up cells).
    """
    if source.nx < 2 or source.ny < 2:
        raise GridError(f"bilinear_weights: the source grid needs 2 x 2 cells, got {source}.")
    xx, yy = np.meshgrid(target.x, target.y)
    if source.crs != target.crs:
        tr = pyproj.Transformer.from_crs(target.crs, source.crs, always_xy=True)
        xx, yy = tr.transform(xx, yy)
    fx = np.clip((np.asarray(xx) - source.x[0]) / source.dx, 0.0, source.nx - 1.0).ravel()
    fy = np.clip((source.y[0] - np.asarray(yy)) / source.dy, 0.0, source.ny - 1.0).ravel()
    i0 = np.minimum(np.floor(fx).astype(np.int64), source.nx - 2)
    j0 = np.minimum(np.floor(fy).astype(np.int64), source.ny - 2)
    tx, ty = fx - i0, fy - j0
    rows = np.repeat(np.arange(target.size), 4)
    cols = np.stack(
        [
            j0 * source.nx + i0,
            j0 * source.nx + i0 + 1,
            (j0 + 1) * source.nx + i0,
            (j0 + 1) * source.nx + i0 + 1,
        ],
        axis=1,
    ).ravel()
    w = np.stack([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty], axis=1).ravel()
    return sparse.csr_matrix((w, (rows, cols)), shape=(target.size, source.size))


def _covering_window(field: Grid, grid: Grid, what: str) -> tuple[slice, slice]:
    """Rows and columns of the `field` cells that cover `grid`, plus one around (at least
    2 x 2)."""
    t = np.linspace(0.0, 1.0, 65)
    x0, y0, x1, y1 = grid.bounds
    xs = np.concatenate([x0 + t * (x1 - x0), np.full(65, x1), x1 - t * (x1 - x0), np.full(65, x0)])
    ys = np.concatenate([np.full(65, y0), y0 + t * (y1 - y0), np.full(65, y1), y1 - t * (y1 - y0)])
    if field.crs != grid.crs:
        xs, ys = pyproj.Transformer.from_crs(grid.crs, field.crs, always_xy=True).transform(xs, ys)
    bx0, bx1, by0, by1 = np.min(xs), np.max(xs), np.min(ys), np.max(ys)
    fx0, fy0, fx1, fy1 = field.bounds
    tol = 1e-9 * max(field.dx, field.dy)
    if bx0 < fx0 - tol or bx1 > fx1 + tol or by0 < fy0 - tol or by1 > fy1 + tol:
        raise InputError(
            f"{what}: the field ({fx0:.6g}..{fx1:.6g}, {fy0:.6g}..{fy1:.6g} in {field.crs.name}) "
            f"does not cover the run grid ({bx0:.6g}..{bx1:.6g}, {by0:.6g}..{by1:.6g}); give a "
            f"field over the whole domain ({_KEY} path)."
        )
    c0 = int(np.floor((bx0 - fx0) / field.dx + 1e-9))
    c1 = int(np.ceil((bx1 - fx0) / field.dx - 1e-9))
    r0 = int(np.floor((fy1 - by1) / field.dy + 1e-9))
    r1 = int(np.ceil((fy1 - by0) / field.dy - 1e-9))
    # one more cell on each side (when the file has it): bilinear weights reach the edges
    c0, c1 = _at_least_two(c0 - 1, c1 + 1, field.nx)
    r0, r1 = _at_least_two(r0 - 1, r1 + 1, field.ny)
    return slice(r0, r1), slice(c0, c1)


def _at_least_two(start: int, stop: int, n: int) -> tuple[int, int]:
    """A window of at least two cells inside ``0..n``."""
    start, stop = max(start, 0), min(max(stop, start + 1), n)
    while stop - start < 2 and (start > 0 or stop < n):
        start, stop = (start - 1, stop) if start > 0 else (start, stop + 1)
    return start, stop


class RegionalBackground:
    """A regional model field prepared for one run grid, its local part removed year by year.

    Built once per run: the field is cut to the regional cells that cover the run grid, and
    the two remaps are computed once: the conservative mean of the fine grid over each
    regional cell (:class:`~trajectoire.Regridder`, any CRS) and the bilinear interpolation
    of the regional cell centres back to the fine cells (:func:`bilinear_weights`).

    Parameters
    ----------
    field : xarray.DataArray
        ``(year, pollutant, y, x)`` [ug m-3] with a CRS (:func:`read_background_field`).
    grid : Grid
        The run grid.
    fraction : float, optional
        Share of the local contribution removed; default ``field.attrs["local_fraction"]``
        (the configuration's ``local_fraction``), else 1.

    Notes
    -----
    For pollutant ``p`` and year ``t``, with ``L`` the run's local contribution (every sector
    and origin, stacks included) on the fine grid:
    ``B_J = max(R_J − f ⟨L⟩_J, 0)`` on each regional cell ``J``, then ``B(c) = Σ_J w_cJ B_J``
    (bilinear). NO2 is not dispersed: its regional field keeps its NO2/NOx ratio,
    ``B_J(NO2) = R_J(NO2) × B_J(NOx) / R_J(NOx)`` (see docs/background.md).
    """

    def __init__(self, field: xr.DataArray, grid: Grid, *, fraction: float | None = None) -> None:
        what = f"{Path(str(field.attrs.get('source_file', 'background field'))).name} ({_KEY})"
        fraction = float(field.attrs.get("local_fraction", 1.0) if fraction is None else fraction)
        if not 0 <= fraction <= 1:
            raise InputError(f"{what}: local_fraction must be in [0, 1], got {fraction}.")
        rows, cols = _covering_window(grid_of(field), grid, what)
        cut = field.isel(y=rows, x=cols).transpose("year", "pollutant", "y", "x")
        values = np.asarray(cut.values, dtype=np.float64)
        if not np.isfinite(values).all():
            bad = ~np.isfinite(values)
            k = np.argwhere(bad)[0]
            yx = (float(cut["y"].values[k[2]]), float(cut["x"].values[k[3]]))
            raise InputError(
                f"{what}: the field has {int(bad.sum())} missing value(s) (NaN) over the run "
                f"grid, e.g. {cut['pollutant'].values[k[1]]} {int(cut['year'].values[k[0]])} "
                f"at y={yx[0]:g}, x={yx[1]:g} ({grid_of(field).crs.name}); expected a value "
                f"in every cell that covers the grid. Fill them in the file, or give a field "
                f"without gaps ({_KEY} path)."
            )
        self.values = values
        self.years = [int(y) for y in cut["year"].values]
        self.pollutants = [str(p) for p in cut["pollutant"].values]
        self.coarse = grid_of(cut.assign_attrs(crs=field.attrs["crs"]))
        self.grid = grid
        self.fraction = float(fraction)
        self.what = what
        self._to_coarse = Regridder(grid, self.coarse, extensive=False)
        self._to_fine = bilinear_weights(self.coarse, grid)

    def __repr__(self) -> str:
        return (
            f"RegionalBackground({self.coarse.nx} x {self.coarse.ny} regional cells -> "
            f"{self.grid.nx} x {self.grid.ny}, {self.pollutants}, {self.years[0]}..{self.years[-1]})"
        )

    def regional(self, year: int, pollutant: str) -> np.ndarray:
        """The regional field of one year and pollutant on the regional cells [ug m-3]."""
        return self.values[self.years.index(year), self.pollutants.index(pollutant)]

    def local_mean(self, local: np.ndarray) -> np.ndarray:
        """``⟨L⟩_J``: mean of a fine field over each regional cell (:func:`_fill_nearest`
        for the cells around the grid)."""
        return _fill_nearest(self._to_coarse.apply_array(local))

    def remove_local_part(
        self, year: int, pollutant: str, local: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """``(B_J, clipped share)``: the regional field less its local part, on its cells."""
        out, share, deficit = _subtract(
            self.regional(year, pollutant), self.local_mean(local), self.fraction
        )
        _warn_clipped(share, deficit, f"{self.what} {pollutant} {year}")
        return out, share

    def no2(self, year: int, nox: np.ndarray) -> np.ndarray:
        """NO2 background on the regional cells: its regional field times ``B(NOx) / R(NOx)``."""
        r_nox = self.regional(year, "NOx")
        r_no2 = self.regional(year, "NO2")
        keep = np.divide(nox, r_nox, out=np.ones_like(nox), where=r_nox > 0)
        return r_no2 * keep

    def on_grid(self, coarse: np.ndarray) -> np.ndarray:
        """Values on the regional cells interpolated (bilinear) to the run grid [ug m-3]."""
        flat = self._to_fine @ np.asarray(coarse, dtype=np.float64).ravel()
        return np.asarray(flat).reshape(self.grid.shape)

    def background_maps(
        self, year: int, pollutant: str, local: np.ndarray, *, with_no2: bool = False
    ) -> dict[str, np.ndarray]:
        """The background maps of one year on the run grid, as the run writes them.

        Parameters
        ----------
        year : int
            A year of the field.
        pollutant : str
            A dispersed pollutant of the field.
        local : numpy.ndarray
            The local contribution to remove (every sector and origin) on the run grid
            [ug m-3, or the run's unit of the species].
        with_no2 : bool, default False
            Also the NO2 background (`pollutant` must be ``"NOx"``), which keeps the
            regional NO2/NOx ratio (:meth:`no2`).

        Returns
        -------
        dict of str to numpy.ndarray
            ``{pollutant: B}`` (and ``{"NO2": B_NO2}``): ``B = on_grid(max(R − f ⟨local⟩,
            0))`` on the run grid, the map :func:`trajectoire.batch.pipeline.compute_year`
            adds to the local part when `local` is the year's own local contribution. The
            share of regional cells clipped at 0 comes with :meth:`background_and_clipped`.

        Notes
        -----
        The change split (:func:`trajectoire.attribution.background_of_year`) calls it
        with each year's own local part, so that the background of a year is the one the
        run wrote for it (Denby et al. 2020: the regional part is the field less its local
        part, the local part being the local model's).
        """
        return self.background_and_clipped(year, pollutant, local, with_no2=with_no2)[0]

    def background_and_clipped(
        self, year: int, pollutant: str, local: np.ndarray, *, with_no2: bool = False
    ) -> tuple[dict[str, np.ndarray], float]:
        """:meth:`background_maps` and the share of regional cells clipped at 0.

        The run (:func:`trajectoire.batch.pipeline.compute_year`) writes that share beside
        the maps (``background_clipped_share``); the NO2 map, derived from the clipped NOx
        field, has the same share. Parameters as for :meth:`background_maps`.

        Returns
        -------
        maps : dict of str to numpy.ndarray
            As :meth:`background_maps` returns them [ug m-3].
        clipped : float
            Share of the regional cells where the local part exceeded the field (0 to 1).
        """
        if with_no2 and pollutant != "NOx":
            raise InputError(f"background_maps: with_no2 needs pollutant 'NOx', got {pollutant!r}.")
        coarse, clipped = self.remove_local_part(year, pollutant, local)
        out = {pollutant: self.on_grid(coarse)}
        if with_no2:
            out["NO2"] = self.on_grid(self.no2(year, coarse))
        return out, clipped


def receptor_background(
    maps: np.ndarray,
    area: Sequence[Any],
    exposure: Sequence[Any],
    rows: np.ndarray,
    cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The background seen by the receptors: territory and population-weighted means and
    station cells, each ``(receptor, pollutant)`` [ug m-3].

    Parameters
    ----------
    maps : numpy.ndarray
        ``(pollutant, ny, nx)`` background maps.
    area, exposure : sequence of Receptor
        The territory receptors (area weights) and their population-weighted twins.
    rows, cols : numpy.ndarray
        Station cells.
    """
    terr = np.stack([receptor_means(area, m) for m in maps], axis=-1)
    expo = np.stack([receptor_means(exposure, m) for m in maps], axis=-1)
    sta = np.asarray(maps)[:, np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)].T
    return terr, expo, sta.reshape(len(rows), len(maps))
