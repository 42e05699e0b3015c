"""Run configuration: the TOML file of a batch run, validated field by field.

A run is described by one TOML file (see ``docs/configuration.md``, which documents every
field). :func:`load_config` parses it with :mod:`tomllib`, validates it with the pydantic
models below (unknown keys are errors) and turns every validation failure into one
:class:`~trajectoire.errors.ConfigError` whose message names the file, the field
(``[grid] resolution``), what was received, what was expected and the fix.

Input paths are resolved relative to the directory of the configuration file and must
exist. The raw TOML text, the resolved configuration and the SHA-256 checksums of the input
files are kept on the :class:`RunConfig` so that a run can copy them into the global
attributes of its output.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property, partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from trajectoire._validate import did_you_mean, is_integer_number, year_ranges
from trajectoire._version import OUTPUT_REVISION, __version__
from trajectoire.assess.exposure import DEFAULT_QUANTILES, EXPOSURE_THRESHOLDS, registry_thresholds
from trajectoire.dispersion.plume import SIGMA_SCHEMES as _SIGMA_CODES
from trajectoire.errors import ConfigError, InputError, warn
from trajectoire.geo.grid import known_crs
from trajectoire.geo.territories import TERRITORIES
from trajectoire.meteo.classes import DEFAULT_STACK_SPEED_EDGES
from trajectoire.sectors import normalise_sector
from trajectoire.species import (
    DEPOSITION_VELOCITY_RANGE,
    REGULATED,
    SpeciesRegistry,
    current_species,
    deposition_velocity_range,
    load_species,
    normalise_pollutant,
    use_species,
)
from trajectoire.tables import check_encoding
from trajectoire.trajectory.trends import TRAJECTORY_METHODS, Method, TrajectoryMethod
from trajectoire.trajectory.uncertainty import Uncertainty, fractions_said

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "SIGMA_SCHEMES",
    "TERRITORY_IDS",
    "TRAJECTORY_METHODS",
    "AnchorInputs",
    "AttributionConfig",
    "CsvConfig",
    "DispersionConfig",
    "ExposureConfig",
    "GridConfig",
    "InputSpec",
    "InputsConfig",
    "MeteoConfig",
    "No2Config",
    "OutputConfig",
    "ProxiesConfig",
    "RunConfig",
    "RunSection",
    "SpeciesConfig",
    "TrajectoryConfig",
    "UncertaintyConfig",
    "load_config",
    "parse_years",
]

#: The seven study territories (stable ids, DESIGN.md).
TERRITORY_IDS: tuple[str, ...] = tuple(TERRITORIES)
#: Dispersion-coefficient schemes understood by ``trajectoire.dispersion`` (the keys of its
#: ``SIGMA_SCHEMES``, which defines them).
SIGMA_SCHEMES: tuple[str, ...] = tuple(_SIGMA_CODES)
#: Earliest year a run may rebuild (national trend series do not go further back).
MIN_YEAR = 1960
#: Latest year a run may rebuild: the current year (no data exists for the future).
MAX_YEAR = _dt.datetime.now(_dt.UTC).year

AttributionKey = Literal["sector", "territory"]
_ATTRIBUTION_KEYS: tuple[AttributionKey, ...] = ("sector", "territory")

_SECTION_DOC = "docs/configuration.md"


class _Section(BaseModel):
    """Base of every section: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _pollutant(value: str) -> str:
    try:
        return normalise_pollutant(value, what="")
    except InputError as exc:
        raise ValueError(str(exc).removeprefix(": ").rstrip(".")) from None


def _sector(value: str) -> str:
    try:
        return normalise_sector(value, what="")
    except InputError as exc:
        raise ValueError(str(exc).removeprefix(": ").rstrip(".")) from None


def _known_codec(value: str | None) -> str | None:
    """A CSV ``encoding`` Python knows (:func:`trajectoire.tables.check_encoding`),
    checked when the configuration is loaded, not blamed later on the first file read
    with it."""
    if value is not None:
        try:
            check_encoding(value, "")
        except InputError as exc:
            raise ValueError(
                str(exc).removeprefix(": ").rstrip(".")
                + " (or leave the key out: the encoding is detected)"
            ) from None
    return value


#: a CSV encoding: a codec name Python knows, or None (detected per file)
Encoding = Annotated[str | None, AfterValidator(_known_codec)]


def _unique(values: list[Any], what: str) -> list[Any]:
    dup = sorted({v for v in values if values.count(v) > 1}, key=str)
    if dup:
        raise ValueError(f"{what}: {dup} listed more than once; list each once")
    return values


def _one_key_per_id(
    keys: Iterable[Any], normalise: Callable[[Any], Any], kind: str, where: str = ""
) -> None:
    """Refuse two keys of one table that name the same id, the tables' :func:`_unique`.

    TOML refuses a key written twice, but not two spellings of one id (``B`` and
    ``B_Industry``, ``no2`` and ``NO2``): the later value would silently replace the first
    (or, kept as written, the one used would depend on the keys' order). `normalise` maps a
    key to its id (:func:`_sector`, :func:`_pollutant`...); call this once the keys are
    known valid. `where`, when given, starts the message (a table nested in the field's).
    """
    first: dict[Any, Any] = {}
    for key in keys:
        canon = normalise(key)
        if canon in first:
            head = f"{where}: " if where else ""
            raise ValueError(
                f"{head}{str(first[canon])!r} and {str(key)!r} both name {kind} {canon!r}; "
                f"a table gives each {kind} once: keep one of the two keys"
            )
        first[canon] = key


class RunSection(_Section):
    """``[run]``: name, years and pollutants of the run."""

    name: str = "trajectoire run"
    first_year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    last_year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    reference_year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    pollutants: list[str] = Field(default_factory=lambda: list(REGULATED), min_length=1)

    @field_validator("pollutants")
    @classmethod
    def _check_pollutants(cls, v: list[str]) -> list[str]:
        out = [_pollutant(p) for p in v]
        return _unique(out, "pollutants")

    @model_validator(mode="after")
    def _check_years(self) -> RunSection:
        if self.first_year > self.last_year:
            raise ValueError(
                f"first_year = {self.first_year} is after last_year = {self.last_year}; "
                "expected first_year <= last_year (swap them)"
            )
        return self


class GridConfig(_Section):
    """``[grid]``: the one regional grid of the run."""

    crs: str = "EPSG:2154"
    resolution: float = Field(default=100.0, gt=0, allow_inf_nan=False)
    buffer: float = Field(default=5000.0, ge=0, allow_inf_nan=False)
    territories: list[str] = Field(default_factory=lambda: list(TERRITORY_IDS), min_length=1)
    bounds: list[float] | None = None

    @field_validator("bounds")
    @classmethod
    def _check_bounds(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            ok = len(v) == 4 and all(math.isfinite(b) for b in v)
            if not ok or v[2] <= v[0] or v[3] <= v[1]:
                raise ValueError(
                    f"received {list(v)}; expected [xmin, ymin, xmax, ymax] in metres of "
                    "[grid] crs with xmin < xmax and ymin < ymax"
                )
        return v

    @field_validator("crs")
    @classmethod
    def _check_crs(cls, v: str) -> str:
        crs = known_crs(v)
        if crs is None:
            raise ValueError(f"{v!r} is not a CRS pyproj understands; e.g. 'EPSG:2154'")
        if not crs.is_projected:
            raise ValueError(
                f"{v!r} is not a projected CRS (cells must be in metres); use 'EPSG:2154'"
            )
        return v

    @field_validator("territories")
    @classmethod
    def _check_territories(cls, v: list[str]) -> list[str]:
        by_upper = {t.upper(): t for t in TERRITORY_IDS}
        out = []
        for t in v:
            canon = by_upper.get(str(t).strip().upper())
            if canon is None:
                hint = did_you_mean(str(t).upper(), TERRITORY_IDS)
                raise ValueError(
                    f"unknown territory {t!r}{hint}; expected ids among {list(TERRITORY_IDS)}"
                )
            out.append(canon)
        return _unique(out, "territories")


#: Suffixes that make a string option of an input a file path (resolved like ``path``).
FILE_SUFFIXES = (
    ".csv", ".gz", ".tsv", ".txt", ".gpkg", ".geojson", ".json", ".shp", ".nc", ".nc4",
    ".tif", ".tiff", ".parquet", ".xlsx", ".zip", ".toml",
)  # fmt: skip


def _is_file_name(value: Any) -> bool:
    return isinstance(value, str) and value.lower().endswith(FILE_SUFFIXES)


def _resolved(path: Path) -> Path:
    """``path.resolve()``, a loop of symbolic links said in one line (``ValueError``)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11: RuntimeError; 3.13: OSError
        raise ValueError(
            f"{path}: a loop of symbolic links ({exc}); expected a link chain that ends on a "
            "file. Fix the links or give the file's real path"
        ) from None


def _resolve_path(value: Any, base: Path, what: str) -> Path:
    if not isinstance(value, str | Path):
        raise ValueError(f"expected a file path (a string) for {what}, got {type(value).__name__}")
    path = Path(value).expanduser()
    given = path if path.is_absolute() else base / path
    resolved = _resolved(given)
    if not resolved.exists():
        link = (
            f" (a symbolic link to {resolved}, which does not exist)" if given.is_symlink() else ""
        )
        raise ValueError(
            f"file not found: {given if link else resolved}{link}. Fix the path (relative "
            f"paths are read from {_resolved(base)}), or leave the key out if this input is "
            "optional"
        )
    return resolved


class InputSpec(BaseModel):
    """One input of ``[inputs]``: a file and how to read it.

    Written either as a path (``meteo = "meteo.csv.gz"``: the library's own layout, see
    ``docs/input-formats.md``) or as a table::

        [inputs.point_sources]
        path = "irep2021_sites.csv"   # relative to the configuration file
        format = "irep"               # a built-in reader (docs/input-formats.md)
        unit = "kg yr-1"              # units of the amounts
        crs = "EPSG:2154"             # CRS of plain x/y columns
        layer = "sites"               # layer of a GeoPackage
        columns = { source_id = "Identifiant" }   # expected name = name in the file
        encoding = "cp1252"           # CSV dialect, else detected
        delimiter = ";"
        decimal = ","
        emissions = "emissions.csv"   # any keyword of the format's reader, by its name

    Keys other than those above are keywords of the format's reader; string values ending
    with a file suffix (``.csv``, ``.gpkg``, ``.nc``...) are paths, resolved like ``path``.
    Which keywords each format takes is checked when the configuration is loaded
    (:mod:`trajectoire.io.formats`).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    path: Path
    paths: list[Path] = Field(default_factory=list)
    format: str = "trajectoire"
    layer: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    unit: str | None = None
    crs: str | None = None
    encoding: Encoding = None
    delimiter: Literal[",", ";", "\t"] | None = None
    decimal: Literal[".", ","] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_path(cls, value: Any, info: ValidationInfo) -> Any:
        base = Path((info.context or {}).get("base_dir", "."))
        if isinstance(value, str | Path):
            resolved = _resolve_path(value, base, "the input")
            return {"path": resolved, "paths": [resolved]}
        if not isinstance(value, dict):
            raise ValueError(
                "expected a file path (a string) or a table with at least 'path', got "
                f"{type(value).__name__}"
            )
        if "path" not in value:
            raise ValueError("a table input needs 'path' (the file to read, or a list of them)")
        if "paths" in value:
            raise ValueError('write several files as path = ["a.nc", "b.nc"], not paths')
        out = dict(value)
        given = value["path"] if isinstance(value["path"], list) else [value["path"]]
        if not given:
            raise ValueError("'path' is an empty list; give at least one file")
        out["paths"] = [_resolve_path(f, base, "'path'") for f in given]
        out["path"] = out["paths"][0]
        for k, v in value.items():
            if k in cls.model_fields:
                continue
            if _is_file_name(v):
                out[k] = str(_resolve_path(v, base, repr(k)))
            elif isinstance(v, list) and v and all(_is_file_name(f) for f in v):
                out[k] = [str(_resolve_path(f, base, f"{k!r}")) for f in v]
        return out

    @property
    def options(self) -> dict[str, Any]:
        """The format-specific keywords (the keys that are not fields of this model)."""
        return dict(self.model_extra or {})

    def files(self) -> list[Path]:
        """The files this input reads: ``path`` and the options that are paths."""
        extra = []
        for v in self.options.values():
            for f in v if isinstance(v, list) else [v]:
                if _is_file_name(f) and Path(f).is_absolute():
                    extra.append(Path(f))
        return [*(self.paths or [self.path]), *extra]

    def dialect(self) -> dict[str, str | None]:
        """Keywords of :func:`trajectoire.tables.dialect_defaults` (None: detected)."""
        return {"encoding": self.encoding, "sep": self.delimiter, "decimal": self.decimal}

    def how(self) -> dict[str, Any]:
        """How the input is read: every key but the paths (what a run's hash depends on,
        with the files' checksums)."""
        files = {str(f) for f in self.files()}
        return {
            k: v
            for k, v in self.model_dump(mode="json").items()
            if k not in ("path", "paths")
            and not (isinstance(v, str) and v in files)
            and not (isinstance(v, list) and v and all(f in files for f in v))
        }

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


class AnchorInputs(_Section):
    """One ``[[inputs.anchors]]`` table: the emission inputs of an inventory of another
    year than the reference, which the rebuilt trajectory reproduces exactly at its year
    (``docs/trajectory.md``, Anchors).

    Its inventory is built as the reference's is, on the run's grid, with the run's
    ``[inputs] zones``, ``landuse`` and ``[proxies]`` (the ``population`` proxy takes the
    zones' census nearest `year`); `road_emission_factors` defaults to ``[inputs]
    road_emission_factors``. Its point sources give figures of the reference's stacks
    (``[inputs] point_sources``) in `year`; their positions and parameters are the
    reference's.
    """

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    point_sources: InputSpec | None = None
    roads: InputSpec | None = None
    road_emission_factors: InputSpec | None = None
    area_emissions: InputSpec | None = None
    gridded: InputSpec | None = None

    @model_validator(mode="after")
    def _check_emission_inputs(self) -> AnchorInputs:
        if not (self.point_sources or self.roads or self.area_emissions or self.gridded):
            raise ValueError(
                f"anchor of year {self.year}: no emission input; give at least one of "
                "point_sources, roads, area_emissions or gridded (docs/configuration.md)"
            )
        return self

    def given(self) -> dict[str, InputSpec]:
        """The inputs given, ``{key: InputSpec}``, in declaration order."""
        return {k: v for k, v in self if isinstance(v, InputSpec)}


class InputsConfig(_Section):
    """``[inputs]``: input files (see ``docs/input-formats.md``); only ``territories`` is required.

    Each input is a path, or a table that says how to read it (:class:`InputSpec`). Paths
    are resolved relative to the configuration file's directory and must exist.
    ``[[inputs.anchors]]`` tables (:class:`AnchorInputs`) add inventories of other years.
    """

    territories: InputSpec
    zones: InputSpec | None = None
    point_sources: InputSpec | None = None
    point_source_history: InputSpec | None = None
    roads: InputSpec | None = None
    road_emission_factors: InputSpec | None = None
    area_emissions: InputSpec | None = None
    gridded: InputSpec | None = None
    landuse: InputSpec | None = None
    trends: InputSpec | None = None
    surrogates: InputSpec | None = None
    meteo: InputSpec | None = None
    stations: InputSpec | None = None
    observations: InputSpec | None = None
    observations_hourly: InputSpec | None = None
    background: InputSpec | None = None
    exposure_zones: InputSpec | None = None
    anchors: list[AnchorInputs] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_formats(self) -> InputsConfig:
        from trajectoire.io.formats import check_spec  # the readers of every stage

        for key, spec in self.given().items():
            check_spec(key, spec)
        for i, anchor in enumerate(self.anchors):
            for key, spec in anchor.given().items():  # named as the anchor's, not [inputs]'
                check_spec(key, spec, f"[[inputs.anchors]] #{i + 1} (year {anchor.year}) {key}")
        years = [a.year for a in self.anchors]
        repeated = sorted({y for y in years if years.count(y) > 1})
        if repeated:
            raise ValueError(
                f"[[inputs.anchors]] year: {repeated} given by several anchors; give one "
                "inventory per year"
            )
        return self

    def given(self) -> dict[str, InputSpec]:
        """The inputs given, ``{key: InputSpec}``, in declaration order (the anchors'
        inputs are :meth:`anchor_inputs`)."""
        return {k: v for k, v in self if isinstance(v, InputSpec)}

    def anchor_inputs(self) -> dict[str, InputSpec]:
        """The anchors' inputs, ``{"anchors[i].key": InputSpec}``, in order."""
        return {
            f"anchors[{i}].{k}": spec
            for i, anchor in enumerate(self.anchors)
            for k, spec in anchor.given().items()
        }

    def files(self) -> dict[str, Path]:
        """The files of the inputs given, ``{key: resolved path}`` (``key.option`` for the
        files named by an input's options; ``anchors[i].key`` for an anchor's), in
        declaration order."""
        out: dict[str, Path] = {}
        for k, spec in {**self.given(), **self.anchor_inputs()}.items():
            for i, f in enumerate(spec.files()):
                out[k if i == 0 else f"{k}.{i}"] = f
        return out


class CsvConfig(_Section):
    """``[csv]``: the dialect of the CSV inputs, when detection is not wanted.

    Each key left out is detected per file (:func:`trajectoire.tables.read_table`: encoding
    among UTF-8, UTF-8 with BOM and Windows-1252; delimiter among ``,`` ``;`` tab; decimal
    comma).
    """

    encoding: Encoding = None
    delimiter: Literal[",", ";", "\t"] | None = None
    decimal: Literal[".", ","] | None = None

    def dialect(self) -> dict[str, str | None]:
        """Keywords of :func:`trajectoire.tables.dialect_defaults`."""
        return {"encoding": self.encoding, "sep": self.delimiter, "decimal": self.decimal}


class UncertaintyConfig(_Section):
    """``[trajectory.uncertainty]``: Monte Carlo ensemble of the emissions, propagated to
    the concentrations (:func:`trajectoire.trajectory.uncertainty.propagate`)."""

    realizations: int = Field(default=0, ge=0)
    seed: int = Field(default=1, ge=0)
    half_width: float | dict[str, float | dict[str, float]] = 30.0
    rho: float = Field(default=0.9, ge=0.0, le=1.0)
    percentiles: list[float] = Field(default_factory=lambda: [2.5, 50.0, 97.5], min_length=1)

    @field_validator("half_width", mode="before")
    @classmethod
    def _check_half_width(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if isinstance(v, float):
            if not (math.isfinite(v) and v >= 0.0):
                raise ValueError(f"{v!r}: expected a 95 % half-width >= 0 [%]")
            return v
        if not isinstance(v, dict):
            return v  # pydantic names the type
        if "default" not in v:
            raise ValueError(
                f"a table {sorted(v)} without 'default': add default = <half-width [%]> for "
                "the sectors not listed"
            )
        out: dict[str, Any] = {}
        for key, val in v.items():
            name = "default" if key == "default" else cls._half_width_sector(key)
            if isinstance(val, dict):
                if name == "default":
                    raise ValueError("'default' takes a number, not a table of pollutants")
                given = val
                val = {_pollutant(p): cls._check_half_width(x) for p, x in given.items()}
                _one_key_per_id(
                    given, _pollutant, "pollutant", f"[trajectory.uncertainty] half_width.{key}"
                )
            else:
                val = cls._check_half_width(val)
            out[name] = val
        _one_key_per_id(v, lambda k: k if k == "default" else _sector(k), "sector")
        return out

    @staticmethod
    def _half_width_sector(key: str) -> str:
        try:
            return _sector(key)
        except ValueError:
            try:
                pollutant = _pollutant(key)
            except ValueError:
                pollutant = None
            if pollutant is None:
                raise
            raise ValueError(
                f"{key!r} is a pollutant, not a sector: the keys of half_width are sectors; "
                f"give a pollutant's half-width inside its sector's table, e.g. "
                f"F_RoadTransport = {{ {pollutant} = 100.0 }}"
            ) from None

    @field_validator("percentiles")
    @classmethod
    def _check_percentiles(cls, v: list[float]) -> list[float]:
        bad = [p for p in v if not 0.0 <= p <= 100.0]
        if bad:
            raise ValueError(f"{bad}: percentiles are in [0, 100] [%]")
        if sorted(set(v)) != list(v):
            raise ValueError(f"{v}: expected increasing percentiles, each once")
        fractions = fractions_said(v)  # (0.025, 0.5, 0.975): said at load, not after the run
        if fractions:
            raise ValueError(f"{v}: {fractions}")
        return v

    def settings(self) -> Uncertainty | None:
        """The :class:`~trajectoire.trajectory.uncertainty.Uncertainty` of the run (None
        when ``realizations = 0``: no ensemble)."""
        if self.realizations == 0:
            return None
        hw: Any = self.half_width
        if isinstance(hw, dict):  # {sector: {pollutant: x}} -> {(sector, pollutant): x}
            flat: dict[Any, float] = {}
            for key, val in hw.items():
                if isinstance(val, dict):
                    flat.update({(key, p): x for p, x in val.items()})
                else:
                    flat[key] = val
            hw = flat
        return Uncertainty(hw, self.realizations, self.rho, self.seed, tuple(self.percentiles))


_NO_DRIVER = (
    "method 'surrogate' names no driver series; write it as a table, "
    '{ kind = "surrogate", driver = "<a driver of [inputs] surrogates>" }, per sector in '
    "[trajectory.methods]"
)


_NO_OLD_SERIES = (
    "method 'overlap' names no older series to splice; write it as a table, "
    '{ kind = "overlap", old_series = "<the older series>" }, per sector in '
    "[trajectory.methods] (docs/trajectory.md)"
)


def _method_spec(value: Any, where: str) -> str | dict[str, Any]:
    """A method name, or a table of :class:`trajectoire.trajectory.Method` fields, checked."""
    if isinstance(value, str):
        if value not in TRAJECTORY_METHODS:
            hint = did_you_mean(value, TRAJECTORY_METHODS)
            raise ValueError(
                f"{where}: method {value!r}{hint}; expected one of {list(TRAJECTORY_METHODS)}"
            )
        if value == "surrogate":
            raise ValueError(f"{where}: {_NO_DRIVER}")
        if value == "overlap":
            raise ValueError(f"{where}: {_NO_OLD_SERIES}")
        return value
    if isinstance(value, dict) and "kind" in value:
        fields = set(Method.__dataclass_fields__)
        unknown = sorted(set(value) - fields)
        if unknown:
            raise ValueError(
                f"{where}: unknown method key(s) {unknown}; expected some of {sorted(fields)}"
            )
        _check_method_table(value, where)
        try:
            _method(value)
        except (TypeError, ConfigError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        return dict(value)
    raise ValueError(
        f"{where}: expected a method name ({', '.join(TRAJECTORY_METHODS)}), a table with "
        "'kind' and its parameters, or a table of them per pollutant"
    )


def _check_method_table(value: dict[str, Any], where: str) -> None:
    """The keys of a method table that :class:`~trajectoire.trajectory.Method` does not
    check, in the configuration's words: whole numbers of years (``overlap_years = [2005,
    2010]``, ``fit_years``, ``max_years``: ``2005.5`` is not truncated), and the series a
    kind needs (named as the table's key to add, not as Python's keyword)."""
    years = value.get("overlap_years")
    if years is not None and not (
        isinstance(years, list) and len(years) == 2 and all(is_integer_number(y) for y in years)
    ):
        raise ValueError(
            f"{where}: overlap_years = {years!r}; expected [first, last], two whole years "
            "(e.g. overlap_years = [2005, 2010])"
        )
    for key in ("fit_years", "max_years"):
        if key in value and not is_integer_number(value[key]):
            raise ValueError(
                f"{where}: {key} = {value[key]!r}; expected a whole number of years (e.g. "
                f"{key} = 10)"
            )
    kind = value.get("kind")
    if kind == "overlap" and value.get("old_series") is None:
        raise ValueError(
            f'{where}: kind = "overlap" needs the older series to splice: add old_series = '
            '"<name of the older series>" to the table'
        )
    if kind == "surrogate" and value.get("driver") is None:
        raise ValueError(f"{where}: {_NO_DRIVER}")


def _method(spec: str | dict[str, Any]) -> Method:
    if isinstance(spec, str):
        return Method(spec)
    kw = dict(spec)
    if kw.get("overlap_years") is not None:
        kw["overlap_years"] = tuple(kw["overlap_years"])
    return Method(**kw)


class TrajectoryConfig(_Section):
    """``[trajectory]``: backcasting method by default, per GNFR sector and per pollutant.

    ``[trajectory.methods]`` maps a sector to a method name (``"index"``...), to a table of
    method parameters (``{ kind = "extrapolation", trend = "multiplicative" }``, the fields
    of :class:`trajectoire.trajectory.Method`), or to a table per pollutant of either
    (``F_RoadTransport = { NOx = "index", PM10 = { kind = "extrapolation" } }``).
    """

    default_method: TrajectoryMethod = "index"
    methods: dict[str, Any] = Field(default_factory=dict)
    uncertainty: UncertaintyConfig = Field(default_factory=lambda: UncertaintyConfig())

    @field_validator("default_method")
    @classmethod
    def _check_default_method(cls, v: str) -> str:
        # a driver series, an older series to splice: a sector's own, none fits every sector
        for kind, why in (("surrogate", _NO_DRIVER), ("overlap", _NO_OLD_SERIES)):
            if v == kind:
                raise ValueError(  # the key is named by the error's location
                    why + "; keep default_method index or extrapolation"
                )
        return v

    def kinds(self) -> dict[str, str]:
        """The method kind of each place that names one: ``{"[trajectory] default_method":
        kind, "[trajectory.methods] <sector>[.<pollutant>]": kind, ...}``."""
        out = {"[trajectory] default_method": str(self.default_method)}
        for sector, spec in self.methods.items():
            where = f"[trajectory.methods] {sector}"
            if isinstance(spec, str) or "kind" in spec:
                out[where] = spec if isinstance(spec, str) else str(spec["kind"])
            else:
                for pol, one in spec.items():
                    out[f"{where}.{pol}"] = one if isinstance(one, str) else str(one["kind"])
        return out

    @field_validator("methods")
    @classmethod
    def _check_methods(cls, v: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, spec in v.items():
            where = f"[trajectory.methods] {k}"
            if isinstance(spec, dict) and "kind" not in spec:
                checked: Any = {
                    _pollutant(p): _method_spec(m, f"{where}.{p}") for p, m in spec.items()
                }
                _one_key_per_id(spec, _pollutant, "pollutant", where)
            else:
                checked = _method_spec(spec, where)
            out[_sector(k)] = checked
        _one_key_per_id(v, _sector, "sector")
        return out

    def method_of(self, sector: str) -> str:
        """Backcasting method of a GNFR sector (its override, else `default_method`), in
        words (``"NOx: index, PM10: extrapolation"`` when it differs per pollutant)."""
        spec = self.methods.get(sector, self.default_method)
        if isinstance(spec, str):
            return spec
        if "kind" in spec:
            return str(spec["kind"])
        return ", ".join(f"{p}: {m if isinstance(m, str) else m['kind']}" for p, m in spec.items())

    def methods_for(
        self, sectors: Iterable[str], pollutants: Iterable[str] | None = None
    ) -> dict[str | tuple[str, str], Method]:
        """The methods of :func:`trajectoire.trajectory.rebuild` for `sectors` (keys: sector,
        or ``(sector, pollutant)`` where the configuration says one per pollutant, for the
        `pollutants` given, all by default)."""
        keep = None if pollutants is None else set(pollutants)
        out: dict[str | tuple[str, str], Method] = {"default": Method(self.default_method)}
        for s in sectors:
            spec = self.methods.get(s)
            if spec is None:
                continue
            if isinstance(spec, str) or "kind" in spec:
                out[s] = _method(spec)
            else:
                out.update(
                    {(s, p): _method(m) for p, m in spec.items() if keep is None or p in keep}
                )
        return out


class MeteoConfig(_Section):
    """``[meteo]``: meteorological station and stability-class parameters."""

    latitude: float = Field(default=50.57, ge=-90, le=90)
    longitude: float = Field(default=3.10, ge=-180, le=180)
    roughness_length: float = Field(default=0.5, gt=0, allow_inf_nan=False)
    calm_threshold: float = Field(default=0.5, gt=0, allow_inf_nan=False)  # [m s-1]
    direction_sectors: int = Field(default=36, ge=1)
    direction_resolution: float | Literal["auto"] = Field(default="auto")
    urban_stable_adjustment: bool = False
    mixing_height: Literal["auto", "data", "classes", "mechanical"] = "auto"
    # speed classes of the stacks' table (plume rise); None: the library default
    # (trajectoire.meteo.DEFAULT_STACK_SPEED_EDGES), []: the run's speed classes
    stack_speed_edges: list[float] | None = None

    @field_validator("stack_speed_edges")
    @classmethod
    def _check_stack_speed_edges(cls, v: list[float] | None) -> list[float] | None:
        increasing = all(v[i + 1] > v[i] for i in range(len(v) - 1)) if v else True
        if v and not (v[0] == 0 and all(math.isfinite(e) for e in v) and increasing):
            raise ValueError(
                f"received {v!r}; expected increasing lower edges [m s-1] starting at 0, e.g. "
                f"[0, 0.05, 0.15, 0.25, ...] (classes centred on each 0.1 m s-1 reported), or "
                f"[] for the run's speed classes, or leave it out for the library's default. "
                f"Fix the value (see {_SECTION_DOC})"
            )
        return v

    @field_validator("direction_resolution")
    @classmethod
    def _check_direction_resolution(cls, v: float | str) -> float | str:
        if v != "auto" and not (isinstance(v, int | float) and 0 <= v < 360):
            raise ValueError(
                f"received {v!r}; expected 'auto' or a width in [0, 360) degrees (10 for "
                f"SYNOP / Météo-France reports, 0 for exact directions). Fix the value (see "
                f"{_SECTION_DOC})"
            )
        return v


class _PerKeyRange(typing.NamedTuple):
    """Bounds ``0 <= value <= high`` (or ``< high``) of a per-sector or per-pollutant table
    and how its message reads."""

    key: Callable[[str], str]  # normalises a key: _sector or _pollutant
    what: str  # the quantity, e.g. "release height"
    symbol: str  # its symbol in the expectation, e.g. "h"
    units: str
    high: float
    high_included: bool
    guidance: str = ""  # typical values or a fix, added in parentheses


#: The per-key tables of ``[dispersion]`` and their bounds.
_PER_KEY_RANGES: dict[str, _PerKeyRange] = {
    "release_height": _PerKeyRange(_sector, "release height", "h", "m", 1e4, False),
    "initial_sigma_z": _PerKeyRange(
        _sector,
        "initial sigma_z",
        "sigma_z0",
        "m",
        100.0,
        True,
        "about 1.5 to 2 m for road traffic, RLINE / Snyder et al. 2013",
    ),
    "deposition_velocity": _PerKeyRange(
        _pollutant,
        "deposition velocity",
        "v_d",
        "m s-1",
        1.0,
        True,
        "0.001 to 0.05 for gases and fine particles; convert cm s-1 to m s-1",
    ),
}


def _within(table: dict[str, float], bounds: _PerKeyRange) -> dict[str, float]:
    """`table` under normalised keys, each value checked against `bounds` (NaN fails)."""
    out = {}
    for k, x in table.items():
        below = x <= bounds.high if bounds.high_included else x < bounds.high
        if not (x >= 0 and below):
            op = "<=" if bounds.high_included else "<"
            hint = f" ({bounds.guidance})" if bounds.guidance else ""
            raise ValueError(
                f"{bounds.what} of {k!r} is {x} {bounds.units}; expected 0 <= {bounds.symbol} "
                f"{op} {bounds.high:g} {bounds.units}{hint}"
            )
        out[bounds.key(k)] = x
    _one_key_per_id(table, bounds.key, "sector" if bounds.key is _sector else "pollutant")
    return out


class DispersionConfig(_Section):
    """``[dispersion]``: climatological Gaussian-plume kernel."""

    radius: float = Field(default=20000.0, gt=0, allow_inf_nan=False)
    sigma: str = "briggs-urban"
    receptor_height: float = Field(default=1.5, ge=0, allow_inf_nan=False)
    release_height: dict[str, float] = Field(default_factory=dict)
    initial_sigma_z: dict[str, float] = Field(default_factory=dict)
    dry_deposition: bool | list[str] = False
    deposition_velocity: dict[str, float] = Field(default_factory=dict)
    decay: bool | Literal["emerging"] | list[str] = "emerging"
    sector_shape: Literal["gauss", "hat", "flat"] = "gauss"

    @field_validator("dry_deposition")
    @classmethod
    def _check_dry_deposition(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, bool):
            return v
        out = [_pollutant(p) for p in v]
        return _unique(out, "dry_deposition")

    @field_validator("decay")
    @classmethod
    def _check_decay(cls, v: bool | str | list[str]) -> bool | str | list[str]:
        if isinstance(v, bool | str):
            return v
        out = [_pollutant(p) for p in v]
        return _unique(out, "decay")

    def deposits(self, pollutant: str) -> bool:
        """Whether `pollutant` (an id) is asked to deposit: ``dry_deposition = true``, or a
        list that names it."""
        dd = self.dry_deposition
        return bool(dd) if isinstance(dd, bool) else pollutant in dd

    def decays(self, pollutant: str) -> bool:
        """Whether the registry's ``half_life`` of `pollutant` (an id) applies in the run:
        ``decay = true`` (every species with one), ``"emerging"`` (the default: the
        emerging species only, so the regulated results are those without loss), a list of
        ids, or ``false``."""
        d = self.decay
        if isinstance(d, bool):
            return d
        if d == "emerging":
            return bool(current_species().species(pollutant).emerging)
        return pollutant in d

    @field_validator("sigma")
    @classmethod
    def _check_sigma(cls, v: str) -> str:
        if v not in SIGMA_SCHEMES:
            hint = did_you_mean(v, SIGMA_SCHEMES)
            raise ValueError(
                f"received {v!r}{hint}; expected one of {', '.join(map(repr, SIGMA_SCHEMES))}. "
                f"Fix the value (see {_SECTION_DOC})"
            )
        return v

    @field_validator(*_PER_KEY_RANGES)
    @classmethod
    def _check_per_key_ranges(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        out = _within(v, _PER_KEY_RANGES[str(info.field_name)])
        if info.field_name == "deposition_velocity":
            _doubt_deposition_velocities(out)
        return out


def _doubt_deposition_velocities(table: dict[str, float]) -> None:
    """Warn, in one line, of ``[dispersion] deposition_velocity`` values above the dry
    deposition velocities of gases and particles (:data:`DEPOSITION_VELOCITY_RANGE`, the
    bound of the species files): most likely cm s-1 written as m s-1. Taken as written."""
    doubtful = {k: x for k, x in table.items() if x > DEPOSITION_VELOCITY_RANGE[1]}
    if not doubtful:
        return
    given = ", ".join(f"{k} = {x:g}" for k, x in doubtful.items())
    fixed = ", ".join(f'"{k}" = {x / 100:g}' for k, x in doubtful.items())
    warn(
        f"[dispersion] deposition_velocity: {given} m s-1 above {deposition_velocity_range()}; "
        f"cm s-1 written as m s-1? In m s-1: deposition_velocity = {{ {fixed} }}. Taken as "
        "written.",
        stacklevel=2,
    )


class AttributionConfig(_Section):
    """``[attribution]``: what contributions are computed and which years get full maps."""

    by: list[AttributionKey] = Field(default_factory=lambda: list(_ATTRIBUTION_KEYS))
    map_years: list[int] = Field(default_factory=list)

    @field_validator("by", "map_years")
    @classmethod
    def _no_duplicates(cls, v: list[Any], info: ValidationInfo) -> list[Any]:
        return _unique(list(v), str(info.field_name))

    @field_validator("by")
    @classmethod
    def _both_splits(cls, v: list[AttributionKey]) -> list[AttributionKey]:
        """``by`` is kept for the configurations that set it; the run always splits the
        contributions both ways, so another value is said, not taken in silence."""
        if set(v) != set(_ATTRIBUTION_KEYS):
            warn(
                f"[attribution] by = {list(v)}: the run always splits the contributions by "
                "sector and by territory of origin (both are needed by the report, the "
                "accessor and the scenarios; the split by origin costs a small part of a "
                "year); this key has no effect and will be removed: leave it out "
                "(docs/configuration.md)",
                stacklevel=2,
            )
        return v


class No2Config(_Section):
    """``[no2]``: NOx to NO2 conversion (``trajectoire.dispersion.chemistry``, issue 14).

    ``method = "fno2"`` (default) adds each sector's primary NO2, ``f_s(year) × NOx_s``, and
    converts the rest (NO) with the `curve`; ``"romberg1996"`` or ``"baechlin2008"`` convert
    the whole NOx with that curve (the behaviour before issue 14). ``fno2`` replaces the
    default f-NO2 series (``FNO2_DEFAULT``) of the sectors it names:
    ``F_RoadTransport = { 1990 = 0.05, 2010 = 0.20 }``, linear between the years given.
    """

    method: Literal["fno2", "romberg1996", "baechlin2008"] = "fno2"
    curve: Literal["romberg1996", "baechlin2008"] = "romberg1996"
    fno2: dict[str, dict[int, float]] = Field(default_factory=dict)

    @field_validator("fno2", mode="before")
    @classmethod
    def _check_fno2(cls, v: Any) -> dict[str, dict[int, float]]:
        if not isinstance(v, dict):
            raise ValueError("expected a table { <sector> = { <year> = <share>, ... }, ... }")
        out: dict[str, dict[int, float]] = {}
        for k, series in v.items():
            sector = _sector(str(k))
            if not isinstance(series, dict) or not series:
                raise ValueError(
                    f"{k}: expected a table {{ <year> = <share>, ... }}, got {series!r}"
                )
            out[sector] = {}
            for year, share in series.items():
                y = _fno2_year(k, year)
                if isinstance(share, bool) or not isinstance(share, int | float):
                    raise ValueError(f"{k} {year}: share {share!r} is not a number")
                if not 0.0 <= share <= 1.0:
                    raise ValueError(
                        f"{k} {year}: share {share} outside 0..1; give the fraction of the "
                        "sector's NOx emitted as NO2"
                    )
                out[sector][y] = float(share)
            _one_key_per_id(series, partial(_fno2_year, k), "year", f"[no2.fno2] {k}")
        _one_key_per_id(v, lambda key: _sector(str(key)), "sector")
        return out


def _fno2_year(sector: Any, year: Any) -> int:
    try:
        y = int(str(year))
    except ValueError:
        raise ValueError(f"{sector} {year!r}: not a year") from None
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"{sector} {y}: year outside {MIN_YEAR}..{MAX_YEAR}")
    return y


class OutputConfig(_Section):
    """``[output]``: how the output NetCDF is written, and the optional fused maps.

    With ``fusion = true`` the run writes ``concentration_fused`` and ``fusion_skill``
    (``docs/fusion.md``): the ``fusion_*`` keys are the options of
    :func:`trajectoire.assess.fuse` (``fusion_idw_radius`` left out: no search radius).
    """

    mask_beyond_buffer: bool = True
    dtype: Literal["float32", "float64"] = "float32"
    significant_digits: int | None = Field(default=None, ge=1, le=7)
    fusion: bool = False
    fusion_method: Literal["kriging", "idw"] = "kriging"
    fusion_mode: Literal["additive", "multiplicative"] = "additive"
    fusion_variogram: Literal["exponential", "spherical"] = "exponential"
    fusion_kriging: Literal["ordinary", "simple"] = "ordinary"
    fusion_idw_power: float = Field(default=2.0, gt=0, le=10, allow_inf_nan=False)
    fusion_idw_radius: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    fusion_min_stations: int = Field(default=4, ge=3)

    def fusion_options(self) -> dict[str, Any] | None:
        """Keywords of :func:`trajectoire.assess.fuse` (None when ``fusion`` is off)."""
        if not self.fusion:
            return None
        return {
            "method": self.fusion_method,
            "mode": self.fusion_mode,
            "variogram": self.fusion_variogram,
            "kriging": self.fusion_kriging,
            "power": float(self.fusion_idw_power),
            "radius": math.inf if self.fusion_idw_radius is None else self.fusion_idw_radius,
        }


class ExposureConfig(_Section):
    """``[exposure]``: the reference values and quantiles of the exposure statistics.

    ``thresholds`` adds labelled values to the built-in ones
    (:data:`trajectoire.assess.exposure.EXPOSURE_THRESHOLDS`: ``WHO2021``, ``EU2030``,
    ``EU2008``): ``{ "my label" = { NO2 = 25.0, "PM2.5" = 8.0 } }`` [ug m-3, annual means].
    ``quantiles`` replaces the population-weighted quantiles written (``exposure_quantile``),
    probabilities strictly between 0 and 1, increasing.
    """

    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    quantiles: list[float] = Field(default_factory=lambda: list(DEFAULT_QUANTILES))
    #: what the polygons of ``[inputs] exposure_zones`` are, in the reports' words: a plural
    #: noun phrase without article (``"écoles"``), or ``{ fr = "écoles", en = "schools" }``;
    #: None (default): the priority neighbourhoods of urban policy (QPV). Wording only: it
    #: changes no number and does not enter the configuration's hash.
    zones_name: str | dict[str, str] | None = None

    @field_validator("zones_name", mode="before")
    @classmethod
    def _check_zones_name(cls, v: Any) -> Any:
        if v is None:
            return v
        names = v if isinstance(v, dict) else {"fr": v, "en": v}
        bad = [k for k in names if k not in ("fr", "en")]
        if bad:
            raise ValueError(f"{bad}: the languages of zones_name are 'fr' and 'en'")
        for lang, text in names.items():
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"{lang} = {text!r}: expected a plural noun phrase without article, e.g. "
                    '"écoles" (the report writes "les écoles")'
                )
        return v

    @field_validator("thresholds", mode="before")
    @classmethod
    def _check_thresholds(cls, v: Any) -> dict[str, dict[str, float]]:
        if not isinstance(v, dict):
            raise ValueError(
                f'expected a table {{ "label" = {{ <pollutant> = <value>, ... }}, ... }}, got {v!r}'
            )
        out: dict[str, dict[str, float]] = {}
        for label, values in v.items():
            where = f"[exposure.thresholds] {label!r}"
            if not str(label).strip():
                raise ValueError("[exposure.thresholds]: a label is empty; name each threshold")
            if label in EXPOSURE_THRESHOLDS:
                raise ValueError(
                    f"{where} is a built-in label ({', '.join(EXPOSURE_THRESHOLDS)}); "
                    "its values are always written: choose another label"
                )
            if not isinstance(values, dict) or not values:
                raise ValueError(
                    f"{where}: expected a table {{ <pollutant> = <value> }}, got {values!r}"
                )
            out[str(label)] = {}
            for pol, value in values.items():
                try:
                    canon = _pollutant(str(pol))
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{where} {pol}: {value!r} is not a number [ug m-3]")
                if not (math.isfinite(value) and value > 0):
                    raise ValueError(
                        f"{where} {pol}: {value} is not a concentration; expected a finite "
                        "value > 0 [ug m-3] (an annual mean)"
                    )
                out[str(label)][canon] = float(value)
            _one_key_per_id(values, lambda p: _pollutant(str(p)), "pollutant", where)
        return out

    @field_validator("quantiles", mode="before")
    @classmethod
    def _check_quantiles(cls, v: Any) -> list[float]:
        if not isinstance(v, list) or not v:
            raise ValueError(f"expected a non-empty list of probabilities, got {v!r}")
        for q in v:
            if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
                raise ValueError(
                    f"{q!r} is not a probability strictly between 0 and 1; write e.g. "
                    "[0.05, 0.5, 0.95]"
                )
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"{v} is not increasing without repeats; sort it and list each once")
        return [float(q) for q in v]

    def all_thresholds(self) -> dict[str, dict[str, float]]:
        """The registry's health reference values (:func:`registry_thresholds`: those of the
        ``[species] file`` while the run's registry is in use) followed by the user's,
        label -> pollutant -> value."""
        return {**registry_thresholds(), **self.thresholds}


class ProxiesConfig(_Section):
    """``[proxies]``: the spatial proxy of each GNFR sector's area totals, or a list tried in
    order (the first whose data the run has is used, and the choice is logged).

    Proxy names: ``population``, ``area``, ``roads``, ``road_length``, ``built_up``,
    ``landuse:<classes>`` (:data:`trajectoire.inventory.proxies.PROXY_NAMES`). A sector left
    out tries its default (:data:`trajectoire.inventory.proxies.DEFAULT_PROXIES`), then
    ``built_up``, ``population`` and ``area``.
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _check(self) -> ProxiesConfig:
        from trajectoire.inventory.proxies import proxy_needs

        for k, v in (self.model_extra or {}).items():
            _sector(k)
            names = [v] if isinstance(v, str) else v
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise ValueError(
                    f"[proxies] {k}: expected a proxy name or a list of names, got {v!r}"
                )
            for n in names:
                try:
                    proxy_needs(n)
                except ConfigError as exc:
                    raise ValueError(str(exc).replace("[proxies]:", f"[proxies] {k}:")) from None
        _one_key_per_id(self.model_extra or {}, _sector, "sector")
        return self

    def wanted(self) -> dict[str, str | list[str]]:
        """Sector -> proxy name or names, as written."""
        return dict(self.model_extra or {})


class SpeciesConfig(_Section):
    """``[species]``: a species file that extends the registry for the run (issue 15).

    ``file`` is a TOML file in the layout of ``trajectoire/data/species.toml`` (new species,
    or fields overriding built-in ones), read relative to the configuration. The whole
    configuration is validated with that registry (``[run] pollutants`` may name the new
    species), and the run looks species up in it (:meth:`registry`, entered with
    :func:`trajectoire.species.use_species`).
    """

    file: Path | None = None

    @field_validator("file", mode="before")
    @classmethod
    def _check_file(cls, v: Any, info: ValidationInfo) -> Path | None:
        if v is None:
            return None
        base = Path((info.context or {}).get("base_dir", Path.cwd()))
        path = _resolve_path(v, base, "[species] file")
        try:
            load_species(path)
        except InputError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return path

    def registry(self) -> SpeciesRegistry:
        """The registry of the run: the built-in one extended by :attr:`file`."""
        return load_species(self.file)


def _species_of(data: Any, info: ValidationInfo) -> SpeciesRegistry | None:
    """The registry a configuration's ``[species] file`` names, or None (none, or broken:
    the field validator of :class:`SpeciesConfig` reports it)."""
    section = data.get("species") if isinstance(data, dict) else None
    if isinstance(section, SpeciesConfig):
        return section.registry()
    if not (isinstance(section, dict) and isinstance(section.get("file"), str | Path)):
        return None
    base = Path((info.context or {}).get("base_dir", Path.cwd()))
    try:
        return load_species(_resolve_path(section["file"], base, "[species] file"))
    except (ValueError, InputError):
        return None


class RunConfig(_Section):
    """A whole run configuration (the schema of ``config.toml``).

    Build it with :func:`load_config`; the constructor takes the same nested mapping (input
    paths are then read relative to the current directory, or to
    ``context={"base_dir": ...}`` passed to :meth:`model_validate`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.gpkg").write_bytes(b"")
    >>> cfg = RunConfig.model_validate(
    ...     {"run": {"first_year": 1990, "last_year": 1995, "reference_year": 1995},
    ...      "inputs": {"territories": "t.gpkg"}}, context={"base_dir": d})
    >>> cfg.years
    [1990, 1991, 1992, 1993, 1994, 1995]
    """

    run: RunSection
    grid: GridConfig = Field(default_factory=lambda: GridConfig())
    inputs: InputsConfig
    csv: CsvConfig = Field(default_factory=lambda: CsvConfig())
    species: SpeciesConfig = Field(default_factory=lambda: SpeciesConfig())
    proxies: ProxiesConfig = Field(default_factory=lambda: ProxiesConfig())
    trajectory: TrajectoryConfig = Field(default_factory=lambda: TrajectoryConfig())
    meteo: MeteoConfig = Field(default_factory=lambda: MeteoConfig())
    dispersion: DispersionConfig = Field(default_factory=lambda: DispersionConfig())
    attribution: AttributionConfig = Field(default_factory=lambda: AttributionConfig())
    no2: No2Config = Field(default_factory=lambda: No2Config())
    output: OutputConfig = Field(default_factory=lambda: OutputConfig())
    exposure: ExposureConfig = Field(default_factory=lambda: ExposureConfig())

    _source_path: Path | None = PrivateAttr(default=None)
    _source_text: str = PrivateAttr(default="")

    @model_validator(mode="wrap")
    @classmethod
    def _with_species(cls, data: Any, handler: Any, info: ValidationInfo) -> RunConfig:
        """Validate every section with the registry of ``[species] file`` (issue 15)."""
        registry = _species_of(data, info)
        with use_species(registry or current_species()):
            out: RunConfig = handler(data)
        return out

    @model_validator(mode="after")
    def _check_map_years(self) -> RunConfig:
        bad = [y for y in self.attribution.map_years if not self.first_year <= y <= self.last_year]
        if bad:
            raise ValueError(
                f"[attribution] map_years: {bad} outside the run's years "
                f"{self.first_year}..{self.last_year}; keep map years within [run] first_year "
                "and last_year"
            )
        return self

    @model_validator(mode="after")
    def _check_dispersion_pollutants(self, info: ValidationInfo) -> RunConfig:
        """Warn, in one line per key, where ``[dispersion]`` names, one by one
        (``dry_deposition`` and ``decay`` lists, ``deposition_velocity`` keys), species
        that ``[run] pollutants`` does not list: they apply to nothing in this run. A
        configuration cut down to fewer pollutants keeps its lists (the run goes on), but
        the species meant (``"PFAS"`` written for the run's ``"PFOA"``) would otherwise go
        without deposition or loss without a word."""
        d = self.dispersion
        run = list(self.run.pollutants)
        source = (info.context or {}).get("source")
        where = f"{source}: " if source else ""
        named = [
            ("dry_deposition", d.dry_deposition if isinstance(d.dry_deposition, list) else []),
            ("decay", d.decay if isinstance(d.decay, list) else []),
            ("deposition_velocity", list(d.deposition_velocity)),
        ]
        for key, ids in named:
            stray = [p for p in ids if p not in run]
            if not stray:
                continue
            listed = ", ".join(f"{p!r}{did_you_mean(p, run)}" for p in stray)
            warn(
                f"{where}[dispersion] {key} names {listed}, which [run] "
                f"pollutants does not list ({', '.join(run)}): ignored in this run; name the "
                "run's pollutants, or add those to [run] pollutants",
                stacklevel=2,
            )
        return self

    @model_validator(mode="after")
    def _check_radius(self) -> RunConfig:
        res, radius = self.grid.resolution, self.dispersion.radius
        if radius < res:
            raise ValueError(
                f"[dispersion] radius = {radius:g} m is smaller than [grid] resolution = "
                f"{res:g} m; the kernel needs a cut-off of at least one cell: raise radius "
                "(20000 m is usual) or lower resolution"
            )
        return self

    @model_validator(mode="after")
    def _check_trajectory_inputs(self) -> RunConfig:
        """The methods a run's configuration cannot feed: a surrogate without ``[inputs]
        surrogates``; interpolation (no series: only between anchor inventories) for years
        outside the reference and ``[[inputs.anchors]]`` years; an anchor of the reference
        year."""
        kinds = self.trajectory.kinds()
        driven = [where for where, kind in kinds.items() if kind == "surrogate"]
        if driven and self.inputs.surrogates is None:
            raise ValueError(
                f"{driven[0]}: method 'surrogate' needs the driver series; give [inputs] "
                "surrogates (a CSV of driver, year, value: docs/input-formats.md) or choose "
                "another method"
            )
        ref = self.run.reference_year
        same = [i for i, a in enumerate(self.inputs.anchors) if a.year == ref]
        if same:
            raise ValueError(
                f"[[inputs.anchors]] #{same[0] + 1} year = {ref} is the reference year ([run] "
                "reference_year): the reference inventory is that year's anchor; give the "
                "anchor another year, or make it the reference"
            )
        between = [where for where, kind in kinds.items() if kind == "interpolation"]
        known = sorted({ref, *(a.year for a in self.inputs.anchors)})
        outside = [y for y in self.years if not known[0] <= y <= known[-1]]
        if between and outside:
            raise ValueError(
                f"{between[0]}: method 'interpolation' has no series: it only runs between "
                f"inventories, here of {known} (the reference and [[inputs.anchors]]), and "
                f"the run asks for {year_ranges(outside)} outside them; add anchor "
                "inventories that enclose the run's years, or choose index, overlap or "
                "extrapolation"
            )
        return self

    @model_validator(mode="after")
    def _check_fusion(self) -> RunConfig:
        if self.output.fusion and (
            self.inputs.stations is None or self.inputs.observations is None
        ):
            raise ValueError(
                "[output] fusion: true needs station observations to fuse; give [inputs] "
                "stations and observations, or set fusion = false"
            )
        return self

    # ------------------------------------------------------------------ conveniences
    @property
    def first_year(self) -> int:
        """First year of the run."""
        return self.run.first_year

    @property
    def last_year(self) -> int:
        """Last year of the run (inclusive)."""
        return self.run.last_year

    @property
    def years(self) -> list[int]:
        """All years of the run, ``first_year..last_year``."""
        return list(range(self.run.first_year, self.run.last_year + 1))

    @property
    def source_path(self) -> Path | None:
        """The file the configuration was read from (None when built in Python)."""
        return self._source_path

    @property
    def source_text(self) -> str:
        """The raw TOML text as read (empty when built in Python)."""
        return self._source_text

    def to_json(self) -> str:
        """The resolved configuration (defaults filled in, absolute paths) as JSON text."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def files_read(self) -> dict[str, Path]:
        """What a run of this configuration reads, by what it is in words: the
        configuration file (``"the configuration file"``, when loaded from one) and each
        input (``"[inputs] stations"``, ``"[inputs] anchors[0].area_emissions"``; files
        named by an input's options with a suffix ``.1``, ``.2``). An output path is checked
        against them (:func:`trajectoire.io.netcdf.check_not_read`)."""
        out: dict[str, Path] = {}
        if self.source_path is not None:
            out["the configuration file"] = self.source_path
        for key, path in self.inputs.files().items():
            out[f"[inputs] {key}"] = path
        return out

    @cached_property
    def input_checksums(self) -> dict[str, str]:
        """SHA-256 of every input, ``{key: "sha256:<hex>"}`` (directories: over their files)."""
        return {k: "sha256:" + _sha256(p) for k, p in self.inputs.files().items()}

    def config_hash(self) -> str:
        """Hash identifying what a run computes: configuration, input contents, version and
        output revision (:data:`trajectoire._version.OUTPUT_REVISION`).

        Two runs with the same hash produce the same output; the runner stores it in each
        part file so that ``--resume`` never mixes parts of different runs. Input paths enter
        through their checksums only (moving the inputs does not change the hash). A key left
        to a library default whose value changed between versions enters by its value
        (``[meteo] stack_speed_edges``), so that parts of the older physics are not reused.
        """
        data = self.model_dump(mode="json")
        data["inputs"] = {
            "checksums": self.input_checksums,
            "how": {
                k: spec.how()
                for k, spec in {**self.inputs.given(), **self.inputs.anchor_inputs()}.items()
            },
        }
        if self.inputs.anchors:  # their inputs are in checksums and how; and their years
            data["inputs"]["anchor_years"] = [a.year for a in self.inputs.anchors]
        if self.trajectory.uncertainty.realizations == 0:  # no ensemble: its keys change nothing
            for key in ("half_width", "rho", "percentiles"):
                data["trajectory"]["uncertainty"].pop(key, None)
        data["run"].pop("name", None)
        data["exposure"].pop("zones_name", None)  # the reports' wording, no number
        if data["meteo"]["stack_speed_edges"] is None:  # the library's default, as used
            data["meteo"]["stack_speed_edges"] = list(DEFAULT_STACK_SPEED_EDGES)
        text = json.dumps(
            {"config": data, "version": __version__, "revision": OUTPUT_REVISION}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------- errors
def _field_path(loc: Iterable[int | str]) -> str:
    """``("grid", "resolution")`` -> ``[grid] resolution``; list items as ``key[2]``."""
    parts = list(loc)
    section: list[str] = []
    while (
        parts
        and isinstance(parts[0], str)
        and _is_section(section + [parts[0]])
        and not (len(parts) == 1 and _model_at(section + [parts[0]]) is InputSpec)
    ):
        section.append(str(parts.pop(0)))
    head = f"[{'.'.join(section)}]" if section else "top level"
    if section and parts and isinstance(parts[0], int):  # an array of tables: its n-th
        head = f"[[{'.'.join(section)}]] #{int(parts.pop(0)) + 1}"
    rest = ""
    for p in parts:
        rest += f"[{p}]" if isinstance(p, int) else (f".{p}" if rest else str(p))
    return f"{head} {rest}".strip()


def _model_at(path: Iterable[int | str]) -> type[BaseModel] | None:
    model: Any = RunConfig
    for part in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        if isinstance(part, int):  # an item of a list of tables ([[inputs.anchors]])
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _unwrap(field.annotation)
        if typing.get_origin(model) is list:
            model = typing.get_args(model)[0]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_section(path: list[str]) -> bool:
    """Whether `path` is a TOML table: a sub-model or a mapping field (``[trajectory.methods]``)."""
    if _model_at(path) is not None:
        return True
    parent = _model_at(path[:-1])
    field = parent.model_fields.get(path[-1]) if parent is not None and path else None
    return field is not None and typing.get_origin(_unwrap(field.annotation)) is dict


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


#: pydantic's words for Python types, in the words of a TOML file
_TOML_WORDS = (
    ("a valid dictionary", "a table ({ key = value, ... })"),
    ("a valid list", "a list ([...])"),
    ("a valid boolean", "true or false"),
)


def _format_error(err: Any, source: str) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    where = _field_path(loc)
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    msg = msg.rstrip(".")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = sorted(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        section = _field_path(loc[:-1]) if loc[:-1] else "top level"
        return (
            f"{source}: {where}: unknown key {str(loc[-1])!r} in {section}. {hint}"
            f"Valid keys: {', '.join(valid)}. Fix the spelling or remove the key "
            f"(see {_SECTION_DOC})."
        )
    if kind == "missing":
        return (
            f"{source}: {where}: required key missing. Add it (see {_SECTION_DOC} for its "
            "meaning and an example)."
        )
    if kind == "value_error":
        if msg.startswith("[") and (
            where == "top level"
            or msg.split("]", 1)[0][1:].startswith(where.strip("[]"))
            or msg.startswith(f"{where}.")  # a key of a table in the field's
        ):
            return f"{source}: {msg}."  # the message names its own key, more precisely
        if loc and isinstance(loc[-1], str):
            msg = msg.removeprefix(f"{loc[-1]}: ")  # the key is in `where` already
        return f"{source}: {where}: {msg}."
    received = _describe(err.get("input"))
    for python, toml in _TOML_WORDS:
        msg = msg.replace(python, toml)
    return (
        f"{source}: {where}: received {received}; expected: {msg.lower()}. "
        f"Fix the value (see {_SECTION_DOC})."
    )


def _without_union_tags(loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], int]:
    """`loc` without the tags pydantic adds for the members of a union field
    (``("dispersion", "decay", "bool")`` -> ``("dispersion", "decay")``), and the length of
    the path before the first tag (-1 when there is none). Walks the configuration's models
    along `loc`: a tag is the element read where the annotation is a union."""
    annotation: Any = RunConfig
    kept: list[int | str] = []
    first = -1
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
            first = len(kept) if first < 0 else first
            annotation = _union_member(annotation, str(part))
            continue
        kept.append(part)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field is not None else None
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            annotation = None
    return tuple(kept), first


def _union_member(union: Any, tag: str) -> Any:
    """The member of `union` that pydantic names `tag` (``float``, ``list[str]``,
    ``literal['auto']``, a model's class name); None when none matches."""
    head = tag.split("[", 1)[0]
    for member in typing.get_args(union):
        origin = typing.get_origin(member)
        name = getattr(origin if origin is not None else member, "__name__", "")
        if name.lower() == head.lower() or (head == "literal" and origin is Literal):
            return member
    return None


def _merge_union_errors(errors: list[Any]) -> list[Any]:
    """One error per union field: pydantic reports a bad value of ``float | dict[...]``
    once per member, under type tags. Keep the member the value went deepest into (a
    table's bad entry rather than "not a number"), and join the expectations of members
    reached equally deep ("a valid number or 'auto'")."""
    groups: dict[tuple[Any, ...], list[tuple[tuple[int | str, ...], Any]]] = {}
    for i, err in enumerate(errors):  # a union field's errors together, in the fields' order
        loc, first = _without_union_tags(tuple(err["loc"]))
        key = (i,) if first < 0 else ("union", *loc[:first])
        groups.setdefault(key, []).append((loc, err))
    merged: list[Any] = []
    for members in groups.values():
        depth = max(len(loc) for loc, _ in members)
        deepest = [(loc, e) for loc, e in members if len(loc) == depth]
        loc, err = deepest[0]
        err = dict(err, loc=loc)
        same = [e for lc, e in deepest if lc == loc]
        if len(same) > 1 and all(e["type"] not in ("value_error", "missing") for e in same):
            wants = [str(e["msg"]).rstrip(".") for e in same]
            wants = [wants[0]] + [w.removeprefix("Input should be ") for w in wants[1:]]
            wants = list(dict.fromkeys(wants))
            err["msg"] = ", ".join(wants[:-1]) + " or " + wants[-1]
        merged.append(err)
    return merged


def _raise_config_error(exc: ValidationError, source: str) -> typing.NoReturn:
    # a misspelt key first: it explains the required key reported missing beside it
    errors = _merge_union_errors(exc.errors(include_url=False))
    errors = sorted(errors, key=lambda e: e["type"] != "extra_forbidden")
    lines = [_format_error(e, source) for e in errors]
    head = lines[0]
    if len(lines) > 1:
        head += f"\n  ({len(lines) - 1} more problem(s)):\n  " + "\n  ".join(lines[1:])
    raise ConfigError(head) from None


# ---------------------------------------------------------------------- public API
def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run configuration file.

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file (see ``docs/configuration.md``). Input paths inside it are read relative
        to its directory.

    Returns
    -------
    RunConfig
        The validated configuration, with :attr:`RunConfig.source_text` (the raw TOML) and
        :attr:`RunConfig.source_path` set.

    Raises
    ------
    trajectoire.ConfigError
        File missing or unreadable, invalid TOML (with line and column), unknown key (with
        the valid keys and the closest one), wrong type or value, missing input file, or an
        impossible year range. The message names the file and the field. `path` not a
        path (a dict, None).
    """
    if not isinstance(path, str | os.PathLike):
        what = type(path).__name__
        raise ConfigError(
            f"load_config: got a {what}; expected the path of a TOML configuration file "
            "(docs/configuration.md; `trajectoire sample DIR` writes one to start from)"
            + (": write the dict to a .toml file first." if isinstance(path, Mapping) else ".")
        )
    p = Path(path).expanduser()
    try:
        real = _resolved(p)
    except ValueError as exc:
        raise ConfigError(f"configuration file: {exc}.") from None
    if not p.is_file():
        raise ConfigError(
            f"configuration file {str(p)!r} not found (resolved: {real}). Check the "
            "path, or write a sample one with `trajectoire sample DIR`."
        )
    text = _read_text(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{p}: not valid TOML ({exc}{_toml_line(text, exc)}). Fix the syntax at that line "
            "(strings need quotes, tables are written [section], a key is given once a table)."
        ) from None
    try:
        cfg = RunConfig.model_validate(data, context={"base_dir": real.parent, "source": str(p)})
    except ValidationError as exc:
        _raise_config_error(exc, str(p))
    cfg._source_path = real
    cfg._source_text = text
    return cfg


def _read_text(p: Path) -> str:
    """The text of the configuration file `p`, UTF-8 (a byte-order mark, which Windows
    editors write, is left out), else one line saying what the file is."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration ({exc}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from trajectoire.io.netcdf import begins_as  # the signatures of the outputs

        if begins_as(data[:4104], "NetCDF"):  # `run OUT.nc --out config.toml`
            raise ConfigError(
                f"{p}: is a NetCDF file (an output?), not a TOML configuration; the command "
                "is `trajectoire run CONFIG.toml --out OUT.nc`."
            ) from None
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1]
        what = (
            "the file is UTF-16"
            if data.startswith((b"\xff\xfe", b"\xfe\xff"))
            else "e.g. an accented letter saved as Latin-1 / Windows-1252"
        )
        raise ConfigError(
            f"{p}: not UTF-8 (line {line}: byte 0x{byte.hex()}, {what}); expected a UTF-8 "
            "text file: save it as UTF-8 (in the editor's 'Save as', encoding UTF-8)."
        ) from None


def _toml_line(text: str, exc: Exception) -> str:
    """``: 'resolution = 500.0'``, the line a TOML error names (``at line 17``), for the
    messages that name no key (``Cannot overwrite a value``: a key given twice)."""
    import re

    m = re.search(r"at line (\d+)", str(exc))
    lines = text.splitlines()
    if not m or not 0 < int(m.group(1)) <= len(lines):
        return ""
    line = lines[int(m.group(1)) - 1].strip()
    return f": {line[:80]!r}" if line else ""


def parse_years(text: str, *, what: str = "--years") -> list[int]:
    """Parse a year selection: ``1990:2023`` (inclusive), ``2005``, or ``1990,1995,2000:2002``.

    Parameters
    ----------
    text : str
        Comma-separated years or inclusive ranges ``first:last``.
    what : str
        Name of the option, for error messages.

    Returns
    -------
    list of int
        Sorted unique years.

    Raises
    ------
    trajectoire.ConfigError
        If `text` is blank, a part is not a year or a range is empty (``2023:1990``).

    Examples
    --------
    >>> parse_years("1990:1993,2000")
    [1990, 1991, 1992, 1993, 2000]
    """
    if not str(text).strip():  # --years "$YEARS" with the variable unset
        raise ConfigError(
            f"{what} is empty; expected years such as 1990:2023 or 1990,1995,2000 (leave "
            f"{what} out for all the years of [run] first_year..last_year)."
        )
    years: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        bounds = part.split(":", 1)
        try:
            a, b = int(bounds[0]), int(bounds[-1])
        except ValueError:
            raise ConfigError(
                f"{what}: {part!r} is not a year or a range; expected e.g. 1990:2023 or "
                "1990,1995,2000."
            ) from None
        if a > b:
            raise ConfigError(
                f"{what}: empty year range {part!r} (first {a} > last {b}); "
                f"write it first:last, e.g. {b}:{a}."
            )
        years.update(range(a, b + 1))
    return sorted(years)
