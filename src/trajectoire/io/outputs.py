"""The output variables of a run: one year's maps and aggregates, and the static variables.

A run writes, for every year (``docs/outputs.md``): ``emission(year, sector, pollutant, y, x)``
[t yr-1 per cell], ``concentration(year, pollutant, y, x)`` [ug m-3, background included],
``contribution(year, sector, pollutant, y, x)`` in the map years, ``background(year,
pollutant)``, the receptor aggregates by sector and origin (territory means, population-weighted
means, station cells), ``exposure`` and the territories' population.

Cells beyond the buffer of every territory (``mask`` 0) are still computed, because they emit
and their emissions disperse into the territories, but they are written as missing (NaN), so
they compress to almost nothing. :class:`YearMaps` holds a year's maps while they are filled
plane by plane and applies that rule; :func:`year_dataset` and :func:`static_dataset` build
the datasets with their CF attributes (:mod:`trajectoire.cf`).
"""

from __future__ import annotations

import itertools
import uuid
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import dask.array as dask_array
import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._kernels.planes import masked_inside
from trajectoire._validate import rows_preview
from trajectoire.assess.evaluation import EVALUATION_STATISTICS, evaluate_stations
from trajectoire.assess.exposure import (
    NUMBER_THRESHOLD_NOTES,
    ZONE_LABELS,
    ExposureStatistics,
    ZoneExposure,
)
from trajectoire.assess.fusion import cross_validate, fuse
from trajectoire.assess.stations import sample_at_stations
from trajectoire.cf import set_cf_attrs
from trajectoire.dispersion.chemistry import NO2_ATTRIBUTION_RULE
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning, UnitsError
from trajectoire.geo.grid import Grid
from trajectoire.species import NUMBER_SUFFIX
from trajectoire.trajectory.backcast import METHOD_LABELS

__all__ = [
    "EMISSION_METHOD_FLAGS",
    "FUSION_STAGES",
    "BackgroundMaps",
    "FusedMap",
    "YearMaps",
    "cumulative_deposition",
    "emission_method_flags",
    "evaluation_variables",
    "fuse_map",
    "fusion_skill_template",
    "fusion_targets",
    "split_number_species",
    "static_dataset",
    "territory_totals",
    "with_no2_attribution",
    "year_dataset",
]


class YearMaps:
    """The gridded outputs of one year, filled plane by plane (float32).

    A ``(sector, pollutant)`` plane of the emission or contribution maps that is 0 in every
    cell of the mask (a sector that emits nothing of the pollutant: about half of them on
    the sample) is not held: it is written as 0 inside the mask and NaN beyond, from one
    shared plane, like NO2's emission planes (NaN). The planes are checked bit for bit when
    they are set (a plane that differs from that constant in any bit is kept), so the
    values written are those of the dense arrays they replace; at 100 m each constant plane
    saves 11 MB (1.7 GB in a map year of the sample). :attr:`emission` and
    :attr:`contribution` give the whole arrays (dask arrays of one chunk per plane, the
    constant planes never allocated: the writer computes them chunk by chunk).

    A plane held once masked keeps only its cells inside the mask (18 % of the grid on the
    sample at 100 m) when every cell beyond holds NaN with the bits of ``float32("nan")``,
    what blanking gives unless the plane itself holds a NaN there: it is made whole again,
    NaN beyond, when it is written (:func:`_unpack`), bit for bit. A plane with another NaN
    beyond the mask is held whole. The whole-grid emission planes are never held: the
    emission is given plane by plane to :meth:`finish_emission`, which keeps what is written
    (the consumers of the year's emission form what they read from the trajectory's basis,
    :func:`trajectoire.trajectory.basis.emission_from_basis`).

    Parameters
    ----------
    n_sector : int
        Number of sectors.
    n_pollutant : int
        Number of output pollutants (the dispersed ones first, then NO2 when asked).
    mask : numpy.ndarray
        ``(ny, nx)`` bool: the cells written; the others are written as NaN.
    with_contribution : bool
        Whether the year writes the contribution maps (a map year).
    with_deposition : bool, default False
        Whether the run deposits (``[dispersion] dry_deposition``): a map year then writes
        the deposition maps too.

    Attributes
    ----------
    concentration : numpy.ndarray
        ``(1, pollutant, ny, nx)`` [ug m-3].
    deposition : numpy.ndarray or None
        ``(1, pollutant, ny, nx)`` [ug m-2 yr-1] in a map year of a run that deposits; NaN
        for the pollutants not dispersed (NO2).
    """

    def __init__(
        self,
        n_sector: int,
        n_pollutant: int,
        mask: np.ndarray,
        with_contribution: bool,
        with_deposition: bool = False,
    ) -> None:
        shape = mask.shape
        self._n_planes = (n_sector, n_pollutant)
        self._written: dict[tuple[int, int], np.ndarray] = {}  # emission planes, masked
        self._n_dispersed: int | None = None  # set by finish_emission
        self._contribution: dict[tuple[int, int], np.ndarray] | None = (
            {} if with_contribution else None
        )
        # np.empty: every plane is written below (no NaN pass over hundreds of MB)
        self.concentration = np.empty((1, n_pollutant, *shape), dtype=np.float32)
        self.deposition = (
            np.full((1, n_pollutant, *shape), np.nan, dtype=np.float32)
            if with_contribution and with_deposition
            else None
        )
        self.mask = mask
        self._inside = np.flatnonzero(mask)  # the cells written, flat, increasing
        # 1 inside the mask, NaN beyond: a multiplication blanks the masked cells in one pass
        self._keep = np.where(mask, np.float32(1.0), np.float32(np.nan))
        # a plane of zeros blanked as every plane is: the constant planes' bits
        self._zero = np.zeros(shape, dtype=np.float32) * self._keep
        # the NaN _unpack writes beyond the mask: a plane holding exactly these bits there
        # is held as its cells inside (_hold)
        self._nan = np.full(shape, np.float32(np.nan), dtype=np.float32)

    def set_concentration(self, ip: int, local: np.ndarray, background: float) -> None:
        """Concentration of pollutant `ip`: ``local + background`` [ug m-3], masked."""
        plane = self.concentration[0, ip]
        np.add(local, background, out=plane, casting="same_kind")
        plane[~self.mask] = np.nan

    def set_contribution(self, ip: int, by_sector: np.ndarray | None) -> None:
        """Contribution maps of pollutant `ip` (``(sector, ny, nx)`` [ug m-3]), masked."""
        if self._contribution is not None and by_sector is not None:
            for s, plane in enumerate(by_sector):
                self.set_contribution_plane(ip, s, plane)

    def set_contribution_plane(self, ip: int, sector: int, plane: np.ndarray) -> None:
        """Contribution map of one sector of pollutant `ip` (``(ny, nx)`` [ug m-3]), masked:
        :meth:`set_contribution` one plane at a time; a no-op outside map years."""
        if self._contribution is None:
            return
        key = (sector, ip)
        if plane.shape == self.mask.shape and plane.dtype in (np.float32, np.float64):
            inside, all_zero = self._gather(plane)
            if inside is not None:  # else a NaN beyond the mask: numpy's path below
                if all_zero:
                    self._contribution.pop(key, None)
                else:
                    self._contribution[key] = inside
                return
        masked = np.empty(self.mask.shape, dtype=np.float32)
        np.multiply(plane, self._keep, out=masked, casting="same_kind")
        self._keep_plane(self._contribution, key, masked)

    def _gather(self, plane: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """A whole-grid plane's cells inside the mask as the blanking multiplication gives
        them, in one pass (:func:`trajectoire._kernels.planes.masked_inside`), and whether
        they are all +0. Every cell beyond is then ``float32("nan")`` once blanked, unless
        the plane holds a NaN there: then ``(None, False)`` (the caller takes numpy's
        path, whose NaN bits decide what is held)."""
        inside = np.empty(self._inside.size, dtype=np.float32)
        nan_beyond, all_zero = masked_inside(np.ascontiguousarray(plane), self._inside, inside)
        return (None, False) if nan_beyond else (inside, all_zero)

    def _keep_plane(
        self, planes: dict[tuple[int, int], np.ndarray], key: tuple[int, int], masked: np.ndarray
    ) -> None:
        """Hold `masked` (:meth:`_hold`) unless it is the constant plane, bit for bit."""
        if np.array_equal(masked.view(np.uint32), self._zero.view(np.uint32)):
            planes.pop(key, None)
        else:
            self._hold(planes, key, masked)

    def _hold(
        self, planes: dict[tuple[int, int], np.ndarray], key: tuple[int, int], masked: np.ndarray
    ) -> None:
        """Hold the masked plane `masked` (modified here): its cells inside the mask only,
        when :func:`_unpack` makes it whole again bit for bit, else a whole copy."""
        inside = masked[self.mask]
        masked[self.mask] = np.float32(np.nan)
        if np.array_equal(masked.view(np.uint32), self._nan.view(np.uint32)):
            planes[key] = inside
        else:  # a NaN of other bits beyond the mask: held whole (not a view of a larger array)
            masked[self.mask] = inside
            planes[key] = masked if masked.base is None else masked.copy()

    def set_deposition(self, ip: int, flux: np.ndarray) -> None:
        """Deposition map of pollutant `ip` (``(ny, nx)`` [ug m-2 yr-1]), masked; a no-op
        when the year writes no deposition map."""
        if self.deposition is not None:
            np.multiply(flux, self._keep, out=self.deposition[0, ip], casting="same_kind")

    def set_no2(
        self,
        ip: int,
        total: np.ndarray,
        ratio: np.ndarray,
        nox_by_sector: np.ndarray | None,
        shares: np.ndarray | None = None,
    ) -> None:
        """NO2 maps: its total, and each sector's NOx contribution times its NO2/NOx ratio
        ``f_s + (1 − f_s) ratio`` (`shares` f_s, 0 when not given)."""
        np.multiply(total, self._keep, out=self.concentration[0, ip], casting="same_kind")
        if self._contribution is not None and nox_by_sector is not None:
            f = np.zeros(len(nox_by_sector)) if shares is None else shares
            # sector_no2_ratio(f, ratio) × NOx_s computed one plane at a time in one float64
            # scratch plane: the same operations, so the same bits, without three
            # sector-sized float64 temporaries (0.85 GB at 100 m on the sample)
            scratch = np.empty(nox_by_sector.shape[1:], dtype=np.float64)
            for s, f_s in enumerate(np.asarray(f, dtype=np.float64)):
                np.multiply(1.0 - f_s, ratio, out=scratch)
                scratch += f_s
                scratch *= nox_by_sector[s]
                self.set_contribution_plane(ip, s, scratch)

    def finish_emission(
        self,
        n_dispersed: int,
        stack_rows: np.ndarray,
        stack_cols: np.ndarray,
        stack_sector: Sequence[int],
        stack_emission: np.ndarray,
        emission: Iterable[Iterable[np.ndarray] | None],
    ) -> None:
        """Keep the emission as written: blanked beyond the mask (NO2's, not emitted, NaN),
        the stacks added.

        Parameters
        ----------
        n_dispersed : int
            The first `n_dispersed` pollutants are emitted; the others (NO2) are NaN.
        stack_rows, stack_cols : numpy.ndarray
            Cell of each stack.
        stack_sector : sequence of int
            Sector index of each stack.
        stack_emission : numpy.ndarray
            ``(dispersed pollutant, stack)`` [t yr-1].
        emission : iterable of iterables of numpy.ndarray
            For each dispersed pollutant in turn, its ``(ny, nx)`` planes [t yr-1] sector by
            sector on the whole grid (a ``(sector, ny, nx)`` array, or
            :func:`trajectoire.trajectory.basis.sector_emissions`: a plane need only be
            valid until the next is asked for; none is modified), or None for a pollutant
            already kept (:meth:`keep_emission`: a run keeps each pollutant's planes while
            it holds them, and forms here only those it held in other units). A plane of +0
            in every cell of the mask, with no NaN beyond it and no stack adding a bit
            other than ±0 inside the mask, is the constant plane, not held. A plane is read
            once (:func:`trajectoire._kernels.planes.masked_inside`), and only its cells
            inside the mask are kept, the stacks added there; a plane with a NaN beyond the
            mask takes numpy's blanking multiplication (whose NaN bits decide what is held).
        """
        for ip, by_sector in enumerate(itertools.islice(emission, n_dispersed)):
            if by_sector is not None:
                self.keep_emission(ip, stack_rows, stack_cols, stack_sector,
                                   stack_emission[ip], by_sector)  # fmt: skip
        # a pollutant beyond the emitted ones is NaN whatever was kept for it before
        for key in [k for k in self._written if k[1] >= n_dispersed]:
            del self._written[key]
        self._n_dispersed = n_dispersed

    def keep_emission(
        self,
        ip: int,
        stack_rows: np.ndarray,
        stack_cols: np.ndarray,
        stack_sector: Sequence[int],
        stack_emission: np.ndarray,
        planes: Iterable[np.ndarray | tuple[np.ndarray, bool]],
    ) -> None:
        """Keep dispersed pollutant `ip`'s emission as :meth:`finish_emission` does (the same
        planes, bit for bit), before it: `stack_emission` is ``(stack,)`` [t yr-1], `planes`
        its ``(ny, nx)`` planes sector by sector (each read once when it is given, so that
        a generator may form them one at a time; not modified, copied where held), the
        other arguments as for :meth:`finish_emission`, which closes the emission
        (:meth:`written_emission` is an error before it). A plane may come as
        ``(plane, plus_zero)``: ``plus_zero`` True says that it holds +0 in every cell (the
        caller knows it, e.g. a plane
        :func:`trajectoire.trajectory.basis.emission_planes` filled), and it is not read."""
        written = self.mask[stack_rows, stack_cols] if len(stack_rows) else np.zeros(0, bool)
        sectors = np.asarray(stack_sector, dtype=int)[written]
        rows, cols = stack_rows[written], stack_cols[written]
        # each stack's place among the cells held (the mask's cells, flat, increasing)
        held_at = np.searchsorted(self._inside, rows * self.mask.shape[1] + cols)
        q_all = np.asarray(stack_emission)[written]
        scratch: np.ndarray | None = None  # numpy's path: a plane with a NaN beyond the mask
        for s, given in enumerate(planes):
            plane, plus_zero = given if isinstance(given, tuple) else (given, False)
            self._written.pop((s, ip), None)
            at = sectors == s
            q = q_all[at].astype(np.float32)
            inside: np.ndarray | None
            if plus_zero:
                # what the gather would give: +0 inside, nothing beyond to blank but +0
                inside, all_zero = np.zeros(self._inside.size, dtype=np.float32), True
            else:
                inside, all_zero = self._gather(np.asarray(plane, dtype=np.float32))
            if inside is not None:
                if all_zero and (q == 0).all():
                    # +0 in the mask and stacks adding ±0 there (+0 + ±0 is +0): the
                    # constant plane once blanked
                    continue
                if at.any():  # the stacks added in their order, in float32, as before
                    np.add.at(inside, held_at[at], q)
                self._written[(s, ip)] = inside
                continue
            # one scratch plane, blanked in place: no fresh pages per plane
            if scratch is None:
                scratch = np.empty(self.mask.shape, dtype=np.float32)
            np.copyto(scratch, plane)
            scratch *= self._keep
            if at.any():
                np.add.at(scratch, (rows[at], cols[at]), q)
            self._hold(self._written, (s, ip), scratch[...])  # a view: copied if whole

    def written_emission(self) -> Any:
        """``(1, sector, pollutant, ny, nx)`` [t yr-1] as written (:meth:`finish_emission`,
        an error before it): a dask array of one chunk per plane (the constant planes
        shared)."""
        if self._n_dispersed is None:
            raise RuntimeError("YearMaps.written_emission: before finish_emission")
        n_s, n_p = self._n_planes
        first_nan = self._n_dispersed
        return self._assemble(n_s, n_p, self._written, lambda s, ip: ip >= first_nan)

    def territory_sums(self, weights: Any) -> np.ndarray:
        """The written emission planes (:meth:`finish_emission`, stacks in their cells)
        summed over the mask's cells with `weights`: ``(sector, pollutant, territory)``
        [t yr-1], float64; NaN for the pollutants not emitted (NO2).

        Parameters
        ----------
        weights : numpy.ndarray or scipy.sparse matrix
            ``(territory, cell inside the mask)``: each territory's share of the mask's
            cells, flat and in increasing order (``np.flatnonzero(mask)``).
        """
        if self._n_dispersed is None:
            raise RuntimeError("YearMaps.territory_sums: before finish_emission")
        n_s, n_p = self._n_planes
        out = np.zeros((n_s, n_p, weights.shape[0]))
        out[:, self._n_dispersed :] = np.nan
        for (s, ip), plane in self._written.items():  # the others: +0 inside the mask
            inside = plane if plane.ndim == 1 else plane.reshape(-1)[self._inside]
            out[s, ip] = weights @ inside.astype(np.float64)
        return out

    @property
    def contribution(self) -> np.ndarray | None:
        """``(1, sector, pollutant, ny, nx)`` [ug m-3] in a map year, else None: a dense copy
        of :meth:`written_contribution` (planes never set are the constant plane)."""
        planes = self.written_contribution()
        return None if planes is None else np.asarray(planes.compute(scheduler="synchronous"))

    def written_contribution(self) -> Any:
        """:attr:`contribution` as written: a dask array of one chunk per plane (the
        constant planes shared, nothing copied), or None outside map years."""
        if self._contribution is None:
            return None
        n_s, n_p = self._n_planes
        return self._assemble(n_s, n_p, self._contribution, lambda s, ip: False)

    def _assemble(
        self,
        n_s: int,
        n_p: int,
        planes: dict[tuple[int, int], np.ndarray],
        is_nan: Any,
    ) -> Any:
        """The dask array of the planes held, the others constant: a graph whose chunks are
        the planes themselves (``dask.array.from_array`` copied them), or a task making a
        plane held inside the mask whole (:func:`_unpack`)."""
        name = f"year-maps-{uuid.uuid4().hex}"
        graph: dict[tuple[Any, ...], Any] = {}
        for s, ip in itertools.product(range(n_s), range(n_p)):
            plane = planes.get((s, ip))
            if plane is None:
                plane = self._nan if is_nan(s, ip) else self._zero
            if plane.ndim == 1:  # the cells inside the mask: made whole when computed
                graph[name, 0, s, ip, 0, 0] = (_unpack, plane, self._inside, self.mask.shape)
            else:
                graph[name, 0, s, ip, 0, 0] = plane[None, None, None]
        ny, nx = self.mask.shape
        chunks = ((1,), (1,) * n_s, (1,) * n_p, (ny,), (nx,))
        return dask_array.Array(graph, name, chunks=chunks, dtype=np.float32)


def _unpack(inside: np.ndarray, at: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A plane held by :class:`YearMaps` as its cells inside the mask, whole:
    ``float32("nan")`` beyond the mask; ``(1, 1, 1, ny, nx)``.

    `at` holds the flat indices of the mask's cells, increasing (``YearMaps._inside``): an
    index assignment over a filled plane costs a quarter of a copy of the NaN plane and a
    boolean one (0.8 against 3.5 ms for a 100 m plane of the sample), the same bits."""
    plane = np.empty(shape, dtype=np.float32)
    plane.fill(np.float32(np.nan))
    plane.reshape(-1)[at] = inside
    return plane[None, None, None]


@dataclass
class BackgroundMaps:
    """A spatial background of one year (a regional model field, local part removed).

    Attributes
    ----------
    maps : numpy.ndarray
        ``(pollutant, ny, nx)`` [ug m-3].
    territory, exposure : numpy.ndarray
        ``(territory, pollutant)``: its area mean over each territory and its population-
        weighted mean [ug m-3].
    station : numpy.ndarray
        ``(station, pollutant)``: its value at each station's cell [ug m-3].
    clipped : sequence of float
        Share of the regional cells where the local part exceeded the field (clipped to 0).
    """

    maps: np.ndarray
    territory: np.ndarray
    exposure: np.ndarray
    station: np.ndarray
    clipped: Sequence[float]


def territory_totals(field: np.ndarray, fractions: np.ndarray, n: int) -> list[float]:
    """``Σ_c field(c) × fraction_t(c)`` for the first `n` territories (e.g. inhabitants)."""
    return [float((field * fractions[i]).sum()) for i in range(n)]


def _aggregate(
    values: np.ndarray, dims: tuple[str, ...], coords: dict[str, Any], long_name: str
) -> xr.DataArray:
    return xr.DataArray(values[None], dims=("year", *dims), coords=coords).assign_attrs(
        units="ug m-3", long_name=long_name
    )


#: Meanings of the flags of ``emission_method(year, sector, pollutant)``, a CF flag variable
#: (CF 1.8 §3.5): the value of a meaning is its position. The labels of
#: :data:`~trajectoire.trajectory.backcast.METHOD_LABELS` (``register`` labels stacks only:
#: never a sector's), then ``no_emission``: a (sector, pollutant) that emits nothing in any
#: year of the run, so that no method rebuilt anything.
EMISSION_METHOD_FLAGS: tuple[str, ...] = (*METHOD_LABELS, "no_emission")
#: what ``emission_method`` says beyond its flags (its ``comment`` attribute)
_EMISSION_METHOD_COMMENT = (
    "reference, anchor: an inventory of the year; interpolation: linear between the anchor "
    "inventories around the year, cell by cell; index, overlap, surrogate: the nearest anchor "
    "scaled by a trend series (overlap: an older series spliced on; surrogate: a driver such "
    "as population); extrapolation: the trend extended beyond the years of its series. NO2 "
    "takes the flags of NOx, from whose emission it is derived. docs/outputs.md"
)


def emission_method_flags(trajectory: xr.Dataset, pollutants: Sequence[str]) -> xr.DataArray:
    """The time-series method of every ``(year, sector, pollutant)``, as CF flags.

    The ``method`` labels of a rebuilt trajectory (:func:`trajectoire.trajectory.rebuild`),
    each coded by its position in :data:`EMISSION_METHOD_FLAGS`, except for the pairs whose
    ``total`` is 0 in every year of `trajectory`: those are ``no_emission``. The run writes
    each year's as ``emission_method`` (``docs/outputs.md``); the flags depend on the years
    of `trajectory` only, not on the years a run computes.

    Parameters
    ----------
    trajectory : xarray.Dataset
        ``method(year, sector, pollutant)`` (labels) and ``total(year, sector, pollutant)``
        [t yr-1]: a rebuilt trajectory, or its small variables.
    pollutants : sequence of str
        The output's pollutants, in order: those of `trajectory`, and ``NO2``, which is not
        emitted but formed from NOx (``docs/chemistry.md``) and takes NOx's flags.

    Returns
    -------
    xarray.DataArray
        ``emission_method(year, sector, pollutant)``, int8, with ``long_name``,
        ``flag_values`` (int8, as the variable), ``flag_meanings`` and ``comment``; no
        ``units`` (a flag variable has none).

    Raises
    ------
    trajectoire.MissingVariableError
        `trajectory` lacks ``method`` or ``total``.
    trajectoire.InputError
        A label that is not one of :data:`EMISSION_METHOD_FLAGS`, or a pollutant that
        `trajectory` lacks (NO2 without NOx).

    Examples
    --------
    >>> dims = ("year", "sector", "pollutant")
    >>> trajectory = xr.Dataset(
    ...     {"method": (dims, [[["index", "index"]], [["reference", "reference"]]]),
    ...      "total": (dims, [[[2.0, 0.0]], [[1.0, 0.0]]])},
    ...     coords={"year": [2017, 2018], "sector": ["F_RoadTransport"],
    ...             "pollutant": ["NOx", "SO2"]})
    >>> flags = emission_method_flags(trajectory, ["NOx", "SO2", "NO2"])
    >>> flags.sel(sector="F_RoadTransport").values.tolist()
    [[3, 8, 3], [0, 8, 0]]
    >>> [EMISSION_METHOD_FLAGS[v] for v in flags.sel(year=2017, sector="F_RoadTransport").values]
    ['index', 'no_emission', 'index']
    """
    missing = [v for v in ("method", "total") if v not in trajectory]
    if missing:
        raise MissingVariableError(
            f"emission_method_flags: the trajectory has no {missing}; give the dataset "
            "trajectoire.trajectory.rebuild returns (or its small variables)."
        )
    dims = ("year", "sector", "pollutant")
    labels = np.asarray(trajectory["method"].transpose(*dims).values).astype(str)
    unique, index = np.unique(labels, return_inverse=True)
    unknown = [str(u) for u in unique if u not in EMISSION_METHOD_FLAGS]
    if unknown:
        raise InputError(
            f"emission_method_flags: method labels {unknown} are not among "
            f"{list(EMISSION_METHOD_FLAGS)}."
        )
    codes = np.array([EMISSION_METHOD_FLAGS.index(str(u)) for u in unique], dtype=np.int8)
    flags = codes[index.reshape(labels.shape)]
    total = np.asarray(trajectory["total"].transpose(*dims).values)
    flags[:, ~(total != 0).any(axis=0)] = EMISSION_METHOD_FLAGS.index("no_emission")
    have = [str(p) for p in trajectory["pollutant"].values]
    source = ["NOx" if p == "NO2" and p not in have else str(p) for p in pollutants]
    lacking = [p for p, s in zip(pollutants, source, strict=True) if s not in have]
    if lacking:
        raise InputError(
            f"emission_method_flags: pollutants {lacking} are not in the trajectory (it has "
            f"{have}; NO2 takes the flags of NOx)."
        )
    return set_cf_attrs(
        xr.DataArray(
            flags[:, :, [have.index(s) for s in source]],
            dims=dims,
            coords={
                "year": trajectory["year"].values,
                "sector": trajectory["sector"].values,
                "pollutant": list(pollutants),
            },
        ),
        "emission_method",
        flag_values=np.arange(len(EMISSION_METHOD_FLAGS), dtype=np.int8),
        flag_meanings=" ".join(EMISSION_METHOD_FLAGS),
        comment=_EMISSION_METHOD_COMMENT,
    )


def year_dataset(
    year: int,
    grid: Grid,
    sectors: Sequence[str],
    pollutants: Sequence[str],
    territories: Sequence[str],
    origins: Sequence[str],
    station_ids: Sequence[str],
    maps: YearMaps,
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    background: Sequence[float] | BackgroundMaps,
    population_total: Sequence[float],
    calm_fraction: float | None,
    observed: np.ndarray | None = None,
    *,
    exposure_statistics: ExposureStatistics | None = None,
    population: np.ndarray | None = None,
    zone_exposure: ZoneExposure | None = None,
    deposition: np.ndarray | None = None,
    emission_method: xr.DataArray | None = None,
    territory_emission: np.ndarray | None = None,
) -> xr.Dataset:
    """The output variables of one year (a length-1 ``year`` dim), with CF attributes.

    Parameters
    ----------
    year : int
        The year.
    grid : Grid
        The run's grid.
    sectors, pollutants, territories, origins, station_ids : sequence of str
        Coordinates.
    maps : YearMaps
        The year's maps.
    sums : tuple of numpy.ndarray
        Territory, exposure and station aggregates ``(receptor, sector, origin, pollutant)``
        [ug m-3] (:class:`trajectoire.attribution.ReceptorSums`).
    background : sequence of float or BackgroundMaps
        Background of each pollutant [ug m-3]: one value, written ``background(year,
        pollutant)``, or maps, written ``background(year, pollutant, y, x)`` with what the
        receptors see of them (``territory_background``, ``exposure_background``,
        ``station_background``) and ``background_clipped_share``.
    population_total : sequence of float
        Inhabitants of each territory.
    calm_fraction : float or None
        Fraction of calm hours of the year; None when the meteorology does not give it.
    observed : numpy.ndarray, optional
        ``(station, pollutant)`` annual means observed at the stations [ug m-3] (NaN where
        none), written as ``station_observation`` beside ``station_concentration``.
    exposure_statistics : ExposureStatistics, optional
        The year's exposure quantiles and inhabitants above thresholds, written as
        ``exposure_quantile``, ``inhabitants_above`` and ``exposure_threshold``.
    population : numpy.ndarray, optional
        ``(ny, nx)`` inhabitants per cell in the year, written whole (not masked: its sum is
        the zones' population on the grid) as ``population(year, y, x)`` [1], float32.
    zone_exposure : ZoneExposure, optional
        Exposure inside and outside ``[inputs] exposure_zones``, written as
        ``zone_inhabitants``, ``zone_exposure`` and ``zone_inhabitants_above``.
    deposition : numpy.ndarray, optional
        ``(territory, pollutant)`` mass of the local sources deposited on each territory
        [t yr-1] (NaN for NO2), written as ``territory_deposition``; the maps of
        ``maps.deposition``, when it has them, are written as ``deposition``.
    emission_method : xarray.DataArray, optional
        The flags of :func:`emission_method_flags` on years that hold `year`, `sectors`
        and `pollutants` (selected by name): the year's are written as
        ``emission_method(year, sector, pollutant)``, beside ``emission``.
    territory_emission : numpy.ndarray, optional
        ``(territory, sector, pollutant)`` emission of each territory [t yr-1] (NaN for
        NO2), written as ``territory_emission``.

    Returns
    -------
    xarray.Dataset
    """
    gc = grid.coords()
    pols = list(pollutants)
    coords_g = {"year": [year], "sector": list(sectors), **gc}
    ds = xr.Dataset(attrs={"crs": grid.crs.to_string()})
    grid_dims = ("year", "sector", "pollutant", "y", "x")
    ds["emission"] = set_cf_attrs(
        xr.DataArray(
            maps.written_emission(), dims=grid_dims, coords={**coords_g, "pollutant": pols}
        ),
        "emission",
    )
    if emission_method is not None:
        ds["emission_method"] = _year_flags(emission_method, year, sectors, pols)
    if territory_emission is not None:
        ds["territory_emission"] = set_cf_attrs(
            xr.DataArray(
                np.asarray(territory_emission, dtype=float)[None],
                dims=("year", "territory", "sector", "pollutant"),
                coords={
                    "year": [year],
                    "territory": list(territories),
                    "sector": list(sectors),
                    "pollutant": pols,
                },
            ),
            "territory_emission",
        )
        ds["territory_emission"].attrs["comment"] = (
            "gridded sources: the emission of each cell times the territory's share of the "
            "cell (territory_fraction); each large stack counted whole in the territory its "
            "point lies in (the territory of origin of the attribution)"
        )
    ds["concentration"] = set_cf_attrs(
        xr.DataArray(
            maps.concentration,
            dims=("year", "pollutant", "y", "x"),
            coords={"year": [year], "pollutant": pols, **gc},
        ),
        "concentration",
    )
    contribution = maps.written_contribution()
    if contribution is not None:
        ds["contribution"] = set_cf_attrs(
            xr.DataArray(contribution, dims=grid_dims, coords={**coords_g, "pollutant": pols}),
            "contribution",
        )
    if deposition is not None:
        _add_deposition(ds, year, pols, territories, maps, deposition)
    seen = _add_background(ds, year, pols, grid, maps.mask, territories, station_ids, background)
    _add_aggregates(ds, year, sectors, pols, territories, origins, station_ids, sums, seen)
    if observed is not None and len(station_ids):
        ds["station_observation"] = xr.DataArray(
            np.asarray(observed, dtype=float)[None],
            dims=("year", "station", "pollutant"),
            coords={"year": [year], "station": list(station_ids), "pollutant": pols},
            attrs={
                "units": "ug m-3",
                "long_name": "annual mean concentration observed at the station",
            },
        )
    if exposure_statistics is not None:
        _add_exposure_statistics(ds, year, pols, territories, exposure_statistics)
    if zone_exposure is not None:
        _add_zone_exposure(ds, year, pols, territories, zone_exposure)
    if population is not None:
        ds["population"] = set_cf_attrs(
            xr.DataArray(
                np.asarray(population, dtype=np.float32)[None],
                dims=("year", "y", "x"),
                coords={"year": [year], **gc},
            ),
            "population",
        )
    ds["population_total"] = xr.DataArray(
        [list(population_total)],
        dims=("year", "territory"),
        coords={"year": [year], "territory": list(territories)},
        attrs={"units": "1", "long_name": "inhabitants of each territory"},
    )
    # NaN without a frequency table's calms (the attributes all the same: a run whose
    # first year has none would otherwise write the variable without units)
    ds["calm_fraction"] = xr.DataArray(
        [np.nan if calm_fraction is None else calm_fraction],
        dims="year",
        coords={"year": [year]},
        attrs={"units": "1", "long_name": "fraction of calm hours"},
    )
    return ds


def _year_flags(
    flags: xr.DataArray, year: int, sectors: Sequence[str], pollutants: list[str]
) -> xr.DataArray:
    """The flags of `year` on ``(year, sector, pollutant)``, sectors and pollutants in order."""
    on = {"year": [year], "sector": list(sectors), "pollutant": pollutants}
    return flags.sel(on).transpose("year", "sector", "pollutant")


def _add_deposition(
    ds: xr.Dataset,
    year: int,
    pols: list[str],
    territories: Sequence[str],
    maps: YearMaps,
    deposition: np.ndarray,
) -> None:
    """``deposition(year, pollutant, y, x)`` of a map year and ``territory_deposition``."""
    if maps.deposition is not None:
        ds["deposition"] = set_cf_attrs(
            xr.DataArray(
                maps.deposition,
                dims=("year", "pollutant", "y", "x"),
                coords=ds["concentration"].coords,
            ),
            "deposition",
        )
    ds["territory_deposition"] = set_cf_attrs(
        xr.DataArray(
            np.asarray(deposition, dtype=float)[None],
            dims=("year", "territory", "pollutant"),
            coords={"year": [year], "territory": list(territories), "pollutant": pols},
        ),
        "territory_deposition",
    )


#: units a run computes a particle-number species in (mass run units, see
#: :func:`trajectoire.species.run_scale`) -> (its own units, factor)
NUMBER_UNITS: dict[str, tuple[str, float]] = {
    "ug m-3": ("cm-3", 1.0),
    "t yr-1": ("yr-1", 1e18),
    "ug m-2 yr-1": ("m-2 yr-1", 1e6),
    "t": ("1", 1e18),
    "1": ("1", 1.0),
}
#: the pollutant dim of the variables of the particle-number species (named with
#: :data:`trajectoire.species.NUMBER_SUFFIX`)
NUMBER_DIM = "pollutant_number"


def split_number_species(
    ds: xr.Dataset,
    numbers: Sequence[str],
    *,
    native: Sequence[str] = ("emission", "territory_emission"),
    in_place: bool = False,
) -> xr.Dataset:
    """Move the particle-number species of `ds` to variables of their own.

    A NetCDF variable has one ``units``: the mass species stay on ``pollutant`` (``ug m-3``,
    ``t yr-1``...) and every variable ``X(..., pollutant, ...)`` gets a companion
    ``X_number(..., pollutant_number, ...)`` holding the number species (``UFP``) in their
    own units (:data:`NUMBER_UNITS`: ``cm-3``, ``yr-1``, ``m-2 yr-1``...), converted from
    the run units they were computed in (:func:`trajectoire.species.run_scale`).

    Parameters
    ----------
    ds : xarray.Dataset
        Variables on ``pollutant``, in run units.
    numbers : sequence of str
        The particle-number species among ``ds.pollutant``; empty: `ds` is returned as is.
    native : sequence of str, default ("emission", "territory_emission")
        Variables whose number species are already in their own units (the run writes
        the emission and its territory sums back unscaled, in ``yr-1``): only their
        ``units`` change.
    in_place : bool, default False
        Reorder the pollutant axis of `ds`'s gridded variables (those on ``y`` and ``x``
        held in writable numpy arrays) in their own memory, the number species last, and
        return views of them instead of copies (a map year's maps at 100 m are ~3 GB: the
        copies doubled the year's peak memory). `ds` must not be used afterwards: its
        gridded arrays no longer match its ``pollutant`` coordinate. The values returned
        are the same, bit for bit.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    trajectoire.UnitsError
        A float variable on ``pollutant`` whose units have no particle-number counterpart
        (it would mix the families).
    """
    numbers = [p for p in numbers if p in ds.get("pollutant", xr.DataArray([])).values]
    if not numbers:
        return ds
    mass = [str(p) for p in ds["pollutant"].values if p not in numbers]
    if in_place:
        ds = _numbers_last(ds, numbers)
    # the mass species are then a leading block of the pollutant axis: sliced, not copied
    leading = [str(p) for p in ds["pollutant"].values[: len(mass)]] == mass
    take_mass = {"pollutant": slice(0, len(mass))} if leading else None
    take_numbers = {"pollutant": slice(len(mass), None)} if leading else None
    out = ds.isel(take_mass) if take_mass else ds.sel(pollutant=mass)
    # added together: one assignment each aligned and merged the whole dataset again
    # (0.05 s of a year's CPU at 200 m and 100 m, 0.02 s together)
    added: dict[str, xr.DataArray] = {}
    for name, da in ds.data_vars.items():
        if "pollutant" not in da.dims:
            continue
        part = da.isel(take_numbers) if take_numbers else da.sel(pollutant=numbers)
        part = part.rename(pollutant=NUMBER_DIM)
        attrs = dict(da.attrs)
        if da.dtype.kind == "f" and "units" in attrs:
            if attrs["units"] not in NUMBER_UNITS:
                raise UnitsError(
                    f"output variable {name!r} in {attrs['units']!r} has no particle-number "
                    f"counterpart for {numbers}; expected one of {list(NUMBER_UNITS)}"
                )
            units, factor = NUMBER_UNITS[attrs["units"]]
            if factor != 1.0 and name not in native:
                part = (part * factor).astype(da.dtype)
            attrs["units"] = units
            attrs.pop("standard_name", None)
        if "long_name" in attrs:  # flags too (``emission_method_number``): no units, a name
            attrs["long_name"] = f"{attrs['long_name']} (particle number)"
        attrs.pop("no2_attribution", None)  # the rule of NO2, not a particle-number species
        _number_thresholds(str(name), part, attrs)
        part = part.copy(deep=False)  # its attributes replaced, not updated; data shared
        part.attrs = attrs
        added[f"{name}{NUMBER_SUFFIX}"] = part
    out = out.assign(added)
    out[NUMBER_DIM].attrs = {"long_name": "particle-number species (unit family 'number')"}
    return out


def _number_thresholds(name: str, part: xr.DataArray, attrs: dict[str, Any]) -> None:
    """The particle-number twin of ``exposure_threshold`` and ``inhabitants_above``: what
    their thresholds are (:data:`~trajectoire.assess.exposure.NUMBER_THRESHOLD_NOTES`: the
    WHO 2021 statement on ultrafine particles is a 24-hour value, not an annual mean)."""
    if name not in ("exposure_threshold", "inhabitants_above", "zone_inhabitants_above"):
        return
    if name == "exposure_threshold":
        attrs["long_name"] = "reference concentration (particle number)"
    labels = [str(t) for t in part["threshold"].values] if "threshold" in part.dims else []
    notes = [NUMBER_THRESHOLD_NOTES[t] for t in labels if t in NUMBER_THRESHOLD_NOTES]
    if notes:
        attrs["comment"] = "; ".join(notes)


def _numbers_last(ds: xr.Dataset, numbers: Sequence[str]) -> xr.Dataset:
    """`ds` with its pollutant axis reordered, the species `numbers` last (the others in
    their order): the gridded variables in writable numpy arrays reordered in their own
    memory (:func:`_permute_in_place`), the other variables copied."""
    pols = [str(p) for p in ds["pollutant"].values]
    order = [i for i, p in enumerate(pols) if p not in numbers]
    order += [i for i, p in enumerate(pols) if p in numbers]
    out = ds.copy(deep=False)
    replaced: dict[Hashable, xr.Variable] = {}
    for name, da in ds.variables.items():
        if "pollutant" not in da.dims or name == "pollutant":
            continue
        axis = da.dims.index("pollutant")
        data = da.data
        on_grid = da.dims[-2:] == ("y", "x")
        gridded = on_grid and isinstance(data, np.ndarray)
        if gridded and data.flags.writeable:
            _permute_in_place(data, axis, order)
            values = data
        elif on_grid and isinstance(data, dask_array.Array):  # YearMaps: reordered lazily
            # by slices joined along the axis, not by an index list: on chunk boundaries
            # the chunks stay views of the planes held (an index list copies each), so
            # the writer sees the constant planes shared (trajectoire.io.chunks.write_array)
            lead = (slice(None),) * axis
            values = dask_array.concatenate([data[(*lead, slice(i, i + 1))] for i in order], axis)
        else:
            values = np.take(np.asarray(data), order, axis=axis)
        replaced[name] = xr.Variable(da.dims, values, da.attrs, da.encoding)
    # the data variables replaced together, each where it stands (one merge, not one per
    # variable); coordinates on the pollutant axis (none in a run's year) one by one
    out = out.assign({k: v for k, v in replaced.items() if k in out.data_vars})
    for name in (k for k in replaced if k not in out.data_vars):
        out[name] = replaced[name]
    # replaced where it stands (assign_coords would move it last: the variables' order)
    out["pollutant"] = xr.Variable(
        "pollutant", [pols[i] for i in order], ds["pollutant"].attrs, ds["pollutant"].encoding
    )
    return out


def _permute_in_place(data: np.ndarray, axis: int, order: list[int]) -> None:
    """Reorder `data` along `axis` in place so that position ``i`` holds what was at
    ``order[i]``, following each cycle of the permutation with one slab of scratch."""
    index: list[Any] = [slice(None)] * data.ndim

    def slab(i: int) -> np.ndarray:
        index[axis] = i
        return data[tuple(index)]

    done = [False] * len(order)
    for start in range(len(order)):
        if done[start] or order[start] == start:
            done[start] = True
            continue
        saved = slab(start).copy()
        i = start
        while order[i] != start:
            slab(i)[...] = slab(order[i])
            done[i] = True
            i = order[i]
        slab(i)[...] = saved
        done[i] = True


#: cumulative counterparts of the yearly territory deposition: units per yearly units
_CUMULATIVE_UNITS = {"t yr-1": "t", "yr-1": "1"}


def cumulative_deposition(ds: xr.Dataset, *, on_gap: str = "raise") -> xr.Dataset:
    """Deposition on each territory accumulated since the first year of `ds`.

    ``territory_deposition_cumulative(year, territory, pollutant)`` [t] is the running sum
    over the years of ``territory_deposition`` [t yr-1 × 1 yr]: what the local sources have
    deposited on the territory from 1 January of the first year to 31 December of each
    year (``territory_deposition_cumulative_number`` [particles, units ``1``] for the
    particle-number species). Computed when the years are assembled, so that a resumed or
    parallel run gives the same; its attribute ``accumulated_since`` names the first year.

    Parameters
    ----------
    ds : xarray.Dataset
        All the years of a run (``year`` in increasing order), with ``territory_deposition``
        when the run deposits; without it an empty dataset is returned.
    on_gap : {"raise", "warn"}, default "raise"
        What a gap in the years does (a missing year cannot be accumulated): an error, or a
        :class:`~trajectoire.TrajectoireWarning` and an empty dataset (the run's assembly:
        a run of chosen years such as ``--years 1990,2000:2005`` writes everything else).

    Returns
    -------
    xarray.Dataset
        ``territory_deposition_cumulative`` (and its ``_number`` twin) on the years of `ds`;
        empty when `ds` has no deposition, or on a gap with ``on_gap="warn"``.

    Raises
    ------
    trajectoire.InputError
        The years are not consecutive (with ``on_gap="raise"``).
    """
    out = xr.Dataset()
    names = [n for n in ("territory_deposition", "territory_deposition_number") if n in ds]
    if not names:
        return out
    years = [int(y) for y in ds["year"].values]
    gaps = [a + 1 for a, b in zip(years, years[1:], strict=False) if b != a + 1]
    if gaps:
        msg = (
            f"territory_deposition_cumulative: the years {years[0]}..{years[-1]} miss "
            f"{gaps[0]} (and the years after it up to the next given); the cumulative "
            "deposition needs every year: run them all (trajectoire run without --years, "
            "or with a range that has no gap)."
        )
        if on_gap != "warn":
            raise InputError(msg)
        warnings.warn(msg + " It is not written.", TrajectoireWarning, stacklevel=2)
        return out
    for name in names:
        yearly = ds[name]
        total = yearly.cumsum("year", skipna=False)
        units = _CUMULATIVE_UNITS.get(str(yearly.attrs.get("units")), "")
        if not units:
            raise InputError(
                f"{name}: units {yearly.attrs.get('units')!r}; expected t yr-1 or yr-1"
            )
        attrs = set_cf_attrs(total, "territory_deposition_cumulative").attrs
        attrs["units"] = units
        if name.endswith(NUMBER_SUFFIX):
            attrs["long_name"] = f"{attrs['long_name']} (particle number)"
        attrs["accumulated_since"] = years[0]
        attrs["comment"] = (
            f"running sum of {name} [{yearly.attrs.get('units')}] x 1 yr over the years "
            f"{years[0]}..year (each year's deposition counted as a full year)"
        )
        cum = name.replace("territory_deposition", "territory_deposition_cumulative", 1)
        out[cum] = total.assign_attrs(attrs)
    return out


def with_no2_attribution(
    ds: xr.Dataset, year: int, sectors: Sequence[str], shares: np.ndarray
) -> xr.Dataset:
    """Write the NO2 attribution rule into the contribution variables' attributes and the
    year's f-NO2 of each sector as ``no2_primary_fraction(year, sector)``."""
    contributions = ("contribution", "territory_contribution", "exposure_contribution")
    for name in (*contributions, "station_contribution"):
        if name in ds:
            ds[name].attrs["no2_attribution"] = NO2_ATTRIBUTION_RULE
    ds["no2_primary_fraction"] = xr.DataArray(
        np.asarray(shares, dtype=float)[None],
        dims=("year", "sector"),
        coords={"year": [year], "sector": list(sectors)},
        attrs={
            "units": "1",
            "long_name": "share of the sector's NOx emitted directly as NO2 (f-NO2)",
            "no2_attribution": NO2_ATTRIBUTION_RULE,
        },
    )
    return ds


def _add_exposure_statistics(
    ds: xr.Dataset,
    year: int,
    pols: list[str],
    territories: Sequence[str],
    stats: ExposureStatistics,
) -> None:
    """``exposure_quantile``, ``inhabitants_above`` and the ``exposure_threshold`` values."""
    base = {"year": [year], "territory": list(territories), "pollutant": pols}
    ds["exposure_quantile"] = set_cf_attrs(
        xr.DataArray(
            stats.quantile[None],
            dims=("year", "territory", "pollutant", "quantile"),
            coords={**base, "quantile": list(stats.quantiles)},
        ),
        "exposure_quantile",
    )
    labels = list(stats.threshold_labels)
    ds["inhabitants_above"] = set_cf_attrs(
        xr.DataArray(
            stats.above[None],
            dims=("year", "territory", "pollutant", "threshold"),
            coords={**base, "threshold": labels},
        ),
        "inhabitants_above",
    )
    ds["exposure_threshold"] = set_cf_attrs(
        xr.DataArray(
            stats.threshold_values,
            dims=("threshold", "pollutant"),
            coords={"threshold": labels, "pollutant": pols},
        ),
        "exposure_threshold",
    )


def _add_zone_exposure(
    ds: xr.Dataset, year: int, pols: list[str], territories: Sequence[str], z: ZoneExposure
) -> None:
    """``zone_inhabitants``, ``zone_exposure``, ``zone_inhabitants_above`` (zone = inside,
    outside the exposure zones)."""
    base = {"year": [year], "territory": list(territories), "zone": list(ZONE_LABELS)}
    where = "the territory's inhabitants {} the zones of [inputs] exposure_zones"
    ds["zone_inhabitants"] = xr.DataArray(
        z.inhabitants[None],
        dims=("year", "territory", "zone"),
        coords=base,
        attrs={"units": "1", "long_name": where.format("inside / outside")},
    )
    ds["zone_exposure"] = xr.DataArray(
        z.mean[None],
        dims=("year", "territory", "zone", "pollutant"),
        coords={**base, "pollutant": pols},
        attrs={
            "units": "ug m-3",
            "long_name": "population-weighted mean concentration of "
            + where.format("inside / outside"),
        },
    )
    ds["zone_inhabitants_above"] = xr.DataArray(
        z.above[None],
        dims=("year", "territory", "zone", "pollutant", "threshold"),
        coords={**base, "pollutant": pols, "threshold": list(z.threshold_labels)},
        attrs={
            "units": "1",
            "long_name": where.format("inside / outside")
            + " living where the annual mean is strictly above exposure_threshold",
        },
    )


def _add_background(
    ds: xr.Dataset,
    year: int,
    pols: list[str],
    grid: Grid,
    mask: np.ndarray,
    territories: Sequence[str],
    station_ids: Sequence[str],
    background: Sequence[float] | BackgroundMaps,
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """``background`` (and, for maps, what the receptors see of it); returns the background
    of the territory means, of the exposure and of the stations."""
    if not isinstance(background, BackgroundMaps):
        bgv = np.array([list(background)], dtype=float)
        ds["background"] = set_cf_attrs(
            xr.DataArray(
                bgv, dims=("year", "pollutant"), coords={"year": [year], "pollutant": pols}
            ),
            "background",
        )
        flat = xr.DataArray(bgv[0], dims="pollutant", coords={"pollutant": pols})
        return flat, flat, flat
    field = np.where(mask, background.maps, np.nan).astype(np.float32)[None]
    coords = {"year": [year], "pollutant": pols}
    ds["background"] = set_cf_attrs(
        xr.DataArray(
            field, dims=("year", "pollutant", "y", "x"), coords={**coords, **grid.coords()}
        ),
        "background",
    )
    ds["background_clipped_share"] = xr.DataArray(
        [list(background.clipped)],
        dims=("year", "pollutant"),
        coords=coords,
        attrs={
            "units": "1",
            "long_name": "share of regional cells where the local part "
            "exceeded the regional field (background clipped to 0)",
        },
    )
    seen = []
    for name, values, dim, labels, what in (
        ("territory_background", background.territory, "receptor", territories, "area mean"),
        (
            "exposure_background",
            background.exposure,
            "receptor",
            territories,
            "population-weighted mean",
        ),
        ("station_background", background.station, "station", station_ids, "value at the cell"),
    ):
        da = xr.DataArray(
            np.asarray(values, dtype=float),
            dims=(dim, "pollutant"),
            coords={dim: list(labels), "pollutant": pols},
        )
        seen.append(da)
        # as territory_concentration (receptor) and exposure (territory)
        out = da.expand_dims(year=[year])
        if name == "exposure_background":
            out = out.rename({"receptor": "territory"})
        ds[name] = out.assign_attrs(
            units="ug m-3", long_name=f"regional background (local part removed): {what}"
        )
    return seen[0], seen[1], seen[2]


def _add_aggregates(
    ds: xr.Dataset,
    year: int,
    sectors: Sequence[str],
    pols: list[str],
    territories: Sequence[str],
    origins: Sequence[str],
    station_ids: Sequence[str],
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    background: tuple[xr.DataArray, xr.DataArray, xr.DataArray],
) -> None:
    """Receptor aggregates: by sector and origin, and their totals with the background."""
    agg_terr, agg_exp, agg_sta = sums
    by = ("sector", "origin", "pollutant")
    rest: dict[str, Any] = {"sector": list(sectors), "origin": list(origins), "pollutant": pols}
    ac = {"year": [year], "receptor": list(territories), **rest}
    terr_c = _aggregate(
        agg_terr,
        ("receptor", *by),
        ac,
        "territory mean concentration due to each sector and territory of origin",
    )
    exp_c = _aggregate(
        agg_exp,
        ("receptor", *by),
        ac,
        "population-weighted mean concentration due to each sector and territory of origin",
    )
    ds["territory_contribution"] = terr_c
    ds["exposure_contribution"] = exp_c
    bg_terr, bg_exp, bg_sta = background
    ds["territory_concentration"] = (terr_c.sum(("sector", "origin")) + bg_terr).assign_attrs(
        units="ug m-3",
        long_name="area-weighted mean concentration over each territory, background included",
    )
    exposure = (exp_c.sum(("sector", "origin")) + bg_exp).rename({"receptor": "territory"})
    ds["exposure"] = set_cf_attrs(exposure, "exposure")
    if len(station_ids):
        st_c = _aggregate(
            agg_sta,
            ("station", *by),
            {"year": [year], "station": list(station_ids), **rest},
            "concentration at the station's cell due to each sector and territory of origin",
        )
        ds["station_contribution"] = st_c
        ds["station_concentration"] = (st_c.sum(("sector", "origin")) + bg_sta).assign_attrs(
            units="ug m-3",
            long_name="modelled concentration at the station's cell, background included",
        )


def static_dataset(
    grid: Grid,
    territories: Sequence[str],
    fractions: np.ndarray,
    mask: np.ndarray,
    stations: pd.DataFrame,
) -> xr.Dataset:
    """Year-independent output variables: territory fractions, the written mask, stations.

    Parameters
    ----------
    grid : Grid
        The run's grid.
    territories : sequence of str
        Territory ids.
    fractions : numpy.ndarray
        ``(territory, ny, nx)`` share of each cell inside each territory [1] (extra layers,
        such as the rest of the grid, are not written).
    mask : numpy.ndarray
        ``(ny, nx)`` bool: cells written.
    stations : pandas.DataFrame
        ``station_id``, ``x``, ``y`` [m].

    Returns
    -------
    xarray.Dataset
    """
    gc = grid.coords()
    ds = xr.Dataset(attrs={"crs": grid.crs.to_string()})
    ds["territory_fraction"] = xr.DataArray(
        fractions[: len(territories)].astype(np.float32),
        dims=("territory", "y", "x"),
        coords={"territory": list(territories), **gc},
        attrs={"units": "1", "long_name": "share of each cell inside each territory"},
    )
    ds["mask"] = xr.DataArray(
        mask.astype(np.int8),
        dims=("y", "x"),
        coords=gc,
        attrs={
            "long_name": "cells written (within the buffer of a territory)",
            "flag_values": np.array([0, 1], dtype=np.int8),
            "flag_meanings": "masked written",
        },
    )
    if len(stations):
        ids = stations["station_id"].astype(str).tolist()
        for axis in ("x", "y"):
            ds[f"station_{axis}"] = xr.DataArray(
                stations[axis].to_numpy(float),
                dims="station",
                coords={"station": ids},
                attrs={"units": "m"},
            )
    return ds


def evaluation_variables(ds: xr.Dataset) -> xr.Dataset:
    """The evaluation table of an assembled output, from its station variables.

    Computed once every year is assembled (FAIRMODE's annual MQI is a network statistic of
    each year's means): ``evaluation(year, pollutant, statistic)`` and
    ``station_mqi(year, station, pollutant)``
    (:func:`trajectoire.assess.evaluation.evaluate_stations`) from ``station_concentration``
    and ``station_observation``.

    Parameters
    ----------
    ds : xarray.Dataset
        The output's small variables (loaded).

    Returns
    -------
    xarray.Dataset
        The two variables, or an empty dataset when the output has no observation.
    """
    names = ("station_concentration", "station_observation")
    if any(n not in ds for n in names) or not ds.sizes.get("station", 0):
        return xr.Dataset()
    if not bool(ds["station_observation"].notnull().any()):
        return xr.Dataset()
    return evaluate_stations(ds["station_concentration"], ds["station_observation"])


#: Labels of the ``stage`` dim of ``fusion_skill``: the model at the stations, and the
#: leave-one-out fused value.
FUSION_STAGES: tuple[str, str] = ("model", "fused")


def fusion_targets(ds: xr.Dataset, min_stations: int) -> dict[tuple[int, int], int]:
    """The maps of an assembled output that can be fused with its stations.

    Parameters
    ----------
    ds : xarray.Dataset
        The output's small variables (loaded): ``station_observation`` and
        ``station_concentration`` ``(year, station, pollutant)``.
    min_stations : int
        Fewest stations with both an observation and a modelled value.

    Returns
    -------
    dict
        ``{(year index, pollutant index): number of stations}`` of every (year, pollutant)
        with at least one observation, those below `min_stations` included (the caller
        says which it skips).
    """
    names = ("station_concentration", "station_observation")
    if any(n not in ds for n in names) or not ds.sizes.get("station", 0):
        return {}
    dims = ("year", "station", "pollutant")
    both = ds["station_observation"].notnull() & ds["station_concentration"].notnull()
    n = both.transpose(*dims).sum("station").values
    return {(int(i), int(j)): int(n[i, j]) for i, j in zip(*np.nonzero(n), strict=True)}


class FusedMap(NamedTuple):
    """One fused map of a run (:func:`fuse_map`) and what it was made from."""

    #: the fused map ``(y, x)`` [units of the model], NaN where the model map is masked
    fused: np.ndarray
    #: the skill ``(stage, statistic)`` (:data:`FUSION_STAGES`, :data:`EVALUATION_STATISTICS`)
    skill: np.ndarray
    #: the observed stations the fusion used, ids as text
    used: list[str]
    #: of those, the stations on a masked cell, whose model value came from
    #: ``station_concentration`` (they inform the unmasked cells near them)
    on_masked_cells: list[str]
    #: observed stations left out: no modelled value there (``station_concentration`` NaN)
    left_out: list[str]


def fuse_map(
    model: xr.DataArray,
    observed: xr.DataArray,
    stations: pd.DataFrame,
    pollutant: str,
    options: dict[str, Any],
    modelled: xr.DataArray | None = None,
) -> FusedMap:
    """One fused map of a run and its leave-one-out skill.

    :func:`trajectoire.assess.fuse` and :func:`trajectoire.assess.cross_validate` with the
    same options, the model read at the station's cell (``sampling="nearest"``, as the
    evaluation does); the skill is the evaluation table (:func:`evaluate_stations`) of the
    model at the stations and of the leave-one-out fused values.

    A station in a cell that the written map masks (beyond the territories' buffer) still
    has a modelled value, ``station_concentration`` (`modelled`): the value of its cell, as
    the run computes it from the receptor sums. That value is put in the station's cell
    before the fusion, so that the station informs the unmasked cells near it (kriging and
    IDW carry its residual over the mask's edge) and counts in ``fusion_skill`` as it
    counts in ``evaluation``; the fused map is then masked where the model map is. Only an
    observed station without a modelled value (`modelled` NaN) is left out, and named.

    Parameters
    ----------
    model : xarray.DataArray
        ``(y, x)`` concentration of one year and pollutant, with ``units`` (NaN: masked).
    observed : xarray.DataArray
        ``(station,)`` annual means observed, with ``units``; NaN stations are left out.
    stations : pandas.DataFrame
        ``station_id``, ``x``, ``y`` [m].
    pollutant : str
        Pollutant id (FAIRMODE parameters of the MQI rows).
    options : dict
        Keywords of :func:`~trajectoire.assess.fuse` (``[output] fusion_*``).
    modelled : xarray.DataArray, optional
        ``(station,)`` modelled concentration at the station's cell, in the units of
        `model` (the run's ``station_concentration``); None: read from `model` only (a
        station on a masked cell is then left out, and named in ``left_out``).

    Returns
    -------
    FusedMap
        The fused map ``(y, x)`` (NaN where the model is), the skill ``(stage,
        statistic)`` and the ids of the stations used, of those on masked cells, and of
        those left out.

    Raises
    ------
    trajectoire.TrajectoireError
        What :func:`~trajectoire.assess.fuse` raises (co-located stations, too few for a
        variogram fit, a model <= 0 in multiplicative mode...).
    """
    model = model.transpose("y", "x")
    obs = observed.reset_coords(drop=True)
    obs = obs.where(obs.notnull(), drop=True)
    ids = [str(s) for s in obs["station"].values]
    listed = stations.set_index(stations["station_id"].astype(str))
    unknown = [s for s in ids if s not in listed.index]
    if unknown:
        raise InputError(
            f"fuse_map: observed stations {rows_preview(unknown)} are not in the stations "
            "table; expected every observed station with its x, y."
        )
    keep = listed.loc[ids].reset_index(drop=True)
    # the cell of each station as the fusion reads it (nearest), and the map's value there
    cells = model.copy(data=np.arange(model.size, dtype=float).reshape(model.shape))
    cell = np.asarray(sample_at_stations(cells, keep, method="nearest").values, dtype=np.int64)
    rows, cols = np.unravel_index(cell, model.shape)
    at_map = np.asarray(model.values, dtype=float)[rows, cols]
    if modelled is None:
        at_station = at_map
    else:
        by_id = modelled.reset_coords(drop=True)
        by_id = by_id.assign_coords(station=[str(s) for s in by_id["station"].values])
        at_station = np.asarray(by_id.reindex(station=ids).values, dtype=float)
    lost = [s for k, s in enumerate(ids) if not np.isfinite(at_station[k])]
    masked = [k for k, s in enumerate(ids) if s not in lost and not np.isfinite(at_map[k])]
    on_masked = [ids[k] for k in masked]
    filled = model
    if masked:  # each masked station's cell gets the station's modelled value
        values = np.array(model.values, dtype=float)
        values[rows[masked], cols[masked]] = at_station[masked]
        filled = model.copy(data=values)
    used = [s for s in ids if s not in lost]
    obs = obs.sel(station=[s for s in obs["station"].values if str(s) in used])
    how = {"sampling": "nearest", **options}
    keep = keep[keep["station_id"].astype(str).isin(used)]
    fused = fuse(filled, obs, keep, **how)["fused"].transpose("y", "x")
    fused = fused.where(model.transpose("y", "x").notnull())
    cv = cross_validate(filled, obs, keep, **how)
    skill = np.full((len(FUSION_STAGES), len(EVALUATION_STATISTICS)), np.nan)
    for k, name in enumerate(("model_at_station", "loo_prediction")):
        pair = [
            da.expand_dims(year=[0], pollutant=[pollutant]).transpose(
                "year", "station", "pollutant"
            )
            for da in (cv[name].reset_coords(drop=True), obs)
        ]
        table = evaluate_stations(*pair)["evaluation"]
        skill[k] = table.isel(year=0, pollutant=0).values
    return FusedMap(np.asarray(fused.values), skill, used, on_masked, lost)


def fusion_skill_template(years: Any, pollutants: Any) -> xr.DataArray:
    """``fusion_skill(year, pollutant, stage, statistic)``, all NaN, with its attributes."""
    shape = (len(years), len(pollutants), len(FUSION_STAGES), len(EVALUATION_STATISTICS))
    return xr.DataArray(
        np.full(shape, np.nan),
        dims=("year", "pollutant", "stage", "statistic"),
        coords={
            "year": np.asarray(years),
            "pollutant": np.asarray(pollutants),
            "stage": list(FUSION_STAGES),
            "statistic": list(EVALUATION_STATISTICS),
        },
        name="fusion_skill",
        attrs={
            "units": "1",
            "long_name": "leave-one-out skill of the fused maps at the stations, before "
            "(stage model) and after (stage fused) the fusion",
            "comment": "rows as in evaluation (docs/evaluation.md); stage model: the "
            "stations of evaluation (those with an observation and a station_concentration, "
            "on masked cells too: their station_concentration is the model there), so its n "
            "is evaluation's; stage fused: each station predicted from the others "
            "(docs/fusion.md), n smaller by the stations no other predicts. NaN where a map "
            "is not fused.",
        },
    )
