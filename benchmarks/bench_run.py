"""Benchmark of a whole batch run: serial against a local Dask cluster of 2 workers.

Runs ``trajectoire run data/sample/config.toml`` in subprocesses, serially and with
``--workers 2``, and prints for each the wall time, the peak resident memory of the whole
process tree (sampled every 0.1 s with psutil: the CLI process and its Dask workers) and the
size of the output, then the ratio serial / parallel of the wall times. It also checks the
issue-7 budgets: output under 500 MB and peak memory under 4 GB, and the issue-6 goal: the
whole sample run in under 3 minutes.

Usage::

    python benchmarks/bench_run.py [--config data/sample/config.toml] [--years 1990:2023]
                                   [--workers 2] [--keep DIR]

Absolute times on a shared machine are noise; the ratio is what counts (on a machine with
fewer free cores than workers it stays near 1).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT_BUDGET = 500 * 2**20  # bytes
MEMORY_BUDGET = 4 * 2**30  # bytes
TIME_GOAL = 180.0  # s, the whole sample run (issue 6)


def _tree_rss(proc: object) -> int:
    import psutil

    assert isinstance(proc, psutil.Process)
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


def measure(cmd: list[str], out: Path) -> dict[str, float]:
    """Run `cmd`; return wall time [s], peak tree memory [bytes] and output size [bytes]."""
    import psutil

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
    return {"wall": wall, "peak": float(peak), "size": float(out.stat().st_size)}


def _same_content(a: Path, b: Path) -> bool:
    """Whether two outputs hold the same variables, values and attributes (but history)."""
    import numpy as np
    import xarray as xr

    volatile = {"history", "trajectoire_config_file"}
    # no dask: the files' 128-cell tiles would make ~10^5 tasks per variable; one year of
    # one variable is loaded at a time instead
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


def _check_ready(config: Path) -> None:
    try:
        import psutil  # noqa: F401
    except ImportError:
        raise SystemExit(
            "psutil is needed (it comes with dask.distributed): pip install psutil"
        ) from None
    try:
        import trajectoire.pipeline  # noqa: F401
    except ModuleNotFoundError as exc:
        raise SystemExit(
            f"trajectoire.pipeline cannot be imported ({exc}): the concentration chain is not "
            "there yet, so a whole run cannot be benchmarked."
        ) from None
    if not config.is_file():
        raise SystemExit(
            f"{config} not found: write the sample first with `trajectoire sample {config.parent}`."
        )


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--years", help="subset of years, e.g. 1990:1999 (default: all)")
    ap.add_argument("--workers", type=int, default=2, help="0: serial run only")
    ap.add_argument("--keep", type=Path, help="keep the outputs in this directory")
    args = ap.parse_args()
    _check_ready(args.config)

    workdir = Path(tempfile.mkdtemp(prefix="bench_run_"))
    exe = [sys.executable, "-m", "trajectoire.cli"]
    try:
        results = {}
        modes: list[tuple[str, list[str]]] = [("serial", [])]
        if args.workers > 0:
            modes.append((f"{args.workers} workers", ["--workers", str(args.workers)]))
        for label, extra in modes:
            out = workdir / f"{label.split()[0]}.nc"
            cmd = [*exe, "run", str(args.config), "--out", str(out), "-q", *extra]
            if args.years:
                cmd += ["--years", args.years]
            print(f"running: {' '.join(cmd)}", flush=True)
            results[label] = measure(cmd, out)
        print()
        print(f"{'run':<12} {'wall [s]':>10} {'peak memory [MiB]':>18} {'output [MiB]':>13}")
        for label, r in results.items():
            print(
                f"{label:<12} {r['wall']:>10.1f} {r['peak'] / 2**20:>18.0f} "
                f"{r['size'] / 2**20:>13.1f}"
            )
        serial = results["serial"]
        if args.workers > 0:
            parallel = results[f"{args.workers} workers"]
            print(
                f"\nratio serial / {args.workers} workers (wall time): "
                f"{serial['wall'] / parallel['wall']:.2f}"
            )
            same = _same_content(workdir / "serial.nc", workdir / f"{args.workers}.nc")
            print(f"serial and parallel outputs identical in content: {same}")
        worst_peak = max(r["peak"] for r in results.values())
        print(
            f"budgets: output {serial['size'] / 2**20:.1f} MiB "
            f"({'OK' if serial['size'] < OUTPUT_BUDGET else 'OVER'} 500 MB), peak memory "
            f"{worst_peak / 2**30:.2f} GiB ({'OK' if worst_peak < MEMORY_BUDGET else 'OVER'} 4 GB)"
        )
        print(
            f"issue-6 goal: whole serial run {serial['wall']:.0f} s "
            f"({'OK' if serial['wall'] < TIME_GOAL else 'OVER'} {TIME_GOAL:.0f} s)"
        )
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in workdir.glob("*.nc"):
                shutil.copy2(f, args.keep / f.name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
