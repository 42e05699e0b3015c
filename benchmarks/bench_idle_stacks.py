"""A year's stack footprints: every stack that emits in some year, against those emitting
in that year only.

:meth:`trajectoire.batch.pipeline.RunContext.stack_set` builds one year's footprints of
the stacks of a kernel set (their radial profiles, then their windows on the grid). Until
2026-12-03 a year built the footprint of every stack that emits one of the set's pollutants
in *some* year of the run; a year's own computation now asks for those with a positive
emission in *that* year (``emitting_only=True``): the others add nothing anywhere (every
consumer skips a stack whose emission is not positive), so the results keep their bits
(``tests/test_kernel_pruning.py``).

This prepares the sample at ``--resolution`` (default 100 m, the production grid) once,
then builds the footprints of every kernel set for each year asked, both ways, alternately,
``--repeat`` times, and prints the CPU time (``time.process_time``: both numba threads) of
each way, the number of stacks each built, the ratio and the load average. It checks that
the footprints the year keeps are the same arrays both ways.

Usage::

    python benchmarks/bench_idle_stacks.py [--resolution 100] [--years 1990,2005,2020]
                                           [--repeat 2]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _load, prepared_at, year_bench_args  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the benchmark and print its table."""
    args = year_bench_args(__doc__)
    years = [int(v) for v in args.years.split(",")]
    ctx = prepared_at(args.config, args.resolution or None, "bench_idle")
    sets = list(ctx.kernel_groups.items())
    print(f"{_load()} (before); {len(sets)} kernel set(s), years {years}", flush=True)
    cpu = {False: 0.0, True: 0.0}
    built = {False: 0, True: 0}
    for key, members in sets:  # compile and warm the caches outside the timing
        ctx.stack_set(years[0], key, members, emitting_only=True)
    for _ in range(args.repeat):
        for year in years:
            kept = {}
            for only in (False, True):
                t = time.process_time()
                got = [ctx.stack_set(year, key, m, emitting_only=only) for key, m in sets]
                cpu[only] += time.process_time() - t
                built[only] += sum(fp[2].size > 0 for s in got for fp in s.footprints)
                kept[only] = got
            for every, lean in zip(kept[False], kept[True], strict=True):
                for a, b in zip(every.footprints, lean.footprints, strict=True):
                    if b[2].size and not np.array_equal(a[2], b[2]):
                        raise SystemExit(f"{year}: a kept footprint differs")
    n = args.repeat * len(years)
    print("| footprints of | stacks built per year | CPU per year |")
    print("|---|---|---|")
    for only, label in ((False, "every stack emitting in some year"), (True, "the year's own")):
        print(f"| {label} | {built[only] / n:.1f} | {cpu[only] / n:.3f} s |")
    print(f"ratio (the year's own / every): {cpu[True] / cpu[False]:.3f}; {_load()} (after)")


if __name__ == "__main__":
    main()
