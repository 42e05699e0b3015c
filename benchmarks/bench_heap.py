"""Benchmark of the C heap kept mapped through the years (:func:`trajectoire._memory.heap_kept`).

A year of the run allocates and frees about 1 GB of grids of 10-30 MB at 100 m. With glibc's
default (dynamic) thresholds the top of the heap is given back whenever 64 MiB of it are
free, so the next grids are mapped again and zeroed by the kernel (page faults, system
time). :func:`~trajectoire._memory.heap_kept` keeps the freed pages for the next arrays.

Each case runs in its own process (the thresholds are per process and cannot be switched
back to dynamic): :func:`trajectoire.batch.pipeline.prepare` on a copy of the sample's
configuration at ``--resolution``, one warm-up year (numba compilation, caches), then the
measured years, each with its user and system CPU time (``getrusage``), its minor page
faults and its bytes, plus the process's peak resident memory. The cases alternate
(``plain``, ``kept``, ``plain``, ``kept``...) ``--repeat`` times, so that a change of the
machine's load falls on both. It prints each year, each case's mean CPU a year and the ratio
kept / plain, with the load average before and after. The results of the two cases are the
same arrays (the allocator only changes where they lie); the batch runner's outputs are
compared bit for bit in ``benchmarks/bench_run.py --keep`` runs.

Usage::

    python benchmarks/bench_heap.py [--resolution 100] [--years 2019,2018,2017] [--repeat 2]

The first year is the warm-up. Linux with glibc only (``mallopt``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _load  # noqa: E402
from bench_stages import _config_at  # noqa: E402  (the same resolution copy of the config)


def _child(config: str, years: list[int], kept: bool) -> None:
    """Prepare, warm up on the first year, then time each other year; print JSON."""
    from contextlib import nullcontext

    from trajectoire._memory import heap_kept
    from trajectoire.batch import pipeline
    from trajectoire.io.config import load_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = pipeline.prepare(load_config(config))
        rows = []
        with heap_kept() if kept else nullcontext(False) as done:
            pipeline.compute_year(ctx, years[0])  # warm-up: numba compilation, caches
            for y in years[1:]:
                r0 = resource.getrusage(resource.RUSAGE_SELF)
                ds = pipeline.compute_year(ctx, y)
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                del ds
                rows.append(
                    {
                        "year": y,
                        "user": r1.ru_utime - r0.ru_utime,
                        "sys": r1.ru_stime - r0.ru_stime,
                        "faults": r1.ru_minflt - r0.ru_minflt,
                    }
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"kept": bool(done), "rows": rows, "peak": peak}))


def main() -> None:
    """Run the cases in alternation and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0, help="[m]")
    ap.add_argument("--years", default="2019,2018,2017", help="first one: warm-up")
    ap.add_argument("--repeat", type=int, default=2, help="pairs of runs")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], [int(v) for v in args.child[1].split(",")], args.child[2] == "1")
        return
    if not sys.platform.startswith("linux"):
        raise SystemExit("this benchmark needs Linux with glibc (mallopt).")
    config = _config_at(args.config, args.resolution)
    print(f"machine: {os.cpu_count()} cores; {_load()}", flush=True)
    cpu: dict[str, list[float]] = {"plain": [], "kept": []}
    try:
        for _ in range(args.repeat):
            for case in ("plain", "kept"):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(config),
                        args.years,
                        "1" if case == "kept" else "0",
                    ],  # fmt: skip
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                res = json.loads(out.strip().splitlines()[-1])
                if case == "kept" and not res["kept"]:
                    raise SystemExit("mallopt refused the thresholds: nothing to compare.")
                for r in res["rows"]:
                    tot = r["user"] + r["sys"]
                    cpu[case].append(tot)
                    print(
                        f"{case:5s} {r['year']}: user {r['user']:6.2f} s, sys {r['sys']:5.2f} s, "
                        f"CPU {tot:6.2f} s, page faults {r['faults'] * 4096 / GIB:5.2f} GiB",
                        flush=True,
                    )
                print(f"{case:5s} peak {res['peak'] / GIB:.2f} GiB; {_load()}", flush=True)
    finally:
        if config != args.config:
            config.unlink(missing_ok=True)
    mean = {k: sum(v) / len(v) for k, v in cpu.items()}
    print(
        f"mean CPU a year: plain {mean['plain']:.2f} s, kept {mean['kept']:.2f} s, "
        f"ratio kept / plain {mean['kept'] / mean['plain']:.3f}"
    )


if __name__ == "__main__":
    main()
