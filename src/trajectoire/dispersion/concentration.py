"""Annual mean concentrations from emission grids and each year's meteorology.

For every year, the climatological (frequency-weighted) dispersion kernel of each release
height is built from that year's joint frequency table (:func:`trajectoire.dispersion.annual_kernel`)
and applied to the gridded emissions by FFT convolution (zero padding, no wrap-around);
point stacks are added by direct summation over the meteorological classes
(:func:`trajectoire.dispersion.point_sources_annual`); the regional background is added last.

Because the model is linear in the emissions, the contribution of each sector is the
convolution of that sector's emissions alone, and the contributions add up to the local
concentration to round-off; the total is computed as that sum, so additivity holds exactly
by construction (``docs/attribution.md``).

Linearity is also what keeps the chain fast: emissions are grouped by kernel class (release
height and initial vertical spread) before the forward FFT (one transform per class, not per
sector), and receptor aggregates
(territory means, station points) use the adjoint field of each receptor instead of one
dispersion run per source group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Unpack

import numpy as np
import scipy.fft
import xarray as xr

from trajectoire._kernels.deposition import NO_DEPOSITION
from trajectoire._kernels.planes import planes_sum
from trajectoire._kernels.plume_longterm import SECTOR_GAUSS
from trajectoire._kernels.stacks import (
    N_CLASSES,
    footprint_from_profiles,
    footprints_aligned,
    radial_profiles,
    radial_profiles_by_class,
)
from trajectoire._validate import did_you_mean, first_true, require_dims
from trajectoire.cf import add_history, set_cf_attrs
from trajectoire.dispersion.cell_means import band_means
from trajectoire.dispersion.convolution import ConvolutionPlan, fft_threads
from trajectoire.dispersion.longterm import (
    _T_PER_YR_TO_UG,
    _depletion,
    annual_kernels,
    kernel_half_width,
)
from trajectoire.dispersion.plume import SIGMA_SCHEMES
from trajectoire.dispersion.points import (
    STACK_DEFAULTS,
    AnnualStacks,
    AnnualStackSettings,
    StackArrays,
    _footprint_centres,
    _stack_groups,
)
from trajectoire.dispersion.stack_terms import profiles_with_terms
from trajectoire.errors import InputError
from trajectoire.geo.grid import Grid, north_up
from trajectoire.meteo.classes import select_years
from trajectoire.species import current_species, deposition_velocity_of
from trajectoire.tables import with_options
from trajectoire.units import SECONDS_PER_YEAR, conversion_factor

__all__ = [
    "DEFAULT_RELEASE_HEIGHT",
    "DispersionSection",
    "DispersionSettings",
    "KernelClass",
    "YearDispersion",
    "annual_concentration",
    "deposited_mass",
    "deposition_flux",
    "dry_deposition",
    "source_deposition_flux",
    "stack_footprints",
    "year_dispersions",
]

_T_PER_UG = 1e-12

KernelClass = tuple[float, float]
"""A kernel class: ``(release height [m], initial sigma_z [m])``. Sectors of one class share
one kernel (and one forward transform)."""


def _class_key(key: float | tuple[float, float]) -> KernelClass:
    """A kernel class from a class or a bare release height (initial sigma_z 0)."""
    if isinstance(key, tuple):
        return float(key[0]), float(key[1])
    return float(key), 0.0


DEFAULT_RELEASE_HEIGHT: dict[str, float] = {
    "A_PublicPower": 20.0,
    "B_Industry": 15.0,
    "C_OtherStationaryComb": 8.0,
    "D_Fugitive": 10.0,
    "E_Solvents": 3.0,
    "F_RoadTransport": 1.0,
    "G_Shipping": 20.0,
    "H_Aviation": 5.0,
    "I_OffRoad": 2.0,
    "J_Waste": 10.0,
    "K_AgriLivestock": 1.0,
    "L_AgriOther": 1.0,
    "M_Other": 3.0,
}
"""Release heights [m] of the area sources of each GNFR sector when a run's configuration
does not give one (typical effective heights: road traffic and soils near the ground,
domestic chimneys, low industrial and port sources). Applied by
:meth:`DispersionSettings.from_config`."""


class DispersionSection(Protocol):
    """What :meth:`DispersionSettings.from_config` reads: a ``[dispersion]`` section.

    :class:`trajectoire.config.DispersionConfig` is one.

    Attributes
    ----------
    radius : float
        Kernel cut-off radius [m].
    sigma : str
        Dispersion-coefficient scheme (a key of :data:`trajectoire.dispersion.SIGMA_SCHEMES`).
    receptor_height : float
        Height of the receptors [m].
    release_height : mapping of str to float
        Release height [m] per GNFR sector, overriding :data:`DEFAULT_RELEASE_HEIGHT`.
    """

    @property
    def radius(self) -> float: ...

    @property
    def sigma(self) -> str: ...

    @property
    def receptor_height(self) -> float: ...

    @property
    def release_height(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class DispersionSettings:
    """Year-independent settings of the dispersion of gridded emissions.

    Attributes
    ----------
    radius : float
        Kernel cut-off radius [m]; contributions of sources farther than this are left to
        the regional background.
    sigma : str
        Dispersion-coefficient scheme (``"briggs-urban"``, ``"briggs-rural"``, ``"pgt"``).
    receptor_height : float
        Height of the receptors [m].
    release_height : mapping of str to float
        Effective release height per sector [m]; sectors not listed use `default_height`.
    default_height : float
        Release height of unlisted sectors [m].
    initial_sigma_z : mapping of str to float
        Initial vertical spread of each sector's area sources [m], added in quadrature to
        sigma_z (vehicle-induced turbulence of road traffic, about 1.5 m, RLINE /
        Snyder et al. 2013); sectors not listed have 0.
    decay_rate : mapping of str to float
        First-order loss rate per pollutant [s-1] (0 for the regulated pollutants).
    deposition_velocity : mapping of str to float
        Dry deposition velocity per pollutant [m s-1]; pollutants not listed do not deposit.
        :meth:`from_config` fills it from the species registry in use when the
        configuration turns dry deposition on.
    precision : {"double", "single"}
        Precision of the grid-wide FFTs. ``"single"`` halves their memory and time; its
        round-off is about 1e-7 of the largest concentration. Receptor aggregates always use
        double precision.
    sector_shape : {"gauss", "hat", "flat"}
        Angular shape of the wind-direction sectors of the annual kernels and the stack
        footprints (``sector_smoothing`` of :func:`trajectoire.dispersion.annual_kernel`):
        Gaussian-smoothed (default), the former hat smoothing, or flat sectors.
    """

    radius: float = 20_000.0
    sigma: str = "briggs-urban"
    receptor_height: float = 1.5
    release_height: Mapping[str, float] = field(default_factory=dict)
    default_height: float = 1.0
    initial_sigma_z: Mapping[str, float] = field(default_factory=dict)
    decay_rate: Mapping[str, float] = field(default_factory=dict)
    deposition_velocity: Mapping[str, float] = field(default_factory=dict)
    precision: str = "double"
    sector_shape: str = "gauss"

    def __post_init__(self) -> None:
        for sector, s0 in self.initial_sigma_z.items():
            if not (np.isfinite(s0) and s0 >= 0):
                raise InputError(
                    f"initial_sigma_z of {sector!r} is {s0!r} m; expected a finite value >= 0."
                )
        if not _finite_number(self.radius) or self.radius <= 0:
            raise InputError(
                f"DispersionSettings: radius={self.radius!r}; expected a finite cut-off > 0 [m] "
                "(20000.0 by default)."
            )
        if not isinstance(self.sigma, str) or self.sigma not in SIGMA_SCHEMES:
            raise InputError(
                f"DispersionSettings: sigma={self.sigma!r}"
                f"{did_you_mean(str(self.sigma).lower(), SIGMA_SCHEMES)}; expected one of "
                f"{list(SIGMA_SCHEMES)}."
            )
        if self.precision not in ("double", "single"):
            raise InputError(
                f"DispersionSettings: precision={self.precision!r}; expected 'double' or 'single'."
            )
        for name, unit in (("decay_rate", "s-1"), ("deposition_velocity", "m s-1")):
            object.__setattr__(self, name, _per_pollutant(getattr(self, name), name, unit))

    @classmethod
    def from_config(
        cls,
        config: DispersionSection,
        *,
        precision: str = "single",
        pollutants: Sequence[str] | None = None,
    ) -> DispersionSettings:
        """Settings of a run's ``[dispersion]`` section, as the batch run uses them.

        Parameters
        ----------
        config : DispersionSection
            The section (:class:`trajectoire.config.DispersionConfig`, or any object with
            ``radius`` [m], ``sigma``, ``receptor_height`` [m] and ``release_height``
            [m per sector]).
        precision : {"single", "double"}, default "single"
            Precision of the grid-wide FFTs (the run's is single).
        pollutants : sequence of str, optional
            The pollutants the run disperses. When given and dry deposition is on, each
            needs a deposition velocity (the registry's, or the section's
            ``deposition_velocity``): one without is an error naming it (issue 15).

        Raises
        ------
        trajectoire.InputError
            Dry deposition on and a pollutant of `pollutants` without a velocity.

        Returns
        -------
        DispersionSettings
            The section's radius, scheme and receptor height; release heights
            :data:`DEFAULT_RELEASE_HEIGHT` updated with the section's own; the section's
            ``initial_sigma_z`` per sector when it has one (0 elsewhere).

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> cfg = SimpleNamespace(radius=10000.0, sigma="briggs-urban", receptor_height=1.5,
        ...                       release_height={"F_RoadTransport": 0.5})
        >>> s = DispersionSettings.from_config(cfg)
        >>> s.height_of("F_RoadTransport"), s.height_of("A_PublicPower"), s.precision
        (0.5, 20.0, 'single')
        """
        heights = dict(DEFAULT_RELEASE_HEIGHT)
        heights.update(config.release_height)
        return cls(
            radius=config.radius,
            sigma=config.sigma,
            receptor_height=config.receptor_height,
            release_height=heights,
            initial_sigma_z=dict(getattr(config, "initial_sigma_z", {}) or {}),
            decay_rate=_decay_rates(config, pollutants),
            deposition_velocity=_deposition_velocities(config, pollutants),
            precision=precision,
            sector_shape=getattr(config, "sector_shape", "gauss"),
        )

    def removal(self, pollutant: str) -> tuple[float, float]:
        """``(decay_rate [s-1], deposition_velocity [m s-1])`` of a pollutant (0 if unlisted).

        Pollutants with the same pair share one set of kernels.
        """
        return (
            float(self.decay_rate.get(pollutant, 0.0)),
            float(self.deposition_velocity.get(pollutant, 0.0)),
        )

    def removal_groups(self, pollutants: Sequence[str]) -> dict[tuple[float, float], list[int]]:
        """Pollutants grouped by :meth:`removal` pair, for one set of kernels per group.

        Parameters
        ----------
        pollutants : sequence of str
            Pollutant ids.

        Returns
        -------
        dict
            ``(decay_rate, deposition_velocity)`` -> indices of the pollutants in
            `pollutants` with that pair, in the order of their first appearance. Without
            decay or deposition, one group ``(0.0, 0.0)`` holds every pollutant.

        Examples
        --------
        >>> s = DispersionSettings(deposition_velocity={"NH3": 0.01, "SO2": 0.008})
        >>> s.removal_groups(["NOx", "NH3", "NMVOC", "SO2"])
        {(0.0, 0.0): [0, 2], (0.0, 0.01): [1], (0.0, 0.008): [3]}
        """
        groups: dict[tuple[float, float], list[int]] = {}
        for i, pol in enumerate(pollutants):
            groups.setdefault(self.removal(pol), []).append(i)
        return groups

    def height_of(self, sector: str) -> float:
        """Release height [m] of a sector."""
        return float(self.release_height.get(sector, self.default_height))

    def heights(self, sectors: Sequence[str]) -> list[float]:
        """Sorted distinct release heights of `sectors` [m]."""
        return sorted({self.height_of(s) for s in sectors})

    def initial_sigma_z_of(self, sector: str) -> float:
        """Initial vertical spread [m] of a sector's area sources (0 if unlisted)."""
        return float(self.initial_sigma_z.get(sector, 0.0))

    def class_of(self, sector: str) -> KernelClass:
        """Kernel class ``(release height, initial sigma_z)`` [m] of a sector."""
        return self.height_of(sector), self.initial_sigma_z_of(sector)

    def classes(self, sectors: Sequence[str]) -> list[KernelClass]:
        """Sorted distinct kernel classes ``(release height, initial sigma_z)`` of `sectors`.

        Examples
        --------
        >>> s = DispersionSettings(release_height={"F_RoadTransport": 1.0, "I_OffRoad": 1.0},
        ...                        initial_sigma_z={"F_RoadTransport": 1.5})
        >>> s.classes(["F_RoadTransport", "I_OffRoad", "K_AgriLivestock"])
        [(1.0, 0.0), (1.0, 1.5)]
        """
        return sorted({self.class_of(s) for s in sectors})


def _finite_number(value: Any) -> bool:
    """Whether `value` is a real finite number (not a string, not NaN)."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def _per_pollutant(table: Any, name: str, unit: str) -> Mapping[str, float]:
    """`table` (pollutant -> rate) with canonical pollutant ids, each value finite and >= 0.

    A table whose keys are already canonical is returned as is (the values untouched).
    """
    if not isinstance(table, Mapping):
        raise InputError(
            f"DispersionSettings: {name}={table!r}; expected a mapping pollutant -> value "
            f"[{unit}], e.g. {{'NH3': 0.01}}."
        )
    registry = current_species()
    out: dict[str, float] = {}
    for key, value in table.items():
        if not _finite_number(value) or value < 0:
            raise InputError(
                f"DispersionSettings: {name} of {key!r} is {value!r}; expected a finite "
                f"number >= 0 [{unit}]."
            )
        try:
            pid = registry.normalise(str(key))
        except InputError:
            raise InputError(
                f"DispersionSettings: {name} key {key!r} is not a pollutant"
                f"{did_you_mean(str(key), list(registry))}; expected one of {list(registry)} "
                "(case-insensitive aliases such as 'nox' are accepted)."
            ) from None
        if pid in out:
            raise InputError(
                f"DispersionSettings: {name} gives {pid!r} twice (key {key!r} is another "
                "spelling of it); keep one."
            )
        out[pid] = value
    return table if list(out) == list(table) else out


def _deposition_velocities(
    config: DispersionSection, pollutants: Sequence[str] | None = None
) -> dict[str, float]:
    """Deposition velocities [m s-1] of a ``[dispersion]`` section: none unless
    ``dry_deposition`` is on, then the registry's (:func:`trajectoire.species.current_species`)
    updated with the section's ``deposition_velocity`` table; every one of `pollutants`
    (when given) must have one."""
    asked = getattr(config, "dry_deposition", False)
    if not asked:
        return {}
    registry = current_species()
    given = dict(getattr(config, "deposition_velocity", {}) or {})
    if isinstance(asked, bool):
        out = {p.id: p.deposition_velocity for p in registry.values() if p.deposition_velocity}
        out.update(given)
        what = "[dispersion] dry_deposition = true"
    else:  # a list of ids: only these deposit
        known = {p: registry.species(p).deposition_velocity for p in asked}
        out = {p: v for p, v in known.items() if v is not None}
        out.update({p: given[p] for p in asked if p in given})
        what = f"[dispersion] dry_deposition = {list(asked)}"
    for pol in pollutants or ():
        sp = registry.species(pol)
        if sp.conversion is not None or sp.deposited_at_source:
            continue  # derived from its precursor (NO2), or never dispersed (TRWP_coarse)
        if isinstance(asked, bool) or pol in asked:
            out[pol] = deposition_velocity_of(pol, given, what=what)
    at_source = {p.id for p in registry.values() if p.deposited_at_source}
    return {k: float(v) for k, v in out.items() if v > 0 and k not in at_source}


def _decay_rates(
    config: DispersionSection, pollutants: Sequence[str] | None = None
) -> dict[str, float]:
    """First-order loss rates ``ln 2 / half_life`` [s-1] of the registry's species that
    ``[dispersion] decay`` applies (a section without ``decay``: none; see
    :meth:`trajectoire.config.DispersionConfig.decays`), restricted to `pollutants` when
    given."""
    decays = getattr(config, "decays", None)
    if decays is None:
        return {}
    registry = current_species()
    ids = list(registry) if pollutants is None else [registry.normalise(p) for p in pollutants]
    return {
        p: registry[p].decay_rate
        for p in ids
        if registry[p].half_life is not None and not registry[p].deposited_at_source and decays(p)
    }


class _ClassKernels(dict[KernelClass, np.ndarray]):
    """Kernels keyed by class; a bare release height looks up its class with sigma_z0 0."""

    def __getitem__(self, key: Any) -> np.ndarray:
        return super().__getitem__(_class_key(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, float | int | tuple) and super().__contains__(_class_key(key))


class YearDispersion:
    """Kernels and FFT spectra of one meteorological year on one grid.

    Build it once per year; apply it to every pollutant and source group of that year.

    Parameters
    ----------
    grid : Grid
        The run's grid (square cells).
    met_year : xarray.Dataset
        Joint frequency table of one year (``frequency(direction, speed, stability)`` ...,
        see :func:`trajectoire.meteo.met_classes`).
    settings : DispersionSettings
        Radius, sigma scheme, heights.
    heights : sequence of float or KernelClass
        Kernel classes needed: ``(release height, initial sigma_z)`` [m]
        (:meth:`DispersionSettings.classes`), or bare release heights (initial sigma_z 0).
        :attr:`kernels` is keyed by class.
    decay_rate : float, default 0
        First-order loss rate [s-1] of the pollutant(s) this instance serves.
    deposition_velocity : float, default 0
        Dry deposition velocity [m s-1] of the pollutant(s) this instance serves (source
        depletion in the kernels, see :func:`trajectoire.dispersion.annual_kernel`).
    kernels : mapping of KernelClass to numpy.ndarray, optional
        Kernels [ug m-3 per t yr-1] of some of the classes, already built with these
        arguments (:func:`year_dispersions` builds those of several instances together);
        the other classes are built here.
    """

    def __init__(
        self,
        grid: Grid,
        met_year: xr.Dataset,
        settings: DispersionSettings,
        heights: Sequence[float | KernelClass],
        *,
        decay_rate: float = 0.0,
        deposition_velocity: float = 0.0,
        kernels: Mapping[KernelClass, np.ndarray] | None = None,
    ) -> None:
        self.grid = grid
        self.settings = settings
        self.deposition_velocity = float(deposition_velocity)
        self.kernels: dict[KernelClass, np.ndarray] = _ClassKernels()
        given = {} if kernels is None else {_class_key(c): k for c, k in kernels.items()}
        wanted = list(dict.fromkeys(_class_key(h) for h in heights))
        missing = [c for c in wanted if c not in given]
        requests = [(met_year, c, decay_rate, deposition_velocity) for c in missing]
        given.update(zip(missing, _class_kernels(grid, settings, requests), strict=True))
        for c in wanted:
            self.kernels[c] = np.asarray(given[c], dtype=np.float64)
        # the kernel has 2 m + 1 cells a side, m = ceil(radius / resolution) (annual_kernel);
        # an instance may hold no class at all (its pollutants come from stacks only)
        m = kernel_half_width(settings.radius, grid.resolution)
        shape = (2 * m + 1, 2 * m + 1)
        if any(k.shape != shape for k in self.kernels.values()):
            raise InputError(f"YearDispersion: kernels of shape other than {shape}.")
        self.half = m
        if settings.precision not in ("double", "single"):
            raise InputError(f"precision={settings.precision!r}; expected 'double' or 'single'.")
        dtype = np.float32 if settings.precision == "single" else np.float64
        self.plan = ConvolutionPlan(grid.shape, shape, dtype=dtype)
        self._kspec = {h: self.plan.kernel_spectrum(k) for h, k in self.kernels.items()}
        self._adj_cache: dict[tuple[KernelClass, tuple[int, int]], np.ndarray] = {}

    def spectrum(self, emission: np.ndarray) -> np.ndarray:
        """Forward transform of an emission field ``(..., ny, nx)`` [t yr-1]."""
        return self.plan.forward(emission)

    def apply(self, spectra: Mapping[Any, np.ndarray]) -> np.ndarray:
        """Concentration [ug m-3] of emissions given as spectra per kernel class (or per
        bare release height, initial sigma_z 0)."""
        total = term = None
        for h, spec in spectra.items():
            kspec = self._kspec[_class_key(h)]
            if total is None:
                total = spec * kspec
                continue
            # the same products and sums as `total = total + spec * kspec`, bit for bit,
            # in one scratch array instead of two new ones per class (numpy's complex
            # product is machine-dependent, e.g. fused on AVX-512: it stays numpy's)
            shape = np.broadcast_shapes(total.shape, spec.shape, kspec.shape)
            kind = np.result_type(total, spec, kspec)
            if shape != total.shape or kind != total.dtype:  # a wider term: numpy's own
                total = total + spec * kspec
                continue
            term = np.empty_like(total) if term is None else term
            np.multiply(spec, kspec, out=term)
            np.add(total, term, out=total)
        if total is None:
            raise InputError("YearDispersion.apply: no emission given.")
        return self.plan.inverse(total)

    def convolve(self, emission: np.ndarray, height: float | KernelClass) -> np.ndarray:
        """Concentration [ug m-3] of one emission field ``(..., ny, nx)`` released at `height`
        (a kernel class, or a bare height with initial sigma_z 0)."""
        return self.apply({_class_key(height): self.spectrum(emission)})

    def by_sector(
        self, emission: np.ndarray, sectors: Sequence[str], *, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Concentration of each sector's emissions: one convolution per sector.

        Parameters
        ----------
        emission : numpy.ndarray ``(sector, ny, nx)``
            Emission of each sector [t yr-1 per cell].
        sectors : sequence of str
            The sectors of the planes; each is dispersed with the kernel of
            ``settings.class_of(sector)`` (release height and initial sigma_z).
        out : numpy.ndarray ``(sector, ny, nx)``, optional
            Array to fill (a new float64 array by default).

        Returns
        -------
        numpy.ndarray ``(sector, ny, nx)``
            Contribution of each sector [ug m-3]; 0 (no transform) where a sector emits
            nothing. Their sum is :meth:`total` to round-off.
        """
        if out is None:
            out = np.empty((len(sectors), *self.grid.shape))
        for i, sector in enumerate(sectors):
            if emission[i].any():
                out[i] = self.convolve(emission[i], self.settings.class_of(sector))
            else:
                out[i] = 0.0
        return out

    def total(
        self, emission: np.ndarray, sectors: Sequence[str], weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Concentration of all sectors together, grouped by kernel class.

        Parameters
        ----------
        emission, sectors
            As for :meth:`by_sector`: ``(sector, ny, nx)`` emissions [t yr-1 per cell] and
            the sectors of the planes.
        weights : numpy.ndarray ``(sector,)``, optional
            A factor [-] of each sector's emission, e.g. its primary NO2 share: the
            concentration of ``emission * weights[:, None, None]`` (the product in the
            emission's dtype, bit for bit), without forming that array.

        Returns
        -------
        numpy.ndarray ``(ny, nx)``, float64
            Concentration [ug m-3]. The sectors of one kernel class (release height, initial
            sigma_z) are added (float64) before one forward transform per class, and the
            spectra are summed before one inverse: linearity makes this the sum of
            :meth:`by_sector` to round-off, at the cost of one transform per class instead
            of one per sector.
        """
        spectra = {}
        emission = np.asarray(emission)
        if weights is not None:
            weights = np.asarray(weights)
        if emission.ndim != 3 or emission.shape[1:] != self.plan.shape:
            raise InputError(
                f"YearDispersion.total: emission of shape {emission.shape}; expected "
                f"(sector, {self.plan.shape[0]}, {self.plan.shape[1]})."
            )
        for h in self.settings.classes(sectors):
            sel = [i for i, sec in enumerate(sectors) if self.settings.class_of(sec) == h]
            # +0 + the planes in float64 in the order of `sel`, cell by cell, in one pass
            # (planes_sum): the same bits as adding each plane to a float64 field of zeros
            # in turn, and as np.add.reduce over the stacked planes (which starts from +0
            # too); written straight into the plan's padded array, in its precision (the
            # float64 field converted as forward() converts it), and transformed there
            kept = self.plan.kept_field()
            if planes_sum(emission, np.array(sel, dtype=np.int64), weights, kept):
                spectra[h] = self.plan.forward_kept()
        if not spectra:
            return np.zeros(self.grid.shape)
        return np.asarray(self.apply(spectra), dtype=np.float64)

    def adjoint(self, weights: np.ndarray, height: float | KernelClass) -> np.ndarray:
        """Adjoint field ``A = K ⋆ w`` of receptor weights on a window.

        ``Σ_r w(r) C(r) = Σ_c A(c) E(c)`` for any emission ``E`` released at `height`, provided
        the window extends `radius` beyond the cells where ``w`` is non-zero.
        """
        return self.adjoints(weights, [height])[..., 0, :, :]

    def adjoints(self, weights: np.ndarray, heights: Sequence[float | KernelClass]) -> np.ndarray:
        """Adjoint fields of one or several weight windows for several release heights.

        Parameters
        ----------
        weights : numpy.ndarray ``(..., wy, wx)``
            Receptor weights on a window (leading dims: several weightings of one window).
        heights : sequence of float or KernelClass
            Kernel classes (keys of :attr:`kernels`; a bare height is the class with
            initial sigma_z 0). A class this instance was built without has a zero adjoint:
            the run builds a kernel set only with the classes whose sectors emit its
            pollutants, so nothing is released there.

        Returns
        -------
        numpy.ndarray ``(..., n_height, wy, wx)``
            ``A[..., h] = K_h ⋆ w`` by FFT; the spectra of the flipped kernels are cached per
            transform shape, so the cost is one forward transform per weighting and one
            inverse per (weighting, height).

        Notes
        -----
        The transforms cover only the rows and columns where `w` is non-zero (the receptor
        itself, not the kernel-wide margins of its window) plus ``2 m`` (``m`` the kernel
        half-width): the linear correlation of that support with the ``2 m + 1`` kernel fits
        in it, so the circular one of the FFT equals it (nothing wraps around), as with the
        ``wy + 2 m`` padding of the whole window, and ``A`` is exactly 0 beyond ``m`` cells of
        the support. At 100 m (``m`` = 200 cells) this halves to thirds the transformed area
        of a territory's window. Round-off differs from the whole-window transform in the
        last bits (relative 1e-16 of the largest value).
        """
        w = np.asarray(weights, dtype=np.float64)
        wy, wx = w.shape[-2:]
        m = self.half
        n_h = len(heights)
        nonzero = np.any(w.reshape(-1, wy, wx) != 0, axis=0)
        rows, cols = np.flatnonzero(nonzero.any(axis=1)), np.flatnonzero(nonzero.any(axis=0))
        if rows.size == 0:
            return np.zeros((*w.shape[:-2], n_h, wy, wx))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        shape = (
            scipy.fft.next_fast_len(r1 - r0 + 2 * m, real=True),
            scipy.fft.next_fast_len(c1 - c0 + 2 * m, real=True),
        )
        ws = scipy.fft.rfftn(w[..., r0:r1, c0:c1], s=shape, axes=(-2, -1), workers=fft_threads())
        built = [i for i, h in enumerate(heights) if _class_key(h) in self.kernels]
        if not built:
            return np.zeros((*w.shape[:-2], n_h, wy, wx))
        specs = np.stack([self._flipped_spectrum(_class_key(heights[i]), shape) for i in built])
        full = scipy.fft.irfftn(
            ws[..., None, :, :] * specs, s=shape, axes=(-2, -1), workers=fft_threads()
        )
        # window cell i is cell i + m - r0 of the support's correlation, where it reaches
        i0, i1 = max(0, r0 - m), min(wy, r1 + m)
        k0, k1 = max(0, c0 - m), min(wx, c1 + m)
        part = full[..., i0 + m - r0 : i1 + m - r0, k0 + m - c0 : k1 + m - c0]
        if len(built) < n_h:
            out = np.zeros((*w.shape[:-2], n_h, wy, wx))
            out[..., built, i0:i1, k0:k1] = part
            return out
        # the adjoint reaches most of the window (its support plus m cells, within it): the
        # cells beyond are set to +0 alone instead of the whole window first
        out = np.empty((*w.shape[:-2], n_h, wy, wx))
        out[..., :i0, :] = 0.0
        out[..., i1:, :] = 0.0
        out[..., i0:i1, :k0] = 0.0
        out[..., i0:i1, k1:] = 0.0
        out[..., i0:i1, k0:k1] = part
        return out

    def release_adjoint_spectra(self) -> None:
        """Forget the flipped-kernel spectra cached by :meth:`adjoints` (one per kernel class
        and window shape: ~0.4 GB for 7 territories at 100 m); they are recomputed if
        needed again."""
        self._adj_cache.clear()

    def _flipped_spectrum(self, height: KernelClass, shape: tuple[int, int]) -> np.ndarray:
        key = (height, shape)
        if key not in self._adj_cache:
            k = self.kernels[height][::-1, ::-1]
            self._adj_cache[key] = scipy.fft.rfftn(k, s=shape, workers=fft_threads())
        return self._adj_cache[key]

    def point_adjoint(
        self, row: int, col: int, height: float | KernelClass
    ) -> tuple[slice, slice, np.ndarray]:
        """Adjoint of the concentration at one receptor cell: the flipped kernel around it
        (zeros for a class this instance holds no kernel of, see :meth:`adjoints`)."""
        m = self.half
        ny, nx = self.grid.shape
        r0, r1 = max(0, row - m), min(ny, row + m + 1)
        c0, c1 = max(0, col - m), min(nx, col + m + 1)
        if _class_key(height) not in self.kernels:
            return slice(r0, r1), slice(c0, c1), np.zeros((r1 - r0, c1 - c0))
        k = self.kernels[_class_key(height)]
        rows = np.arange(r0, r1)
        cols = np.arange(c0, c1)
        a = k[np.ix_(row - rows + m, col - cols + m)]
        return slice(r0, r1), slice(c0, c1), a


def _class_kernels(
    grid: Grid,
    settings: DispersionSettings,
    requests: Sequence[tuple[xr.Dataset, KernelClass, float, float]],
) -> list[np.ndarray]:
    """Kernels [ug m-3 per t yr-1] of ``(met_year, class, decay_rate, deposition_velocity)``
    requests with the run's `settings`, built together by
    :func:`trajectoire.dispersion.longterm.annual_kernels` (the one place where the
    :class:`DispersionSettings` become kernel arguments)."""
    return annual_kernels(
        [
            {
                "freq_year": met,
                "release_height": c[0],
                "initial_sigma_z": c[1],
                "decay_rate": rate,
                "deposition_velocity": vd,
            }
            for met, c, rate, vd in requests
        ],
        resolution=grid.resolution,
        radius=settings.radius,
        receptor_height=settings.receptor_height,
        sigma=settings.sigma,
        sector_smoothing=settings.sector_shape,
    )


def year_dispersions(
    grid: Grid,
    settings: DispersionSettings,
    sets: Sequence[tuple[xr.Dataset, Sequence[float | KernelClass], float, float]],
) -> list[YearDispersion]:
    """The :class:`YearDispersion` of several kernel sets of one year, their kernels built
    together class by class.

    Parameters
    ----------
    grid : Grid
        The run's grid (square cells).
    settings : DispersionSettings
        Radius, sigma scheme, heights.
    sets : sequence of (xarray.Dataset, sequence, float, float)
        ``(met_year, heights, decay_rate, deposition_velocity)`` of each set, as for
        :class:`YearDispersion` (a frequency table, kernel classes, a loss rate [s-1], a
        dry deposition velocity [m s-1]).

    Returns
    -------
    list of YearDispersion
        One per set, in order: the same kernels, bit for bit, as ``YearDispersion(grid,
        met_year, settings, heights, decay_rate=..., deposition_velocity=...)``.

    Notes
    -----
    The kernels of every set and class are built by one call of
    :func:`trajectoire.dispersion.longterm.annual_kernels`, which computes the sector masses
    and crosswind terms they have in common once.
    """
    classes = [list(dict.fromkeys(_class_key(h) for h in heights)) for _, heights, _, _ in sets]
    which = [(i, c) for i, cs in enumerate(classes) for c in cs]
    kernels = _class_kernels(
        grid, settings, [(sets[i][0], c, sets[i][2], sets[i][3]) for i, c in which]
    )
    built: list[dict[KernelClass, np.ndarray]] = [{} for _ in sets]
    for (i, c), k in zip(which, kernels, strict=True):
        built[i][c] = k
    return [
        YearDispersion(
            grid, met, settings, heights, decay_rate=rate, deposition_velocity=vd, kernels=built[i]
        )
        for i, (met, heights, rate, vd) in enumerate(sets)
    ]


def annual_concentration(
    emission: xr.DataArray,
    met: xr.Dataset,
    *,
    settings: DispersionSettings | None = None,
    background: xr.DataArray | float | None = None,
) -> xr.Dataset:
    """Annual mean concentration and contributions by sector from gridded emissions.

    Parameters
    ----------
    emission : xarray.DataArray
        ``emission(year, sector, pollutant, y, x)`` [t yr-1 per cell] on a trajectoire grid
        (``attrs["crs"]``); dask-backed arrays are computed one year and pollutant at a time.
    met : xarray.Dataset
        Joint frequency tables with a ``year`` dim covering the emission years.
    settings : DispersionSettings, optional
        Radius, sigma scheme and release heights (defaults of :class:`DispersionSettings`).
    background : xarray.DataArray or float, optional
        Regional background [ug m-3]: a scalar, or ``(year, pollutant)``, or with ``y, x``.

    Returns
    -------
    xarray.Dataset
        ``concentration(year, pollutant, y, x)`` [ug m-3, background included],
        ``contribution(year, sector, pollutant, y, x)`` [ug m-3] and
        ``background(year, pollutant)``; ``concentration = Σ_sector contribution + background``
        to round-off. With deposition velocities in `settings`, the kernels of each
        pollutant deplete its plumes, and ``deposition(year, pollutant, y, x)``
        [ug m-2 yr-1] is the annual dry deposition of the local sources,
        ``v_d Σ_sector contribution`` (the background's deposition is not modelled).

    Raises
    ------
    trajectoire.InputError
        Missing dims, emission and meteorology on different year sets, units that are not a
        mass per year, a background with wrong units.
    """
    settings = settings or DispersionSettings()
    emission = _emission_in_grid_order(emission)
    conversion_factor(emission.attrs.get("units"), "emission_rate", what="emission units")
    factor = conversion_factor(emission.attrs.get("units"), "emission_rate")
    grid = Grid.from_xarray(emission)
    years = [int(y) for y in emission["year"].values]
    if "year" not in met.dims:
        raise InputError("annual_concentration: the meteorology has no 'year' dim.")
    met = select_years(met, years, what="annual_concentration: met")
    bg = _background_array(background, emission)
    sectors = [str(s) for s in emission["sector"].values]
    pollutants = [str(p) for p in emission["pollutant"].values]
    heights = settings.classes(sectors)
    contrib = np.zeros((len(years), len(sectors), len(pollutants), *grid.shape))
    for iy, year in enumerate(years):
        cache: dict[tuple[float, float], YearDispersion] = {}
        for ip, pol in enumerate(pollutants):
            k, vd = settings.removal(pol)
            if (k, vd) not in cache:
                cache[k, vd] = YearDispersion(
                    grid,
                    met.sel(year=year),
                    settings,
                    heights,
                    decay_rate=k,
                    deposition_velocity=vd,
                )
            disp = cache[k, vd]
            e = np.asarray(emission.sel(year=year, pollutant=pol).values, dtype=float) * factor
            _require_finite_emission(e, emission, year, pol)
            disp.by_sector(e, sectors, out=contrib[iy, :, ip])
    coords: dict[str, Any] = {
        "year": years,
        "sector": sectors,
        "pollutant": pollutants,
        **grid.coords(),
    }
    contribution = xr.DataArray(
        contrib, dims=("year", "sector", "pollutant", "y", "x"), coords=coords
    )
    contribution = set_cf_attrs(contribution, "contribution")
    conc = contribution.sum("sector") + bg
    conc = set_cf_attrs(conc, "concentration")
    ds = xr.Dataset({"concentration": conc, "contribution": contribution, "background": bg})
    if settings.deposition_velocity:
        ds["deposition"] = dry_deposition(contribution.sum("sector"), settings)
    ds.attrs["crs"] = grid.crs.to_string()
    return add_history(
        ds, f"annual_concentration(radius={settings.radius}, sigma={settings.sigma!r})"
    )


_EMISSION_DIMS = ("year", "sector", "pollutant", "y", "x")


def _emission_in_grid_order(emission: xr.DataArray) -> xr.DataArray:
    """`emission` with the dims of :func:`annual_concentration` in its order and north-up
    (its values are read by position); one line for a missing or an extra dim (a
    ``member`` would be dropped or mixed into the sectors)."""
    require_dims(emission.dims, _EMISSION_DIMS, "emission")
    extra = [str(d) for d in emission.dims if d not in _EMISSION_DIMS]
    if extra:
        sizes = ", ".join(f"{d}: {emission.sizes[d]}" for d in extra)
        raise InputError(
            f"annual_concentration: emission has the dim(s) {extra} ({sizes}) beside "
            f"{list(_EMISSION_DIMS)}; expected emission{_EMISSION_DIMS}. Call it once per "
            f"{extra[0]} (emission.sel({extra[0]}=...)), or fold it into the sectors."
        )
    return north_up(emission).transpose(*_EMISSION_DIMS)


def _require_finite_emission(
    e: np.ndarray, emission: xr.DataArray, year: int, pollutant: str
) -> None:
    """One line for NaN or infinite cells in one year and pollutant of the emission: a NaN
    would make its sector's contribution NaN everywhere, and the concentration (a sum that
    skips NaN) would leave that sector out."""
    bad = ~np.isfinite(e)
    if not bad.any():
        return
    s, r, c = first_true(bad)
    raise InputError(
        f"annual_concentration: emission has {int(bad.sum())} NaN or infinite cell(s) in "
        f"{year}, {pollutant} (first: sector {str(emission['sector'].values[s])!r} at "
        f"x={float(emission['x'].values[c])}, y={float(emission['y'].values[r])}: "
        f"{e[s, r, c]}); expected finite emissions [t yr-1], 0 where nothing is emitted "
        "(emission.fillna(0))."
    )


def dry_deposition(concentration: xr.DataArray, settings: DispersionSettings) -> xr.DataArray:
    """Annual dry deposition [ug m-2 yr-1] of a local concentration field.

    Parameters
    ----------
    concentration : xarray.DataArray
        Annual mean concentration of the local sources with a ``pollutant`` dim, computed
        with the depleted kernels of `settings` (background excluded). In the mass
        concentration of its ``units`` attribute (``"mg m-3"``... converted to ug m-3);
        without one, in ug m-3.
    settings : DispersionSettings
        Its ``deposition_velocity`` [m s-1] per pollutant (0 for those not listed).

    Returns
    -------
    xarray.DataArray
        ``v_d C × 31 557 600 s yr-1`` [ug m-2 yr-1], same dims, CF attributes of
        ``deposition``.

    Raises
    ------
    trajectoire.InputError
        `concentration` not a DataArray, or `settings` not a :class:`DispersionSettings`.
    trajectoire.MissingVariableError
        `concentration` without a ``pollutant`` dim.
    trajectoire.UnitsError
        A ``units`` attribute that is not a mass concentration.
    """
    if not isinstance(concentration, xr.DataArray):
        raise InputError(
            f"dry_deposition: concentration is a {type(concentration).__name__}; expected an "
            "xarray.DataArray with a 'pollutant' dim [ug m-3], e.g. xr.DataArray(values, "
            "dims=('pollutant', 'y', 'x'), coords={'pollutant': ['NH3']})."
        )
    if not isinstance(settings, DispersionSettings):
        raise InputError(
            f"dry_deposition: settings is a {type(settings).__name__}; expected a "
            "DispersionSettings, e.g. DispersionSettings(deposition_velocity={'NH3': 0.01})."
        )
    require_dims(concentration.dims, ("pollutant",), "concentration")
    units = concentration.attrs.get("units")
    if units is not None and str(units).strip():
        factor = conversion_factor(
            units, "concentration", what="dry_deposition: concentration.attrs['units']"
        )
        if factor != 1.0:
            concentration = concentration * factor
    vd = xr.DataArray(
        [settings.removal(str(p))[1] for p in concentration["pollutant"].values],
        dims="pollutant",
        coords={"pollutant": concentration["pollutant"]},
    )
    return set_cf_attrs(concentration * vd * SECONDS_PER_YEAR, "deposition")


def deposition_flux(local: np.ndarray, velocity: float) -> np.ndarray:
    """Annual dry deposition [ug m-2 yr-1] of a local concentration map, cell by cell.

    The numpy form of :func:`dry_deposition`, as the batch run uses it.

    Parameters
    ----------
    local : numpy.ndarray
        Annual mean concentration of the local sources [ug m-3] (background excluded),
        computed with the kernels depleted at `velocity`.
    velocity : float
        Dry deposition velocity [m s-1].

    Returns
    -------
    numpy.ndarray
        ``local × velocity × 31 557 600 s yr-1`` [ug m-2 yr-1], same shape.
    """
    return local * velocity * SECONDS_PER_YEAR


def source_deposition_flux(
    emission: np.ndarray,
    cell_area: float,
    stack_rows: np.ndarray | None = None,
    stack_cols: np.ndarray | None = None,
    stack_emission: np.ndarray | None = None,
) -> np.ndarray:
    """Deposition [ug m-2 yr-1] of a species deposited in its emission cell (not dispersed).

    For coarse particles (``deposited_at_source`` in the species registry: ``TRWP_coarse``)
    that settle within metres of where they are emitted, far less than a cell: the whole
    yearly emission of each cell, divided by the cell's area.

    Parameters
    ----------
    emission : numpy.ndarray
        ``(sector, ny, nx)`` or ``(ny, nx)`` gridded emission [t yr-1 per cell].
    cell_area : float
        Area of a cell [m2].
    stack_rows, stack_cols : numpy.ndarray, optional
        Cell of each stack.
    stack_emission : numpy.ndarray, optional
        ``(stack,)`` emission of each stack [t yr-1], added to its cell.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 [ug m-2 yr-1] (1 t = 1e12 ug): summed over the area it is
        ``1e12 ×`` the total emission, exactly what :func:`deposited_mass` gives back.
    """
    e = np.asarray(emission)
    # summed over the sectors in float64 without a float64 copy of the planes (the same
    # bits: each value is converted, then added in sector order)
    total = e.sum(axis=0, dtype=np.float64) if e.ndim == 3 else e.astype(np.float64)
    if stack_emission is not None and len(stack_emission):
        where = (np.asarray(stack_rows, dtype=np.int64), np.asarray(stack_cols, dtype=np.int64))
        np.add.at(total, where, np.asarray(stack_emission, dtype=np.float64))
    return total / (cell_area * _T_PER_UG)


def deposited_mass(flux: np.ndarray, fractions: np.ndarray, cell_area: float) -> np.ndarray:
    """Mass deposited on each territory [t yr-1]: ``Σ_c flux(c) × area × fraction_t(c)``.

    Parameters
    ----------
    flux : numpy.ndarray
        ``(ny, nx)`` deposition [ug m-2 yr-1] (:func:`deposition_flux`).
    fractions : numpy.ndarray
        ``(territory, ny, nx)`` share of each cell inside each territory [1].
    cell_area : float
        Area of a cell [m2].

    Returns
    -------
    numpy.ndarray
        ``(territory,)`` [t yr-1] (1 t = 1e12 ug), float64.
    """
    n = fractions.shape[0]
    per_cell = fractions.reshape(n, -1) @ np.asarray(flux, dtype=np.float64).reshape(-1)
    return per_cell * (cell_area * _T_PER_UG)


def _background_array(
    background: xr.DataArray | float | None, emission: xr.DataArray
) -> xr.DataArray:
    coords = {"year": emission["year"], "pollutant": emission["pollutant"]}
    if background is None:
        bg = xr.DataArray(
            np.zeros((emission.sizes["year"], emission.sizes["pollutant"])),
            dims=("year", "pollutant"),
            coords=coords,
        )
    elif isinstance(background, xr.DataArray):
        f = conversion_factor(
            background.attrs.get("units"), "concentration", what="background units"
        )
        bg = background * f
        for d in ("year", "pollutant"):
            if d in bg.dims:
                missing = set(emission[d].values.tolist()) - set(bg[d].values.tolist())
                if missing:
                    raise InputError(f"background: no value for {d} {sorted(missing, key=str)}.")
        bg = bg.sel({d: emission[d] for d in ("year", "pollutant") if d in bg.dims})
    else:
        bg = xr.DataArray(
            np.full((emission.sizes["year"], emission.sizes["pollutant"]), float(background)),
            dims=("year", "pollutant"),
            coords=coords,
        )
    return set_cf_attrs(bg, "background")


@with_options(AnnualStacks, STACK_DEFAULTS, required=list(StackArrays.__annotations__))
def stack_footprints(
    freq_year: xr.Dataset,
    *,
    grid: Grid,
    radius: float,
    node_spacing: float | None = None,
    **stacks: Unpack[AnnualStacks],
) -> list[tuple[slice, slice, np.ndarray]]:
    """Annual footprint of each stack [ug m-3 per (t yr-1)] on a window of the grid.

    The same physics as :func:`trajectoire.dispersion.point_sources_annual` (Briggs plume
    rise per met class, sector-averaged long-term plume, sector smoothing), evaluated through
    radial profiles tabulated once per stack (:mod:`trajectoire._kernels.stacks`): the cost
    per receptor cell does not grow with the number of met classes. Footprints are
    pollutant-independent (no decay) and are combined with each pollutant's emissions by the
    caller; with a decay rate or a deposition velocity they serve the pollutants of that pair.

    Parameters
    ----------
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes`.
    grid : Grid
        Receptor grid.
    radius : float
        Cut-off radius [m].
    node_spacing : float, optional
        Spacing of the radial nodes [m]; default a tenth of the cell size.
    **stacks
        The stacks and the plume settings, as for
        :func:`trajectoire.dispersion.point_sources_annual`
        (:class:`trajectoire.dispersion.points.AnnualStacks`). With
        ``sector_smoothing="gauss"`` the profiles are tabulated per stability class
        (:func:`trajectoire._kernels.stacks.radial_profiles_by_class`) and, within
        ``near_field``, integrated with the plume's exact geometry
        (:func:`trajectoire._kernels.stacks._class_pieces`).

    Returns
    -------
    list of (slice, slice, numpy.ndarray)
        For each stack, the rows and columns of its window and the footprint there.

    Raises
    ------
    trajectoire.InputError
        `node_spacing` negative or not a finite number, or stacks and settings that
        :func:`trajectoire.dispersion.point_sources_annual` refuses.
    trajectoire.GridError
        A grid whose cells are not square.
    """
    return stack_footprint_sets([(freq_year, stacks)], grid=grid, radius=radius,
                                node_spacing=node_spacing)[0]  # fmt: skip


def stack_footprint_sets(
    sets: Sequence[tuple[xr.Dataset, AnnualStacks]],
    *,
    grid: Grid,
    radius: float,
    node_spacing: float | None = None,
) -> list[list[tuple[slice, slice, np.ndarray]]]:
    """:func:`stack_footprints` of several sets of stacks on one grid, together.

    Each set is one year's frequency table and the keywords of :func:`stack_footprints`
    (its stacks, decay rate, deposition velocity, ...). With Gaussian-smoothed sectors,
    the stacks of every set that share their offsets to the cell centres share the
    geometry of each cell (:func:`trajectoire._kernels.stacks.footprints_aligned`): the
    run computes the footprints of its kernel sets (e.g. the regulated pollutants and a
    decaying species) in one pass over the cells instead of one per set. Each footprint is
    bit for bit that of :func:`stack_footprints` called on its set alone.

    Parameters
    ----------
    sets : sequence of (xarray.Dataset, mapping)
        The frequency table of each set and its keywords
        (:class:`trajectoire.dispersion.points.AnnualStacks`).
    grid, radius, node_spacing
        As :func:`stack_footprints`, the same for every set.

    Returns
    -------
    list of list of (slice, slice, numpy.ndarray)
        For each set, its :func:`stack_footprints`.
    """
    tables = [_StackTable.of(freq, grid, radius, node_spacing, kw) for freq, kw in sets]
    out: list[list[tuple[slice, slice, np.ndarray]]] = [[] for _ in tables]
    aligned = [i for i, t in enumerate(tables) if t.mode == SECTOR_GAUSS]
    for group in _shared_geometry(tables, aligned):
        first = tables[group[0]]
        xs = np.concatenate([tables[i].xs for i in group])
        ys = np.concatenate([tables[i].ys for i in group])
        owner = [(i, s) for i in group for s in range(tables[i].xs.size)]

        def fill(batch: list[int], prof: np.ndarray, owner: list[tuple[int, int]] = owner) -> None:
            for i in dict.fromkeys(owner[q][0] for q in batch):  # each set's stacks at once
                slots = [q for q, b in enumerate(batch) if owner[b][0] == i]
                tables[i].profiles_into([owner[batch[q]][1] for q in slots], slots, prof)

        # each set's stacks of one profile row together, so that a row is tabulated once
        # for all its stacks (profiles_into)
        alike = np.concatenate([i * xs.size + tables[i].rows for i in group])
        fps = _aligned_footprints(fill, first.nodes, first.n_sectors, first.code, grid, xs, ys,
                                  first.half, first.radius, first.near, alike,
                                  first.cell_mean)  # fmt: skip
        for (i, s), fp in zip(owner, fps, strict=True):
            out[i].append((*tables[i].window(s), fp * _T_PER_YR_TO_UG))
    for i, table in enumerate(tables):
        if table.mode != SECTOR_GAUSS:
            out[i] = [table.plain_footprint(s, grid) for s in range(table.xs.size)]
    return out


@dataclass
class _StackTable:
    """One set of stacks of :func:`stack_footprint_sets`: its settings, radial nodes,
    windows and per-stack radial profiles."""

    xs: np.ndarray
    ys: np.ndarray
    code: int
    radius: float
    mode: int
    near: float
    nodes: np.ndarray
    half: int
    windows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    profiles: Callable[[int], np.ndarray]
    n_sectors: int
    profiles_into: Callable[[list[int], list[int], np.ndarray], None]
    rows: np.ndarray  # (stack,) the distinct profile row of each stack (_alike_rows)
    cell_mean: bool

    @classmethod
    def of(
        cls,
        freq_year: xr.Dataset,
        grid: Grid,
        radius: float,
        node_spacing: float | None,
        stacks: AnnualStacks,
    ) -> _StackTable:
        """The set's settings checked (:class:`AnnualStackSettings`) and its profiles."""
        if node_spacing is not None and (not _finite_number(node_spacing) or node_spacing < 0):
            raise InputError(
                f"stack_footprints: node_spacing={node_spacing!r}; expected a finite spacing "
                "> 0 [m] of the radial nodes, or None for a tenth of the cell size."
            )
        cfg = AnnualStackSettings.of("stack_footprints", grid, radius, stacks)
        code, rad, z, k, vd = (
            cfg.code,
            cfg.radius,
            cfg.receptor_height,
            cfg.decay_rate,
            cfg.deposition_velocity,
        )
        xs, ys = cfg.stacks["x"], cfg.stacks["y"]
        a, clss, zis, ius, hs_all, fac_all = _stack_groups(
            freq_year, code, cfg.stacks, cfg.ambient_temperature
        )
        # stacks with the same heights and wind factors in every group (the same stack
        # parameters, e.g. a register's default stack per activity) have the same profiles:
        # each distinct row is tabulated once, and its stacks read it (`row`)
        row, first = _alike_rows(hs_all, fac_all)
        hs_u, fac_u = hs_all[first], fac_all[first]
        spacing = float(node_spacing or grid.resolution / 10.0)
        nodes = np.arange(spacing / 2.0, rad + grid.resolution + spacing, spacing)
        dep = _depletion(vd, z, hs_u, zis, clss, code, float(nodes[-1]) * 2)
        half = int(np.ceil(rad / grid.resolution))
        mode = cfg.sector_mode
        tabulate = radial_profiles_by_class if mode == SECTOR_GAUSS else radial_profiles

        def profiles(s: int) -> np.ndarray:
            u = row[s]
            return tabulate(a, fac_u[u], hs_u[u], zis, clss, ius, code, z, k, nodes,
                            NO_DEPOSITION if vd == 0 else (*dep[:3], dep[3][u], dep[4][u]))  # fmt: skip

        kept = _KeptRows(np.bincount(row) > 1)

        def profiles_into(stacks: list[int], slots: list[int], out: np.ndarray) -> None:
            # radial_profiles_by_class of `stacks` into out[..., slots] (ALIGNED_LAYOUT): the
            # rows kept from an earlier batch copied, the others computed (the kernel
            # computes a row once per call), and those of several stacks kept
            rows = row[np.asarray(stacks, dtype=np.int64)]
            todo = kept.copy_into(rows, slots, out)
            if todo:
                # the terms of its groups kept from earlier years (stack_terms): the same bits
                profiles_with_terms(a, fac_u, hs_u, zis, clss, ius, code, z, k, nodes, dep,
                                    rows[todo], np.asarray(slots, dtype=np.int64)[todo],
                                    out)  # fmt: skip
                kept.keep(rows[todo], [slots[i] for i in todo], out)

        windows = _footprint_windows(grid, xs, ys, half)
        return cls(xs, ys, code, rad, mode, cfg.near_field, nodes, half, windows, profiles,
                   int(a.shape[1]), profiles_into, row, cfg.cell_mean)  # fmt: skip

    def window(self, s: int) -> tuple[slice, slice]:
        """Rows and columns of stack `s`'s footprint window."""
        r0, r1, c0, c1 = self.windows
        return slice(int(r0[s]), int(r1[s])), slice(int(c0[s]), int(c1[s]))

    def plain_footprint(self, s: int, grid: Grid) -> tuple[slice, slice, np.ndarray]:
        """Stack `s`'s footprint with plain (not Gaussian-smoothed) sectors."""
        rows, cols = self.window(s)
        prof, sx, sy = self.profiles(s), self.xs[s], self.ys[s]

        def at(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            fp = np.zeros((ys.size, xs.size))
            footprint_from_profiles(prof, self.nodes, sx, sy, np.ascontiguousarray(xs),
                                    np.ascontiguousarray(ys), self.radius, fp)  # fmt: skip
            return fp

        fp = at(grid.x[cols], grid.y[rows])
        if self.cell_mean:
            gx, gy = grid.x[cols] - sx, grid.y[rows] - sy
            for ri, ci, means in band_means(gx, gy, grid.dx,
                                            lambda fx, fy, _: at(sx + fx, sy + fy)):  # fmt: skip
                fp[ri, ci] = means
        return rows, cols, fp * _T_PER_YR_TO_UG


def _shared_geometry(tables: list[_StackTable], which: list[int]) -> list[list[int]]:
    """The sets among `which` grouped by what the geometry of a cell depends on (sigma
    scheme, radial nodes, radius, near field): each group's footprints are computed in one
    pass over the cells."""
    groups: list[list[int]] = []
    for i in which:
        t = tables[i]
        for g in groups:
            u = tables[g[0]]
            same = (u.code, u.radius, u.near, u.half, u.n_sectors, u.cell_mean)
            if same == (t.code, t.radius, t.near, t.half, t.n_sectors, t.cell_mean) and (
                np.array_equal(u.nodes, t.nodes)
            ):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


class _KeptRows:
    """The radial profiles of the profile rows that several stacks share
    (:func:`_alike_rows`), kept once computed, so that a later batch of
    :func:`_aligned_footprints` (another stack of the same parameters, on other offsets to
    its cells) copies them instead of tabulating them again: the same values.

    At most :data:`_KEPT_ROWS_BYTES` are kept; the least recently used row goes first
    (the stacks come by row, :func:`_aligned_footprints`, so one row at a time is enough
    for stacks that share no geometry).

    Parameters
    ----------
    shared : numpy.ndarray of bool ``(row,)``
        The rows worth keeping (those of several stacks).
    """

    def __init__(self, shared: np.ndarray) -> None:
        self.shared = shared
        self.rows: dict[int, np.ndarray] = {}  # row -> (class, node, sector), by last use

    def copy_into(self, rows: np.ndarray, slots: list[int], out: np.ndarray) -> list[int]:
        """Copy the kept rows among `rows` into ``out[..., slots[i]]``; the places ``i``
        whose rows are not kept are returned."""
        todo = []
        for i, (u, q) in enumerate(zip(rows.tolist(), slots, strict=True)):
            prof = self.rows.pop(u, None)
            if prof is None:
                todo.append(i)
                continue
            self.rows[u] = prof  # the most recently used last
            out[..., q] = prof
        return todo

    def keep(self, rows: np.ndarray, slots: list[int], out: np.ndarray) -> None:
        """Keep the shared rows among `rows`, computed into ``out[..., slots[i]]``."""
        for u, q in zip(rows.tolist(), slots, strict=True):
            if not self.shared[u] or u in self.rows:
                continue
            prof = out[..., q].copy()
            if prof.nbytes > _KEPT_ROWS_BYTES:
                return
            while self.rows and prof.nbytes * (len(self.rows) + 1) > _KEPT_ROWS_BYTES:
                del self.rows[next(iter(self.rows))]
            self.rows[u] = prof


_KEPT_ROWS_BYTES = 64 * 2**20
"""Bytes of shared profiles :class:`_KeptRows` keeps (a stack's are 3.5 MB at 100 m and 20
km: 18 of them)."""

_ALIGNED_BATCH = 48
"""Stacks whose footprints :func:`_aligned_footprints` computes in one call (their profiles,
about 3.5 MB each at 100 m and 20 km, and their windows, 1.3 MB, are held together)."""


def _aligned_footprints(
    fill: Callable[[list[int], np.ndarray], None],
    nodes: np.ndarray,
    n_sectors: int,
    code: int,
    grid: Grid,
    xs: np.ndarray,
    ys: np.ndarray,
    half: int,
    radius: float,
    near: float,
    alike: np.ndarray | None = None,
    cell_mean: bool = False,
) -> list[np.ndarray]:
    """Gaussian-sector footprints of the stacks on their windows (:func:`_footprint_windows`).

    Stacks whose offsets to the cell centres of their windows are the same floats (stacks on
    the same position within their cells, e.g. coordinates on a grid of the cell size) share
    the geometry of each cell (:func:`trajectoire._kernels.stacks.footprints_aligned`): the
    result is bit for bit that of :func:`trajectoire._kernels.stacks.footprint_from_class_profiles`
    stack by stack. ``fill(batch, prof)`` writes the per-class profiles of the stacks
    `batch` into ``prof[..., q]`` for ``batch[q]``, in the layout of
    :func:`~trajectoire._kernels.stacks.footprints_aligned`
    (:func:`~trajectoire._kernels.stacks.profiles_stacks_last`); `n_sectors` is the number
    of wind sectors. The stacks of one geometry, and the geometries by their first stack,
    are taken in the order of `alike` (one integer per stack; default: their order), so
    the stacks whose profiles ``fill`` tabulates once (the same number) come together;
    the footprints do not depend on the order. With `cell_mean`, the cells near the stacks
    take their means over the cell (:func:`trajectoire.dispersion.cell_means.band_means`,
    the sub-points of a group's cells shared by its stacks as its cell centres are).
    """
    size = 2 * half + 3
    rc, cc = _footprint_centres(grid, xs, ys)
    r0, r1, c0, c1 = _footprint_windows(grid, xs, ys, half)
    groups = _offset_groups(grid, xs, ys, half)
    if alike is not None:  # stable sorts: the stacks' order otherwise
        for members, _, _ in groups:
            members.sort(key=lambda s: int(alike[s]))
        groups.sort(key=lambda g: int(alike[g[0][0]]))
    out: list[np.ndarray] = [np.empty((0, 0))] * xs.size
    for members, gx, gy in groups:
        dist = np.hypot(gx[None, :], gy[:, None])
        known = np.flatnonzero(np.isfinite(dist))  # cells some stack of the group needs
        cells = np.stack(np.unravel_index(known[np.argsort(dist.flat[known])], dist.shape), 1)
        for b in range(0, len(members), _ALIGNED_BATCH):
            batch = members[b : b + _ALIGNED_BATCH]
            # (c, k, d, s): the layout of footprints_aligned, every value written by fill
            prof = np.empty((N_CLASSES, nodes.size, n_sectors, len(batch)))
            fill(batch, prof)
            rows = np.array([[r0[s] - rc[s], r1[s] - rc[s]] for s in batch]) + half + 1
            cols = np.array([[c0[s] - cc[s], c1[s] - cc[s]] for s in batch]) + half + 1
            buf = np.zeros((size, size, len(batch)))
            footprints_aligned(prof, nodes, code, gx, gy, rows, cols, radius, near, cells, buf)
            if cell_mean:
                _aligned_cell_means(prof, nodes, code, gx, gy, radius, near, grid.dx, buf)
            for q, s in enumerate(batch):
                out[s] = buf[rows[q, 0] : rows[q, 1], cols[q, 0] : cols[q, 1], q]
    return out


def _aligned_cell_means(
    prof: np.ndarray,
    nodes: np.ndarray,
    code: int,
    gx: np.ndarray,
    gy: np.ndarray,
    radius: float,
    near: float,
    cell: float,
    buf: np.ndarray,
) -> None:
    """Replace the centre values of the stacks of one aligned group in `buf`
    ``(row, column, stack)`` by their cell means near the stacks
    (:func:`trajectoire.dispersion.cell_means.band_means`): the sub-points are evaluated by
    :func:`trajectoire._kernels.stacks.footprints_aligned` as the centres were, every stack
    of the group at once, in the order of their distance to the stacks."""
    nst = buf.shape[2]

    def evaluate(fx: np.ndarray, fy: np.ndarray, points: np.ndarray) -> np.ndarray:
        sub = np.zeros((fy.size, fx.size, nst))
        order = np.argsort(np.hypot(fx[points[:, 1]], fy[points[:, 0]]), kind="stable")
        every = np.array([[0, fy.size]] * nst), np.array([[0, fx.size]] * nst)
        footprints_aligned(prof, nodes, code, fx, fy, *every, radius, near,
                           np.ascontiguousarray(points[order]), sub)  # fmt: skip
        return sub

    for ri, ci, means in band_means(gx, gy, cell, evaluate):
        buf[ri, ci] = means


def _alike_rows(*per_stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stacks whose rows of every array in `per_stack` (``(stack, ...)`` each) hold the
    same bytes: ``row[s]``, the index of stack ``s``'s distinct row, and ``first[u]``, the
    first stack of distinct row ``u`` (in the order of the stacks: ``row`` of the first
    stack is 0, and a new row gets the next index).

    Rows that hold the same bytes give the same profiles, operation for operation, so a
    distinct row is tabulated once for all its stacks: a register read with a default stack
    per activity (:data:`trajectoire.inventory.irep.ACTIVITY_CLASSES`, 13 distinct stacks)
    has at most that many, whatever its number of sites. Bytes, not values, decide:
    ``-0.0`` and ``+0.0`` are two rows.
    """
    n = per_stack[0].shape[0]
    flat = np.concatenate(
        [np.ascontiguousarray(a).reshape(n, -1).view(np.uint8) for a in per_stack], axis=1
    )
    seen: dict[bytes, int] = {}
    row = np.empty(n, dtype=np.int64)
    first: list[int] = []
    for s in range(n):
        u = seen.setdefault(flat[s].tobytes(), len(first))
        if u == len(first):
            first.append(s)
        row[s] = u
    return row, np.asarray(first, dtype=np.int64)


def _offset_groups(
    grid: Grid, xs: np.ndarray, ys: np.ndarray, half: int
) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
    """The stacks grouped by their offsets to the cell centres of their windows.

    Each stack's offsets east and north [m] of the columns and rows of its window
    (:func:`_footprint_windows`), placed on ``2 half + 3`` positions around its centre
    cell (NaN beyond the grid); a stack joins the first group whose offsets hold the same
    floats wherever both are known (:func:`_agree`), and the group's offsets take its known
    ones. Returns ``(members, gx, gy)`` per group, in the order of their first stack.

    The centre position is known for every stack (its cell, or the nearest edge cell), so
    stacks that agree have the same centre offsets: only the groups with a stack's centre
    offsets are compared with it (the same first group as comparing them all, in a time
    linear in the stacks instead of quadratic: for the 677 IREP sites within the seven
    territories' box at 200 m, 0.013 s instead of 0.76 s, ``benchmarks/bench_stack_rows.py``).
    """
    groups: list[tuple[list[int], np.ndarray, np.ndarray]] = []
    by_centre: dict[tuple[float, float], list[int]] = {}  # centre offsets -> groups
    for s, (dx, dy) in enumerate(_window_offsets(grid, xs, ys, half)):
        bucket = by_centre.setdefault((float(dx[half + 1]), float(dy[half + 1])), [])
        if not _join_first(groups, bucket, s, dx, dy):
            bucket.append(len(groups))
            groups.append(([s], dx, dy))
    return groups


def _window_offsets(
    grid: Grid, xs: np.ndarray, ys: np.ndarray, half: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each stack's offsets east and north [m] of the columns and rows of its window
    (:func:`_footprint_windows`) on ``2 half + 3`` positions around its centre cell (NaN
    beyond the grid), stack by stack: what :func:`_offset_groups` groups by."""
    size = 2 * half + 3
    rc, cc = _footprint_centres(grid, xs, ys)
    r0, r1, c0, c1 = _footprint_windows(grid, xs, ys, half)
    for s in range(xs.size):
        dx = np.full(size, np.nan)
        dy = np.full(size, np.nan)
        dx[c0[s] - cc[s] + half + 1 : c1[s] - cc[s] + half + 1] = grid.x[c0[s] : c1[s]] - xs[s]
        dy[r0[s] - rc[s] + half + 1 : r1[s] - rc[s] + half + 1] = grid.y[r0[s] : r1[s]] - ys[s]
        yield dx, dy


def _join_first(
    groups: list[tuple[list[int], np.ndarray, np.ndarray]],
    candidates: Iterable[int],
    s: int,
    dx: np.ndarray,
    dy: np.ndarray,
) -> bool:
    """Add stack `s` (offsets `dx`, `dy`) to the first of the `candidates` groups whose
    offsets agree with its own (:func:`_agree`), the group's offsets taking its known ones;
    whether it joined one."""
    for g in candidates:
        members, gx, gy = groups[g]
        if _agree(gx, dx) and _agree(gy, dy):
            members.append(s)
            np.copyto(gx, dx, where=np.isnan(gx))
            np.copyto(gy, dy, where=np.isnan(gy))
            return True
    return False


def _agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two offset arrays hold the same floats where both are known (not NaN)."""
    both = ~np.isnan(a) & ~np.isnan(b)
    return bool(np.array_equal(a[both], b[both]))


def _footprint_windows(
    grid: Grid, xs: np.ndarray, ys: np.ndarray, half: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First and last + 1 row, then column, of each stack's footprint window on `grid`.

    The window reaches ``half + 1`` cells beyond the stack's cell (the nearest edge cell for
    a stack outside the grid), clipped to the grid.
    """
    r_c, c_c = _footprint_centres(grid, xs, ys)
    return (
        np.maximum(0, r_c - half - 1),
        np.minimum(grid.ny, r_c + half + 2),
        np.maximum(0, c_c - half - 1),
        np.minimum(grid.nx, c_c + half + 2),
    )
