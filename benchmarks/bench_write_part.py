"""Writing a year's part: the writer's slab pass against encoding each chunk on its own.

Computes a plain year and a map year of the bundled sample at ``--resolution`` (default
100 m, the production grid) and writes each as the runner writes a part
(:func:`trajectoire.batch.runner._store_part`: :func:`trajectoire.io.write_netcdf`, the
maps by :func:`trajectoire.io.chunks.write_array`), in two ways, alternately:

* ``per chunk`` (the reference: the writer before 2026-12-02 late evening): each chunk of
  each slab tested for NaN, padded, shuffled and deflated on its own, every slab encoded;
* ``slab pass`` (the writer now): the chunks that hold a value found and shuffled in one
  numba pass per slab (:mod:`trajectoire._kernels.shuffle`), and a slab that is a view of
  the memory of a slab already encoded (the constant planes every blank emission or
  contribution plane of a year shares) given that slab's chunks.

It then times the shuffle alone on the slabs of the file written (``shuffle alone``): the
kernel the writer calls (:func:`trajectoire._kernels.shuffle.shuffle_tiles`, elements read
whole as 32- or 64-bit words) against reading them byte by byte
(``trajectoire._kernels.shuffle._shuffle_bytes``, the kernel before 2026-12-03), best of
``--repeat``, with the bytes compared and, for scale, the deflate of the same chunks; and
the search for the chunks that hold a value
(:func:`trajectoire._kernels.shuffle.tiles_with_values`, each row counted whole) against
testing cell by cell with an exit at each (``_tiles_cell_by_cell`` below, the kernel before
2026-12-03).

It prints the CPU time of each write (user + system of the process, the compression
threads included: ``getrusage``), its wall time, best of ``--repeat``, the ratio, the load
average, and checks that both files hold the same chunks: the same chunks stored, holding
the same bytes once inflated, and whether their compressed bytes are the same too. They
usually are; once (2026-12-03) one chunk of 3146 of a 200 m map year differed by one bit
between two writes of the same values in two processes (by the former writer as by this
one), the two streams inflating to the same bytes. The cause was not found (the same
bytes compressed again, thousands of times, in threads, after other chunks, always gave
one stream); ISA-L's deflate is not promised to give the same stream twice (intel/isa-l
issue 140) and python-isal allocates its work buffer without clearing it. So the values
are what is compared; ``TRAJECTOIRE_DEFLATE=zlib`` gives zlib's streams.

Usage: ``python benchmarks/bench_write_part.py [--resolution 100] [--years 2019,2020]
[--repeat 3]``
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import resource
import shutil
import tempfile
import time
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numba import njit

from trajectoire.batch import pipeline
from trajectoire.batch.runner import _store_part
from trajectoire.io import chunks
from trajectoire.io.config import load_config

REPO = Path(__file__).resolve().parents[1]


def _per_chunk(slab: np.ndarray, shape: Any, fill: Any, skip_nan: bool) -> Any:
    """The former encoding: each chunk tested, padded and shuffled on its own (numpy)."""
    lead, (ty, tx) = tuple(shape[:-2]), shape[-2:]
    ny, nx = slab.shape[-2:]
    out, where = [], []
    for y0, x0 in itertools.product(range(0, ny, ty), range(0, nx, tx)):
        block = slab[..., y0 : y0 + ty, x0 : x0 + tx]
        if skip_nan and np.isnan(block).all():
            continue
        if block.shape != (*lead, ty, tx):
            full = np.full((*lead, ty, tx), fill, dtype=slab.dtype)
            full[tuple(slice(0, n) for n in block.shape)] = block
            block = full
        out.append(np.frombuffer(chunks._shuffle(block), dtype=np.uint8))
        where.append((y0 // ty, x0 // tx))
    return out, where


@contextmanager
def reference_writer() -> Any:
    """The writer with the former chunk-by-chunk encoding and no shared slabs."""
    saved = chunks._shuffled_tiles, chunks._memory_key
    chunks._shuffled_tiles, chunks._memory_key = _per_chunk, lambda a: None
    try:
        yield
    finally:
        chunks._shuffled_tiles, chunks._memory_key = saved


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _stored(path: Path) -> dict[str, dict[tuple[int, ...], bytes]]:
    out: dict[str, dict[tuple[int, ...], bytes]] = {}
    with h5py.File(path, "r") as f:
        for name, d in f.items():
            if isinstance(d, h5py.Dataset) and d.chunks is not None:
                keys: list[tuple[int, ...]] = []
                d.id.chunk_iter(lambda i, keys=keys: keys.append(tuple(i.chunk_offset)))
                out[name] = {k: bytes(d.id.read_direct_chunk(k)[1]) for k in keys}
    return out


def _decoded(stored: dict[str, dict[tuple[int, ...], bytes]]) -> dict[str, Any]:
    """The stored chunks inflated: the shuffled bytes each chunk holds."""
    return {name: {k: zlib.decompress(v) for k, v in d.items()} for name, d in stored.items()}


@njit(nogil=True)
def _tiles_cell_by_cell(slab: Any, ty: int, tx: int) -> Any:  # pragma: no cover - numba
    """The reference: each tile tested cell by cell, stopping at the first value."""
    _, ny, nx = slab.shape
    found = np.zeros(((ny + ty - 1) // ty, (nx + tx - 1) // tx), dtype=np.bool_)
    for a in range(found.shape[0]):
        for b in range(found.shape[1]):
            hit = False
            for layer in range(slab.shape[0]):
                for y in range(a * ty, min(ny, (a + 1) * ty)):
                    for x in range(b * tx, min(nx, (b + 1) * tx)):
                        if not math.isnan(slab[layer, y, x]):
                            hit = True
                            break
                    if hit:
                        break
                if hit:
                    break
            found[a, b] = hit
    return found


def shuffle_alone(path: Path, repeat: int) -> str:
    """The shuffle of every slab of the maps in `path`, word path against byte path."""
    from trajectoire._kernels.shuffle import _shuffle_bytes, shuffle_tiles, tiles_with_values

    cases = []
    with h5py.File(path, "r") as f:
        for d in f.values():
            if not isinstance(d, h5py.Dataset) or d.chunks is None or d.ndim < 2:
                continue
            lead, (ty, tx) = d.chunks[:-2], d.chunks[-2:]
            if any(c != 1 for c in lead):
                continue
            data = d[()].reshape(-1, *d.shape[-2:])
            fill = np.array([d.fillvalue], dtype=d.dtype).view(np.uint8)
            for plane in data:
                slab = np.ascontiguousarray(plane)[None]
                rows, cols = (
                    np.asarray(i, dtype=np.int64)
                    for i in np.nonzero(tiles_with_values(slab, ty, tx))
                )
                shape = (rows.size, slab.dtype.itemsize, 1, ty, tx)
                cases.append((slab, rows, cols, ty, tx, fill, shape))
    best = {"bytes": np.inf, "words": np.inf}
    same = True
    for _ in range(repeat):
        for name in ("bytes", "words"):
            outs = [np.empty(c[-1], dtype=np.uint8) for c in cases]
            t = time.process_time()
            for (slab, rows, cols, ty, tx, fill, _), out in zip(cases, outs, strict=True):
                raw = slab.view(np.uint8)
                size = slab.dtype.itemsize
                if name == "bytes":
                    _shuffle_bytes(raw, size, rows, cols, ty, tx, fill, out)
                else:
                    shuffle_tiles(raw, size, rows, cols, ty, tx, fill, out)
            best[name] = min(best[name], time.process_time() - t)
            if name == "bytes":
                ref = outs
            else:
                same = same and all(np.array_equal(a, b) for a, b in zip(ref, outs, strict=True))
    search = {"cell by cell": np.inf, "rows whole": np.inf}
    for _ in range(repeat):
        for name, fn in (("cell by cell", _tiles_cell_by_cell), ("rows whole", tiles_with_values)):
            t = time.process_time()
            found = [fn(c[0], c[3], c[4]) for c in cases]
            search[name] = min(search[name], time.process_time() - t)
            if name == "cell by cell":
                expected = found
            else:
                same = same and all(
                    np.array_equal(a, b) for a, b in zip(expected, found, strict=True)
                )
    t = time.process_time()
    for out in ref:
        for tile in out:
            chunks._deflate(memoryview(np.ascontiguousarray(tile)), 3, chunks.deflate_encoder())
    deflate = time.process_time() - t
    n = sum(len(c[1]) for c in cases)
    return (
        f"shuffle alone ({len(cases)} slabs, {n} chunks), best of {repeat}: byte by byte "
        f"{best['bytes']:.3f} s, words {best['words']:.3f} s, ratio "
        f"{best['words'] / best['bytes']:.2f}; same bytes: {same}; deflate of the same "
        f"chunks {deflate:.3f} s; the chunks holding a value found cell by cell "
        f"{search['cell by cell']:.3f} s, rows whole {search['rows whole']:.3f} s, ratio "
        f"{search['rows whole'] / search['cell by cell']:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0)
    ap.add_argument("--years", default="2019,2020", help="a plain year and a map year")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_write_part_"))
    try:
        cfg_dir = tmp / "cfg"
        shutil.copytree(args.config.parent, cfg_dir)
        cfg_path = cfg_dir / args.config.name
        text = cfg_path.read_text()
        cfg_path.write_text(text.replace("resolution = 200.0", f"resolution = {args.resolution}"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = pipeline.prepare(load_config(cfg_path))
        print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
        for year in (int(y) for y in args.years.split(",")):
            ds = pipeline.compute_year(ctx, year)
            kind = "map year" if "contribution" in ds else "plain year"
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeat):
                for name in ("per chunk", "slab pass"):
                    path = tmp / f"{year}-{name.replace(' ', '_')}.nc"
                    path.unlink(missing_ok=True)
                    c, w = _cpu(), time.perf_counter()
                    if name == "per chunk":
                        with reference_writer():
                            _store_part(ds, path, dtype="float32", significant_digits=None)
                    else:
                        _store_part(ds, path, dtype="float32", significant_digits=None)
                    cw = (_cpu() - c, time.perf_counter() - w)
                    old = best.get(name)
                    best[name] = cw if old is None else (min(old[0], cw[0]), min(old[1], cw[1]))
            a, b = _stored(tmp / f"{year}-per_chunk.nc"), _stored(tmp / f"{year}-slab_pass.nc")
            bytes_same = a == b
            same = _decoded(a) == _decoded(b)
            size = (tmp / f"{year}-slab_pass.nc").stat().st_size / 2**20
            ref, new = best["per chunk"], best["slab pass"]
            print(
                f"{args.resolution:g} m, {year} ({kind}, part {size:.1f} MiB), best of "
                f"{args.repeat}: per chunk CPU {ref[0]:.2f} s, wall {ref[1]:.2f} s; slab pass "
                f"CPU {new[0]:.2f} s, wall {new[1]:.2f} s; CPU ratio {new[0] / ref[0]:.2f}, "
                f"wall ratio {new[1] / ref[1]:.2f}; same chunks: {same} (compressed bytes "
                f"too: {bytes_same})"
            )
            print(shuffle_alone(tmp / f"{year}-slab_pass.nc", args.repeat))
            del ds
        print(f"load average {os.getloadavg()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
