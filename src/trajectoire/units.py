"""Units: the only place unit strings are parsed and converted.

No pint dependency: a short explicit table of accepted spellings and their factor to the
canonical unit of each kind. Anything else raises :class:`~trajectoire.UnitsError`; units are
never guessed.

Kinds and canonical units:

* ``emission_rate`` (mass per time): canonical ``t yr-1`` (a year is 365.25 days, the Julian
  year, as in the UNFCCC/CLRTAP reporting convention of annual totals; conversion to
  ``g s-1`` uses 31 557 600 s).
* ``concentration``: canonical ``ug m-3``.
* ``number_rate`` (particles per time, ultrafine particles): canonical ``yr-1``.
* ``number_concentration`` (particles per volume): canonical ``cm-3``.
* ``mixing_ratio`` (gases of chemistry-transport models): canonical ``mol mol-1``; converted
  to a mass concentration by :func:`mixing_ratio_factor` with the gas's molar mass.
* ``length``: canonical ``m``. ``temperature``: canonical ``K``. ``speed``: canonical ``m s-1``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

from trajectoire._validate import as_floats, did_you_mean
from trajectoire.errors import InputError, UnitsError

__all__ = [
    "REFERENCE_PRESSURE",
    "REFERENCE_TEMPERATURE",
    "SECONDS_PER_YEAR",
    "UNIT_TABLE",
    "annual_total_factor",
    "conversion_factor",
    "convert",
    "mixing_ratio_factor",
    "normalise_units",
    "unit_is_intensive",
    "unit_kind",
]

SECONDS_PER_YEAR = 365.25 * 86400.0

#: Reference conditions of gaseous pollutants in Directive 2008/50/EC (293 K, 101.3 kPa),
#: used to turn a mixing ratio into a mass concentration [K], [Pa]
REFERENCE_TEMPERATURE = 293.15
REFERENCE_PRESSURE = 101_325.0
_GAS_CONSTANT = 8.314462618  # [J mol-1 K-1]

UNIT_TABLE: dict[str, dict[str, float]] = {
    "emission_rate": {
        "t yr-1": 1.0,
        "kg yr-1": 1e-3,
        "g yr-1": 1e-6,
        "mg yr-1": 1e-9,
        "kt yr-1": 1e3,
        "Mg yr-1": 1.0,
        "Gg yr-1": 1e3,
        "Tg yr-1": 1e6,
        "g s-1": SECONDS_PER_YEAR * 1e-6,
        "kg s-1": SECONDS_PER_YEAR * 1e-3,
        "kg h-1": 365.25 * 24 * 1e-3,
        "g h-1": 365.25 * 24 * 1e-6,
        "kg d-1": 365.25 * 1e-3,
        "t d-1": 365.25,
    },
    "concentration": {
        "ug m-3": 1.0,
        "mg m-3": 1e3,
        "g m-3": 1e6,
        "ng m-3": 1e-3,
        "kg m-3": 1e9,
    },
    "number_concentration": {"cm-3": 1.0, "m-3": 1e-6},
    "number_rate": {
        "yr-1": 1.0,
        "s-1": SECONDS_PER_YEAR,
        "h-1": 365.25 * 24,
        "d-1": 365.25,
    },
    "mixing_ratio": {
        "mol mol-1": 1.0,
        "ppm": 1e-6,
        "ppb": 1e-9,
        "ppt": 1e-12,
        "umol mol-1": 1e-6,
        "nmol mol-1": 1e-9,
        "pmol mol-1": 1e-12,
    },
    "length": {"m": 1.0, "km": 1e3, "cm": 1e-2},
    "speed": {"m s-1": 1.0, "km h-1": 1.0 / 3.6, "kt": 0.514444},
    "temperature": {"K": 1.0},
}

# spellings accepted on input, mapped to the canonical spelling of the table above
_SYNONYMS = {
    "t/yr": "t yr-1",
    "t/y": "t yr-1",
    "t/an": "t yr-1",
    "t/year": "t yr-1",
    "tonnes/year": "t yr-1",
    "t a-1": "t yr-1",
    "t.yr-1": "t yr-1",
    "kg/yr": "kg yr-1",
    "kg/y": "kg yr-1",
    "kg/an": "kg yr-1",
    "kg/year": "kg yr-1",
    "kg a-1": "kg yr-1",
    "g/yr": "g yr-1",
    "kt/yr": "kt yr-1",
    "mg/yr": "mg yr-1",
    "Mg/yr": "Mg yr-1",
    "Mg/year": "Mg yr-1",
    "Gg/yr": "Gg yr-1",
    "Gg/year": "Gg yr-1",
    "Tg/yr": "Tg yr-1",
    "Tg/year": "Tg yr-1",
    "g/s": "g s-1",
    "kg/s": "kg s-1",
    "kg/h": "kg h-1",
    "g/h": "g h-1",
    "kg/d": "kg d-1",
    "t/d": "t d-1",
    "ug/m3": "ug m-3",
    "µg/m3": "ug m-3",
    "µg m-3": "ug m-3",
    "ug m^-3": "ug m-3",
    "mg/m3": "mg m-3",
    "g/m3": "g m-3",
    "ng/m3": "ng m-3",
    "kg/m3": "kg m-3",
    "1/yr": "yr-1",
    "1/y": "yr-1",
    "#/yr": "yr-1",
    "a-1": "yr-1",
    "particles yr-1": "yr-1",
    "particles/yr": "yr-1",
    "1/s": "s-1",
    "#/s": "s-1",
    "particles s-1": "s-1",
    "particles/s": "s-1",
    "1/h": "h-1",
    "1/d": "d-1",
    "1/m3": "m-3",
    "#/m3": "m-3",
    "particles cm-3": "cm-3",
    "1/cm3": "cm-3",
    "#/cm3": "cm-3",
    "cm^-3": "cm-3",
    "ppmv": "ppm",
    "ppbv": "ppb",
    "pptv": "ppt",
    "mol/mol": "mol mol-1",
    "1e-9": "ppb",
    "m/s": "m s-1",
    "km/h": "km h-1",
    "kelvin": "K",
    "metre": "m",
    "meter": "m",
}


def normalise_units(units: str | None, kind: str, *, what: str = "units") -> str:
    """Return the canonical spelling of `units` for a kind of quantity.

    Parameters
    ----------
    units : str or None
        A units string (``"t/yr"``, ``"kg yr-1"``, ``"µg/m3"``...). None is an error.
        The micro sign may be ``µ`` (U+00B5), the Greek ``μ`` (U+03BC) or ``u``; a dot
        between unit factors is a product, as French files write them (``"µg.m-3"``,
        ``"kg.an-1"``, ``an`` and ``a`` being a year).
    kind : str
        A key of :data:`UNIT_TABLE`.
    what : str
        The variable or column the units belong to, for the error message.

    Raises
    ------
    trajectoire.UnitsError
        If `units` is missing or not a known spelling of that kind.
    trajectoire.InputError
        If `kind` is not a key of :data:`UNIT_TABLE` (one line listing them, with the
        closest one).

    Examples
    --------
    >>> normalise_units("kg/yr", "emission_rate")
    'kg yr-1'
    >>> normalise_units("µg.m-3", "concentration"), normalise_units("t.an-1", "emission_rate")
    ('ug m-3', 't yr-1')
    """
    table = _unit_table(kind)
    if units is None or str(units).strip() == "":
        raise UnitsError(
            f"{what}: no units given; expected one of {list(table)} ({kind}). "
            "Set attrs['units'] (or the 'units' option) explicitly: units are never guessed."
        )
    key = _spelling(units)
    if key not in table:
        found = unit_kind(units)
        if found is not None and _FAMILY.get(found, found) != _FAMILY.get(kind, kind):
            raise UnitsError(
                f"{what}: units {units!r} are a {_KIND_WORDS.get(found, found)}, but a "
                f"{_KIND_WORDS.get(kind, kind)} is expected (one of {list(table)}); particle "
                "numbers and masses never mix."
            )
        also = (  # a concentration may also be a mixing ratio, converted where read
            f" (or a mixing ratio: {list(UNIT_TABLE['mixing_ratio'])[:3]}, where a reader "
            "takes one, e.g. the background)"
            if kind == "concentration"
            else ""
        )
        raise UnitsError(
            f"{what}: units {units!r} are not a known {kind.replace('_', ' ')}; "
            f"expected one of {list(table)}{also}."
        )
    return key


def _unit_table(kind: object) -> dict[str, float]:
    """The :data:`UNIT_TABLE` entry of `kind`; InputError naming the known kinds otherwise."""
    if isinstance(kind, str) and kind in UNIT_TABLE:
        return UNIT_TABLE[kind]
    close = did_you_mean(kind, UNIT_TABLE) if isinstance(kind, str) else ""
    raise InputError(
        f"kind={kind!r}: not a kind of quantity{close}; expected one of {list(UNIT_TABLE)}."
    )


#: the unit family of each kind: particle numbers never convert to or from a mass
_FAMILY = {
    "emission_rate": "mass",
    "concentration": "mass",
    "mixing_ratio": "mass",
    "number_rate": "number",
    "number_concentration": "number",
}
_KIND_WORDS = {
    "emission_rate": "mass per time",
    "concentration": "mass concentration",
    "mixing_ratio": "mixing ratio",
    "number_rate": "particle number per time",
    "number_concentration": "particle number concentration",
}


#: superscript digits and signs, as word processors and spreadsheets write ``µg/m³``; the
#: micro sign (U+00B5) and the Greek mu (U+03BC, what NFKC normalisation and Greek keyboards
#: give) both as ``u``, the prefix of the table's spellings (``ug m-3``, ``umol mol-1``)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻\u00b5\u03bc", "0123456789-uu")
#: a dot between two unit factors, the French notation of a product (``µg.m-3``,
#: ``kg.an-1``, ``kg.m-2.s-1``): after a unit or its exponent, before a unit; never between
#: two digits (``1.5``)
_DOT_PRODUCT = re.compile(r"(?:(?<=[^\W\d_])|(?<=[^\W\d_]\d)|(?<=[^\W\d_]-\d))\.(?=[^\W\d_])")
#: "per year" in French (``an``, annum ``a``) as a unit factor of a product
_PER_YEAR = {"an-1": "yr-1", "a-1": "yr-1"}


def _spelling(units: object) -> str:
    key = re.sub(r"\s+", " ", str(units).strip()).translate(_SUPERSCRIPTS)
    product = " ".join(_PER_YEAR.get(f, f) for f in _DOT_PRODUCT.sub(" ", key).split(" "))
    for spelling in (key, product):  # a synonym as written first (``T.YR-1``)
        found = _SYNONYMS.get(spelling, _SYNONYMS.get(spelling.lower()))
        if found is not None:
            return found
    return product


def unit_kind(units: str | None) -> str | None:
    """The kind (:data:`UNIT_TABLE` key) a units string belongs to, or None if unknown.

    Examples
    --------
    >>> unit_kind("t/yr"), unit_kind("cm-3"), unit_kind("furlong")
    ('emission_rate', 'number_concentration', None)
    """
    if units is None:
        return None
    key = _spelling(units)
    for kind, table in UNIT_TABLE.items():
        if key in table:
            return kind
    return None


#: kinds of :data:`UNIT_TABLE` that are per volume (intensive), and per cell (extensive)
_INTENSIVE_KINDS = ("concentration", "number_concentration", "mixing_ratio")
_EXTENSIVE_KINDS = ("emission_rate", "number_rate")
# a length unit raised to -2 or -3 (``m-2``, ``km-2``, ``cm-3``) or divided by (``/m3``)
_PER_AREA_OR_VOLUME = re.compile(
    r"(?:^|[\s.*])(?:k|c|m|d|u)?m-[23](?![0-9])|/\s*(?:k|c|m|d|u)?m[23\u00b2\u00b3](?![0-9])"
)


def unit_is_intensive(units: str | None) -> bool | None:
    """Whether a units string is that of an intensive quantity (per area or per volume).

    True for a concentration, a number concentration or a mixing ratio (:data:`UNIT_TABLE`)
    and for any unit per area or per volume (``kg m-2 s-1``, ``t km-2 yr-1``, ``ug/m3``);
    False for an amount per cell (an emission rate, ``t yr-1``, ``s-1``); None when the
    units say neither (missing, ``1``, unknown), so that the caller decides.

    Examples
    --------
    >>> unit_is_intensive("ug m-3"), unit_is_intensive("kg m-2 s-1"), unit_is_intensive("t/yr")
    (True, True, False)
    >>> unit_is_intensive("1"), unit_is_intensive(None)
    (None, None)
    """
    if units is None or not str(units).strip():
        return None
    kind = unit_kind(units)
    if kind in _INTENSIVE_KINDS:
        return True
    if kind in _EXTENSIVE_KINDS:
        return False
    if _PER_AREA_OR_VOLUME.search(str(units).strip()):
        return True
    return None


def conversion_factor(units: str | None, kind: str, *, what: str = "units") -> float:
    """Factor that converts values in `units` to the canonical unit of `kind`.

    Raises
    ------
    trajectoire.UnitsError
        If `units` is missing or not a known spelling of that kind.
    trajectoire.InputError
        If `kind` is not a key of :data:`UNIT_TABLE`.
    """
    return _unit_table(kind)[normalise_units(units, kind, what=what)]


def convert(
    values: npt.ArrayLike, units: str | None, to: str, kind: str, *, what: str = "units"
) -> np.ndarray:
    """Convert `values` from `units` to `to`, both of the same `kind`.

    A particle number and a mass (``cm-3`` and ``ug m-3``, ``yr-1`` and ``t yr-1``) never
    convert into each other: that raises :class:`~trajectoire.UnitsError` naming both.

    Parameters
    ----------
    values : array-like of float
        The values, in `units`.
    units, to : str
        Their units and the units wanted, both of `kind`.
    kind : str
        A key of :data:`UNIT_TABLE` (``"concentration"``, ``"emission_rate"``...).
    what : str, default "units"
        The variable the units belong to, for the error messages.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    trajectoire.UnitsError
        Unknown or missing units, or a particle number against a mass.
    trajectoire.InputError
        `kind` unknown (the known kinds listed, with the closest one), or `values` not
        numbers (the first one that is not named).

    Examples
    --------
    >>> round(float(convert(1.0, "g s-1", "t yr-1", "emission_rate")), 6)
    31.5576
    """
    k_from, k_to = unit_kind(units), unit_kind(to)
    if k_from and k_to and _FAMILY.get(k_from, k_from) != _FAMILY.get(k_to, k_to):
        raise UnitsError(
            f"{what}: cannot convert {units!r} ({_KIND_WORDS.get(k_from, k_from)}) to {to!r} "
            f"({_KIND_WORDS.get(k_to, k_to)}): particle numbers and masses never mix; keep "
            "particle-number species (UFP) in yr-1 and cm-3."
        )
    f_from = conversion_factor(units, kind, what=what)
    f_to = conversion_factor(to, kind, what="target units")
    named = "convert: values" if what == "units" else f"convert: values of {what}"
    return as_floats(values, named) * (f_from / f_to)


def mixing_ratio_factor(
    units: str | None,
    molar_mass: float | None,
    *,
    temperature: float = REFERENCE_TEMPERATURE,
    pressure: float = REFERENCE_PRESSURE,
    what: str = "units",
) -> float:
    """Factor that converts a mixing ratio in `units` to a mass concentration in ``ug m-3``.

    ``c [ug m-3] = x [mol mol-1] × M [g mol-1] × p / (R T) [mol m-3] × 1e6``; at the
    reference conditions of Directive 2008/50/EC (293.15 K, 101.325 kPa) 1 ppb of NO2 is
    1.91 ug m-3.

    Parameters
    ----------
    units : str
        A mixing ratio (``ppb``, ``ppm``, ``mol mol-1``...).
    molar_mass : float
        Molar mass of the gas [g mol-1] (:attr:`trajectoire.species.Pollutant.molar_mass`);
        None (particles) is an error.
    temperature, pressure : float
        Reference conditions [K], [Pa]: an air temperature in kelvin (150 to 350 K) and an
        air pressure in pascals (1e4 to 1.2e5 Pa).
    what : str
        The variable the units belong to, for the error message.

    Raises
    ------
    trajectoire.UnitsError
        Unknown units, or no molar mass; a `temperature` or `pressure` outside those
        plausible ranges, with the likely fix (a temperature below 100 is in degrees
        Celsius: add 273.15; a pressure of 500 to 1100 is in hPa: multiply by 100).

    Examples
    --------
    >>> round(mixing_ratio_factor("ppb", 46.0055), 4)
    1.9125
    """
    ratio = conversion_factor(units, "mixing_ratio", what=what)
    if molar_mass is None or not molar_mass > 0:
        raise UnitsError(
            f"{what}: units {units!r} are a mixing ratio, but the species has no molar mass "
            "(particles); give that variable as a mass concentration (ug m-3, kg m-3)."
        )
    _check_air(temperature, pressure)
    return ratio * molar_mass * pressure / (_GAS_CONSTANT * temperature) * 1e6


#: plausible air temperatures [K] and pressures [Pa] of the reference conditions
_AIR_TEMPERATURE = (150.0, 350.0)
_AIR_PRESSURE = (1e4, 1.2e5)


def _check_air(temperature: Any, pressure: Any, what: str = "mixing_ratio_factor") -> None:
    """UnitsError if `temperature` [K] or `pressure` [Pa] is not a plausible value of air:
    degrees Celsius or hectopascals give factors wrong by x15 or /100, silently."""
    t = as_floats(temperature, f"{what}: temperature")
    with np.errstate(invalid="ignore"):
        bad_t = ~((t >= _AIR_TEMPERATURE[0]) & (t <= _AIR_TEMPERATURE[1]))
    if bad_t.any():
        v = float(t[bad_t].ravel()[0]) if t.ndim else float(t)
        fix = (
            f"it looks like degrees Celsius: add 273.15 (temperature={v + 273.15:g})"
            if -100.0 <= v < 100.0
            else "give the air temperature in kelvin"
        )
        raise UnitsError(
            f"{what}: temperature={v!r} is not an air temperature in kelvin (expected "
            f"{_AIR_TEMPERATURE[0]:g} to {_AIR_TEMPERATURE[1]:g} K); {fix}."
        )
    p = as_floats(pressure, f"{what}: pressure")
    with np.errstate(invalid="ignore"):
        bad_p = ~((p >= _AIR_PRESSURE[0]) & (p <= _AIR_PRESSURE[1]))
    if bad_p.any():
        v = float(p[bad_p].ravel()[0]) if p.ndim else float(p)
        if 500.0 <= v <= 1100.0:
            fix = f"it looks like hPa (mbar): multiply by 100 (pressure={v * 100:g})"
        elif 50.0 <= v <= 110.0:
            fix = f"it looks like kPa: multiply by 1000 (pressure={v * 1000:g})"
        else:
            fix = "give the air pressure in pascals"
        raise UnitsError(
            f"{what}: pressure={v!r} is not an air pressure in pascals (expected "
            f"{_AIR_PRESSURE[0]:g} to {_AIR_PRESSURE[1]:g} Pa); {fix}."
        )


#: masses that annual inventories give without "per year" (the total of one year), and
#: the emission rate they stand for; case matters for ``Mg`` (megagram) against ``mg``
_ANNUAL_MASSES = {
    "g": "g yr-1",
    "kg": "kg yr-1",
    "t": "t yr-1",
    "tonne": "t yr-1",
    "tonnes": "t yr-1",
    "Mg": "Mg yr-1",
    "kt": "kt yr-1",
    "Gg": "Gg yr-1",
    "Tg": "Tg yr-1",
}


def annual_total_factor(units: str | None, *, what: str = "units") -> float:
    """Factor to ``t yr-1`` of annual totals given as a mass per year or as a bare mass.

    Annual inventories (EMEP/CEIP gridded files: ``Mg``; observatory exports: ``kg``) often
    write the mass of the year without "per year"; those bare masses (``g``, ``kg``, ``t``,
    ``tonnes``, ``Mg``, ``kt``, ``Gg``, ``Tg``) are read as that mass per year. Anything
    else goes through :func:`conversion_factor` (``emission_rate``).

    Raises
    ------
    trajectoire.UnitsError
        `units` missing, or neither a known bare mass nor a mass per time.

    Examples
    --------
    >>> annual_total_factor("Mg"), annual_total_factor("kg"), annual_total_factor("kg/an")
    (1.0, 0.001, 0.001)
    """
    key = "" if units is None else str(units).strip()
    # exact spelling first ("Mg" megagram); lower case only for words ("Tonnes", "KG")
    rate = _ANNUAL_MASSES.get(key) or (
        _ANNUAL_MASSES.get(key.lower()) if key.lower() not in ("mg", "gg", "tg") else None
    )
    try:
        return conversion_factor(rate or units, "emission_rate", what=what)
    except UnitsError as exc:
        raise UnitsError(
            f"{exc} Annual totals may also be a bare mass ({', '.join(_ANNUAL_MASSES)}), "
            "read as that mass per year."
        ) from None
