"""Benchmark of a whole batch run: its CPU time against the FFT floor, and its peak memory.

Runs ``trajectoire run`` on the bundled sample at the production 100 m grid (a copy of
``data/sample/config.toml`` with ``[grid] resolution`` set by ``--resolution``) in a
subprocess that records every real FFT the run does (shape, padded size, dtype: the calls
of :mod:`scipy.fft` made by :class:`trajectoire.dispersion.ConvolutionPlan` and
:meth:`trajectoire.dispersion.YearDispersion.adjoints`), then, in the same run, times each
distinct transform alone (same arrays, same threads) and multiplies by its count: that is
the *FFT floor*, the CPU time the run cannot go below while it does the same transforms.
Before the timed run, a warm-up run (two of the selected years, a map year among them, on
a coarse grid: ``--warmup-resolution``, 1000 m) fills numba's on-disk cache, so that the
timed run is what a user pays on every run but the first after an install; the child
counts numba's compilations and their CPU time
(:func:`trajectoire._compile_notice.compile_notice`), and the benchmark prints them for
both runs (``--no-warmup`` times the run as it comes: with a cold
cache, 60-70 s of CPU of a 100 m run are numba compiling the kernels). It prints:

* the warm-up's CPU time and what it spent compiling;
* the run's CPU time (user + system of the process and its children, ``getrusage``; the
  system part printed apart: page faults of fresh arrays and file I/O), its
  wall time and the peak resident memory of the process tree (sampled every 0.1 s with
  psutil, and ``ru_maxrss``), with the load average before and after;
* the numba compilations during the timed run (none where the warm-up met every kernel;
  else their CPU time, and the ratio without it);
* the FFT floor, split into full-grid transforms and receptor-window transforms;
* the ratio run CPU / FFT floor (issue 18 target: <= 1.5) and the memory budget (issue
  18: < 4 GB, that is 4e9 bytes = 3.73 GiB; peaks are printed in both units);
* with ``--workers N``, the same run on a local Dask cluster of N workers, its wall time
  and whether its output is identical to the serial one.

Usage::

    python benchmarks/bench_run.py [--config data/sample/config.toml] [--resolution 100]
                                   [--years 1990:2023] [--workers 0] [--keep DIR]
                                   [--warmup-resolution 1000] [--no-warmup]

CPU times are what count on a shared machine (wall times there are noise); the floor is
measured under the same load as the run, a few seconds after it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUTPUT_BUDGET = 500 * 2**20  # bytes
MEMORY_BUDGET = 4e9  # bytes: issue 18's 4 GB, that is 3.73 GiB
FLOOR_TARGET = 1.5  # run CPU / FFT floor (issue 18)


# ------------------------------------------------------------------------------ child side
def _child(record: Path, argv: list[str]) -> int:
    """Run the CLI with `argv`, recording each scipy.fft real transform; write the record."""
    import numpy as np
    import scipy.fft

    calls: Counter[tuple[Any, ...]] = Counter()
    real_rfftn, real_irfftn = scipy.fft.rfftn, scipy.fft.irfftn

    def key(kind: str, x: Any, s: Any, axes: Any) -> tuple[Any, ...]:
        a = np.asarray(x)
        return (kind, tuple(a.shape), a.dtype.str, tuple(s) if s is not None else None, axes)

    def rfftn(x: Any, s: Any = None, axes: Any = None, **kw: Any) -> Any:
        calls[key("rfftn", x, s, axes)] += 1
        return real_rfftn(x, s=s, axes=axes, **kw)

    def irfftn(x: Any, s: Any = None, axes: Any = None, **kw: Any) -> Any:
        calls[key("irfftn", x, s, axes)] += 1
        return real_irfftn(x, s=s, axes=axes, **kw)

    scipy.fft.rfftn, scipy.fft.irfftn = rfftn, irfftn
    from trajectoire._compile_notice import compile_notice
    from trajectoire.cli import main

    with compile_notice() as seen:
        try:
            code = main(argv)
        finally:
            rows = [[list(k[:3]) + [k[3], k[4]], n] for k, n in calls.items()]
            compiled = {"count": seen.count, "cpu": seen.cpu, "kernels": seen.kernels}
            record.write_text(json.dumps({"ffts": rows, "compile": compiled}))
    return int(code or 0)


# ----------------------------------------------------------------------------- parent side
def _tree_rss(proc: Any) -> int:
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _gb(nbytes: float) -> str:
    """`nbytes` in GB (1e9 bytes, the unit of issue 18's budget) and GiB (2**30)."""
    return f"{nbytes / 1e9:.2f} GB = {nbytes / 2**30:.2f} GiB"


def _children_cpu() -> float:
    """CPU [s] of the waited-for children, user + system."""
    return sum(_children_times())


def _children_times() -> tuple[float, float]:
    """User and system CPU [s] of the waited-for children (the system part: the kernel's
    share, page faults of fresh arrays and file I/O)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime, ru.ru_stime


def measure(cmd: list[str], out: Path) -> dict[str, float]:
    """Run `cmd`: wall [s], CPU of the tree [s] and its system part [s], peak tree memory
    [bytes], output [bytes]."""
    import psutil

    user0, sys0 = _children_times()
    start = time.perf_counter()
    popen = subprocess.Popen(cmd)
    proc = psutil.Process(popen.pid)
    peak = 0
    while popen.poll() is None:
        peak = max(peak, _tree_rss(proc))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if popen.returncode != 0:
        raise SystemExit(f"command failed with exit code {popen.returncode}: {' '.join(cmd)}")
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: kB
    user, system = _children_times()
    return {
        "wall": wall,
        "cpu": user - user0 + system - sys0,
        "system": system - sys0,
        "peak": float(max(peak, maxrss)),
        "size": float(out.stat().st_size),
    }


def fft_floor(rows: list[list[Any]], min_time: float = 0.3) -> dict[str, float]:
    """CPU time [s] of the recorded transforms timed alone: each distinct call is repeated
    until it has run `min_time` s (at least twice), its median CPU time times its count.

    Returns the floor split into ``grid`` (transforms padded to the whole grid's size, the
    largest) and ``window`` (receptor windows and their kernel spectra), and ``calls``.
    """
    import numpy as np
    import scipy.fft

    rng = np.random.default_rng(0)
    sizes = [int(np.prod(r[0][3])) for r in rows if r[0][3] is not None]
    largest = max(sizes, default=0)
    out = {"grid": 0.0, "window": 0.0, "calls": 0.0}
    for (kind, shape, dtype, s, axes), count in rows:
        dt = np.dtype(dtype)
        x = rng.random(shape)
        if dt.kind == "c":
            x = x + 1j * rng.random(shape)
        x = x.astype(dt)
        fn = scipy.fft.rfftn if kind == "rfftn" else scipy.fft.irfftn
        ax = tuple(axes) if axes is not None else None
        times: list[float] = []
        spent = 0.0
        while len(times) < 2 or (spent < min_time and len(times) < 50):
            t0 = time.process_time()
            fn(x, s=s, axes=ax, workers=-1)
            dt_s = time.process_time() - t0
            times.append(dt_s)
            spent += dt_s
        cost = float(np.median(times)) * count
        padded = int(np.prod(s)) if s is not None else int(np.prod(shape[-2:]))
        out["grid" if padded == largest else "window"] += cost
        out["calls"] += count
    return out


def warmup_years(config: Path, years: str | None) -> str:
    """Two years of the selection for the warm-up run, a map year among them where the
    selection has one (``[attribution] map_years``), so that the warm-up meets the kernels
    of plain and map years alike: ``"Y-1,Y"`` or ``"Y,Y+1"``, or the one year selected."""
    import tomllib

    from trajectoire.io.config import parse_years

    cfg = tomllib.loads(config.read_text())
    run = cfg.get("run", {})
    chosen = (
        sorted(parse_years(years))
        if years
        else list(range(int(run["first_year"]), int(run["last_year"]) + 1))
    )
    maps = [y for y in cfg.get("attribution", {}).get("map_years", []) if y in chosen]
    year = maps[-1] if maps else chosen[-1]
    other = [y for y in (year - 1, year + 1) if y in chosen]
    return ",".join(str(y) for y in sorted([year, *other[:1]]))


def _compiled(record: Path) -> tuple[list[list[Any]], dict[str, Any]]:
    """The transforms and the numba compilations a child recorded."""
    data = json.loads(record.read_text())
    return data["ffts"], data["compile"]


def _config_at(
    config: Path, resolution: float | None, workdir: Path, tag: str = "bench_run"
) -> Path:
    """`config`, or a copy beside it with ``[grid] resolution`` replaced (inputs are
    relative to the configuration file, so the copy stays in its folder)."""
    if resolution is None:
        return config
    text = config.read_text()
    new, n = re.subn(
        r"(?m)^(\s*resolution\s*=\s*)[0-9.eE+-]+", rf"\g<1>{resolution!r}", text, count=1
    )
    if n != 1:
        raise SystemExit(f"{config}: no [grid] resolution line to replace.")
    copy = config.parent / f".{tag}_{workdir.name}.toml"
    copy.write_text(new)
    return copy


def _same_content(a: Path, b: Path) -> bool:
    """Whether two outputs hold the same variables, values and attributes (but history)."""
    import numpy as np
    import xarray as xr

    volatile = {"history", "trajectoire_config_file"}
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        if list(da.variables) != list(db.variables):
            return False
        for name in da.variables:
            va, vb = da[name], db[name]
            if va.dims != vb.dims or va.attrs.keys() != vb.attrs.keys():
                return False
            if not all(np.array_equal(va.attrs[k], vb.attrs[k]) for k in va.attrs):
                return False
            if "year" in va.dims and va.ndim > 2:
                for k in range(va.sizes["year"]):
                    if not bool(va.isel(year=k).equals(vb.isel(year=k))):
                        return False
            elif not bool(va.equals(vb)):
                return False
        ga = {k: v for k, v in da.attrs.items() if k not in volatile}
        gb = {k: v for k, v in db.attrs.items() if k not in volatile}
        return ga.keys() == gb.keys() and all(np.array_equal(ga[k], gb[k]) for k in ga)


def year_bench_parser(doc: str, years: str = "1990,2005,2020") -> argparse.ArgumentParser:
    """The parser of the benchmarks that time a stage on some years of the sample:
    ``--config``, ``--resolution`` [m] (0: the config's), ``--years`` (comma-separated,
    default `years`) and ``--repeat``; `doc` is the script's docstring. A benchmark adds
    its own arguments to it."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0, help="[m]; 0: the config's")
    ap.add_argument("--years", default=years, help="comma-separated years")
    ap.add_argument("--repeat", type=int, default=2)
    return ap


def year_bench_args(doc: str, years: str = "1990,2005,2020") -> argparse.Namespace:
    """The parsed arguments of :func:`year_bench_parser`."""
    return year_bench_parser(doc, years).parse_args()


def same_stacks(a, b) -> bool:
    """Whether two lists of a year's ``Stacks`` hold the same windows and footprint bits."""
    return all(
        (ra, ca) == (rb, cb) and fa.tobytes() == fb.tobytes()
        for x, y in zip(a, b, strict=True)
        for (ra, ca, fa), (rb, cb, fb) in zip(x.footprints, y.footprints, strict=True)
    )


def alternate_ways(ways: dict, years: list, repeat: int, same, what: str) -> dict:
    """CPU per year [s] (``time.process_time``) of each of two ways of computing a year,
    run in turn `repeat` times on each of `years` after one warm-up call each (numba's
    cache and the run's caches out of the timing); ``same(a, b)`` checks that the two ways
    gave the same result each time (`what` names it in the message when not)."""
    import time

    for way in ways.values():
        way(years[0])
    cpu = dict.fromkeys(ways, 0.0)
    for _ in range(repeat):
        for year in years:
            got = []
            for name, way in ways.items():
                t = time.process_time()
                got.append(way(year))
                cpu[name] += time.process_time() - t
            if not same(*got):
                raise SystemExit(f"{year}: {what} differ")
    return {name: v / (repeat * len(years)) for name, v in cpu.items()}


def prepared_at(config: Path, resolution: float | None, tag: str):
    """The run context of `config` at `resolution` [m] (None: the config's), prepared with
    its warnings silenced; the temporary copy of the configuration removed after."""
    import warnings

    from trajectoire.batch.pipeline import prepare
    from trajectoire.io.config import load_config

    path = _config_at(config, resolution, Path(tag), tag)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return prepare(load_config(path))
    finally:
        if path != config:
            path.unlink(missing_ok=True)


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    """Run the benchmark and print the table."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        raise SystemExit(_child(Path(sys.argv[2]), sys.argv[3:]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument(
        "--resolution",
        type=float,
        default=100.0,
        help="grid resolution [m] (default 100, the production grid; 0: the config's)",
    )
    ap.add_argument("--years", help="subset of years, e.g. 1990:1999 (default: all)")
    ap.add_argument("--workers", type=int, default=0, help="also run on N Dask workers")
    ap.add_argument("--keep", type=Path, help="keep the outputs in this directory")
    ap.add_argument(
        "--warmup-resolution",
        type=float,
        default=1000.0,
        help="grid [m] of the warm-up run that fills numba's cache first (default 1000)",
    )
    ap.add_argument(
        "--no-warmup",
        action="store_true",
        help="time the run as it comes, numba's compilations included where the cache is cold",
    )
    args = ap.parse_args()
    if not args.config.is_file():
        raise SystemExit(
            f"{args.config} not found: write the sample first with "
            f"`trajectoire sample {args.config.parent}`."
        )
    workdir = Path(tempfile.mkdtemp(prefix="bench_run_"))
    config = _config_at(args.config, args.resolution or None, workdir)
    warm_config = None
    record = workdir / "ffts.json"
    try:
        base = ["run", str(config), "-q"] + (["--years", args.years] if args.years else [])
        print(f"machine: {os.cpu_count()} cores; before the run: {_load()}", flush=True)
        if not args.no_warmup:
            warm_config = _config_at(args.config, args.warmup_resolution, workdir, "bench_warm")
            wyears = warmup_years(args.config, args.years)
            wout = workdir / "warmup.nc"
            wcmd = [sys.executable, __file__, "--child", str(record), "run", str(warm_config)]
            wcmd += ["-q", "--years", wyears, "--out", str(wout)]
            warm = measure(wcmd, wout)
            _, wcomp = _compiled(record)
            print(
                f"warm-up ({wyears} at {args.warmup_resolution:g} m, to fill numba's cache): "
                f"CPU {warm['cpu']:.1f} s, of which {wcomp['cpu']:.1f} s compiling "
                f"{wcomp['count']} kernels ({_load()})",
                flush=True,
            )
            wout.unlink(missing_ok=True)
        out = workdir / "serial.nc"
        cmd = [sys.executable, __file__, "--child", str(record), *base, "--out", str(out)]
        res = f"resolution {args.resolution:g} m" if args.resolution else "the configuration's grid"
        print(f"running: trajectoire {' '.join(base)} ({res})")
        serial = measure(cmd, out)
        after_run = _load()
        rows, comp = _compiled(record)
        floor = fft_floor(rows)
        total_floor = floor["grid"] + floor["window"]
        print(f"after the run: {after_run}; after the FFT floor: {_load()}")
        print()
        print(
            f"serial run: CPU {serial['cpu']:.1f} s (of which system {serial['system']:.1f} s), "
            f"wall {serial['wall']:.1f} s"
        )
        print(
            f"numba compilations during the run: {comp['count']}, {comp['cpu']:.1f} s CPU"
            + (f" (first: {', '.join(comp['kernels'][:3])})" if comp["count"] else "")
        )
        print(
            f"FFT floor (the run's {floor['calls']:.0f} real transforms timed alone): "
            f"{total_floor:.1f} s CPU = full grid {floor['grid']:.1f} s + receptor windows "
            f"{floor['window']:.1f} s"
        )
        ratio = serial["cpu"] / total_floor if total_floor > 0 else float("nan")
        print(
            f"ratio run CPU / FFT floor: {ratio:.2f} "
            f"({'OK' if ratio <= FLOOR_TARGET else 'OVER'} target {FLOOR_TARGET})"
        )
        if comp["count"] and total_floor > 0:
            print(
                f"  without the run's numba compilations (once per install): "
                f"{(serial['cpu'] - comp['cpu']) / total_floor:.2f}"
            )
        print(
            f"peak memory {_gb(serial['peak'])} "
            f"({'OK' if serial['peak'] < MEMORY_BUDGET else 'OVER'} budget "
            f"{_gb(MEMORY_BUDGET)}); output {serial['size'] / 2**20:.1f} MiB "
            f"({'OK' if serial['size'] < OUTPUT_BUDGET else 'OVER'} 500 MB)"
        )
        if args.workers > 0:
            pout = workdir / "parallel.nc"
            pcmd = [sys.executable, "-m", "trajectoire.cli", *base, "--out", str(pout)]
            pcmd += ["--workers", str(args.workers)]
            par = measure(pcmd, pout)
            print(
                f"{args.workers} workers: wall {par['wall']:.1f} s, CPU {par['cpu']:.1f} s, "
                f"peak {_gb(par['peak'])}; serial / parallel wall "
                f"{serial['wall'] / par['wall']:.2f} ({_load()})"
            )
            print(f"serial and parallel outputs identical: {_same_content(out, pout)}")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in workdir.glob("*.nc"):
                shutil.copy2(f, args.keep / f.name)
    finally:
        for copy in (config, warm_config):
            if copy is not None and copy != args.config:
                copy.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
