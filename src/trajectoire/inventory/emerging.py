"""Emission models of the emerging species: UFP, tyre and road wear, pesticides, PFAS.

Pure functions turning activity data into yearly emissions in each species' own unit
(particles yr-1 for ``UFP``, t yr-1 for the mass species), with the factors of the package
file ``data/emerging_factors.toml`` (every number with its source there, or marked
illustrative; ``docs/emerging.md`` explains the methods):

* the road fleet: vehicle-km shares per vehicle class and Euro standard per year
  (:func:`class_shares`, :func:`euro_shares`, :func:`fleet_composition`), from the
  introduction dates of the standards and a Weibull survival of the vintages;
* ``UFP``: road exhaust from vehicle-km (:func:`ufp_road_factors`,
  :func:`ufp_road_emissions`), an airport from its landing/take-off cycles
  (:func:`ufp_airport_emissions`), residential wood burning from its fuel use
  (:func:`ufp_wood_emissions`);
* ``TRWP`` and ``TRWP_coarse``: tyre and road surface wear from vehicle-km, the airborne
  (PM10) part dispersed and the coarse part deposited in the road's cell
  (:func:`trwp_factors`, :func:`tyre_road_wear`);
* pesticides per active substance: area x dose x treated share x volatilised fraction
  (:func:`pesticide_emissions`), split by month with the application calendar
  (:func:`monthly_split`);
* ``PFOA`` of industrial sites with the phase-out index (:func:`pfoa_phase_out_index`,
  :func:`point_source_series`).

Every output is in the species' canonical emission unit unless ``units`` asks for another
unit of the same family: a mass unit for ``UFP`` (or a number unit for a mass species) is a
:class:`~trajectoire.UnitsError`.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from trajectoire.errors import InputError
from trajectoire.inventory.temporal import TemporalProfiles, default_temporal_profiles
from trajectoire.species import emission_factor

__all__ = [
    "EURO_STANDARDS",
    "VEHICLE_CLASSES",
    "class_shares",
    "euro_shares",
    "fleet_composition",
    "load_emerging_factors",
    "monthly_split",
    "pesticide_emissions",
    "pfoa_phase_out_index",
    "point_source_series",
    "traffic_index",
    "trwp_factors",
    "tyre_road_wear",
    "tyre_speed_correction",
    "ufp_airport_emissions",
    "ufp_road_emissions",
    "ufp_road_factors",
    "ufp_wood_emissions",
    "yearly_index",
]

#: Vehicle classes of the fleet model.
VEHICLE_CLASSES: tuple[str, ...] = ("pc_petrol", "pc_diesel", "lcv", "hgv", "bus", "two_wheeler")
#: Emission standards in order (``pre`` = pre-Euro; heavy-duty Euro I..VI written euro1..6).
EURO_STANDARDS: tuple[str, ...] = (
    "pre",
    "euro1",
    "euro2",
    "euro3",
    "euro4",
    "euro5",
    "euro6",
    "euro6d",
)
_GRAMS_PER_TONNE = 1e6
_FILE = "emerging_factors.toml"


# --------------------------------------------------------------------------- factors file
def load_emerging_factors(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check a factors file in the layout of ``data/emerging_factors.toml``.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file of the same layout; default: the package's own file.

    Returns
    -------
    dict
        The parsed tables (see the file for every field and its unit).

    Raises
    ------
    trajectoire.InputError
        A missing table or field, class shares that do not sum to one in a year, anchor
        years not increasing, a negative factor or a fraction outside [0, 1]; the message
        names the file, the table, the field and the value.
    """
    if path is None:
        return _builtin_factors()
    p = Path(path)
    try:
        table = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"emerging factors {p}: cannot be read ({exc}).") from None
    _check_factors(table, str(p))
    return table


@functools.cache
def _builtin_factors() -> dict[str, Any]:
    text = resources.files("trajectoire.data").joinpath(_FILE).read_text(encoding="utf-8")
    table = tomllib.loads(text)
    _check_factors(table, f"trajectoire/data/{_FILE}")
    return table


def _fail(name: str, where: str, value: Any, expected: str) -> InputError:
    return InputError(
        f"emerging factors {name}, {where}: {value!r}; expected {expected} (fix the file, or "
        "pass another one with load_emerging_factors(path) and factors=...)."
    )


def _get(table: Mapping[str, Any], keys: str, name: str) -> Any:
    node: Any = table
    for k in keys.split("."):
        if not isinstance(node, Mapping) or k not in node:
            raise _fail(name, f"[{keys}]", None, f"the table or field {keys!r}")
        node = node[k]
    return node


def _check_anchor(node: Mapping[str, Any], field: str, where: str, name: str) -> None:
    years = node.get("years")
    values = node.get(field)
    if not isinstance(years, list) or not isinstance(values, list) or len(years) != len(values):
        raise _fail(name, f"[{where}] years / {field}", values, "two lists of the same length")
    if any(b <= a for a, b in zip(years, years[1:], strict=False)):
        raise _fail(name, f"[{where}] years", years, "strictly increasing years")
    bad = [v for v in values if not (isinstance(v, int | float) and v >= 0 and math.isfinite(v))]
    if bad:
        raise _fail(name, f"[{where}] {field}", bad[0], "finite values >= 0")


def _check_factors(table: Mapping[str, Any], name: str) -> None:
    fleet = _get(table, "fleet", name)
    classes = fleet.get("classes")
    if list(classes or []) != list(VEHICLE_CLASSES):
        raise _fail(name, "[fleet] classes", classes, f"{list(VEHICLE_CLASSES)}")
    shares = _get(table, "fleet.class_shares", name)
    for c in VEHICLE_CLASSES:
        _check_anchor(shares, c, "fleet.class_shares", name)
    total = np.sum([shares[c] for c in VEHICLE_CLASSES], axis=0)
    for y, s in zip(shares["years"], total, strict=True):
        if abs(s - 1.0) > 1e-6:
            raise _fail(
                name, f"[fleet.class_shares] sum over classes in {y}", round(float(s), 9), "1"
            )
    for key in (
        "fleet.traffic_index",
        "ufp.aviation.lto_index",
        "ufp.wood.factor_index",
        "ufp.wood.fuel_index",
    ):
        _check_anchor(_get(table, key, name), "value", key, name)
    _check_anchor(_get(table, "pfas.PFOA", name), "index", "pfas.PFOA", name)
    surv = _get(table, "fleet.survival", name)
    for field in ("life", "shape", "mileage_decay"):
        for c in VEHICLE_CLASSES:
            v = _get(surv, f"{field}.{c}", name)
            if not (isinstance(v, int | float) and v >= 0 and (v > 0 or field == "mileage_decay")):
                raise _fail(name, f"[fleet.survival] {field}.{c}", v, "a positive number")
    euro = _get(table, "fleet.euro", name)
    ufp = _get(table, "ufp.road", name)
    for c in VEHICLE_CLASSES:
        dates = _get(euro, c, name)
        stds = [s for s in EURO_STANDARDS[1:] if s in dates]
        if [dates[s] for s in stds] != sorted(dates[s] for s in stds) or set(dates) - set(stds):
            raise _fail(name, f"[fleet.euro] {c}", dates, "increasing years of euro1..euro6d")
        for s in ("pre", *stds):
            v = _get(ufp, f"{c}.{s}", name) if s in ufp.get(c, {}) else None
            if not (isinstance(v, int | float) and v >= 0):
                raise _fail(name, f"[ufp.road] {c}.{s}", v, "a factor >= 0 [particles km-1]")
    for part in ("trwp.tyre", "trwp.road"):
        for c in VEHICLE_CLASSES:
            v = _get(table, f"{part}.{c}", name)
            if not (isinstance(v, int | float) and v >= 0):
                raise _fail(name, f"[{part}] {c}", v, "a factor >= 0 [g km-1]")
    for field in ("tyre_pm10", "road_pm10"):
        v = _get(table, f"trwp.size.{field}", name)
        if not (isinstance(v, int | float) and 0 <= v <= 1):
            raise _fail(name, f"[trwp.size] {field}", v, "a fraction in [0, 1]")
    for sub, node in _get(table, "pesticide", name).items():
        for field in ("treated_share", "volatilised_fraction"):
            v = node.get(field)
            if not (isinstance(v, int | float) and 0 <= v <= 1):
                raise _fail(name, f"[pesticide.{sub}] {field}", v, "a fraction in [0, 1]")
        if not (isinstance(node.get("dose"), int | float) and node["dose"] >= 0):
            raise _fail(name, f"[pesticide.{sub}] dose", node.get("dose"), "kg ha-1 >= 0")
        _check_anchor(_get(node, "use_index", name), "value", f"pesticide.{sub}.use_index", name)


def _factors(factors: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _builtin_factors() if factors is None else factors


def _years(years: int | Iterable[int]) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(years))
    if arr.size == 0 or not np.all(np.equal(np.mod(arr, 1), 0)):
        raise InputError(f"emerging emissions: years {years!r}; expected whole years.")
    return arr.astype(np.int64)


def _one_value(value: Any, name: str, caller: str, expected: str) -> None:
    """Refuse a list or array where a function takes one value (a year, a speed): it used to
    take the first year silently, or fail on a bare TypeError."""
    if np.ndim(value) != 0:
        raise InputError(
            f"{caller}: {name}={value!r}; expected {expected} (call it once per {name})."
        )


def yearly_index(
    anchors: Mapping[str, Any], years: int | Iterable[int], field: str = "value"
) -> np.ndarray:
    """Piecewise-linear index between anchor years, held constant outside them.

    Parameters
    ----------
    anchors : mapping
        ``{"years": [...], field: [...]}`` (a table of the factors file).
    years : int or iterable of int
        Years wanted.
    field : str, default "value"
        Key of the values in `anchors`.

    Returns
    -------
    numpy.ndarray
        The index in each year [1].

    Examples
    --------
    >>> yearly_index({"years": [2000, 2010], "value": [1.0, 0.0]}, [1990, 2005, 2020]).tolist()
    [1.0, 0.5, 0.0]
    """
    y = _years(years)
    return np.interp(y, np.asarray(anchors["years"], float), np.asarray(anchors[field], float))


def _to_units(values: Any, species: str, units: str | None) -> Any:
    """Values in the canonical emission unit of `species` expressed in `units`."""
    if units is None:
        return values
    return values / emission_factor(species, units, what=f"requested units of {species}")


# --------------------------------------------------------------------------- road fleet
def traffic_index(
    years: int | Iterable[int], *, factors: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Total road vehicle-km [1, 2018 = 1] of ``[fleet.traffic_index]`` in each year."""
    return yearly_index(_factors(factors)["fleet"]["traffic_index"], years)


def class_shares(
    years: int | Iterable[int], *, factors: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Share of the road vehicle-km of each vehicle class [1].

    Linear between the anchor years of ``[fleet.class_shares]``, held constant outside;
    every row sums to one (each anchor year does, and the interpolation is linear).

    Returns
    -------
    pandas.DataFrame
        Index ``year``, one column per class of :data:`VEHICLE_CLASSES`.
    """
    tab = _factors(factors)["fleet"]["class_shares"]
    y = _years(years)
    data = {c: yearly_index(tab, y, field=c) for c in VEHICLE_CLASSES}
    out = pd.DataFrame(data, index=pd.Index(y, name="year"))
    return out.div(out.sum(axis=1), axis=0)


def _standard_of_vintage(vintages: np.ndarray, dates: Mapping[str, int]) -> np.ndarray:
    """Index into :data:`EURO_STANDARDS` of the standard of each registration year."""
    idx = np.zeros(vintages.shape, dtype=np.int64)
    for k, s in enumerate(EURO_STANDARDS):
        if s in dates:
            idx[vintages >= dates[s]] = k
    return idx


def euro_shares(
    years: int | Iterable[int],
    vehicle_class: str,
    *,
    factors: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Share of a class's vehicle-km driven by each emission standard in each year [1].

    The vintage ``v`` (registration year) carries in year ``y`` the weight

    .. math:: w(y, v) = R(v)\\, S(y - v)\\, m(y - v), \\qquad
              S(a) = e^{-(a/L)^k}, \\quad m(a) = e^{-d a}

    (registrations ``R`` proportional to the class's vehicle-km share in year ``v``,
    Weibull survival of characteristic life ``L`` [yr] and shape ``k``, yearly mileage
    falling by ``d`` [yr-1] with age), for ``a = 0 .. max_age``; a vintage drives the
    standard in force for new registrations in year ``v`` (``[fleet.euro]``). Rows sum to one.

    Parameters
    ----------
    years : int or iterable of int
        Years wanted.
    vehicle_class : str
        One of :data:`VEHICLE_CLASSES`.
    factors : mapping, optional
        Tables of :func:`load_emerging_factors` (default: the package file).

    Returns
    -------
    pandas.DataFrame
        Index ``year``, one column per standard of :data:`EURO_STANDARDS` (zero where the
        class has no such standard).

    Raises
    ------
    trajectoire.InputError
        Unknown vehicle class.
    """
    if vehicle_class not in VEHICLE_CLASSES:
        raise InputError(
            f"euro_shares: vehicle class {vehicle_class!r}; expected one of {list(VEHICLE_CLASSES)}."
        )
    f = _factors(factors)
    surv = f["fleet"]["survival"]
    life = float(surv["life"][vehicle_class])
    shape = float(surv["shape"][vehicle_class])
    decay = float(surv["mileage_decay"][vehicle_class])
    max_age = int(surv["max_age"])
    y = _years(years)
    ages = np.arange(max_age + 1)
    weight_age = np.exp(-((ages / life) ** shape)) * np.exp(-decay * ages)
    out = np.zeros((y.size, len(EURO_STANDARDS)))
    for i, year in enumerate(y):
        vintages = year - ages
        reg = yearly_index(f["fleet"]["class_shares"], vintages, field=vehicle_class)
        w = reg * weight_age
        std = _standard_of_vintage(vintages, f["fleet"]["euro"][vehicle_class])
        np.add.at(out[i], std, w)
        out[i] /= w.sum()
    return pd.DataFrame(out, index=pd.Index(y, name="year"), columns=list(EURO_STANDARDS))


def fleet_composition(
    years: int | Iterable[int], *, factors: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Share of the total road vehicle-km per vehicle class and standard in each year [1].

    The product of :func:`class_shares` and :func:`euro_shares`; the shares of one year sum
    to one.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``vehicle_class``, ``euro``, ``share`` (rows with a zero share
        left out).

    Examples
    --------
    >>> fc = fleet_composition([1990, 2023])
    >>> fc.groupby("year")["share"].sum().round(12).tolist()
    [1.0, 1.0]
    """
    y = _years(years)
    cs = class_shares(y, factors=factors)
    parts = []
    for c in VEHICLE_CLASSES:
        es = euro_shares(y, c, factors=factors).mul(cs[c], axis=0)
        long = pd.DataFrame(
            {
                "year": np.repeat(es.index.to_numpy(), len(EURO_STANDARDS)),
                "vehicle_class": c,
                "euro": np.tile(np.asarray(EURO_STANDARDS), len(es)),
                "share": es.to_numpy().ravel(),
            }
        )
        parts.append(long[long["share"] > 0])
    return pd.concat(parts, ignore_index=True)


def _group_mean(
    years: np.ndarray, per_class: Mapping[str, np.ndarray], factors: Mapping[str, Any]
) -> pd.DataFrame:
    """Vehicle-km-weighted mean of a per-class yearly factor over light, heavy and all."""
    cs = class_shares(years, factors=factors)
    groups = factors["fleet"]["groups"]
    out = {}
    for g in ("light", "heavy", "all"):
        members = [c for c in VEHICLE_CLASSES if g == "all" or groups[c] == g]
        w = cs[members].to_numpy()
        v = np.stack([per_class[c] for c in members], axis=1)
        out[g] = (w * v).sum(axis=1) / w.sum(axis=1)
    return pd.DataFrame(out, index=pd.Index(years, name="year"))


# --------------------------------------------------------------------------- UFP
def ufp_road_factors(
    years: int | Iterable[int], *, factors: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Fleet-average particle-number exhaust factor of light, heavy and all vehicles.

    .. math:: EF_g(y) = \\frac{\\sum_{c \\in g} s_c(y) \\sum_e f_{c,e}(y) EF_{c,e}}
                              {\\sum_{c \\in g} s_c(y)}

    with ``s_c`` the class shares, ``f_{c,e}`` the standard shares and ``EF_{c,e}`` the
    factors of ``[ufp.road]`` [particles km-1].

    Returns
    -------
    pandas.DataFrame
        Index ``year``, columns ``light``, ``heavy``, ``all`` [particles km-1 veh-1].
    """
    f = _factors(factors)
    y = _years(years)
    per_class = {}
    for c in VEHICLE_CLASSES:
        es = euro_shares(y, c, factors=f)
        ef = np.array([float(f["ufp"]["road"][c].get(s, 0.0)) for s in EURO_STANDARDS])
        per_class[c] = es.to_numpy() @ ef
    return _group_mean(y, per_class, f)


def ufp_road_emissions(
    vkm_light: npt.ArrayLike,
    vkm_heavy: npt.ArrayLike,
    year: int,
    *,
    factors: Mapping[str, Any] | None = None,
    units: str | None = None,
) -> np.ndarray:
    """UFP exhaust emissions of road traffic [particles yr-1].

    ``E = VKM_light EF_light(year) + VKM_heavy EF_heavy(year)`` (:func:`ufp_road_factors`).

    Parameters
    ----------
    vkm_light, vkm_heavy : array_like
        Vehicle-km per year of light and heavy vehicles [km yr-1] (per road link, zone...).
    year : int
        Year of the fleet.
    factors : mapping, optional
        Tables of :func:`load_emerging_factors`.
    units : str, optional
        Units of the result, a number per time (default ``yr-1``); a mass unit raises.

    Returns
    -------
    numpy.ndarray
        Emissions [particles yr-1], the shape of the broadcast inputs.

    Raises
    ------
    trajectoire.InputError
        Negative or non-finite vehicle-km; a list or array of years (one year a call).
    trajectoire.UnitsError
        `units` is a mass per time (particle numbers never mix with masses).
    """
    _one_value(year, "year", "ufp_road_emissions", "one year")
    light, heavy = _activity(vkm_light, "vkm_light"), _activity(vkm_heavy, "vkm_heavy")
    ef = ufp_road_factors(year, factors=factors).iloc[0]
    return _to_units(light * ef["light"] + heavy * ef["heavy"], "UFP", units)


def _activity(values: npt.ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        first = arr.ravel()[np.flatnonzero(bad.ravel())[0]]
        raise InputError(
            f"emerging emissions: {what} holds {int(bad.sum())} negative or non-finite "
            f"value(s), e.g. {first!r}; expected activity >= 0."
        )
    return arr


def ufp_airport_emissions(
    lto: npt.ArrayLike,
    *,
    per_lto: float | None = None,
    factors: Mapping[str, Any] | None = None,
    units: str | None = None,
) -> np.ndarray:
    """UFP emissions of an airport's landing/take-off cycles [particles yr-1].

    ``E = N_LTO x PN_LTO``, ``PN_LTO`` [particles LTO-1] from ``[ufp.aviation] per_lto``
    (illustrative; see the file) unless `per_lto` is given.

    Parameters
    ----------
    lto : array_like
        Landing/take-off cycles per year [LTO yr-1].
    per_lto : float, optional
        Particles per LTO cycle.
    factors : mapping, optional
        Tables of :func:`load_emerging_factors`.
    units : str, optional
        Units of the result, a number per time (default ``yr-1``).

    Returns
    -------
    numpy.ndarray
        Emissions [particles yr-1].
    """
    n = _activity(lto, "lto")
    pn = float(_factors(factors)["ufp"]["aviation"]["per_lto"] if per_lto is None else per_lto)
    if not (pn >= 0 and math.isfinite(pn)):
        raise InputError(f"ufp_airport_emissions: per_lto={pn!r}; expected particles per LTO >= 0.")
    return _to_units(n * pn, "UFP", units)


def ufp_wood_emissions(
    fuel_gj: npt.ArrayLike,
    year: int,
    *,
    reference_year: int = 2018,
    factors: Mapping[str, Any] | None = None,
    units: str | None = None,
) -> np.ndarray:
    """UFP emissions of residential wood burning [particles yr-1].

    ``E = Q x EF_wood x I(year) / I(reference_year)``: the fuel use `fuel_gj` of `year`
    [GJ yr-1] times the reference-year factor ``[ufp.wood] per_gj`` [particles GJ-1] and
    the appliance-renewal index ``[ufp.wood.factor_index]``.

    Returns
    -------
    numpy.ndarray
        Emissions [particles yr-1].
    """
    _one_value(year, "year", "ufp_wood_emissions", "one year")
    q = _activity(fuel_gj, "fuel_gj")
    wood = _factors(factors)["ufp"]["wood"]
    idx = yearly_index(wood["factor_index"], [year, reference_year])
    return _to_units(q * float(wood["per_gj"]) * idx[0] / idx[1], "UFP", units)


# --------------------------------------------------------------------------- tyre and road wear
def tyre_speed_correction(
    speed: npt.ArrayLike, *, factors: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Tyre wear speed correction of the EMEP/EEA Guidebook (1.A.3.b.vi-vii) [1].

    ``1.39`` below 40 km h-1, ``-0.00974 V + 1.78`` from 40 to 90 km h-1, ``0.902`` above
    (the values of ``[trwp.speed]``).

    Examples
    --------
    >>> tyre_speed_correction([30.0, 60.0, 120.0]).round(4).tolist()
    [1.39, 1.1956, 0.902]
    """
    sp = _factors(factors)["trwp"]["speed"]
    v = _activity(speed, "speed")
    mid = sp["slope"] * v + sp["intercept"]
    return np.where(v < sp["v_low"], sp["low"], np.where(v > sp["v_high"], sp["high"], mid))


def trwp_factors(
    years: int | Iterable[int],
    *,
    speed: float | None = None,
    factors: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Fleet-average tyre + road wear factors, airborne and coarse [g km-1 veh-1].

    Per class ``c``: ``TSP_c = S(V) T_c + R_c`` (tyre wear ``T_c`` with the speed correction
    ``S(V)`` of :func:`tyre_speed_correction`, 1 when `speed` is None; road surface wear
    ``R_c``); airborne ``TRWP_c = f_T S(V) T_c + f_R R_c`` (PM10 fractions of
    ``[trwp.size]``), coarse ``TRWP_coarse_c = TSP_c - TRWP_c``; then averaged over the
    light and heavy classes with the vehicle-km shares of the year.

    Returns
    -------
    pandas.DataFrame
        Index ``year``, columns ``(species, group)``: species ``TRWP`` and ``TRWP_coarse``,
        group ``light``, ``heavy``, ``all``.
    """
    f = _factors(factors)
    y = _years(years)
    if speed is not None:
        _one_value(speed, "speed", "trwp_factors", "one mean speed [km h-1]")
    st = 1.0 if speed is None else float(tyre_speed_correction(speed, factors=f))
    size = f["trwp"]["size"]
    out = {}
    for sp in ("TRWP", "TRWP_coarse"):
        per_class = {}
        for c in VEHICLE_CLASSES:
            tyre = st * float(f["trwp"]["tyre"][c])
            road = float(f["trwp"]["road"][c])
            air = size["tyre_pm10"] * tyre + size["road_pm10"] * road
            value = air if sp == "TRWP" else (tyre + road) - air
            per_class[c] = np.full(y.size, value)
        g = _group_mean(y, per_class, f)
        for col in g.columns:
            out[(sp, col)] = g[col].to_numpy()
    return pd.DataFrame(out, index=pd.Index(y, name="year"))


def tyre_road_wear(
    vkm_light: npt.ArrayLike,
    vkm_heavy: npt.ArrayLike,
    year: int,
    *,
    speed: float | None = None,
    factors: Mapping[str, Any] | None = None,
    units: str | None = None,
) -> dict[str, np.ndarray]:
    """Tyre and road wear particles of road traffic, split by size [t yr-1].

    ``TRWP`` (airborne, below 10 um: dispersed) and ``TRWP_coarse`` (deposited in the cell
    of the road it is emitted on, not dispersed); their sum is the suspended wear (TSP) of
    the Guidebook: ``E_s = (VKM_light EF_s,light + VKM_heavy EF_s,heavy) / 1e6``
    (:func:`trwp_factors`, g to t).

    Parameters
    ----------
    vkm_light, vkm_heavy : array_like
        Vehicle-km per year of light and heavy vehicles [km yr-1] (per road link: the
        ``TRWP_coarse`` of a link belongs to the cells the link crosses, by length).
    year : int
        Year of the fleet mix.
    speed : float, optional
        Mean speed [km h-1] for the tyre wear correction (none when None).
    factors : mapping, optional
        Tables of :func:`load_emerging_factors`.
    units : str, optional
        Units of the result, a mass per time (default ``t yr-1``); a number unit raises.

    Returns
    -------
    dict of str to numpy.ndarray
        ``{"TRWP": ..., "TRWP_coarse": ...}`` [t yr-1].

    Raises
    ------
    trajectoire.InputError
        Negative or non-finite vehicle-km or speed; a list or array of years or speeds (one
        of each a call).
    """
    _one_value(year, "year", "tyre_road_wear", "one year")
    if speed is not None:
        _one_value(speed, "speed", "tyre_road_wear", "one mean speed [km h-1]")
    light, heavy = _activity(vkm_light, "vkm_light"), _activity(vkm_heavy, "vkm_heavy")
    ef = trwp_factors(year, speed=speed, factors=factors).iloc[0]
    out = {}
    for sp in ("TRWP", "TRWP_coarse"):
        grams = light * ef[(sp, "light")] + heavy * ef[(sp, "heavy")]
        out[sp] = _to_units(grams / _GRAMS_PER_TONNE, "TRWP", units)
    return out


# --------------------------------------------------------------------------- pesticides
def pesticide_emissions(
    area_ha: npt.ArrayLike,
    substance: str,
    *,
    year: int | None = None,
    reference_year: int = 2018,
    dose: float | None = None,
    treated_share: float | None = None,
    volatilised_fraction: float | None = None,
    factors: Mapping[str, Any] | None = None,
    units: str | None = None,
) -> np.ndarray:
    """Volatilisation emissions of a pesticide active substance [t yr-1].

    .. math:: E = A \\; \\phi \\; D \\; f_v \\; U(y) / U(y_{ref}) \\; / 1000

    with ``A`` the arable (or crop) area [ha], ``phi`` the share of it treated [1], ``D``
    the dose [kg ha-1 yr-1], ``f_v`` the fraction of the applied dose volatilised [1] and
    ``U`` the national use index (``[pesticide.<substance>.use_index]``; 1 when `year` is
    None). Defaults from ``[pesticide.<substance>]``.

    Parameters
    ----------
    area_ha : array_like
        Arable area [ha].
    substance : str
        Active substance, a table of ``[pesticide]`` (``"S-metolachlor"``).
    year : int, optional
        Year of the emission (scales with the use index).
    reference_year : int, default 2018
        Year the dose and treated share describe.
    dose, treated_share, volatilised_fraction : float, optional
        Overrides of the file's values.
    factors : mapping, optional
        Tables of :func:`load_emerging_factors`.
    units : str, optional
        Units of the result, a mass per time (default ``t yr-1``).

    Returns
    -------
    numpy.ndarray
        Emissions [t yr-1].

    Raises
    ------
    trajectoire.InputError
        A substance without a ``[pesticide]`` table, a fraction outside [0, 1], a negative
        dose or area.
    """
    table = _factors(factors).get("pesticide", {})
    if substance not in table:
        raise InputError(
            f"pesticide_emissions: no factors for active substance {substance!r} in the "
            f"emerging factors ([pesticide] tables: {sorted(table)}); add a "
            f"[pesticide.{substance}] table to a factors file and pass it as factors=."
        )
    node = table[substance]
    a = _activity(area_ha, "area_ha")
    d = float(node["dose"] if dose is None else dose)
    share = float(node["treated_share"] if treated_share is None else treated_share)
    fv = float(
        node["volatilised_fraction"] if volatilised_fraction is None else volatilised_fraction
    )
    for name, v, hi in (
        ("dose", d, math.inf),
        ("treated_share", share, 1.0),
        ("volatilised_fraction", fv, 1.0),
    ):
        if not (0.0 <= v <= hi):
            raise InputError(
                f"pesticide_emissions ({substance}): {name}={v!r}; expected a value in [0, {hi}]."
            )
    use = 1.0
    if year is not None:
        _one_value(year, "year", f"pesticide_emissions ({substance})", "one year")
        idx = yearly_index(node["use_index"], [year, reference_year])
        if not idx[1] > 0:
            raise InputError(
                f"pesticide_emissions ({substance}): the use index is 0 in the reference year "
                f"{reference_year}; expected a year the dose and treated share describe "
                "(pass reference_year=)."
            )
        use = float(idx[0] / idx[1])
    kg = a * share * d * fv * use
    return _to_units(kg / 1000.0, substance, units)


def monthly_split(
    total: npt.ArrayLike,
    sector: str,
    species: str | None = None,
    *,
    profiles: TemporalProfiles | None = None,
) -> np.ndarray:
    """Split yearly totals into 12 months with the month shares of a temporal profile.

    The ``"sector/species"`` profile when there is one (for example the application
    calendar ``"L_AgriOther/S-metolachlor"``), else the sector's; the months sum to the
    total to round-off.

    Returns
    -------
    numpy.ndarray
        Shape ``total.shape + (12,)``, in the units of `total`.
    """
    prof = (profiles or default_temporal_profiles()).profile(sector, species)
    return np.asarray(total, dtype=float)[..., None] * np.asarray(prof.month, dtype=float)


# --------------------------------------------------------------------------- PFAS
def pfoa_phase_out_index(
    years: int | Iterable[int], *, factors: Mapping[str, Any] | None = None
) -> np.ndarray:
    """PFOA phase-out index of fluorochemical plants [1, 1990 = 1] in each year.

    Linear between the anchors of ``[pfas.PFOA]``: the US EPA PFOA Stewardship Program
    (2006; -95 % by 2010, elimination by 2015) and the EU restriction (Regulations
    2017/1000 and 2020/784, from 4 July 2020); the post-2015 residual is illustrative.

    Examples
    --------
    >>> pfoa_phase_out_index([1995, 2010]).tolist()
    [1.0, 0.05]
    """
    return yearly_index(_factors(factors)["pfas"]["PFOA"], years, field="index")


def point_source_series(
    emission: float,
    years: int | Iterable[int],
    *,
    anchor_year: int,
    index: npt.ArrayLike,
    start_year: int | None = None,
    end_year: int | None = None,
) -> np.ndarray:
    """Yearly emission of a site from its figure in one year and a yearly index.

    ``E(y) = E(anchor) I(y) / I(anchor)`` while the site operates (``start_year <= y <=
    end_year``), 0 outside.

    Parameters
    ----------
    emission : float
        Emission in `anchor_year` [any unit; the result has the same].
    years : int or iterable of int
        Years wanted.
    anchor_year : int
        Year of `emission` (one of `years`).
    index : array_like
        Index in each of `years` (for PFOA: :func:`pfoa_phase_out_index`).
    start_year, end_year : int, optional
        First and last years of operation (None: open).

    Returns
    -------
    numpy.ndarray
        Emission in each year.

    Raises
    ------
    trajectoire.InputError
        `anchor_year` not among `years`, an index of the wrong length or zero in the anchor
        year, a negative emission.
    """
    y = _years(years)
    idx = np.asarray(index, dtype=float)
    if idx.shape != y.shape or anchor_year not in y:
        raise InputError(
            f"point_source_series: {idx.size} index values for {y.size} years with anchor "
            f"{anchor_year}; expected one value per year and the anchor among the years."
        )
    base = float(idx[np.flatnonzero(y == anchor_year)[0]])
    if not base > 0 or not emission >= 0:
        raise InputError(
            f"point_source_series: index {base!r} in the anchor year {anchor_year} and "
            f"emission {emission!r}; expected an index > 0 and an emission >= 0."
        )
    on = np.ones(y.shape, bool)
    if start_year is not None:
        on &= y >= start_year
    if end_year is not None:
        on &= y <= end_year
    return np.where(on, emission * idx / base, 0.0)
