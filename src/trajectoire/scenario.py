"""Emission-reduction scenarios from a run's stored contributions (issue 16).

A scenario is a list of cuts, "cut sector S in territory T by X % from year Y". The model is
linear in the emissions (``docs/attribution.md``), so removing a fraction ``f`` of the
emissions of sector ``s`` in territory ``T`` removes exactly ``f`` times the contribution of
``(s, origin=T)`` from every receptor aggregate (territory means, population-weighted means,
station cells), and ``f`` times the contribution map of ``s`` when ``T`` is every territory:

* :func:`apply_scenario` (the **exact path**) computes the scenario from the stored
  aggregates and maps of an output, with no new dispersion;
* :func:`recompute_scenario` (the **recompute path**) reruns the chain
  (:func:`trajectoire.batch.pipeline.compute_year`) on emissions scaled by
  :func:`scaled_context`: it gives what the stored variables cannot (maps of a cut limited
  to one territory, NO2 wherever its conversion needs the scenario's NOx field, the NO2
  exposure of each territory's own inhabitants) and checks the exact path;
* :func:`write_scenario` writes either one as a CF NetCDF, atomically.

NO2 is not linear in NOx: it is recomputed from the scenario NOx with the run's conversion
(the run's conversion, :func:`trajectoire.dispersion.chemistry.no2_with_primary`), never scaled. See
``docs/scenarios.md``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy import sparse

from trajectoire._compile_notice import compile_notice
from trajectoire._validate import did_you_mean, is_integer_number, is_real_number, year_ranges
from trajectoire.batch.pipeline import (
    RunContext,
    compute_year,
    own_inhabitants,
    population,
    prepare,
)
from trajectoire.dispersion.chemistry import no2_with_primary
from trajectoire.errors import ConfigError, InputError, warn
from trajectoire.geo.territories import TERRITORIES, territory_id
from trajectoire.io.config import MIN_YEAR, RunConfig, load_config
from trajectoire.io.netcdf import check_writable, open_output, write_netcdf, years_attribute
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import POLLUTANTS, get_pollutant, normalise_pollutant, thresholds_table

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Cut",
    "Scenario",
    "apply_scenario",
    "cut_factors",
    "load_scenario",
    "recompute_scenario",
    "run_config_of",
    "scaled_context",
    "scenario_from_table",
    "summary",
    "write_scenario",
]

log = logging.getLogger("trajectoire")

#: annual-mean limit values from 2030 [ug m-3], Directive (EU) 2024/2881, Annex I
DEFAULT_THRESHOLDS: dict[str, float] = thresholds_table("EU2030", registry=POLLUTANTS)

#: variables an output needs for the exact path
NEEDED = ("territory_contribution", "exposure_contribution", "background", "population_total")
_CUT_KEYS = ("sector", "territory", "percent", "from_year")
_SCENARIO_KEYS = ("name", "cut", "thresholds", "run_config")
_LINEAR_AGGREGATES = {
    "territory_contribution": "territory_concentration",
    "exposure_contribution": "exposure",
    "station_contribution": "station_concentration",
}


# ----------------------------------------------------------------------------- the scenario
@dataclass(frozen=True)
class Cut:
    """Remove `fraction` of the emissions of `sector` in `territory` from `from_year` on.

    Parameters
    ----------
    sector : str
        GNFR sector id (``trajectoire.sectors.GNFR``), or a name the configuration takes
        for it (its letter ``"F"``, ``"Industry"``: :func:`trajectoire.sectors.normalise_sector`),
        kept as the id.
    territory : str or None
        Territory id (``trajectoire.TERRITORIES``); None cuts the sector everywhere on the
        grid (every territory and the rest of the domain).
    fraction : float
        Share of the emissions removed, 0..1 (``percent / 100`` in a TOML file).
    from_year : int
        First year the cut applies to: a year of the output or an earlier one (the cut is
        then in force in every year the output holds), not before :data:`MIN_YEAR`
        (``trajectoire.io.config.MIN_YEAR``, the earliest ``[run] first_year``).
    """

    sector: str
    territory: str | None
    fraction: float
    from_year: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "sector", _sector_id(self.sector))
        object.__setattr__(self, "territory", territory_id(self.territory))  # "mel" is MEL
        problems = _cut_problems(self.sector, self.territory, self.fraction, self.from_year)
        if problems:
            raise ConfigError("\n".join(f"Cut: {p}" for p in problems))
        # np.float32(0.3), np.int64(2023) (a year read from an output): as Python numbers
        object.__setattr__(self, "fraction", float(self.fraction))
        object.__setattr__(self, "from_year", int(self.from_year))

    def applies(self, year: int) -> bool:
        """Whether the cut is in force in `year`."""
        return year >= self.from_year

    def describe(self) -> str:
        """``F_RoadTransport -30 % in MEL from 2020``."""
        where = "everywhere" if self.territory is None else f"in {self.territory}"
        return f"{self.sector} -{100 * self.fraction:g} % {where} from {self.from_year}"


def _sector_id(sector: Any) -> Any:
    """The GNFR id of a sector name the configuration takes (``"F"``, ``"Industry"``);
    anything else as given, for :func:`_cut_problems` to name."""
    try:
        return normalise_sector(sector, what="") if isinstance(sector, str) else sector
    except InputError:
        return sector


def _sector_hint(sector: Any, choices: Iterable[str]) -> str:
    """`` (did you mean 'F_RoadTransport'?)`` for a near-miss of a sector id of `choices`
    (:func:`trajectoire._validate.did_you_mean`); a name that starts with a GNFR letter
    (``"F_Roadtransprot"``) is compared with that letter's sectors only (``"F_Road"`` is not
    ``I_OffRoad``)."""
    if not isinstance(sector, str):
        return ""
    ids = list(choices)
    letter = sector.strip()[:2].upper()
    same = [c for c in ids if c[:2].upper() == letter] if letter.endswith("_") else []
    return did_you_mean(sector.strip(), same or ids)


def _territory_hint(territory: Any, choices: Iterable[str]) -> str:
    """`` (did you mean 'MEL'?)`` for a near-miss of a territory id (``"MELL"``,
    ``"douaisi"``): :func:`trajectoire._validate.did_you_mean`, as written then in capitals."""
    if not isinstance(territory, str):
        return ""
    given, ids = territory.strip(), list(choices)
    return did_you_mean(given, ids) or did_you_mean(given.upper(), ids)


def _cut_problems(sector: Any, territory: Any, fraction: Any, from_year: Any) -> list[str]:
    """One sentence per mistake in a cut's fields."""
    out = []
    if sector not in GNFR:
        out.append(
            f"sector {sector!r} is not a GNFR sector{_sector_hint(sector, GNFR)}; valid values: "
            f"{', '.join(GNFR)}."
        )
    if territory is not None and territory not in TERRITORIES:
        out.append(
            f"territory {territory!r} is unknown{_territory_hint(territory, TERRITORIES)}; "
            f"valid values: {', '.join(TERRITORIES)} (or leave it out to cut everywhere)."
        )
    if not is_real_number(fraction) or not 0.0 <= float(fraction) <= 1.0:
        out.append(f"fraction {fraction!r} must be a number in 0..1 (percent in 0..100).")
    if not is_integer_number(from_year):
        out.append(f"from_year {from_year!r} must be an integer year.")
    elif from_year < MIN_YEAR:
        out.append(
            f"from_year {from_year} is before {MIN_YEAR}, the earliest year a run holds "
            f"([run] first_year); expected a year from {MIN_YEAR} on."
        )
    return out


def _threshold_problems(thresholds: Any, at: str) -> tuple[dict[str, float], list[str]]:
    """`thresholds` keyed by canonical pollutant ids (``no2`` is ``NO2``), and one sentence
    per mistake: a key that names no mass species (an unknown pollutant, a particle-number
    one), a pollutant given twice, a value that is not a finite number > 0 [ug m-3]."""
    if not isinstance(thresholds, Mapping):
        return {}, [f"{at}: expected a table (pollutant = ug m-3), got {thresholds!r}."]
    out: dict[str, float] = {}
    problems = []
    for key, value in thresholds.items():
        try:
            pol = normalise_pollutant(str(key), what=f"{at}: key {str(key)!r}")
        except InputError as exc:
            problems.append(str(exc))
            continue
        if get_pollutant(pol).is_number:
            problems.append(
                f"{at}: {key} is a particle-number species [cm-3]; a scenario "
                "reads the mass species only: give thresholds of mass species [ug m-3]."
            )
            continue
        if pol in out:
            problems.append(
                f"{at}: {pol} is given twice ({key!r} and another spelling); "
                "keep one key per pollutant."
            )
            continue
        if not is_real_number(value) or not (math.isfinite(value) and value > 0):
            problems.append(
                f"{at}: {key} = {value!r}; expected a finite number > 0 [ug m-3] (an annual mean)."
            )
            continue
        out[pol] = float(value)
    return out, problems


@dataclass(frozen=True)
class Scenario:
    """A named set of cuts that apply together (their removed emissions add up).

    Parameters
    ----------
    name : str
        Short name, written in the output.
    cuts : sequence of Cut
        At least one. Two cuts that touch the same emissions (one sector, one territory and
        the same sector everywhere, say) each remove their fraction of the baseline
        emissions; together they may not remove more than 100 %.
    thresholds : mapping of str to float, optional
        Annual-mean thresholds [ug m-3] by mass pollutant (ids or aliases: ``"no2"`` is
        ``NO2``, kept as the id) for the inhabitants above them, each finite and > 0
        (default :data:`DEFAULT_THRESHOLDS`).
    run_config : pathlib.Path, optional
        Run configuration of the recompute path (default: the one the output names).
    source : pathlib.Path, optional
        The file the scenario was read from (:func:`load_scenario` sets it), named at the
        start of the messages about its cuts that only the output can tell (a sector or
        territory the run does not have, a ``from_year`` after its years); not compared.

    Examples
    --------
    >>> s = Scenario("road", [Cut("F_RoadTransport", "MEL", 0.3, 2020)])
    >>> s.describe()
    'road: F_RoadTransport -30 % in MEL from 2020'
    """

    name: str
    cuts: tuple[Cut, ...]
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    run_config: Path | None = None
    source: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.cuts, Cut):  # Scenario("s", Cut(...)): one cut, not a list
            object.__setattr__(self, "cuts", (self.cuts,))
        elif not isinstance(self.cuts, Iterable) or isinstance(self.cuts, str | bytes | Mapping):
            raise ConfigError(
                f"scenario {self.name!r}: cuts {self.cuts!r}; expected a Cut or a list of Cut "
                "(Scenario(name, [Cut(sector, territory, fraction, first_year), ...]))."
            )
        object.__setattr__(self, "cuts", tuple(self.cuts))
        if not self.cuts:
            raise ConfigError(f"scenario {self.name!r}: no cut; add at least one.")
        others = [c for c in self.cuts if not isinstance(c, Cut)]
        if others:
            raise ConfigError(
                f"scenario {self.name!r}: cuts holds {others[0]!r} ({type(others[0]).__name__}); "
                "expected Cut entries (Cut(sector, territory, fraction, from_year))."
            )
        thresholds, problems = _threshold_problems(self.thresholds, "thresholds")
        object.__setattr__(self, "thresholds", thresholds)
        problems += _overlap_problems(self.cuts)
        if problems:
            raise ConfigError("\n".join(f"scenario {self.name!r}: {p}" for p in problems))

    @property
    def first_year(self) -> int:
        """The first year any cut applies to."""
        return min(c.from_year for c in self.cuts)

    def active(self, year: int) -> tuple[Cut, ...]:
        """The cuts in force in `year`."""
        return tuple(c for c in self.cuts if c.applies(year))

    def describe(self) -> str:
        """One line: the name and every cut."""
        return f"{self.name}: " + "; ".join(c.describe() for c in self.cuts)

    def to_json(self) -> str:
        """The cuts and thresholds as JSON (written in the output's global attributes)."""
        return json.dumps(
            {
                "name": self.name,
                "cuts": [dataclasses.asdict(c) for c in self.cuts],
                "thresholds": dict(self.thresholds),
            }
        )


def _overlap_problems(cuts: Sequence[Cut]) -> list[str]:
    """Cuts of one sector that would remove more than all of its emissions somewhere."""
    out = []
    for sector in dict.fromkeys(c.sector for c in cuts):
        mine = [c for c in cuts if c.sector == sector]
        everywhere = sum(c.fraction for c in mine if c.territory is None)
        for t in [None, *dict.fromkeys(c.territory for c in mine if c.territory)]:
            total = everywhere + sum(c.fraction for c in mine if t and c.territory == t)
            if total > 1.0 + 1e-12:
                where = "everywhere" if t is None else f"in {t}"
                out.append(
                    f"the cuts of {sector} {where} add up to {100 * total:g} % (> 100 %); "
                    "lower their percent."
                )
    return out


def scenario_from_table(table: Mapping[str, Any], *, source: str = "[scenario]") -> Scenario:
    """Build a :class:`Scenario` from the ``[scenario]`` table of a TOML file.

    Parameters
    ----------
    table : mapping
        ``name``, ``[[cut]]`` entries (``sector``, optional ``territory``, ``percent``,
        ``from_year``), optional ``thresholds`` (pollutant -> ug m-3) and ``run_config``.
    source : str
        What to name in the messages (the file).

    Raises
    ------
    trajectoire.ConfigError
        One line per mistake, naming the key, the value and the valid values.
    """
    where = f"{source}: [scenario]"
    problems = [
        f"{where}: unknown key {k!r}; valid keys: {', '.join(_SCENARIO_KEYS)}."
        for k in table
        if k not in _SCENARIO_KEYS
    ]
    raw_cuts = table.get("cut", [])
    if isinstance(raw_cuts, dict):  # one cut written [scenario.cut]: the same, said once
        raw_cuts = [raw_cuts]
    if not isinstance(raw_cuts, list) or not raw_cuts:
        problems.append(
            f"{where}: no [[scenario.cut]] entry; add one with sector, percent and from_year "
            "(territory optional)."
        )
        raw_cuts = []
    cuts = []
    for i, entry in enumerate(raw_cuts, 1):
        at = f"{where} cut {i}"
        if not isinstance(entry, dict):
            problems.append(f"{at}: expected a table ([[scenario.cut]]), got {entry!r}.")
            continue
        problems += [
            f"{at}: unknown key {k!r}; valid keys: {', '.join(_CUT_KEYS)}."
            for k in entry
            if k not in _CUT_KEYS
        ]
        missing = [k for k in ("sector", "percent", "from_year") if k not in entry]
        if missing:
            problems.append(f"{at}: missing key(s) {', '.join(missing)}.")
            continue
        percent = entry["percent"]
        bad_percent = not is_real_number(percent) or not 0 <= percent <= 100
        if bad_percent:
            problems.append(f"{at}: percent = {percent!r}; expected a number in 0..100.")
            percent = 0.0
        elif 0 < percent < 1:
            warn(
                f"{at}: percent = {percent!r} removes {percent:g} % of the emissions, not "
                f"{percent * 100:g} %: percent is in per cent (0..100); write percent = "
                f"{percent * 100:g} for a cut of {percent * 100:g} %.",
                stacklevel=3,
            )
        # "F" is F_RoadTransport, "mel" is MEL: as Cut takes them
        entry = {
            **entry,
            "sector": _sector_id(entry["sector"]),
            "territory": territory_id(entry.get("territory")),
        }
        mine = _cut_problems(
            entry["sector"], entry.get("territory"), float(percent) / 100, entry["from_year"]
        )
        problems += [f"{at}: {p}" for p in mine]
        if not mine and not bad_percent:
            cuts.append(
                Cut(entry["sector"], entry.get("territory"), percent / 100, entry["from_year"])
            )
    given, thr_problems = _threshold_problems(
        table.get("thresholds", {}), f"{source}: [scenario.thresholds]"
    )
    problems += thr_problems
    thresholds = {**DEFAULT_THRESHOLDS, **given}
    name = table.get("name", "scenario")
    if not isinstance(name, str):
        problems.append(f"{where}: name must be a string, got {name!r}.")
    if problems:
        raise ConfigError("\n".join(problems))
    run_config = table.get("run_config")
    try:
        return Scenario(
            str(name),
            tuple(cuts),
            thresholds,
            None if run_config is None else Path(str(run_config)),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read the ``[scenario]`` table of a TOML file (see :func:`scenario_from_table`).

    ``run_config``, when given, is read relative to the file's directory.

    Raises
    ------
    trajectoire.ConfigError
        Missing file, invalid TOML, no ``[scenario]`` table, or a bad cut (one line each).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"scenario file {str(p)!r} not found.")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read it as TOML ({exc}).") from None
    _check_top_level(data, p)
    if not isinstance(data.get("scenario"), dict):
        raise ConfigError(
            f"{p}: no [scenario] table; add one with [[scenario.cut]] entries (docs/scenarios.md)."
        )
    scen = dataclasses.replace(scenario_from_table(data["scenario"], source=str(p)), source=p)
    if scen.run_config is not None and not scen.run_config.is_absolute():
        scen = dataclasses.replace(scen, run_config=(p.parent / scen.run_config).resolve())
    return scen


def _check_top_level(data: Mapping[str, Any], path: Path) -> None:
    """Refuse a table or key of the file outside ``[scenario]`` that nothing reads: a
    ``[thresholds]`` table meant as ``[scenario.thresholds]``, a ``[scenarios]`` header,
    were left out without a word (the default thresholds used, the name lost). The tables
    of a run configuration are allowed: the file may be the run's own ``config.toml``."""
    sections = set(RunConfig.model_fields)
    for key in data:
        if key == "scenario" or key in sections:
            continue
        if key in _SCENARIO_KEYS:
            hint = f" (did you mean [scenario.{key}]?)" if key != "cut" else (
                " (did you mean [[scenario.cut]]?)"
            )  # fmt: skip
        else:
            hint = did_you_mean(key, ["scenario", *sorted(sections)])
        raise ConfigError(
            f"{path}: [{key}] is not read{hint}: a scenario file holds a [scenario] table "
            f"(keys {', '.join(_SCENARIO_KEYS)}; the cuts as [[scenario.cut]], the thresholds as "
            "[scenario.thresholds]) and, when it is the run's configuration, that "
            "configuration's tables. Move or rename it (docs/scenarios.md)."
        )


# --------------------------------------------------------------------------- the cut factors
def cut_factors(
    scenario: Scenario, years: Sequence[int], sectors: Sequence[str], origins: Sequence[str]
) -> xr.DataArray:
    """What remains of the emissions of each (year, sector, origin): ``1 − Σ f`` of the cuts
    in force that touch it (a cut everywhere touches every origin, "rest" included).

    Returns
    -------
    xarray.DataArray
        ``(year, sector, origin)`` [1].
    """
    f = np.ones((len(years), len(sectors), len(origins)))
    for c in scenario.cuts:
        if c.sector not in sectors:
            continue
        s = list(sectors).index(c.sector)
        for iy, y in enumerate(years):
            if not c.applies(int(y)):
                continue
            if c.territory is None:
                f[iy, s, :] -= c.fraction
            else:
                f[iy, s, list(origins).index(c.territory)] -= c.fraction
    return xr.DataArray(
        np.clip(f, 0.0, 1.0),
        dims=("year", "sector", "origin"),
        coords={"year": list(years), "sector": list(sectors), "origin": list(origins)},
    )


def _check_output(base: xr.Dataset, scenario: Scenario, what: str) -> None:
    """The output has what the scenario needs; its cuts name its sectors, territories, years."""
    if "scenario_method" in base.attrs:
        raise InputError(
            f"{what}: this file is the output of a scenario ({base.attrs.get('scenario', '')}), "
            "not of a run; give the output of `trajectoire run` it started from, with this scenario's "
            "cuts and its own in one [scenario] table (each cut removes its share of the run's "
            "emissions)."
        )
    missing = [v for v in NEEDED if v not in base]
    if missing:
        raise InputError(
            f"{what}: no variable(s) {', '.join(missing)}; a scenario needs the receptor "
            "aggregates by sector and origin that `trajectoire run` writes. Give the output of "
            "a run (or run it again with this version)."
        )
    if "y" in base["background"].dims:
        raise InputError(
            f"{what}: the run's background is a regional model field (background(year, "
            'pollutant, y, x), [inputs.background] format = "field"); scenarios do not take '
            "a spatial background yet (issue 14). Run the scenario on a run with the station "
            "background."
        )
    if base.sizes.get("pollutant", 0) == 0:
        numbers = [str(p) for p in base.get("pollutant_number", xr.DataArray([])).values]
        raise InputError(
            f"{what}: holds no mass pollutant (its pollutants {', '.join(numbers) or 'none'} "
            "are particle numbers, on pollutant_number); a scenario applies to the mass "
            "species only: give the output of a run with mass pollutants in [run] pollutants."
        )
    sectors = [str(s) for s in base["sector"].values]
    territories = [str(t) for t in base["receptor"].values]
    years = [int(y) for y in base["year"].values]
    problems = []
    for i, c in enumerate(scenario.cuts, 1):
        at = f"{_from_file(scenario)}[scenario] cut {i}"
        if c.sector not in sectors:
            problems.append(
                f"{at}: sector {c.sector!r} is not a sector of the run in {what}; valid values: "
                f"{', '.join(sectors)}."
            )
        if c.territory is not None and c.territory not in territories:
            problems.append(
                f"{at}: territory {c.territory!r} is not a territory of the run in {what}; "
                f"valid values: {', '.join(territories)}."
            )
        if c.from_year > years[-1]:  # before the first year: in force in every year held
            problems.append(
                f"{at}: from_year {c.from_year} is outside the years of {what} "
                f"({years[0]}..{years[-1]}): the cut would change nothing; expected a year up "
                f"to {years[-1]}."
            )
    if problems:
        raise ConfigError("\n".join(problems))


def _from_file(scenario: Scenario) -> str:
    """``"s.toml: "`` for a scenario read from a file (as the messages of
    :func:`load_scenario` start), else ``""``."""
    return "" if scenario.source is None else f"{scenario.source}: "


def _check_same_run(base: xr.Dataset, cfg: RunConfig, what: str) -> None:
    """Refuse to recompute against a baseline the configuration would not give again.

    The changes of the recompute path are the scenario's values minus the baseline's: an
    input edited since the baseline was run (or another setting) would be counted as the
    cuts' effect. The baseline's ``input_checksums`` name the inputs that changed; its
    ``trajectoire_config_hash`` covers the settings, the version and the inputs together.
    A baseline without them (written by hand, or by an older version) is taken as it is.
    """
    stored = base.attrs.get("input_checksums")
    changed: list[str] = []
    if stored:
        try:
            then = json.loads(str(stored))
        except ValueError:
            then = {}
        now = cfg.input_checksums
        changed = [
            f"[inputs] {k}" for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)
        ]
    if changed:
        raise ConfigError(
            f"{what}: the inputs changed since this baseline was run ({', '.join(changed)} "
            "differ from the files it was computed from): the recomputed changes would count "
            "that edit as the cuts' effect. Run the baseline again on these inputs (trajectoire "
            "run CONFIG --out OUT.nc), then the scenario; or restore the inputs."
        )
    then_hash = base.attrs.get("trajectoire_config_hash")
    if then_hash and str(then_hash) != cfg.config_hash():
        raise ConfigError(
            f"{what}: was run with another configuration than {cfg.source_path or 'the one given'}"
            f" (configuration hash {then_hash}, now {cfg.config_hash()}: a setting or "
            "trajectoire's version differ, the inputs are the same): the recomputed changes "
            "would count that difference as the cuts' effect. Run the baseline again with this "
            "configuration, or set [scenario] run_config to the baseline's own."
        )


def _map_years(base: xr.Dataset) -> set[int]:
    return set(years_attribute(base.attrs.get("map_years"))) & {int(y) for y in base["year"].values}


# --------------------------------------------------------------------------- the exact path
def apply_scenario(output: str | Path | xr.Dataset, scenario: Scenario) -> xr.Dataset:
    """The scenario computed exactly from an output's stored contributions (no dispersion).

    For the linear pollutants and every year from the scenario's first year, each receptor
    aggregate by (sector, origin) is multiplied by what remains of its emissions
    (:func:`cut_factors`); the totals are their sums plus the background. Concentration maps
    are given in the map years whose cuts in force all apply everywhere: the concentration
    minus ``f`` times each cut sector's contribution map. NO2 is recomputed from the
    scenario's NOx map with the run's conversion where that map is known (its territory
    means, and its exposure: the run's exposure plus the change of the maps' mean weighted
    by the output's population per cell, :func:`_no2_exposure`); the rest of NO2, and the
    maps of territory cuts, are NaN: use :func:`recompute_scenario`.

    Parameters
    ----------
    output : str, pathlib.Path or xarray.Dataset
        The output of ``trajectoire run`` (baseline).
    scenario : Scenario

    Returns
    -------
    xarray.Dataset
        See ``docs/scenarios.md`` (variables, their changes versus the baseline, the
        inhabitants above the thresholds); ``attrs["scenario_notes"]`` says what was not
        computed and why.
    """
    _check_scenario(scenario, "apply_scenario")
    base, what = _open(output)
    _check_output(base, scenario, what)
    years = [int(y) for y in base["year"].values if int(y) >= scenario.first_year]
    sectors = [str(s) for s in base["sector"].values]
    origins = [str(o) for o in base["origin"].values]
    pols = [str(p) for p in base["pollutant"].values]
    factor = cut_factors(scenario, years, sectors, origins)
    sb = base.sel(year=years)
    bg = sb["background"].load()
    notes: list[str] = []
    out = xr.Dataset(attrs={"crs": base.attrs.get("crs", "")})
    out["background"] = bg
    linear = xr.DataArray([p != "NO2" for p in pols], dims="pollutant", coords={"pollutant": pols})
    any_cut = xr.DataArray(
        [bool(scenario.active(y)) for y in years], dims="year", coords={"year": years}
    )
    changes = {}
    for name, total_name in _LINEAR_AGGREGATES.items():
        if name not in sb:
            continue
        stored = sb[name].load().astype(np.float64)
        scaled = stored * factor
        # NO2 parts are not linear in the NOx cuts: kept only where no cut is in force
        kept = linear | ~any_cut
        out[name] = scaled.where(kept).assign_attrs(stored.attrs)
        total = out[name].sum(("sector", "origin"), min_count=1) + bg
        # the change is the sum of the parts' changes, not the float64 total less the
        # stored float32 one: exactly 0 where no cut touches the parts (no round-off)
        change = (scaled - stored).where(kept).sum(("sector", "origin"), min_count=1)
        if total_name == "exposure":
            total = total.rename({"receptor": "territory"})
            change = change.rename({"receptor": "territory"})
        out[total_name] = total.assign_attrs(sb[total_name].attrs if total_name in sb else {})
        changes[total_name] = change
    out["population_total"] = sb["population_total"].load()
    maps, map_notes = _exact_maps(base, scenario, years, pols)
    notes += map_notes
    if maps is not None:
        out["concentration"] = maps
        _no2_from_maps(out, base, scenario, years, pols, notes)
    weights, how = _cell_weights(base, years)
    exposed = _no2_exposure(out, base, scenario, years, weights, how, changes)
    if "NO2" in pols and any(scenario.active(y) for y in years):
        rest = [y for y in years if scenario.active(y) and y not in exposed]
        notes.append(
            "NO2 by sector and origin and at the stations are not linear in the cuts and need "
            "the scenario's NOx field cell by cell: NaN here"
            + (
                f"; so is the NO2 exposure of {year_ranges(rest)} (no NO2 map recomputed)"
                if rest
                else ""
            )
            + "; computed by `trajectoire scenario --recompute`"
        )
    return _finish(out, base, scenario, "exact", notes, weights, how, changes)


def _check_scenario(scenario: Any, caller: str) -> None:
    """One line when `scenario` is not a :class:`Scenario` (a list of cuts, a path...)."""
    if isinstance(scenario, Scenario):
        return
    hint = (
        "Scenario(name, cuts)"
        if isinstance(scenario, list | tuple)
        else "load_scenario(path) for a TOML file"
        if isinstance(scenario, str | Path)
        else "Scenario(name, [Cut(sector, territory, fraction, from_year)])"
    )
    raise InputError(
        f"{caller}: scenario is a {type(scenario).__name__}; expected a Scenario: {hint}."
    )


def _open(output: str | Path | xr.Dataset) -> tuple[xr.Dataset, str]:
    if isinstance(output, xr.Dataset):
        return output, "the output"
    return open_output(output), str(output)


def _exact_maps(
    base: xr.Dataset, scenario: Scenario, years: list[int], pols: list[str]
) -> tuple[xr.DataArray | None, list[str]]:
    """Scenario concentration maps where the stored ones give them (NaN elsewhere)."""
    if "concentration" not in base:
        return None, ["the output holds no concentration maps: no scenario maps"]
    notes = []
    map_years = _map_years(base) if "contribution" in base else set()
    conc = base["concentration"]
    out = xr.full_like(conc.sel(year=years), np.nan, dtype=np.float32).load()
    no_map, by_territory = [], []
    for y in years:
        cuts = scenario.active(y)
        if not cuts:
            out.loc[{"year": y}] = conc.sel(year=y).values
            continue
        if any(c.territory is not None for c in cuts):
            by_territory.append(y)
            continue
        if y not in map_years:
            no_map.append(y)
            continue
        plane = conc.sel(year=y).values.astype(np.float64)
        contrib = base["contribution"].sel(year=y)
        for c in cuts:
            part = contrib.sel(sector=c.sector).values.astype(np.float64)
            lin = [i for i, p in enumerate(pols) if p != "NO2"]
            plane[lin] -= c.fraction * part[lin]
        if "NO2" in pols:
            plane[pols.index("NO2")] = np.nan  # recomputed from NOx below
        out.loc[{"year": y}] = plane.astype(np.float32)
    if by_territory:
        notes.append(
            f"no maps for {_span(by_territory)}: a cut limited to one territory needs "
            "contributions by origin cell by cell, which the output does not store; "
            "`trajectoire scenario --recompute` computes them"
        )
    if no_map:
        notes.append(
            f"no maps for {_span(no_map)}: not map years of the output (no contribution maps "
            "stored); `--recompute` computes them"
        )
    return out.assign_attrs(base["concentration"].attrs), notes


def _no2_from_maps(
    out: xr.Dataset,
    base: xr.Dataset,
    scenario: Scenario,
    years: list[int],
    pols: list[str],
    notes: list[str],
) -> None:
    """NO2 maps and territory means from the scenario's NOx maps, by the run's conversion:
    its curve and, with ``[no2] method = "fno2"``, each sector's primary NO2 (the stored
    ``no2_primary_fraction`` times the sector's scenario NOx contribution).

    The years of a cut with no scenario NOx map (a cut limited to one territory, a year
    without contribution maps: :func:`_exact_maps`) keep NaN NO2 territory means; the notes
    say which years were recomputed and which were not, and why."""
    cut_years = [y for y in years if scenario.active(y)]
    if "NO2" not in pols or not cut_years:
        return
    if "NOx" not in pols or "territory_fraction" not in base:
        lacks = "NOx" if "NOx" not in pols else "territory_fraction"
        notes.append(
            f"NO2 maps and territory means of {year_ranges(cut_years)} are NaN, not "
            f"recomputed: NO2 is converted from the scenario's NOx map and the output holds no "
            f"{lacks}; `trajectoire scenario --recompute` computes them"
        )
        return
    frac = np.asarray(base["territory_fraction"].values, dtype=np.float64)
    w = frac / frac.sum(axis=(1, 2), keepdims=True)
    method, curve = _no2_conversion(base)
    done: list[int] = []
    by_territory: list[int] = []
    no_map: list[int] = []
    for y in cut_years:
        nox = out["concentration"].sel(year=y, pollutant="NOx").values.astype(np.float64)
        if not np.isfinite(nox).any():
            territorial = any(c.territory is not None for c in scenario.active(y))
            (by_territory if territorial else no_map).append(y)
            continue
        done.append(y)
        bg = out["background"].sel(year=y)
        primary = _primary_no2(base, scenario, y) if method == "fno2" else None
        total = _no2_total(
            float(bg.sel(pollutant="NOx")), float(bg.sel(pollutant="NO2")), nox, primary, curve
        )
        out["concentration"].loc[{"year": y, "pollutant": "NO2"}] = total.astype(np.float32)
        means = np.nansum(w * total[None], axis=(1, 2))
        out["territory_concentration"].loc[{"year": y, "pollutant": "NO2"}] = means
    if done:
        notes.append(
            f"NO2 maps and territory means of {year_ranges(done)} recomputed from the scenario "
            f"NOx maps with the run's conversion ({base.attrs.get('no2_conversion', method)})"
        )
    why = []
    if by_territory:
        why.append(f"{year_ranges(by_territory)} (a cut is limited to one territory)")
    if no_map:
        why.append(f"{year_ranges(no_map)} (no contribution maps stored)")
    if why:
        notes.append(
            f"NO2 territory means of {' and '.join(why)} are NaN, not recomputed: NO2 is "
            "converted from the scenario's NOx map, which the exact path does not have there; "
            "`trajectoire scenario --recompute` computes them"
        )


def _no2_exposure(
    out: xr.Dataset,
    base: xr.Dataset,
    scenario: Scenario,
    years: list[int],
    weights: np.ndarray | list[np.ndarray] | None,
    how: str,
    changes: dict[str, xr.DataArray],
) -> list[int]:
    """NO2 exposure of the years of a cut whose NO2 map :func:`_no2_from_maps` recomputed,
    anchored to the run as the counts are (:func:`_anchor_to_run`): the baseline is the
    run's ``exposure`` and the scenario's is it plus the change of the maps' mean weighted by
    each territory's inhabitants per cell (:func:`_cell_weights`: the output's population
    map times the territory's share of the cell, the weights of :func:`_inhabitants`),
    ``Σ w (NO2_scenario - NO2_baseline) / Σ w``. The run's own weights (each territory's
    own inhabitants) are not stored cell by cell, so the change is the map's approximation
    in the cells a border crosses; said in the variable's ``comment``. Other years keep NaN.
    The years done."""
    pols = [str(p) for p in out["pollutant"].values]
    if (
        "NO2" not in pols
        or weights is None
        or "concentration" not in out
        or "concentration" not in base
        or "exposure" not in base
        or "exposure" not in out
    ):
        return []
    done = []
    run = base["exposure"].sel(pollutant="NO2")
    for iy, y in enumerate(years):
        scen = out["concentration"].sel(year=y, pollutant="NO2").values.astype(np.float64)
        if not scenario.active(y) or not np.isfinite(scen).any():
            continue
        ref = base["concentration"].sel(year=y, pollutant="NO2").values.astype(np.float64)
        w = np.asarray(weights[iy] if isinstance(weights, list) else weights, np.float64)
        diff = scen - ref
        known = np.isfinite(diff)
        wk = np.where(known[None], w, 0.0)
        total = wk.sum(axis=(1, 2))
        dot = (wk * np.where(known, diff, 0.0)[None]).sum(axis=(1, 2))
        delta = np.divide(dot, total, out=np.full_like(dot, np.nan), where=total > 0)
        at = run.sel(year=y).reindex(territory=out["territory"].values)
        level = np.asarray(at.values, dtype=np.float64) + delta
        out["exposure"].loc[{"year": y, "pollutant": "NO2"}] = level
        if "exposure" in changes:
            changes["exposure"].loc[{"year": y, "pollutant": "NO2"}] = delta
        done.append(y)
    if done:
        weighting = (
            "the output's population map times the territory's share of each cell"
            if how == "population"
            else "each territory's inhabitants spread uniformly over its area (the output "
            "holds no population map)"
        )
        comment = (
            f"NO2 in {year_ranges(done)}: the run's exposure plus the change of the mean of "
            f"the NO2 maps (the scenario's, recomputed from its NOx map, less the run's) "
            f"weighted by {weighting}; the run weights each territory's own inhabitants, "
            f"which the output does not store cell by cell, so the change is the maps' "
            f"approximation in the cells a border crosses (--recompute gives the run's own)"
        )
        attrs = out["exposure"].attrs
        attrs["comment"] = f"{attrs['comment']}. {comment}" if attrs.get("comment") else comment
    return done


def _no2_conversion(base: xr.Dataset) -> tuple[str, str]:
    """The run's ``[no2]`` method and curve, from the output's attributes (outputs written
    before they were recorded used the Romberg et al. (1996) curve alone)."""
    method = str(base.attrs.get("no2_method", "romberg1996"))
    curve = str(base.attrs.get("no2_curve", method if method != "fno2" else "romberg1996"))
    return method, curve


def _primary_no2(base: xr.Dataset, scenario: Scenario, year: int) -> np.ndarray | None:
    """``Σ_s f_s × NOx_s`` of the scenario: each sector's stored NOx contribution map, less
    its cuts (everywhere: the only cuts with maps), times its f-NO2 of the year."""
    if "no2_primary_fraction" not in base or "contribution" not in base:
        return None
    shares = base["no2_primary_fraction"].sel(year=year)
    contrib = base["contribution"].sel(year=year, pollutant="NOx")
    cut = {c.sector: 0.0 for c in scenario.active(year)}
    for c in scenario.active(year):
        cut[c.sector] += c.fraction
    total = np.zeros(contrib.shape[1:], dtype=np.float64)
    for sector in map(str, contrib["sector"].values):
        f = float(shares.sel(sector=sector)) if sector in shares["sector"] else 0.0
        part = np.nan_to_num(contrib.sel(sector=sector).values.astype(np.float64))
        total += f * (1.0 - cut.get(sector, 0.0)) * np.maximum(part, 0.0)
    return total


def _no2_total(
    nox_bg: float,
    no2_bg: float,
    nox_total: np.ndarray,
    primary: np.ndarray | None = None,
    curve: str = "romberg1996",
) -> np.ndarray:
    """NO2 of a NOx map (background included) by the run's conversion; NaN stays NaN."""
    local = np.maximum(np.nan_to_num(nox_total - nox_bg, nan=0.0), 0.0)
    # the scenario only removes emissions: a negative local NOx is float32 round-off
    if primary is not None:
        primary = np.minimum(primary, local)
    total, _ = no2_with_primary(nox_bg, no2_bg, local, primary, method=curve)
    return np.where(np.isfinite(nox_total), total, np.nan)


def _span(years: Sequence[int]) -> str:
    ys = sorted(years)
    return str(ys[0]) if len(ys) == 1 else f"{len(ys)} years ({ys[0]}..{ys[-1]})"


# ------------------------------------------------------------------------ the recompute path
def scaled_context(ctx: RunContext, cuts: Iterable[Cut]) -> RunContext:
    """A copy of `ctx` whose emissions are those of the cuts (all taken as in force).

    The gridded emission basis of each cut sector is multiplied, cell by cell, by
    ``1 − Σ f × share of the cell in the cut's territory`` (share 1 for a cut everywhere):
    a cell split between two territories loses ``f`` of its part in the cut territory only.
    The stacks of a cut sector whose origin is the territory (every stack for a cut
    everywhere) are multiplied by ``1 − f``. Years are not looked at: pass the cuts in force
    in the year computed.

    Parameters
    ----------
    ctx : RunContext
        From :func:`trajectoire.batch.pipeline.prepare`; not modified.
    cuts : iterable of Cut

    Returns
    -------
    RunContext
    """
    cuts = list(cuts)
    if not cuts:
        return ctx
    basis = ctx.basis.copy()
    point_emission = None if ctx.point_emission is None else ctx.point_emission.copy()
    for sector in dict.fromkeys(c.sector for c in cuts):
        if sector not in ctx.sectors:
            continue
        s = ctx.sectors.index(sector)
        remain = np.ones(ctx.grid.shape)
        for c in cuts:
            if c.sector != sector:
                continue
            share = 1.0 if c.territory is None else ctx.fractions[ctx.origins.index(c.territory)]
            remain -= c.fraction * share
        basis[:, :, s] *= np.clip(remain, 0.0, 1.0).astype(basis.dtype)
        if point_emission is not None and ctx.points is not None:
            sec = ctx.points["source_sector"].values.astype(str)
            ori = ctx.points["origin"].values.astype(str)
            q = np.ones(len(sec))
            for c in cuts:
                if c.sector == sector:
                    q -= c.fraction * (
                        (sec == sector) & ((ori == c.territory) | (c.territory is None))
                    )
            q = np.where(sec == sector, np.clip(q, 0.0, 1.0), 1.0)
            point_emission = point_emission * xr.DataArray(
                q, dims="source", coords={"source": point_emission["source"].values}
            )
    return dataclasses.replace(ctx, basis=basis, point_emission=point_emission)


def recompute_scenario(
    config: RunConfig | str | Path,
    scenario: Scenario,
    *,
    baseline: str | Path | xr.Dataset | None = None,
    years: Sequence[int] | None = None,
    ctx: RunContext | None = None,
) -> xr.Dataset:
    """The scenario computed by rerunning the chain on the scaled emissions.

    Each year is :func:`trajectoire.batch.pipeline.compute_year` on
    :func:`scaled_context` with the cuts in force that year: maps of every year computed
    (cuts limited to a territory included), aggregates by sector and origin, NO2 from the
    scenario's NOx with the run's conversion, exposure, and inhabitants above the thresholds
    with the run's population per cell.

    Parameters
    ----------
    config : RunConfig or path
        The run's configuration (the baseline's).
    scenario : Scenario
    baseline : path or xarray.Dataset, optional
        The baseline output: the changes are taken against it (else they are left out).
    years : sequence of int, optional
        Years to compute (default: the run's years from the scenario's first year).
    ctx : RunContext, optional
        A prepared run (:func:`trajectoire.batch.pipeline.prepare`), to save the preparation.

    Returns
    -------
    xarray.Dataset
        As :func:`apply_scenario`, with ``attrs["scenario_method"] = "recompute"``.
    """
    _check_scenario(scenario, "recompute_scenario")
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    base, what = (None, "") if baseline is None else _open(baseline)
    if base is not None:
        _check_output(base, scenario, what)
        _check_same_run(base, cfg, what)
    if years is not None:  # a mistake in the years asked: said before the preparation
        _recompute_years(cfg.years if ctx is None else ctx.years, base, what, scenario, years)
    with compile_notice():  # the first run after an install compiles the kernels
        ctx = prepare(cfg) if ctx is None else ctx
        wanted = _recompute_years(ctx.years, base, what, scenario, years)
        contexts: dict[tuple[Cut, ...], RunContext] = {}
        parts, inhabitants = [], []
        keep = (
            "concentration",
            "background",
            "population_total",
            *_LINEAR_AGGREGATES,
            *_LINEAR_AGGREGATES.values(),
        )
        for y in wanted:
            active = scenario.active(y)
            if active not in contexts:
                contexts[active] = scaled_context(ctx, active)
            log.info(
                "scenario %s: computing %d (%d cut(s) in force)", scenario.name, y, len(active)
            )
            ds = compute_year(contexts[active], y)
            parts.append(ds[[v for v in keep if v in ds]])
            inhabitants.append(_ctx_weights(ctx, y))
    out = xr.concat(parts, dim="year", data_vars="all", join="exact")
    out.attrs = {"crs": ctx.grid.crs.to_string()}
    notes = []
    if base is None:
        notes.append("no baseline given: no changes")
        return _finish(out, None, scenario, "recompute", notes, inhabitants, "own")
    return _finish(out, base, scenario, "recompute", notes, inhabitants, "own")


def _recompute_years(
    run_years: Sequence[int],
    base: xr.Dataset | None,
    what: str,
    scenario: Scenario,
    years: Sequence[int] | None,
) -> list[int]:
    """The years :func:`recompute_scenario` computes: `years`, else the run's years from the
    scenario's first year, limited to the baseline's years when a baseline is given (a run
    made with ``--years`` holds fewer years than its configuration)."""
    held = None if base is None else [int(y) for y in base["year"].values]
    pool = [y for y in run_years if held is None or y in held]
    wanted = [y for y in pool if y >= scenario.first_year] if years is None else list(years)
    span = f"{run_years[0]}..{run_years[-1]}"
    bad = [y for y in wanted if y not in run_years]
    if bad or not wanted:
        raise ConfigError(
            f"scenario years {bad or wanted} are not in the run ({span})"
            + ("" if held is None else f" and its baseline {what} ({_span(held)})")
            + "; expected years of both (years=, --years on the command line, or the scenario's from_year)."
        )
    missing = [y for y in wanted if held is not None and y not in held]
    if missing:
        raise ConfigError(
            f"scenario years {missing} are not in the baseline {what} (it holds "
            f"{_span(held or [])}); expected years it holds (years=, --years "
            f"{min(held or [0])}:{max(held or [0])}), or a baseline run over those years."
        )
    if not any(scenario.active(y) for y in wanted):  # years asked, all before every cut
        starts = year_ranges(c.from_year for c in scenario.cuts)
        cut_years = [y for y in pool if y >= scenario.first_year]
        fix = (
            f"years from {scenario.first_year} on (--years {cut_years[0]}:{cut_years[-1]} on "
            "the command line, years= in Python), or an earlier from_year"
            if cut_years
            else "an earlier from_year"
        )
        raise ConfigError(
            f"{_from_file(scenario)}[scenario] from_year {starts}: no cut is in force in the "
            f"years asked ({year_ranges(wanted)}): the scenario would be the baseline; "
            f"expected {fix}."
        )
    return wanted


def _ctx_weights(ctx: RunContext, year: int) -> np.ndarray:
    """``(territory, ny, nx)`` inhabitants of each territory in each cell: the run's own
    (:func:`trajectoire.batch.pipeline.own_inhabitants`, the zones cut by the
    territories), so that the baseline's count of inhabitants above a threshold is the
    run's ``inhabitants_above`` for the same threshold."""
    own = own_inhabitants(ctx, year, population(ctx, year))
    dense = own.toarray() if sparse.issparse(own) else np.asarray(own, dtype=np.float64)
    return dense.reshape(len(ctx.territories), *ctx.grid.shape)


def _cell_weights(
    base: xr.Dataset, years: list[int] | None = None
) -> tuple[np.ndarray | list[np.ndarray] | None, str]:
    """Each territory's inhabitants per cell from an output, ``(territory, ny, nx)``: its
    population map times the territory's share of the cell (``population(year, y, x)``,
    one array per year of `years`; or a static ``population(y, x)``) when it has one, else
    the share of the territory's area in each cell (``"area"``: uniform density, an
    approximation that :func:`_inhabitants` scales by ``population_total``).

    The population map's cells wholly inside a territory are the run's own inhabitants
    there; only cells a border crosses are split by area. They are not rescaled to
    ``population_total``: that would move every inland cell by the border cells' deficit
    (2 % for MEL at 1 km), and the counts above a threshold, which come mostly from inland
    cells, away from the run's ``inhabitants_above``."""
    if "territory_fraction" not in base:
        return None, "none"
    frac = np.asarray(base["territory_fraction"].values, dtype=np.float64)
    pop = base.get("population")
    if pop is not None and set(pop.dims) == {"y", "x"}:
        return frac * np.nan_to_num(np.asarray(pop.values, dtype=np.float64)), "population"
    if (
        pop is not None
        and set(pop.dims) == {"year", "y", "x"}
        and years
        and set(years) <= {int(v) for v in pop["year"].values}
    ):
        per_year = [
            frac * np.nan_to_num(np.asarray(pop.sel(year=y).values, np.float64)) for y in years
        ]
        return per_year, "population"
    total = frac.sum(axis=(1, 2), keepdims=True)
    return np.divide(frac, total, out=np.zeros_like(frac), where=total > 0), "area"


# ------------------------------------------------------------------------------ the result
def _finish(
    out: xr.Dataset,
    base: xr.Dataset | None,
    scenario: Scenario,
    method: str,
    notes: list[str],
    weights: np.ndarray | list[np.ndarray] | None,
    how: str,
    changes: Mapping[str, xr.DataArray] | None = None,
) -> xr.Dataset:
    """Add the changes versus the baseline, the inhabitants above thresholds, the attributes.

    `changes` holds the exact path's changes of the totals, summed from their parts (NaN
    where not known that way: NO2 in the years of a cut); elsewhere a change is the total
    less the baseline's."""
    years = [int(y) for y in out["year"].values]
    if base is not None:
        sb = base.sel(year=years)
        for name in ("concentration", *_LINEAR_AGGREGATES.values()):
            if name in out and name in sb:
                ref = sb[name].load()
                change = out[name] - ref.astype(np.float32 if name == "concentration" else float)
                if changes and name in changes:
                    change = changes[name].where(changes[name].notnull(), change)
                out[f"{name}_change"] = change.assign_attrs(
                    units=out[name].attrs.get("units", "ug m-3"),
                    long_name=f"change of {name} versus the baseline (scenario - baseline)",
                )
    if weights is not None and "concentration" in out:
        _inhabitants(out, base, scenario, weights, how, notes)
    for var in out.data_vars:
        out[var].attrs.setdefault("units", "ug m-3")
    out.attrs.update(
        {
            "title": f"trajectoire scenario: {scenario.name}",
            "scenario_name": scenario.name,
            "scenario": scenario.describe(),
            "scenario_json": scenario.to_json(),
            "scenario_method": method,
            "scenario_notes": "; ".join(notes) if notes else "none",
        }
    )
    if base is not None:
        for key in ("map_years", "trajectoire_config_file", "trajectoire_config_hash"):
            if key in base.attrs:
                out.attrs[f"baseline_{key}"] = base.attrs[key]
        if base.encoding.get("source"):  # the file it was read from: write_scenario spares it
            out.attrs["baseline_file"] = str(base.encoding["source"])
    return out


def _inhabitants(
    out: xr.Dataset,
    base: xr.Dataset | None,
    scenario: Scenario,
    weights: np.ndarray | list[np.ndarray],
    how: str,
    notes: list[str],
) -> None:
    """Inhabitants of each territory living where the annual mean exceeds the threshold."""
    years = [int(y) for y in out["year"].values]
    pols = [str(p) for p in out["pollutant"].values]
    thr = np.array([scenario.thresholds.get(p, np.nan) for p in pols])
    totals = out["population_total"].values  # (year, territory)
    n_t = totals.shape[1]

    def count(conc: np.ndarray, w: np.ndarray, iy: int) -> np.ndarray:
        res = np.full((n_t, len(pols)), np.nan)
        for ip in range(len(pols)):
            plane = conc[ip]
            if np.isnan(thr[ip]) or not np.isfinite(plane).any():
                continue
            above = np.nan_to_num(plane, nan=-np.inf) > thr[ip]
            res[:, ip] = (w * above[None]).sum(axis=(1, 2))
            if how == "area":  # shares of the territory's area: times its inhabitants
                res[:, ip] *= totals[iy]
        return res

    scen = np.full((len(years), n_t, len(pols)), np.nan)
    ref = np.full_like(scen, np.nan)
    for iy, y in enumerate(years):
        w = weights[iy] if isinstance(weights, list) else weights
        scen[iy] = count(out["concentration"].sel(year=y).values, w, iy)
        if base is not None and "concentration" in base:
            ref[iy] = count(base["concentration"].sel(year=y).values, w, iy)
    anchored = _anchor_to_run(base, years, pols, thr, coords_t := out["territory"], scen, ref)
    if anchored:
        scen = np.clip(scen, 0.0, totals[:, :, None])
    coords = {"year": years, "territory": [str(t) for t in coords_t.values]}
    coords["pollutant"] = pols
    dims = ("year", "territory", "pollutant")
    method = {
        "own": "each territory's own inhabitants per cell, as the run counts them (the zones "
        "cut by the territories)",
        "population": "inhabitants per cell of the output's population map times the territory's "
        "share of the cell: the run's own count where a cell lies wholly in the territory, an "
        "approximation in the cells a border crosses (--recompute gives the run's own)",
    }.get(
        how,
        "territory inhabitants spread uniformly over its area (the output holds no "
        "population map; use --recompute for the run's own inhabitants)",
    )
    if anchored and how != "own":
        method = (
            f"{method}. For {', '.join(anchored)}, whose threshold is one of the run's, the "
            "baseline is the run's own inhabitants_above and the scenario that count plus the "
            "change the approximation gives"
        )
    attrs = {"units": "1", "comment": method}
    out["inhabitants_above"] = xr.DataArray(scen, dims=dims, coords=coords).assign_attrs(
        attrs, long_name="inhabitants where the scenario's annual mean exceeds the threshold"
    )
    if base is not None:
        out["baseline_inhabitants_above"] = xr.DataArray(
            ref, dims=dims, coords=coords
        ).assign_attrs(
            attrs, long_name="inhabitants where the baseline's annual mean exceeds the threshold"
        )
        out["inhabitants_above_change"] = (
            out["inhabitants_above"] - out["baseline_inhabitants_above"]
        ).assign_attrs(attrs, long_name="change of the inhabitants above the threshold")
    out["threshold"] = xr.DataArray(thr, dims="pollutant", coords={"pollutant": pols}).assign_attrs(
        units="ug m-3", long_name="annual-mean threshold of the inhabitants count"
    )
    if how == "area":
        notes.append(f"inhabitants above thresholds: {method}")


def _anchor_to_run(
    base: xr.Dataset | None,
    years: list[int],
    pols: list[str],
    thr: np.ndarray,
    territories: xr.DataArray,
    scen: np.ndarray,
    ref: np.ndarray,
) -> list[str]:
    """Where the baseline output counted the inhabitants above the same threshold (its
    ``inhabitants_above`` at a label of ``exposure_threshold`` of the same value), make
    `ref` ``(year, territory, pollutant)`` that count and `scen` that count plus the change
    of the approximate count, in place: one number for one fact (the run's count, of each
    territory's own inhabitants, is not in the output cell by cell). The pollutants done."""
    if base is None or "inhabitants_above" not in base or "exposure_threshold" not in base:
        return []
    counted = base["inhabitants_above"]
    if not {int(y) for y in years} <= {int(y) for y in counted["year"].values}:
        return []
    done = []
    limits = base["exposure_threshold"]
    for ip, p in enumerate(pols):
        if np.isnan(thr[ip]) or p not in limits["pollutant"].values:
            continue
        values = np.asarray(limits.sel(pollutant=p).values, dtype=float)
        same = np.flatnonzero(np.isclose(values, thr[ip], rtol=1e-9, atol=0.0))
        if not len(same):
            continue
        label = limits["threshold"].values[same[0]]
        at = counted.sel(year=years, pollutant=p, threshold=label)
        at = at.reindex(territory=territories.values).transpose("year", "territory")
        run = np.asarray(at.values, dtype=float)
        change = scen[:, :, ip] - ref[:, :, ip]  # NaN where the maps are not known
        ref[:, :, ip] = np.where(np.isfinite(run), run, ref[:, :, ip])
        scen[:, :, ip] = ref[:, :, ip] + change
        done.append(p)
    return done


def run_config_of(scenario: Scenario, baseline: str | Path) -> Path:
    """The run configuration of the recompute path: ``[scenario] run_config``, else the
    configuration file the baseline output names (``trajectoire_config_file``)."""
    if scenario.run_config is not None:
        path, key = scenario.run_config, f"{_from_file(scenario)}[scenario] run_config"
    else:
        base = open_output(baseline)
        named = base.attrs.get("trajectoire_config_file")
        base.close()
        if not named:
            raise ConfigError(
                f"{baseline}: names no run configuration; give it as [scenario] run_config."
            )
        path, key = Path(str(named)), f"the configuration {baseline} names"
    if not path.is_file():
        raise ConfigError(
            f"{key}: {str(path)!r} not found; set [scenario] run_config to the run's config.toml."
        )
    return path


def summary(ds: xr.Dataset) -> str:
    """A few lines: the scenario, the change of exposure in its last year, the notes."""
    year = int(ds["year"].values[-1])
    lines = [f"scenario {ds.attrs.get('scenario', '')} ({ds.attrs.get('scenario_method')})"]
    if "exposure_change" in ds:
        lines.append(f"change of the population-weighted mean in {year} [ug m-3]:")
        ch = ds["exposure_change"].sel(year=year)
        for t in ch["territory"].values:
            vals = ", ".join(
                f"{p} {float(v):+.3g}"
                for p, v in zip(ch["pollutant"].values, ch.sel(territory=t).values, strict=True)
                if np.isfinite(v)
            )
            lines.append(f"  {t}: {vals}")
    if ds.attrs.get("scenario_notes", "none") != "none":
        lines.append(f"notes: {ds.attrs['scenario_notes']}")
    return "\n".join(lines)


def write_scenario(ds: xr.Dataset, path: str | Path, *, dtype: str = "float32") -> Path:
    """Write a scenario (:func:`apply_scenario`, :func:`recompute_scenario`) as a CF NetCDF,
    atomically (temporary file, fsync, rename: :func:`trajectoire.io.netcdf.write_netcdf`).

    Raises
    ------
    trajectoire.InputError
        `path` is the baseline output the scenario was computed from
        (``attrs["baseline_file"]``), or an existing file that is not a NetCDF (a CSV, a
        configuration), which would be replaced; its directory is missing
        (:func:`trajectoire.io.netcdf.check_writable`).
    """
    baseline = ds.attrs.get("baseline_file")
    check_writable(path, what="write_scenario path", kind="NetCDF",
                   reads={"the baseline output of this scenario": baseline})  # fmt: skip
    out = ds.copy()
    for name in list(out.data_vars):
        if out[name].dtype == bool:
            out[name] = out[name].astype(np.int8)
    return write_netcdf(out, path, dtype=dtype)
