"""The species registry: ids, names, unit families, removal parameters and thresholds.

The ids are the ones used as coordinate labels on the ``pollutant`` dimension. The built-in
table is the package data file ``data/species.toml`` (every number with its source); a user
file of the same layout adds species or overrides fields (:func:`load_species`, or
``[species] file`` in a run configuration).

Two unit families never mix: ``"mass"`` species (emissions in ``t yr-1``, concentrations in
``ug m-3``) and ``"number"`` species (ultrafine particles: emissions in particles ``yr-1``,
concentrations in ``cm-3``). :func:`emission_factor` converts an emission given in some units
to the species' canonical emission unit, and refuses a mass for a number species (and the
reverse).

Which registry is in use
    Every module asks :func:`current_species` (through :func:`normalise_pollutant`,
    :func:`get_pollutant`, :func:`known_species`), which returns the built-in registry unless
    a block runs inside :func:`use_species` (a context, like
    :func:`trajectoire.tables.dialect_defaults`). The batch run enters it with the registry of
    the configuration's ``[species]`` section. :data:`POLLUTANTS` stays the built-in table.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from trajectoire._validate import FrozenTable, did_you_mean, normalise_vocabulary
from trajectoire.errors import InputError, UnitsError, warn
from trajectoire.units import (
    UNIT_TABLE,
    conversion_factor,
    mixing_ratio_factor,
    normalise_units,
    unit_kind,
)

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "DEPOSITION_REFERENCES",
    "DEPOSITION_VELOCITY_RANGE",
    "HALF_LIFE_MIN",
    "MOLAR_MASS_MIN",
    "NOT_MODELLED",
    "NUMBER_SUFFIX",
    "POLLUTANTS",
    "REGULATED",
    "UNIT_FAMILIES",
    "Pollutant",
    "Species",
    "SpeciesRegistry",
    "Threshold",
    "builtin_species",
    "concentration_factor_of",
    "current_species",
    "deposition_velocity_of",
    "deposition_velocity_range",
    "emission_factor",
    "emission_units_of",
    "get_pollutant",
    "known_species",
    "load_species",
    "normalise_pollutant",
    "not_modelled",
    "read_species",
    "run_scale",
    "species_view",
    "thresholds_table",
    "use_species",
    "write_species",
]

#: unit families and the unit kinds (:data:`trajectoire.units.UNIT_TABLE`) of each
UNIT_FAMILIES: dict[str, dict[str, str]] = {
    "mass": {"emission": "emission_rate", "concentration": "concentration"},
    "number": {"emission": "number_rate", "concentration": "number_concentration"},
}
_DEFAULT_UNITS = {
    "mass": {"emission": "t yr-1", "concentration": "ug m-3"},
    "number": {"emission": "yr-1", "concentration": "cm-3"},
}
#: conversions a species can be derived by ("no2": the NOx -> NO2 conversion of the run)
CONVERSIONS = ("no2",)
_AVERAGING = ("year", "day", "hour")


@dataclass(frozen=True)
class Threshold:
    """A reference concentration of a species, with where it comes from.

    Attributes
    ----------
    value : float
        In `units`.
    units : str
        ``ug m-3`` for mass species, ``cm-3`` for particle numbers.
    averaging : {"year", "day", "hour"}
        Averaging period of the value.
    label : str
        Short id of the set it belongs to (``"WHO2021"``, ``"EU2030"``, ``"EU2008"``...).
    source : str
        The text it comes from.
    """

    value: float
    units: str
    averaging: str
    label: str
    source: str


@dataclass(frozen=True)
class Pollutant:
    """Description of one species (pollutant).

    Attributes
    ----------
    id : str
        Coordinate label (``"NOx"``, ``"PM2.5"``, ``"UFP"``...).
    name : str
        Human-readable name.
    emission_units : str
        Units of a yearly emission per cell (UDUNITS spelling): ``t yr-1`` for mass
        species, ``yr-1`` (particles per year) for number species.
    concentration_units : str
        Units of an ambient concentration: ``ug m-3``, or ``cm-3`` for number species.
    molar_mass : float or None
        [g mol-1], for gases and defined substances (NOx counted as NO2).
    linear : bool
        Whether concentration is linear in emissions in trajectoire's model (False for NO2,
        which is derived from NOx by a non-linear conversion).
    emerging : bool
        One of the emerging pollutants studied by the regional programme.
    deposition_velocity : float or None
        Representative dry deposition velocity [m s-1] at about 1-2 m over mixed (urban,
        grass and crop) land in north-western Europe; None where no default is known (a run
        that turns ``[dispersion] dry_deposition`` on then needs ``[dispersion]
        deposition_velocity`` for it). Sources in :attr:`references`.
    half_life : float or None
        Half-life [s] of a first-order loss that applies to the species (None: none).
        Reference data: a run does not apply it yet.
    unit_family : {"mass", "number"}
        What the amounts count: a mass, or a number of particles. The two never mix.
    conversion : {"no2"} or None
        ``"no2"``: derived from :attr:`precursor` by the run's NOx -> NO2 conversion.
    precursor : str or None
        The species whose emissions it comes from (``"NOx"`` for NO2).
    regulated : bool
        A regulated pollutant of the EU ambient air quality directives.
    thresholds : tuple of Threshold
        Reference values (WHO 2021 guidelines, EU limit values...), each with its source;
        empty where none exists.
    aliases : tuple of str
        Other spellings accepted on input (case-insensitive).
    properties : mapping of str to float
        Species-specific numbers (vapour pressure [Pa], size fractions...), documented in
        :attr:`references`.
    references : mapping of str to str
        Where each number comes from, by field name.
    deposited_at_source : bool
        Not dispersed: the whole emission falls in the cell it is emitted in (coarse tyre
        and road wear, ``TRWP_coarse``). A run writes its emission divided by the cell area
        as a deposition flux and never disperses it; a mass species only.
    """

    id: str
    name: str
    emission_units: str = "t yr-1"
    concentration_units: str = "ug m-3"
    molar_mass: float | None = None
    linear: bool = True
    emerging: bool = False
    deposition_velocity: float | None = None
    half_life: float | None = None
    unit_family: str = "mass"
    conversion: str | None = None
    precursor: str | None = None
    regulated: bool = False
    thresholds: tuple[Threshold, ...] = ()
    aliases: tuple[str, ...] = ()
    properties: Mapping[str, float] = field(default_factory=dict, hash=False)
    references: Mapping[str, str] = field(default_factory=dict, hash=False)
    deposited_at_source: bool = False

    @property
    def decay_rate(self) -> float:
        """First-order loss rate ``ln 2 / half_life`` [s-1] (0 without a half-life)."""
        return 0.0 if self.half_life is None else math.log(2.0) / self.half_life

    @property
    def is_number(self) -> bool:
        """Whether the species counts particles (unit family ``"number"``)."""
        return self.unit_family == "number"

    def threshold(self, label: str, averaging: str = "year") -> Threshold | None:
        """The threshold of a set (``"WHO2021"``...) for an averaging period, or None."""
        for t in self.thresholds:
            if t.label == label and t.averaging == averaging:
                return t
        return None


#: Another name for :class:`Pollutant` (the issue's word).
Species = Pollutant

_FIELD_NAMES = tuple(f.name for f in fields(Pollutant) if f.name != "id")
_THRESHOLD_FIELDS = tuple(f.name for f in fields(Threshold))


# ---------------------------------------------------------------------------- the registry
class SpeciesRegistry(FrozenTable[Pollutant]):
    """An ordered, read-only table of species with their aliases.

    Parameters
    ----------
    species : iterable of Pollutant
        The species, in order (ids unique).
    sources : iterable of str, optional
        The files it was read from, for messages and provenance.

    Examples
    --------
    >>> reg = builtin_species()
    >>> reg.normalise("pm2_5"), reg["UFP"].unit_family
    ('PM2.5', 'number')
    """

    def __init__(self, species: Iterable[Pollutant], *, sources: Iterable[str] = ()) -> None:
        table: dict[str, Pollutant] = {}
        for s in species:
            if s.id in table:
                raise InputError(f"species registry: id {s.id!r} defined twice; define it once.")
            table[s.id] = s
        clashes = _alias_clashes([(s.id, s.aliases) for s in table.values()], {})
        if clashes:
            sid, clash = clashes[0]
            raise InputError(f"species registry: species {sid!r}: {clash}.")
        self._table = MappingProxyType(table)
        self.sources: tuple[str, ...] = tuple(sources)
        aliases: dict[str, str] = {}
        for s in table.values():
            aliases.setdefault(s.id.lower(), s.id)
        for s in table.values():
            for a in s.aliases:
                aliases[a.lower()] = s.id
        self._aliases = MappingProxyType(aliases)

    def __repr__(self) -> str:
        extra = f", sources={list(self.sources)}" if self.sources else ""
        return f"SpeciesRegistry({list(self._table)}{extra})"

    @property
    def aliases(self) -> Mapping[str, str]:
        """Lower-case spelling -> id (every id's lower case included)."""
        return self._aliases

    def normalise(self, name: str, *, what: str = "pollutant") -> str:
        """The canonical id of a species name or alias (see :func:`normalise_pollutant`)."""
        expected = (
            f"one of {list(self)} (case-insensitive aliases such as 'PM2_5' or 'SOx' are "
            "accepted; add a species with a species file, [species] file in the configuration)."
        )
        return normalise_vocabulary(
            name, self._table, self._aliases, what=what, kind="pollutant", expected=expected
        )

    def species(self, name: str) -> Pollutant:
        """The :class:`Pollutant` of an id or alias."""
        return self._table[self.normalise(name)]

    def extended(self, other: Iterable[Pollutant], *, source: str | None = None) -> SpeciesRegistry:
        """A registry with `other`'s species added, or replacing those of the same id."""
        table = dict(self._table)
        for s in other:
            table[s.id] = s
        return SpeciesRegistry(table.values(), sources=self.sources + ((source,) if source else ()))

    def to_toml(self) -> str:
        """The registry in the layout of ``data/species.toml`` (read back by
        :func:`read_species`)."""
        return _to_toml(self.values())


# ---------------------------------------------------------------------------- reading
def _entry_mistakes(sid: str, entry: Any, base: Pollutant | None) -> list[tuple[str | None, str]]:
    """The mistakes of one species table, one sentence each (empty: valid), with the field
    each is about (``"thresholds[0]"``, ``"properties.k"``; None: the table), for the line
    of the file that :func:`read_species` names."""
    if not isinstance(entry, Mapping):
        return [(None, f"expected a table [species.{sid}], got {type(entry).__name__}")]
    out: list[tuple[str | None, str]] = []
    for key in entry:
        if key not in _FIELD_NAMES:
            hint = did_you_mean(str(key), _FIELD_NAMES)
            out.append(
                (str(key), f"unknown field {key!r}{hint}; expected one of {list(_FIELD_NAMES)}")
            )
    if base is None:
        for key in ("name", "unit_family"):
            if key not in entry:
                out.append((None, f"new species without {key!r}; give it (required)"))
    checks: dict[str, tuple[type | tuple[type, ...], str]] = {
        "name": (str, "a string"),
        "emission_units": (str, "a string"),
        "concentration_units": (str, "a string"),
        "unit_family": (str, "'mass' or 'number'"),
        "conversion": (str, f"one of {list(CONVERSIONS)}"),
        "precursor": (str, "a species id"),
        "linear": (bool, "true or false"),
        "emerging": (bool, "true or false"),
        "regulated": (bool, "true or false"),
        "deposited_at_source": (bool, "true or false"),
        "molar_mass": ((int, float), "a number > 0 [g mol-1]"),
        "deposition_velocity": ((int, float), "a number in [0, 1] m s-1"),
        "half_life": ((int, float), "a number > 0 [s]"),
        "aliases": (list, "a list of strings"),
        "properties": (Mapping, "a table of numbers"),
        "references": (Mapping, "a table of strings"),
        "thresholds": (list, "an array of tables [[species.ID.thresholds]]"),
    }
    wrong_type: list[tuple[str | None, str]] = []
    for key, (types, expected) in checks.items():
        if key in entry:
            v = entry[key]
            ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in _as_tuple(types))
            if not ok:
                wrong_type.append((key, f"{key} = {v!r}; expected {expected}"))
    if wrong_type or (base is None and ("name" not in entry or "unit_family" not in entry)):
        return out + wrong_type
    family = entry.get("unit_family", base.unit_family if base else "mass")
    if family not in UNIT_FAMILIES:
        return out + [("unit_family", f"unit_family = {family!r}; expected 'mass' or 'number'")]
    if base is not None and family != base.unit_family:
        return out + [
            (
                "unit_family",
                f"unit_family = {family!r} changes the family of the existing species "
                f"({base.unit_family!r}: its units, thresholds and removal are given in it); "
                "a species keeps its family: define a new species under another id instead",
            )
        ]
    for which in ("emission", "concentration"):
        key = f"{which}_units"
        default = _DEFAULT_UNITS[family][which]
        units = entry.get(key, default if base is None or "unit_family" in entry else None)
        if units is None:
            units = getattr(base, key)
        out += [
            (key, m) for m in _units_mistakes("", key, units, family, UNIT_FAMILIES[family][which])
        ]
    mm = entry.get("molar_mass")
    if mm is not None and not (math.isfinite(mm) and mm > 0):
        out.append(("molar_mass", f"molar_mass = {mm!r}; expected a number > 0 [g mol-1]"))
    elif mm is not None and mm < MOLAR_MASS_MIN:
        out.append(
            (
                "molar_mass",
                f"molar_mass = {mm!r} g mol-1 is below that of a hydrogen atom "
                f"({MOLAR_MASS_MIN} g mol-1), impossible for any substance; kg mol-1 written "
                f"as g mol-1? {mm!r} kg mol-1 is {mm * 1000:g} g mol-1: write molar_mass = "
                f"{mm * 1000:g}",
            )
        )
    if mm is not None and family == "number":
        out.append(("molar_mass", "molar_mass given for a particle-number species; leave it out"))
    vd = entry.get("deposition_velocity")
    if vd is not None and not (math.isfinite(vd) and 0 <= vd <= 1):
        out.append(
            (
                "deposition_velocity",
                f"deposition_velocity = {vd!r}; expected 0 <= v_d <= 1 m s-1 (0.001 to 0.05 "
                "for gases and fine particles; convert cm s-1 to m s-1)",
            )
        )
    hl = entry.get("half_life")
    if hl is not None and not (math.isfinite(hl) and hl > 0):
        out.append(
            (
                "half_life",
                f"half_life = {hl!r}; expected a number > 0 [s] (leave it out for no loss)",
            )
        )
    if entry.get("deposited_at_source") and family == "number":
        out.append(
            (
                "deposited_at_source",
                "deposited_at_source = true for a particle-number species; only a mass "
                "(coarse particles falling in their emission cell) is deposited at source",
            )
        )
    if entry.get("deposited_at_source") and (entry.get("half_life") or entry.get("conversion")):
        out.append(
            (
                "deposited_at_source",
                "deposited_at_source = true with a half_life or a conversion; a species "
                "deposited in its emission cell is neither dispersed nor transformed",
            )
        )
    conv = entry.get("conversion")
    if conv is not None and conv not in CONVERSIONS:
        out.append(
            ("conversion", f"conversion = {conv!r}; expected one of {list(CONVERSIONS)} or none")
        )
    for k, v in entry.get("properties", {}).items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            out.append((f"properties.{k}", f"properties.{k} = {v!r}; expected a number"))
    for k, v in entry.get("references", {}).items():
        if not isinstance(v, str):
            out.append((f"references.{k}", f"references.{k} = {v!r}; expected a string"))
    for a in entry.get("aliases", []):
        if not isinstance(a, str) or not a.strip():
            out.append(("aliases", f"alias {a!r}; expected a non-empty string"))
    conc_kind = UNIT_FAMILIES[family]["concentration"]
    for i, t in enumerate(entry.get("thresholds", [])):
        at = f"thresholds[{i}]"
        out += [(at, m) for m in _threshold_mistakes(at, t, family, conc_kind)]
    return out


#: [g mol-1] the molar mass of a hydrogen atom, the lightest of any substance (IUPAC
#: standard atomic weight of H, 1.008): below it, a molar mass is in kg mol-1
MOLAR_MASS_MIN = 1.008
#: [m s-1] the dry deposition velocities of gases and particles below 10 um: about 0.01 to
#: 5 cm s-1 (Seinfeld and Pandis 2016, Atmospheric Chemistry and Physics, 3rd ed., ch. 19;
#: Zhang et al. 2001, Atmos. Environ. 35, 549, for particles; Zhang et al. 2003, Atmos.
#: Chem. Phys. 3, 2067, for gases: HNO3 over forest, the fastest, 4 to 5 cm s-1). Above
#: the upper end a velocity is warned about (cm s-1 written as m s-1), not refused: the
#: settling of particles of some 100 um is faster still.
DEPOSITION_VELOCITY_RANGE = (1e-4, 5e-2)
#: [s] the shortest half-life taken without a warning: 10 min. With a shorter one a species
#: is gone within a few kilometres of its source (at 3 m s-1); the first-order losses of
#: emitted pollutants take minutes to years (coagulation of nucleation-mode particles near
#: roads: minutes to hours, Ketzel and Berkowicz 2004, Atmos. Environ. 38, 2639; the
#: oxidation of SO2: hours to days), so a few seconds are most often hours or days.
HALF_LIFE_MIN = 600.0


def deposition_velocity_range() -> str:
    """The plausible dry deposition velocities (:data:`DEPOSITION_VELOCITY_RANGE`) in words,
    with their sources, for the messages of the species files and of ``[dispersion]
    deposition_velocity``."""
    low, high = DEPOSITION_VELOCITY_RANGE
    return (
        f"the dry deposition velocities of gases and particles, {low:g} to {high:g} m s-1 "
        f"({low * 100:g} to {high * 100:g} cm s-1: Seinfeld and Pandis 2016 ch. 19, Zhang et "
        "al. 2001 and 2003)"
    )


def _entry_doubts(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, sentence)`` of each value of a valid species table that is possible but
    most likely in the wrong unit (a warning, the value taken as written)."""
    out = []
    vd = entry.get("deposition_velocity")
    high = DEPOSITION_VELOCITY_RANGE[1]
    if vd is not None and vd > high:
        out.append(
            (
                "deposition_velocity",
                f"deposition_velocity = {vd:g} m s-1 is above {deposition_velocity_range()}; "
                f"cm s-1 written as m s-1? {vd:g} cm s-1 is {vd / 100:g} m s-1: "
                f"write deposition_velocity = {vd / 100:g}",
            )
        )
    hl = entry.get("half_life")
    if hl is not None and hl < HALF_LIFE_MIN:
        out.append(
            (
                "half_life",
                f"half_life = {hl:g} s is shorter than {HALF_LIFE_MIN:.0f} s (10 min): the "
                "species would be gone within a few kilometres of its source, while the "
                "first-order losses of emitted pollutants take minutes to years (coagulation "
                "of nucleation-mode particles: minutes to hours, Ketzel and Berkowicz 2004); "
                f"hours or days written as seconds? {hl:g} h is {hl * 3600:.0f} s, {hl:g} "
                f"days {hl * 86400:.0f} s: write half_life in seconds",
            )
        )
    return out


def _field_line(text: str, sid: str, key: str | None = None) -> int | None:
    """The line (1-based) of ``key = ...`` in the table ``[species.<sid>]`` of a TOML
    `text`; with no `key`, of the table's header. ``"thresholds[i]"`` is the header of the
    i-th ``[[species.<sid>.thresholds]]``, ``"properties.k"`` the line of ``k`` in
    ``[species.<sid>.properties]`` (or of ``properties`` in the table: inline). None where
    it is not written so (an inline table, a dotted key)."""
    sub, nth, name = None, 0, key
    if key is not None and (m := re.fullmatch(r"(thresholds)\[(\d+)\]", key)):
        sub, nth, name = m[1], int(m[2]), None
    elif key is not None and "." in key:
        sub, name = key.split(".", 1)
    table: tuple[str | None, str | None] | None = None  # (species id, sub-table)
    seen = -1  # the sub-tables `sub` of the species met so far
    inline = None  # the line of ``sub = ...`` in the species table
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            m = _SPECIES_HEADER.fullmatch(stripped.split("#", 1)[0].strip())
            ids = [g for g in m.groups()[:3] if g is not None] if m else []
            table = (ids[0], m[4]) if m and ids else None
            if table == (sid, None) and key is None:
                return n
            if table == (sid, sub) and sub is not None:
                seen += 1
                if name is None and seen == nth:
                    return n
        elif table is not None and table[0] == sid:
            lhs = stripped.split("=", 1)[0].strip()
            if table[1] == sub and lhs == name and name is not None:
                return n
            if table[1] is None and sub is not None and lhs in (sub, key) and inline is None:
                inline = n
    return inline


#: the header of a species table, ``[species.PFOS]``, ``[species."PM2.5"]``, or of one of
#: its sub-tables, ``[species.PFOS.references]``, ``[[species.PFOS.thresholds]]`` (group 4)
_SPECIES_HEADER = re.compile(
    r"\[\[?\s*species\s*\.\s*(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))"
    r"\s*(?:\.\s*([A-Za-z0-9_-]+)\s*)?\]\]?"
)


def _alias_clashes(
    named: Iterable[tuple[str, Iterable[Any]]], known: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(id, sentence)`` per alias that already names another species: an id or alias of
    `known` (lower-case spelling -> id) or an id or earlier alias of `named` ``(id,
    aliases)`` (an alias naming two species would make one of them unreachable)."""
    named = list(named)
    owner = dict(known)
    for sid, _ in named:
        owner.setdefault(sid.lower(), sid)
    out = []
    for sid, aliases in named:
        for a in aliases:
            if not isinstance(a, str) or not a.strip():
                continue  # said by _entry_mistakes
            other = owner.setdefault(a.strip().lower(), sid)
            if other != sid:
                out.append(
                    (
                        sid,
                        f"alias {a!r} already names species {other!r}; an alias names one "
                        f"species: remove it from {sid!r}",
                    )
                )
    return out


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _units_mistakes(at: str, key: str, units: str, family: str, kind: str) -> list[str]:
    """The mistake of ``key = units`` (`at`: where, ``"thresholds[0]"``, or ``""`` for a
    field of the species table), or none."""
    at = f"{at}: " if at else ""
    try:
        normalise_units(units, kind, what=f"{at}{key}")
    except UnitsError:
        found = unit_kind(units)
        if found is not None and _family_of_kind(found) not in (None, family):
            return [
                f"{at}{key} = {units!r} is a {_family_of_kind(found)} unit but the species' "
                f"unit_family is {family!r}; particle numbers and masses never mix (use "
                f"{list(UNIT_TABLE[kind])})"
            ]
        return [f"{at}{key} = {units!r}; expected one of {list(UNIT_TABLE[kind])}"]
    return []


def _threshold_mistakes(at: str, t: Any, family: str, kind: str) -> list[str]:
    if not isinstance(t, Mapping):
        return [f"{at}: expected a table with {list(_THRESHOLD_FIELDS)}"]
    out = [f"{at}: missing {k!r}" for k in _THRESHOLD_FIELDS if k not in t]
    out += [
        f"{at}: unknown field {k!r}; expected {list(_THRESHOLD_FIELDS)}"
        for k in t
        if k not in _THRESHOLD_FIELDS
    ]
    if out:
        return out
    v = t["value"]
    if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
        out.append(f"{at}: value = {v!r}; expected a number > 0")
    if t["averaging"] not in _AVERAGING:
        out.append(f"{at}: averaging = {t['averaging']!r}; expected one of {list(_AVERAGING)}")
    for k in ("label", "source"):
        if not isinstance(t[k], str) or not t[k].strip():
            out.append(f"{at}: {k} = {t[k]!r}; expected a non-empty string (cite the source)")
    if isinstance(t["units"], str):
        out += _units_mistakes(at, "units", t["units"], family, kind)
    else:
        out.append(f"{at}: units = {t['units']!r}; expected a string")
    return out


def _family_of_kind(kind: str) -> str | None:
    for family, kinds in UNIT_FAMILIES.items():
        if kind in kinds.values():
            return family
    return None


def _build(sid: str, entry: Mapping[str, Any], base: Pollutant | None) -> Pollutant:
    """A :class:`Pollutant` from a validated table (fields over `base` when overriding)."""
    values: dict[str, Any] = {}
    family = entry.get("unit_family", base.unit_family if base else "mass")
    for key, v in entry.items():
        if key == "thresholds":
            v = tuple(
                Threshold(
                    value=float(t["value"]),
                    units=normalise_units(
                        t["units"], UNIT_FAMILIES[family]["concentration"], what="threshold"
                    ),
                    averaging=t["averaging"],
                    label=t["label"],
                    source=t["source"],
                )
                for t in v
            )
        elif key == "aliases":
            v = tuple(a.strip() for a in v)
        elif key in ("properties", "references"):
            v = {**(dict(getattr(base, key)) if base else {}), **dict(v)}
            if key == "properties":
                v = {k: float(x) for k, x in v.items()}
        elif key in ("molar_mass", "deposition_velocity", "half_life"):
            v = float(v)
        values[key] = v
    if base is None or "unit_family" in entry:
        for which in ("emission", "concentration"):
            key = f"{which}_units"
            units = values.get(key, _DEFAULT_UNITS[family][which])
            values[key] = normalise_units(units, UNIT_FAMILIES[family][which])
    if base is None:
        return Pollutant(id=sid, **values)
    return replace(base, **values)


def read_species(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base: Mapping[str, Pollutant] | None = None,
    what: str | None = None,
) -> list[Pollutant]:
    """Read the species of a TOML file in the layout of ``data/species.toml``.

    A table whose id (or alias) is in `base` overrides the fields it gives; any other table
    defines a new species and needs ``name`` and ``unit_family``.

    Parameters
    ----------
    source : path or mapping
        A TOML file, or its parsed content (``{"species": {id: table}}``).
    base : mapping of str to Pollutant, optional
        The species that tables may override (default: the built-in registry).
    what : str, optional
        Name of the source in messages (default: the path).

    Returns
    -------
    list of Pollutant
        The species of the file, complete (overrides merged onto their base).

    Raises
    ------
    trajectoire.InputError
        File missing or not TOML, or any mistake: one line per mistake (unknown field, a
        number-family species with mass units, a negative velocity, a molar mass below
        :data:`MOLAR_MASS_MIN` (kg mol-1), a threshold without a source...).

    Warns
    -----
    trajectoire.TrajectoireWarning
        A value possible but most likely in the wrong unit, one line each naming the file,
        the table, the line, the value, the plausible range and the likely mistake: a
        ``deposition_velocity`` above :data:`DEPOSITION_VELOCITY_RANGE` (cm s-1), a
        ``half_life`` below :data:`HALF_LIFE_MIN` (hours or days); the value is taken as
        written.
    """
    base = builtin_species() if base is None else base
    text = ""
    if isinstance(source, Mapping):
        data, name = source, what or "species table"
    else:
        path = Path(source)
        name = what or str(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except FileNotFoundError:
            raise InputError(
                f"{name}: species file not found (looked for {path.absolute()}); check the "
                "path ([species] file in the configuration is read relative to it)."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot read the species file ({exc}).") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{name}: not valid TOML ({exc}); fix the syntax there.") from None
    extra = [k for k in data if k != "species"]
    # (species id as the file writes it or None, field or None, sentence)
    mistakes: list[tuple[str | None, str | None, str]] = [
        (None, None, f"unknown top-level key {k!r}; expected only [species.ID] tables")
        for k in extra
    ]
    tables = data.get("species", {})
    if not isinstance(tables, Mapping):
        mistakes.append((None, None, "'species' must be a table of tables [species.ID]"))
        tables = {}
    aliases = {k.lower(): k for k in base}
    for s in base.values():
        aliases.update({a.lower(): s.id for a in s.aliases})
    resolved: list[tuple[str, Mapping[str, Any], Pollutant | None]] = []
    written: dict[str, str] = {}  # species id -> its table's id as written
    seen: dict[str, str] = {}  # lower-case id -> the table that defined it
    for sid, entry in tables.items():
        canon = aliases.get(str(sid).lower())
        key = (canon or str(sid)).lower()
        if not str(sid).strip():
            mistakes.append((str(sid), None, "an empty id; expected an id such as [species.PFOS]"))
        if key in seen:  # [species.PFOS] and [species.pfos]: the second one would win or hide
            mistakes.append(
                (
                    str(sid),
                    None,
                    f"defined twice, as [species.{seen[key]}] and [species.{sid}] (ids and "
                    "aliases are case-insensitive); define it once",
                )
            )
        seen.setdefault(key, str(sid))
        b = base[canon] if canon is not None else None
        mistakes += [(str(sid), f, m) for f, m in _entry_mistakes(str(sid), entry, b)]
        resolved.append((canon or str(sid), entry, b))
        written.setdefault(canon or str(sid), str(sid))
    mistakes += [
        (written.get(sid, sid), "aliases", m)
        for sid, m in _alias_clashes(
            [
                (sid, entry.get("aliases", []))
                for sid, entry, _ in resolved
                if isinstance(entry, Mapping) and isinstance(entry.get("aliases", []), list)
            ],
            aliases,
        )
    ]

    def place(sid: str | None, key: str | None) -> str:
        """``FILE, line 4: species 'X'``: the file, the line of `key` in the species' table
        (else of the table), the species."""
        if sid is None:
            return name
        line = (_field_line(text, sid, key) if key else None) or _field_line(text, sid)
        return f"{name}{f', line {line}' if line and text else ''}: species {sid!r}"

    if mistakes:
        # one line each, the first one on the first line (as the configuration's errors)
        lines = [f"{place(sid, key)}: {m}" for sid, key, m in mistakes]
        head = f"{lines[0]} (layout of a species file: docs/emerging.md)"
        if len(lines) > 1:
            more = len(lines) - 1
            head += f"\n  ({more} more mistake{'s' if more > 1 else ''}):\n  " + "\n  ".join(
                lines[1:]
            )
        raise InputError(head)
    for sid, entry in tables.items():
        for key, doubt in _entry_doubts(entry):
            line = _field_line(text, str(sid), key) if text else None
            at = f"[species.{_toml_key(str(sid))}]" + (f" (line {line})" if line else "")
            warn(
                f"{name}, {at}: {doubt} there (the species file, [species] file in a run). "
                "Taken as written.",
                stacklevel=1,
            )
    out = [_build(sid, entry, b) for sid, entry, b in resolved]
    known = {**{k: v for k, v in base.items()}, **{s.id: s for s in out}}
    for s in out:
        if s.precursor is not None and s.precursor not in known:
            raise InputError(
                f"{place(written.get(s.id, s.id), 'precursor')}: precursor "
                f"{s.precursor!r} is not a species; expected one of {list(known)}"
                f"{did_you_mean(s.precursor, known)}: define it in the file or fix the id."
            )
    return out


@functools.cache
def builtin_species() -> SpeciesRegistry:
    """The built-in registry, read from the package's ``data/species.toml`` (cached)."""
    text = resources.files("trajectoire").joinpath("data/species.toml").read_text("utf-8")
    species = read_species(tomllib.loads(text), base={}, what="data/species.toml")
    return SpeciesRegistry(species, sources=("trajectoire/data/species.toml",))


def load_species(
    path: str | os.PathLike[str] | None, *, base: SpeciesRegistry | None = None
) -> SpeciesRegistry:
    """The registry extended (or overridden) by a user species file.

    Parameters
    ----------
    path : path or None
        A TOML file in the layout of ``data/species.toml``; None returns `base` unchanged.
    base : SpeciesRegistry, optional
        Default: the built-in registry.

    Returns
    -------
    SpeciesRegistry

    Raises
    ------
    trajectoire.InputError
        See :func:`read_species`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "my_species.toml"
    >>> _ = p.write_text('[species.PFOS]\\nname = "PFOS"\\nunit_family = "mass"\\n')
    >>> reg = load_species(p)
    >>> reg["PFOS"].emission_units, reg.normalise("pfos")
    ('t yr-1', 'PFOS')
    """
    base = builtin_species() if base is None else base
    if path is None:
        return base
    return base.extended(read_species(path, base=base), source=str(path))


def write_species(registry: Iterable[Pollutant], path: str | os.PathLike[str]) -> Path:
    """Write species as TOML in the layout of ``data/species.toml`` (read back identically)."""
    p = Path(path)
    p.write_text(_to_toml(registry), encoding="utf-8")
    return p


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml_key(k: str) -> str:
    bare = all(c.isalnum() or c in "-_" for c in k)
    return k if bare and k else _toml_value(k)


def _to_toml(species: Iterable[Pollutant]) -> str:
    lines = ["# trajectoire species registry (layout of trajectoire/data/species.toml)"]
    for s in species:
        key = f"species.{_toml_key(s.id)}"
        lines += ["", f"[{key}]"]
        for f in fields(Pollutant):
            v = getattr(s, f.name)
            if f.name in ("id", "thresholds", "properties", "references") or v is None:
                continue
            lines.append(f"{f.name} = {_toml_value(list(v) if f.name == 'aliases' else v)}")
        for sub in ("properties", "references"):
            table = getattr(s, sub)
            if table:
                lines.append(f"[{key}.{sub}]")
                lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
        for t in s.thresholds:
            lines.append(f"[[{key}.thresholds]]")
            lines += [f"{k} = {_toml_value(getattr(t, k))}" for k in _THRESHOLD_FIELDS]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- in use
_CURRENT: contextvars.ContextVar[SpeciesRegistry | None] = contextvars.ContextVar(
    "trajectoire_species", default=None
)


def current_species() -> SpeciesRegistry:
    """The registry in use: the one given to :func:`use_species`, else the built-in one."""
    return _CURRENT.get() or builtin_species()


@contextlib.contextmanager
def use_species(registry: SpeciesRegistry | None) -> Iterator[SpeciesRegistry]:
    """Use `registry` for every species look-up in the block (None: the current one).

    The batch run wraps its year-independent work in it with the registry of the
    configuration's ``[species]`` section; a notebook can do the same. Context variables do
    not travel to other processes: a Dask worker sees the built-in registry unless the task
    enters the context itself.

    Examples
    --------
    >>> reg = builtin_species().extended([Pollutant("PFOS", "PFOS", emerging=True)])
    >>> with use_species(reg):
    ...     normalise_pollutant("pfos")
    'PFOS'
    """
    token = _CURRENT.set(registry or current_species())
    try:
        yield current_species()
    finally:
        _CURRENT.reset(token)


def known_species() -> tuple[str, ...]:
    """The ids of the registry in use, in order (what readers accept)."""
    return tuple(current_species())


def normalise_pollutant(name: str, *, what: str = "pollutant") -> str:
    """Return the canonical id of a pollutant name, accepting common spellings.

    Parameters
    ----------
    name : str
        A pollutant id or alias (case-insensitive): ``"nox"``, ``"PM2_5"``, ``"SOx"``...
    what : str
        Where the name comes from, used in the error message.

    Returns
    -------
    str
        The canonical id, a key of the registry in use (:func:`current_species`).

    Raises
    ------
    trajectoire.InputError
        If the name is not a known pollutant.

    Examples
    --------
    >>> normalise_pollutant("pm2_5")
    'PM2.5'
    """
    return current_species().normalise(name, what=what)


#: Pollutants that emission inventories and registers report beside the air-quality ones
#: and that the library does not model (folded: lower case, without blanks, ``_``, ``-``,
#: ``.``): greenhouse gases and their totals (CITEPA's "PRG", CO2 equivalents), carbon
#: monoxide, total suspended particles ("TSP", French "PST"), PM1 and black carbon, the
#: heavy metals of the EMEP/EEA guidebook and the persistent organic pollutants (PAH/HAP,
#: BaP, dioxins, PCB, HCB), benzene. An input row or column of one of them is left out with
#: a warning (CITEPA's and the observatories' files carry them beside NOx); any other name
#: that is not a species stays an error (a typo of a modelled pollutant).
NOT_MODELLED = frozenset(
    {
        "co2", "co2bio", "co2biomasse", "co2e", "co2eq", "co2equivalent", "ch4", "n2o", "hfc",
        "hfcs", "pfc", "pfcs", "sf6", "nf3", "ghg", "ges", "prg", "prg100", "co", "tsp", "pst",
        "pm1", "pm1.0", "bc", "blackcarbon", "as", "cd", "cr", "cu", "hg", "ni", "pb", "se",
        "zn", "arsenic", "cadmium", "chromium", "chrome", "copper", "cuivre", "mercury",
        "mercure", "nickel", "lead", "plomb", "selenium", "zinc", "pah", "hap", "pah4", "hap4",
        "bap", "benzo(a)pyrene", "benzo[a]pyrene", "benzoapyrene", "pcddf", "pcdd/f",
        "dioxins", "dioxines", "pcb", "pcbs", "hcb", "benzene", "c6h6",
    }
)  # fmt: skip


def not_modelled(name: object) -> bool:
    """Whether `name` is a pollutant the library knows of and does not model
    (:data:`NOT_MODELLED`): not a species of the registry in use, and one of those names.

    Examples
    --------
    >>> not_modelled("CO2"), not_modelled(" pb "), not_modelled("NOx"), not_modelled("NOO")
    (True, True, False, False)
    """
    if not isinstance(name, str):
        return False
    try:
        normalise_pollutant(name)
        return False  # a species of the registry in use (one a user's registry adds too)
    except InputError:
        pass
    folded = "".join(name.lower().split()).replace("_", "").replace("-", "")
    return folded in NOT_MODELLED or folded.replace(".", "") in NOT_MODELLED


def get_pollutant(name: str) -> Pollutant:
    """Return the :class:`Pollutant` for an id or alias (see :func:`normalise_pollutant`)."""
    return current_species().species(name)


def emission_factor(pollutant: str, units: str | None, *, what: str = "units") -> float:
    """Factor from `units` to the species' canonical emission unit.

    ``t yr-1`` for mass species, ``yr-1`` (particles per year) for number species; a mass
    per time for a number species, or a number per time for a mass species, is an error.

    Raises
    ------
    trajectoire.UnitsError
        Units missing, unknown, or of the other unit family (particle numbers given in mass
        units).

    Examples
    --------
    >>> emission_factor("NOx", "kg yr-1"), emission_factor("UFP", "s-1")
    (0.001, 31557600.0)
    """
    sp = get_pollutant(pollutant)
    kind = UNIT_FAMILIES[sp.unit_family]["emission"]
    try:
        return conversion_factor(units, kind, what=what)
    except UnitsError:
        found = unit_kind(units)
        other = _family_of_kind(found) if found else None
        if other is not None and other != sp.unit_family:
            expected = list(UNIT_TABLE[kind])
            raise UnitsError(
                f"{what}: {sp.id} is a {sp.unit_family}-family species (emissions in "
                f"{sp.emission_units}) but the units {units!r} are a {other} per time; "
                f"particle numbers and masses never mix. Give {sp.id} in one of {expected}"
                + (" (in a file of its own if the others are masses)." if sp.is_number else ".")
            ) from None
        raise


#: Scale of a particle-number species' emission [yr-1] in the run (see :func:`run_scale`).
NUMBER_RUN_SCALE = 1e-18


def run_scale(pollutant: str) -> float:
    """The factor a run multiplies a species' emission by before its kernels.

    The kernels of a run turn an emission in ``t yr-1`` into a concentration in ``ug m-3``:
    ``c = E × 1e12 ug t-1 / 31 557 600 s yr-1 × K`` with ``K`` [s m-3]. A particle-number
    emission ``N`` [yr-1] gives ``c = N / 31 557 600 × K`` [m-3] ``= N × 1e-6 / 31 557 600 ×
    K`` [cm-3]: the same kernels give it in cm-3 once ``N`` is multiplied by
    ``1e-6 / 1e12 = 1e-18``. So 1 for mass species, :data:`NUMBER_RUN_SCALE` for number
    species; in these run units a deposition flux of 1 ``ug m-2 yr-1`` is ``1e6`` particles
    ``m-2 yr-1`` and a deposited ``t yr-1`` is ``1e18`` particles ``yr-1``
    (:func:`trajectoire.io.outputs.split_number_species` writes them in particles).

    Examples
    --------
    >>> run_scale("NOx"), run_scale("UFP")
    (1.0, 1e-18)
    """
    return NUMBER_RUN_SCALE if get_pollutant(pollutant).is_number else 1.0


def emission_units_of(pollutant: str) -> str:
    """The units of `pollutant`'s emissions as the inputs give them: ``t yr-1``, or the
    current registry's for a particle-number species; ``t yr-1`` for a name the registry
    does not know (what the messages that report emissions of any name print).

    Examples
    --------
    >>> emission_units_of("NOx"), emission_units_of("UFP"), emission_units_of("unknown")
    ('t yr-1', 'yr-1', 't yr-1')
    """
    try:
        return str(current_species().species(pollutant).emission_units)
    except InputError:
        return "t yr-1"


def concentration_factor_of(units: Any, pollutant: str, *, what: str = "units") -> float:
    """Factor from `units` to the concentration units of `pollutant`'s family: ``ug m-3``
    for a mass (from ``ng m-3``, ``mg m-3``...; a gas also from a mixing ratio, ``ppb``,
    ``ppm``, with its molar mass at the reference conditions of Directive 2008/50/EC,
    :func:`trajectoire.units.mixing_ratio_factor`), ``cm-3`` for particle numbers.

    The rule of every table that gives concentrations with a ``units`` column (the
    background, the observations).

    Raises
    ------
    trajectoire.UnitsError
        `units` is not a concentration of the family (nor a mixing ratio of a gas); one line
        naming `what`.

    Examples
    --------
    >>> round(concentration_factor_of("ppb", "NO2"), 4), concentration_factor_of("ng m-3", "PM10")
    (1.9125, 0.001)
    """
    species = get_pollutant(pollutant)
    if species.unit_family == "mass" and unit_kind(units) == "mixing_ratio":
        return mixing_ratio_factor(units, species.molar_mass, what=what)
    return conversion_factor(units, UNIT_FAMILIES[species.unit_family]["concentration"], what=what)


def deposition_velocity_of(
    pollutant: str, overrides: Mapping[str, float] | None = None, *, what: str = "dry deposition"
) -> float:
    """The dry deposition velocity [m s-1] of a species: `overrides`, else the registry's.

    Raises
    ------
    trajectoire.InputError
        The species has no velocity in the registry and none in `overrides`.

    Examples
    --------
    >>> deposition_velocity_of("PM10"), deposition_velocity_of("NMVOC", {"NMVOC": 0.002})
    (0.004, 0.002)
    """
    sp = get_pollutant(pollutant)
    if overrides and sp.id in overrides:
        return float(overrides[sp.id])
    if sp.deposition_velocity is None:
        raise InputError(
            f"{what}: species {sp.id!r} has no deposition velocity in the registry, and dry "
            f"deposition is asked; set [dispersion] deposition_velocity = {{ {sp.id!r} = ... }} "
            "[m s-1] (or 0 to leave its deposition out), or give it in the species file."
        )
    return sp.deposition_velocity


def thresholds_table(
    label: str, *, averaging: str = "year", registry: Mapping[str, Pollutant] | None = None
) -> dict[str, float]:
    """``{species id: value}`` of one threshold set (``"WHO2021"``, ``"EU2030"``...) for one
    averaging period, in each species' concentration units: ug m-3 for a mass species
    (a value given in ``ng m-3`` or ``pg m-3`` in the registry is converted), cm-3 for a
    particle number.

    Examples
    --------
    >>> thresholds_table("WHO2021")
    {'NO2': 10.0, 'PM10': 15.0, 'PM2.5': 5.0}
    >>> thresholds_table("EU2030")
    {'NO2': 20.0, 'PM10': 20.0, 'PM2.5': 10.0, 'SO2': 20.0}
    """
    reg = current_species() if registry is None else registry
    out = {}
    for s in reg.values():
        t = s.threshold(label, averaging)
        if t is not None:
            kind = UNIT_FAMILIES[s.unit_family]["concentration"]
            out[s.id] = t.value * conversion_factor(t.units, kind, what=f"{s.id} threshold")
    return out


# ---------------------------------------------------------------------------- stable names
POLLUTANTS: dict[str, Pollutant] = dict(builtin_species())
"""The built-in species by id (the registry of ``data/species.toml``)."""

DEPOSITION_REFERENCES: dict[str, str] = {
    s.id: s.references["deposition_velocity"]
    for s in POLLUTANTS.values()
    if s.deposition_velocity is not None and "deposition_velocity" in s.references
}
"""Where each :attr:`Pollutant.deposition_velocity` comes from (the registry's references)."""

REGULATED: tuple[str, ...] = tuple(s.id for s in POLLUTANTS.values() if s.regulated)

_ALIASES = dict(builtin_species().aliases)


#: Suffix of the variables that hold the particle-number species (on ``pollutant_number``).
NUMBER_SUFFIX = "_number"


def species_view(ds: xr.Dataset, pollutant: str | None, *, what: str = "pollutant") -> xr.Dataset:
    """`ds` as it reads for `pollutant`: for a particle-number species, its ``*_number``
    variables under the mass variables' names, on a ``pollutant`` dim.

    An output keeps the particle-number species (``UFP``) apart, on ``pollutant_number`` and
    in variables named after the mass ones with the suffix ``_number`` and their own units
    (``docs/outputs.md``, "Particle numbers"). When `pollutant` is one of them, the view
    holds those variables renamed (``exposure_number`` as ``exposure``, in ``cm-3``; its
    ``pollutant_number`` as ``pollutant``) and every variable that is not on a pollutant
    dim (``population``, ``territory_fraction``, ``mask``...); the mass variables are left
    out. Otherwise (a mass pollutant, `pollutant` None, an output without number species)
    it is `ds` itself. Nothing is loaded or copied.

    Parameters
    ----------
    ds : xarray.Dataset
        A run's output, or part of one.
    pollutant : str or None
        Pollutant id or alias.
    what : str, default "pollutant"
        Where the name comes from, for the error of an unknown pollutant.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    trajectoire.InputError
        `pollutant` is not a known pollutant name (only where `ds` holds number species).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"exposure": (("territory", "pollutant"), [[12.0]], {"units": "ug m-3"}),
    ...      "exposure_number": (("territory", "pollutant_number"), [[9000.0]],
    ...                          {"units": "cm-3"})},
    ...     coords={"territory": ["MEL"], "pollutant": ["NO2"], "pollutant_number": ["UFP"]})
    >>> view = species_view(ds, "UFP")
    >>> view["exposure"].sel(pollutant="UFP").item(), view["exposure"].attrs["units"]
    (9000.0, 'cm-3')
    >>> species_view(ds, "NO2") is ds
    True
    """
    if pollutant is None or "pollutant_number" not in ds.coords:
        return ds
    pol = normalise_pollutant(pollutant, what=what)
    if pol not in [str(v) for v in ds["pollutant_number"].values]:
        return ds
    number = {
        str(n): str(n)[: -len(NUMBER_SUFFIX)]
        for n, da in ds.data_vars.items()
        if str(n).endswith(NUMBER_SUFFIX) and "pollutant_number" in da.dims
    }
    left = [n for n, da in ds.data_vars.items() if "pollutant" in da.dims or n in number.values()]
    view = ds.drop_vars([*left, *(["pollutant"] if "pollutant" in ds.coords else [])])
    return view.rename({**number, "pollutant_number": "pollutant"})
