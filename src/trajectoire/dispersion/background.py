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

from pathlib import Path

import numpy as np
import xarray as xr

from trajectoire._validate import require_columns, require_non_negative
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.errors import InputError, TrajectoireWarning, warn
from trajectoire.species import normalise_pollutant
from trajectoire.tables import numeric_column, read_table
from trajectoire.units import conversion_factor

__all__ = ["read_background", "remove_local_part"]


def read_background(path: str | Path, *, units: str = "ug m-3") -> xr.DataArray:
    """Read a background table ``year, pollutant, value`` into ``background(year, pollutant)``.

    Parameters
    ----------
    path : str or Path
        CSV file; an optional ``units`` column overrides `units` per row.
    units : str, default "ug m-3"
        Units of ``value`` (a mass concentration; converted to ug m-3).

    Returns
    -------
    xarray.DataArray
        ``background`` [ug m-3], dims ``(year, pollutant)``.

    Raises
    ------
    trajectoire.InputError
        Missing columns, negative or NaN values, duplicated (year, pollutant) rows, units that
        are not a concentration.
    """
    path = Path(path)
    what = f"{path.name}"
    df = read_table(path, what=what, require_rows=True, config_key="[inputs] background")
    require_columns(df.columns, ["year", "pollutant", "value"], what)
    df["pollutant"] = [
        normalise_pollutant(p, what=f"{what}, column 'pollutant'") for p in df["pollutant"]
    ]
    key = "[inputs] background"
    df["year"] = numeric_column(df, "year", what=what, config_key=key).astype(int)
    df["value"] = numeric_column(
        df, "value", what=what, config_key=key, units=None if "units" in df.columns else units
    )
    require_non_negative(
        df["value"].to_numpy(), f"{what}, column 'value'", labels=list(df.index + 2)
    )
    if "units" in df.columns:
        factor = np.array(
            [
                conversion_factor(u, "concentration", what=f"{what}, column 'units'")
                for u in df["units"]
            ]
        )
    else:
        factor = np.full(len(df), conversion_factor(units, "concentration", what=f"{what} units"))
    df["value"] = df["value"] * factor
    dup = df.duplicated(["year", "pollutant"], keep=False)
    if dup.any():
        rows = (df.index[dup] + 2).tolist()[:8]
        raise InputError(f"{what}: duplicated (year, pollutant) rows at lines {rows}; keep one.")
    da = df.set_index(["year", "pollutant"])["value"].to_xarray()
    da = set_cf_attrs(da, "background")
    da.attrs["source_file"] = str(path)
    return add_history(da, f"read_background({path.name!r})")


def remove_local_part(
    regional: xr.DataArray,
    local: xr.DataArray,
    *,
    fraction: float = 1.0,
) -> xr.DataArray:
    """Regional model field minus its local part, on the regional cells (uEMEP-style).

    Parameters
    ----------
    regional : xarray.DataArray
        Regional model concentration on a coarse regular grid ``(..., y, x)`` with a CRS
        [ug m-3].
    local : xarray.DataArray
        trajectoire's local contribution on the fine grid ``(..., y, x)`` [ug m-3].
    fraction : float, default 1.0
        Share of the local contribution the regional model is assumed to contain (1 when it
        uses the same emissions).

    Returns
    -------
    xarray.DataArray
        Non-local background on the regional grid [ug m-3], clipped at 0; interpolate it to
        the fine grid with ``trajectoire.regrid(..., extensive=False)`` or ``.interp``.
    """
    from trajectoire.geo.grid import Grid
    from trajectoire.geo.regridding import regrid  # the regridding module (conservative, exact)

    if not 0 <= fraction <= 1:
        raise InputError(f"remove_local_part: fraction must be in [0, 1], got {fraction}.")
    target = Grid.from_xarray(regional)
    local_coarse = regrid(local, target, extensive=False)
    if not isinstance(local_coarse, xr.DataArray):
        raise InputError("remove_local_part: `local` must be a DataArray.")
    out = regional - fraction * np.asarray(local_coarse.values)
    negative = float((out < 0).mean())
    if negative > 0:
        warn(
            f"remove_local_part: the local part exceeds the regional field in {negative:.1%} of "
            "the regional cells; clipped to 0 (check that the emissions match the regional model's).",
            TrajectoireWarning,
        )
    out = out.clip(min=0)
    out.attrs = {**regional.attrs, "long_name": "regional background without the local part"}
    return add_history(out, f"remove_local_part(fraction={fraction})")
