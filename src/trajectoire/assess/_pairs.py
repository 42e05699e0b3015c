"""Checks shared by the assessment modules: concentration units and model/observation pairs.

Private to :mod:`trajectoire.assess` (its names are used by :mod:`~trajectoire.assess.stations`,
:mod:`~trajectoire.assess.evaluation` and :mod:`~trajectoire.assess.fusion`, not outside).
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from trajectoire.errors import InputError, UnitsError
from trajectoire.units import UNIT_TABLE, normalise_units

__all__ = ["aligned_pair", "concentration_units", "units_factor"]

#: the unit kinds an observed or modelled concentration may have
_KINDS = ("concentration", "number_concentration")


def concentration_units(units: Any, what: str) -> tuple[str, str]:
    """Kind and canonical spelling of a concentration units string.

    Parameters
    ----------
    units : str or None
        Units as written (``"ug m-3"``, ``"µg/m³"``, ``"cm-3"``...).
    what : str
        Where the units come from, for error messages.

    Returns
    -------
    kind, units : str
        ``"concentration"`` or ``"number_concentration"``, and the canonical units of
        :data:`trajectoire.units.UNIT_TABLE`.

    Raises
    ------
    trajectoire.UnitsError
        No units, or units that are not a concentration (units are never guessed).
    """
    if units is None or str(units).strip() == "":
        raise UnitsError(
            f"{what}: no units given; expected a concentration unit such as 'ug m-3' or "
            "'cm-3'. Set attrs['units'] explicitly: units are never guessed."
        )
    for kind in _KINDS:
        try:
            return kind, normalise_units(units, kind, what=what)
        except UnitsError:
            continue
    expected = [u for kind in _KINDS for u in UNIT_TABLE[kind]]
    raise UnitsError(
        f"{what}: units {units!r} are not a known concentration unit; expected one of "
        f"{expected}. Set attrs['units'] explicitly: units are never guessed."
    )


def units_factor(observed: xr.DataArray, model: xr.DataArray) -> float:
    """Factor converting a value in the units of `model` to the units of `observed` [1]."""
    kind, uo = concentration_units(observed.attrs.get("units"), "observed.attrs['units']")
    _, um = concentration_units(model.attrs.get("units"), "model.attrs['units']")
    return UNIT_TABLE[kind][um] / UNIT_TABLE[kind][uo]


def aligned_pair(
    model: xr.DataArray, observed: xr.DataArray, caller: str, *, to: str | None = None
) -> tuple[xr.DataArray, xr.DataArray, str]:
    """Check a (model, observed) pair and return it in common units, aligned.

    Parameters
    ----------
    model, observed : xarray.DataArray
        Modelled and observed concentrations with a ``units`` attribute each, the same dims
        and the same coordinate labels.
    caller : str
        Name of the public function, for error messages.
    to : str, optional
        Units to convert both to (``"ug m-3"`` for the FAIRMODE indicators); default the
        units of `observed`.

    Returns
    -------
    model, observed : xarray.DataArray
        Converted, aligned (exact join) and with the model's dims in the order of `observed`.
    units : str
        Their units.

    Raises
    ------
    trajectoire.InputError
        Not DataArrays, different dims or coordinate labels.
    trajectoire.UnitsError
        Missing or unknown units, or model and observations of different kinds.
    """
    for name, da in (("model", model), ("observed", observed)):
        if not isinstance(da, xr.DataArray):
            raise InputError(
                f"{caller}: `{name}` must be an xarray.DataArray with a 'units' attribute, got "
                f"{type(da).__name__}. Wrap it with xr.DataArray(values, dims=..., "
                "attrs={'units': 'ug m-3'})."
            )
    kind_o, units_o = concentration_units(
        observed.attrs.get("units"), f"{caller}: observed.attrs['units']"
    )
    kind_m, units_m = concentration_units(
        model.attrs.get("units"), f"{caller}: model.attrs['units']"
    )
    if kind_o != kind_m:
        raise UnitsError(
            f"{caller}: model is in {units_m!r} ({kind_m}) but observed in {units_o!r} "
            f"({kind_o}); they must measure the same quantity."
        )
    target = to or units_o
    if to is not None and kind_o != "concentration":
        raise UnitsError(
            f"{caller}: the FAIRMODE parameters are in ug m-3; got observations in {units_o!r}."
        )
    table = UNIT_TABLE[kind_o]
    obs = observed * (table[units_o] / table[target]) if units_o != target else observed
    mod = model * (table[units_m] / table[target]) if units_m != target else model
    if set(model.dims) != set(observed.dims):
        raise InputError(
            f"{caller}: model has dims {tuple(model.dims)} but observed has "
            f"{tuple(observed.dims)}; they must have the same dims. Sample the model at the "
            "stations first (sample_at_stations) or .rename/.squeeze the odd dims."
        )
    try:
        mod, obs = xr.align(mod, obs, join="exact")
    except ValueError as exc:
        raise InputError(
            f"{caller}: model and observed coordinates differ ({exc}). Select the common "
            "labels first, e.g. xr.align(model, observed, join='inner')."
        ) from exc
    mod = mod.transpose(*observed.dims)
    return mod, obs, target
