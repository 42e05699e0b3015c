"""Writing a year of the sample run: netCDF-C against trajectoire's direct chunk writer.

Computes one map year of the bundled sample (``pipeline.compute_year``: 91 emission maps, 91
contribution maps, 7 concentration maps on 614 x 1111 cells, NaN beyond the territories'
buffer), then writes it, in the same run:

* ``netCDF-C, whole maps``: xarray's ``to_netcdf`` with one chunk per map (1024-row tiles,
  the chunking of trajectoire 0.1 before this writer) and zlib 4;
* ``netCDF-C, same encoding``: xarray's ``to_netcdf`` with the encoding of
  :func:`trajectoire.io.netcdf_encoding` (128-cell tiles, zlib 3, shuffle);
* ``trajectoire``: :func:`trajectoire.io.write_netcdf` (NaN tiles not stored, tiles
  deflated in a thread pool);

and assembles three copies of the year into one file, decoding and re-encoding every value
(all parts loaded in memory, one netCDF-C write: the most favourable way to re-encode;
trajectoire 0.1 did it lazily, map by map) against copying the compressed chunks
(:func:`trajectoire.runner.assemble`). It prints times, sizes, the ratios, and checks that
every file reads back the same values.

With ``--levels 1,3,6`` it only times the compression of the year's stored tiles at those
deflate levels (CPU time and size; issue 18), with zlib and, where installed, ISA-L
(python-isal, levels 1-3, the writer's default encoder) and libdeflate (``deflate``),
checking that every stream decodes with zlib to the tile's bytes.

and then, variable by variable, the writer's encoder with and without the shuffle filter
(which variables :data:`trajectoire.io.netcdf.UNSHUFFLED_VARIABLES` holds).
``--resolution 100`` runs on a copy of the configuration at that grid resolution.

Usage: ``python benchmarks/bench_write.py [--year 2020] [--repeat 3] [--levels 1,3,6]
[--resolution 100]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from trajectoire import pipeline as P
from trajectoire import runner as R
from trajectoire.config import load_config
from trajectoire.errors import TrajectoireWarning
from trajectoire.io import _prepare, netcdf_encoding, write_netcdf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _config_at  # noqa: E402  (one resolution copy of a config)

REPO = Path(__file__).resolve().parents[1]


def cpu_of(fn) -> float:
    """CPU time of the process (all threads) over one call of `fn` [s]."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def all_shuffled(ds: xr.Dataset, path: Path) -> None:
    """:func:`write_netcdf` with every variable shuffled, as before 2026-12-04."""
    from trajectoire.io import netcdf

    saved = netcdf.UNSHUFFLED_VARIABLES
    netcdf.UNSHUFFLED_VARIABLES = ()
    try:
        write_netcdf(ds, path)
    finally:
        netcdf.UNSHUFFLED_VARIABLES = saved


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _stored_tiles(da: xr.DataArray, tile: int) -> list[np.ndarray]:
    """The `tile` x `tile` float32 tiles of every map of `da` that are not all NaN (those
    the writer stores), each contiguous."""
    arr = np.asarray(da.values, dtype=np.float32)
    return [
        np.ascontiguousarray(block)
        for plane in arr.reshape(-1, *arr.shape[-2:])
        for y0 in range(0, plane.shape[0], tile)
        for x0 in range(0, plane.shape[1], tile)
        if not np.isnan(block := plane[y0 : y0 + tile, x0 : x0 + tile]).all()
    ]


def compression_levels(ds: xr.Dataset, levels: list[int], tile: int = 128) -> None:
    """CPU time and size of deflating the year's maps at each zlib level (issue 18).

    Every 128 x 128 tile that is not all NaN (the tiles the writer stores) of the float32
    maps is encoded as the writer does (HDF5 shuffle, then zlib), on one thread; also level
    3 without shuffle. CPU time is ``time.process_time`` (the machine may be shared).
    """
    import importlib
    import zlib

    from trajectoire.io.chunks import _shuffle

    tiles = [
        t for v in ("emission", "contribution", "concentration") if v in ds
        for t in _stored_tiles(ds[v], tile)
    ]  # fmt: skip
    raw = sum(t.nbytes for t in tiles) / 2**20
    print(
        f"compression of the {len(tiles)} stored tiles ({raw:.0f} MiB), one thread, load "
        "average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    )
    codecs = {"zlib": zlib.compress}
    for name, module, attr in (("isal", "isal.isal_zlib", "compress"),
                               ("libdeflate", "deflate", "zlib_compress")):  # fmt: skip
        try:
            codecs[name] = getattr(importlib.import_module(module), attr)
        except ImportError:
            print(f"  ({name}: not installed)")
    cases = [(c, lv, True) for c in codecs for lv in levels] + [("zlib", 3, False)]
    for codec, level, shuffle in cases:
        if codec == "isal" and level > 3:
            continue  # ISA-L's levels are 0-3
        compress = codecs[codec]
        payloads = []
        t0 = time.process_time()
        for t in tiles:
            payloads.append(compress(_shuffle(t) if shuffle else t.tobytes(), level))
        cpu = time.process_time() - t0
        size = sum(len(p) for p in payloads)
        # every stream is a zlib stream: HDF5's deflate filter (zlib) decodes it
        assert all(
            zlib.decompress(p) == (_shuffle(t) if shuffle else t.tobytes())
            for p, t in zip(payloads, tiles, strict=True)
        )
        label = f"{codec} {level}" + (" + shuffle" if shuffle else ", no shuffle")
        print(f"  {label:<22} CPU {cpu:6.2f} s  {size / 2**20:7.1f} MiB  ({raw / cpu:5.0f} MiB/s)")
    by_variable(ds, codecs, tile)


def by_variable(ds: xr.Dataset, codecs: dict, tile: int) -> None:
    """Each gridded variable's stored tiles deflated as the writer does (its encoder at
    level 3), with and without the shuffle filter: which variables
    :data:`trajectoire.io.netcdf.UNSHUFFLED_VARIABLES` should hold."""
    import zlib

    from trajectoire.io.chunks import _shuffle
    from trajectoire.io.netcdf import UNSHUFFLED_VARIABLES

    codec = "isal" if "isal" in codecs else "zlib"
    level = 1 if codec == "isal" else 3  # the writer's (trajectoire.io.chunks._deflate)
    print(f"by variable, {codec} {level} as the writer (CPU one thread; size relative):")
    for v in sorted(str(n) for n in ds.data_vars):
        if ds[v].dims[-2:] != ("y", "x") or ds[v].dtype.kind != "f":
            continue
        tiles = _stored_tiles(ds[v], tile)
        if not tiles:
            continue
        row = {}
        for shuffle in (True, False):
            t0 = time.process_time()
            payloads = [
                codecs[codec](_shuffle(t) if shuffle else t.tobytes(), level) for t in tiles
            ]
            row[shuffle] = (time.process_time() - t0, sum(len(p) for p in payloads))
            assert all(
                zlib.decompress(p) == (_shuffle(t) if shuffle else t.tobytes())
                for p, t in zip(payloads, tiles, strict=True)
            )
        (c1, s1), (c0, s0) = row[True], row[False]
        stored = "unshuffled" if v in UNSHUFFLED_VARIABLES else "shuffled"
        print(
            f"  {v:<24} {len(tiles):6d} tiles  shuffle {s1 / 2**20:7.2f} MiB {c1:5.2f} s   "
            f"none {s0 / 2**20:7.2f} MiB {c0:5.2f} s   size x{s0 / s1:.2f}  (stored {stored})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "data" / "sample" / "config.toml"))
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--levels",
        default="",
        help="only time the compression of the year's tiles at these zlib levels, e.g. 1,3,6",
    )
    ap.add_argument(
        "--resolution", type=float, default=0.0, help="[m] a copy of the config at it; 0: its own"
    )
    args = ap.parse_args()
    config = _config_at(Path(args.config), args.resolution or None, Path(str(os.getpid())),
                        "bench_write")  # fmt: skip
    try:
        cfg = load_config(config)
    finally:
        if config != Path(args.config):
            config.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
    ds = P.compute_year(ctx, args.year)
    ds.attrs["crs"] = cfg.grid.crs
    raw = sum(ds[v].nbytes for v in ds.data_vars) / 2**20
    print(f"year {args.year}: {raw:.0f} MiB of values in memory")
    if args.levels:
        compression_levels(ds, [int(v) for v in args.levels.split(",")])
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_write_"))
    try:
        out = _prepare(ds)
        enc = netcdf_encoding(out)
        old = {k: dict(v) for k, v in enc.items()}
        for name, e in old.items():
            if "chunksizes" in e:
                da = out[name]
                e["chunksizes"] = tuple(
                    min(n, 1024) if d in ("y", "x") else c
                    for d, n, c in zip(da.dims, da.shape, e["chunksizes"], strict=True)
                )
                e["complevel"] = 4
        paths = {
            "netCDF-C, whole maps (zlib 4)": tmp / "old.nc",
            "netCDF-C, same encoding": tmp / "nc.nc",
            "trajectoire write_netcdf": tmp / "direct.nc",
            "trajectoire, all shuffled": tmp / "shuffled.nc",
        }
        jobs = {
            "netCDF-C, whole maps (zlib 4)": lambda: out.to_netcdf(
                paths["netCDF-C, whole maps (zlib 4)"], engine="netcdf4", encoding=old
            ),
            "netCDF-C, same encoding": lambda: out.to_netcdf(
                paths["netCDF-C, same encoding"], engine="netcdf4", encoding=enc
            ),
            "trajectoire write_netcdf": lambda: write_netcdf(ds, paths["trajectoire write_netcdf"]),
            # before 2026-12-04: every variable with the shuffle filter
            "trajectoire, all shuffled": lambda: all_shuffled(
                ds, paths["trajectoire, all shuffled"]
            ),
        }
        times = {}
        for label, job in jobs.items():
            times[label] = best(job, args.repeat)
            cpu = cpu_of(job)
            size = paths[label].stat().st_size / 2**20
            print(f"  {label:<32} {times[label]:6.2f} s wall (best of {args.repeat}), "
                  f"{cpu:6.2f} s CPU  {size:6.1f} MiB")  # fmt: skip
        ref = times["trajectoire write_netcdf"]
        for label in list(jobs)[:2]:
            print(f"  trajectoire vs {label}: {times[label] / ref:.1f}x faster")
        with xr.open_dataset(paths["trajectoire write_netcdf"]) as a:
            for label in [k for k in jobs if k != "trajectoire write_netcdf"]:
                with xr.open_dataset(paths[label]) as b:
                    for v in ("emission", "concentration", "contribution", "population"):
                        if v in a:  # contribution: in a map year only
                            np.testing.assert_array_equal(a[v].values, b[v].values)
        print("  all files read back the same values")

        # assembly of three parts: re-encode every value (xarray) against copy the chunks
        parts = tmp / "parts"
        parts.mkdir()
        years = [args.year, args.year + 1, args.year + 2]
        for k, y in enumerate(years):
            shutil.copy(paths["trajectoire write_netcdf"], parts / f"year-{y}.nc")
            with xr.open_dataset(parts / f"year-{y}.nc") as one:
                fixed = one.load().assign_coords(year=[y])
            fixed.attrs["crs"] = cfg.grid.crs
            write_netcdf(fixed, parts / f"year-{y}.nc")
            if k == 0:
                static = xr.Dataset(coords={"x": fixed["x"], "y": fixed["y"]})
                static.attrs["crs"] = cfg.grid.crs
                write_netcdf(static, parts / "static.nc")

        def reencode() -> None:
            # the most favourable way to decode and re-encode: every part loaded in memory,
            # one netCDF-C write with the output's encoding
            loaded = []
            for y in years:
                with xr.open_dataset(parts / f"year-{y}.nc") as one:
                    loaded.append(one.load())
            merged = xr.concat(loaded, dim="year", data_vars="minimal", coords="minimal")
            for var in merged.variables.values():
                var.encoding = {}
            merged.to_netcdf(tmp / "reenc.nc", engine="netcdf4", encoding=netcdf_encoding(merged))

        def copy() -> None:
            R.assemble(parts, years, tmp / "copied.nc", attrs={})

        t_re, t_copy = best(reencode, args.repeat), best(copy, args.repeat)
        print(f"assembly of 3 years: re-encoding {t_re:.2f} s, copying chunks {t_copy:.2f} s")
        print(f"  copying vs re-encoding: {t_re / t_copy:.1f}x faster")
        with xr.open_dataset(tmp / "reenc.nc") as a, xr.open_dataset(tmp / "copied.nc") as b:
            for v in ("emission", "concentration", "contribution"):
                if v in a:  # contribution: in a map year only
                    np.testing.assert_array_equal(a[v].values, b[v].values)
        print("  both assemblies read back the same values")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
