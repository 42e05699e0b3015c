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
            del ds
        print(f"load average {os.getloadavg()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
