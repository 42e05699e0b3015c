"""Scaling of a batch run on a local Dask cluster: 1, 2 and 4 workers, threads pinned.

Runs ``trajectoire run CONFIG --years ... --workers N`` for each N (each worker one Dask
thread; numba and the FFTs get ``cores // N`` threads each through ``NUMBA_NUM_THREADS``
and ``TRAJECTOIRE_FFT_THREADS``, set by the runner), and prints for each the wall time,
the CPU time of the process tree, the peak memory of the tree, the speed-up against one
worker and whether the output is identical to the 1-worker one (every variable, values and
attributes). Cases with more workers than the machine has cores are skipped and said so.
The load average is printed before and after each case: on a shared machine the speed-up
is bounded by the free cores, not by the run.

Issue 18 targets: on a 2-core machine 2 workers >= 1.6x one worker on a CPU-bound case; on
4 cores or more, 4 workers >= 3x one. The prepare step and the assembly stay serial (in the
client), so the speed-up of the whole run is below that of the years' computation.

Usage::

    python benchmarks/bench_scaling.py [--config data/sample/config.toml]
                                       [--years 2015:2022] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _same_content, measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the cases and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--years", default="2015:2022", help="years of the run (default 2015:2022)")
    ap.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    wanted = [int(v) for v in args.workers.split(",")]
    counts = [n for n in wanted if n <= cores]
    skipped = [n for n in wanted if n > cores]
    print(f"machine: {cores} cores; years {args.years}; {args.config}")
    if skipped:
        print(f"skipped (more workers than cores): {skipped}")
    workdir = Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    try:
        rows = []
        for n in counts:
            out = workdir / f"w{n}.nc"
            cmd = [sys.executable, "-m", "trajectoire.cli", "run", str(args.config)]
            cmd += ["--years", args.years, "--out", str(out), "-q", "--workers", str(n)]
            load0 = os.getloadavg()[0]
            r = measure(cmd, out)
            rows.append((n, r, load0, os.getloadavg()[0]))
        base = rows[0][1]["wall"] if rows else float("nan")
        print(
            f"\n{'workers':>7} {'wall [s]':>9} {'CPU [s]':>8} {'peak [GiB]':>10} "
            f"{'speed-up':>8} {'identical':>9} {'load before/after':>18}"
        )
        for n, r, l0, l1 in rows:
            same = n == counts[0] or _same_content(
                workdir / f"w{counts[0]}.nc", workdir / f"w{n}.nc"
            )
            print(
                f"{n:>7} {r['wall']:>9.1f} {r['cpu']:>8.1f} {r['peak'] / 2**30:>10.2f} "
                f"{base / r['wall']:>8.2f} {str(same):>9} {l0:>8.2f} / {l1:<8.2f}"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
