"""Batch runs: the whole chain year by year, resumable, serial or on a Dask cluster.

:func:`run` drives a *pipeline* (by default :mod:`trajectoire.pipeline`) that follows the
:class:`Pipeline` protocol: one heavy, year-independent :meth:`~Pipeline.prepare`, then one
independent :meth:`~Pipeline.compute_year` per year. Each year is written to its own part
file ``OUT.nc.parts/year-YYYY.nc`` (atomically: temporary file, fsync, rename), so a run
killed at any moment loses at most the years in progress; ``resume=True`` reuses the
complete parts and computes only the missing years. Once every year exists, the parts are
assembled lazily (one chunk at a time, never all years in memory) into ``OUT.nc.tmp``,
which is renamed to ``OUT.nc``; the parts directory is then removed.

Years are independent tasks: ``workers=N`` starts a :class:`distributed.LocalCluster` of
``N`` single-threaded worker processes, ``scheduler=ADDRESS`` uses an existing
``dask.distributed`` cluster (its workers must see the output directory: a filesystem shared
with them). Each task computes one year and writes its part; the assembled output is
identical to that of a serial run. The prepared context is shared with the workers through
read-only memory-mapped files (:mod:`trajectoire.batch.shared`), and a local cluster starts
while the context is prepared.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import operator
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire._compile_notice import compile_notice
from trajectoire._kernels import cache_setting
from trajectoire._memory import (
    heap_kept,
    hold_heap,
    release_heap,
    trim_heap,
    trim_heap_if_grown,
)
from trajectoire._validate import env_threads, is_integer_number, rows_preview, year_ranges
from trajectoire._version import __version__
from trajectoire.batch.safety import (
    CHECKSUM_SUFFIX,
    lock_path_of,
    output_lock,
    part_checksum_state,
    write_part_checksum,
)
from trajectoire.batch.shared import (
    SharedContext,
    forget_context,
    new_context_folder,
    remove_shared,
    remove_stale,
    share_context,
)
from trajectoire.cf import set_cf_attrs, utc_stamp
from trajectoire.dispersion.convolution import fft_threads
from trajectoire.dispersion.depletion_rows import release as release_depletion
from trajectoire.dispersion.stack_terms import release as release_terms
from trajectoire.errors import ConfigError, InputError, TrajectoireError
from trajectoire.io.chunks import deflate_encoder, io_threads, verify_chunks
from trajectoire.io.config import RunConfig, load_config, parse_years
from trajectoire.io.netcdf import (
    check_writable,
    refuse_directory_name,
    signals_held,
    write_netcdf,
)
from trajectoire.io.outputs import (
    cumulative_deposition,
    evaluation_variables,
    fuse_map,
    fusion_skill_template,
    fusion_targets,
)
from trajectoire.trajectory.uncertainty import Uncertainty, propagate

__all__ = [
    "PART_COMPLETE_ATTR",
    "PART_HASH_ATTR",
    "Pipeline",
    "assemble",
    "check_numba_cache",
    "parts_dir_of",
    "run",
]

log = logging.getLogger(__name__)

#: Global attribute set to 1 in every finished part file.
PART_COMPLETE_ATTR = "trajectoire_part_complete"
#: Global attribute holding :meth:`RunConfig.config_hash` in every part file.
PART_HASH_ATTR = "trajectoire_config_hash"
_PART_KIND_ATTR = "trajectoire_part"
_STATIC = "static.nc"
#: The parts' HDF5 calls of this process's threads, one at a time: HDF5 as the wheels build
#: it is not thread-safe. Dask workers running as threads of one process write their parts
#: in turn, and a worker running in the client's process (a ``LocalCluster`` with
#: ``processes=False``) writes its parts while the client reads those done
#: (:class:`_PartsRead`): both take it (without it, such a run could end in a segmentation
#: fault, as one CI run of ``test_shared_context`` did).
_HDF5_LOCK = threading.Lock()
#: Dask chunks of the parts opened at assembly: whole maps (not the stored 128-cell tiles)
_LAZY = {"y": -1, "x": -1}


@runtime_checkable
class Pipeline(Protocol):
    """The concentration chain as the runner sees it (a module or an object).

    ``ctx`` is whatever :meth:`prepare` returns; it must be picklable, because a Dask run
    ships it to the workers (and a module pipeline must be importable there). In a Dask run
    the large NumPy arrays of a dataclass or dict context reach the workers as read-only
    memory maps (:func:`trajectoire.batch.shared.share_context`): :meth:`compute_year` must
    not write into them.

    A pipeline may also offer ``check_years(ctx, years)``, which the runner calls once
    prepared, with the years it is about to compute (those of ``--years``), before any is
    computed: it raises for a year whose inputs are missing (the package's pipeline: a
    year the background table lacks), so that narrowing the years is a fix.

    What the runner expects of the datasets:

    * :meth:`compute_year` returns every variable of one year with a length-1 ``year``
      dim holding that year, the grid's ``y`` (decreasing) and ``x`` cell-centre coords and
      the CRS in ``attrs["crs"]`` (else ``[grid] crs`` is used). Every year must have the
      same coordinates (``sector``, ``pollutant``, ``territory``... identical labels in the
      same order) and the same variables, except float variables that only some years
      have (``contribution`` outside the map years): they are NaN-filled elsewhere.
      Returning float32 arrays saves a conversion copy when the part is written.
    * :meth:`static_variables` holds the variables without ``year`` (population,
      territory fractions, station coordinates) on the same coordinates.
    * :meth:`global_attributes` values are strings, numbers or numeric lists (dicts and
      other lists are stored as JSON text); the runner's own attributes (``title``,
      ``history``, ``map_years``, ``trajectoire_config``...) take precedence, except
      ``trajectory_methods``, where the pipeline's value wins over the configured methods.
    * Deterministic results: a year computed twice (after ``--resume``, on another Dask
      worker) must give the same values, so that outputs are identical.
    """

    def prepare(self, config: RunConfig) -> Any:
        """Heavy, year-independent work (inventory, kernels...); returns the context."""
        ...

    def years(self, ctx: Any) -> list[int]:
        """The years this context can compute."""
        ...

    def compute_year(self, ctx: Any, year: int) -> xr.Dataset:
        """All variables of one year, with a length-1 ``year`` dim and grid coords y, x."""
        ...

    def static_variables(self, ctx: Any) -> xr.Dataset:
        """Year-independent variables (population, station coordinates...)."""
        ...

    def global_attributes(self, ctx: Any) -> dict[str, Any]:
        """Global attributes to add to the output (methods per sector...)."""
        ...


def _default_pipeline() -> Pipeline:
    try:
        module = importlib.import_module("trajectoire.pipeline")
    except ModuleNotFoundError as exc:
        if exc.name != "trajectoire.pipeline":
            raise
        raise RuntimeError(
            "trajectoire.pipeline is not available in this version: the concentration chain "
            "has not been installed. Pass pipeline=... to trajectoire.runner.run."
        ) from None
    return module


def parts_dir_of(out: str | Path) -> Path:
    """Directory of the per-year part files of output `out` (``OUT.nc.parts``)."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _part_path(parts: Path, year: int) -> Path:
    return parts / f"year-{int(year)}.nc"


# ---------------------------------------------------------------------- part files
def _part_state(path: Path, config_hash: str, year: int | None = None) -> str:
    """``"ok"``, ``"stale"`` (another configuration), ``"damaged"`` (its bytes changed since
    it was written), ``"broken"`` (unreadable, unfinished, without checksum, or holding
    another year than `year`, the one its name says) or ``"absent"``."""
    if not path.is_file():
        return "absent"
    import netCDF4

    try:
        with netCDF4.Dataset(path) as nc:
            complete = int(getattr(nc, PART_COMPLETE_ATTR, 0)) == 1
            stored = str(getattr(nc, PART_HASH_ATTR, ""))
            held = [int(v) for v in nc.variables["year"][:]] if year is not None else None
    except Exception:  # unreadable part: recompute it
        return "broken"
    if not complete or (year is not None and held != [int(year)]):
        return "broken"
    if stored != config_hash:
        return "stale"
    check = part_checksum_state(path)
    return "ok" if check == "ok" else "damaged" if check == "damaged" else "broken"


def _write_part(
    year: int | None,
    *,
    pipeline: Pipeline,
    ctx: Any,
    parts: Path,
    config_hash: str,
    dtype: str,
    crs: str = "EPSG:2154",
    significant_digits: int | None = None,
) -> str:
    """Compute one year (or the static variables when `year` is None) and write its part.

    `crs` is the grid's CRS from the configuration, used when the pipeline's dataset does
    not name one (``attrs["crs"]``). Parts are written with the output's own encoding
    (chunks, compression, quantisation), so that :func:`assemble` copies their compressed
    chunks into the output as they are.
    """
    ds, path = _compute_part(
        year, pipeline=pipeline, ctx=ctx, parts=parts, config_hash=config_hash, crs=crs
    )
    return _store_part(ds, path, dtype=dtype, significant_digits=significant_digits)


def _compute_part(
    year: int | None,
    *,
    pipeline: Pipeline,
    ctx: Any,
    parts: Path,
    config_hash: str,
    crs: str,
) -> tuple[xr.Dataset, Path]:
    """The dataset of one part and its path (nothing written)."""
    if year is None:
        ds = pipeline.static_variables(ctx)
        extra = pipeline.global_attributes(ctx)
        ds = ds.copy()
        ds.attrs = {**ds.attrs, **{str(k): v for k, v in extra.items()}}
        path = parts / _STATIC
        kind = "static"
    else:
        ds = pipeline.compute_year(ctx, int(year)).copy()
        _check_year_dataset(ds, int(year))
        path = _part_path(parts, int(year))
        kind = f"year {int(year)}"
    ds.attrs.setdefault("crs", crs)
    ds.attrs[PART_HASH_ATTR] = config_hash
    ds.attrs[PART_COMPLETE_ATTR] = 1
    ds.attrs[_PART_KIND_ATTR] = kind
    return ds, path


def _store_part(ds: xr.Dataset, path: Path, *, dtype: str, significant_digits: int | None) -> str:
    """Write one part atomically (the rename marks it complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a part found there is being recomputed (another configuration's, or broken: a
    # truncated file, which write_netcdf would refuse to replace as "no NetCDF")
    path.unlink(missing_ok=True)
    with _HDF5_LOCK:  # HDF5 is not thread-safe: threads write in turn
        write_netcdf(ds, path, dtype=dtype, significant_digits=significant_digits)
    write_part_checksum(path)  # last: a part without its checksum is recomputed on --resume
    log.debug("wrote part %s", path)
    return str(path)


def _check_year_dataset(ds: xr.Dataset, year: int) -> None:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"compute_year({year}) returned {type(ds).__name__}, not a Dataset")
    if "year" not in ds.dims or ds.sizes["year"] != 1 or int(ds["year"].values[0]) != year:
        raise ValueError(
            f"compute_year({year}) must return a Dataset with a length-1 'year' dim holding "
            f"{year}; got dims {dict(ds.sizes)}"
        )
    if "y" not in ds.dims or "x" not in ds.dims:
        raise ValueError(f"compute_year({year}) must return grid dims y, x; got {dict(ds.sizes)}")


# ---------------------------------------------------------------------- assembly
_BOOKKEEPING = {PART_COMPLETE_ATTR, _PART_KIND_ATTR, "history"}


def assemble(
    parts: Path,
    years: Sequence[int],
    out: str | Path,
    *,
    attrs: dict[str, Any],
    default_attrs: dict[str, Any] | None = None,
    dtype: str = "float32",
    significant_digits: int | None = None,
    fusion: dict[str, Any] | None = None,
    fusion_min_stations: int = 4,
    uncertainty: Uncertainty | None = None,
    preread: Mapping[Path, _PartRead] | None = None,
) -> Path:
    """Assemble the part files of `years` (and ``static.nc``) into the output `out`.

    The gridded variables with a ``year`` dim (``emission``, ``concentration``,
    ``contribution``) are copied chunk by chunk, compressed as they are in the parts
    (:func:`trajectoire.io.chunks.copy_chunks`): nothing is decoded or compressed again, and
    memory holds one chunk at a time. Years without a variable (``contribution`` outside the
    map years) store no chunk: readers get NaN there. The other variables are small (per
    territory, station, or year-independent); they are read from the parts and written
    whole. When the parts hold ``station_observation``, the evaluation of all the years
    (``evaluation``, ``station_mqi``: :func:`trajectoire.io.outputs.evaluation_variables`)
    is computed from them and written with the rest, in the same atomic write; so are the
    fused maps with `fusion` (``concentration_fused``, ``fusion_skill``: see
    :class:`_FusedMaps`), one map at a time.

    Parameters
    ----------
    parts : pathlib.Path
        Directory of the parts (``OUT.nc.parts``).
    years : sequence of int
        Years to assemble, in order; each needs its part.
    out : str or pathlib.Path
        Output NetCDF, written atomically.
    attrs : dict
        Global attributes of the output (they override the static part's, which hold the
        pipeline's :meth:`Pipeline.global_attributes`); a value None removes that attribute.
    default_attrs : dict, optional
        Global attributes used where neither `attrs` nor the static part set them.
    dtype : str, default "float32"
        Storage type of float variables.
    significant_digits : int, optional
        Lossy quantisation of the float variables (``[output] significant_digits``); the
        parts must have been written with the same value (the runner does).
    fusion : dict, optional
        Keywords of :func:`trajectoire.assess.fuse` (:meth:`OutputConfig.fusion_options`):
        fuse the maps of the (year, pollutant) with observations; None: no fusion.
    fusion_min_stations : int, default 4
        Fewest stations with an observation for a map to be fused.
    uncertainty : Uncertainty, optional
        The emissions' Monte Carlo settings (``[trajectory.uncertainty]``): the percentiles
        of the territory, exposure and station values are added
        (:func:`trajectoire.trajectory.uncertainty.propagate`, from every year's
        contributions); None: none.
    preread : mapping, optional
        Parts already read by the run as their years ended (:class:`_PartsRead`, keyed by
        path): not read again.

    Returns
    -------
    pathlib.Path
        `out`.
    """
    import dask
    import netCDF4

    paths = [_part_path(parts, y) for y in years]
    # netCDF-C keeps a chunk cache (16 MiB by default) per variable and open file: with every
    # year's part open at once it grows with the number of years. Only small variables are
    # read through it here, so the parts are opened with a 1 MiB one.
    cache = netCDF4.get_chunk_cache()
    netCDF4.set_chunk_cache(2**20, cache[1], cache[2])
    with ExitStack() as stack:
        # Ctrl-C / SIGTERM while xarray reads the parts waits until they are closed (at
        # stack.close() below): raised inside xarray's file lock, it left it held and the
        # closing hung (signals_held); the long chunk copies below stay interruptible
        stack.enter_context(signals_held())
        stack.callback(netCDF4.set_chunk_cache, *cache)
        opened, grids, names = _read_parts(paths, preread)
        static = xr.open_dataset(parts / _STATIC, engine="netcdf4", chunks=_LAZY)
        stack.callback(static.close)
        opened = _fill_missing_variables(opened)
        combined = xr.concat(
            opened,
            dim="year",
            data_vars="minimal",
            coords="minimal",
            compat="override",
            join="exact",
            combine_attrs="override",
        )
        for name, grid in grids.items():
            combined[name] = _template(grid, combined["year"])
        merged = xr.merge(
            [combined, static.drop_attrs(deep=False)],
            compat="override",
            join="exact",
            combine_attrs="override",
        )
        ordered = [v for v in names if v in merged.data_vars]
        ordered += [str(v) for v in merged.data_vars if v not in ordered]
        merged = merged[ordered]
        for var in merged.variables.values():
            var.encoding = {}
            var.attrs.pop("_FillValue", None)
        glob = dict(default_attrs or {})
        glob.update({k: v for k, v in static.attrs.items() if k not in _BOOKKEEPING})
        glob.update(attrs)
        glob = {k: v for k, v in glob.items() if v is not None}  # None: drop that attribute
        merged.attrs = glob
        copied = [str(n) for n in merged.data_vars if n in grids]
        # the static part's variables are read now, so that no part stays open in netCDF-C
        # while h5py reads it (two HDF5 libraries in one process must not share an open file)
        with dask.config.set(scheduler="synchronous"):
            small = merged.drop_vars(copied).load()
        templates = merged[copied]
        stack.close()
        # computed from every year's station values: the evaluation table (docs/evaluation.md)
        evaluation = evaluation_variables(small)
        _log_evaluation(evaluation)
        derived = xr.merge(
            [evaluation, cumulative_deposition(small, on_gap="warn")]
            + ([propagate(small, uncertainty)] if uncertainty is not None else [])
        )
        fused = _FusedMaps(small, templates, paths, fusion, fusion_min_stations)
        derived = xr.merge([derived, fused.templates()])
        final = xr.merge([small, templates, derived], compat="override", combine_attrs="override")[
            [*merged.data_vars, *derived.data_vars]
        ]
        final.attrs = glob
        # parts hold no all-NaN chunk, except those of quantised variables (netCDF-C wrote them)
        fill = {
            name: _chunk_copier(name, paths, drop_nan_chunks=significant_digits is not None)
            for name in copied
        }
        fill.update(fused.writers())  # after the copies: the maps, then their skill
        lossless = {name: {"significant_digits": None} for name in fused.writers()}
        write_netcdf(
            final,
            out,
            dtype=dtype,
            significant_digits=significant_digits,
            fill=fill,
            encoding_overrides=lossless,
        )
    return Path(out)


def _log_evaluation(evaluation: xr.Dataset) -> None:
    """Say, per pollutant, what the evaluation table's verdicts rest on (docs/evaluation.md):
    the years whose network of fewer than 10 stations misses the objective at some station
    while its MQI90 is <= 1 (the objective is then judged station by station), and the pairs
    with a value 0 that MG and VG leave out (FAC2 counts them outside the factor two)."""
    if "evaluation" not in evaluation:
        return
    table = evaluation["evaluation"]
    years = [int(y) for y in table["year"].values]
    for pol in table["pollutant"].values:
        t = table.sel(pollutant=pol)

        def row(stat: str, t: xr.DataArray = t) -> np.ndarray:
            return np.asarray(t.sel(statistic=stat).values, dtype=float)

        n, met, p90 = row("n"), row("n_mqo_met"), row("mqi_p90")
        with np.errstate(invalid="ignore"):
            small = (n > 0) & (n < 10) & (p90 <= 1.0) & (met < n)
            zero = row("n_below_threshold") > 0
        if small.any():
            k = np.flatnonzero(small)
            log.info(
                "evaluation: %s: the network of fewer than 10 stations misses the objective "
                "at some station in %s (stations meeting it: %s) although MQI90 <= 1: "
                "mqo_fulfilled = 0 there (FAIRMODE 90 %% principle: with fewer than 10 "
                "stations every station must meet it; attribute mqo_rule)",
                pol,
                _span([years[i] for i in k]),
                ", ".join(f"{int(met[i])} of {int(n[i])}" for i in k[:4])
                + (" ..." if len(k) > 4 else ""),
            )
        if zero.any():
            k = np.flatnonzero(zero)
            log.info(
                "evaluation: %s: MG and VG leave out the stations where the model or the "
                "observation is 0 (row n_below_threshold: %s in %s); FAC2 counts them "
                "outside the factor two",
                pol,
                ", ".join(f"{int(row('n_below_threshold')[i])} of {int(n[i])}" for i in k[:4])
                + (" ..." if len(k) > 4 else ""),
                _span([years[i] for i in k]),
            )


def _chunk_copier(name: str, paths: Sequence[Path], *, drop_nan_chunks: bool) -> Any:
    """Writer of variable `name` of the output from the parts `paths` (one year each)."""

    def copy(dset: Any) -> None:
        import h5py

        from trajectoire.io.chunks import copy_chunks

        for k, path in enumerate(paths):
            with h5py.File(path, "r") as src:
                if name in src:
                    offset = (k,) + (0,) * (dset.ndim - 1)
                    copy_chunks(src[name], dset, offset, drop_nan_chunks=drop_nan_chunks)

    return copy


class _FusedMaps:
    """``concentration_fused`` and ``fusion_skill`` of an output (``[output] fusion``).

    The maps to fuse are the (year, pollutant) with at least `min_stations` observed
    stations (:func:`trajectoire.io.outputs.fusion_targets`); the others are left NaN, with
    a log line. :meth:`writers` gives the :func:`write_netcdf` ``fill`` callables: the first
    reads each map from its part (one at a time), fuses it
    (:func:`trajectoire.io.outputs.fuse_map`) and writes it; the second writes the skill the
    first collected. A map whose fusion fails (co-located stations, a variogram that cannot
    be fitted...) is left NaN with a warning: the run's other outputs are kept.
    """

    def __init__(
        self,
        small: xr.Dataset,
        templates: xr.Dataset,
        paths: Sequence[Path],
        options: dict[str, Any] | None,
        min_stations: int,
    ) -> None:
        self.options = options
        self.paths = list(paths)
        self.small = small
        self.concentration = templates["concentration"] if "concentration" in templates else None
        found = {} if options is None else fusion_targets(small, min_stations)
        self.targets = [k for k, n in found.items() if n >= min_stations]
        if options is not None and self.concentration is not None:
            self._log_plan(found, min_stations)
        self.skill = (
            fusion_skill_template(small["year"].values, small["pollutant"].values)
            if self.active
            else None
        )

    @property
    def active(self) -> bool:
        """Whether the output gets the fusion variables (fusion asked, maps and stations)."""
        return (
            self.options is not None
            and self.concentration is not None
            and "station_observation" in self.small
            and "station_x" in self.small
        )

    def _log_plan(self, found: dict[tuple[int, int], int], min_stations: int) -> None:
        years, pols = self.small["year"].values, self.small["pollutant"].values
        for ip, pol in enumerate(pols):
            few = [int(years[iy]) for (iy, jp), n in found.items() if jp == ip and n < min_stations]
            n_ok = sum(1 for iy, jp in self.targets if jp == ip)
            if few:
                log.info(
                    "fusion: %s not fused in %s (fewer than [output] fusion_min_stations = %d "
                    "stations with an observation)",
                    pol,
                    _span(few),
                    min_stations,
                )
            if n_ok:
                log.info("fusion: %s fused in %d year(s)", pol, n_ok)
            elif not few:
                log.info("fusion: %s has no observation: not fused", pol)

    def templates(self) -> xr.Dataset:
        """The two variables, NaN, as :func:`write_netcdf` defines them."""
        if not self.active or self.concentration is None or self.skill is None:
            return xr.Dataset()
        fused = set_cf_attrs(xr.full_like(self.concentration, np.nan), "concentration_fused")
        fused.attrs.update(
            {f"fusion_{k}": v for k, v in (self.options or {}).items() if k != "radius"}
        )
        fused.attrs["fusion_radius"] = float((self.options or {}).get("radius", np.inf))
        return xr.Dataset({"concentration_fused": fused, "fusion_skill": self.skill})

    def writers(self) -> dict[str, Any]:
        """``fill`` callables of :func:`write_netcdf` (empty when inactive)."""
        if not self.active:
            return {}
        return {"concentration_fused": self._write_maps, "fusion_skill": self._write_skill}

    def _model(self, iy: int, ip: int) -> xr.DataArray:
        import h5py

        assert self.concentration is not None
        with h5py.File(self.paths[iy], "r") as src:
            plane = np.asarray(src["concentration"][0, ip], dtype=float)
        coords = {"y": self.concentration["y"].values, "x": self.concentration["x"].values}
        return xr.DataArray(
            plane, dims=("y", "x"), coords=coords, attrs=dict(self.concentration.attrs)
        )

    def _write_maps(self, dset: Any) -> None:
        assert self.skill is not None
        st = self.small
        stations = pd.DataFrame(
            {
                "station_id": [str(s) for s in st["station"].values],
                "x": st["station_x"].values,
                "y": st["station_y"].values,
            }
        )
        masked: dict[str, dict[str, list[int]]] = {}  # pollutant -> station -> years
        for iy, ip in self.targets:
            pol, year = str(st["pollutant"].values[ip]), int(st["year"].values[iy])
            obs = st["station_observation"].isel(year=iy, pollutant=ip)
            modelled = st["station_concentration"].isel(year=iy, pollutant=ip)
            try:
                made = fuse_map(
                    self._model(iy, ip), obs, stations, pol, self.options or {}, modelled
                )
            except TrajectoireError as exc:
                log.warning("fusion: %s %d left NaN: %s", pol, year, exc)
                continue
            dset[iy, ip] = made.fused.astype(dset.dtype)
            self.skill[iy, ip] = made.skill
            for sid in made.on_masked_cells:
                masked.setdefault(pol, {}).setdefault(sid, []).append(year)
            if made.left_out:  # evaluation leaves them out too (no pair)
                log.warning(
                    "fusion: %s %d: %d observed station(s) without a modelled value "
                    "(station_concentration NaN) left out, as in evaluation: %s",
                    pol,
                    year,
                    len(made.left_out),
                    rows_preview(made.left_out),
                )
        for pol, at in masked.items():
            years = sorted({y for ys in at.values() for y in ys})
            log.info(
                "fusion: %s: %d station(s) on cells masked beyond the buffer (%s) fused with "
                "their station_concentration, in %s: they inform the unmasked cells near them "
                "and count in fusion_skill as in evaluation",
                pol,
                len(at),
                rows_preview(sorted(at)),
                _span(years),
            )

    def _write_skill(self, dset: Any) -> None:
        assert self.skill is not None
        dset[...] = self.skill.values.astype(dset.dtype)


def _is_copied_grid(da: xr.DataArray) -> bool:
    """A year's gridded float variable: copied chunk by chunk at assembly, never read."""
    return da.dims[:1] == ("year",) and da.dims[-2:] == ("y", "x") and da.dtype.kind == "f"


def _read_parts(
    paths: Sequence[Path], preread: Mapping[Path, _PartRead] | None = None
) -> tuple[list[xr.Dataset], dict[str, _GridVariable], list[str]]:
    """The year parts `paths`, read for the assembly.

    Returns each part's small variables, loaded (the part is closed); the first description
    of each gridded variable (:func:`_is_copied_grid`: its values are not read), in the
    order met; and the order of the output's year variables: the first part's, then those
    it lacks in the order later parts bring them. A part found in `preread` (read as its
    year ended, :class:`_PartsRead`) is not read again.

    Opening the parts without dask and reading only what is small takes a fraction of the
    time dask-backed datasets of every variable took (the sample's 34 parts at 200 m:
    1.5-2.0 s to open them, 1.2 s to load, 0.5 s to concatenate); that is still 1.1-1.2 s
    of CPU (1.5-1.7 s of wall) at the end of a run, which a Dask run spends while its
    workers compute.
    """
    small: list[xr.Dataset] = []
    grids: dict[str, _GridVariable] = {}
    order: list[str] = []
    for k, path in enumerate(paths):
        part = (preread or {}).get(Path(path)) or _read_part(path)
        order += [n for n in part.names if n not in order and (k == 0 or n in part.with_year)]
        for name, grid in part.grids.items():
            grids.setdefault(name, grid)
        small.append(part.small)
    return small, grids, order


@dataclass(frozen=True)
class _PartRead:
    """What the assembly reads of one year's part (:func:`_read_part`)."""

    small: xr.Dataset  # its small variables, loaded
    grids: dict[str, _GridVariable]  # its gridded variables, described (never read)
    names: list[str]  # its variables, in order
    with_year: frozenset[str]  # those with a year dim


def _read_part(path: Path) -> _PartRead:
    """One part as :func:`_read_parts` reads it; the file is closed on return."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        names = [str(n) for n in ds.data_vars]
        big = [n for n in names if _is_copied_grid(ds[n])]
        return _PartRead(
            small=ds.drop_vars(big).load(),
            grids={name: _GridVariable(ds[name]) for name in big},
            names=names,
            with_year=frozenset(n for n in names if "year" in ds[n].dims),
        )


class _PartsRead(dict[Path, "_PartRead"]):
    """Parts read for the assembly while the run goes on (path -> :class:`_PartRead`).

    A Dask run's client waits while its workers compute; :meth:`add` reads each part as
    its year ends, so that the assembly only reads the parts it lacks (those of a resumed
    run, or of years whose reading failed here: they are read again there, and an error
    then says what it says now). Reading holds Ctrl-C until the part is closed
    (:func:`trajectoire.io.netcdf.signals_held`, as the assembly does), and holds
    :data:`_HDF5_LOCK`, which a worker running in this process takes to write its parts."""

    def add(self, path: str | Path) -> None:
        import netCDF4

        cache = netCDF4.get_chunk_cache()
        netCDF4.set_chunk_cache(2**20, cache[1], cache[2])  # the assembly's setting
        try:
            with signals_held(), _HDF5_LOCK:  # a worker of this process may be writing
                self[Path(path)] = _read_part(Path(path))
        except Exception as exc:  # the assembly reads it again and says why it cannot
            log.debug("part %s not read ahead: %s", path, exc)
        finally:
            netCDF4.set_chunk_cache(*cache)


class _GridVariable:
    """What the output needs of a part's gridded variable, whose values are never read:
    its dims, shape, type, attributes and (loaded) coordinates but the year."""

    def __init__(self, da: xr.DataArray) -> None:
        self.dims, self.shape, self.dtype = da.dims, da.shape, da.dtype
        self.attrs = dict(da.attrs)
        self.coords = {
            str(k): v.variable.load() for k, v in da.coords.items() if "year" not in v.dims
        }


def _template(grid: _GridVariable, year: xr.DataArray) -> xr.DataArray:
    """A year-long, never computed stand-in of the gridded variable `grid`: its dims,
    coordinates, type and attributes for :func:`write_netcdf`'s ``fill``."""
    import dask.array

    shape = (year.size, *grid.shape[1:])
    data = dask.array.empty(shape, dtype=grid.dtype, chunks=shape)
    coords = {**grid.coords, "year": year}
    return xr.DataArray(data, dims=grid.dims, coords=coords, attrs=grid.attrs)


def _fill_missing_variables(datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    """Add NaN-filled copies of the small variables that some years lack (the gridded ones
    are never read: a year without one stores no chunk, :func:`_read_parts`)."""
    templates: dict[str, xr.DataArray] = {}
    for ds in datasets:
        for name, da in ds.data_vars.items():
            if "year" in da.dims:
                templates.setdefault(str(name), da)
    out = []
    for ds in datasets:
        missing = [n for n in templates if n not in ds.data_vars]
        if missing:
            ds = ds.copy()
            for name in missing:
                tmpl = templates[name]
                if tmpl.dtype.kind != "f":
                    raise ValueError(f"variable {name!r} missing in year {ds['year'].values}")
                filled = xr.full_like(tmpl, np.nan).assign_coords(year=ds["year"].values)
                ds[name] = filled
        out.append(ds)
    return out


# ---------------------------------------------------------------------- run
def _years_given(years: Iterable[int] | int | str | None) -> list[int] | None:
    """`run`'s ``years`` as a list of int: a list, one year, or the text of ``--years``
    (``"2015"`` was read character by character, ``2015`` ended on a TypeError)."""
    if years is None:
        return None
    if isinstance(years, str):  # run(..., years="2015:2020"): the syntax of --years
        return parse_years(years, what="years")
    if is_integer_number(years):
        return [int(years)]
    try:
        if not isinstance(years, Iterable):
            raise TypeError(years)
        return [operator.index(y) if not isinstance(y, float) else _whole(y) for y in years]
    except (TypeError, ValueError):
        raise ConfigError(
            f"years={years!r}: expected years as integers (a list such as [2015, 2020], one "
            "year, or the text of --years such as '1990:2023')."
        ) from None


def _select_years(config: RunConfig, years: Iterable[int] | None) -> list[int]:
    if years is None:
        return config.years
    chosen = sorted({int(y) for y in years})
    if not chosen:
        raise ConfigError("--years selects no year; give e.g. 1990:2023.")
    outside = [y for y in chosen if not config.first_year <= y <= config.last_year]
    if outside:
        raise ConfigError(
            f"--years: {year_ranges(outside)} outside the configuration's years "
            f"{config.first_year}..{config.last_year} ([run] first_year, last_year). "
            "Choose years inside that range or widen it in the configuration."
        )
    skipped = [y for y in config.attribution.map_years if y not in chosen]
    if skipped:
        log.warning(
            "[attribution] map_years %s: not among the years computed (--years %s); this "
            "output has no contribution maps of %s.",
            year_ranges(skipped),
            year_ranges(chosen),
            "them" if len(skipped) > 1 else "it",
        )
    return chosen


def _whole(value: float) -> int:
    """A float year that is a whole number (2015.0), as an int; ValueError otherwise."""
    if not float(value).is_integer():
        raise ValueError(value)
    return int(value)


def _run_attributes(
    config: RunConfig, out: Path, years: list[int], map_years: Sequence[int] | None = None
) -> dict[str, Any]:
    """The runner's global attributes of the output (they take precedence over the
    pipeline's). `map_years`: the years the pipeline gave full contribution maps (its
    context's, which apply the default rule when ``[attribution] map_years`` is empty);
    the configured ones when unknown (a resumed run with every part already written)."""
    stamp = utc_stamp()
    src = config.source_path
    call = f"trajectoire run {src if src else '<config object>'} --out {out}"
    if years != config.years:
        call += (
            f" --years {years[0]}"
            if len(years) == 1
            else f" --years {years[0]}:{years[-1]}"
            if years == list(range(years[0], years[-1] + 1))
            else " --years " + ",".join(map(str, years))
        )
    attrs: dict[str, Any] = {
        "title": config.run.name,
        "source": f"trajectoire {__version__}",
        "history": f"{stamp}: trajectoire {__version__}: {call}",
        "trajectoire_version": __version__,
        "trajectoire_config": config.source_text or config.to_json(),
        "trajectoire_config_resolved": config.to_json(),
        "trajectoire_config_hash": config.config_hash(),
        "input_checksums": json.dumps(config.input_checksums, sort_keys=True),
        "reference_year": config.run.reference_year,
        "crs": config.grid.crs,
    }
    if src:
        attrs["trajectoire_config_file"] = str(src)
    chosen = config.attribution.map_years if map_years is None else map_years
    maps = sorted(int(y) for y in chosen if y in years)
    # None: no map year among the years computed, so the file has none (the pipeline's
    # attribute, the configured list, is dropped by assemble)
    attrs["map_years"] = np.asarray(maps, dtype="int32") if maps else None
    return attrs


def _default_attributes(config: RunConfig) -> dict[str, Any]:
    """Attributes the pipeline may override (it knows the methods it really used)."""
    from trajectoire.sectors import GNFR

    methods = {s: config.trajectory.method_of(s) for s in GNFR}
    return {"trajectory_methods": json.dumps(methods, sort_keys=True)}


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc="trajectoire run",
        unit="year",
        disable=not enabled or not sys.stderr.isatty(),
    )


def run(
    config: RunConfig | str | Path,
    out: str | Path,
    *,
    pipeline: Pipeline | None = None,
    years: Iterable[int] | int | str | None = None,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> Path:
    """Run the whole chain and write one CF NetCDF output.

    Parameters
    ----------
    config : RunConfig or path
        Validated configuration, or the path of a ``config.toml``.
    out : str or pathlib.Path
        Output NetCDF. Its directory must exist and be writable (checked before any
        computation); per-year parts go to ``OUT.nc.parts/`` beside it while the run lasts.
        It may not be a file the run reads (the configuration, an input) nor lie in an
        input directory, and an existing file there must be a NetCDF (an earlier output):
        anything else would be lost. A directory (existing, or text ending with ``/``) is
        refused.
    pipeline : Pipeline, optional
        The concentration chain; default :mod:`trajectoire.pipeline`.
    years : iterable of int, int or str, optional
        Subset of the configuration's years to compute (default: all of them): a list, one
        year, or the text of ``--years`` (``"1990:2000,2010"``).
    resume : bool, default False
        Reuse the complete parts of an interrupted run of the same configuration and compute
        only the missing years. Parts that cannot be read, lack the completion mark or come
        from another configuration are recomputed. An output already assembled from this
        configuration over the same years (its ``trajectoire_config_hash`` and ``year``) is
        kept as it is: nothing is computed.
    workers : int, optional
        Start a local Dask cluster of this many single-threaded worker processes.
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler (``tcp://host:8786``). Its
        workers must see the output's directory (shared filesystem) and have trajectoire
        installed.
    progress : bool, default True
        Show a progress bar on a terminal.

    Returns
    -------
    pathlib.Path
        The output path.

    Raises
    ------
    trajectoire.ConfigError
        Invalid configuration, years outside it, both `workers` and `scheduler`, a parts
        directory left by a run of another configuration when `resume` is False, or a bad
        ``TRAJECTOIRE_DEFLATE``, ``TRAJECTOIRE_IO_THREADS`` or ``SOURCE_DATE_EPOCH``.
    trajectoire.InputError
        The output path is not writable, is an input of the run or holds another file than
        a NetCDF, or a bad ``TRAJECTOIRE_FFT_THREADS``.
    """
    refuse_directory_name(out)  # Path("newdir/") is "newdir"
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    chosen = _years_given(years)
    out_path = check_writable(out, what="--out", kind="NetCDF", reads=cfg.files_read())
    _check_companions(out_path)
    _check_environment()
    with output_lock(out_path), compile_notice():
        return _run_locked(
            cfg,
            out_path,
            pipeline=pipeline,
            years=chosen,
            resume=resume,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )


def _check_companions(out: Path) -> None:
    """Refuse, before anything is computed, what lies where the run keeps its lock (a file,
    ``OUT.nc.lock``) and its parts (a directory, ``OUT.nc.parts``) and is not of that kind:
    a directory named like the lock, a file named like the parts. They ended on Python
    errors, the parts' after the whole preparation."""
    lock, parts = lock_path_of(out), parts_dir_of(out)
    if lock.exists() and not lock.is_file():
        raise InputError(
            f"--out {str(out)!r}: {str(lock)!r}, the run's lock file, is a directory or "
            "another thing than a file; remove it (no run holds it) or choose another path."
        )
    if parts.exists() and not parts.is_dir():
        raise InputError(
            f"--out {str(out)!r}: {str(parts)!r}, the directory of the run's parts (one file "
            "a year, kept until the output is assembled), is a file; remove or rename it, or "
            "choose another path."
        )


#: why a part found on disk is not reused, by its :func:`_part_state`
_UNUSABLE = {
    "damaged": "{verb} damaged (the bytes no longer match the checksum)",
    "broken": (
        "cannot be used (unreadable, unfinished, without a checksum, or holding another "
        "year than the name says)"
    ),
    "stale": "{verb} written by another configuration (or other input files, or another version)",
}


def _damage_of(path: Path) -> str | None:
    """What :func:`trajectoire.io.chunks.verify_chunks` (the check of ``trajectoire info``)
    finds wrong in the output `path`, an HDF5 file :func:`_complete_output` has read: the
    first chunk that no longer decodes, or None when every chunk reads back."""
    try:
        problems = verify_chunks(path, limit=1)
    except OSError as exc:  # HDF5's own metadata damaged
        return f"unreadable ({str(exc).splitlines()[0]})"
    return f"damaged: {problems[0]}" if problems else None


def _complete_output(path: Path, config_hash: str, years: Sequence[int]) -> bool:
    """Whether `path` is the assembled output of this configuration over `years` (its
    ``trajectoire_config_hash`` attribute and its ``year`` coordinate): a ``--resume`` after
    a finished run has nothing left to compute. A file that cannot be read is not."""
    if not path.is_file():
        return False
    try:
        with xr.open_dataset(path, decode_cf=False, cache=False) as ds:
            same = ds.attrs.get(PART_HASH_ATTR) == config_hash
            held = [int(y) for y in ds["year"].values] if "year" in ds.variables else []
    except Exception:  # noqa: BLE001 - any unreadable file is recomputed
        return False
    return bool(same and sorted(held) == sorted(int(y) for y in years))


def check_numba_cache() -> None:
    """Stop on a ``TRAJECTOIRE_NUMBA_CACHE`` that is neither on nor off
    (:func:`trajectoire._kernels.cache_setting`: read when the kernels are imported, where
    nothing may be raised, and left on): one line naming the variable. Every command that
    computes calls it (``run``, ``scenario``, ``streets``).

    Raises
    ------
    trajectoire.ConfigError
        The variable's value and what it takes.
    """
    if cache_setting() is None:
        raw = os.environ.get("TRAJECTOIRE_NUMBA_CACHE", "")
        raise ConfigError(
            f"environment variable TRAJECTOIRE_NUMBA_CACHE={raw!r}: expected 1 (numba's "
            "on-disk cache on, the default) or 0 (off); unset it or set one of them"
        )


def _check_environment() -> None:
    """Read the environment variables a run uses, so that a bad value stops it before it
    computes (one line naming the variable), not at its first part or at the assembly:
    ``TRAJECTOIRE_DEFLATE``, ``TRAJECTOIRE_IO_THREADS``, ``TRAJECTOIRE_FFT_THREADS``,
    ``SOURCE_DATE_EPOCH``, ``NUMBA_NUM_THREADS``, ``TRAJECTOIRE_WORKER_THREADS`` (also
    without ``--workers``: a value set for later runs is checked now) and
    ``TRAJECTOIRE_NUMBA_CACHE`` (read when the kernels are imported, a bad value leaving
    the cache on: said here)."""
    deflate_encoder()
    io_threads()
    fft_threads()
    utc_stamp()
    check_numba_cache()
    # read by numba at its import (a bad value: numba's own warning, its default used) and
    # by the workers of --workers N: one line here, as the docs say, whatever the mode
    env_threads("NUMBA_NUM_THREADS", "threads of the numba kernels", "the cores")
    _worker_threads(1)


def _run_locked(
    cfg: RunConfig,
    out_path: Path,
    *,
    pipeline: Pipeline | None,
    years: Iterable[int] | None,
    resume: bool,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
) -> Path:
    """:func:`run` once the output's lock is held."""
    if workers is not None and scheduler is not None:
        raise ConfigError("give either --workers or --scheduler, not both.")
    if scheduler is not None:
        _check_scheduler_address(scheduler)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"--workers must be an integer >= 1, got {workers!r}.")
    target = _select_years(cfg, years)
    parts = parts_dir_of(out_path)
    chash = cfg.config_hash()
    dtype = cfg.output.dtype

    if resume and not parts.exists() and _complete_output(out_path, chash, target):
        damage = _damage_of(out_path)
        if damage is None:
            log.warning(
                "resume: %s is already complete for this configuration (its configuration "
                "hash and its years %s match): nothing to compute; run without --resume to "
                "compute it again",
                out_path,
                _span(target),
            )
            return out_path
        log.warning(
            "resume: %s is the output of this configuration, but %s: computing it again",
            out_path,
            damage,
        )
    states = {y: _part_state(_part_path(parts, y), chash, y) for y in target}
    static_state = _part_state(parts / _STATIC, chash)
    found = [*states.values(), static_state]
    if parts.is_dir():
        stale = [y for y, s in states.items() if s == "stale"]
        if not resume and ("stale" in found):
            raise ConfigError(
                f"{parts} holds parts of a run with another configuration (years {stale}). "
                "Pass --resume to reuse the parts that match this configuration and recompute "
                f"the others, or remove {parts} to start afresh."
            )
        n_ok = sum(s == "ok" for s in states.values())
        if not resume and n_ok:
            log.warning(
                "%s holds %d complete part(s) of this configuration; recomputing them "
                "(pass --resume to reuse them)",
                parts,
                n_ok,
            )
    said = "resume: " if resume else ""
    for state, why in _UNUSABLE.items():  # one line per reason (stale: refused above)
        if state == "stale" and not resume:
            continue
        years_of = [y for y, s in states.items() if s == state]
        noun = "parts" if len(years_of) > 1 else "part"
        which = ([f"the {noun} of {year_ranges(years_of)}"] if years_of else []) + (
            ["the static part"] if static_state == state else []
        )
        if which:
            several = len(years_of) + (static_state == state) > 1
            verb = ("were" if several else "was") if state == "stale" else (
                "are" if several else "is"
            )  # fmt: skip
            log.warning(
                "%s%s in %s %s: recomputing %s",
                said,
                " and ".join(which),
                parts,
                why.format(verb=verb),
                "them" if several else "it",
            )
    _say_parts_left_out(parts, chash, target)
    if resume:
        todo = [y for y in target if states[y] != "ok"]
        need_static = static_state != "ok"
        log.info("resume: %d of %d year(s) already done", len(target) - len(todo), len(target))
    else:
        todo, need_static = list(target), True

    created_parts = not parts.exists()
    early: _EarlyCluster | None = None
    preread = _PartsRead()  # a Dask run's parts, read while its workers compute
    map_years: Sequence[int] | None = None  # the pipeline's, once it has prepared
    try:
        if todo or need_static:
            pipe = pipeline if pipeline is not None else _default_pipeline()
            if todo and workers is not None and scheduler is None:
                early = _EarlyCluster(workers, pipe)  # starts while we prepare
            log.info("preparing the run (year-independent work)")
            ctx = pipe.prepare(cfg)
            map_years = _map_years_of(ctx, cfg)  # the tasks' order and the attribute
            available = {int(y) for y in pipe.years(ctx)}
            unknown = [y for y in target if y not in available]
            if unknown:
                raise ConfigError(
                    f"the pipeline cannot compute year(s) {unknown} (it offers "
                    f"{min(available, default=None)}..{max(available, default=None)}); "
                    "check [run] first_year/last_year and the input data."
                )
            check = getattr(pipe, "check_years", None)  # optional: the years' own inputs
            if todo and check is not None:
                check(ctx, todo)
            common = {
                "pipeline": pipe,
                "ctx": ctx,
                "parts": parts,
                "config_hash": chash,
                "crs": cfg.grid.crs,
                "significant_digits": cfg.output.significant_digits,
            }
            if need_static:
                if early is not None:
                    # no file is written while the cluster spawns its processes: a child
                    # forked while HDF5 holds a file open keeps its lock until it execs, and
                    # reopening the part then fails ("unable to lock file", seen in CI)
                    early.cluster()
                _write_part(None, dtype=dtype, **common)
            if todo:
                log.info("computing %d year(s): %s", len(todo), _span(todo))
                if workers is None and scheduler is None:
                    _compute_serial(todo, progress=progress, dtype=dtype, **common)
                else:
                    _compute_dask(
                        _longest_first(todo, map_years),
                        workers=workers,
                        scheduler=scheduler,
                        progress=progress,
                        dtype=dtype,
                        early=early,
                        preread=preread,
                        **common,
                    )
        # the pipeline's context (grids, basis fields...) is not needed to assemble
        ctx = common = None  # type: ignore[assignment]
        gc.collect()
        log.info("assembling %d year(s) into %s", len(target), out_path)
        assemble(
            parts,
            target,
            out_path,
            attrs=_run_attributes(cfg, out_path, target, map_years),
            default_attrs=_default_attributes(cfg),
            dtype=dtype,
            significant_digits=cfg.output.significant_digits,
            fusion=cfg.output.fusion_options(),
            fusion_min_stations=cfg.output.fusion_min_stations,
            uncertainty=cfg.trajectory.uncertainty.settings(),
            preread=preread,
        )
        preread.clear()
    except BaseException:
        _clean_after_failure(parts, created=created_parts, years=target)
        raise
    finally:
        if early is not None:  # closing since _compute_dask ended (close_behind), or not run
            early.close()
    _remove_parts(parts)
    log.info("wrote %s (%.1f MiB)", out_path, out_path.stat().st_size / 2**20)
    return out_path


def _span(years: Sequence[int]) -> str:
    if list(years) == list(range(years[0], years[-1] + 1)) and len(years) > 2:
        return f"{years[0]}..{years[-1]}"
    return ", ".join(map(str, years))


#: A year whose dataset holds more bytes than this is written before the next year is
#: computed (serial runs), instead of beside it: the peak memory of a 100 m run then holds
#: one year's maps, not two (issue 18).
OVERLAP_BYTES = 512 * 2**20


@contextmanager
def _years_resources() -> Iterator[None]:
    """The process's settings while it computes years: the C heap kept mapped
    (:func:`heap_kept <trajectoire._memory.heap_kept>`) and the BLAS on one thread.

    A year calls BLAS only for a few matrix-vector products (territory sums of a
    deposition); with a BLAS pool of one thread per core, its idle threads then spin for a
    while after each call, beside numba's and the transforms' threads: 3-4 % of a 100 m
    run's CPU samples in ``blas_thread_server`` (``perf``, 2 cores). Each product's values
    are the same bits with one thread (each output element is one thread's dot product).
    The tables the years share, the stack terms (:mod:`trajectoire.dispersion.stack_terms`)
    and the depletion rows (:mod:`trajectoire.dispersion.depletion_rows`), are dropped at
    the end, before the heap is given back.
    """
    with heap_kept(), _blas_on_one_thread():
        try:
            yield
        finally:
            release_terms()
            release_depletion()


def _blas_on_one_thread() -> Any:
    """A block with the BLAS on one thread (:func:`_years_resources`)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _compute_serial(
    todo: list[int],
    *,
    progress: bool,
    dtype: str,
    significant_digits: int | None = None,
    **kwargs: Any,
) -> None:
    """Compute the years in turn; each part is written by a thread while the next computes.

    At most two years are in memory: the one being written and the one being computed, and
    only one when the part in flight holds more than :data:`OVERLAP_BYTES` (its writing
    then ends before the next year starts: at 100 m a year's maps are ~1 GB, 2 GB in a map
    year). An error of the writer stops the run at the next year; an error of the
    computation lets the part in flight finish (the parts written stay valid for
    ``--resume``).
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    with _progress(len(todo), progress) as bar, ThreadPoolExecutor(1) as writer, _years_resources():
        # on an error the executor still finishes the part in flight: a valid year is kept
        pending: Future[str] | None = None
        for y in todo:
            bar.set_postfix_str(str(y))
            ds, path = _compute_part(y, **kwargs)
            if pending is not None:
                pending.result()
                bar.update(1)
            big = ds.nbytes > OVERLAP_BYTES
            pending = writer.submit(
                _store_part, ds, path, dtype=dtype, significant_digits=significant_digits
            )
            del ds
            if big:  # written before the next year is computed: one large year in memory
                pending.result()
                bar.update(1)
                pending = None
                # the holes the year's grids leave in the heap are not returned by
                # themselves: over 34 years at 100 m the resident memory crept by ~0.6 GB;
                # trimmed once it has grown, not after every year (the next one faulted
                # the freed grids in again)
                trim_heap_if_grown()
        if pending is not None:
            pending.result()
            bar.update(1)


#: Environment variable: numba and FFT threads of each local Dask worker (default: the
#: machine's cores shared between the workers, at least 1).
WORKER_THREADS_ENV = "TRAJECTOIRE_WORKER_THREADS"


def _worker_threads(workers: int) -> int:
    """Threads of numba and the FFTs in each of `workers` local workers."""
    value = env_threads(
        WORKER_THREADS_ENV, "threads of each Dask worker", "the cores shared between the workers"
    )
    return max(1, (os.cpu_count() or 1) // max(1, workers)) if value is None else value


def _longest_first(years: Sequence[int], heavy: Sequence[int]) -> list[int]:
    """`years` with the `heavy` ones (the map years: their contribution maps make them
    ~1.5x as long) first, each group in its order: the tasks start longest first, so that
    the workers finish together (Graham's LPT rule) instead of one waiting for the other's
    late map year."""
    first = set(heavy)
    return sorted(years, key=lambda y: y not in first)


def _check_scheduler_address(scheduler: str) -> None:
    """Raise, before any computing, on a scheduler address that cannot be one (no port:
    ``notanaddress``, ``tcp://host``); whether it answers is known when connecting."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, location = parse_address(str(scheduler))
        if protocol in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except ValueError as exc:
        raise InputError(
            f"--scheduler {scheduler!r}: not a scheduler address ({exc}); expected "
            "tcp://host:port, e.g. tcp://127.0.0.1:8786 (the address `dask scheduler` prints)."
        ) from None


def _map_years_of(ctx: Any, cfg: RunConfig) -> Sequence[int]:
    """The map years the pipeline computes: its context's ``map_years`` (the run's context
    applies the default rule, every fifth year and the last, when ``[attribution] map_years``
    is empty), else the configuration's."""
    years = getattr(ctx, "map_years", None)
    return sorted(years) if years is not None else cfg.attribution.map_years


def _write_shared_part(
    year: int,
    *,
    shared: SharedContext,
    dtype: str,
    significant_digits: int | None = None,
    **kwargs: Any,
) -> str:
    """A Dask task: one year's part, computed from the shared context (opened once per
    worker, its large arrays memory-mapped read-only)."""
    _numba_threads_as_set()
    # the worker's years reuse one heap, kept mapped from task to task (a block per task
    # trimmed it at each end: the next year faulted its grids in again, ~5 % of a 200 m
    # year's CPU); after a large year it is trimmed once grown, as in the serial run, and
    # when the run lets the worker go (_forget_on_workers)
    hold_heap()
    with _blas_on_one_thread():
        ds, path = _compute_part(year, ctx=shared.open(), **kwargs)
        big = ds.nbytes > OVERLAP_BYTES
        written = _store_part(ds, path, dtype=dtype, significant_digits=significant_digits)
    del ds
    if big:
        trim_heap_if_grown()
    return written


def _release_worker(token: str) -> None:
    """On a worker at the end of a run: drop its copy of the shared context `token` and give
    back the heap its years held (:func:`_write_shared_part`) and the tables they shared
    (the stack terms, :mod:`trajectoire.dispersion.stack_terms`, and the depletion rows,
    :mod:`trajectoire.dispersion.depletion_rows`)."""
    forget_context(token)
    release_terms()
    release_depletion()
    release_heap()


def _numba_threads_as_set() -> None:
    """Make numba use the ``NUMBA_NUM_THREADS`` of this worker's environment.

    distributed's nanny sets a worker's ``env`` (:func:`_local_cluster`) in the new process
    *after* it imported its main module, which may import numba (the ``trajectoire``
    command's does): numba then read its thread count without the variable (all the cores),
    both in ``numba.config`` and in the count its threading layer launches
    (``numba.np.ufunc.parallel.NUM_THREADS``, read once at import). A kernel loaded from
    numba's cache then launched that many threads: the worker silently ran a thread per
    core, and a later compilation stopped the task with "Cannot set NUMBA_NUM_THREADS to a
    different value once the threads have been launched". Setting both counts again before
    any kernel runs makes the pool the size asked (``numba.get_num_threads()`` included);
    if threads were launched already, the environment is made to agree with them (no later
    error) and the work is limited to the count asked.
    """
    want = os.environ.get("NUMBA_NUM_THREADS")
    if not want:
        return
    import numba
    from numba.core import config
    from numba.np.ufunc import parallel

    if not parallel._is_initialized:
        if int(getattr(config, "NUMBA_NUM_THREADS")) != int(want):  # noqa: B009 (run time)
            config.reload_config()
        # the threading layer launches this many threads (and uses them all by default)
        parallel.NUM_THREADS = parallel.get_thread_count()
        return
    launched = int(parallel.NUM_THREADS)
    os.environ["NUMBA_NUM_THREADS"] = str(launched)
    config.reload_config()
    numba.set_num_threads(min(int(want), launched))


def _compute_dask(
    todo: list[int],
    *,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    pipeline: Pipeline,
    ctx: Any,
    parts: Path,
    early: _EarlyCluster | None = None,
    preread: _PartsRead | None = None,
    **kwargs: Any,
) -> None:
    """Compute the years as Dask tasks, one per year, on a local or remote cluster, started
    in the order of `todo`.

    The context is shared through memory-mapped files in the parts directory
    (:mod:`trajectoire.batch.shared`): the workers receive only its small part, scattered
    once, and map its large arrays from the page cache; the client's own copy of those
    arrays is replaced by the maps too (its memory is given back). The files are removed at
    the end. `early` is the cluster started while the context was prepared. Each part is
    read into `preread` as its year ends (the client is idle meanwhile): the assembly then
    has it (:func:`_read_parts`).
    """
    try:
        from distributed import as_completed
    except ImportError:  # pragma: no cover - distributed comes with the dist extra
        raise ConfigError(
            "--workers/--scheduler need dask.distributed: pip install 'trajectoire[dist]'."
        ) from None
    remove_stale(parts)  # left by a killed run: the lock is ours, nobody maps them
    folder = new_context_folder(parts)
    with ExitStack() as stack:
        stack.callback(remove_shared, folder)
        shared = share_context(ctx, folder)
        shared.adopt(ctx)  # the client's copies are freed: it keeps the maps
        gc.collect()
        trim_heap()
        log.info("shared context: %d array(s) memory-mapped from %s", len(shared.arrays), folder)
        client = _open_client(workers, scheduler, early, stack)
        # an existing cluster's workers outlive the run: they let the maps go at its end
        stack.callback(_forget_on_workers, client, shared.token)
        shared_future = client.scatter(shared, broadcast=True)
        # in the order of `todo` (the scheduler runs the higher priority first)
        futures = [
            client.submit(
                _write_shared_part,
                year,
                shared=shared_future,
                pipeline=pipeline,
                parts=parts,
                pure=False,
                priority=len(todo) - i,
                **kwargs,
            )
            for i, year in enumerate(todo)
        ]
        with _progress(len(todo), progress) as bar:
            for fut in as_completed(futures):
                written = fut.result()
                log.debug("part done: %s", written)
                if preread is not None:
                    preread.add(written)
                bar.update(1)


class _EarlyCluster:
    """The local Dask cluster of a run, started in a thread, so that starting the worker
    processes and importing the pipeline there overlap the client's
    :meth:`Pipeline.prepare`. :meth:`cluster` waits for it (and raises what the start
    raised); :meth:`close` closes it, whenever the run stops."""

    def __init__(self, workers: int, pipeline: Any) -> None:
        self._stack = ExitStack()
        self._cluster: Any = None
        self._error: BaseException | None = None
        self._closer: threading.Thread | None = None
        threads = _worker_threads(workers)  # a bad TRAJECTOIRE_WORKER_THREADS stops us now
        self._thread = threading.Thread(
            target=self._start, args=(workers, threads, pipeline), daemon=True
        )
        self._thread.start()

    def _start(self, workers: int, threads: int, pipeline: Any) -> None:
        try:
            self._cluster = _local_cluster(workers, threads, self._stack)
        except BaseException as exc:  # raised in the run's thread by cluster()
            self._error = exc
            return
        try:  # import the pipeline on the workers now; a failure shows at the first task
            from distributed import Client

            with Client(self._cluster, set_as_default=False) as client:
                client.run(_warm_up, pipeline)
        except Exception as exc:
            log.debug("could not import the pipeline on the workers beforehand: %s", exc)

    def cluster(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._cluster

    def close_behind(self) -> None:
        """Start closing the cluster in a thread (its workers' shutdown, about 1 s for two
        on 2 cores), so that the run's assembly goes on meanwhile; :meth:`close` waits for
        it. The client must be closed first: the assembly's own computations then run in
        this process, not on the closing cluster."""
        self._thread.join()
        if self._closer is None:
            self._closer = threading.Thread(target=self._stack.close, name="cluster-close")
            self._closer.start()

    def close(self) -> None:
        self._thread.join()
        if self._closer is not None:
            self._closer.join()
        self._stack.close()  # nothing left to close after close_behind


def _warm_up(pipeline: Any) -> None:
    """Run on each worker before its first task: unpickling `pipeline` imported it; numba's
    threads are the count its environment asks (:func:`_numba_threads_as_set`)."""
    _numba_threads_as_set()


#: glibc's variable that distributed's nanny sets before it spawns a worker
#: (``distributed.nanny.pre-spawn-environ``, 65536 by default).
MALLOC_TRIM_ENV = "MALLOC_TRIM_THRESHOLD_"


def _local_cluster(workers: int, share: int, stack: ExitStack) -> Any:
    """A new local cluster of `workers` single-threaded worker processes (closed by `stack`),
    each with `share` threads for numba, the FFTs and the compression of its parts.

    The workers are spawned without ``MALLOC_TRIM_THRESHOLD_``, which distributed sets by
    default: glibc then keeps its fixed 128 KiB mmap threshold (setting any of its
    thresholds turns the dynamic one off, ``mallopt(3)``), so that every array of a year
    over 128 KiB is mapped afresh and its pages faulted in again; measured on the sample at
    200 m, one thread: a year took 1.65x as long (24.7 s against 15.0 s for four years,
    system time 10.5 s against 3.5 s). The worker keeps its heap for its years and trims it
    after a large year once it has grown instead (:func:`_write_shared_part`).
    """
    import dask
    from distributed import LocalCluster

    log.info("starting a local Dask cluster of %d worker(s), %d thread(s) each", workers, share)
    settings = {
        # None drops the variable from what the nannies set (distributed's _get_env_variables)
        f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM_ENV}": None,
        # the workers' statistical profiler samples the task's stack every 10 ms in the
        # worker's event loop, for the dashboard: CPU taken from the years
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,  # one task per worker
            processes=True,
            # ":0": any free port. None would still bind the scheduler's HTTP server to 8787
            # and warn when another cluster holds it (distributed 2026.8).
            dashboard_address=":0",
            # numba's, the FFTs' and the part writer's threads: each worker its share of
            # the cores (the writer's deflate pool otherwise takes every core in each worker)
            env={
                "NUMBA_NUM_THREADS": str(share),
                "TRAJECTOIRE_FFT_THREADS": str(share),
                "TRAJECTOIRE_IO_THREADS": str(share),
            },
        )
    stack.callback(cluster.close)
    return cluster


def _malloc_trim_setting() -> str | None:
    """Run on a worker: its ``MALLOC_TRIM_THRESHOLD_``, if it was started with one."""
    return os.environ.get(MALLOC_TRIM_ENV)


def _check_worker_malloc(client: Any) -> None:
    """Warn when the workers of an existing cluster run with ``MALLOC_TRIM_THRESHOLD_`` set
    (distributed's nanny sets it by default): their years are ~1.6x slower."""
    try:
        found = client.run(_malloc_trim_setting)
    except Exception as exc:  # a worker gone or refusing: the run itself will say
        log.debug("could not read the workers' environment: %s", exc)
        return
    slow = sorted(w for w, v in found.items() if v is not None)
    if slow:
        log.warning(
            "%d of %d Dask worker(s) run with %s=%s (distributed's default): glibc then "
            "maps every array afresh and a year takes ~1.6x as long. Start the workers "
            "with the dask setting distributed.nanny.pre-spawn-environ.%s: null (a YAML "
            "file in ~/.config/dask/, see docs/configuration.md).",
            len(slow),
            len(found),
            MALLOC_TRIM_ENV,
            found[slow[0]],
            MALLOC_TRIM_ENV,
        )


def _open_client(
    workers: int | None, scheduler: str | None, early: _EarlyCluster | None, stack: ExitStack
) -> Any:
    """A client of the scheduler at `scheduler`, or of the local cluster (`early`, or a new
    one of `workers` workers); their closing is pushed on `stack`."""
    from distributed import Client

    if scheduler is not None:
        log.info("connecting to the Dask scheduler at %s", scheduler)
        try:
            # timeout: dask config distributed.comm.timeouts.connect (30 s by default)
            client = Client(scheduler)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"--scheduler {scheduler!r}: cannot connect ({exc}). Check the address "
                "(tcp://host:8786) and that the scheduler is running."
            ) from None
        _check_worker_malloc(client)
    else:
        if early is None:  # ours: closed here
            early = _EarlyCluster(workers or 1, None)
            stack.callback(early.close)
        else:  # the run's: it closes behind the client, and the run waits for it at its end
            stack.callback(early.close_behind)
        client = Client(early.cluster())
    stack.callback(client.close)
    return client


def _forget_on_workers(client: Any, token: str) -> None:
    try:
        client.run(_release_worker, token)
    except Exception as exc:  # a worker gone: its maps went with it
        log.debug("could not release the shared context on every worker: %s", exc)
    _release_worker(token)  # an in-process cluster shares this process's copy and heap


def _say_parts_left_out(parts: Path, config_hash: str, target: Sequence[int]) -> None:
    """Warn when `parts` holds finished parts of this configuration for years this run does
    not ask (an interrupted 2018..2021 run resumed with ``--years 2018:2019``): they are
    removed with the parts once the output is assembled, so say it before computing."""
    if not parts.is_dir():
        return
    others = sorted(
        int(p.name[5:-3])
        for p in parts.glob("year-*.nc")
        if p.name[5:-3].isdigit() and int(p.name[5:-3]) not in set(target)
    )
    done = [y for y in others if _part_state(_part_path(parts, y), config_hash, y) == "ok"]
    if done:
        log.warning(
            "%s holds the finished parts of %s, which --years leaves out: they are removed "
            "with the parts once this output is written; ask those years too (--years) to "
            "keep their work",
            parts,
            year_ranges(done),
        )


def _clean_after_failure(parts: Path, *, created: bool, years: Sequence[int]) -> None:
    """After a failed or interrupted run: keep the finished years (for ``--resume``); when
    this run created the parts directory and finished no year, leave nothing behind."""
    if not created or not parts.is_dir():
        return
    if any(_part_path(parts, y).is_file() for y in years):
        log.warning("the finished years are kept in %s: run again with --resume", parts)
        return
    _remove_parts(parts)


def _is_part_file(name: str) -> bool:
    base = name.removesuffix(".tmp").removesuffix(CHECKSUM_SUFFIX)
    return base == _STATIC or (base.startswith("year-") and base.endswith(".nc"))


def _remove_parts(parts: Path) -> None:
    if not parts.is_dir():
        return
    remove_stale(parts)  # shared arrays of a killed Dask run
    for p in parts.iterdir():
        if _is_part_file(p.name):
            p.unlink(missing_ok=True)
    try:
        parts.rmdir()
    except OSError:
        log.warning("left %s in place: it holds files trajectoire did not write", parts)
