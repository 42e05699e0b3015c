"""The main job: from a run configuration to every year's emissions, concentrations and shares.

This module is the pipeline the batch runner (:mod:`trajectoire.runner`) drives:

* :func:`prepare` does the year-independent work once: grid, territories, reference
  inventory, the lazy emission trajectory, meteorological frequency tables, background,
  population, territory fractions, receptors;
* :func:`compute_year` turns one year into a :class:`xarray.Dataset` holding the stable
  output variables of DESIGN.md for that year (``emission``, ``concentration``,
  ``contribution`` in map years, ``background``, ``exposure``) plus the aggregated
  attribution (territory means, population-weighted means and station values split by sector
  and territory of origin) that is kept for every year;
* :func:`static_variables` and :func:`global_attributes` complete the output file.

Years are independent: the runner may compute them in any order, serially or on a Dask
cluster, and the result is the same.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import xarray as xr
from scipy import sparse

from trajectoire._memory import release_pages, small_pages
from trajectoire._validate import (
    DATA_YEARS,
    normalise_rows,
    require_columns,
    require_year,
    rows_preview,
    year_ranges,
)
from trajectoire.assess.exposure import (
    ExposureStatistics,
    ZoneExposure,
    run_thresholds,
    territory_inhabitants,
)
from trajectoire.assess.stations import (
    ANNUAL_MIN_CAPTURE,
    annual_means,
    observation_units,
    observations_from_table,
)
from trajectoire.attribution import (
    Origins,
    ReceptorSums,
    background_of_year,
    no2_territory_sums,
    territory_background,
    window_sums,
)
from trajectoire.attribution import decompose_change as shapley_change
from trajectoire.dispersion.background import RegionalBackground, receptor_background
from trajectoire.dispersion.chemistry import (
    fno2_shares,
    no2_description,
    no2_with_primary,
    primary_no2,
)
from trajectoire.dispersion.concentration import (
    DEFAULT_RELEASE_HEIGHT,
    DispersionSettings,
    KernelClass,
    YearDispersion,
    deposited_mass,
    deposition_flux,
    source_deposition_flux,
    year_dispersions,
)
from trajectoire.dispersion.local import (
    Stacks,
    StackSet,
    emitting_stacks,
    local_concentration,
    locate_stacks,
    sector_concentrations,
    stack_emission,
    year_stack_sets,
    year_stacks,
)
from trajectoire.dispersion.receptors import (
    Receptor,
    cell_values,
    footprint_sums,
    population_receptors,
    receptor_means,
    station_adjoints,
    territory_adjoints,
    territory_receptors,
)
from trajectoire.errors import (
    ConfigError,
    GridError,
    InputError,
    TrajectoireWarning,
    UnitsError,
    warn,
)
from trajectoire.geo.grid import Grid, check_run_cells
from trajectoire.geo.territories import (
    buffer_mask,
    regional_grid,
    select_territories,
    territory_fractions,
    zone_territory_fractions,
)
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.population import (
    TerritoryPopulation,
    census_population,
    population_at,
)
from trajectoire.inventory.proxies import choose_proxies
from trajectoire.inventory.readers import row_unit_factors
from trajectoire.inventory.schema import check_stacks
from trajectoire.inventory.temporal import default_temporal_profiles, hourly_factors
from trajectoire.io.config import MAX_YEAR, RunConfig
from trajectoire.io.formats import read_input
from trajectoire.io.outputs import (
    BackgroundMaps,
    YearMaps,
    emission_method_flags,
    split_number_species,
    static_dataset,
    territory_totals,
    with_no2_attribution,
    year_dataset,
)
from trajectoire.meteo.classes import YEAR_COVERAGE, met_classes, select_years
from trajectoire.meteo.profiles import mixing_height_scheme
from trajectoire.meteo.stability import add_stability
from trajectoire.species import get_pollutant, normalise_pollutant, run_scale, use_species
from trajectoire.tables import (
    check_not_negative,
    check_repeats,
    data_lines,
    dialect_defaults,
    numeric_column,
)
from trajectoire.trajectory.backcast import UnreconciledTotals, rebuild
from trajectoire.trajectory.basis import (
    basis_array,
    basis_weights,
    blank_fields,
    emission_from_basis,
    emission_planes,
    emitting_sectors,
    sector_emissions,
)
from trajectoire.units import REFERENCE_PRESSURE, REFERENCE_TEMPERATURE, unit_kind

__all__ = [
    "DEFAULT_RELEASE_HEIGHT",
    "Receptor",
    "RunContext",
    "check_years",
    "compute_year",
    "decompose_change",
    "emission_of",
    "global_attributes",
    "population",
    "prepare",
    "static_variables",
    "years",
]

log = logging.getLogger("trajectoire")


#: a kernel set of a year: (decay rate [s-1], deposition velocity [m s-1], seasonal profile)
KernelSetKey = tuple[float, float, str | None]


@dataclass
class RunContext:
    """Everything year-independent a run needs (picklable for Dask workers)."""

    config: RunConfig
    grid: Grid
    years: list[int]
    sectors: list[str]
    dispersed: list[str]  # pollutants dispersed linearly (NO2 excluded)
    output_pollutants: list[str]  # dispersed + NO2 when asked
    map_years: set[int]
    territories: list[str]
    origins: list[str]  # territories + "rest"
    basis: np.ndarray  # (basis, pollutant, sector, ny, nx) float32 basis fields [t yr-1]
    basis_weight: xr.DataArray  # (year, basis, sector, pollutant): emission = Σ_b w_b basis_b
    trajectory: xr.Dataset  # the trajectory's small variables (method, total, scale...)
    # how the trajectory rebuilt each (year, sector, pollutant) as CF flags, NO2 with NOx's
    # (emission_method_flags, from the whole run's totals: the same whatever the years asked)
    emission_method: xr.DataArray
    points: xr.Dataset | None  # stacks: positions, parameters, sector, origin
    point_emission: xr.DataArray | None  # (year, source, pollutant) [t yr-1]
    met: xr.Dataset  # frequency tables with a year dim
    background: xr.DataArray  # (year, pollutant) [ug m-3]; zeros with a regional field
    census_years: list[int]  # years of the population grids
    census: np.ndarray  # (census, ny, nx) inhabitants per cell at the census years
    fractions: np.ndarray  # (origin, ny, nx)
    origin_index: np.ndarray
    origin_fraction: np.ndarray
    mask: np.ndarray  # (ny, nx) bool: written cells
    territory_receptors: list[Receptor]
    stations: pd.DataFrame  # station_id, x, y, row, col
    settings: DispersionSettings
    observations: xr.DataArray | None = None  # (year, station, pollutant) [ug m-3]
    inhabitants: TerritoryPopulation | None = None  # each territory's own, from the zones
    zone_fraction: sparse.csr_matrix | None = None  # (territory, cell) shares in exposure_zones
    regional: RegionalBackground | None = None  # a regional model field, local part removed
    background_missing: list[int] = field(default_factory=list)  # years the table lacks
    attrs: dict[str, Any] = field(default_factory=dict)
    at_source: list[str] = field(default_factory=list)  # deposited in their cell (TRWP_coarse)
    numbers: list[str] = field(default_factory=list)  # particle-number species (UFP)
    seasonal: dict[str, str] = field(default_factory=dict)  # pollutant -> "sector/species"
    seasonal_met: dict[str, xr.Dataset] = field(default_factory=dict)  # key -> weighted tables

    @property
    def kernel_groups(self) -> dict[KernelSetKey, list[int]]:
        """:meth:`DispersionSettings.removal_groups` of the dispersed pollutants, without
        those deposited at source (never dispersed: no kernel set), and with a seasonal
        species (:attr:`seasonal`) in a set of its own: ``(decay, v_d, profile key or
        None)`` -> indices in :attr:`dispersed`."""
        groups: dict[KernelSetKey, list[int]] = {}
        for (k, vd), members in self.settings.removal_groups(self.dispersed).items():
            for i in members:
                pol = self.dispersed[i]
                if pol not in self.at_source:
                    groups.setdefault((k, vd, self.seasonal.get(pol)), []).append(i)
        return groups

    @cached_property
    def emitting(self) -> np.ndarray:
        """``(dispersed pollutant, sector)``: whether the sector's gridded emission of the
        pollutant is non-zero in some year of the run."""
        return emitting_sectors(self.basis, self.basis_weight)

    @cached_property
    def blank(self) -> np.ndarray:
        """``(dispersed pollutant, sector)``: whether every basis field of the plane is +0
        (:func:`~trajectoire.trajectory.basis.blank_fields`): formed without reading the
        basis, bit for bit."""
        return blank_fields(self.basis)

    @cached_property
    def territory_weights(self) -> sparse.csr_matrix:
        """``(territory, cell inside the mask)``: each territory's share of the mask's
        cells, flat and increasing (as :class:`~trajectoire.io.outputs.YearMaps` holds
        the written planes), float64, sparse (a territory covers a part of the mask: a
        year's territory sums cost 0.03 s at 100 m instead of 0.2 s dense)."""
        nt = len(self.territories)
        inside = np.flatnonzero(self.mask)
        return sparse.csr_matrix(self.fractions[:nt].reshape(nt, -1)[:, inside])

    @cached_property
    def emitting_stacks(self) -> np.ndarray | None:
        """``(dispersed pollutant, stack)``: whether the stack emits it in some year."""
        return emitting_stacks(self.point_emission, self.dispersed)

    def classes_of(self, members: list[int]) -> list[KernelClass]:
        """The kernel classes a set of pollutants (indices in :attr:`dispersed`) needs: those
        of the sectors that emit one of them in some year (a class no sector of theirs emits
        in gets no kernel; its adjoints are zero)."""
        heights, h_of_s = self.heights()
        used = {int(h_of_s[s]) for s in np.flatnonzero(self.emitting[members].any(axis=0))}
        return [h for i, h in enumerate(heights) if i in used]

    def stacks_of(self, members: list[int], year: int | None = None) -> np.ndarray | None:
        """The stacks a set of pollutants needs footprints of: those emitting one of them in
        some year, or, given `year`, a positive amount of one of them that year (the only
        stacks whose footprints the year adds anywhere: :func:`add_stacks`,
        :meth:`ReceptorSums.add_stacks` and the NO2 sums skip the others)."""
        ever = self.emitting_stacks
        if ever is None:
            return None
        on = np.asarray(ever[members].any(axis=0), dtype=bool)
        if year is not None:
            q = [stack_emission(self.point_emission, year, self.dispersed[ip]) for ip in members]
            on &= (np.array(q) > 0).any(axis=0)
        return on

    def kernel_set(self, year: int, key: KernelSetKey, members: list[int]) -> YearDispersion:
        """The year's kernels of one set ``(decay, v_d, season)`` (:attr:`kernel_groups`),
        for the classes its pollutants `members` are released in."""
        return year_dispersions(self.grid, self.settings, [self._set_of(year, key, members)])[0]

    def kernel_sets(self, year: int) -> list[YearDispersion]:
        """:meth:`kernel_set` of every set of :attr:`kernel_groups`, in order, their kernels
        of one class built together (:func:`year_dispersions`: bit for bit the same)."""
        sets = [self._set_of(year, key, members) for key, members in self.kernel_groups.items()]
        return year_dispersions(self.grid, self.settings, sets)

    def _set_of(
        self, year: int, key: KernelSetKey, members: list[int]
    ) -> tuple[xr.Dataset, list[KernelClass], float, float]:
        """``(met_year, classes, decay_rate, deposition_velocity)`` of one kernel set, as
        :func:`year_dispersions` takes it."""
        rate, vd, season = key
        return self.met_of(year, season), self.classes_of(members), rate, vd

    def stack_set(
        self, year: int, key: KernelSetKey, members: list[int], emitting_only: bool = False
    ) -> Stacks:
        """The year's stack footprints of one set, for the stacks its pollutants `members`
        are emitted by in some year, or, with `emitting_only`, in `year` itself (the others
        get empty footprints: a year's own computation needs no more; the change between two
        years pairs one year's emissions with the other's footprints, and needs them all)."""
        rate, vd, season = key
        active = self.stacks_of(members, year if emitting_only else None)
        return year_stacks(self.points, self.met_of(year, season), self.grid, self.settings,
                           self.sectors, self.origins, decay_rate=rate, deposition_velocity=vd,
                           active=active)  # fmt: skip

    def stack_sets(self, year: int, sets: Sequence[tuple[KernelSetKey, list[int]]]) -> list[Stacks]:
        """:meth:`stack_set` of several sets with `emitting_only`, computed together
        (:func:`~trajectoire.dispersion.local.year_stack_sets`: the geometry of each cell
        once for every set; each set's footprints bit for bit those of :meth:`stack_set`)."""
        requests = [
            StackSet(self.met_of(year, season), rate, vd, self.stacks_of(members, year))
            for (rate, vd, season), members in sets
        ]
        return year_stack_sets(self.points, self.grid, self.settings, self.sectors,
                               self.origins, requests)  # fmt: skip

    def met_of(self, year: int, season: str | None = None) -> xr.Dataset:
        """The frequency table of `year`: the run's, or the one weighted hour by hour by the
        emission profile `season` (``"sector/species"``)."""
        met = self.met if season is None else self.seasonal_met[season]
        return met.sel(year=year)

    @property
    def origin_layers(self) -> Origins:
        """The origins of the grid cells, compressed per cell, with the cells shared by
        several origins found once for the run (:attr:`origin_shared`), not once per year
        and kernel set. A new :class:`~trajectoire.attribution.Origins` each time: the
        context keeps only the small row index, not a second reference to the grids (a
        shared context's skeleton, :func:`trajectoire.batch.shared.share_context`, copies
        what it holds)."""
        return Origins(self.origin_index, self.origin_fraction, len(self.origins),
                       known_shared=self.origin_shared)  # fmt: skip

    @cached_property
    def origin_shared(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`trajectoire._kernels.aggregate.shared_cells` of :attr:`origin_index`: row
        pointers ``(k, ny + 1)`` and columns of the cells shared by several origins (a few
        kB; 0.085 s at 100 m, once)."""
        return Origins(self.origin_index, self.origin_fraction, len(self.origins)).shared

    def heights(self) -> tuple[list[KernelClass], np.ndarray]:
        """Distinct kernel classes ``(release height, initial sigma_z)`` [m] and the class of
        each sector: sectors of one class share one kernel."""
        heights = self.settings.classes(self.sectors)
        h_index = {h: i for i, h in enumerate(heights)}
        h_of_s = [h_index[self.settings.class_of(s)] for s in self.sectors]
        return heights, np.array(h_of_s, dtype=np.int64)


def years(ctx: RunContext) -> list[int]:
    """Years of the run, in order."""
    return list(ctx.years)


# ---------------------------------------------------------------------------------- prepare
def prepare(config: RunConfig) -> RunContext:
    """Do the year-independent work of a run.

    Parameters
    ----------
    config : RunConfig
        Validated configuration (:func:`trajectoire.config.load_config`).

    Returns
    -------
    RunContext

    Notes
    -----
    Runs with NumPy's transparent-huge-page advice off
    (:func:`trajectoire._memory.small_pages`): prepare maps and frees about 10 GB of
    short-lived grids at 100 m on the sample, whose faults would otherwise compact memory
    on a machine whose memory is fragmented (at 100 m on the sample, 15.6 s of CPU against
    11.9 s, measured by ``benchmarks/bench_pages.py``). The values are the same.
    """
    with small_pages():
        return _prepare(config)


def _prepare(config: RunConfig) -> RunContext:
    """:func:`prepare`, with NumPy's huge-page advice as the caller set it."""
    if "NO2" in config.run.pollutants and "NOx" not in config.run.pollutants:
        # said before any input is read; in the configuration's own terms (another pipeline
        # may take NO2 alone: this one derives it from NOx)
        raise ConfigError(
            f"{_where(config)}[run] pollutants = {list(config.run.pollutants)}: NO2 is derived from NOx "
            "(docs/chemistry.md); add 'NOx' to the list or leave NO2 out."
        )
    with (
        dialect_defaults(**config.csv.dialect()),  # [csv]: the inputs' dialect when given
        use_species(config.species.registry()),  # [species] file: the run's registry
    ):
        _check_at_source(config)  # before any input is read: the registry says it
        terr, grid = _territories_and_grid(config)
        run_years = list(range(config.run.first_year, config.run.last_year + 1))
        zones = _read(config, "zones")
        reference, anchors, sectors, dispersed, output_pollutants, stacks = _reference(
            config, grid, zones
        )
        met, hourly = _meteorology(config, run_years, grid)  # first: years checked cheaply
        extra = _seasons(config, hourly, reference, run_years)  # seasonal species
        basis, basis_weight, small, point_series = _linear_form(
            _trajectory(config, reference, run_years, stacks, anchors), reference
        )
        del anchors  # in the basis now
        reference = reference.drop_vars("emission")  # the float64 grids go; stacks are kept
        background, regional, gaps = _background(config, output_pollutants, run_years, grid)
        stations = _stations(config, grid)
        observations = _observations(config, stations, output_pollutants)
        settings = _settings(config, dispersed)  # with the run's registry
        extra.update(zip(("at_source", "numbers"), _families(dispersed), strict=True))
    places = _places(config, terr, grid, zones, settings.radius, reference)
    return RunContext(
        config=config,
        grid=grid,
        years=run_years,
        sectors=sectors,
        dispersed=dispersed,
        output_pollutants=output_pollutants,
        map_years=_map_years(config, run_years),
        basis=basis,
        basis_weight=basis_weight,
        trajectory=small,
        emission_method=emission_method_flags(small, output_pollutants),
        point_emission=_point_emission(point_series, places["points"]),
        met=met,
        background=background,
        stations=stations,
        settings=settings,
        observations=observations,
        regional=regional,
        background_missing=gaps,
        attrs={"reference_year": config.run.reference_year},
        **places,
        **extra,
    )


def _places(
    config: RunConfig, terr: Any, grid: Grid, zones: Any, radius: float, reference: xr.Dataset
) -> dict[str, Any]:
    """The run's geometry on the grid: the territories and origins with their cell
    fractions and receptor windows (`radius` [m]), the census grids, the output mask, the
    inhabitants of each territory, the zones' cell fractions, and the stacks of the
    `reference` inventory on the grid, each of the territory its point lies in (fields of
    RunContext)."""
    census_years, census = _census_grids(zones, grid)
    origins, fractions, layers = _origins(terr, grid)
    return {
        "points": locate_stacks(reference, grid, fractions, origins, territories=terr),
        "territories": origins[:-1],
        "origins": origins,
        "fractions": fractions,
        "origin_index": layers.index,
        "origin_fraction": layers.fraction,
        "territory_receptors": territory_receptors(
            fractions, origins[:-1], radius, grid.resolution
        ),
        "census_years": census_years,
        "census": census,
        "mask": _mask(config, terr, grid),
        "inhabitants": None if zones is None else TerritoryPopulation.from_zones(zones, terr, grid),
        "zone_fraction": _zone_fraction(config, terr, grid),
    }


def _read(config: RunConfig, key: str, **run_keywords: Any) -> Any:
    """Input `key` read as ``[inputs]`` says (:func:`trajectoire.io.formats.read_input`);
    None when it is not given."""
    spec = getattr(config.inputs, key)
    return None if spec is None else read_input(key, spec, **run_keywords)


def _zone_fraction(config: RunConfig, terr: Any, grid: Grid) -> sparse.csr_matrix | None:
    """``(territory, cell)`` share of each territory's part of each cell covered by
    ``[inputs] exposure_zones`` (:func:`zone_territory_fractions`; None when not given)."""
    zones = _read(config, "exposure_zones")
    if zones is None:
        return None
    log.info("exposure zones: %d polygon(s) from %s", len(zones), config.inputs.exposure_zones)
    fraction = zone_territory_fractions(zones, terr, grid)
    if fraction.nnz == 0:  # every zone statistic would be NaN, silently
        x0, y0, x1, y1 = (float(v) for v in zones.to_crs(grid.crs).total_bounds)
        log.warning(
            "%s ([inputs] exposure_zones): none of its %d polygon(s) covers a cell of the grid "
            "within a territory (they span x %.0f to %.0f, y %.0f to %.0f in %s; the grid "
            "covers x %.0f to %.0f, y %.0f to %.0f): the statistics inside the zones will be "
            "empty (NaN). Check the file and its CRS.",
            getattr(config.inputs.exposure_zones, "path", Path("exposure zones")).name,
            len(zones),
            x0,
            x1,
            y0,
            y1,
            grid.crs.to_string(),
            *(grid.bounds[i] for i in (0, 2, 1, 3)),
        )
    return fraction


def _origins(terr: Any, grid: Grid) -> tuple[list[str], np.ndarray, Origins]:
    """Origins (the territories, then "rest"), the share of each cell in each, per cell."""
    frac_da = territory_fractions(terr, grid)
    fractions = np.asarray(frac_da.values, dtype=np.float64)
    return (
        [str(o) for o in frac_da["territory"].values],
        fractions,
        Origins.from_fractions(fractions),
    )


def _territories_and_grid(config: RunConfig) -> tuple[Any, Grid]:
    """The territories asked in ``[grid]`` and the regional grid around them."""
    terr = select_territories(
        read_input("territories", config.inputs.territories),
        config.grid.territories,
        what=str(config.inputs.territories),
        asked="territories" in config.grid.model_fields_set,
    )
    g = config.grid
    try:
        grid = regional_grid(
            terr, resolution=g.resolution, buffer=g.buffer, crs=g.crs, bounds=g.bounds
        )
        if grid.nx < 2 or grid.ny < 2:  # the grid of a field needs two cells a side
            raise GridError(f"{grid.nx} x {grid.ny} cell(s); at least 2 x 2 are needed")
        check_run_cells(grid)  # before anything of its size is allocated
    except GridError as exc:  # e.g. a resolution as large as the territories' box
        extent = (
            f"bounds = {list(g.bounds)}" if g.bounds is not None else f"buffer = {g.buffer:.10g} m"
        )
        raise InputError(
            f"{config.source_path or 'configuration'}: no grid can be made over the "
            f"territories with [grid] resolution = {g.resolution:g} m and {extent} ({exc}); "
            "check these keys (100 m is the production resolution, 5000 m the usual buffer)."
        ) from None
    except InputError as exc:  # the one error that comes from a key of the file
        raise InputError(f"{config.source_path or 'configuration'}: {exc}") from None
    log.info("grid: %s", grid)
    return terr, grid


def _reference(
    config: RunConfig, grid: Grid, zones: Any
) -> tuple[xr.Dataset, list[xr.Dataset], list[str], list[str], list[str], set[str]]:
    """The reference inventory and the anchors' (``[[inputs.anchors]]``), restricted to
    the sectors that emit in one of them; the sectors, the pollutants, and the source ids
    of every stack ``[inputs] point_sources`` lists (on the grid or not)."""
    inputs = config.inputs
    if not (inputs.point_sources or inputs.roads or inputs.area_emissions or inputs.gridded):
        raise ConfigError(
            "[inputs]: no emission input; give at least one of point_sources, roads (with "
            "road_emission_factors), area_emissions or gridded (docs/input-formats.md)."
        )
    factors = _read(config, "road_emission_factors")
    points = _read(config, "point_sources", reference_year=config.run.reference_year)
    # read once: the anchors' inventories are built with them too
    shared = {
        "zones": zones,
        "proxies": choose_proxies(config.proxies.wanted(), _proxy_data(config, zones)),
        "landuse": _read(config, "landuse"),
    }
    roads = _read(config, "roads", emission_factors=factors) if inputs.roads else None
    reference = build_inventory(
        grid,
        reference_year=config.run.reference_year,
        point_sources=points,
        roads=roads,
        area_totals=_read(config, "area_emissions"),  # with its units column
        gridded=_read(config, "gridded"),
        pollutants=[p for p in config.run.pollutants if p != "NO2"] or None,
        others="drop",
        **shared,
    )
    if "source" in reference.dims and reference.sizes["source"]:
        # stacks must be dispersible: checked before any year, naming the file
        check_stacks(reference.assign_attrs(source_file=str(inputs.point_sources)))
    # empty sectors would cost FFTs and bytes
    gridded = _gridded_sectors(reference)
    if not _emitting_sectors(reference, gridded):
        raise InputError(
            "[inputs]: the emission inputs give no emission on the grid (every sector is 0 "
            "or outside the territories' grid); check point_sources, roads and area_emissions."
        )
    shared.update(road_proxy=roads, factors=factors)
    anchors, theirs = _anchor_inventories(config, grid, reference, gridded, shared)
    del shared, roads  # not held while the inventories are restricted to their sectors
    sectors = _emitting_sectors(reference, gridded | theirs)
    if sectors != [str(s) for s in reference["sector"].values]:
        # a copy: only when a sector is dropped
        reference, *anchors = (inv.sel(sector=sectors) for inv in (reference, *anchors))
    dispersed = [str(p) for p in reference["pollutant"].values]
    output_pollutants = list(dispersed)
    if "NO2" in config.run.pollutants:
        if "NOx" not in dispersed:
            raise ConfigError(
                "[run] pollutants: NO2 is derived from NOx, and no emission input has NOx; "
                "add NOx to the inputs or leave NO2 out."
            )
        output_pollutants.append("NO2")
    return reference, anchors, sectors, dispersed, output_pollutants, _stack_ids(points)


def _anchor_inventories(
    config: RunConfig,
    grid: Grid,
    reference: xr.Dataset,
    gridded: set[str],
    shared: dict[str, Any],
) -> tuple[list[xr.Dataset], set[str]]:
    """The inventories of ``[[inputs.anchors]]``, built as the reference's (its grid,
    pollutants and the `shared` inputs already read: zones, land use, proxies; the run's
    roads as the road proxy of an anchor without roads, its factors as the default), in
    the order given, each naming its table in ``attrs["anchor_of"]``; and the sectors with
    a gridded emission in one of them. Their stacks must be the reference's (`gridded`:
    the reference's sectors with a gridded emission)."""
    out: list[xr.Dataset] = []
    found: set[str] = set()
    pollutants = [str(p) for p in reference["pollutant"].values]
    common = {k: shared[k] for k in ("zones", "proxies", "landuse")}
    for i, anchor in enumerate(config.inputs.anchors):
        label = f"[[inputs.anchors]] #{i + 1} (year {anchor.year})"
        factors = _read_anchor(anchor, label, "road_emission_factors")
        if factors is None:
            factors = shared["factors"]
        inventory = build_inventory(
            grid,
            reference_year=anchor.year,
            point_sources=_read_anchor(
                anchor, label, "point_sources", reference_year=anchor.year, reference_of=label
            ),
            roads=_read_anchor(anchor, label, "roads", emission_factors=factors),
            area_totals=_read_anchor(anchor, label, "area_emissions"),
            gridded=_read_anchor(anchor, label, "gridded"),
            pollutants=pollutants,
            others="drop",
            road_proxy=shared["road_proxy"] if anchor.roads is None else None,
            **common,
        ).assign_attrs(anchor_of=label)
        theirs = _gridded_sectors(inventory)
        _check_anchor(inventory, reference, anchor.point_sources, gridded, theirs)
        out.append(inventory)
        found |= theirs
    return out, found


def _read_anchor(anchor: Any, label: str, key: str, **run_keywords: Any) -> Any:
    """Input `key` of one ``[[inputs.anchors]]`` table (its messages naming `label`); None
    when the anchor does not give it."""
    spec = getattr(anchor, key)
    if spec is None:
        return None
    return read_input(key, spec, label=f"{label} {key}", **run_keywords)


def _check_anchor(
    anchor: xr.Dataset, reference: xr.Dataset, points: Any, gridded: set[str], theirs: set[str]
) -> None:
    """An anchor's stacks must be the reference's (an error naming its file); a sector the
    reference grids (`gridded`) but the anchor has no gridded emission of (`theirs`) is
    warned about (the years between are interpolated towards 0 there: most often a sector
    left out of its inputs)."""
    label = anchor.attrs["anchor_of"]
    if "source" in anchor.dims and anchor.sizes["source"]:
        known = {str(v) for v in reference["source"].values} if "source" in reference else set()
        unknown = [str(v) for v in anchor["source"].values if str(v) not in known]
        if unknown:
            more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
            raise InputError(
                f"{Path(str(points)).name} ({label} point_sources): source_id {unknown[:5]}"
                f"{more} are not stacks of the reference inventory on the grid ([inputs] "
                "point_sources); an anchor gives its year's figures of the reference's stacks "
                "(their positions and parameters are the reference's). Add them to [inputs] "
                "point_sources (with start_year and end_year for their life), or leave them "
                "out of the anchor's file."
            )
    lost = [str(s) for s in reference["sector"].values if s in gridded and s not in theirs]
    if lost:
        warnings.warn(
            f"{label}: sector(s) {lost} have gridded emissions in the reference inventory "
            f"({reference.attrs.get('reference_year')}) and none in this anchor: the years "
            "between are interpolated towards 0 for them. If they were left out of the "
            "anchor's inputs, add them there.",
            TrajectoireWarning,
            stacklevel=2,
        )


def _proxy_data(config: RunConfig, zones: Any) -> set[str]:
    """What the proxies may use: ``population`` (zones with a census or population column),
    ``roads``, ``landuse``."""
    have = {k for k in ("roads", "landuse") if getattr(config.inputs, k) is not None}
    columns = [] if zones is None else [str(c) for c in zones.columns]
    if any(c == "population" or re.fullmatch(r"pop_\d{4}", c) for c in columns):
        have.add("population")
    return have


def _gridded_sectors(inventory: xr.Dataset) -> set[str]:
    """Sectors with a gridded emission > 0 somewhere (one sector at a time: xarray's
    NaN-skipping sum made a masked copy of the whole grid; one field at a time within a
    sector, up to the first with an emission: at 100 m on the sample a sector's fields are
    11 grids of 22 MB, and the first one emits)."""
    em = np.asarray(inventory["emission"].transpose("sector", ...).values)
    names = [str(s) for s in inventory["sector"].values]
    lead = em.shape[1:-2]  # the fields of a sector (views, whatever the order of the dims)
    return {
        names[i]
        for i in range(em.shape[0])
        if any(bool((em[i][k] > 0).any()) for k in np.ndindex(lead))
    }


def _emitting_sectors(reference: xr.Dataset, gridded: set[str]) -> list[str]:
    """The sectors of `reference`, in its order, in `gridded` (those with a gridded
    emission: :func:`_gridded_sectors`, the anchors' too) or with a stack."""
    stacks = (
        {str(v) for v in reference["source_sector"].values} if "source" in reference.dims else set()
    )
    return [str(s) for s in reference["sector"].values if str(s) in gridded | stacks]


def _settings(config: RunConfig, dispersed: list[str]) -> DispersionSettings:
    """Dispersion settings: the configured release heights over the sector defaults, with
    ``dry_deposition`` (true, or a list of ids) a deposition velocity for every pollutant
    that deposits (the registry's or ``[dispersion] deposition_velocity``'s, 0 only when
    given there), and the registry's half-lives that ``[dispersion] decay`` applies."""
    disp = config.dispersion
    settings = DispersionSettings.from_config(disp, pollutants=None)
    given = set(settings.deposition_velocity) | set(disp.deposition_velocity)
    at_source = set(_families(dispersed)[0])
    missing = [p for p in dispersed if disp.deposits(p) and p not in given | at_source]
    if missing:
        example = ", ".join(f"{p} = 0.0" for p in missing)
        asked = "true" if disp.dry_deposition is True else str(disp.dry_deposition)
        raise ConfigError(
            f"{_where(config)}[dispersion] dry_deposition = {asked}, but pollutant(s) {missing} have no dry "
            "deposition velocity in the species registry; give one in m s-1 with "
            f"[dispersion] deposition_velocity = {{ {example} }} (0 leaves it undeposited), "
            "or leave them out of dry_deposition."
        )
    return settings


def _families(dispersed: list[str]) -> tuple[list[str], list[str]]:
    """The dispersed pollutants deposited in their emission cell (``deposited_at_source``
    in the registry in use), and the particle-number ones."""
    sp = {p: get_pollutant(p) for p in dispersed}
    return [p for p in dispersed if sp[p].deposited_at_source], [
        p for p in dispersed if sp[p].is_number
    ]


def _where(config: RunConfig) -> str:
    """``"config.toml: "``, the configuration file's name to start a message with (``""``
    for a configuration built in Python)."""
    path = getattr(config, "source_path", None)
    return f"{path.name}: " if path is not None else ""


def _check_at_source(config: RunConfig) -> None:
    """A species deposited at source (``TRWP_coarse``) is never dispersed: a deposition
    velocity or a decay asked for it in ``[dispersion]`` is a configuration error (any species
    the run's registry marks so, whether the inputs emit it or not)."""
    disp = config.dispersion
    decay = disp.decay if isinstance(disp.decay, list) else []
    for key, named in (("deposition_velocity", list(disp.deposition_velocity)), ("decay", decay)):
        for p in named:
            if get_pollutant(p).deposited_at_source:
                raise ConfigError(
                    f"{_where(config)}[dispersion] {key} names {p!r}, which the species registry marks "
                    "deposited_at_source (deposited in its emission cell, never dispersed); "
                    f"remove {p!r} from [dispersion] {key}, or model its airborne part as "
                    "another species (TRWP)."
                )


def _mask(config: RunConfig, terr: Any, grid: Grid) -> np.ndarray:
    """Cells written: within the buffer of a territory (or all)."""
    if not config.output.mask_beyond_buffer:
        return np.ones(grid.shape, dtype=bool)
    return np.asarray(buffer_mask(terr, grid, config.grid.buffer).values, dtype=bool)


def _map_years(config: RunConfig, run_years: list[int]) -> set[int]:
    """Years whose contribution maps are written (every fifth year and the last by default)."""
    if not config.attribution.map_years:
        return {y for y in run_years if y % 5 == 0} | {run_years[-1]}
    return set(config.attribution.map_years) & set(run_years)


def _linear_form(
    trajectory: xr.Dataset, reference: xr.Dataset | None = None
) -> tuple[np.ndarray, xr.DataArray, xr.Dataset, xr.DataArray | None]:
    """What the run keeps of the trajectory: the float32 basis (:func:`basis_array`), the
    weights ``(year, basis, sector, pollutant)``, the small variables and the stacks' yearly
    emission (None without stacks). Made as soon as the trajectory is, so that its float64 grids (the reference
    inventory's fields, ~1.2 GB at 100 m) are let go before the places are made.

    With `reference` (the run's own reference inventory, which the trajectory reads and
    nothing reads after this), each of its float64 ``emission`` fields gives its pages back
    (:func:`trajectoire._memory.release_pages`) as soon as the basis fields of its pair are
    made: the basis grows while the reference shrinks (prepare's peak at 100 m was here,
    the whole reference beside the whole basis). The small variables and the stacks'
    series are loaded first, before any field is let go; the fields then read as 0."""
    small = _small_variables(trajectory)
    # a run without stacks ([inputs] point_sources left out) has no stack series
    points = trajectory["point_emission"].load() if "point_emission" in trajectory else None
    weight = trajectory["basis_weight"].transpose("year", "basis", "sector", "pollutant").load()
    done = None
    if reference is not None and "emission" in reference:
        fields = reference["emission"]

        def done(pollutant: str, sector: str) -> None:
            # a view of the reference's memory (a copy, released in vain, if it were lazy)
            release_pages(fields.sel(pollutant=pollutant, sector=sector).values)

    basis = basis_array(trajectory["basis_emission"], done=done)
    return basis, weight, small, points


def _small_variables(trajectory: xr.Dataset) -> xr.Dataset:
    """The trajectory's variables without grids (methods, totals, scales...), loaded."""
    grids = [v for v in ("emission", "basis_emission") if v in trajectory]
    return trajectory.drop_vars(grids).drop_dims(["y", "x"], errors="ignore").load()


def _point_emission(series: xr.DataArray | None, points: xr.Dataset | None) -> xr.DataArray | None:
    """Yearly emission of the stacks kept on the grid ``(year, source, pollutant)``: the
    trajectory's ``point_emission`` `series` at `points` (None: no stack)."""
    if points is None or series is None:
        return None
    return series.sel(source=points["source"]).load()


def _trajectory(
    config: RunConfig,
    reference: xr.Dataset,
    run_years: list[int],
    stacks: set[str],
    anchors: list[xr.Dataset] | None = None,
) -> xr.Dataset:
    """Every year's emission rebuilt from the reference inventory, the anchors' and the
    trend table (`stacks`: the source ids ``[inputs] point_sources`` lists)."""
    if config.inputs.trends is None:
        raise ConfigError("[inputs] trends: a trend table is needed to rebuild the years.")
    methods = config.trajectory.methods_for(
        map(str, reference["sector"].values), map(str, reference["pollutant"].values)
    )
    history = _point_history(config, reference, stacks)  # its own warnings, not summarised
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrajectoireWarning)
        out = rebuild(
            reference,
            _read(config, "trends"),
            run_years,
            methods=methods,
            anchors=anchors or (),
            point_history=history,
            surrogates=_read(config, "surrogates"),
            chunks={"sector": 1, "pollutant": 1},
        )
    _summarise_register_notes(caught)
    return out


def _point_history(
    config: RunConfig, reference: xr.Dataset, listed: set[str]
) -> pd.DataFrame | None:
    """The stack register's rows of the stacks the inventory kept (the others are not needed:
    stacks beyond the grid, warned about when the inventory was built).

    Every source id of the register must be in `listed`, the stacks of ``[inputs]
    point_sources`` (a misspelt id would leave that stack's register out, silently); its
    pollutants are read as species ids or aliases. The table carries its file and key in
    ``attrs["what"]``, for the messages of the trajectory's checks.
    """
    spec = config.inputs.point_source_history
    if not spec:
        return None
    history = _read(config, "point_source_history")
    what = f"{spec.path.name} ([inputs] point_source_history)"
    _register_years(history, config, what)
    if "source_id" in history.columns:
        ids = history["source_id"].astype(str)
        unknown = sorted(set(ids) - listed)
        if unknown:
            rows = rows_preview(data_lines(history, np.flatnonzero(~ids.isin(listed))))
            points = config.inputs.point_sources
            have = (
                f"{points.path.name} ([inputs] point_sources), whose ids look like "
                f"{sorted(listed)[:3]}"
                if points
                else "the run's stacks: [inputs] point_sources is not given"
            )
            raise InputError(
                f"{what}, column 'source_id': {rows_preview(unknown)} ({rows}) are not in "
                f"{have}. Fix the ids, or add the stacks to the point sources."
            )
        if "pollutant" in history.columns:  # every row, those of stacks beyond the grid too
            history["pollutant"] = normalise_rows(
                history["pollutant"].astype(str).tolist(),
                data_lines(history, range(len(history))),
                normalise_pollutant,
                f"{what}, column 'pollutant'",
            )
        known = (
            {str(v) for v in reference["source"].values} if "source" in reference.dims else set()
        )
        _register_figures(history, ids, what)
        history = history[ids.isin(known)]
        _register_units(history, reference, config.run.reference_year, what)
    history.attrs["what"] = what
    return history


def _register_figures(history: pd.DataFrame, ids: pd.Series, what: str) -> None:
    """The register's figures: numbers >= 0 [t yr-1] (empty: no figure), one per stack,
    year and pollutant; else an error naming the file lines (the trajectory's own checks
    would name the rows of the stacks on the grid only, by position)."""
    key = "[inputs] point_source_history"
    if "emission" in history.columns:
        values = numeric_column(history, "emission", what=what, allow_nan=True, config_key=key)
        check_not_negative(history, "emission", values, what, "emissions >= 0 [t yr-1]", ids)
        column = next((c for c in ("units", "unit") if c in history.columns), None)
        given = history.attrs.get("unit")
        if (column or given) and "pollutant" in history.columns:
            # a 'units' column (or the input's unit) was read as t yr-1: kg x 1000, silently
            factors = row_unit_factors(
                history, history["pollutant"].tolist(), given or "t yr-1", what,
                data_lines(history, range(len(history))),
                unit_key="[inputs.point_source_history] unit", column=column or "units",
            )  # fmt: skip
            values = values * factors
        history["emission"] = values
    if {"year", "pollutant"} <= set(history.columns):
        said = "several figures for one stack, year and pollutant: {found}; keep one figure each."
        check_repeats(history, [ids, history["year"], history["pollutant"]], what, said)


def _register_units(history: pd.DataFrame, reference: xr.Dataset, year: int, what: str) -> None:
    """Warn when the register's figures of the reference `year` are about a thousand times
    (or a thousandth of) those of ``[inputs] point_sources`` for the same stacks and
    pollutants: one of the two files is in kg yr-1 (or g) instead of t yr-1. Both describe
    the same year, so their ratio is 1 where they agree (the sample's 80 pairs); the
    register wins over the reference in the run, so a unit slip would scale the stacks'
    whole history."""
    need = {"source_id", "year", "pollutant", "emission"}
    if not need <= set(history.columns) or "point_emission" not in reference:
        return
    rows = history[pd.to_numeric(history["year"], errors="coerce") == year]
    ref = reference["point_emission"]
    sources = {str(v): i for i, v in enumerate(ref["source"].values)}
    pols = {str(v): i for i, v in enumerate(ref["pollutant"].values)}
    table = np.asarray(ref.values, dtype=float)
    figures = pd.to_numeric(rows["emission"], errors="coerce")  # text: checked later
    pairs = [
        (float(e), table[sources[s], pols[p]])
        for s, p, e in zip(rows["source_id"].astype(str), rows["pollutant"], figures, strict=True)
        if s in sources and p in pols
    ]
    ratios = np.array([e / r for e, r in pairs if e > 0 and r > 0 and np.isfinite(e / r)])
    if ratios.size < 3:
        return
    typical = float(np.median(ratios))
    if 300.0 <= typical <= 3000.0 or 1 / 3000.0 <= typical <= 1 / 300.0:
        warn(
            f"{what}: at the reference year {year} its figures are {typical:.4g} times those "
            f"of [inputs] point_sources for the same stacks and pollutants (median of "
            f"{ratios.size} pairs); expected the same figures, in t yr-1. One of the two files "
            "looks like kg yr-1 (divide by 1000) or the other way round; the register wins in "
            "the run."
        )


def _register_years(history: pd.DataFrame, config: RunConfig, what: str) -> None:
    """Check the years of the stack register `history`: whole calendar years from 1900 to
    next year (else an error naming the lines), and one line of the log (INFO) for the rows
    outside ``[run] first_year``..``last_year``, which the run does not use."""
    if "year" not in history.columns:
        return  # the trajectory's check names the missing column
    years = numeric_column(history, "year", what=what, config_key="[inputs] point_source_history")
    last_plausible = MAX_YEAR + 1
    bad = np.flatnonzero((years % 1 != 0) | (years < DATA_YEARS[0]) | (years > last_plausible))
    if bad.size:
        found = [
            f"{v:g} at {line}" for v, line in zip(years[bad], data_lines(history, bad), strict=True)
        ]
        raise InputError(
            f"{what}, column 'year': {rows_preview(found, 5)}; expected whole calendar years "
            f"from {DATA_YEARS[0]} to {last_plausible} (four digits, e.g. 2015). Fix the file."
        )
    first, last = config.run.first_year, config.run.last_year
    out = (years < first) | (years > last)
    if out.any():
        column = (
            history["source_id"] if "source_id" in history.columns else pd.Series([""] * len(years))
        )
        ids = {str(v) for v in column.to_numpy()[out]}
        shown = sorted({int(y) for y in years[out]})
        # a run of some years with a whole register is the common case: said, not warned
        log.info(
            "%s: %d row(s) of year(s) %s (stacks %s) lie outside the run's years %d-%d ([run] "
            "first_year, last_year) and are not used.",
            what,
            int(out.sum()),
            rows_preview(shown, 6),
            rows_preview(sorted(ids), 5),
            first,
            last,
        )


def _stack_ids(points: Any) -> set[str]:
    """The source ids of the stacks read from ``[inputs] point_sources`` (every stack
    listed, on the grid or not); empty without that input."""
    if points is None:
        return set()
    if isinstance(points, xr.Dataset):
        return {str(v) for v in points["source"].values} if "source" in points.dims else set()
    return {str(v) for v in points["source_id"]}


def _summarise_register_notes(caught: list[warnings.WarningMessage]) -> None:
    """One warning for the (sector, pollutant) pairs whose totals the register overrides in
    some years (:class:`~trajectoire.trajectory.backcast.UnreconciledTotals`, each pair's
    message, its years listed, in the debug log); the other warnings caught as they were."""
    notes = [w.message for w in caught if isinstance(w.message, UnreconciledTotals)]
    for w in caught:
        if not isinstance(w.message, UnreconciledTotals):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if notes:
        for n in notes:
            log.debug("trajectory: %s", n)
        years = sum(len(n.years) for n in notes)
        named = rows_preview([f"{n.sector} {n.pollutant}" for n in notes])
        stacks = list(dict.fromkeys(s for n in notes for s in n.sources))
        which = f"stack(s) {rows_preview(stacks, 5)}" if stacks else "the registered stacks"
        warn(
            f"trajectory: {years} (sector, pollutant, year) totals of {len(notes)} (sector, "
            f"pollutant) pair(s) ({named}) could not follow their series: the register "
            f"figures of {which} depart from their series by more than the sector's gridded "
            "part can take up (it is clipped at 0; the sector's total is then its stacks'). "
            "The register wins, as documented; each pair's years and stacks are in the debug "
            "log (trajectoire run -v)."
        )


def _meteorology(
    config: RunConfig, run_years: list[int], grid: Grid | None = None
) -> tuple[xr.Dataset, xr.Dataset]:
    """Joint frequency tables of the run's years, and the hourly meteorology (its site,
    ``[meteo]`` latitude and longitude, checked against `grid` when given)."""
    if config.inputs.meteo is None:
        raise ConfigError("[inputs] meteo: hourly meteorology is needed for the dispersion.")
    if grid is not None:
        _check_meteo_site(config, grid)
    hourly = _read(
        config,
        "meteo",
        latitude=config.meteo.latitude,
        longitude=config.meteo.longitude,
        roughness_length=config.meteo.roughness_length,
    )
    hourly = add_stability(hourly, urban_stable_adjustment=config.meteo.urban_stable_adjustment)
    hourly = mixing_height_scheme(hourly, config.meteo.mixing_height, what=str(config.inputs.meteo),
                                  calm_threshold=config.meteo.calm_threshold)  # fmt: skip
    met = met_classes(hourly, **_class_options(config))
    meteo_file = f"{config.inputs.meteo.path.name} ([inputs] meteo)"
    return select_years(met, run_years, what=meteo_file, min_coverage=YEAR_COVERAGE), hourly


#: angle between the grid's north and true north beyond which a run warns [degrees]: the
#: plumes are turned by it (17 m a kilometre at 1 degree)
_NORTH_ANGLE = 1.0
#: distance from the grid beyond which ``[meteo]`` latitude, longitude are doubted [m]
_METEO_SITE_DISTANCE = 200e3


def _distance_to_grid(grid: Grid, latitude: float, longitude: float) -> float:
    """Distance [m] from the point (`latitude`, `longitude`) [degree] to the grid's extent
    (0 inside; inf where the point has no position in the grid's CRS)."""
    to_grid = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    x, y = to_grid.transform(longitude, latitude, errcheck=False)
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    x0, y0, x1, y1 = grid.bounds
    return math.hypot(max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1))


def _check_meteo_site(config: RunConfig, grid: Grid) -> None:
    """Warn when ``[meteo]`` latitude, longitude (the site of the meteorology, whose latitude
    sets the sun's elevation of Turner's classes) lie more than 200 km from the grid: another
    region's defaults, or the two swapped; and when the grid's north is more than
    :data:`_NORTH_ANGLE` from true north (the plumes are turned by that angle)."""
    angle = grid.true_north_angle()
    if abs(angle) > _NORTH_ANGLE:
        warn(
            f"[grid] crs = {grid.crs.to_string()}: true north lies {angle:+.1f} degrees from "
            "the grid's north at its centre, and the wind directions (bearings from true "
            "north) are applied in the grid's axes: every plume is turned by that angle. "
            "Expected a CRS whose grid north is within 1 degree of true north over the grid "
            "(Lambert-93, EPSG:2154, over France): set [grid] crs to one."
        )
    lat, lon = config.meteo.latitude, config.meteo.longitude
    far = _distance_to_grid(grid, lat, lon)
    if far <= _METEO_SITE_DISTANCE:
        return
    swapped = abs(lon) <= 90 and _distance_to_grid(grid, lon, lat) <= _METEO_SITE_DISTANCE
    x0, y0, x1, y1 = grid.bounds
    warn(
        f"[meteo] latitude = {lat:g}, longitude = {lon:g}: the site lies "
        f"{'over 10000' if math.isinf(far) else f'{far / 1e3:.0f}'} km from the grid (x "
        f"{x0:.0f} to {x1:.0f}, y {y0:.0f} to {y1:.0f} in {grid.crs.to_string()}); expected "
        "the position of the meteorological station, in degrees, near the grid. "
        + (
            f"They look swapped: write latitude = {lon:g}, longitude = {lat:g}."
            if swapped
            else "Set [meteo] latitude and longitude to the station's."
        )
    )


def _class_options(config: RunConfig) -> dict[str, Any]:
    """The keywords of :func:`trajectoire.meteo.met_classes` that ``[meteo]`` sets."""
    options: dict[str, Any] = {
        "calm_threshold": config.meteo.calm_threshold,
        "n_directions": config.meteo.direction_sectors,
        "direction_resolution": config.meteo.direction_resolution,
    }
    if config.meteo.stack_speed_edges is not None:  # None: met_classes' default
        options["stack_speed_edges"] = config.meteo.stack_speed_edges
    return options


def _seasons(
    config: RunConfig, hourly: xr.Dataset, reference: xr.Dataset, run_years: list[int]
) -> dict[str, Any]:
    """The seasonal species and their weighted frequency tables (``seasonal``,
    ``seasonal_met`` of :class:`RunContext`).

    A dispersed species whose every emitting sector has a ``"sector/species"`` temporal
    profile (:mod:`trajectoire.inventory.temporal`), the same one, is dispersed with a
    table whose hours are weighted by that profile's hourly factors (UTC times read as
    CET, ``utc_offset = 1``); one emitted also by a sector without it keeps the run's table
    (a warning says so)."""
    profiles = default_temporal_profiles()
    seasonal: dict[str, str] = {}
    for pol, sectors in _emitting_sectors_of(reference).items():
        keys = {f"{s}/{pol}" for s in sectors} & set(profiles)
        if len(keys) == 1 and len(sectors) == 1:
            seasonal[pol] = keys.pop()
        elif keys:
            warn(
                f"{pol}: the seasonal profiles {sorted(keys)} are not applied in the annual "
                f"mode: {pol} is also emitted by {sorted(sectors)}; its kernels use the "
                "meteorology of every hour.",
                TrajectoireWarning,
            )
    seasonal_met = {}
    for key in set(seasonal.values()):
        sector, species = key.split("/", 1)
        w = hourly_factors(sector, hourly["time"].values, species=species, utc_offset=1.0)
        table = met_classes(hourly, weights=w, **_class_options(config))
        seasonal_met[key] = select_years(table, run_years, what=str(config.inputs.meteo))
        _check_season_hours(seasonal_met[key], hourly["time"].values, w, key, config)
    return {"seasonal": seasonal, "seasonal_met": seasonal_met}


def _check_season_hours(
    table: xr.Dataset, times: np.ndarray, weights: np.ndarray, key: str, config: RunConfig
) -> None:
    """Raise when a run year's meteorology has no valid hour in the season of a profile
    (the hours `key` emits in): its weighted table is empty, there is nothing to disperse
    the species with. Names the file, the years, the profile and its months."""
    total = table["frequency"].sum([d for d in table["frequency"].dims if d != "year"])
    empty = [int(y) for y, t in zip(table["year"].values, total.values, strict=True) if t <= 0]
    if not empty:
        return
    months = sorted(set(pd.DatetimeIndex(times[np.asarray(weights) > 0]).month))
    sector, species = key.split("/", 1)
    raise InputError(
        f"{Path(str(config.inputs.meteo)).name} ([inputs] meteo): no valid hour in year(s) "
        f"{empty} during the months {species} is emitted by {sector} (its temporal profile "
        f"'{key}': months {months}), so it cannot be dispersed. Add those hours to the "
        "meteorology or narrow the years (--years or run(years=), [run] first_year/last_year)."
    )


def _emitting_sectors_of(reference: xr.Dataset) -> dict[str, list[str]]:
    """The sectors with an emission (gridded or stacks) of each pollutant."""
    em = reference["emission"].transpose("sector", "pollutant", ...)
    out: dict[str, list[str]] = {str(p): [] for p in reference["pollutant"].values}
    for i, sec in enumerate(map(str, reference["sector"].values)):
        emits = np.asarray((em[i] > 0).any(axis=(-2, -1)).values)
        for p, e in zip(out, emits, strict=True):
            if e:
                out[p].append(sec)
    if "source" in reference.dims and reference.sizes["source"]:
        q = reference["point_emission"].transpose("source", "pollutant").values
        for j, sec in enumerate(map(str, reference["source_sector"].values)):
            for p, v in zip(out, q[j], strict=True):
                if v > 0 and sec not in out[p]:
                    out[p].append(sec)
    return out


def _background(
    config: RunConfig, pollutants: list[str], run_years: list[int], grid: Grid
) -> tuple[xr.DataArray, RegionalBackground | None, list[int]]:
    """The regional background ``(year, pollutant)`` [ug m-3] (0 when none is given), or,
    for a regional model field (format ``"field"``), zeros and the field prepared for the
    grid (its local part is removed year by year, :func:`_background_of`); and the run's
    years a background table lacks (NaN there, refused by :func:`check_years` for the
    years computed)."""
    zeros = xr.DataArray(
        np.zeros((len(run_years), len(pollutants))),
        dims=("year", "pollutant"),
        coords={"year": run_years, "pollutant": list(pollutants)},
        attrs={"units": "ug m-3"},
    )
    if config.inputs.background is None:
        log.warning("no background given: the regional background is taken as 0")
        return zeros, None, []
    bg = _read(config, "background")
    bg, pollutants = _emerging_background(bg, pollutants, config)
    missing_p = sorted(set(pollutants) - {str(p) for p in bg["pollutant"].values})
    missing_y = sorted(set(run_years) - {int(y) for y in bg["year"].values})
    field = config.inputs.background.format == "field"
    if missing_p or (missing_y and field):
        raise InputError(_background_gap(config, missing_p, missing_y, bg))
    # a table's missing years are refused only if the run computes them (check_years): a
    # run narrowed with --years to the years the table gives runs
    bg = bg.reindex(year=run_years).sel(pollutant=list(pollutants))
    _background_range(bg, f"{config.inputs.background.path.name} ([inputs] background)")
    if "y" not in bg.dims:
        out = bg.reindex(pollutant=zeros["pollutant"], fill_value=0.0).load()
        return out, None, missing_y
    return zeros, RegionalBackground(bg, grid), []


def _background_gap(
    config: RunConfig, pollutants: list[str], years: list[int], bg: xr.DataArray | None = None
) -> str:
    """The message of a background that lacks `pollutants` or `years` of the run."""
    assert config.inputs.background is not None
    field = config.inputs.background.format == "field"
    variables = "" if bg is None else f" (variables {bg.attrs.get('variables')})"
    return (
        f"{config.inputs.background.path} ([inputs] background): no background for "
        + " and ".join(
            ([f"pollutants {pollutants}"] if pollutants else [])
            + ([f"years {years}"] if years else [])
        )
        + (
            f"{variables}; fix [inputs.background] "
            + ("variables" if pollutants else "years, or [run] first_year/last_year")
            if field
            else "; add their rows to the table, or narrow the years (--years or run(years=), "
            "[run] first_year/last_year)."
        )
    )


def check_years(ctx: RunContext, years: Sequence[int]) -> None:
    """Refuse the `years` the prepared run cannot compute, before any is computed.

    The runner calls it with the years asked (``--years``, ``run(years=)``): a background
    table that lacks some years of the configuration is refused only for the years the run
    computes (:func:`compute_year` checks its own year the same way).

    Parameters
    ----------
    ctx : RunContext
        The prepared run (:func:`prepare`).
    years : sequence of int
        The years to compute.

    Raises
    ------
    trajectoire.InputError
        Some of `years` have no regional background in the ``[inputs] background`` table:
        one line naming the file, those years and the fixes.
    """
    gaps = sorted({int(y) for y in years} & set(ctx.background_missing))
    if gaps:
        raise InputError(_background_gap(ctx.config, [], gaps))


#: a regional background below this, and above 0, is doubtful [ug m-3]: mg m-3 read as ug
_BACKGROUND_TINY = {"NO2": 0.5, "NOx": 0.5, "PM10": 0.5, "PM2.5": 0.5, "SO2": 0.05}


#: a regional annual background above this [ug m-3] is impossible (the highest annual means
#: measured in Europe, at roadside stations, stay below a few hundred): a unit mistake
_BACKGROUND_HUGE = 1000.0


def _background_range(bg: xr.DataArray, what: str) -> None:
    """Check the backgrounds [ug m-3] of the regulated pollutants (those of
    :data:`_BACKGROUND_TINY`), year by year: one above :data:`_BACKGROUND_HUGE` (in a
    regional field: in some cell) is an error, values in mg m-3 converted as such or ng m-3
    read as ug m-3; in a table ``(year, pollutant)``, one above 0 but below
    :data:`_BACKGROUND_TINY` is warned about, values in mg m-3 (1000 times too small)."""
    high, low = [], []
    for pol, tiny in _BACKGROUND_TINY.items():
        if pol not in bg["pollutant"].values:
            continue
        v = bg.sel(pollutant=pol)
        peak = v.max(dim=[d for d in v.dims if d != "year"]) if v.ndim > 1 else v
        over = peak > _BACKGROUND_HUGE
        if over.any():
            years = [int(y) for y in peak["year"].values[over.values]]
            high.append(f"{pol} {float(peak.max()):.4g} ug m-3, years {rows_preview(years, 4)}")
        # a table only: a regional field's remote cells may well be that low
        under = (v > 0) & (v < tiny) if v.ndim == 1 else None
        if under is not None and under.any():
            years = [int(y) for y in v["year"].values[under.values]]
            low.append(f"{pol} {float(v[under].max()):.3g} at most, years {rows_preview(years, 4)}")
    if high:
        raise InputError(
            f"{what}: regional background(s) above {_BACKGROUND_HUGE:g} ug m-3: "
            f"{'; '.join(high)}; expected annual means of a few to a few tens of ug m-3. "
            "Check the units (a 'units' column of mg m-3 multiplies by 1000; values in ng m-3 "
            "need units = ng m-3)."
        )
    if low:
        warn(
            f"{what}: background(s) far below any measured: {'; '.join(low)}; expected "
            f"regional annual means in ug m-3 (above {_BACKGROUND_TINY['NO2']:g} for NO2, NOx, "
            f"PM10, PM2.5, above {_BACKGROUND_TINY['SO2']:g} for SO2). They look like mg m-3: "
            "multiply by 1000, or give the units in a 'units' column."
        )


def _emerging_background(
    bg: xr.DataArray, pollutants: list[str], config: RunConfig
) -> tuple[xr.DataArray, list[str]]:
    """The emerging species (registry flag ``emerging``) that the background table does
    not give are taken as 0 (no regional measurement exists for most), said in a warning;
    the other pollutants must be in the table. Returns the table and the pollutants it
    must give."""
    given = {str(p) for p in bg["pollutant"].values}
    absent = [p for p in pollutants if p not in given and get_pollutant(p).emerging]
    # a species deposited at its source is never in the air: no background to warn about
    said = [p for p in absent if not get_pollutant(p).deposited_at_source]
    if said:
        warn(
            f"{bg.attrs.get('source_file', '[inputs] background')}: no background for the emerging species "
            f"{said}: taken as 0 (local sources only); add rows (units cm-3 for particle "
            "numbers) to [inputs] background to give one.",
            TrajectoireWarning,
        )
    return bg, [p for p in pollutants if p not in absent]


def _observed_units(table: pd.DataFrame, pollutant: str, what: str) -> dict[str, Any]:
    """The ``units`` keyword of :func:`observations_from_table` for `pollutant`: none for a
    mass species (``ug m-3``: the values of a ``units`` column are converted to it by
    :func:`_observation_table`); for a particle-number species, ``cm-3``, and its rows must
    say their units in the table's ``units`` column, as a particle number
    (``cm-3``, ``m-3``): a number observation never comes in the default mass unit."""
    sp = get_pollutant(pollutant)
    if not sp.is_number:
        return {}
    rows = table[table["pollutant"] == pollutant]
    found = sorted({str(u) for u in rows["units"]}) if "units" in table.columns else []
    if not found or any(unit_kind(u) != "number_concentration" for u in found):
        raise UnitsError(
            f"{what}: observations of the particle-number species {pollutant!r} in "
            f"{found or 'ug m-3 (no units column)'}; expected a 'units' column with "
            f"{sp.concentration_units!r} on its rows: particle numbers and masses never mix."
        )
    return {"units": sp.concentration_units}


def _converted_observations(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """`table` with the values of its ``units`` column converted, row by row, to the unit
    of each pollutant's family (ug m-3, cm-3 for particle numbers; the background table's
    rule: :func:`trajectoire.assess.stations.observation_units`), that unit written in
    the column; a log line says what was converted. `table`'s pollutants are species ids;
    an unknown or empty unit is one error naming the file, its line and the unit."""
    if "units" not in table.columns:
        return table
    values = table["value"].to_numpy(dtype=float).copy()
    units = np.empty(len(table), dtype=object)
    for pol, at in table.groupby("pollutant", sort=False).indices.items():
        rows = table.iloc[at]
        values[at], units[at] = observation_units(rows, values[at], str(pol), what=what, lines=True)
    given = table["units"].astype(str).str.strip()
    changed = [
        f"{n} row(s) in {u}"
        for u, n in given[(given != pd.Series(units, index=table.index)) & table["value"].notna()]
        .value_counts(sort=False)
        .items()
    ]
    if changed:
        log.info(
            "%s: column 'units': %s converted to ug m-3 (particle numbers to cm-3; mixing "
            "ratios with the gas's molar mass at %.2f K and %.3f kPa)",
            what,
            ", ".join(changed),
            REFERENCE_TEMPERATURE,
            REFERENCE_PRESSURE / 1000.0,
        )
    return table.assign(value=values, units=units)


def _census_grids(zones: Any, grid: Grid) -> tuple[list[int], np.ndarray]:
    """Inhabitants per cell at each census year of the zones (``pop_<year>`` columns);
    1 inhabitant per cell (area weighting) without zones."""
    if zones is None:
        return [0], np.ones((1, *grid.shape))
    census = census_population(zones, grid)
    return [int(c) for c in census["census"].values], census.values


def population(ctx: RunContext, year: int) -> np.ndarray:
    """Inhabitants per cell in `year` (:func:`trajectoire.inventory.population_at`)."""
    census = xr.DataArray(
        ctx.census, dims=("census", "y", "x"), coords={"census": ctx.census_years}
    )
    return population_at(census, year)


def emission_of(
    ctx: RunContext, year: int, pollutant: str, scale: float | None = None
) -> np.ndarray:
    """Gridded emission ``(sector, ny, nx)`` [t yr-1, float32] of one pollutant in `year`,
    times `scale` when given (:func:`trajectoire.trajectory.emission_from_basis`)."""
    weight = basis_weights(ctx.basis_weight, year)
    return emission_from_basis(
        ctx.basis, weight, ctx.dispersed.index(pollutant), scale=scale, blank=ctx.blank
    )


def _stations(config: RunConfig, grid: Grid) -> pd.DataFrame:
    """Stations of the run that lie on the grid, with their cell."""
    if config.inputs.stations is None:
        return pd.DataFrame({"station_id": [], "x": [], "y": [], "row": [], "col": []})
    df = _read(config, "stations", to_crs=grid.crs)
    row, col, inside = grid.cell_index(df["x"].to_numpy(), df["y"].to_numpy())
    if not inside.all():
        out = df.loc[~inside]
        places = [f"{r.station_id} ({r.x:.0f}, {r.y:.0f})" for r in out.itertuples()]
        x0, y0, x1, y1 = grid.bounds
        log.warning(
            "%s ([inputs] stations): %d of %d station(s) lie outside the grid and are left "
            "out: %s (x, y in %s; the grid covers x %.0f to %.0f, y %.0f to %.0f). If their "
            "positions are in another CRS, set it with [inputs.stations] crs.",
            config.inputs.stations.path.name,
            len(out),
            len(df),
            rows_preview(places),
            grid.crs.to_string(),
            x0,
            x1,
            y0,
            y1,
        )
    listed = df["station_id"].astype(str).tolist()
    df = df.loc[inside].copy()
    df["row"] = row[inside]
    df["col"] = col[inside]
    df = df.reset_index(drop=True)
    df.attrs["listed"] = listed  # every station of the file, for the observations' check
    return df


def _observations(
    config: RunConfig, stations: pd.DataFrame, pollutants: list[str]
) -> xr.DataArray | None:
    """The annual observations of the run's stations ``(year, station, pollutant)``
    [ug m-3], read and checked before any year is computed (NaN where none)."""
    key = _observation_key(config)
    if key is None:
        return None
    path = getattr(config.inputs, key)
    what = f"{path} ([inputs] {key})"
    table = _observation_table(config, stations, what, key)
    found = [p for p in pollutants if p in set(table["pollutant"])]
    ids = stations["station_id"].astype(str).tolist()
    parts = [
        observations_from_table(table, pollutant=p, what=what, **_observed_units(table, p, what))
        .reindex(station=ids)
        .reindex(year=config.years)
        for p in found
    ]
    if not parts:
        log.warning("%s: no observation of the run's pollutants %s", what, pollutants)
        return None
    obs = xr.concat(parts, dim=pd.Index(found, name="pollutant")).reindex(pollutant=pollutants)
    given = table[table["pollutant"].isin(found) & table["value"].notna()]
    if not int(obs.notnull().sum()) and len(given):  # every value left out: say why
        at = rows_preview(sorted(set(given["station_id"].astype(str))))
        if not ids:  # the stations all lie outside the grid
            log.warning(
                "%s: none of its stations (%s) lies inside the grid of the run: nothing to "
                "compare the model with. Check the stations' positions ([inputs] stations) "
                "and the territories the grid covers ([grid] territories, buffer).",
                what,
                at,
            )
        else:
            log.warning(
                "%s: none of its values is of a year of the run (%s) at a station inside the "
                "grid (its values are of the years %s, at the stations %s; inside the grid: "
                "%s): nothing to compare the model with. Check the years and the stations.",
                what,
                year_ranges(config.years),
                year_ranges(int(y) for y in given["year"]),
                at,
                rows_preview(ids),
            )
    log.info(
        "observations: %d value(s) at %d station(s) read from %s",
        int(obs.notnull().sum()),
        len(ids),
        path,
    )
    return obs.transpose("year", "station", "pollutant").load()


def _observation_key(config: RunConfig) -> str | None:
    """The input of the observations the run compares with: ``observations`` (annual
    means), else ``observations_hourly`` (their annual means are taken); None without."""
    hourly = config.inputs.observations_hourly
    if config.inputs.observations is not None:
        if hourly is not None:
            log.warning(
                "[inputs] observations_hourly (%s) is not used by the run: it compares the "
                "annual means of [inputs] observations; leave one of them out (the run takes "
                "the annual means of the hourly values when only they are given).",
                hourly.path.name,
            )
        return "observations"
    return None if hourly is None else "observations_hourly"


def _observation_table(
    config: RunConfig, stations: pd.DataFrame, what: str, key: str = "observations"
) -> pd.DataFrame:
    """``[inputs] observations`` (or ``observations_hourly``, `key`) read and checked: its
    columns, numeric values >= 0, its pollutants as species ids (aliases read), and station
    ids all in ``[inputs] stations`` (which must be given); hourly values become annual
    means (:func:`_annual_of_hourly`)."""
    if config.inputs.stations is None:
        raise ConfigError(
            f"{what}: the observations name their stations by id, but [inputs] stations is "
            "not given; add the stations file (station_id, x, y), or remove the observations."
        )
    table = _read(config, key)
    hourly = key == "observations_hourly"
    require_columns(
        table.columns, ["station_id", "time" if hourly else "year", "pollutant", "value"], what
    )
    table["value"] = numeric_column(
        table, "value", what=what, allow_nan=True, config_key=f"[inputs] {key}"
    )
    check_not_negative(
        table,
        "value",
        table["value"].to_numpy(),
        what,
        f"{'hourly' if hourly else 'annual'} means >= 0",
    )
    table["pollutant"] = normalise_rows(
        table["pollutant"].tolist(),
        data_lines(table, range(len(table))),
        normalise_pollutant,
        f"{what}, column 'pollutant'",
    )
    table = _converted_observations(table, what)  # before the range check: ng m-3, ppb
    _known_stations(config, table, stations, what)
    if hourly:  # checked by observations_from_table, each (station, instant) once
        return _annual_of_hourly(table, what)
    _observation_range(table, what)
    sid = table["station_id"].astype(str)
    # by file line (observations_from_table would name the table's row labels)
    said = (
        "several values for one station, year and pollutant: {found}; expected one annual "
        "mean each. Keep one of each."
    )
    check_repeats(table, [sid, table["year"], table["pollutant"]], what, said)
    return table


def _known_stations(
    config: RunConfig, table: pd.DataFrame, stations: pd.DataFrame, what: str
) -> None:
    """Every station id of the observations' `table` is one of ``[inputs] stations`` (one
    error naming the ids, their file lines, and near misses of blanks or case)."""
    name = config.inputs.stations.path.name if config.inputs.stations else "the stations"
    listed = set(stations.attrs.get("listed", stations["station_id"].astype(str)))
    sid = table["station_id"].astype(str)
    unknown = sorted(set(sid) - listed)
    if unknown:
        rows = rows_preview(data_lines(table, np.flatnonzero(~sid.isin(listed).to_numpy())))
        folded = {" ".join(v.split()).lower(): v for v in listed}
        near = [  # blanks or case: the id is shown quoted, and the station it would be
            f"{u!r} is {folded[' '.join(u.split()).lower()]!r} but for blanks or case"
            for u in unknown
            if " ".join(u.split()).lower() in folded
        ]
        raise InputError(
            f"{what}, column 'station_id': {rows_preview(map(repr, unknown))} ({rows}) are not "
            f"stations of {name} ([inputs] stations), whose ids "
            f"look like {sorted(listed)[:3]}"
            + (f"; {rows_preview(near, 3)}" if near else "")
            + ". Fix the ids, or add the stations."
        )


def _annual_of_hourly(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """The annual means of the hourly observations of `table` (checked, its values in the
    unit of each pollutant's family), as the rows of an annual table (``station_id``,
    ``year``, ``pollutant``, ``value``, ``units``; each row labelled "<station> <year>"),
    with the data capture rule of :func:`trajectoire.assess.annual_means` (Directive
    2008/50/EC: 90 % of the year's hours); the station-years short of it are said."""
    rows: list[dict[str, Any]] = []
    short: list[str] = []
    for pol, part in table.groupby("pollutant", sort=False):
        hourly = observations_from_table(
            part, pollutant=str(pol), time="time", what=what, lines=True
        )
        means = annual_means(hourly)
        capture = means["data_capture"].values
        for i, year in enumerate(int(y) for y in means["year"].values):
            for j, sid in enumerate(str(s) for s in means["station"].values):
                value = float(means.values[i, j])
                if not np.isfinite(value) and capture[i, j] > 0:
                    short.append(f"{sid} {pol} {year} ({100 * capture[i, j]:.0f} %)")
                rows.append({"station_id": sid, "year": year, "pollutant": str(pol),
                             "value": value, "units": means.attrs.get("units", "ug m-3")})  # fmt: skip
    if short:
        log.warning(
            "%s: %d station-year(s) with fewer valid hours than the %.0f %% data capture of an "
            "annual mean (Directive 2008/50/EC) are not compared: %s",
            what,
            len(short),
            100 * ANNUAL_MIN_CAPTURE,
            rows_preview(short, 4),
        )
    annual = pd.DataFrame(rows, columns=["station_id", "year", "pollutant", "value", "units"])
    annual.index = [f"{r.station_id} {r.year}" for r in annual.itertuples()]
    log.info(
        "%s: annual means of %d station-year(s) taken from the hourly values", what, len(annual)
    )
    return annual


#: annual means above this are no measurement [ug m-3] (the highest measured in Europe are
#: about 100 for NO2, a few hundred near the busiest roads for NOx; ng m-3, or hourly maxima?)
_ANNUAL_MEAN_IMPOSSIBLE = 1000.0
_JUDGED_IN_UG = ("NO2", "NOx", "PM10", "PM2.5", "SO2")


def _observation_range(table: pd.DataFrame, what: str) -> None:
    """Annual means of NO2, NOx, PM10, PM2.5 and SO2 [ug m-3] above 1000 are an error naming
    the lines, the pollutants and the values (`table`'s pollutants are species ids)."""
    high = table["pollutant"].isin(_JUDGED_IN_UG).to_numpy() & (
        table["value"].to_numpy(dtype=float) > _ANNUAL_MEAN_IMPOSSIBLE
    )
    if high.any():
        rows = np.flatnonzero(high)
        found = [
            f"{table['pollutant'].iloc[i]} {table['value'].iloc[i]:g} at {line}"
            for i, line in zip(rows, data_lines(table, rows), strict=True)
        ]
        raise InputError(
            f"{what}, column 'value': annual mean(s) {rows_preview(found, 5)} are far above "
            f"anything measured; expected annual means in ug m-3, below "
            f"{_ANNUAL_MEAN_IMPOSSIBLE:g} (tens for NO2 and particles). Convert ng m-3 "
            "(divide by 1000), or keep annual means, not hourly values."
        )


# ------------------------------------------------------------------------------ compute_year
@dataclass
class _Kernels:
    """One year's kernels for the pollutants of one ``(decay rate, deposition velocity)``
    pair (:meth:`DispersionSettings.removal_groups`), and what the receptors need of them."""

    removal: tuple[float, float]
    pollutants: list[int]  # indices in ctx.dispersed
    disp: YearDispersion
    season: str | None = None  # the profile key of a seasonal species' own kernel set
    territory_adjoints: list[np.ndarray] = field(default_factory=list)
    station_adjoints: list[Any] = field(default_factory=list)
    stacks: Stacks = field(default_factory=lambda: Stacks([], [], []))
    stack_sums: tuple[np.ndarray, np.ndarray, np.ndarray] = ()  # type: ignore[assignment]


@dataclass
class _Year:
    """The state of one year while it is computed (see :func:`compute_year`)."""

    year: int
    is_map: bool
    kernels: list[_Kernels]  # one set per removal pair; a single one without deposition
    heights: list[KernelClass]  # (release height, initial sigma_z) classes
    height_of_sector: np.ndarray
    maps: YearMaps
    sums: ReceptorSums
    population: np.ndarray
    own: Any  # (territory, cell) each territory's own inhabitants (own_inhabitants), once
    exposure: ExposureStatistics  # quantiles and inhabitants above thresholds, per pollutant
    exposure_receptors: list[Receptor] = field(default_factory=list)
    stack_emission: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    weight: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # basis weights
    emission: np.ndarray | None = None  # one pollutant's (sector, y, x): _pollutant_emission
    # the bits of the value every cell of each plane of `emission` holds (-1: not known)
    emission_constant: np.ndarray | None = None
    nox: dict[str, Any] = field(default_factory=dict)
    no2_shares: np.ndarray | None = None  # f-NO2 of each sector in the year (NO2 runs)
    zones: ZoneExposure | None = None  # inside / outside [inputs] exposure_zones
    background: dict[str, np.ndarray] = field(default_factory=dict)  # maps of a regional field
    clipped: dict[str, float] = field(default_factory=dict)  # share of regional cells clipped
    deposition: np.ndarray | None = None  # (territory, pollutant) [t yr-1] when depositing
    # the stacks' sectors and origins, no footprint, when no kernel set holds them (a run of
    # species deposited at source only: nothing is dispersed)
    bare_stacks: Stacks | None = None

    def kernels_of(self, ip: int) -> _Kernels:
        """The kernel set of dispersed pollutant `ip`."""
        return next(k for k in self.kernels if ip in k.pollutants)

    @property
    def stacks(self) -> Stacks:
        """The stacks' sectors and origins (the same in every kernel set)."""
        if not self.kernels:
            assert self.bare_stacks is not None  # set by _stacks
            return self.bare_stacks
        return self.kernels[0].stacks


def compute_year(ctx: RunContext, year: int) -> xr.Dataset:
    """Emissions, concentrations and their attribution for one year.

    Each step calls the public functions of the stage packages: the year's kernels
    (:class:`~trajectoire.dispersion.YearDispersion`, one set per distinct decay rate and
    deposition velocity), the receptors and their adjoints
    (:mod:`trajectoire.dispersion.receptors`), the stack footprints and the local
    concentrations (:mod:`trajectoire.dispersion.local`), the receptor aggregates
    (:class:`trajectoire.attribution.ReceptorSums`), NO2 (:mod:`trajectoire.dispersion.chemistry`),
    the dry deposition when ``[dispersion] dry_deposition`` is on, and the output variables
    (:mod:`trajectoire.io.outputs`).

    Parameters
    ----------
    ctx : RunContext
        From :func:`prepare`.
    year : int
        One of ``ctx.years``.

    Returns
    -------
    xarray.Dataset
        Variables with a length-1 ``year`` dim (see ``docs/outputs.md``); the wall time of
        each stage is in ``attrs["timing"]``.
    """
    year = _run_year(ctx, year)
    clock = _Clock()
    y = _start_year(ctx, year)
    clock("kernels")
    _receptors(ctx, y)
    _stacks(ctx, y)
    clock("stacks")
    _emission(ctx, y)
    clock("emission")
    # the aggregates need only the emissions and the adjoints: done before the maps fill,
    # one kernel set at a time, its adjoints made then freed; NO2 is done as soon as NOx
    # is dispersed (in _disperse)
    _aggregates(ctx, y, clock)
    _disperse(ctx, y, clock)
    _release(y)
    if ctx.zone_fraction is not None:
        _zone_exposure(ctx, y, ctx.zone_fraction)
        clock("zones")
    ds = _finish(ctx, y)
    clock("assemble")
    ds.attrs["timing"] = clock.summary()
    log.debug("year %d: %s", year, ds.attrs["timing"])
    return ds


def _start_year(ctx: RunContext, year: int) -> _Year:
    """The year's kernels (one set per removal pair of the dispersed pollutants) and empty
    outputs."""
    heights, h_of_s = ctx.heights()
    is_map = year in ctx.map_years
    n_p = len(ctx.output_pollutants)
    pop = population(ctx, year)
    own = own_inhabitants(ctx, year, pop)
    depositing = bool(ctx.settings.deposition_velocity) or bool(ctx.at_source)
    return _Year(
        year=year,
        is_map=is_map,
        kernels=_year_kernels(ctx, year),
        heights=heights,
        height_of_sector=h_of_s,
        maps=YearMaps(len(ctx.sectors), n_p, ctx.mask, is_map, depositing),
        sums=ReceptorSums.zeros(
            len(ctx.territories), len(ctx.stations), len(ctx.sectors), len(ctx.origins), n_p
        ),
        population=pop,
        own=own,
        exposure=ExposureStatistics.zeros(
            own,
            ctx.output_pollutants,
            quantiles=ctx.config.exposure.quantiles,  # [exposure]: the user's, or the default
            thresholds=run_thresholds(ctx.config.exposure.all_thresholds(), ctx.numbers),
        ),
        deposition=np.full((len(ctx.territories), n_p), np.nan) if depositing else None,
    )


def _year_kernels(ctx: RunContext, year: int) -> list[_Kernels]:
    """One :class:`YearDispersion` per distinct ``(decay rate, deposition velocity)`` of the
    dispersed pollutants: pollutants with the same pair share their kernels."""
    return [
        _Kernels((key[0], key[1]), members, disp, season=key[2])
        for (key, members), disp in zip(
            ctx.kernel_groups.items(), ctx.kernel_sets(year), strict=True
        )
    ]


def _release(y: _Year) -> None:
    """Free what the aggregates and NO2 needed before the year's dataset is assembled: the
    receptor adjoints and their kernel spectra, NOx's sector maps (~1 GB at 100 m)."""
    for k in y.kernels:
        k.territory_adjoints, k.station_adjoints = [], []
        k.disp.release_adjoint_spectra()
    y.nox = {}


def own_inhabitants(ctx: RunContext, year: int, pop: np.ndarray) -> Any:
    """``(territory, cell)`` inhabitants of each territory: the zones' own, cut by the
    territories, else the population grid times the territory fractions."""
    if ctx.inhabitants is not None:
        return ctx.inhabitants.at(year)
    return territory_inhabitants(pop, ctx.fractions[: len(ctx.territories)])


def _receptors(ctx: RunContext, y: _Year) -> None:
    """Population-weighted receptors (their adjoints are made by :func:`_adjoints`)."""
    area = ctx.territory_receptors
    own = (
        None
        if ctx.inhabitants is None
        else ctx.inhabitants.windows_of(y.own, [r.rows for r in area], [r.cols for r in area])
    )
    y.exposure_receptors = population_receptors(area, y.population, ctx.fractions, inhabitants=own)


def _adjoints(ctx: RunContext, y: _Year, k: _Kernels) -> None:
    """The adjoints of every receptor with the kernels of one set."""
    rows, cols = ctx.stations["row"].to_numpy(int), ctx.stations["col"].to_numpy(int)
    area = ctx.territory_receptors
    k.territory_adjoints = territory_adjoints(k.disp, area, y.exposure_receptors, y.heights)
    k.station_adjoints = station_adjoints(k.disp, rows, cols, y.heights)


def _stacks(ctx: RunContext, y: _Year) -> None:
    """One footprint per stack, year and kernel set, shared by the set's pollutants, and
    its receptor sums."""
    if not y.kernels:  # nothing dispersed: the stacks of no pollutant, empty footprints
        y.bare_stacks = ctx.stack_sets(y.year, [((0.0, 0.0, None), [])])[0]
    sets = ctx.stack_sets(y.year, [((*k.removal, k.season), k.pollutants) for k in y.kernels])
    for k, stacks in zip(y.kernels, sets, strict=True):
        k.stacks = stacks
        fps = k.stacks.footprints
        k.stack_sums = (
            footprint_sums(ctx.territory_receptors, fps),
            footprint_sums(y.exposure_receptors, fps),
            cell_values(ctx.stations["row"], ctx.stations["col"], fps),
        )


def _emission(ctx: RunContext, y: _Year) -> None:
    """The year's basis weights and the stacks' emissions; the gridded emissions are formed
    from the basis by each step that reads them (:func:`_pollutant_emission`), one pollutant
    at a time: the year holds no whole-grid emission planes.

    A particle-number species' emission [yr-1] is `scaled` by its :func:`run_scale`
    (1e-18) while the year is computed, so that the kernels (t yr-1 -> ug m-3) give its
    concentration in cm-3; :func:`_finish` writes it unscaled (:func:`_unscale_numbers`)."""
    y.weight = basis_weights(ctx.basis_weight, y.year)
    q = [stack_emission(ctx.point_emission, y.year, pol) for pol in ctx.dispersed]
    y.stack_emission = np.array(q).reshape(len(ctx.dispersed), len(y.stacks))
    for pol in ctx.numbers:
        y.stack_emission[ctx.dispersed.index(pol)] *= run_scale(pol)


def _pollutant_emission(ctx: RunContext, y: _Year, ip: int, keep: bool = False) -> np.ndarray:
    """Dispersed pollutant `ip`'s gridded emission ``(sector, ny, nx)`` [t yr-1, float32] in
    run units (a particle-number species times its :func:`run_scale`), formed from the basis
    in the year's one emission array: valid until the next call (0.01 s a plane). With
    `keep`, each plane is also kept for the output as it is formed
    (:meth:`~trajectoire.io.outputs.YearMaps.keep_emission`, the plane fresh in the cache;
    the planes filled with +0 not read); not for a particle-number species, whose output is
    in its own units (formed again by :func:`_finish`)."""
    pol = ctx.dispersed[ip]
    scale = run_scale(pol) if pol in ctx.numbers else None
    if y.emission is None:
        y.emission_constant = np.full(ctx.basis.shape[2], -1, dtype=np.int64)
        y.emission = np.empty(ctx.basis.shape[2:], dtype=np.float32)
    args = (ctx.basis, y.weight, ip, y.emission, scale, ctx.blank, y.emission_constant)
    if not keep:
        return emission_from_basis(*args)
    if scale is not None:
        raise ValueError(f"_pollutant_emission: {pol}'s planes are in run units, not kept")
    rows, cols = _stack_cells(ctx)
    planes = ((plane, bits == 0) for plane, bits in emission_planes(*args))  # 0: +0's bits
    y.maps.keep_emission(ip, rows, cols, y.stacks.sector, y.stack_emission[ip], planes)
    return y.emission


def _unscale_numbers(ctx: RunContext, y: _Year) -> None:
    """The particle-number species' stack emissions [yr-1] unscaled for the output (read
    again: bit for bit as read; the gridded ones are formed unscaled by :func:`_finish`)."""
    for pol in ctx.numbers:
        ip = ctx.dispersed.index(pol)
        y.stack_emission[ip] = stack_emission(ctx.point_emission, y.year, pol)


def _disperse(ctx: RunContext, y: _Year, clock: _Clock) -> None:
    """Local concentration of each dispersed pollutant (with its kernel set), by sector in a
    map year, and its dry deposition when the run deposits."""
    for ip, pol in enumerate(ctx.dispersed):
        # the output's emission planes kept as they are formed (a particle-number
        # species' are in run units here: formed again, unscaled, by _finish)
        e = _pollutant_emission(ctx, y, ip, keep=pol not in ctx.numbers)
        q = y.stack_emission[ip]
        if pol in ctx.at_source:
            _deposit_at_source(ctx, y, ip, e, q)
            continue
        kernels = y.kernels_of(ip)
        args = (kernels.disp, e, q, kernels.stacks, ctx.sectors)
        by_sector = None
        if y.is_map:
            # NOx keeps its own maps for NO2; the other pollutants' sector maps go straight
            # to the output, one plane at a time
            sink = None if pol == "NOx" else partial(y.maps.set_contribution_plane, ip)
            by_sector, local = sector_concentrations(*args, each=sink)
        else:
            local = local_concentration(*args)
        clock("dispersion")
        bg = _background_of(ctx, y, pol, local)
        y.maps.set_concentration(ip, local, bg)
        y.exposure.add(ip, local, bg)
        y.maps.set_contribution(ip, by_sector)
        if y.deposition is not None:
            _deposit(ctx, y, ip, local, kernels.removal[1])
        if pol == "NOx":
            # the year's emission array (contiguous, NO2's window sums read it fast): NO2 is
            # done before the next pollutant is formed in it
            y.nox = {"local": local, "by_sector": by_sector, "e": e, "q": q}
            y.nox["kernels"] = kernels
        clock("output")
        if pol == "NOx" and "NO2" in ctx.output_pollutants:
            _no2(ctx, y)  # now: NOx's sector maps are freed before the other maps fill
            _release(y)  # the last adjoints of the year were NO2's
            clock("no2")


def _deposit(ctx: RunContext, y: _Year, ip: int, local: np.ndarray, velocity: float) -> None:
    """Dry deposition of the local part of pollutant `ip`: its map in a map year, the mass
    deposited on each territory every year (the background's is not modelled)."""
    if y.deposition is None:
        return
    flux = deposition_flux(local, velocity)
    y.maps.set_deposition(ip, flux)
    y.deposition[:, ip] = deposited_mass(
        flux, ctx.fractions[: len(ctx.territories)], ctx.grid.cell_area
    )


def _deposit_at_source(ctx: RunContext, y: _Year, ip: int, e: np.ndarray, q: np.ndarray) -> None:
    """A species deposited in its emission cell (``TRWP_coarse``): not dispersed (its
    concentration and contributions are 0), its emission over the cell area is its
    deposition flux, summed on each territory."""
    zero = np.zeros(ctx.grid.shape, dtype=np.float32)
    if ctx.regional is not None:  # no background of its own: a zero map, nothing clipped
        y.background[ctx.dispersed[ip]], y.clipped[ctx.dispersed[ip]] = zero, 0.0
    y.maps.set_concentration(ip, zero, 0.0)
    y.exposure.add(ip, zero, 0.0)
    for s in range(len(ctx.sectors)):  # one zero plane, not a (sector, y, x) array of them
        y.maps.set_contribution_plane(ip, s, zero)
    pts = ctx.points
    rows, cols = (None, None) if pts is None else (pts["row"].values, pts["col"].values)
    flux = source_deposition_flux(e, ctx.grid.cell_area, rows, cols, q)
    assert y.deposition is not None  # a run with such a species always deposits
    y.maps.set_deposition(ip, flux)
    y.deposition[:, ip] = deposited_mass(
        flux, ctx.fractions[: len(ctx.territories)], ctx.grid.cell_area
    )


def _aggregates(ctx: RunContext, y: _Year, clock: _Clock) -> None:
    """Receptor aggregates of the gridded emissions (each window once per kernel set) and of
    the stacks, one kernel set at a time: its adjoints are made, used and freed, with their
    kernel spectra unless NO2 needs them again (NOx's set): one set's adjoints in memory,
    not all of them (~0.3 GB each at 100 m, and ~0.4 GB of spectra). The set's pollutants
    are summed one at a time, each formed from the basis (:func:`_pollutant_emission`)."""
    no2 = "NO2" in ctx.output_pollutants
    for k in y.kernels:
        _adjoints(ctx, y, k)
        clock("adjoints")
        for ip in k.pollutants:
            y.sums.add_gridded(
                k.territory_adjoints,
                ctx.territory_receptors,
                k.station_adjoints,
                _pollutant_emission(ctx, y, ip)[:, None],
                y.height_of_sector,
                ctx.origin_layers,
                [ip],
                planes=[0],
                sectors=np.flatnonzero(ctx.emitting[ip]),
            )
        y.sums.add_stacks(k.stacks, k.stack_sums, y.stack_emission[k.pollutants], k.pollutants)
        k.territory_adjoints, k.station_adjoints = [], []  # used: freed before NO2's
        if not (no2 and ctx.dispersed.index("NOx") in k.pollutants):
            k.disp.release_adjoint_spectra()
        clock("aggregates")


def _no2(ctx: RunContext, y: _Year) -> None:
    """NO2 from NOx (with NOx's kernels): primary NO2 of each sector plus the converted NO,
    attributed by the incremental rule (see trajectoire.dispersion.chemistry)."""
    pols = ctx.output_pollutants
    ino2, inox = pols.index("NO2"), pols.index("NOx")
    bg_nox, bg_no2 = _no2_background(ctx, y)
    curve, shares = _no2_method(ctx, y.year)
    disp, stacks = y.nox["kernels"].disp, y.nox["kernels"].stacks
    primary = primary_no2(disp, y.nox["e"], y.nox["q"], stacks, ctx.sectors, shares)
    total, ratio = no2_with_primary(bg_nox, bg_no2, y.nox["local"], primary, method=curve)
    y.maps.set_no2(ino2, total, ratio, y.nox["by_sector"], shares)
    y.nox["by_sector"] = None  # written: its 0.28 GB (float64, 100 m) freed before the sums
    y.exposure.add(ino2, total)
    both = no2_territory_sums(
        disp,
        ctx.territory_receptors,
        y.exposure_receptors,
        ratio,
        y.nox["e"],
        y.nox["q"],
        stacks,
        y.height_of_sector,
        ctx.origin_layers,
        heights=y.heights,
    )
    rows, cols = ctx.stations["row"], ctx.stations["col"]
    y.sums.set_derived(ino2, both, inox, ratio, rows, cols, shares)
    y.no2_shares = shares


def _no2_method(ctx: RunContext, year: int) -> tuple[str, np.ndarray]:
    """The curve converting NO and each sector's f-NO2 in `year` (all 0 for a plain curve)."""
    cfg = ctx.config.no2
    if cfg.method != "fno2":
        return cfg.method, np.zeros(len(ctx.sectors))
    return cfg.curve, fno2_shares(ctx.sectors, year, cfg.fno2)


def _zone_exposure(ctx: RunContext, y: _Year, fraction: sparse.csr_matrix) -> None:
    """Exposure inside and outside ``[inputs] exposure_zones``, from the year's maps."""
    thresholds = run_thresholds(ctx.config.exposure.all_thresholds(), ctx.numbers)
    y.zones = ZoneExposure.split(y.own, fraction, ctx.output_pollutants, thresholds=thresholds)
    for ip in range(len(ctx.output_pollutants)):
        y.zones.add(ip, y.maps.concentration[0, ip])


def _stack_cells(ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each stack's cell (none without stacks)."""
    points = ctx.points
    rows = np.zeros(0, dtype=int) if points is None else points["row"].values
    cols = np.zeros(0, dtype=int) if points is None else points["col"].values
    return rows, cols


def _finish(ctx: RunContext, y: _Year) -> xr.Dataset:
    """Written emissions (masked, plus stacks) and the year's dataset."""
    rows, cols = _stack_cells(ctx)
    _unscale_numbers(ctx, y)
    y.emission = None  # the year's emission array: freed before the output's planes
    y.emission_constant = None
    written = (  # the others were kept by _disperse
        sector_emissions(ctx.basis, y.weight, ip, ctx.blank) if pol in ctx.numbers else None
        for ip, pol in enumerate(ctx.dispersed)
    )
    y.maps.finish_emission(
        len(ctx.dispersed), rows, cols, y.stacks.sector, y.stack_emission, written
    )
    calm = float(ctx.met["calm_fraction"].sel(year=y.year)) if "calm_fraction" in ctx.met else None
    ds = year_dataset(
        y.year,
        ctx.grid,
        ctx.sectors,
        ctx.output_pollutants,
        ctx.territories,
        ctx.origins,
        ctx.stations["station_id"].astype(str).tolist(),
        y.maps,
        (y.sums.territory, y.sums.exposure, y.sums.station),
        _background_output(ctx, y),
        _inhabitants(ctx, y),
        calm,
        None if ctx.observations is None else ctx.observations.sel(year=y.year).values,
        exposure_statistics=y.exposure,
        population=y.population if ctx.census_years != [0] else None,  # [0]: no census
        zone_exposure=y.zones,
        deposition=y.deposition,
        emission_method=ctx.emission_method,
        territory_emission=_territory_emission(ctx, y, rows, cols),
    )
    if y.no2_shares is not None:
        ds = with_no2_attribution(ds, y.year, ctx.sectors, y.no2_shares)
    # the year's maps are reordered in their memory (views, not a copy of ~3 GB at 100 m)
    return split_number_species(ds, ctx.numbers, in_place=True)


def _territory_emission(
    ctx: RunContext, y: _Year, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Each territory's emission ``(territory, sector, pollutant)`` [t yr-1]: the written
    planes weighted by the territories' shares of the cells, each stack then moved from
    its cell's shares to the territory its point lies in (its origin, as the attribution
    credits it; none for the rest of the grid), NaN for NO2."""
    sums = y.maps.territory_sums(ctx.territory_weights)  # (sector, pollutant, territory)
    nt, nd = len(ctx.territories), len(ctx.dispersed)
    if len(rows):
        origin = np.asarray(y.stacks.origin)
        own = np.zeros((nt, len(rows)))
        mine = np.flatnonzero(origin < nt)
        own[origin[mine], mine] = 1.0
        # only the stacks in the mask are in the written planes
        move = (own - ctx.fractions[:nt, rows, cols]) * ctx.mask[rows, cols]
        q = y.stack_emission.astype(np.float32).astype(np.float64)  # as added to the planes
        np.add.at(sums[:, :nd], np.asarray(y.stacks.sector), np.einsum("pk,tk->kpt", q, move))
    return sums.transpose(2, 0, 1)


def _background_of(ctx: RunContext, y: _Year, pol: str, local: np.ndarray) -> Any:
    """Background of a dispersed pollutant [ug m-3]: the scalar of the year, or the regional
    field less the coarse-cell mean of `local` (all sectors and origins), on the grid."""
    if ctx.regional is None:
        return float(ctx.background.sel(year=y.year, pollutant=pol))
    with_no2 = pol == "NOx" and "NO2" in ctx.output_pollutants
    maps, clipped = ctx.regional.background_and_clipped(y.year, pol, local, with_no2=with_no2)
    y.background.update(maps)
    y.clipped.update(dict.fromkeys(maps, clipped))
    return y.background[pol]


def _no2_background(ctx: RunContext, y: _Year) -> tuple[Any, Any]:
    """Background NOx and NO2 fed to the NO2 conversion: scalars, or maps of a field."""
    if ctx.regional is not None:
        return y.background["NOx"], y.background["NO2"]
    bg = ctx.background.sel(year=y.year)
    return float(bg.sel(pollutant="NOx")), float(bg.sel(pollutant="NO2"))


def _background_output(ctx: RunContext, y: _Year) -> Any:
    """What the year's dataset writes of the background: a value per pollutant, or the maps
    with what the receptors see of them and the clipped shares."""
    pols = ctx.output_pollutants
    if ctx.regional is None:
        return [float(ctx.background.sel(year=y.year, pollutant=p)) for p in pols]
    maps = np.stack([y.background[p] for p in pols])
    seen = receptor_background(
        maps,
        ctx.territory_receptors,
        y.exposure_receptors,
        ctx.stations["row"].to_numpy(int),
        ctx.stations["col"].to_numpy(int),
    )
    return BackgroundMaps(maps, *seen, clipped=[y.clipped[p] for p in pols])


def _inhabitants(ctx: RunContext, y: _Year) -> list[float]:
    """Inhabitants of each territory in the year: the zones' own (cut by the territories),
    else the population grid times the territory fractions."""
    if ctx.inhabitants is not None:  # the same sum as TerritoryPopulation.totals
        return [float(v) for v in np.asarray(y.own.sum(axis=1)).ravel()]
    return territory_totals(y.population, ctx.fractions, len(ctx.territories))


class _Clock:
    """Accumulates the wall time of named stages."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self._last
        self._last = now

    def summary(self) -> str:
        return ", ".join(f"{k} {v:.2f} s" for k, v in self.stages.items())


def static_variables(ctx: RunContext) -> xr.Dataset:
    """Year-independent output variables: territory fractions, buffer mask, stations."""
    return static_dataset(ctx.grid, ctx.territories, ctx.fractions, ctx.mask, ctx.stations)


def global_attributes(ctx: RunContext) -> dict[str, Any]:
    """Global attributes describing the methods of the run."""
    cfg = ctx.config
    methods = {s: cfg.trajectory.method_of(s) for s in ctx.sectors}
    s = ctx.settings
    attrs: dict[str, Any] = {
        "reference_year": cfg.run.reference_year,
        "trajectory_methods": json.dumps(methods),  # docs/outputs.md: JSON, sector order
        "dispersion": f"climatological Gaussian plume kernel, radius {s.radius:g} m, sigma {s.sigma}, receptor height {s.receptor_height:g} m",
        "release_heights": "; ".join(f"{k}: {s.height_of(k):g} m" for k in ctx.sectors),
        **_initial_sigma_z_attribute(ctx),
        **_removal_attributes(ctx),
        "no2_conversion": no2_description(cfg.no2.method, cfg.no2.curve, cfg.no2.fno2),
        # machine-readable, for what reads the output back (trajectoire scenario)
        "no2_method": cfg.no2.method,
        "no2_curve": cfg.no2.curve if isinstance(cfg.no2.curve, str) else str(cfg.no2.curve),
    }
    if ctx.map_years:  # integers, as the runner writes them (read back by the accessor)
        attrs["map_years"] = np.asarray(sorted(ctx.map_years), dtype="int32")
    return attrs


def _initial_sigma_z_attribute(ctx: RunContext) -> dict[str, str]:
    """``initial_sigma_z`` of the sectors that have one (none without: attributes unchanged)."""
    s0 = {k: ctx.settings.initial_sigma_z_of(k) for k in ctx.sectors}
    given = "; ".join(f"{k}: {v:g} m" for k, v in s0.items() if v > 0)
    return {"initial_sigma_z": given} if given else {}


def _removal_attributes(ctx: RunContext) -> dict[str, str]:
    """``first_order_loss`` (the half-lives applied, ``[dispersion] decay``) and
    ``deposited_at_source``, when the run has any (none: attributes unchanged)."""
    out = {}
    k = {p: ctx.settings.decay_rate[p] for p in ctx.dispersed if p in ctx.settings.decay_rate}
    if k:
        out["first_order_loss"] = "; ".join(
            f"{p}: half-life {math.log(2.0) / v / 3600.0:g} h ({v:.4g} s-1)" for p, v in k.items()
        )
    if ctx.at_source:
        out["deposited_at_source"] = " ".join(ctx.at_source)
    return out


# ------------------------------------------------------------------------- change split
def _run_year(ctx: RunContext, year: Any, what: str = "year") -> int:
    """`year` as an int (text and whole floats read: ``"2016"`` was said not in the run
    2016..2018), one of the run's years; InputError naming it otherwise."""
    y = require_year(year, what)
    if y not in ctx.years:
        raise InputError(f"{what} {y} is not in the run ({ctx.years[0]}..{ctx.years[-1]}).")
    check_years(ctx, [y])  # a year the background table lacks
    return y


def decompose_change(ctx: RunContext, year0: int, year1: int) -> xr.Dataset:
    """Split the change of territory means between two years into its causes.

    For every receptor territory (area mean) and pollutant, the change
    ``C(year1) − C(year0)`` is split exactly into the effect of **emissions**, of
    **meteorology** and of the **background** with Shapley values
    (:func:`trajectoire.attribution.decompose_change`). For the linear pollutants the
    emission and meteorology effects are also given per sector (they add up over sectors);
    NO2 is split on its total only (its conversion is not linear).

    Parameters
    ----------
    ctx : RunContext
        From :func:`prepare`.
    year0, year1 : int
        Initial and final years of the run.

    Returns
    -------
    xarray.Dataset
        ``change_emission(receptor, sector, pollutant)``,
        ``change_meteorology(receptor, sector, pollutant)``,
        ``change_background(receptor, pollutant)``, ``change_total(receptor, pollutant)``
        [ug m-3]; the three effects add up to ``change_total`` to round-off. For NO2 the
        sector entries are missing and the effects are in ``sector="all"``.

    Notes
    -----
    With a regional model field as background (``[inputs.background] format = "field"``)
    the background of each year is the field less that year's own local part, the map the
    run adds (:func:`trajectoire.attribution.background_of_year`): the background effect is
    the change of the regional part, and the split still adds up to the run's change.
    """
    ys = (_run_year(ctx, year0, "decompose_change: year0"),
          _run_year(ctx, year1, "decompose_change: year1"))  # fmt: skip
    heights, h_of_s = ctx.heights()
    n_t, n_s, n_p = len(ctx.territories), len(ctx.sectors), len(ctx.output_pollutants)
    effects = {k: np.full((n_t, n_s + 1, n_p), np.nan) for k in ("emission", "meteorology")}
    effects["background"] = np.zeros((n_t, n_p))
    effects["total"] = np.zeros((n_t, n_p))
    # one kernel set per (decay, deposition velocity), built when its pollutants come
    for key, members in ctx.kernel_groups.items():  # none for TRWP_coarse
        disp, stacks = _change_kernels(ctx, ys, key, members)
        for ip in members:
            out = _linear_change(ctx, ctx.dispersed[ip], ys, disp, stacks, heights, h_of_s)
            _store_linear_effects(effects, ip, out, n_s)
        if "NO2" in ctx.output_pollutants and ctx.dispersed.index("NOx") in members:
            out = _no2_change(ctx, ys, disp, stacks)
            ino2 = ctx.output_pollutants.index("NO2")
            for k in ("emission", "meteorology"):
                effects[k][:, n_s, ino2] = out[k]
            effects["background"][:, ino2] = out["background"]
            effects["total"][:, ino2] = out["total"]
    _not_dispersed(ctx, effects)
    return _change_dataset(ctx, effects, *ys)


def _not_dispersed(ctx: RunContext, effects: dict[str, np.ndarray]) -> None:
    """The species deposited at source are never in the air: their concentration is 0 in
    every year, so is each part of its change (what ``territory_concentration`` says)."""
    for pol in ctx.at_source:
        for part in effects.values():
            part[..., ctx.dispersed.index(pol)] = 0.0


def _change_kernels(
    ctx: RunContext, ys: tuple[int, int], key: KernelSetKey, members: list[int]
) -> tuple[dict[int, YearDispersion], dict[int, Stacks]]:
    """The kernels and stack footprints of both years for one kernel set, for the classes
    and stacks its pollutants `members` need."""
    disp = {m: ctx.kernel_set(m, key, members) for m in ys}
    stacks = {m: ctx.stack_set(m, key, members) for m in ys}
    return disp, stacks


def _store_linear_effects(
    effects: dict[str, np.ndarray], ip: int, out: dict[str, np.ndarray], n_s: int
) -> None:
    """Put the Shapley effects of linear pollutant `ip` (per sector, and their sum in the
    ``"all"`` entry) into `effects`."""
    for k in ("emission", "meteorology"):
        effects[k][:, :n_s, ip] = out[k][:, :n_s]
        effects[k][:, n_s, ip] = out[k][:, :n_s].sum(axis=1)
    effects["background"][:, ip] = out["background"][:, n_s]
    effects["total"][:, ip] = out["total"].sum(axis=1)


def _linear_change(
    ctx: RunContext,
    pol: str,
    ys: tuple[int, int],
    disp: dict[int, YearDispersion],
    stacks: dict[int, Stacks],
    heights: list[KernelClass],
    h_of_s: np.ndarray,
) -> dict[str, np.ndarray]:
    """Shapley effects on the territory means of a linear pollutant, per sector."""
    area = ctx.territory_receptors
    adj = {m: [disp[m].adjoints(r.weights, heights) for r in area] for m in ys}
    fpdot = {m: footprint_sums(area, stacks[m].footprints) for m in ys}
    scale = run_scale(pol)  # 1e-18 for particle numbers: their change in cm-3
    emis = {e: emission_of(ctx, e, pol, scale) for e in ys}
    q = {e: stack_emission(ctx.point_emission, e, pol) * scale for e in ys}
    parts = {
        (e, m): _territory_sector_sums(
            ctx, adj[m], emis[e], h_of_s, q[e], stacks[m].sector, fpdot[m]
        )
        for e in ys
        for m in ys
    }
    # the background of year b: a scalar, or a field less its own local part (e = m = b)
    bgv = {
        b: territory_background(
            ctx.background,
            ctx.regional,
            b,
            pol,
            area,
            partial(local_concentration, disp[b], emis[b], q[b], stacks[b], ctx.sectors),
        )
        for b in ys
    }

    def value(ie: int, im: int, ib: int) -> np.ndarray:
        v = parts[(ys[ie], ys[im])]
        return np.concatenate([v, bgv[ys[ib]][:, None]], axis=1)

    return shapley_change(value)


def _territory_sector_sums(
    ctx: RunContext,
    adjoints: list[np.ndarray],
    emission: np.ndarray,
    h_of_s: np.ndarray,
    q: np.ndarray,
    stack_sector: list[int],
    fpdot: np.ndarray,
) -> np.ndarray:
    """Territory means by sector ``(territory, sector)`` of one emission and meteorology."""
    sums = ReceptorSums.zeros(len(adjoints), 0, len(ctx.sectors), len(ctx.origins), 1)
    for ir, rec in enumerate(ctx.territory_receptors):
        sums.territory[ir, :, :, 0] = window_sums(
            adjoints[ir], emission, h_of_s, ctx.origin_layers, rec.rows, rec.cols
        )
    v = sums.territory[..., 0].sum(axis=2)
    for k in range(len(q)):
        if q[k] > 0:
            v[:, stack_sector[k]] += q[k] * fpdot[:, k]
    return v


def _no2_change(
    ctx: RunContext,
    ys: tuple[int, int],
    disp: dict[int, YearDispersion],
    stacks: dict[int, Stacks],
) -> dict[str, np.ndarray]:
    """Shapley effects on the territory means of NO2 (on its total: not linear). The f-NO2
    of the emission year goes with the emissions (it is the fleet's)."""
    local = {}
    for e in ys:
        nox_e = emission_of(ctx, e, "NOx")
        q_e = stack_emission(ctx.point_emission, e, "NOx")
        shares = _no2_method(ctx, e)[1]
        for m in ys:
            args = (disp[m], nox_e, q_e, stacks[m], ctx.sectors)
            local[(e, m)] = (local_concentration(*args), primary_no2(*args, shares))
    curve = _no2_method(ctx, ys[0])[0]
    bgs = {
        b: background_of_year(
            ctx.background,
            ctx.regional,
            b,
            "NOx",
            partial(_first, local[(b, b)]),
            with_no2=True,
        )
        for b in ys
    }

    def no2_value(ie: int, im: int, ib: int) -> np.ndarray:
        bg: dict[str, Any] = bgs[ys[ib]]  # scalars, or maps of a field
        total, _ = no2_with_primary(bg["NOx"], bg["NO2"], *local[(ys[ie], ys[im])], method=curve)
        return receptor_means(ctx.territory_receptors, total)

    return shapley_change(no2_value)


def _first(pair: tuple[np.ndarray, Any]) -> np.ndarray:
    """The first of a pair (NOx's local part of :func:`_no2_change`)."""
    return pair[0]


def _change_dataset(
    ctx: RunContext, effects: dict[str, np.ndarray], year0: int, year1: int
) -> xr.Dataset:
    """The change split as a dataset (see :func:`decompose_change`)."""
    by_sector = ("receptor", "sector", "pollutant")
    coords = {
        "receptor": ctx.territories,
        "sector": [*ctx.sectors, "all"],
        "pollutant": ctx.output_pollutants,
    }
    coords_t = {"receptor": ctx.territories, "pollutant": ctx.output_pollutants}
    attrs = {"units": "ug m-3", "period": f"{year0}-{year1}"}
    what = "change of the territory mean due to {} (Shapley)"
    variables = {
        "change_emission": (by_sector, coords, what.format("emissions")),
        "change_meteorology": (by_sector, coords, what.format("meteorology")),
        "change_background": (("receptor", "pollutant"), coords_t, what.format("the background")),
        "change_total": (
            ("receptor", "pollutant"),
            coords_t,
            "change of the territory mean concentration",
        ),
    }
    ds = xr.Dataset(
        {
            name: xr.DataArray(
                effects[name.removeprefix("change_")],
                dims=dims,
                coords=c,
                attrs={**attrs, "long_name": long_name},
            )
            for name, (dims, c, long_name) in variables.items()
        }
    )
    ds.attrs["method"] = (
        "Shapley decomposition over (emissions, meteorology, background); see docs/attribution.md"
    )
    return split_number_species(ds, ctx.numbers)
